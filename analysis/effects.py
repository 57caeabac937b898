"""Effects, adjusted differences and changes: one row per outcome x treatment arm x model.

:func:`estimate_effects` takes the LONG scored data (one row per respondent and
wave) and an :class:`core.design.Design` and returns an :class:`EffectsResult`:
``.tidy()`` is the effects table (one row per outcome x arm x model),
``.summary()`` a short text block for reading (estimates, CIs, p, methods, children
and clusters per arm, small-sample notes). :func:`subgroup_effects` returns a
:class:`SubgroupResult` in the same style. This module estimates; the result objects
and their summaries are :mod:`analysis.effects_result`, the rules (primary model,
causal statement, table columns) :mod:`analysis.effects_rules`, and every public name
of both is importable from here. The models, by ``design.type``:

========================== ==================================================================
``pre_post``               ``paired_t``: mean change endline - baseline, paired t-test;
                           effect size d_z (CI from the noncentral t). d_av is in
                           ``result.paired_effect_sizes``. No causal claim follows
                           (:func:`causal_statement`).
``pre_post`` + clusters    ``change_cr2``: the same mean change, ``lm(change ~ 1)`` with CR2
                           SEs clustered at the OUTERMOST cluster level and Bell-McCaffrey
                           df (``clubSandwich::coef_test(vcov = "CR2", test =
                           "Satterthwaite")``): children of one class or school are not
                           independent, and the paired t (n - 1 df) overstates the
                           evidence. Effect size d_z (the same point estimate) with the
                           CR2 CI divided by sd(change), so it excludes 0 exactly when the
                           CR2 test rejects. ``paired_t`` is kept as a secondary row.
``randomized``,            ``ancova_hc2``: endline outcome on arm dummies + baseline outcome
``controlled``             (if any) + covariates + block fixed effects, HC2 SEs, df n - p.
                           ``did`` (with a baseline): the change score (endline - baseline)
                           of respondents observed at both waves on the same regressors
                           without the baseline outcome -- for a two-wave panel this is the
                           two-way (respondent + wave) difference-in-differences estimate;
                           HC2 SEs (equivalent to clustering by respondent in the long form)
                           or, when the design has clusters, CR2 at the outermost level.
                           Primary for a ``controlled`` design with a baseline: its groups
                           were not randomized, and the difference in differences removes
                           a stable difference between them (under parallel trends).
any design with clusters   ``ols_cr2``: the ANCOVA with CR2 SEs clustered at the OUTERMOST
                           cluster level (the unit of randomization) and Bell-McCaffrey /
                           Satterthwaite df (:mod:`analysis.cluster_robust`).
                           ``mixed_reml``: the same fixed effects with a random intercept for
                           every cluster level, REML (:func:`analysis.mixed.random_intercepts`),
                           t tests with Satterthwaite df as lmerTest (a normal reference had
                           9% type-I error with 10 clusters).
                           ``cluster_means``: outermost-cluster means of the endline outcome
                           on arm (+ cluster mean baseline + blocks), HC2 SEs with J - k df
                           (omitted when arm varies within a cluster).
``cross_sectional`` + arm  the same models without a baseline.
========================== ==================================================================

Rules:

* Several treatment arms enter ONE model as dummies against ``design.control``.
* What a row estimates (``estimand``, :func:`analysis.effects_rules.estimand`):
  ``effect`` (randomized, cluster_randomized), ``adjusted_difference``
  (controlled, cross_sectional with an arm: the groups were not randomized) or
  ``change`` (pre_post: no comparison group).
* Primary model (:func:`analysis.effects_rules.primary_model`): ``paired_t``
  (pre-post), ``change_cr2`` (pre-post with clusters, at least 2 outermost
  clusters); ``did`` (controlled with a baseline wave); ``ancova_hc2`` without clusters; with clusters ``ols_cr2`` when there
  are fewer than 40 outermost clusters, else ``mixed_reml`` (with 40+ clusters the
  model-based SEs are reliable and more efficient; with fewer, CR2 keeps its nominal
  level -- see tests/test_coverage.py).
* Respondents without the endline outcome are excluded (attrition); the model is
  then fit on complete cases of its own variables, so ``n_obs`` can differ
  between models and outcomes. Covariates are taken from the baseline row when
  there is one (else the endline row); text covariates are dummy-coded
  (first level in sorted order is the reference).
* ``effect_size`` = omega * estimate / SD, SD = pooled SD of the endline outcome
  in the arm and the control group (unadjusted), omega = 1 - 3/(4N - 9). For the
  cluster models (and ``did`` with clusters) it is also multiplied by the Hedges
  (2007) factor sqrt(1 - 2(n-1)rho/(N-2)), rho the one-way ANOVA ICC of the
  endline outcome at the outermost level, n the average cluster size. The effect
  size CI is the model's CI on the same scale (treating the SD as known), so that
  it excludes 0 exactly when the model's test rejects.
* Multiplicity (``family``, ``p_adjusted``): the primary outcome(s)
  (``primary_outcomes``; default the first outcome) are one family, ``primary``;
  the other outcomes are another, ``secondary``. ``p_adjusted`` is Holm (default)
  or Benjamini-Hochberg (``"bh"``) within (family, model, arm): a single primary
  outcome keeps its p-value, and the secondary outcomes are adjusted among
  themselves. With ``"none"`` ``p_adjusted`` is the p-value. The subgroup
  interaction tests of one outcome and arm are a third family,
  ``subgroup_interaction`` (:func:`adjust_interactions`).
* E-values (``e_value``, ``e_value_ci``; VanderWeele & Ding 2017, as
  :func:`analysis.evalue.evalue_effect_row`): for every row with an arm contrast,
  from Hedges' g (``RR = exp(0.91 g)``) and its CI limits; ``e_value_ci`` is the
  E-value of the limit closer to 0, 1 when the CI includes 0. NaN for a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.cluster_robust import coef_test, independent_columns, wald_test
from analysis.effect_size import (
    _cohens_d_paired,
    cluster_adjustment,
    icc_anova,
    small_sample_factor,
)
from analysis.effects_result import EffectsResult, SubgroupResult
from analysis.effects_rules import (
    CAUSAL_STATEMENT,
    CLUSTER_RULE,
    COLUMNS,
    CONFOUNDING_STATEMENT,
    ESTIMANDS,
    MODEL_NAMES,
    PARALLEL_TRENDS_STATEMENT,
    SUBGROUP_COLUMNS,
    SUBGROUP_FAMILY,
    causal_statement,
    estimand,
    model_label,
    outcome_families,
    primary_model,
)

__all__ = [
    "CAUSAL_STATEMENT",
    "CLUSTER_RULE",
    "COLUMNS",
    "CONFOUNDING_STATEMENT",
    "ESTIMANDS",
    "MODEL_NAMES",
    "PARALLEL_TRENDS_STATEMENT",
    "SUBGROUP_COLUMNS",
    "SUBGROUP_FAMILY",
    "EffectsResult",
    "SubgroupResult",
    "adjust_interactions",
    "causal_statement",
    "design_matrix",
    "endline_frame",
    "estimand",
    "estimate_effects",
    "model_label",
    "outcome_families",
    "primary_model",
    "subgroup_effects",
]

_default_primary = primary_model  # estimate_effects has a parameter of that name


def _outcome_map(outcomes) -> dict[str, str]:
    if isinstance(outcomes, str):
        return {outcomes: outcomes}
    if isinstance(outcomes, Mapping):
        return {str(k): str(v) for k, v in outcomes.items()}
    if isinstance(outcomes, Sequence):
        return {str(c): str(c) for c in outcomes}
    raise ValueError("outcomes must be a column name, a list of columns or a mapping id -> column")


def _check(data: pd.DataFrame, design, cols: dict[str, str]):
    need = list(dict.fromkeys((*design.structure, *design.covariates, *cols.values())))
    # named in the message in the order it always had: the arm and the blocks last
    late = [c for c in (design.arm, design.blocks) if c]
    need = [c for c in need if c not in late] + [c for c in need if c in late]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in data: {missing}")
    if design.type != "pre_post" and (design.arm is None or design.control is None):
        raise ValueError(f"a {design.type} design needs an arm column and a control label")
    if design.type == "pre_post" and not design.has_baseline:
        raise ValueError("a pre_post design needs two waves")
    waves = set(data[design.wave].astype(str).unique())
    if design.endline not in waves:
        raise ValueError(f"endline wave {design.endline!r} not in data")


def endline_frame(data: pd.DataFrame, design, col: str) -> pd.DataFrame:
    """One row per respondent observed at endline: ``_y`` (the outcome at the last wave),
    ``_y0`` (at baseline, when the design has one) and the design columns. Public because the
    dose, imputation and weighting modules must analyse exactly the primary model's rows."""
    w = data[design.wave].astype(str)
    end = data[w == design.endline]
    if end[design.id].duplicated().any():
        raise ValueError("duplicate respondent ids within the endline wave")
    keep = [c for c in design.columns if c != design.wave]
    out = end[keep].copy()
    out["_y"] = pd.to_numeric(end[col], errors="coerce").to_numpy(dtype=float)
    if design.has_baseline and design.baseline != design.endline:
        need = list(dict.fromkeys([design.id, col, *design.covariates]))
        base = data.loc[w == design.baseline, need].drop_duplicates(design.id)
        b = base.set_index(design.id).reindex(out[design.id])
        y0 = pd.to_numeric(b[col], errors="coerce").to_numpy(dtype=float)
        if design.type == "pre_post" or np.isfinite(y0).any():
            # waves of different children (repeated cross-sections) have no baseline score
            # to adjust for or subtract: the models then use the last wave only
            out["_y0"] = y0
        for c in design.covariates:  # baseline covariates when given
            bc = b[c].to_numpy()
            out[c] = np.where(pd.isna(bc), out[c].to_numpy(), bc)
    return out[out["_y"].notna()].reset_index(drop=True)


def _dummies(s: pd.Series, prefix: str) -> tuple[np.ndarray, list[str]]:
    """The columns and names of ``pd.get_dummies(s, prefix=prefix, prefix_sep="=",
    drop_first=True, dtype=float)`` (levels in sorted order, the first left out, a
    missing value all zeros), without get_dummies' per-column work."""
    values = s.to_numpy(dtype=object)
    present = ~pd.isna(values)
    text = values[present]
    if (not isinstance(s.dtype, pd.CategoricalDtype)  # (factorize keeps a category order)
            and all(type(v) is str for v in text)):  # text, the usual case: sorted as factorize
        levels = sorted(set(text))
        number = {v: i for i, v in enumerate(levels)}
        codes = np.full(len(values), -1, dtype=np.intp)
        codes[present] = [number[v] for v in text]
    else:
        codes, levels = pd.factorize(s, sort=True)
    onehot = np.zeros((len(codes), len(levels)))
    seen = codes >= 0
    onehot[np.flatnonzero(seen), codes[seen]] = 1.0
    return onehot[:, 1:], [f"{prefix}={v}" for v in levels[1:]]


def design_matrix(df: pd.DataFrame, design, arms: list[str], *, baseline: bool, blocks: bool = True,
                extra: dict[str, np.ndarray] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Design matrix of the primary ANCOVA (intercept, arm dummies, baseline, covariates,
    blocks) on the complete cases, and the kept row labels. Public because the dose (CACE),
    imputation and weighting modules fit exactly the primary model's specification."""
    n = len(df)
    names: list[str] = ["(Intercept)"]
    blocks_: list[np.ndarray] = [np.ones((n, 1))]

    def add(name, values):
        names.append(name)
        blocks_.append(np.asarray(values, dtype=float).reshape(n, 1))

    if arms:
        arm = df[design.arm].astype(str)
        for a in arms:
            add(f"arm[{a}]", (arm == a).to_numpy(dtype=float))
    for k, v in (extra or {}).items():
        add(k, v)
    if baseline:
        add("baseline", df["_y0"].to_numpy(dtype=float))
    miss = np.zeros(n, dtype=bool)
    for c in design.covariates:
        s = df[c]
        miss |= s.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            add(c, s.to_numpy(dtype=float))
        else:  # text already (a str column): the same values and levels without the copy
            d, dn = _dummies(s if isinstance(s.dtype, pd.StringDtype)
                             else s.astype(str).where(s.notna()), c)
            names.extend(dn)
            blocks_.append(d)
    if blocks and design.blocks:
        s = df[design.blocks]
        miss |= s.isna().to_numpy()
        d, dn = _dummies(s if isinstance(s.dtype, pd.StringDtype) else s.astype(str), "block")
        names.extend(dn)
        blocks_.append(d)
    X = np.concatenate(blocks_, axis=1)
    miss |= np.isnan(X).any(axis=1)
    for c in design.clusters:
        miss |= df[c].isna().to_numpy()
    keep = ~miss
    X = X[keep]
    # drop columns that add nothing (constant dummies, collinear blocks/covariates)
    chosen = independent_columns(X)
    for j in sorted(set(range(X.shape[1])) - set(chosen)):
        if names[j].startswith("arm["):
            raise ValueError(f"the arm contrast {names[j]} is not estimable (collinear with "
                             "blocks or covariates)")
    return (pd.DataFrame(X[:, chosen], columns=[names[j] for j in chosen]),
            list(np.flatnonzero(keep)))


def _row(outcome, arm, control, model, est, se, df, alpha, n_obs, n_clusters) -> dict:
    if se == 0:  # NaN (a model that cannot be estimated here) stays NaN in the table
        raise ValueError(f"outcome {outcome!r} ({model}): the standard error is 0, so the "
                         "model fits the outcome exactly; is the outcome also a covariate, or "
                         "constant?")
    q = stats.t.ppf(1 - alpha / 2, df) if np.isfinite(df) else stats.norm.ppf(1 - alpha / 2)
    t = est / se
    p = 2 * (stats.t.sf(abs(t), df) if np.isfinite(df) else stats.norm.sf(abs(t)))
    return {"outcome": outcome, "arm": arm, "control": control, "model": model, "estimate": est,
            "std_error": se, "df": df, "ci_low": est - q * se, "ci_high": est + q * se,
            "p_value": p, "n_obs": int(n_obs), "n_clusters": n_clusters}


def _from_table(tab: pd.DataFrame, term: str) -> tuple[float, float, float]:
    at = np.flatnonzero(tab["term"].to_numpy(dtype=object) == term)
    if len(at) != 1:  # not there (KeyError), or twice
        r = tab.set_index("term").loc[term]
        return float(r["estimate"]), float(r["std_error"]), float(r["df"])
    i = int(at[0])
    return (float(tab["estimate"].iloc[i]), float(tab["std_error"].iloc[i]),
            float(tab["df"].iloc[i]))


def _fit_models(w: pd.DataFrame, design, outcome: str, arms: list[str], alpha: float) -> list[dict]:
    rows = []
    has_b = "_y0" in w.columns
    outer = design.clusters[0] if design.clusters else None
    X, idx = design_matrix(w, design, arms, baseline=has_b)
    y = w["_y"].to_numpy()[idx]
    sub = w.iloc[idx].reset_index(drop=True)
    J = int(sub[outer].nunique()) if outer else None
    if not design.clusters:
        tab = coef_test((X, y), vcov="HC2", test="naive", alpha=alpha)
        for a in arms:
            rows.append(_row(outcome, a, design.control, "ancova_hc2", *_from_table(tab, f"arm[{a}]"),
                             alpha, len(y), np.nan))
    else:
        g = sub[outer].to_numpy()
        tab = coef_test((X, y), g, alpha=alpha)
        for a in arms:
            rows.append(_row(outcome, a, design.control, "ols_cr2", *_from_table(tab, f"arm[{a}]"),
                             alpha, len(y), J))
        rows += _mixed(sub, X, y, design, outcome, arms, alpha, J)
        rows += _cluster_means(sub, design, outcome, arms, alpha, has_b)
    if has_b:
        ok = w["_y0"].notna().to_numpy()
        wd = w[ok].reset_index(drop=True)
        Xd, idd = design_matrix(wd, design, arms, baseline=False)
        yd = (wd["_y"] - wd["_y0"]).to_numpy()[idd]
        sd = wd.iloc[idd]
        if design.clusters:
            tab = coef_test((Xd, yd), sd[outer].to_numpy(), alpha=alpha)
            nc = int(sd[outer].nunique())
        else:
            tab = coef_test((Xd, yd), vcov="HC2", test="naive", alpha=alpha)
            nc = np.nan
        for a in arms:
            rows.append(_row(outcome, a, design.control, "did", *_from_table(tab, f"arm[{a}]"),
                             alpha, len(yd), nc))
    return rows


def _change_cr2(outcome, change: np.ndarray, clusters: np.ndarray, alpha: float) -> dict | None:
    """Mean change with CR2 SEs at the outermost cluster level and Bell-McCaffrey df,
    as ``clubSandwich::coef_test(lm(change ~ 1), vcov = "CR2", cluster = school,
    test = "Satterthwaite")``; respondents without a cluster are left out. ``None``
    with fewer than 2 clusters. Effect size: d_z = mean / sd(change) with the CR2 CI
    on the same scale."""
    has = pd.notna(clusters)
    ch, g = change[has], clusters[has]
    J = int(pd.Series(g).nunique())
    if J < 2 or len(ch) < 3:
        return None
    X = pd.DataFrame({"(Intercept)": np.ones(len(ch))})
    tab = coef_test((X, ch), g, vcov="CR2", test="Satterthwaite", alpha=alpha)
    r = _row(outcome, None, None, "change_cr2", *_from_table(tab, "(Intercept)"), alpha, len(ch), J)
    sd = float(np.std(ch, ddof=1))
    f = 1.0 / sd if sd > 0 else np.nan
    r.update(effect_size=r["estimate"] * f, effect_size_ci_low=r["ci_low"] * f,
             effect_size_ci_high=r["ci_high"] * f)
    return r


def _mixed(sub, X, y, design, outcome, arms, alpha, J) -> list[dict]:
    try:
        from analysis.mixed import random_intercepts
    except ImportError:  # pragma: no cover - mixed.py is written by another module owner
        return []
    names = {c: f"x{i}" for i, c in enumerate(X.columns) if c != "(Intercept)"}
    d = X.drop(columns="(Intercept)").rename(columns=names)
    d["_y"] = y
    groups = []
    for i, c in enumerate(design.clusters):
        d[f"_g{i}"] = sub[c].astype(str).to_numpy()
        groups.append(f"_g{i}")
    fit = random_intercepts(d, "_y", groups, fixed=list(names.values()), reml=True)
    fe = fit.fixed_effects.set_index("term")
    rows = []
    for a in arms:
        r = fe.loc[names[f"arm[{a}]"]]
        df = float(r["df"]) if "df" in fe.columns and pd.notna(r["df"]) else np.inf
        rows.append(_row(outcome, a, design.control, "mixed_reml", float(r["estimate"]),
                         float(r["std_error"]), df, alpha, len(y), J))
    return rows


def _cluster_means(sub, design, outcome, arms, alpha, has_b) -> list[dict]:
    outer = design.clusters[0]
    const = sub.groupby(outer)[design.arm].nunique().max() == 1
    if design.blocks:
        const = const and sub.groupby(outer)[design.blocks].nunique().max() == 1
    if not const:
        return []
    agg = {"_y": "mean", design.arm: "first"}
    if has_b:
        agg["_y0"] = "mean"
    if design.blocks:
        agg[design.blocks] = "first"
    m = sub.groupby(outer, sort=True).agg(agg).reset_index()
    plain = type(design)(type=design.type, id=design.id, wave=design.wave, waves=design.waves,
                         arm=design.arm, control=design.control, clusters=(outer,),
                         blocks=design.blocks)
    Xm, im = design_matrix(m, plain, arms, baseline=has_b)
    ym = m["_y"].to_numpy()[im]
    if len(ym) <= Xm.shape[1]:
        return []
    tab = coef_test((Xm, ym), vcov="HC2", test="naive", alpha=alpha)
    return [_row(outcome, a, design.control, "cluster_means", *_from_table(tab, f"arm[{a}]"),
                 alpha, len(sub), len(ym)) for a in arms]


def _effect_sizes(w: pd.DataFrame, design, arm: str):
    """(omega / pooled SD, Hedges 2007 cluster factor) for one arm against the control."""
    y1 = w.loc[w[design.arm].astype(str) == arm, "_y"].to_numpy()
    y0 = w.loc[w[design.arm].astype(str) == str(design.control), "_y"].to_numpy()
    n1, n0 = len(y1), len(y0)
    if n1 < 2 or n0 < 2:
        return np.nan, 1.0
    s = np.sqrt(((n1 - 1) * y1.var(ddof=1) + (n0 - 1) * y0.var(ddof=1)) / (n1 + n0 - 2))
    factor = small_sample_factor(n1 + n0) / s
    adj = 1.0
    if design.clusters:
        outer = design.clusters[0]
        ww = w[w[design.arm].astype(str).isin([arm, str(design.control)])]
        J = ww[outer].nunique()
        if J >= 2 and len(ww) > J:
            rho = icc_anova(ww["_y"].to_numpy(), ww[outer].to_numpy())
            try:
                adj = cluster_adjustment(len(ww), len(ww) / J, rho)
            except ValueError:
                adj = np.nan
    return factor, adj


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: statsmodels' ``multipletests(p, method="holm")[1]``
    to the bit (same sort, products and running maximum), without the ``gc.collect()`` that
    statsmodels runs on every Holm call (about 0.08 s in a notebook kernel's heap; the effects
    page makes 20 such calls on the county example).

    Examples
    --------
    >>> _holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    order = np.argsort(p)
    adj = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adj[adj > 1] = 1
    out = np.empty_like(adj)
    out[order] = adj
    return out


def _adjust_within(tab: pd.DataFrame, by: list[str], column: str, adjust: str) -> np.ndarray:
    """``column`` adjusted for multiplicity within the groups of ``by`` (a missing arm is
    its own group value); NaN p-values stay NaN and are not counted."""
    method = "holm" if adjust == "holm" else "fdr_bh"
    keys = [tab[c].astype(object).where(tab[c].notna(), "") for c in by]
    out = np.full(len(tab), np.nan)
    for idx in tab.groupby(keys, sort=False).indices.values():
        p = tab[column].to_numpy(dtype=float)[idx]
        ok = np.isfinite(p)
        if ok.any():
            adj = np.full(len(p), np.nan)
            adj[ok] = (p[ok] if adjust == "none" else _holm(p[ok]) if method == "holm"
                       else multipletests(p[ok], method=method)[1])
            out[idx] = adj
    return out


def _evalues(tab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """E-values of the point estimate and of the CI limit closer to 0, per row
    (:func:`analysis.evalue.evalue_effect_row`, CI limits of g); NaN for a one-group
    change and where g is missing."""
    from analysis.evalue import evalue_effect_row

    e, e_ci = np.full(len(tab), np.nan), np.full(len(tab), np.nan)
    for i, (_, r) in enumerate(tab.iterrows()):
        if r.get("estimand") == "change" or pd.isna(r.get("arm")):
            continue
        try:
            ev = evalue_effect_row(r)
        except ValueError:  # an inconsistent row (cannot happen for our own rows)
            continue
        e[i], e_ci[i] = float(ev["evalue"].iloc[0]), float(ev["evalue_ci"].iloc[0])
    return e, e_ci


def _family_sizes(tab: pd.DataFrame) -> pd.DataFrame:
    """Tests per multiplicity family: ``family, model, arm, n_tests`` (finite p-values)."""
    ok = tab[np.isfinite(tab["p_value"].to_numpy(dtype=float))]
    arm = ok["arm"].astype(object).where(ok["arm"].notna(), None)
    return (ok.assign(arm=arm).groupby(["family", "model", "arm"], sort=False, dropna=False)
            .size().rename("n_tests").reset_index())


def adjust_interactions(table: pd.DataFrame, adjust: str = "holm") -> pd.DataFrame:
    """Adjust the subgroup interaction tests for multiplicity, within their family.

    The family (``family = "subgroup_interaction"``) is every subgroup's interaction
    test of one outcome and arm (one p-value per subgroup, repeated on its level
    rows); it is separate from the outcomes' families of :func:`estimate_effects`.

    Parameters
    ----------
    table : DataFrame
        Subgroup tables (:meth:`SubgroupResult.tidy`) of one or more subgroups,
        concatenated.
    adjust : {"holm", "bh", "none"}
        ``"none"``: ``interaction_p_adjusted`` equals ``interaction_p``.

    Returns
    -------
    DataFrame
        A copy with ``interaction_p_adjusted`` and ``family`` set.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.effects import adjust_interactions
    >>> t = pd.DataFrame({"outcome": "y", "arm": "t", "subgroup": ["sex", "sex", "age", "age"],
    ...                   "level": ["f", "m", "young", "old"],
    ...                   "interaction_p": [0.02, 0.02, 0.30, 0.30]})
    >>> adjust_interactions(t)["interaction_p_adjusted"].tolist()
    [0.04, 0.04, 0.3, 0.3]
    """
    if adjust not in ("holm", "bh", "none"):
        raise ValueError("adjust must be 'holm', 'bh' or 'none'")
    out = table.copy()
    out["interaction_p_adjusted"] = np.nan
    out["family"] = SUBGROUP_FAMILY
    if out.empty:
        return out
    keys = ["outcome", "arm", "subgroup"]
    # one test per outcome, arm and subgroup (its first row's p; a missing key is ""),
    # adjusted within the tests of one outcome and arm, then given to each of its rows
    named = out[keys].astype(object).where(out[keys].notna(), "")
    rows = list(zip(*(named[c].to_numpy() for c in keys)))
    first: dict = {}
    for i, k in enumerate(rows):
        first.setdefault(k, i)
    tests = list(first)
    p = out["interaction_p"].to_numpy(dtype=float)[[first[k] for k in tests]]
    families: dict = {}
    for j, (o, a, _) in enumerate(tests):
        families.setdefault((o, a), []).append(j)
    adjusted = np.full(len(tests), np.nan)
    for idx in families.values():
        pf = p[idx]
        ok = np.isfinite(pf)
        if ok.any():
            adj = np.full(len(pf), np.nan)
            adj[ok] = (pf[ok] if adjust == "none" else _holm(pf[ok]) if adjust == "holm"
                       else multipletests(pf[ok], method="fdr_bh")[1])
            adjusted[idx] = adj
    at = {k: j for j, k in enumerate(tests)}
    out["interaction_p_adjusted"] = adjusted[[at[k] for k in rows]]
    return out


def estimate_effects(
    data: pd.DataFrame,
    outcomes,
    design,
    *,
    alpha: float = 0.05,
    adjust: str = "holm",
    primary_model: str | None = None,
    primary_outcomes: Sequence[str] | None = None,
) -> EffectsResult:
    """Estimate the effect (adjusted difference, change) of every outcome, arm and model.

    Parameters
    ----------
    data : DataFrame
        Long scored data: one row per respondent and wave, with the columns
        named by ``design`` and the outcome columns.
    outcomes : str, list of str, or mapping outcome_id -> column
    design : core.design.Design
    alpha : float
        Confidence intervals at level 1 - alpha.
    adjust : {"holm", "bh", "none"}
        Multiplicity adjustment within each family (primary outcomes; secondary
        outcomes), model and arm; ``"none"`` leaves ``p_adjusted`` equal to
        ``p_value``.
    primary_model : str, optional
        Override the design's primary model (see :func:`primary_model`).
    primary_outcomes : sequence of str, optional
        Outcome ids of the ``primary`` family (``primary: true`` in study.yaml);
        default the first outcome. The others are ``secondary``.

    Returns
    -------
    EffectsResult
        ``.tidy()``: the effects table, one row per outcome x arm x model, with
        the columns ``outcome, arm, control, model, estimate, std_error, df,
        ci_low, ci_high, p_value, p_adjusted, effect_size, effect_size_ci_low,
        effect_size_ci_high, n_obs, n_clusters, primary, estimand, family,
        e_value, e_value_ci`` (documented in :meth:`EffectsResult.tidy`; ``df`` is
        inf for a normal reference, ``n_clusters`` NaN without clusters). ``.summary()``: a readable text
        block (``print(result)`` shows it too). ``.counts``: children and clusters
        per outcome and arm. For pre-post designs ``.paired_effect_sizes`` holds
        d_z and d_av with CIs and ``.causal_statement`` the caution.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.effects import estimate_effects
    >>> rng = np.random.default_rng(1)
    >>> n = 200
    >>> ids = [f"p{i}" for i in range(n)]
    >>> arm = np.where(np.arange(n) < 100, "program", "control")
    >>> y0 = rng.normal(50, 10, n)
    >>> y1 = y0 + 3 * (arm == "program") + rng.normal(0, 5, n)
    >>> long = pd.DataFrame({"id": ids * 2, "wave": ["t0"] * n + ["t1"] * n,
    ...                      "arm": list(arm) * 2, "score": np.r_[y0, y1]})
    >>> d = Design(type="randomized", id="id", waves=("t0", "t1"), arm="arm", control="control")
    >>> res = estimate_effects(long, ["score"], d)
    >>> tab = res.tidy()
    >>> tab["model"].tolist(), tab["primary"].tolist()
    (['ancova_hc2', 'did'], [True, False])
    >>> bool(tab.loc[0, "ci_low"] < 3 < tab.loc[0, "ci_high"])
    True
    >>> print(res.summary())
    Intervention effects: randomized design, 1 outcome, primary model ancova_hc2 (*)
    95% CIs; p_adj: Holm within each family, model and arm: primary (1 outcome); a family of
    one keeps its p-value.
    <BLANKLINE>
    score: program vs control [primary outcome]
      model         estimate  95% CI               p   p_adj     df      g  g 95% CI          n     E  E (CI)
      ancova_hc2 *     2.295  [1.042, 3.548]  <0.001  <0.001  197.0  0.218  [0.099, 0.337]  200  1.74    1.42
      did              2.295  [1.044, 3.546]  <0.001  <0.001  198.0  0.218  [0.099, 0.337]  200  1.74    1.42
      children with the endline outcome: program 100, control 100
    <BLANKLINE>
    Methods:
      ancova_hc2: OLS of the endline outcome on arm + baseline outcome, HC2 SEs, n - p df
      did: change score (endline - baseline) on arm, HC2 SEs, n - p df
    <BLANKLINE>
    Notes:
      - g = omega x estimate / pooled SD of the endline outcome in the two arms (omega = 1 -
        3/(4N - 9)); its CI is the model's CI on the same scale.
      - E: E-value (VanderWeele & Ding 2017) of g, E (CI) of its CI limit closer to 0: an
        unmeasured confounder would need to be associated with both group and outcome by a
        risk ratio of E to explain the estimate away (E (CI) = 1: the CI already includes
        0).
    """
    if adjust not in ("holm", "bh", "none"):
        raise ValueError("adjust must be 'holm', 'bh' or 'none'")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    cols = _outcome_map(outcomes)
    _check(data, design, cols)
    rows: list[dict] = []
    paired = []
    counts: list[dict] = []
    n_clusters = None
    for oid, col in cols.items():
        w = endline_frame(data, design, col)
        if design.type == "pre_post":
            ok = w["_y0"].notna().to_numpy()
            counts += _counts(w[ok], design, oid, None)
            y1, y0 = w["_y"].to_numpy()[ok], w["_y0"].to_numpy()[ok]
            if len(y1) < 3:
                raise ValueError(f"outcome {oid}: fewer than 3 respondents with both waves")
            dz = _cohens_d_paired(y0, y1, alpha=alpha)
            se = dz["sd_change"] / np.sqrt(dz["n"])
            if design.clusters:
                g = w[design.clusters[0]].to_numpy()[ok]
                cr2 = _change_cr2(oid, y1 - y0, g, alpha)
                if cr2 is not None:
                    rows.append(cr2)
                    n_clusters = max(n_clusters or 0, int(cr2["n_clusters"]))
                else:
                    n_clusters = max(n_clusters or 0, int(pd.Series(g).nunique()))
            r = _row(oid, None, None, "paired_t", dz["mean_change"], se, dz["n"] - 1.0, alpha, dz["n"], np.nan)
            r.update(effect_size=dz["d_z"], effect_size_ci_low=dz["d_z_ci_low"],
                     effect_size_ci_high=dz["d_z_ci_high"])
            rows.append(r)
            paired.append({"outcome": oid, **dz})
            continue
        arm_values = sorted(set(w[design.arm].dropna().astype(str).unique()) - {str(design.control)})
        if str(design.control) not in set(w[design.arm].dropna().astype(str).unique()):
            raise ValueError(f"control arm {design.control!r} not found in {design.arm!r}")
        if not arm_values:
            raise ValueError("no treatment arm besides the control")
        counts += _counts(w, design, oid, [str(design.control), *arm_values])
        new = _fit_models(w, design, oid, arm_values, alpha)
        scale: dict = {}  # the arm's SD factors, the same for each of its models
        for r in new:
            if r["arm"] not in scale:
                scale[r["arm"]] = _effect_sizes(w, design, r["arm"])
            factor, adj = scale[r["arm"]]
            cl = r["model"] in ("ols_cr2", "mixed_reml", "cluster_means") or (
                r["model"] == "did" and bool(design.clusters))
            f = factor * (adj if cl else 1.0)
            r.update(effect_size=r["estimate"] * f, effect_size_ci_low=r["ci_low"] * f,
                     effect_size_ci_high=r["ci_high"] * f)
        if design.clusters:
            n_clusters = max(n_clusters or 0, int(w[design.clusters[0]].nunique()))
        rows += new
    out = pd.DataFrame(rows)
    if design.type != "pre_post":
        out["control"] = str(design.control)
    prim = primary_model or _default_primary(design, n_clusters)
    if primary_model is None and prim == "did" and prim not in set(out["model"]):
        # no child was measured at both waves (repeated cross-sections): there is no change
        # score, so the difference at the last wave, adjusted as a trial's, is primary
        prim = _default_primary(design, n_clusters, linked=False)
    if prim not in set(out["model"]):
        raise ValueError(f"primary model {prim!r} was not fitted for this design")
    out["primary"] = out["model"] == prim
    fam = outcome_families(list(cols), primary_outcomes)
    out["family"] = out["outcome"].map(fam)
    out["p_adjusted"] = _adjust_within(out, ["family", "model", "arm"], "p_value", adjust)
    out["estimand"] = estimand(design)
    out["e_value"], out["e_value_ci"] = _evalues(out)
    out["n_clusters"] = out["n_clusters"].astype(float)
    out = out[COLUMNS]
    one_group = design.type == "pre_post"
    return EffectsResult(out, design=design, alpha=alpha, adjust=adjust, primary_model=prim,
                         families=_family_sizes(out),
                         n_clusters=n_clusters, counts=pd.DataFrame(counts),
                         paired_effect_sizes=pd.DataFrame(paired) if one_group else None,
                         causal_statement=dict(CAUSAL_STATEMENT) if one_group else None)


def _counts(w: pd.DataFrame, design, outcome: str, arms: list[str] | None) -> list[dict]:
    """Children (and outermost clusters) per arm in the analysed wide data."""
    outer = design.clusters[0] if design.clusters else None

    def one(sub, arm):
        k = float(sub[outer].nunique()) if outer else np.nan
        return {"outcome": outcome, "arm": arm, "n_children": int(len(sub)), "n_clusters": k}

    if arms is None:
        return [one(w, None)]
    a = w[design.arm].astype(str)
    return [one(w[(a == arm).to_numpy()], arm) for arm in arms]


def _interaction_p(Xy, clusters, terms) -> float:
    """p of the HTZ Wald test of the subgroup terms, or NaN where it is not estimable.

    A level found in a single cluster (or too few) makes the constraint's covariance
    singular: the interaction then cannot be tested, which is reported as NaN rather
    than stopping the page.
    """
    try:
        p = float(wald_test(Xy, clusters, terms)["p_value"].iloc[0])
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
        return np.nan
    return p if np.isfinite(p) else np.nan


def subgroup_effects(
    data: pd.DataFrame,
    outcomes,
    design,
    subgroup: str,
    *,
    alpha: float = 0.05,
    adjust: str = "holm",
    frames: dict | None = None,
) -> SubgroupResult:
    """Effects within the levels of a subgroup and the arm x subgroup interaction test.

    Within each level the design's non-mixed primary model is fit on that level's
    respondents: ``ols_cr2`` for designs with clusters (the subgroup forest plot
    uses CR2 even when the main analysis is ``mixed_reml``), ``ancova_hc2``
    without clusters, for pre-post designs ``change_cr2`` (the mean change with CR2
    at the outermost cluster level, when the level spans at least 2 clusters) or
    else ``paired_t``. For a ``controlled`` design with a baseline (primary model
    ``did``) the outcome is the change score of the children with both waves and the
    baseline outcome is not a regressor: the difference in differences within each
    level, and an interaction test of whether it differs between levels. The interaction test
    fits ONE model on all respondents with arm dummies, subgroup dummies and
    their products (plus the baseline, covariates and blocks) and tests the
    products with the CR2 Wald test with the HTZ small-sample correction
    (``clubSandwich::Wald_test(test = "HTZ")``), clustered at the outermost level;
    without clusters each respondent is its own cluster (CR2 then equals HC2).
    For pre-post designs the change score is regressed on the subgroup dummies
    and the test is whether the mean change differs between levels.

    Parameters
    ----------
    data : DataFrame
        Long scored data, as :func:`estimate_effects`.
    outcomes : str, list of str, or mapping outcome_id -> column
    design : core.design.Design
    subgroup : str
        The subgroup column.
    alpha : float
        Confidence intervals at level 1 - alpha.
    adjust : {"holm", "bh", "none"}
        Multiplicity adjustment of the interaction tests within their family
        (``subgroup_interaction``: the subgroups of one outcome and arm; here the
        one subgroup, so ``interaction_p_adjusted`` equals ``interaction_p``;
        several subgroups' tables are adjusted together with
        :func:`adjust_interactions`).
    frames : dict, optional
        A dict kept by the caller for several subgroups of the SAME ``data`` (one table):
        the one-row-per-child frames (:func:`endline_frame`) built here are stored in it
        by outcome column and design columns and reused by the next call instead of
        being built again.

    Returns
    -------
    SubgroupResult
        ``.tidy()``: one row per outcome x arm x level with the columns
        ``outcome, arm, subgroup, level, estimate, std_error, df, ci_low, ci_high,
        n_obs, n_clusters, interaction_p, interaction_p_adjusted, family``
        (documented in :meth:`SubgroupResult.tidy`; ``interaction_p`` is the same on
        every row of one outcome and arm, NaN where the test is not estimable, e.g.
        a level found in one cluster only). ``.summary()``: a readable text block.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.effects import subgroup_effects
    >>> rng = np.random.default_rng(2)
    >>> n = 300
    >>> arm = np.where(rng.random(n) < 0.5, "t", "c")
    >>> sex = np.where(rng.random(n) < 0.5, "girl", "boy")
    >>> y = (arm == "t") * 2 + rng.normal(0, 3, n)
    >>> df = pd.DataFrame({"id": range(n), "wave": "w1", "arm": arm, "sex": sex, "y": y})
    >>> d = Design(type="randomized", id="id", waves=("w1",), arm="arm", control="c")
    >>> res = subgroup_effects(df, ["y"], d, "sex")
    >>> res.tidy()["level"].tolist()
    ['boy', 'girl']
    """
    if adjust not in ("holm", "bh", "none"):
        raise ValueError("adjust must be 'holm', 'bh' or 'none'")
    cols = _outcome_map(outcomes)
    _check(data, design, cols)
    if subgroup not in data.columns:
        raise ValueError(f"subgroup column {subgroup!r} not in data")
    d2 = type(design)(type=design.type, id=design.id, wave=design.wave, waves=design.waves,
                      arm=design.arm, control=design.control, clusters=design.clusters,
                      blocks=design.blocks, covariates=design.covariates,
                      subgroups=tuple(dict.fromkeys([*design.subgroups, subgroup])))
    out = []
    frames = {} if frames is None else frames
    for oid, col in cols.items():
        key = (col, d2.columns)
        if key not in frames:
            frames[key] = endline_frame(data, d2, col)
        w = frames[key]
        w = w[w[subgroup].notna()].reset_index(drop=True)
        w[subgroup] = w[subgroup].astype(str)
        levels = sorted(w[subgroup].unique())
        if len(levels) < 2:
            raise ValueError(f"subgroup {subgroup!r} has fewer than 2 levels")
        outer = design.clusters[0] if design.clusters else None
        if design.type == "pre_post":
            w = w[w["_y0"].notna()].reset_index(drop=True)
            ch = (w["_y"] - w["_y0"]).to_numpy()
            X = pd.DataFrame({"(Intercept)": 1.0, **{f"lv[{lv}]": (w[subgroup] == lv).to_numpy(float)
                                                      for lv in levels[1:]}})
            g = w[outer].to_numpy() if outer else np.arange(len(w))
            pint = _interaction_p((X, ch), g, [f"lv[{lv}]" for lv in levels[1:]])
            for lv in levels:
                sel = (w[subgroup] == lv).to_numpy()
                c = ch[sel]
                gl = g[sel]
                if outer and len(np.unique(gl)) >= 2 and len(c) >= 3:
                    # as the primary change_cr2: children of one school are not independent
                    tab = coef_test((np.ones((len(c), 1)), c), gl, vcov="CR2",
                                    test="Satterthwaite", alpha=alpha)
                    est, se, df = (float(tab[k].iloc[0]) for k in ("estimate", "std_error", "df"))
                    r = _row(oid, None, None, "change_cr2", est, se, df, alpha, len(c),
                             float(len(np.unique(gl))))
                else:
                    se = c.std(ddof=1) / np.sqrt(len(c)) if len(c) > 1 else np.nan
                    r = _row(oid, None, None, "paired_t", c.mean() if len(c) else np.nan, se,
                             len(c) - 1.0, alpha, len(c), np.nan)
                out.append({**r, "subgroup": subgroup, "level": lv, "interaction_p": pint})
            continue
        arms = sorted(set(w[design.arm].astype(str).unique()) - {str(design.control)})
        has_b = "_y0" in w.columns
        if has_b and _default_primary(design) == "did":
            # as the primary did: the change score of the children with both waves, on
            # arm (+ covariates, blocks), without the baseline outcome as a regressor
            w = w[w["_y0"].notna()].reset_index(drop=True)
            w["_y"] = w["_y"] - w["_y0"]
            has_b = False
        for a in arms:
            wa = w[w[design.arm].astype(str).isin([a, str(design.control)])].reset_index(drop=True)
            extra = {f"lv[{lv}]": (wa[subgroup] == lv).to_numpy(float) for lv in levels[1:]}
            t = (wa[design.arm].astype(str) == a).to_numpy(float)
            extra.update({f"arm x lv[{lv}]": t * (wa[subgroup] == lv).to_numpy(float) for lv in levels[1:]})
            X, idx = design_matrix(wa, design, [a], baseline=has_b, extra=extra)
            y = wa["_y"].to_numpy()[idx]
            sub = wa.iloc[idx]
            g = sub[outer].to_numpy() if outer else np.arange(len(y))
            terms = [c for c in X.columns if c.startswith("arm x lv[")]
            pint = _interaction_p((X, y), g, terms) if terms else np.nan
            for lv in levels:
                wl = wa[wa[subgroup] == lv].reset_index(drop=True)
                try:
                    Xl, il = design_matrix(wl, design, [a], baseline=has_b)
                    yl = wl["_y"].to_numpy()[il]
                    if outer:
                        gl = wl.iloc[il][outer].to_numpy()
                        tab = coef_test((Xl, yl), gl, alpha=alpha)
                        nc = len(np.unique(gl))
                        model = "ols_cr2"
                    else:
                        tab = coef_test((Xl, yl), vcov="HC2", test="naive", alpha=alpha)
                        nc, model = np.nan, "ancova_hc2"
                    r = _row(oid, a, design.control, model, *_from_table(tab, f"arm[{a}]"), alpha, len(yl), nc)
                except ValueError:
                    r = _row(oid, a, design.control, "ols_cr2" if outer else "ancova_hc2",
                             np.nan, np.nan, np.nan, alpha, len(wl), np.nan)
                out.append({**r, "subgroup": subgroup, "level": lv, "interaction_p": pint})
    res = pd.DataFrame(out)
    res = adjust_interactions(res, adjust)
    return SubgroupResult(res[SUBGROUP_COLUMNS], design=design, subgroup=subgroup, alpha=alpha,
                          adjust=adjust)

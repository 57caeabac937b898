"""How much the answer depends on missing data: every method of issue 15 on one outcome,
and one tidy table of their estimates (``tables/sensitivity.csv``).

:func:`analyse_outcome` runs, for one outcome of a design with an arm and a baseline,

* the response model (:func:`analysis.missingness.response_model`, with the arm x
  baseline terms: does the baseline score predict answering differently in the arms?);
* multiple imputation (:func:`analysis.imputation.impute`, ``m`` = 20 by default, the
  run's seed) pooled by Rubin's rules with Barnard-Rubin df, and the delta adjustment of
  the program arms' non-responders with its tipping point
  (:func:`analysis.imputation.delta_adjustment`);
* inverse probability of response weighting (:func:`analysis.ipw.ipw_effects`), whose
  unweighted fit is the complete-case row;
* Lee (2009) bounds (:func:`analysis.lee_bounds.lee_bounds`; randomized designs only),
  tightened by a declared discrete baseline covariate when there is one;

each method in its own ``try``: a method that cannot be fitted to the data (separation of
the response model in an arm, too few observed values to impute from) leaves a row with a
note instead of stopping the page. :func:`sensitivity_table` stacks the results.

Every row uses the primary ANCOVA of :mod:`analysis.effects` (arm dummies, baseline
outcome, covariates, block fixed effects) with the same inference: CR2 standard errors at
the outermost cluster with Bell-McCaffrey df (``ols_cr2``), HC2 with n - p df without
clusters (``ancova_hc2``). When the design's primary model is another one (the REML mixed
model with 40 clusters or more, the difference in differences of a controlled design),
every row is still this ANCOVA, so that the rows differ only in how they treat the
children who are missing, and the note ``model_not_primary`` says so. Lee bounds'
standard errors are Lee's analytic ones for independent children, or a cluster bootstrap
(whole clusters resampled within arm, the run's seed) in a clustered design.

The complete-case row is the primary model's row of ``tables/effects.csv`` re-fitted
identically (same design matrix, same children, same CR2 fit: ``ipw_effects``' unweighted
fit), not read from that file: the pages of a run execute in parallel, and the table must
not depend on which finished first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "METHODS",
    "SENSITIVITY_COLUMNS",
    "OutcomeSensitivity",
    "analyse_outcome",
    "conclusion",
    "lee_covariate",
    "sensitivity_table",
]

METHODS = ("complete_case", "mi", "ipw", "lee_lower", "lee_upper", "lee_tightened_lower",
           "lee_tightened_upper", "tipping_delta")
"""The ``method`` values of :func:`sensitivity_table`, in the order of the rows."""

SENSITIVITY_COLUMNS = [
    "outcome", "arm", "control", "method", "estimate", "std_error", "ci_low", "ci_high", "df",
    "fmi", "n", "n_missing", "n_smallest_arm", "n_clusters", "model", "inference", "note",
]
"""Columns of :func:`sensitivity_table` (``tables/sensitivity.csv``), one row per outcome x
treatment arm x method:

``outcome`` (id), ``arm``, ``control`` (the contrast arm - control); ``method``
(:data:`METHODS`): ``complete_case`` (the primary ANCOVA on the children with both
scores), ``mi`` (pooled over the imputations, missing at random), ``ipw`` (stabilized
inverse probability of response weights), ``lee_lower``/``lee_upper`` (Lee bounds: the
lowest and highest effect among the children who would answer in either arm, trimming
the arm with more respondents), ``lee_tightened_lower``/``lee_tightened_upper`` (the
same within cells of a baseline covariate), ``tipping_delta`` (the delta adjustment);
``estimate`` (the effect in the outcome's units; for ``tipping_delta`` the shift delta,
in SDs of the observed endline outcome, of the program arm's non-responders at which the
conclusion of the ``mi`` row changes; NaN when no delta in the grid changes it);
``std_error``; ``ci_low``, ``ci_high`` (the 1 - alpha CI; for both Lee rows the
Imbens-Manski CI of the effect; for ``tipping_delta`` the pooled CI at that delta);
``df`` (CR2 Bell-McCaffrey, n - p, or Barnard-Rubin for ``mi``; NaN for Lee);
``fmi`` (fraction of missing information, ``mi`` and ``tipping_delta``); ``n``
(children in the fit: respondents with the covariates for ``complete_case`` and ``ipw``,
all randomized children for ``mi`` and Lee); ``n_missing`` (children of the two arms
without the endline outcome: imputed for ``mi``, left out for ``complete_case`` and
``ipw``, trimmed-for for Lee); ``n_smallest_arm`` (the smaller arm's ``n``: small-cell
suppression applies to it); ``n_clusters``; ``model`` (``ols_cr2`` or ``ancova_hc2``);
``inference`` (``cr2``, ``hc2``, ``cr2_rubin``, ``hc2_rubin``, ``lee_analytic``,
``bootstrap``, ``cluster_bootstrap``); ``note`` (``;``-separated keys, written out in
words by :mod:`evaluation.sensitivity_tables`: ``model_not_primary``,
``weights_known``, ``lee_iid``, ``lee_few_clusters``, ``lee_covariate=<name>``,
``trimmed=<arm>``, ``trim_share=<p>``, ``no_tipping=<lo>..<hi>``, ``side=<down|up>``,
``conclusion=<positive|negative|unclear>``, ``not_estimable``). The published table
(``tables/sensitivity.csv``, written by :meth:`evaluation.run_folder.RunFolder.write_table`
with ``count="n_smallest_arm"``) adds ``suppressed`` and ``suppression_reason``: a row
whose smaller arm has fewer than ``privacy.min_cell`` children keeps its labels only.
"""


def conclusion(ci_low, ci_high) -> str:
    """``positive`` (the CI lies above 0), ``negative`` (below) or ``unclear`` (it
    includes 0, or is missing).

    Examples
    --------
    >>> conclusion(0.01, 0.4), conclusion(-0.3, 0.2), conclusion(-0.5, -0.1)
    ('positive', 'unclear', 'negative')
    """
    lo, hi = float(ci_low), float(ci_high)
    if np.isfinite(lo) and lo > 0:
        return "positive"
    if np.isfinite(hi) and hi < 0:
        return "negative"
    return "unclear"


@dataclass
class OutcomeSensitivity:
    """What :func:`analyse_outcome` found for one outcome (every part may be None).

    Attributes
    ----------
    outcome : str
    panel : DataFrame
        :func:`analysis.missingness.response_panel` (one row per child).
    response : DataFrame or None
        :func:`analysis.missingness.response_model` with the arm x baseline terms, the
        baseline score centred at its mean (the arm's odds ratio is the one of a child
        with the mean baseline score, not of a score of 0).
    imputations : analysis.imputation.Imputations or None
    mi : DataFrame or None
        :meth:`~analysis.imputation.Imputations.pool`.
    delta : analysis.imputation.DeltaResult or None
        Program arms' non-responders shifted (``shift="treatment"``).
    ipw : analysis.ipw.IPWResult or None
    lee : DataFrame or None
        :func:`analysis.lee_bounds.lee_bounds` (``basic`` and, with a covariate,
        ``tightened`` rows).
    lee_covariate : str or None
        The covariate of the tightened bounds.
    primary_model : str
        The design's primary model (:func:`analysis.effects_rules.primary_model`).
    errors : dict
        ``method -> message`` of a method that could not be fitted.
    dropped : dict
        ``"response"`` / ``"ipw"`` -> the covariates (and arms) left out of the response
        model / an arm's propensity model because every child at one of their levels
        answered, or none did (``attrs["dropped"]`` of
        :func:`analysis.missingness.response_model`, :attr:`analysis.ipw.IPWResult.dropped`).
    m : int
        Imputations.
    """

    outcome: str
    panel: pd.DataFrame
    response: pd.DataFrame | None = None
    imputations: object | None = None
    mi: pd.DataFrame | None = None
    delta: object | None = None
    ipw: object | None = None
    lee: pd.DataFrame | None = None
    lee_covariate: str | None = None
    primary_model: str = ""
    errors: dict = field(default_factory=dict)
    m: int = 20
    design: object | None = None
    complete_case: pd.DataFrame | None = None
    dropped: dict = field(default_factory=dict)


def _complete_case(panel: pd.DataFrame, design, outcome: str, alpha: float) -> pd.DataFrame:
    """The primary ANCOVA on the respondents (the unweighted fit of
    :func:`analysis.ipw.ipw_effects`), for when the weights cannot be estimated."""
    from analysis.cluster_robust import coef_test
    from analysis.effects import design_matrix

    resp = panel[panel["responded"] & panel["_y0"].notna()].reset_index(drop=True)
    arms = sorted(set(panel[design.arm].astype(str).unique()) - {str(design.control)})
    X, idx = design_matrix(resp, design, arms, baseline=True)
    sub = resp.iloc[idx].reset_index(drop=True)
    y = sub["_y"].to_numpy(dtype=float)
    if design.clusters:
        g = sub[design.clusters[0]].astype(str).to_numpy()
        tab = coef_test((X, y), g, vcov="CR2", test="Satterthwaite", alpha=alpha)
        model, nc = "ols_cr2", int(pd.Series(g).nunique())
    else:
        tab = coef_test((X, y), vcov="HC2", test="naive", alpha=alpha)
        model, nc = "ancova_hc2", np.nan
    tab = tab.set_index("term")
    rows = [{"outcome": outcome, "arm": a, "method": "complete_case", "model": model,
             **{k: tab.loc[f"arm[{a}]", k] for k in ("estimate", "std_error", "df", "ci_low",
                                                     "ci_high")},
             "n_obs": len(y), "n_clusters": nc} for a in arms]
    return pd.DataFrame(rows), sub


def _primary_df(res) -> dict | None:
    """The complete-case CR2 ANCOVA's (Bell-McCaffrey) df per arm, for the t critical value
    of the Imbens-Manski CI of clustered Lee bounds; None when that fit is missing (Lee
    bounds then use the clusters minus 2)."""
    cc = res.ipw.effects if res.ipw is not None else res.complete_case
    if isinstance(cc, tuple):
        cc = cc[0]
    if cc is None or not len(cc) or "df" not in cc:
        return None
    cc = cc[cc["method"] == "complete_case"] if "method" in cc else cc
    out = {str(a): float(d) for a, d in zip(cc["arm"], cc["df"], strict=True)
           if np.isfinite(float(d)) and float(d) > 0}
    return out or None


def lee_covariate(panel: pd.DataFrame, design, *, max_levels: int = 5,
                  min_cell: int = 5) -> str | None:
    """The declared baseline covariate that tightens Lee bounds, or None.

    The first covariate of ``design.covariates`` that is discrete (text, or at most
    ``max_levels`` distinct values) and whose every level has at least ``min_cell``
    respondents in each arm (Lee's cells need respondents on both sides).

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> p = pd.DataFrame({"arm": ["c", "t"] * 20, "sex": ["f", "f", "m", "m"] * 10,
    ...                   "age": range(40), "responded": True})
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", covariates=("age", "sex"))
    >>> lee_covariate(p, d)
    'sex'
    """
    resp = panel[panel["responded"].astype(bool)]
    for c in design.covariates:
        if c not in panel:
            continue
        s = panel[c]
        levels = s.dropna().unique()
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if len(levels) < 2 or (numeric and len(levels) > max_levels) or len(levels) > max_levels:
            continue
        counts = resp.groupby([resp[design.arm].astype(str), resp[c].astype(str)]).size()
        arms = panel[design.arm].astype(str).unique()
        full = counts.reindex(pd.MultiIndex.from_product(
            [arms, [str(v) for v in levels]]), fill_value=0)
        if (full >= min_cell).all():
            return str(c)
    return None


def analyse_outcome(data: pd.DataFrame, column: str, design, *, outcome: str | None = None,
                    seed: int = 0, m: int = 20, deltas: Sequence[float] | None = None,
                    lee_cov: str | None | bool = True, n_boot: int = 999, alpha: float = 0.05,
                    min_cell: int = 5, response: bool = True,
                    grow_m: bool = True) -> OutcomeSensitivity:
    """Every missing-data method of issue 15 on one outcome.

    Parameters
    ----------
    data : DataFrame
        Long scored data (``RUN/data/scores.parquet``).
    column : str
        The outcome's score column.
    design : core.design.Design
        Needs an arm and a control for the methods that compare arms; a one-group design
        gets the response model only.
    outcome : str, optional
        The outcome's id in the tables (default ``column``).
    seed : int
        The run's seed: the imputations and the bootstrap of Lee bounds.
    m : int
        Imputations of the first pass (default 20). The rule of
        :func:`analysis.imputation.suggested_m` is ``m = max(20, ceil(100 x FMI))``: with
        ``grow_m`` (the default), when the first pass's largest FMI asks for more, the
        imputation is run again with that m (once; a second pass that asks for still more
        is reported in the ``suggested_m`` note).
    grow_m : bool
        Re-impute with the m the rule asks for (see ``m``).
    deltas : sequence of float, optional
        The grid of the delta adjustment in SDs (default -1 to 1 by 0.1).
    lee_cov : str, bool or None
        Covariate of the tightened Lee bounds: a name, ``True`` (the first suitable
        declared covariate, :func:`lee_covariate`) or ``None``/``False`` (none).
    n_boot : int
        Bootstrap replicates of Lee bounds (clustered designs, tightened bounds).
    alpha : float
    min_cell : int
        Smallest cell of a covariate of tightened bounds.
    response : bool
        Fit the response model (the page shows it for the primary outcome only).

    A covariate level (or an arm, for the response model) in which every child answered,
    or none did, separates the logistic models: that covariate is left out of the model
    (of that arm's propensity model for the weights) and :attr:`OutcomeSensitivity.dropped`
    says so, rather than losing the method.

    Returns
    -------
    OutcomeSensitivity

    Examples
    --------
    >>> from analysis.sensitivity import _example_data, analyse_outcome, sensitivity_table
    >>> long, d = _example_data()
    >>> res = analyse_outcome(long, "y", d, seed=1, m=5, n_boot=99)
    >>> sensitivity_table([res])["method"].tolist()[:3]
    ['complete_case', 'mi', 'ipw']
    """
    from analysis import imputation, ipw, lee_bounds, missingness
    from analysis.effects_rules import primary_model

    name = outcome or column
    panel = missingness.response_panel(data, column, design)
    res = OutcomeSensitivity(outcome=name, panel=panel, m=int(m), design=design)
    try:
        n_cl = panel[design.clusters[0]].nunique() if design.clusters else None
        res.primary_model = primary_model(design, n_cl)
    except (ValueError, TypeError):
        res.primary_model = ""
    two_arms = bool(design.arm) and design.control is not None
    has_base = "_y0" in panel.columns and np.isfinite(panel["_y0"].to_numpy(float)).any()
    if response:
        try:  # baseline centred: the arm's odds ratio is at the mean baseline score
            centred = (panel.assign(_y0=panel["_y0"] - np.nanmean(panel["_y0"])) if has_base
                       else panel)
            res.response = missingness.response_model(
                centred, design, interaction=two_arms and has_base, alpha=alpha,
                drop_separating=True)
            if res.response.attrs.get("dropped"):
                res.dropped["response"] = list(res.response.attrs["dropped"])
        except (ValueError, np.linalg.LinAlgError) as err:
            res.errors["response"] = str(err)
    if not two_arms:
        return res
    if not panel["responded"].all():
        try:
            res.imputations = imputation.impute(data, column, design, m=m, seed=seed, name=name)
            res.mi = res.imputations.pool(alpha=alpha)
            need = int(res.mi["suggested_m"].max()) if "suggested_m" in res.mi else int(m)
            if grow_m and need > int(m):  # the rule m = max(20, ceil(100 x FMI)), applied
                res.imputations = imputation.impute(data, column, design, m=need, seed=seed,
                                                    name=name)
                res.mi = res.imputations.pool(alpha=alpha)
                res.m = need
            res.delta = imputation.delta_adjustment(res.imputations, deltas, shift="treatment",
                                                    alpha=alpha)
        except (ValueError, np.linalg.LinAlgError) as err:
            res.errors["mi"] = str(err)
    if has_base:
        try:
            res.ipw = ipw.ipw_effects(panel, design, outcome=name, alpha=alpha,
                                      drop_separating=True)
            if res.ipw.dropped:
                res.dropped["ipw"] = list(res.ipw.dropped)
        except (ValueError, np.linalg.LinAlgError) as err:
            res.errors["ipw"] = str(err)
            try:
                res.complete_case = _complete_case(panel, design, name, alpha)
            except (ValueError, np.linalg.LinAlgError, KeyError) as err2:
                res.errors["complete_case"] = str(err2)
    if design.type in ("randomized", "cluster_randomized") and not panel["responded"].all():
        cov = lee_cov
        if cov is True:
            cov = lee_covariate(panel, design, min_cell=min_cell)
        cov = cov or None
        lee_df = _primary_df(res) if design.clusters else None
        try:
            res.lee = lee_bounds.lee_bounds(
                panel, "_y", arm=design.arm, control=design.control, covariate=cov,
                cluster=design.clusters[0] if design.clusters else None, alpha=alpha,
                n_boot=n_boot, seed=seed, df=lee_df)
            res.lee_covariate = cov
            res.lee["outcome"] = name
        except ValueError as err:
            if cov is None:
                res.errors["lee"] = str(err)
            else:  # the tightened bounds failed: the basic ones alone
                try:
                    res.lee = lee_bounds.lee_bounds(
                        panel, "_y", arm=design.arm, control=design.control,
                        cluster=design.clusters[0] if design.clusters else None, alpha=alpha,
                        n_boot=n_boot, seed=seed, df=lee_df)
                    res.lee["outcome"] = name
                    res.errors["lee_tightened"] = str(err)
                except ValueError as err2:
                    res.errors["lee"] = str(err2)
    return res


# -------------------------------------------------------------------------- the table
def _arm_sizes(panel: pd.DataFrame, design, arm: str) -> tuple[pd.Series, pd.Series]:
    a = panel[design.arm].astype(str)
    both = panel[a.isin([arm, str(design.control)])]
    return both[design.arm].astype(str), both


def _row(res: OutcomeSensitivity, arm: str, method: str, **kw) -> dict:
    d = res.design
    row = {c: np.nan for c in SENSITIVITY_COLUMNS}
    row.update(outcome=res.outcome, arm=arm, control=str(d.control), method=method, note="",
               model="ols_cr2" if d.clusters else "ancova_hc2")
    row.update(kw)
    return row


def _notes(*keys) -> str:
    return ";".join(k for k in keys if k)


def _outcome_rows(res: OutcomeSensitivity, alpha: float) -> list[dict]:
    d = res.design
    if not (d is not None and d.arm and d.control is not None):
        return []
    panel = res.panel
    arms = sorted(set(panel[d.arm].astype(str).unique()) - {str(d.control)})
    clustered = bool(d.clusters)
    not_primary = ("model_not_primary" if res.primary_model
                   and res.primary_model not in ("ols_cr2", "ancova_hc2") else "")
    cr = "cr2" if clustered else "hc2"
    rows = []
    for a in arms:
        labels, both = _arm_sizes(panel, d, a)
        n_all = len(both)
        n_resp = int(both["responded"].sum())
        n_miss = n_all - n_resp
        # complete case and IPW
        if res.ipw is not None:
            w = res.ipw.weights
            wa = w[w[d.arm].astype(str).isin([a, str(d.control)]) & w["responded"]]
            in_fit = wa.groupby(wa[d.arm].astype(str)).size()
            smallest = float(in_fit.min()) if len(in_fit) else np.nan
            for method in ("complete_case", "ipw"):
                e = res.ipw.effects
                e = e[(e["arm"] == a) & (e["method"] == method)]
                if e.empty:
                    continue
                r = e.iloc[0]
                n_fit = int(in_fit.sum())  # this contrast's two arms (the fit has every arm)
                rows.append(_row(res, a, method, estimate=r["estimate"], std_error=r["std_error"],
                                 ci_low=r["ci_low"], ci_high=r["ci_high"], df=r["df"],
                                 n=n_fit, n_missing=n_all - n_fit,
                                 n_smallest_arm=smallest, n_clusters=r["n_clusters"],
                                 model=r["model"], inference=cr,
                                 note=_notes(not_primary,
                                             "weights_known" if method == "ipw" else "")))
        else:
            methods = ("complete_case", "ipw")
            if res.complete_case is not None:
                cc, sub = res.complete_case
                r = cc[cc["arm"] == a].iloc[0]
                s_ = sub[sub[d.arm].astype(str).isin([a, str(d.control)])]
                rows.append(_row(res, a, "complete_case", estimate=r["estimate"],
                                 std_error=r["std_error"], ci_low=r["ci_low"],
                                 ci_high=r["ci_high"], df=r["df"], n=len(s_),
                                 n_missing=n_all - len(s_),
                                 n_smallest_arm=float(s_.groupby(s_[d.arm].astype(str)).size().min()),
                                 n_clusters=r["n_clusters"], model=r["model"], inference=cr,
                                 note=not_primary))
                methods = ("ipw",)
            for method in methods:
                rows.append(_row(res, a, method, n=n_resp, n_missing=n_miss,
                                 n_smallest_arm=float(both.groupby(labels)["responded"].sum().min()),
                                 inference=cr, note="not_estimable"))
        # multiple imputation and the tipping point
        if res.mi is not None:
            r = res.mi[res.mi["arm"] == a].iloc[0]
            smallest = float(labels.value_counts().min())
            rows.append(_row(res, a, "mi", estimate=r["estimate"], std_error=r["std_error"],
                             ci_low=r["ci_low"], ci_high=r["ci_high"], df=r["df"], fmi=r["fmi"],
                             n=int(r["n_obs"]), n_missing=int(r["n_imputed"]),
                             n_smallest_arm=smallest, n_clusters=r["n_clusters"],
                             model=r["model"], inference=f"{cr}_rubin",
                             note=_notes(not_primary, f"m={int(r['m'])}",
                                         f"suggested_m={int(r['suggested_m'])}"
                                         if int(r["suggested_m"]) > int(r["m"]) else "")))
            tip = res.delta.tipping if res.delta is not None else None
            grid = res.delta.grid if res.delta is not None else None
            if tip is not None:
                t = tip[tip["arm"] == a]
                c0 = str(t["conclusion_at_0"].iloc[0]) if len(t) else conclusion(
                    r["ci_low"], r["ci_high"])
                found = t[t["found"].astype(bool)]
                lo, hi = float(grid["delta"].min()), float(grid["delta"].max())
                if len(found):
                    best = found.loc[found["tipping_delta"].abs().idxmin()]
                    g = grid[(grid["arm"] == a)]
                    gi = g.iloc[(g["delta"] - best["tipping_delta"]).abs().argmin()]
                    rows.append(_row(res, a, "tipping_delta", estimate=best["tipping_delta"],
                                     ci_low=best["ci_low"], ci_high=best["ci_high"],
                                     fmi=gi["fmi"], n=int(r["n_obs"]),
                                     n_missing=int(r["n_imputed"]), n_smallest_arm=smallest,
                                     n_clusters=r["n_clusters"], model=r["model"],
                                     inference=f"{cr}_rubin",
                                     note=_notes(f"side={best['side']}", f"conclusion={c0}",
                                                 not_primary)))
                else:
                    rows.append(_row(res, a, "tipping_delta", n=int(r["n_obs"]),
                                     n_missing=int(r["n_imputed"]), n_smallest_arm=smallest,
                                     n_clusters=r["n_clusters"], model=r["model"],
                                     inference=f"{cr}_rubin",
                                     note=_notes(f"no_tipping={lo:g}..{hi:g}",
                                                 f"conclusion={c0}", not_primary)))
        elif "mi" in res.errors:
            for method in ("mi", "tipping_delta"):
                rows.append(_row(res, a, method, n=n_all, n_missing=n_miss,
                                 n_smallest_arm=float(labels.value_counts().min()),
                                 inference=f"{cr}_rubin", note="not_estimable"))
        # Lee bounds
        if res.lee is not None:
            for kind, prefix in (("basic", "lee"), ("tightened", "lee_tightened")):
                lee = res.lee[(res.lee["arm"] == a) & (res.lee["bounds"] == kind)]
                if lee.empty:
                    continue
                r = lee.iloc[0]
                few = (r["se_method"] == "cluster_bootstrap"
                       and np.isfinite(r["n_clusters"]) and r["n_clusters"] < 20)
                inference = ("lee_analytic" if r["se_method"] == "analytic"
                             else str(r["se_method"]))
                smallest = float(min(r["n_resp_arm"], r["n_resp_control"]))
                note = _notes("lee_iid" if clustered and r["se_method"] != "cluster_bootstrap"
                              else "", "lee_few_clusters" if few else "",
                              f"trimmed={r['trimmed_arm']}", f"trim_share={r['trim_share']:.6f}",
                              f"lee_covariate={r['covariate']}" if kind == "tightened" else "",
                              f"im_df={float(r['im_df']):.4g}"
                              if "im_df" in r and np.isfinite(float(r["im_df"])) else "")
                n = int(r["n_arm"] + r["n_control"])
                nm = n - int(r["n_resp_arm"] + r["n_resp_control"])
                for side, est, se in (("lower", r["lower"], r["se_lower"]),
                                      ("upper", r["upper"], r["se_upper"])):
                    rows.append(_row(res, a, f"{prefix}_{side}", estimate=est, std_error=se,
                                     ci_low=r["ci_low"], ci_high=r["ci_high"], n=n, n_missing=nm,
                                     n_smallest_arm=smallest, n_clusters=r["n_clusters"],
                                     model="lee_bounds", inference=inference, note=note))
        elif "lee" in res.errors:
            for method in ("lee_lower", "lee_upper"):
                rows.append(_row(res, a, method, n=n_all, n_missing=n_miss, model="lee_bounds",
                                 n_smallest_arm=float(both.groupby(labels)["responded"].sum().min()),
                                 note="not_estimable"))
    return rows


def sensitivity_table(results: Sequence[OutcomeSensitivity], *, alpha: float = 0.05
                      ) -> pd.DataFrame:
    """One row per outcome x treatment arm x method (:data:`SENSITIVITY_COLUMNS`).

    Methods a design does not allow (Lee bounds without random assignment) or that had
    nothing to do (no child missing: no imputation) have no row; a method that failed on
    the data has a row with the note ``not_estimable`` and no numbers.

    Examples
    --------
    >>> from analysis.sensitivity import _example_data, analyse_outcome, sensitivity_table
    >>> long, d = _example_data()
    >>> t = sensitivity_table([analyse_outcome(long, "y", d, seed=1, m=5, n_boot=99)])
    >>> t["method"].tolist()
    ['complete_case', 'mi', 'ipw', 'lee_lower', 'lee_upper', 'tipping_delta']
    >>> bool((t["n_smallest_arm"] > 0).all())
    True
    """
    rows = [r for res in results for r in _outcome_rows(res, alpha)]
    t = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    if t.empty:
        return t
    order = {m: i for i, m in enumerate(METHODS)}
    outcomes = list(dict.fromkeys(t["outcome"]))
    t = t.assign(_o=t["outcome"].map(outcomes.index), _m=t["method"].map(order))
    t = t.sort_values(["_o", "arm", "_m"], kind="stable").drop(columns=["_o", "_m"])
    for c in ("n", "n_missing"):
        t[c] = t[c].astype(float).round().astype("Int64")
    for c in ("estimate", "std_error", "ci_low", "ci_high", "df", "fmi", "n_smallest_arm",
              "n_clusters"):
        t[c] = t[c].astype(float)
    return t.reset_index(drop=True)


def _example_data():
    """A small cluster trial with differential MAR attrition (doc examples and tests)."""
    from core.design import Design

    rng = np.random.default_rng(11)
    n = 240
    school = np.repeat(np.arange(12), 20)
    arm = np.where(school % 2, "t", "c")
    y0 = rng.normal(size=12)[school] + rng.normal(size=n)
    y1 = 0.5 * y0 + 0.6 * (arm == "t") + 0.3 * rng.normal(size=12)[school] + rng.normal(size=n)
    gone = rng.random(n) < np.where(arm == "t", 0.08, 0.2) + 0.05 * (y0 < 0)
    y1[gone] = np.nan
    long = pd.concat([
        pd.DataFrame({"id": range(n), "wave": "b", "arm": arm, "school": school, "y": y0}),
        pd.DataFrame({"id": range(n), "wave": "e", "arm": arm, "school": school, "y": y1}),
    ])
    d = Design(type="cluster_randomized", id="id", waves=("b", "e"), arm="arm", control="c",
               clusters=("school",))
    return long, d

"""Result objects of the effects analysis, in the style of statsmodels and pyfixest:
:class:`EffectsResult` (from :func:`analysis.effects.estimate_effects`) and
:class:`SubgroupResult` (from :func:`analysis.effects.subgroup_effects`). Each holds
its table (``.tidy()``, a copy) and writes a short text account of it (``.summary()``,
also ``repr``): estimates, CIs, p-values, methods, children and clusters per arm and
notes on small samples. Nothing is estimated here.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.effects_rules import (
    CLUSTER_RULE,
    CONFOUNDING_STATEMENT,
    PARALLEL_TRENDS_STATEMENT,
)
from analysis.effects_rules import primary_model as _default_primary

__all__ = ["EffectsResult", "SubgroupResult"]

_ADJUST_TEXT = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "none (p_adj = p)"}
_CR2_MODELS = ("change_cr2", "ols_cr2")
_TITLE = {"effect": "Intervention effects", "adjusted_difference":
          "Adjusted differences (groups not randomized)", "change": "Change (one group)"}


def _fmt(x, digits: int = 3) -> str:
    """A number for the summary: NA for missing, inf for an infinite df."""
    if x is None or pd.isna(x):
        return "NA"
    x = float(x)
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and abs(x) < 0.5 * 10.0**-digits:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


def _fmt_p(p) -> str:
    if p is None or pd.isna(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _ci(lo, hi, digits: int = 3) -> str:
    return f"[{_fmt(lo, digits)}, {_fmt(hi, digits)}]"


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}%"


def _same(col: pd.Series, value) -> np.ndarray:
    """``col == value`` where a missing value (a one-group design's arm) equals a missing value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return col.isna().to_numpy()
    return (col == value).fillna(False).to_numpy(dtype=bool)


def _text_table(cols: dict[str, list[str]], left: tuple[str, ...] = ()) -> list[str]:
    """Aligned plain-text table, two spaces indented: columns in ``left`` flush left,
    the others (numbers) flush right."""
    width = {k: max([len(k), *map(len, v)]) for k, v in cols.items()}

    def line(cells):
        return "  " + "  ".join(c.ljust(width[k]) if k in left else c.rjust(width[k])
                                for k, c in zip(cols, cells)).rstrip()

    n = len(next(iter(cols.values()))) if cols else 0
    return [line(list(cols))] + [line([v[i] for v in cols.values()]) for i in range(n)]


def _bullets(notes: list[str]) -> list[str]:
    return [ln for n in notes for ln in _wrap(n, "  - ", "    ")]


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(text, 88, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False)


def _model_text(model: str, design) -> str:
    """One line per model for the summary's Methods section."""
    outer = design.clusters[0] if design.clusters else None
    terms = ["arm"]
    if design.has_baseline and design.baseline != design.endline:
        terms.append("baseline outcome")
    if design.covariates:
        terms.append("covariates")
    if design.blocks:
        terms.append("block effects")
    rhs = " + ".join(terms)
    rhs_change = " + ".join(t for t in terms if t != "baseline outcome")
    cr2 = f"CR2 SEs clustered by {outer}, Bell-McCaffrey df"
    text = {
        "paired_t": "mean change (endline - baseline), paired t test with n - 1 df"
                    + (" (ignores the clustering)" if outer else "")
                    + "; d_z with a noncentral-t CI",
        "change_cr2": f"mean change (endline - baseline), {cr2}; d_z with the CR2 CI on the "
                      "same scale",
        "ancova_hc2": f"OLS of the endline outcome on {rhs}, HC2 SEs, n - p df",
        "ols_cr2": f"OLS of the endline outcome on {rhs}, {cr2}",
        "mixed_reml": "the same fixed effects with random intercepts for "
                      f"{', '.join(design.clusters)}, REML, Satterthwaite df",
        "cluster_means": f"{outer} means of the endline outcome on "
                         + " + ".join(["arm"] + (["mean baseline"] if "baseline outcome" in terms
                                                 else []) + (["block effects"] if design.blocks
                                                             else []))
                         + ", HC2 SEs, J - k df",
        "did": f"change score (endline - baseline) on {rhs_change}, "
               + (cr2 if outer else "HC2 SEs, n - p df"),
    }
    return text.get(model, model)


def _few_df_note(tab: pd.DataFrame, alpha: float, cr2: np.ndarray) -> list[str]:
    """Notes on small (Bell-McCaffrey, Satterthwaite, n - p) degrees of freedom;
    ``cr2`` marks the rows whose df are Bell-McCaffrey df of a CR2 test."""
    notes = []
    df = tab["df"].astype(float)
    finite = tab[np.isfinite(df)]
    if not finite.empty:
        i = finite["df"].astype(float).idxmin()
        r = finite.loc[i]
        dmin = float(r["df"])
        if dmin < 10:
            q = float(stats.t.ppf(1 - alpha / 2, dmin))
            z = float(stats.norm.ppf(1 - alpha / 2))
            what = ", ".join(str(v) for v in (r["outcome"], r.get("arm"), r.get("level"),
                                               r.get("model")) if v is not None and not pd.isna(v))
            notes.append(f"Few degrees of freedom (smallest {dmin:.1f}: {what}): the t quantile "
                         f"is {q:.2f} instead of {z:.2f}, so these CIs are wide.")
            if ((df < 4).to_numpy() & np.asarray(cr2, dtype=bool)).any():
                notes.append("Below 4 Bell-McCaffrey df even the small-sample corrected CR2 test "
                             "may not hold its level (Tipton 2015): read those rows with caution.")
    if (np.isinf(df) & tab["std_error"].notna()).any():
        notes.append("df = inf: normal reference distribution.")
    return notes


@dataclass(frozen=True, repr=False, eq=False)
class EffectsResult:
    """The result of :func:`analysis.effects.estimate_effects`: a table and a readable summary.

    Attributes
    ----------
    design : core.design.Design
        The design the models were fit for.
    alpha : float
        CIs are at level ``1 - alpha``.
    adjust : {"holm", "bh", "none"}
        The multiplicity adjustment of ``p_adjusted``.
    primary_model : str
        The model flagged ``primary`` (see :func:`analysis.effects_rules.primary_model`).
    n_clusters : int or None
        Outermost clusters the primary-model rule saw (largest over the outcomes;
        ``None`` without clusters).
    counts : DataFrame
        Children analysed per outcome and arm, before each model's complete-case
        selection: ``outcome``, ``arm`` (``None`` for a one-group pre/post design),
        ``n_children`` (with the endline outcome; pre/post: with both waves) and
        ``n_clusters`` (distinct outermost clusters among them; NaN without clusters).
    paired_effect_sizes : DataFrame or None
        Pre/post designs: one row per outcome with ``outcome`` and the columns of
        :func:`analysis.effect_size.cohens_d_paired` (d_z and d_av with CIs).
    causal_statement : dict or None
        Pre/post designs: the caution ``{"en": ..., "zh": ...}``
        (:data:`analysis.effects_rules.CAUSAL_STATEMENT`).
    families : DataFrame
        The multiplicity families of ``p_adjusted``: ``family`` (``primary`` /
        ``secondary``), ``model``, ``arm`` and ``n_tests`` (outcomes with a p-value
        adjusted together).

    Methods
    -------
    tidy()
        The effects table (see :meth:`tidy`).
    summary()
        A short text block (see :meth:`summary`); ``repr(result)`` shows it.
    """

    _table: pd.DataFrame
    design: object
    alpha: float
    adjust: str
    primary_model: str
    n_clusters: int | None = None
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    paired_effect_sizes: pd.DataFrame | None = None
    causal_statement: dict | None = None
    families: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def estimand(self) -> str:
        """``effect``, ``adjusted_difference`` or ``change`` (:func:`analysis.effects_rules.estimand`)."""
        from analysis.effects_rules import estimand

        return estimand(self.design)

    def family_size(self, family: str, model: str, arm=None) -> int:
        """Tests in one multiplicity family (0 when there is none).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from core.design import Design
        >>> from analysis.effects import estimate_effects
        >>> rng = np.random.default_rng(1)
        >>> arm = np.repeat(["program", "control"], 50)
        >>> data = pd.DataFrame({"id": range(100), "wave": "t1", "arm": arm,
        ...                      "a": rng.normal(size=100), "b": rng.normal(size=100),
        ...                      "c": rng.normal(size=100)})
        >>> d = Design(type="randomized", id="id", waves=("t1",), arm="arm", control="control")
        >>> res = estimate_effects(data, ["a", "b", "c"], d)
        >>> res.family_size("primary", "ancova_hc2", "program"), res.family_size("secondary", "ancova_hc2", "program")
        (1, 2)
        """
        f = self.families
        if f.empty:
            return 0
        sel = (f["family"] == family) & (f["model"] == model) & _same(f["arm"], arm)
        return int(f.loc[sel, "n_tests"].sum())

    def tidy(self) -> pd.DataFrame:
        """The effects table: one row per outcome x treatment arm x model (a copy).

        Returns
        -------
        DataFrame
            Columns, in this order (:data:`analysis.effects_rules.COLUMNS`):

            ``outcome`` (str)
                Outcome id (the key of the ``outcomes`` mapping, else the column).
            ``arm``, ``control`` (str; ``None`` for a one-group pre/post design)
                Treatment arm and the control arm it is compared with.
            ``model`` (str)
                ``paired_t``, ``change_cr2``, ``ancova_hc2``, ``did``, ``ols_cr2``,
                ``mixed_reml`` or ``cluster_means`` (module docstring).
            ``estimate``, ``std_error`` (float)
                Effect (or adjusted difference) in outcome units: the difference
                in means adjusted for the model's regressors; pre/post: the mean
                change. And its SE.
            ``df`` (float)
                Degrees of freedom of the t reference (``inf``: normal reference).
            ``ci_low``, ``ci_high`` (float)
                ``1 - alpha`` confidence interval.
            ``p_value``, ``p_adjusted`` (float)
                Two-sided p-value; adjusted (``adjust``) within the row's
                ``family``, model and arm. A family of one keeps its p-value.
            ``effect_size``, ``effect_size_ci_low``, ``effect_size_ci_high`` (float)
                Hedges' g (cluster-adjusted for the cluster models) or, pre/post,
                d_z, with the model's CI on the same scale.
            ``n_obs`` (int)
                Children (rows) in the model after its complete-case selection.
            ``n_clusters`` (float)
                Outermost clusters in the model (NaN without clusters).
            ``primary`` (bool)
                The row of the primary model.
            ``estimand`` (str)
                What the row estimates: ``effect`` (randomized designs),
                ``adjusted_difference`` (controlled; cross_sectional with an arm:
                not randomized, may be confounded) or ``change`` (pre_post).
            ``family`` (str)
                Multiplicity family: ``primary`` (the primary outcome(s)) or
                ``secondary`` (the other outcomes).
            ``e_value``, ``e_value_ci`` (float)
                E-values (VanderWeele & Ding 2017) of g and of its CI limit closer
                to 0 (1 when the CI includes 0): the risk ratio by which an
                unmeasured confounder would have to be associated with both group
                and outcome to explain the estimate (its CI) away. NaN for a change.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from core.design import Design
        >>> from analysis.effects import estimate_effects
        >>> rng = np.random.default_rng(1)
        >>> arm = np.repeat(["program", "control"], 50)
        >>> data = pd.DataFrame({"id": range(100), "wave": "t1", "arm": arm,
        ...                      "score": rng.normal(50, 10, 100) + 4 * (arm == "program")})
        >>> d = Design(type="randomized", id="id", waves=("t1",), arm="arm", control="control")
        >>> tab = estimate_effects(data, ["score"], d).tidy()
        >>> tab[["outcome", "arm", "model", "n_obs", "primary"]].to_dict("records")
        [{'outcome': 'score', 'arm': 'program', 'model': 'ancova_hc2', 'n_obs': 100, 'primary': True}]
        >>> float(tab.loc[0, "df"])
        98.0
        """
        return self._table.copy()

    def summary(self) -> str:
        """A short, readable account of the fit (print it).

        Per outcome and arm: every model's estimate, CI, p (unadjusted and
        adjusted), df, standardized effect size with its CI, children and clusters
        in the model, and the children (clusters) of each arm. Then one line per
        model on the method, and notes on small samples: few clusters and the
        primary-model rule, few degrees of freedom, rows that could not be estimated,
        and for pre/post designs the causal caution.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from core.design import Design
        >>> from analysis.effects import estimate_effects
        >>> rng = np.random.default_rng(1)
        >>> arm = np.repeat(["program", "control"], 50)
        >>> data = pd.DataFrame({"id": range(100), "wave": "t1", "arm": arm,
        ...                      "score": rng.normal(50, 10, 100) + 4 * (arm == "program")})
        >>> d = Design(type="randomized", id="id", waves=("t1",), arm="arm", control="control")
        >>> text = estimate_effects(data, ["score"], d).summary()
        >>> print(text.splitlines()[0])
        Intervention effects: randomized design, 1 outcome, primary model ancova_hc2 (*)
        >>> "children with the endline outcome: program 50, control 50" in text
        True
        """
        t = self._table
        d = self.design
        one_group = d.type == "pre_post"
        outer = d.clusters[0] if d.clusters else None
        ci = _level(self.alpha)
        es = "d_z" if one_group else "g"
        n_out = t["outcome"].nunique()
        lines = [f"{_TITLE[self.estimand]}: {d.type} design, {n_out} outcome"
                 f"{'s' if n_out != 1 else ''}, primary model {self.primary_model} (*)",
                 *_wrap(f"{ci} CIs; p_adj: {self._family_text()}")]
        for o, a in dict.fromkeys(zip(t["outcome"], t["arm"])):
            blk = t[_same(t["outcome"], o) & _same(t["arm"], a)]
            fam = blk["family"].iloc[0] if "family" in blk else None
            role = f" [{fam} outcome]" if isinstance(fam, str) else ""
            head = (f"{o}: change {d.baseline} -> {d.endline} (one group){role}" if one_group
                    else f"{o}: {a} vs {blk['control'].iloc[0]}{role}")
            lines += ["", head]
            rows = {
                "model": [m + (" *" if p else "") for m, p in zip(blk["model"], blk["primary"])],
                "estimate": [_fmt(v) for v in blk["estimate"]],
                f"{ci} CI": [_ci(lo, hi) for lo, hi in zip(blk["ci_low"], blk["ci_high"])],
                "p": [_fmt_p(v) for v in blk["p_value"]],
                "p_adj": [_fmt_p(v) for v in blk["p_adjusted"]],
                "df": [_fmt(v, 1) for v in blk["df"]],
                es: [_fmt(v) for v in blk["effect_size"]],
                f"{es} {ci} CI": [_ci(lo, hi) for lo, hi in
                                  zip(blk["effect_size_ci_low"], blk["effect_size_ci_high"])],
                "n": [str(int(v)) for v in blk["n_obs"]],
            }
            if outer:
                rows["clusters"] = [_fmt(v, 0) for v in blk["n_clusters"]]
            if not one_group and "e_value" in blk:
                rows["E"] = [_fmt(v, 2) for v in blk["e_value"]]
                rows["E (CI)"] = [_fmt(v, 2) for v in blk["e_value_ci"]]
            lines += _text_table(rows, left=("model", f"{ci} CI", f"{es} {ci} CI"))
            lines.append("  " + self._counts_line(o, a))
        lines += ["", "Methods:"]
        lines += [ln for m in dict.fromkeys(t["model"])
                  for ln in _wrap(f"{m}: {_model_text(m, d)}", "  ", "    ")]
        notes = self._notes()
        if notes:
            lines += ["", "Notes:"] + _bullets(notes)
        return "\n".join(lines)

    def _family_text(self) -> str:
        """The families of ``p_adjusted`` in words, e.g. "Holm within each family ..."."""
        method = _ADJUST_TEXT.get(self.adjust, self.adjust)
        f = self.families
        if f.empty or "family" not in f:
            return f"{method}."
        sizes = f.groupby("family", sort=False)["n_tests"].max()
        parts = [f"{fam} ({n} outcome{'s' if n != 1 else ''})" for fam, n in sizes.items()]
        each = "model" if self.design.type == "pre_post" else "model and arm"
        if self.adjust == "none":
            return f"{method}; families: " + ", ".join(parts) + "."
        return (f"{method} within each family, {each}: " + ", ".join(parts)
                + "; a family of one keeps its p-value.")

    def _counts_line(self, outcome, arm) -> str:
        c = self.counts
        if c.empty:
            return ""
        c = c[_same(c["outcome"], outcome)]

        def one(r) -> str:
            n = f"{int(r['n_children'])}"
            if pd.notna(r["n_clusters"]):
                k = int(r["n_clusters"])
                n += f" ({k} cluster{'s' if k != 1 else ''})"
            return n

        if self.design.type == "pre_post":
            return "children with both waves: " + ", ".join(one(r) for _, r in c.iterrows())
        parts = []
        for g in (arm, self.design.control):
            sel = c[_same(c["arm"], str(g))]
            if not sel.empty:
                parts.append(f"{g} {one(sel.iloc[0])}")
        return "children with the endline outcome: " + ", ".join(parts)

    def _notes(self) -> list[str]:
        t = self._table
        d = self.design
        outer = d.clusters[0] if d.clusters else None
        notes = []
        one_group = d.type == "pre_post"
        if d.type == "pre_post":
            notes.append("d_z = mean change / SD of the change (not bias-corrected); d_av with "
                         "its CI is in .paired_effect_sizes.")
        else:
            text = ("g = omega x estimate / pooled SD of the endline outcome in the two arms "
                    "(omega = 1 - 3/(4N - 9)); its CI is the model's CI on the same scale.")
            if outer:
                text += (" For the cluster models it is also multiplied by the Hedges (2007) "
                         "factor sqrt(1 - 2(n - 1) ICC / (N - 2)).")
            notes.append(text)
        J = self.n_clusters
        prim = self.primary_model
        if outer and J is not None:
            rule = _default_primary(d, J, linked="did" in set(self._table["model"]))
            if prim != rule:
                notes.append(f"Primary model {prim} was chosen by the caller (the design's rule "
                             f"gives {rule}).")
            elif prim == "change_cr2":
                notes.append(f"Children of one {outer} are not independent: change_cr2 (CR2, "
                             f"{J} clusters) is primary; paired_t, with n - 1 df, overstates "
                             "the evidence.")
            elif prim == "ols_cr2":
                notes.append(f"{J} {outer} clusters (fewer than {CLUSTER_RULE}): CR2 with "
                             "Bell-McCaffrey df (ols_cr2) is primary; it stays close to its "
                             "nominal level with few clusters, where mixed-model SEs can be too "
                             "small.")
            elif prim == "mixed_reml":
                notes.append(f"{J} {outer} clusters ({CLUSTER_RULE} or more): the mixed model is "
                             "primary; its model-based SEs are reliable and more efficient at "
                             "this size.")
            if d.type != "pre_post" and "cluster_means" not in set(t["model"]):
                notes.append(f"cluster_means not fitted: the arm (or block) varies within a "
                             f"{outer}, or there are too few clusters.")
        cr2 = t["model"].isin(_CR2_MODELS) | ((t["model"] == "did") & bool(outer))
        notes += _few_df_note(t, self.alpha, cr2.to_numpy())
        varies = t.groupby(["outcome", t["arm"].fillna("")], sort=False)["n_obs"].nunique()
        if (varies > 1).any():
            notes.append("n counts each model's complete cases (children without the baseline "
                         "or a covariate leave the models that use it), so it differs between "
                         "models.")
        bad = t[t["std_error"].isna()]
        if not bad.empty:
            notes.append("Not estimable: " + "; ".join(
                f"{r.outcome} {r.model}" for r in bad.itertuples(index=False)) + ".")
        nog = t[t["effect_size"].isna() & t["estimate"].notna()]
        if not nog.empty:
            notes.append("No effect size for " + "; ".join(
                f"{r.outcome} {r.model}" for r in nog.itertuples(index=False))
                + ": an arm with fewer than 2 children, a zero SD, or the Hedges (2007) factor "
                  "undefined.")
        if self.causal_statement:
            notes.append(self.causal_statement["en"])
        if self.estimand == "adjusted_difference":
            notes.append(CONFOUNDING_STATEMENT["en"])
            if self.primary_model == "did":
                notes.append(PARALLEL_TRENDS_STATEMENT["en"])
        if not one_group and "e_value" in t and t["e_value"].notna().any():
            notes.append("E: E-value (VanderWeele & Ding 2017) of g, E (CI) of its CI limit "
                         "closer to 0: an unmeasured confounder would need to be associated "
                         "with both group and outcome by a risk ratio of E to explain the "
                         "estimate away (E (CI) = 1: the CI already includes 0).")
        return notes

    def __repr__(self) -> str:
        return self.summary()

    def __getitem__(self, key):
        raise TypeError(f"{type(self).__name__} is not a table: its table is .tidy() "
                        f"(result.tidy()[{key!r}])")


@dataclass(frozen=True, repr=False, eq=False)
class SubgroupResult:
    """The result of :func:`analysis.effects.subgroup_effects`: a table and a readable summary.

    Attributes
    ----------
    design : core.design.Design
        The design the models were fit for.
    subgroup : str
        The subgroup column.
    alpha : float
        CIs are at level ``1 - alpha``.
    adjust : {"holm", "bh", "none"}
        The multiplicity adjustment of ``interaction_p_adjusted``.

    Methods
    -------
    tidy()
        The subgroup table (see :meth:`tidy`).
    summary()
        A short text block; ``repr(result)`` shows it.
    """

    _table: pd.DataFrame
    design: object
    subgroup: str
    alpha: float
    adjust: str = "holm"

    def tidy(self) -> pd.DataFrame:
        """The subgroup table: one row per outcome x arm x level (a copy).

        Returns
        -------
        DataFrame
            Columns, in this order (:data:`analysis.effects_rules.SUBGROUP_COLUMNS`): ``outcome`` (str),
            ``arm`` (str; ``None`` for a one-group pre/post design), ``subgroup``
            (the column name), ``level`` (str), ``estimate``, ``std_error``,
            ``df``, ``ci_low``, ``ci_high`` (float; the level's effect, or mean
            change, from the model named in :func:`analysis.effects.subgroup_effects`), ``n_obs``
            (int, children in the level's model), ``n_clusters`` (float, NaN
            without clusters) and ``interaction_p`` (float: p of the HTZ Wald test
            that the effect is the same in every level; the same on every row of
            one outcome and arm; NaN where it is not estimable),
            ``interaction_p_adjusted`` (float: adjusted with ``adjust`` within the
            family of the interaction tests of every subgroup of one outcome and
            arm, :func:`analysis.effects.adjust_interactions`) and ``family``
            (``subgroup_interaction``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from core.design import Design
        >>> from analysis.effects import subgroup_effects
        >>> rng = np.random.default_rng(2)
        >>> arm = np.where(rng.random(200) < 0.5, "t", "c")
        >>> sex = np.where(rng.random(200) < 0.5, "girl", "boy")
        >>> df = pd.DataFrame({"id": range(200), "wave": "w1", "arm": arm, "sex": sex,
        ...                    "y": (arm == "t") * 2 + rng.normal(0, 3, 200)})
        >>> d = Design(type="randomized", id="id", waves=("w1",), arm="arm", control="c")
        >>> tab = subgroup_effects(df, ["y"], d, "sex").tidy()
        >>> tab[["level", "n_obs"]].to_dict("list")
        {'level': ['boy', 'girl'], 'n_obs': [90, 110]}
        """
        return self._table.copy()

    def summary(self) -> str:
        """A short, readable account: per outcome and arm the interaction test, then
        each level's estimate, CI, df, children and clusters, then notes.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from core.design import Design
        >>> from analysis.effects import subgroup_effects
        >>> rng = np.random.default_rng(2)
        >>> arm = np.where(rng.random(200) < 0.5, "t", "c")
        >>> sex = np.where(rng.random(200) < 0.5, "girl", "boy")
        >>> df = pd.DataFrame({"id": range(200), "wave": "w1", "arm": arm, "sex": sex,
        ...                    "y": (arm == "t") * 2 + rng.normal(0, 3, 200)})
        >>> d = Design(type="randomized", id="id", waves=("w1",), arm="arm", control="c")
        >>> print(subgroup_effects(df, ["y"], d, "sex").summary().splitlines()[0])
        Subgroup effects by sex (randomized design), 95% CIs
        """
        t = self._table
        d = self.design
        one_group = d.type == "pre_post"
        outer = d.clusters[0] if d.clusters else None
        ci = _level(self.alpha)
        title = {"pre_post": "Change by", "controlled": "Adjusted differences by",
                 "cross_sectional": "Adjusted differences by"}.get(d.type, "Subgroup effects by")
        lines = [f"{title} {self.subgroup} ({d.type} design), {ci} CIs"]
        what = ("the mean change is the same in every level" if one_group
                else "the arm effect is the same in every level")
        by = f"CR2 clustered by {outer}" if outer else "CR2 with each child its own cluster (HC2)"
        lines += _wrap(f"Interaction: HTZ Wald test ({by}) that {what}.")
        for o, a in dict.fromkeys(zip(t["outcome"], t["arm"])):
            blk = t[_same(t["outcome"], o) & _same(t["arm"], a)]
            head = f"{o}: change (one group)" if one_group else f"{o}: {a} vs {d.control}"
            padj = (f", adjusted {_fmt_p(blk['interaction_p_adjusted'].iloc[0])}"
                    if "interaction_p_adjusted" in blk else "")
            lines += ["", f"{head}; interaction p = {_fmt_p(blk['interaction_p'].iloc[0])}{padj}"]
            rows = {
                "level": [str(v) for v in blk["level"]],
                "estimate": [_fmt(v) for v in blk["estimate"]],
                f"{ci} CI": [_ci(lo, hi) for lo, hi in zip(blk["ci_low"], blk["ci_high"])],
                "df": [_fmt(v, 1) for v in blk["df"]],
                "n": [str(int(v)) for v in blk["n_obs"]],
            }
            if outer:
                rows["clusters"] = [_fmt(v, 0) for v in blk["n_clusters"]]
            lines += _text_table(rows, left=("level", f"{ci} CI"))
        notes = []
        if one_group and outer:
            notes.append(f"Within a level: the mean change with CR2 clustered by {outer} "
                         "(change_cr2) when the level spans 2 or more clusters, else a paired t "
                         "test.")
        elif one_group:
            notes.append("Within a level: the mean change, paired t test with n - 1 df.")
        elif d.type == "controlled" and d.has_baseline:
            se = (f"CR2 SEs clustered by {outer}, Bell-McCaffrey df" if outer
                  else "HC2 SEs, n - p df")
            notes.append("Within a level: the difference in differences (as the primary did): "
                         f"the change score on arm, {se}.")
        elif outer:
            notes.append(f"Within a level: OLS with CR2 SEs clustered by {outer} and "
                         "Bell-McCaffrey df (ols_cr2), even when the main analysis is mixed_reml.")
        else:
            notes.append("Within a level: OLS with HC2 SEs and n - p df (ancova_hc2).")
        notes.append("Whether the effect differs between levels is the interaction test's "
                     "question; overlapping or non-overlapping level CIs do not answer it.")
        if t["interaction_p"].isna().any():
            notes.append("interaction p = NA: not estimable (a level found in one cluster only, or "
                         "too few clusters).")
        cr2 = t["n_clusters"].notna().to_numpy() if outer else np.zeros(len(t), dtype=bool)
        notes += _few_df_note(t, self.alpha, cr2)
        bad = t[t["std_error"].isna()]
        if not bad.empty:
            notes.append("Not estimable: " + "; ".join(
                f"{r.outcome} {r.level}" for r in bad.itertuples(index=False)) + ".")
        lines += ["", "Notes:"] + _bullets(notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def __getitem__(self, key):
        raise TypeError(f"{type(self).__name__} is not a table: its table is .tidy() "
                        f"(result.tidy()[{key!r}])")

"""Intervention effects: one row per outcome x treatment arm x model.

:func:`estimate_effects` takes the LONG scored data (one row per respondent and
wave) and an :class:`core.design.Design` and returns an :class:`EffectsResult`:
``.tidy()`` is the effects table (one row per outcome x arm x model),
``.summary()`` a short text block for reading (estimates, CIs, p, methods, children
and clusters per arm, small-sample notes). :func:`subgroup_effects` returns a
:class:`SubgroupResult` in the same style. The models, by ``design.type``:

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
* Primary model: ``paired_t`` (pre-post), ``change_cr2`` (pre-post with clusters,
  at least 2 outermost clusters); ``ancova_hc2`` without clusters; with
  clusters ``ols_cr2`` when there are fewer than 40 outermost clusters, else
  ``mixed_reml`` (with 40+ clusters the model-based SEs are reliable and more
  efficient; with fewer, CR2 keeps its nominal level -- see tests/test_coverage.py).
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
* ``p_adjusted``: Holm (default) or Benjamini-Hochberg (``"bh"``) across the
  OUTCOMES within each model and arm (the family = the outcomes of one model for
  one arm contrast); with ``"none"`` the unadjusted p-value.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.cluster_robust import coef_test, wald_test
from analysis.effect_size import (
    _cohens_d_paired,
    cluster_adjustment,
    icc_anova,
    small_sample_factor,
)

__all__ = [
    "CAUSAL_STATEMENT",
    "EffectsResult",
    "SubgroupResult",
    "causal_statement",
    "estimate_effects",
    "primary_model",
    "subgroup_effects",
]

COLUMNS = [
    "outcome", "arm", "control", "model", "estimate", "std_error", "df", "ci_low", "ci_high",
    "p_value", "p_adjusted", "effect_size", "effect_size_ci_low", "effect_size_ci_high",
    "n_obs", "n_clusters", "primary",
]
SUBGROUP_COLUMNS = [
    "outcome", "arm", "subgroup", "level", "estimate", "std_error", "df", "ci_low", "ci_high",
    "n_obs", "n_clusters", "interaction_p",
]
CLUSTER_RULE = 40

CAUSAL_STATEMENT = {
    "en": (
        "This is a one-group before-after comparison. Children change over a school year for "
        "many reasons (growing up, regression to the mean, getting used to the questionnaire), "
        "so the change cannot be attributed to the program: no causal claim follows."
    ),
    "zh": (
        "这是单组前后测比较。儿童在一个学年中会因多种原因发生变化（成长、向均值回归、熟悉问卷等），"
        "因此不能把变化归因于项目：由此不能得出因果结论。"
    ),
}


def causal_statement(design, lang: str = "en") -> str | None:
    """Plain-words caution for designs that support no causal claim.

    Returns the statement for ``pre_post`` designs and ``None`` otherwise.

    Examples
    --------
    >>> from core.design import Design
    >>> from analysis.effects import causal_statement
    >>> d = Design(type="pre_post", id="id", waves=("t0", "t1"))
    >>> causal_statement(d).endswith("no causal claim follows.")
    True
    """
    if lang not in CAUSAL_STATEMENT:
        raise ValueError("lang must be 'en' or 'zh'")
    return CAUSAL_STATEMENT[lang] if design.type == "pre_post" else None


def primary_model(design, n_clusters: int | None = None) -> str:
    """Name of the primary model for a design (see the module docstring).

    Examples
    --------
    >>> from core.design import Design
    >>> from analysis.effects import primary_model
    >>> d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",))
    >>> primary_model(d, 12), primary_model(d, 60)
    ('ols_cr2', 'mixed_reml')
    >>> primary_model(Design(type="pre_post", id="id", waves=("t0", "t1"), clusters=("class",)))
    'change_cr2'
    """
    if design.type == "pre_post":
        if design.clusters and (n_clusters is None or n_clusters >= 2):
            return "change_cr2"
        return "paired_t"
    if design.clusters:
        return "ols_cr2" if (n_clusters or 0) < CLUSTER_RULE else "mixed_reml"
    return "ancova_hc2"


_default_primary = primary_model


# ---------------------------------------------------------------------------
# result objects (statsmodels / pyfixest style: .tidy() and .summary())
# ---------------------------------------------------------------------------

_ADJUST_TEXT = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "none (p_adj = p)"}
_CR2_MODELS = ("change_cr2", "ols_cr2")


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
    """The result of :func:`estimate_effects`: a table and a readable summary.

    Attributes
    ----------
    design : core.design.Design
        The design the models were fit for.
    alpha : float
        CIs are at level ``1 - alpha``.
    adjust : {"holm", "bh", "none"}
        The multiplicity adjustment of ``p_adjusted``.
    primary_model : str
        The model flagged ``primary`` (see :func:`primary_model`).
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
        Pre/post designs: the caution ``{"en": ..., "zh": ...}`` (:data:`CAUSAL_STATEMENT`).

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

    def tidy(self) -> pd.DataFrame:
        """The effects table: one row per outcome x treatment arm x model (a copy).

        Returns
        -------
        DataFrame
            Columns, in this order (:data:`COLUMNS`):

            ``outcome`` (str)
                Outcome id (the key of the ``outcomes`` mapping, else the column).
            ``arm``, ``control`` (str; ``None`` for a one-group pre/post design)
                Treatment arm and the control arm it is compared with.
            ``model`` (str)
                ``paired_t``, ``change_cr2``, ``ancova_hc2``, ``did``, ``ols_cr2``,
                ``mixed_reml`` or ``cluster_means`` (module docstring).
            ``estimate``, ``std_error`` (float)
                Effect in outcome units (difference in means adjusted for the
                model's regressors; pre/post: the mean change) and its SE.
            ``df`` (float)
                Degrees of freedom of the t reference (``inf``: normal reference).
            ``ci_low``, ``ci_high`` (float)
                ``1 - alpha`` confidence interval.
            ``p_value``, ``p_adjusted`` (float)
                Two-sided p-value; adjusted across the outcomes within each model
                and arm (``adjust``).
            ``effect_size``, ``effect_size_ci_low``, ``effect_size_ci_high`` (float)
                Hedges' g (cluster-adjusted for the cluster models) or, pre/post,
                d_z, with the model's CI on the same scale.
            ``n_obs`` (int)
                Children (rows) in the model after its complete-case selection.
            ``n_clusters`` (float)
                Outermost clusters in the model (NaN without clusters).
            ``primary`` (bool)
                The row of the primary model.

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
        lines = [f"Intervention effects: {d.type} design, {n_out} outcome"
                 f"{'s' if n_out != 1 else ''}, primary model {self.primary_model} (*)",
                 f"{ci} CIs; p_adj: {_ADJUST_TEXT.get(self.adjust, self.adjust)} across the "
                 f"outcomes within each model{'' if one_group else ' and arm'}."]
        for o, a in dict.fromkeys(zip(t["outcome"], t["arm"])):
            blk = t[_same(t["outcome"], o) & _same(t["arm"], a)]
            head = (f"{o}: change {d.baseline} -> {d.endline} (one group)" if one_group
                    else f"{o}: {a} vs {blk['control'].iloc[0]}")
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
            lines += _text_table(rows, left=("model", f"{ci} CI", f"{es} {ci} CI"))
            lines.append("  " + self._counts_line(o, a))
        lines += ["", "Methods:"]
        lines += [ln for m in dict.fromkeys(t["model"])
                  for ln in _wrap(f"{m}: {_model_text(m, d)}", "  ", "    ")]
        notes = self._notes()
        if notes:
            lines += ["", "Notes:"] + _bullets(notes)
        return "\n".join(lines)

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
            rule = _default_primary(d, J)
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
        return notes

    def __repr__(self) -> str:
        return self.summary()

    def __getitem__(self, key):
        raise TypeError(f"{type(self).__name__} is not a table: its table is .tidy() "
                        f"(result.tidy()[{key!r}])")


@dataclass(frozen=True, repr=False, eq=False)
class SubgroupResult:
    """The result of :func:`subgroup_effects`: a table and a readable summary.

    Attributes
    ----------
    design : core.design.Design
        The design the models were fit for.
    subgroup : str
        The subgroup column.
    alpha : float
        CIs are at level ``1 - alpha``.

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

    def tidy(self) -> pd.DataFrame:
        """The subgroup table: one row per outcome x arm x level (a copy).

        Returns
        -------
        DataFrame
            Columns, in this order (:data:`SUBGROUP_COLUMNS`): ``outcome`` (str),
            ``arm`` (str; ``None`` for a one-group pre/post design), ``subgroup``
            (the column name), ``level`` (str), ``estimate``, ``std_error``,
            ``df``, ``ci_low``, ``ci_high`` (float; the level's effect, or mean
            change, from the model named in :func:`subgroup_effects`), ``n_obs``
            (int, children in the level's model), ``n_clusters`` (float, NaN
            without clusters) and ``interaction_p`` (float: p of the HTZ Wald test
            that the effect is the same in every level; the same on every row of
            one outcome and arm; NaN where it is not estimable).

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
        lines = [f"Subgroup effects by {self.subgroup} ({d.type} design), {ci} CIs"]
        what = ("the mean change is the same in every level" if one_group
                else "the arm effect is the same in every level")
        by = f"CR2 clustered by {outer}" if outer else "CR2 with each child its own cluster (HC2)"
        lines += _wrap(f"Interaction: HTZ Wald test ({by}) that {what}.")
        for o, a in dict.fromkeys(zip(t["outcome"], t["arm"])):
            blk = t[_same(t["outcome"], o) & _same(t["arm"], a)]
            head = f"{o}: change (one group)" if one_group else f"{o}: {a} vs {d.control}"
            lines += ["", f"{head}; interaction p = {_fmt_p(blk['interaction_p'].iloc[0])}"]
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


def _outcome_map(outcomes) -> dict[str, str]:
    if isinstance(outcomes, str):
        return {outcomes: outcomes}
    if isinstance(outcomes, Mapping):
        return {str(k): str(v) for k, v in outcomes.items()}
    if isinstance(outcomes, Sequence):
        return {str(c): str(c) for c in outcomes}
    raise ValueError("outcomes must be a column name, a list of columns or a mapping id -> column")


def _check(data: pd.DataFrame, design, cols: dict[str, str]):
    need = [design.id, design.wave, *design.clusters, *design.covariates, *cols.values()]
    if design.arm:
        need.append(design.arm)
    if design.blocks:
        need.append(design.blocks)
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


def _wide(data: pd.DataFrame, design, col: str) -> pd.DataFrame:
    """One row per respondent observed at endline: y, y0 and the design columns."""
    w = data[design.wave].astype(str)
    end = data[w == design.endline]
    if end[design.id].duplicated().any():
        raise ValueError("duplicate respondent ids within the endline wave")
    keep = [design.id, *([design.arm] if design.arm else []), *design.clusters,
            *([design.blocks] if design.blocks else []), *design.covariates, *design.subgroups]
    keep = list(dict.fromkeys(keep))
    out = end[keep].copy()
    out["_y"] = pd.to_numeric(end[col], errors="coerce").to_numpy(dtype=float)
    if design.has_baseline and design.baseline != design.endline:
        base = data[w == design.baseline].drop_duplicates(design.id).set_index(design.id)
        b = base.reindex(out[design.id])
        out["_y0"] = pd.to_numeric(b[col], errors="coerce").to_numpy(dtype=float)
        for c in design.covariates:  # baseline covariates when given
            bc = b[c].to_numpy()
            out[c] = np.where(pd.isna(bc), out[c].to_numpy(), bc)
    return out[out["_y"].notna()].reset_index(drop=True)


def _regressors(df: pd.DataFrame, design, arms: list[str], *, baseline: bool, blocks: bool = True,
                extra: dict[str, np.ndarray] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Design matrix (intercept, arm dummies, baseline, covariates, blocks), complete cases."""
    cols: dict[str, np.ndarray] = {"(Intercept)": np.ones(len(df))}
    for a in arms:
        cols[f"arm[{a}]"] = (df[design.arm].astype(str) == a).to_numpy(dtype=float)
    if extra:
        cols.update(extra)
    if baseline:
        cols["baseline"] = df["_y0"].to_numpy(dtype=float)
    miss = np.zeros(len(df), dtype=bool)
    parts = []
    for c in design.covariates:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            parts.append(pd.DataFrame({c: s.to_numpy(dtype=float)}))
            miss |= s.isna().to_numpy()
        else:
            miss |= s.isna().to_numpy()
            parts.append(pd.get_dummies(s.astype(str).where(s.notna()), prefix=c, prefix_sep="=",
                                        drop_first=True, dtype=float))
    if blocks and design.blocks:
        s = df[design.blocks]
        miss |= s.isna().to_numpy()
        parts.append(pd.get_dummies(s.astype(str), prefix="block", prefix_sep="=", drop_first=True, dtype=float))
    X = pd.concat([pd.DataFrame(cols), *[p.reset_index(drop=True) for p in parts]], axis=1)
    miss |= X.isna().any(axis=1).to_numpy()
    for c in design.clusters:
        miss |= df[c].isna().to_numpy()
    keep = ~miss
    X = X[keep].reset_index(drop=True)
    protected = [c for c in X.columns if c.startswith("arm[")]
    # drop columns that add nothing (constant dummies, collinear blocks/covariates)
    chosen: list[str] = []
    for c in X.columns:
        trial = chosen + [c]
        if np.linalg.matrix_rank(X[trial].to_numpy()) == len(trial):
            chosen.append(c)
        elif c in protected:
            raise ValueError(f"the arm contrast {c} is not estimable (collinear with blocks or covariates)")
    return X[chosen], list(np.flatnonzero(keep))


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
    r = tab.set_index("term").loc[term]
    return float(r["estimate"]), float(r["std_error"]), float(r["df"])


def _fit_models(w: pd.DataFrame, design, outcome: str, arms: list[str], alpha: float) -> list[dict]:
    rows = []
    has_b = "_y0" in w.columns
    outer = design.clusters[0] if design.clusters else None
    X, idx = _regressors(w, design, arms, baseline=has_b)
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
        Xd, idd = _regressors(wd, design, arms, baseline=False)
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
    Xm, im = _regressors(m, plain, arms, baseline=has_b)
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


def estimate_effects(
    data: pd.DataFrame,
    outcomes,
    design,
    *,
    alpha: float = 0.05,
    adjust: str = "holm",
    primary_model: str | None = None,
) -> EffectsResult:
    """Estimate intervention effects for every outcome, treatment arm and model.

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
        Multiplicity adjustment across outcomes within each model and arm;
        ``"none"`` leaves ``p_adjusted`` equal to ``p_value``.
    primary_model : str, optional
        Override the design's primary model (see :func:`primary_model`).

    Returns
    -------
    EffectsResult
        ``.tidy()``: the effects table, one row per outcome x arm x model, with
        the columns ``outcome, arm, control, model, estimate, std_error, df,
        ci_low, ci_high, p_value, p_adjusted, effect_size, effect_size_ci_low,
        effect_size_ci_high, n_obs, n_clusters, primary`` (documented in
        :meth:`EffectsResult.tidy`; ``df`` is inf for a normal reference,
        ``n_clusters`` NaN without clusters). ``.summary()``: a readable text
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
    95% CIs; p_adj: Holm across the outcomes within each model and arm.
    <BLANKLINE>
    score: program vs control
      model         estimate  95% CI               p   p_adj     df      g  g 95% CI          n
      ancova_hc2 *     2.295  [1.042, 3.548]  <0.001  <0.001  197.0  0.218  [0.099, 0.337]  200
      did              2.295  [1.044, 3.546]  <0.001  <0.001  198.0  0.218  [0.099, 0.337]  200
      children with the endline outcome: program 100, control 100
    <BLANKLINE>
    Methods:
      ancova_hc2: OLS of the endline outcome on arm + baseline outcome, HC2 SEs, n - p df
      did: change score (endline - baseline) on arm, HC2 SEs, n - p df
    <BLANKLINE>
    Notes:
      - g = omega x estimate / pooled SD of the endline outcome in the two arms (omega = 1 -
        3/(4N - 9)); its CI is the model's CI on the same scale.
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
        w = _wide(data, design, col)
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
        arm_values = sorted(set(w[design.arm].dropna().astype(str)) - {str(design.control)})
        if str(design.control) not in set(w[design.arm].dropna().astype(str)):
            raise ValueError(f"control arm {design.control!r} not found in {design.arm!r}")
        if not arm_values:
            raise ValueError("no treatment arm besides the control")
        counts += _counts(w, design, oid, [str(design.control), *arm_values])
        new = _fit_models(w, design, oid, arm_values, alpha)
        for r in new:
            factor, adj = _effect_sizes(w, design, r["arm"])
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
    if prim not in set(out["model"]):
        raise ValueError(f"primary model {prim!r} was not fitted for this design")
    out["primary"] = out["model"] == prim
    method = "holm" if adjust == "holm" else "fdr_bh"
    out["p_adjusted"] = np.nan
    for _, idx in out.groupby(["model", out["arm"].fillna("")], sort=False).groups.items():
        p = out.loc[idx, "p_value"].to_numpy(dtype=float)
        ok = np.isfinite(p)
        adj = np.full(len(p), np.nan)
        if ok.any():
            adj[ok] = p[ok] if adjust == "none" else multipletests(p[ok], method=method)[1]
        out.loc[idx, "p_adjusted"] = adj
    out["n_clusters"] = out["n_clusters"].astype(float)
    out = out[COLUMNS]
    one_group = design.type == "pre_post"
    return EffectsResult(out, design=design, alpha=alpha, adjust=adjust, primary_model=prim,
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
) -> SubgroupResult:
    """Effects within the levels of a subgroup and the arm x subgroup interaction test.

    Within each level the design's non-mixed primary model is fit on that level's
    respondents: ``ols_cr2`` for designs with clusters (the subgroup forest plot
    uses CR2 even when the main analysis is ``mixed_reml``), ``ancova_hc2``
    without clusters, for pre-post designs ``change_cr2`` (the mean change with CR2
    at the outermost cluster level, when the level spans at least 2 clusters) or
    else ``paired_t``. The interaction test
    fits ONE model on all respondents with arm dummies, subgroup dummies and
    their products (plus the baseline, covariates and blocks) and tests the
    products with the CR2 Wald test with the HTZ small-sample correction
    (``clubSandwich::Wald_test(test = "HTZ")``), clustered at the outermost level;
    without clusters each respondent is its own cluster (CR2 then equals HC2).
    For pre-post designs the change score is regressed on the subgroup dummies
    and the test is whether the mean change differs between levels.

    Returns
    -------
    SubgroupResult
        ``.tidy()``: one row per outcome x arm x level with the columns
        ``outcome, arm, subgroup, level, estimate, std_error, df, ci_low, ci_high,
        n_obs, n_clusters, interaction_p`` (documented in
        :meth:`SubgroupResult.tidy`; ``interaction_p`` is the same on every row of
        one outcome and arm, NaN where the test is not estimable, e.g. a level
        found in one cluster only). ``.summary()``: a readable text block.

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
    cols = _outcome_map(outcomes)
    _check(data, design, cols)
    if subgroup not in data.columns:
        raise ValueError(f"subgroup column {subgroup!r} not in data")
    d2 = type(design)(type=design.type, id=design.id, wave=design.wave, waves=design.waves,
                      arm=design.arm, control=design.control, clusters=design.clusters,
                      blocks=design.blocks, covariates=design.covariates,
                      subgroups=tuple(dict.fromkeys([*design.subgroups, subgroup])))
    out = []
    for oid, col in cols.items():
        w = _wide(data, d2, col)
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
        arms = sorted(set(w[design.arm].astype(str)) - {str(design.control)})
        has_b = "_y0" in w.columns
        for a in arms:
            wa = w[w[design.arm].astype(str).isin([a, str(design.control)])].reset_index(drop=True)
            extra = {f"lv[{lv}]": (wa[subgroup] == lv).to_numpy(float) for lv in levels[1:]}
            t = (wa[design.arm].astype(str) == a).to_numpy(float)
            extra.update({f"arm x lv[{lv}]": t * (wa[subgroup] == lv).to_numpy(float) for lv in levels[1:]})
            X, idx = _regressors(wa, design, [a], baseline=has_b, extra=extra)
            y = wa["_y"].to_numpy()[idx]
            sub = wa.iloc[idx]
            g = sub[outer].to_numpy() if outer else np.arange(len(y))
            terms = [c for c in X.columns if c.startswith("arm x lv[")]
            pint = _interaction_p((X, y), g, terms) if terms else np.nan
            for lv in levels:
                wl = wa[wa[subgroup] == lv].reset_index(drop=True)
                try:
                    Xl, il = _regressors(wl, design, [a], baseline=has_b)
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
    return SubgroupResult(res[SUBGROUP_COLUMNS], design=design, subgroup=subgroup, alpha=alpha)

"""The rules of the effects analysis: which model is primary, what a design lets one
claim, and the columns of the effects and subgroup tables.

The estimation is :mod:`analysis.effects` (which re-exports every name here); the
result objects and their summaries are :mod:`analysis.effects_result`. The rules:

* Primary model: ``paired_t`` (pre-post), ``change_cr2`` (pre-post with clusters,
  at least 2 outermost clusters); ``did`` for a ``controlled`` design with a baseline
  wave (groups that were not randomized can differ before the program; the
  difference in differences removes a stable difference, under parallel trends);
  otherwise ``ancova_hc2`` without clusters; with clusters
  ``ols_cr2`` when there are fewer than :data:`CLUSTER_RULE` (40) outermost
  clusters, else ``mixed_reml`` (with 40+ clusters the model-based SEs are reliable
  and more efficient; with fewer, CR2 keeps its nominal level -- see
  tests/test_coverage.py).
* What a row estimates (:func:`estimand`, :data:`ESTIMANDS`): an ``effect`` for
  randomized designs, an ``adjusted_difference`` for non-randomized comparisons
  (``controlled``, ``cross_sectional`` with an arm), a ``change`` for a one-group
  ``pre_post`` design.
* A one-group before-after design supports no causal claim
  (:data:`CAUSAL_STATEMENT`, :func:`causal_statement`).
* Multiplicity families (:func:`outcome_families`): the primary outcome(s) form
  the ``primary`` family, the other outcomes the ``secondary`` family; the
  interaction tests of the subgroups of one outcome, model and arm form the
  ``subgroup_interaction`` family.
* :data:`COLUMNS` and :data:`SUBGROUP_COLUMNS` are the columns, in order, of
  ``EffectsResult.tidy()`` and ``SubgroupResult.tidy()``.
"""

from __future__ import annotations

__all__ = [
    "CAUSAL_STATEMENT",
    "CLUSTER_RULE",
    "COLUMNS",
    "CONFOUNDING_STATEMENT",
    "ESTIMANDS",
    "PARALLEL_TRENDS_STATEMENT",
    "SUBGROUP_FAMILY",
    "SUBGROUP_COLUMNS",
    "MODEL_NAMES",
    "causal_statement",
    "estimand",
    "model_label",
    "outcome_families",
    "primary_model",
]

MODEL_NAMES = {
    # code: (short, for figures; long, for tables and sentences)
    "ols_cr2": ({"en": "OLS + CR2", "zh": "普通最小二乘 + CR2"},
                {"en": "OLS with CR2 cluster-robust SE", "zh": "OLS + CR2 聚类稳健标准误"}),
    "ancova_hc2": ({"en": "ANCOVA + HC2", "zh": "协方差分析 + HC2"},
                   {"en": "ANCOVA with HC2 robust SE", "zh": "协方差分析 + HC2 稳健标准误"}),
    "mixed_reml": ({"en": "Mixed model (REML)", "zh": "混合模型（REML）"},
                   {"en": "Mixed model (REML)", "zh": "混合效应模型（REML）"}),
    "cluster_means": ({"en": "Cluster means", "zh": "整群均值分析"},
                      {"en": "Analysis of cluster means", "zh": "整群均值分析"}),
    "did": ({"en": "Difference in differences", "zh": "双重差分"},
            {"en": "Difference in differences", "zh": "双重差分"}),
    "paired_t": ({"en": "Paired t test", "zh": "配对 t 检验"},
                 {"en": "Paired t-test", "zh": "配对 t 检验"}),
    "change_cr2": ({"en": "Mean change + CR2", "zh": "均值变化 + CR2"},
                   {"en": "Pre-post change with CR2 cluster-robust SE",
                    "zh": "前后测变化 + CR2 聚类稳健标准误"}),
}
"""Every model of :mod:`analysis.effects` in words: ``code -> (short, long)``, each
``{"en": ..., "zh": ...}``; the one table that figures and published tables read."""


def model_label(code, lang: str = "en", *, long: bool = False) -> str:
    """A model code in words (``long`` for tables); an unknown code as given.

    Examples
    --------
    >>> model_label("ols_cr2"), model_label("ols_cr2", "zh", long=True), model_label("bayes")
    ('OLS + CR2', 'OLS + CR2 聚类稳健标准误', 'bayes')
    """
    names = MODEL_NAMES.get(str(code))
    if names is None:
        return str(code)
    entry = names[1 if long else 0]
    return entry.get(lang) or entry["en"]

COLUMNS = [
    "outcome", "arm", "control", "model", "estimate", "std_error", "df", "ci_low", "ci_high",
    "p_value", "p_adjusted", "effect_size", "effect_size_ci_low", "effect_size_ci_high",
    "n_obs", "n_clusters", "primary", "estimand", "family", "e_value", "e_value_ci",
]
SUBGROUP_COLUMNS = [
    "outcome", "arm", "subgroup", "level", "estimate", "std_error", "df", "ci_low", "ci_high",
    "n_obs", "n_clusters", "interaction_p", "interaction_p_adjusted", "family",
]
SUBGROUP_FAMILY = "subgroup_interaction"
"""The ``family`` of every row of the subgroup table."""

ESTIMANDS = {
    "effect": {"en": "effect", "zh": "干预效果"},
    "adjusted_difference": {"en": "adjusted difference", "zh": "调整后差异"},
    "change": {"en": "change", "zh": "变化"},
}
"""What a row of the effects table estimates, in words (``estimand`` column)."""
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


CONFOUNDING_STATEMENT = {
    "en": (
        "The groups were not randomized: the difference may reflect how they differed, not "
        "the program. Adjusting for the baseline score and the measured covariates removes "
        "only the differences that were measured."
    ),
    "zh": (
        "各组并非随机分配：这一差异可能反映的是各组本来的不同，而不是项目的作用。"
        "对基线得分和已测协变量的调整只能消除已测量到的差异。"
    ),
}
"""The confounding caveat of an ``adjusted_difference`` (:func:`estimand`)."""

PARALLEL_TRENDS_STATEMENT = {
    "en": (
        "Difference in differences compares the change from baseline to endline between the "
        "groups. It removes any stable difference between them, but it assumes parallel "
        "trends: without the program both groups would have changed by the same amount. If "
        "the groups were on different paths (for example, different ages or schools that "
        "were already improving), the estimate is biased."
    ),
    "zh": (
        "双重差分比较的是各组从基线到终期的变化之差。它能消除各组之间稳定不变的差异，但前提是"
        "“平行趋势”假设：如果没有项目，两组本会发生同样大小的变化。如果两组原本就处在不同的"
        "变化轨迹上（例如年龄不同，或某些学校本来就在进步），估计就会有偏差。"
    ),
}
"""The assumption of the ``did`` model, the primary model of a ``controlled`` design
with a baseline wave."""


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


def estimand(design) -> str:
    """What the effects of a design estimate: ``effect``, ``adjusted_difference`` or ``change``.

    ``effect`` for ``randomized`` and ``cluster_randomized`` designs (randomization
    makes the groups comparable); ``adjusted_difference`` for ``controlled`` designs
    and ``cross_sectional`` designs with an arm (the groups were not randomized: the
    covariate-adjusted difference may reflect how they differed, not the program);
    ``change`` for a one-group ``pre_post`` design (no comparison group at all).

    Examples
    --------
    >>> from core.design import Design
    >>> from analysis.effects import estimand
    >>> estimand(Design(type="pre_post", id="id", waves=("t0", "t1")))
    'change'
    >>> estimand(Design(type="controlled", id="id", arm="arm", control="c"))
    'adjusted_difference'
    >>> estimand(Design(type="cluster_randomized", id="id", arm="arm", control="c",
    ...                 clusters=("school",)))
    'effect'
    """
    if design.type == "pre_post":
        return "change"
    if design.type in ("randomized", "cluster_randomized"):
        return "effect"
    if design.arm is None:
        raise ValueError(f"a {design.type} design without an arm column has no comparison: "
                         "nothing to estimate")
    return "adjusted_difference"


def outcome_families(outcomes, primary=None) -> dict[str, str]:
    """The multiplicity family of each outcome: ``primary`` or ``secondary``.

    Parameters
    ----------
    outcomes : sequence of str
        Outcome ids, in the study's order.
    primary : sequence of str, optional
        The primary outcome ids (``primary: true`` in ``study.yaml``); default, or
        when none of them is in ``outcomes``, the first outcome.

    Returns
    -------
    dict
        ``outcome -> "primary" | "secondary"``.

    Examples
    --------
    >>> from analysis.effects import outcome_families
    >>> outcome_families(["communication", "loneliness", "self_esteem"])
    {'communication': 'primary', 'loneliness': 'secondary', 'self_esteem': 'secondary'}
    >>> outcome_families(["a", "b"], primary=["b"])
    {'a': 'secondary', 'b': 'primary'}
    """
    outcomes = [str(o) for o in outcomes]
    chosen = {str(p) for p in (primary or ())} & set(outcomes)
    if not chosen and outcomes:
        chosen = {outcomes[0]}
    return {o: "primary" if o in chosen else "secondary" for o in outcomes}


def primary_model(design, n_clusters: int | None = None, *, linked: bool = True) -> str:
    """Name of the primary model for a design (the rule of the module docstring).

    Examples
    --------
    >>> from core.design import Design
    >>> from analysis.effects import primary_model
    >>> d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",))
    >>> primary_model(d, 12), primary_model(d, 60)
    ('ols_cr2', 'mixed_reml')
    >>> primary_model(Design(type="pre_post", id="id", waves=("t0", "t1"), clusters=("class",)))
    'change_cr2'
    >>> primary_model(Design(type="controlled", id="id", waves=("t0", "t1"), arm="arm",
    ...                      control="c", clusters=("school",)), 6)
    'did'
    """
    if design.type == "pre_post":
        if design.clusters and (n_clusters is None or n_clusters >= 2):
            return "change_cr2"
        return "paired_t"
    # ``linked=False``: no child was measured at both waves (repeated cross-sections), so
    # there is no change score and the last wave's adjusted difference is primary
    if design.type == "controlled" and design.has_baseline and linked:
        return "did"
    if design.clusters:
        return "ols_cr2" if (n_clusters or 0) < CLUSTER_RULE else "mixed_reml"
    return "ancova_hc2"

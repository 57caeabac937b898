"""The rules of the effects analysis: which model is primary, what a design lets one
claim, and the columns of the effects and subgroup tables.

The estimation is :mod:`analysis.effects` (which re-exports every name here); the
result objects and their summaries are :mod:`analysis.effects_result`. The rules:

* Primary model: ``paired_t`` (pre-post), ``change_cr2`` (pre-post with clusters,
  at least 2 outermost clusters); ``ancova_hc2`` without clusters; with clusters
  ``ols_cr2`` when there are fewer than :data:`CLUSTER_RULE` (40) outermost
  clusters, else ``mixed_reml`` (with 40+ clusters the model-based SEs are reliable
  and more efficient; with fewer, CR2 keeps its nominal level -- see
  tests/test_coverage.py).
* A one-group before-after design supports no causal claim
  (:data:`CAUSAL_STATEMENT`, :func:`causal_statement`).
* :data:`COLUMNS` and :data:`SUBGROUP_COLUMNS` are the columns, in order, of
  ``EffectsResult.tidy()`` and ``SubgroupResult.tidy()``.
"""

from __future__ import annotations

__all__ = [
    "CAUSAL_STATEMENT",
    "CLUSTER_RULE",
    "COLUMNS",
    "SUBGROUP_COLUMNS",
    "MODEL_NAMES",
    "causal_statement",
    "model_label",
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
    """
    if design.type == "pre_post":
        if design.clusters and (n_clusters is None or n_clusters >= 2):
            return "change_cr2"
        return "paired_t"
    if design.clusters:
        return "ols_cr2" if (n_clusters or 0) < CLUSTER_RULE else "mixed_reml"
    return "ancova_hc2"

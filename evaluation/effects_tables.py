"""The tables and words of the effects page (``03_effects``): means by arm and wave, the
effect (adjusted difference, change) of every outcome x arm x model, and the subgroup
effects (forest-plot data).

The statistics are :func:`analysis.effects.estimate_effects` and
:func:`analysis.effects.subgroup_effects`; this module chooses the data they see (the last
wave of a cross-sectional design, no tiny arm), passes the study's primary outcomes (the
``primary`` multiplicity family) and ``analysis.adjust``, adjusts the subgroup interaction
tests of all subgroups together (:func:`analysis.effects.adjust_interactions`) and adds
``n_smallest_arm``, the count small-cell suppression applies to
(:mod:`evaluation.small_cells`).

The page's words follow what the design estimates (``estimand``): "变化 · Change" for a
one-group pre/post study (never an effect), "调整后差异 · Adjusted differences" with the
confounding caveat (and the parallel-trends assumption of the difference in differences)
for a non-randomized comparison, "干预效果 · Intervention effects" for a randomized one.
Every paragraph is in both languages (:func:`bilingual`: the run's language first):
:func:`page_title`, :func:`page_intro`, :func:`design_caveats`, :func:`section_heading`,
:func:`multiplicity_text` (which family each adjusted p belongs to, and its size),
:func:`evalue_text` (the primary estimate's E-value), :func:`subgroup_text`. The published
tables: :func:`effects_published` and :func:`subgroups_published`
(:class:`evaluation.published_table.PublishedTable`); :func:`figure_labels` gives the
figures the study's labels.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analysis import describe
from evaluation.labels import bilingual as _labels_bilingual
from evaluation.small_cells import _tiny_arms, merge_rare_categories


def means_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Means by arm x wave with CIs (``tables/means.csv``), outcomes named by id.

    Columns of :func:`analysis.describe.describe_by_arm_wave`; in clustered designs
    also ``n_clusters`` and ``df``.
    """
    d = study.design
    cols = {o.column_name: o.id for o in study.outcomes}
    # respondents of one school are not independent: with clusters, the intervals are
    # cluster-robust (CR2, clustered at the outermost level, Satterthwaite df)
    out = describe.describe_by_arm_wave(scores, list(cols), arm=d.arm, wave=d.wave,
                                        waves=list(d.waves),
                                        cluster=d.clusters[0] if d.clusters else None)
    out["outcome"] = out["outcome"].map(cols).fillna(out["outcome"])
    return out


def primary_outcomes(study) -> list[str]:
    """The ids of the study's primary outcomes (``primary: true``; the loader makes the
    first outcome primary when none is), the ``primary`` multiplicity family."""
    return [o.id for o in study.outcomes if getattr(o, "primary", False)]


def _effects_design(study, scores: pd.DataFrame):
    """The design and data the effect models see.

    A cross-sectional design surveys different respondents at each wave: with
    several waves the arms are compared at the last one, without a baseline score
    (the models of :func:`analysis.effects.estimate_effects` "without a baseline").
    """
    d = study.design
    if d.type == "cross_sectional" and d.has_baseline:
        end = scores.loc[scores[d.wave].astype(str) == d.endline]
        return dataclasses.replace(d, waves=(d.endline,)), end
    return d, scores


def effects_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Every outcome x arm x model of the design (``tables/effects.csv``).

    See :func:`analysis.effects.estimate_effects`; outcomes are named by their id.
    ``p_adjusted`` follows ``analysis.adjust``: Holm, Benjamini-Hochberg, or with
    ``none`` the unadjusted p-value. Cross-sectional designs with several waves are
    compared at the last wave (:func:`section_caveat`). Adds ``n_smallest_arm``, the
    count small-cell suppression applies to (:func:`_effects_smallest_arm`): ``n_obs``
    counts both arms, so an arm of one child next to 60 controls would pass. An arm of
    fewer than ``privacy.min_cell`` children at the last wave is not modelled (nor in
    the multiplicity adjustment): it gets one row per outcome and model without
    estimates, whose ``n_smallest_arm`` (its size) is then suppressed.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> rng = np.random.default_rng(2)
    >>> arm = np.repeat(["c", "t"], 30)
    >>> data = pd.DataFrame({"id": range(60), "wave": "w", "arm": arm,
    ...                      "a": rng.normal(size=60), "b": rng.normal(size=60)})
    >>> study = NS(design=Design(type="randomized", id="id", waves=("w",), arm="arm",
    ...                          control="c"),
    ...            outcomes=[NS(id="a", column_name="a"), NS(id="b", column_name="b")],
    ...            analysis=NS(alpha=0.05, adjust="none"))
    >>> res = effects_table(study, data)
    >>> bool((res["p_adjusted"] == res["p_value"]).all())
    True
    """
    from analysis.effects import estimand, estimate_effects, outcome_families

    outcomes = {o.id: o.column_name for o in study.outcomes}
    adjust = study.analysis.adjust
    design, data = _effects_design(study, scores)
    tiny, sizes = set(), {}
    if design.arm and design.arm in data.columns:
        last = data.loc[data[design.wave].astype(str) == str(design.waves[-1])]
        last = last.drop_duplicates(subset=[design.id]) if design.id in last else last
        tiny = _tiny_arms(study, last) - {design.control}
        sizes = last.groupby(design.arm).size()
    # an arm of fewer than min_cell children (a typo such as `treatmnet`) is not modelled:
    # its estimates could not be published, and its models may not even be defined
    fitted = data.loc[~data[design.arm].isin(tiny)] if tiny else data
    res = estimate_effects(fitted, outcomes, design, alpha=study.analysis.alpha,
                           adjust=adjust, primary_outcomes=primary_outcomes(study)).tidy()
    res = res.assign(n_smallest_arm=_effects_smallest_arm(design, fitted, outcomes, res))
    if tiny:
        models = res.drop_duplicates(subset=["outcome", "model"])[["outcome", "model",
                                                                     "primary"]]
        if models.empty:
            models = pd.DataFrame({"outcome": list(outcomes), "model": "", "primary": True})
        fam = outcome_families(list(outcomes), primary_outcomes(study))
        extra = [{"outcome": m.outcome, "arm": a, "control": design.control, "model": m.model,
                  "primary": m.primary, "estimand": estimand(design),
                  "family": fam.get(m.outcome), "n_smallest_arm": float(sizes[a])}
                 for a in sorted(tiny, key=str) for m in models.itertuples(index=False)]
        res = pd.concat([res, pd.DataFrame(extra)], ignore_index=True)
    return res


_USES_BASELINE = ("ancova_hc2", "ols_cr2", "mixed_reml", "did")
"""Models whose children need the baseline score (a regressor, or in the change score)."""


def _effects_smallest_arm(design, data: pd.DataFrame, outcomes: dict,
                          res: pd.DataFrame) -> list[float]:
    """Per effects row: the analysed children of the smaller of its two arms.

    ``n_obs`` counts both arms (and, for some models, both waves), so an arm of one
    child next to a control arm of 60 would pass as 61; this is the count small-cell
    suppression of ``tables/effects.csv`` is applied to. Children count when they have
    the outcome at the last wave and, for the models that use the baseline score (all
    but ``cluster_means``), at the first wave too. One-group designs: ``n_obs``.
    """
    if res.empty:
        return []
    if not design.arm or design.arm not in data.columns:
        return [float(x) for x in res["n_obs"]]
    last = data.loc[data[design.wave].astype(str) == str(design.waves[-1])] \
        if design.wave in data.columns else data
    first = data.loc[data[design.wave].astype(str) == str(design.waves[0])] \
        if design.has_baseline and design.wave in data.columns else None
    out = []
    by_sample: dict = {}  # (outcome column, both waves needed) -> children per arm
    for r in res.itertuples(index=False):
        col = outcomes.get(r.outcome, r.outcome)
        both = bool(r.model in _USES_BASELINE and first is not None and col in first.columns)
        if (col, both) not in by_sample:
            sub = last.loc[last[col].notna()] if col in last.columns else last
            if both:
                # the baseline score is a regressor (or the change score the outcome): only
                # the children with both waves are in the model
                # (Index.get_indexer, not Series.isin: isin of text ids looks each one up
                # in Python, ~5 ms per outcome; the same rows)
                known = pd.Index(first.loc[first[col].notna(), design.id]).unique()
                sub = sub.loc[known.get_indexer(sub[design.id]) >= 0]
            key = design.id if design.id in sub.columns else None
            by_sample[(col, both)] = (sub.groupby(design.arm)[key].nunique() if key
                                      else sub.groupby(design.arm).size())
        counts = by_sample[(col, both)]
        arms = [a for a in (r.arm, design.control) if a is not None and not pd.isna(a)]
        out.append(float(min(counts.get(a, 0) for a in arms)) if arms else float(r.n_obs))
    return out


def subgroup_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Per-subgroup effects and interaction tests (``tables/subgroups.csv``), forest-plot data.

    Adds ``n_smallest_arm``: the smallest number of analysed respondents of one arm
    within the level (the count small-cell suppression is applied to; where the model
    is a change score, pre/post or a controlled design's difference in differences,
    only the children with both waves count). Levels held by
    fewer than ``privacy.min_cell`` children are merged first
    (:func:`merge_rare_categories`). An arm with fewer than ``min_cell`` children at
    the last wave (a typo such as ``treatmnet``) is not split into subgroups: it gets
    one row per outcome and subgroup, ``level`` empty and no estimate, whose
    ``n_smallest_arm`` (its size) is then suppressed.
    """
    from analysis.effects import adjust_interactions, primary_model, subgroup_effects

    d, scores = _effects_design(study, merge_rare_categories(study, scores))
    outcomes = {o.id: o.column_name for o in study.outcomes}
    frames = []
    end = scores.loc[scores[d.wave] == d.endline]
    last = end.drop_duplicates(subset=[d.id]) if d.id in end else end
    tiny = _tiny_arms(study, last)
    sizes = last.groupby(d.arm).size() if tiny else {}
    if tiny:  # the subgroup models of an arm of one child cannot be fitted, nor published
        scores = scores.loc[~scores[d.arm].isin(tiny)]
        end = end.loc[~end[d.arm].isin(tiny)]
    paired = {}  # outcome column -> ids with the baseline outcome, where the model is a change
    if d.has_baseline and (d.type == "pre_post" or primary_model(d) == "did"):
        base = scores.loc[scores[d.wave].astype(str) == str(d.baseline)]
        paired = {c: set(base.loc[base[c].notna(), d.id]) for c in outcomes.values()
                  if c in base.columns}
    built: dict = {}  # the endline frames of the outcomes, shared by the subgroups
    for sg in d.subgroups:
        if sg not in scores.columns:
            continue
        res = subgroup_effects(scores, outcomes, d, sg, alpha=study.analysis.alpha,
                               adjust=study.analysis.adjust, frames=built).tidy()
        if tiny and d.arm:
            res = pd.concat([res, pd.DataFrame(
                [{"outcome": o, "arm": a, "control": d.control, "subgroup": sg, "level": "",
                  "n_smallest_arm": int(sizes[a])} for o in outcomes for a in sorted(tiny)])],
                ignore_index=True)
        if res.empty:
            continue
        smallest = []
        level = end[sg].astype(str).to_numpy()
        arm = end[d.arm].to_numpy() if d.arm else None
        answered: dict = {}  # outcome column -> the children who count (answered, paired)
        for r in res.itertuples():
            if r.arm in tiny:
                smallest.append(int(r.n_smallest_arm))
                continue
            col = outcomes.get(r.outcome, r.outcome)
            if col not in answered:
                ok = end[col].notna().to_numpy()
                if col in paired:  # a change score: only the children with both waves count
                    ok = ok & end[d.id].isin(paired[col]).to_numpy()
                answered[col] = ok
            sub = answered[col] & (level == str(r.level))
            if d.arm:
                arms = [a for a in (r.arm, d.control) if a is not None]
                smallest.append(int(min(np.count_nonzero(sub & (arm == a)) for a in arms)))
            else:
                smallest.append(int(np.count_nonzero(sub)))
        res = res.assign(n_smallest_arm=smallest)
        frames.append(res)
    if not frames:
        return pd.DataFrame(columns=["outcome", "arm", "subgroup", "level", "estimate",
                                     "std_error", "df", "ci_low", "ci_high", "n_obs",
                                     "n_clusters", "interaction_p", "interaction_p_adjusted",
                                     "family", "n_smallest_arm"])
    # the interaction tests of every subgroup of one outcome and arm: one family
    return adjust_interactions(pd.concat(frames, ignore_index=True), study.analysis.adjust)


# --- the page's words -------------------------------------------------------------------------
#
# Every paragraph of the effects page in both languages (the same content), chosen by what
# the design lets the page claim (``estimand``: effect, adjusted_difference or change).

PAGE_TITLES = {
    "effect": {"en": "Intervention effects", "zh": "干预效果"},
    "adjusted_difference": {"en": "Adjusted differences", "zh": "调整后差异"},
    "change": {"en": "Change", "zh": "变化"},
}
"""The page's title by estimand (:func:`analysis.effects_rules.estimand`)."""

_INTRO = {
    "effect": {
        "en": ("Every outcome × treatment arm with the design's models, in the outcome's own "
               "units and as a standardized effect size (Hedges' g; for clustered designs with "
               "the What Works Clearinghouse / Hedges 2007 cluster adjustment). The groups were "
               "randomized, so a difference between them estimates the program's effect. The "
               "**primary** model is chosen by the design before looking at the data: with "
               "fewer than 40 clusters, OLS ANCOVA with CR2 cluster-robust standard errors and "
               "Bell–McCaffrey degrees of freedom (ordinary cluster-robust errors are too small "
               "with few schools); with 40 or more, the REML mixed model; without clusters, "
               "ANCOVA with HC2 robust standard errors."),
        "zh": ("对每个结局和每个干预组，按设计给出的各个模型估计效果，既用结局本身的单位，也用标准化效应量"
               "（Hedges' g；整群设计按 What Works Clearinghouse / Hedges 2007 做整群校正）。各组是随机"
               "分配的，所以组间差异估计的是项目的效果。**主要**模型在看数据之前由设计决定：整群少于 40 个"
               "时，用带 CR2 聚类稳健标准误和 Bell–McCaffrey 自由度的 OLS 协方差分析（学校少时，普通聚类"
               "稳健标准误偏小）；40 个及以上时，用 REML 混合模型；没有整群时，用 HC2 稳健标准误的协方差"
               "分析。"),
    },
    "adjusted_difference": {
        "en": ("Every outcome × group comparison, in the outcome's own units and as a "
               "standardized difference (Hedges' g). The groups were **not randomized**, so "
               "these are adjusted differences, not program effects: they compare the groups "
               "after adjusting for what was measured. The **primary** model is chosen by the "
               "design before looking at the data: with a baseline wave, the difference in "
               "differences (the change from baseline to endline compared between the groups); "
               "without one, the covariate-adjusted comparison at the last wave (CR2 "
               "cluster-robust standard errors with Bell–McCaffrey degrees of freedom when "
               "there are clusters, else HC2)."),
        "zh": ("对每个结局和每组比较，既用结局本身的单位，也用标准化差异（Hedges' g）给出结果。各组**不是"
               "随机分配**的，所以这些是调整后差异，而不是项目效果：它们是在调整了已测变量之后对各组的"
               "比较。**主要**模型在看数据之前由设计决定：有基线时用双重差分（比较两组从基线到终期的变化）；"
               "没有基线时，用末次测量时经协变量调整的比较（有整群时用 CR2 聚类稳健标准误和 "
               "Bell–McCaffrey 自由度，否则用 HC2）。"),
    },
    "change": {
        "en": ("One group of children was measured before and after the program. For every "
               "outcome the page shows the **mean change** of the same children from the first "
               "to the last wave, in the outcome's own units and as a standardized change "
               "(d_z: mean change / SD of the change). When the study declares clusters "
               "(classes, schools), the **primary** test of the mean change uses CR2 "
               "cluster-robust standard errors at the outermost cluster level with "
               "Bell–McCaffrey degrees of freedom; the paired t test, which treats the children "
               "as independent, is shown beside it. A change is not an effect of the program."),
        "zh": ("同一组儿童在项目前后各测量了一次。对每个结局，本页给出同一批儿童从首次到末次测量的"
               "**平均变化**，既用结局本身的单位，也用标准化变化量（d_z：平均变化 / 变化的标准差）。研究"
               "声明了整群（班级、学校）时，**主要**检验在最外层整群上使用 CR2 聚类稳健标准误和 "
               "Bell–McCaffrey 自由度；把儿童当作相互独立的配对 t 检验列在旁边。变化不是项目的效果。"),
    },
}

_EVALUE_TEXT = {
    "en": ("E-value of {what}: {e} (for its 95% CI: {e_ci}). An unmeasured confounder would "
           "need to be associated with both group and outcome by a risk ratio of {e} to explain "
           "away the estimate{ci_clause}."),
    "zh": ("{what}的 E 值为 {e}（95% 置信区间的 E 值为 {e_ci}）：一个未测量的混杂因素需要与分组和结局"
           "都有风险比至少为 {e} 的关联，才能完全解释掉这一估计{ci_clause}。"),
    "ci_en": ", and by {e_ci} to move its confidence interval to include 0",
    "ci_zh": "；风险比为 {e_ci} 的关联即可使置信区间包含 0",
    "ci_null_en": "; its confidence interval already includes 0",
    "ci_null_zh": "；其置信区间已经包含 0",
    "randomized_en": ("The groups were randomized, which guards against confounding by design; "
                      "the E-value is given for comparison with non-randomized studies."),
    "randomized_zh": "各组是随机分配的，设计本身已防止混杂；此处给出 E 值，便于与非随机研究比较。",
}

_SUBGROUP_TEXT = {
    "arms": {
        "en": ("{what} within each subgroup level, and the arm × subgroup interaction test "
               "(CR2 Wald test with the HTZ small-sample correction): does the {noun} differ "
               "between the levels? Subgroup analyses are exploratory: with several subgroups "
               "some interaction p-values are small by chance. Levels with fewer than "
               "{k} children in an arm are suppressed."),
        "zh": ("各亚组水平内的{what}，以及组别 × 亚组的交互作用检验（带 HTZ 小样本校正的 CR2 Wald "
               "检验）：{noun}在各水平之间是否不同？亚组分析是探索性的：亚组较多时，总会有一些交互作用 "
               "p 值偶然偏小。某组人数少于 {k} 人的水平已隐去。"),
    },
    "change": {
        "en": ("The mean change within each subgroup level, and a test of whether the mean "
               "change differs between the levels (CR2 Wald test with the HTZ small-sample "
               "correction). This describes which children changed more; without a comparison "
               "group it says nothing about whom the program helped more. Subgroup analyses are "
               "exploratory: with several subgroups some p-values are small by chance. Levels "
               "with fewer than {k} children are suppressed."),
        "zh": ("各亚组水平内的平均变化，以及平均变化在各水平之间是否不同的检验（带 HTZ 小样本校正的 "
               "CR2 Wald 检验）。这只描述哪些儿童变化更大；没有对照组，它不能说明项目对谁帮助更大。亚组"
               "分析是探索性的：亚组较多时，总会有一些 p 值偶然偏小。人数少于 {k} 人的水平"
               "已隐去。"),
    },
    "what": {"effect": {"en": "The effect", "zh": "干预效果", "noun_en": "effect",
                        "noun_zh": "效果"},
             "adjusted_difference": {"en": "The adjusted difference between the groups "
                                           "(covariate-adjusted comparison at the last wave)",
                                     "zh": "组间调整后差异（末次测量时经协变量调整的比较）",
                                     "noun_en": "difference", "noun_zh": "组间差异"},
             "did": {"en": "The difference in differences (the change from baseline to "
                           "endline compared between the groups, as the primary model)",
                     "zh": "双重差分（两组从基线到终期的变化之差，与主要模型相同）",
                     "noun_en": "difference", "noun_zh": "组间差异"}},
    "family": {
        "en": ("Interaction p adjusted: {method} across the {n} interaction tests of each "
               "outcome{per_arm} (one per subgroup: {subgroups}), their own family, separate "
               "from the outcomes' families."),
        "zh": ("校正交互 p：对每个结局{per_arm}的 {n} 个交互作用检验（每个亚组一个：{subgroups}）"
               "做 {method} 校正，它们自成一族，与结局的检验族分开。"),
        "none_en": ("Interaction p-values are not adjusted (analysis.adjust: none); the {n} "
                    "interaction tests of each outcome{per_arm} ({subgroups}) form one family."),
        "none_zh": ("交互作用 p 值未做校正（analysis.adjust: none）；每个结局{per_arm}的 {n} 个交互作用"
                    "检验（{subgroups}）为一族。"),
    },
    "family_change": {
        "en": ("Adjusted p: {method} across the {n} tests of each outcome of whether the mean "
               "change differs between the levels (one per subgroup: {subgroups}), their own "
               "family, separate from the outcomes' families."),
        "zh": ("校正 p：对每个结局检验“各水平平均变化是否相同”的 {n} 个检验（每个亚组一个：{subgroups}）"
               "做 {method} 校正，它们自成一族，与结局的检验族分开。"),
        "none_en": ("These p-values are not adjusted (analysis.adjust: none); the {n} tests of "
                    "each outcome ({subgroups}) form one family."),
        "none_zh": "这些 p 值未做校正（analysis.adjust: none）；每个结局的 {n} 个检验（{subgroups}）为一族。",
    },
}

_METHOD = {"holm": {"en": "Holm", "zh": "Holm"},
           "bh": {"en": "Benjamini–Hochberg", "zh": "Benjamini–Hochberg"}}


def _estimand(study) -> str:
    from analysis.effects import estimand

    d = study.design
    if d.type != "pre_post" and d.arm is None:
        return "effect"  # a survey without groups: the page says it does not apply
    return estimand(d)


def page_title(study, lang: str | None = None) -> str:
    """The effects page's title: ``"变化 · Change"`` (both languages, the run's first) or,
    with ``lang``, that language's only.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> s = NS(design=Design(type="pre_post", id="id", waves=("t0", "t1")), language="zh")
    >>> page_title(s), page_title(s, "en")
    ('变化 · Change', 'Change')
    """
    t = PAGE_TITLES[_estimand(study)]
    if lang is not None:
        return t[lang]
    first = getattr(study, "language", "zh")
    first = first if first in ("en", "zh") else "zh"
    return f"{t[first]} · {t['zh' if first == 'en' else 'en']}"


bilingual = _labels_bilingual  # one rule for every page (evaluation.labels.bilingual)


def page_intro(study) -> dict:
    """What the page shows and why its primary model, ``{"en": ..., "zh": ...}``, ending
    with what the models adjust for (:func:`adjustment_text`)."""
    text = dict(_INTRO[_estimand(study)])
    adj = adjustment_text(study)
    if adj:
        text = {"en": f"{text['en']} {adj['en']}", "zh": text["zh"] + adj["zh"]}
    return text


def adjustment_text(study) -> dict | None:
    """What the comparison models adjust for, named as the study names its columns:
    the baseline score (subtracted by a difference in differences), the covariates and
    the randomization blocks (fixed effects); ``None`` for a one-group change.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> d = Design(type="cluster_randomized", id="id", arm="arm", control="c",
    ...            waves=("pre", "post"), clusters=("school",), covariates=("age",),
    ...            blocks="county")
    >>> s = NS(design=d, column_label=lambda c, lang: {"age": "age", "county": "county"}[c])
    >>> adjustment_text(s)["en"]
    'The models adjust for the baseline score, age and county (randomization blocks, fixed effects).'
    """
    from analysis.effects_rules import primary_model

    d = study.design
    if _estimand(study) == "change":
        return None
    did = primary_model(d) == "did"
    baseline = d.has_baseline and d.baseline != d.endline
    out = {}
    for lg in ("en", "zh"):
        parts = [] if did or not baseline else (["the baseline score"] if lg == "en"
                                                 else ["基线得分"])
        parts += [study.column_label(c, lg) for c in d.covariates]
        if d.blocks:
            name = study.column_label(d.blocks, lg)
            parts.append(f"{name} (randomization blocks, fixed effects)" if lg == "en"
                         else f"{name}（随机化区组，固定效应）")
        if lg == "en":
            listed = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else \
                (parts[0] if parts else "")
            head = ("The difference in differences subtracts each child's baseline score"
                    if did else "")
            if did and listed:
                out[lg] = f"{head} and adjusts for {listed}."
            elif did:
                out[lg] = f"{head}; it adjusts for nothing else."
            else:
                out[lg] = (f"The models adjust for {listed}." if listed
                           else "The models adjust for nothing (no covariates declared).")
        else:
            listed = "、".join(parts)
            head = "双重差分减去每名儿童的基线得分" if did else ""
            if did:
                out[lg] = f"{head}，并调整{listed}。" if listed else f"{head}，不调整其他变量。"
            else:
                out[lg] = f"模型调整了{listed}。" if listed else "模型未调整任何变量（未声明协变量）。"
    return out


def design_caveats(study) -> list[dict]:
    """The cautions the design calls for, each ``{"en": ..., "zh": ...}``: the one-group
    caution (pre/post), the confounding caveat (not randomized) and, when the difference
    in differences is primary, its parallel-trends assumption."""
    from analysis.effects_rules import (
        CAUSAL_STATEMENT,
        CONFOUNDING_STATEMENT,
        PARALLEL_TRENDS_STATEMENT,
        primary_model,
    )

    kind = _estimand(study)
    if kind == "change":
        return [dict(CAUSAL_STATEMENT)]
    if kind == "adjusted_difference":
        out = [dict(CONFOUNDING_STATEMENT)]
        if primary_model(study.design) == "did":
            out.append(dict(PARALLEL_TRENDS_STATEMENT))
        return out
    return []


def _labels(study):
    from evaluation.labels import study_labels

    return study_labels(study)


def _outcome_name(study, oid, lang, labels=None) -> str:
    if labels is not None:
        text = labels("outcome", oid, lang)
        if text:
            return str(text)
    return str(oid)


def _arm_name(study, arm, lang) -> str:
    fn = getattr(study, "label", None)
    return str(fn("arm", arm, lang)) if fn else str(arm)


def _join(names: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(names)


def _primary_rows(effects: pd.DataFrame) -> pd.DataFrame:
    if effects is None or effects.empty or "primary" not in effects:
        return pd.DataFrame(columns=list(getattr(effects, "columns", [])))
    prim = effects["primary"].astype(str).str.strip().str.lower().isin(("true", "1"))
    return effects[prim]


def _family_members(effects: pd.DataFrame) -> dict[str, list[str]]:
    """``family -> outcomes`` among the primary model's rows that were tested (a p-value,
    or a suppressed one)."""
    rows = _primary_rows(effects)
    if rows.empty or "family" not in rows:
        return {}
    tested = rows["p_value"].notna()
    if "suppressed" in rows:
        tested |= rows["suppressed"].astype(str).str.lower().isin(("true", "1"))
    rows = rows[tested]
    out: dict[str, list[str]] = {}
    for fam in ("primary", "secondary"):
        out[fam] = list(dict.fromkeys(rows.loc[rows["family"] == fam, "outcome"].astype(str)))
    return {k: v for k, v in out.items() if v}


def multiplicity_text(study, effects: pd.DataFrame) -> dict:
    """Which family each adjusted p belongs to and how many tests it holds.

    E.g. "Adjusted p: the primary outcome (Communication) is a family of one test, so its
    adjusted p equals its p-value; Holm across the 2 secondary outcomes (...)".

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> s = NS(design=Design(type="randomized", id="id", arm="arm", control="c"),
    ...        analysis=NS(adjust="holm"), outcomes=[], label=lambda c, v, lang: v)
    >>> fx = pd.DataFrame({"outcome": ["a", "b", "c"], "arm": "t", "primary": True,
    ...                    "family": ["primary", "secondary", "secondary"], "p_value": 0.01})
    >>> multiplicity_text(s, fx)["en"]  # doctest: +NORMALIZE_WHITESPACE
    'Adjusted p: the primary outcome (a) is a family of one test, so its adjusted p equals its
    p-value; Holm across the 2 secondary outcomes (b, c), within each model and comparison.'
    """
    adjust = str(study.analysis.adjust)
    fams = _family_members(effects)
    labels = _labels(study) if hasattr(study, "instrument") else None
    each = {"en": "" if study.design.type == "pre_post" else ", within each model and comparison",
            "zh": "" if study.design.type == "pre_post" else "（每个模型、每组比较分别校正）"}
    out = {}
    for lang in ("en", "zh"):
        names = {f: _join([_outcome_name(study, o, lang, labels) for o in v], lang)
                 for f, v in fams.items()}
        if adjust == "none":
            parts = [(f"{len(v)} {'primary' if f == 'primary' else 'secondary'} outcome"
                      f"{'s' if len(v) != 1 else ''} ({names[f]})") if lang == "en" else
                     f"{'主要' if f == 'primary' else '次要'}结局 {len(v)} 个（{names[f]}）"
                     for f, v in fams.items()]
            out[lang] = ("No multiplicity adjustment (analysis.adjust: none): the adjusted p "
                         "equals the p-value. Families: " + "; ".join(parts) + "."
                         if lang == "en" else
                         "未做多重比较校正（analysis.adjust: none）：校正 p 即原 p 值。检验族："
                         + "；".join(parts) + "。")
            continue
        method = _METHOD.get(adjust, {"en": adjust, "zh": adjust})[lang]
        parts = []
        for f, v in fams.items():
            word = {"primary": ("primary", "主要"), "secondary": ("secondary", "次要")}[f]
            if len(v) == 1:
                parts.append(f"the {word[0]} outcome ({names[f]}) is a family of one test, so "
                             "its adjusted p equals its p-value" if lang == "en" else
                             f"{word[1]}结局（{names[f]}）单独为一族，只有 1 项检验，其校正 p 即原 p 值")
            else:
                parts.append(f"{method} across the {len(v)} {word[0]} outcomes ({names[f]})"
                             if lang == "en" else
                             f"{len(v)} 个{word[1]}结局（{names[f]}）之间做 {method} 校正")
        if not parts:
            out[lang] = ""
        elif lang == "en":
            out[lang] = "Adjusted p: " + "; ".join(parts) + each["en"] + "."
        else:
            out[lang] = "校正 p：" + "；".join(parts) + each["zh"] + "。"
    return out


def evalue_text(study, effects: pd.DataFrame) -> dict | None:
    """The E-value of each primary estimate of the primary outcome(s), in one paragraph
    per language (``None`` for a one-group change or when none can be shown)."""
    kind = _estimand(study)
    if kind == "change" or effects is None or "e_value" not in effects:
        return None
    rows = _primary_rows(effects)
    if "family" in rows:
        rows = rows[rows["family"] == "primary"]
    rows = rows[pd.to_numeric(rows["e_value"], errors="coerce").notna()]
    if rows.empty:
        return None
    labels = _labels(study) if hasattr(study, "instrument") else None
    multi = rows["arm"].nunique() > 1
    out = {}
    for lang in ("en", "zh"):
        said = []
        for r in rows.itertuples(index=False):
            name = _outcome_name(study, r.outcome, lang, labels)
            if multi:
                vs = " vs " if lang == "en" else " 对 "
                name += (f" ({_arm_name(study, r.arm, lang)}{vs}"
                         f"{_arm_name(study, r.control, lang)})" if lang == "en" else
                         f"（{_arm_name(study, r.arm, lang)}{vs}{_arm_name(study, r.control, lang)}）")
            what = (f"the primary estimate for {name}" if lang == "en" else f"{name}的主要估计")
            e, e_ci = float(r.e_value), float(r.e_value_ci)
            clause = (_EVALUE_TEXT[f"ci_null_{lang}"] if e_ci <= 1.0 + 1e-12
                      else _EVALUE_TEXT[f"ci_{lang}"].format(e_ci=f"{e_ci:.2f}"))
            said.append(_EVALUE_TEXT[lang].format(what=what, e=f"{e:.2f}", e_ci=f"{e_ci:.2f}",
                                                  ci_clause=clause))
        if kind == "effect":
            said.append(_EVALUE_TEXT[f"randomized_{lang}"])
        out[lang] = " ".join(said) if lang == "en" else "".join(said)
    return out


def subgroup_text(study, subgroups: pd.DataFrame | None = None, *, family: bool = False) -> dict:
    """What the subgroup section shows, fitted to the design; with ``family`` also the
    family of its adjusted interaction p-values (:func:`subgroup_family_text`, which the
    table's footnote says)."""
    kind = _estimand(study)
    k = int(getattr(getattr(study, "privacy", None), "min_cell", 5) or 5)
    if kind == "change":
        text = {lg: t.format(k=k) for lg, t in _SUBGROUP_TEXT["change"].items()}
    else:
        from analysis.effects_rules import primary_model

        did = kind == "adjusted_difference" and primary_model(study.design) == "did"
        w = _SUBGROUP_TEXT["what"]["did" if did else kind]
        text = {"en": _SUBGROUP_TEXT["arms"]["en"].format(what=w["en"], noun=w["noun_en"], k=k),
                "zh": _SUBGROUP_TEXT["arms"]["zh"].format(what=w["zh"], noun=w["noun_zh"], k=k)}
    fam = subgroup_family_text(study, subgroups) if family else None
    if fam:
        text = {"en": f"{text['en']} {fam['en']}", "zh": text["zh"] + fam["zh"]}
    return text


def subgroup_family_text(study, subgroups: pd.DataFrame | None) -> dict | None:
    """The family of the adjusted interaction p-values and how many tests it holds
    (``None`` without subgroup rows)."""
    if subgroups is None or subgroups.empty or "subgroup" not in subgroups:
        return None
    sgs = list(dict.fromkeys(subgroups["subgroup"].astype(str)))
    adjust = str(study.analysis.adjust)
    multi_arm = subgroups["arm"].dropna().nunique() > 1 if "arm" in subgroups else False
    fam = _SUBGROUP_TEXT["family_change" if _estimand(study) == "change" else "family"]
    out = {}
    for lang in ("en", "zh"):
        names = _join([_column_name(study, sg, lang) for sg in sgs], lang)
        per_arm = ((" and comparison" if lang == "en" else "、每组比较") if multi_arm else "")
        if adjust == "none":
            out[lang] = fam[f"none_{lang}"].format(n=len(sgs), per_arm=per_arm, subgroups=names)
        elif len(sgs) == 1:
            out[lang] = (f"One subgroup ({names}): its test is a family of one per outcome"
                         f"{per_arm}, so the adjusted p equals the p-value." if lang == "en" else
                         f"只有一个亚组（{names}）：每个结局{per_arm}只有 1 项检验，自成一族，"
                         "校正 p 即原 p 值。")
        else:
            method = _METHOD.get(adjust, {"en": adjust, "zh": adjust})[lang]
            out[lang] = fam[lang].format(method=method, n=len(sgs), per_arm=per_arm,
                                         subgroups=names)
    return out


def _column_name(study, column, lang) -> str:
    fn = getattr(study, "column_label", None)
    return str(fn(column, lang)) if fn else str(column)


# --- the page's published tables ---------------------------------------------------------------

_TABLE_TEXT = {
    "caption_adjusted": {"en": "Adjusted differences between the groups by outcome "
                               "(groups not randomized)",
                         "zh": "各结局的组间调整后差异（非随机分组）"},
    "head_adjusted": {"en": "Adjusted difference (95% CI)", "zh": "调整后差异（95% 置信区间）"},
    "what": {
        "effect": {"en": "Effect: difference from the control arm in the outcome's own units",
                   "zh": "效应：与对照组之差（结局本身的单位）"},
        "adjusted_difference": {
            "en": ("Adjusted difference: difference from the comparison group in the outcome's "
                   "own units, adjusted for the model's regressors (not randomized: it may "
                   "reflect how the groups differed, not the program)"),
            "zh": "调整后差异：与对照组之差（结局本身的单位），已按模型中的变量调整（非随机分组：它可能"
                  "反映的是各组本来的不同，而不是项目的作用）"},
        "change": {"en": ("Change: mean change of the same children from the first to the last "
                          "wave in the outcome's own units"),
                   "zh": "变化：同一批儿童从首次到末次测量的平均变化（结局本身的单位）"},
    },
    "es": {"g": {"en": "g: Hedges' g, the same in standard deviations",
                 "zh": "g：Hedges' g，以标准差为单位"},
           "d_z": {"en": "d_z: the mean change divided by the SD of the change",
                   "zh": "d_z：平均变化除以变化的标准差"}},
}


def effects_published(effects: pd.DataFrame, study, lang: str = "en", *,
                      min_cell: int | None = None):
    """The effects table of the page as a :class:`evaluation.published_table.PublishedTable`.

    :func:`evaluation.published_table.effects_by_outcome` (one row per outcome, the models as
    column groups), with the words of the design's estimand: "Adjusted difference" for a
    non-randomized comparison, "Change" and d_z for a one-group design; its footnote names
    the multiplicity family of each adjusted p and how many tests it holds
    (:func:`multiplicity_text`).
    """
    import dataclasses as dc

    from evaluation import published_table as pt

    kind = _estimand(study)
    labels = _labels(study)
    better = {o.id: o.better for o in study.outcomes}
    t = pt.effects_by_outcome(effects, lang, outcome_labels=labels, arm_labels=labels,
                              better=better, adjust=study.analysis.adjust, min_cell=min_cell)
    es = "d_z" if kind == "change" else "g"
    cols = []
    for c in t.columns:
        if kind == "adjusted_difference" and c.kind == "estimate_ci":
            c = dc.replace(c, label_en=_TABLE_TEXT["head_adjusted"]["en"],
                           label_zh=_TABLE_TEXT["head_adjusted"]["zh"])
        if es == "d_z" and c.label_en == "g":
            c = dc.replace(c, label_en="d_z", label_zh="d_z")
        cols.append(c)
    fam = multiplicity_text(study, effects)
    what, esx = _TABLE_TEXT["what"][kind], _TABLE_TEXT["es"][es]
    notes_en = [f"{what['en']}, with its 95% confidence interval (CI) in parentheses; "
                f"{esx['en']}; p: two-sided p-value."]
    notes_zh = [f"{what['zh']}，括号内为 95% 置信区间；{esx['zh']}；p：双侧 p 值。"]
    if fam.get("en"):
        notes_en.append(fam["en"])
        notes_zh.append(fam["zh"])
    for c in design_caveats(study):
        notes_en.append(c["en"])
        notes_zh.append(c["zh"])
    caption = ({"en": t.caption_en, "zh": t.caption_zh} if kind != "adjusted_difference"
               else _TABLE_TEXT["caption_adjusted"])
    return dc.replace(t, columns=cols, caption_en=caption["en"], caption_zh=caption["zh"],
                      notes_en=notes_en, notes_zh=notes_zh)


_SG_TEXT = {
    "caption": {"effect": {"en": "Effects by subgroup", "zh": "各亚组的干预效果"},
                "adjusted_difference": {"en": "Adjusted differences by subgroup",
                                        "zh": "各亚组的调整后差异"},
                "change": {"en": "Change by subgroup (one group)",
                           "zh": "各亚组的变化（单组）"}},
    "subgroup": {"en": "Subgroup", "zh": "亚组"},
    "level": {"en": "Level", "zh": "水平"},
    "estimate": {"effect": {"en": "Effect (95% CI)", "zh": "效应（95% 置信区间）"},
                 "adjusted_difference": {"en": "Adjusted difference (95% CI)",
                                         "zh": "调整后差异（95% 置信区间）"},
                 "change": {"en": "Mean change (95% CI)", "zh": "平均变化（95% 置信区间）"}},
    "n": {"en": "n", "zh": "人数"},
    "clusters": {"en": "Clusters", "zh": "整群数"},
    "p_int": {"en": "Interaction p", "zh": "交互 p"},
    "p_int_adj": {"en": "Adj. interaction p", "zh": "校正交互 p"},
    "p_diff": {"en": "p (levels differ)", "zh": "p（各水平不同）"},
    "p_diff_adj": {"en": "Adj. p (levels differ)", "zh": "校正 p（各水平不同）"},
    "note_n": {"en": ("n: children in the level's model (both groups); the interaction p is "
                      "the same for every level of a subgroup and shown on its first row."),
               "zh": "人数：该水平模型中的儿童数（两组合计）；交互 p 对一个亚组的各水平相同，只在第一行给出。"},
    "note_n_change": {"en": ("n: children with both waves in the level; the p-value tests "
                             "whether the mean change is the same in every level of the "
                             "subgroup and is shown on its first row."),
                      "zh": "人数：该水平中两次都测量了的儿童数；p 值检验各水平的平均变化是否相同，只在该亚组第一行给出。"},
}


def subgroups_published(subgroups: pd.DataFrame, study, lang: str = "en", *,
                        min_cell: int | None = None):
    """The subgroup table of the page (``tables/subgroups.csv`` as published) as a
    :class:`evaluation.published_table.PublishedTable`.

    One row per subgroup level, grouped by outcome (and comparison, with several arms):
    the subgroup and level in the study's labels, the level's estimate with its 95% CI,
    the children (and clusters) in its model, and the interaction test with its adjusted
    p-value (family: the interaction tests of every subgroup of the outcome). Suppressed
    cells show the symbol; nothing shows ``NaN``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> s = NS(design=Design(type="randomized", id="id", arm="arm", control="c"),
    ...        analysis=NS(adjust="holm"), outcomes=[NS(id="y", better="higher")],
    ...        label=lambda c, v, lang: {"f": "Girls"}.get(v, v),
    ...        column_label=lambda c, lang: "Gender")
    >>> sg = pd.DataFrame({"outcome": "y", "arm": "t", "subgroup": "sex",
    ...     "level": ["f", "m"], "estimate": [0.512, 0.1], "ci_low": [0.1, -0.3],
    ...     "ci_high": [0.9, 0.5], "n_obs": [40, 38], "n_clusters": float("nan"),
    ...     "interaction_p": 0.1234, "interaction_p_adjusted": 0.2468})
    >>> subgroups_published(sg, s).cells("en").iloc[0].tolist()
    ['Gender', 'Girls', '0.51 (0.10 to 0.90)', '40', '0.123', '0.247']
    """
    from evaluation import published_table as pt

    kind = _estimand(study)
    labels = _labels(study) if hasattr(study, "instrument") else None
    clustered = bool(study.design.clusters)
    multi_arm = ("arm" in subgroups and subgroups["arm"].dropna().astype(str).nunique() > 1)
    rows = []
    for _, r in subgroups.iterrows():
        first = not rows or any(rows[-1]["_key"][i] != k for i, k in
                                enumerate((r["outcome"], r.get("arm"), r["subgroup"])))
        group = {lg: _outcome_name(study, r["outcome"], lg, labels) for lg in ("en", "zh")}
        if multi_arm:
            for lg in ("en", "zh"):
                vs = " vs " if lg == "en" else " 对 "
                group[lg] += (f" · {_arm_name(study, r['arm'], lg)}{vs}"
                              f"{_arm_name(study, study.design.control, lg)}")
        level = r.get("level")
        level_text = ({lg: _label_value(study, r["subgroup"], level, lg) for lg in ("en", "zh")}
                      if not pt._missing(level) and str(level) != "" else "")
        rows.append({
            "_key": (r["outcome"], r.get("arm"), r["subgroup"]),
            "row_group": group,
            "subgroup": ({lg: _column_name(study, r["subgroup"], lg) for lg in ("en", "zh")}
                         if first else ""),
            "level": level_text,
            "estimate": r.get("estimate"), "ci_low": r.get("ci_low"),
            "ci_high": r.get("ci_high"),
            "n_obs": r.get("n_obs"), "n_clusters": r.get("n_clusters"),
            "interaction_p": _p_cell(r, "interaction_p", first),
            "interaction_p_adjusted": _p_cell(r, "interaction_p_adjusted", first),
            "suppressed": r.get("suppressed", False),
        })
    data = pd.DataFrame(rows).drop(columns="_key") if rows else pd.DataFrame(
        columns=["row_group", "subgroup", "level", "estimate", "ci_low", "ci_high", "n_obs",
                 "n_clusters", "interaction_p", "interaction_p_adjusted", "suppressed"])
    T = _SG_TEXT
    pkey = ("p_diff", "p_diff_adj") if kind == "change" else ("p_int", "p_int_adj")
    cols = [pt.ColumnSpec("subgroup", T["subgroup"]["en"], T["subgroup"]["zh"]),
            pt.ColumnSpec("level", T["level"]["en"], T["level"]["zh"]),
            pt.ColumnSpec("estimate", T["estimate"][kind]["en"], T["estimate"][kind]["zh"],
                          "estimate_ci", low="ci_low", high="ci_high"),
            pt.ColumnSpec("n_obs", T["n"]["en"], T["n"]["zh"], "count")]
    if clustered:
        cols.append(pt.ColumnSpec("n_clusters", T["clusters"]["en"], T["clusters"]["zh"],
                                  "count"))
    # the test of a subgroup is shown once, on its first row (text: already formatted)
    cols += [pt.ColumnSpec("interaction_p", T[pkey[0]]["en"], T[pkey[0]]["zh"]),
             pt.ColumnSpec("interaction_p_adjusted", T[pkey[1]]["en"], T[pkey[1]]["zh"])]
    note = T["note_n_change" if kind == "change" else "note_n"]
    fam = subgroup_family_text(study, subgroups)
    notes_en, notes_zh = [note["en"]], [note["zh"]]
    if fam:
        notes_en.append(fam["en"])
        notes_zh.append(fam["zh"])
    return pt.PublishedTable(data, cols, caption_en=T["caption"][kind]["en"],
                             caption_zh=T["caption"][kind]["zh"], notes_en=notes_en,
                             notes_zh=notes_zh, row_groups="row_group", min_cell=min_cell,
                             lang=lang)


def _p_cell(row, column: str, first: bool) -> str:
    """A subgroup's interaction p as shown: on its first row only; the suppression symbol
    where it was blanked; a dash where it was not estimable."""
    from evaluation import published_table as pt

    if not first:
        return ""
    v = row.get(column)
    if pt._missing(v):
        sup = str(row.get("suppressed", "")).strip().lower() in ("true", "1")
        return pt.SUPPRESSED if sup else pt.MISSING
    return pt.format_value("p_value", v)


def figure_labels(study, *tables: pd.DataFrame) -> dict:
    """The study's labels for the figures of the page, each value ``{"en": ..., "zh": ...}``:
    ``arm_labels``, ``wave_labels``, ``outcome_labels``, ``subgroup_labels`` and
    ``level_labels`` (``{subgroup: {level: label}}``) of the values found in ``tables``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> s = NS(design=Design(type="randomized", id="id", arm="arm", control="c"), outcomes=[],
    ...        label=lambda c, v, lang: {"t": {"en": "Mentoring", "zh": "结对帮扶"}[lang]}.get(v, v),
    ...        column_label=lambda c, lang: c)
    >>> figure_labels(s, pd.DataFrame({"arm": ["t"]}))["arm_labels"]
    {'t': {'en': 'Mentoring', 'zh': '结对帮扶'}}
    """
    langs = ("en", "zh")
    labels = _labels(study) if hasattr(study, "instrument") else None
    out = {"arm_labels": {}, "wave_labels": {}, "subgroup_labels": {}, "level_labels": {},
           "outcome_labels": {o.id: {lg: _outcome_name(study, o.id, lg, labels) for lg in langs}
                              for o in study.outcomes}}
    for t in tables:
        if t is None or t.empty:
            continue
        if "arm" in t:
            for a in t["arm"].dropna().astype(str).unique():
                out["arm_labels"][a] = {lg: _arm_name(study, a, lg) for lg in langs}
        if "wave" in t:
            for w in t["wave"].dropna().astype(str).unique():
                out["wave_labels"][w] = {lg: _label_value(study, "wave", w, lg) for lg in langs}
        if "subgroup" in t and "level" in t:
            for sg, lv in t[["subgroup", "level"]].dropna().astype(str).drop_duplicates() \
                    .itertuples(index=False):
                out["subgroup_labels"][sg] = {lg: _column_name(study, sg, lg) for lg in langs}
                out["level_labels"].setdefault(sg, {})[lv] = {
                    lg: _label_value(study, sg, lv, lg) for lg in langs}
    return out


def _label_value(study, column, value, lang) -> str:
    fn = getattr(study, "label", None)
    return str(fn(column, value, lang)) if fn else str(value)


_HEADINGS = {
    "means": {"arms": {"en": "Means by group and wave (95% CI)", "zh": "各组各时点均值（95% 置信区间）"},
              "change": {"en": "Means by wave (95% CI)", "zh": "各时点均值（95% 置信区间）"}},
    "estimates": {"effect": {"en": "Effect estimates", "zh": "效果估计"},
                  "adjusted_difference": {"en": "Adjusted differences between the groups",
                                          "zh": "组间调整后差异"},
                  "change": {"en": "Change from the first to the last wave",
                             "zh": "从首次到末次测量的变化"}},
    "subgroups": {"effect": {"en": "Effects by subgroup (forest plot)",
                             "zh": "亚组效果（森林图）"},
                  "adjusted_difference": {"en": "Adjusted differences by subgroup (forest plot)",
                                          "zh": "各亚组的调整后差异（森林图）"},
                  "change": {"en": "Change by subgroup (forest plot)",
                             "zh": "各亚组的变化（森林图）"}},
}

FIGURE_TEXT = {
    "en": ("The figures show each model's estimate with its 95% confidence interval; filled "
           "markers are the primary model. The standardized forest shows the primary estimate "
           "of every outcome in standard deviations, with the better direction marked."),
    "zh": ("下图给出各模型的估计值及其 95% 置信区间；实心标记为主要模型。标准化森林图以标准差为单位给出"
           "每个结局的主要估计，并标出哪个方向更好。"),
}
"""The explanation under the effects figures, in both languages."""


def section_heading(study, section: str, lang: str) -> str:
    """A section heading of the page, ``"变化 · Change ..."`` style: ``lang`` first.

    ``section``: ``"means"``, ``"estimates"`` or ``"subgroups"``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> s = NS(design=Design(type="controlled", id="id", arm="arm", control="c"))
    >>> section_heading(s, "estimates", "en")
    'Adjusted differences between the groups · 组间调整后差异'
    """
    kind = _estimand(study)
    texts = _HEADINGS[section]
    if section == "means":
        t = texts["change" if kind == "change" else "arms"]
    else:
        t = texts[kind]
    other = "en" if lang == "zh" else "zh"
    return f"{t[lang]} · {t[other]}"

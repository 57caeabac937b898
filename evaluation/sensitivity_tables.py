"""The tables and words of the missing-data page (``07_sensitivity``): what is missing, what
predicts it, and whether the answer of the effects page survives the ways of handling it.

The statistics are :mod:`analysis.missingness`, :mod:`analysis.imputation`,
:mod:`analysis.ipw`, :mod:`analysis.lee_bounds`, combined per outcome by
:mod:`analysis.sensitivity`; this module

- says when the page does not apply (:func:`not_applicable_reason`: no outcomes, one
  wave, a cross-sectional survey, no comparison group and no pre/post, nothing missing)
  and which sections a design allows (:func:`design_notes`);
- runs the analyses for every outcome of a study (:func:`analyse_study`, the run's seed,
  m = 20);
- shapes the published tables (both languages, every number rounded by its kind, small
  cells shown as ``§``): :func:`missing_published`, :func:`response_published`,
  :func:`ipw_published`, :func:`lee_published`, :func:`sensitivity_published`;
- writes the page's words, each paragraph in English and in Chinese (never translated by
  code): :data:`TEXT`, :func:`little_text`, :func:`mi_text`, :func:`delta_text`, and
  :func:`headline_sentence`, the one line of the headline page that says whether the
  conclusion survives.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.sensitivity import METHODS, conclusion
from evaluation.labels import bilingual as _labels_bilingual
from evaluation.published_table import (
    SUPPRESSED,
    ColumnSpec,
    PublishedTable,
    fixed_nonzero,
    format_value,
)

__all__ = [
    "PAGE",
    "TEXT",
    "analyse_study",
    "bilingual",
    "delta_text",
    "design_notes",
    "error_reason",
    "attach_primary",
    "cluster_text",
    "figure_text",
    "headline_sentence",
    "ipw_published",
    "lee_published",
    "lee_text",
    "method_notes",
    "little_text",
    "method_label",
    "mi_text",
    "missing_published",
    "missing_table",
    "not_applicable_reason",
    "page_title",
    "primary_estimates",
    "response_published",
    "section_heading",
    "sensitivity_published",
    "table_text",
    "tipping_words",
]

PAGE = "07_sensitivity"
LANGS = ("en", "zh")
M_DEFAULT = 20
"""Imputations: 20, or more when the rule ``m >= 100 x FMI`` asks (White, Royston & Wood
2011; :func:`analysis.imputation.suggested_m`)."""

TITLE = {"en": "Missing data: does the answer depend on who is missing?",
         "zh": "缺失数据：结论是否取决于缺失的儿童？"}

REASONS = {
    "no_outcomes": ("The study declares no outcomes (`outcomes:` in study.yaml): there is no "
                    "answer whose dependence on missing data could be checked.",
                    "本研究没有声明结局指标（study.yaml 中的 `outcomes:`），没有需要检验其是否受缺失数据"
                    "影响的结论。"),
    "cross_sectional": ("Cross-sectional design: each wave surveys different respondents, so no "
                        "child can be missing at a later wave; missing answers are counted in the "
                        "data-quality report.",
                        "横断面设计：每次测量调查的是不同的对象，不存在后续测量中的流失；缺答情况见数据质量报告。"),
    "one_wave": ("One wave: nothing was measured before the outcome, so who is missing cannot be "
                 "compared with who answered, and no missing score can be imputed from an earlier "
                 "one. Missing answers are counted in the data-quality report.",
                 "只有一次测量：结局之前没有任何测量，无法比较缺失的儿童与作答的儿童，也无法根据早先的分数"
                 "插补缺失的分数。缺答情况见数据质量报告。"),
    "no_comparison": ("No comparison group and no before/after measurement: there is no effect "
                      "whose sensitivity to missing data could be checked.",
                      "没有对照组，也没有前后测：没有需要检验其对缺失数据敏感性的效果。"),
    "nothing_missing": ("Nothing is missing: every child measured at baseline has every outcome at "
                        "the last wave, so the complete-case analysis of the effects page uses "
                        "everyone and there is nothing to test.",
                        "没有缺失：基线时测量的每名儿童在最后一次测量中都有全部结局，干预效果报告的分析已包含所有"
                        "儿童，没有需要检验的内容。"),
}
"""Why the page does not apply: key -> (English, Chinese)."""

_HEADINGS = {
    "summary": {"en": "What is missing", "zh": "哪些数据缺失"},
    "response": {"en": "Who answered the endline?", "zh": "哪些儿童参加了终期测量？"},
    "little": {"en": "Little's test of 'missing completely at random'",
               "zh": "Little 完全随机缺失检验"},
    "mi": {"en": "Multiple imputation", "zh": "多重插补"},
    "ipw": {"en": "Inverse probability weighting", "zh": "逆概率加权"},
    "lee": {"en": "Lee bounds", "zh": "Lee 界"},
    "delta": {"en": "If those who left differ: the delta adjustment",
              "zh": "如果流失的儿童与留下的不同：δ 调整"},
    "table": {"en": "Does the answer survive?", "zh": "结论是否稳健？"},
}

TEXT = {
    "intro": {
        "en": ("Every estimate of the effects page uses the children who have both a baseline and "
               "an endline score (complete cases). Children who moved, were absent on the day or "
               "skipped pages are left out, and if they differ from those who stayed, the "
               "estimate can be biased. This page shows what is missing, what predicts it, and "
               "the effect of each outcome under four other ways of handling the missing "
               "children: multiple imputation, weighting, bounds that assume the least, and a "
               "shift of the imputed scores that asks how different the missing children would "
               "have to be to change the conclusion. Cells of fewer than {k} children show §."),
        "zh": ("干预效果报告的每个估计都只用了基线和终期都有分数的儿童（完整个案）。转学、测量当天缺席或漏答"
               "的儿童被排除在外；如果他们与留下的儿童不同，估计就可能有偏。本页说明哪些数据缺失、什么能预测"
               "缺失，并用另外四种处理缺失儿童的方法重新估计每个结局的效果：多重插补、加权、假设最少的界，"
               "以及把插补分数平移、看缺失儿童要有多大差异才会改变结论。少于 {k} 名儿童的格显示为 §。"),
    },
    "summary": {
        "en": ("Children absent at each wave and scores missing among those present, by arm. A "
               "score is missing when fewer than the scale's minimum number of items were "
               "answered. Unequal attrition between the arms is what the methods below address."),
        "zh": ("各组每次测量缺席的儿童，以及到场儿童中缺失的量表分数。作答题目少于量表最低题数时，该量表分数"
               "记为缺失。两组流失不均衡正是下面各方法要处理的问题。"),
    },
    "by_cluster": {
        "en": ("Children absent at the last wave, by {level}. A {level} that lost many children "
               "weighs less in a complete-case estimate than it did in the randomization."),
        "zh": "按{level}统计最后一次测量缺席的儿童。流失儿童多的{level}在完整个案估计中的分量比随机分组时小。",
    },
    "response": {
        "en": ("A logistic regression of having the endline score on arm, the baseline score and "
               "the covariates (odds ratios; CR2 cluster-robust SEs with Bell–McCaffrey df when "
               "children are clustered). The arm × baseline term asks the question that matters: "
               "did the baseline score predict answering differently in the two arms? If so, the "
               "children compared at endline are no longer comparable groups."),
        "zh": ("以是否有终期分数为因变量，对组别、基线分数和协变量做 logistic 回归（比值比；儿童嵌套在学校中时，"
               "使用 CR2 整群稳健标准误和 Bell–McCaffrey 自由度）。组别 × 基线交互项回答关键问题：基线分数对"
               "是否参加终期测量的预测作用在两组间是否不同？若不同，终期比较的两组就不再可比。"),
    },
    "ipw": {
        "en": ("Each child who answered counts for the children like her who did not: one logistic "
               "model of answering per arm on the baseline score and the covariates gives each "
               "child's chance of answering, and the complete-case model is refitted with stabilized "
               "weights (the arm's response rate divided by that chance) and the same "
               "cluster-robust inference. The SEs treat the weights as known (slightly "
               "conservative). Even weights (a ratio near 1, an effective n near the respondents) "
               "mean that answering was hardly predictable from baseline data, and the weighted "
               "estimate stays close to the complete-case one."),
        "zh": ("每名作答的儿童代表与其相似但未作答的儿童：每组分别以基线分数和协变量拟合作答的 logistic 模型，"
               "得到每名儿童作答的概率；再以稳定化权重（该组作答率除以该概率）重新拟合完整个案的模型，推断方法与"
               "完整个案相同（整群稳健）。标准误把权重当作已知（略偏保守）。权重均匀（最大/最小之比接近 1，有效样本量"
               "接近作答人数）说明作答几乎无法由基线数据预测，加权估计也就接近完整个案估计。"),
    },
    "lee": {
        "en": ("Lee (2009) bounds assume the least: only that the program could make a child more "
               "likely to stay in the study, never less (or the reverse). The arm with more "
               "respondents is trimmed by the share of its respondents who would have left in the "
               "other arm, from the top for the lower bound and from the bottom for the upper "
               "bound. The bounds hold for the children who would answer in either arm; the "
               "interval is the Imbens–Manski 95% CI for the effect."),
        "zh": ("Lee（2009）界所需的假设最少：只假定项目只会让儿童更可能留在研究中、而不会更不可能（或反之）。"
               "作答人数较多的一组按“在另一组本会流失的作答者比例”进行修剪：从最高分一端修剪得到下界，从最低分"
               "一端修剪得到上界。这些界针对无论分到哪一组都会作答的儿童；区间为效果的 Imbens–Manski 95% "
               "置信区间。"),
    },
    "lee_cluster": {
        "en": ("With schools randomized, Lee's analytic SEs (for independent children) would be too "
               "small: the SEs here come from a cluster bootstrap (whole schools resampled within "
               "each arm, {b} replicates, the run's seed {seed})."),
        "zh": ("学校整体随机分组时，Lee 的解析标准误（假定儿童相互独立）会偏小：这里的标准误来自整群 bootstrap"
               "（在每组内按学校整体重抽样，{b} 次，使用本次运行的种子 {seed}）。"),
    },
    "lee_few": {
        "en": ("Fewer than 10 schools per arm: the cluster bootstrap is itself unreliable, and the "
               "interval may be too narrow."),
        "zh": "每组少于 10 所学校：整群 bootstrap 本身不可靠，区间可能偏窄。",
    },
    "table": {
        "en": ("Each outcome's effect under every method, below the primary estimate (complete "
               "cases, as on the effects page). If every interval lies on the same side of 0, "
               "the conclusion does not depend on how the missing children are handled. The "
               "tipping point δ is the shift, in SDs of the endline score, of the program "
               "children who left at which the conclusion of multiple imputation would change."),
        "zh": ("每个结局在各方法下的效果，列在主要估计（完整个案，与干预效果报告相同）之下。若所有区间都在 0 的"
               "同一侧，结论就不取决于如何处理缺失的儿童。临界 δ 是项目组流失儿童的分数需要平移多少个终期标准差，"
               "多重插补的结论才会改变。"),
    },
    "table_not_primary": {
        "en": ("Each outcome's effect under every method, below the complete-case ANCOVA (the "
               "model every row uses; the design's primary model, {model}, is in the note of "
               "that row). If every interval lies on the same side of 0, the conclusion does not "
               "depend on how the missing children are handled. The tipping point δ is the "
               "shift, in SDs of the endline score, of the program children who left at which "
               "the conclusion of multiple imputation would change."),
        "zh": ("每个结局在各方法下的效果，列在完整个案协方差分析（各行共用的模型；本设计的主要模型{model}的结果"
               "见该行说明）之下。若所有区间都在 0 的同一侧，结论就不取决于如何处理缺失的儿童。临界 δ 是项目组"
               "流失儿童的分数需要平移多少个终期标准差，多重插补的结论才会改变。"),
    },
    "figure_not_primary": {
        "en": ("Dots are estimates, lines 95% intervals; the shaded band is the interval of the "
               "complete-case ANCOVA (not the design's primary model, {model}). For Lee bounds "
               "the thick bar spans the bounds and the thin line the Imbens–Manski interval."),
        "zh": ("圆点为估计值，线段为 95% 置信区间；阴影带为完整个案协方差分析的区间（不是本设计的主要模型{model}）。"
               "Lee 界的粗线段为上下界，细线为 Imbens–Manski 区间。"),
    },
    "by_cluster_nonrandom": {
        "en": ("Children absent at the last wave, by {level}. A {level} that lost many children "
               "weighs less in a complete-case estimate than it did at baseline."),
        "zh": "按{level}统计最后一次测量缺席的儿童。流失儿童多的{level}在完整个案估计中的分量比基线时小。",
    },
    "figure": {
        "en": ("Dots are estimates, lines 95% intervals; the shaded band is the primary estimate's "
               "interval. For Lee bounds the thick bar spans the bounds and the thin line the "
               "Imbens–Manski interval."),
        "zh": "圆点为估计值，线段为 95% 置信区间；阴影带为主要估计的区间。Lee 界的粗线段为上下界，细线为 Imbens–Manski 区间。",
    },
    "one_group": {
        "en": ("One group measured before and after: there is no comparison group, so multiple "
               "imputation of an effect, weighting of an arm contrast and Lee bounds (which trim "
               "one arm against the other) do not apply. The missingness summary, the response "
               "model and Little's test above show who is missing."),
        "zh": ("单组前后测：没有对照组，因此针对组间效果的多重插补、组间比较的加权和 Lee 界（以一组修剪另一组）"
               "都不适用。上面的缺失汇总、作答模型和 Little 检验说明了哪些儿童缺失。"),
    },
    "not_randomized": {
        "en": ("Lee bounds are not shown: they rest on random assignment, and the groups of this "
               "design were not assigned at random."),
        "zh": "不给出 Lee 界：它以随机分组为前提，而本设计的分组不是随机的。",
    },
    "model_not_primary": {
        "en": ("The design's primary model is {model}; every row of this page uses the CR2 ANCOVA "
               "instead, so that the rows differ only in how they treat the missing children."),
        "zh": "本设计的主要模型为 {model}；本页各行统一使用 CR2 协方差分析，使各行的差别只在于如何处理缺失儿童。",
    },
}
"""What each section shows and what it means, in both languages."""

METHOD_LABELS = {
    "complete_case": {"en": "Complete cases (primary estimate)", "zh": "完整个案（主要估计）"},
    "complete_case_ancova": {"en": "Complete cases, ANCOVA", "zh": "完整个案，协方差分析"},
    "mi": {"en": "Multiple imputation (missing at random)", "zh": "多重插补（随机缺失假设）"},
    "ipw": {"en": "Inverse probability weighting", "zh": "逆概率加权"},
    "lee": {"en": "Lee bounds", "zh": "Lee 界"},
    "lee_tightened": {"en": "Lee bounds within {cov}", "zh": "按{cov}分层的 Lee 界"},
    "tipping_delta": {"en": "Tipping point δ (SD)", "zh": "临界 δ（标准差）"},
}


bilingual = _labels_bilingual  # one rule for every page (evaluation.labels.bilingual)


def page_title(lang: str | None = None, first: str = "zh") -> str:
    """The page title in one language, or both (``first`` first).

    Examples
    --------
    >>> page_title("en")
    'Missing data: does the answer depend on who is missing?'
    """
    if lang is not None:
        return TITLE[lang]
    other = "en" if first == "zh" else "zh"
    return f"{TITLE[first]} · {TITLE[other]}"


def section_heading(section: str, lang: str) -> str:
    """A section heading in both languages, ``lang`` first.

    Examples
    --------
    >>> section_heading("lee", "en")
    'Lee bounds · Lee 界'
    """
    t = _HEADINGS[section]
    other = "en" if lang == "zh" else "zh"
    return f"{t[lang]} · {t[other]}"


def text(key: str, **kw) -> dict:
    """A paragraph of :data:`TEXT` with its fields filled, ``{"en": ..., "zh": ...}``."""
    return {lg: TEXT[key][lg].format(**kw) if kw else TEXT[key][lg] for lg in LANGS}


def _model_name(code, lang: str) -> str:
    """A model's name in ``lang``, lower case inside an English sentence."""
    from evaluation.model_names import model_label

    lab = model_label(code, lang)
    return lab[:1].lower() + lab[1:] if lang == "en" else lab


def _cluster_level(study, lang: str) -> str:
    """The outermost cluster's label in ``lang`` ("school", "class", ...), lower case in
    English."""
    c = study.design.clusters[0]
    lab = study.column_label(c, lang) if hasattr(study, "column_label") else c
    return lab.lower() if lang == "en" else lab


def cluster_text(study) -> dict:
    """The paragraph above the table of absence by cluster, naming the cluster level by its
    label and comparing with the randomization only when the design was randomized.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> d = Design(type="controlled", id="id", arm="arm", control="c", clusters=("class_id",))
    >>> s = NS(design=d, column_label=lambda c, lg: "Class" if lg == "en" else "班级")
    >>> cluster_text(s)["en"]
    'Children absent at the last wave, by class. A class that lost many children weighs less in a complete-case estimate than it did at baseline.'
    """
    key = ("by_cluster" if study.design.type in ("randomized", "cluster_randomized")
           else "by_cluster_nonrandom")
    return {lg: TEXT[key][lg].format(level=_cluster_level(study, lg)) for lg in LANGS}


def _not_primary_model(results) -> str:
    """The design's primary model when the rows of the page are not it ("" otherwise)."""
    prim = next((r.primary_model for r in (results or []) if r.primary_model), "")
    return prim if prim and prim not in ("ols_cr2", "ancova_hc2") else ""


def table_text(study, results) -> dict:
    """The paragraph above the sensitivity table (the reference row is the primary estimate,
    or the complete-case ANCOVA when the design's primary model is another one)."""
    prim = _not_primary_model(results)
    if not prim:
        return text("table")
    return {lg: TEXT["table_not_primary"][lg].format(model=_model_name(prim, lg))
            for lg in LANGS}


def figure_text(study, results) -> dict:
    """The caption of the sensitivity figure (see :func:`table_text`)."""
    prim = _not_primary_model(results)
    if not prim:
        return text("figure")
    return {lg: TEXT["figure_not_primary"][lg].format(model=_model_name(prim, lg))
            for lg in LANGS}


def primary_estimates(study, scores: pd.DataFrame, results, tables_dir=None) -> pd.DataFrame | None:
    """The design's primary model's estimates (outcome, arm, model, estimate, ci_low,
    ci_high) when it is not the ANCOVA every row of the page uses (a difference in
    differences, a mixed model); None when it is. Read from ``tables/effects.csv`` when the
    effects page wrote it, else fitted here (:func:`evaluation.effects_tables.effects_table`,
    seconds)."""
    prim = _not_primary_model(results)
    if not prim:
        return None
    import pathlib

    eff = None
    path = pathlib.Path(tables_dir) / "effects.csv" if tables_dir is not None else None
    if path is not None and path.exists():
        eff = pd.read_csv(path)
    else:
        from evaluation.effects_tables import effects_table

        try:
            eff = effects_table(study, scores)
        except (ValueError, KeyError, np.linalg.LinAlgError):
            return None
    if eff is None or "primary" not in eff:
        return None
    p = eff[eff["primary"].astype(str).str.strip().str.lower().isin(("true", "1"))]
    cols = [c for c in ("outcome", "arm", "model", "estimate", "ci_low", "ci_high")
            if c in p.columns]
    return p[cols].astype({"outcome": str, "arm": str}).reset_index(drop=True)


def attach_primary(table: pd.DataFrame, primary: pd.DataFrame | None) -> pd.DataFrame:
    """The sensitivity table with the primary model's estimate in the note of each
    complete-case row marked ``model_not_primary``: ``primary_model=<code>``,
    ``primary_estimate=<x>``, ``primary_ci=<lo>..<hi>`` (so that the index, which reads
    ``tables/sensitivity.csv``, can say it too). Suppressed rows are left alone.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["y"], "arm": ["t"], "method": ["complete_case"],
    ...                   "note": ["model_not_primary"], "suppressed": [False]})
    >>> p = pd.DataFrame({"outcome": ["y"], "arm": ["t"], "model": ["did"], "estimate": [-8.25],
    ...                   "ci_low": [-14.1], "ci_high": [-2.4]})
    >>> attach_primary(t, p)["note"].iloc[0]
    'model_not_primary;primary_model=did;primary_estimate=-8.25;primary_ci=-14.1..-2.4'
    """
    if primary is None or not len(primary) or table is None or not len(table):
        return table
    out = table.copy()
    for i, r in out.iterrows():
        n = _notes(r)
        if (str(r["method"]) != "complete_case" or "model_not_primary" not in n
                or "primary_model" in n or _is_true(r.get("suppressed"))):
            continue
        p = primary[(primary["outcome"].astype(str) == str(r["outcome"]))
                    & (primary["arm"].astype(str) == str(r["arm"]))]
        if p.empty or not math.isfinite(_f(p["estimate"].iloc[0])):
            continue
        p = p.iloc[0]
        out.at[i, "note"] = ";".join(
            x for x in (str(r.get("note", "")) if not _na(r.get("note")) else "",
                        f"primary_model={p['model']}", f"primary_estimate={_f(p['estimate']):.6g}",
                        f"primary_ci={_f(p['ci_low']):.6g}..{_f(p['ci_high']):.6g}") if x)
    return out


def _primary_of(row):
    """The primary model's (model, estimate, ci_low, ci_high) from a complete-case row's
    note (:func:`attach_primary`), or None."""
    n = _notes(row)
    if "primary_model" not in n:
        return None
    try:
        lo, hi = (float(x) for x in str(n.get("primary_ci", "nan..nan")).split(".."))
        return {"model": n["primary_model"], "estimate": float(n["primary_estimate"]),
                "ci_low": lo, "ci_high": hi}
    except (ValueError, KeyError):
        return None


# -------------------------------------------------------------------------- applicability
def not_applicable_reason(study, scores: pd.DataFrame | None = None):
    """Why the missing-data page has nothing to test, ``(English, Chinese)``, or None.

    The rule (for :mod:`evaluation.applicability`): no outcomes; a cross-sectional
    design (nobody is followed); one wave (nothing measured before the outcome); neither
    a comparison group nor a pre/post design; and, given the scores, nothing missing
    (every child of any wave has every outcome at the last wave).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> s = NS(design=Design(type="randomized", id="id", arm="arm", control="c",
    ...                      waves=("t1",)), outcomes=(NS(id="y", column_name="y"),))
    >>> not_applicable_reason(s)[0][:9]
    'One wave:'
    """
    d = study.design
    key = None
    if not study.outcomes:
        key = "no_outcomes"
    elif d.type == "cross_sectional":
        key = "cross_sectional"
    elif not d.has_baseline:
        key = "one_wave"
    elif not d.arm and d.type != "pre_post":
        key = "no_comparison"
    elif scores is not None and not _anything_missing(study, scores):
        key = "nothing_missing"
    return REASONS[key] if key else None


def _anything_missing(study, scores: pd.DataFrame) -> bool:
    d = study.design
    w = scores[d.wave].astype(str)
    children = set(scores[d.id])
    end = scores[w == str(d.endline)].drop_duplicates(d.id)
    if set(end[d.id]) != children:
        return True
    cols = [o.column_name for o in study.outcomes if o.column_name in end]
    return bool(end[cols].apply(pd.to_numeric, errors="coerce").isna().any().any())


def design_notes(study, results=None) -> list[dict]:
    """The bilingual notes on what the design allows: one group (no arm methods), not
    randomized (no Lee bounds), a primary model that is not the CR2 ANCOVA."""
    d = study.design
    out = []
    if not d.arm:
        out.append(text("one_group"))
        return out
    if d.type not in ("randomized", "cluster_randomized"):
        out.append(text("not_randomized"))
    prim = next((r.primary_model for r in (results or []) if r.primary_model), "")
    if prim and prim not in ("ols_cr2", "ancova_hc2"):
        from evaluation.model_names import model_label

        out.append({lg: TEXT["model_not_primary"][lg].format(model=model_label(prim, lg))
                    for lg in LANGS})
    return out


# -------------------------------------------------------------------------- analyses
def analyse_study(study, scores: pd.DataFrame, *, m: int = M_DEFAULT, seed: int | None = None,
                  n_boot: int = 999):
    """:func:`analysis.sensitivity.analyse_outcome` for every outcome of the study, in
    study order, with the run's seed and alpha."""
    from analysis.sensitivity import analyse_outcome

    seed = int(study.analysis.seed if seed is None else seed)
    outcomes = [o for o in study.outcomes if o.column_name in scores.columns]
    # the response model is shown for the first (primary) outcome only: not fitted for the others
    return [analyse_outcome(scores, o.column_name, study.design, outcome=o.id, seed=seed, m=m,
                            n_boot=n_boot, alpha=float(study.analysis.alpha),
                            min_cell=int(study.privacy.min_cell), response=i == 0)
            for i, o in enumerate(outcomes)]


_ERRORS = (
    # (what the message says, English reason, Chinese reason)
    ("too few to impute", "an arm has too few observed scores to impute from",
     "某组观测到的分数太少，无法据此插补"),
    ("singular matrix", "too few children, or too little variation, to fit its equations "
     "(a singular matrix)", "儿童太少或变异太小，无法拟合其方程（矩阵奇异）"),
    ("every child", "in some group every child answered the endline, or none did",
     "某一组中所有儿童都参加了终期测量（或都没有参加）"),
    ("converge", "the model did not converge", "模型不收敛"),
    ("probabilities of 0 or 1", "some children's chance of answering is estimated at 0 or 1",
     "部分儿童作答的概率被估计为 0 或 1"),
    ("respondents", "an arm has too few respondents", "某组作答的儿童太少"),
    ("cluster", "too few schools", "学校太少"),
)

_METHOD_NAMES = {
    "response": ("the response model", "作答模型"),
    "mi": ("multiple imputation (and the delta adjustment)", "多重插补（及 δ 调整）"),
    "ipw": ("inverse probability weighting", "逆概率加权"),
    "complete_case": ("the complete-case estimate", "完整个案估计"),
    "lee": ("Lee bounds", "Lee 界"),
    "lee_tightened": ("Lee bounds within a covariate (the basic bounds are shown)",
                      "按协变量分层的 Lee 界（给出的是基本的界）"),
}


def error_reason(message: str) -> dict:
    """Why a method could not be fitted, in both languages, from its error message (the
    message itself is in English and names code-level details; the page shows this).

    Examples
    --------
    >>> error_reason("Singular matrix")["zh"]
    '儿童太少或变异太小，无法拟合其方程（矩阵奇异）'
    """
    low = str(message).lower()
    for key, en, zh in _ERRORS:
        if key in low:
            return {"en": en, "zh": zh}
    return {"en": "the data are not enough to fit it", "zh": "数据不足以拟合"}


def method_notes(results, study) -> list[dict]:
    """Bilingual notes on what could not be fitted and what was left out of a model.

    One note per method that failed for some outcome (which outcomes, and why, from
    :func:`error_reason`), and one per covariate (or arm) left out of the response model
    or of an arm's propensity model because every child at one of its levels answered
    the endline, or none did (:attr:`analysis.sensitivity.OutcomeSensitivity.dropped`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = NS(outcome="y", errors={"mi": "Singular matrix"}, dropped={
    ...     "ipw": [{"arm": "t", "covariate": "g", "level": "x", "n": 3, "answered": True}]})
    >>> s = NS(outcomes=(), label=lambda col, v, lang: v, column_label=lambda c, lang: c)
    >>> [n["en"][:40] for n in method_notes([r], s)]
    ['Multiple imputation (and the delta adjus', 'Inverse probability weighting: g was lef']
    """
    out = []
    failed: dict = {}
    for r in results:
        for method, msg in (r.errors or {}).items():
            if method == "response" and "nothing to model" in str(msg):
                continue  # said by the page: everyone answered
            key = (method, tuple(error_reason(msg).items()))
            failed.setdefault(key, []).append(r.outcome)
    for (method, reason), oids in failed.items():
        reason = dict(reason)
        name = _METHOD_NAMES.get(method, (method, method))
        outs = {lg: ("、" if lg == "zh" else ", ").join(_outcome_name(study, o, lg) for o in oids)
                for lg in LANGS}
        out.append({"en": f"{name[0][0].upper()}{name[0][1:]} could not be estimated for "
                          f"{outs['en']}: {reason['en']}. Its rows say 'not estimable'.",
                    "zh": f"{outs['zh']}无法估计{name[1]}：{reason['zh']}。表中相应行标为“无法估计”。"})
    seen = set()
    for r in results:
        for method, items in (r.dropped or {}).items():
            for d in items:
                arm = d.get("arm")
                key = (method, arm, d.get("covariate"), d.get("level"))
                if key in seen:
                    continue
                seen.add(key)
                out.append(_dropped_note(method, d, study))
    return out


def _dropped_note(method: str, d: dict, study) -> dict:
    cov = str(d.get("covariate"))
    is_arm = cov == str(getattr(getattr(study, "design", None), "arm", None))
    lvl = d.get("level")
    n = d.get("n")
    ans = d.get("answered")
    who = {lg: "" for lg in LANGS}
    if cov == "baseline":
        col = {"en": "the baseline score", "zh": "基线分数"}
    else:
        col = {lg: _column_name(study, cov, lg) for lg in LANGS}
    if lvl is not None:
        lv = {lg: _label_value(study, cov, lvl, lg) for lg in LANGS}
        did = {"en": "answered" if ans else "missed", "zh": "都参加了" if ans else "都没有参加"}
        cnt = {"en": f" ({int(n)})" if n is not None else "",
               "zh": f"（{int(n)} 名）" if n is not None else ""}
        who = {"en": f": every child with {col['en']} = {lv['en']}{cnt['en']} {did['en']} the "
                     "endline",
               "zh": f"：{col['zh']}为{lv['zh']}的儿童{cnt['zh']}{did['zh']}终期测量"}
    elif ans is None:
        who = {"en": ": the model did not converge with it", "zh": "：纳入后模型不收敛"}
    else:
        did = {"en": "answered" if ans else "missed", "zh": "都参加了" if ans else "都没有参加"}
        who = {"en": f": at one of its levels every child {did['en']} the endline",
               "zh": f"：其某一取值的儿童{did['zh']}终期测量"}
    if method == "response":
        if is_arm:
            return {"en": (f"Response model: every child of {lv['en']}{cnt['en']} {did['en']} "
                           "the endline, so that arm cannot be in a logistic model of answering; "
                           "the model is fitted to the other arms."),
                    "zh": (f"作答模型：{lv['zh']}的儿童{cnt['zh']}{did['zh']}终期测量，该组无法纳入作答的 "
                           "logistic 模型；模型只用其他组拟合。")}
        return {"en": (f"Response model: {col['en']} was left out{who['en']} (no finite "
                       "estimate exists; merging levels would be a choice of the study's)."),
                "zh": (f"作答模型：未纳入{col['zh']}{who['zh']}（此时不存在有限的估计值；合并取值应由研究者"
                       "决定）。")}
    arm = {lg: _arm_name(study, d.get("arm"), lg) for lg in LANGS}
    if cov == "baseline":
        return {"en": (f"Inverse probability weighting: in {arm['en']} answering could not be "
                       "modelled even on the baseline score alone (too few children), so its "
                       "respondents all weigh 1 (as in complete cases)."),
                "zh": (f"逆概率加权：{arm['zh']}中即使只用基线分数也无法拟合作答模型（儿童太少），该组作答者"
                       "的权重均为 1（与完整个案相同）。")}
    return {"en": (f"Inverse probability weighting: {col['en']} was left out of the model of "
                   f"answering in {arm['en']}{who['en']}; the weights of that arm use the "
                   "baseline score and the other covariates."),
            "zh": (f"逆概率加权：{arm['zh']}的作答模型未纳入{col['zh']}{who['zh']}；该组的权重只用基线"
                   "分数和其他协变量。")}


def missing_table(study, scores: pd.DataFrame, items: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`analysis.missingness.missing_summary` of the study's outcomes (and items)."""
    from analysis.missingness import missing_summary

    cols = [o.column_name for o in study.outcomes if o.column_name in scores.columns]
    return missing_summary(scores, study.design, outcomes=cols, items=items)


# -------------------------------------------------------------------------- labels
def _outcome_name(study, oid, lang) -> str:
    try:
        from evaluation.labels import study_labels

        text = study_labels(study)("outcome", oid, lang)
    except (TypeError, AttributeError, KeyError, ValueError, LookupError):
        text = None
    return str(text) if text else str(oid)


def _arm_name(study, arm, lang) -> str:
    fn = getattr(study, "label", None)
    return str(fn("arm", arm, lang)) if fn else str(arm)


def _column_name(study, column, lang) -> str:
    fn = getattr(study, "column_label", None)
    return str(fn(column, lang)) if fn else str(column)


def method_label(method: str, lang: str, covariate: str | None = None) -> str:
    """A method in words (``lee_tightened`` names its covariate).

    Examples
    --------
    >>> method_label("mi", "en"), method_label("lee_tightened", "zh", "性别")
    ('Multiple imputation (missing at random)', '按性别分层的 Lee 界')
    """
    return METHOD_LABELS[method][lang].format(cov=covariate or "")


def _notes(row) -> dict:
    out = {}
    for part in str(row.get("note", "") if not _na(row.get("note")) else "").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
        elif part:
            out[part] = True
    return out


def _na(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _is_true(v) -> bool:
    return (not _na(v)) and str(v).strip().lower() in ("true", "1")


def _f(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _num(x: float, digits: int = 2) -> str:
    return format_value("estimate", x) if digits == 2 else f"{x:.{digits}f}"


# -------------------------------------------------------------------------- published tables
_INFERENCE = {
    "cr2": {"en": "CR2, Bell–McCaffrey df", "zh": "CR2，Bell–McCaffrey 自由度"},
    "hc2": {"en": "HC2, n − p df", "zh": "HC2，n − p 自由度"},
    "cr2_rubin": {"en": "CR2 per imputation; Rubin, Barnard–Rubin df",
                  "zh": "每个插补数据集 CR2；Rubin 规则，Barnard–Rubin 自由度"},
    "hc2_rubin": {"en": "HC2 per imputation; Rubin, Barnard–Rubin df",
                  "zh": "每个插补数据集 HC2；Rubin 规则，Barnard–Rubin 自由度"},
    "lee_analytic": {"en": "Lee's analytic SEs (independent children)",
                     "zh": "Lee 解析标准误（假定儿童独立）"},
    "bootstrap": {"en": "bootstrap", "zh": "bootstrap"},
    "cluster_bootstrap": {"en": "cluster bootstrap", "zh": "整群 bootstrap"},
}


def _detail(row, lang: str, study) -> str:
    """The note cell of a method row, in words."""
    n = _notes(row)
    zh = lang == "zh"
    parts = []
    if str(row["method"]) == "complete_case" and "model_not_primary" in n:
        p = _primary_of(row)
        if p is not None:
            ml = _model_name(p["model"], lang)
            est = format_value("estimate_ci", p["estimate"], lang, low=p["ci_low"],
                               high=p["ci_high"])
            parts.append(f"主要模型（{ml}）给出 {est}" if zh else
                         f"the primary model ({ml}) gives {est}")
        else:
            parts.append("不是主要模型" if zh else "not the primary model")
    if "not_estimable" in n:
        return "无法估计（数据不足以拟合）" if zh else "not estimable (the data cannot fit it)"
    method = str(row["method"])
    if method == "mi":
        m = n.get("m", "")
        fmi = _f(row.get("fmi"))
        parts.append((f"m = {m}，缺失信息比例 {fmi:.2f}" if zh else f"m = {m}, FMI {fmi:.2f}")
                     if math.isfinite(fmi) else f"m = {m}")
        if "suggested_m" in n:
            parts.append(f"建议 m = {n['suggested_m']}" if zh else f"rule asks m = {n['suggested_m']}")
    if method == "ipw":
        parts.append("权重视为已知" if zh else "weights treated as known")
    if method.startswith("lee"):
        share = _f(n.get("trim_share"))
        trimmed = _arm_name(study, n.get("trimmed", ""), lang)
        if math.isfinite(share):
            parts.append(f"修剪{trimmed} {100 * share:.1f}%" if zh
                         else f"{trimmed} trimmed by {100 * share:.1f}%")
        if "lee_iid" in n:
            parts.append("标准误未考虑整群" if zh else "SEs ignore clustering")
        if "lee_few_clusters" in n:
            parts.append("每组学校少于 10 所" if zh else "fewer than 10 schools per arm")
        if "im_df" in n:
            parts.append(f"t 临界值，自由度 {_f(n['im_df']):.1f}" if zh
                         else f"t critical value, df {_f(n['im_df']):.1f}")
        parts.append("未调整的终期差异" if zh else "unadjusted endline difference")
    if method == "tipping_delta":
        c0 = n.get("conclusion", "")
        if "no_tipping" in n:
            lo, hi = n["no_tipping"].split("..")
            parts.append(f"δ 在 {lo} 至 {hi} 之间结论不变" if zh
                         else f"conclusion unchanged for δ from {lo} to {hi}")
        else:
            lo_, hi_ = _f(row.get("ci_low")), _f(row.get("ci_high"))
            at = format_value("ci", lo_, lang, high=hi_)
            word = {"positive": ("为正", "positive"), "negative": ("为负", "negative"),
                    "unclear": ("不明确", "unclear")}.get(c0, ("", c0))
            parts.append(f"δ = 0 时{word[0]}；此 δ 下区间 {at}" if zh
                         else f"{word[1]} at δ = 0; CI at this δ: {at}")
    inf = _INFERENCE.get(str(row.get("inference", "")))
    if inf and method.startswith("lee"):  # the others: the table's footnote
        parts.append(inf[lang])
    return ("；" if zh else "; ").join(parts)


def sensitivity_published(table: pd.DataFrame, study, lang: str = "en", *,
                          min_cell: int | None = None,
                          primary: pd.DataFrame | None = None) -> PublishedTable:
    """The sensitivity table as published: one row per outcome x arm x method (Lee's lower
    and upper bounds in one row), grouped by outcome. ``primary`` (:func:`primary_estimates`)
    names the design's primary model's estimate in the note of the complete-case row when
    every row uses the ANCOVA instead; that row is then labelled "complete cases, ANCOVA",
    not "primary".

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = pd.DataFrame({"outcome": "y", "arm": "t", "control": "c",
    ...                   "method": ["complete_case", "lee_lower", "lee_upper"],
    ...                   "estimate": [0.2, 0.1, 0.3], "std_error": 0.1, "ci_low": [0.01, -0.02, -0.02],
    ...                   "ci_high": [0.4, 0.5, 0.5], "n": [90, 100, 100], "n_missing": [10, 10, 10],
    ...                   "fmi": float("nan"), "inference": "cr2", "note": "", "suppressed": False})
    >>> p = sensitivity_published(t, NS(outcomes=(), label=lambda *a: a[1]), "en")
    >>> p.cells("en")["estimate"].tolist()
    ['0.20', '0.10 to 0.30']
    """
    table = attach_primary(table, primary)
    rows = []
    for (oid, arm), g in table.groupby(["outcome", "arm"], sort=False):
        name = {lg: _outcome_name(study, oid, lg) for lg in LANGS}
        arms = table["arm"].nunique() > 1
        group = {lg: (f"{name[lg]} · {_arm_name(study, arm, lg)}" if arms else name[lg])
                 for lg in LANGS}
        done = set()
        for _, r in g.iterrows():
            method = str(r["method"])
            sup = _is_true(r.get("suppressed"))
            if method.startswith("lee_"):
                kind = "lee_tightened" if "tightened" in method else "lee"
                if kind in done:
                    continue
                done.add(kind)
                lo = g[g["method"] == f"{kind}_lower"]
                hi = g[g["method"] == f"{kind}_upper"]
                if lo.empty or hi.empty:
                    continue
                lo, hi = lo.iloc[0], hi.iloc[0]
                cov = _notes(lo).get("lee_covariate")
                label = {lg: method_label(kind, lg, _column_name(study, cov, lg) if cov else None)
                         for lg in LANGS}
                est = {lg: (SUPPRESSED if sup else format_value("ci", lo["estimate"], lg,
                                                               high=hi["estimate"]))
                       for lg in LANGS}
                r = lo
            elif method == "tipping_delta":
                label = {lg: method_label(method, lg) for lg in LANGS}
                d = _f(r["estimate"])
                est = {lg: SUPPRESSED if sup else (f"δ = {d:+.2f}" if math.isfinite(d) else "–")
                       for lg in LANGS}
            else:
                key = ("complete_case_ancova" if method == "complete_case"
                       and "model_not_primary" in _notes(r) else method)
                label = {lg: method_label(key, lg) for lg in LANGS}
                est = {lg: SUPPRESSED if sup else format_value("estimate", r["estimate"], lg)
                       for lg in LANGS}
            ci = {lg: (SUPPRESSED if sup else "–" if method == "tipping_delta"
                       else format_value("ci", r["ci_low"], lg, high=r["ci_high"]))
                  for lg in LANGS}
            rows.append({"group": group, "method": label, "estimate": est, "ci": ci,
                         "n": np.nan if sup else _f(r["n"]),
                         "n_missing": np.nan if sup else _f(r["n_missing"]),
                         "detail": {lg: "" if sup else _detail(r, lg, study)
                                    for lg in LANGS},
                         "suppressed": sup})
    data = pd.DataFrame(rows, columns=["group", "method", "estimate", "ci", "n", "n_missing",
                                       "detail", "suppressed"])
    hc = "hc2" in set(table.get("inference", pd.Series(dtype=str)).astype(str))
    how = {"en": ("Complete cases and weighting: " + ("HC2 SEs with n − p df" if hc else
                  "CR2 cluster-robust SEs with Bell–McCaffrey df") + "; multiple imputation: the "
                  "same fit on each imputed data set, pooled by Rubin's rules with Barnard–Rubin df."),
           "zh": ("完整个案和加权：" + ("HC2 标准误，n − p 自由度" if hc else
                  "CR2 整群稳健标准误，Bell–McCaffrey 自由度") + "；多重插补：对每个插补数据集作同样的拟合，"
                  "按 Rubin 规则合并，自由度采用 Barnard–Rubin 法。")}
    return PublishedTable(
        data,
        [ColumnSpec("method", "Method", "方法"),
         ColumnSpec("estimate", "Estimate", "估计值"),
         ColumnSpec("ci", "95% CI", "95% 置信区间"),
         ColumnSpec("n", "Children", "儿童数", "count"),
         ColumnSpec("n_missing", "Missing", "缺失", "count"),
         ColumnSpec("detail", "How", "说明")],
        caption_en="The effect under each way of handling missing data",
        caption_zh="不同缺失数据处理方法下的效果",
        notes_en=["Estimates in the outcome's units (program arm minus control); Lee bounds: "
                  "lower to upper bound, with the Imbens–Manski 95% CI; δ in SDs of the endline "
                  "score of the program children who left (negative: they would have scored lower "
                  "than imputed).", how["en"]],
        notes_zh=["估计值为结局原始单位（项目组减对照组）；Lee 界：下界至上界，区间为 Imbens–Manski 95% "
                  "置信区间；δ 以终期分数的标准差为单位，指项目组流失儿童的分数平移量（负值：比插补值更低）。",
                  how["zh"]],
        row_groups="group", min_cell=min_cell, lang=lang)


def _small_count(r, min_cell) -> bool:
    """An absence count of 1 to ``min_cell - 1`` children, or one that the run folder
    blanked (``suppressed_counts``: :func:`analysis.disclosure.suppress_small_counts`)."""
    if "n_missing" in str(r.get("suppressed_counts", "") if not _na(r.get("suppressed_counts"))
                          else ""):
        return True
    k = _f(r.get("n_missing"))
    if _na(r.get("n_missing")) and not _na(r.get("n")):
        return True
    return min_cell is not None and math.isfinite(k) and 0 < k < min_cell


def missing_published(summary: pd.DataFrame, study, lang: str = "en", *,
                      min_cell: int | None = None) -> PublishedTable:
    """Missing waves and scale scores by arm (from :func:`missing_table`): one row per wave
    x what is missing, one column per arm with ``n_missing / n (share)``; a count of 1 to
    ``min_cell - 1`` children shows ``§ / n`` (a small count is a small cell, as anywhere
    else in the run).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = pd.DataFrame({"kind": "scale", "level": "arm", "wave": "end", "variable": "y",
    ...                   "group": ["c", "t"], "n": [329, 300], "n_missing": [1, 12],
    ...                   "share_missing": [1 / 329, 0.04]})
    >>> s = NS(outcomes=[], label=lambda col, v, lang: v)
    >>> missing_published(t, s, "en", min_cell=5).cells("en")[["c", "t"]].iloc[0].tolist()
    ['§ / 329', '12 / 300 (4.0%)']
    """
    s = summary[summary["kind"].isin(["wave", "scale"]) & (summary["level"] == "arm")].copy()
    names = {o.column_name: o.id for o in study.outcomes}
    rows = []
    arms = list(dict.fromkeys(s["group"].astype(str)))
    for (kind, wave, var), g in s.groupby(["kind", "wave", "variable"], sort=False, dropna=False):
        if kind == "wave":
            what = {"en": "Absent at the wave", "zh": "该次测量缺席"}
        else:
            oid = names.get(var, var)
            what = {lg: (f"{_outcome_name(study, oid, lg)}：分数缺失" if lg == "zh"
                         else f"{_outcome_name(study, oid, lg)}: score missing") for lg in LANGS}
        row = {"wave": {lg: _label_value(study, "wave", wave, lg) for lg in LANGS}, "what": what,
               "suppressed": False}
        for a in arms:
            r = g[g["group"].astype(str) == a]
            if r.empty:
                row[a] = "–"
                continue
            r = r.iloc[0]
            if _is_true(r.get("suppressed")) or _na(r["n"]):
                row[a] = SUPPRESSED
                row["suppressed"] = True
            elif _small_count(r, min_cell):  # 1 to min_cell - 1 children: § (and the share)
                row[a] = f"{SUPPRESSED} / {int(r['n'])}"
                row["suppressed"] = True
            else:
                row[a] = (f"{int(r['n_missing'])} / {int(r['n'])} "
                          f"({format_value('share', r['share_missing'], lang)})")
        rows.append(row)
    cols = [ColumnSpec("wave", "Wave", "测量时点"), ColumnSpec("what", "Missing", "缺失内容")]
    cols += [ColumnSpec(a, _arm_name(study, a, "en"), _arm_name(study, a, "zh")) for a in arms]
    data = pd.DataFrame(rows, columns=["wave", "what", *arms, "suppressed"])
    return PublishedTable(data, cols, caption_en="Missing by arm: missing / children (share)",
                          caption_zh="各组缺失：缺失人数 / 儿童数（比例）", min_cell=min_cell,
                          lang=lang)


def _label_value(study, column, value, lang) -> str:
    fn = getattr(study, "label", None)
    return str(fn(column, value, lang)) if fn else str(value)


_TERMS = {
    "baseline": {"en": "Baseline score (per point above the mean)", "zh": "基线分数（高于均值每分）"},
    "joint": {"en": "Joint test: arm × baseline", "zh": "联合检验：组别 × 基线"},
}


def response_published(model: pd.DataFrame, study, lang: str = "en") -> PublishedTable:
    """The response model: odds ratios with 95% CIs and p-values per term (no intercept)."""
    rows = []
    for _, r in model.iterrows():
        term = str(r["term"])
        if term == "(Intercept)":
            continue
        if term.startswith("joint"):
            label = _TERMS["joint"]
        elif term == "baseline":
            label = _TERMS["baseline"]
        elif term.startswith("arm[") and term.endswith(":baseline"):
            a = term[4:term.index("]")]
            label = {lg: f"{_arm_name(study, a, lg)} × " + ("基线分数" if lg == "zh" else "baseline")
                     for lg in LANGS}
        elif term.startswith("arm["):
            a = term[4:-1]
            label = {lg: _arm_name(study, a, lg) for lg in LANGS}
        elif "=" in term:
            c, v = term.split("=", 1)
            label = {lg: f"{_column_name(study, c, lg)}: {_label_value(study, c, v, lg)}"
                     for lg in LANGS}
        else:
            label = {lg: _column_name(study, term, lg) for lg in LANGS}
        rows.append({"term": label, "odds_ratio": r.get("odds_ratio"),
                     "or_ci_low": r.get("or_ci_low"), "or_ci_high": r.get("or_ci_high"),
                     "p_value": r["p_value"]})
    data = pd.DataFrame(rows, columns=["term", "odds_ratio", "or_ci_low", "or_ci_high", "p_value"])
    first = model.iloc[0] if len(model) else None
    n = int(first["n"]) if first is not None else 0
    nr = int(first["n_responded"]) if first is not None else 0
    cr2 = first is not None and first["vcov"] == "CR2"
    return PublishedTable(
        data,
        [ColumnSpec("term", "Term", "变量"),
         ColumnSpec("odds_ratio", "Odds ratio", "比值比", "estimate"),
         ColumnSpec("or_ci_low", "95% CI", "95% 置信区间", "ci", high="or_ci_high"),
         ColumnSpec("p_value", "p", "p 值", "p_value")],
        caption_en=f"Having the endline score: logistic regression ({nr} of {n} children)",
        caption_zh=f"是否有终期分数：logistic 回归（{n} 名儿童中 {nr} 名）",
        notes_en=[("CR2 cluster-robust SEs, Bell–McCaffrey df; joint test: HTZ Wald test."
                   if cr2 else "Model-based SEs, z tests; joint test: Wald chi-square.")],
        notes_zh=[("CR2 整群稳健标准误，Bell–McCaffrey 自由度；联合检验：HTZ Wald 检验。"
                   if cr2 else "基于模型的标准误，z 检验；联合检验：Wald 卡方检验。")],
        lang=lang)


def ipw_published(diagnostics: pd.DataFrame, study, lang: str = "en", *,
                  min_cell: int | None = None) -> PublishedTable:
    """The weight diagnostics of one outcome: one row per arm."""
    d = diagnostics.copy()
    d["arm_label"] = [{lg: _arm_name(study, a, lg) for lg in LANGS} for a in d["arm"]]
    return PublishedTable(
        d,
        [ColumnSpec("arm_label", "Arm", "组别"),
         ColumnSpec("n", "Children", "儿童数", "count"),
         ColumnSpec("n_responded", "Answered", "作答", "count"),
         ColumnSpec("response_rate", "Response rate", "作答率", "share"),
         ColumnSpec("weight_min", "Weights: min", "权重：最小", "estimate"),
         ColumnSpec("weight_max", "max", "最大", "estimate"),
         ColumnSpec("n_effective", "Effective n", "有效样本量", "count")],
        caption_en="Stabilized weights by arm", caption_zh="各组稳定化权重",
        notes_en=["Effective n: Kish's (Σw)² / Σw², the respondents the weighted arm is worth."],
        notes_zh=["有效样本量：Kish 的 (Σw)² / Σw²，即加权后相当于多少名作答者。"],
        min_cell=min_cell, lang=lang)


def lee_published(lee: pd.DataFrame, study, lang: str = "en", *,
                  min_cell: int | None = None) -> PublishedTable:
    """Lee bounds of every outcome: one row per outcome x arm x bounds type."""
    rows = []
    for _, r in lee.iterrows():
        cov = r.get("covariate")
        kind = "lee" if r["bounds"] == "basic" else "lee_tightened"
        rows.append({
            "outcome": {lg: _outcome_name(study, r["outcome"], lg) for lg in LANGS},
            "bounds": {lg: method_label(kind, lg, _column_name(study, cov, lg)
                                        if not _na(cov) else None) for lg in LANGS},
            "trimmed": {lg: _arm_name(study, r["trimmed_arm"], lg) for lg in LANGS},
            "trim_share": r["trim_share"], "lower": r["lower"], "upper": r["upper"],
            "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "se": (f"{fixed_nonzero(_f(r['se_lower']))} / {fixed_nonzero(_f(r['se_upper']))}"
                   if math.isfinite(_f(r["se_lower"])) and math.isfinite(_f(r["se_upper"]))
                   else "–"),
            "how": {lg: _lee_how(r, lg) for lg in LANGS}})
    data = pd.DataFrame(rows, columns=["outcome", "bounds", "trimmed", "trim_share", "lower",
                                       "upper", "ci_low", "ci_high", "se", "how"])
    return PublishedTable(
        data,
        [ColumnSpec("outcome", "Outcome", "结局"), ColumnSpec("bounds", "Bounds", "界"),
         ColumnSpec("trimmed", "Trimmed arm", "被修剪的组"),
         ColumnSpec("trim_share", "Trimmed", "修剪比例", "share"),
         ColumnSpec("lower", "Lower to upper", "下界至上界", "ci", high="upper"),
         ColumnSpec("ci_low", "Imbens–Manski 95% CI", "Imbens–Manski 95% 置信区间", "ci",
                    high="ci_high"),
         ColumnSpec("se", "SE (lower / upper bound)", "标准误（下界 / 上界）"),
         ColumnSpec("how", "SEs and critical value", "标准误与临界值")],
        caption_en="Lee (2009) bounds on the unadjusted endline difference",
        caption_zh="终期未调整差异的 Lee（2009）界",
        notes_en=["Bounds on the difference in endline means (program − control) of the "
                  "children who would answer in either arm, without the baseline score or "
                  "covariates: not the ANCOVA of the other rows."],
        notes_zh=["界针对无论分到哪一组都会作答的儿童的终期均值差（项目组 − 对照组），未调整基线分数和协变量："
                  "不是其他各行的协方差分析。"],
        min_cell=min_cell, lang=lang)


def _lee_how(r, lang: str) -> str:
    """How the SEs and the Imbens–Manski critical value of a Lee row were obtained."""
    method = "lee_analytic" if r["se_method"] == "analytic" else str(r["se_method"])
    how = _INFERENCE.get(method, {}).get(lang, method)
    c, df = _f(r.get("im_critical")), _f(r.get("im_df"))
    if math.isfinite(c):
        if math.isfinite(df):
            how += (f"；t 临界值 {c:.2f}（自由度 {df:.1f}）" if lang == "zh"
                    else f"; t critical value {c:.2f} (df {df:.1f})")
        else:
            how += (f"；正态临界值 {c:.2f}" if lang == "zh" else f"; normal critical value {c:.2f}")
    return how


def lee_text(study, lee: pd.DataFrame) -> dict:
    """What Lee bounds are bounds on (the unadjusted endline difference), how the
    critical value was chosen, and for an outcome where lower is better which bound is the
    favourable case.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> s = NS(outcomes=[NS(id="lonely", better="lower", label=None)])
    >>> lee = pd.DataFrame({"outcome": ["lonely"], "im_df": [18.0]})
    >>> print(lee_text(s, lee)["en"])  # doctest: +ELLIPSIS
    The bounds are on the unadjusted ... lonely: lower is better, so the lower bound is the case most favourable to the program and the upper bound the least favourable.
    """
    en = ["The bounds are on the unadjusted difference in endline means, without the baseline "
          "score or the covariates, so they are wider than an adjusted estimate would be and "
          "are not directly comparable with the ANCOVA rows."]
    zh = ["这些界针对终期均值的未调整差异（不调整基线分数和协变量），因此比调整后的估计更宽，不能与协方差分析"
          "各行直接比较。"]
    dfs = pd.to_numeric(lee.get("im_df", pd.Series(dtype=float)), errors="coerce").dropna()
    if len(dfs):
        lo, hi = dfs.min(), dfs.max()
        rng = f"{lo:.1f}" if abs(hi - lo) < 0.05 else f"{lo:.1f}–{hi:.1f}"
        en.append("With few schools a normal critical value would make the interval too narrow: "
                  "the Imbens–Manski critical value comes from the t distribution with the df of "
                  f"the primary CR2 model (Bell–McCaffrey; here {rng}), or the number of schools "
                  "minus 2 where that model could not be fitted.")
        zh.append(f"学校不多时，正态临界值会使区间过窄：Imbens–Manski 临界值取自 t 分布，自由度为主要 CR2 模型的"
                  f"自由度（Bell–McCaffrey；此处为 {rng}），该模型无法拟合时为学校数减 2。")
    for oid in dict.fromkeys(lee["outcome"].astype(str)):
        if _better(study, oid) != "lower":
            continue
        name = {lg: _outcome_name(study, oid, lg) for lg in LANGS}
        en.append(f"{name['en']}: lower is better, so the lower bound is the case most favourable "
                  "to the program and the upper bound the least favourable.")
        zh.append(f"{name['zh']}越低越好：下界是对项目最有利的情形，上界是最不利的情形。")
    return {"en": " ".join(en), "zh": "".join(zh)}


# -------------------------------------------------------------------------- words
def little_text(little: pd.DataFrame, n_outcomes: int) -> dict:
    """Little's test in one sentence, with what it can and cannot show."""
    from analysis.missingness import MCAR_CAVEAT

    r = little.iloc[0]
    if not bool(r["applicable"]):
        head = {"en": f"Little's test does not apply here ({r['reason']}).",
                "zh": f"此处不适用 Little 检验（{r['reason']}）。"}
    else:
        p = format_value("p_value", r["p_value"])
        p_en = f"p {p}" if p.startswith("<") else f"p = {p}"
        head = {"en": (f"Little's test on the {n_outcomes} outcome score(s) at every wave: "
                       f"χ² = {r['statistic']:.1f}, df = {int(r['df'])}, {p_en} "
                       f"({int(r['n'])} children, {int(r['n_patterns'])} patterns of missing "
                       "scores)."),
                "zh": (f"对 {n_outcomes} 个结局在各次测量中的分数做 Little 检验：χ² = {r['statistic']:.1f}，"
                       f"自由度 = {int(r['df'])}，{p_en}（{int(r['n'])} 名儿童，{int(r['n_patterns'])} "
                       "种缺失模式）。")}
    return {lg: f"{head[lg]} {MCAR_CAVEAT[lg]}" for lg in LANGS}


def mi_text(study, results, *, m: int = M_DEFAULT) -> dict:
    """The imputation model, m and its rule, the seed, the analysis and the pooling."""
    d = study.design
    fmis = [float(x) for r in results if r.mi is not None for x in r.mi["fmi"]]
    fmax = max(fmis) if fmis else math.nan
    from analysis.imputation import suggested_m

    # the m each outcome used (the page re-imputes with more when the rule asks for it)
    grown = [r for r in results if r.mi is not None and int(getattr(r, "m", m)) > m]
    short = [r for r in results if r.mi is not None
             and suggested_m(r.mi["fmi"]) > int(getattr(r, "m", m))]
    more_en = "; ".join(f"m = {int(r.m)} for {_outcome_name(study, r.outcome, 'en')}"
                        for r in grown)
    more_zh = "；".join(f"{_outcome_name(study, r.outcome, 'zh')} m = {int(r.m)}" for r in grown)
    if not math.isfinite(fmax):
        rule_en, rule_zh = ".", "。"
    elif short:
        rule_en = (f": the largest FMI here is {fmax:.2f}, and even after re-imputing, "
                   f"m = {suggested_m(fmis)} would be needed; the result is less stable than it "
                   "looks.")
        rule_zh = (f"：此处最大的 FMI 为 {fmax:.2f}，重新插补后仍需 m = {suggested_m(fmis)}；"
                   "结果不如看上去稳定。")
    elif grown:
        rule_en = (f", so the outcomes whose FMI asked for more were imputed again with more "
                   f"({more_en}); the largest FMI here is {fmax:.2f}.")
        rule_zh = f"；FMI 要求更多次的结局已按规则重新插补（{more_zh}）；此处最大的 FMI 为 {fmax:.2f}。"
    else:
        rule_en = f": the largest FMI here is {fmax:.2f}, so m = {m} suffices."
        rule_zh = f"：此处最大的 FMI 为 {fmax:.2f}，因此 m = {m} 已足够。"
    cl = bool(d.clusters)
    blocks = bool(d.blocks)
    covs = ", ".join(_column_name(study, c, "en") for c in d.covariates)
    covs_zh = "、".join(_column_name(study, c, "zh") for c in d.covariates)
    en = ("The missing scale scores (not the items: most missing scores are whole missing "
          "waves, and an item-level model would need a dozen equations per questionnaire) are "
          "imputed by chained equations with predictive mean matching (5 donors; mice's draw of "
          "the coefficients and type-1 matching, on statsmodels' MICEData), separately in each arm, so that every association may differ between the "
          "arms, from the baseline score"
          + (f", the covariates ({covs})" if covs else "")
          + (", the randomization blocks" if blocks else "")
          + (" and the mean of the other children's scores in the child's school (school means "
             "rather than school fixed effects: with this few children per school, fixed effects "
             "would overstate the differences between schools)" if cl else "")
          + f". m = {m} imputations, the run's seed {int(study.analysis.seed)}; the rule is at "
          "least 20 and at least 100 × the fraction of missing information (FMI), "
          "m = max(20, ⌈100 × FMI⌉)" + rule_en
          + (" Each completed data set is analysed with the model of the complete-case row ("
             if _not_primary_model(results) else
             " Each completed data set is analysed with the primary model (")
          + ("OLS ANCOVA with CR2 SEs" if cl else "ANCOVA with HC2 SEs")
          + "), and the estimates are pooled by Rubin's rules with Barnard–Rubin df. The "
          "imputation assumes that, given these variables, the missing children resemble those "
          "who answered (missing at random); the delta adjustment below relaxes that.")
    zh = ("缺失的量表分数（而不是题目：缺失的分数大多是整次测量缺失，题目层面的模型每份问卷需要十几个方程）"
          "采用链式方程、预测均值匹配（5 个供体；与 mice 相同的系数抽取和第一类匹配，基于 statsmodels 的 MICEData）在每组内分别插补，使各变量间的关系"
          "在两组间可以不同；预测变量为基线分数"
          + (f"、协变量（{covs_zh}）" if covs_zh else "")
          + ("、随机化区组" if blocks else "")
          + ("，以及同校其他儿童分数的均值（用学校均值而不是学校固定效应：每校儿童不多，固定效应会夸大学校间"
             "差异）" if cl else "")
          + f"。插补 m = {m} 次，使用本次运行的种子 {int(study.analysis.seed)}；规则是至少 20 次，并且至少为"
          "缺失信息比例（FMI）的 100 倍，即 m = max(20, ⌈100 × FMI⌉)" + rule_zh
          + ("每个插补后的数据集都用完整个案一行的模型（" if _not_primary_model(results)
             else "每个插补后的数据集都用主要模型（")
          + ("OLS 协方差分析，CR2 标准误" if cl else "协方差分析，HC2 标准误")
          + "）分析，再按 Rubin 规则合并，自由度采用 Barnard–Rubin 法。插补假定：在这些变量相同的条件下，"
          "缺失的儿童与作答的儿童相似（随机缺失）；下面的 δ 调整放宽这一假定。")
    return {"en": en, "zh": zh}


def _better(study, oid) -> str:
    for o in getattr(study, "outcomes", ()) or ():
        if str(getattr(o, "id", "")) == str(oid):
            return str(getattr(o, "better", "higher") or "higher")
    return "higher"


def tipping_words(study, oid, d: float, conclusion_at_0: str) -> dict:
    """The tipping point δ in plain words, ``{"en": ..., "zh": ...}``: how much lower (or
    higher) the program children who left would have had to score than similar children who
    stayed for the interval of multiple imputation to include 0 (or, when it included 0, to
    exclude it), and whether that is better or worse for an outcome where lower is better.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> s = NS(outcomes=[NS(id="lonely", better="lower")])
    >>> tipping_words(s, "lonely", 0.3, "negative")["en"]
    'if the program children who left would have scored 0.30 SD higher (worse, as lower is better here) than similar children who stayed, the interval of multiple imputation would include 0'
    >>> tipping_words(NS(outcomes=[]), "y", -0.11, "positive")["en"][-42:]
    'would include 0 (the result is borderline)'
    """
    lower = d < 0
    better = _better(study, oid)
    good = (better == "lower") == lower  # scoring lower is good when lower is better
    size = f"{abs(d):.2f}"
    if better == "lower":
        how_en = (f" ({'better' if good else 'worse'}, as lower is better here)")
        how_zh = f"（此结局越低越好，即{'更好' if good else '更差'}）"
    else:
        how_en = how_zh = ""
    if conclusion_at_0 in ("positive", "negative"):
        then_en, then_zh = "would include 0", "就会包含 0"
    else:
        then_en, then_zh = "would exclude 0", "就不再包含 0"
    small = abs(d) <= 0.2
    en = (f"if the program children who left would have scored {size} SD "
          f"{'lower' if lower else 'higher'}{how_en} than similar children who stayed, the "
          f"interval of multiple imputation {then_en}"
          + (" (the result is borderline)" if small else ""))
    zh = (f"如果项目组流失的儿童比留下来的同类儿童得分{'低' if lower else '高'} {size} 个标准差{how_zh}，"
          f"多重插补的区间{then_zh}" + ("（结果处于临界）" if small else ""))
    return {"en": en, "zh": zh}


def delta_text(study, table: pd.DataFrame) -> dict:
    """What the delta adjustment did and each outcome's tipping point, in words."""
    en = ["The imputed endline scores of the program children who left are shifted by δ "
          "standard deviations of the endline score (δ < 0: they would have scored lower than "
          "the children like them who stayed; δ > 0: higher), from −1 to +1 SD, and the effect "
          "re-estimated. The tipping point is the smallest shift that changes the conclusion of "
          "multiple imputation."]
    zh = ["把项目组流失儿童的终期插补分数平移 δ 个终期标准差（δ < 0：他们本会比留下来的同类儿童得分低；"
          "δ > 0：得分高），δ 从 −1 到 +1，并重新估计效果。临界点是改变多重插补结论的最小平移量。"]
    tips = table[table["method"] == "tipping_delta"]
    several = tips["arm"].nunique() > 1
    for _, r in tips.iterrows():
        if _is_true(r.get("suppressed")):
            continue
        name = {lg: _outcome_name(study, r["outcome"], lg) for lg in LANGS}
        if several:  # three arms: each program arm against the control
            name = {lg: f"{name[lg]} ({_arm_name(study, r['arm'], lg)})" for lg in LANGS}
        n = _notes(r)
        d = _f(r["estimate"])
        if math.isfinite(d):
            w = tipping_words(study, r["outcome"], d, n.get("conclusion", ""))
            en.append(f"{name['en']} (δ = {d:+.2f}): {w['en']}.")
            zh.append(f"{name['zh']}（δ = {d:+.2f}）：{w['zh']}。")
        elif "no_tipping" in n:
            lo, hi = n["no_tipping"].split("..")
            en.append(f"{name['en']}: no δ from {lo} to {hi} SD changes the conclusion.")
            zh.append(f"{name['zh']}：δ 在 {lo} 至 {hi} 个标准差之间，结论都不变。")
    return {"en": " ".join(en), "zh": "".join(zh)}


_CONC = {"positive": ("positive", "为正"), "negative": ("negative", "为负"),
         "unclear": ("unclear", "不明确")}
_METHOD_SHORT = {"mi": ("multiple imputation", "多重插补"),
                 "ipw": ("inverse probability weighting", "逆概率加权"),
                 "lee": ("Lee bounds", "Lee 界")}


def headline_sentence(table: pd.DataFrame | None, study, *, outcomes=None,
                      primary: pd.DataFrame | None = None) -> dict | None:
    """One sentence per primary outcome (and arm) on whether its conclusion survives the
    ways of handling missing data, ``{"en": ..., "zh": ...}``; None without rows.

    The conclusion of a row is where its 95% interval lies: above 0 (positive), below 0
    (negative) or across 0 (unclear); Lee bounds count through their Imbens–Manski
    interval. The complete-case row (the primary estimate) is compared with multiple
    imputation, weighting and Lee bounds, and the tipping point δ says how far the program
    children who left would have to differ from those who stayed, beyond what imputation
    assumes, to change the conclusion of multiple imputation.

    Parameters
    ----------
    table : DataFrame
        ``tables/sensitivity.csv`` (:func:`analysis.sensitivity.sensitivity_table`).
    study : survey.study.Study
    outcomes : sequence of str, optional
        Outcome ids (default the study's primary outcomes and every other outcome for which
        some method's interval excludes 0).
    primary : DataFrame, optional
        :func:`primary_estimates`: when the design's primary model is not the ANCOVA of the
        rows, a sentence says when its conclusion differs from the complete-case ANCOVA.

    A method that could not be fitted is named ("weighting could not be fitted").

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> s = NS(design=Design(type="randomized", id="id", arm="arm", control="c"),
    ...        outcomes=(NS(id="y", primary=True),), label=lambda col, v, lang: v)
    >>> t = pd.DataFrame({"outcome": "y", "arm": "t", "method": ["complete_case", "mi", "ipw",
    ...                   "lee_lower", "lee_upper", "tipping_delta"],
    ...                   "estimate": [0.3, 0.3, 0.3, 0.2, 0.4, -0.4],
    ...                   "ci_low": [0.1, 0.1, 0.1, 0.05, 0.05, 0.0], "ci_high": 0.6,
    ...                   "note": ["", "", "", "", "", "side=down;conclusion=positive"],
    ...                   "suppressed": False})
    >>> headline_sentence(t, s)["en"]
    'Missing data: the effect on y stays positive under every method tried (multiple imputation, inverse probability weighting, Lee bounds), but if the program children who left would have scored 0.40 SD lower than similar children who stayed, the interval of multiple imputation would include 0.'
    """
    if table is None or not len(table) or "method" not in table:
        return None
    table = attach_primary(table, primary)
    if outcomes is None:
        outcomes = [o.id for o in study.outcomes if getattr(o, "primary", False)]
        outcomes = outcomes or [o.id for o in study.outcomes[:1]]
        # and every other outcome with a finding: some method's interval excludes 0
        for o in study.outcomes:
            g = table[(table["outcome"].astype(str) == str(o.id))
                      & table["method"].isin(["complete_case", "mi", "ipw", "lee_lower"])
                      & ~table.get("suppressed", pd.Series(False, index=table.index))
                      .map(_is_true)]
            if o.id not in outcomes and any(
                    conclusion(_f(r["ci_low"]), _f(r["ci_high"])) != "unclear"
                    for _, r in g.iterrows()
                    if math.isfinite(_f(r["ci_low"])) and math.isfinite(_f(r["ci_high"]))):
                outcomes.append(o.id)
    from analysis.effects_rules import estimand

    word = {"effect": ("effect", "效果"), "adjusted_difference": ("difference", "差异"),
            "change": ("change", "变化")}[estimand(study.design)]
    en, zh = [], []
    t = table[table["outcome"].astype(str).isin([str(o) for o in outcomes])]
    n_arms = t["arm"].nunique()
    for (oid, arm), g in t.groupby(["outcome", "arm"], sort=False):
        by = {str(r["method"]): r for _, r in g.iterrows() if not _is_true(r.get("suppressed"))}
        cc = by.get("complete_case")
        if cc is None or not math.isfinite(_f(cc["ci_low"])):
            continue
        c0 = conclusion(_f(cc["ci_low"]), _f(cc["ci_high"]))
        tried = {}
        for key, method in (("mi", "mi"), ("ipw", "ipw"), ("lee", "lee_lower")):
            r = by.get(method)
            if r is not None and math.isfinite(_f(r["ci_low"])) and math.isfinite(_f(r["ci_high"])):
                tried[key] = conclusion(_f(r["ci_low"]), _f(r["ci_high"]))
        if not tried:
            continue
        failed = [k for k, method in (("mi", "mi"), ("ipw", "ipw"), ("lee", "lee_lower"))
                  if method in by and "not_estimable" in _notes(by[method])]
        fail_en = (f" ({_and([_METHOD_SHORT[k][0] for k in failed], 'en')} could not be "
                   "fitted)" if failed else "")
        fail_zh = (f"（{_and([_METHOD_SHORT[k][1] for k in failed], 'zh')}无法拟合）"
                   if failed else "")
        p = _primary_of(cc)
        if p is not None:
            pc = conclusion(_f(p["ci_low"]), _f(p["ci_high"]))
            ml = {lg: _model_name(p["model"], lg) for lg in LANGS}
            if pc != c0:
                prim_en = (f" The primary model ({ml['en']}) gives {_CONC[pc][0]}, unlike the "
                           "complete-case ANCOVA these methods are compared with.")
                prim_zh = f"主要模型（{ml['zh']}）的结论为{_CONC[pc][1]}，与这些方法所对照的完整个案协方差分析不同。"
            else:
                prim_en, prim_zh = "", ""
        else:
            prim_en, prim_zh = "", ""
        name = {lg: _outcome_name(study, oid, lg) for lg in LANGS}
        if n_arms > 1:
            name = {lg: f"{name[lg]} ({_arm_name(study, arm, lg)})" for lg in LANGS}
        tip = by.get("tipping_delta")
        d = _f(tip["estimate"]) if tip is not None else math.nan
        nt = _notes(tip) if tip is not None else {}
        same = [k for k, c in tried.items() if c == c0]
        other = [k for k, c in tried.items() if c != c0]
        en_list = ", ".join(_METHOD_SHORT[k][0] for k in tried)
        zh_list = "、".join(_METHOD_SHORT[k][1] for k in tried)
        if math.isfinite(d):
            w = tipping_words(study, oid, d, nt.get("conclusion", ""))
            tip_en = f"but {w['en']}"
            tip_zh = f"但{w['zh']}"
        elif "no_tipping" in nt:
            lo, hi = nt["no_tipping"].split("..")
            tip_en = f"and for every δ from {lo} to {hi} SD"
            tip_zh = f"δ 在 {lo} 至 {hi} 个标准差之间也不变"
        else:
            tip_en = tip_zh = ""
        if not other and c0 != "unclear":
            e = (f"Missing data: the {word[0]} on {name['en']} stays {_CONC[c0][0]} under every "
                 f"method tried ({en_list})" + (f", {tip_en}" if tip_en else "") + ".")
            z = (f"缺失数据：在所尝试的每种方法（{zh_list}）下，{name['zh']}的{word[1]}都保持{_CONC[c0][1]}"
                 + (f"，{tip_zh}" if tip_zh else "") + "。")
        elif not other:
            e = (f"Missing data: no method tried ({en_list}) changes the conclusion on "
                 f"{name['en']}: every interval includes 0.")
            z = f"缺失数据：所尝试的方法（{zh_list}）都没有改变{name['zh']}的结论：每个区间都包含 0。"
        else:
            why = {"unclear": ("its interval includes 0", "区间包含 0"),
                   "positive": ("positive", "为正"), "negative": ("negative", "为负")}
            oth_en = ", ".join(f"{_METHOD_SHORT[k][0]} ({why[tried[k]][0]})" for k in other)
            oth_zh = "、".join(f"{_METHOD_SHORT[k][1]}（{why[tried[k]][1]}）" for k in other)
            with_en = _and(["complete cases", *(_METHOD_SHORT[k][0] for k in same)], "en")
            with_zh = _and(["完整个案", *(_METHOD_SHORT[k][1] for k in same)], "zh")
            e = (f"Missing data: the {word[0]} on {name['en']} is {_CONC[c0][0]} with {with_en}, "
                 f"but not under {oth_en}: the conclusion depends on how the missing children "
                 "are handled" + (f"; {tip_en.removeprefix('but ')}" if math.isfinite(d) else "")
                 + ".")
            z = (f"缺失数据：{name['zh']}的{word[1]}在{with_zh}下{_CONC[c0][1]}，但在{oth_zh}下不然："
                 "结论取决于如何处理缺失的儿童"
                 + (f"；{tip_zh.removeprefix('但')}" if math.isfinite(d) else "")
                 + "。")
        if fail_en:
            e = e[:-1] + fail_en + "."
            z = z[:-1] + fail_zh + "。"
        en.append(e + prim_en)
        zh.append(z + prim_zh)
    if not en:
        return None
    # "Missing data:" once, before the first sentence
    en = en[:1] + [e.removeprefix("Missing data: ")[:1].upper()
                   + e.removeprefix("Missing data: ")[1:] for e in en[1:]]
    zh = zh[:1] + [z.removeprefix("缺失数据：") for z in zh[1:]]
    return {"en": " ".join(en), "zh": "".join(zh)}


def _and(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items[:-1]) + ("和" if len(items) > 1 else "") + items[-1]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def method_order() -> tuple[str, ...]:
    """The methods in the order of the table (:data:`analysis.sensitivity.METHODS`)."""
    return METHODS


def cluster_published(summary: pd.DataFrame, study, lang: str = "en", *,
                      min_cell: int | None = None) -> PublishedTable | None:
    """Children absent at the last wave, by outermost cluster, most first; None without
    clusters. A cluster of fewer than ``min_cell`` children shows ``§``; so does an absence
    count of 1 to ``min_cell - 1`` children, with its share (listed after the counts shown
    and before the clusters that lost no child)."""
    d = study.design
    if not d.clusters:
        return None
    s = summary[(summary["kind"] == "wave") & (summary["level"] == "cluster")
                & (summary["wave"].astype(str) == str(d.endline))].copy()
    if s.empty:
        return None
    s["sup"] = [_is_true(v) or _na(n) or (min_cell is not None and _f(n) < min_cell)
                for v, n in zip(s.get("suppressed", pd.Series(False, index=s.index)), s["n"],
                                strict=True)]
    # an absence count of 1 to min_cell - 1 children is a small cell too: it and its share
    # show §, the class size stays
    s["small"] = [_small_count(r, min_cell) for _, r in s.iterrows()]
    for c in ("n", "n_missing", "share_missing"):
        s[c] = np.where(s["sup"], np.nan, s[c].astype(float))
    for c in ("n_missing", "share_missing"):
        s[c] = np.where(s["small"], np.nan, s[c].astype(float))
    s["suppressed"] = s["sup"] | s["small"]
    # most first: shown counts by share, then the small (hidden) ones, then none absent
    s["_rank"] = np.select([s["sup"] & ~s["small"], s["small"], s["n_missing"] == 0],
                           [3, 1, 2], 0)
    s = s.sort_values(["_rank", "share_missing"], ascending=[True, False], kind="stable")
    return PublishedTable(
        s[["group", "n", "n_missing", "share_missing", "suppressed"]],
        [ColumnSpec("group", d.clusters[0], d.clusters[0]) if not hasattr(study, "column_label")
         else ColumnSpec("group", study.column_label(d.clusters[0], "en"),
                         study.column_label(d.clusters[0], "zh")),
         ColumnSpec("n", "Children", "儿童数", "count"),
         ColumnSpec("n_missing", "Absent at endline", "终期缺席", "count"),
         ColumnSpec("share_missing", "Share", "比例", "share")],
        caption_en=f"Children absent at the last wave, by {_cluster_level(study, 'en')} (most first)",
        caption_zh=f"各{_cluster_level(study, 'zh')}在最后一次测量中缺席的儿童（按比例从高到低）",
        min_cell=min_cell, lang=lang)


def items_text(summary: pd.DataFrame, study) -> dict | None:
    """The share of item answers missing among the children present, per wave, in words."""
    s = summary[(summary["kind"] == "item") & (summary["level"] == "overall")]
    if s.empty:
        return None
    parts_en, parts_zh = [], []
    for wave, g in s.groupby("wave", sort=False):
        share = g["n_missing"].sum() / max(g["n"].sum(), 1)
        parts_en.append(f"{_label_value(study, 'wave', wave, 'en')} "
                        f"{format_value('share', share, 'en')}")
        parts_zh.append(f"{_label_value(study, 'wave', wave, 'zh')} "
                        f"{format_value('share', share, 'zh')}")
    return {"en": ("Item answers missing among the children present: " + ", ".join(parts_en)
                   + " (by item in the data-quality report)."),
            "zh": "到场儿童中缺答的题目比例：" + "，".join(parts_zh) + "（逐题情况见数据质量报告）。"}


def response_text(model: pd.DataFrame, study) -> dict | None:
    """What the response model says, in words: who was more likely to answer, and whether the
    baseline score predicted answering differently in the arms (the joint arm x baseline
    test)."""
    if model is None or not len(model):
        return None
    t = model.set_index("term")
    en, zh = [], []
    for term in t.index:
        if not (str(term).startswith("arm[") and str(term).endswith("]")):
            continue
        r = t.loc[term]
        a = str(term)[4:-1]
        name = {lg: _arm_name(study, a, lg) for lg in LANGS}
        p = format_value("p_value", r["p_value"])
        p_en = f"p {p}" if p.startswith("<") else f"p = {p}"
        ci = {lg: format_value("ci", r["or_ci_low"], lg, high=r["or_ci_high"]) for lg in LANGS}
        ctl = {lg: _arm_name(study, study.design.control, lg) for lg in LANGS}
        en.append(f"At the mean baseline score, the odds of having the endline score were "
                  f"{r['odds_ratio']:.2f} times as high in {name['en']} as in {ctl['en']} "
                  f"(95% CI {ci['en']}, {p_en}).")
        zh.append(f"在基线分数处于均值时，{name['zh']}有终期分数的比值是{ctl['zh']}的 {r['odds_ratio']:.2f} 倍"
                  f"（95% 置信区间 {ci['zh']}，{p_en}）。")
    j = t.loc["joint: arm x baseline"] if "joint: arm x baseline" in t.index else None
    if j is not None and np.isfinite(_f(j["p_value"])):
        p = format_value("p_value", j["p_value"])
        p_en = f"p {p}" if p.startswith("<") else f"p = {p}"
        if _f(j["p_value"]) < 0.05:
            en.append(f"The baseline score predicted answering differently in the arms ({p_en}): "
                      "complete cases compare children who are no longer alike, and the methods "
                      "below matter.")
            zh.append(f"基线分数对是否作答的预测作用在两组间不同（{p_en}）：完整个案比较的已不是相似的儿童，"
                      "下面的方法很重要。")
        else:
            n_cl = _f(t["n_clusters"].iloc[0]) if "n_clusters" in t else math.nan
            few = bool(study.design.clusters) and not (math.isfinite(n_cl) and n_cl >= 20)
            en.append(f"No sign that the baseline score predicted answering differently in the "
                      f"arms ({p_en})" + ("; with few schools such a test has little power."
                                          if few else "; absence of evidence is not evidence of "
                                          "absence."))
            zh.append(f"没有迹象表明基线分数对是否作答的预测作用在两组间不同（{p_en}）"
                      + ("；学校较少时，这一检验的检验力有限。" if few else "；没有证据不等于没有差异。"))
    if not en:
        return None
    return {"en": " ".join(en), "zh": "".join(zh)}

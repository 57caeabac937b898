"""Why a notebook, or a section of one, has nothing to report for a study's design.

:func:`not_applicable_reason` says, in English and Chinese, why a notebook or one of its
sections does not apply (no instruments, no comparison group, one wave, no clusters, no
claims, ...); :func:`section_caveat` gives the one-line caveat of a section that applies
with a restriction (one wave: attrition and balance; a cross-sectional design with several
waves: effects at the last wave). The texts are in :data:`REASONS`; the notebooks write them
with :func:`evaluation.run_folder.not_applicable` and :meth:`~evaluation.run_folder.RunFolder.note`.
"""

from __future__ import annotations

import pandas as pd

# Why a notebook or a section does not apply: key -> (English, Chinese).
REASONS = {
    "no_instruments": (
        "This study uses no questionnaire instruments (`instruments: []`), so there is no "
        "scale whose reliability could be reported.",
        "本研究没有使用问卷量表（`instruments: []`），没有可以报告信度的量表。"),
    "no_multi_item_scale": (
        "No scale of this study's instruments has two or more items; internal consistency "
        "needs at least two items.",
        "本研究的量表都少于两道题；内部一致性信度至少需要两道题。"),
    "no_reliability_data": (
        "None of the items of this study's multi-item scales were answered in the data, so "
        "no reliability can be computed.",
        "数据中没有本研究多题量表的作答，无法计算信度。"),
    "no_items": (
        "No questionnaire items in this study: missing answers are counted per item.",
        "本研究没有问卷题目，缺失情况按题目统计。"),
    "attrition_cross_sectional": (
        "Cross-sectional design: respondents are surveyed once and not followed, so there "
        "is no attrition to report.",
        "横断面设计：每位调查对象只调查一次、不作追踪，因此没有流失可报告。"),
    "attrition_one_wave": (
        "One wave: nobody could be lost between waves; the table counts who was surveyed "
        "and who has the primary outcome.",
        "只有一次测量：不存在两次测量之间的流失；表中统计被调查人数和有主要结局的人数。"),
    "no_table1_variables": (
        "The study declares no covariates, subgroups or outcomes, so Table 1 has nothing "
        "to describe.",
        "本研究没有声明协变量、亚组或结局指标，基线特征表没有可描述的内容。"),
    "no_arm_balance": (
        "One-group design: there is no comparison group to balance.",
        "单组设计：没有对照组，无法检验均衡性。"),
    "no_pre_program_measure": (
        "One wave and no covariates: nothing was measured before the program, so balance "
        "cannot be checked (outcomes measured after it differ by the program's effect).",
        "只有一次测量且没有协变量：没有在项目开始前测量的变量，无法检验均衡性"
        "（项目之后测得的结局差异包含项目效果）。"),
    "balance_covariates_only": (
        "One wave: balance is checked on the covariates only; outcomes measured after the "
        "program are compared in the effects report.",
        "只有一次测量：均衡性只检验协变量；项目之后测得的结局在干预效果报告中比较。"),
    "no_clusters_icc": (
        "No clusters in this design (`design.clusters`): there is no intra-class "
        "correlation to estimate.",
        "本设计没有整群（`design.clusters`），没有组内相关需要估计。"),
    "no_outcomes_icc": (
        "No outcomes declared (`outcomes:` in study.yaml): there is no outcome whose "
        "intra-class correlation could be estimated.",
        "没有声明结局指标（study.yaml 中的 `outcomes:`），没有需要估计组内相关的结局。"),
    "no_baseline_content": (
        "The study declares no covariates, subgroups, outcomes, groups or clusters: there "
        "is nothing to describe at baseline.",
        "本研究没有声明协变量、亚组、结局、分组或整群：没有可描述的基线内容。"),
    "no_outcomes": (
        "The study declares no outcomes (`outcomes:` in study.yaml), so there is no effect "
        "to estimate.",
        "本研究没有声明结局指标（study.yaml 中的 `outcomes:`），没有可估计的效果。"),
    "no_comparison": (
        "A cross-sectional study without a comparison group (`design.arm`) describes one "
        "group: it has no intervention effect to estimate. Its reliability and description "
        "are in the other reports.",
        "没有对照组（`design.arm`）的横断面研究只描述一个群体，没有可估计的干预效果。"
        "信度与描述性结果见其他报告。"),
    "cross_sectional_endline": (
        "Cross-sectional design with several waves: the respondents of different waves are "
        "not linked, so the arms are compared at the last wave without a baseline score.",
        "多次测量的横断面设计：各次测量的调查对象不相同，因此只在最后一次测量比较各组，"
        "不以基线分数作协变量。"),
    "no_subgroups": (
        "No subgroups declared (`design.subgroups`).",
        "没有声明亚组（`design.subgroups`）。"),
    "no_subgroup_estimates": (
        "No subgroup effect could be estimated: the subgroup columns are missing or no "
        "level has respondents in every arm.",
        "无法估计亚组效果：缺少亚组列，或没有哪个亚组水平在各组都有调查对象。"),
    "change_one_wave": (
        "One wave: change needs a measurement before and after the program.",
        "只有一次测量：变化需要项目前后各测量一次。"),
    "change_cross_sectional": (
        "Cross-sectional design: each wave surveys different respondents, so individual "
        "change cannot be measured.",
        "横断面设计：各次测量的调查对象不相同，无法测量个人的变化。"),
    "change_no_outcomes": (
        "No outcomes declared: there is no change to measure.",
        "没有声明结局指标：没有可测量的变化。"),
    "change_no_data": (
        "No outcome has both a known reliability (`test_retest`, or the scale's alpha at "
        "baseline) and respondents measured at the first and the last wave, so reliable "
        "change cannot be computed.",
        "没有哪个结局指标既有已知信度（`test_retest` 或基线时量表的 α），又有在首次和末次"
        "测量中都被测到的调查对象，无法计算可靠变化。"),
    "no_claims": (
        "The study lists no claims to audit (`claims:` in study.yaml).",
        "study.yaml 中没有需要核查的结论（`claims:`）。"),
    "power_no_outcomes": (
        "The study declares no outcomes (`outcomes:` in study.yaml), so there is no outcome "
        "to plan a next study for.",
        "本研究没有声明结局指标（study.yaml 中的 `outcomes:`），无法为下一项研究规划样本量。"),
    "power_nothing_measured": (
        "A cross-sectional survey without a comparison group or clusters measures nothing that "
        "informs the size of a next study (no effect, no intra-class correlation). Plan a "
        "trial with `workbench power`.",
        "没有对照组、也没有整群的横断面调查，测不到任何能帮助确定下一项研究样本量的参数"
        "（没有效果，也没有组内相关）。请用 `workbench power` 规划试验。"),
    "power_no_icc": (
        "The intra-class correlation could not be estimated from this study's data: the "
        "analytic two-sample power above applies, and there is nothing to simulate.",
        "无法从本研究数据估计组内相关：上面的两样本解析功效即适用，无需模拟检验。"),
    "power_no_clusters": (
        "No clusters in this design: the analytic two-sample power above applies, and "
        "there is nothing to simulate.",
        "本设计没有整群：上面的两样本解析功效即适用，无需模拟检验。"),
    "no_contact_log": (
        "The study declares no contact log (`contacts:` in study.yaml): there is no record of "
        "what the program delivered to whom, so fidelity and dose cannot be measured. Add the "
        "log of visits, calls and letters (child id, date, activity, mentor) to see this page.",
        "本研究没有声明活动记录（study.yaml 中的 `contacts:`）：没有“为谁开展了哪些帮扶”的记录，"
        "无法衡量执行忠实度和剂量。加入家访、电话和书信的记录（儿童编号、日期、活动、帮扶人）后即可看到本页。"),
    "no_protocol": (
        "The study declares no protocol (`protocol:` in study.yaml): without what each child "
        "should receive (e.g. a home visit and a phone call a month, a letter a term) the "
        "contact log cannot be judged against a design.",
        "本研究没有声明帮扶方案（study.yaml 中的 `protocol:`）：不知道每名儿童应当得到什么（例如每月一次"
        "家访和一次电话、每学期一封信），就无法把活动记录与方案对照。"),
    "no_cace_design": (
        "There is no complier average causal effect: it needs random assignment as the "
        "instrument, and in this design the groups were not assigned at random.",
        "没有依从者平均因果效应：它需要以随机分配作为工具变量，而本设计的分组不是随机的。"),
}


NOTEBOOKS = ("00_data_quality", "01_reliability", "02_baseline", "03_effects", "04_claims",
             "05_power", "06_delivery")
SECTIONS = ("missingness", "attrition", "reliability", "table1", "balance", "icc", "effects",
            "subgroups", "change", "claims", "power", "power_simulation", "delivery", "cace")


def not_applicable_reason(study, section: str, *, table: pd.DataFrame | None = None):
    """Why a notebook or a section of one has nothing to report for this study.

    Parameters
    ----------
    study : survey.study.Study
    section : str
        A notebook stem (``"01_reliability"`` ... ``"06_delivery"``: the whole notebook)
        or a section: ``missingness, attrition, reliability, table1, balance, icc,
        effects, subgroups, change, claims, power, power_simulation, delivery`` (no contact
        log or no protocol), ``cace`` (not randomized).
    table : DataFrame, optional
        The section's computed table: when it is empty although the design allows the
        section, the data-dependent reason is returned (e.g. the scales' items are not
        in the data). For ``04_claims`` pass the change table.

    Returns
    -------
    (str, str) or None
        ``(English, Chinese)`` reason, or ``None`` when the section applies. For
        ``attrition`` (one wave), ``balance`` (one wave, with covariates) and
        ``effects`` (cross-sectional with several waves) the reason can be a caveat
        shown above a table that is still produced: see :func:`section_caveat`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> survey = NS(design=Design(type="cross_sectional", id="id"), instruments=(),
    ...             outcomes=(), claims=())
    >>> not_applicable_reason(survey, "03_effects")[0][:30]
    'The study declares no outcomes'
    >>> not_applicable_reason(survey, "01_reliability")[1][:8]
    '本研究没有使用问'
    """
    key = _reason_key(study, section, table)
    if not key:
        return None
    keys = (key,) if isinstance(key, str) else key
    return (" ".join(REASONS[k][0] for k in keys), "".join(REASONS[k][1] for k in keys))


def section_caveat(study, section: str):
    """A one-line caveat for a section that applies with a restriction, or ``None``.

    ``attrition`` with one wave, ``balance`` with one wave (covariates only),
    ``effects`` of a cross-sectional design with several waves (last wave only).
    Returns ``(English, Chinese)``.
    """
    d = study.design
    key = None
    if section == "attrition" and d.type != "cross_sectional" and not d.has_baseline:
        key = "attrition_one_wave"
    elif (section == "balance" and d.arm and not d.has_baseline and d.covariates):
        key = "balance_covariates_only"
    elif section == "effects" and d.type == "cross_sectional" and d.arm and d.has_baseline:
        key = "cross_sectional_endline"
    return REASONS[key] if key else None


def _multi_item_scales(study):
    return [(use, sc) for use in study.instruments for sc in use.instrument.scales
            if len(sc.items) >= 2]


def _reason_key(study, section, table):
    d = study.design
    empty = table is not None and len(table) == 0
    if section in ("01_reliability", "reliability"):
        if not study.instruments:
            return "no_instruments"
        if not _multi_item_scales(study):
            return "no_multi_item_scale"
        return "no_reliability_data" if empty else None
    if section == "missingness":
        return "no_items" if not study.instruments else None
    if section == "attrition":
        return "attrition_cross_sectional" if d.type == "cross_sectional" else None
    if section == "table1":
        has = bool(d.covariates or d.subgroups or study.outcomes)
        return None if has else "no_table1_variables"
    if section == "balance":
        if not d.arm:
            return "no_arm_balance"
        if not d.has_baseline and not d.covariates:
            return "no_pre_program_measure"
        return None
    if section == "icc":
        if not d.clusters:
            return "no_clusters_icc"
        return None if study.outcomes else "no_outcomes_icc"
    if section == "02_baseline":
        parts = ("table1", "balance", "icc")
        if all(_reason_key(study, p, None) for p in parts):
            return "no_baseline_content"
        return None
    if section in ("03_effects", "effects"):
        if not study.outcomes:
            return "no_outcomes"
        if d.type != "pre_post" and not d.arm:
            return "no_comparison"
        return None
    if section == "subgroups":
        if not d.subgroups:
            return "no_subgroups"
        return "no_subgroup_estimates" if empty else None
    if section == "change":
        if not study.outcomes:
            return "change_no_outcomes"
        if not d.has_baseline:
            return "change_one_wave"
        if d.type == "cross_sectional":
            return "change_cross_sectional"
        return "change_no_data" if empty else None
    if section == "claims":
        return "no_claims" if not study.claims else None
    if section == "04_claims":  # nothing at all: no claims, and no change to measure
        change = _reason_key(study, "change", table)
        return None if study.claims or change is None else ("no_claims", change)
    if section in ("05_power", "power"):
        if not study.outcomes:
            return "power_no_outcomes"
        if d.type == "cross_sectional" and not d.arm and not d.clusters:
            return "power_nothing_measured"
        return None
    if section == "power_simulation":
        return "power_no_clusters" if not d.clusters else None
    if section == "00_data_quality":
        return None
    if section in ("06_delivery", "delivery"):
        if not getattr(study, "contacts", ()):
            return "no_contact_log"
        return None if getattr(study, "protocol", None) is not None else "no_protocol"
    if section == "cace":
        return None if d.type in ("randomized", "cluster_randomized") and d.arm else \
            "no_cace_design"
    raise ValueError(f"unknown notebook or section {section!r}; one of "
                     f"{', '.join(NOTEBOOKS + SECTIONS)}")

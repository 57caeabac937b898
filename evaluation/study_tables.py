"""The published tables of a study run, composed from ``survey`` and ``analysis``.

Each function takes a loaded :class:`survey.study.Study` and the run's data
(``scores``: the long scored dataset; ``items``: item-level answers) and returns
a tidy DataFrame whose columns are the ones ``tables/*.csv`` publish. The
notebooks call these and add narrative and figures; the statistics themselves
live in :mod:`analysis`.

:func:`not_applicable_reason` says, in English and Chinese, why a notebook or one
of its sections has nothing to report for a study's design (no instruments, no
comparison group, one wave, no clusters, no claims, ...). Text in the tables (claim
verdicts, response labels) is in the language the caller passes (the run's ``lang``).

Small cells. Every published table is written through
:meth:`evaluation.run_folder.RunFolder.write_table`, which blanks rows of fewer than
``privacy.min_cell`` children (with complementary suppression). The functions here
prepare what that needs, so that no number about fewer than ``min_cell`` children
survives in any column:

- category levels (covariates and subgroups typed categorical: :func:`column_kind`)
  held by fewer than ``min_cell`` children are merged into one "other" level (其他)
  before Table 1, the balance table and the subgroup effects are built
  (:func:`merge_rare_categories`, :func:`analysis.disclosure.merge_rare_levels`):
  a free-text level such as ``其他:姑姑王芳照顾`` never reaches a table or figure;
- numeric variables (declared ``type: numeric``, outcomes, or numeric in the data)
  are described by mean and SD in Table 1, never as levels, however few distinct
  values they have;
- an arm with fewer than ``min_cell`` children (a typo such as ``treatmnet``) gets
  one row per variable in Table 1, without levels; its balance rows count the arm's
  size; its effects rows carry ``n_smallest_arm`` (the smaller of the two arms'
  analysed children) so they are suppressed; it gives no observed share to a claim
  and no size to the power inputs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analysis import describe, reliability
from analysis.disclosure import OTHER_LABEL, merge_rare_levels

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
}

NOTEBOOKS = ("00_data_quality", "01_reliability", "02_baseline", "03_effects", "04_claims",
             "05_power")
SECTIONS = ("missingness", "attrition", "reliability", "table1", "balance", "icc", "effects",
            "subgroups", "change", "claims", "power", "power_simulation")


def not_applicable_reason(study, section: str, *, table: pd.DataFrame | None = None):
    """Why a notebook or a section of one has nothing to report for this study.

    Parameters
    ----------
    study : survey.study.Study
    section : str
        A notebook stem (``"01_reliability"`` ... ``"05_power"``: the whole notebook)
        or a section: ``missingness, attrition, reliability, table1, balance, icc,
        effects, subgroups, change, claims, power, power_simulation``.
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


def _linked_waves(design) -> bool:
    """Respondents are followed over at least two waves (change is measurable)."""
    return design.has_baseline and design.type != "cross_sectional"


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
    raise ValueError(f"unknown notebook or section {section!r}; one of "
                     f"{', '.join(NOTEBOOKS + SECTIONS)}")


def validation_summary(report: dict) -> pd.DataFrame:
    """Counts of validation findings by severity and code (``tables/validation.csv``).

    Columns ``severity, code, n, example`` (the first message of each code; messages
    name files, rows and columns, never personal values or raw ids).
    """
    issues = report.get("issues", [])
    if not issues:
        return pd.DataFrame(columns=["severity", "code", "n", "example"])
    df = pd.DataFrame(issues)
    out = (df.groupby(["severity", "code"], sort=True)
             .agg(n=("code", "size"), example=("message", "first")).reset_index())
    return out.sort_values(["severity", "n"], ascending=[True, False]).reset_index(drop=True)


def missingness(study, items: pd.DataFrame) -> pd.DataFrame:
    """Percent missing per item and wave (``tables/missingness.csv``).

    Columns ``instrument, item, wave, n, n_missing, missing_pct``.
    """
    wave = study.design.wave
    rows = []
    for use in study.instruments:
        for item in use.instrument.item_ids:
            if item not in items.columns:
                continue
            for w in study.design.waves:
                col = items.loc[items[wave] == w, item]
                if len(col) == 0:
                    continue
                miss = int(col.isna().sum())
                rows.append({"instrument": use.id, "item": item, "wave": w, "n": len(col),
                             "n_missing": miss, "missing_pct": 100.0 * miss / len(col)})
    return pd.DataFrame(rows, columns=["instrument", "item", "wave", "n", "n_missing",
                                       "missing_pct"])


ATTRITION_COLUMNS = ["arm", "allocated", "enrolled", "followed_up", "analysed", "lost",
                     "attrition_rate", "differential_pp"]


def attrition_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """CONSORT counts per arm (``tables/attrition.csv``): see :func:`analysis.describe.attrition`.

    Empty (with its columns) for a cross-sectional design, whose respondents are not
    followed (:func:`not_applicable_reason`).
    """
    d = study.design
    if d.type == "cross_sectional":
        return pd.DataFrame(columns=ATTRITION_COLUMNS)
    primary = study.primary_outcomes[0].column_name if study.primary_outcomes else None
    return describe.attrition(scores, id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves),
                              analysed=primary, control=d.control)


def reliability_table(study, items: pd.DataFrame):
    """Alpha, omega and item statistics per instrument, scale and wave.

    Returns
    -------
    (DataFrame, DataFrame)
        ``tables/reliability.csv`` with columns ``instrument, scale, wave, n,
        n_items, alpha, alpha_ci_low, alpha_ci_high, omega_total`` (plus
        ``alpha_std``), and ``tables/item_statistics.csv`` with ``instrument,
        scale, wave, item, n, mean, sd, r_item_rest, alpha_if_deleted``. Items
        are reverse-keyed by the instrument's keys before analysis.
    """
    from survey.scoring import keyed_items

    rel_rows, item_rows = [], []
    wave = study.design.wave
    for use in study.instruments:
        inst = use.instrument
        for scale in inst.scales:
            if not all(i in items.columns for i in scale.items) or len(scale.items) < 2:
                continue
            for w in study.design.waves:
                sub = items.loc[items[wave] == w]
                if sub.empty:
                    continue
                keyed = keyed_items(sub, inst, scale.id).astype(float)
                r = reliability.reliability(keyed).iloc[0]
                rel_rows.append({"instrument": inst.id, "scale": scale.id, "wave": w,
                                 "n": int(r["n"]), "n_items": int(r["n_items"]),
                                 "alpha": r["alpha"], "alpha_ci_low": r["alpha_ci_low"],
                                 "alpha_ci_high": r["alpha_ci_high"],
                                 "omega_total": r["omega_total"], "alpha_std": r["alpha_std"]})
                st = reliability.item_statistics(keyed)
                st.insert(0, "wave", w)
                st.insert(0, "scale", scale.id)
                st.insert(0, "instrument", inst.id)
                item_rows.append(st)
    rel = pd.DataFrame(rel_rows, columns=["instrument", "scale", "wave", "n", "n_items", "alpha",
                                          "alpha_ci_low", "alpha_ci_high", "omega_total",
                                          "alpha_std"])
    stats = (pd.concat(item_rows, ignore_index=True) if item_rows
             else pd.DataFrame(columns=["instrument", "scale", "wave", "item", "n", "mean", "sd",
                                        "r_item_rest", "alpha_if_deleted"]))
    return rel, stats


def response_counts(study, items: pd.DataFrame, instrument_id: str, wave: str, *,
                    lang: str | None = None) -> pd.DataFrame:
    """How many chose each response, per item (for item distribution plots).

    Columns ``item, response, n``: response labels in ``lang`` (the run's language;
    default the study's) when the instrument has them, else in English, else the code.
    """
    inst = study.instrument(instrument_id)
    lang = lang or study.language
    sub = items.loc[items[study.design.wave] == wave]
    rows = []
    for item in inst.item_ids:
        if item not in sub.columns:
            continue
        counts = sub[item].value_counts(dropna=True)
        for code in range(inst.response.min, inst.response.max + 1):
            lab = inst.response.labels.get(code) or {}
            text = lab.get(lang) or lab.get("en") or str(code)
            rows.append({"item": item, "response": f"{code} {text}" if text != str(code) else text,
                         "n": int(counts.get(float(code), 0))})
    return pd.DataFrame(rows, columns=["item", "response", "n"])


def baseline_rows(study, scores: pd.DataFrame) -> pd.DataFrame:
    """The baseline wave's rows (one per respondent)."""
    d = study.design
    return scores.loc[scores[d.wave] == d.baseline]


def _min_cell(study) -> int:
    privacy = getattr(study, "privacy", None)
    return int(getattr(privacy, "min_cell", 1) or 1)


def column_kind(study, column: str, values: pd.Series | None = None) -> str:
    """``"numeric"`` or ``"categorical"``: how a covariate, subgroup or outcome is described.

    The study's declaration first (:meth:`survey.study.Study.column_type`: outcomes and
    ``type: numeric`` columns are numeric, subgroups and ``type: categorical`` columns
    categorical), then scale scores (numeric), then the data's type. The number of
    distinct values never decides: three children's scores are not three levels.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> study = NS(outcomes=[], column_type=lambda c: {"gender": "categorical"}.get(c))
    >>> column_kind(study, "gender", pd.Series([0, 1])), column_kind(study, "age", pd.Series([9, 9]))
    ('categorical', 'numeric')
    """
    declared = study.column_type(column) if hasattr(study, "column_type") else None
    if declared in ("numeric", "categorical"):
        return declared
    if any(getattr(o, "column_name", None) == column for o in getattr(study, "outcomes", ())):
        return "numeric"
    if values is not None and pd.api.types.is_numeric_dtype(values) \
            and not pd.api.types.is_bool_dtype(values):
        return "numeric"
    return "categorical"


def merge_rare_categories(study, scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with the rare levels of categorical covariates and subgroups merged.

    A level held by fewer than ``privacy.min_cell`` children (counted once per child
    over all waves) becomes ``其他`` (Chinese studies) or ``other``
    (:func:`analysis.disclosure.merge_rare_levels`). Numeric columns, and columns
    without a rare level, are returned unchanged. Table 1, the balance table and the
    subgroup effects all use this, so they publish the same levels.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> study = NS(design=Design(type="cross_sectional", id="id", covariates=("guardian",)),
    ...            outcomes=[], language="en", privacy=NS(min_cell=3))
    >>> data = pd.DataFrame({"id": range(7), "wave": "w",
    ...                      "guardian": ["grandparents"] * 5 + ["aunt Wang, 139..."] * 2})
    >>> merge_rare_categories(study, data)["guardian"].value_counts().to_dict()
    {'grandparents': 5, 'other': 2}
    """
    d = study.design
    min_cell = _min_cell(study)
    other = OTHER_LABEL.get(getattr(study, "language", "en"), OTHER_LABEL["en"])
    out = scores
    for v in dict.fromkeys(list(d.covariates) + list(d.subgroups)):
        if v not in scores.columns or column_kind(study, v, scores[v]) != "categorical":
            continue
        ids = scores[d.id] if d.id in scores.columns else None
        merged = merge_rare_levels(scores[v], min_cell, other, ids=ids)
        if merged.attrs.get("merged_levels"):
            if out is scores:
                out = scores.copy()
            out[v] = merged
    return out


def _tiny_arms(study, base: pd.DataFrame) -> set:
    """Arms with fewer than ``min_cell`` children in ``base`` (one row per child)."""
    d = study.design
    if not d.arm or d.arm not in base.columns:
        return set()
    sizes = base.groupby(d.arm, sort=False).size()
    return {a for a, n in sizes.items() if 0 < n < _min_cell(study)}


def table1(study, scores: pd.DataFrame) -> pd.DataFrame:
    """"Table 1": baseline characteristics by arm (``tables/table1.csv``).

    Columns ``variable, level, arm, n, mean, sd, share``: numeric variables
    (:func:`column_kind`) get a mean and SD; categorical ones one row per level with its
    count and share, after rare levels were merged (:func:`merge_rare_categories`).
    An arm with fewer than ``privacy.min_cell`` children gets one row per variable,
    with ``level`` empty and ``n`` its number of children, which suppression then
    blanks: its levels would show the children's characteristics.
    """
    d = study.design
    scores = merge_rare_categories(study, scores)
    base = baseline_rows(study, scores)
    arm = d.arm
    variables = list(dict.fromkeys(list(d.covariates) + list(d.subgroups)
                                   + [o.column_name for o in study.outcomes]))
    kinds = {v: column_kind(study, v, base[v]) for v in variables if v in base.columns}
    tiny = _tiny_arms(study, base)
    rows = []
    groups = base.groupby(arm, sort=True) if arm else [("all", base)]
    for a, g in groups:
        for v in variables:
            if v not in g.columns:
                continue
            col = g[v]
            if a in tiny:
                rows.append({"variable": v, "level": "", "arm": a, "n": int(len(g)),
                             "mean": np.nan, "sd": np.nan, "share": np.nan})
            elif kinds[v] == "numeric":
                num = pd.to_numeric(col, errors="coerce")
                rows.append({"variable": v, "level": "", "arm": a, "n": int(num.notna().sum()),
                             "mean": num.mean(), "sd": num.std(), "share": np.nan})
            else:
                total = int(col.notna().sum())
                for level, n in col.value_counts(dropna=True).sort_index().items():
                    rows.append({"variable": v, "level": str(level), "arm": a, "n": int(n),
                                 "mean": np.nan, "sd": np.nan,
                                 "share": n / total if total else np.nan})
    return pd.DataFrame(rows, columns=["variable", "level", "arm", "n", "mean", "sd", "share"])


def balance_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Baseline balance (``tables/balance.csv``): :func:`analysis.describe.baseline_balance`
    on covariates and baseline outcomes, plus ``n_smallest_arm`` (the count that
    small-cell suppression applies to: see :func:`_smallest_cell`). Empty for
    one-group designs. With one wave the outcomes were measured after the program
    (their arm difference is the effect, not imbalance): covariates only, and empty
    without covariates (:func:`not_applicable_reason`)."""
    d = study.design
    outcomes = [o.column_name for o in study.outcomes] if d.has_baseline else []
    if not d.arm or not (list(d.covariates) + outcomes):
        # one group, or nothing measured before the program: the header says what would be here
        return pd.DataFrame(columns=["variable", "level", "arm", "control", "n_treatment",
                                     "n_control", "mean_treatment", "mean_control", "sd_pooled",
                                     "smd", "method", "abs_smd", "wwc_flag", "n_smallest_arm"])
    base = baseline_rows(study, merge_rare_categories(study, scores))
    variables = [v for v in dict.fromkeys(list(d.covariates) + outcomes) if v in base.columns]
    base = base.copy()
    for v in variables:  # the declared type decides, as in Table 1
        if column_kind(study, v, base[v]) == "numeric":
            base[v] = pd.to_numeric(base[v], errors="coerce")
        elif pd.api.types.is_numeric_dtype(base[v]) and not set(base[v].dropna()) <= {0, 1}:
            base[v] = base[v].map(lambda x: x if pd.isna(x) else
                                  str(int(x)) if float(x).is_integer() else str(x))
    out = describe.baseline_balance(base, variables, arm=d.arm, control=d.control)
    return out.assign(n_smallest_arm=_smallest_cell(out, _min_cell(study)))


def _smallest_cell(bal: pd.DataFrame, min_cell: int = 1) -> list[int]:
    """The count small-cell suppression of the balance table is applied to.

    A level row (a category, or the 1s of a binary variable) publishes the level's
    share in each arm next to the arm's size, so its count in each arm is
    ``share x n``; the row's count is the smaller of the two arms. A binary variable
    has one row, whose share also gives the count of 0s (``n - count``), so the
    smaller of the two counts is used. A continuous row's count is the smaller arm.
    When either arm has fewer than ``min_cell`` children, every row's count is that
    arm's size: a share of a tiny arm describes its children even when the level's
    count is 0 (``3, 3, 1.0, 1.0``: all three children of both arms have the level).
    """
    if bal.empty:
        return []
    rows_per = bal.groupby(["variable", "arm"])["level"].transform("size").to_numpy()
    out = []
    for r, k in zip(bal.itertuples(index=False), rows_per):
        nt, nc = float(r.n_treatment), float(r.n_control)
        if 0 < min(nt, nc) < min_cell:
            out.append(int(min(nt, nc)))
        elif str(r.level) != "":
            counts = []
            for share, n in ((r.mean_treatment, nt), (r.mean_control, nc)):
                c = round(float(share) * n) if np.isfinite(share) else 0
                counts.append(min(c, n - c) if k == 1 else c)  # binary: 1s and 0s
            out.append(int(min(counts)))
        else:
            out.append(int(min(nt, nc)))
    return out


def icc_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """ICCs of each outcome at each cluster level and wave (``tables/icc.csv``)."""
    d = study.design
    if not d.clusters or not study.outcomes:
        return pd.DataFrame(columns=["outcome", "wave", "level", "variance", "icc"])
    cols = {o.column_name: o.id for o in study.outcomes}
    out = describe.icc(scores, list(cols), clusters=list(d.clusters), wave=d.wave)
    out["outcome"] = out["outcome"].map(cols).fillna(out["outcome"])
    return out


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


def reliability_for_change(study, rel: pd.DataFrame) -> dict:
    """Reliability per outcome for the reliable change index: the outcome's
    ``test_retest`` if given, else the instrument's, else alpha at baseline."""
    out = {}
    for o in study.outcomes:
        r = o.test_retest
        if r is None and o.scale:
            inst_id, scale_id = o.scale.split(".", 1)
            inst = study.instrument(inst_id)
            r = inst.test_retest
            if r is None and not rel.empty:
                hit = rel[(rel["instrument"] == inst_id) & (rel["scale"] == scale_id)
                          & (rel["wave"] == study.design.baseline)]
                if len(hit):
                    r = float(hit["alpha"].iloc[0])
        if r is not None and np.isfinite(r) and 0 < r < 1:  # alpha <= 0 is no reliability
            out[o.id] = float(r)
    return out


_CHANGE_COLUMNS = ["outcome", "arm", "n", "improved", "improved_ci_low", "improved_ci_high",
                   "worse", "worse_ci_low", "worse_ci_high", "n_improved", "n_worse",
                   "reliability", "sd_baseline"]


def change_summary(study, scores: pd.DataFrame, reliabilities: dict) -> pd.DataFrame:
    """Shares reliably improved / worse by arm (``tables/change.csv``).

    Empty (with its columns) when respondents are not followed over two waves (one
    wave, or a cross-sectional design) or no outcome has a reliability.
    """
    from analysis.change import change_table

    d = study.design
    if not _linked_waves(d) or not reliabilities:  # see not_applicable_reason(study, "change")
        return pd.DataFrame(columns=_CHANGE_COLUMNS)
    cols = {o.column_name: o.id for o in study.outcomes if o.id in reliabilities}
    renamed = scores.rename(columns=cols)
    return change_table(renamed, list(cols.values()), id=d.id, wave=d.wave, waves=list(d.waves),
                        arm=d.arm, reliability=reliabilities,
                        better={o.id: o.better for o in study.outcomes})


def design_inputs(study, scores: pd.DataFrame) -> dict:
    """ICC, cluster size and covariate R² measured in this study, for planning the next.

    Uses the primary outcome at baseline for the ICC at the outermost cluster level
    and the baseline score as covariate of the endline score for R². Returns a dict
    with ``outcome, icc, cluster_size, n_clusters, r2_1, r2_2, n_per_arm``.
    """
    from analysis.variance_explained import r2_by_level

    d = study.design
    if not study.outcomes:
        raise ValueError("the study declares no outcomes: there is nothing to plan a next "
                         "study for (see not_applicable_reason(study, '05_power'))")
    primary = study.primary_outcomes[0] if study.primary_outcomes else study.outcomes[0]
    col = primary.column_name
    base = baseline_rows(study, scores)
    sizes = base.groupby(d.arm).size() if d.arm else pd.Series([len(base)])
    sizes = sizes[sizes >= _min_cell(study)]  # an arm of 1 (a typo) is no arm to plan with
    out = {"outcome": primary.id, "icc": np.nan, "cluster_size": np.nan, "n_clusters": np.nan,
           "r2_1": 0.0, "r2_2": 0.0,
           "n_per_arm": float(sizes.mean()) if len(sizes) else np.nan}
    if d.clusters:
        top = d.clusters[0]
        icc = describe.icc(base, col, clusters=top)
        out["icc"] = float(icc.loc[icc["level"] == top, "icc"].iloc[0])
        sizes = base.groupby(top).size()
        out["cluster_size"], out["n_clusters"] = float(sizes.mean()), int(len(sizes))
        if _linked_waves(d):
            wide = scores.pivot_table(index=[d.id, top], columns=d.wave, values=col).reset_index()
            if d.baseline in wide and d.endline in wide:
                r2 = r2_by_level(wide, d.endline, d.baseline, top).set_index("level")["r2"]
                r21, r22 = float(r2["individual"]), float(r2[top])
                out["r2_1"] = min(0.99, max(0.0, r21)) if np.isfinite(r21) else 0.0
                out["r2_2"] = min(0.99, max(0.0, r22)) if np.isfinite(r22) else 0.0
    return out


def power_curves(inputs: dict, *, effects=(0.2, 0.3, 0.4), alpha=0.05) -> pd.DataFrame:
    """Power by number of clusters (cluster designs) or per-arm n (others).

    Columns ``series, clusters`` or ``n_per_arm``, ``effect, power``.
    """
    from analysis import power

    rows = []
    if np.isfinite(inputs.get("icc", np.nan)):
        n = max(2.0, round(inputs["cluster_size"]))
        for eff in effects:
            for j in range(6, 81, 2):
                r = power.power_cluster2(j, n, max(inputs["icc"], 0.0), effect=eff,
                                         r2_1=inputs["r2_1"], r2_2=inputs["r2_2"],
                                         n_covariates=1 if inputs["r2_2"] > 0 else 0, alpha=alpha)
                rows.append({"series": f"d = {eff}", "clusters": j, "effect": eff,
                             "power": float(r["power"].iloc[0])})
        return pd.DataFrame(rows)
    for eff in effects:
        for n in range(10, 401, 10):
            r = power.power_t(effect=eff, n=n, alpha=alpha, design="two_sample")
            rows.append({"series": f"d = {eff}", "n_per_arm": n, "effect": eff,
                         "power": float(r["power"].iloc[0])})
    return pd.DataFrame(rows)


def mdes_table(inputs: dict, *, power_target=0.8, alpha=0.05) -> pd.DataFrame:
    """Minimum detectable effect size for a range of sample sizes (``tables/power.csv``)."""
    from analysis import power

    rows = []
    if np.isfinite(inputs.get("icc", np.nan)):
        n = max(2.0, round(inputs["cluster_size"]))
        for j in (10, 14, 20, 30, 40, 60, 80):
            for label, r21, r22 in (("no covariates", 0.0, 0.0),
                                    ("baseline score as covariate", inputs["r2_1"],
                                     inputs["r2_2"])):
                r = power.power_cluster2(j, n, max(inputs["icc"], 0.0), power=power_target,
                                         r2_1=r21, r2_2=r22,
                                         n_covariates=1 if r22 > 0 else 0, alpha=alpha)
                rows.append({"design": "cluster2", "clusters": j, "cluster_size": n,
                             "icc": inputs["icc"], "covariates": label, "r2_1": r21, "r2_2": r22,
                             "power": power_target, "mdes": float(r["mdes"].iloc[0])})
        return pd.DataFrame(rows)
    for n in (20, 30, 50, 80, 100, 150, 200, 300):
        r = power.power_t(n=n, power=power_target, alpha=alpha, design="two_sample")
        rows.append({"design": "two_sample", "n_per_arm": n, "power": power_target,
                     "mdes": float(r["effect"].iloc[0])})
    return pd.DataFrame(rows)


def observed_improvement(study, scores: pd.DataFrame, outcome_id: str, definition: str,
                         reliability: float | None) -> dict:
    """How many respondents of each arm "improved" between the first and last wave.

    ``definition`` is ``any_increase`` (a change in the better direction) or
    ``reliable_change`` (Jacobson–Truax RCI beyond 1.96, pooled baseline SD).
    Returns ``{arm: (x, n)}``; the arm is ``"all"`` for a one-group design.
    """
    from analysis.change import reliable_change

    d = study.design
    o = study.outcome(outcome_id)
    if not _linked_waves(d):  # one wave, or different respondents at each wave
        return {}
    wide = scores.pivot_table(index=[d.id] + ([d.arm] if d.arm else []), columns=d.wave,
                              values=o.column_name, aggfunc="first").reset_index()
    if d.baseline not in wide or d.endline not in wide:
        return {}
    sd = float(scores.loc[scores[d.wave] == d.baseline, o.column_name].std())
    both = wide.dropna(subset=[d.baseline, d.endline])
    if definition == "reliable_change":
        if reliability is None:
            return {}
        rc = reliable_change(both[d.baseline].to_numpy(), both[d.endline].to_numpy(),
                             reliability=reliability, sd=sd, better=o.better)
        improved = (rc["status"] == "improved").to_numpy()
    else:
        change = both[d.endline] - both[d.baseline]
        improved = ((change > 0) if o.better == "higher" else (change < 0)).to_numpy()
    arms = both[d.arm].to_numpy() if d.arm else np.array(["all"] * len(both))
    return {str(a): (int(improved[arms == a].sum()), int((arms == a).sum()))
            for a in sorted(set(arms))}


def _publishable_shares(counts: dict, min_cell: int) -> dict:
    """``{arm: (x, n)}`` without the arms whose share would describe fewer than
    ``min_cell`` children: an arm of fewer than ``min_cell``, or ``x`` or ``n - x``
    between 1 and ``min_cell - 1`` (3 of 40 improved names a small group).

    >>> _publishable_shares({"t": (30, 40), "c": (2, 40), "typo": (1, 1)}, 5)
    {'t': (30, 40)}
    """
    return {a: (x, n) for a, (x, n) in counts.items()
            if n >= min_cell and not 0 < x < min_cell and not 0 < n - x < min_cell}


def claims_audit(study, scores: pd.DataFrame, reliabilities: dict, *, lang: str | None = None):
    """Audit every claim of the study (``tables/claims.csv``).

    Returns ``(table, audits)``: the table with columns ``claim, claimed_proportion,
    n, ci_low, ci_high, null_proportion, observed_treatment, observed_control,
    verdict`` (plus the audit's other columns), and the :class:`ClaimAudit` objects.
    The verdict and the observed shares' text are in ``lang`` (``"zh"`` or ``"en"``:
    the run's language; default the study's).
    The observed shares come from this study's data with the claim's definition of
    "improved"; ``treatment`` is the first non-control arm (or the single group). An
    arm's share is left out when it would describe fewer than ``privacy.min_cell``
    children (:func:`_publishable_shares`).
    """
    from analysis.claims import audit_claim

    d = study.design
    lang = lang or study.language
    rows, audits = [], []
    for c in study.claims:
        rel = reliabilities.get(c.outcome) if c.outcome else None
        obs_counts = observed_improvement(study, scores, c.outcome, c.improved, rel) if c.outcome else {}
        obs_counts = _publishable_shares(obs_counts, _min_cell(study))
        observed = {}
        if obs_counts:
            treated = [a for a in obs_counts if a != d.control]
            if treated:
                observed["treatment"] = obs_counts[treated[0]]
            if d.control in obs_counts:
                observed["control"] = obs_counts[d.control]
        # The claim's own source (a report) does not say how many schools; the study's
        # clusters may be classes, so nothing is said about schools here.
        n_schools = None
        a = audit_claim(c.proportion, c.n, reliability=rel if rel else 0.8, improved=c.improved,
                        observed=observed or None, has_baseline=_linked_waves(d),
                        has_comparison=bool(d.arm) and "control" in observed,
                        n_schools=n_schools, claim=c.text, alpha=study.analysis.alpha,
                        lang=lang, seed=study.analysis.seed)
        t = a.table.copy()
        t["claim_id"] = c.id
        t["outcome"] = c.outcome
        t["reliability_source"] = "study" if rel else "default 0.8"
        rows.append(t)
        audits.append(a)
    if not rows:
        return pd.DataFrame(columns=["claim", "claimed_proportion", "n", "ci_low", "ci_high",
                                     "null_proportion", "observed_treatment",
                                     "observed_control", "verdict"]), []
    return pd.concat(rows, ignore_index=True), audits


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
    from analysis.effects import estimate_effects

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
                           adjust=adjust).tidy()
    res = res.assign(n_smallest_arm=_effects_smallest_arm(design, fitted, outcomes, res))
    if tiny:
        models = res.drop_duplicates(subset=["outcome", "model"])[["outcome", "model",
                                                                     "primary"]]
        if models.empty:
            models = pd.DataFrame({"outcome": list(outcomes), "model": "", "primary": True})
        extra = [{"outcome": m.outcome, "arm": a, "control": design.control, "model": m.model,
                  "primary": m.primary, "n_smallest_arm": float(sizes[a])}
                 for a in sorted(tiny, key=str) for m in models.itertuples(index=False)]
        res = pd.concat([res, pd.DataFrame(extra)], ignore_index=True)
    return res


def _effects_smallest_arm(design, data: pd.DataFrame, outcomes: dict,
                          res: pd.DataFrame) -> list[float]:
    """Per effects row: the analysed children of the smaller of its two arms.

    ``n_obs`` counts both arms (and, for some models, both waves), so an arm of one
    child next to a control arm of 60 would pass as 61; this is the count small-cell
    suppression of ``tables/effects.csv`` is applied to. Children count when they have
    the outcome at the last wave. One-group designs: ``n_obs``.
    """
    if res.empty:
        return []
    if not design.arm or design.arm not in data.columns:
        return [float(x) for x in res["n_obs"]]
    last = data.loc[data[design.wave].astype(str) == str(design.waves[-1])] \
        if design.wave in data.columns else data
    out = []
    for r in res.itertuples(index=False):
        col = outcomes.get(r.outcome, r.outcome)
        sub = last.loc[last[col].notna()] if col in last.columns else last
        key = design.id if design.id in sub.columns else None
        counts = (sub.groupby(design.arm)[key].nunique() if key
                  else sub.groupby(design.arm).size())
        arms = [a for a in (r.arm, design.control) if a is not None and not pd.isna(a)]
        out.append(float(min(counts.get(a, 0) for a in arms)) if arms else float(r.n_obs))
    return out


def subgroup_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Per-subgroup effects and interaction tests (``tables/subgroups.csv``), forest-plot data.

    Adds ``n_smallest_arm``: the smallest number of analysed respondents of one arm
    within the level (the count small-cell suppression is applied to). Levels held by
    fewer than ``privacy.min_cell`` children are merged first
    (:func:`merge_rare_categories`). An arm with fewer than ``min_cell`` children at
    the last wave (a typo such as ``treatmnet``) is not split into subgroups: it gets
    one row per outcome and subgroup, ``level`` empty and no estimate, whose
    ``n_smallest_arm`` (its size) is then suppressed.
    """
    from analysis.effects import subgroup_effects

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
    for sg in d.subgroups:
        if sg not in scores.columns:
            continue
        res = subgroup_effects(scores, outcomes, d, sg, alpha=study.analysis.alpha).tidy()
        if tiny and d.arm:
            res = pd.concat([res, pd.DataFrame(
                [{"outcome": o, "arm": a, "control": d.control, "subgroup": sg, "level": "",
                  "n_smallest_arm": int(sizes[a])} for o in outcomes for a in sorted(tiny)])],
                ignore_index=True)
        if res.empty:
            continue
        smallest = []
        for r in res.itertuples():
            if r.arm in tiny:
                smallest.append(int(r.n_smallest_arm))
                continue
            col = outcomes.get(r.outcome, r.outcome)
            sub = end.loc[(end[sg].astype(str) == str(r.level)) & end[col].notna()]
            if d.arm:
                counts = sub.groupby(d.arm).size()
                arms = [a for a in (r.arm, d.control) if a is not None]
                smallest.append(int(min(counts.get(a, 0) for a in arms)))
            else:
                smallest.append(int(len(sub)))
        res = res.assign(n_smallest_arm=smallest)
        frames.append(res)
    if not frames:
        return pd.DataFrame(columns=["outcome", "arm", "subgroup", "level", "estimate",
                                     "std_error", "df", "ci_low", "ci_high", "n_obs",
                                     "n_clusters", "interaction_p", "n_smallest_arm"])
    return pd.concat(frames, ignore_index=True)

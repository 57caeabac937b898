"""The tables of the data quality page (``00_data_quality``): validation findings,
missing answers per item and wave, and attrition (CONSORT counts per arm)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import describe
from analysis.attrition_standards import attrition_rates, wwc_attrition


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
    shown = list(dict.fromkeys(i for use in study.instruments for i in use.instrument.item_ids
                               if i in items.columns))
    counts = {}  # wave -> (rows, missing per item), one pass over the wave's rows
    for w in study.design.waves:
        sub = items.loc[items[wave] == w, shown]
        counts[w] = (len(sub), sub.isna().sum().to_dict())
    rows = []
    for use in study.instruments:
        for item in use.instrument.item_ids:
            if item not in items.columns:
                continue
            for w in study.design.waves:
                n, missing = counts[w]
                if n == 0:
                    continue
                miss = int(missing[item])
                rows.append({"instrument": use.id, "item": item, "wave": w, "n": n,
                             "n_missing": miss, "missing_pct": 100.0 * miss / n})
    return pd.DataFrame(rows, columns=["instrument", "item", "wave", "n", "n_missing",
                                       "missing_pct"])


ATTRITION_COLUMNS = ["arm", "allocated", "enrolled", "followed_up", "analysed", "lost",
                     "attrition_rate", "differential_pp", "wwc_overall_pp", "wwc_differential_pp",
                     "wwc_cautious", "wwc_cautious_max_pp", "wwc_optimistic",
                     "wwc_optimistic_max_pp"]
"""Columns of ``tables/attrition.csv`` (:func:`attrition_table`), before the suppression
columns."""

WWC_COLUMNS = ATTRITION_COLUMNS[8:]
"""The What Works Clearinghouse columns of ``tables/attrition.csv`` (see :func:`attrition_table`)."""

RANDOMIZED = ("randomized", "cluster_randomized")
"""Design types whose attrition the WWC attrition standard applies to."""

_SEVERITY = {"low": 0, "undetermined": 1, "high": 2}


def attrition_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """CONSORT counts per arm and the WWC attrition classes (``tables/attrition.csv``).

    The counts are :func:`analysis.describe.attrition` ("analysed": at the last wave
    with the primary outcome, the first outcome when none is primary). The What Works
    Clearinghouse columns (:func:`analysis.attrition_standards.wwc_attrition`, Standards
    Handbook table of overall vs differential attrition) are filled for randomized
    designs (``randomized``, ``cluster_randomized``) with a control arm, at the child
    level:

    - on each treatment arm's row, for its comparison with the control arm:
      ``wwc_overall_pp`` (percent of the children of the two arms not analysed),
      ``wwc_differential_pp`` (absolute difference of the two arms' attrition rates,
      percentage points), ``wwc_cautious`` / ``wwc_optimistic`` (``"low"``, ``"high"``
      or ``"undetermined"`` under the cautious and the optimistic boundary) and
      ``wwc_cautious_max_pp`` / ``wwc_optimistic_max_pp`` (the highest differential that
      still counts as low at that overall rate; empty when none does);
    - on the ``overall`` row: the same columns of the least favourable comparison (high,
      then undetermined, then low; ties: the larger differential). With two arms this
      is the one comparison, and ``wwc_overall_pp`` equals ``100 x attrition_rate``.

    The control row, and every row of other designs, leave them empty (the WWC
    attrition standard is for randomized studies; a non-randomized comparison is judged
    by the baseline equivalence of its analysed sample, page 02). A comparison with an
    arm of fewer than ``privacy.min_cell`` children is not classified (its counts are
    suppressed when the table is written). Empty (with its columns) for a
    cross-sectional design, whose respondents are not followed
    (:func:`not_applicable_reason`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", waves=("pre", "post"))
    >>> study = NS(design=d, outcomes=[NS(column_name="y")], primary_outcomes=[],
    ...            privacy=NS(min_cell=1))
    >>> pre = pd.DataFrame({"id": range(200), "wave": "pre", "arm": ["t", "c"] * 100, "y": 1.0})
    >>> post = pre[~pre["id"].isin(range(0, 20, 2)) & ~pre["id"].isin(range(1, 60, 2))]
    >>> t = attrition_table(study, pd.concat([pre, post.assign(wave="post")]))
    >>> t[["arm", "attrition_rate", "wwc_overall_pp", "wwc_differential_pp"]].values.tolist()
    [['c', 0.3, nan, nan], ['t', 0.1, 20.0, 20.0], ['overall', 0.2, 20.0, 20.0]]
    >>> r = t.iloc[2]
    >>> r["wwc_cautious"], float(r["wwc_cautious_max_pp"]), r["wwc_optimistic"]
    ('high', 5.4, 'high')
    """
    d = study.design
    if d.type == "cross_sectional":
        return pd.DataFrame(columns=ATTRITION_COLUMNS)
    outcomes = study.primary_outcomes or study.outcomes
    primary = outcomes[0].column_name if outcomes else None
    if primary is not None and primary not in scores.columns:
        primary = None
    out = describe.attrition(scores, id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves),
                             analysed=primary, control=d.control)
    for c in WWC_COLUMNS:
        out[c] = "" if c in ("wwc_cautious", "wwc_optimistic") else np.nan
    if d.type not in RANDOMIZED or not d.arm or d.control is None:
        return out[ATTRITION_COLUMNS]
    min_cell = int(getattr(getattr(study, "privacy", None), "min_cell", 1) or 1)
    by_arm = out.set_index("arm")
    control = str(d.control)
    if control not in by_arm.index:
        return out[ATTRITION_COLUMNS]
    worst = None
    for i, r in out.iterrows():
        if r["arm"] in (control, "overall"):
            continue
        c = by_arm.loc[control]
        if min(r["allocated"], c["allocated"]) < min_cell or not r["allocated"] \
                or not c["allocated"]:
            continue
        rates = attrition_rates(int(r["allocated"]), int(r["analysed"]),
                                int(c["allocated"]), int(c["analysed"]))
        cls = wwc_attrition(rates["overall_pp"], rates["differential_pp"], boundary="both")
        cls = cls.set_index("boundary")
        vals = {"wwc_overall_pp": rates["overall_pp"],
                "wwc_differential_pp": abs(rates["differential_pp"])}
        for b in ("cautious", "optimistic"):
            vals[f"wwc_{b}"] = str(cls.loc[b, "attrition"])
            vals[f"wwc_{b}_max_pp"] = float(cls.loc[b, "max_differential_pp"])
        for k, v in vals.items():
            out.at[i, k] = v
        rank = (max(_SEVERITY[vals["wwc_cautious"]], _SEVERITY[vals["wwc_optimistic"]]),
                _SEVERITY[vals["wwc_cautious"]], vals["wwc_differential_pp"])
        if worst is None or rank > worst[0]:
            worst = (rank, vals)
    if worst is not None:
        o = out.index[out["arm"] == "overall"][0]
        for k, v in worst[1].items():
            out.at[o, k] = v
    return out[ATTRITION_COLUMNS]


def consort_inputs(study, scores: pd.DataFrame, run_dir=".") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts and reasons of the CONSORT flow diagram (``figures/consort``).

    Children (and, in a cluster design, the clusters of the outermost level) allocated,
    lost to follow-up and analysed per arm (:func:`analysis.describe.consort_counts`),
    and why children were not analysed (:func:`analysis.describe.consort_reasons`), with
    the validation codes of quarantined endline rows from ``RUN/validation/quarantine.csv``.
    "Analysed" means at the endline with the primary outcome (the first outcome when none
    is primary). Respondents who changed cluster between waves make cluster counts
    meaningless; the counts are then for children only. With a contact log
    (``RUN/data/contacts.parquet``, issue 14) the control arm's row has
    ``with_program_contacts``: its children with a logged program contact (contamination,
    :func:`analysis.describe.consort_contamination`), drawn under its allocation box.

    Returns
    -------
    (counts, reasons) : tuple of DataFrame
        For :func:`analysis.figures.consort_diagram` (``flow`` and ``reasons=``).
    """
    from pathlib import Path

    d = study.design
    outcomes = study.primary_outcomes or study.outcomes
    primary = outcomes[0].column_name if outcomes else None
    if primary not in scores.columns:
        primary = None
    common = dict(id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves), analysed=primary)
    try:
        counts = describe.consort_counts(scores, cluster=d.clusters[0] if d.clusters else None,
                                         **common)
    except ValueError:  # a child in two clusters: children only
        counts = describe.consort_counts(scores, **common)
    path = Path(run_dir) / "validation" / "quarantine.csv"
    wanted = {d.id, d.wave, "reasons"}  # only these are read (the rows hold every column)
    quarantine = (pd.read_csv(path, dtype=str, usecols=lambda c: c in wanted)
                  if path.exists() else None)
    if quarantine is not None and not {d.id, d.wave, "reasons"} <= set(quarantine.columns):
        quarantine = None
    reasons = describe.consort_reasons(scores, quarantine=quarantine, **common)
    contacts = Path(run_dir) / "data" / "contacts.parquet"
    if (getattr(study, "contacts", ()) and d.arm and d.control is not None
            and contacts.exists()):  # issue 14: control children the program reached
        log = pd.read_parquet(contacts, columns=[d.id])
        cont = describe.consort_contamination(scores, log, id=d.id, arm=d.arm,
                                              control=d.control)
        counts = counts.copy()
        counts["with_program_contacts"] = counts["arm"].astype(str).map(
            dict(zip(cont["arm"].astype(str), cont["with_contacts"]))).astype(float)
    return counts, reasons


# ------------------------------------------------------------------ the page: texts and tables

PAGE_TEXT = {
    "intro": {
        "en": ("What was read, what was wrong with it, what is missing, and who was lost between "
               "waves. Personal data never reach this page: names, phone numbers and addresses "
               "were dropped when the files were read, and student ids are pseudonyms."),
        "zh": ("读取了哪些数据、发现了哪些问题、缺失情况如何、两次测量之间流失了哪些学生。个人信息不会进入"
               "本页：读取文件时已删除姓名、电话和住址，学生编号均为化名。"),
    },
    "validation": {
        "en": ("Every problem found in the raw files, counted by kind. Rows with a bad id, wave, "
               "arm or cluster were quarantined (validation/quarantine.csv); item values outside "
               "the response scale became missing. The raw files were not changed."),
        "zh": ("原始文件中发现的每个问题，按类型计数。编号、测量时点、分组或整群有误的行已隔离"
               "（validation/quarantine.csv）；超出选项范围的题目取值设为缺失。原始文件未作任何修改。"),
    },
    "missingness": {
        "en": ("The share of children who left each item unanswered, by wave (items in "
               "questionnaire order, waves in time order). Items missing far more often than "
               "the others may be hard to understand or sensitive."),
        "zh": ("各题目在各次测量中未作答儿童的比例（题目按问卷顺序，测量按时间顺序）。缺失明显多于其他题目"
               "的题目，可能难以理解或较为敏感。"),
    },
    "attrition": {
        "en": ("Allocated: children seen in any wave; at baseline and at endline: present in "
               "that wave; analysed: present at endline with the primary outcome. Differential "
               "attrition is the treatment arm's rate minus the control arm's, in percentage "
               "points: a large difference can bias the comparison even in a randomized trial. "
               "The What Works Clearinghouse (WWC) judges the two rates together against its "
               "boundary table, under a cautious and an optimistic assumption about how "
               "strongly leaving the study is related to the outcome."),
        "zh": ("分配：任一次测量中出现的儿童；基线、终期：在该次测量中出现；分析：终期时有主要结局。组间流失差"
               "为干预组流失率减去对照组流失率（百分点）：即使是随机对照试验，较大的差异也可能使比较产生偏倚。"
               "What Works Clearinghouse（WWC）按其边界表同时判断这两个比率，分别采用关于退出研究与结局"
               "相关程度的谨慎假设和乐观假设。"),
    },
    "attrition_one_group": {
        "en": ("Allocated: children seen in any wave; at baseline and at endline: present in "
               "that wave; analysed: present at endline with the primary outcome. With one group "
               "there is no differential attrition; the children lost may still differ from "
               "those who stayed."),
        "zh": ("分配：任一次测量中出现的儿童；基线、终期：在该次测量中出现；分析：终期时有主要结局。单组研究"
               "不存在组间流失差；但流失的儿童仍可能与留下的儿童不同。"),
    },
}
"""The narrative of the data quality page, the same content in both languages."""

_LANGS = ("en", "zh")


def _show_bilingual(lang: str, en: str, zh: str) -> None:
    """Display a paragraph in ``lang`` first, then in the other language."""
    from IPython.display import Markdown, display

    first, second = (zh, en) if lang == "zh" else (en, zh)
    display(Markdown(f"{first}\n\n{second}"))


def page_text(run, key: str) -> None:
    """Show the paragraph ``key`` of :data:`PAGE_TEXT`, the run's language first."""
    _show_bilingual(run.text_lang, PAGE_TEXT[key]["en"], PAGE_TEXT[key]["zh"])


def validation_counts_text(report: dict) -> tuple[str, str]:
    """The one-line summary of ``validation/report.json``: ``(English, Chinese)``.

    Examples
    --------
    >>> rep = {"issues": [{}] * 6, "sources": [1, 2],
    ...        "counts": {"rows_read": 1474, "rows_quarantined": 0, "errors": 0, "warnings": 6}}
    >>> validation_counts_text(rep)[1]
    '2 个文件共读取 1474 行，发现 6 项问题（0 个错误、6 个警告）；0 行被隔离。'
    """
    c = report.get("counts", {})
    n_issues, n_files = len(report.get("issues", [])), len(report.get("sources", []))
    read, quar = c.get("rows_read", 0), c.get("rows_quarantined", 0)
    err, warn = c.get("errors", 0), c.get("warnings", 0)
    en = (f"{read} rows read from {n_files} files; {n_issues} findings ({err} errors, {warn} "
          f"warnings); {quar} rows quarantined.")
    zh = (f"{n_files} 个文件共读取 {read} 行，发现 {n_issues} 项问题（{err} 个错误、{warn} 个警告）；"
          f"{quar} 行被隔离。")
    return en, zh


CODE_MEANING = {
    "FILE": ("the file could not be read", "文件无法读取"),
    "COLUMN_MISSING": ("a column the study needs is absent", "缺少研究需要的列"),
    "LABEL_UNKNOWN": ("an answer that is not one of the item's labels (set missing)",
                      "作答不是该题的选项（设为缺失）"),
    "VALUE_NOT_NUMERIC": ("a value that is not a number (set missing)", "取值不是数字（设为缺失）"),
    "PII_UNDECLARED": ("a column that looks like personal data (dropped)",
                       "疑似个人信息的列（已删除）"),
    "PII_COLUMN_ABSENT": ("a declared personal-data column no file has",
                          "声明的个人信息列在文件中不存在"),
    "CODES_OPTION_INDEX": ("option numbers read as answer codes", "选项序号按答案编码读取"),
    "CODES_AMBIGUOUS": ("option numbers or answer codes: the study must say which",
                        "无法确定是选项序号还是答案编码，需在研究设置中说明"),
    "VALUE_OUT_OF_RANGE": ("a value outside its allowed range (set missing)",
                           "取值超出允许范围（设为缺失）"),
    "CODES_RELABELED": ("answer codes shifted to the instrument's labels",
                        "答案编码已按量表选项调整"),
    "VALUE_LABELS_CONFLICT": ("the file's value labels contradict the instrument",
                              "文件的取值标签与量表不一致"),
    "FREE_TEXT_CATEGORY": ("a category that looks like free text", "疑似自由填写的类别"),
    "ID_MISSING": ("a row without a student id (quarantined)", "缺少学生编号的行（已隔离）"),
    "ID_DATE": ("an id that a spreadsheet turned into a date (quarantined)",
                "被电子表格转换成日期的编号（已隔离）"),
    "ID_LOOSE_MATCH": ("ids linked across waves after normalization",
                       "规范化后跨测量匹配的编号"),
    "ID_LOOSE_AMBIGUOUS": ("nearly equal ids not linked", "几乎相同但未匹配的编号"),
    "ID_LINK_LOW": ("fewer than half of the children link across waves",
                    "跨测量能匹配的儿童不到一半"),
    "DESIGN_VALUE_MISSING": ("an empty wave, arm, cluster or block (quarantined)",
                             "测量时点、分组、整群或区组为空（已隔离）"),
    "WAVE_UNDECLARED": ("a wave the study does not declare (quarantined)",
                        "研究未声明的测量时点（已隔离）"),
    "ARM_UNDECLARED": ("an arm the study does not declare (quarantined)",
                       "研究未声明的分组（已隔离）"),
    "ARM_LABEL_SUSPECT": ("a tiny arm that looks like a typo of another",
                          "人数极少、疑似另一组拼写错误的分组"),
    "ARM_CONTROL_ABSENT": ("no row carries the control arm", "没有属于对照组的行"),
    "DUPLICATE_ID": ("the same student twice in a wave (all copies quarantined)",
                     "同一学生在同一次测量中出现两次（全部隔离）"),
    "ASSIGNMENT_CHANGED": ("a student's arm or cluster changes between rows (quarantined)",
                           "学生的分组或整群在不同行之间不一致（已隔离）"),
    "STRAIGHT_LINING": ("the same answer to every item of a scale with reverse-keyed items "
                        "(row kept)", "对含反向计分题的量表所有题目作同一回答（保留该行）"),
}
"""What each validation code means (``survey.validation``), in English and Chinese."""

_SEVERITY_LABEL = {"error": {"en": "error", "zh": "错误"},
                   "warning": {"en": "warning", "zh": "警告"}}


def _code_meaning(code: str) -> dict:
    key = "FILE" if str(code).startswith("FILE_") else str(code)
    en, zh = CODE_MEANING.get(key, ("", ""))
    return {"en": en, "zh": zh}


def validation_published(summary: pd.DataFrame, lang: str = "en"):
    """The validation findings as a published table (from :func:`validation_summary`).

    Columns: severity, code, what the code means (both languages), count and the first
    message of the code as the validator recorded it (in English: it names the file, row
    and column).

    Examples
    --------
    >>> s = pd.DataFrame({"severity": ["warning"], "code": ["STRAIGHT_LINING"], "n": [6],
    ...                   "example": ["the same answer 3 to all 6 items"]})
    >>> validation_published(s, "zh").cells("zh").iloc[0, :2].tolist()
    ['警告', 'STRAIGHT_LINING']
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    data = summary.copy()
    data["severity_label"] = [_SEVERITY_LABEL.get(str(v), {"en": str(v), "zh": str(v)})
                              for v in data["severity"]]
    data["meaning"] = [_code_meaning(c) for c in data["code"]]
    cols = [ColumnSpec("severity_label", "Severity", "严重程度"),
            ColumnSpec("code", "Code", "代码"),
            ColumnSpec("meaning", "What it means", "含义"),
            ColumnSpec("n", "n", "次数", "count"),
            ColumnSpec("example", "First message (as recorded)", "首条消息（原文）")]
    return PublishedTable(
        data, cols, caption_en="Validation findings", caption_zh="数据验证结果",
        notes_en=["The message names the file, spreadsheet row and column; it never shows a "
                  "personal value. The codes are listed in docs/error-codes.md."],
        notes_zh=["消息注明文件、表格行号和列名，从不显示个人信息；消息按验证程序的原文（英文）列出。"
                  "代码说明见 docs/error-codes.md。"],
        lang=lang)


def missingness_summary(miss: pd.DataFrame) -> pd.DataFrame:
    """Per instrument and wave: items, children, mean and largest share missing, and the item
    missing most often (from ``tables/missingness.csv`` as published).

    Examples
    --------
    >>> m = pd.DataFrame({"instrument": ["pcc"] * 3, "item": ["pcc_1", "pcc_2", "pcc_1"],
    ...                   "wave": ["baseline", "baseline", "endline"], "n": [10, 10, 8],
    ...                   "n_missing": [1, 3, 0], "missing_pct": [10.0, 30.0, 0.0]})
    >>> missingness_summary(m)[["wave", "items", "mean_missing", "max_item"]].values.tolist()
    [['baseline', 2, 0.2, 'pcc_2'], ['endline', 1, 0.0, 'pcc_1']]
    """
    cols = ["instrument", "wave", "items", "n", "mean_missing", "max_missing", "max_item"]
    if miss is None or not len(miss):
        return pd.DataFrame(columns=cols)
    rows = []
    for (inst, wave), g in miss.groupby(["instrument", "wave"], sort=False):
        pct = pd.to_numeric(g["missing_pct"], errors="coerce")
        top = pct.idxmax() if pct.notna().any() else None
        rows.append({"instrument": inst, "wave": wave, "items": int(len(g)),
                     "n": pd.to_numeric(g["n"], errors="coerce").max(),
                     "mean_missing": pct.mean() / 100, "max_missing": pct.max() / 100,
                     "max_item": g.loc[top, "item"] if top is not None else ""})
    return pd.DataFrame(rows, columns=cols)


def missingness_published(summary: pd.DataFrame, lang: str = "en", *, labels=None,
                          wave_order=None, instrument_names: dict | None = None):
    """:func:`missingness_summary` as a published table: waves through the study's labels
    (``labels(column, value, lang)``) in ``wave_order``, instruments by their names
    (``{id: {"en": ..., "zh": ...}}``)."""
    from evaluation.published_table import ColumnSpec, PublishedTable

    data = summary.copy()
    if wave_order is not None:
        rank = {str(w): k for k, w in enumerate(wave_order)}
        data = data.assign(_r=[rank.get(str(w), len(rank)) for w in data["wave"]]) \
            .sort_values(["instrument", "_r"], kind="stable")
    data["wave_label"] = [{lg: _label_of(labels, "wave", w, lg) for lg in _LANGS}
                          for w in data["wave"]]
    names = instrument_names or {}
    data["instrument"] = [names.get(str(i)) or str(i) for i in data["instrument"]]
    cols = [ColumnSpec("instrument", "Instrument", "量表"),
            ColumnSpec("wave_label", "Wave", "测量时点"),
            ColumnSpec("items", "Items", "题目数", "count"),
            ColumnSpec("n", "Children", "儿童人数", "count"),
            ColumnSpec("mean_missing", "Missing, mean over items", "平均缺失比例", "share"),
            ColumnSpec("max_missing", "Missing, largest", "最大缺失比例", "share"),
            ColumnSpec("max_item", "Item missing most often", "缺失最多的题目")]
    return PublishedTable(data, cols, caption_en="Missing answers by instrument and wave",
                          caption_zh="各量表各次测量的缺失作答", lang=lang)


def _label_of(labels, column, value, lang) -> str:
    raw = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if labels is None:
        return raw
    got = labels(column, raw, lang)
    return raw if got is None or got == "" else str(got)


_CLASS = {"low": {"en": "low", "zh": "低流失"}, "high": {"en": "high", "zh": "高流失"},
          "undetermined": {"en": "undetermined", "zh": "无法判定"}}

_MEANING = {
    "low": {
        "en": ("For the evidence: losses between waves are small enough, and similar enough in "
               "the two arms, that by this standard they are unlikely to bias the effect "
               "estimate much; the trial can meet WWC standards without reservations if "
               "nothing else fails."),
        "zh": ("对证据的含义：两次测量之间的流失足够少、两组足够接近，按此标准不太可能使效应估计产生明显"
               "偏倚；若无其他问题，该试验可以无保留地达到 WWC 标准。"),
    },
    "high": {
        "en": ("For the evidence: the children lost may differ between the arms enough to bias "
               "the effect estimate. The WWC then reviews the trial like a non-randomized "
               "comparison: it can at best meet standards with reservations, and only if the "
               "analysed children are equivalent at baseline (|SMD| ≤ 0.25, with adjustment "
               "for those above 0.05): see the analysed sample on the baseline page (02)."),
        "zh": ("对证据的含义：流失的儿童在两组之间可能差异较大，足以使效应估计产生偏倚。此时 WWC 按非随机"
               "比较来审查该试验：最多只能“有保留地”达到标准，且前提是进入分析的儿童在基线上可比"
               "（|SMD| ≤ 0.25，对 0.05 以上者作统计调整）：见基线报告（02）中的分析样本。"),
    },
    "undetermined": {
        "en": ("For the evidence: the class cannot be decided here; to be safe, read it as high "
               "attrition and check the analysed sample's balance on the baseline page (02)."),
        "zh": "对证据的含义：此处无法判定等级；稳妥起见按高流失理解，并查看基线报告（02）中分析样本的均衡性。",
    },
}

_WWC_TEXT = {
    "not_randomized": {
        "en": ("The WWC attrition standard is for randomized trials. In this non-randomized "
               "comparison the groups may differ from the start, whatever the attrition: the "
               "WWC judges such a study by the baseline equivalence of the analysed children "
               "(baseline page, 02)."),
        "zh": ("WWC 流失标准适用于随机对照试验。本研究为非随机比较，无论流失多少，各组可能一开始就不同："
               "WWC 以进入分析儿童的基线可比性评判此类研究（基线报告，02）。"),
    },
    "one_group": {
        "en": ("One group: there is no differential attrition, so the WWC classification (which "
               "needs two arms) does not apply. The children lost may still differ from those "
               "who stayed, which can bias the change from the first to the last wave."),
        "zh": ("单组研究：不存在组间流失差，WWC 的分类（需要两个组）不适用。流失的儿童仍可能与留下的儿童"
               "不同，这会使首次到末次测量的变化产生偏倚。"),
    },
    "not_classified": {
        "en": ("No WWC classification: an arm has fewer children than the study's minimum cell "
               "size, or no child was allocated to the control arm."),
        "zh": "没有 WWC 分类：某一组的人数少于研究设定的最小单元格人数，或对照组没有儿童。",
    },
    "cluster": {
        "en": ("Cluster-randomized: the classification is for children. The WWC also checks "
               "attrition of clusters: {kept} of {alloc} clusters kept at least one analysed "
               "child ({lost} lost).{classes_en}"),
        "zh": ("整群随机试验：以上分类针对儿童。WWC 还检查整群的流失：{alloc} 个整群中有 {kept} 个至少有"
               "一名儿童进入分析（流失 {lost} 个）。{classes_zh}"),
    },
    "cluster_classes": {
        "en": (" Against the same boundary table, cluster attrition ({overall}% overall, "
               "{diff} percentage points differential) is {cautious} under the cautious and "
               "{optimistic} under the optimistic boundary."),
        "zh": ("按同一边界表，整群流失（总体 {overall}%，组间差 {diff} 个百分点）按谨慎边界为{cautious_zh}，"
               "按乐观边界为{optimistic_zh}。"),
    },
}


def _is_true(v) -> bool:
    return not _empty(v) and str(v).strip().lower() in ("true", "1")


def _empty(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == ""


def attrition_published(attrition: pd.DataFrame, lang: str = "en", *, labels=None,
                        min_cell: int | None = None):
    """The attrition table of the data quality page (``tables/attrition.csv`` as published).

    One row per arm and the overall row: children allocated, at baseline, at endline,
    analysed and lost, attrition rate (%), differential attrition (percentage points)
    and, when the table has them (randomized designs), the WWC class under the cautious
    and the optimistic boundary (:func:`attrition_table`).

    Examples
    --------
    >>> t = pd.DataFrame({"arm": ["control", "treatment", "overall"],
    ...                   "allocated": [382, 396, 778], "enrolled": [382, 396, 778],
    ...                   "followed_up": [329, 367, 696], "analysed": [329, 367, 696],
    ...                   "lost": [53, 29, 82], "attrition_rate": [0.1387, 0.0732, 0.1054],
    ...                   "differential_pp": [None, -6.551, None],
    ...                   "wwc_cautious": ["", "high", "high"],
    ...                   "wwc_optimistic": ["", "low", "low"]})
    >>> attrition_published(t).cells("en").iloc[1].tolist()
    ['treatment', '396', '396', '367', '367', '29', '7.3%', '-6.55', 'high', 'low']
    >>> attrition_published(t).cells("zh").iloc[2, -2:].tolist()
    ['高流失', '低流失']
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    data = attrition.copy()
    if (data["arm"].astype(str) != "overall").sum() == 1:  # one group: its row is the total
        data = data[data["arm"].astype(str) == "overall"]
    overall = {"en": "Overall", "zh": "合计"}
    data["arm_label"] = [overall if str(a) == "overall" else
                         {lg: _label_of(labels, "arm", a, lg) for lg in _LANGS}
                         for a in data["arm"]]
    cols = [ColumnSpec("arm_label", "Arm", "组别"),
            ColumnSpec("allocated", "Allocated", "分配", "count"),
            ColumnSpec("enrolled", "At baseline", "基线", "count"),
            ColumnSpec("followed_up", "At endline", "终期", "count"),
            ColumnSpec("analysed", "Analysed", "进入分析", "count"),
            ColumnSpec("lost", "Lost", "流失", "count"),
            ColumnSpec("attrition_rate", "Attrition", "流失率", "share"),
            ColumnSpec("differential_pp", "Differential (pp)", "组间流失差（百分点）",
                       "estimate")]
    notes_en = ["Differential: the arm's attrition rate minus the control arm's, percentage "
                "points (pp)."]
    notes_zh = ["组间流失差：该组流失率减去对照组流失率，单位为百分点。"]
    if pd.to_numeric(data["differential_pp"], errors="coerce").isna().all() and \
            not data.get("suppressed", pd.Series(dtype=object)).map(_is_true).any():
        cols, notes_en, notes_zh = cols[:-1], [], []  # one group, or no control arm
    has_wwc = all(c in data for c in ("wwc_cautious", "wwc_optimistic")) and \
        any(not _empty(v) for v in data["wwc_cautious"])
    if has_wwc:
        for b, en, zh in (("cautious", "WWC, cautious", "WWC 谨慎边界"),
                          ("optimistic", "WWC, optimistic", "WWC 乐观边界")):
            data[f"{b}_label"] = ["" if _empty(v) else _CLASS.get(str(v), {"en": str(v),
                                                                             "zh": str(v)})
                                  for v in data[f"wwc_{b}"]]
            cols.append(ColumnSpec(f"{b}_label", en, zh))
        notes_en.append("WWC: What Works Clearinghouse attrition standard (overall and "
                        "differential attrition against the Standards Handbook's boundary "
                        "table), for children, for each arm's comparison with the control arm; "
                        "the overall row shows the least favourable comparison.")
        notes_zh.append("WWC：What Works Clearinghouse 流失标准（按《标准手册》边界表同时判断总体流失率"
                        "和组间流失差），以儿童计，针对每一组与对照组的比较；合计行为最不利的比较。")
    return PublishedTable(data, cols, caption_en="Attrition by arm", caption_zh="各组流失情况",
                          notes_en=notes_en, notes_zh=notes_zh, min_cell=min_cell, lang=lang)


def wwc_paragraphs(design, attrition: pd.DataFrame, counts: pd.DataFrame | None = None
                   ) -> list[tuple[str, str]]:
    """What the WWC attrition classes mean for the evidence: ``[(English, Chinese), ...]``.

    For a randomized design, one paragraph per boundary (cautious, then optimistic): the
    classification with its numbers (:func:`analysis.attrition_standards.wwc_attrition`:
    the boundary at that overall rate and when the boundary applies) and what it means
    for the evidence; with clusters (``counts`` of :func:`consort_inputs`), a line on
    cluster attrition. Otherwise one paragraph saying why there is no classification.

    Examples
    --------
    >>> from core.design import Design
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", waves=("a", "b"))
    >>> t = pd.DataFrame({"arm": ["overall"], "wwc_overall_pp": [10.54],
    ...                   "wwc_differential_pp": [6.55], "wwc_cautious": ["high"],
    ...                   "wwc_optimistic": ["low"]})
    >>> en, zh = wwc_paragraphs(d, t)[0]
    >>> en[:45]
    '**WWC, cautious: high.** Overall attrition 10'
    >>> "with reservations" in en and "有保留" in zh
    True
    """
    if not design.arm:
        return [(_WWC_TEXT["one_group"]["en"], _WWC_TEXT["one_group"]["zh"])]
    if design.type not in RANDOMIZED:
        return [(_WWC_TEXT["not_randomized"]["en"], _WWC_TEXT["not_randomized"]["zh"])]
    row = attrition[attrition["arm"].astype(str) == "overall"] if len(attrition) else attrition
    if not len(row) or _empty(row.iloc[0].get("wwc_cautious")) or \
            _empty(row.iloc[0].get("wwc_overall_pp")):
        return [(_WWC_TEXT["not_classified"]["en"], _WWC_TEXT["not_classified"]["zh"])]
    r = row.iloc[0]
    res = wwc_attrition(float(r["wwc_overall_pp"]), float(r["wwc_differential_pp"]),
                        boundary="both").set_index("boundary")
    out = []
    for b in ("cautious", "optimistic"):
        cls = str(res.loc[b, "attrition"])
        out.append((f"**WWC, {b}: {_CLASS[cls]['en']}.** {res.loc[b, 'explanation_en']} "
                    f"{_MEANING[cls]['en']}",
                    f"**WWC {'谨慎' if b == 'cautious' else '乐观'}边界：{_CLASS[cls]['zh']}**。"
                    f"{res.loc[b, 'explanation_zh']}{_MEANING[cls]['zh']}"))
    if counts is not None and "clusters_allocated" in counts.columns:
        o = counts[counts["arm"].astype(str) == "overall"]
        if len(o) and not _empty(o.iloc[0].get("clusters_allocated")):
            alloc, kept = int(o.iloc[0]["clusters_allocated"]), int(o.iloc[0]["clusters_analysed"])
            vals = dict(alloc=alloc, kept=kept, lost=alloc - kept, classes_en="", classes_zh="")
            classes = _cluster_classes(design, counts)
            if classes is not None:
                vals["classes_en"] = _WWC_TEXT["cluster_classes"]["en"].format(**classes)
                vals["classes_zh"] = _WWC_TEXT["cluster_classes"]["zh"].format(**classes)
            out.append((_WWC_TEXT["cluster"]["en"].format(**vals),
                        _WWC_TEXT["cluster"]["zh"].format(**vals)))
    return out


def _cluster_classes(design, counts: pd.DataFrame) -> dict | None:
    """The WWC classes of cluster attrition (clusters allocated vs with an analysed child)
    for the least favourable comparison with the control arm; ``None`` when the counts
    do not allow it."""
    rows = counts.set_index(counts["arm"].astype(str))
    control = str(design.control)
    if control not in rows.index:
        return None
    worst = None
    for arm in rows.index:
        if arm in (control, "overall"):
            continue
        try:
            n_t, a_t = int(rows.loc[arm, "clusters_allocated"]), int(rows.loc[arm, "clusters_analysed"])
            n_c = int(rows.loc[control, "clusters_allocated"])
            a_c = int(rows.loc[control, "clusters_analysed"])
            rates = attrition_rates(n_t, a_t, n_c, a_c)
        except (TypeError, ValueError):
            return None
        res = wwc_attrition(rates["overall_pp"], rates["differential_pp"],
                            boundary="both").set_index("boundary")["attrition"]
        rank = (_SEVERITY[res["cautious"]], _SEVERITY[res["optimistic"]],
                abs(rates["differential_pp"]))
        if worst is None or rank > worst[0]:
            worst = (rank, rates, res)
    if worst is None:
        return None
    _, rates, res = worst

    def fmt(x):
        return f"{x:.1f}".rstrip("0").rstrip(".")

    return {"overall": fmt(rates["overall_pp"]), "diff": fmt(abs(rates["differential_pp"])),
            "cautious": _CLASS[res["cautious"]]["en"], "optimistic": _CLASS[res["optimistic"]]["en"],
            "cautious_zh": _CLASS[res["cautious"]]["zh"],
            "optimistic_zh": _CLASS[res["optimistic"]]["zh"]}


def show_paragraphs(run, paragraphs: list[tuple[str, str]]) -> None:
    """Show ``[(English, Chinese), ...]``: all paragraphs in the run's language, then all in
    the other."""
    from IPython.display import Markdown, display

    first = 1 if run.text_lang == "zh" else 0
    text = [p[first] for p in paragraphs] + [p[1 - first] for p in paragraphs]
    display(Markdown("\n\n".join(text)))

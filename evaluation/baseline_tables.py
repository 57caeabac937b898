"""The tables of the baseline page (``02_baseline``): Table 1 (baseline characteristics
by arm), the balance table, and the intra-class correlations of the outcomes.

Rare levels are merged and tiny arms described by their size only
(:mod:`evaluation.small_cells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import describe
from evaluation.small_cells import _min_cell, _tiny_arms, column_kind, merge_rare_categories
from evaluation.waves import baseline_rows


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


BALANCE_COLUMNS = ["sample", "variable", "level", "arm", "control", "n_treatment", "n_control",
                   "mean_treatment", "mean_control", "sd_pooled", "smd", "method", "abs_smd",
                   "wwc_flag", "n_smallest_arm"]
"""Columns of ``tables/balance.csv`` (:func:`balance_table`), before the suppression columns."""

SAMPLES = ("randomized", "analysed")
"""The values of the ``sample`` column of ``tables/balance.csv``."""


def analysed_outcome(study):
    """The outcome that defines the analysed sample: the first primary outcome, else the
    first outcome (``None`` without outcomes). The same one the attrition table and the
    CONSORT diagram count (:func:`evaluation.quality_tables.attrition_table`)."""
    outcomes = study.primary_outcomes or study.outcomes
    return outcomes[0] if outcomes else None


def analysed_ids(study, scores: pd.DataFrame) -> set[str]:
    """Ids of the children in the effects analysis: at the last wave with the outcome of
    :func:`analysed_outcome` (without outcomes: everyone at the last wave).

    Ids are compared as text. The effect models may drop a few more children (complete
    cases of the baseline score and the covariates); this is the sample the attrition
    table calls "analysed".
    """
    d = study.design
    last = scores.loc[scores[d.wave].astype(str) == str(d.endline)]
    o = analysed_outcome(study)
    if o is not None and o.column_name in last.columns:
        last = last.loc[last[o.column_name].notna()]
    return set(last[d.id].dropna().astype(str))


def balance_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Baseline balance (``tables/balance.csv``) on the randomized and the analysed sample.

    :func:`analysis.describe.baseline_balance` on covariates and baseline outcomes, twice:

    - ``sample == "randomized"``: every child at baseline (the sample as randomized, as
      far as the data show it: the rows Table 1 describes);
    - ``sample == "analysed"``: the baseline values of the children in the effects
      analysis (:func:`analysed_ids`: at the last wave with the primary outcome). The
      What Works Clearinghouse asks for baseline equivalence of this sample when
      attrition is high, and for every non-randomized comparison. A cross-sectional
      design does not follow its respondents: its analysed sample is the respondents of
      the last wave with the outcome, compared on the covariates (measured at that wave).

    ``n_smallest_arm`` is the count that small-cell suppression applies to (see
    :func:`_smallest_cell`); on an analysed row it is also the number of children of a
    cell who are in the randomized but not in the analysed sample, when that is between
    1 and ``privacy.min_cell - 1``: the difference of two published means or shares would
    describe those few children otherwise.

    Empty (with :data:`BALANCE_COLUMNS`) for one-group designs. With one wave the
    outcomes were measured after the program (their arm difference is the effect, not
    imbalance): covariates only, and empty without covariates
    (:func:`not_applicable_reason`). Without an arm difference in the analysed sample
    (an arm lost every child) there are no analysed rows.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", covariates=("age",),
    ...            waves=("pre", "post"))
    >>> study = NS(design=d, outcomes=[NS(column_name="y", primary=True)],
    ...            primary_outcomes=[NS(column_name="y", primary=True)],
    ...            privacy=NS(min_cell=1), column_type=lambda c: None)
    >>> pre = pd.DataFrame({"id": range(8), "wave": "pre", "arm": ["t"] * 4 + ["c"] * 4,
    ...                     "age": [9.0, 10, 11, 12, 9, 10, 11, 12], "y": 1.0})
    >>> post = pre.assign(wave="post", y=[1.0, 1, 1, None, 1, 1, 1, 1])  # the oldest t lost
    >>> bal = balance_table(study, pd.concat([pre, post]))
    >>> age = bal[bal["variable"] == "age"]
    >>> age[["sample", "n_treatment", "n_control"]].values.tolist()
    [['randomized', 4, 4], ['analysed', 3, 4]]
    >>> age["smd"].round(3).tolist()
    [0.0, -0.356]
    """
    d = study.design
    outcomes = [o.column_name for o in study.outcomes] if d.has_baseline else []
    if not d.arm or not (list(d.covariates) + outcomes):
        # one group, or nothing measured before the program: the header says what would be here
        return pd.DataFrame(columns=BALANCE_COLUMNS)
    merged = merge_rare_categories(study, scores)
    base = baseline_rows(study, merged)
    variables = [v for v in dict.fromkeys(list(d.covariates) + outcomes) if v in base.columns]
    min_cell = _min_cell(study)
    rand = _balance(study, base, variables)
    rand = rand.assign(n_smallest_arm=_smallest_cell(rand, min_cell))
    ids = analysed_ids(study, merged)
    if d.type == "cross_sectional":  # not followed: the last wave's respondents themselves
        last = merged.loc[merged[d.wave].astype(str) == str(d.endline)]
        sub = last.loc[last[d.id].astype(str).isin(ids)]
        sub_vars = [v for v in d.covariates if v in sub.columns]
    else:
        sub = base.loc[base[d.id].astype(str).isin(ids)]
        sub_vars = variables
    try:
        ana = _balance(study, sub, sub_vars) if sub_vars else None
    except ValueError:  # the control arm, or every other arm, has nobody analysed
        ana = None
    parts = [rand.assign(sample="randomized")]
    if ana is not None and len(ana):
        counts = _smallest_cell(ana, min_cell)
        if d.type != "cross_sectional":
            lost = _lost_cells(rand, ana)
            counts = [min(c, k) if 0 < k < min_cell else c for c, k in zip(counts, lost)]
        parts.append(ana.assign(n_smallest_arm=counts, sample="analysed"))
    out = pd.concat(parts, ignore_index=True)
    return out[BALANCE_COLUMNS]


def _balance(study, rows: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """:func:`analysis.describe.baseline_balance` with the declared variable types."""
    d = study.design
    rows = rows.copy()
    for v in variables:  # the declared type decides, as in Table 1
        if column_kind(study, v, rows[v]) == "numeric":
            rows[v] = pd.to_numeric(rows[v], errors="coerce")
        elif pd.api.types.is_numeric_dtype(rows[v]) and not set(rows[v].dropna()) <= {0, 1}:
            rows[v] = rows[v].map(lambda x: x if pd.isna(x) else
                                  str(int(x)) if float(x).is_integer() else str(x))
    return describe.baseline_balance(rows, variables, arm=d.arm, control=d.control)


def _level_counts(bal: pd.DataFrame) -> pd.DataFrame:
    """Per row: the counts of children each arm's published share or mean is about.

    A level row's share x n gives the count with the level (and, for the one row of a
    binary variable, the count without it); a continuous row's mean is about its n.
    """
    rows_per = bal.groupby(["variable", "arm"])["level"].transform("size").to_numpy()
    out = []
    for r, k in zip(bal.itertuples(index=False), rows_per):
        cells = []
        for share, n in ((r.mean_treatment, r.n_treatment), (r.mean_control, r.n_control)):
            n = int(n)
            if str(r.level) == "":
                cells.append((n,))
            else:
                c = round(float(share) * n) if np.isfinite(share) else 0
                cells.append((c, n - c) if k == 1 else (c,))
        out.append(cells)
    return out


def _lost_cells(rand: pd.DataFrame, ana: pd.DataFrame) -> list[int]:
    """Per analysed row: the smallest positive number of children of one of its cells
    (arm x level, or arm for a mean) who are in the randomized row but not in the
    analysed one (0 when none is positive): what the difference of the two rows
    describes."""
    key = ["variable", "level", "arm"]
    r_cells = {tuple(k): c for k, c in zip(rand[key].astype(str).itertuples(index=False),
                                           _level_counts(rand))}
    out = []
    for k, cells in zip(ana[key].astype(str).itertuples(index=False), _level_counts(ana)):
        before = r_cells.get(tuple(k))
        diffs = []
        if before is not None:
            for b_arm, a_arm in zip(before, cells):
                diffs += [b - a for b, a in zip(b_arm, a_arm) if b - a > 0]
        out.append(min(diffs) if diffs else 0)
    return out


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


# ------------------------------------------------------------------ the page: texts and tables

WWC_FLAGS = {
    "satisfied": {"en": "satisfied", "zh": "满足"},
    "adjustment required": {"en": "adjustment required", "zh": "需统计调整"},
    "not satisfied": {"en": "not satisfied", "zh": "不满足"},
    "not computed": {"en": "not computed", "zh": "未计算"},
}
"""The What Works Clearinghouse baseline-equivalence flags of ``balance.csv`` (``wwc_flag``)
in both languages."""

PAGE_TEXT = {
    "intro": {
        "en": ("Who the children were at baseline, by arm (Table 1); whether the arms were alike "
               "before the program, as standardized mean differences (SMD) judged by the What "
               "Works Clearinghouse (WWC) thresholds: |SMD| ≤ 0.05 satisfied, 0.05–0.25 needs "
               "statistical adjustment, > 0.25 not satisfied; and the intra-class correlations "
               "(ICC) of each outcome, the share of variance that lies between schools or "
               "classes."),
        "zh": ("各组儿童在基线时的情况（基线特征表）；项目开始前各组是否相似，用标准化均数差（SMD）表示，"
               "并按 What Works Clearinghouse（WWC）标准判断：|SMD| ≤ 0.05 为满足，0.05–0.25 需统计"
               "调整，> 0.25 为不满足；以及各结局的组内相关系数（ICC），即学校或班级之间差异所占的方差"
               "比例。"),
    },
    "table1": {
        "en": ("Categories as n (%), numbers as mean (SD), for every child at baseline; the SMD "
               "column compares each arm with the control arm among these children."),
        "zh": ("分类变量为 n (%)，数值变量为均值（标准差），统计基线时的全部儿童；SMD 列为这些儿童中各组与"
               "对照组的比较。"),
    },
    "balance": {
        "en": ("Randomization makes the arms alike on average, but children lost between waves "
               "can make the analysed arms differ. The table compares the arms twice: in the "
               "randomized sample (every child at baseline) and in the analysed sample (the "
               "children with the primary outcome at the last wave, whom the effect estimates "
               "use), with the WWC flag for each. When attrition is high, or the study is not "
               "randomized, the WWC judges the evidence by the analysed sample."),
        "zh": ("随机分组使各组在平均意义上相似，但两次测量之间的流失可能使进入分析的各组不再相似。本表对各组"
               "比较两次：随机分组样本（基线时的全部儿童）和分析样本（末次测量时有主要结局、即效应估计所用"
               "的儿童），并分别给出 WWC 判断。当流失率高或研究并非随机分组时，WWC 以分析样本的均衡性评判"
               "证据。"),
    },
    "balance_not_randomized": {
        "en": ("The groups were not formed at random, so they may differ in ways no table can "
               "show; these differences are the ones that were measured. The table compares the "
               "groups twice: in the baseline sample (every child at baseline) and in the "
               "analysed sample (the children with the primary outcome at the last wave, whom "
               "the estimates use), with the WWC flag for each. For a non-randomized comparison "
               "the WWC asks that the analysed sample be equivalent at baseline."),
        "zh": ("各组不是随机形成的，可能存在任何表格都无法显示的差异；这里只是已测量的差异。本表对各组比较"
               "两次：基线样本（基线时的全部儿童）和分析样本（末次测量时有主要结局、即估计所用的儿童），并"
               "分别给出 WWC 判断。对于非随机比较，WWC 要求分析样本在基线上可比。"),
    },
    "no_balance_one_group": {
        "en": ("There is no balance table: with one group nobody was assigned to a comparison "
               "group, so there are no arms whose baseline could differ. Table 1 describes the "
               "group; who was lost between waves is on the data quality page (00)."),
        "zh": ("没有均衡性表：单组研究没有分配对照组，不存在可能在基线上不同的组。基线特征表描述了这一组"
               "儿童；两次测量之间的流失见数据质量报告（00）。"),
    },
}
"""The narrative of the baseline page, the same content in both languages."""

_BAL_TEXT = {
    "caption": {"en": "Baseline balance in the randomized and the analysed sample",
                "zh": "随机分组样本与分析样本的基线均衡性"},
    "caption_baseline": {"en": "Baseline balance in the baseline and the analysed sample",
                         "zh": "基线样本与分析样本的基线均衡性"},
    "characteristic": {"en": "Characteristic", "zh": "特征"},
    "randomized": {"en": "Randomized sample", "zh": "随机分组样本"},
    "baseline": {"en": "Baseline sample", "zh": "基线样本"},
    "analysed": {"en": "Analysed sample", "zh": "分析样本"},
    "smd": {"en": "SMD", "zh": "SMD"},
    "flag": {"en": "WWC", "zh": "WWC 判断"},
    "vs": {"en": "{a} vs {c}", "zh": "{a} 对 {c}"},
    "note": {
        "en": ("SMD: standardized mean difference of each arm from the control arm at baseline "
               "(Hedges' g for numbers, Cox index for categories). What Works Clearinghouse: "
               "|SMD| ≤ 0.05 satisfied; 0.05 < |SMD| ≤ 0.25 satisfied only if the effect model "
               "adjusts for the characteristic; |SMD| > 0.25 not satisfied. {first}: "
               "every child at baseline. Analysed sample: the baseline values of the children "
               "with {outcome} at the last wave (the primary outcome, which the attrition table "
               "counts as analysed); the effect models may drop a few more children who lack a "
               "baseline score or a covariate."),
        "zh": ("SMD：各组与对照组在基线的标准化均数差（数值变量为 Hedges' g，分类变量为 Cox 指数）。"
               "What Works Clearinghouse 标准：|SMD| ≤ 0.05 为满足；0.05 < |SMD| ≤ 0.25 只有在效应模型"
               "对该特征作调整时才算满足；|SMD| > 0.25 为不满足。{first}：基线时的全部儿童。分析样本："
               "末次测量时有{outcome}的儿童（主要结局，流失表也以此计为进入分析）的基线取值；效应模型还可能"
               "剔除少数缺少基线分数或协变量的儿童。"),
    },
    "note_cross_sectional": {
        "en": ("Cross-sectional design: the analysed sample is the respondents of the last wave "
               "with {outcome}, compared on the covariates measured at that wave."),
        "zh": "横断面设计：分析样本为末次测量中有{outcome}的调查对象，按该次测量的协变量比较。",
    },
    "no_analysed": {
        "en": ("No analysed-sample rows: an arm has no child with {outcome} at the last wave, "
               "so the analysed arms cannot be compared."),
        "zh": "没有分析样本的行：某一组在末次测量时没有儿童有{outcome}，无法比较进入分析的各组。",
    },
    "flagged": {
        "en": ("† Not satisfied: |SMD| > 0.25 before rounding (a rounded 0.25 may be beyond the "
               "bound)."),
        "zh": "† 不满足：四舍五入前 |SMD| > 0.25（四舍五入后显示为 0.25 者也可能超出界限）。",
    },
    "lost_cells": {
        "en": ("In the analysed sample a row is also suppressed when fewer than {min_cell} "
               "children of one of its cells were lost between the samples: the difference of "
               "the two rows would describe those few children."),
        "zh": ("分析样本中，若某格在两个样本之间流失的儿童少于 {min_cell} 名，该行也会被隐去：两行之差"
               "会描述这几名儿童。"),
    },
}


def _show_bilingual(lang: str, en: str, zh: str) -> None:
    """Display a paragraph in ``lang`` first, then in the other language."""
    from IPython.display import Markdown, display

    first, second = (zh, en) if lang == "zh" else (en, zh)
    display(Markdown(f"{first}\n\n{second}"))


def page_text(run, key: str) -> None:
    """Show the paragraph ``key`` of :data:`PAGE_TEXT`, the run's language first."""
    text = PAGE_TEXT[key]
    _show_bilingual(run.text_lang, text["en"], text["zh"])


def _lab(labels, column, value, lang: str) -> str:
    """``labels(column, value, lang)`` (:func:`evaluation.labels.study_labels`), else the value."""
    raw = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if labels is None:
        return raw
    if isinstance(labels, dict):
        got = labels.get(raw)
        if isinstance(got, dict):
            return str(got.get(lang) or got.get("en") or raw)
        return raw if got is None else str(got)
    got = labels(column, raw, lang)
    return raw if got is None or (not isinstance(got, str) and pd.isna(got)) or got == "" \
        else str(got)


def _is_true(v) -> bool:
    return (not (v is None or (not isinstance(v, str) and pd.isna(v)))) and \
        str(v).strip().lower() in ("true", "1")


def _arm_sizes(rows: pd.DataFrame) -> tuple[int | None, int | None]:
    nt = pd.to_numeric(rows["n_treatment"], errors="coerce").max()
    nc = pd.to_numeric(rows["n_control"], errors="coerce").max()
    return (None if pd.isna(nt) else int(nt)), (None if pd.isna(nc) else int(nc))


def balance_published(balance: pd.DataFrame, *, lang: str = "en", labels=None,
                      outcome_label: dict | None = None, min_cell: int | None = None,
                      cross_sectional: bool = False, randomized: bool = True):
    """The balance table of the baseline page: randomized and analysed SMD side by side.

    One row per characteristic (a categorical one: a header row and one indented row per
    level), two column groups (randomized sample, analysed sample; the arm sizes in their
    labels) each with the SMD (2 decimals) and the WWC flag in words. With more than one
    compared arm, each comparison with the control is a group of rows.

    Parameters
    ----------
    balance : DataFrame
        ``tables/balance.csv`` as published (:func:`balance_table` through
        :meth:`~evaluation.run_folder.RunFolder.write_table`): suppressed cells show
        :data:`evaluation.published_table.SUPPRESSED`.
    lang : {"en", "zh"}
        The run's language (the table can be shown in either).
    labels : callable or dict, optional
        ``labels(column, value, lang)`` (:func:`evaluation.labels.study_labels`): variables
        are asked with ``column=None``, levels with their variable, arms with ``"arm"``.
    outcome_label : dict, optional
        ``{"en": ..., "zh": ...}``: the outcome that defines the analysed sample, for the note.
    min_cell : int, optional
        ``privacy.min_cell`` for the suppression footnote.
    cross_sectional : bool
        The design does not follow its respondents (the note says what "analysed" means).
    randomized : bool
        The arms were formed at random; otherwise the first group reads "Baseline sample".

    Returns
    -------
    evaluation.published_table.PublishedTable

    Examples
    --------
    >>> import pandas as pd
    >>> bal = pd.DataFrame({"sample": ["randomized", "analysed"], "variable": ["age"] * 2,
    ...                     "level": ["", ""], "arm": ["treatment"] * 2,
    ...                     "control": ["control"] * 2, "n_treatment": [396, 367],
    ...                     "n_control": [382, 329], "smd": [-0.2507, -0.2712],
    ...                     "wwc_flag": ["not satisfied"] * 2})
    >>> t = balance_published(bal)
    >>> t.cells("en").iloc[0].tolist()
    ['age', '-0.25 †', 'not satisfied', '-0.27 †', 'not satisfied']
    >>> [g.label("en") for g in t.groups]
    ['Randomized sample (treatment 396, control 382)', 'Analysed sample (treatment 367, control 329)']
    >>> t.cells("zh").iloc[0, 2]
    '不满足'
    """
    from evaluation.published_table import (
        MISSING,
        SUPPRESSED,
        ColumnGroup,
        ColumnSpec,
        PublishedTable,
        format_value,
    )

    langs = ("en", "zh")
    need = {"sample", "variable", "level", "arm", "control", "smd", "wwc_flag"}
    missing = need - set(balance.columns)
    if missing:
        raise ValueError(f"balance lacks columns {sorted(missing)}; expected the columns of "
                         "tables/balance.csv (evaluation.baseline_tables.balance_table)")
    bal = balance.copy()
    for c in ("sample", "variable", "level", "arm", "control"):
        bal[c] = [format_value("text", v) for v in bal[c]]
    rand = bal[bal["sample"] == "randomized"]
    ana = bal[bal["sample"] == "analysed"]
    out_lab = outcome_label or {"en": "the primary outcome", "zh": "主要结局"}

    flagged = []

    def smd_cell(hit) -> str:
        if hit is None:
            return MISSING
        x = hit["smd"]
        if pd.isna(pd.to_numeric(pd.Series([x]), errors="coerce")).iloc[0]:
            return SUPPRESSED if _is_true(hit.get("suppressed")) else MISSING
        if str(hit["wwc_flag"]).strip() == "not satisfied":
            flagged.append(True)
            return f"{format_value('smd', x)} †"
        return format_value("smd", x)

    def flag_cell(hit) -> dict | str:
        if hit is None:
            return MISSING
        f = hit["wwc_flag"]
        if f is None or (not isinstance(f, str) and pd.isna(f)) or str(f).strip() == "":
            return SUPPRESSED if _is_true(hit.get("suppressed")) else MISSING
        return WWC_FLAGS.get(str(f).strip(), {"en": str(f), "zh": str(f)})

    first: dict[int, dict] = {}  # per frame: (variable, level, arm) -> its first row

    def find(frame, variable, level, arm):
        if id(frame) not in first:
            at: dict = {}
            for i, key in enumerate(zip(frame["variable"], frame["level"], frame["arm"])):
                at.setdefault(key, i)
            first[id(frame)] = at
        i = first[id(frame)].get((variable, level, arm))
        return None if i is None else frame.iloc[i]

    control = rand["control"].iloc[0] if len(rand) else (bal["control"].iloc[0] if len(bal)
                                                         else "")
    compared = list(dict.fromkeys(rand["arm"]))
    many = len(compared) > 1
    rows = []
    for arm in compared:
        ra = rand[rand["arm"] == arm]
        group = None
        if many:
            group = {lg: _BAL_TEXT["vs"][lg].format(a=_lab(labels, "arm", arm, lg),
                                                    c=_lab(labels, "arm", control, lg))
                     for lg in langs}
        for variable in dict.fromkeys(ra["variable"]):
            rv = ra[ra["variable"] == variable]
            vlabel = {lg: _lab(labels, None, variable, lg) for lg in langs}
            levels = list(dict.fromkeys(rv["level"]))
            binary = levels == ["1"]
            if levels == [""] or binary:
                lv = levels[0]
                rows.append({"group": group, "label": vlabel, "indent": False,
                             "r_smd": smd_cell(find(rand, variable, lv, arm)),
                             "r_flag": flag_cell(find(rand, variable, lv, arm)),
                             "a_smd": smd_cell(find(ana, variable, lv, arm)),
                             "a_flag": flag_cell(find(ana, variable, lv, arm))})
                continue
            rows.append({"group": group, "label": vlabel, "indent": False, "r_smd": "",
                         "r_flag": "", "a_smd": "", "a_flag": ""})
            for lv in levels:
                rows.append({"group": group, "indent": True,
                             "label": {lg: _lab(labels, variable, lv, lg) for lg in langs},
                             "r_smd": smd_cell(find(rand, variable, lv, arm)),
                             "r_flag": flag_cell(find(rand, variable, lv, arm)),
                             "a_smd": smd_cell(find(ana, variable, lv, arm)),
                             "a_flag": flag_cell(find(ana, variable, lv, arm))})
    data = pd.DataFrame(rows, columns=["group", "label", "indent", "r_smd", "r_flag", "a_smd",
                                       "a_flag"])

    def sizes(frame, arm, lg) -> str | None:
        nt, nc = _arm_sizes(frame[frame["arm"] == arm]) if len(frame) else (None, None)
        if nt is None or nc is None:
            return None
        sep = "，" if lg == "zh" else ", "
        return (f"{_lab(labels, 'arm', arm, lg)} {nt}{sep}"
                f"{_lab(labels, 'arm', control, lg)} {nc}")

    def group_label(sample: str, frame) -> dict:
        text = dict(_BAL_TEXT[sample])
        if not many and compared:
            n = {lg: sizes(frame, compared[0], lg) for lg in langs}
            if n["en"] is not None:
                text = {"en": f"{text['en']} ({n['en']})", "zh": f"{text['zh']}（{n['zh']}）"}
        return text

    first = "randomized" if randomized else "baseline"
    g_r, g_a = group_label(first, rand), group_label("analysed", ana)
    columns = [ColumnSpec("label", _BAL_TEXT["characteristic"]["en"],
                          _BAL_TEXT["characteristic"]["zh"]),
               ColumnSpec("r_smd", _BAL_TEXT["smd"]["en"], _BAL_TEXT["smd"]["zh"]),
               ColumnSpec("r_flag", _BAL_TEXT["flag"]["en"], _BAL_TEXT["flag"]["zh"]),
               ColumnSpec("a_smd", _BAL_TEXT["smd"]["en"], _BAL_TEXT["smd"]["zh"]),
               ColumnSpec("a_flag", _BAL_TEXT["flag"]["en"], _BAL_TEXT["flag"]["zh"])]
    groups = [ColumnGroup(g_r["en"], g_r["zh"], ("r_smd", "r_flag")),
              ColumnGroup(g_a["en"], g_a["zh"], ("a_smd", "a_flag"))]
    notes = {lg: [_BAL_TEXT["note"][lg].format(outcome=out_lab[lg], first=_BAL_TEXT[first][lg])]
             for lg in langs}
    if cross_sectional:
        for lg in langs:
            notes[lg].append(_BAL_TEXT["note_cross_sectional"][lg].format(outcome=out_lab[lg]))
    if flagged:
        for lg in langs:
            notes[lg].append(_BAL_TEXT["flagged"][lg])
    if len(ana) and any(_is_true(v) for v in ana.get("suppressed", [])):
        for lg in langs:
            notes[lg].append(_BAL_TEXT["lost_cells"][lg].format(min_cell=min_cell or "min_cell"))
    if len(rand) and not len(ana):
        for lg in langs:
            notes[lg].append(_BAL_TEXT["no_analysed"][lg].format(outcome=out_lab[lg]))
    if many:  # the arm sizes per comparison, in the notes
        for arm in compared:
            for sample, frame in ((first, rand), ("analysed", ana)):
                n = {lg: sizes(frame, arm, lg) for lg in langs}
                if n["en"] is not None:
                    notes["en"].append(f"{_BAL_TEXT[sample]['en']}: {n['en']}.")
                    notes["zh"].append(f"{_BAL_TEXT[sample]['zh']}：{n['zh']}。")
    cap = _BAL_TEXT["caption" if randomized else "caption_baseline"]  # nobody was randomized
    return PublishedTable(data, columns, caption_en=cap["en"],
                          caption_zh=cap["zh"], notes_en=notes["en"],
                          notes_zh=notes["zh"], groups=groups,
                          row_groups="group" if many else None, indent="indent",
                          min_cell=min_cell, lang=lang)

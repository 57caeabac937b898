"""Overall and differential attrition against the What Works Clearinghouse boundary.

The WWC classifies a randomized study as LOW or HIGH attrition from two
numbers: overall attrition (share of the randomized sample missing from the
analysis) and differential attrition (the absolute difference between the
arms' attrition rates, in percentage points). For each whole percent of
overall attrition a table gives the highest differential attrition that still
counts as low, under two assumptions about how strongly attrition is related
to the outcome:

* **cautious** -- when the program could plausibly affect who leaves the study
  (the default here, and the stricter boundary);
* **optimistic** -- when attrition is unlikely to be related to the program.

Which one applies is set before looking at the data (WWC review protocols).

Provenance of the numbers -- read this before relying on them
----------------------------------------------------------------
The brief asks for the table of the WWC *Procedures and Standards Handbook,
Version 5.0* (2022). The Handbook itself (v5.0 or earlier) could NOT be found in
the stored public material available to this project, so no number below was
read from the Handbook directly. The table is the one of the *Standards
Handbook* v4.0/v4.1 (Table II.1, "highest differential attrition rate for a
sample to maintain low attrition, by overall attrition rate, under 'optimistic'
and 'cautious' assumptions") as transcribed by two independent public sources:

A. R package ``baselinr`` (Y. Liang; CRAN 0.6.0), ``R/attrition_boundary.R``,
   citing Standards Handbook v4.1, Table II.1; overall 0-65%.
B. R code ``WWCr`` (H. Chu; GitHub HaiwenChu/RWWC-v.4-Group-Designs, file
   ``WWCr``), citing Standards Handbook v4.0, Table II.1, p. 12; overall 0-57%.

* The **cautious** column (overall 0-57%, from 5.7 to 0.0 points) is the same in
  A and B, value for value: it is used as is. Above 57% overall attrition no
  differential counts as low (A: "58 percent or more is high attrition").
* The **optimistic** column agrees in A and B for overall 0-12% and 14%. From
  13% on the two transcriptions differ by one row (B repeats 10.9 once more,
  so B's value at x% is A's value at (x-1)%). Neither could be checked against
  the Handbook here, so for those rows both values are kept: a differential at
  or below the smaller one is low under either reading, one above the larger
  one is high under either, and one in between is reported as
  ``"undetermined"``. Rows 58-65% exist only in A (single source): they are used
  but marked ``boundary_verified = False``. Above 65% the table ends: high.

Whether Version 5.0 changed the boundary was not verified. The often-quoted
"overall 10% -> 6.3" is the CAUTIOUS value (optimistic: 10.9).

Choices of this module (not from the Handbook):

* Inputs are percentages / percentage points. A non-integer overall rate is
  looked up at both neighbouring whole percents and the smaller boundary is
  used, so a study is never called low when either neighbouring row would call
  it high.
* A differential exactly on the boundary is low (the table gives the HIGHEST
  differential that still counts as low); a tolerance of 1e-9 points absorbs
  floating-point noise from rates computed from counts.

References
----------
What Works Clearinghouse (2020). *Standards Handbook, Version 4.1*. U.S.
Department of Education, Institute of Education Sciences. Table II.1.
What Works Clearinghouse (2022). *Procedures and Standards Handbook, Version
5.0*. U.S. Department of Education, Institute of Education Sciences.
Deke, J., & Chiang, H. (2017). The WWC attrition standard: sensitivity to
assumptions and opportunities for refining and adapting to new contexts.
*Evaluation Review*, 41(2), 130-154.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["BOUNDARIES", "COLUMNS", "attrition_rates", "boundary_table", "wwc_attrition"]

BOUNDARIES = ("cautious", "optimistic")

#: Columns of :func:`wwc_attrition`, in this order.
COLUMNS = [
    "overall_pp", "differential_pp", "boundary", "max_differential_pp",
    "max_differential_pp_alt", "boundary_verified", "attrition", "explanation_en", "explanation_zh",
]

# Cautious column, overall 0..57 %: identical in sources A and B.
_CAUTIOUS = (
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0,
    5.9, 5.9, 5.8, 5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3,
    4.1, 4.0, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0,
    1.8, 1.6, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.0,
)
# Optimistic column, overall 0..65 %, as in source A (baselinr).
_OPTIMISTIC_A = (
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9,
    10.9, 10.8, 10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4,
    9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3,
    6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3.0, 2.8,
    2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7, 0.5, 0.3,
)
# Optimistic column, overall 0..57 %, as in source B (WWCr).
_OPTIMISTIC_B = (
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9,
    10.9, 10.9, 10.8, 10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5,
    9.4, 9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5,
    6.3, 6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3.0,
    2.8, 2.6, 2.3,
)
_TOL = 1e-9

_NAME_ZH = {"cautious": "谨慎（cautious）", "optimistic": "乐观（optimistic）"}
_WHEN_EN = {
    "cautious": "The cautious boundary applies when the program could plausibly affect who "
                "leaves the study.",
    "optimistic": "The optimistic boundary applies only when attrition is unlikely to be "
                  "related to the program.",
}
_WHEN_ZH = {
    "cautious": "当项目本身可能影响哪些人退出研究时，应采用谨慎边界。",
    "optimistic": "只有当流失不太可能与项目有关时，才可采用乐观边界。",
}


def _row_bounds(boundary: str, o: int) -> tuple[float, float, bool]:
    """(smaller, larger, verified) boundary at whole-percent overall attrition ``o``.

    NaN, NaN when no differential counts as low at that overall rate.
    """
    if boundary == "cautious":
        if o < len(_CAUTIOUS):
            return _CAUTIOUS[o], _CAUTIOUS[o], True
        return math.nan, math.nan, True
    if o >= len(_OPTIMISTIC_A):
        return math.nan, math.nan, False
    a = _OPTIMISTIC_A[o]
    if o >= len(_OPTIMISTIC_B):
        return a, a, False
    b = _OPTIMISTIC_B[o]
    return min(a, b), max(a, b), a == b


def boundary_table() -> pd.DataFrame:
    """The boundary table with its provenance, one row per whole percent of overall attrition.

    Columns: ``overall_pp``, ``cautious_pp`` (NaN = no differential is low),
    ``optimistic_pp`` (source A), ``optimistic_pp_alt`` (source B; NaN where B
    has no row), ``optimistic_verified`` (A and B agree).

    Examples
    --------
    >>> from analysis.attrition_standards import boundary_table
    >>> t = boundary_table()
    >>> t.loc[t["overall_pp"] == 10, ["cautious_pp", "optimistic_pp"]].values.tolist()
    [[6.3, 10.9]]
    >>> int(t["optimistic_verified"].sum())
    14
    """
    rows = []
    for o in range(len(_OPTIMISTIC_A)):
        rows.append({
            "overall_pp": o,
            "cautious_pp": _CAUTIOUS[o] if o < len(_CAUTIOUS) else np.nan,
            "optimistic_pp": _OPTIMISTIC_A[o],
            "optimistic_pp_alt": _OPTIMISTIC_B[o] if o < len(_OPTIMISTIC_B) else np.nan,
            "optimistic_verified": o < len(_OPTIMISTIC_B) and _OPTIMISTIC_A[o] == _OPTIMISTIC_B[o],
        })
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    """A boundary value of the table (one decimal)."""
    return f"{x:.1f}"


def _fmt_in(x: float) -> str:
    """A study's own rate: up to two decimals, so it never rounds onto a boundary."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _explain(overall, diff, boundary, lo, hi, verified, cls, rows):
    span = f"{rows[0]}%" if rows[0] == rows[1] else f"{rows[0]}-{rows[1]}%"
    head_en = (f"Overall attrition {_fmt_in(overall)}% and differential attrition {_fmt_in(diff)} "
               f"percentage points: ")
    head_zh = f"总体流失率 {_fmt_in(overall)}%，组间流失差 {_fmt_in(diff)} 个百分点："
    name_zh = _NAME_ZH[boundary]
    if math.isnan(lo):
        last = (len(_CAUTIOUS) if boundary == "cautious" else len(_OPTIMISTIC_A)) - 1
        en = (f"{head_en}high attrition under the WWC {boundary} boundary (at {span} overall "
              f"attrition no differential attrition counts as low; the {boundary} boundary "
              f"ends at {last}%).")
        zh = (f"{head_zh}按 WWC {name_zh}边界属于高流失（总体流失 {span} 时，任何组间流失差都不算"
              f"低流失；该边界止于 {last}%）。")
    elif cls == "undetermined":
        en = (f"{head_en}undetermined under the WWC {boundary} boundary: at {span} overall "
              f"attrition the published boundary is {_fmt(lo)} or {_fmt(hi)} points (two "
              f"transcriptions of the WWC table differ here and could not be checked against "
              f"the Handbook), and the differential lies between them.")
        zh = (f"{head_zh}按 WWC {name_zh}边界无法判定：总体流失 {span} 时，边界为 {_fmt(lo)} 或 "
              f"{_fmt(hi)} 个百分点（WWC 表格的两个转录版本在此不一致，且无法与原手册核对），"
              f"而组间流失差恰在两者之间。")
    else:
        level_en = "low" if cls == "low" else "high"
        level_zh = "低流失" if cls == "low" else "高流失"
        bound_en = _fmt(lo) if lo == hi else f"{_fmt(lo)} (or {_fmt(hi)})"
        bound_zh = _fmt(lo) if lo == hi else f"{_fmt(lo)}（或 {_fmt(hi)}）"
        en = (f"{head_en}{level_en} attrition under the WWC {boundary} boundary (at {span} "
              f"overall attrition the highest differential that still counts as low is "
              f"{bound_en} points).")
        zh = (f"{head_zh}按 WWC {name_zh}边界属于{level_zh}（总体流失 {span} 时，仍算低流失的最大"
              f"组间流失差为 {bound_zh} 个百分点）。")
    if not verified and cls != "undetermined":
        en += " This row of the table comes from a single transcription and is not verified."
        zh += "该行边界值仅有一个转录来源，未经核实。"
    return f"{en} {_WHEN_EN[boundary]}", f"{zh}{_WHEN_ZH[boundary]}"


def _one(overall: float, diff: float, boundary: str) -> dict:
    lo_row, hi_row = math.floor(overall), math.ceil(overall)
    b1, b2 = _row_bounds(boundary, lo_row), _row_bounds(boundary, hi_row)
    if math.isnan(b1[0]) or math.isnan(b2[0]):
        lo = hi = math.nan
    else:
        lo, hi = min(b1[0], b2[0]), min(b1[1], b2[1])
    verified = b1[2] and b2[2]
    if math.isnan(lo):
        cls = "high"
    elif diff <= lo + _TOL:
        cls = "low"
    elif diff > hi + _TOL:
        cls = "high"
    else:
        cls = "undetermined"
    en, zh = _explain(overall, diff, boundary, lo, hi, verified, cls, (lo_row, hi_row))
    return {
        "overall_pp": overall, "differential_pp": diff, "boundary": boundary,
        "max_differential_pp": lo, "max_differential_pp_alt": hi, "boundary_verified": verified,
        "attrition": cls, "explanation_en": en, "explanation_zh": zh,
    }


def wwc_attrition(overall_pp: float, differential_pp: float, *, boundary: str = "cautious") -> pd.DataFrame:
    """Classify overall and differential attrition against the WWC boundary.

    Parameters
    ----------
    overall_pp : float
        Overall attrition in percent (0-100): randomized units missing from the
        analysis / randomized units.
    differential_pp : float
        Differential attrition in percentage points: treatment-arm attrition
        minus control-arm attrition (its absolute value is used).
    boundary : {"cautious", "optimistic", "both"}
        Which WWC boundary; ``"both"`` returns one row for each.

    Returns
    -------
    DataFrame
        One row per boundary with :data:`COLUMNS`: the inputs, ``boundary``,
        ``max_differential_pp`` (highest differential still low at this overall
        rate; NaN when none is), ``max_differential_pp_alt`` (differs only where
        the two transcriptions of the table disagree), ``boundary_verified``,
        ``attrition`` (``"low"``, ``"high"`` or ``"undetermined"``) and the
        explanation in English and Chinese.

    Examples
    --------
    County example: 7% and 14% attrition in the two arms (367/396 and 329/382
    analysed):

    >>> from analysis.attrition_standards import attrition_rates, wwc_attrition
    >>> r = attrition_rates(396, 367, 382, 329)
    >>> round(r["overall_pp"], 2), round(r["differential_pp"], 2)
    (10.54, -6.55)
    >>> res = wwc_attrition(r["overall_pp"], r["differential_pp"], boundary="both")
    >>> res[["boundary", "max_differential_pp", "attrition"]].values.tolist()
    [['cautious', 6.2, 'high'], ['optimistic', 10.9, 'low']]
    >>> print(res.loc[0, "explanation_en"])  # doctest: +NORMALIZE_WHITESPACE
    Overall attrition 10.54% and differential attrition 6.55 percentage points: high attrition
    under the WWC cautious boundary (at 10-11% overall attrition the highest differential
    that still counts as low is 6.2 points). The cautious boundary applies when the program
    could plausibly affect who leaves the study.
    """
    if boundary not in (*BOUNDARIES, "both"):
        raise ValueError("boundary must be 'cautious', 'optimistic' or 'both'")
    o, d = float(overall_pp), float(differential_pp)
    if math.isnan(o) or math.isnan(d):
        raise ValueError("overall and differential attrition are required (got NaN)")
    d = abs(d)
    if not 0 <= o <= 100:
        raise ValueError(f"overall attrition must be a percentage in [0, 100], got {o}")
    if d > 100:
        raise ValueError(f"differential attrition must be in percentage points (<= 100), got {d}")
    which = BOUNDARIES if boundary == "both" else (boundary,)
    return pd.DataFrame([_one(o, d, b) for b in which], columns=COLUMNS)


def attrition_rates(randomized_t: int, analysed_t: int, randomized_c: int, analysed_c: int) -> dict:
    """Overall and differential attrition (percent) from the counts of the two arms.

    ``overall = 100 * (lost_t + lost_c) / (randomized_t + randomized_c)``;
    ``differential = attrition_t - attrition_c`` (signed; the WWC uses its
    absolute value).

    Examples
    --------
    >>> from analysis.attrition_standards import attrition_rates
    >>> r = attrition_rates(100, 90, 100, 80)
    >>> r["overall_pp"], r["attrition_t_pp"], r["attrition_c_pp"], r["differential_pp"]
    (15.0, 10.0, 20.0, -10.0)
    """
    for name, n, a in (("treatment", randomized_t, analysed_t), ("control", randomized_c, analysed_c)):
        if n <= 0:
            raise ValueError(f"{name} arm: the randomized count must be positive, got {n}")
        if not 0 <= a <= n:
            raise ValueError(f"{name} arm: analysed count {a} must be between 0 and the randomized {n}")
    at = 100.0 * (randomized_t - analysed_t) / randomized_t
    ac = 100.0 * (randomized_c - analysed_c) / randomized_c
    overall = 100.0 * (randomized_t + randomized_c - analysed_t - analysed_c) / (randomized_t + randomized_c)
    return {"overall_pp": overall, "attrition_t_pp": at, "attrition_c_pp": ac, "differential_pp": at - ac}

"""问卷星 (Wenjuanxing) Excel exports: detection and normalization.

Wenjuanxing produces two exports of the same answers: 按文本 (answers as the
option text, e.g. ``非常同意``) and 按序号 (answers as the option number). Both
share this shape:

- six metadata columns first: ``序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP``
  (the IP address is personal data: it is dropped here and by :mod:`survey.ingest`);
- one column per question headed ``N、题干`` (question number N, then the stem);
- matrix and (按序号) multi-select questions get one sub-column each, headed
  ``第N题(子项)`` (also accepted: ``N(子项)``);
- multi-select answers in the text export are joined with ``┋``;
- ``-2`` (not shown, skip logic) and ``-3`` (skipped) mean missing, as do the text
  export's ``(跳过)`` and ``(空)``. They become missing, not validation errors.

**Mapping columns to item ids.** ``instruments[].items`` in study.yaml maps an
item id to a column. For a Wenjuanxing export the column may be named by

- the full header as exported, e.g. ``"3、我觉得自己有很多优点"`` or
  ``"第5题(我感到孤独)"``;
- the question number alone, e.g. ``3`` (or ``"3"``), for a one-column question;
- ``"N.K"`` for the K-th sub-column (1-based) of question N, e.g. ``"5.2"``, or
  ``"N(子项)"`` with the sub-item text.

Question stems are not matched against the instrument's item text: the study
must say which question is which item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METADATA_COLUMNS = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
#: Metadata columns that hold personal data.
PERSONAL_COLUMNS = frozenset({"来自IP"})
#: Values meaning "not shown" / "skipped" in either export.
MISSING_VALUES = frozenset({"-2", "-3", "(跳过)", "(空)", "（跳过）", "（空）"})
MULTI_SEPARATOR = "┋"

_QUESTION = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
_SUBCOLUMN = re.compile(r"^\s*(?:第\s*(\d+)\s*题|(\d+))\s*[（(](.*)[)）]\s*$", re.S)


@dataclass
class WenjuanxingExport:
    """A normalized Wenjuanxing export.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table without ``来自IP``; -2/-3/(跳过)/(空) in question columns set to missing.
    kind : str
        ``"text"`` (按文本) or ``"index"`` (按序号).
    questions : dict
        ``{header: key}`` for every question column; key is ``"N"`` or ``"N.K"``.
    aliases : dict
        Other names a study may use for a column -> the header (see module docs).
    """

    frame: pd.DataFrame
    kind: str
    questions: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)


def is_wenjuanxing(columns) -> bool:
    """True when the columns look like a Wenjuanxing export.

    At least four of the six metadata column names appear among the first eight
    columns, and ``序号`` is one of them.

    Examples
    --------
    >>> is_wenjuanxing(["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "1、年级"])
    True
    >>> is_wenjuanxing(["id", "wave", "q1"])
    False
    """
    head = [str(c).strip() for c in list(columns)[:8]]
    hits = sum(c in head for c in METADATA_COLUMNS)
    return "序号" in head and hits >= 4


def question_keys(columns) -> dict:
    """``{header: key}`` for question columns (``"N"`` or ``"N.K"`` for sub-columns).

    Examples
    --------
    >>> question_keys(["序号", "1、你的年级", "第2题(我感到孤独)", "第2题(我有朋友)"])
    {'1、你的年级': '1', '第2题(我感到孤独)': '2.1', '第2题(我有朋友)': '2.2'}
    """
    out = {}
    sub_count: dict[str, int] = {}
    for c in columns:
        h = str(c)
        m = _SUBCOLUMN.match(h)
        if m:
            n = m.group(1) or m.group(2)
            sub_count[n] = sub_count.get(n, 0) + 1
            out[h] = f"{n}.{sub_count[n]}"
            continue
        m = _QUESTION.match(h)
        if m:
            out[h] = m.group(1)
    return out


def _aliases(questions: dict) -> dict:
    aliases = {}
    for header, key in questions.items():
        aliases[key] = header
        m = _SUBCOLUMN.match(header)
        if m:
            n = m.group(1) or m.group(2)
            sub = m.group(3).strip()
            aliases[f"{n}({sub})"] = header
            aliases[f"第{n}题({sub})"] = header
    return aliases


def normalize_wenjuanxing(frame: pd.DataFrame) -> WenjuanxingExport:
    """Normalize a Wenjuanxing export read by :func:`survey.readers.read_table`.

    Drops ``来自IP``, sets -2/-3/(跳过)/(空) in question columns to missing, and
    tells whether it is the 按文本 or the 按序号 export (``kind``): 按文本 when a
    ``┋`` or ``(跳过)`` appears, otherwise 按序号 when most question columns hold
    only integers (a heuristic; it only labels the source in the report).

    Parameters
    ----------
    frame : pandas.DataFrame
        All cells as strings (``RawTable.frame``).

    Returns
    -------
    WenjuanxingExport

    Examples
    --------
    >>> df = pd.DataFrame({"序号": ["1", "2"], "来自IP": ["1.2.3.4", "5.6.7.8"],
    ...                    "1、我感到孤独": ["非常同意", "(跳过)"]}, dtype="str")
    >>> wj = normalize_wenjuanxing(df)
    >>> wj.kind, list(wj.frame.columns), wj.frame["1、我感到孤独"].isna().tolist()
    ('text', ['序号', '1、我感到孤独'], [False, True])
    >>> wj.aliases["1"]
    '1、我感到孤独'
    """
    frame = frame.drop(columns=[c for c in frame.columns if str(c).strip() in PERSONAL_COLUMNS])
    questions = question_keys(frame.columns)
    integer_cols = 0
    text_marks = False
    for header in questions:
        col = frame[header]
        stripped = col.str.strip()
        missing = stripped.isin(MISSING_VALUES).to_numpy()
        if missing.any():
            text_marks = text_marks or bool(stripped.str.startswith(("(", "（")).any())
            frame[header] = col.mask(missing)
            stripped = stripped.mask(missing)
        present = stripped.dropna()
        text_marks = text_marks or bool(present.str.contains(MULTI_SEPARATOR, regex=False).any())
        if len(present) and present.str.fullmatch(r"-?\d+").all():
            integer_cols += 1
    index = not text_marks and integer_cols * 2 > len(questions)
    return WenjuanxingExport(frame, "index" if index else "text", questions,
                             _aliases(questions))


def split_multiselect(series: pd.Series, sep: str = MULTI_SEPARATOR) -> pd.DataFrame:
    """One 0/1 column per option of a 按文本 multi-select answer (``A┋B``).

    Missing answers stay missing in every option column. Columns are the options
    in order of first appearance.

    Examples
    --------
    >>> s = pd.Series(["看书┋运动", "运动", None])
    >>> split_multiselect(s)
        看书   运动
    0  1.0  1.0
    1  0.0  1.0
    2  NaN  NaN
    """
    parts = series.str.split(sep)
    options: list[str] = []
    for lst in parts.dropna():
        for o in lst:
            o = o.strip()
            if o and o not in options:
                options.append(o)
    out = {}
    missing = series.isna().to_numpy()
    for o in options:
        v = parts.map(lambda lst, o=o: float(o in [x.strip() for x in lst]), na_action="ignore")
        arr = np.array(v.to_numpy(dtype="float64", na_value=np.nan))
        arr[missing] = np.nan
        out[o] = arr
    return pd.DataFrame(out, index=series.index)

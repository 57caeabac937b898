"""One table object for every published table: HTML (great_tables) and Word (python-docx).

A :class:`PublishedTable` holds a tidy DataFrame and, for each column shown, a
:class:`ColumnSpec`: its English and Chinese label and its *kind*, which decides how a
number is written:

========== ===================================== =====================
kind       rule                                  example
========== ===================================== =====================
text       as is (translated by the builder)     ``grandparents``
count      integer                               ``382``
estimate   2 decimals                            ``0.22``, ``-0.97``
smd        2 decimals                            ``-0.25``
p_value    3 decimals, ``< .001`` below 0.001    ``0.050``, ``< .001``
share      percent, 1 decimal                    ``45.2%``
ci         ``low to high`` / ``low 至 high``     ``0.03 to 0.42``,
           (a non-zero limit that rounds to 0:   ``0.004 to 0.41``
           one significant digit, sign kept)
estimate_ci estimate (low to high)               ``0.22 (0.03 to 0.42)``
bool       a check mark for true, else empty     ``✓``
========== ===================================== =====================

A missing value is shown as ``–`` (never ``NaN``, ``<NA>``, ``None`` or ``False``). A
value blanked by small-cell suppression (a row whose ``suppressed`` column is true,
or whose ``suppressed_counts`` names blanked counts: see
:meth:`evaluation.run_folder.RunFolder.write_table`) is shown as :data:`SUPPRESSED`
(``§``), and the table then carries a footnote, in the language shown, saying that
cells of fewer than ``min_cell`` children are suppressed. The helper columns
(``suppressed``, ``suppression_reason``, ``suppressed_counts``) are never shown; there
is no index column.

The same object writes an HTML fragment (:meth:`PublishedTable.to_html`, through
great_tables, full width with wrapping cells so that nothing is cut off), shows
itself in a notebook (:meth:`PublishedTable.display`) and adds itself to a Word
document as an editable table with a numbered caption
(:meth:`PublishedTable.add_to_docx`). Builders of the study's tables:
:func:`table1_by_arm` (baseline characteristics by arm with SMDs) and
:func:`effects_by_outcome` (effects, one row per outcome, models as column groups).

Examples
--------
>>> import pandas as pd
>>> t = PublishedTable(
...     pd.DataFrame({"outcome": ["communication"], "estimate": [0.2236],
...                   "ci_low": [0.0304], "ci_high": [0.4168], "p_value": [0.0259]}),
...     [ColumnSpec("outcome", "Outcome", "结局"),
...      ColumnSpec("estimate", "Estimate", "估计值", "estimate"),
...      ColumnSpec("ci_low", "95% CI", "95% 置信区间", "ci", high="ci_high"),
...      ColumnSpec("p_value", "p", "p 值", "p_value")],
...     caption_en="Effects", caption_zh="效应")
>>> t.cells("en").iloc[0].tolist()
['communication', '0.22', '0.03 to 0.42', '0.026']
>>> t.cells("zh").iloc[0, 2]
'0.03 至 0.42'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.model_names import model_label

__all__ = [
    "HIDDEN_COLUMNS",
    "KINDS",
    "MISSING",
    "SUPPRESSED",
    "ColumnGroup",
    "ColumnSpec",
    "PublishedTable",
    "SIGN_DECIMALS",
    "effects_by_outcome",
    "fixed_nonzero",
    "format_value",
    "NOT_EQUIVALENT",
    "reliability_by_scale",
    "table1_by_arm",
]

SUPPRESSED = "§"
"""What a suppressed cell shows."""

MISSING = "–"
"""What a missing (not suppressed) number shows."""

HIDDEN_COLUMNS = ("suppressed", "suppression_reason", "suppressed_counts")
"""Helper columns of the published CSVs that a table never shows."""

KINDS = ("text", "count", "estimate", "smd", "p_value", "share", "ci", "estimate_ci", "bool")
"""The column kinds of :class:`ColumnSpec`."""

LANGS = ("en", "zh")

_CI_JOIN = {"en": " to ", "zh": " 至 "}
_COMMA = {"en": ", ", "zh": "，"}
_INDENT = "\u2003"  # an em space: indents a level row in HTML and in Word alike


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    return lang


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _number(v) -> float | None:
    if _missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _fixed(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    if s.lstrip("-").strip("0.") == "":  # -0.00 -> 0.00
        s = s.lstrip("-")
    return s


SIGN_DECIMALS = 6
"""The most decimals :func:`fixed_nonzero` writes to keep a small value's sign."""


def fixed_nonzero(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` decimals, except that a value that is not zero but would round
    to zero gets one significant digit, so that its sign shows (a CI limit of 0.0038 is
    ``0.004``, not ``0.00``, which would contradict "excludes 0"); below
    ``10**-SIGN_DECIMALS`` it is written ``< 0.000001`` / ``> -0.000001``. Exactly zero
    stays ``0.00``; no ``+`` sign (:func:`evaluation.headline.fmt_estimate` adds it). The
    rule of the ``ci`` and ``estimate_ci`` columns of published tables (the estimate and its
    limits) and of every estimate and limit on the index; a lone ``estimate`` column (a
    mean, a median) keeps 2 decimals.

    Examples
    --------
    >>> fixed_nonzero(0.2236), fixed_nonzero(0.0038), fixed_nonzero(-0.000005)
    ('0.22', '0.004', '-0.000005')
    >>> fixed_nonzero(0.0), fixed_nonzero(-0.00096), fixed_nonzero(4e-9), fixed_nonzero(-4e-9)
    ('0.00', '-0.001', '< 0.000001', '> -0.000001')
    """
    s = _fixed(x, digits)
    if x == 0 or float(s) != 0:
        return s
    dec = -math.floor(math.log10(abs(x)))
    if dec > SIGN_DECIMALS or float(f"{x:.{SIGN_DECIMALS}f}") == 0:
        tiny = f"{10.0 ** -SIGN_DECIMALS:.{SIGN_DECIMALS}f}"
        return f"< {tiny}" if x > 0 else f"> -{tiny}"
    s = f"{x:.{dec}f}"
    if float(s) != 0 and abs(float(s)) == 10.0 ** -(dec - 1):  # 0.00096 -> 0.0010 -> 0.001
        s = f"{x:.{dec - 1}f}"
    return s


def format_value(kind: str, value, lang: str = "en", *, low=None, high=None) -> str:
    """One value written by the rule of its column ``kind`` (see the module docstring).

    ``ci`` takes the lower bound as ``value`` and the upper as ``high``; ``estimate_ci``
    the estimate as ``value`` and its bounds as ``low`` and ``high``. Missing values
    (and a ``ci`` with either bound missing) give :data:`MISSING`; text is returned as
    ``str`` with ``None``/``NaN``/``<NA>`` as ``""``.

    Examples
    --------
    >>> format_value("p_value", 0.0499), format_value("p_value", 0.0004)
    ('0.050', '< .001')
    >>> format_value("share", 0.452), format_value("count", 382.0)
    ('45.2%', '382')
    >>> format_value("ci", 0.0304, "zh", high=0.4168)
    '0.03 至 0.42'
    >>> format_value("estimate_ci", 0.2236, low=0.0304, high=0.4168)
    '0.22 (0.03 to 0.42)'
    >>> format_value("estimate", float("nan")), format_value("text", None)
    ('–', '')
    """
    _check_lang(lang)
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "text":
        if isinstance(value, Mapping):  # a bilingual label {"en": ..., "zh": ...}
            return str(value.get(lang) or value.get("en") or "")
        if _missing(value):
            return ""
        if isinstance(value, (bool, np.bool_)):
            return "✓" if value else ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "bool":
        if _missing(value):
            return ""
        if isinstance(value, str):
            return "✓" if value.strip().lower() in ("true", "1", "yes") else ""
        return "✓" if bool(value) else ""
    x = _number(value)
    if kind == "ci":
        y = _number(high)
        if x is None or y is None:
            return MISSING
        return f"{fixed_nonzero(x, 2)}{_CI_JOIN[lang]}{fixed_nonzero(y, 2)}"
    if kind == "estimate_ci":
        if x is None:
            return MISSING
        lo, y = _number(low), _number(high)
        if lo is None or y is None:
            return fixed_nonzero(x, 2)
        return (f"{fixed_nonzero(x, 2)} ({fixed_nonzero(lo, 2)}{_CI_JOIN[lang]}"
                f"{fixed_nonzero(y, 2)})")
    if x is None:
        return MISSING
    if kind == "count":
        return str(int(round(x)))
    if kind in ("estimate", "smd"):  # a single number: 2 decimals (no "-0.00")
        return _fixed(x, 2)
    if kind == "p_value":
        return "< .001" if x < 0.001 else f"{x:.3f}"
    if kind == "share":
        return f"{_fixed(100 * x, 1)}%"
    raise AssertionError(kind)  # pragma: no cover


@dataclass(frozen=True)
class ColumnSpec:
    """A shown column: data column ``name``, its labels, and its kind (:data:`KINDS`).

    For ``kind="ci"`` the column ``name`` holds the lower bound and ``high`` names the
    column of the upper bound; the two are shown in one cell. For
    ``kind="estimate_ci"`` ``name`` holds the estimate and ``low`` and ``high`` its
    bounds.
    """

    name: str
    label_en: str
    label_zh: str
    kind: str = "text"
    high: str | None = None
    low: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}; "
                             f"expected one of {', '.join(KINDS)}")
        if self.kind == "ci" and not self.high:
            raise ValueError(f"column {self.name!r}: a 'ci' column names its upper bound "
                             "(high='ci_high')")
        if self.kind == "estimate_ci" and not (self.low and self.high):
            raise ValueError(f"column {self.name!r}: an 'estimate_ci' column names its bounds "
                             "(low='ci_low', high='ci_high')")
        if self.name in HIDDEN_COLUMNS:
            raise ValueError(f"column {self.name!r} is a suppression helper and is never shown")

    def label(self, lang: str) -> str:
        return self.label_zh if _check_lang(lang) == "zh" else self.label_en


@dataclass(frozen=True)
class ColumnGroup:
    """A labelled group of adjacent columns (a spanner above their labels)."""

    label_en: str
    label_zh: str
    columns: tuple[str, ...]

    def label(self, lang: str) -> str:
        return self.label_zh if _check_lang(lang) == "zh" else self.label_en


def _suppression_note(lang: str, min_cell: int | None) -> str:
    if lang == "zh":
        size = f"少于 {min_cell} 名儿童" if min_cell else "人数少于研究设定的最小单元格人数"
        return (f"{SUPPRESSED} 已隐去：该格{size}（小单元格隐去，privacy.min_cell），"
                "或为防止由合计反推出被隐去的格而一并隐去。")
    size = (f"fewer than {min_cell} children" if min_cell
            else "fewer children than the study's minimum cell size")
    return (f"{SUPPRESSED} Suppressed: the cell describes {size} (small-cell suppression, "
            "privacy.min_cell), or was suppressed as well so that such a cell cannot be "
            "recomputed from totals.")


@dataclass
class PublishedTable:
    """A table as published: formatted by column kind, bilingual, HTML and Word.

    Parameters
    ----------
    data : DataFrame
        One row per table row. May hold more columns than are shown (e.g. the
        suppression helpers, or the ``high`` column of a CI).
    columns : list of ColumnSpec
        The shown columns, in order.
    caption_en, caption_zh : str
        The caption without its number (the number is added by :meth:`caption`).
    notes_en, notes_zh : sequence of str
        Footnotes, the same content in both languages.
    groups : sequence of ColumnGroup
        Spanner labels over adjacent columns (e.g. one per model).
    row_groups : str, optional
        A column of ``data`` whose values (already in the table's language, or
        bilingual dicts ``{"en": ..., "zh": ...}``) start a labelled group of rows.
    indent : str, optional
        A boolean column of ``data``: its true rows have their first cell indented
        (the levels under a variable in Table 1).
    min_cell : int, optional
        ``privacy.min_cell``, named in the suppression footnote.
    lang : {"en", "zh"}
        The language shown when a method is called without one (the run's language).

    Text cells, row-group values and labels may be bilingual mappings
    ``{"en": ..., "zh": ...}``: each language shows its own.

    Examples
    --------
    >>> import pandas as pd
    >>> t = PublishedTable(pd.DataFrame({"arm": ["a", "b"], "n": [3.0, float("nan")],
    ...                                  "suppressed": [False, True]}),
    ...                    [ColumnSpec("arm", "Arm", "组别"), ColumnSpec("n", "n", "人数", "count")],
    ...                    caption_en="Children", caption_zh="儿童", min_cell=5)
    >>> t.cells("en")["n"].tolist()
    ['3', '§']
    >>> t.footnotes("en")[0][:13]
    '§ Suppressed:'
    """

    data: pd.DataFrame
    columns: list[ColumnSpec]
    caption_en: str = ""
    caption_zh: str = ""
    notes_en: Sequence[str] = field(default_factory=tuple)
    notes_zh: Sequence[str] = field(default_factory=tuple)
    groups: Sequence[ColumnGroup] = field(default_factory=tuple)
    row_groups: str | None = None
    indent: str | None = None
    min_cell: int | None = None
    lang: str = "en"

    def __post_init__(self):
        _check_lang(self.lang)
        if not isinstance(self.data, pd.DataFrame):
            raise TypeError(f"data must be a DataFrame, got {type(self.data).__name__}")
        if not self.columns:
            raise ValueError("a table shows at least one column")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"a column is shown twice: {names}")
        needed = names + [b for c in self.columns for b in (c.low, c.high) if b]
        needed += [c for c in (self.row_groups, self.indent) if c]
        absent = [c for c in needed if c not in self.data.columns]
        if absent:
            raise ValueError(f"columns {absent} are not in the data; it has "
                             f"{list(self.data.columns)}")
        for g in self.groups:
            unknown = [c for c in g.columns if c not in names]
            if unknown:
                raise ValueError(f"group {g.label_en!r} names columns that are not shown: "
                                 f"{unknown}")
        if len(list(self.notes_en)) != len(list(self.notes_zh)):
            raise ValueError("notes_en and notes_zh hold the same notes: "
                             f"{len(list(self.notes_en))} vs {len(list(self.notes_zh))}")
        self.data = self.data.reset_index(drop=True)

    # --- content ------------------------------------------------------------------------------

    def _suppressed_rows(self) -> np.ndarray:
        flags = np.zeros(len(self.data), dtype=bool)
        if "suppressed" in self.data:
            s = self.data["suppressed"]
            flags |= np.array([(not _missing(v)) and str(v).strip().lower() in ("true", "1")
                               for v in s], dtype=bool)
        if "suppressed_counts" in self.data:
            flags |= np.array([(not _missing(v)) and str(v).strip() != ""
                               for v in self.data["suppressed_counts"]], dtype=bool)
        return flags

    def cells(self, lang: str | None = None) -> pd.DataFrame:
        """The shown cells as strings, one column per :class:`ColumnSpec` (by ``name``)."""
        lang = _check_lang(lang or self.lang)
        return pd.DataFrame(dict(zip([c.name for c in self.columns], self._cell_lists(lang))),
                            columns=[c.name for c in self.columns], dtype=object)

    def _cell_lists(self, lang: str) -> list[list[str]]:
        """The shown cells as strings, one list per shown column (what :meth:`cells` holds)."""
        sup = self._suppressed_rows().tolist()
        out = []
        for spec in self.columns:
            col = list(self.data[spec.name])
            high = list(self.data[spec.high]) if spec.high else [None] * len(col)
            low = list(self.data[spec.low]) if spec.low else [None] * len(col)
            kind = spec.kind
            may_blank = kind not in ("text", "bool")
            values = []
            for v, h, lo, s in zip(col, high, low, sup):
                if s and may_blank and (_missing(v) or (kind == "ci" and _missing(h))):
                    values.append(SUPPRESSED)
                else:
                    values.append(format_value(kind, v, lang, low=lo, high=h))
            out.append(values)
        if self.indent and out:
            ind = [(not _missing(v)) and bool(v) for v in self.data[self.indent]]
            out[0] = [_INDENT + s if flag else s for s, flag in zip(out[0], ind)]
        return out

    def row_group_labels(self, lang: str | None = None) -> list[str] | None:
        """The row-group label of each row (``None`` without :attr:`row_groups`)."""
        lang = _check_lang(lang or self.lang)
        if not self.row_groups:
            return None
        return [_text(v, lang) for v in self.data[self.row_groups]]

    def has_suppressed(self, lang: str | None = None) -> bool:
        lang = _check_lang(lang or self.lang)
        return self._has_suppressed(self._cell_lists(lang))

    def _has_suppressed(self, cell_lists: list[list[str]]) -> bool:
        return any(SUPPRESSED in col for col in cell_lists) or bool(
            any(SUPPRESSED in str(v) for c in self.columns if c.kind == "text"
                for v in self.data[c.name] if not _missing(v)))

    def caption(self, lang: str | None = None, number: int | None = None) -> str:
        """``"Table 1. Caption"`` / ``"表1 标题"`` (no number: the caption alone)."""
        lang = _check_lang(lang or self.lang)
        text = self.caption_zh if _check_lang(lang) == "zh" else self.caption_en
        if number is None:
            return text
        return f"表{number} {text}" if lang == "zh" else f"Table {number}. {text}"

    def footnotes(self, lang: str | None = None) -> list[str]:
        """The notes in ``lang``, and the suppression note when a cell is suppressed."""
        lang = _check_lang(lang or self.lang)
        return self._footnotes(lang, self._cell_lists(lang))

    def _footnotes(self, lang: str, cell_lists: list[list[str]]) -> list[str]:
        notes = list(self.notes_zh if lang == "zh" else self.notes_en)
        if self._has_suppressed(cell_lists):
            notes.append(_suppression_note(lang, self.min_cell))
        return notes

    # --- HTML ---------------------------------------------------------------------------------

    def gt(self, lang: str | None = None, number: int | None = None):
        """The great_tables ``GT`` object of the table in ``lang``."""
        lang = _check_lang(lang or self.lang)
        from great_tables import GT

        cells = self.cells(lang)
        ids = {spec.name: f"c{k}" for k, spec in enumerate(self.columns)}
        frame = cells.rename(columns=ids)
        groups = self.row_group_labels(lang)
        gt_id = self._html_id(lang, number)
        if groups is not None:
            frame.insert(0, "_row_group", groups)
            table = GT(frame, groupname_col="_row_group", id=gt_id)
        else:
            table = GT(frame, id=gt_id)
        table = table.cols_label(**{ids[s.name]: s.label(lang) for s in self.columns})
        for g in self.groups:
            table = table.tab_spanner(label=g.label(lang), columns=[ids[c] for c in g.columns])
        caption = self.caption(lang, number)
        if caption:
            table = table.tab_header(title=caption)
        for note in self.footnotes(lang):
            table = table.tab_source_note(note)
        first, rest = ids[self.columns[0].name], [ids[s.name] for s in self.columns[1:]]
        table = table.cols_align("left", columns=[first])
        if rest:
            table = table.cols_align("center", columns=rest)
        return table.tab_options(table_width="100%", container_width="100%",
                                 container_overflow_x="visible",
                                 heading_align="left", table_font_size="14px",
                                 data_row_padding_horizontal="4px",
                                 column_labels_padding_horizontal="4px",
                                 column_labels_font_weight="bold")

    def _html_id(self, lang: str, number: int | None) -> str:
        """A stable element id (great_tables draws a random one): same table, same page."""
        import hashlib

        key = "\x1f".join([lang, str(number), self.caption_en, *map(str, self.data.columns),
                           str(len(self.data))])
        return "wb" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]

    def to_html(self, lang: str | None = None, number: int | None = None) -> str:
        """An HTML fragment (a ``<div>`` holding the table) that fits its container.

        The table takes the container's width and every cell may wrap (long labels
        break over lines), so nothing is cut off or hidden behind a scroll bar; on a
        screen narrower than the table's narrowest layout (a phone) the table scrolls
        sideways inside its box rather than being cut off.

        The markup is great_tables' (:meth:`gt`), written directly by
        :func:`evaluation.table_html.table_html` (the same bytes, without great_tables'
        per-cell work); a table that function does not handle goes through great_tables.
        """
        lang = _check_lang(lang or self.lang)
        return self._wrap_html(lang, self._table_html(lang, number))

    def _table_html(self, lang: str, number: int | None) -> str:
        from evaluation.table_html import supported, table_html

        labels = [s.label(lang) for s in self.columns]
        position = {spec.name: k for k, spec in enumerate(self.columns)}
        spanners = [(g.label(lang), [position[c] for c in g.columns]) for g in self.groups]
        caption = self.caption(lang, number)
        if not supported(labels, spanners, caption):
            return self._gt_html(lang, number)
        cell_lists = self._cell_lists(lang)
        rows = [list(r) for r in zip(*cell_lists)] if cell_lists else []
        aligns = ["left"] + ["center"] * (len(labels) - 1)
        return table_html(self._html_id(lang, number), caption or None, labels, aligns,
                          spanners, rows, self.row_group_labels(lang),
                          self._footnotes(lang, cell_lists))

    def _gt_html(self, lang: str, number: int | None) -> str:
        """The table's HTML as great_tables writes it (what :meth:`_table_html` reproduces)."""
        return self.gt(lang, number).as_raw_html(inline_css=False)

    @staticmethod
    def _wrap_html(lang: str, raw: str) -> str:
        wrap = ("<style>.wb-table{max-width:100%;overflow-x:auto}"
                ".wb-table table{table-layout:auto;width:100%;max-width:100%}"
                ".wb-table th,.wb-table td{white-space:normal!important;"
                "overflow-wrap:normal;word-break:normal}"
                ".wb-table td.gt_row:first-child,.wb-table th:first-child,"
                ".wb-table .gt_group_heading,.wb-table .gt_heading,.wb-table .gt_sourcenote"
                "{overflow-wrap:anywhere}"
                "@media (max-width:760px){.wb-table .gt_table{font-size:11px!important}"
                ".wb-table .gt_row,.wb-table .gt_col_heading{padding-left:2px!important;"
                "padding-right:2px!important}}</style>")
        return f'<div class="wb-table" lang="{_html_lang(lang)}">{wrap}{raw}</div>'

    def display(self, lang: str | None = None, number: int | None = None):
        """Show the table in a notebook (an IPython HTML object)."""
        lang = _check_lang(lang or self.lang)
        from IPython.display import HTML, display

        obj = HTML(self.to_html(lang, number))
        display(obj)
        return None

    def _repr_html_(self) -> str:
        return self.to_html(self.lang)

    # --- Word ---------------------------------------------------------------------------------

    def add_to_docx(self, document, lang: str | None = None, number: int | None = None):
        """Append a caption paragraph, an editable Word table and the notes to ``document``.

        ``document`` is a :class:`docx.document.Document`. The caption reads
        ``"Table N. ..."`` / ``"表N ..."``; the header holds the column labels (under a
        row of group labels when the table has :attr:`groups`); the body holds the
        same strings as :meth:`cells`. Returns the :class:`docx.table.Table`.
        """
        lang = _check_lang(lang or self.lang)
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Pt

        cells = self.cells(lang)
        caption = self.caption(lang, number)
        if caption:
            p = document.add_paragraph()
            try:
                p.style = document.styles["Caption"]
            except KeyError:
                pass
            run = p.add_run(caption)
            run.bold = True
        n_cols = len(self.columns)
        header_rows = 2 if self.groups else 1
        table = document.add_table(rows=header_rows, cols=n_cols)
        try:
            table.style = document.styles["Table Grid"]
        except KeyError:
            pass
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        position = {spec.name: k for k, spec in enumerate(self.columns)}
        if self.groups:
            top = table.rows[0].cells
            for g in self.groups:
                ks = sorted(position[c] for c in g.columns)
                cell = top[ks[0]].merge(top[ks[-1]]) if len(ks) > 1 else top[ks[0]]
                _set_cell(cell, g.label(lang), bold=True, center=True)
        for k, spec in enumerate(self.columns):
            _set_cell(table.rows[header_rows - 1].cells[k], spec.label(lang), bold=True,
                      center=k > 0)
        groups = self.row_group_labels(lang)
        last_group = object()
        for i in range(len(cells)):
            if groups is not None and groups[i] != last_group:
                last_group = groups[i]
                row = table.add_row().cells
                merged = row[0].merge(row[-1]) if n_cols > 1 else row[0]
                _set_cell(merged, groups[i], bold=True)
            row = table.add_row().cells
            for k in range(n_cols):
                _set_cell(row[k], cells.iat[i, k], center=k > 0)
        for row in table.rows[:header_rows]:
            _repeat_header(row)
        for note in self.footnotes(lang):
            p = document.add_paragraph()
            r = p.add_run(note)
            r.font.size = Pt(9)
        return table


def _set_cell(cell, text: str, *, bold: bool = False, center: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    cell.text = ""
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold
    run.font.size = Pt(9)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _repeat_header(row) -> None:
    """Mark a Word table row as a header row repeated on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _html_lang(lang: str) -> str:
    return "zh-CN" if lang == "zh" else "en"


def _text(value, lang: str) -> str:
    """A label: a bilingual mapping in ``lang``, else the value as text."""
    return format_value("text", value, lang)


def _label(value, labels, lang: str, column: str | None = None) -> str:
    """How ``value`` is shown in ``lang``.

    ``labels`` is ``None``; a mapping ``{value: "text" | {"en": ..., "zh": ...}}``; or a
    callable ``labels(column, value, lang) -> str | None`` (``column`` is ``None`` when
    ``value`` is itself a column name, ``"arm"`` for arms, ``"outcome"`` for outcome ids,
    else the column whose value it is: e.g. :func:`evaluation.word_export.study_labels`).
    Unlabelled values are shown as they are.
    """
    raw = format_value("text", value, lang)
    if labels is None:
        return raw
    if callable(labels) and not isinstance(labels, Mapping):
        text = labels(column, value, lang)
        return raw if text is None or _missing(text) or str(text) == "" else str(text)
    for k in (value, raw):
        try:
            if k in labels:
                return format_value("text", labels[k], lang)
        except TypeError:
            continue
    return raw


# --- Table 1 by arm ---------------------------------------------------------------------------

WWC_NOT_EQUIVALENT = 0.25
"""|SMD| above which the What Works Clearinghouse counts baseline equivalence as not
satisfied (``wwc_flag == "not satisfied"`` of ``tables/balance.csv``)."""

NOT_EQUIVALENT = "†"
"""The mark next to an SMD beyond :data:`WWC_NOT_EQUIVALENT` (rounding may show 0.25)."""

_T1_TEXT = {
    "flag": {"en": (f"{NOT_EQUIVALENT} |SMD| > 0.25 before rounding: baseline equivalence is "
                    "not satisfied (What Works Clearinghouse); effects adjusted for this "
                    "characteristic rest on the model's assumptions."),
             "zh": (f"{NOT_EQUIVALENT} 四舍五入前 |SMD| > 0.25：按 What Works Clearinghouse "
                    "标准，两组基线不等同；对此特征作调整后的效应估计依赖模型假设。")},
    "caption": {"en": "Baseline characteristics by arm", "zh": "各组基线特征"},
    "characteristic": {"en": "Characteristic", "zh": "特征"},
    "smd": {"en": "SMD", "zh": "标准化均数差（SMD）"},
    "n_pct": {"en": "n (%)", "zh": "n (%)"},
    "mean_sd": {"en": "mean (SD)", "zh": "均值（标准差）"},
    "note": {
        "en": ("Categories: n (%) of the children with a value; numbers: mean (SD). SMD: "
               "standardized mean difference of each arm from the control arm at baseline "
               "(Hedges' g for numbers, Cox index for categories); the What Works "
               "Clearinghouse asks for adjustment when |SMD| > 0.05 and counts |SMD| > 0.25 "
               "as not equivalent."),
        "zh": ("分类变量：有取值儿童中的 n (%)；数值变量：均值（标准差）。SMD：各组与对照组在基线的"
               "标准化均数差（数值变量为 Hedges' g，分类变量为 Cox 指数）；按美国教育部 What Works "
               "Clearinghouse 标准，|SMD| > 0.05 需在分析中调整，|SMD| > 0.25 视为不可比。"),
    },
}


def _t1_cell(row, lang: str) -> str:
    """``n (share%)`` or ``mean (SD)`` of one table1.csv row, or the suppression symbol."""
    suppressed = str(row.get("suppressed", "")).strip().lower() in ("true", "1")
    level = format_value("text", row.get("level"), lang)
    if level:
        n, share = _number(row.get("n")), _number(row.get("share"))
        if n is None:
            return SUPPRESSED if suppressed else MISSING
        return f"{format_value('count', n)} ({format_value('share', share)})"
    mean, sd = _number(row.get("mean")), _number(row.get("sd"))
    if mean is None:
        return SUPPRESSED if suppressed else MISSING
    return f"{_fixed(mean, 2)} ({format_value('estimate', sd)})"


def table1_by_arm(table1: pd.DataFrame, balance: pd.DataFrame | None = None, *,
                  lang: str = "en", arms: Sequence[str] | None = None,
                  control: str | None = None, labels: Mapping | None = None,
                  min_cell: int | None = None) -> PublishedTable:
    """Table 1 as papers print it: one row per characteristic, one column per arm, SMDs.

    Reads the published tables (as :meth:`RunFolder.write_table` returned or wrote
    them), so nothing is recomputed and suppression is kept:
    ``table1`` (:func:`evaluation.baseline_tables.table1`: ``variable, level, arm, n,
    mean, sd, share`` and the suppression columns) and, for the SMD column,
    ``balance`` (:func:`evaluation.baseline_tables.balance_table`; when it has a ``sample``
    column, its ``randomized`` rows: the baseline sample, not the analysed one). A categorical
    variable gets a header row and one indented row per level with ``n (%)``; a
    numeric one a single row with ``mean (SD)``. With more than two arms the SMD
    column is one column per compared arm.

    Parameters
    ----------
    table1, balance : DataFrame
        ``tables/table1.csv`` and ``tables/balance.csv`` (``balance`` may be empty or
        ``None``: no SMD column).
    lang : {"en", "zh"}
        Used only for the labels that the builder writes; the returned table can be
        shown in either language.
    arms : sequence of str, optional
        Arm order; default the control first, then the others as in ``table1``.
    control : str, optional
        The control arm (``design.control``); default the ``control`` of ``balance``.
    labels : mapping or callable, optional
        Labels of variables, levels and arms: ``{value: "text"}``,
        ``{value: {"en": ..., "zh": ...}}`` or ``labels(column, value, lang)``
        (:func:`evaluation.word_export.study_labels`); unlabelled values are shown as
        they are.
    min_cell : int, optional
        ``privacy.min_cell`` for the suppression footnote.

    Returns
    -------
    PublishedTable

    Examples
    --------
    >>> import pandas as pd
    >>> t1 = pd.DataFrame({"variable": ["age", "age"], "level": ["", ""],
    ...                    "arm": ["control", "treatment"], "n": [382, 396],
    ...                    "mean": [10.450, 10.232], "sd": [0.9115, 0.8247],
    ...                    "share": [float("nan")] * 2})
    >>> bal = pd.DataFrame({"variable": ["age"], "level": [""], "arm": ["treatment"],
    ...                     "control": ["control"], "smd": [-0.2507]})
    >>> t = table1_by_arm(t1, bal)
    >>> t.cells("en").iloc[0].tolist()
    ['age, mean (SD)', '10.45 (0.91)', '10.23 (0.82)', '-0.25 †']
    """
    _check_lang(lang)
    need = {"variable", "level", "arm", "n", "mean", "sd", "share"}
    missing = need - set(table1.columns)
    if missing:
        raise ValueError(f"table1 lacks columns {sorted(missing)}; expected the columns of "
                         "tables/table1.csv (evaluation.baseline_tables.table1)")
    t1 = table1.copy()
    t1["level"] = [format_value("text", v) for v in t1["level"]]
    t1["arm"] = [format_value("text", v) for v in t1["arm"]]
    t1["variable"] = [format_value("text", v) for v in t1["variable"]]
    bal = balance if balance is not None and len(balance) else None
    if bal is not None and "sample" in bal:  # Table 1 describes the randomized sample
        bal = bal[bal["sample"].astype(str) == "randomized"]
        bal = bal if len(bal) else None
    if control is None and bal is not None and "control" in bal:
        control = format_value("text", bal["control"].iloc[0])
    seen = list(dict.fromkeys(t1["arm"]))
    if arms is None:
        arms = ([control] if control in seen else []) + [a for a in seen if a != control]
    arms = [str(a) for a in arms]
    compared = [a for a in arms if a != control] if bal is not None else []
    if bal is not None:
        bal = bal.copy()
        for c in ("variable", "level", "arm"):
            bal[c] = [format_value("text", v) for v in bal[c]]
        if "smd" not in bal:
            raise ValueError("balance lacks the column 'smd' (tables/balance.csv)")
        compared = [a for a in compared if a in set(bal["arm"])]

    # arm sizes for the column labels: the largest count of children with a value
    sizes = {}
    for a in arms:
        g = t1[t1["arm"] == a]
        per_var = []
        for _, gv in g.groupby("variable", sort=False):
            n = pd.to_numeric(gv["n"], errors="coerce")
            per_var.append(n.sum(min_count=1) if (gv["level"] != "").any() else n.max())
        per_var = [x for x in per_var if _number(x) is not None]
        sizes[a] = int(max(per_var)) if per_var else None

    flagged = []  # (row, column) of SMDs beyond the WWC equivalence bound

    def smd_of(variable, level, arm):
        if bal is None:
            return np.nan, False
        hit = bal[(bal["variable"] == variable) & (bal["level"] == level) & (bal["arm"] == arm)]
        if hit.empty:
            return np.nan, False
        r = hit.iloc[0]
        sup = str(r.get("suppressed", "")).strip().lower() in ("true", "1")
        x = _number(r["smd"])
        flag = r.get("wwc_flag")
        if isinstance(flag, str) and flag.strip():
            beyond = flag.strip() == "not satisfied"
        else:
            beyond = x is not None and abs(x) > WWC_NOT_EQUIVALENT
        if beyond and x is not None:
            flagged.append((len(rows), arm))
        return r["smd"], sup

    rows = []
    for variable in dict.fromkeys(t1["variable"]):
        tv = t1[t1["variable"] == variable]
        vlabel = {lg: _label(variable, labels, lg, None) for lg in LANGS}
        levels = [lv for lv in dict.fromkeys(tv["level"]) if lv != ""]
        if levels:
            rows.append({"label": {lg: f"{vlabel[lg]}{_COMMA[lg]}{_T1_TEXT['n_pct'][lg]}"
                                   for lg in LANGS},
                         "indent": False,
                         **{f"arm{k}": "" for k in range(len(arms))},
                         **{f"smd{k}": np.nan for k in range(len(compared))},
                         **{f"smdsup{k}": False for k in range(len(compared))}})
            for lv in levels:
                row = {"label": {lg: _label(lv, labels, lg, variable) for lg in LANGS},
                       "indent": True}
                for k, a in enumerate(arms):
                    hit = tv[(tv["arm"] == a) & (tv["level"] == lv)]
                    if hit.empty:  # a tiny arm: one row per variable, suppressed
                        hit = tv[(tv["arm"] == a) & (tv["level"] == "")]
                    row[f"arm{k}"] = _t1_cell(hit.iloc[0], lang) if len(hit) else MISSING
                for k, a in enumerate(compared):
                    row[f"smd{k}"], row[f"smdsup{k}"] = smd_of(variable, lv, a)
                rows.append(row)
        else:
            row = {"label": {lg: f"{vlabel[lg]}{_COMMA[lg]}{_T1_TEXT['mean_sd'][lg]}"
                             for lg in LANGS},
                   "indent": False}
            for k, a in enumerate(arms):
                hit = tv[tv["arm"] == a]
                row[f"arm{k}"] = _t1_cell(hit.iloc[0], lang) if len(hit) else MISSING
            for k, a in enumerate(compared):
                row[f"smd{k}"], row[f"smdsup{k}"] = smd_of(variable, "", a)
            rows.append(row)
    data = pd.DataFrame(rows)
    # a suppressed SMD shows the symbol: mark the row for PublishedTable only through
    # its SMD columns (the arm cells carry the symbol already)
    for k in range(len(compared)):
        data[f"smd{k}"] = [SUPPRESSED if s and _missing(v) else v
                           for v, s in zip(data[f"smd{k}"], data[f"smdsup{k}"])]
        data[f"smd{k}"] = [v if v == SUPPRESSED else format_value("smd", v)
                           if _number(v) is not None else "" for v in data[f"smd{k}"]]
        for i, a in flagged:
            if a == compared[k]:
                data.loc[i, f"smd{k}"] = f"{data.loc[i, f'smd{k}']} {NOT_EQUIVALENT}"
    columns = [ColumnSpec("label", _T1_TEXT["characteristic"]["en"],
                          _T1_TEXT["characteristic"]["zh"])]
    for k, a in enumerate(arms):
        n = sizes.get(a)
        en, zh = _label(a, labels, "en", "arm"), _label(a, labels, "zh", "arm")
        if n is not None:
            en, zh = f"{en} (N = {n})", f"{zh}（N = {n}）"
        columns.append(ColumnSpec(f"arm{k}", en, zh))
    for k, a in enumerate(compared):
        en, zh = _T1_TEXT["smd"]["en"], _T1_TEXT["smd"]["zh"]
        if len(compared) > 1:
            en = (f"{en}: {_label(a, labels, 'en', 'arm')} vs "
                  f"{_label(control, labels, 'en', 'arm')}")
            zh = (f"{zh}：{_label(a, labels, 'zh', 'arm')} 对 "
                  f"{_label(control, labels, 'zh', 'arm')}")
        columns.append(ColumnSpec(f"smd{k}", en, zh))
    notes_en, notes_zh = ([_T1_TEXT["note"]["en"]], [_T1_TEXT["note"]["zh"]]) if compared \
        else ([], [])
    if flagged:
        notes_en.append(_T1_TEXT["flag"]["en"])
        notes_zh.append(_T1_TEXT["flag"]["zh"])
    return PublishedTable(data, columns, caption_en=_T1_TEXT["caption"]["en"],
                          caption_zh=_T1_TEXT["caption"]["zh"], notes_en=notes_en,
                          notes_zh=notes_zh, indent="indent", min_cell=min_cell, lang=lang)


# --- effects by outcome -----------------------------------------------------------------------

_FX_TEXT = {
    "caption": {"en": "Program effects by outcome", "zh": "各结局的项目效应"},
    "caption_change": {"en": "Change from the first to the last wave by outcome (one group)",
                       "zh": "各结局从首次到末次测量的变化（单组）"},
    "difference": {"head_en": "Effect", "head_zh": "效应",
                   "en": "difference from the control arm in the outcome's own units",
                   "zh": "与对照组之差（结局本身的单位）"},
    "change": {"head_en": "Change", "head_zh": "变化",
               "en": ("mean change of the same children from the first to the last wave in "
                      "the outcome's own units"),
               "zh": "同一批儿童从首次到末次测量的平均变化（结局本身的单位）"},
    "change_head": {"en": "Change (95% CI)", "zh": "变化（95% 置信区间）"},
    "no_comparison": {"en": ("Without a comparison group this change cannot be attributed to "
                             "the program: it is not a program effect."),
                      "zh": "没有对照组，这一变化不能归因于项目：它不是项目效应。"},
    "outcome": {"en": "Outcome", "zh": "结局"},
    "comparison": {"en": "Comparison", "zh": "比较"},
    "estimate": {"en": "Effect (95% CI)", "zh": "效应（95% 置信区间）"},
    "g": {"en": "g", "zh": "g"},
    "p": {"en": "p", "zh": "p 值"},
    "p_adj": {"en": "Adj. p", "zh": "校正 p"},
    "primary": {"en": "primary", "zh": "主要分析"},
    "higher": {"en": "higher is better", "zh": "越高越好"},
    "lower": {"en": "lower is better", "zh": "越低越好"},
}

_ADJUST = {
    "holm": {"en": "Holm", "zh": "Holm"},
    "bonferroni": {"en": "Bonferroni", "zh": "Bonferroni"},
    "fdr_bh": {"en": "Benjamini–Hochberg", "zh": "Benjamini–Hochberg"},
    "bh": {"en": "Benjamini–Hochberg", "zh": "Benjamini–Hochberg"},
    "hochberg": {"en": "Hochberg", "zh": "Hochberg"},
}


def effects_by_outcome(effects: pd.DataFrame, lang: str = "en", *,
                       models: Sequence[str] | None = None,
                       outcome_labels: Mapping | None = None,
                       arm_labels: Mapping | None = None,
                       better: Mapping[str, str] | None = None,
                       adjust: str | None = None,
                       min_cell: int | None = None) -> PublishedTable:
    """The effects table: one row per outcome (per outcome x arm with more than two
    arms), each model a labelled group of columns (primary model first).

    Each model's group holds the effect in the outcome's units with its 95% CI,
    Hedges' g, the p-value and the adjusted p-value, read from ``tables/effects.csv``
    (docs/architecture.md "Effects table"); suppressed estimates show :data:`SUPPRESSED`.

    Parameters
    ----------
    effects : DataFrame
        ``tables/effects.csv`` (or what ``RunFolder.write_table("effects", ...)`` returned).
    lang : {"en", "zh"}
        Used for the labels that the builder writes (the returned table can be
        shown in either language).
    models : sequence of str, optional
        The models to show, in order; default all, the primary model first.
    outcome_labels, arm_labels : mapping or callable, optional
        ``{id: "text"}``, ``{id: {"en": ..., "zh": ...}}`` or ``labels(column, value,
        lang)`` as in :func:`table1_by_arm` (called with ``"outcome"`` / ``"arm"``).
    better : mapping, optional
        ``{outcome id: "higher" | "lower"}``: the row label says which direction is
        better.
    adjust : str, optional
        The multiple-comparison method (``analysis.adjust``), named in a footnote.
    min_cell : int, optional
        ``privacy.min_cell`` for the suppression footnote.

    Examples
    --------
    >>> import pandas as pd
    >>> fx = pd.DataFrame({"outcome": ["communication"], "arm": ["treatment"],
    ...     "control": ["control"], "model": ["ols_cr2"], "estimate": [0.2236],
    ...     "ci_low": [0.0304], "ci_high": [0.4168], "p_value": [0.02586],
    ...     "p_adjusted": [0.07757], "effect_size": [0.3464], "primary": [True]})
    >>> t = effects_by_outcome(fx)
    >>> t.cells("en").iloc[0].tolist()
    ['communication', '0.22 (0.03 to 0.42)', '0.35', '0.026', '0.078']
    >>> t.groups[0].label_zh
    'OLS + CR2 聚类稳健标准误（主要分析）'
    """
    _check_lang(lang)
    need = {"outcome", "arm", "model", "estimate", "ci_low", "ci_high", "p_value",
            "p_adjusted", "effect_size"}
    missing = need - set(effects.columns)
    if missing:
        raise ValueError(f"effects lacks columns {sorted(missing)}; expected the columns of "
                         "tables/effects.csv (docs/architecture.md 'Effects table')")
    fx = effects.copy()
    for c in ("outcome", "arm", "model"):
        fx[c] = [format_value("text", v) for v in fx[c]]
    if "primary" in fx:
        prim = [m for m, p in zip(fx["model"], fx["primary"])
                if format_value("bool", p) == "✓"]
    else:
        prim = []
    primary = prim[0] if prim else None
    if models is None:
        found = list(dict.fromkeys(fx["model"]))
        models = ([primary] if primary in found else []) + [m for m in found if m != primary]
    models = [str(m) for m in models]
    unknown = [m for m in models if m not in set(fx["model"])]
    if unknown:
        raise ValueError(f"models {unknown} are not in the effects table; it has "
                         f"{sorted(set(fx['model']))}")
    arms = list(dict.fromkeys(fx["arm"]))
    multi_arm = len(arms) > 1
    has_sup = "suppressed" in fx or "suppressed_counts" in fx
    rows = []
    for outcome in dict.fromkeys(fx["outcome"]):
        for arm in arms:
            sub = fx[(fx["outcome"] == outcome) & (fx["arm"] == arm)]
            if sub.empty:
                continue
            label = {lg: _label(outcome, outcome_labels, lg, "outcome") for lg in LANGS}
            if better and better.get(outcome) in ("higher", "lower"):
                label = {lg: f"{label[lg]} ({_FX_TEXT[better[outcome]][lg]})"
                         if lg == "en" else f"{label[lg]}（{_FX_TEXT[better[outcome]][lg]}）"
                         for lg in LANGS}
            row = {"outcome": label, "row_group": label}
            if multi_arm:
                ctrl = format_value("text", sub["control"].iloc[0]) if "control" in sub else ""
                row["comparison"] = {
                    lg: (f"{_label(arm, arm_labels, lg, 'arm')} vs "
                         f"{_label(ctrl, arm_labels, lg, 'arm')}" if lg == "en" else
                         f"{_label(arm, arm_labels, lg, 'arm')} 对 "
                         f"{_label(ctrl, arm_labels, lg, 'arm')}")
                    for lg in LANGS}
            sup = False
            for k, m in enumerate(models):
                hit = sub[sub["model"] == m]
                r = hit.iloc[0] if len(hit) else None
                for col in ("estimate", "ci_low", "ci_high", "effect_size", "p_value",
                            "p_adjusted"):
                    row[f"{col}_{k}"] = r[col] if r is not None else np.nan
                if r is not None and has_sup:
                    sup |= str(r.get("suppressed", "")).strip().lower() in ("true", "1")
            row["suppressed"] = sup
            rows.append(row)
    data = pd.DataFrame(rows)
    first = "comparison" if multi_arm else "outcome"
    # a one-group before-after design: no control arm, the "effect" is the change
    one_group = "control" not in fx or all(_missing(v) or str(v).strip() == ""
                                           for v in fx["control"])
    head = _FX_TEXT["change_head" if one_group else "estimate"]
    columns = [ColumnSpec(first, f"{_FX_TEXT[first]['en']}", _FX_TEXT[first]["zh"])]
    groups = []
    for k, m in enumerate(models):
        names = [f"estimate_{k}", f"effect_size_{k}", f"p_value_{k}", f"p_adjusted_{k}"]
        columns += [
            ColumnSpec(names[0], head["en"], head["zh"], "estimate_ci", low=f"ci_low_{k}",
                       high=f"ci_high_{k}"),
            ColumnSpec(names[1], _FX_TEXT["g"]["en"], _FX_TEXT["g"]["zh"], "estimate"),
            ColumnSpec(names[2], _FX_TEXT["p"]["en"], _FX_TEXT["p"]["zh"], "p_value"),
            ColumnSpec(names[3], _FX_TEXT["p_adj"]["en"], _FX_TEXT["p_adj"]["zh"], "p_value"),
        ]
        en, zh = model_label(m, "en"), model_label(m, "zh")
        if m == primary:
            en, zh = f"{en} ({_FX_TEXT['primary']['en']})", f"{zh}（{_FX_TEXT['primary']['zh']}）"
        groups.append(ColumnGroup(en, zh, tuple(names)))
    method = _ADJUST.get(str(adjust).lower(), {"en": str(adjust), "zh": str(adjust)}) \
        if adjust else None
    what = _FX_TEXT["change" if one_group else "difference"]
    notes_en = [
        f"{what['head_en']}: {what['en']}, with its 95% confidence interval (CI) in "
        "parentheses; g: Hedges' g, the same in standard deviations; p: two-sided p-value"
        + (f"; adjusted p: {method['en']}-adjusted across outcomes."
           if method else "; adjusted p: adjusted across outcomes.")]
    notes_zh = [
        f"{what['head_zh']}：{what['zh']}，括号内为 95% 置信区间；g：Hedges' g，以标准差为单位；"
        "p：双侧 p 值" + (f"；校正 p：跨结局的 {method['zh']} 校正。" if method
                       else "；校正 p：跨结局的多重比较校正。")]
    if one_group:
        notes_en.append(_FX_TEXT["no_comparison"]["en"])
        notes_zh.append(_FX_TEXT["no_comparison"]["zh"])
    caption = _FX_TEXT["caption_change" if one_group else "caption"]
    return PublishedTable(data, columns, caption_en=caption["en"],
                         caption_zh=caption["zh"], notes_en=notes_en,
                         notes_zh=notes_zh, groups=tuple(groups),
                         row_groups="row_group" if multi_arm else None, min_cell=min_cell,
                         lang=lang)


# --- reliability ------------------------------------------------------------------------------

_REL_TEXT = {
    "caption": {"en": "Reliability of the scales by wave", "zh": "各量表在各测量时点的信度"},
    "scale": {"en": "Scale", "zh": "量表"},
    "wave": {"en": "Wave", "zh": "测量时点"},
    "n": {"en": "n", "zh": "人数"},
    "n_items": {"en": "Items", "zh": "题目数"},
    "alpha": {"en": "Cronbach's α", "zh": "Cronbach's α"},
    "ci": {"en": "95% CI of α", "zh": "α 的 95% 置信区间"},
    "omega": {"en": "McDonald's ω", "zh": "McDonald's ω"},
    "note": {
        "en": ("n: children who answered every item of the scale in the wave. α: Cronbach's "
               "alpha; ω: McDonald's omega total. Values of 0.70 or more are usually taken "
               "as adequate for comparing groups."),
        "zh": ("人数：该测量时点回答了该量表全部题目的儿童数。α：Cronbach's α 系数；ω：McDonald's "
               "ω 总系数。用于组间比较时，0.70 及以上通常视为可以接受。"),
    },
}


def reliability_by_scale(reliability: pd.DataFrame, lang: str = "en", *, labels=None,
                         min_cell: int | None = None) -> PublishedTable:
    """The reliability table (``tables/reliability.csv``): one row per scale x wave.

    Columns: the scale (``labels("scale", "instrument.scale", lang)``, else
    ``instrument.scale``), the wave (``labels("wave", wave, lang)``), n, the number of
    items, Cronbach's alpha with its 95% CI, and McDonald's omega total.

    Examples
    --------
    >>> import pandas as pd
    >>> rel = pd.DataFrame({"instrument": ["pcc"], "scale": ["total"], "wave": ["baseline"],
    ...     "n": [683], "n_items": [12], "alpha": [0.82128], "alpha_ci_low": [0.80216],
    ...     "alpha_ci_high": [0.83929], "omega_total": [0.82131]})
    >>> reliability_by_scale(rel).cells("en").iloc[0].tolist()
    ['pcc.total', 'baseline', '683', '12', '0.82', '0.80 to 0.84', '0.82']
    """
    _check_lang(lang)
    need = {"instrument", "scale", "wave", "n", "n_items", "alpha", "alpha_ci_low",
            "alpha_ci_high"}
    missing = need - set(reliability.columns)
    if missing:
        raise ValueError(f"reliability lacks columns {sorted(missing)}; expected the columns "
                         "of tables/reliability.csv (evaluation.reliability_tables)")
    data = reliability.copy().reset_index(drop=True)
    keys = [f"{format_value('text', i)}.{format_value('text', s)}"
            for i, s in zip(data["instrument"], data["scale"])]
    data["scale_label"] = [{lg: _label(k, labels, lg, "scale") for lg in LANGS} for k in keys]
    data["wave_label"] = [{lg: _label(w, labels, lg, "wave") for lg in LANGS}
                          for w in data["wave"]]
    if "omega_total" not in data:
        data["omega_total"] = np.nan
    t = _REL_TEXT
    columns = [ColumnSpec("scale_label", t["scale"]["en"], t["scale"]["zh"]),
               ColumnSpec("wave_label", t["wave"]["en"], t["wave"]["zh"]),
               ColumnSpec("n", t["n"]["en"], t["n"]["zh"], "count"),
               ColumnSpec("n_items", t["n_items"]["en"], t["n_items"]["zh"], "count"),
               ColumnSpec("alpha", t["alpha"]["en"], t["alpha"]["zh"], "estimate"),
               ColumnSpec("alpha_ci_low", t["ci"]["en"], t["ci"]["zh"], "ci",
                          high="alpha_ci_high"),
               ColumnSpec("omega_total", t["omega"]["en"], t["omega"]["zh"], "estimate")]
    return PublishedTable(data, columns, caption_en=t["caption"]["en"],
                          caption_zh=t["caption"]["zh"], notes_en=[t["note"]["en"]],
                          notes_zh=[t["note"]["zh"]], min_cell=min_cell, lang=lang)

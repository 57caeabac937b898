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
from dataclasses import dataclass
from pathlib import Path

from core.errors import ContractError, DataError
from core.suggest import did_you_mean

from .instrument_build import build_instrument
from .schema import raise_errors

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
    form = _FormReader(display or str(path))
    if not path.is_file():
        raise form.fail("INSTRUMENT_NOT_FOUND", "instrument file not found")
    if path.stat().st_size == 0:
        raise form.fail("INSTRUMENT_XLSFORM_UNREADABLE", "the file is empty (0 bytes); expected an .xlsx workbook")
    sheets = _read_workbook(path, form.fail)
    form.require_sheets(sheets)
    data = form.settings(sheets.get("settings"))
    items = form.items(sheets["survey"])
    data["items"] = items.items
    response = form.response(sheets["choices"], items)
    if response is not None:
        data["response"] = response
    scales = form.scales(sheets.get("scales"), items)
    if scales or not form.errors:
        data["scales"] = scales
        if not scales:
            form.loc[("scales",)] = ("survey", 1, items.scale_col or "scale")
    raise_errors(form.errors)
    # order keys as a YAML file would
    order = ["id", "name", "version", "construct", "citation", "license", "response", "items", "scales",
             "test_retest", "notes"]
    return {k: data[k] for k in order if k in data}, form.locate


@dataclass
class _SurveyItems:
    """What the ``survey`` sheet says: the items, their list and their scale membership."""

    items: list
    list_name: str | None
    list_row: int | None
    scale_col: str | None
    membership: dict  # scale id -> [(item id, excel row), ...]


def _texts(row: dict, lang_cols: dict) -> tuple[dict, str | None]:
    """``({lang: text}, first column with a text)`` of one row's ``base::Language`` columns.

    A column of unknown language (``"auto"``) is Chinese when the text has CJK characters.
    """
    out, first = {}, None
    for col, lang in lang_cols.items():
        t = _cell_text(row.get(col))
        if t:
            lang = lang if lang != "auto" else ("zh" if _CJK.search(t) else "en")
            out.setdefault(lang, t)
            first = first or col
    return out, first


def _en_zh(texts: dict) -> dict:
    return {k: texts[k] for k in ("en", "zh") if k in texts}


class _FormReader:
    """One XLSForm being read: the errors found so far and where each key came from."""

    def __init__(self, display: str):
        self.display = display
        self.errors: list[ContractError] = []
        self.loc: dict[tuple, tuple] = {}  # key path -> (sheet, excel row or None, column)
        self.default_lang: str | None = None

    def fail(self, code, msg, row=None, column=None) -> ContractError:
        return ContractError(code, msg, file=self.display, row=row, column=column)

    def require_sheets(self, sheets: dict) -> None:
        """``survey`` and ``choices`` must exist (exact names; a case variant is pointed out)."""
        if "survey" in sheets and "choices" in sheets:
            return
        for need in ("survey", "choices"):
            if need not in sheets:
                near = [s for s in sheets if s.strip().lower() == need]
                hint = (f"; found {near[0]!r}: rename it {need!r}" if near
                        else did_you_mean(need, list(sheets)))
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_SHEET",
                                             f"no sheet named {need!r} (sheet names are exact){hint}; "
                                             f"sheets found: {', '.join(sheets) or 'none'}"))
        raise_errors(self.errors)

    # ---------------------------------------------------------------- settings
    def settings(self, settings) -> dict:
        """Id, name, version, license, ... from row 2 of ``settings``; sets the default language."""
        data: dict = {}
        srow = settings.rows[0] if settings and settings.rows else (2, {})
        if settings:
            dl = settings.find("default_language")
            if dl and srow[1].get(dl) is not None:
                self.default_lang = _lang_code(_cell_text(srow[1][dl]))

        def setting(col_names, key_path, *, numeric=False):
            return self._setting(settings, srow, col_names, key_path, numeric=numeric)

        for key, cols in (("id", ("form_id",)), ("version", ("version",)), ("construct", ("construct",)),
                          ("citation", ("citation",)), ("notes", ("notes",))):
            v = setting(cols, (key,))
            if v is not None:
                data[key] = v
        setting(("form_title::English (en)", "form_title::en", "form_title"), ("name",))  # locates 'name'
        if settings:
            name, _ = _texts(srow[1], settings.lang_columns("form_title", self.default_lang))
            if name:
                data["name"] = _en_zh(name)
        lic = {}
        for key, col in (("kind", "license_kind"), ("terms", "license_terms"), ("source", "license_source")):
            v = setting((col,), ("license", key))
            if v is not None:
                lic[key] = v
        self.loc[("license",)] = self.loc[("license", "kind")]
        if lic:
            data["license"] = lic
        tr = setting(("test_retest",), ("test_retest",), numeric=True)
        if tr is not None:
            data["test_retest"] = tr
        return data

    def _setting(self, settings, srow, col_names, key_path, *, numeric=False):
        """One value of the settings row (text, or a number when ``numeric``), located."""
        if settings is None:
            self.loc[key_path] = ("settings", None, col_names[0])
            return None
        col = settings.find(*col_names)
        self.loc[key_path] = ("settings", srow[0] if col else 1, col or col_names[0])
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

    # ---------------------------------------------------------------- survey: the items
    def items(self, survey) -> _SurveyItems:
        """The ``select_one LIST`` rows of ``survey``, all of one list."""
        type_col = survey.find("type")
        name_col = survey.find("name")
        for need, col in (("type", type_col), ("name", name_col)):
            if not col:
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_COLUMN",
                                             f"sheet 'survey': no column {need!r}; found columns: "
                                             f"{', '.join(h for h in survey.header if h) or 'none'}",
                                             row=1, column=need))
        raise_errors(self.errors)
        label_cols = survey.lang_columns("label", self.default_lang)
        rev_col = survey.find("reverse")
        out = _SurveyItems([], None, None, survey.find("scale"), {})
        for r, row in survey.rows:
            list_name = self._item_list(_cell_text(row.get(type_col)), r, type_col, out)
            if list_name is None:
                continue
            i = len(out.items)
            item: dict = {"id": _cell_text(row.get(name_col))}
            self.loc[("items", i)] = ("survey", r, name_col)
            self.loc[("items", i, "id")] = ("survey", r, name_col)
            text, first = _texts(row, label_cols)
            if first:
                self.loc.setdefault(("items", i, "text"), ("survey", r, first))
            if text:
                item["text"] = _en_zh(text)
            if rev_col:
                self._reverse(item, row, r, rev_col, i)
            if out.scale_col:
                for sid in re.split(r"[\s,;]+", _cell_text(row.get(out.scale_col))):
                    if sid:
                        out.membership.setdefault(sid, []).append((item["id"], r))
            out.items.append(item)
        if out.list_name is None and not self.errors:
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_LIST", "sheet 'survey': no 'select_one LIST' "
                                         "rows; expected one row per item", row=None, column=type_col))
        return out

    def _item_list(self, type_text: str, r: int, type_col: str, out: _SurveyItems) -> str | None:
        """The list of an item row (``select_one LIST``), or None for any other row.

        Multiple choice rows, a ``select_one`` without a list and a second list are errors;
        the first list found is recorded in ``out``.
        """
        typ = " ".join(type_text.split())
        parts = typ.split(" ")
        if parts[0] in ("select_multiple", "select_one_from_file", "select_multiple_from_file") or \
                parts[0].startswith("select_multiple"):
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_LIST",
                                         f"sheet 'survey': found {typ!r}; expected 'select_one LIST' items "
                                         "(a multiple choice question cannot be scored; remove it from the "
                                         "instrument form)", row=r, column=type_col))
            return None
        if parts[0] != "select_one":
            return None  # note, begin group, text, calculate, ...
        if len(parts) < 2:
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_LIST", "sheet 'survey': found 'select_one' "
                                         "without a list name; expected 'select_one LIST'", row=r,
                                         column=type_col))
            return None
        if out.list_name is None:
            out.list_name, out.list_row = parts[1], r
        elif parts[1] != out.list_name:
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_LIST",
                                         f"sheet 'survey': found list {parts[1]!r}; expected "
                                         f"{out.list_name!r} like the item in row {out.list_row} (all items "
                                         "of an instrument share one response scale)", row=r, column=type_col))
            return None
        return parts[1]

    def _reverse(self, item: dict, row: dict, r: int, rev_col: str, i: int) -> None:
        rv = _cell_text(row.get(rev_col)).lower()
        self.loc[("items", i, "reverse")] = ("survey", r, rev_col)
        if rv in _TRUE:
            item["reverse"] = True
        elif rv not in _FALSE:
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_VALUE",
                                         f"sheet 'survey': found {rv!r}; expected yes/no (or true/false, "
                                         "1/0, blank)", row=r, column=rev_col))

    # ---------------------------------------------------------------- choices: the response scale
    def response(self, choices, items: _SurveyItems) -> dict | None:
        """``{"min", "max", "labels"}`` from the rows of the items' list, or None."""
        ln_col = choices.find("list_name", "list name")
        cname_col = choices.find("name")
        for need, col in (("list_name", ln_col), ("name", cname_col)):
            if not col:
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_COLUMN",
                                             f"sheet 'choices': no column {need!r}; found columns: "
                                             f"{', '.join(h for h in choices.header if h) or 'none'}",
                                             row=1, column=need))
        if items.list_name is None or not ln_col or not cname_col:
            return None
        codes, labels, first_row = self._choice_codes(choices, items.list_name, ln_col, cname_col)
        if not codes and first_row is None:
            self.errors.append(self.fail("INSTRUMENT_XLSFORM_LIST",
                                         f"sheet 'choices': no rows for list {items.list_name!r} (used in "
                                         f"sheet 'survey' row {items.list_row})", row=None, column=ln_col))
            return None
        if not codes:
            return None
        lo, hi = min(codes), max(codes)
        response = {"min": lo, "max": hi}
        if labels:
            response["labels"] = labels
        self.loc[("response",)] = ("choices", first_row, cname_col)
        self.loc[("response", "min")] = ("choices", codes[lo], cname_col)
        self.loc[("response", "max")] = ("choices", codes[hi], cname_col)
        return response

    def _choice_codes(self, choices, list_name: str, ln_col: str, cname_col: str) -> tuple:
        """``({code: excel row}, {code text: labels}, first row of the list)``."""
        clabels = choices.lang_columns("label", self.default_lang)
        codes, labels, first_row = {}, {}, None
        for r, row in choices.rows:
            if _cell_text(row.get(ln_col)) != list_name:
                continue
            first_row = first_row or r
            raw = row.get(cname_col)
            code = _int_code(raw)
            if code is None:
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_VALUE",
                                             f"sheet 'choices': found {_cell_text(raw)!r}; expected an "
                                             "integer response code", row=r, column=cname_col))
                continue
            if code in codes:
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_VALUE",
                                             f"sheet 'choices': code {code} appears twice in list "
                                             f"{list_name!r} (rows {codes[code]} and {r})", row=r,
                                             column=cname_col))
                continue
            codes[code] = r
            text, _ = _texts(row, clabels)
            if text:
                labels[str(code)] = _en_zh(text)
            self.loc[("response", "labels", str(code))] = ("choices", r, cname_col)
        return codes, labels, first_row

    # ---------------------------------------------------------------- scales
    def scales(self, scales_sheet, items: _SurveyItems) -> list:
        """The rows of ``scales``, then the scales named only in ``survey.scale`` (defaults)."""
        scales, seen = [], set()
        if scales_sheet is not None:
            id_col = scales_sheet.find("id")
            if not id_col:
                self.errors.append(self.fail("INSTRUMENT_XLSFORM_COLUMN", "sheet 'scales': no column 'id'",
                                             row=1, column="id"))
            else:
                names = scales_sheet.lang_columns("name", self.default_lang)
                cols = {k: scales_sheet.find(k) for k in ("score", "min_items", "better", "subscales",
                                                           "test_retest")}
                for r, row in scales_sheet.rows:
                    sc = self._scale_row(len(scales), r, row, id_col, names, cols, items)
                    scales.append(sc)
                    seen.add(sc["id"])
        for sid, members in items.membership.items():
            if sid in seen:
                continue
            j = len(scales)
            scales.append({"id": sid, "name": {"en": sid}, "items": [m[0] for m in members]})
            self.loc[("scales", j)] = ("survey", members[0][1], items.scale_col)
            self.loc[("scales", j, "id")] = ("survey", members[0][1], items.scale_col)
            self._locate_members(j, members, items.scale_col)
        return scales

    def _scale_row(self, j: int, r: int, row: dict, id_col: str, names: dict, cols: dict,
                   items: _SurveyItems) -> dict:
        """Scale ``j`` from one row of the ``scales`` sheet (its items from ``survey.scale``)."""
        sid = _cell_text(row.get(id_col))
        sc: dict = {"id": sid}
        self.loc[("scales", j)] = ("scales", r, id_col)
        self.loc[("scales", j, "id")] = ("scales", r, id_col)
        nm, first = _texts(row, names)
        if first:
            self.loc.setdefault(("scales", j, "name"), ("scales", r, first))
        sc["name"] = _en_zh(nm) if nm else {"en": sid}
        members = items.membership.get(sid)
        if members:
            sc["items"] = [m[0] for m in members]
            self._locate_members(j, members, items.scale_col)
        for key in ("score", "better"):
            if cols[key] and _cell_text(row.get(cols[key])):
                sc[key] = _cell_text(row.get(cols[key]))
                self.loc[("scales", j, key)] = ("scales", r, cols[key])
        if cols["subscales"] and _cell_text(row.get(cols["subscales"])):
            sc["subscales"] = [s for s in re.split(r"[\s,;]+", _cell_text(row.get(cols["subscales"]))) if s]
            for k in range(len(sc["subscales"])):
                self.loc[("scales", j, "subscales", k)] = ("scales", r, cols["subscales"])
        for key, conv in (("min_items", _int_code), ("test_retest", _number)):
            col = cols[key]
            if col and _cell_text(row.get(col)):
                v = conv(row.get(col))
                sc[key] = v if v is not None else _cell_text(row.get(col))
                self.loc[("scales", j, key)] = ("scales", r, col)
        return sc

    def _locate_members(self, j: int, members: list, scale_col: str | None) -> None:
        for k, (_, item_row) in enumerate(members):
            self.loc[("scales", j, "items", k)] = ("survey", item_row, scale_col)

    # ---------------------------------------------------------------- messages
    def locate(self, key_path: tuple) -> dict:
        """``{"where", "column", "row"}`` of a key path: its nearest located ancestor."""
        p = tuple(key_path)
        while p:
            if p in self.loc:
                sheet, row, col = self.loc[p]
                out = {"where": f"sheet {sheet!r}", "column": col}
                if row is not None:
                    out["row"] = row
                else:
                    out["where"] += " (missing)"
                return out
            p = p[:-1]
        return {"where": "sheet 'settings'", "column": None}


def load_xlsform(path, *, display: str | None = None):
    """Load an XLSForm instrument: :func:`read_xlsform`, then the instrument schema and cross-checks.

    Examples
    --------
    >>> from survey.xlsform import load_xlsform          # doctest: +SKIP
    >>> load_xlsform("instruments/communication.xlsx").id  # doctest: +SKIP
    'pcc'
    """
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

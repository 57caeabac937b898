"""Read every data file of a study into one DataFrame (the "ingested data" contract).

Order of work for each file (``study.data``), chosen so that personal data goes
no further than it must:

1. read it as strings (:func:`survey.readers.read_table`), recording its SHA-256;
2. drop personal-data columns (``privacy.pii`` and platform columns such as
   Wenjuanxing's ``来自IP``), remembering their values only in memory
   (``IngestResult.sensitive``) for the output scanner; a declared column that no
   file has is ``PII_COLUMN_ABSENT`` (warning);
3. replace raw respondent ids by keyed pseudonyms (:mod:`survey.privacy`);
4. normalize a Wenjuanxing export (:mod:`survey.wenjuanxing`);
5. rename item columns to item ids (``InstrumentUse.columns``); design columns
   keep the study's names; add the wave column from ``data[].wave``;
6. turn item answers into numbers: label text ("非常同意", "Strongly agree";
   case and spaces ignored) -> its code, declared ``missing_codes`` -> NaN, other
   text -> NaN with an issue (``LABEL_UNKNOWN`` or ``VALUE_NOT_NUMERIC``); option
   numbers of a 问卷星 按序号 export -> the instrument's codes where the scale does not
   start at 1 (``data[].codes``; ``CODES_OPTION_INDEX``, ``CODES_AMBIGUOUS``);
7. drop any other column whose header looks like personal data and that the study
   neither uses nor lists in ``privacy.not_pii`` (``PII_UNDECLARED``, fatal;
   :func:`personal_header`);
8. once every file is read: covariates, subgroups and data-column outcomes are read
   as numbers or text (``_read_columns``; ``VALUE_NOT_NUMERIC`` for text in a numeric
   column, naming file, row and column but never the cell).

Range checks, duplicates and assignment rules are :mod:`survey.validation`'s job.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import wenjuanxing as wjx
from .errors import DataError, Issue
from .readers import _STR, read_table

_SPACE = re.compile(r"[\s\u3000]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass
class IngestResult:
    """All data of a study, read and pseudonymized.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per raw row read. Columns: ``design.id`` (pseudonym), ``design.wave``,
        arm, clusters, block (text), covariates and subgroups (float or text, see
        :meth:`survey.study.Study.column_type`), one float column per item id,
        data-column outcomes (float), then other columns of the files (text), then
        ``_file`` and ``_row``.
    sources : list of dict
        Per file: ``file`` (relative to the study folder), ``format``, ``encoding``,
        ``sheet``, ``platform``, ``kind`` (Wenjuanxing export kind), ``rows``,
        ``sha256``, ``read`` (False when the file could not be read).
    issues : list of survey.errors.Issue
    sensitive : survey.privacy.SensitiveValues
        Raw personal values and raw ids (memory only; never written).
    fatal : bool
        True when a file could not be read, a design column is missing, no file has
        an outcome column, a column looks like undeclared personal data, or option
        numbers are ambiguous.
    headers : dict
        ``{file: {data column: column as headed in the file}}``, for messages.
    """

    data: pd.DataFrame
    sources: list
    issues: list
    sensitive: object
    fatal: bool
    headers: dict = field(default_factory=dict)


def _norm_label(text: str) -> str:
    return _SPACE.sub("", str(text)).casefold()


def label_lookup(instrument) -> dict:
    """``{normalized label: code}`` for every label of the instrument's response scale.

    Labels in every language are accepted; comparison ignores case and all spaces.

    Examples
    --------
    >>> from survey.instrument import Response
    >>> class I: response = Response(1, 2, {1: {"en": "Disagree", "zh": "不同意"},
    ...                                         2: {"en": "Agree", "zh": "同意"}})
    >>> label_lookup(I) == {"disagree": 1, "不同意": 1, "agree": 2, "同意": 2}
    True
    """
    out = {}
    for code, text in (instrument.response.labels or {}).items():
        texts = text.values() if isinstance(text, dict) else [text]
        for t in texts:
            if t:
                out[_norm_label(t)] = int(code) if float(code).is_integer() else code
    return out


def _labels_text(instrument, limit: int = 12) -> str:
    parts = []
    for code, text in sorted((instrument.response.labels or {}).items()):
        texts = [t for t in (text.values() if isinstance(text, dict) else [text]) if t]
        parts.append(f"{code}={'/'.join(texts)}")
    return "; ".join(parts[:limit])


def _missing_sets(missing_codes):
    nums, texts = set(), set()
    for m in missing_codes or ():
        if isinstance(m, bool):
            continue
        if isinstance(m, (int, float)):
            nums.add(float(m))
        else:
            s = str(m).strip()
            texts.add(s)
            if _NUMBER.match(s):
                nums.add(float(s))
    return nums, texts


def _distinct(series: pd.Series) -> list:
    """Distinct non-missing values as a list of Python strings (fast for arrow strings)."""
    return series.dropna().unique().to_numpy(dtype=object).tolist()


def _numeric_fast(series):
    """Floats when every present cell is plainly numeric (arrow cast), else None."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.string()) \
            if not hasattr(series.array, "_pa_array") else series.array._pa_array
        out = pc.cast(arr, pa.float64())
    except Exception:  # ArrowInvalid for any non-numeric text
        return None
    values = out.to_numpy(zero_copy_only=False)
    values = np.asarray(values, dtype="float64")
    if np.isnan(values).sum() != series.isna().sum():  # 'nan' typed as text: not plain
        return None
    return values


def _convert_column(series, lookup, nums_missing, text_missing):
    """(values, positions of bad cells, their texts, number of label matches)."""
    if not text_missing:
        values = _numeric_fast(series)
        if values is not None:
            if nums_missing:
                values = np.where(np.isin(values, list(nums_missing)), np.nan, values)
            return values, np.array([], dtype=np.int64), [], 0
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uvals = np.full(len(uniques), np.nan)
    bad = []  # indices of uniques that are not numbers, labels or missing codes
    label_hits = 0
    for k, u in enumerate(uniques):
        t = str(u).strip()
        if not t or t in text_missing:
            continue
        if _NUMBER.match(t):
            x = float(t)
            if x not in nums_missing:
                uvals[k] = x
            continue
        code = lookup.get(_norm_label(t))
        if code is not None:
            uvals[k] = float(code)
            label_hits += 1
            continue
        bad.append(k)
    if len(uniques):
        values = np.where(codes >= 0, uvals[np.maximum(codes, 0)], np.nan)
    else:
        values = np.full(len(series), np.nan)
    positions = np.flatnonzero(np.isin(codes, np.asarray(bad, dtype=codes.dtype))) if bad else \
        np.array([], dtype=np.int64)
    texts = [str(uniques[codes[p]]).strip() for p in positions]
    return values, positions, texts, label_hits


def _item_issues(instrument, positions, texts, label_text: bool, *, file, header, rows):
    r = instrument.response
    if label_text:
        code = "LABEL_UNKNOWN"
        expected = f"a code {r.min}-{r.max} or one of the labels: {_labels_text(instrument)}"
        what = "is not one of the instrument's answer labels"
    else:
        code = "VALUE_NOT_NUMERIC"
        expected = f"a number from {r.min} to {r.max}"
        if instrument.response.labels:
            expected += f" (or a label: {_labels_text(instrument)})"
        what = "is not a number"
    issues = []
    for pos, raw in zip(positions, texts):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        issues.append(Issue(code, "error", f"{shown!r} {what}; set to missing",
                            file=file, row=int(rows[pos]) if rows is not None else None,
                            column=header, value=shown, expected=expected))
    return issues


def convert_items(series: pd.Series, instrument, missing_codes=(), *, file=None,
                  header=None, rows=None, label_text=None):
    """Turn one column of item answers (strings) into floats.

    Empty cells and declared missing codes -> NaN; numbers -> float; label text
    (any language, case and spaces ignored) -> its code; any other text -> NaN
    with an issue: ``LABEL_UNKNOWN`` when the answers are label text, otherwise
    ``VALUE_NOT_NUMERIC``. Work is done once per distinct value.

    Parameters
    ----------
    series : pandas.Series
        Strings or NA.
    instrument : survey.instrument.Instrument
    missing_codes : sequence
        ``study.missing_codes``.
    file, header : str, optional
        For issue messages.
    rows : numpy.ndarray, optional
        Spreadsheet row of each value.
    label_text : bool, optional
        Whether the file holds answers as label text (decides ``LABEL_UNKNOWN``
        vs ``VALUE_NOT_NUMERIC``); default: this column holds at least one label.

    Returns
    -------
    values : numpy.ndarray of float
    issues : list of Issue

    Examples
    --------
    >>> from survey.instrument import Response
    >>> class I: response = Response(1, 4, {4: {"en": "Strongly agree", "zh": "非常同意"}})
    >>> v, issues = convert_items(pd.Series(["非常同意", " strongly AGREE ", "2", "-9", None]),
    ...                           I, missing_codes=[-9])
    >>> v.tolist()[:3], [bool(np.isnan(x)) for x in v[3:]], issues
    ([4.0, 4.0, 2.0], [True, True], [])
    """
    nums_missing, text_missing = _missing_sets(missing_codes)
    values, positions, texts, hits = _convert_column(series, label_lookup(instrument),
                                                     nums_missing, text_missing)
    if label_text is None:
        label_text = hits > 0
    return values, _item_issues(instrument, positions, texts, label_text, file=file,
                                header=header, rows=rows)


def _header_key(name) -> str:
    return str(name).strip().casefold()


# ----------------------------------------------------------------------------- option numbers

def _option_codes(instrument, values: dict, declared, kind, *, label_text: bool, file: str):
    """What the numbers of one instrument's item columns in one file are.

    Returns ``(mode, issue)``: ``mode`` is ``"option_index"`` (numbers are option
    positions 1..k: the code is ``min + index - 1``), ``"value"`` (numbers are the
    instrument's codes) or None (nothing to decide: the instrument starts at 1, where
    both readings agree, or the file holds label text); ``issue`` says what was applied
    when it was inferred (``CODES_OPTION_INDEX``, a warning) or asks for ``data[].codes``
    when the numbers fit both readings (``CODES_AMBIGUOUS``, an error).

    The rule: ``data[].codes`` decides when given. Otherwise only a 问卷星 按序号 export
    (``kind == "index"``) of an instrument whose codes do not start at 1 is examined:
    its numbers are option positions when all lie in 1..k but not all in min..max
    (e.g. a 4 on a 0-3 scale), codes when all lie in min..max but not all in 1..k
    (e.g. a 0), and ambiguous when all lie in both.
    """
    r = instrument.response
    if declared is not None:
        return declared, None
    if r.min == 1 or label_text or kind != "index":
        return None, None
    present = [v[~np.isnan(v)] for v in values.values()]
    seen = np.concatenate(present) if present else np.array([])
    if not len(seen):
        return None, None
    k = r.max - r.min + 1
    lo, hi = float(seen.min()), float(seen.max())
    as_index = lo >= 1 and hi <= k
    as_value = lo >= r.min and hi <= r.max
    scale = f"{instrument.id} ({r.min}-{r.max}, {k} options)"
    if as_index and not as_value:
        shift = r.min - 1
        return "option_index", Issue(
            "CODES_OPTION_INDEX", "warning",
            f"this 问卷星 按序号 export holds option numbers 1-{k} for {scale}; read as the "
            f"instrument's codes by adding {shift:+g} (option 1 = {r.min}). Set data[].codes: "
            "option_index in study.yaml to say so, or codes: value if the numbers are the codes",
            file=file, expected=f"option numbers 1-{k} or codes {r.min}-{r.max}")
    if as_index and as_value:
        return None, Issue(
            "CODES_AMBIGUOUS", "error",
            f"this 问卷星 按序号 export holds only numbers from {int(lo)} to {int(hi)} for {scale}: "
            f"they may be option numbers (1-{k}, option 1 = {r.min}) or the codes themselves; "
            "say which with data[].codes: option_index (按序号 export) or codes: value",
            file=file, expected="data[].codes in study.yaml for this file")
    return "value" if as_value else None, None


# ----------------------------------------------------------------------------- declared columns

def _number_or_none(text: str):
    t = unicodedata.normalize("NFKC", text).strip()
    return float(t) if _NUMBER.match(t) else None


def _read_columns(data: pd.DataFrame, study, headers: dict) -> list:
    """Read covariates, subgroups and data-column outcomes (in place): numbers or text.

    Declared missing codes become missing in each. A column is numeric when the study
    says so (:meth:`survey.study.Study.column_type`: outcome columns, ``columns:``) or,
    for a covariate it does not type, when most of its non-missing cells (all files
    together) are numbers; a numeric column's other cells become NaN with a
    ``VALUE_NOT_NUMERIC`` error that names file, row and column but not the cell.
    Numbers may use full-width digits (NFKC). Other columns stay text.
    """
    d = study.design
    nums_missing, text_missing = _missing_sets(study.missing_codes)
    cols = list(dict.fromkeys([str(c) for c in d.covariates or ()] + [str(c) for c in d.subgroups or ()]
                              + [str(o.column) for o in study.outcomes if o.column is not None]))
    issues: list[Issue] = []
    for col in cols:
        if col not in data.columns or data[col].dtype.kind == "f":
            continue
        s = data[col]
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        kinds = np.zeros(len(uniques), dtype=np.int8)  # 0 missing, 1 number, 2 text
        numbers = np.full(len(uniques), np.nan)
        for k, u in enumerate(uniques):
            t = str(u).strip()
            if not t or t in text_missing:
                continue
            x = _number_or_none(t)
            if x is None:
                kinds[k] = 2
            elif x not in nums_missing:
                kinds[k], numbers[k] = 1, x
        if not len(uniques):  # every cell empty
            kinds, numbers = np.zeros(1, dtype=np.int8), np.full(1, np.nan)
        cell_kind = np.where(codes >= 0, kinds[np.maximum(codes, 0)], 0)
        n_num, n_text = int((cell_kind == 1).sum()), int((cell_kind == 2).sum())
        declared = study.column_type(col)
        numeric = declared == "numeric" or (declared is None and n_num > n_text)
        if not numeric:
            data[col] = s.mask(pd.Series(cell_kind == 0, index=s.index) & s.notna())
            continue
        data[col] = np.where(cell_kind == 1, numbers[np.maximum(codes, 0)], np.nan)
        if not n_text:
            continue
        role = next((f"outcome {o.id!r}" for o in study.outcomes if o.column == col), None)
        if role is None:
            role = "a covariate declared numeric (columns:)" if declared == "numeric" else \
                (f"a covariate read as numbers ({n_num} of {n_num + n_text} answers are "
                 f"numbers; if it is a category, declare columns: {{{col}: {{type: categorical}}}})")
        missing = list(study.missing_codes or ())
        expected = "a number" + (f" or a declared missing code {missing}" if missing else "")
        files = data["_file"].to_numpy(dtype=object)
        rows = data["_row"].to_numpy()
        for k in np.flatnonzero(cell_kind == 2):
            header = headers.get(files[k], {}).get(col, col)
            issues.append(Issue("VALUE_NOT_NUMERIC", "error",
                                f"the cell is not a number; column {col!r} is {role}; set to missing",
                                file=files[k], row=int(rows[k]), column=header, expected=expected))
    return issues


# ----------------------------------------------------------------------------- personal columns

def _undeclared_pii(header: str, kind: str, file: str) -> Issue:
    return Issue(
        "PII_UNDECLARED", "error",
        f"column {header!r} looks like personal data ({kind}) but study.yaml does not say what it "
        f"is; if it holds personal data add it to privacy.pii (it is then dropped when the data "
        f"are read and searched for in every output): `privacy: {{pii: [{header}]}}`; if it is "
        f"harmless add it to privacy.not_pii: `privacy: {{not_pii: [{header}]}}`. The data are "
        "not analysed until then", file=file, row=1, column=header,
        expected=f"{header!r} listed in privacy.pii or privacy.not_pii")


def _absent_pii(col: str, files: list) -> Issue:
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return Issue(
        "PII_COLUMN_ABSENT", "warning",
        f"privacy.pii names {col!r} but no data file has that column ({shown}); if the personal "
        "data are under another header, list that header instead", column=col,
        expected=f"a column {col!r} in at least one data file")


def _columns_of(study):
    d = study.design
    clusters = tuple(d.clusters or ())
    return {
        "id": d.id, "wave": d.wave, "arm": d.arm, "clusters": clusters, "blocks": d.blocks,
        "covariates": tuple(d.covariates or ()), "subgroups": tuple(d.subgroups or ()),
    }


def _resolver(frame_columns, aliases):
    cols = {str(c): c for c in frame_columns}
    stripped = {str(c).strip(): c for c in frame_columns}

    def resolve(spec):
        if spec is None:
            return None
        s = str(spec).strip()
        for table in (cols, stripped, aliases):
            if s in table:
                return table[s]
        return None

    return resolve


def _suggest(spec, frame_columns) -> str:
    s = str(spec)
    names = [str(c) for c in frame_columns]
    loose = [n for n in names if _norm_label(n) == _norm_label(s)]
    if loose:
        return f"; did you mean {loose[0]!r}? (differs only by case/spaces)"
    close = difflib.get_close_matches(s, names, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _privacy():
    from . import privacy  # helper D's module; imported late so reading works without it

    return privacy


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def read_study_data(study) -> IngestResult:
    """Read, pseudonymize and stack every data file of a study.

    Files that cannot be read give a ``FILE_*`` issue (and ``fatal``); the others
    are still read, so that one run reports every problem.

    Parameters
    ----------
    study : survey.study.Study

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> from survey import load_study                      # doctest: +SKIP
    >>> res = read_study_data(load_study("examples/county-cluster-trial"))  # doctest: +SKIP
    >>> res.data[["_file", "_row"]].head(2)                 # doctest: +SKIP
    """
    privacy = _privacy()
    design = study.design
    roles = _columns_of(study)
    sensitive = privacy.SensitiveValues()
    pseudonymizer = privacy.Pseudonymizer(privacy.load_or_create_key(Path(study.root)))
    issues: list[Issue] = []
    sources: list[dict] = []
    frames: list[pd.DataFrame] = []
    headers: dict[str, dict] = {}
    fatal = False
    item_order = [iid for use in study.instruments for iid in use.columns]
    single_wave = len(design.waves) == 1
    pii_found: set[str] = set()
    not_pii = {_header_key(c) for c in getattr(study.privacy, "not_pii", ())}
    outcome_cols = [str(o.column) for o in study.outcomes if o.column is not None]
    outcome_found: set[str] = set()
    files_read = 0

    for src in study.data:
        name = _relative(src.path, study.root)
        info = {"file": name, "format": src.format, "encoding": None, "sheet": None,
                "platform": None, "kind": None, "rows": 0, "sha256": None, "read": False}
        sources.append(info)
        try:
            table = read_table(src.path, encoding=src.encoding, sheet=src.sheet, name=name)
        except DataError as err:
            issues.append(Issue(err.code, "error", err.message, file=err.file or name,
                                row=err.row, column=err.column))
            fatal = True
            continue
        info.update(format=table.format, encoding=table.encoding, sheet=table.sheet,
                    sha256=table.sha256, rows=len(table.frame), read=True)
        files_read += 1
        issues.extend(table.issues)
        frame = table.frame
        rows = table.row_numbers

        # 2. personal data out, first
        kept, dropped = privacy.drop_pii(frame, study.privacy.pii or ())
        pii_found.update(_header_key(c) for c in dropped)
        extra = [c for c in kept.columns if str(c).strip() in wjx.PERSONAL_COLUMNS]
        for c in list(dropped) + extra:
            sensitive.add(f"pii:{str(c).strip()}", _distinct(frame[c]))
        frame = kept.drop(columns=extra)

        # 3. platform
        platform = getattr(src, "platform", None)
        if platform is None and wjx.is_wenjuanxing(frame.columns):
            platform = "wenjuanxing"
        aliases = {}
        if platform == "wenjuanxing":
            wj = wjx.normalize_wenjuanxing(frame)
            frame, aliases = wj.frame, wj.aliases
            info["kind"] = wj.kind
        info["platform"] = platform
        resolve = _resolver(frame.columns, aliases)

        out: dict[str, object] = {}
        header_map: dict[str, str] = {}
        used = set()
        file_fatal = False

        def missing(role, spec, *, fatal_role=True, _name=name, _frame=frame):
            nonlocal file_fatal
            issues.append(Issue("COLUMN_MISSING", "error",
                                f"the {role} column {str(spec)!r} is not in the file"
                                f"{_suggest(spec, _frame.columns)}",
                                file=_name, row=1, column=str(spec),
                                expected=f"a column named {str(spec)!r}"))
            if fatal_role:
                file_fatal = True

        # id -> pseudonyms
        idcol = resolve(roles["id"])
        if idcol is None:
            missing("respondent id", roles["id"])
            out[design.id] = pd.Series(pd.array([None] * len(frame), dtype=_STR))
        else:
            raw_ids = frame[idcol].reset_index(drop=True)
            sensitive.add("raw_id", _distinct(raw_ids))
            out[design.id] = pseudonymizer.pseudonymize_series(raw_ids).rename(None)
            used.add(idcol)
            header_map[design.id] = str(idcol)

        # wave
        wavecol = resolve(roles["wave"])
        if wavecol is not None:
            w = frame[wavecol].reset_index(drop=True)
            if src.wave is not None:
                w = w.fillna(str(src.wave))
            out[design.wave] = w
            used.add(wavecol)
            header_map[design.wave] = str(wavecol)
        elif src.wave is not None:
            out[design.wave] = pd.Series(pd.array([str(src.wave)] * len(frame), dtype=_STR))
        elif single_wave:
            out[design.wave] = pd.Series(pd.array([str(design.waves[0])] * len(frame), dtype=_STR))
        else:
            missing("wave", roles["wave"])
            out[design.wave] = pd.Series(pd.array([None] * len(frame), dtype=_STR))

        # arm, clusters, block: text
        design_cols = ([("arm", roles["arm"])] if roles["arm"] else []) + \
            [("cluster", c) for c in roles["clusters"]] + \
            ([("block", roles["blocks"])] if roles["blocks"] else [])
        for role, spec in design_cols:
            col = resolve(spec)
            if col is None:
                missing(role, spec)
                out[str(spec)] = pd.Series(pd.array([None] * len(frame), dtype=_STR))
                continue
            out[str(spec)] = frame[col].reset_index(drop=True)
            used.add(col)
            header_map[str(spec)] = str(col)
        for role, specs in (("covariate", roles["covariates"]), ("subgroup", roles["subgroups"])):
            for spec in specs:
                col = resolve(spec)
                if col is None:
                    missing(role, spec, fatal_role=False)
                    out[str(spec)] = pd.Series(pd.array([None] * len(frame), dtype=_STR))
                    continue
                # text for now: numbers are read once every file is in (_read_columns)
                out[str(spec)] = frame[col].reset_index(drop=True)
                used.add(col)
                header_map[str(spec)] = str(col)

        # items: convert every column, then decide per instrument whether the file
        # holds label text (LABEL_UNKNOWN) or codes (VALUE_NOT_NUMERIC) for bad cells,
        # and whether its numbers are option positions (问卷星 按序号) or the codes
        nums_missing, text_missing = _missing_sets(study.missing_codes)
        codes_used = {}
        for use in study.instruments:
            inst = use.instrument
            lookup = label_lookup(inst)
            pending = []
            numeric_cells = {}
            hits = 0
            for item_id, spec in use.columns.items():
                col = resolve(spec)
                if col is None and str(spec) != item_id:
                    # A file may name the item by its id (a baseline typed in by hand)
                    # while another carries the platform headers that `items:` maps.
                    col = resolve(item_id)
                if col is None:
                    also = f" nor {item_id!r}" if str(spec) != item_id else ""
                    issues.append(Issue(
                        "COLUMN_MISSING", "error",
                        f"the column {str(spec)!r}{also} of item {item_id} ({inst.id}) is not "
                        f"in the file{_suggest(spec, frame.columns)}", file=name, row=1,
                        column=str(spec), expected=f"a column named {str(spec)!r}"))
                    out[item_id] = np.full(len(frame), np.nan)
                    continue
                vals, positions, texts, h = _convert_column(frame[col], lookup, nums_missing,
                                                            text_missing)
                hits += h
                out[item_id] = vals
                numeric_cells[item_id] = col
                if len(positions):
                    pending.append((str(col), positions, texts))
                used.add(col)
                header_map[item_id] = str(col)
            for col, positions, texts in pending:
                issues.extend(_item_issues(inst, positions, texts, hits > 0, file=name,
                                           header=col, rows=rows))
            mode, issue = _option_codes(inst, {i: out[i] for i in numeric_cells},
                                        getattr(src, "codes", None), info["kind"],
                                        label_text=hits > 0, file=name)
            if issue is not None:
                issues.append(issue)
                file_fatal = file_fatal or issue.severity == "error"
            if mode is not None:
                codes_used[inst.id] = mode
            if mode == "option_index" and inst.response.min != 1:
                shift = float(inst.response.min - 1)
                for item_id, col in numeric_cells.items():
                    numbers = frame[col].str.strip().str.fullmatch(_NUMBER.pattern).fillna(False)
                    out[item_id] = np.where(numbers.to_numpy(dtype=bool), out[item_id] + shift,
                                            out[item_id])
        if codes_used:
            info["codes"] = codes_used

        # data-column outcomes: text for now, read as numbers with the covariates
        for spec in outcome_cols:
            if spec in out:  # also an item (named by its id) or a covariate
                outcome_found.add(spec)
                continue
            col = resolve(spec)
            if col is None:
                missing("outcome", spec, fatal_role=False)
                out[spec] = pd.Series(pd.array([None] * len(frame), dtype=_STR))
                continue
            outcome_found.add(spec)
            out[spec] = frame[col].reset_index(drop=True)
            used.add(col)
            header_map[spec] = str(col)

        # other columns travel along as text, unless their header looks like personal
        # data nobody declared: then they are dropped (values kept for the scanner) and
        # the data are not analysed until the study says what they are
        for c in frame.columns:
            if c not in used and str(c) not in out:
                kind = None if _header_key(c) in not_pii else personal_header(c)
                if kind is not None:
                    issues.append(_undeclared_pii(str(c), kind, name))
                    sensitive.add(f"pii:{str(c).strip()}", _distinct(frame[c]))
                    file_fatal = True
                    continue
                out[str(c)] = frame[c].reset_index(drop=True)
                header_map[str(c)] = str(c)
        out["_file"] = pd.Series(pd.array([name] * len(frame), dtype=_STR))
        out["_row"] = rows.astype(np.int64)
        frames.append(pd.DataFrame(out))
        headers[name] = header_map
        fatal = fatal or file_fatal

    data = _stack(frames, study, item_order)
    issues.extend(_read_columns(data, study, headers))
    if files_read:
        for col in study.privacy.pii or ():
            if _header_key(col) not in pii_found:
                issues.append(_absent_pii(str(col), [s["file"] for s in sources if s["read"]]))
        if any(c not in outcome_found for c in outcome_cols):
            fatal = True  # an outcome that no file holds: nothing to analyse
    return IngestResult(data, sources, issues, sensitive, fatal, headers)


def _stack(frames, study, item_order) -> pd.DataFrame:
    d = study.design
    lead = [d.id, d.wave] + ([d.arm] if d.arm else []) + list(d.clusters or ()) + \
        ([d.blocks] if d.blocks else []) + list(d.covariates or ()) + list(d.subgroups or ())
    lead = [str(c) for c in dict.fromkeys(lead)]
    items = list(dict.fromkeys(item_order))
    if not frames:
        cols = lead + items + ["_file", "_row"]
        df = pd.DataFrame({c: pd.array([], dtype=_STR) for c in cols})
        for c in items:
            df[c] = df[c].astype("float64")
        df["_row"] = df["_row"].astype("int64")
        return df
    data = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    others = [c for c in data.columns if c not in set(lead) | set(items) | {"_file", "_row"}]
    data = data[[c for c in lead + items + others + ["_file", "_row"] if c in data.columns]]
    numeric = set(items)
    for c in data.columns:
        if c in numeric:
            data[c] = data[c].astype("float64")
        elif c == "_row":
            data[c] = data[c].astype("int64")
        elif data[c].dtype != _STR:
            data[c] = data[c].astype(_STR)
    return data


# ----------------------------------------------------------------------------- personal headers

#: Chinese words that name a personal-data field (matched inside short headers).
PII_HEADER_WORDS_ZH = ("身份证", "联系方式", "家庭住址", "住址", "地址", "姓名", "名字", "电话", "手机",
                       "监护人", "微信号", "邮箱")
#: Longest header (characters, once a question number and a trailing note are removed)
#: read as a field label; a longer one is a question (``你多久和爸爸妈妈打一次电话？``).
PII_HEADER_MAX_ZH = 12
#: Latin words (one word of the header) -> the kind of personal data they name.
_PII_WORDS_EN = (
    ("name", re.compile(r"^(?:full|first|last|given|family|middle|nick|user|sur|student|child|"
                        r"pupil|parent|guardian|mother|father|mom|dad|teacher|caregiver|"
                        r"respondent|contact)?names?$")),
    ("phone", re.compile(r"^(?:(?:tele|cell|mobile|home|contact)?phones?|tel|mobile|cellphone|"
                         r"phonenumber)\d*$")),
    ("address", re.compile(r"^(?:home|street|postal)?(?:address(?:es)?|addr)\d*$")),
    ("email", re.compile(r"^e?mail(?:address)?\d*$")),
    ("id card", re.compile(r"^(?:idcard|identitycard)(?:no|number)?$")),
)
#: A phone word followed by any other word names a habit, not a number
#: (``phone_calls_per_week``, ``mobile_use_hours``), unless the word is one of these.
_PHONE_NUMBER_WORDS = frozenset({"no", "nr", "num", "number", "numbers", "of", "contact"})
#: 电话/手机 right after one of these verbs names an activity (打电话, 玩手机), not a number.
_ZH_ACTIVITY = re.compile(r"[打通玩用有带](?:电话|手机)")
#: ``name`` right after one of these words names a place or a thing (``school_name``).
PII_NAME_EXEMPT_BEFORE = frozenset({
    "school", "class", "classroom", "grade", "county", "district", "province", "city", "town",
    "township", "village", "site", "program", "programme", "project", "course", "group", "arm",
    "team", "organization", "organisation", "org", "unit", "scale", "item", "file", "sheet",
    "variable", "var", "column", "field", "instrument", "wave", "study", "survey", "question",
    "option", "category", "brand", "app", "device", "host", "domain", "center", "centre"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WJX_PREFIX = re.compile(r"^(?:\d+[、.．]|第\d+题)")
_TRAILING_NOTE = re.compile(r"(?:[（(【\[][^（()）【】\[\]]*[)）】\]])+$")
_TRAILING_MARKS = "：:？?。.!！*＊"


def personal_header(header) -> str | None:
    """The kind of personal data a column header names, or None.

    The rule (also in ``data-schema/README.md``):

    * Latin headers are split into words (at anything but letters and digits, and at
      camelCase), case ignored. A word ``name`` (also ``full_name``, ``surname``,
      ``guardianName``, ``username``), ``phone``/``tel``/``mobile``, ``address``,
      ``email``, or ``id card``/``idcard`` matches. ``name`` right after a place or
      thing (``school_name``, ``class name``; :data:`PII_NAME_EXEMPT_BEFORE`) does not.
    * Chinese headers match when they contain one of :data:`PII_HEADER_WORDS_ZH`
      (身份证, 联系方式, 家庭住址, 住址, 地址, 姓名, 名字, 电话, 手机, 监护人, 微信号, 邮箱)
      and are short enough to be a field label: at most :data:`PII_HEADER_MAX_ZH`
      characters once spaces, a 问卷星 question number (``3、``) and a trailing note in
      brackets (``(必填)``) are removed. Longer headers are question stems. 电话 and 手机
      right after 打, 通, 玩, 用, 有 or 带 name an activity (打电话, 玩手机) and do not count.

    Headers are compared after Unicode NFKC normalization (full-width letters).
    A false alarm is silenced with ``privacy.not_pii``.

    Examples
    --------
    >>> [personal_header(h) for h in ["学生姓名", "家长电话(必填)", "guardianName", "Phone No.",
    ...                               "home_address", "ID card", "3、你的名字："]]
    ['姓名', '电话', 'name', 'phone', 'address', 'id card', '名字']
    >>> [personal_header(h) for h in ["school_name", "age", "rses_1", "namespace", "phonics",
    ...                               "phone_calls", "5、你多久和爸爸妈妈通一次电话？", "每天玩手机吗"]]
    [None, None, None, None, None, None, None, None]
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    words = [w for w in re.split(r"[^0-9a-z]+", _CAMEL.sub(" ", text).casefold()) if w]
    for k, w in enumerate(words):
        if w == "id" and k + 1 < len(words) and words[k + 1] == "card":
            return "id card"
        for kind, pattern in _PII_WORDS_EN:
            if pattern.match(w):
                if w in ("name", "names") and k > 0 and words[k - 1] in PII_NAME_EXEMPT_BEFORE:
                    break
                if kind == "phone" and not set(words[k + 1:]) <= _PHONE_NUMBER_WORDS:
                    break
                return kind
    core = _WJX_PREFIX.sub("", re.sub(r"\s+", "", text))
    core = _TRAILING_NOTE.sub("", core.rstrip(_TRAILING_MARKS)).rstrip(_TRAILING_MARKS)
    if len(core) <= PII_HEADER_MAX_ZH:
        core = _ZH_ACTIVITY.sub("", core)
        for word in PII_HEADER_WORDS_ZH:
            if word in core:
                return word
    return None

"""Read every data file of a study into one DataFrame (the "ingested data" contract).

Order of work for each file (``study.data``), chosen so that personal data goes
no further than it must:

1. read it as strings (:func:`survey.readers.read_table`), recording its SHA-256;
2. drop personal-data columns (``privacy.pii`` and platform columns such as
   Wenjuanxing's ``来自IP``), remembering their values only in memory
   (``IngestResult.sensitive``) for the output scanner;
3. replace raw respondent ids by keyed pseudonyms (:mod:`survey.privacy`);
4. normalize a Wenjuanxing export (:mod:`survey.wenjuanxing`);
5. rename item columns to item ids (``InstrumentUse.columns``); design columns
   keep the study's names; add the wave column from ``data[].wave``;
6. turn item answers into numbers: label text ("非常同意", "Strongly agree";
   case and spaces ignored) -> its code, declared ``missing_codes`` -> NaN, other
   text -> NaN with an issue (``LABEL_UNKNOWN`` or ``VALUE_NOT_NUMERIC``).

Range checks, duplicates and assignment rules are :mod:`survey.validation`'s job.
"""

from __future__ import annotations

import difflib
import re
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
        arm, clusters, block (text), covariates (numbers when every value is a
        number, else text), subgroups (text), one float column per item id, then
        other columns of the files (text), then ``_file`` and ``_row``.
    sources : list of dict
        Per file: ``file`` (relative to the study folder), ``format``, ``encoding``,
        ``sheet``, ``platform``, ``kind`` (Wenjuanxing export kind), ``rows``,
        ``sha256``, ``read`` (False when the file could not be read).
    issues : list of survey.errors.Issue
    sensitive : survey.privacy.SensitiveValues
        Raw personal values and raw ids (memory only; never written).
    fatal : bool
        True when a file could not be read or a design column is missing.
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
        issues.extend(table.issues)
        frame = table.frame
        rows = table.row_numbers

        # 2. personal data out, first
        kept, dropped = privacy.drop_pii(frame, study.privacy.pii or ())
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
                s = frame[col].reset_index(drop=True)
                if role == "covariate":
                    num = pd.to_numeric(s.str.strip(), errors="coerce")
                    if (num.notna() | s.isna()).all():
                        s = num.astype("float64")
                out[str(spec)] = s
                used.add(col)
                header_map[str(spec)] = str(col)

        # items: convert every column, then decide per instrument whether the file
        # holds label text (LABEL_UNKNOWN) or codes (VALUE_NOT_NUMERIC) for bad cells
        nums_missing, text_missing = _missing_sets(study.missing_codes)
        for use in study.instruments:
            inst = use.instrument
            lookup = label_lookup(inst)
            pending = []
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
                if len(positions):
                    pending.append((str(col), positions, texts))
                used.add(col)
                header_map[item_id] = str(col)
            for col, positions, texts in pending:
                issues.extend(_item_issues(inst, positions, texts, hits > 0, file=name,
                                           header=col, rows=rows))

        # other columns travel along as text
        for c in frame.columns:
            if c not in used and str(c) not in out:
                out[str(c)] = frame[c].reset_index(drop=True)
                header_map[str(c)] = str(c)
        out["_file"] = pd.Series(pd.array([name] * len(frame), dtype=_STR))
        out["_row"] = rows.astype(np.int64)
        frames.append(pd.DataFrame(out))
        headers[name] = header_map
        fatal = fatal or file_fatal

    data = _stack(frames, study, item_order)
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
    numeric = set(items) | {c for c in d.covariates or () if data[c].dtype.kind == "f"}
    for c in data.columns:
        if c in numeric:
            data[c] = data[c].astype("float64")
        elif c == "_row":
            data[c] = data[c].astype("int64")
        elif data[c].dtype != _STR:
            data[c] = data[c].astype(_STR)
    return data

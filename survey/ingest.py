"""Read every data file of a study into one DataFrame (the "ingested data" contract).

Order of work for each file (``study.data``), chosen so that personal data goes
no further than it must:

1. read it as strings (:func:`survey.readers.read_table`), recording its SHA-256;
2. drop personal-data columns (``privacy.pii`` and platform columns such as
   Wenjuanxing's ``来自IP``), remembering their values only in memory
   (``IngestResult.sensitive``) for the output scanner; a declared column that no
   file has is ``PII_COLUMN_ABSENT`` (warning);
3. keep the raw respondent ids in memory only, until every file is read;
4. normalize a Wenjuanxing export (:mod:`survey.wenjuanxing`);
5. rename item columns to item ids (``InstrumentUse.columns``); design columns
   keep the study's names; add the wave column from ``data[].wave``; a design column
   (arm, clusters, blocks, covariates, subgroups) that the file lacks is taken from the
   roster (``archives.roster``, by child id; issue 14), and one that both hold with
   different values is ``ROSTER_CONFLICT`` (error, the row quarantined);
6. turn item answers into numbers: label text ("非常同意", "Strongly agree";
   case and spaces ignored) -> its code, declared ``missing_codes`` -> NaN, other
   text -> NaN with an issue (``LABEL_UNKNOWN`` or ``VALUE_NOT_NUMERIC``); option
   numbers of a 问卷星 按序号 export -> the instrument's codes where the scale does not
   start at 1 (``data[].codes``; ``CODES_OPTION_INDEX``, ``CODES_AMBIGUOUS``);
7. drop any other column whose header looks like personal data and that the study
   neither uses nor lists in ``privacy.not_pii`` (``PII_UNDECLARED``, fatal;
   :func:`personal_header`);
8. once every file is read: ids that differ only by case, whitespace, zero-width or
   full-width characters or leading zeros are linked (``ID_LOOSE_MATCH``), ids that
   Excel turned into dates are flagged (``ID_DATE``), and every id is replaced by its
   keyed pseudonym (:mod:`survey.privacy`; :mod:`survey.id_linking`): normalization happens before
   hashing, messages show pseudonyms and counts;
9. covariates, subgroups and data-column outcomes are read as numbers or text
   (``_read_columns``; ``VALUE_NOT_NUMERIC`` for text in a numeric column,
   ``VALUE_OUT_OF_RANGE`` outside ``columns:`` min/max or beyond 1e9,
   ``FREE_TEXT_CATEGORY`` for a level that looks like free text).

``.sav``/``.dta`` value labels of item columns are compared with the instrument's labels
(``CODES_RELABELED``, ``VALUE_LABELS_CONFLICT``). No message quotes a cell
(:func:`describe_cell`).

Range checks, duplicates and assignment rules are :mod:`survey.validation`'s job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError, Issue
from core.suggest import closest, did_you_mean

from . import privacy
from . import wenjuanxing as wjx
from .id_linking import link_ids
from .readers import _STR, read_table

_SPACE = re.compile(r"[\s\u3000]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: A cell that messages may quote: a plain number of at most 3 digits before and 2 after
#: the point (``7``, ``-9``, ``4.5``, ``99``); it cannot be a name, a phone or an id card.
_SHOWABLE_NUMBER = re.compile(r"^[+-]?\d{1,3}(\.\d{1,2})?$")
#: A design label (wave, arm, cluster, block) that messages may quote: at most 24 characters,
#: no run of 7 or more digits (a phone, an id card, a QQ number) and no ``@``.
_LABEL_MAX = 24
_LONG_DIGITS = re.compile(r"\d{7,}")


def describe_cell(text) -> str:
    """What an error message may show of a data cell (the rule of ``docs/error-codes.md``).

    The cell itself when it is a short plain number (at most 3 digits before the point
    and 2 after: ``7``, ``-9``, ``4.5``), which cannot be personal data; otherwise only
    its kind and length (``text of 12 characters``, ``a number of 11 digits``), never
    the text.

    Examples
    --------
    >>> describe_cell("7"), describe_cell(" -9 "), describe_cell("13912345678")
    ('7', '-9', 'a number of 11 digits')
    >>> describe_cell("我是秦诗家电话17100402724"), describe_cell("abc")
    ('text of 18 characters', 'text of 3 characters')
    """
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if _SHOWABLE_NUMBER.match(t):
        return t
    if _NUMBER.match(t):
        digits = sum(ch.isdigit() for ch in t)
        return f"a number of {digits} digit{'s' if digits != 1 else ''}"
    return f"text of {len(t)} character{'s' if len(t) != 1 else ''}"


def describe_number(x: float) -> str:
    """:func:`describe_cell` for a number already read (``7``, ``a number of 11 digits``).

    Examples
    --------
    >>> describe_number(7.0), describe_number(4.25), describe_number(1e308), describe_number(float("inf"))
    ('7', '4.25', 'a number of 309 digits', 'an infinite number')
    """
    if not np.isfinite(x):
        return "an infinite number"
    if float(x).is_integer() and abs(x) >= 1e15:
        return f"a number of {len(str(int(abs(x))))} digits"
    return describe_cell(f"{x:.15g}")


def describe_label(text) -> str:
    """A design label (wave, arm, cluster, block) as a message may show it: quoted when it
    looks like a label (at most 24 characters, no run of 7 digits, no ``@``), otherwise
    described like a cell (:func:`describe_cell`).

    Examples
    --------
    >>> describe_label("treatmnet"), describe_label("王芳13912345678")
    ("'treatmnet'", 'text of 13 characters')
    """
    t = str(text)
    if len(t) <= _LABEL_MAX and not _LONG_DIGITS.search(t) and "@" not in t:
        return repr(t)
    return describe_cell(t)



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
    issues : list of core.errors.Issue
    sensitive : survey.privacy.SensitiveValues
        Raw personal values and raw ids (memory only; never written).
    fatal : bool
        True when a file could not be read, a design column is missing, no file has
        an outcome column, a column looks like undeclared personal data, or option
        numbers are ambiguous.
    headers : dict
        ``{file: {data column: column as headed in the file}}``, for messages.
    quarantine : dict
        ``{code: boolean mask over data's rows}`` of rows that ingestion already knows
        cannot be used (``ID_DATE``: an id Excel turned into a date); validation
        quarantines them.
    columns : dict
        How each covariate, subgroup and data-column outcome was read:
        ``{column: {"type": "numeric" | "categorical", "how": "declared" | "inferred" |
        role, "numbers": n, "text": n, "min": ..., "max": ...}}``.
    """

    data: pd.DataFrame
    sources: list
    issues: list
    sensitive: object
    fatal: bool
    headers: dict = field(default_factory=dict)
    quarantine: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)


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
    """One issue per bad cell; the cell's text is described, never quoted (:func:`describe_cell`)."""
    r = instrument.response
    labels = {}
    for text in (instrument.response.labels or {}).values():
        for t in (text.values() if isinstance(text, dict) else [text]):
            if t:
                labels[_norm_label(t)] = t
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
        shown = describe_cell(raw)
        near = ""
        if label_text and labels:
            # the nearest instrument label (its text, not the cell's) helps to fix a typo
            close = closest(_norm_label(raw), labels)
            if close is not None:
                near = f" (nearest label: {labels[close]!r})"
        issues.append(Issue(code, "error", f"the answer ({shown}) {what}{near}; set to missing",
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


# ----------------------------------------------------------------------------- value labels

def _value_label_codes(instrument, columns: dict, value_labels: dict, *, file: str):
    """Compare the value labels of a .sav/.dta file's item columns with the instrument's.

    For each item column, every labelled code whose label is one of the instrument's
    labels (any language, case and spaces ignored) gives a pair (file code, instrument
    code). When all pairs of a column differ by the same amount (0-based codes 0-4 that
    carry the labels of the instrument's 1-5), that amount is added to the column's
    numbers, with one ``CODES_RELABELED`` warning per file and instrument. When they
    differ by several amounts (1 = 非常同意 where the instrument says 5 = 非常同意), the
    file contradicts the instrument: ``VALUE_LABELS_CONFLICT``, an error (fatal: the
    scores would be inverted). Labels the instrument does not have are not compared.

    Returns ``({item_id: shift}, issues)``.

    Examples
    --------
    >>> from survey.instrument import Response
    >>> class I:
    ...     id = "s"
    ...     response = Response(1, 2, {1: {"zh": "不同意"}, 2: {"zh": "同意"}})
    >>> shifts, issues = _value_label_codes(I, {"q1": "q1"}, {"q1": {"0": "不同意", "1": "同意"}},
    ...                                     file="w.sav")
    >>> shifts, [i.code for i in issues]
    ({'q1': 1.0}, ['CODES_RELABELED'])
    >>> _value_label_codes(I, {"q1": "q1"}, {"q1": {"1": "同意", "2": "不同意"}}, file="w.sav")[1][0].code
    'VALUE_LABELS_CONFLICT'
    """
    lookup = label_lookup(instrument)
    shifts: dict[str, float] = {}
    issues: list[Issue] = []
    shifted: list[str] = []
    for item_id, col in columns.items():
        labels = value_labels.get(col) or value_labels.get(str(col)) or {}
        pairs = []
        for code_text, label in labels.items():
            x = _number_or_none(str(code_text))
            target = lookup.get(_norm_label(label))
            if x is not None and target is not None:
                pairs.append((x, float(target), str(label)))
        if not pairs:
            continue
        diffs = {t - x for x, t, _ in pairs}
        if diffs == {0.0}:
            continue
        if len(diffs) == 1:
            shifts[item_id] = diffs.pop()
            shifted.append(str(col))
            continue
        wrong = [(x, t, lab) for x, t, lab in sorted(pairs) if t != x]
        shown = "; ".join(f"the file labels {x:g} {lab!r}, which is {t:g} in {instrument.id}"
                          for x, t, lab in wrong[:3])
        issues.append(Issue(
            "VALUE_LABELS_CONFLICT", "error",
            f"the value labels of this column contradict the instrument: {shown}. The numbers "
            "cannot be read as the instrument's codes (scores would be reversed); recode the "
            "column, or check that it is the right question", file=file, row=1, column=str(col),
            expected=f"value labels that match {instrument.id}'s: {_labels_text(instrument)}"))
    if shifted:
        amounts = sorted(set(shifts.values()))
        what = ", ".join(f"{a:+g}" for a in amounts)
        issues.append(Issue(
            "CODES_RELABELED", "warning",
            f"the value labels of {len(shifted)} column(s) of {instrument.id} "
            f"({', '.join(shifted[:5])}{'...' if len(shifted) > 5 else ''}) put the instrument's "
            f"labels on other codes (e.g. 0-based codes); read as the instrument's codes by "
            f"adding {what}", file=file, row=1, column=shifted[0],
            expected=f"codes {instrument.response.min}-{instrument.response.max} as labelled in "
                     f"{instrument.id}"))
    return shifts, issues


# ----------------------------------------------------------------------------- declared columns

def _number_or_none(text: str):
    t = unicodedata.normalize("NFKC", text).strip()
    return float(t) if _NUMBER.match(t) else None


#: Without a declared range, a covariate or data-column outcome beyond this size (or not
#: finite: ``1e309``) is ``VALUE_OUT_OF_RANGE``: no plausible measurement of a child is.
NUMERIC_BOUND = 1e9
#: A category level that looks like free text (``FREE_TEXT_CATEGORY``): longer than this ...
FREE_TEXT_LENGTH = 16
#: ... or holding a run of this many digits (a phone, a QQ number) ...
_FREE_TEXT_DIGITS = re.compile(r"\d{5,}")
#: ... or sentence punctuation in a level longer than 8 characters.
_FREE_TEXT_PUNCT = re.compile(r"[,，:：;；。！!？?、]")


def looks_like_free_text(level) -> bool:
    """Whether a category level looks like free text rather than a label.

    Longer than :data:`FREE_TEXT_LENGTH` (16) characters, or a run of 5 digits, or
    sentence punctuation (``, ， : ： ; ； 。 ! ? 、``) in a level longer than 8
    characters. A plain number is a code (a school code ``430102``) unless it has 7
    digits or more (a phone, an id card).

    Examples
    --------
    >>> [looks_like_free_text(x) for x in ["其他:姑姑王芳照顾,电话13912345678", "祖父母", "grandparents",
    ...                                     "other: aunt Li", "1", "430102", "13912345678"]]
    [True, False, False, True, False, False, True]
    """
    t = unicodedata.normalize("NFKC", str(level)).strip()
    if _NUMBER.match(t):
        return bool(_LONG_DIGITS.search(t))
    return (len(t) > FREE_TEXT_LENGTH or bool(_FREE_TEXT_DIGITS.search(t))
            or (len(t) > 8 and bool(_FREE_TEXT_PUNCT.search(t))))


def _read_columns(data: pd.DataFrame, study, headers: dict):
    """Read covariates, subgroups and data-column outcomes (in place): numbers or text.

    Declared missing codes become missing in each. A column is numeric when the study
    says so (:meth:`survey.study.Study.column_type`: outcome columns, ``columns:``) or,
    for a covariate it does not type, when most of its non-missing cells (all files
    together) are numbers (so one ``10岁`` among numbers is one ``VALUE_NOT_NUMERIC``,
    not a categorical column); a numeric column's other cells become NaN with a
    ``VALUE_NOT_NUMERIC`` error that names file, row and column but not the cell.
    Numbers may use full-width digits (NFKC). A number outside ``columns: {c: {min, max}}``
    or, without a range, beyond :data:`NUMERIC_BOUND` or not finite, becomes NaN with a
    ``VALUE_OUT_OF_RANGE`` error. Other columns stay text; a level that looks like free
    text (:func:`looks_like_free_text`) is a ``FREE_TEXT_CATEGORY`` warning naming its
    first cell. Returns ``(issues, {column: how it was read})``.
    """
    d = study.design
    nums_missing, text_missing = _missing_sets(study.missing_codes)
    cols = list(dict.fromkeys([str(c) for c in d.covariates or ()] + [str(c) for c in d.subgroups or ()]
                              + [str(o.column) for o in study.outcomes if o.column is not None]))
    issues: list[Issue] = []
    types: dict[str, dict] = {}
    cells = _Cells(data["_file"].to_numpy(dtype=object), data["_row"].to_numpy(), headers,
                   list(study.missing_codes or ()))
    for col in cols:
        if col not in data.columns or data[col].dtype.kind == "f":
            continue
        s = data[col]
        codes, uniques, cell_kind, numbers = _cell_kinds(s, nums_missing, text_missing)
        n_num, n_text = int((cell_kind == 1).sum()), int((cell_kind == 2).sum())
        declared = study.column_type(col)
        numeric = declared == "numeric" or (declared is None and n_num > n_text)
        spec = study.columns.get(col)
        how = ("declared" if spec is not None and spec.type is not None else
               "outcome" if any(o.column == col for o in study.outcomes) else
               "subgroup" if declared == "categorical" else "inferred")
        types[col] = {"type": "numeric" if numeric else "categorical", "how": how,
                      "numbers": n_num, "text": n_text}
        if not numeric:
            data[col] = s.mask(pd.Series(cell_kind == 0, index=s.index) & s.notna())
            issues.extend(_free_text_levels(col, codes, uniques, cells.files, cells.rows, headers))
            continue
        values = np.where(cell_kind == 1, numbers[np.maximum(codes, 0)], np.nan)
        role = next((f"outcome {o.id!r}" for o in study.outcomes if o.column == col), None)
        if role is None:
            role = "a covariate declared numeric (columns:)" if declared == "numeric" else \
                (f"a covariate read as numbers ({n_num} of {n_num + n_text} answers are "
                 f"numbers; if it is a category, declare columns: {{{col}: {{type: categorical}}}})")
        issues.extend(cells.not_numeric(col, role, np.flatnonzero(cell_kind == 2), uniques, codes))
        lo = None if spec is None else spec.min
        hi = None if spec is None else spec.max
        types[col].update(min=lo, max=hi)
        data[col] = cells.in_range(col, role, values, lo, hi, issues)
    return issues, types


def _cell_kinds(s: pd.Series, nums_missing: set, text_missing: set) -> tuple:
    """``(codes, uniques, kind of each cell, number of each unique)`` of a text column.

    Kinds: 0 missing (empty or a declared missing code), 1 number, 2 text; the work is
    done once per distinct value.
    """
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
    return codes, uniques, cell_kind, numbers


@dataclass
class _Cells:
    """Where the cells of the stacked data come from (file, row, header), for issues."""

    files: np.ndarray
    rows: np.ndarray
    headers: dict
    missing: list  # the study's declared missing codes

    def header(self, k: int, col: str) -> str:
        return self.headers.get(self.files[k], {}).get(col, col)

    def not_numeric(self, col: str, role: str, positions, uniques, codes) -> list[Issue]:
        """``VALUE_NOT_NUMERIC`` for each text cell of a numeric column (described, not quoted)."""
        expected = "a number" + (f" or a declared missing code {self.missing}" if self.missing else "")
        issues = []
        for k in positions:
            shown = describe_cell(uniques[codes[k]])
            issues.append(Issue("VALUE_NOT_NUMERIC", "error",
                                f"the cell ({shown}) is not a number; column {col!r} is {role}; set "
                                "to missing", file=self.files[k], row=int(self.rows[k]),
                                column=self.header(k, col), value=shown, expected=expected))
        return issues

    def in_range(self, col: str, role: str, values: np.ndarray, lo, hi, issues: list) -> np.ndarray:
        """``values`` with numbers outside ``[lo, hi]`` (or, without a range, beyond
        :data:`NUMERIC_BOUND` or not finite) set to NaN, each a ``VALUE_OUT_OF_RANGE`` error."""
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(values) & (~np.isfinite(values) | (np.abs(values) > NUMERIC_BOUND))
            if lo is not None:
                out |= values < lo
            if hi is not None:
                out |= values > hi
        if not out.any():
            return values
        if lo is None and hi is None:
            rng = (f"a finite number of at most {NUMERIC_BOUND:.0e} in size (declare a plausible "
                   f"range: columns: {{{col}: {{type: numeric, min: ..., max: ...}}}})")
        else:
            rng = " and ".join(p for p in (None if lo is None else f"at least {lo:g}",
                                           None if hi is None else f"at most {hi:g}") if p)
        what = role if role.startswith("outcome") else f"covariate {col!r}"
        for k in np.flatnonzero(out):
            shown = describe_number(values[k])
            issues.append(Issue(
                "VALUE_OUT_OF_RANGE", "error",
                f"{shown} is outside the plausible range of {what} ({rng}); set to missing",
                file=self.files[k], row=int(self.rows[k]), column=self.header(k, col),
                value=shown, expected=rng + (f" or a declared missing code {self.missing}"
                                             if self.missing else "")))
        return np.where(out, np.nan, values)


def _free_text_levels(col, codes, uniques, files, rows, headers) -> list:
    """``FREE_TEXT_CATEGORY`` warnings: one per level that looks like free text (its first
    cell and the number of rows), never quoting it."""
    issues = []
    for k, u in enumerate(uniques):
        if not looks_like_free_text(u):
            continue
        idx = np.flatnonzero(codes == k)
        r0 = idx[0]
        more = f" (and {len(idx) - 1} more row(s) with the same text)" if len(idx) > 1 else ""
        issues.append(Issue(
            "FREE_TEXT_CATEGORY", "warning",
            f"a level of category {col!r} looks like free text ({describe_cell(u)}; long, or "
            f"with digits or punctuation){more}: it may hold a name or a phone number and would "
            "be published as a category level. Recode it to one of the column's categories "
            "in the source (e.g. 其他 / other)", file=files[r0], row=int(rows[r0]),
            column=headers.get(files[r0], {}).get(col, col), value=describe_cell(u),
            expected="a short category label"))
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


def _relative(path: Path, root: Path) -> str:
    """The data file's name relative to the study folder, for messages.

    A path that cannot be resolved (a symlink loop) is named as written.
    """
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name
    except (RuntimeError, OSError):  # "Symlink loop" (RuntimeError before Python 3.13)
        try:
            return Path(path).relative_to(Path(root)).as_posix()
        except ValueError:
            return Path(path).name


def _symlink_loop(path: Path) -> bool:
    try:
        Path(path).resolve(strict=False)
    except (RuntimeError, OSError):
        return True
    return False


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
    run = _Run(study)
    for src in study.data:
        _read_source(src, run)
    return _finish(run)


class _Run:
    """What reading the files of one study collects, file after file."""

    def __init__(self, study):
        self.study = study
        self.sensitive = privacy.SensitiveValues()
        self.pseudonymizer = privacy.Pseudonymizer(privacy.load_or_create_key(Path(study.root)))
        self.issues: list[Issue] = []
        self.sources: list[dict] = []
        self.frames: list[pd.DataFrame] = []
        self.headers: dict[str, dict] = {}
        self.fatal = False
        self.files_read = 0
        self.pii_found: set[str] = set()
        self.not_pii = {_header_key(c) for c in getattr(study.privacy, "not_pii", ())}
        self.outcome_cols = [str(o.column) for o in study.outcomes if o.column is not None]
        self.outcome_found: set[str] = set()
        self.roster = None  # the roster's design columns by raw id (issue 14), memory only
        self.roster_conflicts: list[np.ndarray] = []
        archives = getattr(study, "archives", None)
        if archives is not None and archives.roster is not None:
            self.roster = roster_lookup(study)


def _read_source(src, run: _Run) -> None:
    """Steps 1-7 of the module docstring for one data file; its frame goes to ``run.frames``."""
    name = _relative(src.path, run.study.root)
    info = {"file": name, "format": src.format, "encoding": None, "sheet": None,
            "platform": None, "kind": None, "rows": 0, "sha256": None, "read": False}
    run.sources.append(info)
    table = _open_table(src, name, run.issues)
    if table is None:
        run.fatal = True
        return
    info.update(format=table.format, encoding=table.encoding, sheet=table.sheet,
                sha256=table.sha256, rows=len(table.frame), read=True)
    run.files_read += 1
    run.issues.extend(table.issues)
    frame = _drop_personal_columns(table.frame, run)
    frame, aliases = _normalize_platform(frame, src, info)
    f = _FileColumns(name, frame, table.row_numbers, aliases, run)
    f.id_column()
    f.wave_column(src)
    f.design_columns()
    f.covariates_and_subgroups()
    codes_used = f.item_columns(src, info["kind"], table.value_labels)
    if codes_used:
        info["codes"] = codes_used
    f.outcome_columns()
    f.other_columns()
    run.frames.append(f.to_frame())
    run.roster_conflicts.append(f.conflict)
    run.headers[name] = f.header_map
    run.fatal = run.fatal or f.fatal


def _open_table(src, name: str, issues: list):
    """The file read as strings (:func:`survey.readers.read_table`), or None with a ``FILE_*`` issue."""
    if _symlink_loop(src.path):
        issues.append(Issue("FILE_UNREADABLE", "error", "the path is a symbolic link loop (a "
                            "link that points, directly or through others, back to itself); "
                            "the file cannot be read", file=name,
                            expected="a data file, or a link to a data file in the study folder"))
        return None
    try:
        return read_table(src.path, encoding=src.encoding, sheet=src.sheet, name=name)
    except DataError as err:
        issues.append(Issue(err.code, "error", err.message, file=err.file or name,
                            row=err.row, column=err.column))
        return None


def _drop_personal_columns(frame: pd.DataFrame, run: _Run) -> pd.DataFrame:
    """``privacy.pii`` and platform personal columns dropped first; their values kept in memory."""
    kept, dropped = privacy.drop_pii(frame, run.study.privacy.pii or ())
    run.pii_found.update(_header_key(c) for c in dropped)
    extra = [c for c in kept.columns if str(c).strip() in wjx.PERSONAL_COLUMNS]
    for c in list(dropped) + extra:
        run.sensitive.add(f"pii:{str(c).strip()}", _distinct(frame[c]))
    return kept.drop(columns=extra)


def _normalize_platform(frame: pd.DataFrame, src, info: dict) -> tuple[pd.DataFrame, dict]:
    """A 问卷星 export normalized (:mod:`survey.wenjuanxing`): ``(frame, header aliases)``."""
    platform = getattr(src, "platform", None)
    if platform is None and wjx.is_wenjuanxing(frame.columns):
        platform = "wenjuanxing"
    aliases = {}
    if platform == "wenjuanxing":
        wj = wjx.normalize_wenjuanxing(frame)
        frame, aliases = wj.frame, wj.aliases
        info["kind"] = wj.kind
    info["platform"] = platform
    return frame, aliases


class _FileColumns:
    """The columns of one file under the study's names (``out``), and the headers they had."""

    def __init__(self, name: str, frame: pd.DataFrame, rows, aliases: dict, run: _Run):
        self.name = name
        self.frame = frame
        self.rows = rows
        self.run = run
        self.design = run.study.design
        self.resolve = _resolver(frame.columns, aliases)
        self.out: dict[str, object] = {}
        self.header_map: dict[str, str] = {}
        self.used: set = set()
        self.fatal = False
        self.conflict = np.zeros(len(frame), dtype=bool)
        self._norm_ids = None  # (the raw id column, its normalized ids)

    def missing(self, role, spec, *, fatal_role=True) -> None:
        self.run.issues.append(Issue("COLUMN_MISSING", "error",
                                     f"the {role} column {str(spec)!r} is not in the file"
                                     f"{did_you_mean(spec, self.frame.columns)}",
                                     file=self.name, row=1, column=str(spec),
                                     expected=f"a column named {str(spec)!r}"))
        if fatal_role:
            self.fatal = True

    def _empty(self) -> pd.Series:
        return pd.Series(pd.array([None] * len(self.frame), dtype=_STR))

    def _take(self, key: str, col) -> None:
        self.out[key] = self.frame[col].reset_index(drop=True)
        self.used.add(col)
        self.header_map[key] = str(col)

    def id_column(self) -> None:
        """The raw ids, for now: linked across files and pseudonymized once every file is in
        (:func:`survey.id_linking.link_ids`); they never leave :func:`read_study_data`."""
        idcol = self.resolve(self.design.id)
        if idcol is None:
            self.missing("respondent id", self.design.id)
            self.out[self.design.id] = self._empty()
            return
        raw_ids = self.frame[idcol].reset_index(drop=True)
        self.run.sensitive.add("raw_id", _distinct(raw_ids))
        self.out[self.design.id] = raw_ids.rename(None)
        self.used.add(idcol)
        self.header_map[self.design.id] = str(idcol)

    def wave_column(self, src) -> None:
        """The wave column, filled from ``data[].wave``; the one wave of a single-wave study."""
        d = self.design
        wavecol = self.resolve(d.wave)
        if wavecol is not None:
            w = self.frame[wavecol].reset_index(drop=True)
            if src.wave is not None:
                w = w.fillna(str(src.wave))
            self.out[d.wave] = w
            self.used.add(wavecol)
            self.header_map[d.wave] = str(wavecol)
        elif src.wave is not None:
            self.out[d.wave] = pd.Series(pd.array([str(src.wave)] * len(self.frame), dtype=_STR))
        elif len(d.waves) == 1:
            self.out[d.wave] = pd.Series(pd.array([str(d.waves[0])] * len(self.frame), dtype=_STR))
        else:
            self.missing("wave", d.wave)
            self.out[d.wave] = self._empty()

    def design_columns(self) -> None:
        """Arm, clusters and block, as text; a missing one makes the file fatal."""
        roles = _columns_of(self.run.study)
        design_cols = ([("arm", roles["arm"])] if roles["arm"] else []) + \
            [("cluster", c) for c in roles["clusters"]] + \
            ([("block", roles["blocks"])] if roles["blocks"] else [])
        for role, spec in design_cols:
            col = self.resolve(spec)
            if col is None:
                if self.from_roster(str(spec)):
                    continue
                self.missing(role, spec)
                self.out[str(spec)] = self._empty()
                continue
            self._take(str(spec), col)
            self.check_roster(str(spec))

    def covariates_and_subgroups(self) -> None:
        """Text for now: numbers are read once every file is in (:func:`_read_columns`)."""
        roles = _columns_of(self.run.study)
        for role, specs in (("covariate", roles["covariates"]), ("subgroup", roles["subgroups"])):
            for spec in specs:
                col = self.resolve(spec)
                if col is None:
                    if self.from_roster(str(spec)):
                        continue
                    self.missing(role, spec, fatal_role=False)
                    self.out[str(spec)] = self._empty()
                    continue
                self._take(str(spec), col)
                self.check_roster(str(spec))

    def _roster_values(self, key: str):
        """The roster's values of column ``key`` for this file's rows (by raw child id), or
        None when the study has no roster or the roster lacks the column."""
        lookup = self.run.roster.column(key) if self.run.roster is not None else None
        if lookup is None or self.design.id not in self.out:
            return None
        raw = self.out[self.design.id]
        if self._norm_ids is None or self._norm_ids[0] is not raw:  # once per file's ids
            self._norm_ids = (raw, [privacy.normalize_id(v) for v in raw.tolist()])
        return pd.Series(pd.array([lookup.get(i) for i in self._norm_ids[1]], dtype=_STR))

    def from_roster(self, key: str) -> bool:
        """A design column the file lacks, taken from the roster (issue 14): roster
        covariates serve every wave. False when the roster does not have it either."""
        values = self._roster_values(key)
        if values is None:
            return False
        self.out[key] = values
        self.header_map[key] = key
        return True

    def check_roster(self, key: str) -> None:
        """A design column in both the file and the roster: a row whose values differ is
        ``ROSTER_CONFLICT`` (an error; the row is quarantined by validation)."""
        roster = self._roster_values(key)
        if roster is None:
            return
        mine = self.out[key]
        both = np.flatnonzero((mine.notna() & roster.notna()).to_numpy())
        if not len(both):
            return
        seen: dict = {}  # the comparison of each distinct pair of values, made once
        for k, a, b in zip(both.tolist(), mine.iloc[both].tolist(), roster.iloc[both].tolist()):
            a, b = str(a).strip(), str(b).strip()
            same = seen.get((a, b))
            if same is None:
                x, y = _number_or_none(a), _number_or_none(b)
                same = seen[a, b] = ((x == y) if x is not None and y is not None
                                     else _norm_label(a) == _norm_label(b))
            if same:
                continue
            self.conflict[k] = True
            self.run.issues.append(Issue(
                "ROSTER_CONFLICT", "error",
                f"{key} is {describe_label(a)} here but {describe_label(b)} in the roster "
                f"({self.run.roster.file}) for the same child; the row is quarantined",
                file=self.name, row=int(self.rows[k]), column=self.header_map.get(key, key),
                value=describe_label(a), expected=f"the roster's {key} ({describe_label(b)}), or "
                f"no {key} column in this file (the roster's is used)"))

    def item_columns(self, src, kind, value_labels) -> dict:
        """Every item column as numbers; returns ``{instrument id: codes mode}`` where decided.

        Per instrument: bad cells are ``LABEL_UNKNOWN`` when the file holds label text,
        else ``VALUE_NOT_NUMERIC``; ``.sav`` value labels may shift the codes; a 问卷星
        按序号 export's option numbers become the instrument's codes.
        """
        nums_missing, text_missing = _missing_sets(self.run.study.missing_codes)
        codes_used = {}
        for use in self.run.study.instruments:
            inst = use.instrument
            numeric_cells, hits = self._convert_items(use, nums_missing, text_missing)
            if value_labels and numeric_cells:
                self._relabel(inst, numeric_cells, value_labels)
            mode, issue = _option_codes(inst, {i: self.out[i] for i in numeric_cells},
                                        getattr(src, "codes", None), kind,
                                        label_text=hits > 0, file=self.name)
            if issue is not None:
                self.run.issues.append(issue)
                self.fatal = self.fatal or issue.severity == "error"
            if mode is not None:
                codes_used[inst.id] = mode
            if mode == "option_index" and inst.response.min != 1:
                shift = float(inst.response.min - 1)
                for item_id, col in numeric_cells.items():
                    self._shift(item_id, col, shift)
        return codes_used

    def _convert_items(self, use, nums_missing, text_missing) -> tuple[dict, int]:
        """One instrument's item columns converted; ``({item id: column}, label matches)``."""
        inst = use.instrument
        lookup = label_lookup(inst)
        pending = []
        numeric_cells = {}
        hits = 0
        for item_id, spec in use.columns.items():
            col = self.resolve(spec)
            if col is None and str(spec) != item_id:
                # A file may name the item by its id (a baseline typed in by hand)
                # while another carries the platform headers that `items:` maps.
                col = self.resolve(item_id)
            if col is None:
                also = f" nor {item_id!r}" if str(spec) != item_id else ""
                self.run.issues.append(Issue(
                    "COLUMN_MISSING", "error",
                    f"the column {str(spec)!r}{also} of item {item_id} ({inst.id}) is not "
                    f"in the file{did_you_mean(spec, self.frame.columns)}", file=self.name, row=1,
                    column=str(spec), expected=f"a column named {str(spec)!r}"))
                self.out[item_id] = np.full(len(self.frame), np.nan)
                continue
            vals, positions, texts, h = _convert_column(self.frame[col], lookup, nums_missing,
                                                        text_missing)
            hits += h
            self.out[item_id] = vals
            numeric_cells[item_id] = col
            if len(positions):
                pending.append((str(col), positions, texts))
            self.used.add(col)
            self.header_map[item_id] = str(col)
        for col, positions, texts in pending:
            self.run.issues.extend(_item_issues(inst, positions, texts, hits > 0, file=self.name,
                                                header=col, rows=self.rows))
        return numeric_cells, hits

    def _relabel(self, inst, numeric_cells: dict, value_labels: dict) -> None:
        """``.sav``/``.dta`` value labels compared with the instrument's; shifted codes fixed."""
        shifts, label_issues = _value_label_codes(inst, numeric_cells, value_labels, file=self.name)
        self.run.issues.extend(label_issues)
        self.fatal = self.fatal or any(i.severity == "error" for i in label_issues)
        for item_id, shift in shifts.items():
            self._shift(item_id, numeric_cells[item_id], shift)

    def _shift(self, item_id: str, col, shift: float) -> None:
        """Add ``shift`` to the item's cells that are numbers (not labels or missing codes)."""
        numbers = self.frame[col].str.strip().str.fullmatch(_NUMBER.pattern).fillna(False)
        self.out[item_id] = np.where(numbers.to_numpy(dtype=bool), self.out[item_id] + shift,
                                     self.out[item_id])

    def outcome_columns(self) -> None:
        """Data-column outcomes: text for now, read as numbers with the covariates."""
        for spec in self.run.outcome_cols:
            if spec in self.out:  # also an item (named by its id) or a covariate
                self.run.outcome_found.add(spec)
                continue
            col = self.resolve(spec)
            if col is None:
                self.missing("outcome", spec, fatal_role=False)
                self.out[spec] = self._empty()
                continue
            self.run.outcome_found.add(spec)
            self._take(spec, col)

    def other_columns(self) -> None:
        """Other columns travel along as text, unless their header looks like personal data
        nobody declared: then they are dropped (values kept for the scanner) and the data
        are not analysed until the study says what they are (``PII_UNDECLARED``)."""
        for c in self.frame.columns:
            if c in self.used or str(c) in self.out:
                continue
            kind = None if _header_key(c) in self.run.not_pii else personal_header(c)
            if kind is not None:
                self.run.issues.append(_undeclared_pii(str(c), kind, self.name))
                self.run.sensitive.add(f"pii:{str(c).strip()}", _distinct(self.frame[c]))
                self.fatal = True
                continue
            self.out[str(c)] = self.frame[c].reset_index(drop=True)
            self.header_map[str(c)] = str(c)

    def to_frame(self) -> pd.DataFrame:
        self.out["_file"] = pd.Series(pd.array([self.name] * len(self.frame), dtype=_STR))
        self.out["_row"] = self.rows.astype(np.int64)
        return pd.DataFrame(self.out)


def _finish(run: _Run) -> IngestResult:
    """Step 8 and 9 of the module docstring, once every file is in: ids linked and
    pseudonymized, covariates read as numbers or text; absent personal columns."""
    study = run.study
    item_order = [iid for use in study.instruments for iid in use.columns]
    data = _stack(run.frames, study, item_order)
    link_issues, flags = link_ids(data, study, run.headers, run.pseudonymizer)
    if run.roster_conflicts and any(c.any() for c in run.roster_conflicts):
        flags = {**flags, "ROSTER_CONFLICT": np.concatenate(run.roster_conflicts)}
    run.issues.extend(link_issues)
    col_issues, column_types = _read_columns(data, study, run.headers)
    run.issues.extend(col_issues)
    if run.files_read:
        program = _program_headers(study)
        for col in study.privacy.pii or ():
            if _header_key(col) not in run.pii_found and _header_key(col) not in program:
                run.issues.append(_absent_pii(str(col), [s["file"] for s in run.sources if s["read"]]))
        if any(c not in run.outcome_found for c in run.outcome_cols):
            run.fatal = True  # an outcome that no file holds: nothing to analyse
    return IngestResult(data, run.sources, run.issues, run.sensitive, run.fatal, run.headers,
                        quarantine=flags, columns=column_types)


# ----------------------------------------------------------------------------- the roster (issue 14)

@dataclass
class RosterLookup:
    """The roster's design columns by raw child id, for the survey data (:mod:`survey.ingest`).

    Roster covariates serve every wave: a design column (arm, clusters, blocks, covariates,
    subgroups) that a wave's survey file lacks is taken from the roster. Lives in memory
    only (it is keyed by raw ids); ids listed twice in the roster are left out (they are
    ``DUPLICATE_ID`` errors of the program data).
    """

    file: str
    values: dict

    def column(self, name: str) -> dict | None:
        """``{normalized raw id: value}`` of a roster column, or None when it has none."""
        return self.values.get(name)


def roster_lookup(study) -> RosterLookup | None:
    """The roster of ``study`` as a :class:`RosterLookup`, or None (no roster, or a roster
    that cannot be read: :func:`read_program_data` reports why).

    Examples
    --------
    >>> roster_lookup(load_study("examples/county-cluster-trial")) is None  # doctest: +SKIP
    True
    """
    src = study.archives.roster if study.archives is not None else None
    if src is None:
        return None
    name = _relative(src.path, study.root)
    try:
        raw = read_table(src.path, encoding=src.encoding, sheet=src.sheet, name=name)
    except DataError:
        return None
    frame, _ = privacy.drop_pii(raw.frame, study.privacy.pii or ())
    aliases = {}
    if src.platform == "wenjuanxing" or wjx.is_wenjuanxing(frame.columns):
        wj = wjx.normalize_wenjuanxing(frame)
        frame, aliases = wj.frame, wj.aliases
    resolve = _resolver(frame.columns, aliases)
    d = study.design
    idcol = resolve(src.columns["id"]) if "id" in src.columns else resolve(d.id)
    if idcol is None:
        idcol = resolve("id")
    if idcol is None:
        return None
    ids = frame[idcol].map(privacy.normalize_id)
    unique = ~ids.duplicated(keep=False) & ids.notna()
    values = {}
    for col in dict.fromkeys(str(c) for c in (d.arm, *d.clusters, d.blocks, *d.covariates,
                                               *d.subgroups) if c):
        found = resolve(src.columns.get(col, col))
        if found is None:
            continue
        values[col] = dict(zip(ids[unique], frame.loc[unique, found]))
    return RosterLookup(name, values)


def file_headers(src) -> list[str]:
    """The headers of a program file (empty when it cannot be read)."""
    try:
        return [str(c) for c in read_table(src.path, encoding=src.encoding, sheet=src.sheet).frame.columns]
    except DataError:
        return []


def _program_headers(study) -> set:
    """Headers of the study's archive tables and contact logs (issue 14): a ``privacy.pii``
    column that only they hold is not absent."""
    archives = getattr(study, "archives", None)
    sources = [*(archives.tables().values() if archives is not None else ()),
               *getattr(study, "contacts", ())]
    if not sources:
        return set()
    return {_header_key(h) for src in sources for h in file_headers(src)}


def _stack(frames, study, item_order) -> pd.DataFrame:
    lead = [str(c) for c in study.design.columns]
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

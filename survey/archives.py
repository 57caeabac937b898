"""Child archives (儿童档案) and the reading of every program file (issue 14).

A study may declare, next to its survey data, tables joined by the child id
(``archives:`` in study.yaml) and contact logs (``contacts:``, :mod:`survey.contact_log`).
They are read like survey data (:func:`survey.readers.read_table`: CSV in UTF-8 or GBK,
XLSX, 问卷星 exports), and kept as private:

1. ``privacy.pii`` columns and the platforms' personal columns (问卷星's ``来自IP``) are
   dropped when the file is read; their values stay in memory only, for the output scan
   (:class:`survey.privacy.SensitiveValues`). A column nobody declared whose header looks
   personal (``家长电话``, ``guardian_name``) is never written either
   (``PII_UNDECLARED`` warning; its values are searched for in the outputs too);
2. only the standard columns (and, for the roster and the parent table, the design's
   columns and those named in ``columns:``) are kept: free-text columns never reach a file;
3. child ids are pseudonymized with the study key like survey ids (``p_...``); mentor and
   guardian ids with the same key in their own namespace (``m_...``, ``g_...``). Every raw
   id is registered for the scan (kind ``raw_id``);
4. every row is validated; a failing row is quarantined (``RUN/quarantine/<table>.csv``:
   ``file, row, column, reason`` and the child's pseudonym, never a raw id or a cell) and
   reported as a :class:`core.errors.Issue` naming the file, the row as a spreadsheet shows
   it (header = row 1, as :mod:`survey.validation` counts), the column as headed in the file
   and what was expected. Nothing is dropped silently; raw files are only read.

The tables written (``RUN/data/archives/<name>.parquet``; ``<id>`` is ``design.id``):

=============  ===============================================================
``roster``     ``<id>`` + the design columns the roster holds (arm, clusters, blocks,
               covariates, subgroups; numeric when the study reads them so) + columns
               named in its ``columns:``
``guardians``  ``<id>``, ``guardian_id``, ``relation``, ``from``, ``to`` (NaT: open),
               ``current`` (bool: ``to`` empty)
``parents``    ``<id>``, ``parent`` (father | mother), ``migrant`` (float 0/1),
               ``call_frequency`` (text) + columns named in its ``columns:``
``mentors``    ``mentor_id``, ``<id>``, ``from``, ``to`` (NaT: open)
=============  ===============================================================

Row rules (code: what is quarantined):

=========================  =====================================================
``ID_MISSING``             a row without a child id
``CHILD_UNKNOWN``          a child id that is not in the study (the roster when one is
                           declared, else the survey data); for the mentor table: a
                           mentor assignment for a child outside the study
``DUPLICATE_ID``           a child twice in the roster (every copy)
``DATE_UNPARSEABLE``       a date that is not a date (:mod:`survey.dates`)
``DATE_ORDER``             ``to`` before ``from``
``GUARDIAN_TWO_CURRENT``   a child with two current guardians (both rows)
``ASSIGNMENT_OVERLAP``     overlapping mentor assignment periods of one child (both)
``GUARDIAN_ID_MISSING``    ``MENTOR_ID_MISSING``: a row without that id
``PARENT_UNKNOWN``         ``parent`` neither father nor mother (父亲/母亲 accepted)
``VALUE_NOT_NUMERIC``      ``migrant`` not 0/1 (是/否, yes/no accepted)
=========================  =====================================================

A file that cannot be read, or that lacks a required column (``COLUMN_MISSING``), makes
the program data fatal (:attr:`ProgramData.fatal`), as a survey file does.

Examples
--------
>>> from survey import load_study                                  # doctest: +SKIP
>>> program = read_program_data(load_study("examples/county-cluster-trial"))  # doctest: +SKIP
>>> program.archives["mentors"].columns.tolist()                   # doctest: +SKIP
['mentor_id', 'student_id', 'from', 'to']
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError, Issue

from . import privacy
from . import wenjuanxing as wjx
from .contact_log import _norm, contact_columns, read_contacts
from .dates import EXPECTED as DATE_EXPECTED
from .dates import parse_dates
from .ingest import (
    _relative,
    _resolver,
    describe_cell,
    describe_label,
    looks_like_free_text,
    personal_header,
)
from .readers import _STR, read_table
from .study import ARCHIVE_TABLES

__all__ = ["QUARANTINE_COLUMNS", "ProgramData", "archive_columns", "read_program_data",
           "validate_program_data", "write_program_data"]

QUARANTINE_COLUMNS = ("file", "row", "column", "reason")
"""The first columns of ``RUN/quarantine/<table>.csv``; the child's pseudonym follows
(under ``design.id``), empty when the id itself is the problem."""

_PARENT = {"father": "father", "dad": "father", "父亲": "father", "爸爸": "father", "父": "father",
           "mother": "mother", "mom": "mother", "mum": "mother", "母亲": "mother", "妈妈": "mother",
           "母": "mother"}
_YES_NO = {"1": 1.0, "0": 0.0, "是": 1.0, "否": 0.0, "yes": 1.0, "no": 0.0, "true": 1.0,
           "false": 0.0, "y": 1.0, "n": 0.0}


def archive_columns(name: str, id_column: str) -> list[str]:
    """The contract columns of archive table ``name`` (those always present).

    Examples
    --------
    >>> archive_columns("mentors", "sid")
    ['mentor_id', 'sid', 'from', 'to']
    """
    return {"roster": [id_column],
            "guardians": [id_column, "guardian_id", "relation", "from", "to", "current"],
            "parents": [id_column, "parent", "migrant", "call_frequency"],
            "mentors": ["mentor_id", id_column, "from", "to"]}[name]


@dataclass
class ProgramFile:
    """One program file as read: the standard columns it has, as text."""

    name: str
    table: str
    frame: pd.DataFrame
    rows: np.ndarray
    headers: dict
    serial_dates: bool


@dataclass
class ProgramData:
    """The program's archives and contact logs, read, validated and pseudonymized.

    Attributes
    ----------
    contacts : pandas.DataFrame or None
        The contact log (:mod:`survey.contact_log`); None when the study declares none.
    archives : dict
        ``{name: DataFrame}`` of the declared archive tables (module docstring).
    quarantine : dict
        ``{table: DataFrame}``: ``file, row, column, reason, <design.id>`` per problem.
    issues : list of core.errors.Issue
    sources : list of dict
        Per file: ``file``, ``table``, ``format``, ``encoding``, ``sheet``, ``platform``,
        ``rows``, ``sha256``, ``read``.
    sensitive : survey.privacy.SensitiveValues
        Raw ids and personal values read (memory only).
    fatal : bool
        A file could not be read or lacks a required column.
    id_column : str
        ``design.id``.
    """

    contacts: pd.DataFrame | None
    archives: dict
    quarantine: dict
    issues: list
    sources: list
    sensitive: object
    fatal: bool
    id_column: str
    rows_read: dict = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        """Whether the study declares any program data."""
        return self.contacts is not None or bool(self.archives)

    def counts(self) -> dict:
        """``{table: {"rows_read", "rows_clean", "rows_quarantined"}}`` and the issue counts,
        for the manifest's validation step."""
        out = {}
        tables = {**({"contacts": self.contacts} if self.contacts is not None else {}), **self.archives}
        for name, frame in tables.items():
            q = self.quarantine.get(name)
            bad_rows = 0 if q is None or q.empty else len(q[["file", "row"]].drop_duplicates())
            out[name] = {"rows_read": int(self.rows_read.get(name, 0)), "rows_clean": int(len(frame)),
                         "rows_quarantined": int(bad_rows)}
        return {"tables": out,
                "errors": sum(i.severity == "error" for i in self.issues),
                "warnings": sum(i.severity == "warning" for i in self.issues)}


class ProgramRun:
    """What reading the program files of one study collects (issues, quarantine, sources)."""

    def __init__(self, study, *, pseudonymizer=None, sensitive=None, today=None):
        self.study = study
        self.id_column = str(study.design.id)
        self.pseudonymizer = pseudonymizer or privacy.Pseudonymizer(
            privacy.load_or_create_key(Path(study.root)))
        self.sensitive = sensitive if sensitive is not None else privacy.SensitiveValues()
        self.today = today or _dt.date.today()
        self.issues: list[Issue] = []
        self.sources: list[dict] = []
        self.quarantine: dict[str, list[dict]] = {}
        self.rows_read: dict[str, int] = {}
        self.fatal = False
        self.not_pii = {str(c).strip().casefold() for c in study.privacy.not_pii or ()}

    # ------------------------------------------------------------------ reading
    def open(self, src, table: str, standard: tuple, required: tuple,
             extra: tuple = ()) -> ProgramFile | None:
        """Read ``src`` and keep its ``standard`` (and ``extra``) columns as text.

        ``required`` columns that the file lacks are ``COLUMN_MISSING`` (fatal). The
        other columns are dropped; one whose header looks personal is reported and its
        values kept for the scan.
        """
        name = _relative(src.path, self.study.root)
        info = {"file": name, "table": table, "format": src.format, "encoding": None,
                "sheet": None, "platform": None, "rows": 0, "sha256": None, "read": False}
        self.sources.append(info)
        try:
            raw = read_table(src.path, encoding=src.encoding, sheet=src.sheet, name=name)
        except DataError as err:
            self.issues.append(Issue(err.code, "error", err.message, file=err.file or name,
                                     row=err.row, column=err.column))
            self.fatal = True
            return None
        info.update(format=raw.format, encoding=raw.encoding, sheet=raw.sheet, sha256=raw.sha256,
                    rows=len(raw.frame), read=True)
        self.issues.extend(raw.issues)
        self.rows_read[table] = self.rows_read.get(table, 0) + len(raw.frame)
        frame, dropped = privacy.drop_pii(raw.frame, self.study.privacy.pii or ())
        personal = dropped + [c for c in frame.columns if str(c).strip() in wjx.PERSONAL_COLUMNS]
        for c in personal:
            self.sensitive.add(f"pii:{str(c).strip()}", _distinct(raw.frame[c]))
        frame = frame.drop(columns=[c for c in personal if c in frame.columns])
        platform = src.platform or ("wenjuanxing" if wjx.is_wenjuanxing(frame.columns) else None)
        aliases = {}
        if platform == "wenjuanxing":
            wj = wjx.normalize_wenjuanxing(frame)
            frame, aliases = wj.frame, wj.aliases
        info["platform"] = platform
        resolve = _resolver(frame.columns, aliases)
        out, headers = {}, {}
        missing = []
        for col in (*standard, *extra):
            spec = src.columns.get(col)
            if spec is None and col == "id":
                found = resolve(self.id_column)
                found = found if found is not None else resolve("id")
            else:
                found = resolve(spec if spec is not None else col)
            if found is None:
                if col in required:
                    missing.append(spec if spec is not None else
                                   (self.id_column if col == "id" else col))
                continue
            out[col] = frame[found].reset_index(drop=True)
            headers[col] = str(found)
        for header in missing:
            from core.suggest import did_you_mean

            self.issues.append(Issue(
                "COLUMN_MISSING", "error", f"the {table} column {header!r} is not in the file"
                f"{did_you_mean(header, [str(c) for c in frame.columns])}; name it in study.yaml "
                f"with columns: {{standard name: header}} if it is headed otherwise", file=name,
                row=1, column=str(header), expected=f"a column named {header!r}"))
        if missing:
            self.fatal = True
            return None
        used = set(headers.values())
        for c in frame.columns:
            if str(c) in used or str(c).strip().casefold() in self.not_pii:
                continue
            kind = personal_header(c)
            if kind is not None:
                self.sensitive.add(f"pii:{str(c).strip()}", _distinct(frame[c]))
                self.issues.append(Issue(
                    "PII_UNDECLARED", "warning",
                    f"column {str(c)!r} looks like personal data ({kind}); it is not read and never "
                    f"written. List it in privacy.pii so that every output is searched for its "
                    f"values (or in privacy.not_pii if it is harmless)", file=name, row=1,
                    column=str(c), expected=f"{str(c)!r} listed in privacy.pii or privacy.not_pii"))
        data = pd.DataFrame({c: (s.astype(_STR) if s.dtype != _STR else s) for c, s in out.items()})
        data.index = pd.RangeIndex(len(raw.frame))
        return ProgramFile(name, table, data, np.asarray(raw.row_numbers, dtype=np.int64), headers,
                           serial_dates=raw.format == "xlsx")

    # ------------------------------------------------------------------ problems
    def problem(self, pf: ProgramFile, mask, column: str, code: str, message, expected: str,
                pseudonyms=None, values=None) -> np.ndarray:
        """Report and quarantine the rows of ``mask``; ``message`` is text or ``f(k)``."""
        mask = np.array(mask, dtype=bool)  # a writable copy: callers combine masks in place
        header = pf.headers.get(column, column)
        q = self.quarantine.setdefault(pf.table, [])
        for k in np.flatnonzero(mask):
            msg = message(k) if callable(message) else message
            pid = None if pseudonyms is None else pseudonyms[k]
            pid = None if pid is None or (isinstance(pid, float) and np.isnan(pid)) else str(pid)
            self.issues.append(Issue(code, "error", msg, file=pf.name, row=int(pf.rows[k]),
                                     column=header, value=None if values is None else values[k],
                                     expected=expected))
            q.append({"file": pf.name, "row": int(pf.rows[k]), "column": header,
                      "reason": f"{code}: {msg}", self.id_column: pid})
        return mask

    def child_ids(self, pf: ProgramFile) -> tuple[pd.Series, np.ndarray]:
        """The child ids of a file pseudonymized (raw ids registered); rows without one are
        ``ID_MISSING``. Returns ``(pseudonyms, bad rows)``."""
        raw = pf.frame["id"]
        self.sensitive.add("raw_id", _distinct(raw))
        pseud = self.pseudonymizer.pseudonymize_series(raw)
        bad = self.problem(pf, pseud.isna().to_numpy(), "id", "ID_MISSING", "the child id is empty",
                           "a child id")
        return pseud, bad

    def other_ids(self, pf: ProgramFile, column: str, namespace: str, *, required: bool,
                  pseudonyms) -> tuple[pd.Series, np.ndarray]:
        """Mentor or guardian ids pseudonymized in their namespace (raw ids registered)."""
        if column not in pf.frame:
            return pd.Series(pd.array([None] * len(pf.frame), dtype=_STR)), np.zeros(len(pf.frame), bool)
        raw = pf.frame[column]
        self.sensitive.add("raw_id", _distinct(raw))
        pseud = self.pseudonymizer.pseudonymize_series(raw, namespace=namespace)
        bad = np.zeros(len(pf.frame), dtype=bool)
        if required:
            bad = self.problem(pf, pseud.isna().to_numpy(), column,
                               f"{namespace.upper()}_ID_MISSING", f"the {namespace} id is empty",
                               f"a {namespace} id", pseudonyms=pseudonyms)
        return pseud, bad

    def known_children(self, pf: ProgramFile, pseud: pd.Series, known, skip, what: str) -> np.ndarray:
        """``CHILD_UNKNOWN`` for ids outside ``known`` (None: no check)."""
        if known is None:
            return np.zeros(len(pseud), dtype=bool)
        bad = ~pseud.isin(known).to_numpy() & ~skip
        return self.problem(pf, bad, "id", "CHILD_UNKNOWN",
                            lambda k: f"child {pseud.iloc[k]} is not in the study: {what}",
                            f"a child id of the study ({self.study_children_source})",
                            pseudonyms=pseud, values=pseud.to_numpy(dtype=object))

    study_children_source = "the survey data"

    def dates(self, pf: ProgramFile, column: str, pseud, *, required: bool) -> tuple[pd.Series, np.ndarray]:
        """A date column parsed (:mod:`survey.dates`); unparseable (and, when ``required``,
        empty) cells are ``DATE_UNPARSEABLE``."""
        n = len(pf.frame)
        if column not in pf.frame:
            return pd.Series(np.full(n, np.datetime64("NaT", "ns"))), np.zeros(n, dtype=bool)
        days, why = parse_dates(pf.frame[column], serial=pf.serial_dates)
        reasons = why.to_numpy(dtype=object)
        bad_mask = why.notna().to_numpy()
        if required:
            empty = pf.frame[column].isna().to_numpy() & ~bad_mask
            reasons = np.where(empty, "the date is empty", reasons)
            bad_mask = bad_mask | empty
        bad = self.problem(pf, bad_mask, column, "DATE_UNPARSEABLE",
                           lambda k: f"{column}: {reasons[k]}", DATE_EXPECTED, pseudonyms=pseud)
        return days, bad

    def quarantine_frames(self) -> dict:
        cols = [*QUARANTINE_COLUMNS, self.id_column]
        out = {}
        for table, rows in self.quarantine.items():
            if not rows:
                continue
            q = pd.DataFrame(rows, columns=cols)
            q["row"] = q["row"].astype("int64")
            for c in cols:
                if c != "row":
                    q[c] = q[c].astype(_STR)
            out[table] = q.sort_values(["file", "row"], kind="stable").reset_index(drop=True)
        return out


def _distinct(series: pd.Series) -> list:
    return series.dropna().unique().tolist()


def _empty_frame(columns: list[str], dtypes: dict | None = None) -> pd.DataFrame:
    dtypes = dtypes or {}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, _STR)) for c in columns})


# ---------------------------------------------------------------------- the archive tables

def _roster(run: ProgramRun, src) -> tuple[pd.DataFrame, set | None]:
    """The roster: one row per child; returns ``(frame, pseudonyms of its children)``."""
    study = run.study
    d = study.design
    design_cols = [str(c) for c in (d.arm, *d.clusters, d.blocks, *d.covariates, *d.subgroups) if c]
    mapped = [c for c in src.columns if c != "id"]
    extra = tuple(dict.fromkeys(design_cols + mapped))
    pf = run.open(src, "roster", ("id",), ("id",), extra=extra)
    idc = run.id_column
    if pf is None:
        return _empty_frame([idc]), None
    pseud, bad = run.child_ids(pf)
    dup = pseud.duplicated(keep=False).to_numpy() & ~bad
    run.problem(pf, dup, "id", "DUPLICATE_ID",
                lambda k: f"child {pseud.iloc[k]} is listed more than once in the roster; every "
                          "copy quarantined", "one row per child", pseudonyms=pseud)
    keep = ~(bad | dup)
    out = pd.DataFrame({idc: pseud})
    for c in extra:
        if c in pf.frame:
            col = pf.frame[c]
            kind = study.column_type(c)
            numbers = pd.to_numeric(col.str.strip(), errors="coerce")
            if kind == "numeric" or (kind is None and c in study.design.covariates
                                     and numbers.notna().sum() == col.notna().sum() > 0):
                col = numbers.astype("float64")  # as survey.ingest reads covariates
            out[c] = col
    return out.loc[keep].reset_index(drop=True), set(pseud[~bad].dropna())


def _guardians(run: ProgramRun, src, known) -> pd.DataFrame:
    idc = run.id_column
    pf = run.open(src, "guardians", ("id", "guardian_id", "relation", "from", "to"),
                  ("id", "guardian_id"))
    if pf is None:
        return _empty_frame(archive_columns("guardians", idc), _DATE_TYPES | {"current": "bool"})
    pseud, bad = run.child_ids(pf)
    gid, bad_g = run.other_ids(pf, "guardian_id", "guardian", required=True, pseudonyms=pseud)
    unknown = run.known_children(pf, pseud, known, bad, "a guardian of a child the study does not have")
    start, bad_f = run.dates(pf, "from", pseud, required=False)
    end, bad_t = run.dates(pf, "to", pseud, required=False)
    order = _order(run, pf, start, end, pseud, bad_f | bad_t)
    bad_all = bad | bad_g | unknown | bad_f | bad_t | order
    raw_to = pf.frame["to"] if "to" in pf.frame else pd.Series([None] * len(pf.frame), dtype=_STR)
    current = raw_to.isna().to_numpy() & ~bad_all
    current_ids = pseud[current]
    two = current & pseud.isin(current_ids[current_ids.duplicated()]).to_numpy()
    run.problem(pf, two, "to", "GUARDIAN_TWO_CURRENT",
                lambda k: f"child {pseud.iloc[k]} has more than one current guardian (rows with an "
                          "empty to); every such row quarantined",
                "one current guardian per child (give the earlier guardian's end date in to)",
                pseudonyms=pseud)
    relation = pf.frame["relation"] if "relation" in pf.frame else pd.Series([None] * len(pf.frame), dtype=_STR)
    relation = _labels(run, pf, relation, "relation")
    out = pd.DataFrame({idc: pseud, "guardian_id": gid, "relation": relation, "from": start,
                        "to": end, "current": end.isna().to_numpy()})
    return out.loc[~(bad_all | two)].reset_index(drop=True)


def _parents(run: ProgramRun, src, known) -> pd.DataFrame:
    idc = run.id_column
    mapped = tuple(c for c in src.columns if c not in ("id", "parent", "migrant", "call_frequency"))
    pf = run.open(src, "parents", ("id", "parent", "migrant", "call_frequency"), ("id",), extra=mapped)
    if pf is None:
        return _empty_frame(archive_columns("parents", idc), {"migrant": "float64"})
    pseud, bad = run.child_ids(pf)
    unknown = run.known_children(pf, pseud, known, bad, "a parent of a child the study does not have")
    n = len(pf.frame)
    parent = pd.Series(pd.array([None] * n, dtype=_STR))
    bad_p = np.zeros(n, dtype=bool)
    if "parent" in pf.frame:
        texts = pf.frame["parent"]
        mapped_p = texts.map(lambda v: _PARENT.get(_norm(v)) if isinstance(v, str) else None)
        bad_p = run.problem(pf, (texts.notna() & mapped_p.isna()).to_numpy(), "parent",
                            "PARENT_UNKNOWN", lambda k: f"parent ({describe_label(texts.iloc[k])}) is "
                            "neither father nor mother", "father or mother (父亲 or 母亲)",
                            pseudonyms=pseud)
        parent = mapped_p.astype(_STR)
    migrant = np.full(n, np.nan)
    bad_m = np.zeros(n, dtype=bool)
    if "migrant" in pf.frame:
        texts = pf.frame["migrant"]
        vals = texts.map(lambda v: _YES_NO.get(_norm(v), np.nan) if isinstance(v, str) else np.nan)
        migrant = vals.to_numpy(dtype=float)
        bad_m = run.problem(pf, (texts.notna() & np.isnan(migrant)).to_numpy(), "migrant",
                            "VALUE_NOT_NUMERIC", lambda k: f"migrant ({describe_cell(texts.iloc[k])}) "
                            "is not 0 or 1", "1 (works away from home) or 0; 是/否 accepted",
                            pseudonyms=pseud)
    out = pd.DataFrame({idc: pseud, "parent": parent, "migrant": migrant})
    calls = pf.frame["call_frequency"] if "call_frequency" in pf.frame else pd.Series([None] * n, dtype=_STR)
    out["call_frequency"] = _labels(run, pf, calls, "call_frequency")
    for c in mapped:
        if c in pf.frame:
            out[c] = _labels(run, pf, pf.frame[c], c)
    return out.loc[~(bad | unknown | bad_p | bad_m)].reset_index(drop=True)


def _mentors(run: ProgramRun, src, known) -> pd.DataFrame:
    idc = run.id_column
    pf = run.open(src, "mentors", ("mentor_id", "id", "from", "to"), ("mentor_id", "id"))
    if pf is None:
        return _empty_frame(archive_columns("mentors", idc), _DATE_TYPES)
    pseud, bad = run.child_ids(pf)
    mid, bad_m = run.other_ids(pf, "mentor_id", "mentor", required=True, pseudonyms=pseud)
    unknown = run.known_children(pf, pseud, known, bad,
                                 "a mentor assignment for a child outside the study")
    start, bad_f = run.dates(pf, "from", pseud, required=False)
    end, bad_t = run.dates(pf, "to", pseud, required=False)
    order = _order(run, pf, start, end, pseud, bad_f | bad_t)
    ok = ~(bad | bad_m | unknown | bad_f | bad_t | order)
    overlap = _overlaps(pseud, start, end, ok)
    run.problem(pf, overlap, "from", "ASSIGNMENT_OVERLAP",
                lambda k: f"the mentor assignment periods of child {pseud.iloc[k]} overlap (one "
                          "child, two mentors at once); every overlapping row quarantined",
                "periods of one child that do not overlap (to of one before from of the next)",
                pseudonyms=pseud)
    out = pd.DataFrame({"mentor_id": mid, idc: pseud, "from": start, "to": end})
    return out.loc[ok & ~overlap].reset_index(drop=True)


_DATE_TYPES = {"from": "datetime64[ns]", "to": "datetime64[ns]"}


def _order(run, pf, start, end, pseud, skip) -> np.ndarray:
    bad = (start.notna() & end.notna() & (end < start)).to_numpy() & ~skip
    return run.problem(pf, bad, "to", "DATE_ORDER",
                       lambda k: f"the period ends ({end.iloc[k].date()}) before it starts "
                                 f"({start.iloc[k].date()})", "to on or after from",
                       pseudonyms=pseud)


def _overlaps(pseud: pd.Series, start: pd.Series, end: pd.Series, ok: np.ndarray) -> np.ndarray:
    """Rows whose period overlaps another period of the same child (inclusive ranges; an
    empty from or to is open)."""
    lo = start.fillna(pd.Timestamp.min).to_numpy()
    hi = end.fillna(pd.Timestamp.max).to_numpy()
    out = np.zeros(len(pseud), dtype=bool)
    idx = np.flatnonzero(ok)
    groups = pd.Series(idx).groupby(pseud.to_numpy(dtype=object)[idx]).apply(list) if len(idx) else []
    for rows in (groups if len(idx) else []):
        if len(rows) < 2:
            continue
        rows = sorted(rows, key=lambda k: lo[k])
        for a_pos, a in enumerate(rows):
            for b in rows[a_pos + 1:]:
                if lo[b] > hi[a]:
                    break
                out[a] = out[b] = True
    return out


def _labels(run: ProgramRun, pf: ProgramFile, values: pd.Series, column: str) -> pd.Series:
    """A text column kept as short labels: a cell that looks like free text (a name, a phone
    number) is set to missing with a ``FREE_TEXT_CATEGORY`` warning (never quoted)."""
    values = values.astype(_STR)
    free = values.map(lambda v: isinstance(v, str) and looks_like_free_text(v)).to_numpy(dtype=bool)
    for k in np.flatnonzero(free):
        run.issues.append(Issue(
            "FREE_TEXT_CATEGORY", "warning",
            f"the cell ({describe_cell(values.iloc[k])}) looks like free text, not a label; set to "
            "missing (it is never written)", file=pf.name, row=int(pf.rows[k]),
            column=pf.headers.get(column, column), expected="a short label"))
    if free.any():
        run.sensitive.add(f"pii:{pf.headers.get(column, column)}", values[free].tolist())
        values = values.mask(pd.Series(free, index=values.index))
    return values


# ---------------------------------------------------------------------- all program data

def read_program_data(study, *, survey_ids=None, pseudonymizer=None, sensitive=None,
                      today: _dt.date | None = None) -> ProgramData:
    """Read, validate and pseudonymize a study's archives and contact logs.

    Parameters
    ----------
    study : survey.study.Study
    survey_ids : iterable of str, optional
        Pseudonyms of the children in the survey data (validated rows): the study's
        children when no roster is declared (without either, ids are not checked).
    pseudonymizer : survey.privacy.Pseudonymizer, optional
        Default: one with the study's key.
    sensitive : survey.privacy.SensitiveValues, optional
        Where raw ids and personal values go (default: a new one, in the result).
    today : datetime.date, optional
        Contacts after this day are ``DATE_FUTURE`` (default: today).

    Returns
    -------
    ProgramData
    """
    run = ProgramRun(study, pseudonymizer=pseudonymizer, sensitive=sensitive, today=today)
    known = None if survey_ids is None else set(survey_ids)
    archives: dict[str, pd.DataFrame] = {}
    tables = study.archives.tables() if study.archives is not None else {}
    if "roster" in tables:
        archives["roster"], roster_ids = _roster(run, tables["roster"])
        if roster_ids is not None:
            known = roster_ids
            run.study_children_source = "the roster"
    readers = {"guardians": _guardians, "parents": _parents, "mentors": _mentors}
    for name in ARCHIVE_TABLES:
        if name in tables and name != "roster":
            archives[name] = readers[name](run, tables[name], known)
    contacts = None
    if study.contacts:
        contacts = read_contacts(run, study.contacts, known)
        contacts = contacts[contact_columns(run.id_column)]
    return ProgramData(contacts, archives, run.quarantine_frames(), run.issues, run.sources,
                       run.sensitive, run.fatal, run.id_column, rows_read=dict(run.rows_read))


def validate_program_data(study, result, *, today: _dt.date | None = None) -> ProgramData | None:
    """Read the program data next to validated survey data and add them to the validation.

    The children of the study are the survey data's (``result.data``) unless a roster says
    otherwise; the issues and sources are appended to ``result`` (so that ``report.json``
    and the summary show them), raw values go to ``result.sensitive`` (the output scan),
    and an unreadable program file makes ``result.fatal``. None (``result`` untouched) for
    a study without archives or contact logs. The one entry point of ``workbench run``
    and ``workbench validate``.

    Parameters
    ----------
    study : survey.study.Study
    result : survey.validation.ValidationResult
    today : datetime.date, optional

    Returns
    -------
    ProgramData or None
    """
    if getattr(study, "archives", None) is None and not getattr(study, "contacts", ()):
        return None
    idc = study.design.id
    ids = result.data[idc].dropna().unique().tolist() if len(result.data) else []
    program = read_program_data(study, survey_ids=ids, sensitive=result.sensitive, today=today)
    result.issues.extend(program.issues)
    result.sources = [*result.sources, *program.sources]
    result.fatal = bool(result.fatal or program.fatal)
    return program


def write_program_data(program: ProgramData, run_dir) -> list[Path]:
    """Write ``data/contacts.parquet``, ``data/archives/<name>.parquet`` and
    ``quarantine/<table>.csv`` into the run folder (atomically); returns the paths.

    Nothing is written for a study without program data.
    """
    from core.atomic import write_with

    from .spreadsheet import write_csv

    run_dir = Path(run_dir)
    written = []

    def parquet(frame: pd.DataFrame, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))
        written.append(path)

    if program.contacts is not None:
        parquet(program.contacts, run_dir / "data" / "contacts.parquet")
    for name, frame in program.archives.items():
        parquet(frame, run_dir / "data" / "archives" / f"{name}.parquet")
    for table, q in program.quarantine.items():
        path = run_dir / "quarantine" / f"{table}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(q, path, bom=True)
        written.append(path)
    return written

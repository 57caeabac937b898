"""Validate a study's data: collect every problem, quarantine rows that cannot be used.

:func:`validate` reads the data (:func:`survey.ingest.read_study_data`) and applies
the rules below. Every finding is an :class:`core.errors.Issue` naming the file
(relative to the study folder), the spreadsheet row (header = 1), the column as
headed in the file, the value and what was expected. Ids are shown as pseudonyms.

Rules (code, severity, consequence):

====================== ======== ===============================================
``FILE_*``             error    the file is not read (see :mod:`survey.readers`)
``COLUMN_MISSING``     error    design/covariate/subgroup/item column absent
``LABEL_UNKNOWN``      error    item text that is not an answer label -> NaN
``VALUE_NOT_NUMERIC``  error    item text, or a cell of a numeric outcome or
                                covariate, that is not a number -> NaN (row kept)
``PII_UNDECLARED``     error    a header that looks like personal data, not in
                                ``privacy.pii``/``not_pii``: dropped, fatal
``PII_COLUMN_ABSENT``  warning  a ``privacy.pii`` column no file has
``CODES_OPTION_INDEX`` warning  问卷星 option numbers read as codes (min + n - 1)
``CODES_AMBIGUOUS``    error    option numbers or codes? ``data[].codes`` needed; fatal
``VALUE_OUT_OF_RANGE`` error    item outside the response scale, covariate or
                                outcome outside its range -> NaN
``CODES_RELABELED``    warning  .sav codes shifted to the instrument's labels
``VALUE_LABELS_CONFLICT`` error .sav labels contradict the instrument; fatal
``FREE_TEXT_CATEGORY`` warning  a category level that looks like free text
``ID_MISSING``         error    row quarantined
``ID_DATE``            error    an id Excel turned into a date: row quarantined
``ID_LOOSE_MATCH``     warning  ids linked after normalization (counts)
``ID_LOOSE_AMBIGUOUS`` warning  loosely equal ids not linked (one wave has both)
``ID_LINK_LOW``        error    < half of the children link across waves; fatal
``DESIGN_VALUE_MISSING`` error  empty wave/arm/cluster/block: row quarantined
``WAVE_UNDECLARED``    error    row quarantined (says when only case/spaces differ)
``ARM_UNDECLARED``     error    row quarantined (says when only case/spaces differ)
``ARM_LABEL_SUSPECT``  warning  no design.arms: a tiny arm like a typo of another
``ARM_CONTROL_ABSENT`` error    no row carries the control arm's label
``DUPLICATE_ID``       error    same respondent twice in a wave: all copies quarantined
``ASSIGNMENT_CHANGED`` error    arm/cluster/block differs between a respondent's
                                rows: all the respondent's rows quarantined
``ROSTER_CONFLICT``   error    a design column a file and the roster (``archives.roster``)
                                both hold, with different values: row quarantined
                                (a column the file lacks is taken from the roster)
``STRAIGHT_LINING``    warning  same answer to every item of a scale with
                                reverse-keyed items (row kept)
====================== ======== ===============================================

Arms are "declared" by ``design.control`` plus, when the design lists them,
``design.arms`` (:attr:`survey.study.Study.arms`); without such a list every observed
arm label is accepted unless it differs from the control label (or from a more
frequent label) only by case or spaces, and a label held by fewer than ``min_cell``
children within two edits of a larger arm's is ``ARM_LABEL_SUSPECT``.

Messages never quote a cell that may hold personal data (``docs/error-codes.md``,
"What messages show of a cell"): :func:`survey.ingest.describe_cell` and
:func:`survey.ingest.describe_label`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.atomic import write_bytes
from core.errors import Issue
from core.suggest import did_you_mean

from .ingest import _norm_label, describe_label, describe_number, read_study_data

_EXAMPLES = 3


@dataclass
class ValidationResult:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    data : pandas.DataFrame
        Clean rows (ingested-data contract); bad item values set to NaN.
    quarantine : pandas.DataFrame
        Quarantined rows: ``_file``, ``_row``, ``reasons`` (codes joined by ``"; "``),
        then the row's columns that the study declares (id pseudonym, wave, arm,
        clusters, blocks, covariates, subgroups, data-column outcomes, items).
        Undeclared columns (free text, platform metadata) are never copied: they may
        hold personal data nobody declared; their names are listed in
        ``omitted_columns`` and in ``report.json``. The file and row locate the raw row.
    issues : list of Issue
    sources : list of dict
        As :attr:`survey.ingest.IngestResult.sources`.
    sensitive : survey.privacy.SensitiveValues
        Raw personal values and raw ids, for the output scanner (never written).
    fatal : bool
        A file could not be read, a design column is missing, or the data may not be
        analysed yet (see :attr:`survey.ingest.IngestResult.fatal`).
    study_id : str
    rows_read : int
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    issues: list
    sources: list
    sensitive: object
    fatal: bool
    study_id: str = ""
    rows_read: int = 0
    omitted_columns: tuple = ()
    columns: dict = field(default_factory=dict)
    _by_code: dict = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> int:
        """Number of error issues."""
        return sum(i.severity == "error" for i in self.issues)

    @property
    def warnings(self) -> int:
        """Number of warning issues."""
        return sum(i.severity == "warning" for i in self.issues)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.errors == 0

    def counts_by_code(self) -> dict:
        """``{code: {"severity": ..., "count": n}}`` in order of first appearance."""
        out: dict = {}
        for i in self.issues:
            entry = out.setdefault(i.code, {"severity": i.severity, "count": 0})
            entry["count"] += 1
        return out

    def report(self) -> dict:
        """The JSON-ready report: study id, counts, sources (encodings, hashes), every issue.

        Examples
        --------
        >>> res = validate(study)                  # doctest: +SKIP
        >>> res.report()["counts"]["errors"]       # doctest: +SKIP
        0
        """
        return {
            "study": self.study_id,
            "ok": self.ok,
            "fatal": bool(self.fatal),
            "counts": {"rows_read": int(self.rows_read), "rows_clean": int(len(self.data)),
                       "rows_quarantined": int(len(self.quarantine)),
                       "quarantine_columns_omitted": list(self.omitted_columns),
                       "errors": self.errors, "warnings": self.warnings},
            "by_code": self.counts_by_code(),
            "sources": [dict(s) for s in self.sources],
            "columns": {c: dict(v) for c, v in self.columns.items()},
            "issues": [_jsonable(i.to_dict()) for i in self.issues],
        }

    def summary(self) -> str:
        """Readable summary, grouped by code, with the first few examples of each."""
        lines = [f"Validation of study {self.study_id!r}: {len(self.sources)} file(s), "
                 f"{self.rows_read} rows read, {len(self.data)} clean, "
                 f"{len(self.quarantine)} quarantined.",
                 f"{self.errors} error(s), {self.warnings} warning(s)."]
        lines.append("")
        lines.append("Files:")
        for s in self.sources:
            if s.get("read"):
                enc = f" {s['encoding']}" if s.get("encoding") else ""
                sheet = f" sheet {s['sheet']!r}" if s.get("sheet") else ""
                plat = f" {s['platform']} ({s['kind']})" if s.get("platform") else ""
                codes = "".join(f", {iid} read as {mode.replace('_', ' ')}"
                                for iid, mode in (s.get("codes") or {}).items())
                lines.append(f"  {s['file']}: {s['format']}{enc}{sheet}{plat}, {s['rows']} rows, "
                             f"sha256 {s['sha256'][:12]}{codes}")
            else:
                lines.append(f"  {s['file']}: NOT READ")
        if self.columns:
            lines.append("")
            lines.append("Columns:")
            for c, how in self.columns.items():
                rng = ""
                if how.get("min") is not None or how.get("max") is not None:
                    lo, hi = how.get("min"), how.get("max")
                    rng = f", range {'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"
                why = {"inferred": f"inferred: {how['numbers']} of {how['numbers'] + how['text']} "
                                   "cells are numbers", "declared": "declared in columns:",
                       "outcome": "an outcome column", "subgroup": "a subgroup"}.get(how["how"], "")
                lines.append(f"  {c}: {how['type']} ({why}{rng})")
        groups: dict[str, list] = {}
        for i in self.issues:
            groups.setdefault(i.code, []).append(i)
        for code, items in groups.items():
            lines.append("")
            lines.append(f"{items[0].severity} {code} ({len(items)}):")
            for i in items[:_EXAMPLES]:
                lines.append("  " + _issue_line(i))
            if len(items) > _EXAMPLES:
                lines.append(f"  ... and {len(items) - _EXAMPLES} more (see report.json)")
        if not self.issues:
            lines.append("")
            lines.append("No problems found.")
        return "\n".join(lines)

    def write(self, folder) -> dict:
        """Write ``report.json`` and ``quarantine.csv`` into ``folder`` atomically.

        Each file is written to a temporary file in the same folder, then moved
        into place with :func:`os.replace`, so a reader never sees half a file.
        ``quarantine.csv`` is UTF-8 with a BOM (so Excel shows Chinese text) and
        text cells that start with ``= + - @`` are neutralized.

        Returns
        -------
        dict
            ``{"report": Path, "quarantine": Path}``
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        report = json.dumps(self.report(), ensure_ascii=False, indent=2)
        rpath = folder / "report.json"
        write_bytes(rpath, report.encode("utf-8"))
        from .spreadsheet import write_csv

        qpath = folder / "quarantine.csv"
        # write_csv neutralizes formulas and writes a bare CR inside text as LF (quoted),
        # which pandas' own to_csv leaves unquoted, splitting the record in spreadsheets
        write_csv(self.quarantine, qpath, bom=True)
        return {"report": rpath, "quarantine": qpath}


def _issue_line(i: Issue) -> str:
    where = ", ".join(p for p in (i.file, f"row {i.row}" if i.row else None,
                                  f"column {i.column!r}" if i.column else None) if p)
    exp = f" (expected {i.expected})" if i.expected else ""
    return f"{where + ': ' if where else ''}{i.message}{exp}"


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        out[k] = v
    return out


# ----------------------------------------------------------------------------- rules

class _Checker:
    """Holds the data and accumulates issues and quarantine masks."""

    def __init__(self, study, ing):
        self.study = study
        self.design = study.design
        self.data = ing.data
        self.headers = ing.headers
        self.issues: list[Issue] = []
        self.link_low = False
        self.quarantine: dict[str, np.ndarray] = {}
        n = len(self.data)
        self.files = self.data["_file"].to_numpy(dtype=object) if n else np.array([], object)
        self.rows = self.data["_row"].to_numpy() if n else np.array([], np.int64)
        # design columns a file lacks (already reported as COLUMN_MISSING): its rows are
        # quarantined without one more issue per row
        self.absent: dict[str, set] = {}
        for i in ing.issues:
            if i.code == "COLUMN_MISSING" and i.file is not None:
                self.absent.setdefault(i.column, set()).add(i.file)

    def present(self, col) -> np.ndarray:
        """Rows whose file has column ``col``."""
        files = self.absent.get(col)
        if not files:
            return np.ones(len(self.files), dtype=bool)
        return ~np.isin(self.files, list(files))

    def design_absent(self):
        mask = np.zeros(len(self.files), dtype=bool)
        for c in self.design.structure:
            mask |= ~self.present(c)
        self.flag("COLUMN_MISSING", mask)

    def header(self, file, col):
        return self.headers.get(file, {}).get(col, col)

    def flag(self, code, mask):
        if mask.any():
            prev = self.quarantine.get(code)
            self.quarantine[code] = mask if prev is None else (prev | mask)

    def grouped(self, code, mask, col, values, message, expected=None):
        """One issue per file and distinct value, naming the first row and the count."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        keys = {}
        for k in idx:
            v = values[k]
            v = None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            keys.setdefault((self.files[k], v), []).append(k)
        for (file, v), ks in keys.items():
            rows = [int(self.rows[k]) for k in ks]
            more = ""
            if len(rows) > 1:
                shown = ", ".join(map(str, rows[:10]))
                more = f" ({len(rows)} rows: {shown}{'...' if len(rows) > 10 else ''})"
            self.issues.append(Issue(code, "error", message(v) + more, file=file, row=rows[0],
                                     column=self.header(file, col),
                                     value=None if v is None else _label_value(v),
                                     expected=expected))

    # -- items
    def items(self):
        missing = list(self.study.missing_codes or ())
        for use in self.study.instruments:
            r = use.instrument.response
            for item_id in use.columns:
                if item_id not in self.data.columns:
                    continue
                v = self.data[item_id].to_numpy(dtype="float64")
                present = ~np.isnan(v)
                bad = present & ((v < r.min) | (v > r.max) | (np.floor(v) != v))
                if not bad.any():
                    continue
                exp = f"an answer code from {r.min} to {r.max}"
                if missing:
                    exp += f" or a declared missing code {missing}"
                k_options = r.max - r.min + 1
                for k in np.flatnonzero(bad):
                    val = describe_number(v[k])
                    hint = ""
                    if r.min != 1 and v[k] == k_options > r.max:
                        hint = (f" (if the file holds option numbers 1-{k_options}, as 问卷星's "
                                "按序号 export does, set data[].codes: option_index for it)")
                    self.issues.append(Issue(
                        "VALUE_OUT_OF_RANGE", "error",
                        f"{val} is outside the response scale of {use.id} "
                        f"({r.min}-{r.max}); set to missing{hint}", file=self.files[k],
                        row=int(self.rows[k]), column=self.header(self.files[k], item_id),
                        value=val, expected=exp))
                v = v.copy()
                v[bad] = np.nan
                self.data[item_id] = v

    # -- design columns
    def ids(self):
        col = self.design.id
        ids = self.data[col]
        mask = ids.isna().to_numpy() & self.present(col)
        self.grouped("ID_MISSING", mask, col, np.full(len(mask), None, dtype=object),
                     lambda v: "the respondent id is empty", expected="a respondent id")
        self.flag("ID_MISSING", mask)

    def waves(self):
        col = self.design.wave
        declared = [str(w) for w in self.design.waves]
        vals = self.data[col]
        arr = vals.to_numpy(dtype=object, na_value=None)
        empty = vals.isna().to_numpy() & self.present(col)
        self.grouped("DESIGN_VALUE_MISSING", empty, col, arr,
                     lambda v: "the wave is empty", expected=f"one of {declared}")
        self.flag("DESIGN_VALUE_MISSING", empty)
        bad = vals.notna().to_numpy() & ~vals.isin(declared).to_numpy()
        self.grouped("WAVE_UNDECLARED", bad, col, arr,
                     lambda v: f"wave {describe_label(v)} is not declared in design.waves"
                               f"{did_you_mean(v, declared)}",
                     expected=f"one of {declared}")
        self.flag("WAVE_UNDECLARED", bad)

    def arms(self):
        col = self.design.arm
        if not col or col not in self.data.columns:
            return
        vals = self.data[col]
        arr = vals.to_numpy(dtype=object, na_value=None)
        empty = vals.isna().to_numpy() & self.present(col)
        self.grouped("DESIGN_VALUE_MISSING", empty, col, arr, lambda v: "the arm is empty")
        self.flag("DESIGN_VALUE_MISSING", empty)
        control = None if self.design.control is None else str(self.design.control)
        listed = [str(a) for a in (getattr(self.study, "arms", None) or ())]
        declared = list(dict.fromkeys(([control] if control else []) + listed))
        counts = Counter(a for a in arr if a is not None)
        canonical = {_norm_label(d): d for d in declared}
        if not listed:  # accept observed labels, unless a case/space variant of another
            for label, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                canonical.setdefault(_norm_label(label), label)
        ok_labels = set(canonical.values())
        bad = vals.notna().to_numpy() & ~vals.isin(list(ok_labels)).to_numpy()

        def message(v):
            target = canonical.get(_norm_label(v))
            if target is not None:
                return (f"arm {describe_label(v)} is not a declared arm label; did you mean "
                        f"{target!r}? (differs only by case/spaces)")
            where = "in design.arms" if listed else "(not the control label)"
            return f"arm {describe_label(v)} is not declared {where}{did_you_mean(v, declared)}"

        self.grouped("ARM_UNDECLARED", bad, col, arr, message,
                     expected=f"one of [{', '.join(describe_label(a) for a in sorted(ok_labels))}]")
        self.flag("ARM_UNDECLARED", bad)
        if not listed:
            self._suspect_arms(col, vals, ok_labels, bad)
        if control is not None and counts and control not in counts:
            self.issues.append(Issue(
                "ARM_CONTROL_ABSENT", "error",
                f"no row has the control arm label {control!r} in column {col!r}"
                f"{did_you_mean(control, list(counts))}", column=col, value=control,
                expected=f"rows with {col} = {control!r}"))

    def _suspect_arms(self, col, vals, ok_labels, bad):
        """Without design.arms: an arm held by fewer than min_cell children whose label is
        within edit distance 2 of a larger arm's (``treatmnet``) is ``ARM_LABEL_SUSPECT``."""
        ids = self.data[self.design.id]
        keep = vals.notna().to_numpy() & ~bad
        children = ids[keep].groupby(vals[keep].to_numpy()).nunique()
        min_cell = int(getattr(self.study.privacy, "min_cell", 5))
        for label, n in children.items():
            if n >= min_cell:
                continue
            near = [o for o in ok_labels if o != label and children.get(o, 0) > n
                    and _edit_distance(_norm_label(label), _norm_label(o)) <= 2]
            if not near:
                continue
            other = max(near, key=lambda o: children.get(o, 0))
            ks = np.flatnonzero((vals == label).fillna(False).to_numpy())
            rows = ", ".join(f"{self.files[k]} row {int(self.rows[k])}" for k in ks[:10])
            self.issues.append(Issue(
                "ARM_LABEL_SUSPECT", "warning",
                f"arm {describe_label(label)} has only {n} child(ren) (fewer than min_cell "
                f"{min_cell}) and differs from the arm {other!r} ({children[other]} children) by at "
                f"most 2 letters: a typo? It is analysed as an arm of its own ({rows}). List the "
                "arms in design.arms to make an unknown label an error",
                file=self.files[ks[0]], row=int(self.rows[ks[0]]),
                column=self.header(self.files[ks[0]], col), value=_label_value(label),
                expected=f"one of the larger arms, e.g. {other!r}"))

    def linkage(self, keep):
        """``ID_LINK_LOW``: in a longitudinal design, fewer than half of the children of the
        smaller of the first wave and a later wave are found in both (after quarantine)."""
        d = self.design
        if d.type == "cross_sectional" or len(d.waves) < 2:
            return
        df = self.data.loc[keep, [d.id, d.wave]].dropna()
        ids, _ = pd.factorize(df[d.id])
        wave = df[d.wave].to_numpy(dtype=object)
        base = str(d.waves[0])
        first = np.unique(ids[wave == base])
        for w in d.waves[1:]:
            later = np.unique(ids[wave == str(w)])
            if not len(first) or not len(later):
                continue
            linked = len(np.intersect1d(first, later, assume_unique=True))
            smaller = min(len(first), len(later))
            if linked * 2 >= smaller:
                continue
            self.issues.append(Issue(
                "ID_LINK_LOW", "error",
                f"only {linked} of {smaller} children link between wave {base!r} "
                f"({len(first)} children) and wave {str(w)!r} ({len(later)} children): fewer than "
                "half. Ids are probably written differently in the two waves (a prefix, a "
                "different id scheme, dates made by Excel); a longitudinal analysis of these "
                "data would compare different children", column=d.id, value=str(linked),
                expected=f"at least {(smaller + 1) // 2} of {smaller} children in both waves"))
            self.link_low = True

    def other_design(self):
        d = self.design
        cols = [(c, "cluster") for c in d.clusters or ()] + ([(d.blocks, "block")] if d.blocks else [])
        for c, role in cols:
            if c not in self.data.columns:
                continue
            empty = self.data[c].isna().to_numpy() & self.present(c)
            self.grouped("DESIGN_VALUE_MISSING", empty, c, np.full(len(empty), None, dtype=object),
                         lambda v, role=role: f"the {role} is empty")
            self.flag("DESIGN_VALUE_MISSING", empty)

    def duplicates(self):
        d = self.design
        df = self.data
        valid = df[d.id].notna() & df[d.wave].notna()
        dup = (df.duplicated([d.id, d.wave], keep=False) & valid).to_numpy()
        if not dup.any():
            return
        sub = df.loc[dup, [d.id, d.wave]]
        for (pid, wave), g in sub.groupby([d.id, d.wave], sort=False):
            ks = g.index.to_numpy()
            where = ", ".join(f"{self.files[k]} row {int(self.rows[k])}" for k in ks[:10])
            k = ks[1]
            self.issues.append(Issue(
                "DUPLICATE_ID", "error",
                f"respondent {pid} appears {len(ks)} times in wave {describe_label(wave)} ({where}); "
                "all copies quarantined", file=self.files[k], row=int(self.rows[k]),
                column=self.header(self.files[k], d.id), value=str(pid),
                expected="one row per respondent and wave"))
        self.flag("DUPLICATE_ID", dup)

    def assignment(self):
        d = self.design
        df = self.data
        cols = ([d.arm] if d.arm else []) + list(d.clusters or ()) + ([d.blocks] if d.blocks else [])
        has_id = df[d.id].notna().to_numpy()
        if not has_id.any():
            return
        changed_any = np.zeros(len(df), dtype=bool)
        for c in cols:
            if c not in df.columns:
                continue
            sub = df.loc[has_id & df[c].notna().to_numpy(), [d.id, c]]
            if sub.empty:
                continue
            codes, uniq = pd.factorize(sub[c])
            _, norm_codes = np.unique([_norm_label(u) for u in uniq], return_inverse=True)
            norm = pd.Series(norm_codes[codes], index=sub.index)
            n = norm.groupby(sub[d.id].to_numpy(), sort=False).nunique()
            bad_ids = n.index[n > 1]
            if not len(bad_ids):
                continue
            rows_of = df.index[df[d.id].isin(bad_ids).to_numpy()]
            grouped = df.loc[rows_of].groupby(d.id, sort=False)
            for pid, g in grouped:
                gg = g[g[c].notna()]
                ks = gg.index.to_numpy()
                first = _norm_label(gg[c].iloc[0])
                k2 = next(k for k in ks if _norm_label(df.at[k, c]) != first)
                k1 = ks[0]
                def desc(k, c=c):
                    return (f"{describe_label(df.at[k, c])} in wave {describe_label(df.at[k, d.wave])} "
                            f"({self.files[k]} row {int(self.rows[k])})")

                self.issues.append(Issue(
                    "ASSIGNMENT_CHANGED", "error",
                    f"respondent {pid} changes {c}: {desc(k1)} but {desc(k2)}; all of this "
                    "respondent's rows quarantined", file=self.files[k2], row=int(self.rows[k2]),
                    column=self.header(self.files[k2], c),
                    value=_label_value(df.at[k2, c]),
                    expected=f"the same {c} in every wave ({describe_label(df.at[k1, c])})"))
            changed_any |= df[d.id].isin(bad_ids).to_numpy()
        self.flag("ASSIGNMENT_CHANGED", changed_any)

    def straight_lining(self, keep):
        seen = set()
        for use in self.study.instruments:
            inst = use.instrument
            rev = set(inst.reversed_items)
            for sc in inst.scales:
                items = tuple(i for i in sc.items if i in self.data.columns)
                if len(items) < 2 or not rev & set(items) or items in seen:
                    continue
                seen.add(items)
                arr = self.data[list(items)].to_numpy(dtype="float64")
                complete = ~np.isnan(arr).any(axis=1)
                same = complete & (arr == arr[:, :1]).all(axis=1) & keep
                for k in np.flatnonzero(same):
                    val = f"{arr[k, 0]:g}"
                    self.issues.append(Issue(
                        "STRAIGHT_LINING", "warning",
                        f"the same answer {val} to all {len(items)} items of {inst.id}.{sc.id}, "
                        f"which has reverse-keyed items ({', '.join(sorted(rev & set(items)))}): "
                        "the answers may not have been read", file=self.files[k],
                        row=int(self.rows[k]), column=f"{inst.id}.{sc.id}", value=val,
                        expected="answers that follow the item wording"))


def _label_value(v) -> str:
    """The ``value`` of an issue about a design label: the label, or its description."""
    shown = describe_label(v)
    return str(v) if shown == repr(str(v)) else shown


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit.

    Examples
    --------
    >>> _edit_distance("treatmnet", "treatment"), _edit_distance("control", "treatment")
    (1, 8)
    """
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def validate(study, *, ingested=None) -> ValidationResult:
    """Read and validate all data of a study.

    Every rule runs on every row, so one run reports every problem (see the
    module documentation for the rules). Bad item values become NaN and are
    reported; rows with a bad id, wave, arm, cluster or block are moved to the
    quarantine with their reasons.

    Parameters
    ----------
    study : survey.study.Study
    ingested : survey.ingest.IngestResult, optional
        Already-read data (default: :func:`survey.ingest.read_study_data`).

    Returns
    -------
    ValidationResult

    Examples
    --------
    >>> from survey import load_study, validate                      # doctest: +SKIP
    >>> res = validate(load_study("examples/county-cluster-trial"))   # doctest: +SKIP
    >>> print(res.summary())                                          # doctest: +SKIP
    >>> res.write("output/validation")                                # doctest: +SKIP
    """
    ing = ingested if ingested is not None else read_study_data(study)
    chk = _Checker(study, ing)
    n = len(chk.data)
    if n:
        chk.items()
        chk.design_absent()
        chk.ids()
        chk.waves()
        chk.arms()
        chk.other_design()
        chk.duplicates()
        chk.assignment()
    for code, mask in (getattr(ing, "quarantine", None) or {}).items():
        chk.flag(code, np.asarray(mask, dtype=bool))
    qmask = np.zeros(n, dtype=bool)
    for m in chk.quarantine.values():
        qmask |= m
    if n:
        chk.straight_lining(~qmask)
        chk.linkage(~qmask)
    data = chk.data
    declared = _declared_columns(study, data)
    omitted = tuple(str(c) for c in data.columns if c not in declared)
    if qmask.any():
        codes = list(chk.quarantine)
        masks = [chk.quarantine[c] for c in codes]
        reasons = ["; ".join(c for c, m in zip(codes, masks) if m[k]) for k in np.flatnonzero(qmask)]
        q = data.loc[qmask, [c for c in data.columns if c in declared]].reset_index(drop=True)
        lead = ["_file", "_row"]
        q.insert(0, "reasons", pd.array(reasons, dtype="str"))
        q = q[lead + ["reasons"] + [c for c in q.columns if c not in lead + ["reasons"]]]
        q = _describe_text_cells(q, keep={"_file", "reasons", study.design.id})
        clean = data.loc[~qmask].reset_index(drop=True)
    else:
        q = pd.DataFrame({"_file": pd.array([], dtype="str"), "_row": pd.array([], dtype="int64"),
                          "reasons": pd.array([], dtype="str")})
        q = pd.concat([q, data.iloc[:0][[c for c in data.columns if c in declared
                                         and c not in ("_file", "_row")]]], axis=1)
        clean = data
    issues = list(ing.issues) + chk.issues
    order = {"FILE": 0, "ENCODING": 0, "COLUMN": 1}
    issues.sort(key=lambda i: (order.get(i.code.split("_")[0], 2), i.file or "", i.row or 0))
    return ValidationResult(clean, q, issues, ing.sources, ing.sensitive,
                            ing.fatal or chk.link_low, study_id=study.id, rows_read=n,
                            omitted_columns=omitted, columns=dict(getattr(ing, "columns", {}) or {}))


def _describe_text_cells(frame: pd.DataFrame, keep: set) -> pd.DataFrame:
    """Quarantine rows as written: a text cell that does not look like a label (a wave
    label holding a phone number, a free-text category) is replaced by its description
    (:func:`survey.ingest.describe_label`); ``_file`` and ``_row`` locate the raw cell."""
    out = frame.copy()
    for c in out.columns:
        if c in keep or out[c].dtype.kind in "fiub":
            continue
        codes, uniques = pd.factorize(out[c], use_na_sentinel=True)
        shown = [describe_label(u) for u in uniques]
        shown = [str(u) if d == repr(str(u)) else d for u, d in zip(uniques, shown)]
        if shown == [str(u) for u in uniques]:
            continue
        values = np.array(shown + [None], dtype=object)[codes]
        out[c] = pd.array(values, dtype="str")
    return out


def _declared_columns(study, data) -> set:
    """Columns a study declares: provenance, :attr:`survey.study.Study.design_columns`
    (design, covariates, subgroups, data-column outcomes) and items."""
    cols = {"_file", "_row", *study.design_columns}
    for use in study.instruments:
        cols |= set(use.instrument.item_ids)
    return {c for c in cols if c in data.columns}

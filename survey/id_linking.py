"""Respondent ids across files and waves: linked in loose form, dated ids flagged, pseudonymized.

Step 8 of :mod:`survey.ingest` (once every file is read): ids that differ only by case,
whitespace, zero-width or full-width characters or leading zeros are one respondent
(``ID_LOOSE_MATCH``, or ``ID_LOOSE_AMBIGUOUS`` when two forms share a wave), ids that
Excel turned into dates are ``ID_DATE``, and every id is replaced by its keyed pseudonym
(:mod:`survey.privacy`). Normalization happens before hashing; messages show pseudonyms
and counts, never a raw id.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from core.errors import Issue

from .readers import _STR

#: Whitespace, ideographic space included (as :func:`core.suggest.loose_key`).
_SPACE = re.compile(r"[\s\u3000]+")

#: Characters that do not show: zero-width space/joiners, word joiner, BOM, soft hyphen.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
#: An id cell that Excel turned into a date: 2024-01-12 (an .xlsx date cell as read),
#: 2024/1/12, 1月12日, 12-Jan, Jan-12, with or without a midnight time.
_DATE_ID = re.compile(
    rf"^(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}(?:[ T]0?0:00(?::00)?)?|\d{{1,2}}月\d{{1,2}}日"
    rf"|\d{{1,2}}-(?:{_MONTHS})|(?:{_MONTHS})-\d{{1,2}})$", re.IGNORECASE)
#: A date serial (days since 1899-12-30) from 2000-01-01 to 2049-12-31.
_DATE_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_SERIAL_RANGE = (36526, 54788)
#: Ids written like ``1-12`` (class-number): the ones Excel turns into dates.
_DASHED_ID = re.compile(r"^\d{1,2}-\d{1,2}$")
_LOOSE_STEPS = ("full-width characters", "zero-width characters", "whitespace", "case")


def _loose_form(raw: str, skip: str | None = None) -> str:
    """A raw id after every normalization step of :data:`_LOOSE_STEPS` but ``skip``."""
    t = raw if skip == "full-width characters" else unicodedata.normalize("NFKC", raw)
    t = t if skip == "zero-width characters" else _ZERO_WIDTH.sub("", t)
    t = t.strip() if skip == "whitespace" else _SPACE.sub("", t)
    return t if skip == "case" else t.casefold()


def id_key(raw) -> str:
    """The loose form under which respondent ids are linked across files and waves.

    Unicode NFKC (full-width ``Ｓ１０１`` -> ``S101``), zero-width characters and all
    whitespace removed, case ignored. Leading zeros are a separate step
    (:func:`link_ids`, ``ID_LOOSE_MATCH``).

    Examples
    --------
    >>> id_key(" s\u200b１０１ "), id_key("S 101")
    ('s101', 's101')
    """
    return _loose_form(str(raw))


def _groups(indices: np.ndarray, keys: np.ndarray) -> list:
    """``indices`` grouped by ``keys[indices]`` (lists, in order of the indices)."""
    if not len(indices):
        return []
    k = pd.factorize(keys[indices])[0]
    order = np.argsort(k, kind="stable")
    cuts = np.flatnonzero(np.diff(k[order])) + 1
    return [g.tolist() for g in np.split(indices[order], cuts)]


def link_ids(data: pd.DataFrame, study, headers: dict, pseudonymizer):
    """Link raw ids that differ only in form, flag ids that Excel turned into dates, and
    replace the ids by pseudonyms (in place). Messages show pseudonyms and counts only.

    Rules (``docs/error-codes.md``):

    * ids whose loose form (:func:`id_key`: case, whitespace, zero-width and full-width
      characters ignored) is the same are one respondent, written as the form with the
      most rows, with an ``ID_LOOSE_MATCH`` warning per kind of difference saying how many
      ids and rows were linked; unless two of the forms occur in one wave (two children,
      or one child twice): then they are not linked (``ID_LOOSE_AMBIGUOUS`` warning);
    * digit-only ids that differ only by leading zeros (``0001`` and ``1``: Excel drops
      them) are linked the same way when unambiguous: exactly one zero-padded form and
      the bare number, never both in one wave; otherwise ``ID_LOOSE_AMBIGUOUS``;
    * an id that is a date (``2024-01-12``, ``1月12日``, ``12-Jan``), or a date serial
      (36526-54788) in a study whose other ids look like ``1-12`` or dates, is ``ID_DATE``
      (error; the rows are quarantined by validation).

    Returns ``(issues, {"ID_DATE": mask})``: the ``ID_DATE`` rows, which validation quarantines.
    """
    col = study.design.id
    if col not in data.columns or not len(data):
        if col in data.columns:
            data[col] = pseudonymizer.pseudonymize_series(data[col]).rename(col)
        return [], {}
    ids = _DistinctIds(data, study.design)
    is_date = _date_ids(ids)
    linker = _Linker(ids, is_date)
    linker.link_all()
    final = np.array(linker.target + [None], dtype=object)[ids.codes]
    data[col] = pseudonymizer.pseudonymize_series(pd.Series(pd.array(final, dtype=_STR))).to_numpy()
    data[col] = data[col].astype(_STR)
    pseudo = data[col].to_numpy(dtype=object, na_value=None)
    issues = _link_issues(ids, linker, headers, col, pseudo)
    flags, date_issues = _date_flags(ids, is_date, headers, col)
    return issues + date_issues, flags


class _DistinctIds:
    """The distinct raw ids of the id column (``k`` = index into ``uniq``): how many rows hold
    each, its first row, and its forms (``plain``: as pseudonymized; ``key_s``: :func:`id_key`)."""

    def __init__(self, data: pd.DataFrame, design):
        n = len(data)
        self.codes, uniques = pd.factorize(data[design.id], use_na_sentinel=True)
        nu = len(uniques)
        uobj = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str)
        self.uniq = uobj.tolist()
        self.files = data["_file"].to_numpy(dtype=object)
        self.rows = data["_row"].to_numpy()
        self.waves = data[design.wave].fillna("").to_numpy(dtype=object) if design.wave in data.columns \
            else np.full(n, "", dtype=object)
        self.valid = self.codes >= 0
        pos = np.flatnonzero(self.valid)
        self.count = np.bincount(self.codes[self.valid], minlength=nu)
        self.first = np.full(nu, n, dtype=np.int64)
        seen_codes, first_pos = np.unique(self.codes[self.valid], return_index=True)
        self.first[seen_codes] = pos[first_pos]
        self.plain_s = uobj.str.normalize("NFKC").str.strip()  # the pseudonymizer's form
        self.plain = self.plain_s.tolist()
        self.key_s = (self.plain_s.str.replace(_ZERO_WIDTH.pattern, "", regex=True)
                      .str.replace(_SPACE.pattern, "", regex=True).str.casefold())  # = id_key


def _date_ids(ids: _DistinctIds) -> np.ndarray:
    """Which distinct ids are dates; a date serial counts only when other ids look like dates
    or like ``1-12``."""
    is_date = np.zeros(len(ids.uniq), dtype=bool)
    maybe = np.flatnonzero(ids.plain_s.str.contains("[-/.月]", regex=True).to_numpy(dtype=bool))
    for k in maybe:
        is_date[k] = bool(_DATE_ID.match(ids.plain[k]))
    if is_date.any() or ids.plain_s.str.fullmatch(_DASHED_ID.pattern).any():
        serial = ids.plain_s.str.fullmatch(_DATE_SERIAL.pattern).to_numpy(dtype=bool)
        for k in np.flatnonzero(serial):
            if _SERIAL_RANGE[0] <= float(ids.plain[k]) <= _SERIAL_RANGE[1]:
                is_date[k] = True
    return is_date


class _Linker:
    """Which distinct ids are one respondent: ``target[k]`` is the form id ``k`` is written as.

    Linking goes by loose form, then by leading zeros; ``kinds_of`` lists the linked ids per
    kind of difference, ``ambiguous`` the groups left unlinked.
    """

    def __init__(self, ids: _DistinctIds, is_date: np.ndarray):
        self.ids = ids
        key_s = ids.key_s
        eligible = ~is_date & (ids.plain_s.str.len() > 0).to_numpy(dtype=bool)
        self.loose_dup = eligible & key_s.duplicated(keep=False).to_numpy(dtype=bool)
        digits = eligible & key_s.str.fullmatch("[0-9]+").to_numpy(dtype=bool)
        self.bare_s = key_s.str.lstrip("0").replace("", "0")
        self.zero_dup = digits & self.bare_s.where(digits).duplicated(keep=False).to_numpy(dtype=bool) & \
            self.bare_s.where(digits).notna().to_numpy(dtype=bool)
        self.waves_of = self._waves_of(np.flatnonzero(self.loose_dup | self.zero_dup))
        self.target = list(ids.plain)
        self.kinds_of: dict[str, list] = {}   # kind -> [unique index, ...] of linked variants
        self.ambiguous: list[list] = []
        self.count_l, self.first_l = ids.count.tolist(), ids.first.tolist()

    def _waves_of(self, candidates: np.ndarray) -> dict[int, set]:
        ids = self.ids
        waves_of: dict[int, set] = {int(k): set() for k in candidates}
        if len(candidates):
            sel = ids.valid & np.isin(ids.codes, candidates)
            pairs = pd.DataFrame({"c": ids.codes[sel], "w": ids.waves[sel]}).drop_duplicates()
            for c, w in zip(pairs["c"].tolist(), pairs["w"].tolist()):
                waves_of[c].add(w)
        return waves_of

    def link_all(self) -> None:
        # (a linked id's form has the same loose key as its own, so key_s serves both steps)
        keys = self.ids.key_s.to_numpy(dtype=object)
        for group in _groups(np.flatnonzero(self.loose_dup), keys):
            self._link(group, self._loose_kinds, True)
        bares = self.bare_s.to_numpy(dtype=object)
        for group in _groups(np.flatnonzero(self.zero_dup), bares):
            bare = bares[group[0]]
            forms = {keys[k] for k in group}
            if len(forms) < 2:
                continue
            padded = [f for f in forms if f != bare]
            if len(padded) != 1 or bare not in forms:
                self.ambiguous.append(group)
                continue
            self._link(group, lambda k, best: ["leading zeros"], False)

    def _link(self, group: list, kind_of_variant, same_form_too: bool) -> None:
        """Write every id of ``group`` as its most frequent form, unless two forms share a wave."""
        target, count_l, first_l = self.target, self.count_l, self.first_l
        forms: dict[str, list] = {}
        for k in group:
            forms.setdefault(target[k], []).append(k)
        if len(forms) >= 2:
            seen: dict = {}
            for form, ks in forms.items():
                for w in set().union(*(self.waves_of.get(k, set()) for k in ks)):
                    if w in seen and seen[w] != form:
                        self.ambiguous.append(group)
                        return
                    seen[w] = form
        rank = {form: (-sum(count_l[k] for k in ks), min(first_l[k] for k in ks))
                for form, ks in forms.items()}
        best = min(rank, key=rank.get)
        best_raw = min(forms[best], key=lambda k: (-count_l[k], first_l[k]))
        uniq = self.ids.uniq
        for k in group:
            if uniq[k] == uniq[best_raw] or (not same_form_too and target[k] == best):
                continue
            for kind in kind_of_variant(k, best_raw):
                self.kinds_of.setdefault(kind, []).append(k)
            target[k] = best

    def _loose_kinds(self, k, best) -> list[str]:
        # a kind of difference counts when the ids differ once every other step is applied
        uniq = self.ids.uniq
        out = [kind for kind in _LOOSE_STEPS
               if _loose_form(uniq[k], kind) != _loose_form(uniq[best], kind)]
        return out or ["whitespace"]  # surrounding spaces only (the strip of every form)


def _link_issues(ids: _DistinctIds, linker: _Linker, headers: dict, col: str, pseudo) -> list[Issue]:
    """``ID_LOOSE_MATCH`` per kind of difference, one ``ID_LOOSE_AMBIGUOUS``; pseudonyms only."""

    def where(ks) -> tuple:
        k0 = min(ks, key=lambda k: ids.first[k])
        r0 = int(ids.first[k0])
        return ids.files[r0], int(ids.rows[r0]), headers.get(ids.files[r0], {}).get(col, col), pseudo[r0]

    issues = []
    for kind in ("case", "whitespace", "zero-width characters", "full-width characters",
                 "leading zeros"):
        ks = linker.kinds_of.get(kind)
        if not ks:
            continue
        nrows = int(ids.count[ks].sum())
        nfiles = len({ids.files[int(ids.first[k])] for k in ks})
        file, row, header, p = where(ks)
        how = {"leading zeros": "that Excel drops from numbers (0001 -> 1)"}.get(kind, "")
        issues.append(Issue(
            "ID_LOOSE_MATCH", "warning",
            f"{len(ks)} respondent id(s) in {nrows} row(s) of {nfiles} file(s) match the ids of "
            f"other rows only if differences of {kind}{' ' + how if how else ''} are ignored; "
            "they were linked "
            f"(first: respondent {p}). Check that they are the same children, and correct the "
            "ids in the source if they are", file=file, row=row, column=header, value=p,
            expected="the same id written the same way in every file and wave"))
    if linker.ambiguous:
        ks = [k for g in linker.ambiguous for k in g]
        file, row, header, p = where(ks)
        issues.append(Issue(
            "ID_LOOSE_AMBIGUOUS", "warning",
            f"{len(linker.ambiguous)} group(s) of respondent ids ({len(ks)} ids) differ only by case, "
            "whitespace, invisible characters or leading zeros, but two of them occur in one "
            f"wave (or several zero-padded forms exist), so they were NOT linked (first: "
            f"respondent {p}); they may be two children, or one child entered twice",
            file=file, row=row, column=header, value=p,
            expected="ids that are either the same or clearly different"))
    return issues


def _date_flags(ids: _DistinctIds, is_date: np.ndarray, headers: dict, col: str) -> tuple[dict, list]:
    """``({"ID_DATE": row mask}, one ID_DATE error per file)`` when some ids are dates."""
    flags, issues = {}, []
    if not is_date.any():
        return flags, issues
    codes, files, rows = ids.codes, ids.files, ids.rows
    mask = np.isin(codes, np.flatnonzero(is_date)) & (codes >= 0)
    flags["ID_DATE"] = mask
    for file in dict.fromkeys(files[mask]):
        idx = np.flatnonzero(mask & (files == file))
        shown = ", ".join(str(int(rows[k])) for k in idx[:10]) + ("..." if len(idx) > 10 else "")
        issues.append(Issue(
            "ID_DATE", "error",
            f"the respondent id of {len(idx)} row(s) is a date (rows {shown}): Excel turns "
            "ids written like a month and a day (class-number) into dates, so these children "
            "cannot be linked; rows quarantined. Export the id column formatted as text",
            file=file,
            row=int(rows[idx[0]]), column=headers.get(file, {}).get(col, col),
            expected="a respondent id as text, not a date"))
    return flags, issues

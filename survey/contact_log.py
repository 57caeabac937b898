"""Contact logs (活动记录): what adults did for each child, one row per contact (issue 14).

A log is a long table (``contacts:`` in study.yaml, one file or several): the child id
(``design.id``), ``date``, ``activity``, who delivered it (``mentor_id``), optionally the
``trigger`` of a 五必访 visit and the ``duration_min``. Files headed otherwise name their
headers with ``columns: {date: 日期, activity: 活动类型, ...}``. Files are read like survey
data and kept as private (:mod:`survey.archives`: personal columns dropped, ids
pseudonymized, failing rows quarantined in ``RUN/quarantine/contacts.csv``).

Values:

- ``activity``: an activity type of the study (:data:`core.protocol.ACTIVITY_TYPES` plus
  ``protocol.activity_types``), case and spaces ignored; the Chinese names of the built-in
  types are accepted (:data:`ACTIVITY_ALIASES`: 家访, 电话, 书信, 视频, 心理辅导, 留守儿童之家);
- ``trigger``: a 五必访 trigger (:data:`core.protocol.TRIGGERS` plus the protocol's own
  ``triggers:``), or empty; Chinese names accepted (:data:`TRIGGER_ALIASES`);
- ``date``: :mod:`survey.dates` (``2024-03-05``, ``2024/3/5``, ``2024年3月5日``, XLSX date
  cells and serial numbers; day-first forms are errors);
- ``duration_min``: minutes, a number of at least 0.

Row rules (code: the row is quarantined): ``ID_MISSING``, ``CHILD_UNKNOWN`` (not in the
roster, or without one not in the survey data), ``DATE_UNPARSEABLE`` (empty or not a date),
``DATE_OUTSIDE_PROTOCOL`` (before ``protocol.start`` or after ``protocol.end``),
``DATE_FUTURE`` (after the day of the run), ``ACTIVITY_UNKNOWN`` (with a suggestion),
``TRIGGER_UNKNOWN``, ``DURATION_NOT_NUMERIC``, ``DURATION_NEGATIVE``.

The log as written (``RUN/data/contacts.parquet``, :func:`contact_columns`): ``<design.id>``
(pseudonym), ``date`` (datetime64[ns], midnight), ``activity`` (str), ``mentor_id``
(pseudonym ``m_...`` or missing), ``trigger`` (str or missing), ``duration_min`` (float or
NaN), sorted by child and date.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from core.protocol import ACTIVITY_TYPES, TRIGGERS
from core.suggest import did_you_mean

from .dates import EXPECTED as DATE_EXPECTED
from .ingest import describe_cell, describe_label
from .readers import _STR
from .study import CONTACT_COLUMNS

__all__ = ["ACTIVITY_ALIASES", "TRIGGER_ALIASES", "contact_columns", "read_contacts"]

ACTIVITY_ALIASES = {
    "家访": "home_visit", "上门家访": "home_visit", "入户家访": "home_visit",
    "电话": "phone_call", "打电话": "phone_call", "电话联系": "phone_call", "电话沟通": "phone_call",
    "书信": "letter", "写信": "letter", "信件": "letter", "通信": "letter",
    "视频": "video_call", "视频通话": "video_call", "视频聊天": "video_call",
    "心理辅导": "counselling", "心理咨询": "counselling", "辅导": "counselling",
    "counseling": "counselling",
    "留守儿童之家": "home_attendance", "儿童之家": "home_attendance",
}
"""Chinese (and American) names of the built-in activity types, compared without spaces."""

TRIGGER_ALIASES = {
    "情绪": "mood", "情绪异常": "mood", "情绪低落": "mood",
    "生病": "illness", "疾病": "illness", "患病": "illness",
    "成绩": "grades", "成绩下降": "grades", "学习下降": "grades",
    "迟到": "lateness", "旷课": "lateness", "逃学": "lateness",
    "冲突": "conflict", "矛盾": "conflict", "打架": "conflict", "吵架": "conflict",
}
"""Chinese names of the built-in 五必访 triggers (upset, ill, falling behind, late, quarrelling)."""


def contact_columns(id_column: str) -> list[str]:
    """The columns of ``contacts.parquet``.

    Examples
    --------
    >>> contact_columns("student_id")
    ['student_id', 'date', 'activity', 'mentor_id', 'trigger', 'duration_min']
    """
    return [id_column, "date", "activity", "mentor_id", "trigger", "duration_min"]


_SPACES = re.compile(r"\s+")


def _norm(text) -> str:
    """Text compared without spaces, case or full-width forms."""
    return _norm_text(text if type(text) is str else str(text))


@lru_cache(maxsize=2**16)
def _norm_text(text: str) -> str:
    # a log repeats a few activity, trigger and yes/no words thousands of times
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _lookup(names, aliases: dict) -> dict:
    """``{normalized text: name}`` for the names and the aliases of those names."""
    out = {_norm(n): n for n in names}
    out.update({_norm(a): n for a, n in aliases.items() if n in names})
    return out


def read_contacts(run, sources, known) -> pd.DataFrame:
    """Every contact log of the study as one table (see the module docstring).

    Parameters
    ----------
    run : survey.archives.ProgramRun
        Collects issues, quarantined rows and sensitive values.
    sources : sequence of survey.study.TableSource
    known : set of str or None
        Pseudonyms of the study's children (None: not checked).

    Returns
    -------
    pandas.DataFrame
        Columns :func:`contact_columns`, sorted by child and date.
    """
    study = run.study
    protocol = study.protocol
    types = tuple(protocol.activity_types) if protocol is not None else ACTIVITY_TYPES
    triggers = tuple(dict.fromkeys((*TRIGGERS, *(t.trigger for t in (protocol.triggers if protocol else ())))))
    activity_of = _lookup(types, ACTIVITY_ALIASES)
    trigger_of = _lookup(triggers, TRIGGER_ALIASES)
    idc = run.id_column
    columns = contact_columns(idc)
    frames = []
    for src in sources:
        pf = run.open(src, "contacts", CONTACT_COLUMNS, ("id", "date", "activity"))
        if pf is None:
            continue
        n = len(pf.frame)
        pseud, bad = run.child_ids(pf)
        bad |= run.known_children(pf, pseud, known, bad, "expected a contact with a child of the study")
        mid, _ = run.other_ids(pf, "mentor_id", "mentor", required=False, pseudonyms=pseud)
        days, bad_d = run.dates(pf, "date", pseud, required=True)
        bad |= bad_d
        ok_day = days.notna().to_numpy() & ~bad_d
        if protocol is not None:
            lo, hi = pd.Timestamp(protocol.start), pd.Timestamp(protocol.end)
            outside = ok_day & ((days < lo) | (days > hi)).to_numpy()
            bad |= run.problem(pf, outside, "date", "DATE_OUTSIDE_PROTOCOL",
                               lambda k, days=days: f"the contact on {days.iloc[k].date()} is outside the "
                                         f"delivery period of the protocol ({protocol.start} to "
                                         f"{protocol.end})",
                               f"a date from {protocol.start} to {protocol.end}", pseudonyms=pseud)
        future = ok_day & (days > pd.Timestamp(run.today)).to_numpy()
        bad |= run.problem(pf, future, "date", "DATE_FUTURE",
                           lambda k, days=days: f"the contact on {days.iloc[k].date()} is in the future (the run "
                                     f"is on {run.today})", f"{DATE_EXPECTED}, not after today",
                           pseudonyms=pseud)
        activity, bad_a = _names(run, pf, "activity", activity_of, types, pseud, required=True,
                                 code="ACTIVITY_UNKNOWN",
                                 hint="add a type of your own under protocol.activity_types")
        trig = pd.Series(pd.array([None] * n, dtype=_STR))
        bad_t = np.zeros(n, dtype=bool)
        if "trigger" in pf.frame:
            trig, bad_t = _names(run, pf, "trigger", trigger_of, triggers, pseud, required=False,
                                 code="TRIGGER_UNKNOWN",
                                 hint="add a trigger of your own under protocol.triggers")
        duration, bad_n = _duration(run, pf, pseud)
        bad |= bad_a | bad_t | bad_n
        frame = pd.DataFrame({idc: pseud, "date": days, "activity": activity, "mentor_id": mid,
                              "trigger": trig, "duration_min": duration})
        frames.append(frame.loc[~bad])
    frames = [f for f in frames if len(f)]
    if frames:
        out = pd.concat(frames, ignore_index=True)[columns]
    else:
        types = {"date": "datetime64[ns]", "duration_min": "float64"}
        out = pd.DataFrame({c: pd.Series([], dtype=types.get(c, _STR)) for c in columns})
    for c in (idc, "activity", "mentor_id", "trigger"):
        out[c] = out[c].astype(_STR)
    out["date"] = out["date"].astype("datetime64[ns]")
    out["duration_min"] = out["duration_min"].astype("float64")
    return out.sort_values([idc, "date"], kind="stable").reset_index(drop=True)


def _names(run, pf, column, lookup, names, pseud, *, required, code, hint):
    """Activity or trigger names read (case, spaces and Chinese aliases); others are errors."""
    texts = pf.frame[column]
    norm = texts.map(lambda v: _norm(v) if isinstance(v, str) else None)
    names_out = norm.map(lambda v: lookup.get(v) if v is not None else None)
    unknown = (texts.notna() & names_out.isna()).to_numpy()
    if required:
        empty = texts.isna().to_numpy()
        unknown = unknown | empty
    what = column
    bad = run.problem(
        pf, unknown, column, code,
        lambda k: (f"the {what} is empty" if pd.isna(texts.iloc[k]) else
                   f"the {what} {describe_label(texts.iloc[k])} is not one of the study's "
                   f"{what} types{did_you_mean(str(norm.iloc[k]), list(names))}"),
        f"one of {', '.join(names)} ({hint})", pseudonyms=pseud)
    return names_out.astype(_STR), bad


def _duration(run, pf, pseud):
    n = len(pf.frame)
    if "duration_min" not in pf.frame:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    texts = pf.frame["duration_min"]
    values = pd.to_numeric(texts.map(lambda v: _norm(v) if isinstance(v, str) else None),
                           errors="coerce").to_numpy(dtype=float)
    not_num = texts.notna().to_numpy() & np.isnan(values)
    bad = run.problem(pf, not_num, "duration_min", "DURATION_NOT_NUMERIC",
                      lambda k: f"the duration ({describe_cell(texts.iloc[k])}) is not a number",
                      "minutes, a number of at least 0", pseudonyms=pseud)
    with np.errstate(invalid="ignore"):
        negative = ~np.isnan(values) & (values < 0)
    bad |= run.problem(pf, negative, "duration_min", "DURATION_NEGATIVE",
                       lambda k: f"the duration ({describe_cell(texts.iloc[k])}) is negative",
                       "minutes, a number of at least 0", pseudonyms=pseud)
    return values, bad

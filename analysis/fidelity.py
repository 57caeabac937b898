"""Fidelity of program delivery to its protocol (三个一, 五必访): pure functions on DataFrames.

A program such as 三个一 (a home visit and a phone call to the parents each month, a
letter each term) is defined by what adults do for each child. Given the contact log,
the mentor assignments and the protocol (:class:`core.protocol.Protocol`), this module
answers: was the protocol met, for whom, where, by whom, and how much of it did each
child receive.

Functions
---------
expected_periods
    The periods of every activity rule and whether the protocol expects anything in them.
protocol_met
    One row per program child x activity x expected period: contacts logged, met or not.
mentor_load
    Children per mentor per month (and the most at once) against the load limit.
triggered_visits
    Each logged trigger (五必访) with the visit it required: done in time, late, not done.
dosage
    One row per child of every arm: contacts received and the share of the protocol met.
fidelity_summary
    The tidy table ``tables/fidelity.csv``: shares met by arm, school, mentor, month and
    term, the "delivered as designed" lines, mentor load, triggers and dosage, with
    small cells suppressed.

Definitions (the contract of ``tables/fidelity.csv``)
-----------------------------------------------------
Periods
    ``week`` (ISO weeks, Monday to Sunday, labelled ``2024-W10``), ``month`` (calendar
    months, ``2024-03``), ``term`` (the protocol's terms, labelled by their names;
    ``semester`` in ``study.yaml`` is a term) and ``study`` (the whole delivery period).
    A week and a month are the full calendar period, even where it starts before the
    protocol or ends after it; a term and the study are clipped to ``start..end``.
School day
    A day inside ``start..end``, inside a term and not a holiday
    (:meth:`core.protocol.Protocol.is_school_day`). Weekends inside a term are school
    days: terms and holidays are date ranges, not timetables.
Expected period
    A period is expected when its school days make up at least
    ``protocol.min_school_share`` of its calendar days. The summer break, a month wholly
    inside holidays and a month of which the protocol covers less than that share expect
    nothing. For a child, only the school days inside the child's time in the program
    count (the numerator), over the same calendar days (the denominator): a child who
    joins on 20 May with a 5-day 五一 holiday has 12 of May's 31 days (0.39), so May is
    not expected of that child at ``min_school_share = 0.5``; a child joining on 10 May
    has 22/31 = 0.71, so May is expected.
Time in the program
    The union of the child's mentor assignment spans (an open ``to`` runs to the
    protocol's end), clipped to ``start..end``. A program child without any assignment
    row is in the program over the whole ``start..end``: never being paired with a
    mentor is a delivery failure that fidelity must show, not hide.
Program children
    Children of ``protocol.arms``, or of every arm except the control when none are
    declared. Only they are expected anything (:func:`protocol_met`); children of other
    arms still get a :func:`dosage` row, whose contacts are contamination.
Met
    ``n_contacts >= min`` of the rule. Every contact of the activity dated inside the
    calendar period counts, including contacts on holidays and weekends and contacts
    before the child's assignment started; a contact outside every term (in the summer
    break) counts for its week, month and the study, but for no term.
Mentor of a child-period
    The mentor whose assignment to the child covers most calendar days of the period
    (ties: the assignment that started first); ``unassigned`` when none covers it.

Intervals
    Children of a school share teachers and mentors, so whether their protocol was met
    is correlated, and so are the periods of one child. The shares of
    :func:`fidelity_summary` get Wilson score intervals at the Kish effective sample
    size ``N / deff`` (Dean & Pagano 2015, J Surv Stat Methodol 3:484; the design
    effect by :func:`design_effect`: the cluster-robust variance of the share over its
    binomial variance, floored at 1), with schools as clusters wherever a row spans
    several schools, and children as clusters for shares of child-periods when schools
    are unknown. Within one school the children are the units: a plain Wilson
    interval (so too for a mentor whose children are all in one school). The variance matches R's
    ``sandwich::vcovCL(type = "HC0", cadjust = TRUE)`` (tests/fixtures/r/fidelity.R).
    With few schools the intervals remain approximate (the normal quantile is used,
    not a t with ``G - 1`` degrees of freedom).

Examples
--------
>>> from datetime import date
>>> import pandas as pd
>>> from core.protocol import ActivityRule, DateRange, Protocol
>>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 4, 30), arms=("program",),
...              holidays=(DateRange(date(2024, 4, 4), date(2024, 4, 6), "清明"),),
...              activities=(ActivityRule("home_visit", per="month", min=1),))
>>> children = pd.DataFrame({"id": ["a", "b"], "arm": ["program", "program"],
...                          "school": ["s1", "s1"]})
>>> contacts = pd.DataFrame({"id": ["a", "a", "b"], "activity": ["home_visit"] * 3,
...                          "date": pd.to_datetime(["2024-03-05", "2024-04-05", "2024-03-20"])})
>>> met = protocol_met(contacts, children, p, id="id")
>>> met[["id", "period", "n_contacts", "met"]]
  id   period  n_contacts    met
0  a  2024-03           1   True
1  a  2024-04           1   True
2  b  2024-03           1   True
3  b  2024-04           0  False
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analysis.disclosure import suppress_small_cells
from core.protocol import PERIODS, Protocol

__all__ = [
    "design_effect",
    "dosage",
    "expected_periods",
    "fidelity_summary",
    "mentor_load",
    "protocol_met",
    "triggered_visits",
]

UNASSIGNED = "unassigned"
"""The ``mentor`` group of child-periods that no mentor assignment covers."""

SUMMARY_COLUMNS = ("section", "activity", "level", "group", "period", "measure",
                   "n_children", "n_periods", "n_met", "share_met", "ci_low", "ci_high",
                   "design_effect", "value", "limit", "suppressed", "suppression_reason")
"""The columns of :func:`fidelity_summary` (``tables/fidelity.csv``), in order."""

_EXPECTED_COLUMNS = ("activity", "per", "period", "period_start", "period_end", "month",
                     "term", "days", "school_days", "school_share", "required", "expected")


# --------------------------------------------------------------------------- dates

def _days(values) -> np.ndarray:
    """Day numbers (days since 1970-01-01, int64) of dates; NaT -> the int64 minimum."""
    ts = pd.to_datetime(pd.Series(values), errors="raise")
    out = ts.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    return np.where(ts.isna().to_numpy(), np.iinfo(np.int64).min, out)


def _day(value) -> int:
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def _stamp(days) -> pd.Series:
    return pd.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]")
                     .astype("datetime64[ns]"))


def _per(rule_per: str) -> str:
    per = "term" if rule_per == "semester" else rule_per
    if per not in PERIODS:
        raise ValueError(f"protocol: an activity rule's 'per' must be one of {PERIODS} "
                         f"(or 'semester'), got {rule_per!r}")
    return per


class _Calendar:
    """School days of a protocol as a cumulative count, for O(1) range counts."""

    def __init__(self, protocol: Protocol):
        self.start, self.end = _day(protocol.start), _day(protocol.end)
        if self.end < self.start:
            raise ValueError(f"protocol: end {protocol.end} is before start {protocol.start}")
        first = pd.Timestamp(protocol.start)
        last = pd.Timestamp(protocol.end)
        self.lo = min(_day(first - pd.Timedelta(days=first.weekday())), _day(first.replace(day=1)))
        self.hi = max(_day(last + pd.Timedelta(days=6 - last.weekday())),
                      _day(last + pd.offsets.MonthEnd(0)))
        days = np.arange(self.lo, self.hi + 1)
        in_term = np.zeros(len(days), dtype=bool)
        for t in protocol.school_terms():
            in_term |= (days >= _day(t.start)) & (days <= _day(t.end))
        school = in_term & (days >= self.start) & (days <= self.end)
        for h in protocol.holidays:
            school &= ~((days >= _day(h.start)) & (days <= _day(h.end)))
        self.cum = np.concatenate([[0], np.cumsum(school)])

    def count(self, a, b) -> np.ndarray:
        """School days in ``[a, b]`` (inclusive day numbers; arrays broadcast)."""
        a = np.clip(np.asarray(a, dtype=np.int64), self.lo, self.hi + 1)
        b = np.clip(np.asarray(b, dtype=np.int64), self.lo - 1, self.hi)
        ok = b >= a
        bi = np.where(ok, b, a - 1)
        return np.where(ok, self.cum[bi - self.lo + 1] - self.cum[a - self.lo], 0)


def _terms(protocol: Protocol) -> pd.DataFrame:
    """Terms clipped to the delivery period: ``term, p0, p1`` (day numbers), by start."""
    s, e = _day(protocol.start), _day(protocol.end)
    rows = []
    for k, t in enumerate(protocol.school_terms(), start=1):
        p0, p1 = max(_day(t.start), s), min(_day(t.end), e)
        if p1 >= p0:
            rows.append((t.name or f"term{k}", p0, p1))
    return pd.DataFrame(rows, columns=["term", "p0", "p1"]).sort_values("p0", kind="stable")


def _unit_periods(protocol: Protocol, per: str, cal: _Calendar, terms: pd.DataFrame
                  ) -> pd.DataFrame:
    """The periods of one unit: ``period, p0, p1, month, term`` (p0/p1 day numbers)."""
    s, e = cal.start, cal.end
    if per == "study":
        return pd.DataFrame({"period": ["study"], "p0": [s], "p1": [e],
                             "month": pd.array([pd.NA], dtype="str"),
                             "term": pd.array([pd.NA], dtype="str")})
    if per == "term":
        out = terms.rename(columns={"term": "period"}).assign(
            month=pd.array([pd.NA] * len(terms), dtype="str"))
        out["term"] = out["period"]
        return out[["period", "p0", "p1", "month", "term"]].reset_index(drop=True)
    first, last = pd.Timestamp(protocol.start), pd.Timestamp(protocol.end)
    if per == "week":
        starts = pd.date_range(first - pd.Timedelta(days=first.weekday()), last, freq="7D")
        iso = starts.isocalendar()
        label = [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"])]
        ends = starts + pd.Timedelta(days=6)
        month = (starts + pd.Timedelta(days=3)).strftime("%Y-%m")  # the Thursday's month
    else:  # month
        starts = pd.date_range(first.replace(day=1), last, freq="MS")
        ends = starts + pd.offsets.MonthEnd(0)
        label = list(starts.strftime("%Y-%m"))
        month = label
    out = pd.DataFrame({"period": label, "p0": _days(starts), "p1": _days(ends),
                        "month": pd.array(list(month), dtype="str")})
    # the term holding most of the period's school days (ties: the earlier term)
    if len(terms):
        sd = cal.count(np.maximum(out["p0"].to_numpy()[:, None], terms["p0"].to_numpy()[None, :]),
                       np.minimum(out["p1"].to_numpy()[:, None], terms["p1"].to_numpy()[None, :]))
        best = sd.argmax(axis=1)
        term = terms["term"].to_numpy()[best].astype(object)
        term[sd.max(axis=1) == 0] = None
        out["term"] = pd.array(list(term), dtype="str")
    else:
        out["term"] = pd.array([pd.NA] * len(out), dtype="str")
    return out


def _rule_periods(protocol: Protocol, cal: _Calendar | None = None) -> pd.DataFrame:
    """Every period of every activity rule, with day numbers ``p0, p1`` and ``days``.

    A protocol (frozen, so hashable) gets its periods computed once: a page asks for them
    three times (:func:`protocol_met`, :func:`dosage`, :func:`expected_periods`); each
    caller gets its own copy."""
    try:
        hash(protocol)
    except TypeError:  # a protocol that is not a frozen dataclass
        return _compute_rule_periods(protocol, cal)
    return _cached_rule_periods(protocol).copy()


@functools.lru_cache(maxsize=8)
def _cached_rule_periods(protocol: Protocol) -> pd.DataFrame:
    return _compute_rule_periods(protocol, None)


def _compute_rule_periods(protocol: Protocol, cal: _Calendar | None) -> pd.DataFrame:
    cal = cal or _Calendar(protocol)
    terms = _terms(protocol)
    units: dict[str, pd.DataFrame] = {}
    frames = []
    for rule in protocol.activities:
        per = _per(rule.per)
        if per not in units:
            units[per] = _unit_periods(protocol, per, cal, terms)
        frames.append(units[per].assign(activity=rule.activity, per=per, required=int(rule.min)))
    if not frames:
        return pd.DataFrame({c: [] for c in ("activity", "per", "period", "p0", "p1", "month",
                                             "term", "required", "days")})
    out = pd.concat(frames, ignore_index=True)
    out["days"] = out["p1"] - out["p0"] + 1
    return out


# --------------------------------------------------------------------------- periods

def expected_periods(protocol: Protocol, start=None, end=None) -> pd.DataFrame:
    """The periods of every activity rule and whether the protocol expects them.

    Parameters
    ----------
    protocol : Protocol
    start, end : date-like, optional
        Restrict the school days to a window (a child's time in the program); the
        share's denominator stays the period's calendar days. Default: the protocol's
        ``start..end``.

    Returns
    -------
    DataFrame
        One row per rule x period: ``activity``, ``per`` (week|month|term|study),
        ``period`` (label), ``period_start``, ``period_end`` (datetime64), ``month``
        (``2024-03``; for a week its Thursday's month; missing for terms and the
        study), ``term`` (the term holding most of the period's school days),
        ``days`` (calendar days), ``school_days`` (inside the window),
        ``school_share`` (school_days / days), ``required`` (the rule's ``min``) and
        ``expected`` (``school_share >= protocol.min_school_share``).

    Examples
    --------
    >>> from datetime import date
    >>> from core.protocol import ActivityRule, DateRange, Protocol
    >>> p = Protocol(start=date(2024, 5, 1), end=date(2024, 8, 31),
    ...              terms=(DateRange(date(2024, 5, 1), date(2024, 7, 10), "spring"),),
    ...              holidays=(DateRange(date(2024, 5, 1), date(2024, 5, 5), "五一"),),
    ...              activities=(ActivityRule("phone_call", per="month"),))
    >>> expected_periods(p)[["period", "school_days", "expected"]]
        period  school_days  expected
    0  2024-05           26      True
    1  2024-06           30      True
    2  2024-07           10     False
    3  2024-08            0     False
    """
    cal = _Calendar(protocol)
    periods = _rule_periods(protocol, cal)
    w0 = cal.start if start is None else max(cal.start, _day(start))
    w1 = cal.end if end is None else min(cal.end, _day(end))
    sd = cal.count(np.maximum(periods["p0"].to_numpy(dtype=np.int64), w0),
                   np.minimum(periods["p1"].to_numpy(dtype=np.int64), w1))
    out = periods.assign(school_days=sd.astype(np.int64))
    out["school_share"] = out["school_days"] / out["days"]
    out["expected"] = out["school_share"] >= protocol.min_school_share
    out["period_start"] = _stamp(out["p0"])
    out["period_end"] = _stamp(out["p1"])
    return out[list(_EXPECTED_COLUMNS)].reset_index(drop=True)


def _isin(values: pd.Series, among) -> np.ndarray:
    """``values.isin(among)`` as a boolean array, by an Index lookup (``isin`` with
    thousands of strings to look among is many times slower)."""
    return pd.Index(pd.unique(among)).get_indexer(values) >= 0


def _windows(ids: pd.Series, assignments, protocol: Protocol, id: str) -> pd.DataFrame:
    """Each child's time in the program as disjoint day-number spans ``id, w0, w1``."""
    s, e = _day(protocol.start), _day(protocol.end)
    ids = pd.Series(pd.unique(ids), name=id)
    if assignments is None or len(assignments) == 0:
        return pd.DataFrame({id: ids, "w0": s, "w1": e})
    a = assignments.loc[_isin(assignments[id], ids), [id]].copy()
    f = _days(assignments.loc[a.index, "from"])
    t = _days(assignments.loc[a.index, "to"])
    t = np.where(t == np.iinfo(np.int64).min, e, t)  # open assignment
    f = np.where(f == np.iinfo(np.int64).min, s, f)
    a["w0"], a["w1"] = np.maximum(f, s), np.minimum(t, e)
    a = a[a["w1"] >= a["w0"]].sort_values([id, "w0"], kind="stable")
    reach = a.groupby(id, sort=False)["w1"].cummax()
    prev = reach.groupby(a[id], sort=False).shift()
    block = (prev.isna() | (a["w0"] > prev + 1)).cumsum()
    merged = a.groupby(block, sort=False).agg(**{id: (id, "first"), "w0": ("w0", "min"),
                                                 "w1": ("w1", "max")})
    never = ids[~_isin(ids, assignments[id])]  # no assignment at all: the whole protocol
    extra = pd.DataFrame({id: never, "w0": s, "w1": e})
    return pd.concat([merged, extra], ignore_index=True)


def _child_periods(ids: pd.Series, assignments, protocol: Protocol, id: str,
                   cal: _Calendar) -> pd.DataFrame:
    """Expected child x rule-periods with the child's school days (``school_days``)."""
    periods = _rule_periods(protocol, cal)
    periods = periods.assign(share=cal.count(periods["p0"].to_numpy(dtype=np.int64),
                                             periods["p1"].to_numpy(dtype=np.int64))
                             / periods["days"])
    # a child's share never exceeds the period's: drop periods nobody can be expected
    periods = periods[periods["share"] >= protocol.min_school_share].drop(columns="share")
    win = _windows(ids, assignments, protocol, id)
    pairs = win.merge(periods, how="cross")
    pairs["school_days"] = cal.count(np.maximum(pairs["p0"], pairs["w0"]),
                                     np.minimum(pairs["p1"], pairs["w1"]))
    keys = [id, "activity", "period"]
    sd = pairs.groupby(keys, sort=False)["school_days"].sum()
    rows = pairs.drop_duplicates(keys).drop(columns=["w0", "w1", "school_days"])
    if len(sd) == len(rows):  # both in order of first appearance: side by side, no merge
        rows = rows.reset_index(drop=True)
        rows["school_days"] = sd.to_numpy()
    else:  # (a missing key: groupby leaves it out)
        rows = rows.merge(sd.reset_index(), on=keys)
    rows = rows[rows["school_days"] / rows["days"] >= protocol.min_school_share]
    return rows.reset_index(drop=True)


def _count_contacts(contacts: pd.DataFrame, periods: pd.DataFrame, id: str) -> pd.DataFrame:
    """Contacts per ``id, activity, period`` (periods of one activity do not overlap)."""
    frames = []
    dates = _days(contacts["date"])
    children = None  # the ids as an array, made once for all activities
    for activity, ps in periods.drop_duplicates(["activity", "period"]).groupby("activity"):
        ps = ps.sort_values("p0")
        mask = (contacts["activity"] == activity).to_numpy()
        if not mask.any():
            continue
        d = dates[mask]
        p0, p1 = ps["p0"].to_numpy(dtype=np.int64), ps["p1"].to_numpy(dtype=np.int64)
        k = np.searchsorted(p0, d, side="right") - 1
        ok = (k >= 0) & (d <= p1[np.clip(k, 0, None)])
        if children is None:
            children = contacts[id].to_numpy()
        frames.append(pd.DataFrame({id: children[mask][ok],
                                    "activity": activity,
                                    "period": ps["period"].to_numpy()[k[ok]]}))
    if not frames:
        return pd.DataFrame({id: contacts[id].iloc[:0].to_numpy(),
                             "activity": pd.Series([], dtype="str"),
                             "period": pd.Series([], dtype="str"),
                             "n_contacts": pd.Series([], dtype=np.int64)})
    hits = pd.concat(frames, ignore_index=True)
    return hits.groupby([id, "activity", "period"], sort=False).size().rename(
        "n_contacts").reset_index()


def _mentors(rows: pd.DataFrame, assignments, id: str) -> pd.Series:
    """The mentor covering most days of each child-period (ties: earliest assignment)."""
    out = pd.Series(pd.NA, index=rows.index, dtype="str")
    if assignments is None or len(assignments) == 0 or len(rows) == 0:
        return out
    a = pd.DataFrame({id: assignments[id].to_numpy(),
                      "mentor_id": assignments["mentor_id"].astype("str").to_numpy(),
                      "f": _days(assignments["from"]), "t": _days(assignments["to"])})
    a["t"] = np.where(a["t"] == np.iinfo(np.int64).min, np.iinfo(np.int64).max // 2, a["t"])
    r = rows[[id, "p0", "p1"]].reset_index(names="_row")
    m = r.merge(a, on=id)
    m["overlap"] = np.minimum(m["t"], m["p1"]) - np.maximum(m["f"], m["p0"]) + 1
    m = m[m["overlap"] > 0].sort_values(["_row", "overlap", "f"], ascending=[True, False, True],
                                        kind="stable")
    best = m.drop_duplicates("_row")
    out.loc[best["_row"].to_numpy()] = best["mentor_id"].to_numpy()
    return out


def _counted(contacts: pd.DataFrame, ids: pd.Series, protocol: Protocol, *, id: str,
             assignments, cal: _Calendar) -> pd.DataFrame:
    """The expected child x rule-periods of ``ids`` with ``n_contacts`` and ``met``, in
    :func:`_child_periods`' order."""
    rows = _child_periods(ids, assignments, protocol, id, cal)
    counts = _count_contacts(contacts, rows, id)
    if len(counts):
        rows = rows.merge(counts, on=[id, "activity", "period"], how="left")
    else:
        rows["n_contacts"] = 0
    rows["n_contacts"] = rows["n_contacts"].fillna(0).astype(np.int64)
    rows["met"] = rows["n_contacts"] >= rows["required"]
    return rows


def _met_rows(contacts: pd.DataFrame, children: pd.DataFrame, protocol: Protocol, *, id: str,
              assignments, arm: str, school: str | None, cal: _Calendar) -> pd.DataFrame:
    rows = _counted(contacts, children[id], protocol, id=id, assignments=assignments, cal=cal)
    info = children.set_index(id)
    rows["arm"] = rows[id].map(info[arm]).astype("str")
    rows["school"] = (rows[id].map(info[school]).astype("str") if school in info.columns
                      else pd.Series(pd.NA, index=rows.index, dtype="str"))
    rows["mentor_id"] = _mentors(rows, assignments, id)
    rows["period_start"] = _stamp(rows["p0"]).to_numpy()
    rows["period_end"] = _stamp(rows["p1"]).to_numpy()
    order = {a.activity: k for k, a in enumerate(protocol.activities)}
    rows = rows.assign(_a=rows["activity"].map(order)).sort_values(
        [id, "_a", "p0"], kind="stable")
    cols = [id, "arm", "school", "mentor_id", "activity", "per", "period", "period_start",
            "period_end", "month", "term", "school_days", "n_contacts", "required", "met"]
    return rows[cols].reset_index(drop=True)


def _check_children(children: pd.DataFrame, id: str, arm: str) -> None:
    for col in (id, arm):
        if col not in children.columns:
            raise ValueError(f"children: no column {col!r} (columns: {list(children.columns)})")
    dup = children[id].duplicated()
    if dup.any():
        raise ValueError(f"children: id {children[id][dup].iloc[0]!r} appears more than once "
                         f"in column {id!r}; one row per child is expected")


def _check_contacts(contacts: pd.DataFrame, id: str) -> None:
    missing = [c for c in (id, "date", "activity") if c not in contacts.columns]
    if missing:
        raise ValueError(f"contacts: missing column(s) {missing} "
                         f"(columns: {list(contacts.columns)})")


def protocol_met(contacts: pd.DataFrame, children: pd.DataFrame, protocol: Protocol, *,
                 id: str, assignments: pd.DataFrame | None = None, arm: str = "arm",
                 school: str | None = "school", control: str | None = None) -> pd.DataFrame:
    """Whether each program child received each activity in each expected period.

    Parameters
    ----------
    contacts : DataFrame
        The contact log: ``id``, ``date``, ``activity`` (``RUN/data/contacts.parquet``).
    children : DataFrame
        One row per child: ``id``, ``arm`` and, optionally, ``school`` (the design's
        outermost cluster).
    protocol : Protocol
    id : str
        The child id column (the design's id).
    assignments : DataFrame, optional
        Mentor assignments ``mentor_id, <id>, from, to`` (``to`` missing: open). A
        child's expected periods are limited to the union of its spans; a child
        without any assignment row, or every child when this is missing or empty, is
        in the program over the protocol's ``start..end``.
    arm, school : str
        Column names in ``children``; ``school=None`` (or a missing column): no school.
    control : str, optional
        The design's control arm, needed when ``protocol.arms`` is empty.

    Returns
    -------
    DataFrame
        One row per program child x activity x expected period, by child, activity
        (protocol order) and period: ``<id>``, ``arm``, ``school``, ``mentor_id`` (the
        mentor of the child-period, missing when none), ``activity``, ``per``,
        ``period``, ``period_start``, ``period_end``, ``month``, ``term``,
        ``school_days`` (the child's), ``n_contacts``, ``required``, ``met`` (bool).

    Examples
    --------
    >>> from datetime import date
    >>> import pandas as pd
    >>> from core.protocol import ActivityRule, Protocol
    >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 4, 30),
    ...              activities=(ActivityRule("letter", per="study", min=2),))
    >>> kids = pd.DataFrame({"id": ["a", "c"], "arm": ["program", "control"]})
    >>> log = pd.DataFrame({"id": ["a", "c"], "activity": ["letter"] * 2,
    ...                     "date": pd.to_datetime(["2024-03-05", "2024-03-07"])})
    >>> protocol_met(log, kids, p, id="id", control="control")[["id", "n_contacts", "met"]]
      id  n_contacts    met
    0  a           1  False
    """
    _check_children(children, id, arm)
    _check_contacts(contacts, id)
    program = protocol.program_arms(children[arm].dropna().unique(), control)
    kids = children[children[arm].astype("str").isin(program)]
    school = school if school is not None and school in children.columns else None
    return _met_rows(contacts, kids, protocol, id=id, assignments=assignments, arm=arm,
                     school=school, cal=_Calendar(protocol))


# --------------------------------------------------------------------------- mentors

def mentor_load(assignments: pd.DataFrame, protocol: Protocol, *, id: str | None = None
                ) -> pd.DataFrame:
    """Children per mentor per month, and the most at once, against the load limit.

    A child counts for a mentor's month when assigned to the mentor on any day of the
    month inside the protocol's ``start..end``; a child who changes mentors mid-month
    counts for both. ``max_simultaneous`` is the most children assigned to the mentor on
    one day of the month: the load the limit is about, so ``over_limit`` compares it
    with ``protocol.max_children_per_mentor`` (never over when there is no limit).

    Parameters
    ----------
    assignments : DataFrame
        ``mentor_id``, the child id, ``from``, ``to`` (missing: open).
    protocol : Protocol
    id : str, optional
        The child id column; default: the one column not named mentor_id/from/to.

    Returns
    -------
    DataFrame
        ``mentor_id``, ``month`` (``2024-03``), ``n_children``, ``max_simultaneous``,
        ``limit`` (Int64, missing without a limit), ``over_limit`` (bool); months in
        which a mentor has nobody are left out. Sorted by mentor and month.

    Examples
    --------
    >>> from datetime import date
    >>> import pandas as pd
    >>> from core.protocol import Protocol
    >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 4, 30), max_children_per_mentor=1)
    >>> a = pd.DataFrame({"mentor_id": ["m1", "m1"], "id": ["a", "b"],
    ...                   "from": pd.to_datetime(["2024-03-01", "2024-03-16"]),
    ...                   "to": pd.to_datetime(["2024-03-15", None])})
    >>> mentor_load(a, p)
      mentor_id    month  n_children  max_simultaneous  limit  over_limit
    0        m1  2024-03           2                 1      1       False
    1        m1  2024-04           1                 1      1       False
    """
    cols = ["mentor_id", "month", "n_children", "max_simultaneous", "limit", "over_limit"]
    if id is None:
        rest = [c for c in assignments.columns if c not in ("mentor_id", "from", "to")]
        if len(rest) != 1:
            raise ValueError(f"mentor_load: name the child id column (id=...); columns {rest}")
        id = rest[0]
    s, e = _day(protocol.start), _day(protocol.end)
    f, t = _days(assignments["from"]), _days(assignments["to"])
    t = np.where(t == np.iinfo(np.int64).min, e, t)
    a = pd.DataFrame({"mentor_id": assignments["mentor_id"].astype("str").to_numpy(),
                      "child": assignments[id].to_numpy(),
                      "f": np.maximum(f, s), "t": np.minimum(t, e)})
    a = a[a["t"] >= a["f"]].reset_index(drop=True)
    limit = protocol.max_children_per_mentor
    if a.empty:
        out = pd.DataFrame({c: [] for c in cols})
        return out.astype({"n_children": np.int64, "max_simultaneous": np.int64,
                           "limit": "Int64", "over_limit": bool})
    mf, mt = _month_index(a["f"]), _month_index(a["t"])
    span = (mt - mf + 1).to_numpy()
    x = a.loc[a.index.repeat(span)].reset_index(drop=True)
    x["m"] = np.repeat(mf.to_numpy(), span) + x.groupby(np.repeat(a.index, span)).cumcount()
    n = x.drop_duplicates(["mentor_id", "child", "m"]).groupby(["mentor_id", "m"]).size()
    # simultaneous load: +1 on the first day, -1 the day after the last; a zero event on
    # each month's first day carries the load into the month
    mm = n.reset_index()[["mentor_id", "m"]]
    first = np.maximum(_month_first(mm["m"]), s)
    ev = pd.concat([pd.DataFrame({"mentor_id": a["mentor_id"], "d": a["f"], "k": 1}),
                    pd.DataFrame({"mentor_id": a["mentor_id"], "d": a["t"] + 1, "k": -1}),
                    pd.DataFrame({"mentor_id": mm["mentor_id"], "d": first, "k": 0})])
    ev = ev.groupby(["mentor_id", "d"], sort=True)["k"].sum().reset_index()
    ev["load"] = ev.groupby("mentor_id")["k"].cumsum()
    ev["m"] = _month_index(ev["d"])
    peak = ev.groupby(["mentor_id", "m"])["load"].max()
    out = n.rename("n_children").reset_index()
    out["max_simultaneous"] = out.set_index(["mentor_id", "m"]).index.map(peak).to_numpy()
    out["month"] = _month_label(out["m"])
    out["limit"] = pd.array([limit] * len(out), dtype="Int64")
    out["over_limit"] = (out["max_simultaneous"] > limit) if limit is not None else False
    out = out.astype({"n_children": np.int64, "max_simultaneous": np.int64,
                      "over_limit": bool})
    return out.sort_values(["mentor_id", "m"])[cols].reset_index(drop=True)


def _month_index(days) -> pd.Series:
    d = pd.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))
    m = d.to_numpy().astype("datetime64[M]").astype(np.int64)
    return pd.Series(m, index=getattr(days, "index", None))


def _month_first(m) -> np.ndarray:
    return np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)


def _month_label(m) -> pd.Series:
    return pd.Series(np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype(str),
                     dtype="str")


# --------------------------------------------------------------------------- triggers

def triggered_visits(contacts: pd.DataFrame, protocol: Protocol, *, id: str) -> pd.DataFrame:
    """Each logged trigger (五必访) and the contact it required.

    A trigger is a contact row with ``trigger`` set, whatever activity it is logged on.
    Its rule (``protocol.triggers``) requires a contact of ``activity`` for the same
    child within ``within_days`` days counting the trigger's own day: on the trigger's
    date or up to ``within_days - 1`` days after it (``within_days: 3`` and a trigger on
    3 May: a visit on 3, 4 or 5 May is in time, on 6 May late). The first such contact on or after the trigger is
    the visit; ``days_to_visit`` is counted to it even when it came too late. The
    trigger's own row counts when its activity is the required one (a record book that
    logs the visits made for a trigger shows each one done that day; a trigger that
    is never followed can only be seen when it has a row of its own, e.g. on the phone
    call where the teacher learned of it).

    Parameters
    ----------
    contacts : DataFrame
        ``id``, ``date``, ``activity``, ``trigger`` (missing: not a trigger).
    protocol : Protocol
    id : str

    Returns
    -------
    DataFrame
        One row per trigger, by child and date: ``<id>``, ``trigger``, ``date``,
        ``logged_activity`` (the activity of the trigger's row), ``activity`` (required;
        missing without a rule), ``within_days`` (Int64), ``done_date`` (the first
        required contact on or after the trigger, NaT if none), ``days_to_visit``
        (Int64), ``done`` (boolean: visited within the window; missing without a rule),
        ``status`` (``done``, ``late``, ``not_done`` or ``no_rule``).

    Examples
    --------
    >>> from datetime import date
    >>> import pandas as pd
    >>> from core.protocol import Protocol, TriggerRule
    >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30),
    ...              triggers=(TriggerRule("mood", "home_visit", within_days=3),))
    >>> log = pd.DataFrame({"id": ["a", "a", "b"],
    ...                     "date": pd.to_datetime(["2024-03-04", "2024-03-06", "2024-03-04"]),
    ...                     "activity": ["phone_call", "home_visit", "phone_call"],
    ...                     "trigger": ["mood", None, "illness"]})
    >>> triggered_visits(log, p, id="id")[["id", "trigger", "days_to_visit", "status"]]
      id  trigger  days_to_visit   status
    0  a     mood              2     done
    1  b  illness           <NA>  no_rule
    """
    _check_contacts(contacts, id)
    cols = [id, "trigger", "date", "logged_activity", "activity", "within_days", "done_date",
            "days_to_visit", "done", "status"]
    if "trigger" not in contacts.columns:
        contacts = contacts.assign(trigger=pd.Series(pd.NA, index=contacts.index, dtype="str"))
    has = contacts["trigger"].notna()
    tr = pd.DataFrame({id: contacts.loc[has, id].to_numpy(),
                       "trigger": contacts.loc[has, "trigger"].astype("str").to_numpy(),
                       "date": pd.to_datetime(contacts.loc[has, "date"]).astype(
                           "datetime64[ns]").to_numpy(),
                       "logged_activity": contacts.loc[has, "activity"].astype("str").to_numpy()})
    rules = {r.trigger: r for r in protocol.triggers}
    tr["activity"] = tr["trigger"].map({k: r.activity for k, r in rules.items()}).astype("str")
    tr["within_days"] = tr["trigger"].map({k: r.within_days for k, r in rules.items()}).astype(
        "Int64")
    tr["done_date"] = pd.Series(pd.NaT, index=tr.index, dtype="datetime64[ns]")
    dates = pd.to_datetime(contacts["date"]).astype("datetime64[ns]")
    for activity in tr["activity"].dropna().unique():
        sub = tr[tr["activity"] == activity].sort_values("date")
        mask = contacts["activity"] == activity
        done = pd.DataFrame({id: contacts.loc[mask, id].to_numpy(),
                             "done_date": dates[mask].to_numpy()}).sort_values("done_date")
        hit = pd.merge_asof(sub.drop(columns="done_date").reset_index(), done,
                            left_on="date", right_on="done_date", by=id,
                            direction="forward", allow_exact_matches=True)
        tr.loc[hit["index"].to_numpy(), "done_date"] = hit["done_date"].to_numpy()
    days = (tr["done_date"] - tr["date"]).dt.days
    tr["days_to_visit"] = days.astype("Int64")
    ruled = tr["activity"].notna()
    in_time = (days < tr["within_days"].astype("float")).fillna(False).astype(bool)
    tr["done"] = pd.array(np.where(ruled, in_time, False), dtype="boolean")
    tr.loc[~ruled, "done"] = pd.NA
    tr["status"] = np.select([~ruled, in_time, tr["done_date"].notna()],
                             ["no_rule", "done", "late"], "not_done")
    tr["status"] = tr["status"].astype("str")
    return tr.sort_values([id, "date"], kind="stable")[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- dosage

def dosage(contacts: pd.DataFrame, met: pd.DataFrame | None, children: pd.DataFrame,
           protocol: Protocol, *, id: str, assignments: pd.DataFrame | None = None,
           arm: str = "arm", school: str | None = "school", control: str | None = None
           ) -> pd.DataFrame:
    """What each child of every arm received: contacts and the share of the protocol met.

    Program children's ``expected``/``met`` are their rows of ``met``
    (:func:`protocol_met`). Children of the other arms are expected nothing by the
    program, but their dose is measured with the same yardstick, as if they were in it
    over the same time (their assignments if any, else the protocol period): the
    dose of a complier analysis must mean the same thing in every arm, and a control
    child visited every month (contamination) has received the protocol.

    Parameters
    ----------
    contacts : DataFrame
        ``id``, ``date``, ``activity``.
    met : DataFrame or None
        :func:`protocol_met`'s result; ``None``: computed here.
    children : DataFrame
        One row per child: ``id``, ``arm``.
    protocol : Protocol
    id : str
    assignments, arm, school, control
        As for :func:`protocol_met`.

    Returns
    -------
    DataFrame
        One row per child of ``children`` (same order): ``<id>``, ``arm``, ``school``
        (when ``children`` has it: the clusters of the dosage shares' intervals),
        ``in_program`` (bool), ``n_contacts`` (all logged contacts), ``n_<activity>``
        for every activity type of the protocol and of the log, ``expected`` and
        ``met`` (rule-periods, all activities), ``share_met`` (met / expected; NaN
        when nothing is expected), ``received`` (``share_met >=
        protocol.received_share``; False when nothing is expected) and
        ``any_contact`` (bool).

    Examples
    --------
    >>> from datetime import date
    >>> import pandas as pd
    >>> from core.protocol import ActivityRule, Protocol
    >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 4, 30), received_share=0.5,
    ...              activity_types=("home_visit",),
    ...              activities=(ActivityRule("home_visit", per="month"),))
    >>> kids = pd.DataFrame({"id": ["a", "c"], "arm": ["program", "control"]})
    >>> log = pd.DataFrame({"id": ["a", "c"], "activity": ["home_visit"] * 2,
    ...                     "date": pd.to_datetime(["2024-03-05", "2024-03-07"])})
    >>> dosage(log, None, kids, p, id="id", control="control")[
    ...     ["id", "in_program", "n_home_visit", "expected", "share_met", "received"]]
      id  in_program  n_home_visit  expected  share_met  received
    0  a        True             1         2        0.5      True
    1  c       False             1         2        0.5      True
    """
    _check_children(children, id, arm)
    _check_contacts(contacts, id)
    cal = _Calendar(protocol)
    try:
        program = set(protocol.program_arms(children[arm].dropna().unique(), control))
    except ValueError:
        if met is None:
            raise
        program = set(met["arm"].dropna().astype(str))
    in_program = children[arm].astype("str").isin(program).to_numpy()
    if met is None:
        met = _met_rows(contacts, children[in_program], protocol, id=id,
                        assignments=assignments, arm=arm, school=None, cal=cal)
    # the other arms' rule-periods: only whether each was met counts here (no mentor,
    # school or order needed, as _met_rows would add)
    others = _counted(contacts, children.loc[~in_program, id], protocol, id=id,
                      assignments=assignments, cal=cal)
    rows = pd.concat([met[[id, "met"]], others[[id, "met"]]], ignore_index=True)
    per_child = rows.groupby(id, sort=False)["met"].agg(expected="size", met="sum")
    types = list(dict.fromkeys([*protocol.activity_types,
                                *(r.activity for r in protocol.activities),
                                *contacts["activity"].dropna().astype(str).unique()]))
    # contacts per child and activity (pd.crosstab counts the same, ten times slower)
    counts = contacts.groupby([contacts[id], contacts["activity"].astype("str")]).size().unstack(
        fill_value=0)
    out = pd.DataFrame({id: children[id].to_numpy(),
                        "arm": children[arm].astype("str").to_numpy()})
    if school is not None and school in children.columns:
        out["school"] = children[school].astype("str").to_numpy()
    out["in_program"] = in_program
    ids = out[id]
    out["n_contacts"] = ids.map(counts.sum(axis=1)).fillna(0).astype(np.int64)
    for t in types:
        col = counts[t] if t in counts.columns else pd.Series(dtype=np.int64)
        out[f"n_{t}"] = ids.map(col).fillna(0).astype(np.int64)
    out["expected"] = ids.map(per_child["expected"]).fillna(0).astype(np.int64)
    out["met"] = ids.map(per_child["met"]).fillna(0).astype(np.int64)
    out["share_met"] = (out["met"] / out["expected"].where(out["expected"] > 0)).astype(float)
    out["received"] = (out["share_met"] >= protocol.received_share).fillna(False).astype(bool)
    out["any_contact"] = out["n_contacts"] > 0
    return out


# --------------------------------------------------------------------------- summary

def _wilson(x, n, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n > 0
    lo = np.full(len(n), np.nan)
    hi = np.full(len(n), np.nan)
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(x[ok], n[ok], alpha=alpha, method="wilson")
    return lo, hi


def design_effect(n_met, n, n_clusters, sum_nn, sum_mm, sum_mn) -> np.ndarray:
    """Design effect of a share estimated from clustered units (vectorized over rows).

    ``p = M / N`` over ``G`` clusters with ``n_g`` units of which ``m_g`` are met; its
    cluster-robust variance is ``V = G / (G - 1) * sum_g (m_g - p n_g)^2 / N^2`` (the
    CR1 sandwich of an intercept-only regression, R ``sandwich::vcovCL(type = "HC0",
    cadjust = TRUE)``) and the design effect ``V / (p (1 - p) / N)``, floored at 1
    (Kish; Korn & Graubard 1998 floor the effective sample size at ``N`` likewise).
    NaN where it cannot be estimated: fewer than 2 clusters, or ``p`` of 0 or 1.

    The ``sum_*`` arguments are ``sum_g n_g^2``, ``sum_g m_g^2``, ``sum_g m_g n_g``.

    Examples
    --------
    >>> # two schools: 9 of 10 and 1 of 10 met -> p = 0.5, far more spread than binomial
    >>> design_effect([10], [20], [2], [200], [82], [100]).round(3).tolist()
    [12.8]
    """
    m, n, g = (np.asarray(v, dtype=float) for v in (n_met, n, n_clusters))
    snn, smm, smn = (np.asarray(v, dtype=float) for v in (sum_nn, sum_mm, sum_mn))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = m / n
        ss = smm - 2 * p * smn + p * p * snn
        v = g / (g - 1) * ss / (n * n)
        deff = v / (p * (1 - p) / n)
    ok = (g >= 2) & (p > 0) & (p < 1) & np.isfinite(deff)
    return np.where(ok, np.maximum(deff, 1.0), np.nan)


def _shares(frame: pd.DataFrame, keys: list[str], id: str, *, cluster: str | None = None,
            n: str | None = None, m: str = "met") -> pd.DataFrame:
    """``n_children`` (distinct), ``n_periods`` (rows, or the sum of ``n``) and ``n_met``
    (sum of ``m``) per group; with ``cluster``, the sums that :func:`design_effect`
    needs (``_G``, ``_nn``, ``_mm``, ``_mn``).

    Groups in order of first appearance, a missing key a group of its own (pandas
    ``groupby(keys, sort=False, dropna=False)``, which :func:`_shares_pandas` uses; this
    counts with integer codes and ``numpy.bincount`` when the counted columns are integer or
    boolean, the same table several times faster)."""
    if not _countable(frame, keys, n, m):
        return _shares_pandas(frame, keys, id, cluster=cluster, n=n, m=m)
    gid, first = _group_ids(frame, keys)
    n_groups = len(first)
    out = {k: frame[k].take(first).reset_index(drop=True) for k in keys}
    ids = pd.factorize(frame[id], sort=False)[0]  # a missing id: -1, not counted
    seen = ids >= 0
    width = int(ids.max(initial=0)) + 1
    pairs = pd.unique(gid[seen] * width + ids[seen])  # distinct (group, child); any order
    out["n_children"] = np.bincount(pairs // width, minlength=n_groups).astype(np.int64)
    weight = None if n is None else frame[n].to_numpy()
    out["n_periods"] = (np.bincount(gid, minlength=n_groups) if weight is None
                        else np.bincount(gid, weights=weight, minlength=n_groups)).astype(np.int64)
    met = frame[m].to_numpy().astype(np.float64)
    out["n_met"] = np.bincount(gid, weights=met, minlength=n_groups).astype(np.int64)
    if "period_start" in frame.columns:  # for the chronological order of the table
        out["_when"] = _group_min_time(frame["period_start"], gid, n_groups)
    if cluster is not None:
        cl = pd.factorize(frame[cluster], sort=False, use_na_sentinel=False)[0]
        span = int(cl.max(initial=-1)) + 1
        cells, inverse = np.unique(gid * span + cl, return_inverse=True)
        of_group = cells // span
        cn = np.bincount(inverse, weights=weight, minlength=len(cells)).astype(np.int64)
        cm = np.bincount(inverse, weights=met, minlength=len(cells))
        out["_nn"] = np.bincount(of_group, weights=(cn * cn).astype(np.float64),
                                 minlength=n_groups).astype(np.int64)
        out["_mm"] = np.bincount(of_group, weights=cm * cm, minlength=n_groups)
        out["_mn"] = np.bincount(of_group, weights=cn * cm, minlength=n_groups)
        out["_G"] = np.bincount(of_group, minlength=n_groups).astype(np.int64)
    return pd.DataFrame(out)


def _countable(frame: pd.DataFrame, keys: list[str], n: str | None, m: str) -> bool:
    """Whether :func:`_shares` may count with codes: integer or boolean counts (whose sums
    are exact in any order), plain key columns and a datetime64 ``period_start``."""
    def plain_int(c):
        dt = frame[c].dtype
        return isinstance(dt, np.dtype) and dt.kind in "biu"

    if not plain_int(m) or (n is not None and not plain_int(n)):
        return False
    if any(isinstance(frame[k].dtype, pd.CategoricalDtype) for k in keys):
        return False
    if "period_start" in frame.columns:
        dt = frame["period_start"].dtype
        if not (isinstance(dt, np.dtype) and dt.kind == "M"):
            return False
    return len(frame) > 0


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group (numbered in order of first appearance, a missing key a value of
    its own) and each group's first row."""
    gid = np.zeros(len(frame), dtype=np.int64)
    for k in keys:
        codes = pd.factorize(frame[k], sort=False, use_na_sentinel=False)[0]
        gid = gid * (int(codes.max(initial=-1)) + 1) + codes
        gid = pd.factorize(gid, sort=False)[0]
    first = np.full(gid.max(initial=-1) + 1, len(gid), dtype=np.int64)
    np.minimum.at(first, gid, np.arange(len(gid), dtype=np.int64))
    return gid, first


def _group_min_time(values: pd.Series, gid: np.ndarray, n_groups: int) -> np.ndarray:
    """The earliest time of each group (NaT when it has none), in ``values``' unit."""
    raw = values.to_numpy()
    ints = raw.view(np.int64)
    ok = ~np.isnat(raw)
    low = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(low, gid[ok], ints[ok])
    low[low == np.iinfo(np.int64).max] = np.iinfo(np.int64).min  # NaT
    return low.view(raw.dtype)


def _shares_pandas(frame: pd.DataFrame, keys: list[str], id: str, *, cluster: str | None = None,
                   n: str | None = None, m: str = "met") -> pd.DataFrame:
    """:func:`_shares` with pandas' groupby (any column types)."""
    g = frame.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame({"n_children": g[id].nunique(),
                        "n_periods": g.size() if n is None else g[n].sum(),
                        "n_met": g[m].sum()})
    if "period_start" in frame.columns:  # for the chronological order of the table
        out["_when"] = g["period_start"].min()
    if cluster is not None:
        w = frame.assign(_n=1 if n is None else frame[n], _m=frame[m].astype(float))
        c = w.groupby([*keys, cluster], sort=False, dropna=False)[["_n", "_m"]].sum()
        c = c.assign(_nn=c["_n"] ** 2, _mm=c["_m"] ** 2, _mn=c["_n"] * c["_m"])
        cg = c.groupby(level=list(range(len(keys))), sort=False, dropna=False)
        sums = cg[["_nn", "_mm", "_mn"]].sum().assign(_G=cg.size())
        out = out.join(sums)
    return out.reset_index()


_LEVEL_COLUMN = {"arm": "arm", "school": "school", "mentor": "mentor_id"}


def _protocol_rows(met: pd.DataFrame, id: str, levels, clustered: bool
                   ) -> list[pd.DataFrame]:
    out = []
    for level in levels:
        if level in ("month", "term"):
            sub = met[met[level].notna()]
            t = _shares(sub, ["activity", level], id, cluster="_cl")
            t = t.assign(level=level, group=t[level], period=t[level],
                         measure="child_periods")
        else:
            col = _LEVEL_COLUMN.get(level)
            if level != "overall" and (col not in met.columns or met[col].isna().all()):
                continue
            if level == "overall":
                grp = pd.Series("all", index=met.index)
            elif level == "mentor":
                grp = met[col].fillna(UNASSIGNED)
            else:
                grp = met[col]
            # within one school the children are the units; across schools, schools are
            t = _shares(met.assign(group=grp), ["activity", "period", "group"], id,
                        cluster="_cl" if clustered and level != "school" else None)
            t = t.assign(level=level, measure="children")
        out.append(t)
    return out


def _summary_rows(met: pd.DataFrame, id: str, received_share: float, clustered: bool
                  ) -> list[pd.DataFrame]:
    """Delivered as designed: per activity and over all, overall and by arm."""
    g = met.groupby([id, "activity"], sort=False)
    per = pd.DataFrame({"arm": g["arm"].first(), "_cl": g["_cl"].first(), "n": g.size(),
                        "k": g["met"].sum()}).reset_index()
    g = per.groupby(id, sort=False)
    both = pd.DataFrame({"arm": g["arm"].first(), "_cl": g["_cl"].first(), "n": g["n"].sum(),
                         "k": g["k"].sum()}).reset_index().assign(activity="all")
    per = pd.concat([per, both], ignore_index=True)
    per["rec"] = per["k"] / per["n"] >= received_share
    out = []
    for level in ("overall", "arm"):
        keys = ["activity"] + ([] if level == "overall" else ["arm"])
        t = _shares(per, keys, id, cluster="_cl", n="n", m="k")
        t = t.assign(level=level, period="all", group=t["arm"] if level == "arm" else "all")
        out.append(t.assign(measure="child_periods"))
        t = _shares(per, keys, id, cluster="_cl" if clustered else None, m="rec")
        t = t.assign(level=level, period="all", group=t["arm"] if level == "arm" else "all")
        out.append(t.assign(measure="children_received", n_periods=np.nan))
    return [t.drop(columns=[c for c in ("arm",) if c in t.columns]) for t in out]


def _load_rows(loads: pd.DataFrame) -> list[pd.DataFrame]:
    if loads is None or len(loads) == 0:
        return []
    base = dict(section="mentor_load", activity=pd.NA)
    per = loads.assign(level="mentor", group=loads["mentor_id"], period=loads["month"], **base)
    rows = [per.assign(measure="children_assigned", value=loads["n_children"]),
            per.assign(measure="max_simultaneous", value=loads["max_simultaneous"])]
    g = loads.groupby("month", sort=False)
    over = pd.DataFrame({"value": g["over_limit"].sum(), "limit": g["limit"].first(),
                         "n_mentors": g.size()}).reset_index()
    rows.append(over.assign(level="overall", group="all", period=over["month"],
                            measure="mentors_over_limit", **base))
    peak = g["max_simultaneous"].max().rename("value").reset_index()
    rows.append(peak.assign(level="overall", group="all", period=peak["month"],
                            measure="max_simultaneous", limit=g["limit"].first().to_numpy(),
                            **base))
    return [r.drop(columns=[c for c in r.columns if c not in SUMMARY_COLUMNS])
            for r in rows]


def _trigger_rows(triggers: pd.DataFrame, id: str) -> list[pd.DataFrame]:
    """``triggers`` carries ``_cl``: the child's school, or the child."""
    if triggers is None or len(triggers) == 0:
        return []
    out = []
    ruled = triggers[triggers["status"] != "no_rule"].assign(met=lambda d: d["done"].astype(bool))
    for level, grp in (("overall", pd.Series("all", index=ruled.index)),
                       ("trigger", ruled["trigger"])):
        t = _shares(ruled.assign(group=grp), ["activity", "group"], id, cluster="_cl")
        med = ruled.assign(group=grp).groupby(["activity", "group"], sort=False)[
            "days_to_visit"].median().astype(float)
        if len(med) == len(t):  # both groups in order of first appearance: side by side
            t["value"] = med.to_numpy(dtype=float)
        else:  # (a missing key: groupby leaves it out)
            t["value"] = t.set_index(["activity", "group"]).index.map(med).to_numpy(dtype=float)
        out.append(t.assign(section="trigger", level=level, period="all",
                            measure="done_in_window"))
    none = triggers[triggers["status"] == "no_rule"]
    if len(none):
        g = none.groupby("trigger", sort=False)
        t = pd.DataFrame({"n_children": g[id].nunique(), "value": g.size()}).reset_index()
        out.append(t.assign(section="trigger", activity=pd.NA, level="trigger",
                            group=t["trigger"], period="all", measure="no_rule").drop(
            columns="trigger"))
    return out


def _dosage_rows(dose: pd.DataFrame, id: str, clustered: bool) -> list[pd.DataFrame]:
    if dose is None or len(dose) == 0:
        return []
    out = []
    for level in ("overall", "arm"):
        grp = pd.Series("all", index=dose.index) if level == "overall" else dose["arm"]
        d = dose.assign(group=grp)
        for measure, flag in (("received", "received"), ("any_contact", "any_contact")):
            t = _shares(d.assign(met=d[flag]), ["group"], id,
                        cluster="_cl" if clustered else None).assign(n_periods=np.nan)
            out.append(t.assign(measure=measure))
        g = d.groupby("group", sort=False)
        t = pd.DataFrame({"n_children": g[id].nunique(),
                          "value": g["share_met"].mean()}).reset_index()
        out.append(t.assign(measure="mean_share_met"))
        for t in out[-3:]:
            t["level"] = level
    return [t.assign(section="dosage", activity="all", period="all") for t in out]


_SECTIONS = ("protocol", "summary", "mentor_load", "trigger", "dosage")
_LEVELS = ("overall", "arm", "school", "mentor", "month", "term", "trigger")


def _ordered(out: pd.DataFrame, met: pd.DataFrame) -> pd.DataFrame:
    """Sections, activities (protocol order), levels, then periods in time, then groups."""
    acts = list(pd.unique(met["activity"])) if "activity" in met.columns else []
    when = pd.to_datetime(out["_when"]) if "_when" in out.columns else \
        pd.Series(pd.NaT, index=out.index)
    load = out["section"] == "mentor_load"
    months = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    months[load] = pd.to_datetime(out.loc[load, "period"], format="%Y-%m")

    def rank(column, values):  # the position in values; missing (NaN) when not among them
        at = pd.Index(values).get_indexer(out[column])
        return np.where(at < 0, np.nan, at)

    a = rank("activity", acts)
    keys = pd.DataFrame({
        "s": rank("section", _SECTIONS),
        "a": np.where(np.isnan(a), len(acts), a),
        "l": rank("level", _LEVELS),
        "w": when.fillna(months), "g": out["group"].astype(str)}, index=out.index)
    order = keys.sort_values(["s", "a", "l", "w", "g"], kind="stable",
                             na_position="last").index
    return out.loc[order].reset_index(drop=True)


def fidelity_summary(met: pd.DataFrame, *, id: str | None = None, protocol: Protocol | None = None,
                     loads: pd.DataFrame | None = None, triggers: pd.DataFrame | None = None,
                     dose: pd.DataFrame | None = None,
                     by=("overall", "arm", "school", "mentor", "month", "term"),
                     min_cell: int = 1, alpha: float = 0.05) -> pd.DataFrame:
    """The tidy fidelity table (``tables/fidelity.csv``).

    Sections (``section``) and what ``share_met`` is a share of (``measure``):

    - ``protocol``: for each activity and period, the share of expected children who
      met the rule (``measure = children``), overall and by ``arm``, ``school`` and
      ``mentor`` (``group``); by ``month`` and ``term`` the share of expected
      child-periods met (``child_periods``; a week belongs to its Thursday's month, a
      month to the term holding most of its school days).
    - ``summary`` ("delivered as designed", per activity and ``all``, overall and by
      arm, ``period = all``): the share of expected child-periods met
      (``child_periods``) and the share of children who met at least
      ``protocol.received_share`` of their periods (``children_received``).
    - ``mentor_load`` (from :func:`mentor_load`): ``value`` = children assigned in the
      month (``children_assigned``) and most at once (``max_simultaneous``) per mentor,
      and per month the number of mentors over the limit (``mentors_over_limit``) and
      the highest load (``max_simultaneous``); ``limit`` = the protocol's limit.
    - ``trigger`` (from :func:`triggered_visits`, program children only: those of
      ``met``, and of ``dose`` with ``in_program``): share of triggers followed by the
      required activity in time (``done_in_window``, overall and per trigger; ``value``
      = median days to the visit); triggers without a rule: ``no_rule``, ``value`` =
      their number.
    - ``dosage`` (from :func:`dosage`): share of children who ``received`` the
      protocol, with ``any_contact``, and the mean share met (``mean_share_met`` in
      ``value``), overall and by arm (every arm).

    ``ci_low``/``ci_high``: Wilson ``1 - alpha`` interval of ``share_met`` at the
    effective sample size ``N / design_effect`` (see "Intervals" in the module's
    docstring); ``design_effect`` is NaN where it is not estimated (within one
    school, fewer than two clusters, a share of 0 or 1): the interval is then the
    plain Wilson one. ``n_children`` counts distinct children, ``n_periods``
    child-periods (or triggers), ``n_met`` those met (``N`` is ``n_periods`` where
    given, else ``n_children``).

    Small cells: a row about fewer than ``min_cell`` children is suppressed with
    :func:`analysis.disclosure.suppress_small_cells` (its numbers blanked, a second
    group of the same level suppressed when one alone would be recoverable from the
    total). Mentor-load rows are about a mentor's load, not about children's
    attributes: they carry no ``n_children`` and are not suppressed.

    Parameters
    ----------
    met : DataFrame
        :func:`protocol_met`'s result.
    id : str, optional
        The child id column; default: ``met``'s first column.
    protocol : Protocol, optional
        For ``received_share`` (default 0.8).
    loads, triggers, dose : DataFrame, optional
        Results of :func:`mentor_load`, :func:`triggered_visits`, :func:`dosage`.
    by : sequence of str
        Levels of the protocol section (any of ``overall``, ``arm``, ``school``,
        ``mentor``, ``month``, ``term``).
    min_cell : int
        The run's ``privacy.min_cell``.
    alpha : float

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`.

    Examples
    --------
    >>> import pandas as pd
    >>> met = pd.DataFrame({"id": ["a", "b", "c"], "arm": "program", "school": "s1",
    ...                     "mentor_id": "m1", "activity": "home_visit", "per": "month",
    ...                     "period": "2024-03", "month": "2024-03", "term": "spring",
    ...                     "met": [True, True, False]})
    >>> t = fidelity_summary(met, by=("overall",))
    >>> t.loc[t.section == "protocol", ["n_children", "n_met", "share_met", "ci_low"]].round(3)
       n_children  n_met  share_met  ci_low
    0           3      2      0.667   0.208
    """
    id = id or met.columns[0]
    share = protocol.received_share if protocol is not None else 0.8
    # children as integer codes: faster to group, and no id can reach the table
    if triggers is not None:  # 五必访 is owed to program children only
        program = [met[id]]
        if dose is not None and "in_program" in dose.columns:
            program.append(dose.loc[dose["in_program"].astype(bool), id])
        triggers = triggers[_isin(triggers[id], pd.concat(program))]
    # codes in order of first appearance over met, triggers and dose
    known = pd.Index(pd.unique(pd.concat(
        [f[id] for f in (met, triggers, dose) if f is not None and len(f)] or [met[id]])))

    def coded(f):
        if f is None:
            return None
        if not len(f):  # (as a mapping would type an empty column)
            return f.assign(**{id: f[id].map(dict(zip(known, range(len(known)))))})
        return f.assign(**{id: known.get_indexer(f[id])})

    met, triggers, dose = coded(met), coded(triggers), coded(dose)
    # clusters for the intervals: schools when known, else (for child-periods) the child
    clustered = "school" in met.columns and bool(met["school"].notna().any())
    met = met.assign(_cl=met["school"] if clustered else met[id])
    school_of = met.groupby(id)["_cl"].first()
    if triggers is not None:
        triggers = triggers.assign(_cl=triggers[id].map(school_of) if clustered
                                   else triggers[id])
    dose_clustered = dose is not None and "school" in dose.columns \
        and bool(dose["school"].notna().any())
    if dose_clustered:
        dose = dose.assign(_cl=dose["school"])
    parts = [t.assign(section="protocol") for t in _protocol_rows(met, id, by, clustered)]
    parts += [t.assign(section="summary") for t in _summary_rows(met, id, share, clustered)]
    parts += _load_rows(loads) + _trigger_rows(triggers, id) + \
        _dosage_rows(dose, id, dose_clustered)
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for c in (*SUMMARY_COLUMNS, "_G", "_nn", "_mm", "_mn"):
        if c not in out.columns:
            out[c] = np.nan
    num = out["n_periods"].where(out["n_periods"].notna(), out["n_children"]).astype(float)
    out["n_periods"] = out["n_periods"].astype(float)
    has = out["n_met"].notna() & (num > 0)
    out["share_met"] = (out["n_met"].astype(float) / num).where(has)
    deff = design_effect(out["n_met"], num, out["_G"], out["_nn"], out["_mm"], out["_mn"])
    out["design_effect"] = deff
    n_eff = num / np.where(np.isnan(deff), 1.0, deff)
    out["ci_low"], out["ci_high"] = _wilson((out["share_met"] * n_eff).fillna(0),
                                            n_eff.where(has, 0), alpha)
    for c in ("n_children", "n_met", "value", "limit"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in ("section", "activity", "level", "group", "period", "measure"):
        out[c] = out[c].astype("str")
    out = _ordered(out, met)[list(SUMMARY_COLUMNS[:-2])]
    load = (out["section"] == "mentor_load").to_numpy()
    rest = suppress_small_cells(out[~load], count="n_children", min_cell=int(min_cell),
                                stats=["n_periods", "n_met", "share_met", "ci_low", "ci_high",
                                       "design_effect", "value"],
                                margins=["group"],
                                by=["section", "activity", "level", "period", "measure"])
    out = pd.concat([rest, out[load].assign(
        suppressed=False, suppression_reason=pd.Series(pd.NA, index=out.index[load], dtype="str"))]
    ).sort_index()
    for c in ("n_children", "n_periods", "n_met"):
        out[c] = out[c].round().astype("Int64")
    return out[list(SUMMARY_COLUMNS)]

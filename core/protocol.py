"""The delivery protocol of a program: what each child should receive, and when.

A plain description mirroring the ``protocol`` block of ``study.yaml`` (issue 14), so
that :mod:`analysis.fidelity` can compute fidelity without knowing how a study file is
read. ``survey.study_loader`` builds it; the run snapshot (``RUN/study.json``) carries it.

Dates are :class:`datetime.date`; every range is inclusive at both ends.

Examples
--------
>>> from datetime import date
>>> from core.protocol import ActivityRule, DateRange, Protocol
>>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 12, 31),
...              terms=(DateRange(date(2024, 3, 1), date(2024, 7, 10), "spring"),
...                     DateRange(date(2024, 9, 1), date(2024, 12, 31), "autumn")),
...              activities=(ActivityRule("home_visit", per="month", min=1),))
>>> p.rule("home_visit").per
'month'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ACTIVITY_TYPES = ("home_visit", "phone_call", "letter", "video_call", "counselling",
                  "home_attendance")
"""The built-in activity types of a contact log; a study may add its own (``protocol.activity_types``)."""

TRIGGERS = ("mood", "illness", "grades", "lateness", "conflict")
"""The built-in triggers of 五必访 (a visit whenever a child is upset, ill, falling behind,
late or quarrelling); a study may add its own (``protocol.triggers``)."""

PERIODS = ("week", "month", "term", "study")
"""Units of an activity rule. ``semester`` in ``study.yaml`` is read as ``term``."""


@dataclass(frozen=True)
class DateRange:
    """An inclusive date range, e.g. a school term or a holiday."""

    start: date
    end: date
    name: str | None = None

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class ActivityRule:
    """``home_visit: {per: month, min: 1}``: at least ``min`` of ``activity`` per ``per``.

    ``per`` is one of :data:`PERIODS`. A period is expected of a child only when enough of
    it falls on school days (inside a term, outside holidays; see
    :attr:`Protocol.min_school_share`) and inside the child's time in the program.
    """

    activity: str
    per: str = "month"
    min: int = 1


@dataclass(frozen=True)
class TriggerRule:
    """``mood: {activity: home_visit, within_days: 3}``: a logged trigger requires the
    activity within ``within_days`` days after it.

    The day of the trigger is the first of the ``within_days`` days: a trigger on 3 May
    with ``within_days: 3`` is followed in time by a visit on 3, 4 or 5 May (0 to 2 days
    after it); a visit on 6 May is late.
    """

    trigger: str
    activity: str = "home_visit"
    within_days: int = 7


@dataclass(frozen=True)
class Protocol:
    """What each child of the program arms should receive.

    Parameters
    ----------
    start, end : date
        The delivery period (contacts outside it are errors at reading).
    terms : tuple of DateRange
        School terms (学期). Empty: the whole delivery period is one term.
    holidays : tuple of DateRange
        Days inside terms when nothing is expected (e.g. the 五一 holiday).
    activities : tuple of ActivityRule
        The per-child rules (三个一: a home visit and a phone call per month, a letter per term).
    triggers : tuple of TriggerRule
        Events that require a visit within a window (五必访).
    max_children_per_mentor : int or None
        Mentor load limit (结对 1:3); ``None``: no limit.
    arms : tuple of str
        Arms that receive the program; empty: every arm except the design's control.
    activity_types : tuple of str
        Activity types the log may hold (built-in ones plus the study's own).
    received_share : float
        A child "received the protocol" when at least this share of the child's expected
        rule-periods were met (the binary dose of the complier analysis).
    min_school_share : float
        A period is expected when at least this share of its days are school days.
    """

    start: date
    end: date
    terms: tuple[DateRange, ...] = ()
    holidays: tuple[DateRange, ...] = ()
    activities: tuple[ActivityRule, ...] = ()
    triggers: tuple[TriggerRule, ...] = ()
    max_children_per_mentor: int | None = None
    arms: tuple[str, ...] = ()
    activity_types: tuple[str, ...] = field(default=ACTIVITY_TYPES)
    received_share: float = 0.8
    min_school_share: float = 0.5

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with this protocol: ``(key, message)`` pairs, empty when sound.

        ``key`` is the ``study.yaml`` path under ``protocol`` (``terms[1]``,
        ``activities.letter.per`` ...), so that the study loader can name it in its
        error. Checked: ``end`` not before ``start``; every range ordered; terms not
        overlapping; each rule's ``per`` one of :data:`PERIODS` (or ``semester``), its
        ``min`` a whole number >= 1, its activity a known type and ruled once; each
        trigger's activity a known type and ``within_days >= 1``; the load limit >= 1;
        ``received_share`` and ``min_school_share`` in (0, 1].

        Examples
        --------
        >>> from datetime import date
        >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30),
        ...              activities=(ActivityRule("home_visit", per="fortnight"),))
        >>> p.problems()
        [('activities.home_visit.per', "must be one of week, month, term (semester), study, got 'fortnight'")]
        """
        out: list[tuple[str, str]] = []
        if self.end < self.start:
            out.append(("end", f"{self.end} is before start {self.start}"))
        for key, ranges in (("terms", self.terms), ("holidays", self.holidays)):
            for k, r in enumerate(ranges):
                if r.end < r.start:
                    out.append((f"{key}[{k}]", f"to {r.end} is before from {r.start}"))
        ordered = sorted(enumerate(self.terms), key=lambda kt: kt[1].start)
        for (_, a), (k, b) in zip(ordered, ordered[1:]):
            if b.start <= a.end:
                out.append((f"terms[{k}]", f"overlaps term {a.name or a.start} "
                                           f"({a.start}..{a.end})"))
        known = set(self.activity_types)
        seen: set[str] = set()
        for r in self.activities:
            key = f"activities.{r.activity}"
            if r.activity in seen:
                out.append((key, "has two rules"))
            seen.add(r.activity)
            if r.per not in PERIODS and r.per != "semester":
                out.append((f"{key}.per", "must be one of week, month, term (semester), study, "
                                          f"got {r.per!r}"))
            if isinstance(r.min, bool) or not isinstance(r.min, int) or r.min < 1:
                out.append((f"{key}.min", f"must be a whole number >= 1, got {r.min!r}"))
            if r.activity not in known:
                out.append((key, f"unknown activity type {r.activity!r} (declare it in "
                                 "protocol.activity_types)"))
        for t in self.triggers:
            key = f"triggers.{t.trigger}"
            if t.activity not in known:
                out.append((f"{key}.activity", f"unknown activity type {t.activity!r}"))
            if isinstance(t.within_days, bool) or not isinstance(t.within_days, int) \
                    or t.within_days < 1:
                out.append((f"{key}.within_days",
                            f"must be a whole number >= 1, got {t.within_days!r}"))
        limit = self.max_children_per_mentor
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            out.append(("max_children_per_mentor", f"must be a whole number >= 1, got {limit!r}"))
        for key in ("received_share", "min_school_share"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1):
                out.append((key, f"must be a number in (0, 1], got {v!r}"))
        return out

    def rule(self, activity: str) -> ActivityRule | None:
        """The rule of one activity, or ``None``."""
        return next((r for r in self.activities if r.activity == activity), None)

    def trigger_rule(self, trigger: str) -> TriggerRule | None:
        """The rule of one trigger (五必访), or ``None`` when the protocol has none."""
        return next((r for r in self.triggers if r.trigger == trigger), None)

    def program_arms(self, arms, control: str | None = None) -> tuple[str, ...]:
        """The arms of ``arms`` that receive the program.

        ``Protocol.arms`` when declared (whether or not they occur in ``arms``), else
        every arm of ``arms`` except ``control``.

        Raises
        ------
        ValueError
            ``Protocol.arms`` is empty and no ``control`` is given: which arm is
            the program cannot be told.

        Examples
        --------
        >>> from datetime import date
        >>> p = Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30))
        >>> p.program_arms(["control", "treatment"], control="control")
        ('treatment',)
        """
        if self.arms:
            return tuple(self.arms)
        if control is None:
            raise ValueError("protocol.arms is empty and no control arm was given: "
                             "declare protocol.arms in study.yaml or the design's control")
        return tuple(dict.fromkeys(str(a) for a in arms if a is not None and a == a
                                   and str(a) != str(control)))

    def school_terms(self) -> tuple[DateRange, ...]:
        """The terms, or the whole delivery period as one term when none are declared."""
        return self.terms or (DateRange(self.start, self.end, None),)

    def is_school_day(self, day: date) -> bool:
        """Inside the delivery period and a term, and not a holiday."""
        if not (self.start <= day <= self.end):
            return False
        if not any(day in t for t in self.school_terms()):
            return False
        return not any(day in h for h in self.holidays)

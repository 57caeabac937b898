"""Program delivery with known truth: child archives and a contact log (issue 14).

:func:`simulate_delivery` draws, for the children of a simulated study
(:func:`analysis.simulate.simulate_study` calls it when given a
:class:`DeliverySpec`), what the adults of a 三个一 / 五必访 program did for each
child, and what the schools' archives say about the child:

* ``roster``: one row per child (arm, school, class, covariates, the child's name);
* ``guardians``: the temporary guardian with the dates of the guardianship; some
  children change guardian during the year (two rows: the first closed the day
  before the second starts);
* ``parents``: father and mother, whether each works away (``migrant``) and how
  often a migrant parent calls (``call_frequency``);
* ``mentors``: mentor assignment periods (结对); some mentors leave at the end of
  the spring term and their children are dealt to the other mentors of their
  school, some of whom then have more children than ``max_children_per_mentor``;
* ``contacts``: the long activity log (``home_visit``, ``phone_call``, ``letter``,
  ``home_attendance``, ``counselling``) with the mentor, the 五必访 trigger and the
  duration.

The delivery model
------------------
The protocol (:meth:`DeliverySpec.protocol_yaml`) asks for a home visit and a phone
call each month and a letter each term; a month is expected when at least half of
its days are school days (in a term, not a holiday), so with the default calendar 8
months (March-June, September-December) and 2 terms are expected: 18 rule-periods
("cells") per child. Each child has two *potential* deliveries, drawn with common
random numbers:

* in the program (``z = 1``): each routine contact of an expected cell happens with
  probability ``expit(logit(rate) + u_school + u_mentor)`` (``u_school ~ N(0,
  sd_school)``, ``u_mentor ~ N(0, sd_mentor)``, the mentor of that term), times
  ``never_factor`` for the ``never_share`` of children whose family is not reached
  (non-compliance in the program arm). 五必访 triggers arrive at a Poisson rate per
  expected month of ``trigger_rate * exp(trigger_slope * struggle)``, where
  ``struggle`` is minus the child's baseline latent trait of the primary outcome
  (beneficial direction): children who are struggling have more triggers, and so
  more home visits. A trigger is followed by a visit within its window with the
  mentor's routine visit probability, later with half the rest, or never;
* outside the program (``z = 0``): nothing, except in the ``contamination_schools``
  share of schools, where ``contamination_children`` of the children get program
  contacts at ``contamination_rate`` per cell (control-arm contamination).

A child's **share of protocol met** ``s = met cells / expected cells`` (a cell is met
by at least one contact of its activity, triggered visits included) is computed from
the contacts as :mod:`analysis.fidelity` computes it; the child "received the
protocol" when ``s >= received_share``.

**The effect grows with the dose**: the endline latent trait of each outcome gets
``delta * s`` (``delta`` = the outcome's ``effect`` times its arm multiplier), in
every arm (a contaminated control child gets its share's effect). Hence, with
``Z`` the assignment:

* the intention-to-treat effect in latent SD is ``delta * (mean s(1) - mean s(0))``
  over the study's children (both potential shares of every child);
* the instrumental-variable (2SLS) estimand with the continuous dose ``s`` is
  ``ITT / (mean s(1) - mean s(0)) = delta``: the effect of the full protocol
  against none;
* with the binary dose "received", the 2SLS (Wald) estimand is ``ITT / (mean r(1) -
  mean r(0))``. It is NOT the average effect among compliers (children who receive
  the protocol if and only if assigned), because children below the threshold get
  part of the effect: the exclusion restriction of the binary dose fails. The truth
  records both (``iv_estimand_received`` and ``complier_effect_received``).

The random streams are derived from the study seed apart from the study's own
streams, so a study simulated without delivery is byte-identical to one simulated
before this module existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from analysis.fake_identity import _ELDER_CHARS, _unique_names, _unique_strings

__all__ = ["DeliverySpec", "SimulatedDelivery", "simulate_delivery", "share_of_protocol",
           "delivery_effects",
           "DELIVERY_PII", "STREAM_KEY"]

STREAM_KEY = 14  # spawn key of the delivery stream under the study seed (issue 14)
DELIVERY_PII = ("guardian_name", "guardian_phone", "parent_name", "parent_phone",
                "mentor_name")
_TRIGGERS = ("mood", "illness", "grades", "lateness", "conflict")
_TRIGGER_P = (0.35, 0.2, 0.2, 0.15, 0.1)
_ACTIVITY_RULES = (("home_visit", "month"), ("phone_call", "month"), ("letter", "term"))
_CITIES = ("广东东莞", "广东深圳", "浙江宁波", "江苏苏州", "福建晋江", "上海", "湖南长沙")


def _d(s: str) -> date:
    return date.fromisoformat(s)


@dataclass(frozen=True)
class DeliverySpec:
    """The program's calendar and the delivery model (see the module docstring).

    Rates are probabilities per expected cell (a month for visits and calls, a term
    for letters) for a typical school and mentor; ``sd_school`` and ``sd_mentor`` are
    SDs on the logit scale.
    """

    start: str = "2024-03-01"
    end: str = "2024-12-31"
    terms: tuple = (("spring", "2024-03-01", "2024-06-30"), ("autumn", "2024-09-01", "2024-12-31"))
    holidays: tuple = (("五一", "2024-05-01", "2024-05-05"), ("国庆", "2024-10-01", "2024-10-07"))
    visit_rate: float = 0.85
    call_rate: float = 0.88
    letter_rate: float = 0.85
    sd_school: float = 0.7
    sd_mentor: float = 0.8
    never_share: float = 0.10
    never_factor: float = 0.05
    trigger_rate: float = 0.08
    trigger_slope: float = 0.7
    trigger_within_days: int = 3
    contamination_schools: float = 0.3
    contamination_children: float = 0.4
    contamination_rate: float = 0.35
    attendance_share: float = 0.25
    attendance_rate: float = 1.5
    children_per_mentor: int = 3
    max_children_per_mentor: int = 3
    mentor_leaves: float = 0.15
    guardian_change: float = 0.06
    received_share: float = 0.8
    archives: bool = True
    roster_only_covariates: bool = False  # wave files leave the roster's columns out
    primary: int = 0  # index of the outcome whose baseline drives the triggers
    extra: dict = field(default_factory=dict)

    def calendar(self):
        """Expected months and terms: ``(months, terms)``, each a list of
        ``(label, first day, last day, school days as datetime64[D] array)``."""
        start, end = np.datetime64(self.start), np.datetime64(self.end)
        days = np.arange(start, end + np.timedelta64(1, "D"))
        school = np.zeros(days.size, bool)
        for _, a, b in self.terms:
            school |= (days >= np.datetime64(a)) & (days <= np.datetime64(b))
        for _, a, b in self.holidays:
            school &= ~((days >= np.datetime64(a)) & (days <= np.datetime64(b)))
        months = []
        m0 = start.astype("datetime64[M]")
        for m in np.arange(m0, end.astype("datetime64[M]") + 1):
            first = m.astype("datetime64[D]")
            last = (m + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
            n_days = int((last - first).astype(int)) + 1
            in_m = (days >= first) & (days <= last)
            if school[in_m].sum() >= 0.5 * n_days:
                months.append((str(m), first, last, days[in_m & school]))
        terms = [(name, np.datetime64(a), np.datetime64(b),
                  days[(days >= np.datetime64(a)) & (days <= np.datetime64(b)) & school])
                 for name, a, b in self.terms]
        return months, terms

    def protocol_yaml(self) -> dict:
        """The ``protocol:`` block of ``study.yaml`` (team contract of issue 14)."""
        return {
            "start": self.start, "end": self.end,
            "terms": [{"name": n, "from": a, "to": b} for n, a, b in self.terms],
            "holidays": [{"name": n, "from": a, "to": b} for n, a, b in self.holidays],
            "activities": {"home_visit": {"per": "month", "min": 1},
                           "phone_call": {"per": "month", "min": 1},
                           "letter": {"per": "semester", "min": 1}},
            "triggers": {t: {"activity": "home_visit", "within_days": self.trigger_within_days}
                         for t in _TRIGGERS},
            "max_children_per_mentor": self.max_children_per_mentor,
            "received_share": self.received_share,
        }


@dataclass
class SimulatedDelivery:
    """Archives, contact log, dose per child and the delivery truth.

    ``dose`` has one row per child: ``id``, ``arm``, ``program`` (assigned to a program
    arm), ``share_met`` and ``received`` (observed), ``share_if_program``,
    ``share_if_control`` (both potential shares), ``n_contacts``, ``any_contact``,
    ``n_triggers``.
    """

    roster: pd.DataFrame
    guardians: pd.DataFrame
    parents: pd.DataFrame
    mentors: pd.DataFrame
    contacts: pd.DataFrame
    dose: pd.DataFrame
    truth: dict
    pii: tuple = DELIVERY_PII


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1 - p))


def share_of_protocol(contacts: pd.DataFrame, ids, spec: DeliverySpec, *, id: str = "id"):
    """Share of the protocol's cells met per child (the dose), from a contact log.

    A cell (activity x expected month or term) is met by at least one contact of
    that activity dated inside it; the share is met cells / expected cells, the same
    for every child (no child enters late in the simulation).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.simulate_delivery import DeliverySpec, share_of_protocol
    >>> log = pd.DataFrame({"id": ["a", "a", "a"], "activity": ["home_visit"] * 2 + ["letter"],
    ...                     "date": pd.to_datetime(["2024-03-04", "2024-03-20", "2024-04-02"])})
    >>> share_of_protocol(log, ["a", "b"], DeliverySpec()).round(4).tolist()
    [0.1111, 0.0]
    """
    months, terms = spec.calendar()
    ids = pd.Index(ids)
    met = np.zeros(len(ids))
    d = contacts[id].map(pd.Series(np.arange(len(ids)), index=ids))
    dates = pd.to_datetime(contacts["date"]).to_numpy().astype("datetime64[D]")
    n_cells = 0
    for activity, per in _ACTIVITY_RULES:
        cells = months if per == "month" else terms
        is_a = (contacts["activity"] == activity).to_numpy()
        for _, first, last, _days in cells:
            n_cells += 1
            hit = is_a & (dates >= first) & (dates <= last) & d.notna().to_numpy()
            met[np.unique(d[hit].astype(int).to_numpy())] += 1
    return met / n_cells


# ---------------------------------------------------------------------------


def _mentors(rng, school, program, children_per_mentor, leaves):
    """Mentor index per child for each term (spring, autumn) in the program world.

    Every child (of both arms: a control child's mentor is the one it would have had)
    is grouped with others of its school and arm; a share of mentors leave after the
    spring term and their children are dealt to the other mentors of the group.
    """
    n = school.size
    spring = np.full(n, -1)
    group_of_mentor, k = [], 0
    for key in np.unique(np.stack([school, program.astype(int)]), axis=1).T:
        idx = np.flatnonzero((school == key[0]) & (program.astype(int) == key[1]))
        idx = rng.permutation(idx)
        m = int(np.ceil(idx.size / children_per_mentor))
        spring[idx] = k + np.arange(idx.size) // children_per_mentor
        group_of_mentor += [(int(key[0]), int(key[1]))] * m
        k += m
    n_mentors = k
    leave = rng.random(n_mentors) < leaves
    autumn = spring.copy()
    groups = np.array(group_of_mentor)
    for j in np.flatnonzero(leave):
        stay = np.flatnonzero((groups == groups[j]).all(axis=1) & ~leave)
        kids = np.flatnonzero(spring == j)
        if stay.size == 0:
            leave[j] = False
            continue
        autumn[kids] = rng.choice(stay, kids.size, replace=True)
    return spring, autumn, n_mentors, leave


def _pick_days(rng, days, size):
    """``size`` random days of an array of school days."""
    return days[rng.integers(0, days.size, size)]


def simulate_delivery(spec: DeliverySpec, *, ids, arm, program, school, struggle,
                      guardian_type, both_parents_away, columns: dict, guardian_name,
                      delta_mult, seed: int) -> SimulatedDelivery:
    """Draw archives and a contact log with known truth for the children of a study.

    Parameters
    ----------
    spec : DeliverySpec
    ids : array of str
        Child ids.
    arm : array of str or None
        Arm of each child (``None``: a one-group study, everybody in the program).
    program : array of bool
        Assigned to a program arm.
    school : array of str
        School id of each child.
    struggle : array of float
        Minus the baseline latent trait of the primary outcome (beneficial
        direction): higher = struggling more; drives the 五必访 triggers.
    guardian_type, both_parents_away : arrays
        The covariates of :mod:`analysis.simulate_population`.
    columns : dict
        The roster's columns (name -> array), in order.
    guardian_name : sequence of str
        The guardian names of the survey files (the first guardian of the archive).
    delta_mult : array of float
        Multiplier of the outcomes' effect per child's arm (the control's is that of
        the first program arm: its contacts are the program's).
    seed : int
        The study seed; the delivery stream is ``SeedSequence(seed, spawn_key=(14,))``.

    Returns
    -------
    SimulatedDelivery

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_delivery import DeliverySpec, simulate_delivery
    >>> n = 60
    >>> prog = np.arange(n) < 30
    >>> sd = simulate_delivery(DeliverySpec(), ids=np.array([f"c{i}" for i in range(n)]),
    ...     arm=np.where(prog, "treatment", "control"), program=prog,
    ...     school=np.where(np.arange(n) % 2 == 0, "S01", "S02"), struggle=np.zeros(n),
    ...     guardian_type=np.array(["grandparents"] * n), both_parents_away=np.ones(n, int),
    ...     columns={}, guardian_name=[f"祖{i}" for i in range(n)], delta_mult=np.ones(n),
    ...     seed=1)
    >>> bool(sd.dose.loc[sd.dose.program, "share_met"].mean() > 0.5)
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_KEY,)))
    ids = np.asarray(ids).astype(str)
    n = ids.size
    program = np.asarray(program, bool)
    school = np.asarray(school).astype(str)
    schools, school_idx = np.unique(school, return_inverse=True)
    months, terms = spec.calendar()
    n_m, n_t = len(months), len(terms)
    if n_t != 2:
        raise ValueError("the delivery model needs two terms (mentors change between them)")

    # ---- who delivers: school and mentor quality, families not reached
    u_school = rng.normal(0, spec.sd_school, schools.size)[school_idx]
    m_spring, m_autumn, n_mentors, m_left = _mentors(rng, school_idx, program,
                                                     spec.children_per_mentor, spec.mentor_leaves)
    u_mentor = rng.normal(0, spec.sd_mentor, n_mentors)
    never = rng.random(n) < spec.never_share
    term_of_month = np.array([0 if first <= terms[0][2] else 1 for _, first, _, _ in months])
    mentor_of = np.stack([m_spring, m_autumn], axis=1)  # (n, 2)
    u_m = u_mentor[mentor_of]  # (n, 2)
    factor = np.where(never, spec.never_factor, 1.0)[:, None]

    def p_of(rate, cols):
        return factor * _expit(_logit(rate) + u_school[:, None] + u_m[:, cols])

    p_visit = p_of(spec.visit_rate, term_of_month)  # (n, months)
    p_call = p_of(spec.call_rate, term_of_month)
    p_letter = p_of(spec.letter_rate, np.arange(n_t))
    # ---- contamination outside the program
    leaky_school = rng.random(schools.size) < spec.contamination_schools
    contaminated = leaky_school[school_idx] & (rng.random(n) < spec.contamination_children)
    c_rate = np.where(contaminated, spec.contamination_rate, 0.0)[:, None]
    # ---- common random numbers of both worlds
    u_visit, u_call = rng.random((n, n_m)), rng.random((n, n_m))
    u_letter = rng.random((n, n_t))
    lam = spec.trigger_rate * np.exp(spec.trigger_slope * np.asarray(struggle, float))
    n_trig = rng.poisson(lam[:, None] * np.ones((1, n_m)))  # (n, months)

    routine = {1: (u_visit < p_visit, u_call < p_call, u_letter < p_letter),
               0: (u_visit < c_rate, u_call < c_rate, u_letter < 0.6 * c_rate)}
    # triggers (program world only): the response of each trigger
    t_child = np.repeat(np.arange(n), n_trig.sum(axis=1))
    t_month = np.concatenate([np.repeat(np.arange(n_m), n_trig[i]) for i in range(n)]) \
        if t_child.size else np.zeros(0, int)
    t_day = np.array([_pick_days(rng, months[m][3], 1)[0] for m in t_month],
                     dtype="datetime64[D]")
    t_type = rng.choice(len(_TRIGGERS), t_child.size, p=_TRIGGER_P)
    u_resp = rng.random(t_child.size)
    p_resp = p_visit[t_child, t_month] if t_child.size else np.zeros(0)
    same_day = u_resp < 0.5 * p_resp
    in_window = (u_resp >= 0.5 * p_resp) & (u_resp < p_resp)
    late = (u_resp >= p_resp) & (u_resp < p_resp + 0.5 * (1 - p_resp))
    lag = np.where(same_day, 0, np.where(in_window,
                                        rng.integers(1, max(spec.trigger_within_days, 2),
                                                     t_child.size),
                                        rng.integers(spec.trigger_within_days + 1,
                                                     spec.trigger_within_days + 11,
                                                     t_child.size)))
    visit_day = t_day + lag.astype("timedelta64[D]")
    visited = same_day | in_window | late
    end = np.datetime64(spec.end)
    visited &= visit_day <= end
    # a triggered visit counts for the month it falls in (when that month is expected)
    month_first = np.array([m[1] for m in months])
    month_last = np.array([m[2] for m in months])
    t_vmonth = np.full(t_child.size, -1)
    for k in range(n_m):
        t_vmonth[(visit_day >= month_first[k]) & (visit_day <= month_last[k])] = k
    trig_visit = np.zeros((n, n_m), bool)
    ok = visited & (t_vmonth >= 0)
    trig_visit[t_child[ok], t_vmonth[ok]] = True

    def share(world):
        v, c, letter = routine[world]
        if world == 1:
            v = v | trig_visit
        return (v.sum(1) + c.sum(1) + letter.sum(1)) / (2 * n_m + n_t)

    s1, s0 = share(1), share(0)
    s_obs = np.where(program, s1, s0)
    r1, r0 = s1 >= spec.received_share, s0 >= spec.received_share

    # ---- the contact log of the observed world
    names = _mentor_names(rng, n_mentors)
    mentor_code = _mentor_ids(schools, school_idx, m_spring, n_mentors)
    rows = []
    for world in (1, 0):
        who = program if world == 1 else ~program
        v, c, letter = routine[world]
        for act, hit, cells in (("home_visit", v, months), ("phone_call", c, months),
                                ("letter", letter, terms)):
            ci, cj = np.nonzero(hit & who[:, None])
            day = np.array([_pick_days(rng, cells[j][3], 1)[0] for j in cj],
                           dtype="datetime64[D]")
            term = term_of_month[cj] if cells is months else cj
            rows.append(_rows(ci, day, act, None, mentor_of[ci, term] if world == 1 else None,
                              rng))
    tp = program[t_child]
    term_t = term_of_month[t_month]
    # the trigger row: the visit itself when made that day, else a talk at school
    rows.append(_rows(t_child[tp], t_day[tp], np.where(same_day[tp], "home_visit", "counselling"),
                      np.array(_TRIGGERS)[t_type[tp]], mentor_of[t_child[tp], term_t[tp]], rng))
    lv = tp & visited & ~same_day
    term_v = np.where(visit_day[lv] >= terms[1][1], 1, 0)
    rows.append(_rows(t_child[lv], visit_day[lv], "home_visit", None,
                      mentor_of[t_child[lv], term_v], rng))
    # the left-behind children's home (留守儿童之家): attendance, not a protocol rule
    attend = program & (rng.random(n) < spec.attendance_share)
    k_att = rng.poisson(spec.attendance_rate, (n, n_m)) * attend[:, None]
    ai = np.repeat(np.repeat(np.arange(n), n_m), k_att.ravel())
    am = np.repeat(np.tile(np.arange(n_m), n), k_att.ravel())
    aday = np.array([_pick_days(rng, months[m][3], 1)[0] for m in am], dtype="datetime64[D]")
    rows.append(_rows(ai, aday, "home_attendance", None, None, rng))
    log = pd.concat(rows, ignore_index=True)
    log["id"] = ids[log.pop("child").to_numpy()]
    mid = log.pop("mentor").to_numpy()
    has = mid >= 0
    log["mentor_id"] = np.where(has, mentor_code[np.where(has, mid, 0)], "")
    log["mentor_name"] = np.where(has, np.asarray(names)[np.where(has, mid, 0)], "")
    log = log.sort_values(["id", "date", "activity"], kind="mergesort", ignore_index=True)
    log = log[["id", "date", "activity", "mentor_id", "trigger", "duration_min", "mentor_name"]]
    log["date"] = pd.to_datetime(log["date"]).dt.strftime("%Y-%m-%d")
    log["duration_min"] = log["duration_min"].astype("Int64")

    n_contacts = np.bincount(pd.Index(ids).get_indexer(log["id"]), minlength=n)
    any_c = n_contacts > 0  # any logged contact (analysis.fidelity.dosage's any_contact)
    dose = pd.DataFrame({"id": ids, "arm": arm if arm is not None else "all",
                         "program": program, "share_met": s_obs,
                         "received": s_obs >= spec.received_share,
                         "share_if_program": s1, "share_if_control": s0,
                         "n_contacts": n_contacts, "any_contact": any_c,
                         "n_triggers": n_trig.sum(1) * program})
    # the observed shares computed back from the log (the check of the module's claim)
    back = share_of_protocol(log, ids, spec)
    if not np.allclose(back, s_obs):
        raise AssertionError("the contact log does not reproduce the simulated doses")

    arch = _archives(rng, spec, ids, program, school_idx, schools, m_spring, m_autumn, m_left,
                     mentor_code, names, guardian_type, both_parents_away, guardian_name, columns)
    truth = _truth(spec, program, arm, s1, s0, r1, r0, contaminated, never, delta_mult, dose,
                   arch["mentors"], log, n_mentors)
    return SimulatedDelivery(roster=arch["roster"], guardians=arch["guardians"],
                             parents=arch["parents"], mentors=arch["mentors"], contacts=log,
                             dose=dose, truth=truth)


def _rows(child, day, activity, trigger, mentor, rng):
    k = np.asarray(child).size
    activity = np.broadcast_to(np.asarray(activity, dtype=object), (k,))
    dur = np.full(k, np.nan)
    for act, lo, hi in (("home_visit", 6, 19), ("phone_call", 1, 7), ("counselling", 3, 7),
                        ("home_attendance", 12, 25)):
        m = activity == act
        dur[m] = 5 * rng.integers(lo, hi, int(m.sum()))
    return pd.DataFrame({
        "child": np.asarray(child, int), "date": np.asarray(day, dtype="datetime64[D]"),
        "activity": activity.astype(str),
        "mentor": (np.full(k, -1) if mentor is None else np.asarray(mentor, int)),
        "trigger": ("" if trigger is None else np.asarray(trigger, dtype=str)),
        "duration_min": dur})


def _mentor_names(rng, k):
    names, _, _ = _unique_names(rng, k, _ELDER_CHARS, set())
    return names


def _mentor_ids(schools, school_idx, m_spring, n_mentors):
    """``T0103-02``: the mentor's school number and serial within the school."""
    school_of_mentor = np.zeros(n_mentors, int)
    school_of_mentor[m_spring] = school_idx
    code = np.empty(n_mentors, dtype=object)
    for s in range(schools.size):
        js = np.flatnonzero(school_of_mentor == s)
        stem = schools[s][1:] if schools[s][:1] == "S" else f"{s + 1:04d}"
        code[js] = [f"T{stem}-{k + 1:02d}" for k in range(js.size)]
    return code.astype(str)


def _phones(rng, n, head):
    def make(r, m):
        return [f"{head}0{t:07d}" for t in r.integers(0, 10_000_000, m)]
    return _unique_strings(rng, n, make, "phone numbers")


_FIRST_RELATION = {"grandparents": (("grandmother", "grandfather"), (0.6, 0.4)),
                   "other_relative": (("aunt", "uncle"), (0.6, 0.4)),
                   "one_parent": (("mother", "father"), (0.7, 0.3))}


def _archives(rng, spec, ids, program, school_idx, schools, m_spring, m_autumn, m_left,
              mentor_code, names, guardian_type, both_away, guardian_name, columns):
    n = ids.size
    roster = pd.DataFrame({"id": ids, **columns})
    # guardians: the survey files' guardian since the school year before; some change
    gt = np.asarray(guardian_type).astype(str)
    rel = np.empty(n, dtype=object)
    for g, (rels, ps) in _FIRST_RELATION.items():
        m = gt == g
        rel[m] = rng.choice(rels, int(m.sum()), p=ps)
    change = rng.random(n) < spec.guardian_change
    k_ch = int(change.sum())
    start, end = np.datetime64(spec.start), np.datetime64(spec.end)
    span = int((end - start).astype(int))
    ch_day = start + rng.integers(30, span - 30, k_ch).astype("timedelta64[D]")
    new_names, _, _ = _unique_names(rng, k_ch, _ELDER_CHARS, {(g, "") for g in guardian_name})
    phones = _phones(rng, n + k_ch, "172")
    g_first = pd.DataFrame({"id": ids, "guardian_id": [f"G{i + 1:06d}" for i in range(n)],
                            "relation": rel, "from": "2023-09-01", "to": "",
                            "guardian_name": list(guardian_name), "guardian_phone": phones[:n]})
    g_first.loc[change, "to"] = (ch_day - np.timedelta64(1, "D")).astype(str)
    new_rel = rng.choice(("aunt", "uncle", "grandmother", "mother"), k_ch)
    g_new = pd.DataFrame({"id": ids[change],
                          "guardian_id": [f"G{n + i + 1:06d}" for i in range(k_ch)],
                          "relation": new_rel, "from": ch_day.astype(str), "to": "",
                          "guardian_name": new_names, "guardian_phone": phones[n:]})
    guardians = pd.concat([g_first, g_new], ignore_index=True).sort_values(
        ["id", "from"], kind="mergesort", ignore_index=True)
    # parents: who works away and how often a migrant parent calls
    away = np.asarray(both_away).astype(int)
    father_away = np.where(away == 1, 1, np.where(
        (gt == "one_parent") & (rel == "father"), 0, (rng.random(n) < 0.7).astype(int)))
    mother_away = np.where(away == 1, 1, np.where(
        (gt == "one_parent") & (rel == "mother"), 0, 1 - father_away))
    mother_away = np.where((gt != "one_parent") & (away == 0) & (father_away == 1), 0, mother_away)
    freq = np.array(["weekly", "monthly", "rarely", "daily"])
    p_names, _, _ = _unique_names(rng, 2 * n, _ELDER_CHARS, {(g, "") for g in guardian_name})
    p_phones = _phones(rng, 2 * n, "173")
    parents = []
    for k, (who, migrant) in enumerate((("father", father_away), ("mother", mother_away))):
        f = freq[rng.choice(4, n, p=(0.45, 0.3, 0.15, 0.1))]
        parents.append(pd.DataFrame({
            "id": ids, "parent": who, "migrant": migrant,
            "call_frequency": np.where(migrant == 1, f, ""),
            "work_city": np.where(migrant == 1, np.array(_CITIES)[rng.integers(0, len(_CITIES), n)],
                                  ""),
            "parent_name": p_names[k * n:(k + 1) * n], "parent_phone": p_phones[k * n:(k + 1) * n]}))
    parents = pd.concat(parents, ignore_index=True).sort_values(
        ["id", "parent"], kind="mergesort", ignore_index=True)
    # mentors: the program children's assignment periods
    mid_end = str(np.datetime64(spec.terms[1][1]) - np.timedelta64(1, "D"))
    rows = []
    for i in np.flatnonzero(program):
        a, b = m_spring[i], m_autumn[i]
        if a == b:
            rows.append((mentor_code[a], ids[i], spec.start, "", names[a]))
        else:
            rows.append((mentor_code[a], ids[i], spec.start, mid_end, names[a]))
            rows.append((mentor_code[b], ids[i], spec.terms[1][1], "", names[b]))
    mentors = pd.DataFrame(rows, columns=["mentor_id", "id", "from", "to", "mentor_name"])
    mentors = mentors.sort_values(["mentor_id", "id", "from"], kind="mergesort",
                                  ignore_index=True)
    return {"roster": roster, "guardians": guardians, "parents": parents, "mentors": mentors}


def _r(x, d=6):
    return float(round(float(x), d))


def _truth(spec, program, arm, s1, s0, r1, r0, contaminated, never, delta_mult, dose, mentors,
           log, n_mentors) -> dict:
    d_share = float(s1.mean() - s0.mean())
    d_recv = float(r1.mean() - r0.mean())
    complier = r1 & ~r0
    load = mentors.assign(term=np.where(mentors["from"] == spec.start, "spring", "autumn"))
    by_arm = {}
    labels = np.asarray(arm).astype(str) if arm is not None else np.full(program.size, "all")
    for a in dict.fromkeys(labels):
        m = labels == a
        by_arm[a] = {"children": int(m.sum()), "share_met_mean": _r(dose.share_met[m].mean()),
                     "received_share": _r(dose.received[m].mean()),
                     "any_contact_share": _r(dose.any_contact[m].mean())}
    return {
        "generator": "analysis.simulate_delivery.simulate_delivery",
        "stream": f"numpy SeedSequence(seed, spawn_key=({STREAM_KEY},))",
        "protocol_cells_per_child": 2 * len(spec.calendar()[0]) + len(spec.terms),
        "dose_definition": "share_met = cells met / cells expected (home_visit and phone_call "
                           "per expected month, letter per term; a cell is met by >= 1 contact "
                           "of its activity, triggered visits included); received = share_met "
                           f">= {spec.received_share}",
        "effect_model": "endline latent trait += delta * share_met in every arm (delta = the "
                        "outcome's effect_latent_sd times its arm multiplier; a control child's "
                        "contacts count with the first program arm's delta)",
        "parameters": {k: (list(map(list, v)) if isinstance(v, tuple) else v)
                       for k, v in spec.__dict__.items() if k not in ("extra", "primary")},
        "by_arm": by_arm,
        "potential": {
            "mean_share_if_program": _r(s1.mean()), "mean_share_if_control": _r(s0.mean()),
            "first_stage_share": _r(d_share),
            "received_if_program": _r(r1.mean()), "received_if_control": _r(r0.mean()),
            "first_stage_received": _r(d_recv),
            "compliers_received": _r(complier.mean()),
            "always_takers_received": _r((r1 & r0).mean()),
            "defiers_received": _r((~r1 & r0).mean()),
            "mean_share_gain_compliers": _r((s1 - s0)[complier].mean()) if complier.any()
            else None,
            "mean_share_gain_all": _r(d_share),
        },
        "non_compliance": {"never_reached_share": _r(never[program].mean()),
                           "control_contaminated_share": _r(contaminated[~program].mean())
                           if (~program).any() else None},
        "mentors": {"program_mentors": int(mentors["mentor_id"].nunique()),
                    "left_after_spring": int(mentors.loc[mentors["to"] != "", "mentor_id"]
                                             .nunique()),
                    "max_children_autumn": int(load[load["to"] == ""].groupby("mentor_id")
                                               .size().max()) if len(load) else 0},
        "contacts": {"rows": int(len(log)),
                     "by_activity": {k: int(v) for k, v in
                                     log["activity"].value_counts().sort_index().items()},
                     "triggers": int((log["trigger"] != "").sum())},
    }


def delivery_effects(delta: float, truth: dict, effect_scale: float | None = None) -> dict:
    """The causal quantities of one outcome under the delivery model.

    ``delta``: the outcome's latent effect of the full protocol (first program arm);
    ``effect_scale``: the ITT on the scale (when known). Returns the ITT in latent SD,
    the 2SLS estimands with the continuous and the binary dose, and the average effect
    among compliers, in latent SD and (when ``effect_scale`` is given) in scale units
    (latent x ``effect_scale / itt_latent``: the scale is nearly linear over this range).

    Examples
    --------
    >>> t = {"potential": {"first_stage_share": 0.8, "first_stage_received": 0.5,
    ...                    "mean_share_gain_compliers": 0.9}}
    >>> delivery_effects(0.3, t)["iv_estimand_share_latent_sd"]
    0.3
    """
    p = truth["potential"]
    itt = delta * p["first_stage_share"]
    out = {"delta_full_protocol_latent_sd": _r(delta), "itt_latent_sd": _r(itt),
           "iv_estimand_share_latent_sd": _r(delta),
           "iv_estimand_received_latent_sd": _r(itt / p["first_stage_received"])
           if p["first_stage_received"] else None,
           "complier_effect_received_latent_sd": _r(delta * p["mean_share_gain_compliers"])
           if p.get("mean_share_gain_compliers") is not None else None}
    if effect_scale is not None and itt:
        k = effect_scale / itt
        out.update({
            "itt_scale": _r(effect_scale),
            "iv_estimand_share_scale": _r(effect_scale / p["first_stage_share"]),
            "iv_estimand_received_scale": _r(effect_scale / p["first_stage_received"])
            if p["first_stage_received"] else None,
            "complier_effect_received_scale": _r(k * out["complier_effect_received_latent_sd"])
            if out["complier_effect_received_latent_sd"] is not None else None})
    return out

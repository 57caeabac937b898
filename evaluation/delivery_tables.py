"""The tables and words of the program-delivery page (``06_delivery``): was the program
delivered as designed, where and by whom did it fall short, and what was the effect for the
children who actually received it.

The statistics are :mod:`analysis.fidelity` (protocol met per child and period, mentor load,
triggered visits, dosage) and :mod:`analysis.dose` (dose bands, the complier average causal
effect, contamination); this module shapes what they return for the page:

- :func:`program_children` (who is in which arm and school), :func:`calendar_frame` and
  :func:`month_frame` (the calendar heat map), :func:`school_period_shares` (fidelity by
  school over time), :func:`mentor_shares` and :func:`mentor_bands` (by whom);
- the published tables (:class:`evaluation.published_table.PublishedTable`, both languages,
  every number rounded by its kind, small cells shown as ``§``):
  :func:`protocol_published`, :func:`mentor_published`, :func:`mentor_bands_published`,
  :func:`load_published`, :func:`triggers_published`, :func:`dose_bands_published`,
  :func:`cace_published`, :func:`contamination_published`;
- the page's words, each paragraph written in English and in Chinese (never translated by
  code): :func:`delivery_summary` (the "delivered as designed?" paragraph), :data:`TEXT`
  (what each section shows and what it means for the program), :func:`cace_text` (the
  causal status of every number; why there is no complier effect in a design that was not
  randomized).

Small cells: a row describing fewer than ``privacy.min_cell`` children shows ``§`` (the
tables the notebook writes go through :meth:`evaluation.run_folder.RunFolder.write_table`);
a school with fewer children is not named in a figure; mentors and children appear only as
pseudonyms (children never by name or pseudonym in a figure).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.delivery_figures import ACTIVITY_LABELS, band_name, period_text
from evaluation.labels import bilingual as _labels_bilingual

__all__ = [
    "PAGE",
    "TEXT",
    "TRIGGER_LABELS",
    "activity_label",
    "bilingual",
    "cace_published",
    "cace_text",
    "calendar_frame",
    "contamination_published",
    "contamination_text",
    "delivery_summary",
    "dose_bands_published",
    "load_published",
    "mentor_bands",
    "mentor_bands_published",
    "mentor_published",
    "mentor_labels",
    "mentor_shares",
    "mentor_table_skipped",
    "month_frame",
    "page_title",
    "program_children",
    "program_protocol",
    "protocol_published",
    "section_heading",
    "triggers_published",
    "verdict",
    "VERDICTS",
    "activity_shares",
    "received_share",
    "school_shares",
]

PAGE = "06_delivery"
LANGS = ("en", "zh")

TRIGGER_LABELS = {
    "mood": {"en": "Upset (mood)", "zh": "情绪异常"},
    "illness": {"en": "Ill", "zh": "生病"},
    "grades": {"en": "Falling behind", "zh": "学习成绩下滑"},
    "lateness": {"en": "Late or absent", "zh": "迟到或缺勤"},
    "conflict": {"en": "Quarrelling", "zh": "与人发生冲突"},
}
"""The built-in triggers of 五必访 in words."""

TITLE = {"en": "Program delivery: fidelity and dose", "zh": "项目落实：执行忠实度与剂量"}

TEXT = {
    "intro": {
        "en": ("This page asks whether the program was delivered as its protocol says, where "
               "and by whom it fell short, and what the program did for the children who "
               "actually received it. It reads the contact log (who was visited, called or "
               "written to, when and by whom) against the protocol in study.yaml. Children and "
               "mentors appear only as pseudonyms; a cell of fewer than {k} children shows §."),
        "zh": ("本页回答三个问题：项目是否按方案落实；在哪些学校、由哪些帮扶人落实得不够；对真正接受了帮扶的"
               "儿童，项目的效果是多少。本页把活动记录（谁在何时由谁家访、打电话或写信）与 study.yaml 中的"
               "帮扶方案逐条对照。儿童和帮扶人只以化名出现；少于 {k} 名儿童的格显示为 §。"),
    },
    "protocol": {
        "en": ("For each activity of the protocol: the share of the expected periods (a month for "
               "a monthly visit, a term for a termly letter) in which a child received what the "
               "protocol requires, over all children of the program arms and by arm. Periods "
               "without school (summer, holidays) and periods before a child joined or after "
               "the child left the program are not expected. A low share means children went "
               "without the contact the program promised them."),
        "zh": ("对方案中的每项活动：在应开展的时段（每月一次的家访按月计，每学期一封的书信按学期计）中，儿童"
               "得到方案要求的次数的时段所占比例，先给出项目组全体儿童，再按组别给出。假期（暑假、节假日）以及"
               "儿童加入项目之前、离开项目之后的时段不计入要求。比例低，说明有儿童没有得到项目承诺的帮扶。"),
    },
    "by_school": {
        "en": ("The same share per school and period: where and when delivery fell short. A "
               "school with fewer than {k} children in a period shows § instead of its share."),
        "zh": ("按学校和时段给出同一比例：看出在哪里、在什么时候落实得不够。某时段少于 {k} 名儿童的学校显示 §。"),
    },
    "by_mentor": {
        "en": ("By mentor (pseudonyms): the share of their children's expected periods in which "
               "the protocol was met. Mentors look after few children, so most single mentors "
               "cannot be shown (§: fewer than {k} children); the table below counts the mentors "
               "in bands of the share they met, which shows whether a shortfall is spread over "
               "many mentors or held by a few."),
        "zh": ("按帮扶人（化名）：其所负责儿童的应开展时段中，达到方案要求的比例。每位帮扶人负责的儿童不多，"
               "单个帮扶人的结果大多不能公布（§：少于 {k} 名儿童）；下表按达标比例分段统计帮扶人数，"
               "可以看出落实不足是分散在许多帮扶人身上，还是集中在少数人身上。"),
    },
    "calendar": {
        "en": ("Every row is one child (not named), grouped by arm and school; every column a "
               "month; the colour counts the contacts logged for the child that month. Hatched "
               "months expect nothing (summer, holidays). Pale rows inside a program school are "
               "children who were seldom reached; coloured rows in the control arm are "
               "contamination."),
        "zh": ("每一行是一名儿童（不显示身份），按组别和学校排列；每一列是一个月；颜色表示当月为该儿童记录的"
               "帮扶活动次数。斜线标出的月份不要求开展（暑假、节假日）。项目学校中颜色很浅的行，是很少被帮扶到"
               "的儿童；对照组中有颜色的行，说明对照组受到了项目的“污染”。"),
    },
    "load": {
        "en": ("Children per mentor each month against the protocol's limit of {limit}: a mentor "
               "over the limit has less time for each child."),
        "zh": "每位帮扶人每月负责的儿童数与方案上限（{limit} 名）的对照：超过上限的帮扶人分给每名儿童的时间更少。",
    },
    "load_no_limit": {
        "en": "Children per mentor each month (the protocol sets no limit).",
        "zh": "每位帮扶人每月负责的儿童数（方案未设上限）。",
    },
    "triggers": {
        "en": ("Triggered visits (五必访): each logged event (a child upset, ill, falling behind, "
               "late or quarrelling) requires a home visit within the protocol's window. The "
               "table counts the events and the share followed by the visit in time."),
        "zh": ("五必访：每次记录的情况（儿童情绪异常、生病、学习下滑、迟到或与人冲突）都要求在方案规定的天数内"
               "家访。表中统计这些情况的次数，以及按时家访的比例。"),
    },
    "no_triggers": {
        "en": "No triggered visit is required by the protocol, or none was logged.",
        "zh": "方案没有要求五必访，或活动记录中没有记录触发情况。",
    },
    "dose_bands": {
        "en": ("Outcome change by the dose the child received (the share of the protocol met). "
               "This is an association, not an effect: children who get more visits differ from "
               "those who don't (they are easier to reach, their guardians more willing, their "
               "mentors more diligent), so a rising line does not show that visits work."),
        "zh": ("按儿童实际接受的剂量（达到方案要求的比例）分组的结局变化。这是相关，不是效果：接受家访多的"
               "儿童本来就与接受少的儿童不同（更容易联系到、监护人更配合、帮扶人更尽责），所以曲线上升并不能"
               "说明家访有效。"),
    },
}
"""What each section shows and what it means for the program, in both languages."""

_HEADINGS = {
    "summary": {"en": "Delivered as designed?", "zh": "是否按方案落实？"},
    "protocol": {"en": "Protocol met, by activity", "zh": "各项活动达到方案要求的比例"},
    "by_school": {"en": "By school over time", "zh": "各学校随时间的落实情况"},
    "by_mentor": {"en": "By mentor", "zh": "各帮扶人的落实情况"},
    "calendar": {"en": "Contacts per child and month", "zh": "每名儿童每月的帮扶活动"},
    "load": {"en": "Mentor load", "zh": "帮扶人负担"},
    "triggers": {"en": "Triggered visits (五必访)", "zh": "五必访"},
    "dose": {"en": "Dose and outcomes", "zh": "剂量与结局"},
    "contamination": {"en": "Contamination of the control arm", "zh": "对照组受到的污染"},
}


bilingual = _labels_bilingual  # one rule for every page (evaluation.labels.bilingual)


def page_title(lang: str | None = None, first: str = "zh") -> str:
    """``"项目落实：执行忠实度与剂量 · Program delivery: fidelity and dose"`` (``first``
    language first) or one language's title."""
    if lang is not None:
        return TITLE[lang]
    other = "en" if first == "zh" else "zh"
    return f"{TITLE[first]} · {TITLE[other]}"


def section_heading(section: str, lang: str) -> str:
    """A section heading in both languages, ``lang`` first.

    Examples
    --------
    >>> section_heading("load", "en")
    'Mentor load · 帮扶人负担'
    """
    t = _HEADINGS[section]
    other = "en" if lang == "zh" else "zh"
    return f"{t[lang]} · {t[other]}"


def text(key: str, **kw) -> dict:
    """A paragraph of :data:`TEXT` with its placeholders filled, ``{"en": ..., "zh": ...}``."""
    return {lg: TEXT[key][lg].format(**kw) for lg in LANGS}


def activity_label(activity, lang: str) -> str:
    """An activity type in words (a study's own types as written)."""
    v = ACTIVITY_LABELS.get(str(activity))
    return v[lang] if v else str(activity)


def _trigger_label(trigger, lang: str) -> str:
    v = TRIGGER_LABELS.get(str(trigger))
    return v[lang] if v else str(trigger)


def _pct(x, digits: int = 0) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def _num(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _true(v) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


# --------------------------------------------------------------------------- the frames


def program_protocol(study):
    """The study's protocol, with every child in the program when the design has no arms
    (a one-group study: its children have arm ``all``, :func:`program_children`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from datetime import date
    >>> from core.design import Design
    >>> from core.protocol import Protocol
    >>> s = NS(design=Design(type="pre_post", id="id", waves=("a", "b")),
    ...        protocol=Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30)))
    >>> program_protocol(s).arms
    ('all',)
    """
    import dataclasses

    p = study.protocol
    if p is not None and not study.design.arm and not p.arms:
        return dataclasses.replace(p, arms=("all",))
    return p


def program_children(study, scores: pd.DataFrame, roster: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """One row per child: ``<id>, arm, school`` (the design's first cluster level; missing
    without clusters), from the roster when it has the columns, else the scored data.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> d = Design(type="cluster_randomized", id="sid", arm="arm", control="c",
    ...            clusters=("school_id",))
    >>> s = pd.DataFrame({"sid": ["a", "a", "b"], "arm": ["t", "t", "c"],
    ...                   "school_id": ["S1", "S1", "S2"], "wave": ["w0", "w1", "w0"]})
    >>> program_children(NS(design=d), s).values.tolist()
    [['a', 't', 'S1'], ['b', 'c', 'S2']]
    """
    d = study.design
    school = d.clusters[0] if d.clusters else None
    cols = [d.id] + [c for c in (d.arm, school) if c]
    frames = []
    if roster is not None and len(roster) and set(cols) <= set(roster.columns):
        frames.append(roster[cols])
    if set(cols) <= set(scores.columns):
        frames.append(scores[cols])
    if not frames:
        base = (roster if roster is not None and d.id in getattr(roster, "columns", ())
                else scores)
        frames.append(base[[c for c in cols if c in base.columns]])
    out = pd.concat(frames, ignore_index=True).dropna(subset=[d.id])
    out = out.drop_duplicates(subset=[d.id], keep="first").reset_index(drop=True)
    out = out.rename(columns={d.arm: "arm"} if d.arm else {})
    if "arm" not in out:
        out["arm"] = "all"
    # no clusters: no school (a missing value, so that nothing is reported by school)
    out["school"] = out[school].astype(object) if school and school in out else None
    return out[[d.id, "arm", "school"]]


def month_frame(protocol, expected: pd.DataFrame | None = None) -> pd.DataFrame:
    """The months of the delivery period, ``month`` (``YYYY-MM``) and ``expected``.

    A month is expected when a monthly rule expects it (``expected`` of
    :func:`analysis.fidelity.expected_periods`, rows with ``per == "month"``); without a
    monthly rule (or without ``expected``), when at least ``protocol.min_school_share`` of
    its days in the delivery period are school days (terms, not holidays).

    Examples
    --------
    >>> from datetime import date
    >>> from core.protocol import DateRange, Protocol
    >>> p = Protocol(start=date(2024, 6, 1), end=date(2024, 9, 30),
    ...              terms=(DateRange(date(2024, 6, 1), date(2024, 7, 10)),
    ...                     DateRange(date(2024, 9, 1), date(2024, 9, 30))))
    >>> month_frame(p).values.tolist()
    [['2024-06', True], ['2024-07', False], ['2024-08', False], ['2024-09', True]]
    """
    months = pd.period_range(pd.Timestamp(protocol.start), pd.Timestamp(protocol.end), freq="M")
    names = [str(m) for m in months]
    if expected is not None and len(expected) and "per" in expected:
        monthly = expected[expected["per"].astype(str) == "month"]
        if len(monthly):
            start = pd.to_datetime(monthly["period_start"])
            key = start.dt.strftime("%Y-%m")
            flags = monthly.assign(_m=key.to_numpy()).groupby("_m")["expected"].any()
            return pd.DataFrame({"month": names,
                                 "expected": [bool(flags.get(m, False)) for m in names]})
    out = []
    for m in months:
        days = pd.date_range(max(m.start_time, pd.Timestamp(protocol.start)),
                             min(m.end_time.normalize(), pd.Timestamp(protocol.end)))
        school = sum(protocol.is_school_day(d.date()) for d in days)
        out.append(len(days) > 0 and school / len(days) >= protocol.min_school_share)
    return pd.DataFrame({"month": names, "expected": out})


def calendar_frame(contacts: pd.DataFrame, children: pd.DataFrame, months: pd.DataFrame, *,
                   id: str) -> pd.DataFrame:
    """Contacts per child and month for :func:`analysis.delivery_figures.delivery_calendar`:
    ``child, arm, school, month, n_contacts``, every child of ``children`` and every month
    of ``months`` (0 where nothing was logged); contacts of ids outside ``children`` are
    left out.

    Examples
    --------
    >>> kids = pd.DataFrame({"sid": ["a", "b"], "arm": "t", "school": "S1"})
    >>> log = pd.DataFrame({"sid": ["a", "a", "z"], "date": pd.to_datetime(
    ...     ["2024-03-02", "2024-03-20", "2024-03-05"]), "activity": "home_visit"})
    >>> months = pd.DataFrame({"month": ["2024-03", "2024-04"], "expected": True})
    >>> calendar_frame(log, kids, months, id="sid")["n_contacts"].tolist()
    [2, 0, 0, 0]
    """
    names = [str(m) for m in months["month"]]
    grid = pd.MultiIndex.from_product([children[id].astype(str).tolist(), names],
                                      names=["child", "month"])
    if len(contacts):
        c = contacts.assign(child=contacts[id].astype(str),
                            month=pd.to_datetime(contacts["date"]).dt.strftime("%Y-%m"))
        counts = c.groupby(["child", "month"]).size()
    else:
        counts = pd.Series(dtype="int64")
    out = counts.reindex(grid, fill_value=0).rename("n_contacts").reset_index()
    info = children.assign(child=children[id].astype(str))[["child", "arm", "school"]]
    out = out.merge(info, on="child", how="left")
    return out[["child", "arm", "school", "month", "n_contacts"]]


def school_shares(summary: pd.DataFrame, met: pd.DataFrame | None = None) -> pd.DataFrame:
    """Protocol met per activity, school and period, for
    :func:`analysis.delivery_figures.fidelity_by_school`: the ``section == "protocol"``,
    ``level == "school"`` rows of ``tables/fidelity.csv`` (the share of the school's
    expected children who met the rule in the period; small cells already suppressed) as
    ``activity, school, period, period_start, n_children, share_met, suppressed``;
    ``period_start`` from ``met`` (:func:`analysis.fidelity.protocol_met`) orders the
    periods (terms by date, not by name).

    Examples
    --------
    >>> fs = pd.DataFrame({"section": "protocol", "activity": "letter", "level": "school",
    ...                    "group": ["S1", "S1"], "period": ["spring", "autumn"],
    ...                    "n_children": [9, 9], "share_met": [0.5, 1.0],
    ...                    "suppressed": [False, False]})
    >>> met = pd.DataFrame({"period": ["spring", "autumn"],
    ...                     "period_start": pd.to_datetime(["2024-03-01", "2024-09-01"])})
    >>> school_shares(fs, met)["period"].tolist()
    ['spring', 'autumn']
    """
    s = summary[(summary["section"].astype(str) == "protocol")
                & (summary["level"].astype(str) == "school")]
    out = pd.DataFrame({"activity": s["activity"].astype(str).to_numpy(),
                        "school": s["group"].astype(str).to_numpy(),
                        "period": s["period"].astype(str).to_numpy(),
                        "n_children": pd.to_numeric(s["n_children"], errors="coerce")
                        .to_numpy(dtype=float),
                        "share_met": pd.to_numeric(s["share_met"], errors="coerce")
                        .to_numpy(dtype=float),
                        "suppressed": s["suppressed"].map(_true).to_numpy(dtype=bool)
                        if "suppressed" in s else False})
    if met is not None and len(met) and "period_start" in met:
        starts = (met.assign(_p=met["period"].astype(str))
                  .groupby("_p")["period_start"].min())
        out["period_start"] = pd.to_datetime(out["period"].map(starts))
    else:
        out["period_start"] = pd.NaT
    return out.sort_values(["activity", "period_start", "period"], kind="stable"
                           ).reset_index(drop=True)


def mentor_shares(met: pd.DataFrame, *, id: str, min_cell: int = 1,
                  suppress: bool = True) -> pd.DataFrame:
    """Per mentor (pseudonym) over all activities and periods: ``mentor_id, n_children,
    n_periods, n_met, share_met, suppressed``, lowest share first; a mentor of fewer than
    ``min_cell`` children has its numbers blanked (with complementary suppression, so
    that the total cannot give it away; ``suppress=False``: all numbers, for
    :func:`mentor_bands`). ``met``: :func:`analysis.fidelity.protocol_met`
    (the mentor of each child-period in ``mentor_id``; none: ``unassigned``).

    Examples
    --------
    >>> met = pd.DataFrame({"sid": list("aabbcccdde"), "mentor_id": list("xxxxyyyyyz"),
    ...                     "met": [1, 1, 0, 1, 0, 0, 1, 1, 1, 0]})
    >>> mentor_shares(met, id="sid", min_cell=1)[["mentor_id", "n_children",
    ...                                             "share_met"]].values.tolist()
    [['z', 1, 0.0], ['y', 2, 0.6], ['x', 2, 0.75]]
    """
    from analysis.disclosure import suppress_small_cells

    m = met.assign(mentor_id=met["mentor_id"].astype(object).where(met["mentor_id"].notna(),
                                                                   "unassigned"))
    g = m.groupby("mentor_id")
    out = pd.DataFrame({"n_children": g[id].nunique(), "n_periods": g.size(),
                        "n_met": g["met"].sum().astype(int)}).reset_index()
    out["share_met"] = out["n_met"] / out["n_periods"]
    out = out.sort_values(["share_met", "mentor_id"], kind="stable").reset_index(drop=True)
    if suppress and min_cell > 1:
        out = suppress_small_cells(out, count="n_children", min_cell=int(min_cell),
                                   stats=["n_periods", "n_met", "share_met"],
                                   margins=["mentor_id"])
    if "suppressed" not in out:
        out["suppressed"] = False
    out["suppressed"] = out["suppressed"].map(_true)
    out = out.assign(_s=out["suppressed"].astype(int))
    return out.sort_values(["_s", "share_met", "mentor_id"], kind="stable",
                           na_position="last").drop(columns="_s").reset_index(drop=True)


# --------------------------------------------------------------------------- published tables


def _pt():
    from evaluation import published_table as pt

    return pt


def _arm_text(study, arm, lang: str) -> str:
    fn = getattr(study, "label", None)
    if arm is None or (isinstance(arm, float) and math.isnan(arm)):
        return ""
    return str(fn("arm", arm, lang)) if fn else str(arm)


def _rows(summary: pd.DataFrame, section: str, **eq) -> pd.DataFrame:
    s = summary[summary["section"].astype(str) == section]
    for k, v in eq.items():
        vals = [v] if isinstance(v, str) else list(v)
        s = s[s[k].astype(str).isin(vals)]
    return s


def _activity_order(study, activities) -> list:
    rules = [r.activity for r in getattr(getattr(study, "protocol", None), "activities", ())]
    acts = [a for a in dict.fromkeys(map(str, activities)) if a != "all"]
    ordered = [a for a in rules if a in acts] + [a for a in acts if a not in rules]
    return ordered + (["all"] if "all" in set(map(str, activities)) else [])


_ALL_ACTIVITIES = {"en": "All activities", "zh": "全部活动"}


def _activity_cell(activity, lang_all=True):
    if str(activity) == "all":
        return dict(_ALL_ACTIVITIES)
    return {lg: activity_label(activity, lg) for lg in LANGS}


def protocol_published(summary: pd.DataFrame, study, lang: str = "en", *,
                       min_cell: int | None = None):
    """Delivered as designed, by activity: every program child, then by arm when there are
    several program arms (the
    ``section == "summary"`` rows of ``tables/fidelity.csv``): the share of expected
    child-periods met, and the share of children who received the protocol (met at least
    ``received_share`` of their periods).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fs = pd.DataFrame({"section": "summary", "activity": "home_visit",
    ...                    "level": ["overall", "overall", "arm", "arm", "arm", "arm"],
    ...                    "group": ["all", "all", "t", "t", "u", "u"], "period": "all",
    ...                    "measure": ["child_periods", "children_received"] * 3,
    ...                    "n_children": [40, 40, 3, 3, 37, 37],
    ...                    "share_met": [0.78125, 0.6, None, None, None, None],
    ...                    "suppressed": [False, False, True, True, True, True]})
    >>> s = NS(label=lambda c, v, lg: v, protocol=NS(received_share=0.8, activities=()))
    >>> protocol_published(fs, s, min_cell=5).cells("en").values.tolist()[:2]
    [['Home visit', 'All program children', '40', '78.1%', '60.0%'], ['', 't', '§', '§', '§']]
    """
    pt = _pt()
    s = _rows(summary, "summary", level=["overall", "arm"])
    arms = s.loc[s["level"].astype(str) == "arm", "group"].astype(str).unique()
    if len(arms) < 2:  # one program arm: its rows repeat the overall ones
        s = s[s["level"].astype(str) == "overall"]
    rows = []
    # the key columns as text, once (not again for every activity and group)
    key = pd.DataFrame({c: s[c].astype(str) for c in ("activity", "level", "group", "measure")},
                       index=s.index)
    for act in _activity_order(study, s["activity"]):
        in_act = (key["activity"] == act).to_numpy()
        sub, sub_key = s[in_act], key[in_act]
        # the overall row first, then the arms by name (a stable sort: the order of first
        # appearance among equals)
        groups = list(dict.fromkeys(zip(sub_key["level"], sub_key["group"])))
        if all(isinstance(v, str) for pair in groups for v in pair):
            groups.sort(key=lambda pair: (pair[0] != "overall", pair[1]))
        else:  # a missing level or group: sorted as pandas does (missing last)
            frame = sub_key[["level", "group"]].drop_duplicates()
            frame = frame.assign(_o=(frame["level"] != "overall").astype(int)).sort_values(
                ["_o", "group"], kind="stable")
            groups = list(zip(frame["level"], frame["group"]))
        first = True
        for lev, grp in groups:
            sel = ((sub_key["level"] == lev) & (sub_key["group"] == grp)).to_numpy()
            g, measure = sub[sel], sub_key["measure"].to_numpy()[sel]
            per = g[measure == "child_periods"]
            rec = g[measure == "children_received"]
            sup = bool(g["suppressed"].map(_true).any()) if "suppressed" in g else False
            n = _num(per["n_children"].iloc[0]) if len(per) else math.nan
            rows.append({
                "activity": _activity_cell(act) if first else "",
                "who": ({"en": "All program children", "zh": "项目组全体儿童"} if lev == "overall"
                        else {lg: _arm_text(study, grp, lg) for lg in LANGS}),
                "n_children": math.nan if sup else n,
                "share_periods": _num(per["share_met"].iloc[0]) if len(per) else math.nan,
                "share_received": _num(rec["share_met"].iloc[0]) if len(rec) else math.nan,
                "suppressed": sup})
            first = False
    data = pd.DataFrame(rows, columns=["activity", "who", "n_children", "share_periods",
                                       "share_received", "suppressed"])
    k = float(getattr(getattr(study, "protocol", None), "received_share", 0.8) or 0.8)
    cols = [pt.ColumnSpec("activity", "Activity", "活动"),
            pt.ColumnSpec("who", "Children", "儿童"),
            pt.ColumnSpec("n_children", "n", "人数", "count"),
            pt.ColumnSpec("share_periods", "Expected periods met", "应开展时段的达标比例",
                          "share"),
            pt.ColumnSpec("share_received", f"Children who received ≥ {_pct(k)}",
                          f"达标时段 ≥ {_pct(k)} 的儿童比例", "share")]
    return pt.PublishedTable(
        data, cols, caption_en="Delivered as designed? Protocol met, by activity",
        caption_zh="是否按方案落实？各项活动达到方案要求的比例",
        notes_en=[f"Expected periods met: of the child-periods (child × month, or child × term "
                  f"for a termly activity) in which the protocol expected the activity, the share "
                  f"in which the child received at least its minimum. Children who received: "
                  f"the share of children with at least {_pct(k)} of their expected periods met "
                  f"(the study's threshold for having received the protocol). n: program children "
                  f"with an expected period."],
        notes_zh=[f"应开展时段的达标比例：在方案要求开展该活动的“儿童 × 时段”（按月的活动为儿童 × 月，按学期的"
                  f"为儿童 × 学期）中，儿童至少得到最低次数的比例。达标儿童比例：至少 {_pct(k)} 的应开展时段"
                  f"达标的儿童所占比例（研究设定的“接受了方案”的标准）。人数：有应开展时段的项目组儿童数。"],
        min_cell=min_cell, lang=lang)


def mentor_labels(mentor_ids) -> dict:
    """Short display labels of mentors: ``{pseudonym: "A01", ...}`` assigned in the sorted
    order of the pseudonyms (stable across runs of the same study and key; the order of
    keyed pseudonyms says nothing about the mentors). ``unassigned`` gets no label.

    Examples
    --------
    >>> mentor_labels(["m_9f3a", "m_04b1", "unassigned", "m_9f3a"])
    {'m_04b1': 'A01', 'm_9f3a': 'A02'}
    """
    ids = sorted({str(m) for m in mentor_ids if pd.notna(m) and str(m) != "unassigned"})
    width = max(2, len(str(len(ids))))
    return {m: f"A{i:0{width}d}" for i, m in enumerate(ids, start=1)}


def _mentor_cell(label: str) -> dict:
    return {"en": f"Mentor {label}", "zh": f"帮扶人 {label}"}


def mentor_table_skipped(min_cell: int | None, load_limit) -> dict | None:
    """Why the per-mentor table is not shown, ``{"en", "zh"}``, or ``None`` when it is: with
    a protocol limit of ``load_limit`` children per mentor below ``min_cell``, only mentors
    over the limit could be listed (a mentor of fewer than ``min_cell`` children is
    suppressed), so such a table would describe the overloaded mentors only.

    Examples
    --------
    >>> mentor_table_skipped(5, 3)["en"][:36]
    'No table of single mentors is shown:'
    >>> mentor_table_skipped(5, 12) is None, mentor_table_skipped(1, 3) is None
    (True, True)
    """
    k = int(min_cell or 1)
    if load_limit is None or k <= 1 or float(load_limit) >= k:
        return None
    lim = f"{float(load_limit):g}"
    return {"en": (f"No table of single mentors is shown: a mentor may look after at most {lim} "
                   f"children, and a mentor of fewer than {k} children cannot be shown, so only "
                   "mentors over the limit could appear; the bands above count every mentor."),
            "zh": (f"不列出单个帮扶人的表：方案规定每位帮扶人最多负责 {lim} 名儿童，而负责儿童少于 {k} 名的"
                   "帮扶人不能公布，这样的表只能列出超过上限的帮扶人；上表的分段统计包括每一位帮扶人。")}


def mentor_published(shares: pd.DataFrame, lang: str = "en", *, min_cell: int | None = None,
                     limit: int = 15, labels: dict | None = None):
    """Protocol met by mentor (:func:`mentor_shares`): mentors as short labels
    (``Mentor A07`` / ``帮扶人 A07``, :func:`mentor_labels`; pass ``labels`` computed on
    every mentor so that a label does not depend on who is listed), lowest share first
    (where it fell short), at most ``limit`` rows; mentors of fewer than ``min_cell``
    children (suppressed) are not listed, and a note says which mentors can appear and
    counts the others (:func:`mentor_bands` counts every mentor). See
    :func:`mentor_table_skipped` for when the table should not be shown at all."""
    pt = _pt()
    sup = shares["suppressed"].map(_true) if "suppressed" in shares else \
        pd.Series(False, index=shares.index)
    hidden = int(sup.sum())
    labels = labels if labels is not None else mentor_labels(shares["mentor_id"])
    d = shares[~sup].head(limit).copy()
    d["mentor"] = [({"en": "No mentor assigned", "zh": "未分配帮扶人"} if m == "unassigned"
                    else _mentor_cell(labels.get(str(m), "?"))) for m in d["mentor_id"]]
    cols = [pt.ColumnSpec("mentor", "Mentor", "帮扶人"),
            pt.ColumnSpec("n_children", "Children", "儿童数", "count"),
            pt.ColumnSpec("n_periods", "Expected child-periods", "应开展的儿童时段数", "count"),
            pt.ColumnSpec("share_met", "Met", "达标比例", "share")]
    more = int((~sup).sum()) - len(d)
    notes_en = ["All activities together; each child-period counts with its mentor (the one "
                "assigned for most of the period). Lowest share first. Mentor labels (A01, "
                "A02 ...) are assigned in the order of the mentors' pseudonyms."]
    notes_zh = ["各项活动合计；每个“儿童 × 时段”计入该时段大部分时间负责该儿童的帮扶人。按达标比例从低到高排列。"
                "帮扶人编号（A01、A02……）按帮扶人化名的顺序分配。"]
    if min_cell and int(min_cell) > 1:
        notes_en.append(f"Only mentors of at least {int(min_cell)} children can appear in this "
                        "table.")
        notes_zh.append(f"只有负责至少 {int(min_cell)} 名儿童的帮扶人才能列入本表。")
    if more > 0:
        notes_en.append(f"The {len(d)} mentors with the lowest shares are listed; {more} more "
                        "are counted in the bands above.")
        notes_zh.append(f"只列出达标比例最低的 {len(d)} 名帮扶人；其余 {more} 名计入上表的分段统计。")
    if hidden:
        notes_en.append(f"{hidden} mentors of fewer than {min_cell or 'the minimum of'} children "
                        "(or whose numbers would give such a mentor away) are not listed; "
                        "they are counted in the bands above.")
        notes_zh.append(f"{hidden} 名帮扶人负责的儿童少于 {min_cell or '最小单元格'} 名（或其数字会暴露这样的"
                        "帮扶人），未列出；他们计入上表的分段统计。")
    if not len(d):
        d = pd.DataFrame(columns=["mentor", "n_children", "n_periods", "share_met"])
    return pt.PublishedTable(d, cols, caption_en="Protocol met, by mentor",
                             caption_zh="各帮扶人达到方案要求的比例", notes_en=notes_en,
                             notes_zh=notes_zh, min_cell=min_cell, lang=lang)


MENTOR_BANDS = ((0.0, 0.5, "< 50%"), (0.5, 0.8, "50–79%"), (0.8, 1.0001, "≥ 80%"))


def mentor_bands(shares: pd.DataFrame) -> pd.DataFrame:
    """Mentors counted by the share of their children's periods met (from
    :func:`mentor_shares` with ``suppress=False``): ``band, n_mentors, n_children`` (the
    children of those mentors), bands < 50%, 50-79%, >= 80%. Mentors are counted, not
    described: no cell is about a few children.

    Examples
    --------
    >>> sh = pd.DataFrame({"mentor_id": ["m1", "m2", "m3"], "n_children": [3, 2, 3],
    ...                    "share_met": [0.2, 0.9, 0.85]})
    >>> mentor_bands(sh).values.tolist()
    [['< 50%', 1, 3], ['50–79%', 0, 0], ['≥ 80%', 2, 5]]
    """
    sh = shares[shares["mentor_id"].astype(str) != "unassigned"]
    rows = []
    for lo, hi, name in MENTOR_BANDS:
        sel = sh[(sh["share_met"] >= lo) & (sh["share_met"] < hi)]
        rows.append({"band": name, "n_mentors": int(len(sel)),
                     "n_children": int(sel["n_children"].sum())})
    return pd.DataFrame(rows)


def mentor_bands_published(bands: pd.DataFrame, lang: str = "en"):
    """Mentors by the share of their children's periods met (:func:`mentor_bands`)."""
    pt = _pt()
    cols = [pt.ColumnSpec("band", "Share of periods met", "达标时段比例"),
            pt.ColumnSpec("n_mentors", "Mentors", "帮扶人数", "count"),
            pt.ColumnSpec("n_children", "Their children", "其负责的儿童数", "count")]
    return pt.PublishedTable(
        bands, cols, caption_en="Mentors by the share of the protocol they delivered",
        caption_zh="按落实比例分段的帮扶人数",
        notes_en=["All activities together; each child-period counts with its mentor. Children "
                  "who changed mentor count for each of their mentors."],
        notes_zh=["各项活动合计；每个“儿童 × 时段”计入其帮扶人。更换过帮扶人的儿童计入每一位帮扶人。"],
        lang=lang)


def load_published(load: pd.DataFrame, limit=None, lang: str = "en"):
    """Mentor load by month (:func:`analysis.fidelity.mentor_load`): mentors, the median
    and the highest number of children one mentor had at once, mentors over the limit."""
    pt = _pt()
    d = load.copy()
    d["month"] = d["month"].astype(str)
    col = "max_simultaneous" if "max_simultaneous" in d else "n_children"
    if limit is None and "limit" in d and d["limit"].notna().any():
        limit = float(d["limit"].dropna().iloc[0])
    g = d.groupby("month", sort=True)
    out = g.agg(n_mentors=("mentor_id", "nunique"), most=(col, "max"),
                median=(col, "median")).reset_index()
    if limit is not None:
        over = d[d[col] > limit].groupby("month")["mentor_id"].nunique()
        out["over"] = out["month"].map(over).fillna(0).astype(int)
    # a median of counts is a whole number or a half: 3, 2.5 (never 3.00)
    out["median"] = [("–" if not np.isfinite(_num(m)) else
                      f"{_num(m):.0f}" if float(_num(m)).is_integer() else f"{_num(m):.1f}")
                     for m in out["median"]]
    cols = [pt.ColumnSpec("month", "Month", "月份"),
            pt.ColumnSpec("n_mentors", "Mentors", "帮扶人数", "count"),
            pt.ColumnSpec("median", "Median children per mentor", "每人儿童数中位数"),
            pt.ColumnSpec("most", "Most children of one mentor", "单人最多儿童数", "count")]
    if limit is not None:
        cols.append(pt.ColumnSpec("over", f"Mentors over the limit ({limit:g})",
                                  f"超过上限（{limit:g}）的帮扶人数", "count"))
    return pt.PublishedTable(out, cols, caption_en="Mentor load by month",
                             caption_zh="各月帮扶人负担",
                             notes_en=["Children a mentor had at the same time (the most on "
                                       "any day of the month)."],
                             notes_zh=["帮扶人同时负责的儿童数（当月任一天的最大值）。"], lang=lang)


def triggers_published(summary: pd.DataFrame, lang: str = "en", *, protocol=None,
                       min_cell: int | None = None):
    """Triggered visits (五必访): the ``section == "trigger"`` rows of
    ``tables/fidelity.csv`` -- per trigger and in all, the events logged, the children
    they concern, the share followed by the required visit within the window, and the
    median days to it."""
    pt = _pt()
    s = summary[(summary["section"].astype(str) == "trigger")
                & (summary["measure"].astype(str) == "done_in_window")].copy()
    s["_o"] = (s["level"].astype(str) == "overall").astype(int)
    s = s.sort_values(["_o", "group"], kind="stable")
    windows = {r.trigger: r.within_days for r in getattr(protocol, "triggers", ())}
    s["what"] = [({"en": "All triggers", "zh": "全部情况"} if lev == "overall" else
                  {lg: _trigger_label(g, lg) for lg in LANGS})
                 for lev, g in zip(s["level"].astype(str), s["group"])]
    s["window"] = [("" if lev == "overall" or g not in windows else str(windows[g]))
                   for lev, g in zip(s["level"].astype(str), s["group"].astype(str))]
    cols = [pt.ColumnSpec("what", "Trigger", "触发情况"),
            pt.ColumnSpec("window", "Visit within (days)", "规定家访时限（天）"),
            pt.ColumnSpec("n_periods", "Events logged", "记录次数", "count"),
            pt.ColumnSpec("n_children", "Children", "儿童数", "count"),
            pt.ColumnSpec("share_met", "Visited in time", "按时家访比例", "share"),
            pt.ColumnSpec("value", "Median days to the visit", "到家访的天数中位数", "estimate")]
    return pt.PublishedTable(s.drop(columns="_o"), cols, caption_en="Triggered visits (五必访)",
                             caption_zh="五必访完成情况", min_cell=min_cell, lang=lang)


def _outcome_label(study, outcome, lang: str) -> str:
    try:
        from evaluation.labels import study_labels

        v = study_labels(study)("outcome", outcome, lang)
    except Exception:  # noqa: BLE001 - a label is a nicety; the id is always right
        v = None
    return v or str(outcome)


def dose_bands_published(dose: pd.DataFrame, study, lang: str = "en", *,
                         min_cell: int | None = None):
    """The descriptive dose-response (``analysis == "dose_band"`` rows of ``tables/dose.csv``):
    mean change by dose band and arm, an association."""
    pt = _pt()
    d = dose[dose["analysis"].astype(str) == "dose_band"].copy()
    d["outcome_label"] = [_outcome_with_direction(study, o) for o in d["outcome"]]
    d["arm_label"] = [{lg: _arm_text(study, a, lg) for lg in LANGS} for a in d["arm"]]
    for c in ("n", "mean_change", "ci_low", "ci_high"):
        if c not in d:
            d[c] = np.nan
    d["band_label"] = [{lg: band_name(b, lg) for lg in LANGS} for b in d["band"]]
    keys = list(zip(d["outcome"].astype(str), d["arm"].astype(str)))
    d["arm_label"] = [lab if i == 0 or k != keys[i - 1] else ""
                      for i, (lab, k) in enumerate(zip(d["arm_label"], keys))]
    cols = [pt.ColumnSpec("arm_label", "Arm", "组别"),
            pt.ColumnSpec("band_label", "Dose (share of the protocol met)",
                          "剂量（达到方案要求的比例）"),
            pt.ColumnSpec("n", "n", "人数", "count"),
            (pt.ColumnSpec("mean_change", "Mean change (95% CI)", "平均变化（95% 置信区间）",
                           "estimate_ci", low="ci_low", high="ci_high")
             if d["ci_low"].notna().any() else
             pt.ColumnSpec("mean_change", "Mean change", "平均变化", "estimate"))]
    return pt.PublishedTable(
        d, cols, caption_en="Outcome change by dose (association, not effect)",
        caption_zh="按剂量分组的结局变化（相关，不是效果）",
        notes_en=[TEXT["dose_bands"]["en"]], notes_zh=[TEXT["dose_bands"]["zh"]],
        row_groups="outcome_label", min_cell=min_cell, lang=lang)


_DF_METHOD = {"bell_mccaffrey": "Bell–McCaffrey", "satterthwaite": "Satterthwaite",
              "residual": "n − p"}

_CACE_SHORT = {"cace_share": {"en": "full protocol", "zh": "完整方案"},
               "cace_received": {"en": "received ≥ {k}", "zh": "接受至少 {k}"}}

_CACE_ORDER = ("cace_share", "cace_received")
"""The order of the CACE rows: the share-based dose effect leads."""


def _threshold(study) -> float:
    return float(getattr(getattr(study, "protocol", None), "received_share", 0.8) or 0.8)


def _cace_what(analysis: str, k: float) -> dict:
    if analysis == "cace_share":
        return {"en": "Full protocol (effect in proportion to the share delivered)",
                "zh": "完整方案（效果与落实比例成正比）"}
    return {"en": f"Received ≥ {_pct(k)} of the protocol (yes/no)",
            "zh": f"接受了至少 {_pct(k)} 的方案（是/否）"}


def _better(study, outcome) -> str:
    for o in getattr(study, "outcomes", ()) or ():
        if str(getattr(o, "id", "")) == str(outcome):
            return str(getattr(o, "better", "higher") or "higher")
    return "higher"


_DIRECTION = {"higher": {"en": "higher is better", "zh": "越高越好"},
              "lower": {"en": "lower is better", "zh": "越低越好"}}


def _outcome_with_direction(study, outcome) -> dict:
    """``{"en": "Loneliness (lower is better)", "zh": ...}``: the outcome's label with the
    direction that is an improvement."""
    b = _DIRECTION.get(_better(study, outcome), _DIRECTION["higher"])
    return {"en": f"{_outcome_label(study, outcome, 'en')} ({b['en']})",
            "zh": f"{_outcome_label(study, outcome, 'zh')}（{b['zh']}）"}


def _f_text(f) -> str:
    """First-stage F with one decimal (the same rule in tables and words)."""
    x = _num(f)
    if math.isinf(x):
        return "∞"
    return f"{x:.1f}" if np.isfinite(x) else ""


def _cace_rows(dose: pd.DataFrame | None) -> pd.DataFrame:
    if dose is None or not len(dose) or "analysis" not in dose:
        return pd.DataFrame(columns=["analysis", "outcome"])
    d = dose[dose["analysis"].astype(str).isin(_CACE_ORDER)].copy()
    d["_o"] = d["analysis"].astype(str).map({a: i for i, a in enumerate(_CACE_ORDER)})
    outs = list(dict.fromkeys(d["outcome"].astype(str)))
    d["_g"] = d["outcome"].astype(str).map({o: i for i, o in enumerate(outs)})
    return d.sort_values(["_g", "_o"], kind="stable").drop(columns=["_g", "_o"])


def cace_published(dose: pd.DataFrame, study, lang: str = "en", *,
                   min_cell: int | None = None):
    """The effects of receiving the program (``cace_share`` then ``cace_received`` rows of
    ``tables/dose.csv``), per outcome (its label says whether higher or lower is better):
    the full protocol's effect assuming an effect proportional to the share delivered
    (``dose_effect``), then the complier effect of receiving at least ``received_share``
    of it (``complier_effect``; assumes that less does nothing); estimate (95% CI), df and
    its method, the Wald p, the test of any effect (the ITT / Anderson-Rubin p, the same
    for both rows, shown once), and the first-stage F (one decimal) with a warning under 10.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> dose = pd.DataFrame({"analysis": ["cace_received", "cace_share"], "outcome": "y",
    ...                      "estimate": [0.29, 0.24], "ci_low": [0.03, 0.0038],
    ...                      "ci_high": [0.55, 0.41], "p_value": [0.03, 0.04],
    ...                      "ar_p_value": [0.02, 0.02], "df": 16.7,
    ...                      "df_method": "bell_mccaffrey", "first_stage_f": [43.71, 241.7]})
    >>> s = NS(outcomes=[NS(id="y", better="lower")], protocol=NS(received_share=0.8))
    >>> c = cace_published(dose, s, "en").cells("en")
    >>> c[["what", "estimate", "ar_p", "f_text"]].values.tolist()[0]
    ['Full protocol (effect in proportion to the share delivered)', '0.24 (0.004 to 0.41)', '.020', '241.7']
    >>> c["ar_p"].tolist()[1], c["f_text"].tolist()[1]
    ('', '43.7')
    """
    pt = _pt()
    from evaluation.headline import fmt_p

    k = _threshold(study)
    d = _cace_rows(dose)
    d["outcome_label"] = [_outcome_with_direction(study, o) for o in d["outcome"]]
    d["what"] = [_cace_what(a, k) for a in d["analysis"].astype(str)]
    for c in ("estimate", "ci_low", "ci_high", "p_value", "ar_p_value", "first_stage_f", "df"):
        if c not in d:
            d[c] = np.nan
    d["f_text"] = [_f_text(f) for f in d["first_stage_f"]]
    d["f_note"] = [({"en": "weak (F < 10)", "zh": "弱工具变量（F < 10）"}
                    if np.isfinite(_num(f)) and _num(f) < 10 else "")
                   for f in d["first_stage_f"]]
    d["df_text"] = [("" if not np.isfinite(_num(v)) else
                     f"{_num(v):.1f}" + (f" ({_DF_METHOD.get(m, m)})" if isinstance(m, str) and m
                                else ""))
                    for v, m in zip(d["df"], d.get("df_method", [None] * len(d)))]
    d["p_text"] = [fmt_p(_num(p)) if np.isfinite(_num(p)) else "–" for p in d["p_value"]]
    first = ~d["outcome"].astype(str).duplicated()
    d["ar_p"] = [(fmt_p(_num(p)) if np.isfinite(_num(p)) else "–") if f else ""
                 for p, f in zip(d["ar_p_value"], first)]
    cols = [pt.ColumnSpec("what", "Dose received", "接受的剂量"),
            pt.ColumnSpec("estimate", "Effect (95% CI)", "效果（95% 置信区间）",
                          "estimate_ci", low="ci_low", high="ci_high"),
            pt.ColumnSpec("df_text", "df", "自由度"),
            pt.ColumnSpec("p_text", "p (Wald)", "p 值（Wald）"),
            pt.ColumnSpec("ar_p", "Any effect? p (ITT)", "是否有效果：p 值（意向性分析）"),
            pt.ColumnSpec("f_text", "First-stage F", "第一阶段 F"),
            pt.ColumnSpec("f_note", "", "")]
    kk = _pct(k)
    return pt.PublishedTable(
        d, cols, caption_en="Effect for the children who received the program",
        caption_zh="对实际接受项目的儿童的效果",
        notes_en=[("Two-stage least squares: random assignment is the instrument for the dose "
                   "received; CR2 cluster-robust standard errors with Bell–McCaffrey degrees of "
                   "freedom, as the primary model. A first-stage F under 10 means assignment "
                   "predicts the dose weakly, and the estimate is unreliable."),
                  ("Full protocol: the effect of receiving all of the protocol rather than none "
                   "of it (share delivered 0 to 100%), assuming the effect grows in proportion "
                   "to the share delivered."),
                  (f"Received ≥ {kk}: the complier average causal effect of receiving at least "
                   f"{kk} of the protocol; it assumes that receiving less than {kk} does "
                   f"nothing, and overstates the effect if partial delivery helps."),
                  ("Any effect? p (ITT): the test of whether the program changed the outcome at "
                   "all -- the intention-to-treat comparison of the arms (the Anderson–Rubin "
                   "test, the same for both rows, valid whatever the first-stage F). p (Wald): "
                   "the test of each row's estimate, valid only under that row's assumption.")],
        notes_zh=[("两阶段最小二乘：以随机分配作为实际接受剂量的工具变量；与主要模型相同，用 CR2 聚类稳健"
                   "标准误和 Bell–McCaffrey 自由度。第一阶段 F 小于 10 表示分配对剂量的预测很弱，估计不可靠。"),
                  "完整方案：接受全部方案与完全没有接受（落实比例从 0 到 100%）相比的效果，假定效果随落实比例"
                  "成正比增长。",
                  f"接受了至少 {kk}：接受至少 {kk} 方案的依从者平均因果效应；它假定接受不到 {kk} 的方案"
                  "毫无作用，如果部分落实也有帮助，它会高估效果。",
                  "是否有效果：p 值（意向性分析）检验项目是否对结局有任何作用，即两组的意向性比较（Anderson–"
                  "Rubin 检验，两行相同，不受第一阶段 F 大小的影响）。p 值（Wald）检验每一行的估计，只在该行"
                  "的假定成立时有效。"],
        row_groups="outcome_label", min_cell=min_cell, lang=lang)


def contamination_published(table: pd.DataFrame, study, lang: str = "en", *,
                            min_cell: int | None = None):
    """Children with logged program contacts per arm (:func:`analysis.dose.contamination`:
    ``arm, n, n_with_contacts``); the control row is the contamination. A count below
    ``min_cell``, or one leaving fewer than ``min_cell`` children unreached, shows ``§``."""
    pt = _pt()
    d = table.copy()
    d["arm_label"] = [{lg: _arm_text(study, a, lg) for lg in LANGS} for a in d["arm"]]
    n = d["n_with_contacts"].astype(float)
    rest = d["n"].astype(float) - n  # the children not reached: small is given away too
    small = ((n > 0) & (n < (min_cell or 0))) | ((rest > 0) & (rest < (min_cell or 0)))
    d["n_with_contacts"] = n.where(~small)
    d["share"] = (n / d["n"].astype(float)).where(~small)
    d["suppressed"] = small
    cols = [pt.ColumnSpec("arm_label", "Arm", "组别"),
            pt.ColumnSpec("n", "Children", "儿童数", "count"),
            pt.ColumnSpec("n_with_contacts", "With a logged program contact",
                          "有项目活动记录的儿童", "count"),
            pt.ColumnSpec("share", "Share", "比例", "share")]
    return pt.PublishedTable(d, cols, caption_en="Children with a logged program contact, by arm "
                             "(in the control arm: contamination)",
                             caption_zh="各组有项目活动记录的儿童（对照组中即为污染）",
                             min_cell=min_cell, lang=lang)


# --------------------------------------------------------------------------- the words


def activity_shares(summary: pd.DataFrame) -> dict:
    """Activity -> share of expected child-periods met, every program child (``summary``
    section, ``level == "overall"``, ``measure == "child_periods"``); ``all`` included."""
    s = _rows(summary, "summary", level="overall", measure="child_periods")
    return {str(a): _num(v) for a, v in zip(s["activity"], s["share_met"])}


def received_share(summary: pd.DataFrame, arm: str | None = None) -> tuple[float, float]:
    """(children, share of them who received the protocol) over every activity (``summary``
    section, ``measure == "children_received"``, ``activity == "all"``), overall or for
    one ``arm``; NaN when absent or suppressed."""
    s = _rows(summary, "summary", activity="all", measure="children_received",
              **({"level": "arm", "group": str(arm)} if arm is not None else
                 {"level": "overall"}))
    if not len(s):
        return math.nan, math.nan
    return _num(s["n_children"].iloc[0]), _num(s["share_met"].iloc[0])


def verdict(shares: dict, threshold: float) -> str:
    """``as_designed`` (every activity met in at least ``threshold`` of its expected
    periods: the study's ``received_share``), ``partly`` (on average at least half),
    ``not`` (less) or ``unknown`` (nothing to judge). The rule lives with the index's
    formatters (:func:`evaluation.headline.delivery_verdict`) so that the page and the
    index give the same answer.

    Examples
    --------
    >>> verdict({"home_visit": 0.85, "letter": 0.9}, 0.8), verdict({"home_visit": 0.6}, 0.8)
    ('as_designed', 'partly')
    """
    from evaluation.headline import delivery_verdict

    return delivery_verdict(shares, threshold)


VERDICTS = {
    "as_designed": {"en": "Yes, largely as designed", "zh": "基本按方案落实"},
    "partly": {"en": "Partly", "zh": "部分落实"},
    "not": {"en": "No: most of the protocol was not delivered", "zh": "没有：方案的大部分没有落实"},
    "unknown": {"en": "Cannot be judged (nothing was expected)", "zh": "无法判断（没有应开展的时段）"},
}
"""The answer to "delivered as designed?" (:func:`verdict`), in both languages."""


def _weighted(frame: pd.DataFrame, key: str) -> pd.Series:
    ok = frame[~frame["suppressed"].map(_true) & frame["share_met"].notna()]
    if not len(ok):
        return pd.Series(dtype=float)
    w = ok["n_children"].astype(float)
    num = (ok["share_met"].astype(float) * w).groupby(ok[key]).sum()
    return num / w.groupby(ok[key]).sum()


def delivery_summary(study, summary: pd.DataFrame, *, school_shares: pd.DataFrame | None = None,
                     load: pd.DataFrame | None = None,
                     contamination: pd.DataFrame | None = None, min_cell: int = 1) -> dict:
    """The "delivered as designed?" paragraph, ``{"en": ..., "zh": ...}``, each language
    written in its own words: the verdict and its rule, the share of expected periods met
    per activity, the children who received the protocol, the school and period where
    delivery was weakest, mentors over the load limit, triggered visits in time, and the
    control arm's contamination. Every number rounded; suppressed numbers (fewer than
    ``min_cell`` children) are left out.

    ``summary``: ``tables/fidelity.csv`` as published (:func:`analysis.fidelity.
    fidelity_summary`); ``school_shares``: :func:`school_shares`; ``load``:
    :func:`analysis.fidelity.mentor_load`; ``contamination``:
    :func:`analysis.dose.contamination`.
    """
    protocol = study.protocol
    threshold = float(getattr(protocol, "received_share", 0.8) or 0.8)
    shares = activity_shares(summary)
    v = verdict(shares, threshold)
    en = [f"**{VERDICTS[v]['en']}.**"]
    zh = [f"**{VERDICTS[v]['zh']}**。"]  # CommonMark: no bold closing after 。
    acts = [(a, shares[a]) for a in _activity_order(study, list(shares))
            if a != "all" and np.isfinite(shares[a])]
    if acts:
        en.append("Of the periods in which the protocol expected it, "
                  + ", ".join(f"{_pct(x)} had the {activity_label(a, 'en').lower()}"
                              for a, x in acts) + ".")
        zh.append("在方案要求开展的时段中，"
                  + "，".join(f"{activity_label(a, 'zh')}落实了 {_pct(x)}" for a, x in acts)
                  + "。")
    n, r = received_share(summary)
    if np.isfinite(n) and np.isfinite(r):
        en.append(f"{_pct(r)} of the {int(n)} program children received the protocol (at least "
                  f"{_pct(threshold)} of their expected periods met).")
        zh.append(f"项目组 {int(n)} 名儿童中，{_pct(r)} 接受了方案（至少 {_pct(threshold)} 的应开展"
                  "时段达标）。")
    if acts:
        en.append(f"Rule of the answer: as designed when every activity was met in at least "
                  f"{_pct(threshold)} of its expected periods, partly when in at least half on "
                  f"average, otherwise not. The {_pct(threshold)} is the study's threshold for a "
                  f"child who received the protocol (at least {_pct(threshold)} of the protocol), "
                  "used again here for the program as a whole: a convention of this study, not "
                  "an external standard.")
        zh.append(f"判断规则：每项活动都至少在 {_pct(threshold)} 的应开展时段达标为基本按方案落实，平均至少"
                  f"一半为部分落实，否则为没有落实。这里的 {_pct(threshold)} 沿用了本研究判断一名儿童"
                  f"“接受了方案”的标准（至少接受 {_pct(threshold)} 的方案），用于整个项目；它是本研究的约定，"
                  "不是外部标准。")
    if school_shares is not None and len(school_shares):
        by_school = _weighted(school_shares, "school")
        by_period = _weighted(school_shares, "period")
        if len(by_school) > 1:
            worst, best = by_school.idxmin(), by_school.idxmax()
            en.append(f"Delivery was weakest in school {worst} ({_pct(by_school[worst])} of its "
                      f"children met the protocol in an average period) and strongest in "
                      f"{best} ({_pct(by_school[best])}).")
            zh.append(f"落实最差的学校是 {worst}（平均每个时段 {_pct(by_school[worst])} 的儿童达标），"
                      f"最好的是 {best}（{_pct(by_school[best])}）。")
        if len(by_period) > 1:
            wp = by_period.idxmin()
            en.append(f"The weakest period was {period_text(wp, 'en')} ({_pct(by_period[wp])}).")
            zh.append(f"落实最差的时段是 {period_text(wp, 'zh')}（{_pct(by_period[wp])}）。")
    limit = getattr(protocol, "max_children_per_mentor", None)
    if load is not None and len(load) and limit:
        col = "max_simultaneous" if "max_simultaneous" in load else "n_children"
        over = load.loc[load[col] > limit, "mentor_id"].nunique()
        total = load["mentor_id"].nunique()
        en.append(f"{over} of {total} mentors had more than {limit} children at once in at "
                  "least one month." if over else
                  f"No mentor had more than {limit} children at once.")
        zh.append(f"{total} 名帮扶人中有 {over} 名至少在一个月里同时负责超过 {limit} 名儿童。" if over
                  else f"没有帮扶人同时负责超过 {limit} 名儿童。")
    t = _rows(summary, "trigger", level="overall", measure="done_in_window")
    if len(t):
        k, x = _num(t["n_periods"].iloc[0]), _num(t["share_met"].iloc[0])
        if np.isfinite(k) and np.isfinite(x):
            en.append(f"Of {int(k)} logged triggers (五必访), {_pct(x)} were followed by the "
                      "required visit within the protocol's window.")
            zh.append(f"记录的 {int(k)} 次五必访情况中，{_pct(x)} 在方案规定的时限内完成了家访。")
    if contamination is not None and len(contamination):
        c = contamination_text(study, contamination, min_cell=min_cell)
        if c:
            en.append(c["en"])
            zh.append(c["zh"])
    return {"en": " ".join(en), "zh": "".join(zh)}


def contamination_text(study, table: pd.DataFrame, *, min_cell: int = 1) -> dict | None:
    """One sentence on the control arm's contamination (``arm, n, n_with_contacts``)."""
    d = study.design
    rows = table[table["arm"].astype(str) == str(d.control)] if d.control is not None else table
    if not len(rows):
        return None
    r = rows.iloc[0]
    n, k = int(r["n"]), int(r["n_with_contacts"])
    if k == 0:
        return {"en": "No child of the control arm has a logged program contact.",
                "zh": "对照组没有任何儿童有项目活动记录。"}
    if k < min_cell:
        return {"en": f"Fewer than {min_cell} children of the control arm have a logged program "
                      "contact (contamination; the exact number is suppressed).",
                "zh": f"对照组中有项目活动记录的儿童少于 {min_cell} 名（污染；具体人数已隐去）。"}
    if n - k < min_cell:
        return {"en": f"All but fewer than {min_cell} of the {n} control children have a logged "
                      "program contact: the control arm was reached by the program almost "
                      "entirely, so the comparison of the arms says little about the program.",
                "zh": f"对照组 {n} 名儿童中，只有不到 {min_cell} 名没有项目活动记录：对照组几乎全部受到了"
                      "项目的影响，两组比较很难说明项目的作用。"}
    return {"en": f"{k} of the {n} control children ({_pct(k / n)}) have a logged program "
                  "contact: the control arm was contaminated, which makes the intention-to-treat "
                  "effect smaller than the program's effect on those who received it.",
            "zh": f"对照组 {n} 名儿童中有 {k} 名（{_pct(k / n)}）有项目活动记录：对照组受到了污染，"
                  "这会使意向性分析得到的效果小于项目对实际接受者的效果。"}


def cace_text(study, dose: pd.DataFrame | None) -> dict:
    """The causal status of every number of the dose section, ``{"en", "zh"}``: the dose
    bands are associations; the lead number is the primary outcome's effect of the full
    protocol (the share-based 2SLS, assuming an effect proportional to the share
    delivered); the binary "received" row assumes that less than ``received_share`` does
    nothing; whether the program had any effect is the ITT (Anderson-Rubin) test; the
    first-stage F (one decimal) with a warning under 10. A design that was not randomized
    has no such effect, and the paragraph says why. p-values as on the index (``.034``).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> s = NS(design=Design(type="cluster_randomized", id="id", arm="arm", control="c",
    ...                      clusters=("school",)), protocol=NS(received_share=0.8),
    ...        outcomes=[NS(id="y", primary=True, better="higher")])
    >>> dose = pd.DataFrame({"analysis": ["cace_received", "cace_share"], "outcome": "y",
    ...                      "estimate": [0.29, 0.24], "ci_low": [0.03, 0.0038],
    ...                      "ci_high": [0.55, 0.41], "p_value": [0.03, 0.04],
    ...                      "ar_p_value": [0.034, 0.034], "first_stage_f": [43.71, 241.7]})
    >>> t = cace_text(s, dose)["en"]
    >>> "effect of the full protocol" in t and "+0.24 (95% CI +0.004 to +0.41)" in t
    True
    >>> "p = .034" in t and "43.7" in t and "43.71" not in t
    True
    """
    from evaluation.headline import fmt_estimate, fmt_p

    def p_eq(p):
        x = fmt_p(p)
        return f"p {x}" if x.startswith("<") else f"p = {x}"

    d = study.design
    randomized = d.type in ("randomized", "cluster_randomized")
    en = ["**What each number is.** The dose bands describe an association."]
    zh = ["**每个数字的因果含义**：剂量分组只描述相关。"]
    if not randomized and (d.type == "pre_post" or not d.arm):
        en.append("There is no complier average causal effect: it compares children who were "
                  "assigned to the program at random with children who were not, and a "
                  "one-group study has no such comparison. Nothing on this page shows what the "
                  "program did; the dose bands show only who changed more.")
        zh.append("本研究没有依从者平均因果效应：它需要比较随机分到项目组和没有分到项目组的儿童，而单组研究"
                  "没有这样的比较。本页没有任何数字能说明项目的作用；剂量分组只说明哪些儿童变化更大。")
    elif not randomized:
        en.append("There is no complier average causal effect here: it needs an instrument, "
                  "and only random assignment provides one. In this design the groups were not "
                  "assigned at random, so who received the program cannot be separated from who "
                  "the children were.")
        zh.append("本研究没有依从者平均因果效应：它需要一个工具变量，而只有随机分配才能提供。本设计的分组"
                  "不是随机的，因此无法把“谁接受了项目”与“这些儿童本来是什么样”区分开。")
    if not randomized:
        return {"en": " ".join(en), "zh": "".join(zh)}
    rows = _cace_rows(dose)
    k = _pct(_threshold(study))
    en.append("The effects below use random assignment as an instrument for the dose each "
              "child received (two-stage least squares). Both rows assume that assignment "
              "changes the outcome only through the dose as it is coded, and that no child "
              "received less because of being assigned to the program.")
    zh.append("下面的效果以随机分配作为每名儿童实际接受剂量的工具变量（两阶段最小二乘）。两行都假定：分配只"
              "通过按该行方式计算的剂量影响结局，并且没有儿童因为被分到项目组反而接受得更少。")
    prim = [o.id for o in getattr(study, "outcomes", ()) if getattr(o, "primary", False)]
    outs = list(dict.fromkeys(rows["outcome"].astype(str))) if len(rows) else []
    lead = next((o for o in prim if o in outs), outs[0] if outs else None)
    if lead is not None:
        g = rows[rows["outcome"].astype(str) == lead].set_index("analysis")
        out_en, out_zh = (_outcome_label(study, lead, lg) for lg in LANGS)

        def ci(r):
            return (fmt_estimate(_num(r["estimate"])), fmt_estimate(_num(r["ci_low"])),
                    fmt_estimate(_num(r["ci_high"])))

        if "cace_share" in g.index:
            est, lo, hi = ci(g.loc["cace_share"])
            en.append(f"**Effect of the full protocol on {out_en}: {est} (95% CI {lo} to {hi})** "
                      "— the effect of the full protocol, assuming the effect grows in "
                      "proportion to the share delivered.")
            zh.append(f"**完整方案对{out_zh}的效果：{est}（95% 置信区间 {lo} 至 {hi}）**——这是完整方案的"
                      "效果，假定效果随落实比例成正比增长。")
        if "cace_received" in g.index:
            est, lo, hi = ci(g.loc["cace_received"])
            en.append(f"Receiving at least {k} of the protocol: {est} (95% CI {lo} to {hi}); this "
                      f"assumes that receiving less than {k} does nothing, and overstates the "
                      "effect if partial delivery helps.")
            zh.append(f"接受至少 {k} 的方案：{est}（95% 置信区间 {lo} 至 {hi}）；这一估计假定接受不到 {k} "
                      "的方案毫无作用，如果部分落实也有帮助，它会高估效果。")
        ar = _num(g["ar_p_value"].iloc[0]) if "ar_p_value" in g else math.nan
        if np.isfinite(ar):
            en.append(f"Whether the program had any effect on {out_en} is tested by the "
                      f"intention-to-treat comparison of the arms ({p_eq(ar)}; the Anderson–"
                      "Rubin test, which needs neither row's assumption about partial "
                      "delivery nor a strong first stage).")
            zh.append(f"项目对{out_zh}是否有任何作用，由两组的意向性比较检验（{p_eq(ar)}；即 Anderson–"
                      "Rubin 检验，不依赖上面两行关于部分落实的假定，也不要求第一阶段很强）。")
    strong_en, strong_zh = [], []
    for oid, g in rows.groupby("outcome", sort=False):
        out, out_zh = (_outcome_label(study, oid, lg) for lg in LANGS)
        fs = [(str(a), _num(f)) for a, f in zip(g["analysis"], g["first_stage_f"])
              if np.isfinite(_num(f))]
        if fs:
            strong_en.append(f"{out} " + " and ".join(
                f"{_f_text(f)} ({_CACE_SHORT[a]['en'].format(k=k)})" for a, f in fs))
            strong_zh.append(f"{out_zh} " + "、".join(
                f"{_f_text(f)}（{_CACE_SHORT[a]['zh'].format(k=k)}）" for a, f in fs))
        for a, f in fs:
            if f < 10:
                what = {lg: _CACE_SHORT[a][lg].format(k=k) for lg in LANGS}
                en.append(f"Warning: for {out} ({what['en']}) the first-stage F is "
                          f"{_f_text(f)}, under 10: assignment predicts the dose weakly, so this "
                          "estimate is unreliable (biased towards the ordinary comparison of "
                          "those who received more and less, with intervals that can mislead).")
                zh.append(f"警告：{out_zh}（{what['zh']}）的第一阶段 F 为 {_f_text(f)}，低于 10：分配对剂量的"
                          "预测很弱，这一估计不可靠（偏向接受多与接受少的儿童之间的普通比较，置信区间可能误导）。")
    if strong_en:
        en.append("First-stage F (how strongly assignment predicts the dose; under 10 is "
                  "weak): " + "; ".join(strong_en) + ".")
        zh.append("第一阶段 F（分配对剂量的预测强度；低于 10 为弱）：" + "；".join(strong_zh) + "。")
    if not len(rows):
        en.append("No effect of receiving the program could be estimated from this run's data.")
        zh.append("本次运行的数据无法估计实际接受项目的效果。")
    return {"en": " ".join(en), "zh": "".join(zh)}

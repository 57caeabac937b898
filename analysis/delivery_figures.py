"""Figures of the program-delivery page (``06_delivery``): was the program delivered, where,
by whom, and how did the children who received more of it change.

Four plots, each from a tidy DataFrame and returning a matplotlib ``Figure``; the theme,
fonts and bilingual labels are those of :mod:`analysis.figures` (call
:func:`analysis.figures.set_theme` first; a ``zh`` figure without a CJK font falls back to
English there):

- :func:`delivery_calendar` -- contacts per child and month, one row per child (children
  are never named: no pseudonym is drawn), grouped by arm and school; months in which
  nothing is expected (summer, holidays) are hatched and say so;
- :func:`fidelity_by_school` -- the share of children whose protocol was met, per school
  and period (month or term), one panel per activity; cells of fewer than ``min_cell``
  children show the suppression mark instead of a share;
- :func:`mentor_load_plot` -- children per mentor each month against the limit;
- :func:`dose_response` -- the outcome's mean change by dose band: an *association*
  (children who get more visits differ from those who do not), which the figure says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.figures import _arm_name, _named, _wrap, label, natural_key, plt

__all__ = ["BAND_LABELS", "DELIVERY_TEXT", "band_name", "delivery_calendar", "dose_response", "fidelity_by_school",
           "mentor_load_plot", "period_text", "TERM_NAMES"]

SUPPRESSED = "§"

DELIVERY_TEXT = {
    "month": {"en": "Month", "zh": "月份"},
    "period": {"en": "Period", "zh": "时段"},
    "children": {"en": "Children (one row each, by school)", "zh": "儿童（每行一名，按学校排列）"},
    "contacts": {"en": "Logged contacts in the month", "zh": "当月记录的帮扶活动次数"},
    "not_expected": {"en": "Nothing expected (holiday / summer)", "zh": "不要求开展（假期）"},
    "other_schools": {"en": "schools of < {k} children", "zh": "不足 {k} 名儿童的学校"},
    "calendar_title": {"en": "Contacts per child and month", "zh": "每名儿童每月的帮扶活动次数"},
    "school": {"en": "School", "zh": "学校"},
    "share_met": {"en": "Children whose protocol was met (%)", "zh": "达到方案要求的儿童（%）"},
    "by_school_title": {"en": "Protocol met, by school and period",
                        "zh": "各学校各时段达到方案要求的比例"},
    "suppressed_note": {"en": "§: fewer than {k} children in the cell (suppressed)",
                        "zh": "§：该格少于 {k} 名儿童（已隐去）"},
    "load_title": {"en": "Children per mentor, by month", "zh": "每位帮扶人每月负责的儿童数"},
    "load_y": {"en": "Children per mentor", "zh": "每位帮扶人的儿童数"},
    "limit": {"en": "Limit ({k} per mentor)", "zh": "上限（每人 {k} 名）"},
    "mentors_over": {"en": "mentors over the limit", "zh": "超过上限的帮扶人数"},
    "most": {"en": "Most children of one mentor", "zh": "单个帮扶人最多负责的儿童数"},
    "median": {"en": "Median", "zh": "中位数"},
    "dose_title": {"en": "Outcome change by dose received", "zh": "按接受帮扶的剂量分组的结局变化"},
    "dose_x": {"en": "Share of the protocol the child received", "zh": "儿童接受到的方案比例"},
    "dose_y": {"en": "Mean change, baseline to endline (95% CI)",
               "zh": "从基线到终期的平均变化（95% 置信区间）"},
    "dose_y_mean": {"en": "Mean change, baseline to endline", "zh": "从基线到终期的平均变化"},
    "association": {"en": ("Association, not effect: children who get more visits differ "
                           "from those who don't."),
                    "zh": "这是相关，不是效果：接受帮扶多的儿童本来就与接受少的儿童不同。"},
    "higher_better": {"en": "higher is better ↑", "zh": "越高越好 ↑"},
    "lower_better": {"en": "lower is better ↓", "zh": "越低越好 ↓"},
}
"""Labels of the delivery figures, ``{key: {"en": ..., "zh": ...}}``."""

CONTACT_COLORS = ("#f7f4ee", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
"""0, 1, 2, 3 and 4+ contacts in a month (0: nearly white, so that a gap shows)."""

ACTIVITY_LABELS = {
    "home_visit": {"en": "Home visit", "zh": "家访"},
    "phone_call": {"en": "Phone call to the parents", "zh": "给父母打电话"},
    "letter": {"en": "Letter", "zh": "书信"},
    "video_call": {"en": "Video call", "zh": "视频通话"},
    "counselling": {"en": "Counselling", "zh": "心理辅导"},
    "home_attendance": {"en": "Children's home attendance", "zh": "留守儿童之家活动"},
}
"""The built-in activity types in words (a study's own types show as written)."""


BAND_LABELS = {
    "none": {"en": "None (0)", "zh": "无（0）"},
    "<50%": {"en": "< 50%", "zh": "< 50%"},
    "50-79%": {"en": "50–79%", "zh": "50–79%"},
    ">=80%": {"en": "≥ 80%", "zh": "≥ 80%"},
}
"""The dose bands of :func:`analysis.dose.dose_bands` in words."""


def band_name(band, lang: str) -> str:
    """A dose band in words (``>=80%`` -> ``≥ 80%``); other labels as written."""
    return _named(BAND_LABELS, str(band), lang)


def _t(key: str, lang: str, **kw) -> str:
    text = label(DELIVERY_TEXT[key], lang)
    return text.format(**kw) if kw else text


def activity_name(activity, lang: str, activity_labels=None) -> str:
    """An activity type in words: ``activity_labels``, the built-in names, else as written.

    Examples
    --------
    >>> activity_name("home_visit", "zh"), activity_name("parent_school", "en")
    ('家访', 'parent_school')
    """
    if activity_labels and activity in activity_labels:
        return _named(activity_labels, activity, lang)
    return _named(ACTIVITY_LABELS, activity, lang)


TERM_NAMES = {
    "spring": {"en": "Spring term", "zh": "春季学期"},
    "autumn": {"en": "Autumn term", "zh": "秋季学期"},
    "fall": {"en": "Fall term", "zh": "秋季学期"},
    "summer": {"en": "Summer term", "zh": "夏季学期"},
    "winter": {"en": "Winter term", "zh": "冬季学期"},
}
"""Common English term names of ``protocol.terms`` written for readers (a study's own
term names, e.g. ``上学期``, are shown as they are)."""


def period_text(period, lang: str) -> str:
    """A period for readers: a month ``2024-03`` -> ``2024-03`` (en) / ``2024年3月`` (zh);
    a term named ``spring`` / ``autumn`` ... -> ``Spring term`` / ``春季学期``; other names
    (the study's own) as they are.

    Examples
    --------
    >>> from analysis.delivery_figures import period_text
    >>> period_text("2024-03", "zh"), period_text("autumn", "zh"), period_text("上学期", "en")
    ('2024年3月', '秋季学期', '上学期')
    """
    s = "" if period is None else str(period)
    if len(s) == 7 and s[4] == "-" and s[:4].isdigit() and s[5:].isdigit():
        return f"{s[:4]}年{int(s[5:])}月" if lang == "zh" else s
    t = TERM_NAMES.get(s.strip().lower())
    return t["zh" if lang == "zh" else "en"] if t else s


_month_text = period_text


def delivery_calendar(calendar: pd.DataFrame, months: pd.DataFrame, *, lang: str = "en",
                      title=None, arm_labels=None, school_labels=None, control=None,
                      min_cell: int | None = None):
    """Contacts per child and month: a calendar heat map.

    One row per child, ordered by arm (the program arms first, the control last), school
    and, within a school, by the child's total contacts (most first), so that the children
    who were seldom reached sit at the bottom of their school's band. Children are never
    named: the rows carry no label, only the school (and arm) of each band. A school with
    fewer than ``min_cell`` children in an arm is not named either (its band says "schools
    of < k children"). Months in which nothing is expected (``expected`` false: summer,
    holidays) are hatched and the legend says so.

    Parameters
    ----------
    calendar : DataFrame
        ``child, arm, school, month, n_contacts``: one row per child and month (months
        without contacts may be absent: they count 0). ``child`` is the pseudonym; it
        only tells the rows apart and is never drawn.
    months : DataFrame
        ``month, expected``: the months shown, in order (``month`` as ``YYYY-MM``).
    lang : {"en", "zh"}
    title : str, optional
    arm_labels, school_labels : mapping, optional
        Code -> text or ``{en, zh}``.
    control : str, optional
        The control arm (drawn last).
    min_cell : int, optional
        Schools with fewer children than this in an arm are not named.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> cal = pd.DataFrame({"child": list("abcdef"), "arm": ["t"] * 6, "school": "S1",
    ...                     "month": "2024-03", "n_contacts": [0, 1, 2, 3, 4, 5]})
    >>> months = pd.DataFrame({"month": ["2024-03", "2024-07"], "expected": [True, False]})
    >>> fig = delivery_calendar(cal, months, min_cell=5)
    >>> any(t.get_text() == "a" for t in fig.findobj(lambda o: hasattr(o, "get_text")))
    False
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch, Rectangle

    month_list = [str(m) for m in months["month"]]
    expected = dict(zip(month_list, months["expected"].astype(bool)))
    cal = calendar.copy()
    cal["month"] = cal["month"].astype(str)
    cal["school"] = cal["school"].astype(object).where(cal["school"].notna(), "")
    grid = (cal.pivot_table(index=["arm", "school", "child"], columns="month",
                            values="n_contacts", aggfunc="sum", fill_value=0)
            .reindex(columns=month_list, fill_value=0))
    keys = grid.index.to_frame(index=False)
    keys["total"] = grid.sum(axis=1).to_numpy()
    arms = sorted(keys["arm"].astype(str).unique(), key=natural_key)
    arms = [a for a in arms if a != str(control)] + ([str(control)] if str(control) in arms
                                                      else [])
    keys["_a"] = keys["arm"].astype(str).map({a: i for i, a in enumerate(arms)})
    keys["_s"] = keys["school"].map(lambda s: natural_key(s))
    order = keys.sort_values(["_a", "_s", "total", "child"],
                             ascending=[True, True, False, True], kind="stable").index
    grid = grid.iloc[order]
    keys = keys.iloc[order].reset_index(drop=True)
    values = np.minimum(grid.to_numpy(dtype=float), 4)
    n, m = values.shape

    height = min(9.0, 1.9 + 0.014 * n + 0.18 * len(arms))
    width = min(11.0, max(8.0, 2.6 + 0.42 * m))
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    cmap = ListedColormap(CONTACT_COLORS)
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5, 4.5], cmap.N)
    # interpolation_stage="data": resample the children's counts, then colour them. With
    # more children than about a third of the rows of pixels, matplotlib's "auto" would
    # colour first and resample RGBA floats: 127 MiB for the county's 700 children at 200 dpi
    # (the largest allocation of a run) instead of about 50, for the same pixels (nearest
    # neighbour; tests/test_delivery_figures.py compares both).
    im = ax.imshow(values, aspect="auto", interpolation="nearest", interpolation_stage="data",
                   cmap=cmap, norm=norm, extent=(-0.5, m - 0.5, n - 0.5, -0.5))
    for j, mo in enumerate(month_list):
        if not expected.get(mo, True):
            ax.add_patch(Rectangle((j - 0.5, -0.5), 1, n, facecolor="#9a9a9a", alpha=0.35,
                                   hatch="///", edgecolor="#555555", lw=0))
    # bands: arm, then school within arm
    ticks, names = [], []
    small = label(DELIVERY_TEXT["other_schools"], lang).format(k=int(min_cell or 0))
    several = len(arms) > 1
    for (_a, s), idx in keys.groupby(["arm", "school"], sort=False).groups.items():
        lo, hi = min(idx), max(idx)
        ax.axhline(hi + 0.5, color="white", lw=0.8)
        size = hi - lo + 1
        name = _named(school_labels, s, lang) if s != "" else ""
        if min_cell and size < min_cell:
            name = small
        ticks.append((lo + hi) / 2)
        names.append(_wrap(name, 22))
    for a, idx in keys.groupby("arm", sort=False).groups.items():
        lo, hi = min(idx), max(idx)
        if hi < n - 1:
            ax.axhline(hi + 0.5, color="#222222", lw=1.6)
        if several:
            ax.text(1.005, 1 - ((lo + hi) / 2 + 0.5) / n, _wrap(_arm_name(a, lang, arm_labels), 14),
                    transform=ax.transAxes, ha="left", va="center", fontsize=9,
                    fontweight="bold", rotation=0)
    ax.set_yticks(ticks, names, fontsize=7 if len(ticks) > 12 else 8)
    ax.tick_params(axis="y", length=0)
    ax.set_xticks(range(m), [_month_text(x, lang) for x in month_list],
                  rotation=45 if m > 6 else 0, ha="right" if m > 6 else "center", fontsize=8)
    ax.set_xlabel(_t("month", lang))
    ax.set_ylabel(_t("children", lang))
    ax.grid(False)
    cbar = fig.colorbar(im, ax=ax, ticks=[0, 1, 2, 3, 4], fraction=0.04, pad=0.1 if several
                        else 0.02)
    cbar.ax.set_yticklabels(["0", "1", "2", "3", "4+"])
    cbar.set_label(_t("contacts", lang))
    if any(not v for v in expected.values()):
        ax.legend(handles=[Patch(facecolor="#9a9a9a", alpha=0.35, hatch="///",
                                 edgecolor="#555555", label=_t("not_expected", lang))],
                  loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8,
                  borderaxespad=0.1)
    ax.set_title(title or _t("calendar_title", lang), loc="left")
    return fig


def fidelity_by_school(shares: pd.DataFrame, *, lang: str = "en", title=None,
                       school_labels=None, activity_labels=None, min_cell: int | None = None,
                       activities=None):
    """The share of children whose protocol was met, per school and period (a heat map
    per activity: schools down, periods across, the share in each cell in percent).

    Parameters
    ----------
    shares : DataFrame
        ``activity, school, period, n_children, share_met`` and optionally ``period_start``
        (sorts the periods) and ``suppressed``. A cell whose ``suppressed`` is true, or
        whose ``n_children`` is below ``min_cell``, shows ``§`` and no share.
    lang : {"en", "zh"}
    title : str, optional
    school_labels, activity_labels : mapping, optional
    min_cell : int, optional
    activities : sequence of str, optional
        The panels' order (the protocol's); default: as they appear.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> sh = pd.DataFrame({"activity": "home_visit", "school": ["A", "A", "B", "B"],
    ...                    "period": ["2024-03", "2024-04"] * 2, "n_children": [10, 10, 3, 3],
    ...                    "share_met": [0.9, 0.5, 1.0, 0.0]})
    >>> fig = fidelity_by_school(sh, min_cell=5)
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['50', '90', '§', '§']
    """
    from matplotlib.colors import Normalize

    d = shares.copy()
    d["school"] = d["school"].astype(str)
    d["period"] = d["period"].astype(str)
    hide = d["n_children"].isna() | (d["n_children"] < (min_cell or 0))
    if "suppressed" in d:
        hide |= d["suppressed"].fillna(False).astype(bool)
    d["hidden"] = hide
    acts = list(dict.fromkeys(d["activity"]))
    if activities is not None:
        acts = [a for a in activities if a in acts] + [a for a in acts if a not in activities]
    schools = sorted(d["school"].unique(), key=natural_key)
    panels = []
    for a in acts:
        sub = d[d["activity"] == a]
        if "period_start" in sub:
            per = (sub.sort_values("period_start", kind="stable")["period"]
                   .drop_duplicates().tolist())
        else:
            per = sorted(sub["period"].unique(), key=natural_key)
        panels.append((a, sub, per))
    n_s = len(schools)
    heights = [max(1.0, 0.3 * n_s + 0.6) for _ in panels]
    width = min(11.0, max(6.0, 2.4 + 0.5 * max((len(p) for _, _, p in panels), default=1)))
    fig, axes = plt.subplots(len(panels) or 1, 1, figsize=(width, sum(heights) + 1.2),
                             gridspec_kw={"height_ratios": heights or [1]},
                             layout="constrained", squeeze=False)
    cmap = plt.get_cmap("RdYlBu")
    norm = Normalize(0, 1)
    im = None
    used_hidden = False
    for ax, (a, sub, per) in zip(axes[:, 0], panels):
        mat = np.full((n_s, len(per)), np.nan)
        hid = np.zeros((n_s, len(per)), dtype=bool)
        si = {s: i for i, s in enumerate(schools)}
        pj = {p: j for j, p in enumerate(per)}
        for r in sub.itertuples(index=False):
            i, j = si[r.school], pj[r.period]
            if r.hidden:
                hid[i, j] = True
            else:
                mat[i, j] = r.share_met
        im = ax.imshow(np.ma.masked_invalid(mat), aspect="auto", cmap=cmap, norm=norm,
                       interpolation="nearest")
        for i in range(n_s):
            for j in range(len(per)):
                if hid[i, j]:
                    used_hidden = True
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color="#d9d9d9"))
                    ax.text(j, i, SUPPRESSED, ha="center", va="center", fontsize=8,
                            color="#444444")
                elif np.isfinite(mat[i, j]):
                    v = mat[i, j]
                    ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=7.5,
                            color="white" if v < 0.2 or v > 0.85 else "#222222")
        ax.set_yticks(range(n_s), [_named(school_labels, s, lang) for s in schools],
                      fontsize=8)
        ax.set_xticks(range(len(per)), [_month_text(p, lang) for p in per],
                      rotation=45 if len(per) > 6 else 0,
                      ha="right" if len(per) > 6 else "center", fontsize=8)
        ax.set_title(activity_name(a, lang, activity_labels), fontsize=10, loc="left")
        ax.grid(False)
        ax.set_ylabel(_t("school", lang))
    if im is not None:
        cbar = fig.colorbar(im, ax=axes[:, 0].tolist(), fraction=0.04, pad=0.02)
        cbar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0", "25", "50", "75", "100"])
        cbar.set_label(_t("share_met", lang))
    head = title or _t("by_school_title", lang)
    if used_hidden and min_cell:
        head += "\n" + _t("suppressed_note", lang, k=int(min_cell))
    fig.suptitle(head, fontsize=11)
    return fig


def mentor_load_plot(load: pd.DataFrame, *, limit=None, lang: str = "en", title=None):
    """Children per mentor in each month against the limit (``max_children_per_mentor``).

    Each mentor is a dot per month (never named); the line is the most children any one
    mentor had, the dashed red line the limit, and the number above a month counts the
    mentors over the limit.

    Parameters
    ----------
    load : DataFrame
        ``mentor_id, month, n_children`` (:func:`analysis.fidelity.mentor_load`; its
        ``max_simultaneous``, the most children at once, is drawn when present).
    limit : int, optional
        The protocol's limit (default: ``load["limit"]`` when present).
    lang : {"en", "zh"}
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> load = pd.DataFrame({"mentor_id": ["m1", "m2", "m1", "m2"],
    ...                      "month": ["2024-03", "2024-03", "2024-04", "2024-04"],
    ...                      "n_children": [3, 4, 3, 3]})
    >>> fig = mentor_load_plot(load, limit=3)
    >>> "1" in [t.get_text() for t in fig.axes[0].texts]
    True
    """
    d = load.copy()
    d["month"] = d["month"].astype(str)
    if "max_simultaneous" in d:  # the load the limit is about: children at the same time
        d["n_children"] = d["max_simultaneous"]
    if limit is None and "limit" in d and d["limit"].notna().any():
        limit = float(d["limit"].dropna().iloc[0])
    months = sorted(d["month"].unique(), key=natural_key)
    x = {mo: i for i, mo in enumerate(months)}
    fig, ax = plt.subplots(figsize=(min(10.0, max(6.0, 2.0 + 0.45 * len(months))), 3.8),
                           layout="constrained")
    rng = np.random.default_rng(0)  # fixed jitter: identical files on re-runs
    xs = d["month"].map(x).to_numpy(float) + rng.uniform(-0.18, 0.18, len(d))
    ax.scatter(xs, d["n_children"], s=10, color="#6b8fbf", alpha=0.45, lw=0)
    by = d.groupby("month")["n_children"]
    most = by.max().reindex(months)
    med = by.median().reindex(months)
    ax.plot(range(len(months)), most.to_numpy(), color="#1f3d7a", lw=1.8,
            label=_t("most", lang))
    ax.plot(range(len(months)), med.to_numpy(), color="#1f3d7a", lw=1.0, ls=":",
            label=_t("median", lang))
    top = float(np.nanmax(d["n_children"])) if len(d) else 1.0
    if limit is not None and np.isfinite(limit):
        ax.axhline(limit, color="#c0392b", ls="--", lw=1.3,
                   label=_t("limit", lang, k=f"{limit:g}"))
        over = d[d["n_children"] > limit].groupby("month")["mentor_id"].nunique()
        for mo, k in over.items():
            ax.text(x[mo], max(top, limit) * 1.06 + 0.2, str(int(k)), ha="center", va="bottom",
                    fontsize=8, color="#c0392b", fontweight="bold")
        if len(over):
            ax.text(0.0, 1.01, f"{label(DELIVERY_TEXT['mentors_over'], lang)} ↑",
                    transform=ax.transAxes, fontsize=8, color="#c0392b", va="bottom")
        top = max(top, limit)
    ax.set_ylim(0, top * 1.25 + 0.8)
    ax.set_xticks(range(len(months)), [_month_text(mo, lang) for mo in months],
                  rotation=45 if len(months) > 6 else 0,
                  ha="right" if len(months) > 6 else "center", fontsize=8)
    ax.set_ylabel(_t("load_y", lang))
    ax.legend(fontsize=8, loc="lower left", frameon=True)
    ax.set_title(title or _t("load_title", lang), pad=14)
    return fig


def dose_response(dose: pd.DataFrame, *, outcome: str, lang: str = "en", title=None,
                  arm_labels=None, better=None, control=None, min_cell: int | None = None):
    """The outcome's mean change by dose band, per arm, with 95% CIs: an association.

    The subtitle says what the figure cannot show: children who get more visits differ
    from those who don't, so a rising line is not the program's effect (that is the
    complier effect of the page, which uses random assignment).

    Parameters
    ----------
    dose : DataFrame
        ``tables/dose.csv`` (:func:`analysis.dose.dose_table`); the rows with
        ``analysis == "dose_band"`` of ``outcome`` are drawn: ``arm, band, n,
        mean_change, ci_low, ci_high`` (``suppressed`` optional). Bands are drawn in
        the order of the table.
    outcome : str
    lang : {"en", "zh"}
    title : str, optional
        Default: the outcome.
    arm_labels : mapping, optional
    better : {"higher", "lower"}, optional
        Named on the y axis.
    control : str, optional
        The control arm (grey).
    min_cell : int, optional
        A band with a missing mean (suppressed) shows ``§`` and this number.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> dose = pd.DataFrame({"analysis": "dose_band", "outcome": "y", "arm": "t",
    ...                      "band": ["0-49%", "50-79%", "80-100%"], "n": [20, 30, 40],
    ...                      "mean_change": [0.1, 0.2, 0.4], "ci_low": [-0.1, 0.0, 0.2],
    ...                      "ci_high": [0.3, 0.4, 0.6]})
    >>> fig = dose_response(dose, outcome="y")
    >>> "Association" in fig.axes[0].get_title()
    True
    """
    from analysis.figures import _arm_colors

    d = dose[(dose["analysis"].astype(str) == "dose_band")
             & (dose["outcome"].astype(str) == str(outcome))].copy()
    d["band"] = d["band"].astype(str)
    d["arm"] = d["arm"].astype(object).where(d["arm"].notna(), "all")  # one group: no arm
    bands = list(dict.fromkeys(d["band"]))
    arms = list(dict.fromkeys(d["arm"].astype(str)))
    if control is not None and str(control) in arms:
        arms = [a for a in arms if a != str(control)] + [str(control)]
    colors = _arm_colors(arms, str(control) if control is not None else None)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 + 1.25 * len(bands)), 4.2),
                           layout="constrained")
    width = 0.6 / max(1, len(arms))
    has_ci = {"ci_low", "ci_high"} <= set(d.columns) and d["ci_low"].notna().any()
    for k, a in enumerate(arms):
        sub = d[d["arm"].astype(str) == a]
        off = (k - (len(arms) - 1) / 2) * width
        labelled = False
        for r in sub.to_dict("records"):
            xi = bands.index(r["band"]) + off
            y, lo, hi = (r.get(c, np.nan) for c in ("mean_change", "ci_low", "ci_high"))
            sup = r.get("suppressed", False)
            sup = bool(sup) if pd.notna(sup) else False
            n = r.get("n")
            if not sup and (pd.isna(n) or n == 0):
                continue  # nobody of this arm received this dose
            if pd.isna(y) or sup:
                ax.text(xi, 0, SUPPRESSED, ha="center", va="bottom", fontsize=9,
                        color=colors[a])
                continue
            if pd.notna(lo) and pd.notna(hi):
                ax.plot([xi, xi], [lo, hi], color=colors[a], lw=2)
            ax.plot(xi, y, "o", color=colors[a], ms=7,
                    label=None if labelled else _arm_name(a, lang, arm_labels))
            labelled = True
            if pd.notna(n):
                ax.annotate(f"n={int(n)}", (xi, hi if pd.notna(hi) else y),
                            textcoords="offset points", xytext=(0, 5), ha="center",
                            fontsize=7, color="#555555")
    ax.axhline(0, color="#444444", lw=0.8, ls="--")
    ax.set_xticks(range(len(bands)), [band_name(b, lang) for b in bands])
    ax.set_xlim(-0.6, len(bands) - 0.4)
    ax.set_xlabel(_t("dose_x", lang))
    ax.set_ylabel(_t("dose_y" if has_ci else "dose_y_mean", lang))
    if better in ("higher", "lower"):
        ax.text(0.01, 0.98, _t("higher_better" if better == "higher" else "lower_better", lang),
                transform=ax.transAxes, ha="left", va="top", fontsize=8, color="#2a7a2a",
                fontweight="bold")
    handles, labels_ = ax.get_legend_handles_labels()
    if labels_:
        ax.legend(fontsize=8, frameon=True, loc="lower right")
    head = title or str(outcome)
    ax.set_title(f"{head}\n" + _wrap(_t("association", lang), 90), fontsize=10)
    if min_cell and (d["suppressed"].fillna(False).astype(bool).any() if "suppressed" in d
                     else d["mean_change"].isna().any()):
        fig.text(0.01, 0.0, _t("suppressed_note", lang, k=int(min_cell)), fontsize=7,
                 color="#555555", va="bottom")
    return fig

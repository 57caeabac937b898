"""The tables of the claims page (``04_claims``): reliable change by arm, the share of
respondents who improved, and the audit of every claim of the study, with the page's
published tables and its text in both languages.

Verdicts are in the language the caller passes (the run's ``lang``); an arm's observed
share is published only when it describes at least ``privacy.min_cell`` children
(:func:`_publishable_shares`).

Functions
---------
reliability_for_change, change_summary, observed_improvement
    Reliability per outcome, ``tables/change.csv``, counts of children improved.
planning_clusters
    Cluster sizes and baseline ICCs for the audit's sample sizes (cluster trials).
figure_arm_labels
    The observed groups' names for the claims figure.
claims_audit
    ``tables/claims.csv`` (columns: :data:`analysis.claims.CLAIMS_COLUMNS` and
    ``claim_id, outcome, reliability_source``) and the audits.
change_published, claims_published, claims_planning_published
    The page's tables as :class:`evaluation.published_table.PublishedTable`.
show_text
    One paragraph of the page (:data:`TEXT`), the run's language first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.small_cells import _min_cell
from evaluation.waves import _linked_waves


def reliability_for_change(study, rel: pd.DataFrame | None = None, *,
                           items: pd.DataFrame | None = None) -> dict:
    """Reliability per outcome for the reliable change index: the outcome's
    ``test_retest`` if given, else the instrument's, else alpha at baseline.

    The baseline alpha is read from ``rel`` (``tables/reliability.csv``, as
    :func:`evaluation.reliability_tables.reliability_table` returns it) or, with
    ``items`` instead, computed for just the scales that need it: the same alpha
    (:func:`analysis.reliability.cronbach_alpha` of the keyed items of the baseline
    wave), without the omega, intervals and item statistics of the whole table (the
    claims page needs nothing else of it).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> study = NS(outcomes=[NS(id="wellbeing", test_retest=0.8, scale=None)])
    >>> reliability_for_change(study, items=pd.DataFrame())
    {'wellbeing': 0.8}
    """
    if rel is None and items is None:
        raise ValueError("reliability_for_change needs the reliability table (rel) or the "
                         "item answers (items)")
    out = {}
    for o in study.outcomes:
        r = o.test_retest
        if r is None and o.scale:
            inst_id, scale_id = o.scale.split(".", 1)
            inst = study.instrument(inst_id)
            r = inst.test_retest
            if r is None and rel is not None and not rel.empty:
                hit = rel[(rel["instrument"] == inst_id) & (rel["scale"] == scale_id)
                          & (rel["wave"] == study.design.baseline)]
                if len(hit):
                    r = float(hit["alpha"].iloc[0])
            elif r is None and rel is None:
                r = _baseline_alpha(study, items, inst, scale_id)
        if r is not None and np.isfinite(r) and 0 < r < 1:  # alpha <= 0 is no reliability
            out[o.id] = float(r)
    return out


def _baseline_alpha(study, items: pd.DataFrame, inst, scale_id: str) -> float | None:
    """Raw alpha of one scale at baseline, as the reliability table has it (``None`` where
    the table has no row: a scale with fewer than 2 items, or items not in the data, or
    no answers at baseline)."""
    from analysis.reliability import cronbach_alpha
    from survey.scoring import keyed_items

    scale = next((s for s in inst.scales if s.id == scale_id), None)
    if scale is None or len(scale.items) < 2 or not all(i in items.columns
                                                       for i in scale.items):
        return None
    d = study.design
    if d.baseline not in d.waves:
        return None
    sub = items.loc[items[d.wave] == d.baseline]
    if sub.empty:
        return None
    keyed = keyed_items(sub, inst, scale.id).astype(float)
    return float(cronbach_alpha(keyed)["alpha"].iloc[0])


_CHANGE_COLUMNS = ["outcome", "arm", "n", "improved", "improved_ci_low", "improved_ci_high",
                   "worse", "worse_ci_low", "worse_ci_high", "n_improved", "n_worse",
                   "reliability", "sd_baseline"]


def change_summary(study, scores: pd.DataFrame, reliabilities: dict) -> pd.DataFrame:
    """Shares reliably improved / worse by arm (``tables/change.csv``).

    Empty (with its columns) when respondents are not followed over two waves (one
    wave, or a cross-sectional design) or no outcome has a reliability.
    """
    from analysis.change import change_table

    d = study.design
    if not _linked_waves(d) or not reliabilities:  # see not_applicable_reason(study, "change")
        return pd.DataFrame(columns=_CHANGE_COLUMNS)
    cols = {o.column_name: o.id for o in study.outcomes if o.id in reliabilities}
    renamed = scores.rename(columns=cols)
    return change_table(renamed, list(cols.values()), id=d.id, wave=d.wave, waves=list(d.waves),
                        arm=d.arm, reliability=reliabilities,
                        better={o.id: o.better for o in study.outcomes})


def observed_improvement(study, scores: pd.DataFrame, outcome_id: str, definition: str,
                         reliability: float | None) -> dict:
    """How many respondents of each arm "improved" between the first and last wave.

    ``definition`` is ``any_increase`` (a change in the better direction) or
    ``reliable_change`` (Jacobson–Truax RCI beyond 1.96, pooled baseline SD).
    Returns ``{arm: (x, n)}``; the arm is ``"all"`` for a one-group design.
    """
    from analysis.change import reliable_change

    d = study.design
    o = study.outcome(outcome_id)
    if not _linked_waves(d):  # one wave, or different respondents at each wave
        return {}
    wide = scores.pivot_table(index=[d.id] + ([d.arm] if d.arm else []), columns=d.wave,
                              values=o.column_name, aggfunc="first").reset_index()
    if d.baseline not in wide or d.endline not in wide:
        return {}
    sd = float(scores.loc[scores[d.wave] == d.baseline, o.column_name].std())
    both = wide.dropna(subset=[d.baseline, d.endline])
    if definition == "reliable_change":
        if reliability is None:
            return {}
        rc = reliable_change(both[d.baseline].to_numpy(), both[d.endline].to_numpy(),
                             reliability=reliability, sd=sd, better=o.better)
        improved = (rc["status"] == "improved").to_numpy()
    else:
        change = both[d.endline] - both[d.baseline]
        improved = ((change > 0) if o.better == "higher" else (change < 0)).to_numpy()
    arms = both[d.arm].to_numpy() if d.arm else np.array(["all"] * len(both))
    return {str(a): (int(improved[arms == a].sum()), int((arms == a).sum()))
            for a in sorted(set(arms))}


def _publishable_shares(counts: dict, min_cell: int) -> dict:
    """``{arm: (x, n)}`` without the arms whose share would describe fewer than
    ``min_cell`` children: an arm of fewer than ``min_cell``, or ``x`` or ``n - x``
    between 1 and ``min_cell - 1`` (3 of 40 improved names a small group).

    >>> _publishable_shares({"t": (30, 40), "c": (2, 40), "typo": (1, 1)}, 5)
    {'t': (30, 40)}
    """
    return {a: (x, n) for a, (x, n) in counts.items()
            if n >= min_cell and not 0 < x < min_cell and not 0 < n - x < min_cell}


_ALL = {"en": "All children", "zh": "全体儿童"}


def _plural_en(word: str) -> str:
    w = word.strip().lower()
    return w + ("es" if w.endswith(("s", "sh", "ch", "x")) else "s")


def planning_clusters(study, scores: pd.DataFrame, outcome_id: str):
    """Cluster levels for the audit's sample sizes, or ``(None, None)``.

    Only a study that assigned whole clusters (``design.type: cluster_randomized``)
    plans a cluster trial; any other design plans children assigned one by one (a
    one-school study's classes of a few children, with an ICC estimated from a handful
    of them, would not plan anything better). Per declared cluster level, outermost
    first: the mean number of children per cluster at baseline and the level's share
    of the variance of the outcome at baseline (:func:`analysis.describe.icc`,
    unconditional random intercepts, REML; at baseline no program effect enters it;
    negative or missing shares count as 0).

    Returns
    -------
    (list of (float, float), dict) or (None, None)
        ``[(children per cluster, ICC), ...]`` and the outermost clusters' name,
        ``{"en": "schools", "zh": "学校"}``.
    """
    from analysis.describe import icc

    d = study.design
    if d.type != "cluster_randomized" or not d.clusters or not d.has_baseline:
        return None, None
    col = study.outcome(outcome_id).column_name
    base = scores[scores[d.wave] == d.baseline].dropna(subset=[col])
    if base.empty:
        return None, None
    clusters = list(d.clusters)
    try:
        table = icc(base, [col], clusters=clusters)
    except Exception:  # a fit that fails plans no clusters rather than a wrong ICC
        return None, None
    levels = []
    for c in clusters:
        share = table.loc[table["level"] == c, "icc"]
        r = float(share.iloc[0]) if len(share) else 0.0
        r = r if np.isfinite(r) and r > 0 else 0.0
        size = float(base.groupby(c).size().mean())
        levels.append((size, r))
    name = {"en": _plural_en(study.column_label(clusters[0], "en")),
            "zh": study.column_label(clusters[0], "zh")}
    return levels, name


def figure_arm_labels(study, scores: pd.DataFrame) -> dict:
    """Names of the observed groups for :func:`analysis.figures.claims_figure`.

    ``treatment`` is the group whose share the audit calls the program group (the first
    non-control arm, as in :func:`claims_audit`), or all children of a one-group study;
    ``control`` the comparison arm. Each name is ``{"en": ..., "zh": ...}``.
    """
    d = study.design
    if not d.arm or d.arm not in scores:
        return {"treatment": {"en": "all children", "zh": "全体儿童"}}
    arms = sorted({str(a) for a in scores[d.arm].dropna()})
    treated = [a for a in arms if a != d.control]
    out = {}
    if treated:
        out["treatment"] = {lg: study.label("arm", treated[0], lg) for lg in ("en", "zh")}
    if d.control:
        out["control"] = {lg: study.label("arm", d.control, lg) for lg in ("en", "zh")}
    return out


def claims_audit(study, scores: pd.DataFrame, reliabilities: dict, *, lang: str | None = None):
    """Audit every claim of the study (``tables/claims.csv``).

    Returns ``(table, audits)``: the table with the columns of
    :data:`analysis.claims.CLAIMS_COLUMNS` followed by ``claim_id, outcome,
    reliability_source``, and the :class:`~analysis.claims.ClaimAudit` objects.
    The verdict is in ``lang`` (``"zh"`` or ``"en"``: the run's language; default the
    study's); :meth:`~analysis.claims.ClaimAudit.verdict` gives either.

    The observed shares come from this study's data: the program group's (the first
    non-control arm, or the single group) and the comparison group's share improved in
    the claim's sense, and the program group's shares improved at all and reliably
    improved, each with its Wilson interval; the claim is compared with the first.
    A share is left out when it would describe fewer than ``privacy.min_cell``
    children (:func:`_publishable_shares`). Intervals treat children as independent:
    in a cluster trial they are somewhat too narrow. The sample sizes are for a
    cluster trial when the study is one (:func:`planning_clusters`). The audit's
    simulation (a claim with ``levels``) uses the run's seed.
    """
    from analysis.claims import audit_claim

    d = study.design
    lang = lang or study.language
    min_cell = _min_cell(study)
    rows, audits = [], []
    for c in study.claims:
        rel = reliabilities.get(c.outcome) if c.outcome else None
        obs_counts = observed_improvement(study, scores, c.outcome, c.improved, rel) if c.outcome else {}
        obs_counts = _publishable_shares(obs_counts, min_cell)
        observed = {}
        treated = [a for a in obs_counts if a != d.control]
        if treated:
            observed["treatment"] = obs_counts[treated[0]]
        if d.control in obs_counts:
            observed["control"] = obs_counts[d.control]
        by_def = {}
        if c.outcome:
            for definition in ("any_increase", "reliable_change"):
                counts = _publishable_shares(
                    observed_improvement(study, scores, c.outcome, definition, rel), min_cell)
                program = [a for a in counts if a != d.control]
                if program:
                    by_def[definition] = counts[program[0]]
        clusters, cluster_label = (planning_clusters(study, scores, c.outcome) if c.outcome
                                   else (None, None))
        # The claim's own source (a report) does not say how many schools; the study's
        # clusters may be classes, so nothing is said about schools here.
        a = audit_claim(c.proportion, c.n, reliability=rel if rel else 0.8, improved=c.improved,
                        observed=observed or None, observed_by_definition=by_def or None,
                        has_baseline=_linked_waves(d),
                        has_comparison=bool(d.arm) and "control" in observed,
                        clusters=clusters, cluster_label=cluster_label,
                        data_clustered=bool(d.clusters),
                        claim=c.text, alpha=study.analysis.alpha,
                        lang=lang, seed=study.analysis.seed)
        t = a.table.copy()
        t["claim_id"] = c.id
        t["outcome"] = c.outcome
        t["reliability_source"] = "study" if rel else "default 0.8"
        rows.append(t)
        audits.append(a)
    if not rows:
        from analysis.claims import CLAIMS_COLUMNS

        return pd.DataFrame(columns=[*CLAIMS_COLUMNS, "claim_id", "outcome",
                                     "reliability_source"]), []
    return pd.concat(rows, ignore_index=True), audits


# ---------------------------------------------------------------- the page's text

TEXT = {
    "intro": {
        "en": ("Program reports end with claims such as \"82% of left-behind students learned to "
               "communicate\". For every claim in the study file this page puts next to it: the "
               "confidence interval of the claimed share; the shares that improved in this "
               "study's own data, with their intervals, and whether they support the claim; the "
               "share that would look improved with no change at all (measurement error and "
               "regression to the mean); the ordinary growth that would by itself produce the "
               "claimed share; and how many children a comparison would need to detect a "
               "realistic program effect. Each claim ends with a verdict in plain words."),
        "zh": ("项目报告常以这样的结论结尾：“82%的留守学生学会了沟通”。对研究文件中的每一条声称，本页给出："
               "所声称比例的置信区间；本研究自己的数据中改善的比例及其置信区间，以及它们是否支持这一声称；"
               "即使完全没有变化也会看起来有所改善的比例（测量误差和向均值回归）；仅靠正常成长就能产生所声称比例的"
               "成长幅度；以及要检测出现实大小的项目效果，对照研究需要多少儿童。每条声称最后都有一段通俗的结论。"),
    },
    "change": {
        "en": ("A child \"reliably improved\" when the change between the first and the last wave "
               "is larger than measurement error alone produces 95% of the time (Jacobson and "
               "Truax reliable change index beyond 1.96, with the scale's reliability and the "
               "baseline SD of all children). The shares have Wilson 95% intervals. A reliable "
               "change says that the change is larger than measurement error, not what caused it."),
        "zh": ("当前后两次测量之间的变化大于仅由测量误差在95%的情况下所能产生的变化时（Jacobson 和 Truax "
               "可靠变化指数超过1.96，使用量表的信度和全体儿童基线的标准差），称该儿童“可靠改善”。比例附 Wilson "
               "95%置信区间。可靠变化只说明变化大于测量误差，不说明变化的原因。"),
    },
    "claims": {
        "en": ("How to read the claims table: the claimed share comes from the claim itself (its "
               "interval uses the claim's number of children). \"Improved at all\" counts any change "
               "in the better direction, \"reliably improved\" a reliable change; both are shares of "
               "the children of the program group (or of the single group) measured before and "
               "after. The last column says where the interval of the share observed with the "
               "claim's definition lies: below the claimed share means that the study's own data "
               "do not support the claim. None of these shares shows what the program caused: "
               "only the difference from a comparison group does."),
        "zh": ("如何阅读声称表：声称的比例来自声称本身（其置信区间按声称中的儿童人数计算）。“有所改善”指向好的方向有"
               "任何变化，“可靠改善”指可靠变化；二者都是项目组（或单组设计的全体）前后都测量过的儿童中的比例。"
               "最后一列说明按声称的定义观察到的比例的置信区间落在何处：低于声称的比例，说明本研究自己的数据不支持"
               "这一声称。这些比例都不能说明项目造成了什么：只有与对照组的差异才能说明。"),
    },
    "planning": {
        "en": ("What else could produce the claim, and what a comparison would need. The no-change "
               "share is the share that looks improved when nothing changed at all. The drift is "
               "the common true change, in standard deviations of the score, that by itself would "
               "make the claimed share of children look improved: with reliability r and a drift "
               "of δ SD, the share with any increase is Φ(δ/√(2(1−r))), so 82% with r = 0.7 needs "
               "0.71 SD. Children grow over a school year; whether growth of that size is "
               "plausible is for the reader to judge. The sample sizes are for a randomized "
               "comparison of the scores themselves (two-sided test, the study's alpha, 80% power) "
               "for standardized effects of 0.2, 0.3 and 0.5, with the design effect when whole "
               "clusters are assigned; fewer than 20 children per group is never advised."),
        "zh": ("还有什么能产生这一声称，对照研究需要多少儿童。“无变化时的比例”是完全没有变化时看起来有所改善的"
               "比例。“成长幅度”是以分数标准差计的共同真实变化，仅它本身就会使所声称比例的儿童看起来有所改善："
               "信度为 r、共同变化为 δ 个标准差时，分数有任何提高的比例为 Φ(δ/√(2(1−r)))，所以 r = 0.7 时"
               "82%需要0.71个标准差。儿童在一个学年中会成长；这样大的成长是否合理，由读者判断。样本量针对的是"
               "直接比较分数本身的随机对照研究（双侧检验，研究设定的显著性水平，80%统计功效），标准化效应为"
               "0.2、0.3和0.5，按整群分组时计入设计效应；每组少于20名儿童的方案从不建议。"),
    },
    "verdicts": {
        "en": "The verdict of each claim",
        "zh": "每条声称的结论",
    },
}
"""Every narrative paragraph of the page, the same content in English and Chinese."""


def show_text(key: str, lang: str) -> None:
    """Show the paragraph ``TEXT[key]`` in ``lang`` first, then in the other language."""
    from IPython.display import Markdown, display

    other = "en" if lang == "zh" else "zh"
    display(Markdown(TEXT[key][lang] + "\n\n" + TEXT[key][other]))


# ---------------------------------------------------------------- published tables

_SUPPORT_LABELS = {
    "below_claim": {"en": "Lower than claimed: does not support the claim",
                    "zh": "低于声称：不支持这一声称"},
    "consistent_with_claim": {"en": "Consistent with the claim", "zh": "与声称相符"},
    "above_claim": {"en": "Higher than claimed", "zh": "高于声称"},
    "no_data": {"en": "No data in this study", "zh": "本研究无数据"},
}


def _share_ci(share, lo, hi, suppressed: bool = False) -> dict:
    """``{"en": "24.6% (15.5% to 36.7%)", "zh": "24.6%（15.5% 至 36.7%）"}``."""
    from evaluation.published_table import MISSING, SUPPRESSED, format_value

    if share is None or pd.isna(share):
        mark = SUPPRESSED if suppressed else MISSING
        return {"en": mark, "zh": mark}
    out = {}
    for lang, (open_, join, close) in {"en": (" (", " to ", ")"),
                                        "zh": ("（", " 至 ", "）")}.items():
        text = format_value("share", share, lang)
        if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi):
            text += (f"{open_}{format_value('share', lo, lang)}{join}"
                     f"{format_value('share', hi, lang)}{close}")
        out[lang] = text
    return out


def _outcome_label(study, outcome_id) -> dict:
    o = study.outcome(outcome_id)
    name = {}
    if o.scale:
        inst_id, scale_id = o.scale.split(".", 1)
        name = study.instrument(inst_id).scale(scale_id).name or {}
    # the scale's name; the outcome's id only when there is no name (as RunFolder.outcome_label)
    return {lang: (name.get(lang) or name.get("en") or o.id) for lang in ("en", "zh")}


def _is_true(v) -> bool:
    return (not pd.isna(v)) and str(v).strip().lower() in ("true", "1")


def change_published(change: pd.DataFrame, study, *, lang: str = "en"):
    """The reliable-change table of the page (``tables/change.csv`` as published).

    One row per outcome and group: children with both waves, the shares reliably
    improved and reliably worse with their Wilson intervals, and the reliability used.
    Suppressed counts show as ``§`` with the table's footnote.

    Returns
    -------
    evaluation.published_table.PublishedTable
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    rows = []
    for _, r in change.iterrows():
        blanked = str(r.get("suppressed_counts") or "") if "suppressed_counts" in r else ""
        row_sup = _is_true(r.get("suppressed", False))
        arm = str(r["arm"])
        rows.append({
            "outcome": _outcome_label(study, r["outcome"]),
            "group": _ALL if arm == "all" else {lg: study.label("arm", arm, lg)
                                                for lg in ("en", "zh")},
            "n": r["n"],
            "improved": _share_ci(r["improved"], r["improved_ci_low"], r["improved_ci_high"],
                                  row_sup or "n_improved" in blanked),
            "worse": _share_ci(r["worse"], r["worse_ci_low"], r["worse_ci_high"],
                               row_sup or "n_worse" in blanked),
            "reliability": r["reliability"],
            "suppressed": row_sup,
        })
    data = pd.DataFrame(rows, columns=["outcome", "group", "n", "improved", "worse",
                                       "reliability", "suppressed"])
    return PublishedTable(
        data,
        [ColumnSpec("outcome", "Outcome", "结局"),
         ColumnSpec("group", "Group", "组别"),
         ColumnSpec("n", "Children (both waves)", "儿童人数（两次均测）", "count"),
         ColumnSpec("improved", "Reliably improved (95% CI)", "可靠改善（95%置信区间）"),
         ColumnSpec("worse", "Reliably worse (95% CI)", "可靠变差（95%置信区间）"),
         ColumnSpec("reliability", "Reliability", "信度", "estimate")],
        caption_en="Reliable change between the first and the last wave",
        caption_zh="首末两次测量之间的可靠变化",
        notes_en=["Reliable change index beyond 1.96 (Jacobson & Truax); Wilson 95% intervals."],
        notes_zh=["可靠变化指数超过1.96（Jacobson 和 Truax）；Wilson 95%置信区间。"],
        min_cell=_min_cell(study), lang=lang)


def claims_published(claims: pd.DataFrame, study, *, lang: str = "en"):
    """The claims against this study's data (``tables/claims.csv`` as published).

    One row per claim: the claim, the claimed share with its interval, the program
    group's shares improved at all and reliably improved, the comparison group's share
    (when the study has one), and where the observed share lies relative to the claim.

    Returns
    -------
    evaluation.published_table.PublishedTable
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    has_control = ("observed_control" in claims
                   and pd.to_numeric(claims["observed_control"], errors="coerce").notna().any())
    rows = []
    for _, r in claims.iterrows():
        rows.append({
            "claim": f"{r['claim_id']}: {r['claim']}",
            "claimed": _share_ci(r["claimed_proportion"], r["ci_low"], r["ci_high"]),
            "any": _share_ci(r.get("observed_any_increase"), r.get("observed_any_increase_ci_low"),
                             r.get("observed_any_increase_ci_high")),
            "reliable": _share_ci(r.get("observed_reliable_change"),
                                  r.get("observed_reliable_change_ci_low"),
                                  r.get("observed_reliable_change_ci_high")),
            "control": _share_ci(r.get("observed_control"), r.get("observed_control_ci_low"),
                                 r.get("observed_control_ci_high")),
            "support": _SUPPORT_LABELS.get(str(r.get("data_support")), _SUPPORT_LABELS["no_data"]),
        })
    data = pd.DataFrame(rows, columns=["claim", "claimed", "any", "reliable", "control",
                                       "support"])
    group_en = "Program group, this study" if has_control else "This study"
    group_zh = "本研究项目组" if has_control else "本研究"
    columns = [ColumnSpec("claim", "Claim", "声称"),
               ColumnSpec("claimed", "Claimed share (95% CI)", "声称的比例（95%置信区间）"),
               ColumnSpec("any", f"{group_en}: improved at all (95% CI)",
                          f"{group_zh}：有所改善（95%置信区间）"),
               ColumnSpec("reliable", f"{group_en}: reliably improved (95% CI)",
                          f"{group_zh}：可靠改善（95%置信区间）")]
    if has_control:
        columns.append(ColumnSpec("control", "Comparison group, claim's definition (95% CI)",
                                  "对照组，按声称的定义（95%置信区间）"))
    columns.append(ColumnSpec("support", "This study's data vs the claim",
                              "本研究数据与声称相比"))
    notes_en = ["Wilson 95% intervals. The claim is compared with the share observed with its "
                "own definition of improved (any increase, or a reliable change)."]
    notes_zh = ["Wilson 95%置信区间。声称与按其自身“改善”定义（任何提高，或可靠变化）观察到的比例相比较。"]
    if study.design.clusters:
        notes_en.append("The intervals treat children as independent; children of one "
                        "class or school are alike, so the intervals are somewhat too narrow.")
        notes_zh.append("置信区间把儿童视为相互独立；同班或同校的儿童彼此相似，所以区间略窄于实际。")
    return PublishedTable(data, columns, caption_en="The claims against this study's data",
                          caption_zh="声称与本研究的数据", notes_en=notes_en, notes_zh=notes_zh,
                          min_cell=_min_cell(study), lang=lang)


def claims_planning_published(claims: pd.DataFrame, study, *, lang: str = "en"):
    """What else could produce each claim, and the sample size a comparison would need.

    One row per claim: the no-change share, the drift (SD) that by itself gives the
    claimed share, and the children per group (and, for a cluster trial, the clusters
    per group) for standardized effects of 0.2, 0.3 and 0.5.

    Returns
    -------
    evaluation.published_table.PublishedTable
    """
    from evaluation.published_table import ColumnGroup, ColumnSpec, PublishedTable

    clustered = ("clusters_per_group_d20" in claims
                 and pd.to_numeric(claims["clusters_per_group_d20"], errors="coerce").notna().any())
    data = claims.copy()
    data["claim_label"] = data["claim_id"].astype(str)
    n_cols = [ColumnSpec(f"n_per_group_{k}", f"d = {v}", f"d = {v}", "count")
              for k, v in (("d20", "0.2"), ("d30", "0.3"), ("d50", "0.5"))]
    columns = [ColumnSpec("claim_label", "Claim", "声称"),
               ColumnSpec("null_proportion", "Share improved with no change",
                          "无变化时的改善比例", "share"),
               ColumnSpec("maturation_drift_sd", "Growth (SD) that gives the claimed share",
                          "产生声称比例的成长幅度（标准差）", "estimate"), *n_cols]
    groups = [ColumnGroup("Children per group", "每组儿童人数", tuple(c.name for c in n_cols))]
    notes_en = [f"Randomized comparison of the scores, two-sided test at alpha = "
                f"{study.analysis.alpha:g}, 80% power (as pwr.t.test)."]
    notes_zh = [f"直接比较分数的随机对照研究，双侧检验，显著性水平 {study.analysis.alpha:g}，"
                "80%统计功效（同 pwr.t.test）。"]
    if clustered:
        first = data.iloc[0]
        name_en = _plural_en(study.column_label(study.design.clusters[0], "en"))
        name_zh = study.column_label(study.design.clusters[0], "zh")
        k_cols = [ColumnSpec(f"clusters_per_group_{k}", f"d = {v}", f"d = {v}", "count")
                  for k, v in (("d20", "0.2"), ("d30", "0.3"), ("d50", "0.5"))]
        columns += k_cols
        groups.append(ColumnGroup(f"{name_en.capitalize()} per group", f"每组{name_zh}数",
                                  tuple(c.name for c in k_cols)))
        notes_en.append(
            f"Whole {name_en} assigned: about {first['cluster_size']:.0f} children each, ICC "
            f"{first['planning_icc']:.2f} at baseline (a point estimate; the power page shows "
            f"its uncertainty), design effect {first['design_effect']:.2f}.")
        notes_zh.append(
            f"按{name_zh}整体分组：每个{name_zh}约{first['cluster_size']:.0f}名儿童，基线组内相关系数"
            f"{first['planning_icc']:.2f}（点估计；其不确定性见功效页），设计效应"
            f"{first['design_effect']:.2f}。")
    else:
        notes_en.append("Children assigned one by one; assigning whole classes or schools "
                        "needs more children, by the design effect.")
        notes_zh.append("按儿童个人分组；按班级或学校整体分组需要更多儿童（乘以设计效应）。")
    if "sample_size_warning" in data and data["sample_size_warning"].map(_is_true).any():
        notes_en.append("Warning: a group of fewer than 20 children is not advised.")
        notes_zh.append("警告：不建议每组少于20名儿童。")
    return PublishedTable(data, columns, caption_en="What else could produce the claim, and "
                          "what a comparison would need",
                          caption_zh="还有什么能产生这一声称，对照研究需要多少儿童",
                          notes_en=notes_en, notes_zh=notes_zh, groups=groups,
                          min_cell=_min_cell(study), lang=lang)

"""The tables of the effects page (``03_effects``): means by arm and wave, the effect of
every outcome x arm x model, and the subgroup effects (forest-plot data).

The statistics are :func:`analysis.effects.estimate_effects` and
:func:`analysis.effects.subgroup_effects`; this module chooses the data they see (the last
wave of a cross-sectional design, no tiny arm) and adds ``n_smallest_arm``, the count
small-cell suppression applies to (:mod:`evaluation.small_cells`).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from analysis import describe
from evaluation.small_cells import _tiny_arms, merge_rare_categories


def means_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Means by arm x wave with CIs (``tables/means.csv``), outcomes named by id.

    Columns of :func:`analysis.describe.describe_by_arm_wave`; in clustered designs
    also ``n_clusters`` and ``df``.
    """
    d = study.design
    cols = {o.column_name: o.id for o in study.outcomes}
    # respondents of one school are not independent: with clusters, the intervals are
    # cluster-robust (CR2, clustered at the outermost level, Satterthwaite df)
    out = describe.describe_by_arm_wave(scores, list(cols), arm=d.arm, wave=d.wave,
                                        waves=list(d.waves),
                                        cluster=d.clusters[0] if d.clusters else None)
    out["outcome"] = out["outcome"].map(cols).fillna(out["outcome"])
    return out


def _effects_design(study, scores: pd.DataFrame):
    """The design and data the effect models see.

    A cross-sectional design surveys different respondents at each wave: with
    several waves the arms are compared at the last one, without a baseline score
    (the models of :func:`analysis.effects.estimate_effects` "without a baseline").
    """
    d = study.design
    if d.type == "cross_sectional" and d.has_baseline:
        end = scores.loc[scores[d.wave].astype(str) == d.endline]
        return dataclasses.replace(d, waves=(d.endline,)), end
    return d, scores


def effects_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Every outcome x arm x model of the design (``tables/effects.csv``).

    See :func:`analysis.effects.estimate_effects`; outcomes are named by their id.
    ``p_adjusted`` follows ``analysis.adjust``: Holm, Benjamini-Hochberg, or with
    ``none`` the unadjusted p-value. Cross-sectional designs with several waves are
    compared at the last wave (:func:`section_caveat`). Adds ``n_smallest_arm``, the
    count small-cell suppression applies to (:func:`_effects_smallest_arm`): ``n_obs``
    counts both arms, so an arm of one child next to 60 controls would pass. An arm of
    fewer than ``privacy.min_cell`` children at the last wave is not modelled (nor in
    the multiplicity adjustment): it gets one row per outcome and model without
    estimates, whose ``n_smallest_arm`` (its size) is then suppressed.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> rng = np.random.default_rng(2)
    >>> arm = np.repeat(["c", "t"], 30)
    >>> data = pd.DataFrame({"id": range(60), "wave": "w", "arm": arm,
    ...                      "a": rng.normal(size=60), "b": rng.normal(size=60)})
    >>> study = NS(design=Design(type="randomized", id="id", waves=("w",), arm="arm",
    ...                          control="c"),
    ...            outcomes=[NS(id="a", column_name="a"), NS(id="b", column_name="b")],
    ...            analysis=NS(alpha=0.05, adjust="none"))
    >>> res = effects_table(study, data)
    >>> bool((res["p_adjusted"] == res["p_value"]).all())
    True
    """
    from analysis.effects import estimate_effects

    outcomes = {o.id: o.column_name for o in study.outcomes}
    adjust = study.analysis.adjust
    design, data = _effects_design(study, scores)
    tiny, sizes = set(), {}
    if design.arm and design.arm in data.columns:
        last = data.loc[data[design.wave].astype(str) == str(design.waves[-1])]
        last = last.drop_duplicates(subset=[design.id]) if design.id in last else last
        tiny = _tiny_arms(study, last) - {design.control}
        sizes = last.groupby(design.arm).size()
    # an arm of fewer than min_cell children (a typo such as `treatmnet`) is not modelled:
    # its estimates could not be published, and its models may not even be defined
    fitted = data.loc[~data[design.arm].isin(tiny)] if tiny else data
    res = estimate_effects(fitted, outcomes, design, alpha=study.analysis.alpha,
                           adjust=adjust).tidy()
    res = res.assign(n_smallest_arm=_effects_smallest_arm(design, fitted, outcomes, res))
    if tiny:
        models = res.drop_duplicates(subset=["outcome", "model"])[["outcome", "model",
                                                                     "primary"]]
        if models.empty:
            models = pd.DataFrame({"outcome": list(outcomes), "model": "", "primary": True})
        extra = [{"outcome": m.outcome, "arm": a, "control": design.control, "model": m.model,
                  "primary": m.primary, "n_smallest_arm": float(sizes[a])}
                 for a in sorted(tiny, key=str) for m in models.itertuples(index=False)]
        res = pd.concat([res, pd.DataFrame(extra)], ignore_index=True)
    return res


def _effects_smallest_arm(design, data: pd.DataFrame, outcomes: dict,
                          res: pd.DataFrame) -> list[float]:
    """Per effects row: the analysed children of the smaller of its two arms.

    ``n_obs`` counts both arms (and, for some models, both waves), so an arm of one
    child next to a control arm of 60 would pass as 61; this is the count small-cell
    suppression of ``tables/effects.csv`` is applied to. Children count when they have
    the outcome at the last wave. One-group designs: ``n_obs``.
    """
    if res.empty:
        return []
    if not design.arm or design.arm not in data.columns:
        return [float(x) for x in res["n_obs"]]
    last = data.loc[data[design.wave].astype(str) == str(design.waves[-1])] \
        if design.wave in data.columns else data
    out = []
    for r in res.itertuples(index=False):
        col = outcomes.get(r.outcome, r.outcome)
        sub = last.loc[last[col].notna()] if col in last.columns else last
        key = design.id if design.id in sub.columns else None
        counts = (sub.groupby(design.arm)[key].nunique() if key
                  else sub.groupby(design.arm).size())
        arms = [a for a in (r.arm, design.control) if a is not None and not pd.isna(a)]
        out.append(float(min(counts.get(a, 0) for a in arms)) if arms else float(r.n_obs))
    return out


def subgroup_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Per-subgroup effects and interaction tests (``tables/subgroups.csv``), forest-plot data.

    Adds ``n_smallest_arm``: the smallest number of analysed respondents of one arm
    within the level (the count small-cell suppression is applied to). Levels held by
    fewer than ``privacy.min_cell`` children are merged first
    (:func:`merge_rare_categories`). An arm with fewer than ``min_cell`` children at
    the last wave (a typo such as ``treatmnet``) is not split into subgroups: it gets
    one row per outcome and subgroup, ``level`` empty and no estimate, whose
    ``n_smallest_arm`` (its size) is then suppressed.
    """
    from analysis.effects import subgroup_effects

    d, scores = _effects_design(study, merge_rare_categories(study, scores))
    outcomes = {o.id: o.column_name for o in study.outcomes}
    frames = []
    end = scores.loc[scores[d.wave] == d.endline]
    last = end.drop_duplicates(subset=[d.id]) if d.id in end else end
    tiny = _tiny_arms(study, last)
    sizes = last.groupby(d.arm).size() if tiny else {}
    if tiny:  # the subgroup models of an arm of one child cannot be fitted, nor published
        scores = scores.loc[~scores[d.arm].isin(tiny)]
        end = end.loc[~end[d.arm].isin(tiny)]
    for sg in d.subgroups:
        if sg not in scores.columns:
            continue
        res = subgroup_effects(scores, outcomes, d, sg, alpha=study.analysis.alpha).tidy()
        if tiny and d.arm:
            res = pd.concat([res, pd.DataFrame(
                [{"outcome": o, "arm": a, "control": d.control, "subgroup": sg, "level": "",
                  "n_smallest_arm": int(sizes[a])} for o in outcomes for a in sorted(tiny)])],
                ignore_index=True)
        if res.empty:
            continue
        smallest = []
        for r in res.itertuples():
            if r.arm in tiny:
                smallest.append(int(r.n_smallest_arm))
                continue
            col = outcomes.get(r.outcome, r.outcome)
            sub = end.loc[(end[sg].astype(str) == str(r.level)) & end[col].notna()]
            if d.arm:
                counts = sub.groupby(d.arm).size()
                arms = [a for a in (r.arm, d.control) if a is not None]
                smallest.append(int(min(counts.get(a, 0) for a in arms)))
            else:
                smallest.append(int(len(sub)))
        res = res.assign(n_smallest_arm=smallest)
        frames.append(res)
    if not frames:
        return pd.DataFrame(columns=["outcome", "arm", "subgroup", "level", "estimate",
                                     "std_error", "df", "ci_low", "ci_high", "n_obs",
                                     "n_clusters", "interaction_p", "n_smallest_arm"])
    return pd.concat(frames, ignore_index=True)

"""The published tables of a study run, composed from ``survey`` and ``analysis``.

Each function takes a loaded :class:`survey.study.Study` and the run's data
(``scores``: the long scored dataset; ``items``: item-level answers) and returns
a tidy DataFrame whose columns are the ones ``tables/*.csv`` publish. The
notebooks call these and add narrative and figures; the statistics themselves
live in :mod:`analysis`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import describe, reliability


def _arm(study):
    return study.design.arm


def validation_summary(report: dict) -> pd.DataFrame:
    """Counts of validation findings by severity and code (``tables/validation.csv``).

    Columns ``severity, code, n, example`` (the first message of each code; messages
    name files, rows and columns, never personal values or raw ids).
    """
    issues = report.get("issues", [])
    if not issues:
        return pd.DataFrame(columns=["severity", "code", "n", "example"])
    df = pd.DataFrame(issues)
    out = (df.groupby(["severity", "code"], sort=True)
             .agg(n=("code", "size"), example=("message", "first")).reset_index())
    return out.sort_values(["severity", "n"], ascending=[True, False]).reset_index(drop=True)


def missingness(study, items: pd.DataFrame) -> pd.DataFrame:
    """Percent missing per item and wave (``tables/missingness.csv``).

    Columns ``instrument, item, wave, n, n_missing, missing_pct``.
    """
    wave = study.design.wave
    rows = []
    for use in study.instruments:
        for item in use.instrument.item_ids:
            if item not in items.columns:
                continue
            for w in study.design.waves:
                col = items.loc[items[wave] == w, item]
                if len(col) == 0:
                    continue
                miss = int(col.isna().sum())
                rows.append({"instrument": use.id, "item": item, "wave": w, "n": len(col),
                             "n_missing": miss, "missing_pct": 100.0 * miss / len(col)})
    return pd.DataFrame(rows, columns=["instrument", "item", "wave", "n", "n_missing",
                                       "missing_pct"])


def attrition_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """CONSORT counts per arm (``tables/attrition.csv``): see :func:`analysis.describe.attrition`."""
    d = study.design
    primary = study.primary_outcomes[0].column_name if study.primary_outcomes else None
    return describe.attrition(scores, id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves),
                              analysed=primary, control=d.control)


def reliability_table(study, items: pd.DataFrame):
    """Alpha, omega and item statistics per instrument, scale and wave.

    Returns
    -------
    (DataFrame, DataFrame)
        ``tables/reliability.csv`` with columns ``instrument, scale, wave, n,
        n_items, alpha, alpha_ci_low, alpha_ci_high, omega_total`` (plus
        ``alpha_std``), and ``tables/item_statistics.csv`` with ``instrument,
        scale, wave, item, n, mean, sd, r_item_rest, alpha_if_deleted``. Items
        are reverse-keyed by the instrument's keys before analysis.
    """
    from survey.scoring import keyed_items

    rel_rows, item_rows = [], []
    wave = study.design.wave
    for use in study.instruments:
        inst = use.instrument
        for scale in inst.scales:
            if not all(i in items.columns for i in scale.items) or len(scale.items) < 2:
                continue
            for w in study.design.waves:
                sub = items.loc[items[wave] == w]
                if sub.empty:
                    continue
                keyed = keyed_items(sub, inst, scale.id).astype(float)
                r = reliability.reliability(keyed).iloc[0]
                rel_rows.append({"instrument": inst.id, "scale": scale.id, "wave": w,
                                 "n": int(r["n"]), "n_items": int(r["n_items"]),
                                 "alpha": r["alpha"], "alpha_ci_low": r["alpha_ci_low"],
                                 "alpha_ci_high": r["alpha_ci_high"],
                                 "omega_total": r["omega_total"], "alpha_std": r["alpha_std"]})
                st = reliability.item_statistics(keyed)
                st.insert(0, "wave", w)
                st.insert(0, "scale", scale.id)
                st.insert(0, "instrument", inst.id)
                item_rows.append(st)
    rel = pd.DataFrame(rel_rows, columns=["instrument", "scale", "wave", "n", "n_items", "alpha",
                                          "alpha_ci_low", "alpha_ci_high", "omega_total",
                                          "alpha_std"])
    stats = pd.concat(item_rows, ignore_index=True) if item_rows else pd.DataFrame()
    return rel, stats


def response_counts(study, items: pd.DataFrame, instrument_id: str, wave: str) -> pd.DataFrame:
    """How many chose each response, per item (for item distribution plots).

    Columns ``item, response, n`` (response labels in the study language when the
    instrument has them).
    """
    inst = study.instrument(instrument_id)
    lang = study.language
    sub = items.loc[items[study.design.wave] == wave]
    rows = []
    for item in inst.item_ids:
        if item not in sub.columns:
            continue
        counts = sub[item].value_counts(dropna=True)
        for code in range(inst.response.min, inst.response.max + 1):
            lab = inst.response.labels.get(code) or {}
            text = lab.get(lang) or lab.get("en") or str(code)
            rows.append({"item": item, "response": f"{code} {text}" if text != str(code) else text,
                         "n": int(counts.get(float(code), 0))})
    return pd.DataFrame(rows, columns=["item", "response", "n"])


def baseline_rows(study, scores: pd.DataFrame) -> pd.DataFrame:
    """The baseline wave's rows (one per respondent)."""
    d = study.design
    return scores.loc[scores[d.wave] == d.baseline]


def table1(study, scores: pd.DataFrame) -> pd.DataFrame:
    """"Table 1": baseline characteristics by arm (``tables/table1.csv``).

    Columns ``variable, level, arm, n, mean, sd, share``: numeric variables get a
    mean and SD; text variables one row per level with its count and share.
    """
    d = study.design
    base = baseline_rows(study, scores)
    arm = d.arm
    variables = list(dict.fromkeys(list(d.covariates) + list(d.subgroups)
                                   + [o.column_name for o in study.outcomes]))
    rows = []
    groups = base.groupby(arm, sort=True) if arm else [("all", base)]
    for a, g in groups:
        for v in variables:
            if v not in g.columns:
                continue
            col = g[v]
            if pd.api.types.is_numeric_dtype(col) and col.dropna().nunique() > 2:
                rows.append({"variable": v, "level": "", "arm": a, "n": int(col.notna().sum()),
                             "mean": col.mean(), "sd": col.std(), "share": np.nan})
            else:
                total = int(col.notna().sum())
                for level, n in col.value_counts(dropna=True).sort_index().items():
                    rows.append({"variable": v, "level": str(level), "arm": a, "n": int(n),
                                 "mean": np.nan, "sd": np.nan,
                                 "share": n / total if total else np.nan})
    return pd.DataFrame(rows, columns=["variable", "level", "arm", "n", "mean", "sd", "share"])


def balance_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Baseline balance (``tables/balance.csv``): :func:`analysis.describe.baseline_balance`
    on covariates and baseline outcomes, plus ``n_smallest_arm`` (the count that
    small-cell suppression applies to: see :func:`_smallest_cell`). Empty for
    one-group designs."""
    d = study.design
    if not d.arm:  # one group: nothing to balance; the header still says what would be here
        return pd.DataFrame(columns=["variable", "level", "arm", "control", "n_treatment",
                                     "n_control", "mean_treatment", "mean_control", "sd_pooled",
                                     "smd", "method", "abs_smd", "wwc_flag", "n_smallest_arm"])
    base = baseline_rows(study, scores)
    variables = [v for v in dict.fromkeys(list(d.covariates) + [o.column_name for o in study.outcomes])
                 if v in base.columns]
    out = describe.baseline_balance(base, variables, arm=d.arm, control=d.control)
    return out.assign(n_smallest_arm=_smallest_cell(out))


def _smallest_cell(bal: pd.DataFrame) -> list[int]:
    """The count small-cell suppression of the balance table is applied to.

    A level row (a category, or the 1s of a binary variable) publishes the level's
    share in each arm next to the arm's size, so its count in each arm is
    ``share x n``; the row's count is the smaller of the two arms. A binary variable
    has one row, whose share also gives the count of 0s (``n - count``), so the
    smaller of the two counts is used. A continuous row's count is the smaller arm.
    """
    if bal.empty:
        return []
    rows_per = bal.groupby(["variable", "arm"])["level"].transform("size").to_numpy()
    out = []
    for r, k in zip(bal.itertuples(index=False), rows_per):
        nt, nc = float(r.n_treatment), float(r.n_control)
        if str(r.level) != "":
            counts = []
            for share, n in ((r.mean_treatment, nt), (r.mean_control, nc)):
                c = round(float(share) * n) if np.isfinite(share) else 0
                counts.append(min(c, n - c) if k == 1 else c)  # binary: 1s and 0s
            out.append(int(min(counts)))
        else:
            out.append(int(min(nt, nc)))
    return out


def icc_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """ICCs of each outcome at each cluster level and wave (``tables/icc.csv``)."""
    d = study.design
    if not d.clusters:
        return pd.DataFrame(columns=["outcome", "wave", "level", "variance", "icc"])
    cols = {o.column_name: o.id for o in study.outcomes}
    out = describe.icc(scores, list(cols), clusters=list(d.clusters), wave=d.wave)
    out["outcome"] = out["outcome"].map(cols).fillna(out["outcome"])
    return out


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


def reliability_for_change(study, rel: pd.DataFrame) -> dict:
    """Reliability per outcome for the reliable change index: the outcome's
    ``test_retest`` if given, else the instrument's, else alpha at baseline."""
    out = {}
    for o in study.outcomes:
        r = o.test_retest
        if r is None and o.scale:
            inst_id, scale_id = o.scale.split(".", 1)
            inst = study.instrument(inst_id)
            r = inst.test_retest
            if r is None and not rel.empty:
                hit = rel[(rel["instrument"] == inst_id) & (rel["scale"] == scale_id)
                          & (rel["wave"] == study.design.baseline)]
                if len(hit):
                    r = float(hit["alpha"].iloc[0])
        if r is not None and np.isfinite(r) and 0 < r < 1:  # alpha <= 0 is no reliability
            out[o.id] = float(r)
    return out


def change_summary(study, scores: pd.DataFrame, reliabilities: dict) -> pd.DataFrame:
    """Shares reliably improved / worse by arm (``tables/change.csv``)."""
    from analysis.change import change_table

    d = study.design
    if not d.has_baseline:
        return pd.DataFrame()
    cols = {o.column_name: o.id for o in study.outcomes if o.id in reliabilities}
    renamed = scores.rename(columns=cols)
    return change_table(renamed, list(cols.values()), id=d.id, wave=d.wave, waves=list(d.waves),
                        arm=d.arm, reliability=reliabilities,
                        better={o.id: o.better for o in study.outcomes})


def design_inputs(study, scores: pd.DataFrame) -> dict:
    """ICC, cluster size and covariate R² measured in this study, for planning the next.

    Uses the primary outcome at baseline for the ICC at the outermost cluster level
    and the baseline score as covariate of the endline score for R². Returns a dict
    with ``outcome, icc, cluster_size, n_clusters, r2_1, r2_2, n_per_arm``.
    """
    from analysis.variance_explained import r2_by_level

    d = study.design
    primary = study.primary_outcomes[0] if study.primary_outcomes else study.outcomes[0]
    col = primary.column_name
    base = baseline_rows(study, scores)
    out = {"outcome": primary.id, "icc": np.nan, "cluster_size": np.nan, "n_clusters": np.nan,
           "r2_1": 0.0, "r2_2": 0.0,
           "n_per_arm": float(base.groupby(d.arm).size().mean()) if d.arm else float(len(base))}
    if d.clusters:
        top = d.clusters[0]
        icc = describe.icc(base, col, clusters=top)
        out["icc"] = float(icc.loc[icc["level"] == top, "icc"].iloc[0])
        sizes = base.groupby(top).size()
        out["cluster_size"], out["n_clusters"] = float(sizes.mean()), int(len(sizes))
        if d.has_baseline:
            wide = scores.pivot_table(index=[d.id, top], columns=d.wave, values=col).reset_index()
            if d.baseline in wide and d.endline in wide:
                r2 = r2_by_level(wide, d.endline, d.baseline, top).set_index("level")["r2"]
                r21, r22 = float(r2["individual"]), float(r2[top])
                out["r2_1"] = min(0.99, max(0.0, r21)) if np.isfinite(r21) else 0.0
                out["r2_2"] = min(0.99, max(0.0, r22)) if np.isfinite(r22) else 0.0
    return out


def power_curves(inputs: dict, *, effects=(0.2, 0.3, 0.4), alpha=0.05) -> pd.DataFrame:
    """Power by number of clusters (cluster designs) or per-arm n (others).

    Columns ``series, clusters`` or ``n_per_arm``, ``effect, power``.
    """
    from analysis import power

    rows = []
    if np.isfinite(inputs.get("icc", np.nan)):
        n = max(2.0, round(inputs["cluster_size"]))
        for eff in effects:
            for j in range(6, 81, 2):
                r = power.power_cluster2(j, n, max(inputs["icc"], 0.0), effect=eff,
                                         r2_1=inputs["r2_1"], r2_2=inputs["r2_2"],
                                         n_covariates=1 if inputs["r2_2"] > 0 else 0, alpha=alpha)
                rows.append({"series": f"d = {eff}", "clusters": j, "effect": eff,
                             "power": float(r["power"].iloc[0])})
        return pd.DataFrame(rows)
    for eff in effects:
        for n in range(10, 401, 10):
            r = power.power_t(effect=eff, n=n, alpha=alpha, design="two_sample")
            rows.append({"series": f"d = {eff}", "n_per_arm": n, "effect": eff,
                         "power": float(r["power"].iloc[0])})
    return pd.DataFrame(rows)


def mdes_table(inputs: dict, *, power_target=0.8, alpha=0.05) -> pd.DataFrame:
    """Minimum detectable effect size for a range of sample sizes (``tables/power.csv``)."""
    from analysis import power

    rows = []
    if np.isfinite(inputs.get("icc", np.nan)):
        n = max(2.0, round(inputs["cluster_size"]))
        for j in (10, 14, 20, 30, 40, 60, 80):
            for label, r21, r22 in (("no covariates", 0.0, 0.0),
                                    ("baseline score as covariate", inputs["r2_1"],
                                     inputs["r2_2"])):
                r = power.power_cluster2(j, n, max(inputs["icc"], 0.0), power=power_target,
                                         r2_1=r21, r2_2=r22,
                                         n_covariates=1 if r22 > 0 else 0, alpha=alpha)
                rows.append({"design": "cluster2", "clusters": j, "cluster_size": n,
                             "icc": inputs["icc"], "covariates": label, "r2_1": r21, "r2_2": r22,
                             "power": power_target, "mdes": float(r["mdes"].iloc[0])})
        return pd.DataFrame(rows)
    for n in (20, 30, 50, 80, 100, 150, 200, 300):
        r = power.power_t(n=n, power=power_target, alpha=alpha, design="two_sample")
        rows.append({"design": "two_sample", "n_per_arm": n, "power": power_target,
                     "mdes": float(r["effect"].iloc[0])})
    return pd.DataFrame(rows)


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
    if not d.has_baseline:
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


def claims_audit(study, scores: pd.DataFrame, reliabilities: dict):
    """Audit every claim of the study (``tables/claims.csv``).

    Returns ``(table, audits)``: the table with columns ``claim, claimed_proportion,
    n, ci_low, ci_high, null_proportion, observed_treatment, observed_control,
    verdict`` (plus the audit's other columns), and the :class:`ClaimAudit` objects.
    The observed shares come from this study's data with the claim's definition of
    "improved"; ``treatment`` is the first non-control arm (or the single group).
    """
    from analysis.claims import audit_claim

    d = study.design
    rows, audits = [], []
    for c in study.claims:
        rel = reliabilities.get(c.outcome) if c.outcome else None
        obs_counts = observed_improvement(study, scores, c.outcome, c.improved, rel) if c.outcome else {}
        observed = {}
        if obs_counts:
            treated = [a for a in obs_counts if a != d.control]
            if treated:
                observed["treatment"] = obs_counts[treated[0]]
            if d.control in obs_counts:
                observed["control"] = obs_counts[d.control]
        # The claim's own source (a report) does not say how many schools; the study's
        # clusters may be classes, so nothing is said about schools here.
        n_schools = None
        a = audit_claim(c.proportion, c.n, reliability=rel if rel else 0.8, improved=c.improved,
                        observed=observed or None, has_baseline=d.has_baseline,
                        has_comparison=bool(d.arm) and "control" in observed,
                        n_schools=n_schools, claim=c.text, alpha=study.analysis.alpha,
                        lang=study.language)
        t = a.table.copy()
        t["claim_id"] = c.id
        t["outcome"] = c.outcome
        t["reliability_source"] = "study" if rel else "default 0.8"
        rows.append(t)
        audits.append(a)
    if not rows:
        return pd.DataFrame(columns=["claim", "claimed_proportion", "n", "ci_low", "ci_high",
                                     "null_proportion", "observed_treatment",
                                     "observed_control", "verdict"]), []
    return pd.concat(rows, ignore_index=True), audits


def effects_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Every outcome x arm x model of the design (``tables/effects.csv``).

    See :func:`analysis.effects.estimate_effects`; outcomes are named by their id.
    """
    from analysis.effects import estimate_effects

    outcomes = {o.id: o.column_name for o in study.outcomes}
    return estimate_effects(scores, outcomes, study.design, alpha=study.analysis.alpha,
                            adjust=study.analysis.adjust if study.analysis.adjust != "none"
                            else "holm")


def subgroup_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Per-subgroup effects and interaction tests (``tables/subgroups.csv``), forest-plot data.

    Adds ``n_smallest_arm``: the smallest number of analysed respondents of one arm
    within the level (the count small-cell suppression is applied to).
    """
    from analysis.effects import subgroup_effects

    d = study.design
    outcomes = {o.id: o.column_name for o in study.outcomes}
    frames = []
    end = scores.loc[scores[d.wave] == d.endline]
    for sg in d.subgroups:
        if sg not in scores.columns:
            continue
        res = subgroup_effects(scores, outcomes, d, sg, alpha=study.analysis.alpha)
        if res.empty:
            continue
        smallest = []
        for r in res.itertuples():
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

"""The tables of the power page (``05_power``): the design inputs measured in this study
(ICC, cluster size, covariate R²), power curves and minimum detectable effects for
planning the next study."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import describe
from evaluation.small_cells import _min_cell
from evaluation.waves import _linked_waves, baseline_rows


def design_inputs(study, scores: pd.DataFrame) -> dict:
    """ICC, cluster size and covariate R² measured in this study, for planning the next.

    Uses the primary outcome at baseline for the ICC at the outermost cluster level
    and the baseline score as covariate of the endline score for R². Returns a dict
    with ``outcome, icc, cluster_size, n_clusters, r2_1, r2_2, n_per_arm``.
    """
    from analysis.variance_explained import r2_by_level

    d = study.design
    if not study.outcomes:
        raise ValueError("the study declares no outcomes: there is nothing to plan a next "
                         "study for (see not_applicable_reason(study, '05_power'))")
    primary = study.primary_outcomes[0] if study.primary_outcomes else study.outcomes[0]
    col = primary.column_name
    base = baseline_rows(study, scores)
    sizes = base.groupby(d.arm).size() if d.arm else pd.Series([len(base)])
    sizes = sizes[sizes >= _min_cell(study)]  # an arm of 1 (a typo) is no arm to plan with
    out = {"outcome": primary.id, "icc": np.nan, "cluster_size": np.nan, "n_clusters": np.nan,
           "r2_1": 0.0, "r2_2": 0.0,
           "n_per_arm": float(sizes.mean()) if len(sizes) else np.nan}
    if d.clusters:
        top = d.clusters[0]
        icc = describe.icc(base, col, clusters=top)
        out["icc"] = float(icc.loc[icc["level"] == top, "icc"].iloc[0])
        sizes = base.groupby(top).size()
        out["cluster_size"], out["n_clusters"] = float(sizes.mean()), int(len(sizes))
        if _linked_waves(d):
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

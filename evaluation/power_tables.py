"""The tables of the power page (``05_power``): plan the next study with the inputs this
study measured, and say how sure that plan is.

Which trial is planned (:func:`design_inputs`, ``inputs["plan"]``):

- ``cluster3`` / ``cluster2``: a cluster randomized trial, schools randomized, when the
  study randomized clusters or has schools (at least MIN_SCHOOLS) with classes in them (two cluster
  levels). The planning ICC is the one a next trial will meet: from the last wave,
  conditioned on the arm, when the study has an arm (after the program, an
  unconditional ICC counts the program's effect as variance between schools); from
  the first wave without an arm (before the program). With classes inside schools
  the plan is three-level (PowerUp! CRA3_3r: school and class ICCs), since children
  of one class are more alike than children of one school.
- ``individual``: an individually randomized trial analysed with the baseline score
  (ANCOVA), when clusters were not randomized and there is one school (clusters = its
  classes), fewer than :data:`MIN_SCHOOLS` schools, or no clusters: a few
  classes of one school cannot be randomized in numbers that give a cluster trial
  any power, while children can be randomized within their classes (the class then
  drops out of the comparison).

Each planning input comes with its 95% CI: the ICC's profile-likelihood interval
(:func:`analysis.icc.icc`), or, for an individual trial, the interval of the
pre-post R² (Fisher z of the partial correlation). Power and MDES are computed at
the estimate and at both ends of the interval: the band that :func:`plan_summary`
puts into words and :func:`analysis.power_figures.power_band` draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis import icc as icc_lib
from evaluation.small_cells import _min_cell
from evaluation.waves import _linked_waves, baseline_rows

__all__ = ["MIN_SCHOOLS", "PLAN_EFFECT", "TEXT", "design_inputs", "page_text", "show_text", "simulation_text", "inputs_published", "mdes_published",
           "mdes_table", "plan_summary", "power_at", "power_curves", "simulation_check",
           "simulation_published"]

PLAN_EFFECT = 0.3
"""The standardized effect the page plans for (a moderate effect for a school program)."""

TEXT = {
    "intro": {
        "en": ("How large a next study of this kind must be to detect a given effect, planned "
               "with the inputs measured in this study: the intra-class correlation (ICC) of "
               "the primary outcome and the variance its baseline score explains. Analytic power "
               "comes from the PowerUp!/Optimal Design formulas (cluster trials) or the ANCOVA "
               "t-test (individually randomized trials), and is checked by simulating trials "
               "analysed with the estimator of the effects report. Every input is an estimate "
               "with a confidence interval, so the page shows the power across that interval, "
               "not only at the point value."),
        "zh": ("下一项同类研究需要多大规模才能检测到给定的效应？本页用本研究测得的参数来规划：主要结局的"
               "组内相关系数（ICC）以及基线分数所解释的方差。解析功效来自 PowerUp!/Optimal Design 公式"
               "（整群试验）或协方差分析的 t 检验（个体随机试验），并用模拟试验（以效果报告中的估计方法"
               "分析）加以检验。每个规划参数都是带置信区间的估计值，所以本页给出整个区间内的功效，而不只是"
               "点估计处的功效。"),
    },
    "inputs": {
        "en": ("The inputs below were measured in this study, on its primary outcome, each with "
               "its 95% confidence interval. A next study planned with a point value inherits "
               "that value's uncertainty silently; the page therefore computes power and the "
               "minimum detectable effect at both ends of the interval as well."),
        "zh": ("以下规划参数均在本研究的主要结局上测得，并各附 95% 置信区间。只用点估计规划下一项研究，"
               "会把这一估计的不确定性悄悄带进计划；因此本页同时在区间两端计算统计功效和最小可检测效应。"),
    },
    "mdes": {
        "en": ("The smallest standardized effect (in SD of the outcome) that a trial of the given "
               "size detects with the target power at the 5% level (two-sided), at the estimated "
               "input and across its 95% CI."),
        "zh": ("在给定规模下，试验以目标功效（双侧 5% 水平）能检测到的最小标准化效应（以结局标准差为单位），"
               "分别按规划参数的估计值及其 95% 置信区间计算。"),
    },
    "curves": {
        "en": ("Power by size of the next trial for three true effects, analysed with the "
               "baseline score as covariate. The line uses the estimated input, the shaded band "
               "the two ends of its 95% CI; the dotted line marks this study's size."),
        "zh": ("下一项试验在三种真实效应下的统计功效随规模变化（以基线分数为协变量分析）。"
               "实线用规划参数的估计值，阴影带为其 95% 置信区间两端；点线标出本研究的规模。"),
    },
    "simulation": {
        "en": ("Simulated trials of the planned design (this study's size, the estimated inputs, "
               "a true effect of 0.3 SD), each analysed with the estimator of the effects report "
               "(cluster trials: OLS with CR2 standard errors and Bell–McCaffrey df; individual "
               "trials: OLS with HC2 standard errors). The simulated power, with its Monte Carlo "
               "interval, checks the analytic one; a gap of a few points comes from the analytic "
               "formula's df (J − g − 2) and its neglect of chance imbalance in the covariate. "
               "The simulation uses the run's seed (recorded in the manifest), so it repeats "
               "exactly."),
        "zh": ("按计划的设计（本研究规模、规划参数估计值、真实效应 0.3 个标准差）模拟试验，每次都用效果"
               "报告中的估计方法分析（整群试验：OLS + CR2 标准误与 Bell–McCaffrey 自由度；个体随机试验："
               "OLS + HC2 标准误）。模拟功效及其蒙特卡罗区间用来检验解析功效；几个百分点的差距来自解析公式"
               "的自由度（J − g − 2）以及它忽略了协变量的偶然不平衡。模拟使用本次运行的随机种子（记录在清单中），因此可以完全"
               "重现。"),
    },
}
"""The page's paragraphs, in both languages with the same content."""


# ---------------------------------------------------------------- the planning inputs


def _clip_r2(v) -> float:
    v = float(v)
    return min(0.99, max(0.0, v)) if np.isfinite(v) else 0.0


MIN_SCHOOLS = 6
"""Fewer top-level clusters than this in a study that did not randomize clusters: plan an
individually randomized trial (an ICC from 2-5 schools is no basis for a cluster trial)."""


def _cluster_plan(study, scores) -> bool:
    d = study.design
    if not d.clusters:
        return False
    if d.type == "cluster_randomized":
        return True
    return len(d.clusters) >= 2 and scores[d.clusters[0]].nunique() >= MIN_SCHOOLS


def _icc_wave(design) -> tuple[str, bool]:
    """The wave the planning ICC comes from, and whether it is conditioned on the arm."""
    if design.arm and design.has_baseline:
        return str(design.endline), True
    if design.arm:
        return str(design.waves[0]), True
    return str(design.baseline), False


def _r2_levels(scores, study, col, levels, conditioned) -> dict:
    """R² of the baseline score at each level: reduction of each variance component."""
    from analysis.mixed import random_intercepts

    d = study.design
    keys = [d.id, *levels, *([d.arm] if d.arm and conditioned else [])]
    wide = scores.pivot_table(index=keys, columns=d.wave, values=col,
                              observed=True).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    pre, post = str(d.baseline), str(d.endline)
    if pre not in wide or post not in wide:
        return {}
    wide = wide.rename(columns={pre: "_pre", post: "_post"}).dropna(subset=["_pre", "_post"])
    base = [d.arm] if d.arm and conditioned else None
    try:
        unc = random_intercepts(wide, "_post", levels, fixed=base, ddf="normal")
        con = random_intercepts(wide, "_post", levels, fixed=[*(base or []), "_pre"],
                                ddf="normal")
    except ValueError:
        return {}
    vu = unc.variance_components.set_index("level")["variance"]
    vc = con.variance_components.set_index("level")["variance"]
    out = {"individual": _clip_r2(1 - con.residual_variance / unc.residual_variance)}
    for lev in levels:
        u = float(vu[lev])
        out[lev] = _clip_r2(1 - float(vc[lev]) / u) if u > 0 else 0.0
    return out


def _individual_r2(scores, study, col) -> tuple[float, float, float, int]:
    """R² of the baseline score for the post score (partial on the arm) with its CI."""
    d = study.design
    if not _linked_waves(d):
        return 0.0, 0.0, 0.0, 0
    keys = [d.id, *([d.arm] if d.arm else [])]
    wide = scores.pivot_table(index=keys, columns=d.wave, values=col,
                              observed=True).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    pre, post = str(d.baseline), str(d.endline)
    if pre not in wide or post not in wide:
        return 0.0, 0.0, 0.0, 0
    w = wide.dropna(subset=[pre, post])
    x, y = w[pre].to_numpy(float), w[post].to_numpy(float)
    k = 0
    if d.arm and w[d.arm].nunique() > 1:  # partial correlation given the arm
        dummies = pd.get_dummies(w[d.arm], drop_first=True).to_numpy(float)
        z = np.column_stack([np.ones(len(w)), dummies])
        x = x - z @ np.linalg.lstsq(z, x, rcond=None)[0]
        y = y - z @ np.linalg.lstsq(z, y, rcond=None)[0]
        k = dummies.shape[1]
    n = len(w)
    if n - k < 5 or x.std() == 0 or y.std() == 0:
        return 0.0, 0.0, 0.0, n
    r = float(np.corrcoef(x, y)[0, 1])
    half = stats.norm.ppf(0.975) / math.sqrt(n - k - 3)
    lo, hi = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
    r2_lo = 0.0 if lo < 0 < hi else min(lo * lo, hi * hi)
    return _clip_r2(r * r), _clip_r2(r2_lo), _clip_r2(max(lo * lo, hi * hi)), n


def design_inputs(study, scores: pd.DataFrame) -> dict:
    """The planning inputs measured in this study, each with its 95% CI.

    Uses the primary outcome (the first outcome when none is marked primary).

    Returns
    -------
    dict
        ``outcome`` (id), ``plan`` (``"cluster3"``, ``"cluster2"`` or
        ``"individual"``: see the module notes), ``n_per_arm`` (children per arm at
        baseline) and

        - cluster plans: ``icc`` (ICC of the randomized level, the schools),
          ``icc_ci_low``, ``icc_ci_high`` (95% profile-likelihood CI), ``icc_wave``,
          ``conditioned_on`` (``"arm"`` or ``""``), ``icc_wave_label`` (``{en, zh}``),
          ``icc_class`` (and its CI;
          ``cluster3`` only, else 0), ``n_clusters``, ``classes_per_cluster``,
          ``class_size``, ``cluster_size`` (children per school =
          classes x class size, whole numbers of this study's means at baseline),
          ``r2_1``, ``r2_2``, ``r2_3`` (R² of the baseline score for the endline score
          among children, classes -- or schools in a two-level plan -- and schools, as
          the reduction of each variance component; 0 without a baseline);
        - the individual plan: ``icc`` NaN, ``r2`` (squared pre-post correlation,
          partial on the arm) with ``r2_ci_low``, ``r2_ci_high``, ``n_pairs``,
          ``individual_reason`` (``"individual_design"`` when the study itself randomized
          children, else ``"one_school"``) and ``r2_1 = r2``.

    Examples
    --------
    >>> from evaluation.run_folder import RunFolder                      # doctest: +SKIP
    >>> run = RunFolder("RUN")                                           # doctest: +SKIP
    >>> design_inputs(run.study, run.scores())["plan"]                   # doctest: +SKIP
    'cluster3'
    """
    d = study.design
    if not study.outcomes:
        raise ValueError("the study declares no outcomes: there is nothing to plan a next "
                         "study for (see not_applicable_reason(study, '05_power'))")
    primary = study.primary_outcomes[0] if study.primary_outcomes else study.outcomes[0]
    col = primary.column_name
    base = baseline_rows(study, scores)
    sizes = base.groupby(d.arm).size() if d.arm else pd.Series([len(base)])
    sizes = sizes[sizes >= _min_cell(study)]  # an arm of 1 (a typo) is no arm to plan with
    out = {"outcome": primary.id, "plan": "individual", "icc": np.nan, "icc_ci_low": np.nan,
           "icc_ci_high": np.nan, "icc_wave": "", "conditioned_on": "", "icc_class": 0.0,
           "icc_class_ci_low": np.nan, "icc_class_ci_high": np.nan,
           "cluster_size": np.nan, "n_clusters": np.nan, "classes_per_cluster": 1,
           "class_size": np.nan, "r2_1": 0.0, "r2_2": 0.0, "r2_3": 0.0,
           "n_per_arm": float(sizes.mean()) if len(sizes) else np.nan}
    if not _cluster_plan(study, scores):
        r2, lo, hi, n = _individual_r2(scores, study, col)
        out["individual_reason"] = ("individual_design" if d.type == "randomized"
                                    else "one_school")
        if not d.arm:  # one group measured twice: a trial of the same children, in two arms
            out["n_per_arm"] = float(len(base)) / 2.0
        out.update({"r2": r2, "r2_ci_low": lo, "r2_ci_high": hi, "n_pairs": n, "r2_1": r2})
        return out

    levels = list(d.clusters[:2])
    wave, conditioned = _icc_wave(d)
    part = scores[scores[d.wave].astype(str) == wave]
    t = icc_lib.icc(part, col, levels, fixed=[d.arm] if conditioned else None)
    t = t.set_index("level")
    top = levels[0]
    three = len(levels) == 2 and np.isfinite(t.loc[levels[1], "icc"])
    if not three:
        levels = [top]
        t = icc_lib.icc(part, col, levels, fixed=[d.arm] if conditioned else None).set_index(
            "level")
    per_top = base.groupby(top).size()
    out.update({"plan": "cluster3" if three else "cluster2",
                "icc": float(t.loc[top, "icc"]), "icc_ci_low": float(t.loc[top, "ci_low"]),
                "icc_ci_high": float(t.loc[top, "ci_high"]), "icc_wave": wave,
                "icc_wave_label": {lg: study.label("wave", wave, lg) for lg in ("en", "zh")},
                "conditioned_on": "arm" if conditioned else "",
                "n_clusters": int(len(per_top))})
    if three:
        mid = levels[1]
        k = max(1, int(round(base.groupby(top)[mid].nunique().mean())))
        m = max(2, int(round(float(per_top.mean()) / k)))
        out.update({"icc_class": float(t.loc[mid, "icc"]),
                    "icc_class_ci_low": float(t.loc[mid, "ci_low"]),
                    "icc_class_ci_high": float(t.loc[mid, "ci_high"]),
                    "classes_per_cluster": k, "class_size": m, "cluster_size": k * m})
    else:
        m = max(2, int(round(float(per_top.mean()))))
        out.update({"classes_per_cluster": 1, "class_size": m, "cluster_size": m})
    if _linked_waves(d):
        r2 = _r2_levels(scores, study, col, levels, conditioned)
        if r2:
            out["r2_1"] = r2["individual"]
            if three:
                out["r2_2"], out["r2_3"] = r2[levels[1]], r2[top]
            else:
                out["r2_2"] = r2[top]
    return out


# ---------------------------------------------------------------- power and MDES of a plan


def _covs(inputs: dict, covariates: bool) -> dict:
    if not covariates:
        return {"r2_1": 0.0, "r2_2": 0.0, "r2_3": 0.0}
    return {k: inputs.get(k, 0.0) for k in ("r2_1", "r2_2", "r2_3")}


def _band_inputs(inputs: dict) -> list[tuple[str, dict]]:
    """The inputs at the estimate and at each end of the 95% CI of the planning input."""
    out = [("estimate", dict(inputs))]
    if inputs["plan"] == "individual":
        for end in ("low", "high"):
            v = inputs.get(f"r2_ci_{end}", np.nan)
            if np.isfinite(v):
                out.append((end, {**inputs, "r2": v, "r2_1": v}))
        return out
    for end in ("low", "high"):
        v = inputs.get(f"icc_ci_{end}", np.nan)
        if np.isfinite(v):
            cls = min(inputs.get("icc_class", 0.0), max(0.0, 0.999 - v))
            out.append((end, {**inputs, "icc": v, "icc_class": cls}))
    return out


def power_at(inputs: dict, size: float, *, effect: float | None = None,
             power: float | None = None, covariates: bool = True,
             alpha: float = 0.05) -> pd.DataFrame:
    """Power (or MDES) of the planned trial with ``size`` clusters (or children per arm).

    Give ``effect`` for power, ``power`` for the MDES. ``covariates``: analysed with
    the baseline score (the inputs' R²) or without. Returns the one-row result of
    :func:`analysis.power.power_cluster3`, ``power_cluster2`` or ``power_ancova``.
    ``size`` may be a list (of cluster numbers, or of children per arm) when ``effect``
    is given: the power at each, one row per size (a power curve, the same numbers as
    one call per size); for cluster plans also when ``power`` is given: the MDES at each.
    """
    from analysis import power as pw

    r2 = _covs(inputs, covariates)
    plan = inputs["plan"]
    if plan == "individual":
        n = [float(k) for k in size] if isinstance(size, list) else float(size)
        return pw.power_ancova(effect, n, power, r2=r2["r2_1"], alpha=alpha)
    g = 1 if r2["r2_3" if plan == "cluster3" else "r2_2"] > 0 else 0
    icc = max(float(inputs["icc"]), 0.0)
    size = [int(k) for k in size] if isinstance(size, list) else int(size)
    if plan == "cluster3":
        return pw.power_cluster3(size, inputs["classes_per_cluster"], inputs["class_size"],
                                 icc, max(float(inputs["icc_class"]), 0.0), effect=effect,
                                 power=power, n_covariates=g, alpha=alpha, **r2)
    return pw.power_cluster2(size, inputs["cluster_size"], icc, effect=effect, power=power,
                             r2_1=r2["r2_1"], r2_2=r2["r2_2"], n_covariates=g, alpha=alpha)


def _size_needed(inputs, effect, power_target, alpha, covariates=True):
    """Clusters (or children per arm) for ``power_target``: the smallest size that reaches it."""
    from analysis import power as pw

    r2 = _covs(inputs, covariates)
    plan = inputs["plan"]
    try:
        if plan == "individual":
            n = pw.power_ancova(effect, None, power_target, r2=r2["r2_1"], alpha=alpha)
            return int(math.ceil(n["n"].item() - 1e-9))
        g = 1 if r2["r2_3" if plan == "cluster3" else "r2_2"] > 0 else 0
        icc = max(float(inputs["icc"]), 0.0)
        if plan == "cluster3":
            r = pw.power_cluster3(None, inputs["classes_per_cluster"], inputs["class_size"], icc,
                                  max(float(inputs["icc_class"]), 0.0), effect=effect,
                                  power=power_target, n_covariates=g, alpha=alpha, **r2)
            k = int(r["n_schools"].item())
        else:
            r = pw.power_cluster2(None, inputs["cluster_size"], icc, effect=effect,
                                  power=power_target, r2_1=r2["r2_1"], r2_2=r2["r2_2"],
                                  n_covariates=g, alpha=alpha)
            k = int(r["n_clusters"].item())
        return k + (k % 2)  # an even number: half the schools in each arm
    except ValueError:
        return None


def _sizes(inputs) -> list[int]:
    if inputs["plan"] == "individual":
        return [20, 30, 50, 80, 100, 150, 200, 300]
    return [10, 14, 20, 30, 40, 60, 80]


def mdes_table(inputs: dict, *, power_target=0.8, alpha=0.05) -> pd.DataFrame:
    """Minimum detectable effect sizes for a range of sizes (``tables/power.csv``).

    One row per size (clusters, or children per arm for the individual plan) and
    analysis (``covariates``: ``no covariates`` or ``baseline score as covariate``).

    Columns: ``design`` (the plan), ``clusters`` or ``n_per_arm``, the inputs
    (``cluster_size, classes_per_cluster, class_size, icc, icc_class, icc_wave,
    conditioned_on`` for cluster plans; ``r2`` for the individual plan),
    ``covariates, r2_1, r2_2, r2_3, power, mdes``, and the band: ``band_over``
    (``icc``: the ICC of the randomized level; ``r2``: the pre-post R²),
    ``input_ci_low``, ``input_ci_high`` (its 95% CI) and ``mdes_band_low``,
    ``mdes_band_high`` (the smallest and largest MDES with the input anywhere at the
    ends of that CI).
    """
    rows = []
    plan = inputs["plan"]
    band = _band_inputs(inputs)
    sizes = _sizes(inputs)
    mdes: dict = {}  # (covariates, band input) -> MDES at each size
    if plan != "individual":  # cluster plans: all sizes at once (the same numbers)
        for covariates in (False, True):
            for name, inp in band:
                mdes[covariates, name] = power_at(inp, sizes, power=power_target,
                                                  covariates=covariates,
                                                  alpha=alpha)["mdes"].to_numpy(dtype=float)
    for i, size in enumerate(sizes):
        for covariates in (False, True):
            if plan == "individual" and covariates and inputs.get("r2", 0.0) <= 0:
                continue
            label = "baseline score as covariate" if covariates else "no covariates"
            vals = {}
            for name, inp in band:
                if not covariates and plan == "individual" and name != "estimate":
                    continue  # without the covariate the R² does not enter
                if plan != "individual":
                    vals[name] = float(mdes[covariates, name][i])
                    continue
                vals[name] = float(power_at(inp, size, power=power_target,
                                            covariates=covariates, alpha=alpha)["effect"].iloc[0])
            ends = [vals[k] for k in ("low", "high") if k in vals]
            r2 = _covs(inputs, covariates)
            row = {"design": plan}
            if plan == "individual":
                row.update({"n_per_arm": size, "r2": inputs.get("r2", 0.0)})
                over, lo, hi = "r2", inputs.get("r2_ci_low"), inputs.get("r2_ci_high")
            else:
                row.update({"clusters": size, "cluster_size": inputs["cluster_size"],
                            "classes_per_cluster": inputs["classes_per_cluster"],
                            "class_size": inputs["class_size"], "icc": inputs["icc"],
                            "icc_class": inputs["icc_class"], "icc_wave": inputs["icc_wave"],
                            "conditioned_on": inputs["conditioned_on"]})
                over, lo, hi = "icc", inputs["icc_ci_low"], inputs["icc_ci_high"]
            row.update({"covariates": label, **r2, "power": power_target,
                        "mdes": vals["estimate"], "band_over": over if ends else "",
                        "input_ci_low": lo if ends else np.nan,
                        "input_ci_high": hi if ends else np.nan,
                        "mdes_band_low": min(ends + [vals["estimate"]]) if ends else np.nan,
                        "mdes_band_high": max(ends + [vals["estimate"]]) if ends else np.nan})
            rows.append(row)
    return pd.DataFrame(rows)


def power_curves(inputs: dict, *, effects=(0.2, 0.3, 0.4), alpha=0.05) -> pd.DataFrame:
    """Power by number of clusters (cluster plans) or children per arm, with the band.

    Columns ``series, clusters`` or ``n_per_arm``, ``effect, power`` (at the estimated
    inputs, analysed with the baseline score), ``power_low, power_high`` (lowest and
    highest power with the planning input at the ends of its 95% CI).
    """
    band = _band_inputs(inputs)
    x = "n_per_arm" if inputs["plan"] == "individual" else "clusters"
    grid = range(10, 401, 10) if x == "n_per_arm" else range(6, 81, 2)
    rows = []
    for eff in effects:
        # one call per input for the whole grid (the same numbers as one per size)
        curves = [power_at(inp, list(grid), effect=eff, alpha=alpha)["power"].to_numpy()
                  for _, inp in band]
        at = [[float(c[i]) for c in curves] for i in range(len(grid))]
        for size, vals in zip(grid, at):
            rows.append({"series": f"d = {eff}", x: size, "effect": eff, "power": vals[0],
                         "power_low": min(vals), "power_high": max(vals)})
    return pd.DataFrame(rows)


def _study_size(inputs) -> int:
    if inputs["plan"] == "individual":
        n = inputs.get("n_per_arm", np.nan)
        return max(2, int(round(n))) if np.isfinite(n) else 30
    return int(inputs["n_clusters"]) + int(inputs["n_clusters"]) % 2


def _f(x, digits=2) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def plan_summary(inputs: dict, *, effect: float = PLAN_EFFECT, power_target: float = 0.8,
                 alpha: float = 0.05, sim: pd.DataFrame | None = None) -> dict:
    """The headline of the power page: power of a next trial like this one, and how sure.

    Returns
    -------
    dict
        ``size`` (clusters, or children per arm, of the planned trial: this study's),
        ``effect``, ``power``, ``power_low``, ``power_high`` (across the 95% CI of the
        planning input), ``mdes``, ``mdes_low``, ``mdes_high``, ``needed`` and
        ``needed_pessimistic`` (size for ``power_target`` at the estimate and at the
        unfavourable end of the CI; None when out of reach), ``certainty``
        (``"sure"``, ``"moderate"`` or ``"unsure"``: the band is narrower than 0.10,
        0.25, or wider), and ``text`` (``{"en": ..., "zh": ...}``, paragraphs separated
        by a blank line). With ``sim`` (:func:`simulation_check` of the same inputs and
        effect) the text also gives the simulated power and whether the analytic value
        lies inside its Monte Carlo interval.
    """
    size = _study_size(inputs)
    band = _band_inputs(inputs)
    powers = {k: float(power_at(inp, size, effect=effect, alpha=alpha)["power"].iloc[0])
              for k, inp in band}
    key = "effect" if inputs["plan"] == "individual" else "mdes"
    mdes = {k: float(power_at(inp, size, power=power_target, alpha=alpha)[key].iloc[0])
            for k, inp in band}
    worst = min(powers, key=powers.get)
    needed = _size_needed(inputs, effect, power_target, alpha)
    needed_worst = _size_needed(dict(band)[worst], effect, power_target, alpha)
    lo, hi = min(powers.values()), max(powers.values())
    width = hi - lo
    certainty = "sure" if width < 0.10 else "moderate" if width < 0.25 else "unsure"
    out = {"plan": inputs["plan"], "size": size, "effect": effect, "power": powers["estimate"],
           "power_low": lo, "power_high": hi, "mdes": mdes["estimate"],
           "mdes_low": min(mdes.values()), "mdes_high": max(mdes.values()), "needed": needed,
           "needed_pessimistic": needed_worst, "certainty": certainty}
    out["text"] = _plan_text(inputs, out, power_target)
    if sim is not None and len(sim):
        extra = _sim_sentence(sim.iloc[0], out["power"])
        out["text"] = {lg: out["text"][lg] + "\n\n" + extra[lg] for lg in ("en", "zh")}
    return out


def _sim_sentence(r, analytic: float) -> dict:
    p, lo, hi, n = float(r["power"]), float(r["power_ci_low"]), float(r["power_ci_high"]), \
        int(r["n_sims"])
    inside = lo <= analytic <= hi
    en = (f"Checked by simulation: {n} simulated trials of this design, each analysed with "
          f"the estimator the effects report uses for such a trial (OLS with robust standard "
          f"errors), reach power {p:.2f} (95% Monte Carlo interval "
          f"{lo:.2f} to {hi:.2f}). "
          + ("The analytic value lies inside that interval." if inside else
             f"The analytic value {analytic:.2f} lies outside it"
             + (": the formula's df (J − g − 2) are more than the robust analysis has and it "
                "ignores chance imbalance of the covariates" if analytic > hi else "")
             + "; read the simulated value as the power of the analysis that will be done."))
    zh = (f"模拟检验：按此设计模拟 {n} 次试验，每次都用效果报告对此类试验所用的估计方法（OLS 加稳健标准误）分析，功效为 {p:.2f}"
          f"（95% 蒙特卡罗区间 {lo:.2f} 至 {hi:.2f}）。"
          + ("解析值落在该区间之内。" if inside else
             f"解析值 {analytic:.2f} 落在该区间之外"
             + ("：公式的自由度（J − g − 2）多于稳健分析实际拥有的自由度，且忽略了协变量的偶然不平衡"
                if analytic > hi else "")
             + "；应把模拟值视为实际将要进行的分析的功效。"))
    return {"en": en, "zh": zh}


_SURE = {
    "sure": {"en": "The plan is fairly sure: across the interval power changes by less than 0.10.",
             "zh": "这个计划比较可靠：在整个区间内，功效的变化小于 0.10。"},
    "moderate": {"en": ("The plan is moderately sure: across the interval power changes by "
                        "0.10 to 0.25."),
                 "zh": "这个计划的可靠程度一般：在整个区间内，功效变化 0.10 至 0.25。"},
    "unsure": {"en": ("The plan is not sure: across the interval power changes by more than "
                      "0.25, so plan for the unfavourable end, or pool the ICC with published "
                      "values for similar schools."),
               "zh": "这个计划并不可靠：在整个区间内，功效变化超过 0.25；应按不利的一端规划，"
                     "或把本研究的组内相关与同类学校的已发表数值合并使用。"},
}


def _needed_text(n, lang, unit_en, unit_zh) -> str:
    if n is None:
        return "more than can be recruited" if lang == "en" else "多到难以招募的数量"
    return f"{n} {unit_en}" if lang == "en" else f"{n} {unit_zh}"


def _plan_text(inputs: dict, s: dict, power_target: float) -> dict:
    pct = f"{100 * power_target:.0f}%"
    if inputs["plan"] == "individual":
        r2, lo, hi = inputs.get("r2", 0.0), inputs.get("r2_ci_low"), inputs.get("r2_ci_high")
        need = {"en": _needed_text(s["needed"], "en", "children per arm", ""),
                "zh": _needed_text(s["needed"], "zh", "", "").strip()}
        worst = {lg: _needed_text(s["needed_pessimistic"], lg, "", "").strip()
                 for lg in ("en", "zh")}
        if inputs.get("individual_reason") == "individual_design":
            why_en = "As in this study, the plan is an individually randomized trial"
            why_zh = "与本研究相同，计划的是个体随机试验"
        else:
            why_en = ("This study did not randomize schools, and it has too few of them to plan "
                      "a cluster trial from (its clusters, if any, are a few classes), so the "
                      "plan is an individually randomized trial")
            why_zh = ("本研究没有以学校为单位随机分配，学校也太少，无法据此规划整群试验（若有整群，也只是"
                      "少数几个班级），因此计划的是个体随机试验")
        en = (f"{why_en}: children assigned "
              f"at random to the program or to a wait-list comparison, within their classes, and "
              f"analysed with the baseline score as covariate (ANCOVA). Randomizing within classes "
              f"takes the class differences out of the comparison, so the class ICC does not "
              f"enter; a handful of classes would be far too few to randomize as clusters. "
              f"Planning input: the baseline score explains R² = {_f(r2)} of the later score "
              f"(95% CI {_f(lo)} to {_f(hi)}; {inputs.get('n_pairs', 0)} children measured twice). "
              f"\n\nWith {s['size']} children per arm a true effect of {s['effect']} SD is detected "
              f"with power {_f(s['power'])} (from {_f(s['power_low'])} to {_f(s['power_high'])} "
              f"across the CI of R²); the minimum detectable effect is {_f(s['mdes'])} SD. "
              f"{pct} power needs {need['en']} ({worst['en']} at the low end of R²). "
              + _SURE[s["certainty"]]["en"])
        zh = (f"{why_zh}：在各班内把儿童随机分到项目组或候补对照组，并以基线分数为协变量分析（协方差分析）。"
              f"在班内随机可以把班级之间的差异排除在比较之外，所以班级组内相关不进入计算；几个班级作为"
              f"整群随机则远远不够。规划参数：基线分数解释后测分数方差的 R² = {_f(r2)}（95% 置信区间 "
              f"{_f(lo)} 至 {_f(hi)}；{inputs.get('n_pairs', 0)} 名儿童测了两次）。\n\n每组 {s['size']} 名"
              f"儿童时，检测 {s['effect']} 个标准差真实效应的功效为 {_f(s['power'])}（在 R² 的置信区间内为 "
              f"{_f(s['power_low'])} 至 {_f(s['power_high'])}）；最小可检测效应为 {_f(s['mdes'])} 个标准差。"
              f"达到 {pct} 功效需要每组 {need['zh']} 名儿童（按 R² 区间下端需要每组 {worst['zh']} 名）。"
              + _SURE[s["certainty"]]["zh"])
        return {"en": en, "zh": zh}
    three = inputs["plan"] == "cluster3"
    cond_en = ("conditioned on the arm (the arm a fixed effect, so the program's effect is not "
               "counted as school variance)" if inputs["conditioned_on"] else
               "unconditional (before the program)")
    cond_zh = ("控制组别（组别作为固定效应，项目效果不计入学校间方差）" if inputs["conditioned_on"]
               else "不控制任何变量（项目实施前）")
    cls_en = (f", with the class ICC {_f(inputs['icc_class'], 3)} (95% CI "
              f"{_f(inputs['icc_class_ci_low'], 3)} to {_f(inputs['icc_class_ci_high'], 3)})"
              if three else "")
    cls_zh = (f"，班级组内相关 {_f(inputs['icc_class'], 3)}（95% 置信区间 "
              f"{_f(inputs['icc_class_ci_low'], 3)} 至 {_f(inputs['icc_class_ci_high'], 3)}）"
              if three else "")
    design_en = (f"{s['size']} schools of {inputs['classes_per_cluster']} classes of "
                 f"{inputs['class_size']} children" if three else
                 f"{s['size']} schools of {inputs['cluster_size']} children")
    design_zh = (f"{s['size']} 所学校、每校 {inputs['classes_per_cluster']} 个班、每班 "
                 f"{inputs['class_size']} 名儿童" if three else
                 f"{s['size']} 所学校、每校 {inputs['cluster_size']} 名儿童")
    r2_en = (f"The baseline score explains {100 * inputs['r2_1']:.0f}% of the variance between "
             f"children" + (f", {100 * inputs['r2_2']:.0f}% between classes and "
                            f"{100 * inputs['r2_3']:.0f}% between schools" if three else
                            f" and {100 * inputs['r2_2']:.0f}% between schools") + ". ")
    r2_zh = (f"基线分数解释了儿童之间方差的 {100 * inputs['r2_1']:.0f}%"
             + (f"、班级之间的 {100 * inputs['r2_2']:.0f}% 和学校之间的 "
                f"{100 * inputs['r2_3']:.0f}%" if three else
                f"和学校之间的 {100 * inputs['r2_2']:.0f}%") + "。")
    need = {lg: _needed_text(s["needed"], lg, "schools", "所学校") for lg in ("en", "zh")}
    worst = {lg: _needed_text(s["needed_pessimistic"], lg, "schools", "所学校")
             for lg in ("en", "zh")}
    wave = inputs.get("icc_wave_label") or {"en": inputs["icc_wave"], "zh": inputs["icc_wave"]}
    en = (f"Planning input: the school ICC of the primary outcome at {wave['en']}, {cond_en}: "
          f"{_f(inputs['icc'], 3)} (95% CI {_f(inputs['icc_ci_low'], 3)} to "
          f"{_f(inputs['icc_ci_high'], 3)}){cls_en}, estimated from {inputs['n_clusters']} "
          f"schools. " + r2_en
          + f"\n\nA next trial like this one ({design_en}, half of the schools in each arm, analysed "
          f"with the baseline score) detects a true effect of {s['effect']} SD with power "
          f"{_f(s['power'])}. Across the 95% CI of the school ICC the power lies between "
          f"{_f(s['power_low'])} and {_f(s['power_high'])}, and the minimum detectable effect "
          f"between {_f(s['mdes_low'])} and {_f(s['mdes_high'])} SD (estimate {_f(s['mdes'])}). "
          f"{pct} power needs {need['en']} at the estimated ICC and {worst['en']} at the upper "
          f"end of its interval. " + _SURE[s["certainty"]]["en"])
    zh = (f"规划参数：主要结局在“{wave['zh']}”时的学校组内相关，{cond_zh}：{_f(inputs['icc'], 3)}"
          f"（95% 置信区间 {_f(inputs['icc_ci_low'], 3)} 至 {_f(inputs['icc_ci_high'], 3)}）{cls_zh}，"
          f"由 {inputs['n_clusters']} 所学校估计。" + r2_zh
          + f"\n\n与本研究同样规模的下一项试验（{design_zh}，两组各占一半学校，以基线分数为协变量分析）"
          f"检测 {s['effect']} 个标准差真实效应的功效为 {_f(s['power'])}。在学校组内相关的 95% 置信区间"
          f"内，功效介于 {_f(s['power_low'])} 与 {_f(s['power_high'])} 之间，最小可检测效应介于 "
          f"{_f(s['mdes_low'])} 与 {_f(s['mdes_high'])} 个标准差之间（估计值 {_f(s['mdes'])}）。"
          f"达到 {pct} 功效，按组内相关估计值需要 {need['zh']}，按其区间上端需要 {worst['zh']}。"
          + _SURE[s["certainty"]]["zh"])
    return {"en": en, "zh": zh}


# ---------------------------------------------------------------- the simulation check


def simulation_check(inputs: dict, *, effect: float = PLAN_EFFECT, n_sims: int = 1000,
                     alpha: float = 0.05, seed=None) -> pd.DataFrame:
    """Simulated power of the planned trial at this study's size (``power_simulation.csv``).

    Cluster plans: :func:`analysis.power.simulate_power` with the plan's schools,
    classes, class size, ICCs and R² at each level; the individual plan:
    :func:`analysis.power.simulate_power_individual` with the R². ``analytic_power`` is
    the same design's analytic power (the page's headline number).
    """
    from analysis import power as pw

    size = _study_size(inputs)
    if inputs["plan"] == "individual":
        return pw.simulate_power_individual(size, effect, n_sims=n_sims, alpha=alpha, seed=seed,
                                            r2=inputs.get("r2", 0.0))
    three = inputs["plan"] == "cluster3"
    return pw.simulate_power(size, int(inputs["class_size"]), max(inputs["icc"], 0.0), effect,
                             n_sims=n_sims, alpha=alpha, seed=seed,
                             classes_per_cluster=int(inputs["classes_per_cluster"]),
                             icc_class=max(inputs["icc_class"], 0.0) if three else 0.0,
                             r2_1=inputs["r2_1"], r2_2=inputs["r2_2"],
                             r2_3=inputs["r2_3"] if three else None)


def simulation_text(sim: pd.DataFrame) -> dict:
    """One sentence comparing the simulated and the analytic power, in both languages."""
    r = sim.iloc[0]
    p, lo, hi, an = (float(r[k]) for k in ("power", "power_ci_low", "power_ci_high",
                                           "analytic_power"))
    n = int(r["n_sims"])
    inside = lo <= an <= hi
    gap = an - p
    if inside:
        en = (f"Simulated power {p:.2f} (95% Monte Carlo interval {lo:.2f} to {hi:.2f}, {n} "
              f"trials) agrees with the analytic {an:.2f}: the analytic value lies inside the "
              f"simulation's interval.")
        zh = (f"模拟功效 {p:.2f}（95% 蒙特卡罗区间 {lo:.2f} 至 {hi:.2f}，{n} 次模拟试验）与解析功效 "
              f"{an:.2f} 一致：解析值落在模拟区间之内。")
    else:
        word_en = "above" if gap > 0 else "below"
        word_zh = "高于" if gap > 0 else "低于"
        en = (f"Simulated power {p:.2f} (95% Monte Carlo interval {lo:.2f} to {hi:.2f}, {n} "
              f"trials); the analytic {an:.2f} lies {abs(gap):.2f} {word_en} it. The simulation "
              f"analyses each trial as the effects report does, so where they differ, trust "
              f"the simulated value.")
        zh = (f"模拟功效 {p:.2f}（95% 蒙特卡罗区间 {lo:.2f} 至 {hi:.2f}，{n} 次模拟试验）；解析功效 "
              f"{an:.2f}，{word_zh}模拟值 {abs(gap):.2f}。模拟对每次试验的分析方法与效果报告相同，"
              f"两者不一致时应以模拟值为准。")
    return {"en": en, "zh": zh}


def show_text(run, text: dict) -> None:
    """Show a ``{"en", "zh"}`` paragraph, the run's language first."""
    from IPython.display import Markdown, display

    first = run.text_lang
    other = "en" if first == "zh" else "zh"
    display(Markdown(text[first] + "\n\n" + text[other]))


def page_text(run, key: str) -> None:
    """Show the paragraph ``key`` of :data:`TEXT`, the run's language first."""
    show_text(run, TEXT[key])


# ---------------------------------------------------------------- published tables


def _three(x) -> str:
    return _f(x, 3)


def _ci(lo, hi, lang, digits=3) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    join = " 至 " if lang == "zh" else " to "
    return f"{_f(lo, digits)}{join}{_f(hi, digits)}"


def inputs_published(inputs: dict, study, lang: str):
    """The planning inputs as a :class:`~evaluation.published_table.PublishedTable`."""
    from evaluation.labels import study_labels
    from evaluation.published_table import ColumnSpec, PublishedTable

    labels = study_labels(study)
    name = {lg: labels("outcome", inputs["outcome"], lg) or inputs["outcome"]
            for lg in ("en", "zh")}
    rows = [({"en": "Primary outcome", "zh": "主要结局"}, name, "")]
    plan_names = {"cluster3": {"en": "Cluster randomized trial: schools randomized, classes "
                                     "within schools (three levels)",
                               "zh": "整群随机试验：以学校为单位随机，学校内有班级（三层）"},
                  "cluster2": {"en": "Cluster randomized trial: schools randomized (two levels)",
                               "zh": "整群随机试验：以学校为单位随机（两层）"},
                  "individual": {"en": "Individually randomized trial (children randomized "
                                       "within classes), ANCOVA on the baseline score",
                                 "zh": "个体随机试验（在班内随机分配儿童），以基线分数做协方差分析"}}
    rows.append(({"en": "Planned trial", "zh": "计划的试验"}, plan_names[inputs["plan"]], ""))
    if inputs["plan"] == "individual":
        rows.append(({"en": "R² of the baseline score", "zh": "基线分数的 R²"},
                     _f(inputs.get("r2", 0.0)),
                     {lg: _ci(inputs.get("r2_ci_low"), inputs.get("r2_ci_high"), lg, 2)
                      for lg in ("en", "zh")}))
        rows.append(({"en": "Children measured twice", "zh": "测了两次的儿童"},
                     str(inputs.get("n_pairs", 0)), ""))
        rows.append(({"en": "Children per arm (this study's size)", "zh": "每组儿童数（本研究规模）"},
                     str(_study_size(inputs)), ""))
    else:
        wave = inputs["icc_wave"]
        cond = {"en": "conditioned on the arm", "zh": "控制组别"} if inputs["conditioned_on"] \
            else {"en": "unconditional", "zh": "不控制变量"}
        rows.append(({"en": "School ICC", "zh": "学校组内相关"}, _three(inputs["icc"]),
                     {lg: _ci(inputs["icc_ci_low"], inputs["icc_ci_high"], lg)
                      for lg in ("en", "zh")}))
        if inputs["plan"] == "cluster3":
            rows.append(({"en": "Class ICC", "zh": "班级组内相关"}, _three(inputs["icc_class"]),
                         {lg: _ci(inputs["icc_class_ci_low"], inputs["icc_class_ci_high"], lg)
                          for lg in ("en", "zh")}))
        rows.append(({"en": "ICC measured at", "zh": "组内相关的测量时点"},
                     {lg: f"{study.label('wave', wave, lg)}（{cond['zh']}）" if lg == "zh"
                      else f"{study.label('wave', wave, lg)} ({cond['en']})"
                      for lg in ("en", "zh")}, ""))
        rows.append(({"en": "Schools (this study)", "zh": "学校数（本研究）"},
                     str(inputs["n_clusters"]), ""))
        if inputs["plan"] == "cluster3":
            rows.append(({"en": "Classes per school", "zh": "每校班级数"},
                         str(inputs["classes_per_cluster"]), ""))
            rows.append(({"en": "Children per class", "zh": "每班儿童数"},
                         str(inputs["class_size"]), ""))
        else:
            rows.append(({"en": "Children per school", "zh": "每校儿童数"},
                         str(inputs["cluster_size"]), ""))
        r2_rows = [("r2_1", {"en": "R² of the baseline score: children", "zh": "基线分数的 R²：儿童"})]
        if inputs["plan"] == "cluster3":
            r2_rows += [("r2_2", {"en": "R² of the baseline score: classes",
                                  "zh": "基线分数的 R²：班级"}),
                        ("r2_3", {"en": "R² of the baseline score: schools",
                                  "zh": "基线分数的 R²：学校"})]
        else:
            r2_rows += [("r2_2", {"en": "R² of the baseline score: schools",
                                  "zh": "基线分数的 R²：学校"})]
        for key, lab in r2_rows:
            rows.append((lab, _f(inputs[key]), ""))
    data = pd.DataFrame(rows, columns=["input", "value", "ci"])
    return PublishedTable(
        data, [ColumnSpec("input", "Input", "参数"), ColumnSpec("value", "Value", "数值"),
               ColumnSpec("ci", "95% CI", "95% 置信区间")],
        caption_en="Planning inputs measured in this study",
        caption_zh="本研究测得的规划参数",
        notes_en=["R²: the squared correlation of the baseline and the later score (partial on "
                  "the arm when there is one), 95% CI by Fisher's z."]
        if inputs["plan"] == "individual" else
        ["ICC: 95% profile-likelihood interval (REML random-intercept model). R²: the share of "
         "each variance component (children, classes, schools) removed by the baseline score."],
        notes_zh=["R²：基线分数与后测分数相关系数的平方（有分组时为控制组别后的偏相关），95% 置信区间由 "
                  "Fisher z 变换得到。"]
        if inputs["plan"] == "individual" else
        ["组内相关：95% 剖面似然区间（REML 随机截距模型）。R²：基线分数使各层方差（儿童、班级、学校）"
         "减少的比例。"],
        lang=lang)


def mdes_published(mdes: pd.DataFrame, lang: str, *, power_target: float = 0.8):
    """``tables/power.csv`` as a :class:`~evaluation.published_table.PublishedTable`.

    One row per size; for each analysis (without covariates, with the baseline score)
    a column group with the MDES at the estimated input and across its 95% CI.
    """
    from evaluation.published_table import ColumnGroup, ColumnSpec, PublishedTable

    x = "n_per_arm" if "n_per_arm" in mdes else "clusters"
    keys = {"no covariates": "none", "baseline score as covariate": "baseline"}
    wide = pd.DataFrame({x: list(dict.fromkeys(mdes[x]))})
    for label, key in keys.items():
        part = mdes[mdes["covariates"] == label].set_index(x)
        for col in ("mdes", "mdes_band_low", "mdes_band_high"):
            wide[f"{col}_{key}"] = wide[x].map(part[col]) if len(part) else np.nan
    over = mdes["band_over"].replace("", np.nan).dropna()
    over = over.iloc[0] if len(over) else ""
    band_en = "95% CI of the school ICC" if over == "icc" else "95% CI of R²"
    band_zh = "学校组内相关 95% 置信区间" if over == "icc" else "R² 的 95% 置信区间"
    xlab = ("Schools (both arms)", "学校数（两组合计）") if x == "clusters" else \
        ("Children per arm", "每组儿童数")
    pct = f"{100 * power_target:.0f}%"
    cols = [ColumnSpec(x, xlab[0], xlab[1], "count")]
    groups = []
    for key, en, zh in (("none", "No covariates", "无协变量"),
                        ("baseline", "Baseline score as covariate", "以基线分数为协变量")):
        if wide[f"mdes_{key}"].notna().any():
            cols.append(ColumnSpec(f"mdes_{key}", "MDES", "最小可检测效应", "estimate"))
            shown = [f"mdes_{key}"]
            if wide[f"mdes_band_low_{key}"].notna().any():
                cols.append(ColumnSpec(f"mdes_band_low_{key}", f"Across the {band_en}",
                                       f"{band_zh}内", "ci", high=f"mdes_band_high_{key}"))
                shown.append(f"mdes_band_low_{key}")
            groups.append(ColumnGroup(en, zh, tuple(shown)))
    return PublishedTable(
        wide, cols, groups=groups,
        caption_en=f"Minimum detectable effect (SD) at {pct} power (5% level, two-sided)",
        caption_zh=f"功效 {pct} 时的最小可检测效应（标准差；双侧 5% 水平）",
        notes_en=["MDES: the smallest true effect, in SD of the outcome, detected with the "
                  "target power. “Across the CI”: the MDES with the planning input at the two "
                  "ends of its 95% CI (for an individual trial without covariates the R² does "
                  "not enter)."],
        notes_zh=["最小可检测效应：以目标功效能检测到的最小真实效应，以结局标准差为单位。“置信区间内”："
                  "规划参数取其 95% 置信区间两端时的最小可检测效应（个体随机试验不用协变量时 R² 不进入"
                  "计算）。"],
        lang=lang)


def simulation_published(sim: pd.DataFrame, lang: str):
    """``tables/power_simulation.csv`` as a :class:`~evaluation.published_table.PublishedTable`."""
    from evaluation.published_table import ColumnSpec, PublishedTable

    t = sim.copy()
    size = "n_clusters" if "n_clusters" in t else "n_per_arm"
    lab = ("Schools", "学校数") if size == "n_clusters" else ("Children per arm", "每组儿童数")
    return PublishedTable(
        t, [ColumnSpec(size, lab[0], lab[1], "count"),
            ColumnSpec("effect", "True effect (SD)", "真实效应（标准差）", "estimate"),
            ColumnSpec("n_sims", "Simulated trials", "模拟试验数", "count"),
            ColumnSpec("power", "Simulated power", "模拟功效", "estimate_ci",
                       low="power_ci_low", high="power_ci_high"),
            ColumnSpec("analytic_power", "Analytic power", "解析功效", "estimate"),
            ColumnSpec("mean_estimate", "Mean estimate", "估计值均值", "estimate")],
        caption_en="Simulation check of the planned trial",
        caption_zh="计划试验的模拟检验",
        notes_en=["Simulated power with its 95% Monte Carlo (Wilson) interval."],
        notes_zh=["模拟功效及其 95% 蒙特卡罗（Wilson）区间。"],
        lang=lang)

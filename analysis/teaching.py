"""Small simulations for training school counsellors.

Two lessons, each a pure function of its inputs and a seed:

- :func:`simulate_pre_post`: why "82% improved" can mean nothing. Children are
  measured twice with an imperfect instrument (reliability ``r``); the program may
  do nothing at all. Counting who "improved" still finds many, from measurement
  error alone, and more when the children were chosen because they scored low
  (regression to the mean). A comparison group measured the same way shows it.
- :func:`simulate_intervals`: what a 95% confidence interval promises. Many
  repetitions of the same small study give estimates scattered around the truth;
  about 95 of 100 intervals cover it, and any one interval says how precisely one
  study measured.

- :func:`simulate_home_visits`, :func:`dose_response`, :func:`randomized_estimates` and
  :func:`repeat_home_visits`: why "children visited more improved more" does not prove
  that visits work. Mentors visit the children who are struggling (五必访: upset, ill,
  falling behind); a child who has a bad start of the year tends to recover anyway, so
  the most visited children improve most even when visits do nothing. Comparing the
  randomly assigned schools (the intention-to-treat effect) and using the assignment as
  the instrument for the number of visits (the complier average causal effect, by
  two-stage least squares with CR2 errors over schools) recovers the truth.

Scores are on a standardized latent scale (true SD = 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def simulate_pre_post(n: int = 61, *, reliability: float = 0.7, true_effect: float = 0.0,
                      select_below_percentile: float | None = None, seed: int = 1,
                      with_comparison: bool = True) -> pd.DataFrame:
    """Simulate a pre–post study with an imperfect instrument.

    Parameters
    ----------
    n : int
        Children per group.
    reliability : float
        Share of the observed score variance that is true-score variance (0–1).
    true_effect : float
        True change of the program group, in true-score SD units (0 = the program
        does nothing).
    select_below_percentile : float, optional
        Enrol only children whose *observed* baseline score is below this
        percentile of the population (e.g. 30: "children with problems"); the
        comparison group is selected the same way.
    seed : int
    with_comparison : bool
        Also simulate a comparison group measured the same way, with no program.

    Returns
    -------
    DataFrame
        One row per child: ``group`` ("program" / "comparison"), ``true_baseline``,
        ``baseline``, ``endline``, ``change`` (endline − baseline), ``improved``
        (change > 0).

    Examples
    --------
    >>> d = simulate_pre_post(2000, reliability=0.7, true_effect=0.0, seed=1)
    >>> round(float(d.loc[d.group == "program", "improved"].mean()), 1)
    0.5
    """
    if not 0 < reliability <= 1:
        raise ValueError("reliability must be in (0, 1]")
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    err_sd = np.sqrt((1 - reliability) / reliability)  # true SD 1 -> observed var 1/reliability
    groups = [("program", true_effect)] + ([("comparison", 0.0)] if with_comparison else [])
    frames = []
    for name, effect in groups:
        if select_below_percentile is None:
            t = rng.normal(0, 1, n)
            x1 = t + rng.normal(0, err_sd, n)
        else:
            cut = stats.norm.ppf(select_below_percentile / 100) * np.sqrt(1 + err_sd ** 2)
            t_list, x_list, have = [], [], 0
            while have < n:
                t_b = rng.normal(0, 1, 4 * n)
                x_b = t_b + rng.normal(0, err_sd, 4 * n)
                keep = x_b < cut
                t_list.append(t_b[keep])
                x_list.append(x_b[keep])
                have += int(keep.sum())
            t = np.concatenate(t_list)[:n]
            x1 = np.concatenate(x_list)[:n]
        x2 = t + effect + rng.normal(0, err_sd, n)
        frames.append(pd.DataFrame({"group": name, "true_baseline": t, "baseline": x1,
                                    "endline": x2, "change": x2 - x1, "improved": x2 > x1}))
    return pd.concat(frames, ignore_index=True)


def improved_shares(data: pd.DataFrame) -> pd.DataFrame:
    """Share "improved" per group with Wilson 95% CIs.

    Columns ``group, n, improved, ci_low, ci_high``.

    Examples
    --------
    >>> d = simulate_pre_post(100, seed=2)
    >>> list(improved_shares(d)["group"])
    ['program', 'comparison']
    """
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for g, sub in data.groupby("group", sort=False):
        k, m = int(sub["improved"].sum()), len(sub)
        lo, hi = proportion_confint(k, m, alpha=0.05, method="wilson")
        rows.append({"group": g, "n": m, "improved": k / m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def simulate_intervals(n_per_arm: int = 30, *, true_effect: float = 0.3, n_studies: int = 100,
                       alpha: float = 0.05, seed: int = 1) -> pd.DataFrame:
    """Repeat a two-arm study many times; return each study's estimate and interval.

    Each study compares two groups of ``n_per_arm`` children (outcome SD 1) with a
    pooled-variance two-sample t interval for the difference in means.

    Returns
    -------
    DataFrame
        One row per study: ``study, estimate, ci_low, ci_high, covers`` (the
        interval contains ``true_effect``), ``significant`` (excludes 0).

    Examples
    --------
    >>> s = simulate_intervals(30, true_effect=0.3, n_studies=2000, seed=3)
    >>> bool(0.93 < s["covers"].mean() < 0.97)
    True
    """
    if n_per_arm < 2:
        raise ValueError("n_per_arm must be at least 2")
    rng = np.random.default_rng(seed)
    a = rng.normal(true_effect, 1, (n_studies, n_per_arm))
    b = rng.normal(0, 1, (n_studies, n_per_arm))
    est = a.mean(1) - b.mean(1)
    sp2 = (a.var(1, ddof=1) + b.var(1, ddof=1)) / 2
    se = np.sqrt(sp2 * 2 / n_per_arm)
    t = stats.t.ppf(1 - alpha / 2, 2 * n_per_arm - 2)
    lo, hi = est - t * se, est + t * se
    return pd.DataFrame({"study": np.arange(1, n_studies + 1), "estimate": est, "ci_low": lo,
                         "ci_high": hi, "covers": (lo <= true_effect) & (true_effect <= hi),
                         "significant": (lo > 0) | (hi < 0)})


# --------------------------------------------------------------------------- home visits

VISIT_BANDS = ("0-5", "6-8", "9-11", "12+")


def simulate_home_visits(n_schools: int = 20, children_per_school: int = 30, *,
                         effect_per_visit: float = 0.0, trigger_slope: float = 1.0,
                         reliability: float = 0.7, seed: int = 1) -> pd.DataFrame:
    """Simulate a cluster-randomized home-visit program in which mentors visit strugglers.

    Half of the schools (at random) run the program. A child's score is a lasting
    part (SD 0.6, plus a school part of SD 0.2) plus a passing state (SD 0.77: a bad
    or good stretch) plus measurement error (for ``reliability``); the passing state
    at endline is new. In program schools each child gets up to 10 routine monthly
    visits (each made with the school's own probability, 0.5 to 0.95) and extra
    五必访 visits at a rate that grows with how badly the child is doing at the start
    (``exp(trigger_slope * -(lasting + passing))``). About 10% of the comparison
    schools' children get a few visits too (contamination). Each visit raises the
    endline score by ``effect_per_visit`` SD (0: visits do nothing).

    Parameters
    ----------
    n_schools : int
        Schools (even number; half run the program).
    children_per_school : int
    effect_per_visit : float
        True effect of one visit on the endline score, in SD units.
    trigger_slope : float
        How strongly a child's difficulty at the start draws 五必访 visits (0: not at all).
    reliability : float
        Reliability of the score, in (0, 1].
    seed : int

    Returns
    -------
    DataFrame
        One row per child: ``school``, ``program`` (1 = the school was assigned to the
        program), ``visits`` (all visits received), ``triggered`` (五必访 visits),
        ``received`` (1 when at least 8 visits), ``baseline``, ``endline``, ``change``
        and ``band`` (visits in :data:`VISIT_BANDS`).

    Examples
    --------
    >>> d = simulate_home_visits(20, 30, seed=1)
    >>> d.shape, sorted(d["program"].unique().tolist())
    ((600, 9), [0, 1])
    >>> bool(d.loc[d.program == 1, "visits"].mean() > d.loc[d.program == 0, "visits"].mean())
    True
    """
    if n_schools < 4 or n_schools % 2:
        raise ValueError("n_schools must be an even number, at least 4")
    if children_per_school < 2:
        raise ValueError("children_per_school must be at least 2")
    if not 0 < reliability <= 1:
        raise ValueError("reliability must be in (0, 1]")
    rng = np.random.default_rng(seed)
    n = n_schools * children_per_school
    school = np.repeat(np.arange(n_schools), children_per_school)
    program_school = rng.permutation(np.repeat([0, 1], n_schools // 2))
    program = program_school[school]
    lasting = rng.normal(0, 0.2, n_schools)[school] + rng.normal(0, 0.6, n)
    sd_state = np.sqrt(1 - 0.2**2 - 0.6**2)
    state_b, state_e = rng.normal(0, sd_state, n), rng.normal(0, sd_state, n)
    err_sd = np.sqrt((1 - reliability) / reliability)
    p_school = rng.uniform(0.5, 0.95, n_schools)[school]
    routine = rng.binomial(10, p_school)
    rate = 0.8 * np.exp(trigger_slope * -(lasting + state_b))
    triggered = rng.poisson(rate)
    leak = rng.random(n) < 0.1
    stray = rng.poisson(2.0, n) * leak
    visits = np.where(program == 1, routine + triggered, stray)
    triggered = np.where(program == 1, triggered, 0)
    baseline = lasting + state_b + rng.normal(0, err_sd, n)
    endline = lasting + state_e + effect_per_visit * visits + rng.normal(0, err_sd, n)
    band = pd.cut(visits, [-1, 5, 8, 11, np.inf], labels=list(VISIT_BANDS))
    return pd.DataFrame({"school": [f"S{s + 1:02d}" for s in school], "program": program,
                         "visits": visits, "triggered": triggered,
                         "received": (visits >= 8).astype(int), "baseline": baseline,
                         "endline": endline, "change": endline - baseline, "band": band})


def dose_response(data: pd.DataFrame) -> pd.DataFrame:
    """The naive comparison: mean change by number of visits, in the program schools.

    Returns
    -------
    DataFrame
        One row per band of :data:`VISIT_BANDS` (bands with children):
        ``band, n, mean_baseline, mean_change``, and the least-squares slope of change
        on visits (per visit) in the ``slope_per_visit`` column (the same in every row).

    Examples
    --------
    >>> t = dose_response(simulate_home_visits(20, 30, seed=2))
    >>> list(t.columns)
    ['band', 'n', 'mean_baseline', 'mean_change', 'slope_per_visit']
    """
    prog = data[data["program"] == 1]
    out = (prog.groupby("band", observed=True)
           .agg(n=("change", "size"), mean_baseline=("baseline", "mean"),
                mean_change=("change", "mean")).reset_index())
    out["band"] = out["band"].astype(str)
    slope = float(np.polyfit(prog["visits"], prog["change"], 1)[0])
    out["slope_per_visit"] = slope
    return out


def randomized_estimates(data: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """What random assignment of schools can show, with CR2 errors over schools.

    Three rows (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value``,
    ``first_stage_f``):

    - ``naive_per_visit``: the change regressed on visits in the program schools (an
      association: the children who get more visits are different);
    - ``itt``: the endline difference between program and comparison schools adjusted
      for the baseline (the effect of offering the program);
    - ``cace_per_visit``: the effect of one visit, by two-stage least squares with the
      assignment as the instrument for the visits (:func:`analysis.iv.two_stage_cr2`).

    Examples
    --------
    >>> r = randomized_estimates(simulate_home_visits(20, 30, seed=3))
    >>> r["estimand"].tolist()
    ['naive_per_visit', 'itt', 'cace_per_visit']
    """
    from analysis.iv import two_stage_cr2

    prog = data[data["program"] == 1]
    rows = [_cr2_row("naive_per_visit", prog, "change", ["visits"], alpha),
            _cr2_row("itt", data, "endline", ["program", "baseline"], alpha)]
    iv = two_stage_cr2(data, outcome="endline", endogenous="visits", instrument="program",
                       covariates=["baseline"], cluster="school", alpha=alpha).iloc[0]
    rows.append({"estimand": "cace_per_visit", "estimate": float(iv["estimate"]),
                 "se": float(iv["se"]), "ci_low": float(iv["ci_low"]),
                 "ci_high": float(iv["ci_high"]), "p_value": float(iv["p_value"]),
                 "first_stage_f": float(iv["first_stage_f"])})
    return pd.DataFrame(rows)


def _cr2_row(name, data, outcome, terms, alpha):
    """The first term's OLS coefficient with CR2 errors over schools (Bell-McCaffrey df)."""
    from analysis.cluster_robust import coef_test

    X = np.column_stack([np.ones(len(data))] + [data[t].to_numpy(float) for t in terms])
    fit = coef_test((X, data[outcome].to_numpy(float)), data["school"].to_numpy(), alpha=alpha)
    r = fit.iloc[1]
    return {"estimand": name, "estimate": float(r["estimate"]), "se": float(r["std_error"]),
            "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
            "p_value": float(r["p_value"]), "first_stage_f": float("nan")}


def repeat_home_visits(n_repeats: int = 100, *, seed: int = 1, **kwargs) -> pd.DataFrame:
    """:func:`randomized_estimates` of ``n_repeats`` simulated programs (seeds ``seed + k``).

    Returns
    -------
    DataFrame
        One row per program and estimand: ``repeat`` and the columns of
        :func:`randomized_estimates`.

    Examples
    --------
    >>> r = repeat_home_visits(3, seed=1, n_schools=10, children_per_school=20)
    >>> r.groupby("estimand").size().to_dict()
    {'cace_per_visit': 3, 'itt': 3, 'naive_per_visit': 3}
    """
    frames = []
    for k in range(n_repeats):
        est = randomized_estimates(simulate_home_visits(seed=seed + k, **kwargs))
        frames.append(est.assign(repeat=k + 1))
    out = pd.concat(frames, ignore_index=True)
    return out[["repeat", *[c for c in out.columns if c != "repeat"]]]


# --------------------------------------------------------------------------- who left

WHO_LEFT_METHODS = ("everyone", "stayed_unadjusted", "stayed_adjusted", "imputation", "weights")
"""The rows of :func:`who_left_estimates`, in order: ``everyone`` (the endline of every child,
known only in a simulation: the benchmark), ``stayed_unadjusted`` (the endline means of the
children who stayed), ``stayed_adjusted`` (the same children, adjusted for the baseline),
``imputation`` (multiple imputation from the baseline, :func:`analysis.imputation.impute`) and
``weights`` (inverse probability of response weights from the baseline,
:func:`analysis.ipw.ipw_effects`)."""


def _logit_intercept(rate: float, w: np.ndarray, strength: float) -> float:
    """The intercept ``a`` with ``mean(expit(a + strength * w)) == rate``."""
    from scipy.optimize import brentq
    from scipy.special import expit

    return float(brentq(lambda a: expit(a + strength * w).mean() - rate, -60, 60, xtol=1e-12))


def simulate_who_left(n_schools: int = 20, children_per_school: int = 30, *,
                      effect: float = 0.3, mechanism: str = "mar", strength: float = 1.5,
                      leave_program: float = 0.25, leave_comparison: float = 0.08,
                      reliability: float = 0.8, seed: int = 1) -> pd.DataFrame:
    """Simulate a school-randomized program in which some children leave before the endline.

    Half of the schools (at random) run the program. A child's true state at the start
    is a school part (SD 0.3) plus the child's own (total SD 1); at the endline it is
    ``0.6 * start + 0.8 * change + effect * program`` with ``change`` a fresh standard
    normal draw (what happened to the child during the year). The scores add measurement
    error for ``reliability``. In the comparison schools ``leave_comparison`` of the
    children leave at random. In the program schools ``leave_program`` of them leave, and
    who leaves depends on ``mechanism``:

    - ``"mcar"``: at random;
    - ``"mar"``: ``logit P(leave) = a + strength * w`` with ``w`` the child's observed
      baseline score, standardized, sign reversed (the children who start worst leave
      most): missing at random given the baseline;
    - ``"mnar"``: the same with ``w = -change`` (the children whose year went worst leave
      most; the baseline does not show it): missing not at random.

    ``a`` is solved so that the mean probability of leaving in the program schools is
    exactly ``leave_program``.

    Parameters
    ----------
    n_schools : int
        Schools (even number; half run the program).
    children_per_school : int
    effect : float
        True effect of the program on the endline score, in SD units of the true state.
    mechanism : {"mcar", "mar", "mnar"}
    strength : float
        Log-odds of leaving per SD of ``w`` (program schools).
    leave_program, leave_comparison : float
        Shares of children who leave, in [0, 1).
    reliability : float
        Reliability of the scores, in (0, 1].
    seed : int

    Returns
    -------
    DataFrame
        One row per child: ``id``, ``school``, ``program`` (1/0), ``arm``
        (``program``/``comparison``), ``baseline``, ``endline_everyone`` (the endline
        score every child would have had: known only in a simulation), ``endline``
        (NaN for the children who left) and ``left`` (bool). ``attrs["truth"]`` holds the
        effect, the mechanism, ``strength`` and the intercept ``a``.

    Examples
    --------
    >>> d = simulate_who_left(20, 30, mechanism="mar", seed=1)
    >>> d.shape, d.attrs["truth"]["leave_program"]
    ((600, 8), 0.25)
    >>> round(float(d.loc[d.program == 1, "left"].mean()), 2)  # 0.25 expected, 300 children
    0.23
    """
    if mechanism not in ("mcar", "mar", "mnar"):
        raise ValueError("mechanism must be 'mcar', 'mar' or 'mnar'")
    if n_schools < 4 or n_schools % 2:
        raise ValueError("n_schools must be an even number, at least 4")
    if children_per_school < 2:
        raise ValueError("children_per_school must be at least 2")
    if not 0 < reliability <= 1:
        raise ValueError("reliability must be in (0, 1]")
    if not (0 <= leave_program < 1 and 0 <= leave_comparison < 1):
        raise ValueError("the shares who leave must be in [0, 1)")
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    n = n_schools * children_per_school
    school = np.repeat(np.arange(n_schools), children_per_school)
    program = rng.permutation(np.repeat([0, 1], n_schools // 2))[school]
    start = rng.normal(0, 0.3, n_schools)[school] + rng.normal(0, np.sqrt(1 - 0.09), n)
    change = rng.normal(0, 1, n)
    end = 0.6 * start + 0.8 * change + effect * program
    err_sd = np.sqrt((1 - reliability) / reliability)
    baseline = start + rng.normal(0, err_sd, n)
    endline = end + rng.normal(0, err_sd, n)
    u = rng.random(n)
    prog = program == 1
    if mechanism == "mar":
        w = -(baseline - baseline.mean()) / baseline.std()
    elif mechanism == "mnar":
        w = -change
    else:
        w = np.zeros(n)
    s = float(strength) if mechanism != "mcar" else 0.0
    a = _logit_intercept(leave_program, w[prog], s) if leave_program > 0 else -np.inf
    p_leave = np.where(prog, expit(a + s * w), leave_comparison)
    left = u < p_leave
    out = pd.DataFrame({"id": np.arange(1, n + 1), "school": [f"S{k + 1:02d}" for k in school],
                        "program": program,
                        "arm": np.where(prog, "program", "comparison"),
                        "baseline": baseline, "endline_everyone": endline,
                        "endline": np.where(left, np.nan, endline), "left": left})
    out.attrs["truth"] = {"effect": float(effect), "mechanism": mechanism, "strength": s,
                          "intercept": float(a), "leave_program": float(leave_program),
                          "leave_comparison": float(leave_comparison)}
    return out


def who_left(data: pd.DataFrame) -> pd.DataFrame:
    """Who left, by group: how many, and how the leavers started compared with the stayers.

    Returns
    -------
    DataFrame
        One row per ``arm`` (program first): ``n``, ``n_left``, ``share_left``,
        ``baseline_stayed`` and ``baseline_left`` (mean baseline scores), and
        ``endline_left_would_have`` (the mean endline the leavers would have had: known
        only in a simulation).

    Examples
    --------
    >>> t = who_left(simulate_who_left(seed=2))
    >>> t["arm"].tolist(), list(t.columns)[:3]
    (['program', 'comparison'], ['arm', 'n', 'n_left'])
    """
    rows = []
    for arm in ("program", "comparison"):
        g = data[data["arm"] == arm]
        left = g["left"].to_numpy(bool)
        rows.append({"arm": arm, "n": len(g), "n_left": int(left.sum()),
                     "share_left": float(left.mean()),
                     "baseline_stayed": float(g.loc[~left, "baseline"].mean()),
                     "baseline_left": float(g.loc[left, "baseline"].mean()) if left.any()
                     else float("nan"),
                     "endline_left_would_have": float(g.loc[left, "endline_everyone"].mean())
                     if left.any() else float("nan")})
    return pd.DataFrame(rows)


def _who_left_design():
    from core.design import Design

    return Design(type="cluster_randomized", id="id", wave="wave", waves=("baseline", "endline"),
                  arm="arm", control="comparison", clusters=("school",))


def _who_left_long(data: pd.DataFrame, endline: str = "endline") -> pd.DataFrame:
    keep = ["id", "school", "arm"]
    return pd.concat([data[keep].assign(wave="baseline", score=data["baseline"]),
                      data[keep].assign(wave="endline", score=data[endline])],
                     ignore_index=True)


def true_delta(data: pd.DataFrame) -> float:
    """How much lower (negative) or higher the program's leavers score at the endline than
    the baseline predicts from the program children who stayed, in SD of the observed
    endline: the delta of :func:`analysis.imputation.delta_adjustment`, known in a
    simulation because every child's endline is.

    The prediction is the least-squares line of the endline on the baseline among the
    program children who stayed (the MAR imputation model within the arm); the SD is that
    of the observed endline of both groups.

    Examples
    --------
    >>> abs(true_delta(simulate_who_left(40, 50, mechanism="mar", seed=3))) < 0.15
    True
    >>> true_delta(simulate_who_left(40, 50, mechanism="mnar", seed=3)) < -0.5
    True
    """
    g = data[data["program"] == 1]
    left = g["left"].to_numpy(bool)
    if not left.any():
        return 0.0
    b1, b0 = np.polyfit(g.loc[~left, "baseline"], g.loc[~left, "endline"], 1)
    gap = g.loc[left, "endline_everyone"] - (b0 + b1 * g.loc[left, "baseline"])
    return float(gap.mean() / np.nanstd(data["endline"].to_numpy(float), ddof=1))


def who_left_estimates(data: pd.DataFrame, *, m: int = 20, seed: int = 1,
                       alpha: float = 0.05) -> pd.DataFrame:
    """The program's effect estimated five ways (:data:`WHO_LEFT_METHODS`).

    Every row but ``stayed_unadjusted`` is the ANCOVA of the endline on the program and
    the baseline; all have CR2 standard errors over schools (Bell-McCaffrey df). The
    imputation (``m`` imputations, predictive mean matching within each group, pooled by
    Rubin's rules) and the weights (one logistic response model per group on the
    baseline, stabilized) use the workbench's own functions.

    Returns
    -------
    DataFrame
        One row per method: ``method, estimate, se, ci_low, ci_high, n`` (children
        analysed; the imputation and ``everyone`` use all of them).

    Examples
    --------
    >>> r = who_left_estimates(simulate_who_left(seed=4), m=5)
    >>> r["method"].tolist() == list(WHO_LEFT_METHODS)
    True
    """
    from analysis.imputation import impute
    from analysis.ipw import ipw_effects
    from analysis.missingness import response_panel

    design = _who_left_design()
    stayed = data[~data["left"]]
    rows = [_cr2_row("everyone", data.assign(y=data["endline_everyone"]), "y",
                     ["program", "baseline"], alpha),
            _cr2_row("stayed_unadjusted", stayed, "endline", ["program"], alpha),
            _cr2_row("stayed_adjusted", stayed, "endline", ["program", "baseline"], alpha)]
    rows[0]["n"], rows[1]["n"], rows[2]["n"] = len(data), len(stayed), len(stayed)
    imp = impute(_who_left_long(data), "score", design, m=m, seed=seed)
    pooled = imp.pool(alpha=alpha).iloc[0]
    rows.append({"estimand": "imputation", "estimate": float(pooled["estimate"]),
                 "se": float(pooled["std_error"]), "ci_low": float(pooled["ci_low"]),
                 "ci_high": float(pooled["ci_high"]), "n": int(pooled["n_obs"])})
    panel = response_panel(_who_left_long(data), "score", design)
    ipw = ipw_effects(panel, design, outcome="score", alpha=alpha).effects
    r = ipw[ipw["method"] == "ipw"].iloc[0]
    rows.append({"estimand": "weights", "estimate": float(r["estimate"]),
                 "se": float(r["std_error"]), "ci_low": float(r["ci_low"]),
                 "ci_high": float(r["ci_high"]), "n": int(r["n_obs"])})
    out = pd.DataFrame(rows).rename(columns={"estimand": "method"})
    return out[["method", "estimate", "se", "ci_low", "ci_high", "n"]]


def who_left_delta(data: pd.DataFrame, deltas=None, *, m: int = 20, seed: int = 1,
                   alpha: float = 0.05):
    """The delta adjustment of the program children who left.

    Multiple imputation from the baseline (as :func:`who_left_estimates`), then the
    imputed endline of every program child who left is moved by ``delta`` SD of the
    observed endline (:func:`analysis.imputation.delta_adjustment`, ``shift="treatment"``;
    ``delta < 0``: they would have done worse than their baseline predicts).

    Returns
    -------
    (grid, tipping) : DataFrame, float
        ``grid``: ``delta, estimate, ci_low, ci_high`` for every delta (default -2.5 to
        0.5 by 0.1, plus :func:`true_delta`); ``tipping``: the delta closest to 0 at which
        the conclusion of the MAR analysis changes (NaN when none in the grid).

    Examples
    --------
    >>> grid, tip = who_left_delta(simulate_who_left(seed=5), [-1, -0.5, 0], m=5)
    >>> grid["delta"].tolist()[:3]
    [-1.0, -0.5, 0.0]
    """
    from analysis.imputation import delta_adjustment, impute

    design = _who_left_design()
    if deltas is None:
        deltas = np.round(np.arange(-2.5, 0.5001, 0.1), 10)
    grid = sorted({*(float(d) for d in deltas), round(true_delta(data), 10)})
    imp = impute(_who_left_long(data), "score", design, m=m, seed=seed)
    res = delta_adjustment(imp, grid, shift="treatment", alpha=alpha)
    g = res.grid[["delta", "estimate", "ci_low", "ci_high"]].reset_index(drop=True)
    return g, res.tipping_point()

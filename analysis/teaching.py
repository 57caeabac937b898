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

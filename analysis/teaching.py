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
    >>> round(d.loc[d.group == "program", "improved"].mean(), 1)
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
    >>> 0.93 < s["covers"].mean() < 0.97
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

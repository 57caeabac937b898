"""Standardized effect sizes: Hedges' g (with the cluster adjustment) and Cohen's d_z / d_av.

:func:`hedges_g`, :func:`hedges_g_clustered` and :func:`cohens_d_paired` return a
one-row tidy DataFrame (columns documented in each function), like the other
functions of :mod:`analysis`; the building blocks (:func:`small_sample_factor`,
:func:`pooled_sd`, :func:`cluster_adjustment`, :func:`icc_anova`) return floats.

Choices, stated once:

* The standardizer is the pooled SD of the OUTCOME in the two groups at
  endline, unadjusted for covariates (What Works Clearinghouse convention), so
  effect sizes from the ANCOVA, DiD and cluster models share one denominator.
* Small-sample correction ``omega = 1 - 3 / (4 N - 9)`` (Hedges 1981; WWC
  Procedures Handbook v5.0, eq. E.2.2).
* For clustered designs, Hedges (2007) / WWC v5.0 (section E.2.3): the total-
  variance standardized difference is multiplied by
  ``sqrt(1 - 2 (n - 1) rho / (N - 2))`` (n = average cluster size, rho = ICC)
  and its standard error is inflated accordingly.

References
----------
Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *Journal of
Educational and Behavioral Statistics*, 32(4), 341-370.
Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*. Academic Press.
Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative
science. *Frontiers in Psychology*, 4, 863.
What Works Clearinghouse (2022). *Procedures and Standards Handbook, Version 5.0*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = [
    "cluster_adjustment",
    "cohens_d_paired",
    "hedges_g",
    "hedges_g_clustered",
    "icc_anova",
    "pooled_sd",
    "small_sample_factor",
]


def small_sample_factor(n_total: float) -> float:
    """Hedges' correction ``omega = 1 - 3 / (4 N - 9)`` (WWC v5.0).

    Examples
    --------
    >>> from analysis.effect_size import small_sample_factor
    >>> round(small_sample_factor(40), 4)
    0.9801
    """
    if n_total <= 3:
        raise ValueError("need more than 3 observations")
    return 1.0 - 3.0 / (4.0 * n_total - 9.0)


def pooled_sd(x1, x0) -> float:
    """Pooled within-group SD ``sqrt(((n1-1) s1^2 + (n0-1) s0^2) / (n1 + n0 - 2))``.

    Examples
    --------
    >>> from analysis.effect_size import pooled_sd
    >>> pooled_sd([1, 2, 3], [2, 4, 6])
    1.5811388300841898
    """
    x1 = np.asarray(x1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    x1, x0 = x1[~np.isnan(x1)], x0[~np.isnan(x0)]
    n1, n0 = len(x1), len(x0)
    if n1 < 2 or n0 < 2:
        raise ValueError("each group needs at least 2 non-missing values")
    return float(np.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / (n1 + n0 - 2)))


def hedges_g(x1, x0, *, alpha: float = 0.05) -> pd.DataFrame:
    """Hedges' g for two independent groups with the Hedges & Olkin CI.

    ``g = omega (m1 - m0) / s_pooled``; ``var(g) = (n1 + n0)/(n1 n0) + g^2 / (2 (n1 + n0))``;
    normal-theory CI ``g -/+ z se``. Missing values are dropped.

    Parameters
    ----------
    x1, x0 : array-like
        Outcomes of the treatment and the comparison group.
    alpha : float
        CI at level 1 - alpha.

    Returns
    -------
    DataFrame
        One row: ``g`` (Hedges' g), ``std_error``, ``ci_low``, ``ci_high``
        (floats), ``n1``, ``n0`` (non-missing values per group, int).

    Examples
    --------
    >>> from analysis.effect_size import hedges_g
    >>> r = hedges_g([5, 6, 7, 8, 9], [4, 5, 6, 7, 8])
    >>> round(r["g"].item(), 4), round(r["std_error"].item(), 4)
    (0.5713, 0.6452)
    >>> r.columns.tolist()
    ['g', 'std_error', 'ci_low', 'ci_high', 'n1', 'n0']
    """
    x1 = np.asarray(x1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    x1, x0 = x1[~np.isnan(x1)], x0[~np.isnan(x0)]
    n1, n0 = len(x1), len(x0)
    s = pooled_sd(x1, x0)
    g = small_sample_factor(n1 + n0) * (x1.mean() - x0.mean()) / s
    se = float(np.sqrt((n1 + n0) / (n1 * n0) + g**2 / (2 * (n1 + n0))))
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame([{"g": float(g), "std_error": se, "ci_low": float(g - z * se),
                          "ci_high": float(g + z * se), "n1": n1, "n0": n0}])


def cluster_adjustment(n_total: float, cluster_size: float, icc: float) -> float:
    """Hedges (2007) factor ``sqrt(1 - 2 (n - 1) rho / (N - 2))`` for g_T.

    Examples
    --------
    >>> from analysis.effect_size import cluster_adjustment
    >>> round(cluster_adjustment(200, 20, 0.1), 4)
    0.9904
    """
    if not 0 <= icc < 1:
        raise ValueError("icc must be in [0, 1)")
    val = 1.0 - 2.0 * (cluster_size - 1.0) * icc / (n_total - 2.0)
    if val <= 0:
        raise ValueError("cluster adjustment undefined (clusters too large for N)")
    return float(np.sqrt(val))


def hedges_g_clustered(
    g: float, n1: int, n0: int, cluster_size: float, icc: float, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Cluster-adjusted Hedges' g and its SE (Hedges 2007, eq. 13-15; WWC v5.0 E.2.3).

    Parameters
    ----------
    g : float
        Hedges' g computed ignoring clustering (omega times the difference over
        the pooled SD).
    n1, n0 : int
        Individuals in the two arms (N = n1 + n0).
    cluster_size : float
        Average number of individuals per cluster (n).
    icc : float
        Intra-class correlation rho of the outcome at the cluster level.
    alpha : float
        CI at level 1 - alpha (normal theory).

    Returns
    -------
    DataFrame
        One row: ``g`` (the adjusted g_T), ``std_error``, ``ci_low``, ``ci_high``
        (floats), then the inputs ``n1``, ``n0`` (int), ``cluster_size`` and
        ``icc`` (floats). The SE is

    ``sqrt( (N/(n1 n0)) (1 + (n - 1) rho)
    + g_T^2 ((N-2)(1-rho)^2 + n (N - 2n) rho^2 + 2 (N - 2n) rho (1 - rho))
    / (2 (N-2) ((N-2) - 2 (n-1) rho)) )``

    (Hedges 2007, variance of d_T for equal cluster sizes; with unequal sizes n is
    the average, an approximation the WWC accepts).

    Examples
    --------
    >>> from analysis.effect_size import hedges_g_clustered
    >>> r = hedges_g_clustered(0.3, 100, 100, 20, 0.1)
    >>> round(r["g"].item(), 4), round(r["std_error"].item(), 4)
    (0.2971, 0.2414)
    """
    N = n1 + n0
    n = float(cluster_size)
    gt = g * cluster_adjustment(N, n, icc)
    rho = icc
    num = (N - 2) * (1 - rho) ** 2 + n * (N - 2 * n) * rho**2 + 2 * (N - 2 * n) * rho * (1 - rho)
    den = 2 * (N - 2) * ((N - 2) - 2 * (n - 1) * rho)
    se = float(np.sqrt(N / (n1 * n0) * (1 + (n - 1) * rho) + gt**2 * num / den))
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame([{"g": float(gt), "std_error": se, "ci_low": float(gt - z * se),
                          "ci_high": float(gt + z * se), "n1": int(n1), "n0": int(n0),
                          "cluster_size": n, "icc": float(icc)}])


def icc_anova(y, clusters) -> float:
    """One-way ANOVA estimate of the intra-class correlation (truncated at 0).

    ``(MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_j^2 / N) / (J - 1)``
    for unequal cluster sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.effect_size import icc_anova
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(200), 10)
    >>> y = rng.normal(0, np.sqrt(0.2), 200)[g] + rng.normal(0, np.sqrt(0.8), 2000)
    >>> bool(abs(icc_anova(y, g) - 0.2) < 0.05)
    True
    """
    y = np.asarray(y, dtype=float)
    _, codes = np.unique(np.asarray(clusters), return_inverse=True)
    J = codes.max() + 1
    N = len(y)
    if J < 2 or N <= J:
        raise ValueError("need at least 2 clusters and more rows than clusters")
    nj = np.bincount(codes, minlength=J)
    mj = np.bincount(codes, weights=y, minlength=J) / nj
    ssb = np.sum(nj * (mj - y.mean()) ** 2)
    ssw = np.sum((y - mj[codes]) ** 2)
    msb, msw = ssb / (J - 1), ssw / (N - J)
    n0 = (N - np.sum(nj**2) / N) / (J - 1)
    return float(max((msb - msw) / (msb + (n0 - 1) * msw), 0.0))


def _nct_cdf(t: float, df: float, ncp: float) -> float:
    """``P(T <= t)`` for T noncentral t(df, ncp), never NaN.

    ``scipy.special.nctdtr`` (Boost, the same code as ``scipy.stats.nct.cdf``) is
    accurate to about 1e-15 where it returns a number, but returns NaN in parts
    of the far tails, where the probability is within about 1e-10 of 0 or 1
    (mapped over t in [0, 45], df in [1, 1e5], |ncp - t| <= 80: no NaN lies
    next to a value farther than 1e-10 from 0 or 1; :func:`_nct_ci` only asks
    for t >= 0). There we try the reflection
    ``1 - P(T' <= -t)`` with ``T'`` ~ t(df, -ncp), and else return the limit on
    the correct side: for ``t >= 0`` and ``ncp < t`` the probability is at least
    ``0.5 P(chi2_df >= df) > 0.15``, and for ``ncp > t >= 0`` at most
    ``1 - 0.5 P(chi2_df <= df) < 0.85`` (and mirrored for ``t < 0``), so a NaN
    at ``ncp < t`` stands for 1 and one at ``ncp > t`` for 0. The root search
    below only needs the sign of ``cdf - p`` there.
    """
    p = special.nctdtr(df, ncp, t)
    if np.isnan(p):
        p = 1.0 - special.nctdtr(df, -ncp, -t)
    if np.isnan(p):
        p = 1.0 if ncp < t else 0.0
    return float(p)


def _nct_limit(t: float, df: float, p: float) -> float:
    """The noncentrality ncp with ``P(T <= t | df, ncp) = p`` (t >= 0).

    The CDF decreases in ncp. Start from the normal approximation
    ``t - z_p sqrt(1 + t^2 / (2 df))``, step outwards with doubling steps until
    the root is bracketed, then Brent's method to 1e-13.
    """
    s = float(np.sqrt(1.0 + t * t / (2.0 * df)))
    guess = t - float(stats.norm.ppf(p)) * s

    def f(ncp):
        return _nct_cdf(t, df, ncp) - p

    a, b = guess - s, guess + s
    fa, fb = f(a), f(b)
    step = s
    for _ in range(64):
        if fa >= 0:
            break
        b, fb, step = a, fa, 2 * step
        a = a - step
        fa = f(a)
    for _ in range(64):
        if fb <= 0:
            break
        a, fa, step = b, fb, 2 * step
        b = b + step
        fb = f(b)
    if not fa >= 0 >= fb:  # pragma: no cover - the CDF spans (0, 1) over ncp
        raise ArithmeticError(f"cannot bracket the noncentrality for t={t}, df={df}, p={p}")
    return float(optimize.brentq(f, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500))


def _nct_ci(t: float, df: float, alpha: float) -> tuple[float, float]:
    """Confidence limits for the noncentrality of a noncentral t, given observed ``t``.

    The lower limit is the ncp whose t(df, ncp) puts ``t`` at its 1 - alpha/2
    quantile, the upper limit the one that puts it at alpha/2 (Steiger &
    Fouladi 1997; what ``MBESS::conf.limits.nct`` computes). Negative t use the
    symmetry ``P(T <= t | ncp) = 1 - P(T <= -t | -ncp)``: the interval for t is
    minus the reversed interval for -t, so falling outcomes are as accurate as
    rising ones. No normal approximation is used anywhere.

    Checked against R in ``tests/fixtures/r/nct_ci.R`` (t in [-40, 40], df in
    [2, 2000], alpha 0.01, 0.05, 0.10): agreement to 4e-13 with limits found
    from the defining chi-square integral, and to 3e-10 with limits found from
    R's ``pt(t, df, ncp)`` wherever ``pt`` is exact (|ncp| <= 37.62; beyond
    that R's ``pt`` switches to a normal approximation and is off by up to 2.6).
    scipy's ``nctdtrinc`` (CDFLIB) inverts the same equation but is less
    accurate (6e-4 off at t = -40, df = 2).

    Examples
    --------
    >>> from analysis.effect_size import _nct_ci
    >>> lo, hi = _nct_ci(-2.0, 30, 0.05)
    >>> round(lo, 4), round(hi, 4)
    (-4.0081, 0.0393)
    """
    if not (np.isfinite(t) and df > 0 and 0 < alpha < 1):
        raise ValueError(f"need a finite t, df > 0 and 0 < alpha < 1; got t={t}, df={df}, alpha={alpha}")
    if t < 0:
        lo, hi = _nct_ci(-t, df, alpha)
        return -hi, -lo
    hi = _nct_limit(t, df, alpha / 2)
    if t == 0:  # exactly symmetric
        return -hi, hi
    return _nct_limit(t, df, 1 - alpha / 2), hi


def cohens_d_paired(before, after, *, alpha: float = 0.05) -> pd.DataFrame:
    """Cohen's d_z and d_av for a paired (pre-post) design (Lakens 2013).

    * ``d_z = mean(change) / sd(change)``; exact CI by inverting the noncentral t
      (``t = d_z sqrt(n)``, df = n - 1), divided by ``sqrt(n)``.
    * ``d_av = mean(change) / ((sd_before + sd_after) / 2)``; CI APPROXIMATE: the
      d_z limits rescaled by ``sd(change) / sd_av``, i.e. treating the ratio of
      SDs as known (it ignores that ratio's sampling error).
    Neither is bias-corrected (Hedges' g_av would multiply by omega); pairs with
    a missing value are dropped.

    Parameters
    ----------
    before, after : array-like
        The two measurements of each respondent, in the same order.
    alpha : float
        CI at level 1 - alpha.

    Returns
    -------
    DataFrame
        One row: ``n`` (complete pairs, int), ``mean_change`` (after - before),
        ``sd_change``, ``t`` (the paired t statistic), ``d_z``, ``d_z_ci_low``,
        ``d_z_ci_high``, ``d_av``, ``d_av_ci_low``, ``d_av_ci_high`` (floats).

    Examples
    --------
    >>> from analysis.effect_size import cohens_d_paired
    >>> r = cohens_d_paired([3, 4, 5, 6, 5, 4], [4, 6, 5, 8, 6, 6])
    >>> round(r["d_z"].item(), 3), round(r["d_av"].item(), 3)
    (1.633, 1.121)
    """
    return pd.DataFrame([_cohens_d_paired(before, after, alpha=alpha)])


def _cohens_d_paired(before, after, *, alpha: float = 0.05) -> dict:
    """:func:`cohens_d_paired` as a dict of scalars (used per outcome by the effects table)."""
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise ValueError("before and after must have the same length")
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 3:
        raise ValueError("need at least 3 complete pairs")
    d = a - b
    sd = d.std(ddof=1)
    if sd == 0:
        raise ValueError("all changes are equal; d_z is undefined")
    dz = d.mean() / sd
    t = dz * np.sqrt(n)
    lo, hi = _nct_ci(t, n - 1, alpha)
    s_av = (a.std(ddof=1) + b.std(ddof=1)) / 2
    r = sd / s_av
    return {
        "n": n,
        "mean_change": float(d.mean()),
        "sd_change": float(sd),
        "t": float(t),
        "d_z": float(dz),
        "d_z_ci_low": lo / np.sqrt(n),
        "d_z_ci_high": hi / np.sqrt(n),
        "d_av": float(d.mean() / s_av),
        "d_av_ci_low": lo / np.sqrt(n) * r,
        "d_av_ci_high": hi / np.sqrt(n) * r,
    }

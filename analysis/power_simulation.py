"""Power by simulation: many simulated trials, each analysed as the effects module would.

Functions
---------
simulate_power
    Two- or three-level cluster randomized trials (schools randomized), analysed as
    ``ols_cr2``: OLS with CR2 standard errors and Satterthwaite df
    (:func:`analysis.cluster_robust.cr2_test_many`).
simulate_power_individual
    Individually randomized two-arm trials, analysed as ``ancova_hc2``: OLS with HC2
    standard errors and n - p df (:func:`analysis.cluster_robust.hc2_test_many`).
simulate_cluster_trials, simulate_individual_trials
    The light generators behind them: outcomes of many trials that share one design.

The trials come in batches that share a random assignment (and covariate), so the
robust-variance algebra is done once per batch. Each result carries the Monte Carlo
error of the simulated power (Wilson interval) and the analytic power of
:mod:`analysis.power_analytic` for the same inputs.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from analysis.change import wilson_ci
from analysis.cluster_robust import cr2_test_many, hc2_test_many
from analysis.power_analytic import (
    _check_prob,
    power_ancova,
    power_cluster2,
    power_cluster3,
    power_t,
)

__all__ = [
    "simulate_cluster_trials",
    "simulate_individual_trials",
    "simulate_power",
    "simulate_power_individual",
]


def _generator(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _batch_sizes(n_sims: int, n_designs: int) -> np.ndarray:
    """Trials per batch: ``n_sims`` spread as evenly as possible over the batches."""
    n_designs = min(int(n_designs), int(n_sims))
    sizes = np.full(n_designs, int(n_sims) // n_designs)
    sizes[: int(n_sims) % n_designs] += 1
    return sizes


def simulate_cluster_trials(n_clusters: int, cluster_size: int, icc: float, effect: float, *,
                            n_sims: int, rng: np.random.Generator, r2: float = 0.0,
                            treated_share: float = 0.5, classes_per_cluster: int = 1,
                            icc_class: float = 0.0, r2_1: float | None = None,
                            r2_2: float | None = None, r2_3: float | None = None):
    """Outcomes of many two-level cluster randomized trials that share one design.

    Light generator for power simulations: ``Y = effect * T + u_j + e_ij`` with
    cluster effects ``u_j ~ N(0, icc)`` and individual errors ``e_ij ~ N(0, 1 - icc)``
    (total variance 1, so ``effect`` is in SD units). ``round(treated_share *
    n_clusters)`` clusters are treated, chosen at random. With ``r2 > 0`` a baseline
    covariate ``x`` (variance 1, ICC ``icc``) explains a share ``r2`` of the variance at
    both levels; it is drawn once, so all ``n_sims`` trials share the design matrix.
    With ``classes_per_cluster > 1`` each cluster (school) holds that many classes of
    ``cluster_size`` people and a class effect of variance ``icc_class`` is added (the
    individual variance is then ``1 - icc - icc_class``): a three-level trial
    randomized at the top level.

    Covariates that explain a different share of the variance at each level
    (``r2_1`` individual, ``r2_2`` cluster -- the class in a three-level trial --
    and ``r2_3`` school; each defaults to ``r2``): when they are not all equal, one
    covariate per level with a positive R² is drawn, as PowerUp!'s model assumes: a
    top-level covariate (constant within the randomized cluster), a class-level one
    (centred within its school) and an individual one (centred within its class),
    each N(0, 1) before centring (rescaled to variance 1 after), and each level's
    random part is ``sqrt(R2) * covariate + sqrt(1 - R2) * error`` at that level's
    variance. The analysis adjusts for all of them; only the top-level one costs a
    df in the analytic formula.

    Returns
    -------
    Y : ndarray (n_sims, n_clusters * cluster_size)
    X : ndarray (n, 2 or 3)
        Columns intercept, treatment, and ``x`` when ``r2 > 0``.
    clusters : ndarray (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.power_simulation import simulate_cluster_trials
    >>> Y, X, g = simulate_cluster_trials(10, 5, 0.1, 0.3, n_sims=4,
    ...                                   rng=np.random.default_rng(1))
    >>> Y.shape, X.shape, g.shape
    ((4, 50), (50, 2), (50,))
    """
    J, k, m = int(n_clusters), int(classes_per_cluster), int(cluster_size)
    if k < 1 or not (0.0 <= icc_class < 1.0 - icc):
        raise ValueError("need classes_per_cluster >= 1 and 0 <= icc_class < 1 - icc")
    levels = _level_r2(r2, r2_1, r2_2, r2_3, three=k > 1)
    if len(set(levels)) > 1:
        return _cluster_trials_by_level(J, k, m, icc, icc_class, effect, n_sims=n_sims, rng=rng,
                                        r2s=levels, treated_share=treated_share)
    r2 = levels[0]  # one covariate explains the same share at every level
    n, g, c, T = _assign_clusters(J, k, m, treated_share, rng)
    cols = [np.ones(n), T]
    sd2, sdc, sd1 = math.sqrt(icc), math.sqrt(icc_class), math.sqrt(1.0 - icc - icc_class)
    mean = effect * T
    resid_scale = math.sqrt(1.0 - r2)
    if r2 > 0:
        x = (sd2 * rng.standard_normal(J)[g] + sdc * rng.standard_normal(J * k)[c]
             + sd1 * rng.standard_normal(n))
        cols.append(x)
        mean = mean + math.sqrt(r2) * x
    u = rng.standard_normal((n_sims, J))[:, g]
    v = rng.standard_normal((n_sims, J * k))[:, c] if icc_class > 0 else 0.0
    e = rng.standard_normal((n_sims, n))
    Y = mean + resid_scale * (sd2 * u + sdc * v + sd1 * e)
    return Y, np.column_stack(cols), g


def _level_r2(r2, r2_1, r2_2, r2_3, *, three: bool) -> tuple:
    """R² at the (individual, class, school) levels; two levels: (individual, cluster, cluster)."""
    r1 = r2 if r2_1 is None else r2_1
    if three:
        rc = r2 if r2_2 is None else r2_2
        rs = r2 if r2_3 is None else r2_3
    else:
        if r2_3 is not None:
            raise ValueError("a two-level trial has no r2_3; give the clusters' R² as r2_2")
        rc = rs = r2 if r2_2 is None else r2_2
    for v in (r1, rc, rs):
        if not (0.0 <= float(v) < 1.0):
            raise ValueError(f"R² must lie in [0, 1), got {v!r}")
    return (float(r1), float(rc), float(rs))


def _centred(x: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """``x`` minus its group means, rescaled to variance 1 (groups of ``size``)."""
    means = np.bincount(groups, weights=x) / np.bincount(groups)
    return (x - means[groups]) * math.sqrt(size / (size - 1.0))


def _assign_clusters(J, k, m, treated_share, rng):
    """The layout of a simulated cluster trial: ``n`` children, their school ``g`` and
    class ``c`` indices, and ``T`` (1 for children of a randomly treated school)."""
    n = J * k * m
    g = np.repeat(np.arange(J), k * m)
    c = np.repeat(np.arange(J * k), m)
    n_treat = int(round(treated_share * J))
    if not (1 <= n_treat <= J - 1):
        raise ValueError("need at least one treated and one control cluster")
    treated = np.zeros(J)
    treated[rng.choice(J, n_treat, replace=False)] = 1.0
    return n, g, c, treated[g]


def _cluster_trials_by_level(J, k, m, icc, icc_class, effect, *, n_sims, rng, r2s,
                             treated_share):
    """:func:`simulate_cluster_trials` with one covariate per level (unequal R²)."""
    r1, rc, rs = r2s
    n, g, c, T = _assign_clusters(J, k, m, treated_share, rng)
    cols = [np.ones(n), T]
    sd2, sdc, sd1 = math.sqrt(icc), math.sqrt(icc_class), math.sqrt(1.0 - icc - icc_class)
    mean = effect * T
    if rs > 0:
        z3 = rng.standard_normal(J)[g]
        cols.append(z3)
        mean = mean + sd2 * math.sqrt(rs) * z3
    if rc > 0 and k > 1 and icc_class > 0:
        z2 = _centred(rng.standard_normal(J * k), np.repeat(np.arange(J), k), k)[c]
        cols.append(z2)
        mean = mean + sdc * math.sqrt(rc) * z2
    if r1 > 0:
        if m < 2:
            raise ValueError("an individual-level covariate needs clusters of at least 2")
        w = _centred(rng.standard_normal(n), c, m)
        cols.append(w)
        mean = mean + sd1 * math.sqrt(r1) * w
    u = rng.standard_normal((n_sims, J))[:, g]
    v = rng.standard_normal((n_sims, J * k))[:, c] if icc_class > 0 else 0.0
    e = rng.standard_normal((n_sims, n))
    Y = mean + (sd2 * math.sqrt(1 - rs) * u + sdc * math.sqrt(1 - rc) * v
                + sd1 * math.sqrt(1 - r1) * e)
    return Y, np.column_stack(cols), g



def simulate_individual_trials(n_per_arm: int, effect: float, *, n_sims: int,
                               rng: np.random.Generator, r2: float = 0.0):
    """Outcomes of many individually randomized two-arm trials sharing one design.

    ``Y = effect * T + sqrt(r2) x + sqrt(1 - r2) e`` (total variance 1), with
    ``n_per_arm`` people in each arm, assigned at random once for all ``n_sims``
    trials; with ``r2 > 0`` a standard normal baseline covariate ``x``, drawn once.

    Parameters
    ----------
    n_per_arm : int
    effect : float
        True standardized effect.
    n_sims : int
        Trials (rows of ``Y``).
    rng : numpy.random.Generator
    r2 : float
        Share of the outcome variance explained by the covariate, in [0, 1).

    Returns
    -------
    Y : ndarray (n_sims, 2 * n_per_arm)
    X : ndarray (2 * n_per_arm, 2 or 3)
        Columns intercept, treatment, and ``x`` when ``r2 > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.power_simulation import simulate_individual_trials
    >>> Y, X = simulate_individual_trials(30, 0.3, n_sims=4, rng=np.random.default_rng(1), r2=0.4)
    >>> Y.shape, X.shape, int(X[:, 1].sum())
    ((4, 60), (60, 3), 30)
    """
    n = 2 * int(n_per_arm)
    T = np.zeros(n)
    T[rng.permutation(n)[: int(n_per_arm)]] = 1.0
    cols, mean = [np.ones(n), T], effect * T
    if r2 > 0:
        x = rng.standard_normal(n)
        cols.append(x)
        mean = mean + math.sqrt(r2) * x
    Y = mean + math.sqrt(1.0 - r2) * rng.standard_normal((n_sims, n))
    return Y, np.column_stack(cols)



def simulate_power_individual(n_per_arm: int, effect: float, *, n_sims: int = 1000,
                              alpha: float = 0.05, seed=None, r2: float = 0.0,
                              n_designs: int = 10) -> pd.DataFrame:
    """Power of an individually randomized trial by simulation, analysed as ``ancova_hc2``.

    Simulates ``n_sims`` trials with :func:`simulate_individual_trials` in ``n_designs``
    batches (each its own random assignment) and analyses each by OLS of the outcome
    on treatment (and the covariate when ``r2 > 0``) with HC2 standard errors and
    n - p df (:func:`analysis.cluster_robust.hc2_test_many`).

    Parameters
    ----------
    n_per_arm : int
        People per arm (at least 2).
    effect : float
        True standardized effect (0 estimates the type-I error).
    n_sims : int
    alpha : float
    seed : int or numpy Generator, optional
    r2 : float
        Share of variance explained by a baseline covariate, in [0, 1).
    n_designs : int
        Batches with different random assignments.

    Returns
    -------
    pandas.DataFrame
        One row: ``n_per_arm, effect, r2, alpha, n_sims, power, power_ci_low,
        power_ci_high`` (Wilson 95% CI of the simulated power), ``mean_estimate,
        sd_estimate, mean_std_error, analytic_power`` (:func:`analysis.power_analytic.power_t`
        two-sample; with ``r2 > 0`` :func:`analysis.power_analytic.power_ancova`, which
        counts the covariate's gain).

    Examples
    --------
    >>> from analysis.power_simulation import simulate_power_individual
    >>> r = simulate_power_individual(64, 0.5, n_sims=2000, seed=2)
    >>> abs(r["power"].item() - r["analytic_power"].item()) < 0.04
    True
    """
    a = _check_prob(alpha, "alpha")
    if int(n_per_arm) < 2 or not (0.0 <= float(r2) < 1.0):
        raise ValueError("need n_per_arm >= 2 and 0 <= r2 < 1")
    rng = _generator(seed)
    parts = []
    for size in _batch_sizes(n_sims, n_designs):
        Y, X = simulate_individual_trials(n_per_arm, effect, n_sims=int(size), rng=rng, r2=r2)
        parts.append(hc2_test_many(Y, X, 1, alpha=a))
    res = pd.concat(parts, ignore_index=True)
    rejections = int((res["p_value"] < a).sum())
    lo, hi = wilson_ci(rejections, len(res))
    if not effect:
        analytic = a
    elif r2 > 0:
        analytic = power_ancova(effect, n_per_arm, r2=r2, alpha=a)["power"].item()
    else:
        analytic = power_t(effect=effect, n=n_per_arm, alpha=a)["power"].item()
    return pd.DataFrame([{
        "n_per_arm": int(n_per_arm), "effect": float(effect), "r2": float(r2), "alpha": a,
        "n_sims": len(res), "power": rejections / len(res), "power_ci_low": lo,
        "power_ci_high": hi, "mean_estimate": float(res["estimate"].mean()),
        "sd_estimate": float(res["estimate"].std(ddof=1)) if len(res) > 1 else math.nan,
        "mean_std_error": float(res["std_error"].mean()), "analytic_power": analytic}])


def simulate_power(n_clusters: int, cluster_size: int, icc: float, effect: float, *,
                   n_sims: int = 1000, alpha: float = 0.05, seed=None, r2: float = 0.0,
                   treated_share: float = 0.5, n_designs: int = 10,
                   estimator=None, classes_per_cluster: int = 1,
                   icc_class: float = 0.0, r2_1: float | None = None,
                   r2_2: float | None = None, r2_3: float | None = None,
                   n_covariates: int | None = None) -> pd.DataFrame:
    """Power of a two- or three-level cluster randomized trial by simulation.

    With ``classes_per_cluster > 1`` and ``icc_class`` the clusters (schools) hold
    classes with their own random effect; the analysis is unchanged (CR2 clustered
    at the randomized level, as ``ols_cr2`` does) and ``analytic_power`` comes from
    :func:`analysis.power_analytic.power_cluster3`. For individually randomized trials see
    :func:`simulate_power_individual`.

    Simulates ``n_sims`` trials with :func:`simulate_cluster_trials` and analyses each
    as the effects module does for cluster trials (``ols_cr2``): OLS of the outcome on
    treatment (and the covariate when ``r2 > 0``), CR2 standard errors and
    Satterthwaite (Bell-McCaffrey) df, via ``analysis.cluster_robust.cr2_test_many``.
    The trials come in ``n_designs`` batches, each with its own random assignment (and
    covariate), and the CR2 algebra is computed once per batch, so 1,000 trials take
    a fraction of a second to a few seconds.

    Parameters
    ----------
    n_clusters, cluster_size : int
        Clusters J (both arms) and people per cluster.
    icc : float
    effect : float
        True standardized effect (0 estimates the type-I error).
    n_sims : int
    alpha : float
    seed : int or numpy Generator, optional
    r2 : float
        Share of variance (every level) explained by a baseline covariate.
    r2_1, r2_2, r2_3 : float, optional
        Shares explained at the individual, cluster (class in a three-level trial)
        and school level, each defaulting to ``r2`` (``r2_3`` only with classes):
        as ``--r2-1``/``--r2-2``/``--r2-3`` of ``workbench power`` and the analytic
        functions. See :func:`simulate_cluster_trials` for the covariates drawn.
    n_covariates : int, optional
        Cluster-level covariates counted by ``analytic_power`` (each costs a df); default
        1 when the top level's R² is positive, else 0 (the covariates simulated).
    treated_share : float
    n_designs : int
        Batches with different random assignments.
    estimator : callable, optional
        ``f(Y, X, clusters, coef=1, alpha=alpha) -> DataFrame`` with columns
        ``estimate, std_error, df, p_value``; default ``cr2_test_many``.
    classes_per_cluster : int
        Classes per cluster (school); 1 for a two-level trial.
    icc_class : float
        Share of the variance between classes within clusters.

    Returns
    -------
    pandas.DataFrame
        One row: ``n_clusters, classes_per_cluster, cluster_size, icc, icc_class,
        effect, r2, r2_1, r2_2, r2_3`` (``r2_3`` NaN for two levels), ``treated_share,
        alpha, n_sims, power, power_ci_low, power_ci_high``
        (Wilson 95% CI of the simulated power, i.e. its Monte Carlo error),
        ``mean_estimate, sd_estimate, mean_std_error, mean_df, analytic_power``
        (:func:`analysis.power_analytic.power_cluster2`, or ``power_cluster3`` with
        classes, with the same inputs, noncentral t), ``seconds``.

    Examples
    --------
    >>> from analysis.power_simulation import simulate_power
    >>> r = simulate_power(20, 30, 0.1, 0.4778, n_sims=400, seed=1)
    >>> 0.7 < r["power"].item() < 0.9
    True
    """
    a = _check_prob(alpha, "alpha")
    if not (0.0 <= float(icc) < 1.0):
        raise ValueError(f"icc must lie in [0, 1), got {icc!r}")
    if not (0.0 <= float(r2) < 1.0):
        raise ValueError(f"r2 must lie in [0, 1), got {r2!r}")
    three = int(classes_per_cluster) > 1
    r1, rc, rs = _level_r2(r2, r2_1, r2_2, r2_3, three=three)
    if int(n_sims) < 1 or int(n_designs) < 1:
        raise ValueError("n_sims and n_designs must be positive")
    if int(cluster_size) < 1 or int(n_clusters) < 3:
        raise ValueError("need at least 3 clusters of at least 1 person")
    est = estimator or cr2_test_many
    rng = _generator(seed)
    t0 = time.perf_counter()
    parts = []
    for s in _batch_sizes(n_sims, n_designs):
        Y, X, g = simulate_cluster_trials(n_clusters, cluster_size, icc, effect, n_sims=int(s),
                                          rng=rng, r2=r2, treated_share=treated_share,
                                          classes_per_cluster=classes_per_cluster,
                                          icc_class=icc_class, r2_1=r1, r2_2=rc,
                                          r2_3=rs if three else None)
        res = est(Y, X, g, coef=1, alpha=a)
        parts.append(pd.DataFrame({k: np.asarray(res[k], dtype=float)
                                   for k in ("estimate", "std_error", "df", "p_value")}))
    res = pd.concat(parts, ignore_index=True)
    seconds = time.perf_counter() - t0
    rejections = int((res["p_value"] < a).sum())
    lo, hi = wilson_ci(rejections, len(res))
    share = round(treated_share * n_clusters) / n_clusters
    if effect == 0:
        analytic = a
    elif three:
        g = (1 if rs > 0 else 0) if n_covariates is None else int(n_covariates)
        analytic = power_cluster3(int(n_clusters), int(classes_per_cluster), cluster_size,
                                  icc, icc_class, effect=effect, treated_share=share,
                                  r2_1=r1, r2_2=rc, r2_3=rs,
                                  n_covariates=g, alpha=a)["power"].item()
    else:
        g = (1 if rc > 0 else 0) if n_covariates is None else int(n_covariates)
        analytic = power_cluster2(int(n_clusters), cluster_size, icc, effect=effect,
                                  treated_share=share, r2_1=r1, r2_2=rc,
                                  n_covariates=g, alpha=a)["power"].item()
    return pd.DataFrame([{
        "n_clusters": int(n_clusters), "classes_per_cluster": int(classes_per_cluster),
        "cluster_size": int(cluster_size), "icc": float(icc), "icc_class": float(icc_class),
        "effect": float(effect), "r2": float(r2), "r2_1": r1, "r2_2": rc,
        "r2_3": rs if three else math.nan, "treated_share": float(treated_share),
        "alpha": a, "n_sims": len(res), "power": rejections / len(res), "power_ci_low": lo,
        "power_ci_high": hi, "mean_estimate": float(res["estimate"].mean()),
        "sd_estimate": float(res["estimate"].std(ddof=1)) if len(res) > 1 else math.nan,
        "mean_std_error": float(res["std_error"].mean()), "mean_df": float(res["df"].mean()),
        "analytic_power": analytic, "seconds": seconds,
    }])

"""Analytic power, sample size and minimum detectable effect (MDES), from closed formulas.

Functions
---------
power_t
    One-sample, paired and two-sample t-tests (R ``pwr::pwr.t.test``).
power_proportions
    Two proportions through Cohen's h, equal or unequal groups
    (R ``pwr::pwr.2p.test``, ``pwr::pwr.2p2n.test``).
power_proportion
    One proportion through Cohen's h (R ``pwr::pwr.p.test``).
cohens_h
    ``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))`` (R ``pwr::ES.h``).
power_ancova
    Two-arm individually randomized trial analysed with a baseline covariate
    (ANCOVA): the t-test power with the residual SD ``sqrt(1 - R2)``.
power_cluster2, power_cluster3
    Two- and three-level cluster randomized trials with covariates (PowerUp!,
    Dong & Maynard 2013; Optimal Design, Spybrook et al. 2011).

Each function solves for the one quantity left as ``None``. Power of the normal
tests comes from statsmodels (``normal_power``, which, like pwr, counts both tails of a
two-sided test). Power of the t-tests is computed here from the noncentral t, because
statsmodels' ``ttest_power`` returns NaN for large noncentrality (scipy's
``nct.cdf`` fails far in the tail); the lower tail is taken as the upper tail at
``-ncp``, which scipy computes reliably. The solving is done with
``scipy.optimize.brentq`` at a tight tolerance (pwr uses ``uniroot`` with its default
tolerance of about 1e-4, so pwr's own solutions are that accurate).

Power by simulation is in :mod:`analysis.power_simulation`; :mod:`analysis.power`
gives both under one name.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.power import normal_power

__all__ = [
    "cohens_h",
    "power_ancova",
    "power_cluster2",
    "power_cluster3",
    "power_proportion",
    "power_proportions",
    "power_t",
]

_ALTERNATIVES = {"two-sided": "two-sided", "two.sided": "two-sided", "greater": "larger",
                 "larger": "larger", "less": "smaller", "smaller": "smaller"}
_PUBLIC_ALT = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}
_EFFECT_BRACKET = {"two-sided": (1e-7, 10.0), "larger": (-5.0, 10.0), "smaller": (-10.0, 5.0)}
_N_BRACKET = (2.0 + 1e-10, 1e9)
_XTOL = 1e-12


def _alt(alternative: str) -> str:
    try:
        return _ALTERNATIVES[alternative]
    except KeyError:
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', "
                         f"got {alternative!r}") from None


def _check_prob(value, name):
    v = float(value)
    if math.isnan(v) or not (0.0 < v < 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v


def _one_missing(**kw) -> str:
    missing = [k for k, v in kw.items() if v is None]
    if len(missing) != 1:
        raise ValueError(f"exactly one of {', '.join(kw)} must be None (to be solved for); "
                         f"got {len(missing)} missing")
    return missing[0]


def _solve(f, lo, hi, what):
    flo, fhi = f(lo), f(hi)
    if np.sign(flo) == np.sign(fhi):
        raise ValueError(f"no {what} in [{lo:g}, {hi:g}] reaches the requested power")
    return float(optimize.brentq(f, lo, hi, xtol=_XTOL, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def _t_power(ncp, df, alpha, alt) -> float:
    """Power of a t-test with noncentrality ``ncp`` (both tails when two-sided)."""
    if alt == "two-sided":
        q = stats.t.isf(alpha / 2, df)
        return float(stats.nct.sf(q, df, ncp) + stats.nct.sf(q, df, -ncp))
    q = stats.t.isf(alpha, df)
    return float(stats.nct.sf(q, df, ncp if alt == "larger" else -ncp))


def _t_power_many(ncp, df, alpha, alt) -> np.ndarray:
    """:func:`_t_power` elementwise over arrays of ``ncp`` and ``df`` (the same numbers)."""
    if alt == "two-sided":
        q = stats.t.isf(alpha / 2, df)
        return stats.nct.sf(q, df, ncp) + stats.nct.sf(q, df, -ncp)
    q = stats.t.isf(alpha, df)
    return stats.nct.sf(q, df, ncp if alt == "larger" else -ncp)


def _generic(power_fn, effect, n, power, alpha, alternative, effect_name):
    a = _check_prob(alpha, "alpha")
    alt = _alt(alternative)
    target = _one_missing(**{effect_name: effect, "n": n, "power": power})
    if n is not None and not (float(n) > 0):
        raise ValueError(f"n must be positive, got {n!r}")
    if alt == "two-sided" and effect is not None:
        effect = abs(float(effect))
    if target == "power":
        power = float(power_fn(float(effect), float(n), a, alt))
    else:
        pw = _check_prob(power, "power")
        if target == "n":
            if float(effect) == 0:
                raise ValueError("no sample size gives power above alpha for a zero effect")
            f = lambda x: power_fn(float(effect), x, a, alt) - pw  # noqa: E731
            # power rises with n: grow the bracket from n = 4 (scipy's noncentral t
            # returns NaN at absurd df, so pwr's fixed bracket [2, 1e9] is not used)
            lo, hi = _N_BRACKET[0], 4.0
            while f(hi) < 0:
                lo, hi = hi, hi * 2
                if hi > _N_BRACKET[1]:
                    raise ValueError("no n below 1e9 reaches the requested power")
            n = _solve(f, lo, hi, "n")
        else:
            lo, hi = _EFFECT_BRACKET[alt]
            effect = _solve(lambda x: power_fn(x, float(n), a, alt) - pw, lo, hi, effect_name)
    return {effect_name: float(effect), "n": float(n), "power": float(power), "alpha": a,
            "alternative": _PUBLIC_ALT[alt], "solved_for": target}


def power_t(effect: float | None = None, n: float | None = None, power: float | None = None,
            *, alpha: float = 0.05, design: str = "two_sample",
            alternative: str = "two-sided") -> pd.DataFrame:
    """Power, sample size or effect for a t-test, as ``pwr::pwr.t.test``.

    Leave exactly one of ``effect``, ``n`` and ``power`` as ``None``; it is solved for.
    Power comes from the noncentral t with ``df = (n - 1) * k`` and noncentrality
    ``effect * sqrt(n / k)`` (``k = 2`` for two samples, 1 otherwise); a two-sided
    test counts both tails, as pwr does.

    Parameters
    ----------
    effect : float, optional
        Cohen's d: mean difference / SD (for ``paired``, the mean change / SD of the
        changes, d_z).
    n : float, optional
        Per group (``two_sample``), pairs (``paired``) or observations (``one_sample``).
        Solved values are not rounded; round up to plan a study.
    power : float, optional
    alpha : float
    design : {"two_sample", "paired", "one_sample"}
    alternative : {"two-sided", "greater", "less"}

    Returns
    -------
    pandas.DataFrame
        One row: ``test, design, effect, n, power, alpha, alternative, solved_for``.

    Examples
    --------
    >>> from analysis.power_analytic import power_t
    >>> round(power_t(0.5, power=0.8)["n"].item(), 4)
    63.7656
    >>> round(power_t(0.5, n=20, design="paired")["power"].item(), 4)
    0.5645
    """
    k = {"two_sample": 2.0, "paired": 1.0, "one_sample": 1.0}.get(design)
    if k is None:
        raise ValueError(f"design must be 'two_sample', 'paired' or 'one_sample', got {design!r}")

    def fn(d, n_, a, alt):
        return _t_power(d * math.sqrt(n_ / k), (n_ - 1.0) * k, a, alt)

    row = _generic(fn, effect, n, power, alpha, alternative, "effect")
    return pd.DataFrame([{"test": "t", "design": design, **row}],
                        columns=["test", "design", "effect", "n", "power", "alpha",
                                 "alternative", "solved_for"])


def power_ancova(effect: float | None = None, n: float | None = None,
                 power: float | None = None, *, r2: float = 0.0, alpha: float = 0.05,
                 alternative: str = "two-sided") -> pd.DataFrame:
    """Power, n per arm or effect of a two-arm trial analysed with a baseline covariate.

    Children are randomized individually, ``n`` per arm, and the outcome is
    regressed on the arm and a covariate that explains a share ``r2`` of its variance
    (ANCOVA on the baseline score: ``r2`` is the squared pre-post correlation). The
    covariate shrinks the residual SD to ``sqrt(1 - r2)`` (Borm, Fransen & Lemmens
    2007), so the noncentrality is ``effect * sqrt(n / 2) / sqrt(1 - r2)``; the t has
    ``2n - 3`` df (the covariate costs one). ``r2 = 0`` is :func:`power_t` but for
    that one df. Leave one of ``effect``, ``n``, ``power`` as ``None``. With ``power``
    left out, ``n`` may be a sequence: the power at each, one row per ``n`` (a power
    curve; the same numbers as one call each).

    Returns
    -------
    pandas.DataFrame
        One row: ``test, design, effect, n, r2, power, alpha, alternative, solved_for``.

    Examples
    --------
    >>> from analysis.power_analytic import power_ancova
    >>> round(power_ancova(0.3, 100, r2=0.5)["power"].item(), 3)
    0.847
    >>> round(power_ancova(0.3, power=0.8, r2=0.0)["n"].item(), 1)
    175.4
    """
    r2 = float(r2)
    if not (0.0 <= r2 < 1.0):
        raise ValueError(f"r2 must lie in [0, 1), got {r2!r}")
    scale = math.sqrt(1.0 - r2)

    def fn(d, n_, a, alt):
        return _t_power(d * math.sqrt(n_ / 2.0) / scale, 2.0 * n_ - 3.0, a, alt)

    if power is None and np.ndim(n) == 1:  # a power curve: one row per n
        a, alt = _check_prob(alpha, "alpha"), _alt(alternative)
        ns = np.asarray(n, float)
        if effect is None or ns.size == 0 or not np.all(ns >= 2):
            raise ValueError(f"a power curve needs an effect and every n per arm at least 2, "
                             f"got effect={effect!r}, n={ns.tolist()!r}")
        eff = abs(float(effect)) if alt == "two-sided" else float(effect)
        pw = _t_power_many(eff * np.sqrt(ns / 2.0) / scale, 2.0 * ns - 3.0, a, alt)
        return pd.DataFrame({"test": "t", "design": "ancova", "effect": eff, "n": ns, "r2": r2,
                             "power": pw, "alpha": a, "alternative": _PUBLIC_ALT[alt],
                             "solved_for": "power"})
    if n is not None and float(n) < 2:
        raise ValueError(f"n per arm must be at least 2, got {n!r}")
    row = _generic(fn, effect, n, power, alpha, alternative, "effect")
    return pd.DataFrame([{"test": "t", "design": "ancova", **row, "r2": r2}],
                        columns=["test", "design", "effect", "n", "r2", "power", "alpha",
                                 "alternative", "solved_for"])


def cohens_h(p1, p2):
    """Cohen's h for two proportions: ``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))`` (``pwr::ES.h``).

    Examples
    --------
    >>> from analysis.power_analytic import cohens_h
    >>> round(cohens_h(0.82, 0.5), 4)
    0.6945
    """
    p1a, p2a = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    if np.any((p1a < 0) | (p1a > 1) | (p2a < 0) | (p2a > 1)):
        raise ValueError("proportions must lie in [0, 1]")
    h = 2 * np.arcsin(np.sqrt(p1a)) - 2 * np.arcsin(np.sqrt(p2a))
    return float(h) if h.ndim == 0 else h


def _h_from(effect, p1, p2):
    if p1 is not None or p2 is not None:
        if effect is not None:
            raise ValueError("give either effect (Cohen's h) or p1 and p2, not both")
        if p1 is None or p2 is None:
            raise ValueError("give both p1 and p2")
        return cohens_h(p1, p2)
    return effect


def power_proportions(effect: float | None = None, n: float | None = None,
                      power: float | None = None, *, p1: float | None = None,
                      p2: float | None = None, n2: float | None = None, alpha: float = 0.05,
                      alternative: str = "two-sided") -> pd.DataFrame:
    """Power, sample size or effect for comparing two proportions (arcsine, Cohen's h).

    As ``pwr::pwr.2p.test`` (equal groups of ``n``) or, with ``n2``, ``pwr::pwr.2p2n.test``
    (groups of ``n`` and ``n2``): power of the normal test of ``h`` with standard error
    ``sqrt(1/n + 1/n2)``. Leave one of ``effect``, ``n``, ``power`` as ``None``. The
    effect is Cohen's h, or give ``p1`` and ``p2`` instead.

    Parameters
    ----------
    effect : float, optional
        Cohen's h.
    n : float, optional
        Per group (first group when ``n2`` is given).
    power : float, optional
    p1, p2 : float, optional
        Proportions, to compute h from.
    n2 : float, optional
        Size of the second group (only when solving for power or the effect).
    alpha : float
    alternative : {"two-sided", "greater", "less"}

    Returns
    -------
    pandas.DataFrame
        One row: ``test, design, effect, n, n2, power, alpha, alternative, solved_for``.

    Examples
    --------
    >>> from analysis.power_analytic import power_proportions
    >>> round(power_proportions(p1=0.82, p2=0.5, power=0.8)["n"].item(), 3)
    32.546
    """
    h = _h_from(effect, p1, p2)
    if n2 is not None and n is None:
        raise ValueError("with n2 given, solve for power or the effect, not n")

    def fn(hh, n_, a, alt):
        m = n_ / 2.0 if n2 is None else n_ * n2 / (n_ + n2)
        return normal_power(hh, m, a, alternative=alt)

    row = _generic(fn, h, n, power, alpha, alternative, "effect")
    row["n2"] = float(n2) if n2 is not None else row["n"]
    return pd.DataFrame([{"test": "proportions", "design": "two_sample", **row}],
                        columns=["test", "design", "effect", "n", "n2", "power", "alpha",
                                 "alternative", "solved_for"])


def power_proportion(effect: float | None = None, n: float | None = None,
                     power: float | None = None, *, p: float | None = None,
                     p0: float | None = None, alpha: float = 0.05,
                     alternative: str = "two-sided") -> pd.DataFrame:
    """Power, sample size or effect for one proportion against ``p0`` (``pwr::pwr.p.test``).

    Normal test of Cohen's h with standard error ``1 / sqrt(n)``.

    Examples
    --------
    >>> from analysis.power_analytic import power_proportion
    >>> round(power_proportion(p=0.82, p0=0.5, n=61)["power"].item(), 4)
    0.9997
    """
    h = _h_from(effect, p, p0)

    def fn(hh, n_, a, alt):
        return normal_power(hh, n_, a, alternative=alt)

    row = _generic(fn, h, n, power, alpha, alternative, "effect")
    return pd.DataFrame([{"test": "proportions", "design": "one_sample", **row}],
                        columns=["test", "design", "effect", "n", "power", "alpha",
                                 "alternative", "solved_for"])


# ---------------------------------------------------------------- cluster randomized trials


def _crt_power(effect, se, df, alpha, two_tailed):
    """Noncentral-t power, as Optimal Design and PowerUpR compute it."""
    return _t_power(effect / se, df, alpha, "two-sided" if two_tailed else "larger")


def _multiplier(df, alpha, power, two_tailed):
    """The MDES multiplier t_(1-alpha) + t_power; a float, or an array for an array ``df``."""
    t1 = stats.t.isf(alpha / 2 if two_tailed else alpha, df)
    out = t1 + stats.t.ppf(power, df)
    return float(out) if np.ndim(out) == 0 else out.astype(float)


def _check_r2(**kw):
    for k, v in kw.items():
        if not (0.0 <= float(v) < 1.0):
            raise ValueError(f"{k} must lie in [0, 1), got {v!r}")


def _crt(levels, se_fn, top, top_name, effect, power, alpha, two_tailed, g, params,
         max_top=100_000):
    a = _check_prob(alpha, "alpha")
    target = _one_missing(**{top_name: top, "effect": effect, "power": power})
    if power is not None:
        power = _check_prob(power, "power")
    g = int(g)
    if g < 0:
        raise ValueError("n_covariates must be >= 0")

    def df_of(k):
        return k - g - 2

    def mdes_at(k):
        return _multiplier(df_of(k), a, power, two_tailed) * se_fn(k)

    if target in ("power", "effect") and np.ndim(top) == 1:
        return _crt_curve(levels, se_fn, np.asarray(top, float), top_name, target, effect,
                          power, a, two_tailed, g, params, df_of)
    if target == top_name:
        eff = abs(float(effect))
        if eff == 0:
            raise ValueError("the target MDES must be positive")
        k = g + 3
        while mdes_at(k) > eff:
            k = k + 1 if k < 200 else int(k * 1.1)
            if k > max_top:
                raise ValueError(f"more than {max_top} {top_name.replace('n_', '')} would "
                                 f"be needed")
        # step back to the smallest k (after coarse growth)
        while k > g + 3 and mdes_at(k - 1) <= eff:
            k -= 1
        top = k
    top = float(top)
    if top != int(top) or df_of(top) < 1:
        raise ValueError(f"{top_name} must be a whole number with {top_name} - n_covariates - 2 "
                         f">= 1, got {top!r}")
    df = df_of(top)
    se = se_fn(top)
    mdes = mdes_at(top) if power is not None else math.nan
    mult = _multiplier(df, a, power, two_tailed) if power is not None else math.nan
    if target == "effect":
        effect = mdes
    if target == "power":
        power = _crt_power(abs(float(effect)), se, df, a, two_tailed)
    row = {"design": f"cluster{levels}", top_name: int(top), **params, "n_covariates": g,
           "alpha": a, "two_tailed": bool(two_tailed), "effect": float(effect),
           "power": float(power), "mdes": mdes, "df": float(df), "se": se,
           "multiplier": mult, "solved_for": target}
    return pd.DataFrame([row])


def _crt_curve(levels, se_fn, tops, top_name, target, effect, power, a, two_tailed, g,
               params, df_of):
    """The power (``target="power"``) or the MDES (``"effect"``) of :func:`_crt` at each of
    several sizes: one row per size, the same numbers as one call per size (the noncentral t
    and the multiplier's t quantiles evaluated elementwise)."""
    if tops.size == 0 or np.any(tops != np.floor(tops)) or np.any(df_of(tops) < 1):
        raise ValueError(f"{top_name} must be whole numbers with {top_name} - n_covariates - 2 "
                         f">= 1, got {tops.tolist()!r}")
    df = df_of(tops)
    se = np.array([se_fn(float(k)) for k in tops])
    if target == "power":
        effect, mdes, mult = float(effect), math.nan, math.nan
        power = _t_power_many(abs(effect) / se, df, a, "two-sided" if two_tailed else "larger")
    else:
        mult = _multiplier(df, a, power, two_tailed)
        effect = mdes = mult * se
        power = float(power)
    return pd.DataFrame({"design": f"cluster{levels}", top_name: tops.astype(int), **params,
                         "n_covariates": g, "alpha": a, "two_tailed": bool(two_tailed),
                         "effect": effect, "power": power, "mdes": mdes, "df": df,
                         "se": se, "multiplier": mult, "solved_for": target})


def power_cluster2(n_clusters: int | None = None, cluster_size: float = 20, icc: float = 0.05,
                   *, effect: float | None = None, power: float | None = None,
                   treated_share: float = 0.5, r2_1: float = 0.0, r2_2: float = 0.0,
                   n_covariates: int = 0, alpha: float = 0.05,
                   two_tailed: bool = True) -> pd.DataFrame:
    """Two-level cluster randomized trial: MDES, power or number of clusters.

    Whole clusters (schools) are randomized; the effect is standardized by the total
    SD. With ``J`` clusters of ``n`` people, a share ``P`` treated, ICC ``rho`` and
    covariates explaining ``R2_1`` of the individual-level and ``R2_2`` of the
    cluster-level variance, the standardized standard error of the effect is
    ``SE = sqrt(rho (1 - R2_2) / (P (1 - P) J) + (1 - rho)(1 - R2_1) / (P (1 - P) J n))``
    (Bloom 2005; Dong & Maynard 2013, PowerUp! model CRA2_2r).

    - ``effect=None``: the MDES, ``M * SE`` with ``M = t(1 - alpha/2) + t(power)`` on
      ``J - g - 2`` df (g = ``n_covariates`` at the cluster level), as PowerUp!.
    - ``power=None``: power for ``effect`` from the noncentral t with ``ncp = effect /
      SE`` (both tails), as Optimal Design and PowerUpR. The multiplier formula is an
      approximation of the same quantity: power at the MDES is close to, not exactly,
      the target (0.8001 for J = 20, n = 30, rho = 0.1; 0.7985 for J = 10, n = 40,
      rho = 0.05; 0.791 for J = 6, n = 20, rho = 0.2: the fewer the df, the larger the gap).
    - ``n_clusters=None``: the smallest ``J`` whose MDES (multiplier formula) is at most
      ``effect``, as PowerUp!'s MRSS.

    Parameters
    ----------
    n_clusters : int or sequence of int, optional
        Number of clusters J (both arms). A sequence, when solving for power: one row
        per number of clusters (a power curve; the same numbers as one call each).
    cluster_size : float
        People per cluster n (harmonic mean if sizes differ).
    icc : float
        Intra-class correlation rho.
    effect : float, optional
        Standardized effect (MDES when solving for ``n_clusters``).
    power : float, optional
    treated_share : float
        P, share of clusters treated.
    r2_1, r2_2 : float
        Covariates' shares of level-1 and level-2 variance.
    n_covariates : int
        Cluster-level covariates g (each costs a df).
    alpha : float
    two_tailed : bool

    Returns
    -------
    pandas.DataFrame
        One row: ``design, n_clusters, cluster_size, icc, treated_share, r2_1, r2_2,
        n_covariates, alpha, two_tailed, effect, power, mdes, df, se, multiplier,
        solved_for`` (``mdes`` and ``multiplier`` at the target power; missing when power
        was solved for).

    Examples
    --------
    >>> from analysis.power_analytic import power_cluster2
    >>> round(power_cluster2(20, 30, 0.1, power=0.8)["effect"].item(), 4)
    0.4778
    >>> int(power_cluster2(None, 30, 0.1, effect=0.4778, power=0.8)["n_clusters"].item())
    20
    """
    P = _check_prob(treated_share, "treated_share")
    rho = float(icc)
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"icc must lie in [0, 1), got {icc!r}")
    n = float(cluster_size)
    if not n >= 1:
        raise ValueError(f"cluster_size must be at least 1, got {cluster_size!r}")
    _check_r2(r2_1=r2_1, r2_2=r2_2)

    def se_fn(J):
        return math.sqrt(rho * (1 - r2_2) / (P * (1 - P) * J)
                         + (1 - rho) * (1 - r2_1) / (P * (1 - P) * J * n))

    params = {"cluster_size": n, "icc": rho, "treated_share": P, "r2_1": float(r2_1),
              "r2_2": float(r2_2)}
    return _crt(2, se_fn, n_clusters, "n_clusters", effect, power, alpha, two_tailed,
                n_covariates, params)


def power_cluster3(n_schools: int | None = None, classes_per_school: float = 2,
                   class_size: float = 20, icc_school: float = 0.05, icc_class: float = 0.1,
                   *, effect: float | None = None, power: float | None = None,
                   treated_share: float = 0.5, r2_1: float = 0.0, r2_2: float = 0.0,
                   r2_3: float = 0.0, n_covariates: int = 0, alpha: float = 0.05,
                   two_tailed: bool = True) -> pd.DataFrame:
    """Three-level cluster randomized trial (schools randomized): MDES, power or schools.

    K schools with J classes of n students; ICCs ``rho3`` (school) and ``rho2`` (class);
    covariate R² at each level. Dong & Maynard (2013), PowerUp! model CRA3_3r:
    ``SE = sqrt(rho3 (1 - R2_3) / (P (1 - P) K) + rho2 (1 - R2_2) / (P (1 - P) K J)
    + (1 - rho3 - rho2)(1 - R2_1) / (P (1 - P) K J n))`` with ``K - g - 2`` df; MDES,
    power and the number of schools as in :func:`power_cluster2` (``n_schools`` a
    sequence: the power at each, one row per number of schools). Checked against the
    PowerUpR documentation's example ``mdes.cra3r3(rho3 = .06, rho2 = .17, n = 15, J = 3,
    K = 60)`` = 0.269.

    Returns
    -------
    pandas.DataFrame
        One row: ``design, n_schools, classes_per_school, class_size, icc_school,
        icc_class, treated_share, r2_1, r2_2, r2_3, n_covariates, alpha, two_tailed,
        effect, power, mdes, df, se, multiplier, solved_for``.

    Examples
    --------
    >>> from analysis.power_analytic import power_cluster3
    >>> r = power_cluster3(60, 3, 15, icc_school=0.06, icc_class=0.17, power=0.8)
    >>> round(r["effect"].item(), 3)
    0.269
    """
    P = _check_prob(treated_share, "treated_share")
    rho3, rho2 = float(icc_school), float(icc_class)
    if rho3 < 0 or rho2 < 0 or rho3 + rho2 >= 1:
        raise ValueError("the ICCs must be >= 0 and sum to less than 1")
    J, n = float(classes_per_school), float(class_size)
    if J < 1 or n < 1:
        raise ValueError("classes_per_school and class_size must be at least 1")
    _check_r2(r2_1=r2_1, r2_2=r2_2, r2_3=r2_3)

    def se_fn(K):
        d = P * (1 - P) * K
        return math.sqrt(rho3 * (1 - r2_3) / d + rho2 * (1 - r2_2) / (d * J)
                         + (1 - rho3 - rho2) * (1 - r2_1) / (d * J * n))

    params = {"classes_per_school": J, "class_size": n, "icc_school": rho3, "icc_class": rho2,
              "treated_share": P, "r2_1": float(r2_1), "r2_2": float(r2_2),
              "r2_3": float(r2_3)}
    return _crt(3, se_fn, n_schools, "n_schools", effect, power, alpha, two_tailed,
                n_covariates, params)

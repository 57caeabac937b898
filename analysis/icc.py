"""Intra-class correlations with profile-likelihood confidence intervals.

The ICC of an outcome at a cluster level is that level's share of the outcome's
variance in a random-intercept model fitted by REML,

    y = X beta + u_1 + ... + u_L + e,   ICC_l = tau_l / (tau_1 + ... + tau_L + sigma^2),

as ``lme4::lmer(y ~ x + (1 | school/class))``, fitted with
:func:`analysis.mixed.random_intercepts`. With ``fixed`` the model is conditional on
fixed effects: at endline of a trial, ``fixed="arm"`` keeps the treatment effect out
of the school variance (an unconditional endline ICC counts the difference between
the arms as differences between schools, and overstates the ICC a next trial will
meet).

The confidence interval
-----------------------
An ICC estimated from 20 schools is uncertain, and a study planned with its point
value inherits that uncertainty silently. :func:`icc` gives a profile-likelihood
interval: the set of ICC values ``r`` whose profiled REML deviance is within
``qchisq(level, 1)`` of the minimum (3.84 for 95%), the likelihood-ratio
construction of ``lme4::confint(fit, method = "profile")``. The profiled deviance
at ``r`` is the REML deviance minimized over everything else: the fixed effects and
``sigma^2`` analytically (as lme4's ``devfun``), and the shares of the other cluster
levels numerically (one bounded scalar search for two levels). In terms of the
variance ratios ``phi_l = tau_l / sigma^2``, ``ICC_l = phi_l / (1 + sum_m phi_m)``;
the ICC ``r`` of level ``l`` with the other levels at shares ``s_m`` is
``phi_l = r / (1 - r - sum s)``, ``phi_m = s_m / (1 - r - sum s)``.

lme4 has no ICC interval of its own: ``confint(method = "profile")`` profiles the
standard deviations (``.sig01``, ``.sigma``), and the ICC is a ratio of them. The
reference values are computed in R with lme4's own deviance function
(``lmer(..., devFunOnly = TRUE)``, a function of the relative SDs ``theta``) by the
same construction (``tests/fixtures/r/icc.R``); Python and R agree to 1e-6 (2.4e-8 measured) in the
bounds on a 20-school trial (school and class levels, with and without the arm),
an 8-cluster trial and a singular fit (``tests/test_icc.py``).

At the boundary (the estimate is 0, a singular fit) the lower bound is 0, as is the
lower bound of any ICC whose deviance at 0 is within the cutoff. The chi-square
cutoff is then conservative (the boundary theory gives a mixture of chi-squares),
as in lme4.

What no Python library does here: statsmodels' ``MixedLM`` reports variance
components and Wald standard errors for them (symmetric, crossing 0) but no ICC
and no profile interval; pingouin's ``intraclass_corr`` is the raters' ICC from a
balanced two-way ANOVA (with F-based intervals), which does not take nested
clusters, unbalanced cluster sizes or covariates.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from analysis.icc import icc
>>> rng = np.random.default_rng(5)
>>> school = np.repeat(np.arange(20), 30)
>>> arm = (school % 2).astype(float)
>>> y = 0.5 * arm + rng.normal(0, 0.3, 20)[school] + rng.normal(0, 1, 600)
>>> d = pd.DataFrame({"y": y, "school": school, "arm": arm})
>>> t = icc(d, "y", "school", fixed="arm")
>>> t[["level", "conditioned_on", "ci_method"]].iloc[0].tolist()
['school', 'arm', 'profile']
>>> bool(t["ci_low"].iloc[0] < t["icc"].iloc[0] < t["ci_high"].iloc[0])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis import mixed

__all__ = ["COLUMNS", "icc", "icc_profile"]

COLUMNS = ["outcome", "level", "n_groups", "n_obs", "variance", "icc", "ci_low", "ci_high",
           "ci_method", "conditioned_on", "singular"]
"""Columns of :func:`icc` (one row per cluster level, outermost first)."""

_XTOL = 1e-10


class _Profile:
    """The REML deviance of one fit as a function of the levels' variance shares."""

    def __init__(self, data, outcome, groups, fixed, reml):
        y, xdf, d = mixed._design(data, outcome, groups, fixed)
        codes = mixed._codes(d, groups)
        self.model = mixed._NestedREML(y, xdf.to_numpy(float), codes, reml)
        self.nl = len(groups)

    def deviance_shares(self, shares: np.ndarray) -> float:
        shares = np.asarray(shares, float)
        rest = 1.0 - shares.sum()
        if (shares < 0).any() or not rest > 0:
            return np.inf
        return self.model.deviance(shares / rest)

    def profile(self, level: int, r: float, start: np.ndarray | None = None):
        """Minimum deviance over the other levels' shares with level ``level`` at ``r``.

        Returns ``(deviance, shares)``.
        """
        others = [m for m in range(self.nl) if m != level]

        def full(s_other):
            s = np.zeros(self.nl)
            s[level] = r
            s[others] = s_other
            return s

        if not others:
            s = full([])
            return self.deviance_shares(s), s
        room = 1.0 - r
        if len(others) == 1:
            o, nl, deviance = others[0], self.nl, self.model._deviance

            def f(v):  # deviance_shares([.., r, .., v, ..]) without its checks of the array
                s = np.zeros(nl)
                s[level] = r
                s[o] = v
                rest = 1.0 - s.sum()
                if r < 0 or v < 0 or not rest > 0:
                    return np.inf
                return deviance(s / rest)

            hi = room * (1 - 1e-9)
            res = optimize.minimize_scalar(f, bounds=(0.0, hi), method="bounded",
                                           options={"xatol": _XTOL})
            best = min(((float(res.fun), float(res.x)), (f(0.0), 0.0)))
            return best[0], full([best[1]])
        # several other levels: bounded quasi-Newton on their ratios to sigma^2 from two starts
        def g(phi_o):
            phi_o = np.maximum(phi_o, 0.0)
            phi_l = r * (1.0 + phi_o.sum()) / (1.0 - r)
            phi = np.zeros(self.nl)
            phi[level] = phi_l
            phi[others] = phi_o
            return self.model.deviance(phi)

        starts = [np.zeros(len(others))]
        if start is not None:
            st = np.asarray(start, float)[others]
            starts.append(st / max(1.0 - st.sum() - r, 1e-6))
        best = None
        for x0 in starts:
            res = optimize.minimize(g, x0, method="L-BFGS-B",
                                    bounds=[(0.0, None)] * len(others))
            if best is None or res.fun < best.fun:
                best = res
        phi_o = np.maximum(best.x, 0.0)
        phi = np.zeros(self.nl)
        phi[level] = r * (1.0 + phi_o.sum()) / (1.0 - r)
        phi[others] = phi_o
        return float(best.fun), phi / (1.0 + phi.sum())


def icc_profile(data: pd.DataFrame, outcome: str, clusters: str | Sequence[str], *,
                level: str | None = None, fixed=None, grid: Sequence[float] | None = None,
                reml: bool = True) -> pd.DataFrame:
    """The profiled REML deviance of the ICC at one cluster level, on a grid.

    Parameters
    ----------
    data, outcome, clusters, fixed, reml
        As :func:`icc`.
    level : str, optional
        The cluster level (default: the outermost).
    grid : sequence of float, optional
        ICC values in [0, 1) (default: 41 values from 0 to 0.4).

    Returns
    -------
    DataFrame
        ``icc, deviance, delta`` (deviance minus its minimum over the grid and the
        estimate): the curve whose crossing of ``qchisq(level, 1)`` gives the interval.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(15), 10)
    >>> d = pd.DataFrame({"y": rng.normal(0, .5, 15)[g] + rng.normal(0, 1, 150), "g": g})
    >>> p = icc_profile(d, "y", "g", grid=[0.0, 0.1, 0.2])
    >>> p.columns.tolist()
    ['icc', 'deviance', 'delta']
    """
    groups = [clusters] if isinstance(clusters, str) else list(clusters)
    level = level or groups[0]
    fit = mixed.random_intercepts(data, outcome, groups, fixed=fixed, reml=reml, ddf="normal")
    kept = [g for g in groups if g not in fit.dropped_levels]
    if level not in kept:
        raise ValueError(f"level {level!r} is not identified apart from the level above it")
    prof = _Profile(data, outcome, kept, fixed, reml)
    vc = fit.variance_components.set_index("level").loc[kept]
    s_hat = vc["icc"].to_numpy(float)
    dev_min = prof.deviance_shares(s_hat)
    grid = np.linspace(0, 0.4, 41) if grid is None else np.asarray(grid, float)
    li = kept.index(level)
    devs = np.array([prof.profile(li, float(r), s_hat)[0] for r in grid])
    return pd.DataFrame({"icc": grid, "deviance": devs,
                         "delta": devs - min(dev_min, float(devs.min()))})


def _bound(prof, li, r_hat, dev_min, cut, s_hat, side, seen=None):
    """One end of the profile interval: where the profiled deviance rises by ``cut``.

    ``seen``: the profiled deviances of this level already computed (by ICC value), shared
    by the two ends; brentq evaluates its bracket's ends again, and the two searches
    share the point estimate.
    """
    seen = {} if seen is None else seen

    def excess(r):
        if r not in seen:
            seen[r] = prof.profile(li, r, s_hat)[0]
        return seen[r] - dev_min - cut

    if side == "low":
        if r_hat <= 0 or excess(0.0) <= 0:
            return 0.0
        return float(optimize.brentq(excess, 0.0, r_hat, xtol=_XTOL))
    lo, hi = r_hat, r_hat + 0.5 * (1.0 - r_hat) if r_hat > 0 else 0.05
    while excess(hi) <= 0:
        lo, hi = hi, hi + 0.5 * (1.0 - hi)
        if hi > 1 - 1e-9:
            return 1.0
    return float(optimize.brentq(excess, lo, hi, xtol=_XTOL))


def icc(data: pd.DataFrame, outcome: str, clusters: str | Sequence[str], *,
        fixed: str | Sequence[str] | None = None, ci: float = 0.95,
        reml: bool = True) -> pd.DataFrame:
    """ICC of an outcome at each cluster level, with a profile-likelihood CI.

    Fits ``lmer(outcome ~ fixed + (1 | g1/g2/...))`` by REML
    (:func:`analysis.mixed.random_intercepts`) and, for each level, the interval of
    ICC values not rejected by a likelihood-ratio test at ``1 - ci`` (profile
    likelihood; see the module notes).

    Parameters
    ----------
    data : DataFrame
        One row per person (one wave).
    outcome : str
        Numeric outcome column.
    clusters : str or sequence of str
        Cluster columns, outermost first; inner levels are nested in outer ones.
    fixed : str or sequence of str, optional
        Fixed effects to condition on (``"arm"`` at endline of a trial); a patsy
        right-hand side or a list of columns. ``None``: the unconditional ICC.
    ci : float
        Level of the interval.
    reml : bool
        REML (default) or ML.

    Returns
    -------
    DataFrame
        One row per cluster level, outermost first (:data:`COLUMNS`): ``outcome,
        level, n_groups, n_obs, variance`` (tau_l), ``icc`` (its share of the
        total variance), ``ci_low, ci_high`` (profile interval), ``ci_method``
        (``"profile"``), ``conditioned_on`` (the fixed effects, ``""`` for none),
        ``singular`` (some variance is exactly 0). An inner level with one cluster
        per outer cluster is not identified: its row holds NaN.
        ``attrs["residual_variance"]`` holds sigma^2.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> school = np.repeat(np.arange(12), 20)
    >>> d = pd.DataFrame({"y": rng.normal(0, 1, 240), "school": school})  # no clustering
    >>> t = icc(d, "y", "school")
    >>> float(t["ci_low"].iloc[0]), bool(t["ci_high"].iloc[0] < 0.2)
    (0.0, True)
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    groups = [clusters] if isinstance(clusters, str) else list(clusters)
    fit = mixed.random_intercepts(data, outcome, groups, fixed=fixed, reml=reml, ddf="normal")
    kept = [g for g in groups if g not in fit.dropped_levels]
    prof = _Profile(data, outcome, kept, fixed, reml)
    vc = fit.variance_components.set_index("level")
    s_hat = vc.loc[kept, "icc"].to_numpy(float)
    dev_min = prof.deviance_shares(s_hat)
    cut = float(stats.chi2.ppf(ci, 1))
    if isinstance(fixed, str):
        cond = fixed.strip()
    else:
        cond = " + ".join(fixed) if fixed else ""
    rows = []
    for g in groups:
        base = {"outcome": outcome, "level": g, "n_groups": int(fit.n_groups[g]),
                "n_obs": int(fit.n_obs), "variance": float(vc.loc[g, "variance"]),
                "icc": float(vc.loc[g, "icc"]), "ci_method": "profile",
                "conditioned_on": cond, "singular": bool(fit.singular)}
        if g not in kept:
            rows.append({**base, "ci_low": np.nan, "ci_high": np.nan})
            continue
        li = kept.index(g)
        r_hat = float(s_hat[li])
        seen: dict = {}
        lo = _bound(prof, li, r_hat, dev_min, cut, s_hat, "low", seen)
        hi = _bound(prof, li, r_hat, dev_min, cut, s_hat, "high", seen)
        rows.append({**base, "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs["residual_variance"] = float(fit.residual_variance)
    return out

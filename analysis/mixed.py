"""Linear mixed models with random intercepts for nested cluster levels, by REML.

The model is ``y = X beta + u_1 + ... + u_L + e`` with one random intercept for
each cluster level (students in classes in schools), ``u_l ~ N(0, tau_l)``
independent across clusters and levels, and ``e ~ N(0, sigma^2)``; it is
``lme4::lmer(y ~ x + (1 | school/class))`` and is tested against lme4 to 1e-4
(relative) on ``mlmRev::Hsb82`` and ``mlmRev::egsingle``.

Why this module does not use ``statsmodels.MixedLM``
----------------------------------------------------
statsmodels fits the general model (any random-effects design, by per-group
dense linear algebra in Python loops and many gradient evaluations); nested
levels go through ``vc_formula``, which builds one dense block per top-level
cluster. For the special case here the restricted likelihood has a closed
form. Writing ``V = sigma^2 H`` with ``H = I + sum_l theta_l Z_l Z_l'``, the
inverse of ``H`` within one top-level cluster follows from one
Sherman-Morrison update per cluster and level, working from the innermost level
outwards: for a unit with children ``c``,

    Q   = sum_c Q_c - theta/(1 + theta S) W W',   W = sum_c w_c, S = sum_c s_c
    w   = W / (1 + theta S),   s = S / (1 + theta S),
    log|H| += log(1 + theta S),

where ``Q = [X y]' H^-1 [X y]``, ``w = 1' H^-1 [X y]`` and ``s = 1' H^-1 1``
(at the observation level ``Q = z z'``, ``w = z``, ``s = 1``). After one pass
over the data (the cross-products and per-cluster sums), each evaluation of the
profiled REML deviance costs O(clusters x p^2), independent of the number of
observations; ``beta``, ``sigma^2`` are profiled out. This is exact, not an
approximation, and fits 100,000 students in a fraction of a second where
MixedLM takes minutes (see ``bench/analysis_reliability_mixed.py``).

The optimization and the variance boundary
------------------------------------------
The parameters optimized are the variance ratios ``theta_l = tau_l / sigma^2 >= 0``.
lme4 optimizes the relative standard deviations ``sqrt(theta_l)`` with BOBYQA;
the deviance depends on them only through their squares, so on that scale its
slope at 0 is always 0 and a gradient method (this module used L-BFGS-B on it
until issue 9) can stop at a variance of 0 and report success although lme4
finds a positive variance. On the ratio scale the slope at 0 is the derivative
in the variance, which is negative when the optimum is interior. The deviance
is minimized by projected Newton steps (finite-difference gradient and
Hessian; at most a handful of parameters) on every face of the orthant: with
all components free, and with each subset of them held at exactly 0. The best
point over the faces is the estimate, so a variance is 0 only where 0 has the
lowest deviance, as lme4's singular fits. ``converged`` is a check of the
optimum, not the optimizer's message: no move of the ratios lowers the
deviance by more than 1e-7 to second order (components at 0 must have a
slope pointing into the orthant). Against ``lme4::lmer`` the log-likelihood
is at least lme4's to 1e-6, and the estimates agree to 1e-4, on
``mlmRev::Chem97`` (three levels), 60 simulated small-ICC sets and the cases
above (``tests/fixtures/r/mixed*.R``).

Inference on fixed effects: Satterthwaite df
--------------------------------------------
By default (``ddf="satterthwaite"``) each fixed effect gets a t test with
Satterthwaite denominator degrees of freedom, as ``summary(lmerTest::lmer(...))``
(``ddf = "Satterthwaite"``, Kuznetsova, Brockhoff & Christensen 2017), for REML
and ML fits; ``ddf="normal"`` gives the Wald z (``df = inf``). With few
clusters the normal reference is anti-conservative (10 clusters: 9% type-I
error at a nominal 5%); with Satterthwaite df it keeps its level
(``tests/test_mixed_satterthwaite.py``).

The computation follows lmerTest in its own parameterization, the vector
``psi = (theta_1, ..., theta_L, sigma)`` of relative standard deviations
``theta_l = sqrt(tau_l) / sigma`` (lme4's ``theta``) and the residual SD. For
coefficient ``k`` with ``v_k(psi) = var(beta_hat_k) = sigma^2 M_kk(theta)``,
``M = (X' H^-1 X)^-1``,

    df_k = 2 v_k^2 / (g_k' A g_k),   g_k = d v_k / d psi,   A = 2 D''(psi)^+ ,

where ``D(psi)`` is the (RE)ML deviance with sigma not profiled out,

    D = log|H| + log|X' H^-1 X| + r(theta) / sigma^2 + (n - p) log(2 pi sigma^2)

(ML: without ``log|X' H^-1 X|`` and with ``n``), ``r`` the weighted residual
sum of squares ``(y - X beta_hat)' H^-1 (y - X beta_hat)``, and ``A`` is the
asymptotic covariance of ``psi_hat`` (twice the inverse Hessian of a -2 log
likelihood). ``H`` depends on ``theta`` only through ``phi = theta^2``, and the
parts in ``sigma`` are exact:

    d v_k / d sigma = 2 sigma M_kk,        d2D / d sigma2 = 6 r / sigma^4 - 2 (n - p) / sigma^2,
    d2D / d theta_l d sigma = -2 (dr / d theta_l) / sigma^3,
    d2D / d theta_l d theta_m = d2(log|H| + log|X'H^-1X|) + d2 r / sigma^2.

The derivatives in ``theta`` of ``log|H|``, ``log|X'H^-1X|``, ``r`` and ``M``
(at most three ``theta``) are central differences of the exact closed form,
step ``0.1 theta`` (``1e-4`` at ``theta = 0``), refined by four rounds of
Richardson extrapolation, as ``numDeriv`` does for lmerTest. As in lmerTest the
Hessian is inverted through its eigenvalues above ``1e-8`` (Moore-Penrose).
At a boundary ``theta_l = 0`` (a singular fit) the deviance and ``M`` are even
in ``theta_l``, so ``d v_k / d theta_l = 0`` and the Hessian has no cross terms
with ``theta_l``: that variance contributes nothing to the df, which then come
from the other parameters -- what lmerTest reports for a singular fit.
Against lmerTest 3.1 the df agree to 1e-4 relative
(``tests/fixtures/r/mixed_satterthwaite.R``).
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import sparse, stats

__all__ = ["MixedFit", "random_intercepts"]

# the ufuncs behind ndarray.sum, np.log and np.add.reduceat, looked up once (the deviance
# of the ICC profile is evaluated thousands of times on arrays of a few dozen values)
_sum, _log, _sum_at = np.add.reduce, np.log, np.add.reduceat


@dataclass
class MixedFit:
    """Result of :func:`random_intercepts`.

    Attributes
    ----------
    fixed_effects : DataFrame
        One row per fixed-effect term: ``term`` (patsy name, e.g. ``Intercept``,
        ``sector[T.Catholic]``), ``estimate``, ``std_error`` (from
        ``sigma^2 (X' H^-1 X)^-1``, as ``vcov()`` in lme4), ``df`` (Satterthwaite, as
        lmerTest; ``inf`` with ``ddf="normal"``), ``statistic`` (t, or z when ``df`` is
        ``inf``), ``ci_low``, ``ci_high`` (t with ``df``), ``p_value`` (two-sided).
    variance_components : DataFrame
        One row per cluster level, outermost first, then ``residual``:
        ``level`` (the cluster column, or ``"residual"``), ``n_groups`` (clusters
        at that level; observations for the residual), ``variance`` and ``icc``
        (the level's share of the total variance, variance / sum of all
        variances; for the residual row its share too).
    residual_variance : float
        sigma^2.
    n_obs : int
        Observations used (rows with outcome, fixed-effect variables and all
        cluster columns present).
    n_groups : dict
        Clusters per level (inner levels counted within their outer clusters,
        as lme4's ``(1 | school/class)``).
    converged : bool
        The estimate is an optimum: no change of the variance ratios lowers the
        deviance by more than 1e-7 to second order (checked on the estimate,
        not taken from the optimizer), and no face of the boundary (a subset of
        the variances set to 0) has a lower deviance.
    loglik : float
        Maximized log-likelihood: REML (as ``logLik`` of a REML ``lmer`` fit) or ML.
    reml : bool
    cov_params : DataFrame
        Covariance matrix of the fixed-effect estimates.
    outcome : str
    groups : tuple of str
    singular : bool
        Some cluster-level variance is exactly 0 (the estimate is on the
        boundary), as ``lme4::isSingular``.
    dropped_levels : tuple of str
        Inner cluster levels that coincide with the level above them (one class per
        school): their variance is not identified apart from the outer level's, so
        the model is fitted without them and their ``variance_components`` rows hold
        NaN (the outer level's variance includes theirs).
    ddf : str
        ``"satterthwaite"`` or ``"normal"``: the reference distribution of the
        fixed-effect tests.
    vcov_varpar : DataFrame or None
        With Satterthwaite df: the asymptotic covariance of the variance parameters
        ``(theta_1, ..., theta_L, sigma)`` (relative SDs outermost first, then the
        residual SD), ``2 D''^+`` as lmerTest's ``vcov_varpar``.
    """

    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    residual_variance: float
    n_obs: int
    n_groups: dict
    converged: bool
    loglik: float
    reml: bool
    cov_params: pd.DataFrame
    outcome: str
    groups: tuple = field(default_factory=tuple)
    singular: bool = False
    dropped_levels: tuple = field(default_factory=tuple)
    ddf: str = "satterthwaite"
    vcov_varpar: pd.DataFrame | None = None


def _quote(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and not keyword.iskeyword(name):
        return name
    return "Q(" + repr(name) + ")"


def _design(data: pd.DataFrame, outcome: str, groups: list[str], fixed):
    if fixed is None:
        rhs = "1"
    elif isinstance(fixed, str):
        rhs = fixed.strip() or "1"
    else:
        cols = list(fixed)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise ValueError(f"fixed-effect columns not in data: {missing}")
        rhs = " + ".join(_quote(c) for c in cols) or "1"
    if not pd.api.types.is_numeric_dtype(data[outcome]):
        raise ValueError(f"outcome {outcome!r} must be numeric, got dtype {data[outcome].dtype}")
    keep = ~pd.isna(data[outcome].to_numpy())
    for g in groups:
        keep &= ~pd.isna(data[g].to_numpy())
    if fixed is None or (not isinstance(fixed, str) and not list(fixed)):
        # intercept only: the design patsy would build for "y ~ 1", without patsy's cost
        y = data[outcome].to_numpy(dtype=float, na_value=np.nan)[keep]
        d = {c: data[c].to_numpy()[keep] for c in groups}
        return y, pd.DataFrame({"Intercept": np.ones(len(y))}), d
    if not isinstance(fixed, str):
        cols = list(fixed)
        plain = (len(set(cols)) == len(cols) and outcome not in cols
                 and all(_quote(c) == c and data[c].dtype.kind in "fiu" for c in cols))
        if plain:  # numeric columns: the design patsy would build, without patsy's cost
            num = data[cols].to_numpy(float)
            keep &= ~np.isnan(num).any(axis=1)
            d = {c: data[c].to_numpy()[keep] for c in [outcome, *groups]}
            x = pd.DataFrame(np.column_stack([np.ones(int(keep.sum())), num[keep]]),
                             columns=["Intercept", *cols])
            return d[outcome].astype(float), x, d
        text = _text_design(data, outcome, groups, cols, keep)
        if text is not None:
            return text
    d = data.loc[keep].reset_index(drop=True)
    try:
        y, x = patsy.dmatrices(
            f"{_quote(outcome)} ~ {rhs}", d, return_type="dataframe", NA_action="drop"
        )
    except patsy.PatsyError as exc:
        raise ValueError(f"cannot build the fixed-effect design from {rhs!r}: {exc}") from None
    d = d.loc[y.index]
    return y.iloc[:, 0].to_numpy(float), x, d


def _text_design(data: pd.DataFrame, outcome: str, groups: list[str], cols: list[str],
                 keep: np.ndarray):
    """The design patsy builds for ``y ~ a + b`` when every column is numeric or holds
    text only, without patsy's cost: the intercept, then each text column's treatment
    coding (one ``a[T.level]`` column per level after the first in sorted order), then
    the numeric columns (patsy puts the terms without a numeric factor first), each
    group in the order given; rows with a missing value left out. ``None`` for anything
    else (patsy then builds it)."""
    if len(set(cols)) != len(cols) or outcome in cols or any(_quote(c) != c for c in cols):
        return None
    keep = keep.copy()
    parts, numeric = [], []
    for c in cols:
        s = data[c]
        if s.dtype.kind in "fiu":
            v = s.to_numpy(float)
            keep &= ~np.isnan(v)
            numeric.append((c, v))
        elif s.dtype.kind in "OTU" or isinstance(s.dtype, pd.StringDtype):
            v = s.to_numpy(dtype=object)
            na = pd.isna(v)
            if not all(isinstance(x, str) for x in v[~na]):
                return None
            keep &= ~na
            parts.append((c, v))
        else:
            return None
    names, columns = ["Intercept"], [np.ones(int(keep.sum()))]
    for c, v in parts:
        v = v[keep]
        for lv in sorted(set(v))[1:]:
            names.append(f"{c}[T.{lv}]")
            columns.append((v == lv).astype(float))
    for c, v in numeric:
        names.append(c)
        columns.append(v[keep])
    d = {c: data[c].to_numpy()[keep] for c in groups}
    y = data[outcome].to_numpy(dtype=float, na_value=np.nan)[keep]
    return y, pd.DataFrame(np.column_stack(columns), columns=names), d


def _codes(d, groups: list[str]) -> list[np.ndarray]:
    """Integer codes per level (``d``: DataFrame or dict of columns); inner levels
    are coded within outer ones."""
    out, prev = [], np.zeros(len(d[groups[0]]), dtype=np.int64)
    for g in groups:
        raw, uniq = pd.factorize(np.asarray(d[g]))
        # labels are compared as text (1 and "1" are one cluster), sorted as text
        cur = pd.factorize(np.array([str(u) for u in uniq], dtype=object), sort=True)[0][raw]
        cur = cur.astype(np.int64)
        # lexicographic in (outer code, inner label), as groupby(sort=True) on the labels
        prev = np.unique(prev * (int(cur.max()) + 1) + cur, return_inverse=True)[1].astype(np.int64)
        out.append(prev.ravel())
    return out


class _NestedREML:
    """Profiled (RE)ML deviance of nested random intercepts; see the module notes."""

    def __init__(self, y: np.ndarray, x: np.ndarray, codes: list[np.ndarray], reml: bool):
        n, p = x.shape
        self.n, self.p, self.reml = n, p, reml
        z = np.column_stack([x, y])
        self.ztz = z.T @ z
        # units of the innermost level and, for each level above, the parent of each unit
        inner = codes[-1]
        g = int(inner.max()) + 1
        ind = sparse.csr_matrix((np.ones(n), (inner, np.arange(n))), shape=(g, n))
        self.w0 = np.asarray(ind @ z)
        self.s0 = np.asarray(ind.sum(axis=1)).ravel()
        self.parents = []  # parents[j]: first child of each unit at level L-2-j
        for lev in range(len(codes) - 2, -1, -1):
            child = codes[lev + 1]
            parent = np.zeros(int(child.max()) + 1, dtype=np.int64)
            parent[child] = codes[lev]
            # _codes numbers units lexicographically (outer, inner), so the children
            # of a parent are contiguous and parents run 0, 1, 2, ...: sums over
            # children are one reduceat
            steps = np.diff(parent)
            assert parent[0] == 0 and np.all((steps == 0) | (steps == 1))
            self.parents.append(np.flatnonzero(np.r_[True, steps != 0]))

    def parts(self, phi: np.ndarray):
        """Cholesky factor of Q and log|H| at variance ratios phi (outermost first)."""
        q, logdet = self._q(np.asarray(phi, float))
        return np.linalg.cholesky(q), logdet

    def _q(self, theta: np.ndarray):
        """``Q`` and ``log|H|`` at variance ratios ``theta`` (float64, outermost first).

        Called thousands of times by the ICC profile: a few small arrays per level, no
        more numpy calls than the update needs.
        """
        q = self.ztz.copy()
        w, s = self.w0, self.s0
        logdet = 0.0
        last = len(theta) - 1
        parents = self.parents
        for j in range(last + 1):
            th = float(theta[last - j])
            if th != 0.0:
                den = 1.0 + th * s
                q -= (w * (th / den)[:, None]).T @ w
                logdet += float(_sum(_log(den)))
                if j < last:  # the outermost level's w and s are not used again
                    w, s = w / den[:, None], s / den
            if j < last:
                starts = parents[j]
                w = _sum_at(w, starts, axis=0)
                s = _sum_at(s, starts)
        return q, logdet

    def deviance(self, phi) -> float:
        """Profiled -2 log-likelihood (REML or ML) at variance ratios ``phi >= 0``."""
        theta = np.asarray(phi, float)
        if (theta < 0).any():
            return np.inf
        return self._deviance(theta)

    def _deviance(self, theta: np.ndarray) -> float:
        """:meth:`deviance` at float64 ratios known to be ``>= 0``."""
        q, logdet = self._q(theta)
        try:
            chol = np.linalg.cholesky(q)
        except np.linalg.LinAlgError:
            return np.inf
        n, p = self.n, self.p
        rss = chol[p, p] ** 2
        if not rss > 0:
            return np.inf
        if self.reml:
            logdet_a = 2.0 * float(_sum(_log(chol.diagonal()[:p])))
            return logdet + logdet_a + (n - p) * (1.0 + _log(2.0 * np.pi * rss / (n - p)))
        return logdet + n * (1.0 + _log(2.0 * np.pi * rss / n))


def _steps(phi: np.ndarray) -> np.ndarray:
    """Finite-difference steps: relative to the variance ratio, at least 1e-7."""
    return 1e-5 * np.maximum(phi, 1e-2)


def _grad_hess(fun, phi: np.ndarray, free: np.ndarray, f0: float | None = None):
    """Deviance, gradient and Hessian in the free coordinates, by finite differences.

    Central differences inside the orthant; at (or within a step of) ``phi_i = 0``
    one-sided second-order differences into ``phi_i > 0``. On the variance-ratio
    scale the slope at 0 is the derivative in the variance, which is not 0 when
    the optimum is interior (on lme4's scale, the relative SD, it is always 0).
    """
    idx = np.flatnonzero(free)
    h = _steps(phi)
    if f0 is None:
        f0 = fun(phi)

    def at(moves):
        x = phi.copy()
        for i, d in moves:
            x[i] += d
        return fun(x)

    inside = {i: phi[i] >= h[i] for i in idx}
    g, hess = np.zeros(len(idx)), np.zeros((len(idx), len(idx)))
    for a, i in enumerate(idx):
        if inside[i]:
            fp, fm = at([(i, h[i])]), at([(i, -h[i])])
            g[a] = (fp - fm) / (2 * h[i])
            hess[a, a] = (fp - 2 * f0 + fm) / h[i] ** 2
        else:
            f1, f2, f3 = (at([(i, r * h[i])]) for r in (1, 2, 3))
            g[a] = (-3 * f0 + 4 * f1 - f2) / (2 * h[i])
            hess[a, a] = (2 * f0 - 5 * f1 + 4 * f2 - f3) / h[i] ** 2
    for a, b in itertools.combinations(range(len(idx)), 2):
        i, j = idx[a], idx[b]
        if inside[i] and inside[j]:
            hij = (
                at([(i, h[i]), (j, h[j])]) - at([(i, h[i]), (j, -h[j])])
                - at([(i, -h[i]), (j, h[j])]) + at([(i, -h[i]), (j, -h[j])])
            ) / (4 * h[i] * h[j])
        else:  # forward differences next to a bound
            hij = (
                at([(i, h[i]), (j, h[j])]) - at([(i, h[i])]) - at([(j, h[j])]) + f0
            ) / (h[i] * h[j])
        hess[a, b] = hess[b, a] = hij
    return f0, g, hess


def _newton(fun, phi: np.ndarray, free: np.ndarray, maxiter: int = 200):
    """Minimize ``fun`` over ``phi >= 0`` in the free coordinates (the others stay 0).

    Projected Newton: coordinates at 0 whose slope points out of the orthant are
    held there; the others take a Newton step (Levenberg-damped where the Hessian
    is not positive definite) with a backtracking line search, projected onto
    ``phi >= 0``. Stops when the predicted decrease is at the rounding level of
    the deviance.
    """
    phi = np.where(free, np.maximum(phi, 0.0), 0.0)
    idx = np.flatnonzero(free)
    f0 = fun(phi)
    if not idx.size or not np.isfinite(f0):
        return phi, f0
    for _ in range(maxiter):
        f0, g, hess = _grad_hess(fun, phi, free, f0)
        move = ~((phi[idx] == 0.0) & (g >= 0))
        if not move.any():
            break
        gm, hm = g[move], hess[np.ix_(move, move)]
        ev = np.linalg.eigvalsh(hm)
        scale = max(np.abs(ev).max(), 1e-12)
        if ev.min() <= 1e-10 * scale:
            hm = hm + (1e-3 * scale - ev.min()) * np.eye(len(gm))
        d = -np.linalg.solve(hm, gm)
        pred = -0.5 * float(gm @ d)
        if pred < max(1e-14, 1e-15 * abs(f0)):
            break
        lam, accepted = 1.0, False
        for _ in range(60):
            x = phi.copy()
            x[idx[move]] = np.maximum(phi[idx[move]] + lam * d, 0.0)
            fx = fun(x)
            if fx < f0:
                accepted = True
                break
            lam /= 2.0
        if not accepted:
            break
        phi, f0 = x, fx
    return phi, f0


def _kkt(fun, phi: np.ndarray, tol: float = 1e-7) -> bool:
    """No move of the variance ratios lowers the deviance by more than ``tol``
    to second order: components at 0 have a slope into ``phi >= 0`` that is
    non-negative, and the Newton decrease of the others, ``g' H^-1 g / 2``, is
    below ``tol`` with ``H`` positive definite."""
    f0, g, hess = _grad_hess(fun, phi, np.ones(len(phi), bool))
    if not np.isfinite(f0) or not np.all(np.isfinite(g)):
        return False
    move = ~((phi == 0.0) & (g >= 0))
    if not move.any():
        return True
    gm, hm = g[move], hess[np.ix_(move, move)]
    ev = np.linalg.eigvalsh(hm)
    if ev.min() <= 0:
        return False
    return 0.5 * float(gm @ np.linalg.solve(hm, gm)) < tol


def _optimize(fun, nl: int, start: np.ndarray):
    """Minimize the profiled deviance over variance ratios ``phi >= 0``.

    Every face of the orthant (each subset of the components held at 0, the
    face with all components free first) is searched by projected Newton,
    from the best point so far projected onto the face where that is positive
    on the face, else from ``start``; the best point over all faces is
    returned. A variance is therefore 0 only where 0 gives the lowest deviance
    found, and an interior optimum is not mistaken for the boundary (the slope
    at 0 is not 0 on this scale).
    """
    best_phi, best_f = None, np.inf
    faces = sorted(
        (np.array([(m >> i) & 1 for i in range(nl)], bool) for m in range(2**nl)),
        key=lambda fr: -int(fr.sum()),
    )
    for free in faces:
        x0 = np.where(free, start, 0.0)
        if best_phi is not None and (best_phi[free] > 0).all():
            x0 = np.where(free, best_phi, 0.0)
        phi, f = _newton(fun, x0, free)
        if f < best_f:
            best_phi, best_f = phi, f
    return best_phi, best_f


# ---- Satterthwaite df (lmerTest); see the module notes ----

_ZERO_TOL = np.sqrt(np.finfo(float).eps / 7e-7)  # numDeriv's zero.tol


def _richardson(values: list) -> np.ndarray:
    """Richardson extrapolation of central differences at steps h0 / 2^k
    (error in even powers of the step)."""
    t = [np.asarray(v, float) for v in values]
    for m in range(1, len(t)):
        f = 4.0**m
        t = [(f * t[k + 1] - t[k]) / (f - 1.0) for k in range(len(t) - 1)]
    return t[0]


def _theta_derivs(fun, theta: np.ndarray, rounds: int = 4):
    """Value, gradient and Hessian of a vector-valued ``fun(theta)``: central
    differences (step ``0.1 |theta|``, ``1e-4`` at 0, as numDeriv) refined by
    Richardson extrapolation. Returns ``f0`` (m,), ``grad`` (L, m), ``hess`` (L, L, m)."""
    nl = len(theta)
    f0 = fun(theta)
    h0 = np.where(np.abs(theta) < _ZERO_TOL, 1e-4, 0.1 * np.abs(theta))
    grad = np.zeros((nl, f0.size))
    hess = np.zeros((nl, nl, f0.size))

    def at(*moves):
        x = theta.copy()
        for i, d in moves:
            x[i] += d
        return fun(x)

    for i in range(nl):
        d1, d2 = [], []
        for k in range(rounds):
            h = h0[i] / 2.0**k
            fp, fm = at((i, h)), at((i, -h))
            d1.append((fp - fm) / (2.0 * h))
            d2.append((fp - 2.0 * f0 + fm) / h**2)
        grad[i], hess[i, i] = _richardson(d1), _richardson(d2)
    for i, j in itertools.combinations(range(nl), 2):
        dij = []
        for k in range(rounds):
            hi, hj = h0[i] / 2.0**k, h0[j] / 2.0**k
            dij.append((at((i, hi), (j, hj)) - at((i, hi), (j, -hj)) - at((i, -hi), (j, hj))
                        + at((i, -hi), (j, -hj))) / (4.0 * hi * hj))
        hess[i, j] = hess[j, i] = _richardson(dij)
    return f0, grad, hess


def _satterthwaite(model: _NestedREML, phi: np.ndarray, sigma2: float, tmat: np.ndarray,
                   tol: float = 1e-8):
    """Satterthwaite df of each fixed effect and ``vcov_varpar``, as lmerTest
    (``as_lmerModLT`` and ``contest1D``); the derivation is in the module notes."""
    p, nl = model.p, len(phi)
    m_obs = model.n - p if model.reml else model.n

    def parts(theta):
        chol, logdet = model.parts(theta**2)
        lx = chol[:p, :p]
        a = logdet + (2.0 * float(np.log(np.diag(lx)).sum()) if model.reml else 0.0)
        linv = np.linalg.inv(lx)
        m = tmat @ (linv.T @ linv) @ tmat.T
        return np.concatenate([[a, chol[p, p] ** 2], m.ravel()])

    theta = np.sqrt(phi)
    s = np.sqrt(sigma2)
    f0, grad, hess = _theta_derivs(parts, theta)
    r = f0[1]
    h = np.zeros((nl + 1, nl + 1))
    h[:nl, :nl] = hess[:, :, 0] + hess[:, :, 1] / sigma2
    h[:nl, nl] = h[nl, :nl] = -2.0 * grad[:, 1] / s**3
    h[nl, nl] = 6.0 * r / s**4 - 2.0 * m_obs / sigma2
    ev, vec = np.linalg.eigh(h)
    pos = ev > tol
    a_cov = 2.0 * (vec[:, pos] / ev[pos]) @ vec[:, pos].T
    mdiag = f0[2:].reshape(p, p).diagonal()
    v = sigma2 * mdiag
    g = np.vstack([sigma2 * grad[:, 2:].reshape(nl, p, p).diagonal(axis1=1, axis2=2),
                   2.0 * s * mdiag])  # (nl + 1, p): d var(beta_k) / d psi
    denom = np.einsum("ik,ij,jk->k", g, a_cov, g)
    with np.errstate(divide="ignore"):
        df = np.where(denom > 0, 2.0 * v**2 / np.where(denom > 0, denom, 1.0), np.inf)
    return df, a_cov


def random_intercepts(
    data: pd.DataFrame,
    outcome: str,
    groups: str | Sequence[str],
    *,
    fixed: str | Sequence[str] | None = None,
    reml: bool = True,
    ci: float = 0.95,
    ddf: str = "satterthwaite",
) -> MixedFit:
    """Fit a linear mixed model with a random intercept at each nested cluster level.

    Equivalent to ``lme4::lmer(outcome ~ fixed + (1 | g1/g2/...), REML = reml)``.
    Exact profiled REML (or ML) by a dedicated algorithm for nested random
    intercepts (see the module notes for why not ``statsmodels.MixedLM``).

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    outcome : str
        Numeric outcome column.
    groups : str or sequence of str
        Cluster columns, outermost first (``["school", "class"]``). Inner levels
        are taken within outer ones (class "1" of school A and class "1" of
        school B are different classes), as ``(1 | school/class)`` in lme4.
    fixed : str or sequence of str, optional
        Fixed effects besides the intercept: a patsy right-hand side
        (``"arm + baseline + C(block)"``) or a list of columns (text columns
        become treatment-coded factors). ``None``: intercept only
        (the unconditional model).
    reml : bool
        REML (default) or maximum likelihood.
    ci : float
        Level of the confidence intervals.
    ddf : {"satterthwaite", "normal"}
        Reference distribution of the fixed-effect tests and intervals:
        t with Satterthwaite df, as ``summary(lmerTest::lmer(...))`` (default; see
        the module notes), or the normal (Wald z, ``df = inf``).

    Returns
    -------
    MixedFit
        See :class:`MixedFit` for the tidy ``fixed_effects`` and
        ``variance_components`` tables and the other attributes. Rows with a
        missing outcome, fixed-effect variable or cluster are dropped.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.mixed import random_intercepts
    >>> rng = np.random.default_rng(3)
    >>> school = np.repeat(np.arange(40), 25)
    >>> y = 10 + rng.normal(0, 1, 40)[school] + rng.normal(0, 3, 1000)
    >>> fit = random_intercepts(pd.DataFrame({"y": y, "school": school}), "y", "school")
    >>> fit.variance_components["level"].tolist()
    ['school', 'residual']
    >>> fit.fixed_effects.columns.tolist()
    ['term', 'estimate', 'std_error', 'df', 'statistic', 'ci_low', 'ci_high', 'p_value']
    >>> bool(abs(fit.fixed_effects["estimate"].iloc[0] - 10) < 0.6)
    True
    >>> fit.converged, fit.singular
    (True, False)
    >>> round(float(fit.fixed_effects["df"].iloc[0]), 1)  # Satterthwaite: about J - 1
    39.0
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    groups = [groups] if isinstance(groups, str) else list(groups)
    if not groups:
        raise ValueError("give at least one cluster column in groups")
    for c in [outcome, *groups]:
        if c not in data.columns:
            raise ValueError(f"column {c!r} not in data")
    if len(set(groups)) != len(groups) or outcome in groups:
        raise ValueError("groups must be distinct columns other than the outcome")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    if ddf not in ("satterthwaite", "normal"):
        raise ValueError(f"ddf must be 'satterthwaite' or 'normal', got {ddf!r}")

    y, xdf, d = _design(data, outcome, groups, fixed)
    n, p = xdf.shape
    if n <= p + 1:
        raise ValueError(f"too few observations ({n}) for {p} fixed effects")
    x = xdf.to_numpy(float)
    if np.linalg.matrix_rank(x) < p:
        raise ValueError("the fixed-effect design is rank deficient (collinear terms)")
    codes = _codes(d, groups)
    n_groups = {g: int(c.max()) + 1 for g, c in zip(groups, codes)}
    for g, k in n_groups.items():
        if k < 2 or k >= n:
            raise ValueError(
                f"cluster level {g!r} has {k} clusters for {n} observations; "
                "need at least 2 and fewer than the observations"
            )
    redundant = [inner for outer, inner in zip(groups, groups[1:])
                 if n_groups[inner] == n_groups[outer]]
    if redundant:
        # one class per school: the inner level is the outer one again, and the two
        # variances are not identified apart; fit without it and say so in the result
        kept = [g for g in groups if g not in redundant]
        fit = random_intercepts(data, outcome, kept, fixed=fixed, reml=reml, ci=ci, ddf=ddf)
        vc = fit.variance_components
        rows = []
        for g in groups:
            if g in redundant:
                rows.append(pd.DataFrame({"level": [g], "n_groups": [n_groups[g]],
                                          "variance": [np.nan], "icc": [np.nan]}))
            else:
                rows.append(vc[vc["level"] == g])
        rows.append(vc[vc["level"] == "residual"])
        fit.variance_components = pd.concat(rows, ignore_index=True)
        fit.n_groups = {g: n_groups[g] for g in groups}
        fit.groups = tuple(groups)
        fit.dropped_levels = tuple(redundant)
        return fit

    # centre y and the non-constant columns when there is an intercept (exact
    # reparameterization, better conditioned); undone below
    names = list(xdf.columns)
    const = np.all(x == x[0], axis=0)
    has_icpt = bool(const.any())
    shift = np.where(const, 0.0, x.mean(axis=0)) if has_icpt else np.zeros(p)
    ymean = y.mean() if has_icpt else 0.0
    xc = x - shift
    yc = y - ymean

    model = _NestedREML(yc, xc, codes, reml)
    nl = len(groups)
    # variance ratios tau_l / sigma^2; lme4 starts at relative SD 1 (ratio 1)
    phi, dev = _optimize(model.deviance, nl, np.ones(nl))
    converged = bool(np.isfinite(dev)) and _kkt(model.deviance, phi)

    chol, _ = model.parts(phi)
    lx = chol[:p, :p]
    beta_c = np.linalg.solve(lx.T, chol[p, :p])
    rss = chol[p, p] ** 2
    sigma2 = rss / (n - p) if reml else rss / n
    linv = np.linalg.inv(lx)
    cov_c = sigma2 * (linv.T @ linv)
    # back-transform to the uncentred parameterization
    tmat = np.eye(p)
    if has_icpt:
        i0 = int(np.flatnonzero(const)[0])
        tmat[i0, :] -= shift / x[0, i0]
        tmat[i0, i0] = 1.0
        beta = tmat @ beta_c
        beta[i0] += ymean / x[0, i0]
    else:
        beta = beta_c
    cov = tmat @ cov_c @ tmat.T
    se = np.sqrt(np.diag(cov))
    vcov_varpar = None
    if ddf == "satterthwaite":
        df, a_cov = _satterthwaite(model, phi, sigma2, tmat)
        vnames = [*(f"theta_{g}" for g in groups), "sigma"]
        vcov_varpar = pd.DataFrame(a_cov, index=vnames, columns=vnames)
    else:
        df = np.full(p, np.inf)
    finite = np.isfinite(df)
    crit = np.where(finite, stats.t.ppf(0.5 + ci / 2.0, np.where(finite, df, 1.0)),
                    stats.norm.ppf(0.5 + ci / 2.0))
    tstat = beta / se
    pval = np.where(finite, 2.0 * stats.t.sf(np.abs(tstat), np.where(finite, df, 1.0)),
                    2.0 * stats.norm.sf(np.abs(tstat)))
    fe = pd.DataFrame(
        {
            "term": names,
            "estimate": beta,
            "std_error": se,
            "df": df,
            "statistic": tstat,
            "ci_low": beta - crit * se,
            "ci_high": beta + crit * se,
            "p_value": pval,
        }
    )
    variances = np.append(sigma2 * phi, sigma2)
    vc = pd.DataFrame(
        {
            "level": [*groups, "residual"],
            "n_groups": [*(n_groups[g] for g in groups), n],
            "variance": variances,
            "icc": variances / variances.sum(),
        }
    )
    return MixedFit(
        fixed_effects=fe,
        variance_components=vc,
        residual_variance=float(sigma2),
        n_obs=int(n),
        n_groups=n_groups,
        converged=converged,
        loglik=float(-0.5 * dev),
        reml=reml,
        cov_params=pd.DataFrame(cov, index=names, columns=names),
        outcome=outcome,
        groups=tuple(groups),
        singular=bool((phi == 0.0).any()),
        ddf=ddf,
        vcov_varpar=vcov_varpar,
    )

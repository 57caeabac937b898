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
observations; ``beta``, ``sigma^2`` are profiled out and only the relative
standard deviations ``sqrt(theta_l) >= 0`` (lme4's parameterization, which
allows a variance of exactly zero) are optimized, by L-BFGS-B. This is exact,
not an approximation, and fits 100,000 students in seconds where MixedLM takes
minutes (see ``bench/analysis_reliability_mixed.py``).

Inference on fixed effects: Wald z (normal reference), as statsmodels reports;
``df`` is ``inf``. lme4 reports no p-values, and no Satterthwaite or
Kenward-Roger df is computed here: with few clusters, use the CR2 model of
``analysis.cluster_robust`` instead.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import optimize, sparse, stats

__all__ = ["MixedFit", "random_intercepts"]


@dataclass
class MixedFit:
    """Result of :func:`random_intercepts`.

    Attributes
    ----------
    fixed_effects : DataFrame
        One row per fixed-effect term: ``term`` (patsy name, e.g. ``Intercept``,
        ``sector[T.Catholic]``), ``estimate``, ``std_error`` (from
        ``sigma^2 (X' H^-1 X)^-1``, as ``vcov()`` in lme4), ``df`` (``inf``: Wald z),
        ``statistic`` (z), ``ci_low``, ``ci_high`` (normal), ``p_value`` (two-sided).
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
        The optimizer reported convergence.
    loglik : float
        Maximized log-likelihood: REML (as ``logLik`` of a REML ``lmer`` fit) or ML.
    reml : bool
    cov_params : DataFrame
        Covariance matrix of the fixed-effect estimates.
    outcome : str
    groups : tuple of str
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
    keep = data[groups].notna().all(axis=1) & data[outcome].notna()
    d = data.loc[keep].reset_index(drop=True)
    try:
        y, x = patsy.dmatrices(
            f"{_quote(outcome)} ~ {rhs}", d, return_type="dataframe", NA_action="drop"
        )
    except patsy.PatsyError as exc:
        raise ValueError(f"cannot build the fixed-effect design from {rhs!r}: {exc}") from None
    d = d.loc[y.index]
    return y.iloc[:, 0].to_numpy(float), x, d


def _codes(d: pd.DataFrame, groups: list[str]) -> list[np.ndarray]:
    """Integer codes per level; inner levels are coded within outer ones."""
    key = d[groups].astype(str)
    return [
        key.groupby(groups[: i + 1], sort=True).ngroup().to_numpy(dtype=np.int64)
        for i in range(len(groups))
    ]


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
        self.parents = []  # parents[j]: parent code (level L-2-j) of each unit at the level below
        for lev in range(len(codes) - 2, -1, -1):
            child = codes[lev + 1]
            parent = np.zeros(int(child.max()) + 1, dtype=np.int64)
            parent[child] = codes[lev]
            self.parents.append(parent)

    def parts(self, t: np.ndarray):
        """Cholesky factor of Q and log|H| at relative SDs t (outermost first)."""
        theta = np.asarray(t, float) ** 2
        q = self.ztz.copy()
        w, s = self.w0, self.s0
        logdet = 0.0
        nl = len(theta)
        for j in range(nl):
            th = theta[nl - 1 - j]
            den = 1.0 + th * s
            c = th / den
            q -= (w * c[:, None]).T @ w
            logdet += float(np.log(den).sum())
            if j < nl - 1:
                par = self.parents[j]
                m = int(par.max()) + 1
                w = np.stack(
                    [np.bincount(par, weights=w[:, k] / den, minlength=m) for k in range(w.shape[1])],
                    axis=1,
                )
                s = np.bincount(par, weights=s / den, minlength=m)
        chol = np.linalg.cholesky(q)
        return chol, logdet

    def deviance(self, t) -> float:
        try:
            chol, logdet = self.parts(t)
        except np.linalg.LinAlgError:
            return np.inf
        n, p = self.n, self.p
        rss = chol[p, p] ** 2
        if self.reml:
            logdet_a = 2.0 * float(np.log(np.diag(chol)[:p]).sum())
            return logdet + logdet_a + (n - p) * (1.0 + np.log(2.0 * np.pi * rss / (n - p)))
        return logdet + n * (1.0 + np.log(2.0 * np.pi * rss / n))


def _stationary(fun, t: np.ndarray, tol: float = 1e-3) -> bool:
    """Projected central-difference gradient of the deviance is ~0 (L-BFGS-B may
    stop with a line-search message at the limit of floating-point precision)."""
    f0 = fun(t)
    if not np.isfinite(f0):
        return False
    for i in range(len(t)):
        h = 1e-5 * max(1.0, abs(t[i]))
        up, dn = t.copy(), t.copy()
        up[i] += h
        dn[i] = max(t[i] - h, 0.0)
        g = (fun(up) - fun(dn)) / (up[i] - dn[i])
        if t[i] == 0.0 and g >= 0:  # at the bound, a non-negative slope is optimal
            continue
        if abs(g) > tol:
            return False
    return True


def random_intercepts(
    data: pd.DataFrame,
    outcome: str,
    groups: str | Sequence[str],
    *,
    fixed: str | Sequence[str] | None = None,
    reml: bool = True,
    ci: float = 0.95,
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
        Level of the Wald confidence intervals.

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
    for outer, inner in zip(groups, groups[1:]):
        if n_groups[inner] == n_groups[outer]:
            raise ValueError(
                f"level {inner!r} has as many clusters as {outer!r} within it: "
                "each is then one cluster, and their variances are not identified"
            )

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
    # start: lme4 starts at relative SD 1; a moment estimate is a better start
    starts = [np.ones(nl), np.full(nl, 0.3)]
    best = None
    for t0 in starts:
        res = optimize.minimize(
            model.deviance,
            t0,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * nl,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500},
        )
        if best is None or res.fun < best.fun - 1e-10:
            best = res
    t = best.x
    converged = bool(best.success) or _stationary(model.deviance, t)

    chol, _ = model.parts(t)
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
    zcrit = stats.norm.ppf(0.5 + ci / 2.0)
    zstat = beta / se
    fe = pd.DataFrame(
        {
            "term": names,
            "estimate": beta,
            "std_error": se,
            "df": np.inf,
            "statistic": zstat,
            "ci_low": beta - zcrit * se,
            "ci_high": beta + zcrit * se,
            "p_value": 2.0 * stats.norm.sf(np.abs(zstat)),
        }
    )
    variances = np.append(sigma2 * t**2, sigma2)
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
        loglik=float(-0.5 * best.fun),
        reml=reml,
        cov_params=pd.DataFrame(cov, index=names, columns=names),
        outcome=outcome,
        groups=tuple(groups),
    )

"""Heteroskedasticity- and cluster-robust standard errors for OLS with small-sample corrections.

statsmodels has HC0-HC3 and the CR1 ("Stata") cluster-robust covariance, but no
bias-reduced linearization (CR2, Bell & McCaffrey 2002) and no Satterthwaite
degrees of freedom for it. With the 10-40 schools or villages of a typical care
program trial, CR1 with J - 1 df gives confidence intervals that are too
narrow; CR2 with Bell-McCaffrey/Satterthwaite df is what Pustejovsky & Tipton
(2018) recommend and what R's ``clubSandwich::coef_test(vcov = "CR2", test =
"Satterthwaite")`` reports. This module implements it and is tested against that
package and against ``estimatr::lm_robust(se_type = "CR2")``.

Conventions (those of clubSandwich for an ``lm``/``lm(weights=)`` fit):

* Working model: independent, homoskedastic errors (``target`` = identity). For an
  unweighted fit clubSandwich sets ``inverse_var = TRUE``, which gives the same
  adjustment as below.
* Adjustment matrices ``A_j = G_j^{-1/2}`` with ``G_j = I - H_jj`` (unweighted) or
  ``G_j = I - H_jj - H_jj' + X_j M X'W^2 X M X_j'`` (weighted, ``H_jj = X_j M X_j' W_j``,
  ``M = (X'WX)^{-1}``), the symmetric inverse square root being taken as
  clubSandwich does: eigenvalues <= 1e-12 are set to 0 (a pseudo-inverse), which
  happens when a cluster is fully determined by its own regressors.
* Satterthwaite df for the linear combination ``c'b``: ``df = (tr P)^2 / ||P||_F^2``
  with ``P`` the J x J matrix of the working-model covariances of the cluster
  contributions (Bell & McCaffrey 2002, Pustejovsky & Tipton 2018, eq. 11).
  For an unweighted OLS fit estimatr's CR2 df is the same number.
* ``A_j`` is computed through a QR decomposition of the cluster's columns (the
  adjustment differs from the identity only in the column space of ``X_j``), so
  the cost is O(n p^2 + J p^3) rather than O(sum n_j^3); the result is the same.

References
----------
Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.
Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
variance estimation and hypothesis testing in fixed effects models. *Journal of
Business & Economic Statistics*, 36(4), 672-683.
Tipton, E., & Pustejovsky, J. E. (2015). Small-sample adjustments for tests of
moderators and model fit using robust variance estimation in meta-regression.
*Journal of Educational and Behavioral Statistics*, 40(6), 604-634.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CR2Design",
    "coef_test",
    "cr2_test_many",
    "hc2_test_many",
    "independent_columns",
    "vcov_cr1",
    "vcov_cr2",
    "vcov_hc2",
    "wald_test",
]

_EIG_TOL = 1e-12  # clubSandwich::matrix_power(tol = -12)


def _as_2d(X) -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        arr = X.to_numpy(dtype=float)
    else:
        arr = np.asarray(X, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        names = [f"x{i}" for i in range(arr.shape[1])]
    if arr.ndim != 2:
        raise ValueError("X must be a 2-D matrix (n x p)")
    if not np.all(np.isfinite(arr)):
        raise ValueError("X contains missing or infinite values")
    return arr, names


def independent_columns(X) -> list[int]:
    """Positions of the columns a design keeps, in order: each column is kept when it is
    linearly independent of the columns kept before it (``numpy.linalg.matrix_rank``).

    Constant dummies, a block dummy collinear with the others and duplicated columns
    add nothing to a model; this is the rule the primary ANCOVA, the response and
    propensity models apply to their columns. When the whole matrix has full column
    rank every column is kept without testing the prefixes (a subset of independent
    columns is independent; its smallest singular value is at least the matrix's), so
    the usual case costs one SVD rather than one per column.

    Parameters
    ----------
    X : array-like (n, k) or DataFrame

    Returns
    -------
    list of int

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import independent_columns
    >>> X = np.column_stack([np.ones(4), [0, 0, 0, 0], [1, 2, 3, 4], [2, 4, 6, 8], [1, 0, 0, 1]])
    >>> independent_columns(X)
    [0, 2, 4]
    """
    a = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)
    k = a.shape[1]
    if k == 0 or np.linalg.matrix_rank(a) == k:
        return list(range(k))
    chosen: list[int] = []
    for j in range(k):
        if np.linalg.matrix_rank(a[:, chosen + [j]]) == len(chosen) + 1:
            chosen.append(j)
    return chosen


def _sym_power(a: np.ndarray, p: float) -> np.ndarray:
    vals, vecs = np.linalg.eigh(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        vp = np.where(vals > _EIG_TOL, np.abs(vals) ** p, 0.0)
    return (vecs * vp) @ vecs.T


class CR2Design:
    """The CR2 adjustment for one design matrix, cluster vector and weights.

    Everything CR2 needs except the outcome depends only on ``X`` and the
    clusters, so it is computed once here and reused: for one fit
    (:func:`coef_test`) or for thousands of simulated outcomes sharing the design
    (:meth:`test_many`, the usual case of power and coverage simulations).

    Parameters
    ----------
    X : array-like (n, p)
        Full-rank design matrix (include the intercept column yourself).
    clusters : array-like (n,)
        Cluster labels (any hashable values; no missing values).
    weights : array-like (n,), optional
        Analytic weights (WLS). The working model stays homoskedastic
        independence, as in clubSandwich for ``lm(weights = )``.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import CR2Design
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(8), 5)
    >>> X = np.column_stack([np.ones(40), (g % 2 == 0).astype(float)])
    >>> d = CR2Design(X, g)
    >>> round(float(d.dof(np.array([0.0, 1.0]))[0]), 2)  # balanced: J - 2
    6.0
    """

    def __init__(self, X, clusters, *, weights=None):
        X, self.names = _as_2d(X)
        n, p = X.shape
        clusters = np.asarray(clusters)
        if clusters.shape != (n,):
            raise ValueError(f"clusters must have length n = {n}")
        if pd.isna(clusters).any():
            raise ValueError("clusters contain missing values")
        self.labels, codes = np.unique(clusters, return_inverse=True)
        J = len(self.labels)
        if J < 2:
            raise ValueError("cluster-robust variance needs at least 2 clusters")
        if weights is None:
            w = np.ones(n)
            self.weighted = False
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError("weights must be positive and finite, one per row")
            w = w / w.mean()
            self.weighted = True
        if n <= p or np.linalg.matrix_rank(X) < p:
            raise ValueError("design matrix is rank deficient (collinear or too few rows)")
        self.X, self.w, self.n, self.p, self.J = X, w, n, p, J
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes
        sizes = np.bincount(codes, minlength=J)
        self.sizes = sizes
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        WX = X * w[:, None]
        XWX = X.T @ WX
        self.M = np.linalg.inv(XWX)
        self.M = (self.M + self.M.T) / 2
        self.WX = WX
        if self.weighted:
            K = self.M @ (WX.T @ WX) @ self.M
            C = np.block([[K, -self.M], [-self.M, np.zeros((p, p))]])
        # AWX[j-block] = A_j W_j X_j  (n x p), computed cluster by cluster
        AWX = np.empty_like(X)
        Xs, WXs = X[self.order], WX[self.order]
        for j in range(J):
            sl = slice(self.starts[j], self.starts[j] + sizes[j])
            xj, wxj = Xs[sl], WXs[sl]
            if self.weighted:
                Z, Cj = np.hstack([xj, wxj]), C
            else:
                Z, Cj = xj, -self.M
            Q, R = np.linalg.qr(Z, mode="reduced")
            T = np.eye(R.shape[0]) + R @ Cj @ R.T
            F = _sym_power((T + T.T) / 2, -0.5) - np.eye(R.shape[0])
            AWX[self.order[sl]] = wxj + Q @ (F @ (Q.T @ wxj))
        self.AWX = AWX
        self.G = AWX @ self.M  # column i: the cluster weights g_j of coefficient i

    # -- cluster sums -------------------------------------------------------------
    def _csum(self, A: np.ndarray) -> np.ndarray:
        """Sum rows of A (n x k) within clusters -> (J x k)."""
        return np.add.reduceat(A[self.order], self.starts, axis=0)

    def _csum_cols(self, Y: np.ndarray) -> np.ndarray:
        """Sum columns of Y (m x n) within clusters -> (m x J)."""
        return np.add.reduceat(Y[:, self.order], self.starts, axis=1)

    # -- estimates ----------------------------------------------------------------
    def fit(self, y) -> tuple[np.ndarray, np.ndarray]:
        """OLS/WLS coefficients and residuals for one outcome vector."""
        y = np.asarray(y, dtype=float)
        beta = self.M @ (self.WX.T @ y)
        return beta, y - self.X @ beta

    def vcov(self, resid) -> np.ndarray:
        """CR2 covariance matrix from the residuals of the fit."""
        S = self._csum(self.AWX * np.asarray(resid, dtype=float)[:, None])  # J x p
        return self.M @ (S.T @ S) @ self.M

    def _gram(self, Cmat: np.ndarray) -> np.ndarray:
        """Working-model Gram array P[s, j, t, k] for the rows of Cmat (q x p)."""
        q = Cmat.shape[0]
        g = self.G @ Cmat.T  # n x q
        J, X = self.J, self.X
        # D: within-cluster cross products of g
        D = self._csum(g[:, :, None] * g[:, None, :])  # J x q x q
        U = np.stack([self._csum(X * g[:, [s]]) for s in range(q)])  # q x J x p
        P = np.zeros((q, J, q, J))
        for s in range(q):
            P[s, np.arange(J), s, np.arange(J)] += D[:, s, s]
            for t in range(q):
                if t != s:
                    P[s, np.arange(J), t, np.arange(J)] += D[:, s, t]
        M = self.M
        Uf = U.reshape(q * J, -1)
        if self.weighted:
            V = np.stack([self._csum(self.WX * g[:, [s]]) for s in range(q)])
            K = M @ (self.WX.T @ self.WX) @ M
            VMU = (V.reshape(q * J, -1) @ M @ Uf.T).reshape(q, J, q, J)
            P -= VMU + np.transpose(VMU, (2, 3, 0, 1))
            P += (Uf @ K @ Uf.T).reshape(q, J, q, J)
        else:
            P -= (Uf @ M @ Uf.T).reshape(q, J, q, J)
        return P

    def dof(self, contrasts) -> np.ndarray:
        """Bell-McCaffrey / Satterthwaite df for each row of ``contrasts`` (q x p)."""
        Cmat = np.atleast_2d(np.asarray(contrasts, dtype=float))
        out = np.empty(Cmat.shape[0])
        for i, c in enumerate(Cmat):
            P = self._gram(c[None, :])[0, :, 0, :]
            out[i] = np.trace(P) ** 2 / np.sum(P * P)
        return out

    def test_many(self, Y, coef: int, *, alpha: float = 0.05) -> pd.DataFrame:
        """CR2 t-tests of one coefficient for many outcome vectors sharing this design.

        Parameters
        ----------
        Y : array (m, n)
            One simulated outcome vector per row.
        coef : int
            Column index of the coefficient to test (against 0).
        alpha : float
            1 - confidence level of the intervals.

        Returns
        -------
        DataFrame with m rows: estimate, std_error, t, df, p_value, ci_low, ci_high.
        The df is the same for every row (it depends on the design only).
        """
        est, se, df = self.estimate_many(Y, coef)
        return _t_table(est, se, np.full(len(est), df), alpha)

    def estimate_many(self, Y, coef: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The estimates, CR2 SEs (arrays, one per row of ``Y``) and the Bell-McCaffrey df of
        one coefficient, as :meth:`test_many` (the same numbers) without its table. The df
        depends on the design only: computed once per coefficient."""
        Y = np.atleast_2d(np.asarray(Y, dtype=float))
        if Y.shape[1] != self.n:
            raise ValueError(f"Y must have n = {self.n} columns")
        gi = self.G[:, coef]
        est = (Y * self.w) @ self.X @ self.M[:, coef]
        # contributions g_j' r_j with r = y - X b, for all rows at once
        B = (Y * self.w) @ self.X @ self.M  # m x p
        T = self._csum_cols(Y * gi) - B @ self._csum(self.X * gi[:, None]).T  # m x J
        se = np.sqrt(np.sum(T * T, axis=1))
        dofs = self.__dict__.setdefault("_coef_dof", {})
        if coef not in dofs:
            c = np.zeros(self.p)
            c[coef] = 1.0
            dofs[coef] = float(self.dof(c)[0])
        return est, se, dofs[coef]


def _t_table(est, se, df, alpha) -> pd.DataFrame:
    est, se, df = np.asarray(est, float), np.asarray(se, float), np.asarray(df, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    q = stats.t.ppf(1 - alpha / 2, df)
    return pd.DataFrame(
        {
            "estimate": est,
            "std_error": se,
            "t": t,
            "df": df,
            "p_value": 2 * stats.t.sf(np.abs(t), df),
            "ci_low": est - q * se,
            "ci_high": est + q * se,
        }
    )


def vcov_hc2(X, resid, *, weights=None) -> np.ndarray:
    """HC2 heteroskedasticity-consistent covariance (MacKinnon & White 1985).

    ``M X' diag(w^2 e^2 / (1 - h)) X M`` with ``h`` the leverages; the same as
    statsmodels' ``cov_type="HC2"`` and ``estimatr::lm_robust(se_type = "HC2")``
    (use df = n - p).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import vcov_hc2
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> e = np.array([1.0, -1, 0, 2, -2, 0])
    >>> np.round(np.sqrt(np.diag(vcov_hc2(X, e))), 4).tolist()
    [0.5774, 1.291]
    """
    X, _ = _as_2d(X)
    e = np.asarray(resid, dtype=float)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=float)
    WX = X * w[:, None]
    M = np.linalg.inv(X.T @ WX)
    h = np.einsum("ij,jk,ik->i", WX, M, X)
    if np.any(h >= 1 - 1e-10):
        raise ValueError("an observation has leverage 1; HC2 is undefined")
    u = WX * (e / np.sqrt(1 - h))[:, None]
    return M @ (u.T @ u) @ M


def vcov_cr2(X, resid, clusters, *, weights=None) -> np.ndarray:
    """CR2 (bias-reduced linearization) cluster-robust covariance matrix.

    See the module docstring for the exact definition; equals
    ``clubSandwich::vcovCR(fit, cluster, type = "CR2")`` for an ``lm`` fit.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import vcov_cr2
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(6), 4)
    >>> X = np.column_stack([np.ones(24), g % 2])
    >>> e = rng.normal(size=24)
    >>> vcov_cr2(X, e, g).shape
    (2, 2)
    """
    return CR2Design(X, clusters, weights=weights).vcov(resid)


def vcov_cr1(X, resid, clusters, *, weights=None) -> np.ndarray:
    """Naive CR1 ("Stata") cluster-robust covariance.

    ``J/(J-1) * (n-1)/(n-p) * M (sum_j X_j'W_j e_j e_j'W_j X_j) M``; conventionally
    used with J - 1 df. It is too liberal with few clusters; kept for comparison.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import vcov_cr1
    >>> g = np.repeat(np.arange(4), 3)
    >>> X = np.column_stack([np.ones(12), g % 2])
    >>> vcov_cr1(X, np.linspace(-1, 1, 12), g).shape
    (2, 2)
    """
    X, _ = _as_2d(X)
    e = np.asarray(resid, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    _, codes = np.unique(np.asarray(clusters), return_inverse=True)
    J = codes.max() + 1
    WX = X * w[:, None]
    M = np.linalg.inv(X.T @ WX)
    S = np.zeros((J, p))
    np.add.at(S, codes, WX * e[:, None])
    return J / (J - 1) * (n - 1) / (n - p) * (M @ (S.T @ S) @ M)


def _unpack_model(model, weights):
    """(X, y, names, weights) from a statsmodels result or an (X, y) pair."""
    if isinstance(model, tuple) and len(model) == 2:
        X, names = _as_2d(model[0])
        y = np.asarray(model[1], dtype=float).ravel()
    elif hasattr(model, "model") and hasattr(model.model, "exog"):
        X = np.asarray(model.model.exog, dtype=float)
        names = list(model.model.exog_names)
        y = np.asarray(model.model.endog, dtype=float)
        mw = getattr(model.model, "weights", None)
        if weights is None and mw is not None and not np.all(np.asarray(mw) == 1):
            weights = np.asarray(mw, dtype=float)
    else:
        raise ValueError("model must be a fitted statsmodels OLS/WLS result or a tuple (X, y)")
    if len(y) != X.shape[0]:
        raise ValueError("X and y have different numbers of rows")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains missing values")
    return X, y, names, weights


def coef_test(
    model,
    clusters=None,
    *,
    vcov: str = "CR2",
    test: str = "Satterthwaite",
    weights=None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """t-tests of regression coefficients with robust standard errors.

    Parameters
    ----------
    model : statsmodels OLS/WLS results, or tuple ``(X, y)``
        ``X`` may be a DataFrame (its column names become ``term``).
    clusters : array-like (n,), optional
        Cluster labels; required for ``CR2`` and ``CR1``.
    vcov : {"CR2", "CR1", "HC2"}
    test : {"Satterthwaite", "naive"}
        ``Satterthwaite`` (CR2 only): Bell-McCaffrey df as in
        ``clubSandwich::coef_test(test = "Satterthwaite")``. ``naive``: J - 1 df
        for CR1/CR2 (Stata), n - p for HC2 (as estimatr).
    weights : array-like, optional
        Analytic weights (taken from a WLS result when not given).
    alpha : float
        Confidence intervals at level 1 - alpha.

    Returns
    -------
    DataFrame with one row per coefficient: term, estimate, std_error, t, df,
    p_value, ci_low, ci_high.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import coef_test
    >>> rng = np.random.default_rng(3)
    >>> g = np.repeat(np.arange(10), 6)
    >>> X = np.column_stack([np.ones(60), (g < 5).astype(float)])
    >>> y = 0.5 * X[:, 1] + rng.normal(size=10)[g] + rng.normal(size=60)
    >>> res = coef_test((X, y), g)
    >>> list(res.columns)
    ['term', 'estimate', 'std_error', 't', 'df', 'p_value', 'ci_low', 'ci_high']
    >>> round(float(res.loc[1, "df"]), 6)  # balanced two-arm design: J - 2
    8.0
    """
    X, y, names, weights = _unpack_model(model, weights)
    vcov = vcov.upper()
    if vcov not in ("CR2", "CR1", "HC2"):
        raise ValueError("vcov must be 'CR2', 'CR1' or 'HC2'")
    if test not in ("Satterthwaite", "naive"):
        raise ValueError("test must be 'Satterthwaite' or 'naive'")
    n, p = X.shape
    if vcov == "HC2":
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        WX = X * w[:, None]
        beta = np.linalg.solve(X.T @ WX, WX.T @ y)
        V = vcov_hc2(X, y - X @ beta, weights=weights)
        df = np.full(p, n - p, dtype=float)
    else:
        if clusters is None:
            raise ValueError(f"{vcov} needs clusters")
        d = CR2Design(X, clusters, weights=weights)
        beta, resid = d.fit(y)
        if vcov == "CR2":
            V = d.vcov(resid)
            df = d.dof(np.eye(p)) if test == "Satterthwaite" else np.full(p, d.J - 1.0)
        else:
            if test == "Satterthwaite":
                raise ValueError("Satterthwaite df are defined here for CR2 only")
            V = vcov_cr1(X, resid, clusters, weights=weights)
            df = np.full(p, d.J - 1.0)
    out = _t_table(beta, np.sqrt(np.diag(V)), df, alpha)
    out.insert(0, "term", names)
    return out


def wald_test(model, clusters, constraints, *, weights=None) -> pd.DataFrame:
    """Cluster-robust Wald test of ``C b = 0`` with the HTZ small-sample correction.

    The Hotelling-T^2 approximation with Satterthwaite-type df of Tipton &
    Pustejovsky (2015), as ``clubSandwich::Wald_test(vcov = "CR2", test = "HTZ")``.
    With one constraint it equals the squared Satterthwaite t-test.

    Parameters
    ----------
    model : statsmodels results or tuple (X, y)
    clusters : array-like (n,)
    constraints : array-like (q, p) or list of column indices/term names
        Rows of the constraint matrix; a list of indices or names tests that
        those coefficients are all zero.

    Returns
    -------
    DataFrame with one row: test ("HTZ"), Fstat, delta, df_num, df_denom, p_value.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import wald_test
    >>> rng = np.random.default_rng(5)
    >>> g = np.repeat(np.arange(12), 5)
    >>> X = np.column_stack([np.ones(60), g % 3 == 1, g % 3 == 2]).astype(float)
    >>> y = rng.normal(size=12)[g] + rng.normal(size=60)
    >>> wald_test((X, y), g, [1, 2])["df_num"].item()
    2
    """
    X, y, names, weights = _unpack_model(model, weights)
    p = X.shape[1]
    C = np.asarray(constraints)
    if C.ndim == 1:
        idx = [names.index(c) if isinstance(c, str) else int(c) for c in constraints]
        C = np.eye(p)[idx]
    C = np.atleast_2d(C.astype(float))
    if C.shape[1] != p:
        raise ValueError(f"constraints must have p = {p} columns")
    q = C.shape[0]
    d = CR2Design(X, clusters, weights=weights)
    beta, resid = d.fit(y)
    V = d.vcov(resid)
    Cb = C @ beta
    Q = float(Cb @ np.linalg.solve(C @ V @ C.T, Cb))
    P = d._gram(C)
    Omega = np.einsum("sjtj->st", P)
    On = _sym_power((Omega + Omega.T) / 2, -0.5)
    B = d._gram(On @ C)  # Omega^{-1/2} P Omega^{-1/2}
    var = np.empty((q, q))
    for s in range(q):
        for t in range(s + 1):
            v = np.sum(B[s, :, t, :] * B[t, :, s, :]) + np.sum(B[s, :, s, :] * B[t, :, t, :])
            var[s, t] = var[t, s] = v
    nu = q * (q + 1) / var.sum()
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    F = delta * Q / q
    pval = float(stats.f.sf(F, q, df2)) if df2 > 0 else np.nan
    return pd.DataFrame(
        {"test": ["HTZ"], "Fstat": [F], "delta": [delta], "df_num": [q],
         "df_denom": [df2], "p_value": [pval]}
    )


def cr2_test_many(Y, X, clusters, coef: int, *, weights=None, alpha: float = 0.05) -> pd.DataFrame:
    """CR2/Satterthwaite t-tests of one coefficient for many outcomes, one design.

    Vectorized over the rows of ``Y``: the CR2 adjustment and the df are computed
    once. For power and coverage simulations (1,000 trials in well under a
    second for a few hundred rows).

    Parameters
    ----------
    Y : array (m, n)
        Outcome vectors, one per simulated trial.
    X : array (n, p)
        Shared design matrix.
    clusters : array (n,)
    coef : int
        Column of ``X`` to test.
    weights : array (n,), optional
    alpha : float

    Returns
    -------
    DataFrame (m rows): estimate, std_error, t, df, p_value, ci_low, ci_high.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import cr2_test_many
    >>> rng = np.random.default_rng(2)
    >>> g = np.repeat(np.arange(10), 8)
    >>> X = np.column_stack([np.ones(80), (g < 5).astype(float)])
    >>> Y = rng.normal(size=(500, 10))[:, g] + rng.normal(size=(500, 80))
    >>> res = cr2_test_many(Y, X, g, coef=1)
    >>> res.shape, bool((res["p_value"] < 0.05).mean() < 0.08)
    ((500, 7), True)
    """
    return CR2Design(X, clusters, weights=weights).test_many(Y, coef, alpha=alpha)


def hc2_test_many(Y, X, coef: int, *, alpha: float = 0.05) -> pd.DataFrame:
    """HC2 t-tests of one coefficient for many outcomes, one design (n - p df).

    The estimator of the effects module's ``ancova_hc2`` (``estimatr::lm_robust(se_type
    = "HC2")``; one outcome at a time: :func:`coef_test` with ``vcov="HC2"``),
    vectorized over the rows of ``Y`` for power simulations: with ``c`` the row of
    ``(X'X)^-1 X'`` for ``coef`` and leverages ``h``, ``SE^2 = sum c_i^2 e_i^2 / (1 - h_i)``.

    Parameters
    ----------
    Y : array (m, n)
        Outcome vectors, one per simulated trial.
    X : array (n, p)
        Shared full-rank design matrix (include the intercept column yourself).
    coef : int
        Column of ``X`` to test.
    alpha : float

    Returns
    -------
    DataFrame (m rows): estimate, std_error, t, df, p_value, ci_low, ci_high.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cluster_robust import hc2_test_many
    >>> rng = np.random.default_rng(4)
    >>> X = np.column_stack([np.ones(40), np.repeat([0.0, 1.0], 20)])
    >>> res = hc2_test_many(rng.normal(size=(300, 40)), X, coef=1)
    >>> res.shape, float(res["df"].iloc[0]), bool((res["p_value"] < 0.05).mean() < 0.1)
    ((300, 7), 38.0, True)
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    X, _ = _as_2d(X)
    n, p = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    hat_rows = xtx_inv @ X.T
    h = np.einsum("ij,ji->i", X, hat_rows)
    if np.any(h >= 1 - 1e-10):
        raise ValueError("an observation has leverage 1; HC2 is undefined")
    beta = Y @ hat_rows.T
    resid = Y - beta @ X.T
    c = hat_rows[coef]
    se = np.sqrt(((c ** 2) / (1.0 - h) * resid ** 2).sum(axis=1))
    return _t_table(beta[:, coef], se, np.full(len(se), float(n - p)), alpha)

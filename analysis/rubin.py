"""Pooling the fits of multiply imputed data sets: Rubin's rules with Barnard-Rubin df.

Statsmodels pools its own ``MICE`` fits (``MICEResults``) with Rubin's rules, but only
for the model-based covariance of a statsmodels model, with normal (infinite df)
inference and no fraction of missing information per estimate. The primary model of
a cluster trial is OLS with CR2 standard errors and Bell-McCaffrey df
(:mod:`analysis.cluster_robust`), whose complete-data df (often 10-30 with 20
schools) must enter the pooled df. This module pools ANY scalar estimate given, per
imputation, its estimate, standard error and complete-data df, exactly as R's
``mice::pool.scalar(Q, U, n, k)`` / ``mice::pool()`` (rule ``"rubin1987"``):

* ``qbar = mean(Q)``, ``ubar = mean(U)`` (``U = SE^2``), ``b = var(Q)`` (ddof 1),
  ``t = ubar + (1 + 1/m) b`` (Rubin 1987);
* ``riv = (1 + 1/m) b / ubar`` (relative increase in variance due to nonresponse),
  ``lambda = (1 + 1/m) b / t`` (proportion of the variance due to nonresponse);
* Barnard & Rubin (1999) df: ``df_old = (m - 1) / lambda^2``,
  ``df_obs = (df_com + 1) / (df_com + 3) * df_com * (1 - lambda)``,
  ``df = df_old df_obs / (df_old + df_obs)`` (``df_old`` when ``df_com`` is infinite);
  as in mice, ``lambda`` is floored at 1e-4 in the df formula only (no between-
  imputation variance would otherwise give infinite ``df_old``);
* fraction of missing information ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``.

The complete-data df ``df_com`` is the df the analysis would have had without missing
data: for the CR2 primary model the Bell-McCaffrey df of the arm contrast. When it
differs between imputations (the design matrix changes when baseline or covariates
are imputed), the mean over imputations is used (mice takes one ``dfcom``).

References
----------
Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
imputation. *Biometrika*, 86(4), 948-955.
van Buuren, S. (2018). *Flexible Imputation of Missing Data* (2nd ed.), sections 2.3
and 5.2. CRC Press.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["POOLED_COLUMNS", "barnard_rubin_df", "pool_arrays", "pool_columns", "pool_fits",
           "pool_scalar"]

POOLED_COLUMNS = [
    "estimate", "std_error", "df", "ci_low", "ci_high", "t", "p_value", "m", "within_var",
    "between_var", "total_var", "riv", "lambda", "fmi", "df_complete",
]
"""Columns of :func:`pool_scalar` and :func:`pool_fits` (after the grouping columns):

``estimate`` (qbar), ``std_error`` (sqrt of ``total_var``), ``df`` (Barnard-Rubin),
``ci_low``/``ci_high`` (t with ``df``), ``t``, ``p_value`` (two-sided, against 0),
``m`` (imputations), ``within_var`` (ubar), ``between_var`` (b), ``total_var`` (t),
``riv`` (relative increase in variance), ``lambda`` (share of the total variance due
to missing data), ``fmi`` (fraction of missing information), ``df_complete``."""


def barnard_rubin_df(m: int, b, t, df_complete=np.inf):
    """Barnard-Rubin (1999) degrees of freedom, as ``mice:::barnard.rubin``.

    Parameters
    ----------
    m : int
        Number of imputations.
    b, t : float or array
        Between-imputation and total variance.
    df_complete : float or array
        Complete-data df (``np.inf`` gives Rubin's 1987 df ``(m - 1) / lambda^2``).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from analysis.rubin import barnard_rubin_df
    >>> round(float(barnard_rubin_df(5, 0.2, 1.24, 30)), 4)
    18.7388
    """
    b, t = np.asarray(b, dtype=float), np.asarray(t, dtype=float)
    dfc = np.asarray(df_complete, dtype=float)
    lam = np.maximum((1 + 1 / m) * b / t, 1e-4)
    df_old = (m - 1) / lam**2
    with np.errstate(invalid="ignore", divide="ignore"):
        df_obs = (dfc + 1) / (dfc + 3) * dfc * (1 - lam)
        out = np.where(np.isinf(dfc), df_old, df_old * df_obs / (df_old + df_obs))
    return out[()] if out.ndim == 0 else out


def pool_arrays(estimates, std_errors, df_complete=np.inf, *, alpha: float = 0.05) -> pd.DataFrame:
    """Rubin's rules for many estimates at once: row g of the (G, m) arrays is one estimate.

    The vectorized core of :func:`pool_scalar` (the same numbers), for pooling many
    estimates with the same m (e.g. a grid of delta adjustments).

    Parameters
    ----------
    estimates, std_errors : array-like (G, m)
    df_complete : float or array-like (G,) or (G, m)
        Complete-data df; a (G, m) array is averaged over the imputations.
    alpha : float

    Returns
    -------
    DataFrame
        G rows with :data:`POOLED_COLUMNS`.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.rubin import pool_arrays
    >>> q = np.array([[1.0, 1.2, 0.9], [0.1, 0.3, 0.2]])
    >>> pool_arrays(q, np.full((2, 3), 0.5), 30)["estimate"].round(4).tolist()
    [1.0333, 0.2]
    """
    return pd.DataFrame(pool_columns(estimates, std_errors, df_complete, alpha=alpha))


def pool_columns(estimates, std_errors, df_complete=np.inf, *, alpha: float = 0.05) -> dict:
    """The columns of :func:`pool_arrays` as a dict of arrays (``m`` a number), for callers
    that need a few pooled numbers without a DataFrame (the bisection of the delta
    adjustment).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.rubin import pool_columns
    >>> q = np.array([[1.0, 1.2, 0.9], [0.1, 0.3, 0.2]])
    >>> pool_columns(q, np.full((2, 3), 0.5), 30)["estimate"].round(4).tolist()
    [1.0333, 0.2]
    """
    q = np.atleast_2d(np.asarray(estimates, dtype=float))
    se = np.atleast_2d(np.asarray(std_errors, dtype=float))
    if q.shape != se.shape:
        raise ValueError("estimates and std_errors must have the same length")
    G, m = q.shape
    if m < 2:
        raise ValueError("pooling needs at least 2 imputations")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(se))):
        raise ValueError("an estimate or standard error is missing or infinite")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    dfc = np.asarray(df_complete, dtype=float)
    dfc = dfc.mean(axis=-1) if dfc.ndim == 2 else dfc
    dfc = np.broadcast_to(dfc, (G,)).astype(float)
    if not np.all(dfc > 0):
        raise ValueError("df_complete must be positive")
    qbar, ubar, b = q.mean(axis=1), np.mean(se**2, axis=1), q.var(axis=1, ddof=1)
    t = ubar + (1 + 1 / m) * b
    riv = (1 + 1 / m) * b / ubar
    df = np.asarray(barnard_rubin_df(m, b, t, dfc), dtype=float).reshape(G)
    fmi = (riv + 2 / (df + 3)) / (riv + 1)
    sd = np.sqrt(t)
    crit = stats.t.ppf(1 - alpha / 2, df)
    tstat = qbar / sd
    return {
        "estimate": qbar, "std_error": sd, "df": df, "ci_low": qbar - crit * sd,
        "ci_high": qbar + crit * sd, "t": tstat, "p_value": 2 * stats.t.sf(np.abs(tstat), df),
        "m": m, "within_var": ubar, "between_var": b, "total_var": t, "riv": riv,
        "lambda": (1 + 1 / m) * b / t, "fmi": fmi, "df_complete": dfc,
    }


def pool_scalar(estimates, std_errors, df_complete=np.inf, *, alpha: float = 0.05) -> pd.DataFrame:
    """Pool one scalar estimate over m imputations by Rubin's rules.

    Parameters
    ----------
    estimates : array-like (m,)
        The estimate from each completed data set.
    std_errors : array-like (m,)
        Its standard error in each completed data set (any estimator: CR2, HC2, model).
    df_complete : float or array-like (m,)
        Complete-data df of the analysis (``n - k`` for OLS, the Bell-McCaffrey df
        for CR2); an array is averaged. ``np.inf`` for large-sample inference.
    alpha : float
        The CI has level 1 - alpha.

    Returns
    -------
    DataFrame
        One row with :data:`POOLED_COLUMNS`.

    Examples
    --------
    >>> from analysis.rubin import pool_scalar
    >>> r = pool_scalar([1.0, 1.2, 0.9, 1.1, 1.3], [0.5, 0.52, 0.48, 0.5, 0.51], 30)
    >>> r[["estimate", "std_error", "df", "fmi"]].round(4).to_dict("records")
    [{'estimate': 1.1, 'std_error': 0.5312, 'df': 23.5123, 'fmi': 0.1737}]
    """
    q = np.asarray(estimates, dtype=float).ravel()
    se = np.asarray(std_errors, dtype=float).ravel()
    if q.shape != se.shape:
        raise ValueError("estimates and std_errors must have the same length")
    dfc = float(np.mean(np.asarray(df_complete, dtype=float)))
    return pool_arrays(q[None, :], se[None, :], dfc, alpha=alpha)


def pool_fits(fits: pd.DataFrame, by=("term",), *, estimate: str = "estimate",
              std_error: str = "std_error", df: str | None = "df", alpha: float = 0.05) -> pd.DataFrame:
    """Pool a long table of per-imputation fits: one pooled row per group of ``by``.

    Parameters
    ----------
    fits : DataFrame
        One row per imputation x estimate (e.g. the stacked ``coef_test`` tables of the
        m completed data sets, or :meth:`analysis.imputation.Imputations.analyse`).
    by : sequence of str
        Columns that identify one estimate (``term``; ``outcome, arm`` ...).
    estimate, std_error : str
        Column names of the estimate and its standard error.
    df : str or None
        Column of the complete-data df (averaged within a group); ``None``: infinite.
    alpha : float

    Returns
    -------
    DataFrame
        ``by`` columns, then :data:`POOLED_COLUMNS`; groups in order of appearance.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.rubin import pool_fits
    >>> fits = pd.DataFrame({"term": ["arm", "arm", "arm"], "estimate": [0.2, 0.3, 0.25],
    ...                      "std_error": [0.1, 0.11, 0.1], "df": [18.0, 18.0, 18.0]})
    >>> pool_fits(fits)[["term", "estimate", "m"]].to_dict("records")
    [{'term': 'arm', 'estimate': 0.25, 'm': 3}]
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, estimate, std_error, *([df] if df else [])] if c not in fits.columns]
    if missing:
        raise ValueError(f"columns not in fits: {missing}")
    rows = []
    for key, g in fits.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        dfc = g[df].to_numpy(dtype=float) if df else np.inf
        r = pool_scalar(g[estimate], g[std_error], dfc, alpha=alpha)
        for c, v in zip(by, key, strict=True):
            r.insert(len(r.columns) - len(POOLED_COLUMNS), c, v)
        rows.append(r)
    return pd.concat(rows, ignore_index=True)[[*by, *POOLED_COLUMNS]]

"""Two-stage least squares with CR2 cluster-robust standard errors and small-sample df.

The complier average causal effect (CACE) of a randomized program: random assignment
is the instrument for the dose a child actually received (a binary "received the
protocol" or a continuous share of it). :func:`two_stage_cr2` fits the
just-identified model -- one endogenous dose, one instrument, exogenous covariates and
block fixed effects in both stages -- and tests the dose's coefficient with the same
small-sample inference as the project's primary model (:mod:`analysis.cluster_robust`):

* **Estimate**: ``b = (X̂'X̂)^{-1} X̂'y`` with ``X = [d, W]``, ``Z = [z, W]``,
  ``X̂ = Z (Z'Z)^{-1} Z'X`` (the first-stage fitted dose next to the exogenous columns).
* **CR2 standard error** (with clusters): the bias-reduced linearization of Bell &
  McCaffrey (2002) applied to the second-stage regression on ``X̂`` with the
  *structural* residuals ``e = y - X b`` (not ``y - X̂ b``): the adjustment matrices
  ``A_j = (I - H_jj)^{-1/2}`` come from the hat matrix of ``X̂``. This is what
  ``estimatr::iv_robust(se_type = "CR2")`` computes and also what
  ``clubSandwich::vcovCR(AER::ivreg(...), type = "CR2")`` computes (its bread and
  model matrix for ``ivreg`` are those of the projected regressors).
* **HC2** (no clusters): ``M X̂' diag(e^2 / (1 - h)) X̂ M``, ``h`` the leverages of
  ``X̂``, df ``n - p``, as ``iv_robust(se_type = "HC2")``.
* **df** (``df_method = "bell_mccaffrey"``): the Bell-McCaffrey / Satterthwaite df of
  the dose's coefficient under the working model of independent homoskedastic errors,
  ``(tr P)^2 / ||P||_F^2`` on the design ``X̂`` (Pustejovsky & Tipton 2018, eq. 11).
  It depends on the design only. It is the df that ``estimatr::iv_robust`` reports for
  CR2 *and* the df of ``clubSandwich::coef_test(ivreg_fit, vcov = "CR2", test =
  "Satterthwaite")`` (both checked against R in tests/test_iv.py); it is the df of
  the primary ``ols_cr2`` model of :mod:`analysis.effects`. Without clusters
  ``df_method = "n_minus_p"`` (``n - p``, as ``iv_robust(se_type = "HC2")``).
* **First-stage F** (``first_stage_f``): the robust Wald F of the instrument in the
  first-stage regression ``d ~ z + W``, with the same variance as the second stage
  (CR2 at the same clusters, else HC2). With one instrument it is the squared robust
  t statistic of ``z``; it equals estimatr's
  ``diagnostic_first_stage_fstatistic["value"]`` (``iv_robust(..., diagnostics =
  TRUE)``), and also the HTZ F of ``clubSandwich::Wald_test`` (with one constraint the
  HTZ correction factor is 1). (estimatr refers it to F(1, J - 1), n - p without
  clusters, and gives no diagnostics with ``fixed_effects =``; with the blocks written as
  ``factor(block)`` terms it reports the F computed here.) ``weak_instrument`` is
  ``first_stage_f < 10`` (Staiger
  & Stock 1997): the 2SLS estimate is then biased towards the naive comparison and
  its CI is unreliable.
* **Anderson-Rubin test of no effect** (``ar_p_value``): with one instrument the AR
  test of ``beta = 0`` is the test of the instrument in the reduced form ``y ~ z + W``
  (the intention-to-treat regression), here with the same CR2 variance and
  Bell-McCaffrey df on ``Z`` (HC2 and ``n - p`` without clusters). Its size does not
  depend on the strength of the first stage, and it does not depend on which dose is
  the endogenous variable: it tests whether assignment changed the outcome at all,
  which stays valid when the exclusion restriction of a particular dose coding fails
  (a binary "received" dose when partial delivery also helps). ``p_value`` stays the
  Wald test of the 2SLS coefficient, as estimatr reports it.

What no Python library does here: ``linearmodels`` has ``IV2SLS`` with
``cov_type="clustered"``, but its clustered covariance is the CR1 sandwich (scaled by
``G/(G-1)`` and, with ``debiased=True``, ``(n-1)/(n-k)``, with ``G - 1`` df) -- no CR2
adjustment and no Bell-McCaffrey df (its documentation lists the covariance types
unadjusted, robust, kernel and clustered: ``linearmodels.iv.covariance.ClusteredCovariance``).
``pyfixest``'s clustered options are CRV1 and CRV3 (as far as its documentation shows;
no CR2 and no Satterthwaite df); ``statsmodels``' sandbox ``IV2SLS.fit()`` takes no
covariance option at all. With the 8-30 schools of a care program trial, CR1 with
``G - 1`` df gives too-narrow intervals (checked against the linearmodels documentation
pages of ``IV2SLS.fit`` and ``ClusteredCovariance``, December 2026).

References
----------
Angrist, J. D., Imbens, G. W., & Rubin, D. B. (1996). Identification of causal effects
using instrumental variables. *JASA*, 91(434), 444-455.
Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.
Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
variance estimation and hypothesis testing in fixed effects models. *Journal of
Business & Economic Statistics*, 36(4), 672-683.
Staiger, D., & Stock, J. H. (1997). Instrumental variables regression with weak
instruments. *Econometrica*, 65(3), 557-586.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cluster_robust import CR2Design, vcov_hc2

__all__ = ["COLUMNS", "WEAK_F", "two_stage_cr2"]

WEAK_F = 10.0
"""First-stage F below which the instrument is flagged weak (Staiger & Stock 1997)."""

COLUMNS = ["estimate", "se", "df", "df_method", "t", "p_value", "ci_low", "ci_high",
           "ar_p_value", "first_stage_f", "weak_instrument", "n", "n_clusters"]
"""Columns, in order, of :func:`two_stage_cr2`'s result."""


def _as_tuple(v) -> tuple[str, ...]:
    if v is None:
        return ()
    return (v,) if isinstance(v, str) else tuple(v)


def _exogenous(df: pd.DataFrame, covariates: Sequence[str], fixed_effects: Sequence[str]) -> pd.DataFrame:
    """Intercept, covariates (numeric as is, text/bool dummy-coded against the first level in
    sorted order) and fixed-effect dummies (first level dropped)."""
    parts = [pd.DataFrame({"(Intercept)": np.ones(len(df))}, index=df.index)]
    for c in covariates:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            parts.append(s.astype(float).to_frame(c))
        else:
            parts.append(pd.get_dummies(s.astype(str), prefix=c, prefix_sep="=", drop_first=True, dtype=float))
    for c in fixed_effects:
        parts.append(pd.get_dummies(df[c].astype(str), prefix=c, prefix_sep="=", drop_first=True, dtype=float))
    return pd.concat(parts, axis=1)


def _independent(W: np.ndarray) -> list[int]:
    """Indices of a maximal set of linearly independent columns, in order (greedy)."""
    chosen: list[int] = []
    for i in range(W.shape[1]):
        if np.linalg.matrix_rank(W[:, chosen + [i]]) == len(chosen) + 1:
            chosen.append(i)
    return chosen


def _standardize(W: np.ndarray) -> np.ndarray:
    """Centre and scale the non-constant columns of W (the intercept stays 1): the column
    space with the intercept, hence every projection and CR2 quantity, is unchanged, and
    covariates with a tiny spread no longer make X'X ill-conditioned."""
    W = W.copy()
    sd = W.std(axis=0)
    var = sd > 0
    W[:, var] = (W[:, var] - W[:, var].mean(axis=0)) / sd[var]
    return W


def _tsls(y, d, z, W, clusters=None, *, alpha: float = 0.05) -> dict:
    """2SLS of y on [d, W] with instruments [z, W]; CR2 (or HC2) inference for d.

    All inputs are finite numpy arrays (W with an intercept column and full column
    rank); returns the row of :func:`two_stage_cr2` as a dict.
    """
    n = len(y)
    Z = np.column_stack([z, W])
    X = np.column_stack([d, W])
    p = X.shape[1]
    if n <= p + 1:
        raise ValueError(f"{n} complete rows are too few for {p} coefficients")
    if np.linalg.matrix_rank(Z) < p:
        raise ValueError("the instrument is constant or collinear with the covariates / fixed "
                         "effects (e.g. blocks nested in the assignment): nothing identifies the dose")
    pi, *_ = np.linalg.lstsq(Z, d, rcond=None)
    dhat = Z @ pi
    Xh = np.column_stack([dhat, W])
    if np.linalg.matrix_rank(Xh) < p:
        raise ValueError("the instrument does not predict the dose (first-stage coefficient 0): "
                         "the complier effect is not identified")
    gamma = np.linalg.lstsq(Z, y, rcond=None)[0]
    c = np.zeros(p)
    c[0] = 1.0
    if clusters is not None:
        first = CR2Design(Z, clusters)
        v1 = first.vcov(d - dhat)[0, 0]
        v_ar = first.vcov(y - Z @ gamma)[0, 0]
        df_ar = float(first.dof(c)[0])
        second = CR2Design(Xh, clusters)
        beta = np.linalg.solve(Xh.T @ Xh, Xh.T @ y)
        e = y - X @ beta
        var = second.vcov(e)[0, 0]
        df = float(second.dof(c)[0])
        df_method, n_clusters = "bell_mccaffrey", int(second.J)
    else:
        v1 = vcov_hc2(Z, d - dhat)[0, 0]
        v_ar = vcov_hc2(Z, y - Z @ gamma)[0, 0]
        df_ar = float(n - p)
        beta = np.linalg.solve(Xh.T @ Xh, Xh.T @ y)
        e = y - X @ beta
        var = vcov_hc2(Xh, e)[0, 0]
        df, df_method, n_clusters = float(n - p), "n_minus_p", np.nan
    # a dose that the assignment determines exactly (full compliance) has a first-stage
    # residual of 0: F is infinite, not undefined
    f1 = float(pi[0] ** 2 / v1) if v1 > 1e-24 * max(pi[0] ** 2, 1e-300) else np.inf
    est, se = float(beta[0]), float(np.sqrt(var))
    t = est / se if se > 0 else np.nan
    q = stats.t.ppf(1 - alpha / 2, df)
    t_ar = gamma[0] / np.sqrt(v_ar) if v_ar > 0 else np.nan
    return {
        "estimate": est, "se": se, "df": df, "df_method": df_method, "t": t,
        "p_value": float(2 * stats.t.sf(abs(t), df)), "ci_low": est - q * se, "ci_high": est + q * se,
        "ar_p_value": float(2 * stats.t.sf(abs(t_ar), df_ar)),
        "first_stage_f": f1, "weak_instrument": not bool(f1 >= WEAK_F),
        "n": int(n), "n_clusters": float(n_clusters),
    }


def two_stage_cr2(
    df: pd.DataFrame,
    *,
    outcome: str,
    endogenous: str,
    instrument: str,
    covariates: Sequence[str] = (),
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Just-identified two-stage least squares with CR2 (or HC2) inference.

    The model is ``outcome ~ endogenous + covariates + fixed effects`` with
    ``instrument`` as the instrument of ``endogenous``; the covariates and the
    fixed-effect dummies are exogenous and enter both stages. Equivalent to
    ``estimatr::iv_robust(y ~ d + x | z + x, clusters = cluster, se_type = "CR2",
    fixed_effects = ~ block)`` (``se_type = "HC2"`` without clusters); see the module
    docstring for the variance, the df and the first-stage F.

    Parameters
    ----------
    df : DataFrame
        One row per unit (child). Rows with a missing value in any column of the
        model (or the cluster) are left out (complete cases; ``n`` counts the rows used).
    outcome : str
        Outcome column (numeric).
    endogenous : str
        The dose actually received (numeric or bool): a 0/1 "received the protocol" or a
        continuous share of the protocol met.
    instrument : str
        The random assignment (numeric or bool, e.g. 1 = assigned to the program).
    covariates : sequence of str
        Exogenous covariates (baseline outcome, age ...). Numeric columns enter as they
        are; text or bool columns are dummy-coded (first level in sorted order is the
        reference). Columns collinear with earlier ones are dropped.
    fixed_effects : sequence of str
        Columns whose levels enter as dummies (randomization blocks).
    cluster : str, optional
        Cluster column (the unit of randomization: the outermost cluster). ``None``:
        HC2 with ``n - p`` df.
    alpha : float
        Confidence intervals at level ``1 - alpha``.

    Returns
    -------
    DataFrame
        One row, columns :data:`COLUMNS`:

        ``estimate``
            The 2SLS coefficient of ``endogenous``: with a 0/1 dose and a 0/1
            assignment, the complier average causal effect (CACE) under the IV
            assumptions (exclusion, monotonicity).
        ``se``
            CR2 standard error (HC2 without a cluster).
        ``df``, ``df_method``
            Bell-McCaffrey/Satterthwaite df (``"bell_mccaffrey"``) with clusters,
            ``n - p`` (``"n_minus_p"``) without.
        ``t``, ``p_value``, ``ci_low``, ``ci_high``
            t = estimate / se, two-sided p and CI from the t distribution with ``df``
            (the Wald test, as estimatr reports it).
        ``ar_p_value``
            Anderson-Rubin test of no effect: the p of ``instrument`` in the reduced
            form ``outcome ~ instrument + covariates + fixed effects`` (the
            intention-to-treat regression) with the same CR2 (HC2) variance and
            Bell-McCaffrey (``n - p``) df. Valid whatever the first-stage strength and
            whichever dose coding is used.
        ``first_stage_f``
            Robust Wald F of the instrument in the first stage (CR2 at the cluster,
            else HC2): the squared robust t of ``instrument`` in ``endogenous ~
            instrument + covariates + fixed effects``; equals estimatr's
            ``diagnostic_first_stage_fstatistic``.
        ``weak_instrument``
            ``first_stage_f < 10``.
        ``n``, ``n_clusters``
            Rows and clusters used (``n_clusters`` NaN without a cluster).

    Raises
    ------
    ValueError
        A named column is missing or not numeric, fewer than 2 clusters, too few rows,
        or the instrument does not move the dose at all (not identified).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.iv import two_stage_cr2
    >>> rng = np.random.default_rng(7)
    >>> school = np.repeat(np.arange(12), 20)
    >>> z = (school % 2).astype(float)                        # schools randomized
    >>> complier = rng.uniform(size=240) < 0.7
    >>> d = np.where(complier, z, rng.uniform(size=240) < 0.2).astype(float)  # both arms
    >>> y = 0.5 * d + rng.normal(size=12)[school] + rng.normal(size=240)
    >>> df = pd.DataFrame({"y": y, "d": d, "z": z, "school": school})
    >>> res = two_stage_cr2(df, outcome="y", endogenous="d", instrument="z", cluster="school")
    >>> list(res.columns) == ["estimate", "se", "df", "df_method", "t", "p_value", "ci_low",
    ...                       "ci_high", "ar_p_value", "first_stage_f", "weak_instrument", "n",
    ...                       "n_clusters"]
    True
    >>> r = res.iloc[0]
    >>> r["df_method"], bool(r["weak_instrument"]), int(r["n"]), int(r["n_clusters"])
    ('bell_mccaffrey', False, 240, 12)
    >>> bool(r["ci_low"] < 0.5 < r["ci_high"])
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError("df must be a pandas DataFrame")
    covariates, fixed_effects = _as_tuple(covariates), _as_tuple(fixed_effects)
    cols = [outcome, endogenous, instrument, *covariates, *fixed_effects] + ([cluster] if cluster else [])
    missing = [c for c in dict.fromkeys(cols) if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in the data: {missing}")
    for c in (outcome, endogenous, instrument):
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise ValueError(f"column {c!r} must be numeric (0/1 or a number), got {s.dtype}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    data = df[list(dict.fromkeys(cols))].dropna()
    W = _exogenous(data, covariates, fixed_effects)
    W = _standardize(W.to_numpy(dtype=float))
    W = W[:, _independent(W)]
    y = data[outcome].to_numpy(dtype=float)
    d = data[endogenous].to_numpy(dtype=float)
    z = data[instrument].to_numpy(dtype=float)
    g = data[cluster].to_numpy() if cluster else None
    row = _tsls(y, d, z, W, g, alpha=alpha)
    return pd.DataFrame([row], columns=COLUMNS)

"""Internal consistency of a multi-item scale: Cronbach's alpha, McDonald's omega.

The numbers follow R's ``psych`` package (Revelle), which is what most published
scale reports use, and are tested against ``psych::alpha`` (to 1e-9) and
``psych::omega(x, nfactors = 1)`` (omega total to 1e-6, with and without missing
answers) on the five ``psych::bfi`` scales (fixtures in
``tests/fixtures/r/reliability`` and ``tests/fixtures/r/omega_missing``).

Why this module exists: no maintained Python library reproduces ``psych``'s
conventions (pairwise covariances, Feldt CI on the number of rows, item-rest
correlations from the covariance matrix, omega total from a minres factor
analysis of the pairwise correlations), and ``pingouin.cronbach_alpha`` handles
missing data differently.

Two different scales, side by side
----------------------------------
``alpha`` is RAW alpha (of the item covariances, i.e. of the sum of the items as
scored), ``omega_total`` is the STANDARDIZED omega total (of the item
correlations, i.e. of the sum of the z-scored items; ``psych::omega``'s default).
They are comparable with each other only when the items have similar variances;
``alpha_std`` is the standardized alpha. A table that shows ``alpha`` next to
``omega_total`` must label omega as standardized: use :data:`LABELS`.

Conventions (the same as ``psych``)
-----------------------------------
* Items must already be keyed in the same direction, unless ``reverse`` is given
  to :func:`reliability`.
* Missing answers: by default (``use="pairwise"``) each covariance uses every row
  where both items were answered (``psych::alpha(use = "pairwise")``, its
  default). ``use="complete"`` first drops every row with a missing item
  (listwise). The column ``n`` always reports the number of complete cases.
* Alpha's correlations (``alpha_std``, ``average_r``) are ``cov2cor`` of the
  pairwise covariances, as in ``psych::alpha``; omega factors
  ``cor(x, use = "pairwise")``, as ``psych::omega`` does (each correlation from
  the rows where both items were answered, with those rows' means and SDs). The
  two correlation matrices differ when answers are missing, and omega would
  differ by up to 0.024 on the fixtures if it used the first.
* The Feldt CI (Feldt, Woodruff & Salih 1987) uses ``n_rows`` = rows with at
  least one answered item (``psych`` uses all rows of the data; the two agree when
  no row is entirely empty). ``psych::alpha`` reports Feldt's interval
  (``$feldt``) and, when printed, also Duhachek's asymptotic one (alpha -/+ 1.96
  ASE); we report Feldt's.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["LABELS", "cronbach_alpha", "item_statistics", "omega_total", "reliability"]

#: Display names of the columns of :func:`reliability` for tables and reports.
#: ``alpha`` is raw (covariances), ``omega_total`` standardized (correlations).
LABELS: dict[str, dict[str, str]] = {
    "n": {"en": "n (complete answers)", "zh": "n（作答完整）"},
    "n_items": {"en": "Items", "zh": "题目数"},
    "alpha": {"en": "Cronbach's alpha (raw)", "zh": "Cronbach α（原始分）"},
    "alpha_ci_low": {"en": "alpha 95% CI, lower (Feldt)", "zh": "α 95% 置信区间下限（Feldt）"},
    "alpha_ci_high": {"en": "alpha 95% CI, upper (Feldt)", "zh": "α 95% 置信区间上限（Feldt）"},
    "alpha_std": {"en": "Cronbach's alpha (standardized)", "zh": "Cronbach α（标准化）"},
    "average_r": {"en": "Mean inter-item correlation", "zh": "题目间平均相关"},
    "omega_total": {"en": "McDonald's omega total (standardized, from item correlations)",
                    "zh": "McDonald ω 总系数（标准化，基于题目相关矩阵）"},
}


# ---------------------------------------------------------------- helpers


def _as_items(items, *, min_items: int = 2) -> pd.DataFrame:
    if isinstance(items, np.ndarray):
        if items.ndim != 2:
            raise ValueError("items must be a 2-D array (rows = respondents, columns = items)")
        items = pd.DataFrame(items, columns=[f"item{i + 1}" for i in range(items.shape[1])])
    if not isinstance(items, pd.DataFrame):
        raise ValueError("items must be a pandas DataFrame or a 2-D numpy array")
    if items.shape[1] < min_items:
        raise ValueError(f"need at least {min_items} items, got {items.shape[1]}")
    cols = [str(c) for c in items.columns]
    numeric = all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
        for t in items.dtypes
    )
    if numeric:
        return pd.DataFrame(items.to_numpy(dtype="float64", na_value=np.nan), columns=cols)
    try:
        out = items.apply(pd.to_numeric, errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"item columns must be numeric: {exc}") from None
    out.columns = cols
    return out


def _rows(x: np.ndarray, use: str) -> np.ndarray:
    if use == "complete":
        return x[~np.isnan(x).any(axis=1)]
    if use == "pairwise":
        return x[~np.isnan(x).all(axis=1)]
    raise ValueError(f"use must be 'pairwise' or 'complete', got {use!r}")


def _covariance(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete covariance matrix (R ``cov(x, use = "pairwise")``).

    Vectorized: three matrix products on the zero-filled, mean-centred data.
    """
    miss = np.isnan(x)
    if not miss.any():
        return np.cov(x, rowvar=False)
    m = (~miss).astype(np.float64)
    xc = x - np.nanmean(x, axis=0)  # shifting does not change covariances; improves accuracy
    x0 = np.where(miss, 0.0, xc)
    n = m.T @ m
    s = x0.T @ m  # s[j, k] = sum of x_j over rows where j and k are both present
    ss = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (ss - s * s.T / n) / (n - 1)
    if np.isnan(cov).any():
        raise ValueError("some pair of items is never answered together (or only once)")
    return cov


def _correlation(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete correlation matrix (R ``cor(x, use = "pairwise")``).

    Each correlation uses the rows where both items were answered, and the means
    and SDs of THOSE rows. This is not ``cov2cor`` of the pairwise covariances,
    which divides by SDs from every row where each single item was answered; the
    two agree when no answer is missing. Four matrix products on the zero-filled,
    mean-centred data.
    """
    miss = np.isnan(x)
    if not miss.any():
        return _cov2cor(np.cov(x, rowvar=False))
    m = (~miss).astype(np.float64)
    x0 = np.where(miss, 0.0, x - np.nanmean(x, axis=0))
    n = m.T @ m
    s = x0.T @ m  # s[j, k] = sum of x_j over rows where j and k are both present
    sq = (x0 * x0).T @ m  # sum of x_j^2 over those rows
    with np.errstate(invalid="ignore", divide="ignore"):
        cxy = x0.T @ x0 - s * s.T / n
        vx = sq - s * s / n  # (n - 1) var of x_j on the rows shared with x_k
        r = cxy / np.sqrt(vx * vx.T)
    np.fill_diagonal(r, 1.0)
    if np.isnan(r).any():
        raise ValueError("some pair of items is never answered together, or one of them is "
                         "constant where both were answered")
    return r


def _prepare(items, use: str, min_items: int = 2, *, correlation: bool = False):
    """Items, the rows used, and their pairwise covariances (or correlations)."""
    df = _as_items(items, min_items=min_items)
    x = _rows(df.to_numpy(), use)
    if len(x) < 3:
        raise ValueError(f"need at least 3 respondents with answers, got {len(x)}")
    if correlation:  # range of each item's answers (NaN if none), without a covariance
        spread = np.fmax.reduce(x, axis=0) - np.fmin.reduce(x, axis=0)
    else:
        mat = _covariance(x)
        spread = np.diag(mat)
    bad = [c for c, v in zip(df.columns, spread) if not v > 0]
    if bad:
        raise ValueError(f"items with no variance (drop them first): {bad}")
    return df, x, (_correlation(x) if correlation else mat)


def _alpha_raw(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return (1.0 - np.trace(cov) / cov.sum()) * k / (k - 1)


def _cov2cor(cov: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diag(cov))
    return cov * d[:, None] * d[None, :]


def _feldt(alpha: float, n: int, k: int, ci: float) -> tuple[float, float]:
    p = 1.0 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, df1, df2)
    high = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, df1, df2)
    return float(low), float(high)


# ---------------------------------------------------------------- alpha


def cronbach_alpha(items, *, ci: float = 0.95, use: str = "pairwise") -> pd.DataFrame:
    """Cronbach's alpha, raw and standardized, with Feldt's confidence interval.

    Parameters
    ----------
    items : DataFrame or 2-D array
        One column per item (already keyed in the same direction), one row per
        respondent; NaN = missing.
    ci : float
        Confidence level of the interval (default 0.95).
    use : {"pairwise", "complete"}
        Which rows each covariance uses (see the module notes). ``"pairwise"``
        reproduces ``psych::alpha``'s default.

    Returns
    -------
    DataFrame
        One row with columns

        - ``n``: complete cases (rows with every item answered)
        - ``n_rows``: rows used (``pairwise``: rows with at least one answer;
          ``complete``: = ``n``); the ``n`` of the Feldt interval
        - ``n_items``
        - ``alpha``: raw alpha, k/(k-1) (1 - tr C / sum C) from the covariances C
          (psych ``raw_alpha``)
        - ``alpha_std``: standardized alpha from the correlations (psych ``std.alpha``)
        - ``alpha_ci_low``, ``alpha_ci_high``: Feldt interval, with F(n-1, (n-1)(k-1))
          (psych ``alpha.ci``, printed as "Feldt")
        - ``average_r``: mean inter-item correlation (psych ``average_r``)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.reliability import cronbach_alpha
    >>> rng = np.random.default_rng(1)
    >>> t = rng.normal(size=500)
    >>> items = pd.DataFrame({f"q{i}": t + rng.normal(size=500) for i in range(4)})
    >>> res = cronbach_alpha(items)
    >>> list(res.columns)
    ['n', 'n_rows', 'n_items', 'alpha', 'alpha_std', 'alpha_ci_low', 'alpha_ci_high', 'average_r']
    >>> round(float(res["alpha"].iloc[0]), 2)
    0.77
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    df, x, cov = _prepare(items, use)
    k = cov.shape[0]
    r = _cov2cor(cov)
    alpha = _alpha_raw(cov)
    alpha_std = (1.0 - k / r.sum()) * k / (k - 1)
    avg_r = (r.sum() - k) / (k * (k - 1))
    n_complete = int((~df.isna().any(axis=1)).sum())
    low, high = _feldt(alpha, len(x), k, ci)
    return pd.DataFrame(
        {
            "n": [n_complete],
            "n_rows": [len(x)],
            "n_items": [k],
            "alpha": [alpha],
            "alpha_std": [alpha_std],
            "alpha_ci_low": [low],
            "alpha_ci_high": [high],
            "average_r": [avg_r],
        }
    )


def item_statistics(items, *, use: str = "pairwise") -> pd.DataFrame:
    """Per-item statistics: n, mean, SD, item-rest correlation, alpha if deleted.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Items keyed in the same direction; NaN = missing.
    use : {"pairwise", "complete"}
        As in :func:`cronbach_alpha`.

    Returns
    -------
    DataFrame
        One row per item with columns

        - ``item``: column name
        - ``n``: respondents who answered the item (of the rows used)
        - ``mean``, ``sd``: of the answered values
        - ``r_item_rest``: corrected item-total correlation, the correlation of the
          item with the sum of the other items, computed from the covariance
          matrix (psych ``r.drop``)
        - ``alpha_if_deleted``: raw alpha of the remaining items (psych
          ``alpha.drop$raw_alpha``); NaN when only one item would remain

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.reliability import item_statistics
    >>> rng = np.random.default_rng(1)
    >>> t = rng.normal(size=500)
    >>> items = pd.DataFrame({"q1": t + rng.normal(size=500), "q2": t + rng.normal(size=500),
    ...                       "q3": rng.normal(size=500)})
    >>> st = item_statistics(items)
    >>> st["item"].tolist(), bool(st["r_item_rest"].iloc[2] < 0.2)
    (['q1', 'q2', 'q3'], True)
    """
    df, x, cov = _prepare(items, use)
    k = cov.shape[0]
    total = cov.sum()
    colsum = cov.sum(axis=0)
    diag = np.diag(cov)
    r_rest = np.empty(k)
    a_del = np.full(k, np.nan)
    for i in range(k):
        v_drop = total - 2.0 * colsum[i] + diag[i]
        r_rest[i] = (colsum[i] - diag[i]) / np.sqrt(diag[i] * v_drop)
        if k > 2:
            keep = np.arange(k) != i
            a_del[i] = _alpha_raw(cov[np.ix_(keep, keep)])
    xs = pd.DataFrame(x, columns=df.columns)
    return pd.DataFrame(
        {
            "item": list(df.columns),
            "n": xs.notna().sum().to_numpy(),
            "mean": xs.mean().to_numpy(),
            "sd": xs.std(ddof=1).to_numpy(),
            "r_item_rest": r_rest,
            "alpha_if_deleted": a_del,
        }
    )


# ---------------------------------------------------------------- omega


def _smc(r: np.ndarray) -> np.ndarray:
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    return 1.0 - 1.0 / np.diag(inv)


def _minres_one_factor(r: np.ndarray) -> np.ndarray:
    """Loadings of a one-factor minres (= ULS) solution of a correlation matrix.

    Follows ``psych::fa(r, 1, fm = "minres")``: uniquenesses psi are optimized
    by L-BFGS-B within [0.005, max(1, smc)], starting from 1 - smc; the loadings
    are the first eigenvector of R - diag(psi) times the root of its eigenvalue.
    The objective is the ULS function concentrated over the loadings,
    1/2 sum_{k>=2} e_k(R - diag psi)^2, whose exact gradient
    diag(l l' + psi - R) is the one psych uses; it has the same minimum as the
    sum of squared off-diagonal residuals that psych evaluates.
    """
    k = r.shape[0]

    def fun(psi):
        e, v = np.linalg.eigh(r - np.diag(psi))
        lam = v[:, -1] * np.sqrt(max(e[-1], 0.0))
        g = lam**2 + psi - np.diag(r)
        return 0.5 * float(np.sum(e[:-1] ** 2)), g

    smc = _smc(r)
    start = np.clip(np.diag(r) - smc, 0.005, None)
    upper = max(1.0, float(smc.max()))
    res = optimize.minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.005, upper)] * k,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000},
    )
    e, v = np.linalg.eigh(r - np.diag(res.x))
    lam = v[:, -1] * np.sqrt(max(e[-1], 0.0))
    if lam.sum() < 0:
        lam = -lam
    return lam


def omega_total(items, *, use: str = "pairwise", denominator: str = "observed") -> float:
    """Standardized McDonald's omega total from a one-factor model of the item correlations.

    Fits one factor by minres to the pairwise correlation matrix R of the items
    (R's ``cor(x, use = "pairwise")``: each correlation from the rows where both
    items were answered), as ``psych::omega(x, nfactors = 1)`` does
    (``fm = "minres"`` is omega's default, and with one factor the Schmid-Leiman
    step leaves the loadings unchanged), and returns

    * ``denominator="observed"`` (default, = ``psych::omega()$omega.tot``):
      omega_t = (sum R - sum u2) / sum R, with u2 = 1 - lambda^2 the uniquenesses
      and sum R the observed variance of the standardized total;
    * ``denominator="model"``: (sum lambda)^2 / ((sum lambda)^2 + sum u2), the
      variance of the total implied by the one-factor model (as CFA-based
      programs such as ``semTools::compRelSEM`` report it). The two differ by
      how well one factor reproduces the off-diagonal correlations (0.7229 vs
      0.7232 on the bfi agreeableness scale).

    This is omega of the STANDARDIZED items (psych's default), like
    ``alpha_std`` and unlike the raw ``alpha`` of :func:`cronbach_alpha`; label
    it as such (see :data:`LABELS`).

    Agreement with ``psych::omega`` (psych 2.2.9): omega total to 4e-7 and the
    loadings to 1e-5 on 20 bfi scale data sets with up to 89% incomplete rows
    (``tests/fixtures/r/omega_missing.R``, ``reliability.R``). What remains is
    where the two optimizers stop (psych's ``optim`` L-BFGS-B with default
    tolerances); the model, the correlation matrix and the formula are the same.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Items keyed in the same direction (at least 3); NaN = missing.
    use : {"pairwise", "complete"}
        Rows used by each correlation.
    denominator : {"observed", "model"}
        See above.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.reliability import omega_total
    >>> rng = np.random.default_rng(1)
    >>> t = rng.normal(size=2000)
    >>> items = pd.DataFrame({f"q{i}": 0.7 * t + 0.71 * rng.normal(size=2000) for i in range(5)})
    >>> round(omega_total(items), 2)
    0.84
    """
    if denominator not in ("observed", "model"):
        raise ValueError(f"denominator must be 'observed' or 'model', got {denominator!r}")
    _, _, r = _prepare(items, use, min_items=3, correlation=True)
    lam = _minres_one_factor(r)
    u2 = 1.0 - lam**2
    if denominator == "observed":
        vt = r.sum()
        return float((vt - u2.sum()) / vt)
    s2 = lam.sum() ** 2
    return float(s2 / (s2 + u2.sum()))


# ---------------------------------------------------------------- one call


def reliability(
    items,
    *,
    reverse: Iterable[str] | None = None,
    response_range: tuple[float, float] | None = None,
    ci: float = 0.95,
    use: str = "pairwise",
) -> pd.DataFrame:
    """Raw alpha (with Feldt CI) and standardized omega total of one scale, in one row.

    Parameters
    ----------
    items : DataFrame
        One column per item; NaN = missing.
    reverse : list of str, optional
        Items to reverse-key first, as ``min + max - x``. Without it the items
        must already be keyed in the same direction.
    response_range : (min, max), optional
        The scale's response range used for reversing. By default the smallest
        and largest value observed over all items (as ``psych::alpha(keys=)``).
        Reversing does not change alpha or omega, only item means.
    ci : float
        Level of the Feldt interval.
    use : {"pairwise", "complete"}
        As in :func:`cronbach_alpha`.

    Returns
    -------
    DataFrame
        One row: ``n`` (complete cases), ``n_rows``, ``n_items``, ``alpha``,
        ``alpha_std``, ``alpha_ci_low``, ``alpha_ci_high``, ``average_r``,
        ``omega_total`` (NaN with fewer than 3 items); see
        :func:`cronbach_alpha` and :func:`omega_total`. ``alpha`` is raw (from
        the covariances), ``omega_total`` standardized (from the correlations);
        :data:`LABELS` has display names that say so.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.reliability import reliability
    >>> rng = np.random.default_rng(2)
    >>> t = rng.normal(size=800)
    >>> def likert(z):
    ...     return np.clip(np.round(3 + z), 1, 5)
    >>> items = pd.DataFrame({"q1": likert(t + rng.normal(size=800)),
    ...                       "q2": likert(t + rng.normal(size=800)),
    ...                       "q3": likert(-t + rng.normal(size=800))})
    >>> res = reliability(items, reverse=["q3"], response_range=(1, 5))
    >>> bool(res["alpha"].iloc[0] > 0.6), bool(res["omega_total"].iloc[0] > 0.6)
    (True, True)
    """
    df = _as_items(items)
    if reverse:
        reverse = list(reverse)
        unknown = [c for c in reverse if c not in df.columns]
        if unknown:
            raise ValueError(f"reverse names items that are not columns: {unknown}")
        if response_range is None:
            lo, hi = np.nanmin(df.to_numpy()), np.nanmax(df.to_numpy())
        else:
            lo, hi = response_range
            if not lo < hi:
                raise ValueError(f"response_range must be (min, max) with min < max, got {response_range}")
        df = df.assign(**{c: lo + hi - df[c] for c in reverse})
    out = cronbach_alpha(df, ci=ci, use=use)
    out["omega_total"] = omega_total(df, use=use) if df.shape[1] >= 3 else np.nan
    return out

"""Multiple imputation of the primary model's data and delta adjustment (issue 15).

:func:`impute` takes the LONG scored data (one row per child and wave) and a
:class:`core.design.Design`, builds one row per randomized child (the last wave's
outcome, the baseline outcome, the covariates, arm, clusters, blocks) and draws ``m``
completed data sets by chained equations. :meth:`Imputations.analyse` fits the
primary model to each, :meth:`Imputations.pool` pools them by Rubin's rules
(:mod:`analysis.rubin`), and :func:`delta_adjustment` shifts the imputed outcomes of
the non-responders to find the tipping point of the conclusion.

The imputation model (the choices the issue asks to state)
----------------------------------------------------------
* **Scale level, not item level.** The primary model analyses scale scores, so the
  scores are imputed: the endline outcome, the baseline outcome and any incomplete
  numeric covariate. An item-level model would need one equation per item (12-24 per
  questionnaire) with a few hundred children per arm: unstable chains and many more
  parameters than the data carry, for little gain when, as here, most missingness is
  whole waves (a child who left has no items at all). The price: a child whose score
  is missing because fewer than ``min_items`` items were answered is imputed from
  the other variables, without the items it did answer.
* **Within arm.** The chains run separately in each arm (Sullivan et al. 2018; the
  "impute by randomized group" of Carpenter & Kenward 2013): every association of
  the imputation model (with the baseline outcome, the covariates, the school) may
  differ between arms, so the imputation is congenial with the ANCOVA and with any
  arm x covariate interaction a later analysis adds, and the donors of predictive
  mean matching come from the child's own arm.
* **Clusters through cluster-mean predictors.** The outermost cluster (the school,
  the unit of randomization and of the CR2 SEs) enters as two predictors: the mean
  of the OTHER children's observed endline outcomes in the child's school, and the
  same for the baseline outcome (leave-one-out, so that an observed child's own score
  is not among its predictors; a school with no other observed child gets the arm's
  mean). With 20-40 schools of 10-40 children, school fixed effects would add a
  parameter per school to every equation and overstate the between-school variance
  of the imputations (Andridge 2011; Lüdtke, Robitzsch & Grund 2017), while a
  single-level model without the school would pull every school towards the arm mean
  and understate the ICC, i.e. make the cluster-robust analysis anticonservative.
  The analysis model is marginal (OLS + CR2), so the imputation model need not be
  multilevel; manifest cluster means carry the school's level into it. Block
  dummies (the randomization strata, fixed effects in the analysis) and the
  covariates are further predictors.
* **Predictive mean matching** (mice's default, statsmodels' only method): every
  imputed value is a score some child in the same arm actually has, so a scale's
  range and granularity are kept. ``donors`` = 5 as mice (statsmodels' default is 20),
  with mice's draw and matching (``matchtype = 1``; see ``matching``).
  ``method="norm"`` (Bayesian linear regression, mice's ``norm``) is the alternative
  when attrition depends so strongly on the baseline that few donors lie near the
  children who left: PMM then pulls their imputations towards the middle. In
  bench/imputation.py (20 schools x 20 children, the treated with low baselines
  leaving, 30% vs 16%, effect 0.3 + 0.5 x baseline; 500 trials) PMM kept a bias of
  +0.040 (MC SE 0.009; complete cases +0.131) with 94.2% coverage, ``norm`` had
  bias -0.003 (0.009) with 97.2% coverage (conservative: the within-arm imputation
  model is richer than the ANCOVA, Meng 1994); under MNAR with the true delta the
  delta-adjusted PMM estimate kept +0.026 of a +0.149 MAR bias, ``norm`` -0.0003.
  For the ANCOVA of a scale score, whose imputed values need not be observable
  scores, ``norm`` is the better choice when the attrition depends strongly on the
  baseline.
* **Text covariates** with missing values get their own "(missing)" level (a
  missing-indicator; valid for baseline covariates in a randomized trial, White &
  Thompson 2005); numeric covariates are imputed by the chain.
* **m and the seed.** Default m = 20; the rule (White, Royston & Wood 2011; von
  Hippel 2020) is m >= 100 x FMI, at least 20: :func:`suggested_m` and the
  ``suggested_m`` column say when the fraction of missing information asks for
  more. Each arm's chain is seeded from ``numpy.random.SeedSequence(seed)``; the same
  seed gives identical imputations, estimates and tables.

What statsmodels provides and what is written here
--------------------------------------------------
``statsmodels.imputation.mice.MICEData`` does the chained equations: the cycle
order (fewest missing first), the initial fill, the bookkeeping of observed and
missing cells, and (with ``matching="statsmodels"``) its own Gaussian perturbation of
the OLS coefficients and predictive mean matching. Written here (subclassing it):
the design matrices without patsy (the same numbers, 12 times faster), mice's
posterior draw of coefficients and residual SD with type-1 matching (the default:
MICEData's draw ignores the residual SD's uncertainty and matches both sides on the
drawn coefficients; its pooled estimate differed from mice's by more than the Monte
Carlo error on the parity fixture) and ``norm``; the one-row-per-child data of the primary model, the
within-arm chains and the cluster-mean predictors (MICEData has no notion of
groups or clusters), drawing m data sets from a chain (a burn-in of ``burn_in``
cycles, then one data set every ``thin`` cycles; with a single incomplete variable
every cycle is an independent draw, so neither is needed), the analysis of each
completed data set with the primary model's own code (:mod:`analysis.effects`
builds the design matrix, :mod:`analysis.cluster_robust` fits OLS with CR2 SEs and
Bell-McCaffrey df, vectorized over the m data sets when only the outcome was
imputed), the pooling of CR2 fits with Barnard-Rubin df (:mod:`analysis.rubin`;
statsmodels' ``MICE`` pools only model-based covariances with normal inference),
and the delta adjustment.

Delta adjustment
----------------
:func:`delta_adjustment` adds ``delta x SD`` to the imputed endline outcome of every
non-responder of the shifted arm(s) (``SD``: the SD of the observed endline outcome,
both arms), after imputation (the offset of a pattern-mixture model, as
``mice``'s ``post`` with a constant shift of the final imputations; the other imputed
variables are not re-drawn), and refits and pools. ``delta > 0``: the children who
left would have scored HIGHER than the MAR imputation predicts. The tipping point is
the delta of smallest absolute value at which the conclusion at ``delta = 0``
changes (a CI that excluded 0 starts to include it, or one that included 0 stops
doing so), found on the grid and refined by bisection.

Limits
------
The imputation assumes missing at random given arm, baseline outcome, covariates,
blocks and the school means; the delta adjustment is the check of that assumption.
Only the primary ANCOVA is analysed (``ols_cr2`` with clusters, ``ancova_hc2``
without): a design whose primary model is ``did`` or ``mixed_reml`` gets the
ANCOVA on the imputed data. Children without arm, cluster or block are left out
(design information is never imputed).

References
----------
Meng, X.-L. (1994). Multiple-imputation inferences with uncongenial sources of input.
*Statistical Science*, 9(4), 538-558.
Andridge, R. R. (2011). Quantifying the impact of fixed effects modeling of clusters in
multiple imputation for cluster randomized trials. *Biometrical Journal*, 53(1), 57-74.
Carpenter, J. R., & Kenward, M. G. (2013). *Multiple Imputation and its Application*. Wiley.
Sullivan, T. R., White, I. R., Salter, A. B., Ryan, P., & Lee, K. J. (2018). Should
multiple imputation be stratified by randomization group in clinical trials?
*Statistical Methods in Medical Research*, 27(3), 904-916.
White, I. R., Royston, P., & Wood, A. M. (2011). Multiple imputation using chained
equations. *Statistics in Medicine*, 30(4), 377-399.
White, I. R., & Thompson, S. G. (2005). Adjusting for partially missing baseline
measurements in randomized trials. *Statistics in Medicine*, 24(7), 993-1007.
von Hippel, P. T. (2020). How many imputations do you need? *Sociological Methods &
Research*, 49(3), 699-718.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cluster_robust import CR2Design, hc2_test_many
from analysis.effects import _dummies, design_matrix
from analysis.rubin import POOLED_COLUMNS, pool_columns

__all__ = [
    "DELTA_COLUMNS",
    "FIT_COLUMNS",
    "MI_COLUMNS",
    "TIPPING_COLUMNS",
    "DeltaResult",
    "Imputations",
    "delta_adjustment",
    "impute",
    "suggested_m",
]

FIT_COLUMNS = ["imputation", "outcome", "arm", "control", "model", "estimate", "std_error", "df",
               "n_obs", "n_clusters"]
"""Columns of :meth:`Imputations.analyse`: one row per imputation x treatment arm (the
arm's coefficient in the primary model fitted to that completed data set)."""

MI_COLUMNS = ["outcome", "arm", "control", "model", "delta", "shifted", *POOLED_COLUMNS,
              "n_obs", "n_observed", "n_imputed", "n_clusters", "suggested_m"]
"""Columns of :meth:`Imputations.pool`: ``outcome, arm, control, model``; ``delta``
(SD units) and ``shifted`` (the arm(s) shifted; ``none`` for MAR) of the delta
adjustment; the pooled columns of :data:`analysis.rubin.POOLED_COLUMNS` (``fmi``,
``riv``, ``df_complete`` the mean CR2 df ...); ``n_obs`` (children analysed, all
randomized children with their design columns), ``n_observed`` (with the endline
outcome), ``n_imputed`` (endline outcome imputed), ``n_clusters`` (outermost) and
``suggested_m`` (:func:`suggested_m` of the row's FMI)."""

DELTA_COLUMNS = MI_COLUMNS
"""Columns of :attr:`DeltaResult.grid`: those of :meth:`Imputations.pool`, one row per
delta x arm."""

TIPPING_COLUMNS = ["outcome", "arm", "shifted", "side", "conclusion_at_0", "tipping_delta",
                   "estimate", "ci_low", "ci_high", "found"]
"""Columns of :attr:`DeltaResult.tipping`: one row per treatment arm x side (``down``:
delta < 0, ``up``: delta > 0); ``conclusion_at_0`` (``positive``, ``negative`` or
``unclear``: the CI excludes 0 above, below, or includes it); ``tipping_delta`` the
delta of smallest absolute value on that side at which the conclusion differs (NaN
when it does not within the grid, ``found`` False); ``estimate, ci_low, ci_high``
pooled at ``tipping_delta``."""

_MISSING_LEVEL = "(missing)"


def suggested_m(fmi, minimum: int = 20) -> int:
    """The number of imputations the rule asks for: ``max(minimum, ceil(100 x FMI))``.

    White, Royston & Wood (2011): m at least 100 times the fraction of missing
    information keeps the Monte Carlo error of the pooled estimate, SE and p-value
    small (about 10% of the SE for the estimate); von Hippel (2020) refines it for the
    SE; 20 is the floor used here.

    Examples
    --------
    >>> from analysis.imputation import suggested_m
    >>> suggested_m(0.12), suggested_m(0.35)
    (20, 35)
    """
    a = np.atleast_1d(np.asarray(fmi, dtype=float))
    f = float(np.max(a[np.isfinite(a)])) if np.isfinite(a).any() else np.nan
    if not np.isfinite(f):
        return int(minimum)
    return int(max(minimum, np.ceil(100 * min(max(f, 0.0), 1.0) - 1e-9)))


# -- the data of the primary model, one row per child ---------------------------------
def _child_frame(data: pd.DataFrame, design, outcome: str) -> pd.DataFrame:
    """One row per child with arm, clusters, blocks and covariates, ``_y0`` and ``_y``."""
    need = [c for c in (*design.structure, *design.covariates, outcome) if c not in data.columns]
    if need:
        raise ValueError(f"columns not in data: {need}")
    if design.arm is None or design.control is None:
        raise ValueError("multiple imputation of the primary model needs an arm column and a control")
    w = data[design.wave].astype(str)
    end = data[w == design.endline].drop_duplicates(design.id).set_index(design.id)
    has_base = design.has_baseline and design.baseline != design.endline
    base = (data[w == design.baseline].drop_duplicates(design.id).set_index(design.id)
            if has_base else end.iloc[:0])
    ids = pd.Index(pd.unique(pd.concat([base.index.to_series(), end.index.to_series()])))
    e, b = end.reindex(ids), base.reindex(ids)
    out = pd.DataFrame({design.id: ids.to_numpy()})
    for c in dict.fromkeys((design.arm, *design.clusters, design.blocks)):
        if c:  # design columns: the endline row's, else the baseline row's
            out[c] = e[c].where(e[c].notna(), b[c]).to_numpy()
    for c in design.covariates:  # covariates: the baseline row's, else the endline row's
        out[c] = b[c].where(b[c].notna(), e[c]).to_numpy() if has_base else e[c].to_numpy()
    out["_y"] = pd.to_numeric(e[outcome], errors="coerce").to_numpy(dtype=float)
    if has_base:
        y0 = pd.to_numeric(b[outcome], errors="coerce").to_numpy(dtype=float)
        if np.isfinite(y0).any():
            out["_y0"] = y0
    keep = out[[c for c in (design.arm, *design.clusters, design.blocks) if c]].notna().all(axis=1)
    out = out[keep.to_numpy()].reset_index(drop=True)
    for c in design.covariates:
        s = out[c]
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            out[c] = s.astype(object).where(s.notna(), _MISSING_LEVEL).astype(str)
    return out


def _loo_cluster_mean(values: np.ndarray, clusters: np.ndarray, fallback: float) -> np.ndarray:
    """Mean of the OTHER observed values of each row's cluster (fallback when none)."""
    obs = np.isfinite(values)
    _, codes = np.unique(clusters, return_inverse=True)
    s = np.bincount(codes, weights=np.where(obs, values, 0.0))
    k = np.bincount(codes, weights=obs.astype(float))
    own_s = np.where(obs, values, 0.0)
    own_k = obs.astype(float)
    num, den = s[codes] - own_s, k[codes] - own_k
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), fallback)


def _predictors(sub: pd.DataFrame, design) -> pd.DataFrame:
    """The numeric predictor/target frame of one arm's chain, columns ``v0, v1, ...``."""
    cols: dict[str, np.ndarray] = {"_y": sub["_y"].to_numpy(float)}
    if "_y0" in sub.columns:
        cols["_y0"] = sub["_y0"].to_numpy(float)
    for c in design.covariates:
        s = sub[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols[f"cov:{c}"] = s.to_numpy(dtype=float)
        else:  # the columns of get_dummies(prefix=c, prefix_sep="=", drop_first=True)
            d, names = _dummies(s.astype(str), c)
            cols.update({f"cov:{k}": d[:, i] for i, k in enumerate(names)})
    if design.blocks:  # get_dummies(prefix="block", drop_first=True): "block_<level>"
        d, names = _dummies(sub[design.blocks].astype(str), "block")
        cols.update({"block_" + k.removeprefix("block="): d[:, i] for i, k in enumerate(names)})
    if design.clusters:
        g = sub[design.clusters[0]].astype(str).to_numpy()
        for v in ("_y", "_y0"):
            if v in cols:
                x = cols[v]
                fallback = float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else np.nan
                cols[f"cm{v}"] = _loo_cluster_mean(x, g, fallback)
    # drop constant and collinear predictors (fully observed ones only; in order)
    complete = {c: not np.isnan(x).any() for c, x in cols.items()}
    chosen: list[str] = []
    for c, x in cols.items():
        if not complete[c]:
            chosen.append(c)
            continue
        if np.nanstd(x) == 0:
            continue
        M = np.column_stack([np.ones(len(sub)), *(cols[k] for k in chosen if complete[k]), x])
        if np.linalg.matrix_rank(M) == M.shape[1]:
            chosen.append(c)
    return pd.DataFrame({c: cols[c] for c in chosen}, index=pd.RangeIndex(len(sub)))


def _mice_data(frame: pd.DataFrame, *, rng, donors: int, fast: bool = True, matching: str = "mice",
               method: str = "pmm"):
    """statsmodels' MICEData on ``frame`` (columns renamed ``v0, v1, ...``).

    ``fast``: the default imputation formula of MICEData (main effects of every other
    column, with an intercept) is built from the columns directly instead of through
    patsy at every update, which took 90% of the time (28 ms of 30 ms per update on
    200 rows); the matrices, and so the draws, are the same (tested).

    ``matching="mice"``: the draw and the matching of ``mice.impute.pmm`` (mice 3.x,
    ``matchtype = 1``): coefficients AND residual SD drawn from their posterior
    (``sigma* = sqrt(RSS / chi2(n - p))``, ``beta* = beta_hat + sigma* L z`` with
    ``L L' = (X'X)^-1``), observed cases predicted with ``beta_hat`` and missing cases with
    ``beta*``, one of the ``donors`` closest observed cases drawn at random. MICEData's own
    (``matching="statsmodels"``) draws the coefficients only, with the residual SD fixed,
    and predicts both sides with the drawn coefficients, so most of the parameter
    uncertainty cancels in the matching: on the mice fixture its pooled estimate was 0.026
    (1.5 between-seed SDs of one run) below mice's, a difference 4.7 times its Monte Carlo
    error (tests/test_imputation_r.py).

    ``method="norm"``: Bayesian linear regression imputation (``mice.impute.norm``), the
    same draw of ``beta*`` and ``sigma*`` and then ``X beta* + sigma* z``; no matching.
    """
    from statsmodels.imputation.mice import MICEData

    class _MICEData(MICEData):
        def _xy(self, vname):
            # the predictors of a target whose other columns are all complete never change:
            # built once (the same matrix every update)
            fixed = self.__dict__.setdefault("_fixed_x", {})
            if vname in fixed:
                return self.data[vname].to_numpy(dtype=float), fixed[vname]
            A = self.data.to_numpy(dtype=float)  # one array, not a frame selection per call
            j = self.data.columns.get_loc(vname)
            X = np.column_stack([np.ones(len(A)), np.delete(A, j, axis=1)])
            X = X[:, _independent(X[self.ix_obs[vname]])]
            if all(len(self.ix_miss[c]) == 0 for c in self.data.columns if c != vname):
                fixed[vname] = X
            return A[:, j], X

        def get_fitting_data(self, vname):
            y, X = self._xy(vname)
            ix = self.ix_obs[vname]
            return y[ix], X[ix], {}, {}

        def get_split_data(self, vname):
            y, X = self._xy(vname)
            io, im = self.ix_obs[vname], self.ix_miss[vname]
            return y[io], X[io], X[im], {}, {}

    class _MiceMatching(_MICEData):
        def perturb_params(self, vname):
            y, X, _, _ = self.get_fitting_data(vname)
            coef, L, rss, df = _fit_draw_parts(X, y)
            sigma = np.sqrt(rss / self.rng.chisquare(df))
            self.params[vname] = (coef, coef + L @ self.rng.standard_normal(X.shape[1]) * sigma, sigma)

        def impute(self, vname):
            y_obs, X_obs, X_mis, _, _ = self.get_split_data(vname)
            coef, beta, sigma = self.params[vname]
            if method == "norm":  # mice.impute.norm: a draw from the posterior predictive
                vals = X_mis @ beta + sigma * self.rng.standard_normal(len(X_mis))
            else:
                vals = _match(X_obs @ coef, X_mis @ beta, y_obs, donors, self.rng)
            self._store_changes(vname, vals)

    if method == "norm":
        matching = "mice"
    cls = (_MiceMatching if matching == "mice" else _MICEData) if fast else MICEData
    if matching not in ("mice", "statsmodels"):
        raise ValueError("matching must be 'mice' or 'statsmodels'")
    return cls(frame, k_pmm=donors, rng=rng)


def _independent(X: np.ndarray) -> np.ndarray:
    """Columns of ``X`` to keep: the intercept (column 0) and every later column that is
    not constant and not a linear combination of the kept ones, in order.

    ``X`` holds the rows with the target observed, so a predictor can be constant there
    although it varies over the arm (a rare covariate level seen only among the
    non-responders of a small study). As ``mice``'s ``remove.lindep`` the predictor is
    dropped from that target's model, for the fit and for the predictions of the missing
    rows alike; a ridge penalty cannot help, since it scales with the zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0, 0, 0, 0], [1, 2, 3, 4], [2, 4, 6, 8], [1, 0, 0, 1]])
    >>> np.flatnonzero(_independent(X)).tolist()
    [0, 2, 4]
    """
    keep = np.ones(X.shape[1], bool)
    keep[1:] = np.ptp(X[:, 1:], axis=0) > 0 if len(X) else False
    if keep.sum() > np.linalg.matrix_rank(X[:, keep]):
        chosen = [0]
        for j in np.flatnonzero(keep)[1:]:
            if np.linalg.matrix_rank(X[:, chosen + [j]]) == len(chosen) + 1:
                chosen.append(j)
        keep[:] = False
        keep[chosen] = True
    return keep


def _match(yhat_obs, yhat_mis, y_obs, donors: int, rng) -> np.ndarray:
    """For each missing case, the observed value of one of its ``donors`` closest observed
    cases in predicted value (drawn at random), as ``mice:::matchindex``."""
    order = np.argsort(yhat_obs, kind="stable")
    return _match_sorted(yhat_obs[order], y_obs[order], yhat_mis, donors, rng)


def _match_sorted(ps, ys, yhat_mis, donors: int, rng) -> np.ndarray:
    """:func:`_match` with the observed cases already sorted by predicted value (``ps``
    ascending, ``ys`` their values): a chain whose observed side never changes sorts once."""
    k = int(min(donors, len(ps)))
    pos = np.searchsorted(ps, yhat_mis)
    win = pos[:, None] + np.arange(-k, k)[None, :]
    out = (win < 0) | (win >= len(ps))
    win = np.clip(win, 0, len(ps) - 1)
    dist = np.abs(yhat_mis[:, None] - ps[win])
    dist[out] = np.inf
    dist = dist + rng.random(dist.shape) * 1e-12 * (1 + np.abs(dist))  # random tie-breaking
    nearest = np.argsort(dist, axis=1)[:, :k]
    pick = nearest[np.arange(len(yhat_mis)), rng.integers(0, k, len(yhat_mis))]
    return ys[win[np.arange(len(yhat_mis)), pick]]


def _chain(frame: pd.DataFrame, m: int, *, rng, donors: int, burn_in: int, thin: int,
           fast: bool = True, matching: str = "mice", method: str = "pmm",
           arrays: bool = True) -> dict:
    """m draws of the incomplete columns of one arm's frame from one MICEData chain.

    With mice's matching (``fast``, the default) and ``arrays`` (the default) the chain
    runs on one float array (:func:`_chain_arrays`): the same steps and draws as the
    MICEData subclass of :func:`_mice_data`, without a DataFrame write per update (the same
    numbers, tested); ``arrays=False`` runs the MICEData subclass."""
    incomplete = [c for c in frame.columns if frame[c].isna().any()]
    if not incomplete:
        return {}
    for c in incomplete:
        n_obs = int(frame[c].notna().sum())
        if n_obs < max(2 * donors, frame.shape[1] + 2):
            raise ValueError(f"{c.lstrip('_').replace('cov:', '')}: only {n_obs} observed values in "
                             "an arm; too few to impute from")
    if fast and matching == "mice" and arrays and not frame.isna().all(axis=1).any():
        return _chain_arrays(frame, m, incomplete, rng=rng, donors=donors, burn_in=burn_in,
                             thin=thin, method=method)
    names = {c: f"v{i}" for i, c in enumerate(frame.columns)}
    md = _mice_data(frame.rename(columns=names), rng=rng, donors=donors, fast=fast,
                    matching=matching, method=method)
    single = len(incomplete) == 1
    out = {c: np.empty((m, len(frame))) for c in incomplete}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # singular cov of a perturbation draw
        if not single:
            md.update_all(burn_in)
        for i in range(m):
            md.update_all(1 if single else thin)
            for c in incomplete:
                out[c][i] = md.data[names[c]].to_numpy(dtype=float)
    return out


def _chain_arrays(frame: pd.DataFrame, m: int, incomplete: list, *, rng, donors: int,
                  burn_in: int, thin: int, method: str = "pmm") -> dict:
    """The chain of ``_mice_data(..., matching="mice")`` on one float array.

    Step for step what MICEData and its subclass do (tested equal): the cycle order (fewest
    missing first, ``np.argsort`` of the missing counts), the initial fill (the observed
    value closest to the column's mean), then per cycle and incomplete variable the draw of
    ``perturb_params`` and the imputation of ``impute``, stored before the next variable.
    What cannot change is computed once: the predictors of a variable whose other columns
    are complete, and with them the least-squares fit of its observed rows (its observed
    values never change), their sorted predictions and the Cholesky factor of the draw.
    Frames with a row missing everywhere (MICEData drops it) take the MICEData path.
    """
    data = frame.reset_index(drop=True)
    cols = list(data.columns)
    A = data.to_numpy(dtype=float, copy=True)
    miss = np.isnan(A)
    ix_obs = {j: np.flatnonzero(~miss[:, j]) for j in range(len(cols))}
    ix_miss = {j: np.flatnonzero(miss[:, j]) for j in range(len(cols))}
    nmiss = np.asarray([len(ix_miss[j]) for j in range(len(cols))])
    order = np.argsort(nmiss)
    order = order[sum(nmiss == 0):]
    for j in order:  # MICEData._initial_imputation, on the incomplete columns
        col = data[cols[j]]
        ix = np.abs(col - col.mean()).idxmin()
        A[ix_miss[j], j] = col.loc[ix]
    fixed: dict[int, tuple] = {}

    def predictors(j):
        if j in fixed:
            return fixed[j][0]
        X = np.column_stack([np.ones(len(A)), np.delete(A, j, axis=1)])
        X = X[:, _independent(X[ix_obs[j]])]
        if all(len(ix_miss[k]) == 0 for k in range(len(cols)) if k != j):
            fit = _fit_draw_parts(X[ix_obs[j]], A[ix_obs[j], j])
            pred = X[ix_obs[j]] @ fit[0]
            srt = np.argsort(pred, kind="stable")
            fixed[j] = (X, fit, (pred[srt], A[ix_obs[j], j][srt]))
        return X

    def update(j):
        X = predictors(j)
        io, im = ix_obs[j], ix_miss[j]
        if j in fixed:
            _, (coef, L, rss, df), (ps, ys) = fixed[j]
        else:
            X_obs = X[io]
            coef, L, rss, df = _fit_draw_parts(X_obs, A[io, j])
        sigma = np.sqrt(rss / rng.chisquare(df))
        beta = coef + L @ rng.standard_normal(X.shape[1]) * sigma
        X_mis = X[im]
        if method == "norm":
            vals = X_mis @ beta + sigma * rng.standard_normal(len(X_mis))
        elif j in fixed:
            vals = _match_sorted(ps, ys, X_mis @ beta, donors, rng)
        else:
            vals = _match(X[io] @ coef, X_mis @ beta, A[io, j], donors, rng)
        if len(im) > 0:
            A[im, j] = np.atleast_1d(vals)

    def cycles(n):
        for _ in range(n):
            for j in order:
                update(j)

    single = len(incomplete) == 1
    out = {c: np.empty((m, len(frame))) for c in incomplete}
    where = {c: cols.index(c) for c in incomplete}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # singular cov of a perturbation draw
        if not single:
            cycles(burn_in)
        for i in range(m):
            cycles(1 if single else thin)
            for c in incomplete:
                out[c][i] = A[:, where[c]]
    return out


def _fit_draw_parts(X, y):
    """(coef, L, RSS, df) of the draw of mice's pmm/norm: the least-squares fit of the
    observed rows, the Cholesky factor of ``(X'X)^-1`` (ridge-penalised when singular)."""
    coef, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    df = max(len(y) - X.shape[1], 1)
    xtx = X.T @ X
    try:
        if rank < X.shape[1]:
            raise np.linalg.LinAlgError
        v = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:  # as mice: a ridge penalty for collinear predictors
        v = np.linalg.inv(xtx + np.diag(np.diag(xtx) * 1e-5))
    return coef, np.linalg.cholesky((v + v.T) / 2), resid @ resid, df


def _arm_fits(Y: np.ndarray, X: pd.DataFrame, cr2, coef: int, alpha: float):
    """(estimates, SEs, df) of column ``coef`` of ``X`` for every row of ``Y``: CR2 with
    Bell-McCaffrey df (``cr2``, a :class:`~analysis.cluster_robust.CR2Design`), else HC2."""
    if cr2 is not None:
        est, se, df = cr2.estimate_many(Y, coef)
        return est, se, np.full(len(est), df)
    tab = hc2_test_many(Y, X, coef, alpha=alpha)
    return tuple(tab[x].to_numpy() for x in ("estimate", "std_error", "df"))


@dataclass
class Imputations:
    """m completed versions of the primary model's data (from :func:`impute`).

    Attributes
    ----------
    data : DataFrame
        One row per child: the design columns, covariates, ``_y`` (endline outcome)
        and ``_y0`` (baseline outcome, when there is a baseline), NaN where missing.
    design : core.design.Design
    outcome : str
        The outcome's name in the tables.
    y : ndarray (m, n)
        The completed endline outcome of each imputation (observed values kept).
    imputed : dict of str -> ndarray (m, n)
        The other completed columns (``_y0`` and numeric covariates with missing values).
    seed : int
    donors, burn_in, thin : int
    matching, method : str
        The settings of the chains.
    """

    data: pd.DataFrame
    design: object
    outcome: str
    y: np.ndarray
    imputed: dict = field(default_factory=dict)
    seed: int = 0
    donors: int = 5
    burn_in: int = 10
    thin: int = 5
    matching: str = "mice"
    method: str = "pmm"

    @property
    def m(self) -> int:
        """Number of imputations."""
        return int(self.y.shape[0])

    @property
    def responded(self) -> np.ndarray:
        """True for the children whose endline outcome was observed."""
        return np.isfinite(self.data["_y"].to_numpy(dtype=float))

    def completed(self, i: int) -> pd.DataFrame:
        """The i-th completed data set (one row per child, as :attr:`data`).

        Examples
        --------
        >>> from analysis.imputation import _example
        >>> imp = _example()
        >>> imp.completed(0)["_y"].isna().any(), len(imp.completed(0)) == len(imp.data)
        (np.False_, True)
        """
        d = self.data.copy()
        d["_y"] = self.y[i]
        for c, v in self.imputed.items():
            d[c] = v[i]
        return d

    @property
    def model(self) -> str:
        """The model fitted to each completed data set: ``ols_cr2`` or ``ancova_hc2``."""
        return "ols_cr2" if self.design.clusters else "ancova_hc2"

    def _arms(self) -> list[str]:
        a = set(self.data[self.design.arm].astype(str).unique())
        return sorted(a - {str(self.design.control)})

    def _fixed(self):
        """(X, rows, CR2Design or None) shared by every fit when only the outcome was imputed."""
        if "_fixed_cache" not in self.__dict__:
            design, outer = self.design, (self.design.clusters[0] if self.design.clusters else None)
            X, idx = design_matrix(self.completed(0), design, self._arms(), baseline="_y0" in self.data)
            g = self.data[outer].to_numpy()[idx] if outer else None
            self.__dict__["_fixed_cache"] = (X, np.asarray(idx), CR2Design(X, g) if outer else None, g)
        return self.__dict__["_fixed_cache"]

    def _design_of(self, i: int):
        """(X, rows, CR2Design or None, clusters) of the i-th completed data set (cached:
        the design does not depend on the outcome, so every delta reuses it)."""
        cache = self.__dict__.setdefault("_design_cache", {})
        if i not in cache:
            design, outer = self.design, (self.design.clusters[0] if self.design.clusters else None)
            d = self.completed(i)
            X, idx = design_matrix(d, design, self._arms(), baseline="_y0" in self.data)
            g = d[outer].to_numpy()[idx] if outer else None
            cache[i] = (X, np.asarray(idx), CR2Design(X, g) if outer else None, g)
        return cache[i]

    def _fits(self, Y: np.ndarray, alpha: float) -> dict:
        """Primary-model fits of the outcome rows ``Y`` (k, n): arrays (k, arms) of estimate,
        std_error, df; ``n_obs`` and ``n_clusters`` per arm."""
        design, arms = self.design, self._arms()
        outer = design.clusters[0] if design.clusters else None
        k, A = len(Y), len(arms)
        est, se, df = np.empty((k, A)), np.empty((k, A)), np.empty((k, A))
        n_obs, n_cl = np.zeros(A, int), np.full(A, np.nan)
        if not self.imputed:  # only the outcome was imputed: one design, all fits at once
            X, idx, d, g = self._fixed()
            Yi = Y[:, idx]
            for j, a in enumerate(arms):
                c = list(X.columns).index(f"arm[{a}]")
                est[:, j], se[:, j], df[:, j] = _arm_fits(Yi, X, d, c, alpha)
                n_obs[j] = len(idx)
                n_cl[j] = float(len(np.unique(g))) if outer else np.nan
        else:  # the baseline/covariates were imputed too: one design per imputation,
            # shared by every row of Y drawn from it (the delta grid only shifts the outcome)
            for r in range(min(self.m, k)):
                rows = np.arange(r, k, self.m)
                X, idx, d, g = self._design_of(r)
                Yi = Y[rows][:, idx]
                for j, a in enumerate(arms):
                    c = list(X.columns).index(f"arm[{a}]")
                    est[rows, j], se[rows, j], df[rows, j] = _arm_fits(Yi, X, d, c, alpha)
                n_obs[:] = len(idx)
                if outer:
                    n_cl[:] = float(len(np.unique(g)))
        return {"arms": arms, "estimate": est, "std_error": se, "df": df, "n_obs": n_obs,
                "n_clusters": n_cl}

    def analyse(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """Fit the primary model to every completed data set.

        The design matrix is the one :func:`analysis.effects.estimate_effects` builds
        (arm dummies against the control, baseline outcome, covariates, block fixed
        effects); SEs are CR2 at the outermost cluster with Bell-McCaffrey df
        (``ols_cr2``), or HC2 with n - p df without clusters (``ancova_hc2``). When
        only the outcome was imputed the m fits share one design and are computed
        at once (:meth:`analysis.cluster_robust.CR2Design.test_many`).

        Returns
        -------
        DataFrame
            :data:`FIT_COLUMNS`, one row per imputation x treatment arm.

        Examples
        --------
        >>> from analysis.imputation import _example
        >>> fits = _example().analyse()
        >>> fits.shape, fits["model"].iloc[0]
        ((20, 10), 'ols_cr2')
        """
        f = self._fits(self.y, alpha)
        rows = []
        for j, a in enumerate(f["arms"]):
            rows.append(pd.DataFrame({
                "imputation": np.arange(self.m), "outcome": self.outcome, "arm": a,
                "control": str(self.design.control), "model": self.model,
                "estimate": f["estimate"][:, j], "std_error": f["std_error"][:, j],
                "df": f["df"][:, j], "n_obs": int(f["n_obs"][j]),
                "n_clusters": float(f["n_clusters"][j])}))
        return pd.concat(rows, ignore_index=True)[FIT_COLUMNS]

    def pool(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """The primary model's effect pooled over the imputations (Rubin, Barnard-Rubin df).

        Returns
        -------
        DataFrame
            :data:`MI_COLUMNS`, one row per treatment arm (``delta`` 0, ``shifted``
            ``none``).

        Examples
        --------
        >>> from analysis.imputation import _example
        >>> r = _example().pool()
        >>> r[["arm", "m", "n_obs", "n_imputed"]].to_dict("records")
        [{'arm': 't', 'm': 20, 'n_obs': 240, 'n_imputed': 60}]
        >>> bool(0 < r["fmi"].iloc[0] < 1)
        True
        """
        return self._pool(self._fits(self.y, alpha), alpha, deltas=np.zeros(1), shifted="none")

    def _arm_labels(self) -> np.ndarray:
        """The arm of every child as text (computed once)."""
        if "_arm_text" not in self.__dict__:
            self.__dict__["_arm_text"] = self.data[self.design.arm].astype(str).to_numpy()
        return self.__dict__["_arm_text"]

    def _pool_arm(self, f: dict, j: int, G: int, alpha: float) -> dict:
        """Rubin's rules for arm ``j`` of fits of ``G`` blocks of m rows (one per delta):
        :func:`analysis.rubin.pool_columns`."""
        m = self.m
        return pool_columns(f["estimate"][:, j].reshape(G, m), f["std_error"][:, j].reshape(G, m),
                            f["df"][:, j].reshape(G, m), alpha=alpha)

    def _pool(self, f: dict, alpha: float, *, deltas: np.ndarray, shifted: str) -> pd.DataFrame:
        """Pool fits of ``len(deltas)`` blocks of m rows (one block per delta)."""
        arm = self._arm_labels()
        resp = self.responded
        out = []
        for j, a in enumerate(f["arms"]):
            p = self._pool_arm(f, j, len(deltas), alpha)
            both = np.isin(arm, [a, str(self.design.control)])
            cols = {"outcome": self.outcome, "arm": a, "control": str(self.design.control),
                    "model": self.model, "delta": np.asarray(deltas, float), "shifted": shifted}
            cols.update({c: np.full(len(deltas), v) if c == "m" else v for c, v in p.items()})
            cols.update(n_obs=int(f["n_obs"][j]), n_observed=int((resp & both).sum()),
                        n_imputed=int((~resp & both).sum()),
                        n_clusters=float(f["n_clusters"][j]),
                        suggested_m=[suggested_m(x) for x in cols["fmi"]])
            out.append(pd.DataFrame(cols))
        return pd.concat(out, ignore_index=True)[MI_COLUMNS]


def impute(data: pd.DataFrame, outcome: str, design, *, m: int = 20, seed: int = 0,
           donors: int = 5, burn_in: int = 10, thin: int = 5, method: str = "pmm",
           matching: str = "mice", name: str | None = None) -> Imputations:
    """Multiply impute the primary model's data by chained equations, within arm.

    The imputation model is described in the module docstring (scale level, within
    arm, leave-one-out school means of the outcome and the baseline, block dummies,
    covariates, predictive mean matching with ``donors`` donors).

    Parameters
    ----------
    data : DataFrame
        Long scored data (one row per child and wave), as for
        :func:`analysis.effects.estimate_effects`; a child who left has no endline
        row or a missing score.
    outcome : str
        The outcome column (a scale score).
    design : core.design.Design
        With an arm and a control (randomized, cluster_randomized, controlled ...).
    m : int
        Number of imputations (default 20; see :func:`suggested_m` for the rule).
    seed : int
        The run's seed; the same seed gives identical imputations.
    donors : int
        Donors of predictive mean matching (mice's default 5).
    burn_in, thin : int
        Cycles before the first imputation and between imputations of a chain
        (unused when only one variable is incomplete: every cycle is then an
        independent draw).
    method : {"pmm", "norm"}
        Predictive mean matching (default; imputed values are observed scores) or
        Bayesian linear regression (``mice``'s ``norm``: normal draws, not rounded to
        the scale's values; better in the tails when attrition depends strongly on
        the baseline and few donors are near the children who left).
    matching : {"mice", "statsmodels"}
        The parameter draw and the matching of predictive mean matching: ``mice``
        (default; ``mice.impute.pmm``'s: coefficients and residual SD drawn, observed
        cases predicted with the estimate, missing ones with the draw) or MICEData's own
        (coefficients drawn, both sides predicted with the draw); see ``_mice_data``.
    name : str, optional
        The outcome's name in the tables (default: ``outcome``).

    Returns
    -------
    Imputations

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.imputation import impute
    >>> rng = np.random.default_rng(1)
    >>> n = 240; school = np.repeat(np.arange(12), 20); arm = np.where(school % 2, "t", "c")
    >>> y0 = rng.normal(size=12)[school] + rng.normal(size=n)
    >>> y1 = 0.5 * y0 + 0.4 * (arm == "t") + rng.normal(size=n)
    >>> y1[rng.random(n) < 0.2] = np.nan
    >>> long = pd.concat([pd.DataFrame({"id": range(n), "wave": "b", "arm": arm, "school": school, "y": y0}),
    ...                   pd.DataFrame({"id": range(n), "wave": "e", "arm": arm, "school": school, "y": y1})])
    >>> d = Design(type="cluster_randomized", id="id", waves=("b", "e"), arm="arm", control="c",
    ...            clusters=("school",))
    >>> imp = impute(long, "y", d, m=5, seed=7)
    >>> imp.y.shape, bool(np.array_equal(imp.y, impute(long, "y", d, m=5, seed=7).y))
    ((5, 240), True)
    """
    if int(m) < 2:
        raise ValueError("m must be at least 2")
    if matching not in ("mice", "statsmodels"):
        raise ValueError("matching must be 'mice' or 'statsmodels'")
    if method not in ("pmm", "norm"):
        raise ValueError("method must be 'pmm' or 'norm'")
    if donors < 1 or burn_in < 0 or thin < 1:
        raise ValueError("donors and thin must be >= 1 and burn_in >= 0")
    wide = _child_frame(data, design, outcome)
    if not np.isfinite(wide["_y"].to_numpy(float)).any():
        raise ValueError(f"outcome {outcome!r}: no child has the endline outcome")
    arms = wide[design.arm].astype(str).to_numpy()
    levels = sorted(set(arms))
    if str(design.control) not in levels:
        raise ValueError(f"control arm {design.control!r} not found in {design.arm!r}")
    y = np.tile(wide["_y"].to_numpy(float), (int(m), 1))
    imputed: dict[str, np.ndarray] = {}
    streams = np.random.SeedSequence(int(seed)).spawn(len(levels))
    for a, ss in zip(levels, streams, strict=True):
        rows = np.flatnonzero(arms == a)
        frame = _predictors(wide.iloc[rows].reset_index(drop=True), design)
        draws = _chain(frame, int(m), rng=np.random.default_rng(ss), donors=int(donors),
                       burn_in=int(burn_in), thin=int(thin), matching=matching,
                       method=method)
        for c, v in draws.items():
            if c == "_y":
                y[:, rows] = v
                continue
            col = c.removeprefix("cov:")
            if col not in imputed:
                imputed[col] = np.tile(wide[col].to_numpy(float), (int(m), 1))
            imputed[col][:, rows] = v
    return Imputations(data=wide, design=design, outcome=name or outcome, y=y,
                       imputed=imputed, seed=int(seed), donors=int(donors),
                       burn_in=int(burn_in), thin=int(thin), matching=matching,
                       method=method)


# -- delta adjustment ------------------------------------------------------------------
@dataclass
class DeltaResult:
    """The delta adjustment of :func:`delta_adjustment`.

    Attributes
    ----------
    grid : DataFrame
        :data:`DELTA_COLUMNS`, one row per delta x treatment arm.
    tipping : DataFrame
        :data:`TIPPING_COLUMNS`, one row per treatment arm x side.
    sd : float
        The SD of the observed endline outcome (the unit of delta).
    """

    grid: pd.DataFrame
    tipping: pd.DataFrame
    sd: float

    def tipping_point(self, arm: str | None = None) -> float:
        """The tipping delta of smallest absolute value over both sides (NaN if none).

        Examples
        --------
        >>> from analysis.imputation import _example, delta_adjustment
        >>> res = delta_adjustment(_example(), [-2, -1, 0, 1, 2], shift="treatment")
        >>> round(res.tipping_point(), 2)  # the effect is no longer clear at -0.68 SD
        -0.68
        """
        t = self.tipping
        if arm is not None:
            t = t[t["arm"] == str(arm)]
        t = t[t["found"]]
        if t.empty:
            return float("nan")
        return float(t.loc[t["tipping_delta"].abs().idxmin(), "tipping_delta"])


def _conclusion(lo, hi) -> np.ndarray:
    return np.where(np.asarray(lo) > 0, "positive", np.where(np.asarray(hi) < 0, "negative", "unclear"))


def delta_adjustment(imputations: Imputations, deltas=None, *, shift: str = "treatment",
                     alpha: float = 0.05, tol: float = 1e-4) -> DeltaResult:
    """Shift the imputed outcomes of non-responders by delta SD; find the tipping point.

    Parameters
    ----------
    imputations : Imputations
        From :func:`impute` (MAR imputations).
    deltas : sequence of float, optional
        The grid, in SD units of the observed endline outcome; 0 is always added.
        Default -1 to 1 by 0.1.
    shift : {"treatment", "control", "both"}
        Whose imputed outcomes are shifted: every treatment arm's, the control's,
        or everybody's (the same delta in all arms).
    alpha : float
    tol : float
        Bisection tolerance of the tipping delta.

    Returns
    -------
    DeltaResult
        ``.grid`` (estimate and CI for every delta) and ``.tipping`` (per arm and
        side). ``delta > 0``: non-responders would have scored higher than MAR
        predicts. With ``shift="treatment"`` and a positive effect the tipping point is
        on the ``down`` side (children who left the program would have done worse).

    Examples
    --------
    >>> from analysis.imputation import _example, delta_adjustment
    >>> res = delta_adjustment(_example(), [-1, -0.5, 0, 0.5, 1])
    >>> res.grid[["delta", "estimate"]].round(3).shape
    (5, 2)
    >>> res.tipping[["side", "conclusion_at_0"]].to_dict("records")[0]
    {'side': 'down', 'conclusion_at_0': 'positive'}
    """
    if shift not in ("treatment", "control", "both"):
        raise ValueError("shift must be 'treatment', 'control' or 'both'")
    imp = imputations
    grid = np.array(sorted({0.0, *(float(d) for d in (np.round(np.arange(-1, 1.0001, 0.1), 10)
                                                        if deltas is None else deltas))}))
    if not np.all(np.isfinite(grid)):
        raise ValueError("deltas must be finite")
    y_obs = imp.data["_y"].to_numpy(float)
    sd = float(np.nanstd(y_obs, ddof=1))
    arm = imp.data[imp.design.arm].astype(str).to_numpy()
    is_control = arm == str(imp.design.control)
    who = {"treatment": ~is_control, "control": is_control, "both": np.ones(len(arm), bool)}[shift]
    mask = (~imp.responded & who).astype(float) * sd

    def fits(ds) -> dict:
        return imp._fits(np.concatenate([imp.y + d * mask for d in ds]), alpha)

    def pooled(ds) -> pd.DataFrame:
        ds = np.atleast_1d(np.asarray(ds, float))
        return imp._pool(fits(ds), alpha, deltas=ds, shifted=shift)

    def pooled_arm(d, a) -> dict:  # the bisection's: arm a at one delta, no table
        f = fits(np.atleast_1d(np.asarray(d, float)))
        return {k: v[0] for k, v in imp._pool_arm(f, f["arms"].index(a), 1, alpha).items()
                if k in ("estimate", "ci_low", "ci_high")}

    tab = pooled(grid).sort_values(["arm", "delta"], kind="stable").reset_index(drop=True)
    tips = []
    for a, ga in tab.groupby("arm", sort=True):
        ga = ga.set_index("delta").sort_index()
        c0 = str(_conclusion(ga.loc[0.0, "ci_low"], ga.loc[0.0, "ci_high"]))
        for side, ds in (("down", grid[grid < 0][::-1]), ("up", grid[grid > 0])):
            prev, hit = 0.0, None
            for d in ds:
                c = str(_conclusion(ga.loc[d, "ci_low"], ga.loc[d, "ci_high"]))
                if c != c0:
                    hit = (prev, d, c)
                    break
                prev = d
            row = {"outcome": imp.outcome, "arm": a, "shifted": shift, "side": side,
                   "conclusion_at_0": c0, "tipping_delta": np.nan, "estimate": np.nan,
                   "ci_low": np.nan, "ci_high": np.nan, "found": hit is not None}
            if hit is not None:
                lo_d, hi_d, _ = hit
                for _ in range(60):
                    if abs(hi_d - lo_d) <= tol:
                        break
                    mid = 0.5 * (lo_d + hi_d)
                    r = pooled_arm(mid, a)
                    if str(_conclusion(r["ci_low"], r["ci_high"])) == c0:
                        lo_d = mid
                    else:
                        hi_d = mid
                r = pooled_arm(hi_d, a)
                row.update(tipping_delta=float(hi_d), estimate=float(r["estimate"]),
                           ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]))
            tips.append(row)
    return DeltaResult(grid=tab, tipping=pd.DataFrame(tips, columns=TIPPING_COLUMNS), sd=sd)


def _example() -> Imputations:
    """A small cluster trial with 20% MAR attrition, imputed with m = 20 (doc examples)."""
    from core.design import Design

    rng = np.random.default_rng(1)
    n = 240
    school = np.repeat(np.arange(12), 20)
    arm = np.where(school % 2, "t", "c")
    y0 = rng.normal(size=12)[school] + rng.normal(size=n)
    y1 = 0.5 * y0 + 0.6 * (arm == "t") + 0.3 * rng.normal(size=12)[school] + rng.normal(size=n)
    y1[rng.random(n) < stats.norm.cdf(-0.6 - 0.5 * y0)] = np.nan
    long = pd.concat([
        pd.DataFrame({"id": range(n), "wave": "b", "arm": arm, "school": school, "y": y0}),
        pd.DataFrame({"id": range(n), "wave": "e", "arm": arm, "school": school, "y": y1}),
    ])
    d = Design(type="cluster_randomized", id="id", waves=("b", "e"), arm="arm", control="c",
               clusters=("school",))
    return impute(long, "y", d, m=20, seed=3)

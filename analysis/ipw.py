"""Inverse probability weighting for attrition (issue 15, item 4).

A child who answers the endline stands in for the children like her who did not. The
response propensity ``pi`` of every child is estimated from what was known at
baseline, and each respondent counts ``1 / pi`` times in the primary model. If
answering depends only on those baseline data (missing at random given them), the
weighted respondents of each arm look like the whole arm as randomized, and the
weighted estimate is unbiased where complete cases are not.

Choices:

* **Propensity model: one logistic regression per arm** (equivalently, every term
  interacted with arm) of answering the endline on the baseline outcome and the
  covariates. Differential attrition is exactly the case where the baseline score
  predicts answering differently in the two arms (a program that keeps the
  struggling children in the study); a pooled model with an arm main effect would
  force the same slopes and leave that imbalance in place. The cost is more
  parameters per child: with small arms or rare covariate levels the fit separates,
  and the error says which arm. Blocks and clusters are not in the propensity model
  (many school dummies would separate); the clustering enters the SEs.
* **Stabilized weights** ``w = q_a / pi`` for the respondents of arm ``a``, ``q_a`` the
  arm's response rate: the weights of an arm average about 1 and the weighted sample
  size stays near the number of respondents.
* **Outcome model**: the primary ANCOVA of :mod:`analysis.effects` (the same design
  matrix, :func:`analysis.effects.design_matrix`: arm dummies, baseline outcome,
  covariates, block fixed effects) fitted by weighted least squares on the
  respondents, with CR2 SEs at the outermost cluster level and Bell-McCaffrey/
  Satterthwaite df (``ols_cr2``, :class:`analysis.cluster_robust.CR2Design` with
  analytic weights, as ``clubSandwich::coef_test(lm(..., weights = w), vcov = "CR2")``),
  or HC2 with n - p df without clusters (``ancova_hc2``, as
  ``estimatr::lm_robust(..., weights = w, se_type = "HC2")``). With 40+ clusters the
  primary model of the effects page is the mixed model; the weighted fit stays the
  CR2 ANCOVA (weights in a mixed model are not the same thing) and the complete-case
  row next to it is the same CR2 ANCOVA, so the two rows differ only by the weights.
* **df**: the Satterthwaite df of clubSandwich (``df_method``). estimatr's
  ``lm_robust(weights =, se_type = "CR2")`` reports the same estimate and SE;
  tests/fixtures/r/ipw.R records its df too and tests/test_ipw.py compares both.
* The SEs treat the weights as known (as ``lm_robust`` with weights does): estimating
  the propensities usually makes the true sampling variance a little smaller, so the
  CI is, if anything, conservative (Lunceford & Davidian 2004).
* Children without a baseline score or with a missing covariate have no propensity:
  they are left out of both the weighted and the complete-case rows (``n_obs``).

References
----------
Seaman, S. R., & White, I. R. (2013). Review of inverse probability weighting for
dealing with missing data. *Statistical Methods in Medical Research*, 22(3), 278-295.
Kish, L. (1965). *Survey Sampling*. Wiley (effective sample size).
Lunceford, J. K., & Davidian, M. (2004). Stratification and weighting via the
propensity score in estimation of causal treatment effects. *Statistics in Medicine*,
23(19), 2937-2960.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cluster_robust import coef_test, independent_columns
from analysis.effects import design_matrix
from analysis.missingness import _irls_logit, fit_dropping_separation

__all__ = ["DIAGNOSTIC_COLUMNS", "EFFECT_COLUMNS", "IPWResult", "ipw_effects", "response_weights"]

EFFECT_COLUMNS = [
    "outcome", "arm", "control", "method", "model", "estimate", "std_error", "df", "df_method",
    "ci_low", "ci_high", "p_value", "n_obs", "n_clusters",
]
"""Columns of :attr:`IPWResult.effects`: one row per arm x ``method`` (``complete_case``,
``ipw``); ``model`` (``ols_cr2`` or ``ancova_hc2``); ``df_method`` (``Satterthwaite``
(clubSandwich's Bell-McCaffrey df) or ``n - p``); ``n_obs`` respondents in the fit;
``n_clusters`` outermost clusters (NaN without)."""

DIAGNOSTIC_COLUMNS = [
    "arm", "n", "n_responded", "response_rate", "weight_min", "weight_max", "weight_mean",
    "weight_ratio", "n_effective",
]
"""Columns of :attr:`IPWResult.diagnostics`, one row per arm: ``n`` children with a
propensity, ``n_responded``, ``response_rate``; the stabilized weights of the
respondents: ``weight_min``, ``weight_max``, ``weight_mean``, ``weight_ratio``
(max / min); ``n_effective`` Kish's effective sample size ``(sum w)^2 / sum w^2`` (the
respondents the weighted arm is worth; close to ``n_responded`` when the weights are
even)."""


def _propensity_matrix(sub: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    cols = [pd.DataFrame({"(Intercept)": np.ones(len(sub)), "baseline": sub["_y0"].to_numpy(float)})]
    for c in covariates:
        s = sub[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            cols.append(pd.DataFrame({c: s.to_numpy(dtype=float)}))
        else:
            cols.append(pd.get_dummies(s.astype(str), prefix=c, prefix_sep="=", drop_first=True,
                                       dtype=float))
    X = pd.concat([c.reset_index(drop=True) for c in cols], axis=1)
    # constant dummies in this arm and collinear columns add nothing
    return X.iloc[:, independent_columns(X)]


def response_weights(panel: pd.DataFrame, design, *, covariates: Sequence[str] | None = None,
                     drop_separating: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Response propensities (one logistic model per arm) and stabilized weights.

    Parameters
    ----------
    panel : DataFrame
        :func:`analysis.missingness.response_panel` of one outcome (needs ``_y0``).
    design : core.design.Design
    covariates : sequence of str, optional
        Default ``design.covariates``.
    drop_separating : bool
        False (default): a covariate level in which every child of an arm answered (or
        none did) stops the fit with an error naming the arm and the level. True: that
        covariate is left out of that arm's model
        (:func:`analysis.missingness.fit_dropping_separation`), and when even the
        baseline score alone cannot be fitted the arm's propensity is its response rate
        (weights 1); ``model.attrs["dropped"]`` lists what was left out (``arm``,
        ``covariate``, ``level``, ``n``, ``answered``).

    Returns
    -------
    (weights, model) : tuple of DataFrames
        ``weights``: the children with a propensity (baseline and covariates known),
        the panel's columns plus ``propensity`` and ``weight`` (``q_arm / propensity``
        for respondents, NaN for the others). ``model``: the propensity models, one
        row per arm x term: ``arm, term, estimate`` (log-odds), ``std_error``
        (model-based), ``n, n_responded``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.ipw import response_weights
    >>> rng = np.random.default_rng(0)
    >>> p = pd.DataFrame({"arm": np.repeat(["c", "t"], 150), "_y0": rng.normal(size=300)})
    >>> p["responded"] = rng.random(300) < 1 / (1 + np.exp(-(1 + p["_y0"])))
    >>> w, m = response_weights(p, Design(type="randomized", id="id", arm="arm", control="c"))
    >>> bool(w.loc[w.responded, "weight"].notna().all()), bool(w.loc[~w.responded, "weight"].isna().all())
    (True, True)
    >>> m["term"].tolist()
    ['(Intercept)', 'baseline', '(Intercept)', 'baseline']
    """
    covariates = list(design.covariates if covariates is None else covariates)
    if "_y0" not in panel.columns:
        raise ValueError("inverse probability weights need a baseline wave: the propensity "
                         "model uses the baseline outcome")
    need = [c for c in (design.arm, "responded", *covariates) if c not in panel.columns]
    if need:
        raise ValueError(f"columns not in the response panel: {need}")
    known = panel[["_y0", *covariates]].notna().all(axis=1).to_numpy()
    out = panel[known].reset_index(drop=True).copy()
    out["propensity"] = np.nan
    out["weight"] = np.nan
    rows = []
    dropped: list[dict] = []
    for a, idx in out.groupby(out[design.arm].astype(str), sort=True).indices.items():
        sub = out.iloc[idx]
        y = sub["responded"].to_numpy(dtype=float)
        flat = y.min() == y.max()
        if not flat:
            try:
                if drop_separating:
                    X, beta, pi, more = fit_dropping_separation(
                        lambda covs, sub=sub: _propensity_matrix(sub, covs), y, covariates)
                    dropped += [{"arm": a, **d} for d in more]
                else:
                    X = _propensity_matrix(sub, covariates)
                    beta, pi = _irls_logit(X, y)
            except ValueError as err:
                if not drop_separating:
                    raise ValueError(f"arm {a!r}: {err}") from None
                # even the baseline score alone separates (a tiny arm): the response rate
                dropped.append({"arm": a, "covariate": "baseline", "column": None,
                                "level": None, "n": len(idx), "answered": None})
                flat = True
        if flat:  # everyone (or no one) answered, or nothing can be fitted: q / q = 1
            pi = np.full(len(idx), y.mean())
            X = pd.DataFrame({"(Intercept)": np.ones(len(idx))})
            q_ = y.mean()
            beta = np.array([np.inf if q_ == 1 else -np.inf if q_ == 0 else np.log(q_ / (1 - q_))])
            se = np.array([np.nan])
        else:
            se = np.sqrt(np.diag(np.linalg.inv(X.T.to_numpy() @ (X.to_numpy() * (pi * (1 - pi))[:, None]))))
        q = y.mean()
        out.loc[out.index[idx], "propensity"] = pi
        out.loc[out.index[idx], "weight"] = np.where(y == 1, q / pi, np.nan)
        rows += [{"arm": a, "term": t, "estimate": b, "std_error": s, "n": len(idx),
                  "n_responded": int(y.sum())} for t, b, s in zip(X.columns, beta, se, strict=True)]
    model = pd.DataFrame(rows)
    model.attrs["dropped"] = dropped
    return out, model


@dataclass(frozen=True)
class IPWResult:
    """What :func:`ipw_effects` returns: tidy DataFrames.

    Attributes
    ----------
    effects : DataFrame
        :data:`EFFECT_COLUMNS`: complete-case and weighted estimates per arm.
    diagnostics : DataFrame
        :data:`DIAGNOSTIC_COLUMNS`: the weights per arm.
    weights : DataFrame
        One row per child with a propensity (:func:`response_weights`).
    propensity_model : DataFrame
        The coefficients of the per-arm propensity models.
    dropped : list of dict
        Covariates left out of an arm's propensity model because they separate
        (``drop_separating=True``; see :func:`response_weights`).
    """

    effects: pd.DataFrame
    diagnostics: pd.DataFrame
    weights: pd.DataFrame
    propensity_model: pd.DataFrame
    dropped: tuple = ()


def _diagnostics(w: pd.DataFrame, design) -> pd.DataFrame:
    rows = []
    for a, sub in w.groupby(w[design.arm].astype(str), sort=True):
        ww = sub.loc[sub["responded"], "weight"].to_numpy(dtype=float)
        has = len(ww) > 0
        rows.append({"arm": a, "n": len(sub), "n_responded": int(sub["responded"].sum()),
                     "response_rate": float(sub["responded"].mean()),
                     "weight_min": ww.min() if has else np.nan,
                     "weight_max": ww.max() if has else np.nan,
                     "weight_mean": ww.mean() if has else np.nan,
                     "weight_ratio": ww.max() / ww.min() if has else np.nan,
                     "n_effective": ww.sum() ** 2 / (ww ** 2).sum() if has else np.nan})
    return pd.DataFrame(rows, columns=DIAGNOSTIC_COLUMNS)


def ipw_effects(panel: pd.DataFrame, design, *, outcome: str = "outcome",
                covariates: Sequence[str] | None = None, alpha: float = 0.05,
                drop_separating: bool = False) -> IPWResult:
    """The primary ANCOVA refitted with stabilized inverse-probability-of-response weights.

    Parameters
    ----------
    panel : DataFrame
        :func:`analysis.missingness.response_panel` of one outcome.
    design : core.design.Design
        Arm, control, clusters, blocks, covariates (of the outcome model and, by default,
        of the propensity model).
    outcome : str
        Outcome id written in the ``outcome`` column.
    covariates : sequence of str, optional
        Covariates of the propensity model (default ``design.covariates``).
    alpha : float
    drop_separating : bool
        Leave out of an arm's propensity model a covariate that separates answering
        (:func:`response_weights`); default False (an error).

    Returns
    -------
    IPWResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.ipw import ipw_effects
    >>> rng = np.random.default_rng(5)
    >>> n = 600
    >>> school = np.repeat(np.arange(30), 20)
    >>> p = pd.DataFrame({"id": np.arange(n), "school": school,
    ...                   "arm": np.where(school % 2 == 0, "t", "c"), "_y0": rng.normal(size=n)})
    >>> p["_y"] = p["_y0"] + 0.3 * (p["arm"] == "t") + rng.normal(size=n)
    >>> p["responded"] = rng.random(n) < 1 / (1 + np.exp(-(1 + p["_y0"])))
    >>> p.loc[~p["responded"], "_y"] = np.nan
    >>> d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",))
    >>> res = ipw_effects(p, d, outcome="y")
    >>> res.effects[["method", "model", "df_method"]].values.tolist()
    [['complete_case', 'ols_cr2', 'Satterthwaite'], ['ipw', 'ols_cr2', 'Satterthwaite']]
    >>> res.diagnostics.columns.tolist()[-1]
    'n_effective'
    """
    if design.arm is None or design.control is None:
        raise ValueError("inverse probability weighting of an effect needs an arm and a control")
    w, model = response_weights(panel, design, covariates=covariates,
                                drop_separating=drop_separating)
    resp = w[w["responded"]].reset_index(drop=True)
    arms = sorted(set(w[design.arm].astype(str).unique()) - {str(design.control)})
    X, idx = design_matrix(resp, design, arms, baseline=True)
    sub = resp.iloc[idx].reset_index(drop=True)
    y = sub["_y"].to_numpy(dtype=float)
    weights = sub["weight"].to_numpy(dtype=float)
    outer = design.clusters[0] if design.clusters else None
    rows = []
    for method, wt in (("complete_case", None), ("ipw", weights)):
        if outer:
            g = sub[outer].astype(str).to_numpy()
            tab = coef_test((X, y), g, vcov="CR2", test="Satterthwaite", weights=wt, alpha=alpha)
            model_name, dfm, nc = "ols_cr2", "Satterthwaite", int(pd.Series(g).nunique())
        else:
            tab = coef_test((X, y), vcov="HC2", test="naive", weights=wt, alpha=alpha)
            model_name, dfm, nc = "ancova_hc2", "n - p", np.nan
        tab = tab.set_index("term")
        for a in arms:
            r = tab.loc[f"arm[{a}]"]
            rows.append({"outcome": outcome, "arm": a, "control": str(design.control),
                         "method": method, "model": model_name, "estimate": r["estimate"],
                         "std_error": r["std_error"], "df": r["df"], "df_method": dfm,
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_value"],
                         "n_obs": len(y), "n_clusters": nc})
    effects = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    effects["p_value"] = effects["p_value"].astype(float)
    return IPWResult(effects=effects, diagnostics=_diagnostics(w, design), weights=w,
                     propensity_model=model, dropped=tuple(model.attrs.get("dropped", ())))

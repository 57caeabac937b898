"""E-values for unmeasured confounding (VanderWeele & Ding 2017).

The E-value is the minimum strength of association, on the risk-ratio scale,
that an unmeasured confounder would need to have with BOTH the treatment and
the outcome, conditional on the measured covariates, to fully explain away an
observed treatment-outcome association. For a risk ratio ``RR >= 1``::

    E = RR + sqrt(RR * (RR - 1))

and for ``RR < 1`` the same formula is applied to ``1 / RR``. The E-value for
the confidence interval is computed at the CI limit closer to the null; it is
1 when the CI includes the null.

The functions reproduce R's ``EValue`` package (Mathur, Smith, Ding &
VanderWeele): ``evalues.RR``, ``evalues.OR(rare=)``, ``evalues.HR(rare=)``,
``evalues.MD`` and the internal ``threshold`` -- including its handling of a
"non-null" ``true`` value and of a CI that crosses it. Conversions to the
risk-ratio scale (VanderWeele & Ding 2017, Table 2; VanderWeele 2017, 2020):

========================= ========================================================
odds ratio, rare outcome  RR = OR
odds ratio, common        RR = sqrt(OR)
hazard ratio, rare        RR = HR
hazard ratio, common      RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1 / HR))
standardized mean diff d  RR = exp(0.91 d); CI exp(0.91 d -/+ 1.78 SE(d))
                          (``evalues.MD``; Chinn 2000, VanderWeele 2017)
========================= ========================================================

"Rare" means under about 15% at the end of follow-up (the package's wording).
The constants 0.91 and 1.78 are the package's (1.78 ~ 0.91 x 1.96).

Our effects table (:func:`analysis.effects.estimate_effects`) reports the
primary estimate on the outcome scale together with Hedges' g
(``effect_size``) and a CI for g that is the model's own CI rescaled, so it is
t-based with the model's df (CR2 / Bell-McCaffrey for clustered designs).
:func:`evalue_effect_row` therefore converts the CI LIMITS of g
(``exp(0.91 * limit)``), which keeps the E-value for the CI equal to 1 exactly
when the model's CI includes 0. ``ci="se"`` instead reproduces
``EValue::evalues.MD(g, se)`` with ``se`` recovered from the row (z-based, so
slightly narrower than the model's CI when df is small).

An E-value says nothing about bias from measurement error, selection or
attrition, and it is a statement about confounding of a comparison between
groups: it does not apply to a one-group pre/post change.

References
----------
VanderWeele, T. J., & Ding, P. (2017). Sensitivity analysis in observational
research: introducing the E-value. *Annals of Internal Medicine*, 167(4), 268-274.
VanderWeele, T. J., Ding, P., & Mathur, M. (2019). Technical considerations in
the use of the E-value. *Journal of Causal Inference*, 7(2).
VanderWeele, T. J. (2017). On a square-root transformation of the odds ratio
for a common outcome. *Epidemiology*, 28(6), e58-e60.
VanderWeele, T. J. (2020). Optimal approximate conversions of odds ratios and
hazard ratios to risk ratios. *Biometrics*, 76(3), 746-752.
Chinn, S. (2000). A simple method for converting an odds ratio to effect size
for use in meta-analysis. *Statistics in Medicine*, 19(22), 3127-3131.
Mathur, M. B., Ding, P., Riddell, C. A., & VanderWeele, T. J. (2018). Web site
and R package for computing E-values. *Epidemiology*, 29(5), e45-e47.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "ONE_GROUP_MODELS",
    "evalue_effect_row",
    "evalue_hr",
    "evalue_or",
    "evalue_rr",
    "evalue_smd",
    "evalue_threshold",
    "evalues_for_effects",
    "hr_to_rr",
    "or_to_rr",
    "smd_to_rr",
]

#: Columns of every E-value result, in this order.
COLUMNS = [
    "measure", "estimate", "ci_low", "ci_high", "rare", "rr", "rr_ci_low", "rr_ci_high",
    "true_rr", "evalue", "evalue_ci", "ci_limit", "ci_includes_null",
]

#: Models of the effects table that estimate a one-group (pre/post) change.
ONE_GROUP_MODELS = frozenset({"paired_t", "change_cr2"})

_MD_SLOPE = 0.91   # RR ~ exp(0.91 d) (EValue::toRR.MD)
_MD_SE = 1.78      # CI on the RR scale: exp(0.91 d -/+ 1.78 se) (EValue::evalues.MD)


def _num(x) -> float:
    if x is None:
        return math.nan
    x = float(x)
    return x


def evalue_threshold(rr: float, true: float = 1.0) -> float:
    """E-value for a single risk ratio (R's ``EValue::threshold``).

    ``E = (RR + sqrt(RR (RR - true))) / true`` for ``RR >= true`` (after
    inverting both when ``RR <= 1``); for a ``true`` value beyond ``RR``
    (the effect must be moved away from the null) ``E = r + sqrt(r (r - 1))``
    with ``r = true / RR``.

    Parameters
    ----------
    rr : float
        Risk ratio (>= 0). NaN gives NaN.
    true : float
        The risk ratio to which confounding would have to move ``rr``
        (1 = the null).

    Examples
    --------
    >>> from analysis.evalue import evalue_threshold
    >>> round(evalue_threshold(3.9), 2)    # VanderWeele & Ding (2017)
    7.26
    >>> evalue_threshold(0.8) == evalue_threshold(1 / 0.8)
    True
    """
    x = _num(rr)
    if math.isnan(x):
        return math.nan
    if x < 0:
        raise ValueError(f"a risk ratio must be non-negative, got {x}")
    t = _num(true)
    if x <= 1:
        x = math.inf if x == 0 else 1.0 / x
        t = 1.0 / t
    if t <= x:
        if math.isinf(x):
            return math.inf
        return (x + math.sqrt(x * (x - t))) / t
    r = t / x
    return r + math.sqrt(r * (r - 1.0))


def _evalues_rr(measure, est, lo, hi, rr, rr_lo, rr_hi, true_rr, rare=None) -> pd.DataFrame:
    """EValue::evalues.RR on values already on the RR scale; one tidy row."""
    if math.isnan(rr):
        raise ValueError("the point estimate is missing")
    if rr < 0:
        raise ValueError(f"{measure} cannot be negative, got {est}")
    if true_rr < 0:
        raise ValueError(f"the true value is impossible: {true_rr}")
    has_lo, has_hi = not math.isnan(rr_lo), not math.isnan(rr_hi)
    if has_lo and has_hi and rr_lo > rr_hi:
        raise ValueError(f"lower confidence limit {lo} is above the upper limit {hi}")
    if (has_lo and rr < rr_lo) or (has_hi and rr > rr_hi):
        raise ValueError(f"point estimate {est} is outside its confidence interval [{lo}, {hi}]")
    null_ci = None
    if rr > true_rr and has_lo:
        null_ci = rr_lo < true_rr
    if rr < true_rr and has_hi:
        null_ci = rr_hi > true_rr
    e_point = evalue_threshold(rr, true_rr)
    e_lo = evalue_threshold(rr_lo, true_rr)
    e_hi = evalue_threshold(rr_hi, true_rr)
    if null_ci:
        e_lo = e_hi = 1.0
    if has_lo or has_hi:
        if rr > true_rr:
            e_hi = math.nan
        elif rr < true_rr:
            e_lo = math.nan
        else:
            e_lo, e_hi = 1.0, math.nan
    if not math.isnan(e_lo):
        evalue_ci, limit = e_lo, "lower"
    elif not math.isnan(e_hi):
        evalue_ci, limit = e_hi, "upper"
    else:
        evalue_ci, limit = math.nan, None
    if has_lo or has_hi:
        includes = bool(null_ci) if null_ci is not None else bool(rr == true_rr)
    else:
        includes = None
    row = {
        "measure": measure, "estimate": est, "ci_low": lo, "ci_high": hi, "rare": rare,
        "rr": rr, "rr_ci_low": rr_lo, "rr_ci_high": rr_hi, "true_rr": true_rr,
        "evalue": e_point, "evalue_ci": evalue_ci, "ci_limit": limit, "ci_includes_null": includes,
    }
    return pd.DataFrame([row], columns=COLUMNS)


def evalue_rr(estimate: float, ci_low: float | None = None, ci_high: float | None = None,
              *, true: float = 1.0) -> pd.DataFrame:
    """E-values for a risk ratio and the CI limit closer to the null (``EValue::evalues.RR``).

    Parameters
    ----------
    estimate : float
        Risk ratio (or rate ratio).
    ci_low, ci_high : float, optional
        Confidence limits (either or both).
    true : float
        Risk ratio to which to shift the estimate (1 = the null).

    Returns
    -------
    DataFrame
        One row with the columns :data:`COLUMNS`: the inputs, the values on
        the RR scale (``rr``, ``rr_ci_low``, ``rr_ci_high``, ``true_rr``), the
        E-value of the point estimate (``evalue``), of the CI limit closer to
        the null (``evalue_ci``; 1 when the CI includes ``true``), which limit
        that is (``ci_limit``) and ``ci_includes_null``.

    Examples
    --------
    Leukemia example of VanderWeele & Ding (2017):

    >>> from analysis.evalue import evalue_rr
    >>> r = evalue_rr(0.80, 0.71, 0.91)
    >>> round(float(r.loc[0, "evalue"]), 2), round(float(r.loc[0, "evalue_ci"]), 2), r.loc[0, "ci_limit"]
    (1.81, 1.43, 'upper')
    >>> float(evalue_rr(1.3, 0.9, 1.8).loc[0, "evalue_ci"])
    1.0
    """
    est, lo, hi, t = _num(estimate), _num(ci_low), _num(ci_high), _num(true)
    return _evalues_rr("RR", est, lo, hi, est, lo, hi, t)


def or_to_rr(odds_ratio, *, rare: bool):
    """Approximate RR for an odds ratio: OR if rare, sqrt(OR) if common (``EValue::toRR.OR``).

    Examples
    --------
    >>> from analysis.evalue import or_to_rr
    >>> float(or_to_rr(4.0, rare=False)), float(or_to_rr(4.0, rare=True))
    (2.0, 4.0)
    """
    x = np.asarray(odds_ratio, dtype=float)
    return x if rare else np.sqrt(x)


def hr_to_rr(hazard_ratio, *, rare: bool):
    """Approximate RR for a hazard ratio (``EValue::toRR.HR``).

    ``HR`` if the outcome is rare, else ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``
    (VanderWeele 2020).

    Examples
    --------
    >>> from analysis.evalue import hr_to_rr
    >>> round(float(hr_to_rr(0.56, rare=False)), 4)
    0.6701
    """
    x = np.asarray(hazard_ratio, dtype=float)
    if rare:
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1.0 - 0.5 ** np.sqrt(x)) / (1.0 - 0.5 ** np.sqrt(1.0 / x))


def smd_to_rr(d):
    """Approximate RR for a standardized mean difference: ``exp(0.91 d)`` (``EValue::toRR.MD``).

    Examples
    --------
    >>> from analysis.evalue import smd_to_rr
    >>> round(float(smd_to_rr(0.5)), 4)
    1.5762
    """
    return np.exp(_MD_SLOPE * np.asarray(d, dtype=float))


def _check_rare(rare):
    if not isinstance(rare, (bool, np.bool_)):
        raise ValueError("say whether the outcome is rare (under about 15% at the end of "
                         "follow-up): rare=True or rare=False")


def _evalue_ratio(kind, to_rr, estimate, ci_low, ci_high, *, rare, true) -> pd.DataFrame:
    """An OR or HR and its limits converted to the RR scale, then :func:`_evalues_rr`."""
    _check_rare(rare)
    est, lo, hi, t = _num(estimate), _num(ci_low), _num(ci_high), _num(true)
    if est < 0:
        raise ValueError(f"{kind} cannot be negative, got {est}")
    rr, rlo, rhi, rt = (float(to_rr(v, rare=bool(rare))) for v in (est, lo, hi, t))
    return _evalues_rr(kind, est, lo, hi, rr, rlo, rhi, rt, rare=bool(rare))


def evalue_or(estimate: float, ci_low: float | None = None, ci_high: float | None = None,
              *, rare: bool, true: float = 1.0) -> pd.DataFrame:
    """E-values for an odds ratio (``EValue::evalues.OR``).

    The OR, its limits and ``true`` are converted with :func:`or_to_rr`, then
    :func:`evalue_rr` applies.

    Examples
    --------
    >>> from analysis.evalue import evalue_or
    >>> r = evalue_or(0.86, 0.75, 0.99, rare=False)
    >>> round(float(r.loc[0, "rr"]), 4), round(float(r.loc[0, "evalue"]), 4)
    (0.9274, 1.369)
    """
    return _evalue_ratio("OR", or_to_rr, estimate, ci_low, ci_high, rare=rare, true=true)


def evalue_hr(estimate: float, ci_low: float | None = None, ci_high: float | None = None,
              *, rare: bool, true: float = 1.0) -> pd.DataFrame:
    """E-values for a hazard ratio (``EValue::evalues.HR``).

    Examples
    --------
    >>> from analysis.evalue import evalue_hr
    >>> r = evalue_hr(0.56, 0.46, 0.69, rare=False)
    >>> round(float(r.loc[0, "evalue"]), 3), round(float(r.loc[0, "evalue_ci"]), 3)
    (2.35, 1.908)
    """
    return _evalue_ratio("HR", hr_to_rr, estimate, ci_low, ci_high, rare=rare, true=true)


def evalue_smd(d: float, se: float | None = None, *, ci_low: float | None = None,
               ci_high: float | None = None, true: float = 0.0) -> pd.DataFrame:
    """E-values for a standardized mean difference (Cohen's d / Hedges' g).

    ``RR = exp(0.91 d)``. With ``se`` the CI on the RR scale is
    ``exp(0.91 d -/+ 1.78 se)``, exactly as ``EValue::evalues.MD(d, se)``.
    With ``ci_low``/``ci_high`` (limits of d) instead, each limit is
    converted with ``exp(0.91 * limit)`` -- a monotone map, so the CI
    E-value is 1 exactly when the given CI includes ``true``. A negative
    ``d`` (the program lowers the outcome) gives ``RR < 1`` and the E-value
    of ``1 / RR``; which direction is "better" does not matter.

    Parameters
    ----------
    d : float
        Standardized mean difference.
    se : float, optional
        Its standard error (not together with ``ci_low``/``ci_high``).
    ci_low, ci_high : float, optional
        Confidence limits of ``d``.
    true : float
        Standardized difference to which to shift the estimate (0 = null).

    Examples
    --------
    >>> from analysis.evalue import evalue_smd
    >>> r = evalue_smd(0.5, 0.25)          # EValue::evalues.MD(0.5, 0.25)
    >>> [round(float(r.loc[0, c]), 4) for c in ("rr", "evalue", "evalue_ci")]
    [1.5762, 2.5291, 1.1108]
    >>> r = evalue_smd(-0.3, ci_low=-0.5, ci_high=-0.1)
    >>> round(float(r.loc[0, "evalue"]), 3), r.loc[0, "ci_limit"]
    (1.956, 'upper')
    >>> float(evalue_smd(0.2, ci_low=-0.05, ci_high=0.45).loc[0, "evalue_ci"])
    1.0
    """
    est, s, lo, hi, t = _num(d), _num(se), _num(ci_low), _num(ci_high), _num(true)
    if math.isnan(est):
        raise ValueError("the standardized difference is missing")
    if not math.isnan(s) and not (math.isnan(lo) and math.isnan(hi)):
        raise ValueError("give either se or ci_low/ci_high, not both")
    if not math.isnan(s):
        if s < 0:
            raise ValueError(f"standard error cannot be negative, got {s}")
        rlo = math.exp(_MD_SLOPE * est - _MD_SE * s)
        rhi = math.exp(_MD_SLOPE * est + _MD_SE * s)
        lo = hi = math.nan
    else:
        rlo = math.exp(_MD_SLOPE * lo) if not math.isnan(lo) else math.nan
        rhi = math.exp(_MD_SLOPE * hi) if not math.isnan(hi) else math.nan
    rr = math.exp(_MD_SLOPE * est)
    return _evalues_rr("SMD", est, lo, hi, rr, rlo, rhi, math.exp(_MD_SLOPE * t))


def _isna(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _get(row, key):
    try:
        v = row[key]
    except (KeyError, IndexError):
        raise ValueError(f"effects row has no column {key!r}") from None
    return _num(v) if not isinstance(v, str) else v


def evalue_effect_row(row: Mapping | pd.Series, *, ci: str = "limits") -> pd.DataFrame:
    """E-values for one row of the effects table (:func:`analysis.effects.estimate_effects`).

    Inputs used:

    * ``effect_size`` (Hedges' g) -> ``RR = exp(0.91 g)`` and its E-value;
    * ``ci="limits"`` (default): ``effect_size_ci_low`` / ``effect_size_ci_high``,
      each converted with ``exp(0.91 * limit)``; the E-value for the CI is at
      the limit closer to 0 and is 1 when the CI includes 0;
    * ``ci="se"``: ``EValue::evalues.MD(g, se)`` with
      ``se = std_error * (effect_size_ci_high - effect_size_ci_low) / (ci_high - ci_low)``
      (the model's SE on the g scale).

    ``estimate``, ``ci_low`` and ``ci_high`` (outcome scale) are only checked
    against the g columns: same sign, and the two CIs include 0 together;
    otherwise the row is inconsistent and a ValueError names the columns.
    Rows of a one-group pre/post change (``model`` in :data:`ONE_GROUP_MODELS`,
    or a missing ``arm``) are refused.

    Returns
    -------
    DataFrame
        One row: ``outcome``, ``arm``, ``model`` (when present in ``row``)
        followed by :data:`COLUMNS` (``measure = "SMD"``). A missing
        ``effect_size`` gives NaN E-values.

    Examples
    --------
    >>> from analysis.evalue import evalue_effect_row
    >>> row = {"outcome": "rses.total", "arm": "program", "model": "ols_cr2",
    ...        "estimate": 2.1, "std_error": 0.8, "ci_low": 0.4, "ci_high": 3.8,
    ...        "effect_size": 0.21, "effect_size_ci_low": 0.04, "effect_size_ci_high": 0.38}
    >>> r = evalue_effect_row(row)
    >>> round(float(r.loc[0, "evalue"]), 3), round(float(r.loc[0, "evalue_ci"]), 3), r.loc[0, "ci_limit"]
    (1.715, 1.233, 'lower')
    """
    if ci not in ("limits", "se"):
        raise ValueError("ci must be 'limits' or 'se'")
    ident = {k: row[k] for k in ("outcome", "arm", "model") if k in row}
    one_group = ident.get("model") in ONE_GROUP_MODELS or ("arm" in ident and _isna(ident["arm"]))
    if one_group:
        raise ValueError(f"model {ident.get('model')!r} (no arm) is a one-group change: there is no "
                         "comparison group whose confounding an E-value could describe")
    g = _get(row, "effect_size")
    glo, ghi = _get(row, "effect_size_ci_low"), _get(row, "effect_size_ci_high")
    if math.isnan(g):
        out = pd.DataFrame([{c: np.nan for c in COLUMNS}])
        out["measure"] = "SMD"
    else:
        est = _get(row, "estimate")
        lo, hi = _get(row, "ci_low"), _get(row, "ci_high")
        if not math.isnan(est) and est * g < 0:
            raise ValueError(f"effect_size {g} and estimate {est} have opposite signs")
        if not any(math.isnan(v) for v in (lo, hi, glo, ghi)):
            if (lo <= 0 <= hi) != (glo <= 0 <= ghi):
                raise ValueError(
                    f"ci_low/ci_high [{lo}, {hi}] and effect_size_ci_low/effect_size_ci_high "
                    f"[{glo}, {ghi}] do not agree on whether the CI includes 0")
        if ci == "limits":
            out = evalue_smd(g, ci_low=glo, ci_high=ghi)
        else:
            se = _get(row, "std_error")
            if any(math.isnan(v) for v in (se, lo, hi, glo, ghi)) or hi == lo:
                raise ValueError("ci='se' needs std_error, ci_low, ci_high and the effect-size limits")
            out = evalue_smd(g, se * (ghi - glo) / (hi - lo))
    for i, (k, v) in enumerate(ident.items()):
        out.insert(i, k, v)
    return out


def evalues_for_effects(effects, *, primary_only: bool = True,
                        ci: str = "limits") -> pd.DataFrame:
    """E-values for the rows of an effects table (see :func:`evalue_effect_row`).

    Parameters
    ----------
    effects : EffectsResult or DataFrame
        Output of :func:`analysis.effects.estimate_effects`, or its table
        (``.tidy()``).
    primary_only : bool
        Only the rows with ``primary == True`` (default).
    ci : {"limits", "se"}
        How the CI of g is carried to the RR scale.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.evalue import evalues_for_effects
    >>> tab = pd.DataFrame({"outcome": ["a", "b"], "arm": "p", "model": "ancova_hc2",
    ...     "estimate": [2.0, -1.0], "std_error": [0.5, 0.8], "ci_low": [1.0, -2.6],
    ...     "ci_high": [3.0, 0.6], "effect_size": [0.2, -0.1],
    ...     "effect_size_ci_low": [0.1, -0.26], "effect_size_ci_high": [0.3, 0.06],
    ...     "primary": True})
    >>> evalues_for_effects(tab)["evalue_ci"].round(3).tolist()
    [1.418, 1.0]
    """
    tab = effects.tidy() if hasattr(effects, "tidy") else effects
    if primary_only and "primary" in tab:
        tab = tab[tab["primary"].astype(bool)]
    if tab.empty:
        return pd.DataFrame(columns=["outcome", "arm", "model", *COLUMNS])
    return pd.concat([evalue_effect_row(r, ci=ci) for _, r in tab.iterrows()], ignore_index=True)

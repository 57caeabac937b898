"""The truth of a simulated outcome in scale units, by Monte Carlo from the generative model.

There is no closed form for the average treatment effect on an observed *scale
score* (mean or sum of the scored, keyed items) under the ordinal item model with a
non-normal covariate part, so :func:`outcome_truth` computes it by Monte Carlo from
the same generative model as :func:`analysis.simulate.simulate_study`: ``draws``
children of the population (:mod:`analysis.simulate_population`), each seen at
baseline and at endline both untreated and treated, with common random numbers (the
same item errors for the treated and the untreated endline), so the effect's Monte
Carlo standard error is small. The same draws give the control SD of the endline
score, the effect in observed-score SD units, the Monte Carlo alpha, the expected
baseline-endline change, and the shares of treated children who would look
"improved" (any increase; reliable change index above 1.96 with the expected alpha).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from analysis.simulate_items import (
    OutcomeSpec,
    column_values,
    item_answers,
    keyed_items,
    scale_score,
)
from analysis.simulate_population import draw_guardians, standardized_risk

__all__ = ["outcome_truth"]


def _monte_carlo(spec, loadings, thresholds, stability, rng, draws, extra_effects=()):
    """Population quantities of one outcome by Monte Carlo with common random numbers.

    ``extra_effects``: further latent effects (other treatment arms) whose effect on
    the scale is computed with the same random numbers (returned as ``_extra``).
    """
    c = spec.covariate_effect
    risk = standardized_risk(draw_guardians(rng, draws)[1].astype(float))
    g_b = rng.standard_normal(draws)
    g_e = stability * g_b + np.sqrt(1 - stability**2) * rng.standard_normal(draws)
    s = np.sqrt(1 - c * c)
    theta_b = c * risk + s * g_b
    theta_e0 = c * risk + s * g_e + spec.trend
    theta_e1 = theta_e0 + spec.effect
    if spec.is_column:
        def observe(theta):
            return column_values(theta, spec, rng)
    else:
        rev = np.asarray(spec.reverse)
        sc = np.asarray(spec.scored)
        ncat = spec.n_categories
        rmin = int(spec.response_min)

        def observe(theta):
            a = item_answers(theta, loadings, thresholds, rmin, rev, sc, rng)
            return scale_score(a, rmin, ncat, rev, sc, spec.score), a
    # common random numbers: the same item errors for the treated and untreated endline
    e_state = rng.bit_generator.state
    o0 = observe(theta_e0)
    rng.bit_generator.state = e_state
    o1 = observe(theta_e1)
    extra = []
    for eff in extra_effects:
        after = rng.bit_generator.state
        rng.bit_generator.state = e_state
        ok = observe(theta_e0 + eff)
        rng.bit_generator.state = after
        sk = ok if spec.is_column else ok[0]
        dk = sk - (o0 if spec.is_column else o0[0])
        extra.append((float(dk.mean()), float(dk.std(ddof=1) / np.sqrt(draws))))
    ob = observe(theta_b)
    if spec.is_column:
        s0, s1, sb = o0, o1, ob
        alpha_mc = None
    else:
        (s0, _), (s1, _), (sb, ab) = o0, o1, ob
        # Cronbach's alpha of the baseline draws (keyed scored items)
        keyed_b = keyed_items(ab, rmin, ncat, rev, sc).astype(float)
        k = keyed_b.shape[1]
        alpha_mc = float(k / (k - 1) * (1 - keyed_b.var(axis=0, ddof=1).sum()
                                        / keyed_b.sum(axis=1).var(ddof=1)))
    diff = s1 - s0
    ate = float(diff.mean())
    ate_se = float(diff.std(ddof=1) / np.sqrt(draws))
    sd0 = float(s0.std(ddof=1))
    sd_b = float(sb.std(ddof=1))
    sign = 1.0 if spec.better == "higher" else -1.0
    change = sign * (s1 - sb)
    out = {
        "effect_scale": ate,
        "effect_scale_mc_se": ate_se,
        "control_endline_scale_sd": sd0,
        "baseline_scale_mean": float(sb.mean()),
        "baseline_scale_sd": sd_b,
        "effect_scale_sd_units": ate / sd0 if sd0 > 0 else float("nan"),
        "change_scale_treated": float((s1 - sb).mean()),
        "change_scale_control": float((s0 - sb).mean()),
        "alpha_monte_carlo": alpha_mc,
        "_change": change,
        "_sd_b": sd_b,
        "_extra": extra,
    }
    if spec.is_column:
        del out["alpha_monte_carlo"]
    return out


def _inputs(spec: OutcomeSpec) -> dict:
    """The outcome's own parameters, as recorded at the top of its truth."""
    if spec.is_column:
        t = {"column": spec.column, "items": [], "column_mean": float(spec.column_mean),
             "column_sd": float(spec.column_sd),
             "column_range": list(spec.column_range) if spec.column_range else None,
             "decimals": int(spec.decimals)}
    else:
        t = {"items": list(spec.items),
             "scored_items": [i for i, s in zip(spec.items, spec.scored) if s],
             "reverse_items": [i for i, r in zip(spec.items, spec.reverse) if r],
             "response_min": int(spec.response_min),
             "response_max": int(spec.response_max),
             "score": spec.score}
    t.update({
        "better": spec.better,
        "effect_latent_sd": float(spec.effect),
        "trend_latent_sd": float(spec.trend),
        "covariate_effect": float(spec.covariate_effect),
    })
    if spec.baseline_difference:
        t["baseline_difference_latent_sd"] = float(spec.baseline_difference)
    return t


def outcome_truth(spec: OutcomeSpec, loadings, thresholds, alpha_expected, stability: float,
                  rng, draws: int, *, arm_effects: Mapping[str, float] | None = None) -> dict:
    """The truth record of one outcome: its inputs and its population quantities.

    Parameters
    ----------
    spec : OutcomeSpec
    loadings, thresholds, alpha_expected
        The item parameters (:func:`analysis.simulate_items.item_parameters`);
        ``None`` for a data-column outcome.
    stability : float
        Correlation of the latent components from baseline to endline.
    rng : numpy.random.Generator
        The truth stream (consumed in a fixed order, so the truth is reproducible).
    draws : int
        Children per arm in the Monte Carlo.
    arm_effects : mapping, optional
        The multiplier of ``spec.effect`` per treatment arm, in arm order (as
        :func:`analysis.simulate.simulate_study` applies it to the data). The
        record's ``effect_latent_sd``, ``effect_scale`` and shares are those of the
        first treatment arm (``spec.effect`` times its multiplier); with more than
        one treatment arm it also gives the effects by arm. ``None``: one arm with
        multiplier 1.

    Returns
    -------
    dict
        JSON-ready: the outcome's items or column and its parameters, then
        ``effect_scale`` (the average treatment effect on the endline score) with
        ``effect_scale_mc_se``, ``control_endline_scale_sd``, ``baseline_scale_mean``,
        ``baseline_scale_sd``, ``effect_scale_sd_units``, ``change_scale_treated``,
        ``change_scale_control``, ``alpha_monte_carlo`` (items), the reliability
        (target and expected alpha, loadings and thresholds for items),
        ``share_any_improvement_treated`` and ``share_reliable_improvement_treated``.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import OutcomeSpec, item_parameters
    >>> from analysis.simulate_truth import outcome_truth
    >>> spec = OutcomeSpec("x", items=[f"x_{i}" for i in range(8)], reliability=0.8,
    ...                    effect=0.3)
    >>> lam, tau, alpha = item_parameters(spec, seed=1)
    >>> t = outcome_truth(spec, lam, tau, alpha, 0.6, np.random.default_rng(2), 20_000)
    >>> round(t["effect_scale"], 2), round(t["effect_scale_sd_units"], 2)
    (0.2, 0.27)
    """
    arm_mult = [float(m) for m in arm_effects.values()] if arm_effects else [1.0]
    treat_arms = list(arm_effects) if arm_effects and len(arm_effects) > 1 else []
    extra = [spec.effect * m for m in arm_mult[1:]] if treat_arms else []
    # the first treatment arm's effect is spec.effect times its multiplier (the data's)
    spec = spec if arm_mult[0] == 1.0 else replace(spec, effect=spec.effect * arm_mult[0])
    mc = _monte_carlo(spec, loadings, thresholds, stability, rng, draws, extra_effects=extra)
    change, sd_b, extra_mc = mc.pop("_change"), mc.pop("_sd_b"), mc.pop("_extra")
    if spec.is_column:
        rel = float(spec.reliability)
        rci_se = sd_b * np.sqrt(2 * (1 - rel)) if rel < 1 else float("inf")
    else:
        rci_se = sd_b * np.sqrt(2 * (1 - alpha_expected))
    t = _inputs(spec)
    t.update(mc)
    if spec.is_column:
        t["reliability"] = float(spec.reliability)
    else:
        t.update({"reliability_target": float(spec.reliability),
                  "alpha_expected": alpha_expected,
                  "loadings": [float(v) for v in loadings],
                  "thresholds": [[float(v) for v in row] for row in thresholds]})
    t["share_any_improvement_treated"] = float((change > 0).mean())
    t["share_reliable_improvement_treated"] = float((change / rci_se > 1.96).mean())
    if treat_arms:
        t["effect_latent_sd_by_arm"] = {treat_arms[0]: float(spec.effect),
                                        **{a: float(e) for a, e in zip(treat_arms[1:], extra)}}
        t["effect_scale_by_arm"] = {treat_arms[0]: mc["effect_scale"],
                                    **{a: e for a, (e, _) in zip(treat_arms[1:], extra_mc)}}
        t["effect_scale_mc_se_by_arm"] = {treat_arms[0]: mc["effect_scale_mc_se"],
                                          **{a: s for a, (_, s) in zip(treat_arms[1:], extra_mc)}}
    return t

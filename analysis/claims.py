"""Audit a program report's claim such as "82% of 61 students improved".

A claimed share of "improved" children says little on its own. This module puts next
to it:

1. the uncertainty of the share itself (Wilson and Clopper-Pearson intervals);
2. the study's own data: the shares of the program group (or the single group) that
   improved at all and that reliably improved, with Wilson intervals, and whether the
   interval of the share with the claim's definition lies below, around or above the
   claimed share (``data_support``);
3. the share that would look "improved" if nothing changed at all, from measurement
   error and regression to the mean (:func:`null_improvement_share`); compared with
   the claim only when "improved" is a measured change (a baseline exists);
4. the ordinary growth that would by itself produce the claimed share
   (:func:`maturation_drift`, the inverse of :func:`maturation_share`);
5. the children per group a randomized comparison of the scores needs for
   standardized effects of 0.2, 0.3 and 0.5, with the design effect of a cluster trial
   (:func:`sample_sizes`);

and says in plain words (Chinese or English) what the evidence supports and what it
does not (:func:`audit_claim`). The columns of the audit's table, which
``tables/claims.csv`` publishes, are :data:`CLAIMS_COLUMNS`.

The measurement model
---------------------
Classical test theory with no true change at all: the observed score at each wave is
``X_t = T + E_t`` with a stable true score ``T`` and independent errors, standardized
so that ``Var(X_t) = 1`` and ``Var(T) = rho`` (the reliability, in the population the
children come from). The change ``D = X_2 - X_1 = E_2 - E_1`` has variance
``2 (1 - rho)`` and covariance ``-(1 - rho)`` with the baseline ``X_1``: children who
scored low at baseline tend to score higher next time, without any true change
(regression to the mean). Under this model:

- "any increase" (``X_2 > X_1``) without selection: exactly 1/2, because the two
  errors are exchangeable, so the change is as likely to be up as down;
- "any increase" among children selected for a baseline below the q-th quantile
  ``c``: ``P(X_2 > X_1 | X_1 < c) = P(X_1 < c, X_1 - X_2 < 0) / q``, a bivariate normal
  probability (exact, scipy);
- "reliable change" (Jacobson & Truax RCI > ``z``, with the population SD): ``Phi(-z)``,
  2.5% for z = 1.96, without selection; with selection the same bivariate normal with
  the threshold ``z * sqrt(2 (1 - rho))``;
- a short scale with few possible scores (``levels``), where ties are common and count
  as "not improved": by simulation with a fixed seed (the scores are the continuous
  ones cut into ``levels`` equally frequent categories; selection uses the continuous
  baseline measurement; the RCI uses the SD of the categorized scores).

These are the shares with NO true change. They are a floor for what a report would
see without any program effect, not an estimate of the program's effect; real
children also change for reasons unrelated to the program (growing up, the school
year, other events), which only a comparison group can separate. Growth common to all
children is modelled as a true change of ``delta`` SD for everyone
(:func:`maturation_share`: ``Phi(delta / sqrt(2 (1 - rho)))`` improve without selection);
if true change varies between children, the same share needs a larger mean growth.

Observed shares are counted on children measured at both waves; their Wilson intervals
treat children as independent (too narrow when children sit in classes or schools,
which the verdict says).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from analysis.change import risk_difference

__all__ = [
    "CLAIMS_COLUMNS",
    "EFFECTS",
    "MIN_PER_GROUP",
    "SUPPORT",
    "ClaimAudit",
    "audit_claim",
    "maturation_drift",
    "maturation_share",
    "null_improvement_share",
    "sample_sizes",
]

IMPROVED = ("any_increase", "reliable_change")
_SIM_SEED = 20240609
_SIM_N = 400_000


def _selection_quantile(selection) -> float | None:
    if selection is None:
        return None
    if not isinstance(selection, Mapping) or set(selection) != {"below_percentile"}:
        raise ValueError("selection must be None or {'below_percentile': P} with 0 < P < 100")
    pct = float(selection["below_percentile"])
    if not (0.0 < pct < 100.0):
        raise ValueError(f"below_percentile must lie strictly between 0 and 100, got {pct!r}")
    return pct / 100.0


def null_improvement_share(reliability: float, *, improved: str = "any_increase",
                           selection: Mapping | None = None, levels: int | None = None,
                           z: float = 1.96, n_sims: int = _SIM_N,
                           seed: int = _SIM_SEED) -> pd.DataFrame:
    """Share that looks "improved" with no true change at all.

    See the module description for the model. Scores are oriented so that higher is
    better (for loneliness or depression, "below_percentile" means the children with
    the most problems, and the result is the same by symmetry).

    Parameters
    ----------
    reliability : float
        Reliability of the score in the unselected population (test-retest if known,
        else Cronbach's alpha), strictly between 0 and 1.
    improved : {"any_increase", "reliable_change"}
        Definition of "improved": any higher score, or a reliable change index above ``z``.
    selection : mapping, optional
        ``{"below_percentile": 30}``: the children were enrolled because their baseline
        score was in the lowest 30% (the program took children with problems).
    levels : int, optional
        Number of distinct scores of a short scale (e.g. 5 for one 5-point item). With
        ties the share is computed by simulation.
    z : float
        RCI criterion for ``reliable_change``.
    n_sims, seed : int
        Simulation size and seed (only with ``levels``).

    Returns
    -------
    pandas.DataFrame
        One row: ``null_proportion, null_method`` (``"analytic"`` or ``"simulated"``),
        ``mc_se`` (Monte Carlo standard error, 0 when analytic), ``reliability,
        improved, below_percentile, levels``.

    Examples
    --------
    >>> from analysis.claims import null_improvement_share
    >>> null_improvement_share(0.8)["null_proportion"].item()
    0.5
    >>> r = null_improvement_share(0.8, selection={"below_percentile": 30})
    >>> round(r["null_proportion"].item(), 4)
    0.648
    >>> round(null_improvement_share(0.8, improved="reliable_change")["null_proportion"].item(), 4)
    0.025
    """
    rho = float(reliability)
    if not (0.0 < rho < 1.0):
        raise ValueError(f"reliability must lie strictly between 0 and 1, got {reliability!r}")
    if improved not in IMPROVED:
        raise ValueError(f"improved must be one of {IMPROVED}, got {improved!r}")
    q = _selection_quantile(selection)
    if levels is not None:
        levels = int(levels)
        if levels < 2:
            raise ValueError("levels must be at least 2")
    sd_d = math.sqrt(2.0 * (1.0 - rho))
    mc_se = 0.0
    if levels is None:
        method = "analytic"
        k = 0.0 if improved == "any_increase" else float(z) * sd_d
        if q is None:
            share = 0.5 if k == 0 else float(stats.norm.sf(k / sd_d))
        else:
            # P(X1 < c, X1 - X2 < -k) / q; Cov(X1, X1 - X2) = 1 - rho
            cov = [[1.0, 1.0 - rho], [1.0 - rho, 2.0 * (1.0 - rho)]]
            c = float(stats.norm.ppf(q))
            share = float(stats.multivariate_normal(mean=[0.0, 0.0], cov=cov).cdf([c, -k])) / q
    else:
        method = "simulated"
        rng = np.random.default_rng(seed)
        t = math.sqrt(rho) * rng.standard_normal(n_sims)
        x1 = t + math.sqrt(1 - rho) * rng.standard_normal(n_sims)
        x2 = t + math.sqrt(1 - rho) * rng.standard_normal(n_sims)
        cuts = stats.norm.ppf(np.arange(1, levels) / levels)
        s1 = np.searchsorted(cuts, x1).astype(float)
        s2 = np.searchsorted(cuts, x2).astype(float)
        sd_s = float(s1.std(ddof=1))
        keep = np.ones(n_sims, bool) if q is None else x1 < stats.norm.ppf(q)
        d = (s2 - s1)[keep]
        if improved == "any_increase":
            hit = d > 0
        else:
            hit = d / (math.sqrt(2.0) * sd_s * math.sqrt(1.0 - rho)) > float(z)
        share = float(hit.mean())
        mc_se = math.sqrt(share * (1 - share) / hit.size)
    return pd.DataFrame([{
        "null_proportion": share, "null_method": method, "mc_se": mc_se, "reliability": rho,
        "improved": improved, "below_percentile": None if q is None else q * 100,
        "levels": levels,
    }])


# ---------------------------------------------------------------- maturation


def _improved_threshold(improved: str, z: float, sd_d: float) -> float:
    if improved not in IMPROVED:
        raise ValueError(f"improved must be one of {IMPROVED}, got {improved!r}")
    return 0.0 if improved == "any_increase" else float(z) * sd_d


def maturation_share(drift: float, reliability: float, *, improved: str = "any_increase",
                     selection: Mapping | None = None, z: float = 1.96) -> float:
    """Share that looks "improved" when every child's true score rises by ``drift`` SD.

    The measurement model of the module with a common true change ``delta`` (in SD of
    the observed score, in the better direction) and no program at all: ``D = delta +
    E_2 - E_1`` with ``Var(D) = 2 (1 - rho)``. Without selection the share with any
    increase is ``Phi(delta / sqrt(2 (1 - rho)))``, and the share with a reliable
    change ``Phi(delta / sqrt(2 (1 - rho)) - z)``; with selection on a low baseline the
    same bivariate normal probability as :func:`null_improvement_share`, shifted by
    ``delta``. ``drift = 0`` gives the no-change share.

    Parameters
    ----------
    drift : float
        Common true change in SD units (growing up, the school year).
    reliability : float
        Reliability of the score, strictly between 0 and 1.
    improved : {"any_increase", "reliable_change"}
    selection : mapping, optional
        ``{"below_percentile": P}`` as in :func:`null_improvement_share`.
    z : float
        RCI criterion for ``reliable_change``.

    Returns
    -------
    float

    Examples
    --------
    >>> from analysis.claims import maturation_share
    >>> round(maturation_share(0.71, 0.7), 2)
    0.82
    >>> maturation_share(0.0, 0.8)
    0.5
    """
    rho = float(reliability)
    if not (0.0 < rho < 1.0):
        raise ValueError(f"reliability must lie strictly between 0 and 1, got {reliability!r}")
    sd_d = math.sqrt(2.0 * (1.0 - rho))
    k = _improved_threshold(improved, z, sd_d)
    q = _selection_quantile(selection)
    delta = float(drift)
    if q is None:
        return float(stats.norm.cdf((delta - k) / sd_d))
    # P(X1 < c, X1 - X2' < delta - k) / q with X2' the no-change endline score
    cov = [[1.0, 1.0 - rho], [1.0 - rho, 2.0 * (1.0 - rho)]]
    c = float(stats.norm.ppf(q))
    return float(stats.multivariate_normal(mean=[0.0, 0.0], cov=cov).cdf([c, delta - k])) / q


def maturation_drift(share: float, reliability: float, *, improved: str = "any_increase",
                     selection: Mapping | None = None, z: float = 1.96) -> float:
    """The common drift (SD) that by itself makes ``share`` of the children look improved.

    The inverse of :func:`maturation_share`: without selection and with "any
    increase", ``delta = sqrt(2 (1 - rho)) * Phi^-1(share)`` (0.71 SD for 82% with
    reliability 0.7); with a reliable change, ``sqrt(2 (1 - rho)) * (Phi^-1(share) +
    z)``; with selection, solved numerically. A negative drift means that the share
    is below the no-change share. Ordinary growth of this size over the study's
    period, with no program, would produce the claim: whether that is plausible is
    for the reader to judge, and only a comparison group measures it.

    Parameters
    ----------
    share : float
        The share improved, strictly between 0 and 1.
    reliability, improved, selection, z
        As in :func:`maturation_share`.

    Returns
    -------
    float

    Examples
    --------
    >>> from analysis.claims import maturation_drift
    >>> round(maturation_drift(0.82, 0.7), 2)
    0.71
    """
    p = float(share)
    if not (0.0 < p < 1.0):
        raise ValueError(f"share must lie strictly between 0 and 1, got {share!r}")
    rho = float(reliability)
    if not (0.0 < rho < 1.0):
        raise ValueError(f"reliability must lie strictly between 0 and 1, got {reliability!r}")
    sd_d = math.sqrt(2.0 * (1.0 - rho))
    k = _improved_threshold(improved, z, sd_d)
    if _selection_quantile(selection) is None:
        return float(sd_d * stats.norm.ppf(p) + k)

    def gap(delta):
        return maturation_share(delta, rho, improved=improved, selection=selection, z=z) - p

    return float(optimize.brentq(gap, -20.0, 20.0, xtol=1e-10))


# ---------------------------------------------------------------- sample size

EFFECTS = (0.2, 0.3, 0.5)
"""Standardized effects the audit plans for (small to medium, Cohen 1988)."""

MIN_PER_GROUP = 20
"""Fewer children per group than this is never advised without a warning."""


def _effect_key(d: float) -> str:
    return f"d{round(100 * d):02d}" if d < 1 else f"d{d:g}".replace(".", "")


def sample_sizes(effects=EFFECTS, *, alpha: float = 0.05, power: float = 0.8,
                 clusters=None) -> pd.DataFrame:
    """Children per group for a randomized comparison on the continuous score.

    For each standardized effect (mean difference / SD of the score), the children
    per group of a two-sample t-test (:func:`analysis.power_analytic.power_t`, as
    ``pwr::pwr.t.test``), rounded up. When whole clusters (classes, schools) would be
    assigned, the children per group are multiplied by the design effect ``1 +
    sum_l (m_l - 1) rho_l`` (``m_l`` children per cluster of level ``l``, ``rho_l`` the
    level's share of the variance) and rounded up, and the clusters per group come
    from the cluster-trial formulas of :mod:`analysis.power_analytic`
    (:func:`~analysis.power_analytic.power_cluster2` for one level,
    :func:`~analysis.power_analytic.power_cluster3` for two, with the t df of the
    number of clusters, as PowerUp!); with more levels, children per group / ``m`` of
    the outermost level.

    Parameters
    ----------
    effects : sequence of float
        Standardized effects (positive).
    alpha, power : float
    clusters : sequence of (float, float), optional
        ``(children per cluster, ICC)`` per cluster level, outermost first (e.g.
        ``[(40, 0.05), (20, 0.03)]`` for schools of 40 in classes of 20).

    Returns
    -------
    pandas.DataFrame
        One row per effect: ``effect, n_per_group_individual, design_effect,
        n_per_group, clusters_per_group, cluster_size, icc, alpha, power,
        below_minimum`` (``n_per_group`` below :data:`MIN_PER_GROUP`: never advised
        without a warning).

    Examples
    --------
    >>> from analysis.claims import sample_sizes
    >>> sample_sizes()["n_per_group"].tolist()
    [394, 176, 64]
    >>> s = sample_sizes([0.3], clusters=[(4, 0.05)])
    >>> round(s["design_effect"].item(), 2), int(s["n_per_group"].item())
    (1.15, 203)
    """
    from analysis.power_analytic import power_cluster2, power_cluster3, power_t

    levels = [(float(m), float(r)) for m, r in (clusters or [])]
    for m, r in levels:
        if not m >= 1 or not (0.0 <= r < 1.0):
            raise ValueError(f"a cluster level needs size >= 1 and 0 <= ICC < 1, got ({m}, {r})")
    if sum(r for _, r in levels) >= 1:
        raise ValueError("the ICCs of the cluster levels must sum to less than 1")
    de = 1.0 + sum((m - 1.0) * r for m, r in levels)
    rows = []
    for d in effects:
        d = float(d)
        if not d > 0:
            raise ValueError(f"effects must be positive, got {d!r}")
        n_ind = math.ceil(power_t(d, power=power, alpha=alpha)["n"].item() - 1e-9)
        n = n_ind if not levels else math.ceil(n_ind * de - 1e-9)
        k = math.nan
        if len(levels) == 1:
            (m, r), = levels
            k = math.ceil(power_cluster2(None, m, r, effect=d, power=power,
                                         alpha=alpha)["n_clusters"].item() / 2)
        elif len(levels) == 2:
            (m3, r3), (m2, r2) = levels
            k = math.ceil(power_cluster3(None, max(m3 / m2, 1.0), m2, icc_school=r3,
                                         icc_class=r2, effect=d, power=power,
                                         alpha=alpha)["n_schools"].item() / 2)
        elif levels:
            k = math.ceil(n / levels[0][0])
        rows.append({
            "effect": d, "n_per_group_individual": n_ind, "design_effect": de,
            "n_per_group": n, "clusters_per_group": k,
            "cluster_size": levels[0][0] if levels else math.nan,
            "icc": sum(r for _, r in levels) if levels else math.nan,
            "alpha": float(alpha), "power": float(power),
            "below_minimum": n < MIN_PER_GROUP,
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the audit


def _pct(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?"
    x = 100 * v
    if 0 < x < 10 and round(x) != x:
        return f"{x:.1f}%"
    return f"{x:.0f}%"


def _obs(value):
    """(share, x, n) from a share or an (x, n) pair."""
    if value is None:
        return (math.nan, None, None)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("an observed arm must be a share or a pair (x, n)")
        x, n = int(value[0]), int(value[1])
        if n < 1 or not (0 <= x <= n):
            raise ValueError(f"observed counts must satisfy 0 <= x <= n, n >= 1; got {value!r}")
        return (x / n, x, n)
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"an observed share must lie in [0, 1], got {value!r}")
    return (v, None, None)


def _wilson(x, n, alpha):
    if x is None or n is None:
        return (math.nan, math.nan)
    lo, hi = proportion_confint(x, n, alpha=alpha, method="wilson")
    return (float(lo), float(hi))


SUPPORT = ("below_claim", "consistent_with_claim", "above_claim", "no_data")
"""Values of ``data_support``: where the interval of the share observed in this
study's program group lies relative to the claimed share."""

CLAIMS_COLUMNS = {
    "claim": "the claim's text",
    "claimed_proportion": "the claimed share",
    "n": "children the claim is about",
    "ci_low": "Wilson 95% CI of the claimed share (lower)",
    "ci_high": "Wilson 95% CI of the claimed share (upper)",
    "cp_low": "Clopper-Pearson 95% CI of the claimed share (lower)",
    "cp_high": "Clopper-Pearson 95% CI of the claimed share (upper)",
    "null_proportion": "share that looks improved with no change at all",
    "null_method": "analytic or simulated",
    "observed_treatment": "share improved (claim's definition) in this study's program group "
                          "(the single group of a one-group design)",
    "observed_control": "the same in the comparison group",
    "verdict": "the verdict in words (the run's language)",
    "data_support": "where the observed share's CI lies relative to the claim: " + ", ".join(SUPPORT),
    "observed_treatment_n": "children of the program group with both waves",
    "observed_treatment_ci_low": "Wilson 95% CI of observed_treatment (lower)",
    "observed_treatment_ci_high": "Wilson 95% CI of observed_treatment (upper)",
    "observed_control_n": "children of the comparison group with both waves",
    "observed_control_ci_low": "Wilson 95% CI of observed_control (lower)",
    "observed_control_ci_high": "Wilson 95% CI of observed_control (upper)",
    "observed_any_increase": "program group: share with any change in the better direction",
    "observed_any_increase_ci_low": "its Wilson 95% CI (lower)",
    "observed_any_increase_ci_high": "its Wilson 95% CI (upper)",
    "observed_reliable_change": "program group: share reliably improved (RCI beyond z)",
    "observed_reliable_change_ci_low": "its Wilson 95% CI (lower)",
    "observed_reliable_change_ci_high": "its Wilson 95% CI (upper)",
    "maturation_drift_sd": "common true change (SD) that by itself gives the claimed share",
    "n_per_group_d20": "children per group for a standardized effect of 0.2 "
                       "(with the design effect when clustered)",
    "n_per_group_d30": "the same for 0.3",
    "n_per_group_d50": "the same for 0.5",
    "clusters_per_group_d20": "clusters per group for 0.2 (clustered studies)",
    "clusters_per_group_d30": "the same for 0.3",
    "clusters_per_group_d50": "the same for 0.5",
    "design_effect": "1 + sum (m - 1) ICC over the cluster levels (1 without clusters)",
    "planning_icc": "ICC used for the design effect (sum over levels)",
    "cluster_size": "children per cluster of the outermost level",
    "sample_size_warning": "a planned group has fewer than 20 children",
    "claimed_count": "round(claimed_proportion * n)",
    "reliability": "reliability used", "improved": "definition of improved",
    "below_percentile": "selection on a low baseline",
    "ci_excludes_null": "the claimed share's CI excludes null_proportion",
    "has_baseline": "the children were measured before",
    "has_comparison": "a comparison group exists",
    "observed_difference": "observed_treatment - observed_control",
    "observed_diff_ci_low": "Newcombe 95% CI of the difference (lower)",
    "observed_diff_ci_high": "Newcombe 95% CI of the difference (upper)",
    "alpha": "1 - confidence level, and the test level of the sample sizes",
    "power": "power of the sample sizes",
}
"""The columns of an audit's table (``tables/claims.csv`` adds ``claim_id, outcome,
reliability_source``), in order, each with what it holds."""


@dataclass(frozen=True)
class ClaimAudit:
    """Result of :func:`audit_claim`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row with the columns of :data:`CLAIMS_COLUMNS`, in that order (the
        ``verdict`` in the language asked for).
    sizes : pandas.DataFrame
        :func:`sample_sizes` of the audit (one row per standardized effect).
    facts : dict
        Everything the verdict is built from.
    """

    table: pd.DataFrame
    sizes: pd.DataFrame = field(repr=False)
    facts: dict = field(repr=False)

    def verdict(self, lang: str = "en") -> str:
        """The plain-words verdict, ``lang`` ``"en"`` or ``"zh"``."""
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return _verdict(self.facts, lang)

    def paragraphs(self, lang: str = "en") -> list[str]:
        """The verdict in paragraphs: the claim, this study's data, the no-change share,
        growth, the design and the sample sizes (those that apply)."""
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return _verdict_parts(self.facts, lang)

    def to_dict(self, lang: str | None = None) -> dict:
        """JSON-ready dict: the table row plus both verdicts (or one, with ``lang``)."""
        row = self.table.iloc[0].to_dict()
        out = {k: (None if v is pd.NA or (isinstance(v, float) and math.isnan(v)) else
                   v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        langs = (lang,) if lang else ("en", "zh")
        out["verdicts"] = {lg: self.verdict(lg) for lg in langs}
        return out


def audit_claim(proportion: float, n: int, *, reliability: float = 0.8,
                improved: str = "any_increase", selection: Mapping | None = None,
                levels: int | None = None, alpha: float = 0.05, power: float = 0.8,
                observed: Mapping | None = None,
                observed_by_definition: Mapping | None = None,
                has_baseline: bool = False, has_comparison: bool | None = None,
                n_schools: int | None = None, clusters=None, data_clustered: bool = False,
                cluster_label: Mapping | None = None, claim: str | None = None,
                lang: str = "en", seed: int = _SIM_SEED) -> ClaimAudit:
    """Audit a claim that a share ``proportion`` of ``n`` children "improved".

    Parameters
    ----------
    proportion : float
        The claimed share (0.82). The claimed count is ``round(proportion * n)``.
    n : int
        Number of children the claim is about.
    reliability : float
        Reliability of the measure "improved" would be judged on (0.8 is typical of a
        good questionnaire scale; a teacher's impression is likely lower).
    improved : {"any_increase", "reliable_change"}
        What "improved" means; see :func:`null_improvement_share`.
    selection : mapping, optional
        ``{"below_percentile": 30}`` when children were enrolled for low baseline scores.
    levels : int, optional
        Distinct scores of a short scale (simulated null share).
    seed : int
        Seed of that simulation (the run's seed in a workbench run); unused without
        ``levels``.
    alpha, power : float
        For the intervals and for the sample sizes.
    observed : mapping, optional
        The study's own shares improved in the claim's sense, ``{"treatment": (40,
        61), "control": (33, 60)}``; each value a pair ``(x, n)`` (or a bare share,
        which gets no interval). ``treatment`` is the program group, or the single
        group of a one-group study. The program group's Wilson interval is compared
        with the claimed share (``data_support``); with both pairs, the difference
        gets a Newcombe interval.
    observed_by_definition : mapping, optional
        The program group's counts under both definitions, ``{"any_increase": (37,
        61), "reliable_change": (15, 61)}``; the claim's definition also fills
        ``observed["treatment"]`` when that is not given.
    has_baseline : bool
        Whether "improved" is a measured change (the children were measured before).
        Without a baseline the verdict does not compare the claim with the no-change
        share: it says what can and cannot be said.
    has_comparison : bool, optional
        Whether there is a comparison group; default: whether ``observed`` has a control.
    n_schools : int, optional
        Number of schools the claim comes from (mentioned in the verdict).
    clusters : sequence of (float, float), optional
        ``(children per cluster, ICC)`` per cluster level, outermost first, for the
        sample sizes (:func:`sample_sizes`).
    data_clustered : bool
        The observed children sit in clusters (classes, schools): the verdict says that
        the intervals of the observed shares, which treat children as independent, are
        too narrow.
    cluster_label : mapping, optional
        What the outermost clusters are, ``{"en": "schools", "zh": "学校"}``.
    claim : str, optional
        The claim's text (default ``"82% of 61 improved"``).
    lang : {"en", "zh"}
        Language of the ``verdict`` column.

    Returns
    -------
    ClaimAudit

    Examples
    --------
    >>> from analysis.claims import audit_claim
    >>> a = audit_claim(0.82, 61, has_baseline=True,
    ...                 observed_by_definition={"any_increase": (37, 61),
    ...                                         "reliable_change": (15, 61)})
    >>> t = a.table
    >>> round(t["observed_treatment_ci_low"].item(), 2), round(t["observed_treatment_ci_high"].item(), 2)
    (0.48, 0.72)
    >>> t["data_support"].item()
    'below_claim'
    >>> t[["n_per_group_d20", "n_per_group_d30", "n_per_group_d50"]].iloc[0].tolist()
    [394, 176, 64]
    >>> "do not support the claim" in a.verdict("en"), "不支持" in a.verdict("zh")
    (True, True)
    """
    p = float(proportion)
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"proportion must lie in [0, 1], got {proportion!r}")
    if isinstance(n, bool) or int(n) != n or int(n) < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    n = int(n)
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    a = float(alpha)
    if not (0.0 < a < 1.0) or not (0.0 < float(power) < 1.0):
        raise ValueError("alpha and power must lie strictly between 0 and 1")
    x = int(round(p * n))
    lo, hi = proportion_confint(x, n, alpha=a, method="wilson")
    cp_lo, cp_hi = proportion_confint(x, n, alpha=a, method="beta")
    null = null_improvement_share(reliability, improved=improved, selection=selection,
                                  levels=levels, seed=seed).iloc[0]
    p0 = float(null["null_proportion"])
    rho = float(reliability)
    drift = (maturation_drift(p, rho, improved=improved, selection=selection)
             if 0.0 < p < 1.0 else math.nan)
    sizes = sample_sizes(EFFECTS, alpha=a, power=power, clusters=clusters)

    by_def = dict(observed_by_definition or {})
    unknown = set(by_def) - set(IMPROVED)
    if unknown:
        raise ValueError(f"observed_by_definition keys must be {IMPROVED}, got {sorted(unknown)}")
    by_def = {k: _obs(v) for k, v in by_def.items()}
    observed = dict(observed or {})
    unknown = set(observed) - {"treatment", "control"}
    if unknown:
        raise ValueError(f"observed keys must be 'treatment' and/or 'control', got {sorted(unknown)}")
    if "treatment" not in observed and improved in by_def and by_def[improved][2] is not None:
        observed["treatment"] = by_def[improved][1:]
    t_share, tx, tn = _obs(observed.get("treatment"))
    c_share, cx, cn = _obs(observed.get("control"))
    t_lo, t_hi = _wilson(tx, tn, a)
    c_lo, c_hi = _wilson(cx, cn, a)
    if math.isnan(t_lo):
        support = "no_data"
    elif t_hi < p:
        support = "below_claim"
    elif t_lo > p:
        support = "above_claim"
    else:
        support = "consistent_with_claim"
    defs = {}
    for k in IMPROVED:
        share, dx, dn = by_def.get(k, (math.nan, None, None))
        dlo, dhi = _wilson(dx, dn, a)
        defs[k] = (share, dlo, dhi, dx, dn)
    diff = diff_lo = diff_hi = math.nan
    if not math.isnan(t_share) and not math.isnan(c_share):
        diff = t_share - c_share
        if tn is not None and cn is not None:
            rd = risk_difference(tx, tn, cx, cn, alpha=a).iloc[0]
            diff_lo, diff_hi = float(rd["ci_low"]), float(rd["ci_high"])
    if has_comparison is None:
        has_comparison = not math.isnan(c_share)
    p0_sel30 = math.nan
    if selection is None:
        p0_sel30 = float(null_improvement_share(reliability, improved=improved,
                                                selection={"below_percentile": 30},
                                                levels=levels, seed=seed)["null_proportion"].item())
    if claim:
        text = claim
    else:
        text = (f"{n}名中{_pct(p)}有所改善" if lang == "zh" else f"{_pct(p)} of {n} improved")
    size_of = {_effect_key(r["effect"]): r for _, r in sizes.iterrows()}
    facts = {
        "claim": text, "p": p, "n": n, "x": x, "ci_low": float(lo), "ci_high": float(hi),
        "cp_low": float(cp_lo), "cp_high": float(cp_hi), "p0": p0,
        "null_method": null["null_method"], "mc_se": float(null["mc_se"]),
        "reliability": rho, "improved": improved,
        "below_percentile": null["below_percentile"], "levels": levels,
        "alpha": a, "power": float(power),
        "t_share": t_share, "c_share": c_share, "tx": tx, "tn": tn, "cx": cx, "cn": cn,
        "t_lo": t_lo, "t_hi": t_hi, "c_lo": c_lo, "c_hi": c_hi, "support": support,
        "defs": defs, "drift": drift, "sizes": sizes,
        "diff": diff, "diff_lo": diff_lo, "diff_hi": diff_hi, "has_baseline": bool(has_baseline),
        "has_comparison": bool(has_comparison), "n_schools": n_schools,
        "p0_sel30": p0_sel30, "clustered": bool(clusters),
        "data_clustered": bool(data_clustered),
        "cluster_label": dict(cluster_label or {}),
    }
    row = {
        "claim": text, "claimed_proportion": p, "n": n, "ci_low": float(lo), "ci_high": float(hi),
        "cp_low": float(cp_lo), "cp_high": float(cp_hi), "null_proportion": p0,
        "null_method": null["null_method"],
        "observed_treatment": t_share, "observed_control": c_share,
        "verdict": _verdict(facts, lang), "data_support": support,
        "observed_treatment_n": tn if tn is not None else pd.NA,
        "observed_treatment_ci_low": t_lo, "observed_treatment_ci_high": t_hi,
        "observed_control_n": cn if cn is not None else pd.NA,
        "observed_control_ci_low": c_lo, "observed_control_ci_high": c_hi,
    }
    for k in IMPROVED:
        share, dlo, dhi, _, _ = defs[k]
        row[f"observed_{k}"] = share
        row[f"observed_{k}_ci_low"] = dlo
        row[f"observed_{k}_ci_high"] = dhi
    row["maturation_drift_sd"] = drift
    for key in ("d20", "d30", "d50"):
        row[f"n_per_group_{key}"] = int(size_of[key]["n_per_group"])
    for key in ("d20", "d30", "d50"):
        k = size_of[key]["clusters_per_group"]
        row[f"clusters_per_group_{key}"] = pd.NA if math.isnan(k) else int(k)
    row.update({
        "design_effect": float(sizes["design_effect"].iloc[0]),
        "planning_icc": float(sizes["icc"].iloc[0]),
        "cluster_size": float(sizes["cluster_size"].iloc[0]),
        "sample_size_warning": bool(sizes["below_minimum"].any()),
        "claimed_count": x, "reliability": rho, "improved": improved,
        "below_percentile": (math.nan if null["below_percentile"] is None
                             else float(null["below_percentile"])),
        "ci_excludes_null": bool(lo > p0 or hi < p0), "has_baseline": bool(has_baseline),
        "has_comparison": bool(has_comparison), "observed_difference": diff,
        "observed_diff_ci_low": diff_lo, "observed_diff_ci_high": diff_hi, "alpha": a,
        "power": float(power),
    })
    table = pd.DataFrame([row])
    for c in ("observed_treatment_n", "observed_control_n", *(
            f"clusters_per_group_{k}" for k in ("d20", "d30", "d50"))):
        table[c] = table[c].astype("Int64")
    return ClaimAudit(table=table, sizes=sizes, facts=facts)


# ---------------------------------------------------------------- verdict text


def _verdict(f: dict, lang: str) -> str:
    parts = _verdict_parts(f, lang)
    return ("" if lang == "zh" else " ").join(parts)


def _verdict_parts(f: dict, lang: str) -> list[str]:
    return (_verdict_zh if lang == "zh" else _verdict_en)(f)


def _sd(v: float) -> str:
    s = f"{v:.2f}"
    return "0.00" if s == "-0.00" else s


def _sizes_text_en(f: dict) -> str:
    s = f["sizes"]
    pw, al = _pct(f["power"]), _pct(f["alpha"])
    eff = ", ".join(f"{d:g}" for d in s["effect"][:-1]) + f" and {s['effect'].iloc[-1]:g}"
    ind = s["n_per_group_individual"].tolist()
    text = (f"A randomized comparison with {pw} power at the {al} level would need about "
            f"{', '.join(map(str, ind[:-1]))} and {ind[-1]} children per group to detect a "
            f"program effect of {eff} standard deviations on the score itself (0.2 is small "
            "and 0.5 medium by Cohen's conventions; programs in schools seldom do better)")
    if f["clustered"]:
        what = f["cluster_label"].get("en") or "clusters"
        n = s["n_per_group"].tolist()
        k = s["clusters_per_group"].tolist()
        text += (f". When whole {what} are assigned (about {s['cluster_size'].iloc[0]:.0f} "
                 f"children each, ICC {s['icc'].iloc[0]:.2f}), children in one of them are "
                 f"alike: with the design effect {s['design_effect'].iloc[0]:.2f} that is about "
                 f"{', '.join(map(str, n[:-1]))} and {n[-1]} children per group, in "
                 f"{', '.join(str(int(v)) for v in k[:-1])} and {int(k[-1])} {what} per group")
    text += (". Counting children as improved or not, instead of comparing their scores, "
             "throws information away and needs more children.")
    small = s[s["below_minimum"]]
    if len(small):
        text += (f" Warning: {', '.join(str(v) for v in small['n_per_group'])} children per "
                 f"group (for an effect of {', '.join(f'{d:g}' for d in small['effect'])}) is "
                 f"fewer than {MIN_PER_GROUP}: groups this small rest on large effects and "
                 "on approximations that need more children; they are not advised.")
    return text


def _sizes_text_zh(f: dict) -> str:
    s = f["sizes"]
    pw, al = _pct(f["power"]), _pct(f["alpha"])
    eff = "、".join(f"{d:g}" for d in s["effect"])
    ind = "、".join(map(str, s["n_per_group_individual"]))
    text = (f"要在{al}的显著性水平上以{pw}的统计功效，检测出项目在分数本身上{eff}个标准差的效应"
            f"（按 Cohen 的惯例，0.2为小效应、0.5为中等效应；学校里的项目很少超过这一范围），"
            f"随机对照研究每组分别约需{ind}名儿童")
    if f["clustered"]:
        what = f["cluster_label"].get("zh") or "群"
        n = "、".join(map(str, s["n_per_group"]))
        k = "、".join(str(int(v)) for v in s["clusters_per_group"])
        text += (f"。如果按{what}整体分组（每个{what}约{s['cluster_size'].iloc[0]:.0f}名儿童，"
                 f"组内相关系数{s['icc'].iloc[0]:.2f}），同一{what}的儿童彼此相似：计入设计效应"
                 f"{s['design_effect'].iloc[0]:.2f}后，每组分别约需{n}名儿童，即每组{k}个{what}")
    text += "。只数儿童“改善与否”而不比较分数，会丢失信息，需要更多儿童。"
    small = s[s["below_minimum"]]
    if len(small):
        text += (f"警告：每组{'、'.join(str(v) for v in small['n_per_group'])}名儿童"
                 f"（效应为{'、'.join(f'{d:g}' for d in small['effect'])}时）少于{MIN_PER_GROUP}名："
                 "这样小的组依赖很大的效应，以及需要更多儿童才成立的近似，不建议采用。")
    return text


def _defin_en(improved: str) -> str:
    return ("any increase in score" if improved == "any_increase"
            else "a reliable change (reliable change index above 1.96)")


def _defin_zh(improved: str) -> str:
    return ("分数有任何提高" if improved == "any_increase"
            else "可靠变化（可靠变化指数大于1.96）")


def _verdict_en(f: dict) -> list[str]:
    P = _pct
    parts = []
    school = ""
    if f["n_schools"] == 1:
        school = ", all from one school"
    elif f["n_schools"]:
        school = f", from {f['n_schools']} schools"
    parts.append(
        f"Claim: {P(f['p'])} of {f['n']} children improved (about {f['x']} children{school}). "
        f"With {f['n']} children, the 95% confidence interval of this share is "
        f"{P(f['ci_low'])} to {P(f['ci_high'])}.")
    # 1. this study's own data
    defs = f["defs"]
    group = "of the program group " if f["has_comparison"] else ""
    if f["support"] != "no_data":
        bits = []
        for k, words in (("any_increase", "improved at all (any increase in score"),
                         ("reliable_change", "reliably improved (reliable change index above "
                                             "1.96")):
            share, lo, hi, _, _ = defs[k]
            if not math.isnan(lo):
                bits.append(f"{P(share)} {words}; 95% CI {P(lo)} to {P(hi)})")
        if not bits:
            bits.append(f"{P(f['t_share'])} improved ({_defin_en(f['improved'])}; 95% CI "
                        f"{P(f['t_lo'])} to {P(f['t_hi'])})")
        s = (f"This study's own data: of the {f['tn']} children {group}measured before and "
             f"after, " + " and ".join(bits) + ". ")
        if len(bits) > 1:
            s += (f"The claim counts {_defin_en(f['improved'])} as improved, so "
                  f"{P(f['t_share'])} is the share to compare: its interval ")
        else:
            s += "Its interval "
        s += {"below_claim": f"lies below {P(f['p'])}, so the study's own data do not "
                             "support the claim.",
              "above_claim": f"lies above {P(f['p'])}: in this study more children improved "
                             "than claimed (which by itself does not say what caused it).",
              "consistent_with_claim": f"includes {P(f['p'])}, so the study's own data are "
                                       "consistent with the claimed share (which by itself "
                                       "does not say what caused it)."}[f["support"]]
        if f["data_clustered"]:
            s += (" These intervals treat the children as independent; children of one class "
                  "or school are alike, so the intervals are too narrow.")
        parts.append(s)
    if not math.isnan(f["c_share"]):
        s = f"In the comparison group {P(f['c_share'])} improved"
        if not math.isnan(f["c_lo"]):
            s += f" (95% CI {P(f['c_lo'])} to {P(f['c_hi'])})"
        if not math.isnan(f["diff"]):
            s += f"; the difference is {100 * f['diff']:+.0f} percentage points"
            if not math.isnan(f["diff_lo"]):
                s += f" (95% CI {100 * f['diff_lo']:+.0f} to {100 * f['diff_hi']:+.0f})"
        s += (". The difference between the groups, not the program group's share, is the "
              "estimate of what the program did")
        s += ("; the effects page compares the scores themselves with intervals that allow "
              "for the clusters." if f["data_clustered"] else ".")
        parts.append(s)
    # 2. no change at all
    defin = _defin_en(f["improved"])
    if f["below_percentile"] is None:
        cause = "measurement error alone"
        why = (" (a score is as likely to go up as down by chance)"
               if f["improved"] == "any_increase" else "")
    else:
        cause = ("measurement error and regression to the mean (the children were chosen "
                 f"for low scores, the lowest {f['below_percentile']:.0f}%, and low scores "
                 "tend to be followed by higher ones)")
        why = ""
    sim = (f" (simulated for a scale with {f['levels']} possible scores, where ties count "
           "as not improved)" if f["null_method"] == "simulated" else "")
    s30 = f.get("p0_sel30", math.nan)
    if f["has_baseline"]:
        s = (f"If nothing had changed at all, {cause} would make about {P(f['p0'])} of the "
             f"children look improved{why}, when 'improved' means {defin} on a measure with "
             f"reliability {f['reliability']:.2f}{sim}. ")
        if f["ci_low"] > f["p0"]:
            s += "The claimed share is above that level"
        elif f["ci_high"] < f["p0"]:
            s += "The claimed share is below that level"
        else:
            s += ("The claimed share cannot be distinguished from that level (its interval "
                  "includes it)")
        if not math.isnan(f["t_lo"]):
            rel = ("is above it" if f["t_lo"] > f["p0"] else "is below it"
                   if f["t_hi"] < f["p0"] else "cannot be distinguished from it")
            s += f"; the observed {P(f['t_share'])} {rel}"
        s += "."
        if not math.isnan(s30):
            rel = ("the claimed share is above that too" if f["ci_low"] > s30 else
                   "the claimed share is below that" if f["ci_high"] < s30 else
                   "the claimed share cannot be distinguished from that")
            s += (" If the children were chosen because they had problems, regression to the "
                  f"mean raises the no-change share (to about {P(s30)} when the lowest 30% are "
                  f"chosen); {rel}.")
        parts.append(s)
    else:
        s = (f"The claim comes without a measurement before the program, so its {P(f['p'])} "
             "is an impression of change, not a measured change, and it cannot be compared "
             "with what chance would produce. What can be said: had 'improved' been "
             f"measured as {defin} between two measurements with reliability "
             f"{f['reliability']:.2f}, about {P(f['p0'])} of the children would look improved "
             f"with no change at all{why}{sim}")
        if not math.isnan(s30):
            s += (f", and about {P(s30)} if they had been chosen for the lowest 30% of "
                  "scores (regression to the mean)")
        s += (". What cannot be said: that more children improved than chance, growing up "
              "or the hopes of the people who judged them would produce.")
        parts.append(s)
    # 3. maturation
    if not math.isnan(f["drift"]):
        formula = ("share improved = Φ(δ/√(2(1−r)))" if f["improved"] == "any_increase"
                   else "share improved = Φ(δ/√(2(1−r)) − 1.96)")
        sel = ("" if f["below_percentile"] is None else
               f", among children chosen from the lowest {f['below_percentile']:.0f}%")
        cont = " for a continuous score" if f["null_method"] == "simulated" else ""
        if f["drift"] > 0:
            s = (f"Ordinary growth alone can produce such a share: if every child's true score "
                 f"rose by {_sd(f['drift'])} standard deviations over the period (growing up, "
                 f"the school year), with no program at all, {P(f['p'])} would show {defin} "
                 f"with reliability {f['reliability']:.2f} ({formula}{sel}{cont}).")
        else:
            s = (f"The claimed share needs no growth at all: it is what a common change of "
                 f"{_sd(f['drift'])} standard deviations would give ({formula}{sel}{cont}).")
        s += (" Whether growth of that size over the study's period is plausible is for the "
              "reader to judge; only a comparison group measures it.")
        parts.append(s)
    # 4. the design
    if not f["has_comparison"]:
        gaps = []
        if not f["has_baseline"]:
            gaps.append("no baseline measurement")
        gaps.append("no comparison group")
        design = " and ".join(gaps)
        text = (
            f"With {design}, this design cannot show that the program caused any "
            "change: children mature over a school year, events in school and at home "
            "affect all of them, and when the people who ran the program also judge the "
            "improvement, their hopes enter the judgement.")
        text += (" It cannot support the claim that the program improved these "
                 "children; nor does it show that the program had no effect.")
        parts.append(text)
    # 5. sample size
    parts.append(_sizes_text_en(f))
    return parts


def _verdict_zh(f: dict) -> list[str]:
    P = _pct
    parts = []
    school = ""
    if f["n_schools"] == 1:
        school = "，全部来自同一所学校"
    elif f["n_schools"]:
        school = f"，来自{f['n_schools']}所学校"
    parts.append(
        f"声称：{f['n']}名儿童中{P(f['p'])}有所改善（约{f['x']}人{school}）。"
        f"以{f['n']}人计，这一比例的95%置信区间为{P(f['ci_low'])}至{P(f['ci_high'])}。")
    defs = f["defs"]
    group = "项目组" if f["has_comparison"] else ""
    if f["support"] != "no_data":
        bits = []
        for k, words in (("any_increase", "有所改善（分数有任何提高"),
                         ("reliable_change", "可靠改善（可靠变化指数大于1.96")):
            share, lo, hi, _, _ = defs[k]
            if not math.isnan(lo):
                bits.append(f"{P(share)}{words}；95%置信区间{P(lo)}至{P(hi)}）")
        if not bits:
            bits.append(f"{P(f['t_share'])}有所改善（{_defin_zh(f['improved'])}；95%置信区间"
                        f"{P(f['t_lo'])}至{P(f['t_hi'])}）")
        s = (f"本研究自己的数据：{group}前后都测量过的{f['tn']}名儿童中，" + "，".join(bits) + "。")
        if len(bits) > 1:
            s += (f"这一声称把{_defin_zh(f['improved'])}算作改善，所以应当比较的是"
                  f"{P(f['t_share'])}：其置信区间")
        else:
            s += "其置信区间"
        s += {"below_claim": f"低于{P(f['p'])}，因此本研究自己的数据不支持这一声称。",
              "above_claim": f"高于{P(f['p'])}：本研究中改善的儿童比声称的还多（这本身并不说明原因）。",
              "consistent_with_claim": f"包含{P(f['p'])}，因此本研究自己的数据与声称的比例相符"
                                       "（这本身并不说明原因）。"}[f["support"]]
        if f["data_clustered"]:
            s += "这些置信区间把儿童视为相互独立；同班或同校的儿童彼此相似，所以区间偏窄。"
        parts.append(s)
    if not math.isnan(f["c_share"]):
        s = f"对照组{P(f['c_share'])}的儿童有所改善"
        if not math.isnan(f["c_lo"]):
            s += f"（95%置信区间{P(f['c_lo'])}至{P(f['c_hi'])}）"
        if not math.isnan(f["diff"]):
            s += f"；两组相差{100 * f['diff']:+.0f}个百分点"
            if not math.isnan(f["diff_lo"]):
                s += f"（95%置信区间{100 * f['diff_lo']:+.0f}至{100 * f['diff_hi']:+.0f}）"
        s += "。衡量项目作用的是两组之间的差异，而不是项目组自身的比例"
        s += ("；效果页直接比较分数本身，其置信区间考虑了整群。" if f["data_clustered"] else "。")
        parts.append(s)
    defin = _defin_zh(f["improved"])
    if f["below_percentile"] is None:
        cause = "仅测量误差"
        why = ("（分数因偶然因素上升和下降的可能性相同）"
               if f["improved"] == "any_increase" else "")
    else:
        cause = (f"测量误差加上向均值回归（这些儿童是因得分低——最低的{f['below_percentile']:.0f}%"
                 "——而入选的，低分之后往往会出现较高的分数）")
        why = ""
    sim = (f"（按只有{f['levels']}个可能分数的量表模拟，分数相同算作未改善）"
           if f["null_method"] == "simulated" else "")
    s30 = f.get("p0_sel30", math.nan)
    if f["has_baseline"]:
        s = (f"即使什么都没有改变，当“改善”指在信度为{f['reliability']:.2f}的测量上{defin}时，"
             f"{cause}就会使约{P(f['p0'])}的儿童看起来有所改善{why}{sim}。")
        if f["ci_low"] > f["p0"]:
            s += "声称的比例高于这一水平"
        elif f["ci_high"] < f["p0"]:
            s += "声称的比例低于这一水平"
        else:
            s += "声称的比例与这一水平无法区分（其置信区间包含这一水平）"
        if not math.isnan(f["t_lo"]):
            rel = ("高于这一水平" if f["t_lo"] > f["p0"] else "低于这一水平"
                   if f["t_hi"] < f["p0"] else "与这一水平无法区分")
            s += f"；观察到的{P(f['t_share'])}{rel}"
        s += "。"
        if not math.isnan(s30):
            rel = ("声称的比例也高于这一水平" if f["ci_low"] > s30 else
                   "声称的比例低于这一水平" if f["ci_high"] < s30 else
                   "声称的比例与这一水平无法区分")
            s += ("如果这些儿童是因为有问题而被选入项目的，向均值回归会使没有任何变化时的比例更高"
                  f"（选入得分最低的30%时约为{P(s30)}）；{rel}。")
        parts.append(s)
    else:
        s = (f"这一声称没有项目前的测量，所以其{P(f['p'])}只是对变化的印象，而不是测得的变化，"
             "无法与偶然因素会产生的比例相比较。能说的是：如果“改善”是在信度为"
             f"{f['reliability']:.2f}的两次测量之间以{defin}来衡量的，即使没有任何变化，"
             f"也会有约{P(f['p0'])}的儿童看起来有所改善{why}{sim}")
        if not math.isnan(s30):
            s += f"；如果儿童是因得分处于最低的30%而入选的，约为{P(s30)}（向均值回归）"
        s += "。不能说的是：改善的儿童多于偶然因素、自然成长或评判者的期望所能产生的人数。"
        parts.append(s)
    if not math.isnan(f["drift"]):
        formula = ("改善比例 = Φ(δ/√(2(1−r)))" if f["improved"] == "any_increase"
                   else "改善比例 = Φ(δ/√(2(1−r)) − 1.96)")
        sel = ("" if f["below_percentile"] is None else
               f"，儿童选自得分最低的{f['below_percentile']:.0f}%")
        cont = "，按连续分数计算" if f["null_method"] == "simulated" else ""
        if f["drift"] > 0:
            s = (f"仅靠正常成长也能产生这样的比例：即使没有任何项目，只要每个儿童的真实分数在这段时间里"
                 f"（因成长、因一个学年）上升{_sd(f['drift'])}个标准差，在信度为{f['reliability']:.2f}"
                 f"的测量上就会有{P(f['p'])}的儿童{defin}（{formula}{sel}{cont}）。")
        else:
            s = (f"声称的比例不需要任何成长：共同变化{_sd(f['drift'])}个标准差就会得到它"
                 f"（{formula}{sel}{cont}）。")
        s += "在研究期间出现这样大的成长是否合理，由读者判断；只有对照组才能测出它。"
        parts.append(s)
    if not f["has_comparison"]:
        gaps = []
        if not f["has_baseline"]:
            gaps.append("没有基线测量")
        gaps.append("没有对照组")
        design = "、".join(gaps)
        text = (f"{design}，这一设计无法说明任何变化是由项目引起的："
                "儿童在一个学年中本身会成长，学校和家庭中发生的事情会影响所有儿童；"
                "而当实施项目的人同时评判改善时，他们的期望也会影响评判。")
        text += "这一设计不能支持“项目改善了这些儿童”的说法；但也不能说明项目没有效果。"
        parts.append(text)
    parts.append(_sizes_text_zh(f))
    return parts

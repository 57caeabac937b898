"""Audit a program report's claim such as "82% of 61 students improved".

A claimed share of "improved" children says little on its own. This module puts three
things next to it:

1. the uncertainty of the share itself (Wilson and Clopper-Pearson intervals);
2. the share that would look "improved" if the program did nothing at all, from
   measurement error and regression to the mean (:func:`null_improvement_share`);
3. how many children per group a comparison would need to tell the claimed share
   from that "no-effect" share (two-proportion test, Cohen's h, as ``pwr.2p.test``);

and says in plain words (Chinese or English) what the evidence supports and what it
does not (:func:`audit_claim`).

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
year, other events), which only a comparison group can separate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.change import risk_difference
from analysis.power import power_proportions

__all__ = ["ClaimAudit", "audit_claim", "null_improvement_share"]

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


@dataclass(frozen=True)
class ClaimAudit:
    """Result of :func:`audit_claim`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row with the columns ``claim, claimed_proportion, n, ci_low, ci_high,
        cp_low, cp_high, null_proportion, null_method, n_per_group_needed,
        observed_treatment, observed_control, verdict`` (in the language asked for),
        then ``claimed_count, reliability, improved, below_percentile, ci_excludes_null,
        has_baseline, has_comparison, observed_difference, observed_diff_ci_low,
        observed_diff_ci_high, alpha, power``.
    facts : dict
        Everything the verdict is built from.
    """

    table: pd.DataFrame
    facts: dict = field(repr=False)

    def verdict(self, lang: str = "en") -> str:
        """The plain-words verdict, ``lang`` ``"en"`` or ``"zh"``."""
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return _verdict(self.facts, lang)

    def to_dict(self, lang: str | None = None) -> dict:
        """JSON-ready dict: the table row plus both verdicts (or one, with ``lang``)."""
        row = self.table.iloc[0].to_dict()
        out = {k: (None if isinstance(v, float) and math.isnan(v) else
                   v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        langs = (lang,) if lang else ("en", "zh")
        out["verdicts"] = {lg: self.verdict(lg) for lg in langs}
        return out


def audit_claim(proportion: float, n: int, *, reliability: float = 0.8,
                improved: str = "any_increase", selection: Mapping | None = None,
                levels: int | None = None, alpha: float = 0.05, power: float = 0.8,
                observed: Mapping | None = None, has_baseline: bool = False,
                has_comparison: bool | None = None, n_schools: int | None = None,
                claim: str | None = None, lang: str = "en",
                seed: int = _SIM_SEED) -> ClaimAudit:
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
        For the intervals and for the per-group sample size.
    observed : mapping, optional
        The study's own shares improved, ``{"treatment": 0.64, "control": 0.55}``; each
        value a share or a pair ``(x, n)``. With both pairs, the difference gets a
        Newcombe interval.
    has_baseline : bool
        Whether the children were measured before the program (the reports: no).
    has_comparison : bool, optional
        Whether there is a comparison group; default: whether ``observed`` has a control.
    n_schools : int, optional
        Number of schools the claim comes from (mentioned in the verdict).
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
    >>> a = audit_claim(0.82, 61)
    >>> t = a.table
    >>> round(t["ci_low"].item(), 3), round(t["ci_high"].item(), 3), t["null_proportion"].item()
    (0.705, 0.896, 0.5)
    >>> int(t["n_per_group_needed"].item())
    33
    >>> "comparison group" in a.verdict("en"), "对照组" in a.verdict("zh")
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
    if abs(p - p0) < 1e-9:
        n_needed = math.nan
    else:
        n_needed = float(math.ceil(power_proportions(p1=p, p2=p0, power=power, alpha=a)["n"].item()
                                   - 1e-9))
    observed = dict(observed or {})
    unknown = set(observed) - {"treatment", "control"}
    if unknown:
        raise ValueError(f"observed keys must be 'treatment' and/or 'control', got {sorted(unknown)}")
    t_share, tx, tn = _obs(observed.get("treatment"))
    c_share, cx, cn = _obs(observed.get("control"))
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
    facts = {
        "claim": text, "p": p, "n": n, "x": x, "ci_low": float(lo), "ci_high": float(hi),
        "cp_low": float(cp_lo), "cp_high": float(cp_hi), "p0": p0,
        "null_method": null["null_method"], "mc_se": float(null["mc_se"]),
        "reliability": float(reliability), "improved": improved,
        "below_percentile": null["below_percentile"], "levels": levels,
        "n_needed": n_needed, "alpha": a, "power": float(power),
        "t_share": t_share, "c_share": c_share, "tn": tn, "cn": cn, "diff": diff,
        "diff_lo": diff_lo, "diff_hi": diff_hi, "has_baseline": bool(has_baseline),
        "has_comparison": bool(has_comparison), "n_schools": n_schools,
        "p0_sel30": p0_sel30,
    }
    row = {
        "claim": text, "claimed_proportion": p, "n": n, "ci_low": float(lo), "ci_high": float(hi),
        "cp_low": float(cp_lo), "cp_high": float(cp_hi), "null_proportion": p0,
        "null_method": null["null_method"], "n_per_group_needed": n_needed,
        "observed_treatment": t_share, "observed_control": c_share,
        "verdict": _verdict(facts, lang), "claimed_count": x, "reliability": float(reliability),
        "improved": improved,
        "below_percentile": (math.nan if null["below_percentile"] is None
                             else float(null["below_percentile"])),
        "ci_excludes_null": bool(lo > p0 or hi < p0), "has_baseline": bool(has_baseline),
        "has_comparison": bool(has_comparison), "observed_difference": diff,
        "observed_diff_ci_low": diff_lo, "observed_diff_ci_high": diff_hi, "alpha": a,
        "power": float(power),
    }
    return ClaimAudit(table=pd.DataFrame([row]), facts=facts)


# ---------------------------------------------------------------- verdict text


def _verdict(f: dict, lang: str) -> str:
    return (_verdict_zh if lang == "zh" else _verdict_en)(f)


def _verdict_en(f: dict) -> str:
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
    defin = ("any increase in score" if f["improved"] == "any_increase"
             else "a reliable change (reliable change index above 1.96)")
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
    parts.append(
        f"If nothing had changed at all, {cause} would make about {P(f['p0'])} of the "
        f"children look improved{why}, when 'improved' means {defin} on a measure with "
        f"reliability {f['reliability']:.2f}{sim}.")
    if f["ci_low"] > f["p0"]:
        parts.append(
            "The claimed share is above that level: more children improved than chance "
            "variation in the measurement alone would produce, if 'improved' was measured "
            "this way.")
    elif f["ci_high"] < f["p0"]:
        parts.append("The claimed share is below that level.")
    else:
        parts.append(
            "The claimed share cannot be distinguished from that level: its confidence "
            "interval includes it, so the claim is consistent with no change at all.")
    s30 = f.get("p0_sel30", math.nan)
    if not math.isnan(s30):
        rel = ("the claimed share is above that too" if f["ci_low"] > s30 else
               "the claimed share is below that" if f["ci_high"] < s30 else
               "the claimed share cannot be distinguished from that")
        parts.append(
            "If the children were chosen because they had problems, regression to the mean "
            f"raises the no-effect share (to about {P(s30)} when the lowest 30% are chosen); "
            f"{rel}.")
    if not f["has_comparison"]:
        gaps = []
        if not f["has_baseline"]:
            gaps.append("no baseline measurement")
        gaps.append("no comparison group")
        design = " and ".join(gaps)
        text = (
            f"But with {design}, this design cannot show that the program caused any "
            "change: children mature over a school year, events in school and at home "
            "affect all of them, and when the people who ran the program also judge the "
            "improvement, their hopes enter the judgement.")
        if not f["has_baseline"]:
            text += (" Without a baseline it is not even known how these children were "
                     "doing before, so 'improved' is an impression of change, not a "
                     "measured change.")
        text += (" This design cannot support the claim that the program improved these "
                 "children; nor does it show that the program had no effect.")
        parts.append(text)
    if math.isnan(f["n_needed"]):
        parts.append("The claimed share equals the no-effect share, so no sample size "
                     "could tell them apart.")
    else:
        parts.append(
            f"To tell a program under which {P(f['p'])} improve from no program (where about "
            f"{P(f['p0'])} would look improved anyway) with {P(f['power'])} power at the "
            f"{P(f['alpha'])} level, a study would need about {int(f['n_needed'])} children "
            "per group, assigned to program and comparison groups at random (more if whole "
            "classes or schools are assigned, because children in one class are alike; "
            "more again for smaller effects).")
    if not math.isnan(f["t_share"]) or not math.isnan(f["c_share"]):
        s = "In this study's data, "
        bits = []
        if not math.isnan(f["t_share"]):
            bits.append(f"{P(f['t_share'])} of the program group")
        if not math.isnan(f["c_share"]):
            bits.append(f"{P(f['c_share'])} of the comparison group")
        s += " and ".join(bits) + " improved"
        if not math.isnan(f["diff"]):
            s += f" (difference {100 * f['diff']:+.0f} percentage points"
            if not math.isnan(f["diff_lo"]):
                s += (f", 95% CI {100 * f['diff_lo']:+.0f} to {100 * f['diff_hi']:+.0f}")
            s += ")"
        s += "; the difference between the groups, not the program group's share, is the "
        s += "estimate of what the program did."
        parts.append(s)
    return " ".join(parts)


def _verdict_zh(f: dict) -> str:
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
    defin = ("分数有任何提高" if f["improved"] == "any_increase"
             else "可靠变化（可靠变化指数大于1.96）")
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
    parts.append(
        f"即使什么都没有改变，当“改善”指在信度为{f['reliability']:.2f}的测量上{defin}时，"
        f"{cause}就会使约{P(f['p0'])}的儿童看起来有所改善{why}{sim}。")
    if f["ci_low"] > f["p0"]:
        parts.append("声称的比例高于这一水平：如果“改善”确实是这样测量的，改善的儿童多于"
                     "仅由测量的偶然波动所能产生的人数。")
    elif f["ci_high"] < f["p0"]:
        parts.append("声称的比例低于这一水平。")
    else:
        parts.append("声称的比例与这一水平无法区分：其置信区间包含这一水平，"
                     "因此这一说法与“完全没有变化”是一致的。")
    s30 = f.get("p0_sel30", math.nan)
    if not math.isnan(s30):
        rel = ("声称的比例也高于这一水平" if f["ci_low"] > s30 else
               "声称的比例低于这一水平" if f["ci_high"] < s30 else
               "声称的比例与这一水平无法区分")
        parts.append("如果这些儿童是因为有问题而被选入项目的，向均值回归会使无效果时的比例更高"
                     f"（选入得分最低的30%时约为{P(s30)}）；{rel}。")
    if not f["has_comparison"]:
        gaps = []
        if not f["has_baseline"]:
            gaps.append("没有基线测量")
        gaps.append("没有对照组")
        design = "、".join(gaps)
        text = (f"但是，{design}，这一设计无法说明任何变化是由项目引起的："
                "儿童在一个学年中本身会成长，学校和家庭中发生的事情会影响所有儿童；"
                "而当实施项目的人同时评判改善时，他们的期望也会影响评判。")
        if not f["has_baseline"]:
            text += ("没有基线，甚至不知道这些儿童此前的状况，所以“改善”只是对变化的印象，"
                     "而不是测得的变化。")
        text += "这一设计不能支持“项目改善了这些儿童”的说法；但也不能说明项目没有效果。"
        parts.append(text)
    if math.isnan(f["n_needed"]):
        parts.append("声称的比例等于无效果时的比例，任何样本量都无法区分二者。")
    else:
        parts.append(
            f"要在{P(f['alpha'])}的显著性水平上以{P(f['power'])}的统计功效，区分一个使"
            f"{P(f['p'])}儿童改善的项目与没有项目（此时约{P(f['p0'])}的儿童也会看起来有所改善），"
            f"研究需要将儿童随机分为项目组和对照组，每组约{int(f['n_needed'])}名儿童"
            "（如果按班级或学校整体分组，由于同班儿童彼此相似，需要更多；效果更小时需要的更多）。")
    if not math.isnan(f["t_share"]) or not math.isnan(f["c_share"]):
        bits = []
        if not math.isnan(f["t_share"]):
            bits.append(f"项目组{P(f['t_share'])}")
        if not math.isnan(f["c_share"]):
            bits.append(f"对照组{P(f['c_share'])}")
        s = "本研究数据中，" + "、".join(bits) + "的儿童有所改善"
        if not math.isnan(f["diff"]):
            s += f"（相差{100 * f['diff']:+.0f}个百分点"
            if not math.isnan(f["diff_lo"]):
                s += f"，95%置信区间{100 * f['diff_lo']:+.0f}至{100 * f['diff_hi']:+.0f}"
            s += "）"
        s += "；衡量项目作用的是两组之间的差异，而不是项目组自身的比例。"
        parts.append(s)
    return "".join(parts)

"""The tables of the claims page (``04_claims``): reliable change by arm, the share of
respondents who improved, and the audit of every claim of the study.

Verdicts are in the language the caller passes (the run's ``lang``); an arm's observed
share is published only when it describes at least ``privacy.min_cell`` children
(:func:`_publishable_shares`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.small_cells import _min_cell
from evaluation.waves import _linked_waves


def reliability_for_change(study, rel: pd.DataFrame) -> dict:
    """Reliability per outcome for the reliable change index: the outcome's
    ``test_retest`` if given, else the instrument's, else alpha at baseline."""
    out = {}
    for o in study.outcomes:
        r = o.test_retest
        if r is None and o.scale:
            inst_id, scale_id = o.scale.split(".", 1)
            inst = study.instrument(inst_id)
            r = inst.test_retest
            if r is None and not rel.empty:
                hit = rel[(rel["instrument"] == inst_id) & (rel["scale"] == scale_id)
                          & (rel["wave"] == study.design.baseline)]
                if len(hit):
                    r = float(hit["alpha"].iloc[0])
        if r is not None and np.isfinite(r) and 0 < r < 1:  # alpha <= 0 is no reliability
            out[o.id] = float(r)
    return out


_CHANGE_COLUMNS = ["outcome", "arm", "n", "improved", "improved_ci_low", "improved_ci_high",
                   "worse", "worse_ci_low", "worse_ci_high", "n_improved", "n_worse",
                   "reliability", "sd_baseline"]


def change_summary(study, scores: pd.DataFrame, reliabilities: dict) -> pd.DataFrame:
    """Shares reliably improved / worse by arm (``tables/change.csv``).

    Empty (with its columns) when respondents are not followed over two waves (one
    wave, or a cross-sectional design) or no outcome has a reliability.
    """
    from analysis.change import change_table

    d = study.design
    if not _linked_waves(d) or not reliabilities:  # see not_applicable_reason(study, "change")
        return pd.DataFrame(columns=_CHANGE_COLUMNS)
    cols = {o.column_name: o.id for o in study.outcomes if o.id in reliabilities}
    renamed = scores.rename(columns=cols)
    return change_table(renamed, list(cols.values()), id=d.id, wave=d.wave, waves=list(d.waves),
                        arm=d.arm, reliability=reliabilities,
                        better={o.id: o.better for o in study.outcomes})


def observed_improvement(study, scores: pd.DataFrame, outcome_id: str, definition: str,
                         reliability: float | None) -> dict:
    """How many respondents of each arm "improved" between the first and last wave.

    ``definition`` is ``any_increase`` (a change in the better direction) or
    ``reliable_change`` (Jacobson–Truax RCI beyond 1.96, pooled baseline SD).
    Returns ``{arm: (x, n)}``; the arm is ``"all"`` for a one-group design.
    """
    from analysis.change import reliable_change

    d = study.design
    o = study.outcome(outcome_id)
    if not _linked_waves(d):  # one wave, or different respondents at each wave
        return {}
    wide = scores.pivot_table(index=[d.id] + ([d.arm] if d.arm else []), columns=d.wave,
                              values=o.column_name, aggfunc="first").reset_index()
    if d.baseline not in wide or d.endline not in wide:
        return {}
    sd = float(scores.loc[scores[d.wave] == d.baseline, o.column_name].std())
    both = wide.dropna(subset=[d.baseline, d.endline])
    if definition == "reliable_change":
        if reliability is None:
            return {}
        rc = reliable_change(both[d.baseline].to_numpy(), both[d.endline].to_numpy(),
                             reliability=reliability, sd=sd, better=o.better)
        improved = (rc["status"] == "improved").to_numpy()
    else:
        change = both[d.endline] - both[d.baseline]
        improved = ((change > 0) if o.better == "higher" else (change < 0)).to_numpy()
    arms = both[d.arm].to_numpy() if d.arm else np.array(["all"] * len(both))
    return {str(a): (int(improved[arms == a].sum()), int((arms == a).sum()))
            for a in sorted(set(arms))}


def _publishable_shares(counts: dict, min_cell: int) -> dict:
    """``{arm: (x, n)}`` without the arms whose share would describe fewer than
    ``min_cell`` children: an arm of fewer than ``min_cell``, or ``x`` or ``n - x``
    between 1 and ``min_cell - 1`` (3 of 40 improved names a small group).

    >>> _publishable_shares({"t": (30, 40), "c": (2, 40), "typo": (1, 1)}, 5)
    {'t': (30, 40)}
    """
    return {a: (x, n) for a, (x, n) in counts.items()
            if n >= min_cell and not 0 < x < min_cell and not 0 < n - x < min_cell}


def claims_audit(study, scores: pd.DataFrame, reliabilities: dict, *, lang: str | None = None):
    """Audit every claim of the study (``tables/claims.csv``).

    Returns ``(table, audits)``: the table with columns ``claim, claimed_proportion,
    n, ci_low, ci_high, null_proportion, observed_treatment, observed_control,
    verdict`` (plus the audit's other columns), and the :class:`ClaimAudit` objects.
    The verdict and the observed shares' text are in ``lang`` (``"zh"`` or ``"en"``:
    the run's language; default the study's).
    The observed shares come from this study's data with the claim's definition of
    "improved"; ``treatment`` is the first non-control arm (or the single group). An
    arm's share is left out when it would describe fewer than ``privacy.min_cell``
    children (:func:`_publishable_shares`).
    """
    from analysis.claims import audit_claim

    d = study.design
    lang = lang or study.language
    rows, audits = [], []
    for c in study.claims:
        rel = reliabilities.get(c.outcome) if c.outcome else None
        obs_counts = observed_improvement(study, scores, c.outcome, c.improved, rel) if c.outcome else {}
        obs_counts = _publishable_shares(obs_counts, _min_cell(study))
        observed = {}
        if obs_counts:
            treated = [a for a in obs_counts if a != d.control]
            if treated:
                observed["treatment"] = obs_counts[treated[0]]
            if d.control in obs_counts:
                observed["control"] = obs_counts[d.control]
        # The claim's own source (a report) does not say how many schools; the study's
        # clusters may be classes, so nothing is said about schools here.
        n_schools = None
        a = audit_claim(c.proportion, c.n, reliability=rel if rel else 0.8, improved=c.improved,
                        observed=observed or None, has_baseline=_linked_waves(d),
                        has_comparison=bool(d.arm) and "control" in observed,
                        n_schools=n_schools, claim=c.text, alpha=study.analysis.alpha,
                        lang=lang, seed=study.analysis.seed)
        t = a.table.copy()
        t["claim_id"] = c.id
        t["outcome"] = c.outcome
        t["reliability_source"] = "study" if rel else "default 0.8"
        rows.append(t)
        audits.append(a)
    if not rows:
        return pd.DataFrame(columns=["claim", "claimed_proportion", "n", "ci_low", "ci_high",
                                     "null_proportion", "observed_treatment",
                                     "observed_control", "verdict"]), []
    return pd.concat(rows, ignore_index=True), audits

"""Write a complete study folder from a simulated study (``workbench simulate``).

A :class:`SimulationPlan` says what to simulate (design, waves, arms, sizes,
ICCs, effects, attrition, instruments and data-column outcomes, id style,
export shapes); :func:`write_simulated_study` runs
:func:`analysis.simulate.simulate_study` with the bundled instruments' item ids,
reverse keys and scales, and writes::

    study.yaml      design, instruments, data, missing codes, privacy.pii, outcomes, claims,
                    labels (of arms, waves, covariate levels, columns), seed
    data/*.csv      raw files, one per wave; with ``delivery`` also the contact log
                    (``contacts.csv``) and the child archives (``roster``, ``guardians``,
                    ``parents``, ``mentors``), and study.yaml's ``archives``, ``contacts``
                    and ``protocol`` keys (analysis.simulate_delivery)
    truth.json      the generating parameters and the true effects (analysis.simulate)
    README.md       what was simulated and what an analysis should find

The output is a deterministic function of the plan: the same plan and seed give
byte-identical files (no timestamps, fixed float formatting, ``\\n`` line ends
except in the platform-style GBK export, which uses ``\\r\\n`` as Excel does).
Every file names the ``workbench simulate`` options that re-create it
(:func:`cli_options`); the options and the plan are the same thing, so a plan
made on the command line is re-created by its own line.

Two presets reproduce the bundled examples: ``single-school`` (the 61-student
school behind the "82% learned to communicate" claim: pre/post, no comparison
group) and ``county`` (20 schools randomized within 2 counties, three
instruments, endline exported as a GBK CSV with Chinese headers and label text,
as a Chinese survey platform would).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.simulate import ATTRITION_MECHANISMS, AttritionSpec, OutcomeSpec, simulate_study
from analysis.simulate_delivery import DELIVERY_PII, DeliverySpec
from core.errors import WorkbenchError
from survey.instrument_loader import load_instrument

__all__ = ["InstrumentPlan", "ColumnPlan", "SimulationPlan", "PRESETS", "INSTRUMENT_OUTCOMES",
           "COLUMN_OUTCOMES", "WAVE_LABELS", "ARM_LABELS", "plan_from_preset",
           "plan_from_options", "cli_options", "write_simulated_study"]

MISSING_CODE = -9
DELIVERY_LEVELS = ("none", "log", "archives", "roster")
"""``--delivery``: none; ``log`` (a contact log and the protocol); ``archives`` (also the
child archives: roster, guardians, parents, mentors); ``roster`` (archives, and the wave
files leave out the covariates: they come from the roster)."""
PII_NAME_ZH = "姓名"  # the name column as a platform export heads it


@dataclass(frozen=True)
class InstrumentPlan:
    """One questionnaire of a simulated study and the outcome scored from it.

    ``effect``, ``trend`` and ``covariate_effect`` are in latent SD units in the
    *beneficial* direction (positive = better, whatever the scale's direction;
    ``covariate_effect=-0.15``: children with both parents away do worse).
    ``location`` shifts the answers in the scale's own direction (``-0.25`` on the
    loneliness scale: most children report little loneliness). ``outcome=False``
    (no outcome): the questionnaire is answered and checked for reliability but
    scores no study outcome.
    """

    instrument: str
    scale: str
    outcome: str
    effect: float
    reliability: float = 0.8
    location: float = 0.0
    covariate_effect: float = -0.15
    trend: float = 0.0
    primary: bool = False
    is_outcome: bool = True


@dataclass(frozen=True)
class ColumnPlan:
    """A numeric data-column outcome (test score, attendance days) of a simulated study.

    ``effect``, ``trend`` and ``covariate_effect`` as in :class:`InstrumentPlan`
    (beneficial direction, latent SD units). The column is ``mean + sd *
    (sqrt(reliability) * trait + sqrt(1 - reliability) * noise)``, rounded to
    ``decimals`` and clipped to ``value_range``.
    """

    column: str
    outcome: str
    effect: float
    better: str = "higher"
    mean: float = 50.0
    sd: float = 10.0
    value_range: tuple | None = None
    decimals: int = 0
    reliability: float = 0.9
    covariate_effect: float = -0.15
    trend: float = 0.0
    primary: bool = False


# what `--instruments ID` and `--columns NAME` add (effects are set by the plan's rule)
INSTRUMENT_OUTCOMES = {
    "pcc": InstrumentPlan("pcc", "total", "communication", 0.0, reliability=0.82, location=0.3),
    "cls": InstrumentPlan("cls", "total", "loneliness", 0.0, reliability=0.88, location=-0.25),
    "rses": InstrumentPlan("rses", "total", "self_esteem", 0.0, reliability=0.80, location=0.2,
                           covariate_effect=-0.1),
    "phq9": InstrumentPlan("phq9", "total", "depression", 0.0, reliability=0.85, location=-0.6),
    "gad7": InstrumentPlan("gad7", "total", "anxiety", 0.0, reliability=0.84, location=-0.6),
    "cesdc": InstrumentPlan("cesdc", "total", "depressive_symptoms", 0.0, reliability=0.86,
                            location=-0.5),
    "brs": InstrumentPlan("brs", "total", "resilience", 0.0, reliability=0.80, location=0.1),
    "who5": InstrumentPlan("who5", "total", "wellbeing", 0.0, reliability=0.82, location=0.2),
    "mspss": InstrumentPlan("mspss", "total", "social_support", 0.0, reliability=0.88,
                            location=0.3),
}
COLUMN_OUTCOMES = {
    "math_score": ColumnPlan("math_score", "math", 0.0, "higher", mean=68.0, sd=14.0,
                             value_range=(0, 100), decimals=0, reliability=0.9),
    "reading_score": ColumnPlan("reading_score", "reading", 0.0, "higher", mean=72.5, sd=11.0,
                                value_range=(0, 100), decimals=1, reliability=0.85),
    "attendance_days": ColumnPlan("attendance_days", "attendance", 0.0, "higher", mean=162.0,
                                  sd=9.0, value_range=(0, 180), decimals=0, reliability=0.7),
    "absent_days": ColumnPlan("absent_days", "absence", 0.0, "lower", mean=8.0, sd=5.0,
                              value_range=(0, 60), decimals=0, reliability=0.7),
}
WAVE_LABELS = {1: ("survey",), 2: ("baseline", "endline"), 3: ("baseline", "midline", "endline")}
ARM_LABELS = {0: (), 2: ("treatment", "control"), 3: ("treatment", "treatment_plus", "control")}
CONTROLLED_BASELINE_DIFFERENCE = -0.3  # programs pick the schools that are worse off


@dataclass(frozen=True)
class SimulationPlan:
    """Everything ``workbench simulate`` needs; see :data:`PRESETS`.

    ``attrition`` is the overall share lost by endline; with arms it is split as
    ``attrition_ratio`` (control / treatment rates), keeping the overall share.
    ``platform_endline`` writes the endline as a GBK CSV with Chinese question
    headers and label-text answers (as 问卷星 and Excel on Chinese Windows do).
    ``baseline_difference`` (beneficial direction, latent SD, every outcome) is how
    much better off the program's groups are before the program (negative: worse
    off), the confounding of a non-randomized comparison. ``incomplete`` is the
    share of respondents per wave who answer only the first half of every
    questionnaire (more blanks than ``min_items`` allows). See
    :func:`analysis.simulate.simulate_study` for ``cluster_levels``, ``id_style``
    and ``arm_effects``. ``attrition_mechanism`` (``mcar``, ``mar``, ``mnar``) and
    ``attrition_strength`` say who leaves, driven by the primary outcome
    (:class:`analysis.simulate.AttritionSpec`; the rates by arm are kept).
    """

    study_id: str = "simulated-study"
    title: dict = field(default_factory=lambda: {"en": "Simulated study", "zh": "模拟研究"})
    language: str = "zh"
    design: str = "cluster_randomized"
    schools: int = 20
    blocks: int = 2
    classes_per_school: int | tuple = (2, 4)
    students_per_school: int | tuple = 40
    grades: tuple = (4, 6)
    icc_school: float = 0.05
    icc_class: float = 0.08
    stability: float = 0.6
    attrition: float = 0.10
    attrition_ratio: float = 13 / 7
    item_missing: float = 0.01
    boys: int | None = None
    seed: int = 20240609
    waves: tuple = ("baseline", "endline")
    arms: tuple = ("treatment", "control")
    instruments: tuple = ()
    trait_correlation: tuple | None = None
    platform_endline: bool = False
    claims: tuple = ()
    preset: str | None = None
    truth_draws: int = 200_000
    columns: tuple = ()
    cluster_levels: int | None = None
    id_style: str = "code"
    incomplete: float = 0.0
    baseline_difference: float = 0.0
    arm_effects: tuple | None = None
    delivery: str = "none"
    attrition_mechanism: str = "mcar"
    attrition_strength: float = 1.0

    @property
    def has_arm(self) -> bool:
        return self.design != "pre_post" and len(self.arms) > 0

    @property
    def outcome_plans(self) -> tuple:
        """Instrument outcomes (in order), then data-column outcomes."""
        return tuple(ip for ip in self.instruments if ip.is_outcome) + tuple(self.columns)

    @property
    def primary(self):
        outs = self.outcome_plans
        return next((o for o in outs if o.primary), outs[0] if outs else None)

    def attrition_by_arm(self) -> dict | float:
        if not self.has_arm or len(self.waves) < 2:
            return self.attrition if len(self.waves) > 1 else 0.0
        if len(self.arms) == 2:
            # overall a = (t + c) / 2 with c = ratio * t
            t = 2 * self.attrition / (1 + self.attrition_ratio)
            return {self.arms[0]: round(t, 6), self.arms[1]: round(self.attrition_ratio * t, 6)}
        k = len(self.arms) - 1  # treatment arms share rate t, the control ratio * t
        t = len(self.arms) * self.attrition / (k + self.attrition_ratio)
        return {**{a: round(t, 6) for a in self.arms[:-1]},
                self.arms[-1]: round(self.attrition_ratio * t, 6)}


_THREE = (
    InstrumentPlan("pcc", "total", "communication", effect=0.3, reliability=0.82,
                   location=0.3, covariate_effect=-0.15, primary=True),
    InstrumentPlan("cls", "total", "loneliness", effect=0.15, reliability=0.88,
                   location=-0.25, covariate_effect=-0.15),
    InstrumentPlan("rses", "total", "self_esteem", effect=0.1, reliability=0.80,
                   location=0.2, covariate_effect=-0.1),
)
# the county's program works through its delivery: these are the effects of the full protocol
# (delta); a child gets delta times its share of the protocol met, so the average effect of
# assignment (ITT) is about 0.78 of them (0.31, 0.16, 0.10 SD), close to the three above
_THREE_DELIVERED = tuple(replace(ip, effect=e) for ip, e in zip(_THREE, (0.4, 0.2, round(0.4 / 3, 10))))
# correlations of the latent traits in their own (scale) directions:
# communication, loneliness (high = lonely), self-esteem
_THREE_CORR = ((1.0, -0.4, 0.4), (-0.4, 1.0, -0.5), (0.4, -0.5, 1.0))

PRESETS = {
    "single-school": SimulationPlan(
        study_id="single-school-pre-post",
        title={"en": "Care program for left-behind children in one school: pre and post survey",
               "zh": "某校留守儿童关爱项目：前后测调查"},
        design="pre_post", schools=1, blocks=1, classes_per_school=15,
        students_per_school=61, boys=31, grades=(1, 6), icc_school=0.0, icc_class=0.06,
        stability=0.6, attrition=0.0, item_missing=0.01, seed=8261, waves=("pre", "post"),
        arms=("program", "none"),
        instruments=(InstrumentPlan("pcc", "total", "communication", effect=0.0, trend=0.15,
                                    reliability=0.82, location=0.3, primary=True),),
        claims=({"id": "comm-82",
                 "text": "82% of left-behind students learned to communicate and to ask teachers "
                         "and classmates for help when in difficulty (82%的留守学生学会了沟通，"
                         "遇到困难时会向老师和同学求助)",
                 "outcome": "communication", "proportion": 0.82, "n": 61,
                 "improved": "any_increase"},),
        preset="single-school",
    ),
    "county": SimulationPlan(
        study_id="county-cluster-trial",
        title={"en": "County mentoring program for left-behind children: a cluster randomized trial",
               "zh": "县域留守儿童结对帮扶项目：整群随机对照试验"},
        design="cluster_randomized", schools=20, blocks=2, classes_per_school=(2, 4),
        students_per_school=(34, 46), grades=(4, 6), icc_school=0.05, icc_class=0.08,
        stability=0.6, attrition=0.10, attrition_ratio=13 / 7, item_missing=0.01, seed=20240609,
        instruments=_THREE_DELIVERED, trait_correlation=_THREE_CORR, platform_endline=True,
        preset="county", delivery="archives",
    ),
    "two-school": SimulationPlan(
        study_id="two-school-comparison",
        title={"en": "After-school care program for left-behind children: the program school "
                     "compared with a neighbouring school (not randomized)",
               "zh": "留守儿童课后关爱项目：项目学校与邻近学校的比较（非随机）"},
        design="controlled", schools=2, blocks=1, classes_per_school=6,
        students_per_school=(56, 64), grades=(4, 6), icc_school=0.0, icc_class=0.08,
        stability=0.6, attrition=0.08, attrition_ratio=10 / 6, item_missing=0.01,
        seed=20250311, arms=("program", "comparison"), instruments=_THREE,
        trait_correlation=_THREE_CORR, baseline_difference=CONTROLLED_BASELINE_DIFFERENCE,
        preset="two-school",
    ),
}
_GENERIC = SimulationPlan(instruments=_THREE, trait_correlation=_THREE_CORR)


def _bad(message: str):
    return WorkbenchError("SIMULATE_BAD_PARAMETERS", message)


def _from_catalogue(names, catalogue: dict, option: str) -> tuple:
    """The catalogue entries an option names (``none`` for none); unknown or repeated is an error."""
    names = [n for n in names if n != "none"]
    unknown = [n for n in names if n not in catalogue]
    if unknown or len(set(names)) != len(names):
        raise _bad(f"{option}: unknown or repeated {unknown or names}; expected some of "
                   f"{sorted(catalogue)} (or none)")
    return tuple(catalogue[n] for n in names)


def _set_outcomes(plan: SimulationPlan, *, instruments=None, columns=None, outcomes=None,
                  primary=None, effect=None, trend=None) -> SimulationPlan:
    """Rebuild the outcome list: the primary outcome gets ``effect`` and ``trend``; the
    other outcomes, in order, get effect / 2, effect / 3, ... and no trend."""
    if all(v is None for v in (instruments, columns, outcomes, primary, effect, trend)):
        return plan
    cur = plan.primary
    e = float(effect) if effect is not None else (cur.effect if cur is not None else 0.3)
    tr = float(trend) if trend is not None else (cur.trend if cur is not None else 0.0)
    if instruments is None:
        insts = tuple(replace(ip, is_outcome=True) for ip in plan.instruments)
    else:
        insts = _from_catalogue(instruments, INSTRUMENT_OUTCOMES, "--instruments")
    if columns is None:
        cols = plan.columns
    else:
        cols = _from_catalogue(columns, COLUMN_OUTCOMES, "--columns")
    if outcomes is None:
        outcomes = "columns" if plan.instruments and not any(
            ip.is_outcome for ip in plan.instruments) else "all"
    if outcomes not in ("all", "columns"):
        raise _bad("--outcomes must be 'all' or 'columns'")
    if outcomes == "columns" and not cols:
        raise _bad("--outcomes columns needs data-column outcomes (--columns)")
    insts = tuple(replace(ip, is_outcome=outcomes == "all") for ip in insts)
    outs = [ip.outcome for ip in insts if ip.is_outcome] + [c.outcome for c in cols]
    if not outs:
        raise _bad("the study needs at least one outcome: an instrument (--instruments) or a "
                   "data column (--columns)")
    if primary is None:  # new outcome lists start with their primary outcome
        keep = instruments is None and columns is None
        primary = cur.outcome if keep and cur is not None and cur.outcome in outs else outs[0]
    if primary not in outs:
        raise _bad(f"--primary {primary!r} is not an outcome; expected one of {outs}")
    rank = {primary: 1}
    for o in outs:
        rank.setdefault(o, len(rank) + 1)

    def fix(p, is_out=True):
        if not is_out:
            return replace(p, effect=0.0, trend=0.0, primary=False)
        k = rank[p.outcome]
        return replace(p, effect=e if k == 1 else round(e / k, 10), trend=tr if k == 1 else 0.0,
                       primary=k == 1)

    insts = tuple(fix(ip, ip.is_outcome) for ip in insts)
    cols = tuple(fix(c) for c in cols)
    corr = plan.trait_correlation
    old = tuple(ip.instrument for ip in plan.instruments) + tuple(c.column for c in plan.columns)
    new = tuple(ip.instrument for ip in insts) + tuple(c.column for c in cols)
    if old != new:
        corr = None
    return replace(plan, instruments=insts, columns=cols, trait_correlation=corr)


def plan_from_options(preset: str | None = None, *, design=None, waves=None, arms=None,
                      clusters=None, blocks=None, per_cluster=None, classes=None,
                      cluster_levels=None, icc=None, icc_class=None, instruments=None,
                      columns=None, outcomes=None, primary=None, effect=None, trend=None,
                      baseline_difference=None, attrition=None, attrition_ratio=None,
                      item_missing=None, incomplete=None, id_style=None, language=None,
                      platform_endline=None, seed=None, truth_draws=None,
                      delivery=None, attrition_mechanism=None,
                      attrition_strength=None) -> SimulationPlan:
    """The plan that ``workbench simulate`` options describe (``None``: not given).

    Starts from ``preset`` (or the generic plan: a cluster randomized trial of 20
    schools in 2 counties, instruments pcc, cls and rses) and applies the options
    in a fixed order, with these derived settings unless given too:

    * ``design="pre_post"``: attrition the same in everybody (no arms);
      ``"controlled"``: the program's schools start 0.3 SD worse off
      (``baseline_difference=-0.3``; 0 for the other designs);
      ``"cross_sectional"``: one wave.
    * ``waves``: 1, 2 or 3 (labels :data:`WAVE_LABELS` unless the count is
      unchanged); one wave has no attrition.
    * ``arms``: 0 (a cross-sectional survey without groups), 2 or 3 (labels
      :data:`ARM_LABELS`, control last; the second treatment arm gets half the effect).
    * ``clusters`` (schools) without ``blocks``: blocks = min(preset's blocks,
      schools // arms), at least 1.
    * ``delivery``: one of :data:`DELIVERY_LEVELS` (the county preset has ``archives``);
      needs a program (arms, or pre_post).
    * ``attrition_mechanism``: ``mcar`` (default), ``mar`` (children who start worse on
      the primary outcome leave more) or ``mnar`` (children who got worse than their
      baseline predicts leave more), with ``attrition_strength`` log-odds per SD
      (default 1); needs two or more waves.
    * ``instruments``, ``columns``, ``outcomes``, ``primary``, ``effect``, ``trend``:
      the primary outcome (default: the preset's, or the first outcome of a new
      ``instruments``/``columns`` list) gets ``effect`` (default: the preset's,
      0.3 for the generic plan) and ``trend``; the other outcomes, in order
      (instruments, then columns), get effect / 2, effect / 3, ... So
      ``--effect 0.3`` is the generic plan itself (communication 0.3, loneliness
      0.15, self-esteem 0.1).

    Examples
    --------
    >>> from workbench.study_writer import plan_from_options
    >>> p = plan_from_options(None, design="controlled", waves=3, arms=3, clusters=9)
    >>> p.waves, p.arms, p.blocks, p.baseline_difference
    (('baseline', 'midline', 'endline'), ('treatment', 'treatment_plus', 'control'), 2, -0.3)
    >>> p = plan_from_options(None, instruments=["phq9"], columns=["math_score"], effect=-0.2)
    >>> [(o.outcome, o.effect, o.primary) for o in p.outcome_plans]
    [('depression', -0.2, True), ('math', -0.1, False)]
    """
    if preset is not None and preset not in PRESETS:
        raise WorkbenchError("SIMULATE_UNKNOWN_PRESET",
                             f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    plan = PRESETS[preset] if preset else _GENERIC
    ov: dict = {}
    if design is not None:
        if design == "pre_post" and plan.design != "pre_post" and attrition_ratio is None:
            ov["attrition_ratio"] = 1.0
        if baseline_difference is None:
            ov["baseline_difference"] = (CONTROLLED_BASELINE_DIFFERENCE if design == "controlled"
                                         else 0.0)
        if design == "cross_sectional" and waves is None:
            waves = 1
        ov["design"] = design
    if waves is not None:
        waves = int(waves)
        if waves not in WAVE_LABELS:
            raise _bad("--waves must be 1, 2 or 3")
        if waves != len(plan.waves):
            ov["waves"] = WAVE_LABELS[waves]
        if waves == 1 and attrition is None:
            ov["attrition"] = 0.0
    if arms is not None:
        arms = int(arms)
        if arms not in ARM_LABELS:
            raise _bad("--arms must be 0, 2 or 3")
        if arms != len(plan.arms):
            ov["arms"] = ARM_LABELS[arms]
    plan = replace(plan, **ov)
    if clusters is not None:
        n_arms = max(2, len(plan.arms)) if plan.has_arm else 2
        plan = replace(plan, schools=int(clusters),
                       blocks=int(blocks) if blocks is not None else
                       min(plan.blocks, max(1, int(clusters) // n_arms)))
    elif blocks is not None:
        plan = replace(plan, blocks=int(blocks))
    plan = _set_outcomes(plan, instruments=instruments, columns=columns, outcomes=outcomes,
                         primary=primary, effect=effect, trend=trend)
    direct = {"students_per_school": per_cluster, "classes_per_school": classes,
              "cluster_levels": cluster_levels, "icc_school": icc, "icc_class": icc_class,
              "baseline_difference": baseline_difference, "attrition": attrition,
              "attrition_ratio": attrition_ratio, "item_missing": item_missing,
              "incomplete": incomplete, "id_style": id_style, "language": language,
              "platform_endline": platform_endline, "seed": seed, "truth_draws": truth_draws,
              "delivery": delivery, "attrition_mechanism": attrition_mechanism,
              "attrition_strength": (float(attrition_strength) if attrition_strength is not None
                                     else None)}
    if delivery is not None and delivery not in DELIVERY_LEVELS:
        raise _bad(f"--delivery must be one of {DELIVERY_LEVELS}")
    if attrition_mechanism is not None and attrition_mechanism not in ATTRITION_MECHANISMS:
        raise _bad(f"--attrition-mechanism must be one of {ATTRITION_MECHANISMS}")
    if attrition_strength is not None and not math.isfinite(float(attrition_strength)):
        raise _bad("--attrition-strength must be a finite number")
    plan = replace(plan, **{k: v for k, v in direct.items() if v is not None})
    if plan.delivery != "none" and not (plan.has_arm or plan.design == "pre_post"):
        raise _bad("--delivery needs a program: arms, or a pre_post design")
    if plan.attrition_mechanism != "mcar" and len(plan.waves) < 2:
        raise _bad("--attrition-mechanism needs two or more waves (a later wave to leave)")
    return plan


def plan_from_preset(preset: str | None = None, **overrides) -> SimulationPlan:
    """A plan from a preset (or the generic plan) with some settings replaced.

    ``effect`` (if given) sets the primary outcome's effect; the others get
    effect / 2, effect / 3, ... (as :func:`plan_from_options`). ``schools``
    without ``blocks`` and ``design="pre_post"`` derive as there. Other keywords
    are :class:`SimulationPlan` fields. ``None`` values are ignored.

    Examples
    --------
    >>> from workbench.study_writer import plan_from_preset
    >>> p = plan_from_preset("county", seed=7)
    >>> p.schools, p.blocks, p.seed, p.instruments[0].outcome
    (20, 2, 7, 'communication')
    >>> plan_from_preset(None, design="pre_post", effect=0.2).instruments[1].effect
    0.1
    >>> plan_from_preset(None, effect=0.3) == plan_from_preset(None)
    True
    """
    ov = {k: v for k, v in overrides.items() if v is not None}
    opts = {}
    for key, opt in (("effect", "effect"), ("design", "design"), ("schools", "clusters"),
                     ("blocks", "blocks")):
        if key in ov:
            opts[opt] = ov.pop(key)
    if "attrition_ratio" in ov:
        opts["attrition_ratio"] = ov.pop("attrition_ratio")
    plan = plan_from_options(preset, **opts)
    return replace(plan, **ov)


# ---------------------------------------------------------------------------
# the re-create line: options <-> plan

def _primary_attr(name):
    def get(p):
        pr = p.primary
        return getattr(pr, name) if pr is not None else None
    return get


def _outcomes_mode(p):
    return "columns" if p.instruments and not any(ip.is_outcome for ip in p.instruments) else "all"


# (flag, keyword of plan_from_options, value in a plan); applied in this order
_OPTIONS = (
    ("--design", "design", lambda p: p.design),
    ("--waves", "waves", lambda p: len(p.waves)),
    ("--arms", "arms", lambda p: len(p.arms) if p.design != "pre_post" else None),
    ("--clusters", "clusters", lambda p: p.schools),
    ("--blocks", "blocks", lambda p: p.blocks),
    ("--per-cluster", "per_cluster", lambda p: p.students_per_school),
    ("--classes", "classes", lambda p: p.classes_per_school),
    ("--cluster-levels", "cluster_levels", lambda p: p.cluster_levels),
    ("--icc", "icc", lambda p: p.icc_school),
    ("--icc-class", "icc_class", lambda p: p.icc_class),
    ("--instruments", "instruments", lambda p: tuple(ip.instrument for ip in p.instruments)),
    ("--columns", "columns", lambda p: tuple(c.column for c in p.columns)),
    ("--outcomes", "outcomes", _outcomes_mode),
    ("--primary", "primary", _primary_attr("outcome")),
    ("--effect", "effect", _primary_attr("effect")),
    ("--trend", "trend", _primary_attr("trend")),
    ("--baseline-difference", "baseline_difference", lambda p: p.baseline_difference),
    ("--attrition", "attrition", lambda p: p.attrition),
    ("--attrition-ratio", "attrition_ratio", lambda p: p.attrition_ratio),
    ("--attrition-mechanism", "attrition_mechanism", lambda p: p.attrition_mechanism),
    ("--attrition-strength", "attrition_strength", lambda p: p.attrition_strength),
    ("--item-missing", "item_missing", lambda p: p.item_missing),
    ("--incomplete", "incomplete", lambda p: p.incomplete),
    ("--id-style", "id_style", lambda p: p.id_style),
    ("--language", "language", lambda p: p.language),
    ("--platform-endline", "platform_endline", lambda p: p.platform_endline),
    ("--delivery", "delivery", lambda p: p.delivery),
)


def _fmt_option(flag, value) -> list[str] | None:
    if isinstance(value, bool):
        return [flag] if value else None
    if isinstance(value, tuple):
        return [flag, *(value or ("none",))]
    return [flag, str(value)]


def cli_options(plan: SimulationPlan) -> list[str] | None:
    """The ``workbench simulate`` options that re-create ``plan`` exactly, or ``None``.

    Options equal to what the preset (and the options before them) give are left
    out; the result is checked: :func:`plan_from_options` of these options is
    ``plan``. ``None`` when the plan was made in Python with settings no option
    reaches (e.g. a custom instrument list with its own effects).

    Examples
    --------
    >>> from workbench.study_writer import cli_options, plan_from_options
    >>> cli_options(plan_from_options(None, clusters=12, per_cluster=30, icc=0.05,
    ...                               effect=0.3, attrition=0.1, seed=7))
    ['--clusters', '12', '--per-cluster', '30', '--seed', '7']
    """
    chosen: dict = {}
    fixed = {"seed": plan.seed, "truth_draws": plan.truth_draws}
    for _ in range(len(_OPTIONS) + 1):
        try:
            rebuilt = plan_from_options(plan.preset, **chosen, **fixed)
        except WorkbenchError:
            return None
        todo = [(flag, key, get) for flag, key, get in _OPTIONS
                if key not in chosen and get(rebuilt) != get(plan)]
        if not todo:
            break
        flag, key, get = todo[0]
        value = get(plan)
        if value is None or _fmt_option(flag, value) is None or (
                isinstance(value, tuple) and key not in ("instruments", "columns")):
            return None
        chosen[key] = list(value) if isinstance(value, tuple) else value
        if key in ("instruments", "columns"):  # one without the other may leave no outcome
            for other in ("instruments", "columns"):
                get_other = next(g for _, k, g in _OPTIONS if k == other)
                chosen.setdefault(other, list(get_other(plan)))
    if rebuilt != plan:
        return None
    out = [f"--preset {plan.preset}".split()] if plan.preset else []
    for flag, key, _ in _OPTIONS:
        if key in chosen:
            v = chosen[key]
            out.append(_fmt_option(flag, tuple(v) if isinstance(v, list) else v))
    out.append(["--seed", str(plan.seed)])
    base = PRESETS[plan.preset] if plan.preset else _GENERIC
    if plan.truth_draws != base.truth_draws:
        out.append(["--truth-draws", str(plan.truth_draws)])
    return [tok for part in out for tok in part]


def _cli_args(plan: SimulationPlan) -> str:
    """The ``workbench simulate`` options that re-create ``plan``, as one line."""
    opts = cli_options(plan)
    if opts is None:
        return ("(no command line: made in Python with workbench.study_writer."
                "write_simulated_study)")
    return " ".join(opts)


# ---------------------------------------------------------------------------


def _specs(plan: SimulationPlan):
    specs, uses = [], []
    bd = float(plan.baseline_difference)
    for ip in plan.instruments:
        inst = load_instrument(ip.instrument)
        scale = inst.scale(ip.scale)
        in_scale = set(scale.items)
        sign = 1.0 if scale.better == "higher" else -1.0
        specs.append(OutcomeSpec(
            id=ip.outcome, items=inst.item_ids,
            reverse=[it.reverse for it in inst.items],
            scored=[it.id in in_scale for it in inst.items],
            response_min=inst.response.min, response_max=inst.response.max,
            reliability=ip.reliability, effect=sign * ip.effect, trend=sign * ip.trend,
            covariate_effect=sign * ip.covariate_effect, location=ip.location,
            score=scale.score, better=scale.better,
            baseline_difference=sign * bd if ip.is_outcome else 0.0))
        uses.append((ip, inst, scale))
    for cp in plan.columns:
        sign = 1.0 if cp.better == "higher" else -1.0
        specs.append(OutcomeSpec(
            id=cp.outcome, column=cp.column, column_mean=cp.mean, column_sd=cp.sd,
            column_range=cp.value_range, decimals=cp.decimals, reliability=cp.reliability,
            effect=sign * cp.effect, trend=sign * cp.trend,
            covariate_effect=sign * cp.covariate_effect, better=cp.better,
            baseline_difference=sign * bd))
    return specs, uses


def _round_floats(obj, digits=8):
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: _round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v, digits) for v in obj]
    return obj


def _design_yaml(plan, sim):
    d = sim.design
    out = {"type": d.type, "id": d.id, "waves": list(d.waves)}
    if d.arm:
        out["arm"] = d.arm
        out["control"] = d.control
    if d.clusters:
        out["clusters"] = list(d.clusters)
    if d.blocks:
        out["blocks"] = d.blocks
    out["covariates"] = list(d.covariates)
    out["subgroups"] = list(d.subgroups)
    return out


# `labels:` of a simulated study.yaml: the words reports show for the values the simulation
# writes (survey.study.Labels); only values the study has are written.
_VALUE_LABELS = {
    "arm": {"treatment": {"en": "Treatment", "zh": "干预组"},
            "treatment_plus": {"en": "Treatment plus", "zh": "强化干预组"},
            "control": {"en": "Control", "zh": "对照组"}},
    "wave": {"baseline": {"en": "Baseline", "zh": "基线"}, "midline": {"en": "Midline", "zh": "中期"},
             "endline": {"en": "Endline", "zh": "终期"}, "pre": {"en": "Pre-test", "zh": "前测"},
             "post": {"en": "Post-test", "zh": "后测"}, "survey": {"en": "Survey", "zh": "调查"}},
    "gender": {"male": {"en": "Boys", "zh": "男生"}, "female": {"en": "Girls", "zh": "女生"}},
    "guardian_type": {"grandparents": {"en": "Grandparents", "zh": "祖辈"},
                      "other_relative": {"en": "Other relative", "zh": "其他亲属"},
                      "one_parent": {"en": "One parent", "zh": "父母一方"}},
    "both_parents_away": {"0": {"en": "No", "zh": "否"}, "1": {"en": "Yes", "zh": "是"}},
}
# a preset's program names its arms (the county's treatment arm is the mentoring program)
_PRESET_ARM_LABELS = {"county": {"treatment": {"en": "Mentoring", "zh": "结对帮扶"},
                                 "control": {"en": "Comparison", "zh": "对照组"}},
                      "two-school": {"program": {"en": "Program school", "zh": "项目学校"},
                                     "comparison": {"en": "Comparison school",
                                                    "zh": "对照学校"}}}
_COLUMN_LABELS = {
    "arm": {"en": "Arm", "zh": "组别"}, "wave": {"en": "Wave", "zh": "测量时点"},
    "county_id": {"en": "County", "zh": "县"}, "school_id": {"en": "School", "zh": "学校"},
    "class_id": {"en": "Class", "zh": "班级"}, "gender": {"en": "Gender", "zh": "性别"},
    "age": {"en": "Age (years)", "zh": "年龄（岁）"},
    "guardian_type": {"en": "Guardian", "zh": "监护人"},
    "both_parents_away": {"en": "Both parents away", "zh": "父母均外出"},
}


def _labels_yaml(plan, sim) -> dict:
    """``labels:`` for the arm and wave values, the covariate levels and the design's columns."""
    d = sim.design
    present = {"wave": set(d.waves), "gender": {"male", "female"},
               "guardian_type": set(sim.data["guardian_type"].dropna().astype(str)),
               "both_parents_away": {"0", "1"}}
    arm_labels = dict(_VALUE_LABELS["arm"])
    if d.arm:
        present["arm"] = {str(a) for a in plan.arms}
        arm_labels.update(_PRESET_ARM_LABELS.get(plan.preset, {}))
    values = {}
    for col, labels in {**_VALUE_LABELS, "arm": arm_labels}.items():
        if col in present and (col in d.covariates or col in d.subgroups or col in ("arm", "wave")):
            chosen = {v: dict(lab) for v, lab in labels.items() if v in present[col]}
            if chosen:
                values[d.arm if col == "arm" else d.wave if col == "wave" else col] = chosen
    ordered = {c: values[c] for c in dict.fromkeys((d.arm, d.wave, *d.covariates, *d.subgroups))
               if c in values}
    columns = {c: dict(_COLUMN_LABELS[c]) for c in d.columns if c in _COLUMN_LABELS}
    return {"values": ordered, "columns": columns}


def _platform_header(q: int, inst, item, k: int) -> str:
    if item.text and item.text.get("zh"):
        return f"{q}、{item.text['zh']}"
    short = (inst.name.get("zh") or inst.id).split("（")[0]
    return f"{q}、{short}第{k}题"


def _columns(sim, plan):
    cols = ["student_id"]
    if sim.design.arm:
        cols.append("arm")
    if plan.design != "pre_post" and plan.blocks > 1:
        cols.append("county_id")
    cols += ["school_id", "class_id"]
    return cols


def _write_csv(df: pd.DataFrame, path: Path, *, encoding="utf-8", lineterminator="\n"):
    text = df.to_csv(index=False, lineterminator=lineterminator)
    path.write_bytes(text.encode(encoding))


def _items_as_codes(df, items):
    out = df.copy()
    for c in items:
        out[c] = out[c].fillna(MISSING_CODE).astype("int64")
    return out


def _delivery_spec(plan: SimulationPlan, specs) -> DeliverySpec | None:
    """The delivery of a plan (``None`` without): the primary outcome drives the triggers."""
    if plan.delivery == "none":
        return None
    prim = plan.primary.outcome if plan.primary is not None else specs[0].id
    index = next(k for k, sp in enumerate(specs) if sp.id == prim)
    return DeliverySpec(primary=index, archives=plan.delivery in ("archives", "roster"),
                        roster_only_covariates=plan.delivery == "roster")


def _attrition_spec(plan: SimulationPlan, specs) -> AttritionSpec | None:
    """Who leaves (``None``: at random within arm): the primary outcome drives it."""
    if plan.attrition_mechanism == "mcar":
        return None
    prim = plan.primary.outcome if plan.primary is not None else specs[0].id
    index = next(k for k, sp in enumerate(specs) if sp.id == prim)
    return AttritionSpec(plan.attrition_mechanism, float(plan.attrition_strength), index)


_COVARIATES = ["gender", "age", "guardian_type", "both_parents_away"]
DELIVERY_FILES = {"roster": "data/roster.csv", "guardians": "data/guardians.csv",
                  "parents": "data/parents.csv", "mentors": "data/mentors.csv"}
CONTACTS_FILE = "data/contacts.csv"


def _write_delivery(tmp: Path, plan: SimulationPlan, sim) -> None:
    """The contact log and (with archives) the four archive tables, UTF-8 CSV."""
    d = sim.delivery
    idc = sim.design.id
    _write_csv(d.contacts.rename(columns={"id": idc}), tmp / CONTACTS_FILE)
    if plan.delivery not in ("archives", "roster"):
        return
    roster = d.roster.rename(columns={"id": idc})
    keep = _columns(sim, plan) + _COVARIATES + ["name"]
    _write_csv(roster[[c for c in keep if c in roster.columns]], tmp / DELIVERY_FILES["roster"])
    for name in ("guardians", "parents", "mentors"):
        _write_csv(getattr(d, name).rename(columns={"id": idc}), tmp / DELIVERY_FILES[name])


def _write_files(tmp: Path, plan: SimulationPlan, sim, uses) -> dict:
    data = sim.data
    design_cols = _columns(sim, plan)
    # the roster level: the covariates are in the roster only (not repeated in each wave)
    cov_cols = [] if plan.delivery == "roster" else list(_COVARIATES)
    pii_cols = list(sim.pii)
    all_items = [i for _, inst, _ in uses for i in inst.item_ids]
    value_cols = [c.column for c in plan.columns]  # blank when missing (not a missing code)
    (tmp / "data").mkdir()
    files = []
    items_map = {}
    last = len(plan.waves) - 1
    for w, wave in enumerate(plan.waves):
        part = data.loc[data["wave"] == wave]
        name = f"data/{wave}.csv"
        files.append({"path": name, "wave": wave})
        if not (plan.platform_endline and w == last and w > 0):
            _write_csv(_items_as_codes(part[design_cols + cov_cols + pii_cols + all_items
                                            + value_cols], all_items), tmp / name)
            continue
        # a survey-platform export: rows in submission order, the child's typed name,
        # question headers in Chinese, answers as label text, blanks for skipped items
        order = np.random.default_rng(plan.seed + 1).permutation(len(part))
        e = part.iloc[order]
        out = {c: e[c].to_numpy() for c in design_cols + cov_cols}
        out[PII_NAME_ZH] = e["name"].to_numpy()
        q = 1
        for _, inst, _ in uses:
            items_map[inst.id] = {}
            labels = {code: lab.get("zh") or lab.get("en") for code, lab in inst.response.labels.items()}
            for k, item in enumerate(inst.items, start=1):
                header = _platform_header(q, inst, item, k)
                items_map[inst.id][item.id] = header
                vals = e[item.id]
                out[header] = [labels[int(v)] if labels and not pd.isna(v) else
                               ("" if pd.isna(v) else str(int(v))) for v in vals]
                q += 1
        for c in value_cols:
            out[c] = e[c].to_numpy()
        _write_csv(pd.DataFrame(out), tmp / name, encoding="gbk", lineterminator="\r\n")
    if plan.delivery != "none":
        _write_delivery(tmp, plan, sim)
    return {"files": files, "items_map": items_map}


def _study_yaml(plan, sim, uses, written) -> str:
    study = {
        "id": plan.study_id,
        "title": dict(plan.title),
        "language": plan.language,
        "design": _design_yaml(plan, sim),
        "instruments": [],
        "data": written["files"],
        "missing_codes": [MISSING_CODE],
        "privacy": {"pii": list(sim.pii) + ([PII_NAME_ZH] if written["items_map"] or (
            plan.platform_endline and len(plan.waves) > 1) else []),
                    "min_cell": 5},
        "outcomes": [],
    }
    for ip, inst, _scale in uses:
        entry = {"id": inst.id}
        if inst.id in written["items_map"]:
            entry["items"] = written["items_map"][inst.id]
        study["instruments"].append(entry)
        if not ip.is_outcome:
            continue
        o = {"id": ip.outcome, "scale": f"{inst.id}.{ip.scale}"}
        o["better"] = inst.scale(ip.scale).better
        if ip.primary:
            o["primary"] = True
        study["outcomes"].append(o)
    for cp in plan.columns:
        o = {"id": cp.outcome, "column": cp.column, "better": cp.better}
        if cp.primary:
            o["primary"] = True
        study["outcomes"].append(o)
    if plan.claims:
        study["claims"] = [dict(c) for c in plan.claims]
    if plan.delivery != "none":
        _delivery_yaml(study, plan, sim)
    study["labels"] = _labels_yaml(plan, sim)
    study["analysis"] = {"alpha": 0.05, "adjust": "holm", "seed": int(plan.seed)}
    study["notes"] = ("Simulated with `workbench simulate` (analysis.simulate.simulate_study); "
                      "every name, phone number and address is fake. The true effects are in "
                      "truth.json.")
    if _one_school_per_group(plan):
        study["notes"] += (" One school per group: the school is the group, so the classes are "
                           "the clusters, and everything else that differs between the schools "
                           "is confounded with the program (not randomized).")
    head = (f"# {plan.study_id}: a SIMULATED study with known truth (see truth.json, README.md).\n"
            f"# Re-create: workbench simulate DIR {_cli_args(plan)}\n")
    return head + yaml.safe_dump(study, allow_unicode=True, sort_keys=False, width=100,
                                 default_flow_style=None)


def _delivery_yaml(study: dict, plan: SimulationPlan, sim) -> None:
    """``archives``, ``contacts``, ``protocol`` (issue 14) and their personal columns."""
    if plan.delivery in ("archives", "roster"):
        study["archives"] = {k: {"path": v} for k, v in DELIVERY_FILES.items()}
    study["contacts"] = [{"path": CONTACTS_FILE}]
    protocol = DeliverySpec().protocol_yaml()  # the calendar and rules do not depend on the plan
    if plan.has_arm:
        protocol["arms"] = list(plan.arms[:-1])
    study["protocol"] = protocol
    pii = study["privacy"]["pii"]
    study["privacy"]["pii"] = pii + [c for c in DELIVERY_PII if c not in pii]


def _truth_json(plan, sim, uses) -> str:
    truth = dict(sim.truth)
    outs = {}
    # the first treatment arm's effect, as effect_latent_sd (analysis.simulate_truth)
    first = float(plan.arm_effects[0]) if plan.arm_effects and plan.has_arm else 1.0
    for ip, inst, _scale in uses:
        t = dict(truth["outcomes"][ip.outcome])
        t = {"instrument": inst.id, "scale": f"{inst.id}.{ip.scale}",
             "effect_beneficial_sd": float(ip.effect) * first, "primary": bool(ip.primary), **t}
        if not ip.is_outcome:
            t = {"instrument": inst.id, "scale": f"{inst.id}.{ip.scale}", "outcome": False,
                 **{k: v for k, v in t.items() if k not in ("instrument", "scale")}}
        outs[ip.outcome] = t
    for cp in plan.columns:
        t = dict(truth["outcomes"][cp.outcome])
        outs[cp.outcome] = {"effect_beneficial_sd": float(cp.effect) * first,
                            "primary": bool(cp.primary),
                            **t}
    if plan.baseline_difference:
        for t in outs.values():
            t["baseline_difference_beneficial_sd"] = float(plan.baseline_difference)
    truth["outcomes"] = outs
    truth["study_id"] = plan.study_id
    truth["plan"] = {"preset": plan.preset, "cli": _cli_args(plan),
                     "platform_endline": plan.platform_endline,
                     "missing_code": MISSING_CODE}
    notes_delivery = ([
        "delivery: the effect grows with the dose. effect_beneficial_sd is delta, the effect of "
        "the full protocol; effect_latent_sd and effect_scale are intention-to-treat effects "
        "(delta times the difference in mean share of the protocol met between the arms, "
        "delivery.potential.first_stage_share; effect_scale by Monte Carlo at that average "
        "latent shift: the children's shifts differ, and the scale is not quite linear in the "
        "trait, which moves the ITT on the scale by about 0.3% of itself, e.g. 0.0005 +- 0.0002 "
        "points on the county's communication scale). delivery.outcomes gives the 2SLS estimands (dose = share: ITT / "
        "first_stage_share = delta; dose = received: ITT / first_stage_received) and the "
        "average effect among compliers of 'received' (delta times their mean gain in share), "
        "in latent SD and scale units. The potential shares of every child (in and out of "
        "the program, with common random numbers) define these sample quantities."]
        if plan.delivery != "none" else [])
    truth["notes"] = notes_delivery + [
        "effect_latent_sd: true average treatment effect on the latent trait, in the scale's own "
        "direction (negative lowers the score), in SD units of the control population.",
        "effect_scale: the same effect on the scale score (instrument.scale, as scored by the "
        "workbench, no items missing), by Monte Carlo with common random numbers; "
        "effect_scale_mc_se is its Monte Carlo standard error.",
        "trend_latent_sd: change without the program; in a pre_post design the observed change "
        "estimates trend + effect, not the effect.",
        "icc_school/icc_class are ICCs of the latent trait; observed-score ICCs are smaller "
        "(about ICC x reliability).",
        "share_*_treated: expected share of treated students who look improved between waves "
        "(any increase; reliable change index > 1.96 using alpha_expected).",
        "Personal data (names, pinyin, phones 170-0xxx-xxxx/171-0xxx-xxxx, addresses, guardian "
        "names) are fake and unique per student."
        + (" The archives' guardian phones (172-0xxx-xxxx), parents' names and phones "
           "(173-0xxx-xxxx) and the mentors' names are fake too." if plan.delivery != "none"
           else ""),
    ]
    if "attrition" in truth:
        truth["notes"].append(
            "attrition: who left before the last wave (mechanism, coefficients, response rates "
            "by arm; parameters.attrition holds the target rates). For mnar, attrition.delta "
            "is the true delta of the delta adjustment (analysis.imputation.delta_adjustment): "
            "negative when the children who left would have scored lower; see "
            "attrition.delta_definition.")
    if plan.columns:
        truth["notes"].append(
            "Data-column outcomes (column): effect_scale is the effect on the column as written "
            "(rounded, clipped to its range); reliability is the share of its variance that is "
            "the trait.")
    if plan.baseline_difference:
        truth["notes"].append(
            "baseline_difference_latent_sd: the program's groups differ from the comparison "
            "group by this much at every wave, before and without the program (they were not "
            "randomized). An estimate that does not remove it is biased.")
    if len(plan.waves) > 2:
        truth["notes"].append(
            "With three waves the trend and the effect are half reached at the middle wave and "
            "complete at the last; change_scale_* compare the first and the last wave.")
    truth = _round_floats(truth)
    return json.dumps(truth, ensure_ascii=False, indent=2) + "\n"


def _fmt(x, d=3):
    return f"{x:.{d}f}"


def _one_school_per_group(plan) -> bool:
    """Each group of a non-randomized comparison is one school (the school is the group)."""
    return (plan.has_arm and plan.design in ("controlled", "cross_sectional")
            and plan.schools == len(plan.arms))


def _readme(plan, sim, uses) -> str:
    t = sim.truth
    lines = [f"# {plan.title.get('en')}", "", f"{plan.title.get('zh')}", "",
             "**Simulated data with known truth** (made by `workbench simulate`; nothing here is "
             "about real children: every name, phone number and address is fake).", "",
             "Re-create it byte for byte:", "", "```", f"workbench simulate DIR {_cli_args(plan)}",
             "```", "", "## Design", ""]
    dz = t["design"]
    lines.append(f"- `{dz['type']}`: {dz['schools']} school(s), {dz['classes']} classes, "
                 f"{dz['students']} students; randomization: {dz['randomization']}.")
    for arm, info in dz["by_arm"].items():
        if len(plan.waves) > 1:
            lines.append(f"- {arm}: {info['students']} students in {info['schools']} school(s), "
                         f"{info['followed_up']} at {plan.waves[-1]} (attrition "
                         f"{_fmt(info['attrition_observed'], 3)}; target "
                         f"{info['attrition_target']}).")
        else:
            lines.append(f"- {arm}: {info['students']} students in {info['schools']} school(s), "
                         f"one wave ({plan.waves[0]}).")
    p = t["parameters"]
    lines.append(f"- Latent ICCs: school {p['icc_school']}, class {p['icc_class']}; "
                 f"{'baseline-endline' if len(plan.waves) == 2 else 'wave-to-wave'} stability "
                 f"{p['stability']}; item non-response "
                 f"{p['item_missing']} (coded {MISSING_CODE}"
                 + (", blank in the platform export" if plan.platform_endline else "")
                 + ("; blank in data columns" if plan.columns else "") + ")."
                 if len(plan.waves) > 1 or plan.preset else
                 f"- Latent ICCs: school {p['icc_school']}, class {p['icc_class']}; item "
                 f"non-response {p['item_missing']} (coded {MISSING_CODE}"
                 + ("; blank in data columns" if plan.columns else "") + ").")
    if plan.incomplete:
        lines.append(f"- {plan.incomplete:.0%} of the respondents of each wave answered only the "
                     "first half of every questionnaire: more blanks than the scales' `min_items` "
                     "allow, so their scale scores are missing.")
    if "attrition" in t:
        lines += _readme_attrition(t["attrition"])
    if plan.cluster_levels is not None:
        lines.append(f"- Cluster levels declared in study.yaml: {plan.cluster_levels}.")
    if plan.id_style != "code":
        lines.append(f"- Student ids: `{plan.id_style}` style (e.g. `{sim.data['student_id'].iloc[0]}`).")
    lines += ["", "## True effects (from truth.json)", "",
              "| outcome | scale | better | effect (latent SD) | effect (scale units) | MC SE | "
              "alpha (expected) |", "|---|---|---|---|---|---|---|"]
    for ip, inst, scale in uses:
        if not ip.is_outcome:
            continue
        o = t["outcomes"][ip.outcome]
        lines.append(f"| {ip.outcome}{' (primary)' if ip.primary else ''} | `{inst.id}.{ip.scale}` "
                     f"| {scale.better} | {o['effect_latent_sd']:+.2f} | "
                     f"{o['effect_scale']:+.4f} | {o['effect_scale_mc_se']:.4f} | "
                     f"{_fmt(o['alpha_expected'])} |")
    for cp in plan.columns:
        o = t["outcomes"][cp.outcome]
        lines.append(f"| {cp.outcome}{' (primary)' if cp.primary else ''} | column "
                     f"`{cp.column}` | {cp.better} | {o['effect_latent_sd']:+.2f} | "
                     f"{o['effect_scale']:+.4f} | {o['effect_scale_mc_se']:.4f} | "
                     f"(reliability {cp.reliability}) |")
    if plan.has_arm and (len(plan.arms) > 2 or (plan.arm_effects
                                                  and float(plan.arm_effects[0]) != 1)):
        mult = tuple(plan.arm_effects or (1.0,) + (0.5,) * (len(plan.arms) - 2))
        if mult[0] == 1:
            lines += ["", "; ".join(f"Arm `{a}` has {m:g} times these effects"
                                    for a, m in zip(plan.arms[1:-1], mult[1:]))
                      + " (`effect_scale_by_arm` in truth.json)."]
        else:  # the table gives the first arm's effects: the plan's effects times its multiplier
            lines += ["", "Multipliers of the plan's effects by treatment arm: "
                      + ", ".join(f"`{a}` {m:g}" for a, m in zip(plan.arms[:-1], mult))
                      + "; the table gives the effects of the first arm (`effect_scale_by_arm` "
                      "in truth.json)."]
    lines.append("")
    if plan.design == "pre_post":
        o = t["outcomes"][plan.primary.outcome]
        lines += ["## What a pre/post design can and cannot show", "",
                  f"The program's true effect is **{o['effect_latent_sd']:+.2f} SD**, but scores "
                  f"drift by {o['trend_latent_sd']:+.2f} SD between waves without any program "
                  "(maturation, getting used to the questionnaire). With no comparison group the "
                  f"observed change (expected {o['change_scale_treated']:+.3f} scale points) "
                  "cannot be told apart from the program's effect.",
                  "",
                  f"Under this model the share of students whose score rises at all is "
                  f"{_fmt(o['share_any_improvement_treated'], 2)}, and the share with a reliable "
                  f"improvement is {_fmt(o['share_reliable_improvement_treated'], 2)}, although "
                  "the program does nothing."
                  if o["effect_latent_sd"] == 0 else
                  f"Under this model the share of students whose score changes in the better "
                  f"direction at all is {_fmt(o['share_any_improvement_treated'], 2)}, and the "
                  f"share with a reliable improvement is "
                  f"{_fmt(o['share_reliable_improvement_treated'], 2)}.", ""]
        for c in plan.claims:
            lines += [f"Claim `{c['id']}`: \"{c['text']}\" (claimed proportion {c['proportion']}, "
                      f"n = {c['n']}). `improved: {c['improved']}` is the most generous reading "
                      "of the report, which names no instrument and no criterion: any increase "
                      "of the score counts.", ""]
    if plan.has_arm and plan.baseline_difference:
        lines += ["## What a comparison without randomization can and cannot show", "",
                  f"The program's groups were chosen, not randomized: before the program they "
                  f"are {plan.baseline_difference:+.2f} SD (beneficial direction) from the "
                  "comparison group, and stay so. A difference between the groups mixes this "
                  "with the effect; adjusting for a baseline score measured with error removes "
                  "only part of it.", ""]
        if len(plan.waves) > 1:
            lines += ["Here the gap is the same at every wave (the groups would have changed "
                      "alike without the program: parallel trends hold by construction), so a "
                      "difference in differences (change in the program group minus change in "
                      "the comparison group) targets the true effect, while an ANCOVA on the "
                      "last wave keeps part of the gap. In real data nobody can check that "
                      "assumption; the reports say so.", ""]
    if _one_school_per_group(plan):
        lines += ["## One school per group", "",
                  "Each group is one school, so the school is the group: whatever else differs "
                  "between the two schools (head teacher, other programs, the intake of the "
                  "year) is confounded with the program, and no analysis of two schools can "
                  "separate them. The study therefore declares the classes as its clusters "
                  f"(`clusters: [class_id]`, {sim.truth['design']['classes']} classes): two "
                  "school clusters leave no variance to estimate a standard error from. "
                  "Standard errors over classes describe the uncertainty about these two "
                  "schools, not about schools like them.",
                  "",
                  f"In this simulation the school level of the latent trait has no variance "
                  f"(school ICC {plan.icc_school}): the two schools differ only by the gap "
                  "above, so the truth can be recovered. Real schools also drift apart between "
                  "waves for reasons of their own, which a two-school comparison cannot tell "
                  "from the program.", ""]
    if not plan.has_arm and plan.design == "cross_sectional":
        lines += ["## What a one-off survey can and cannot show", "",
                  "One wave and no comparison group: reliability and description only; no "
                  "effect can be estimated.", ""]
    lines += ["## Files", "",
              "- `study.yaml`: the study (design, instruments, data, privacy, outcomes"
              + (", claims" if plan.claims else "") + ")."]
    if plan.preset or (len(plan.waves) == 2 and not plan.columns):
        lines.append(f"- `data/{plan.waves[0]}.csv`: UTF-8, English column names, item codes, "
                     "with the students' personal data (declared in `privacy.pii`).")
        if plan.platform_endline:
            lines.append(f"- `data/{plan.waves[1]}.csv`: **GBK** CSV (CRLF) as a Chinese survey "
                         "platform exports it: Chinese question headers (mapped to item ids by "
                         "`instruments[].items`), answers as label text (非常同意 ...), blank for "
                         "skipped questions, the typed name (姓名), rows in submission order. Its "
                         "encoding is not declared, so detection is exercised.")
        else:
            lines.append(f"- `data/{plan.waves[1]}.csv`: the same layout at {plan.waves[1]}.")
    else:
        lines.append("- " + ", ".join(f"`data/{w}.csv`" for w in plan.waves)
                     + ": one file per wave, UTF-8, English column names, item codes"
                     + (", data-column outcomes " + ", ".join(f"`{c.column}`" for c in plan.columns)
                        if plan.columns else "")
                     + ", with the students' personal data (declared in `privacy.pii`)"
                     + ("; the last wave as a GBK platform export" if plan.platform_endline
                        and len(plan.waves) > 1 else "") + ".")
    if plan.delivery != "none":
        lines += _readme_delivery_files(plan)
    lines += ["- `truth.json`: the generating parameters and the true effects.", ""]
    if plan.delivery != "none":
        lines += _readme_delivery(plan, sim)
    return "\n".join(lines)


def _readme_attrition(rec: dict) -> list:
    """The README lines of a MAR or MNAR attrition (truth.json ``attrition``)."""
    alphas = ", ".join(f"{a} {v['alpha']:+.3f}" for a, v in rec["by_arm"].items()
                       if v["alpha"] is not None)
    if rec["mechanism"] == "mar":
        return [f"- Who left (missing at random): logit P(leave) = alpha_arm + "
                f"{rec['strength']:g} x w, w the standardized baseline {rec['outcome']} score "
                f"(higher = worse off; alpha: {alphas}); each arm keeps its rate. The children "
                "who start worse leave more: complete cases are biased, an analysis that uses "
                "the baseline (multiple imputation, response weights) is not. True delta = 0."]
    lines = [f"- Who left (missing NOT at random): logit P(leave) = alpha_arm + "
             f"{rec['strength']:g} x w, w the child's unseen change in {rec['outcome']} (worse "
             f"than the baseline predicts = higher; alpha: {alphas}); each arm keeps its rate. "
             "Nothing observed shows it: no analysis of the observed data removes the bias; the "
             "delta adjustment with the true delta does."]
    d = rec["delta"][rec["outcome"]]["by_arm"]
    lines.append("- True delta of the delta adjustment, in SD of the observed endline score: "
                 + "; ".join(f"{a} {v['delta_sd_sample']:+.3f} for the children who left "
                             f"({v['delta_sd_expected']:+.3f} expected from their probabilities "
                             f"of leaving; {v['delta_latent_sd']:+.3f} SD on the latent trait)"
                             for a, v in d.items() if v is not None)
                 + ". truth.json `attrition` has every outcome's and how each is computed.")
    return lines


def _readme_delivery_files(plan) -> list:
    out = [f"- `{CONTACTS_FILE}`: the contact log (活动记录), one row per contact: child id, date, "
           "activity (`home_visit`, `phone_call`, `letter`, `counselling`, `home_attendance`), "
           "mentor id, 五必访 trigger (`mood`, `illness`, `grades`, `lateness`, `conflict`), "
           "duration in minutes, and the mentor's name (personal, declared in `privacy.pii`)."]
    if plan.delivery in ("archives", "roster"):
        out += [f"- `{DELIVERY_FILES['roster']}`: the roster (儿童档案), one row per child: arm, "
                "school, class, covariates, name"
                + (" (the wave files do not repeat the covariates: they come from here)"
                   if plan.delivery == "roster" else "") + ".",
                f"- `{DELIVERY_FILES['guardians']}`: temporary guardians with the dates of the "
                "guardianship (`to` empty = current); some children change guardian during the "
                "year. Names and phone numbers are personal.",
                f"- `{DELIVERY_FILES['parents']}`: father and mother: `migrant` (works away, 1/0), "
                "`call_frequency` of a migrant parent, `work_city`; names and phone numbers are "
                "personal.",
                f"- `{DELIVERY_FILES['mentors']}`: mentor assignment periods (结对): a mentor who "
                "left after the spring term hands the children over on 1 September; mentor "
                "names are personal."]
    return out


def _readme_delivery(plan, sim) -> list:
    d = sim.truth["delivery"]
    pot = d["potential"]
    lines = ["## Program delivery (known truth)", "",
             "The protocol (`protocol:` in study.yaml, 三个一): a home visit and a phone call "
             f"each month and a letter each term: {d['protocol_cells_per_child']} rule-periods "
             "per child (March-June and September-December; no visits are expected in the "
             "summer break), and a home visit within 3 days of a 五必访 trigger. At most "
             f"{DeliverySpec().max_children_per_mentor} children per mentor.", "",
             "How well it was delivered varies by school and by mentor (random effects); about "
             f"{d['non_compliance']['never_reached_share']:.0%} of the program's children were "
             "hardly reached (non-compliance); children who struggle at baseline have more "
             "五必访 triggers and so more visits; "
             + (f"{d['non_compliance']['control_contaminated_share']:.0%} of the control "
                "children got program contacts (contamination). "
                if d["non_compliance"].get("control_contaminated_share") is not None else "")
             + f"Some mentors left after the spring term ({d['mentors']['left_after_spring']}); "
             f"the largest load in the autumn is {d['mentors']['max_children_autumn']} children.",
             "", "| arm | children | mean share of the protocol met | received it (share >= "
             f"{DeliverySpec().received_share}) | any contact |", "|---|---|---|---|---|"]
    for a, v in d["by_arm"].items():
        lines.append(f"| {a} | {v['children']} | {v['share_met_mean']:.3f} | "
                     f"{v['received_share']:.3f} | {v['any_contact_share']:.3f} |")
    lines += ["", "**The effect grows with the dose**: a child's endline gets the outcome's "
              "full-protocol effect (delta) times the child's share of the protocol met, in "
              "every arm. So the outcome effects in the table above are intention-to-treat "
              "effects (delta times the difference in mean share between the arms, "
              f"{pot['first_stage_share']:.3f}), and:", ""]
    if plan.has_arm:
        lines += ["| outcome | delta (latent SD) | ITT (scale) | 2SLS estimand, dose = share "
                  "(scale) | 2SLS estimand, dose = received (scale) | complier effect "
                  "(scale) |", "|---|---|---|---|---|---|"]
        for oid, o in d["outcomes"].items():
            if oid not in {op.outcome for op in plan.outcome_plans}:
                continue
            lines.append(f"| {oid} | {o['delta_full_protocol_latent_sd']:+.3f} | "
                         f"{o['itt_scale']:+.4f} | {o['iv_estimand_share_scale']:+.4f} | "
                         f"{o['iv_estimand_received_scale']:+.4f} | "
                         f"{o['complier_effect_received_scale']:+.4f} |")
        lines += ["", "With the share as the dose, two-stage least squares (assignment as the "
                  "instrument) targets ITT / first stage = the effect of the full protocol. With "
                  "the binary 'received the protocol' it targets ITT / (difference in the share "
                  f"who received it, {pot['first_stage_received']:.3f}), which is larger than "
                  "the average effect among the compliers (children who receive the protocol "
                  "when, and only when, assigned to it): children below the threshold also got "
                  "part of the effect. truth.json (`delivery`) records how each was computed.",
                  ""]
    return lines


def write_simulated_study(folder, plan: SimulationPlan, *, force: bool = False):
    """Simulate ``plan`` and write a complete study folder.

    Parameters
    ----------
    folder : path
        Target folder. It must not exist or be empty unless ``force``; with
        ``force`` the generated files replace their old versions and other files
        are left alone.
    plan : SimulationPlan
    force : bool

    Returns
    -------
    analysis.simulate.SimulatedStudy
        The simulated data (with the raw personal data) and the truth.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from workbench.study_writer import plan_from_preset, write_simulated_study
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "s"
    >>> sim = write_simulated_study(d, plan_from_preset("single-school", truth_draws=20_000))
    >>> sorted(p.name for p in d.iterdir())
    ['README.md', 'data', 'study.yaml', 'truth.json']
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise WorkbenchError("SIMULATE_FOLDER_EXISTS",
                             "folder exists and is not empty; use --force to overwrite the "
                             "generated files", file=str(folder))
    if not plan.outcome_plans:
        raise WorkbenchError("SIMULATE_NO_INSTRUMENTS",
                             "the plan names no outcome: no instrument scale and no data column")
    specs, uses = _specs(plan)
    try:
        sim = simulate_study(
            specs, design=plan.design, schools=plan.schools, blocks=plan.blocks,
            classes_per_school=plan.classes_per_school,
            students_per_school=plan.students_per_school, grades=plan.grades,
            icc_school=plan.icc_school, icc_class=plan.icc_class, stability=plan.stability,
            attrition=plan.attrition_by_arm(), item_missing=plan.item_missing,
            incomplete=plan.incomplete, boys=plan.boys,
            trait_correlation=plan.trait_correlation, waves=plan.waves,
            arms=plan.arms if plan.design != "pre_post" else plan.arms[:1] or ("all",),
            arm_effects=plan.arm_effects, cluster_levels=plan.cluster_levels,
            id_style=plan.id_style, seed=plan.seed, truth_draws=plan.truth_draws,
            delivery=_delivery_spec(plan, specs),
            attrition_spec=_attrition_spec(plan, specs))
    except ValueError as err:
        raise WorkbenchError("SIMULATE_BAD_PARAMETERS", str(err)) from None
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".simulate-", dir=folder.parent))
    try:
        written = _write_files(tmp, plan, sim, uses)
        (tmp / "study.yaml").write_bytes(_study_yaml(plan, sim, uses, written).encode("utf-8"))
        (tmp / "truth.json").write_bytes(_truth_json(plan, sim, uses).encode("utf-8"))
        (tmp / "README.md").write_bytes(_readme(plan, sim, uses).encode("utf-8"))
        folder.mkdir(parents=True, exist_ok=True)
        for src in sorted(tmp.rglob("*")):
            if src.is_file():
                dst = folder / src.relative_to(tmp)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sim

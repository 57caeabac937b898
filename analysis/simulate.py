"""Synthetic studies with known truth.

:func:`simulate_study` draws a complete school study (schools in blocks, classes in
schools, students in classes; baseline and endline; one or more questionnaires
answered item by item) from a stated generative model, and returns the data
together with a ``truth`` record of every parameter and of the quantities an
analysis should recover. The examples, the training notebooks, ``workbench
simulate`` and the tests use it.

The generative model
--------------------
For each outcome (one latent trait per questionnaire) and student *i* in class *c*
of school *s*, at baseline::

    theta_b = sqrt(icc_school) * U_s + sqrt(icc_class) * U_c
              + covariate_effect * R_i + sqrt(1 - icc_school - icc_class - covariate_effect**2) * E_i

with ``U_s, U_c, E_i`` standard normal (correlated across outcomes by
``trait_correlation``) and ``R_i`` the standardized indicator "both parents away"
(a population-standardized 0/1 variable, so the latent trait has mean 0 and
variance 1 in the population). At endline every normal component ``X`` becomes
``stability * X + sqrt(1 - stability**2) * X'`` with a fresh draw ``X'`` (so the
ICCs and the variance stay the same), ``R_i`` stays, and::

    theta_e = (same sum) + trend + effect * treated_i

``effect`` is therefore the average treatment effect in latent SD units (the latent
SD is 1 in the control population) and ``trend`` the change that happens without
the program (maturation, retest effects). In a ``pre_post`` design everybody is
treated and the observed change estimates ``trend + effect``, not ``effect``.

Items follow a graded (ordinal probit) model: item *j* is answered as
``min + #{a : lambda_j * theta + sqrt(1 - lambda_j**2) * e_ij > tau_ja}`` (on its
keyed direction; reverse-keyed items are then written as ``min + max - answer``).
Loadings are ``lambda_0`` times fixed weights between 0.85 and 1.15; ``lambda_0`` is
solved so that the *expected* Cronbach's alpha of the scored items (computed
exactly from bivariate-normal orthant probabilities for a normal trait) equals the
target reliability. Filler items (``scored=False``) have loading 0.

Attrition is missing completely at random within arm (Bernoulli with the arm's
rate) unless ``attrition_spec`` (:class:`AttritionSpec`) makes it depend on the
baseline score (MAR) or on the child's unseen latent change (MNAR) of one outcome,
``logit P(leave) = alpha_arm + strength * w`` with each arm's rate kept; the truth then
records the mechanism, its coefficients, the response rates and (MNAR) the true delta
of :func:`analysis.imputation.delta_adjustment`. Item non-response (``item_missing``)
is missing completely at random.

The truth
---------
``truth["outcomes"][id]`` holds, besides the inputs, the population average
treatment effect on the endline *scale score* (mean or sum of the scored, keyed
items): there is no closed form for it under the ordinal model with a non-normal
covariate part, so it is computed by Monte Carlo from the same generative model
(``truth_draws`` students per arm, with common random numbers: each draw is a
student seen both treated and untreated) with its Monte Carlo standard error. The
same draws give the control SD of the endline score, the effect in observed-score
SD units, the expected alpha, the expected baseline-endline change, and the share
of students who would look "improved" (any increase; reliable change index > 1.96
with the expected alpha) in the treated group.

ICCs in the truth are those of the latent trait. The ICC of an observed scale score
is smaller, roughly the latent ICC times the reliability.

The parts
---------
This module composes the study, one function per step (structure, assignment,
covariates, latent traits, measurement, attrition, personal data, the truth record),
each drawing from its own random stream. The parts live in their own modules:
:mod:`analysis.simulate_items` (``OutcomeSpec`` and the item model),
:mod:`analysis.simulate_population` (the covariates), :mod:`analysis.fake_identity`
(fake names, phone numbers, addresses and ids) and :mod:`analysis.simulate_truth`
(the Monte Carlo truth). With ``delivery=DeliverySpec(...)``,
:mod:`analysis.simulate_delivery` adds the program's child archives and contact log,
and the effect grows with each child's share of the protocol met (its own random
stream: the rest of the study is drawn exactly as without it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.fake_identity import (
    ID_STYLES,
    PII_COLUMNS,
    fake_personal_data,
    school_places,
    student_ids,
)
from analysis.simulate_delivery import (
    DeliverySpec,
    SimulatedDelivery,
    delivery_effects,
    simulate_delivery,
)
from analysis.simulate_items import (
    OutcomeSpec,
    column_values,
    expected_alpha,
    item_answers,
    item_parameters,
    ordinal_thresholds,
)
from analysis.simulate_population import (
    GUARDIAN_PROBS,
    GUARDIAN_TYPES,
    P_BOTH_AWAY,
    P_MALE,
    draw_covariates,
)
from analysis.simulate_truth import outcome_truth
from core.design import Design

__all__ = [
    "ATTRITION_MECHANISMS",
    "AttritionSpec",
    "DESIGNS",
    "DeliverySpec",
    "ID_STYLES",
    "OutcomeSpec",
    "SimulatedStudy",
    "simulate_study",
    "expected_alpha",
    "ordinal_thresholds",
]

SIMULATOR_VERSION = 1

DESIGNS = ("cross_sectional", "pre_post", "controlled", "randomized", "cluster_randomized")

_STREAMS = ("structure", "assignment", "covariates", "latent", "items", "attrition",
            "pii", "truth", "missing", "incomplete")



@dataclass
class SimulatedStudy:
    """A simulated study.

    Attributes
    ----------
    data : DataFrame
        Long data, one row per student and wave present (students lost to
        attrition have no endline row). Columns: ``student_id``, ``wave``, ``arm``
        (not for ``pre_post``), ``county_id``, ``school_id``, ``class_id``,
        ``gender`` (``male``/``female``), ``age`` (years), ``guardian_type``
        (``grandparents``/``other_relative``/``one_parent``), ``both_parents_away``
        (1/0), the fake personal data ``name`` (3-character Chinese name),
        ``name_pinyin``, ``phone``, ``address``, ``guardian_name``, then every item
        of every outcome as nullable integer codes (``<NA>`` for item
        non-response), reverse-keyed items as answered (not reversed).
    latent : DataFrame
        ``student_id``, ``wave`` and one float column per outcome id: the latent
        trait at that wave (all students and both waves, attrition ignored).
    truth : dict
        JSON-ready record of the design, the seed, every parameter and the
        quantities an analysis should recover (see the module docstring).
    design : core.design.Design
        Columns and roles of the simulated design.
    items : dict
        ``{outcome id: tuple of item columns}``.
    pii : tuple of str
        The personal-data columns.
    delivery : analysis.simulate_delivery.SimulatedDelivery or None
        Archives, contact log and doses (with ``simulate_study(..., delivery=...)``).
    """

    data: pd.DataFrame
    latent: pd.DataFrame
    truth: dict
    design: Design
    items: dict = field(default_factory=dict)
    pii: tuple = PII_COLUMNS
    delivery: SimulatedDelivery | None = None

ATTRITION_MECHANISMS = ("mcar", "mar", "mnar")


@dataclass(frozen=True)
class AttritionSpec:
    """Who leaves before the last wave (``simulate_study(attrition_spec=...)``).

    Each arm keeps its attrition rate (``attrition``); the mechanism says who leaves.

    Attributes
    ----------
    mechanism : {"mcar", "mar", "mnar"}
        ``mcar``: at random within arm (the default, as without a spec). ``mar``:
        ``logit P(leave) = alpha_arm + strength * w`` with ``w`` the observed baseline
        score of outcome ``outcome``, standardized, in the harmful direction (children
        who start worse leave more; missing at random given arm and baseline). ``mnar``:
        the same with ``w`` the child's own standardized latent innovation from the first
        to the last wave (children who got worse than their baseline predicts leave;
        nothing observed at baseline shows it). ``alpha_arm`` is solved so that the arm's
        rate is kept.
    strength : float
        Log-odds of leaving per SD of ``w`` (0 is MCAR; 1 is strong).
    outcome : int
        Index of the outcome that drives it.

    Examples
    --------
    >>> from analysis.simulate import AttritionSpec, OutcomeSpec, simulate_study
    >>> spec = OutcomeSpec("y", items=[f"i{j}" for j in range(6)], reliability=0.8, effect=0.3)
    >>> sim = simulate_study([spec], schools=4, students_per_school=50, attrition=0.2, seed=1,
    ...                      truth_draws=2000, attrition_spec=AttritionSpec("mnar", 1.0))
    >>> rec = sim.truth["attrition"]
    >>> rec["mechanism"], rec["by_arm"]["treatment"]["attrition_target"]
    ('mnar', 0.2)
    >>> bool(rec["delta"]["y"]["by_arm"]["treatment"]["delta_latent_sd"] < 0)  # they got worse
    True
    """

    mechanism: str = "mcar"
    strength: float = 1.0
    outcome: int = 0

    def __post_init__(self):
        if self.mechanism not in ATTRITION_MECHANISMS:
            raise ValueError(f"attrition mechanism must be one of {ATTRITION_MECHANISMS}")
        if not np.isfinite(float(self.strength)):
            raise ValueError("attrition strength must be a finite number")


# ---------------------------------------------------------------------------
# the checked arguments
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """The arguments of :func:`simulate_study`, checked, with what follows from them."""

    outcomes: list
    all_items: list
    col_outcomes: list
    design: str
    schools: int
    blocks: int
    classes_per_school: object
    students_per_school: object
    grades: tuple
    icc_school: float
    icc_class: float
    stability: float
    item_missing: float
    incomplete: float
    boys: int | None
    trait_correlation: object
    waves: tuple
    arms: tuple
    has_arm: bool
    n_arms: int
    arm_mult: list
    att: dict
    group: str
    cluster_levels: int | None
    id_style: str
    id_prefix: str
    seed: int
    truth_draws: int

    @property
    def n_waves(self) -> int:
        return len(self.waves)

    @property
    def treat_arms(self) -> list:
        return list(self.arms[:-1]) if self.has_arm else []


def _check_outcomes(outcomes):
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("at least one outcome is needed")
    ids = [o.id for o in outcomes]
    if len(set(ids)) != len(ids):
        raise ValueError("outcome ids repeat")
    all_items = [i for o in outcomes for i in o.items]
    if len(set(all_items)) != len(all_items):
        raise ValueError("item names repeat across outcomes")
    col_outcomes = [o for o in outcomes if o.is_column]
    if len({o.column for o in col_outcomes}) != len(col_outcomes) or (
            {o.column for o in col_outcomes} & set(all_items)):
        raise ValueError("data-column names repeat")
    return outcomes, all_items, col_outcomes


def _check_waves_and_arms(design, waves, arms, arm_effects):
    waves = tuple(str(w) for w in waves)
    n_waves = len(waves)
    if not 1 <= n_waves <= 3 or len(set(waves)) != n_waves:
        raise ValueError("waves needs one to three different labels")
    if design == "pre_post" and n_waves < 2:
        raise ValueError("a pre_post design needs at least two waves")
    if design == "cross_sectional" and n_waves != 1:
        raise ValueError("a cross_sectional design has one wave")
    arms = tuple(str(a) for a in (arms or ()))
    has_arm = design != "pre_post" and len(arms) > 0
    if design in ("controlled", "randomized", "cluster_randomized") and len(arms) < 2:
        raise ValueError(f"a {design} design needs at least two arms (the control last)")
    if has_arm and (len(arms) < 2 or len(set(arms)) != len(arms)):
        raise ValueError("arms needs at least two different labels, the control last")
    n_arms = len(arms) if has_arm else 0
    if n_arms == 2 and design in ("randomized", "cluster_randomized") and len(arms) != 2:
        raise ValueError("arms needs two different labels")
    if arm_effects is None:
        arm_mult = [1.0] + [0.5] * max(n_arms - 2, 0)
    else:
        arm_mult = [float(v) for v in arm_effects]
        if len(arm_mult) != max(n_arms - 1, 1):
            raise ValueError("arm_effects needs one multiplier per treatment arm")
    return waves, arms, has_arm, n_arms, arm_mult


def _check_design(design, outcomes, *, schools, blocks, n_arms, icc_school, icc_class,
                  stability, item_missing, incomplete, id_style, cluster_levels, truth_draws):
    if id_style not in ID_STYLES:
        raise ValueError(f"id_style must be one of {ID_STYLES}")
    if cluster_levels not in (None, 0, 1, 2):
        raise ValueError("cluster_levels must be 0, 1 or 2")
    if cluster_levels == 0 and design == "cluster_randomized":
        raise ValueError("a cluster_randomized design needs at least one cluster level")
    if cluster_levels == 2 and schools < 2:
        raise ValueError("two cluster levels need at least two schools")
    if schools < 1 or blocks < 1 or blocks > schools:
        raise ValueError("need schools >= blocks >= 1")
    if design == "cluster_randomized" and schools < n_arms * blocks:
        raise ValueError("cluster randomization needs at least two schools per block"
                         if n_arms == 2 else
                         f"cluster randomization needs at least {n_arms} schools per block")
    if not (0 <= icc_school < 1 and 0 <= icc_class < 1):
        raise ValueError("ICCs must be in [0, 1)")
    for o in outcomes:
        if icc_school + icc_class + o.covariate_effect**2 >= 1:
            raise ValueError(f"outcome {o.id!r}: ICCs and covariate effect leave no student variance")
    if not 0 <= stability < 1:
        raise ValueError("stability must be in [0, 1)")
    if not 0 <= item_missing < 1:
        raise ValueError("item_missing must be in [0, 1)")
    if not 0 <= incomplete < 1:
        raise ValueError("incomplete must be in [0, 1)")
    if truth_draws < 1000:
        raise ValueError("truth_draws must be at least 1000")


def _attrition_rates(attrition, arms, has_arm, group, n_waves) -> dict:
    if isinstance(attrition, Mapping):
        if not has_arm:
            raise ValueError("attrition by arm needs a design with arms")
        unknown = set(attrition) - set(arms)
        if unknown:
            raise ValueError(f"attrition names unknown arms {sorted(unknown)}")
        att = {a: float(attrition.get(a, 0.0)) for a in arms}
    else:
        att = {a: float(attrition) for a in (arms if has_arm else (group,))}
    if any(not 0 <= v < 1 for v in att.values()):
        raise ValueError("attrition rates must be in [0, 1)")
    if n_waves == 1 and any(v > 0 for v in att.values()):
        raise ValueError("attrition needs a later wave; a one-wave study has none")
    return att


def _plan(outcomes, *, design, schools, blocks, classes_per_school, students_per_school,
          grades, icc_school, icc_class, stability, attrition, item_missing, incomplete, boys,
          trait_correlation, waves, arms, arm_effects, cluster_levels, id_style, id_prefix,
          seed, truth_draws) -> _Plan:
    """Check the arguments (in a fixed order, so the first problem is the one reported)."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}")
    outcomes, all_items, col_outcomes = _check_outcomes(outcomes)
    waves, arms, has_arm, n_arms, arm_mult = _check_waves_and_arms(design, waves, arms,
                                                                   arm_effects)
    _check_design(design, outcomes, schools=schools, blocks=blocks, n_arms=n_arms,
                  icc_school=icc_school, icc_class=icc_class, stability=stability,
                  item_missing=item_missing, incomplete=incomplete, id_style=id_style,
                  cluster_levels=cluster_levels, truth_draws=truth_draws)
    group = arms[0] if arms else "all"  # the label of a one-group study in the truth
    att = _attrition_rates(attrition, arms, has_arm, group, len(waves))
    return _Plan(
        outcomes=outcomes, all_items=all_items, col_outcomes=col_outcomes, design=design,
        schools=schools, blocks=blocks, classes_per_school=classes_per_school,
        students_per_school=students_per_school, grades=grades, icc_school=icc_school,
        icc_class=icc_class, stability=stability, item_missing=item_missing,
        incomplete=incomplete, boys=boys, trait_correlation=trait_correlation, waves=waves,
        arms=arms, has_arm=has_arm, n_arms=n_arms, arm_mult=arm_mult, att=att, group=group,
        cluster_levels=cluster_levels, id_style=id_style, id_prefix=id_prefix, seed=seed,
        truth_draws=truth_draws)


# ---------------------------------------------------------------------------
# structure: blocks -> schools -> classes -> students
# ---------------------------------------------------------------------------


def _int_or_range(value, rng, size, name):
    if isinstance(value, (int, np.integer)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1")
        return np.full(size, int(value))
    lo, hi = (int(v) for v in value)
    if lo < 1 or hi < lo:
        raise ValueError(f"{name} must be a positive int or a (low, high) pair")
    return rng.integers(lo, hi + 1, size=size)


def _split(n: int, k: int, rng) -> np.ndarray:
    """Split n students into k classes, each at least 1, the rest at random."""
    if n < k:
        raise ValueError(f"{n} students cannot fill {k} classes")
    return 1 + rng.multinomial(n - k, np.full(k, 1.0 / k))


@dataclass
class _Structure:
    block_of_school: np.ndarray
    school_of: np.ndarray  # per student
    class_of: np.ndarray  # per student
    grade_of: np.ndarray  # per student
    n_class_total: int
    township_of_school: list
    county_of_school: list
    student_id: np.ndarray
    school_id: np.ndarray
    class_id: np.ndarray
    county_id: np.ndarray

    @property
    def n(self) -> int:
        return int(self.school_of.size)


def _structure(p: _Plan, rs) -> _Structure:
    """Schools in blocks, classes in schools, students in classes, and their ids."""
    schools, blocks = p.schools, p.blocks
    block_of_school = np.repeat(np.arange(blocks), np.diff(np.linspace(0, schools, blocks + 1).round()
                                                            .astype(int)))
    n_classes = _int_or_range(p.classes_per_school, rs, schools, "classes_per_school")
    n_students = _int_or_range(p.students_per_school, rs, schools, "students_per_school")
    school_serial = np.zeros(schools, dtype=int)
    for b in range(blocks):
        idx = np.flatnonzero(block_of_school == b)
        school_serial[idx] = np.arange(1, idx.size + 1)
    school_code = [f"{b + 1:02d}{k:02d}" for b, k in zip(block_of_school, school_serial)]
    township_of_school, county_of_school = school_places(rs, block_of_school)

    school_of, class_of, grade_of, serial = [], [], [], []
    class_offset = 0
    glo, ghi = p.grades
    for s in range(schools):
        k = int(n_classes[s])
        sizes = _split(int(n_students[s]), k, rs)
        class_grade = glo + (np.arange(k) * (ghi - glo + 1)) // k
        for c in range(k):
            school_of += [s] * sizes[c]
            class_of += [class_offset + c] * sizes[c]
            grade_of += [class_grade[c]] * sizes[c]
        serial += list(range(1, int(sizes.sum()) + 1))
        class_offset += k
    school_of = np.asarray(school_of)
    class_of = np.asarray(class_of)
    n_class_total = class_offset
    class_school = np.zeros(n_class_total, dtype=int)
    class_school[class_of] = school_of
    class_number = np.zeros(n_class_total, dtype=int)
    for s in range(schools):
        idx = np.flatnonzero(class_school == s)
        class_number[idx] = np.arange(1, idx.size + 1)

    return _Structure(
        block_of_school=block_of_school, school_of=school_of, class_of=class_of,
        grade_of=np.asarray(grade_of), n_class_total=n_class_total,
        township_of_school=township_of_school, county_of_school=county_of_school,
        student_id=student_ids(p.id_style, p.id_prefix, school_code, school_of, serial,
                               block_of_school, school_serial, county_of_school),
        school_id=np.array([f"S{c}" for c in school_code])[school_of],
        class_id=np.array([f"S{school_code[s]}-C{class_number[c]:02d}" for c, s in
                           zip(range(n_class_total), class_school)])[class_of],
        county_id=np.array([f"C{b + 1:02d}" for b in range(blocks)])[block_of_school[school_of]],
    )


# ---------------------------------------------------------------------------
# assignment
# ---------------------------------------------------------------------------


def _deal(idx: np.ndarray, k: int, rng) -> np.ndarray:
    """Arm index (0..k-1) for each unit of ``idx`` (already in random order): equal shares,
    the remainder to arms drawn at random."""
    counts = np.full(k, idx.size // k)
    r = idx.size % k
    if r:
        counts[rng.choice(k, r, replace=False)] += 1
    return np.repeat(np.arange(k), counts)


@dataclass
class _Assignment:
    arm: np.ndarray | None  # arm label per student (None without arms)
    treated: np.ndarray  # bool per student
    mult: np.ndarray  # multiplier of the outcomes' effect per student
    assigned_by: str | None  # "schools", "students" or "classes"


def _arm_index(p: _Plan, st: _Structure, ra):
    """Arm index per student (the last arm is the control) and the unit assigned."""
    n_arms, schools = p.n_arms, p.schools
    arm_idx = np.zeros(st.n, dtype=int)
    if p.design == "cluster_randomized":
        t_school = np.zeros(schools, dtype=int)
        for b in range(p.blocks):
            idx = ra.permutation(np.flatnonzero(st.block_of_school == b))
            if n_arms == 2:
                m = idx.size // 2 + (int(ra.integers(0, 2)) if idx.size % 2 else 0)
                t_school[idx[m:]] = 1
            else:
                t_school[idx] = _deal(idx, n_arms, ra)
        return t_school[st.school_of], "schools"
    if p.design == "randomized":
        arm_idx = np.full(st.n, n_arms - 1, dtype=int)
        for s in range(schools):
            idx = ra.permutation(np.flatnonzero(st.school_of == s))
            if n_arms == 2:
                m = idx.size // 2 + (int(ra.integers(0, 2)) if idx.size % 2 else 0)
                arm_idx[idx[:m]] = 0
            else:
                arm_idx[idx] = _deal(idx, n_arms, ra)
        return arm_idx, "students"
    if p.has_arm:  # controlled, cross_sectional with groups: whole schools (or classes)
        if schools >= n_arms:
            idx = ra.permutation(schools)
            unit = np.zeros(schools, dtype=int)
            unit[idx] = _deal(idx, n_arms, ra)
            return unit[st.school_of], "schools"
        if st.n_class_total < n_arms:
            raise ValueError(f"{n_arms} arms need at least {n_arms} schools or classes")
        idx = ra.permutation(st.n_class_total)
        unit = np.zeros(st.n_class_total, dtype=int)
        unit[idx] = _deal(idx, n_arms, ra)
        return unit[st.class_of], "classes"
    return arm_idx, None


def _assign(p: _Plan, st: _Structure, ra) -> _Assignment:
    arm_idx, assigned_by = _arm_index(p, st, ra)
    if p.has_arm:
        treated = arm_idx < p.n_arms - 1
        arm = np.array(p.arms)[arm_idx]
        mult = np.where(treated, np.asarray(p.arm_mult + [0.0])[arm_idx], 0.0)
    else:
        treated = np.full(st.n, p.design == "pre_post")
        mult = treated.astype(float)
        arm = None
    return _Assignment(arm=arm, treated=treated, mult=mult, assigned_by=assigned_by)


# ---------------------------------------------------------------------------
# latent traits, items and data columns
# ---------------------------------------------------------------------------


def _sorted_cholesky(corr, k):
    if corr is None:
        return np.eye(k)
    c = np.asarray(corr, dtype=float)
    if c.shape != (k, k) or not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
        raise ValueError("trait_correlation must be a symmetric correlation matrix, one row per outcome")
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError("trait_correlation is not positive definite") from None


def _latent_traits(p: _Plan, st: _Structure, risk, asg: _Assignment, rl,
                   student_parts: list | None = None) -> list:
    """The latent traits (students x outcomes) at each wave; the students' own standard
    normal components of each wave are appended to ``student_parts`` when given (the
    attrition of :func:`_attrition_model` reads them; no extra draws)."""
    outcomes, n_waves, n = p.outcomes, p.n_waves, st.n
    k_out = len(outcomes)
    chol = _sorted_cholesky(p.trait_correlation, k_out)

    def comp(size):
        return rl.standard_normal((size, k_out)) @ chol.T

    rho, nu = p.stability, np.sqrt(1 - p.stability**2)
    parts = [(comp(p.schools), comp(st.n_class_total), comp(n))]
    for _ in range(1, n_waves):
        us, uc, e = parts[-1]
        parts.append((rho * us + nu * comp(p.schools), rho * uc + nu * comp(st.n_class_total),
                      rho * e + nu * comp(n)))
    cov_eff = np.array([o.covariate_effect for o in outcomes])
    resid_sd = np.sqrt(1 - p.icc_school - p.icc_class - cov_eff**2)
    trend_v = np.array([o.trend for o in outcomes])
    effect_v = np.array([o.effect for o in outcomes])
    bdiff_v = np.array([o.baseline_difference for o in outcomes])

    def theta(us, uc, e):
        return (np.sqrt(p.icc_school) * us[st.school_of] + np.sqrt(p.icc_class) * uc[st.class_of]
                + risk[:, None] * cov_eff[None, :] + e * resid_sd[None, :])

    if student_parts is not None:
        student_parts.extend(e for _, _, e in parts)
    thetas = []
    for w, (us, uc, e) in enumerate(parts):
        t = theta(us, uc, e)
        f = 1.0 if n_waves == 1 else w / (n_waves - 1)  # share of trend and effect reached
        if f > 0:
            t += f * trend_v[None, :]
            t += (f * asg.mult)[:, None] * effect_v[None, :]
        if bdiff_v.any():
            t += asg.treated[:, None] * bdiff_v[None, :]
        thetas.append(t)
    return thetas


def _measure(p: _Plan, thetas: list, streams: dict):
    """Item answers and data-column values per wave, with item non-response.

    Returns the item parameters per outcome (``(loadings, thresholds, expected alpha)``,
    ``None``s for a data column) and one ``{column: values}`` dict per wave.
    """
    ri, rm = streams["items"], streams["missing"]
    item_seed = int(np.random.SeedSequence(p.seed).generate_state(1)[0])
    params = []
    stores = [{} for _ in range(p.n_waves)]
    for k, o in enumerate(p.outcomes):
        if o.is_column:
            params.append((None, None, None))
            for w in range(p.n_waves):
                v = column_values(thetas[w][:, k], o, ri)
                if p.item_missing > 0:
                    v[rm.random(v.shape) < p.item_missing] = np.nan
                stores[w][o.column] = v
            continue
        rev = np.asarray(o.reverse)
        sc = np.asarray(o.scored)
        lam, tau, alpha_exp = item_parameters(o, item_seed, k)
        params.append((lam, tau, alpha_exp))
        for w in range(p.n_waves):
            ans = item_answers(thetas[w][:, k], lam, tau, int(o.response_min), rev, sc,
                               ri).astype(float)
            if p.item_missing > 0:
                ans[rm.random(ans.shape) < p.item_missing] = np.nan
            for j, name in enumerate(o.items):
                stores[w][name] = ans[:, j]
    if p.incomplete > 0:
        _stop_half_way(p, stores, thetas[0].shape[0], streams["incomplete"])
    return params, stores


def _stop_half_way(p: _Plan, stores: list, n: int, rq) -> None:
    """Respondents who stop half way through every questionnaire (in place)."""
    for w in range(p.n_waves):
        stop = rq.random(n) < p.incomplete
        for o in p.outcomes:
            if not o.is_column:
                for name in o.items[(o.n_items + 1) // 2:]:
                    stores[w][name] = np.where(stop, np.nan, stores[w][name])


# ---------------------------------------------------------------------------
# attrition and the data frames
# ---------------------------------------------------------------------------


def _attrition(p: _Plan, asg: _Assignment, n: int, rt, prob=None) -> np.ndarray:
    """The first wave each student misses (``n_waves`` for those followed up): monotone
    dropout, half of the lost already at the middle wave of three. ``prob``: each
    student's probability of leaving (:func:`_attrition_model`; default the arm's rate)."""
    u = rt.random(n)
    if prob is not None:
        rate = prob
    else:
        rate = (np.array([p.att[a] for a in asg.arm]) if p.has_arm
                else np.full(n, p.att[p.group]))
    lost = u < rate
    n_waves = p.n_waves
    return np.where(lost, np.where((u < rate / 2) & (n_waves == 3), 1, n_waves - 1), n_waves)


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _solve_intercept(rate: float, mean_prob) -> float:
    """The intercept ``a`` with ``mean_prob(a) == rate`` (increasing in ``a``)."""
    from scipy.optimize import brentq

    return float(brentq(lambda a: mean_prob(a) - rate, -60.0, 60.0, xtol=1e-13, rtol=1e-13))


_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(121)
_GH_W = _GH_W / _GH_W.sum()  # E[f(Z)], Z standard normal, = sum(_GH_W * f(_GH_X))


def _outcome_scores(o: OutcomeSpec, store: dict) -> np.ndarray:
    """Each student's score on ``o`` at one wave: the data column, or the mean of the
    answered scored items in the keyed direction (NaN when none was answered)."""
    if o.is_column:
        return np.asarray(store[o.column], dtype=float)
    cols = [j for j, sc in enumerate(o.scored) if sc]
    ans = np.column_stack([np.asarray(store[o.items[j]], dtype=float) for j in cols])
    rev = np.asarray([o.reverse[j] for j in cols])
    keyed = np.where(rev[None, :], int(o.response_min) + int(o.response_max) - ans, ans)
    answered = np.isfinite(keyed).sum(axis=1)
    total = np.where(np.isfinite(keyed), keyed, 0.0).sum(axis=1)
    return np.where(answered > 0, total / np.maximum(answered, 1), np.nan)


def _attrition_model(p: _Plan, spec: AttritionSpec, asg: _Assignment, stores: list,
                     student_parts: list):
    """Each student's probability of leaving under a MAR or MNAR mechanism, and its record.

    ``logit P(leave) = alpha_arm + strength * w``, ``w`` a standardized variable in the
    harmful direction of outcome ``spec.outcome``: MAR, the observed baseline score;
    MNAR, the student's own latent innovation from baseline to the last wave. The
    intercepts keep each arm's attrition rate (see :class:`AttritionSpec`).
    """
    k = spec.outcome
    o = p.outcomes[k]
    sign = 1.0 if o.better == "higher" else -1.0
    n = stores[0][next(iter(stores[0]))].shape[0]
    group = asg.arm if p.has_arm else np.full(n, p.group)
    s = float(spec.strength)
    prob = np.zeros(n)
    by_arm, alpha = {}, {}
    if spec.mechanism == "mar":
        base = _outcome_scores(o, stores[0])
        mu, sd = float(np.nanmean(base)), float(np.nanstd(base))
        w = np.nan_to_num(-sign * (base - mu) / (sd if sd > 0 else 1.0), nan=0.0)
        for a, rate in p.att.items():
            m = group == a
            if rate <= 0 or not m.any():
                alpha[a] = None
                continue
            wa = w[m]
            alpha[a] = _solve_intercept(rate, lambda x, wa=wa: float(_expit(x + s * wa).mean()))
            prob[m] = _expit(alpha[a] + s * wa)
        variable = (f"w = the observed baseline score of {o.id!r} (mean of the answered keyed "
                    "items, or the data column), standardized over all students (mean "
                    f"{mu:.6g}, SD {sd:.6g}), sign chosen so that higher w is worse; a student "
                    "without a baseline answer has w = 0")
    else:
        decay = p.stability ** (p.n_waves - 1)
        keep = np.sqrt(1.0 - decay**2)
        innov = (student_parts[-1][:, k] - decay * student_parts[0][:, k]) / keep
        w = -sign * innov
        for a, rate in p.att.items():
            m = group == a
            if rate <= 0:
                alpha[a] = None
                continue
            alpha[a] = _solve_intercept(rate, lambda x: float(_GH_W @ _expit(x + s * _GH_X)))
            prob[m] = _expit(alpha[a] + s * w[m])
        variable = (f"w = the student's own latent innovation of {o.id!r} from the first to the "
                    "last wave (e_last - stability**(waves-1) * e_first of the student "
                    "component, divided by its SD, standard normal and independent of "
                    "everything observed at baseline), sign chosen so that higher w is worse: "
                    "children who got worse than their baseline predicts leave more")
    for a, rate in p.att.items():
        m = group == a
        by_arm[a] = {"alpha": alpha[a], "attrition_target": rate,
                     "response_rate_expected": 1.0 - rate,
                     "attrition_expected_in_sample": float(prob[m].mean()) if m.any() else None}
    record = {
        "mechanism": spec.mechanism,
        "outcome": o.id,
        "model": "logit P(leave by the last wave) = alpha_arm + strength * w",
        "variable": variable,
        "strength": s,
        "intercepts": ("alpha_arm solved so that the mean probability of leaving in the arm's "
                       "students equals the arm's attrition rate" if spec.mechanism == "mar"
                       else "alpha_arm solved so that E[P(leave)] over w ~ N(0, 1) equals the "
                            "arm's attrition rate (population)"),
        "by_arm": by_arm,
    }
    return prob, record


def _attrition_delta(p: _Plan, spec: AttritionSpec, asg: _Assignment, stores: list,
                     gone_from: np.ndarray, record: dict, prob: np.ndarray) -> dict:
    """The departure from MAR that the delta adjustment would need (MNAR), in the record."""
    n = gone_from.size
    group = asg.arm if p.has_arm else np.full(n, p.group)
    stay = gone_from == p.n_waves
    for a in record["by_arm"]:
        m = group == a
        record["by_arm"][a]["response_rate_observed"] = (float(stay[m].mean()) if m.any()
                                                         else None)
    if spec.mechanism == "mar":
        record["delta"] = ("0 by construction: given the baseline score and the arm, the "
                           "children who left do not differ from those who stayed")
        return record
    k = spec.outcome
    sign = 1.0 if p.outcomes[k].better == "higher" else -1.0
    decay = p.stability ** (p.n_waves - 1)
    s = float(spec.strength)
    corr = (np.asarray(p.trait_correlation, dtype=float) if p.trait_correlation is not None
            else np.eye(len(p.outcomes)))
    deltas = {}
    for j, oj in enumerate(p.outcomes):
        resid_sd = float(np.sqrt(1 - p.icc_school - p.icc_class - oj.covariate_effect**2))
        y = _outcome_scores(oj, stores[-1])
        sd_obs = float(np.nanstd(y[stay], ddof=1))
        per_arm = {}
        for a, info in record["by_arm"].items():
            m = group == a
            if info["alpha"] is None:
                per_arm[a] = None
                continue
            q = _expit(info["alpha"] + s * _GH_X)
            d_w = float((_GH_W * q) @ _GH_X / (_GH_W @ q)
                        - (_GH_W * (1 - q)) @ _GH_X / (_GH_W @ (1 - q)))
            latent = resid_sd * np.sqrt(1 - decay**2) * float(corr[j, k]) * (-sign) * d_w
            left, kept = m & ~stay, m & stay
            sample = (float((np.nanmean(y[left]) - np.nanmean(y[kept])) / sd_obs)
                      if left.any() and kept.any() else None)
            ok = m & np.isfinite(y)
            pa, ya = prob[ok], y[ok]
            expected = float((pa @ ya / pa.sum() - (1 - pa) @ ya / (1 - pa).sum()) / sd_obs)
            per_arm[a] = {"delta_latent_sd": float(latent), "delta_sd_sample": sample,
                          "delta_sd_expected": expected, "w_mean_left_minus_stayed": d_w}
        deltas[oj.id] = {"sd_observed_last_wave": sd_obs, "by_arm": per_arm}
    record["delta"] = deltas
    record["delta_definition"] = (
        "delta as analysis.imputation.delta_adjustment defines it: how much higher (in the "
        "outcome's own direction, positive = higher score) the children who left score at the "
        "last wave than the MAR prediction from the baseline data, in SD of the observed last-"
        "wave outcome (responders, all arms). w is independent of every baseline variable, so "
        "the MAR prediction for a leaver equals the mean of the stayers with the same baseline "
        "data and the departure is the same for every child of an arm. delta_latent_sd: the "
        "population value on the latent trait (latent SD; exact, by Gauss-Hermite quadrature). "
        "delta_sd_sample: this sample's mean score of the leavers minus that of the stayers "
        "(their scores were simulated), over sd_observed_last_wave: the delta of the page's "
        "unit for the children who did leave (the one that recovers this sample's effect). "
        "delta_sd_expected: the same with every child of the arm weighted by its probability "
        "of leaving and of staying instead of who did, free of the chance of who left: the "
        "population delta in the page's unit as this sample estimates it (about "
        "delta_latent_sd x the score's correlation with the trait). With three waves the leavers' midline answers carry "
        "part of the departure.")
    return record


def _frames(p: _Plan, st: _Structure, asg: _Assignment, cov: dict, pii: dict, stores: list,
            gone_from: np.ndarray, thetas: list):
    """The long data (one row per student and wave present) and the latent traits."""
    n, waves = st.n, p.waves
    base = {"student_id": st.student_id}
    cols = {}
    if p.has_arm:
        cols["arm"] = asg.arm
    cols.update({"county_id": st.county_id, "school_id": st.school_id, "class_id": st.class_id,
                 "gender": np.where(cov["male"], "male", "female"), "age": cov["age"],
                 "guardian_type": cov["guardian_type"],
                 "both_parents_away": cov["both_parents_away"], **pii})
    value_cols = p.all_items + [o.column for o in p.col_outcomes]
    frames = []
    for w in range(p.n_waves):
        d = {**base, "wave": np.full(n, waves[w]), **cols}
        for name in value_cols:
            d[name] = stores[w][name]
        frames.append(pd.DataFrame(d).loc[gone_from > w])
    data = pd.concat(frames, ignore_index=True)
    for name in p.all_items:
        data[name] = data[name].astype("Int64")
    for o in p.col_outcomes:
        if int(o.decimals) == 0:
            data[o.column] = data[o.column].astype("Int64")
    data["age"] = data["age"].astype("int64")
    data["both_parents_away"] = data["both_parents_away"].astype("int64")

    latent = pd.concat([
        pd.DataFrame({"student_id": st.student_id, "wave": waves[w],
                      **{o.id: thetas[w][:, k] for k, o in enumerate(p.outcomes)}})
        for w in range(p.n_waves)], ignore_index=True)
    return data, latent


# ---------------------------------------------------------------------------
# the design and the truth record
# ---------------------------------------------------------------------------


def _design(p: _Plan) -> Design:
    """Columns and roles of the simulated design."""
    schools, design = p.schools, p.design
    # one school per group (a two-school comparison): the school IS the group, so it cannot
    # be a cluster of the comparison (one cluster per arm leaves no variance to estimate);
    # the classes are the clusters, and the school difference is confounded with the program
    school_is_arm = design in ("controlled", "cross_sectional") and p.has_arm and (
        schools == p.n_arms)
    if p.cluster_levels is None:
        clusters = (("class_id",) if design == "randomized" or schools == 1 or school_is_arm
                    else ("school_id", "class_id"))
    else:
        # students randomized within schools: the school is the block, the class the cluster
        one = (("school_id",) if schools > 1 and design != "randomized" and not school_is_arm
               else ("class_id",))
        clusters = {0: (), 1: one, 2: ("school_id", "class_id")}[p.cluster_levels]
    return Design(
        type=design, id="student_id", wave="wave", waves=tuple(p.waves),
        arm="arm" if p.has_arm else None, control=p.arms[-1] if p.has_arm else None,
        clusters=clusters,
        blocks=("county_id" if design == "cluster_randomized" and p.blocks > 1
                else "school_id" if design == "randomized" and schools > 1
                and "school_id" not in clusters else None),
        covariates=("gender", "age", "guardian_type", "both_parents_away"),
        subgroups=("gender", "guardian_type", "both_parents_away"),
    )


def _truth_outcomes(p: _Plan, params: list, rtr, arm_effects=None) -> dict:
    # the data's multipliers (analysis.simulate._assign); a design without arms has none
    if arm_effects is None:
        arm_effects = dict(zip(p.treat_arms, p.arm_mult)) if p.has_arm else None
    stability = p.stability ** max(p.n_waves - 1, 1)
    return {o.id: outcome_truth(o, *params[k], stability, rtr, p.truth_draws,
                                arm_effects=arm_effects)
            for k, o in enumerate(p.outcomes)}


def _numbers_by_arm(p: _Plan, st: _Structure, asg: _Assignment, followed) -> dict:
    n_arm = {}
    if p.has_arm:
        for a in p.arms:
            m = asg.arm == a
            n_arm[a] = {"students": int(m.sum()),
                        "schools": int(np.unique(st.school_of[m]).size),
                        "followed_up": int((m & followed).sum()),
                        "attrition_target": p.att[a],
                        "attrition_observed": float(1 - (m & followed).sum() / max(m.sum(), 1))}
    else:
        n = st.n
        n_arm[p.group] = {"students": n, "schools": p.schools,
                          "followed_up": int(followed.sum()),
                          "attrition_target": p.att[p.group],
                          "attrition_observed": float(1 - followed.sum() / n)}
    return n_arm


def _randomization(p: _Plan, assigned_by) -> str:
    ratio = ":".join(["1"] * p.n_arms) if p.n_arms else ""
    return {
        "pre_post": "none (everybody gets the program)",
        "randomized": f"students {ratio} within schools",
        "cluster_randomized": f"schools {ratio} within blocks",
        "controlled": f"none: {assigned_by} chosen for the program, not randomized",
        "cross_sectional": (f"none: {assigned_by} compared as found, one wave" if p.has_arm
                            else "none (one survey, no comparison group)"),
    }[p.design]


def _truth(p: _Plan, st: _Structure, asg: _Assignment, followed, truth_out: dict) -> dict:
    """The JSON-ready record of the design, the seed, the parameters and the outcomes."""
    truth = {
        "generator": "analysis.simulate.simulate_study",
        "generator_version": SIMULATOR_VERSION,
        "seed": int(p.seed),
        "design": {
            "type": p.design,
            "waves": list(p.waves),
            "arms": list(p.arms) if p.has_arm else None,
            "control": p.arms[-1] if p.has_arm else None,
            "randomization": _randomization(p, asg.assigned_by),
            "blocks": int(p.blocks),
            "schools": int(p.schools),
            "classes": int(st.n_class_total),
            "students": int(st.n),
            "by_arm": _numbers_by_arm(p, st, asg, followed),
        },
        "parameters": {
            "icc_school": float(p.icc_school),
            "icc_class": float(p.icc_class),
            "stability": float(p.stability),
            "attrition": p.att,
            "attrition_mechanism": "missing completely at random within arm",
            "item_missing": float(p.item_missing),
            "trait_correlation": (np.asarray(p.trait_correlation, dtype=float).tolist()
                                  if p.trait_correlation is not None else None),
            "truth_draws_per_arm": int(p.truth_draws),
            "covariates": {"p_male": P_MALE if p.boys is None else None, "boys": p.boys,
                           "guardian_types": dict(zip(GUARDIAN_TYPES, GUARDIAN_PROBS)),
                           "p_both_parents_away_if_not_with_a_parent": P_BOTH_AWAY},
        },
        "outcomes": truth_out,
    }
    extra_p = {}
    if p.incomplete:
        extra_p["incomplete_share"] = float(p.incomplete)
    if p.n_arms > 2 or (p.has_arm and p.arm_mult != [1.0]):
        extra_p["arm_effects"] = dict(zip(p.treat_arms, p.arm_mult))
    if p.cluster_levels is not None:
        extra_p["cluster_levels"] = int(p.cluster_levels)
    if p.id_style != "code":
        extra_p["id_style"] = p.id_style
    truth["parameters"].update(extra_p)
    return truth


# ---------------------------------------------------------------------------
# the simulation
# ---------------------------------------------------------------------------


def simulate_study(
    outcomes: Sequence[OutcomeSpec],
    *,
    design: str = "cluster_randomized",
    schools: int = 20,
    blocks: int = 1,
    classes_per_school: int | tuple[int, int] = (2, 4),
    students_per_school: int | tuple[int, int] = 40,
    grades: tuple[int, int] = (4, 6),
    icc_school: float = 0.05,
    icc_class: float = 0.05,
    stability: float = 0.6,
    attrition: float | Mapping[str, float] = 0.0,
    item_missing: float = 0.0,
    incomplete: float = 0.0,
    boys: int | None = None,
    trait_correlation=None,
    waves: Sequence[str] = ("baseline", "endline"),
    arms: Sequence[str] = ("treatment", "control"),
    arm_effects: Sequence[float] | None = None,
    cluster_levels: int | None = None,
    id_style: str = "code",
    id_prefix: str = "LB",
    seed: int = 20240609,
    truth_draws: int = 200_000,
    delivery: DeliverySpec | None = None,
    attrition_spec: AttritionSpec | None = None,
) -> SimulatedStudy:
    """Simulate a school study with known truth.

    Parameters
    ----------
    outcomes : sequence of OutcomeSpec
        One per questionnaire or data column (latent trait).
    design : {"cross_sectional", "pre_post", "controlled", "randomized", "cluster_randomized"}
        ``cross_sectional``: one wave; with ``arms``, groups of schools compared as
        found (schools dealt to the arms at random; give ``baseline_difference`` in
        the outcomes for a non-comparable comparison), without ``arms`` a one-off
        survey with no program. ``pre_post``: one group, everybody gets the
        program, no arm column. ``controlled``: groups of schools (of classes when
        there are fewer schools than arms) chosen by the program, not randomized;
        the outcomes' ``baseline_difference`` makes the groups differ before the
        program. ``randomized``: students randomized 1:1 (1:1:1) within each school
        (schools are the blocks). ``cluster_randomized``: schools randomized within
        each block (county); an uneven block gives its extra schools to arms drawn
        at random.
    schools : int
        Number of schools.
    blocks : int
        Number of counties (randomization blocks for cluster randomization);
        schools are split into blocks as evenly as possible.
    classes_per_school, students_per_school : int or (low, high)
        Fixed, or drawn uniformly per school from ``low..high``. Students are
        spread over the classes (at least one per class).
    grades : (int, int)
        Grades spanned by the classes of a school (age = grade + 5 or 6).
    icc_school, icc_class : float
        Shares of the latent variance between schools and between classes
        within schools.
    stability : float
        Correlation of the latent components from one wave to the next, in [0, 1).
    attrition : float or mapping
        Share of students without an endline row; a mapping gives it per arm
        (``{"treatment": 0.07, "control": 0.13}``). Missing completely at random.
        With three waves half of the lost students are already missing at the
        middle wave (monotone dropout).
    item_missing : float
        Share of item answers (and data-column values) left blank, completely at random.
    incomplete : float
        Share of respondents per wave who answer only the first half of every
        questionnaire (more blanks than ``min_items`` usually allows), at random.
    boys : int, optional
        Exact number of boys (otherwise each student is a boy with p = 0.52).
    trait_correlation : array, optional
        Correlation of the latent traits of the outcomes (default independent).
    waves : sequence of str
        Wave labels in time order, 1 to 3 (first = baseline, last = endline). The
        trend and the effect grow linearly over the waves and are complete at the
        endline; a single wave is a post-program survey.
    arms : sequence of str
        Arm labels, the control LAST: ``("treatment", "control")`` or three arms.
        Ignored by ``pre_post``; empty for a cross-sectional survey without groups.
    arm_effects : sequence of float, optional
        Multiplier of each outcome's ``effect`` per treatment arm (default 1 for the
        first arm, 0.5 for any other).
    cluster_levels : {None, 0, 1, 2}
        Cluster columns the design declares: 0 none, 1 ``school_id`` (``class_id``
        in a one-school study, for ``randomized``, whose schools are the blocks,
        and when each group of a non-randomized comparison is one school, whose
        school is then the group), 2 ``school_id`` and ``class_id`` (then a
        ``randomized`` design declares no blocks: a column has one role).
        ``None``: the design's default (``class_id`` for ``randomized``, one-school
        studies and one school per group, else both).
    id_style : {"code", "num5", "num8", "padded", "chinese"}
        Student ids: ``LB-0103-0027`` (prefix, county and school number, serial),
        5-digit numbers (``11027``), 8-digit numbers (``20020027``), zero-padded
        serials (``007``) or Chinese (``青山三小027``). Never reused.
    id_prefix : str
        Prefix of ``code`` ids.
    seed : int
        Seed of a ``numpy.random.Generator``; the result is a deterministic
        function of the arguments.
    truth_draws : int
        Monte Carlo draws per arm for the truth in scale units.
    delivery : DeliverySpec, optional
        Also simulate the program's delivery (:mod:`analysis.simulate_delivery`):
        archives and a contact log, and an effect that grows with the dose: each
        child's endline gets ``effect * share of protocol met`` instead of
        ``effect``, so the outcomes' ``effect_*`` in the truth are intention-to-treat
        effects and ``truth["delivery"]`` holds the dose truth (first stage, the
        2SLS estimands, the complier effect). Drawn from a stream of its own: the
        study without delivery is unchanged.
    attrition_spec : AttritionSpec, optional
        Who leaves: ``mcar`` (default), or ``mar`` / ``mnar`` (the arm's rate kept, the
        probability of leaving rising with the baseline score or with the unseen change
        of one outcome); ``truth["attrition"]`` then records the mechanism, its
        coefficients, the response rates by arm and (MNAR) the true delta of
        :func:`analysis.imputation.delta_adjustment`. The same uniform draws as MCAR:
        without a spec, or with ``mcar``, the study is unchanged.

    Returns
    -------
    SimulatedStudy

    Examples
    --------
    >>> from analysis.simulate import OutcomeSpec, simulate_study
    >>> spec = OutcomeSpec("communication", items=[f"pcc_{i}" for i in range(1, 9)],
    ...                    reliability=0.8, effect=0.3)
    >>> sim = simulate_study([spec], schools=4, blocks=2, students_per_school=20,
    ...                      seed=1, truth_draws=20_000)
    >>> sim.data.groupby("wave").size().to_dict()
    {'baseline': 80, 'endline': 80}
    >>> sim.truth["outcomes"]["communication"]["effect_latent_sd"]
    0.3
    >>> sim.design.clusters
    ('school_id', 'class_id')
    """
    p = _plan(outcomes, design=design, schools=schools, blocks=blocks,
              classes_per_school=classes_per_school, students_per_school=students_per_school,
              grades=grades, icc_school=icc_school, icc_class=icc_class, stability=stability,
              attrition=attrition, item_missing=item_missing, incomplete=incomplete, boys=boys,
              trait_correlation=trait_correlation, waves=waves, arms=arms,
              arm_effects=arm_effects, cluster_levels=cluster_levels, id_style=id_style,
              id_prefix=id_prefix, seed=seed, truth_draws=truth_draws)
    streams = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                                  np.random.SeedSequence(seed).spawn(len(_STREAMS)))))
    st = _structure(p, streams["structure"])
    asg = _assign(p, st, streams["assignment"])
    cov = draw_covariates(streams["covariates"], st.grade_of, p.boys)
    parts: list = []
    thetas = _latent_traits(p, st, cov["risk"], asg, streams["latent"], parts)
    pii = None
    sdel, arm_effects = None, None
    if delivery is not None:
        pii = fake_personal_data(streams["pii"], st.school_of, st.township_of_school,
                                 st.county_of_school, cov["guardian_type"])
        sdel, arm_effects = _deliver(p, st, asg, cov, pii, thetas, delivery)
    params, stores = _measure(p, thetas, streams)
    spec = attrition_spec if attrition_spec is not None else AttritionSpec()
    record = None
    if spec.mechanism != "mcar":
        if p.n_waves < 2:
            raise ValueError("an attrition mechanism needs a later wave; a one-wave study has none")
        if not 0 <= spec.outcome < len(p.outcomes):
            raise ValueError("attrition_spec.outcome is not an outcome index")
        prob, record = _attrition_model(p, spec, asg, stores, parts)
        gone_from = _attrition(p, asg, st.n, streams["attrition"], prob)
        record = _attrition_delta(p, spec, asg, stores, gone_from, record, prob)
    else:
        gone_from = _attrition(p, asg, st.n, streams["attrition"])
    if pii is None:
        pii = fake_personal_data(streams["pii"], st.school_of, st.township_of_school,
                                 st.county_of_school, cov["guardian_type"])
    data, latent = _frames(p, st, asg, cov, pii, stores, gone_from, thetas)
    truth_out = _truth_outcomes(p, params, streams["truth"], arm_effects)
    followed = gone_from == p.n_waves  # not lost to attrition
    truth = _truth(p, st, asg, followed, truth_out)
    if record is not None:
        truth["parameters"]["attrition_mechanism"] = {
            "mar": "missing at random: depends on arm and the observed baseline score",
            "mnar": "missing not at random: depends on arm and the unobserved change"}[
                spec.mechanism]
        truth["attrition"] = record
    if sdel is not None:
        truth["delivery"] = _delivery_truth(p, sdel, truth_out)
    return SimulatedStudy(data=data, latent=latent, truth=truth, design=_design(p),
                          items={o.id: tuple(o.items) for o in p.outcomes if not o.is_column},
                          pii=PII_COLUMNS, delivery=sdel)


def _deliver(p: _Plan, st: _Structure, asg: _Assignment, cov: dict, pii: dict, thetas: list,
             spec: DeliverySpec):
    """Simulate the delivery, and make the effect grow with the dose (``thetas`` and
    ``asg.mult`` in place). Returns the delivery and the truth's arm multipliers."""
    if not (p.has_arm or p.design == "pre_post"):
        raise ValueError("a delivery needs a program: arms, or a pre_post design")
    if not 0 <= spec.primary < len(p.outcomes):
        raise ValueError("delivery.primary is not an outcome index")
    o = p.outcomes[spec.primary]
    sign = 1.0 if o.better == "higher" else -1.0
    # the share of trend and effect reached at each wave (_latent_traits); a one-wave study's
    # only wave is after the program, so the child's state before it is that wave without them
    reached = [1.0] if p.n_waves == 1 else [w / (p.n_waves - 1) for w in range(p.n_waves)]
    before = thetas[0][:, spec.primary] - reached[0] * (o.trend + asg.mult * o.effect)
    struggle = -sign * before
    program = asg.treated
    delta_mult = np.where(program, asg.mult, p.arm_mult[0])
    columns = {}
    if p.has_arm:
        columns["arm"] = asg.arm
    columns.update({"county_id": st.county_id, "school_id": st.school_id,
                    "class_id": st.class_id, "gender": np.where(cov["male"], "male", "female"),
                    "age": cov["age"].astype("int64"), "guardian_type": cov["guardian_type"],
                    "both_parents_away": cov["both_parents_away"].astype("int64"),
                    "name": pii["name"]})
    sdel = simulate_delivery(spec, ids=st.student_id, arm=asg.arm if p.has_arm else None,
                             program=program, school=st.school_id, struggle=struggle,
                             guardian_type=cov["guardian_type"],
                             both_parents_away=cov["both_parents_away"], columns=columns,
                             guardian_name=pii["guardian_name"], delta_mult=delta_mult,
                             seed=p.seed)
    new_mult = delta_mult * sdel.dose["share_met"].to_numpy()
    effect_v = np.array([oc.effect for oc in p.outcomes])
    for w, f in enumerate(reached):
        if f > 0:
            thetas[w] += (f * (new_mult - asg.mult))[:, None] * effect_v[None, :]
    asg.mult = new_mult
    pot = sdel.truth["potential"]
    s1, s0 = pot["mean_share_if_program"], pot["mean_share_if_control"]
    if p.has_arm:
        arm_effects = {a: m * s1 - p.arm_mult[0] * s0 for a, m in zip(p.treat_arms, p.arm_mult)}
    else:
        arm_effects = {p.group: s1}
    return sdel, arm_effects


def _delivery_truth(p: _Plan, sdel: SimulatedDelivery, truth_out: dict) -> dict:
    t = dict(sdel.truth)
    first = p.arm_mult[0] if p.has_arm else 1.0
    t["outcomes"] = {o.id: delivery_effects(o.effect * first, sdel.truth,
                                            truth_out[o.id]["effect_scale"])
                     for o in p.outcomes}
    if not p.has_arm:
        t["note_one_group"] = ("everybody is in the program: no instrument, no complier "
                               "effect; the change includes delta * mean share")
    return t

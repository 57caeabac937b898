"""The study zoo: study shapes for end-to-end runs, from a covering design.

Every shape is a set of ``workbench simulate`` options (:func:`case_args`), so a
zoo study is re-created by its own command line. Dimensions (:data:`DIMENSIONS`):

=============  ===========================================================================
design         cross_sectional, pre_post, controlled, randomized, cluster_randomized
outcomes       scales (instrument total scores), columns (numeric data columns such as
               ``math_score``, ``absent_days``), both
instruments    0, 1 or 3 questionnaires answered
id_style       num5 (``11027``), num8 (``20020027``), padded (``007``), chinese (``青山三小027``)
direction      higher_up, higher_down, lower_up, lower_down: the primary outcome's better
               direction and the sign of the true change on its own scale (``lower_down``:
               e.g. loneliness or absence days fall, the program helps)
waves          1, 2, 3
arms           0, 2, 3 (blocks: counties for cluster randomization, schools for student
               randomization)
clusters       0, 1, 2 cluster levels declared (none; school; school and class)
attrition      none, balanced, differential (control loses 3 times as many)
missing        below (2% of answers blank at random: scores exist), above (8% of
               respondents also stop half way: more blanks than ``min_items`` allows)
language       zh, en
delivery       none; log (a contact log and the protocol); roster (also the child archives:
               roster, guardians, parents, mentors, and the wave files leave the covariates to
               the roster)
=============  ===========================================================================

Impossible combinations (:func:`valid`): a cross_sectional study has one wave
(and so no attrition); pre_post has no arms and at least two waves; controlled,
randomized and cluster_randomized have 2 or 3 arms; one wave has no attrition;
differential attrition needs arms; cluster randomization needs a cluster level;
without instruments the outcomes are data columns and no item can be missing
beyond ``min_items``; scale outcomes need an instrument; a delivery needs a program
(arms, or pre_post).

:func:`zoo_cases` ``("pairwise")`` is a deterministic greedy all-pairs covering
design: every pair of values of two dimensions that some valid study has is in at
least one case. ``("full")`` is every valid combination of the shape dimensions
(design, waves, arms, clusters, outcomes, instruments) with the other dimensions
rotated through their values; :func:`all_valid` is the whole product (hundreds
of thousands of studies: for counting, not for running).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping

import numpy as np

DIMENSIONS: dict[str, tuple] = {
    "design": ("cross_sectional", "pre_post", "controlled", "randomized", "cluster_randomized"),
    "outcomes": ("scales", "columns", "both"),
    "instruments": (0, 1, 3),
    "id_style": ("num5", "num8", "padded", "chinese"),
    "direction": ("higher_up", "higher_down", "lower_up", "lower_down"),
    "waves": (1, 2, 3),
    "arms": (0, 2, 3),
    "clusters": (0, 1, 2),
    "attrition": ("none", "balanced", "differential"),
    "missing": ("below", "above"),
    "language": ("zh", "en"),
    "delivery": ("none", "log", "roster"),
}
NAMES = tuple(DIMENSIONS)
SHAPE = ("design", "waves", "arms", "clusters", "outcomes", "instruments")
EFFECT = 0.35  # true effect on the primary outcome, latent SD


def valid(case: Mapping) -> bool:
    """Whether a (possibly partial) case can be a study; missing keys are unconstrained."""
    g = case.get
    d, w, arms, att = g("design"), g("waves"), g("arms"), g("attrition")
    inst, outc = g("instruments"), g("outcomes")
    if d == "cross_sectional" and ((w is not None and w != 1) or att not in (None, "none")):
        return False  # one wave, so nobody can be lost
    if d == "pre_post" and ((w is not None and w < 2) or arms not in (None, 0)
                            or att == "differential"):
        return False  # one group, at least two waves
    if d in ("controlled", "randomized", "cluster_randomized") and arms == 0:
        return False
    if w == 1 and att not in (None, "none"):
        return False
    if d == "cluster_randomized" and g("clusters") == 0:
        return False
    if att == "differential" and arms == 0:
        return False
    if inst == 0 and (outc not in (None, "columns") or g("missing") == "above"):
        return False  # no questionnaire: column outcomes only, no min_items to fall below
    if g("delivery") not in (None, "none") and arms == 0 and d != "pre_post":
        return False  # nobody to deliver a program to (a survey without groups)
    return True


def _pair_index():
    """Index of every (dim a, value i, dim b, value j) pair, a < b."""
    idx, k = {}, 0
    for a, b in itertools.combinations(range(len(NAMES)), 2):
        for i in range(len(DIMENSIONS[NAMES[a]])):
            for j in range(len(DIMENSIONS[NAMES[b]])):
                idx[(a, i, b, j)] = k
                k += 1
    return idx


def all_valid(names=NAMES) -> list[dict]:
    """Every valid combination of the values of ``names`` (the others unset)."""
    out = [{}]
    for n in names:  # extend valid partial cases one dimension at a time (same order as product)
        out = [c2 for c in out for v in DIMENSIONS[n] if valid(c2 := {**c, n: v})]
    return out


@functools.lru_cache(maxsize=1)
def _pairwise_cover() -> tuple:
    return tuple(tuple(c.items()) for c in pairwise_cover())


def pairwise_cover() -> list[dict]:
    """A deterministic greedy covering array of strength 2 over :data:`DIMENSIONS`.

    Candidates are all valid full combinations; each step takes the candidate that
    covers the most pairs not yet covered (ties: the first in product order), until
    every pair that occurs in some valid combination is covered.
    """
    pidx = _pair_index()
    pos = {n: {v: i for i, v in enumerate(DIMENSIONS[n])} for n in NAMES}
    cands = all_valid()
    combos = list(itertools.combinations(range(len(NAMES)), 2))
    vi = np.array([[pos[n][c[n]] for n in NAMES] for c in cands], dtype=np.int32)
    pairs = np.empty((len(cands), len(combos)), dtype=np.int32)
    for m, (a, b) in enumerate(combos):  # pair id = first id of (a, b) + i * len(b) + j
        pairs[:, m] = pidx[(a, 0, b, 0)] + vi[:, a] * len(DIMENSIONS[NAMES[b]]) + vi[:, b]
    need = np.zeros(len(pidx), dtype=bool)
    need[np.unique(pairs)] = True  # pairs some valid study has
    chosen = []
    while need.any():
        gain = need[pairs].sum(axis=1)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        chosen.append(cands[best])
        need[pairs[best]] = False
    return chosen


def full_cover() -> list[dict]:
    """Every valid shape (:data:`SHAPE`), the other dimensions rotated through their values."""
    rest = [n for n in NAMES if n not in SHAPE]
    out = []
    for k, shape in enumerate(all_valid(SHAPE)):
        case, step = dict(shape), k  # counting through the other dimensions (mixed radix)
        for n in rest:  # their constraints involve only the shape: keep the values it allows
            vals = [v for v in DIMENSIONS[n] if valid({**shape, n: v})]
            case[n] = vals[step % len(vals)]
            step //= len(DIMENSIONS[n])
        assert valid(case), case
        out.append({n: case[n] for n in NAMES})
    return out


def case_id(case: Mapping) -> str:
    """A short readable name, e.g. ``cluster_randomized-w2-a3-c1-scales-i3-num5-lower_down-...``."""
    return "-".join([case["design"], f"w{case['waves']}", f"a{case['arms']}", f"c{case['clusters']}",
                     case["outcomes"], f"i{case['instruments']}", case["id_style"],
                     case["direction"], f"att_{case['attrition']}", f"miss_{case['missing']}",
                     case["language"]]
                    + ([f"del_{case['delivery']}"] if case.get("delivery", "none") != "none"
                       else []))


def zoo_cases(kind: str = "pairwise") -> list[dict]:
    """The zoo: ``"pairwise"`` (CI) or ``"full"`` (every shape; ``make zoo``).

    Each case is a dict of :data:`DIMENSIONS` values plus ``id`` and ``seed``.

    Examples
    --------
    >>> from zoo import zoo_cases, valid
    >>> cases = zoo_cases("pairwise")
    >>> all(valid(c) for c in cases) and 20 < len(cases) < 60
    True
    """
    if kind == "pairwise":
        cases = [dict(c) for c in _pairwise_cover()]
    elif kind == "full":
        cases = full_cover()
    else:
        raise ValueError("kind must be 'pairwise' or 'full'")
    return [{**c, "id": f"{k:03d}-{case_id(c)}", "seed": 1000 + k} for k, c in enumerate(cases)]


# ---------------------------------------------------------------------------- case -> options

def _outcome_sources(case):
    higher = case["direction"].startswith("higher")
    n_inst = case["instruments"]
    insts = {0: [], 1: ["pcc"] if higher else ["cls"],
             3: ["pcc", "cls", "rses"] if higher else ["phq9", "pcc", "rses"]}[n_inst]
    if case["outcomes"] == "scales":
        cols = []
    elif case["outcomes"] == "columns":
        cols = ["math_score", "attendance_days"] if higher else ["absent_days", "math_score"]
    else:
        cols = ["reading_score"]
    return insts, cols


def _sizes(case):
    d, arms, levels = case["design"], case["arms"], case["clusters"]
    if d == "cluster_randomized":
        return (8 if arms == 2 else 9), 18, 2
    if d == "controlled":
        return 6, 20, 2
    if d == "randomized":
        return 3, 36, 2
    if d == "pre_post":
        return (3 if levels else 2), 30, 2
    return (6 if arms == 3 else 4), 25, 2  # cross_sectional


def case_args(case: Mapping) -> list[str]:
    """``workbench simulate`` options of a zoo case (small: a run takes ~10-20 s).

    Examples
    --------
    >>> from zoo import case_args
    >>> case = dict(design="pre_post", outcomes="scales", instruments=1, id_style="padded",
    ...             direction="lower_down", waves=2, arms=0, clusters=1, attrition="none",
    ...             missing="below", language="en", seed=5)
    >>> " ".join(case_args(case))[:60]
    '--design pre_post --waves 2 --clusters 3 --per-cluster 30 --'
    """
    if not valid(case):
        raise ValueError(f"not a valid zoo case: {case}")
    insts, cols = _outcome_sources(case)
    schools, per, classes = _sizes(case)
    higher = case["direction"].startswith("higher")
    up = case["direction"].endswith("_up")
    effect = EFFECT if higher == up else -EFFECT  # beneficial direction
    icc = {0: (0.0, 0.0), 1: (0.08, 0.0), 2: (0.06, 0.05)}[case["clusters"]]
    att = {"none": (0.0, 1.0), "balanced": (0.15, 1.0), "differential": (0.15, 3.0)}[
        case["attrition"]]
    args = ["--design", case["design"], "--waves", str(case["waves"])]
    if case["design"] != "pre_post":
        args += ["--arms", str(case["arms"])]
    args += ["--clusters", str(schools), "--per-cluster", str(per), "--classes", str(classes),
             "--cluster-levels", str(case["clusters"]),
             "--icc", str(icc[0]), "--icc-class", str(icc[1]),
             "--instruments", *(insts or ["none"]), "--columns", *(cols or ["none"])]
    if case["outcomes"] == "columns" and insts:
        args += ["--outcomes", "columns"]
    args += ["--effect", str(effect), "--trend", "0",
             "--attrition", str(att[0]), "--attrition-ratio", str(att[1]),
             "--item-missing", "0.02",
             "--incomplete", "0.08" if case["missing"] == "above" else "0",
             "--id-style", case["id_style"], "--language", case["language"],
             "--seed", str(case.get("seed", 1)), "--truth-draws", "20000"]
    if case.get("delivery", "none") != "none":
        args += ["--delivery", case["delivery"]]
    return args


def expected_estimates(case: Mapping, truth: Mapping) -> dict | None:
    """What the primary model's estimate of the primary outcome should recover.

    ``{arm: true value}`` in the outcome's own units (the arm is ``None`` for
    pre_post: the true mean change from the first to the last wave, trend plus
    effect), or ``None`` when no unbiased target exists: no comparison (a
    cross-sectional survey without groups) or a non-randomized comparison whose
    groups differ before the program (controlled).
    """
    prim = next(o for o in truth["outcomes"].values() if o.get("primary"))
    d = case["design"]
    if d == "pre_post":
        return {None: prim["change_scale_treated"]}
    if d == "controlled" or (d == "cross_sectional" and case["arms"] == 0):
        return None
    if "effect_scale_by_arm" in prim:
        return dict(prim["effect_scale_by_arm"])
    return {truth["design"]["arms"][0]: prim["effect_scale"]}

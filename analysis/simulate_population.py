"""The child population of the simulated studies: background covariates and the risk indicator.

Each simulated student is a boy with probability :data:`P_MALE` (or a fixed number of
boys is dealt at random), lives with grandparents, another relative or one parent
(:data:`GUARDIAN_TYPES` with probabilities :data:`GUARDIAN_PROBS`), and, when not
living with a parent, has both parents away with probability :data:`P_BOTH_AWAY`.
Age is the class's grade plus 5 or 6 years. The latent traits depend on the
covariates only through the *standardized* indicator "both parents away"
(:func:`standardized_risk`: mean 0 and variance 1 in the population), so a trait
keeps mean 0 and variance 1.

:mod:`analysis.simulate` draws a study's students from this population;
:mod:`analysis.simulate_truth` draws the population itself for the Monte Carlo truth.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GUARDIAN_PROBS",
    "GUARDIAN_TYPES",
    "P_BOTH_AWAY",
    "P_MALE",
    "draw_covariates",
    "draw_guardians",
    "standardized_risk",
]

GUARDIAN_TYPES = ("grandparents", "other_relative", "one_parent")
GUARDIAN_PROBS = (0.90, 0.05, 0.05)
P_BOTH_AWAY = 0.85  # P(both parents away | guardian is not a parent)
P_MALE = 0.52
_P_BPA = P_BOTH_AWAY * (1.0 - GUARDIAN_PROBS[2])  # population share with both parents away


def draw_guardians(rng, n: int):
    """Guardian type and the "both parents away" indicator of ``n`` children.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int

    Returns
    -------
    guardian_index : ndarray of int, shape (n,)
        Index into :data:`GUARDIAN_TYPES`.
    both_away : ndarray of int, shape (n,)
        1 when both parents are away (never for a child living with a parent).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_population import draw_guardians
    >>> g, away = draw_guardians(np.random.default_rng(1), 10_000)
    >>> bool(away[g == 2].max() == 0), round(float(away.mean()), 2)
    (True, 0.81)
    """
    g = rng.choice(len(GUARDIAN_TYPES), n, p=GUARDIAN_PROBS)
    both_away = np.where(g == 2, 0, rng.random(n) < P_BOTH_AWAY).astype(int)
    return g, both_away


def standardized_risk(both_away) -> np.ndarray:
    """The "both parents away" indicator standardized in the population (mean 0, variance 1).

    Examples
    --------
    >>> from analysis.simulate_population import standardized_risk
    >>> standardized_risk([0.0, 1.0]).round(3).tolist()
    [-2.048, 0.488]
    """
    return (np.asarray(both_away) - _P_BPA) / np.sqrt(_P_BPA * (1.0 - _P_BPA))


def draw_covariates(rng, grade, boys: int | None = None) -> dict:
    """Background covariates of the students of a study.

    Parameters
    ----------
    rng : numpy.random.Generator
    grade : ndarray of int, shape (n,)
        Grade of each student's class.
    boys : int, optional
        Exact number of boys, dealt at random; otherwise each student is a boy
        with probability :data:`P_MALE`.

    Returns
    -------
    dict
        ``male`` (bool), ``guardian_type`` (str), ``both_parents_away`` (int 0/1),
        ``age`` (int: grade + 5, or + 6 with probability 0.6) and ``risk``
        (:func:`standardized_risk` of ``both_parents_away``), arrays of length n.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_population import draw_covariates
    >>> c = draw_covariates(np.random.default_rng(2), np.full(8, 4), boys=3)
    >>> int(c["male"].sum()), sorted(set(c["age"].tolist()))
    (3, [9, 10])
    """
    n = len(grade)
    if boys is None:
        male = rng.random(n) < P_MALE
    else:
        if not 0 <= boys <= n:
            raise ValueError(f"boys must be between 0 and the number of students ({n})")
        male = np.zeros(n, dtype=bool)
        male[rng.permutation(n)[:boys]] = True
    gi, both_away = draw_guardians(rng, n)
    age = grade + 5 + (rng.random(n) < 0.6).astype(int)
    return {"male": male, "guardian_type": np.array(GUARDIAN_TYPES)[gi],
            "both_parents_away": both_away, "age": age,
            "risk": standardized_risk(both_away.astype(float))}

"""How a simulated outcome is measured: the outcome specification and the graded item model.

:class:`OutcomeSpec` states one outcome (a questionnaire answered item by item, or a
numeric data column) and its latent trait. The rest of the module turns a latent
trait into observed values:

- questionnaire items follow a graded (ordinal probit) model: item *j* is answered
  as ``min + #{a : lambda_j * theta + sqrt(1 - lambda_j**2) * e_ij > tau_ja}`` on
  its keyed direction (:func:`item_answers`; reverse-keyed items are then written as
  ``min + max - answer``), with thresholds from :func:`ordinal_thresholds`;
- loadings are ``lambda_0`` times fixed weights between 0.85 and 1.15, ``lambda_0``
  solved so that the *expected* Cronbach's alpha (:func:`expected_alpha`, exact from
  bivariate-normal orthant probabilities) equals the target reliability
  (:func:`item_parameters`); filler items (``scored=False``) have loading 0;
- a data-column outcome is ``column_mean + column_sd * (sqrt(reliability) * theta +
  sqrt(1 - reliability) * e)``, rounded and clipped (:func:`column_values`).

:mod:`analysis.simulate` composes these into a study; :mod:`analysis.simulate_truth`
uses them to compute the truth in scale units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, owens_t

__all__ = [
    "OutcomeSpec",
    "column_values",
    "expected_alpha",
    "item_answers",
    "item_parameters",
    "keyed_items",
    "ordinal_thresholds",
    "scale_score",
]


# ---------------------------------------------------------------------------
# specification
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome: a questionnaire, or a numeric data column, measuring one latent trait.

    Parameters
    ----------
    id : str
        Outcome id (e.g. ``"communication"``); a column of ``SimulatedStudy.latent``.
    items : sequence of str
        Item column names, in questionnaire order (empty for a column outcome).
    reverse : sequence of bool, optional
        Reverse-keyed items (written as ``min + max - answer``). Default none.
    scored : sequence of bool, optional
        Items that measure the trait and enter the scale score; ``False`` marks
        filler items (loading 0). Default all.
    response_min, response_max : int
        Integer answer codes ``response_min..response_max``.
    reliability : float
        Target Cronbach's alpha of the scored items, in (0, 1); for a column
        outcome the share of its variance that is the trait, in (0, 1].
    effect : float
        True average treatment effect in latent SD units, in the trait's own
        direction (negative lowers the trait, e.g. less loneliness).
    trend : float
        Change from baseline to endline without the program, latent SD units.
    covariate_effect : float
        Correlation of the latent trait with the standardized indicator "both
        parents away" (e.g. ``-0.15``: children with both parents away score lower).
    location : float
        Shift of the answer distribution in latent SD units (positive: higher
        answers on the keyed direction).
    score : {"mean", "sum"}
        How the scale score (for the truth in scale units) is formed.
    better : {"higher", "lower"}
        Which direction is improvement (for the expected shares improved).
    column : str, optional
        Makes this a *data-column* outcome (a test score, attendance days): the
        column is written as ``round(column_mean + column_sd * (sqrt(reliability)
        * theta + sqrt(1 - reliability) * e), decimals)``, clipped to
        ``column_range``; ``items`` must then be empty.
    column_mean, column_sd : float
        Location and scale of the column in the control population at baseline.
    column_range : (float, float), optional
        Smallest and largest possible value (e.g. ``(0, 100)``).
    decimals : int
        Decimals the column is rounded to (0: whole numbers).
    baseline_difference : float
        Latent SD units added to every wave of the treated arm(s), in the trait's
        own direction: a pre-existing difference between the groups of a
        non-randomized comparison (confounding). 0 for randomized designs.

    Examples
    --------
    >>> from analysis.simulate_items import OutcomeSpec
    >>> spec = OutcomeSpec("self_esteem", items=[f"rses_{i}" for i in range(1, 11)],
    ...                    reverse=[i in (2, 5, 6, 8, 9) for i in range(1, 11)],
    ...                    response_min=1, response_max=4, reliability=0.8, effect=0.2)
    >>> spec.n_items, spec.n_scored
    (10, 10)
    >>> math = OutcomeSpec("math", items=(), column="math_score", column_mean=68,
    ...                    column_sd=14, column_range=(0, 100), reliability=0.9, effect=0.25)
    >>> math.is_column, math.n_items
    (True, 0)
    """

    id: str
    items: Sequence[str] = ()
    reverse: Sequence[bool] = ()
    scored: Sequence[bool] | None = None
    response_min: int = 1
    response_max: int = 5
    reliability: float = 0.8
    effect: float = 0.0
    trend: float = 0.0
    covariate_effect: float = 0.0
    location: float = 0.0
    score: str = "mean"
    better: str = "higher"
    column: str | None = None
    column_mean: float = 50.0
    column_sd: float = 10.0
    column_range: tuple | None = None
    decimals: int = 0
    baseline_difference: float = 0.0

    def __post_init__(self):
        items = tuple(str(i) for i in self.items)
        object.__setattr__(self, "items", items)
        if self.better not in ("higher", "lower"):
            raise ValueError(f"outcome {self.id!r}: better must be 'higher' or 'lower'")
        if not -1.0 < self.covariate_effect < 1.0:
            raise ValueError(f"outcome {self.id!r}: covariate_effect must be in (-1, 1)")
        if self.column is not None:
            if items:
                raise ValueError(f"outcome {self.id!r}: a column outcome has no items")
            if not 0.0 < self.reliability <= 1.0:
                raise ValueError(f"outcome {self.id!r}: reliability must be in (0, 1]")
            if not self.column_sd > 0:
                raise ValueError(f"outcome {self.id!r}: column_sd must be positive")
            if self.column_range is not None:
                lo, hi = (float(v) for v in self.column_range)
                if not lo < hi:
                    raise ValueError(f"outcome {self.id!r}: column_range must be (low, high)")
                object.__setattr__(self, "column_range", (lo, hi))
            if int(self.decimals) < 0:
                raise ValueError(f"outcome {self.id!r}: decimals must be >= 0")
            object.__setattr__(self, "reverse", ())
            object.__setattr__(self, "scored", ())
            return
        if not items:
            raise ValueError(f"outcome {self.id!r}: no items")
        if len(set(items)) != len(items):
            raise ValueError(f"outcome {self.id!r}: item names repeat")
        rev = tuple(bool(r) for r in self.reverse) or (False,) * len(items)
        sc = tuple(bool(s) for s in self.scored) if self.scored is not None else (True,) * len(items)
        if len(rev) != len(items) or len(sc) != len(items):
            raise ValueError(f"outcome {self.id!r}: reverse and scored need one flag per item")
        object.__setattr__(self, "reverse", rev)
        object.__setattr__(self, "scored", sc)
        if sum(sc) < 2:
            raise ValueError(f"outcome {self.id!r}: at least two scored items are needed")
        if int(self.response_max) <= int(self.response_min):
            raise ValueError(f"outcome {self.id!r}: response_max must exceed response_min")
        if not 0.0 < self.reliability < 1.0:
            raise ValueError(f"outcome {self.id!r}: reliability must be in (0, 1)")
        if self.score not in ("mean", "sum"):
            raise ValueError(f"outcome {self.id!r}: score must be 'mean' or 'sum'")

    @property
    def is_column(self) -> bool:
        """True for a data-column outcome (no items)."""
        return self.column is not None

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_scored(self) -> int:
        return int(sum(self.scored))

    @property
    def n_categories(self) -> int:
        return int(self.response_max) - int(self.response_min) + 1



# ---------------------------------------------------------------------------
# ordinal items: thresholds, loadings, expected alpha
# ---------------------------------------------------------------------------


def _bvn_cdf(h, k, rho):
    """P(X < h, Y < k) for a standard bivariate normal with correlation rho (Owen's T)."""
    h = np.where(h == 0, 1e-12, h)
    k = np.where(k == 0, 1e-12, k)
    s = np.sqrt(1.0 - rho * rho)
    ah = (k - rho * h) / (h * s)
    ak = (h - rho * k) / (k * s)
    beta = np.where(h * k > 0, 0.0, 0.5)
    return 0.5 * (ndtr(h) + ndtr(k)) - owens_t(h, ah) - owens_t(k, ak) - beta


def ordinal_thresholds(n_categories: int, n_items: int, *, location: float = 0.0,
                       spread: float = 0.25, seed: int = 0) -> np.ndarray:
    """Thresholds of a graded-response item model on a unit-variance latent response.

    Base thresholds are evenly spaced, ``0.8 * (a - (C - 1) / 2 - 0.5)`` for
    ``a = 1..C-1`` (for 5 categories about 12/23/31/23/12 %), shifted by
    ``-location`` and by an item-specific offset spread evenly over
    ``[-spread, spread]`` in a seeded random order.

    Parameters
    ----------
    n_categories : int
        Number of answer categories C (at least 2).
    n_items : int
        Number of items.
    location : float
        Positive values move answers up.
    spread : float
        Largest item-specific shift.
    seed : int
        Seed of the item order of the shifts.

    Returns
    -------
    ndarray of shape (n_items, n_categories - 1), increasing along axis 1.

    Examples
    --------
    >>> from analysis.simulate_items import ordinal_thresholds
    >>> ordinal_thresholds(5, 1, spread=0).round(2).tolist()
    [[-1.2, -0.4, 0.4, 1.2]]
    """
    if n_categories < 2:
        raise ValueError("n_categories must be at least 2")
    a = np.arange(1, n_categories)
    base = 0.8 * (a - (n_categories - 1) / 2.0 - 0.5)
    shifts = np.linspace(-spread, spread, n_items) if n_items > 1 else np.zeros(1)
    shifts = np.random.default_rng(seed).permutation(shifts)
    return base[None, :] - location + shifts[:, None]


def _item_covariance(loadings: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Covariance matrix of ordinal items ``#{a: z_j > tau_ja}`` with z_j = lambda_j theta + e."""
    j, m = thresholds.shape
    p = ndtr(-thresholds)  # P(z > tau), (J, M)
    rho = np.outer(loadings, loadings)
    # off-diagonal: sum_ab P(z_j > t_ja, z_k > t_kb) - p_ja p_kb
    h = -thresholds[:, None, :, None]  # (J,1,M,1)
    k = -thresholds[None, :, None, :]  # (1,J,1,M)
    r = rho[:, :, None, None]
    joint = _bvn_cdf(np.broadcast_to(h, (j, j, m, m)), np.broadcast_to(k, (j, j, m, m)),
                     np.broadcast_to(r, (j, j, m, m)))
    cov = (joint - p[:, None, :, None] * p[None, :, None, :]).sum(axis=(2, 3))
    # diagonal: P(z > max(t_a, t_b)) - p_a p_b
    tmax = np.maximum(thresholds[:, :, None], thresholds[:, None, :])
    var = (ndtr(-tmax) - p[:, :, None] * p[:, None, :]).sum(axis=(1, 2))
    cov[np.diag_indices(j)] = var
    return cov


def expected_alpha(loadings, thresholds) -> float:
    """Cronbach's alpha of ordinal items in the population (normal latent trait).

    Exact under the model ``answer_j = #{a : lambda_j * theta + sqrt(1 - lambda_j**2) * e_j > tau_ja}``
    with ``theta, e_j`` independent standard normals: the item covariances are
    sums of bivariate-normal orthant probabilities (Owen's T function).

    Parameters
    ----------
    loadings : array of shape (J,)
        Loadings in [0, 1).
    thresholds : array of shape (J, C - 1)
        Increasing thresholds per item.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import expected_alpha, ordinal_thresholds
    >>> round(expected_alpha(np.full(10, 0.6), ordinal_thresholds(5, 10)), 3)
    0.832
    """
    lam = np.asarray(loadings, dtype=float)
    tau = np.asarray(thresholds, dtype=float)
    if tau.ndim != 2 or tau.shape[0] != lam.shape[0] or lam.shape[0] < 2:
        raise ValueError("need at least two items and one row of thresholds per loading")
    cov = _item_covariance(lam, tau)
    j = lam.shape[0]
    return float(j / (j - 1) * (1.0 - np.trace(cov) / cov.sum()))


_WEIGHT_RANGE = (0.85, 1.15)
_MAX_LOADING = 0.95


def _loading_weights(n: int, seed: int) -> np.ndarray:
    w = np.linspace(*_WEIGHT_RANGE, n) if n > 1 else np.ones(1)
    return np.random.default_rng(seed).permutation(w)


def _solve_loadings(target: float, weights: np.ndarray, thresholds: np.ndarray, name: str):
    def f(l0):
        return expected_alpha(np.minimum(l0 * weights, _MAX_LOADING), thresholds) - target

    hi = _MAX_LOADING / weights.min()
    if f(hi) < 0:
        raise ValueError(
            f"outcome {name!r}: reliability {target} is out of reach with "
            f"{len(weights)} scored items (at most {f(hi) + target:.3f})")
    if f(1e-3) > 0:
        raise ValueError(f"outcome {name!r}: reliability {target} is too low")
    l0 = brentq(f, 1e-3, hi, xtol=1e-10)
    return np.minimum(l0 * weights, _MAX_LOADING)



def item_parameters(spec: OutcomeSpec, seed: int, index: int = 0):
    """Loadings, thresholds and expected alpha of a questionnaire outcome's items.

    Thresholds come from :func:`ordinal_thresholds` (seeded with ``seed + 7919 *
    index``); the scored items' loadings are ``lambda_0`` times fixed weights between
    0.85 and 1.15 in a seeded order (``seed + 104729 * index``), with ``lambda_0``
    solved so that the expected Cronbach's alpha of the scored items equals
    ``spec.reliability``. Filler items get loading 0.

    Parameters
    ----------
    spec : OutcomeSpec
        A questionnaire outcome (not a data column).
    seed : int
        Seed of the item parameters of the study.
    index : int
        Position of the outcome in the study (each outcome gets its own parameters).

    Returns
    -------
    loadings : ndarray of shape (n_items,)
    thresholds : ndarray of shape (n_items, n_categories - 1)
    alpha : float
        Expected Cronbach's alpha of the scored items (the target, up to the solver).

    Raises
    ------
    ValueError
        When the target reliability cannot be reached with these items.

    Examples
    --------
    >>> from analysis.simulate_items import OutcomeSpec, item_parameters
    >>> spec = OutcomeSpec("x", items=[f"x_{i}" for i in range(6)], reliability=0.75)
    >>> lam, tau, alpha = item_parameters(spec, seed=1)
    >>> lam.shape, tau.shape, round(alpha, 6)
    ((6,), (6, 4), 0.75)
    """
    sc = np.asarray(spec.scored)
    tau = ordinal_thresholds(spec.n_categories, spec.n_items, location=spec.location,
                             seed=seed + 7919 * index)
    wts = _loading_weights(spec.n_scored, seed + 104729 * index)
    lam_scored = _solve_loadings(spec.reliability, wts, tau[sc], spec.id)
    lam = np.zeros(spec.n_items)
    lam[sc] = lam_scored
    return lam, tau, expected_alpha(lam_scored, tau[sc])


# ---------------------------------------------------------------------------
# observed values from the latent trait
# ---------------------------------------------------------------------------


def item_answers(theta, loadings, thresholds, rmin, reverse, scored, rng) -> np.ndarray:
    """Item answers drawn from the graded model, as integer codes.

    Parameters
    ----------
    theta : ndarray of shape (n,)
        Latent trait of each respondent.
    loadings : ndarray of shape (J,)
        Item loadings (those of unscored items are ignored: loading 0).
    thresholds : ndarray of shape (J, C - 1)
    rmin : int
        Lowest answer code.
    reverse, scored : ndarray of bool, shape (J,)
        Reverse-keyed items are written as answered (``min + max - keyed``).
    rng : numpy.random.Generator
        Draws the item errors, one (n, J) standard normal matrix.

    Returns
    -------
    ndarray of int, shape (n, J)

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import item_answers, ordinal_thresholds
    >>> tau = ordinal_thresholds(4, 3, spread=0)
    >>> a = item_answers(np.zeros(5), np.full(3, 0.7), tau, 1, np.array([False, True, False]),
    ...                  np.ones(3, bool), np.random.default_rng(0))
    >>> a.shape, int(a.min()) >= 1, int(a.max()) <= 4
    ((5, 3), True, True)
    """
    n = theta.shape[0]
    lam = np.where(scored, loadings, 0.0)
    e = rng.standard_normal((n, lam.size))
    z = theta[:, None] * lam[None, :] + e * np.sqrt(1.0 - lam * lam)[None, :]
    keyed = (z[:, :, None] > thresholds[None, :, :]).sum(axis=2)
    top = thresholds.shape[1]  # highest keyed answer above the minimum
    raw = np.where(reverse[None, :], top - keyed, keyed)
    return raw + rmin


def column_values(theta, spec: OutcomeSpec, rng) -> np.ndarray:
    """Values of a data-column outcome drawn from the latent trait.

    ``round(column_mean + column_sd * (sqrt(r) * theta + sqrt(1 - r) * e), decimals)``
    with ``r = spec.reliability`` and ``e`` standard normal, clipped to
    ``spec.column_range``.

    Parameters
    ----------
    theta : ndarray of shape (n,)
    spec : OutcomeSpec
        A data-column outcome.
    rng : numpy.random.Generator
        Draws ``e``, n standard normals.

    Returns
    -------
    ndarray of float, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import OutcomeSpec, column_values
    >>> math = OutcomeSpec("math", column="math_score", column_mean=68, column_sd=14,
    ...                    column_range=(0, 100), reliability=1.0)
    >>> column_values(np.array([0.0, 1.0, 5.0]), math, np.random.default_rng(0)).tolist()
    [68.0, 82.0, 100.0]
    """
    e = rng.standard_normal(theta.shape[0])
    r = float(spec.reliability)
    z = np.sqrt(r) * theta + np.sqrt(1.0 - r) * e
    v = np.round(spec.column_mean + spec.column_sd * z, int(spec.decimals))
    if spec.column_range is not None:
        v = np.clip(v, *spec.column_range)
    return v


def keyed_items(answers, rmin, ncat, reverse, scored) -> np.ndarray:
    """The scored items of answers (n, J), reverse-keyed items turned around.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import keyed_items
    >>> keyed_items(np.array([[1, 4, 2]]), 1, 4, np.array([False, True, False]),
    ...             np.array([True, True, False])).tolist()
    [[1, 1]]
    """
    return np.where(reverse[None, :], (2 * rmin + ncat - 1) - answers, answers)[:, scored]


def scale_score(answers, rmin, ncat, reverse, scored, score) -> np.ndarray:
    """Scale scores (mean or sum of the keyed, scored items) of answers (n, J).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.simulate_items import scale_score
    >>> scale_score(np.array([[1, 4, 2]]), 1, 4, np.array([False, True, False]),
    ...             np.ones(3, bool), "sum").tolist()
    [4]
    """
    keyed = keyed_items(answers, rmin, ncat, reverse, scored)
    return keyed.sum(axis=1) if score == "sum" else keyed.mean(axis=1)

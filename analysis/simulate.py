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
rate); item non-response (``item_missing``) is missing completely at random.

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr, owens_t

from core.design import Design

__all__ = [
    "DESIGNS",
    "ID_STYLES",
    "OutcomeSpec",
    "SimulatedStudy",
    "simulate_study",
    "expected_alpha",
    "ordinal_thresholds",
]

SIMULATOR_VERSION = 1

GUARDIAN_TYPES = ("grandparents", "other_relative", "one_parent")
GUARDIAN_PROBS = (0.90, 0.05, 0.05)
P_BOTH_AWAY = 0.85  # P(both parents away | guardian is not a parent)
P_MALE = 0.52
_P_BPA = P_BOTH_AWAY * (1.0 - GUARDIAN_PROBS[2])  # population share with both parents away

PII_COLUMNS = ("name", "name_pinyin", "phone", "address", "guardian_name")


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
    >>> from analysis.simulate import OutcomeSpec
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
    """

    data: pd.DataFrame
    latent: pd.DataFrame
    truth: dict
    design: Design
    items: dict = field(default_factory=dict)
    pii: tuple = PII_COLUMNS


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
    >>> from analysis.simulate import ordinal_thresholds
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
    >>> from analysis.simulate import expected_alpha, ordinal_thresholds
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


# ---------------------------------------------------------------------------
# helpers for the structure and the fake personal data
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


# Common surnames and given-name characters with their pinyin (no tone marks).
_SURNAMES = (
    "王Wang 李Li 张Zhang 刘Liu 陈Chen 杨Yang 黄Huang 赵Zhao 吴Wu 周Zhou 徐Xu 孙Sun 马Ma "
    "朱Zhu 胡Hu 郭Guo 何He 高Gao 林Lin 罗Luo 郑Zheng 梁Liang 谢Xie 宋Song 唐Tang 韩Han "
    "冯Feng 邓Deng 曹Cao 彭Peng 曾Zeng 肖Xiao 田Tian 董Dong 袁Yuan 潘Pan 蒋Jiang 蔡Cai "
    "杜Du 叶Ye 程Cheng 苏Su 魏Wei 丁Ding 任Ren 沈Shen 姚Yao 卢Lu 崔Cui 钟Zhong 谭Tan 范Fan "
    "金Jin 石Shi 廖Liao 贾Jia 夏Xia 方Fang 白Bai 邹Zou 孟Meng 熊Xiong 秦Qin 邱Qiu 尹Yin "
    "薛Xue 段Duan 雷Lei 侯Hou 龙Long 陶Tao 顾Gu 毛Mao 郝Hao 龚Gong 邵Shao 万Wan 严Yan "
    "戴Dai 莫Mo 孔Kong 向Xiang 易Yi 常Chang 乔Qiao 赖Lai 文Wen 付Fu"
).split()
_CHILD_CHARS = (
    "子zi 涵han 浩hao 宇yu 欣xin 怡yi 轩xuan 博bo 佳jia 明ming 俊jun 杰jie 思si 晨chen "
    "睿rui 涛tao 悦yue 婷ting 雪xue 磊lei 诗shi 琪qi 鹏peng 晓xiao 静jing 强qiang 伟wei "
    "娜na 敏min 燕yan 阳yang 辉hui 凯kai 瑶yao 可ke 宁ning 安an 乐le 天tian 舒shu 航hang "
    "志zhi 成cheng 星xing 彤tong 颖ying 露lu 倩qian 泽ze 振zhen 梦meng 雅ya 嘉jia 家jia "
    "文wen 雨yu 豪hao 鑫xin 一yi 林lin 晴qing 朵duo 锦jin"
).split()
_ELDER_CHARS = (
    "桂gui 英ying 兰lan 德de 福fu 国guo 华hua 平ping 红hong 荣rong 秀xiu 梅mei 军jun "
    "建jian 春chun 海hai 志zhi 成cheng 珍zhen 凤feng 金jin 玉yu 明ming 山shan 清qing "
    "云yun 芬fen 友you 生sheng 有you 永yong 贵gui 连lian 香xiang 花hua 兴xing 发fa 财cai"
).split()
_TOWNSHIPS = ("石桥镇", "柳河镇", "龙潭乡", "桃源乡", "双河镇", "清溪镇", "高坪乡", "新田镇",
              "河口镇", "黄土乡", "白杨镇", "青龙乡", "回龙镇", "马场乡", "长岭镇", "花园乡",
              "枫木乡", "金竹镇", "三合乡", "太平镇")
_VILLAGES = ("柳树", "杨家", "王家湾", "马鞍", "红星", "新华", "白果", "大坪", "石门", "水井",
             "桥头", "竹林", "李家沟", "团结", "和平", "幸福", "茶园", "松树坡", "杉木", "沙坝",
             "凉水", "岩脚", "坪上", "田坝", "高峰", "中心", "向阳", "东风", "梨树", "响水")
_COUNTIES = ("青山县", "白水县", "云溪县", "松林县", "金河县", "桃江县")


def _split_table(table):
    return [t[0] for t in table], [t[1:] for t in table]


def _join_pinyin(parts) -> str:
    out = parts[0]
    for p in parts[1:]:
        out += ("'" if p[0] in "aeo" else "") + p
    return out


def _unique_names(rng, n: int, pool: tuple, taken: set, surname_idx=None):
    """n unique 3-character names (and pinyin) not in ``taken``; optional fixed surnames."""
    s_chars, s_py = _split_table(_SURNAMES)
    g_chars, g_py = _split_table(pool)
    names, pinyins = [None] * n, [None] * n
    todo = np.arange(n)
    taken_py = {p for _, p in taken}
    taken_nm = {nm for nm, _ in taken}
    for _ in range(100):
        if todo.size == 0:
            break
        m = todo.size
        si = surname_idx[todo] if surname_idx is not None else rng.integers(0, len(s_chars), m)
        g1 = rng.integers(0, len(g_chars), m)
        g2 = rng.integers(0, len(g_chars), m)
        left = []
        for t, a, b, c in zip(todo, si, g1, g2):
            nm = s_chars[a] + g_chars[b] + g_chars[c]
            py = s_py[a] + " " + _join_pinyin([g_py[b], g_py[c]]).capitalize()
            if b == c or nm in taken_nm or py in taken_py:
                left.append(t)
                continue
            taken_nm.add(nm)
            taken_py.add(py)
            taken.add((nm, py))
            names[t], pinyins[t] = nm, py
        todo = np.asarray(left, dtype=int)
    if todo.size:
        raise ValueError("could not draw enough unique names")
    return names, pinyins, [s_chars.index(nm[0]) for nm in names]


def _unique_strings(rng, n: int, make, what: str):
    """n unique strings from ``make(rng, m) -> list`` by rejection."""
    out, seen = [], set()
    for _ in range(100):
        need = n - len(out)
        if need == 0:
            return out
        for s in make(rng, 2 * need):
            if s not in seen:
                seen.add(s)
                out.append(s)
                if len(out) == n:
                    break
    if len(out) < n:
        raise ValueError(f"could not draw enough unique {what}")
    return out


def _fake_personal_data(rng, school_of, township_of_school, county_of_school, guardian):
    n = school_of.size
    taken: set = set()
    names, pinyin, surname = _unique_names(rng, n, _CHILD_CHARS, taken)
    # paternal grandparents and fathers share the child's surname; others draw their own
    same = (guardian == "grandparents") & (rng.random(n) < 0.5) | (guardian == "one_parent") & (
        rng.random(n) < 0.7)
    s_idx = np.where(same, np.asarray(surname), rng.integers(0, len(_SURNAMES), n))
    g_names, _, _ = _unique_names(rng, n, _ELDER_CHARS, taken, surname_idx=s_idx)

    def make_phone(r, m):
        head = r.choice(np.array(["170", "171"]), m)
        tail = r.integers(0, 10_000_000, m)
        return [f"{h}0{t:07d}" for h, t in zip(head, tail)]

    phones = _unique_strings(rng, n, make_phone, "phone numbers")

    vill = rng.integers(0, len(_VILLAGES), n)
    addr_prefix = [county_of_school[s] + township_of_school[s] for s in school_of]
    addresses, seen = [None] * n, set()
    for i in range(n):
        for _ in range(1000):
            a = (f"{addr_prefix[i]}{_VILLAGES[vill[i]]}村"
                 f"{int(rng.integers(1, 13))}组{int(rng.integers(1, 100))}号")
            if a not in seen:
                break
            vill[i] = rng.integers(0, len(_VILLAGES))
        seen.add(a)
        addresses[i] = a
    return names, pinyin, phones, addresses, g_names


# ---------------------------------------------------------------------------
# the simulation
# ---------------------------------------------------------------------------

_STREAMS = ("structure", "assignment", "covariates", "latent", "items", "attrition",
            "pii", "truth", "missing", "incomplete")

DESIGNS = ("cross_sectional", "pre_post", "controlled", "randomized", "cluster_randomized")
ID_STYLES = ("code", "num5", "num8", "padded", "chinese")


def _answers(theta, loadings, thresholds, rmin, reverse, scored, rng):
    """Item answers (n, J) as int codes from latent theta (n,)."""
    n = theta.shape[0]
    lam = np.where(scored, loadings, 0.0)
    e = rng.standard_normal((n, lam.size))
    z = theta[:, None] * lam[None, :] + e * np.sqrt(1.0 - lam * lam)[None, :]
    keyed = (z[:, :, None] > thresholds[None, :, :]).sum(axis=2)
    top = thresholds.shape[1]  # highest keyed answer above the minimum
    raw = np.where(reverse[None, :], top - keyed, keyed)
    return raw + rmin


def _column_values(theta, spec, rng):
    """Values (n,) of a data-column outcome from latent theta (n,)."""
    e = rng.standard_normal(theta.shape[0])
    r = float(spec.reliability)
    z = np.sqrt(r) * theta + np.sqrt(1.0 - r) * e
    v = np.round(spec.column_mean + spec.column_sd * z, int(spec.decimals))
    if spec.column_range is not None:
        v = np.clip(v, *spec.column_range)
    return v


def _scale_score(answers, rmin, ncat, reverse, scored, score):
    keyed = np.where(reverse[None, :], (2 * rmin + ncat - 1) - answers, answers)[:, scored]
    return keyed.sum(axis=1) if score == "sum" else keyed.mean(axis=1)


def _std_risk(both_away):
    return (both_away - _P_BPA) / np.sqrt(_P_BPA * (1.0 - _P_BPA))


def _draw_covariate_pop(rng, n):
    g = rng.choice(len(GUARDIAN_TYPES), n, p=GUARDIAN_PROBS)
    bpa = np.where(g == 2, 0, rng.random(n) < P_BOTH_AWAY).astype(float)
    return bpa


def _truth_monte_carlo(spec, loadings, thresholds, stability, rng, draws, extra_effects=()):
    """Population quantities of one outcome by Monte Carlo with common random numbers.

    ``extra_effects``: further latent effects (other treatment arms) whose effect on
    the scale is computed with the same random numbers (returned as ``_extra``).
    """
    c = spec.covariate_effect
    risk = _std_risk(_draw_covariate_pop(rng, draws))
    g_b = rng.standard_normal(draws)
    g_e = stability * g_b + np.sqrt(1 - stability**2) * rng.standard_normal(draws)
    s = np.sqrt(1 - c * c)
    theta_b = c * risk + s * g_b
    theta_e0 = c * risk + s * g_e + spec.trend
    theta_e1 = theta_e0 + spec.effect
    if spec.is_column:
        def observe(theta):
            return _column_values(theta, spec, rng)
    else:
        rev = np.asarray(spec.reverse)
        sc = np.asarray(spec.scored)
        ncat = spec.n_categories
        rmin = int(spec.response_min)

        def observe(theta):
            a = _answers(theta, loadings, thresholds, rmin, rev, sc, rng)
            return _scale_score(a, rmin, ncat, rev, sc, spec.score), a
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
        keyed_b = np.where(rev[None, :], (2 * rmin + ncat - 1) - ab, ab)[:, sc].astype(float)
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


def _deal(idx: np.ndarray, k: int, rng) -> np.ndarray:
    """Arm index (0..k-1) for each unit of ``idx`` (already in random order): equal shares,
    the remainder to arms drawn at random."""
    counts = np.full(k, idx.size // k)
    r = idx.size % k
    if r:
        counts[rng.choice(k, r, replace=False)] += 1
    return np.repeat(np.arange(k), counts)


_CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(k: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    if k < 10:
        return _CN_DIGITS[k]
    tens, ones = divmod(k, 10)
    return (_CN_DIGITS[tens] if tens > 1 else "") + "十" + (_CN_DIGITS[ones] if ones else "")


def _student_ids(style, id_prefix, school_code, school_of, serial, block_of_school,
                 school_serial, county_of_school):
    n = school_of.size
    if style == "code":
        return np.array([f"{id_prefix}-{school_code[s]}-{k:04d}" for s, k in zip(school_of, serial)])
    if style == "num5":
        if school_code and (len(school_code) > 89 or max(serial) > 999):
            raise ValueError("num5 ids allow at most 89 schools of at most 999 students")
        return np.array([str(10000 + 1000 * s + k) for s, k in zip(school_of, serial)])
    if style == "num8":
        if max(serial) > 9999:
            raise ValueError("num8 ids allow at most 9999 students per school")
        return np.array([str(20_000_000 + 10_000 * (s + 1) + k) for s, k in zip(school_of, serial)])
    if style == "padded":
        w = max(3, len(str(n)))
        return np.array([f"{i + 1:0{w}d}" for i in range(n)])
    if style == "chinese":
        if max(school_serial) > 99 or max(serial) > 999:
            raise ValueError("chinese ids allow at most 99 schools per block and 999 students")
        out = []
        for s, k in zip(school_of, serial):
            b = int(block_of_school[s])
            county = county_of_school[s][:2] + (_cn_number(b // len(_COUNTIES) + 1)
                                                if b >= len(_COUNTIES) else "")
            out.append(f"{county}{_cn_number(int(school_serial[s]))}小{k:03d}")
        return np.array(out)
    raise ValueError(f"id_style must be one of {ID_STYLES}")


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
        in a one-school study, and for ``randomized``, whose schools are the
        blocks), 2 ``school_id`` and ``class_id`` (then a ``randomized`` design
        declares no blocks: a column has one role). ``None``: the design's default
        (``class_id`` for ``randomized`` and one-school studies, else both).
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
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}")
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
    group = arms[0] if arms else "all"  # the label of a one-group study in the truth
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

    streams = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                                  np.random.SeedSequence(seed).spawn(len(_STREAMS)))))
    rs = streams["structure"]

    # --- structure: blocks -> schools -> classes -> students -----------------
    block_of_school = np.repeat(np.arange(blocks), np.diff(np.linspace(0, schools, blocks + 1).round()
                                                            .astype(int)))
    n_classes = _int_or_range(classes_per_school, rs, schools, "classes_per_school")
    n_students = _int_or_range(students_per_school, rs, schools, "students_per_school")
    school_serial = np.zeros(schools, dtype=int)
    for b in range(blocks):
        idx = np.flatnonzero(block_of_school == b)
        school_serial[idx] = np.arange(1, idx.size + 1)
    school_code = [f"{b + 1:02d}{k:02d}" for b, k in zip(block_of_school, school_serial)]
    township = rs.permutation(len(_TOWNSHIPS))
    township_of_school = [_TOWNSHIPS[township[i % len(_TOWNSHIPS)]] for i in range(schools)]
    county_of_school = [_COUNTIES[b % len(_COUNTIES)] for b in block_of_school]

    school_of, class_of, grade_of, serial = [], [], [], []
    class_offset = 0
    glo, ghi = grades
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
    grade_of = np.asarray(grade_of)
    n = school_of.size
    n_class_total = class_offset
    class_school = np.zeros(n_class_total, dtype=int)
    class_school[class_of] = school_of
    class_number = np.zeros(n_class_total, dtype=int)
    for s in range(schools):
        idx = np.flatnonzero(class_school == s)
        class_number[idx] = np.arange(1, idx.size + 1)

    student_id = _student_ids(id_style, id_prefix, school_code, school_of, serial,
                              block_of_school, school_serial, county_of_school)
    school_id = np.array([f"S{c}" for c in school_code])[school_of]
    class_id = np.array([f"S{school_code[s]}-C{class_number[c]:02d}" for c, s in
                         zip(range(n_class_total), class_school)])[class_of]
    county_id = np.array([f"C{b + 1:02d}" for b in range(blocks)])[block_of_school[school_of]]

    # --- assignment ------------------------------------------------------------
    ra = streams["assignment"]
    arm_idx = np.zeros(n, dtype=int)  # index into arms; the last is the control
    assigned_by = None
    if design == "cluster_randomized":
        t_school = np.zeros(schools, dtype=int)
        for b in range(blocks):
            idx = ra.permutation(np.flatnonzero(block_of_school == b))
            if n_arms == 2:
                m = idx.size // 2 + (int(ra.integers(0, 2)) if idx.size % 2 else 0)
                t_school[idx[m:]] = 1
            else:
                t_school[idx] = _deal(idx, n_arms, ra)
        arm_idx = t_school[school_of]
        assigned_by = "schools"
    elif design == "randomized":
        arm_idx = np.full(n, n_arms - 1, dtype=int)
        for s in range(schools):
            idx = ra.permutation(np.flatnonzero(school_of == s))
            if n_arms == 2:
                m = idx.size // 2 + (int(ra.integers(0, 2)) if idx.size % 2 else 0)
                arm_idx[idx[:m]] = 0
            else:
                arm_idx[idx] = _deal(idx, n_arms, ra)
        assigned_by = "students"
    elif has_arm:  # controlled, cross_sectional with groups: whole schools (or classes)
        if schools >= n_arms:
            idx = ra.permutation(schools)
            unit = np.zeros(schools, dtype=int)
            unit[idx] = _deal(idx, n_arms, ra)
            arm_idx = unit[school_of]
            assigned_by = "schools"
        else:
            if n_class_total < n_arms:
                raise ValueError(f"{n_arms} arms need at least {n_arms} schools or classes")
            idx = ra.permutation(n_class_total)
            unit = np.zeros(n_class_total, dtype=int)
            unit[idx] = _deal(idx, n_arms, ra)
            arm_idx = unit[class_of]
            assigned_by = "classes"
    if has_arm:
        treated = arm_idx < n_arms - 1
        arm = np.array(arms)[arm_idx]
        mult = np.where(treated, np.asarray(arm_mult + [0.0])[arm_idx], 0.0)
    else:
        treated = np.full(n, design == "pre_post")
        mult = treated.astype(float)
        arm = None

    # --- covariates --------------------------------------------------------------
    rc = streams["covariates"]
    if boys is None:
        male = rc.random(n) < P_MALE
    else:
        if not 0 <= boys <= n:
            raise ValueError(f"boys must be between 0 and the number of students ({n})")
        male = np.zeros(n, dtype=bool)
        male[rc.permutation(n)[:boys]] = True
    gi = rc.choice(len(GUARDIAN_TYPES), n, p=GUARDIAN_PROBS)
    guardian = np.array(GUARDIAN_TYPES)[gi]
    both_away = np.where(gi == 2, 0, rc.random(n) < P_BOTH_AWAY).astype(int)
    age = grade_of + 5 + (rc.random(n) < 0.6).astype(int)
    risk = _std_risk(both_away.astype(float))

    # --- latent traits -----------------------------------------------------------
    rl = streams["latent"]
    k_out = len(outcomes)
    chol = _sorted_cholesky(trait_correlation, k_out)

    def comp(size):
        return rl.standard_normal((size, k_out)) @ chol.T

    rho, nu = stability, np.sqrt(1 - stability**2)
    parts = [(comp(schools), comp(n_class_total), comp(n))]
    for _ in range(1, n_waves):
        us, uc, e = parts[-1]
        parts.append((rho * us + nu * comp(schools), rho * uc + nu * comp(n_class_total),
                      rho * e + nu * comp(n)))
    cov_eff = np.array([o.covariate_effect for o in outcomes])
    resid_sd = np.sqrt(1 - icc_school - icc_class - cov_eff**2)
    trend_v = np.array([o.trend for o in outcomes])
    effect_v = np.array([o.effect for o in outcomes])
    bdiff_v = np.array([o.baseline_difference for o in outcomes])

    def theta(us, uc, e):
        return (np.sqrt(icc_school) * us[school_of] + np.sqrt(icc_class) * uc[class_of]
                + risk[:, None] * cov_eff[None, :] + e * resid_sd[None, :])

    thetas = []
    for w, (us, uc, e) in enumerate(parts):
        t = theta(us, uc, e)
        f = 1.0 if n_waves == 1 else w / (n_waves - 1)  # share of trend and effect reached
        if f > 0:
            t += f * trend_v[None, :]
            t += (f * mult)[:, None] * effect_v[None, :]
        if bdiff_v.any():
            t += treated[:, None] * bdiff_v[None, :]
        thetas.append(t)

    # --- items and data columns -----------------------------------------------------
    ri = streams["items"]
    rm = streams["missing"]
    item_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    params = []
    stores = [{} for _ in range(n_waves)]
    for k, o in enumerate(outcomes):
        if o.is_column:
            params.append((None, None, None))
            for w in range(n_waves):
                v = _column_values(thetas[w][:, k], o, ri)
                if item_missing > 0:
                    v[rm.random(v.shape) < item_missing] = np.nan
                stores[w][o.column] = v
            continue
        rev = np.asarray(o.reverse)
        sc = np.asarray(o.scored)
        tau = ordinal_thresholds(o.n_categories, o.n_items, location=o.location,
                                 seed=item_seed + 7919 * k)
        wts = _loading_weights(o.n_scored, item_seed + 104729 * k)
        lam_scored = _solve_loadings(o.reliability, wts, tau[sc], o.id)
        lam = np.zeros(o.n_items)
        lam[sc] = lam_scored
        alpha_exp = expected_alpha(lam_scored, tau[sc])
        params.append((lam, tau, alpha_exp))
        for w in range(n_waves):
            ans = _answers(thetas[w][:, k], lam, tau, int(o.response_min), rev, sc, ri).astype(float)
            if item_missing > 0:
                ans[rm.random(ans.shape) < item_missing] = np.nan
            for j, name in enumerate(o.items):
                stores[w][name] = ans[:, j]
    if incomplete > 0:  # respondents who stop half way through every questionnaire
        rq = streams["incomplete"]
        for w in range(n_waves):
            stop = rq.random(n) < incomplete
            for o in outcomes:
                if not o.is_column:
                    for name in o.items[(o.n_items + 1) // 2:]:
                        stores[w][name] = np.where(stop, np.nan, stores[w][name])

    # --- attrition -----------------------------------------------------------------
    rt = streams["attrition"]
    u = rt.random(n)
    rate = np.array([att[a] for a in arm]) if has_arm else np.full(n, att[group])
    lost = u < rate
    # the first wave a lost student misses (monotone dropout)
    gone_from = np.where(lost, np.where((u < rate / 2) & (n_waves == 3), 1, n_waves - 1), n_waves)
    followed = ~lost

    # --- personal data ---------------------------------------------------------------
    rp = streams["pii"]
    names, pinyin, phones, addresses, g_names = _fake_personal_data(
        rp, school_of, township_of_school, county_of_school, guardian)

    # --- assemble ----------------------------------------------------------------------
    base = {"student_id": student_id}
    cols = {}
    if has_arm:
        cols["arm"] = arm
    cols.update({"county_id": county_id, "school_id": school_id, "class_id": class_id,
                 "gender": np.where(male, "male", "female"), "age": age,
                 "guardian_type": guardian, "both_parents_away": both_away,
                 "name": names, "name_pinyin": pinyin, "phone": phones,
                 "address": addresses, "guardian_name": g_names})
    value_cols = all_items + [o.column for o in col_outcomes]
    frames = []
    for w in range(n_waves):
        d = {**base, "wave": np.full(n, waves[w]), **cols}
        for name in value_cols:
            d[name] = stores[w][name]
        frames.append(pd.DataFrame(d).loc[gone_from > w])
    data = pd.concat(frames, ignore_index=True)
    for name in all_items:
        data[name] = data[name].astype("Int64")
    for o in col_outcomes:
        if int(o.decimals) == 0:
            data[o.column] = data[o.column].astype("Int64")
    data["age"] = data["age"].astype("int64")
    data["both_parents_away"] = data["both_parents_away"].astype("int64")

    latent = pd.concat([
        pd.DataFrame({"student_id": student_id, "wave": waves[w],
                      **{o.id: thetas[w][:, k] for k, o in enumerate(outcomes)}})
        for w in range(n_waves)], ignore_index=True)

    # --- truth -------------------------------------------------------------------------
    rtr = streams["truth"]
    treat_arms = list(arms[:-1]) if has_arm else []
    truth_out = {}
    for k, o in enumerate(outcomes):
        lam, tau, alpha_exp = params[k]
        extra = [o.effect * m for m in arm_mult[1:]] if n_arms > 2 else []
        mc = _truth_monte_carlo(o, lam, tau, stability ** max(n_waves - 1, 1), rtr, truth_draws,
                                extra_effects=extra)
        change, sd_b, extra_mc = mc.pop("_change"), mc.pop("_sd_b"), mc.pop("_extra")
        if o.is_column:
            rel = float(o.reliability)
            rci_se = sd_b * np.sqrt(2 * (1 - rel)) if rel < 1 else float("inf")
            t = {"column": o.column, "items": [], "column_mean": float(o.column_mean),
                 "column_sd": float(o.column_sd),
                 "column_range": list(o.column_range) if o.column_range else None,
                 "decimals": int(o.decimals)}
        else:
            rci_se = sd_b * np.sqrt(2 * (1 - alpha_exp))
            t = {"items": list(o.items),
                 "scored_items": [i for i, s in zip(o.items, o.scored) if s],
                 "reverse_items": [i for i, r in zip(o.items, o.reverse) if r],
                 "response_min": int(o.response_min),
                 "response_max": int(o.response_max),
                 "score": o.score}
        t.update({
            "better": o.better,
            "effect_latent_sd": float(o.effect),
            "trend_latent_sd": float(o.trend),
            "covariate_effect": float(o.covariate_effect),
        })
        if o.baseline_difference:
            t["baseline_difference_latent_sd"] = float(o.baseline_difference)
        t.update(mc)
        if o.is_column:
            t["reliability"] = float(o.reliability)
        else:
            t.update({"reliability_target": float(o.reliability),
                      "alpha_expected": alpha_exp,
                      "loadings": [float(v) for v in lam],
                      "thresholds": [[float(v) for v in row] for row in tau]})
        t["share_any_improvement_treated"] = float((change > 0).mean())
        t["share_reliable_improvement_treated"] = float((change / rci_se > 1.96).mean())
        if n_arms > 2:
            t["effect_latent_sd_by_arm"] = {a: float(o.effect * m) for a, m in zip(treat_arms, arm_mult)}
            t["effect_scale_by_arm"] = {treat_arms[0]: mc["effect_scale"],
                                        **{a: e for a, (e, _) in zip(treat_arms[1:], extra_mc)}}
            t["effect_scale_mc_se_by_arm"] = {treat_arms[0]: mc["effect_scale_mc_se"],
                                              **{a: s for a, (_, s) in zip(treat_arms[1:], extra_mc)}}
        truth_out[o.id] = t
    n_arm = {}
    if has_arm:
        for a in arms:
            m = arm == a
            n_arm[a] = {"students": int(m.sum()), "schools": int(np.unique(school_of[m]).size),
                        "followed_up": int((m & followed).sum()),
                        "attrition_target": att[a],
                        "attrition_observed": float(1 - (m & followed).sum() / max(m.sum(), 1))}
    else:
        n_arm[group] = {"students": n, "schools": schools, "followed_up": int(followed.sum()),
                        "attrition_target": att[group],
                        "attrition_observed": float(1 - followed.sum() / n)}
    if cluster_levels is None:
        clusters = (("class_id",) if design == "randomized" or schools == 1
                    else ("school_id", "class_id"))
    else:
        # students randomized within schools: the school is the block, the class the cluster
        one = ("school_id",) if schools > 1 and design != "randomized" else ("class_id",)
        clusters = {0: (), 1: one, 2: ("school_id", "class_id")}[cluster_levels]
    d_obj = Design(
        type=design, id="student_id", wave="wave", waves=tuple(waves),
        arm="arm" if has_arm else None, control=arms[-1] if has_arm else None,
        clusters=clusters,
        blocks=("county_id" if design == "cluster_randomized" and blocks > 1
                else "school_id" if design == "randomized" and schools > 1
                and "school_id" not in clusters else None),
        covariates=("gender", "age", "guardian_type", "both_parents_away"),
        subgroups=("gender", "guardian_type", "both_parents_away"),
    )
    ratio = ":".join(["1"] * n_arms) if n_arms else ""
    randomization = {
        "pre_post": "none (everybody gets the program)",
        "randomized": f"students {ratio} within schools",
        "cluster_randomized": f"schools {ratio} within blocks",
        "controlled": f"none: {assigned_by} chosen for the program, not randomized",
        "cross_sectional": (f"none: {assigned_by} compared as found, one wave" if has_arm
                            else "none (one survey, no comparison group)"),
    }[design]
    truth = {
        "generator": "analysis.simulate.simulate_study",
        "generator_version": SIMULATOR_VERSION,
        "seed": int(seed),
        "design": {
            "type": design,
            "waves": list(waves),
            "arms": list(arms) if has_arm else None,
            "control": arms[-1] if has_arm else None,
            "randomization": randomization,
            "blocks": int(blocks),
            "schools": int(schools),
            "classes": int(n_class_total),
            "students": int(n),
            "by_arm": n_arm,
        },
        "parameters": {
            "icc_school": float(icc_school),
            "icc_class": float(icc_class),
            "stability": float(stability),
            "attrition": att,
            "attrition_mechanism": "missing completely at random within arm",
            "item_missing": float(item_missing),
            "trait_correlation": (np.asarray(trait_correlation, dtype=float).tolist()
                                  if trait_correlation is not None else None),
            "truth_draws_per_arm": int(truth_draws),
            "covariates": {"p_male": P_MALE if boys is None else None, "boys": boys,
                           "guardian_types": dict(zip(GUARDIAN_TYPES, GUARDIAN_PROBS)),
                           "p_both_parents_away_if_not_with_a_parent": P_BOTH_AWAY},
        },
        "outcomes": truth_out,
    }
    extra_p = {}
    if incomplete:
        extra_p["incomplete_share"] = float(incomplete)
    if n_arms > 2:
        extra_p["arm_effects"] = dict(zip(treat_arms, arm_mult))
    if cluster_levels is not None:
        extra_p["cluster_levels"] = int(cluster_levels)
    if id_style != "code":
        extra_p["id_style"] = id_style
    truth["parameters"].update(extra_p)
    return SimulatedStudy(data=data, latent=latent, truth=truth, design=d_obj,
                          items={o.id: tuple(o.items) for o in outcomes if not o.is_column},
                          pii=PII_COLUMNS)

"""Lee (2009) bounds on a treatment effect under differential attrition.

When more children answer the endline in one arm than in the other, the respondents of
the two arms are no longer comparable groups, and complete-case estimates can be
biased in either direction. Lee (2009) bounds the effect for the children who would
answer whichever arm they were in (the "always-observed") under two assumptions:
random assignment, and **monotonicity** (the program can only make a child more
likely to answer, or only less likely, never both). The arm with the higher response
rate ``q_high`` contains ``p = (q_high - q_low) / q_high`` of respondents who would not
have answered in the other arm. Trimming that share from the top of its outcome
distribution gives the lower bound of the difference in means, trimming it from the
bottom the upper bound.

Conventions of this module (those of Tauchmann's Stata ``leebounds``, 2014):

* **Ties at the trimming quantile.** The trimmed mean keeps exactly the share
  ``1 - p`` of the respondents of the trimmed arm: every respondent strictly inside
  the kept part with weight 1 and the respondent(s) at the cutoff with the fractional
  weight that makes the kept mass exactly ``(1 - p) n``. This is the trimmed mean of
  the empirical distribution, ``1/(1-p) \\int_0^{1-p} F^{-1}(u) du``; Lee's indicator
  form ``1[Y <= y_{1-p}]`` would keep every tied value at the cutoff and trim less
  than ``p`` when the outcome is a sum of Likert items (many ties). With no ties the
  two differ by the fractional weight of one child.
* **Standard errors** (``se_method = "analytic"``): Lee (2009, Proposition 3),
  ``V_LB = s2_trim / k + (y_q - mu_LB)^2 p / ((1 - p) n_hs) + ((y_q - mu_LB) / (1 - p))^2 V_p
  + s2_low / n_ls`` with ``k = (1 - p) n_hs`` the kept mass, ``y_q`` the trimming
  quantile (the cutoff value), ``s2_trim`` the (weighted, divisor ``k``) variance of
  the kept respondents, ``V_p = (1 - p)^2 [(1 - q_h)/(q_h n_h) + (1 - q_l)/(q_l n_l)]``
  the variance of the estimated trimming share, ``s2_low`` the sample variance
  (divisor ``n - 1``) of the untrimmed arm's respondents, ``n_h, n_l`` children
  randomized and ``n_hs, n_ls`` respondents in the high- and low-response arms. The
  second term is the trimming-quantile term, the third the term of the estimated ``p``.
  These SEs assume independent children.
* **Imbens & Manski (2004) CI** for the effect (not for the identified set):
  ``[lower - c se_lower, upper + c se_upper]`` with ``c`` solving
  ``Phi(c + (upper - lower) / max(se_lower, se_upper)) - Phi(-c) = 1 - alpha``
  (Lee 2009, eq. in section 4.3). ``c`` lies between the one-sided and the two-sided
  normal quantile. With ``df`` (clustered designs: by default the number of clusters
  of the two arms minus 2; the page passes the primary CR2 model's Bell-McCaffrey df)
  ``Phi`` is replaced by the t distribution with ``df`` degrees of freedom: with 10
  schools per arm a normal critical value on a cluster-bootstrap SE would be too small,
  as a normal-based CR2 interval would be. Without clusters the normal value (Lee's)
  stays the default (the R fixture compares it).
* **Cluster-randomized designs.** Lee's SEs are for independent observations; with
  whole schools randomized, attrition and outcomes are correlated within a school and
  the analytic SE is too small. With ``cluster=`` the SEs (and so the IM CI) come from
  a seeded **cluster bootstrap** stratified by arm (whole clusters resampled within
  each arm, the bounds recomputed on each replicate; ``se_method =
  "cluster_bootstrap"``). We chose the bootstrap over stating "SE ignores clustering"
  because the sensitivity page sits next to a primary model with CR2 SEs; an interval
  that ignores the design would look more precise than the primary one for the wrong
  reason. With fewer than about 10 clusters per arm the bootstrap is itself unreliable
  (the result says how many clusters there were: ``n_clusters``).
* **Tightened bounds** (``covariate=``, a discrete baseline covariate such as gender or
  a baseline-score tercile; Lee 2009, section 3.3): the trimming share ``p_x`` and the
  trimmed means are computed within each cell ``x`` and averaged with the weights
  ``Pr(X = x | low-response arm, responded)``: the cell shares of the respondents of the
  **untrimmed** arm, who under monotonicity are all always-observed (this is Lee's
  weighting and the Stata command's; the cell shares of the trimmed arm's respondents
  after trimming estimate the same population shares). A cell where the direction of
  differential response is reversed gets ``p_x = 0`` (monotonicity is assumed for every
  child; ``n_cells_reversed`` counts them). Their SEs come from the bootstrap
  (i.i.d. within arm, or by cluster): Lee gives no closed form with estimated cell
  weights.
* In a bootstrap replicate the trimmed arm stays the one of the full sample (the
  monotonicity direction is an assumption, not re-estimated); a replicate whose
  trimming share falls below 0 uses 0.

References
----------
Lee, D. S. (2009). Training, wages, and sample selection: Estimating sharp bounds on
treatment effects. *Review of Economic Studies*, 76(3), 1071-1102.
Imbens, G. W., & Manski, C. F. (2004). Confidence intervals for partially identified
parameters. *Econometrica*, 72(6), 1845-1857.
Tauchmann, H. (2014). Lee (2009) treatment-effect bounds for nonrandom sample
selection. *Stata Journal*, 14(4), 884-894.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["COLUMNS", "imbens_manski_critical", "lee_bounds"]

COLUMNS = [
    "outcome", "arm", "control", "bounds", "covariate", "lower", "upper", "se_lower", "se_upper",
    "ci_low", "ci_high", "im_critical", "im_df", "trimmed_arm", "trim_share", "response_arm",
    "response_control", "n_arm", "n_control", "n_resp_arm", "n_resp_control", "n_cells",
    "n_cells_reversed", "se_method", "n_boot", "n_clusters",
]
"""Columns of :func:`lee_bounds`, in order (one row per arm x bounds type):

``outcome``; ``arm``, ``control`` (the contrast arm - control); ``bounds`` (``basic`` or
``tightened``); ``covariate`` (the cell variable of tightened bounds, else NaN);
``lower``, ``upper`` (bounds on the difference in means arm - control among the
always-observed); ``se_lower``, ``se_upper``; ``ci_low``, ``ci_high`` (the Imbens-Manski
CI for the effect at level 1 - alpha); ``im_critical`` (its critical value ``c``);
``im_df`` (the df of the t distribution ``c`` comes from; NaN for the normal);
``trimmed_arm`` (the arm with the higher response rate, whose respondents were
trimmed); ``trim_share`` (``p``, overall); ``response_arm``, ``response_control``
(response rates); ``n_arm``, ``n_control`` (children); ``n_resp_arm``, ``n_resp_control``
(respondents); ``n_cells``, ``n_cells_reversed`` (tightened bounds; 1 and 0 for basic);
``se_method`` (``analytic``, ``bootstrap`` or ``cluster_bootstrap``); ``n_boot``
(replicates used, 0 for analytic); ``n_clusters`` (clusters of the two arms, NaN
without clusters)."""


def imbens_manski_critical(width: float, se_lower: float, se_upper: float,
                           alpha: float = 0.05, df: float | None = None) -> float:
    """The Imbens-Manski (2004) critical value ``c`` for bounds of width ``width``.

    Solves ``F(c + width / max(se_lower, se_upper)) - F(-c) = 1 - alpha`` with ``F`` the
    standard normal cdf, or with ``df`` the cdf of the t distribution with ``df`` degrees
    of freedom. For a width of 0 it is the two-sided quantile, for a wide set the
    one-sided one.

    Examples
    --------
    >>> from analysis.lee_bounds import imbens_manski_critical
    >>> round(imbens_manski_critical(0.0, 1.0, 1.0), 4)
    1.96
    >>> round(imbens_manski_critical(100.0, 1.0, 1.0), 4)
    1.6449
    >>> round(imbens_manski_critical(0.0, 1.0, 1.0, df=18), 4)  # qt(0.975, 18)
    2.1009
    """
    s = max(float(se_lower), float(se_upper))
    if not np.isfinite(s) or s <= 0:
        return np.nan
    r = max(float(width), 0.0) / s
    dist = stats.norm if df is None or not np.isfinite(df) else stats.t(float(df))
    if df is not None and np.isfinite(df) and df <= 0:
        raise ValueError(f"df must be positive, got {df}")

    def f(c):
        return dist.cdf(c + r) - dist.cdf(-c) - (1 - alpha)

    lo, hi = dist.ppf(1 - alpha) - 1e-9, dist.ppf(1 - alpha / 2) + 1e-9
    return float(optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=200))


# -------------------------------------------------------------------------- trimming
def _kept(c: np.ndarray, p: np.ndarray, *, from_top: bool) -> np.ndarray:
    """Kept weight of each sorted respondent (ascending y): the share 1 - p of the mass
    ``c`` (B x m), cut from the top (``from_top``: keep the lowest) or from the bottom."""
    K = (1.0 - p)[:, None] * c.sum(axis=1, keepdims=True)
    if from_top:
        before = np.cumsum(c, axis=1) - c
    else:
        before = np.cumsum(c[:, ::-1], axis=1)[:, ::-1] - c
    return np.clip(K - before, 0.0, c)


def _trimmed(y: np.ndarray, c: np.ndarray, p: np.ndarray, *, from_top: bool) -> np.ndarray:
    k = _kept(c, p, from_top=from_top)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (k * y).sum(axis=1) / k.sum(axis=1)


def _trim_moments(y: np.ndarray, p: float, *, from_top: bool) -> tuple[float, float, float, float]:
    """(mean, variance with divisor k, cutoff y_q, kept mass k) of one sorted sample."""
    k = _kept(np.ones((1, len(y))), np.array([p]), from_top=from_top)[0]
    mass = k.sum()
    mu = float((k * y).sum() / mass)
    var = float((k * (y - mu) ** 2).sum() / mass)
    pos = np.flatnonzero(k > 1e-12)
    yq = float(y[pos[-1]] if from_top else y[pos[0]])
    return mu, var, yq, float(mass)


def _lee_var(y_h: np.ndarray, y_l: np.ndarray, p: float, q_h: float, q_l: float,
             n_h: int, n_l: int, *, from_top: bool) -> float:
    """Lee (2009, Proposition 3) variance of one bound (trimmed mean minus the other mean)."""
    mu, s2, yq, k = _trim_moments(y_h, p, from_top=from_top)
    n_hs = len(y_h)
    vp = (1 - p) ** 2 * ((1 - q_h) / (q_h * n_h) + (1 - q_l) / (q_l * n_l))
    v = s2 / k + (yq - mu) ** 2 * p / ((1 - p) * n_hs) + ((yq - mu) / (1 - p)) ** 2 * vp
    return v + float(np.var(y_l, ddof=1)) / len(y_l)


# -------------------------------------------------------------------------- estimator
class _Pair:
    """The children of one arm and the control, sorted for trimming, with the
    vectorized bounds for any matrix of frequency weights (B x n)."""

    def __init__(self, y, treated, cells):
        self.n = len(y)
        self.resp = np.isfinite(y)
        # sort: by arm, cell, response, outcome, so every (arm, cell) block of respondents
        # is contiguous and ascending
        yy = np.where(self.resp, y, np.inf)
        order = np.lexsort((yy, ~self.resp, cells, treated))
        self.order = order
        self.y = np.where(self.resp, y, 0.0)[order]
        self.resp = self.resp[order]
        self.treated = treated[order]
        self.cells = cells[order]
        self.cell_labels = np.unique(cells)

    def _block(self, arm: bool, cell=None, respondents=True) -> np.ndarray:
        m = self.treated == arm
        if cell is not None:
            m &= self.cells == cell
        if respondents:
            m &= self.resp
        return np.flatnonzero(m)

    def _rates(self, C, arm: bool, cell=None):
        """Response rate and responding mass over the rows of C, and the columns of C of
        the respondents (``C[:, self._block(arm, cell)]``, taken once for every use)."""
        all_ = self._block(arm, cell, respondents=False)
        Ca = C[:, all_]
        tot = Ca.sum(axis=1)
        Cr = Ca[:, self.resp[all_]]
        r = Cr.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return r / tot, r, Cr

    def rates(self, C, arm: bool, cell=None):
        q, r, _ = self._rates(C, arm, cell)
        return q, r

    def bounds(self, C, high: bool, *, tightened: bool):
        """(lower, upper, p) arrays over the rows of C; ``high``: the trimmed arm."""
        q_h, _, C_h = self._rates(C, high)
        q_l, r_l, C_l = self._rates(C, not high)
        p_all = np.clip((q_h - q_l) / q_h, 0.0, None)
        il = self._block(not high)
        mean_l = (C_l * self.y[il]).sum(axis=1) / r_l
        if not tightened:
            ih = self._block(high)
            lo = _trimmed(self.y[ih], C_h, p_all, from_top=True)
            hi = _trimmed(self.y[ih], C_h, p_all, from_top=False)
        else:
            lo = np.zeros(C.shape[0])
            hi = np.zeros(C.shape[0])
            wsum = np.zeros(C.shape[0])
            for x in self.cell_labels:
                qh, _, C_hx = self._rates(C, high, x)
                ql, w, _ = self._rates(C, not high, x)
                px = np.clip(np.nan_to_num((qh - ql) / qh, nan=0.0), 0.0, None)
                ih = self._block(high, x)
                use = w > 0
                if not use.any():
                    continue
                lo_x = _trimmed(self.y[ih], C_hx, px, from_top=True)
                hi_x = _trimmed(self.y[ih], C_hx, px, from_top=False)
                lo += np.where(use, w * np.nan_to_num(lo_x), 0.0)
                hi += np.where(use, w * np.nan_to_num(hi_x), 0.0)
                bad = use & ~np.isfinite(lo_x)
                lo[bad] = np.nan
                hi[bad] = np.nan
                wsum += w
            lo, hi = lo / wsum, hi / wsum
        if high:  # trimmed the arm: the bounds of its mean, minus the control mean
            return lo - mean_l, hi - mean_l, p_all
        return mean_l - hi, mean_l - lo, p_all  # trimmed the control


def _counts(pair: _Pair, clusters, n_boot: int, rng) -> np.ndarray:
    """Bootstrap frequency weights (n_boot x n): units resampled within each arm; a unit
    is a child, or (with clusters) a cluster of the arm."""
    C = np.zeros((n_boot, pair.n))
    for arm in (True, False):
        idx = np.flatnonzero(pair.treated == arm)
        if clusters is None:
            C[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1 / len(idx)), size=n_boot)
        else:
            labs, codes = np.unique(clusters[idx], return_inverse=True)
            J = len(labs)
            cc = rng.multinomial(J, np.full(J, 1 / J), size=n_boot)
            C[:, idx] = cc[:, codes]
    return C


def _one_pair(y, treated, *, cells, clusters, tightened, alpha, n_boot, seed, df=None):
    pair = _Pair(y, treated, cells)
    ones = np.ones((1, pair.n))
    q_t, r_t = pair.rates(ones, True)
    q_c, r_c = pair.rates(ones, False)
    q_t, q_c, r_t, r_c = float(q_t[0]), float(q_c[0]), int(r_t[0]), int(r_c[0])
    if r_t < 2 or r_c < 2:
        raise ValueError("Lee bounds need at least 2 respondents in each arm "
                         f"(arm: {r_t}, control: {r_c})")
    high = q_t >= q_c
    lo, hi, p = pair.bounds(ones, high, tightened=tightened)
    lo, hi, p = float(lo[0]), float(hi[0]), float(p[0])
    n_t, n_c = int((pair.treated).sum()), int((~pair.treated).sum())
    reversed_ = 0
    if tightened:
        for x in pair.cell_labels:
            qh, _ = pair.rates(ones, high, x)
            ql, _ = pair.rates(ones, not high, x)
            nh = len(pair._block(high, x))
            nl = len(pair._block(not high, x))
            if nl > 0 and nh == 0:
                raise ValueError(f"covariate cell {x!r}: respondents in the lower-response arm "
                                 "but none in the trimmed arm; tightened bounds need both "
                                 "(merge small cells)")
            if np.isfinite(qh[0]) and np.isfinite(ql[0]) and qh[0] < ql[0]:
                reversed_ += 1
    if clusters is None and not tightened:
        ih, il = pair._block(high), pair._block(not high)
        y_h, y_l = pair.y[ih], pair.y[il]
        q_h, q_l = (q_t, q_c) if high else (q_c, q_t)
        n_h, n_l = (n_t, n_c) if high else (n_c, n_t)
        v_top = _lee_var(y_h, y_l, p, q_h, q_l, n_h, n_l, from_top=True)
        v_bot = _lee_var(y_h, y_l, p, q_h, q_l, n_h, n_l, from_top=False)
        # trimming the arm from the top gives its lower bound; trimming the control from the
        # top gives the upper bound of the difference
        se_lo, se_hi = (np.sqrt(v_top), np.sqrt(v_bot)) if high else (np.sqrt(v_bot), np.sqrt(v_top))
        method, used = "analytic", 0
    else:
        rng = np.random.default_rng(seed)
        cl = None if clusters is None else clusters[pair.order]
        C = _counts(pair, cl, n_boot, rng)
        blo, bhi, _ = pair.bounds(C, high, tightened=tightened)
        ok = np.isfinite(blo) & np.isfinite(bhi)
        used = int(ok.sum())
        se_lo = float(np.std(blo[ok], ddof=1)) if used > 1 else np.nan
        se_hi = float(np.std(bhi[ok], ddof=1)) if used > 1 else np.nan
        method = "bootstrap" if clusters is None else "cluster_bootstrap"
    n_cl = np.nan if clusters is None else int(pd.Series(clusters).nunique())
    if isinstance(df, str) and df == "clusters":  # clusters of the two arms minus 2
        df = float(n_cl - 2) if np.isfinite(n_cl) and n_cl > 2 else None
    df = None if df is None or not np.isfinite(float(df)) else float(df)
    c = imbens_manski_critical(hi - lo, se_lo, se_hi, alpha, df=df)
    return {
        "lower": lo, "upper": hi, "se_lower": float(se_lo), "se_upper": float(se_hi),
        "ci_low": lo - c * se_lo, "ci_high": hi + c * se_hi, "im_critical": c,
        "im_df": np.nan if df is None else df,
        "trimmed_arm": None if not high else "arm", "trim_share": p,
        "response_arm": q_t, "response_control": q_c, "n_arm": n_t, "n_control": n_c,
        "n_resp_arm": r_t, "n_resp_control": r_c,
        "n_cells": len(pair.cell_labels), "n_cells_reversed": reversed_,
        "se_method": method, "n_boot": used, "n_clusters": n_cl,
    }


def lee_bounds(
    data: pd.DataFrame,
    outcome: str,
    *,
    arm: str,
    control,
    treatments=None,
    covariate: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    n_boot: int = 999,
    seed: int = 0,
    label: str | None = None,
    df=None,
) -> pd.DataFrame:
    """Lee (2009) bounds of the effect on one outcome, with the Imbens-Manski CI.

    Parameters
    ----------
    data : DataFrame
        One row per child randomized (or enrolled): the arm, the outcome at the last
        wave (NaN for a child who did not answer: attrition or a missing scale score)
        and, as needed, the covariate and cluster columns. Build it from the long
        scored data with :func:`analysis.missingness.response_panel`.
    outcome : str
        Outcome column.
    arm : str
        Arm column.
    control
        Label of the control arm.
    treatments : sequence, optional
        Arms compared with the control, each on its own (default: every other arm).
    covariate : str, optional
        A discrete baseline covariate; adds a ``tightened`` row per arm (see the
        module docstring). Rows with a missing covariate are left out of that row.
        Baseline-score terciles: ``panel.assign(tercile=pd.qcut(panel["_y0"], 3,
        labels=False))``. Keep cells large (a cell needs respondents in both arms).
    cluster : str, optional
        Outermost cluster (the unit of randomization): SEs by cluster bootstrap.
    alpha : float
        The CI has level 1 - alpha.
    n_boot : int
        Bootstrap replicates (tightened bounds, or ``cluster``).
    seed : int
        Seed of the bootstrap (the run's seed); the result is reproducible.
    label : str, optional
        Written in the ``outcome`` column (default: ``outcome``), e.g. the outcome id
        when ``outcome`` is the ``_y`` column of a response panel.
    df : float, mapping, "clusters" or None
        Degrees of freedom of the t critical value of the Imbens-Manski CI: a number, a
        mapping arm -> number (each contrast its own, e.g. the primary model's
        Bell-McCaffrey df), ``"clusters"`` (the clusters of the two arms minus 2) or
        ``None``. Default: ``"clusters"`` with ``cluster``, else ``None`` (the normal
        critical value of Lee 2009 and Imbens-Manski 2004).

    Returns
    -------
    DataFrame
        One row per arm x bounds type, with the columns :data:`COLUMNS` (documented
        there). ``trimmed_arm`` is the label of the trimmed arm.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.lee_bounds import lee_bounds
    >>> rng = np.random.default_rng(1)
    >>> arm = np.repeat(["t", "c"], 200)
    >>> y = rng.normal(size=400) + 0.3 * (arm == "t")
    >>> y[(arm == "c") & (rng.random(400) < 0.2)] = np.nan   # 20% attrition in control
    >>> y[(arm == "t") & (rng.random(400) < 0.05)] = np.nan  # 5% in the program arm
    >>> res = lee_bounds(pd.DataFrame({"arm": arm, "y": y}), "y", arm="arm", control="c")
    >>> r = res.iloc[0]
    >>> bool(r["lower"] < r["upper"]), r["trimmed_arm"], r["se_method"]
    (True, 't', 'analytic')
    >>> bool(r["ci_low"] < r["lower"] and r["ci_high"] > r["upper"])
    True
    """
    for c in [outcome, arm, covariate, cluster]:
        if c is not None and c not in data.columns:
            raise ValueError(f"column {c!r} not in data (columns: {list(data.columns)})")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    labels = data[arm].astype(str)
    control = str(control)
    values = set(labels.unique())
    if control not in values:
        raise ValueError(f"control arm {control!r} not in column {arm!r} "
                         f"(values: {sorted(values)})")
    arms = [str(a) for a in (treatments if treatments is not None
                             else sorted(values - {control}))]
    y_all = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float)
    if cluster is not None and data[cluster].isna().any():
        raise ValueError(f"column {cluster!r} has missing values: every child needs a cluster")
    if df is None and cluster is not None:
        df = "clusters"
    rows = []
    for a in arms:
        df_a = df.get(a, "clusters" if cluster is not None else None) if isinstance(df, dict) else df
        m = (labels == a) | (labels == control)
        if not (labels == a).any():
            raise ValueError(f"arm {a!r} not in column {arm!r}")
        sub = data[m.to_numpy()]
        y = y_all[m.to_numpy()]
        treated = (labels[m] == a).to_numpy()
        cl = None if cluster is None else sub[cluster].astype(str).to_numpy()
        kinds = [("basic", None)] + ([("tightened", covariate)] if covariate else [])
        for kind, cov in kinds:
            if cov is None:
                keep = np.ones(len(y), dtype=bool)
                cells = np.zeros(len(y), dtype=int)
            else:
                keep = sub[cov].notna().to_numpy()
                _, cells = np.unique(sub[cov][keep].astype(str).to_numpy(), return_inverse=True)
            r = _one_pair(y[keep], treated[keep], cells=cells,
                          clusters=None if cl is None else cl[keep],
                          tightened=cov is not None, alpha=alpha, n_boot=n_boot, seed=seed,
                          df=df_a)
            r["trimmed_arm"] = a if r["trimmed_arm"] == "arm" else control
            rows.append({"outcome": outcome if label is None else label, "arm": a, "control": control, "bounds": kind,
                         "covariate": cov if cov is not None else np.nan, **r})
    return pd.DataFrame(rows, columns=COLUMNS)

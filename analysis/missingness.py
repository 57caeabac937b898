"""What is missing, and what predicts it: the missingness summary of a run (issue 15, item 1).

Three pieces, each a tidy DataFrame:

* :func:`missing_summary` -- missing waves, scale scores and items, overall, by arm
  and by outermost cluster (counts and shares; small cells are suppressed by the page,
  as every table of a run).
* :func:`response_model` -- a logistic regression of answering the endline (a
  non-missing outcome at the last wave) on arm, the baseline outcome and the
  covariates. With clusters, the SEs are CR2 at the outermost cluster level with
  Bell-McCaffrey/Satterthwaite df, as ``clubSandwich::coef_test(glm(...), vcov =
  "CR2", test = "Satterthwaite")``. For a GLM clubSandwich uses the model matrix
  ``d X`` (``d = dmu/deta``), weights ``1/v`` and target variance ``v = mu (1 - mu)``
  with response residuals; its CR2 adjustment ``A_j = D_j (D_j Psi_jj D_j)^{-1/2} D_j``
  (``D_j = diag(sqrt(v_j))``, ``Psi`` the working covariance of the residuals) is one of
  several that are unbiased under the working model, and NOT the unweighted CR2 of the
  IRLS-transformed regression (that one differs by ~0.1% in SE). It is written out
  in :func:`_glm_cr2` (the shared :mod:`analysis.cluster_robust` is for linear models)
  and checked against clubSandwich in tests/fixtures/r/mcar.R: estimates, SEs, df and
  the HTZ Wald test of the arm x baseline terms agree to 1e-10. Without clusters the SEs
  are the model-based ones of ``summary(glm(...))`` with normal (z) tests.
* :func:`little_mcar_test` -- Little's (1988) chi-square test of "missing completely at
  random" for multivariate normal data, with EM estimates of the mean and covariance
  (EM written here; checked against a by-hand EM in base R, statistic to 1e-6 relative:
  both stop when no estimate moves by more than 1e-12 of the largest covariance, and
  the two statistics agree to ~1e-14).
  It can only REJECT MCAR: a small p-value says that the children with missing values
  differ, in the observed variables, from those without; a large p-value does not show
  MCAR (the test has little power with few children or few patterns), and no test on
  the observed data can tell MAR from MNAR (missingness that depends on the unobserved
  value itself). :data:`MCAR_CAVEAT` says so in both languages; the result carries it.

:func:`response_panel` builds the one-row-per-child frame (``_y0``, ``_y``,
``responded``) that the response model, :mod:`analysis.lee_bounds` and
:mod:`analysis.ipw` share.

References
----------
Little, R. J. A. (1988). A test of missing completely at random for multivariate data
with missing values. *Journal of the American Statistical Association*, 83(404),
1198-1202.
Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
variance estimation and hypothesis testing in fixed effects models. *Journal of
Business & Economic Statistics*, 36(4), 672-683.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cluster_robust import independent_columns

__all__ = [
    "MCAR_CAVEAT",
    "SUMMARY_COLUMNS",
    "fit_dropping_separation",
    "little_mcar_test",
    "missing_summary",
    "outcome_wide",
    "response_model",
    "response_panel",
]

MCAR_CAVEAT = {
    "en": ("Little's test can only reject 'missing completely at random': a small p-value means "
           "that the children with missing answers differ in what was observed. A large p-value "
           "does not show that data are missing at random (the test has little power), and no "
           "test can tell whether missingness depends on the unobserved answers themselves."),
    "zh": ("Little 检验只能拒绝“完全随机缺失”：p 值小，说明有缺失的儿童在已观测到的变量上与其他儿童不同。"
           "p 值大并不能证明数据是随机缺失的（该检验的检验力较低），而且任何检验都无法判断缺失是否取决于"
           "未观测到的答案本身。"),
}
"""What Little's MCAR test can and cannot show, ``{"en": ..., "zh": ...}``."""

SUMMARY_COLUMNS = ["kind", "wave", "variable", "level", "group", "n", "n_missing", "share_missing"]
"""Columns of :func:`missing_summary`:

``kind`` (``wave``: a child without any row at the wave; ``scale``: a scale score
missing in a row that is there; ``item``: an item missing in a row that is there);
``wave``; ``variable`` (the score or item column; NaN for ``wave`` rows); ``level``
(``overall``, ``arm`` or ``cluster``) and ``group`` (the arm or cluster label; NaN for
``overall``); ``n`` (children for ``wave`` rows, rows present for the others);
``n_missing``; ``share_missing`` (``n_missing / n``)."""


# -------------------------------------------------------------------------- the panel
def response_panel(data: pd.DataFrame, outcome: str, design) -> pd.DataFrame:
    """One row per child: design columns, ``_y0`` (baseline outcome), ``_y`` (endline
    outcome) and ``responded`` (the endline outcome is there).

    The children are those with a row at the baseline or the endline wave. Design
    columns (arm, clusters, blocks) come from the endline row, else the baseline row;
    covariates from the baseline row, else the endline row (as in
    :func:`analysis.effects.estimate_effects`). A child whose endline row lacks the
    outcome (a scale score missing because too few items were answered) has not
    responded for this outcome. Children without an arm or cluster are dropped.

    Parameters
    ----------
    data : DataFrame
        Long scored data (one row per child and wave), as ``RUN/data/scores.parquet``.
    outcome : str
        Score column.
    design : core.design.Design

    Returns
    -------
    DataFrame
        ``<design.id>``, the arm, cluster, block and covariate columns, ``_y0`` (NaN
        without a baseline score; absent for a single-wave design), ``_y`` and
        ``responded`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> from analysis.missingness import response_panel
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", waves=("t0", "t1"))
    >>> long = pd.DataFrame({"id": [1, 2, 1], "wave": ["t0", "t0", "t1"],
    ...                      "arm": ["c", "p", "c"], "y": [3.0, 4.0, 5.0]})
    >>> response_panel(long, "y", d)[["id", "_y0", "_y", "responded"]].values.tolist()
    [[1, 3.0, 5.0, True], [2, 4.0, nan, False]]
    """
    need = [c for c in (*design.structure, *design.covariates, outcome) if c not in data.columns]
    if need:
        raise ValueError(f"columns not in data: {need} (columns: {list(data.columns)})")
    w = data[design.wave].astype(str)
    waves = set(w.unique())
    if design.endline not in waves:
        raise ValueError(f"endline wave {design.endline!r} not in column {design.wave!r} "
                         f"(waves: {sorted(waves)})")
    end = data[w == design.endline]
    if end[design.id].duplicated().any():
        dup = end.loc[end[design.id].duplicated(), design.id].iloc[0]
        raise ValueError(f"child {dup} has two rows at the endline wave {design.endline!r}")
    end = end.set_index(design.id)
    has_base = design.has_baseline and design.baseline != design.endline
    base = (data[w == design.baseline].drop_duplicates(design.id).set_index(design.id)
            if has_base else end.iloc[:0])
    ids = pd.Index(pd.unique(pd.concat([base.index.to_series(), end.index.to_series()])))
    e, b = end.reindex(ids), base.reindex(ids)
    out = pd.DataFrame({design.id: ids.to_numpy()})
    for c in dict.fromkeys((design.arm, *design.clusters, design.blocks)):
        if c:
            out[c] = e[c].where(e[c].notna(), b[c]).to_numpy()
    for c in design.covariates:
        out[c] = b[c].where(b[c].notna(), e[c]).to_numpy() if has_base else e[c].to_numpy()
    if has_base:
        out["_y0"] = pd.to_numeric(b[outcome], errors="coerce").to_numpy(dtype=float)
    out["_y"] = pd.to_numeric(e[outcome], errors="coerce").to_numpy(dtype=float)
    out["responded"] = np.isfinite(out["_y"].to_numpy())
    keep = out[[c for c in (design.arm, *design.clusters) if c]].notna().all(axis=1)
    return out[keep.to_numpy()].reset_index(drop=True)


def outcome_wide(data: pd.DataFrame, outcomes: Sequence[str], design) -> pd.DataFrame:
    """The outcomes of every wave side by side, one row per child: ``<outcome>@<wave>``.

    The frame for :func:`little_mcar_test` (a child absent at a wave has NaN there).

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> from analysis.missingness import outcome_wide
    >>> d = Design(type="pre_post", id="id", waves=("t0", "t1"))
    >>> long = pd.DataFrame({"id": [1, 2, 1], "wave": ["t0", "t0", "t1"], "y": [3.0, 4.0, 5.0]})
    >>> outcome_wide(long, ["y"], d).columns.tolist()
    ['y@t0', 'y@t1']
    """
    w = data[design.wave].astype(str)
    parts = []
    for wave in design.waves:
        rows = data[w == str(wave)].drop_duplicates(design.id).set_index(design.id)
        parts.append(rows[list(outcomes)].apply(pd.to_numeric, errors="coerce")
                     .rename(columns=lambda c, wave=wave: f"{c}@{wave}"))
    wide = pd.concat(parts, axis=1)
    return wide[[f"{c}@{wave}" for wave in design.waves for c in outcomes]]


# -------------------------------------------------------------------------- summary
def _share_rows(kind, wave, flags: pd.DataFrame, groups: pd.DataFrame, design) -> list[pd.DataFrame]:
    """Overall / arm / cluster rows of the 0/1 missing columns of ``flags`` (one column per
    variable; ``groups`` holds the arm and cluster of each row)."""
    levels = [("overall", None)]
    if design.arm:
        levels.append(("arm", design.arm))
    if design.clusters:
        levels.append(("cluster", design.clusters[0]))
    out = []
    names = [str(c) for c in flags.columns]
    f = flags.to_numpy(dtype=float)  # rows x variables, 1 = missing
    v = f.shape[1]
    for level, col in levels:
        if col is None:
            labels, counts, sums = np.array([np.nan], dtype=object), np.array([len(f)]), f.sum(0)[None]
        else:
            key = groups[col].to_numpy()
            ok = pd.notna(key)
            labels, codes = np.unique(key[ok].astype(str), return_inverse=True)
            onehot = np.zeros((len(labels), int(ok.sum())))
            onehot[codes, np.arange(len(codes))] = 1.0
            counts, sums = onehot.sum(1), onehot @ f[ok]
        # rows: variable-major, then group (sorted)
        out.append(pd.DataFrame({
            "kind": kind, "wave": wave, "variable": np.repeat(names, len(labels)),
            "level": level, "group": np.tile(labels, v), "n": np.tile(counts, v),
            "n_missing": sums.T.ravel()}))
    return out


def _tidy(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    t = pd.concat(parts, ignore_index=True)
    t["n"] = t["n"].astype(int)
    t["n_missing"] = t["n_missing"].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["share_missing"] = np.where(t["n"] > 0, t["n_missing"] / t["n"].where(t["n"] > 0, 1), np.nan)
    return t[SUMMARY_COLUMNS]


def missing_summary(scores: pd.DataFrame, design, *, outcomes: Sequence[str] = (),
                    items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Missing waves, scale scores and items, overall, by arm and by outermost cluster.

    Parameters
    ----------
    scores : DataFrame
        Long scored data (``RUN/data/scores.parquet``): one row per child and wave.
    design : core.design.Design
    outcomes : sequence of str
        Score columns whose missing values are counted (``kind = "scale"``).
    items : DataFrame, optional
        Item-level data (``RUN/data/items.parquet``: the design's structure columns and
        one column per item, one row per child and wave); every column that is not a
        structure column is an item (``kind = "item"``).

    Returns
    -------
    DataFrame
        The columns :data:`SUMMARY_COLUMNS`. A child's arm and cluster for ``wave``
        rows are taken from any of its rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> from analysis.missingness import missing_summary
    >>> d = Design(type="randomized", id="id", arm="arm", control="c", waves=("t0", "t1"))
    >>> s = pd.DataFrame({"id": [1, 2, 3, 1, 2], "wave": ["t0"] * 3 + ["t1"] * 2,
    ...                   "arm": ["c", "p", "p", "c", "p"], "y": [1, 2, 3, None, 5]})
    >>> t = missing_summary(s, d, outcomes=["y"])
    >>> t[(t.kind == "wave") & (t.level == "arm")][["wave", "group", "n", "n_missing"]].values.tolist()
    [['t0', 'c', 1, 0], ['t0', 'p', 2, 0], ['t1', 'c', 1, 0], ['t1', 'p', 2, 1]]
    >>> t[(t.kind == "scale") & (t.level == "overall")][["wave", "n", "n_missing"]].values.tolist()
    [['t0', 3, 0], ['t1', 2, 1]]
    """
    need = [c for c in (*design.structure, *outcomes) if c not in scores.columns]
    if need:
        raise ValueError(f"columns not in the scores: {need}")
    w = scores[design.wave].astype(str)
    group_cols = [c for c in (design.arm, design.clusters[0] if design.clusters else None) if c]
    children = scores.drop_duplicates(design.id).set_index(design.id)[group_cols]
    parts: list[pd.DataFrame] = []
    for wave in design.waves:
        present = set(scores.loc[w == str(wave), design.id])
        absent = pd.DataFrame({"_wave": ~children.index.isin(present)})
        wave_rows = _share_rows("wave", str(wave), absent, children.reset_index(drop=True), design)
        parts += [p.assign(variable=np.nan) for p in wave_rows]
        at = scores[w == str(wave)]
        if outcomes:
            flags = at[list(outcomes)].apply(pd.to_numeric, errors="coerce").isna()
            parts += _share_rows("scale", str(wave), flags, at[group_cols], design)
    if items is not None:
        miss = [c for c in design.structure if c not in items.columns]
        if miss:
            raise ValueError(f"columns not in the item data: {miss}")
        item_cols = [c for c in items.columns if c not in design.structure]
        wi = items[design.wave].astype(str)
        for wave in design.waves:
            at = items[wi == str(wave)]
            if item_cols:
                parts += _share_rows("item", str(wave), at[item_cols].isna(), at[group_cols], design)
    return _tidy(parts)


# -------------------------------------------------------------------------- response model
def _dummies(panel: pd.DataFrame, design, arms, covariates, interaction: bool):
    cols = {"(Intercept)": np.ones(len(panel))}
    for a in arms:
        cols[f"arm[{a}]"] = (panel[design.arm].astype(str) == a).to_numpy(float)
    if "_y0" in panel.columns:
        cols["baseline"] = panel["_y0"].to_numpy(float)
        if interaction:
            for a in arms:
                cols[f"arm[{a}]:baseline"] = cols[f"arm[{a}]"] * cols["baseline"]
    X = pd.DataFrame(cols)
    parts = [X]
    for c in covariates:
        s = panel[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            parts.append(pd.DataFrame({c: s.to_numpy(dtype=float)}))
        else:
            parts.append(pd.get_dummies(s.astype(str).where(s.notna()), prefix=c, prefix_sep="=",
                                        drop_first=True, dtype=float))
            parts[-1][s.isna().to_numpy()] = np.nan
    return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def _separation(X: pd.DataFrame, y: np.ndarray) -> str | None:
    """Name the 0/1 column (arm, covariate level) within which every child answered or
    none did: the logistic fit then has no finite estimate (complete separation)."""
    sep = _separating(X, y)
    if sep is None:
        return None
    who = sep["column"] if sep["value"] == 1.0 else f"{sep['column']} = 0"
    what = "answered" if sep["answered"] else "missed"
    return (f"every child with {who} ({sep['n']}) {what} the endline, so answering "
            "cannot be modelled on it: merge that level with another or leave the "
            "covariate out")


def _separating(X: pd.DataFrame, y: np.ndarray) -> dict | None:
    """The first 0/1 column (not the intercept) within which every child answered or none
    did: ``{"column", "value" (1.0 or 0.0), "n", "answered"}``, or None."""
    for c in X.columns:
        x = X[c].to_numpy()
        if c == "(Intercept)" or not np.isin(x, (0.0, 1.0)).all():
            continue
        for v in (1.0, 0.0):
            g = y[x == v]
            if len(g) and g.min() == g.max():
                return {"column": c, "value": v, "n": int(len(g)), "answered": bool(g[0] == 1)}
    return None


def _owner(column: str, covariates: Sequence[str]) -> str | None:
    """The covariate a design-matrix column comes from (``c`` or a dummy ``c=level``)."""
    for c in covariates:
        if column == c or column.startswith(f"{c}="):
            return c
    return None


def fit_dropping_separation(build, y: np.ndarray, covariates: Sequence[str]):
    """A logistic fit that leaves out the covariates it cannot be fitted with.

    ``build(covariates)`` returns the design matrix (DataFrame) with those covariates.
    When the fit separates (a covariate level in which every child answered, or none
    did: no finite estimate exists), the covariate of the separating column is left out
    and the model refitted; when it does not converge without a named column, the last
    remaining covariate is left out. Merging a level into another would be a choice of
    the analyst's; leaving the covariate out is the smallest change that keeps the model
    estimable, and the page says which covariate and why.

    Returns
    -------
    (X, beta, mu, dropped)
        ``dropped``: one dict per covariate left out: ``covariate``, ``column`` (the
        separating column, or None), ``level``, ``n`` (children at that level),
        ``answered`` (True: all answered; False: none did; None: no convergence).
        Raises ValueError when the model without any covariate cannot be fitted either.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> z = pd.Series(["a", "b", "c"] * 20)
    >>> y = np.tile([1.0, 0.0, 1.0, 0.0, 1.0, 1.0], 10)
    >>> y[z.eq("c").to_numpy()] = 1.0
    >>> def build(covs):
    ...     X = pd.DataFrame({"(Intercept)": 1.0}, index=z.index)
    ...     return X.join(pd.get_dummies(z, prefix="z", prefix_sep="=", drop_first=True,
    ...                                  dtype=float)) if covs else X
    >>> X, beta, mu, dropped = fit_dropping_separation(build, y, ["z"])
    >>> list(X.columns), dropped[0]["level"], dropped[0]["answered"]
    (['(Intercept)'], 'c', True)
    """
    covs = list(covariates)
    dropped: list[dict] = []
    while True:
        X = build(covs)
        sep = _separating(X, y)
        owner = _owner(sep["column"], covs) if sep else None
        if sep is not None and owner is None:  # an arm: not a covariate to leave out
            raise ValueError(_separation(X, y))
        if owner is None:
            try:
                beta, mu = _irls_logit(X.to_numpy(dtype=float), y)
                return X, beta, mu, dropped
            except ValueError:
                if not covs:
                    raise
                owner = covs[-1]
                sep = None
        col = sep["column"] if sep else None
        level = None
        if col is not None:
            if "=" in col:  # a dummy: its level, or (its 0 side) the other levels together
                level = col.split("=", 1)[1] if sep["value"] == 1.0 else None
            else:           # a 0/1 numeric covariate
                level = "1" if sep["value"] == 1.0 else "0"
        dropped.append({"covariate": owner, "column": col, "level": level,
                        "n": sep["n"] if sep else None,
                        "answered": sep["answered"] if sep else None})
        covs.remove(owner)


def _irls_logit(X, y: np.ndarray, tol: float = 1e-12, maxit: int = 100):
    """Logistic regression by IRLS (glm's algorithm), returning (beta, mu)."""
    if isinstance(X, pd.DataFrame):
        msg = _separation(X, y)
        if msg:
            raise ValueError(msg)
        X = X.to_numpy(dtype=float)
    beta = np.zeros(X.shape[1])
    mu = np.full(len(y), (y.sum() + 0.5) / (len(y) + 1))
    eta = np.log(mu / (1 - mu))
    dev_old = np.inf
    for _ in range(maxit):
        v = mu * (1 - mu)
        if not np.all(v > 0):  # probabilities of exactly 0 or 1: separation
            raise ValueError("fitted response probabilities of 0 or 1 (separation): drop or "
                             "merge the covariate levels in which every child answered or "
                             "none did")
        z = eta + (y - mu) / v
        sw = np.sqrt(v)
        beta = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta))
        dev = -2 * np.sum(y * np.log(np.clip(mu, 1e-300, 1)) + (1 - y) * np.log(np.clip(1 - mu, 1e-300, 1)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            break
        dev_old = dev
    else:
        raise ValueError("the response model did not converge (separation? an arm or a covariate "
                         "level in which every child answered or none did)")
    if np.any(mu < 1e-10) or np.any(mu > 1 - 1e-10):
        raise ValueError("fitted response probabilities of 0 or 1 (separation): drop or merge the "
                         "covariate levels in which every child answered or none did")
    return beta, mu


def _sym_inv_sqrt(a: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        vp = np.where(vals > 1e-12, vals ** -0.5, 0.0)  # clubSandwich's matrix_power
    return (vecs * vp) @ vecs.T


def _glm_cr2(X: pd.DataFrame, y, mu, beta, clusters, alpha, joint_terms):
    """CR2 covariance, Satterthwaite df and HTZ test of a logistic fit, as clubSandwich
    does for a ``glm``: model matrix ``d X`` (``d = dmu/deta = v``), weights ``1/v``,
    target ``v`` (inverse variance), response residuals ``y - mu``, and the adjustment
    ``A_j = D_j G_j^{-1/2} D_j`` with ``D_j = diag(sqrt(v_j))``, ``G_j = D_j Psi_jj D_j``,
    ``Psi = V - V X M X' V`` the working covariance of the residuals and ``M = (X'VX)^-1``.
    (Any ``A_j`` with ``A_j Psi_jj A_j = V_j`` is unbiased under the working model; this
    is clubSandwich's, so that the numbers are checkable.) Satterthwaite df for ``c'b``:
    ``(tr P)^2 / ||P||_F^2``, ``P_jk = g_j' Psi_jk g_k``, ``g_j = A_j X_j M c``."""
    Xa = X.to_numpy(dtype=float)
    n, p = Xa.shape
    v = mu * (1 - mu)
    e = y - mu
    M = np.linalg.inv(Xa.T @ (Xa * v[:, None]))
    labels, codes = np.unique(clusters, return_inverse=True)
    J = len(labels)
    AX = np.empty_like(Xa)      # rows: A_j X_j, cluster by cluster
    u = np.zeros((J, p))        # X_j' A_j e_j
    for j in range(J):
        idx = np.flatnonzero(codes == j)
        xj, vj = Xa[idx], v[idx]
        psi = np.diag(vj) - (vj[:, None] * xj) @ M @ (xj * vj[:, None]).T
        d = np.sqrt(vj)
        A = d[:, None] * _sym_inv_sqrt(d[:, None] * psi * d[None, :]) * d[None, :]
        AX[idx] = A @ xj
        u[j] = AX[idx].T @ e[idx]
    V = M @ (u.T @ u) @ M
    Gc = AX @ M                  # column i: the g vector of coefficient i (n)

    def P_of(C):                 # P[s, j, t, k] for the rows of C (q x p)
        g = Gc @ C.T             # n x q
        onehot = np.zeros((n, J))
        onehot[np.arange(n), codes] = 1.0
        Gm = g[:, :, None] * onehot[:, None, :]                    # n x q x J
        Gm = Gm.reshape(n, -1)
        PsiG = v[:, None] * Gm - (v[:, None] * Xa) @ (M @ ((Xa * v[:, None]).T @ Gm))
        return (Gm.T @ PsiG).reshape(C.shape[0], J, C.shape[0], J)

    df = np.empty(p)
    for i in range(p):
        P = P_of(np.eye(p)[[i]])[0, :, 0, :]
        df[i] = np.trace(P) ** 2 / np.sum(P * P)
    joint = None
    idx = [list(X.columns).index(c) for c in joint_terms]
    if idx:  # HTZ (Tipton & Pustejovsky 2015), as clubSandwich::Wald_test(test = "HTZ")
        C = np.eye(p)[idx]
        q = len(idx)
        b = beta[idx]
        Q = float(b @ np.linalg.solve(C @ V @ C.T, b))
        Omega = np.einsum("sjtj->st", P_of(C))
        B = P_of(_sym_inv_sqrt(Omega) @ C)
        var = np.empty((q, q))
        for s_ in range(q):
            for t_ in range(s_ + 1):
                var[s_, t_] = var[t_, s_] = (np.sum(B[s_, :, t_, :] * B[t_, :, s_, :])
                                             + np.sum(B[s_, :, s_, :] * B[t_, :, t_, :]))
        nu = q * (q + 1) / var.sum()
        delta = max((nu - q + 1) / nu, 0.0)
        df2 = nu - q + 1
        F = delta * Q / q
        joint = (F, df2, float(stats.f.sf(F, q, df2)) if df2 > 0 else np.nan)
    se = np.sqrt(np.diag(V))
    qt = stats.t.ppf(1 - alpha / 2, df)
    tval = beta / se
    tab = pd.DataFrame({"term": list(X.columns), "estimate": beta, "std_error": se, "t": tval,
                        "df": df, "p_value": 2 * stats.t.sf(np.abs(tval), df),
                        "ci_low": beta - qt * se, "ci_high": beta + qt * se})
    return tab, joint


def response_model(panel: pd.DataFrame, design, *, covariates: Sequence[str] | None = None,
                   interaction: bool = False, alpha: float = 0.05,
                   drop_separating: bool = False) -> pd.DataFrame:
    """Logistic regression of answering the endline on arm, baseline outcome and covariates.

    Parameters
    ----------
    panel : DataFrame
        :func:`response_panel` of one outcome.
    design : core.design.Design
        Arm, control, clusters (the outermost one is the clustering level) and, by
        default, the covariates.
    covariates : sequence of str, optional
        Default ``design.covariates``. Text covariates are dummy-coded (first level in
        sorted order is the reference). Children with a missing covariate or baseline
        are left out (``n`` says how many were used).
    interaction : bool
        Add arm x baseline terms (does the baseline score predict answering differently
        in the arms? that is what biases a complete-case comparison) and their joint
        test.
    alpha : float
    drop_separating : bool
        False (default): a covariate level or an arm in which every child answered (or
        none did) stops the fit with an error naming it (no finite estimate exists). True:
        the children of such an arm are left out of the model (with one arm left, or the
        control left out, there are no arm terms), and such a covariate is left out
        (:func:`fit_dropping_separation`); ``DataFrame.attrs["dropped"]`` lists what was
        left out (``covariate`` -- the arm column for an arm --, ``level``, ``n``,
        ``answered``).

    Returns
    -------
    DataFrame
        One row per term (``term``: ``(Intercept)``, ``arm[<arm>]``, ``baseline``,
        ``arm[<arm>]:baseline``, covariate columns) plus, with ``interaction``, one row
        ``term = "joint: arm x baseline"`` (CR2 HTZ Wald test, or a likelihood-free
        Wald chi-square without clusters, in ``statistic``/``df``/``p_value``). Columns:
        ``term, estimate`` (log-odds), ``std_error, statistic`` (t or z), ``df`` (Bell-
        McCaffrey with clusters; inf for z tests), ``p_value, ci_low, ci_high,
        odds_ratio, or_ci_low, or_ci_high, n, n_responded, n_clusters, vcov`` (``CR2``
        or ``model``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.missingness import response_model
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> p = pd.DataFrame({"arm": np.repeat(["c", "t"], n // 2), "_y0": rng.normal(size=n),
    ...                   "school": np.repeat(np.arange(20), n // 20)})
    >>> p["responded"] = rng.random(n) < 1 / (1 + np.exp(-(1.5 + 0.8 * p["_y0"])))
    >>> d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",))
    >>> res = response_model(p, d)
    >>> res["term"].tolist()
    ['(Intercept)', 'arm[t]', 'baseline']
    >>> bool(res.set_index("term").loc["baseline", "p_value"] < 0.05), res["vcov"].iloc[0]
    (True, 'CR2')
    """
    covariates = list(design.covariates if covariates is None else covariates)
    need = [c for c in (design.arm, "responded", *covariates, *design.clusters[:1])
            if c and c not in panel]
    if need:
        raise ValueError(f"columns not in the response panel: {need}")
    dropped: list[dict] = []
    arms = (sorted(set(panel[design.arm].astype(str).unique()) - {str(design.control)})
            if design.arm else [])  # a one-group design: answering on baseline and covariates
    if drop_separating and design.arm:
        a_ = panel[design.arm].astype(str)
        rate = panel["responded"].astype(float).groupby(a_).mean()
        flat = [str(k) for k, v in rate.items() if v in (0.0, 1.0)]
        if flat and len(flat) < len(rate):
            for k in flat:
                dropped.append({"covariate": design.arm, "column": None, "level": k,
                                "n": int((a_ == k).sum()), "answered": bool(rate[k] == 1.0)})
            panel = panel[~a_.isin(flat)]
            left = set(panel[design.arm].astype(str).unique())
            arms = ([] if str(design.control) in flat or len(left) < 2
                    else sorted(left - {str(design.control)}))
    full = _dummies(panel, design, arms, covariates, interaction)
    keep = full.notna().all(axis=1).to_numpy()
    sub = panel[keep].reset_index(drop=True)
    y = sub["responded"].to_numpy(dtype=float)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError("every child answered the endline, or none did: nothing to model")

    def build(covs):
        X = _dummies(sub, design, arms, covs, interaction)
        # constant dummies and collinear columns add nothing
        return X.iloc[:, independent_columns(X)]

    if drop_separating:
        X, beta, mu, more = fit_dropping_separation(build, y, covariates)
        dropped += more
    else:
        X = build(covariates)
        beta, mu = _irls_logit(X, y)
    Xt = X.mul(np.sqrt(mu * (1 - mu)), axis=0)
    inter = [c for c in X.columns if c.endswith(":baseline")]
    if design.clusters:
        g = sub[design.clusters[0]].astype(str).to_numpy()
        tab, joint = _glm_cr2(X, y, mu, beta, g, alpha, inter if interaction else [])
        vc, nclus = "CR2", int(pd.Series(g).nunique())
    else:
        M = np.linalg.inv(Xt.T.to_numpy() @ Xt.to_numpy())
        se = np.sqrt(np.diag(M))
        z = beta / se
        q = stats.norm.ppf(1 - alpha / 2)
        tab = pd.DataFrame({"term": list(X.columns), "estimate": beta, "std_error": se, "t": z,
                            "df": np.inf, "p_value": 2 * stats.norm.sf(np.abs(z)),
                            "ci_low": beta - q * se, "ci_high": beta + q * se})
        vc, nclus = "model", np.nan
        joint = None
        if interaction and inter:
            idx = [list(X.columns).index(c) for c in inter]
            b = beta[idx]
            W = float(b @ np.linalg.solve(M[np.ix_(idx, idx)], b))
            joint = (W, np.inf, float(stats.chi2.sf(W, len(idx))))
    out = tab.rename(columns={"t": "statistic"})
    out["odds_ratio"] = np.exp(out["estimate"])
    out["or_ci_low"] = np.exp(out["ci_low"])
    out["or_ci_high"] = np.exp(out["ci_high"])
    if joint is not None:
        out = pd.concat([out, pd.DataFrame([{
            "term": "joint: arm x baseline", "statistic": joint[0], "df": joint[1],
            "p_value": joint[2]}])], ignore_index=True)
    out["n"] = len(y)
    out["n_responded"] = int(y.sum())
    out["n_clusters"] = nclus
    out["vcov"] = vc
    out.attrs["dropped"] = dropped
    return out


# -------------------------------------------------------------------------- Little's test
def _em_mvn(Y: np.ndarray, tol: float = 1e-12, maxit: int = 10_000):
    """ML mean and covariance of multivariate normal data with missing values (EM)."""
    n, p = Y.shape
    obs = np.isfinite(Y)
    mu = np.nanmean(Y, axis=0)
    S = np.diag(np.nanvar(Y, axis=0))
    pats, inv = np.unique(obs, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    for _ in range(maxit):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for k, pat in enumerate(pats):
            rows = Y[inv == k]
            o, m = pat, ~pat
            Yk = np.where(np.isfinite(rows), rows, 0.0)
            C = np.zeros((p, p))
            if m.any():
                if o.any():
                    B = np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, m)])  # p_o x p_m
                    Yk[:, m] = mu[m] + (rows[:, o] - mu[o]) @ B
                    C[np.ix_(m, m)] = S[np.ix_(m, m)] - S[np.ix_(m, o)] @ B
                else:
                    Yk[:, m] = mu[m]
                    C[np.ix_(m, m)] = S[np.ix_(m, m)]
            T1 += Yk.sum(axis=0)
            T2 += Yk.T @ Yk + len(rows) * C
        mu_new = T1 / n
        S_new = T2 / n - np.outer(mu_new, mu_new)
        delta = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(S_new - S)))
        mu, S = mu_new, S_new
        if delta < tol * max(1.0, np.max(np.abs(S))):
            return mu, S, pats, inv
    raise ValueError("EM for Little's test did not converge")


def little_mcar_test(data: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Little's (1988) test of missing completely at random (multivariate normal data).

    ``d2 = sum_j n_j (ybar_j - mu_j)' S_j^{-1} (ybar_j - mu_j)`` over the missing-data
    patterns ``j``, with ``mu`` and ``S`` the EM (maximum likelihood) estimates from all
    rows and ``mu_j``, ``S_j`` their parts for the variables observed in pattern ``j``;
    chi-square with ``sum_j p_j - p`` df (as ``naniar::mcar_test``). Rows with no
    observed value are left out.

    What it shows (:data:`MCAR_CAVEAT`): a small p-value rejects MCAR; a large one does
    not show MCAR, and no test tells MAR from MNAR. It assumes multivariate normal
    continuous variables (scale scores, age): do not pass dummy codes.

    Parameters
    ----------
    data : DataFrame
        One row per child, numeric columns (e.g. :func:`outcome_wide`).
    columns : sequence of str, optional
        Default: every column.

    Returns
    -------
    DataFrame
        One row: ``statistic, df, p_value, n`` (rows used), ``n_variables,
        n_patterns, applicable`` (bool), ``reason`` (why not, else empty),
        ``caveat_en, caveat_zh``. When not applicable (no missing value, a single
        pattern, fewer rows than variables + 2, a constant variable), the numbers are NaN.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.missingness import little_mcar_test
    >>> rng = np.random.default_rng(2)
    >>> Y = rng.multivariate_normal([0, 0, 0], [[1, .5, .3], [.5, 1, .4], [.3, .4, 1]], 300)
    >>> Y[rng.random(300) < 0.2, 2] = np.nan              # MCAR
    >>> r = little_mcar_test(pd.DataFrame(Y, columns=["a", "b", "c"])).iloc[0]
    >>> int(r["df"]), bool(r["applicable"])
    (2, True)
    >>> Y[Y[:, 0] > 0.8, 1] = np.nan                        # depends on an observed a: not MCAR
    >>> bool(little_mcar_test(pd.DataFrame(Y, columns=["a", "b", "c"]))["p_value"].iloc[0] < 0.001)
    True
    """
    cols = list(data.columns if columns is None else columns)
    Y = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    Y = Y[np.isfinite(Y).any(axis=1)]
    n, p = Y.shape
    base = {"statistic": np.nan, "df": np.nan, "p_value": np.nan, "n": n, "n_variables": p,
            "n_patterns": 0, "applicable": False, "reason": "",
            "caveat_en": MCAR_CAVEAT["en"], "caveat_zh": MCAR_CAVEAT["zh"]}
    obs = np.isfinite(Y)
    npat = len(np.unique(obs, axis=0)) if n else 0
    base["n_patterns"] = npat
    reason = ""
    if n < p + 2:
        reason = f"too few children ({n}) for {p} variables"
    elif obs.all():
        reason = "no missing values"
    elif npat < 2:
        reason = "a single missing-data pattern"
    elif any(np.nanstd(Y[:, j]) == 0 or obs[:, j].sum() < 2 for j in range(p)):
        reason = "a variable is constant or observed fewer than twice"
    if reason:
        base["reason"] = reason
        return pd.DataFrame([base])
    mu, S, pats, inv = _em_mvn(Y)
    d2, df = 0.0, 0
    for k, pat in enumerate(pats):
        rows = Y[inv == k][:, pat]
        diff = rows.mean(axis=0) - mu[pat]
        d2 += len(rows) * float(diff @ np.linalg.solve(S[np.ix_(pat, pat)], diff))
        df += int(pat.sum())
    df -= p
    base.update(statistic=d2, df=df, p_value=float(stats.chi2.sf(d2, df)), applicable=True)
    return pd.DataFrame([base])

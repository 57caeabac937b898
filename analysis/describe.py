"""Descriptive tables of a study: means by arm and wave, baseline balance,
attrition (CONSORT counts) and intra-class correlations.

Balance and attrition follow the What Works Clearinghouse (WWC), *Procedures and
Standards Handbook, Version 5.0* (Institute of Education Sciences, 2022;
earlier: *Standards Handbook* v4.1, 2020):

* Baseline equivalence: an absolute baseline effect size of at most 0.05 SD
  satisfies the requirement; between 0.05 and 0.25 SD it is satisfied only if the
  analysis adjusts statistically for that characteristic; above 0.25 SD it is not
  satisfied. Effect sizes: Hedges' g (pooled SD, small-sample correction
  omega = 1 - 3/(4N - 9)) for continuous variables, the Cox index
  omega (logit p_t - logit p_c) / 1.65 for binary ones.
* Attrition: overall attrition (share of the randomized sample without outcome
  data) and differential attrition (difference between the arms' rates). The
  WWC judges low/high attrition from a boundary table (cautious or optimistic
  boundary); that table is not reproduced here, so no low/high verdict is given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.mixed import random_intercepts

__all__ = ["attrition", "baseline_balance", "consort_counts", "consort_reasons", "describe_by_arm_wave",
           "icc"]

WWC_SATISFIED = 0.05
WWC_ADJUST = 0.25


def _need(data: pd.DataFrame, cols) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    missing = [c for c in cols if c is not None and c not in data.columns]
    if missing:
        raise ValueError(f"columns not in data: {missing}")


def _listify(x) -> list:
    return [x] if isinstance(x, str) else list(x)


def _numeric(data: pd.DataFrame, col: str) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
        raise ValueError(f"outcome {col!r} must be numeric, got dtype {data[col].dtype}")
    return data[col].astype(float)


# ---------------------------------------------------------------- descriptives


def describe_by_arm_wave(
    data: pd.DataFrame,
    outcomes: str | Sequence[str],
    *,
    arm: str | None,
    wave: str,
    waves: Sequence[str] | None = None,
    ci: float = 0.95,
    cluster: str | None = None,
) -> pd.DataFrame:
    """n, mean, SD, SE and t-based CI of each outcome by arm and wave.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per respondent and wave.
    outcomes : str or list of str
        Numeric outcome columns.
    arm : str or None
        Arm column; ``None`` for a one-group study (arm reported as ``"all"``).
    wave : str
        Wave column.
    waves : list of str, optional
        Waves to report, in this order; by default the waves present, sorted.
    ci : float
        Level of the interval.
    cluster : str, optional
        Cluster column (the unit of randomization, e.g. school). When given, the
        SE of each mean is cluster-robust: CR2 of an intercept-only regression,
        with the Bell–McCaffrey (Satterthwaite) df of
        :func:`analysis.cluster_robust.coef_test`; respondents of one school are
        not independent, so the plain ``sd / sqrt(n)`` would be too small.

    Returns
    -------
    DataFrame
        Columns ``outcome, arm, wave, n, mean, sd, se, ci_low, ci_high`` (and
        ``n_clusters``, ``df`` with ``cluster``): ``n`` counts non-missing values;
        ``sd`` has n - 1 in the denominator; without ``cluster``
        ``se = sd / sqrt(n)`` and the interval is mean -/+ t(n - 1) se. Rows
        ordered by outcome, arm (sorted), wave (``waves`` order). Statistics are
        NaN when n < 2 (the mean is given for n = 1), and with ``cluster`` when
        fewer than 2 clusters are present.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import describe_by_arm_wave
    >>> d = pd.DataFrame({"arm": ["t", "t", "c", "c"] * 2, "wave": ["pre"] * 4 + ["post"] * 4,
    ...                   "y": [1.0, 3.0, 2.0, 2.0, 4.0, 6.0, 2.0, 4.0]})
    >>> tab = describe_by_arm_wave(d, "y", arm="arm", wave="wave", waves=["pre", "post"])
    >>> tab[["arm", "wave", "n", "mean"]].values.tolist()
    [['c', 'pre', 2, 2.0], ['c', 'post', 2, 3.0], ['t', 'pre', 2, 2.0], ['t', 'post', 2, 5.0]]
    >>> round(float(tab["ci_high"].iloc[3]), 3)  # 5 + t(0.975, 1) * sqrt(2) / sqrt(2)
    17.706
    """
    outcomes = _listify(outcomes)
    _need(data, [*outcomes, arm, wave])
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}")
    present = data[wave].dropna().astype(str).unique().tolist()
    waves = sorted(present) if waves is None else [str(w) for w in waves]
    unknown = [w for w in waves if w not in present]
    if unknown:
        raise ValueError(f"waves not found in column {wave!r}: {unknown}")
    arms = ["all"] if arm is None else sorted(data[arm].dropna().astype(str).unique().tolist())
    wv = data[wave].astype(str)
    av = pd.Series("all", index=data.index) if arm is None else data[arm].astype(str)
    if cluster is not None:
        _need(data, [cluster])
        from analysis.cluster_robust import coef_test
    rows = []
    for out in outcomes:
        y = _numeric(data, out)
        for a in arms:
            for w in waves:
                sel = (av == a) & (wv == w) & y.notna()
                v = y[sel].to_numpy()
                n = len(v)
                mean = float(v.mean()) if n else np.nan
                sd = float(v.std(ddof=1)) if n > 1 else np.nan
                if cluster is None:
                    se = sd / np.sqrt(n) if n > 1 else np.nan
                    df = n - 1
                    half = stats.t.ppf(0.5 + ci / 2, df) * se if n > 1 else np.nan
                    rows.append((out, a, w, n, mean, sd, se, mean - half, mean + half))
                    continue
                g = data.loc[sel, cluster].astype(str).to_numpy()
                j = len(set(g))
                if n > 1 and j > 1:
                    t = coef_test((np.ones((n, 1)), v), g, vcov="CR2", test="Satterthwaite",
                                  alpha=1 - ci).iloc[0]
                    se, df = float(t["std_error"]), float(t["df"])
                    lo, hi = float(t["ci_low"]), float(t["ci_high"])
                else:
                    se = df = lo = hi = np.nan
                rows.append((out, a, w, n, mean, sd, se, lo, hi, j, df))
    cols = ["outcome", "arm", "wave", "n", "mean", "sd", "se", "ci_low", "ci_high"]
    if cluster is not None:
        cols += ["n_clusters", "df"]
    return pd.DataFrame(rows, columns=cols).astype({"n": "int64"})


# ---------------------------------------------------------------- balance


def _wwc_flag(x: float) -> str:
    if np.isnan(x):
        return "not computed"
    if abs(x) <= WWC_SATISFIED:
        return "satisfied"
    if abs(x) <= WWC_ADJUST:
        return "adjustment required"
    return "not satisfied"


def _omega(n: int) -> float:
    return 1.0 - 3.0 / (4.0 * n - 9.0) if n > 2 else np.nan


def _cox(k_t: int, n_t: int, k_c: int, n_c: int) -> float:
    """Cox index with the Haldane-Anscombe +0.5 correction when a cell is empty."""
    omega = _omega(n_t + n_c)
    if 0 in (k_t, n_t - k_t, k_c, n_c - k_c):
        k_t, k_c, n_t, n_c = k_t + 0.5, k_c + 0.5, n_t + 1.0, n_c + 1.0
    lt = np.log(k_t / (n_t - k_t))
    lc = np.log(k_c / (n_c - k_c))
    return omega * (lt - lc) / 1.65


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "binary"
    if pd.api.types.is_numeric_dtype(s):
        vals = set(pd.unique(s.dropna()))
        return "binary" if vals and vals <= {0, 1} else "continuous"
    return "categorical"


def baseline_balance(
    data: pd.DataFrame,
    variables: str | Sequence[str],
    *,
    arm: str,
    control: str,
) -> pd.DataFrame:
    """Standardized baseline differences between each arm and the control arm,
    flagged as the What Works Clearinghouse does.

    Give the baseline rows only (one row per respondent). Variable kinds:
    numeric with values other than 0/1 -> continuous (Hedges' g); 0/1 or boolean
    -> binary (Cox index on the share of 1s); text or categorical -> one row per
    level, each as a binary indicator (Cox index on the level's share).

    Parameters
    ----------
    data : DataFrame
        Baseline data.
    variables : str or list of str
        Columns to compare.
    arm : str
        Arm column.
    control : str
        Label of the comparison arm; every other arm is compared with it.

    Returns
    -------
    DataFrame
        One row per variable (x level) x treatment arm, columns

        - ``variable``, ``level`` (category level; ``""`` for continuous,
          ``"1"`` for binary)
        - ``arm``, ``control``
        - ``n_treatment``, ``n_control``: non-missing values
        - ``mean_treatment``, ``mean_control``: means, or proportions for binary
          and categorical rows
        - ``sd_pooled``: sqrt(((n_t-1) s_t^2 + (n_c-1) s_c^2) / (n_t + n_c - 2))
          for continuous rows; NaN for proportions
        - ``smd``: Hedges' g = omega (mean_t - mean_c) / sd_pooled for continuous
          rows, Cox index omega (logit p_t - logit p_c) / 1.65 for proportions,
          omega = 1 - 3/(4N - 9) (WWC Handbook v5.0). A proportion of 0 or 1 gets
          the Haldane-Anscombe correction (+0.5 to each cell) so the index stays
          finite.
        - ``method``: ``"hedges_g"`` or ``"cox_index"``
        - ``abs_smd``
        - ``wwc_flag``: ``"satisfied"`` (abs_smd <= 0.05), ``"adjustment required"``
          (0.05 < abs_smd <= 0.25), ``"not satisfied"`` (> 0.25), or
          ``"not computed"`` (too few observations or no variance)

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import baseline_balance
    >>> d = pd.DataFrame({"arm": ["t"] * 4 + ["c"] * 4,
    ...                   "age": [10.0, 11, 12, 13, 10, 11, 12, 14],
    ...                   "girl": [1, 0, 1, 0, 1, 1, 0, 0]})
    >>> tab = baseline_balance(d, ["age", "girl"], arm="arm", control="c")
    >>> tab[["variable", "method", "wwc_flag"]].values.tolist()
    [['age', 'hedges_g', 'adjustment required'], ['girl', 'cox_index', 'satisfied']]
    >>> round(float(tab["smd"].iloc[0]), 4)  # (1 - 3/23) * (11.5 - 11.75) / 1.5138
    -0.1436
    """
    variables = _listify(variables)
    _need(data, [*variables, arm])
    arms = data[arm].dropna().astype(str)
    if str(control) not in set(arms):
        raise ValueError(f"control arm {control!r} not found in column {arm!r}")
    treatments = sorted(set(arms) - {str(control)})
    if not treatments:
        raise ValueError(f"column {arm!r} has no arm other than the control {control!r}")
    av = data[arm].astype(str)
    rows = []
    for var in variables:
        s = data[var]
        kind = _kind(s)
        for t in treatments:
            st, sc = s[av == t].dropna(), s[av == str(control)].dropna()
            nt, nc = len(st), len(sc)
            if kind == "continuous":
                mt, mc = float(st.mean()) if nt else np.nan, float(sc.mean()) if nc else np.nan
                if nt > 1 and nc > 1:
                    sp = np.sqrt(
                        ((nt - 1) * st.var(ddof=1) + (nc - 1) * sc.var(ddof=1)) / (nt + nc - 2)
                    )
                else:
                    sp = np.nan
                g = _omega(nt + nc) * (mt - mc) / sp if sp and sp > 0 else np.nan
                rows.append((var, "", t, control, nt, nc, mt, mc, sp, g, "hedges_g"))
                continue
            if kind == "binary":
                levels = [("1", st.astype(float) == 1, sc.astype(float) == 1)]
            else:
                lv = sorted(pd.unique(s.dropna().astype(str)))
                levels = [(lvl, st.astype(str) == lvl, sc.astype(str) == lvl) for lvl in lv]
            for lvl, it, ic in levels:
                kt, kc = int(it.sum()), int(ic.sum())
                pt, pc = (kt / nt if nt else np.nan), (kc / nc if nc else np.nan)
                if nt and nc and not (pt == pc and pt in (0.0, 1.0)):
                    d = 0.0 if pt == pc else _cox(kt, nt, kc, nc)
                else:
                    d = 0.0 if nt and nc else np.nan
                rows.append((var, lvl, t, control, nt, nc, pt, pc, np.nan, d, "cox_index"))
    out = pd.DataFrame(
        rows,
        columns=[
            "variable", "level", "arm", "control", "n_treatment", "n_control",
            "mean_treatment", "mean_control", "sd_pooled", "smd", "method",
        ],
    )
    out["control"] = out["control"].astype(str)
    out["abs_smd"] = out["smd"].abs()
    out["wwc_flag"] = [_wwc_flag(v) for v in out["smd"]]
    return out


# ---------------------------------------------------------------- attrition


def attrition(
    data: pd.DataFrame,
    *,
    id: str,
    arm: str | None,
    wave: str,
    waves: Sequence[str],
    analysed: str | None = None,
    control: str | None = None,
) -> pd.DataFrame:
    """CONSORT counts and attrition, per arm and overall.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per respondent and wave.
    id, wave : str
        Respondent id and wave columns.
    arm : str or None
        Arm column (``None``: one group, reported as ``"all"``). An id must keep
        one arm across waves (else ``ValueError``).
    waves : list of str
        Waves in time order; the first is the baseline, the last the endline.
    analysed : str, optional
        The primary outcome column: a respondent counts as analysed when present
        at endline with this value non-missing. Without it, analysed = followed up.
    control : str, optional
        Control arm label; differential attrition is each arm's rate minus the
        control's.

    Returns
    -------
    DataFrame
        One row per arm (sorted) and an ``"overall"`` row; columns

        - ``arm``
        - ``allocated``: distinct ids in the arm in any wave (the randomized sample
          as far as the data show it)
        - ``enrolled``: of those, present at baseline
        - ``followed_up``: present at endline
        - ``analysed``: present at endline with the primary outcome
        - ``lost``: allocated - analysed
        - ``attrition_rate``: lost / allocated (WWC overall attrition on the
          ``overall`` row)
        - ``differential_pp``: (arm rate - control rate) x 100, percentage points;
          NaN for the control, the overall row and when ``control`` is not given.
          The WWC's low/high attrition verdict needs its boundary table, which is
          not applied here.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import attrition
    >>> d = pd.DataFrame({"id": [1, 2, 3, 4, 1, 2, 3], "arm": ["t", "t", "c", "c", "t", "t", "c"],
    ...                   "wave": ["pre"] * 4 + ["post"] * 3, "y": [1.0] * 6 + [None]})
    >>> tab = attrition(d, id="id", arm="arm", wave="wave", waves=["pre", "post"], analysed="y",
    ...                 control="c")
    >>> tab[["arm", "allocated", "followed_up", "analysed", "attrition_rate"]].values.tolist()
    [['c', 2, 1, 0, 1.0], ['t', 2, 2, 2, 0.0], ['overall', 4, 3, 2, 0.5]]
    >>> tab["differential_pp"].tolist()
    [nan, -100.0, nan]
    """
    _need(data, [id, arm, wave, analysed])
    waves = [str(w) for w in waves]
    if not waves:
        raise ValueError("waves must name at least one wave")
    d = data[data[id].notna()]
    wv = d[wave].astype(str)
    ids = d[id].astype(str)
    if arm is None:
        arm_of = pd.Series("all", index=pd.Index(ids.unique()))
    else:
        pairs = pd.DataFrame({"id": ids, "arm": d[arm]}).dropna().drop_duplicates()
        pairs = pairs.assign(arm=pairs["arm"].astype(str))
        dup = pairs["id"][pairs["id"].duplicated()]
        if len(dup):
            raise ValueError(
                f"{dup.nunique()} ids change arm between rows (e.g. {dup.iloc[0]!r}); "
                "one arm per respondent is required"
            )
        arm_of = pairs.set_index("id")["arm"]
    if control is not None and str(control) not in set(arm_of):
        raise ValueError(f"control arm {control!r} not found")
    base = set(ids[wv == waves[0]])
    end_rows = wv == waves[-1]
    follow = set(ids[end_rows])
    done = set(ids[end_rows & d[analysed].notna()]) if analysed else follow

    def counts(members: pd.Index) -> list:
        m = set(members)
        alloc = len(m)
        an = len(m & done)
        lost = alloc - an
        return [alloc, len(m & base), len(m & follow), an, lost, lost / alloc if alloc else np.nan]

    rows = []
    for a in sorted(set(arm_of)):
        rows.append([a, *counts(arm_of.index[arm_of == a])])
    rows.append(["overall", *counts(arm_of.index)])
    out = pd.DataFrame(
        rows,
        columns=["arm", "allocated", "enrolled", "followed_up", "analysed", "lost", "attrition_rate"],
    )
    out["differential_pp"] = np.nan
    if control is not None:
        rc = out.loc[out["arm"] == str(control), "attrition_rate"].iloc[0]
        trt = ~out["arm"].isin([str(control), "overall"])
        out.loc[trt, "differential_pp"] = (out.loc[trt, "attrition_rate"] - rc) * 100.0
    return out


# ---------------------------------------------------------------- ICC


def icc(
    data: pd.DataFrame,
    outcomes: str | Sequence[str],
    *,
    clusters: str | Sequence[str],
    wave: str | None = None,
) -> pd.DataFrame:
    """Intra-class correlations of each outcome at each cluster level.

    From the unconditional random-intercept model (intercept only, one random
    intercept per nested cluster level, REML; :func:`analysis.mixed.random_intercepts`,
    = ``lmer(y ~ 1 + (1 | school/class))``), fitted separately per wave when
    ``wave`` is given.

    Parameters
    ----------
    data : DataFrame
    outcomes : str or list of str
        Numeric outcome columns.
    clusters : str or list of str
        Cluster columns, outermost first.
    wave : str, optional
        Wave column; one fit per outcome and wave.

    Returns
    -------
    DataFrame
        Columns ``outcome, wave, level, variance, icc`` (the ``tables/icc.csv``
        layout): one row per cluster level (outermost first) and a
        ``"residual"`` row. ``icc`` is the level's share of the total variance
        (tau_l / (sum tau + sigma^2)); the correlation of two members of the same
        inner cluster is the sum of the shares of that level and the levels above.
        ``wave`` is ``None`` without a wave column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.describe import icc
    >>> rng = np.random.default_rng(0)
    >>> school = np.repeat(np.arange(30), 40)
    >>> d = pd.DataFrame({"school": school,
    ...                   "y": rng.normal(0, 1, 30)[school] + rng.normal(0, 3, 1200)})
    >>> tab = icc(d, "y", clusters="school")
    >>> tab["level"].tolist(), bool(0.02 < tab["icc"].iloc[0] < 0.3)
    (['school', 'residual'], True)
    """
    outcomes = _listify(outcomes)
    clusters = _listify(clusters)
    _need(data, [*outcomes, *clusters, wave])
    if wave is None:
        parts = [(None, data)]
    else:
        parts = [(str(w), g) for w, g in data.groupby(data[wave].astype(str), sort=False)]
    rows = []
    for out in outcomes:
        _numeric(data, out)
        for w, g in parts:
            try:
                fit = random_intercepts(g, out, clusters)
            except ValueError as exc:
                where = f" at wave {w!r}" if w is not None else ""
                raise ValueError(f"ICC of {out!r}{where}: {exc}") from None
            for _, r in fit.variance_components.iterrows():
                rows.append((out, w, r["level"], r["variance"], r["icc"]))
    return pd.DataFrame(rows, columns=["outcome", "wave", "level", "variance", "icc"])


# ---------------------------------------------------------------- CONSORT (cluster trials)

#: Reasons :func:`consort_reasons` gives when validation recorded none.
NO_ENDLINE_RECORD = "no_endline_record"
OUTCOME_MISSING = "outcome_missing"


def _consort_status(data, *, id, arm, wave, waves, analysed, cluster, quarantine):
    """One row per respondent: arm, cluster, followed_up, analysed, endline reason."""
    _need(data, [id, arm, wave, analysed, cluster])
    waves = [str(w) for w in waves]
    if not waves:
        raise ValueError("waves must name at least one wave")
    d = data[data[id].notna()]
    wv = d[wave].astype(str)
    ids = d[id].astype(str)
    status = pd.DataFrame(index=pd.Index(pd.unique(ids), name="id"))
    for col, name in ((arm, "arm"), (cluster, "cluster")):
        if col is None:
            status[name] = "all"
            continue
        pairs = pd.DataFrame({"id": ids, name: d[col]}).dropna().drop_duplicates()
        pairs[name] = pairs[name].astype(str)
        dup = pairs["id"][pairs["id"].duplicated()]
        if len(dup):
            raise ValueError(f"{dup.nunique()} ids change {col!r} between rows (e.g. "
                             f"{dup.iloc[0]!r}); one {name} per respondent is required")
        status[name] = pairs.drop_duplicates("id").set_index("id")[name]
    end_rows = wv == waves[-1]
    status["followed_up"] = status.index.isin(ids[end_rows].unique())
    done = ids[end_rows & d[analysed].notna()] if analysed else ids[end_rows]
    status["analysed"] = status.index.isin(done.unique())
    status["reason"] = ""
    status.loc[~status["followed_up"], "reason"] = NO_ENDLINE_RECORD
    status.loc[status["followed_up"] & ~status["analysed"], "reason"] = OUTCOME_MISSING
    if quarantine is not None and len(quarantine):
        _need(quarantine, [id, wave, "reasons"])
        q = quarantine[quarantine[wave].astype(str) == waves[-1]].dropna(subset=[id])
        why = q.groupby(q[id].astype(str))["reasons"].first().astype(str)
        lost = status.index[~status["followed_up"]].intersection(why.index)
        status.loc[lost, "reason"] = why.loc[lost].to_numpy()
    return status.dropna(subset=["arm"])


def consort_counts(
    data: pd.DataFrame,
    *,
    id: str,
    arm: str | None,
    wave: str,
    waves: Sequence[str],
    analysed: str | None = None,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Children and clusters allocated, lost and analysed per arm: the counts of a
    CONSORT 2010 flow diagram for cluster trials (Campbell et al., BMJ 2012;345:e5661).

    The children's counts are those of :func:`attrition` (same data, same
    definitions), with the loss split into lost to follow-up and excluded from
    analysis; the cluster columns are added when ``cluster`` is given.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per respondent and wave.
    id, wave : str
        Respondent id and wave columns.
    arm : str or None
        Arm column (``None``: one group, ``"all"``).
    waves : list of str
        Waves in time order; the first is the baseline, the last the endline.
    analysed : str, optional
        The primary outcome column (analysed = at endline with this value).
    cluster : str, optional
        The unit of randomization (the outermost cluster, e.g. school). A respondent
        must keep one cluster across waves (else ``ValueError``).

    Returns
    -------
    DataFrame
        One row per arm (sorted) and an ``"overall"`` row; columns

        - ``arm, allocated, enrolled, followed_up, analysed, lost`` as in
          :func:`attrition`
        - ``lost_to_follow_up``: allocated - followed_up (no endline record)
        - ``excluded``: followed_up - analysed (at endline without the primary outcome)
        - with ``cluster``: ``clusters_allocated`` (clusters with a child in the
          arm), ``clusters_analysed`` (with at least one analysed child),
          ``clusters_lost`` (the difference), ``cluster_size_mean``,
          ``cluster_size_min``, ``cluster_size_max`` (allocated children per
          allocated cluster) and ``analysed_size_mean``, ``analysed_size_min``,
          ``analysed_size_max`` (analysed children per analysed cluster).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import consort_counts
    >>> d = pd.DataFrame({"id": [1, 2, 3, 4, 1, 2, 3], "arm": ["t", "t", "c", "c", "t", "t", "c"],
    ...                   "school": ["A", "B", "C", "C", "A", "B", "C"],
    ...                   "wave": ["pre"] * 4 + ["post"] * 3, "y": [1.0] * 6 + [None]})
    >>> tab = consort_counts(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
    ...                      analysed="y", cluster="school")
    >>> tab[["arm", "allocated", "lost_to_follow_up", "excluded", "analysed"]].values.tolist()
    [['c', 2, 1, 1, 0], ['t', 2, 0, 0, 2], ['overall', 4, 1, 1, 2]]
    >>> tab[["clusters_allocated", "clusters_analysed", "clusters_lost"]].values.tolist()
    [[1, 0, 1], [2, 2, 0], [3, 2, 1]]
    """
    base = attrition(data, id=id, arm=arm, wave=wave, waves=waves, analysed=analysed)
    base = base[["arm", "allocated", "enrolled", "followed_up", "analysed", "lost"]].copy()
    base["lost_to_follow_up"] = base["allocated"] - base["followed_up"]
    base["excluded"] = base["followed_up"] - base["analysed"]
    if cluster is None:
        return base
    status = _consort_status(data, id=id, arm=arm, wave=wave, waves=waves, analysed=analysed,
                             cluster=cluster, quarantine=None)
    rows = []
    for a in base["arm"]:
        s = status if a == "overall" else status[status["arm"] == a]
        s = s.dropna(subset=["cluster"])
        alloc = s.groupby("cluster").size()
        done = s[s["analysed"]].groupby("cluster").size()
        rows.append({
            "clusters_allocated": int(alloc.size), "clusters_analysed": int(done.size),
            "clusters_lost": int(alloc.size - done.size),
            "cluster_size_mean": float(alloc.mean()) if alloc.size else np.nan,
            "cluster_size_min": float(alloc.min()) if alloc.size else np.nan,
            "cluster_size_max": float(alloc.max()) if alloc.size else np.nan,
            "analysed_size_mean": float(done.mean()) if done.size else np.nan,
            "analysed_size_min": float(done.min()) if done.size else np.nan,
            "analysed_size_max": float(done.max()) if done.size else np.nan,
        })
    return pd.concat([base.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def consort_reasons(
    data: pd.DataFrame,
    *,
    id: str,
    arm: str | None,
    wave: str,
    waves: Sequence[str],
    analysed: str | None = None,
    quarantine: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Why children allocated to each arm were not analysed, one row per reason.

    Parameters
    ----------
    data, id, arm, wave, waves, analysed
        As :func:`consort_counts`.
    quarantine : DataFrame, optional
        Rows quarantined by validation (``validation/quarantine.csv``: columns ``id``,
        ``wave`` as in ``data`` and ``reasons``, the issue codes joined by ``"; "``).
        A child whose endline row was quarantined is lost to follow-up for those
        codes (e.g. ``"DUPLICATE_ID"``) rather than for ``"no_endline_record"``.
        Children all of whose rows were quarantined are in no arm of ``data`` and
        are not counted here (the data-quality counts hold them).

    Returns
    -------
    DataFrame
        Columns ``arm, stage, reason, n``: ``stage`` is ``"lost_to_follow_up"``
        (reason ``"no_endline_record"`` or validation codes) or ``"excluded"``
        (reason ``"outcome_missing"``: at endline without the primary outcome);
        ``n`` children. Rows ordered by arm (sorted), stage, decreasing ``n``. The
        ``n`` of each arm and stage add up to the counts of :func:`consort_counts`.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import consort_reasons
    >>> d = pd.DataFrame({"id": [1, 2, 3, 4, 1, 2, 3], "arm": ["t", "t", "c", "c", "t", "t", "c"],
    ...                   "wave": ["pre"] * 4 + ["post"] * 3, "y": [1.0] * 6 + [None]})
    >>> q = pd.DataFrame({"id": [4], "wave": ["post"], "reasons": ["DUPLICATE_ID"]})
    >>> consort_reasons(d, id="id", arm="arm", wave="wave", waves=["pre", "post"], analysed="y",
    ...                 quarantine=q).values.tolist()
    [['c', 'lost_to_follow_up', 'DUPLICATE_ID', 1], ['c', 'excluded', 'outcome_missing', 1]]
    """
    status = _consort_status(data, id=id, arm=arm, wave=wave, waves=waves, analysed=analysed,
                             cluster=None, quarantine=quarantine)
    status = status[~status["analysed"]]
    status = status.assign(stage=np.where(status["followed_up"], "excluded", "lost_to_follow_up"))
    out = (status.groupby(["arm", "stage", "reason"]).size().rename("n").reset_index())
    out["_s"] = out["stage"].map({"lost_to_follow_up": 0, "excluded": 1})
    out = out.sort_values(["arm", "_s", "n", "reason"], ascending=[True, True, False, True])
    return out.drop(columns="_s").reset_index(drop=True).astype({"n": "int64"})


def consort_contamination(
    data: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    id: str,
    arm: str,
    control,
) -> pd.DataFrame:
    """Children allocated to the control arm with a logged program contact: the
    contamination line of a CONSORT diagram (issue 14).

    Parameters
    ----------
    data : DataFrame
        Long data, one row per child and wave (as :func:`consort_counts`): ``id`` and
        ``arm``; a child counts once.
    contacts : DataFrame
        The contact log (``RUN/data/contacts.parquet``): one row per contact, ``id``.
    id, arm : str
        Child id and arm columns.
    control : str
        The control arm.

    Returns
    -------
    DataFrame
        One row, the control arm: ``arm``, ``allocated`` (its children), ``with_contacts``
        (those with at least one contact in the log).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.describe import consort_contamination
    >>> d = pd.DataFrame({"id": [1, 2, 3, 4, 1], "arm": ["c", "c", "c", "t", "c"]})
    >>> log = pd.DataFrame({"id": [1, 1, 4]})
    >>> consort_contamination(d, log, id="id", arm="arm", control="c").values.tolist()
    [['c', 3, 1]]
    """
    _need(data, [id, arm])
    if id not in contacts.columns:
        raise ValueError(f"the contact log has no column {id!r} (the design's id)")
    kids = data.loc[data[id].notna() & (data[arm].astype(str) == str(control)), id]
    kids = pd.unique(kids.astype(str))
    n = int(pd.Index(kids).isin(contacts[id].dropna().astype(str).unique()).sum())
    return pd.DataFrame({"arm": [control], "allocated": [int(len(kids))],
                         "with_contacts": [n]})


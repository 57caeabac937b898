"""Change of individual respondents: reliable change, shares improved, paired tests.

Functions
---------
reliable_change
    Jacobson & Truax (1991) reliable change index (RCI) per respondent.
change_table
    Share reliably improved and reliably worse per outcome and arm, with Wilson CIs
    (the table ``tables/change.csv`` of a run).
proportion_test
    One proportion: Wilson score CI with the chi-square test (R ``prop.test(correct =
    FALSE)``) or Clopper-Pearson CI with the exact binomial test (R ``binom.test``).
risk_difference
    Difference of two independent proportions with Newcombe's (1998) hybrid score
    interval (his method 10) and the chi-square test.
mcnemar_test
    McNemar's test for a paired binary outcome (R ``mcnemar.test``), or its exact
    binomial version.

The arithmetic is delegated to statsmodels and scipy wherever they already agree with
R (``proportion_confint``, ``confint_proportions_2indep(method="newcomb")``,
``proportions_ztest``, ``binomtest``, ``mcnemar``); this module adds the respondent-level
bookkeeping, input checks, R's edge-case conventions and tidy output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as _sm_mcnemar
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

__all__ = [
    "change_table",
    "mcnemar_test",
    "proportion_test",
    "reliable_change",
    "risk_difference",
    "wilson_ci",
]

_STATUS = ("improved", "unchanged", "worse")


def _check_reliability(reliability) -> float:
    r = float(reliability)
    if not (0.0 < r < 1.0) or math.isnan(r):
        raise ValueError(f"reliability must lie strictly between 0 and 1, got {reliability!r}")
    return r


def _check_alpha(alpha) -> float:
    a = float(alpha)
    if not (0.0 < a < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    return a


def _check_count(x, n, name="x") -> tuple[int, int]:
    if isinstance(x, bool) or isinstance(n, bool):
        raise ValueError("counts must be integers, not booleans")
    xi, ni = int(x), int(n)
    if xi != x or ni != n:
        raise ValueError(f"counts must be whole numbers, got {name}={x!r}, n={n!r}")
    if ni < 1 or xi < 0 or xi > ni:
        raise ValueError(f"need 0 <= {name} <= n and n >= 1, got {name}={x!r}, n={n!r}")
    return xi, ni


def wilson_ci(x, n, *, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion (R ``prop.test(correct = FALSE)$conf.int``).

    Parameters
    ----------
    x, n : int
        Successes and trials. ``n == 0`` gives ``(nan, nan)``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> from analysis.change import wilson_ci
    >>> [round(v, 4) for v in wilson_ci(50, 61)]
    [0.7053, 0.8962]
    """
    if int(n) == 0:
        return (math.nan, math.nan)
    xi, ni = _check_count(x, n)
    lo, hi = proportion_confint(xi, ni, alpha=_check_alpha(alpha), method="wilson")
    return (float(lo), float(hi))


def reliable_change(baseline, endline, *, reliability: float, sd: float | None = None,
                    better: str = "higher", z: float = 1.96) -> pd.DataFrame:
    """Reliable change index per respondent (Jacobson & Truax, 1991).

    ``RCI = (endline - baseline) / SE_diff`` with ``SE_diff = sqrt(2) * SD * sqrt(1 - r)``,
    where ``SD`` is the baseline standard deviation and ``r`` the scale's reliability
    (test-retest if known, else Cronbach's alpha at baseline). A respondent has
    reliably improved when the RCI passes ``z`` in the better direction, reliably
    worsened when it passes ``-z``, and is ``unchanged`` otherwise. ``|RCI| > 1.96``
    means that a change this large would occur less than 5% of the time from
    measurement error alone (under normal errors); it says nothing about what caused
    the change.

    Parameters
    ----------
    baseline, endline : array-like of float
        Scores of the same respondents, in the same order (Series keep their index).
        Missing values give a missing RCI and status.
    reliability : float
        Reliability of the score, strictly between 0 and 1.
    sd : float, optional
        Baseline standard deviation to use (e.g. from norms). Default: the sample SD
        (``ddof=1``) of the non-missing baseline scores.
    better : {"higher", "lower"}
        Which direction is improvement (``"lower"`` for loneliness or depression).
    z : float
        Critical value, 1.96 for the usual two-sided 5% criterion.

    Returns
    -------
    pandas.DataFrame
        One row per respondent with columns ``baseline``, ``endline``, ``change``
        (endline - baseline), ``rci`` and ``status`` (``improved``, ``unchanged``,
        ``worse``, or missing). ``df.attrs`` holds ``sd``, ``reliability``, ``se_diff``, ``z``
        and ``better``.

    Examples
    --------
    >>> from analysis.change import reliable_change
    >>> rc = reliable_change([10, 12, 15, 9, 20], [16, 12, 9, 9, 21], reliability=0.8)
    >>> rc["status"].tolist()
    ['improved', 'unchanged', 'worse', 'unchanged', 'unchanged']
    >>> round(rc.attrs["se_diff"], 4)
    2.8071
    """
    r = _check_reliability(reliability)
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    if not (float(z) > 0):
        raise ValueError(f"z must be positive, got {z!r}")
    index = baseline.index if isinstance(baseline, pd.Series) else None
    b = np.asarray(baseline, dtype=float)
    e = np.asarray(endline, dtype=float)
    if b.ndim != 1 or b.shape != e.shape:
        raise ValueError("baseline and endline must be one-dimensional and of the same length")
    if sd is None:
        ok = b[~np.isnan(b)]
        if ok.size < 2:
            raise ValueError("need at least two baseline scores to estimate the baseline SD")
        sd = float(np.std(ok, ddof=1))
    sd = float(sd)
    if not (sd > 0) or math.isnan(sd):
        raise ValueError(f"the baseline SD must be positive, got {sd!r}")
    se_diff = math.sqrt(2.0) * sd * math.sqrt(1.0 - r)
    change = e - b
    rci = change / se_diff
    signed = rci if better == "higher" else -rci
    status = np.where(signed > z, "improved",
                      np.where(signed < -z, "worse", "unchanged")).astype(object)
    status[np.isnan(rci)] = np.nan  # (a Series setitem would format the mask: 15 ms)
    status = pd.Series(status, dtype="str", index=index)
    out = pd.DataFrame({"baseline": b, "endline": e, "change": change, "rci": rci}, index=index)
    out["status"] = status
    out.attrs.update(sd=sd, reliability=r, se_diff=se_diff, z=float(z), better=better)
    return out


def change_table(data: pd.DataFrame, outcome_columns: Sequence[str], *, id: str, wave: str,
                 waves: Sequence[str], arm: str | None = None,
                 reliability: Mapping[str, float],
                 better: Mapping[str, str] | None = None, z: float = 1.96,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Share of respondents reliably improved and reliably worse, per outcome and arm.

    For each outcome, respondents with a score at both the first and the last of
    ``waves`` are classified with :func:`reliable_change`, using the baseline SD of
    everyone measured at baseline (all arms pooled, so that one criterion applies to
    every arm). Shares get Wilson score intervals (R ``prop.test(correct = FALSE)``).

    Parameters
    ----------
    data : DataFrame
        Long data, one row per respondent and wave (scored data).
    outcome_columns : sequence of str
        Score columns.
    id, wave : str
        Respondent id and wave columns.
    waves : sequence of str
        Wave labels in time order; the first is the baseline, the last the endline.
    arm : str, optional
        Arm column (the arm is read from the baseline row). ``None``: one row per
        outcome with ``arm == "all"``.
    reliability : mapping
        Reliability of every outcome (test-retest if known, else baseline alpha).
    better : mapping, optional
        ``"higher"`` (default) or ``"lower"`` per outcome.
    z : float
        RCI criterion.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome, arm, n, improved, improved_ci_low, improved_ci_high, worse,
        worse_ci_low, worse_ci_high, n_improved, n_worse, reliability, sd_baseline``:
        ``n`` respondents with both waves, ``improved``/``worse`` shares of them.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.change import change_table
    >>> d = pd.DataFrame({"id": list("abcdabcd"), "wave": ["pre"] * 4 + ["post"] * 4,
    ...                   "arm": ["t", "t", "c", "c"] * 2,
    ...                   "score": [10, 12, 15, 9, 16, 12, 11, 9]})
    >>> tab = change_table(d, ["score"], id="id", wave="wave", waves=["pre", "post"],
    ...                    arm="arm", reliability={"score": 0.8})
    >>> tab[["arm", "n", "improved", "worse"]].values.tolist()
    [['c', 2, 0.0, 0.5], ['t', 2, 0.5, 0.0]]
    """
    waves = list(waves)
    if len(waves) < 2:
        raise ValueError("change needs at least two waves")
    better = dict(better or {})
    need = [id, wave] + ([arm] if arm else []) + list(outcome_columns)
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in the data: {missing}")
    base = data[data[wave] == waves[0]]
    endl = data[data[wave] == waves[-1]]
    if base[id].duplicated().any() or endl[id].duplicated().any():
        raise ValueError(f"respondent ids in {id!r} are not unique within a wave")
    base = base.set_index(id)
    endl = endl.set_index(id)
    rows = []
    for outcome in outcome_columns:
        if outcome not in reliability:
            raise ValueError(f"no reliability given for outcome {outcome!r}")
        direction = better.get(outcome, "higher")
        b_all = pd.to_numeric(base[outcome], errors="coerce").astype(float)
        sd = float(b_all.dropna().std(ddof=1))
        e = pd.to_numeric(endl[outcome], errors="coerce").astype(float)
        ids = b_all.dropna().index.intersection(e.dropna().index)
        rc = reliable_change(b_all.loc[ids], e.loc[ids], reliability=reliability[outcome],
                             sd=sd, better=direction, z=z)
        groups = base.loc[ids, arm] if arm else pd.Series("all", index=ids)
        labels = sorted(groups.dropna().unique().tolist(), key=str)
        for label in labels:
            st = rc["status"][groups == label]
            n = int(st.size)
            ni = int((st == "improved").sum())
            nw = int((st == "worse").sum())
            ilo, ihi = wilson_ci(ni, n, alpha=alpha)
            wlo, whi = wilson_ci(nw, n, alpha=alpha)
            rows.append({
                "outcome": outcome, "arm": label, "n": n,
                "improved": ni / n if n else math.nan,
                "improved_ci_low": ilo, "improved_ci_high": ihi,
                "worse": nw / n if n else math.nan,
                "worse_ci_low": wlo, "worse_ci_high": whi,
                "n_improved": ni, "n_worse": nw,
                "reliability": float(reliability[outcome]), "sd_baseline": sd,
            })
    cols = ["outcome", "arm", "n", "improved", "improved_ci_low", "improved_ci_high", "worse",
            "worse_ci_low", "worse_ci_high", "n_improved", "n_worse", "reliability",
            "sd_baseline"]
    return pd.DataFrame(rows, columns=cols)


def proportion_test(x: int, n: int, *, p: float = 0.5, method: str = "wilson",
                    alpha: float = 0.05) -> pd.DataFrame:
    """Test and interval for one proportion, as R computes them.

    ``method="wilson"``: Wilson score interval and the chi-square score test without
    continuity correction, as R ``prop.test(x, n, p, correct = FALSE)``.
    ``method="clopper_pearson"``: exact (Clopper-Pearson) interval and the exact
    binomial test, as R ``binom.test(x, n, p)`` (two-sided p-value: the sum of the
    probabilities of outcomes no more likely than ``x``, which scipy also uses).

    Parameters
    ----------
    x, n : int
        Successes and trials.
    p : float
        Proportion under the null hypothesis.
    method : {"wilson", "clopper_pearson"}
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``x, n, proportion, ci_low, ci_high, null, statistic, p_value, method``
        (``statistic`` is the chi-square for Wilson, ``x`` for the exact test).

    Examples
    --------
    >>> from analysis.change import proportion_test
    >>> r = proportion_test(50, 61, p=0.5)
    >>> round(r["ci_low"].item(), 4), round(r["ci_high"].item(), 4)
    (0.7053, 0.8962)
    >>> round(proportion_test(50, 61, method="clopper_pearson")["ci_low"].item(), 4)
    0.7002
    """
    xi, ni = _check_count(x, n)
    a = _check_alpha(alpha)
    if not (0.0 < float(p) < 1.0):
        raise ValueError(f"null proportion p must lie strictly between 0 and 1, got {p!r}")
    if method == "wilson":
        lo, hi = proportion_confint(xi, ni, alpha=a, method="wilson")
        zstat, pval = proportions_ztest(xi, ni, value=p, prop_var=p)
        statistic = float(zstat) ** 2
    elif method == "clopper_pearson":
        lo, hi = proportion_confint(xi, ni, alpha=a, method="beta")
        pval = stats.binomtest(xi, ni, p).pvalue
        statistic = float(xi)
    else:
        raise ValueError(f"method must be 'wilson' or 'clopper_pearson', got {method!r}")
    return pd.DataFrame([{
        "x": xi, "n": ni, "proportion": xi / ni, "ci_low": float(lo), "ci_high": float(hi),
        "null": float(p), "statistic": statistic, "p_value": float(pval), "method": method,
    }])


def risk_difference(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> pd.DataFrame:
    """Difference of two independent proportions with Newcombe's hybrid score interval.

    ``p1 - p2`` with the interval of Newcombe (1998, method 10), which combines the
    Wilson intervals of the two proportions:
    ``L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``, ``U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.
    It keeps close to nominal coverage with small groups and shares near 0 or 1, where
    the Wald interval fails. The p-value is the chi-square test of equal proportions
    without continuity correction (R ``prop.test(c(x1, x2), c(n1, n2), correct =
    FALSE)``); it is missing when both groups are all 0 or all 1, as in R.

    Parameters
    ----------
    x1, n1 : int
        Successes and size of group 1 (e.g. the program arm).
    x2, n2 : int
        Successes and size of group 2 (e.g. the comparison arm).
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``x1, n1, p1, x2, n2, p2, difference, ci_low, ci_high, p_value, method``.

    Examples
    --------
    Newcombe (1998), Table II, example (a): 56/70 versus 48/80.

    >>> from analysis.change import risk_difference
    >>> r = risk_difference(56, 70, 48, 80)
    >>> round(r["ci_low"].item(), 4), round(r["ci_high"].item(), 4)
    (0.0524, 0.3339)
    """
    x1, n1 = _check_count(x1, n1, "x1")
    x2, n2 = _check_count(x2, n2, "x2")
    a = _check_alpha(alpha)
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff",
                                        alpha=a)
    pooled = (x1 + x2) / (n1 + n2)
    if 0.0 < pooled < 1.0:
        pval = float(proportions_ztest([x1, x2], [n1, n2])[1])
    else:
        pval = math.nan
    p1, p2 = x1 / n1, x2 / n2
    return pd.DataFrame([{
        "x1": x1, "n1": n1, "p1": p1, "x2": x2, "n2": n2, "p2": p2, "difference": p1 - p2,
        "ci_low": float(lo), "ci_high": float(hi), "p_value": pval,
        "method": "newcombe_hybrid_score",
    }])


def _paired_table(x, y) -> np.ndarray:
    a = pd.Series(np.asarray(x, dtype=object).ravel())
    b = pd.Series(np.asarray(y, dtype=object).ravel())
    if a.size != b.size:
        raise ValueError("the two paired vectors must have the same length")
    keep = a.notna() & b.notna()
    a, b = a[keep], b[keep]
    values = set(a.tolist()) | set(b.tolist())
    allowed = {0, 1}  # True == 1 and False == 0
    if not values <= allowed:
        raise ValueError(f"paired binary vectors must hold 0/1 or True/False, found {sorted(map(str, values - allowed))}")
    a = a.astype(int).to_numpy()
    b = b.astype(int).to_numpy()
    table = np.zeros((2, 2), dtype=int)
    np.add.at(table, (1 - a, 1 - b), 1)  # row/col 0 = "yes" (1), as R's table(x, y) of 1/0 reversed
    return table


def mcnemar_test(table, y=None, *, correction: bool = True, exact: bool = False) -> pd.DataFrame:
    """McNemar's test for a paired binary outcome.

    Only the discordant pairs count: ``b`` (yes before, no after, i.e. ``table[0, 1]``)
    and ``c`` (``table[1, 0]``). The chi-square statistic is ``(|b - c| - 1)^2 / (b + c)``
    with continuity correction and ``(b - c)^2 / (b + c)`` without, on 1 df, as R
    ``mcnemar.test``; like R, no correction is applied when ``b == c`` (statistic 0,
    p = 1), and the p-value is missing when there are no discordant pairs.
    ``exact=True`` gives the exact binomial test of ``b`` out of ``b + c`` at 1/2.

    Parameters
    ----------
    table : array-like
        A 2 x 2 table of counts (rows: first measurement, columns: second), or, when
        ``y`` is given, the first of two paired binary vectors (0/1 or bool; pairs with
        a missing value are dropped; 1/True counts as "yes").
    y : array-like, optional
        Second paired binary vector.
    correction : bool
        Continuity correction (R's default ``correct = TRUE``).
    exact : bool
        Exact binomial test instead of the chi-square.

    Returns
    -------
    pandas.DataFrame
        One row: ``b, c, n_pairs, statistic, df, p_value, method``.

    Examples
    --------
    >>> from analysis.change import mcnemar_test
    >>> r = mcnemar_test([[794, 86], [150, 570]])
    >>> round(r["statistic"].item(), 4), f'{r["p_value"].item():.3g}'
    (16.8178, '4.11e-05')
    """
    if y is not None:
        t = _paired_table(table, y)
    else:
        t = np.asarray(table)
        if t.shape != (2, 2):
            raise ValueError(f"table must be 2 x 2, got shape {t.shape}")
        if np.any(t < 0) or np.any(np.asarray(t, dtype=float) % 1 != 0):
            raise ValueError("table must hold non-negative whole counts")
        t = t.astype(int)
    b, c = int(t[0, 1]), int(t[1, 0])
    if exact:
        method = "exact"
        if b + c == 0:
            stat, pval = float(b), math.nan
        else:
            res = _sm_mcnemar(t, exact=True)
            stat, pval = float(b), float(res.pvalue)
        df = math.nan
    else:
        corrected = correction and b != c
        method = "chi2_corrected" if corrected else "chi2"
        df = 1.0
        if b + c == 0:
            stat, pval = math.nan, math.nan
        else:
            res = _sm_mcnemar(t, exact=False, correction=corrected)
            stat, pval = float(res.statistic), float(res.pvalue)
    return pd.DataFrame([{"b": b, "c": c, "n_pairs": int(t.sum()), "statistic": stat, "df": df,
                          "p_value": pval, "method": method}])

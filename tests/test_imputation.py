"""Multiple imputation (analysis.imputation) and Rubin's rules (analysis.rubin), issue 15.

R parity is tests/test_imputation_r.py; 500-trial coverage is bench/imputation.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cluster_robust import coef_test
from analysis.effects import design_matrix, estimate_effects
from analysis.imputation import (
    FIT_COLUMNS,
    MI_COLUMNS,
    TIPPING_COLUMNS,
    _loo_cluster_mean,
    delta_adjustment,
    impute,
    suggested_m,
)
from analysis.rubin import POOLED_COLUMNS, barnard_rubin_df, pool_fits, pool_scalar
from core.design import Design


def _trial(seed, *, n_schools=12, per_school=20, effect=0.6, leave=(-0.6, -0.5), y0_missing=0.0,
           clusters=True, heterogeneity=0.0, delta_true=0.0):
    """Long data of a (cluster) trial with MAR attrition on the baseline; also the full data."""
    rng = np.random.default_rng(seed)
    n = n_schools * per_school
    school = np.repeat(np.arange(n_schools), per_school)
    if clusters:
        arm = np.where(school % 2, "t", "c")
        u = 0.4 * rng.normal(size=n_schools)[school]
    else:
        arm = np.where(rng.random(n) < 0.5, "t", "c")
        u = np.zeros(n)
    t = (arm == "t").astype(float)
    y0 = u + rng.normal(size=n)
    y1 = 0.5 * y0 + t * (effect + heterogeneity * y0) + u + rng.normal(size=n)
    a, b = leave
    # differential attrition on the baseline: the treated with low baselines leave, fewer
    # controls leave and their leaving depends less on the baseline
    p_leave = np.where(t == 1, stats.norm.cdf(a + b * y0), stats.norm.cdf(a - 0.5 + 0.2 * b * y0))
    left = rng.random(n) < p_leave
    if delta_true:
        sd = np.std(y1[~left], ddof=1)
        y1 = y1 + delta_true * sd * left
    y1_obs = np.where(left, np.nan, y1)
    y0_obs = np.where(rng.random(n) < y0_missing, np.nan, y0)
    base = pd.DataFrame({"id": range(n), "wave": "b", "arm": arm, "school": school, "y": y0_obs})
    end = pd.DataFrame({"id": range(n), "wave": "e", "arm": arm, "school": school, "y": y1_obs})
    full = pd.concat([base.assign(y=y0), end.assign(y=y1)], ignore_index=True)
    d = Design(type="cluster_randomized" if clusters else "randomized", id="id", waves=("b", "e"),
               arm="arm", control="c", clusters=("school",) if clusters else ())
    return pd.concat([base, end[~left]], ignore_index=True), full, d


def _primary(data, design):
    r = estimate_effects(data, ["y"], design).tidy()
    return r[r["model"] == ("ols_cr2" if design.clusters else "ancova_hc2")].iloc[0]


# -- Rubin's rules -----------------------------------------------------------------------
def test_pool_scalar_by_hand():
    q = np.array([1.0, 1.4, 0.8, 1.2])
    se = np.array([0.3, 0.35, 0.3, 0.32])
    r = pool_scalar(q, se, 20).iloc[0]
    m, ubar, b = 4, np.mean(se**2), np.var(q, ddof=1)
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    df_old = (m - 1) / lam**2
    df_obs = 21 / 23 * 20 * (1 - lam)
    df = df_old * df_obs / (df_old + df_obs)
    riv = (1 + 1 / m) * b / ubar
    assert r["estimate"] == pytest.approx(q.mean(), abs=1e-14)
    assert r["std_error"] == pytest.approx(np.sqrt(t), rel=1e-13)
    assert r["df"] == pytest.approx(df, rel=1e-13)
    assert r["fmi"] == pytest.approx((riv + 2 / (df + 3)) / (riv + 1), rel=1e-13)
    assert r["ci_high"] - r["estimate"] == pytest.approx(stats.t.ppf(0.975, df) * np.sqrt(t), rel=1e-12)
    # the df never exceeds the complete-data df, and tends to it as b -> 0
    assert df < 20
    assert float(barnard_rubin_df(4, 0.0, 1.0, 20)) == pytest.approx(
        20 * 21 / 23 * (1 - 1e-4) * 3e8 / (3e8 + 20 * 21 / 23 * (1 - 1e-4)), rel=1e-9)
    assert list(pool_scalar(q, se).columns) == POOLED_COLUMNS


def test_pool_fits_groups_and_errors():
    fits = pd.DataFrame({"term": ["a"] * 3 + ["b"] * 3, "estimate": [1, 2, 3, 4, 5, 7.0],
                         "std_error": [1.0] * 6, "df": [10.0] * 6})
    p = pool_fits(fits)
    assert p["term"].tolist() == ["a", "b"]
    assert p["between_var"].tolist() == pytest.approx([1.0, np.var([4, 5, 7], ddof=1)])
    with pytest.raises(ValueError, match="at least 2"):
        pool_scalar([1.0], [1.0])
    with pytest.raises(ValueError, match="columns not in fits"):
        pool_fits(fits.drop(columns="df"))


def test_suggested_m():
    assert suggested_m(0.05) == 20
    assert suggested_m(0.201) == 21
    assert suggested_m([0.1, 0.5]) == 50
    assert suggested_m(np.nan) == 20


# -- the imputation --------------------------------------------------------------------
def test_loo_cluster_mean():
    x = np.array([1.0, 3.0, np.nan, 10.0, np.nan, 4.0])
    g = np.array([0, 0, 0, 1, 1, 2])
    # the other observed values of the cluster; none -> fallback
    assert _loo_cluster_mean(x, g, -1.0).tolist() == [3.0, 1.0, 2.0, -1.0, 10.0, -1.0]


def test_reproducible_and_pmm_donors_from_own_arm():
    data, _, d = _trial(4, y0_missing=0.1)
    a = impute(data, "y", d, m=4, seed=11)
    b = impute(data, "y", d, m=4, seed=11)
    c = impute(data, "y", d, m=4, seed=12)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.imputed["_y0"], b.imputed["_y0"])
    pd.testing.assert_frame_equal(a.pool(), b.pool())
    assert not np.array_equal(a.y, c.y)
    obs = a.responded
    y_obs = a.data["_y"].to_numpy()
    assert np.array_equal(a.y[:, obs], np.tile(y_obs[obs], (4, 1)))  # observed values kept
    arm = a.data["arm"].to_numpy()
    for g in ("t", "c"):  # predictive mean matching: each imputed value is a donor's of the arm
        donors = set(y_obs[obs & (arm == g)])
        assert set(a.y[:, ~obs & (arm == g)].ravel()) <= donors
    assert len(a.data) == 240 and not np.isnan(a.y).any() and not np.isnan(a.imputed["_y0"]).any()


def test_fits_are_the_primary_model_of_each_completed_data_set():
    data, _, d = _trial(5, y0_missing=0.08)
    imp = impute(data, "y", d, m=3, seed=1)
    fits = imp.analyse()
    assert list(fits.columns) == FIT_COLUMNS
    for i in range(3):  # estimate_effects on the completed data (long again) gives the same row
        c = imp.completed(i)
        long = pd.concat([c.assign(wave="b", y=c["_y0"]), c.assign(wave="e", y=c["_y"])])
        r = _primary(long[["id", "wave", "arm", "school", "y"]], d)
        f = fits.iloc[i]
        assert f["estimate"] == pytest.approx(r["estimate"], rel=1e-10)
        assert f["std_error"] == pytest.approx(r["std_error"], rel=1e-10)
        assert f["df"] == pytest.approx(r["df"], rel=1e-10)


def test_vectorized_fits_equal_one_by_one():
    data, _, d = _trial(6)  # only the outcome is missing: one design for all m fits
    imp = impute(data, "y", d, m=5, seed=2)
    assert imp.imputed == {}
    fits = imp.analyse()
    X, idx = design_matrix(imp.completed(0), d, ["t"], baseline=True)
    for i in range(5):
        tab = coef_test((X, imp.y[i][idx]), imp.data["school"].to_numpy()[idx]).set_index("term")
        assert fits.loc[i, "estimate"] == pytest.approx(tab.loc["arm[t]", "estimate"], rel=1e-10)
        assert fits.loc[i, "std_error"] == pytest.approx(tab.loc["arm[t]", "std_error"], rel=1e-10)
        assert fits.loc[i, "df"] == pytest.approx(tab.loc["arm[t]", "df"], rel=1e-10)
    p = imp.pool()
    assert list(p.columns) == MI_COLUMNS
    assert p["n_obs"].item() == 240 and p["n_imputed"].item() == int((~imp.responded).sum())
    assert p["df_complete"].item() == pytest.approx(fits["df"].mean())


def test_errors_name_the_problem():
    data, _, d = _trial(7)
    with pytest.raises(ValueError, match="columns not in data"):
        impute(data, "nope", d)
    few = data[(data["wave"] == "b") | (data["arm"] == "c") | (data["id"] % 40 == 1)]
    with pytest.raises(ValueError, match="observed values in an arm"):
        impute(few, "y", d, m=2)
    with pytest.raises(ValueError, match="m must be"):
        impute(data, "y", d, m=1)


# -- simulation: MAR, MNAR with the true delta -----------------------------------------------
def test_mar_attrition_mi_recovers_what_complete_cases_miss():
    """Effect heterogeneity in the baseline and attrition of low-baseline children (MAR given
    arm and baseline): the complete-case ANCOVA (without the arm x baseline interaction) is
    biased for the average effect, MI within arm is not. Compared with the oracle (the same
    model on the full data of the same sample), so only the missing data differ."""
    data, full, d = _trial(2026, n_schools=1, per_school=16000, clusters=False, effect=0.3,
                           heterogeneity=0.4, leave=(-0.6, -0.9))
    oracle = _primary(full, d)["estimate"]
    cc = _primary(data, d)
    mi = impute(data, "y", d, m=10, seed=1).pool().iloc[0]
    assert cc["estimate"] - oracle > 3 * cc["std_error"]  # complete cases: biased (0.09, SE 0.019)
    assert cc["estimate"] - oracle > 0.05
    assert abs(mi["estimate"] - oracle) < 0.25 * abs(cc["estimate"] - oracle)
    assert abs(mi["estimate"] - oracle) < 2 * np.sqrt(mi["between_var"] * 1.1 + 1e-12) + 0.01


def test_mnar_delta_adjustment_with_the_true_delta_recovers_the_oracle():
    """Non-responders score delta_true SD below what MAR predicts (a pattern-mixture MNAR):
    MAR imputation is biased; the delta adjustment at the true delta recovers the oracle."""
    data, full, d = _trial(99, n_schools=1, per_school=16000, clusters=False, effect=0.3,
                           leave=(-0.5, -0.5), delta_true=-0.5)
    oracle = _primary(full, d)["estimate"]
    imp = impute(data, "y", d, m=10, seed=3)
    res = delta_adjustment(imp, [-0.5, 0.0], shift="both")
    g = res.grid.set_index("delta")
    # both arms lose children, unequally: MAR is off by about delta x SD x (share left t - c)
    assert abs(g.loc[0.0, "estimate"] - oracle) > 0.02
    assert abs(g.loc[-0.5, "estimate"] - oracle) < 0.2 * abs(g.loc[0.0, "estimate"] - oracle)


def test_tipping_point_is_where_the_ci_reaches_zero():
    data, _, d = _trial(8)
    imp = impute(data, "y", d, m=10, seed=5)
    res = delta_adjustment(imp, np.round(np.arange(-3, 3.01, 0.5), 2), shift="treatment")
    assert list(res.tipping.columns) == TIPPING_COLUMNS
    assert res.grid["delta"].is_monotonic_increasing
    down = res.tipping.set_index("side").loc["down"]
    assert down["conclusion_at_0"] == "positive" and bool(down["found"])
    assert down["ci_low"] == pytest.approx(0.0, abs=1e-3)  # the bisection found the boundary
    # the estimate falls as the treated non-responders are shifted down, linearly
    est = res.grid.set_index("delta")["estimate"]
    assert est.is_monotonic_increasing
    assert np.allclose(np.diff(est.to_numpy(), 2), 0, atol=1e-10)
    assert res.tipping_point() == down["tipping_delta"] < 0
    # shifting the control arm moves the other way
    rc = delta_adjustment(imp, [-1, 0, 1], shift="control").grid.set_index("delta")["estimate"]
    assert rc.is_monotonic_decreasing
    with pytest.raises(ValueError, match="shift"):
        delta_adjustment(imp, [0.1], shift="treated")


def test_chain_without_patsy_draws_what_micedata_draws():
    from analysis.imputation import _chain, _child_frame, _predictors

    data, _, d = _trial(9, y0_missing=0.1)
    w = _child_frame(data, d, "y")
    fr = _predictors(w[w["arm"] == "t"].reset_index(drop=True), d)
    kw = {"donors": 5, "burn_in": 2, "thin": 2, "matching": "statsmodels"}
    a = _chain(fr, 3, rng=np.random.default_rng(5), fast=True, **kw)
    b = _chain(fr, 3, rng=np.random.default_rng(5), fast=False, **kw)
    assert set(a) == {"_y", "_y0"}
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_match_draws_one_of_the_k_nearest():
    from analysis.imputation import _match

    yhat_obs = np.arange(10.0)
    y_obs = np.arange(10.0) * 100
    rng = np.random.default_rng(0)
    got = np.array([_match(yhat_obs, np.array([3.2]), y_obs, 3, rng)[0] for _ in range(300)])
    assert set(got) == {200.0, 300.0, 400.0}  # the 3 closest predictions: 3, 4, 2
    edge = _match(yhat_obs, np.array([-5.0, 50.0]), y_obs, 2, rng)
    assert edge[0] in (0.0, 100.0) and edge[1] in (800.0, 900.0)


def test_norm_method_draws_off_the_observed_values():
    data, _, d = _trial(10)
    imp = impute(data, "y", d, m=3, seed=1, method="norm")
    obs = imp.responded
    assert not set(imp.y[:, ~obs].ravel()) & set(imp.data["_y"].to_numpy()[obs])
    assert imp.pool()["m"].item() == 3
    with pytest.raises(ValueError, match="method"):
        impute(data, "y", d, m=3, method="cart")


@pytest.mark.parametrize("method", ["pmm", "norm"])
@pytest.mark.parametrize("y0_missing", [0.0, 0.2])
def test_chain_on_arrays_draws_what_the_micedata_chain_draws(method, y0_missing):
    """_chain_arrays (the default) repeats the MICEData subclass step for step: the same
    draws, for one incomplete variable (its fit computed once) and for two (refitted)."""
    from analysis.imputation import _chain, _child_frame, _predictors

    data, _, d = _trial(4, y0_missing=y0_missing)
    w = _child_frame(data, d, "y")
    for arm in ("t", "c"):
        fr = _predictors(w[w["arm"] == arm].reset_index(drop=True), d)
        kw = {"donors": 5, "burn_in": 3, "thin": 2, "matching": "mice", "method": method}
        a = _chain(fr, 4, rng=np.random.default_rng(5), **kw)
        b = _chain(fr, 4, rng=np.random.default_rng(5), arrays=False, **kw)
        assert set(a) == set(b) == ({"_y", "_y0"} if y0_missing else {"_y"})
        assert all(np.array_equal(a[k], b[k]) for k in a)

"""Lee (2009) bounds with the Imbens-Manski CI (issue 15, item 3) against a by-hand
computation in base R (tests/fixtures/r/lee.R; data from tests/fixtures/r/lee_make_data.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.lee_bounds import COLUMNS, imbens_manski_critical, lee_bounds

REF = Path(__file__).parent / "fixtures" / "r" / "lee"
DATA = pd.read_csv(REF / "data.csv")
BOUNDS = pd.read_csv(REF / "bounds.csv", keep_default_na=False, na_values=["NaN"])


def _set(name):
    return DATA[DATA["set"] == name].reset_index(drop=True)


@pytest.mark.parametrize("name", ["continuous", "ties", "cells"])
def test_basic_bounds_ses_and_im_ci_match_r(name):
    ref = BOUNDS[(BOUNDS["set"] == name) & (BOUNDS["bounds"] == "basic")].iloc[0]
    res = lee_bounds(_set(name), "y", arm="arm", control="control").iloc[0]
    assert res["trimmed_arm"] == ref["trimmed_arm"]
    assert res["se_method"] == "analytic"
    for col in ["trim_share", "lower", "upper", "se_lower", "se_upper", "im_critical",
                "ci_low", "ci_high"]:
        assert res[col] == pytest.approx(ref[col], rel=1e-10, abs=1e-8), col


@pytest.mark.parametrize("name", ["continuous", "ties", "cells"])
@pytest.mark.parametrize("cov", ["gender", "tercile"])
def test_tightened_bounds_match_r(name, cov):
    ref = BOUNDS[(BOUNDS["set"] == name) & (BOUNDS["covariate"] == cov)].iloc[0]
    res = lee_bounds(_set(name), "y", arm="arm", control="control", covariate=cov, n_boot=50)
    t = res[res["bounds"] == "tightened"].iloc[0]
    assert t["lower"] == pytest.approx(ref["lower"], rel=1e-10, abs=1e-8)
    assert t["upper"] == pytest.approx(ref["upper"], rel=1e-10, abs=1e-8)
    assert t["se_method"] == "bootstrap" and t["n_boot"] == 50
    assert list(res.columns) == COLUMNS


def test_reversed_cell_is_counted():
    res = lee_bounds(_set("cells"), "y", arm="arm", control="control", covariate="gender",
                     n_boot=20)
    t = res[res["bounds"] == "tightened"].iloc[0]
    assert (t["n_cells"], t["n_cells_reversed"]) == (4, 1)


def test_ties_fractional_weight_by_hand():
    # program: 5 of 5 answer; control 4 of 5 -> p = 0.2: keep 4 of the 5 program values
    # y = 1, 2, 2, 2, 3: lowest 4 -> (1+2+2+2)/4 = 1.75; highest 4 -> (2+2+2+3)/4 = 2.25
    d = pd.DataFrame({"arm": ["p"] * 5 + ["c"] * 5,
                      "y": [1, 2, 2, 2, 3, 0, 1, 2, 3, np.nan]})
    r = lee_bounds(d, "y", arm="arm", control="c").iloc[0]
    assert r["trim_share"] == pytest.approx(0.2)
    assert (r["lower"], r["upper"]) == pytest.approx((1.75 - 1.5, 2.25 - 1.5))
    # control 6 of 8 answer -> p = 0.25: keep 7.5 of 10 program children; the cutoff
    # falls inside the tie at 2, and one child there keeps half its weight
    d2 = pd.DataFrame({"arm": ["p"] * 10 + ["c"] * 8,
                       "y": [1, 2, 2, 2, 3, 1, 2, 2, 2, 3] + [0, 1, 2, 3, 4, 5] + [np.nan] * 2})
    r2 = lee_bounds(d2, "y", arm="arm", control="c").iloc[0]
    kept_low = (1 + 1 + 2 * 5 + 0.5 * 2) / 7.5  # lowest 7.5 of {1,1,2,2,2,2,2,2,3,3}
    kept_high = (3 + 3 + 2 * 5 + 0.5 * 2) / 7.5
    assert (r2["lower"], r2["upper"]) == pytest.approx((kept_low - 2.5, kept_high - 2.5))


def test_imbens_manski_critical_value():
    assert imbens_manski_critical(0, 1, 1) == pytest.approx(1.959964, abs=1e-6)
    assert imbens_manski_critical(50, 1, 2) == pytest.approx(1.644854, abs=1e-6)
    c = imbens_manski_critical(1.0, 0.5, 0.8)
    from scipy.stats import norm
    assert norm.cdf(c + 1.0 / 0.8) - norm.cdf(-c) == pytest.approx(0.95, abs=1e-12)


def test_bootstrap_is_seeded_and_agrees_with_analytic_se():
    d = _set("continuous")
    a = lee_bounds(d, "y", arm="arm", control="control").iloc[0]
    # every child its own cluster: the cluster bootstrap is the i.i.d. bootstrap
    d = d.assign(child=np.arange(len(d)))
    b1 = lee_bounds(d, "y", arm="arm", control="control", cluster="child", n_boot=1500, seed=7)
    b2 = lee_bounds(d, "y", arm="arm", control="control", cluster="child", n_boot=1500, seed=7)
    pd.testing.assert_frame_equal(b1, b2)
    b = b1.iloc[0]
    assert b["se_method"] == "cluster_bootstrap"
    assert (b["lower"], b["upper"]) == (a["lower"], a["upper"])
    assert b["se_lower"] == pytest.approx(a["se_lower"], rel=0.15)
    assert b["se_upper"] == pytest.approx(a["se_upper"], rel=0.15)


def test_cluster_bootstrap_widens_the_ci_under_clustering():
    rng = np.random.default_rng(3)
    J, m = 30, 20
    school = np.repeat(np.arange(J), m)
    arm = np.where(school % 2 == 0, "p", "c")
    y = rng.normal(0, 1, J)[school] * 1.5 + rng.normal(size=J * m)
    resp = rng.random(J * m) < np.where(arm == "p", 0.9, 0.8)
    d = pd.DataFrame({"arm": arm, "y": np.where(resp, y, np.nan), "school": school})
    iid = lee_bounds(d, "y", arm="arm", control="c").iloc[0]
    cl = lee_bounds(d, "y", arm="arm", control="c", cluster="school", n_boot=400).iloc[0]
    assert cl["n_clusters"] == J
    assert cl["se_lower"] > 2 * iid["se_lower"]
    assert cl["ci_high"] - cl["ci_low"] > iid["ci_high"] - iid["ci_low"]


def test_errors_name_the_problem():
    d = _set("continuous")
    with pytest.raises(ValueError, match="control arm 'nobody'"):
        lee_bounds(d, "y", arm="arm", control="nobody")
    with pytest.raises(ValueError, match="column 'zz' not in data"):
        lee_bounds(d, "zz", arm="arm", control="control")
    e = d.assign(y=np.where(d["arm"] == "program", np.nan, d["y"]))
    with pytest.raises(ValueError, match="at least 2 respondents"):
        lee_bounds(e, "y", arm="arm", control="control")


# ------------------------------------------------ the t critical value (clustered designs)
def test_t_critical_value_by_hand():
    # qt(0.975, 18) = 2.100922, qt(0.95, 18) = 1.734064 (R); in between, the IM equation
    from scipy import stats
    assert imbens_manski_critical(0.0, 1.0, 1.0, df=18) == pytest.approx(2.100922, abs=1e-6)
    assert imbens_manski_critical(1e6, 1.0, 1.0, df=18) == pytest.approx(1.734064, abs=1e-6)
    c = imbens_manski_critical(0.5, 0.4, 0.5, df=18)
    assert stats.t.cdf(c + 0.5 / 0.5, 18) - stats.t.cdf(-c, 18) == pytest.approx(0.95, abs=1e-12)
    assert c > imbens_manski_critical(0.5, 0.4, 0.5)  # wider than the normal one


def _clustered(seed=4, schools=20):
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(schools), 15)
    arm = np.where(school % 2 == 0, "t", "c")
    y = rng.normal(size=len(school)) + rng.normal(size=schools)[school] + 0.3 * (arm == "t")
    y[rng.random(len(y)) < np.where(arm == "c", 0.2, 0.05)] = np.nan
    return pd.DataFrame({"arm": arm, "y": y, "school": school})


def test_clustered_bounds_use_t_with_clusters_minus_two_by_default():
    from scipy import stats
    r = lee_bounds(_clustered(), "y", arm="arm", control="c", cluster="school",
                   n_boot=99, seed=1).iloc[0]
    assert r["im_df"] == 18
    c = r["im_critical"]
    width, s = r["upper"] - r["lower"], max(r["se_lower"], r["se_upper"])
    assert stats.t.cdf(c + width / s, 18) - stats.t.cdf(-c, 18) == pytest.approx(0.95, abs=1e-10)
    assert r["ci_low"] == pytest.approx(r["lower"] - c * r["se_lower"], rel=1e-12)
    assert r["ci_high"] == pytest.approx(r["upper"] + c * r["se_upper"], rel=1e-12)


def test_df_per_arm_and_normal_without_clusters():
    r = lee_bounds(_clustered(), "y", arm="arm", control="c", cluster="school", n_boot=99,
                   seed=1, df={"t": 7.5}).iloc[0]
    assert r["im_df"] == 7.5
    r0 = lee_bounds(_clustered(), "y", arm="arm", control="c").iloc[0]
    assert np.isnan(r0["im_df"])

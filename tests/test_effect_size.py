"""analysis.effect_size: hand formulas and the noncentral-t inversion.

Noncentral-t limits are checked against tests/fixtures/r/nct_ci.R.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from analysis.effect_size import (
    _nct_ci,
    cohens_d_paired,
    hedges_g,
    hedges_g_clustered,
    icc_anova,
    pooled_sd,
)
from analysis.effects import estimate_effects
from core.design import Design

NCT = pd.read_csv(Path(__file__).parent / "fixtures" / "r" / "nct_ci" / "limits.csv")


def test_hedges_g_by_hand():
    x1, x0 = [5, 6, 7, 8, 9], [4, 5, 6, 7, 8, np.nan]
    tab = hedges_g(x1, x0)
    assert tab.shape == (1, 6)
    assert tab.columns.tolist() == ["g", "std_error", "ci_low", "ci_high", "n1", "n0"]
    assert (tab["n1"].item(), tab["n0"].item()) == (5, 5) and tab["n0"].dtype == np.int64
    r = tab.iloc[0]
    d = 1 / pooled_sd(x1, x0)
    g = (1 - 3 / 31) * d
    assert r["g"] == pytest.approx(g)
    assert r["std_error"] == pytest.approx(np.sqrt(10 / 25 + g**2 / 20))
    assert r["ci_high"] - r["g"] == pytest.approx(1.959964 * r["std_error"], rel=1e-6)
    assert r["g"] - r["ci_low"] == pytest.approx(1.959964 * r["std_error"], rel=1e-6)


def test_clustered_reduces_without_icc():
    tab = hedges_g_clustered(0.4, 100, 120, 20, 0.0)
    assert tab.columns.tolist() == ["g", "std_error", "ci_low", "ci_high", "n1", "n0",
                                    "cluster_size", "icc"]
    r = tab.iloc[0]
    assert r["g"] == pytest.approx(0.4)
    assert r["std_error"] == pytest.approx(np.sqrt(220 / 12000 + 0.16 / (2 * 218)))
    assert hedges_g_clustered(0.4, 100, 120, 20, 0.2)["std_error"].item() > r["std_error"] * 1.5


def test_dz_ci_inverts_noncentral_t():
    rng = np.random.default_rng(0)
    b = rng.normal(size=25)
    a = b + 0.5 + rng.normal(0, 0.8, 25)
    tab = cohens_d_paired(b, a)
    assert tab.shape == (1, 10) and tab["n"].dtype == np.int64
    r = tab.iloc[0]
    n = 25
    t = r["d_z"] * np.sqrt(n)
    assert t == pytest.approx(stats.ttest_rel(a, b).statistic)
    assert stats.nct.cdf(t, n - 1, r["d_z_ci_low"] * np.sqrt(n)) == pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(t, n - 1, r["d_z_ci_high"] * np.sqrt(n)) == pytest.approx(0.025, abs=1e-8)
    assert r["d_av"] == pytest.approx(np.mean(a - b) / ((a.std(ddof=1) + b.std(ddof=1)) / 2))


def test_icc_anova_balanced_formula():
    y = np.array([1.0, 2, 3, 4, 6, 8, 2, 2, 5])
    g = np.repeat([0, 1, 2], 3)
    m = y.reshape(3, 3).mean(1)
    msb = 3 * np.sum((m - y.mean()) ** 2) / 2
    msw = np.sum((y.reshape(3, 3) - m[:, None]) ** 2) / 6
    assert icc_anova(y, g) == pytest.approx(max((msb - msw) / (msb + 2 * msw), 0))


def test_errors():
    with pytest.raises(ValueError):
        cohens_d_paired([1, 2], [2, 3])
    with pytest.raises(ValueError):
        hedges_g_clustered(0.2, 10, 10, 15, 1.5)


def _ours(ref):
    return np.array([_nct_ci(t, df, a) for t, df, a in zip(ref["t"], ref["df"], ref["alpha"])])


def test_nct_ci_matches_r_integral_on_the_whole_grid():
    # 788 rows: t in [-40, 40], df in [2, 2000], alpha 0.01 / 0.05 / 0.10.
    # R: uniroot(tol 1e-12) of the chi-square integral of pnorm (observed: 4e-13).
    assert len(NCT) == 788 and (NCT["t"] < -1.6).sum() > 250
    ours = _ours(NCT)
    np.testing.assert_allclose(ours[:, 0], NCT["lower_int"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours[:, 1], NCT["upper_int"], rtol=0, atol=1e-9)


def test_nct_ci_matches_r_pt_where_pt_is_exact():
    # R's pt(t, df, ncp) (AS 243) is exact only for |ncp| <= 37.62 and df <= 4e5; there
    # the limits agree to 3e-10 (R's own pt vs. integral differ by as much).
    ref = NCT[~NCT["pt_approx"] & ~NCT["pt_warning"]]
    assert len(ref) > 700
    ours = _ours(ref)
    np.testing.assert_allclose(ours[:, 0], ref["lower_pt"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours[:, 1], ref["upper_pt"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("t, df", [(-2.0, 30), (-1.7, 20), (-5.0, 60), (-1.61, 19), (3.0, 1000),
                                   (-40.0, 2), (40.0, 2000), (0.0, 7), (-12.0, 100000)])
def test_nct_ci_is_finite_symmetric_and_pivots_the_cdf(t, df):
    # t = -2, df = 30 (and every t < -1.6 with 19-60 df) raised "function value is NaN" before
    lo, hi = _nct_ci(t, df, 0.05)
    assert lo < t < hi or t == 0
    assert special.nctdtr(df, lo, t) == pytest.approx(0.975, abs=1e-12)
    assert special.nctdtr(df, hi, t) == pytest.approx(0.025, abs=1e-12)
    mlo, mhi = _nct_ci(-t, df, 0.05)
    assert (mlo, mhi) == (-hi, -lo)


def test_falling_outcome_paired_dz_and_effects_table():
    # one-group pre/post where loneliness goes down: t < 0 with 30 df raised before the fix
    rng = np.random.default_rng(3)
    n = 31
    y0 = rng.normal(20, 4, n)
    y1 = y0 - 1.6 + rng.normal(0, 4, n)
    r = cohens_d_paired(y0, y1).iloc[0]
    assert r["t"] < -1.6
    lo, hi = _nct_ci(r["t"], n - 1, 0.05)
    assert r["d_z_ci_low"] == pytest.approx(lo / np.sqrt(n)) and r["d_z_ci_high"] == pytest.approx(hi / np.sqrt(n))
    assert r["d_z_ci_low"] < r["d_z"] < r["d_z_ci_high"] < 0.1
    data = pd.DataFrame({"id": list(range(n)) * 2, "wave": ["pre"] * n + ["post"] * n,
                         "lonely": np.r_[y0, y1]})
    result = estimate_effects(data, ["lonely"], Design(type="pre_post", id="id", waves=("pre", "post")))
    # the effects table's d_av/d_z table is the public one-row table, with the outcome
    pd.testing.assert_frame_equal(result.paired_effect_sizes.drop(columns="outcome"),
                                  cohens_d_paired(y0, y1), check_exact=True)
    res = result.tidy()
    row = res.iloc[0]
    assert row["effect_size"] == pytest.approx(r["d_z"])
    assert row["effect_size_ci_low"] == pytest.approx(r["d_z_ci_low"])
    assert row["effect_size_ci_high"] == pytest.approx(r["d_z_ci_high"])


def test_paired_dz_at_t_minus_2_df_30_equals_r():
    ref = NCT[(NCT["t"] == -2) & (NCT["df"] == 30) & (NCT["alpha"] == 0.05)].iloc[0]
    assert _nct_ci(-2.0, 30, 0.05) == pytest.approx((ref["lower_int"], ref["upper_int"]), abs=1e-10)
    with pytest.raises(ValueError, match="finite t"):
        _nct_ci(float("nan"), 30, 0.05)

"""analysis.effect_size: hand formulas and the noncentral-t inversion."""

import numpy as np
import pytest
from scipy import stats

from analysis.effect_size import cohens_d_paired, hedges_g, hedges_g_clustered, icc_anova, pooled_sd


def test_hedges_g_by_hand():
    x1, x0 = [5, 6, 7, 8, 9], [4, 5, 6, 7, 8]
    r = hedges_g(x1, x0)
    d = 1 / pooled_sd(x1, x0)
    g = (1 - 3 / 31) * d
    assert r["g"] == pytest.approx(g)
    assert r["se"] == pytest.approx(np.sqrt(10 / 25 + g**2 / 20))
    assert r["ci_high"] - r["g"] == pytest.approx(1.959964 * r["se"], rel=1e-6)


def test_clustered_reduces_without_icc():
    r = hedges_g_clustered(0.4, 100, 120, 20, 0.0)
    assert r["g"] == pytest.approx(0.4)
    assert r["se"] == pytest.approx(np.sqrt(220 / 12000 + 0.16 / (2 * 218)))
    assert hedges_g_clustered(0.4, 100, 120, 20, 0.2)["se"] > r["se"] * 1.5


def test_dz_ci_inverts_noncentral_t():
    rng = np.random.default_rng(0)
    b = rng.normal(size=25)
    a = b + 0.5 + rng.normal(0, 0.8, 25)
    r = cohens_d_paired(b, a)
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

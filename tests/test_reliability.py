"""Reliability against psych::alpha / psych::omega.

Fixtures: tests/fixtures/r/reliability.R (bfi as is) and tests/fixtures/r/omega_missing.R
(bfi with many more missing answers).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.reliability import cronbach_alpha, item_statistics, omega_total, reliability

FIX = Path(__file__).parent / "fixtures"
REF = FIX / "r" / "reliability"
REVERSE = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
SCALES = {"agree": "A", "conscientious": "C", "extraversion": "E", "neuroticism": "N", "openness": "O"}


@pytest.fixture(scope="module")
def bfi():
    return pd.read_csv(FIX / "bfi.csv")


def scale_items(bfi, scale, reverse=False):
    cols = [f"{SCALES[scale]}{i}" for i in range(1, 6)]
    x = bfi[cols]
    if reverse:  # bfi items are 1..6; psych reverses as min + max - x
        x = x.assign(**{c: 7 - x[c] for c in cols if c in REVERSE})
    return x


def rev_of(scale):
    return [c for c in (f"{SCALES[scale]}{i}" for i in range(1, 6)) if c in REVERSE]


@pytest.mark.parametrize("scale", list(SCALES))
def test_alpha_matches_psych(bfi, scale):
    ref = pd.read_csv(REF / "alpha_total.csv").set_index("scale").loc[scale]
    res = reliability(scale_items(bfi, scale), reverse=rev_of(scale)).iloc[0]
    assert res["n"] == ref["n_complete"]
    assert res["n_rows"] == ref["n_rows"]
    assert res["n_items"] == 5
    for ours, theirs in [("alpha", "raw_alpha"), ("alpha_std", "std_alpha"),
                         ("average_r", "average_r"), ("alpha_ci_low", "feldt_lower"),
                         ("alpha_ci_high", "feldt_upper")]:
        assert res[ours] == pytest.approx(ref[theirs], abs=1e-9), ours


@pytest.mark.parametrize("scale", list(SCALES))
def test_item_statistics_match_psych(bfi, scale):
    ref = pd.read_csv(REF / "alpha_items.csv")
    ref = ref[ref["scale"] == scale].reset_index(drop=True)
    st = item_statistics(scale_items(bfi, scale, reverse=True))
    assert st["item"].tolist() == ref["item"].tolist()
    assert st["n"].tolist() == ref["n"].tolist()
    for ours, theirs in [("mean", "mean"), ("sd", "sd"), ("r_item_rest", "r_drop"),
                         ("alpha_if_deleted", "alpha_if_deleted")]:
        np.testing.assert_allclose(st[ours], ref[theirs], rtol=0, atol=1e-9, err_msg=ours)


@pytest.mark.parametrize("scale", list(SCALES))
def test_alpha_complete_cases_match_psych(bfi, scale):
    ref = pd.read_csv(REF / "alpha_complete.csv").set_index("scale").loc[scale]
    res = cronbach_alpha(scale_items(bfi, scale, reverse=True), use="complete").iloc[0]
    assert res["n"] == res["n_rows"] == ref["n"]
    for ours, theirs in [("alpha", "raw_alpha"), ("alpha_std", "std_alpha"),
                         ("alpha_ci_low", "feldt_lower"), ("alpha_ci_high", "feldt_upper")]:
        assert res[ours] == pytest.approx(ref[theirs], abs=1e-9), ours


@pytest.mark.parametrize("scale", list(SCALES))
def test_omega_matches_psych(bfi, scale):
    ref = pd.read_csv(REF / "omega.csv").set_index("scale").loc[scale]
    om = omega_total(scale_items(bfi, scale, reverse=True))
    # same pairwise correlations as psych; what remains is where the optimizers stop (4e-8 seen)
    assert om == pytest.approx(ref["omega_tot"], abs=1e-6)
    res = reliability(scale_items(bfi, scale), reverse=rev_of(scale))
    assert res["omega_total"].iloc[0] == pytest.approx(om, abs=1e-12)


def test_omega_model_denominator_is_the_one_factor_formula(bfi):
    x = scale_items(bfi, "agree", reverse=True)
    ref = pd.read_csv(REF / "omega.csv").set_index("scale").loc["agree"]
    lam = ref[[f"g{i}" for i in range(1, 6)]].to_numpy(float)
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert omega_total(x, denominator="model") == pytest.approx(expected, abs=1e-5)
    assert omega_total(x, denominator="model") != pytest.approx(omega_total(x), abs=1e-5)


def test_pairwise_covariance_is_pandas_pairwise(bfi):
    from analysis.reliability import _covariance

    x = bfi[["A1", "A2", "A3", "A4", "A5"]]
    np.testing.assert_allclose(_covariance(x.to_numpy()), x.cov().to_numpy(), rtol=1e-12)


def test_reverse_keying_uses_response_range():
    x = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 2, 3, 5, 4], "c": [5.0, 4, 4, 2, 1]})
    r1 = reliability(x, reverse=["c"], response_range=(1, 5))
    flipped = x.assign(c=6 - x["c"])
    r2 = reliability(flipped)
    pd.testing.assert_frame_equal(r1, r2)
    assert r1["alpha"].iloc[0] > 0.8
    # without reversing, the negatively keyed item drags alpha down
    assert cronbach_alpha(x)["alpha"].iloc[0] < 0.2


def test_two_items_and_ci_level():
    rng = np.random.default_rng(0)
    t = rng.normal(size=300)
    x = pd.DataFrame({"a": t + rng.normal(size=300), "b": t + rng.normal(size=300)})
    st = item_statistics(x)
    assert st["alpha_if_deleted"].isna().all()
    assert np.isnan(reliability(x)["omega_total"].iloc[0])
    a95 = cronbach_alpha(x, ci=0.95).iloc[0]
    a80 = cronbach_alpha(x, ci=0.80).iloc[0]
    assert a95["alpha_ci_low"] < a80["alpha_ci_low"] < a95["alpha"] < a80["alpha_ci_high"]


def test_bad_input():
    with pytest.raises(ValueError, match="no variance"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 2, 2]}))
    with pytest.raises(ValueError, match="at least 2 items"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3]}))
    with pytest.raises(ValueError, match="numeric"):
        cronbach_alpha(pd.DataFrame({"a": ["x", "y", "z"], "b": [1.0, 2, 3]}))
    with pytest.raises(ValueError, match="not columns"):
        reliability(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 3, 2]}), reverse=["zz"])
    with pytest.raises(ValueError, match="use must be"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 3, 2]}), use="all")


OMEGA_MISSING = FIX / "r" / "omega_missing"


def _missing_case(case, scale):
    data = pd.read_csv(OMEGA_MISSING / f"data_{case}.csv")  # already reverse-keyed
    return data[[f"{SCALES[scale]}{i}" for i in range(1, 6)]]


@pytest.mark.parametrize("case", ["mcar", "mar", "small"])
@pytest.mark.parametrize("scale", list(SCALES))
def test_omega_with_missing_answers_matches_psych(case, scale):
    # psych factors cor(use = "pairwise"); cov2cor of pairwise covariances was off by up to 0.024
    ref = pd.read_csv(OMEGA_MISSING / "omega.csv").set_index(["case", "scale"]).loc[(case, scale)]
    x = _missing_case(case, scale)
    assert x.isna().any(axis=1).sum() == ref["n_rows"] - ref["n_complete"] > 0
    assert omega_total(x) == pytest.approx(ref["omega_tot"], abs=1e-6)
    # reliability() reports the same omega beside raw alpha
    assert reliability(x)["omega_total"].iloc[0] == pytest.approx(ref["omega_tot"], abs=1e-6)


def test_omega_missing_fixture_shows_why_the_correlation_matters():
    # Before the fix omega factored cov2cor(pairwise covariances): psych's own omega of that
    # matrix differs from psych's omega of the data by more than any tolerance used above.
    ref = pd.read_csv(OMEGA_MISSING / "omega.csv")
    assert (ref["omega_tot_cov2cor"] - ref["omega_tot"]).abs().max() > 0.02


def test_pairwise_correlation_is_r_cor_pairwise_not_cov2cor():
    from analysis.reliability import _correlation, _cov2cor, _covariance

    x = _missing_case("mar", "neuroticism")
    r = _correlation(x.to_numpy())
    np.testing.assert_allclose(r, x.corr().to_numpy(), rtol=0, atol=1e-13)  # pandas = R here
    assert np.abs(_cov2cor(_covariance(x.to_numpy())) - r).max() > 0.01
    complete = x.dropna().to_numpy()
    np.testing.assert_allclose(_correlation(complete), np.corrcoef(complete, rowvar=False),
                               rtol=0, atol=1e-13)


def test_labels_say_omega_is_standardized_and_alpha_raw():
    from analysis.reliability import LABELS

    assert "standardized" in LABELS["omega_total"]["en"] and "标准化" in LABELS["omega_total"]["zh"]
    assert "raw" in LABELS["alpha"]["en"] and "原始" in LABELS["alpha"]["zh"]
    assert set(reliability(_missing_case("small", "agree")).columns) <= set(LABELS) | {"n_rows"}

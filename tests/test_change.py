"""analysis.change against R (tests/fixtures/r/change.R): prop.test, binom.test,
mcnemar.test to 1e-8, Newcombe's hybrid score interval against his published Table II
and against R, and the reliable change index."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.change import (
    change_table,
    mcnemar_test,
    proportion_test,
    reliable_change,
    risk_difference,
)

FIX = Path(__file__).parent / "fixtures" / "r" / "change"
TOL = 1e-8


def _close(a, b, tol=TOL):
    if np.isnan(b):
        return np.isnan(a)
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.parametrize("row", pd.read_csv(FIX / "prop_test.csv").to_dict("records"))
def test_wilson_and_chisquare_match_prop_test(row):
    r = proportion_test(int(row["x"]), int(row["n"]), p=row["p"]).iloc[0]
    assert _close(r["ci_low"], row["ci_low"])
    assert _close(r["ci_high"], row["ci_high"])
    assert _close(r["statistic"], row["statistic"])
    assert abs(r["p_value"] - row["p_value"]) <= TOL * max(row["p_value"], 1e-300) or \
        _close(r["p_value"], row["p_value"])


@pytest.mark.parametrize("row", pd.read_csv(FIX / "binom_test.csv").to_dict("records"))
def test_clopper_pearson_and_exact_p_match_binom_test(row):
    r = proportion_test(int(row["x"]), int(row["n"]), p=row["p"],
                        method="clopper_pearson").iloc[0]
    assert _close(r["ci_low"], row["ci_low"])
    assert _close(r["ci_high"], row["ci_high"])
    assert _close(r["p_value"], row["p_value"])


@pytest.mark.parametrize("row", pd.read_csv(FIX / "mcnemar.csv").to_dict("records"))
def test_mcnemar_matches_r(row):
    t = [[row["a"], row["b"]], [row["c"], row["d"]]]
    r1 = mcnemar_test(t).iloc[0]
    r0 = mcnemar_test(t, correction=False).iloc[0]
    assert _close(r1["statistic"], row["statistic_corrected"])
    assert _close(r1["p_value"], row["p_corrected"])
    assert _close(r0["statistic"], row["statistic"])
    assert _close(r0["p_value"], row["p_value"])


def test_mcnemar_from_paired_vectors_equals_table():
    before = [1] * 30 + [1] * 12 + [0] * 3 + [0] * 20
    after = [1] * 30 + [0] * 12 + [1] * 3 + [0] * 20
    a = mcnemar_test(before, after).iloc[0]
    b = mcnemar_test([[30, 12], [3, 20]]).iloc[0]
    assert (a["b"], a["c"]) == (12, 3)
    assert a["statistic"] == pytest.approx(b["statistic"], abs=1e-12)
    # missing pairs are dropped; non-binary values are refused
    assert mcnemar_test(before + [np.nan], after + [1]).iloc[0]["n_pairs"] == 65
    with pytest.raises(ValueError):
        mcnemar_test([0, 1, 2], [0, 1, 1])


def test_mcnemar_exact_and_degenerate():
    r = mcnemar_test([[5, 0], [0, 7]]).iloc[0]
    assert np.isnan(r["p_value"])
    ex = mcnemar_test([[3, 12], [2, 9]], exact=True).iloc[0]
    # binom.test(2, 14): 2 * P(X <= 2 | 14, 1/2)
    from scipy.stats import binom
    assert ex["p_value"] == pytest.approx(2 * binom.cdf(2, 14, 0.5), abs=1e-12)
    with pytest.raises(ValueError):
        mcnemar_test([[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("row", pd.read_csv(FIX / "newcombe.csv").to_dict("records"))
def test_newcombe_hybrid_score_interval(row):
    r = risk_difference(int(row["x1"]), int(row["n1"]), int(row["x2"]), int(row["n2"])).iloc[0]
    assert _close(r["ci_low"], row["ci_low"])
    assert _close(r["ci_high"], row["ci_high"])
    assert _close(r["p_value"], row["p_value"])
    if not np.isnan(row["published_low"]):  # Newcombe (1998) Table II, 4 decimals
        assert round(r["ci_low"], 4) == pytest.approx(row["published_low"], abs=1e-12)
        assert round(r["ci_high"], 4) == pytest.approx(row["published_high"], abs=1e-12)


def test_rci_matches_hand_computation_in_r():
    ref = pd.read_csv(FIX / "rci.csv")
    rc = reliable_change(ref["baseline"], ref["endline"], reliability=0.75)
    np.testing.assert_allclose(rc["rci"], ref["rci"], rtol=1e-12)
    assert rc.attrs["se_diff"] == pytest.approx(ref["se_diff"][0], rel=1e-12)
    expected = np.where(ref["rci"] > 1.96, "improved",
                        np.where(ref["rci"] < -1.96, "worse", "unchanged"))
    assert rc["status"].tolist() == expected.tolist()
    # lower is better flips the labels
    low = reliable_change(ref["baseline"], ref["endline"], reliability=0.75, better="lower")
    flipped = {"improved": "worse", "worse": "improved", "unchanged": "unchanged"}
    assert low["status"].tolist() == [flipped[s] for s in expected]


def test_rci_missing_and_bad_input():
    rc = reliable_change([1.0, 2.0, np.nan, 4.0], [2.0, np.nan, 3.0, 9.0], reliability=0.9)
    assert rc["status"].isna().tolist() == [False, True, True, False]
    with pytest.raises(ValueError):
        reliable_change([1, 2], [1, 2], reliability=1.0)
    with pytest.raises(ValueError):
        reliable_change([1, 2], [1, 2, 3], reliability=0.8)
    with pytest.raises(ValueError):
        reliable_change([1, 2], [1, 2], reliability=0.8, better="up")


def test_change_table_counts_and_wilson():
    rng = np.random.default_rng(3)
    n = 120
    ids = [f"s{i:03d}" for i in range(n)]
    arm = np.where(np.arange(n) < 60, "program", "control")
    t = rng.normal(size=n)
    pre = t + 0.5 * rng.normal(size=n)
    post = t + 0.5 * rng.normal(size=n) + np.where(arm == "program", 0.8, 0.0)
    data = pd.DataFrame({"id": ids * 2, "wave": ["pre"] * n + ["post"] * n,
                         "arm": list(arm) * 2, "score": np.r_[pre, post],
                         "lonely": -np.r_[pre, post]})
    data.loc[5, "score"] = np.nan  # one child lacks a baseline score
    tab = change_table(data, ["score", "lonely"], id="id", wave="wave", waves=["pre", "post"],
                       arm="arm", reliability={"score": 0.8, "lonely": 0.8},
                       better={"lonely": "lower"})
    assert list(tab.columns[:9]) == ["outcome", "arm", "n", "improved", "improved_ci_low",
                                     "improved_ci_high", "worse", "worse_ci_low",
                                     "worse_ci_high"]
    s = tab.set_index(["outcome", "arm"])
    assert s.loc[("score", "program"), "n"] == 59
    assert s.loc[("lonely", "program"), "n"] == 60
    # by hand for the program arm of "score"
    sd = np.nanstd(data.loc[data.wave == "pre", "score"], ddof=1)
    keep = (arm == "program") & ~np.isnan(data["score"][:n].to_numpy())
    rci = (post - pre)[keep] / (np.sqrt(2) * sd * np.sqrt(0.2))
    assert s.loc[("score", "program"), "n_improved"] == int((rci > 1.96).sum())
    assert s.loc[("score", "program"), "improved"] > s.loc[("score", "control"), "improved"]
    lo, hi = proportion_test(int((rci > 1.96).sum()), int(keep.sum())).iloc[0][["ci_low", "ci_high"]]
    assert s.loc[("score", "program"), "improved_ci_low"] == pytest.approx(lo, abs=1e-12)
    assert s.loc[("score", "program"), "improved_ci_high"] == pytest.approx(hi, abs=1e-12)
    # "lonely" is the mirror image with lower = better: same classification
    assert s.loc[("lonely", "control"), "n_improved"] == s.loc[("score", "control"), "n_improved"]
    with pytest.raises(ValueError):
        change_table(data, ["score"], id="id", wave="wave", waves=["pre", "post"],
                     reliability={})

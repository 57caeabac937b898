"""Descriptives, balance, attrition and ICC on small hand-checkable data."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.describe import attrition, baseline_balance, describe_by_arm_wave, icc


def test_describe_by_arm_wave_hand_values():
    d = pd.DataFrame({
        "arm": ["t"] * 3 + ["c"] * 3 + ["t"] * 3 + ["c"] * 3,
        "wave": ["pre"] * 6 + ["post"] * 6,
        "y": [1.0, 2.0, 6.0, 2.0, 2.0, np.nan, 3.0, 5.0, 7.0, 1.0, np.nan, np.nan],
        "z": np.arange(12.0),
    })
    tab = describe_by_arm_wave(d, ["y", "z"], arm="arm", wave="wave", waves=["pre", "post"])
    assert tab.columns.tolist() == ["outcome", "arm", "wave", "n", "mean", "sd", "se",
                                    "ci_low", "ci_high"]
    assert len(tab) == 8
    r = tab[(tab.outcome == "y") & (tab.arm == "t") & (tab.wave == "pre")].iloc[0]
    assert r["n"] == 3 and r["mean"] == pytest.approx(3.0)
    sd = np.std([1, 2, 6], ddof=1)
    assert r["sd"] == pytest.approx(sd)
    assert r["se"] == pytest.approx(sd / np.sqrt(3))
    assert r["ci_high"] == pytest.approx(3 + stats.t.ppf(0.975, 2) * sd / np.sqrt(3))
    one = tab[(tab.outcome == "y") & (tab.arm == "c") & (tab.wave == "post")].iloc[0]
    assert one["n"] == 1 and one["mean"] == 1.0 and np.isnan(one["sd"]) and np.isnan(one["ci_low"])
    assert tab["wave"].tolist()[:2] == ["pre", "post"]
    single = describe_by_arm_wave(d, "z", arm=None, wave="wave")
    assert single["arm"].unique().tolist() == ["all"] and single["n"].tolist() == [6, 6]


def test_describe_bad_input():
    d = pd.DataFrame({"arm": ["t"], "wave": ["pre"], "y": ["x"]})
    with pytest.raises(ValueError, match="numeric"):
        describe_by_arm_wave(d, "y", arm="arm", wave="wave")
    with pytest.raises(ValueError, match="not found"):
        describe_by_arm_wave(d.assign(y=1.0), "y", arm="arm", wave="wave", waves=["post"])
    with pytest.raises(ValueError, match="not in data"):
        describe_by_arm_wave(d, "q", arm="arm", wave="wave")


def test_baseline_balance_continuous_is_hedges_g():
    t = np.array([10.0, 12, 14, 16, 18])
    c = np.array([9.0, 10, 11, 12, 13, 14])
    d = pd.DataFrame({"arm": ["T"] * 5 + ["C"] * 6, "age": np.r_[t, c]})
    r = baseline_balance(d, "age", arm="arm", control="C").iloc[0]
    sp = np.sqrt((4 * t.var(ddof=1) + 5 * c.var(ddof=1)) / 9)
    g = (1 - 3 / (4 * 11 - 9)) * (t.mean() - c.mean()) / sp
    assert r["sd_pooled"] == pytest.approx(sp)
    assert r["smd"] == pytest.approx(g)
    assert r["method"] == "hedges_g" and r["level"] == ""
    assert (r["n_treatment"], r["n_control"]) == (5, 6)
    assert r["wwc_flag"] == "not satisfied"  # g = 0.82


def test_baseline_balance_binary_is_cox_index():
    # treatment 6/10, control 4/10
    d = pd.DataFrame({"arm": ["t"] * 10 + ["c"] * 10,
                      "girl": [1] * 6 + [0] * 4 + [1] * 4 + [0] * 6})
    r = baseline_balance(d, "girl", arm="arm", control="c").iloc[0]
    cox = (1 - 3 / (4 * 20 - 9)) * (np.log(0.6 / 0.4) - np.log(0.4 / 0.6)) / 1.65
    assert r["smd"] == pytest.approx(cox)
    assert r["mean_treatment"] == 0.6 and r["mean_control"] == 0.4
    assert r["method"] == "cox_index" and r["level"] == "1" and np.isnan(r["sd_pooled"])


def test_baseline_balance_categorical_levels_and_multiple_arms():
    d = pd.DataFrame({
        "arm": ["a"] * 4 + ["b"] * 4 + ["ctl"] * 4,
        "guardian": ["grand", "grand", "mother", "grand",
                     "grand", "other", "grand", "grand",
                     "grand", "grand", "mother", "mother"],
    })
    tab = baseline_balance(d, ["guardian"], arm="arm", control="ctl")
    assert len(tab) == 6  # 3 levels x 2 arms
    assert tab["arm"].tolist() == ["a"] * 3 + ["b"] * 3
    row = tab[(tab.arm == "a") & (tab.level == "grand")].iloc[0]
    assert row["mean_treatment"] == 0.75 and row["mean_control"] == 0.5
    # a level absent from both arms has no difference
    other_a = tab[(tab.arm == "a") & (tab.level == "other")].iloc[0]
    assert other_a["smd"] == 0.0 and other_a["wwc_flag"] == "satisfied"
    # absent in control only: Haldane-Anscombe corrected, finite
    other_b = tab[(tab.arm == "b") & (tab.level == "other")].iloc[0]
    expected = (1 - 3 / 23) * (np.log(1.5 / 3.5) - np.log(0.5 / 4.5)) / 1.65
    assert other_b["smd"] == pytest.approx(expected)


@pytest.mark.parametrize("smd,flag", [(0.05, "satisfied"), (-0.0500001, "adjustment required"),
                                      (0.25, "adjustment required"), (-0.2501, "not satisfied")])
def test_wwc_flag_boundaries(smd, flag):
    from analysis.describe import _wwc_flag

    assert _wwc_flag(smd) == flag


def test_baseline_balance_bad_control():
    d = pd.DataFrame({"arm": ["t", "c"], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="control arm"):
        baseline_balance(d, "x", arm="arm", control="placebo")


def test_attrition_counts():
    rows = []
    # treatment: ids t1..t10; t1-t8 at endline, t8's outcome missing; t10 missed baseline
    for i in range(1, 11):
        if i != 10:
            rows.append((f"t{i}", "T", "base", 1.0))
        if i <= 8:
            rows.append((f"t{i}", "T", "mid", 1.0))
            rows.append((f"t{i}", "T", "end", np.nan if i == 8 else 2.0))
        if i == 10:
            rows.append((f"t{i}", "T", "end", 3.0))
    # control: c1..c10; c1-c5 at endline
    for i in range(1, 11):
        rows.append((f"c{i}", "C", "base", 1.0))
        if i <= 5:
            rows.append((f"c{i}", "C", "end", 2.0))
    d = pd.DataFrame(rows, columns=["sid", "group", "wave", "score"])
    tab = attrition(d, id="sid", arm="group", wave="wave", waves=["base", "mid", "end"],
                    analysed="score", control="C").set_index("arm")
    assert tab.loc["T", ["allocated", "enrolled", "followed_up", "analysed", "lost"]].tolist() == [10, 9, 9, 8, 2]
    assert tab.loc["C", ["allocated", "enrolled", "followed_up", "analysed", "lost"]].tolist() == [10, 10, 5, 5, 5]
    assert tab.loc["overall", "allocated"] == 20 and tab.loc["overall", "analysed"] == 13
    assert tab.loc["T", "attrition_rate"] == pytest.approx(0.2)
    assert tab.loc["C", "attrition_rate"] == pytest.approx(0.5)
    assert tab.loc["overall", "attrition_rate"] == pytest.approx(7 / 20)
    assert tab.loc["T", "differential_pp"] == pytest.approx(-30.0)
    assert np.isnan(tab.loc["C", "differential_pp"]) and np.isnan(tab.loc["overall", "differential_pp"])
    # without a primary outcome, analysed = followed up
    tab2 = attrition(d, id="sid", arm="group", wave="wave", waves=["base", "end"]).set_index("arm")
    assert tab2.loc["T", "analysed"] == 9
    assert tab2["differential_pp"].isna().all()


def test_attrition_rejects_arm_switchers():
    d = pd.DataFrame({"id": [1, 1], "arm": ["t", "c"], "wave": ["a", "b"]})
    with pytest.raises(ValueError, match="change arm"):
        attrition(d, id="id", arm="arm", wave="wave", waves=["a", "b"])


def test_icc_balanced_two_level_equals_anova():
    rng = np.random.default_rng(11)
    k, m = 12, 6
    g = np.repeat(np.arange(k), m)
    y = rng.normal(0, 1.0, k)[g] + rng.normal(0, 1.5, k * m)
    d = pd.DataFrame({"y": y, "school": g, "wave": "pre"})
    d = pd.concat([d, d.assign(wave="post", y=d["y"] + 1.0)])
    tab = icc(d, "y", clusters="school", wave="wave")
    assert tab.columns.tolist() == ["outcome", "wave", "level", "variance", "icc"]
    assert tab["wave"].tolist() == ["pre", "pre", "post", "post"]
    means = pd.Series(y).groupby(g).mean()
    msb = m * ((means - y.mean()) ** 2).sum() / (k - 1)
    msw = ((y - means.to_numpy()[g]) ** 2).sum() / (k * (m - 1))
    tau = (msb - msw) / m
    pre = tab[tab.wave == "pre"].set_index("level")
    assert pre.loc["school", "variance"] == pytest.approx(tau, rel=1e-6)
    assert pre.loc["residual", "variance"] == pytest.approx(msw, rel=1e-6)
    assert pre.loc["school", "icc"] == pytest.approx(tau / (tau + msw), rel=1e-6)
    post = tab[tab.wave == "post"].set_index("level")
    assert post["variance"].to_numpy() == pytest.approx(pre["variance"].to_numpy(), rel=1e-6)


def test_icc_balanced_three_level_equals_anova():
    # balanced nested design: REML = ANOVA (expected mean squares) when positive
    rng = np.random.default_rng(3)
    a, b, n = 10, 4, 5
    school = np.repeat(np.arange(a), b * n)
    klass = np.tile(np.repeat(np.arange(b), n), a)  # labels 0..3 repeat in every school
    cls_id = school * b + klass
    y = (rng.normal(0, 1.0, a)[school] + rng.normal(0, 0.8, a * b)[cls_id]
         + rng.normal(0, 1.2, a * b * n))
    d = pd.DataFrame({"y": y, "school": school, "class": klass})
    s_mean = pd.Series(y).groupby(school).mean().to_numpy()
    c_mean = pd.Series(y).groupby(cls_id).mean().to_numpy()
    msa = b * n * ((s_mean - y.mean()) ** 2).sum() / (a - 1)
    msb = n * ((c_mean - s_mean[np.arange(a * b) // b]) ** 2).sum() / (a * (b - 1))
    mse = ((y - c_mean[cls_id]) ** 2).sum() / (a * b * (n - 1))
    expected = [(msa - msb) / (b * n), (msb - mse) / n, mse]
    assert min(expected) > 0
    tab = icc(d, ["y"], clusters=["school", "class"])
    assert tab["level"].tolist() == ["school", "class", "residual"]
    assert tab["wave"].isna().all()
    np.testing.assert_allclose(tab["variance"], expected, rtol=1e-5)
    assert tab["icc"].sum() == pytest.approx(1.0)


def test_icc_error_names_outcome_and_wave():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": [1, 1, 1, 1], "w": ["a"] * 4})
    with pytest.raises(ValueError, match="ICC of 'y' at wave 'a'"):
        icc(d, "y", clusters="g", wave="w")


def test_cluster_robust_means_are_wider_and_match_cr2_of_the_cluster_means():
    import numpy as np
    import pandas as pd

    from analysis.describe import describe_by_arm_wave

    rng = np.random.default_rng(8)
    school = np.repeat(np.arange(10), 30)
    y = rng.normal(0, 1, 10)[school] + rng.normal(0, 1, 300)
    d = pd.DataFrame({"arm": "t", "wave": "post", "school": school, "y": y})
    plain = describe_by_arm_wave(d, "y", arm="arm", wave="wave").iloc[0]
    robust = describe_by_arm_wave(d, "y", arm="arm", wave="wave", cluster="school").iloc[0]
    assert robust["mean"] == plain["mean"]
    assert robust["se"] > 2 * plain["se"]
    # balanced clusters: CR2 SE of the grand mean = SD of the cluster means / sqrt(J), df = J - 1
    means = d.groupby("school")["y"].mean()
    assert np.isclose(robust["se"], means.std(ddof=1) / np.sqrt(10), rtol=1e-9)
    assert np.isclose(robust["df"], 9, rtol=1e-9) and robust["n_clusters"] == 10

"""ICCs with profile-likelihood intervals (analysis.icc) against lme4 (tests/fixtures/r/icc.R).

Tolerances: the ICC estimates and the interval bounds agree with R to 1e-6 absolute (measured: 2.4e-8)
(both sides solve for the bounds to 1e-10; what remains is the optimum of the fit,
lme4's tight BOBYQA vs the projected Newton of analysis.mixed).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.icc import COLUMNS, icc, icc_profile

FIX = Path(__file__).parent / "fixtures" / "r" / "icc"
DATA = pd.read_csv(FIX / "data.csv", dtype={"school": str, "class": str})
REF = pd.read_csv(FIX / "icc.csv", keep_default_na=False)

MODELS = {  # model -> (clusters, fixed)
    "uncond_school": (["school"], None),
    "arm_school": (["school"], "arm"),
    "uncond_nested": (["school", "class"], None),
    "arm_nested": (["school", "class"], "arm"),
}


@pytest.mark.parametrize("key", sorted({(r.dataset, r.model) for r in REF.itertuples()}))
def test_icc_and_profile_interval_match_lme4(key):
    dataset, model = key
    ref = REF[(REF["dataset"] == dataset) & (REF["model"] == model)].set_index("level")
    clusters, fixed = MODELS[model]
    got = icc(DATA[DATA["dataset"] == dataset], "y", clusters, fixed=fixed).set_index("level")
    assert got.columns.tolist() == [c for c in COLUMNS if c != "level"]
    for level, r in ref.iterrows():
        g = got.loc[level]
        assert g["n_groups"] == r["n_groups"] and g["n_obs"] == r["n_obs"]
        assert g["icc"] == pytest.approx(r["icc"], abs=1e-6)
        assert g["ci_low"] == pytest.approx(r["ci_low"], abs=1e-6)
        assert g["ci_high"] == pytest.approx(r["ci_high"], abs=1e-6)
        assert bool(g["singular"]) == (str(r["singular"]).upper() == "TRUE")
        assert g["conditioned_on"] == r["conditioned_on"]
        assert g["ci_method"] == "profile"


def test_fixture_records_versions():
    v = json.loads((FIX / "versions.json").read_text())
    assert v["R"].startswith("R version") and v["lme4"] == "1.1.31"
    assert v["cutoff"] == pytest.approx(3.841458820694124)


def test_singular_fit_has_lower_bound_zero_and_finite_upper():
    d = DATA[DATA["dataset"] == "singular"]
    t = icc(d, "y", "school").iloc[0]
    assert t["icc"] == 0 and t["ci_low"] == 0 and 0.05 < t["ci_high"] < 0.2 and t["singular"]


def test_profile_crosses_the_cutoff_at_the_bounds():
    d = DATA[DATA["dataset"] == "small"]
    t = icc(d, "y", "school", fixed="arm").iloc[0]
    p = icc_profile(d, "y", "school", fixed="arm",
                    grid=[t["icc"], t["ci_low"], t["ci_high"], 0.01, 0.8])
    delta = p["delta"].to_numpy()
    assert delta[0] == pytest.approx(0, abs=1e-6)
    assert delta[1] == pytest.approx(3.8415, abs=1e-3) and delta[2] == pytest.approx(3.8415, abs=1e-3)
    assert delta[3] > 3.8415 and delta[4] > 3.8415


def test_conditioning_on_arm_removes_the_effect_from_the_school_variance():
    rng = np.random.default_rng(4)
    school = np.repeat(np.arange(20), 30)
    arm = (school % 2).astype(float)
    y = 0.8 * arm + rng.normal(0, 0.2, 20)[school] + rng.normal(0, 1, 600)
    d = pd.DataFrame({"y": y, "school": school, "arm": arm})
    uncond = icc(d, "y", "school").iloc[0]
    cond = icc(d, "y", "school", fixed="arm").iloc[0]
    assert uncond["icc"] > 0.1 > cond["icc"]  # the arm difference counted as school variance
    assert cond["ci_low"] < 0.04 < cond["ci_high"]  # the true ICC is 0.04/1.04
    assert uncond["conditioned_on"] == "" and cond["conditioned_on"] == "arm"


def test_a_level_with_one_class_per_school_is_not_identified():
    rng = np.random.default_rng(2)
    school = np.repeat(np.arange(10), 12)
    d = pd.DataFrame({"y": rng.normal(0, .3, 10)[school] + rng.normal(0, 1, 120),
                      "school": school, "class": school})
    t = icc(d, "y", ["school", "class"]).set_index("level")
    assert np.isnan(t.loc["class", "icc"]) and np.isnan(t.loc["class", "ci_low"])
    assert t.loc["school", "ci_low"] <= t.loc["school", "icc"] <= t.loc["school", "ci_high"]

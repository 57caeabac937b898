"""Inverse probability weighting for attrition (issue 15, item 4): per-arm glm
propensities, stabilized weights and the weighted CR2 ANCOVA against estimatr and
clubSandwich (tests/fixtures/r/ipw.R), and a simulation where complete cases are biased."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.ipw import DIAGNOSTIC_COLUMNS, EFFECT_COLUMNS, ipw_effects, response_weights
from core.design import Design

REF = Path(__file__).parent / "fixtures" / "r" / "ipw"
EFF = pd.read_csv(REF / "effects.csv").set_index("method")


@pytest.fixture(scope="module")
def panel():
    d = pd.read_csv(REF / "data.csv")
    return d.assign(_y0=d["y0"], _y=d["y"], responded=d["y"].notna())


def _design(clusters=("school",)):
    return Design(type="cluster_randomized" if clusters else "randomized", id="id", arm="arm",
                  control="c", clusters=clusters, blocks="county", covariates=("gender", "age"))


def test_propensities_and_weights_match_glm(panel):
    ref = pd.read_csv(REF / "propensity.csv").set_index("id")
    w, model = response_weights(panel, _design())
    w = w.set_index("id")
    np.testing.assert_allclose(w["propensity"], ref.loc[w.index, "propensity"], rtol=1e-8)
    np.testing.assert_allclose(w["weight"], ref.loc[w.index, "w"], rtol=1e-8)
    assert model["arm"].tolist().count("t") == 4  # intercept, baseline, gender=m, age


@pytest.mark.parametrize("method", ["complete_case", "ipw"])
def test_weighted_cr2_matches_estimatr_and_clubsandwich(panel, method):
    res = ipw_effects(panel, _design(), outcome="y")
    r = res.effects.set_index("method").loc[method]
    ref = EFF.loc[method]
    assert r["n_obs"] == ref["n_obs"] and r["n_clusters"] == 24
    assert r["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert r["std_error"] == pytest.approx(ref["se_clubsandwich"], rel=1e-6)
    assert r["std_error"] == pytest.approx(ref["se_estimatr"], rel=1e-6)
    # the df we report is clubSandwich's Satterthwaite df; estimatr's CR2 df is the same
    assert r["df"] == pytest.approx(ref["df_clubsandwich"], rel=1e-6)
    assert r["df"] == pytest.approx(ref["df_estimatr"], rel=1e-6)
    assert r["p_value"] == pytest.approx(ref["p_clubsandwich"], rel=1e-6)
    assert list(res.effects.columns) == EFFECT_COLUMNS


@pytest.mark.parametrize("method", ["complete_case", "ipw"])
def test_weighted_hc2_without_clusters_matches_estimatr(panel, method):
    r = ipw_effects(panel, _design(()), outcome="y").effects.set_index("method").loc[method]
    ref = EFF.loc[method]
    assert r["model"] == "ancova_hc2" and r["df"] == ref["df_hc2"]
    assert r["std_error"] == pytest.approx(ref["se_hc2"], rel=1e-6)


def test_diagnostics_by_hand(panel):
    res = ipw_effects(panel, _design(), outcome="y")
    dg = res.diagnostics.set_index("arm")
    assert list(res.diagnostics.columns) == DIAGNOSTIC_COLUMNS
    ref = pd.read_csv(REF / "propensity.csv").merge(panel[["id", "arm"]], on="id")
    for a in ("c", "t"):
        w = ref.loc[(ref["arm"] == a) & ref["w"].notna(), "w"].to_numpy()
        assert dg.loc[a, "weight_min"] == pytest.approx(w.min())
        assert dg.loc[a, "weight_max"] == pytest.approx(w.max())
        assert dg.loc[a, "n_effective"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
        assert dg.loc[a, "n_effective"] < dg.loc[a, "n_responded"]


def _simulate(rng, n=400, tau=0.3):
    """MAR given a baseline variable z that the outcome model leaves out: control
    children with low z drop out, program children answer regardless."""
    t = rng.random(n) < 0.5
    z = rng.normal(size=n)
    y0 = z + rng.normal(size=n)
    y = 0.5 * y0 + 1.0 * z + tau * t + rng.normal(size=n)
    eta = np.where(t, 2.0, 0.8 + 2.0 * z)
    resp = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({"id": np.arange(n), "arm": np.where(t, "t", "c"), "z": z, "_y0": y0,
                         "_y": np.where(resp, y, np.nan), "responded": resp})


def test_ipw_is_closer_to_the_truth_than_complete_cases_under_mar():
    rng = np.random.default_rng(20261203)
    d = Design(type="randomized", id="id", arm="arm", control="c")
    cc, ipw = [], []
    for _ in range(20):
        res = ipw_effects(_simulate(rng), d, covariates=["z"]).effects.set_index("method")
        cc.append(res.loc["complete_case", "estimate"])
        ipw.append(res.loc["ipw", "estimate"])
    bias_cc, bias_ipw = np.mean(cc) - 0.3, np.mean(ipw) - 0.3
    # complete cases: the control respondents have high z, so the effect is understated
    assert bias_cc < -0.15
    assert abs(bias_ipw) < abs(bias_cc) / 3
    # and in one trial of the county's size
    one = ipw_effects(_simulate(np.random.default_rng(1), n=800), d, covariates=["z"]).effects
    one = one.set_index("method")["estimate"]
    assert abs(one["ipw"] - 0.3) < abs(one["complete_case"] - 0.3)


def test_errors_say_what_is_missing(panel):
    with pytest.raises(ValueError, match="need a baseline wave"):
        response_weights(panel.drop(columns="_y0"), _design())
    # in the control arm every boy answered: no finite propensity model; the error names
    # the arm and the covariate level
    sep = panel.assign(responded=np.where(panel["gender"] == "m", True, panel["responded"]))
    with pytest.raises(ValueError, match=r"arm 'c': every child with gender=m \(\d+\) answered"):
        response_weights(sep, _design())


def test_complete_case_row_is_the_effects_pages_ols_cr2(panel):
    # the long scored data of the fixture: baseline rows for everyone, endline rows for
    # the respondents; the unweighted row must be the primary model of the effects page
    from analysis.effects import estimate_effects
    from analysis.missingness import response_panel

    keep = ["id", "school", "county", "arm", "gender", "age"]
    base = panel[keep].assign(wave="t0", score=panel["y0"])
    end = panel.loc[panel["responded"], keep].assign(wave="t1", score=panel["y"])
    long = pd.concat([base, end], ignore_index=True)
    d = Design(type="cluster_randomized", id="id", waves=("t0", "t1"), arm="arm", control="c",
               clusters=("school",), blocks="county", covariates=("gender", "age"))
    eff = estimate_effects(long, {"y": "score"}, d).tidy()
    primary = eff[eff["model"] == "ols_cr2"].iloc[0]
    cc = ipw_effects(response_panel(long, "score", d), d, outcome="y").effects.iloc[0]
    assert cc["method"] == "complete_case"
    for col in ["estimate", "std_error", "df", "ci_low", "ci_high", "n_obs"]:
        assert cc[col] == pytest.approx(primary[col], rel=1e-12), col

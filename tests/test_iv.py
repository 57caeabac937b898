"""Two-stage least squares with CR2/HC2 inference against estimatr::iv_robust and
clubSandwich (issue 14, item 5; fixtures: tests/fixtures/r/iv_cr2.R on the data of
tests/fixtures/r/iv_cr2_data.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.iv import COLUMNS, two_stage_cr2

REF = Path(__file__).parent / "fixtures" / "r" / "iv_cr2"
COEF = pd.read_csv(REF / "coef.csv", keep_default_na=False, na_values=["NaN"]).set_index("model")


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(REF / "data.csv")
    d["x_nz_s"] = (d["x_nz"] - 10) * 1e4  # as the R script
    return d


def _fit(data, ref):
    d = data[data["set"] == ref["set"]]
    return two_stage_cr2(
        d, outcome="y", endogenous=ref["endogenous"], instrument="z",
        covariates=ref["covariates"].split(";"),
        fixed_effects=[ref["fixed_effects"]] if ref["fixed_effects"] else (),
        cluster="school" if ref["se_type"] == "CR2" else None,
    ).iloc[0]


WELL_CONDITIONED = [m for m in COEF.index if not m.endswith("_raw")]


@pytest.mark.parametrize("model", WELL_CONDITIONED)
def test_matches_iv_robust(data, model):
    ref = COEF.loc[model]
    row = _fit(data, ref)
    for col in ["estimate", "std_error", "df", "t", "p_value", "ci_low", "ci_high", "first_stage_f"]:
        ours = row["se" if col == "std_error" else col]
        assert ours == pytest.approx(ref[col], rel=1e-6, abs=1e-12), col
    assert row["n"] == ref["n"]
    if ref["se_type"] == "CR2":
        assert row["n_clusters"] == ref["n_clusters"]
        assert row["df_method"] == "bell_mccaffrey"
    else:
        assert np.isnan(row["n_clusters"]) and row["df_method"] == "n_minus_p"
        assert row["df"] == ref["n"] - (len(ref["covariates"].split(";")) + 2 + (3 if ref["fixed_effects"] else 0))


@pytest.mark.parametrize("model", [m for m in WELL_CONDITIONED if COEF.loc[m, "se_type"] == "CR2"])
def test_df_is_clubsandwich_satterthwaite_and_f_is_htz(data, model):
    """estimatr's CR2 df for iv_robust is the Bell-McCaffrey df that clubSandwich's
    coef_test(ivreg, test = "Satterthwaite") reports; one df_method covers both. The
    first-stage F is also clubSandwich's HTZ Wald F (one constraint: no correction)."""
    ref = COEF.loc[model]
    row = _fit(data, ref)
    assert row["df"] == pytest.approx(ref["club_df"], rel=1e-6)
    assert row["se"] == pytest.approx(ref["club_se"], rel=1e-6)
    assert row["p_value"] == pytest.approx(ref["club_p"], rel=1e-6)
    assert row["first_stage_f"] == pytest.approx(ref["club_wald_f"], rel=1e-6)


def test_ill_conditioned_covariate_gives_the_well_conditioned_answer(data):
    """x_nz has sd 1e-4 around 10. Rescaling it is the same model; R loses digits on the raw
    scale (estimatr df 9.39, clubSandwich df 1.01 instead of 9.42), ours does not."""
    raw, scaled = COEF.loc["cr2_received_nzv_raw"], COEF.loc["cr2_received_nzv"]
    row = _fit(data, raw)
    assert row["estimate"] == pytest.approx(raw["estimate"], rel=1e-6)
    assert row["se"] == pytest.approx(raw["std_error"], rel=1e-6)
    assert row["first_stage_f"] == pytest.approx(raw["first_stage_f"], rel=1e-6)
    assert row["df"] == pytest.approx(scaled["df"], rel=1e-8)
    assert raw["df"] != pytest.approx(scaled["df"], rel=1e-3)  # R's raw-scale df is off
    assert raw["club_df"] < 2


def test_weak_instrument_flag(data):
    for model in COEF.index:
        row = _fit(data, COEF.loc[model])
        assert row["weak_instrument"] == (COEF.loc[model, "first_stage_f"] < 10), model
    assert COEF.loc["cr2_received_weak", "first_stage_f"] < 10
    assert COEF.loc["cr2_share_weak", "first_stage_f"] < 10


def test_block_fixed_effects_as_covariates_are_the_same_model(data):
    d = data[data["set"] == "schools_16"]
    a = two_stage_cr2(d, outcome="y", endogenous="received", instrument="z", covariates=["x", "y0"],
                      fixed_effects=["block"], cluster="school")
    b = two_stage_cr2(d, outcome="y", endogenous="received", instrument="z",
                      covariates=["x", "y0", "block"], cluster="school")
    pd.testing.assert_frame_equal(a, b)


def test_columns_and_complete_cases(data):
    d = data[data["set"] == "schools_16"].copy()
    full = two_stage_cr2(d, outcome="y", endogenous="received", instrument="z", covariates=["x"],
                         cluster="school")
    assert list(full.columns) == COLUMNS and len(full) == 1
    d.loc[d.index[:5], "x"] = np.nan
    d.loc[d.index[5], "y"] = np.nan
    part = two_stage_cr2(d, outcome="y", endogenous="received", instrument="z", covariates=["x"],
                         cluster="school")
    assert part["n"].item() == full["n"].item() - 6
    # a bool dose and a bool assignment are the 0/1 model
    b = d.assign(received=d["received"].astype(bool), z=d["z"].astype(bool))
    pd.testing.assert_frame_equal(
        two_stage_cr2(b, outcome="y", endogenous="received", instrument="z", covariates=["x"],
                      cluster="school"), part)


def test_errors_name_the_problem(data):
    d = data[data["set"] == "schools_16"]
    with pytest.raises(ValueError, match=r"columns not in the data: \['nope'\]"):
        two_stage_cr2(d, outcome="y", endogenous="received", instrument="z", covariates=["nope"])
    with pytest.raises(ValueError, match="not identified"):
        two_stage_cr2(d.assign(received=0.0), outcome="y", endogenous="received", instrument="z",
                      cluster="school")
    with pytest.raises(ValueError, match="collinear with the covariates"):
        # fixed effects of the randomized unit absorb the assignment
        two_stage_cr2(d, outcome="y", endogenous="received", instrument="z",
                      fixed_effects=["school"], cluster="school")
    with pytest.raises(ValueError, match="at least 2 clusters"):
        two_stage_cr2(d.assign(school="one"), outcome="y", endogenous="received", instrument="z",
                      cluster="school")
    with pytest.raises(ValueError, match="must be numeric"):
        two_stage_cr2(d.assign(z=d["z"].map({0: "control", 1: "program"})), outcome="y",
                      endogenous="received", instrument="z")


@pytest.mark.parametrize("cluster", ["school", None])
def test_ar_p_value_is_the_reduced_form_test_of_assignment(data, cluster):
    """The Anderson-Rubin test of beta = 0 (one instrument) is the CR2 (HC2) test of the
    assignment in the ITT regression y ~ z + W, whichever dose is endogenous."""
    from analysis.cluster_robust import coef_test

    d = data[data["set"] == "schools_16"].reset_index(drop=True)
    X = np.column_stack([np.ones(len(d)), d["z"], d["x"], d["y0"]])
    itt = coef_test((X, d["y"].to_numpy()), d["school"].to_numpy() if cluster else None,
                    vcov="CR2" if cluster else "HC2",
                    test="Satterthwaite" if cluster else "naive").iloc[1]
    ps = [two_stage_cr2(d, outcome="y", endogenous=dose, instrument="z", covariates=["x", "y0"],
                        cluster=cluster)["ar_p_value"].item()
          for dose in ("received", "share")]
    assert ps[0] == pytest.approx(itt["p_value"], rel=1e-8)
    assert ps[1] == pytest.approx(ps[0], rel=1e-10)

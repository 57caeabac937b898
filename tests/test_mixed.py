"""Random-intercept REML against lme4::lmer (fixtures: tests/fixtures/r/mixed.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import random_intercepts

REF = Path(__file__).parent / "fixtures" / "r" / "mixed"
SECTOR = "C(sector, Treatment('Public'))"

# model name -> (data, outcome, groups, fixed, reml, lme4 term names, lme4 level names)
SPECS = {
    "hsb_null": ("hsb", "mAch", ["school"], None, True, ["(Intercept)"], ["school"]),
    "hsb_sector": ("hsb", "mAch", ["school"], SECTOR, True,
                   ["(Intercept)", "sectorCatholic"], ["school"]),
    "hsb_sector_ml": ("hsb", "mAch", ["school"], SECTOR, False,
                      ["(Intercept)", "sectorCatholic"], ["school"]),
    "hsb_ses": ("hsb", "mAch", ["school"], f"{SECTOR} + cses + meanses", True,
                ["(Intercept)", "sectorCatholic", "cses", "meanses"], ["school"]),
    "egs_null": ("egs", "math", ["schoolid", "childid"], None, True,
                 ["(Intercept)"], ["schoolid", "childid:schoolid"]),
    "egs_year": ("egs", "math", ["schoolid", "childid"], ["year"], True,
                 ["(Intercept)", "year"], ["schoolid", "childid:schoolid"]),
    "egs_year_ml": ("egs", "math", ["schoolid", "childid"], ["year"], False,
                    ["(Intercept)", "year"], ["schoolid", "childid:schoolid"]),
}


@pytest.fixture(scope="module")
def data():
    return {
        "hsb": pd.read_csv(REF / "Hsb82.csv", dtype={"school": str}),
        "egs": pd.read_csv(REF / "egsingle.csv", dtype={"schoolid": str, "childid": str}),
    }


@pytest.fixture(scope="module")
def fits(data):
    out = {}
    for name, (d, y, g, fx, reml, _, _) in SPECS.items():
        out[name] = random_intercepts(data[d], y, g, fixed=fx, reml=reml)
    return out


@pytest.mark.parametrize("name", list(SPECS))
def test_matches_lme4(fits, name):
    _, _, groups, _, reml, terms, levels = SPECS[name]
    fit = fits[name]
    fx = pd.read_csv(REF / "fixed.csv")
    fx = fx[fx["model"] == name].set_index("term").loc[terms]
    np.testing.assert_allclose(fit.fixed_effects["estimate"], fx["estimate"], rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(fit.fixed_effects["std_error"], fx["std_error"], rtol=1e-4)
    vc = pd.read_csv(REF / "varcomp.csv")
    vc = vc[vc["model"] == name].set_index("level").loc[[*levels, "residual"]]
    np.testing.assert_allclose(fit.variance_components["variance"], vc["variance"], rtol=1e-4)
    assert fit.variance_components["n_groups"].tolist() == vc["n_groups"].tolist()
    assert fit.variance_components["level"].tolist() == [*groups, "residual"]
    assert fit.residual_variance == pytest.approx(vc.loc["residual", "variance"], rel=1e-4)
    ref = pd.read_csv(REF / "fit.csv").set_index("model").loc[name]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-4)
    assert fit.n_obs == ref["n_obs"]
    assert fit.reml is reml and fit.converged


def test_raudenbush_bryk_table_4_2(fits):
    fit = fits["hsb_null"]
    assert round(fit.fixed_effects["estimate"].iloc[0], 2) == 12.64
    vc = fit.variance_components.set_index("level")["variance"]
    assert round(vc["school"], 2) == 8.61
    assert round(vc["residual"], 2) == 39.15
    icc = fit.variance_components.set_index("level")["icc"]
    assert icc["school"] == pytest.approx(8.614 / (8.614 + 39.148), abs=1e-4)
    assert icc.sum() == pytest.approx(1.0)


def test_wald_columns(fits):
    fe = fits["hsb_sector"].fixed_effects
    assert fe.columns.tolist() == ["term", "estimate", "std_error", "df", "statistic",
                                   "ci_low", "ci_high", "p_value"]
    row = fe.iloc[1]
    assert row["term"] == "C(sector, Treatment('Public'))[T.Catholic]"
    assert np.isinf(row["df"])
    assert row["statistic"] == pytest.approx(row["estimate"] / row["std_error"])
    assert row["ci_low"] == pytest.approx(row["estimate"] - 1.959964 * row["std_error"], rel=1e-6)
    assert row["p_value"] < 1e-9
    cov = fits["hsb_sector"].cov_params
    assert np.sqrt(np.diag(cov)) == pytest.approx(fe["std_error"].to_numpy())


def test_fixed_as_list_of_columns_equals_formula(data, fits):
    hsb = data["hsb"]
    fit = random_intercepts(hsb, "mAch", "school", fixed=["sector", "cses", "meanses"])
    assert fit.fixed_effects["term"].tolist()[1] == "sector[T.Public]"
    # Catholic is the reference here, so the sector effect flips sign
    ref = fits["hsb_ses"].fixed_effects["estimate"].to_numpy()
    assert fit.fixed_effects["estimate"].iloc[1] == pytest.approx(-ref[1], rel=1e-6)
    assert fit.loglik == pytest.approx(fits["hsb_ses"].loglik, abs=1e-6)


def test_inner_labels_are_nested_within_outer(data, fits):
    egs = data["egs"]
    # relabel children 0, 1, 2 ... within each school: labels now repeat across schools
    local = egs.groupby("schoolid")["childid"].transform(lambda s: pd.factorize(s)[0]).astype(str)
    fit = random_intercepts(egs.assign(childid=local), "math", ["schoolid", "childid"],
                            fixed=["year"])
    assert fit.n_groups == {"schoolid": 60, "childid": 1721}
    np.testing.assert_allclose(fit.variance_components["variance"],
                               fits["egs_year"].variance_components["variance"], rtol=1e-6)


def test_missing_rows_dropped(data, fits):
    hsb = data["hsb"].copy()
    hsb.loc[:9, "mAch"] = np.nan
    hsb.loc[10:19, "school"] = None
    fit = random_intercepts(hsb, "mAch", "school")
    assert fit.n_obs == len(hsb) - 20


def test_zero_cluster_variance_is_on_the_boundary():
    rng = np.random.default_rng(5)
    # between-cluster spread smaller than chance: REML estimate is exactly 0
    g = np.repeat(np.arange(20), 10)
    e = rng.normal(size=200)
    e = e - pd.Series(e).groupby(g).transform("mean").to_numpy()  # cluster means all 0
    fit = random_intercepts(pd.DataFrame({"y": 5 + e, "g": g}), "y", "g")
    vc = fit.variance_components.set_index("level")
    assert vc.loc["g", "variance"] == pytest.approx(0.0, abs=1e-8)
    assert fit.converged
    assert fit.fixed_effects["estimate"].iloc[0] == pytest.approx(5.0)


def test_balanced_one_way_equals_anova_estimator():
    rng = np.random.default_rng(7)
    k, m = 15, 8
    g = np.repeat(np.arange(k), m)
    y = rng.normal(0, 1.0, k)[g] + rng.normal(0, 2.0, k * m)
    d = pd.DataFrame({"y": y, "g": g})
    means = d.groupby("g")["y"].mean()
    msb = m * ((means - y.mean()) ** 2).sum() / (k - 1)
    msw = ((y - means.to_numpy()[g]) ** 2).sum() / (k * (m - 1))
    fit = random_intercepts(d, "y", "g")
    vc = fit.variance_components.set_index("level")["variance"]
    assert vc["residual"] == pytest.approx(msw, rel=1e-6)
    assert vc["g"] == pytest.approx((msb - msw) / m, rel=1e-6)
    se = fit.fixed_effects["std_error"].iloc[0]
    assert se == pytest.approx(np.sqrt(msb / (k * m)), rel=1e-6)


def test_bad_input(data):
    hsb = data["hsb"]
    with pytest.raises(ValueError, match="not in data"):
        random_intercepts(hsb, "mAch", "nope")
    with pytest.raises(ValueError, match="numeric"):
        random_intercepts(hsb, "sector", "school")
    with pytest.raises(ValueError, match="at least 2"):
        random_intercepts(hsb.assign(one="a"), "mAch", "one")
    with pytest.raises(ValueError, match="rank deficient"):
        random_intercepts(hsb.assign(ses2=2 * hsb["ses"]), "mAch", "school", fixed=["ses", "ses2"])
    with pytest.raises(ValueError, match="cannot build"):
        random_intercepts(hsb, "mAch", "school", fixed="nope + ses")
    with pytest.raises(ValueError, match="not identified"):
        random_intercepts(hsb.assign(s2=hsb["school"]), "mAch", ["school", "s2"])


def test_duplicate_index_labels_are_harmless(data, fits):
    hsb = data["hsb"]
    dup = hsb.set_index(pd.Index(np.zeros(len(hsb), dtype=int)))
    fit = random_intercepts(dup, "mAch", "school")
    assert fit.n_obs == len(hsb)
    assert fit.loglik == pytest.approx(fits["hsb_null"].loglik, abs=1e-6)

"""Random-intercept REML against lme4::lmer (fixtures: tests/fixtures/r/mixed.R)."""

import re
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


def test_wald_columns(data, fits):
    # ddf="normal": the Wald z; the default (Satterthwaite df, as lmerTest) is tested in
    # tests/test_mixed_satterthwaite.py
    fe = random_intercepts(data["hsb"], "mAch", "school", fixed=SECTOR, ddf="normal").fixed_effects
    assert fe.columns.tolist() == ["term", "estimate", "std_error", "df", "statistic",
                                   "ci_low", "ci_high", "p_value"]
    row = fe.iloc[1]
    assert row["term"] == "C(sector, Treatment('Public'))[T.Catholic]"
    assert np.isinf(row["df"])
    sat = fits["hsb_sector"].fixed_effects.iloc[1]
    assert 100 < sat["df"] < 160 and sat["std_error"] == pytest.approx(row["std_error"])
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
    # a level that repeats the one above is dropped, not an error (one class per school)
    assert random_intercepts(hsb.assign(s2=hsb["school"]), "mAch",
                             ["school", "s2"]).dropped_levels == ("s2",)


def test_duplicate_index_labels_are_harmless(data, fits):
    hsb = data["hsb"]
    dup = hsb.set_index(pd.Index(np.zeros(len(hsb), dtype=int)))
    fit = random_intercepts(dup, "mAch", "school")
    assert fit.n_obs == len(hsb)
    assert fit.loglik == pytest.approx(fits["hsb_null"].loglik, abs=1e-6)


# ---- the variance boundary (issue 9, section 2; fixtures: tests/fixtures/r/mixed_boundary.R) ----

BREF = Path(__file__).parent / "fixtures" / "r" / "mixed_boundary"
CHEM = {  # model -> fixed effects (lme4 formula in fit.csv)
    "chem_null": None,
    "chem_gcse": ["gcsescore"],
    "chem_gcse_ml": ["gcsescore"],
    "chem_gcse_gender": ["gcsescore", "gender"],
    "chem_lea_trt": ["gcsescore", "lea_trt"],
}
BFIT = pd.read_csv(BREF / "fit.csv")
BMODELS = list(dict.fromkeys(BFIT["model"]))


def _lme4_term(name: str) -> str:
    """patsy column name -> lme4 name: Intercept -> (Intercept), gender[T.M] -> genderM."""
    if name == "Intercept":
        return "(Intercept)"
    return re.sub(r"^(.*)\[T\.(.*)\]$", r"\1\2", name)


def _lme4_level(level: str, groups: list[str]) -> str:
    """Our level name -> lme4's: the inner level of (1 | school/class) is class:school."""
    i = groups.index(level)
    return level if i == 0 else ":".join(reversed(groups[: i + 1]))


@pytest.fixture(scope="module")
def boundary_data():
    chem = pd.read_csv(BREF / "chem97.csv.gz", dtype={"lea": str, "school": str})
    chem["lea_trt"] = chem["lea"].astype(int) % 2  # made-up LEA-level arm, as in the R script
    sim = pd.read_csv(BREF / "sim.csv.gz", dtype={"school": str, "cluster": str},
                      keep_default_na=False)
    return chem, sim


def _boundary_spec(name, boundary_data):
    chem, sim = boundary_data
    row = BFIT[(BFIT["model"] == name) & (BFIT["fit"] == "default")].iloc[0]
    if name in CHEM:
        return chem, "score", ["lea", "school"], CHEM[name], bool(row["reml"])
    d = sim[sim["set"] == int(row["set"])]
    groups = ["cluster"] if (d["school"] == "").all() else ["school", "cluster"]
    return d, "y", groups, ["treat", "x"], bool(row["reml"])


@pytest.fixture(scope="module")
def boundary_fits(boundary_data):
    out = {}
    for name in BMODELS:
        d, y, groups, fixed, reml = _boundary_spec(name, boundary_data)
        out[name] = (random_intercepts(d, y, groups, fixed=fixed, reml=reml), groups)
    return out


def test_boundary_fixture_covers_the_brief():
    fits = BFIT[BFIT["fit"] == "default"]
    sims = fits[fits["data"] == "sim"]
    two_level = sims[~sims["formula"].str.contains("/")]
    assert two_level["set"].nunique() >= 40
    assert two_level["singular"].any() and not two_level["singular"].all()
    assert (fits["data"] == "chem97").sum() == 5
    assert set(fits["reml"]) == {True, False}


@pytest.mark.parametrize("name", BMODELS)
def test_boundary_matches_lme4(boundary_fits, name):
    """At least lme4's log-likelihood (to 1e-6), and lme4's estimates at 1e-4
    relative; a variance is exactly 0 only where lme4 reports a singular fit."""
    fit, groups = boundary_fits[name]
    ref = BFIT[BFIT["model"] == name].set_index("fit")
    assert fit.converged
    # "converged" means at least as good as lme4, default or tight control
    assert fit.loglik >= ref["loglik"].max() - 1e-6
    best = ref["loglik"].idxmax()  # the better of lme4's two fits is the reference
    assert fit.loglik == pytest.approx(ref.loc[best, "loglik"], abs=1e-6)
    singular = bool(ref.loc[best, "singular"])
    assert fit.singular is singular

    vc = pd.read_csv(BREF / "varcomp.csv")
    vc = vc[(vc["model"] == name) & (vc["fit"] == best)].set_index("level")
    ours = fit.variance_components.set_index("level")
    resid = vc.loc["residual", "variance"]
    for level in groups:
        theirs = vc.loc[_lme4_level(level, groups), "variance"]
        mine = ours.loc[level, "variance"]
        if mine == 0.0:
            assert singular, f"{level}: variance 0 where lme4 is not singular ({theirs})"
        if singular and theirs < 1e-8 * resid:  # lme4's zero (theta < 1e-4)
            assert mine == 0.0
        else:
            assert mine == pytest.approx(theirs, rel=1e-4)
        assert ours.loc[level, "n_groups"] == vc.loc[_lme4_level(level, groups), "n_groups"]
    assert fit.residual_variance == pytest.approx(resid, rel=1e-4)

    fx = pd.read_csv(BREF / "fixed.csv")
    fx = fx[(fx["model"] == name) & (fx["fit"] == best)].set_index("term")
    fe = fit.fixed_effects.assign(term=fit.fixed_effects["term"].map(_lme4_term)).set_index("term")
    assert sorted(fe.index) == sorted(fx.index)
    fx = fx.loc[fe.index]
    np.testing.assert_allclose(fe["std_error"], fx["std_error"], rtol=1e-4)
    # estimates near 0: relative to their SE
    np.testing.assert_allclose(fe["estimate"], fx["estimate"], rtol=1e-4,
                               atol=1e-6 * fx["std_error"].max())


def test_chem97_top_level_variance_not_stuck_at_zero(boundary_fits):
    """Failed before the fix: the relative-SD L-BFGS-B stopped at LEA variance 0
    (log-likelihood 1.3755 below lme4's) and called it converged."""
    fit, _ = boundary_fits["chem_gcse_gender"]
    vc = fit.variance_components.set_index("level")["variance"]
    assert vc["lea"] == pytest.approx(0.020007034, rel=1e-4)
    assert fit.loglik == pytest.approx(-70555.377152615, abs=1e-6)


def test_chem97_se_of_a_top_level_effect(boundary_fits):
    """Failed before the fix: the SE of an LEA-level effect was 9.6% too small."""
    fit, _ = boundary_fits["chem_lea_trt"]
    fe = fit.fixed_effects.set_index("term")
    assert fe.loc["lea_trt", "std_error"] == pytest.approx(0.0619839925, rel=1e-4)


def test_a_stuck_point_is_not_converged(boundary_data):
    """The old optimum (LEA variance 0) fails the convergence check: the slope of
    the deviance in the variance ratio is negative there."""
    from analysis.mixed import _codes, _design, _kkt, _NestedREML

    d, y, groups, fixed, reml = _boundary_spec("chem_gcse_gender", boundary_data)
    yv, x, dd = _design(d, y, groups, fixed)
    model = _NestedREML(yv - yv.mean(), x.to_numpy(float), _codes(dd, groups), reml)
    fit = random_intercepts(d, y, groups, fixed=fixed, reml=reml)
    vc = fit.variance_components["variance"].to_numpy()
    phi = vc[:-1] / vc[-1]
    assert _kkt(model.deviance, phi)
    stuck = phi.copy()
    stuck[0] = 0.0  # LEA variance at 0, school variance at the optimum
    assert not _kkt(model.deviance, stuck)
    assert model.deviance(stuck) - model.deviance(phi) > 2.7


def test_one_class_per_school_is_fitted_without_the_redundant_level():
    # rural schools with a single class: class and school coincide, their variances are
    # not identified apart; the fit equals the school-only fit and says what it dropped
    rng = np.random.default_rng(3)
    school = np.repeat(np.arange(20), 25)
    d = pd.DataFrame({"y": rng.normal(0, 1, 20)[school] + rng.normal(0, 3, 500),
                      "school": school, "class_id": "1"})
    both = random_intercepts(d, "y", ["school", "class_id"])
    one = random_intercepts(d, "y", ["school"])
    assert both.dropped_levels == ("class_id",)
    vc = both.variance_components.set_index("level")
    assert list(vc.index) == ["school", "class_id", "residual"]
    assert np.isnan(vc.loc["class_id", "variance"])
    assert vc.loc["school", "variance"] == one.variance_components.set_index("level").loc[
        "school", "variance"]
    assert both.loglik == one.loglik and both.converged


def test_design_without_patsy_equals_patsy():
    """The intercept-only and text-column designs built without patsy are patsy's:
    the same rows, columns, names and values (missing values in a text column drop
    the row, as NA_action="drop"); mixed numeric and text columns in
    patsy's order (text columns first, then numeric ones)."""
    import patsy

    from analysis.mixed import _design

    rng = np.random.default_rng(4)
    n = 60
    df = pd.DataFrame({"y": rng.normal(size=n), "school": np.repeat(np.arange(6), 10),
                       "arm": np.where(np.arange(n) % 2, "t", "c"),
                       "grp": rng.choice(["b", "a", "c"], n), "x": rng.normal(size=n)})
    df.loc[3, "y"] = np.nan
    df.loc[5, "grp"] = None
    for fixed in (None, [], ["arm"], ["grp", "arm"], ["grp", "x", "arm"]):
        y, x, d = _design(df, "y", ["school"], fixed)
        rhs = " + ".join(fixed) if fixed else "1"
        keep = df["y"].notna()
        py, px = patsy.dmatrices(f"y ~ {rhs}", df[keep].reset_index(drop=True),
                                 return_type="dataframe", NA_action="drop")
        assert list(x.columns) == list(px.columns)
        assert np.array_equal(x.to_numpy(), px.to_numpy())
        assert np.array_equal(y, py.iloc[:, 0].to_numpy())
        rows = df[keep].reset_index(drop=True).loc[py.index]
        assert np.array_equal(np.asarray(d["school"]), rows["school"].to_numpy())

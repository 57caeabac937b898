"""CR2 / HC2 / CR1 against clubSandwich 0.5.8 and estimatr 1.0.0 (fixtures made by tests/fixtures/r/effects.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.cluster_robust import (
    CR2Design,
    coef_test,
    cr2_test_many,
    hc2_test_many,
    vcov_cr1,
    vcov_cr2,
    vcov_hc2,
    wald_test,
)

F = Path(__file__).parent / "fixtures" / "r" / "effects"
RTOL = 1e-4  # the tolerance; observed agreement is about 1e-10
COLS = ["estimate", "std_error", "df", "p_value"]


def _hsb():
    d = pd.read_csv(F / "hsb_subset.csv")
    X = pd.DataFrame(
        {
            "(Intercept)": 1.0,
            "catholic": d["catholic"],
            "ses": d["ses"],
            "female": d["female"],
            "minority": d["minority"],
            "factor(block)b2": (d["block"] == "b2") * 1.0,
            "factor(block)b3": (d["block"] == "b3") * 1.0,
        }
    )
    return d, X


def _mv():
    d = pd.read_csv(F / "mortality_mv.csv").dropna().reset_index(drop=True)
    X = d[["legal", "beertaxa", "beerpercap", "winepercap", "spiritpercap"]].astype(float)
    yr = pd.get_dummies(d["year"], prefix="factor(year)", prefix_sep="", dtype=float)
    st = pd.get_dummies(d["state"], prefix="factor(state)", prefix_sep="", dtype=float).iloc[:, 1:]
    return d, pd.concat([X, yr, st], axis=1)


def _case(name):
    if name.startswith("hsb"):
        d, X = _hsb()
        y, g, w = d["mach"], d["school"], 1 + d["ses"] ** 2
    else:
        d, X = _mv()
        y, g, w = d["mrate"], d["state"], d["pop"]
    return X, y.to_numpy(), g.to_numpy(), (w.to_numpy() if name.endswith("_w") else None)


def _compare(res, ref):
    ref = ref.set_index("term")
    res = res.set_index("term").loc[ref.index]
    for c in COLS:
        np.testing.assert_allclose(res[c], ref[c], rtol=RTOL, err_msg=c)


@pytest.mark.parametrize("name", ["hsb", "hsb_w", "mv", "mv_w"])
def test_cr2_satterthwaite_matches_clubsandwich(name):
    ref = pd.read_csv(F / "coef_clubsandwich.csv")
    X, y, g, w = _case(name)
    _compare(coef_test((X, y), g, weights=w), ref[ref["model"] == name])


@pytest.mark.parametrize("name", ["hsb", "hsb_w", "mv", "mv_w"])
@pytest.mark.parametrize("vcov,test,suffix", [("CR2", "Satterthwaite", "_CR2"), ("CR1", "naive", "_stata"), ("HC2", "naive", "_HC2")])
def test_matches_estimatr(name, vcov, test, suffix):
    ref = pd.read_csv(F / "coef_estimatr.csv")
    X, y, g, w = _case(name)
    _compare(coef_test((X, y), g, vcov=vcov, test=test, weights=w), ref[ref["model"] == name + suffix])


def test_mortality_case_has_singular_adjustment_and_still_matches():
    # state fixed effects make I - H_jj singular in every cluster (pseudo-inverse square root)
    X, y, g, _ = _case("mv")
    Xj = X.to_numpy()[g == g[0]]
    d = CR2Design(X, g)
    vals = np.linalg.eigvalsh(np.eye(len(Xj)) - Xj @ d.M @ Xj.T)
    assert vals.min() < 1e-10


def test_hsb_has_small_and_singleton_clusters():
    d, _ = _hsb()
    sizes = d["school"].value_counts()
    assert sizes.min() == 1 and (sizes == 2).any() and sizes.max() > 50


@pytest.mark.parametrize(
    "case,cols",
    [("hsb_minority", 1), ("hsb_ses_tert", 2), ("mv_legal_beertax", 0)],
)
def test_wald_htz_matches_clubsandwich(case, cols):
    ref = pd.read_csv(F / "wald_htz.csv").set_index("case").loc[case]
    if case == "mv_legal_beertax":
        X, y, g, _ = _case("mv")
        res = wald_test((X, y), g, ["legal", "beertaxa"])
    else:
        d, X = _hsb()
        if cols == 1:
            X["cxm"] = d["catholic"] * d["minority"]
            names = ["cxm"]
        else:
            X = X.drop(columns="ses")
            for s in ("s2", "s3"):
                X["ses" + s] = (d["ses_tert"] == s) * 1.0
            for s in ("s2", "s3"):
                X["cx" + s] = (d["ses_tert"] == s) * d["catholic"]
            names = ["cxs2", "cxs3"]
        res = wald_test((X, d["mach"]), d["school"].to_numpy(), names)
    r = res.iloc[0]
    for a, b in [("Fstat", "Fstat"), ("delta", "delta"), ("df_denom", "df_denom"), ("p_value", "p_val")]:
        assert r[a] == pytest.approx(ref[b], rel=RTOL)


def test_weighted_single_constraint_wald_equals_satterthwaite_t():
    # clubSandwich 0.5.8 returns NaN here (weighted lm, HTZ, q = 1); the identity F = t^2 must hold
    X, y, g, w = _case("mv_w")
    ct = coef_test((X, y), g, weights=w).set_index("term").loc["legal"]
    wt = wald_test((X, y), g, ["legal"], weights=w).iloc[0]
    assert wt["df_denom"] == pytest.approx(ct["df"], rel=1e-10)
    assert wt["Fstat"] == pytest.approx(ct["t"] ** 2, rel=1e-10)


def test_gram_matches_brute_force_weighted():
    rng = np.random.default_rng(0)
    n, g = 30, np.repeat(np.arange(6), 5)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    d = CR2Design(X, g, weights=rng.uniform(0.5, 2, n))
    C = np.array([[0, 1, 0], [0, 0, 1.0]])
    IH = np.eye(n) - X @ d.M @ X.T @ np.diag(d.w)
    G = d.G @ C.T
    a = np.zeros((2, 6, n))
    for s in range(2):
        for j in range(6):
            e = np.where(g == j, G[:, s], 0.0)
            a[s, j] = IH.T @ e
    np.testing.assert_allclose(d._gram(C), np.einsum("sjn,tkn->sjtk", a, a), atol=1e-12)


def test_statsmodels_result_input_and_hc2_equal_statsmodels():
    X, y, g, _ = _case("hsb")
    fit = sm.OLS(y, X).fit()
    a = coef_test(fit, g)
    b = coef_test((X, y), g)
    pd.testing.assert_frame_equal(a, b)
    hc2 = np.sqrt(np.diag(vcov_hc2(X, fit.resid)))
    np.testing.assert_allclose(hc2, sm.OLS(y, X).fit(cov_type="HC2").bse, rtol=1e-10)


def test_vcov_functions_agree_with_coef_test():
    X, y, g, _ = _case("hsb")
    fit = sm.OLS(y, X).fit()
    np.testing.assert_allclose(np.sqrt(np.diag(vcov_cr2(X, fit.resid, g))), coef_test(fit, g)["std_error"], rtol=1e-12)
    cr1 = coef_test(fit, g, vcov="CR1", test="naive")["std_error"]
    np.testing.assert_allclose(np.sqrt(np.diag(vcov_cr1(X, fit.resid, g))), cr1, rtol=1e-12)


def test_test_many_equals_one_at_a_time():
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(9), [3, 5, 8, 2, 6, 7, 4, 9, 1])
    n = len(g)
    X = np.column_stack([np.ones(n), (g % 2).astype(float), rng.normal(size=n)])
    Y = rng.normal(size=(5, n))
    many = cr2_test_many(Y, X, g, coef=1)
    for i in range(5):
        one = coef_test((X, Y[i]), g).iloc[1]
        for c in ["estimate", "std_error", "df", "p_value", "ci_low"]:
            assert many.loc[i, c] == pytest.approx(one[c], rel=1e-10)


@pytest.mark.parametrize("name", ["hsb", "mv"])
def test_hc2_test_many_matches_estimatr_for_every_coefficient(name):
    ref = pd.read_csv(F / "coef_estimatr.csv")
    ref = ref[ref["model"] == name + "_HC2"].set_index("term")
    X, y, _, _ = _case(name)
    Y = np.vstack([y, y[::-1]])  # a second outcome: the rows are tested one by one
    for k, term in enumerate(X.columns):
        many = hc2_test_many(Y, X, k)
        for c in COLS:
            assert many.loc[0, c] == pytest.approx(ref.loc[term, c], rel=RTOL), (term, c)
        one = coef_test((X, Y[1]), vcov="HC2", test="naive").iloc[k]
        for c in ["estimate", "std_error", "df", "p_value", "ci_low", "ci_high"]:
            assert many.loc[1, c] == pytest.approx(one[c], rel=1e-8, abs=1e-10), (term, c)


def test_hc2_test_many_refuses_leverage_one():
    X = np.column_stack([np.ones(5), [1.0, 0, 0, 0, 0]])  # the first row alone in its group
    with pytest.raises(ValueError, match="leverage 1"):
        hc2_test_many(np.ones((2, 5)), X, 1)


def test_bad_input_raises():
    X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    with pytest.raises(ValueError, match="at least 2 clusters"):
        coef_test((X, np.arange(6.0)), np.zeros(6))
    with pytest.raises(ValueError, match="rank deficient"):
        coef_test((np.column_stack([X, X[:, 1]]), np.arange(6.0)), np.arange(6) // 2)
    with pytest.raises(ValueError, match="vcov"):
        coef_test((X, np.arange(6.0)), np.arange(6) // 2, vcov="CR3")

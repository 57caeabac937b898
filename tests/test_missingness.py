"""The missingness summary (issue 15, item 1): the response model with CR2 against
clubSandwich on a glm, Little's MCAR test against a by-hand EM in base R
(tests/fixtures/r/mcar.R), and the tidy summary of missing waves, scales and items."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.missingness import (
    SUMMARY_COLUMNS,
    little_mcar_test,
    missing_summary,
    outcome_wide,
    response_model,
    response_panel,
)
from core.design import Design

REF = Path(__file__).parent / "fixtures" / "r" / "mcar"
CR2 = pd.read_csv(REF / "glm_cr2.csv")
MODEL = pd.read_csv(REF / "glm_model.csv")


@pytest.fixture(scope="module")
def panel():
    r = pd.read_csv(REF / "response.csv")
    return r.assign(_y0=r["baseline"], responded=r["responded"].astype(bool))


def _design(clusters=("school",)):
    return Design(type="cluster_randomized" if clusters else "randomized", id="id", arm="arm",
                  control="c", clusters=clusters, covariates=("gender", "age"))


@pytest.mark.parametrize("model", ["main", "interaction"])
def test_response_model_cr2_matches_clubsandwich_glm(panel, model):
    res = response_model(panel, _design(), interaction=model == "interaction").set_index("term")
    ref = CR2[CR2["model"] == model].set_index("term")
    for term, r in ref.iterrows():
        got = res.loc[term]
        assert got["estimate"] == pytest.approx(r["estimate"], rel=1e-8), term
        assert got["std_error"] == pytest.approx(r["std_error"], rel=1e-6), term
        assert got["df"] == pytest.approx(r["df"], rel=1e-6), term
        assert got["p_value"] == pytest.approx(r["p_value"], rel=1e-6), term
    assert (res["vcov"] == "CR2").all() and (res["n_clusters"] == 16).all()


def test_interaction_joint_test_matches_wald_htz(panel):
    ref = pd.read_csv(REF / "wald.csv").iloc[0]
    j = response_model(panel, _design(), interaction=True).set_index("term").loc[
        "joint: arm x baseline"]
    assert j["statistic"] == pytest.approx(ref["Fstat"], rel=1e-6)
    assert j["df"] == pytest.approx(ref["df_denom"], rel=1e-6)
    assert j["p_value"] == pytest.approx(ref["p_value"], rel=1e-6)


def test_response_model_without_clusters_is_summary_glm(panel):
    res = response_model(panel, _design(())).set_index("term")
    ref = MODEL[MODEL["model"] == "main"].set_index("term")
    np.testing.assert_allclose(res.loc[ref.index, "std_error"], ref["std_error"], rtol=1e-6)
    np.testing.assert_allclose(res.loc[ref.index, "p_value"], ref["p_value"], rtol=1e-6)
    assert (res["vcov"] == "model").all() and np.isinf(res["df"]).all()
    assert res.loc["arm[t]", "odds_ratio"] == pytest.approx(np.exp(ref.loc["arm[t]", "estimate"]))


def test_little_matches_by_hand_em_in_r():
    ref = pd.read_csv(REF / "little_result.csv").iloc[0]
    r = little_mcar_test(pd.read_csv(REF / "little.csv")).iloc[0]
    assert r["applicable"]
    assert r["statistic"] == pytest.approx(ref["statistic"], rel=1e-6)
    assert (r["df"], r["n"], r["n_patterns"]) == (ref["df"], ref["n"], ref["n_patterns"])
    assert r["p_value"] == pytest.approx(ref["p_value"], rel=1e-4)
    assert "can only reject" in r["caveat_en"] and "完全随机缺失" in r["caveat_zh"]


def test_little_keeps_mcar_and_says_when_it_does_not_apply():
    rng = np.random.default_rng(11)
    Y = rng.normal(size=(400, 3))
    Y[rng.random(400) < 0.3, 1] = np.nan
    Y[rng.random(400) < 0.2, 2] = np.nan
    r = little_mcar_test(pd.DataFrame(Y)).iloc[0]
    assert r["applicable"] and r["p_value"] > 0.01
    full = little_mcar_test(pd.DataFrame(rng.normal(size=(50, 2)))).iloc[0]
    assert not full["applicable"] and full["reason"] == "no missing values"
    assert np.isnan(full["statistic"])


def _long():
    # 6 children in 2 schools; child 6 never comes to the endline; child 2's endline
    # scale is missing (too few items); child 4 skipped item q2 at baseline
    ids = [1, 2, 3, 4, 5, 6]
    base = pd.DataFrame({"id": ids, "wave": "t0", "arm": ["c", "c", "c", "p", "p", "p"],
                         "school": ["A", "A", "B", "B", "B", "A"],
                         "y": [1.0, 2, 3, 4, 5, 6], "q1": [1, 1, 1, 1, 1, 1],
                         "q2": [1, 1, 1, np.nan, 1, 1]})
    end = base[base["id"] != 6].assign(wave="t1", y=[2.0, np.nan, 4, 5, 6])
    return pd.concat([base, end], ignore_index=True)


def test_missing_summary_counts_by_hand():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",),
               waves=("t0", "t1"))
    long = _long()
    items = long[["id", "wave", "arm", "school", "q1", "q2"]]
    t = missing_summary(long.drop(columns=["q1", "q2"]), d, outcomes=["y"], items=items)
    assert list(t.columns) == SUMMARY_COLUMNS

    def one(**kw):
        m = np.ones(len(t), dtype=bool)
        for k, v in kw.items():
            m &= (t[k] == v).to_numpy()
        assert m.sum() == 1, kw
        return t[m].iloc[0]

    w = one(kind="wave", wave="t1", level="arm", group="p")
    assert (w["n"], w["n_missing"]) == (3, 1)
    assert one(kind="wave", wave="t1", level="cluster", group="A")["n_missing"] == 1
    s = one(kind="scale", wave="t1", variable="y", level="overall")
    assert (s["n"], s["n_missing"], s["share_missing"]) == (5, 1, 0.2)
    i = one(kind="item", wave="t0", variable="q2", level="arm", group="p")
    assert (i["n"], i["n_missing"]) == (3, 1)
    assert one(kind="item", wave="t1", variable="q2", level="overall")["n_missing"] == 1


def test_response_panel_and_wide():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("school",),
               waves=("t0", "t1"))
    p = response_panel(_long(), "y", d)
    assert p["responded"].tolist() == [True, False, True, True, True, False]
    assert p["_y0"].tolist() == [1, 2, 3, 4, 5, 6]
    w = outcome_wide(_long(), ["y"], d)
    assert w.columns.tolist() == ["y@t0", "y@t1"] and w["y@t1"].isna().sum() == 2
    bad = _long()
    bad = pd.concat([bad, bad.iloc[[-1]]])
    with pytest.raises(ValueError, match="child 5 has two rows at the endline wave 't1'"):
        response_panel(bad, "y", d)


def test_response_model_of_a_one_group_design(panel):
    d = Design(type="pre_post", id="id", waves=("t0", "t1"), clusters=("school",),
               covariates=("age",))
    res = response_model(panel, d, interaction=True)
    assert res["term"].tolist() == ["(Intercept)", "baseline", "age"]
    assert (res["vcov"] == "CR2").all()


def test_response_model_names_a_separating_level(panel):
    sep = panel.assign(responded=np.where(panel["age"] == 9, True, panel["responded"]),
                       age=panel["age"].astype(str))
    with pytest.raises(ValueError, match=r"every child with age=9.0 \(\d+\) answered"):
        response_model(sep, _design())

"""analysis.effects: the effects table on simulated long data."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.cluster_robust import coef_test
from analysis.effects import (
    CAUSAL_STATEMENT,
    COLUMNS,
    SUBGROUP_COLUMNS,
    causal_statement,
    endline_frame,
    estimate_effects,
    subgroup_effects,
)
from core.design import Design

FIX = Path(__file__).parent / "fixtures" / "r" / "effects"


def _cluster_trial(J=12, seed=0, tau=2.0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 30, J)
    g = np.repeat(np.arange(J), sizes)
    n = len(g)
    arm = np.where(np.isin(g, np.arange(0, J, 2)), "program", "control")
    block = np.where(g < J // 2, "north", "south")
    u = rng.normal(0, 2, J)[g]
    y0 = 50 + u + rng.normal(0, 6, n)
    y1 = 0.6 * y0 + 20 + tau * (arm == "program") + u + rng.normal(0, 5, n)
    z1 = 0.5 * y0 + rng.normal(0, 8, n)
    sex = rng.choice(["boy", "girl"], n)
    age = rng.normal(12, 1, n)
    age[:5] = np.nan
    ids = [f"s{i}" for i in range(n)]
    base = pd.DataFrame({"id": ids, "wave": "baseline", "arm": arm, "school": g.astype(str), "block": block,
                         "age": age, "sex": sex, "wellbeing": y0, "lonely": y0 * 0.5})
    end = base.assign(wave="endline", wellbeing=y1, lonely=z1)
    end.loc[end.index[-4:], "wellbeing"] = np.nan  # attrition
    d = Design(type="cluster_randomized", id="id", waves=("baseline", "endline"), arm="arm",
               control="control", clusters=("school",), blocks="block", covariates=("age", "sex"))
    return pd.concat([base, end], ignore_index=True), d


def test_cluster_trial_table():
    data, d = _cluster_trial()
    res = estimate_effects(data, {"wb": "wellbeing", "lon": "lonely"}, d).tidy()
    assert list(res.columns) == COLUMNS
    assert set(res["model"]) == {"ols_cr2", "mixed_reml", "cluster_means", "did"}
    prim = res[res["primary"]]
    assert (prim["model"] == "ols_cr2").all() and len(prim) == 2
    assert (res["p_adjusted"] >= res["p_value"] - 1e-15).all()
    r = res[(res["model"] == "ols_cr2") & (res["outcome"] == "wb")].iloc[0]
    assert r["n_clusters"] == 12
    assert r["n_obs"] == (data["wave"] == "endline").sum() - 4 - 5  # attrition, missing age


def test_ols_cr2_row_equals_coef_test_on_the_same_matrix():
    data, d = _cluster_trial()
    res = estimate_effects(data, ["wellbeing"], d).tidy()
    end = data[data["wave"] == "endline"].reset_index(drop=True)
    base = data[data["wave"] == "baseline"].reset_index(drop=True)
    ok = end["wellbeing"].notna() & end["age"].notna()
    X = pd.DataFrame({"c": 1.0, "t": (end["arm"] == "program") * 1.0, "b": base["wellbeing"],
                      "age": end["age"], "girl": (end["sex"] == "girl") * 1.0,
                      "south": (end["block"] == "south") * 1.0})[ok]
    tab = coef_test((X, end.loc[ok, "wellbeing"]), end.loc[ok, "school"].to_numpy())
    r = res[res["model"] == "ols_cr2"].iloc[0]
    for c in ["estimate", "std_error", "df", "p_value", "ci_low"]:
        assert r[c] == pytest.approx(tab.loc[1, c], rel=1e-10)


def test_primary_switches_to_mixed_with_40_clusters():
    data, d = _cluster_trial(J=40, seed=3)
    res = estimate_effects(data, ["wellbeing"], d).tidy()
    assert res.loc[res["primary"], "model"].tolist() == ["mixed_reml"]
    m = res[res["model"] == "mixed_reml"].iloc[0]
    assert m["ci_low"] < 2.0 < m["ci_high"]


def test_holm_and_bh():
    # both outcomes primary: one family of two
    data, d = _cluster_trial()
    both = ["wellbeing", "lonely"]
    h = estimate_effects(data, both, d, adjust="holm", primary_outcomes=both).tidy()
    b = estimate_effects(data, both, d, adjust="bh", primary_outcomes=both).tidy()
    assert set(h["family"]) == {"primary"}
    p = h[h["model"] == "ols_cr2"]["p_value"].to_numpy()
    assert h[h["model"] == "ols_cr2"]["p_adjusted"].max() == pytest.approx(min(1, max(p.min() * 2, p.max())))
    assert (b["p_adjusted"] <= h["p_adjusted"] + 1e-15).all()
    none = estimate_effects(data, both, d, adjust="none", primary_outcomes=both).tidy()
    assert (none["p_adjusted"] == none["p_value"]).all()
    assert (h["p_adjusted"] > none["p_adjusted"]).any()


def test_pre_post_paired_t_and_statement():
    rng = np.random.default_rng(1)
    n = 60
    y0 = rng.normal(20, 4, n)
    y1 = y0 + 1 + rng.normal(0, 3, n)
    data = pd.DataFrame({"id": list(range(n)) * 2, "wave": ["pre"] * n + ["post"] * n, "s": np.r_[y0, y1]})
    d = Design(type="pre_post", id="id", waves=("pre", "post"))
    result = estimate_effects(data, ["s"], d)
    res = result.tidy()
    r = res.iloc[0]
    tt = stats.ttest_rel(y1, y0)
    assert r["model"] == "paired_t" and r["primary"]
    assert r["estimate"] == pytest.approx(np.mean(y1 - y0))
    assert r["p_value"] == pytest.approx(tt.pvalue, rel=1e-10)
    assert r["effect_size"] == pytest.approx(np.mean(y1 - y0) / np.std(y1 - y0, ddof=1))
    assert "d_av" in result.paired_effect_sizes.columns
    assert result.causal_statement == CAUSAL_STATEMENT
    assert " ".join(result.summary().split()).endswith(CAUSAL_STATEMENT["en"])
    assert "因果" in causal_statement(d, "zh")
    assert causal_statement(Design(type="randomized", id="id", arm="a", control="c")) is None


def test_randomized_without_clusters_uses_hc2():
    data, d = _cluster_trial()
    d2 = Design(type="randomized", id="id", waves=d.waves, arm="arm", control="control")
    res = estimate_effects(data, ["wellbeing"], d2).tidy()
    assert res["model"].tolist() == ["ancova_hc2", "did"]
    assert np.isnan(res["n_clusters"]).all()
    assert res.loc[0, "df"] == res.loc[0, "n_obs"] - 3


def test_subgroup_interaction_equals_single_constraint_test():
    data, d = _cluster_trial()
    res = subgroup_effects(data, ["wellbeing"], d, "sex").tidy()
    assert res["level"].tolist() == ["boy", "girl"]
    assert res["interaction_p"].nunique() == 1
    p = res["interaction_p"].iloc[0]
    assert 0 < p < 1
    assert (res["n_obs"].sum()) == (data["wave"] == "endline").sum() - 9


def test_bad_input():
    data, d = _cluster_trial()
    with pytest.raises(ValueError, match="not in data"):
        estimate_effects(data, ["nope"], d)
    with pytest.raises(ValueError, match="adjust"):
        estimate_effects(data, ["wellbeing"], d, adjust="bonferroni")


def test_missing_columns_are_named_once_in_the_order_of_the_message():
    """The columns checked are Design.structure + covariates + outcome columns; the message
    names the missing ones in its old order (id, wave, clusters, covariates, outcomes, then
    arm and blocks), each once even when an outcome is also a covariate."""
    data, d = _cluster_trial()
    cut = data.drop(columns=["school", "age", "arm", "block"])
    with pytest.raises(ValueError) as e:
        estimate_effects(cut, {"a": "nope", "b": "age"}, d)
    assert str(e.value) == "columns not in data: ['school', 'age', 'nope', 'arm', 'block']"
    with pytest.raises(ValueError, match=r"^columns not in data: \['id'\]$"):
        estimate_effects(data.drop(columns=["id"]), ["wellbeing"], d)


def test_the_wide_data_keep_the_design_columns_without_the_wave():
    """One row per respondent with Design.columns (minus the wave), each once, then y and y0."""
    data, d = _cluster_trial()
    d2 = dataclasses.replace(d, subgroups=("sex", "age"))  # subgroups that are also covariates
    data["class"] = data["school"] + "-1"
    d3 = dataclasses.replace(d2, clusters=("school", "class"))
    w = endline_frame(data, d3, "wellbeing")
    assert list(w.columns) == [c for c in d3.columns if c != d3.wave] + ["_y", "_y0"]
    assert list(w.columns) == ["id", "arm", "school", "class", "block", "age", "sex", "_y", "_y0"]
    assert w["id"].is_unique and len(w) == data["wellbeing"][data["wave"] == "endline"].notna().sum()


def test_every_name_callers_import_from_analysis_effects_is_the_one_of_its_module():
    """analysis.effects estimates; the result objects and the rules live in their own
    modules and are re-exported unchanged (the same objects)."""
    import analysis.effects as effects
    import analysis.effects_result as effects_result
    import analysis.effects_rules as effects_rules

    for module in (effects_result, effects_rules):
        for name in module.__all__:
            assert name in effects.__all__, name
            assert getattr(effects, name) is getattr(module, name), name
    assert {"estimate_effects", "subgroup_effects"} <= set(effects.__all__)
    assert not hasattr(effects_result, "estimate_effects")
    assert not hasattr(effects_rules, "EffectsResult")


def test_two_cluster_levels_give_every_model_including_cluster_means():
    """Regression: schools > classes; cluster means aggregate to the outer level only."""
    import numpy as np
    import pandas as pd

    from analysis.effects import estimate_effects
    from core.design import Design

    rng = np.random.default_rng(4)
    rows = []
    for s in range(12):
        arm = "t" if s % 2 else "c"
        u = rng.normal(0, .3)
        for k in range(3):
            v = rng.normal(0, .2)
            for i in range(10):
                pid = f"s{s}c{k}i{i}"
                y0 = u + v + rng.normal()
                y1 = y0 * .5 + u + v + (.4 if arm == "t" else 0) + rng.normal()
                for w, y in (("pre", y0), ("post", y1)):
                    rows.append({"id": pid, "wave": w, "arm": arm, "school": f"S{s}",
                                 "class": f"C{k}", "y": y})
    d = Design(type="cluster_randomized", id="id", waves=("pre", "post"), arm="arm",
               control="c", clusters=("school", "class"))
    res = estimate_effects(pd.DataFrame(rows), {"y": "y"}, d).tidy()
    assert set(res["model"]) == {"ols_cr2", "mixed_reml", "cluster_means", "did"}
    cm = res.loc[res["model"] == "cluster_means"].iloc[0]
    assert cm["n_clusters"] == 12 and cm["df"] == 12 - 3
    assert res.loc[res["primary"], "model"].tolist() == ["ols_cr2"]


def test_subgroups_with_a_level_in_one_cluster_give_nan_interaction_not_an_error():
    # zoo finding: pre/post with 3 schools, levels found in a single school made the HTZ
    # Wald test's covariance singular (LinAlgError) and failed 03_effects
    import numpy as np
    import pandas as pd

    from analysis.effects import subgroup_effects
    from core.design import Design

    rng = np.random.default_rng(1)
    m = 90
    pp = pd.DataFrame({"id": np.tile(range(m), 2), "wave": np.repeat(["pre", "post"], m),
                       "y": rng.normal(size=2 * m),
                       "school": np.tile(np.repeat(["s1", "s2", "s3"], 30), 2),
                       "g": np.tile(["r1" if i == 0 else "r2" if i == 89 else "common"
                                     for i in range(m)], 2)})
    des = Design(type="pre_post", id="id", waves=("pre", "post"), clusters=("school",),
                 subgroups=("g",))
    res = subgroup_effects(pp, {"y": "y"}, des, "g").tidy()
    assert res["interaction_p"].isna().all()
    common = res.set_index("level").loc["common"]
    assert common["n_clusters"] == 3 and np.isfinite(common["std_error"])


def test_result_tidy_is_a_copy_of_the_table_and_not_a_dataframe():
    data, d = _cluster_trial()
    result = estimate_effects(data, ["wellbeing"], d)
    tab = result.tidy()
    assert list(tab.columns) == COLUMNS
    assert tab["n_obs"].dtype == np.int64 and tab["n_clusters"].dtype == np.float64
    assert tab["primary"].dtype == bool
    tab.loc[0, "estimate"] = 99.0  # the caller's copy; the result is unchanged
    assert result.tidy().loc[0, "estimate"] != 99.0
    pd.testing.assert_frame_equal(result.tidy(), estimate_effects(data, ["wellbeing"], d).tidy(),
                                  check_exact=True)
    with pytest.raises(TypeError, match=r"\.tidy\(\)"):
        result["model"]
    assert result.primary_model == "ols_cr2" and result.n_clusters == 12


def test_result_counts_and_summary_report_children_and_clusters_per_arm():
    data, d = _cluster_trial()
    result = estimate_effects(data, {"wb": "wellbeing"}, d)
    end = data[(data["wave"] == "endline") & data["wellbeing"].notna()]
    want = end.groupby("arm").agg(n=("id", "size"), k=("school", "nunique"))
    c = result.counts.set_index("arm")
    assert c.loc["program", "n_children"] == want.loc["program", "n"]
    assert c.loc["control", "n_children"] == want.loc["control", "n"]
    assert c.loc["control", "n_clusters"] == want.loc["control", "k"] == 6
    text = result.summary()
    assert repr(result) == text
    lines = text.splitlines()
    assert lines[0] == ("Intervention effects: cluster_randomized design, 1 outcome, "
                        "primary model ols_cr2 (*)")
    assert (f"children with the endline outcome: program {want.loc['program', 'n']} "
            f"(6 clusters), control {want.loc['control', 'n']} (6 clusters)") in text
    assert "12 school clusters (fewer than 40)" in text
    tab = result.tidy().set_index("model")
    row = next(ln for ln in lines if ln.lstrip().startswith("ols_cr2 *"))
    assert f"{tab.loc['ols_cr2', 'estimate']:.3f}" in row
    assert f"[{tab.loc['ols_cr2', 'ci_low']:.3f}, {tab.loc['ols_cr2', 'ci_high']:.3f}]" in row
    assert f"{tab.loc['ols_cr2', 'df']:.1f}" in row
    assert row.split()[-4:-2] == [str(tab.loc["ols_cr2", "n_obs"]), "12"]
    assert row.split()[-2:] == [f"{tab.loc['ols_cr2', 'e_value']:.2f}",
                                f"{tab.loc['ols_cr2', 'e_value_ci']:.2f}"]
    # every model gets one Methods line; the caller's primary model is flagged
    assert all(f"  {m}: " in text for m in tab.index)
    over = estimate_effects(data, {"wb": "wellbeing"}, d, primary_model="mixed_reml")
    assert "chosen by the caller (the design's rule gives ols_cr2)" in over.summary()


def test_subgroup_result_tidy_and_summary():
    data, d = _cluster_trial()
    result = subgroup_effects(data, ["wellbeing"], d, "sex")
    tab = result.tidy()
    assert list(tab.columns) == SUBGROUP_COLUMNS
    text = result.summary()
    assert repr(result) == text
    assert f"interaction p = {tab['interaction_p'].iloc[0]:.3f}" in text
    assert "clustered by school" in text
    with pytest.raises(TypeError, match=r"\.tidy\(\)"):
        result["level"]


def _hsb_subgroup(subgroup: str):
    """High School and Beyond subset (tests/fixtures/r/effects.R) as a one-wave comparison:
    Catholic schools ("arm" 1) against public schools, clustered by school."""
    h = pd.read_csv(FIX / "hsb_subset.csv", dtype={"school": str})
    h = h.assign(id=np.arange(len(h)), wave="w", arm=h["catholic"].astype(str))
    cov = ("ses", "female") if subgroup == "minority" else ("female", "minority")
    d = Design(type="cross_sectional", id="id", waves=("w",), arm="arm", control="0",
               clusters=("school",), blocks="block", covariates=cov)
    return h, d


@pytest.mark.parametrize("subgroup, case", [("ses_tert", "hsb_ses_tert"),
                                            ("minority", "hsb_minority")])
def test_subgroup_interaction_p_equals_clubsandwich_htz(subgroup, case):
    # replaces `assert callable(wald_test)` (issue 11): the interaction model of
    # subgroup_effects is R's lm(mach ~ catholic * subgroup + covariates + factor(block)),
    # and its p must be clubSandwich::Wald_test(vcov = "CR2", test = "HTZ")
    ref = pd.read_csv(FIX / "wald_htz.csv").set_index("case").loc[case]
    h, d = _hsb_subgroup(subgroup)
    tab = subgroup_effects(h, {"mach": "mach"}, d, subgroup).tidy()
    assert tab["interaction_p"].nunique() == 1
    assert tab["interaction_p"].iloc[0] == pytest.approx(ref["p_val"], rel=1e-10)  # 6e-14 seen
    assert tab["n_obs"].sum() == len(h)


@pytest.mark.parametrize("seed", range(5))
def test_dummies_are_get_dummies_drop_first(seed):
    from analysis.effects import _dummies

    rng = np.random.default_rng(seed)
    pool = np.array(["a", "B", "b", "男", "女", "其他", "Z", "", " x", "é", None], dtype=object)
    for s in (pd.Series(rng.choice(pool, 40), dtype="str"),
              pd.Series(rng.choice(pool, 40), dtype=object).astype(str),
              pd.Series([2.5, 1, None, 2.5, 7], dtype=object)):
        x, names = _dummies(s, "c")
        want = pd.get_dummies(s, prefix="c", prefix_sep="=", drop_first=True, dtype=float)
        assert names == [str(c) for c in want.columns]
        np.testing.assert_array_equal(x, want.to_numpy())


def _adjust_interactions_by_merge(table, adjust):
    """adjust_interactions as first written (drop_duplicates, _adjust_within, merge)."""
    from analysis.effects import SUBGROUP_FAMILY, _adjust_within

    out = table.copy()
    out["interaction_p_adjusted"] = np.nan
    out["family"] = SUBGROUP_FAMILY
    keys = ["outcome", "arm", "subgroup"]
    one = out[keys + ["interaction_p"]].copy()
    for c in keys:
        one[c] = one[c].astype(object).where(one[c].notna(), "")
    one = one.drop_duplicates(subset=keys).reset_index(drop=True)
    one["interaction_p_adjusted"] = _adjust_within(
        one.assign(model=""), ["outcome", "model", "arm"], "interaction_p", adjust)
    merged = out[keys].astype(object).where(out[keys].notna(), "").merge(
        one[keys + ["interaction_p_adjusted"]], on=keys, how="left")
    out["interaction_p_adjusted"] = merged["interaction_p_adjusted"].to_numpy(dtype=float)
    return out


@pytest.mark.parametrize("adjust", ["holm", "bh", "none"])
def test_adjust_interactions_one_test_per_subgroup_within_outcome_and_arm(adjust):
    from analysis.effects import adjust_interactions

    rng = np.random.default_rng(4)
    for _ in range(60):
        m = int(rng.integers(1, 30))
        t = pd.DataFrame({
            "outcome": rng.choice(np.array(["y1", "y2", None], dtype=object), m),
            "arm": rng.choice(np.array(["t", "u", None], dtype=object), m),
            "subgroup": rng.choice(["sex", "age", "grade"], m),
            "level": rng.choice(["a", "b"], m),
            "interaction_p": rng.choice([0.01, 0.04, 0.3, np.nan, 0.5, 0.002], m)})
        pd.testing.assert_frame_equal(adjust_interactions(t, adjust),
                                      _adjust_interactions_by_merge(t, adjust), check_exact=True)

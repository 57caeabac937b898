"""Issue 13, items 1-3: what the effects table estimates (``estimand``), the difference in
differences as the primary model of a controlled design, E-values per row, and the
multiplicity families (primary / secondary outcomes; subgroup interaction tests)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.effects import (
    COLUMNS,
    SUBGROUP_COLUMNS,
    adjust_interactions,
    estimand,
    estimate_effects,
    outcome_families,
    subgroup_effects,
)
from analysis.evalue import evalue_effect_row, evalue_smd
from core.design import Design


def _two_wave(design_type="randomized", *, n=240, seed=4, effects=(0.5, 0.3, 0.0),
              clusters=False, arm=True):
    """Long data: baseline and endline, three outcomes with the given true effects."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i}" for i in range(n)]
    g = np.where(np.arange(n) % 2 == 0, "program", "control")
    school = (np.arange(n) % 12).astype(str)
    sex = rng.choice(["girl", "boy"], n)
    age = rng.choice(["young", "old"], n)
    cols0, cols1 = {}, {}
    for k, tau in enumerate(effects):
        y0 = rng.normal(0, 1, n)
        cols0[f"y{k}"] = y0
        cols1[f"y{k}"] = 0.5 * y0 + tau * (g == "program") + rng.normal(0, 1, n)
    base = pd.DataFrame({"id": ids, "wave": "pre", "arm": g, "school": school, "sex": sex,
                         "age": age, **cols0})
    end = base.assign(wave="post", **cols1)
    kw = dict(type=design_type, id="id", waves=("pre", "post"))
    if arm:
        kw.update(arm="arm", control="control")
    if clusters:
        kw.update(clusters=("school",))
    data = pd.concat([base, end], ignore_index=True)
    if not arm:
        data = data.drop(columns="arm")
    return data, Design(**kw)


OUTCOMES = ["y0", "y1", "y2"]


# --- multiplicity families -------------------------------------------------------------------

def test_primary_outcome_is_its_own_family_and_secondary_are_adjusted_among_themselves():
    data, d = _two_wave()
    tab = estimate_effects(data, OUTCOMES, d, adjust="holm").tidy()
    prim = tab[tab["model"] == "ancova_hc2"].set_index("outcome")
    assert prim["family"].to_dict() == {"y0": "primary", "y1": "secondary", "y2": "secondary"}
    p = prim["p_value"]
    # the old rule: Holm across all three outcomes of the model
    old = pd.Series(multipletests(p.to_numpy(), method="holm")[1], index=p.index)
    # the new: the primary outcome keeps its p-value, the two secondary ones are adjusted
    assert prim.loc["y0", "p_adjusted"] == pytest.approx(p["y0"], rel=1e-12)
    sec = multipletests(p[["y1", "y2"]].to_numpy(), method="holm")[1]
    assert prim.loc[["y1", "y2"], "p_adjusted"].to_numpy() == pytest.approx(sec, rel=1e-12)
    # and the example is one where the two rules differ
    assert not np.allclose(old.to_numpy(), prim["p_adjusted"].to_numpy())
    assert old["y0"] > prim.loc["y0", "p_adjusted"]


def test_families_follow_the_primary_outcomes_given():
    data, d = _two_wave()
    res = estimate_effects(data, OUTCOMES, d, primary_outcomes=["y0", "y1"])
    tab = res.tidy()
    prim = tab[tab["model"] == "ancova_hc2"].set_index("outcome")
    assert prim["family"].tolist() == ["primary", "primary", "secondary"]
    both = multipletests(prim.loc[["y0", "y1"], "p_value"].to_numpy(), method="holm")[1]
    assert prim.loc[["y0", "y1"], "p_adjusted"].to_numpy() == pytest.approx(both)
    assert prim.loc["y2", "p_adjusted"] == prim.loc["y2", "p_value"]  # a family of one
    assert res.family_size("primary", "ancova_hc2", "program") == 2
    assert res.family_size("secondary", "ancova_hc2", "program") == 1
    assert "primary (2 outcomes), secondary (1 outcome)" in " ".join(res.summary().split())


def test_family_of_one_keeps_its_p_value_under_holm_and_bh():
    data, d = _two_wave()
    for method in ("holm", "bh"):
        tab = estimate_effects(data, ["y0", "y1"], d, adjust=method).tidy()
        assert np.allclose(tab["p_adjusted"], tab["p_value"], rtol=0, atol=0), method


def test_adjust_none_is_honoured_and_the_families_still_named():
    data, d = _two_wave()
    tab = estimate_effects(data, OUTCOMES, d, adjust="none").tidy()
    assert (tab["p_adjusted"] == tab["p_value"]).all()
    assert set(tab["family"]) == {"primary", "secondary"}
    sg = subgroup_effects(data, OUTCOMES, d, "sex", adjust="none").tidy()
    assert (sg["interaction_p_adjusted"] == sg["interaction_p"]).all()
    both = pd.concat([sg, subgroup_effects(data, OUTCOMES, d, "age").tidy()])
    assert (adjust_interactions(both, "none")["interaction_p_adjusted"]
            == both["interaction_p"]).all()


def test_outcome_families_default_is_the_first_outcome():
    assert outcome_families(["a", "b"]) == {"a": "primary", "b": "secondary"}
    assert outcome_families(["a", "b"], ["zz"]) == {"a": "primary", "b": "secondary"}
    assert outcome_families(["a"], ["a"]) == {"a": "primary"}


def test_subgroup_interaction_tests_are_one_family_per_outcome_and_arm():
    data, d = _two_wave()
    parts = [subgroup_effects(data, OUTCOMES, d, sg).tidy() for sg in ("sex", "age")]
    for p in parts:  # one subgroup alone: a family of one per outcome and arm
        assert list(p.columns) == SUBGROUP_COLUMNS
        assert (p["interaction_p_adjusted"] == p["interaction_p"]).all()
        assert set(p["family"]) == {"subgroup_interaction"}
    both = adjust_interactions(pd.concat(parts, ignore_index=True), "holm")
    for oid in OUTCOMES:
        sub = both[both["outcome"] == oid].drop_duplicates("subgroup").set_index("subgroup")
        want = multipletests(sub["interaction_p"].to_numpy(), method="holm")[1]
        assert sub["interaction_p_adjusted"].to_numpy() == pytest.approx(want, rel=1e-12)
    # the family is not mixed across outcomes: three outcomes x two subgroups would give
    # larger adjusted p-values than two tests each
    assert (both["interaction_p_adjusted"] <= np.minimum(1, 2 * both["interaction_p"]) + 1e-12).all()


def test_pre_post_subgroup_family_has_no_arm():
    data, d = _two_wave("pre_post", arm=False)
    parts = [subgroup_effects(data, ["y0"], d, sg).tidy() for sg in ("sex", "age")]
    both = adjust_interactions(pd.concat(parts, ignore_index=True), "holm")
    p = both.drop_duplicates("subgroup")["interaction_p"].to_numpy()
    assert both.drop_duplicates("subgroup")["interaction_p_adjusted"].to_numpy() == \
        pytest.approx(multipletests(p, method="holm")[1])
    text = subgroup_effects(data, ["y0"], d, "sex").summary()
    assert text.startswith("Change by sex") and "arm" not in text.split("\n")[1]


# --- estimand and the primary model ----------------------------------------------------------

@pytest.mark.parametrize("kind, want", [
    ("randomized", "effect"), ("cluster_randomized", "effect"),
    ("controlled", "adjusted_difference"), ("cross_sectional", "adjusted_difference"),
    ("pre_post", "change"),
])
def test_estimand_per_design_type(kind, want):
    data, d = _two_wave(kind, clusters=kind == "cluster_randomized", arm=kind != "pre_post")
    if kind == "cross_sectional":
        data = data[data["wave"] == "post"]
        d = Design(type=kind, id="id", waves=("post",), arm="arm", control="control")
    res = estimate_effects(data, OUTCOMES, d)
    tab = res.tidy()
    assert list(tab.columns) == COLUMNS
    assert set(tab["estimand"]) == {want} and res.estimand == want == estimand(d)
    title = res.summary().splitlines()[0]
    assert title.startswith({"effect": "Intervention effects",
                             "adjusted_difference": "Adjusted differences",
                             "change": "Change"}[want])


def test_estimand_refuses_a_comparison_without_an_arm():
    with pytest.raises(ValueError, match="no comparison"):
        estimand(Design(type="cross_sectional", id="id"))


def test_controlled_with_baseline_has_did_primary_and_says_parallel_trends():
    data, d = _two_wave("controlled", clusters=True)
    res = estimate_effects(data, OUTCOMES, d)
    tab = res.tidy()
    assert res.primary_model == "did"
    assert tab.loc[tab["primary"], "model"].unique().tolist() == ["did"]
    text = " ".join(res.summary().split())
    assert "parallel trends" in text and "not randomized" in text
    # the did row is the change score regressed on arm, CR2 by school
    did = tab[(tab["model"] == "did") & (tab["outcome"] == "y0")].iloc[0]
    assert did["n_clusters"] == 12


def test_controlled_repeated_cross_sections_fall_back_to_the_adjusted_difference():
    """Waves of different children: no change score, so no did; the last wave's adjusted
    difference is primary instead of an error ('primary model did was not fitted')."""
    data, d = _two_wave("controlled", clusters=True)
    data.loc[data["wave"] == "post", "id"] = data.loc[data["wave"] == "post", "id"] + "_b"
    res = estimate_effects(data, ["y0"], d)
    tab = res.tidy()
    assert "did" not in set(tab["model"])
    assert res.primary_model == "ols_cr2"
    assert set(tab["estimand"]) == {"adjusted_difference"}
    assert "chosen by the caller" not in res.summary()


def test_controlled_without_baseline_keeps_the_ancova():
    data, _ = _two_wave("controlled")
    post = data[data["wave"] == "post"]
    d = Design(type="controlled", id="id", waves=("post",), arm="arm", control="control")
    res = estimate_effects(post, ["y0"], d)
    assert res.primary_model == "ancova_hc2"
    assert "did" not in set(res.tidy()["model"])


# --- E-values --------------------------------------------------------------------------------

def test_evalue_columns_equal_analysis_evalue_on_the_same_row():
    data, d = _two_wave("controlled", clusters=True)
    tab = estimate_effects(data, OUTCOMES, d).tidy()
    assert tab["e_value"].notna().all()
    for _, r in tab.iterrows():
        ev = evalue_effect_row(r)
        assert r["e_value"] == pytest.approx(float(ev["evalue"].iloc[0]), rel=1e-12)
        assert r["e_value_ci"] == pytest.approx(float(ev["evalue_ci"].iloc[0]), rel=1e-12)
        # and the R formulas directly: exp(0.91 g), the CI limit closer to 0
        direct = evalue_smd(r["effect_size"], ci_low=r["effect_size_ci_low"],
                            ci_high=r["effect_size_ci_high"])
        assert r["e_value"] == pytest.approx(float(direct["evalue"].iloc[0]), rel=1e-12)
        rr = math.exp(0.91 * abs(r["effect_size"]))
        assert r["e_value"] == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=1e-12)
        includes_0 = r["effect_size_ci_low"] <= 0 <= r["effect_size_ci_high"]
        assert (r["e_value_ci"] == 1.0) == includes_0


def test_evalues_are_nan_for_a_change():
    data, d = _two_wave("pre_post", arm=False, clusters=True)
    tab = estimate_effects(data, OUTCOMES, d).tidy()
    assert tab["e_value"].isna().all() and tab["e_value_ci"].isna().all()
    assert "E-value" not in estimate_effects(data, OUTCOMES, d).summary()


@pytest.mark.parametrize("clusters", [False, True])
def test_controlled_subgroups_are_the_did_within_each_level(clusters):
    data, d = _two_wave("controlled", clusters=clusters)
    sg = subgroup_effects(data, ["y0"], d, "sex").tidy().set_index("level")
    for lv in ("boy", "girl"):
        did = estimate_effects(data[data["sex"] == lv], ["y0"], d).tidy()
        did = did[did["model"] == "did"].iloc[0]
        for c in ("estimate", "std_error", "df", "n_obs"):
            assert sg.loc[lv, c] == pytest.approx(did[c], rel=1e-10), (lv, c)
    text = " ".join(subgroup_effects(data, ["y0"], d, "sex").summary().split())
    assert "Within a level: the difference in differences" in text

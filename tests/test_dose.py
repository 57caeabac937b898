"""Dose next to outcomes (issue 14, item 5): dose bands, complier effects by 2SLS with the
primary model's specification, contamination counts (analysis/dose.py)."""

import numpy as np
import pandas as pd
import pytest

from analysis.dose import (
    BANDS,
    COLUMNS,
    cace_not_applicable,
    contamination,
    dose_bands,
    dose_table,
)
from analysis.effects import estimate_effects
from analysis.iv import two_stage_cr2
from core.design import Design


def _trial(seed=1, n_schools=12, m=15, waves=("t0", "t1"), arms=("program",), compliance=0.7):
    """Long scores + dosage of a small cluster-randomized trial with non-compliance in both
    arms, blocks of 4 schools, a numeric and a text covariate."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), m)
    n = len(school)
    labels = ["control", *arms]
    arm_s = np.array([labels[i % len(labels)] for i in range(n_schools)])
    arm = arm_s[school]
    assigned = arm != "control"
    comp = rng.uniform(size=n) < compliance
    always = rng.uniform(size=n) < 0.1
    share = np.where(assigned & comp, rng.uniform(0.8, 1, n), np.where(assigned, rng.uniform(0, 0.79, n), 0.0))
    share = np.where(always, rng.uniform(0.8, 1, n), share)
    age = rng.integers(8, 14, n).astype(float)
    sex = rng.choice(["f", "m"], n)
    y0 = rng.normal(size=n) + 0.1 * age
    y1 = 0.6 * y0 + 0.5 * (share >= 0.8) + rng.normal(0, 0.4, n_schools)[school] + rng.normal(size=n)
    ids = [f"k{i:03d}" for i in range(n)]
    base = pd.DataFrame({"id": ids, "arm": arm, "school": [f"s{s}" for s in school],
                         "block": [f"b{s // 4}" for s in school], "age": age, "sex": sex})
    if len(waves) == 2:
        scores = pd.concat([base.assign(wave=waves[0], score=y0), base.assign(wave=waves[1], score=y1)],
                           ignore_index=True)
    else:
        scores = base.assign(wave=waves[0], score=y1)
    dosage = pd.DataFrame({"id": ids, "arm": arm, "share_met": share, "received": share >= 0.8,
                           "any_contact": share > 0})
    return scores, dosage


def _design(type_="cluster_randomized", waves=("t0", "t1"), clusters=("school",), blocks="block",
            covariates=("age", "sex")):
    return Design(type=type_, id="id", waves=waves, arm="arm", control="control", clusters=clusters,
                  blocks=blocks, covariates=covariates)


def test_columns_and_causal_status():
    scores, dosage = _trial()
    tab = dose_table(scores, dosage, _design(), "score")
    assert list(tab.columns) == COLUMNS
    status = tab.groupby("analysis")["causal_status"].unique().map(list).to_dict()
    assert status == {"cace_received": ["complier_effect"], "cace_share": ["dose_effect"],
                      "contamination": ["count"], "dose_band": ["association"]}
    bands = tab[tab["analysis"] == "dose_band"]
    assert bands["band"].tolist() == list(BANDS) * 2 and bands["arm"].tolist()[:4] == ["control"] * 4
    assert set(bands["measure"]) == {"change"}
    assert tab.attrs["cace_reason"] is None


@pytest.mark.parametrize("clusters", [("school",), ()])
def test_full_compliance_cace_is_the_primary_ancova(clusters):
    """With dose == assignment, 2SLS is the OLS of the primary model: same estimate, SE and
    df as estimate_effects' ols_cr2 (CR2 at the outermost cluster, Bell-McCaffrey df) or
    ancova_hc2, with the baseline, both covariates and the block fixed effects."""
    scores, dosage = _trial(seed=4)
    dosage["received"] = dosage["arm"] == "program"
    dosage["share_met"] = dosage["received"].astype(float)
    type_ = "cluster_randomized" if clusters else "randomized"
    design = _design(type_, clusters=clusters)
    tab = dose_table(scores, dosage, design, "score")
    eff = estimate_effects(scores, ["score"], design).tidy()
    prim = eff[eff["model"] == ("ols_cr2" if clusters else "ancova_hc2")].iloc[0]
    for analysis in ("cace_received", "cace_share"):
        row = tab[tab["analysis"] == analysis].iloc[0]
        for a, b in [("estimate", "estimate"), ("se", "std_error"), ("df", "df"), ("ci_low", "ci_low"),
                     ("p_value", "p_value")]:
            assert row[a] == pytest.approx(prim[b], rel=1e-9), (analysis, a)
        assert row["n"] == prim["n_obs"]
        assert row["df_method"] == ("bell_mccaffrey" if clusters else "n_minus_p")
        assert np.isinf(row["first_stage_f"]) and not row["weak_instrument"]


@pytest.mark.parametrize("clusters", [("school",), ()])
def test_ar_p_value_is_the_primary_itt_p(clusters):
    """With partial compliance the Anderson-Rubin test of no effect is the primary model's
    test of assignment (the ITT): the same p in both CACE rows, while the Wald p differ."""
    scores, dosage = _trial(seed=2)
    design = _design("cluster_randomized" if clusters else "randomized", clusters=clusters)
    tab = dose_table(scores, dosage, design, "score").set_index("analysis")
    eff = estimate_effects(scores, ["score"], design).tidy()
    itt = eff[eff["model"] == ("ols_cr2" if clusters else "ancova_hc2")].iloc[0]
    for analysis in ("cace_received", "cace_share"):
        assert tab.loc[analysis, "ar_p_value"] == pytest.approx(itt["p_value"], rel=1e-9)
    assert tab.loc["cace_received", "p_value"] != pytest.approx(tab.loc["cace_share", "p_value"],
                                                                rel=1e-6)


def test_cace_is_two_stage_cr2_on_the_endline_with_baseline_covariates_and_blocks():
    scores, dosage = _trial(seed=2)
    # a covariate missing for one child at endline is taken from the baseline row
    scores.loc[(scores["wave"] == "t1") & (scores["id"] == "k000"), "age"] = np.nan
    tab = dose_table(scores, dosage, _design(), "score").set_index("analysis")
    wide = scores[scores["wave"] == "t0"][["id", "school", "block", "age", "sex", "arm", "score"]]
    wide = wide.rename(columns={"score": "y0"}).merge(
        scores.loc[scores["wave"] == "t1", ["id", "score"]], on="id").merge(dosage[["id", "share_met", "received"]])
    wide["z"] = (wide["arm"] == "program").astype(float)
    wide["received"] = wide["received"].astype(float)
    for analysis, dose in (("cace_received", "received"), ("cace_share", "share_met")):
        ref = two_stage_cr2(wide, outcome="score", endogenous=dose, instrument="z",
                            covariates=["y0", "age", "sex"], fixed_effects=["block"], cluster="school").iloc[0]
        row = tab.loc[analysis]
        for c in ["estimate", "se", "df", "ci_low", "ci_high", "p_value", "ar_p_value",
                  "first_stage_f"]:
            assert row[c] == pytest.approx(ref[c], rel=1e-9), (analysis, c)
        assert row["n"] == ref["n"] == len(wide)
        assert row["weak_instrument"] == ref["weak_instrument"]


def test_bands_by_hand_and_small_cells():
    scores, dosage = _trial(seed=3)
    tab = dose_table(scores, dosage, _design(), "score", min_cell=1)
    bands = tab[tab["analysis"] == "dose_band"].set_index(["arm", "band"])
    wide = scores.pivot(index="id", columns="wave", values="score")
    change = (wide["t1"] - wide["t0"]).rename("change").reset_index().merge(dosage)
    change["band"] = pd.cut(change["share_met"], [-np.inf, 0, 0.5 - 1e-12, 0.8 - 1e-12, np.inf],
                            labels=list(BANDS), right=True).astype(str)
    hand = change.groupby(["arm", "band"])["change"].agg(["size", "mean"])
    for key, r in hand.iterrows():
        assert bands.loc[key, "n"] == r["size"]
        assert bands.loc[key, "mean_change"] == pytest.approx(r["mean"], rel=1e-12)
    # the control arm's bands other than none hold the always-takers only: few children
    ctrl = bands.loc["control"]
    assert ctrl.loc["<50%", "n"] == 0 and np.isnan(ctrl.loc["<50%", "mean_change"])
    small = ctrl.loc[">=80%", "n"]
    assert 0 < small < 15
    sup = dose_table(scores, dosage, _design(), "score", min_cell=int(small) + 1)
    sb = sup[sup["analysis"] == "dose_band"].set_index(["arm", "band"])
    # the >=80% band is hidden, and with it the next smallest (none) so that the arm's total
    # cannot reveal it; an empty band (n = 0) reveals nothing and stays
    assert sb.loc[("control", ">=80%"), "suppressed"] and np.isnan(sb.loc[("control", ">=80%"), "n"])
    assert sb.loc[("control", "none"), "suppressed"] and np.isnan(sb.loc[("control", "none"), "mean_change"])
    assert sb.loc[("control", "<50%"), "n"] == 0 and not sb.loc[("control", "<50%"), "suppressed"]
    assert not sb.loc[("program", ">=80%"), "suppressed"]  # the compliers: a large band
    for _, r in sb[sb["suppressed"]].iterrows():  # nothing but counts / means is hidden
        assert np.isnan(r["n"]) and np.isnan(r["mean_change"]) and r["causal_status"] == "association"


def test_dose_bands():
    assert dose_bands([0.0, 0.49, 0.5, 0.799, 0.8, np.nan]).tolist() == \
        ["none", "<50%", "50-79%", "50-79%", ">=80%", "none"]
    assert dose_bands([0.6, 0.7], cuts=(0.25, 0.7)).tolist() == ["25-69%", ">=70%"]
    with pytest.raises(ValueError, match="increasing"):
        dose_bands([0.1], cuts=(0.8, 0.5))


def test_no_baseline_gives_levels():
    scores, dosage = _trial(waves=("t1",))
    tab = dose_table(scores, dosage, _design(waves=("t1",)), "score")
    bands = tab[tab["analysis"] == "dose_band"]
    assert set(bands["measure"]) == {"level"}
    prog = bands[(bands["arm"] == "program") & (bands["band"] == ">=80%")].iloc[0]
    merged = scores.merge(dosage[["id", "share_met"]])
    assert prog["mean_change"] == pytest.approx(
        merged.loc[(merged["arm"] == "program") & (merged["share_met"] >= 0.8), "score"].mean())
    assert {"cace_received", "cace_share"} <= set(tab["analysis"])


@pytest.mark.parametrize("type_", ["controlled", "cross_sectional"])
def test_non_randomized_designs_get_no_cace_and_a_reason(type_):
    scores, dosage = _trial()
    waves = ("t0", "t1") if type_ == "controlled" else ("t1",)
    if type_ == "cross_sectional":
        scores = scores[scores["wave"] == "t1"]
    tab = dose_table(scores, dosage, _design(type_, waves=waves), "score")
    assert set(tab["analysis"]) == {"dose_band", "contamination"}
    reason = tab.attrs["cace_reason"]
    assert reason == cace_not_applicable(_design(type_, waves=waves))
    assert "not assigned at random" in reason["en"] and "随机" in reason["zh"]


def test_contamination_counts_and_suppression():
    scores, dosage = _trial(seed=5)
    cont = contamination(dosage, control="control")
    ctrl = dosage[dosage["arm"] == "control"]
    assert cont["arm"].tolist() == ["control", "program"]
    assert cont.loc[0, "n"] == len(ctrl) and cont.loc[0, "n_with_contacts"] == ctrl["any_contact"].sum()
    k = int(ctrl["any_contact"].sum())
    assert k > 0
    row = dose_table(scores, dosage, _design(), "score").query("analysis == 'contamination'").iloc[0]
    assert row["n"] == k and row["estimate"] == pytest.approx(k / len(ctrl))
    assert row["arm"] == "control" and row["band"] == "any_contact" and pd.isna(row["outcome"])
    hidden = dose_table(scores, dosage, _design(), "score", min_cell=k + 1)
    hrow = hidden.query("analysis == 'contamination'").iloc[0]
    assert hrow["suppressed"] and np.isnan(hrow["n"]) and np.isnan(hrow["estimate"])
    with pytest.raises(ValueError, match="any_contact"):
        contamination(dosage.drop(columns="any_contact"), control="control")


def test_several_arms_each_against_the_control():
    scores, dosage = _trial(seed=6, n_schools=18, arms=("visits", "calls"))
    tab = dose_table(scores, dosage, _design(blocks=None), "score")
    cace = tab[tab["analysis"] == "cace_received"]
    assert sorted(cace["arm"]) == ["calls", "visits"]
    sub = scores[scores["arm"].isin(["control", "calls"])]
    alone = dose_table(sub, dosage[dosage["arm"].isin(["control", "calls"])], _design(blocks=None), "score")
    a = alone[alone["analysis"] == "cace_received"].iloc[0]
    b = cace[cace["arm"] == "calls"].iloc[0]
    assert a["estimate"] == pytest.approx(b["estimate"]) and a["n"] == b["n"]
    only = dose_table(scores, dosage, _design(blocks=None), "score", arms=["visits"])
    assert only.loc[only["analysis"] == "cace_share", "arm"].tolist() == ["visits"]


def test_dose_coding_missing_rows_and_errors():
    scores, dosage = _trial(seed=7)
    # nothing expected of a child (share NaN, received False): dose 0, band none
    dosage.loc[0, ["share_met", "received"]] = [np.nan, False]
    # a child without a dosage row is left out of the dose rows, with a note
    tab = dose_table(scores, dosage.iloc[:-1], _design(), "score")
    full = dose_table(scores, dosage.assign(share_met=dosage["share_met"].fillna(0.0)), _design(), "score")
    assert tab.loc[tab["analysis"] == "cace_share", "n"].item() == \
        full.loc[full["analysis"] == "cace_share", "n"].item() - 1
    assert any("no dosage row" in s for s in tab.attrs["notes"])
    with pytest.raises(ValueError, match="more than one row"):
        dose_table(scores, pd.concat([dosage, dosage.iloc[:1]]), _design(), "score")
    with pytest.raises(ValueError, match="'share_met' missing"):
        dose_table(scores, dosage.drop(columns="share_met"), _design(), "score")
    # an arm nobody in which received more than the control: not identified, a note, no row
    flat = dosage.assign(share_met=0.0, received=False)
    t = dose_table(scores, flat, _design(), "score")
    assert "cace_received" not in set(t["analysis"]) and any("not identified" in s for s in t.attrs["notes"])


def test_with_the_fidelity_dosage_table():
    """The contract with analysis.fidelity.dosage: its table goes in as it comes out."""
    fidelity = pytest.importorskip("analysis.fidelity")
    from datetime import date

    from core.protocol import ActivityRule, Protocol

    scores, _ = _trial(seed=8, n_schools=8, m=6)
    kids = scores[scores["wave"] == "t0"][["id", "arm", "school"]].reset_index(drop=True)
    p = Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30), activity_types=("home_visit",),
                 activities=(ActivityRule("home_visit", per="month"),))
    rng = np.random.default_rng(0)
    rows = []
    for _, k in kids.iterrows():
        months = 4 if k["arm"] == "program" and rng.uniform() < 0.7 else int(rng.uniform() < 0.2)
        rows += [{"id": k["id"], "activity": "home_visit", "date": pd.Timestamp(2024, 3 + i, 10)}
                 for i in range(months)]
    log = pd.DataFrame(rows)
    dosage = fidelity.dosage(log, None, kids, p, id="id", control="control")
    tab = dose_table(scores, dosage, _design(covariates=()), "score")
    assert {"cace_received", "cace_share", "contamination"} <= set(tab["analysis"])
    bands = tab[tab["analysis"] == "dose_band"]
    assert bands["n"].sum() == len(kids)


def test_one_group_design_gets_bands_only():
    scores, dosage = _trial(seed=9)
    scores = scores[scores["arm"] == "program"]
    design = Design(type="pre_post", id="id", waves=("t0", "t1"), clusters=("school",))
    tab = dose_table(scores, dosage, design, "score")
    assert set(tab["analysis"]) == {"dose_band"} and tab["arm"].isna().all()
    assert tab["n"].sum() == scores["id"].nunique()
    assert "one-group" in tab.attrs["cace_reason"]["en"] and "单组" in tab.attrs["cace_reason"]["zh"]

"""analysis.claims: intervals, the no-effect share (against an independent numerical
integration in R, tests/fixtures/r/change.R), the maturation drift and the sample sizes
(tests/fixtures/r/claims_n.R: pwr.t.test, integrate/uniroot, prop.test), and the verdicts."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.claims import (
    CLAIMS_COLUMNS,
    MIN_PER_GROUP,
    audit_claim,
    maturation_drift,
    maturation_share,
    null_improvement_share,
    sample_sizes,
)

FIX = Path(__file__).parent / "fixtures" / "r" / "change"
NULL = pd.read_csv(FIX / "null_share.csv")
NFIX = Path(__file__).parent / "fixtures" / "r" / "claims_n"
NREF = pd.read_csv(NFIX / "n.csv")
DRIFT = pd.read_csv(NFIX / "drift.csv")


@pytest.mark.parametrize("row", NULL.to_dict("records"))
def test_null_share_matches_numerical_integration(row):
    sel = None if row["q"] == 1 else {"below_percentile": 100 * row["q"]}
    r = null_improvement_share(row["rho"], improved=row["improved"], selection=sel).iloc[0]
    assert r["null_method"] == "analytic"
    assert r["null_proportion"] == pytest.approx(row["null_share"], abs=1e-9)


def test_null_share_basic_facts():
    assert null_improvement_share(0.8)["null_proportion"].item() == 0.5
    rc = null_improvement_share(0.8, improved="reliable_change")["null_proportion"].item()
    assert rc == pytest.approx(0.0249979, abs=1e-7)
    # regression to the mean: stronger selection and lower reliability -> higher share
    s = [null_improvement_share(r, selection={"below_percentile": 30})["null_proportion"].item()
         for r in (0.9, 0.8, 0.6)]
    assert 0.5 < s[0] < s[1] < s[2]


def test_null_share_simulated_for_short_scales():
    r = null_improvement_share(0.8, levels=5).iloc[0]
    assert r["null_method"] == "simulated" and r["mc_se"] > 0
    # ties count as not improved: P(up) = (1 - P(tie)) / 2 < 0.5
    assert 0.2 < r["null_proportion"] < 0.45
    # a fine scale approaches the continuous answer
    fine = null_improvement_share(0.8, levels=200, selection={"below_percentile": 30}).iloc[0]
    exact = null_improvement_share(0.8, selection={"below_percentile": 30}).iloc[0]
    assert abs(fine["null_proportion"] - exact["null_proportion"]) < 0.02
    # fixed seed: reproducible
    again = null_improvement_share(0.8, levels=5).iloc[0]
    assert again["null_proportion"] == r["null_proportion"]


def test_null_share_rejects_bad_input():
    with pytest.raises(ValueError):
        null_improvement_share(1.2)
    with pytest.raises(ValueError):
        null_improvement_share(0.8, improved="better")
    with pytest.raises(ValueError):
        null_improvement_share(0.8, selection={"below": 30})
    with pytest.raises(ValueError):
        null_improvement_share(0.8, selection={"below_percentile": 100})


def test_audit_of_the_82_percent_claim():
    a = audit_claim(0.82, 61, n_schools=1)
    t = a.table.iloc[0]
    assert list(a.table.columns) == list(CLAIMS_COLUMNS)
    assert list(a.table.columns[:13]) == [
        "claim", "claimed_proportion", "n", "ci_low", "ci_high", "cp_low", "cp_high",
        "null_proportion", "null_method", "observed_treatment", "observed_control", "verdict",
        "data_support"]
    ref = pd.read_csv(FIX / "prop_test.csv").query("x == 50 and n == 61").iloc[0]
    assert t["ci_low"] == pytest.approx(ref["ci_low"], abs=1e-10)
    assert t["ci_high"] == pytest.approx(ref["ci_high"], abs=1e-10)
    cp = pd.read_csv(FIX / "binom_test.csv").query("x == 50 and n == 61").iloc[0]
    assert t["cp_low"] == pytest.approx(cp["ci_low"], abs=1e-10)
    assert t["null_proportion"] == 0.5 and t["null_method"] == "analytic"
    assert t["ci_excludes_null"] and not t["has_comparison"] and not t["has_baseline"]
    assert t["data_support"] == "no_data"
    # the old two-proportion size (82% vs 50% as the program's effect: 33 per group) is gone
    assert "n_per_group_needed" not in a.table.columns
    assert [t["n_per_group_d20"], t["n_per_group_d30"], t["n_per_group_d50"]] == [394, 176, 64]
    en, zh = a.verdict("en"), a.verdict("zh")
    assert "33 children" not in en and "每组约33名" not in zh
    assert "cannot support the claim" in en and "nor does it show that the program had no effect" in en
    assert "no baseline" in en and "no comparison group" in en
    assert "394, 176 and 64 children per group" in en and "394、176、64名儿童" in zh
    assert "one school" in en and "71% to 90%" in en
    assert "不能支持" in zh and "对照组" in zh and "同一所学校" in zh
    assert t["verdict"] == en
    assert audit_claim(0.82, 61, lang="zh").table["verdict"].item().startswith("声称")
    assert a.paragraphs("en")[0].startswith("Claim:") and " ".join(a.paragraphs("en")) == en
    assert "".join(a.paragraphs("zh")) == zh


def test_without_a_baseline_the_claim_is_not_compared_with_the_no_change_share():
    """Issue 13.7: 'above the no-effect level' is misleading without a baseline."""
    for r in (0.8, 0.6):
        en = audit_claim(0.82, 61, reliability=r).verdict("en")
        assert "above that level" not in en and "above the" not in en
        assert "cannot be distinguished" not in en
        assert "What can be said" in en and "What cannot be said" in en
        assert "not a measured change" in en
        zh = audit_claim(0.82, 61, reliability=r).verdict("zh")
        assert "高于这一水平" not in zh and "能说的是" in zh and "不能说的是" in zh
    # with a baseline (a measured change) the comparison is made
    assert "The claimed share is above that level" in audit_claim(
        0.82, 61, has_baseline=True).verdict("en")


def test_the_single_school_example_data_do_not_support_the_claim():
    """Issue 13.7: 61% improved at all (Wilson 48-72%, excludes 82%), 25% reliably."""
    a = audit_claim(0.82, 61, reliability=0.797, has_baseline=True,
                    observed_by_definition={"any_increase": (37, 61),
                                            "reliable_change": (15, 61)})
    t = a.table.iloc[0]
    w = pd.read_csv(NFIX / "wilson.csv").set_index("x")
    assert t["observed_treatment"] == pytest.approx(37 / 61)
    assert t["observed_treatment_n"] == 61
    assert t["observed_treatment_ci_low"] == pytest.approx(w.loc[37, "ci_low"], abs=1e-10)
    assert t["observed_treatment_ci_high"] == pytest.approx(w.loc[37, "ci_high"], abs=1e-10)
    assert t["observed_any_increase_ci_low"] == t["observed_treatment_ci_low"]
    assert t["observed_reliable_change"] == pytest.approx(15 / 61)
    assert t["observed_reliable_change_ci_low"] == pytest.approx(w.loc[15, "ci_low"], abs=1e-10)
    assert t["observed_reliable_change_ci_high"] == pytest.approx(w.loc[15, "ci_high"], abs=1e-10)
    assert t["data_support"] == "below_claim"
    en, zh = a.verdict("en"), a.verdict("zh")
    assert "61% improved at all (any increase in score; 95% CI 48% to 72%)" in en
    assert "25% reliably improved" in en and "16% to 37%" in en
    assert "do not support the claim" in en
    assert "the observed 61% cannot be distinguished from it" in en
    assert "61%有所改善" in zh and "48%至72%" in zh and "不支持这一声称" in zh
    # consistent and above
    ok = audit_claim(0.62, 61, has_baseline=True, observed={"treatment": (37, 61)})
    assert ok.table["data_support"].item() == "consistent_with_claim"
    assert "consistent with the claimed share" in ok.verdict("en")
    hi = audit_claim(0.40, 61, has_baseline=True, observed={"treatment": (37, 61)})
    assert hi.table["data_support"].item() == "above_claim"
    # a bare share has no interval: nothing is compared
    bare = audit_claim(0.82, 61, observed={"treatment": 0.6})
    assert bare.table["data_support"].item() == "no_data"
    with pytest.raises(ValueError):
        audit_claim(0.82, 61, observed_by_definition={"better": (3, 10)})


@pytest.mark.parametrize("row", DRIFT.to_dict("records"))
def test_maturation_drift_matches_r(row):
    sel = None if row["q"] == 1 else {"below_percentile": 100 * row["q"]}
    d = maturation_drift(row["share"], row["reliability"], improved=row["improved"],
                         selection=sel)
    assert d == pytest.approx(row["drift"], abs=1e-7)
    if not np.isnan(row["closed"]):
        assert d == pytest.approx(row["closed"], abs=1e-12)
    # the inverse gives the share back
    back = maturation_share(d, row["reliability"], improved=row["improved"], selection=sel)
    assert back == pytest.approx(row["share"], abs=1e-8)


def test_maturation_example_of_the_issue():
    """A drift of 0.71 SD with reliability 0.7 gives 82%; 82% needs 0.71 SD."""
    assert maturation_share(0.71, 0.7) == pytest.approx(0.8203, abs=1e-4)
    assert maturation_drift(0.82, 0.7) == pytest.approx(0.7090, abs=1e-4)
    assert maturation_share(0.0, 0.7) == 0.5
    assert maturation_share(0.0, 0.8, improved="reliable_change") == pytest.approx(0.025, abs=1e-3)
    a = audit_claim(0.82, 61, reliability=0.7)
    assert a.table["maturation_drift_sd"].item() == pytest.approx(0.7090, abs=1e-4)
    assert "0.71 standard deviations" in a.verdict("en") and "0.71个标准差" in a.verdict("zh")
    assert "Φ(δ/√(2(1−r)))" in a.verdict("en")
    with pytest.raises(ValueError):
        maturation_drift(1.0, 0.7)


@pytest.mark.parametrize("row", NREF.to_dict("records"))
def test_sample_sizes_match_pwr(row):
    clusters = None if np.isnan(row["cluster_size"]) else [(row["cluster_size"], row["icc"])]
    s = sample_sizes([row["effect"]], alpha=row["alpha"], power=row["power"],
                     clusters=clusters).iloc[0]
    assert s["n_per_group_individual"] == row["n_per_group"]
    assert s["design_effect"] == pytest.approx(row["design_effect"], abs=1e-12)
    assert s["n_per_group"] == row["n_de"]
    assert s["below_minimum"] == (row["n_de"] < MIN_PER_GROUP)
    from analysis.power_analytic import power_t
    assert power_t(row["effect"], power=row["power"], alpha=row["alpha"])["n"].item() == \
        pytest.approx(row["n_tight"], abs=1e-6)


def test_sample_sizes_for_cluster_trials():
    s = sample_sizes([0.2, 0.3, 0.5], clusters=[(30, 0.1)])
    from analysis.power_analytic import power_cluster2
    for _, r in s.iterrows():
        j = power_cluster2(None, 30, 0.1, effect=r["effect"], power=0.8)["n_clusters"].item()
        assert r["clusters_per_group"] == math.ceil(j / 2)
        # the t df of few clusters cost more than the design effect alone
        assert r["clusters_per_group"] * 30 >= r["n_per_group"]
    three = sample_sizes([0.3], clusters=[(40, 0.05), (20, 0.03)]).iloc[0]
    assert three["design_effect"] == pytest.approx(1 + 39 * 0.05 + 19 * 0.03)
    assert three["clusters_per_group"] > 0
    with pytest.raises(ValueError):
        sample_sizes([0.3], clusters=[(20, 0.6), (10, 0.5)])
    with pytest.raises(ValueError):
        sample_sizes([0.0])


def test_fewer_than_20_per_group_comes_with_a_warning():
    a = audit_claim(0.82, 61, alpha=0.2, power=0.5)
    t = a.table.iloc[0]
    assert t["n_per_group_d50"] < 20 and t["sample_size_warning"]
    assert "Warning:" in a.verdict("en") and "fewer than 20" in a.verdict("en")
    assert "警告" in a.verdict("zh")
    plain = audit_claim(0.82, 61)
    assert not plain.table["sample_size_warning"].item() and "Warning" not in plain.verdict("en")
    # the reliable-change definition no longer gives a handful per group
    rc = audit_claim(0.82, 61, improved="reliable_change")
    assert rc.table["n_per_group_d50"].item() == 64


def test_clustered_sample_sizes_in_the_verdict():
    a = audit_claim(0.82, 61, clusters=[(30, 0.1)], cluster_label={"en": "schools", "zh": "学校"})
    t = a.table.iloc[0]
    assert t["design_effect"] == pytest.approx(3.9) and t["cluster_size"] == 30
    assert t["n_per_group_d30"] == math.ceil(176 * 3.9)
    assert "whole schools are assigned" in a.verdict("en") and "design effect 3.90" in a.verdict("en")
    assert "按学校整体分组" in a.verdict("zh")


def test_the_audit_uses_the_seed_it_is_given():
    """The simulated no-change share (short scales) depends on the seed, and only on it."""
    a1 = audit_claim(0.82, 61, levels=5, seed=1).table["null_proportion"].item()
    a2 = audit_claim(0.82, 61, levels=5, seed=2).table["null_proportion"].item()
    assert a1 == audit_claim(0.82, 61, levels=5, seed=1).table["null_proportion"].item()
    assert a1 != a2


def test_selected_children_and_low_reliability_make_the_claim_indistinguishable():
    a = audit_claim(0.82, 61, reliability=0.6, selection={"below_percentile": 30})
    t = a.table.iloc[0]
    assert t["ci_low"] < t["null_proportion"] < t["ci_high"]
    assert not t["ci_excludes_null"]
    assert "cannot be distinguished" not in a.verdict("en")
    assert "无法区分" not in a.verdict("zh")  # no baseline: no comparison with the level
    b = audit_claim(0.82, 61, reliability=0.6, selection={"below_percentile": 30},
                    has_baseline=True)
    assert "cannot be distinguished" in b.verdict("en") and "无法区分" in b.verdict("zh")


def test_observed_shares_by_arm():
    a = audit_claim(0.82, 61, observed={"treatment": (40, 60), "control": (33, 61)})
    t = a.table.iloc[0]
    assert t["observed_treatment"] == pytest.approx(40 / 60)
    assert t["observed_control"] == pytest.approx(33 / 61)
    assert t["has_comparison"]
    from analysis.change import risk_difference
    rd = risk_difference(40, 60, 33, 61).iloc[0]
    assert t["observed_diff_ci_low"] == pytest.approx(rd["ci_low"])
    assert "program group" in a.verdict("en") and "项目组" in a.verdict("zh")
    b = audit_claim(0.82, 61, observed={"treatment": 0.7})
    assert np.isnan(b.table["observed_control"].item()) and not b.table["has_comparison"].item()
    with pytest.raises(ValueError):
        audit_claim(0.82, 61, observed={"program": 0.7})


def test_reliable_change_definition_and_bad_input():
    a = audit_claim(0.3, 61, improved="reliable_change")
    assert a.table["null_proportion"].item() == pytest.approx(0.025, abs=1e-4)
    assert "reliable change" in a.verdict("en")
    eq = audit_claim(0.5, 60)
    assert eq.table["maturation_drift_sd"].item() == pytest.approx(0.0, abs=1e-12)
    assert "needs no growth at all" in eq.verdict("en")
    for bad in ({"proportion": 1.5, "n": 10}, {"proportion": 0.5, "n": 0},
                {"proportion": 0.5, "n": 10, "lang": "fr"}):
        with pytest.raises(ValueError):
            audit_claim(**bad)
    d = audit_claim(0.82, 61).to_dict()
    assert d["observed_control"] is None and set(d["verdicts"]) == {"en", "zh"}

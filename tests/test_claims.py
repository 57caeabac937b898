"""analysis.claims: intervals, the no-effect share (against an independent numerical
integration in R, tests/fixtures/r/change.R), sample size, and the verdicts."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.claims import audit_claim, null_improvement_share
from analysis.power import power_proportions

FIX = Path(__file__).parent / "fixtures" / "r" / "change"
NULL = pd.read_csv(FIX / "null_share.csv")


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
    cols = ["claim", "claimed_proportion", "n", "ci_low", "ci_high", "cp_low", "cp_high",
            "null_proportion", "null_method", "n_per_group_needed", "observed_treatment",
            "observed_control", "verdict"]
    assert list(a.table.columns[:13]) == cols
    ref = pd.read_csv(FIX / "prop_test.csv").query("x == 50 and n == 61").iloc[0]
    assert t["ci_low"] == pytest.approx(ref["ci_low"], abs=1e-10)
    assert t["ci_high"] == pytest.approx(ref["ci_high"], abs=1e-10)
    cp = pd.read_csv(FIX / "binom_test.csv").query("x == 50 and n == 61").iloc[0]
    assert t["cp_low"] == pytest.approx(cp["ci_low"], abs=1e-10)
    assert t["null_proportion"] == 0.5 and t["null_method"] == "analytic"
    n_exact = power_proportions(p1=0.82, p2=0.5, power=0.8)["n"].item()
    assert t["n_per_group_needed"] == math.ceil(n_exact) == 33
    assert t["ci_excludes_null"] and not t["has_comparison"] and not t["has_baseline"]
    en, zh = a.verdict("en"), a.verdict("zh")
    assert "cannot support the claim" in en and "nor does it show that the program had no effect" in en
    assert "no baseline" in en and "no comparison group" in en and "33 children per group" in en
    assert "one school" in en and "71% to 90%" in en
    assert "不能支持" in zh and "对照组" in zh and "每组约33名儿童" in zh and "同一所学校" in zh
    assert t["verdict"] == en
    assert audit_claim(0.82, 61, lang="zh").table["verdict"].item().startswith("声称")


def test_selected_children_and_low_reliability_make_the_claim_indistinguishable():
    a = audit_claim(0.82, 61, reliability=0.6, selection={"below_percentile": 30})
    t = a.table.iloc[0]
    assert t["ci_low"] < t["null_proportion"] < t["ci_high"]
    assert not t["ci_excludes_null"]
    assert "cannot be distinguished" in a.verdict("en")
    assert "无法区分" in a.verdict("zh")
    assert t["n_per_group_needed"] > 200


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
    assert np.isnan(eq.table["n_per_group_needed"].item())
    assert "no sample size" in eq.verdict("en")
    for bad in ({"proportion": 1.5, "n": 10}, {"proportion": 0.5, "n": 0},
                {"proportion": 0.5, "n": 10, "lang": "fr"}):
        with pytest.raises(ValueError):
            audit_claim(**bad)
    d = audit_claim(0.82, 61).to_dict()
    assert d["observed_control"] is None and set(d["verdicts"]) == {"en", "zh"}

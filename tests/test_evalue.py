"""E-values (analysis/evalue.py) against the EValue formulas in R (tests/fixtures/r/evalue.R)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.evalue import (
    COLUMNS,
    evalue_effect_row,
    evalue_hr,
    evalue_or,
    evalue_rr,
    evalue_smd,
    evalue_threshold,
    evalues_for_effects,
)

FIX = Path(__file__).parent / "fixtures" / "r" / "evalue"
TOL = 1e-10


def _na(x):
    return None if pd.isna(x) else float(x)


def _check(res: pd.DataFrame, ref: pd.Series):
    r = res.iloc[0]
    for mine, theirs in (("rr", "rr_point"), ("rr_ci_low", "rr_lower"), ("rr_ci_high", "rr_upper"),
                         ("evalue", "e_point")):
        if pd.isna(ref[theirs]):
            assert pd.isna(r[mine]), (mine, dict(ref))
        else:
            assert r[mine] == pytest.approx(ref[theirs], abs=TOL, rel=TOL), (mine, dict(ref))
    # R reports the CI E-value at the limit closer to the null and NA at the other one
    if pd.isna(ref["e_lower"]) and pd.isna(ref["e_upper"]):
        assert pd.isna(r["evalue_ci"]) and r["ci_limit"] is None
    elif pd.isna(ref["e_upper"]):
        assert r["ci_limit"] == "lower"
        assert r["evalue_ci"] == pytest.approx(ref["e_lower"], abs=TOL, rel=TOL), dict(ref)
    else:
        assert pd.isna(ref["e_lower"])
        assert r["ci_limit"] == "upper"
        assert r["evalue_ci"] == pytest.approx(ref["e_upper"], abs=TOL, rel=TOL), dict(ref)


def test_fixture_versions_recorded():
    import json
    v = json.loads((FIX / "versions.json").read_text())
    assert v["R"].startswith("R version") and "EValue" in v


@pytest.mark.parametrize("i", range(len(pd.read_csv(FIX / "rr.csv"))))
def test_rr_matches_r(i):
    ref = pd.read_csv(FIX / "rr.csv").iloc[i]
    _check(evalue_rr(ref["est"], _na(ref["lo"]), _na(ref["hi"]), true=ref["true"]), ref)


@pytest.mark.parametrize("i", range(len(pd.read_csv(FIX / "or.csv"))))
def test_or_matches_r(i):
    ref = pd.read_csv(FIX / "or.csv").iloc[i]
    res = evalue_or(ref["est"], ref["lo"], ref["hi"], rare=bool(ref["rare"]), true=ref["true"])
    _check(res, ref)
    assert res.loc[0, "rare"] == bool(ref["rare"])


@pytest.mark.parametrize("i", range(len(pd.read_csv(FIX / "hr.csv"))))
def test_hr_matches_r(i):
    ref = pd.read_csv(FIX / "hr.csv").iloc[i]
    _check(evalue_hr(ref["est"], ref["lo"], ref["hi"], rare=bool(ref["rare"]), true=ref["true"]), ref)


@pytest.mark.parametrize("i", range(len(pd.read_csv(FIX / "md.csv"))))
def test_md_matches_r(i):
    ref = pd.read_csv(FIX / "md.csv").iloc[i]
    _check(evalue_smd(ref["est"], ref["se"], true=ref["true"]), ref)


@pytest.mark.parametrize("i", range(len(pd.read_csv(FIX / "md_limits.csv"))))
def test_md_limits_match_r(i):
    ref = pd.read_csv(FIX / "md_limits.csv").iloc[i]
    _check(evalue_smd(ref["est"], ci_low=ref["lo"], ci_high=ref["hi"]), ref)


def test_fixture_grid_covers_the_cases():
    rr = pd.read_csv(FIX / "rr.csv")
    assert (rr["est"] < 1).any() and (rr["est"] > 1).any()
    assert (rr["e_lower"] == 1).any() or (rr["e_upper"] == 1).any()  # a CI crossing the null
    orr = pd.read_csv(FIX / "or.csv")
    assert set(orr["rare"]) == {True, False}
    md = pd.read_csv(FIX / "md.csv")
    assert (md["est"] < 0).any() and (md["est"] > 0).any()


def test_published_examples():
    # VanderWeele & Ding (2017): leukemia RR 0.80 (0.71, 0.91) -> 1.81 and 1.43;
    # breastfeeding RR 3.9 (1.8, 8.7) -> 7.26 and 3.0; smoking RR 10.73 -> 20.9.
    r = evalue_rr(0.80, 0.71, 0.91).iloc[0]
    assert round(r["evalue"], 2) == 1.81 and round(r["evalue_ci"], 2) == 1.43
    r = evalue_rr(3.9, 1.8, 8.7).iloc[0]
    assert round(r["evalue"], 2) == 7.26 and r["evalue_ci"] == pytest.approx(3.0, abs=1e-12)
    assert round(evalue_threshold(10.73), 1) == 20.9


def test_symmetry_and_direction():
    assert evalue_threshold(0.8) == pytest.approx(evalue_threshold(1.25), abs=1e-14)
    pos, neg = evalue_smd(0.4, 0.1).iloc[0], evalue_smd(-0.4, 0.1).iloc[0]
    assert pos["evalue"] == pytest.approx(neg["evalue"], abs=1e-14)
    assert pos["evalue_ci"] == pytest.approx(neg["evalue_ci"], abs=1e-14)
    assert pos["ci_limit"] == "lower" and neg["ci_limit"] == "upper"
    assert neg["rr"] < 1
    # larger effects need stronger confounding
    e = [evalue_smd(d, 0.1).loc[0, "evalue"] for d in (0.1, 0.2, 0.4, 0.8)]
    assert all(a < b for a, b in zip(e, e[1:]))


def test_ci_including_null_gives_one():
    for res in (evalue_rr(1.3, 0.9, 1.8), evalue_rr(0.7, 0.45, 1.05), evalue_smd(0.2, 0.12),
                evalue_smd(-0.1, ci_low=-0.26, ci_high=0.06), evalue_or(1.7, 0.9, 3.2, rare=False)):
        r = res.iloc[0]
        assert r["evalue_ci"] == 1.0 and bool(r["ci_includes_null"])
        assert r["evalue"] > 1.0


def test_point_at_null():
    r = evalue_rr(1.0, 0.8, 1.25).iloc[0]
    assert r["evalue"] == 1.0 and r["evalue_ci"] == 1.0 and r["ci_limit"] == "lower"
    assert evalue_smd(0.0, 0.1).loc[0, "evalue"] == 1.0


def test_tidy_columns():
    assert list(evalue_rr(2.0, 1.5, 2.5).columns) == COLUMNS
    assert list(evalue_smd(0.3, 0.1).columns) == COLUMNS


def test_bad_inputs():
    with pytest.raises(ValueError, match="outside its confidence interval"):
        evalue_rr(2.0, 2.5, 3.0)
    with pytest.raises(ValueError, match="above the upper limit"):
        evalue_rr(2.0, 3.0, 1.0)
    with pytest.raises(ValueError, match="non-negative|negative"):
        evalue_rr(-1.0)
    with pytest.raises(ValueError, match="rare"):
        evalue_or(2.0, 1.5, 2.5, rare=None)
    with pytest.raises(ValueError, match="either se or"):
        evalue_smd(0.3, 0.1, ci_low=0.1, ci_high=0.5)
    with pytest.raises(ValueError, match="negative"):
        evalue_smd(0.3, -0.1)


def _row(**kw):
    row = {"outcome": "rses.total", "arm": "program", "model": "ols_cr2", "estimate": 2.1,
           "std_error": 0.8, "ci_low": 0.4, "ci_high": 3.8, "effect_size": 0.21,
           "effect_size_ci_low": 0.04, "effect_size_ci_high": 0.38}
    row.update(kw)
    return row


def test_effect_row_uses_the_effect_size_limits():
    res = evalue_effect_row(_row())
    assert list(res.columns[:3]) == ["outcome", "arm", "model"]
    r = res.iloc[0]
    ref = evalue_smd(0.21, ci_low=0.04, ci_high=0.38).iloc[0]
    assert r["evalue"] == ref["evalue"] and r["evalue_ci"] == ref["evalue_ci"]
    # the outcome-scale estimate does not enter the numbers
    r2 = evalue_effect_row(_row(estimate=5.0, ci_low=1.0, ci_high=9.0)).iloc[0]
    assert r2["evalue_ci"] == r["evalue_ci"]
    assert r["rr"] == pytest.approx(math.exp(0.91 * 0.21), abs=1e-15)


def test_effect_row_se_variant_is_evalues_md():
    r = evalue_effect_row(_row(), ci="se").iloc[0]
    se_g = 0.8 * (0.38 - 0.04) / (3.8 - 0.4)
    ref = evalue_smd(0.21, se_g).iloc[0]
    assert r["evalue_ci"] == pytest.approx(ref["evalue_ci"], abs=1e-14)
    assert r["rr_ci_low"] == pytest.approx(math.exp(0.91 * 0.21 - 1.78 * se_g), abs=1e-14)


def test_effect_row_negative_and_null_crossing():
    r = evalue_effect_row(_row(estimate=-1.0, ci_low=-2.6, ci_high=0.6, effect_size=-0.1,
                               effect_size_ci_low=-0.26, effect_size_ci_high=0.06)).iloc[0]
    assert r["evalue_ci"] == 1.0 and r["ci_limit"] == "upper" and r["evalue"] > 1


def test_effect_row_refuses_inconsistent_and_prepost_rows():
    with pytest.raises(ValueError, match="opposite signs"):
        evalue_effect_row(_row(effect_size=-0.21, effect_size_ci_low=-0.38, effect_size_ci_high=-0.04))
    with pytest.raises(ValueError, match="includes 0"):
        evalue_effect_row(_row(ci_low=-0.1))
    with pytest.raises(ValueError, match="paired_t"):
        evalue_effect_row(_row(model="paired_t"))
    with pytest.raises(ValueError, match="change_cr2"):
        evalue_effect_row(_row(model="change_cr2"))
    with pytest.raises(ValueError, match="one-group"):
        evalue_effect_row(_row(arm=None))
    with pytest.raises(ValueError, match="effect_size"):
        evalue_effect_row({"estimate": 1.0})


def test_effect_row_missing_effect_size_gives_nan():
    r = evalue_effect_row(_row(effect_size=np.nan)).iloc[0]
    assert np.isnan(r["evalue"]) and r["measure"] == "SMD"


def test_evalues_for_real_effects_table():
    from analysis.effects import estimate_effects
    from core.design import Design
    rng = np.random.default_rng(3)
    n = 240
    ids = [f"p{i}" for i in range(n)]
    arm = np.where(np.arange(n) < n // 2, "program", "control")
    y0 = rng.normal(50, 10, n)
    y1 = y0 + 4 * (arm == "program") + rng.normal(0, 6, n)
    long = pd.DataFrame({"id": ids * 2, "wave": ["t0"] * n + ["t1"] * n,
                         "arm": list(arm) * 2, "score": np.r_[y0, y1]})
    d = Design(type="controlled", id="id", waves=("t0", "t1"), arm="arm", control="control")
    res = estimate_effects(long, ["score"], d)
    eff = res.tidy()
    ev = evalues_for_effects(eff)
    # the result object itself is accepted and gives the same table
    pd.testing.assert_frame_equal(evalues_for_effects(res), ev)
    assert len(ev) == int(eff["primary"].sum()) == 1
    prim = eff[eff["primary"]].iloc[0]
    r = ev.iloc[0]
    assert r["model"] == prim["model"]
    assert r["evalue"] == pytest.approx(evalue_threshold(math.exp(0.91 * prim["effect_size"])), abs=1e-12)
    # the CI E-value is 1 exactly when the model's CI includes 0
    assert (r["evalue_ci"] == 1.0) == bool(prim["ci_low"] <= 0 <= prim["ci_high"])
    assert len(evalues_for_effects(eff, primary_only=False)) == len(eff)

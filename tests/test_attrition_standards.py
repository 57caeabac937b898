"""WWC attrition boundaries (analysis/attrition_standards.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import attrition_standards as ats
from analysis.attrition_standards import COLUMNS, attrition_rates, boundary_table, wwc_attrition


def _cls(o, d, b):
    return wwc_attrition(o, d, boundary=b).loc[0, "attrition"]


def _max(o, b):
    return wwc_attrition(o, 0.0, boundary=b).loc[0, "max_differential_pp"]


@pytest.mark.parametrize(("overall", "cautious", "optimistic"), [
    (0, 5.7, 10.0), (5, 6.1, 10.5), (7, 6.3, 10.8), (10, 6.3, 10.9), (12, 6.2, 10.9),
    (14, 6.0, 10.8),
])
def test_known_points_where_both_transcriptions_agree(overall, cautious, optimistic):
    assert _max(overall, "cautious") == cautious
    assert _max(overall, "optimistic") == optimistic
    assert bool(wwc_attrition(overall, 0, boundary="optimistic").loc[0, "boundary_verified"])


@pytest.mark.parametrize(("overall", "cautious"), [(20, 5.4), (30, 4.1), (40, 2.6), (50, 1.0), (57, 0.0)])
def test_known_cautious_points(overall, cautious):
    assert _max(overall, "cautious") == cautious


def test_the_two_transcriptions_as_documented():
    # cautious: one column, 0..57; optimistic: A and B agree on 0-12 and 14, then B is A shifted by one row
    assert len(ats._CAUTIOUS) == 58 and len(ats._OPTIMISTIC_A) == 66 and len(ats._OPTIMISTIC_B) == 58
    a, b = ats._OPTIMISTIC_A, ats._OPTIMISTIC_B
    agree = [o for o in range(58) if a[o] == b[o]]
    assert agree == [*range(13), 14]
    assert all(b[o] == a[o - 1] for o in range(14, 58))
    t = boundary_table()
    assert t["optimistic_verified"].sum() == 14 and t["cautious_pp"].isna().sum() == 8


def test_disputed_optimistic_rows_give_undetermined_between_the_two_values():
    r = wwc_attrition(30, 8.3, boundary="optimistic").iloc[0]
    assert (r["max_differential_pp"], r["max_differential_pp_alt"]) == (8.2, 8.4)
    assert r["attrition"] == "undetermined" and not r["boundary_verified"]
    assert "undetermined" in r["explanation_en"] and "无法判定" in r["explanation_zh"]
    assert _cls(30, 8.2, "optimistic") == "low"
    assert _cls(30, 8.41, "optimistic") == "high"


def test_optimistic_at_least_cautious():
    for o in range(58):
        assert _max(o, "optimistic") > _max(o, "cautious")


def test_monotone_in_differential():
    order = {"low": 0, "undetermined": 1, "high": 2}
    for b in ("cautious", "optimistic"):
        for o in (0, 3.5, 10, 13, 22.2, 40, 57, 64):
            seq = [order[_cls(o, d, b)] for d in np.linspace(0, 15, 301)]
            assert seq == sorted(seq), (b, o)
            assert seq[-1] == 2


def test_boundary_shape():
    t = boundary_table()
    c = t["cautious_pp"].dropna().to_numpy()
    assert np.all(np.diff(c[:8]) >= 0) and np.all(np.diff(c[10:]) <= 0)
    for col in ("optimistic_pp", "optimistic_pp_alt"):
        v = t[col].dropna().to_numpy()
        assert np.all(np.diff(v[:9]) >= 0) and np.all(np.diff(v[12:]) <= 0)


def test_exactly_on_the_boundary_is_low():
    assert _cls(10, 6.3, "cautious") == "low"
    assert _cls(10, 6.31, "cautious") == "high"
    assert _cls(10, 6.3 + 1e-12, "cautious") == "low"       # floating-point noise
    assert _cls(10, 10.9, "optimistic") == "low"
    assert _cls(10, 10.91, "optimistic") == "high"
    assert _cls(57, 0.0, "cautious") == "low"
    assert _cls(57, 0.01, "cautious") == "high"
    assert _cls(65, 0.3, "optimistic") == "low"


def test_beyond_the_table_is_high():
    assert _cls(57.5, 0.0, "cautious") == "high"
    assert math.isnan(_max(58, "cautious"))
    assert _cls(65.2, 0.0, "optimistic") == "high"
    r = wwc_attrition(80, 0.0, boundary="optimistic").iloc[0]
    assert r["attrition"] == "high" and "65%" in r["explanation_en"]


def test_non_integer_overall_uses_the_stricter_neighbour():
    # 10.5%: rows 10 (6.3) and 11 (6.2) -> 6.2
    assert _max(10.5, "cautious") == 6.2
    assert _cls(10.5, 6.25, "cautious") == "high"
    assert _cls(10.0, 6.25, "cautious") == "low"
    # rising part of the curve: 6.5% -> rows 6 (6.2) and 7 (6.3) -> 6.2
    assert _max(6.5, "cautious") == 6.2


def test_county_example_14_vs_7():
    r = attrition_rates(396, 367, 382, 329)        # analysed 367/396 and 329/382
    assert r["attrition_t_pp"] == pytest.approx(100 * 29 / 396)
    assert r["attrition_c_pp"] == pytest.approx(100 * 53 / 382)
    assert r["overall_pp"] == pytest.approx(100 * 82 / 778)
    res = wwc_attrition(r["overall_pp"], r["differential_pp"], boundary="both")
    assert list(res.columns) == COLUMNS
    assert res["boundary"].tolist() == ["cautious", "optimistic"]
    assert res["attrition"].tolist() == ["high", "low"]
    assert res["differential_pp"].iloc[0] == pytest.approx(100 * (53 / 382 - 29 / 396))  # absolute value
    assert res["boundary_verified"].all()
    en, zh = res.loc[0, "explanation_en"], res.loc[0, "explanation_zh"]
    assert "high attrition under the WWC cautious boundary" in en and "6.2 points" in en
    assert "高流失" in zh and "谨慎" in zh and "6.2" in zh
    assert "低流失" in res.loc[1, "explanation_zh"] and "乐观" in res.loc[1, "explanation_zh"]
    # the same with round arm rates, equal arms: 14% and 7% -> overall 10.5%, differential 7 points
    res = wwc_attrition(10.5, 7.0, boundary="both")
    assert res["attrition"].tolist() == ["high", "low"]


def test_signed_differential_and_explanations_never_round_onto_the_boundary():
    assert _cls(10, -6.3, "cautious") == "low"
    r = wwc_attrition(10, 6.34, boundary="cautious").iloc[0]
    assert r["attrition"] == "high" and "6.34 percentage points" in r["explanation_en"]


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        wwc_attrition(120, 1)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        wwc_attrition(-1, 1)
    with pytest.raises(ValueError, match="NaN"):
        wwc_attrition(float("nan"), 1)
    with pytest.raises(ValueError, match="percentage points"):
        wwc_attrition(10, 150)
    with pytest.raises(ValueError, match="boundary must be"):
        wwc_attrition(10, 1, boundary="liberal")
    with pytest.raises(ValueError, match="treatment arm"):
        attrition_rates(100, 101, 100, 90)
    with pytest.raises(ValueError, match="control arm"):
        attrition_rates(100, 90, 0, 0)


@pytest.mark.parametrize(("overall", "diff", "cautious", "optimistic"), [
    (10, 6.6, "high", "low"),     # the brief's point: above 6.3 (cautious), below 10.9
    (10, 6.3, "low", "low"),      # on the cautious boundary
    (10, 11.0, "high", "high"),   # above both
    (30, 4.2, "high", "low"),     # cautious 4.1, optimistic 8.2
    (58, 0.0, "high", "low"),     # the cautious table ends at 57%
])
def test_classes_at_known_points_under_both_boundaries(overall, diff, cautious, optimistic):
    res = wwc_attrition(overall, diff, boundary="both").set_index("boundary")["attrition"]
    assert (res["cautious"], res["optimistic"]) == (cautious, optimistic)

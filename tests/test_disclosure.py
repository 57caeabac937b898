"""Small-cell suppression with complementary suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import merge_rare_levels, suppress_small_cells


def recoverable(out: pd.DataFrame, total: float, count: str = "n") -> bool:
    """True when exactly one cell is hidden, so ``total - shown`` gives it back."""
    hidden = out[count].isna().sum()
    return hidden == 1 and total - out[count].sum() >= 0


def test_single_small_cell_gets_a_complement_within_the_row_total():
    t = pd.DataFrame({"wave": ["baseline"] * 3, "arm": ["control", "program", "waitlist"],
                      "n": [40, 3, 25], "mean": [2.9, 3.4, 3.0], "sd": [0.5, 0.7, 0.6]})
    out = suppress_small_cells(t, count="n", min_cell=5, stats=["mean", "sd"], margins=["arm"],
                               by=["wave"])
    assert out["suppression_reason"].tolist()[1:] == ["small", "complementary"]
    assert pd.isna(out["suppression_reason"].iloc[0])
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["n"].isna().tolist() == [False, True, True]
    assert out[["mean", "sd"]].isna().to_numpy().tolist() == [[False, False], [True, True],
                                                              [True, True]]
    assert not recoverable(out, total=68)
    # without margins the small cell alone is suppressed and could be recovered from the total
    alone = suppress_small_cells(t, count="n", min_cell=5, stats=["mean"])
    assert alone["suppressed"].tolist() == [False, True, False]
    assert recoverable(alone, total=68)
    # input untouched
    assert t["n"].tolist() == [40, 3, 25] and "suppressed" not in t


def test_nothing_suppressed_at_min_cell_one():
    t = pd.DataFrame({"arm": list("abc"), "n": [1, 0, 2], "mean": [1.0, np.nan, 2.0]})
    out = suppress_small_cells(t, count="n", min_cell=1, stats=["mean"], margins=["arm"])
    assert not out["suppressed"].any()
    assert out["n"].tolist() == [1, 0, 2]
    assert out["suppression_reason"].isna().all()


def test_zero_counts_are_published_and_not_used_as_complements():
    t = pd.DataFrame({"arm": ["a", "b", "c", "d"], "n": [0, 2, 30, 9]})
    out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm"])
    assert out["n"].tolist()[0] == 0
    assert out["suppression_reason"].tolist()[1] == "small"
    assert out["suppression_reason"].tolist()[3] == "complementary"  # 9, not the zero
    assert out.attrs["suppression"] == {"min_cell": 5, "small": 1, "complementary": 1,
                                        "unprotected_groups": 0}


def test_zero_complement_only_when_nothing_else_is_left():
    t = pd.DataFrame({"arm": ["a", "b"], "n": [0, 3]})
    out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm"])
    assert out["suppression_reason"].tolist() == ["complementary", "small"]


def test_two_small_cells_need_no_complement():
    t = pd.DataFrame({"arm": list("abc"), "n": [2, 3, 40]})
    out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm"])
    assert out["suppression_reason"].tolist()[:2] == ["small", "small"]
    assert pd.isna(out["suppression_reason"].iloc[2])


def test_row_and_column_totals_iterate_until_stable():
    # school x arm; totals by school (across arms) and by arm (across schools) are published
    t = pd.DataFrame({
        "school": ["s1", "s1", "s2", "s2", "s3", "s3"],
        "arm": ["c", "p", "c", "p", "c", "p"],
        "n": [3, 20, 12, 15, 30, 8],
    })
    out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm", "school"])
    for key in ("school", "arm"):
        per = out.groupby(key)["suppressed"].sum()
        assert ((per == 0) | (per >= 2)).all(), per  # no row/column total gives a cell away
    # s1/c is small; the complements form the smallest rectangle s1/p, s2/c, s2/p
    # (a greedy "next-smallest" per group would cascade to all six cells)
    assert out["suppression_reason"].tolist()[:4] == ["small"] + ["complementary"] * 3
    assert not out["suppressed"].iloc[4:].any()
    assert out.attrs["suppression"]["unprotected_groups"] == 0


def test_forest_plot_subgroup_data():
    # rows = subgroup levels; the levels of one subgroup add up to the overall n of the arm
    t = pd.DataFrame({
        "subgroup": ["gender"] * 4 + ["grade"] * 6,
        "level": ["boy", "boy", "girl", "girl", "4", "4", "5", "5", "6", "6"],
        "arm": ["c", "p"] * 5,
        "n": [20, 22, 21, 4, 14, 9, 13, 10, 14, 7],
        "estimate": np.linspace(0.1, 1.0, 10),
        "ci_low": np.linspace(-0.2, 0.7, 10),
    })
    out = suppress_small_cells(t, count="n", min_cell=5, stats=["estimate", "ci_low"],
                               margins=["level"], by=["subgroup", "arm"])
    reasons = out["suppression_reason"].tolist()
    assert reasons[3] == "small" and reasons[1] == "complementary"  # girls/p 4 -> boys/p 22
    assert out.loc[[1, 3], ["n", "estimate", "ci_low"]].isna().all().all()
    assert not out["suppressed"].iloc[4:].any()  # grade table has no small cell


def test_single_cell_group_is_reported_unprotected():
    t = pd.DataFrame({"wave": ["w1", "w2"], "arm": ["a", "a"], "n": [3, 50]})
    out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm"], by=["wave"])
    assert out["suppressed"].tolist() == [True, False]
    assert out.attrs["suppression"]["unprotected_groups"] == 1


def test_integer_and_text_stats_are_blanked_and_index_kept():
    t = pd.DataFrame({"n": [2, 9, 30], "k": [1, 4, 20], "label": ["2 (1%)", "9", "30"]},
                     index=[7, 8, 9])
    out = suppress_small_cells(t, count="n", min_cell=5, stats=["k", "label"], margins=[()])
    assert list(out.index) == [7, 8, 9]
    assert out["k"].isna().tolist() == [True, True, False]
    assert out["label"].isna().tolist() == [True, True, False]


@pytest.mark.parametrize("kwargs, match", [
    ({"count": "nope", "min_cell": 5}, "not in the table"),
    ({"count": "n", "min_cell": 0}, "min_cell"),
    ({"count": "n", "min_cell": 2.5}, "min_cell"),
    ({"count": "n", "min_cell": True}, "min_cell"),
    ({"count": "n", "min_cell": 5, "stats": ["zz"]}, "not in the table"),
    ({"count": "n", "min_cell": 5, "margins": ["arm"], "by": ["arm"]}, "both"),
    ({"count": "txt", "min_cell": 5}, "numeric"),
])
def test_bad_arguments(kwargs, match):
    t = pd.DataFrame({"arm": ["a"], "n": [3], "txt": ["x"]})
    with pytest.raises(ValueError, match=match):
        suppress_small_cells(t, **kwargs)


def test_negative_counts_and_reapplication_refused():
    with pytest.raises(ValueError, match="negative"):
        suppress_small_cells(pd.DataFrame({"n": [-1]}), count="n", min_cell=5)
    out = suppress_small_cells(pd.DataFrame({"n": [3, 9]}), count="n", min_cell=5)
    with pytest.raises(ValueError, match="already"):
        suppress_small_cells(out, count="n", min_cell=5)


def _grid(counts, schools, arms):
    return pd.DataFrame({"school": [f"s{i}" for i in range(schools) for _ in range(arms)],
                         "arm": [f"a{j}" for _ in range(schools) for j in range(arms)],
                         "n": counts[: schools * arms]})


def test_property_no_visible_small_cell_and_no_lone_suppression():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(st.integers(2, 4), st.integers(2, 3), st.lists(st.integers(0, 12), min_size=12,
                                                          max_size=12))
    def check(schools, arms, counts):
        t = _grid(counts, schools, arms)
        out = suppress_small_cells(t, count="n", min_cell=5, margins=["arm", "school"])
        shown = out["n"].dropna()
        assert not ((shown > 0) & (shown < 5)).any()
        assert (out["suppressed"] == out["n"].isna()).all()
        lone = 0
        for key in ("school", "arm"):
            per = out.groupby(key)["suppressed"].sum()
            lone += int((per == 1).sum())
        assert lone == out.attrs["suppression"]["unprotected_groups"]

    check()


# ------------------------------------------------------------------ merge_rare_levels


def test_rare_and_free_text_levels_are_merged_into_other():
    from analysis.disclosure import merge_rare_levels

    free = "其他:姑姑王芳照顾,电话13912345678"
    s = pd.Series(["grandparents"] * 7 + ["one_parent"] * 5 + ["aunt"] * 2 + [free, None],
                  name="guardian_type")
    out = merge_rare_levels(s, 5, "其他")
    assert out.name == "guardian_type"
    assert out.value_counts().to_dict() == {"grandparents": 7, "one_parent": 5, "其他": 3}
    assert out.isna().sum() == 1
    assert free not in set(out.dropna()) and "aunt" not in set(out.dropna())
    assert out.attrs["merged_levels"] == 2
    assert merge_rare_levels(s, 1, "其他").value_counts()[free] == 1  # min_cell 1: nothing


def test_levels_are_counted_once_per_child_over_waves():
    from analysis.disclosure import merge_rare_levels

    # 3 children, each at two waves: 6 rows but 3 children, fewer than min_cell = 5
    s = pd.Series(["aunt"] * 6 + ["grandparents"] * 10)
    ids = pd.Series([1, 1, 2, 2, 3, 3] + [i for i in range(10, 15) for _ in range(2)])
    assert merge_rare_levels(s, 5, "other").value_counts()["aunt"] == 6  # rows
    assert "aunt" not in set(merge_rare_levels(s, 5, "other", ids=ids))  # children


def test_an_existing_other_level_absorbs_the_rare_ones_and_numbers_read_as_text():
    from analysis.disclosure import merge_rare_levels

    s = pd.Series([1.0] * 6 + [2.0] * 2 + [np.nan])
    out = merge_rare_levels(s, 5, "other")
    assert out.dropna().tolist() == ["1"] * 6 + ["other"] * 2
    s = pd.Series(["other"] * 2 + ["a"] * 5 + ["b"])
    assert merge_rare_levels(s, 5, "other").value_counts().to_dict() == {"a": 5, "other": 3}
    with pytest.raises(ValueError):
        merge_rare_levels(s, 0, "other")


def _merge_rare_levels_row_by_row(values, min_cell, other_label, ids=None):
    """merge_rare_levels as first written: every value labelled on its own, pandas counts."""
    from analysis.disclosure import _level_text

    text = values.astype(object).where(values.notna())
    text = text.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v))
                    else _level_text(v))
    if ids is not None:
        frame = pd.DataFrame({"level": text.to_numpy(), "id": np.asarray(ids)}).dropna()
        sizes = frame.drop_duplicates().groupby("level")["id"].size()
    else:
        sizes = text.dropna().value_counts()
    rare = {lev for lev, n in sizes.items() if n < min_cell}
    if other_label in sizes.index and rare:
        rare.add(other_label)
    out = text.where(~text.isin(rare), other_label)
    out.name = values.name
    out.attrs["merged_levels"] = len(rare - {other_label})
    return out


@pytest.mark.parametrize("kind", ["str", "float", "int", "bool", "Int64", "category", "mixed",
                                  "missing"])
def test_merge_rare_levels_labels_each_distinct_value_as_each_row(kind):
    rng = np.random.default_rng(7)
    n = 80
    pools = {"str": ["a", "b", "c", "其他", None], "float": [1.0, 2.0, -0.0, 0.0, np.nan, 2.5],
             "int": [0, 1, 2, 3], "bool": [True, False], "Int64": [1, 2, None],
             "category": ["x", "y", "other"], "mixed": [1, True, "1", 1.0, None, "z"],
             "missing": [None]}
    dtype = {"str": "str", "Int64": "Int64", "category": "category", "mixed": object,
             "missing": "str"}.get(kind)
    values = pd.Series(list(rng.choice(np.array(pools[kind], dtype=object), n)), dtype=dtype,
                       index=rng.permutation(n) + 5, name="v")
    ids = pd.Series(rng.choice([f"p{i}" for i in range(30)] + [None], n), index=values.index,
                    dtype="str")
    for min_cell in (1, 3, 5, 30):
        for other in ("other", "其他"):
            for i in (None, ids):
                got = merge_rare_levels(values, min_cell, other, ids=i)
                want = _merge_rare_levels_row_by_row(values, min_cell, other, ids=i)
                pd.testing.assert_series_equal(got, want)
                assert got.attrs == want.attrs
                assert [type(v) for v in got] == [type(v) for v in want]


def test_without_a_small_cell_the_stats_keep_their_values_and_take_the_usual_dtypes():
    # the path that skips the margin groups: the same frame as masking nothing
    t = pd.DataFrame({"w": ["a", "a", "b"], "arm": ["c", "t", "c"], "n": [6, 9, 0],
                      "mean": [1.5, np.nan, 2.0], "k": [1, 2, 3], "flag": [True, False, True],
                      "share": pd.array([0.1, None, 0.3], dtype="Float64")})
    out = suppress_small_cells(t, count="n", min_cell=5, stats=["mean", "k", "flag", "share"],
                               margins=["arm"], by=["w"])
    assert not out["suppressed"].any()
    assert out.attrs["suppression"] == {"min_cell": 5, "small": 0, "complementary": 0,
                                        "unprotected_groups": 0}
    assert out["n"].tolist() == [6.0, 9.0, 0.0]
    pd.testing.assert_series_equal(out["mean"], t["mean"])
    assert out["k"].dtype == float and out["k"].tolist() == [1.0, 2.0, 3.0]
    assert out["flag"].dtype == float and out["flag"].tolist() == [1.0, 0.0, 1.0]
    pd.testing.assert_series_equal(out["share"], t["share"].mask(np.zeros(3, bool)))

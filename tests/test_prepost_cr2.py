"""Pre/post with clusters: the mean change with CR2 at the outermost cluster level and
Bell-McCaffrey df, against clubSandwich (issue 13, item 1; fixtures:
tests/fixtures/r/prepost_cr2.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.effects import estimate_effects, primary_model
from core.design import Design

REF = Path(__file__).parent / "fixtures" / "r" / "prepost_cr2"
COEF = pd.read_csv(REF / "coef.csv").set_index("set")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "data.csv", dtype={"school": str, "class": str})


def _long(d: pd.DataFrame) -> pd.DataFrame:
    keep = ["id", "school", "class"]
    pre = d[keep].assign(wave="pre", score=d["pre"])
    post = d[keep].assign(wave="post", score=d["post"])
    return pd.concat([pre, post], ignore_index=True)


def _design(clusters):
    return Design(type="pre_post", id="id", waves=("pre", "post"), clusters=clusters)


@pytest.mark.parametrize("name", list(COEF.index))
def test_change_cr2_matches_clubsandwich(data, name):
    ref = COEF.loc[name]
    d = data[data["set"] == name]
    # the outermost declared level is the clustering level of the R reference
    clusters = ("school", "class") if ref["cluster"] == "school" else ("class",)
    res = estimate_effects(_long(d), ["score"], _design(clusters)).tidy()
    row = res[res["model"] == "change_cr2"].iloc[0]
    for col in ["estimate", "std_error", "df", "p_value", "ci_low", "ci_high"]:
        assert row[col] == pytest.approx(ref[col], rel=1e-6), col
    assert row["n_obs"] == ref["n"] and row["n_clusters"] == ref["n_clusters"]
    assert bool(row["primary"])


def test_paired_t_is_kept_as_a_secondary_row(data):
    d = data[data["set"] == "schools_8"]
    result = estimate_effects(_long(d), ["score"], _design(("school", "class")))
    res = result.tidy()
    assert res["model"].tolist() == ["change_cr2", "paired_t"]
    assert res["primary"].tolist() == [True, False]
    cr2, pt = res.iloc[0], res.iloc[1]
    ch = d["post"] - d["pre"]
    assert pt["df"] == len(d) - 1
    assert cr2["estimate"] == pytest.approx(pt["estimate"])
    # the clustered test is the more cautious one here (ICC of the change ~0.15):
    # 8 schools give 6.1 df instead of 201, and a larger SE
    assert cr2["std_error"] > 1.3 * pt["std_error"] and cr2["df"] < 7
    # d_z stays: same point estimate; the CR2 row's CI is the CR2 CI / sd(change)
    assert cr2["effect_size"] == pytest.approx(pt["effect_size"])
    assert cr2["effect_size"] == pytest.approx(ch.mean() / ch.std(ddof=1))
    assert cr2["effect_size_ci_low"] == pytest.approx(cr2["ci_low"] / ch.std(ddof=1))
    assert cr2["effect_size_ci_high"] == pytest.approx(cr2["ci_high"] / ch.std(ddof=1))
    assert "d_z" in result.paired_effect_sizes.columns
    # the summary says why the clustered row is primary, with its clusters and df
    text = result.summary()
    assert "change_cr2 *" in text and "paired_t *" not in text
    assert "Children of one school are not independent: change_cr2 (CR2, 8 clusters)" in text
    assert f"children with both waves: {len(d)} (8 clusters)" in text
    assert f"Few degrees of freedom (smallest {cr2['df']:.1f}: score, change_cr2)" in text


def test_without_clusters_paired_t_stays_primary(data):
    d = data[data["set"] == "schools_8"]
    res = estimate_effects(_long(d), ["score"], _design(())).tidy()
    assert res["model"].tolist() == ["paired_t"] and bool(res["primary"].iloc[0])
    assert primary_model(_design(())) == "paired_t"
    assert primary_model(_design(("school",))) == "change_cr2"


def test_one_cluster_falls_back_to_paired_t(data):
    d = data[data["set"] == "schools_8"].assign(school="S1")
    res = estimate_effects(_long(d), ["score"], _design(("school",))).tidy()
    assert res["model"].tolist() == ["paired_t"] and bool(res["primary"].iloc[0])


def test_respondents_without_a_cluster_are_left_out_of_the_cr2_row(data):
    d = data[data["set"] == "schools_8"].copy()
    d.loc[d.index[:5], "school"] = np.nan
    res = estimate_effects(_long(d), ["score"], _design(("school",))).tidy()
    rows = res.set_index("model")
    assert rows.loc["change_cr2", "n_obs"] == len(d) - 5
    assert rows.loc["paired_t", "n_obs"] == len(d)

"""The missing-data page's table, words and figures from small synthetic frames (issue 15,
items 1 and 6): no kernel, no run folder."""

from __future__ import annotations

from types import SimpleNamespace as NS

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from analysis import sensitivity as sens  # noqa: E402
from analysis import sensitivity_figures as sfig  # noqa: E402
from core.design import Design  # noqa: E402
from evaluation import sensitivity_tables as sv  # noqa: E402


@pytest.fixture(scope="module")
def example():
    long, d = sens._example_data()
    res = sens.analyse_outcome(long, "y", d, outcome="y", seed=5, m=5, n_boot=99)
    return long, d, res, sens.sensitivity_table([res])


def _study(d, outcomes=("y",)):
    return NS(design=d, outcomes=tuple(NS(id=o, column_name=o, primary=i == 0)
                                      for i, o in enumerate(outcomes)),
              label=lambda col, v, lang: {"t": {"en": "Mentoring", "zh": "结对帮扶"},
                                          "c": {"en": "Comparison", "zh": "对照组"}}
              .get(str(v), {}).get(lang, str(v)),
              column_label=lambda c, lang: str(c),
              analysis=NS(seed=5, alpha=0.05), privacy=NS(min_cell=5))


def test_table_has_every_method_and_the_documented_columns(example):
    _, d, res, t = example
    assert list(t.columns) == sens.SENSITIVITY_COLUMNS
    assert t["method"].tolist() == ["complete_case", "mi", "ipw", "lee_lower", "lee_upper",
                                    "tipping_delta"]
    by = t.set_index("method")
    # complete case = the unweighted CR2 ANCOVA of analysis.ipw (the primary model re-fitted)
    cc = res.ipw.effects.set_index("method").loc["complete_case"]
    assert by.loc["complete_case", "estimate"] == pytest.approx(cc["estimate"], rel=1e-12)
    assert by.loc["mi", "estimate"] == pytest.approx(res.mi["estimate"].iloc[0], rel=1e-12)
    assert by.loc["mi", "fmi"] > 0 and np.isnan(by.loc["complete_case", "fmi"])
    # the Lee rows carry the bounds and share the Imbens-Manski CI
    assert by.loc["lee_lower", "estimate"] <= by.loc["lee_upper", "estimate"]
    assert by.loc["lee_lower", "ci_low"] == by.loc["lee_upper", "ci_low"]
    # clustered design: every method's inference is cluster-robust
    assert by.loc["complete_case", "inference"] == "cr2"
    assert by.loc["mi", "inference"] == "cr2_rubin"
    assert by.loc["lee_lower", "inference"] == "cluster_bootstrap"
    # counts: n + n_missing = the children of both arms for MI and Lee
    n_all = len(res.panel)
    assert by.loc["mi", "n"] == n_all and by.loc["lee_lower", "n"] == n_all
    assert by.loc["complete_case", "n"] + by.loc["complete_case", "n_missing"] == n_all
    assert (t["n_smallest_arm"] <= t["n"]).all()


def test_tipping_point_changes_the_conclusion_of_mi(example):
    _, _, res, t = example
    tip = t[t["method"] == "tipping_delta"].iloc[0]
    mi = t[t["method"] == "mi"].iloc[0]
    c0 = sens.conclusion(mi["ci_low"], mi["ci_high"])
    assert f"conclusion={c0}" in tip["note"]
    if np.isfinite(tip["estimate"]):
        assert sens.conclusion(tip["ci_low"], tip["ci_high"]) != c0
        assert -1 <= tip["estimate"] <= 1
    else:
        assert "no_tipping=-1..1" in tip["note"]


def test_seeded_and_reproducible(example):
    long, d, _, t = example
    again = sens.sensitivity_table([sens.analyse_outcome(long, "y", d, outcome="y", seed=5, m=5,
                                                         n_boot=99)])
    pd.testing.assert_frame_equal(t, again)
    other = sens.sensitivity_table([sens.analyse_outcome(long, "y", d, outcome="y", seed=6, m=5,
                                                         n_boot=99)])
    assert other.loc[other["method"] == "mi", "estimate"].iloc[0] != \
        t.loc[t["method"] == "mi", "estimate"].iloc[0]


def test_lee_bounds_are_tightened_by_a_declared_discrete_covariate():
    long, d = sens._example_data()
    long = long.assign(sex=np.where(long["id"] % 2, "f", "m"), age=9 + long["id"] % 40 * 0.1)
    d = Design(type="cluster_randomized", id="id", waves=d.waves, arm="arm", control="c",
               clusters=("school",), covariates=("age", "sex"))
    res = sens.analyse_outcome(long, "y", d, seed=1, m=5, n_boot=49)
    assert res.lee_covariate == "sex"  # age is continuous: the first discrete covariate
    t = sens.sensitivity_table([res])
    assert {"lee_tightened_lower", "lee_tightened_upper"} <= set(t["method"])
    assert "lee_covariate=sex" in t.loc[t["method"] == "lee_tightened_lower", "note"].iloc[0]


def test_not_randomized_design_gets_no_lee_bounds_and_one_group_no_arm_methods():
    long, d = sens._example_data()
    ctl = Design(type="controlled", id="id", waves=d.waves, arm="arm", control="c",
                 clusters=("school",))
    t = sens.sensitivity_table([sens.analyse_outcome(long, "y", ctl, seed=1, m=5)])
    assert not t["method"].str.startswith("lee").any()
    assert any("Lee bounds are not shown" in n["en"] for n in sv.design_notes(_study(ctl)))
    one = Design(type="pre_post", id="id", waves=d.waves, clusters=("school",))
    res = sens.analyse_outcome(long.drop(columns="arm"), "y", one, seed=1, m=5)
    assert res.response is not None and res.mi is None and res.lee is None
    assert sens.sensitivity_table([res]).empty


def test_without_clusters_the_inference_is_hc2_and_lee_analytic():
    long, d = sens._example_data()
    ind = Design(type="randomized", id="id", waves=d.waves, arm="arm", control="c")
    t = sens.sensitivity_table([sens.analyse_outcome(long, "y", ind, seed=1, m=5)]).set_index(
        "method")
    assert t.loc["complete_case", "inference"] == "hc2"
    assert t.loc["lee_lower", "inference"] == "lee_analytic"
    assert t["n_clusters"].isna().all()


def test_a_separating_covariate_is_left_out_not_the_method():
    long, d = sens._example_data()
    # a covariate that separates answering in both arms (every 'gone' child missed the
    # endline): left out of the response and propensity models, with what and why
    end = (long["wave"] == "e") & long["y"].isna()
    bad = long.assign(flag=np.where(long["id"].isin(long.loc[end, "id"]), "gone", "here"))
    d2 = Design(type="cluster_randomized", id="id", waves=d.waves, arm="arm", control="c",
                clusters=("school",), covariates=("flag",))
    res = sens.analyse_outcome(bad, "y", d2, seed=1, m=5, lee_cov=None, n_boot=49)
    assert "ipw" not in res.errors and "response" not in res.errors
    assert [(x["arm"], x["covariate"], x["answered"]) for x in res.dropped["ipw"]] == [
        ("c", "flag", True), ("t", "flag", True)]
    assert res.dropped["response"][0]["covariate"] == "flag"
    assert "flag" not in set(res.response["term"])
    # the weights are those of the model without the covariate
    plain = sens.analyse_outcome(long, "y", Design(
        type="cluster_randomized", id="id", waves=d.waves, arm="arm", control="c",
        clusters=("school",)), seed=1, m=5, lee_cov=None, n_boot=49)
    got = sens.sensitivity_table([res]).set_index("method")
    want = sens.sensitivity_table([plain]).set_index("method")
    assert got.loc["ipw", "estimate"] == pytest.approx(want.loc["ipw", "estimate"], rel=1e-10)
    notes = sv.method_notes([res], NS(design=d2, outcomes=(), label=lambda c, v, lang: v,
                                      column_label=lambda c, lang: c))
    assert any("flag was left out of the model of answering in c: every child with flag = "
               "here" in n["en"] for n in notes)
    assert all("未纳入flag" in n["zh"] for n in notes)


def test_a_method_that_cannot_be_fitted_leaves_a_noted_row(monkeypatch):
    import analysis.ipw

    long, d = sens._example_data()

    def fails(*a, **k):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(analysis.ipw, "ipw_effects", fails)
    res = sens.analyse_outcome(long, "y", d, seed=1, m=5, lee_cov=None, n_boot=49)
    monkeypatch.undo()
    t = sens.sensitivity_table([res]).set_index("method")
    assert "ipw" in res.errors
    note = sv.method_notes([res], NS(design=d, outcomes=(), label=lambda c, v, lang: v,
                                     column_label=lambda c, lang: c))[0]
    assert "Singular" not in note["zh"] and "矩阵奇异" in note["zh"] and "逆概率加权" in note["zh"]
    assert t.loc["ipw", "note"] == "not_estimable" and np.isnan(t.loc["ipw", "estimate"])
    # the complete-case row does not depend on the weights
    ok = sens.sensitivity_table([sens.analyse_outcome(long, "y", d, seed=1, m=5, n_boot=49)])
    assert t.loc["complete_case", "estimate"] == pytest.approx(
        ok.set_index("method").loc["complete_case", "estimate"], rel=1e-12)


# -------------------------------------------------------------------------- applicability
def test_not_applicable_rules():
    y = (NS(id="y", column_name="y"),)
    one_wave = NS(design=Design(type="randomized", id="id", arm="arm", control="c",
                                waves=("t1",)), outcomes=y)
    assert sv.not_applicable_reason(one_wave)[0].startswith("One wave")
    cs = NS(design=Design(type="cross_sectional", id="id", waves=("a", "b")), outcomes=y)
    assert "Cross-sectional" in sv.not_applicable_reason(cs)[0]
    none = NS(design=Design(type="randomized", id="id", arm="arm", control="c",
                            waves=("a", "b")), outcomes=())
    assert "no outcomes" in sv.not_applicable_reason(none)[0]
    long, d = sens._example_data()
    s = _study(d)
    assert sv.not_applicable_reason(s, long) is None
    full = long.assign(y=long["y"].fillna(0.0))
    en, zh = sv.not_applicable_reason(s, full)
    assert en.startswith("Nothing is missing") and "没有缺失" in zh
    # a child absent at the endline is missing even if every row present has its score
    absent = full[~((full["wave"] == "e") & (full["id"] == 3))]
    assert sv.not_applicable_reason(s, absent) is None
    pp = NS(design=Design(type="pre_post", id="id", waves=("b", "e")), outcomes=y)
    assert sv.not_applicable_reason(pp, long) is None  # pre/post: the page says what applies


# -------------------------------------------------------------------------- published table
def _table(**kw):
    base = {"outcome": "y", "arm": "t", "control": "c", "std_error": 0.1, "df": 15.0,
            "fmi": np.nan, "n": 100, "n_missing": 12, "n_smallest_arm": 44.0,
            "n_clusters": 12.0, "model": "ols_cr2", "inference": "cr2", "suppressed": False}
    rows = [
        dict(base, method="complete_case", estimate=0.30456, ci_low=0.10123, ci_high=0.5078,
             note=""),
        dict(base, method="mi", estimate=0.31, ci_low=0.12, ci_high=0.52, fmi=0.1234,
             inference="cr2_rubin", note="m=20"),
        dict(base, method="ipw", estimate=0.29, ci_low=0.09, ci_high=0.5, note="weights_known"),
        dict(base, method="lee_lower", estimate=0.18, ci_low=0.02, ci_high=0.66,
             inference="cluster_bootstrap", note="trimmed=t;trim_share=0.071234"),
        dict(base, method="lee_upper", estimate=0.44, ci_low=0.02, ci_high=0.66,
             inference="cluster_bootstrap", note="trimmed=t;trim_share=0.071234"),
        dict(base, method="tipping_delta", estimate=-0.4321, ci_low=-0.0001, ci_high=0.4,
             fmi=0.2, inference="cr2_rubin", note="side=down;conclusion=positive"),
    ]
    rows = [dict(r, **kw) for r in rows]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_published_table_rounds_every_number_in_both_languages(lang):
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("s",))
    p = sv.sensitivity_published(_table(), _study(d), lang, min_cell=5)
    cells = p.cells(lang)
    assert cells["estimate"].tolist()[:3] == ["0.30", "0.31", "0.29"]
    join = " 至 " if lang == "zh" else " to "
    assert cells["ci"].iloc[0] == f"0.10{join}0.51"
    assert cells["estimate"].iloc[3] == f"0.18{join}0.44"  # Lee: the bounds in one cell
    assert cells["estimate"].iloc[4] == "δ = -0.43"
    assert len(cells) == 5  # the two Lee rows are one published row
    assert "7.1%" in cells["detail"].iloc[3]
    text = " ".join(cells.astype(str).to_numpy().ravel())
    for bad in ("nan", "NaN", "None", "0.304", "0.4321"):
        assert bad not in text
    assert ("结对帮扶" in text) == (lang == "zh")


def test_small_cells_show_the_mark_and_no_number():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("s",))
    t = _table()
    t.loc[t["method"] == "ipw", ["estimate", "ci_low", "ci_high", "n", "n_missing"]] = np.nan
    t.loc[t["method"] == "ipw", "suppressed"] = True
    for lang in ("en", "zh"):
        p = sv.sensitivity_published(t, _study(d), lang, min_cell=5)
        row = p.cells(lang).iloc[2]
        assert row["estimate"] == "§" and row["n"] == "§"
        assert any("5" in f for f in p.footnotes(lang))


# -------------------------------------------------------------------------- headline
def test_headline_says_the_conclusion_survives_with_the_tipping_point():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("s",))
    s = _study(d)
    h = sv.headline_sentence(_table(), s)
    assert h["en"] == ("Missing data: the effect on y stays positive under every method tried "
                       "(multiple imputation, inverse probability weighting, Lee bounds), but if "
                       "the program children who left would have scored 0.43 SD lower than "
                       "similar children who stayed, the interval of multiple imputation would "
                       "include 0.")
    assert h["zh"].startswith("缺失数据：在所尝试的每种方法（多重插补、逆概率加权、Lee 界）下，y的效果都保持为正")
    assert "得分低 0.43 个标准差" in h["zh"]


def test_headline_says_when_the_conclusion_depends_on_a_method():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c", clusters=("s",))
    t = _table()
    t.loc[t["method"].str.startswith("lee"), "ci_low"] = -0.05
    h = sv.headline_sentence(t, _study(d))
    assert "but not under Lee bounds (its interval includes 0)" in h["en"]
    assert "Lee 界（区间包含 0）" in h["zh"]
    # unclear everywhere: no method changes it
    t2 = _table(ci_low=-0.2)
    t2.loc[t2["method"] == "tipping_delta", ["estimate", "note"]] = [np.nan,
                                                                     "no_tipping=-1..1;conclusion=unclear"]
    h2 = sv.headline_sentence(t2, _study(d))
    assert "every interval includes 0" in h2["en"] and "每个区间都包含 0" in h2["zh"]
    # a suppressed complete-case row: no sentence
    t3 = _table()
    t3.loc[t3["method"] == "complete_case", "suppressed"] = True
    assert sv.headline_sentence(t3, _study(d)) is None
    assert sv.headline_sentence(pd.DataFrame(), _study(d)) is None


def test_headline_of_a_controlled_design_says_difference_not_effect():
    d = Design(type="controlled", id="id", arm="arm", control="c", waves=("a", "b"))
    t = _table()
    t = t[~t["method"].str.startswith("lee")]
    h = sv.headline_sentence(t, _study(d))
    assert "the difference on y" in h["en"] and "effect" not in h["en"]
    assert "差异" in h["zh"]


def test_words_of_the_page_in_both_languages(example):
    long, d, res, t = example
    s = _study(d)
    mi = sv.mi_text(s, [res], m=5)
    assert "separately in each arm" in mi["en"] and "每组内分别插补" in mi["zh"]
    assert "m = 5" in mi["en"] and "seed 5" in mi["en"]
    dt = sv.delta_text(s, t)
    assert "tipping point" in dt["en"] and "临界点" in dt["zh"]
    from analysis.missingness import little_mcar_test, outcome_wide

    lit = sv.little_text(little_mcar_test(outcome_wide(long, ["y"], d)), 1)
    assert "can only reject" in lit["en"] and "只能拒绝" in lit["zh"]
    resp = sv.response_published(res.response, s, "en").cells("en")
    assert "Joint test: arm × baseline" in resp["term"].tolist()
    assert not resp["term"].str.contains("Intercept").any()


# -------------------------------------------------------------------------- figures
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sensitivity_figure_stacks_methods_under_the_primary(lang):
    t = _table()
    fig = sfig.sensitivity_plot(t, lang=lang, outcome_labels={"y": {"en": "Y", "zh": "结局"}})
    ax = fig.axes[0]
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[0] == sfig._t("complete_case", lang)  # the primary estimate on top
    assert labels == [sfig._t(k, lang, cov="") for k in ("complete_case", "mi", "ipw", "lee")]
    assert "δ = -0.43" in ax.get_title(loc="left")
    matplotlib.pyplot.close(fig)


def test_suppressed_rows_are_drawn_as_the_mark():
    t = _table()
    t.loc[t["method"] == "mi", ["estimate", "ci_low", "ci_high"]] = np.nan
    t.loc[t["method"] == "mi", "suppressed"] = True
    fig = sfig.sensitivity_plot(t, lang="en", min_cell=5)
    texts = [x.get_text() for x in fig.axes[0].texts]
    assert "§" in texts
    assert any("fewer than 5 children" in x.get_text() for x in fig.texts)
    matplotlib.pyplot.close(fig)


def test_delta_figure_marks_the_tipping_point(example):
    _, _, res, t = example
    fig = sfig.delta_plot(res.delta.grid, t, lang="en")
    ax = fig.axes[0]
    d = t.loc[t["method"] == "tipping_delta", "estimate"].iloc[0]
    xs = [ln.get_xdata()[0] for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
    if np.isfinite(d):
        assert any(abs(x - d) < 1e-12 for x in xs)
    matplotlib.pyplot.close(fig)


def test_response_text_reads_the_arm_and_the_joint_test(example):
    _, d, res, _ = example
    s = _study(d)
    said = sv.response_text(res.response, s)
    r = res.response.set_index("term")
    assert f"{r.loc['arm[t]', 'odds_ratio']:.2f} times as high in Mentoring as in Comparison" \
        in said["en"]
    assert "结对帮扶有终期分数的比值是对照组的" in said["zh"]
    assert ("predicted answering differently in the arms (p" in said["en"]) and "两组间" in said["zh"]

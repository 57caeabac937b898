"""The report figures of issue 12: CONSORT flow (cluster extension), standardized forest,
reliable change by arm, claims; natural order, model names in words, nothing overlapping."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import FancyBboxPatch

from analysis import describe, figures

CJK = figures.find_cjk_font() is not None
LANGS = ["en", "zh"] if CJK else ["en"]


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
        out += [ax.get_title(), ax.get_title("left"), ax.get_xlabel(), ax.get_ylabel()]
    for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in leg.get_texts()] + [leg.get_title().get_text()]
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    return out


def _long_data():
    """Two arms, 4 schools each, 10 children per school; losses of known size."""
    rows = []
    k = 0
    for arm, schools in (("control", "ABCD"), ("treatment", "EFGH")):
        for s in schools:
            for i in range(10):
                k += 1
                rows.append({"id": k, "arm": arm, "school": s, "wave": "pre", "y": 1.0})
                lost = (arm == "control" and s == "A" and i < 6) or (s == "H")  # school H lost
                if not lost:
                    missing = arm == "treatment" and s == "E" and i < 6
                    rows.append({"id": k, "arm": arm, "school": s, "wave": "post",
                                 "y": np.nan if missing else 2.0})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- counts


def test_consort_counts_add_up_and_count_clusters():
    d = _long_data()
    tab = describe.consort_counts(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
                                  analysed="y", cluster="school").set_index("arm")
    old = describe.attrition(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
                             analysed="y").set_index("arm")
    pd.testing.assert_frame_equal(tab[["allocated", "enrolled", "followed_up", "analysed", "lost"]],
                                  old[["allocated", "enrolled", "followed_up", "analysed", "lost"]])
    assert tab.loc["control", "lost_to_follow_up"] == 6
    assert tab.loc["treatment", "lost_to_follow_up"] == 10
    assert tab.loc["treatment", "excluded"] == 6
    assert (tab["allocated"] == tab["lost_to_follow_up"] + tab["excluded"] + tab["analysed"]).all()
    assert tab.loc["treatment", ["clusters_allocated", "clusters_analysed", "clusters_lost"]
                   ].tolist() == [4, 3, 1]
    assert tab.loc["control", "analysed_size_min"] == 4  # school A: 10 - 6 lost
    assert tab.loc["overall", "clusters_allocated"] == 8
    assert tab.loc["control", "cluster_size_mean"] == 10


def test_consort_reasons_take_validation_codes_for_quarantined_endline_rows():
    d = _long_data()
    q = pd.DataFrame({"id": [1, 2, 999], "wave": ["post", "post", "post"],
                      "reasons": ["DUPLICATE_ID", "DUPLICATE_ID", "ID_MISSING"]})
    r = describe.consort_reasons(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
                                 analysed="y", quarantine=q)
    got = {(a, s, x): n for a, s, x, n in r.itertuples(index=False)}
    assert got == {("control", "lost_to_follow_up", "DUPLICATE_ID"): 2,
                   ("control", "lost_to_follow_up", "no_endline_record"): 4,
                   ("treatment", "lost_to_follow_up", "no_endline_record"): 10,
                   ("treatment", "excluded", "outcome_missing"): 6}


# ---------------------------------------------------------------- CONSORT figure


def _flow(small=False):
    d = _long_data()
    flow = describe.consort_counts(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
                                   analysed="y", cluster="school")
    reasons = describe.consort_reasons(d, id="id", arm="arm", wave="wave", waves=["pre", "post"],
                                       analysed="y")
    if small:  # control: 3 lost (< 5), nobody excluded
        flow.loc[flow["arm"] == "control", ["lost_to_follow_up", "analysed", "followed_up"]] = \
            [3, 37, 37]
        reasons.loc[reasons["arm"] == "control", "n"] = 3
    return flow, reasons


def _boxes_and_texts(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [p.get_window_extent(r) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    texts = [t.get_window_extent(r) for t in ax.texts if t.get_text()]
    return boxes, texts


@pytest.mark.parametrize("lang", LANGS)
def test_consort_diagram_boxes_hold_their_text_and_never_overlap(lang):
    figures.set_theme(lang)
    flow, reasons = _flow()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.consort_diagram(flow, reasons=reasons, lang=lang, min_cell=5, title="CONSORT",
                                      cluster_label={"en": "Schools", "zh": "学校"})
        boxes, texts = _boxes_and_texts(fig)
    assert len(boxes) == 1 + 3 * 2
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not a.overlaps(b)
    for t in texts:  # every text lies inside one box or outside all (stage labels, title)
        inside = [b for b in boxes if b.overlaps(t)]
        assert len(inside) <= 1
        if inside:
            b = inside[0]
            assert b.x0 <= t.x0 and t.x1 <= b.x1 and b.y0 <= t.y0 and t.y1 <= b.y1
    # arrows start and end on box edges
    ends = [(p.xy, p.xyann) for p in fig.axes[0].texts if hasattr(p, "xyann")]
    assert len(ends) >= 2 + 2 * 2
    words = " ".join(_texts(fig))
    expected = {"en": ["Lost to follow-up", "Schools: 4", "Children: 40", "No endline record: 10",
                       "Primary outcome missing: 6"],
                "zh": ["失访", "学校：4", "儿童：40", "无后测记录：10", "主要结局缺失：6"]}[lang]
    for w in expected:
        assert w in words
    other = {"en": "失访", "zh": "Lost"}[lang]
    assert other not in words  # no mixed language
    plt.close(fig)


def test_consort_shows_small_counts_as_suppressed_and_withholds_their_complement():
    figures.set_theme("en")
    flow, reasons = _flow(small=True)
    fig = figures.consort_diagram(flow, reasons=reasons, lang="en", min_cell=5)
    words = " ".join(_texts(fig))
    assert "Children: <5" in words
    assert "Children: 3" not in words and ": 3\n" not in words
    # allocated 40 = lost <5 + excluded 0 + analysed 37: 37 would give the 3 away
    assert "Children: 37" not in words and "Children: —" in words
    assert "No endline record" in words and "No endline record: 3" not in words
    assert "<5: fewer than 5 children" in words
    plt.close(fig)
    # without min_cell the numbers print
    fig = figures.consort_diagram(flow, reasons=reasons, lang="en")
    assert "Children: 3" in " ".join(_texts(fig))
    plt.close(fig)


def test_consort_accepts_the_attrition_table_and_a_design_without_clusters():
    figures.set_theme("en")
    old = pd.DataFrame({"arm": ["control", "treatment", "overall"], "allocated": [382, 396, 778],
                        "enrolled": [382, 396, 778], "followed_up": [329, 367, 696],
                        "analysed": [329, 367, 696], "lost": [53, 29, 82],
                        "attrition_rate": [.14, .07, .1], "differential_pp": [np.nan, -6.6, np.nan]})
    fig = figures.consort_diagram(old, lang="en")
    words = " ".join(_texts(fig))
    assert "Children: 778" in words and "Children: 53" in words and "Clusters" not in words
    plt.close(fig)
    one = pd.DataFrame({"arm": ["all"], "allocated": [50], "followed_up": [44], "analysed": [44]})
    fig = figures.consort_diagram(one, lang="en")
    assert "Enrolled" in " ".join(_texts(fig))
    plt.close(fig)


# ---------------------------------------------------------------- forest


def _effects(arms=("treatment",)):
    rows = []
    for arm in arms:
        for o, g in (("communication", .35), ("loneliness", -.09), ("self_esteem", .0)):
            for model, primary in (("ols_cr2", True), ("mixed_reml", False)):
                rows.append({"outcome": o, "arm": arm, "control": "control", "model": model,
                             "estimate": g * 2, "ci_low": g * 2 - .3, "ci_high": g * 2 + .3,
                             "effect_size": g, "effect_size_ci_low": g - .28,
                             "effect_size_ci_high": g + .28, "primary": primary})
    return pd.DataFrame(rows)


BETTER = {"communication": "higher", "loneliness": "lower", "self_esteem": "higher"}


@pytest.mark.parametrize("lang", LANGS)
def test_effects_forest_marks_the_better_direction_per_outcome(lang):
    figures.set_theme(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.effects_forest(_effects(), better=BETTER, lang=lang)
        fig.canvas.draw()
    right, left = {"en": ("better →", "← better"), "zh": ("更好 →", "← 更好")}[lang]
    marks = [t.get_text() for t in fig.axes[1].texts if t.get_text() in (right, left)]
    assert marks == [right, left, right]  # rows top to bottom: comm, loneliness, self-esteem
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(ticks) == 3  # primary model only
    assert ("lower is better" if lang == "en" else "越低越好") in ticks[1]
    words = " ".join(_texts(fig))
    assert ("OLS + CR2" if lang == "en" else "普通最小二乘 + CR2") in words and "ols_cr2" not in words
    assert "0.35 [0.07, 0.63]" in words
    plt.close(fig)


def test_effects_forest_names_the_arm_when_there_are_several():
    figures.set_theme("en")
    fig = figures.effects_forest(_effects(("mentoring", "booster")), better=BETTER,
                                 arm_labels={"control": "Usual care", "booster": "Booster"})
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(ticks) == 6
    assert sum("Booster vs Usual care" in t for t in ticks) == 3
    assert sum("mentoring vs Usual care" in t for t in ticks) == 3
    plt.close(fig)


# ---------------------------------------------------------------- reliable change


def _change():
    return pd.DataFrame({
        "outcome": ["communication"] * 2 + ["loneliness"] * 2, "arm": ["control", "treatment"] * 2,
        "n": [329, 367, 329, 367], "improved": [41 / 329, 65 / 367, 56 / 329, np.nan],
        "worse": [39 / 329, 24 / 367, 52 / 329, np.nan], "n_improved": [41, 65, 56, np.nan],
        "n_worse": [39, 24, 52, np.nan]})


@pytest.mark.parametrize("lang", LANGS)
def test_reliable_change_plot_labels_shares_and_counts(lang):
    figures.set_theme(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.reliable_change_plot(_change(), lang=lang, min_cell=5,
                                           arm_labels={"control": {"en": "Usual care",
                                                                   "zh": "常规关爱"}})
        fig.canvas.draw()
    words = _texts(fig)
    assert "18% (65)" in words and "76% (278)" in words and "n = 367" in words
    assert ("Usual care" if lang == "en" else "常规关爱") in words
    assert any(("fewer than 5" if lang == "en" else "少于 5") in w for w in words)  # the NaN row
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == {"en": ["Reliably improved", "No reliable change", "Reliably worse"],
                      "zh": ["可靠改善", "无可靠变化", "可靠变差"]}[lang]
    plt.close(fig)


def test_reliable_change_plot_never_prints_a_small_count():
    figures.set_theme("en")
    ch = _change().iloc[:1].assign(n=40, n_improved=3, improved=3 / 40, n_worse=10, worse=.25)
    fig = figures.reliable_change_plot(ch, min_cell=5)
    words = " ".join(_texts(fig))
    assert "(3)" not in words and "8%" not in words and "fewer than 5" in words
    plt.close(fig)


# ---------------------------------------------------------------- claims


def _claims():
    return pd.DataFrame({"claim": ["82%的儿童沟通能力提高（家长报告）", "70% less lonely"],
                         "claimed_proportion": [.82, .7], "n": [120, 240], "ci_low": [.74, .64],
                         "ci_high": [.88, .76], "null_proportion": [.5, .42],
                         "observed_treatment": [.6, np.nan], "observed_control": [.5, np.nan],
                         "observed_treatment_n": [80, np.nan], "observed_control_n": [80, np.nan]})


@pytest.mark.parametrize("lang", LANGS)
def test_claims_figure_draws_every_share_with_its_interval_and_explains_them(lang):
    figures.set_theme(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figures.claims_figure(_claims(), lang=lang,
                                    arm_labels={"treatment": {"en": "Mentoring", "zh": "结对帮扶组"}})
        fig.canvas.draw()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(legend) == 4
    assert any(("Mentoring" if lang == "en" else "结对帮扶组") in t for t in legend)
    ax = fig.axes[0]
    segments = {tuple(np.round(ln.get_xdata(), 4)) for ln in ax.lines if len(ln.get_xdata()) == 2}
    assert (0.74, 0.88) in segments  # claimed CI
    from analysis.change import wilson_ci

    assert tuple(np.round(wilson_ci(48, 80), 4)) in segments  # observed treatment, Wilson
    assert (round(49 / 120, 4), round(71 / 120, 4)) in segments  # R: qbinom(c(.025, .975), 120, .5)
    plt.close(fig)


def test_null_range_matches_r_qbinom():
    # R: qbinom(c(0.025, 0.975), 120, 0.5) -> 49 71 ; qbinom(c(.025, .975), 240, .42) -> 86 116
    assert figures.null_range(0.5, 120) == (49 / 120, 71 / 120)
    assert figures.null_range(0.42, 240) == (86 / 240, 116 / 240)


def test_claim_plot_keeps_its_old_call():
    figures.set_theme("en")
    old = _claims().drop(columns=["observed_treatment_n", "observed_control_n"])
    fig = figures.claim_plot(old, lang="en", title="Claims")
    assert len(fig.legends[0].get_texts()) == 4
    plt.close(fig)


# ---------------------------------------------------------------- order, names, overlap


def test_missingness_plot_sorts_items_naturally_and_waves_in_design_order():
    figures.set_theme("en")
    items = ["cls_1", "cls_10", "cls_11", "cls_2", "pcc_3", "pcc_12"]
    miss = pd.DataFrame([{"instrument": it.split("_")[0], "item": it, "wave": w, "missing_pct": 1.0}
                         for w in ("pre", "post") for it in items])
    fig = figures.missingness_plot(miss)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cls_1", "cls_2", "cls_10", "cls_11",
                                                            "pcc_3", "pcc_12"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pre", "post"]
    plt.close(fig)
    fig = figures.missingness_plot(miss, waves=["post", "pre"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["post", "pre"]
    plt.close(fig)


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_estimation_plot_names_models_in_words_and_nothing_overlaps():
    figures.set_theme("en")
    fig = figures.estimation_plot(_effects(), title="Effects")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "OLS + CR2" in ticks and "Mixed model (REML)" in ticks and "ols_cr2" not in ticks
    legend = fig.legends[0].get_window_extent(r)
    sup = fig._suptitle.get_window_extent(r)
    for ax in fig.axes:
        assert not _overlap(legend, ax.get_window_extent(r))
        assert not _overlap(sup, ax.title.get_window_extent(r))
        assert not _overlap(sup, ax.get_window_extent(r))
    plt.close(fig)


def test_means_plot_legend_stays_off_the_error_bars():
    figures.set_theme("en")
    means = pd.DataFrame([{"outcome": "c", "arm": a, "wave": w, "n": 40, "mean": m,
                           "ci_low": m - .2, "ci_high": m + .2}
                          for a, m in (("control", 3.0), ("treatment", 3.4))
                          for w in ("pre", "post")])
    fig = figures.means_plot(means, outcome="c", waves=["pre", "post"], control="control")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert not _overlap(ax.get_legend().get_window_extent(r), ax.get_window_extent(r))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pre", "post"]
    plt.close(fig)


@pytest.mark.parametrize("lang", LANGS)
def test_report_figures_save_without_warnings(tmp_path, lang):
    figures.set_theme(lang)
    flow, reasons = _flow()
    makers = [lambda: figures.consort_diagram(flow, reasons=reasons, lang=lang, min_cell=5),
              lambda: figures.effects_forest(_effects(), better=BETTER, lang=lang),
              lambda: figures.reliable_change_plot(_change(), lang=lang, min_cell=5),
              lambda: figures.claims_figure(_claims(), lang=lang),
              lambda: figures.estimation_plot(_effects(), lang=lang)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, make in enumerate(makers):
            fig = make()
            paths = figures.save_figure(fig, tmp_path, f"f{i}")
            assert all(p.stat().st_size > 1000 for p in paths)
            plt.close(fig)


def test_wave_labels_replace_wave_codes_on_the_axis():
    figures.set_theme("en")
    miss = pd.DataFrame({"item": ["a", "a"], "wave": ["pre", "post"], "missing_pct": [1.0, 2.0]})
    fig = figures.missingness_plot(miss, wave_labels={"pre": {"en": "Baseline", "zh": "基线"}})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Baseline", "post"]
    plt.close(fig)


def test_long_claims_wrap_between_words():
    text = ("82% of left-behind students learned to communicate and to ask teachers for help "
            "(82%的留守学生学会了沟通，遇到困难时会向老师和同学求助)")
    lines = figures._wrap(text, 34).split("\n")
    words = set(text.replace("(", " ").split())
    assert all(ln.split()[0] in words or not ln[0].isascii() or ln.startswith("(")
               for ln in lines)
    assert not any(ln.startswith("，") for ln in lines)
    assert "".join(ln.replace(" ", "") for ln in lines) == text.replace(" ", "")

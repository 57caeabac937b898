"""Figures: CJK rendering with fallback, byte-identical files, no timestamps."""

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import figures


def _means():
    rows = []
    for arm in ("control", "treatment"):
        for w, m in (("baseline", 3.0), ("endline", 3.4 if arm == "treatment" else 3.1)):
            rows.append({"outcome": "communication", "arm": arm, "wave": w, "n": 40, "mean": m,
                         "ci_low": m - .2, "ci_high": m + .2})
    return pd.DataFrame(rows)


def test_figures_are_byte_identical_and_carry_no_timestamp(tmp_path):
    lang = figures.set_theme("zh")
    paths = []
    for run in ("a", "b"):
        fig = figures.means_plot(_means(), outcome="communication", control="control", lang=lang,
                                 title="沟通能力 communication")
        paths.append(figures.save_figure(fig, tmp_path / run, "means"))
        plt.close(fig)
    for pa, pb in zip(*paths):
        assert pa.read_bytes() == pb.read_bytes()
    svg = paths[0][1].read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert b"tIME" not in paths[0][0].read_bytes()[:4096]


def test_chinese_renders_with_a_cjk_font_or_falls_back_with_one_warning(monkeypatch):
    if figures.find_cjk_font():
        assert figures.set_theme("zh") == "zh"
        assert plt.rcParams["font.sans-serif"][0] == figures.find_cjk_font()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a glyph-missing warning would fail here
            fig, ax = plt.subplots()
            ax.set_title("留守儿童 沟通与求助")
            fig.canvas.draw()
            plt.close(fig)
    monkeypatch.setattr(figures, "find_cjk_font", lambda: None)
    monkeypatch.setattr(figures, "_warned", False)
    with pytest.warns(UserWarning, match="No CJK font"):
        assert figures.set_theme("zh") == "en"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert figures.set_theme("zh") == "en"  # warned once only


def test_plot_functions_accept_their_documented_tables(tmp_path):
    figures.set_theme("en")
    effects = pd.DataFrame({"outcome": ["comm", "comm"], "arm": ["t", "t"],
                            "model": ["ols_cr2", "mixed_reml"], "estimate": [.3, .28],
                            "ci_low": [.1, .05], "ci_high": [.5, .5], "primary": [True, False]})
    sub = pd.DataFrame({"outcome": ["comm"] * 2, "subgroup": ["gender"] * 2, "level": ["f", "m"],
                        "estimate": [.2, float("nan")], "ci_low": [.0, float("nan")],
                        "ci_high": [.4, float("nan")]})
    flow = pd.DataFrame({"arm": ["control", "treatment"], "enrolled": [400, 400],
                         "allocated": [400, 400], "followed_up": [350, 380], "analysed": [348, 377]})
    claims = pd.DataFrame({"claim": ["comm-82"], "claimed_proportion": [.82], "ci_low": [.71],
                           "ci_high": [.9], "null_proportion": [.5], "observed_treatment": [.6],
                           "observed_control": [.5]})
    power = pd.DataFrame({"clusters": [10, 20, 30] * 2, "power": [.3, .6, .8, .2, .4, .6],
                          "series": ["icc .05"] * 3 + ["icc .10"] * 3})
    miss = pd.DataFrame({"item": ["a", "a", "b", "b"], "wave": ["b", "e", "b", "e"],
                         "missing_pct": [0, 5, 1, 2]})
    counts = pd.DataFrame({"item": ["a"] * 3, "response": [1, 2, 3], "n": [5, 10, 5]})
    figs = [figures.estimation_plot(effects), figures.forest_plot(sub, outcome="comm"),
            figures.consort_diagram(flow), figures.claim_plot(claims),
            figures.power_curve(power, x="clusters"), figures.missingness_plot(miss),
            figures.item_distributions(counts)]
    for i, f in enumerate(figs):
        written = figures.save_figure(f, tmp_path, f"f{i}")
        assert all(p.stat().st_size > 1000 for p in written)
        plt.close(f)


def _chinese_tables():
    effects = pd.DataFrame({"outcome": ["孤独感", "孤独感"], "arm": ["干预组", "干预组"],
                            "model": ["ols_cr2", "mixed_reml"], "estimate": [-.3, -.28],
                            "ci_low": [-.5, -.5], "ci_high": [-.1, -.05], "primary": [True, False]})
    sub = pd.DataFrame({"outcome": ["孤独感"] * 2, "subgroup": ["性别"] * 2, "level": ["女", "男"],
                        "estimate": [.2, .1], "ci_low": [.0, -.1], "ci_high": [.4, .3]})
    claims = pd.DataFrame({"claim": ["82%的儿童沟通能力提高（家长报告）"], "claimed_proportion": [.82],
                           "ci_low": [.71], "ci_high": [.9], "null_proportion": [.5],
                           "observed_treatment": [.6], "observed_control": [.5]})
    counts = pd.DataFrame({"item": ["我感到孤单"] * 3, "response": ["从不", "有时", "经常"],
                           "n": [5, 10, 5]})
    return [lambda lang: figures.estimation_plot(effects, lang=lang),
            lambda lang: figures.forest_plot(sub, outcome="孤独感", lang=lang),
            lambda lang: figures.claim_plot(claims, lang=lang),
            lambda lang: figures.item_distributions(counts, lang=lang, title="孤独感量表")]


@pytest.mark.skipif(figures.find_cjk_font() is None, reason="no CJK font installed")
def test_english_figures_render_chinese_data_labels_with_a_cjk_font(tmp_path):
    # crash class 12: with lang=en the CJK font was not used, so 88 glyph warnings and empty boxes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any missing-glyph warning fails here
        assert figures.set_theme("en") == "en"
        assert plt.rcParams["font.sans-serif"][0] == figures.find_cjk_font()
        for i, make in enumerate(_chinese_tables()):
            fig = make("en")
            fig.canvas.draw()
            figures.save_figure(fig, tmp_path, f"f{i}")
            plt.close(fig)


@pytest.mark.skipif(figures.find_cjk_font() is None, reason="no CJK font installed")
def test_cjk_font_is_found_when_matplotlibs_cache_predates_it(monkeypatch):
    from matplotlib import font_manager

    name = figures.find_cjk_font()
    without = [f for f in font_manager.fontManager.ttflist if f.name not in figures.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", without)
    assert figures.find_cjk_font() == name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_cjk_font_one_warning_instead_of_one_per_glyph(monkeypatch, tmp_path, lang):
    monkeypatch.setattr(figures, "find_cjk_font", lambda: None)
    monkeypatch.setattr(figures, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert figures.set_theme(lang) == "en"
        for i, make in enumerate(_chinese_tables()):
            fig = make("en")
            figures.save_figure(fig, tmp_path, f"f{i}")
            fig.canvas.draw()  # e.g. the notebook's inline display
            plt.close(fig)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if m.startswith("Glyph")]
    assert sum("No CJK font" in m for m in messages) == 1

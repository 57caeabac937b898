"""save_figure writes what ``fig.savefig(..., dpi=200, bbox_inches="tight")`` writes.

save_figure lays each format out once (no draw only to lay out), lays each piece of text out
once per format and encodes the PNG itself (analysis.figures.png_bytes). None of that may
change what a reader sees: the PNG has the same pixels and resolution as savefig's, the SVG
the same bytes, and saving twice gives the same bytes. (An opaque PNG is written as RGB
rather than RGBA: its pixels are compared as RGBA values.)
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text
from PIL import Image
from test_figures import _means  # tests/ is on sys.path under pytest

from analysis import delivery_figures as dfig
from analysis import figures
from analysis import sensitivity_figures as sfig


def _savefig(fig, fmt: str) -> bytes:
    """The old way: matplotlib's savefig with a tight box (what save_figure did before)."""
    buf = io.BytesIO()
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with plt.rc_context({"svg.hashsalt": "survey-workbench"}):
        fig.savefig(buf, format=fmt, dpi=200, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    """RGBA values (save_figure writes an opaque figure as RGB: the same pixels)."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def _effects():
    return pd.DataFrame({"outcome": ["孤独感", "孤独感"], "arm": ["干预组", "干预组"],
                         "model": ["ols_cr2", "mixed_reml"], "estimate": [-.3, -.28],
                         "ci_low": [-.5, -.5], "ci_high": [-.1, -.05], "primary": [True, False]})


def _calendar():
    rng = np.random.default_rng(3)
    rows = []
    for k in range(30):
        arm, school = ("treatment", "S01") if k < 18 else ("control", "S02")
        for m in ("2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12"):
            rows.append({"child": f"c{k:03d}", "arm": arm, "school": school, "month": m,
                         "n_contacts": int(rng.poisson(1.5 if arm == "treatment" else 0.2))})
    months = pd.DataFrame({"month": ["2024-06", "2024-07", "2024-08", "2024-09", "2024-10",
                                     "2024-11", "2024-12"],
                           "expected": [True, False, False, True, True, True, True]})
    return pd.DataFrame(rows), months


def _shares():
    rows = []
    for school, n in (("S01", 12), ("S03", 3), ("S04", 20)):
        for p, start in (("autumn", "2024-09-01"), ("spring", "2024-03-01")):
            rows.append({"activity": "letter", "school": school, "period": p,
                         "period_start": pd.Timestamp(start), "n_children": n,
                         "share_met": 0.5 if school == "S01" else 0.9})
        rows.append({"activity": "home_visit", "school": school, "period": "2024-03",
                     "period_start": pd.Timestamp("2024-03-01"), "n_children": n,
                     "share_met": 0.8333})
    return pd.DataFrame(rows)


def _delta():
    d = np.linspace(-1, 1, 9)
    return pd.DataFrame({"outcome": "y", "arm": "t", "delta": d, "estimate": 0.3 + 0.2 * d,
                         "ci_low": 0.1 + 0.2 * d, "ci_high": 0.5 + 0.2 * d})


def _plain():
    """Things the workbench's figures do not use yet: twin axes, log scale, math text, a
    wrapped text, a legend outside the axes, compressed layout, one text twice."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(7, 3), layout="compressed")
    x = np.linspace(1, 100, 50)
    a.plot(x, np.log(x), label=r"$\log(x)$")
    a.twinx().plot(x, x ** 0.5, color="C1")
    a.legend(loc="upper left", bbox_to_anchor=(1.15, 1))
    b.semilogy(x, x ** 2)
    b.set_xticks([1, 25, 50, 75, 100], ["one", "twenty-five", "fifty", "seventy-five", "100"],
                 rotation=30, ha="right")
    a.text(0.5, 0.5, "twice", transform=a.transAxes)  # the same text, turned: laid out anew
    a.text(0.2, 0.3, "twice", rotation=90, transform=a.transAxes)
    b.text(5, 10, "a long note that matplotlib wraps at the figure's edge " * 2, wrap=True)
    fig.suptitle("Plain matplotlib 留守儿童")
    return fig


def _bare():
    """A Figure made without pyplot (its canvas is matplotlib's base canvas)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(["a", "b", "c"], [3, 1, 2])
    ax.set_title("Without pyplot")
    return fig


def _text_only():
    fig = plt.figure(figsize=(3, 1), layout="constrained")  # no Axes: no layout to run
    fig.text(0.1, 0.5, "Nothing but text 只有文字")
    return fig


FIGURES = {
    "bare": _bare,
    "text_only": _text_only,
    "means_zh": lambda: figures.means_plot(_means(), outcome="communication", control="control",
                                           lang="zh", title="沟通能力 communication"),
    "estimation": lambda: figures.estimation_plot(_effects(), lang="en"),
    "claim": lambda: figures.claim_plot(pd.DataFrame({
        "claim": ["82%的儿童沟通能力提高（家长报告）"], "claimed_proportion": [.82], "ci_low": [.71],
        "ci_high": [.9], "null_proportion": [.5], "observed_treatment": [.6],
        "observed_control": [.5]}), lang="en"),
    "power": lambda: figures.power_curve(pd.DataFrame({
        "clusters": [10, 20, 30] * 2, "power": [.3, .6, .8, .2, .4, .6],
        "series": ["icc .05"] * 3 + ["icc .10"] * 3}), x="clusters"),
    "items": lambda: figures.item_distributions(pd.DataFrame({
        "item": ["我感到孤单"] * 3 + ["b"] * 3, "response": ["从不", "有时", "经常"] * 2,
        "n": [5, 10, 5, 7, 7, 6]}), lang="zh", title="孤独感量表"),
    "calendar": lambda: dfig.delivery_calendar(*_calendar(), control="control", min_cell=5,
                                               arm_labels={"treatment": "Mentoring"}),
    "fidelity": lambda: dfig.fidelity_by_school(_shares(), min_cell=5),
    "delta": lambda: sfig.delta_plot(_delta()),
    "plain": _plain,
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_save_figure_draws_what_savefig_draws(tmp_path, name):
    figures.set_theme("en")
    make = FIGURES[name]
    fig = make()
    engine = fig.get_layout_engine()
    png, svg = figures.save_figure(fig, tmp_path, name)
    assert fig.get_layout_engine() is engine  # the figure is left as it was
    assert Text._get_layout.__qualname__ == "Text._get_layout"  # no text cache left behind
    plt.close(fig)

    old = make()
    old_png, old_svg = _savefig(old, "png"), _savefig(old, "svg")
    plt.close(old)
    new, ref = _pixels(png.read_bytes()), _pixels(old_png)
    assert new.shape == ref.shape
    assert np.array_equal(new, ref), f"{name}: {int((new != ref).any(-1).sum())} pixels differ"
    assert Image.open(png).info["dpi"] == pytest.approx(Image.open(io.BytesIO(old_png)).info["dpi"])
    assert svg.read_bytes() == old_svg


def test_the_same_figure_gives_the_same_bytes(tmp_path):
    # (saving one Figure object twice need not: matplotlib's constrained layout with a
    # colorbar starts from the previous positions, with savefig as with save_figure)
    figures.set_theme("en")
    saved = []
    for run in ("a", "b"):
        fig = FIGURES["fidelity"]()
        saved.append([p.read_bytes() for p in figures.save_figure(fig, tmp_path / run, "f")])
        plt.close(fig)
    assert saved[0] == saved[1]


def test_the_text_cache_is_gone_after_a_failed_save(tmp_path, monkeypatch):
    fig, ax = plt.subplots()
    ax.set_title("x")

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figures, "png_bytes", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        figures.save_figure(fig, tmp_path, "f")
    plt.close(fig)
    assert Text._get_layout.__qualname__ == "Text._get_layout"
    assert figures._memo is None
    assert not list(tmp_path.iterdir())  # no half-written file


def test_png_bytes_round_trips_pixels_and_resolution():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    opaque = a.copy()
    opaque[..., 3] = 255
    for image, mode in ((a, "RGBA"), (opaque, "RGB")):
        im = Image.open(io.BytesIO(figures.png_bytes(image, dpi=200)))
        assert im.mode == mode and im.size == (53, 37)
        assert np.array_equal(np.asarray(im.convert("RGBA")), image)
        assert im.info["dpi"] == pytest.approx((200, 200), abs=0.01)
        assert not {"Software", "tIME"} & set(im.info)
        assert figures.png_bytes(image, dpi=200) == figures.png_bytes(image.copy(), dpi=200)


def test_with_another_matplotlib_save_figure_is_savefig(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "_FAST_SAVE", False)
    figures.set_theme("en")
    fig = FIGURES["calendar"]()
    png, svg = figures.save_figure(fig, tmp_path, "c")
    assert Text._get_layout.__qualname__ == "Text._get_layout"
    plt.close(fig)
    old = FIGURES["calendar"]()
    assert png.read_bytes() == _savefig(old, "png") and svg.read_bytes() == _savefig(old, "svg")
    plt.close(old)


def test_a_transparent_background_is_saved_as_savefig_saves_it(tmp_path):
    figures.set_theme("en")
    with plt.rc_context({"savefig.transparent": True}):
        fig = FIGURES["estimation"]()
        png, _ = figures.save_figure(fig, tmp_path, "t")
        old = _savefig(fig, "png")
        plt.close(fig)
    new = _pixels(png.read_bytes())
    assert new[0, 0, 3] == 0  # the corner is transparent
    assert np.array_equal(new, _pixels(old))


def _texts(size: float, family=None, text="Effect 0.5 效应"):
    """One figure of texts at one size: the same words as the others, at another size or
    in another font, and words of their own."""
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    kw = {"fontsize": size} if family is None else {"fontsize": size, "family": family}
    ax.set_title(text, **kw)
    ax.set_xlabel(f"{text} ({size:g} pt)", **kw)
    ax.text(0.1, 0.5, text, rotation=30, **kw)
    ax.plot([0, 1], [0, 0.5])
    return fig


#: figures saved one after another in one process, each with what the cross-save text
#: cache holds from the ones before: the same texts at other sizes, in another font, with
#: other hinting, and a font that lacks the Chinese characters
_SEQUENCE = [
    ("10 pt", lambda: _texts(10), {}),
    ("12 pt", lambda: _texts(12), {}),
    ("10 pt again", lambda: _texts(10), {}),
    ("DejaVu Serif", lambda: _texts(10, family="DejaVu Serif", text="Effect 0.5"), {}),
    ("no hinting", lambda: _texts(10), {"text.hinting": "no_hinting"}),
    ("other words", lambda: _texts(11, text="Power 0.8 (d)"), {}),
    ("means", lambda: FIGURES["means_zh"](), {}),
]


def test_figures_saved_one_after_another_match_savefig(tmp_path):
    figures.set_theme("en")
    figures._text_cache.clear()
    for name, make, rc in _SEQUENCE:
        with plt.rc_context(rc):
            fig = make()
            png, svg = figures.save_figure(fig, tmp_path, "f")
            plt.close(fig)
            old = make()
            old_png, old_svg = _savefig(old, "png"), _savefig(old, "svg")
            plt.close(old)
        assert np.array_equal(_pixels(png.read_bytes()), _pixels(old_png)), name
        assert svg.read_bytes() == old_svg, name
    assert figures._text_cache  # (the cache was used)


def test_the_text_cache_is_bounded(tmp_path, monkeypatch):
    figures.set_theme("en")
    monkeypatch.setattr(figures, "TEXT_CACHE_SIZE", 5)
    figures._text_cache.clear()
    fig = _texts(10)
    png, svg = figures.save_figure(fig, tmp_path, "f")
    plt.close(fig)
    assert 0 < len(figures._text_cache) <= 5
    old = _texts(10)
    old_png, old_svg = _savefig(old, "png"), _savefig(old, "svg")  # (in save_figure's order)
    plt.close(old)
    assert np.array_equal(_pixels(png.read_bytes()), _pixels(old_png))
    assert svg.read_bytes() == old_svg

    monkeypatch.setattr(figures, "TEXT_CACHE_FONTS", 1)  # a second font empties the cache
    figures._text_cache.clear()
    figures._text_cache_fonts.clear()
    for family in ("DejaVu Serif", "DejaVu Sans Mono"):
        fig = _texts(10, family=family, text="x")
        figures.save_figure(fig, tmp_path, "g")
        plt.close(fig)
        assert len(figures._text_cache_fonts) == 1
        font = next(iter(figures._text_cache_fonts))
        assert all(key[1] is font for key in figures._text_cache)


def test_the_text_cache_is_only_used_while_saving(tmp_path):
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontManager
    from matplotlib.textpath import TextToPath

    fig = _texts(10)
    figures.save_figure(fig, tmp_path, "f")
    plt.close(fig)
    for owner, name in ((RendererAgg, "draw_text"),
                        (RendererAgg, "get_text_width_height_descent"),
                        (TextToPath, "_get_font"), (TextToPath, "get_glyphs_with_font"),
                        (TextToPath, "get_text_width_height_descent"),
                        (FontManager, "_find_fonts_by_props")):
        assert getattr(owner, name).__qualname__ == f"{owner.__name__}.{name}"


def test_a_missing_glyph_warns_at_every_save(tmp_path):
    figures.set_theme("en")
    for run in ("a", "b"):  # the second save finds the text's other measures in the cache
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.set_title("x \N{LINEAR B SYLLABLE B008 A}")  # in no installed font
        with pytest.warns(UserWarning, match="missing from font"):
            figures.save_figure(fig, tmp_path / run, "f")
        plt.close(fig)

"""The program-delivery figures (analysis.delivery_figures): they render in Chinese with a
CJK font and fall back to English without one; children appear only as unlabeled rows
(never an id or pseudonym); small schools and small cells are not shown."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import delivery_figures as dfig
from analysis import figures


def _texts(fig) -> str:
    out = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    out += [t.get_text() for t in fig.texts]
    return "\n".join(out)


def _calendar(sizes=None):
    rng = np.random.default_rng(3)
    sizes = sizes or {("treatment", "S01"): 12, ("treatment", "S03"): 3,
                      ("control", "S02"): 10}
    rows, k = [], 0
    for (arm, school), n in sizes.items():
        for _ in range(n):
            k += 1
            child = f"pseudonym{k:04d}xyz"
            for m in ("2024-06", "2024-07", "2024-08", "2024-09"):
                rows.append({"child": child, "arm": arm, "school": school, "month": m,
                             "n_contacts": int(rng.poisson(1.5 if arm == "treatment" else 0.1))})
    months = pd.DataFrame({"month": ["2024-06", "2024-07", "2024-08", "2024-09"],
                           "expected": [True, False, False, True]})
    return pd.DataFrame(rows), months


@pytest.fixture
def no_cjk(monkeypatch):
    monkeypatch.setattr(figures, "find_cjk_font", lambda: None)
    figures.reset_font_warning()
    yield
    figures.reset_font_warning()


def test_calendar_shows_no_child_and_no_small_school():
    cal, months = _calendar()
    fig = dfig.delivery_calendar(cal, months, lang="en", control="control", min_cell=5,
                                 arm_labels={"treatment": "Mentoring", "control": "Comparison"})
    text = _texts(fig)
    assert not any(c in text for c in cal["child"].unique())
    assert "S01" in text and "S02" in text
    assert "S03" not in text and "schools of < 5" in text  # 3 children: not named
    assert "Nothing expected (holiday / summer)" in text
    assert "Mentoring" in text and "Comparison" in text
    assert fig.axes[0].images[0].get_array().shape == (25, 4)  # one row per child


def test_calendar_orders_program_arms_first_and_the_least_reached_last_in_a_school():
    cal, months = _calendar({("control", "S02"): 6, ("treatment", "S01"): 6})
    fig = dfig.delivery_calendar(cal, months, control="control", min_cell=5)
    grid = np.asarray(fig.axes[0].images[0].get_array())
    totals = grid.sum(axis=1)
    assert list(totals[:6]) == sorted(totals[:6], reverse=True)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["S01", "S02"]


def test_calendar_in_chinese_with_a_cjk_font():
    if figures.find_cjk_font() is None:
        pytest.skip("no CJK font installed")
    lang = figures.set_theme("zh")
    cal, months = _calendar()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-glyph warning
        fig = dfig.delivery_calendar(cal, months, lang=lang, control="control", min_cell=5)
        fig.canvas.draw()
    text = _texts(fig)
    assert "每名儿童每月的帮扶活动次数" in text and "2024年6月" in text
    assert "不要求开展（假期）" in text and "不足 5 名儿童的学校" in text
    figures.set_theme("en")


def test_without_a_cjk_font_zh_falls_back_to_english(no_cjk):
    with pytest.warns(UserWarning, match="No CJK font"):
        lang = figures.set_theme("zh")
    assert lang == "en"
    cal, months = _calendar()
    text = _texts(dfig.delivery_calendar(cal, months, lang=lang, min_cell=5))
    assert "Contacts per child and month" in text and "月" not in text


def _shares():
    rows = []
    for school, n in (("S01", 12), ("S03", 3)):
        for p, start in (("autumn", "2024-09-01"), ("spring", "2024-03-01")):
            rows.append({"activity": "letter", "school": school, "period": p,
                         "period_start": pd.Timestamp(start), "n_children": n,
                         "share_met": 0.5 if school == "S01" else 1.0})
    rows.append({"activity": "home_visit", "school": "S01", "period": "2024-03",
                 "period_start": pd.Timestamp("2024-03-01"), "n_children": 12,
                 "share_met": 0.8333})
    return pd.DataFrame(rows)


def test_fidelity_by_school_suppresses_small_cells_and_orders_periods_and_panels():
    fig = dfig.fidelity_by_school(_shares(), min_cell=5, activities=["home_visit", "letter"])
    first, second = fig.axes[0], fig.axes[1]
    assert first.get_title(loc="left") == "Home visit"
    assert [t.get_text() for t in second.get_xticklabels()] == ["Spring term", "Autumn term"]
    cells = [t.get_text() for t in second.texts]
    assert cells.count("§") == 2 and "100" not in cells and cells.count("50") == 2
    assert [t.get_text() for t in first.texts] == ["83"]  # a rounded percentage
    assert "fewer than 5 children" in _texts(fig)


def test_fidelity_by_school_in_chinese():
    if figures.find_cjk_font() is None:
        pytest.skip("no CJK font installed")
    figures.set_theme("zh")
    text = _texts(dfig.fidelity_by_school(_shares(), lang="zh", min_cell=5))
    assert "书信" in text and "家访" in text and "§：该格少于 5 名儿童" in text
    figures.set_theme("en")


def test_dose_response_says_association_and_hides_small_bands():
    dose = pd.DataFrame({
        "analysis": "dose_band", "outcome": "y", "arm": ["control"] * 3 + ["treatment"] * 3,
        "band": ["none", "<50%", ">=80%"] * 2, "n": [120, np.nan, 0, 14, np.nan, 30],
        "mean_change": [0.05, np.nan, np.nan, 0.12, np.nan, 0.4],
        "suppressed": [False, True, False, False, True, False]})
    fig = dfig.dose_response(dose, outcome="y", control="control", min_cell=5, better="higher",
                             arm_labels={"control": "Comparison", "treatment": "Mentoring"})
    ax = fig.axes[0]
    assert "Association, not effect" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["None (0)", "< 50%", "≥ 80%"]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("§") == 2  # one suppressed band per arm; the empty one is not drawn
    assert "n=30" in texts and "n=0" not in texts
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"Comparison", "Mentoring"}
    assert "(95% CI)" not in ax.get_ylabel()  # the table has no intervals


def test_mentor_load_counts_mentors_over_the_limit_and_saves_identical_bytes(tmp_path):
    load = pd.DataFrame({"mentor_id": ["m1", "m2", "m3"] * 2,
                         "month": ["2024-03"] * 3 + ["2024-04"] * 3,
                         "n_children": [3, 5, 4, 3, 3, 3],
                         "max_simultaneous": [3, 4, 4, 3, 3, 3], "limit": 3})
    fig = dfig.mentor_load_plot(load, lang="en")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "2" in texts  # March: two mentors with 4 at once
    assert not any(m in _texts(fig) for m in ("m1", "m2", "m3"))
    a = figures.save_figure(fig, tmp_path / "a", "load", formats=("png",))[0].read_bytes()
    fig = dfig.mentor_load_plot(load, lang="en")
    b = figures.save_figure(fig, tmp_path / "b", "load", formats=("png",))[0].read_bytes()
    assert a == b


def test_term_names_are_written_for_readers_in_chinese():
    from analysis.delivery_figures import fidelity_by_school

    sh = pd.DataFrame({"activity": "letter", "school": ["A", "A"], "period": ["spring", "autumn"],
                       "period_start": pd.to_datetime(["2024-03-01", "2024-09-01"]),
                       "n_children": [10, 10], "share_met": [0.9, 0.5]})
    fig = fidelity_by_school(sh, lang="zh")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["春季学期", "秋季学期"]
    fig.clf()


@pytest.mark.parametrize("per_school", [4, 120, 700])
def test_calendar_resamples_counts_with_the_pixels_of_colouring_first(per_school):
    """The calendar resamples the counts before colouring them (interpolation_stage="data",
    about 50 instead of 127 MiB for the county); with nearest-neighbour resampling the pixels
    are those of colouring first ("rgba", which matplotlib's "auto" picks for many children)."""
    import io

    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    cal, months = _calendar({("treatment", "S01"): per_school, ("control", "S02"): per_school})
    pixels = {}
    for stage in ("data", "rgba"):
        fig = dfig.delivery_calendar(cal, months, control="control", min_cell=5)
        image = fig.axes[0].images[0]
        assert image.get_interpolation_stage() == "data"
        image.set_interpolation_stage(stage)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200)
        plt.close(fig)
        buf.seek(0)
        pixels[stage] = imread(buf)
    assert pixels["data"].shape == pixels["rgba"].shape
    assert np.array_equal(pixels["data"], pixels["rgba"])

"""The effects notebook end to end on three simulated studies (issue 13, items 1-3): a
one-group pre/post study's page says change, a non-randomized (controlled) comparison's
says adjusted difference with the confounding and parallel-trends caveats and an E-value,
and a randomized trial's says effect. Small studies, one ``workbench run --only
03_effects`` each, shared by the module."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

COMMON = ["--instruments", "none", "--columns", "math_score", "attendance_days",
          "--trend", "0", "--truth-draws", "2000", "--language", "en"]
STUDIES = {
    "pre_post": ["--design", "pre_post", "--clusters", "1", "--classes", "4",
                 "--per-cluster", "60", "--cluster-levels", "1", "--effect", "0.3",
                 "--seed", "3"],
    "controlled": ["--design", "controlled", "--clusters", "6", "--per-cluster", "20",
                   "--classes", "2", "--cluster-levels", "1", "--effect", "0.3",
                   "--seed", "4"],
    "randomized": ["--design", "randomized", "--clusters", "3", "--per-cluster", "30",
                   "--classes", "2", "--cluster-levels", "0", "--effect", "0.3",
                   "--seed", "5"],
}


def _text(page: str) -> str:
    """The page's visible text (the body: the head's <title> is workbench.reports')."""
    page = re.sub(r"<head>.*?</head>", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from workbench.cli import main
    from workbench.pipeline import run_study

    base = tmp_path_factory.mktemp("effects_page")
    out = {}
    for kind, args in STUDIES.items():
        study = base / kind
        assert main(["simulate", str(study), *args, *COMMON]) == 0
        res = run_study(study, out=base / f"{kind}_out", progress=False, only=["03_effects"],
                        report_mode=True, jobs=1)
        page = res.output / "reports" / "03_effects.html"
        assert page.is_file(), (kind, res.failures)
        raw = page.read_text(encoding="utf-8")
        out[kind] = {"text": _text(raw), "title": re.search(r"<title>(.*?)</title>", raw).group(1),
                     "effects": pd.read_csv(res.output / "tables" / "effects.csv")}
    return out


def test_pre_post_page_says_change_never_effect(runs):
    r = runs["pre_post"]
    text = r["text"]
    assert "Change · 变化" in text  # the title, the run's language first
    assert "Intervention effects" not in text and "干预效果" not in text
    assert "Adjusted difference" not in text
    assert "arm × subgroup" not in text
    assert "A change is not an effect of the program" in text
    assert set(r["effects"]["estimand"]) == {"change"}
    assert r["effects"]["e_value"].isna().all()


def test_controlled_page_says_adjusted_difference_with_its_caveats(runs):
    r = runs["controlled"]
    text = r["text"]
    assert "Adjusted differences · 调整后差异" in text
    assert "Intervention effects" not in text and "干预效果" not in text
    assert "the groups were not randomized" in text.lower()
    assert "parallel trends" in text and "平行趋势" in text
    fx = r["effects"]
    assert set(fx["estimand"]) == {"adjusted_difference"}
    assert fx.loc[fx["primary"], "model"].unique().tolist() == ["did"]
    prim = fx[fx["primary"] & (fx["family"] == "primary")].iloc[0]
    assert f"risk ratio of {prim['e_value']:.2f}" in text


def test_randomized_page_says_effect(runs):
    r = runs["randomized"]
    text = r["text"]
    assert "Intervention effects · 干预效果" in text
    assert "Adjusted difference" not in text and "调整后差异" not in text
    assert set(r["effects"]["estimand"]) == {"effect"}


@pytest.mark.parametrize("kind", list(STUDIES))
def test_page_names_the_family_of_the_adjusted_p(runs, kind):
    text = runs[kind]["text"]
    assert "Adjusted p: the primary outcome (" in text and "family of one test" in text
    for bad in ("NaN", "<NA>", "Traceback"):
        assert bad not in text, (kind, bad)


def test_browser_title_follows_the_estimand(runs):
    assert runs["pre_post"]["title"] in ("Change", "变化")
    assert runs["controlled"]["title"] in ("Adjusted differences", "调整后差异")

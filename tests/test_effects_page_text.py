"""The words and tables of the effects page (evaluation.effects_tables), without a kernel:
the title and text follow what the design estimates (change / adjusted difference / effect),
every paragraph is in both languages, the adjusted p-values name their family, and the
subgroup and effects tables are published tables without NaN."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from test_not_applicable import ARM, MATH, READING, _scores, write_study

from evaluation import effects_tables as et
from evaluation.published_table import SUPPRESSED
from survey.study_loader import load_study

CJK = re.compile(r"[\u4e00-\u9fff]")
EXTRA = {"id": "math2", "column": "mathach", "better": "higher"}  # a third outcome


def _study(tmp_path, kind, *, adjust="holm", outcomes=(MATH, READING, EXTRA)):
    design = {"type": kind, "subgroups": ["gender", "age"]}
    if kind != "pre_post":
        design.update(ARM)
    waves = ("pre", "post")
    return load_study(write_study(tmp_path / kind, design=design, outcomes=list(outcomes),
                                  waves=waves, adjust=adjust, n=60))


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    base = tmp_path_factory.mktemp("page")
    out = {}
    for kind in ("pre_post", "controlled", "randomized"):
        s = _study(base, kind)
        scores = _scores(s)
        out[kind] = (s, st_effects(s, scores), st_subgroups(s, scores))
    return out


def st_effects(study, scores):
    return et.effects_table(study, scores)


def st_subgroups(study, scores):
    return et.subgroup_table(study, scores)


WORDS = {
    "pre_post": ("变化 · Change", "Change"),
    "controlled": ("调整后差异 · Adjusted differences", "Adjusted differences"),
    "randomized": ("干预效果 · Intervention effects", "Intervention effects"),
}


@pytest.mark.parametrize("kind", list(WORDS))
def test_title_and_text_follow_the_estimand(studies, kind):
    s, fx, sg = studies[kind]
    s_zh = dataclasses.replace(s, language="zh")
    assert et.page_title(s_zh) == WORDS[kind][0]
    assert et.page_title(s, "en") == WORDS[kind][1]
    intro = et.page_intro(s)
    caveats = et.design_caveats(s)
    texts = [intro, *caveats, et.subgroup_text(s, sg)]
    for t in texts:  # every paragraph in both languages
        assert t["en"] and CJK.search(t["zh"]), t
    english = " ".join(t["en"] for t in texts)
    chinese = "".join(t["zh"] for t in texts)
    if kind == "pre_post":
        assert set(fx["estimand"]) == {"change"}
        assert "effect of the program" not in english.replace("not an effect of the program", "")
        assert "Intervention effect" not in english and "干预效果" not in chinese
        assert "arm ×" not in english and "组别 ×" not in chinese
        assert "mean change" in et.subgroup_text(s, sg)["en"]
        fam = et.subgroup_family_text(s, sg)
        assert "whether the mean change differs" in fam["en"] and "interaction" not in fam["en"]
        assert "交互" not in fam["zh"]
        assert et.evalue_text(s, fx) is None
    elif kind == "controlled":
        assert set(fx["estimand"]) == {"adjusted_difference"}
        assert fx.loc[fx["primary"], "model"].unique().tolist() == ["did"]
        assert "not randomized" in english and "parallel trends" in english
        assert "随机" in chinese and "平行趋势" in chinese
        assert "difference in differences" in et.subgroup_text(s, sg)["en"]  # as the primary
    else:
        assert set(fx["estimand"]) == {"effect"}
        assert not caveats and "Adjusted difference" not in english


@pytest.mark.parametrize("kind", ["controlled", "randomized"])
def test_evalue_sentence_shows_the_primary_estimate(studies, kind):
    s, fx, _ = studies[kind]
    text = et.evalue_text(s, fx)
    row = fx[fx["primary"] & (fx["family"] == "primary")].iloc[0]
    assert f"risk ratio of {row['e_value']:.2f}" in text["en"]
    assert f"{row['e_value']:.2f}" in text["zh"] and "混杂" in text["zh"]


def test_multiplicity_text_names_the_family_and_its_size(studies):
    s, fx, _ = studies["randomized"]
    t = et.multiplicity_text(s, fx)
    assert "the primary outcome (" in t["en"] and "family of one test" in t["en"]
    assert "Holm across the 2 secondary outcomes" in t["en"]
    assert "2 个次要结局" in t["zh"] and "Holm" in t["zh"]


def test_multiplicity_text_with_adjust_none(tmp_path):
    s = _study(tmp_path, "randomized", adjust="none")
    fx = et.effects_table(s, _scores(s))
    assert (fx["p_adjusted"] == fx["p_value"]).all()
    t = et.multiplicity_text(s, fx)
    assert t["en"].startswith("No multiplicity adjustment") and "none" in t["zh"]


@pytest.mark.parametrize("kind", list(WORDS))
def test_published_tables_have_no_raw_values(studies, kind):
    s, fx, sg = studies[kind]
    for lang in ("en", "zh"):
        for t in (et.effects_published(fx, s, lang, min_cell=3),
                  et.subgroups_published(sg, s, lang, min_cell=3)):
            cells = t.cells(lang)
            text = " ".join(cells.astype(str).to_numpy().ravel())
            for bad in ("nan", "NaN", "<NA>", "None", "False"):
                assert bad not in text.split(), (kind, lang, bad)
            html = t.to_html(lang)
            assert "NaN" not in html
            assert t.caption(lang) and t.footnotes(lang)
    effects = et.effects_published(fx, s, "en")
    notes = " ".join(effects.footnotes("en"))
    if kind == "pre_post":
        assert "d_z" in notes and [c.label_en for c in effects.columns][2] == "d_z"
    if kind == "controlled":
        assert effects.caption("en").startswith("Adjusted differences")
        assert any(c.label_en.startswith("Adjusted difference") for c in effects.columns)
        assert "not randomized" in notes
    sub = et.subgroups_published(sg, s, "zh")
    # levels by the study's labels, the subgroup named once per block
    first = sub.cells("zh")
    assert first.iloc[0, 0] != "" and (first.iloc[1:, 0] == "").any()


def test_suppressed_subgroup_cells_show_the_symbol(studies):
    s, _, sg = studies["randomized"]
    sg = sg.copy()
    sg["suppressed"] = False
    sg.loc[0, ["estimate", "ci_low", "ci_high", "n_obs", "interaction_p",
               "interaction_p_adjusted"]] = float("nan")
    sg.loc[0, "suppressed"] = True
    t = et.subgroups_published(sg, s, "en", min_cell=5)
    row = t.cells("en").iloc[0].tolist()
    assert row.count(SUPPRESSED) >= 3, row
    assert any("fewer than 5" in n for n in t.footnotes("en"))


def test_subgroup_table_adjusts_interactions_across_subgroups(tmp_path):
    s = load_study(write_study(tmp_path / "s", design={"type": "randomized", **ARM,
                                                       "subgroups": ["gender", "age"]},
                               outcomes=[MATH], waves=("pre", "post"), n=60))
    sg = et.subgroup_table(s, _scores(s))
    assert set(sg["family"]) == {"subgroup_interaction"}
    one = sg.drop_duplicates("subgroup")
    assert len(one) == 2
    p = one["interaction_p"].to_numpy()
    from statsmodels.stats.multitest import multipletests
    assert one["interaction_p_adjusted"].to_numpy() == pytest.approx(
        multipletests(p, method="holm")[1])
    text = et.subgroup_family_text(s, sg)
    assert "Holm across the 2 interaction tests" in text["en"]
    assert pd.notna(sg["interaction_p_adjusted"]).all()


def test_a_single_subgroup_is_a_family_of_one():
    from types import SimpleNamespace as NS

    from core.design import Design

    s = NS(design=Design(type="randomized", id="id", arm="arm", control="c"),
           analysis=NS(adjust="holm"), column_label=lambda c, lang: {"en": "Gender",
                                                                     "zh": "性别"}[lang])
    sg = pd.DataFrame({"outcome": "a", "arm": "t", "subgroup": "sex", "level": ["f", "m"],
                       "interaction_p": 0.5, "interaction_p_adjusted": 0.5})
    text = et.subgroup_family_text(s, sg)
    assert "family of one" in text["en"] and "Gender" in text["en"]
    assert "自成一族" in text["zh"] and "性别" in text["zh"]


@pytest.mark.parametrize("kind", ["pre_post", "controlled"])
def test_subgroup_counts_of_a_change_score_need_both_waves(tmp_path, kind):
    s = _study(tmp_path, kind, outcomes=(MATH,))
    scores = _scores(s)
    # ten girls lose their baseline score: they leave the change-score models
    girls = scores.loc[(scores["wave"] == "pre") & (scores["gender"] == "girl"), "student_id"]
    gone = set(girls.iloc[:10])
    scores.loc[(scores["wave"] == "pre") & scores["student_id"].isin(gone), "mathach"] = None
    sg = et.subgroup_table(s, scores)
    row = sg[(sg["subgroup"] == "gender") & (sg["level"] == "girl")].iloc[0]
    end = scores[(scores["wave"] == "post") & (scores["gender"] == "girl")]
    both = end[~end["student_id"].isin(gone)]
    if kind == "pre_post":
        assert row["n_smallest_arm"] == len(both) == row["n_obs"]
    else:
        assert row["n_smallest_arm"] == both.groupby("arm").size().min()
        assert row["n_obs"] == len(both)


def test_effects_counts_of_the_did_need_both_waves(tmp_path):
    s = _study(tmp_path, "controlled", outcomes=(MATH,))
    scores = _scores(s)
    pre = scores["wave"] == "pre"
    gone = set(scores.loc[pre & (scores["arm"] == "control"), "student_id"].iloc[:8])
    scores.loc[pre & scores["student_id"].isin(gone), "mathach"] = None
    fx = et.effects_table(s, scores).set_index("model")
    end = scores[scores["wave"] == "post"]
    both = end[~end["student_id"].isin(gone)]
    # the did (change score) and the ANCOVA (baseline as a regressor) both lose them
    for model in ("did", "ancova_hc2"):
        assert fx.loc[model, "n_smallest_arm"] == both.groupby("arm").size().min()
        assert fx.loc[model, "n_smallest_arm"] < end.groupby("arm").size().min()


def test_the_page_names_what_the_models_adjust_for():
    """A reviewer can check the adjustment: baseline score, covariates and the blocks, as the
    study names them (the county example); a difference in differences subtracts the baseline."""
    county = load_study("examples/county-cluster-trial")
    intro = et.page_intro(county)
    assert ("adjust for the baseline score, Gender, Age (years), Guardian, Both parents away and "
            "County (randomization blocks, fixed effects)") in intro["en"]
    assert "基线得分、性别、年龄（岁）、监护人、父母均外出、县（随机化区组，固定效应）" in intro["zh"]
    two = load_study("examples/two-school-comparison")
    text = et.adjustment_text(two)
    assert text["en"].startswith("The difference in differences subtracts each child's baseline")
    assert "baseline score," not in text["en"]

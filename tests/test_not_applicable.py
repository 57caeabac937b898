"""Every design either gets its tables or is told, in both languages, why a report does not apply.

Fast tests call :mod:`evaluation.study_tables` on loaded studies (no kernels); one test runs
``workbench run --only`` on a cross-sectional survey without instruments or a comparison
group (issue 9, crash classes 2 and 3). Also: tables follow the run's language, and
``analysis.adjust: none`` is honoured.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import study_tables as st
from evaluation.run_folder import RunFolder, not_applicable, read_statuses
from survey.study_loader import load_study

CJK = re.compile(r"[\u4e00-\u9fff]")


def write_study(folder: Path, *, design: dict, instruments=(), outcomes=(), claims=(),
                language="en", adjust="holm", waves=("all",), n=40, seed=3,
                panel=True) -> Path:
    """A small study folder: ``study.yaml`` + ``data/all.csv`` (one row per id and wave).

    Columns: ``student_id, wave, gender, age, mathach, reading`` (data-column outcomes), ``arm``
    (alternating ``control``/``program``) and ``school_id`` (4 schools) when the design
    names them, and the ``rses_*`` items when ``rses`` is an instrument. With
    ``panel=False`` each wave has its own respondents (repeated cross-sections).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        trait = rng.normal()
        arm = "program" if i % 2 else "control"
        for k, w in enumerate(waves):
            effect = 0.5 * k * (arm == "program" or not design.get("arm"))
            row = {"student_id": f"P{i + 1:03d}" if panel else f"P{i + 1:03d}{w}", "wave": w,
                   "gender": "girl" if i % 3 else "boy", "age": 9 + i % 5,
                   "mathach": round(50 + 8 * (trait + effect) + rng.normal(0, 4), 1),
                   "reading": round(30 + 5 * effect + rng.normal(0, 6), 1)}
            if design.get("arm"):
                row["arm"] = arm
            if design.get("clusters"):
                row["school_id"] = f"S{i % 4 + 1}"
            if "rses" in instruments:
                for j in range(1, 11):
                    sign = -1 if j in (2, 5, 6, 8, 9) else 1
                    row[f"rses_{j}"] = int(np.clip(np.rint(2.5 + sign * 0.9 * (trait + effect)
                                                           + rng.normal(0, 0.6)), 1, 4))
            rows.append(row)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "data" / "all.csv", index=False)
    doc = {"id": "shape", "title": {"en": "A shape", "zh": "一种设计"}, "language": language,
           "design": {"id": "student_id", "wave": "wave", "waves": list(waves),
                      "covariates": ["gender", "age"], **design},
           "instruments": [{"id": i} for i in instruments],
           "data": [{"path": "data/all.csv"}], "privacy": {"min_cell": 3},
           "analysis": {"alpha": 0.05, "adjust": adjust, "seed": 1}}
    if outcomes:
        doc["outcomes"] = list(outcomes)
    if claims:
        doc["claims"] = list(claims)
    (folder / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    return folder


MATH = {"id": "math", "column": "mathach", "better": "higher"}
SELF_ESTEEM = {"id": "self_esteem", "scale": "rses.total", "better": "higher", "primary": True}
READING = {"id": "reading", "column": "reading", "better": "higher"}
CLAIM = {"id": "c82", "text": "82% improved", "outcome": "math", "proportion": 0.82, "n": 61,
         "improved": "any_increase"}
ARM = {"arm": "arm", "control": "control"}

# shape -> (study arguments, {notebook or section: expected reason key, None = applies})
SHAPES = {
    "survey_no_instruments": (
        dict(design={"type": "cross_sectional"}, outcomes=[MATH]),
        {"01_reliability": "no_instruments", "missingness": "no_items",
         "attrition": "attrition_cross_sectional", "02_baseline": None, "table1": None,
         "balance": "no_arm_balance", "icc": "no_clusters_icc", "03_effects": "no_comparison",
         "change": "change_one_wave", "claims": "no_claims", "04_claims": "no_claims",
         "05_power": "power_nothing_measured"}),
    "survey_no_outcomes": (
        dict(design={"type": "cross_sectional", "clusters": ["school_id"]},
             instruments=["rses"]),
        {"01_reliability": None, "03_effects": "no_outcomes", "05_power": "power_no_outcomes",
         "icc": "no_outcomes_icc", "change": "change_no_outcomes"}),
    "survey_with_arm_one_wave": (
        dict(design={"type": "cross_sectional", **ARM}, instruments=["rses"],
             outcomes=[SELF_ESTEEM]),
        {"03_effects": None, "balance": None, "05_power": None, "04_claims": "no_claims",
         "subgroups": "no_subgroups"}),
    "repeated_cross_sections_no_arm": (
        dict(design={"type": "cross_sectional"}, outcomes=[MATH], claims=[CLAIM],
             waves=("w1", "w2"), panel=False),
        {"03_effects": "no_comparison", "change": "change_cross_sectional", "04_claims": None,
         "claims": None, "05_power": "power_nothing_measured"}),
    "pre_post_two_waves": (
        dict(design={"type": "pre_post"}, instruments=["rses"], outcomes=[SELF_ESTEEM],
             waves=("pre", "post")),
        {"01_reliability": None, "attrition": None, "03_effects": None, "change": None,
         "04_claims": None, "claims": "no_claims", "05_power": None,
         "power_simulation": "power_no_clusters", "balance": "no_arm_balance"}),
    "pre_post_three_waves_clusters": (
        dict(design={"type": "pre_post", "clusters": ["school_id"]}, outcomes=[MATH],
             waves=("t0", "t1", "t2")),
        {"01_reliability": "no_instruments", "icc": None, "03_effects": None,
         "power_simulation": None}),
    "controlled_two_waves": (
        dict(design={"type": "controlled", **ARM}, outcomes=[MATH], claims=[CLAIM],
             waves=("pre", "post")),
        {"03_effects": None, "balance": None, "change": None, "claims": None}),
    "randomized_one_wave": (
        dict(design={"type": "randomized", **ARM}, outcomes=[MATH]),
        {"03_effects": None, "balance": None, "change": "change_one_wave",
         "04_claims": "no_claims", "05_power": None, "power_simulation": "power_no_clusters"}),
    "cluster_randomized_one_wave": (
        dict(design={"type": "cluster_randomized", **ARM, "clusters": ["school_id"]},
             outcomes=[MATH]),
        {"03_effects": None, "icc": None, "05_power": None, "power_simulation": None,
         "change": "change_one_wave"}),
}


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return {name: load_study(write_study(root / name, **kw)) for name, (kw, _) in SHAPES.items()}


@pytest.mark.parametrize("shape", SHAPES)
def test_each_notebook_and_section_applies_or_says_why(studies, shape):
    study = studies[shape]
    for section, key in SHAPES[shape][1].items():
        reason = st.not_applicable_reason(study, section)
        if key is None:
            assert reason is None, (shape, section, reason)
        else:
            assert reason is not None, (shape, section)
            en, zh = reason
            assert en.startswith(st.REASONS[key][0]), (shape, section, en)
            assert zh.startswith(st.REASONS[key][1]), (shape, section, zh)


def test_no_claims_and_no_change_gives_both_reasons(studies):
    en, zh = st.not_applicable_reason(studies["randomized_one_wave"], "04_claims")
    assert "no claims" in en and "One wave" in en
    assert "没有需要核查的结论" in zh and "只有一次测量" in zh


def test_every_reason_is_bilingual_and_unknown_sections_are_refused(studies):
    for key, (en, zh) in st.REASONS.items():
        assert en and not CJK.search(en), key
        assert CJK.search(zh), key
    with pytest.raises(ValueError, match="unknown notebook or section 'effect'.*03_effects"):
        st.not_applicable_reason(studies["pre_post_two_waves"], "effect")


def test_data_dependent_reasons(studies):
    study = studies["pre_post_two_waves"]
    empty = pd.DataFrame(columns=["instrument"])
    assert st.not_applicable_reason(study, "reliability", table=empty) == \
        st.REASONS["no_reliability_data"]
    assert st.not_applicable_reason(study, "change", table=empty) == st.REASONS["change_no_data"]
    assert st.not_applicable_reason(study, "04_claims", table=empty)[0].startswith(
        st.REASONS["no_claims"][0])


def test_caveats_of_sections_that_apply_with_a_restriction(studies):
    assert st.section_caveat(studies["randomized_one_wave"], "balance") == \
        st.REASONS["balance_covariates_only"]
    assert st.section_caveat(studies["randomized_one_wave"], "attrition") == \
        st.REASONS["attrition_one_wave"]
    assert st.section_caveat(studies["controlled_two_waves"], "balance") is None
    assert st.section_caveat(studies["survey_no_instruments"], "attrition") is None


# ------------------------------------------------------------------ the tables themselves


def _scores(study) -> pd.DataFrame:
    """The study's data as the scored table would hold it (numeric outcome column)."""
    data = pd.read_csv(Path(study.root) / "data" / "all.csv", dtype={"wave": str})
    if "rses.total" in {o.column_name for o in study.outcomes}:
        rev = [2, 5, 6, 8, 9]
        items = np.column_stack([5 - data[f"rses_{j}"] if j in rev else data[f"rses_{j}"]
                                 for j in range(1, 11)])
        data["rses.total"] = items.mean(axis=1)
    return data


def test_reliability_without_instruments_publishes_empty_tables(studies, tmp_path):
    """Crash class 2: the empty item table had no 'n' column and write_table failed."""
    study = studies["survey_no_instruments"]
    rel, items = st.reliability_table(study, _scores(study))
    assert rel.empty and items.empty and "n" in items.columns
    run = RunFolder(tmp_path, study=study)
    run.write_table("item_statistics", items, count="n", stats=["mean", "sd"])
    assert (tmp_path / "tables" / "item_statistics.csv").read_text().startswith("instrument,")


def test_adjust_none_reports_the_unadjusted_p_value(tmp_path):
    study = load_study(write_study(tmp_path / "s", design={"type": "randomized", **ARM},
                                   outcomes=[MATH, READING],
                                   adjust="none"))
    res = st.effects_table(study, _scores(study))
    assert len(res) == 2
    assert np.allclose(res["p_adjusted"], res["p_value"])
    # two primary outcomes form one family of two (one primary and one secondary outcome would
    # be two families of one, adjusted by nothing)
    both = [{**MATH, "primary": True}, {**READING, "primary": True}]
    holm = load_study(write_study(tmp_path / "h", design={"type": "randomized", **ARM},
                                  outcomes=both))
    res_h = st.effects_table(holm, _scores(holm))
    assert set(res_h["family"]) == {"primary"}
    assert (res_h["p_adjusted"] > res_h["p_value"]).any()  # Holm multiplies the smaller p


def test_claims_table_follows_the_run_language(tmp_path):
    study = load_study(write_study(tmp_path / "s", design={"type": "pre_post"}, outcomes=[MATH],
                                   claims=[CLAIM], waves=("pre", "post"), language="zh"))
    scores = _scores(study)
    en, _ = st.claims_audit(study, scores, {"math": 0.8}, lang="en")
    zh, _ = st.claims_audit(study, scores, {"math": 0.8}, lang="zh")
    assert en.loc[0, "verdict"].startswith("Claim:") and not CJK.search(en.loc[0, "verdict"])
    assert CJK.search(zh.loc[0, "verdict"])
    assert not CJK.search(str(en.loc[0, "observed_treatment"]))
    default, _ = st.claims_audit(study, scores, {"math": 0.8})
    assert default.loc[0, "verdict"] == zh.loc[0, "verdict"]  # default: the study's language


def test_response_labels_follow_the_run_language(tmp_path):
    study = load_study(write_study(tmp_path / "s", design={"type": "cross_sectional"},
                                   instruments=["rses"], language="zh"))
    items = _scores(study)
    en = st.response_counts(study, items, "rses", "all", lang="en")
    zh = st.response_counts(study, items, "rses", "all")
    assert "1 Strongly disagree" in set(en["response"])
    assert "1 非常不同意" in set(zh["response"])
    assert en["n"].tolist() == zh["n"].tolist()


def test_repeated_cross_sections_compare_arms_at_the_last_wave(tmp_path):
    """Different respondents at each wave: no baseline score can be linked."""
    study = load_study(write_study(tmp_path / "s", design={"type": "cross_sectional", **ARM},
                                   outcomes=[MATH], waves=("w1", "w2"), panel=False, n=60))
    scores = _scores(study)
    res = st.effects_table(study, scores)
    end = scores[scores["wave"] == "w2"]
    assert res["n_obs"].max() == len(end)
    diff = (end.loc[end["arm"] == "program", "mathach"].mean()
            - end.loc[end["arm"] == "control", "mathach"].mean())
    unadjusted = res.loc[res["model"] == "ancova_hc2", "estimate"].iloc[0]
    assert abs(unadjusted - diff) < 3  # covariate-adjusted, close to the raw difference
    assert st.change_summary(study, scores, {"math": 0.8}).empty
    assert st.observed_improvement(study, scores, "math", "any_increase", 0.8) == {}


def test_one_wave_balance_uses_covariates_only(studies):
    study = studies["randomized_one_wave"]
    bal = st.balance_table(study, _scores(study))
    assert set(bal["variable"]) == {"gender", "age"}  # not the outcome, measured after


def test_design_inputs_without_outcomes_says_why(studies):
    study = studies["survey_no_outcomes"]
    with pytest.raises(ValueError, match="no outcomes"):
        st.design_inputs(study, _scores(study))


# ------------------------------------------------------------------ status files and index


def test_not_applicable_writes_the_status_file(tmp_path, capsys):
    status = not_applicable("03_effects", "No comparison group.", "没有对照组。", run_dir=tmp_path)
    doc = json.loads((tmp_path / "status" / "03_effects.json").read_text(encoding="utf-8"))
    assert doc == status == {"status": "not_applicable", "reason_en": "No comparison group.",
                             "reason_zh": "没有对照组。"}
    assert read_statuses(tmp_path) == {"03_effects": doc}
    assert not list((tmp_path / "status").glob(".*"))  # no temporary file left
    with pytest.raises(ValueError, match="English and Chinese"):
        not_applicable("03_effects", "No comparison group.", "", run_dir=tmp_path)


def test_a_rerun_notebook_removes_its_old_status(tmp_path):
    not_applicable("01_reliability", "No instruments.", "没有量表。", run_dir=tmp_path)
    not_applicable("03_effects", "No comparison group.", "没有对照组。", run_dir=tmp_path)
    RunFolder(tmp_path, notebook="03_effects")
    assert set(read_statuses(tmp_path)) == {"01_reliability"}


# ------------------------------------------------------------------ end to end


def test_survey_without_instruments_or_arm_runs_and_says_why(tmp_path):
    """Crash classes 2 and 3 through ``workbench run --only``: success, status files, index."""
    from workbench.pipeline import run_study

    folder = write_study(tmp_path / "survey", design={"type": "cross_sectional"},
                         outcomes=[MATH])
    result = run_study(folder, out=tmp_path / "out", progress=False, jobs=2,
                       only=["01_reliability", "03_effects", "05_power"])
    assert result.status == "success", result.failures
    out = tmp_path / "out"
    statuses = read_statuses(out)
    assert {k: v["status"] for k, v in statuses.items()} == {
        "01_reliability": "not_applicable", "03_effects": "not_applicable",
        "05_power": "not_applicable"}
    assert statuses["01_reliability"]["reason_en"] == st.REASONS["no_instruments"][0]
    assert statuses["03_effects"]["reason_zh"] == st.REASONS["no_comparison"][1]
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert index.count('class="na">not applicable<') == 3
    assert "failed" not in index.split("<tbody>")[1]
    assert "no questionnaire instruments" in index and "no intervention effect" in index
    page = (out / "reports" / "03_effects.html").read_text(encoding="utf-8")
    assert "不适用 · Not applicable" in page and "no intervention effect" in page
    assert "Effect estimates" not in page  # the skipped sections' headings are left out
    assert not (out / "tables" / "effects.csv").exists()


SINGLE_ITEM_INSTRUMENT = """\
id: mood
name: {en: Mood today, zh: 今日心情}
license: {kind: original, terms: Written for this test.}
response: {min: 1, max: 5}
items:
  - {id: mood_1, text: {en: How do you feel today?, zh: 你今天感觉怎么样？}}
scales:
  - {id: today, name: {en: Mood today, zh: 今日心情}, items: [mood_1]}
"""


def test_single_item_scales_have_no_reliability(tmp_path):
    folder = write_study(tmp_path / "s", design={"type": "cross_sectional"})
    (folder / "mood.yaml").write_text(SINGLE_ITEM_INSTRUMENT, encoding="utf-8")
    doc = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    doc["instruments"] = [{"path": "mood.yaml"}]
    (folder / "study.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    study = load_study(folder)
    assert st.not_applicable_reason(study, "01_reliability") == st.REASONS["no_multi_item_scale"]
    assert st.not_applicable_reason(study, "missingness") is None  # the item is still counted

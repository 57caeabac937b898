"""labels: in study.yaml: schema, loader cross-checks, the snapshot, Study.label / column_label
fallbacks, evaluation.labels.label_frame, and the examples written by `workbench simulate`."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from core.design import Design
from core.errors import ContractError, ErrorList
from evaluation.labels import label_frame
from survey import load_study
from survey.schema import check
from survey.snapshot import SNAPSHOT_NAME, read_snapshot, write_snapshot
from survey.study import DEFAULT_VALUE_LABELS, Labels, Study

ROOT = Path(__file__).resolve().parents[1]

STUDY = {
    "id": "lab",
    "design": {"type": "randomized", "id": "sid", "arm": "group", "control": "c", "arms": ["c", "t"],
               "waves": ["baseline", "endline"], "clusters": ["school"],
               "covariates": ["age", "guardian_type", "away"], "subgroups": ["guardian_type"]},
    "data": [{"path": "d.csv"}],
    "outcomes": [{"id": "math", "column": "mathach"}],
    "labels": {
        "values": {"group": {"t": {"en": "Mentoring", "zh": "结对帮扶"}, "c": {"en": "Comparison", "zh": "对照组"}},
                   "wave": {"baseline": {"en": "Start", "zh": "开学初"}},
                   "guardian_type": {"grandparents": {"en": "Grandparents", "zh": "祖辈"}},
                   "away": {1: {"en": "Yes", "zh": "是"}, "0": {"en": "No", "zh": "否"}},
                   "school": {"S01": "青山小学"}},
        "columns": {"age": {"en": "Age (years)", "zh": "年龄（岁）"}, "mathach": {"en": "Math", "zh": "数学"}},
    },
}


def _write(tmp_path, data) -> Path:
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    return tmp_path


def _errors(tmp_path, data) -> list[ContractError]:
    with pytest.raises((ContractError, ErrorList)) as ei:
        load_study(_write(tmp_path, data))
    err = ei.value
    return list(err.errors) if isinstance(err, ErrorList) else [err]


def _with_labels(labels) -> dict:
    d = copy.deepcopy(STUDY)
    d["labels"] = labels
    return d


# ----------------------------------------------------------------------------- schema


def test_schema_accepts_both_languages_or_one_text():
    assert check(STUDY, "study", file="study.yaml", prefix="STUDY") == []


@pytest.mark.parametrize("labels, code, where, fragment", [
    ({"group": {"t": {"en": "M", "zh": "结"}}}, "STUDY_UNKNOWN_KEY", "labels.group",
     "allowed here: values, columns"),
    ({"value": {}}, "STUDY_UNKNOWN_KEY", "labels.value", "did you mean 'values'?"),
    ({"values": {"group": {"t": {"en": "Mentoring"}}}}, "STUDY_MISSING_KEY",
     "labels.values.group.t.zh", "missing required key 'zh'"),
    ({"values": {"group": {"t": {"en": "M", "zh": "结", "fr": "m"}}}}, "STUDY_UNKNOWN_KEY",
     "labels.values.group.t.fr", "allowed here: en, zh"),
    ({"values": {"group": {"t": 3}}}, "STUDY_WRONG_TYPE", "labels.values.group.t", "integer 3"),
    ({"values": {"group": {}}}, "STUDY_INVALID_VALUE", "labels.values.group", "at least one"),
    ({"columns": {"age": ""}}, "STUDY_INVALID_VALUE", "labels.columns.age", "empty text"),
])
def test_schema_rejects_with_the_key_path(labels, code, where, fragment):
    (e,) = check(_with_labels(labels), "study", file="study.yaml", prefix="STUDY")
    assert (e.code, e.column) == (code, where)
    assert fragment in e.message


# ----------------------------------------------------------------------------- loader


def test_loader_reads_labels_as_text_in_both_languages(tmp_path):
    s = load_study(_write(tmp_path, STUDY))
    assert s.labels.values["group"]["t"] == {"en": "Mentoring", "zh": "结对帮扶"}
    assert s.labels.values["away"] == {"1": {"en": "Yes", "zh": "是"}, "0": {"en": "No", "zh": "否"}}
    assert s.labels.values["school"]["S01"] == {"en": "青山小学", "zh": "青山小学"}
    assert s.labels.columns["mathach"] == {"en": "Math", "zh": "数学"}


def test_a_study_without_labels_has_none(tmp_path):
    d = copy.deepcopy(STUDY)
    del d["labels"]
    assert load_study(_write(tmp_path, d)).labels == Labels()


def test_loader_names_every_unknown_column_and_value_at_once(tmp_path):
    errs = _errors(tmp_path, _with_labels({
        "values": {"guardian_typ": {"grandparents": "祖辈"},     # typo of a subgroup
                   "sid": {"S1": "x"},                           # the id column
                   "wave": {"Endline ": "终期", "follow": "x"},  # not design.waves
                   "group": {"tt": "x"}},                        # not design.arms
        "columns": {"mathac": "数学"}}))
    by = {(e.code, e.column): e.message for e in errs}
    assert len(errs) == 6, [str(e) for e in errs]
    msg = by["STUDY_UNKNOWN_COLUMN", "labels.values.guardian_typ"]
    assert "did you mean 'guardian_type'?" in msg and "expected one of wave, group, school" in msg
    assert "respondent ids are not labelled" in by["STUDY_UNKNOWN_COLUMN", "labels.values.sid"]
    assert "only by case or spaces" in by["STUDY_UNKNOWN_WAVE", "labels.values.wave['Endline ']"]
    assert "baseline, endline" in by["STUDY_UNKNOWN_WAVE", "labels.values.wave.follow"]
    assert "did you mean 't'?" in by["STUDY_UNKNOWN_ARM", "labels.values.group.tt"]
    assert "did you mean 'mathach'?" in by["STUDY_UNKNOWN_COLUMN", "labels.columns.mathac"]
    assert all(e.file.endswith("study.yaml") for e in errs)


def test_arm_values_are_free_when_the_arms_are_not_listed(tmp_path):
    d = _with_labels({"values": {"group": {"t2": {"en": "Booster", "zh": "强化组"}}}})
    del d["design"]["arms"]
    assert load_study(_write(tmp_path, d)).label("arm", "t2", "zh") == "强化组"


# ----------------------------------------------------------------------------- snapshot


def test_snapshot_keeps_the_labels(tmp_path):
    s = load_study(_write(tmp_path, STUDY))
    back = read_snapshot(write_snapshot(s, tmp_path / SNAPSHOT_NAME, language="en"))
    assert back.labels == s.labels
    assert back.label("group", "t", "en") == "Mentoring" and back.column_label("age", "zh") == "年龄（岁）"


def test_a_snapshot_written_before_labels_reads_as_no_labels(tmp_path):
    import json

    s = load_study(_write(tmp_path, STUDY))
    p = write_snapshot(s, tmp_path / SNAPSHOT_NAME)
    raw = json.loads(p.read_text(encoding="utf-8"))
    del raw["study"]["labels"]
    p.write_text(json.dumps(raw), encoding="utf-8")
    assert read_snapshot(p).labels == Labels()


# ----------------------------------------------------------------------------- fallbacks


def _study(**labels) -> Study:
    return Study(id="s", title={}, language="zh", instruments=(), data=(),
                 design=Design(type="randomized", id="sid", arm="group", control="c",
                               waves=("pre", "post"), covariates=("away",)),
                 labels=Labels(**labels))


def test_label_falls_back_study_then_builtin_then_raw():
    s = _study(values={"group": {"t": {"en": "Mentoring", "zh": "结对帮扶"},
                                 "control": {"en": "Waitlist", "zh": "候补组"}}})
    assert s.label("group", "t", "zh") == "结对帮扶"           # the study's
    assert s.label("arm", "t", "en") == "Mentoring"            # arm: the design's arm column
    assert s.label("group", "control", "zh") == "候补组"       # the study's beats the built-in
    assert s.label("wave", "pre", "zh") == "前测" and s.label("wave", "post", "en") == "Post-test"
    assert s.label("gender", "Female", "zh") == "女"           # built-in, case ignored
    assert s.label("guardian_type", "grandparents", "zh") == "祖辈"
    assert s.label("group", "c", "zh") == "c"                  # raw value
    assert s.label("arm", "overall", "zh") == "合计"           # a table's total row
    assert s.label("away", 1.0, "en") == "1" and s.label("away", 7, "zh") == "7"


def test_every_builtin_label_has_both_languages():
    assert all(set(v) == {"en", "zh"} and all(v.values()) for v in DEFAULT_VALUE_LABELS.values())
    s = _study()
    for value in ("control", "treatment", "baseline", "endline", "pre", "post", "grandparents",
                  "male", "female"):
        assert s.label("x", value, "zh") != value and s.label("x", value, "en") != value


def test_numeric_values_match_text_keys():
    s = _study(values={"away": {"1": {"en": "Yes", "zh": "是"}}})
    assert s.label("away", 1, "zh") == s.label("away", 1.0, "zh") == s.label("away", "1", "zh") == "是"


def test_column_label_falls_back():
    s = _study(columns={"away": {"en": "Both parents away", "zh": "父母均外出"}})
    assert s.column_label("away", "zh") == "父母均外出"
    assert s.column_label("group", "zh") == "组别" and s.column_label("wave", "en") == "Wave"
    assert s.column_label("age", "en") == "Age"
    assert s.column_label("hukou", "zh") == "hukou"
    assert s.column_label("residual", "zh") == "残差（儿童个体）"  # icc.csv level


def test_a_language_other_than_zh_or_en_is_an_error():
    with pytest.raises(ValueError, match="lang must be 'zh' or 'en'"):
        _study().label("wave", "pre", "fr")


# ----------------------------------------------------------------------------- label_frame


def _table():
    return pd.DataFrame({
        "outcome": ["math", "math", "math"],
        "arm": ["t", "c", "t"], "control": ["c", "c", "c"], "wave": ["pre", "post", None],
        "variable": ["guardian_type", "away", "age"], "level": ["grandparents", "1", None],
        "n": [40, 38, 12], "mean": [0.5, 0.25, 10.0]})


def test_label_frame_labels_a_display_copy_and_leaves_the_table():
    s = _study(values={"group": {"t": {"en": "Mentoring", "zh": "结对帮扶"}},
                       "away": {"1": {"en": "Yes", "zh": "是"}}})
    t = _table()
    before = t.copy()
    out = label_frame(t, s, "zh")
    pd.testing.assert_frame_equal(t, before)                    # the table is unchanged
    assert list(out["arm"]) == ["结对帮扶", "c", "结对帮扶"]
    assert list(out["control"]) == ["c", "c", "c"]              # no label, not a built-in value
    assert list(out["wave"][:2]) == ["前测", "后测"] and pd.isna(out["wave"][2])
    assert list(out["level"][:2]) == ["祖辈", "是"] and pd.isna(out["level"][2])
    assert list(out["variable"]) == ["监护人类型", "away", "年龄"]
    assert list(out["outcome"]) == ["math"] * 3                 # not asked for
    pd.testing.assert_frame_equal(out[["n", "mean"]], t[["n", "mean"]])
    assert list(out.columns) == list(t.columns) and out.index.equals(t.index)
    assert list(label_frame(t, s, "en")["arm"]) == ["Mentoring", "c", "Mentoring"]


def test_label_frame_subgroup_levels_and_explicit_columns():
    s = _study(values={"away": {"0": {"en": "No", "zh": "否"}}})
    t = pd.DataFrame({"subgroup": ["away", "gender"], "level": [0, "male"], "arm": ["c", "c"]})
    out = label_frame(t, s, "en")
    assert list(out["level"]) == ["No", "Male"] and list(out["subgroup"]) == ["away", "Gender"]
    only = label_frame(t, s, "en", columns=["level"], names=[])
    assert list(only["arm"]) == ["c", "c"] and list(only["subgroup"]) == ["away", "gender"]
    mapped = label_frame(pd.DataFrame({"from": ["pre"], "to": ["post"]}), s, "zh",
                         columns={"from": "wave", "to": "wave"})
    assert mapped.iloc[0].tolist() == ["前测", "后测"]
    icc = label_frame(pd.DataFrame({"level": ["class_id"]}), s, "zh", columns=[], names=["level"])
    assert icc["level"].tolist() == ["班级"]


def test_label_frame_names_a_missing_column():
    with pytest.raises(ValueError, match="'wav'.*did you mean 'wave'"):
        label_frame(_table(), _study(), "zh", columns=["wav"])
    with pytest.raises(ValueError, match="lang must be 'zh' or 'en'"):
        label_frame(_table(), _study(), "de")


def test_published_csv_keeps_raw_values(tmp_path):
    """Labels are for display: a table written by the run folder keeps the codes."""
    from evaluation.run_folder import RunFolder

    s = load_study("examples/county-cluster-trial")
    t = pd.DataFrame({"arm": ["treatment", "control"], "wave": ["baseline", "baseline"],
                      "n": [396, 382], "mean": [3.4, 3.37]})
    RunFolder(tmp_path, study=s).write_table("means", t, count="n", stats=["mean"], margins=["arm"])
    shown = label_frame(pd.read_csv(tmp_path / "tables" / "means.csv"), s, "zh")
    assert (tmp_path / "tables" / "means.csv").read_text(encoding="utf-8").splitlines()[1].startswith(
        "treatment,baseline,396,")
    assert shown["arm"].tolist() == ["结对帮扶", "对照组"] and shown["wave"].tolist() == ["基线"] * 2


# ----------------------------------------------------------------------------- examples


@pytest.mark.parametrize("name, arm_zh", [("county-cluster-trial", "结对帮扶"),
                                          ("single-school-pre-post", None)])
def test_examples_label_their_values_in_both_languages(name, arm_zh):
    s = load_study(ROOT / "examples" / name)
    for column, values in s.labels.values.items():
        assert column in s.design.columns
        for labels in values.values():
            assert labels["en"] and labels["zh"] and labels["en"] != labels["zh"]
    assert s.labels.values[s.design.wave].keys() == set(s.design.waves)
    if arm_zh:
        assert s.label("arm", "treatment", "zh") == arm_zh
    assert s.label("guardian_type", "one_parent", "zh") == "父母一方"
    assert s.label("both_parents_away", 1, "en") == "Yes"


def test_simulated_three_arm_study_labels_only_its_values(tmp_path):
    from workbench.study_writer import plan_from_options, write_simulated_study

    plan = plan_from_options(None, arms=3, waves=3, clusters=6, per_cluster=12, seed=3,
                             truth_draws=2000)
    write_simulated_study(tmp_path / "s", plan)
    s = load_study(tmp_path / "s")
    assert set(s.labels.values["arm"]) == {"treatment", "treatment_plus", "control"}
    assert list(s.labels.values["wave"]) == ["baseline", "midline", "endline"]
    assert s.label("arm", "treatment_plus", "zh") == "强化干预组"

"""study.yaml: every contract key, defaults, cross-checks and paths that leave the study folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

import survey.instrument_loader as instrument_loader
from core.design import Design
from core.errors import ContractError, ErrorList
from survey import load_study
from survey.study import Study

FIX = Path(__file__).parent / "fixtures" / "contracts"


@pytest.fixture(autouse=True)
def fixture_bundled(monkeypatch):
    """Use the fixture instruments (helpseek, kso) as the 'bundled' ones: independent of the real library."""
    monkeypatch.setattr(instrument_loader, "BUNDLED_DIR", FIX / "instruments")


@pytest.fixture
def study_dir(tmp_path) -> Path:
    dst = tmp_path / "study"
    shutil.copytree(FIX / "study_ok", dst)
    return dst


def _load_yaml(folder: Path) -> dict:
    return yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))


def _save(folder: Path, data: dict) -> None:
    (folder / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")


def _errors(folder: Path) -> list[ContractError]:
    with pytest.raises((ContractError, ErrorList)) as ei:
        load_study(folder)
    err = ei.value
    return list(err.errors) if isinstance(err, ErrorList) else [err]


def _edit(folder: Path, fn) -> list[ContractError]:
    d = _load_yaml(folder)
    fn(d)
    _save(folder, d)
    return _errors(folder)


def _minimal(folder: Path, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    d = {"id": "mini", "design": {"type": "cross_sectional", "id": "sid"}, "data": [{"path": "d.csv"}]}
    d.update(extra)
    _save(folder, d)
    return folder


# ---------------------------------------------------------------- every key of the contract


def test_full_fixture_loads_every_key(study_dir):
    s = load_study(study_dir)
    assert isinstance(s, Study)
    assert s.id == "county-cluster-trial"
    assert s.title == {"en": "County mentoring program for left-behind children", "zh": "县域留守儿童结对帮扶项目评估"}
    assert s.language == "zh"
    assert s.design == Design(type="cluster_randomized", id="student_id", wave="wave",
                              waves=("baseline", "endline"), arm="arm", control="control",
                              clusters=("school_id", "class_id"), blocks="county_id",
                              covariates=("gender", "age", "guardian_type"),
                              subgroups=("gender", "guardian_type", "both_parents_away"))
    assert s.root == study_dir.resolve() and s.path == (study_dir / "study.yaml").resolve()
    # instruments: bundled (with item text) and by path (with a column mapping)
    kso, helpseek = s.instruments
    assert kso.id == "kso" and kso.instrument.item("kso_1").text == {"en": "First statement.", "zh": "第一句。"}
    assert kso.columns == {f"kso_{i}": f"kso_{i}" for i in range(1, 5)}
    assert helpseek.columns == {"hs_1": "Q12", "hs_2": "Q13", "hs_3": "hs_3", "hs_4": "hs_4", "hs_5": "hs_5"}
    assert s.instrument("helpseek").scale("total").items == ("hs_1", "hs_2", "hs_3", "hs_4", "hs_5")
    # data
    b, e = s.data
    assert b.path == (study_dir / "data" / "baseline.csv").resolve() and b.wave == "baseline"
    assert b.sheet is None and b.encoding is None and b.platform is None and b.format == "csv"
    assert (e.wave, e.sheet, e.encoding, e.platform, e.format) == ("endline", "Sheet1", "gbk", "wenjuanxing", "xlsx")
    assert s.missing_codes == (-9, 99, "NA")
    assert s.privacy.pii == ("name", "phone", "address", "guardian_name") and s.privacy.min_cell == 5
    # outcomes: direction and reliability default from the scale / instrument
    comm, selfregard, math = s.outcomes
    assert (comm.scale, comm.better, comm.primary, comm.test_retest) == ("helpseek.total", "higher", True, 0.8)
    assert (selfregard.primary, selfregard.test_retest) == (False, 0.85)
    assert (math.column, math.scale, math.column_name) == ("mathach", None, "mathach")
    assert s.primary_outcomes == (comm,)
    (claim,) = s.claims
    assert (claim.id, claim.outcome, claim.proportion, claim.n, claim.improved) == (
        "comm-82", "communication", 0.82, 61, "reliable_change")
    assert (s.analysis.alpha, s.analysis.adjust, s.analysis.seed) == (0.05, "holm", 20240609)


def test_study_yaml_path_or_folder(study_dir):
    assert load_study(study_dir / "study.yaml") == load_study(study_dir)


def test_defaults_of_a_minimal_study(tmp_path):
    s = load_study(_minimal(tmp_path / "m"))
    assert s.title == {"en": "mini", "zh": "mini"} and s.language == "zh"
    assert s.design.wave == "wave" and s.design.waves == ("all",)
    assert s.design.arm is None and s.design.clusters == () and s.instruments == ()
    assert s.outcomes == () and s.claims == () and s.missing_codes == ()
    assert s.privacy.min_cell == 5 and s.analysis.adjust == "holm"


def test_waves_from_data_in_order_and_title_string(tmp_path):
    folder = _minimal(tmp_path / "m", title="Just one title",
                      design={"type": "pre_post", "id": "sid", "clusters": "school"},
                      data=[{"path": "a.csv", "wave": "t1"}, {"path": "b.csv", "wave": 2},
                            {"path": "c.csv", "wave": "t1"}],
                      outcomes=[{"id": "x", "column": "x"}, {"id": "y", "column": "y", "better": "lower"}])
    s = load_study(folder)
    assert s.design.waves == ("t1", "2")
    assert s.design.clusters == ("school",)
    assert s.title == {"en": "Just one title", "zh": "Just one title"}
    assert [o.primary for o in s.outcomes] == [True, False]  # no primary given: the first is primary
    assert s.outcomes[1].better == "lower"


def test_integer_labels_are_text(tmp_path):
    folder = _minimal(tmp_path / "m", design={"type": "controlled", "id": 7, "arm": "group", "control": 0,
                                              "waves": [1, 2]},
                      data=[{"path": "a.csv", "sheet": 0}], outcomes=[{"id": "x", "column": 5}])
    s = load_study(folder)
    assert s.design.control == "0" and s.design.waves == ("1", "2") and s.design.id == "7"
    assert s.outcomes[0].column == "5" and s.data[0].sheet == 0


# ---------------------------------------------------------------- schema errors, through load_study


def test_typo_in_a_key_suggests(study_dir):
    text = (study_dir / "study.yaml").read_text(encoding="utf-8").replace("  covariates:", "  covariate:")
    (study_dir / "study.yaml").write_text(text, encoding="utf-8")
    (e,) = _errors(study_dir)
    assert e.code == "STUDY_UNKNOWN_KEY" and e.column == "design.covariate"
    assert "did you mean 'covariates'?" in str(e)
    assert "(line 14)" in e.message and e.file.endswith("study.yaml")


def test_wrong_type(study_dir):
    (e,) = _edit(study_dir, lambda d: d["privacy"].update(min_cell="five"))
    assert e.code == "STUDY_WRONG_TYPE" and e.column == "privacy.min_cell"
    assert "found text 'five'" in e.message and "expected an integer" in e.message


def test_yaml_syntax_error_has_line(study_dir):
    (study_dir / "study.yaml").write_text("id: x\ndesign: {type: pre_post\ndata: []\n", encoding="utf-8")
    (e,) = _errors(study_dir)
    assert e.code == "STUDY_YAML_SYNTAX" and "line" in e.message


def test_missing_study_file(tmp_path):
    with pytest.raises(ContractError) as ei:
        load_study(tmp_path)
    assert ei.value.code == "STUDY_NOT_FOUND" and "workbench init" in ei.value.message


# ---------------------------------------------------------------- cross-checks


def test_outcome_naming_unknown_scale(study_dir):
    (e,) = _edit(study_dir, lambda d: d["outcomes"][0].update(scale="helpseek.totl"))
    assert e.code == "STUDY_UNKNOWN_SCALE" and e.column == "outcomes[0].scale"
    assert "has no scale 'totl'" in e.message and "did you mean 'helpseek.total'?" in e.message


def test_outcome_naming_unknown_instrument(study_dir):
    (e,) = _edit(study_dir, lambda d: d["outcomes"][1].update(scale="rses.total"))
    assert e.code == "STUDY_UNKNOWN_SCALE" and e.column == "outcomes[1].scale"
    assert "no instrument 'rses'" in e.message


def test_claim_naming_unknown_outcome(study_dir):
    (e,) = _edit(study_dir, lambda d: d["claims"][0].update(outcome="comunication"))
    assert e.code == "STUDY_UNKNOWN_OUTCOME" and e.column == "claims[0].outcome"
    assert "did you mean 'communication'?" in e.message


def test_unknown_bundled_instrument_suggests(study_dir):
    errs = _edit(study_dir, lambda d: d["instruments"][0].update(id="ksoo"))
    assert errs[0].code == "STUDY_UNKNOWN_INSTRUMENT" and errs[0].column == "instruments[0].id"
    assert "did you mean 'kso'?" in errs[0].message


def test_item_mapping_names_unknown_item(study_dir):
    (e,) = _edit(study_dir, lambda d: d["instruments"][1]["items"].update(hs_9="Q20"))
    assert e.code == "STUDY_UNKNOWN_ITEM" and e.column == "instruments[1].items.hs_9"


def test_item_ids_unique_across_instruments(study_dir):
    inst = yaml.safe_load((FIX / "instruments" / "kso.yaml").read_text(encoding="utf-8"))
    inst["id"] = "kso_copy"
    (study_dir / "instruments" / "copy.yaml").write_text(yaml.safe_dump(inst), encoding="utf-8")
    errs = _edit(study_dir, lambda d: d["instruments"].append({"path": "instruments/copy.yaml"}))
    assert {e.code for e in errs} == {"STUDY_DUPLICATE_ITEM"}
    assert errs[0].column == "instruments[2]" and "'kso_1'" in errs[0].message


def test_two_items_in_one_column(study_dir):
    (e,) = _edit(study_dir, lambda d: d["instruments"][1]["items"].update(hs_2="Q12"))
    assert e.code == "STUDY_DUPLICATE_COLUMN"


def test_duplicate_outcome_ids(study_dir):
    (e,) = _edit(study_dir, lambda d: d["outcomes"][2].update(id="communication"))
    assert e.code == "STUDY_DUPLICATE_ID" and e.column == "outcomes[2].id"


def test_arm_without_control(study_dir):
    errs = _edit(study_dir, lambda d: d["design"].pop("control"))
    assert [e.code for e in errs] == ["STUDY_CONTROL_REQUIRED"]


def test_design_requirements(tmp_path):
    folder = _minimal(tmp_path / "a", design={"type": "pre_post", "id": "sid"},
                      data=[{"path": "a.csv", "wave": "t1"}], outcomes=[{"id": "x", "column": "x"}])
    (e,) = _errors(folder)
    assert e.code == "STUDY_DESIGN_INCOMPLETE" and "at least 2 waves" in e.message
    folder = _minimal(tmp_path / "b", design={"type": "cluster_randomized", "id": "sid", "arm": "arm",
                                              "control": "c", "waves": ["t1", "t2"]},
                      outcomes=[{"id": "x", "column": "x"}])
    (e,) = _errors(folder)
    assert e.code == "STUDY_DESIGN_INCOMPLETE" and "clusters" in e.message
    folder = _minimal(tmp_path / "c", design={"type": "randomized", "id": "sid"},
                      outcomes=[{"id": "x", "column": "x"}])
    (e,) = _errors(folder)
    assert e.code == "STUDY_DESIGN_INCOMPLETE" and "design.arm" in e.message
    folder = _minimal(tmp_path / "d", design={"type": "randomized", "id": "sid", "arm": "a", "control": "c"})
    (e,) = _errors(folder)
    assert e.code == "STUDY_OUTCOMES_REQUIRED"


def test_wave_column_without_waves(tmp_path):
    folder = _minimal(tmp_path / "a", design={"type": "cross_sectional", "id": "sid", "wave": "round"})
    (e,) = _errors(folder)
    assert e.code == "STUDY_WAVES_REQUIRED" and e.column == "design.wave"


def test_data_wave_not_in_waves_says_case_differs(study_dir):
    (e,) = _edit(study_dir, lambda d: d["data"][1].update(wave="Endline "))
    assert e.code == "STUDY_UNKNOWN_WAVE" and e.column == "data[1].wave"
    assert "only by case or spaces" in e.message


def test_unknown_encoding(study_dir):
    (e,) = _edit(study_dir, lambda d: d["data"][1].update(encoding="gbk2"))
    assert e.code == "STUDY_UNKNOWN_ENCODING" and e.column == "data[1].encoding"


def test_pii_that_the_analysis_needs(study_dir):
    errs = _edit(study_dir, lambda d: d["privacy"].update(pii=["name", "student_id", "school_id"]))
    assert [e.code for e in errs] == ["STUDY_PII_CONFLICT"] * 2
    assert errs[0].column == "privacy.pii[1]" and "pseudonymized" in errs[0].message


def test_error_in_instrument_file_names_that_file(study_dir):
    p = study_dir / "instruments" / "helpseek.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("items: [hs_3, hs_4, hs_5]", "items: [hs_3, hs_4, hs_6]"),
                 encoding="utf-8")
    (e,) = _errors(study_dir)
    assert e.code == "INSTRUMENT_UNKNOWN_ITEM" and e.file == "instruments/helpseek.yaml"
    assert e.column == "scales[1].items[2]"


def test_error_in_item_text_file_names_that_file(study_dir):
    p = study_dir / "instruments" / "kso-text.yaml"
    p.write_text("instrument: kso\nitems:\n  kso_7: {en: x}\n", encoding="utf-8")
    (e,) = _errors(study_dir)
    assert e.code == "INSTRUMENT_TEXT_UNKNOWN_ITEM" and e.file == "instruments/kso-text.yaml"


def test_missing_instrument_file(study_dir):
    (e,) = _edit(study_dir, lambda d: d["instruments"][1].update(path="instruments/nothere.yaml"))
    assert e.code == "STUDY_INSTRUMENT_NOT_FOUND" and e.column == "instruments[1].path"


def test_missing_data_files_are_not_a_contract_error(study_dir):
    assert not (study_dir / "data").exists()
    assert len(load_study(study_dir).data) == 2


def test_several_errors_are_reported_together(study_dir):
    def bad(d):
        d["outcomes"][0]["scale"] = "helpseek.nope"
        d["claims"][0]["outcome"] = "nope"
        d["design"].pop("control")
    errs = _edit(study_dir, bad)
    assert {e.code for e in errs} == {"STUDY_UNKNOWN_SCALE", "STUDY_UNKNOWN_OUTCOME", "STUDY_CONTROL_REQUIRED"}


# ---------------------------------------------------------------- paths that leave the study folder


@pytest.mark.parametrize("where", ["data", "instrument", "text"])
@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "data/../../outside.csv",
                                 "..\\..\\etc\\passwd", "~/secret.csv", "C:\\data\\x.csv"])
def test_paths_leaving_the_folder_are_refused(study_dir, where, bad):
    def edit(d):
        if where == "data":
            d["data"][0]["path"] = bad
        elif where == "instrument":
            d["instruments"][1]["path"] = bad
        else:
            d["instruments"][0]["text"] = bad
    errs = _edit(study_dir, edit)
    assert [e.code for e in errs] == ["STUDY_PATH_OUTSIDE"]
    assert errs[0].column in ("data[0].path", "instruments[1].path", "instruments[0].text")


def test_symlink_pointing_out_is_refused(study_dir, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("student_id\n1\n", encoding="utf-8")
    (study_dir / "data").mkdir()
    os.symlink(outside, study_dir / "data" / "baseline.csv")
    (e,) = _errors(study_dir)
    assert e.code == "STUDY_PATH_OUTSIDE" and e.column == "data[0].path"
    assert "symbolic link" in e.message


def test_symlinked_folder_pointing_out_is_refused(study_dir, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", study_dir / "data")
    errs = _errors(study_dir)
    assert [e.column for e in errs] == ["data[0].path", "data[1].path"]
    assert all(e.code == "STUDY_PATH_OUTSIDE" and "symbolic link" in e.message for e in errs)


def test_symlink_inside_the_folder_is_fine(study_dir):
    (study_dir / "raw").mkdir()
    (study_dir / "raw" / "b.csv").write_text("x\n", encoding="utf-8")
    (study_dir / "data").mkdir()
    os.symlink(study_dir / "raw" / "b.csv", study_dir / "data" / "baseline.csv")
    s = load_study(study_dir)
    assert s.data[0].path == (study_dir / "raw" / "b.csv").resolve()


def test_study_folder_itself_may_be_a_symlink(study_dir, tmp_path):
    link = tmp_path / "link"
    os.symlink(study_dir, link)
    assert load_study(link).data[0].path == (study_dir / "data" / "baseline.csv").resolve()


def test_waves_listed_twice_once_read_as_text(study_dir):
    """``waves: [1, '1']`` passes JSON uniqueness but is one wave twice (issue 10: it gave
    55 DUPLICATE_ID errors instead of one contract error)."""
    def edit(d):
        d["design"]["waves"] = [1, "1", 2]
        for src in d["data"]:
            src.pop("wave", None)
    (e,) = _edit(study_dir, edit)
    assert e.code == "STUDY_INVALID_VALUE" and e.column == "design.waves[1]"
    assert "twice" in e.message and "1 and '1' are the same" in e.message


def test_design_arms_are_accepted_with_the_control_added(study_dir):
    d = _load_yaml(study_dir)
    d["design"]["arms"] = ["treatment", "mentoring"]
    _save(study_dir, d)
    s = load_study(study_dir)
    assert s.arms == ("control", "treatment", "mentoring")
    d["design"]["arms"] = ["control", "treatment", "treatment"]
    _save(study_dir, d)
    assert [e.code for e in _errors(study_dir)] == ["STUDY_INVALID_VALUE"]  # schema: uniqueItems
    (e,) = _errors(_minimal(study_dir.parent / "m", design={"type": "cross_sectional", "id": "sid",
                                                             "arms": ["a", "b"]}))
    assert e.code == "STUDY_DESIGN_INCOMPLETE" and e.column == "design.arms"


def test_data_path_that_is_a_symlink_loop_is_a_contract_error(study_dir):
    """Issue 10: a symlink loop in data/ raised ``RuntimeError: Symlink loop``."""
    d = _load_yaml(study_dir)
    first = d["data"][0]["path"]
    target = study_dir / first
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    target.symlink_to(target.name)
    (e,) = _errors(study_dir)
    assert e.code == "STUDY_PATH_INVALID" and e.column == "data[0].path"
    assert "symbolic link loop" in e.message

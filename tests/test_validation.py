"""Validation rules: one failing input each, with code, file, row and column checked."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from survey.study_loader import load_study
from survey.validation import validate
from workbench.cli import main as cli

FIX = Path(__file__).parent / "fixtures" / "ingest"
ITEMS = [f"rses_{i}" for i in range(1, 11)]
HEAD = "sid,name,wave,arm,school," + ",".join(ITEMS)


def _row(sid, wave="baseline", arm="control", school="s1", answers=None, name="张三"):
    answers = answers or ["1", "2", "3", "4", "1", "2", "3", "4", "1", "2"]
    return f"{sid},{name},{wave},{arm},{school}," + ",".join(answers)


def study(tmp_path, rows, files=None, data=None, **extra):
    root = tmp_path / "study"
    (root / "data").mkdir(parents=True, exist_ok=True)
    if rows is not None:
        (root / "data" / "w.csv").write_text("\n".join([HEAD] + rows) + "\n", encoding="utf-8")
    for name, src in (files or {}).items():
        shutil.copy(src, root / "data" / name)
    doc = {"id": "t", "design": {"type": "cluster_randomized", "id": "sid",
                                 "waves": ["baseline", "endline"], "arm": "arm",
                                 "control": "control", "clusters": "school"},
           "instruments": [{"id": "rses"}], "privacy": {"pii": ["name"]},
           "data": data or [{"path": "data/w.csv"}],
           "outcomes": [{"id": "se", "scale": "rses.total"}], **extra}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


def one(res, code):
    found = [i for i in res.issues if i.code == code]
    assert len(found) == 1, (code, [str(i) for i in res.issues])
    return found[0]


def test_clean_study_has_no_issues(tmp_path):
    res = validate(study(tmp_path, [_row("1"), _row("2", arm="t"), _row("1", "endline")]))
    assert res.issues == [] and res.ok and len(res.data) == 3 and len(res.quarantine) == 0


def test_value_out_of_range_set_missing(tmp_path):
    ans = ["1", "2", "7", "4", "0", "2", "3", "2.5", "1", "-9"]
    res = validate(study(tmp_path, [_row("1", answers=ans)], missing_codes=[-9]))
    bad = [i for i in res.issues if i.code == "VALUE_OUT_OF_RANGE"]
    assert [(i.file, i.row, i.column, i.value) for i in bad] == [
        ("data/w.csv", 2, "rses_3", "7"), ("data/w.csv", 2, "rses_5", "0"),
        ("data/w.csv", 2, "rses_8", "2.5")]
    assert "1 to 4" in bad[0].expected and "-9" in bad[0].expected
    assert res.data[["rses_3", "rses_5", "rses_8", "rses_10"]].isna().all().all()
    assert len(res.data) == 1 and len(res.quarantine) == 0  # item problems do not quarantine


def test_value_not_numeric(tmp_path):
    ans = ["1", "abc", "3", "4", "1", "2", "3", "2", "1", "2"]
    i = one(validate(study(tmp_path, [_row("1", answers=ans)])), "VALUE_NOT_NUMERIC")
    # the cell is described, never quoted (docs/error-codes.md, "What messages show")
    assert (i.file, i.row, i.column, i.value) == ("data/w.csv", 2, "rses_2", "text of 3 characters")
    assert "abc" not in i.message


def test_id_missing_quarantined(tmp_path):
    res = validate(study(tmp_path, [_row("1"), _row(" ")]))
    i = one(res, "ID_MISSING")
    assert (i.row, i.column) == (3, "sid")
    assert res.quarantine["_row"].tolist() == [3] and res.quarantine["reasons"][0] == "ID_MISSING"


def test_duplicate_id_all_copies_quarantined(tmp_path):
    res = validate(study(tmp_path, [_row("007"), _row("008"), _row("007"), _row("007", "endline")]))
    i = one(res, "DUPLICATE_ID")
    assert i.file == "data/w.csv" and i.row == 4 and i.column == "sid"
    assert "row 2" in i.message and "row 4" in i.message and "007" not in i.message
    assert i.value.startswith("p_")
    assert sorted(res.quarantine["_row"]) == [2, 4]
    assert len(res.data) == 2


def test_assignment_changed_between_waves(tmp_path):
    rows = [_row("1"), _row("1", "endline", arm="treatment"), _row("2", school="s1"),
            _row("2", "endline", school="s2"), _row("3", arm="treatment"),
            _row("3", "endline", arm="treatment")]
    res = validate(study(tmp_path, rows))
    found = sorted((i.row, i.column) for i in res.issues if i.code == "ASSIGNMENT_CHANGED")
    assert found == [(3, "arm"), (5, "school")]
    msg = next(i.message for i in res.issues if i.column == "arm")
    assert "'control' in wave 'baseline' (data/w.csv row 2)" in msg
    assert sorted(res.quarantine["_row"]) == [2, 3, 4, 5]
    assert len(res.data) == 2


@pytest.mark.parametrize("wave, hint", [
    ("Endline ", "did you mean 'endline'? (differs only by case/spaces)"),
    ("midline", "not declared"),
])
def test_wave_undeclared(tmp_path, wave, hint):
    res = validate(study(tmp_path, [_row("1"), _row("1", wave), _row("2", wave)]))
    i = one(res, "WAVE_UNDECLARED")
    assert (i.row, i.column, i.value) == (3, "wave", wave)
    assert hint in i.message and "2 rows: 3, 4" in i.message
    assert sorted(res.quarantine["_row"]) == [3, 4]


def test_arm_undeclared_case_and_space(tmp_path):
    res = validate(study(tmp_path, [_row("1"), _row("2", arm="Control "), _row("3", arm="treatment")]))
    i = one(res, "ARM_UNDECLARED")
    assert (i.row, i.column, i.value) == (3, "arm", "Control ")
    assert "did you mean 'control'? (differs only by case/spaces)" in i.message
    assert res.quarantine["_row"].tolist() == [3]


def test_control_absent(tmp_path):
    res = validate(study(tmp_path, [_row("1", arm="ctrl"), _row("2", arm="treatment")]))
    assert one(res, "ARM_CONTROL_ABSENT").severity == "error"


def test_design_value_missing(tmp_path):
    res = validate(study(tmp_path, [_row("1"), _row("2", school="")]))
    i = one(res, "DESIGN_VALUE_MISSING")
    assert (i.row, i.column) == (3, "school")
    assert res.quarantine["_row"].tolist() == [3]


def test_column_missing(tmp_path):
    s = study(tmp_path, None, files={"w.csv": FIX / "twin_codes_utf8.csv"},
              design={"type": "cluster_randomized", "id": "sid", "waves": ["baseline", "endline"],
                      "arm": "arm", "control": "control", "clusters": ["school", "class"],
                      "covariates": ["age"]})
    res = validate(s)
    cols = {i.column for i in res.issues if i.code == "COLUMN_MISSING"}
    assert cols == {"class", "age"}
    assert all(i.file == "data/w.csv" and i.row == 1 for i in res.issues if i.code == "COLUMN_MISSING")
    assert res.fatal and res.errors == 2


def test_straight_lining_warning_only(tmp_path):
    rows = [_row("1", answers=["3"] * 10), _row("2")]
    res = validate(study(tmp_path, rows))
    i = one(res, "STRAIGHT_LINING")
    assert i.severity == "warning" and (i.row, i.column, i.value) == (2, "rses.total", "3")
    assert res.ok and res.errors == 0 and res.warnings == 1 and len(res.data) == 2


def test_file_errors_reported_with_other_files(tmp_path):
    s = study(tmp_path, [_row("1")], files={"r.csv": FIX / "ragged.csv"},
              data=[{"path": "data/w.csv"}, {"path": "data/r.csv"}, {"path": "data/gone.csv"}])
    res = validate(s)
    codes = {(i.code, i.file) for i in res.issues}
    assert ("FILE_RAGGED_ROW", "data/r.csv") in codes and ("FILE_MISSING", "data/gone.csv") in codes
    assert res.fatal and len(res.data) == 1  # the good file is still read


def test_report_write_atomic_no_raw_values(tmp_path):
    rows = [_row("20230001", name="王小明"), _row("20230001", name="王小明"), _row("20230002", arm="x")]
    s = study(tmp_path, rows)
    raw = s.data[0].path.read_bytes()
    res = validate(s)
    out = tmp_path / "out"
    paths = res.write(out)
    assert sorted(p.name for p in out.iterdir()) == ["quarantine.csv", "report.json"]
    rep = json.loads(paths["report"].read_text(encoding="utf-8"))
    assert rep["study"] == "t" and rep["counts"]["rows_quarantined"] == 2
    assert rep["by_code"]["DUPLICATE_ID"] == {"severity": "error", "count": 1}
    assert rep["sources"][0]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert rep["sources"][0]["encoding"] == "utf-8"
    for p in out.iterdir():
        text = p.read_text(encoding="utf-8-sig")
        assert "20230001" not in text and "王小明" not in text
    q = pd.read_csv(paths["quarantine"], dtype=str)
    assert list(q.columns[:3]) == ["_file", "_row", "reasons"] and "name" not in q.columns
    assert s.data[0].path.read_bytes() == raw  # raw file unchanged
    summary = res.summary()
    assert "DUPLICATE_ID (1)" in summary and "20230001" not in summary


def test_many_problems_collected(tmp_path):
    rows = [_row(str(k), answers=["9"] * 10) for k in range(30)]
    res = validate(study(tmp_path, rows))
    assert res.counts_by_code()["VALUE_OUT_OF_RANGE"]["count"] == 300
    assert "... and 297 more" in res.summary()


def test_cli_exit_codes_and_outputs(tmp_path, capsys):
    s = study(tmp_path, [_row("1", answers=["3"] * 10), _row("2")])
    before = hashlib.sha256(s.data[0].path.read_bytes()).hexdigest()
    assert cli(["validate", str(s.root)]) == 0  # warnings only
    assert (s.root / "output" / "validation" / "report.json").exists()
    assert "STRAIGHT_LINING" in capsys.readouterr().out
    (s.root / "data" / "w.csv").write_text(
        "\n".join([HEAD, _row("1", answers=["5"] * 10)]) + "\n", encoding="utf-8")
    out = tmp_path / "v"
    assert cli(["validate", str(s.root), "--out", str(out), "--json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] is False and rep["counts"]["errors"] == 10
    assert (out / "quarantine.csv").exists()
    after = hashlib.sha256(s.data[0].path.read_bytes()).hexdigest()
    assert cli(["validate", str(s.root)]) == 1
    assert hashlib.sha256(s.data[0].path.read_bytes()).hexdigest() == after != before


def test_fixture_hashes_unchanged_after_validation(tmp_path):
    srcs = {n: FIX / n for n in ("twin_codes_utf8.csv", "twin_labels_gbk.csv", "wjx_text.xlsx")}
    before = {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in srcs.items()}
    s = study(tmp_path, None, files=srcs, data=[{"path": f"data/{n}"} for n in srcs])
    res = validate(s)
    got = {x["file"].split("/")[-1]: x["sha256"] for x in res.sources}
    assert got == before
    after = {n: hashlib.sha256((s.root / "data" / n).read_bytes()).hexdigest() for n in srcs}
    assert after == before
    assert np.isfinite(res.data["rses_1"].dropna()).all()


def test_design_arms_make_an_unknown_label_an_error_naming_its_rows(tmp_path):
    rows = [_row("1"), _row("2", arm="treatment"), _row("3", arm="treatmnet"),
            _row("4", arm="treatmnet", school="s2")]
    res = validate(study(tmp_path, rows, design={
        "type": "cluster_randomized", "id": "sid", "waves": ["baseline", "endline"], "arm": "arm",
        "control": "control", "arms": ["treatment"], "clusters": "school"}))
    (i,) = [i for i in res.issues if i.code == "ARM_UNDECLARED"]
    assert (i.file, i.row, i.column, i.value) == ("data/w.csv", 4, "arm", "treatmnet")
    assert "2 rows: 4, 5" in i.message and "did you mean 'treatment'" in i.message
    assert sorted(res.quarantine["_row"]) == [4, 5] and set(res.data["arm"]) == {"control", "treatment"}


def test_without_design_arms_a_tiny_arm_like_a_typo_is_a_warning(tmp_path):
    rows = [_row(str(k), arm="treatment" if k % 2 else "control") for k in range(1, 13)]
    rows.append(_row("13", arm="treatmnet"))
    res = validate(study(tmp_path, rows))
    (w,) = [i for i in res.issues if i.code == "ARM_LABEL_SUSPECT"]
    assert (w.severity, w.file, w.row, w.column) == ("warning", "data/w.csv", 14, "arm")
    assert "only 1 child" in w.message and "'treatment' (6 children)" in w.message
    assert res.ok  # a warning: listing design.arms makes it an error


def test_design_labels_that_look_like_personal_data_are_not_quoted(tmp_path):
    secret = "王芳13912345678"
    res = validate(study(tmp_path, [_row("1"), _row("2", wave=secret), _row("1", "endline", arm=secret)]))
    text = json.dumps(res.report(), ensure_ascii=False) + res.summary()
    assert secret not in text and "13912345678" not in text
    assert {i.code for i in res.issues} >= {"WAVE_UNDECLARED", "ASSIGNMENT_CHANGED"}


def test_item_values_that_are_not_short_numbers_are_described(tmp_path):
    ans = ["1", "13912345678", "3", "4", "1", "2", "3", "2", "1", "2"]
    res = validate(study(tmp_path, [_row("1", answers=ans)]))
    i = one(res, "VALUE_OUT_OF_RANGE")
    assert i.value == "a number of 11 digits" and "13912345678" not in i.message


def test_quarantine_describes_text_cells_that_do_not_look_like_labels(tmp_path):
    secret = "王芳13912345678"
    res = validate(study(tmp_path, [_row("1"), _row("2", wave=secret), _row("3", wave="Endline")]))
    q = res.quarantine
    assert list(q["wave"]) == ["text of 13 characters", "Endline"] and list(q["_row"]) == [3, 4]
    res.write(tmp_path / "out")
    assert secret not in (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8-sig")

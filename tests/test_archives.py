"""Child archives (issue 14): roster, guardians, parents, mentors; joins validated; roster
covariates serve every wave; the run writes the tables."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from evaluation.run_folder import RunFolder
from survey import load_study, validate
from survey.archives import archive_columns, read_program_data
from survey.privacy import Pseudonymizer, load_or_create_key

TODAY = dt.date(2024, 12, 1)

STUDY = """\
id: demo
design: {type: randomized, id: sid, arm: arm, control: control, arms: [control, treatment],
         clusters: [school], covariates: [age], waves: [baseline, endline]}
data: [{path: data/b.csv, wave: baseline}, {path: data/e.csv, wave: endline}]
outcomes: [{id: x, column: x}]
privacy: {pii: [监护人姓名, 家长电话, 导师姓名]}
archives:
  roster: {path: data/roster.csv}
  guardians: {path: data/guardians.csv}
  parents: {path: data/parents.csv, columns: {call_frequency: 通话频率, works_in: 务工地}}
  mentors: {path: data/mentors.xlsx}
"""

ROSTER = "sid,arm,school,age\nS001,treatment,A,9\nS002,control,A,10\nS003,treatment,B,11\nS004,control,B,12\n"
GUARDIANS = ("sid,guardian_id,relation,from,to,监护人姓名\n"
             "S001,G01,grandmother,2023-01-01,,王秀英\n"          # row 2: current
             "S002,G02,grandfather,2023-01-01,2024-01-31,张建国\n"  # row 3: past
             "S002,G03,aunt,2024-02-01,,李桂芳\n"                   # row 4: current
             "S003,G04,grandmother,2023-01-01,,刘翠花\n"            # row 5: two current ...
             "S003,G05,grandfather,2023-06-01,,刘德福\n"            # row 6: ... guardians
             "S009,G06,uncle,2023-01-01,,赵大勇\n"                  # row 7: not in the study
             "S004,G07,aunt,2024-05-01,2024-01-01,孙丽\n")          # row 8: ends before it starts
PARENTS = ("sid,parent,migrant,通话频率,务工地,家长电话\n"
           "S001,父亲,1,每周,广东,13912345678\n"
           "S001,母亲,是,每月,浙江,13812345678\n"
           "S002,mother,0,,,13712345678\n"
           "S002,uncle,0,,,\n"          # row 5: not a parent
           "S003,father,maybe,,,\n")    # row 6: migrant not 0/1


def _mentors(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["mentor_id", "sid", "from", "to", "导师姓名"])
    ws.append(["M01", "S001", dt.date(2024, 3, 1), dt.date(2024, 6, 30), "陈老师"])  # row 2 ...
    ws.append(["M02", "S001", dt.date(2024, 6, 1), None, "周老师"])                 # row 3: overlap
    ws.append(["M01", "S002", dt.date(2024, 3, 1), dt.date(2024, 6, 30), "陈老师"])  # row 4
    ws.append(["M02", "S002", dt.date(2024, 7, 1), None, "周老师"])                  # row 5: next
    ws.append(["M03", "S099", dt.date(2024, 3, 1), None, "吴老师"])                  # row 6: outside
    ws.append([None, "S003", dt.date(2024, 3, 1), None, "吴老师"])                   # row 7: no mentor
    ws.append(["M03", "S004", "2024/9/1", None, "吴老师"])                           # row 8: text date
    wb.save(path)


def _study(root: Path, baseline: str | None = None, endline: str | None = None) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "study.yaml").write_text(STUDY, encoding="utf-8")
    files = {"roster.csv": ROSTER, "guardians.csv": GUARDIANS, "parents.csv": PARENTS,
             "b.csv": baseline or "sid,x\nS001,1\nS002,2\nS003,3\nS004,4\n",
             "e.csv": endline or "sid,x\nS001,5\nS002,6\nS003,7\nS004,8\n"}
    for name, text in files.items():
        (root / "data" / name).write_text(text, encoding="utf-8")
    _mentors(root / "data" / "mentors.xlsx")
    return root


@pytest.fixture
def program(tmp_path):
    root = _study(tmp_path / "s")
    study = load_study(root)
    pseud = Pseudonymizer(load_or_create_key(root))
    return study, pseud, read_program_data(study, today=TODAY)


def _codes(prog, table):
    return sorted((i.code, i.row, i.column) for i in prog.issues
                  if i.file == f"data/{table}" and i.severity == "error")


def test_roster(program):
    _, pseud, prog = program
    r = prog.archives["roster"]
    assert list(r.columns) == ["sid", "arm", "school", "age"]
    assert r["age"].dtype == "float64"  # a covariate read as numbers, as the survey data are
    assert set(r["sid"]) == {pseud.pseudonymize(f"S00{i}") for i in range(1, 5)}


def test_guardians(program):
    _, pseud, prog = program
    assert _codes(prog, "guardians.csv") == [
        ("CHILD_UNKNOWN", 7, "sid"), ("DATE_ORDER", 8, "to"),
        ("GUARDIAN_TWO_CURRENT", 5, "to"), ("GUARDIAN_TWO_CURRENT", 6, "to")]
    g = prog.archives["guardians"]
    assert list(g.columns) == archive_columns("guardians", "sid")
    assert len(g) == 3 and g["guardian_id"].str.startswith("g_").all()
    s2 = g[g["sid"] == pseud.pseudonymize("S002")].sort_values("from")
    assert s2["current"].tolist() == [False, True] and pd.isna(s2["to"].iloc[1])
    assert s2["to"].iloc[0] == pd.Timestamp("2024-01-31")
    assert "监护人姓名" not in g.columns


def test_parents(program):
    _, pseud, prog = program
    assert _codes(prog, "parents.csv") == [("PARENT_UNKNOWN", 5, "parent"), ("VALUE_NOT_NUMERIC", 6, "migrant")]
    p = prog.archives["parents"]
    assert list(p.columns) == ["sid", "parent", "migrant", "call_frequency", "works_in"]
    s1 = p[p["sid"] == pseud.pseudonymize("S001")]
    assert s1["parent"].tolist() == ["father", "mother"] and s1["migrant"].tolist() == [1.0, 1.0]
    assert s1["call_frequency"].tolist() == ["每周", "每月"] and s1["works_in"].tolist() == ["广东", "浙江"]


def test_mentors_overlap_and_children_outside_the_study(program):
    _, pseud, prog = program
    assert _codes(prog, "mentors.xlsx") == [
        ("ASSIGNMENT_OVERLAP", 2, "from"), ("ASSIGNMENT_OVERLAP", 3, "from"),
        ("CHILD_UNKNOWN", 6, "sid"), ("MENTOR_ID_MISSING", 7, "mentor_id")]
    unknown = next(i for i in prog.issues if i.code == "CHILD_UNKNOWN" and i.file == "data/mentors.xlsx")
    assert "mentor assignment for a child outside the study" in unknown.message
    m = prog.archives["mentors"]
    assert list(m.columns) == archive_columns("mentors", "sid")
    assert m["from"].dtype == "datetime64[ns]"
    assert sorted(m["from"].dt.strftime("%Y-%m-%d")) == ["2024-03-01", "2024-07-01", "2024-09-01"]
    assert m["mentor_id"].str.startswith("m_").all()
    # mentor "M01" and a child "M01" would not share a pseudonym (own namespace)
    assert pseud.pseudonymize("M01") not in set(m["mentor_id"])


def test_personal_columns_dropped_and_kept_for_the_scan(program):
    _, _, prog = program
    kinds = prog.sensitive.kinds
    assert {"王秀英", "刘德福"} <= kinds["pii:监护人姓名"]
    assert "13912345678" in kinds["pii:家长电话"] and "陈老师" in kinds["pii:导师姓名"]
    assert {"S001", "S099", "M01", "G01"} <= kinds["raw_id"]


def test_roster_duplicates_are_errors(tmp_path):
    root = _study(tmp_path / "s")
    (root / "data" / "roster.csv").write_text(ROSTER + "S004,control,B,12\n", encoding="utf-8")
    prog = read_program_data(load_study(root), today=TODAY)
    assert _codes(prog, "roster.csv") == [("DUPLICATE_ID", 5, "sid"), ("DUPLICATE_ID", 6, "sid")]
    assert len(prog.archives["roster"]) == 3


def test_undeclared_personal_column_is_never_kept(tmp_path):
    root = _study(tmp_path / "s")
    (root / "data" / "guardians.csv").write_text(
        "sid,guardian_id,监护人电话\nS001,G01,13600001111\n", encoding="utf-8")
    prog = read_program_data(load_study(root), today=TODAY)
    warn = [i for i in prog.issues if i.code == "PII_UNDECLARED"]
    assert [(i.file, i.row, i.column) for i in warn] == [("data/guardians.csv", 1, "监护人电话")]
    assert "13600001111" in prog.sensitive.kinds["pii:监护人电话"]
    assert "监护人电话" not in prog.archives["guardians"].columns


# ------------------------------------------------------------------ roster serves every wave

def test_design_columns_missing_from_a_wave_come_from_the_roster(tmp_path):
    root = _study(tmp_path / "s", baseline="sid,arm,school,age,x\nS001,treatment,A,9,1\nS002,control,A,10,2\n"
                                          "S003,treatment,B,11,3\nS004,control,B,12,4\n")
    res = validate(load_study(root))
    assert res.ok, res.summary()
    assert len(res.data) == 8
    end = res.data[res.data["wave"] == "endline"].set_index("_row")
    assert end.loc[2, "arm"] == "treatment" and end.loc[5, "school"] == "B" and end.loc[4, "age"] == 11.0


def test_a_design_column_in_both_that_differs_is_an_error(tmp_path):
    root = _study(tmp_path / "s", baseline="sid,arm,x\nS001,treatment,1\nS002,treatment,2\n"
                                          "S003,treatment,3\nS004,control,4\n")
    res = validate(load_study(root))
    conflicts = [i for i in res.issues if i.code == "ROSTER_CONFLICT"]
    assert [(i.file, i.row, i.column) for i in conflicts] == [("data/b.csv", 3, "arm")]
    assert "'treatment' here but 'control' in the roster" in conflicts[0].message
    assert "ROSTER_CONFLICT" in res.quarantine["reasons"].str.cat(sep=";")


def test_studies_without_a_roster_read_as_before(tmp_path):
    root = _study(tmp_path / "s")
    (root / "study.yaml").write_text(STUDY.split("archives:")[0], encoding="utf-8")
    res = validate(load_study(root))
    assert {i.code for i in res.issues} >= {"COLUMN_MISSING"}  # arm/school/age: no roster to fill


# ------------------------------------------------------------------ the run's files

def test_pipeline_writes_program_data_and_run_folder_reads_it(tmp_path):
    from workbench.pipeline import _validate

    root = _study(tmp_path / "s")
    (root / "study.yaml").write_text(STUDY + "contacts: {path: data/log.csv}\n", encoding="utf-8")
    (root / "data" / "log.csv").write_text("sid,date,activity,mentor_id\nS001,2024-03-05,home_visit,M01\n"
                                           "S404,2024-03-05,home_visit,M01\n", encoding="utf-8")
    study = load_study(root)
    run = tmp_path / "run"
    run.mkdir()
    counts: dict = {}
    result = _validate(study, run, counts)
    assert counts["program"]["contacts"] == {"rows_read": 2, "rows_clean": 1, "rows_quarantined": 1}
    assert counts["program"]["mentors"]["rows_quarantined"] == 4
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*.parquet")) == [
        "data/archives/guardians.parquet", "data/archives/mentors.parquet",
        "data/archives/parents.parquet", "data/archives/roster.parquet", "data/contacts.parquet"]
    assert sorted(p.name for p in (run / "quarantine").iterdir()) == [
        "contacts.csv", "guardians.csv", "mentors.csv", "parents.csv"]
    report = json.loads((run / "validation" / "report.json").read_text(encoding="utf-8"))
    assert "CHILD_UNKNOWN" in report["by_code"] and "GUARDIAN_TWO_CURRENT" in report["by_code"]
    assert "13912345678" in result.sensitive.kinds["pii:家长电话"]
    folder = RunFolder(run, study=study)
    assert len(folder.contacts()) == 1 and folder.contacts()["date"].dtype == "datetime64[ns]"
    assert len(folder.archive("mentors")) == 3
    with pytest.raises(ValueError):
        folder.archive("teachers")


def test_study_without_program_data_writes_nothing_new(tmp_path):
    from workbench.pipeline import _inputs, _program_data, _validate

    root = _study(tmp_path / "s", baseline=ROSTER.replace("\n", ",1\n").replace("age,1", "age,x"),
                  endline=ROSTER.replace("\n", ",1\n").replace("age,1", "age,x"))
    (root / "study.yaml").write_text(STUDY.split("archives:")[0], encoding="utf-8")
    study = load_study(root)
    run = tmp_path / "run"
    run.mkdir()
    counts: dict = {}
    result = _validate(study, run, counts)
    assert "program" not in counts and _program_data(study, result, run) is None
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*")) == [
        "validation", "validation/quarantine.csv", "validation/report.json"]
    assert [i["role"] for i in _inputs(study)] == ["study", "data", "data"]
    empty = RunFolder(run, study=study)
    assert empty.contacts().empty and list(empty.archive("guardians").columns) == archive_columns("guardians", "sid")

"""Personal-data columns nobody declared (issue 9, crash class 11).

A column whose header looks like personal data (姓名, 电话, name, phone, ...) and that
``privacy.pii`` does not declare is ``PII_UNDECLARED``: an error naming the column and
saying how to declare it (``privacy.pii``) or mark it harmless (``privacy.not_pii``).
A declared column that no file has is ``PII_COLUMN_ABSENT`` (a warning).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.errors import ContractError, ErrorList
from survey.ingest import personal_header, read_study_data
from survey.study_loader import load_study
from survey.validation import validate

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("header, kind", [
    ("姓名", "姓名"), ("学生姓名", "姓名"), ("名字", "名字"), ("2、你的名字：", "名字"),
    ("电话", "电话"), ("家长电话(必填)", "电话"), ("手机", "手机"), ("手机号码", "手机"),
    ("联系方式", "联系方式"), ("住址", "住址"), ("家庭住址", "家庭住址"), ("身份证号", "身份证"),
    ("监护人", "监护人"), ("监护人姓名", "姓名"), ("Ｎａｍｅ", "name"),
    ("name", "name"), ("Name", "name"), ("guardian_name", "name"), ("guardianName", "name"),
    ("first name", "name"), ("name_pinyin", "name"), ("surname", "name"),
    ("phone", "phone"), ("Phone No.", "phone"), ("parent_phone2", "phone"), ("mobile", "phone"),
    ("address", "address"), ("Home Address", "address"), ("email", "email"),
    ("id card", "id card"), ("ID_Card_No", "id card"), ("idcard", "id card"),
])
def test_personal_headers_match(header, kind):
    assert personal_header(header) == kind


@pytest.mark.parametrize("header", [
    "school_name", "class name", "county_name", "item_name", "school", "sid", "student_id", "age",
    "gender", "guardian_type", "both_parents_away", "rses_1", "namespace", "phonics", "addressee_count",
    "phone_calls_per_week", "mobile_use_hours", "序号", "提交答卷时间", "所用时间", "来源", "来源详情",
    "5、你多久和爸爸妈妈通一次电话？", "你每天玩手机吗", "打电话次数",
    "1、我会把学校里发生的事情告诉爸爸妈妈（或照顾我的大人）。",
])
def test_harmless_headers_do_not_match(header):
    assert personal_header(header) is None


def _study(root: Path, header: str, rows: list, **privacy) -> object:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "w.csv").write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    doc = {"id": "pii", "design": {"type": "cross_sectional", "id": "sid"},
           "instruments": [], "data": [{"path": "data/w.csv"}],
           "outcomes": [{"id": "math", "column": "mathach"}]}
    if privacy:
        doc["privacy"] = privacy
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


PHONE = "13912345678"


def test_undeclared_personal_column_is_an_error_naming_it(tmp_path):
    s = _study(tmp_path / "s", "sid,家长电话,mathach", [f"1,{PHONE},3", "2,13800000000,4"])
    res = validate(s)
    [issue] = [i for i in res.issues if i.code == "PII_UNDECLARED"]
    assert issue.severity == "error" and (issue.file, issue.row, issue.column) == ("data/w.csv", 1, "家长电话")
    assert "privacy: {pii: [家长电话]}" in issue.message and "privacy: {not_pii: [家长电话]}" in issue.message
    assert PHONE not in str(issue.to_dict())
    assert res.fatal  # the data are not analysed until the study says what the column is
    assert "家长电话" not in res.data.columns  # dropped, never travels on
    assert PHONE in res.sensitive.kinds["pii:家长电话"]  # but the scanner searches for its values


def test_not_pii_silences_it_and_pii_drops_it(tmp_path):
    s = _study(tmp_path / "a", "sid,电话次数,mathach", ["1,3,3", "2,5,4"], not_pii=["电话次数"])
    res = read_study_data(s)
    assert not res.fatal and [i for i in res.issues if i.severity == "error"] == []
    assert res.data["电话次数"].tolist() == ["3", "5"]
    s = _study(tmp_path / "b", "sid,家长电话,mathach", [f"1,{PHONE},3"], pii=["家长电话"])
    res = read_study_data(s)
    assert not res.fatal and "家长电话" not in res.data.columns and res.issues == []


def test_declared_pii_absent_from_every_file_is_a_warning(tmp_path):
    s = _study(tmp_path / "s", "sid,mathach", ["1,3"], pii=["姓名"])
    res = read_study_data(s)
    [w] = res.issues
    assert (w.code, w.severity, w.column) == ("PII_COLUMN_ABSENT", "warning", "姓名")
    assert "data/w.csv" in w.message and not res.fatal


def test_declared_pii_in_one_file_of_two_is_fine(tmp_path):
    root = tmp_path / "s"
    (root / "data").mkdir(parents=True)
    (root / "data" / "pre.csv").write_text("sid,姓名,mathach\n1,张三,3\n", encoding="utf-8")
    (root / "data" / "post.csv").write_text("sid,mathach\n1,4\n", encoding="utf-8")
    doc = {"id": "pii", "design": {"type": "pre_post", "id": "sid"}, "privacy": {"pii": ["姓名"]},
           "data": [{"path": "data/pre.csv", "wave": "pre"}, {"path": "data/post.csv", "wave": "post"}],
           "outcomes": [{"id": "math", "column": "mathach"}]}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert read_study_data(load_study(root)).issues == []


def test_pii_and_not_pii_cannot_share_a_column(tmp_path):
    with pytest.raises((ContractError, ErrorList)) as e:
        _study(tmp_path / "s", "sid,mathach", ["1,3"], pii=["phone"], not_pii=["Phone"])
    errors = e.value.errors if isinstance(e.value, ErrorList) else [e.value]
    assert [x.code for x in errors] == ["STUDY_PII_CONFLICT"] and "not_pii" in errors[0].message


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/study.yaml")))
def test_bundled_examples_declare_their_personal_columns(example, tmp_path):
    shutil.copytree(ROOT / "examples" / example, tmp_path / example,
                    ignore=shutil.ignore_patterns(".workbench-key", "output"))
    res = read_study_data(load_study(tmp_path / example))
    assert not res.fatal
    assert [i.code for i in res.issues if i.code.startswith("PII_")] == []

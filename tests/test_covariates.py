"""Covariates are validated (issue 10, "Silent wrong numbers" 4, and "Leaks" 3).

Age ``inf``, ``1e308``, ``10岁`` and ``-9`` were accepted, one ``10岁`` turned the column into
a category, and a ``guardian_type`` cell holding a name and a phone number became a published
category level. Now: a declared or inferred type (reported), a plausible range
(``columns: {age: {type: numeric, min: 5, max: 20}}``; without one, non-finite values and
values beyond 1e9 are refused), ``missing_codes`` for covariates, and a warning for a level
that looks like free text. Every finding names file, row and column, never the cell.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from core.errors import ErrorList
from survey.study_loader import load_study
from survey.validation import validate

FREE = "其他:姑姑王芳照顾,电话13912345678"


def _study(root, ages, *, columns=None, guardians=None):
    (root / "data").mkdir(parents=True, exist_ok=True)
    guardians = guardians or ["祖父母"] * len(ages)
    rows = ["sid,arm,age,guardian_type,score"] + [
        f"S{k:02d},{'control' if k % 2 else 'treatment'},{a},\"{g}\",{10 + k}"
        for k, (a, g) in enumerate(zip(ages, guardians))]
    (root / "data" / "w.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = {"id": "cov", "design": {"type": "cross_sectional", "id": "sid", "arm": "arm",
                                   "control": "control", "covariates": ["age", "guardian_type"]},
           "data": [{"path": "data/w.csv"}], "missing_codes": [-9],
           "outcomes": [{"id": "score", "column": "score"}]}
    if columns is not None:
        doc["columns"] = columns
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


AGES = ["10", "11", "inf", "1e308", "1e309", "10岁", "-9", "25", "12", "13"]


def _by_code(res, code):
    return [(i.row, i.column) for i in res.issues if i.code == code]


def test_declared_range_and_bad_values_are_coded_errors_with_their_cells(tmp_path):
    res = validate(_study(tmp_path, AGES, columns={"age": {"type": "numeric", "min": 5, "max": 20}}))
    assert _by_code(res, "VALUE_NOT_NUMERIC") == [(4, "age"), (7, "age")]  # inf, 10岁
    assert _by_code(res, "VALUE_OUT_OF_RANGE") == [(5, "age"), (6, "age"), (9, "age")]
    out = [i for i in res.issues if i.code == "VALUE_OUT_OF_RANGE"]
    assert [i.value for i in out] == ["a number of 309 digits", "an infinite number", "25"]
    assert "at least 5 and at most 20" in out[2].message
    age = res.data["age"]
    assert age.dtype == "float64" and age.notna().tolist() == [True, True] + [False] * 6 + [True, True]
    assert res.report()["columns"]["age"]["type"] == "numeric"
    for i in res.issues:
        assert "10岁" not in i.message and "1e308" not in i.message


def test_without_a_range_non_finite_and_huge_values_are_refused(tmp_path):
    res = validate(_study(tmp_path, AGES))
    assert _by_code(res, "VALUE_OUT_OF_RANGE") == [(5, "age"), (6, "age")]  # 25 is allowed
    assert "declare a plausible range" in [i for i in res.issues
                                           if i.code == "VALUE_OUT_OF_RANGE"][0].message


def test_one_text_cell_does_not_turn_the_column_categorical_and_the_type_is_reported(tmp_path):
    ages = ["10", "11", "10岁", "12", "-9", "13"]
    res = validate(_study(tmp_path, ages))
    assert res.data["age"].dtype == "float64"
    assert _by_code(res, "VALUE_NOT_NUMERIC") == [(4, "age")]
    assert np.isnan(res.data["age"][4])  # -9 is a declared missing code, no error
    cols = res.report()["columns"]
    assert cols["age"] == {"type": "numeric", "how": "inferred", "numbers": 4, "text": 1,
                           "min": None, "max": None}
    assert cols["guardian_type"]["type"] == "categorical"
    assert "age: numeric (inferred: 4 of 5 cells are numbers)" in res.summary()


def test_free_text_category_level_is_a_warning_naming_the_cell(tmp_path):
    guardians = ["祖父母", "父亲", FREE, "祖父母", "other: aunt Li (mother's sister)", "母亲"]
    res = validate(_study(tmp_path, ["10"] * 6, guardians=guardians))
    found = [i for i in res.issues if i.code == "FREE_TEXT_CATEGORY"]
    assert [(i.severity, i.file, i.row, i.column) for i in found] == [
        ("warning", "data/w.csv", 4, "guardian_type"), ("warning", "data/w.csv", 6, "guardian_type")]
    for i in found:
        assert "王芳" not in i.message and "139" not in i.message and "aunt" not in i.message
    assert res.ok  # a warning: the level is still read


def test_range_needs_a_numeric_type_and_min_below_max(tmp_path):
    with pytest.raises(ErrorList) as e:
        _study(tmp_path / "a", ["10"], columns={"age": {"type": "numeric", "min": 20, "max": 5},
                                                "guardian_type": {"type": "categorical", "max": 3}})
    codes = {x.code for x in e.value.errors}
    assert codes == {"STUDY_INVALID_VALUE", "STUDY_COLUMN_TYPE_CONFLICT"}
    s = _study(tmp_path / "b", ["10"], columns={"age": {"type": "numeric", "min": 5}})
    assert (s.columns["age"].min, s.columns["age"].max) == (5.0, None)

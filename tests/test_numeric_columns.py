"""Declared numeric columns (data-column outcomes, numeric covariates) are read as numbers.

Issue 9, crash class 1: ``outcomes: [{id: math, column: mathach}]`` stayed text in
``data/scores.*`` and every effect notebook failed with "outcome 'mathach' must be
numeric, got dtype str". A cell that is not a number is ``VALUE_NOT_NUMERIC`` (file,
row, column; never the cell's text), the value becomes missing and the row is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from core.errors import ContractError, DataError, ErrorList
from survey.ingest import read_study_data
from survey.scoring import score
from survey.study_loader import load_study
from survey.validation import validate


def _study(root, files: dict, design: dict, *, outcomes=None, **extra):
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        (root / "data" / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = {"id": "numeric", "design": design, "instruments": extra.pop("instruments", []),
           "data": extra.pop("data", None) or [{"path": f"data/{n}"} for n in files],
           "outcomes": outcomes if outcomes is not None else [{"id": "math", "column": "mathach"}],
           **extra}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


CROSS = {"type": "cross_sectional", "id": "sid", "arm": "arm", "control": "control",
         "covariates": ["age", "gender"], "subgroups": ["gender"]}
SECRET = "秦诗家17100402724"  # a cell that must never be quoted in a message


def _cross_rows():
    return ["sid,arm,gender,age,mathach",
            "007,control,girl,10,12.5",
            "7,treatment,boy,11,14",
            "008,control,girl,12,-9",
            f"009,treatment,boy,10岁,{SECRET}",
            "010,control,girl,１１,１３",  # full-width digits
            "011,treatment,boy,,  15 "]


def test_outcome_column_is_float_through_scoring_and_export(tmp_path):
    s = _study(tmp_path / "s", {"w.csv": _cross_rows()}, CROSS, missing_codes=[-9])
    res = validate(s)
    assert res.data["mathach"].dtype == "float64"
    got = res.data["mathach"].tolist()
    assert got[:2] == [12.5, 14.0] and np.isnan(got[2]) and np.isnan(got[3]) and got[4:] == [13.0, 15.0]
    bad = [i for i in res.issues if i.code == "VALUE_NOT_NUMERIC"]
    # one for the outcome cell, one for the age cell '10岁'
    assert {(i.file, i.row, i.column) for i in bad} == {("data/w.csv", 5, "mathach"),
                                                         ("data/w.csv", 5, "age")}
    for i in bad:
        # the cell is described (kind and length), never quoted
        assert i.severity == "error" and i.value.startswith("text of ") and \
            i.expected.startswith("a number")
        text = f"{i.message} {i.expected} {i.to_dict()}"
        assert SECRET not in text and "10岁" not in text
    assert len(res.data) == 6 and len(res.quarantine) == 0  # rows kept, value missing
    # ids stay text: '007' and '7' are two respondents, not one
    assert res.data["sid"].nunique() == 6 and not any(i.code == "DUPLICATE_ID" for i in res.issues)

    scores = score(s, res.data)
    assert scores["mathach"].dtype == "float64" and scores["age"].dtype == "float64"
    assert scores["gender"].dtype != "float64"  # categorical covariate stays text

    from analysis.describe import describe_by_arm_wave

    # raised "outcome 'mathach' must be numeric, got dtype str" before
    table = describe_by_arm_wave(scores, "mathach", arm="arm", wave="wave")
    assert table["n"].sum() == 4

    from survey.export import write_scores

    out = write_scores(scores, tmp_path / "out", study=s)
    back = pd.read_parquet(out["parquet"])
    assert back["mathach"].dtype == "float64" and back["age"].dtype == "float64"
    assert back["gender"].dtype.kind in "OUT" or str(back["gender"].dtype) in ("str", "string")


def test_two_wave_outcome_column_and_covariate_numeric_in_one_file_only(tmp_path):
    """Age all numbers in one file and with one '10岁' in the other: still one float column."""
    design = {"type": "pre_post", "id": "sid", "waves": ["pre", "post"], "covariates": ["age"]}
    s = _study(tmp_path / "s", {"pre.csv": ["sid,age,mathach", "001,10,50", "002,11,51", "003,12,52"],
                                "post.csv": ["sid,age,mathach", "001,10岁,55", "002,11,56", "003,12,57"]},
               design, data=[{"path": "data/pre.csv", "wave": "pre"},
                             {"path": "data/post.csv", "wave": "post"}])
    res = validate(s)
    assert res.data["age"].dtype == "float64" and res.data["mathach"].dtype == "float64"
    assert res.data["age"].isna().sum() == 1
    [bad] = [i for i in res.issues if i.code == "VALUE_NOT_NUMERIC"]
    assert (bad.file, bad.row, bad.column) == ("data/post.csv", 2, "age")
    assert "type: categorical" in bad.message  # how to say it is a category
    scores = score(s, res.data)
    assert sorted(scores["mathach"].tolist()) == [50.0, 51.0, 52.0, 55.0, 56.0, 57.0]
    assert scores["wave"].tolist() == ["pre"] * 3 + ["post"] * 3


def test_categorical_covariates_stay_text_and_missing_codes_apply(tmp_path):
    design = {"type": "cross_sectional", "id": "sid", "covariates": ["age", "guardian_type", "grade"]}
    s = _study(tmp_path / "s", {"w.csv": ["sid,age,guardian_type,grade,mathach",
                                          "1,10,grandparents,4,1",
                                          "2,-9,mother,5,2",
                                          "3,12,-9,初一,3",
                                          "4,11,father,6,4"]},
               design, missing_codes=[-9], columns={"grade": {"type": "categorical"}})
    res = read_study_data(s)
    assert res.data["age"].tolist()[0] == 10.0 and np.isnan(res.data["age"].iloc[1])
    assert res.data["guardian_type"].tolist()[:2] == ["grandparents", "mother"]
    assert pd.isna(res.data["guardian_type"].iloc[2])  # -9 is missing in a text column too
    assert res.data["grade"].tolist() == ["4", "5", "初一", "6"]  # declared categorical: text
    assert [i for i in res.issues if i.severity == "error"] == []


def test_declared_numeric_covariate_with_mostly_text(tmp_path):
    design = {"type": "cross_sectional", "id": "sid", "covariates": ["days"]}
    s = _study(tmp_path / "s", {"w.csv": ["sid,days,mathach", "1,three,1", "2,four,2", "3,5,3"]},
               design, columns={"days": {"type": "numeric"}})
    res = read_study_data(s)
    assert res.data["days"].dtype == "float64" and res.data["days"].iloc[2] == 5.0
    assert [(i.code, i.row) for i in res.issues] == [("VALUE_NOT_NUMERIC", 2), ("VALUE_NOT_NUMERIC", 3)]


def test_outcome_column_missing_from_a_file_is_reported(tmp_path):
    design = {"type": "pre_post", "id": "sid", "waves": ["pre", "post"]}
    s = _study(tmp_path / "s", {"pre.csv": ["sid,mathach", "1,50"], "post.csv": ["sid,MathAch", "1,55"]},
               design, data=[{"path": "data/pre.csv", "wave": "pre"},
                             {"path": "data/post.csv", "wave": "post"}])
    res = read_study_data(s)
    [miss] = [i for i in res.issues if i.code == "COLUMN_MISSING"]
    assert miss.file == "data/post.csv" and miss.column == "mathach" and "'MathAch'" in miss.message
    assert not res.fatal  # the other file has it
    s2 = _study(tmp_path / "s2", {"pre.csv": ["sid,math", "1,50"]}, {"type": "cross_sectional", "id": "sid"})
    assert read_study_data(s2).fatal  # no file has the outcome


def test_score_refuses_text_outcome_without_quoting_it(tmp_path):
    s = _study(tmp_path / "s", {"w.csv": _cross_rows()}, CROSS)
    data = pd.DataFrame({"sid": ["a", "b"], "wave": ["all", "all"], "arm": ["control", "treatment"],
                         "age": [10.0, 11.0], "gender": ["girl", "boy"],
                         "mathach": pd.array(["12", SECRET], dtype="str"),
                         "_file": ["data/w.csv"] * 2, "_row": [2, 3]})
    with pytest.raises(DataError) as e:
        score(s, data)
    assert e.value.code == "SCORE_NOT_NUMERIC" and e.value.row == 3 and e.value.column == "mathach"
    assert SECRET not in str(e.value)
    data.loc[1, "mathach"] = " 13 "
    assert score(s, data)["mathach"].tolist() == [12.0, 13.0]


@pytest.mark.parametrize("columns, code", [
    ({"agee": {"type": "numeric"}}, "STUDY_UNKNOWN_COLUMN"),
    ({"mathach": {"type": "categorical"}}, "STUDY_COLUMN_TYPE_CONFLICT"),
])
def test_columns_key_is_checked(tmp_path, columns, code):
    with pytest.raises((ContractError, ErrorList)) as e:
        _study(tmp_path / "s", {"w.csv": _cross_rows()}, CROSS, columns=columns)
    errors = e.value.errors if isinstance(e.value, ErrorList) else [e.value]
    assert [x.code for x in errors] == [code]
    if code == "STUDY_UNKNOWN_COLUMN":
        assert "did you mean 'age'" in errors[0].message

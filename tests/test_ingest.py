"""Ingestion: GBK label-text twin == UTF-8 codes twin; PII dropped; pseudonyms; waves; labels."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from survey.ingest import convert_items, read_study_data
from survey.study_loader import load_study

FIX = Path(__file__).parent / "fixtures" / "ingest"
ITEMS = [f"rses_{i}" for i in range(1, 11)]
ZH_ITEMS = {f"rses_{i}": None for i in range(1, 11)}


def make_study(root, files, design=None, **extra):
    """A study folder under ``root`` with ``files`` ({name: bytes or fixture Path}) in data/."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    data = []
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copy(content, root / "data" / name)
        else:
            (root / "data" / name).write_bytes(content)
    data = extra.pop("data", None) or [{"path": f"data/{n}"} for n in files]
    doc = {"id": root.name,
           "design": design or {"type": "randomized", "id": "sid", "waves": ["baseline", "endline"],
                                "arm": "arm", "control": "control"},
           "instruments": extra.pop("instruments", [{"id": "rses"}]),
           "data": data, "outcomes": [{"id": "se", "scale": "rses.total"}], **extra}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


def _twins(tmp_path):
    a = make_study(tmp_path / "codes", {"w.csv": FIX / "twin_codes_utf8.csv"},
                   privacy={"pii": ["name"]})
    heads = pd.read_csv(FIX / "twin_labels_gbk.csv", encoding="gbk", nrows=0).columns
    b = make_study(tmp_path / "labels", {"w.csv": FIX / "twin_labels_gbk.csv"},
                   design={"type": "randomized", "id": "学号", "wave": "测量",
                           "waves": ["baseline", "endline"], "arm": "组别", "control": "control"},
                   instruments=[{"id": "rses", "items": {f"rses_{i}": heads[4 + i] for i in range(1, 11)}}],
                   privacy={"pii": ["姓名"]})
    from survey.privacy import load_or_create_key
    load_or_create_key(a.root)
    shutil.copy(a.root / ".workbench-key", b.root / ".workbench-key")
    return a, b


def test_gbk_labels_equal_utf8_codes(tmp_path):
    a, b = _twins(tmp_path)
    ra, rb = read_study_data(a), read_study_data(b)
    assert ra.sources[0]["encoding"] == "utf-8" and rb.sources[0]["encoding"] == "gb18030"
    assert [i for i in ra.issues + rb.issues if i.severity == "error"] == []
    np.testing.assert_array_equal(ra.data[ITEMS].to_numpy(), rb.data[ITEMS].to_numpy())
    assert ra.data["sid"].tolist() == rb.data["学号"].tolist()
    assert np.isnan(ra.data.loc[2, "rses_4"])  # the skipped answer stays missing
    from survey.scoring import score
    sa = score(a, ra.data)
    sb = score(b, rb.data).rename(columns={"学号": "sid", "测量": "wave", "组别": "arm"})
    np.testing.assert_allclose(sa["rses.total"], sb["rses.total"])
    assert sa["sid"].tolist() == sb["sid"].tolist()


def test_pii_dropped_ids_pseudonymized_and_kept_in_memory(tmp_path):
    a, _ = _twins(tmp_path)
    res = read_study_data(a)
    assert "name" not in res.data.columns
    raw = pd.read_csv(FIX / "twin_codes_utf8.csv", dtype=str)
    assert not res.data.astype(str).isin(raw["sid"].tolist() + raw["name"].tolist()).any().any()
    assert res.data["sid"].str.match(r"^p_[0-9a-f]{16}$").all()
    kinds = res.sensitive.kinds
    assert kinds["raw_id"] == set(raw["sid"]) and kinds["pii:name"] == set(raw["name"])
    again = read_study_data(a)  # same key -> same pseudonyms
    assert again.data["sid"].tolist() == res.data["sid"].tolist()
    assert list(res.data.columns[:3]) == ["sid", "wave", "arm"]
    assert list(res.data.columns[-2:]) == ["_file", "_row"]
    assert res.data["_file"].unique().tolist() == ["data/w.csv"]


def test_one_file_per_wave(tmp_path):
    head = "sid,arm," + ",".join(ITEMS) + "\n"
    w1 = head + "1,control," + ",".join(["2"] * 10) + "\n"
    w2 = head + "1,control," + ",".join(["3"] * 10) + "\n"
    s = make_study(tmp_path / "s", {"b.csv": w1.encode(), "e.csv": w2.encode()},
                   data=[{"path": "data/b.csv", "wave": "baseline"},
                         {"path": "data/e.csv", "wave": "endline"}])
    res = read_study_data(s)
    assert res.data["wave"].tolist() == ["baseline", "endline"]
    assert res.data["rses_1"].tolist() == [2.0, 3.0]
    assert [x["file"] for x in res.sources] == ["data/b.csv", "data/e.csv"]


def test_missing_codes_and_unknown_label(tmp_path):
    head = "sid,wave,arm," + ",".join(ITEMS) + "\n"
    row1 = "1,baseline,control,-9,NA," + ",".join(["非常同意"] * 8) + "\n"
    row2 = "2,baseline,control,还行,Strongly  AGREE," + ",".join(["1"] * 8) + "\n"
    s = make_study(tmp_path / "s", {"w.csv": (head + row1 + row2).encode()},
                   missing_codes=[-9, "NA"])
    res = read_study_data(s)
    assert np.isnan(res.data.loc[0, "rses_1"]) and np.isnan(res.data.loc[0, "rses_2"])
    assert res.data.loc[1, "rses_2"] == 4.0 and res.data.loc[0, "rses_3"] == 4.0
    (issue,) = [i for i in res.issues if i.code == "LABEL_UNKNOWN"]
    assert (issue.file, issue.row, issue.column, issue.value) == ("data/w.csv", 3, "rses_1", "text of 2 characters")
    assert "还行" not in issue.message
    assert "非常同意" in issue.expected and "Strongly agree" in issue.expected


def test_value_not_numeric_in_code_column():
    from survey.instrument_loader import load_instrument
    v, issues = convert_items(pd.Series(["1", "abc", None, "4"]), load_instrument("rses"),
                              file="f.csv", header="Q1", rows=np.array([2, 3, 4, 5]))
    assert np.isnan(v[1]) and v[3] == 4.0
    assert [(i.code, i.row, i.column, i.value) for i in issues] == [("VALUE_NOT_NUMERIC", 3, "Q1", "text of 3 characters")]


def test_column_missing_suggests(tmp_path):
    head = "SID,wave,Arm ," + ",".join(ITEMS[:9]) + "\n"
    s = make_study(tmp_path / "s", {"w.csv": (head + "1,baseline,control," + ",".join(["1"] * 9) + "\n").encode()})
    res = read_study_data(s)
    missing = {i.column: i for i in res.issues if i.code == "COLUMN_MISSING"}
    assert set(missing) == {"sid", "arm", "rses_10"}  # 'Arm ' differs from 'arm' by case
    assert "did you mean 'SID'? (differs only by case/spaces)" in missing["sid"].message
    assert "did you mean 'Arm'? (differs only by case/spaces)" in missing["arm"].message
    assert missing["sid"].file == "data/w.csv" and missing["sid"].row == 1
    assert res.fatal
    assert res.data["rses_10"].isna().all()


@pytest.mark.parametrize("declared, code", [("utf-8", "FILE_ENCODING"), ("gbk", None)])
def test_declared_encoding(tmp_path, declared, code):
    s = make_study(tmp_path / "s", {"w.csv": FIX / "twin_labels_gbk.csv"},
                   data=[{"path": "data/w.csv", "encoding": declared}],
                   design={"type": "randomized", "id": "学号", "wave": "测量",
                           "waves": ["baseline", "endline"], "arm": "组别", "control": "control"})
    res = read_study_data(s)
    codes = [i.code for i in res.issues if i.code.startswith("FILE_")]
    if code:
        assert codes == [code] and res.fatal and res.issues[0].row == 1
    else:
        assert codes == [] and res.sources[0]["encoding"] == "gbk"


def test_sav_labels_and_covariate_numeric(tmp_path):
    s = make_study(tmp_path / "s", {"l.sav": FIX / "labels.sav"},
                   design={"type": "cross_sectional", "id": "sid", "covariates": ["age"],
                           "subgroups": ["arm"]})
    res = read_study_data(s)
    assert res.data["age"].dtype == "float64" and res.data["age"].tolist() == [10.5, 11.0, 12.0]
    assert res.data["rses_1"].tolist()[:2] == [1.0, 4.0]
    assert res.data["wave"].tolist() == ["all"] * 3


def test_symlink_loop_in_data_is_a_coded_error(tmp_path):
    """Issue 10: a symlink loop in data/ raised ``RuntimeError: Symlink loop`` in _relative."""
    s = make_study(tmp_path / "s", {"ok.csv": FIX / "twin_codes_utf8.csv"},
                   data=[{"path": "data/ok.csv"}, {"path": "data/loop.csv"}],
                   privacy={"pii": ["name"]})
    (tmp_path / "s" / "data" / "loop.csv").symlink_to("loop.csv")
    res = read_study_data(s)
    (issue,) = [i for i in res.issues if i.code == "FILE_UNREADABLE"]
    assert issue.file == "data/loop.csv" and "symbolic link loop" in issue.message
    assert res.fatal and [x["read"] for x in res.sources] == [True, False]

"""问卷星 exports (按文本 and 按序号) give the same data as a plain CSV of the same answers."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from survey import wenjuanxing as wjx
from survey.ingest import read_study_data
from survey.readers import read_table
from survey.study_loader import load_study

FIX = Path(__file__).parent / "fixtures" / "ingest"
ITEMS = [f"rses_{i}" for i in range(1, 11)]


def _study(tmp_path, name, data, instrument_items=None, design=None, **extra):
    root = tmp_path / name
    (root / "data").mkdir(parents=True)
    for src in data:
        shutil.copy(FIX / Path(src["path"]).name, root / "data" / Path(src["path"]).name)
    doc = {"id": name, "design": design or {"type": "pre_post", "id": "sid",
                                            "waves": ["baseline", "endline"]},
           "instruments": [{"id": "rses", **({"items": instrument_items} if instrument_items else {})}],
           "data": data, "outcomes": [{"id": "se", "scale": "rses.total"}], **extra}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


def test_detection_and_keys():
    t = read_table(FIX / "wjx_text.xlsx")
    assert wjx.is_wenjuanxing(t.frame.columns)
    assert not wjx.is_wenjuanxing(read_table(FIX / "twin_codes_utf8.csv").frame.columns)
    keys = wjx.question_keys(t.frame.columns)
    assert keys["1、你的学号"] == "1"
    assert keys["第4题(我对自己感到满意)"] == "4.1" and keys["第4题(我对自己持肯定态度)"] == "4.10"


@pytest.mark.parametrize("kind", ["text", "index"])
def test_normalize_drops_ip_and_skips(kind):
    t = read_table(FIX / f"wjx_{kind}.xlsx")
    wj = wjx.normalize_wenjuanxing(t.frame)
    assert wj.kind == kind
    assert "来自IP" not in wj.frame.columns
    # respondent 3 skipped item 4 (-3 / (跳过)) -> missing, not an error value
    assert wj.frame.loc[2, wj.aliases["4.4"]] is np.nan or pd.isna(wj.frame.loc[2, wj.aliases["4.4"]])
    assert wj.aliases["4(我觉得我有不少优点)"] == "第4题(我觉得我有不少优点)"


def test_multiselect_split():
    t = read_table(FIX / "wjx_text.xlsx")
    wj = wjx.normalize_wenjuanxing(t.frame)
    d = wjx.split_multiselect(wj.frame["5、你课余喜欢做什么？"])
    assert list(d.columns) == ["看书", "运动", "画画"]
    assert d.iloc[2].tolist() == [1.0, 1.0, 1.0]
    assert d.iloc[3].isna().all()  # (跳过)
    idx = wjx.normalize_wenjuanxing(read_table(FIX / "wjx_index.xlsx").frame).frame
    assert idx["第5题(看书)"].tolist()[:3] == ["1", "0", "1"] and pd.isna(idx["第5题(看书)"][3])


def _plain(tmp_path):
    s = _study(tmp_path, "plain", [{"path": "data/twin_codes_utf8.csv"}],
               design={"type": "pre_post", "id": "sid", "waves": ["baseline", "endline"]},
               privacy={"pii": ["name"]})
    d = read_study_data(s).data
    return s, d[d["wave"] == "baseline"].reset_index(drop=True)


@pytest.mark.parametrize("kind, mapping", [
    ("text", "number"),   # items: {rses_1: "4.1", ...}
    ("index", "header"),  # items: {rses_1: "第4题(我对自己感到满意)", ...}
])
def test_wenjuanxing_equals_plain_csv(tmp_path, kind, mapping):
    plain_study, plain = _plain(tmp_path)
    t = read_table(FIX / f"wjx_{kind}.xlsx")
    subs = [c for c in t.frame.columns if str(c).startswith("第4题")]
    items = {f"rses_{i}": (f"4.{i}" if mapping == "number" else subs[i - 1]) for i in range(1, 11)}
    s = _study(tmp_path, f"wjx_{kind}", [{"path": f"data/wjx_{kind}.xlsx", "wave": "baseline"}],
               instrument_items=items,
               design={"type": "pre_post", "id": 1, "waves": ["baseline", "endline"]})
    # same key as the plain study, so the same raw ids give the same pseudonyms
    shutil.copy(plain_study.root / ".workbench-key", s.root / ".workbench-key")
    res = read_study_data(s)
    assert [i.code for i in res.issues if i.severity == "error"] == []
    src = res.sources[0]
    assert src["platform"] == "wenjuanxing" and src["kind"] == kind
    assert "来自IP" not in res.data.columns
    assert "pii:来自IP" in res.sensitive.kinds
    np.testing.assert_array_equal(res.data[ITEMS].to_numpy(), plain[ITEMS].to_numpy())
    assert res.data["1"].tolist() == plain["sid"].tolist()
    assert res.data["_row"].tolist() == list(range(2, 8))
    try:
        from survey.scoring import score
    except ImportError:  # pragma: no cover
        return
    a = score(s, res.data).rename(columns={"1": "sid"})
    b = score(plain_study, plain)
    merged = b.merge(a, on="sid", suffixes=("_plain", "_wjx"))
    assert len(merged) == 6
    np.testing.assert_allclose(merged["rses.total_plain"], merged["rses.total_wjx"])


# ---------------------------------------------------------------------------------------------
# 按序号 exports of scales that start at 0 (issue 9, crash class 13): option numbers 1-4 of a
# 0-3 scale are read as 0-3 when that is certain (with a warning), and the study must say which
# (data[].codes) when it is not; nothing is shifted silently.

PHQ = [f"phq9_{i}" for i in range(1, 10)]


def _phq_index_export(root, answers, codes=None, extra_instrument=False):
    """A 问卷星 按序号 export of the PHQ-9 (question 2, nine sub-columns) in a study folder."""
    (root / "data").mkdir(parents=True)
    meta = {"序号": [str(k + 1) for k in range(len(answers))],
            "提交答卷时间": ["2024/9/1 10:00:00"] * len(answers), "所用时间": ["100秒"] * len(answers),
            "来源": ["手机提交"] * len(answers), "来源详情": ["直接访问"] * len(answers),
            "来自IP": [f"10.0.0.{k}(湖南-长沙)" for k in range(len(answers))],
            "1、你的学号": [f"{k + 1:03d}" for k in range(len(answers))]}
    for i in range(9):
        meta[f"第2题(PHQ第{i + 1}题)"] = [str(row[i]) for row in answers]
    if extra_instrument:
        for i in range(10):
            meta[f"第3题(RSES第{i + 1}题)"] = ["4" if i % 2 else "1"] * len(answers)
    pd.DataFrame(meta).to_excel(root / "data" / "phq.xlsx", index=False)
    instruments = [{"id": "phq9", "items": {p: f"2.{i + 1}" for i, p in enumerate(PHQ)}}]
    if extra_instrument:
        instruments.append({"id": "rses", "items": {f"rses_{i}": f"3.{i}" for i in range(1, 11)}})
    data = {"path": "data/phq.xlsx", **({"codes": codes} if codes else {})}
    doc = {"id": "phq", "design": {"type": "cross_sectional", "id": 1}, "instruments": instruments,
           "data": [data], "outcomes": [{"id": "dep", "scale": "phq9.total"}]}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


def test_index_export_of_a_zero_based_scale_is_shifted_with_a_warning(tmp_path):
    from survey.validation import validate

    answers = [[1, 2, 3, 4, 1, 1, 2, 2, 4], [4, 4, 4, 4, 3, 3, 3, 3, 3], [1] * 9]
    s = _phq_index_export(tmp_path / "s", answers, extra_instrument=True)
    res = validate(s)
    assert [i.code for i in res.issues if i.severity == "error"] == []  # no VALUE_OUT_OF_RANGE
    [w] = [i for i in res.issues if i.code == "CODES_OPTION_INDEX"]
    assert w.severity == "warning" and w.file == "data/phq.xlsx" and "phq9" in w.message
    assert "-1" in w.message and "codes: option_index" in w.message
    np.testing.assert_array_equal(res.data[PHQ].to_numpy(), np.array(answers, dtype=float) - 1)
    assert res.sources[0]["codes"] == {"phq9": "option_index"}  # listed in report.json
    assert res.data["rses_1"].tolist() == [1.0] * 3  # a 1-4 scale is not touched
    assert "phq9 read as option index" in res.summary()
    from survey.scoring import score

    assert sorted(score(s, res.data)["phq9.total"]) == [0.0, 11.0, 22.0]


@pytest.mark.parametrize("codes, offset", [(None, None), ("option_index", -1), ("value", 0)])
def test_ambiguous_index_export_needs_data_codes(tmp_path, codes, offset):
    answers = [[1, 2, 3, 1, 1, 1, 2, 2, 3], [3, 3, 3, 3, 3, 3, 3, 3, 3]]
    s = _phq_index_export(tmp_path / "s", answers, codes=codes)
    res = read_study_data(s)
    if codes is None:
        [e] = [i for i in res.issues if i.code == "CODES_AMBIGUOUS"]
        assert e.severity == "error" and res.fatal and "data[].codes" in e.message
        assert e.file == "data/phq.xlsx"
        np.testing.assert_array_equal(res.data[PHQ].to_numpy(), np.array(answers, dtype=float))
    else:
        assert res.issues == [] and not res.fatal  # the study said so: applied, no warning
        assert res.sources[0]["codes"] == {"phq9": codes}
        np.testing.assert_array_equal(res.data[PHQ].to_numpy(), np.array(answers, dtype=float) + offset)


def test_index_export_holding_zeros_is_read_as_codes(tmp_path):
    answers = [[0, 1, 2, 3, 0, 0, 1, 1, 3], [3, 3, 3, 3, 3, 3, 3, 3, 3]]
    res = read_study_data(_phq_index_export(tmp_path / "s", answers))
    assert res.issues == [] and res.sources[0]["codes"] == {"phq9": "value"}
    np.testing.assert_array_equal(res.data[PHQ].to_numpy(), np.array(answers, dtype=float))


def test_plain_file_of_option_numbers_gets_a_hint_and_codes_fixes_it(tmp_path):
    """Option numbers 1-4 of a 0-3 scale in a plain CSV (not recognizably 问卷星): the 4s
    are out of range, and the message says how to read the file as option numbers."""
    from survey.validation import validate

    root = tmp_path / "s"
    (root / "data").mkdir(parents=True)
    rows = ["sid," + ",".join(PHQ), "1," + ",".join(["4"] * 9), "2," + ",".join(["1"] * 9)]
    (root / "data" / "phq.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    doc = {"id": "phq", "design": {"type": "cross_sectional", "id": "sid"},
           "instruments": [{"id": "phq9"}], "data": [{"path": "data/phq.csv"}],
           "outcomes": [{"id": "dep", "scale": "phq9.total"}]}
    (root / "study.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = validate(load_study(root))
    out = [i for i in res.issues if i.code == "VALUE_OUT_OF_RANGE"]
    assert len(out) == 9 and all("data[].codes: option_index" in i.message for i in out)
    doc["data"][0]["codes"] = "option_index"
    (root / "study.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = validate(load_study(root))
    assert res.issues == [] and res.data[PHQ].to_numpy().tolist() == [[3.0] * 9, [0.0] * 9]

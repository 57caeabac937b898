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

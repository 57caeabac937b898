"""The output scanner finds planted personal values and raw ids in every format.

For each file format, one file per kind of canary (Chinese name, pinyin name, phone
number, address, raw id) is planted next to a clean file of the same format; the
scanner must report exactly those files with exactly those kinds, and never print
a value.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
from openpyxl import Workbook

from core.errors import WorkbenchError
from survey.privacy import SensitiveValues
from survey.scanner import ScanResult, scan_folder

CANARIES = {
    "pii:姓名": "欧阳晓雯",
    "pii:pinyin": "Ouyang Xiaowen",
    "pii:电话": "13912345678",
    "pii:地址": "湖南省邵阳市隆回县桃洪镇幸福村3组",
    "raw_id": "LB20230917",
}
CLEAN = "普通的文字 ordinary text 3.5 p_9f2c41aa03bd77e1"


def sensitive() -> SensitiveValues:
    sv = SensitiveValues()
    for kind, value in CANARIES.items():
        sv.add(kind, [value])
    sv.add("raw_id", ["7", "42"])  # too short: skipped and counted
    return sv


# ---------------------------------------------------------------- writers per format

def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    def chunk(ctype, body):
        return (struct.pack(">I", len(body)) + ctype + body
                + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + b"".join(chunk(t, b) for t, b in chunks) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def png_text(value):
    # tEXt is Latin-1 by the PNG spec; writers put UTF-8 bytes there anyway
    return _png([(b"tEXt", b"Title\x00" + value.encode("utf-8"))])


def png_ztxt(value):
    return _png([(b"zTXt", b"Comment\x00\x00" + zlib.compress(value.encode("utf-8")))])


def png_itxt(value):
    body = b"Author\x00\x01\x00zh\x00\x00" + zlib.compress(value.encode("utf-8"))
    return _png([(b"iTXt", body)])


def write(fmt: str, folder: Path, stem: str, value: str) -> str:
    """Write ``value`` into a file of format ``fmt``; return its name."""
    if fmt == "csv":
        name = f"{stem}.csv"
        pd.DataFrame({"id": ["p_1", "p_2"], "note": ["好", value]}).to_csv(folder / name, index=False)
    elif fmt == "csv_gbk":
        name = f"{stem}.csv"
        (folder / name).write_bytes(f"id,note\np_1,{value}\n".encode("gb18030"))
    elif fmt == "json_escaped":
        name = f"{stem}.json"
        (folder / name).write_text(json.dumps({"rows": [{"note": value}]}, ensure_ascii=True))
    elif fmt == "ipynb":
        name = f"{stem}.ipynb"
        nb = {"cells": [{"cell_type": "code", "source": ["df.head()"], "metadata": {},
                         "outputs": [{"output_type": "execute_result", "metadata": {},
                                      "data": {"text/plain": [f"0  {value}\n"]}}]}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (folder / name).write_text(json.dumps(nb, ensure_ascii=True))
        assert "\\u" in (folder / name).read_text() or value.isascii()
    elif fmt == "ipynb_png":
        name = f"{stem}.ipynb"
        b64 = base64.b64encode(png_itxt(value)).decode()
        nb = {"cells": [{"cell_type": "code", "source": [], "metadata": {},
                         "outputs": [{"output_type": "display_data", "metadata": {},
                                      "data": {"image/png": b64}}]}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (folder / name).write_text(json.dumps(nb))
    elif fmt == "html_entities":
        name = f"{stem}.html"
        ent = value.encode("ascii", "xmlcharrefreplace").decode()
        ent = "".join(f"&#x{ord(c):x};" for c in value) if value.isascii() else ent
        (folder / name).write_text(f"<html><body><td>{ent}</td></body></html>")
    elif fmt == "html_datauri":
        name = f"{stem}.html"
        b64 = base64.b64encode(png_text(value)).decode()
        (folder / name).write_text(f'<html><img src="data:image/png;base64,{b64}"></html>')
    elif fmt == "svg":
        name = f"{stem}.svg"
        ent = "".join(f"&#{ord(c)};" for c in value)
        (folder / name).write_text(
            '<svg xmlns="http://www.w3.org/2000/svg"><metadata><title>' + ent
            + "</title></metadata><!-- fig --></svg>")
    elif fmt == "parquet":
        name = f"{stem}.parquet"
        pd.DataFrame({"id": ["p_1", "p_2"], "note": ["好", value], "x": [1.5, 2.0]}).to_parquet(
            folder / name)
    elif fmt == "parquet_meta":
        name = f"{stem}.parquet"
        t = pa.table({"x": [1.0, 2.0]}).replace_schema_metadata({"source": value})
        pq.write_table(t, folder / name)
    elif fmt == "sav":
        name = f"{stem}.sav"
        pyreadstat.write_sav(pd.DataFrame({"id": ["p_1", "p_2"], "note": ["好", value]}),
                             str(folder / name))
    elif fmt == "sav_label":
        name = f"{stem}.sav"
        pyreadstat.write_sav(pd.DataFrame({"q1": [1.0, 2.0]}), str(folder / name),
                             column_labels=[f"asked {value}"],
                             variable_value_labels={"q1": {1.0: "yes", 2.0: "no"}})
    elif fmt == "dta":
        name = f"{stem}.dta"
        pyreadstat.write_dta(pd.DataFrame({"id": ["p_1", "p_2"], "note": ["好", value]}),
                             str(folder / name))
    elif fmt == "xlsx":
        name = f"{stem}.xlsx"
        wb = Workbook()
        wb.active.append(["id", "note"])
        wb.active.append(["p_1", value])
        wb.save(folder / name)
    elif fmt == "xlsx_props":
        name = f"{stem}.xlsx"
        wb = Workbook()
        wb.properties.creator = value
        wb.active.append(["x"])
        wb.save(folder / name)
    elif fmt == "png_text":
        name = f"{stem}.png"
        (folder / name).write_bytes(png_text(value))
    elif fmt == "png_ztxt":
        name = f"{stem}.png"
        (folder / name).write_bytes(png_ztxt(value))
    elif fmt == "png_itxt":
        name = f"{stem}.png"
        (folder / name).write_bytes(png_itxt(value))
    elif fmt == "binary_gb18030":
        name = f"{stem}.bin"
        (folder / name).write_bytes(b"\x00\xff\x13" * 50 + value.encode("gb18030") + b"\x00\x9f" * 9)
    else:  # pragma: no cover
        raise AssertionError(fmt)
    return name


FORMATS = ["csv", "csv_gbk", "json_escaped", "ipynb", "ipynb_png", "html_entities", "html_datauri",
           "svg", "parquet", "parquet_meta", "sav", "sav_label", "dta", "xlsx", "xlsx_props",
           "png_text", "png_ztxt", "png_itxt", "binary_gb18030"]


def _assert_no_value(*texts):
    for text in texts:
        for value in CANARIES.values():
            assert value not in text
            assert value.lower() not in text.lower()


@pytest.mark.parametrize("fmt", FORMATS)
def test_planted_values_found_with_file_and_kind(tmp_path, fmt):
    expected = []
    for i, (kind, value) in enumerate(CANARIES.items()):
        name = write(fmt, tmp_path, f"out{i}", value)
        expected.append((name, kind))
    write(fmt, tmp_path, "clean", CLEAN)
    result = scan_folder(tmp_path, sensitive())
    assert sorted(result.findings) == sorted(expected)
    assert not result.ok
    assert result.files_scanned == len(CANARIES) + 1
    assert result.skipped_short_ids == 2
    _assert_no_value(result.summary(), repr(result), json.dumps(result.to_dict(), ensure_ascii=False))


def test_clean_folder_passes(tmp_path, capsys):
    for fmt in FORMATS:
        write(fmt, tmp_path, f"clean_{fmt}", CLEAN)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "scores.csv").write_text("id,x\np_9f2c41aa03bd77e1,0.1001\n")
    sv = sensitive()
    sv.add("raw_id", ["1001"])
    result = scan_folder(tmp_path, sv)
    assert result.ok, result.findings
    assert result.files_scanned == len(FORMATS) + 1
    assert "no raw personal values" in result.summary()
    assert "not checked: 2 raw ids are shorter than 4 characters" in result.summary()


def test_variants_of_values_are_found(tmp_path):
    (tmp_path / "a.txt").write_text("call 139-1234-5678")
    (tmp_path / "b.txt").write_text("XIAOWEN OUYANG")
    (tmp_path / "c.txt").write_text("login from 117.136.2.1")
    sv = SensitiveValues()
    sv.add("pii:电话", ["13912345678"])
    sv.add("pii:pinyin", ["Ouyang Xiaowen"])
    sv.add("pii:来自IP", ["117.136.2.1(湖南-长沙)"])
    result = scan_folder(tmp_path, sv)
    assert result.findings == [("a.txt", "pii:电话"), ("b.txt", "pii:pinyin"),
                               ("c.txt", "pii:来自IP")]


@pytest.mark.parametrize("text, found", [
    ("id:1001,", True), ("编号1001号", True), ("1001.0", True), ('"1001"', True),
    ("21001", False), ("A1001", False), ("1001B", False), ("0.1001", False),
    ("1001.5", False), ("p_10013fa", False),
])
def test_raw_ids_match_whole_tokens_only(tmp_path, text, found):
    (tmp_path / "t.csv").write_text(f"x\n{text}\n", encoding="utf-8")
    sv = SensitiveValues()
    sv.add("raw_id", ["1001"])
    assert (scan_folder(tmp_path, sv).findings == [("t.csv", "raw_id")]) is found


def test_raw_id_in_numeric_parquet_and_sav_columns(tmp_path):
    pd.DataFrame({"sid": [20230917, 20230918]}).to_parquet(tmp_path / "a.parquet")
    pyreadstat.write_sav(pd.DataFrame({"sid": [20230917.0, 1.0]}), str(tmp_path / "b.sav"))
    sv = SensitiveValues()
    sv.add("raw_id", ["20230917"])
    assert scan_folder(tmp_path, sv).findings == [("a.parquet", "raw_id"), ("b.sav", "raw_id")]


def test_file_names_are_searched_and_redacted(tmp_path):
    from survey.scanner import REDACTED

    (tmp_path / "欧阳晓雯_report.html").write_text("<p>ok</p>")
    (tmp_path / "LB20230917").mkdir()
    (tmp_path / "LB20230917" / "notes.txt").write_text("Ouyang Xiaowen")
    (tmp_path / "LB20230917" / "bad.parquet").write_bytes(b"junk")
    result = scan_folder(tmp_path, sensitive())
    assert result.findings == [(REDACTED, "pii:姓名"), (REDACTED, "raw_id"),
                               (f"{REDACTED}/notes.txt", "pii:pinyin")]
    assert result.notes == [f"{REDACTED}/bad.parquet: not a readable Parquet file; "
                            "searched its raw bytes"]
    _assert_no_value(result.summary(), json.dumps(result.to_dict(), ensure_ascii=False))


def test_damaged_files_fall_back_to_raw_bytes_and_notes_hold_no_value(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet " + "欧阳晓雯".encode())
    (tmp_path / "broken.sav").write_bytes(b"junk " + b"LB20230917")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04junk 13912345678")
    result = scan_folder(tmp_path, sensitive())
    assert result.findings == [("broken.parquet", "pii:姓名"), ("broken.sav", "raw_id"),
                               ("broken.xlsx", "pii:电话")]
    assert len(result.notes) == 3
    _assert_no_value(result.summary(), *result.notes)


def test_key_file_and_key_content_are_flagged(tmp_path):
    study = tmp_path / "study"
    out = study / "output"
    out.mkdir(parents=True)
    key_hex = "ab" * 32
    key = study / ".workbench-key"
    key.write_text(key_hex + "\n")
    (out / ".workbench-key").write_text(key_hex + "\n")
    (out / "copy.txt").write_text(key_hex.upper())
    (out / "params.json").write_text(json.dumps({"seed": 1, "k": key_hex}))
    (out / "raw.bin").write_bytes(b"\x00" + bytes.fromhex(key_hex) + b"\x01")
    (out / "fine.txt").write_text("nothing")
    result = scan_folder(out, SensitiveValues(), key_file=key)
    assert result.findings == [(".workbench-key", "key"), ("copy.txt", "key"),
                               ("params.json", "key"), ("raw.bin", "key")]
    assert key_hex not in result.summary()


def test_key_file_name_flagged_without_key_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".workbench-key").write_text("cd" * 32)
    assert scan_folder(tmp_path, SensitiveValues()).findings == [("sub/.workbench-key", "key")]


def test_matplotlib_png_and_svg_metadata(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title("Ouyang Xiaowen")  # SVG draws text as paths but keeps it in a comment
    fig.savefig(tmp_path / "a.svg")
    ax.set_title("")
    fig.savefig(tmp_path / "b.png", metadata={"Author": "欧阳晓雯"})
    fig.savefig(tmp_path / "c.png")
    plt.close(fig)
    assert scan_folder(tmp_path, sensitive()).findings == [("a.svg", "pii:pinyin"),
                                                           ("b.png", "pii:姓名")]


def test_missing_folder_is_a_workbench_error(tmp_path):
    with pytest.raises(WorkbenchError) as exc:
        scan_folder(tmp_path / "nope", sensitive())
    assert exc.value.code == "SCAN_FOLDER_MISSING"


def test_symlinked_folder_is_not_entered(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "raw.csv").write_text("欧阳晓雯")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    result = scan_folder(out, sensitive())
    assert result.ok and result.files_scanned == 0


def test_scan_command_prints_kinds_not_values(tmp_path, monkeypatch, capsys):
    import survey.ingest
    import survey.study_loader
    from workbench.cli import main

    study = tmp_path / "study"
    study.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"study": {"path": str(study)}}))
    (out / "table.csv").write_text("note\n湖南省邵阳市隆回县桃洪镇幸福村3组\n")

    class FakeStudy:
        root = study

    class FakeIngest:
        sensitive = sensitive()

    seen = {}
    monkeypatch.setattr(survey.study_loader, "load_study",
                        lambda p: seen.setdefault("study", Path(p)) and FakeStudy())
    monkeypatch.setattr(survey.ingest, "read_study_data", lambda s: FakeIngest())
    assert main(["scan", str(out)]) == 1
    captured = capsys.readouterr()
    assert seen["study"] == study
    assert "table.csv: pii:地址" in captured.out
    assert "not checked: 2 raw ids are shorter than 4 characters" in captured.out
    _assert_no_value(captured.out, captured.err)
    (out / "table.csv").write_text("note\nfine\n")
    assert main(["scan", str(out), "--study", str(study)]) == 0


def test_scan_command_without_study_or_manifest(tmp_path, capsys):
    from workbench.cli import main

    assert main(["scan", str(tmp_path)]) == 2
    assert "SCAN_NO_STUDY" in capsys.readouterr().err


def test_scanresult_ok_property():
    assert ScanResult(folder="x").ok
    assert not ScanResult(folder="x", findings=[("a", "raw_id")]).ok


@pytest.mark.parametrize("text, found", [
    ("x,LB-0101-0001,y", True), ("编号LB-0101-0001。", True), ("lb-0101-0001", True),
    ("LB-0101-00012", False), ("XLB-0101-0001", False), ("LB-0101-0002", False),
])
def test_ids_with_punctuation_match_whole_tokens(tmp_path, text, found):
    (tmp_path / "t.txt").write_text(text, encoding="utf-8")
    sv = SensitiveValues()
    sv.add("raw_id", ["LB-0101-0001"])
    assert (scan_folder(tmp_path, sv).findings == [("t.txt", "raw_id")]) is found


@pytest.mark.parametrize("fmt", ["csv", "ipynb", "parquet", "png_itxt"])
def test_very_many_values_find_the_same(tmp_path, fmt):
    """60,000 extra values (prefixes and rotations of the canaries among them) change
    nothing: the automaton finds exactly the planted values."""
    expected = []
    for i, (kind, value) in enumerate(CANARIES.items()):
        expected.append((write(fmt, tmp_path, f"out{i}", value), kind))
    write(fmt, tmp_path, "clean", CLEAN)
    sv = sensitive()
    sv.add("pii:姓名", ["欧阳晓", "晓雯欧", "阳晓雯欧"])  # prefixes/rotations that must not match more
    sv.add("pii:姓名", [chr(0x4E00 + i % 20000) + chr(0x4E00 + (i * 7) % 20000) + "氿"
                       for i in range(30_000)])
    sv.add("raw_id", [f"ZZ{i:07d}" for i in range(30_000)])
    result = scan_folder(tmp_path, sv)
    assert sorted(result.findings) == sorted(expected)


# ------------------------------------------ no false alarms, no misses (issues 9.5 and 10)

def _scan_text(tmp_path, text, kind, values, name="t.txt"):
    """Findings of a scan of a fresh folder holding ``text`` in file ``name``."""
    folder = tmp_path / f"scan{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (folder / name).write_bytes(data)
    sv = SensitiveValues()
    sv.add(kind, values)
    return scan_folder(folder, sv).findings


@pytest.mark.parametrize("text", [
    "0.623120", "0.62312", ".62312", "p = .62312", "r=-.62312", "-0.62312", "62312.5",
    "62312.05", "1e+62312", "1E-62312", "6.2312e+04", "3.062312", "162312", "623120",
    "62312a", "x62312", "1.2.62312", "62,312",
])
def test_ids_are_not_found_inside_numbers(tmp_path, text):
    """A numeric id (a student number) is not found inside a decimal, an exponent or a
    longer number: statistics in tables are not ids."""
    assert _scan_text(tmp_path, f"x,{text},y\n", "raw_id", ["62312"]) == []


@pytest.mark.parametrize("text", [
    "62312", "62312.0", "id 62312.", "(62312)", "编号62312号", "s-62312", "学号：６２３１２",
    "62312\u200b", "id.62312", "p_9f2c 62312",
])
def test_ids_are_found_as_whole_tokens(tmp_path, text):
    assert _scan_text(tmp_path, f"x,{text},y\n", "raw_id", ["62312"]) == [("t.txt", "raw_id")]


def _executed_notebook(cell_text: str) -> str:
    """A notebook as papermill and nbclient leave it: timestamps to the microsecond."""
    stamp = {"iopub.execute_input": "2026-12-03T07:36:01.061617Z",
             "iopub.status.busy": "2026-12-03T07:36:01.061617Z",
             "iopub.status.idle": "2026-12-03T07:36:12.623120Z",
             "shell.execute_reply": "2026-12-03T07:36:12.620231Z"}
    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "source": ["df.mean()"],
                     "metadata": {"execution": stamp, "papermill": {
                         "duration": 11.561503, "end_time": "2026-12-03T07:36:12.623120",
                         "start_time": "2026-12-03T07:36:01.061617", "status": "completed",
                         "exception": False}},
                     "outputs": [{"output_type": "execute_result", "execution_count": 1,
                                  "metadata": {}, "data": {"text/plain": [cell_text]}}]}],
          "metadata": {"papermill": {"duration": 11.561503, "start_time": "2026-12-03T07:36:01.061617",
                                     "end_time": "2026-12-03T07:36:12.623120",
                                     "input_path": "02_baseline.ipynb", "parameters": {"seed": 20231}}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1)


@pytest.mark.parametrize("raw_id", ["2026", "1203", "0736", "061617", "61617", "623120",
                                    "20261203", "12.623120"])
def test_papermill_timestamps_are_not_ids(tmp_path, raw_id):
    """The year of every timestamp is not a 4-digit id, nor are its other parts."""
    nb = _executed_notebook("score    0.623120\nn        55")
    assert _scan_text(tmp_path, nb, "raw_id", [raw_id], name="a.ipynb") == []
    nb = _executed_notebook(f"child    {raw_id}")  # the positive control
    assert _scan_text(tmp_path, nb, "raw_id", [raw_id], name="a.ipynb") == [("a.ipynb", "raw_id")]


def png_whose_base64_holds(token: str, text_chunk: bytes = b"") -> bytes:
    """A PNG whose base64 encoding holds ``+token/`` (image data chosen to that end)."""
    def chunk(ctype, body):
        return (struct.pack(">I", len(body)) + ctype + body
                + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF))
    pattern = "A+" + token + "/A"
    pattern += "A" * (-len(pattern) % 4)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    head += chunk(b"tEXt", text_chunk) if text_chunk else b""
    pad = b"\x00" * (-(len(head) + 8) % 3)
    png = head + chunk(b"IDAT", pad + base64.b64decode(pattern) + b"\x00" * 60) + chunk(b"IEND", b"")
    assert f"+{token}/" in base64.b64encode(png).decode()
    return png


@pytest.mark.parametrize("raw_id", ["61617", "20230101"])
@pytest.mark.parametrize("fmt", ["ipynb", "html", "svg", "json", "ipynb_jpeg"])
def test_base64_images_are_scanned_as_images_not_as_text(tmp_path, raw_id, fmt):
    """The characters of an encoded image are not text: ``+61617/`` in a notebook's
    image/png output is no id. The image's own text (a PNG tEXt chunk) is searched."""
    def files(png: bytes) -> tuple[str, str]:
        b64 = base64.b64encode(png).decode()
        if fmt == "ipynb":
            return "a.ipynb", json.dumps({"cells": [{"cell_type": "code", "outputs": [
                {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": b64 + "\n", "text/plain": ["<Figure>"]}}]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        if fmt == "html":
            return "a.html", f'<html><body><img src="data:image/png;base64,{b64}"></body></html>'
        if fmt == "svg":
            return "a.svg", ('<svg xmlns="http://www.w3.org/2000/svg" '
                             'xmlns:xlink="http://www.w3.org/1999/xlink"><image '
                             f'xlink:href="data:image/png;base64,\n{b64[:76]}\n{b64[76:]}"/></svg>')
        if fmt == "json":
            return "a.json", json.dumps({"figure": b64})
        jpeg = _jpeg(b"", png)  # an image/jpeg output whose compressed data hold the bytes
        return "a.ipynb", json.dumps({"cells": [{"cell_type": "code", "outputs": [
            {"output_type": "display_data", "metadata": {},
             "data": {"image/jpeg": base64.b64encode(jpeg).decode()}}]}]})

    name, text = files(png_whose_base64_holds(raw_id))
    if fmt != "ipynb_jpeg":
        assert f"+{raw_id}/" in text
    assert _scan_text(tmp_path, text, "raw_id", [raw_id], name=name) == []
    if fmt == "ipynb_jpeg":
        name, text = "a.ipynb", json.dumps({"data": {"image/jpeg": base64.b64encode(
            _jpeg(f"id {raw_id}".encode(), b"")).decode()}})
    else:
        name, text = files(png_whose_base64_holds(raw_id, b"Title\x00child " + raw_id.encode()))
    assert _scan_text(tmp_path, text, "raw_id", [raw_id], name=name) == [(name, "raw_id")]


def _jpeg(comment: bytes, image_data: bytes) -> bytes:
    """A JPEG's segment structure: a comment, and ``image_data`` as compressed data."""
    def seg(marker, body):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
    data = image_data.replace(b"\xff", b"\xff\x00")  # byte stuffing, as in a real JPEG
    return (b"\xff\xd8" + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + (seg(0xFE, comment) if comment else b"")
            + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + data + b"\xff\xd9")


def test_jpeg_metadata_is_searched_but_not_its_compressed_image_data(tmp_path):
    name = "欧阳晓雯"
    assert _scan_text(tmp_path, _jpeg(b"", b"\x13\x37" * 40 + name.encode("gb18030") + b"\x01" * 9),
                      "pii:姓名", [name], name="a.jpg") == []
    assert _scan_text(tmp_path, _jpeg(name.encode("utf-8"), b"\x13\x37" * 40), "pii:姓名", [name],
                      name="a.jpg") == [("a.jpg", "pii:姓名")]
    after_end = _jpeg(b"", b"\x13\x37") + name.encode("utf-8")  # bytes after the image
    assert _scan_text(tmp_path, after_end, "pii:姓名", [name], name="a.jpg") == [("a.jpg", "pii:姓名")]


@pytest.mark.parametrize("declared, text", [
    ("17100402724", "+8617100402724"), ("17100402724", "+86 171 0040 2724"),
    ("17100402724", "(+86)171-0040-2724"), ("17100402724", "0086 17100402724"),
    ("17100402724", "171.0040.2724"), ("17100402724", "1710040 2724"),
    ("17100402724", "我是秦诗家电话17100402724"), ("17100402724", "tel:171-0040-2724。"),
    ("17100402724", "17100402724.0"), ("17100402724", "13912345678/17100402724"),
    ("17002042082", "170.0204.2082"), ("17102617490", "1710261 7490"),
    ("+86 170 0204 2082", "17002042082"), ("+8617100402724", "171 0040 2724"),
    ("我是秦诗家电话17100402724", "call 171-0040-2724"), ("(0731) 8888-1234", "073188881234"),
])
def test_phone_numbers_are_found_in_any_format(tmp_path, declared, text):
    """Phones are compared as digits, with and without the 86 country code."""
    assert _scan_text(tmp_path, f"note\n{text}\n", "pii:电话", [declared]) == [("t.txt", "pii:电话")]


@pytest.mark.parametrize("text", [
    "217100402724", "171004027245", "0.17100402724", "17100402724.5", "1710040.2724",
    "17100402725", "1.7100402724e10", "86 17100402725", "2017-10-04",
])
def test_phone_digits_inside_other_numbers_are_not_phones(tmp_path, text):
    assert _scan_text(tmp_path, f"note\n{text}\n", "pii:电话", ["17100402724"]) == []


@pytest.mark.parametrize("declared, text", [
    ("严鹏泽", "严 鹏泽"), ("严鹏泽", "严\u3000鹏泽"), ("严鹏泽", "严·鹏泽"), ("严鹏泽", "严\u200b鹏泽"),
    ("严鹏泽", "学生严 鹏 泽的家长"), ("严 鹏泽", "严鹏泽"), ("严鹏泽", "<td>严\n鹏泽</td>"),
    ("Ouyang Xiaowen", "OUYANG  XIAOWEN"), ("Ouyang Xiaowen", "ouyang-xiaowen"),
    ("Ouyang Xiaowen", "OuyangXiaowen"), ("LB-0101-0001", "lb 0101 0001"),
])
def test_names_are_found_with_whitespace_and_punctuation_removed(tmp_path, declared, text):
    assert _scan_text(tmp_path, text, "pii:姓名", [declared]) == [("t.txt", "pii:姓名")]


@pytest.mark.parametrize("text", [
    "严鹏", "严 x 鹏泽", "严      鹏泽", "严鹏\x00泽", "严2鹏泽", "Ouyang Xiaowenx", "ouyang xiao wen",
])
def test_names_interrupted_by_other_text_are_not_found(tmp_path, text):
    assert _scan_text(tmp_path, text, "pii:姓名", ["严鹏泽", "Ouyang Xiaowen"]) == []


@pytest.mark.parametrize("length", [1_200, 5_000])
def test_long_declared_values_work(tmp_path, length):
    """A declared value of thousands of characters is searched (it once raised
    RecursionError), found where it is and not found where only a part of it is."""
    cjk = "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(length))
    latin = " ".join(f"word{i}" for i in range(length // 6))
    digits = "".join(str(i % 10) for i in range(length))
    sv = SensitiveValues()
    sv.add("pii:备注", [cjk, latin])
    sv.add("raw_id", [digits])
    (tmp_path / "cjk.txt").write_text("前" + cjk + "后", encoding="utf-8")
    (tmp_path / "latin.csv").write_text(f'x\n"{latin.upper()}"\n', encoding="utf-8")
    (tmp_path / "digits.txt").write_text(f"id {digits}\n", encoding="utf-8")
    (tmp_path / "parts.txt").write_text(cjk[:-1] + "\n" + latin[1:] + "\n" + digits + "0",
                                        encoding="utf-8")
    assert scan_folder(tmp_path, sv).findings == [
        ("cjk.txt", "pii:备注"), ("digits.txt", "raw_id"), ("latin.csv", "pii:备注")]


def test_scan_time_is_linear_in_long_runs_of_letters_and_digits(tmp_path):
    """Doubling the length of long runs (letters, digits, CJK, base64-like) less than
    triples the scan time; the scan was quadratic in them (30,000 characters took 50 s)."""
    import time

    sv = sensitive()
    sv.add("pii:x", ["Zhang Wei", "张三丰", "a" * 1200 + "b"])
    sv.add("raw_id", ["LB-0101-0001", "1" * 40 + "2"])

    def seconds(n: int) -> float:
        folder = tmp_path / f"n{n}"
        folder.mkdir()
        text = "\n".join(["a" * n, "1" * n, "张" * n, "a1" * (n // 2), "1-" * (n // 2),
                          "1." * (n // 2), "a " * (n // 2)])
        (folder / "runs.txt").write_text(text, encoding="utf-8")
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            assert scan_folder(folder, sv).ok
            best = min(best, time.perf_counter() - t)
        return best

    small, large = seconds(100_000), seconds(200_000)
    assert large < 3 * small, (small, large)


def test_short_ids_are_counted_and_said_plainly(tmp_path):
    """Ids shorter than 4 characters are pseudonymized but cannot be searched: the
    result says so in a sentence for the report and the manifest (en and zh)."""
    (tmp_path / "t.csv").write_text("x\n7\n", encoding="utf-8")
    sv = SensitiveValues()
    sv.add("raw_id", ["7", "42", "007", "1001"])
    sv.add("pii:姓名", ["王"])
    result = scan_folder(tmp_path, sv)
    assert result.ok and not result.checked_everything
    assert (result.skipped_short_ids, result.skipped_short_values) == (3, 1)
    en, zh = result.limits(), result.limits("zh")
    assert en[0].startswith("3 raw ids are shorter than 4 characters")
    assert "cannot check that they appear in no output" in en[0]
    assert en[1].startswith("1 personal value is too short to search")
    assert zh[0].startswith("有 3 个原始编号短于 4 个字符") and "无法检查" in zh[0]
    d = result.to_dict()
    assert d["limits"] == en and d["checked_everything"] is False and d["min_id_length"] == 4
    assert all(f"not checked: {s}" in result.summary() for s in en)
    clean = scan_folder(tmp_path, sensitive_without_short())
    assert clean.checked_everything and clean.limits() == [] and clean.to_dict()["limits"] == []


def sensitive_without_short() -> SensitiveValues:
    sv = SensitiveValues()
    sv.add("raw_id", ["1001"])
    return sv


def test_gzip_is_searched_decompressed_and_embedded_fonts_are_not_text(tmp_path):
    import gzip

    name = "欧阳晓雯"
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(f"x,{name}\n".encode()))
    font = b"wOF2\x00\x01\x00\x00" + b"\x13\x37" * 40 + name.encode("gb18030") + b"\x01" * 30
    (tmp_path / "b.html").write_text(
        '<style>@font-face{src:url("data:font/woff2;base64,'
        + base64.b64encode(font).decode() + '")}</style><p>ok</p>', encoding="utf-8")
    sv = SensitiveValues()
    sv.add("pii:姓名", [name])
    assert scan_folder(tmp_path, sv).findings == [("a.csv.gz", "pii:姓名")]


# ------------------------------------------------------------- properties (hypothesis)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_DIGITS = "0123456789"


def _kinds(text: str, sv: SensitiveValues) -> set[str]:
    from survey.scan_match import Matcher as _Matcher

    return _Matcher(sv, None).kinds_in(text)


@settings(max_examples=int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", 150)), deadline=None)
@given(integer=st.integers(0, 10**10), fraction=st.text(_DIGITS, min_size=1, max_size=9),
       exponent=st.integers(-400, 400), form=st.sampled_from(
           ["{i}.{f}", "-{i}.{f}", ".{f}", "{i}.{f}e{e:+d}", "{i}e{e:+d}", "{i}.{f}E{e}"]),
       sep=st.sampled_from([",", " ", "\t", "|", ";", "\n", "(", "="]))
def test_property_no_id_is_found_inside_a_number(integer, fraction, exponent, form, sep):
    """Whatever the number, neither its integer part nor its fraction nor its exponent
    is an id: a number is never split (except 62312.0, which is the integer 62312)."""
    if form != "{i}e{e:+d}" and not fraction.strip("0"):
        fraction += "1"
    number = form.format(i=integer, f=fraction, e=exponent)
    sv = SensitiveValues()
    sv.add("raw_id", [str(integer), fraction, str(abs(exponent)), f"{integer}{fraction}"])
    assert _kinds(f"x{sep}{number}{sep}y", sv) == set()


@settings(max_examples=int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", 150)), deadline=None)
@given(raw_id=st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=12),
       left=st.sampled_from(["", " ", ",", "编号", "(", "\"", "id:", "\n", "学号 ", "#"]),
       right=st.sampled_from(["", " ", ",", "号", ")", "\"", ".", "\n", "。", "/"]))
def test_property_an_id_between_non_alphanumerics_is_found(raw_id, left, right):
    sv = SensitiveValues()
    sv.add("raw_id", [raw_id])
    assert _kinds(f"a {left}{raw_id}{right} b", sv) == {"raw_id"}
    assert _kinds(f"a {left}x{raw_id}{right} b", sv) == set()  # inside a longer token


@settings(max_examples=int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", 150)), deadline=None)
@given(name=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2,
                    max_size=4),
       gaps=st.lists(st.sampled_from(["", " ", "\u3000", "·", "-", "\u200b", " \n", "・"]),
                     min_size=3, max_size=3))
def test_property_a_chinese_name_is_found_with_whitespace_or_punctuation_inside(name, gaps):
    spaced = "".join(c + (gaps[i] if i < len(name) - 1 and i < 3 else "")
                     for i, c in enumerate(name))
    sv = SensitiveValues()
    sv.add("pii:姓名", [name])
    assert _kinds(f"学生{spaced}的家长", sv) == {"pii:姓名"}
    assert _kinds(f"学生{name[0]}x{name[1:]}的家长", sv) == set()


def test_workbench_scan_removes_stale_partial_folders_first(tiny_study, tmp_path, capsys):
    # a killed run's staging folder beside the scanned one holds unscanned outputs (issue 10)
    from workbench import cli

    out = tmp_path / "out"
    assert cli.main(["validate", str(tiny_study), "--out", str(out)]) == 0
    stale = tmp_path / f".out.partial-{2 ** 22 + 54321}"  # a pid that is not running
    stale.mkdir()
    (stale / "leftover.csv").write_text("unscanned", encoding="utf-8")
    cli.main(["scan", str(out), "--study", str(tiny_study)])
    assert not stale.exists()
    capsys.readouterr()


def test_short_ids_are_said_plainly_in_the_manifest_the_index_and_the_terminal(
        tiny_study, tmp_path, capsys):
    # issue 9, crash 5: ids such as 7 or 12 are pseudonymized, but too short to search for
    import json

    import pandas as pd

    from workbench import cli

    csv = tiny_study / "data" / "all.csv"
    df = pd.read_csv(csv, dtype=str)
    codes = {sid: str(k + 1) for k, sid in enumerate(sorted(df["student_id"].unique()))}
    df["student_id"] = df["student_id"].map(codes)  # 1 .. 160: 160 ids under 4 characters
    df.to_csv(csv, index=False)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny_study), "--out", str(out), "--only", "00_data_quality",
                     "--no-progress"]) == 0
    printed = capsys.readouterr().out
    privacy = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["privacy"]
    assert privacy["skipped_short_ids"] == 160 and privacy["checked_everything"] is False
    assert "160 raw ids are shorter than 4 characters" in privacy["limits"][0]
    assert "not checked by the privacy scan: 160 raw ids" in printed
    assert "160 raw ids are shorter than 4 characters" in (
        out / "reports" / "index.html").read_text(encoding="utf-8")


def test_fraction_digits_in_svg_path_data_are_not_an_id(tmp_path):
    # the report template embeds JupyterLab's icons as base64 SVG whose path data holds
    # L8.14002: a five-digit id 14002 must not be found there (zoo case, issue 9 crash 5)
    import base64

    from survey.privacy import SensitiveValues
    from survey.scanner import scan_folder

    svg = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M4 L8.14002 12.5 Z"/></svg>'
    b64 = base64.b64encode(svg.encode()).decode()
    (tmp_path / "a.html").write_text(
        f"<style>.i{{background:url(data:image/svg+xml;base64,{b64})}}</style>", encoding="utf-8")
    (tmp_path / "b.svg").write_text(svg, encoding="utf-8")
    (tmp_path / "c.txt").write_text("child 14002 moved", encoding="utf-8")  # positive control
    sv = SensitiveValues()
    sv.add("raw_id", ["14002"])
    assert scan_folder(tmp_path, sv).findings == [("c.txt", "raw_id")]


def test_json_numbers_are_not_ids_but_json_strings_are(tmp_path):
    # zoo finding: a five-digit file size in manifest.json equal to a five-digit student
    # number reduced the manifest and failed the run; ids are always written as strings
    import json

    from survey.privacy import SensitiveValues
    from survey.scanner import scan_folder

    (tmp_path / "manifest.json").write_text(json.dumps(
        {"outputs": [{"path": "tables/effects.csv", "bytes": 61617}], "seed": 20230101,
         "seconds": 61617.25}), encoding="utf-8")
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [], "execution_count": 61617}),
                                       encoding="utf-8")
    (tmp_path / "leak.json").write_text(json.dumps({"student": "61617"}), encoding="utf-8")
    (tmp_path / "leak.csv").write_text("id,score\n61617,3\n", encoding="utf-8")
    sv = SensitiveValues()
    sv.add("raw_id", ["61617", "20230101"])
    assert scan_folder(tmp_path, sv).findings == [("leak.csv", "raw_id"), ("leak.json", "raw_id")]


def test_the_values_are_compiled_once_per_sensitive_values(tmp_path, monkeypatch):
    # the index page's "not checked" sentence (scan_limits) and the scan at the end of a run
    # use the same SensitiveValues: its values are compiled once; adding values compiles anew
    from survey import scan_match
    from survey.scanner import scan_limits

    builds = []
    real_init = scan_match.ValueIndex.__init__

    def counting_init(self, sensitive):
        builds.append(sensitive)
        real_init(self, sensitive)

    monkeypatch.setattr(scan_match.ValueIndex, "__init__", counting_init)
    (tmp_path / "notes.md").write_text("王小明 20230017", encoding="utf-8")
    key = tmp_path.parent / f"{tmp_path.name}.key"
    key.write_text("ab" * 16, encoding="utf-8")
    sv = SensitiveValues()
    sv.add("pii:姓名", ["王小明"])
    sv.add("raw_id", ["20230017", "7"])
    assert scan_limits(sv).skipped_short_ids == 1
    result = scan_folder(tmp_path, sv, key_file=key)
    assert result.findings == [("notes.md", "pii:姓名"), ("notes.md", "raw_id")]
    assert scan_folder(tmp_path, sv).skipped_short_ids == 1
    assert len(builds) == 1
    sv.add("pii:学校", ["阳光小学"])  # new values: the old index would miss them
    (tmp_path / "school.md").write_text("阳光小学", encoding="utf-8")
    assert ("school.md", "pii:学校") in scan_folder(tmp_path, sv).findings
    assert len(builds) == 2
    other = SensitiveValues()
    other.update(sv)
    scan_limits(other)
    assert len(builds) == 3 and builds[-1] is other


def test_a_large_folder_is_searched_in_two_processes_with_the_same_result(tmp_path, monkeypatch):
    """Forked children search file by file; findings and notes equal one process's, in order."""
    import survey.scanner as scanner

    sv = SensitiveValues()
    sv.add("pii:姓名", ["王小明", "李华华"])
    sv.add("raw_id", ["20230017"])
    for k in range(12):
        (tmp_path / f"t{k:02d}.csv").write_text(
            "a,b\n" + ("x,1\n" * 200) + ("王小明,20230017\n" if k % 3 == 0 else ""),
            encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"a": "李华华"', encoding="utf-8")  # a note
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    monkeypatch.setattr(scanner, "PARALLEL_MIN_BYTES", 10 ** 12)
    one = scanner.scan_folder(tmp_path, sv)
    monkeypatch.setattr(scanner, "PARALLEL_MIN_BYTES", 0)
    two = scanner.scan_folder(tmp_path, sv)
    assert one.findings and one.notes
    assert (two.findings, two.notes, two.files_scanned) == (one.findings, one.notes,
                                                            one.files_scanned)

"""Write the binary and byte-exact inputs of the bad-input corpus.

Run ``python tests/corpus/make_corpus.py`` to (re)write them; the files it writes are
committed, so the tests do not need this script except for :data:`RUNTIME`, the
inputs that are made at test time inside a temporary copy of a case:

- ``big-cell``: a 5 MB cell (too large to commit),
- ``study-too-large``: a study.yaml over 5 MB,
- ``symlink-out``, ``symlinked-folder-out``: symbolic links pointing outside the
  study folder (git would store them as links; they must point at a real outside
  target, which exists only at test time);
- ``symlink-loop``: ``data/w.csv`` a link to itself;
- ``xlsx-zip-bomb``: an .xlsx of about 2 MB that expands to 520 MiB of XML (too large
  to commit; made in about 3 seconds).

Text cases (study.yaml files, small UTF-8 CSVs) are committed as written by hand;
``.gitattributes`` keeps every byte of the corpus as it is (no line-ending changes).
"""

from __future__ import annotations

import codecs
import io
import sys
import textwrap
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
ITEMS = [f"rses_{i}" for i in range(1, 11)]
HEAD = ["sid", "name", "wave", "arm", "school", *ITEMS]
A = ["1", "2", "3", "4", "1", "2", "3", "4", "1", "2"]
B = ["4", "1", "4", "3", "2", "1", "4", "2", "1", "3"]
OK_ROWS = [["S101", "张三", "baseline", "control", "s1", *A],
           ["S102", "李四", "baseline", "treatment", "s2", *B],
           ["S101", "张三", "endline", "control", "s1", *B],
           ["S102", "李四", "endline", "treatment", "s2", *A]]


def study_yaml(about: str, data: str = "data: [{path: data/w.csv}]",
               instruments: str = "instruments: [{id: rses}]",
               outcomes: str = "outcomes: [{id: self_esteem, scale: rses.total}]") -> str:
    return textwrap.dedent(f"""\
        # corpus case: {about}
        id: corpus
        design:
          type: cluster_randomized
          id: sid
          waves: [baseline, endline]
          arm: arm
          control: control
          clusters: [school]
        """) + f"{instruments}\n{data}\nmissing_codes: [-9, 99]\nprivacy: {{pii: [name]}}\n{outcomes}\n"


def csv_text(rows, head=HEAD, sep=",", eol="\n") -> str:
    return eol.join(sep.join(r) for r in [head, *rows]) + eol


def _case(name: str, about: str, files: dict, **yaml_kw) -> None:
    d = CASES / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "study.yaml").write_bytes(study_yaml(about, **yaml_kw).encode("utf-8"))
    for rel, payload in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(payload)


def _xlsx(rows, merges=(), sheet="Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2024, 6, 9)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


LABEL_ROWS = [["S101", "张三", "baseline", "control", "s1",
               "非常同意", "同意", "同意", "非常同意", "同意", "同意", "非常同意", "同意", "同意", "同意"],
              ["S102", "李四", "baseline", "treatment", "s2", *B]]


def build() -> list[str]:
    """Write every generated file of the corpus; return the case names written."""
    written = []

    def case(name, about, files, **kw):
        _case(name, about, files, **kw)
        written.append(name)

    utf8 = csv_text(OK_ROWS)
    # --- encodings
    case("gbk-declared-utf8", "a GBK CSV (Excel on Chinese Windows) declared as UTF-8",
         {"data/w.csv": utf8.encode("gbk")}, data="data: [{path: data/w.csv, encoding: utf-8}]")
    case("gbk-detected", "a GBK CSV without a declaration: detected as GB18030 and read (no error)",
         {"data/w.csv": utf8.encode("gbk")})
    case("utf8-declared-gbk", "a UTF-8 CSV declared as GBK: the declared encoding cannot decode it",
         {"data/w.csv": csv_text([OK_ROWS[0], ["S103", "王小五", "baseline", "treatment", "s2", *B]])
          .encode("utf-8")}, data="data: [{path: data/w.csv, encoding: gbk}]")
    case("utf8-declared-gbk-mojibake", "a UTF-8 CSV declared as GBK that decodes without error "
         "into mojibake: the labels are no longer labels",
         {"data/w.csv": csv_text(LABEL_ROWS).encode("utf-8")},
         data="data: [{path: data/w.csv, encoding: gbk}]")
    case("utf16-excel", "Excel 'Unicode text': UTF-16 LE with a BOM, tab-separated (read, no error)",
         {"data/w.txt": codecs.BOM_UTF16_LE + csv_text(OK_ROWS, sep="\t", eol="\r\n")
          .encode("utf-16-le")}, data="data: [{path: data/w.txt}]")
    case("utf16-no-bom", "UTF-16 LE without a byte-order mark named .csv",
         {"data/w.csv": utf8.encode("utf-16-le")})
    case("utf8-bom", "UTF-8 with a BOM (Excel 'CSV UTF-8'): the first header is 'sid', not '\\ufeffsid'",
         {"data/w.csv": codecs.BOM_UTF8 + utf8.encode("utf-8")})
    case("undecodable-bytes", "bytes that are neither UTF-8 nor GB18030",
         {"data/w.csv": utf8.encode("utf-8").replace("张三".encode(), b"\xff\xfe\xff")})
    # study.yaml itself in a legacy encoding
    d = CASES / "study-yaml-gbk"
    d.mkdir(parents=True, exist_ok=True)
    (d / "study.yaml").write_bytes(study_yaml("study.yaml saved as GBK").replace(
        "id: corpus", "id: corpus\ntitle: 留守儿童研究").encode("gbk"))
    written.append("study-yaml-gbk")
    d = CASES / "study-yaml-utf16"
    d.mkdir(parents=True, exist_ok=True)
    (d / "study.yaml").write_bytes(codecs.BOM_UTF16_LE + study_yaml("study.yaml saved as UTF-16")
                                   .encode("utf-16-le"))
    written.append("study-yaml-utf16")
    # --- line endings: \r\n, \n and \r mixed; the out-of-range 9 is on spreadsheet row 5
    lines = [",".join(r) for r in [HEAD, *OK_ROWS[:3]]]
    bad = ["S103", "王五", "endline", "treatment", "s2", "1", "2", "9", "4", "1", "2", "3", "4", "1", "2"]
    raw = (lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n"
           + ",".join(bad) + "\n")
    case("mixed-line-endings", "CRLF, LF and CR line endings in one file; row numbers stay right",
         {"data/w.csv": raw.encode("utf-8")})
    # --- binary content
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
           b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
           b"\x00\x00\x00\x00IEND\xaeB`\x82")
    case("binary-named-csv", "a PNG image named .csv", {"data/w.csv": png})
    xlsx_ok = _xlsx([HEAD, *OK_ROWS])
    case("xlsx-named-csv", "an .xlsx workbook renamed to .csv", {"data/w.csv": xlsx_ok})
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    case("old-xls", "an old binary Excel .xls workbook", {"data/w.xls": ole},
         data="data: [{path: data/w.xls}]")
    # --- XLSX
    two_row = [["sid", "基本信息", None, "school", "自尊量表", *[None] * 9],
               [None, "wave", "arm", None, *ITEMS],
               ["S101", "baseline", "control", "s1", *map(int, A)]]
    case("merged-header-xlsx", "an Excel sheet with a two-row merged header",
         {"data/w.xlsx": _xlsx(two_row, merges=["B1:C1", "E1:N1", "A1:A2", "D1:D2"])},
         data="data: [{path: data/w.xlsx}]")
    case("empty-xlsx", "a 0-byte .xlsx", {"data/w.xlsx": b""}, data="data: [{path: data/w.xlsx}]")
    case("corrupt-xlsx", "an .xlsx cut off half-way (a broken download)",
         {"data/w.xlsx": xlsx_ok[: len(xlsx_ok) // 2]}, data="data: [{path: data/w.xlsx}]")
    case("xlsx-sheet-case", "sheet: names 'sheet1' but the workbook has 'Sheet1'",
         {"data/w.xlsx": xlsx_ok}, data="data: [{path: data/w.xlsx, sheet: sheet1}]")
    xrows = [list(r) for r in OK_ROWS]
    xrows[2][7] = "three"  # rses_3 of spreadsheet row 4
    case("xlsx-text-in-numeric", "an .xlsx with text in a numeric item (row 4, column H)",
         {"data/w.xlsx": _xlsx([HEAD, *xrows])}, data="data: [{path: data/w.xlsx}]")
    wide = [list(r) for r in OK_ROWS]
    wide[1] = wide[1] + [None, "late answer"]  # Q3: data right of the last named column
    case("xlsx-data-right-of-header", "an .xlsx with data in a column that has no header cell",
         {"data/w.xlsx": _xlsx([HEAD, *wide])}, data="data: [{path: data/w.xlsx}]")
    members = {}
    with zipfile.ZipFile(io.BytesIO(xlsx_ok)) as zf:
        for n in zf.namelist():
            if n != "xl/worksheets/sheet1.xml":
                members[n] = zf.read(n)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, payload in members.items():
            zf.writestr(zipfile.ZipInfo(n, date_time=(2024, 6, 9, 0, 0, 0)), payload)
    case("xlsx-sheet-part-missing", "an .xlsx whose only worksheet part is missing from the zip",
         {"data/w.xlsx": buf.getvalue()}, data="data: [{path: data/w.xlsx}]")
    # --- an XLSForm instrument that is 0 bytes
    case("xlsform-empty", "an XLSForm instrument file of 0 bytes",
         {"instruments/form.xlsx": b"", "data/w.csv": utf8.encode("utf-8")},
         instruments="instruments: [{path: instruments/form.xlsx}]",
         outcomes="outcomes: [{id: comm, scale: form.total}]")
    # --- issue 10: ids that link only loosely, ids Excel turned into dates
    zw = [list(r) for r in OK_ROWS]
    zw[2][0], zw[3][0] = "S101\u200b", "S102\u200b"  # zero-width space after the endline ids
    case("ids-zero-width", "a zero-width space after every endline id: linked, with a warning",
         {"data/w.csv": csv_text(zw).encode("utf-8")})
    import datetime as dt

    dated = [list(r) for r in OK_ROWS]
    for r, k in zip(dated, (12, 13, 12, 13)):
        r[0] = f"1-{k}"
    xrows = [[*r[:5], *map(int, r[5:])] for r in dated]
    xrows[2][0], xrows[3][0] = dt.datetime(2024, 1, 12), dt.datetime(2024, 1, 13)
    case("ids-excel-dates", "ids such as 1-12 that Excel turned into date cells (rows 4 and 5)",
         {"data/w.xlsx": _xlsx([HEAD, *xrows])}, data="data: [{path: data/w.xlsx}]")
    # --- issue 10: SPSS value labels against the instrument (rses: 1 = 非常不同意 ... 4 = 非常同意)
    zh = {1: "非常不同意", 2: "不同意", 3: "同意", 4: "非常同意"}
    case("sav-labels-reversed", "a .sav whose value labels say 1 = 非常同意 where rses says 4",
         {"data/w.sav": _sav(OK_ROWS, {float(5 - k): v for k, v in zh.items()})},
         data="data: [{path: data/w.sav}]")
    zero = [[*r[:5], *(str(int(x) - 1) for x in r[5:])] for r in OK_ROWS]
    case("sav-labels-zero-based", "a .sav with 0-based codes 0-3 that carry the labels of rses' 1-4",
         {"data/w.sav": _sav(zero, {float(k - 1): v for k, v in zh.items()})},
         data="data: [{path: data/w.sav}]")
    # --- issue 10: made by others today (encoding, xlsx pitfalls)
    gbk_rows = csv_text(OK_ROWS[:2]).encode("gbk")
    utf8_rows = "".join(",".join(r) + "\n" for r in OK_ROWS[2:]).encode("utf-8")
    case("mixed-encoding", "GBK rows, then UTF-8 rows pasted from another export (one file)",
         {"data/w.csv": gbk_rows + utf8_rows})
    formula = [[*r[:5], *map(int, r[5:])] for r in OK_ROWS]
    formula[1][6] = "=1+0"  # openpyxl saves formulas without a computed value
    formula[3][7] = "=SUM(F5:G5)"
    case("xlsx-formula-no-value", "formula cells without saved values (a script-written .xlsx)",
         {"data/w.xlsx": _xlsx([HEAD, *formula])}, data="data: [{path: data/w.xlsx}]")
    body = [[*r[:5], *map(int, r[5:])] for r in OK_ROWS]
    body[2][4] = None
    case("xlsx-merged-body", "a merged range in the body (school E3:E4): E4 would read as empty",
         {"data/w.xlsx": _xlsx([HEAD, *body], merges=["E3:E4"])}, data="data: [{path: data/w.xlsx}]")
    case("xlsx-hidden-sheet", "a hidden first sheet with stale test data; the visible sheet is read",
         {"data/w.xlsx": _xlsx_hidden_first([HEAD, ["T1", "测试", "baseline", "control", "s1",
                                                   *[9] * 10]], [HEAD, *xlsx_rows(OK_ROWS)])},
         data="data: [{path: data/w.xlsx}]")
    # --- made at test time (see RUNTIME): only the study file is committed
    case("big-cell", "a 5 MB single cell in an item column (data/w.csv is made at test time)", {})
    case("study-too-large", "a study.yaml over 5 MB (made at test time)", {})
    case("xlsx-zip-bomb", "an .xlsx of 2 MB whose sheet expands to 520 MiB of XML (made at test "
         "time)", {}, data="data: [{path: data/w.xlsx}]")
    case("symlink-loop", "data/w.csv is a symbolic link to itself (made at test time)", {})
    return written


def xlsx_rows(rows):
    return [[*r[:5], *map(int, r[5:])] for r in rows]


def _xlsx_hidden_first(hidden_rows, visible_rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "test"
    for r in hidden_rows:
        ws.append(r)
    ws.sheet_state = "hidden"
    ws2 = wb.create_sheet("data")
    for r in visible_rows:
        ws2.append(r)
    wb.active = 1
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2024, 6, 9)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sav(rows, labels) -> bytes:
    """A .sav of ``rows`` (HEAD columns; items as numbers) with ``labels`` on every item."""
    import tempfile

    import pandas as pd
    import pyreadstat

    df = pd.DataFrame([r[:5] for r in rows], columns=HEAD[:5])
    for j, item in enumerate(ITEMS):
        df[item] = [float(r[5 + j]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.sav"
        pyreadstat.write_sav(df, str(path), variable_value_labels={i: labels for i in ITEMS})
        return path.read_bytes()


# ----------------------------------------------------------------------------- test time

def _big_cell(folder: Path, outside: Path) -> None:
    cell = "非常同意" * (5 * 1024 * 1024 // 12 + 1)  # > 5 MB of UTF-8 in one item cell
    rows = [list(r) for r in OK_ROWS]
    rows[1][6] = '"' + cell + '"'
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "w.csv").write_bytes(csv_text(rows).encode("utf-8"))


def _study_too_large(folder: Path, outside: Path) -> None:
    text = study_yaml("a study.yaml over 5 MB") + "notes: |\n" + ("  " + "x" * 98 + "\n") * 52_000
    (folder / "study.yaml").write_bytes(text.encode("utf-8"))


def _symlink_out(folder: Path, outside: Path) -> None:
    target = outside / "secret.csv"
    target.write_bytes(csv_text(OK_ROWS).encode("utf-8"))
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "w.csv").symlink_to(target)


def _symlinked_folder_out(folder: Path, outside: Path) -> None:
    (outside / "w.csv").write_bytes(csv_text(OK_ROWS).encode("utf-8"))
    (folder / "linked").symlink_to(outside, target_is_directory=True)


def _zip_bomb(folder: Path, outside: Path) -> None:
    """An .xlsx of about 2 MB whose sheet part expands to 520 MiB (> the 512 MiB guard)."""
    (folder / "data").mkdir(exist_ok=True)
    with zipfile.ZipFile(folder / "data" / "w.xlsx", "w", zipfile.ZIP_DEFLATED,
                         compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(520):
                fh.write(chunk)


def _symlink_loop(folder: Path, outside: Path) -> None:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "w.csv").symlink_to("w.csv")


#: ``setup`` name in manifest.yaml -> function(case_copy, outside_folder)
RUNTIME = {"big_cell": _big_cell, "study_too_large": _study_too_large,
           "symlink_out": _symlink_out, "symlinked_folder_out": _symlinked_folder_out,
           "zip_bomb": _zip_bomb, "symlink_loop": _symlink_loop}


if __name__ == "__main__":
    names = build()
    print(f"wrote {len(names)} generated cases into {CASES}", file=sys.stderr)

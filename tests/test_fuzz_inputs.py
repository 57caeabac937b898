"""Fuzzing the readers and loaders: arbitrary input never ends in anything but a WorkbenchError.

Targets: the data reader (:func:`survey.readers.read_table`, CSV/TSV/XLSX, arbitrary
bytes, mutated real files, any declared encoding), ingestion and validation of
arbitrary cell values, and the study and instrument loaders (arbitrary YAML text,
and valid documents mutated by hypothesis: values replaced by random YAML values,
keys removed, renamed or added). A documented error (a
:class:`core.errors.WorkbenchError` with a stable code) is fine; any other
exception is a crash that the user would see as a traceback.

Example counts are modest by default (about 100 per test); set
``WORKBENCH_FUZZ_EXAMPLES=2000`` for a longer run.
"""

from __future__ import annotations

import copy
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import DataError, ErrorList, WorkbenchError
from survey.instrument_loader import load_instrument
from survey.readers import read_table
from survey.study_loader import load_study
from survey.validation import validate

EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "100"))
# derandomized or not as the profile of tests/conftest.py says (deterministic in CI)
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
#: for the slower targets (each example loads a study and validates its data)
FUZZ_SLOW = settings(FUZZ, max_examples=max(10, EXAMPLES * 2 // 5))
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")

ITEMS = [f"rses_{i}" for i in range(1, 11)]
HEAD = ["sid", "name", "wave", "arm", "school", *ITEMS]
ROWS = [["S101", "张三", "baseline", "control", "s1", *"1234123412"],
        ["S102", "李四", "baseline", "treatment", "s2", *"4143214213"],
        ["S101", "张三", "endline", "control", "s1", *"4143214213"],
        ["S102", "李四", "endline", "treatment", "s2", *"1234123412"]]
CSV = ("\n".join(",".join(r) for r in [HEAD, *ROWS]) + "\n").encode("utf-8")

STUDY = {
    "id": "fuzz",
    "title": {"en": "Fuzz", "zh": "模糊测试"},
    "language": "zh",
    "design": {"type": "cluster_randomized", "id": "sid", "waves": ["baseline", "endline"],
               "arm": "arm", "control": "control", "clusters": ["school"],
               "covariates": ["age"], "subgroups": ["gender"]},
    "instruments": [{"id": "rses"}, {"path": "instruments/mine.yaml", "items": {"q1": "Q1"}}],
    "data": [{"path": "data/w.csv", "encoding": "utf-8"}],
    "missing_codes": [-9, 99],
    "privacy": {"pii": ["name"], "min_cell": 5},
    "outcomes": [{"id": "self_esteem", "scale": "rses.total", "better": "higher", "primary": True},
                 {"id": "comm", "scale": "mine.total"}, {"id": "math", "column": "math"}],
    "claims": [{"id": "c82", "text": "82% improved", "outcome": "comm", "proportion": 0.82,
                "n": 61, "improved": "reliable_change"}],
    "analysis": {"alpha": 0.05, "adjust": "holm", "seed": 1},
}
INSTRUMENT = {
    "id": "mine",
    "name": {"en": "Mine", "zh": "我的"},
    "version": "1",
    "construct": "communication",
    "citation": "none",
    "license": {"kind": "original", "terms": "written for the tests"},
    "response": {"min": 1, "max": 5, "labels": {1: {"en": "Never", "zh": "从不"},
                                                5: {"en": "Always", "zh": "总是"}}},
    "items": [{"id": "q1", "text": {"en": "One", "zh": "一"}}, {"id": "q2", "reverse": True},
              {"id": "q3"}],
    "scales": [{"id": "open", "name": {"en": "Open", "zh": "开放"}, "items": ["q1", "q2"],
                "score": "mean", "min_items": 1, "better": "higher"},
               {"id": "rest", "name": {"en": "Rest", "zh": "其余"}, "items": ["q3"]},
               {"id": "total", "name": {"en": "Total", "zh": "总分"},
                "subscales": ["open", "rest"], "score": "sum"}],
}
DATA = ("sid,name,wave,arm,school,age,gender,math,Q1,q2,q3," + ",".join(ITEMS) + "\n"
        + "\n".join(f"S{k},n{k},{w},{a},s{k % 3},{10 + k},{'girl' if k % 2 else 'boy'},{50 + k},"
                    f"{1 + k % 5},{1 + (k + 1) % 5},{1 + (k + 2) % 5},"
                    + ",".join(str(1 + (k + j) % 4) for j in range(10))
                    for k in range(6) for w in ("baseline", "endline")
                    for a in [("control" if k % 2 else "treatment")]) + "\n")


def documented(err: WorkbenchError) -> None:
    """A documented error: a stable code (and, in a list, every member has one)."""
    errors = err.errors if isinstance(err, ErrorList) else [err]
    assert errors
    for e in errors:
        assert CODE.match(e.code), e.code
        assert str(e).startswith(f"[{e.code}]")


# ----------------------------------------------------------------------------- YAML values

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", " ", "rses", "rses.total", "total", "../x.csv", "/etc/passwd",
                     "data/w.csv", "baseline", "control", "yes", "no", "~", "NaN", "1e999",
                     "q1", "mine.total", "mine.open", "utf-16", "gbk", "C:\\x", "a\x00b",
                     # column names of the data: a design role, an item, a covariate
                     "sid", "wave", "arm", "school", "age", "gender", "math", "Q1", "q2",
                     "rses_1", "name"]))
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 9),
                                                      st.booleans()), inner, max_size=4)),
    max_leaves=12)


def _paths(doc, prefix=()):
    """Every key path of a nested dict/list document (the root included)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def mutated(draw, base: dict):
    """``base`` with 1-4 mutations: replace a value, delete, rename or add a key."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
        if not path:
            if kind == "replace":
                return draw(yaml_values)
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if kind == "replace":
            parent[key] = draw(yaml_values)
        elif kind == "delete":
            del parent[key]
        elif kind == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.text(max_size=10), st.sampled_from(
                [str(key) + "s", str(key)[:-1], str(key).upper(), " " + str(key)])))
            parent[new] = parent.pop(key)
        elif kind == "add":
            target = _get(doc, path)
            if isinstance(target, dict):
                target[draw(st.text(max_size=8))] = draw(yaml_values)
            elif isinstance(target, list):
                target.append(draw(yaml_values))
    return doc


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _study_folder(tmp: Path, study_text: str | bytes, instrument_text: str | None = None) -> Path:
    (tmp / "data").mkdir(exist_ok=True)
    (tmp / "instruments").mkdir(exist_ok=True)
    (tmp / "data" / "w.csv").write_text(DATA, encoding="utf-8")
    (tmp / "instruments" / "mine.yaml").write_text(instrument_text or _dump(INSTRUMENT),
                                                   encoding="utf-8")
    raw = study_text.encode("utf-8") if isinstance(study_text, str) else study_text
    (tmp / "study.yaml").write_bytes(raw)
    return tmp


def _load_and_validate(folder: Path) -> None:
    """load_study, then (when it loads) validate: only WorkbenchErrors may escape."""
    try:
        study = load_study(folder)
    except WorkbenchError as err:
        documented(err)
        return
    res = validate(study)
    for issue in res.issues:
        assert CODE.match(issue.code), issue.code


def test_the_base_documents_are_valid(tmp_path):
    """The mutations start from documents that load and validate cleanly."""
    study = load_study(_study_folder(tmp_path, _dump(STUDY)))
    assert [u.id for u in study.instruments] == ["rses", "mine"]
    res = validate(study)
    assert res.ok, [str(i) for i in res.issues]


# ----------------------------------------------------------------------------- study loader

@FUZZ
@given(doc=mutated(STUDY))
def test_fuzz_study_mutations(doc):
    with tempfile.TemporaryDirectory() as tmp:
        _load_and_validate(_study_folder(Path(tmp), _dump(doc)))


@FUZZ
@given(text=st.one_of(st.text(max_size=200),
                      st.builds(lambda a, b, c: a[:b] + c + a[b:], st.just(_dump(STUDY)),
                                st.integers(0, len(_dump(STUDY))),
                                st.text(alphabet=":-[]{}&*!|>'\"#%@` \n\t,?", max_size=6))))
def test_fuzz_study_yaml_text(text):
    with tempfile.TemporaryDirectory() as tmp:
        _load_and_validate(_study_folder(Path(tmp), text))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_fuzz_study_bytes(raw):
    with tempfile.TemporaryDirectory() as tmp:
        _load_and_validate(_study_folder(Path(tmp), raw))


# ----------------------------------------------------------------------------- instrument loader

@FUZZ
@given(doc=mutated(INSTRUMENT))
def test_fuzz_instrument_mutations(doc):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "mine.yaml"
        p.write_text(_dump(doc), encoding="utf-8")
        try:
            inst = load_instrument(p)
        except WorkbenchError as err:
            documented(err)
            return
        assert inst.response.min < inst.response.max
        for sc in inst.scales:
            assert set(sc.items) <= set(inst.item_ids)
            assert 1 <= sc.min_items <= max(len(sc.items), 1)


@FUZZ_SLOW
@given(doc=mutated(INSTRUMENT))
def test_fuzz_instrument_in_a_study(doc):
    """A mutated instrument used by a study: loading and validating it stays documented."""
    with tempfile.TemporaryDirectory() as tmp:
        _load_and_validate(_study_folder(Path(tmp), _dump(STUDY), _dump(doc)))


# ----------------------------------------------------------------------------- data reader

def _read(raw: bytes, suffix: str, encoding=None, sheet=None):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"f{suffix}"
        p.write_bytes(raw)
        try:
            t = read_table(p, encoding=encoding, sheet=sheet)
        except DataError as err:
            documented(err)
            assert err.code.startswith("FILE_"), err.code
            return None
        assert len(t.frame) == len(t.row_numbers) > 0
        assert list(t.row_numbers) == sorted(set(t.row_numbers)) and t.row_numbers[0] >= 2
        return t


ENCODINGS = st.sampled_from([None, "utf-8", "gbk", "gb18030", "utf-16", "utf-16-le", "big5",
                             "latin-1", "shift_jis", "ascii", "utf-8-sig", "no-such-codec", " UTF8 "])


def _mutate_bytes(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for pos, op, byte in edits:
        if not buf:
            break
        pos %= len(buf)
        if op == 0:
            buf[pos] = byte
        elif op == 1:
            buf.insert(pos, byte)
        else:
            del buf[pos]
    return bytes(buf)


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 2), st.integers(0, 255)),
                 min_size=1, max_size=8)


@FUZZ
@given(raw=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".txt", ".xlsx"]),
       encoding=ENCODINGS)
def test_fuzz_reader_arbitrary_bytes(raw, suffix, encoding):
    _read(raw, suffix, encoding)


@FUZZ
@given(ed=edits, encoding=ENCODINGS,
       base=st.sampled_from([CSV, CSV.decode().encode("gbk"), b"\xef\xbb\xbf" + CSV,
                             b"\xff\xfe" + CSV.decode().replace(",", "\t").encode("utf-16-le"),
                             CSV.replace(b"\n", b"\r\n"), CSV.replace(b",", b";")]))
def test_fuzz_reader_mutated_csv(ed, encoding, base):
    _read(_mutate_bytes(base, ed), ".csv", encoding)


@FUZZ
@given(cells=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=6), min_size=1,
                      max_size=6),
       sep=st.sampled_from([",", ";", "\t"]), eol=st.sampled_from(["\n", "\r\n", "\r"]),
       quote=st.booleans())
def test_fuzz_reader_csv_shapes(cells, sep, eol, quote):
    """Ragged rows, quotes, odd separators and line endings: a table or a FILE_ error."""
    def q(c):
        return '"' + c.replace('"', '""') + '"' if quote else c
    text = eol.join(sep.join(q(c) for c in row) for row in cells) + eol
    _read(text.encode("utf-8"), ".csv")


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in [HEAD, *ROWS]:
        ws.append(r)
    ws.merge_cells("A6:B6")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = _xlsx_bytes()


def _zip_members(raw: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


XLSX_MEMBERS = _zip_members(XLSX)


@FUZZ
@given(ed=edits, sheet=st.sampled_from([None, 0, 3, -1, "Sheet", "sheet", "Sheet1", ""]))
def test_fuzz_reader_mutated_xlsx_bytes(ed, sheet):
    """Byte edits of a real workbook (mostly in compressed data: CRC and inflate errors)."""
    _read(_mutate_bytes(XLSX, ed), ".xlsx", sheet=sheet)


@FUZZ
@given(member=st.sampled_from(sorted(XLSX_MEMBERS)), ed=edits, drop=st.booleans(),
       data=st.data())
def test_fuzz_reader_mutated_xlsx_xml(member, ed, drop, data):
    """A workbook whose XML parts are edited or missing, re-zipped with valid checksums."""
    members = dict(XLSX_MEMBERS)
    if drop:
        members.pop(member)
    else:
        text = members[member]
        if data.draw(st.booleans()):
            # swap a tag or attribute value for another plausible one
            new = data.draw(st.sampled_from([b'ref="A1:Z99999"', b'ref="A1"', b'r="ZZZZ1"',
                                             b't="s"', b't="e"', b't="d"', b"<v>99999</v>",
                                             b"<v>-1</v>", b"<v>x</v>", b'<mergeCell ref="B1:C2"/>',
                                             b"", b"<", b"&bogus;"]))
            pos = data.draw(st.integers(0, len(text)))
            text = text[:pos] + new + text[pos:]
        else:
            text = _mutate_bytes(text, ed)
        members[member] = text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    _read(buf.getvalue(), ".xlsx")


# ----------------------------------------------------------------------------- ingest + validate

cell = st.one_of(st.text(max_size=6), st.sampled_from(["", " ", "-9", "99", "1", "4", "2.5",
                                                       "1e3", "nan", "inf", "-0", "非常同意",
                                                       "STRONGLY agree", "baseline",
                                                       "Endline", "control", "Control ",
                                                       "=1+1", "NA"]))


@FUZZ_SLOW
@given(rows=st.lists(st.lists(cell, min_size=15, max_size=15), min_size=1, max_size=6),
       missing=st.lists(st.one_of(st.integers(-99, 99), st.sampled_from(["NA", "-9", " ", ""])),
                        max_size=3))
def test_fuzz_validate_arbitrary_cells(rows, missing):
    """Any text in any column of a valid study: validate reports, it does not crash."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD)
    w.writerows(rows)
    doc = {"id": "cells", "design": {"type": "cluster_randomized", "id": "sid",
                                     "waves": ["baseline", "endline"], "arm": "arm",
                                     "control": "control", "clusters": ["school"]},
           "instruments": [{"id": "rses"}], "data": [{"path": "data/w.csv"}],
           "missing_codes": missing, "privacy": {"pii": ["name"]},
           "outcomes": [{"id": "se", "scale": "rses.total"}]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "data" / "w.csv").write_text(buf.getvalue(), encoding="utf-8")
        (root / "study.yaml").write_text(_dump(doc), encoding="utf-8")
        study = load_study(root)
        res = validate(study)
        for issue in res.issues:
            assert CODE.match(issue.code)
            if issue.row is not None:
                assert issue.row >= 1
        assume(not res.fatal)
        assert len(res.data) + len(res.quarantine) == res.rows_read

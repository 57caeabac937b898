"""The bad-input corpus (tests/corpus/), run through the real command line.

Each case of ``tests/corpus/manifest.yaml`` is copied to a temporary folder and run
with ``workbench.cli.main`` in-process (a few also as a subprocess). For every case:
the exit code is the documented one, the stable error code is reported with the
file, row and column (report.json for ``validate``/``run``, the printed message for
contract errors), the message fragments are printed, no traceback is printed, no
raw id named in ``absent`` is printed or written, and the case folder is unchanged
afterwards: every file keeps its SHA-256 and only the privacy key and its
``.gitignore`` may appear.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workbench.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "corpus"
sys.path.insert(0, str(CORPUS))
import make_corpus  # noqa: E402

MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["cases"]
CASES = {c["id"]: c for c in MANIFEST}
#: files the privacy module may create in a study folder (and nothing else may appear)
MAY_APPEAR = {".workbench-key", ".gitignore"}
COMMANDS = {
    "validate": ["validate", "{case}", "--out", "{out}"],
    "score": ["score", "{case}", "--out", "{out}"],
    "run": ["run", "{case}", "--out", "{out}", "--no-progress", "--only", "00_data_quality"],
}
#: cases also run in a separate process, to prove what the user's terminal shows
SUBPROCESS = ["gbk-declared-utf8", "path-dotdot", "study-yaml-python-tag"]


def _snapshot(folder: Path) -> dict:
    """{relative path: sha256 of the bytes, or 'link -> target' for a symlink (not followed)}."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            p = Path(dirpath) / name
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                out[rel] = f"link -> {os.readlink(p)}"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _prepare(case: dict, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    src = CORPUS / "cases" / case.get("folder", case["id"])
    folder = tmp_path / "case"
    shutil.copytree(src, folder, symlinks=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    if case.get("setup"):
        make_corpus.RUNTIME[case["setup"]](folder, outside)
    out = tmp_path / "out"
    template = case.get("argv") or COMMANDS[case.get("command", "validate")]
    argv = [a.replace("{case}", str(folder)).replace("{out}", str(out)) for a in template]
    return folder, out, argv


def _report(case: dict, out: Path) -> dict | None:
    command = case.get("argv", [case.get("command", "validate")])[0]
    path = {"validate": out / "report.json", "run": out / "validation" / "report.json"}.get(command)
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _matches_issue(issue: dict, want: dict) -> bool:
    return all(issue.get(k) == want[k] for k in ("code", "file", "row", "column") if k in want)


def _matches_line(line: str, want: dict) -> bool:
    if f"[{want['code']}]" not in line:
        return False
    if "file" in want and want["file"] not in line:
        return False
    if "row" in want and f"row {want['row']}" not in line:
        return False
    if "column" in want and want["column"] not in line:
        return False
    return "line" not in want or f"(line {want['line']})" in line


def check_case(case: dict, rc: int, text: str, folder: Path, out: Path, before: dict) -> None:
    """Every assertion the manifest makes about one run of a case."""
    cid = case["id"]
    assert "Traceback" not in text, f"{cid}: a traceback reached the user:\n{text}"
    assert rc == case["exit"], f"{cid}: exit {rc}, expected {case['exit']}\n{text}"
    report = _report(case, out)
    for want in case.get("errors", []):
        if report is not None:
            found = [i for i in report["issues"] if _matches_issue(i, want)]
            assert found, f"{cid}: no issue {want} in report.json: {report['issues']}"
            if not case.get("known_gap"):
                assert want["code"] in text, f"{cid}: {want['code']} not printed:\n{text}"
        else:
            lines = text.splitlines()
            assert any(_matches_line(ln, want) for ln in lines), \
                f"{cid}: no printed error matching {want}:\n{text}"
    if "only_codes" in case:
        assert report is not None
        assert {i["code"] for i in report["issues"]} == set(case["only_codes"]), report["issues"]
    if case["exit"] == 0:
        assert report is not None and report["ok"], f"{cid}: {text}"
        assert [i for i in report["issues"] if i["severity"] == "error"] == []
        assert report["counts"]["rows_quarantined"] == 0
        if "encoding" in case:
            assert [s["encoding"] for s in report["sources"]] == [case["encoding"]]
    elif not case.get("known_gap"):
        # a failing command says so in one readable place: stderr "error: [CODE] ..."
        # (contract), or a summary with the codes (data)
        assert re.search(r"\[[A-Z][A-Z0-9_]+\]|error [A-Z][A-Z_]+", text), text
    for fragment in case.get("fragments", []):
        assert fragment in text, f"{cid}: {fragment!r} not in the output:\n{text}"
    for secret in case.get("absent", []):
        # whole tokens: a pseudonym (p_ + 16 hex characters of a key made anew in each run)
        # can hold "0101" by chance
        token = re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")
        token_b = re.compile(token.pattern.encode())
        assert not token.search(text), f"{cid}: raw value {secret!r} printed"
        for p in out.rglob("*") if out.exists() else []:
            if p.is_file():
                assert not token_b.search(p.read_bytes()), f"{cid}: {secret!r} written to {p}"
    if "max_output" in case:
        assert len(text) < case["max_output"], f"{cid}: {len(text)} characters printed"
    for name in case.get("not_created", []):
        assert not (folder / name).exists() and not Path(name).exists()
    after = _snapshot(folder)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, f"{cid}: raw files changed or removed: {sorted(changed)}"
    assert set(after) - set(before) <= MAY_APPEAR, \
        f"{cid}: files appeared in the study folder: {sorted(set(after) - set(before))}"


def _param(cid: str):
    """A case; one whose fix waits for a file outside tests/ and the corpus modules
    (manifest ``blocked_by``) is a strict xfail, so that the fix is noticed."""
    why = CASES[cid].get("blocked_by")
    return pytest.param(cid, marks=pytest.mark.xfail(strict=True, reason=why)) if why else cid


@pytest.mark.parametrize("cid", [_param(c) for c in CASES])
def test_case(cid, tmp_path, capsys, monkeypatch):
    case = CASES[cid]
    folder, out, argv = _prepare(case, tmp_path)
    monkeypatch.chdir(tmp_path)  # a YAML payload that wrote files would write them here
    before = _snapshot(folder)
    rc = cli(argv)
    cap = capsys.readouterr()
    text = (cap.out + cap.err).replace(str(tmp_path), "TMP")
    check_case(case, rc, text, folder, out, before)


@pytest.mark.parametrize("cid", SUBPROCESS)
def test_case_in_a_subprocess(cid, tmp_path):
    case = CASES[cid]
    folder, out, argv = _prepare(case, tmp_path)
    before = _snapshot(folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "workbench", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    text = (proc.stdout + proc.stderr).replace(str(tmp_path), "TMP")
    check_case(case, proc.returncode, text, folder, out, before)


@pytest.mark.xfail(strict=True, reason="known gaps (manifest `known_gap`), fixed outside tests/")
@pytest.mark.parametrize("cid", [c["id"] for c in MANIFEST if c.get("known_gap")])
def test_known_gap_codes_are_printed(cid, tmp_path, capsys):
    """Strict xfail: passes (and so fails here) once the gap is fixed; then drop `known_gap`."""
    case = CASES[cid]
    folder, out, argv = _prepare(case, tmp_path)
    cli(argv)
    cap = capsys.readouterr()
    for want in case["errors"]:
        assert want["code"] in cap.out + cap.err


def test_corpus_size_and_layout():
    folders = {c.get("folder", c["id"]) for c in MANIFEST}
    on_disk = {p.name for p in (CORPUS / "cases").iterdir() if p.is_dir()}
    assert len(folders) >= 30 and len(MANIFEST) >= 30
    assert folders <= on_disk, sorted(folders - on_disk)
    assert on_disk <= folders, f"cases without a manifest entry: {sorted(on_disk - folders)}"
    assert len(CASES) == len(MANIFEST), "duplicate case ids"
    for c in MANIFEST:
        assert c["exit"] in (0, 1, 2)
        assert c["exit"] == 0 or c.get("errors"), c["id"]
        assert c.get("setup") is None or c["setup"] in make_corpus.RUNTIME


def test_every_code_in_the_corpus_is_documented():
    doc = (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8")
    codes = {e["code"] for c in MANIFEST for e in c.get("errors", [])}
    undocumented = sorted(c for c in codes if f"`{c}`" not in doc
                          and f"`{c.replace('STUDY_', '*_', 1)}`" not in doc
                          and f"`{c.replace('INSTRUMENT_', '*_', 1)}`" not in doc)
    assert not undocumented, undocumented


def test_required_kinds_of_input_are_covered():
    codes = {e["code"] for c in MANIFEST for e in c.get("errors", [])}
    for code in ("FILE_ENCODING", "FILE_MERGED_HEADER", "FILE_UNREADABLE", "FILE_HEADER_ONLY",
                 "VALUE_NOT_NUMERIC", "VALUE_OUT_OF_RANGE", "DUPLICATE_ID", "ASSIGNMENT_CHANGED",
                 "COLUMN_MISSING", "WAVE_UNDECLARED", "ARM_UNDECLARED", "STUDY_UNKNOWN_KEY",
                 "STUDY_WRONG_TYPE", "INSTRUMENT_UNKNOWN_ITEM", "INSTRUMENT_ITEM_IN_TWO_SCALES",
                 "STUDY_UNKNOWN_SCALE", "STUDY_PATH_OUTSIDE"):
        assert code in codes, code
    accepted = {c["id"] for c in MANIFEST if c["exit"] == 0}
    assert {"utf16-excel", "utf8-bom", "declared-missing-codes", "gbk-detected"} <= accepted

"""Privacy canaries in the program data (issue 14): guardian names, parents' phone numbers,
mentor names and raw child, mentor and guardian ids planted in archive and log files (UTF-8,
GBK and XLSX) never reach a byte the run writes; the run's scanner finds them when they are
planted in an output on purpose.

No kernel: the run's data are read and written by the pipeline's validation step
(:func:`workbench.pipeline._validate`: survey data, archives and logs) and the study snapshot.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hardening_study import find_leaks
from openpyxl import Workbook

from survey import load_study
from survey.scanner import scan_folder
from survey.snapshot import SNAPSHOT_NAME, write_snapshot

CHILD = ["KID7301942", "KID7301943", "KID7301944"]
OUTSIDER = "KID9900017"                       # in the log and the mentor table, not the study
MENTOR = ["MTR-5520917", "MTR-5520918"]
GUARDIAN = ["GDN-6610233", "GDN-6610234"]
GUARDIAN_NAMES = ["欧阳翠花甲", "上官德福乙", "诸葛秀英丙"]
PARENT_PHONES = ["13987650011", "15876540022", "18765430033"]
MENTOR_NAMES = ["司马老师丁", "东方老师戊"]
FREE_TEXT = "奶奶欧阳翠花甲说孩子最近不开心"   # an undeclared free-text column (备注)

STUDY = """\
id: canary-program
design: {type: randomized, id: sid, arm: arm, control: control, arms: [control, treatment]}
data: [{path: data/survey.csv}]
outcomes: [{id: x, column: x}]
privacy: {pii: [监护人姓名, 家长电话, 导师姓名, 姓名]}
archives:
  roster: {path: data/roster.csv}
  guardians: {path: data/guardians.csv, encoding: gbk}
  parents: {path: data/parents.csv}
  mentors: {path: data/mentors.xlsx}
contacts:
  - {path: data/log_gbk.csv}
  - {path: data/log.xlsx}
protocol:
  start: 2024-03-01
  end: 2025-01-15
  activities: {home_visit: {per: month}}
"""


def _plant(root: Path) -> None:
    d = root / "data"
    d.mkdir(parents=True)
    (root / "study.yaml").write_text(STUDY, encoding="utf-8")
    (d / "survey.csv").write_text("sid,x\n" + "".join(f"{c},{k}\n" for k, c in enumerate(CHILD)),
                                  encoding="utf-8")
    (d / "roster.csv").write_text("sid,arm,姓名\n" + "".join(
        f"{c},{'treatment' if k != 1 else 'control'},{GUARDIAN_NAMES[k]}\n" for k, c in enumerate(CHILD)),
        encoding="utf-8")
    rows = [f"{CHILD[0]},{GUARDIAN[0]},grandmother,2023-01-01,,{GUARDIAN_NAMES[0]},{FREE_TEXT}",
            f"{CHILD[1]},{GUARDIAN[1]},grandfather,2023/1/1,,{GUARDIAN_NAMES[1]},",
            f"{CHILD[1]},{GUARDIAN[0]},aunt,2023年6月1日,,{GUARDIAN_NAMES[2]},",  # two current: quarantined
            f"{OUTSIDER},{GUARDIAN[1]},uncle,2023-01-01,,{GUARDIAN_NAMES[2]},"]  # outside the study
    (d / "guardians.csv").write_bytes(
        ("sid,guardian_id,relation,from,to,监护人姓名,备注\n" + "\n".join(rows) + "\n").encode("gbk"))
    (d / "parents.csv").write_text("sid,parent,migrant,家长电话\n" + "".join(
        f"{c},{'父亲' if k else 'uncle'},1,{PARENT_PHONES[k]}\n" for k, c in enumerate(CHILD)), encoding="utf-8")
    wb = Workbook()
    ws = wb.active
    ws.append(["mentor_id", "sid", "from", "to", "导师姓名"])
    ws.append([MENTOR[0], CHILD[0], dt.date(2024, 3, 1), None, MENTOR_NAMES[0]])
    ws.append([MENTOR[1], CHILD[1], dt.date(2024, 3, 1), dt.date(2024, 6, 30), MENTOR_NAMES[1]])
    ws.append([MENTOR[0], CHILD[1], dt.date(2024, 6, 1), None, MENTOR_NAMES[0]])   # overlap
    ws.append([MENTOR[1], OUTSIDER, dt.date(2024, 3, 1), None, MENTOR_NAMES[1]])  # outside
    wb.save(d / "mentors.xlsx")
    log = [f"{CHILD[0]},2024年3月5日,家访,{MENTOR[0]},{MENTOR_NAMES[0]}",
           f"{CHILD[1]},2024/3/6,电话,{MENTOR[1]},{MENTOR_NAMES[1]}",
           f"{OUTSIDER},2024/3/6,电话,{MENTOR[1]},{MENTOR_NAMES[1]}",   # unknown child
           f"{CHILD[2]},05/03/2024,家访,{MENTOR[0]},{MENTOR_NAMES[0]}"]  # ambiguous date
    (d / "log_gbk.csv").write_bytes(("sid,date,activity,mentor_id,导师姓名\n" + "\n".join(log) + "\n")
                                    .encode("gbk"))
    wb = Workbook()
    ws = wb.active
    ws.append(["sid", "date", "activity", "mentor_id", "导师姓名"])
    ws.append([CHILD[2], dt.date(2024, 4, 2), "letter", MENTOR[0], MENTOR_NAMES[0]])
    ws.append([CHILD[2], "2024-04-03", "home_vist", MENTOR[0], MENTOR_NAMES[0]])  # unknown activity
    wb.save(d / "log.xlsx")


SECRETS = {"guardian_name": GUARDIAN_NAMES, "parent_phone": PARENT_PHONES, "mentor_name": MENTOR_NAMES,
           "child_id": [*CHILD, OUTSIDER], "mentor_id": MENTOR, "guardian_id": GUARDIAN,
           "free_text": [FREE_TEXT]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from workbench.pipeline import _validate

    root = tmp_path_factory.mktemp("canary-program") / "study"
    _plant(root)
    study = load_study(root)
    out = tmp_path_factory.mktemp("canary-program-run")
    counts: dict = {}
    result = _validate(study, out, counts)
    write_snapshot(study, out / SNAPSHOT_NAME)
    return root, out, result, counts


def test_positive_control_canaries_are_in_the_raw_files(run):
    root, _, _, _ = run
    hits = find_leaks(root / "data", SECRETS)
    assert set(hits["guardians.csv"]) >= {"guardian_name", "guardian_id", "child_id", "free_text"}  # GBK
    assert set(hits["log_gbk.csv"]) >= {"mentor_name", "mentor_id", "child_id"}  # GBK
    assert set(hits["mentors.xlsx"]) >= {"mentor_name", "mentor_id", "child_id"}
    assert set(hits["parents.csv"]) >= {"parent_phone"}


def test_the_run_wrote_every_program_table_and_quarantine(run):
    _, out, _, counts = run
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"data/contacts.parquet", "data/archives/roster.parquet", "data/archives/guardians.parquet",
            "data/archives/parents.parquet", "data/archives/mentors.parquet", "quarantine/contacts.csv",
            "quarantine/guardians.csv", "quarantine/mentors.csv", "quarantine/parents.csv",
            "validation/report.json", SNAPSHOT_NAME} <= written
    assert counts["program"]["contacts"] == {"rows_read": 6, "rows_clean": 3, "rows_quarantined": 3}


def test_no_canary_in_any_written_byte(run):
    """UTF-8, GBK, UTF-16, escapes; inside parquet and zip containers (hardening_study.blobs)."""
    _, out, _, _ = run
    assert find_leaks(out, SECRETS) == {}


def test_the_runs_scanner_passes_the_run(run):
    _, out, result, _ = run
    kinds = result.sensitive.kinds
    assert set(GUARDIAN_NAMES) <= kinds["pii:监护人姓名"] and set(PARENT_PHONES) <= kinds["pii:家长电话"]
    assert set(MENTOR_NAMES) <= kinds["pii:导师姓名"]
    assert {*CHILD, OUTSIDER, *MENTOR, *GUARDIAN} <= kinds["raw_id"]
    scan = scan_folder(out, result.sensitive)
    assert scan.ok, scan.findings


@pytest.mark.parametrize("secret, kind, encoding", [
    (GUARDIAN_NAMES[1], "pii:监护人姓名", "gbk"),
    (PARENT_PHONES[2], "pii:家长电话", "utf-8"),
    (MENTOR_NAMES[0], "pii:导师姓名", "gbk"),
    (MENTOR[1], "raw_id", "utf-8"),
    (GUARDIAN[0], "raw_id", "utf-8"),
    (OUTSIDER, "raw_id", "gbk"),
])
def test_the_scanner_finds_a_canary_planted_in_an_output(run, tmp_path, secret, kind, encoding):
    _, out, result, _ = run
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    (copy / "tables").mkdir(exist_ok=True)
    (copy / "tables" / "leak.csv").write_bytes(f"note\n访问记录 {secret} 已完成\n".encode(encoding))
    scan = scan_folder(copy, result.sensitive)
    assert ("tables/leak.csv", kind) in scan.findings
    assert {f for f, _ in scan.findings} == {"tables/leak.csv"}

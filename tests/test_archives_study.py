"""study.yaml keys of issue 14: archives, contacts, protocol (schema, loader, snapshot)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.errors import ContractError, ErrorList
from core.protocol import ACTIVITY_TYPES
from survey import load_study
from survey.snapshot import SNAPSHOT_NAME, read_snapshot, write_snapshot

BASE = """\
id: demo
design: {type: randomized, id: sid, arm: arm, control: control, arms: [control, treatment],
         waves: [baseline, endline]}
data: [{path: data/b.csv, wave: baseline}]
outcomes: [{id: x, column: x}]
"""

PROGRAM = """\
archives:
  roster: {path: data/roster.csv}
  guardians: {path: data/guardians.csv, encoding: gbk}
  mentors: {path: data/mentors.xlsx, sheet: 导师, columns: {mentor_id: 导师编号, sid: 学号}}
contacts:
  - {path: data/contacts.csv, columns: {date: 日期, activity: 活动}}
protocol:
  start: 2024-03-01
  end: "2025-01-15"
  terms: [{name: spring, from: 2024-03-01, to: 2024-07-10}, {name: autumn, from: 2024-09-01, to: 2025-01-15}]
  holidays: [{name: 五一, from: 2024-05-01, to: 2024-05-05}]
  activities:
    home_visit: {per: month, min: 1}
    letter: {per: semester}
    parent_school: {per: term, min: 2}
  triggers:
    mood: {activity: home_visit, within_days: 3}
  max_children_per_mentor: 3
  received_share: 0.75
  activity_types: [parent_school]
"""


def _study(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "study.yaml").write_text(BASE + text, encoding="utf-8")
    return tmp_path


def _errors(tmp_path: Path, text: str) -> list[ContractError]:
    with pytest.raises((ContractError, ErrorList)) as info:
        load_study(_study(tmp_path, text))
    err = info.value
    return list(err.errors) if isinstance(err, ErrorList) else [err]


def test_program_keys_load(tmp_path):
    s = load_study(_study(tmp_path, PROGRAM))
    assert s.archives.roster.path == (tmp_path / "data/roster.csv").resolve()
    assert s.archives.parents is None
    assert s.archives.guardians.encoding == "gbk"
    assert s.archives.mentors.columns == {"mentor_id": "导师编号", "id": "学号"}
    assert list(s.archives.tables()) == ["roster", "guardians", "mentors"]
    assert len(s.contacts) == 1 and s.contacts[0].columns == {"date": "日期", "activity": "活动"}
    p = s.protocol
    assert (p.start, p.end) == (date(2024, 3, 1), date(2025, 1, 15))  # unquoted and quoted dates
    assert [t.name for t in p.terms] == ["spring", "autumn"]
    assert p.holidays[0].name == "五一" and date(2024, 5, 3) in p.holidays[0]
    assert p.rule("letter").per == "term"  # semester is read as term
    assert p.rule("parent_school").min == 2 and p.rule("home_visit").min == 1
    assert p.triggers[0].trigger == "mood" and p.triggers[0].within_days == 3
    assert p.arms == ("treatment",)  # default: every arm but the control
    assert p.activity_types == (*ACTIVITY_TYPES, "parent_school")
    assert p.max_children_per_mentor == 3 and p.received_share == 0.75


def test_single_contact_file_and_no_protocol(tmp_path):
    s = load_study(_study(tmp_path, "contacts: {path: data/log.xlsx}\n"))
    assert len(s.contacts) == 1 and s.protocol is None and s.archives is None


def test_study_without_program_data_is_unchanged(tmp_path):
    s = load_study(_study(tmp_path, ""))
    assert s.archives is None and s.contacts == () and s.protocol is None
    snap = json.loads(write_snapshot(s, tmp_path / SNAPSHOT_NAME).read_text(encoding="utf-8"))
    assert not {"archives", "contacts", "protocol"} & set(snap["study"])


def test_snapshot_round_trips_program_keys(tmp_path):
    s = load_study(_study(tmp_path, PROGRAM))
    path = write_snapshot(s, tmp_path / SNAPSHOT_NAME)
    raw = json.loads(path.read_text(encoding="utf-8"))["study"]
    assert raw["archives"]["mentors"]["path"] == "data/mentors.xlsx"  # relative
    assert raw["contacts"][0]["path"] == "data/contacts.csv"
    assert raw["protocol"]["start"] == "2024-03-01"
    assert str(tmp_path) not in path.read_text(encoding="utf-8")
    back = read_snapshot(path)
    assert back.protocol == s.protocol
    assert back.contacts[0].columns == s.contacts[0].columns
    assert back.archives.mentors.sheet == "导师"
    assert back.archives.mentors.path == Path("data/mentors.xlsx")


def test_unknown_keys_get_did_you_mean(tmp_path):
    errs = _errors(tmp_path, "archives: {mentor: {path: m.csv}}\ncontacts: [{path: c.csv, colums: {}}]\n")
    text = "\n".join(map(str, errs))
    assert "archives.mentor: unknown key 'mentor'; did you mean 'mentors'?" in text
    assert "contacts[0].colums: unknown key 'colums'; did you mean 'columns'?" in text


@pytest.mark.parametrize("snippet, code, where, words", [
    ("    walk: {per: month}\n", "STUDY_UNKNOWN_ACTIVITY", "protocol.activities.walk", "not an activity type"),
    ("    home_vist: {per: month}\n", "STUDY_UNKNOWN_ACTIVITY", "protocol.activities.home_vist",
     "did you mean 'home_visit'"),
])
def test_rule_for_unknown_activity(tmp_path, snippet, code, where, words):
    text = PROGRAM.replace("    home_visit: {per: month, min: 1}\n", snippet)
    errs = _errors(tmp_path, text)
    hit = [e for e in errs if e.code == code]
    assert hit and hit[0].column == where and words in hit[0].message


def test_trigger_for_unknown_activity(tmp_path):
    errs = _errors(tmp_path, PROGRAM.replace("{activity: home_visit, within_days: 3}",
                                             "{activity: visit, within_days: 3}"))
    assert [(e.code, e.column) for e in errs] == [("STUDY_UNKNOWN_ACTIVITY", "protocol.triggers.mood.activity")]


def test_term_outside_period_and_end_before_start(tmp_path):
    errs = _errors(tmp_path, PROGRAM.replace("to: 2025-01-15}]", "to: 2025-02-15}]"))
    assert [(e.code, e.column) for e in errs] == [("STUDY_INVALID_VALUE", "protocol.terms[1].to")]
    assert "not inside the delivery period" in errs[0].message
    errs = _errors(tmp_path, PROGRAM.replace('end: "2025-01-15"', 'end: "2024-01-15"'))
    assert ("STUDY_INVALID_VALUE", "protocol.end") in [(e.code, e.column) for e in errs]


def test_dates_must_be_calendar_dates_written_iso(tmp_path):
    errs = _errors(tmp_path, PROGRAM.replace('end: "2025-01-15"', "end: 2024/12/31"))
    assert [(e.code, e.column) for e in errs] == [("STUDY_INVALID_VALUE", "protocol.end")]
    assert "YYYY-MM-DD" in errs[0].message
    errs = _errors(tmp_path, PROGRAM.replace('end: "2025-01-15"', 'end: "2025-02-30"'))
    assert [(e.code, e.column) for e in errs] == [("STUDY_INVALID_VALUE", "protocol.end")]


def test_protocol_needs_contacts_and_known_arms(tmp_path):
    text = PROGRAM.split("protocol:")[1]
    errs = _errors(tmp_path, "protocol:" + text.replace("  activity_types", "  arms: [treatmnet]\n  activity_types"))
    got = {(e.code, e.column) for e in errs}
    assert ("STUDY_DESIGN_INCOMPLETE", "protocol") in got
    assert ("STUDY_UNKNOWN_ARM", "protocol.arms[0]") in got


def test_unknown_standard_column_of_a_log(tmp_path):
    errs = _errors(tmp_path, "contacts: [{path: c.csv, columns: {dat: 日期}}]\n")
    assert errs[0].code == "STUDY_UNKNOWN_COLUMN" and "did you mean 'date'" in errs[0].message


def test_program_paths_stay_inside_the_folder(tmp_path):
    errs = _errors(tmp_path, "archives: {roster: {path: ../roster.csv}}\n")
    assert errs[0].code == "STUDY_PATH_OUTSIDE" and errs[0].column == "archives.roster.path"


def test_the_annotated_example_of_the_readme_loads(tmp_path):
    """data-schema/README.md's example of the program keys is a valid study."""
    readme = (Path(__file__).parents[1] / "data-schema" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Program delivery")[1]
    example = section.split("```yaml\n")[1].split("```")[0]
    (tmp_path / "study.yaml").write_text(
        "id: readme\ndata: [{path: data/b.csv, wave: baseline}]\noutcomes: [{id: x, column: x}]\n"
        + example, encoding="utf-8")
    s = load_study(tmp_path)
    assert s.archives.mentors.columns == {"mentor_id": "导师编号", "from": "开始日期", "to": "结束日期"}
    assert s.contacts[1].columns == {"id": "1", "date": "2", "activity": "3", "mentor_id": "4"}
    assert s.protocol.min_school_share == 0.5 and s.protocol.arms == ("treatment",)


def test_overlapping_terms_are_named(tmp_path):
    """core.protocol.Protocol.problems() is reported with the key path."""
    errs = _errors(tmp_path, PROGRAM.replace("{name: autumn, from: 2024-09-01", "{name: autumn, from: 2024-07-01"))
    assert [(e.code, e.column) for e in errs] == [("STUDY_INVALID_VALUE", "protocol.terms[1]")]
    assert "overlaps term spring" in errs[0].message

"""Contact logs (issue 14): read like survey data, validated row by row, quarantined, private."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from survey import load_study
from survey.archives import read_program_data, write_program_data
from survey.contact_log import contact_columns

TODAY = dt.date(2024, 12, 1)
SURVEY = "sid,arm,x\nS001,treatment,1\nS002,control,2\nS003,treatment,3\n"


def _study(root: Path, contacts: str, protocol: bool = True, extra: str = "") -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "b.csv").write_text(SURVEY, encoding="utf-8")
    text = ("id: demo\ndesign: {type: randomized, id: sid, arm: arm, control: control}\n"
            "data: [{path: data/b.csv}]\noutcomes: [{id: x, column: x}]\n" + contacts + extra)
    if protocol:
        text += ("protocol:\n  start: 2024-03-01\n  end: 2025-01-15\n"
                 "  activities: {home_visit: {per: month}, parent_school: {per: term}}\n"
                 "  triggers: {mood: {activity: home_visit, within_days: 3}, bullying: {activity: home_visit}}\n"
                 "  activity_types: [parent_school]\n")
    (root / "study.yaml").write_text(text, encoding="utf-8")
    return root


def _read(root, ids=("S001", "S002", "S003")):
    study = load_study(root)
    from survey.privacy import Pseudonymizer, load_or_create_key

    pseud = Pseudonymizer(load_or_create_key(root))
    known = [pseud.pseudonymize(i) for i in ids]
    return study, pseud, read_program_data(study, survey_ids=known, today=TODAY)


def test_gbk_csv_with_chinese_headers_dates_and_aliases(tmp_path):
    root = _study(tmp_path, "contacts: [{path: data/log.csv, columns: {sid: 学号, date: 日期, "
                            "activity: 活动, mentor_id: 导师, trigger: 原因, duration_min: 时长}}]\n")
    text = ("学号,日期,活动,导师,原因,时长\n"
            "S001,2024年3月5日,家访,M01,情绪,30\n"
            "S001,2024/4/5,电话,M01,,10.5\n"
            "S002,2024.3.9,parent_school,M02,bullying,\n"
            "S003,２０２４－０５－０６,Home_Visit ,M02,,\n")
    (root / "data" / "log.csv").write_bytes(text.encode("gbk"))
    study, pseud, prog = _read(root)
    assert [i for i in prog.issues if i.severity == "error"] == []
    c = prog.contacts
    assert list(c.columns) == contact_columns("sid")
    assert c["date"].dtype == "datetime64[ns]" and c["duration_min"].dtype == "float64"
    assert c["sid"].tolist() == sorted(pseud.pseudonymize(i) for i in ["S001", "S001", "S002", "S003"])
    by = c.set_index(["sid", "date"])
    row = by.loc[(pseud.pseudonymize("S001"), pd.Timestamp("2024-03-05"))]
    assert (row["activity"], row["trigger"], row["duration_min"]) == ("home_visit", "mood", 30.0)
    assert by.loc[(pseud.pseudonymize("S001"), pd.Timestamp("2024-04-05")), "activity"] == "phone_call"
    assert by.loc[(pseud.pseudonymize("S003"), pd.Timestamp("2024-05-06")), "activity"] == "home_visit"
    assert by.loc[(pseud.pseudonymize("S002"), pd.Timestamp("2024-03-09")), "trigger"] == "bullying"
    assert c["mentor_id"].str.startswith("m_").all()
    assert prog.sources[0]["encoding"] in ("gb18030", "gbk")
    assert prog.quarantine == {}


def test_xlsx_with_date_cells_serials_and_datetimes(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.xlsx}\n")
    wb = Workbook()
    ws = wb.active
    ws.append(["sid", "date", "activity", "mentor_id"])
    ws.append(["S001", dt.date(2024, 3, 5), "home_visit", "M01"])          # a date cell
    ws.append(["S002", dt.datetime(2024, 3, 6, 14, 30), "letter", "M01"])  # a date-time cell
    ws.append(["S003", 45358, "home_visit", "M02"])                        # a serial (format lost)
    ws.append(["S003", "2024年3月8日", "video_call", None])                  # text
    wb.save(root / "data" / "log.xlsx")
    _, pseud, prog = _read(root)
    assert [i.code for i in prog.issues if i.severity == "error"] == []
    days = prog.contacts.set_index("sid")["date"]
    assert days.loc[pseud.pseudonymize("S001")] == pd.Timestamp("2024-03-05")
    assert days.loc[pseud.pseudonymize("S002")] == pd.Timestamp("2024-03-06")  # time dropped
    assert sorted(days.loc[pseud.pseudonymize("S003")]) == [pd.Timestamp("2024-03-07"),
                                                           pd.Timestamp("2024-03-08")]
    assert prog.contacts["mentor_id"].isna().sum() == 1


def test_serial_numbers_in_a_csv_are_not_dates(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n")
    (root / "data" / "log.csv").write_text("sid,date,activity\nS001,45357,home_visit\n", encoding="utf-8")
    _, _, prog = _read(root)
    assert [(i.code, i.row, i.column) for i in prog.issues] == [("DATE_UNPARSEABLE", 2, "date")]


def test_wenjuanxing_export_of_a_log(tmp_path):
    root = _study(tmp_path, "contacts: [{path: data/wjx.xlsx, columns: {id: 1, date: 2, activity: 3, "
                            "mentor_id: '4'}}]\n")
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP",
               "1、学生编号", "2、活动日期", "3、活动类型", "4、导师编号"])
    ws.append([1, "2024/3/6 10:01:02", "35秒", "微信", "N/A", "10.1.2.3(湖南长沙)", "S001", "2024/3/5", "家访", "M01"])
    ws.append([2, "2024/3/7 11:01:02", "20秒", "微信", "N/A", "10.9.8.7(湖南邵阳)", "S002", "2024-03-06", "写信", "M02"])
    wb.save(root / "data" / "wjx.xlsx")
    _, pseud, prog = _read(root)
    assert [i for i in prog.issues if i.severity == "error"] == []
    assert prog.sources[0]["platform"] == "wenjuanxing"
    assert prog.contacts["activity"].tolist() == ["home_visit", "letter"] or \
        sorted(prog.contacts["activity"]) == ["home_visit", "letter"]
    assert {"pii:来自IP"} <= set(prog.sensitive.kinds)  # the IP column dropped, kept for the scan


BAD_LOG = ("sid,date,activity,mentor_id,trigger,duration_min\n"
           "S001,2024-03-05,home_visit,M01,,30\n"       # row 2: fine
           ",2024-03-05,home_visit,M01,,\n"              # row 3: no id
           "S404,2024-03-05,home_visit,M01,,\n"          # row 4: unknown child
           "S001,05/03/2024,home_visit,M01,,\n"          # row 5: ambiguous date
           "S001,,home_visit,M01,,\n"                    # row 6: empty date
           "S001,2024-02-29,home_visit,M01,,\n"          # row 7: before protocol.start
           "S001,2024-12-24,home_visit,M01,,\n"          # row 8: in the future (TODAY 2024-12-01)
           "S001,2024-03-06,home_vist,M01,,\n"           # row 9: unknown activity
           "S001,2024-03-07,home_visit,M01,angry,\n"     # row 10: unknown trigger
           "S001,2024-03-08,home_visit,M01,,-5\n"        # row 11: negative duration
           "S001,2024-03-09,home_visit,M01,,half an hour\n")  # row 12: not a number


@pytest.mark.parametrize("row, code, column, words", [
    (3, "ID_MISSING", "sid", "empty"),
    (4, "CHILD_UNKNOWN", "sid", "not in the study"),
    (5, "DATE_UNPARSEABLE", "date", "ambiguous"),
    (6, "DATE_UNPARSEABLE", "date", "empty"),
    (7, "DATE_OUTSIDE_PROTOCOL", "date", "2024-03-01 to 2025-01-15"),
    (8, "DATE_FUTURE", "date", "future"),
    (9, "ACTIVITY_UNKNOWN", "activity", "did you mean 'home_visit'"),
    (10, "TRIGGER_UNKNOWN", "trigger", "'angry'"),
    (11, "DURATION_NEGATIVE", "duration_min", "negative"),
    (12, "DURATION_NOT_NUMERIC", "duration_min", "not a number"),
])
def test_each_error_names_file_row_column(tmp_path, row, code, column, words):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n")
    (root / "data" / "log.csv").write_text(BAD_LOG, encoding="utf-8")
    _, _, prog = _read(root)
    hits = [i for i in prog.issues if i.code == code and i.row == row]
    assert len(hits) == 1, [str(i) for i in prog.issues]
    issue = hits[0]
    assert (issue.file, issue.column, issue.severity) == ("data/log.csv", column, "error")
    assert words in issue.message and issue.expected
    q = prog.quarantine["contacts"]
    assert ((q["row"] == row) & (q["column"] == column) & q["reason"].str.startswith(code)).sum() == 1


def test_failing_rows_are_quarantined_never_dropped_silently(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n")
    (root / "data" / "log.csv").write_text(BAD_LOG, encoding="utf-8")
    before = (root / "data" / "log.csv").read_bytes()
    _, pseud, prog = _read(root)
    assert len(prog.contacts) == 1  # only row 2
    q = prog.quarantine["contacts"]
    assert sorted(q["row"].unique()) == list(range(3, 13))  # every other row, accounted for
    assert list(q.columns) == ["file", "row", "column", "reason", "sid"]
    assert prog.counts()["tables"]["contacts"] == {"rows_read": 11, "rows_clean": 1,
                                                   "rows_quarantined": 10}
    # quarantine names children by pseudonym, never by raw id
    assert "S404" not in q.to_csv() and pseud.pseudonymize("S404") in set(q["sid"])
    written = write_program_data(prog, tmp_path / "run")
    names = sorted(p.relative_to(tmp_path / "run").as_posix() for p in written)
    assert names == ["data/contacts.parquet", "quarantine/contacts.csv"]
    text = (tmp_path / "run" / "quarantine" / "contacts.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "file,row,column,reason,sid"
    assert "S001" not in text and "S404" not in text
    assert (root / "data" / "log.csv").read_bytes() == before  # raw file untouched
    back = pd.read_parquet(tmp_path / "run" / "data" / "contacts.parquet")
    assert back["date"].dtype == "datetime64[ns]" and back["sid"].iloc[0] == pseud.pseudonymize("S001")


def test_without_protocol_builtin_types_and_no_period_check(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n", protocol=False)
    (root / "data" / "log.csv").write_text(
        "sid,date,activity\nS001,2020-01-01,home_visit\nS002,2024-03-01,parent_school\n", encoding="utf-8")
    _, _, prog = _read(root)
    assert [(i.code, i.row) for i in prog.issues] == [("ACTIVITY_UNKNOWN", 3)]
    assert len(prog.contacts) == 1


def test_missing_required_column_is_fatal(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n")
    (root / "data" / "log.csv").write_text("sid,day,activity\nS001,2024-03-05,home_visit\n",
                                           encoding="utf-8")
    _, _, prog = _read(root)
    assert prog.fatal
    assert [(i.code, i.row, i.column) for i in prog.issues] == [("COLUMN_MISSING", 1, "date")]
    assert list(prog.contacts.columns) == contact_columns("sid") and prog.contacts.empty


def test_child_ids_checked_against_survey_ids_when_no_roster(tmp_path):
    root = _study(tmp_path, "contacts: {path: data/log.csv}\n")
    (root / "data" / "log.csv").write_text("sid,date,activity\n ００１ ,2024-03-05,home_visit\n"
                                           "S001,2024-03-05,home_visit\n", encoding="utf-8")
    study, pseud, prog = _read(root, ids=("001", "S001"))
    assert prog.issues == [] and len(prog.contacts) == 2  # full-width, spaces: the same id
    assert set(prog.contacts["sid"]) == {pseud.pseudonymize("001"), pseud.pseudonymize("S001")}
    unchecked = read_program_data(study, today=TODAY)  # no known ids: nothing to check against
    assert unchecked.issues == []
    assert np.all(unchecked.contacts["sid"].str.startswith("p_"))

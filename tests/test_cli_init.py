"""`workbench init`: the template's optional keys (issue 9 and 10) load once uncommented."""

from __future__ import annotations

from survey import load_study
from workbench.commands.init import STUDY_TEMPLATE, init_study

#: commented example lines of the template that must be valid once uncommented
OPTIONAL = ("# arms: [control, treatment]", "# codes: option_index", "# columns:",
            "#   age: {type: numeric, min: 5, max: 20}", "#   gender: {type: categorical}",
            "# not_pii: [电话次数]")


def test_template_documents_the_new_keys_in_both_languages():
    text = STUDY_TEMPLATE.format(study_id="x", folder="x")
    for line in OPTIONAL:
        assert line in text, line
    for word in ("option_index", "min: 5", "not_pii", "arms", "合理范围", "分组取值", "选项序号", "电话次数"):
        assert word in text, word


def test_template_loads_with_every_optional_key_uncommented(tmp_path):
    study = init_study(tmp_path / "s")
    text = study.read_text(encoding="utf-8")
    assert load_study(study.parent).arms == ()  # as written: loads, optional keys off
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if any(stripped.startswith(o) for o in OPTIONAL):
            indent = line[: len(line) - len(stripped)]
            line = indent + stripped[2:]
        lines.append(line)
    study.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = load_study(study.parent)
    assert s.arms == ("control", "treatment")
    assert (s.columns["age"].type, s.columns["age"].min, s.columns["age"].max) == ("numeric", 5.0, 20.0)
    assert s.columns["gender"].type == "categorical"
    assert s.privacy.not_pii == ("电话次数",)
    assert s.data[1].codes == "option_index"


#: the program-delivery keys of issue 14, commented out in the template
PROGRAM_START, PROGRAM_END = "# archives:", "#   activity_types: [parent_school]"


def _uncomment_program(text: str) -> str:
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith(PROGRAM_START):
            inside = True
        if inside and (line.startswith(("# archives:", "# contacts:", "# protocol:", "#  "))):
            line = line[2:]
        if line.startswith(PROGRAM_END[2:]):
            inside = False
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_template_documents_the_program_keys_in_both_languages():
    text = STUDY_TEMPLATE.format(study_id="x", folder="x")
    for key in ("# archives:", "#   roster:", "#   guardians:", "#   parents:", "#   mentors:",
                "# contacts:", "# protocol:", "#   terms:", "#   holidays:", "#     letter: {per: semester, min: 1}",
                "#   triggers:", "#   max_children_per_mentor: 3", "#   received_share:", PROGRAM_END):
        assert key in text, key
    for word in ("儿童档案", "花名册", "活动记录", "帮扶方案", "2024年3月5日", "Child archives",
                 "Contact log", "The protocol", "serve every wave", "暑假"):
        assert word in text, word


def test_template_loads_with_the_program_keys_uncommented(tmp_path):
    import datetime as dt

    from survey.archives import read_program_data

    study = init_study(tmp_path / "s")
    text = _uncomment_program(study.read_text(encoding="utf-8"))
    assert "\narchives:\n  roster: {path: data/roster.csv}" in text and "\nprotocol:\n  start: 2024-03-01" in text
    study.write_text(text, encoding="utf-8")
    data = study.parent / "data"
    (data / "roster.csv").write_text("student_id,arm,school_id,gender,age\nS1,treatment,A,girl,10\n"
                                     "S2,control,B,boy,11\n", encoding="utf-8")
    (data / "guardians.csv").write_text("student_id,guardian_id,relation,from,to\nS1,G1,grandmother,"
                                        "2023-09-01,\n", encoding="utf-8")
    (data / "parents.csv").write_text("student_id,parent,migrant,call_frequency\nS1,父亲,1,weekly\n",
                                      encoding="utf-8")
    (data / "mentors.csv").write_text("mentor_id,student_id,from,to\nT1,S1,2024-03-01,\n", encoding="utf-8")
    (data / "contacts.csv").write_bytes("student_id,日期,活动类型,mentor_id\nS1,2024年3月5日,家访,T1\n"
                                        "S1,2024/3/20,parent_school,T1\n".encode("gbk"))
    s = load_study(study.parent)
    p = s.protocol
    assert [r.activity for r in p.activities] == ["home_visit", "phone_call", "letter"]
    assert p.rule("letter").per == "term" and p.triggers[0].within_days == 3
    assert p.arms == ("treatment",) and "parent_school" in p.activity_types
    assert [t.name for t in p.terms] == ["spring", "autumn"] and p.holidays[0].name == "五一"
    assert s.contacts[0].columns == {"date": "日期", "activity": "活动类型"}
    assert list(s.archives.tables()) == ["roster", "guardians", "parents", "mentors"]
    prog = read_program_data(s, today=dt.date(2024, 12, 1))
    assert [i for i in prog.issues if i.severity == "error"] == [], [str(i) for i in prog.issues]
    assert prog.contacts["activity"].tolist() == ["home_visit", "parent_school"]
    assert len(prog.archives["roster"]) == 2 and prog.archives["roster"]["age"].tolist() == [10.0, 11.0]

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

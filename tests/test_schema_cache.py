"""The schema checks remember what passed by content (issue 16), and are never wrong when a
file changes: a study or schema file edited between two loads in one process is checked anew."""

from __future__ import annotations

import shutil

import pytest

import survey.schema as schema_mod
from core.errors import ContractError, ErrorList
from survey.schema import check
from survey.study_loader import load_study

STUDY = "id: demo\ndesign: {type: cross_sectional, id: sid}\ndata: [{path: data/survey.csv}]\n"


def _errors(fn):
    try:
        fn()
    except (ContractError, ErrorList) as err:
        return [e.code for e in getattr(err, "errors", [err])]
    return []


def test_a_study_changed_between_two_loads_is_validated_again(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(STUDY, encoding="utf-8")
    assert load_study(tmp_path).id == "demo"
    assert load_study(tmp_path).id == "demo"  # from the cache: the same content passed
    study.write_text(STUDY.replace("id: demo", "id: demo\nlanguage: fr"), encoding="utf-8")
    codes = _errors(lambda: load_study(tmp_path))
    assert codes == ["STUDY_INVALID_VALUE"], codes
    study.write_text(STUDY.replace("cross_sectional", "cross_sectionel"), encoding="utf-8")
    assert _errors(lambda: load_study(tmp_path)) == ["STUDY_INVALID_VALUE"]
    study.write_text(STUDY.replace("id: demo", "id: other"), encoding="utf-8")
    assert load_study(tmp_path).id == "other"


def test_the_same_content_is_checked_once(monkeypatch):
    doc = {"id": "s", "design": {"type": "pre_post", "id": "sid"}, "data": [{"path": "d.csv"}]}
    assert check(doc, "study", file="a.yaml", prefix="STUDY") == []
    calls = []
    real = schema_mod._validator
    monkeypatch.setattr(schema_mod, "_validator", lambda *a: calls.append(a) or real(*a))
    assert check(dict(doc), "study", file="b.yaml", prefix="STUDY") == []
    assert calls == []  # remembered by content
    bad = dict(doc, language="fr")
    assert check(bad, "study", file="b.yaml", prefix="STUDY")  # new content: checked
    assert len(calls) == 1
    assert check(bad, "study", file="b.yaml", prefix="STUDY")  # errors are never remembered
    assert len(calls) == 2


def test_types_json_cannot_tell_apart_are_not_remembered():
    # a tuple is no JSON array for the schema; its JSON spelling is the list's
    assert schema_mod._document_digest({"a": (1, 2)}) is None
    assert schema_mod._document_digest({1: "x"}) is None
    assert schema_mod._document_digest({"a": [1, 2]}) != schema_mod._document_digest({"a": [1.0, 2]})
    assert schema_mod._document_digest({"a": True}) != schema_mod._document_digest({"a": 1})


def test_a_changed_schema_file_is_read_and_checked_again(tmp_path, monkeypatch):
    folder = tmp_path / "schemas"
    shutil.copytree(schema_mod.SCHEMA_DIR, folder)
    monkeypatch.setattr(schema_mod, "SCHEMA_DIR", folder)
    doc = {"id": "s", "design": {"type": "pre_post", "id": "sid"}, "data": [{"path": "d.csv"}],
           "language": "fr"}
    assert check(doc, "study", file="s.yaml", prefix="STUDY")  # 'fr' is no language
    path = folder / "study.schema.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"enum": ["zh", "en"]', '"enum": ["zh", "en", "fr"]', 1),
                    encoding="utf-8")
    assert "fr" in schema_mod.load_schema("study")["properties"]["language"]["enum"]
    assert check(doc, "study", file="s.yaml", prefix="STUDY") == []
    path.write_text('{"type": "object", "properties": {"id": {"type": 5}}}', encoding="utf-8")
    with pytest.raises(Exception, match="5"):  # a broken schema is refused, not used
        schema_mod.load_schema("study")

"""The JSON Schemas and survey.schema: reading YAML safely, and errors with key paths and suggestions."""

from __future__ import annotations

import jsonschema
import pytest

from core.errors import ContractError, ErrorList
from core.suggest import closest
from survey.schema import (
    check,
    format_path,
    load_schema,
    parse_yaml,
    read_yaml,
)

MINIMAL = {"id": "s", "design": {"type": "cross_sectional", "id": "sid"}, "data": [{"path": "d.csv"}]}


def _objects(schema, path="#"):
    """Every object-typed subschema with its location."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield path, schema
        for k, v in schema.items():
            yield from _objects(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from _objects(v, f"{path}/{i}")


@pytest.mark.parametrize("name", ["study", "instrument", "item-text"])
def test_schemas_are_valid_draft_2020_12_and_closed(name):
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for where, sub in _objects(schema):
        # every object either forbids unknown keys or types them all (mappings such as labels)
        assert "additionalProperties" in sub, where
        if "properties" in sub:
            assert sub["additionalProperties"] is False, where


def test_study_schema_has_the_issue_keys():
    props = load_schema("study")["properties"]
    assert set(props) >= {"id", "title", "language", "design", "instruments", "data", "missing_codes",
                          "privacy", "outcomes", "claims", "analysis", "columns"}
    assert set(props["design"]["properties"]) == {"type", "id", "wave", "waves", "arm", "arms", "control", "clusters",
                                                  "blocks", "covariates", "subgroups"}
    assert set(props["data"]["items"]["properties"]) == {"path", "wave", "sheet", "encoding", "platform",
                                                             "codes"}
    assert set(props["outcomes"]["items"]["properties"]) == {"id", "scale", "column", "better", "primary",
                                                             "test_retest"}
    assert set(props["claims"]["items"]["properties"]) == {"id", "text", "outcome", "proportion", "n",
                                                           "improved"}
    assert set(props["analysis"]["properties"]) == {"alpha", "adjust", "seed"}
    assert set(props["privacy"]["properties"]) == {"pii", "min_cell", "not_pii"}
    assert props["data"]["items"]["properties"]["codes"]["enum"] == ["option_index", "value"]
    assert props["columns"]["additionalProperties"]["properties"]["type"]["enum"] == \
        ["numeric", "categorical"]
    assert set(props["instruments"]["items"]["properties"]) == {"id", "path", "items", "text"}
    assert set(props["labels"]["properties"]) == {"values", "columns"}


def test_minimal_study_is_valid():
    assert check(MINIMAL, "study", file="study.yaml", prefix="STUDY") == []


def _errs(data, schema="study", prefix="STUDY"):
    return check(data, schema, file="study.yaml", prefix=prefix)


def _with(**changes):
    import copy

    d = copy.deepcopy(MINIMAL)
    for k, v in changes.items():
        d[k] = v
    return d


def test_unknown_key_suggests_nearest():
    d = _with(design={"type": "pre_post", "id": "sid", "covariate": ["age"]})
    (e,) = _errs(d)
    assert e.code == "STUDY_UNKNOWN_KEY"
    assert e.column == "design.covariate"
    assert "did you mean 'covariates'?" in str(e)
    assert e.file == "study.yaml"


def test_unknown_top_level_key_suggests():
    d = _with(outcome=[{"id": "x", "column": "y"}])
    (e,) = _errs(d)
    assert e.code == "STUDY_UNKNOWN_KEY" and e.column == "outcome"
    assert "did you mean 'outcomes'?" in e.message


def test_unknown_key_without_near_match_lists_allowed():
    d = _with(privacy={"zzzz": 1})
    (e,) = _errs(d)
    assert "did you mean" not in e.message
    assert "allowed here: pii, min_cell" in e.message


@pytest.mark.parametrize("key, value, path, found, expected", [
    ("privacy", {"min_cell": "five"}, "privacy.min_cell", "text 'five'", "an integer"),
    ("missing_codes", 5, "missing_codes", "integer 5", "a list"),
    ("language", "fr", "language", "text 'fr'", "one of zh, en"),
    ("analysis", {"alpha": 1.5}, "analysis.alpha", "number 1.5", "< 1"),
    ("analysis", {"seed": 1.5}, "analysis.seed", "number 1.5", "an integer"),
    ("analysis", {"adjust": "bonferroni"}, "analysis.adjust", "text 'bonferroni'", "holm, bh, none"),
    ("title", 5, "title", "integer 5", "{en: ..., zh: ...}"),
    ("title", {"en": "x", "fr": "y"}, "title.fr", None, None),
    ("claims", [{"id": "c", "text": "t", "proportion": 1.2, "n": 3}], "claims[0].proportion",
     "number 1.2", "<= 1"),
    ("claims", [{"id": "c", "text": "t", "proportion": 0.5, "n": 0}], "claims[0].n", "integer 0", ">= 1"),
    ("claims", [{"id": "c", "text": "t", "proportion": 0.5, "n": 3, "improved": "better"}],
     "claims[0].improved", "text 'better'", "reliable_change, any_increase"),
    ("outcomes", [{"id": "o", "column": "a"}, {"id": "p", "scale": "rses"}], "outcomes[1].scale",
     "text 'rses'", "INSTRUMENT.SCALE"),
    ("outcomes", [{"id": "o", "column": "a", "test_retest": 0}], "outcomes[0].test_retest",
     "integer 0", "> 0"),
    ("outcomes", [{"id": "o", "column": "a", "primary": "yes please"}], "outcomes[0].primary",
     "text 'yes please'", "true or false"),
    ("data", [{"path": "d.csv", "sheet": 1.5}], "data[0].sheet", "number 1.5", "text or an integer"),
    ("data", [{"path": "d.csv", "platform": "qualtrics"}], "data[0].platform", "text 'qualtrics'",
     "wenjuanxing"),
    ("data", [], "data", "an empty list", "at least 1"),
])
def test_wrong_type_or_value_names_path_found_and_expected(key, value, path, found, expected):
    errs = _errs(_with(**{key: value}))
    assert errs, "expected an error"
    e = errs[0]
    assert e.column == path
    assert e.code.startswith("STUDY_")
    if found:
        assert f"found {found}" in e.message
    if expected:
        assert expected in e.message


def test_design_type_typo_suggests_enum_value():
    (e,) = _errs(_with(design={"type": "clustr_randomized", "id": "sid"}))
    assert e.code == "STUDY_INVALID_VALUE" and e.column == "design.type"
    assert "did you mean 'cluster_randomized'?" in e.message


def test_yaml_boolean_gets_a_quoting_hint():
    data, _ = parse_yaml("id: s\ndesign: {type: controlled, id: sid, arm: arm, control: no}\n"
                         "data: [{path: d.csv}]\n", prefix="STUDY", display="study.yaml")
    (e,) = _errs(data)
    assert e.column == "design.control" and "found boolean false" in e.message
    assert "quotes" in e.message


def test_missing_required_key():
    (e,) = _errs({"id": "s", "design": {"type": "pre_post"}, "data": [{"path": "x"}]})
    assert e.code == "STUDY_MISSING_KEY" and e.column == "design.id"


def test_exactly_one_of_id_or_path():
    errs = _errs(_with(instruments=[{"id": "rses", "path": "x.yaml"}, {"items": {"a": "b"}}]))
    assert [e.code for e in errs] == ["STUDY_ONE_OF_KEYS"] * 2
    assert errs[0].column == "instruments[0]" and "both 'id' and 'path'" in errs[0].message
    assert errs[1].column == "instruments[1]" and "none of 'id' or 'path'" in errs[1].message


def test_all_errors_are_collected_with_lines(tmp_path):
    p = tmp_path / "study.yaml"
    p.write_text("id: s\nlanguage: fr\ndesign:\n  type: pre_post\n  id: sid\n  covariate: [a]\n"
                 "data: [{path: d.csv}]\nprivacy: {min_cell: 0}\n", encoding="utf-8")
    data, lines = read_yaml(p, prefix="STUDY")
    errs = check(data, "study", file="study.yaml", prefix="STUDY", locate=lines.locate)
    assert [e.column for e in errs] == ["language", "design.covariate", "privacy.min_cell"]  # file order
    assert "(line 2)" in errs[0].message and "(line 6)" in errs[1].message and "(line 8)" in errs[2].message


def test_instrument_schema_errors():
    inst = {"id": "Bad-Id", "name": {"en": "x"}, "license": {"kind": "free", "terms": "t"},
            "response": {"min": 1, "max": 4, "labels": {"x": {"en": "a"}}},
            "items": [{"id": "a.1"}, {"id": "b", "revers": True}],
            "scales": [{"id": "t", "name": {"en": "T"}, "items": ["b"], "subscales": ["u"]}]}
    errs = {e.column: e for e in check(inst, "instrument", file="i.yaml", prefix="INSTRUMENT")}
    assert errs["id"].code == "INSTRUMENT_INVALID_VALUE"
    assert errs["license.kind"].code == "INSTRUMENT_INVALID_VALUE"
    assert errs["response.labels.x"].code == "INSTRUMENT_INVALID_VALUE"
    assert "no dots" in errs["items[0].id"].message
    assert "did you mean 'reverse'?" in errs["items[1].revers"].message
    assert errs["scales[0]"].code == "INSTRUMENT_ONE_OF_KEYS"


# ---------------------------------------------------------------- reading files


def _read(tmp_path, content, name="study.yaml"):
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return read_yaml(p, prefix="STUDY", display=name)


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    with pytest.raises(ContractError) as ei:
        _read(tmp_path, "id: s\ndesign:\n  type: pre_post\n   id: x\n")
    assert ei.value.code == "STUDY_YAML_SYNTAX"
    assert "line 4" in str(ei.value) and "column" in str(ei.value)
    assert ei.value.file == "study.yaml"


def test_instrument_yaml_syntax_code(tmp_path):
    p = tmp_path / "i.yaml"
    p.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError) as ei:
        read_yaml(p, prefix="INSTRUMENT")
    assert ei.value.code == "INSTRUMENT_YAML_SYNTAX" and "line" in ei.value.message


@pytest.mark.parametrize("content, code, fragment", [
    ("", "STUDY_FILE_EMPTY", "empty"),
    ("   \n\n", "STUDY_FILE_EMPTY", "empty"),
    ("# only a comment\n", "STUDY_FILE_EMPTY", "no data"),
    ("- a\n- b\n", "STUDY_NOT_MAPPING", "found a list of 2"),
    ("just text\n", "STUDY_NOT_MAPPING", "found text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "STUDY_FILE_NOT_TEXT", "binary"),
    (b"PK\x03\x04rest-of-a-zip", "STUDY_FILE_NOT_TEXT", "binary"),
    ("id: 中文标题\n".encode("gbk"), "STUDY_FILE_NOT_TEXT", "GBK"),
    ("id: s\n".encode("utf-16"), "STUDY_FILE_NOT_TEXT", "UTF-16"),
    ("id: s\nid: t\n", "STUDY_DUPLICATE_KEY", "lines 1 and 2"),
    ("a: &a [*a]\n", "STUDY_FILE_TOO_LARGE", "refers to itself"),
    ("x: !!python/object/apply:os.system [echo hi]\n", "STUDY_YAML_SYNTAX", "python/object"),
])
def test_unreadable_files_give_clear_errors(tmp_path, content, code, fragment):
    with pytest.raises(ContractError) as ei:
        _read(tmp_path, content)
    assert ei.value.code == code
    assert fragment in str(ei.value)


def test_billion_laughs_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(ContractError) as ei:
        _read(tmp_path, "\n".join(lines) + "\n")
    assert ei.value.code == "STUDY_FILE_TOO_LARGE"


def test_bom_is_accepted_and_keys_are_text(tmp_path):
    data, _ = _read(tmp_path, "\ufeffid: s\nlabels: {1: a, yes: b}\nwhen: 2024-01-02\nr: .nan\n")
    assert data == {"id": "s", "labels": {"1": "a", "true": "b"}, "when": "2024-01-02", "r": "nan"}


def test_missing_file(tmp_path):
    with pytest.raises(ContractError) as ei:
        read_yaml(tmp_path / "nope.yaml", prefix="STUDY")
    assert ei.value.code == "STUDY_NOT_FOUND"


def test_several_duplicate_keys_raise_error_list(tmp_path):
    with pytest.raises(ErrorList) as ei:
        _read(tmp_path, "a: 1\na: 2\nb: {c: 1, c: 2}\n")
    assert [e.column for e in ei.value.errors] == ["a", "b.c"]


def test_format_path_and_suggest():
    assert format_path(("outcomes", 1, "scale")) == "outcomes[1].scale"
    assert format_path(("scales", 2, "items", 3)) == "scales[2].items[3]"
    assert format_path(("instruments", 0, "items", "a b")) == "instruments[0].items['a b']"
    assert closest("Baseline ", ["baseline", "endline"]) == "baseline"
    assert closest("zzz", ["baseline"]) is None


def test_readme_examples_load(tmp_path):
    """The annotated examples in data-schema/README.md are real: they load together."""
    import re
    from pathlib import Path

    from survey import load_study
    from survey.instrument_loader import bundled_ids

    if "rses" not in bundled_ids():
        pytest.skip("bundled rses not present")
    readme = (Path(__file__).resolve().parents[1] / "data-schema" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
    study, _program, instrument, item_text = blocks  # the program example: test_archives_study.py
    (tmp_path / "instruments").mkdir()
    (tmp_path / "study.yaml").write_text(study, encoding="utf-8")
    (tmp_path / "instruments" / "communication.yaml").write_text(instrument, encoding="utf-8")
    (tmp_path / "instruments" / "rses-text.yaml").write_text(item_text.replace('"..."', '"x"'),
                                                             encoding="utf-8")
    s = load_study(tmp_path)
    assert [u.id for u in s.instruments] == ["rses", "pcc"]
    assert s.instrument("rses").item("rses_1").text == {"en": "x", "zh": "x"}
    assert s.instruments[1].columns["pcc_1"] == "Q12"
    assert s.instrument("pcc").scale("total").items == ("pcc_1", "pcc_2", "pcc_3")
    assert s.outcome("communication").primary and s.outcome("communication").test_retest == 0.8
    assert s.data[1].codes == "option_index" and s.privacy.not_pii == ("电话次数",)
    assert s.column_type("age") == "numeric" and s.column_type("guardian_type") == "categorical"
    assert s.column_type("mathach") == "numeric"
    assert s.label("arm", "treatment", "zh") == "结对帮扶" and s.label("wave", "endline", "en") == "Endline"
    assert s.label("school_id", "S01", "zh") == s.label("school_id", "S01", "en")
    assert s.column_label("age", "zh") == "年龄（岁）"

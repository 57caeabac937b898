"""Instrument files: loading, defaults, composite scales, item text, and every cross-check error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import ContractError, ErrorList
from survey.instrument import Instrument
from survey.instrument_loader import (
    BUNDLED_DIR,
    bundled_ids,
    bundled_instruments,
    load_instrument,
    merge_text,
)

FIX = Path(__file__).parent / "fixtures" / "contracts"
HELPSEEK = FIX / "instruments" / "helpseek.yaml"
KSO = FIX / "instruments" / "kso.yaml"


def _write(tmp_path, data, name="inst.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _base() -> dict:
    return yaml.safe_load(HELPSEEK.read_text(encoding="utf-8"))


def _errors(tmp_path, data) -> list[ContractError]:
    p = _write(tmp_path, data)
    with pytest.raises((ContractError, ErrorList)) as ei:
        load_instrument(p)
    err = ei.value
    errs = list(err.errors) if isinstance(err, ErrorList) else [err]
    assert all(e.file == str(p) for e in errs)
    return errs


def test_fixture_loads_with_all_fields():
    inst = load_instrument(HELPSEEK)
    assert isinstance(inst, Instrument)
    assert inst.id == "helpseek" and inst.version == "0.1"
    assert inst.name == {"en": "Help-seeking and openness (test fixture)", "zh": "求助与开放（测试用）"}
    assert inst.license.kind == "original" and inst.license.source == "https://example.org/terms"
    assert inst.response.min == 1 and inst.response.max == 4
    assert inst.response.labels[1] == {"en": "Never", "zh": "从不"}
    assert list(inst.response.labels) == [1, 2, 3, 4]
    assert inst.reversed_items == ("hs_2", "hs_4")
    assert inst.item("hs_1").text["zh"] == "有烦心事时我会告诉父母。"
    assert inst.has_text
    assert inst.test_retest == 0.8 and inst.notes.startswith("Illustrative")
    assert inst.path == HELPSEEK


def test_composite_scale_holds_the_union_in_item_order():
    inst = load_instrument(HELPSEEK)
    total = inst.scale("total")
    assert total.subscales == ("seek", "open")
    assert total.items == ("hs_1", "hs_2", "hs_3", "hs_4", "hs_5")
    assert total.min_items == 4 and total.score == "mean" and total.better == "higher"
    assert inst.scale("seek").test_retest == 0.7 and inst.scale("seek").score == "sum"
    assert inst.scale("open").subscales == ()


def test_nested_composites_resolve(tmp_path):
    d = _base()
    d["scales"].append({"id": "grand", "name": {"en": "G"}, "subscales": ["total"]})
    inst = load_instrument(_write(tmp_path, d))
    assert inst.scale("grand").items == inst.scale("total").items


def test_defaults(tmp_path):
    d = {"id": "tiny", "name": {"en": "Tiny"}, "license": {"kind": "original", "terms": "mine"},
         "response": {"min": 0, "max": 1}, "items": [{"id": "t1"}, {"id": "t2"}],
         "scales": [{"id": "total", "name": {"en": "Total"}, "items": ["t1", "t2"]}]}
    inst = load_instrument(_write(tmp_path, d))
    sc = inst.scale("total")
    assert (sc.score, sc.better, sc.min_items, sc.test_retest) == ("mean", "higher", 2, None)
    assert inst.version == "" and inst.construct == "" and inst.citation == ""
    assert inst.response.labels == {}
    assert inst.item("t1").reverse is False and inst.item("t1").text is None
    assert not inst.has_text


def test_numeric_version_is_text():
    assert load_instrument(KSO).version == "2"


# ---------------------------------------------------------------- cross-check errors


def test_scale_names_missing_item(tmp_path):
    d = _base()
    d["scales"][1]["items"] = ["hs_3", "hs_44", "hs_5"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_UNKNOWN_ITEM"
    assert e.column == "scales[1].items[1]"
    assert "'hs_44'" in e.message and "did you mean 'hs_4'?" in e.message
    assert "line" in e.message


def test_item_in_two_scales(tmp_path):
    d = _base()
    d["scales"][1]["items"] = ["hs_3", "hs_4", "hs_5", "hs_1"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_ITEM_IN_TWO_SCALES"
    assert e.column == "scales[1].items[3]"
    assert "'open'" in e.message and "'seek'" in e.message and "subscales" in e.message


def test_unknown_and_circular_subscales(tmp_path):
    d = _base()
    d["scales"][2]["subscales"] = ["seek", "opn"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_UNKNOWN_SUBSCALE" and e.column == "scales[2].subscales[1]"
    assert "did you mean 'open'?" in e.message
    d = _base()
    d["scales"][2]["subscales"] = ["seek", "total"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_UNKNOWN_SUBSCALE" and "circle" in e.message


def test_duplicate_ids(tmp_path):
    d = _base()
    d["items"][4]["id"] = "hs_1"
    d["scales"][1]["items"] = ["hs_3", "hs_4"]
    d["scales"].append({"id": "open", "name": {"en": "again"}, "items": ["hs_1"]})
    errs = _errors(tmp_path, d)
    codes = {(e.code, e.column) for e in errs}
    assert ("INSTRUMENT_DUPLICATE_ID", "items[4].id") in codes
    assert ("INSTRUMENT_DUPLICATE_ID", "scales[3].id") in codes


def test_item_twice_in_one_scale(tmp_path):
    d = _base()
    d["scales"][0]["items"] = ["hs_1", "hs_2", "hs_1"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_DUPLICATE_ID" and e.column == "scales[0].items[2]"


def test_min_items_larger_than_scale(tmp_path):
    d = _base()
    d["scales"][0]["min_items"] = 3
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_MIN_ITEMS" and e.column == "scales[0].min_items"
    assert "found min_items 3" in e.message and "2 items" in e.message


def test_response_range_errors(tmp_path):
    d = _base()
    d["response"]["labels"][7] = {"en": "Beyond"}
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_RESPONSE_RANGE" and e.column == "response.labels.7"
    d = _base()
    d["response"]["min"] = 4
    errs = _errors(tmp_path, d)
    assert errs[0].code == "INSTRUMENT_RESPONSE_RANGE" and errs[0].column == "response.max"
    assert "min < max" in errs[0].message


def test_schema_errors_come_first_and_name_the_key(tmp_path):
    d = _base()
    d["items"][0]["revers"] = True
    d["scales"][0]["score"] = "median"
    errs = _errors(tmp_path, d)
    assert {e.code for e in errs} == {"INSTRUMENT_UNKNOWN_KEY", "INSTRUMENT_INVALID_VALUE"}
    by = {e.column: e for e in errs}
    assert "did you mean 'reverse'?" in by["items[0].revers"].message
    assert "mean, sum" in by["scales[0].score"].message


def test_item_id_with_dot_is_refused(tmp_path):
    d = _base()
    d["items"][0]["id"] = "hs.1"
    errs = _errors(tmp_path, d)
    assert errs[0].column == "items[0].id" and "no dots" in errs[0].message


def test_scale_with_both_items_and_subscales(tmp_path):
    d = _base()
    d["scales"][2]["items"] = ["hs_1"]
    (e,) = _errors(tmp_path, d)
    assert e.code == "INSTRUMENT_ONE_OF_KEYS" and e.column == "scales[2]"


# ---------------------------------------------------------------- ids, paths, text


def test_unknown_bundled_id_suggests():
    with pytest.raises(ContractError) as ei:
        load_instrument("rsse")
    assert ei.value.code == "INSTRUMENT_NOT_FOUND"
    if "rses" in bundled_ids():
        assert "did you mean 'rses'?" in ei.value.message


def test_wrong_suffix_and_missing_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{}", encoding="utf-8")
    with pytest.raises(ContractError) as ei:
        load_instrument(p)
    assert ei.value.code == "INSTRUMENT_FORMAT"
    with pytest.raises(ContractError) as ei:
        load_instrument(tmp_path / "absent.yaml")
    assert ei.value.code == "INSTRUMENT_NOT_FOUND"


def test_item_text_merges_into_keys_only(tmp_path):
    t = _write(tmp_path, {"instrument": "kso", "source": "licensed copy",
                          "items": {"kso_1": {"en": "One", "zh": "一"}, "kso_2": {"zh": "二"}}}, "text.yaml")
    inst = load_instrument(KSO, text=t)
    assert inst.item("kso_1").text == {"en": "One", "zh": "一"}
    assert inst.item("kso_2").text == {"zh": "二"} and inst.item("kso_2").reverse is True
    assert inst.item("kso_3").text is None
    # scoring-relevant content is unchanged
    base = load_instrument(KSO)
    assert inst.scales == base.scales and inst.response == base.response


def test_item_text_refuses_unknown_ids_and_other_instruments(tmp_path):
    t = _write(tmp_path, {"instrument": "kso", "items": {"kso_9": {"en": "?"}}}, "text.yaml")
    with pytest.raises(ContractError) as ei:
        load_instrument(KSO, text=t)
    assert ei.value.code == "INSTRUMENT_TEXT_UNKNOWN_ITEM" and ei.value.column == "items.kso_9"
    assert ei.value.file == str(t)
    t = _write(tmp_path, {"instrument": "rses", "items": {"kso_1": {"en": "?"}}}, "text2.yaml")
    with pytest.raises(ContractError) as ei:
        load_instrument(KSO, text=t)
    assert ei.value.code == "INSTRUMENT_TEXT_MISMATCH"
    with pytest.raises(ContractError) as ei:
        merge_text(load_instrument(KSO), {"instrument": "kso", "items": {"kso_1": {"fr": "x"}}})
    assert ei.value.code == "INSTRUMENT_UNKNOWN_KEY"


# ---------------------------------------------------------------- the bundled instruments


def test_bundled_instruments_all_load_and_match_their_file_names():
    ids = bundled_ids()
    if not ids:
        pytest.skip("no bundled instruments yet")
    insts = bundled_instruments()
    assert [i.id for i in insts] == ids
    for inst in insts:
        assert inst.path == BUNDLED_DIR / f"{inst.id}.yaml"
        assert inst.license.terms.strip()
        assert inst.scales and all(s.items for s in inst.scales)
        if inst.license.kind == "keys_only":
            # licensing: keys-only instruments must not ship item wording
            assert all(it.text is None for it in inst.items), inst.id
        else:
            assert inst.has_text, inst.id


# ---------------------------------------------------------------- module structure


def _survey_imports(module: str) -> set[str]:
    """The survey modules ``survey/<module>.py`` imports, function-local imports included."""
    import ast

    path = Path(__file__).resolve().parents[1] / "survey" / f"{module}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1:
                found.update([name] if name else [a.name for a in node.names])
            elif name.startswith("survey."):
                found.add(name.split(".", 1)[1])
    return found


def test_xlsform_and_the_loader_do_not_import_each_other():
    """xlsform -> instrument_build <- instrument_loader: the builder sits below both loaders."""
    assert "instrument_loader" not in _survey_imports("xlsform")
    assert "instrument_build" in _survey_imports("xlsform")
    assert {"instrument_build", "xlsform"} <= _survey_imports("instrument_loader")
    assert not {"xlsform", "instrument_loader"} & _survey_imports("instrument_build")

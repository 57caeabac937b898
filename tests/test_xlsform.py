"""XLSForm import: the twin of a YAML instrument loads to the same Instrument; errors name sheet, row, column."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pytest

from core.errors import ContractError, ErrorList
from survey.instrument_loader import load_instrument
from survey.xlsform import read_xlsform

FIX = Path(__file__).parent / "fixtures" / "contracts"
HELPSEEK = FIX / "instruments" / "helpseek.yaml"

EN, ZH = "label::English (en)", "label::Chinese (zh)"

SURVEY = [
    ["type", "name", EN, ZH, "hint::English (en)", "reverse", "scale", "required"],
    ["begin group", "g1", "Help-seeking", "求助", None, None, None, None],
    ["note", "intro", "Please answer every question.", "请回答每一题。", None, None, None, None],
    ["select_one often4", "hs_1", "I tell my parents when something worries me.", "有烦心事时我会告诉父母。",
     "think of last month", None, "open", "yes"],
    ["select_one often4", "hs_2", "I keep my problems to myself.", "我会把问题藏在心里。", None, "yes", "open",
     "yes"],
    ["text", "comment", "Anything else?", "还有别的吗？", None, None, None, None],
    ["select_one often4", "hs_3", "I ask my parents for help with homework.", "作业有困难时我会向父母求助。",
     None, "no", "seek", None],
    ["select_one   often4", "hs_4", "I would rather not bother anyone.", "我宁愿不麻烦任何人。", None, "TRUE",
     "seek", None],
    ["calculate", "calc1", None, None, None, None, None, None],
    [None, None, None, None, None, None, None, None],
    ["select_one often4", "hs_5", "I call my parents when I feel lonely.", "感到孤单时我会给父母打电话。",
     None, 0, "seek", None],
    ["end group", None, None, None, None, None, None, None],
]
CHOICES = [
    ["list_name", "name", EN, ZH],
    ["yesno", "1", "Yes", "是"],
    ["often4", 1, "Never", "从不"],
    ["often4", 2, "Sometimes", "有时"],
    ["often4", "3", "Often", "经常"],
    ["often4", 4.0, "Always", "总是"],
]
SETTINGS = [
    ["form_id", "form_title", "form_title::Chinese (zh)", "version", "construct", "citation", "license_kind",
     "license_terms", "license_source", "test_retest", "notes"],
    ["helpseek", "Help-seeking and openness (test fixture)", "求助与开放（测试用）", "0.1",
     "help-seeking from parents", "Survey Workbench test fixture", "original",
     "Written for the Survey Workbench tests; MIT licence.", "https://example.org/terms", 0.8,
     "Illustrative items; not validated."],
]
SCALES = [
    ["id", "name::English (en)", "name::Chinese (zh)", "score", "min_items", "better", "subscales", "test_retest"],
    ["open", "Openness", "开放", "mean", 1, "higher", None, None],
    ["seek", "Help-seeking", "求助", "sum", 2, "higher", None, 0.7],
    ["total", "Total", "总分", "mean", 4, None, "seek, open", None],
]


def write_xlsform(path: Path, survey=SURVEY, choices=CHOICES, settings=SETTINGS, scales=SCALES,
                  names=("survey", "choices", "settings", "scales")) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in zip(names, (survey, choices, settings, scales)):
        if rows is None:
            continue
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def _errors(path) -> list[ContractError]:
    with pytest.raises((ContractError, ErrorList)) as ei:
        load_instrument(path)
    e = ei.value
    return list(e.errors) if isinstance(e, ErrorList) else [e]


def test_xlsform_and_yaml_twin_load_to_the_same_instrument(tmp_path):
    xlsx = write_xlsform(tmp_path / "helpseek.xlsx")
    from_yaml = load_instrument(HELPSEEK)
    from_xlsx = load_instrument(xlsx)
    assert from_xlsx.path == xlsx
    assert dataclasses.replace(from_xlsx, path=None) == dataclasses.replace(from_yaml, path=None)
    # and the comparison is not vacuous
    assert from_xlsx.reversed_items == ("hs_2", "hs_4")
    assert from_xlsx.scale("total").items == ("hs_1", "hs_2", "hs_3", "hs_4", "hs_5")
    assert from_xlsx.response.labels[4] == {"en": "Always", "zh": "总是"}


def test_twin_differs_when_a_reverse_key_differs(tmp_path):
    survey = [list(r) for r in SURVEY]
    survey[4][5] = None  # hs_2 no longer reversed
    xlsx = write_xlsform(tmp_path / "h.xlsx", survey=survey)
    assert dataclasses.replace(load_instrument(xlsx), path=None) != dataclasses.replace(
        load_instrument(HELPSEEK), path=None)


def test_without_scales_sheet_scales_come_from_the_scale_column(tmp_path):
    xlsx = write_xlsform(tmp_path / "h.xlsx", scales=None)
    inst = load_instrument(xlsx)
    assert [s.id for s in inst.scales] == ["open", "seek"]
    assert inst.scale("seek").items == ("hs_3", "hs_4", "hs_5")
    assert inst.scale("seek").min_items == 3 and inst.scale("seek").score == "mean"


def test_read_xlsform_returns_the_yaml_shape(tmp_path):
    data, locate = read_xlsform(write_xlsform(tmp_path / "h.xlsx"))
    assert list(data) == ["id", "name", "version", "construct", "citation", "license", "response", "items",
                          "scales", "test_retest", "notes"]
    assert data["response"] == {"min": 1, "max": 4, "labels": {
        "1": {"en": "Never", "zh": "从不"}, "2": {"en": "Sometimes", "zh": "有时"},
        "3": {"en": "Often", "zh": "经常"}, "4": {"en": "Always", "zh": "总是"}}}
    assert locate(("items", 1, "reverse")) == {"where": "sheet 'survey'", "column": "reverse", "row": 5}


# ---------------------------------------------------------------- errors name sheet, row and column


def test_bad_reverse_value(tmp_path):
    survey = [list(r) for r in SURVEY]
    survey[4][5] = "maybe"
    (e,) = _errors(write_xlsform(tmp_path / "h.xlsx", survey=survey))
    assert e.code == "INSTRUMENT_XLSFORM_VALUE" and e.row == 5 and e.column == "reverse"
    assert "sheet 'survey'" in e.message and "'maybe'" in e.message


def test_non_integer_choice_code(tmp_path):
    choices = [list(r) for r in CHOICES]
    choices[3][1] = "two"
    (e,) = _errors(write_xlsform(tmp_path / "h.xlsx", choices=choices))
    assert e.code == "INSTRUMENT_XLSFORM_VALUE" and e.row == 4 and e.column == "name"
    assert "sheet 'choices'" in e.message


def test_items_with_two_lists_and_select_multiple(tmp_path):
    survey = [list(r) for r in SURVEY]
    survey[6][0] = "select_one yesno"
    survey[10][0] = "select_multiple often4"
    errs = _errors(write_xlsform(tmp_path / "h.xlsx", survey=survey))
    assert [(e.code, e.row, e.column) for e in errs] == [
        ("INSTRUMENT_XLSFORM_LIST", 7, "type"), ("INSTRUMENT_XLSFORM_LIST", 11, "type")]


def test_sheet_names_are_exact(tmp_path):
    xlsx = write_xlsform(tmp_path / "h.xlsx", names=("survey", "Choices", "settings", "scales"))
    (e,) = _errors(xlsx)
    assert e.code == "INSTRUMENT_XLSFORM_SHEET"
    assert "found 'Choices': rename it 'choices'" in e.message


def test_missing_column(tmp_path):
    survey = [["kind", "name", EN]] + [[r[0], r[1], r[2]] for r in SURVEY[1:]]
    (e,) = _errors(write_xlsform(tmp_path / "h.xlsx", survey=survey))
    assert e.code == "INSTRUMENT_XLSFORM_COLUMN" and e.row == 1 and e.column == "type"


def test_schema_error_is_located_in_the_sheet(tmp_path):
    survey = [list(r) for r in SURVEY]
    survey[3][1] = "hs.1"  # dots are not allowed in item ids
    errs = _errors(write_xlsform(tmp_path / "h.xlsx", survey=survey))
    assert errs[0].code == "INSTRUMENT_INVALID_VALUE"
    assert (errs[0].row, errs[0].column) == (4, "name") and "sheet 'survey'" in errs[0].message
    settings = [list(r) for r in SETTINGS]
    settings[1][6] = "free"
    (e,) = _errors(write_xlsform(tmp_path / "h2.xlsx", settings=settings))
    assert (e.code, e.row, e.column) == ("INSTRUMENT_INVALID_VALUE", 2, "license_kind")


def test_cross_check_errors_are_located(tmp_path):
    survey = [list(r) for r in SURVEY]
    survey[6][6] = "seek open"  # hs_3 in two item-listed scales
    errs = _errors(write_xlsform(tmp_path / "h.xlsx", survey=survey))
    assert errs[0].code == "INSTRUMENT_ITEM_IN_TWO_SCALES"
    assert (errs[0].row, errs[0].column) == (7, "scale")
    scales = [list(r) for r in SCALES]
    scales[3][6] = "seek opn"
    (e,) = _errors(write_xlsform(tmp_path / "h2.xlsx", scales=scales))
    assert (e.code, e.row, e.column) == ("INSTRUMENT_UNKNOWN_SUBSCALE", 4, "subscales")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_unreadable_workbooks(tmp_path, content):
    p = tmp_path / "bad.xlsx"
    p.write_bytes(content)
    (e,) = _errors(p)
    assert e.code == "INSTRUMENT_XLSFORM_UNREADABLE" and e.file == str(p)


def test_xlsform_that_expands_to_huge_xml_is_refused_before_reading(tmp_path):
    # a small file on disk whose sheet part expands to 40 MiB (a zip bomb, issue 10)
    import zipfile

    import openpyxl

    from core.errors import ContractError
    from survey.xlsform import read_xlsform

    wb = openpyxl.Workbook()
    wb.active.title = "survey"
    wb.active.append(["type", "name", "label"])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b" " * (40 * 2**20) + b"</worksheet>")
            zout.writestr(info.filename, data)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ContractError) as err:
        read_xlsform(bomb)
    assert err.value.code == "INSTRUMENT_XLSFORM_TOO_LARGE" and "MiB" in str(err.value)

"""`workbench instruments`, `workbench instruments show ID` and `workbench init DIR`."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey import load_study
from survey.instrument_loader import bundled_ids, load_instrument
from workbench.cli import main

FIX = Path(__file__).parent / "fixtures" / "contracts"

needs_bundled = pytest.mark.skipif(not {"rses", "phq9"} <= set(bundled_ids()),
                                   reason="bundled instruments rses and phq9 not present")


@needs_bundled
def test_list_shows_every_bundled_instrument_with_kind_and_terms(capsys):
    assert main(["instruments"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "kind", "items", "scales", "terms"]
    for iid in bundled_ids():
        inst = load_instrument(iid)
        row = next(x for x in lines if x.startswith(iid + " "))
        kind = {"full_text": "full text", "keys_only": "keys only", "original": "original"}[inst.license.kind]
        assert kind in row, iid
        assert inst.license.terms.split()[0] in row, iid
    assert f"{len(bundled_ids())} instruments" in out


@needs_bundled
def test_show_full_text_instrument_prints_both_languages(capsys):
    assert main(["instruments", "show", "phq9"]) == 0
    out = capsys.readouterr().out
    inst = load_instrument("phq9")
    first = inst.items[0]
    assert first.text["en"] in out and first.text["zh"] in out
    assert inst.license.terms[:40] in out and inst.citation[:30] in out
    for sc in inst.scales:
        assert f"phq9.{sc.id}" in out
        assert ", ".join(sc.items) in out


@needs_bundled
def test_show_with_lang_prints_one_language(capsys):
    assert main(["instruments", "show", "phq9", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    first = load_instrument("phq9").items[0]
    assert first.text["zh"] in out and first.text["en"] not in out


@needs_bundled
def test_show_keys_only_instrument_says_text_is_not_included(capsys):
    assert main(["instruments", "show", "rses"]) == 0
    out = capsys.readouterr().out
    inst = load_instrument("rses")
    assert "(text not included)" in out and "item-text" in out
    for item_id in inst.reversed_items:
        assert any(line.strip().startswith(f"R {item_id} ") for line in out.splitlines()), item_id


def test_show_a_file_with_reverse_flags_and_scales(capsys):
    assert main(["instruments", "show", str(FIX / "instruments" / "helpseek.yaml")]) == 0
    out = capsys.readouterr().out
    assert "R hs_2" in out and "R hs_4" in out and "  hs_1" in out
    assert "有烦心事时我会告诉父母。" in out and "I tell my parents when something worries me." in out
    assert "helpseek.total: Total / 总分 = seek + open" in out
    assert "items: hs_1, hs_2, hs_3, hs_4, hs_5" in out
    assert "1  Never / 从不" in out
    assert "Written for the Survey Workbench tests" in out


def test_show_unknown_id_is_a_clear_error(capsys):
    assert main(["instruments", "show", "nosuchscale"]) == 2
    err = capsys.readouterr().err
    assert "[INSTRUMENT_NOT_FOUND]" in err and "Traceback" not in err


def test_show_without_id(capsys):
    assert main(["instruments", "show"]) == 2
    assert "give an instrument id" in capsys.readouterr().err


def test_show_broken_file_exits_2(tmp_path, capsys):
    p = tmp_path / "x.yaml"
    p.write_text("id: x\nname: {en: X}\n", encoding="utf-8")
    assert main(["instruments", "show", str(p)]) == 2
    err = capsys.readouterr().err
    assert "INSTRUMENT_MISSING_KEY" in err and "license" in err


# ---------------------------------------------------------------- workbench init


@needs_bundled
def test_init_creates_a_study_folder_that_loads(tmp_path, capsys):
    folder = tmp_path / "my study"
    assert main(["init", str(folder)]) == 0
    assert "created" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore", "data", "instruments", "study.yaml"]
    assert (folder / "data" / "README.md").is_file() and (folder / "instruments" / "README.md").is_file()
    gitignore = (folder / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".workbench-key" in gitignore and "output/" in gitignore
    text = (folder / "study.yaml").read_text(encoding="utf-8")
    assert "# " in text and "研究" in text  # commented, in both languages
    study = load_study(folder)  # loads as it is, although the data files do not exist yet
    assert study.id == "my-study"
    assert study.design.type == "cluster_randomized" and study.design.waves == ("baseline", "endline")
    assert study.instruments[0].id == "rses" and study.outcomes[0].scale == "rses.total"
    assert not any(d.path.exists() for d in study.data)


def test_init_template_mentions_every_top_level_and_design_key():
    from survey.schema import load_schema
    from workbench.commands.init import STUDY_TEMPLATE

    schema = load_schema("study")["properties"]
    for key in set(schema) - {"notes"}:
        assert f"{key}:" in STUDY_TEMPLATE, key
    for key in schema["design"]["properties"]:
        assert f"{key}:" in STUDY_TEMPLATE, key


def test_init_refuses_to_overwrite(tmp_path, capsys):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "study.yaml").write_text("id: mine\n", encoding="utf-8")
    assert main(["init", str(folder)]) == 2
    assert "[STUDY_EXISTS]" in capsys.readouterr().err
    assert (folder / "study.yaml").read_text(encoding="utf-8") == "id: mine\n"

"""Privacy canaries through the whole pipeline (issue 6, section 2, first bullet).

A small simulated county study gets unique canary strings in every declared
personal-data column (Chinese names in the UTF-8 baseline and in the GBK platform
endline, pinyin names, phone numbers, addresses, guardian names), distinctive raw
ids, and an undeclared free-text column ``备注``. One baseline row is duplicated
(both copies are quarantined as ``DUPLICATE_ID``) and the copy's free text repeats
the child's declared name. After ``workbench run`` (all notebooks), every output
file is searched with the test's own search (:func:`hardening_study.find_leaks`,
independent of :mod:`survey.scanner`): nothing declared, no raw id and no free text
is published (undeclared columns are read but copied nowhere, quarantine included).
Where a study *uses* a free-text column (as a covariate), its values can reach Table 1:
then the run's own scanner catches a declared name in it, fails the run and removes
the files.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hardening_study import find_leaks, output_files, plant_canaries, simulate_small_county

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = simulate_small_county(tmp_path_factory.mktemp("canary") / "study")
    return folder, plant_canaries(folder)


@pytest.fixture(scope="module")
def run(planted, tmp_path_factory):
    from workbench.pipeline import run_study

    folder, _ = planted
    out = tmp_path_factory.mktemp("canary_out") / "output"
    return run_study(folder, out=out, jobs=2, progress=False)


def test_search_finds_canaries_in_the_raw_files(planted):
    """Positive control: the test's search sees the canaries in UTF-8 and in GBK."""
    folder, info = planted
    hits = find_leaks(folder / "data", {**info["declared"], "raw_id": info["ids"],
                                        "free_text": info["free_clean"]})
    assert set(hits["baseline.csv"]) == {"name", "name_pinyin", "phone", "address",
                                         "guardian_name", "raw_id", "free_text"}
    assert set(hits["endline.csv"]) == {"name", "raw_id"}  # GB18030 bytes


def test_every_kind_of_output_was_searched(run):
    suffixes = {p.suffix for p in output_files(run.output)}
    assert {".ipynb", ".html", ".png", ".svg", ".csv", ".parquet", ".sav", ".json"} <= suffixes


def test_declared_personal_data_and_raw_ids_reach_no_output(run, planted):
    _, info = planted
    assert find_leaks(run.output, {**info["declared"], "raw_id": info["ids"]}) == {}


def test_free_text_of_clean_rows_reaches_no_output(run, planted):
    """Data minimization: an undeclared column is read but published nowhere."""
    _, info = planted
    assert find_leaks(run.output, {"free_text": info["free_clean"]}) == {}


def test_scored_data_keep_only_declared_columns(run, planted):
    from survey.study_loader import load_study

    folder, _ = planted
    study = load_study(folder)
    d = study.design
    declared = {d.id, d.wave, d.arm, d.blocks, *d.clusters, *d.covariates, *d.subgroups}
    declared |= {o.column_name for o in study.outcomes}
    declared |= {i for use in study.instruments for i in use.instrument.item_ids}
    scale_cols = {f"{u.id}.{s.id}" for u in study.instruments for s in u.instrument.scales}
    for name in ("scores.parquet", "items.parquet"):
        cols = set(pd.read_parquet(run.output / "data" / name).columns)
        assert cols <= declared | scale_cols, (name, cols - declared - scale_cols)
    cols = set(pd.read_csv(run.output / "data" / "scores.csv", nrows=1).columns)
    assert "备注" not in cols and not cols & {"name", "phone", "姓名"}


def test_a_declared_value_in_a_quarantined_free_text_reaches_no_output(run, planted):
    """Quarantined rows keep only declared columns, so the free text of a quarantined
    row (which repeats the child's declared name) is published nowhere; the run passes
    its privacy scan."""
    _, info = planted
    assert run.status == "success", run.failures
    assert find_leaks(run.output, {"free_text": [info["free_quarantined"]]}) == {}
    import json

    report = json.loads((run.output / "validation" / "report.json").read_text(encoding="utf-8"))
    assert "备注" in report["counts"]["quarantine_columns_omitted"]


def test_a_used_free_text_column_leaking_a_name_is_caught_and_removed(planted, tmp_path):
    """The scanner as the safety net: a free-text remarks column that the study uses as
    a covariate (a mistake a researcher can make) publishes its values as Table 1 level
    labels. One remark repeats a child's declared name: the run's scanner finds it, the
    run fails, the manifest names the files and the kind, and they are removed."""
    import json
    import shutil

    from hardening_study import edit_study_yaml, read_raw, write_raw

    from workbench.pipeline import run_study

    src, info = planted
    folder = tmp_path / "study"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("output"))
    base, end = read_raw(folder)
    leaked = info["declared"]["name"][10]
    base["备注"] = ["无"] * len(base)
    base.loc[base.index[:6], "备注"] = f"{leaked}的奶奶代填"  # six rows: above min_cell
    write_raw(folder, base, end)
    edit_study_yaml(folder, lambda d: d["design"]["covariates"].append("备注"))
    result = run_study(folder, out=tmp_path / "out", only=["02_baseline"], progress=False)
    manifest = json.loads((result.output / "manifest.json").read_text(encoding="utf-8"))
    assert result.status == "failed" and result.exit_code == 1
    findings = manifest["privacy"]["findings"]
    assert {"file": "tables/table1.csv", "kind": "pii:name"} in findings
    for f in {f["file"] for f in findings}:
        assert not (result.output / f).exists()
    assert any("tables/table1.csv" in f for f in result.failures)
    assert find_leaks(result.output, {"name": [leaked]}) == {}


def test_other_forms_of_declared_values_are_caught_and_removed(planted, tmp_path):
    """Issue 10: the scanner compares normalized forms. A declared name typed with a space
    inside and a declared phone typed with the country code and dashes, in a free-text
    column that the study uses as a covariate (so its levels reach Table 1), are found
    although neither is the declared string, and the files are removed."""
    import json
    import shutil

    from hardening_study import edit_study_yaml, read_raw, write_raw

    from workbench.pipeline import run_study

    src, info = planted
    folder = tmp_path / "study"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("output"))
    base, end = read_raw(folder)
    name = info["declared"]["name"][10]
    phone = info["declared"]["phone"][12]
    spaced = f"{name[0]} {name[1:]}"
    formatted = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    base["备注"] = ["无"] * len(base)
    base.loc[base.index[:6], "备注"] = f"{spaced}的奶奶代填"  # six rows each: above min_cell
    base.loc[base.index[6:12], "备注"] = f"联系电话{formatted}"
    write_raw(folder, base, end)
    edit_study_yaml(folder, lambda d: d["design"]["covariates"].append("备注"))
    result = run_study(folder, out=tmp_path / "out", only=["02_baseline"], progress=False)
    manifest = json.loads((result.output / "manifest.json").read_text(encoding="utf-8"))
    assert result.status == "failed" and result.exit_code == 1
    findings = manifest["privacy"]["findings"]
    assert {"file": "tables/table1.csv", "kind": "pii:name"} in findings
    assert {"file": "tables/table1.csv", "kind": "pii:phone"} in findings
    for f in {f["file"] for f in findings}:
        assert not (result.output / f).exists()
    assert find_leaks(result.output, {"name": [spaced, name], "phone": [formatted, phone]}) == {}


def test_the_workbench_scanner_agrees_the_published_output_is_clean(run, planted):
    from survey.ingest import read_study_data
    from survey.scanner import scan_folder
    from survey.study_loader import load_study

    folder, _ = planted
    sensitive = read_study_data(load_study(folder)).sensitive
    result = scan_folder(run.output, sensitive, key_file=folder / ".workbench-key")
    assert result.ok, result.summary()
    assert result.skipped_short_ids == 0


def test_quarantine_csv_holds_no_undeclared_free_text(planted):
    from survey.study_loader import load_study
    from survey.validation import validate

    folder, info = planted
    q = validate(load_study(folder)).quarantine
    assert len(q) == 2  # both copies of the duplicated id
    assert "备注" not in q.columns


def test_a_failed_cell_reaches_no_output(planted, tmp_path, capsys):
    """Issue 10: a numeric covariate cell that holds a child's name and phone fails
    validation (VALUE_NOT_NUMERIC); the finding names file, row and column, never the
    text, in stdout, report.json, quarantine.csv and the manifest, and the run passes."""
    import shutil

    from hardening_study import read_raw, write_raw

    from workbench import cli

    src, info = planted
    folder = tmp_path / "study"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("output"))
    base, end = read_raw(folder)
    name, phone = info["declared"]["name"][20], info["declared"]["phone"][21]
    cell = f"我是{name}电话{phone}"
    base.loc[base.index[3], "age"] = cell
    write_raw(folder, base, end)
    out = tmp_path / "out"
    code = cli.main(["run", str(folder), "--out", str(out), "--only", "00_data_quality",
                     "--no-progress"])
    printed = capsys.readouterr()
    assert code == 0, printed.out[-3000:] + printed.err[-3000:]
    assert find_leaks(out, {"name": [name, cell], "phone": [phone]}) == {}
    for text in (printed.out, printed.err):
        assert name not in text and phone not in text
    assert cli.main(["scan", str(out), "--study", str(folder)]) == 0
    capsys.readouterr()


def test_a_data_file_named_after_a_child_leaves_a_folder_that_passes_the_scan(
        planted, tmp_path, capsys):
    """Issue 10: the raw file is named after a child (data/<name>.csv). The name is
    personal data wherever a path is written: the scanner has the last word (the
    manifest is written before the scan and records the path hashed), so whatever the
    run's status, the published folder holds the name nowhere and passes `workbench scan`."""
    import shutil

    from hardening_study import edit_study_yaml

    from workbench import cli

    src, info = planted
    folder = tmp_path / "study"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("output"))
    name = info["declared"]["name"][20]
    (folder / "data" / "baseline.csv").rename(folder / "data" / f"{name}.csv")
    edit_study_yaml(folder, lambda d: d["data"][0].update(path=f"data/{name}.csv"))
    out = tmp_path / "out"
    cli.main(["run", str(folder), "--out", str(out), "--only", "00_data_quality",
              "--no-progress"])
    capsys.readouterr()
    assert (out / "manifest.json").is_file()
    assert find_leaks(out, {"name": [name]}) == {}
    assert cli.main(["scan", str(out), "--study", str(folder)]) == 0
    capsys.readouterr()


def test_a_free_text_category_level_reaches_no_output(planted, tmp_path):
    """Issue 10: a guardian_type cell typed as free text, with a guardian's name and phone
    (held by one child, below min_cell), is not published as a category level in Table 1,
    the balance table, the subgroups or the reports: it is merged into 'other'."""
    import shutil

    from hardening_study import read_raw, write_raw

    from workbench.pipeline import run_study

    src, info = planted
    folder = tmp_path / "study"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("output"))
    base, end = read_raw(folder)
    guardian = info["declared"]["guardian_name"][30]
    phone = info["declared"]["phone"][31]
    level = f"其他:姑姑{guardian}照顾,电话{phone}"
    base.loc[base.index[7], "guardian_type"] = level
    write_raw(folder, base, end)
    result = run_study(folder, out=tmp_path / "out", progress=False,
                       only=["02_baseline", "03_effects"])
    assert find_leaks(result.output, {"level": [level, f"姑姑{guardian}照顾"],
                                      "guardian_name": [guardian], "phone": [phone]}) == {}
    # the published tables were made, with the level merged into 'other'; the child-level
    # score files keep the cell as typed, so the scanner (the last word) finds the declared
    # guardian name and phone there and removes them: the run says so (and validation warns
    # FREE_TEXT_CATEGORY on the cell, which is the thing to fix)
    for table in ("table1", "balance", "subgroups"):
        assert (result.output / "tables" / f"{table}.csv").is_file(), table
    assert (result.output / "reports" / "02_baseline.html").is_file()
    flagged = [f for f in result.failures if "privacy scan" in f]
    assert all("tables/" not in f and "reports/" not in f for f in flagged), flagged

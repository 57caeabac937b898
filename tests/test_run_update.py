"""The default commands one after the other, ``--only`` updates, counts, "not applicable"
notebooks, and what the run, validate and score commands may write (issue 9 crash
classes 7, 8 and 9; issue 10 "Leaks 1" and "Raw files").

The pipeline tests use the ``tiny_study`` fixture and small test notebooks, so that a run
takes seconds; they are marked ``slow`` because each starts kernels.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from notebook_factory import write_notebook

from core.errors import Issue
from workbench import cli
from workbench.pipeline import describe_issue, run_study

PARAMS = 'study: str = ""\nrun_dir: str = "."\nseed: int = 1\nlang: str = ""'


def _notebook(path: Path, *cells: str) -> Path:
    return write_notebook(path, PARAMS, *cells)


@pytest.fixture
def notebooks(tmp_path) -> Path:
    """10_ok and 20_more write a table each (with the seed); 30_na has nothing to say."""
    d = tmp_path / "notebooks"
    d.mkdir()
    for name in ("10_ok", "20_more"):
        _notebook(d / f"{name}.ipynb",
                  "import pathlib\n"
                  f"pathlib.Path('tables/{name}.csv').write_text(f'seed\\n{{seed}}\\n')")
    _notebook(d / "30_na.ipynb",
              "import json, pathlib\n"
              "pathlib.Path('status').mkdir(exist_ok=True)\n"
              "pathlib.Path('status/30_na.json').write_text(json.dumps({'status': "
              "'not_applicable', 'reason_en': 'no arm: nothing to compare', "
              "'reason_zh': '没有对照组'}))")
    return d


def _quarantine_one_child(study: Path) -> None:
    """The first child's endline row claims the other arm: both its rows are quarantined."""
    csv = study / "data" / "all.csv"
    df = pd.read_csv(csv, dtype=str)
    first = df["student_id"].iloc[0]
    rows = df.index[(df["student_id"] == first) & (df["wave"] == "endline")]
    df.loc[rows, "arm"] = "control" if df.loc[rows[0], "arm"] == "treatment" else "treatment"
    df.to_csv(csv, index=False)


# -- crash 7, crash 9 and not-applicable notebooks: one run --------------------------------

@pytest.mark.slow
def test_validate_then_run_with_defaults_counts_and_not_applicable(tiny_study, notebooks,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_NOTEBOOK_DIR", str(notebooks))
    _quarantine_one_child(tiny_study)
    assert cli.main(["validate", str(tiny_study)]) == 1  # errors: exit 1, as documented
    assert (tiny_study / "output" / "validation" / "report.json").is_file()
    # and a validate killed later left its staging folders beside validation/
    for kind in ("partial", "scratch"):
        (tiny_study / "output" / f".validation.{kind}-{2 ** 22 + 7}").mkdir()
    capsys.readouterr()

    # the walk-through's next command, with the default output folder (crash 7)
    rc = cli.main(["run", str(tiny_study), "--only", "10_ok", "30_na", "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    m = json.loads((tiny_study / "output" / "manifest.json").read_text("utf-8"))
    assert m["status"] == "success"
    assert not list((tiny_study / "output").glob(".validation.*"))

    # crash 9: the counts are printed and recorded; the quarantine is not silent
    counts = next(s for s in m["steps"] if s["name"] == "validate")["counts"]
    assert (counts["rows_read"], counts["rows_quarantined"], counts["rows_clean"]) == (320, 2, 318)
    assert counts["errors"] >= 1
    analysed = {(r["arm"], r["wave"]): r["n"] for r in counts["analysed"]}
    assert sum(analysed.values()) == 318 and set(analysed) == {
        (a, w) for a in ("control", "treatment") for w in ("baseline", "endline")}
    assert "rows: 320 read, 2 quarantined" in out
    assert "analysed (children per arm and wave): control: baseline" in out
    assert "run succeeded with warnings" in out
    warning = next(x for x in err.splitlines() if x.startswith("WARNING: validation:"))
    assert "2 of 320 rows were quarantined" in warning
    assert any("2 of 320 rows were quarantined" in w for w in m["warnings"])
    assert cli.main(["run", str(tiny_study), "--only", "30_na", "--no-progress",
                     "--strict"]) == 1
    capsys.readouterr()

    # not applicable: recorded with the reasons; the run still succeeds
    m = json.loads((tiny_study / "output" / "manifest.json").read_text("utf-8"))
    nbs = {n["name"]: n for n in m["notebooks"]}
    assert nbs["30_na"]["status"] == "not_applicable"
    assert nbs["30_na"]["reason_en"] == "no arm: nothing to compare"
    assert nbs["30_na"]["reason_zh"] == "没有对照组"
    assert nbs["10_ok"]["status"] == "success" and "reason_en" not in nbs["10_ok"]
    assert m["status"] == "success" and m["failures"] == []

    # and validate again over the run's output (it replaces only validation/)
    assert cli.main(["validate", str(tiny_study)]) == 1
    assert (tiny_study / "output" / "manifest.json").is_file()


# -- crash 8: --only updates an earlier output ---------------------------------------------

@pytest.mark.slow
def test_only_updates_an_earlier_run_and_records_where_each_notebook_came_from(
        tiny_study, notebooks):
    first = run_study(tiny_study, only=["10_ok", "20_more"], notebook_dir=notebooks,
                      progress=False, seed=1)
    assert first.status == "success"
    out = tiny_study / "output"
    more_table = (out / "tables" / "20_more.csv").read_bytes()
    more_report = (out / "reports" / "20_more.html").read_bytes()

    again = run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False,
                      seed=2)
    assert again.status == "success", again.failures
    # the other notebook's results are kept, byte for byte
    assert (out / "tables" / "20_more.csv").read_bytes() == more_table
    # (its footer shows the hash of the folder's new manifest instead of the earlier one's)
    stamp = re.compile(rb'(<span class="manifest-sha256">)[0-9a-f]{12}(</span>)')
    kept_report = (out / "reports" / "20_more.html").read_bytes()
    assert stamp.sub(rb"\1\2", kept_report) == stamp.sub(rb"\1\2", more_report)
    assert kept_report != more_report and len(kept_report) == len(more_report)
    assert (out / "notebooks" / "20_more.ipynb").is_file()
    assert (out / "tables" / "10_ok.csv").read_text() == "seed\n2\n"
    m = json.loads((out / "manifest.json").read_text("utf-8"))
    nbs = {n["name"]: n for n in m["notebooks"]}
    assert list(nbs) == ["10_ok", "20_more"]
    assert nbs["10_ok"]["run_id"] == m["run_id"] != first.manifest["run_id"]
    assert nbs["20_more"]["run_id"] == first.manifest["run_id"]
    assert nbs["20_more"]["run_started_at"] == first.manifest["started_at"]
    assert nbs["20_more"]["kept_from_run"] is True and "kept_from_run" not in nbs["10_ok"]
    assert nbs["20_more"]["parameters"]["seed"] == 1 and nbs["10_ok"]["parameters"]["seed"] == 2
    assert m["updated_from"]["run_id"] == first.manifest["run_id"]
    assert m["updated_from"]["kept"] == ["20_more"]
    assert m["updated_from"]["inputs_changed"] is False
    # every output that is still the earlier run's file says so
    origin = {o["path"]: o.get("from_run") for o in m["outputs"]}
    for kept in ("tables/20_more.csv", "reports/20_more.html", "notebooks/20_more.ipynb"):
        assert origin[kept] == first.manifest["run_id"], kept
    for new in ("tables/10_ok.csv", "reports/10_ok.html", "reports/index.html",
                "validation/report.json", "data/scores.parquet"):
        assert origin[new] is None, new
    index = (out / "reports" / "index.html").read_text("utf-8")
    assert "20_more" in index and "10_ok" in index
    assert m["privacy"]["scan"] == "passed"
    assert sorted(p.name for p in tiny_study.glob(".output.*")) == []


def test_only_refuses_to_update_the_output_of_another_study(tiny_study, notebooks, capsys):
    out = tiny_study / "output"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps(
        {"status": "success", "workbench": {}, "study": {"id": "another"}}))
    os.environ["WORKBENCH_NOTEBOOK_DIR"] = str(notebooks)
    try:
        rc = cli.main(["run", str(tiny_study), "--only", "10_ok", "--no-progress"])
    finally:
        del os.environ["WORKBENCH_NOTEBOOK_DIR"]
    err = capsys.readouterr().err
    assert rc == 2 and "OUTPUT_NOT_A_RUN_FOLDER" in err and "another" in err
    assert json.loads((out / "manifest.json").read_text())["study"]["id"] == "another"


# -- issue 10: nothing written after the scan; messages quote no cell value ----------------

@pytest.mark.slow
def test_a_data_file_named_after_a_child_never_reaches_the_manifest(tiny_study, notebooks):
    df = pd.read_csv(tiny_study / "data" / "all.csv", dtype=str)
    child = "秦诗家"
    df.loc[0, "name"] = child
    (tiny_study / "data" / "all.csv").unlink()
    df.to_csv(tiny_study / "data" / f"{child}.csv", index=False)
    yaml = (tiny_study / "study.yaml").read_text("utf-8")
    (tiny_study / "study.yaml").write_text(yaml.replace("data/all.csv", f"data/{child}.csv"),
                                           encoding="utf-8")
    res = run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False,
                    argv=["workbench", "run", str(tiny_study)])
    out = tiny_study / "output"
    text = (out / "manifest.json").read_text("utf-8")
    assert child not in text
    m = json.loads(text)
    data_input = next(i for i in m["inputs"] if i["role"] == "data")
    assert data_input["path_redacted"] is True and data_input["path"].startswith("sha256:")
    assert "sha256" in data_input  # the file's hash still identifies the input
    assert res.manifest["status"] == m["status"]
    # the published folder passes the scanner on its own (`workbench scan`)
    assert cli.main(["scan", str(out), "--study", str(tiny_study)]) == 0


def test_fatal_validation_messages_quote_no_cell_value(tiny_study, monkeypatch):
    from survey import validation as validation_module

    secret = "我是秦诗家电话17100402724"
    real = validation_module.validate

    def fatal(study):
        result = real(study)
        result.fatal = True
        result.issues.append(Issue("VALUE_NOT_NUMERIC", "error", f"{secret!r} is not a number",
                                   file="data/all.csv", row=7, column="age", value=secret,
                                   expected="a number"))
        return result

    monkeypatch.setattr(validation_module, "validate", fatal)
    res = run_study(tiny_study, only=["00_data_quality"], progress=False)
    assert res.status == "failed"
    assert not any(secret in f for f in res.failures), res.failures
    assert any("[VALUE_NOT_NUMERIC] data/all.csv, row 7, column 'age'" in f
               for f in res.failures)
    assert secret not in (tiny_study / "output" / "manifest.json").read_text("utf-8")


def test_describe_issue_gives_place_and_expectation_not_the_value():
    issue = Issue("VALUE_NOT_NUMERIC", "error", "'王小明 13912345678' is not a number",
                  file="data/a.csv", row=7, column="age", value="王小明 13912345678",
                  expected="a number")
    line = describe_issue(issue)
    assert line == "error [VALUE_NOT_NUMERIC] data/a.csv, row 7, column 'age' (expected a number)"


# -- issue 10: validate and score write only where they may --------------------------------

def _bytes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["validate", "score"])
def test_no_command_writes_inside_the_data_folder(tiny_study, capsys, command):
    (tiny_study / "data" / "scores.csv").write_text("raw,file\n1,2\n")
    (tiny_study / "data" / "quarantine.csv").write_text("raw,file\n1,2\n")
    before = _bytes(tiny_study / "data")
    for target in (tiny_study / "data", tiny_study / "data" / "sub"):
        rc = cli.main([command, str(tiny_study), "--out", str(target)])
        err = capsys.readouterr().err
        assert rc == 2 and "OUTPUT_INSIDE_DATA" in err, err
    assert _bytes(tiny_study / "data") == before


@pytest.mark.parametrize("command,theirs", [("validate", "report.json"),
                                            ("validate", "quarantine.csv"),
                                            ("score", "scores.csv"),
                                            ("score", "notes.txt")])
def test_validate_and_score_never_overwrite_files_they_did_not_write(tiny_study, tmp_path,
                                                                     capsys, command, theirs):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / theirs).write_text("someone else's file")
    rc = cli.main([command, str(tiny_study), "--out", str(target)])
    err = capsys.readouterr().err
    assert rc == 2 and "OUTPUT_NOT_A_RUN_FOLDER" in err, err
    assert [p.name for p in target.iterdir()] == [theirs]
    assert (target / theirs).read_text() == "someone else's file"


@pytest.mark.parametrize("command", ["validate", "score"])
def test_validate_and_score_replace_their_own_output_and_clean_stale_partials(
        tiny_study, tmp_path, capsys, command):
    target = tmp_path / "out"
    stale = tmp_path / f".out.partial-{2 ** 22 + 12345}"  # a pid that is not running
    stale.mkdir()
    (stale / "leftover.csv").write_text("unscanned")
    assert cli.main([command, str(tiny_study), "--out", str(target)]) == 0
    assert not stale.exists()
    first = _bytes(target)
    assert first
    assert cli.main([command, str(tiny_study), "--out", str(target)]) == 0
    assert _bytes(target).keys() == first.keys()
    assert sorted(p.name for p in tmp_path.glob(".out.*")) == []
    capsys.readouterr()


def test_validate_scans_what_it_writes(tiny_study, tmp_path, capsys, monkeypatch):
    from survey import validation as validation_module

    real = validation_module.validate
    phone = "17100402724"
    df = pd.read_csv(tiny_study / "data" / "all.csv", dtype=str)
    df.loc[0, "name"] = phone  # a declared personal value ...
    df.to_csv(tiny_study / "data" / "all.csv", index=False)

    def quoting(study):  # ... that a finding quotes
        result = real(study)
        result.issues.append(Issue("VALUE_NOT_NUMERIC", "error", f"'{phone}' is not a number",
                                   file="data/all.csv", row=2, column="age", value=phone))
        return result

    monkeypatch.setattr(validation_module, "validate", quoting)
    target = tmp_path / "v"
    rc = cli.main(["validate", str(tiny_study), "--out", str(target)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "report.json" in err and "withheld" in err
    assert not (target / "report.json").exists()
    assert all(phone not in p.read_text("utf-8") for p in target.iterdir())

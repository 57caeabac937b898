"""``workbench publish RUN DIR``: a shareable copy without child-level files (issue 10, Leaks 5).

One quick run of the tiny study (notebook 00 only). Checks: the copy has tables,
figures, reports and a manifest but no ``data/``, ``validation/`` or ``notebooks/``;
the run's manifest marks ``data/*`` not publishable and says why; a personal value
in a publishable file publishes nothing; the run folder itself, a folder inside it
and a full run folder are refused as targets; an earlier published folder is replaced.
"""

from __future__ import annotations

import json
import shutil

import pytest

from core.errors import WorkbenchError
from workbench.cli import main as cli_main
from workbench.commands.publish import publish_run


@pytest.fixture(scope="module")
def run_output(tmp_path_factory):
    from conftest import write_tiny_study

    from workbench.pipeline import run_study

    folder = write_tiny_study(tmp_path_factory.mktemp("publish") / "study")
    result = run_study(folder, out=folder.parent / "output", jobs=1, progress=False,
                       only=["00_data_quality"])
    assert result.status == "success", result.failures
    return folder, result.output


def test_the_run_manifest_says_what_is_not_for_publication(run_output):
    _, out = run_output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    flags = {o["path"]: o["publishable"] for o in manifest["outputs"]}
    assert flags["data/scores.csv"] is False and flags["data/scores.parquet"] is False
    assert flags["validation/quarantine.csv"] is False
    assert flags["tables/validation.csv"] is True
    assert any(p.startswith("reports/") and v for p, v in flags.items())
    assert "not for publication" in manifest["publication"]["note"]
    assert "data" in manifest["publication"]["not_for_publication"]


def test_publish_copies_only_the_publishable_files(run_output, tmp_path, capsys):
    folder, out = run_output
    dest = tmp_path / "share"
    assert cli_main(["publish", str(out), str(dest)]) == 0
    assert "no child-level data" in capsys.readouterr().out
    top = sorted(p.name for p in dest.iterdir())
    assert "data" not in top and "validation" not in top and "notebooks" not in top
    assert {"manifest.json", "tables", "reports"} <= set(top)
    assert (dest / "reports" / "index.html").is_file()
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["path"] for o in manifest["outputs"]}
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"}
    assert all(o["publishable"] for o in manifest["outputs"])
    assert manifest["published"]["from_run_id"] == json.loads(
        (out / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    # no staging folders are left beside it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".share.")]
    # publishing again replaces the earlier published folder
    (dest / "tables" / "stale.csv").write_text("x\n", encoding="utf-8")
    publish_run(out, dest)
    assert not (dest / "tables" / "stale.csv").exists()


def test_a_personal_value_publishes_nothing(run_output, tmp_path):
    folder, out = run_output
    bad = tmp_path / "run"
    shutil.copytree(out, bad)
    # the tiny study's pii column is `name`: "Student S01001" is a child's declared name
    (bad / "tables" / "validation.csv").write_text("note\nStudent S01001\n", encoding="utf-8")
    dest = tmp_path / "share"
    with pytest.raises(WorkbenchError) as err:
        publish_run(bad, dest, study=folder)
    assert err.value.code == "PUBLISH_SCAN_FAILED"
    assert "S01001" not in str(err.value)
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".share.")]


@pytest.mark.parametrize("where", ["same", "inside", "full_run"])
def test_targets_that_are_refused(run_output, tmp_path, where):
    _, out = run_output
    if where == "same":
        dest = out
    elif where == "inside":
        dest = out / "share"
    else:
        dest = tmp_path / "other_run"
        shutil.copytree(out, dest)
    with pytest.raises(WorkbenchError) as err:
        publish_run(out, dest)
    assert err.value.code == "PUBLISH_TARGET"
    assert (out / "data" / "scores.csv").is_file()  # the run is untouched


def test_publish_needs_a_run(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(WorkbenchError) as err:
        publish_run(tmp_path / "run", tmp_path / "share")
    assert err.value.code == "PUBLISH_NOT_A_RUN"
    assert cli_main(["publish", str(tmp_path / "run"), str(tmp_path / "share")]) == 2

"""Reproducibility of ``workbench run`` (issue 6, section 4).

The county example is run three times: twice with its own seed (runs ``a`` and ``b``)
and once with ``--seed 7`` (run ``c``). Run ``a`` is the session's shared run of the
example (``tests/conftest.py::example_runs``, ``workbench run`` in a subprocess); ``b`` and
``c`` run a copy of the example folder, key file included (the same pseudonyms), with
:func:`workbench.pipeline.run_study` in this process.

* ``a`` vs ``b``: every file under ``data/``, ``tables/``, ``validation/`` and
  ``figures/`` is byte-identical; the executed notebooks differ only in execution
  metadata (``metadata.papermill`` of the notebook and of each cell, the
  ``metadata.execution`` timestamps of each cell, and the id papermill gives the
  injected-parameters cell, see below); the HTML reports only in that cell id and
  ``index.html`` in the seconds per notebook; the manifests only in timings
  (``seconds``, ``started_at``, ``finished_at``), paths (``command.argv``, the study
  folder's ``study.path``) and the sizes of the notebooks and reports (which hold
  timestamps).
* ``a`` vs ``c``: only the simulation-based output (``tables/power_simulation.csv``
  and what shows it: the executed ``05_power`` notebook and its report) changes, and
  the ``seed`` parameter of each notebook.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kernel,
              pytest.mark.xdist_group("examples")]  # shares runs (conftest): one worker

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "county-cluster-trial"
BYTE_IDENTICAL = ("data", "tables", "validation", "figures")
SEED_DEPENDENT = {"tables/power_simulation.csv",  # 05_power's simulation check
                  # 07_sensitivity: the imputations and the Lee bounds' cluster bootstrap
                  "tables/sensitivity.csv", "tables/delta_adjustment.csv",
                  "figures/sensitivity.png", "figures/sensitivity.svg",
                  "figures/delta_adjustment.png", "figures/delta_adjustment.svg"}
INJECTED = "injected-parameters"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, example_runs):
    from workbench.pipeline import run_study

    out = {"a": example_runs(EXAMPLE.name)}  # the session's shared run (one run less)
    manifest = json.loads((out["a"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "success", manifest.get("failures")
    root = tmp_path_factory.mktemp("repro")
    study = root / EXAMPLE.name
    # with the key file that run `a` used or made: the same pseudonyms
    shutil.copytree(EXAMPLE, study, ignore=shutil.ignore_patterns("output"))
    assert (study / ".workbench-key").is_file()
    for name, seed in (("b", None), ("c", 7)):
        res = run_study(study, out=root / f"out_{name}", jobs=2, progress=False, seed=seed)
        assert res.status == "success", res.failures
        out[name] = res.output
    return out


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def normalized_notebook(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"].pop("papermill", None)
    for cell in nb["cells"]:
        cell["metadata"].pop("papermill", None)
        cell["metadata"].pop("execution", None)
        if INJECTED in cell["metadata"].get("tags", []):
            cell["id"] = INJECTED
    return nb


def injected_ids(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c["id"] for c in nb["cells"] if INJECTED in c["metadata"].get("tags", [])]


def normalized_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(celltag_injected-parameters" id="cell-id=)[0-9a-f]+', r"\1X", text)
    # the reproducibility footer names the run and the commit
    text = re.sub(r'(<span class="run-id">)[^<]*(</span>)', r"\1RUN\2", text)
    text = re.sub(r'(<span class="git-commit">)[^<]*(</span>)', r"\1COMMIT\2", text)
    # and the manifest's hash, which records the run's timings (compared without them below)
    text = re.sub(r'(<span class="manifest-sha256">)[0-9a-f]{12}(</span>)', r"\1MANIFEST\2", text)
    return re.sub(r"<td>\d+(\.\d+)?</td></tr>", "<td>SECONDS</td></tr>", text)


def normalized_manifest(path: Path) -> dict:
    m = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    for key in ("started_at", "finished_at", "seconds", "run_id"):  # run_id: new each run
        m.pop(key, None)
    m["command"].pop("argv", None)
    m["study"].pop("path", None)  # run a is the example folder, b and c its copy
    m["workbench"].pop("git_commit", None)  # the lead may commit while the test runs
    for entry in m["steps"] + m["notebooks"]:
        for key in ("seconds", "run_id", "run_started_at"):
            entry.pop(key, None)
    for entry in m["outputs"]:
        if "sha256" not in entry:  # notebooks and HTML: sizes vary with timestamps
            entry.pop("bytes", None)
    return m


def test_same_files(runs):
    assert files(runs["a"]) == files(runs["b"]) == files(runs["c"])


@pytest.mark.parametrize("sub", BYTE_IDENTICAL)
def test_data_tables_validation_and_figures_are_byte_identical(runs, sub):
    names = [f for f in files(runs["a"]) if f.startswith(sub + "/")]
    assert names
    differ = [f for f in names if (runs["a"] / f).read_bytes() != (runs["b"] / f).read_bytes()]
    assert differ == []


def test_notebooks_differ_only_in_execution_metadata(runs):
    for nb in sorted((runs["a"] / "notebooks").glob("*.ipynb")):
        other = runs["b"] / "notebooks" / nb.name
        assert nb.read_bytes() != other.read_bytes()  # they do carry timestamps...
        assert normalized_notebook(nb) == normalized_notebook(other), nb.name  # ...only those


def test_the_injected_parameters_cell_id_is_stable(runs):
    for nb in sorted((runs["a"] / "notebooks").glob("*.ipynb")):
        assert injected_ids(nb) == injected_ids(runs["b"] / "notebooks" / nb.name)


def test_reports_differ_only_in_the_injected_cell_id_and_timings(runs):
    for page in sorted((runs["a"] / "reports").glob("*.html")):
        assert normalized_html(page) == normalized_html(runs["b"] / "reports" / page.name), page.name


def test_manifests_differ_only_in_timings_and_paths(runs):
    a, b = (normalized_manifest(runs[k] / "manifest.json") for k in ("a", "b"))
    assert a == b


def test_another_seed_changes_only_the_simulation_outputs(runs):
    changed = {f for f in files(runs["a"]) if f.split("/", 1)[0] in BYTE_IDENTICAL
               and (runs["a"] / f).read_bytes() != (runs["c"] / f).read_bytes()}
    assert changed == SEED_DEPENDENT


def test_another_seed_changes_only_the_seeded_notebooks_outputs(runs):
    for nb in sorted((runs["a"] / "notebooks").glob("*.ipynb")):
        a, c = normalized_notebook(nb), normalized_notebook(runs["c"] / "notebooks" / nb.name)
        for x in (a, c):  # the seed parameter itself differs, by design
            for cell in x["cells"]:
                if cell["id"] == INJECTED:
                    cell["source"] = re.sub(r"seed = \d+", "seed = S", "".join(cell["source"]))
        if nb.stem in ("05_power", "07_sensitivity"):
            assert a != c
        else:
            assert a == c, nb.name


def test_another_seed_in_the_manifest(runs):
    a, c = (normalized_manifest(runs[k] / "manifest.json") for k in ("a", "c"))
    assert (a.pop("seed"), c.pop("seed")) == (20240609, 7)
    sha = {k: {o["path"]: o.get("sha256") for o in m.pop("outputs")} for k, m in (("a", a),
                                                                                  ("c", c))}
    # the study snapshot records the run's seed
    assert {p for p in sha["a"] if sha["a"][p] != sha["c"][p]} == SEED_DEPENDENT | {"study.json"}
    for m in (a, c):
        for nb in m["notebooks"]:
            nb["parameters"].pop("seed", None)
    assert a == c

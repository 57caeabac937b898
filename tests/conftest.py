"""Shared fixtures and the test tiers.

``tiny_study``: a small cluster-randomized study folder (8 schools x 20 students x
2 waves, the bundled ``rses`` instrument) that ``workbench run --only 00_data_quality``
runs in a few seconds.

Tiers (markers registered in pyproject.toml): ``kernel`` marks every test that starts a
Jupyter kernel (executes a notebook with papermill, or runs ``workbench run``), directly or
through a fixture; ``slow`` marks long simulations, the full pipeline on the examples and
the zoo. ``pytest -m "not kernel and not slow"`` is the fast tier (under a minute).
A test is a kernel test by a ``pytestmark`` in its file (files of kernel tests only), by
a fixture of :data:`KERNEL_FIXTURES`, or by name in :data:`KERNEL_TESTS`. The marks are
checked while the tests run: each test gets its own, not yet existing ``IPYTHONDIR``,
which every IPython kernel creates when it starts (also in ``workbench run``'s child
processes, which inherit the environment); a test that is not marked ``kernel`` and
leaves that folder behind fails at teardown, naming the marker it needs.
"""

from __future__ import annotations

import functools
import gc
import os as _os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings as _settings

# As in every workbench process (workbench/__init__.py): jsonschema without rfc3987_syntax,
# whose parsers take 1.2 s to build, whichever test module imports jsonschema first.
sys.modules.setdefault("rfc3987_syntax", None)

# Property and fuzz tests: deterministic in the default (CI) run, so the suite cannot
# flake; a long exploratory run (WORKBENCH_FUZZ_EXAMPLES=...) draws new examples.
_settings.register_profile("default-run", derandomize=True, deadline=None)
_settings.register_profile("explore", deadline=None)
_settings.load_profile("explore" if _os.environ.get("WORKBENCH_FUZZ_EXAMPLES") else "default-run")
# A notebook cell that hangs in a test fails after 5 minutes instead of stalling CI.
_os.environ.setdefault("WORKBENCH_CELL_TIMEOUT", "300")


TINY_STUDY_YAML = """\
id: tiny
title: {en: Tiny trial, zh: 小型试验}
language: en
design: {type: cluster_randomized, id: student_id, wave: wave, waves: [baseline, endline],
         arm: arm, control: control, clusters: [school_id], covariates: [gender, age],
         subgroups: [gender]}
instruments: [{id: rses}]
data: [{path: data/all.csv}]
privacy: {pii: [name], min_cell: 5}
outcomes: [{id: self_esteem, scale: rses.total, better: higher, primary: true}]
analysis: {alpha: 0.05, adjust: holm, seed: 1}
"""

RSES_REVERSED = (2, 5, 6, 8, 9)


def write_tiny_study(folder: Path, *, schools: int = 8, per_school: int = 20,
                     seed: int = 7) -> Path:
    """Write the tiny study into ``folder`` and return ``folder``.

    Answers follow a latent self-esteem (school effect + student effect + a small
    treatment effect at endline), keyed so that the reversed items run the other way;
    Cronbach's alpha is therefore clearly positive.
    """
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "all.csv").write_bytes(_tiny_csv(schools, per_school, seed))
    (folder / "study.yaml").write_text(TINY_STUDY_YAML, encoding="utf-8")
    return folder


@functools.lru_cache(maxsize=8)
def _tiny_csv(schools: int, per_school: int, seed: int) -> bytes:
    """The bytes of ``data/all.csv`` (drawn once per session and shape: many tests use it)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        school = f"S{s + 1:02d}"
        arm = "treatment" if s % 2 == 0 else "control"
        school_effect = rng.normal(0, 0.3)
        for k in range(per_school):
            sid = f"{school}{k + 1:03d}"
            gender = "girl" if k % 2 else "boy"
            age = int(rng.integers(9, 14))
            trait = school_effect + rng.normal(0, 1)
            for wave in ("baseline", "endline"):
                latent = trait + (0.3 if arm == "treatment" and wave == "endline" else 0.0)
                row = {"student_id": sid, "wave": wave, "arm": arm, "school_id": school,
                       "gender": gender, "age": age, "name": f"Student {sid}"}
                for i in range(1, 11):
                    sign = -1 if i in RSES_REVERSED else 1
                    value = 2.5 + sign * 0.9 * latent + rng.normal(0, 0.6)
                    row[f"rses_{i}"] = int(np.clip(np.rint(value), 1, 4))
                rows.append(row)
    return pd.DataFrame(rows).to_csv(index=False, lineterminator="\n").encode("utf-8")


@pytest.fixture
def tiny_study(tmp_path) -> Path:
    """A tiny cluster-randomized study folder (``study.yaml`` + ``data/all.csv``) in tmp_path."""
    return write_tiny_study(tmp_path / "tiny")


# --- tiers ------------------------------------------------------------------------------------

#: fixtures (``module.name``) that run the pipeline or execute notebooks: every test that
#: uses one, directly or through another fixture, is a kernel test
KERNEL_FIXTURES = {
    "test_browser.run_folder",
    "test_canary.run",
    "test_publish.run_output",
    "test_small_cells.run",
    "test_small_cells_everywhere.planted_run",
    "conftest.zoo_runs",
}

#: tests (``file::function`` for all its parameters, or ``file::function[id]``) that start a
#: kernel themselves, in files that also hold tests that do not
KERNEL_TESTS = {
    "test_canary.py::test_a_used_free_text_column_leaking_a_name_is_caught_and_removed",
    "test_canary.py::test_other_forms_of_declared_values_are_caught_and_removed",
    "test_canary.py::test_a_failed_cell_reaches_no_output",
    "test_canary.py::test_a_data_file_named_after_a_child_leaves_a_folder_that_passes_the_scan",
    "test_canary.py::test_a_free_text_category_level_reaches_no_output",
    "test_execute.py::test_failure_is_isolated_and_named",
    "test_execute.py::test_hostile_parameter_never_executes",
    "test_execute.py::test_a_reused_kernel_starts_each_notebook_fresh",
    "test_faults.py::test_sigkill_leaves_earlier_output_untouched_and_next_run_recovers",
    "test_faults.py::test_sigkill_without_earlier_output_publishes_nothing",
    "test_faults.py::test_failing_notebook_is_named_and_the_others_finish",
    "test_faults.py::test_sigkill_during_twin_lanes_leaves_no_process",
    "test_faults.py::test_twin_lane_whose_process_ends_fails_alone",
    "test_faults.py::test_lane_that_cannot_fork_its_twin_leaves_the_notebooks_to_a_new_lane",
    "test_faults.py::test_disk_full_inside_a_notebook_fails_the_run_not_the_notebook",
    "test_faults.py::test_interrupt_shuts_kernels_down_and_publishes_nothing",
    "test_fuzz_params.py::test_hostile_values_on_the_command_line_execute_nothing",
    "test_not_applicable.py::test_survey_without_instruments_or_arm_runs_and_says_why",
    "test_notebooks.py::test_training_notebooks_run_without_a_study",
    "test_run_update.py::test_validate_then_run_with_defaults_counts_and_not_applicable",
    "test_run_update.py::test_only_updates_an_earlier_run_and_records_where_each_notebook_came_from",
    "test_run_update.py::test_a_data_file_named_after_a_child_never_reaches_the_manifest",
    "test_scanner.py::test_short_ids_are_said_plainly_in_the_manifest_the_index_and_the_terminal",
    "test_small_cells_everywhere.py::test_no_false_alarm_on_the_single_school_example",
    # `workbench run` starts its kernels while it validates, so a run that validation stops
    # has started them too
    "test_corpus.py::test_case[binary-named-csv-run]",
    "test_corpus.py::test_case[ids-not-linked-run]",
    "test_run_update.py::test_fatal_validation_messages_quote_no_cell_value",
}

#: slow tests in files whose other tests are fast: ``file::function`` -> why
#: (a ``@pytest.mark.slow`` in the file would say the same; they are marked here for now)
SLOW_TESTS = {
    "test_mixed_satterthwaite.py::test_type_one_error_with_10_clusters":
        "2,000 simulated trials (~15 s): telling 5.4% from 9.1% needs that many",
    "test_simulate.py::test_truth_effect_in_scale_units_matches_a_large_sample_difference":
        "80,000 simulated children and 200,000 truth draws (~2 s)",
    "test_simulate.py::test_readme_simulate_example_is_recreated_from_its_own_line":
        "three `workbench simulate` runs of the README study, each with its truth Monte "
        "Carlo (~8 s)",
    "test_examples.py::test_regenerating_reproduces_the_committed_bytes":
        "re-simulates both examples (the county trial: 1,500 children) with their truth "
        "Monte Carlo (~3 s, module fixture `regenerated`)",
    "test_examples.py::test_gbk_endline_decodes_to_the_simulated_answers":
        "uses the module fixture `regenerated` (above)",
    "test_attrition_standards.py::test_monotone_in_differential":
        "4,816 attrition classifications on a 2 x 8 x 301 grid (~3 s)",
    # wall-time assertions (they belong in bench/): slow, and not for a loaded machine
    "test_scanner.py::test_scan_time_is_linear_in_long_runs_of_letters_and_digits":
        "six scans of 0.7-1.4 million characters, timed (~1.5 s)",
    "test_privacy.py::test_series_of_200k_ids_is_fast":
        "200,000 pseudonyms, timed (~1 s)",
    # browser checks go with the browser test of the reports (test_browser.py, slow)
    "test_published_table.py::test_wide_effects_table_fits_its_container_in_chromium":
        "starts headless Chromium twice (~2 s each)",
    "test_word_export.py::test_the_same_run_gives_the_same_bytes":
        "writes tables.docx twice to compare bytes (~3 s)",
}


#: files of slow tests only, without a ``pytestmark`` of their own: file -> why
SLOW_FILES = {
    "test_fuzz_inputs.py": "fuzzing: about 1,000 generated files, studies and instruments "
                           "through the readers and loaders (~10 s)",
    "test_fuzz_params.py": "fuzzing the notebook parameters (~4 s)",
}

#: fixtures of slow tests only: ``module.name`` -> why
SLOW_FIXTURES = {
    "test_simulate.big": "a 24,000-child study (240 schools) for the simulator's targets (~1 s)",
}


def _fixture_ids(item) -> set[str]:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    return {f"{d.func.__module__}.{d.argname}" for defs in info.name2fixturedefs.values()
            for d in defs}


_ZOO_COVERAGE: dict[str, list] = {}


def pytest_runtest_logreport(report):
    """Collect the zoo's coverage results (``record_property("zoo_coverage", ...)``), which
    pytest-xdist forwards from every worker to the controller."""
    if report.when == "call":
        for key, value in getattr(report, "user_properties", ()):
            if key == "zoo_coverage":
                _ZOO_COVERAGE[report.nodeid] = list(value)


def pytest_sessionfinish(session, exitstatus):
    """With pytest-xdist, the zoo's coverage check over every worker's cases (each worker's
    own ``test_zoo_primary_ci_covers_the_truth`` is skipped): fewer than
    ``WORKBENCH_ZOO_MIN_COVERAGE`` (0.8) of the primary CIs covering the truth fails the run."""
    if hasattr(session.config, "workerinput") or not getattr(
            session.config.option, "numprocesses", None):
        return  # a worker, or a run without xdist (the test itself checks)
    hits = [c for v in _ZOO_COVERAGE.values() for c in v]
    if len(hits) < 5:
        return
    share = sum(hits) / len(hits)
    missed = sorted(k.split("[")[-1].rstrip("]") for k, v in _ZOO_COVERAGE.items() if not all(v))
    need = float(_os.environ.get("WORKBENCH_ZOO_MIN_COVERAGE", "0.8"))
    line = (f"zoo: {sum(hits)} of {len(hits)} primary CIs cover the truth ({share:.0%}; "
            f"at least {need:.0%} required); missed: {missed}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, red=share < need, bold=True)
    if share < need:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    shutil.rmtree(_PROBES, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = {f"{item.path.name}::{item.name}",
                 f"{item.path.name}::{getattr(item, 'originalname', item.name)}"}
        if names & KERNEL_TESTS or _fixture_ids(item) & KERNEL_FIXTURES:
            item.add_marker(pytest.mark.kernel)
        if (names & set(SLOW_TESTS) or item.path.name in SLOW_FILES
                or _fixture_ids(item) & set(SLOW_FIXTURES)):
            item.add_marker(pytest.mark.slow)


_PROBE = pytest.StashKey[tuple]()
_PROBES = Path(tempfile.mkdtemp(prefix="kernel-probes-"))  # removed at the end of the session
_count = iter(range(10**9))


def _random_hypothesis(item) -> bool:
    """A property test that turns randomization back on in the deterministic profile."""
    chosen = getattr(getattr(item, "obj", None), "_hypothesis_internal_use_settings", None)
    return (chosen is not None and not chosen.derandomize
            and _settings.default.derandomize)


_last_module: list = [None]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if item.path != _last_module[0]:
        # What is alive when a test module starts (imported modules, collected tests, the
        # session's data) is left out of later cyclic garbage collections: a full collection
        # over the whole session's heap took 0.2 s, and statsmodels' multipletests (Holm)
        # runs one on every call. Memory is still freed by reference counting.
        _last_module[0] = item.path
        gc.collect()
        gc.freeze()
    probe = _PROBES / f"ipython-{next(_count)}"  # does not exist: a kernel that starts makes it
    item.stash[_PROBE] = (probe, _os.environ.get("IPYTHONDIR"))
    _os.environ["IPYTHONDIR"] = str(probe)
    if _random_hypothesis(item):
        pytest.fail("this property test sets derandomize=False; the suite runs hypothesis "
                    "deterministically (tests/conftest.py), WORKBENCH_FUZZ_EXAMPLES=N explores",
                    pytrace=False)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        result = yield
    finally:
        probe, before = item.stash.get(_PROBE, (None, None))
        if probe is not None:
            del item.stash[_PROBE]
            if before is None:
                _os.environ.pop("IPYTHONDIR", None)
            else:
                _os.environ["IPYTHONDIR"] = before
            started = probe.exists()
            if started:
                shutil.rmtree(probe, ignore_errors=True)
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # a test's figures do not pile up in its worker (matplotlib
            pyplot.close("all")  # warns at 20 open figures, in whichever test opens the 21st)
    if probe is not None and started and item.get_closest_marker("kernel") is None:
        pytest.fail(f"{item.nodeid} started a Jupyter kernel but is not marked `kernel`: add it "
                    "to KERNEL_TESTS or KERNEL_FIXTURES in tests/conftest.py, or give a file of "
                    "kernel tests only `pytestmark = pytest.mark.kernel`", pytrace=False)
    return result


@pytest.fixture(scope="session")
def example_runs(tmp_path_factory):
    """``example_runs(name)``: the output folder of ``workbench run examples/<name> --jobs 2``,
    run once per test session and shared by the modules that read a bundled example's full
    run (tests/test_pipeline_examples.py, tests/test_power_page_kernel.py); the command's
    output is kept beside it in ``<name>.log``."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    done: dict[str, Path] = {}

    def run(name: str) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp(name) / "output"
            res = subprocess.run(
                [sys.executable, "-m", "workbench", "run", str(root / "examples" / name),
                 "--out", str(out), "--jobs", "2", "--no-progress"],
                capture_output=True, text=True, timeout=1800, check=False, cwd=root)
            (out.parent / f"{name}.log").write_text(
                f"exit {res.returncode}\n{res.stdout}\n{res.stderr}", encoding="utf-8")
            done[name] = out
        return done[name]

    return run


@pytest.fixture(scope="session")
def zoo_runs(tmp_path_factory):
    """``zoo_runs(case)``: a zoo case (:func:`zoo.zoo_cases`) simulated with ``workbench
    simulate`` and run with ``workbench run --jobs 2`` in a subprocess, once per test
    session, shared by the modules that need the same study run (tests/test_browser.py
    opens the pages of three zoo cases that tests/test_zoo.py runs too).

    Returns a dict: ``study``, ``out`` (folders), ``simulate_exit``, ``returncode``,
    ``stdout``, ``stderr`` and ``seconds`` (the run's wall time). A case whose simulation
    failed is not run (``returncode`` None).
    """
    import os
    import subprocess
    import time

    from zoo import case_args

    from workbench.cli import main

    done: dict[str, dict] = {}
    timeout = int(os.environ.get("WORKBENCH_ZOO_TIMEOUT", "900"))

    def run(case: dict) -> dict:
        if case["id"] not in done:
            base = tmp_path_factory.mktemp("zoo")
            study, out = base / "study", base / "out"
            res = {"study": study, "out": out, "returncode": None, "stdout": "", "stderr": "",
                   "seconds": None, "simulate_exit": main(["simulate", str(study),
                                                           *case_args(case)])}
            if res["simulate_exit"] == 0:
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-m", "workbench", "run", str(study), "--out", str(out),
                     "--jobs", "2", "--no-progress"], capture_output=True, text=True,
                    timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"})
                res.update(returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
                           seconds=time.perf_counter() - t0)
            done[case["id"]] = res
        return done[case["id"]]

    return run


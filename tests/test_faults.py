"""Faults of ``workbench run`` (issue 6 §3) and no tracebacks for the user.

Each test uses the ``tiny_study`` fixture and test notebooks in a tmp folder
(``WORKBENCH_NOTEBOOK_DIR`` / ``notebook_dir=``): one that succeeds fast, one that
sleeps, one that raises, one that hits a full disk.

Decided behaviour after ``SIGKILL``: the output folder is absent, or it is the
earlier complete output, byte for byte untouched (a previous output is replaced only
when the new one is complete). The killed run's hidden ``.output.partial-PID`` (its
manifest says ``running``) and ``.output.scratch-PID`` folders stay until the next
run removes them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from notebook_factory import write_notebook

from workbench import cli
from workbench.pipeline import run_study
from workbench.staging import OutputError

PARAMS = 'study: str = ""\nrun_dir: str = "."\nseed: int = 1\nlang: str = ""'
WORKBENCH = [sys.executable, "-m", "workbench"]


_notebook = write_notebook


@pytest.fixture
def notebooks(tmp_path) -> Path:
    """Test notebooks: 10_ok, 20_sleep, 30_fail, 40_disk_full."""
    d = tmp_path / "notebooks"
    d.mkdir()
    _notebook(d / "10_ok.ipynb", PARAMS + '\nlabel: str = ""',
              "import json, pathlib\n"
              "pathlib.Path('tables/ok.csv').write_text('a\\n1\\n')\n"
              "pathlib.Path('tables/label.json').write_text(json.dumps(label))")
    _notebook(d / "20_sleep.ipynb", PARAMS,
              "import pathlib, time\npathlib.Path('sleep_started').write_text('x')",
              "time.sleep(120)")
    _notebook(d / "30_fail.ipynb", PARAMS, "x = 1", "raise ValueError('broken on purpose')")
    _notebook(d / "40_disk_full.ipynb", PARAMS,
              "import errno, os\nraise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "
              "'tables/big.csv')")
    return d


def _digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(study: Path) -> list[str]:
    return sorted(p.name for p in study.glob(".output.*"))


def _spawn(study: Path, notebooks: Path, *args: str) -> tuple[subprocess.Popen, str]:
    mark = uuid.uuid4().hex
    env = {**os.environ, "WORKBENCH_NOTEBOOK_DIR": str(notebooks), "WORKBENCH_TEST_MARK": mark}
    proc = subprocess.Popen([*WORKBENCH, "run", str(study), "--no-progress", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, mark


def _marked(mark: str) -> list[tuple[int, str]]:
    """Live processes (workbench, runners, kernels) whose environment carries ``mark``."""
    found = []
    for env_file in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"WORKBENCH_TEST_MARK={mark}".encode() not in env_file.read_bytes():
                continue
            pid = int(env_file.parent.name)
            stat = (env_file.parent / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie is not running
                continue
            cmd = (env_file.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        found.append((pid, cmd))
    return found


def _wait_until(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _start_sleeping_run(study, notebooks):
    proc, mark = _spawn(study, notebooks, "--only", "20_sleep")
    started = study / f".output.partial-{proc.pid}" / "sleep_started"
    try:
        _wait_until(lambda: started.exists() or proc.poll() is not None, 90,
                    "the sleeping notebook to start")
    except AssertionError:
        proc.kill()
        raise
    assert proc.poll() is None, proc.communicate()
    procs = _marked(mark)
    cmds = " ".join(c for _, c in procs)
    assert "-m workbench" in cmds, procs  # one notebook: `workbench run` runs it itself
    return proc, mark


def _no_orphans(mark: str, timeout: float = 6.0) -> None:
    _wait_until(lambda: not _marked(mark), timeout, f"processes to exit: {_marked(mark)}")


# -- 1. SIGKILL -----------------------------------------------------------------------------

def test_sigkill_leaves_earlier_output_untouched_and_next_run_recovers(tiny_study, notebooks):
    first = run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False)
    assert first.status == "success"
    output = tiny_study / "output"
    before = _digest(output)

    proc, mark = _start_sleeping_run(tiny_study, notebooks)
    partial = tiny_study / f".output.partial-{proc.pid}"
    proc.kill()
    proc.wait(10)
    _no_orphans(mark)

    assert _digest(output) == before  # the earlier complete output, untouched
    assert json.loads((partial / "manifest.json").read_text())["status"] == "running"
    assert f".output.scratch-{proc.pid}" in _leftovers(tiny_study)

    again = run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False,
                      seed=2)
    assert again.status == "success"
    assert _leftovers(tiny_study) == []  # the killed run's partial and scratch are gone
    assert json.loads((output / "manifest.json").read_text())["seed"] == 2


@pytest.mark.slow
def test_sigkill_without_earlier_output_publishes_nothing(tiny_study, notebooks):
    proc, mark = _start_sleeping_run(tiny_study, notebooks)
    proc.kill()
    proc.wait(10)
    _no_orphans(mark)
    assert not (tiny_study / "output").exists()
    assert all(not n.startswith("output") for n in os.listdir(tiny_study))


def test_sigkill_during_twin_lanes_leaves_no_process(tiny_study, notebooks):
    """At --jobs 2 the second lane is forked by the first (workbench.execute._TwinLane): when
    workbench run is killed, the first lane sees its parent gone and the twin the hang-up
    of its task pipe; both end within seconds."""
    _notebook(notebooks / "21_sleep.ipynb", PARAMS,
              "import pathlib, time\npathlib.Path('sleep_started_2').write_text('x')",
              "time.sleep(120)")
    proc, mark = _spawn(tiny_study, notebooks, "--only", "20_sleep", "21_sleep", "--jobs", "2")
    partial = tiny_study / f".output.partial-{proc.pid}"
    try:
        _wait_until(lambda: ((partial / "sleep_started").exists()
                             and (partial / "sleep_started_2").exists()) or proc.poll() is not None,
                    90, "both sleeping notebooks to start")
        assert proc.poll() is None, proc.communicate()
        lanes = [pid for pid, cmd in _marked(mark) if "--lane" in cmd]
        assert len(lanes) == 2, _marked(mark)  # the lane and its twin (same command line)
    finally:
        proc.kill()
        proc.wait(10)
    _no_orphans(mark)


def test_twin_lane_whose_process_ends_fails_alone(tiny_study, notebooks):
    """A study notebook that ends its own process fails with the runner's error; the other
    notebooks finish, on the surviving lane or on a lane process started anew."""
    _notebook(notebooks / "50_exit.ipynb", PARAMS, "import os\nos._exit(3)")
    _notebook(notebooks / "11_ok.ipynb", PARAMS,
              "import pathlib\npathlib.Path('tables/ok2.csv').write_text('a\\n2\\n')")
    mark = uuid.uuid4().hex
    r = subprocess.run([*WORKBENCH, "run", str(tiny_study), "--only", "10_ok", "50_exit",
                        "11_ok", "--no-progress", "--jobs", "2"],
                       env={**os.environ, "WORKBENCH_NOTEBOOK_DIR": str(notebooks),
                            "WORKBENCH_TEST_MARK": mark},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 1, r.stderr
    manifest = json.loads((tiny_study / "output" / "manifest.json").read_text())
    status = {n["name"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"10_ok": "success", "50_exit": "failed", "11_ok": "success"}, status
    assert len(manifest["failures"]) == 1 and "50_exit" in manifest["failures"][0]
    assert (tiny_study / "output" / "tables" / "ok2.csv").read_text() == "a\n2\n"
    _no_orphans(mark)


def test_lane_that_cannot_fork_its_twin_leaves_the_notebooks_to_a_new_lane(tiny_study, notebooks,
                                                                          tmp_path):
    """When the first lane's fork of its twin fails (no memory, a process limit), the twin's
    notebooks go to a lane process of its own: the run succeeds."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, sys\n"
        "if '--lane' in getattr(sys, 'orig_argv', []):\n"
        "    def _no_fork():\n"
        "        raise OSError(11, 'Resource temporarily unavailable')\n"
        "    os.fork = _no_fork\n")
    _notebook(notebooks / "11_ok.ipynb", PARAMS,
              "import pathlib\npathlib.Path('tables/ok2.csv').write_text('a\\n2\\n')")
    mark = uuid.uuid4().hex
    r = subprocess.run([*WORKBENCH, "run", str(tiny_study), "--only", "10_ok", "11_ok",
                        "--no-progress", "--jobs", "2"],
                       env={**os.environ, "WORKBENCH_NOTEBOOK_DIR": str(notebooks),
                            "WORKBENCH_TEST_MARK": mark, "PYTHONPATH": str(hook)},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tiny_study / "output" / "manifest.json").read_text())
    assert {n["name"]: n["status"] for n in manifest["notebooks"]} == {
        "10_ok": "success", "11_ok": "success"}
    _no_orphans(mark)


# -- 2. a notebook that raises --------------------------------------------------------------

def test_failing_notebook_is_named_and_the_others_finish(tiny_study, notebooks):
    r = subprocess.run([*WORKBENCH, "run", str(tiny_study), "--only", "10_ok", "30_fail",
                        "--no-progress", "-p", "label=007"],
                       env={**os.environ, "WORKBENCH_NOTEBOOK_DIR": str(notebooks)},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    line = next(x for x in r.stderr.splitlines() if "30_fail" in x)
    for part in ("notebook 30_fail", "cell 3 of the executed notebook",
                 "cell 2 of the notebook as committed", "ValueError: broken on purpose",
                 "seed=1", "lang='en'"):
        assert part in line, line

    out = tiny_study / "output"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert len(manifest["failures"]) == 1 and "30_fail" in manifest["failures"][0]
    nbs = {n["name"]: n for n in manifest["notebooks"]}
    assert nbs["10_ok"]["status"] == "success" and nbs["10_ok"]["error"] is None
    err = nbs["30_fail"]["error"]
    assert nbs["30_fail"]["status"] == "failed"
    assert (err["cell_index"], err["source_cell_index"], err["ename"], err["evalue"]) == (
        3, 2, "ValueError", "broken on purpose")
    assert nbs["30_fail"]["parameters"]["seed"] == 1
    assert json.loads((out / "tables" / "label.json").read_text()) == "007"  # stays a string
    index = (out / "reports" / "index.html").read_text()
    assert '<span class="failed">failed</span>' in index
    assert '30_fail</a></td><td class="failed">failed' in index
    assert '10_ok</a></td><td class="ok">success' in index
    assert (out / "reports" / "30_fail.html").exists()  # the failing notebook's report shows where
    assert _leftovers(tiny_study) == []


# -- 3. no space left / unwritable output ---------------------------------------------------

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "x")


class _NoPool:
    """Stands in for the pipeline's notebook lanes: starts no kernel."""

    def __init__(self, *args, **kwargs):
        pass

    def start(self):
        return self

    def close(self):
        pass


@pytest.mark.parametrize("target", ["survey.export.write_scores", "workbench.pipeline.write_index",
                                    "workbench.manifest.list_outputs"])
def test_disk_full_is_a_clear_error_and_publishes_nothing(tiny_study, notebooks, monkeypatch,
                                                          target):
    earlier = tiny_study / "output"
    earlier.mkdir()
    (earlier / "manifest.json").write_text(json.dumps(
        {"status": "success", "workbench": {}, "study": {}}))
    before = _digest(earlier)
    monkeypatch.setattr("workbench.pipeline.run_notebooks", lambda tasks, **kw: [])  # no kernels
    monkeypatch.setattr("workbench.pipeline.NotebookPool", _NoPool)
    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", _enospc)
    with pytest.raises(OutputError) as err:
        run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False)
    assert err.value.code == "OUTPUT_WRITE_FAILED"
    assert "no space left" in str(err.value) and "nothing was published" in str(err.value)
    assert _digest(earlier) == before
    assert _leftovers(tiny_study) == []


def test_disk_full_inside_a_notebook_fails_the_run_not_the_notebook(tiny_study, notebooks):
    with pytest.raises(OutputError) as err:
        run_study(tiny_study, only=["40_disk_full"], notebook_dir=notebooks, progress=False)
    assert err.value.code == "OUTPUT_WRITE_FAILED" and "no space left" in str(err.value)
    assert not (tiny_study / "output").exists()
    assert _leftovers(tiny_study) == []


def test_disk_full_when_creating_the_staging_folder(tiny_study, notebooks, monkeypatch):
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **kw):
        if ".output.partial-" in self.name:
            _enospc()
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(OutputError) as err:
        run_study(tiny_study, only=["10_ok"], notebook_dir=notebooks, progress=False)
    assert err.value.code == "OUTPUT_NOT_WRITABLE" and "No space left" in str(err.value)
    assert _leftovers(tiny_study) == [] and not (tiny_study / "output").exists()


# -- 4. Ctrl-C and SIGTERM ------------------------------------------------------------------

@pytest.mark.parametrize("sig,code,word", [
    (signal.SIGINT, 130, "interrupted"),
    pytest.param(signal.SIGTERM, 143, "terminated", marks=pytest.mark.slow),
])
def test_interrupt_shuts_kernels_down_and_publishes_nothing(tiny_study, notebooks, sig, code,
                                                            word):
    proc, mark = _start_sleeping_run(tiny_study, notebooks)
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    assert proc.returncode == code, stderr
    assert took < 15, f"took {took:.1f} s to stop"
    stderr = stderr.decode()
    assert "Traceback" not in stderr and word in stderr
    _no_orphans(mark, timeout=3)
    assert not (tiny_study / "output").exists()
    assert _leftovers(tiny_study) == []


# -- 6. no traceback for the user -----------------------------------------------------------

def _cli(capsys, *argv) -> tuple[int, str]:
    code = cli.main(["run", *argv, "--no-progress"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case,code", [
    ("missing_folder", "STUDY_"),
    ("no_study_yaml", "STUDY_"),
    ("only_nosuch", "NOTEBOOK_UNKNOWN"),
    ("unknown_parameter", "PARAMETER_UNKNOWN"),
    ("seed_abc", "PARAMETER_TYPE"),
    ("reserved_parameter", "PARAMETER_RESERVED"),
    ("no_equals", "PARAMETER_SYNTAX"),
    ("parent_is_file", "OUTPUT_NOT_WRITABLE"),
    ("out_is_file", "OUTPUT_NOT_WRITABLE"),
    ("out_is_study", "OUTPUT_NOT_A_RUN_FOLDER"),
    ("notebook_dir_missing", "NOTEBOOK_DIR_MISSING"),
    ("jobs_zero", "PARAMETER_VALUE"),
    ("seed_negative", "PARAMETER_VALUE"),
    ("out_in_data", "OUTPUT_INSIDE_DATA"),
])
def test_bad_invocations_give_one_line_errors(tiny_study, notebooks, tmp_path, capsys,
                                              monkeypatch, case, code):
    monkeypatch.setenv("WORKBENCH_NOTEBOOK_DIR", str(notebooks))
    study = str(tiny_study)
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("keep me")
    argv = {
        "missing_folder": [str(tmp_path / "nowhere")],
        "no_study_yaml": [str(notebooks)],
        "only_nosuch": [study, "--only", "nosuch"],
        "unknown_parameter": [study, "--only", "10_ok", "-p", "unknown=1"],
        "seed_abc": [study, "--only", "10_ok", "-p", "seed=abc"],
        "reserved_parameter": [study, "--only", "10_ok", "-p", "run_dir=/etc"],
        "no_equals": [study, "--only", "10_ok", "-p", "label"],
        "parent_is_file": [study, "--only", "10_ok", "--out", str(a_file / "output")],
        "out_is_file": [study, "--only", "10_ok", "--out", str(a_file)],
        "out_is_study": [study, "--only", "10_ok", "--out", study],
        "notebook_dir_missing": [study],
        "jobs_zero": [study, "--only", "10_ok", "--jobs", "0"],
        "seed_negative": [study, "--only", "10_ok", "--seed", "-1"],
        "out_in_data": [study, "--only", "10_ok", "--out", str(tiny_study / "data" / "out")],
    }[case]
    if case == "notebook_dir_missing":
        monkeypatch.setenv("WORKBENCH_NOTEBOOK_DIR", str(tmp_path / "no-notebooks"))
    study_before = _digest(tiny_study)
    rc, err = _cli(capsys, *argv)
    assert rc == 2
    assert err.startswith(f"error: [{code}") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert a_file.read_text() == "keep me"
    assert _digest(tiny_study) == study_before  # nothing written, nothing deleted
    assert _leftovers(tiny_study) == [] and not (tiny_study / "output").exists()


def test_bad_invocation_through_a_real_process_prints_no_traceback(tmp_path):
    r = subprocess.run([*WORKBENCH, "run", str(tmp_path / "nowhere")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("error: [") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

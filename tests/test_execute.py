"""Parallel notebook execution: failures are isolated, errors name notebook and cell,
kernels get one BLAS thread, hostile parameters stay data."""

import os
import re
from pathlib import Path

import nbformat
import pytest

from workbench.execute import NotebookTask, run_notebooks
from workbench.staging import StagedOutput


def _notebook(path: Path, params: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_failure_is_isolated_and_named(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", 'who: str = "x"',
                   "import os\nopen('blas.txt', 'w').write(os.environ.get('OPENBLAS_NUM_THREADS', ''))")
    bad = _notebook(tmp_path / "bad.ipynb", "k: int = 1", "x = 1", "raise ValueError('broken on purpose')")
    out = tmp_path / "out"
    out.mkdir()
    events = []
    results = run_notebooks(
        [NotebookTask("bad", bad, out / "bad.ipynb", {"k": 5}, out),
         NotebookTask("ok", ok, out / "ok.ipynb", {"who": "y"}, out)],
        jobs=2, progress=lambda ev, name, res: events.append((ev, name)))
    by = {r.name: r for r in results}
    assert [r.name for r in results] == ["bad", "ok"]
    assert by["ok"].status == "success"
    assert by["bad"].status == "failed"
    assert by["bad"].error["cell_index"] == 3  # counts the injected parameters cell and by["bad"].error["ename"] == "ValueError"
    msg = by["bad"].describe_error()
    assert "notebook bad" in msg and "cell 3" in msg and "k=5" in msg and "broken on purpose" in msg
    assert (out / "blas.txt").read_text() == "1"
    assert sorted(events) == [("done", "bad"), ("done", "ok"), ("start", "bad"), ("start", "ok")]
    # the lane writes the executed notebook at its end: the failing cell with its traceback,
    # papermill's injected cell under its fixed id, each cell's timing
    code = [c for c in nbformat.read(str(out / "bad.ipynb"), as_version=4).cells
            if c.cell_type == "code"]
    assert [o.get("ename") for o in code[3].outputs] == ["ValueError"]
    assert code[1].id == "injected-parameters"
    assert [c.metadata.papermill["status"] for c in code] == ["completed"] * 3 + ["failed"]
    assert code[2].metadata.papermill["duration"] is not None


def test_hostile_parameter_never_executes(tmp_path):
    canary = tmp_path / "pwned"
    nb = _notebook(tmp_path / "p.ipynb", 'name: str = ""', "result = len(name)")
    evil = f'x"); import pathlib; pathlib.Path("{canary}").touch(); print("'
    [res] = run_notebooks([NotebookTask("p", nb, tmp_path / "p.out.ipynb", {"name": evil}, tmp_path)],
                          jobs=1)
    assert res.status == "success"
    assert not canary.exists()
    executed = nbformat.read(str(tmp_path / "p.out.ipynb"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


def test_staged_output_replaces_old_only_on_commit(tmp_path):
    final = tmp_path / "output"
    final.mkdir()
    (final / "manifest.json").write_text('{"status": "success", "workbench": {}, "study": {}}')
    (final / "old.txt").write_text("old")
    staged = StagedOutput(final)
    (staged.path / "new.txt").write_text("new")
    assert (final / "old.txt").exists() and not (final / "new.txt").exists()
    staged.commit()
    assert (final / "new.txt").exists() and not (final / "old.txt").exists()
    assert not list(tmp_path.glob(".output.*"))


def test_stale_partial_of_a_dead_run_is_removed(tmp_path):
    final = tmp_path / "output"
    stale = tmp_path / ".output.partial-999999999"
    stale.mkdir()
    (stale / "manifest.json").write_text('{"status": "running"}')
    staged = StagedOutput(final)
    assert not stale.exists()
    staged.abort()
    assert not final.exists()


def test_unwritable_parent_is_a_clear_error(tmp_path):
    import pytest

    from workbench.staging import OutputError
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):  # running as root: permissions do not bind
            pytest.skip("root ignores directory permissions")
        with pytest.raises(OutputError) as err:
            StagedOutput(locked / "output")
        assert err.value.code == "OUTPUT_NOT_WRITABLE"
    finally:
        os.chmod(locked, 0o700)


def test_a_reused_kernel_starts_each_notebook_fresh(tmp_path):
    """One lane, one kernel: the second notebook sees none of the first one's state."""
    first = _notebook(tmp_path / "a.ipynb", "k: int = 1",
                      "leak = 42\nimport warnings\nwarnings.warn('once per place')\n"
                      "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                      "fig = plt.figure()")
    second = _notebook(tmp_path / "b.ipynb", "k: int = 1",
                       "import os, matplotlib.pyplot as plt\n"
                       "assert 'leak' not in globals()\n"
                       "assert plt.get_fignums() == []\n"
                       "open('pid.txt', 'w').write(str(os.getpid()))")
    pid_first = _notebook(tmp_path / "c.ipynb", "k: int = 1",
                          "import os\nopen('pid0.txt', 'w').write(str(os.getpid()))")
    out = tmp_path / "out"
    out.mkdir()
    results = run_notebooks(
        [NotebookTask("c", pid_first, out / "c.ipynb", {}, out),
         NotebookTask("a", first, out / "a.ipynb", {}, out),
         NotebookTask("b", second, out / "b.ipynb", {}, out)], jobs=1)
    assert [r.status for r in results] == ["success"] * 3, [r.error for r in results]
    assert (out / "pid.txt").read_text() == (out / "pid0.txt").read_text()  # same kernel
    counts = [c.execution_count for c in nbformat.read(str(out / "b.ipynb"), as_version=4).cells
              if c.cell_type == "code"]
    assert counts == [1, 2]  # the parameters cell and the cell: the counter restarted at 1


@pytest.mark.kernel
def test_lanes_take_the_longest_notebook_first_and_results_keep_task_order(tmp_path):
    nbs = [_notebook(tmp_path / f"{n}.ipynb", "k: int = 1", "x = k") for n in ("a", "b", "c")]
    out = tmp_path / "out"
    out.mkdir()
    started = []
    results = run_notebooks(
        [NotebookTask(p.stem, p, out / p.name, {}, out, expected_seconds=s)
         for p, s in zip(nbs, (0.5, 3.0, 1.0))],
        jobs=1, progress=lambda ev, name, res: started.append(name) if ev == "start" else None)
    assert started == ["b", "c", "a"]
    assert [r.name for r in results] == ["a", "b", "c"]
    assert all(r.status == "success" for r in results)


PARITY_CELLS = (
    "import sys, warnings\nprint('out 1')\nprint('err', file=sys.stderr)\nprint('out 2')",
    "from IPython.display import HTML, Image, Markdown, display\n"
    "display(Markdown('**md** 中文'))\ndisplay(HTML('<b>h</b>'))\n"
    "png = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000'"
    "'1f15c4890000000d49444154789c6360000000000200015e2ef3170000000049454e44ae426082')\n"
    "display(Image(data=png, format='png', width=7))\n41 + 1",
    "warnings.warn('careful', UserWarning)",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(1, 1))\nax.plot([0, 1])\n"
    "plt.show()",
    "x = 1",
    "raise KeyError('gone')",
)


def _outputs(path: Path) -> list:
    """Each code cell's outputs, without what differs by design (tracebacks' colours and
    frames; the file name a warning gives the cell; an inline PNG's bytes, which depend on the figure's renderer state)."""
    cells = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.outputs:
            o = dict(o)
            if o["output_type"] == "error":
                o["traceback"] = bool(o["traceback"])
            if o["output_type"] == "stream":  # the file a warning names: the cell's own
                o["text"] = re.sub(r"^\S+:(\d+): ", r"CELL:\1: ", o["text"], flags=re.M)
            if "data" in o:
                o["data"] = {k: (v[:0] if k == "image/png" and "matplotlib" in cell.source else v)
                             for k, v in o["data"].items()}
            outs.append(o)
        cells.append((cell.execution_count, outs))
    return cells


@pytest.mark.kernel
def test_inprocess_engine_writes_the_outputs_a_kernel_writes(tmp_path, monkeypatch):
    """The in-process engine (default) and a Jupyter kernel give the same cells: streams in
    order, display data with base64 images and their metadata, the last expression, a warning
    on stderr, an inline figure, the error that stops the notebook and its place."""
    nb = _notebook(tmp_path / "p.ipynb", "k: int = 1", *PARITY_CELLS)
    out = tmp_path / "out"
    out.mkdir()
    inproc = run_notebooks([NotebookTask("p", nb, out / "in.ipynb", {"k": 2}, out)], jobs=1)
    monkeypatch.setenv("WORKBENCH_FRESH_KERNELS", "1")  # papermill's own kernel
    kernel = run_notebooks([NotebookTask("p", nb, out / "kernel.ipynb", {"k": 2}, out)], jobs=1)
    assert inproc[0].status == kernel[0].status == "failed"
    assert inproc[0].error["cell_index"] == kernel[0].error["cell_index"] == 7
    assert inproc[0].error["ename"] == kernel[0].error["ename"] == "KeyError"
    a, b = _outputs(out / "in.ipynb"), _outputs(out / "kernel.ipynb")
    assert a == b
    streams = [o for _, outs in a for o in outs if o["output_type"] == "stream"]
    assert streams[0]["text"] == "out 1\nout 2\n" and streams[1]["text"] == "err\n"
    shown = [o for _, outs in a for o in outs if "image/png" in o.get("data", {})]
    assert len(shown) == 2 and shown[0]["metadata"] == {"image/png": {"width": 7}}


@pytest.mark.kernel
def test_a_cell_can_neither_read_stdin_nor_swallow_its_timeout(tmp_path, monkeypatch):
    """``input()`` is refused (it would read the lane's task pipe), and a cell that catches
    every ``Exception`` still stops at the cell timeout (re-raised each second)."""
    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "2")
    reads = _notebook(tmp_path / "r.ipynb", "k: int = 1", "name = input('name? ')")
    loops = _notebook(tmp_path / "t.ipynb", "k: int = 1",
                      "import time\nwhile True:\n    try:\n        time.sleep(10)\n"
                      "    except Exception:\n        pass")
    after = _notebook(tmp_path / "a.ipynb", "k: int = 1", "x = 1")
    out = tmp_path / "out"
    out.mkdir()
    results = run_notebooks([NotebookTask("r", reads, out / "r.ipynb", {}, out),
                             NotebookTask("t", loops, out / "t.ipynb", {}, out),
                             NotebookTask("a", after, out / "a.ipynb", {}, out)], jobs=1)
    by = {r.name: r for r in results}
    assert by["r"].status == "failed" and by["r"].error["ename"] == "StdinNotImplementedError"
    assert by["t"].status == "failed" and by["t"].error["ename"] == "CellTimeoutError"
    assert by["a"].status == "success"  # the lane goes on

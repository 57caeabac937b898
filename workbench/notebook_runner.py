"""Execute notebooks with papermill (run as a subprocess).

``python -m workbench.notebook_runner TASK.json RESULT.json`` runs the notebook
described in TASK.json and writes what happened to RESULT.json.

``python -m workbench.notebook_runner --lane`` is a *job lane*: it reads lines
``TASK.json<TAB>RESULT.json`` from standard input and runs them one after the other,
answering each with a line :data:`DONE` on standard output. By default the lane runs
the notebooks in its own process (:mod:`workbench.inprocess`: papermill with an IPython
shell and no Jupyter kernel), so that the process start and the imports of pandas,
statsmodels and matplotlib are paid once per lane and no kernel, client or message
round trip is paid at all. With ``WORKBENCH_ENGINE=kernel`` a lane runs its notebooks in
ONE reused Jupyter kernel instead, as described below. Either way, before each notebook the state is made fresh: the user namespace is
cleared and a new history session starts (``InteractiveShell.reset``), figures are closed, warning filters and "once" registries
are restored, the working directory is set and the execution counter restarts at 1,
so a notebook's output does not depend on which notebooks ran before it in the lane.
Modules stay imported (that is the saving); a task with ``fresh_kernel`` (or the
environment variable ``WORKBENCH_FRESH_KERNELS=1``) gets a new kernel instead. A
kernel that died is replaced before the next notebook.

A lane talks to its kernel through ONE client, connected once (:class:`LaneKernel`):
the reset and every notebook of the lane go through it (papermill's engine
``workbench-lane``, :func:`_lane_engine`). A new client per notebook would wait for
the kernel to answer and for its output channel to fall silent (``wait_for_ready``:
0.2 s at least, twice per notebook with the reset), and papermill would otherwise
write the output notebook before and after every cell; the lane writes it when the
notebook starts and when it ends (a failing cell still ends it, with its traceback).

The executor (:mod:`workbench.execute`) runs ``jobs`` lanes, each in its own process
(own working directory, since papermill's ``cwd`` is not thread-safe, and its own
process group, so that it can be interrupted and cleaned up on its own).

A kernel start that fails on a port clash (a known papermill/jupyter_client race
under parallel starts: "Address already in use", or a kernel that dies before
replying) is retried up to three times with a short back-off.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from workbench.inprocess import execute_quietly

DONE = "@@workbench-notebook-done@@"
# A cell that runs longer than this fails (papermill CellTimeoutError) instead of hanging
# the run forever, e.g. on a message lost between kernel and client. Seconds; 0 = none.
CELL_TIMEOUT = int(os.environ.get("WORKBENCH_CELL_TIMEOUT", "1800")) or None
FRESH_STATE = """\
get_ipython().reset(new_session=True)  # namespace, history session, execution counter
import os as _os, sys as _sys, warnings as _w
_os.chdir({cwd!r})
if not hasattr(_w, "_workbench_filters"):
    _w._workbench_filters = list(_w.filters)
_w.filters[:] = _w._workbench_filters
_w._filters_mutated()
for _m in list(_sys.modules.values()):
    if hasattr(_m, "__warningregistry__"):
        _m.__warningregistry__.clear()
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
if "analysis.figures" in _sys.modules:
    _sys.modules["analysis.figures"].reset_font_warning()
del _os, _sys, _w, _m
"""

WARM_IMPORTS = """\
import numpy, pandas, scipy.stats, matplotlib.pyplot, seaborn
import analysis.figures, evaluation.run_folder, evaluation.study_tables
import analysis.change, analysis.claims, analysis.describe, analysis.effects, analysis.power
"""
"""What a warm lane imports in its kernel before the first notebook (``--warm``): the modules
every study notebook imports, so that their import overlaps the pipeline's validation."""

KERNEL_START_ERRORS = ("Address already in use", "Kernel died before replying",
                       "Kernel didn't respond", "Timeout waiting for kernel",
                       "Kernel was not started")


def _is_kernel_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    if any(s in text for s in KERNEL_START_ERRORS):
        return True
    return type(exc).__name__ == "ZMQError"


def start_kernel(kernel_name: str, cwd: str, attempts: int = 3, *, lane: bool = False):
    """Start a kernel, retrying a start that fails on a port clash.

    Returns the kernel manager, or with ``lane`` a :class:`LaneKernel` that keeps the
    client that saw the kernel ready."""
    from jupyter_client.manager import KernelManager

    for attempt in range(1, attempts + 1):
        km = KernelManager(kernel_name=kernel_name)
        try:
            km.start_kernel(cwd=cwd)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)
            except BaseException:
                kc.stop_channels()
                raise
            if not lane:
                kc.stop_channels()
                return km
            kernel = LaneKernel(km)
            kc.allow_stdin = False
            kernel.kc = kc
            return kernel
        except Exception as err:  # noqa: BLE001 - retried or re-raised
            try:
                km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001
                pass
            if attempt == attempts or not _is_kernel_start_failure(err):
                raise
            time.sleep(0.5 * attempt)
    raise RuntimeError("unreachable")


class LaneKernel:
    """A started kernel and the one client a lane talks to it through.

    ``km`` is the ``jupyter_client`` kernel manager; :attr:`kc` a client connected and
    answered once (:meth:`client`), reused for every reset and notebook of the lane.
    """

    def __init__(self, km):
        self.km = km
        self.kc = None

    @property
    def kernel_name(self) -> str:
        return self.km.kernel_name

    def is_alive(self) -> bool:
        return self.km.is_alive()

    def client(self):
        """The lane's client, connected and ready (made on first use)."""
        if self.kc is None:
            kc = self.km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
            except BaseException:
                kc.stop_channels()
                raise
            kc.allow_stdin = False
            self.kc = kc
        return self.kc

    def shutdown(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
            self.kc = None
        self.km.shutdown_kernel(now=True)


def fresh_state(kernel, cwd: str) -> None:
    """Make a reused kernel look fresh to the next notebook (see the module notes).

    ``kernel``: a :class:`LaneKernel` (its client is reused) or a kernel manager (a
    client is made for the reset and closed)."""
    own = not isinstance(kernel, LaneKernel)
    kc = kernel.client()  # a kernel manager makes a new client; a lane kernel reuses its own
    if own:
        kc.start_channels()
    try:
        if own:
            kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(FRESH_STATE.format(cwd=cwd), store_history=False,
                                       timeout=60, output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"could not reset the kernel: {reply['content'].get('evalue')}")
    finally:
        if own:
            kc.stop_channels()


def run_task(task: dict, km=None, *, inprocess: bool = False,
             reraise_interrupt: bool = False) -> dict:
    """Run one notebook; return a JSON-ready result dict (status, error, timings).

    With ``inprocess`` the notebook runs in this process's IPython shell after
    :func:`workbench.inprocess.fresh_state` (engine ``workbench-inprocess``). With ``km``
    (a :class:`LaneKernel`, or a started kernel manager) it runs in that kernel after
    :func:`fresh_state`, a lane kernel's through its one client (engine
    ``workbench-lane``); with neither, papermill starts and stops a kernel of its own.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    result = {"name": task["name"], "status": "success", "error": None, "attempts": 0}
    extra = {}
    if inprocess:
        from workbench import inprocess as engine

        engine.fresh_state(task["cwd"])
        extra["engine_name"] = engine.register()
    elif km is not None:
        fresh_state(km, task["cwd"])
        if isinstance(km, LaneKernel):
            extra.update(km=km.km, kc=km.client(), engine_name=_lane_engine())
        else:
            extra["km"] = km
    for attempt in range(1, 4):
        result["attempts"] = attempt
        try:
            pm.execute_notebook(
                task["input"], task["output"],
                parameters=task["parameters"],
                cwd=task["cwd"],
                kernel_name=task.get("kernel_name", "python3"),
                report_mode=task.get("report_mode", False),
                progress_bar=False,
                log_output=False,
                start_timeout=task.get("start_timeout", 120),
                execution_timeout=task.get("execution_timeout", CELL_TIMEOUT),
                **extra,
            )
            break
        except PapermillExecutionError as err:
            result["status"] = "failed"
            result["error"] = {
                "kind": "cell",
                "cell_index": err.cell_index,
                "execution_count": err.exec_count,
                "ename": err.ename,
                "evalue": err.evalue,
                "source": err.source[-2000:],
                **_source_cell(task["output"], err.cell_index),
            }
            break
        except BaseException as err:  # noqa: BLE001 - reported, never silently dropped
            if isinstance(err, KeyboardInterrupt):
                if reraise_interrupt:  # the caller's own interrupt (workbench run's lane)
                    raise
                result["status"] = "interrupted"
                result["error"] = {"kind": "interrupted"}
                break
            if attempt < 3 and km is None and _is_kernel_start_failure(err):
                time.sleep(0.5 * attempt)
                continue
            result["status"] = "failed"
            result["error"] = runner_error(err)
            break
    if result["status"] in ("success", "failed") and "engine_name" not in extra:
        _stabilize_injected_cell_id(task["output"])  # the lane engine names it before saving
    if task.get("render") and result["status"] in ("success", "failed"):
        result["rendered"] = _render(task)
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def runner_error(err: BaseException) -> dict:
    """A failure outside the notebook's cells (a kernel or shell that could not start or be
    reset, a write that failed) as a result's ``error``; call inside the ``except``."""
    return {"kind": "runner", "ename": type(err).__name__, "evalue": str(err)[:2000],
            "errno": getattr(err, "errno", None), "traceback": traceback.format_exc()[-4000:]}


def _render(task: dict) -> bool:
    """Write the task's HTML page (``task["render"]``) from the executed notebook; False
    when it could not be written: the pipeline then renders it itself and reports why."""
    if not Path(task["output"]).exists():
        return False
    try:
        from workbench.reports import render_html

        spec = dict(task["render"])
        render_html(Path(task["output"]), Path(spec.pop("target")), **spec)
        return True
    except Exception:  # noqa: BLE001 - rendered again by the pipeline, which reports it
        traceback.print_exc()
        return False


_LANE_ENGINE = "workbench-lane"

def _lane_engine() -> str:
    """Register (once) and name papermill's engine for a lane's kernel.

    It is papermill's ``nbclient`` engine but for three things: the notebook client is
    given the lane's connected client (``kc``) instead of making and waiting for a new
    one; the output notebook is written when the notebook starts and ends (and by
    papermill's autosave during a long cell), not before and after every cell; the
    injected-parameters cell gets its fixed id before the first write (see
    :func:`_stabilize_injected_cell_id`). Cells, outputs and metadata are papermill's.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    if _LANE_ENGINE in papermill_engines._engines:
        return _LANE_ENGINE

    class LaneClient(PapermillNotebookClient):
        def __init__(self, nb_man, kc=None, **kw):
            super().__init__(nb_man, **kw)
            self.kc = kc  # connected and ready: nbclient then uses it as it is

    class LaneEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, **kwargs):
            return execute_quietly(cls, nb, kernel_name, **kwargs)

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, kc=None, **kwargs):
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            return LaneClient(nb_man, kc=kc, **final_kwargs).execute()

    papermill_engines.register(_LANE_ENGINE, LaneEngine)
    return _LANE_ENGINE


def _stabilize_injected_cell_id(executed: str) -> None:
    """Give papermill's injected-parameters cell a fixed id (papermill draws a uuid4),
    so that re-runs of the same inputs give notebooks and HTML that differ only in
    timings. Rewrites the notebook atomically; silent when there is nothing to do."""
    try:
        import nbformat

        nb = nbformat.read(executed, as_version=4)
    except Exception:  # noqa: BLE001 - no notebook written (kernel never started)
        return
    changed = False
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            if cell.get("id") != "injected-parameters":
                cell["id"] = "injected-parameters"
                changed = True
    if changed:
        from core.atomic import write_with

        write_with(executed, lambda tmp: nbformat.write(nb, tmp))


def _source_cell(executed: str, cell_index: int) -> dict:
    """Where the failing cell is in the committed notebook (papermill inserts a cell)."""
    try:
        import nbformat

        cells = nbformat.read(executed, as_version=4).cells
        cell = cells[cell_index]
    except Exception:  # noqa: BLE001 - best effort; the executed index is always reported
        return {}
    injected = [i for i, c in enumerate(cells)
                if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    shift = sum(1 for i in injected if i < cell_index)
    return {"cell_id": cell.get("id"), "source_cell_index": cell_index - shift}


def _exit_with_parent(poll: float = 0.5) -> None:
    """Die when the parent (``workbench run``) dies, even by SIGKILL.

    Our kernel then exits too: ipykernel polls its own parent (this process).
    """
    import signal
    import threading

    parent = os.getppid()

    def watch():
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def _write_result(path: str, result: dict) -> None:
    from core.atomic import write_text

    write_text(path, json.dumps(result, ensure_ascii=False, indent=1))


def warm_up(kernel: LaneKernel) -> None:
    """Import :data:`WARM_IMPORTS` in the kernel (errors are left to the notebooks)."""
    kernel.client().execute_interactive(WARM_IMPORTS, store_history=False, timeout=120,
                                        output_hook=lambda msg: None)


ENGINE = os.environ.get("WORKBENCH_ENGINE", "inprocess")
"""How a lane runs notebooks: ``inprocess`` (default; :mod:`workbench.inprocess`) or
``kernel`` (a reused Jupyter kernel per lane, see the module notes)."""


def _inprocess_lane(warm: str | None, twins: list[tuple[int, int, str]] = ()) -> int:
    """Run tasks from standard input in this process's IPython shell (no kernel).

    The protocol line :data:`DONE` goes to a private copy of standard output; file
    descriptor 1 itself then points at the lane's log, so that nothing a notebook's C code
    prints can be mistaken for it. A task that asks for a fresh kernel or another kernel
    than ``python3`` gets a Jupyter kernel of its own (papermill's engine).

    ``twins`` are further lanes forked from this one once its imports are done
    (:func:`_fork_twins`): each a ``(task pipe, protocol pipe, log file)``."""
    from workbench import inprocess

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    tasks = os.fdopen(os.dup(0), "r", encoding="utf-8")  # the task pipe, for this loop only:
    devnull = os.open(os.devnull, os.O_RDONLY)         # a notebook's C code reads nothing
    os.dup2(devnull, 0)
    os.close(devnull)
    inprocess.warm_up(WARM_IMPORTS + "import papermill\n" if warm else "import papermill\n")
    forked = _fork_twins(twins, tasks.fileno(), protocol.fileno()) if twins else []
    fresh_always = os.environ.get("WORKBENCH_FRESH_KERNELS") == "1"
    try:
        for line in tasks:
            if not line.strip():
                continue
            task_path, result_path = line.rstrip("\n").split("\t")
            task = json.loads(Path(task_path).read_text(encoding="utf-8"))
            own = (fresh_always or task.get("fresh_kernel", False)
                   or task.get("kernel_name", "python3") != "python3")
            try:
                result = run_task(task, inprocess=not own)
            except Exception as err:  # noqa: BLE001 - the shell could not be reset
                result = {"name": task["name"], "status": "failed", "attempts": 1,
                          "seconds": 0.0,
                          "error": runner_error(err)}
            _write_result(result_path, result)
            protocol.write(DONE + "\n")
            protocol.flush()
            if result["status"] == "interrupted":
                return 130
    except KeyboardInterrupt:
        return 130
    finally:
        if forked:  # workbench run ends the twins first (NotebookPool.close); this lane's own
            for stream in (protocol, tasks):  # pipes close now: it takes no more tasks
                try:
                    stream.close()
                except OSError:
                    pass
        for pid in forked:
            try:
                os.waitpid(pid, 0)
            except (ChildProcessError, KeyboardInterrupt):
                pass
    return 0


def _fork_twins(twins, task_fd: int, protocol_fd: int) -> list[int]:
    """Fork one lane per ``(task pipe, protocol pipe, log file)`` of ``twins``, after the
    imports (``workbench run --jobs 2`` and more, see :class:`workbench.execute.NotebookPool`).

    A twin starts with everything this lane imported and its IPython shell made: at
    ``--jobs 2`` one set of imports (about 1.9 s of CPU on the county example) instead of
    two, and the imported modules' memory shared between the two processes. In the twin the
    file descriptors of this lane's task and protocol pipes are pointed at the twin's own
    pipes, so the task loop that follows serves the twin; standard output and error go to the
    twin's log. The twin ends when ``workbench run`` closes its task pipe or dies: it watches
    the pipe for the hang-up of the writing end, which only ``workbench run`` holds
    (:func:`_exit_with_writer`; its parent, this lane, could have died first). Returns the
    twins' process ids, in this lane; an empty list in a twin. This lane waits for its twins
    before it ends, so that their CPU time counts as its children's."""
    for sink in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        sink.flush()
    pids = []
    for read, write, log in twins:
        try:
            pid = os.fork()
        except OSError:  # no twin: its pipes close below, workbench run starts a lane instead
            continue
        if pid == 0:  # the twin
            try:
                os.dup2(read, task_fd, inheritable=False)
                os.dup2(write, protocol_fd, inheritable=False)
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.close(fd)
                for other in twins:  # this lane's copies of every twin's pipes
                    os.close(other[0])
                    os.close(other[1])
                _exit_with_writer(task_fd)
            except BaseException:  # noqa: BLE001 - a twin that cannot start ends at once
                os._exit(70)
            return []
        pids.append(pid)
    for read, write, _log in twins:
        os.close(read)
        os.close(write)
    return pids


def _exit_with_writer(fd: int, poll: float = 0.5) -> None:
    """Die when the writing end of pipe ``fd`` is closed by all its holders (``workbench
    run`` ended or died; a lane forked by another lane cannot watch its parent)."""
    import select
    import signal
    import threading

    watcher = select.poll()
    watcher.register(fd, 0)  # POLLHUP and POLLERR are always reported

    def watch():
        while True:
            if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
                   for _fd, ev in watcher.poll(poll * 1000)):
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def lane(warm: str | None = None, twins: list[tuple[int, int, str]] = ()) -> int:
    """Run tasks from standard input, one after the other (see the module notes).

    By default (:data:`ENGINE` ``inprocess``) in this process (:func:`_inprocess_lane`);
    with ``WORKBENCH_ENGINE=kernel`` in one reused kernel. With ``warm`` (a kernel name),
    the notebooks' modules are imported (and the kernel started and :func:`warm_up`)
    before the first task arrives.
    """
    if ENGINE == "inprocess":
        return _inprocess_lane(warm, twins)
    km = None
    fresh_always = os.environ.get("WORKBENCH_FRESH_KERNELS") == "1"
    if warm and not fresh_always:
        import threading

        # papermill's import (0.5 s) overlaps the kernel's start and warm-up
        threading.Thread(target=__import__, args=("papermill",), daemon=True).start()
        try:
            km = start_kernel(warm, os.getcwd(), lane=True)
            warm_up(km)
        except Exception:  # noqa: BLE001 - the first task starts a kernel of its own
            if km is not None:
                km.shutdown()
            km = None
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            task_path, result_path = line.rstrip("\n").split("\t")
            task = json.loads(Path(task_path).read_text(encoding="utf-8"))
            fresh = fresh_always or task.get("fresh_kernel", False)
            other = km is not None and km.kernel_name != task.get("kernel_name", "python3")
            if km is not None and (fresh or other or not km.is_alive()):
                km.shutdown()
                km = None
            try:
                if km is None:
                    km = start_kernel(task.get("kernel_name", "python3"), task["cwd"],
                                      lane=True)
                result = run_task(task, km=km)
            except Exception as err:  # noqa: BLE001 - kernel could not start or reset
                result = {"name": task["name"], "status": "failed", "attempts": 1,
                          "seconds": 0.0,
                          "error": runner_error(err)}
            if result["status"] == "failed" and (result.get("error") or {}).get("kind") != "cell":
                if km is not None:  # the kernel may be broken: start a new one next time
                    km.shutdown()
                    km = None
            _write_result(result_path, result)
            print(DONE, flush=True)
            if result["status"] == "interrupted":
                return 130
    except KeyboardInterrupt:
        return 130
    finally:
        if km is not None:
            try:
                km.shutdown()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _exit_with_parent()
    if argv[:1] == ["--lane"]:
        warm = argv[argv.index("--warm") + 1] if "--warm" in argv[1:-1] else None
        twins = []
        if "--twin" in argv[1:-1]:  # READ_FD,WRITE_FD,LOG: a lane to fork after the imports
            for i, arg in enumerate(argv[:-1]):
                if arg == "--twin":
                    read, write, log = argv[i + 1].split(",", 2)
                    twins.append((int(read), int(write), log))
        return lane(warm, twins)
    task = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    inprocess = (ENGINE == "inprocess" and os.environ.get("WORKBENCH_FRESH_KERNELS") != "1"
                 and task.get("kernel_name", "python3") == "python3"
                 and not task.get("fresh_kernel", False))
    if inprocess:
        from workbench import inprocess as engine

        engine.warm_up("")
    result = run_task(task, inprocess=inprocess)
    _write_result(argv[1], result)
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    from workbench.process_exit import exit_now

    exit_now(main())  # no interpreter teardown: workbench run waits for a lane to end

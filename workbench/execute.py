"""Run several notebooks in parallel, in job lanes, with progress.

``jobs`` lanes each drive one child process (:mod:`workbench.notebook_runner`
``--lane``; in ``workbench run`` at ``--jobs 2`` and more the first lane's process forks
the others after its imports, :class:`_TwinLane`; at ``--jobs 1`` ``workbench run`` is the
lane itself, :class:`_InlineLane`) that runs the lane's notebooks one after the other in its own IPython shell
(:mod:`workbench.inprocess`; or with ``WORKBENCH_ENGINE=kernel`` in one reused
kernel), made fresh before each notebook; lanes take the next notebook from a shared
queue as they become free. Kernel start and the heavy imports are paid once per
lane (``WORKBENCH_FRESH_KERNELS=1`` gives every notebook a new kernel). A lane
whose process died is restarted for its next notebook. Every child, and so every
kernel it starts, gets one BLAS/OpenMP
thread (``OMP_NUM_THREADS=1`` and friends) so that parallel kernels do not
oversubscribe the cores. When one notebook fails the others still finish. On
Ctrl-C the children are interrupted (papermill then shuts its kernel down) and,
if they do not stop within a few seconds, killed with their whole process group;
a kernel whose runner died exits by itself within a second (ipykernel watches its
parent), so no kernel is left behind. If ``workbench run`` itself is killed, each
runner notices within half a second and kills itself (see
:mod:`workbench.notebook_runner`).

Task files, result files and the temporary files of runners and kernels (``TMPDIR``,
so also the kernels' connection files) go into ``workdir``: the pipeline passes the
run's scratch folder, which the next run removes even after a ``SIGKILL``.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclass
class NotebookTask:
    """One notebook to execute."""

    name: str
    input: Path
    output: Path
    parameters: dict
    cwd: Path
    report_mode: bool = False
    kernel_name: str = "python3"
    expected_seconds: float = 0.0
    """A guess of the notebook's time: lanes take the longest first (results keep task order)."""
    inline: bool = False
    """The notebook may run in ``workbench run``'s own process (:class:`_InlineLane`): set by
    the pipeline for the bundled notebooks only. Any other notebook taken by that lane runs
    in a Jupyter kernel of its own, so that a notebook that ends its process (``os._exit``,
    a crash in C code) fails alone instead of ending the run."""
    render: dict | None = None
    """The HTML page to make of the executed notebook, in the lane that ran it:
    keyword arguments of :func:`workbench.reports.render_html` with ``target`` (a path),
    ``report_mode``, ``title``, ``footer`` and ``lang``; JSON-ready."""


@dataclass
class NotebookResult:
    name: str
    status: str  # success | failed | interrupted
    seconds: float
    error: dict | None = None
    attempts: int = 1
    parameters: dict = field(default_factory=dict)
    rendered: bool = False
    """The lane wrote the task's HTML page (``NotebookTask.render``)."""

    def describe_error(self) -> str:
        """One readable line naming the notebook, the cell and the parameters."""
        if not self.error:
            return ""
        e = self.error
        if e.get("kind") == "cell":
            where = (f"cell {e.get('cell_index')} of the executed notebook (execution count "
                     f"{e.get('execution_count')}")
            if e.get("source_cell_index") is not None:
                where += f"; cell {e['source_cell_index']} of the notebook as committed"
            where += ")"
            what = f"{e.get('ename')}: {e.get('evalue')}"
        else:
            where = "kernel/runner"
            what = f"{e.get('ename', e.get('kind'))}: {e.get('evalue', '')}"
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(self.parameters.items()))
        return f"notebook {self.name} failed in {where}: {what} [parameters: {params}]"

    def storage_errno(self) -> int | None:
        """The errno if the notebook failed because the output could not be written.

        Disk full, quota exceeded or a read-only file system are faults of the output
        folder, not of the notebook: the pipeline then fails the whole run with
        ``OUTPUT_WRITE_FAILED`` instead of publishing a run with a broken notebook.
        """
        if not self.error:
            return None
        if self.error.get("errno") in STORAGE_ERRNOS:
            return self.error["errno"]
        text = f"{self.error.get('ename', '')} {self.error.get('evalue', '')}"
        for code in STORAGE_ERRNOS:
            if re.search(rf"\[Errno {code}\]|{re.escape(os.strerror(code))}", text):
                return code
        return None


STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class _Children:
    """Track child processes so that an interrupt can stop them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen] = set()
        self.stopping = False

    def add(self, p):
        with self.lock:
            self.procs.add(p)

    def remove(self, p):
        with self.lock:
            self.procs.discard(p)

    def stop_all(self, grace: float = 8.0):
        self.stopping = True
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class _Lane:
    """One lane process: sends tasks on stdin, waits for the DONE line on stdout."""

    def __init__(self, children: _Children, env: dict, workdir: Path, number: int):
        self.children, self.env, self.workdir, self.number = children, env, workdir, number
        self.proc: subprocess.Popen | None = None
        self.used = False
        self.log = workdir / f"lane{number}.log"
        self.twins: list[_TwinLane] = []
        """Lanes this lane's process forks after its imports (:class:`_TwinLane`); it waits
        for them before it ends, so :meth:`close` waits until they are closed."""

    def start(self, warm: str | None = None):
        """Spawn the lane process; with ``warm`` (a kernel name) it starts that kernel and
        imports the notebooks' modules before the first task arrives."""
        # -P: the working directory (a study folder's own core.py ...) stays off sys.path
        args = [sys.executable, "-P", "-m", "workbench.notebook_runner", "--lane"]
        if warm:
            args += ["--warm", warm]
        twins = [t for t in self.twins if t.pipes is not None] if warm else []
        for twin in twins:
            args += ["--twin", f"{twin.pipes[0]},{twin.pipes[1]},{twin.log}"]
        try:
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    args,
                    env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                    start_new_session=True, text=True, encoding="utf-8",
                    pass_fds=[fd for twin in twins for fd in twin.pipes],
                )
        finally:
            for twin in twins:  # the twins' ends now held by the lane process only
                twin.forked(self.proc)
        self.children.add(self.proc)

    def run(self, task: NotebookTask) -> NotebookResult:
        from workbench.notebook_runner import DONE

        if self.children.stopping:
            return NotebookResult(task.name, "interrupted", 0.0, {"kind": "interrupted"},
                                  parameters=task.parameters)
        spec = {"name": task.name, "input": str(task.input), "output": str(task.output),
                "parameters": task.parameters, "cwd": str(task.cwd),
                "report_mode": task.report_mode, "kernel_name": task.kernel_name,
                "render": task.render}
        task_file = self.workdir / f"{task.name}.task.json"
        result_file = self.workdir / f"{task.name}.result.json"
        task_file.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        result_file.unlink(missing_ok=True)
        started = time.perf_counter()
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.used = True
        done = False
        try:
            self.proc.stdin.write(f"{task_file}\t{result_file}\n")
            self.proc.stdin.flush()
            for line in self.proc.stdout:
                if line.strip() == DONE:
                    done = True
                    break
        except (BrokenPipeError, OSError):
            done = False
        seconds = time.perf_counter() - started
        if done and result_file.exists():
            r = json.loads(result_file.read_text(encoding="utf-8"))
            return NotebookResult(task.name, r["status"], round(seconds, 3), r.get("error"),
                                  r.get("attempts", 1), task.parameters,
                                  rendered=bool(r.get("rendered")))
        # the lane process died: report, and start a new lane for the next notebook
        code = self.proc.wait() if self.proc is not None else None
        self.children.remove(self.proc)
        self.proc = None
        status = "interrupted" if self.children.stopping else "failed"
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:] if self.log.exists() else ""
        return NotebookResult(task.name, status, round(seconds, 3),
                              {"kind": "runner", "ename": f"exit {code}", "evalue": tail},
                              parameters=task.parameters)

    def kill(self):
        """Kill the lane's process group now (its kernel exits when it sees its parent gone)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            pass
        self.children.remove(self.proc)
        self.proc = None

    def close(self, grace: float = 30):
        if self.proc is None:
            return
        for twin in self.twins:  # its process waits for them (their worker threads close them)
            twin.closed.wait()
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.children.remove(self.proc)
        self.proc = None


class _TwinProcess:
    """What :class:`_Lane` needs of a ``subprocess.Popen`` for a lane process forked by
    another lane (:class:`_TwinLane`): its task pipe, its protocol pipe (read by a thread
    of its own, so that a wait does not compete with the lane for the lines) and the
    process group, which is the forking lane's."""

    def __init__(self, task_write: int, protocol_read: int, group: int):
        self.pid = group  # for os.killpg: the twin is in its forking lane's process group
        self.returncode = None
        self.stdin = os.fdopen(task_write, "w", encoding="utf-8")
        self._lines: queue.Queue = queue.Queue()
        self._ended = threading.Event()
        threading.Thread(target=self._read, args=(protocol_read,), daemon=True,
                         name="twin-protocol").start()
        self.stdout = iter(self._lines.get, None)

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "r", encoding="utf-8") as lines:
            for line in lines:
                self._lines.put(line)
        self.returncode = -1  # the twin ended (its status is its parent's to collect)
        self._ended.set()
        self._lines.put(None)

    def poll(self):
        return self.returncode

    def wait(self, timeout: float | None = None):
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("lane twin", timeout)
        return self.returncode


class _TwinLane(_Lane):
    """A lane whose process is forked by another lane's process after its imports.

    At ``--jobs 2`` and more, ``workbench run`` spawns one lane process; when it has
    imported the notebooks' modules and made its IPython shell, it forks the other lanes
    (:func:`workbench.notebook_runner._fork_twins`): one set of imports instead of one per
    lane, and their memory shared, and the pipeline's own process runs no notebook. The
    pipes are made here and handed to the forking lane's process; if a twin's process dies
    (a notebook that ends its process), the lane's next notebook gets a lane process of its
    own, as for any lane."""

    def __init__(self, first: _Lane, number: int):
        super().__init__(first.children, first.env, first.workdir, number)
        task_read, task_write = os.pipe()
        protocol_read, protocol_write = os.pipe()
        self.pipes: tuple[int, int] | None = (task_read, protocol_write)
        self._ours = (task_write, protocol_read)
        self.closed = threading.Event()
        self.served = False  # the twin answered a task (see run)
        first.twins.append(self)

    def forked(self, parent: subprocess.Popen | None) -> None:
        """The forking lane's process was started (``parent``), or could not be."""
        for fd in self.pipes:
            os.close(fd)
        self.pipes = None
        task_write, protocol_read = self._ours
        if parent is None:
            os.close(task_write)
            os.close(protocol_read)
            return
        self.proc = _TwinProcess(task_write, protocol_read, parent.pid)
        self.children.add(self.proc)

    def start(self, warm: str | None = None):
        """Forked by the first lane (:meth:`forked`); a lane process of its own when
        started again after its process died."""
        if self.proc is not None and self.proc.poll() is not None:  # never forked, or dead
            self.children.remove(self.proc)
            self.proc = None
        if self.proc is None:
            super().start(warm)

    def run(self, task: NotebookTask) -> NotebookResult:
        """As :meth:`_Lane.run`; a twin that ended before it answered any task (its fork
        failed, or the lane that forks it died first) is replaced by a lane process of its
        own and the task run there, once."""
        first = isinstance(self.proc, _TwinProcess) and not self.served
        result = super().run(task)
        died = result.status == "failed" and (result.error or {}).get("kind") == "runner"
        if first and died and self.proc is None and not self.children.stopping:
            result = super().run(task)
            died = result.status == "failed" and (result.error or {}).get("kind") == "runner"
        self.served = self.served or not died
        return result

    def close(self, grace: float = 30):
        try:
            if isinstance(self.proc, _TwinProcess):
                proc, self.proc = self.proc, None
                try:
                    proc.stdin.close()
                    proc.wait(timeout=grace)
                except (OSError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                self.children.remove(proc)
            else:
                super().close(grace)
        finally:
            self.closed.set()


class _InlineLane:
    """The calling process's own lane: notebooks run in its main thread, in-process.

    ``workbench run --jobs 1`` (and ``--jobs 2`` and more where lanes cannot be forked, or
    with ``WORKBENCH_TWIN_LANES=0``, see :class:`_TwinLane`): a pool of ``jobs`` lanes then
    has ``jobs - 1`` lane processes and this one, so that the
    process that validated the data (and already imported pandas) also runs notebooks:
    one process start and one set of imports fewer, and about 250 MiB less memory at
    ``--jobs 2``; at ``--jobs 1`` no other process at all. The working directory is
    restored after each notebook (the pipeline's own paths are absolute, but a caller's
    may not be). Its imports are made just before its first notebook, after the data are
    validated and scored (:meth:`run`): the lane processes import theirs meanwhile, so that
    they can take the first notebooks as soon as the data are ready instead of waiting for
    this process to import too (about 0.5 s sooner on the county example at ``--jobs 2``)."""

    def __init__(self, children: _Children, env: dict, workdir: Path, number: int = 0):
        self.children = children
        self.used = False
        self.proc = None  # never a process: for NotebookPool.close
        # a notebook not marked ``inline`` runs in a lane process of its own, made when needed
        self.helper = _Lane(children, env, workdir, number)
        self.warm = False

    def start(self, warm: str | None = None):
        """Nothing to start: the imports wait for the first notebook (:meth:`_warm_up`)."""

    def _warm_up(self) -> None:
        from workbench import inprocess, notebook_runner

        # in this (main) thread and outside any catch_warnings: the imports' own warning
        # filters (statsmodels, scipy) then become the notebooks' baseline exactly as in a
        # lane process (a thread would race with the pipeline's catch_warnings)
        self.warm = True
        inprocess.warm_up(notebook_runner.WARM_IMPORTS + "import papermill\n")

    def run(self, task: NotebookTask) -> NotebookResult:
        from workbench.notebook_runner import run_task

        if self.children.stopping:
            return NotebookResult(task.name, "interrupted", 0.0, {"kind": "interrupted"},
                                  parameters=task.parameters)
        self.used = True
        if not task.inline:
            try:
                return self.helper.run(task)
            except KeyboardInterrupt:  # stop the helper now, not after its notebook
                self.children.stop_all()
                raise
        spec = {"name": task.name, "input": str(task.input), "output": str(task.output),
                "parameters": task.parameters, "cwd": str(task.cwd),
                "report_mode": task.report_mode, "kernel_name": task.kernel_name,
                "render": task.render}
        own = (os.environ.get("WORKBENCH_FRESH_KERNELS") == "1"
               or task.kernel_name != "python3")
        if not own and not self.warm:
            self._warm_up()
        here, main = os.getcwd(), sys.modules.get("__main__")
        filters = list(warnings.filters)
        state = _ProcessState()
        started = time.perf_counter()
        try:
            r = run_task(spec, inprocess=not own, reraise_interrupt=True)
        except Exception as err:  # noqa: BLE001 - the shell could not be made fresh
            from workbench.notebook_runner import runner_error

            r = {"status": "failed", "attempts": 1, "error": runner_error(err)}
        finally:  # what the notebook changed of this process's state, restored
            os.chdir(here)
            if main is not None:
                sys.modules["__main__"] = main
            warnings.filters[:] = filters
            warnings._filters_mutated()
            state.restore()
        seconds = time.perf_counter() - started
        if r["status"] == "interrupted":
            raise KeyboardInterrupt
        return NotebookResult(task.name, r["status"], round(seconds, 3), r.get("error"),
                              r.get("attempts", 1), task.parameters,
                              rendered=bool(r.get("rendered")))

    def kill(self):
        self.helper.kill()

    def close(self, grace: float = 30):
        self.helper.close(grace)


class _ProcessState:
    """What a notebook could change of ``workbench run``'s own process and the pipeline
    relies on after it: signal handlers, environment, ``sys.path``, numpy's error handling
    and the root logger. Taken before a notebook, restored after it."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGALRM")

    def __init__(self):
        import logging

        self.handlers = {name: signal.getsignal(getattr(signal, name))
                         for name in self.SIGNALS if hasattr(signal, name)}
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        numpy = sys.modules.get("numpy")
        self.numpy_err = numpy.geterr() if numpy is not None else None
        root = logging.getLogger()
        self.log = (list(root.handlers), root.level)

    def restore(self) -> None:
        import logging

        for name, handler in self.handlers.items():
            if handler is not None:
                signal.signal(getattr(signal, name), handler)
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        sys.path[:] = self.path
        numpy = sys.modules.get("numpy")
        if numpy is not None and self.numpy_err is not None:
            numpy.seterr(**self.numpy_err)
        root = logging.getLogger()
        root.handlers[:] = self.log[0]
        root.setLevel(self.log[1])


def _inline_wanted() -> bool:
    """Whether a pool's first lane is the calling process: when ``WORKBENCH_INLINE_LANE=1``
    (``workbench run`` sets it, with a fixed hash seed and one BLAS thread, see
    :func:`workbench.cli.main`) and the in-process engine is used, and only in the main
    thread."""
    from workbench.notebook_runner import ENGINE

    return (ENGINE == "inprocess" and os.environ.get("WORKBENCH_INLINE_LANE") == "1"
            and threading.current_thread() is threading.main_thread())


def _twins_wanted() -> bool:
    """Whether the lanes of ``workbench run --jobs 2`` (and more) are forked from one lane
    process (:class:`_TwinLane`): where processes can be forked
    (:func:`survey.scanner.can_fork`), unless ``WORKBENCH_TWIN_LANES=0`` (then ``workbench
    run``'s own process is the first lane, :class:`_InlineLane`)."""
    from survey.scanner import can_fork

    return os.environ.get("WORKBENCH_TWIN_LANES", "1") != "0" and can_fork()


class NotebookPool:
    """``jobs`` job lanes that can be started before the notebooks are known.

    :meth:`start` spawns the lane processes; each starts its kernel at once and imports the
    modules every study notebook needs (:data:`workbench.notebook_runner.WARM_IMPORTS`), so
    that ``workbench run`` overlaps kernel start and imports with validation and scoring.
    :meth:`run` then executes notebooks on the lanes; :meth:`close` ends the lanes and
    removes the task folder. Use it as a context manager.

    Examples
    --------
    >>> with NotebookPool(2, workdir=scratch) as pool:          # doctest: +SKIP
    ...     pool.start()                                           # kernels warm up now
    ...     validate_and_score()
    ...     results = pool.run(tasks)
    """

    def __init__(self, jobs: int | None = None, *, workdir: Path | None = None,
                 kernel_name: str = "python3", inline: bool | None = None):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.kernel_name = kernel_name
        self.env = {**os.environ, **SINGLE_THREAD_ENV, "PYTHONHASHSEED": "0",
                    "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        self.children = _Children()
        self._tmp = tempfile.TemporaryDirectory(prefix="workbench-tasks-", dir=workdir)
        self.workdir = Path(self._tmp.name)
        (self.workdir / "tmp").mkdir()
        self.env["TMPDIR"] = str(self.workdir / "tmp")
        self.inline = _inline_wanted() if inline is None else inline
        if self.inline and self.jobs > 1 and _twins_wanted():
            # one lane process, which forks the others after its imports (_TwinLane): this
            # process only validates, scores and writes the pages around the notebooks
            self.inline = False
            first = _Lane(self.children, self.env, self.workdir, 0)
            self.lanes = [first] + [_TwinLane(first, k) for k in range(1, self.jobs)]
            return
        first = 1 if self.inline else 0
        self.lanes = ([_InlineLane(self.children, self.env, self.workdir)] if self.inline
                      else []) + [
            _Lane(self.children, self.env, self.workdir, k) for k in range(first, self.jobs)]

    def start(self) -> NotebookPool:
        """Spawn the lanes now (their kernels start and warm up in the background)."""
        # the lane processes import while this process validates (its own lane imports
        # just before its first notebook)
        for lane in self.lanes:
            if lane.proc is None:
                lane.start(warm=self.kernel_name)
        return self

    def run(self, tasks: list[NotebookTask], progress=None) -> list[NotebookResult]:
        """Execute ``tasks`` on the lanes; results in task order (see :func:`run_notebooks`)."""
        progress = progress or (lambda *a: None)
        pending: queue.Queue = queue.Queue()
        # longest first: the lanes then finish at about the same time
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i].expected_seconds)
        for i in order:
            pending.put((i, tasks[i]))
        results: list = [None] * len(tasks)
        lanes = self.lanes[:max(1, min(len(self.lanes), len(tasks)))]
        for idle in self.lanes[len(lanes):]:
            idle.close()

        def work(lane: _Lane):
            try:
                while True:
                    try:
                        i, task = pending.get_nowait()
                    except queue.Empty:
                        return
                    progress("start", task.name, None)
                    res = lane.run(task)
                    results[i] = res
                    progress("done", task.name, res)
            finally:
                lane.close()

        inline = [lane for lane in lanes if isinstance(lane, _InlineLane)]
        others = [lane for lane in lanes if not isinstance(lane, _InlineLane)]
        pool = ThreadPoolExecutor(max_workers=max(1, len(others)))
        futures = [pool.submit(work, lane) for lane in others]
        try:
            for lane in inline:  # in this thread: signals and timeouts need the main thread
                work(lane)
            for f in futures:
                f.result()
        except KeyboardInterrupt:
            self.children.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results

    def close(self) -> None:
        """End every lane (and its kernel) and remove the task folder.

        A lane that never ran a notebook (validation stopped the run) is killed at once:
        its kernel may still be starting, and nothing of it is worth waiting for.
        """
        for lane in reversed(self.lanes):  # twins first: the lane that forked them waits
            if lane.proc is not None and not lane.used:
                lane.kill()
            lane.close(grace=5)
        self._tmp.cleanup()

    def __enter__(self) -> NotebookPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is KeyboardInterrupt:
            self.children.stop_all()
        self.close()


def run_notebooks(tasks: list[NotebookTask], *, jobs: int | None = None,
                  progress=None, workdir: Path | None = None,
                  pool: NotebookPool | None = None) -> list[NotebookResult]:
    """Execute notebooks, at most ``jobs`` at once, and return their results in task order.

    Parameters
    ----------
    tasks : list of NotebookTask
    jobs : int, optional
        Parallel notebooks; default the number of cores.
    progress : callable, optional
        Called as ``progress(event, name, result_or_None)`` with events
        ``"start"`` and ``"done"``.
    workdir : Path, optional
        An existing folder for task and result files and the children's ``TMPDIR``
        (default: a temporary folder removed at the end).
    pool : NotebookPool, optional
        Lanes started earlier (:meth:`NotebookPool.start`); the caller closes them.

    Returns
    -------
    list of NotebookResult
        One per task, in the order given. A failure of one notebook does not stop
        the others. On KeyboardInterrupt every child is stopped and the interrupt
        is re-raised.
    """
    if pool is not None:
        try:
            return pool.run(tasks, progress)
        except KeyboardInterrupt:
            pool.children.stop_all()
            raise
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    with NotebookPool(jobs, workdir=workdir) as pool:
        return pool.run(tasks, progress)

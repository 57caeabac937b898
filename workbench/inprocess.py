"""Papermill engine that executes a notebook's cells in this process, without a Jupyter kernel.

A lane (:mod:`workbench.notebook_runner`) runs many notebooks one after the other. With a
Jupyter kernel each lane is two processes (runner and kernel) that talk over ZeroMQ: the kernel
start, its client, the message round trips and the kernel's own imports cost about 1 s per
lane and 0.3 s per notebook, and the second process about 150 MiB. Here the lane process *is*
the kernel: an IPython :class:`~IPython.core.interactiveshell.InteractiveShell` (the same shell
ipykernel wraps) runs each cell, and its display publisher, display hook, traceback hook and
``sys.stdout``/``sys.stderr`` are redirected into the cell's outputs, in the order they
happen, in the form nbclient writes them (``display_data``, ``execute_result``, ``stream``,
``error``; binary MIME types base64-encoded). Papermill still parameterizes the notebook,
records each cell's start, end, duration and status, writes the output notebook and raises
:class:`papermill.exceptions.PapermillExecutionError` naming the failing cell.

Fresh state per notebook (see :func:`fresh_state`): the user namespace is replaced and a new
history session starts (``InteractiveShell.reset``), figures are closed, matplotlib's rc
parameters, warning filters and "once" registries are restored, the working directory is set
and the execution counter restarts at 1. Imported modules stay imported (that is the saving),
as in a reused kernel.

Limits, compared with a kernel: output written by C code straight to file descriptors 1 and
2 goes to the lane's log, not into the notebook; ``input()`` is refused (as with papermill,
which runs kernels without stdin); a cell that runs longer than ``execution_timeout`` fails
with ``CellTimeoutError`` raised inside the cell (``SIGALRM``). A notebook that needs another
kernel (its ``kernel_name`` is not ``python3``) is run by a Jupyter kernel as before
(:func:`workbench.notebook_runner.run_task`).

Examples
--------
>>> import papermill as pm                                       # doctest: +SKIP
>>> pm.execute_notebook("in.ipynb", "out.ipynb", engine_name=register(),
...                     parameters={"run_dir": "."})
"""

from __future__ import annotations

import base64
import gc
import io
import os
import platform
import signal
import sys
import threading
import warnings

from workbench.memory import release_memory

ENGINE = "workbench-inprocess"

BINARY_MIME = ("image/png", "image/jpeg", "image/gif", "application/pdf")
"""MIME types ipykernel base64-encodes before sending them to the client."""

LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": platform.python_version(),
}
"""What ipykernel's ``kernel_info_reply`` reports and nbclient stores as ``language_info``."""

_SHELL = None


class CellTimeoutError(BaseException):
    """A cell ran longer than the execution timeout (a ``BaseException``, like
    ``KeyboardInterrupt``: a cell's ``except Exception`` does not swallow it, and it is
    raised again every second until the cell ends)."""


def _clean(data: dict) -> dict:
    """Data of a display message as a kernel would send it: binary as base64 text."""
    out = {}
    for mime, value in data.items():
        if isinstance(value, (bytes, bytearray)):
            value = base64.b64encode(value).decode("ascii") if mime in BINARY_MIME \
                else bytes(value).decode("utf-8", "replace")
        out[mime] = value
    return out


class _Capture:
    """Where the running cell's outputs go (one per cell).

    Text written to ``stdout`` and ``stderr`` is buffered per stream and flushed, stdout
    first, before the next rich output and at the end of the cell, as ipykernel's
    buffered streams do (a fast cell's prints then read as one block)."""

    def __init__(self, count: int | None = None):
        self.outputs: list[dict] = []
        self.clear_pending = False
        self.count = count
        self.pending = {"stdout": "", "stderr": ""}
        self.thread = threading.get_ident()  # only the cell's thread writes into the cell

    def _clear_if_pending(self) -> None:
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False

    def flush(self) -> None:
        for name in ("stdout", "stderr"):
            text, self.pending[name] = self.pending[name], ""
            if not text:
                continue
            self._clear_if_pending()
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            else:
                self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def add(self, output: dict) -> None:
        self.flush()
        self._clear_if_pending()
        self.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        if text:
            self.pending[name] += text


class _NoInput(io.TextIOBase):
    """``sys.stdin`` while a cell runs: reading is refused, as a kernel run by papermill
    refuses it (``StdinNotImplementedError``), instead of reading the lane's task pipe or
    waiting on the user's terminal."""

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        raise _stdin_error()

    def readline(self, size=-1):
        raise _stdin_error()


def _stdin_error():
    from IPython.core.error import StdinNotImplementedError

    return StdinNotImplementedError("raw_input was called, but this frontend does not "
                                    "support input requests.")


def _no_input(prompt: str = "") -> str:
    raise _stdin_error()


class _Stream:
    """A text stream (``sys.stdout`` or ``sys.stderr``) written into the cell's outputs."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, real):
        self.name, self._real = name, real

    def write(self, text: str) -> int:
        capture = _SHELL._wb_capture if _SHELL is not None else None
        if capture is None or threading.get_ident() != capture.thread:
            return self._real.write(text)
        capture.stream(self.name, str(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        capture = _SHELL._wb_capture if _SHELL is not None else None
        if capture is None or threading.get_ident() != capture.thread:
            return self._real.isatty()
        return False

    def fileno(self) -> int:
        return self._real.fileno()

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def shell():
    """The lane's IPython shell (made on first use, with outputs captured per cell)."""
    global _SHELL
    if _SHELL is not None:
        return _SHELL
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                    **kwargs):
            capture = self.shell._wb_capture
            if capture is None:
                return
            capture.add({"output_type": "display_data", "data": _clean(data),
                         "metadata": dict(metadata or {})})

        def clear_output(self, wait=False):
            capture = self.shell._wb_capture
            if capture is None:
                return
            capture.flush()
            if wait:
                capture.clear_pending = True
            else:
                capture.outputs.clear()

    class Hook(DisplayHook):
        def start_displayhook(self):
            self._wb_result = None

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self._wb_result = (format_dict, md_dict)

        def finish_displayhook(self):
            capture = self.shell._wb_capture
            if capture is not None and getattr(self, "_wb_result", None) is not None:
                data, md = self._wb_result
                capture.add({"output_type": "execute_result", "data": _clean(data),
                             "metadata": dict(md or {}),
                             "execution_count": capture.count})
            self._wb_result = None

    class Shell(InteractiveShell):
        _wb_capture = None
        displayhook_class = Type(Hook)
        display_pub_class = Type(Publisher)

        def _showtraceback(self, etype, evalue, stb):
            capture = self._wb_capture
            if capture is None:
                return super()._showtraceback(etype, evalue, stb)
            capture.add({"output_type": "error", "ename": str(etype.__name__),
                         "evalue": str(evalue), "traceback": list(stb)})

        def enable_gui(self, gui=None):  # the inline backend needs no event loop
            pass

        def system(self, cmd):  # ``!cmd``: output into the cell, as in a kernel
            import subprocess

            done = subprocess.run(self.var_expand(cmd, depth=1), shell=True,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            self.user_ns["_exit_code"] = done.returncode

    config = Config()
    config.HistoryManager.enabled = False  # no sqlite history file per lane
    config.InteractiveShell.colors = "Linux"  # ipykernel's default: coloured tracebacks
    config.InteractiveShell.autocall = 0
    config.InteractiveShell.xmode = "Context"
    main = sys.modules.get("__main__")
    _SHELL = Shell.instance(config=config)
    _SHELL._wb_capture = None
    if main is not None:  # the shell's namespace is __main__ only while a notebook runs
        sys.modules["__main__"] = main
    _SHELL.events.register("pre_run_cell", lambda info: None)
    return _SHELL


def _matplotlib_defaults():
    import matplotlib

    return matplotlib.rcParams.copy()


_RC = None


def fresh_state(cwd: str) -> None:
    """Make the lane's shell look fresh to the next notebook (see the module notes)."""
    global _RC
    sh = shell()
    sh.reset(new_session=True)
    sh.execution_count = 1
    sys.modules["__main__"] = sh.user_module  # as in a kernel: pickle finds the notebook's classes
    sh.user_ns["input"] = _no_input  # as papermill's kernels: no stdin
    if "pandas" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.modules["pandas"].reset_option("all")
    if "numpy" in sys.modules:
        numpy = sys.modules["numpy"]
        numpy.set_printoptions()
        numpy.seterr(all="warn", under="ignore")
    os.chdir(cwd)
    if not hasattr(warnings, "_workbench_filters"):
        warnings._workbench_filters = list(warnings.filters)
    warnings.filters[:] = warnings._workbench_filters
    warnings._filters_mutated()
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib

        sys.modules["matplotlib.pyplot"].close("all")
        if _RC is None:
            _RC = _matplotlib_defaults()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                matplotlib.rcParams.update(_RC)
    if "analysis.figures" in sys.modules:
        sys.modules["analysis.figures"].reset_font_warning()
    release_memory()  # the notebook before's figures and frames (cyclic garbage, heap)


def warm_up(imports: str) -> None:
    """Make the shell and run ``imports`` in it (errors are left to the notebooks)."""
    global _RC
    sh = shell()
    sh.enable_matplotlib("inline")
    try:
        exec(compile(imports, "<warm-up>", "exec"), {})
    except Exception:  # noqa: BLE001 - the notebook that needs the module reports it
        pass
    if "matplotlib" in sys.modules and _RC is None:
        _RC = _matplotlib_defaults()
    # what exists now (about 200,000 objects of the imported modules) lives as long as the
    # process: moved out of the collector's sight, each full collection during the notebooks
    # (about 15 per run, and IPython's reset runs one before every notebook) scans only what
    # the notebooks made, 0.01-0.04 s instead of about 0.1 s (0.8 s CPU of the county run at
    # --jobs 1). No collection runs first: the imports leave a few hundred cyclic objects of
    # garbage, which then stay.
    gc.freeze()


def run_cell(source: str, timeout: float | None = None) -> list[dict]:
    """Run one cell's ``source`` in the shell; return its outputs (nbformat dicts)."""
    sh = shell()
    capture = _Capture(sh.execution_count)
    sh._wb_capture = capture
    streams = sys.stdout, sys.stderr, sys.stdin
    sys.stdout = _Stream("stdout", streams[0])
    sys.stderr = _Stream("stderr", streams[1])
    sys.stdin = _NoInput()
    alarm = timeout is not None and timeout > 0 and hasattr(signal, "setitimer")
    if alarm:
        def on_alarm(signum, frame):
            raise CellTimeoutError(f"Cell execution timed out after {timeout} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout, 1.0)
    try:
        result = sh.run_cell(source, store_history=True, silent=False)
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        sh._wb_capture = None
        sys.stdout, sys.stderr, sys.stdin = streams
        capture.flush()
    error = result.error_in_exec or result.error_before_exec
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C (or SIGTERM as its subclass): stop
        raise error
    return capture.outputs


_QUIET_MANAGER = None


def _quiet_manager():
    """Papermill's execution manager, writing the output notebook only when the notebook
    starts and ends (and by its autosave during a long cell), not around every cell."""
    global _QUIET_MANAGER
    if _QUIET_MANAGER is not None:
        return _QUIET_MANAGER
    from papermill.engines import NotebookExecutionManager

    class LaneManager(NotebookExecutionManager):
        _quiet = False

        def save(self, **kwargs):
            if not self._quiet:
                super().save(**kwargs)

        def _quietly(self, step, cell, cell_index, **kwargs):
            self._quiet = True
            try:
                step(cell, cell_index, **kwargs)
            finally:
                self._quiet = False

        def cell_start(self, cell, cell_index=None, **kwargs):
            self._quietly(super().cell_start, cell, cell_index, **kwargs)

        def cell_complete(self, cell, cell_index=None, **kwargs):
            self._quietly(super().cell_complete, cell, cell_index, **kwargs)

    _QUIET_MANAGER = LaneManager
    return LaneManager


def _name_injected_cell(nb) -> None:
    """Give papermill's injected-parameters cell the fixed id ``injected-parameters``."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"


def execute_quietly(engine, nb, kernel_name, output_path=None, progress_bar=True,
                    log_output=False, autosave_cell_every=30, **kwargs):
    """Papermill's ``Engine.execute_notebook`` for our engines: the injected-parameters
    cell named first, and the output notebook written by :func:`_quiet_manager`'s manager."""
    _name_injected_cell(nb)
    nb_man = _quiet_manager()(nb, output_path=output_path, progress_bar=progress_bar,
                              log_output=log_output, autosave_cell_every=autosave_cell_every)
    nb_man.notebook_start()
    try:
        engine.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
    finally:
        nb_man.cleanup_pbar()
        nb_man.notebook_complete()
    return nb_man.nb


def register() -> str:
    """Register (once) and name the in-process papermill engine."""
    from nbformat import from_dict
    from papermill.engines import Engine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return ENGINE

    class InProcessEngine(Engine):
        """Papermill engine: cells run in this process's IPython shell (module notes)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            nb = nb_man.nb
            nb.metadata["language_info"] = dict(LANGUAGE_INFO)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                nb_man.cell_start(cell, index)
                sh = shell()
                count = sh.execution_count
                outputs = run_cell(cell.source, execution_timeout) if cell.source.strip() \
                    else []
                cell.execution_count = count if cell.source.strip() else None
                cell.outputs = [from_dict(o) for o in outputs]
                failed = any(o["output_type"] == "error" for o in outputs)
                if failed:
                    nb_man.cell_exception(cell, cell_index=index)
                    nb_man.cell_complete(cell, cell_index=index)
                    break
                nb_man.cell_complete(cell, cell_index=index)
            return nb

        @classmethod
        def execute_notebook(cls, nb, kernel_name, **kwargs):
            return execute_quietly(cls, nb, kernel_name, **kwargs)

    papermill_engines.register(ENGINE, InProcessEngine)
    return ENGINE

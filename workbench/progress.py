"""Progress of a run: which step and which notebooks run, and how far the run is.

On a terminal a live ``rich`` display; elsewhere (CI, logs) one plain line per event.
"""

from __future__ import annotations

import sys
import threading
import time


class RunProgress:
    """Report steps and notebooks as they start and finish.

    Parameters
    ----------
    total_steps : int
        Number of units of work (steps + notebooks) for the overall bar.
    enabled : bool
        False prints nothing.
    """

    def __init__(self, total_steps: int, *, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.total = total_steps
        self.done = 0
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self._live = None
        self._rich = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        if self._rich:
            try:
                from rich.console import Console
                from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

                self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                          TextColumn("{task.completed}/{task.total}"),
                                          TimeElapsedColumn(),
                                          console=Console(file=self.stream))
                self._task = self._progress.add_task("starting", total=total_steps)
                self._progress.start()
            except ImportError:  # pragma: no cover - rich is a dependency
                self._rich = False

    def _describe(self) -> str:
        names = ", ".join(self.running) or "-"
        return f"running: {names}"

    def start(self, name: str) -> None:
        with self.lock:
            self.running[name] = time.perf_counter()
            if self._rich:
                self._progress.update(self._task, description=self._describe())
            elif self.enabled:
                print(f"[{self.done}/{self.total}] {name} ...", file=self.stream, flush=True)

    def finish(self, name: str, status: str = "success", detail: str | None = None) -> None:
        """Report a finished step; ``detail`` (e.g. the validation counts) follows the status."""
        with self.lock:
            t0 = self.running.pop(name, time.perf_counter())
            self.done += 1
            secs = time.perf_counter() - t0
            extra = f"; {detail}" if detail else ""
            if self._rich:
                self._progress.update(self._task, advance=1, description=self._describe())
                self._progress.console.print(f"{'✓' if status == 'success' else '✗'} {name} "
                                             f"({status}, {secs:.1f} s{extra})")
            elif self.enabled:
                print(f"[{self.done}/{self.total}] {name} {status} ({secs:.1f} s{extra})",
                      file=self.stream, flush=True)

    def notebook_event(self, event: str, name: str, result) -> None:
        if event == "start":
            self.start(name)
        else:
            self.finish(name, result.status if result is not None else "failed")

    def close(self) -> None:
        if self._rich:
            self._progress.stop()

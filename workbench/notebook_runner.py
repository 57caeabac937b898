"""Execute one notebook with papermill in this process (run as a subprocess).

``python -m workbench.notebook_runner TASK.json RESULT.json`` runs the notebook
described in TASK.json and writes what happened to RESULT.json. The executor
(:mod:`workbench.execute`) starts one such process per notebook so that each has
its own working directory (papermill's ``cwd`` is not thread-safe) and can be
interrupted and cleaned up on its own.

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

KERNEL_START_ERRORS = ("Address already in use", "Kernel died before replying",
                       "Kernel didn't respond", "Timeout waiting for kernel",
                       "Kernel was not started")


def _is_kernel_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    if any(s in text for s in KERNEL_START_ERRORS):
        return True
    return type(exc).__name__ == "ZMQError"


def run_task(task: dict) -> dict:
    """Run one notebook; return a JSON-ready result dict (status, error, timings)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    result = {"name": task["name"], "status": "success", "error": None, "attempts": 0}
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
                execution_timeout=task.get("execution_timeout"),
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
                result["status"] = "interrupted"
                result["error"] = {"kind": "interrupted"}
                break
            if attempt < 3 and _is_kernel_start_failure(err):
                time.sleep(0.5 * attempt)
                continue
            result["status"] = "failed"
            result["error"] = {"kind": "runner", "ename": type(err).__name__,
                               "evalue": str(err)[:2000],
                               "errno": getattr(err, "errno", None),
                               "traceback": traceback.format_exc()[-4000:]}
            break
    if result["status"] in ("success", "failed"):
        _stabilize_injected_cell_id(task["output"])
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


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
        tmp = executed + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, executed)


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _exit_with_parent()
    task = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = run_task(task)
    tmp = Path(argv[1] + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, argv[1])
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main())

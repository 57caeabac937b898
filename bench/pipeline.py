"""Benchmark: wall time of ``workbench run`` on the county example, at ``--jobs 1`` and ``2``,
split into kernel start, imports and analysis.

    .venv/bin/python bench/pipeline.py [--study examples/county-cluster-trial] [--jobs 1 2]
                                       [--json FILE] [--keep DIR]

What is measured
----------------
1. **Start-up** of one notebook: an empty notebook executed exactly the way ``workbench run``
   executes each notebook (``python -m workbench.notebook_runner`` with one BLAS thread): the
   runner's Python process, importing papermill, starting and stopping an IPython kernel,
   writing the output notebook. Median of three.
2. **Imports** of each study notebook: a notebook holding only that notebook's ``import``
   statements (taken from its code cells with ``ast``), run the same way; the import cell's
   duration as papermill records it (``cell.metadata.papermill.duration``).
3. ``workbench run STUDY --out TMP --jobs N --no-progress`` for each N: the wall time of the
   command, the manifest's step timings (validate, score, notebooks, reports, privacy scan) and
   each notebook's time in its runner process; from the executed notebooks, the duration of
   every cell.

For each notebook of a run:

- ``start``    = runner time - sum of its cell durations (process, papermill, kernel start/stop);
- ``imports``  = the isolated import time of step 2 (the notebook's first code cell does the
  imports *and* loads the run folder; its in-run time is printed as ``first cell``);
- ``analysis`` = sum of cell durations - imports.

Sums over notebooks are CPU-side seconds; at ``--jobs 2`` two notebooks share the machine, so the
notebooks step's wall time is less than the sum. Every number is one run on whatever else the
machine is doing: treat differences below ~10% as noise.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.execute import SINGLE_THREAD_ENV  # noqa: E402
from workbench.pipeline import available_notebooks  # noqa: E402


def runner_env() -> dict:
    env = {**os.environ, **SINGLE_THREAD_ENV, "PYTHONHASHSEED": "0",
           "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def new_notebook(*sources: str):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def run_with_runner(nb, work: Path, name: str) -> tuple[float, dict]:
    """Execute ``nb`` through ``workbench.notebook_runner``; return (wall seconds, executed nb)."""
    import nbformat

    src = work / f"{name}.ipynb"
    out = work / f"{name}.out.ipynb"
    nbformat.write(nb, str(src))
    task = {"name": name, "input": str(src), "output": str(out), "parameters": {},
            "cwd": str(work), "report_mode": False, "kernel_name": "python3"}
    (work / f"{name}.task.json").write_text(json.dumps(task), encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "workbench.notebook_runner",
                    str(work / f"{name}.task.json"), str(work / f"{name}.result.json")],
                   env=runner_env(), check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    return wall, json.loads(out.read_text(encoding="utf-8"))


def cell_durations(nb: dict, skip_tags=()) -> list[float]:
    """papermill's recorded duration of each code cell (cells with ``skip_tags`` left out)."""
    return [float((c.get("metadata", {}).get("papermill") or {}).get("duration") or 0.0)
            for c in nb["cells"] if c["cell_type"] == "code"
            and not set(c.get("metadata", {}).get("tags", [])) & set(skip_tags)]


def import_statements(path: Path) -> str:
    """Every top-level import statement of the notebook's code cells, in order."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.get_source_segment(src, node))
    return "\n".join(dict.fromkeys(lines))


def measure_startup(work: Path, repeats: int = 3) -> float:
    times = [run_with_runner(new_notebook("pass"), work, f"empty{i}")[0] for i in range(repeats)]
    return statistics.median(times)


def measure_imports(notebooks: list[Path], work: Path) -> dict[str, float]:
    out = {}
    for nb in notebooks:
        # the first cell is a no-op so that kernel warm-up is not charged to the imports
        _, executed = run_with_runner(new_notebook("pass", import_statements(nb)), work,
                                      f"imports_{nb.stem}")
        out[nb.stem] = cell_durations(executed)[1]
    return out


def measure_run(study: Path, jobs: int, out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "workbench", "run", str(study), "--out", str(out),
                          "--jobs", str(jobs), "--no-progress"],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) \
        if (out / "manifest.json").exists() else {}
    if res.returncode != 0:
        print(f"warning: workbench run --jobs {jobs} exited {res.returncode}:\n"
              f"{(res.stdout + res.stderr)[-1500:]}", file=sys.stderr)
    notebooks = {}
    for entry in manifest.get("notebooks", []):
        path = out / "notebooks" / f"{entry['name']}.ipynb"
        executed = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"cells": []}
        code = cell_durations(executed)
        # the first code cell that is not a parameters cell does the imports
        own = cell_durations(executed, skip_tags=("parameters", "injected-parameters"))
        notebooks[entry["name"]] = {"runner": entry["seconds"], "cells": sum(code),
                                    "first_cell": own[0] if own else 0.0,
                                    "status": entry["status"]}
    return {"jobs": jobs, "exit_code": res.returncode, "wall": wall,
            "status": manifest.get("status"),
            "steps": {s["name"]: s["seconds"] for s in manifest.get("steps", [])},
            "notebooks": notebooks}


def split(run: dict, imports: dict[str, float]) -> dict:
    rows = {}
    for name, nb in run["notebooks"].items():
        imp = min(imports.get(name, 0.0), nb["cells"])
        rows[name] = {"runner": nb["runner"], "start": nb["runner"] - nb["cells"],
                      "imports": imp, "analysis": nb["cells"] - imp,
                      "first_cell": nb["first_cell"]}
    total = {k: sum(r[k] for r in rows.values())
             for k in ("runner", "start", "imports", "analysis", "first_cell")}
    return {"per_notebook": rows, "total": total}


def print_tables(startup: float, imports: dict, runs: list[dict]) -> None:
    print(f"\nempty notebook through workbench.notebook_runner (process + papermill + kernel "
          f"start/stop): {startup:.2f} s (median of 3)")
    print("isolated imports per notebook: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in imports.items()))

    print("\n## workbench run: wall time and steps (seconds)\n")
    head = ["jobs", "wall", "validate", "score", "notebooks", "reports", "scan",
            "nb start", "nb imports", "nb analysis", "start+imports share"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for run in runs:
        s, t = run["steps"], run["split"]["total"]
        share = (t["start"] + t["imports"]) / t["runner"] if t["runner"] else float("nan")
        cells = [str(run["jobs"]), f"{run['wall']:.1f}"] + [
            f"{s.get(k, float('nan')):.1f}" for k in
            ("validate", "score", "notebooks", "reports", "privacy_scan")] + [
            f"{t['start']:.1f}", f"{t['imports']:.1f}", f"{t['analysis']:.1f}", f"{share:.0%}"]
        print("| " + " | ".join(cells) + " |")
    print("\n(nb start / imports / analysis: summed over the notebooks; at --jobs 2 they overlap, "
          "so their sum exceeds the notebooks step's wall time)")

    for run in runs:
        print(f"\n## per notebook, --jobs {run['jobs']} (seconds)\n")
        head = ["notebook", "runner", "start", "imports", "analysis", "first cell (in run)"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name, r in run["split"]["per_notebook"].items():
            print(f"| {name} | {r['runner']:.1f} | {r['start']:.1f} | {r['imports']:.1f} | "
                  f"{r['analysis']:.1f} | {r['first_cell']:.1f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--study", default=str(ROOT / "examples" / "county-cluster-trial"))
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", help="also write the measurements to this JSON file")
    ap.add_argument("--keep", help="keep the run folders under this folder")
    args = ap.parse_args(argv)

    notebooks = available_notebooks()
    print(f"study: {args.study}; notebooks: {', '.join(p.stem for p in notebooks)}; "
          f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        tmp = Path(tmp)
        work = tmp / "work"
        work.mkdir()
        startup = measure_startup(work)
        imports = measure_imports(notebooks, work)
        runs = []
        for jobs in args.jobs:
            out = (Path(args.keep) if args.keep else tmp) / f"run-jobs{jobs}"
            run = measure_run(Path(args.study), jobs, out)
            run["split"] = split(run, imports)
            runs.append(run)
            print(f"--jobs {jobs}: {run['wall']:.1f} s, status {run['status']}", flush=True)
    print_tables(startup, imports, runs)
    if args.json:
        Path(args.json).write_text(json.dumps({"startup": startup, "imports": imports,
                                               "runs": runs}, indent=1), encoding="utf-8")
    return 0 if all(r["exit_code"] == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: ``workbench run`` on the county example at ``--jobs 1`` and ``2``, side by side with
the R Markdown report a researcher would write instead (``bench/county_report.Rmd``), split
into start, imports, analysis, HTML export and privacy scan.

    .venv/bin/python bench/pipeline.py [--study examples/county-cluster-trial] [--jobs 1 2]
                                       [--repeats 3] [--no-breakdown] [--no-r]
                                       [--json FILE] [--keep DIR]

Side by side (issue 16)
-----------------------
Each repeat runs ``workbench run --jobs N`` for every N and then renders the R peer, one after
the other (alternating, so that both see the same machine); the table gives for each the
median wall time, the median CPU time (user + system of the process and all its children:
runners, kernels, scan workers; R and pandoc) and the median peak memory of all its
processes together (resident set sizes summed over the process tree, sampled every 50 ms; and
the same sum of proportional set sizes, PSS, which counts a page shared by n processes, e.g.
after a fork, once in total instead of n times). Memory is sampled every 50 ms in one run of
each kind of its own, after the timed runs: sampling (walking the process table, reading each
process's PSS, about 5 ms each) took about a third of one core, which a run using both cores
loses and a one-core run (R, ``--jobs 1``) hardly does; up to 2026-12-04 the timed runs were
the sampled ones, which made ``--jobs 2`` look about 2 s slower than it was,
and the ratio of each run's median wall time to the R report's. The R peer reads the scored
data of the first workbench run (``data/scores.csv``, and ``items.csv`` written here from
``data/items.parquet``, untimed: base R reads no Parquet) and renders self-contained HTML with
Table 1, alpha and omega (psych), ICCs (lme4), CR2 ANCOVA (clubSandwich), a mixed model
(lme4), Hedges' g, a forest plot, a means plot, attrition and a power curve; its numbers are
the workbench's (the primary model's estimate, CR2 SE and Satterthwaite df of
``tables/effects.csv``, the alphas of ``tables/reliability.csv``). It is timed only when
``Rscript`` with rmarkdown, knitr, psych, lme4, clubSandwich and ggplot2, and ``pandoc`` are
installed; otherwise the script says what is missing and prints the workbench's figures only.

What is measured (``--no-breakdown`` skips 1, 2, 4 and 5)
-------------------------------------------------------
1. **Start-up** of one notebook: an empty notebook executed exactly the way ``workbench run``
   executes each notebook (``python -m workbench.notebook_runner`` with one BLAS thread): the
   runner's Python process, importing papermill, making the IPython shell the notebook runs
   in (:mod:`workbench.inprocess`; with ``WORKBENCH_ENGINE=kernel``, starting and stopping a
   kernel), writing the output notebook. Median of three.
2. **Imports** of each study notebook: a notebook holding only that notebook's ``import``
   statements (taken from its code cells with ``ast``), run the same way; the import cell's
   duration as papermill records it (``cell.metadata.papermill.duration``).
3. ``workbench run STUDY --out TMP --jobs N --no-progress`` for each N: the wall time of the
   command, the manifest's step timings (validate, score, notebooks, reports, privacy scan) and
   each notebook's time in its runner process; from the executed notebooks, the duration of
   every cell.

For each notebook of a run:

- ``start``    = runner time - sum of its cell durations (papermill, reading and writing the
  notebook, making the shell fresh, and rendering the notebook's HTML page, which its lane does);
- ``imports``  = the isolated import time of step 2, but at most the notebook's first code cell
  in the run (it does the imports *and* loads the run folder; printed as ``first cell``): a
  lane imports the notebooks' modules once, while validation runs, so a notebook in a warm
  lane pays only what it imports beyond them;
- ``analysis`` = sum of cell durations - imports.

4. **HTML export** of the first run's executed notebooks (``workbench.reports.render_html``, as
   ``workbench run`` does in its background thread), here one after the other.
5. **Privacy scan** of the first run's output folder (``survey.scanner.scan_folder`` with the
   study's raw values), as the run's last step does (the manifest, written after the scan,
   cannot hold its time).

Sums over notebooks are CPU-side seconds; at ``--jobs 2`` two notebooks share the machine, so the
notebooks step's wall time is less than the sum. On a shared machine take the medians of
several repeats and treat differences below ~10% as noise.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def timed(cmd: list[str], cwd: Path = ROOT, env: dict | None = None,
          interval: float = 0.05, sample: bool = True) -> dict:
    """Run ``cmd``; its wall time, CPU time (user + system, its children included) and, with
    ``sample``, the peak of the resident memory and of the proportional set sizes summed over
    its process tree (sampled every ``interval`` s; NaN without ``sample``). Sampling costs
    CPU: walking the process table and reading each process's PSS (about 5 ms each) took
    about a third of one core, which a run using both cores (``--jobs 2``) loses and a
    one-core run (R, ``--jobs 1``) hardly does; so :func:`main` times runs unsampled and
    measures memory in runs of their own."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    peak = [0]
    peak_pss = [0]
    stop = threading.Event()

    def sample_tree():
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            total = pss = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                    pss += p.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    pass
            peak[0] = max(peak[0], total)
            peak_pss[0] = max(peak_pss[0], pss)
            stop.wait(interval)

    sampler = threading.Thread(target=sample_tree, daemon=True)
    if sample:
        sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    if sample:
        sampler.join()
    else:
        peak[0] = peak_pss[0] = float("nan")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"returncode": proc.returncode, "wall": wall, "cpu": cpu,
            "peak_mib": peak[0] / 2**20, "peak_pss_mib": peak_pss[0] / 2**20, "output": output}


def measure_run(study: Path, jobs: int, out: Path, sample: bool = False) -> dict:
    if out.exists():
        shutil.rmtree(out)
    res = timed([sys.executable, "-m", "workbench", "run", str(study), "--out", str(out),
                 "--jobs", str(jobs), "--no-progress"], sample=sample)
    wall = res["wall"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) \
        if (out / "manifest.json").exists() else {}
    if res["returncode"] != 0:
        print(f"warning: workbench run --jobs {jobs} exited {res['returncode']}:\n"
              f"{res['output'][-1500:]}", file=sys.stderr)
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
    return {"jobs": jobs, "exit_code": res["returncode"], "wall": wall, "cpu": res["cpu"],
            "peak_mib": res["peak_mib"], "peak_pss_mib": res["peak_pss_mib"],
            "status": manifest.get("status"),
            "seconds": manifest.get("seconds", float("nan")),
            "steps": {s["name"]: s["seconds"] for s in manifest.get("steps", [])},
            "notebooks": notebooks}


R_PACKAGES = ("rmarkdown", "knitr", "psych", "GPArotation", "lme4", "clubSandwich", "ggplot2")
RMD = ROOT / "bench" / "county_report.Rmd"


def r_peer_missing() -> str | None:
    """What is missing to render the R peer (None when R, its packages and pandoc are there)."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed"
    if shutil.which("pandoc") is None:
        return "pandoc is not installed (rmarkdown needs it)"
    code = ("p <- c(" + ", ".join(f'"{p}"' for p in R_PACKAGES) + "); "
            "m <- p[!vapply(p, requireNamespace, logical(1), quietly = TRUE)]; "
            "cat(m, sep = ' ')")
    res = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return f"Rscript failed: {res.stderr.strip()[-300:]}"
    missing = res.stdout.split()
    return f"R packages missing: {', '.join(missing)}" if missing else None


def r_peer_data(run_dir: Path, target: Path) -> Path:
    """The R peer's input from a workbench run: scores.csv as written, items.csv from Parquet."""
    import pandas as pd

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(run_dir / "data" / "scores.csv", target / "scores.csv")
    pd.read_parquet(run_dir / "data" / "items.parquet").to_csv(target / "items.csv", index=False)
    return target


def measure_r(data_dir: Path, out: Path, sample: bool = False) -> dict:
    """Render the R peer once (a fresh ``Rscript``: R start, package loading, analyses, plots,
    pandoc) with ``rmarkdown::render``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    code = (f'rmarkdown::render("{RMD.as_posix()}", params = list(data_dir = "{data_dir.as_posix()}"), '
            f'output_dir = "{out.as_posix()}", intermediates_dir = "{out.as_posix()}", quiet = TRUE)')
    res = timed(["Rscript", "-e", code], cwd=out, sample=sample)
    if res["returncode"] != 0:
        print(f"warning: the R peer exited {res['returncode']}:\n{res['output'][-1500:]}",
              file=sys.stderr)
    return {"exit_code": res["returncode"], "wall": res["wall"], "cpu": res["cpu"],
            "peak_mib": res["peak_mib"], "peak_pss_mib": res["peak_pss_mib"]}


def measure_export_and_scan(study: Path, run_dir: Path) -> dict:
    """HTML export of the run's notebooks and the privacy scan of its folder, in this process."""
    from survey.scanner import scan_folder
    from survey.study_loader import load_study
    from survey.validation import validate
    from workbench.reports import render_html

    sensitive = validate(load_study(study)).sensitive
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        t0 = time.perf_counter()
        for nb in sorted((run_dir / "notebooks").glob("*.ipynb")):
            render_html(nb, Path(tmp) / f"{nb.stem}.html", report_mode=False, title=nb.stem)
        export = time.perf_counter() - t0
    t0 = time.perf_counter()
    files = scan_folder(run_dir, sensitive).files_scanned
    return {"html_export": export, "scan": time.perf_counter() - t0, "files_scanned": files}


def split(run: dict, imports: dict[str, float]) -> dict:
    rows = {}
    for name, nb in run["notebooks"].items():
        imp = min(imports.get(name, 0.0), nb["first_cell"], nb["cells"])
        rows[name] = {"runner": nb["runner"], "start": nb["runner"] - nb["cells"],
                      "imports": imp, "analysis": nb["cells"] - imp,
                      "first_cell": nb["first_cell"]}
    total = {k: sum(r[k] for r in rows.values())
             for k in ("runner", "start", "imports", "analysis", "first_cell")}
    return {"per_notebook": rows, "total": total}


def median_of(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_side_by_side(runs: list[dict], r_runs: list[dict], r_note: str | None,
                       memory: dict | None = None) -> None:
    """The issue-16 table: median wall, CPU and peak memory per kind of run, and the ratio.
    ``memory`` maps ``"R"`` and each ``jobs`` to a run measured for memory only."""
    memory = memory or {}
    print("\n## Side by side (medians over the repeats; alternating runs)\n")
    head = ["run", "repeats", "median wall (s)", "CPU (s)",
            "peak memory, all processes (MiB; a run of its own)", "peak PSS (MiB)",
            "wall / R report"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    r_wall = median_of([r["wall"] for r in r_runs if r["exit_code"] == 0])
    rows = []
    if r_runs:
        rows.append(("R `rmarkdown::render`", r_runs, memory.get("R")))
    for jobs in sorted({r["jobs"] for r in runs}, reverse=True):
        rows.append((f"`workbench run` county `--jobs {jobs}`",
                     [r for r in runs if r["jobs"] == jobs], memory.get(jobs)))
    nan = float("nan")
    for label, group, mem in rows:
        wall = median_of([g["wall"] for g in group])
        ratio = f"{wall / r_wall:.2f}" if r_runs and r_wall == r_wall else "–"
        mem = mem or {}
        print(f"| {label} | {len(group)} | {wall:.2f} | {median_of([g['cpu'] for g in group]):.1f} "
              f"| {mem.get('peak_mib', nan):.0f} | {mem.get('peak_pss_mib', nan):.0f} "
              f"| {ratio} |")
    if r_note:
        print(f"\nThe R peer was not timed: {r_note}.")


def print_tables(startup: float, imports: dict, runs: list[dict], extra: dict | None = None) -> None:
    if startup == startup:
        print(f"\nempty notebook through workbench.notebook_runner (process + papermill + shell): "
              f"{startup:.2f} s (median of 3)")
        print("isolated imports per notebook: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in imports.items()))
    if extra:
        print(f"HTML export of the {len(runs[0]['notebooks'])} notebooks, one after the other: "
              f"{extra['html_export']:.2f} s; privacy scan of the run folder "
              f"({extra['files_scanned']} files): {extra['scan']:.2f} s")

    print("\n## workbench run: wall time and steps (seconds)\n")
    head = ["jobs", "wall", "validate", "score", "notebooks", "reports", "scan + manifest",
            "nb start", "nb imports", "nb analysis", "start+imports share"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for run in runs:
        s, t = run["steps"], run["split"]["total"]
        share = (t["start"] + t["imports"]) / t["runner"] if t["runner"] else float("nan")
        # the scan's step ends after the manifest is written: what the steps leave of the run
        rest = run.get("seconds", float("nan")) - sum(s.values())
        cells = [str(run["jobs"]), f"{run['wall']:.1f}"] + [
            f"{s.get(k, float('nan')):.1f}" for k in
            ("validate", "score", "notebooks", "reports")] + [f"{rest:.1f}"] + [
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
    ap.add_argument("--jobs", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--repeats", type=int, default=3,
                    help="alternating repeats of every run (medians are reported)")
    ap.add_argument("--no-breakdown", action="store_true",
                    help="skip the start-up, import, export and scan measurements")
    ap.add_argument("--no-r", action="store_true", help="do not time the R peer")
    ap.add_argument("--json", help="also write the measurements to this JSON file")
    ap.add_argument("--keep", help="keep the run folders under this folder")
    args = ap.parse_args(argv)

    notebooks = available_notebooks()
    r_note = "--no-r" if args.no_r else r_peer_missing()
    print(f"study: {args.study}; notebooks: {', '.join(p.stem for p in notebooks)}; "
          f"cores: {os.cpu_count()}; R peer: {'timed' if r_note is None else r_note}")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        tmp = Path(tmp)
        work = tmp / "work"
        work.mkdir()
        startup, imports = float("nan"), {}
        if not args.no_breakdown:
            startup = measure_startup(work)
            imports = measure_imports(notebooks, work)
        runs, r_runs, extra = [], [], None
        r_data = None
        for repeat in range(1, args.repeats + 1):
            for jobs in args.jobs:
                out = (Path(args.keep) if args.keep else tmp) / f"run-jobs{jobs}-{repeat}"
                run = measure_run(Path(args.study), jobs, out)
                run["split"] = split(run, imports)
                run["repeat"] = repeat
                runs.append(run)
                print(f"repeat {repeat} --jobs {jobs}: {run['wall']:.1f} s, CPU {run['cpu']:.1f} s, "
                      f"status {run['status']}", flush=True)
                if r_data is None and run["exit_code"] == 0:
                    r_data = r_peer_data(out, tmp / "r-data")
                    if not args.no_breakdown:
                        extra = measure_export_and_scan(Path(args.study), out)
            if r_note is None and r_data is not None:
                r = measure_r(r_data, (Path(args.keep) if args.keep else tmp) / f"r-{repeat}")
                r_runs.append(r)
                print(f"repeat {repeat} R peer: {r['wall']:.1f} s, CPU {r['cpu']:.1f} s",
                      flush=True)
        # memory, in runs of their own (sampling the process tree costs CPU, see timed)
        memory = {}
        for jobs in args.jobs:
            memory[jobs] = measure_run(Path(args.study), jobs, tmp / f"mem-jobs{jobs}",
                                       sample=True)
        if r_note is None and r_data is not None:
            memory["R"] = measure_r(r_data, tmp / "mem-r", sample=True)
        for key, m in memory.items():
            print(f"memory run {'R peer' if key == 'R' else f'--jobs {key}'}: peak "
                  f"{m['peak_mib']:.0f} MiB resident, {m['peak_pss_mib']:.0f} MiB PSS", flush=True)
    print_side_by_side(runs, r_runs, r_note, memory)
    first = [r for r in runs if r["repeat"] == 1]
    print_tables(startup, imports, first, extra)
    if args.json:
        Path(args.json).write_text(json.dumps({"startup": startup, "imports": imports,
                                               "runs": runs, "r_peer": r_runs, "r_note": r_note,
                                               "export_and_scan": extra}, indent=1),
                                   encoding="utf-8")
    return 0 if all(r["exit_code"] == 0 for r in runs + r_runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

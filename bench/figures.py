"""Benchmark: CPU time to save each figure of a run, before and after (issue 16).

Run:  .venv/bin/python bench/figures.py [RUN] [--repeat 3] [--notebooks 03_effects ...]
      [--no-before] [--compare]

``RUN`` is a finished run folder (``workbench run EXAMPLE --out RUN``; by default the county
example is run now into a temporary folder). It is copied to a temporary folder (never written to), and the code
cells of the notebooks in ``notebooks/`` are executed there in this process, in order, the
way the kernel would run them (parameters at their defaults: ``run_dir = "."``).
``analysis.figures.save_figure`` is wrapped: each figure a notebook saves is pickled, and
copies of it are saved

* ``before``: the way save_figure did it up to commit 7a03b56 (:func:`savefig_tight`:
  ``fig.savefig(..., dpi=200, bbox_inches="tight")`` once per format, PNG by PIL);
* ``after``: by the current :func:`analysis.figures.save_figure`;

each timed with ``time.process_time`` (CPU seconds of this process, so the load of other
processes matters little), best of ``--repeat``. Then the notebook's own call goes through,
so the copy of the run gets its figures. Per figure the script prints both times, whether
the two PNGs have the same pixels and the two SVGs the same bytes, and the PNG sizes.

``--compare`` also compares the figures written with those of ``RUN`` (pixels and SVG
bytes): with ``RUN`` written by another commit's ``workbench run``, this checks that the
current save_figure writes what that commit wrote. (``workbench run`` executes the bundled
notebooks in its own process, as this script does; with kernel lanes,
``delta_adjustment.png`` of the county example differed in 610 anti-aliased pixels, the
imputation draws differing in the last bits between the two environments.)

All saves run in this one process, as a lane's do: save_figure's text cache
(``analysis.figures._text_cache``) holds what the figures before measured and shaped, so
each ``after`` time is that of a save after the run's earlier figures (and the notebook's
own save, right after, finds its text in the cache).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from analysis import figures  # noqa: E402
from core.atomic import write_with  # noqa: E402

save_figure = figures.save_figure  # the current one (the notebooks' calls are wrapped below)


def savefig_tight(fig, folder, name: str, *, formats=("png", "svg")) -> list[Path]:
    """save_figure as it was at 7a03b56: savefig with a tight box, once per format."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        target = folder / f"{name}.{fmt}"
        meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}

        def draw(tmp, fmt=fmt, meta=meta):
            with plt.rc_context({"svg.hashsalt": "survey-workbench"}), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig.savefig(tmp, format=fmt, dpi=200, bbox_inches="tight", metadata=meta)

        write_with(target, draw)
        paths.append(target)
    return paths


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))  # (an opaque figure may be RGB)


def _same(a: list[Path], b: list[Path]) -> tuple[str, str]:
    pa, pb = _pixels(a[0]), _pixels(b[0])
    if pa.shape != pb.shape:
        png = f"shape {pa.shape} != {pb.shape}"
    else:
        diff = np.abs(pa.astype(int) - pb.astype(int))
        png = "same" if not diff.any() else f"{int(diff.any(-1).sum())} px (max {diff.max()})"
    svg = "same" if a[1].read_bytes() == b[1].read_bytes() else "differs"
    return png, svg


def _time(save, data: bytes, folder: Path, name: str, repeat: int):
    best, paths = float("inf"), None
    for _ in range(repeat):
        fig = pickle.loads(data)
        t = time.process_time()
        paths = save(fig, folder, name)
        best = min(best, time.process_time() - t)
        plt.close(fig)
    return best, paths


def run_notebooks(run: Path, names: list[str], on_figure) -> None:
    """Execute the code cells of ``notebooks/NAME.ipynb`` in ``run`` (this process)."""
    from IPython.display import display  # noqa: F401 - the notebooks import it themselves

    cwd = os.getcwd()
    os.chdir(run)
    def wrapped(fig, folder, name, **kw):
        on_figure(fig, name)
        return save_figure(fig, folder, name, **kw)

    figures.save_figure = wrapped
    try:
        for nb in names:
            cells = json.loads((ROOT / "notebooks" / f"{nb}.ipynb").read_text(encoding="utf-8"))
            ns = {"__name__": "__main__"}
            figures.reset_font_warning()
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for cell in cells["cells"]:
                    src = "".join(cell["source"])
                    if cell["cell_type"] == "code" and not src.startswith("%"):
                        exec(compile(src, f"{nb}.ipynb", "exec"), ns)
            plt.close("all")
    finally:
        figures.save_figure = save_figure
        os.chdir(cwd)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", nargs="?", default=None, type=Path,
                    help="a finished run folder (default: the county example, run now into a "
                         "temporary folder)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N saves per figure")
    ap.add_argument("--notebooks", nargs="*",
                    default=sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")))
    ap.add_argument("--no-before", action="store_true", help="time the current code only")
    ap.add_argument("--compare", action="store_true",
                    help="compare the figures written with those of RUN")
    args = ap.parse_args(argv)
    if args.run is None:
        args.run = Path(tempfile.mkdtemp(prefix="bench-figures-run-")) / "county"
        subprocess.run([sys.executable, "-m", "workbench", "run",
                        str(ROOT / "examples" / "county-cluster-trial"), "--out", str(args.run),
                        "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    if not (args.run / "study.json").is_file():
        ap.error(f"{args.run}: not a run folder (no study.json)")

    work = Path(tempfile.mkdtemp(prefix="bench-figures-"))
    try:
        run = work / "run"
        shutil.copytree(args.run, run, ignore=shutil.ignore_patterns("figures"))
        rows, out = [], sys.stdout  # (the notebooks' own output is swallowed)

        def on_figure(fig, name):
            data = pickle.dumps(fig)
            row = {"figure": name}
            after, new = _time(save_figure, data, work / "after", name, args.repeat)
            row["after_ms"] = 1000 * after
            row["png_kb"] = new[0].stat().st_size / 1024
            if not args.no_before:
                before, old = _time(savefig_tight, data, work / "before", name, args.repeat)
                row["before_ms"] = 1000 * before
                row["old_png_kb"] = old[0].stat().st_size / 1024
                row["png"], row["svg"] = _same(old, new)
            rows.append(row)
            print(_line(row), file=out, flush=True)

        print(f"{'figure':24s} {'before ms':>9s} {'after ms':>9s} {'ratio':>6s}  "
              f"{'PNG kB before/after':>20s}  PNG pixels / SVG bytes", flush=True)
        t0 = time.process_time()
        run_notebooks(run, args.notebooks, on_figure)
        total_cpu = time.process_time() - t0
        after = sum(r["after_ms"] for r in rows)
        print("-" * 96)
        if args.no_before:
            print(f"{'total (' + str(len(rows)) + ' figures)':24s} {'':>9s} {after:9.0f}")
        else:
            before = sum(r["before_ms"] for r in rows)
            print(f"{'total (' + str(len(rows)) + ' figures)':24s} {before:9.0f} {after:9.0f} "
                  f"{after / before:6.2f}  {sum(r['old_png_kb'] for r in rows):9.0f} / "
                  f"{sum(r['png_kb'] for r in rows):<9.0f}")
        print(f"(whole script, notebooks and all saves: {total_cpu:.1f} s CPU)")
        if args.compare:
            bad = 0
            for png in sorted((run / "figures").glob("*.png")):
                ref = args.run / "figures" / png.name
                if not ref.exists():
                    print(f"{png.stem}: not in {args.run}")
                    bad += 1
                    continue
                res = _same([ref, ref.with_suffix(".svg")], [png, png.with_suffix(".svg")])
                if res != ("same", "same"):
                    print(f"{png.stem}: PNG {res[0]}, SVG {res[1]} (vs {args.run})")
                    bad += 1
            print(f"compared with {args.run}: {bad} of "
                  f"{len(list((run / 'figures').glob('*.png')))} figures differ")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _line(r: dict) -> str:
    if "before_ms" not in r:
        return f"{r['figure']:24s} {'':>9s} {r['after_ms']:9.0f}"
    return (f"{r['figure']:24s} {r['before_ms']:9.0f} {r['after_ms']:9.0f} "
            f"{r['after_ms'] / r['before_ms']:6.2f}  {r['old_png_kb']:9.0f} / {r['png_kb']:<9.0f} "
            f"{r['png']} / {r['svg']}")


if __name__ == "__main__":
    sys.exit(main())

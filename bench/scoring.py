"""Benchmark: score 200,000 respondents x 40 items in 4 scales, against R psych::scoreItems.

Run:  .venv/bin/python bench/scoring.py [--n 200000] [--repeat 3] [--no-r]

Data: a fixed-seed (20240609) matrix of integer answers 1..5, 40 items in 4 scales of 10
(items 2 and 7 of every scale reverse-keyed), about 5% of answers missing at random.

What is timed
-------------
* Python: ``survey.scoring.score_items`` on a DataFrame already in memory (mean scores,
  ``min_items = 1``: the same rule as psych's ``impute = "none"``), best of ``--repeat``
  runs; peak memory is the tracemalloc peak of one call (numpy buffers included) and the
  process's max resident set size.
* R: only ``psych::scoreItems(keys, items, impute = "none", min = 1, max = 5)`` inside
  ``system.time`` (elapsed), best of ``--repeat``; reading the CSV is not timed. Note that
  scoreItems also computes alpha, item-scale and scale intercorrelations, so it does
  more work than scoring alone: the ratio is a practical comparison, not a like-for-like one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey.instrument import Instrument, Item, License, Response, Scale  # noqa: E402
from survey.scoring import score_items  # noqa: E402

N_SCALES, PER_SCALE, SEED = 4, 10, 20240609


def make_instrument() -> Instrument:
    items, scales = [], []
    for s in range(N_SCALES):
        ids = [f"s{s + 1}_{k + 1}" for k in range(PER_SCALE)]
        items += [Item(i, reverse=k in (1, 6)) for k, i in enumerate(ids)]
        scales.append(Scale(f"scale{s + 1}", {"en": f"Scale {s + 1}"}, tuple(ids), score="mean",
                            min_items=1))
    return Instrument(id="bench", name={"en": "Benchmark"}, version="1", construct="",
                      citation="", license=License("original", "benchmark"),
                      response=Response(1, 5), items=tuple(items), scales=tuple(scales))


def make_data(n: int, inst: Instrument) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    x = rng.integers(1, 6, size=(n, len(inst.items))).astype(np.float64)
    x[rng.random(x.shape) < 0.05] = np.nan
    return pd.DataFrame(x, columns=list(inst.item_ids))


def time_python(df, inst, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = score_items(df, inst)
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    score_items(df, inst)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak, out


R_SCRIPT = r"""
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
items <- read.csv(args[1], na.strings = "")
repeat_n <- as.integer(args[2])
keys <- list()
for (s in 1:4) {
  ids <- paste0("s", s, "_", 1:10)
  ids[c(2, 7)] <- paste0("-", ids[c(2, 7)])
  keys[[paste0("scale", s)]] <- ids
}
best <- Inf
for (r in seq_len(repeat_n)) {
  tm <- system.time(sc <- suppressWarnings(scoreItems(keys, items, impute = "none", min = 1, max = 5)))
  best <- min(best, tm[["elapsed"]])
}
cat(sprintf('{"seconds": %.6f, "R": "%s", "psych": "%s", "first": [%s]}\n', best,
            R.version.string, as.character(packageVersion("psych")),
            paste(sprintf("%.15g", sc$scores[1, ]), collapse = ", ")))
"""


def time_r(df, repeat):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "items.csv"
        df.to_csv(csv, index=False, na_rep="")
        script = Path(d) / "bench.R"
        script.write_text(R_SCRIPT)
        res = subprocess.run(["Rscript", str(script), str(csv), str(repeat)],
                             capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    a = ap.parse_args(argv)

    inst = make_instrument()
    df = make_data(a.n, inst)
    secs, peak, out = time_python(df, inst, a.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    r = None if a.no_r else time_r(df, a.repeat)

    print(f"scoring {a.n:,} respondents x {len(inst.items)} items in {len(inst.scales)} scales "
          f"(seed {SEED}, ~5% missing, best of {a.repeat}; cores: {os.cpu_count()})")
    print(f"data in memory: {df.memory_usage(index=False).sum() / 2**20:.1f} MiB")
    rows = [("survey.scoring.score_items", secs, f"{peak / 2**20:.1f} MiB (tracemalloc peak); "
             f"process max RSS {rss:.0f} MiB")]
    if r is not None:
        rows.append((f"psych::scoreItems (psych {r['psych']})", r["seconds"], "-"))
    w = max(len(x[0]) for x in rows)
    print(f"{'what':<{w}}  {'seconds':>9}  {'x python':>8}  memory")
    for name, s, mem in rows:
        print(f"{name:<{w}}  {s:9.3f}  {s / secs:8.1f}  {mem}")
    if r is not None:
        same = np.allclose(out.iloc[0].to_numpy(), np.array(r["first"]), atol=1e-9)
        print(f"R: {r['R']}; first respondent's scores agree with R: {same}")
    else:
        print("R: not run (Rscript not found or --no-r)")


if __name__ == "__main__":
    main()

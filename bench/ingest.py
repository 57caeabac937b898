"""Benchmark: read + validate 200,000 respondents x 40 items against plain pandas.

    .venv/bin/python bench/ingest.py [--rows 200000] [--xlsx-rows 50000]

Writes a synthetic study (CSV in UTF-8 and GBK, and an XLSX) into a temporary
folder, then measures, each in a fresh subprocess (so peak memory is per task):

- ``workbench``: ``survey.validation.validate(study)`` = read as strings, drop PII,
  pseudonymize ids, map items to numbers, run every validation rule;
- ``pandas``: plain ``pandas.read_csv(path[, encoding="gbk"])`` / ``pandas.read_excel``
  (type inference, no validation, no pseudonyms).

Peak memory is the process's peak RSS (``VmHWM``; ``ru_maxrss`` is not used because
Linux carries it over from the parent across exec) minus its RSS after the imports, so
it includes pyarrow and numpy buffers (Linux only: /proc/self/status). Prints one table with
rows/s and peak MB for both, and the ratios workbench/pandas.

Writing 200,000 XLSX rows with openpyxl and reading them twice takes minutes on a
small machine, so the XLSX case uses ``--xlsx-rows`` (default 50,000).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 40


def make_study(folder: Path, rows: int, xlsx_rows: int) -> None:
    import numpy as np
    import pandas as pd
    import yaml

    rng = np.random.default_rng(1)
    n = rows
    df = pd.DataFrame({
        "学号": [f"S{i:07d}" for i in range(n)],
        "姓名": [f"学生{i}" for i in range(n)],
        "wave": "baseline",
        "arm": np.where(rng.random(n) < 0.5, "control", "treatment"),
        "学校": np.char.add("学校", rng.integers(1, 100, n).astype(str)),
    })
    answers = rng.integers(1, 5, size=(n, ITEMS))
    for j in range(ITEMS):
        df[f"item_{j + 1}"] = answers[:, j]
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    df.to_csv(data / "utf8.csv", index=False, encoding="utf-8")
    df.to_csv(data / "gbk.csv", index=False, encoding="gbk")
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(list(df.columns))
    for row in df.head(xlsx_rows).itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    wb.save(data / "data.xlsx")
    inst = {
        "id": "bench40", "name": {"en": "Bench 40"}, "version": "1", "construct": "bench",
        "citation": "synthetic", "license": {"kind": "original", "terms": "synthetic"},
        "response": {"min": 1, "max": 4},
        "items": [{"id": f"item_{j + 1}", "reverse": j % 4 == 0} for j in range(ITEMS)],
        "scales": [{"id": "total", "name": {"en": "total"},
                    "items": [f"item_{j + 1}" for j in range(ITEMS)], "score": "mean"}],
    }
    (folder / "bench40.yaml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    for name in ("utf8.csv", "gbk.csv", "data.xlsx"):
        doc = {"id": "bench", "design": {"type": "cluster_randomized", "id": "学号",
                                         "waves": ["baseline"], "arm": "arm", "control": "control",
                                         "clusters": "学校"},
               "instruments": [{"path": "bench40.yaml"}], "privacy": {"pii": ["姓名"]},
               "data": [{"path": f"data/{name}"}],
               "outcomes": [{"id": "t", "scale": "bench40.total"}]}
        (folder / f"study_{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                   encoding="utf-8")


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import pandas as pd
task, folder, name = sys.argv[1:4]
if task == "workbench":
    from survey.study_loader import load_study
    from survey.validation import validate
    import pyarrow.csv, openpyxl  # imported lazily by the readers; count them as imports
else:
    import openpyxl
def rss_kb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() // 1024
def hwm_kb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
base = rss_kb()
t = time.perf_counter()
if task == "workbench":
    res = validate(load_study(f"{{folder}}/study_{{name}}.yaml"))
    n = res.rows_read
    assert res.errors == 0, res.summary()[:2000]
elif name.endswith(".xlsx"):
    n = len(pd.read_excel(f"{{folder}}/data/{{name}}"))
else:
    n = len(pd.read_csv(f"{{folder}}/data/{{name}}", encoding="gbk" if name.startswith("gbk") else "utf-8"))
secs = time.perf_counter() - t
peak = hwm_kb()
print(json.dumps({{"rows": n, "secs": secs, "peak_mb": (peak - base) / 1024}}))
"""


def run(task, folder, name):
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, task, str(folder), name], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--xlsx-rows", type=int, default=50_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        make_study(folder, args.rows, args.xlsx_rows)
        print(f"wrote test files in {time.perf_counter() - t:.1f} s "
              f"({args.rows} rows CSV, {args.xlsx_rows} rows XLSX, {ITEMS} items)")
        header = (f"{'file':<10} {'rows':>8} {'wb rows/s':>11} {'pd rows/s':>11} {'time ratio':>10} "
                  f"{'wb peak MB':>10} {'pd peak MB':>10} {'mem ratio':>9}")
        lines = [header, "-" * len(header)]
        for name in ("utf8.csv", "gbk.csv", "data.xlsx"):
            wb = run("workbench", folder, name)
            pd_ = run("pandas", folder, name)
            lines.append(
                f"{name:<10} {wb['rows']:>8} {wb['rows'] / wb['secs']:>11,.0f} "
                f"{pd_['rows'] / pd_['secs']:>11,.0f} {wb['secs'] / pd_['secs']:>10.2f} "
                f"{wb['peak_mb']:>10.0f} {pd_['peak_mb']:>10.0f} "
                f"{wb['peak_mb'] / max(pd_['peak_mb'], 1):>9.2f}")
        print("\n".join(lines))
        print("time ratio = workbench seconds / pandas seconds (validate() includes reading, "
              "PII drop, HMAC pseudonyms, label/number mapping and every rule)")


if __name__ == "__main__":
    main()

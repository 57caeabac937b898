"""Benchmark: the privacy scan of a run folder, this tree's code beside a base commit's.

    .venv/bin/python bench/scan.py [RUN_FOLDER] [--base DIR] [--study DIR] [--repeats 3]
                                   [--check DIR ...]

``survey.scanner.scan_folder`` with the study's raw values (``validate(load_study(STUDY))
.sensitive``) searches ``RUN_FOLDER`` in one process (no forked workers:
``PARALLEL_MIN_BYTES`` set out of reach), once with the code of this tree and once with the
code of ``--base``, a checkout of an earlier commit (by default 43ab826, before the scan's
speed-up, exported with ``git archive`` into a temporary folder; the run folder by default is
the county example, run now). Each scan runs in a fresh ``python -P`` process whose ``sys.path``
starts with that tree, alternating base and new ``--repeats`` times so that both see the same
machine; the table gives the median CPU time (``time.process_time``) of the scan, value index
build included, and the ratio.

Every scan's findings, notes, file count and counts of values too short to search must be
the same for both trees: the script stops with an error when they are not. The run folder of
a clean run holds no value, so ``--check`` names more folders (by default the three example
studies, whose raw data hold every value) that are scanned once by each tree with their own
study's values, for the same comparison.

Measure with ``OPENBLAS_NUM_THREADS=1`` on a quiet machine; CPU time is less sensitive to other
load than wall time, not insensitive.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_COMMIT = "43ab826"  # the scan before issue 16's second round of work

_CHILD = r"""
import json, sys, time
from pathlib import Path
root, folder, study = sys.argv[1:4]
sys.path.insert(0, root)
import survey.scanner as sc
from survey.study_loader import load_study
from survey.validation import validate
assert Path(sc.__file__).resolve().is_relative_to(Path(root).resolve()), sc.__file__
sc.PARALLEL_MIN_BYTES = 10**15
sensitive = validate(load_study(Path(study))).sensitive
t = time.process_time()
res = sc.scan_folder(Path(folder), sensitive)
cpu = time.process_time() - t
out = res.to_dict()
out.pop("folder")
print(json.dumps({"cpu": cpu, "result": out}, ensure_ascii=False))
"""


def _scan(tree: Path, folder: Path, study: Path) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-P", "-c", _CHILD, str(tree), str(folder), str(study)],
                          capture_output=True, text=True, env=env, cwd=str(tree))
    if proc.returncode:
        sys.exit(f"the scan with {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same(folder: Path, base: dict, new: dict) -> None:
    if base["result"] != new["result"]:
        sys.exit(f"DIFFERENT results for {folder}:\nbase: {base['result']}\nnew:  {new['result']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", nargs="?", default=None,
                    help="run folder to scan (default: the county example, run now into a "
                         "temporary folder)")
    ap.add_argument("--base", default=None,
                    help="checkout of the base commit (default: 43ab826, before the scan's "
                         "speed-up, exported now with git archive into a temporary folder)")
    ap.add_argument("--study", default=str(ROOT / "examples" / "county-cluster-trial"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", nargs="*", default=[str(p) for p in
                                                  sorted((ROOT / "examples").glob("*/study.yaml"))],
                    help="more folders to compare findings on, once each: FOLDER (with the "
                         "--study values), FOLDER=STUDY (with that study's values), or a "
                         "study.yaml (its study folder with its own values)")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    if args.run is None:
        args.run = tmp / "county"
        subprocess.run([sys.executable, "-m", "workbench", "run",
                        str(ROOT / "examples" / "county-cluster-trial"), "--out", args.run,
                        "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    if args.base is None:
        args.base = tmp / "base"
        args.base.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASE_COMMIT],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(args.base)], input=archive, check=True)
    base, run, study = Path(args.base), Path(args.run), Path(args.study)
    for p in (base / "survey" / "scanner.py", run, study):
        if not p.exists():
            sys.exit(f"not found: {p}")

    rows = []
    times: dict[str, list[float]] = {"base": [], "new": []}
    for _ in range(args.repeats):
        b = _scan(base, run, study)
        n = _scan(ROOT, run, study)
        _same(run, b, n)
        times["base"].append(b["cpu"])
        times["new"].append(n["cpu"])
    res = n["result"]
    rows.append((str(run), statistics.median(times["base"]), statistics.median(times["new"]),
                 res["files_scanned"], len(res["findings"])))
    for item in args.check:
        folder_text, _, study_text = item.partition("=")
        p = Path(folder_text)
        folder, values = (p.parent, p.parent) if p.name == "study.yaml" else (p, study)
        if study_text:
            values = Path(study_text)
        b = _scan(base, folder, values)
        n = _scan(ROOT, folder, values)
        _same(folder, b, n)
        rows.append((str(folder), b["cpu"], n["cpu"], n["result"]["files_scanned"],
                     len(n["result"]["findings"])))

    print(f"privacy scan CPU, one process (median of {args.repeats} for the run folder, one "
          f"scan for the others); base = {base}, new = {ROOT}")
    print(f"{'folder':58s} {'base s':>7s} {'new s':>7s} {'ratio':>6s} {'files':>6s} "
          f"{'findings':>8s}  same")
    for folder, tb, tn, files, findings in rows:
        print(f"{folder[-58:]:58s} {tb:7.3f} {tn:7.3f} {tb / tn:6.2f} {files:6d} "
              f"{findings:8d}  yes")
    print(f"run folder, every repeat: base {[round(t, 3) for t in times['base']]}, "
          f"new {[round(t, 3) for t in times['new']]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

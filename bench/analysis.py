"""One table of analysis timings, side by side with R (issue 4, section 7).

    .venv/bin/python bench/analysis.py

Rows: alpha + omega on 200,000 x 40 items (psych::alpha / omega) and random-intercept
REML fits (lme4::lmer), both from bench/analysis_reliability_mixed.py; CR2 on 20,000
rows in 200 clusters (estimatr::lm_robust(se_type = "CR2"), and clubSandwich for
information); 1,000 simulated cluster trials for power (analysis.power.simulate_power
vs an R loop of lm_robust(se_type = "CR2")). R is timed INSIDE R with system.time
around the computation only (data already loaded); Python likewise (data in memory).
Without Rscript the R column says "not available".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# this file is named analysis.py: keep its folder off sys.path so "analysis" is the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from analysis.cluster_robust import coef_test  # noqa: E402


def _r(code: str, timeout: float = 1800):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(code)
    try:
        out = subprocess.run(["Rscript", fh.name], capture_output=True, text=True, timeout=timeout, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        print(f"R failed: {exc}", file=sys.stderr)
        return None
    finally:
        Path(fh.name).unlink()


def _best(fn, repeat=3):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def bench_cr2(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    J, n = 200, 20_000
    g = np.sort(rng.integers(0, J, n))
    treat = (g % 2).astype(float)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    block = g // 50  # schools nested in 4 blocks
    y = 0.2 * treat + 0.5 * x1 + rng.normal(0, 0.4, J)[g] + rng.normal(size=n)
    d = pd.DataFrame({"y": y, "treat": treat, "x1": x1, "x2": x2, "block": block, "g": g})
    X = pd.DataFrame({"(Intercept)": 1.0, "treat": treat, "x1": x1, "x2": x2,
                      **{f"b{k}": (block == k) * 1.0 for k in (1, 2, 3)}})
    py = _best(lambda: coef_test((X, y), g))
    res = coef_test((X, y), g).set_index("term").loc["treat"]
    r = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        d.to_csv(path, index=False)
        r = _r(f"""
suppressPackageStartupMessages({{library(estimatr); library(clubSandwich); library(jsonlite)}})
d <- read.csv("{path}"); d$block <- factor(d$block)
t1 <- system.time(f <- lm_robust(y ~ treat + x1 + x2 + block, data = d, clusters = g, se_type = "CR2"))[["elapsed"]]
t2 <- system.time({{m <- lm(y ~ treat + x1 + x2 + block, data = d); ct <- coef_test(m, vcov = "CR2", cluster = d$g)}})[["elapsed"]]
cat(toJSON(list(r_s = t1, cs_s = t2, se = unname(f$std.error["treat"]), df = unname(f$df["treat"])), auto_unbox = TRUE, digits = NA), "\\n")
""")
    note = f"SE {res['std_error']:.6g} df {res['df']:.5g}"
    if r:
        note += (f" | R SE {r['se']:.6g} df {r['df']:.5g}; clubSandwich lm+coef_test {r['cs_s']:.2f} s")
    return {"CR2 + BM df, 20,000 rows / 200 clusters (estimatr)": _row(py, r and r["r_s"], note)}


def bench_power(seed: int = 0) -> dict:
    try:
        from analysis.power import simulate_power
        run = lambda: simulate_power(20, 30, 0.1, 0.3, n_sims=1000, seed=seed)  # noqa: E731
        src = "analysis.power.simulate_power"
    except ImportError:
        from analysis.cluster_robust import cr2_test_many

        def run():
            rng = np.random.default_rng(seed)
            g = np.repeat(np.arange(20), 30)
            for _ in range(10):
                t = np.zeros(20)
                t[rng.choice(20, 10, replace=False)] = 1
                X = np.column_stack([np.ones(600), t[g]])
                Y = 0.3 * X[:, 1] + rng.normal(0, np.sqrt(0.1), (100, 20))[:, g] + rng.normal(0, np.sqrt(0.9), (100, 600))
                cr2_test_many(Y, X, g, coef=1)
        src = "cr2_test_many"
    py = _best(run)
    r = _r("""
suppressPackageStartupMessages({library(estimatr); library(jsonlite)})
set.seed(1)
t <- system.time({
  p <- numeric(1000)
  for (i in 1:1000) {
    g <- rep(1:20, each = 30); tr <- sample(rep(0:1, 10))[g]
    y <- 0.3 * tr + rnorm(20, 0, sqrt(0.1))[g] + rnorm(600, 0, sqrt(0.9))
    p[i] <- lm_robust(y ~ tr, clusters = g, se_type = "CR2")$p.value[2]
  }
})[["elapsed"]]
cat(toJSON(list(r_s = t, power = mean(p < 0.05)), auto_unbox = TRUE), "\\n")
""")
    note = f"J=20, m=30, ICC 0.1, d=0.3, {src}; R loop of lm_robust CR2 (incl. data generation, as Python)"
    if r:
        note += f"; R power {r['power']:.3f}"
    return {"power: 1,000 simulated cluster trials": _row(py, r and r["r_s"], note)}


def _row(python_s, r_s, note=""):
    return {"python_s": python_s, "r_s": r_s, "ratio": (python_s / r_s) if r_s else None, "note": note}


def main() -> int:
    rows: dict = {}
    try:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "analysis_reliability_mixed", ROOT / "bench" / "analysis_reliability_mixed.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        bench_alpha_omega, bench_reml = mod.bench_alpha_omega, mod.bench_reml
        rows.update(bench_alpha_omega())
        rows.update(bench_reml())
    except (ImportError, OSError, AttributeError) as exc:
        rows["alpha/omega, REML"] = _row(float("nan"), None, f"not available: {exc}")
    rows.update(bench_cr2())
    rows.update(bench_power())
    print(f"{'benchmark':58s} {'Python s':>9s} {'R s':>9s} {'Py/R':>7s}  note")
    for name, r in rows.items():
        rs = f"{r['r_s']:9.3f}" if r.get("r_s") else f"{'n/a':>9s}"
        ratio = f"{r['ratio']:7.3f}" if r.get("ratio") else f"{'n/a':>7s}"
        print(f"{name:58s} {r['python_s']:9.3f} {rs} {ratio}  {r.get('note', '')}")
    print("R timed with system.time() inside R around the computation only (data loaded first).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

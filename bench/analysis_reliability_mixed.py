"""Benchmarks: alpha/omega and random-intercept REML, side by side with R.

Used by ``bench/analysis.py`` (which imports :func:`bench_alpha_omega` and
:func:`bench_reml`); runnable on its own::

    .venv/bin/python bench/analysis_reliability_mixed.py [--statsmodels]

Each function returns a dict ``{row_name: {"python_s": float, "r_s": float or None,
"ratio": python_s / r_s or None, "note": str, ...}}``. R is timed inside R
(``system.time`` around the call only; reading the CSV is excluded) when
``Rscript`` is on the PATH; otherwise ``r_s`` is ``None``. Python is timed the
same way (data already in memory).

On a shared or small machine, run with ``OPENBLAS_NUM_THREADS=1``: R's reference
BLAS is single-threaded, and a multi-threaded OpenBLAS competing for two busy
cores made the alpha/omega timings 3-10 times slower and very noisy in our runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.mixed import random_intercepts  # noqa: E402
from analysis.reliability import cronbach_alpha, item_statistics, omega_total  # noqa: E402


def _rscript(code: str, timeout: float = 1800) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(code)
        path = fh.name
    try:
        out = subprocess.run(
            ["Rscript", path], capture_output=True, text=True, timeout=timeout, check=True
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"R failed: {exc}", file=sys.stderr)
        return None
    finally:
        os.unlink(path)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(python_s: float, r_s: float | None, note: str = "", **extra) -> dict:
    return {
        "python_s": python_s,
        "r_s": r_s,
        "ratio": (python_s / r_s) if r_s else None,
        "note": note,
        **extra,
    }


def likert_items(n: int = 200_000, k: int = 40, seed: int = 0) -> pd.DataFrame:
    """One-factor Likert (1-5) items, loadings 0.4-0.8, 1% answers missing."""
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(n)
    lam = np.linspace(0.4, 0.8, k)
    z = t[:, None] * lam + rng.standard_normal((n, k)) * np.sqrt(1 - lam**2)
    x = np.clip(np.round(3 + 1.2 * z), 1, 5)
    x[rng.random((n, k)) < 0.01] = np.nan
    return pd.DataFrame(x, columns=[f"q{i + 1}" for i in range(k)])


def bench_alpha_omega(n: int = 200_000, k: int = 40, seed: int = 0, with_r: bool = True) -> dict:
    """Alpha (+ item statistics) and omega total on n x k Likert items vs psych."""
    items = likert_items(n, k, seed)
    t0 = time.perf_counter()
    a = cronbach_alpha(items)
    item_statistics(items)
    t_alpha = time.perf_counter() - t0
    t0 = time.perf_counter()
    om = omega_total(items)
    t_omega = time.perf_counter() - t0

    r = None
    if with_r and shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "items.csv"
            items.to_csv(csv, index=False, na_rep="NA")
            r = _rscript(
                f"""suppressPackageStartupMessages({{library(psych); library(GPArotation)}})
x <- read.csv("{csv}")
ta <- system.time(a <- alpha(x, warnings = FALSE))[["elapsed"]]
to <- system.time(o <- suppressWarnings(suppressMessages(omega(x, nfactors = 1, plot = FALSE))))[["elapsed"]]
cat(sprintf('{{"alpha_s": %.6f, "omega_s": %.6f, "alpha": %.12f, "omega": %.12f}}\\n',
    ta, to, a$total$raw_alpha, o$omega.tot))
"""
            )
    label = f"{n:,} x {k} items"
    return {
        f"alpha + item statistics ({label}; psych::alpha)": _row(
            t_alpha,
            r and r["alpha_s"],
            "pairwise covariances, 1% missing",
            value=float(a["alpha"].iloc[0]),
            r_value=r and r["alpha"],
        ),
        f"omega total, one factor ({label}; psych::omega nfactors=1)": _row(
            t_omega, r and r["omega_s"], "minres", value=om, r_value=r and r["omega"]
        ),
    }


def nested_data(
    n: int = 100_000, n_class: int = 2_000, n_school: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Students in classes (in schools), outcome with school ICC 0.05, class ICC 0.10."""
    rng = np.random.default_rng(seed)
    cls = rng.integers(0, n_class, n)
    y = 50 + rng.normal(0, np.sqrt(10), n_class)[cls] + rng.normal(0, np.sqrt(85), n)
    d = {"class": cls, "treat": (cls % 2).astype(float), "x": rng.standard_normal(n)}
    if n_school:
        school = cls % n_school
        y = y + rng.normal(0, np.sqrt(5), n_school)[school]
        d["school"] = school
    d["y"] = y + 2.0 * d["treat"] + 3.0 * d["x"]
    return pd.DataFrame(d)


def _time(fn, repeat: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_reml(with_r: bool = True, with_statsmodels: bool = False, seed: int = 0) -> dict:
    """Random-intercept REML: 100,000 students in 2,000 classes; and in 4,000
    classes within 400 schools; ours vs lme4::lmer (and optionally statsmodels)."""
    two = nested_data(100_000, 2_000, None, seed)
    three = nested_data(100_000, 4_000, 400, seed + 1)
    three = three.assign(class_in=three["class"])
    rows = {}
    t2 = _time(lambda: random_intercepts(two, "y", "class", fixed=["treat", "x"]), 3)
    t3 = _time(lambda: random_intercepts(three, "y", ["school", "class"], fixed=["treat", "x"]), 3)
    r = None
    if with_r and shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            p2, p3 = Path(tmp) / "two.csv", Path(tmp) / "three.csv"
            two.to_csv(p2, index=False)
            three.to_csv(p3, index=False)
            r = _rscript(
                f"""suppressPackageStartupMessages(library(lme4))
d2 <- read.csv("{p2}"); d2$class <- factor(d2$class)
d3 <- read.csv("{p3}"); d3$class <- factor(d3$class); d3$school <- factor(d3$school)
t2 <- min(sapply(1:3, function(i) system.time(f2 <<- lmer(y ~ treat + x + (1 | class), d2))[["elapsed"]]))
t3 <- min(sapply(1:3, function(i) system.time(f3 <<- lmer(y ~ treat + x + (1 | school/class), d3))[["elapsed"]]))
cat(sprintf('{{"t2": %.6f, "t3": %.6f, "b2": %.10f, "b3": %.10f}}\\n', t2, t3, fixef(f2)[["treat"]], fixef(f3)[["treat"]]))
"""
            )
    b2 = random_intercepts(two, "y", "class", fixed=["treat", "x"]).fixed_effects
    b3 = random_intercepts(three, "y", ["school", "class"], fixed=["treat", "x"]).fixed_effects
    b2, b3 = float(b2["estimate"].iloc[1]), float(b3["estimate"].iloc[1])
    rows["REML random intercept, 100,000 students / 2,000 classes (lme4::lmer)"] = _row(
        t2, r and r["t2"], "exact nested REML (analysis.mixed); treat effect",
        value=b2, r_value=r and r["b2"],
    )
    rows["REML three-level, 100,000 / 4,000 classes / 400 schools (lme4::lmer)"] = _row(
        t3, r and r["t3"], "exact nested REML (analysis.mixed); treat effect",
        value=b3, r_value=r and r["b3"],
    )
    if with_statsmodels:
        import warnings

        import statsmodels.formula.api as smf

        def sm2():
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                f = smf.mixedlm("y ~ treat + x", two, groups=two["class"]).fit(reml=True)
            return f, len(w)

        t0 = time.perf_counter()
        f2, nwarn = sm2()
        ts = time.perf_counter() - t0
        ours = random_intercepts(two, "y", "class", fixed=["treat", "x"])
        rows["statsmodels MixedLM, 100,000 / 2,000 classes"] = _row(
            ts, r and r["t2"],
            f"statsmodels MixedLM.fit(reml=True); converged={f2.converged}, {nwarn} warnings; "
            f"class variance {float(f2.cov_re.iloc[0, 0]) * 1:.4f} vs ours "
            f"{ours.variance_components['variance'].iloc[0]:.4f}",
        )
        small = three[three["school"] < 40].rename(columns={"class": "cls"})  # 1/10 of the data
        ts3 = _time(
            lambda: smf.mixedlm(
                "y ~ treat + x", small, groups=small["school"], re_formula="1",
                vc_formula={"cls": "0 + C(cls)"},
            ).fit(reml=True)
        )
        t_small = _time(
            lambda: random_intercepts(small, "y", ["school", "cls"], fixed=["treat", "x"]), 3
        )
        rows["statsmodels MixedLM vc_formula, 10,000 / 400 classes / 40 schools"] = _row(
            ts3, None,
            f"one tenth of the three-level bench (full size not practical); ours {t_small:.3f} s",
        )
    return rows


if __name__ == "__main__":
    sm = "--statsmodels" in sys.argv
    for name, row in {**bench_alpha_omega(), **bench_reml(with_statsmodels=sm)}.items():
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        r_s = f"{row['r_s']:.2f}" if row["r_s"] else "-"
        print(f"{name:80s} python {row['python_s']:8.2f} s   R {r_s:>8} s   ratio {ratio}")
        if row["note"]:
            print(f"    {row['note']}")
        if row.get("r_value") is not None:
            print(f"    value {row['value']:.10f}  R {row['r_value']:.10f}")

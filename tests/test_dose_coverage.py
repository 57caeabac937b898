"""The complier-effect CI covers the truth (issue 14, item 5, proof): the simulation of
bench/cace_coverage.py (500 trials there: 95.4%) with fewer trials and a wider band."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

_spec = importlib.util.spec_from_file_location(
    "cace_coverage", Path(__file__).resolve().parents[1] / "bench" / "cace_coverage.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

N_TRIALS = 300
# Monte Carlo band: if the true coverage is 95%, the observed share of N_TRIALS has SE
# sqrt(0.95 * 0.05 / N) = 1.26 points for N = 300; +-3 SE gives [91.2%, 98.8%], which a
# correct interval leaves with probability ~0.3%. (The 93-97% band of the issue is the
# +-2 SE band of 500 trials, checked by the bench script.)
HALF_WIDTH = 3 * np.sqrt(0.95 * 0.05 / N_TRIALS)


def test_cace_ci_covers_the_true_complier_effect():
    r = bench.run(N_TRIALS, seed=7, n_schools=12)
    assert 0.95 - HALF_WIDTH <= r["coverage"] <= 0.95 + HALF_WIDTH, r
    # the per-protocol comparison is biased by who receives the visits; the CACE is not
    assert abs(r["bias"]) < 0.05 < 0.2 < r["per_protocol_bias"]
    assert r["seconds"] < 20

"""The effects module's own Holm adjustment equals statsmodels' to the bit."""

import numpy as np
from statsmodels.stats.multitest import multipletests

from analysis.effects import _holm


def test_holm_equals_statsmodels_bit_for_bit():
    rng = np.random.default_rng(11)
    for k in range(1, 9):
        for _ in range(300):
            p = rng.uniform(0, 1, k) ** rng.uniform(0.2, 4)
            if rng.random() < 0.2:  # ties and exact ones
                p[rng.integers(0, k)] = p[0]
                p[-1] = 1.0
            assert np.array_equal(_holm(p), multipletests(p, method="holm")[1])

"""Which waves a table reads: the baseline rows, and whether respondents are followed.

Shared by the tables of several pages (Table 1 and the balance table, the power inputs,
change and claims).
"""

from __future__ import annotations

import pandas as pd


def baseline_rows(study, scores: pd.DataFrame) -> pd.DataFrame:
    """The baseline wave's rows (one per respondent)."""
    d = study.design
    return scores.loc[scores[d.wave] == d.baseline]


def _linked_waves(design) -> bool:
    """Respondents are followed over at least two waves (change is measurable)."""
    return design.has_baseline and design.type != "cross_sectional"

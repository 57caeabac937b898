"""The tables of the baseline page (``02_baseline``): Table 1 (baseline characteristics
by arm), the balance table, and the intra-class correlations of the outcomes.

Rare levels are merged and tiny arms described by their size only
(:mod:`evaluation.small_cells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import describe
from evaluation.small_cells import _min_cell, _tiny_arms, column_kind, merge_rare_categories
from evaluation.waves import baseline_rows


def table1(study, scores: pd.DataFrame) -> pd.DataFrame:
    """"Table 1": baseline characteristics by arm (``tables/table1.csv``).

    Columns ``variable, level, arm, n, mean, sd, share``: numeric variables
    (:func:`column_kind`) get a mean and SD; categorical ones one row per level with its
    count and share, after rare levels were merged (:func:`merge_rare_categories`).
    An arm with fewer than ``privacy.min_cell`` children gets one row per variable,
    with ``level`` empty and ``n`` its number of children, which suppression then
    blanks: its levels would show the children's characteristics.
    """
    d = study.design
    scores = merge_rare_categories(study, scores)
    base = baseline_rows(study, scores)
    arm = d.arm
    variables = list(dict.fromkeys(list(d.covariates) + list(d.subgroups)
                                   + [o.column_name for o in study.outcomes]))
    kinds = {v: column_kind(study, v, base[v]) for v in variables if v in base.columns}
    tiny = _tiny_arms(study, base)
    rows = []
    groups = base.groupby(arm, sort=True) if arm else [("all", base)]
    for a, g in groups:
        for v in variables:
            if v not in g.columns:
                continue
            col = g[v]
            if a in tiny:
                rows.append({"variable": v, "level": "", "arm": a, "n": int(len(g)),
                             "mean": np.nan, "sd": np.nan, "share": np.nan})
            elif kinds[v] == "numeric":
                num = pd.to_numeric(col, errors="coerce")
                rows.append({"variable": v, "level": "", "arm": a, "n": int(num.notna().sum()),
                             "mean": num.mean(), "sd": num.std(), "share": np.nan})
            else:
                total = int(col.notna().sum())
                for level, n in col.value_counts(dropna=True).sort_index().items():
                    rows.append({"variable": v, "level": str(level), "arm": a, "n": int(n),
                                 "mean": np.nan, "sd": np.nan,
                                 "share": n / total if total else np.nan})
    return pd.DataFrame(rows, columns=["variable", "level", "arm", "n", "mean", "sd", "share"])


def balance_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """Baseline balance (``tables/balance.csv``): :func:`analysis.describe.baseline_balance`
    on covariates and baseline outcomes, plus ``n_smallest_arm`` (the count that
    small-cell suppression applies to: see :func:`_smallest_cell`). Empty for
    one-group designs. With one wave the outcomes were measured after the program
    (their arm difference is the effect, not imbalance): covariates only, and empty
    without covariates (:func:`not_applicable_reason`)."""
    d = study.design
    outcomes = [o.column_name for o in study.outcomes] if d.has_baseline else []
    if not d.arm or not (list(d.covariates) + outcomes):
        # one group, or nothing measured before the program: the header says what would be here
        return pd.DataFrame(columns=["variable", "level", "arm", "control", "n_treatment",
                                     "n_control", "mean_treatment", "mean_control", "sd_pooled",
                                     "smd", "method", "abs_smd", "wwc_flag", "n_smallest_arm"])
    base = baseline_rows(study, merge_rare_categories(study, scores))
    variables = [v for v in dict.fromkeys(list(d.covariates) + outcomes) if v in base.columns]
    base = base.copy()
    for v in variables:  # the declared type decides, as in Table 1
        if column_kind(study, v, base[v]) == "numeric":
            base[v] = pd.to_numeric(base[v], errors="coerce")
        elif pd.api.types.is_numeric_dtype(base[v]) and not set(base[v].dropna()) <= {0, 1}:
            base[v] = base[v].map(lambda x: x if pd.isna(x) else
                                  str(int(x)) if float(x).is_integer() else str(x))
    out = describe.baseline_balance(base, variables, arm=d.arm, control=d.control)
    return out.assign(n_smallest_arm=_smallest_cell(out, _min_cell(study)))


def _smallest_cell(bal: pd.DataFrame, min_cell: int = 1) -> list[int]:
    """The count small-cell suppression of the balance table is applied to.

    A level row (a category, or the 1s of a binary variable) publishes the level's
    share in each arm next to the arm's size, so its count in each arm is
    ``share x n``; the row's count is the smaller of the two arms. A binary variable
    has one row, whose share also gives the count of 0s (``n - count``), so the
    smaller of the two counts is used. A continuous row's count is the smaller arm.
    When either arm has fewer than ``min_cell`` children, every row's count is that
    arm's size: a share of a tiny arm describes its children even when the level's
    count is 0 (``3, 3, 1.0, 1.0``: all three children of both arms have the level).
    """
    if bal.empty:
        return []
    rows_per = bal.groupby(["variable", "arm"])["level"].transform("size").to_numpy()
    out = []
    for r, k in zip(bal.itertuples(index=False), rows_per):
        nt, nc = float(r.n_treatment), float(r.n_control)
        if 0 < min(nt, nc) < min_cell:
            out.append(int(min(nt, nc)))
        elif str(r.level) != "":
            counts = []
            for share, n in ((r.mean_treatment, nt), (r.mean_control, nc)):
                c = round(float(share) * n) if np.isfinite(share) else 0
                counts.append(min(c, n - c) if k == 1 else c)  # binary: 1s and 0s
            out.append(int(min(counts)))
        else:
            out.append(int(min(nt, nc)))
    return out

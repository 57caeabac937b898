"""The tables of the data quality page (``00_data_quality``): validation findings,
missing answers per item and wave, and attrition (CONSORT counts per arm)."""

from __future__ import annotations

import pandas as pd

from analysis import describe


def validation_summary(report: dict) -> pd.DataFrame:
    """Counts of validation findings by severity and code (``tables/validation.csv``).

    Columns ``severity, code, n, example`` (the first message of each code; messages
    name files, rows and columns, never personal values or raw ids).
    """
    issues = report.get("issues", [])
    if not issues:
        return pd.DataFrame(columns=["severity", "code", "n", "example"])
    df = pd.DataFrame(issues)
    out = (df.groupby(["severity", "code"], sort=True)
             .agg(n=("code", "size"), example=("message", "first")).reset_index())
    return out.sort_values(["severity", "n"], ascending=[True, False]).reset_index(drop=True)


def missingness(study, items: pd.DataFrame) -> pd.DataFrame:
    """Percent missing per item and wave (``tables/missingness.csv``).

    Columns ``instrument, item, wave, n, n_missing, missing_pct``.
    """
    wave = study.design.wave
    rows = []
    for use in study.instruments:
        for item in use.instrument.item_ids:
            if item not in items.columns:
                continue
            for w in study.design.waves:
                col = items.loc[items[wave] == w, item]
                if len(col) == 0:
                    continue
                miss = int(col.isna().sum())
                rows.append({"instrument": use.id, "item": item, "wave": w, "n": len(col),
                             "n_missing": miss, "missing_pct": 100.0 * miss / len(col)})
    return pd.DataFrame(rows, columns=["instrument", "item", "wave", "n", "n_missing",
                                       "missing_pct"])


ATTRITION_COLUMNS = ["arm", "allocated", "enrolled", "followed_up", "analysed", "lost",
                     "attrition_rate", "differential_pp"]


def attrition_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """CONSORT counts per arm (``tables/attrition.csv``): see :func:`analysis.describe.attrition`.

    Empty (with its columns) for a cross-sectional design, whose respondents are not
    followed (:func:`not_applicable_reason`).
    """
    d = study.design
    if d.type == "cross_sectional":
        return pd.DataFrame(columns=ATTRITION_COLUMNS)
    primary = study.primary_outcomes[0].column_name if study.primary_outcomes else None
    return describe.attrition(scores, id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves),
                              analysed=primary, control=d.control)

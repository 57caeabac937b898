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


def consort_inputs(study, scores: pd.DataFrame, run_dir=".") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts and reasons of the CONSORT flow diagram (``figures/consort``).

    Children (and, in a cluster design, the clusters of the outermost level) allocated,
    lost to follow-up and analysed per arm (:func:`analysis.describe.consort_counts`),
    and why children were not analysed (:func:`analysis.describe.consort_reasons`), with
    the validation codes of quarantined endline rows from ``RUN/validation/quarantine.csv``.
    "Analysed" means at the endline with the primary outcome (the first outcome when none
    is primary). Respondents who changed cluster between waves make cluster counts
    meaningless; the counts are then for children only.

    Returns
    -------
    (counts, reasons) : tuple of DataFrame
        For :func:`analysis.figures.consort_diagram` (``flow`` and ``reasons=``).
    """
    from pathlib import Path

    d = study.design
    outcomes = study.primary_outcomes or study.outcomes
    primary = outcomes[0].column_name if outcomes else None
    if primary not in scores.columns:
        primary = None
    common = dict(id=d.id, arm=d.arm, wave=d.wave, waves=list(d.waves), analysed=primary)
    try:
        counts = describe.consort_counts(scores, cluster=d.clusters[0] if d.clusters else None,
                                         **common)
    except ValueError:  # a child in two clusters: children only
        counts = describe.consort_counts(scores, **common)
    path = Path(run_dir) / "validation" / "quarantine.csv"
    quarantine = pd.read_csv(path, dtype=str) if path.exists() else None
    if quarantine is not None and not {d.id, d.wave, "reasons"} <= set(quarantine.columns):
        quarantine = None
    reasons = describe.consort_reasons(scores, quarantine=quarantine, **common)
    return counts, reasons

"""The run folder as a notebook sees it: read the scored data, write tables and figures.

Notebooks hold narrative and calls; the I/O rules live here so that every
notebook follows them:

- tables are written with small cells suppressed (``privacy.min_cell``, with
  complementary suppression: :func:`analysis.disclosure.suppress_small_cells`),
  text neutralized against spreadsheet formula injection, floats rounded to 10
  significant digits so that last-bit noise cannot break byte-identical re-runs,
  and atomically (:func:`survey.spreadsheet.write_csv`);
- figures use the study's language when a CJK font exists and are saved as PNG
  (200 dpi) and SVG without timestamps (:func:`analysis.figures.save_figure`).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd


def _round_floats(df: pd.DataFrame, digits: int = 10) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            vals = out[col].to_numpy(dtype=float, copy=True)
            finite = np.isfinite(vals) & (vals != 0)
            mags = np.zeros_like(vals)
            mags[finite] = np.floor(np.log10(np.abs(vals[finite])))
            decimals = (digits - 1 - mags).astype(int)
            vals[finite] = [round(v, int(d)) for v, d in zip(vals[finite], decimals[finite])]
            out[col] = vals
    return out


class RunFolder:
    """Access to one run's data and outputs.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (the notebooks' working directory: ``"."``).
    study : str or Path
        The study folder or its ``study.yaml``.
    lang : str, optional
        ``zh`` or ``en`` for labels; default the study's language.

    Examples
    --------
    >>> run = RunFolder(".", "examples/county-cluster-trial")        # doctest: +SKIP
    >>> scores = run.scores()                                        # doctest: +SKIP
    >>> run.write_table("effects", table, count="n_obs",
    ...                 stats=["estimate", "ci_low", "ci_high"])     # doctest: +SKIP
    """

    def __init__(self, run_dir=".", study=None, lang=None):
        self.path = Path(run_dir)
        self._study_path = study
        self._lang = lang

    @cached_property
    def study(self):
        from survey.study_loader import load_study

        return load_study(self._study_path)

    @property
    def design(self):
        return self.study.design

    @cached_property
    def lang(self) -> str:
        """The language figures can use (falls back to English without a CJK font)."""
        from analysis.figures import set_theme

        return set_theme(self._lang or self.study.language)

    @property
    def min_cell(self) -> int:
        return int(self.study.privacy.min_cell)

    @property
    def outcomes(self) -> dict:
        """``outcome id -> column`` of the scored data, in study order."""
        return {o.id: o.column_name for o in self.study.outcomes}

    @property
    def better(self) -> dict:
        return {o.id: o.better for o in self.study.outcomes}

    def outcome_label(self, outcome_id: str) -> str:
        """A readable label for an outcome: the scale's name in the study language."""
        o = self.study.outcome(outcome_id)
        if o.scale:
            inst_id, scale_id = o.scale.split(".", 1)
            name = self.study.instrument(inst_id).scale(scale_id).name or {}
            text = name.get(self.lang) or name.get("en")
            if text:
                return f"{text} ({o.id})"
        return o.id

    def scores(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "data" / "scores.parquet")

    def items(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "data" / "items.parquet")

    def validation(self) -> dict:
        return json.loads((self.path / "validation" / "report.json").read_text(encoding="utf-8"))

    def table_path(self, name: str) -> Path:
        return self.path / "tables" / f"{name}.csv"

    def write_table(self, name: str, table: pd.DataFrame, *, count: str | None = None,
                    stats=(), margins=(), by=(), counts=None) -> pd.DataFrame:
        """Write ``tables/NAME.csv``; return the table as published.

        With ``count`` given, rows with fewer than ``privacy.min_cell`` respondents
        are suppressed (their count and ``stats`` blanked) with complementary
        suppression across ``margins`` within ``by``. ``counts`` (count column ->
        statistics) blanks small category counts within a row, e.g. 3 children
        reliably worse (:func:`analysis.disclosure.suppress_small_counts`).
        """
        from analysis.disclosure import suppress_small_cells, suppress_small_counts
        from survey.spreadsheet import write_csv

        published = table
        if counts:
            published = suppress_small_counts(published, counts, min_cell=self.min_cell)
        if count is not None:
            present = [c for c in stats if c in published.columns]  # e.g. df: clustered only
            published = suppress_small_cells(published, count=count, min_cell=self.min_cell,
                                             stats=present, margins=list(margins), by=list(by))
        published = published.copy()
        for col in table.columns:  # counts stay integers (nullable) after suppression
            if col in published and pd.api.types.is_integer_dtype(table[col].dtype):
                published[col] = published[col].astype("Int64")
        (self.path / "tables").mkdir(parents=True, exist_ok=True)
        write_csv(_round_floats(published.reset_index(drop=True)), self.table_path(name))
        return published

    def save_figure(self, fig, name: str):
        """Save as ``figures/NAME.png`` and ``.svg``; returns the figure for display."""
        from analysis.figures import save_figure

        save_figure(fig, self.path / "figures", name)
        return fig

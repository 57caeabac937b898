"""The run folder as a notebook sees it: read the scored data, write tables and figures.

Notebooks hold narrative and calls; the I/O rules live here so that every
notebook follows them:

- tables are written with small cells suppressed (``privacy.min_cell``, with
  complementary suppression: :func:`analysis.disclosure.suppress_small_cells`),
  text neutralized against spreadsheet formula injection, floats rounded to 10
  significant digits so that last-bit noise cannot break byte-identical re-runs,
  and atomically (:func:`survey.spreadsheet.write_csv`);
- figures use the study's language when a CJK font exists and are saved as PNG
  (200 dpi) and SVG without timestamps (:func:`analysis.figures.save_figure`);
- a notebook that has no question to answer for the study's design says why on its
  page and in ``status/<notebook>.json`` (:func:`not_applicable`), which the index
  page shows as "not applicable" (不适用); a section that does not apply says so in
  one bilingual line (:meth:`RunFolder.note`).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

STATUS_DIR = "status"
"""Folder of the run that holds one ``<notebook>.json`` per notebook that did not apply."""

NOT_APPLICABLE_MARK = "workbench_not_applicable"
"""Output metadata key of the not-applicable message: the HTML report ends after it."""


def status_path(run_dir, stem: str) -> Path:
    """``RUN/status/<stem>.json``."""
    return Path(run_dir) / STATUS_DIR / f"{stem}.json"


def not_applicable(stem: str, reason_en: str, reason_zh: str, *, run_dir=".") -> dict:
    """Record that notebook ``stem`` has no question to answer, and say why on its page.

    Writes ``RUN/status/<stem>.json`` (atomically) with ``{"status": "not_applicable",
    "reason_en": ..., "reason_zh": ...}``, the file :func:`read_statuses` and the index
    page read, and displays the reason in both languages as Markdown. The notebook then
    ends in success without writing its tables.

    Parameters
    ----------
    stem : str
        The notebook's name without ``.ipynb``, e.g. ``"03_effects"``.
    reason_en, reason_zh : str
        One or two sentences: what the study lacks and what the notebook would need.
    run_dir : str or Path
        The run folder (the notebooks' working directory).

    Returns
    -------
    dict
        The status as written.

    Examples
    --------
    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> s = not_applicable("03_effects", "No comparison group.", "没有对照组。",
    ...                    run_dir=run)
    <IPython.core.display.Markdown object>
    >>> read_statuses(run)["03_effects"]["status"]
    'not_applicable'
    """
    from core.atomic import write_text

    if not (reason_en and reason_zh):
        raise ValueError("a notebook that does not apply says why in English and Chinese")
    status = {"status": "not_applicable", "reason_en": str(reason_en),
              "reason_zh": str(reason_zh)}
    target = status_path(run_dir, stem)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, json.dumps(status, ensure_ascii=False, indent=2) + "\n")
    _display_markdown(f"**不适用 · Not applicable.** {reason_zh}\n\n{reason_en}",
                      metadata={NOT_APPLICABLE_MARK: True})
    return status


def read_statuses(run_dir) -> dict[str, dict]:
    """The ``status/*.json`` files of a run: ``{notebook stem: status dict}``.

    A file that cannot be read as a JSON object is skipped (the index page then
    shows the notebook's own execution status).
    """
    folder = Path(run_dir) / STATUS_DIR
    out = {}
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("status"), str):
            out[f.stem] = doc
    return out


def _display_markdown(text: str, metadata: dict | None = None):
    from IPython.display import Markdown, display

    display(Markdown(text), metadata=metadata)


def _round_floats(df: pd.DataFrame, digits: int = 10) -> pd.DataFrame:
    """``df`` with every float column rounded to ``digits`` significant digits (the CSVs'
    numbers), as numpy rounds a float64 (``round(numpy.float64, d)``: scale, round half to
    even, unscale): the values with the same number of decimals are rounded at once."""
    out = df.copy()
    twice = out.columns.duplicated(keep=False)  # out[name] of a repeated name: not a Series
    for col, dtype, skip in zip(list(out.columns), out.dtypes, twice, strict=True):
        if not skip and pd.api.types.is_float_dtype(dtype):
            vals = out[col].to_numpy(dtype=float, copy=True)
            finite = np.isfinite(vals) & (vals != 0)
            x = vals[finite]
            decimals = (digits - 1 - np.floor(np.log10(np.abs(x)))).astype(int)
            for d in np.unique(decimals):
                at = decimals == d
                x[at] = np.round(x[at], int(d))
            vals[finite] = x
            out[col] = vals
    return out


class RunFolder:
    """Access to one run's data and outputs.

    The study comes from the run's snapshot ``RUN/study.json`` (written by the pipeline,
    :mod:`survey.snapshot`): the study exactly as the manifest recorded it, with the run's
    language and seed. A notebook never reads ``study.yaml``.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (the notebooks' working directory: ``"."``).
    notebook : str, optional
        The notebook's name (``"03_effects"``). Given, a status file left in the run
        folder by an earlier execution of the notebook is removed, and
        :meth:`not_applicable` needs no name.
    study : Study, optional
        A loaded study to use instead of the snapshot (tests, analyses by hand).

    Examples
    --------
    >>> run = RunFolder(".", notebook="03_effects")                  # doctest: +SKIP
    >>> scores = run.scores()                                        # doctest: +SKIP
    >>> run.write_table("effects", table, count="n_obs",
    ...                 stats=["estimate", "ci_low", "ci_high"])     # doctest: +SKIP
    """

    def __init__(self, run_dir=".", notebook=None, *, study=None):
        self.path = Path(run_dir)
        self.notebook = notebook
        if study is not None:
            self.__dict__["study"] = study
        if notebook:
            status_path(self.path, notebook).unlink(missing_ok=True)

    @cached_property
    def study(self):
        """The run's study, from ``RUN/study.json`` (:func:`survey.snapshot.read_snapshot`)."""
        from survey.snapshot import SNAPSHOT_NAME, read_snapshot

        return read_snapshot(self.path / SNAPSHOT_NAME)

    @property
    def design(self):
        return self.study.design

    @cached_property
    def lang(self) -> str:
        """The language figures can use (falls back to English without a CJK font)."""
        from analysis.figures import set_theme

        return set_theme(self.text_lang)

    @property
    def text_lang(self) -> str:
        """The run's language for tables and text (the snapshot's: ``-p lang`` applied)."""
        lang = self.study.language
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
        return lang

    @property
    def seed(self) -> int:
        """The run's seed (``--seed``, else ``analysis.seed``)."""
        return int(self.study.analysis.seed)

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
        """A readable label for an outcome: the scale's name in the run's language (its id
        added only when another outcome has the same name), else the outcome's id."""

        def name(o) -> str | None:
            if not o.scale:
                return None
            inst_id, scale_id = o.scale.split(".", 1)
            names = self.study.instrument(inst_id).scale(scale_id).name or {}
            return names.get(self.lang) or names.get("en")

        o = self.study.outcome(outcome_id)
        text = name(o)
        if not text:
            return o.id
        same = [x for x in self.study.outcomes if x.id != o.id and name(x) == text]
        return f"{text} ({o.id})" if same else text

    def scores(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "data" / "scores.parquet")

    def items(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "data" / "items.parquet")

    def contacts(self) -> pd.DataFrame:
        """The run's contact log (``data/contacts.parquet``, issue 14): one row per contact.

        Columns: ``<design.id>`` (pseudonym), ``date`` (datetime64[ns], midnight),
        ``activity``, ``mentor_id`` (pseudonym or missing), ``trigger`` (or missing),
        ``duration_min`` (float or NaN), sorted by child and date
        (:mod:`survey.contact_log`). Empty, with these columns, when the study has no log.

        Examples
        --------
        >>> import tempfile
        >>> from core.design import Design
        >>> from survey.study import Study
        >>> s = Study(id="s", title={}, language="en", instruments=(), data=(),
        ...           design=Design(type="cross_sectional", id="sid"))
        >>> RunFolder(tempfile.mkdtemp(), study=s).contacts().columns.tolist()
        ['sid', 'date', 'activity', 'mentor_id', 'trigger', 'duration_min']
        """
        from survey.contact_log import contact_columns

        path = self.path / "data" / "contacts.parquet"
        if path.exists():
            return pd.read_parquet(path)
        cols = contact_columns(str(self.design.id))
        types = {"date": "datetime64[ns]", "duration_min": "float64"}
        return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "str")) for c in cols})

    def archive(self, name: str) -> pd.DataFrame:
        """An archive table of the run (``data/archives/<name>.parquet``, issue 14).

        ``name`` is ``roster``, ``guardians``, ``parents`` or ``mentors`` (columns in
        :mod:`survey.archives`). Empty, with the table's columns, when the study has none.

        Examples
        --------
        >>> import tempfile
        >>> from core.design import Design
        >>> from survey.study import Study
        >>> s = Study(id="s", title={}, language="en", instruments=(), data=(),
        ...           design=Design(type="cross_sectional", id="sid"))
        >>> RunFolder(tempfile.mkdtemp(), study=s).archive("mentors").columns.tolist()
        ['mentor_id', 'sid', 'from', 'to']
        """
        from survey.archives import archive_columns
        from survey.study import ARCHIVE_TABLES

        if name not in ARCHIVE_TABLES:
            raise ValueError(f"archive {name!r}: expected one of {', '.join(ARCHIVE_TABLES)}")
        path = self.path / "data" / "archives" / f"{name}.parquet"
        if path.exists():
            return pd.read_parquet(path)
        types = {"from": "datetime64[ns]", "to": "datetime64[ns]", "current": "bool",
                 "migrant": "float64"}
        return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "str"))
                             for c in archive_columns(name, str(self.design.id))})

    def validation(self) -> dict:
        return json.loads((self.path / "validation" / "report.json").read_text(encoding="utf-8"))

    def table_path(self, name: str) -> Path:
        return self.path / "tables" / f"{name}.csv"

    def write_table(self, name: str, table: pd.DataFrame, *, count: str | None = None,
                    stats=(), margins=(), by=(), counts=None) -> pd.DataFrame:
        """Write ``tables/NAME.csv``; return the table as published.

        With ``count`` given, rows with fewer than ``privacy.min_cell`` respondents
        are suppressed with complementary suppression across ``margins`` within
        ``by``: their count, their ``stats`` and every other numeric column except the
        ``margins`` and ``by`` columns are blanked (a p-value or a cluster count of a
        tiny group is a number about it too). ``counts`` (count column -> statistics)
        blanks small category counts within a row, e.g. 3 children reliably worse
        (:func:`analysis.disclosure.suppress_small_counts`).
        """
        from analysis.disclosure import suppress_small_cells, suppress_small_counts
        from survey.spreadsheet import write_csv

        published = table
        if counts:
            published = suppress_small_counts(published, counts, min_cell=self.min_cell)
        if count is not None:
            keys = {c for m in margins for c in ((m,) if isinstance(m, str) else m)} | set(by)
            present = [c for c in stats if c in published.columns]  # e.g. df: clustered only
            present += [c for c in published.columns
                        if c not in keys and c != count and c not in present
                        and c != "suppressed_counts"
                        and pd.api.types.is_numeric_dtype(published[c])
                        and not pd.api.types.is_bool_dtype(published[c])]
            published = suppress_small_cells(published, count=count, min_cell=self.min_cell,
                                             stats=present, margins=list(margins), by=list(by))
        published = published.copy()
        for col in table.columns:  # counts stay integers (nullable) after suppression
            if col in published and pd.api.types.is_integer_dtype(table[col].dtype):
                published[col] = published[col].astype("Int64")
        (self.path / "tables").mkdir(parents=True, exist_ok=True)
        write_csv(_round_floats(published.reset_index(drop=True)), self.table_path(name))
        return published

    def not_applicable(self, reason_en: str, reason_zh: str, stem: str | None = None) -> dict:
        """This notebook does not apply to the study: see :func:`not_applicable`."""
        stem = stem or self.notebook
        if not stem:
            raise ValueError("name the notebook: RunFolder(..., notebook=...) or stem=")
        return not_applicable(stem, reason_en, reason_zh, run_dir=self.path)

    def note(self, reason_en: str, reason_zh: str) -> None:
        """One bilingual line saying why a section of the page is empty."""
        _display_markdown(f"*{reason_zh}* · *{reason_en}*")

    def save_figure(self, fig, name: str, *, show: bool = True) -> list[Path]:
        """Save as ``figures/NAME.png`` (200 dpi) and ``.svg``, show the saved PNG on the
        page, and close the figure; returns the paths written.

        The page shows the very PNG that was published (at the figure's size), so the
        figure is drawn once per format and never a third time for the page (what
        ``plt.show()`` would do); a notebook need not call ``plt.show()``.
        """
        from analysis.figures import save_figure

        paths = save_figure(fig, self.path / "figures", name)
        if show:
            _display_png(paths[0], width=int(round(fig.get_figwidth() * fig.dpi)))
        import matplotlib.pyplot as plt

        plt.close(fig)
        return paths


def _display_png(path: Path, width: int) -> None:
    from IPython.display import Image, display

    display(Image(data=Path(path).read_bytes(), format="png", width=width))

"""A study: design, instruments, data sources, privacy, outcomes and claims.

``study.yaml`` is validated against ``data-schema/study.schema.json`` and loaded
into a :class:`Study`. All paths are resolved relative to the study folder and
may not leave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.design import Design

from .instrument import Instrument


@dataclass(frozen=True)
class InstrumentUse:
    """An instrument as a study uses it.

    ``columns`` maps every item id of the instrument to the data column that
    holds it (identity unless ``items:`` in study.yaml says otherwise).
    """

    instrument: Instrument
    columns: dict

    @property
    def id(self) -> str:
        return self.instrument.id


@dataclass(frozen=True)
class DataSource:
    """One raw data file. ``wave`` is set when the file holds a single wave.

    ``platform`` is ``"wenjuanxing"`` when study.yaml says so (``None``: detect).
    ``codes`` says what the numbers in item columns are: ``"option_index"`` (the
    option's position 1..k, as 问卷星's 按序号 export writes them), ``"value"`` (the
    instrument's codes) or ``None`` (decide from the export and the instrument's range;
    see :mod:`survey.ingest`).
    """

    path: Path
    wave: str | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    platform: str | None = None
    codes: str | None = None

    @property
    def format(self) -> str:
        """``csv``, ``xlsx``, ``sav`` or ``dta`` from the file's suffix."""
        return self.path.suffix.lower().lstrip(".")


@dataclass(frozen=True)
class Outcome:
    """An outcome: a scale (``"INSTRUMENT.SCALE"``) or a numeric data column.

    ``column_name`` is the column of the scored dataset that holds it.
    """

    id: str
    scale: str | None = None
    column: str | None = None
    better: str = "higher"
    primary: bool = False
    test_retest: float | None = None

    @property
    def column_name(self) -> str:
        return self.scale if self.scale is not None else self.column


@dataclass(frozen=True)
class Claim:
    """A claim from a program report, to be audited."""

    id: str
    text: str
    outcome: str | None
    proportion: float
    n: int
    improved: str = "reliable_change"


@dataclass(frozen=True)
class Privacy:
    """``pii``: personal columns, dropped at reading. ``not_pii``: columns whose header
    looks like personal data (``电话次数``, the number of phone calls) but which are not; they are
    exempt from the header check of :mod:`survey.ingest`. ``min_cell``: the smallest
    published group."""

    pii: tuple[str, ...] = ()
    min_cell: int = 5
    not_pii: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSpec:
    """How a data column is read (``columns:`` in study.yaml).

    ``type``: ``"numeric"`` (numbers; other text is ``VALUE_NOT_NUMERIC``) or
    ``"categorical"`` (text labels); ``None``: the default for the column's role.
    ``min``/``max``: the plausible range of a numeric column (inclusive); a value
    outside is ``VALUE_OUT_OF_RANGE`` (:mod:`survey.ingest`).
    """

    type: str | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class AnalysisSettings:
    alpha: float = 0.05
    adjust: str = "holm"
    seed: int = 20240609


@dataclass(frozen=True)
class Study:
    """A loaded, validated study.

    ``arms`` holds ``design.arms`` (with the control label) when study.yaml lists the arm
    labels; empty when every label in the data is taken as an arm.

    Examples
    --------
    >>> from survey import load_study
    >>> study = load_study("examples/county-cluster-trial")   # folder or study.yaml
    >>> study.design.type
    'cluster_randomized'
    """

    id: str
    title: dict
    language: str
    design: Design
    instruments: tuple[InstrumentUse, ...]
    data: tuple[DataSource, ...]
    missing_codes: tuple = ()
    privacy: Privacy = field(default_factory=Privacy)
    outcomes: tuple[Outcome, ...] = ()
    claims: tuple[Claim, ...] = ()
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    columns: dict = field(default_factory=dict)
    arms: tuple[str, ...] = ()
    root: Path = Path(".")
    path: Path = Path("study.yaml")

    def instrument(self, instrument_id: str) -> Instrument:
        for use in self.instruments:
            if use.id == instrument_id:
                return use.instrument
        raise KeyError(instrument_id)

    def outcome(self, outcome_id: str) -> Outcome:
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise KeyError(outcome_id)

    @property
    def primary_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.primary)

    @property
    def design_columns(self) -> tuple[str, ...]:
        """The design's columns (:attr:`core.design.Design.columns`) followed by the data
        columns that hold outcomes: every non-item column a scored dataset keeps."""
        outcome_cols = [o.column for o in self.outcomes if o.column is not None]
        return tuple(dict.fromkeys((*self.design.columns, *outcome_cols)))

    def column_type(self, column: str) -> str | None:
        """How a covariate, subgroup or data-column outcome is read, when the study says.

        ``"numeric"`` for a data-column outcome (always) and for a column declared
        ``type: numeric`` under ``columns:``; ``"categorical"`` for a column declared so
        and for a subgroup that is not also an outcome; ``None`` (inferred from the data,
        :func:`survey.ingest.read_study_data`) for other covariates.

        Examples
        --------
        >>> from core.design import Design
        >>> s = Study(id="s", title={}, language="en", instruments=(), data=(),
        ...           design=Design(type="cross_sectional", id="sid", covariates=("age", "sex"),
        ...                         subgroups=("sex",)),
        ...           outcomes=(Outcome(id="math", column="mathach"),))
        >>> s.column_type("mathach"), s.column_type("sex"), s.column_type("age")
        ('numeric', 'categorical', None)
        """
        column = str(column)
        if any(o.column == column for o in self.outcomes):
            return "numeric"
        spec = self.columns.get(column)
        if spec is not None and spec.type is not None:
            return spec.type
        if column in self.design.subgroups:
            return "categorical"
        return None

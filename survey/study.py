"""A study: design, instruments, data sources, privacy, outcomes and claims.

``study.yaml`` is validated against ``data-schema/study.schema.json`` and loaded
into a :class:`Study`. All paths are resolved relative to the study folder and
may not leave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.design import Design
from core.protocol import Protocol

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
class TableSource:
    """One program data file: an archive table or a contact log (issue 14).

    ``columns`` maps a standard column name (``id``, ``date``, ``activity``, ``mentor_id``,
    ``guardian_id``, ``from``, ``to``, ...) to the header it has in the file, for files
    headed otherwise (``{date: 日期}``); ``id`` stands for the design's id column.
    ``sheet``, ``encoding`` and ``platform`` are read as for survey data (:class:`DataSource`).
    """

    path: Path
    columns: dict = field(default_factory=dict)
    sheet: str | int | None = None
    encoding: str | None = None
    platform: str | None = None

    @property
    def format(self) -> str:
        """``csv`` or ``xlsx`` from the file's suffix."""
        return self.path.suffix.lower().lstrip(".")


CONTACT_COLUMNS = ("id", "date", "activity", "mentor_id", "trigger", "duration_min")
"""Standard columns of a contact log (``id`` stands for the design's id column); ``trigger``,
``duration_min`` and ``mentor_id`` may be absent from a file."""

ARCHIVE_COLUMNS = {
    "roster": ("id",),
    "guardians": ("id", "guardian_id", "relation", "from", "to"),
    "parents": ("id", "parent", "migrant", "call_frequency"),
    "mentors": ("mentor_id", "id", "from", "to"),
}
"""Standard columns of each archive table (``id`` stands for the design's id column). The
roster and the parent table may hold any other column; the guardian and mentor tables keep
only these."""

ARCHIVE_TABLES = ("roster", "guardians", "parents", "mentors")
"""The archive tables a study may declare (``archives:`` in study.yaml), in reading order."""


@dataclass(frozen=True)
class Archives:
    """The child archives (儿童档案): tables joined to the survey data by the child id.

    ``roster``: one row per child (arm, clusters, covariates: they serve every wave);
    ``guardians``: temporary guardians with ``from``/``to``; ``parents``: parents and how
    often they call; ``mentors``: mentor assignment periods. Each is a
    :class:`TableSource` or ``None``.
    """

    roster: TableSource | None = None
    guardians: TableSource | None = None
    parents: TableSource | None = None
    mentors: TableSource | None = None

    def tables(self) -> dict:
        """``{name: TableSource}`` of the declared tables, in :data:`ARCHIVE_TABLES` order."""
        return {n: getattr(self, n) for n in ARCHIVE_TABLES if getattr(self, n) is not None}


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


#: Built-in labels of common category values, used when the study gives none
#: (:meth:`Study.label`). Keys are compared case-folded, without surrounding spaces.
DEFAULT_VALUE_LABELS = {
    # arms
    "control": {"en": "Control", "zh": "对照组"},
    "comparison": {"en": "Comparison", "zh": "对照组"},
    "treatment": {"en": "Treatment", "zh": "干预组"},
    "intervention": {"en": "Intervention", "zh": "干预组"},
    "treatment_plus": {"en": "Treatment plus", "zh": "强化干预组"},
    "program": {"en": "Program", "zh": "项目组"},
    # waves
    "baseline": {"en": "Baseline", "zh": "基线"},
    "midline": {"en": "Midline", "zh": "中期"},
    "endline": {"en": "Endline", "zh": "终期"},
    "follow_up": {"en": "Follow-up", "zh": "追踪"},
    "pre": {"en": "Pre-test", "zh": "前测"},
    "post": {"en": "Post-test", "zh": "后测"},
    "all": {"en": "All", "zh": "全部"},
    # rows the tables add (attrition's total row)
    "overall": {"en": "Overall", "zh": "合计"},
    "total": {"en": "Total", "zh": "合计"},
    # gender
    "male": {"en": "Male", "zh": "男"},
    "female": {"en": "Female", "zh": "女"},
    "boy": {"en": "Boy", "zh": "男"},
    "girl": {"en": "Girl", "zh": "女"},
    # guardians of left-behind children
    "grandparents": {"en": "Grandparents", "zh": "祖辈"},
    "one_parent": {"en": "One parent", "zh": "父母一方"},
    "other_relative": {"en": "Other relative", "zh": "其他亲属"},
    "parents": {"en": "Parents", "zh": "父母"},
    # yes / no
    "yes": {"en": "Yes", "zh": "是"},
    "no": {"en": "No", "zh": "否"},
    "true": {"en": "Yes", "zh": "是"},
    "false": {"en": "No", "zh": "否"},
}

#: Built-in labels of common column names (:meth:`Study.column_label`).
DEFAULT_COLUMN_LABELS = {
    "arm": {"en": "Arm", "zh": "组别"},
    "group": {"en": "Group", "zh": "组别"},
    "wave": {"en": "Wave", "zh": "测量时点"},
    "gender": {"en": "Gender", "zh": "性别"},
    "sex": {"en": "Sex", "zh": "性别"},
    "age": {"en": "Age", "zh": "年龄"},
    "grade": {"en": "Grade", "zh": "年级"},
    "guardian_type": {"en": "Guardian", "zh": "监护人类型"},
    "both_parents_away": {"en": "Both parents away", "zh": "父母均外出"},
    "school_id": {"en": "School", "zh": "学校"},
    "class_id": {"en": "Class", "zh": "班级"},
    "county_id": {"en": "County", "zh": "县"},
    # the children's level of a variance decomposition (tables/icc.csv ``level``)
    "residual": {"en": "Residual (children)", "zh": "残差（儿童个体）"},
}

LANGUAGES = ("zh", "en")


def value_key(value) -> str:
    """A category value as text, the form ``labels:`` keys take (``1.0`` and ``1`` are ``"1"``).

    Examples
    --------
    >>> value_key(1.0), value_key(" grandparents"), value_key("S01")
    ('1', 'grandparents', 'S01')
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass(frozen=True)
class Labels:
    """The labels a study gives to its own values and columns (``labels:`` in study.yaml).

    ``values``: ``{column: {value: {"en": ..., "zh": ...}}}`` for the values of a design
    column (the arm column, the wave column, clusters, blocks, covariates, subgroups);
    ``columns``: ``{column: {"en": ..., "zh": ...}}``, how a column is named in tables.
    Keys are text as the data hold them; every label has both languages.
    """

    values: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)


def _pick(text: dict, lang: str) -> str | None:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be 'zh' or 'en'; found {lang!r}")
    return text.get(lang) if text else None


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

    ``archives`` (child archives), ``contacts`` (contact logs) and ``protocol`` (a
    :class:`core.protocol.Protocol`) describe the program's delivery (issue 14); they are
    ``None``/empty for a study that declares none.

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
    labels: Labels = field(default_factory=Labels)
    archives: Archives | None = None
    contacts: tuple[TableSource, ...] = ()
    protocol: Protocol | None = None
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

    def _role_column(self, column: str) -> str:
        """``"arm"``/``"wave"`` as roles name the design's arm and wave columns."""
        column = str(column)
        if column == "arm" and self.design.arm:
            return self.design.arm
        return self.design.wave if column == "wave" else column

    def label(self, column, value, lang: str) -> str:
        """How ``value`` of ``column`` is shown in language ``lang``.

        The study's label (``labels.values`` in study.yaml), else the built-in label of a
        common value (:data:`DEFAULT_VALUE_LABELS`: control, treatment, baseline, endline,
        pre, post, male, female, grandparents, ...), else the value itself as text.
        ``column`` is a data column; ``"arm"`` and ``"wave"`` also name the design's arm and
        wave columns whatever they are called. Labels are for display: tables keep the
        raw values (:func:`evaluation.labels.label_frame` applies them to a copy).

        Examples
        --------
        >>> from core.design import Design
        >>> s = Study(id="s", title={}, language="zh", instruments=(), data=(),
        ...           design=Design(type="randomized", id="sid", arm="group", control="c"),
        ...           labels=Labels(values={"group": {"t": {"en": "Mentoring", "zh": "结对帮扶"}}}))
        >>> s.label("group", "t", "zh"), s.label("arm", "t", "en")
        ('结对帮扶', 'Mentoring')
        >>> s.label("wave", "baseline", "zh"), s.label("group", "c", "en")
        ('基线', 'c')
        """
        key = value_key(value)
        own = self.labels.values.get(self._role_column(column), {}).get(key)
        text = _pick(own, lang) or _pick(DEFAULT_VALUE_LABELS.get(key.casefold()), lang)
        return text if text else key

    def column_label(self, column, lang: str) -> str:
        """How ``column`` is named in language ``lang``.

        The study's label (``labels.columns``), else a built-in name of a common column
        (:data:`DEFAULT_COLUMN_LABELS`: arm, wave, gender, age, guardian_type, ...), else
        the column name itself. The design's arm and wave columns take the names of
        ``arm`` and ``wave`` when the study names them nothing else.

        Examples
        --------
        >>> from core.design import Design
        >>> s = Study(id="s", title={}, language="zh", instruments=(), data=(),
        ...           design=Design(type="randomized", id="sid", arm="group", control="c"),
        ...           labels=Labels(columns={"ses": {"en": "Family income", "zh": "家庭收入"}}))
        >>> s.column_label("ses", "zh"), s.column_label("age", "zh"), s.column_label("group", "en")
        ('家庭收入', '年龄', 'Arm')
        >>> s.column_label("hukou", "en")
        'hukou'
        """
        column = str(column)
        text = _pick(self.labels.columns.get(column), lang)
        if not text:
            role = ("arm" if column == self.design.arm else
                    "wave" if column == self.design.wave else column)
            text = _pick(DEFAULT_COLUMN_LABELS.get(role) or DEFAULT_COLUMN_LABELS.get(column), lang)
        return text if text else column

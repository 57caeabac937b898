"""The design of a study, as the statistics need it.

A plain description of columns and roles, mirroring the ``design`` block of
``study.yaml``. ``analysis`` functions take a :class:`Design` so that they never depend
on how a study file is read; its :attr:`Design.structure` and :attr:`Design.columns` are
the one definition of the design's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DESIGN_TYPES = ("cross_sectional", "pre_post", "controlled", "randomized", "cluster_randomized")


@dataclass(frozen=True)
class Design:
    """Columns and roles of a study design.

    Parameters
    ----------
    type : str
        One of ``cross_sectional``, ``pre_post``, ``controlled``, ``randomized``,
        ``cluster_randomized``.
    id : str
        Respondent id column.
    wave : str
        Wave column (always present in scored data; ``"wave"`` by default).
    waves : tuple of str
        Time order of the waves; the first is the baseline. One wave for a
        single-wave study.
    arm : str or None
        Arm (group) column; ``None`` for a one-group study.
    control : str or None
        Label of the comparison arm.
    clusters : tuple of str
        Cluster columns, outermost first (e.g. ``("school_id", "class_id")``).
    blocks : str or None
        Randomization block column, analysed as fixed effects.
    covariates : tuple of str
        Baseline covariates for adjustment.
    subgroups : tuple of str
        Columns that define subgroups for moderator analyses.

    Examples
    --------
    >>> from core.design import Design
    >>> d = Design(type="cluster_randomized", id="student_id", arm="arm",
    ...            control="control", clusters=("school_id",), waves=("baseline", "endline"))
    >>> d.baseline, d.endline, d.has_baseline
    ('baseline', 'endline', True)
    """

    type: str
    id: str
    wave: str = "wave"
    waves: tuple[str, ...] = ("baseline",)
    arm: str | None = None
    control: str | None = None
    clusters: tuple[str, ...] = ()
    blocks: str | None = None
    covariates: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.type not in DESIGN_TYPES:
            raise ValueError(f"design type must be one of {DESIGN_TYPES}, got {self.type!r}")
        for name in ("waves", "clusters", "covariates", "subgroups"):
            v = getattr(self, name)
            if isinstance(v, str):
                object.__setattr__(self, name, (v,))
            elif not isinstance(v, tuple):
                object.__setattr__(self, name, tuple(v))

    @property
    def structure(self) -> tuple[str, ...]:
        """The columns that place a row in the design: id, wave, arm, clusters (outermost
        first) and blocks, each once, in that order (the arm and blocks when set).

        Examples
        --------
        >>> Design(type="cluster_randomized", id="sid", arm="arm", clusters=("school",),
        ...        blocks="county", covariates=("age",)).structure
        ('sid', 'wave', 'arm', 'school', 'county')
        """
        cols = [self.id, self.wave, self.arm, *self.clusters, self.blocks]
        return tuple(dict.fromkeys(c for c in cols if c))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the design names: :attr:`structure`, then covariates and
        subgroups, each once. The one definition of "the design's columns".

        Examples
        --------
        >>> Design(type="randomized", id="sid", arm="arm", covariates=("age", "sex"),
        ...        subgroups=("sex",)).columns
        ('sid', 'wave', 'arm', 'age', 'sex')
        """
        return tuple(dict.fromkeys((*self.structure, *self.covariates, *self.subgroups)))

    @property
    def baseline(self) -> str:
        """Label of the first wave."""
        return self.waves[0]

    @property
    def endline(self) -> str:
        """Label of the last wave."""
        return self.waves[-1]

    @property
    def has_baseline(self) -> bool:
        """True when there are at least two waves."""
        return len(self.waves) >= 2

"""Errors the workbench shows to people.

Every error a user can provoke with a bad file is a :class:`WorkbenchError`. The
command line prints ``str(error)`` (never a traceback) and exits non-zero. Each
error carries a stable ``code`` (upper-case snake case, e.g. ``STUDY_UNKNOWN_KEY``)
that tests and users can rely on, plus where it happened.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error shown to a user.

    Parameters
    ----------
    code : str
        Stable machine-readable code, e.g. ``"STUDY_UNKNOWN_KEY"``.
    message : str
        Readable explanation: what was found and what was expected.
    file : str, optional
        The file concerned (as the user named it, or relative to the study folder).
    row : int, optional
        Row as a spreadsheet shows it (1-based, header = row 1).
    column : str, optional
        Column name, or the key path inside a YAML file (``outcomes[1].scale``).
    """

    def __init__(self, code: str, message: str, *, file: str | None = None,
                 row: int | None = None, column: str | None = None):
        self.code = code
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}" if self.row is not None else str(self.column))
        loc = ", ".join(where)
        return f"[{self.code}] {loc + ': ' if loc else ''}{self.message}"


class ContractError(WorkbenchError):
    """A study or instrument file breaks its JSON Schema or a cross-reference rule.

    ``column`` holds the key path, e.g. ``outcomes[1].scale``.
    """


class DataError(WorkbenchError):
    """A data file cannot be read at all (missing, unreadable, empty, wrong format)."""


class ErrorList(WorkbenchError):
    """Several errors found at once (a study file with three typos).

    ``errors`` holds them all; ``str()`` lists them one per line; ``code`` is the first one's.
    """

    def __init__(self, errors):
        self.errors = tuple(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(first.code if first else "ERROR", first.message if first else "",
                         file=getattr(first, "file", None), row=getattr(first, "row", None),
                         column=getattr(first, "column", None))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class Issue:
    """One problem found while reading or validating data (not an exception).

    Attributes
    ----------
    code : str
        Stable code, e.g. ``VALUE_OUT_OF_RANGE``.
    severity : str
        ``"error"`` or ``"warning"``.
    message : str
        Readable explanation.
    file : str or None
        Data file, relative to the study folder.
    row : int or None
        Row as a spreadsheet shows it (1-based, header = row 1).
    column : str or None
        Column as it is headed in the file.
    value : str or None
        The offending value as text. Never a raw respondent id or a personal
        value: id problems show the pseudonym instead.
    expected : str or None
        What was expected instead.
    """

    __slots__ = ("code", "severity", "message", "file", "row", "column", "value", "expected")

    def __init__(self, code, severity, message, file=None, row=None, column=None,
                 value=None, expected=None):
        if severity not in ("error", "warning"):
            raise ValueError(severity)
        self.code = code
        self.severity = severity
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return f"Issue({self.to_dict()!r})"

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, f"row {self.row}" if self.row else None,
                                      f"column {self.column!r}" if self.column else None) if p)
        exp = f" (expected {self.expected})" if self.expected else ""
        return f"{self.severity} [{self.code}] {where + ': ' if where else ''}{self.message}{exp}"

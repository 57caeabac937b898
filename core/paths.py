"""Paths named inside a study file: relative to the study folder, never outside it.

A study folder travels between people (a zip, a shared drive, a repository), so
every path in ``study.yaml`` is relative to the folder that holds it. A path
that could reach anything else is refused with ``STUDY_PATH_OUTSIDE``: an
absolute path (``/etc/passwd``, ``C:\\data.csv``, ``~/x``), ``..`` that climbs
out of the folder, or a symbolic link (the file itself or a folder on the way)
whose target lies outside. Symlinks are resolved only to check where they point;
nothing outside the folder is opened.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import ContractError


def resolve_in_study(root, relative, *, file: str | None = None, key_path: str | None = None) -> Path:
    """Resolve ``relative`` inside the study folder ``root``, or refuse it.

    Parameters
    ----------
    root : str or Path
        The study folder (the folder that holds ``study.yaml``).
    relative : str
        The path as written in the study file. Backslashes are read as folder
        separators (paths written on Windows).
    file : str, optional
        The study file, for the error message.
    key_path : str, optional
        Where the path is written, e.g. ``data[0].path``.

    Returns
    -------
    Path
        The absolute, symlink-free path inside ``root``. It need not exist.

    Raises
    ------
    ContractError
        ``STUDY_PATH_OUTSIDE`` for an absolute path, a ``..`` that leaves the
        folder, or a symlink pointing outside; ``STUDY_PATH_INVALID`` for an
        empty path or one containing a NUL byte.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> resolve_in_study(root, "data/baseline.csv").relative_to(Path(root).resolve()).as_posix()
    'data/baseline.csv'
    >>> resolve_in_study(root, "../../etc/passwd", key_path="data[0].path")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    core.errors.ContractError: [STUDY_PATH_OUTSIDE] data[0].path: ...
    """
    def refuse(code, why):
        return ContractError(code, why, file=file, column=key_path)

    if not isinstance(relative, str) or not relative.strip():
        raise refuse("STUDY_PATH_INVALID", f"found {relative!r}; expected a path relative to the study folder")
    if "\x00" in relative:
        raise refuse("STUDY_PATH_INVALID", "found a NUL character in the path; expected a plain relative path")
    text = relative.strip().replace("\\", "/")
    shown = relative.strip()
    if (PurePosixPath(text).is_absolute() or PureWindowsPath(relative).drive
            or PureWindowsPath(relative).is_absolute() or text.startswith("~")):
        raise refuse("STUDY_PATH_OUTSIDE",
                     f"found the absolute path {shown!r}; expected a path relative to the study folder "
                     "(copy the file into the study folder, e.g. data/)")
    root_real = Path(os.path.realpath(root))
    lexical = Path(os.path.normpath(root_real / text))
    if not _inside(lexical, root_real):
        raise refuse("STUDY_PATH_OUTSIDE",
                     f"found {shown!r}, which leaves the study folder; expected a path inside it")
    real = Path(os.path.realpath(root_real / text))
    if not _inside(real, root_real):
        raise refuse("STUDY_PATH_OUTSIDE",
                     f"found {shown!r}, a symbolic link (or a path through one) that points outside the "
                     "study folder; expected a file inside it (copy the file in instead of linking it)")
    return real


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True

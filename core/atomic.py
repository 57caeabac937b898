"""Atomic file writes: a reader never sees half a file.

Data go to a temporary file in the target's folder, are flushed to disk, and the
file is renamed over the target (:func:`os.replace`, atomic on one file system). On
any error the temporary file is removed and the target is left as it was.
Every writer of the workbench uses it (``survey``, ``analysis.figures``, ``evaluation``,
``workbench``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_with(path, write: Callable[[str], None]) -> Path:
    """Let ``write(tmp_path)`` produce the file, then move it into place.

    For writers that take a path (pyarrow, pyreadstat, nbformat).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = write_with(p, lambda tmp: pathlib.Path(tmp).write_text("ok"))
    >>> p.read_text()
    'ok'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_with(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode(encoding))

"""An output folder that only appears when a run is over.

A run writes into ``.NAME.partial-PID`` beside the final folder and moves it into
place at the end (two renames on one file system). An interrupted or killed run
therefore never leaves a folder named like the output that looks complete; the
next run removes stale partial folders whose process is gone and replaces the
output. A previous complete output stays untouched until the new one is ready.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from survey.errors import WorkbenchError


class OutputError(WorkbenchError):
    """The output folder cannot be created or written."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StagedOutput:
    """A staging folder that becomes ``final`` on :meth:`commit`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> out = StagedOutput(root / "output")
    >>> _ = (out.path / "tables").mkdir()
    >>> out.commit()
    >>> (root / "output" / "tables").is_dir()
    True
    """

    def __init__(self, final: Path):
        self.final = Path(final).absolute()
        parent = self.final.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError("OUTPUT_NOT_WRITABLE",
                              f"cannot create the output folder's parent: {err.strerror}",
                              file=str(parent)) from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError("OUTPUT_NOT_WRITABLE", "the folder is not writable",
                              file=str(parent))
        self._clean_stale()
        self.path = parent / f".{self.final.name}.partial-{os.getpid()}"
        if self.path.exists():
            shutil.rmtree(self.path)
        try:
            self.path.mkdir()
        except OSError as err:
            raise OutputError("OUTPUT_NOT_WRITABLE", f"cannot create a staging folder: {err.strerror}",
                              file=str(self.path)) from None

    def _clean_stale(self) -> None:
        parent, name = self.final.parent, self.final.name
        for pattern in (f".{name}.partial-*", f".{name}.old-*"):
            for p in parent.glob(pattern):
                try:
                    pid = int(p.name.rsplit("-", 1)[1])
                except ValueError:
                    continue
                if pid == os.getpid() or not _pid_alive(pid):
                    shutil.rmtree(p, ignore_errors=True)

    def commit(self) -> Path:
        """Move the staging folder into place, replacing an earlier output."""
        old = None
        if self.final.exists() or self.final.is_symlink():
            old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
            os.replace(self.final, old)
        os.replace(self.path, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        """Remove the staging folder (nothing is moved into place)."""
        shutil.rmtree(self.path, ignore_errors=True)


def describe_os_error(err: OSError, path: Path | str) -> OutputError:
    """Turn a write failure into a readable error (disk full, permission, ...)."""
    reason = {errno.ENOSPC: "no space left on the device",
              errno.EACCES: "permission denied",
              errno.EROFS: "the file system is read-only",
              errno.EDQUOT: "disk quota exceeded"}.get(err.errno, err.strerror or str(err))
    return OutputError("OUTPUT_WRITE_FAILED",
                       f"writing the run's output failed: {reason}; nothing was published",
                       file=str(path))

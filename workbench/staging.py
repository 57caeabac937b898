"""An output folder that only appears when a run is over.

A run writes into ``.NAME.partial-PID`` beside the final folder and moves it into
place at the end (an atomic exchange of the two folders on Linux, two renames
elsewhere). Temporary files of the run (task files, kernel connection files) live
in ``.NAME.scratch-PID``, which holds a lock file locked for the whole run.

An interrupted or killed run therefore never leaves a folder named like the output
that looks complete: after ``SIGKILL`` the final folder is absent, or it is the
earlier complete output, untouched (the previous output is only replaced when the
new one is ready). The next run removes the stale partial and scratch folders of
runs that are over (their lock is free; without a lock file, their process is
gone) and replaces the output.

An existing output is only ever replaced if it is a previous run's output (it holds
a ``manifest.json`` written by the workbench), holds only the ``validation/`` folder
that ``workbench validate`` writes by default, or is empty: ``--out`` pointing at a
study folder, a home folder or a file is refused, never deleted. ``workbench
validate`` and ``workbench score`` stage their folders the same way (``kind``): they
replace only their own earlier output, and :func:`refuse_inside_data` keeps every
command out of the study's data folder. Every command that writes an output folder
first removes the stale staging folders beside it (:func:`clean_stale`): they may
hold files that were never scanned for personal data.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
from pathlib import Path

from core.errors import WorkbenchError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


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


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


VALIDATION_FILES = frozenset({"report.json", "quarantine.csv"})
SCORE_FILES = frozenset({"scores.parquet", "scores.csv", "scores.sav", "items.parquet"})


def _entries(folder: Path) -> list[Path] | None:
    try:
        return list(folder.iterdir())
    except OSError:
        return None


def _is_validation_folder(folder: Path) -> bool:
    """True for an empty folder or one that only holds what ``workbench validate`` writes.

    ``report.json`` must be a validation report (study, counts, issues), so a user's
    own ``report.json`` or ``quarantine.csv`` is never taken for one.
    """
    entries = _entries(folder)
    if entries is None:
        return False
    if not entries:
        return True
    if not all(p.is_file() and p.name in VALIDATION_FILES for p in entries):
        return False
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and {"study", "counts", "issues"} <= report.keys()


def _is_score_folder(folder: Path) -> bool:
    """True for an empty folder or one that only holds what ``workbench score`` writes
    (``scores.parquet`` and its companions; a lone ``scores.csv`` is not enough)."""
    entries = _entries(folder)
    if entries is None:
        return False
    if not entries:
        return True
    names = {p.name for p in entries}
    return (all(p.is_file() for p in entries) and "scores.parquet" in names
            and all(n in SCORE_FILES or _SCORE_NAME.fullmatch(n) for n in names))


_SCORE_NAME = re.compile(r"(scores|items)\.[a-z]+")  # formats a later version may add


def _is_run_folder(folder: Path) -> bool:
    """True for an empty folder, one holding a manifest written by ``workbench run``, or
    one that only holds the ``validation/`` folder written by ``workbench validate``
    (the default folders of the walk-through: ``validate STUDY`` then ``run STUDY``)."""
    entries = _entries(folder)
    if entries is None:
        return False
    if not entries:
        return True
    # a killed `workbench validate` leaves its staging folders inside: they go with the folder
    entries = [p for p in entries if not _STAGING_NAME.fullmatch(p.name)]
    if [p.name for p in entries] == ["validation"] and entries[0].is_dir():
        return _is_validation_folder(entries[0])
    return read_run_manifest(folder) is not None


_STAGING_NAME = re.compile(r"\.validation\.(partial|scratch|old)-\d+")


def read_run_manifest(folder: Path) -> dict | None:
    """The ``manifest.json`` of an earlier run in ``folder``, or None."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and {"status", "workbench", "study"} <= manifest.keys():
        return manifest
    return None


_OWNED = {"run": (_is_run_folder, "an earlier run's output (no workbench manifest.json)"),
          "validate": (_is_validation_folder,
                       "an earlier `workbench validate` output (report.json, quarantine.csv)"),
          "score": (_is_score_folder,
                    "an earlier `workbench score` output (scores.parquet and companions)")}


def refuse_inside_data(out: Path | str, study) -> None:
    """Refuse an output folder inside (or equal to) a folder that holds the study's raw data.

    Raw files are never modified or joined by outputs: ``--out STUDY/data`` would
    overwrite a raw ``scores.csv`` or ``quarantine.csv``, and a folder of outputs among
    the raw exports is easily taken for data.

    Raises
    ------
    OutputError
        ``OUTPUT_INSIDE_DATA``.
    """
    def resolved(path: Path) -> Path:
        try:
            return path.absolute().resolve()
        except (RuntimeError, OSError):  # a symlink loop: compare the path as written
            return path.absolute()

    target = resolved(Path(out))
    root = resolved(Path(study.root))
    folders = {root / "data"}
    for src in study.data:
        p = Path(src.path)
        p = resolved(p if p.is_absolute() else root / p)
        if p.parent != root:
            folders.add(p.parent)
        if target == p:
            folders.add(p)
    for folder in folders:
        if target == folder or folder in target.parents:
            raise OutputError("OUTPUT_INSIDE_DATA",
                              "is inside the study's data folder, which holds the raw files; "
                              "outputs are never written there, so choose another --out",
                              file=str(out))


def _run_is_over(scratch: Path | None, pid: int) -> bool:
    """Whether the run that owns these staging folders has ended.

    The lock on ``scratch/lock`` is held for a run's whole life and freed by the
    kernel when its process dies, even by SIGKILL; unlike a process id, it cannot
    be confused with an unrelated process that got the same id later.
    """
    lock = scratch / "lock" if scratch is not None else None
    if lock is not None and lock.is_file():
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            return not _pid_alive(pid)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        finally:
            os.close(fd)
        return True
    return not _pid_alive(pid)


class StagedOutput:
    """A staging folder that becomes ``final`` on :meth:`commit`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> out = StagedOutput(root / "output")
    >>> _ = (out.path / "tables").mkdir()
    >>> _ = out.commit()
    >>> (root / "output" / "tables").is_dir()
    True
    """

    def __init__(self, final: Path, kind: str = "run"):
        self.final = Path(final).absolute()
        self.kind = kind
        parent = self.final.parent
        self._check_final()
        for up in (parent, *parent.parents):
            if up.exists() or up.is_symlink():
                if not up.is_dir():
                    raise OutputError("OUTPUT_NOT_WRITABLE",
                                      "is a file, not a folder: the output folder cannot be "
                                      "created inside it", file=str(up))
                break
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
        pid = os.getpid()
        self.path = parent / f".{self.final.name}.partial-{pid}"
        self.scratch = parent / f".{self.final.name}.scratch-{pid}"
        self._lock_fd = None
        try:
            for folder in (self.scratch, self.path):
                if folder.exists():
                    shutil.rmtree(folder)
                folder.mkdir()
            self._lock_fd = os.open(self.scratch / "lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            self.abort()
            raise OutputError("OUTPUT_NOT_WRITABLE",
                              f"cannot create a staging folder: {err.strerror or err}",
                              file=str(parent)) from None

    def _check_final(self) -> None:
        final = self.final
        if final.is_symlink() or (final.exists() and not final.is_dir()):
            raise OutputError("OUTPUT_NOT_WRITABLE",
                              "exists and is not a folder; choose another --out",
                              file=str(final))
        owned, what = _OWNED[self.kind]
        if final.is_dir() and not owned(final):
            raise OutputError("OUTPUT_NOT_A_RUN_FOLDER",
                              f"exists and is not {what}; it would be replaced, so choose an "
                              "empty or new folder for --out", file=str(final))

    def _clean_stale(self) -> None:
        clean_stale(self.final)

    def commit(self) -> Path:
        """Move the staging folder into place, replacing an earlier output.

        The earlier output is replaced only now, when the new one is complete; with
        ``renameat2(RENAME_EXCHANGE)`` the swap is atomic, so there is no moment at
        which neither the old nor the new output is in place.
        """
        self._check_final()
        if self.final.is_dir() and _exchange(self.path, self.final):
            shutil.rmtree(self.path, ignore_errors=True)  # now holds the earlier output
        else:
            old = None
            if self.final.exists():
                old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
                os.replace(self.final, old)
            os.replace(self.path, self.final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        self._release()
        return self.final

    def abort(self) -> None:
        """Remove the staging folder (nothing is moved into place)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        if getattr(self, "_lock_fd", None) is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def clean_stale(final: Path | str) -> list[Path]:
    """Remove the ``.NAME.partial-PID``, ``.NAME.scratch-PID`` and ``.NAME.old-PID`` folders
    that runs which are over (killed, crashed) left beside the output folder ``final``.

    They may hold outputs that were never scanned for personal data, so every command that
    touches an output folder calls this first (a shared disk may be backed up). Folders of a
    run that is still going (its lock is held) are left alone. Returns what was removed.
    """
    final = Path(final).absolute()
    parent, name = final.parent, final.name
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    by_pid: dict[int, list[Path]] = {}
    for kind in ("partial", "scratch", "old"):
        for p in parent.glob(f".{name}.{kind}-*"):
            try:
                by_pid.setdefault(int(p.name.rsplit("-", 1)[1]), []).append(p)
            except ValueError:
                continue
    for pid, paths in by_pid.items():
        scratch = parent / f".{name}.scratch-{pid}"
        if pid == os.getpid() or _run_is_over(scratch if scratch.is_dir() else None, pid):
            for p in paths:
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def describe_os_error(err: OSError, path: Path | str,
                      staging: Path | str | None = None) -> OutputError:
    """Turn a write failure into a readable error (disk full, permission, ...).

    ``file`` is the file that failed when known, shown under the final output path
    rather than the hidden staging folder.
    """
    reason = {errno.ENOSPC: "no space left on the device",
              errno.EACCES: "permission denied",
              errno.EROFS: "the file system is read-only",
              errno.EDQUOT: "disk quota exceeded"}.get(err.errno, err.strerror or str(err))
    where = str(path)
    if err.filename:
        where = os.fsdecode(err.filename)
        if staging is not None and where.startswith(str(staging)):
            where = str(path) + where[len(str(staging)):]
    return OutputError("OUTPUT_WRITE_FAILED",
                       f"writing the run's output failed: {reason}; nothing was published",
                       file=where)

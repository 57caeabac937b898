"""Search an output folder for raw personal values, raw respondent ids and the key.

One job: walk a folder. :func:`scan_folder` opens every file under a folder, has
:class:`survey.scan_text.Extractor` take out all the text a person or a program could
recover from it (what is read, format by format, is listed there), and has
:class:`survey.scan_match.Matcher` look for the values held in a
:class:`survey.privacy.SensitiveValues` (the matching rule is described there). It
reports *where* (file) and *what kind* (``pii:姓名``, ``raw_id``, ``key``) it found,
never the value itself, as a :class:`ScanResult`.

File and folder names are searched too. A name that holds a value is shown as
``[name redacted: holds personal data]`` (:data:`REDACTED`) in findings and notes
(list the folder to find it): the scanner never prints a value, even as a file name.
Symlinked folders are listed, not entered. A file that is the study's key, holds its
text or holds its 32 bytes, and any file named ``.workbench-key``, is reported with
kind ``"key"``.

A :class:`ScanCache` remembers what searching each file found, by the file's name and
the SHA-256 of its bytes: ``workbench run`` can search a run's files while its other
notebooks still run, and the final :func:`scan_folder` then reads every file (to hash
it) but searches again only those that are new or changed.

Values too short to be distinctive are not searched and are counted instead
(:data:`MIN_ID_LENGTH`, :data:`MIN_VALUE_LENGTH`, :data:`MIN_ASCII_VALUE_LENGTH`);
:func:`scan_limits` says so before any file is scanned, :meth:`ScanResult.limits`
in a sentence for the report and the manifest. Scanning for a study's own values
(re-reading its raw data) is :func:`survey.study_scan.scan_for_study`.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DataError

from .privacy import KEY_FILE_NAME, SensitiveValues
from .scan_match import (
    ID_KIND,
    KEY_KIND,
    MIN_ASCII_VALUE_LENGTH,
    MIN_ID_LENGTH,
    MIN_PHONE_DIGITS,
    MIN_VALUE_LENGTH,
    Matcher,
)
from .scan_text import Extractor

__all__ = [
    "ID_KIND",
    "KEY_KIND",
    "MIN_ASCII_VALUE_LENGTH",
    "MIN_ID_LENGTH",
    "MIN_PHONE_DIGITS",
    "MIN_VALUE_LENGTH",
    "REDACTED",
    "ScanCache",
    "ScanResult",
    "can_fork",
    "child_signals",
    "scan_folder",
    "scan_limits",
]

#: Shown instead of a file or folder name that holds a personal value or raw id.
REDACTED = "[name redacted: holds personal data]"


# ----------------------------------------------------------------------- result


@dataclass
class ScanResult:
    """What :func:`scan_folder` found.

    Attributes
    ----------
    folder : str
        The folder scanned.
    findings : list of (str, str)
        ``(file relative to folder, kind)``, sorted and without duplicates. Never
        the value.
    files_scanned : int
        Number of files opened.
    skipped_short_ids : int
        Raw ids that the scanner cannot check because they are shorter than
        :data:`MIN_ID_LENGTH` (they are pseudonymized like every id, but a 2-digit id
        cannot be told apart from any other number). See :meth:`limits`.
    skipped_short_values : int
        Personal values that the scanner cannot check because they are too short
        (:data:`MIN_VALUE_LENGTH`, :data:`MIN_ASCII_VALUE_LENGTH`).
    notes : list of str
        Files that could not be parsed as their format says (their raw bytes were
        searched instead), and similar remarks. Never a value.

    Examples
    --------
    >>> res = ScanResult(folder="out", files_scanned=3, skipped_short_ids=2)
    >>> res.ok, res.checked_everything
    (True, False)
    >>> print(res.limits()[0])
    2 raw ids are shorter than 4 characters: they are pseudonymized like every id, but the privacy scan cannot check that they appear in no output (too short to tell apart from other numbers and words).
    """

    folder: str
    findings: list = field(default_factory=list)
    files_scanned: int = 0
    skipped_short_ids: int = 0
    skipped_short_values: int = 0
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    @property
    def checked_everything(self) -> bool:
        """True when every raw id and personal value was searched (none too short)."""
        return not (self.skipped_short_ids or self.skipped_short_values)

    def files(self) -> list[str]:
        """Files with at least one finding."""
        return sorted({f for f, _ in self.findings})

    def limits(self, lang: str = "en") -> list[str]:
        """Plain sentences saying what this scan could not check (empty when none).

        For the report and the manifest: one sentence for raw ids too short to
        search, one for personal values too short to search. Counts only, never a
        value.

        Parameters
        ----------
        lang : {"en", "zh"}
            Language of the sentences.
        """
        zh = str(lang).lower().startswith("zh")
        out = []
        n = self.skipped_short_ids
        if n:
            out.append(
                f"有 {n} 个原始编号短于 {MIN_ID_LENGTH} 个字符：它们和所有编号一样已被假名化，"
                "但隐私扫描无法检查它们是否出现在输出中（太短，无法与其他数字或文字区分）。" if zh else
                f"{n} raw id{'s are' if n != 1 else ' is'} shorter than {MIN_ID_LENGTH} "
                "characters: they are pseudonymized like every id, but the privacy scan cannot "
                "check that they appear in no output (too short to tell apart from other "
                "numbers and words).")
        n = self.skipped_short_values
        if n:
            out.append(
                f"有 {n} 个个人信息值太短（少于 {MIN_VALUE_LENGTH} 个字符，全为字母或数字时少于 "
                f"{MIN_ASCII_VALUE_LENGTH} 个）：隐私扫描无法检查它们是否出现在输出中。" if zh else
                f"{n} personal value{'s are' if n != 1 else ' is'} too short to search (fewer "
                f"than {MIN_VALUE_LENGTH} characters, or {MIN_ASCII_VALUE_LENGTH} when only Latin "
                "letters and digits): the privacy scan cannot check that "
                f"{'they appear' if n != 1 else 'it appears'} in no output.")
        return out

    def summary(self) -> str:
        """A readable report: one line per file with the kinds found, never values."""
        lines = []
        if self.ok:
            lines.append(f"privacy scan of {self.folder}: {self.files_scanned} files, "
                         "no raw personal values, raw ids or key found")
        else:
            lines.append(f"privacy scan of {self.folder}: {self.files_scanned} files, "
                         f"{len(self.files())} with personal data:")
            by_file: dict[str, list[str]] = {}
            for f, k in self.findings:
                by_file.setdefault(f, []).append(k)
            for f in sorted(by_file):
                lines.append(f"  {f}: {', '.join(sorted(by_file[f]))}")
        lines.extend(f"not checked: {s}" for s in self.limits())
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready form (for a manifest); ``limits`` holds :meth:`limits` in English."""
        return {"folder": self.folder, "ok": self.ok,
                "findings": [{"file": f, "kind": k} for f, k in self.findings],
                "files_scanned": self.files_scanned,
                "skipped_short_ids": self.skipped_short_ids,
                "skipped_short_values": self.skipped_short_values,
                "min_id_length": MIN_ID_LENGTH,
                "checked_everything": self.checked_everything,
                "limits": self.limits("en"), "notes": list(self.notes)}



# ------------------------------------------------------------------------- scan


def _iter_files(root: Path):
    """Every entry under ``root`` (sorted); symlinked folders are listed, not entered."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            p = base / name
            yield p, p.relative_to(root)


def scan_limits(sensitive: SensitiveValues) -> ScanResult:
    """What a scan for these values cannot check, known before any file is scanned.

    A :class:`ScanResult` with no findings whose ``skipped_short_ids`` and
    ``skipped_short_values`` count the raw ids and personal values too short to
    search, for the report pages that are written before the scan
    (:meth:`ScanResult.limits` gives the sentences).

    Examples
    --------
    >>> from survey.privacy import SensitiveValues
    >>> sv = SensitiveValues()
    >>> sv.add("raw_id", ["20230017", "7", "12"])
    >>> scan_limits(sv).skipped_short_ids
    2
    """
    matcher = Matcher(sensitive)
    return ScanResult(folder="", skipped_short_ids=matcher.skipped_ids,
                      skipped_short_values=matcher.skipped_values)


def _read_key(key_file: Path | str | None) -> tuple[str | None, bytes | None, Path | None]:
    """The key as lower-case hexadecimal text and as bytes, and the key file resolved.

    Each is None when unknown: no key file given, a file that is not there, or one
    that does not hold at least 32 hexadecimal digits (then only its path is known).
    """
    if key_file is None:
        return None, None, None
    key_path = Path(key_file)
    try:
        key_text = key_path.read_bytes().decode("ascii", errors="replace").strip()
    except OSError:
        key_text = ""
    key_hex = key_bytes = None
    if re.fullmatch(r"[0-9a-fA-F]{32,}", key_text):
        key_hex = key_text.lower()
        key_bytes = bytes.fromhex(key_hex) if len(key_hex) % 2 == 0 else None
    return key_hex, key_bytes, key_path.resolve() if key_path.exists() else None


class ScanCache:
    """What searching files found, remembered by file name and content, for one set of
    sensitive values and one key file.

    :meth:`search` searches the files of a folder now (those not remembered yet);
    :func:`scan_folder` with ``cache=`` then searches only files whose name or bytes are
    new. A file's result depends only on its name as shown (its suffix picks the format),
    its bytes, the values and the key, so the findings and notes are those of a scan
    without the cache (``tests/test_scan_cache.py``). Every file is still read and hashed
    by the final scan: a file changed after it was searched is searched again.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from survey.privacy import SensitiveValues
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = (out / "notes.md").write_text("Interviewed 王小明", encoding="utf-8")
    >>> sv = SensitiveValues()
    >>> sv.add("pii:姓名", ["王小明"])
    >>> cache = ScanCache(sv)
    >>> cache.search(out)          # while the run goes on: one file searched
    1
    >>> scan_folder(out, sv, cache=cache).findings   # the final scan searches nothing again
    [('notes.md', 'pii:姓名')]
    >>> cache.hits
    1
    """

    def __init__(self, sensitive: SensitiveValues, key_file: Path | str | None = None):
        self.sensitive = sensitive
        self.key_file = key_file
        self.results: dict[tuple[str, bytes], tuple[frozenset, tuple[str, ...]]] = {}
        self.hits = 0
        self.matcher: Matcher | None = None  # shared by the scans (it remembers text pieces)
        self._stop = threading.Event()

    def search(self, folder: Path | str, may_run: threading.Event | None = None) -> int:
        """Search the files under ``folder`` not remembered yet (in this process, one after
        the other); returns how many were searched. Unreadable files are left to the scan.
        After :meth:`stop` it returns at the next file. With ``may_run``, each file waits
        until that event is set (``workbench run`` holds the search while its own thread
        runs a notebook, which the search would slow down)."""
        root = Path(folder)
        if not root.is_dir() or self._stop.is_set():
            return 0
        scan = _FolderScan(root, self.sensitive, self.key_file, cache=self)
        searched = 0
        for path, rel in _iter_files(root):
            while may_run is not None and not may_run.wait(0.05) and not self._stop.is_set():
                pass
            if self._stop.is_set():
                break
            if path.is_dir() or not path.is_file():
                continue
            shown = scan.shown_name(rel)
            if scan.cached(path, shown) is None:
                scan.search_file(path, shown)
                searched += 1
        return searched

    def stop(self) -> None:
        """End the searches under way at their next file (the final scan takes over: what
        they did not reach it searches itself, in two processes for a large folder)."""
        self._stop.set()

    def get(self, shown: str, digest: bytes):
        hit = self.results.get((shown, digest))
        if hit is not None:
            self.hits += 1
            return set(hit[0]), list(hit[1])
        return None

    def put(self, shown: str, digest: bytes | None, found: set, notes: list[str]) -> None:
        if digest is not None:
            self.results[(shown, digest)] = (frozenset(found), tuple(notes))


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class _FolderScan:
    """One scan of one folder: the matcher, the extractor and the findings so far."""

    def __init__(self, root: Path, sensitive: SensitiveValues, key_file: Path | str | None,
                 cache: ScanCache | None = None):
        self.root = root
        self.cache = cache
        key_hex, self.key_bytes, self.key_resolved = _read_key(key_file)
        if cache is not None and cache.matcher is not None and cache.matcher.key == (
                key_hex.lower() if key_hex else None):
            self.matcher = cache.matcher
        else:
            self.matcher = Matcher(sensitive, key_hex)
            if cache is not None:
                cache.matcher = self.matcher
        self.result = ScanResult(folder=str(root), skipped_short_ids=self.matcher.skipped_ids,
                                 skipped_short_values=self.matcher.skipped_values)
        self.extractor = Extractor(self.result.notes)
        self.findings: set[tuple[str, str]] = set()

    def shown_name(self, rel: Path) -> str:
        """``rel`` as findings and notes show it: a part that holds a value is reported
        and replaced by :data:`REDACTED`."""
        parts = []
        for part in rel.parts:
            hits = self.matcher.kinds_in(part)
            parts.append(REDACTED if hits else part)
            for kind in hits:
                self.findings.add(("/".join(parts), kind))
        return "/".join(parts)

    def is_key_file(self, path: Path) -> bool:
        """Whether ``path`` is named like the key file, or is the study's key file."""
        return path.name == KEY_FILE_NAME or (self.key_resolved is not None
                                             and path.resolve() == self.key_resolved)

    def search_file(self, path: Path, shown: str) -> tuple[set, list[str]]:
        """Read one file; search its bytes for the key and its texts for the values.

        Returns the findings and the notes of this file (shared state is not touched, so
        that files can be searched in another process)."""
        found, notes, digest = self._search(path, shown)
        if self.cache is not None:  # remembered under the bytes searched
            self.cache.put(shown, digest, found, notes)
        return found, notes

    def _search(self, path: Path, shown: str) -> tuple[set, list[str], bytes | None]:
        """:meth:`search_file` without the cache; also the SHA-256 of the bytes searched."""
        found: set[tuple[str, str]] = set()
        notes: list[str] = []
        try:
            data = path.read_bytes()
        except OSError as err:
            return found, [f"{shown}: could not be read ({err.strerror}); not searched"], None
        if self.key_bytes is not None and self.key_bytes in data:
            found.add((shown, KEY_KIND))
        if not self.matcher.empty:
            self.extractor.notes, self.extractor.current = notes, shown
            for text in self.extractor.texts(shown, data, path):
                for kind in self.matcher.kinds_in(text):
                    found.add((shown, kind))
        return found, notes, _digest(data) if self.cache is not None else None

    def cached(self, path: Path, shown: str) -> tuple[set, list[str]] | None:
        """The remembered result of ``path`` when its name and bytes were searched before."""
        if self.cache is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return self.cache.get(shown, _digest(data))

    def search_files(self, files: list[tuple[Path, str]]) -> list[tuple[set, list[str]]]:
        """:meth:`search_file` for every file, in two processes for a large folder.

        With at least :data:`PARALLEL_MIN_BYTES` to read and two cores, two forked children
        take the files one at a time (the biggest first); results come back per file and
        are put in file order, so the findings and notes are the same as from one process.
        """
        out: list = [self.cached(path, shown) for path, shown in files]
        todo = [i for i, res in enumerate(out) if res is None]
        sizes = {i: _size(files[i][0]) for i in todo}
        if sum(sizes.values()) < PARALLEL_MIN_BYTES or not can_fork():
            for i in todo:
                out[i] = self.search_file(*files[i])
            return out
        order = sorted(todo, key=lambda i: -sizes[i])  # big files first
        global _ACTIVE
        _ACTIVE = self
        import multiprocessing

        try:
            with multiprocessing.get_context("fork").Pool(2, initializer=child_signals) as pool:
                for i, res, digest in pool.imap_unordered(_search_in_child,
                                                          [(files, i) for i in order]):
                    out[i] = res
                    if self.cache is not None:
                        self.cache.put(files[i][1], digest, *res)
        finally:
            _ACTIVE = None
        return out

    def run(self) -> ScanResult:
        """Every entry under the folder: its name, and the content of each file."""
        files = []
        for path, rel in _iter_files(self.root):
            shown = self.shown_name(rel)
            if path.is_dir() or not path.is_file():
                continue
            self.result.files_scanned += 1
            if self.is_key_file(path):
                self.findings.add((shown, KEY_KIND))
            files.append((path, shown))
        for found, notes in self.search_files(files):
            self.findings |= found
            self.result.notes.extend(notes)
        self.result.findings = sorted(self.findings)
        return self.result


def scan_folder(folder: Path | str, sensitive: SensitiveValues, *,
                key_file: Path | str | None = None,
                cache: ScanCache | None = None) -> ScanResult:
    """Search every file under ``folder`` for raw personal values, raw ids and the key.

    Parameters
    ----------
    folder : Path
        The output folder.
    sensitive : SensitiveValues
        Raw values to look for (``raw_id`` values as whole tokens, others as in the
        module's matching rule).
    key_file : Path, optional
        The study's pseudonymization key file. A file that *is* it, holds its text,
        or holds its 32 bytes is reported with kind ``"key"``. Any file named
        ``.workbench-key`` is reported with kind ``"key"`` in any case.
    cache : ScanCache, optional
        Results of files searched earlier (:meth:`ScanCache.search`) for the same values
        and key file: a file whose name and bytes were searched is not searched again.

    Returns
    -------
    ScanResult
        Findings as ``(file, kind)`` pairs; never values.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from survey.privacy import SensitiveValues
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = (out / "scores.csv").write_text("id,score\\np_9f2c41aa03bd77e1,3.5\\n", encoding="utf-8")
    >>> _ = (out / "notes.md").write_text("Interviewed 王小明 (id 20230017)", encoding="utf-8")
    >>> sv = SensitiveValues()
    >>> sv.add("pii:姓名", ["王小明"]); sv.add("raw_id", ["20230017", "7"])
    >>> res = scan_folder(out, sv)
    >>> res.ok, res.findings, res.skipped_short_ids
    (False, [('notes.md', 'pii:姓名'), ('notes.md', 'raw_id')], 1)
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError("SCAN_FOLDER_MISSING", "the folder to scan does not exist", file=str(root))
    if cache is not None and (cache.sensitive is not sensitive or cache.key_file != key_file):
        raise ValueError("the scan cache was made for other values or another key file")
    return _FolderScan(root, sensitive, key_file, cache=cache).run()


PARALLEL_MIN_BYTES = 2_000_000
"""A folder with at least this many bytes is searched in two processes (when forking is
possible and there are two cores): the county example's run folder holds about 8 MB."""

_ACTIVE: _FolderScan | None = None  # the scan a forked child continues


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def can_fork() -> bool:
    """Whether searches can run in forked processes: a second core, and ``fork`` available
    (:meth:`_FolderScan.search_files`; ``workbench run``'s search while it writes the index)."""
    import multiprocessing

    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


def child_signals() -> None:
    """In a forked searcher: end quietly when stopped (the parent's SIGTERM and SIGINT
    handlers, e.g. ``workbench run``'s, are not its own)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _search_in_child(job):
    """In a forked child: search one file (see :meth:`_FolderScan.search_files`)."""
    files, i = job
    found, notes, digest = _ACTIVE._search(*files[i])  # the parent remembers it
    return i, (found, notes), digest

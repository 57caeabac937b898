"""Keeping children's personal data out of everything the workbench writes.

Three tools, used right after raw data are read (see ``docs/architecture.md``,
"Privacy invariants"):

* :func:`drop_pii` removes the columns a study declares as personal
  (``privacy.pii``) and the platform columns known to be personal
  (:data:`PLATFORM_PII_COLUMNS`, e.g. 问卷星's ``来自IP``).
* :class:`Pseudonymizer` replaces respondent ids by a keyed hash (HMAC-SHA256).
  The key comes from :func:`load_or_create_key`: ``STUDY/.workbench-key``,
  created on first use with mode 0600 and ignored by git, so re-runs keep the
  same pseudonyms while the key never travels with the outputs.
* :class:`SensitiveValues` holds, in memory only, the raw personal values and
  raw ids that were read, so that :func:`survey.scanner.scan_folder` can check
  that none of them reached an output folder.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from hashlib import sha256
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from core.errors import WorkbenchError

__all__ = [
    "KEY_FILE_NAME",
    "PLATFORM_PII_COLUMNS",
    "PLATFORM_PII_REASONS",
    "PrivacyError",
    "Pseudonymizer",
    "SensitiveValues",
    "drop_pii",
    "load_or_create_key",
    "normalize_id",
]

T = TypeVar("T")

#: Name of the pseudonymization key file inside a study folder.
KEY_FILE_NAME = ".workbench-key"

#: Platform export columns known to hold personal data, with the reason.
#: Matching is on the header with surrounding whitespace removed and, for Latin
#: letters, case ignored (``ip_address`` matches ``IP_Address``).
PLATFORM_PII_REASONS: dict[str, str] = {
    # 问卷星 (Wenjuanxing): the sixth metadata column of every export.
    "来自IP": "问卷星: respondent's IP address and the city it resolves to",
    # 问卷星 with login / WeChat collection, 腾讯问卷, 金数据 and hand-made sheets.
    "IP": "IP address (腾讯问卷, generic exports)",
    "IP地址": "IP address (腾讯问卷, 金数据)",
    "ip_address": "IP address (generic exports)",
    "填写人": "问卷星/金数据: name or account of the person who filled in the form",
    "提交人": "腾讯问卷/金数据: account of the submitter",
    "微信昵称": "问卷星/腾讯问卷: WeChat nickname",
    "微信openid": "问卷星: WeChat OpenID, a stable personal identifier",
    "openid": "WeChat OpenID (generic)",
    "手机号码": "mobile phone number",
    "手机号": "mobile phone number",
    "联系电话": "telephone number",
    "身份证号": "resident identity card number",
    "身份证号码": "resident identity card number",
    # Qualtrics exports.
    "IPAddress": "Qualtrics: IP address",
    "LocationLatitude": "Qualtrics: latitude derived from the IP address",
    "LocationLongitude": "Qualtrics: longitude derived from the IP address",
    "RecipientFirstName": "Qualtrics: contact list first name",
    "RecipientLastName": "Qualtrics: contact list last name",
    "RecipientEmail": "Qualtrics: contact list e-mail",
    # REDCap exports.
    "redcap_survey_identifier": "REDCap: participant identifier entered for the survey invitation",
    # KoboToolbox / ODK (XLSForm) metadata.
    "deviceid": "ODK/Kobo: device IMEI or id",
    "phonenumber": "ODK/Kobo: phone number of the device",
    "subscriberid": "ODK/Kobo: SIM subscriber id (IMSI)",
    "simserial": "ODK/Kobo: SIM serial number",
    "username": "ODK/Kobo: enumerator or respondent account",
}

#: The column names of :data:`PLATFORM_PII_REASONS`.
PLATFORM_PII_COLUMNS: frozenset[str] = frozenset(PLATFORM_PII_REASONS)

_KEY_BYTES = 32
_PSEUDONYM_PREFIX = "p_"
_PSEUDONYM_HEX = 16


class PrivacyError(WorkbenchError):
    """A privacy safeguard cannot work (bad key file, unwritable study folder)."""


def _header_key(name) -> str:
    return str(name).strip().casefold()


_PLATFORM_KEYS = frozenset(_header_key(c) for c in PLATFORM_PII_COLUMNS)


def drop_pii(df: pd.DataFrame, pii_columns: Iterable[str] = (), *,
             platform: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Drop declared personal-data columns and known personal platform columns.

    Parameters
    ----------
    df : DataFrame
        Data as read from a file (headers as in the file).
    pii_columns : iterable of str
        Columns the study declares personal (``privacy.pii``). Headers are compared
        with surrounding whitespace removed and Latin case ignored. Declared columns
        that are absent are ignored here (validation reports them).
    platform : bool, default True
        Also drop :data:`PLATFORM_PII_COLUMNS` (e.g. 问卷星's ``来自IP``).

    Returns
    -------
    (DataFrame, list of str)
        The data without those columns (a new frame; ``df`` is not changed) and
        the dropped column names as they were headed, in their original order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["1"], "姓名": ["张伟"], "来自IP": ["1.2.3.4(湖南)"], "q1": [3]})
    >>> out, dropped = drop_pii(df, ["姓名"])
    >>> list(out.columns), dropped
    (['id', 'q1'], ['姓名', '来自IP'])
    """
    wanted = {_header_key(c) for c in pii_columns}
    if platform:
        wanted |= _PLATFORM_KEYS
    dropped = [c for c in df.columns if _header_key(c) in wanted]
    return df.drop(columns=dropped), [str(c) for c in dropped]


# --------------------------------------------------------------------------- key


def _ensure_gitignored(study_root: Path) -> None:
    """Make ``STUDY/.gitignore`` ignore the key file: create or append, never clobber."""
    gi = study_root / ".gitignore"
    entry = f"/{KEY_FILE_NAME}"
    try:
        text = gi.read_text(encoding="utf-8") if gi.exists() else ""
    except UnicodeDecodeError:
        text = gi.read_bytes().decode("utf-8", errors="replace")
    lines = {ln.strip() for ln in text.splitlines()}
    if lines & {KEY_FILE_NAME, entry, f"**/{KEY_FILE_NAME}"}:
        return
    prefix = "" if text == "" or text.endswith("\n") else "\n"
    with open(gi, "a", encoding="utf-8", newline="\n") as fh:
        fh.write(f"{prefix}# Survey Workbench pseudonymization key: never commit or share it\n"
                 f"{entry}\n")


def _parse_key(raw: bytes, path: Path) -> bytes:
    text = raw.decode("ascii", errors="replace").strip()
    if len(text) != 2 * _KEY_BYTES or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise PrivacyError(
            "PRIVACY_KEY_MALFORMED",
            f"the pseudonymization key file must hold {2 * _KEY_BYTES} hexadecimal characters "
            f"({_KEY_BYTES} random bytes) and nothing else; this one does not. If you still have "
            "the original key, restore it: a new key would give every respondent a new pseudonym. "
            "If this is a new study with no outputs yet, delete the file and run again.",
            file=str(path))
    return bytes.fromhex(text)


def load_or_create_key(study_root: Path | str) -> bytes:
    """Read the study's pseudonymization key, creating it on first use.

    The key is ``STUDY/.workbench-key``: 32 random bytes (:func:`secrets.token_bytes`)
    written as 64 hexadecimal characters and a newline, created with mode 0600 and
    never overwritten. The study folder's ``.gitignore`` is created or appended to
    so that git ignores the key. Keep the key with the raw data: re-running with the
    same key gives the same pseudonyms; losing it means new pseudonyms.

    Parameters
    ----------
    study_root : Path
        The study folder.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    PrivacyError
        ``PRIVACY_KEY_MALFORMED`` when the file exists but does not hold a key;
        ``PRIVACY_KEY_UNWRITABLE`` when it cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> key = load_or_create_key(root)
    >>> len(key), load_or_create_key(root) == key
    (32, True)
    >>> oct((root / ".workbench-key").stat().st_mode & 0o777)
    '0o600'
    """
    root = Path(study_root)
    path = root / KEY_FILE_NAME
    if not root.is_dir():
        raise PrivacyError("PRIVACY_KEY_UNWRITABLE",
                           "the study folder does not exist, so its key cannot be created",
                           file=str(root))
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise PrivacyError("PRIVACY_KEY_MALFORMED",
                           "the pseudonymization key must be a regular file in the study folder",
                           file=str(path))
    if not path.exists():
        # written whole into a private temporary file, then linked into place: a concurrent
        # run (two test workers, two terminals) never reads a key file that is still empty
        key = secrets.token_bytes(_KEY_BYTES)
        tmp = root / f"{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.fchmod(fd, 0o600)  # in case a umask or ACL widened it
                os.write(fd, (key.hex() + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # created meanwhile by a concurrent run: read theirs
        except OSError as err:
            raise PrivacyError("PRIVACY_KEY_UNWRITABLE",
                               f"cannot create the pseudonymization key ({err.strerror})",
                               file=str(path)) from None
        finally:
            tmp.unlink(missing_ok=True)
    try:
        _ensure_gitignored(root)
    except OSError as err:
        raise PrivacyError("PRIVACY_KEY_UNWRITABLE",
                           f"cannot make git ignore the key ({err.strerror})",
                           file=str(root / ".gitignore")) from None
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PrivacyError("PRIVACY_KEY_UNWRITABLE",
                           f"cannot read the pseudonymization key ({err.strerror})",
                           file=str(path)) from None
    return _parse_key(raw, path)


# ------------------------------------------------------------------- pseudonyms


def normalize_id(raw) -> str | None:
    """Normalize a raw respondent id before hashing; ``None`` for missing.

    Surrounding whitespace is removed and the text is put in Unicode NFKC form, so
    full-width digits typed with a Chinese input method (``００７``) equal their
    ASCII form (``007``). Nothing else changes: leading zeros are kept (``"007"``
    and ``"7"`` are different respondents) and case is kept. Numbers that are not
    text (a reader that gave ``7.0``) are written without a trailing ``.0``.

    Examples
    --------
    >>> normalize_id(" ００７ "), normalize_id(7.0), normalize_id("  ")
    ('007', '7', None)
    """
    if raw is None or raw is pd.NA:
        return None
    if isinstance(raw, (float, np.floating)):
        if np.isnan(raw):
            return None
        if float(raw).is_integer():
            raw = int(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    return text or None


class Pseudonymizer:
    """Replace respondent ids by keyed hashes (HMAC-SHA256).

    The pseudonym of an id is ``"p_"`` followed by the first 16 hexadecimal
    characters (64 bits) of HMAC-SHA256(key, normalized id as UTF-8); see
    :func:`normalize_id`. Without the key, pseudonyms cannot be linked back to ids
    by trying candidate ids (ids are short and guessable, which is why a plain hash
    would not do).

    Collisions: two different ids get the same pseudonym with probability about
    ``n**2 / 2**65`` for ``n`` distinct ids, i.e. about 1e-9 for 200,000 ids.
    :meth:`pseudonymize_series` checks and raises ``PRIVACY_PSEUDONYM_COLLISION``
    if it ever happens rather than merging two children.

    Parameters
    ----------
    key : bytes
        At least 16 bytes, normally from :func:`load_or_create_key`.

    Examples
    --------
    >>> p = Pseudonymizer(b"k" * 32)
    >>> p.pseudonymize("007") == p.pseudonymize(" 007 "), p.pseudonymize("007") == p.pseudonymize("7")
    (True, False)
    >>> p.pseudonymize("007")[:2], len(p.pseudonymize("007"))
    ('p_', 18)
    """

    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise ValueError("the pseudonymization key must be at least 16 bytes")
        key = bytes(key)
        if len(key) > 64:  # RFC 2104: longer keys are hashed first
            key = sha256(key).digest()
        # RFC 2104 inner and outer states, computed once (4x faster than hmac.digest per id)
        self._inner = sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
        self._outer = sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))

    def __repr__(self) -> str:
        return "Pseudonymizer(<key hidden>)"

    def __reduce__(self):
        raise TypeError("a Pseudonymizer holds the study key and cannot be pickled")

    def _hash(self, normalized: str) -> str:
        inner = self._inner.copy()
        inner.update(normalized.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return _PSEUDONYM_PREFIX + outer.hexdigest()[:_PSEUDONYM_HEX]

    def pseudonymize(self, raw_id) -> str | None:
        """Pseudonym of one raw id (``None`` when the id is missing or blank)."""
        norm = normalize_id(raw_id)
        return None if norm is None else self._hash(norm)

    def pseudonymize_series(self, s: pd.Series, *, namespace: str | None = None) -> pd.Series:
        """Pseudonyms for a column of raw ids, keeping index and name; NA stays NA.

        Each distinct id is hashed once (200,000 ids take well under a second).

        Parameters
        ----------
        s : pandas.Series
            Raw ids.
        namespace : str, optional
            Ids of another kind of person (``"mentor"``, ``"guardian"``; issue 14): hashed
            as ``namespace + "\x1f" + id`` with the same key and written with the prefix
            ``namespace[0] + "_"`` (``m_...``, ``g_...``), so that mentor ``"7"`` and child
            ``"7"`` get unrelated pseudonyms. Default: respondent ids (``p_...``).

        Raises
        ------
        PrivacyError
            ``PRIVACY_PSEUDONYM_COLLISION`` if two distinct ids get one pseudonym.

        Examples
        --------
        >>> p = Pseudonymizer(b"k" * 32)
        >>> ids = pd.Series(["7", "7", None])
        >>> m = p.pseudonymize_series(ids, namespace="mentor")
        >>> m[0][:2], m[0] == m[1], m[0][2:] == p.pseudonymize("7")[2:], pd.isna(m[2])
        ('m_', True, False, True)
        """
        salt = "" if namespace is None else f"{namespace}\x1f"
        prefix = _PSEUDONYM_PREFIX if namespace is None else f"{namespace[0]}_"
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        if all(type(u) is str for u in values):  # fast path: text ids
            normalized = [n or None for n in
                          pd.Series(values, dtype=object).str.normalize("NFKC").str.strip()]
        else:
            normalized = [normalize_id(u) for u in values]
        by_norm: dict[str, str] = {}
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        for n in set(normalized):
            if n is None:
                continue
            h = inner_copy()
            h.update((salt + n).encode("utf-8"))
            o = outer_copy()
            o.update(h.digest())
            by_norm[n] = prefix + o.hexdigest()[:_PSEUDONYM_HEX]
        if len(set(by_norm.values())) != len(by_norm):
            raise PrivacyError("PRIVACY_PSEUDONYM_COLLISION",
                               "two different respondent ids received the same pseudonym "
                               "(probability about 1e-9); report this, it needs a longer pseudonym")
        mapped = np.array([None if n is None else by_norm[n] for n in normalized] + [None],
                          dtype=object)
        out = mapped[codes]  # code -1 (missing) picks the trailing None
        return pd.Series(pd.array(out, dtype="str"), index=s.index, name=s.name)


# --------------------------------------------------------------- sensitive values


class SensitiveValues:
    """Raw personal values and raw ids, kept in memory for the output scanner.

    Values are grouped by kind: ``"raw_id"`` for respondent ids, ``"pii:<column>"``
    for a declared personal column (e.g. ``"pii:姓名"``), or any other label.
    Missing and blank values are ignored; surrounding whitespace is removed.

    The object never shows or serializes its values: ``repr`` gives only counts,
    and pickling, copying to JSON (``to_json``) or ``str`` of the values is refused,
    so it cannot end up in a notebook, a cache or a log by accident.

    Examples
    --------
    >>> sv = SensitiveValues()
    >>> sv.add("pii:name", ["张伟", None, " ", "Zhang Wei"])
    >>> sv.add("raw_id", ["20230001", "20230002"])
    >>> sv
    SensitiveValues(pii:name: 2 values, raw_id: 2 values)
    >>> sorted(sv.kinds["pii:name"])
    ['Zhang Wei', '张伟']
    """

    __slots__ = ("_derived", "_kinds")

    def __init__(self):
        self._kinds: dict[str, set[str]] = {}
        self._derived: dict[str, object] = {}

    def add(self, kind: str, values: Iterable) -> None:
        """Add values of one kind (an iterable of strings or numbers; NA/blank ignored)."""
        if not isinstance(kind, str) or not kind:
            raise ValueError("kind must be a non-empty string")
        self._derived.clear()  # built from the old values
        bucket = self._kinds.setdefault(kind, set())
        if isinstance(values, (str, bytes)):
            values = [values]
        for v in values:
            if v is None or v is pd.NA:
                continue
            if isinstance(v, (float, np.floating)):
                if np.isnan(v):
                    continue
                if float(v).is_integer():
                    v = int(v)
            text = v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v)
            text = text.strip()
            if text:
                bucket.add(text)
        if not bucket:
            del self._kinds[kind]

    def update(self, other: SensitiveValues) -> None:
        """Add every value of another :class:`SensitiveValues`."""
        for kind, vals in other._kinds.items():
            self.add(kind, vals)

    @property
    def kinds(self) -> dict[str, set[str]]:
        """``{kind: set of values}`` (a copy)."""
        return {k: set(v) for k, v in self._kinds.items()}

    def cached(self, name: str, build: Callable[[], T]) -> T:
        """An object derived from these values, built once and kept until values are added.

        The output scanner keeps its compiled values here
        (:func:`survey.scan_match.value_index`), so that the report pages (what the scan
        cannot check) and the scan itself share one build. The object stays in memory
        with the values: it is never pickled or written either.

        Parameters
        ----------
        name : str
            What the object is (one object per name).
        build : callable
            Called without arguments when there is no object under ``name`` yet.

        Examples
        --------
        >>> sv = SensitiveValues()
        >>> sv.add("raw_id", ["20230001"])
        >>> sv.cached("count", lambda: len(sv)), sv.cached("count", lambda: 99)
        (1, 1)
        >>> sv.add("raw_id", ["20230002"])
        >>> sv.cached("count", lambda: len(sv))
        2
        """
        try:
            return self._derived[name]
        except KeyError:
            obj = self._derived[name] = build()
            return obj

    def __len__(self) -> int:
        return sum(len(v) for v in self._kinds.values())

    def __bool__(self) -> bool:
        return bool(self._kinds)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {len(v)} values" for k, v in sorted(self._kinds.items()))
        return f"SensitiveValues({inner})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("SensitiveValues are kept in memory only and cannot be pickled")

    def __getstate__(self):
        raise TypeError("SensitiveValues are kept in memory only and cannot be serialized")

    def to_json(self, *args, **kwargs):
        raise TypeError("SensitiveValues are kept in memory only and cannot be written as JSON")

    to_dict = to_json

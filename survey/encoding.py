"""Text encodings of CSV exports: strict UTF-8 first, then GB18030.

Excel on Simplified-Chinese Windows saves "CSV (Comma delimited)" in GBK, Excel's
"Unicode text" is UTF-16 with a byte-order mark, and web platforms export UTF-8
with or without a BOM. The order of the attempts matters: GB18030 decodes most
UTF-8 text *without error* into mojibake, so UTF-8 is always tried first and on
the whole file (a bad byte after the first 10 kB must not be missed).

GBK is a subset of GB18030, so a GBK file is reported as ``"gb18030"``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from core.errors import DataError

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: Legacy multi-byte encodings that silently turn valid UTF-8 into mojibake.
LEGACY_CJK = frozenset({"gbk", "gb2312", "gb18030", "cp936", "big5", "big5hkscs", "cp950",
                        "hz", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949", "latin-1",
                        "iso8859-1", "cp1252"})


@dataclass(frozen=True)
class Decoded:
    """Text decoded from raw bytes.

    Attributes
    ----------
    text : str
        The decoded text, without a byte-order mark.
    encoding : str
        Encoding used (``utf-8``, ``utf-8-sig``, ``gb18030``, ``utf-16`` or the declared one).
    detected : bool
        False when the encoding came from ``encoding:`` in study.yaml.
    issues : list of Issue
        Warnings found while decoding (none at present; kept for callers).
    """

    text: str
    encoding: str
    detected: bool
    issues: list = field(default_factory=list)


def _where(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line} (byte offset {offset}, byte 0x{raw[offset]:02X})"


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


# two or more well-formed UTF-8 CJK characters in a row: a cheap pre-filter for UTF-8 text
# inside a file that is not UTF-8 as a whole (GBK bytes match it only by rare chance, and such
# a chance match practically never makes a whole line valid UTF-8)
_UTF8_CJK_RUN = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){2,}")


def mixed_encoding_lines(raw: bytes) -> tuple[int, int] | None:
    """Lines that show a file mixes UTF-8 with another encoding (GBK rows, then UTF-8 rows).

    Such a file is not valid UTF-8 as a whole, decodes as GB18030 without error, and
    turns the UTF-8 rows into mojibake. Returns ``(first UTF-8 line, first line that
    is not UTF-8)``, or ``None`` when the file is not mixed.

    Examples
    --------
    >>> raw = "id,名字\\n1,张三\\n".encode("gbk") + "2,李四\\n".encode("utf-8")
    >>> mixed_encoding_lines(raw)
    (3, 1)
    >>> mixed_encoding_lines("id,名字\\n1,张三\\n".encode("gbk")) is None
    True
    """
    bad = _fails_at(raw, "utf-8")
    if bad is None:
        return None
    pos = 0
    while True:
        m = _UTF8_CJK_RUN.search(raw, pos)
        if m is None:
            return None
        start = raw.rfind(b"\n", 0, m.start()) + 1
        end = raw.find(b"\n", m.end())
        end = len(raw) if end < 0 else end
        try:
            raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            pos = end + 1
            continue
        return _line_of(raw, start), _line_of(raw, bad)


def _refuse_mixed(raw: bytes, file: str | None) -> None:
    mixed = mixed_encoding_lines(raw)
    if mixed is not None:
        utf8_line, other_line = mixed
        raise DataError(
            "FILE_ENCODING",
            f"the file mixes text encodings: line {utf8_line} is UTF-8 but line {other_line} is "
            "not (GBK/GB18030?), e.g. rows pasted from two exports. Decoding it as one encoding "
            "would garble part of the rows: save the whole file again as 'CSV UTF-8'",
            file=file, row=min(utf8_line, other_line))


def _fails_at(raw: bytes, encoding: str) -> int | None:
    """Offset of the first byte that ``encoding`` cannot decode, or None."""
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as err:
        return err.start
    return None


def detect_encoding(raw: bytes, *, file: str | None = None) -> str:
    """Detect the encoding of a text export.

    Order: a UTF-16 byte-order mark (Excel "Unicode text") -> ``"utf-16"``; a
    UTF-8 BOM -> ``"utf-8-sig"``; strict UTF-8 on the whole file -> ``"utf-8"``;
    strict GB18030 -> ``"gb18030"`` (GBK files decode as GB18030). GB18030 is
    never tried first because it decodes UTF-8 text into mojibake without error.

    Parameters
    ----------
    raw : bytes
        The whole file.
    file : str, optional
        File name used in error messages.

    Returns
    -------
    str
        A Python codec name.

    Raises
    ------
    DataError
        ``FILE_ENCODING`` when the bytes are neither UTF-8 nor GB18030; the
        message names the line and byte offset where each attempt failed.

    Examples
    --------
    >>> detect_encoding("非常同意".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("非常同意".encode("gbk"))
    'gb18030'
    >>> detect_encoding(codecs.BOM_UTF8 + b"a,b")
    'utf-8-sig'
    """
    if raw.startswith(UTF16_BOMS):
        bad = _fails_at(raw, "utf-16")
        if bad is None:
            return "utf-16"
        raise DataError("FILE_ENCODING", f"starts with a UTF-16 byte-order mark but is not valid "
                        f"UTF-16 at byte offset {bad}", file=file)
    if raw.startswith(UTF8_BOM):
        bad = _fails_at(raw, "utf-8-sig")
        if bad is None:
            return "utf-8-sig"
        raise DataError("FILE_ENCODING", "starts with a UTF-8 byte-order mark but is not valid "
                        f"UTF-8 at {_where(raw, bad)}", file=file, row=_line_of(raw, bad))
    bad_utf8 = _fails_at(raw, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    bad_gb = _fails_at(raw, "gb18030")
    if bad_gb is None:
        return "gb18030"
    raise DataError(
        "FILE_ENCODING",
        f"cannot tell the text encoding: not UTF-8 (fails at {_where(raw, bad_utf8)}) and not "
        f"GB18030/GBK (fails at {_where(raw, bad_gb)}). Save the file as 'CSV UTF-8' or "
        "declare its encoding with `encoding:` in study.yaml",
        file=file, row=_line_of(raw, bad_utf8))


def normalize_encoding(name: str, *, file: str | None = None) -> str:
    """Python's canonical name of an encoding (``GBK`` -> ``gbk``, ``UTF8`` -> ``utf-8``).

    Raises ``FILE_ENCODING`` for a name Python does not know.

    Examples
    --------
    >>> normalize_encoding("UTF8"), normalize_encoding("GB2312")
    ('utf-8', 'gb2312')
    """
    try:
        return codecs.lookup(str(name).strip()).name
    except LookupError:
        raise DataError("FILE_ENCODING", f"unknown encoding {name!r} in study.yaml "
                        "(use e.g. utf-8, gbk or gb18030)", file=file, column="encoding") from None


def decode_bytes(raw: bytes, encoding: str | None = None, *, file: str | None = None) -> Decoded:
    """Decode a text export, detecting the encoding unless one is declared.

    A declared ``encoding`` (from study.yaml) overrides detection. A wrong
    declaration is an error naming the line where decoding fails, with the
    encoding that would work. A legacy encoding (``gbk``...) declared for a
    file that is valid UTF-8 usually decodes *without error* into mojibake;
    that is refused too (``FILE_ENCODING``, a :class:`DataError`), naming the line.

    Parameters
    ----------
    raw : bytes
        The whole file.
    encoding : str, optional
        Declared encoding.
    file : str, optional
        File name for messages.

    Returns
    -------
    Decoded

    Examples
    --------
    >>> d = decode_bytes("学校,得分\\n一中,3\\n".encode("gbk"))
    >>> d.encoding, d.text.splitlines()[0]
    ('gb18030', '学校,得分')
    >>> try:
    ...     decode_bytes("学校".encode("utf-8"), "gbk")
    ... except DataError as err:
    ...     err.code
    'FILE_ENCODING'
    """
    if encoding is None:
        # decode once: the successful attempt of detection is the result
        if not raw.startswith(UTF16_BOMS + (UTF8_BOM,)):
            try:
                return Decoded(raw.decode("utf-8"), "utf-8", True)
            except UnicodeDecodeError:
                pass
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                pass
            else:
                _refuse_mixed(raw, file)
                return Decoded(text, "gb18030", True)
        enc = detect_encoding(raw, file=file)  # raises FILE_ENCODING with positions
        text = raw.decode(enc)
        return Decoded(text[1:] if text.startswith("\ufeff") else text, enc, True)
    enc = normalize_encoding(encoding, file=file)
    issues = []
    if enc == "utf-8" and raw.startswith(UTF8_BOM):
        enc = "utf-8-sig"
    bad = _fails_at(raw, enc)
    if bad is not None:
        hint = ""
        try:
            works = detect_encoding(raw)
            hint = (f"; the file decodes as {works}: set `encoding: {works}` or remove "
                    "`encoding:` to detect it")
        except DataError:
            pass
        raise DataError("FILE_ENCODING", f"declared encoding {encoding!r} cannot decode "
                        f"{_where(raw, bad)}{hint}", file=file, row=_line_of(raw, bad))
    if enc in LEGACY_CJK and _fails_at(raw, "utf-8") is None and not raw.isascii():
        first = next(i for i, b in enumerate(raw) if b >= 0x80)
        # Refused rather than warned: analysing garbled labels and headers is worse than
        # stopping, and a real GBK file with Chinese text is practically never valid UTF-8.
        raise DataError(
            "FILE_ENCODING",
            f"declared encoding {encoding!r}, but the file is valid UTF-8 with non-ASCII text "
            f"from line {_line_of(raw, first)}: decoding it as {encoding!r} would give "
            "garbled text (mojibake). Remove `encoding:` from study.yaml to detect it, or "
            "declare utf-8", file=file, row=_line_of(raw, first))
    if enc in LEGACY_CJK:
        _refuse_mixed(raw, file)
    text = raw.decode(enc)
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text, enc, False, issues)

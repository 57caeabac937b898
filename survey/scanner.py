"""Search an output folder for raw personal values, raw respondent ids and the key.

:func:`scan_folder` opens every file under a folder, extracts all the text a
person or a program could recover from it, and looks for the values held in a
:class:`survey.privacy.SensitiveValues`. It reports *where* (file) and *what kind*
(``pii:姓名``, ``raw_id``, ``key``) it found, never the value itself.

What is read, by format
-----------------------
* Text (``csv tsv json ipynb html htm svg md txt xml yaml yml log tex js css``, and
  any file that decodes as strict UTF-8): decoded as UTF-8 (BOM allowed), else
  UTF-16 (with a BOM), else GB18030. Embedded files are taken out first: every
  ``data:...;base64,`` URI, and every other run of 64 or more base64 characters
  that decodes to a file (notebook ``image/png`` outputs, fonts, SVG icons) are
  decoded and scanned as the file they are, and their base64 text is not searched
  (its letters and digits are no text: ``/61617+`` in an encoded image is not an id).
  The rest is searched, and also with HTML/XML entities unescaped (``&#x5f20;``),
  JSON/JS escapes decoded (``\\u5f20``) and URL escapes decoded (``%E5%BC%A0``).
  JSON (``.json``, ``.ipynb``) is also parsed and every key and string walked.
* Parquet: every value of every column (pyarrow), column names, the file and
  schema key-value metadata (e.g. the ``pandas`` metadata) and field metadata.
* SPSS ``.sav``/``.zsav``/``.por`` and Stata ``.dta``: every value, variable
  names and labels, value labels, file label and notes (pyreadstat), plus the raw
  bytes.
* ZIP containers (``.xlsx``, ``.docx``, ``.zip``...): every member, recursively
  (the XML of a workbook: shared strings, sheets, document properties).
* PNG: ``tEXt``, ``zTXt`` and ``iTXt`` chunks (decompressed), the ICC profile,
  every other ancillary chunk that may hold text (not the image data, nor chunks
  that hold only numbers such as ``pHYs``), and any bytes after ``IEND``.
* JPEG: application segments (EXIF, XMP, ICC) and comments, and any bytes after the
  end of the image; not the compressed image data.
* gzip (``.gz``): the decompressed content, as the file it is.
* Any other binary: its raw bytes decoded as UTF-8 and as GB18030 (undecodable
  bytes separate the pieces). Web fonts embedded in a report (``data:font/woff2``)
  are not searched: their compressed glyph outlines hold no text.
* File and folder names themselves. A name that holds a value is shown as
  ``[name redacted: holds personal data]`` in findings and notes (list the folder
  to find it): the scanner never prints a value, even as a file name.

Matching rule
-------------
Text and values go through the same normalization: Unicode NFKC (full-width
``１００１`` is ``1001``), lower case (``ZHANG Wei`` matches ``Zhang Wei``), zero-width
characters removed, an integer written as a decimal (``1001.0``) read as the
integer, and a date written ``2023/1/5`` or ``2023.01.05`` read as ``2023-01-05``.
Both are then cut into units, and a value is found where its units occur one after
the other in the text's units:

* a run of letters and digits of an alphabetic script is one unit, so ids and Latin
  names are matched as whole tokens: id ``1001`` is not found inside ``21001``,
  ``A1001`` or ``p_10013fa``;
* a number is one unit and is never searched inside: a decimal (``0.623120``,
  ``.62312``, ``62312.5``), a number with an exponent (``1e+62312``, ``6.2e-05``), a
  dotted number (``117.136.2.1``) and an ISO date or timestamp
  (``2026-12-03T07:36:01.061617Z``, as papermill writes them). So a statistic or a
  timestamp is never mistaken for an id, while an id in a cell, a sentence, a file
  name or after a letter and a dot (``id.1001``) is found;
* each CJK character is a unit, so Chinese values are found inside Chinese text,
  which has no word boundaries (``王小明`` in ``学生王小明的家长``);
* whitespace and punctuation between units are ignored (at most three characters),
  so ``严 鹏泽``, ``严·鹏泽`` and ``严　鹏泽`` are found for ``严鹏泽``, and
  ``lb 0101 0001`` for ``LB-0101-0001``. A longer gap, or any other character (a
  symbol, the separator between two JSON strings), ends a match.

Phone numbers are compared as digits. A declared personal value is *phone-like*
where it holds a run of digit groups joined by single spaces, dashes, dots,
slashes or brackets with at least 7 digits (:data:`MIN_PHONE_DIGITS`) that is not a
date: ``17100402724``, ``+86 171-0040-2724``, ``(0731) 8888 1234``, or a number inside
a longer value (``我是秦诗家电话17100402724``). Its digits are searched, and so are its
digits without a leading ``86``/``0086`` country code. In the text, every run of digit
groups is read the same way: each group on its own, each chain of 3 or more groups
joined by dots, and the whole run (less a leading country code) when it holds no
decimal number. So ``+8617100402724``, ``171 0040 2724``, ``170.0204.2082`` and
``1710261 7490`` are found; digits inside a longer run of digits (``217100402724``) or
inside a decimal (``0.17100402724``) are not.

Each personal value is also searched in the forms listed in ``_variants``: an IPv4
address inside it (问卷星's ``来自IP`` holds ``address(province-city)``), and a
multi-word Latin name without spaces and, for two words, in the other order. Raw ids
are searched only as they are (no variants, no phone rule).

Values too short to be distinctive are not searched and are counted instead:
raw ids shorter than 4 characters (:data:`MIN_ID_LENGTH`) and personal values
shorter than 2 characters, or shorter than 4 when they are all ASCII
(:data:`MIN_VALUE_LENGTH`, :data:`MIN_ASCII_VALUE_LENGTH`). :meth:`ScanResult.limits`
says so in a sentence for the report and the manifest.

Speed: every lookup takes time proportional to the text (set lookups of units, an
Aho-Corasick automaton over units for values of several units, one pass over digit
runs for phones), whatever the number and length of the values. No regular
expression is built from the values.

Limits (said honestly)
----------------------
Text drawn as pixels in images is not read (no OCR), nor are the compressed image
data of PNG and JPEG (only their text chunks and metadata). A value written in
another form than the raw one (a number in exponent notation, a name
transliterated differently, an id split by spaces) is not found; compressed streams
of unknown formats (PDF) are only searched as raw bytes. Because raw binary bytes
are also decoded as GB18030, a two-character Chinese name can, rarely, appear by
chance in a large unknown binary file: the finding names the file so that a person
can check it. Ignoring punctuation between units means that a Chinese name split
over two adjacent cells of a text table (``严,鹏泽``) is reported.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import unicodedata
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .privacy import KEY_FILE_NAME, SensitiveValues

__all__ = [
    "MIN_ASCII_VALUE_LENGTH",
    "MIN_ID_LENGTH",
    "MIN_PHONE_DIGITS",
    "MIN_VALUE_LENGTH",
    "ScanResult",
    "scan_folder",
    "scan_for_study",
    "scan_limits",
]

#: Raw ids shorter than this are not searched (too short to be distinctive).
MIN_ID_LENGTH = 4
#: Personal values shorter than this are not searched.
MIN_VALUE_LENGTH = 2
#: Personal values made only of ASCII characters shorter than this are not searched.
MIN_ASCII_VALUE_LENGTH = 4

ID_KIND = "raw_id"
#: Shown instead of a file or folder name that holds a personal value or raw id.
REDACTED = "[name redacted: holds personal data]"
KEY_KIND = "key"

TEXT_SUFFIXES = frozenset(
    "csv tsv json ipynb html htm svg md txt xml yaml yml log tex js css rst bib".split())
JSON_SUFFIXES = frozenset({"json", "ipynb", "geojson"})
PARQUET_SUFFIXES = frozenset({"parquet", "pq"})
STAT_SUFFIXES = frozenset({"sav", "zsav", "por", "dta"})

_MAX_DEPTH = 4  # nested containers (zip in zip, png in ipynb in zip)
_SEP = "\x00"
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_XESC_RE = re.compile(r"\\x([0-9a-fA-F]{2})")
_DATA_URI_RE = re.compile(r"data:([a-z0-9.+/-]+)(?:;[a-z0-9_.=-]+)*;base64,([A-Za-z0-9+/=\s]+)",
                          re.IGNORECASE)
#: A run of base64 that may be an embedded file (JSON may break its lines with ``\n``).
_B64_RUN_RE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{64,}"
                         r"(?:(?:\\n|\\r|\r?\n)[A-Za-z0-9+/]{4,})*={0,2}")
_B64_FULL_RE = re.compile(r"[A-Za-z0-9+/\s]{16,}={0,2}\s*")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_JPEG_SIG = b"\xff\xd8\xff"
#: Signatures of files that are embedded as base64 (images, fonts, documents).
_BLOB_SIGS = (_PNG_SIG, _JPEG_SIG, b"GIF87a", b"GIF89a", b"RIFF", b"%PDF-", b"PK\x03\x04",
              b"II*\x00", b"MM\x00*", b"wOFF", b"wOF2", b"OTTO", b"\x00\x01\x00\x00",
              b"\x00\x00\x01\x00", b"\x1f\x8b")
#: Web fonts (WOFF, WOFF2, OpenType, TrueType) embedded in a report: not searched.
_FONT_SIGS = (b"wOFF", b"wOF2", b"OTTO", b"\x00\x01\x00\x00")
_MAX_GUNZIP = 256 * 2**20
#: PNG chunks that hold only numbers (and image data): never text.
_PNG_NUMERIC = frozenset({b"IHDR", b"PLTE", b"IDAT", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                          b"pHYs", b"sBIT", b"bKGD", b"hIST", b"tIME", b"acTL", b"fcTL",
                          b"fdAT", b"cICP", b"mDCv", b"cLLi", b"oFFs", b"sCAL", b"pCAL"})


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


# ---------------------------------------------------------------------- matcher
#
# Text and values go through the same steps, so that a value written in the output
# exactly as it was declared is always found:
#
# 1. ``_norm``: NFKC, lower case, zero-width characters removed.
# 2. ``_units``: the text becomes a list of units. A unit is a run of letters and
#    digits of an alphabetic script (``zhang``, ``1001``, ``p9f2c``), a number that
#    must not be split (``0.623120``, ``.62312``, ``1e+62312``, ``117.136.2.1``, an ISO
#    date or timestamp), one CJK character, or one other character that is neither
#    a letter, a digit, whitespace nor punctuation (``\x00`` between JSON strings, a
#    symbol). Runs of at most three whitespace or punctuation characters are skipped;
#    a longer run is a unit of its own, which no value holds.
# 3. ``_canonical``: one spelling per number (``1001.0`` is ``1001``, ``2023/1/5`` is
#    ``2023-01-05``).
#
# A value is found when its units occur consecutively in the text's units. Whole
# tokens for letters and digits, substrings for CJK, and "whitespace and punctuation
# removed" all follow from this one rule. Phones are compared as digits on top of it.

#: Zero-width and direction marks: removed (``1001`` with a zero-width space inside).
_INVISIBLE_RE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
#: CJK scripts write no spaces between words: each character is a unit of its own.
_CJK = ("\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303c\u3040-\u30fa\u30fc-\u30ff"
        "\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
        "\U00020000-\U0003ffff")
#: Whitespace and punctuation: at most three of them between two units are ignored.
_SOFT = frozenset(" \t\n\r\f\v\x1c\x1d\x1e\x1f\x85\u2028\u2029"
                  "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
                  "\u00a1\u00a7\u00ab\u00b6\u00b7\u00bb\u00bf\u2010\u2011\u2012\u2013\u2014"
                  "\u2015\u2016\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026"
                  "\u2027\u2030\u2032\u2033\u2039\u203a\u3001\u3002\u3003\u3008\u3009\u300a"
                  "\u300b\u300c\u300d\u300e\u300f\u3010\u3011\u3014\u3015\u3016\u3017\u301c"
                  "\u301d\u301e\u30fb\uff5e\uff64")
_MAX_SOFT = 3
_SOFT_CLASS = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(_SOFT - {"."}))
_SOFT_CHAR = rf"(?:[{_SOFT_CLASS}]|\.(?![0-9]))"  # a dot before a digit belongs to a number
_UNIT_RE = re.compile(
    "("
    # letters and digits starting with a Latin letter, and one CJK character (the most
    # common units, tried first)
    rf"[a-z][^\W_{_CJK}]*"
    rf"|[{_CJK}]"
    # an ISO date, with an optional time (papermill and nbclient timestamps); also
    # 2023/1/5 and 2023.01.05 (made 2023-01-05 by _canonical)
    r"|(?:19|20)[0-9]{2}(?:-[0-9]{1,2}-|/[0-9]{1,2}/|\.[0-9]{1,2}\.)[0-9]{1,2}(?![0-9])"
    r"(?:t[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:z|[+-][0-9]{2}:?[0-9]{2})?(?![0-9]))?"
    # a decimal or dotted number, with an optional exponent: 0.623120, 6.2e-05, 117.136.2.1
    r"|[0-9]+(?:\.[0-9]+)+(?:e[+-]?[0-9]+)?"
    # an integer with a signed exponent: 1e+62312
    r"|[0-9]+e[+-][0-9]+"
    # a decimal without its leading zero (.62312), unless it follows a letter (lb.1001);
    # after a digit it is always a fraction, even in a letter run (SVG path data L8.14002)
    r"|\.(?:(?<=[0-9]\.)|(?<![^\W_]\.))[0-9]+(?:e[+-]?[0-9]+)?"
    # letters and digits of any alphabetic script
    rf"|[^\W_{_CJK}]+"
    # more than three whitespace or punctuation characters: a gap that ends a match
    rf"|{_SOFT_CHAR}{{{_MAX_SOFT + 1},}}"
    # anything else (a symbol, the separator between JSON strings), one at a time
    rf"|[^{_SOFT_CLASS}.]"
    ")"
    # up to three whitespace or punctuation characters after a unit are skipped with it
    # (findall returns the unit only); elsewhere findall skips them
    rf"(?:{_SOFT_CHAR}{{1,{_MAX_SOFT}}}(?!{_SOFT_CHAR}))?",
)
_FLOAT_INT_RE = re.compile(r"([0-9]+)\.0+")
_DATE_UNIT_RE = re.compile(r"((?:19|20)[0-9]{2})[\-/.]([0-9]{1,2})[\-/.]([0-9]{1,2})(.*)")


def _norm(text: str) -> str:
    """NFKC, lower case, and no zero-width characters."""
    low = unicodedata.normalize("NFKC", text).lower()
    if _INVISIBLE_RE.search(low):
        low = _INVISIBLE_RE.sub("", low)
    return low


def _canonical(unit: str) -> str:
    """One spelling per number: ``1001.0`` is ``1001``, ``2023/1/5`` is ``2023-01-05``."""
    m = _FLOAT_INT_RE.fullmatch(unit)
    if m:
        return m.group(1)
    m = _DATE_UNIT_RE.fullmatch(unit)
    if m:
        return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}{m.group(4)}"
    return unit


def _units(low: str) -> tuple[list[str], dict[str, str]]:
    """The units of a normalized text (see the comment above), and the canonical
    spelling of those numbers that have another one (``{"1001.0": "1001"}``)."""
    units = _UNIT_RE.findall(low)
    fix = {}
    for u in set(units):
        if "." in u or "/" in u or "-" in u:
            c = _canonical(u)
            if c != u:
                fix[u] = c
    return units, fix


# A phone number is compared as digits only. A declared personal value is phone-like
# where it holds a run of digit groups joined by spaces, dashes, dots, slashes or
# brackets (an optional leading +) with at least 7 digits in all, that is not a date;
# its digits, and its digits without a leading 86 or 0086 country code, are searched.
MIN_PHONE_DIGITS = 7
_PHONE_RUN_RE = re.compile(rf"(?<![0-9])(?=[0-9][0-9 \-./()+]{{{MIN_PHONE_DIGITS - 1}}})"
                           r"[0-9]+(?:(?:[\-./()+][\-./()+ ]?| [\-./()+]?)[0-9]+)*")
_NOT_DIGITS_RE = re.compile(r"[^0-9]+")
# in a run: a group that is not part of a dotted number, a chain of 3+ dotted groups,
# a decimal number (two groups and one dot)
_LONG_GROUP_RE = re.compile(rf"(?<![0-9])(?<![0-9]\.)[0-9]{{{MIN_PHONE_DIGITS},}}(?![0-9])(?!\.[0-9])")
_DOT_CHAIN_RE = re.compile(r"(?<![0-9])(?<![0-9]\.)[0-9]+(?:\.[0-9]+){2,}(?![0-9])(?!\.[0-9])")
_LONE_DECIMAL_RE = re.compile(r"(?<![0-9])(?<![0-9]\.)[0-9]+\.[0-9]+(?![0-9])(?!\.[0-9])")
_DATE_LIKE_RE = re.compile(r"(?:19|20)[0-9]{2}[\-./][0-9]{1,2}[\-./][0-9]{1,2}")


def _phone_candidates(run: str, max_digits: int | None = None) -> list[str]:
    """Digit strings that a run of digit groups may be a phone number as.

    Each group alone (a maximal run of digits) of at least :data:`MIN_PHONE_DIGITS`
    digits, each chain of three or more groups joined by dots (``170.0204.2082``), and
    the whole run when it holds no decimal number (``+86 171 0040 2724``,
    ``1710261 7490``). A decimal (two groups joined by one dot, ``0.17100402724``) is
    never a candidate, nor are its groups. Candidates longer than ``max_digits`` are
    left out (they cannot match), which keeps long runs cheap.
    """
    out = _LONG_GROUP_RE.findall(run)
    limit = len(run) if max_digits is None else max_digits
    if "." in run:
        out += [d for d in (c.replace(".", "") for c in _DOT_CHAIN_RE.findall(run))
                if len(d) <= limit]
    if len(run) <= 3 * limit and not ("." in run and _LONE_DECIMAL_RE.search(run)):
        whole = _NOT_DIGITS_RE.sub("", run)
        if len(whole) >= MIN_PHONE_DIGITS:
            out.append(whole)
    return [d for d in dict.fromkeys(out) if len(d) <= limit]


def _phone_cores(low: str) -> set[str]:
    """The digits of every phone-like run in a normalized declared value."""
    cores: set[str] = set()
    for run in _PHONE_RUN_RE.findall(low):
        if _DATE_LIKE_RE.fullmatch(run):
            continue
        for digits in _phone_candidates(run):
            cores.add(digits)
            for cc in ("0086", "86"):
                if digits.startswith(cc) and len(digits) - len(cc) >= MIN_PHONE_DIGITS:
                    cores.add(digits[len(cc):])
                    break
    return cores


_IPV4_RE = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])")
_LATIN_WORDS_RE = re.compile(r"[a-z]+(?:[ \-'][a-z]+){1,3}")


def _variants(v: str) -> list[str]:
    """Other forms in which a personal value is commonly written (``v`` normalized).

    * an IPv4 address inside a value (问卷星 writes ``117.136.2.1(湖南-长沙)``);
    * a Latin name of several words also without spaces (``zhangwei``) and, for
      two words, in the other order (``wei zhang``).

    Phone numbers are searched as digits (:func:`_phone_cores`), and whitespace and
    punctuation inside a value are ignored by the unit rule, so neither needs a form.
    """
    out = [v]
    if "." in v:
        out += _IPV4_RE.findall(v)
    if v.isascii() and _LATIN_WORDS_RE.fullmatch(v):
        words = re.split(r"[ \-']", v)
        out.append("".join(words))
        if len(words) == 2:
            out.append(f"{words[1]} {words[0]}")
    return list(dict.fromkeys(out))


class _Automaton:
    """Aho-Corasick over units: every occurrence of many unit sequences in O(text).

    Compact, for studies with very many values: units are numbered, and the
    transitions of all nodes are one dict keyed by ``node << 32 | unit number``.
    """

    def __init__(self):
        self.uid: dict[str, int] = {}  # unit -> number (1, 2, ...)
        self.goto: dict[int, int] = {}
        self.parent = array("l", [0])
        self.via = array("l", [0])
        self.levels: list[list[int]] = [[0]]  # nodes by depth, for the breadth-first build
        self.fail = array("l")
        self.out: dict[int, frozenset] = {}

    def add(self, units: tuple[str, ...], kinds: frozenset) -> None:
        uid, goto, levels = self.uid, self.goto, self.levels
        node = 0
        for depth, u in enumerate(units, 1):
            n = uid.get(u)
            if n is None:
                n = uid[u] = len(uid) + 1
            key = node << 32 | n
            nxt = goto.get(key)
            if nxt is None:
                nxt = goto[key] = len(self.parent)
                self.parent.append(node)
                self.via.append(n)
                if depth == len(levels):
                    levels.append([])
                levels[depth].append(nxt)
            node = nxt
        self.out[node] = self.out.get(node, frozenset()) | kinds

    def build(self) -> None:
        goto, parent, via, out = self.goto, self.parent, self.via, self.out
        fail = self.fail = array("l", bytes(len(parent) * array("l").itemsize))
        for level in self.levels[2:]:  # depth 1 fails to the root; deeper ones in order
            for child in level:
                n = via[child]
                f = fail[parent[child]]
                while True:
                    t = goto.get(f << 32 | n)
                    if t is not None or not f:
                        break
                    f = fail[f]
                fail[child] = t or 0
                if t and t in out:
                    out[child] = out.get(child, frozenset()) | out[t]
        self.levels = []

    def search(self, units: list[str]) -> set[str]:
        uid, goto, fail, out = self.uid, self.goto, self.fail, self.out
        found: set[str] = set()
        state = 0
        for u in units:
            n = uid.get(u)
            if n is None:
                state = 0
                continue
            while True:
                nxt = goto.get(state << 32 | n)
                if nxt is not None:
                    state = nxt
                    break
                if not state:
                    break
                state = fail[state]
            if state in out:
                found |= out[state]
        return found


class _Matcher:
    """Finds which kinds of sensitive values occur in a text (values kept private).

    Three lookups, all with the module's matching rule:

    * values of one unit (most ids, Latin names of one word, the key): a set
      lookup of the text's units;
    * values of several units (Chinese names and addresses, ``lb-0101-0001``,
      ``zhang wei``): an Aho-Corasick automaton over the text's units;
    * phone-like personal values: the digit runs of the text, as digits.

    All three take time proportional to the text, whatever the number and the
    length of the values.
    """

    def __init__(self, sensitive: SensitiveValues, key_hex: str | None):
        self.skipped_ids = 0
        self.skipped_values = 0
        single: dict[str, set[str]] = {}
        multi: dict[tuple[str, ...], set[str]] = {}
        phones: dict[str, set[str]] = {}
        for kind, values in sensitive.kinds.items():
            for raw in values:
                v = " ".join(_norm(raw).split())
                if kind == ID_KIND:
                    if len(v) < MIN_ID_LENGTH:
                        self.skipped_ids += 1
                        continue
                elif len(v) < MIN_VALUE_LENGTH or (v.isascii() and len(v) < MIN_ASCII_VALUE_LENGTH):
                    self.skipped_values += 1
                    continue
                forms = [v] if kind == ID_KIND else _variants(v)
                searched = False
                for form in forms:
                    units, fix = _units(form)
                    units = tuple(fix.get(u, u) for u in units if u[-1] not in _SOFT)
                    if not units:
                        continue
                    searched = True
                    if len(units) == 1:
                        single.setdefault(units[0], set()).add(kind)
                    else:
                        multi.setdefault(units, set()).add(kind)
                if kind != ID_KIND:
                    for core in _phone_cores(v):
                        phones.setdefault(core, set()).add(kind)
                        searched = True
                if not searched:  # only punctuation: nothing to search
                    if kind == ID_KIND:
                        self.skipped_ids += 1
                    else:
                        self.skipped_values += 1
        if key_hex:
            single.setdefault(key_hex.lower(), set()).add(KEY_KIND)
        self.single = single
        self.single_keys = frozenset(single)
        self.phones = phones
        # a candidate may carry a country code (0086) in front of the longest phone
        self.max_phone_digits = max(map(len, phones), default=0) + 4
        self.automaton = _Automaton()
        for units, kinds in multi.items():
            self.automaton.add(units, frozenset(kinds))
        self.automaton.build()
        self.multi = bool(multi)

    @property
    def empty(self) -> bool:
        return not (self.single or self.multi or self.phones)

    def kinds_in(self, text: str) -> set[str]:
        """The kinds of the values found in ``text``."""
        if not text:
            return set()
        low = _norm(text)
        units, fix = _units(low)
        present = set(units)
        if fix:
            present.update(fix.values())
            if self.multi and not self.automaton.uid.keys().isdisjoint(fix.values()):
                units = [fix.get(u, u) for u in units]
        found: set[str] = set()
        for u in self.single_keys.intersection(present):
            found |= self.single[u]
        if self.multi and not self.automaton.uid.keys().isdisjoint(present):
            found |= self.automaton.search(units)
        if self.phones:
            phones, limit = self.phones, self.max_phone_digits
            for run in _PHONE_RUN_RE.findall(low):
                for digits in ((run,) if run.isdigit() else _phone_candidates(run, limit)):
                    hit = phones.get(digits)
                    if hit is None and digits.startswith("86"):
                        hit = phones.get(digits[2:])
                    if hit is None and digits.startswith("0086"):
                        hit = phones.get(digits[4:])
                    if hit:
                        found |= hit
        return found


# ------------------------------------------------------------------- extraction


def _decode_text(data: bytes) -> str | None:
    """Strict UTF-8 (BOM allowed), UTF-16 with BOM, then GB18030; None if none fits."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return None


def _raw_texts(data: bytes) -> list[str]:
    """Raw bytes as UTF-8 and as GB18030, undecodable bytes becoming separators."""
    return [data.decode("utf-8", errors="replace"), data.decode("gb18030", errors="replace")]


_JSON_TOKEN_RE = re.compile(r'("(?:\\.|[^"\\])*")|(?<![\w.])-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.])')


def _blank_json_numbers(text: str) -> str:
    """JSON text with its number values (outside strings) replaced by ``0``.

    Numbers in the JSON the workbench writes are computed values: file sizes, counts,
    seconds, the seed. A five-digit file size equal to a five-digit student number is
    not a leak, while the same digits inside a string still are (ids and personal values
    are always written as strings). Text that is not JSON is returned unchanged by the
    caller's check of the suffix; strings keep every character.

    Examples
    --------
    >>> _blank_json_numbers('{"bytes": 61617, "id": "61617", "s": [1.5e3, -2]}')
    '{"bytes": 0, "id": "61617", "s": [0, 0]}'
    """
    return _JSON_TOKEN_RE.sub(lambda m: m.group(1) or "0", text)


def _scalar_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


class _Extractor:
    """Turns one file's bytes into the texts to search (and nested blobs)."""

    def __init__(self, notes: list[str]):
        self.notes = notes
        self.current = ""  # the file being scanned, as it may be shown (notes name only it)

    def texts(self, name: str, data: bytes, path: Path | None = None, depth: int = 0):
        """Yield every text recoverable from ``data`` (a file named ``name``)."""
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if depth > _MAX_DEPTH:
            yield from _raw_texts(data)
            return
        if data.startswith(_PNG_SIG):
            yield from self._png(name, data, path, depth)
        elif data.startswith(_JPEG_SIG):
            yield from self._jpeg(data)
        elif depth and data.startswith(_FONT_SIGS):
            return  # an embedded web font: compressed glyph outlines, no text to read
        elif data.startswith(b"\x1f\x8b"):
            yield from self._gzip(name, data, depth)
        elif data.startswith(b"PK\x03\x04") or (data.startswith(b"PK") and suffix in
                                                ("xlsx", "docx", "zip", "xlsm", "pptx")):
            yield from self._zip(name, data, depth)
        elif suffix in PARQUET_SUFFIXES or data[:4] == b"PAR1":
            yield from self._parquet(name, data, path)
        elif suffix in STAT_SUFFIXES:
            yield from self._stat(name, data, path, suffix)
        else:
            text = _decode_text(data) if (suffix in TEXT_SUFFIXES or b"\x00" not in data[:4096]) \
                else None
            if text is None:
                yield from _raw_texts(data)
            else:
                yield from self._text(name, text, suffix, depth)

    # text ---------------------------------------------------------------------
    def _text(self, name: str, text: str, suffix: str, depth: int):
        blobs: list[tuple[str, bytes]] = []
        text = self._cut_base64(text, blobs)
        if suffix in JSON_SUFFIXES:
            text = _blank_json_numbers(text)
        yield text
        variants = []  # other readings of the text, searched when they differ from it
        if "&" in text:
            variants.append(html.unescape(text))
        if "\\u" in text or "\\x" in text:
            dec = _UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
            dec = _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), dec)
            variants.append(dec)
            if "&" in dec:
                variants.append(html.unescape(dec))
        if "%" in text:
            variants.append(unquote(text, errors="replace"))
        for v in dict.fromkeys(variants):
            if v != text:
                yield v
        if suffix in JSON_SUFFIXES or (suffix == "" and text.lstrip()[:1] in ("{", "[")):
            try:
                obj = json.loads(text)
            except ValueError:
                if suffix in JSON_SUFFIXES:
                    self.notes.append(f"{self.current}: not valid JSON; searched as text")
            else:
                yield from self._json(name, obj, depth)
        for label, blob in blobs:
            yield from self.texts(f"{name}#{label}", blob, depth=depth + 1)

    def _cut_base64(self, text: str, blobs: list) -> str:
        """Take embedded files out of ``text``: they are scanned as what they are.

        A ``data:...;base64,`` URI is always decoded, and a bare run of at least 64
        base64 characters is decoded when it is a file (:data:`_BLOB_SIGS`: PNG, JPEG,
        GIF, WebP, PDF, ZIP, fonts, gzip; or SVG/XML). Either is replaced by a space
        in the text, so that the characters of the encoding (``/61617+``) are never
        searched as if they were text; the decoded file is searched instead (the text
        and metadata of an image, not its pixels). Any other base64-like run stays in
        the text and is searched as text.
        """
        def uri(m: re.Match) -> str:
            blob = _b64(m.group(2))
            if blob is None:
                return m.group(0)
            blobs.append((f"data.{m.group(1).split('/')[-1].lower()}", blob))
            return " "

        text = _DATA_URI_RE.sub(uri, text)

        def run(m: re.Match) -> str:
            blob = _embedded_file(m.group(0))
            if blob is None:
                return m.group(0)
            blobs.append(("embedded", blob))
            return " "

        return _B64_RUN_RE.sub(run, text)

    def _json(self, name: str, obj, depth: int):
        strings: list[str] = []
        stack = [obj]
        while stack:
            o = stack.pop()
            if isinstance(o, dict):
                for k, v in o.items():
                    strings.append(k)
                    stack.append(v)
            elif isinstance(o, list):
                stack.extend(o)
            elif isinstance(o, str):
                if len(o) >= 16:
                    blob = _embedded_file(o) if _B64_FULL_RE.fullmatch(o) else None
                    if blob is not None:
                        yield from self.texts(f"{name}#embedded", blob, depth=depth + 1)
                        continue
                strings.append(o)
            # numbers (file sizes, counts, seconds, the seed) are computed values: the
            # workbench writes every id and personal value into JSON as a string
        yield _SEP.join(strings)

    # png ----------------------------------------------------------------------
    def _png(self, name: str, data: bytes, path, depth: int):
        """Text chunks (``tEXt``, ``zTXt``, ``iTXt``, decompressed), the ICC profile's
        name and data, other ancillary chunks as raw bytes, and bytes after ``IEND``.
        Image data and chunks that hold only numbers (:data:`_PNG_NUMERIC`) are not
        read: pixels hold no text that the scanner could read."""
        pos = len(_PNG_SIG)
        pieces: list[str] = []
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos:pos + 4], "big")
            ctype = data[pos + 4:pos + 8]
            body = data[pos + 8:pos + 8 + length]
            pos += 12 + length
            if ctype == b"IEND":
                break
            if ctype in _PNG_NUMERIC:
                continue
            try:
                if ctype == b"tEXt":
                    key, _, val = body.partition(b"\x00")
                    pieces += [key.decode("latin-1"), val.decode("latin-1"),
                               val.decode("utf-8", errors="replace")]
                    continue
                if ctype == b"zTXt":
                    key, _, rest = body.partition(b"\x00")
                    val = zlib.decompress(rest[1:])
                    pieces += [key.decode("latin-1"), val.decode("latin-1"),
                               val.decode("utf-8", errors="replace")]
                    continue
                if ctype == b"iTXt":
                    key, _, rest = body.partition(b"\x00")
                    compressed, rest = rest[0], rest[2:]
                    lang, _, rest = rest.partition(b"\x00")
                    translated, _, val = rest.partition(b"\x00")
                    if compressed:
                        val = zlib.decompress(val)
                    pieces += [key.decode("latin-1"), lang.decode("latin-1", errors="replace"),
                               translated.decode("utf-8", errors="replace"),
                               val.decode("utf-8", errors="replace")]
                    continue
                if ctype == b"iCCP":
                    key, _, rest = body.partition(b"\x00")
                    pieces.append(key.decode("latin-1"))
                    pieces.extend(_raw_texts(zlib.decompress(rest[1:])))
                    continue
            except (zlib.error, IndexError):
                self.notes.append(f"{self.current}: a damaged PNG text chunk; searched its raw bytes")
            pieces.extend(_raw_texts(body))
        yield _SEP.join(pieces)
        if pos < len(data):  # bytes after IEND (or a truncated file)
            yield from _raw_texts(data[pos:])

    # jpeg ---------------------------------------------------------------------
    def _jpeg(self, data: bytes):
        """Application segments (EXIF, XMP, ICC) and comments as raw bytes, and bytes
        after the end of the image; not the compressed image data."""
        pieces: list[str] = []
        pos, n = 2, len(data)
        while pos + 2 <= n:
            if data[pos] != 0xFF:
                self.notes.append(f"{self.current}: a damaged JPEG; the rest was searched as "
                                  "raw bytes")
                break
            marker = data[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker == 0xD9:  # end of image
                pos += 2
                break
            if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
                pos += 2
                continue
            length = int.from_bytes(data[pos + 2:pos + 4], "big")
            if 0xE0 <= marker <= 0xEF or marker == 0xFE:
                pieces.extend(_raw_texts(data[pos + 4:pos + 2 + length]))
            pos += 2 + length
            if marker == 0xDA:  # compressed image data up to the next marker
                while True:
                    pos = data.find(b"\xff", pos)
                    if pos < 0 or pos + 1 >= n:
                        pos = n
                        break
                    nxt = data[pos + 1]
                    if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                        pos += 2
                        continue
                    break
        yield _SEP.join(pieces)
        if pos < n:
            yield from _raw_texts(data[pos:])

    # gzip ---------------------------------------------------------------------
    def _gzip(self, name: str, data: bytes, depth: int):
        """The decompressed content, scanned as a file (at most 256 MB of it)."""
        try:
            d = zlib.decompressobj(wbits=47)
            content = d.decompress(data, _MAX_GUNZIP)
        except zlib.error:
            self.notes.append(f"{self.current}: not a readable gzip stream; searched its raw bytes")
            yield from _raw_texts(data)
            return
        if d.unconsumed_tail:
            self.notes.append(f"{self.current}: a gzip stream larger than 256 MB; only its first "
                              "256 MB were searched")
        inner = name[:-3] if name.lower().endswith(".gz") else f"{name}#gunzip"
        yield from self.texts(inner, content, depth=depth + 1)

    # zip ----------------------------------------------------------------------
    def _zip(self, name: str, data: bytes, depth: int):
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            self.notes.append(f"{self.current}: not a readable ZIP/XLSX; searched its raw bytes")
            yield from _raw_texts(data)
            return
        for info in infos:
            yield info.filename
            if info.is_dir():
                continue
            try:
                member = zf.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
                self.notes.append(f"{self.current}: a member of the archive is unreadable "
                                  "(encrypted or damaged); not searched")
                continue
            yield from self.texts(f"{name}/{info.filename}", member, depth=depth + 1)

    # parquet ------------------------------------------------------------------
    def _parquet(self, name: str, data: bytes, path):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(pa.BufferReader(data))
            table = pf.read()
        except Exception:  # noqa: BLE001 - any failure: fall back to raw bytes
            self.notes.append(f"{self.current}: not a readable Parquet file; searched its raw bytes")
            yield from _raw_texts(data)
            return
        pieces: list[str] = []
        meta = pf.metadata
        for md in (meta.metadata or {}, table.schema.metadata or {}):
            for k, v in md.items():
                pieces += [k.decode("utf-8", errors="replace"), v.decode("utf-8", errors="replace")]
        if meta.created_by:
            pieces.append(meta.created_by)
        for fld in table.schema:
            pieces.append(fld.name)
            for k, v in (fld.metadata or {}).items():
                pieces += [k.decode("utf-8", errors="replace"), v.decode("utf-8", errors="replace")]
        yield _SEP.join(pieces)
        for col in table.columns:
            arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary
            try:
                values = pc.unique(arr).to_pylist()
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                values = arr.to_pylist()
            yield _SEP.join(_scalar_text(v) for v in values if v is not None)

    # sav / dta ------------------------------------------------------------------
    def _stat(self, name: str, data: bytes, path, suffix: str):
        import tempfile

        import pyreadstat

        reader = {"sav": pyreadstat.read_sav, "zsav": pyreadstat.read_sav,
                  "por": pyreadstat.read_por, "dta": pyreadstat.read_dta}[suffix]
        tmp = None
        try:
            if path is None:
                with tempfile.NamedTemporaryFile(suffix="." + suffix, delete=False) as fh:
                    fh.write(data)
                    tmp = Path(fh.name)
            df, meta = reader(str(path or tmp), apply_value_formats=False)
        except Exception:  # noqa: BLE001 - pyreadstat raises several types
            self.notes.append(f"{self.current}: not readable as .{suffix}; searched its raw bytes")
            df = meta = None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        if meta is not None:
            pieces = list(map(str, meta.column_names))
            pieces += [str(x) for x in (meta.column_labels or []) if x]
            for labels in list((meta.value_labels or {}).values()) + \
                    list((meta.variable_value_labels or {}).values()):
                for k, v in labels.items():
                    pieces += [_scalar_text(k), str(v)]
            pieces += [str(x) for x in (meta.file_label, getattr(meta, "notes", None)) if x]
            yield _SEP.join(pieces)
            for col in df.columns:
                yield _SEP.join(_scalar_text(v) for v in df[col].dropna().unique().tolist())
        yield from _raw_texts(data)


def _b64(text: str) -> bytes | None:
    text = re.sub(r"\\[nr]|\s", "", text)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
    except ValueError:
        return None


def _embedded_file(text: str) -> bytes | None:
    """The file encoded by a base64 run, or None when it does not decode to one."""
    head = _b64(text[:96])
    if head is None:
        return None
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (head.startswith(_BLOB_SIGS) or stripped[:4] in (b"<svg", b"<?xm")):
        return None
    return _b64(text)


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
    matcher = _Matcher(sensitive, None)
    return ScanResult(folder="", skipped_short_ids=matcher.skipped_ids,
                      skipped_short_values=matcher.skipped_values)


def scan_folder(folder: Path | str, sensitive: SensitiveValues, *,
                key_file: Path | str | None = None) -> ScanResult:
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
        from core.errors import DataError

        raise DataError("SCAN_FOLDER_MISSING", "the folder to scan does not exist", file=str(root))
    key_hex = key_bytes = key_path = None
    if key_file is not None:
        key_path = Path(key_file)
        try:
            key_text = key_path.read_bytes().decode("ascii", errors="replace").strip()
        except OSError:
            key_text = ""
        if re.fullmatch(r"[0-9a-fA-F]{32,}", key_text):
            key_hex = key_text.lower()
            key_bytes = bytes.fromhex(key_hex) if len(key_hex) % 2 == 0 else None
    matcher = _Matcher(sensitive, key_hex)
    result = ScanResult(folder=str(root), skipped_short_ids=matcher.skipped_ids,
                        skipped_short_values=matcher.skipped_values)
    extractor = _Extractor(result.notes)
    findings: set[tuple[str, str]] = set()
    key_resolved = key_path.resolve() if key_path is not None and key_path.exists() else None
    for path, rel in _iter_files(root):
        # a file or folder name can itself hold a value: report it, and never show it
        parts = []
        for part in rel.parts:
            hits = matcher.kinds_in(part)
            parts.append(REDACTED if hits else part)
            for kind in hits:
                findings.add(("/".join(parts), kind))
        rel_s = "/".join(parts)
        extractor.current = rel_s
        if path.is_dir():
            continue
        if not path.is_file():
            continue
        result.files_scanned += 1
        if path.name == KEY_FILE_NAME or (key_resolved is not None
                                          and path.resolve() == key_resolved):
            findings.add((rel_s, KEY_KIND))
        try:
            data = path.read_bytes()
        except OSError as err:
            result.notes.append(f"{rel_s}: could not be read ({err.strerror}); not searched")
            continue
        if key_bytes is not None and key_bytes in data:
            findings.add((rel_s, KEY_KIND))
        if matcher.empty:
            continue
        for text in extractor.texts(rel_s, data, path):
            for kind in matcher.kinds_in(text):
                findings.add((rel_s, kind))
    result.findings = sorted(findings)
    return result


def scan_for_study(folder: Path | str, study) -> ScanResult:
    """Scan ``folder`` for the raw personal values and ids of ``study``.

    Re-reads the study's raw data (:func:`survey.ingest.read_study_data`) to
    collect its :class:`~survey.privacy.SensitiveValues`, and looks for the study's
    key file too. This is what ``workbench scan`` and the end of ``workbench run`` do.
    """
    from .ingest import read_study_data  # lazy: ingestion is heavier

    sensitive = read_study_data(study).sensitive
    return scan_folder(folder, sensitive, key_file=Path(study.root) / KEY_FILE_NAME)

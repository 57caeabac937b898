"""Search an output folder for raw personal values, raw respondent ids and the key.

:func:`scan_folder` opens every file under a folder, extracts all the text a
person or a program could recover from it, and looks for the values held in a
:class:`survey.privacy.SensitiveValues`. It reports *where* (file) and *what kind*
(``pii:姓名``, ``raw_id``, ``key``) it found, never the value itself.

What is read, by format
-----------------------
* Text (``csv tsv json ipynb html htm svg md txt xml yaml yml log tex js css``, and
  any file that decodes as strict UTF-8): decoded as UTF-8 (BOM allowed), else
  UTF-16 (with a BOM), else GB18030. The raw text is searched, and also the text
  with HTML/XML entities unescaped (``&#x5f20;``), JSON/JS escapes decoded
  (``\\u5f20``) and URL escapes decoded (``%E5%BC%A0``). JSON (``.json``, ``.ipynb``)
  is also parsed and every key and string walked. Base64 images embedded in JSON
  (notebook ``image/png`` outputs) or as ``data:`` URIs in HTML/SVG are decoded
  and scanned as the image they are.
* Parquet: every value of every column (pyarrow), column names, the file and
  schema key-value metadata (e.g. the ``pandas`` metadata) and field metadata.
* SPSS ``.sav``/``.zsav``/``.por`` and Stata ``.dta``: every value, variable
  names and labels, value labels, file label and notes (pyreadstat), plus the raw
  bytes.
* ZIP containers (``.xlsx``, ``.docx``, ``.zip``...): every member, recursively
  (the XML of a workbook: shared strings, sheets, document properties).
* PNG: ``tEXt``, ``zTXt`` and ``iTXt`` chunks (decompressed), every other
  ancillary chunk except image data, and any bytes after ``IEND``.
* Any other binary: its raw bytes decoded as UTF-8 and as GB18030 (undecodable
  bytes separate the pieces).
* File and folder names themselves. A name that holds a value is shown as
  ``[name redacted: holds personal data]`` in findings and notes (list the folder
  to find it): the scanner never prints a value, even as a file name.

Matching rule
-------------
Text and values are compared in lower case (``ZHANG Wei`` matches ``Zhang Wei``)
and in Unicode NFKC form. A value whose first (last) character is an ASCII letter
or digit must not be preceded (followed) by another ASCII letter or digit: ids and
Latin names are matched as whole tokens, so id ``1001`` is not found inside
``21001`` or ``A1001``. A value starting (ending) with a digit is also not matched
right after ``digit.`` (``0.1001``) or before a non-zero decimal fraction
(``1001.5``), so decimals in statistical tables are not mistaken for ids; an id
written as a float (``1001.0``) is still found. Chinese characters have no word
boundaries, so Chinese values are matched as substrings.

Each personal value is also searched in the forms listed in ``_variants``: an
IPv4 address inside it (问卷星's ``来自IP`` holds ``address(province-city)``), a phone
number without separators (and a Chinese mobile number as ``139-1234-5678`` and
``139 1234 5678``), a multi-word Latin name without spaces and, for two words, in
the other order.

Values too short to be distinctive are not searched and are counted instead:
raw ids shorter than 4 characters (:data:`MIN_ID_LENGTH`) and personal values
shorter than 2 characters, or shorter than 4 when they are all ASCII
(:data:`MIN_VALUE_LENGTH`, :data:`MIN_ASCII_VALUE_LENGTH`).

Limits (said honestly)
----------------------
Text drawn as pixels in images is not read (no OCR); a value written in another
form than the raw one (a phone number split by dashes, a number in exponent
notation, a name transliterated differently) is not found; compressed streams of
unknown formats (PDF) are only searched as raw bytes. Because raw binary bytes are
also decoded as GB18030, a two-character Chinese name can, rarely, appear by
chance in a large unknown binary file: the finding names the file so that a person
can check it. A value that is a prefix of a longer value of another kind may hide
that kind in the same file (the file is still reported).
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .privacy import KEY_FILE_NAME, SensitiveValues

__all__ = [
    "MIN_ASCII_VALUE_LENGTH",
    "MIN_ID_LENGTH",
    "MIN_VALUE_LENGTH",
    "ScanResult",
    "scan_folder",
    "scan_for_study",
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
_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)+|[a-z0-9]+")
_FLOAT_INT_RE = re.compile(r"^([0-9]+)\.0+$")
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_XESC_RE = re.compile(r"\\x([0-9a-fA-F]{2})")
_DATA_URI_RE = re.compile(r"data:([a-z0-9.+/-]+);base64,([A-Za-z0-9+/=\s]+)", re.IGNORECASE)
_PNG_SIG = b"\x89PNG\r\n\x1a\n"


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
        Raw ids not searched because they are shorter than :data:`MIN_ID_LENGTH`.
    skipped_short_values : int
        Personal values not searched because they are too short.
    notes : list of str
        Files that could not be parsed as their format says (their raw bytes were
        searched instead), and similar remarks. Never a value.
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

    def files(self) -> list[str]:
        """Files with at least one finding."""
        return sorted({f for f, _ in self.findings})

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
        if self.skipped_short_ids:
            lines.append(f"note: {self.skipped_short_ids} raw ids shorter than {MIN_ID_LENGTH} "
                         "characters were not searched (too short to be distinctive)")
        if self.skipped_short_values:
            lines.append(f"note: {self.skipped_short_values} personal values were not searched "
                         f"(shorter than {MIN_VALUE_LENGTH} characters, or than "
                         f"{MIN_ASCII_VALUE_LENGTH} when all ASCII)")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready form (for a manifest)."""
        return {"folder": self.folder, "ok": self.ok,
                "findings": [{"file": f, "kind": k} for f, k in self.findings],
                "files_scanned": self.files_scanned,
                "skipped_short_ids": self.skipped_short_ids,
                "skipped_short_values": self.skipped_short_values, "notes": list(self.notes)}


# ---------------------------------------------------------------------- matcher


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _char_class(ch: str) -> str:
    if "0" <= ch <= "9":
        return "d"
    if "a" <= ch <= "z":
        return "a"
    return "o"


_BEFORE = {"d": r"(?<![a-z0-9])(?<![0-9]\.)", "a": r"(?<![a-z0-9])", "o": ""}
_AFTER = {"d": r"(?![a-z0-9])(?!\.0*[1-9])", "a": r"(?![a-z0-9])", "o": ""}


def _trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, factored as a trie (fast with ``re``)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str | None:
        alts, singles = [], []
        for ch in sorted(k for k in node if k):
            sub = build(node[ch])
            if sub is None:
                singles.append(re.escape(ch))
            else:
                alts.append(re.escape(ch) + sub)
        if singles:
            alts.append(singles[0] if len(singles) == 1 else "[" + "".join(singles) + "]")
        if not alts:
            return None
        pattern = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            pattern = "(?:" + pattern + ")?"
        return pattern

    return build(trie) or "(?!)"


_IPV4_RE = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])")
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-]{5,}[0-9]")
_LATIN_WORDS_RE = re.compile(r"[a-z]+(?:[ \-'][a-z]+){1,3}")


def _variants(v: str) -> list[str]:
    """Other forms in which a personal value is commonly written (already normalized).

    * an IPv4 address inside a value (问卷星 writes ``117.136.2.1(湖南-长沙)``);
    * a phone number without its separators, and a Chinese mobile number
      (11 digits starting with 1) also as ``139-1234-5678`` and ``139 1234 5678``;
    * a Latin name of several words also without spaces (``zhangwei``) and, for
      two words, in the other order (``wei zhang``).
    """
    if v.isascii() and v.isalnum() and not (len(v) >= 7 and v.isdigit()):
        return [v]  # a plain token: no other form
    out = [v]
    if "." in v:
        out += _IPV4_RE.findall(v)
    if v[0] in "+0123456789" and _PHONE_RE.fullmatch(v):
        digits = re.sub(r"[^0-9]", "", v)
        if len(digits) >= 7:
            out.append(digits)
        if len(digits) == 11 and digits.startswith("1"):
            out += [f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                    f"{digits[:3]} {digits[3:7]} {digits[7:]}"]
    if v.isascii() and _LATIN_WORDS_RE.fullmatch(v):
        words = re.split(r"[ \-']", v)
        out.append("".join(words))
        if len(words) == 2:
            out.append(f"{words[1]} {words[0]}")
    return list(dict.fromkeys([v] + [f for f in out[1:] if len(f) >= MIN_ID_LENGTH]))


_JOIN = r"[\t -/:-@\[-`{-~]{1,3}"
_COMPOUND_RE = re.compile(r"[a-z0-9]+(?:" + _JOIN + r"[a-z0-9]+)+")
_ALNUM_SPLIT_RE = re.compile(r"([a-z0-9]+)")
#: Above these sizes the trie regex gets slow (``re`` tries a trie node's branches
#: one by one); the window engine is used instead.
_REGEX_MAX_VALUES = 20_000
_REGEX_MAX_FIRST_CHARS = 400


def _sep(text: str) -> str:
    return " " if text.isspace() else text


class _Matcher:
    """Finds which kinds of sensitive values occur in a text (values kept private).

    Three engines, all with the module's matching rule:

    * simple tokens (ASCII letters and digits only: most ids, phone numbers, the
      key): the text's tokens are looked up in a dict, O(text);
    * ASCII compounds (``lb-0101-0001``, ``zhang wei``, ``117.136.2.1``): runs of
      tokens joined by 1-3 punctuation/space characters are split into tokens and
      every run of up to N consecutive tokens is looked up, O(text);
    * everything else (Chinese names and addresses, mixed values): a trie regex,
      or for very many values a sliding window per distinct value length.
    """

    def __init__(self, sensitive: SensitiveValues, key_hex: str | None):
        self.skipped_ids = 0
        self.skipped_values = 0
        token_kinds: dict[str, set[str]] = {}
        compound_kinds: dict[str, set[str]] = {}
        other_kinds: dict[str, set[str]] = {}
        for kind, values in sensitive.kinds.items():
            for raw in values:
                v = _norm(raw.strip())
                if v.isascii():
                    v = " ".join(v.split())
                if kind == ID_KIND:
                    if len(v) < MIN_ID_LENGTH:
                        self.skipped_ids += 1
                        continue
                elif len(v) < MIN_VALUE_LENGTH or (v.isascii() and len(v) < MIN_ASCII_VALUE_LENGTH):
                    self.skipped_values += 1
                    continue
                forms = [v] if kind == ID_KIND else _variants(v)
                for form in forms:
                    if form.isascii() and form.isalnum():
                        target = token_kinds
                    elif form.isascii() and _COMPOUND_RE.fullmatch(form):
                        target = compound_kinds
                    else:
                        target = other_kinds
                    target.setdefault(form, set()).add(kind)
        if key_hex:
            token_kinds.setdefault(key_hex.lower(), set()).add(KEY_KIND)
        self.token_kinds = token_kinds
        self.compound_kinds = compound_kinds
        self.compound_first = {_ALNUM_SPLIT_RE.search(v).group(1) for v in compound_kinds}
        self.compound_parts = max((len(_ALNUM_SPLIT_RE.findall(v)) for v in compound_kinds),
                                  default=0)
        self.other_kinds = other_kinds
        self.other_ascii = any(v.isascii() for v in other_kinds)
        self.regex = None
        self.windows: dict[int, set[str]] = {}
        first_chars = {v[0] for v in other_kinds}
        if len(other_kinds) <= _REGEX_MAX_VALUES and len(first_chars) <= _REGEX_MAX_FIRST_CHARS:
            groups: dict[tuple[str, str], list[str]] = {}
            for v in other_kinds:
                groups.setdefault((_char_class(v[0]), _char_class(v[-1])), []).append(v)
            parts = [_BEFORE[b] + "(" + _trie_regex(ws) + ")" + _AFTER[a]
                     for (b, a), ws in sorted(groups.items())]
            self.regex = re.compile("|".join(parts)) if parts else None
        else:
            for v in other_kinds:
                self.windows.setdefault(len(v), set()).add(v)

    @property
    def empty(self) -> bool:
        return not (self.token_kinds or self.compound_kinds or self.other_kinds)

    def kinds_in(self, text: str) -> set[str]:
        if not text:
            return set()
        low = _norm(text)
        found: set[str] = set()
        if self.token_kinds:
            for tok in set(_TOKEN_RE.findall(low)):
                kinds = self.token_kinds.get(tok)
                if kinds is None and "." in tok:
                    m = _FLOAT_INT_RE.match(tok)
                    kinds = self.token_kinds.get(m.group(1)) if m else None
                if kinds:
                    found |= kinds
        if self.compound_kinds:
            found |= self._compounds(low)
        if self.regex is not None:
            for m in self.regex.finditer(low):
                hit = next(g for g in m.groups() if g is not None)
                found |= self.other_kinds.get(hit, set())
        elif self.windows and (self.other_ascii or not low.isascii()):
            found |= self._windows(low)
        return found

    def _compounds(self, low: str) -> set[str]:
        found: set[str] = set()
        first, width, kinds = self.compound_first, self.compound_parts, self.compound_kinds
        for m in _COMPOUND_RE.finditer(low):
            pieces = _ALNUM_SPLIT_RE.split(m.group())  # '', part, sep, part, ..., part, ''
            parts = pieces[1::2]
            seps = [_sep(x) for x in pieces[2:-1:2]]
            for i, part in enumerate(parts):
                if part not in first:
                    continue
                cand = part
                for j in range(i + 1, min(i + width, len(parts))):
                    cand = cand + seps[j - 1] + parts[j]
                    hit = kinds.get(cand)
                    if hit:
                        found |= hit
        return found

    def _windows(self, low: str) -> set[str]:
        found: set[str] = set()
        n = len(low)
        for length, values in self.windows.items():
            grams = {low[i:i + length] for i in range(n - length + 1)}
            for v in grams & values:
                # Latin/digit edges need the token rule; check those few hits with a regex
                if _char_class(v[0]) != "o" or _char_class(v[-1]) != "o":
                    rx = _BEFORE[_char_class(v[0])] + re.escape(v) + _AFTER[_char_class(v[-1])]
                    if not re.search(rx, low):
                        continue
                found |= self.other_kinds[v]
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
        yield text
        if "&" in text:
            yield html.unescape(text)
        if "\\u" in text or "\\x" in text:
            dec = _UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
            dec = _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), dec)
            yield dec
            if "&" in dec:
                yield html.unescape(dec)
        if "%" in text:
            yield unquote(text, errors="replace")
        if suffix in JSON_SUFFIXES or (suffix == "" and text.lstrip()[:1] in ("{", "[")):
            try:
                obj = json.loads(text)
            except ValueError:
                if suffix in JSON_SUFFIXES:
                    self.notes.append(f"{self.current}: not valid JSON; searched as text")
            else:
                yield from self._json(name, obj, depth)
        for m in _DATA_URI_RE.finditer(text):
            blob = _b64(m.group(2))
            if blob is not None:
                yield from self.texts(f"{name}#data.{m.group(1).split('/')[-1]}", blob,
                                      depth=depth + 1)

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
                if o.startswith(("iVBORw0KGgo", "/9j/")) or (len(o) > 200 and o[:8] == "UEsDBBQA"):
                    blob = _b64(o)
                    if blob is not None:
                        yield from self.texts(f"{name}#embedded", blob, depth=depth + 1)
                        continue
                strings.append(o)
            elif o is not None and not isinstance(o, bool):
                strings.append(_scalar_text(o))
        yield _SEP.join(strings)

    # png ----------------------------------------------------------------------
    def _png(self, name: str, data: bytes, path, depth: int):
        pos = len(_PNG_SIG)
        pieces: list[str] = []
        while pos + 8 <= len(data):
            length = int.from_bytes(data[pos:pos + 4], "big")
            ctype = data[pos + 4:pos + 8]
            body = data[pos + 8:pos + 8 + length]
            pos += 12 + length
            if ctype == b"IDAT":
                continue
            if ctype == b"IEND":
                break
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
            except (zlib.error, IndexError):
                self.notes.append(f"{self.current}: a damaged PNG text chunk; searched its raw bytes")
            pieces.extend(_raw_texts(body))
        yield _SEP.join(pieces)
        if pos < len(data):  # bytes after IEND (or a truncated file)
            yield from _raw_texts(data[pos:])

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
    try:
        return base64.b64decode("".join(text.split()), validate=False)
    except ValueError:
        return None


# ------------------------------------------------------------------------- scan


def _iter_files(root: Path):
    """Every entry under ``root`` (sorted); symlinked folders are listed, not entered."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            p = base / name
            yield p, p.relative_to(root)


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
        from .errors import DataError

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

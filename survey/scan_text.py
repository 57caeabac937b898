"""Extract every text a person or a program could recover from a file's bytes.

One job: :class:`Extractor` turns the bytes of one file (and of the files embedded
in it) into the texts that :mod:`survey.scan_match` searches. It knows file formats
and nothing about the values searched for.

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

Limits (said honestly)
----------------------
Text drawn as pixels in images is not read (no OCR), nor are the compressed image
data of PNG and JPEG (only their text chunks and metadata). Compressed streams of
unknown formats (PDF) are only searched as raw bytes. Because raw binary bytes are
also decoded as GB18030, a two-character Chinese name can, rarely, appear by chance
in a large unknown binary file: the finding names the file so that a person can
check it.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote

__all__ = ["JSON_SUFFIXES", "PARQUET_SUFFIXES", "STAT_SUFFIXES", "TEXT_SUFFIXES", "Extractor"]

TEXT_SUFFIXES = frozenset(
    "csv tsv json ipynb html htm svg md txt xml yaml yml log tex js css rst bib".split())
JSON_SUFFIXES = frozenset({"json", "ipynb", "geojson"})
PARQUET_SUFFIXES = frozenset({"parquet", "pq"})
STAT_SUFFIXES = frozenset({"sav", "zsav", "por", "dta"})

_MAX_DEPTH = 4  # nested containers (zip in zip, png in ipynb in zip)
_SEP = "\x00"
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_XESC_RE = re.compile(r"\\x([0-9a-fA-F]{2})")
#: The base64 of a data URI, case-sensitive (faster): ``[A-Za-z0-9+/=\s]`` with the four
#: characters that it matches when case is ignored (İ ı ſ K: ``tests/test_scan_fastpaths.py``).
_DATA_URI_BODY = "[A-Za-z0-9+/=\\s\u0130\u0131\u017f\u212a]"
_DATA_URI_RE = re.compile(rf"data:([a-z0-9.+/-]+)(?:;[a-z0-9_.=-]+)*;base64,((?-i:{_DATA_URI_BODY})+)",
                          re.IGNORECASE)
#: A run of base64 that may be an embedded file (JSON may break its lines with ``\n``).
_B64_RUN_RE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{64,}"
                         r"(?:(?:\\n|\\r|\r?\n)[A-Za-z0-9+/]{4,})*={0,2}")
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
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


# a JSON string (the loop unrolled: the same matches as ``"(?:\\.|[^"\\])*"``, faster),
# or a number outside strings
_JSON_TOKEN_RE = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|(?<![\w.])-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.])')


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


class Extractor:
    """Turns one file's bytes into the texts to search (and nested blobs).

    Parameters
    ----------
    notes : list of str
        Where to append remarks (a file that is not what its name says, a damaged
        chunk); each names :attr:`current`, the file as it may be shown, never a value.

    Examples
    --------
    >>> notes = []
    >>> ex = Extractor(notes)
    >>> ex.current = "table.json"
    >>> data = '{"name": "&#x738b;", "bytes": 61617}'.encode()
    >>> for text in ex.texts("table.json", data):
    ...     print(text.replace(chr(0), " | "))
    {"name": "&#x738b;", "bytes": 0}
    {"name": "王", "bytes": 0}
    name | bytes | &#x738b;
    >>> notes
    []
    """

    def __init__(self, notes: list[str]):
        self.notes = notes
        self.current = ""  # the file being scanned, as it may be shown (notes name only it)

    def texts(self, name: str, data: bytes, path: Path | None = None, depth: int = 0):
        """Yield every text recoverable from ``data`` (a file named ``name``).

        Parameters
        ----------
        name : str
            The file's name (its suffix picks the format when the bytes do not).
        data : bytes
            The file's content.
        path : Path, optional
            The file on disk, when there is one (pyreadstat reads from a path).
        depth : int
            How deep inside other files this one is; past four levels only its raw
            bytes are searched.
        """
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

        # one byte per character (any other character is "?"), to find where a match
        # may start with bytes.find instead of trying the patterns at every character
        marks = text.encode("ascii", "replace")
        lower = marks.lower()
        cut = _sub_where(_DATA_URI_RE, text, uri, lambda pos: lower.find(b"data:", pos))
        if cut is not text:
            text, marks = cut, cut.encode("ascii", "replace")

        def run(found: str) -> str | None:
            blob = _embedded_file(found)
            if blob is None:
                return None  # stays as it is
            blobs.append(("embedded", blob))
            return " "

        # a match of _B64_RUN_RE starts where a run of 64 base64 characters starts: its
        # end is found with the marks too (_b64_run_end), not by the pattern
        marks = marks.translate(_B64_MARKS)
        out: list[str] = []
        last = pos = 0
        while (at := marks.find(_B64_WINDOW, pos)) >= 0:
            pos = _b64_run_end(text, marks, at)
            replaced = run(text[at:pos])
            if replaced is not None:
                out += [text[last:at], replaced]
                last = pos
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

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


def _sub_where(pattern: re.Pattern, text: str, repl, find) -> str:
    """``pattern.sub(repl, text)``, trying ``pattern`` only where ``find(pos)`` says that
    a match may start: it returns the first such place at or after ``pos`` (-1: none), at
    or before every place at or after ``pos`` where ``pattern`` matches. The matches, and
    so the text returned, are those of ``pattern.sub`` (which tries every character).

    Examples
    --------
    >>> r = re.compile("ab+")
    >>> _sub_where(r, "xabbyab", lambda m: "-", lambda pos: "xabbyab".find("a", pos))
    'x-y-'
    """
    out: list[str] = []
    last = pos = 0
    while (at := find(pos)) >= 0:
        m = pattern.match(text, at)  # look-behinds see the text before ``at``
        if m is None:
            pos = at + 1
            continue
        out += [text[last:at], repl(m)]
        last = pos = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


#: Base64 characters made ``A``, any other byte a space: where a run of 64 of them starts.
_B64_MARKS = bytes(0x41 if chr(b) in _B64_CHARS else 0x20 for b in range(256))
_B64_WINDOW = b"A" * 64


def _b64_run_end(text: str, marks: bytes, at: int) -> int:
    """Where the match of :data:`_B64_RUN_RE` that starts at ``at`` ends, given ``marks``
    (:data:`_B64_MARKS` of the text, one byte per character) and that a run of 64 base64
    characters starts at ``at`` after a character that is none. The pattern's steps:
    the run, then each line break (``\\n``, ``\\r``, CR LF or LF) followed by at least
    4 base64 characters with those characters, then up to two ``=``."""
    n = len(text)
    end = marks.find(b" ", at)
    end = n if end < 0 else end
    while True:
        if text.startswith(("\\n", "\\r", "\r\n"), end):
            step = 2
        elif text.startswith("\n", end):
            step = 1
        else:
            break
        stop = marks.find(b" ", end + step)
        stop = n if stop < 0 else stop
        if stop - (end + step) < 4:
            break
        end = stop
    for _ in range(2):
        if text.startswith("=", end):
            end += 1
    return end


def _b64(text: str) -> bytes | None:
    if "\\" in text:
        text = re.sub(r"\\[nr]|\s", "", text)
    else:  # the same: whitespace is what str.split() cuts at
        text = "".join(text.split())
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


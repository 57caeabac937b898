"""Fast paths of the privacy scan (issue 16) give what the regular expressions they stand for
give: the cuts of a long text (``_pieces``), the embedded files taken out of a text
(``_cut_base64``: ``data:`` URIs and bare base64 runs, found with ``bytes.find``), the
base64 text decoded (``_b64``) and the normalization of ASCII and NFKC text (``_norm``)."""

from __future__ import annotations

import base64
import random
import re
import unicodedata

from survey import scan_text
from survey.scan_match import _CUT_RE, _INVISIBLE_RE, _norm, _pieces
from survey.scan_text import _B64_RUN_RE, _DATA_URI_RE, Extractor, _b64

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17) + b"\x00\x00\x00\x00IEND"
       + bytes(4) + b"x" * 40)
B64 = base64.b64encode(PNG).decode()


def _pieces_by_regex(text: str) -> list[str]:
    out, start = [], 0
    for m in _CUT_RE.finditer(text):
        out.append(text[start:m.start() + 6])
        start = m.start() + 6
    return out + [text[start:]]


def test_pieces_are_cut_where_the_regex_cuts():
    rng = random.Random(7)
    parts = ["a", "王", " ", "\t", "\n", "\r", "\u3000", "\xa0", "\ud800", "x" * 5, " " * 9,
             " " * 10, " " * 17, "\n" * 12, " \t" * 6]
    for _ in range(3000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 30)))
        assert list(_pieces(text)) == _pieces_by_regex(text), repr(text)


def _cut_by_regex(text: str) -> tuple[str, list]:
    """``Extractor._cut_base64`` as it was: ``re.sub`` over every character."""
    blobs: list = []

    def uri(m):
        blob = scan_text._b64(m.group(2))
        if blob is None:
            return m.group(0)
        blobs.append((f"data.{m.group(1).split('/')[-1].lower()}", blob))
        return " "

    def run(m):
        blob = scan_text._embedded_file(m.group(0))
        if blob is None:
            return m.group(0)
        blobs.append(("embedded", blob))
        return " "

    return _B64_RUN_RE.sub(run, _DATA_URI_RE.sub(uri, text)), blobs


def test_embedded_files_are_taken_out_as_by_the_regex():
    rng = random.Random(11)
    parts = [B64, B64[:70], "A" * 63, "A" * 64, "A" * 200, "data:image/png;base64,",
             "DATA:Image/PNG;base64,", "Data:font/woff2;charset=utf-8;base64,", "data:", "=",
             "==", "===", "\\n", "\\r", "\n", "\r\n", "\r", "\\", " ", "AAA", "AAAAA", "王", "+/", "src=\"", "\"", "AAAA", "\ud800", "é",
             "<svg>", "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjwvc3ZnPg=="]
    ex = Extractor([])
    found = 0
    for _ in range(6000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 16)))
        blobs: list = []
        cut = ex._cut_base64(text, blobs)
        assert (cut, blobs) == _cut_by_regex(text), repr(text)
        found += bool(blobs)
    assert found > 100  # files were taken out


def test_base64_text_is_decoded_as_by_the_regex():
    for text in [B64, B64[:50] + "\n  " + B64[50:], B64.replace("A", "A\\n", 3),
                 "\\\\n" + B64, "QUJD\u3000REVG", "QUJD\\rREVG\r\n"]:
        expected = re.sub(r"\\[nr]|\s", "", text)
        assert _b64(text) == base64.b64decode(expected + "=" * (-len(expected) % 4))


def test_ascii_and_nfkc_text_are_normalized_as_before():
    def slow(text: str) -> str:
        return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text).lower())

    for text in ["Plain ASCII 1001", "ＺＨＡＮＧ　Ｗｅｉ", "王小明 ZHANG", "id\u200b1001", "ﬁ ² ㈠",
                 "e\u0301", "İstanbul", "\ud800x", "王\u00ad小"]:
        assert _norm(text) == slow(text)
    # text that is not NFKC is normalized line by line: marks, jamo and kana that combine
    # with what comes before them, around line breaks
    rng = random.Random(5)
    pool = ["a", "e", "\u0301", "\u0308", "\u0323", "\u0345", "\n", "\n", "\r", "\u2028",
            "ᄒ", "ᅡ", "ᆫ", "한", "か", "\u3099", "ｶ", "ﾞ", "ﬁ", "²", "Σ", "İ", "\u200b", "⼈", "王"]
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 10)))
        assert _norm(text) == slow(text), repr(text)


def test_json_numbers_are_blanked_as_by_the_plain_pattern():
    """The unrolled string pattern of ``_JSON_TOKEN_RE`` matches what the plain one did."""
    plain = re.compile(r'("(?:\\.|[^"\\])*")|(?<![\w.])-?[0-9]+(?:\.[0-9]+)?'
                       r'(?:[eE][+-]?[0-9]+)?(?![\w.])')
    assert scan_text._JSON_TOKEN_RE.pattern.endswith(plain.pattern[len('("(?:\\.|[^"\\])*")'):])
    rng = random.Random(3)
    parts = ['"', "\\", '\\"', "\n", "a", "1", "-2.5e3", ".", "x1", " ", "王", "\\\n", '""', "0.5"]
    for _ in range(20000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 14)))
        expected = plain.sub(lambda m: m.group(1) or "0", text)
        assert scan_text._blank_json_numbers(text) == expected, repr(text)


def test_the_case_sensitive_data_uri_body_matches_what_the_ignore_case_one_did():
    """``_DATA_URI_RE`` reads the base64 of a data URI case-sensitively (faster); its class
    holds exactly the characters that ``[A-Za-z0-9+/=\\s]`` matches when case is ignored."""
    ignore_case = re.compile(r"[A-Za-z0-9+/=\s]", re.IGNORECASE)
    body = re.compile(scan_text._DATA_URI_BODY)
    differ = [hex(c) for c in range(0x110000)
              if bool(ignore_case.match(chr(c))) != bool(body.match(chr(c)))]
    assert differ == []
    assert "(?-i:" + scan_text._DATA_URI_BODY + ")+" in _DATA_URI_RE.pattern

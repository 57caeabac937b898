"""Find which kinds of raw personal values, raw ids or the key occur in a text.

One job: :class:`Matcher` answers "which kinds of sensitive values does this text
hold?" for the values of a :class:`survey.privacy.SensitiveValues`, never saying
which value. It knows nothing about files (:mod:`survey.scan_text` extracts the
texts) or folders (:mod:`survey.scanner` walks them).

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
(:data:`MIN_VALUE_LENGTH`, :data:`MIN_ASCII_VALUE_LENGTH`).
:meth:`survey.scanner.ScanResult.limits` says so in a sentence for the report and the manifest.

Speed: every lookup takes time proportional to the text (set lookups of units, an
Aho-Corasick automaton over units for values of several units, one pass over digit
runs for phones), whatever the number and length of the values. No regular
expression is built from the values. Most texts hold no value, so a text is first read
cheaply (its words, CJK characters and digits, with ``bytes.translate`` and ``split``) and
cut into units only when it holds everything that some value's units need; its digit runs
are read as phones only when its digits, read in order, hold a phone's digits. This
pre-filter changes what is cut and read, never what is found (the comment above
:func:`_word_candidates` gives the proof; ``tests/test_scan_prefilter.py``).

The values are compiled once per :class:`~survey.privacy.SensitiveValues`
(:func:`value_index`, kept on the object until values are added), so the report
pages that say what the scan cannot check and the scan itself share one build.

Limits (said honestly)
----------------------
A value written in another form than the raw one (a number in exponent notation, a
name transliterated differently, an id split by spaces) is not found. Ignoring
punctuation between units means that a Chinese name split over two adjacent cells of
a text table (``严,鹏泽``) is reported.
"""

from __future__ import annotations

import re
import unicodedata
from array import array

from .privacy import SensitiveValues

__all__ = [
    "ID_KIND",
    "KEY_KIND",
    "MIN_ASCII_VALUE_LENGTH",
    "MIN_ID_LENGTH",
    "MIN_PHONE_DIGITS",
    "MIN_VALUE_LENGTH",
    "Matcher",
    "ValueIndex",
    "value_index",
]

#: Raw ids shorter than this are not searched (too short to be distinctive).
MIN_ID_LENGTH = 4
#: Personal values shorter than this are not searched.
MIN_VALUE_LENGTH = 2
#: Personal values made only of ASCII characters shorter than this are not searched.
MIN_ASCII_VALUE_LENGTH = 4

#: The kind of a raw respondent id (searched as it is: no variants, no phone rule).
ID_KIND = "raw_id"
#: The kind reported for the study's pseudonymization key.
KEY_KIND = "key"


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
    """NFKC, lower case, and no zero-width characters.

    ASCII text is only lowered (NFKC leaves it as it is, and it holds no zero-width
    character), and text already in NFKC is not normalized again."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        # line by line, and only the lines that need it: a line break is a character
        # that never combines with another, so NFKC of the text is NFKC of its lines
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if not line.isascii() and not unicodedata.is_normalized("NFKC", line):
                lines[i] = unicodedata.normalize("NFKC", line)
        text = "\n".join(lines)
    low = text.lower()
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


# ------------------------------------------------------------------ pre-filter
#
# Most texts of a run folder hold no value at all, and cutting them into units is the
# costly part of the search. So a text is first read cheaply, in a way that can prove
# that it holds none of the values' units; only a text that may hold one is cut into
# units (and then searched exactly as before). The proof, for ``low`` normalized:
#
# * Call a *word* a maximal run of letters and digits of an alphabetic script
#   (``[^\W_]`` less CJK: ``_W_RE``). Every unit made only of such characters is a
#   word, or the end of a word that starts right after a digit or a ``z``: a unit ends
#   inside a word only when it is a number (a decimal, an exponent, a date or a
#   timestamp, which end with a digit or the ``z`` of UTC) and a letter follows it
#   (``0.5abc`` is ``0.5`` and ``abc``). A unit that starts with a digit always starts a
#   word. :func:`_word_candidates` lists the words and those ends.
# * Every CJK character is a unit, and a unit of one CJK character is that character.
# * A number unit that starts with a digit (``117.136.2.1``, ``2023-01-05``, ``1e+5``)
#   starts a word, and its first word is a whole word of the text; the spelling that
#   :func:`_canonical` gives a text's number keeps that first word (``2023/1/5`` is
#   ``2023-01-05``; ``1001.0`` is ``1001``, itself a word).
# * Any other unit is one character (a symbol), which the text holds.
#
# So each unit of a value has a *needle* (:func:`_needle`) that the text holds
# whenever it holds the unit: a value (or the key) is searched only when the needles
# of all its units are there. A phone is compared as digits: its digits are then a
# run of the text's digits read in order, ignoring everything else
# (:meth:`ValueIndex._digits_may_hold`). Tests: ``tests/test_scan_prefilter.py``.

_W_RE = re.compile(rf"[^\W_{_CJK}]+")
_CJK_RE = re.compile(f"[{_CJK}]")
#: ASCII letters and digits kept, any other ASCII byte made a space, the bytes of
#: non-ASCII characters kept: the text's words, once split.
_WORD_BYTES = bytes(b if b >= 0x80 or chr(b).isalnum() else 0x20 for b in range(256))
_NOT_DIGIT_BYTES = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)
_NUMBER_END = frozenset("0123456789z")  # a number unit ends with a digit or UTC's z


def _word_candidates(low: str, lengths: tuple[int, ...]) -> set[str]:
    """A set that holds every unit of ``low`` made of letters and digits whose length is
    in ``lengths`` or that starts with a digit, and every CJK character of ``low`` (and
    other strings): its words, and those ends of its words that start with a letter
    right after a digit or a ``z`` and have one of the ``lengths`` (time linear in the
    text, whatever the words)."""
    if low.isascii():
        words = set(low.encode("ascii").translate(_WORD_BYTES).decode("ascii").split())
    else:
        raw = low.encode("utf-8", "surrogatepass").translate(_WORD_BYTES)
        words = set(raw.decode("utf-8", "surrogatepass").split())
    out = set(words)
    ends = _NUMBER_END
    for t in words:
        if t.isascii():
            if t.isdigit() or (t.isalpha() and "z" not in t[:-1]):
                continue
            runs = (t,)
        else:  # words, CJK characters and other characters, not yet apart
            out.update(_CJK_RE.findall(t))
            runs = _W_RE.findall(t)
            out.update(runs)
        for r in runs:
            for n in lengths:
                i = len(r) - n
                if i < 1:
                    break
                if r[i - 1] in ends and not "0" <= r[i] <= "9":
                    out.add(r[i:])
    return out


def _needle(unit: str) -> str | None:
    """What a text holds whenever it holds ``unit`` (a value's unit, canonical): the
    unit itself (a word, a CJK character), the first word of a number, or, for one
    other character, that character after ``\\x00`` (looked up in the text itself).
    None when none is known (then the pre-filter is not used)."""
    if _W_RE.fullmatch(unit) or _CJK_RE.fullmatch(unit):
        return unit
    if "0" <= unit[0] <= "9":
        return _W_RE.match(unit).group()
    if len(unit) == 1 and unit not in _SOFT and unit != ".":
        return "\x00" + unit
    return None


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


def _long_enough(kind: str, v: str) -> bool:
    """Whether a normalized value is long enough to be distinctive (else it is counted)."""
    if kind == ID_KIND:
        return len(v) >= MIN_ID_LENGTH
    return len(v) >= MIN_VALUE_LENGTH and not (v.isascii() and len(v) < MIN_ASCII_VALUE_LENGTH)


class ValueIndex:
    """The values of a :class:`~survey.privacy.SensitiveValues`, compiled for search.

    Three lookups, all with the module's matching rule:

    * values of one unit (most ids, Latin names of one word): a set lookup of the
      text's units;
    * values of several units (Chinese names and addresses, ``lb-0101-0001``,
      ``zhang wei``): an Aho-Corasick automaton over the text's units;
    * phone-like personal values: the digit runs of the text, as digits.

    All three take time proportional to the text, whatever the number and the
    length of the values. Build it through :func:`value_index`, which builds it once
    per :class:`~survey.privacy.SensitiveValues`.

    Attributes
    ----------
    skipped_ids : int
        Raw ids not searched: shorter than :data:`MIN_ID_LENGTH`, or only punctuation.
    skipped_values : int
        Personal values not searched: shorter than :data:`MIN_VALUE_LENGTH` (or
        :data:`MIN_ASCII_VALUE_LENGTH` when all ASCII), or only punctuation.

    Examples
    --------
    >>> from survey.privacy import SensitiveValues
    >>> sv = SensitiveValues()
    >>> sv.add("raw_id", ["20230017", "7"]); sv.add("pii:姓名", ["王小明"])
    >>> index = ValueIndex(sv)
    >>> index.skipped_ids, index.skipped_values, index.empty
    (1, 0, False)
    """

    def __init__(self, sensitive: SensitiveValues):
        self.skipped_ids = 0
        self.skipped_values = 0
        self.single: dict[str, set[str]] = {}
        self.phones: dict[str, set[str]] = {}
        multi: dict[tuple[str, ...], set[str]] = {}
        for kind, values in sensitive.kinds.items():
            for raw in values:
                v = " ".join(_norm(raw).split())
                if not (_long_enough(kind, v) and self._add(kind, v, multi)):
                    if kind == ID_KIND:
                        self.skipped_ids += 1
                    else:
                        self.skipped_values += 1
        self.single_keys = frozenset(self.single)
        # a candidate may carry a country code (0086) in front of the longest phone
        self.max_phone_digits = max(map(len, self.phones), default=0) + 4
        self.automaton = _Automaton()
        for units, kinds in multi.items():
            self.automaton.add(units, frozenset(kinds))
        self.automaton.build()
        self.multi = bool(multi)
        self._candidates: dict[str, tuple[str, ...]] = {}  # digit run -> its phone candidates
        self._build_prefilter(multi)

    def _build_prefilter(self, multi: dict) -> None:
        """The needles of every searched value (see the pre-filter comment above):
        :attr:`_first` maps the needle of a value's first unit to the needles of its
        other units; :attr:`_phone_windows` holds the phones' digits by length."""
        first: dict[str, list[tuple[str, ...]]] = {}
        needle: dict[str, str | None] = {}  # unit -> its needle (units repeat)
        self.filterable = True
        for units in [(u,) for u in self.single] + list(multi):
            for u in units:
                if u not in needle:
                    needle[u] = _needle(u)
            needles = tuple(needle[u] for u in units)
            if None in needles:
                self.filterable = False
                break
            first.setdefault(needles[0], []).append(needles[1:])
        for rests in first.values():
            rests.sort(key=len)  # a value of one unit first: nothing more to check
        self._first = first
        # the lengths of the needles that may be the end of a word (see _word_candidates)
        self._end_lengths = frozenset(
            len(n) for n in needle.values() if n and not "0" <= n[0] <= "9"
            and _W_RE.fullmatch(n)) if self.filterable else frozenset()
        self._first_words = frozenset(n for n in first if n[0] != "\x00")
        self._first_chars = [n for n in first if n[0] == "\x00"]
        # a phone's digits, or its first 18 (an int64 holds them), by their number
        windows: dict[int, set[str]] = {}
        for core in self.phones:
            width = min(len(core), _WINDOW_MAX)
            windows.setdefault(width, set()).add(core[:width])
        self._phone_windows = sorted(windows.items())
        self._phone_arrays = None  # numpy arrays of the windows, made when first needed

    def may_hold(self, low: str, words: set[str]) -> bool:
        """False when the normalized text ``low`` (with its :func:`_word_candidates`)
        cannot hold a value of one or several units: the needle of some unit of every
        value is missing. True when it may (then it is searched)."""
        if not self.filterable:
            return True
        first = self._first
        for n in [*self._first_words.intersection(words),
                  *(c for c in self._first_chars if c[1:] in low)]:
            for rest in first[n]:
                if all((x in words) if x[0] != "\x00" else (x[1:] in low) for x in rest):
                    return True
        return False

    def _digits_may_hold(self, low: str) -> bool:
        """False when the digits of ``low``, read in order and ignoring every other
        character, hold no phone-like value's digits (then no digit run of the text
        is one): every candidate of :func:`_phone_candidates` is the digits of
        consecutive groups of one run, and a phone is such a candidate or its end."""
        digits = low.encode("utf-8", "surrogatepass").translate(None, _NOT_DIGIT_BYTES)
        if not digits or len(digits) < self._phone_windows[0][0]:
            return False
        if len(digits) <= 256:
            text = digits.decode("ascii")
            return any(text[i:i + width] in cores for width, cores in self._phone_windows
                       for i in range(len(text) - width + 1))
        import numpy as np

        if self._phone_arrays is None:
            self._phone_arrays = [(w, np.array(sorted(int(c) for c in cores), dtype=np.int64))
                                  for w, cores in self._phone_windows]
        widest = self._phone_windows[-1][0]
        for start in range(0, len(digits), _DIGITS_CHUNK):  # bounded memory
            d = np.frombuffer(digits, dtype=np.uint8, offset=start,
                              count=min(len(digits) - start, _DIGITS_CHUNK + widest - 1))
            d = d.astype(np.int64) - 48
            for width, keys in self._phone_arrays:
                n = len(d) - width + 1
                if n <= 0:
                    continue
                v = d[:n].copy()
                for j in range(1, width):
                    v *= 10
                    v += d[j:j + n]
                at = np.searchsorted(keys, v)
                at[at == len(keys)] = 0
                if (keys[at] == v).any():
                    return True
        return False

    def _add(self, kind: str, v: str, multi: dict) -> bool:
        """Add one normalized value in each of its forms; False when nothing is left to
        search (a value made only of punctuation)."""
        searched = False
        for form in [v] if kind == ID_KIND else _variants(v):
            units, fix = _units(form)
            units = tuple(fix.get(u, u) for u in units if u[-1] not in _SOFT)
            if not units:
                continue
            searched = True
            if len(units) == 1:
                self.single.setdefault(units[0], set()).add(kind)
            else:
                multi.setdefault(units, set()).add(kind)
        if kind != ID_KIND:
            for core in _phone_cores(v):
                self.phones.setdefault(core, set()).add(kind)
                searched = True
        return searched

    @property
    def empty(self) -> bool:
        """True when no value is searched (none given, or all too short)."""
        return not (self.single or self.multi or self.phones)

    def search(self, low: str, units: list[str], fix: dict[str, str],
               present: set[str]) -> set[str]:
        """The kinds of the values in a normalized text, given its units (see
        :meth:`Matcher.kinds_in`, which computes them once for the key as well)."""
        found = self.search_units(units, fix, present)
        if self.phones:
            found |= self._phone_kinds(low)
        return found

    def search_units(self, units: list[str], fix: dict[str, str],
                     present: set[str]) -> set[str]:
        """The kinds of the values of one or several units in a text (phones aside)."""
        if fix and self.multi and not self.automaton.uid.keys().isdisjoint(fix.values()):
            units = [fix.get(u, u) for u in units]
        found: set[str] = set()
        for u in self.single_keys.intersection(present):
            found |= self.single[u]
        if self.multi and not self.automaton.uid.keys().isdisjoint(present):
            found |= self.automaton.search(units)
        return found

    def _phone_kinds(self, low: str) -> set[str]:
        """The kinds of the phone-like values among the digit runs of a normalized text.

        The candidates of a run are remembered (:attr:`_candidates`): figures and pages
        repeat the same coordinates and numbers many times."""
        found: set[str] = set()
        phones, limit, memo = self.phones, self.max_phone_digits, self._candidates
        for run in _PHONE_RUN_RE.findall(low):
            if run.isdigit():
                candidates = (run,)
            else:
                candidates = memo.get(run)
                if candidates is None:
                    candidates = tuple(_phone_candidates(run, limit))
                    if len(memo) < _CANDIDATES_MAX:
                        memo[run] = candidates
            for digits in candidates:
                hit = phones.get(digits)
                if hit is None and digits.startswith("86"):
                    hit = phones.get(digits[2:])
                if hit is None and digits.startswith("0086"):
                    hit = phones.get(digits[4:])
                if hit:
                    found |= hit
        return found


#: A phone's digits longer than this are compared by their first ones in the pre-filter.
_WINDOW_MAX = 18
#: The pre-filter reads a text's digits this many at a time (its memory stays bounded).
_DIGITS_CHUNK = 1 << 20

_CANDIDATES_MAX = 500_000
"""At most this many digit runs' phone candidates are remembered per :class:`ValueIndex`."""


def value_index(sensitive: SensitiveValues) -> ValueIndex:
    """The :class:`ValueIndex` of ``sensitive``, built once and kept on it.

    Kept with :meth:`survey.privacy.SensitiveValues.cached` until values are added,
    so that what the scan cannot check (:func:`survey.scanner.scan_limits`, for the
    report pages) and the scan itself (:func:`survey.scanner.scan_folder`) share
    one build.

    Examples
    --------
    >>> from survey.privacy import SensitiveValues
    >>> sv = SensitiveValues()
    >>> sv.add("raw_id", ["20230017"])
    >>> value_index(sv) is value_index(sv)
    True
    """
    return sensitive.cached("survey.scan_match.ValueIndex", lambda: ValueIndex(sensitive))


class Matcher:
    """Finds which kinds of sensitive values occur in a text (values kept private).

    The values' lookups come from :func:`value_index` (built once per
    :class:`~survey.privacy.SensitiveValues`); the study's key, when given, is one
    more whole unit, reported as :data:`KEY_KIND`.

    Parameters
    ----------
    sensitive : SensitiveValues
        The raw values to look for.
    key_hex : str, optional
        The pseudonymization key as hexadecimal text.

    Examples
    --------
    >>> from survey.privacy import SensitiveValues
    >>> sv = SensitiveValues()
    >>> sv.add("pii:姓名", ["王小明"]); sv.add("raw_id", ["1001"])
    >>> m = Matcher(sv, None)
    >>> sorted(m.kinds_in("学生王小明的家长, id 1001.0"))
    ['pii:姓名', 'raw_id']
    >>> m.kinds_in("21001 A1001 0.1001")
    set()
    """

    def __init__(self, sensitive: SensitiveValues, key_hex: str | None = None):
        self.index = value_index(sensitive)
        self.key = key_hex.lower() if key_hex else None
        self._memo: dict[str, frozenset[str]] = {}
        self._memo_chars = 0
        self.cut = 0  # texts cut into units (the others were cleared by the pre-filter)
        lengths = set(self.index._end_lengths)
        if self.key and not "0" <= self.key[0] <= "9":
            lengths.add(len(self.key))
        self._end_lengths = tuple(sorted(lengths))

    @property
    def skipped_ids(self) -> int:
        """Raw ids too short to search (:attr:`ValueIndex.skipped_ids`)."""
        return self.index.skipped_ids

    @property
    def skipped_values(self) -> int:
        """Personal values too short to search (:attr:`ValueIndex.skipped_values`)."""
        return self.index.skipped_values

    @property
    def empty(self) -> bool:
        """True when there is nothing to search: no value and no key."""
        return self.index.empty and not self.key

    def kinds_in(self, text: str) -> set[str]:
        """The kinds of the values found in ``text``.

        A long text is searched in pieces cut where no value can span the cut (inside a
        run of at least :data:`_CUT_RUN` spaces or line breaks, :func:`_pieces`), and a
        piece already searched by this matcher is not searched again: the reports share
        their stylesheet, and the unescaped and URL-decoded readings of a text
        (:mod:`survey.scan_text`) differ from it in a few pieces only. The kinds found
        are the same as for the whole text.
        """
        if not text:
            return set()
        if len(text) < _PIECE_MIN:
            return self._kinds_whole(text)
        found: set[str] = set()
        memo = self._memo
        for piece in _pieces(text):
            hit = memo.get(piece)
            if hit is None:
                hit = frozenset(self._kinds_whole(piece))
                if self._memo_chars + len(piece) <= _MEMO_CHARS:
                    memo[piece] = hit
                    self._memo_chars += len(piece)
            found |= hit
        return found

    def _kinds_whole(self, text: str) -> set[str]:
        """The kinds in ``text`` (not cut in pieces). It is cut into units only when the
        pre-filter says that it may hold a value or the key (see the pre-filter comment
        in the module's source); the phone scan runs only on digits that may hold one."""
        low = _norm(text)
        index = self.index
        found: set[str] = set()
        if index.single or index.multi or self.key:
            words = _word_candidates(low, self._end_lengths) if index.filterable else set()
            if (not index.filterable or index.may_hold(low, words)
                    or (self.key and self.key in words)):
                self.cut += 1
                found = self._kinds_of_units(low)
        if index.phones and index._digits_may_hold(low):
            found |= index._phone_kinds(low)
        return found

    def _kinds_of_units(self, low: str) -> set[str]:
        """The kinds of the values and key in ``low``, cut into units (phones aside)."""
        units, fix = _units(low)
        present = set(units)
        if fix:
            present.update(fix.values())
        found = self.index.search_units(units, fix, present)
        if self.key and self.key in present:
            found.add(KEY_KIND)
        return found

    def _kinds_exhaustive(self, text: str) -> set[str]:
        """:meth:`_kinds_whole` without the pre-filter: every text cut into units and
        every digit run read (for the tests that compare the two)."""
        low = _norm(text)
        found = self._kinds_of_units(low)
        if self.index.phones:
            found |= self.index._phone_kinds(low)
        return found


#: Texts shorter than this are searched whole (:meth:`Matcher.kinds_in`).
_PIECE_MIN = 4096
#: At most this many characters of searched pieces are remembered per matcher.
_MEMO_CHARS = 64 * 2**20
#: A long text is cut inside runs of at least this many ASCII spaces and line breaks.
_CUT_RUN = 10
_CUT_RE = re.compile(rf"[ \t\r\n]{{{_CUT_RUN},}}")
_CUT_BYTES = bytes(0x20 if b in b" \t\r\n" else 0x78 for b in range(256))
_CUT_SPACES = b" " * _CUT_RUN


def _pieces(text: str):
    """``text`` cut inside each run of :data:`_CUT_RUN` or more spaces and line breaks,
    six of them kept at the end of the piece before and the rest at the start of the next.

    No value can span such a cut: in the units of :func:`_units` a run of four or more
    whitespace characters is a gap that ends every match, and the normalization
    (NFKC, lower case) acts on each side alone. A phone-like digit run ends before two
    spaces; the six spaces kept after it let the look-ahead of ``_PHONE_RUN_RE`` (a digit
    and six more characters) see what it sees in the whole text. So the kinds found in
    the pieces are the kinds found in the whole text (``tests/test_scan_speed.py``).

    Examples
    --------
    >>> [len(p) for p in _pieces("a" * 5 + " " * 12 + "b" * 5)]
    [11, 11]
    """
    # one byte per character, spaces and line breaks made b" " and the rest b"x": the
    # runs of _CUT_RE are found with bytes.find
    marks = text.encode("ascii", "replace").translate(_CUT_BYTES)
    start = pos = 0
    while (at := marks.find(_CUT_SPACES, pos)) >= 0:
        cut = at + 6
        yield text[start:cut]
        start = cut
        pos = marks.find(b"x", at + _CUT_RUN)
        if pos < 0:
            break
    yield text[start:]

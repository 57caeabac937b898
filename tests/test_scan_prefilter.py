"""The privacy scan's pre-filter (issue 16) clears a text without cutting it into units only
when it holds no value: the kinds found with it are the kinds found by cutting every text
(``Matcher._kinds_exhaustive``), for values written in every form the matching rule finds,
and a plain text is indeed not cut."""

from __future__ import annotations

import random
import re

import pytest

from survey import scan_match
from survey.privacy import SensitiveValues
from survey.scan_match import _UNIT_RE, Matcher, _norm, _word_candidates

KEY = "ab12" * 8


def _values() -> SensitiveValues:
    sv = SensitiveValues()
    sv.add("raw_id", ["1001", "LB-0101-0001", "20230017", "A1001x", "2023-01-05"])
    sv.add("pii:name", ["严鹏泽", "王小明", "ZHANG Wei", "Ouyang", "Si Ze", "gamma7"])
    sv.add("pii:phone", ["17100402724", "+86 171-0040-2724", "(0731) 8888 1234"])
    sv.add("pii:address", ["青山县黄土乡坪上村2组82号", "117.136.2.1(湖南-长沙)"])
    sv.add("pii:other", ["№ 5555", "x©y"])
    return sv


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(_values(), KEY)


MUST_FIND = [
    ("id １００１ here", {"raw_id"}),                    # full-width digits (NFKC)
    ("see id.1001 and more", {"raw_id"}),               # after a letter and a dot
    ("id 1001.0", {"raw_id"}),                          # an integer written as a decimal
    ("id \u200b1001\u200b", {"raw_id"}),                # zero-width spaces around it
    ("id 10\u200b01", {"raw_id"}),                      # ... and inside it
    ("学生严 鹏泽的家长", {"pii:name"}),                  # a CJK name split by a space
    ("严·鹏泽", {"pii:name"}),
    ("王小明", {"pii:name"}),
    ("call +86 171 0040 2724", {"pii:phone"}),          # a phone with its country code
    ("call 008617100402724", {"pii:phone"}),
    ("tel:171.0040.2724", {"pii:phone"}),
    ("(0731)88881234", {"pii:phone"}),
    ("ZHANG WEI was here", {"pii:name"}),               # upper-case Latin name
    ("Wei Zhang", {"pii:name"}),
    ("zhangwei", {"pii:name"}),
    ("ＺＨＡＮＧ　ＷＥＩ", {"pii:name"}),                   # full-width letters and space
    ("lb 0101 0001", {"raw_id"}),
    ("LB-0101-0001.csv", {"raw_id"}),
    ("0.5ouyang", {"pii:name"}),                        # a word after a decimal
    ("2023-01-05t10:00zouyang", {"pii:name"}),         # ... after a UTC timestamp
    ("1.5e3size", {"pii:name"}),                        # ... after an exponent
    ("date 2023/1/5", {"raw_id"}),                      # a date in another spelling
    ("date 2023.01.05", {"raw_id"}),
    ("x 0.1a1001x", {"raw_id"}),                        # a letter-first id after a decimal
    ("gamma7", {"pii:name"}),
    ("from 117.136.2.1 today", {"pii:address"}),
    ("青山县黄土乡坪上村2组82号", {"pii:address"}),
    ("№ 5555", {"pii:other"}),                          # NFKC: no 5555
    ("x©y", {"pii:other"}),
    ("key " + KEY.upper(), {"key"}),
    ("k" + KEY, set()),                                 # inside a longer word: not the key
    ("1.5" + KEY, {"key"}),                             # after a decimal: the key
]

MUST_NOT_FIND = [
    "21001 A1001 p_10013fa 0.1001 1e+1001",
    "王小x明 and 严x鹏泽 apart",
    "217100402724 0.17100402724",
    "zhang-weiwei zhangweix",
    "plain text with no value at all, 3.5 and 0.623120",
]


@pytest.mark.parametrize(("text", "kinds"), MUST_FIND)
def test_the_prefilter_never_clears_a_text_that_holds_a_value(matcher, text, kinds):
    assert matcher._kinds_exhaustive(text) == kinds  # the rule finds it ...
    assert matcher._kinds_whole(text) == kinds       # ... and so does the filtered search
    assert matcher.kinds_in(text) == kinds


@pytest.mark.parametrize("text", MUST_NOT_FIND)
def test_texts_without_values_stay_clear(matcher, text):
    assert matcher._kinds_exhaustive(text) == set()
    assert matcher._kinds_whole(text) == set()


def test_a_plain_text_is_not_cut_into_units(monkeypatch):
    m = Matcher(_values(), KEY)
    calls = []
    real = scan_match._units
    monkeypatch.setattr(scan_match, "_units", lambda low: calls.append(low) or real(low))
    plain = ('<svg><path d="M 483.59952 313.79976 L 51.785 267.09952 z"/>'
             '<text>平均分 3.5 (n = 120)</text></svg>\n') * 200
    assert m.kinds_in(plain) == set()
    assert calls == [] and m.cut == 0
    assert m.kinds_in(plain + "王小明") == {"pii:name"}
    assert calls and m.cut >= 1


def test_digits_that_hold_no_phone_are_not_read_as_phones(monkeypatch):
    m = Matcher(_values(), KEY)
    runs = []
    real = m.index._phone_kinds
    monkeypatch.setattr(m.index, "_phone_kinds", lambda low: runs.append(low) or real(low))
    assert m.kinds_in("M 483.59952 313.79976 L 51.785 267.09952 " * 300) == set()
    assert runs == []
    assert m.kinds_in("x 171 0040 2724 y " + "1.5 " * 300) == {"pii:phone"}
    assert len(runs) == 1


def test_every_unit_of_letters_and_digits_is_a_word_candidate():
    """The claim the filter rests on: each such unit of a text is a word, or the end of
    a word that starts after a digit or a ``z`` (checked against the tokenizer)."""
    rng = random.Random(16)
    parts = ["a", "z", "zou", "1", "0.5", ".5", "1e+5", "1e5", "2023-01-05", "t10:00", "z",
             "2023-01-05t10:00:00.5z", "1.2.3", "-", ".", " ", "_", "王", "é", "٣", "x1",
             "e", "E", "+", "/", "2023/1/5", "1.5e3", "00z"]
    word = re.compile(r"[^\W_]+")
    for _ in range(3000):
        low = _norm("".join(rng.choice(parts) for _ in range(rng.randint(1, 12))))
        units = [u for u in _UNIT_RE.findall(low) if word.fullmatch(u)]
        lengths = tuple(sorted({len(u) for u in units}))
        cands = _word_candidates(low, lengths)
        missing = [u for u in units if u not in cands]
        assert not missing, (low, missing)


TOKENS = ["王", "小明", "王小明", "严", "鹏泽", "严鹏泽", "zhang", "wei", "ZHANG", "Wei", "size",
          "si", "ze", "ouyang", "gamma7", "gamma", "7", "1001", "１００１", "1001.0", "21001",
          "a1001x", "A1001X", "lb", "LB", "0101", "0001", "2023", "01", "05", "2023-01-05",
          "2023/1/5", "17100402724", "171", "0040", "2724", "+86", "0086", "86", "0731",
          "8888", "1234", "117.136.2.1", "117", "136", "青山县", "黄土乡", "坪上村", "2组",
          "82号", "湖南", "长沙", "№", "5555", "x©y", "©", "0.5", ".5", "1e+5", "1.5e3", "z",
          "t10:00", "\u200b", "&amp;", "%20", "\x00", "ab12", KEY, KEY[:-1], "é", "ｚｈａｎｇ"]
SEPARATORS = ["", "", " ", "  ", "-", ".", "·", "\u3000", "/", "(", ")", "\n", "    ", "_",
              ",", ":", "z", "0", "e"]


def test_filtered_and_exhaustive_searches_find_the_same_kinds():
    m = Matcher(_values(), KEY)
    rng = random.Random(20261204)
    seen: set[str] = set()
    for _ in range(4000):
        text = "".join(rng.choice(TOKENS) + rng.choice(SEPARATORS)
                       for _ in range(rng.randint(1, 10)))
        whole = m._kinds_exhaustive(text)
        seen |= whole
        assert m._kinds_whole(text) == whole, text
    assert seen == {"raw_id", "pii:name", "pii:phone", "pii:address", "pii:other", "key"}
    assert m.cut < 4000  # some texts were cleared without being cut


def test_a_unit_without_a_needle_turns_the_filter_off():
    sv = SensitiveValues()
    sv.add("pii:x", ["room .25"])  # a unit ".25" (a decimal without its 0): no needle
    m = Matcher(sv)
    assert not m.index.filterable
    assert m.kinds_in("in Room .25") == {"pii:x"}
    assert m.kinds_in("nothing here") == set() and m.cut == 2


def test_a_phone_across_the_chunks_of_the_digit_reading_is_found(monkeypatch):
    monkeypatch.setattr(scan_match, "_DIGITS_CHUNK", 300)
    m = Matcher(_values(), KEY)
    pad = "1.5 " * 150
    for shift in range(0, 14):  # the phone's digits start at 280 ... 306: across the cut
        text = "0.5 " * shift + "1.5 " * 140 + "x 171-0040-2724 y " + pad
        assert m._kinds_whole(text) == m._kinds_exhaustive(text) == {"pii:phone"}, shift
    assert m._kinds_whole(pad * 3) == set()

"""Phone candidates of a digit run are remembered per value index (issue 16): a text searched
with a warm memo finds what a fresh index finds."""

from __future__ import annotations

from survey.privacy import SensitiveValues
from survey.scan_match import Matcher, ValueIndex


def _values():
    sv = SensitiveValues()
    sv.add("pii:电话", ["+86 171-0040-2724", "0731 8888.1234"])
    sv.add("raw_id", ["20230017"])
    return sv


TEXTS = ["M 483.59952 313.79976 L 51.785 267.09952 " * 50,
         "call 171 0040 2724 or 483.59952 313.79976",
         "0.17100402724 and 217100402724 are no phone; 1.2.3 4.5 is none",
         "170.0040.2724 and +8617100402724",
         "7318888 1234 / 0731 8888 1234",
         "M 483.59952 313.79976"]


def test_a_warm_memo_finds_what_a_fresh_index_finds():
    warm = ValueIndex(_values())
    for _ in range(2):
        for text in TEXTS:
            fresh = ValueIndex(_values())
            assert warm._phone_kinds(text) == fresh._phone_kinds(text), text
    assert warm._candidates  # runs were remembered
    assert warm._phone_kinds(TEXTS[1]) == {"pii:电话"}
    assert warm._phone_kinds(TEXTS[2]) == set()


def test_the_matcher_reports_the_same_kinds_twice():
    sv = _values()
    m = Matcher(sv)
    first = [m.kinds_in(t) for t in TEXTS]
    assert first == [m.kinds_in(t) for t in TEXTS]
    assert first[1] == {"pii:电话"} and first[3] == {"pii:电话"}

"""The privacy scan searches a long text in pieces (survey.scan_match._pieces) and
remembers pieces it has searched: the kinds found must be those of the whole text."""

import random

from survey.privacy import SensitiveValues
from survey.scan_match import _PIECE_MIN, Matcher, _pieces

VALUES = {
    "pii:姓名": ["王小明", "Zhang Wei", "严鹏泽"],
    "pii:电话": ["171-0040-2724", "(0731) 8888 1234", "1.2.3 (x)"],
    "raw_id": ["20230017", "LB-0101-0001"],
}
TOKENS = ["王", "小明", "王小明", "zhang", "wei", "Zhang", "17100402724", "171", "0040",
          "2724", "0731", "8888", "1234", "123", "1.2.3", "20230017", "2023", "0017",
          "lb", "0101", "0001", "-", ".", "(", ")", "+86", "0.623", "&amp;", "%20", "a",
          "<p>", "\x00", "严", "鹏泽", "学生", "1e+5"]


def _matcher() -> Matcher:
    sv = SensitiveValues()
    for kind, values in VALUES.items():
        sv.add(kind, values)
    return Matcher(sv, "ab" * 16)


def _text(rng: random.Random, n: int) -> str:
    parts = []
    for _ in range(n):
        parts.append(rng.choice(TOKENS))
        parts.append(rng.choice(["", " ", "  ", "-", "\n", " " * rng.randint(3, 14),
                                 "\n" + " " * rng.randint(6, 12)]))
    return "".join(parts)


def test_pieces_join_back_to_the_text():
    text = "abc" + " " * 30 + "def\n" + "\n" * 12 + "ghi"
    pieces = list(_pieces(text))
    assert "".join(pieces) == text
    assert len(pieces) == 3
    assert all(p.endswith(" " * 6) or p.endswith("\n" * 6) for p in pieces[:-1])


def test_kinds_in_pieces_equal_kinds_in_the_whole_text():
    m = _matcher()
    rng = random.Random(20261203)
    differ = []
    seen = set()
    for _ in range(300):
        text = _text(rng, rng.randint(30, 160))
        text = text + " " * 12 + "x" * _PIECE_MIN  # long enough to be cut
        whole = m._kinds_whole(text)
        seen |= whole
        if m.kinds_in(text) != whole:
            differ.append(text)
    assert not differ, f"{len(differ)} texts differ, e.g. {differ[0][:300]!r}" if differ else ""
    # the texts did hold values of every kind, found across cuts or not
    assert {"pii:姓名", "pii:电话", "raw_id"} <= seen


def test_a_value_next_to_a_cut_is_found_and_a_remembered_piece_still_counts():
    m = _matcher()
    pad = "y" * _PIECE_MIN
    text = pad + " " * 10 + "电话 171 0040 2724" + " " * 10 + "王小明" + " " * 10 + pad
    assert m.kinds_in(text) == {"pii:电话", "pii:姓名"}
    assert m.kinds_in(text) == {"pii:电话", "pii:姓名"}  # all pieces from memory now
    assert m.kinds_in(pad + " " * 10 + "王小 明" + " " * 12 + pad) == {"pii:姓名"}

"""Encoding detection: strict UTF-8 on the whole file first, then GB18030; overrides."""

import codecs

import pytest

from core.errors import DataError
from survey.encoding import decode_bytes, detect_encoding, normalize_encoding

ZH = "学号,姓名,得分\n007,张三,非常同意\n"


@pytest.mark.parametrize("raw, expected", [
    (ZH.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + ZH.encode("utf-8"), "utf-8-sig"),
    (ZH.encode("gbk"), "gb18030"),
    (ZH.encode("gb18030"), "gb18030"),
    (ZH.encode("utf-16"), "utf-16"),
    (b"id,q1\n1,2\n", "utf-8"),
])
def test_detects(raw, expected):
    assert detect_encoding(raw) == expected
    assert decode_bytes(raw).text.lstrip("\ufeff").startswith("学号") or raw.isascii()


def test_utf8_never_mistaken_for_gb18030():
    # much UTF-8 Chinese text also decodes as GB18030 without error (mojibake)
    raw = "学号,姓名\n007,张三\n".encode()
    assert raw.decode("gb18030") == "瀛﹀彿,濮撳悕\n007,寮犱笁\n"  # the trap
    assert detect_encoding(raw) == "utf-8"
    assert decode_bytes(raw).text.startswith("学号")


def test_bad_byte_after_10kb_is_seen():
    raw = ("a,b\n" + "1,2\n" * 5000).encode() + "张".encode("gbk") + b"\n"
    assert detect_encoding(raw) == "gb18030"  # not utf-8 although the first 20 kB are ASCII


def test_undecodable_names_line_and_offset():
    raw = b"id,q1\n1,2\n3,\x81\x20\n"
    with pytest.raises(DataError) as e:
        detect_encoding(raw, file="x.csv")
    assert e.value.code == "FILE_ENCODING"
    assert "line 3" in e.value.message and "byte offset 12" in e.value.message
    assert e.value.file == "x.csv" and e.value.row == 3


def test_gbk_declared_utf8_is_a_clear_error():
    raw = ("学号,得分\n001,3\n" + "002,非常同意\n").encode("gbk")
    with pytest.raises(DataError) as e:
        decode_bytes(raw, "utf-8", file="w1.csv")
    assert e.value.code == "FILE_ENCODING"
    assert "line 1" in e.value.message and "gb18030" in e.value.message
    assert str(e.value).startswith("[FILE_ENCODING] w1.csv, row 1")


def test_utf8_declared_gbk_is_refused_as_mojibake():
    raw = "学号,得分\n001,3\n".encode()
    with pytest.raises(DataError) as e:
        decode_bytes(raw, "gbk", file="w1.csv")
    assert e.value.code == "FILE_ENCODING" and e.value.row == 1
    assert "line 1" in e.value.message and "mojibake" in e.value.message


def test_utf8_declared_gbk_undecodable_is_error():
    # '€' in UTF-8 is E2 82 AC: 0xE2 0x82 is a GBK pair, then 0xAC + '\n' is not
    raw = "a\n€\n".encode()
    with pytest.raises(DataError) as e:
        decode_bytes(raw, "gbk", file="f.csv")
    assert e.value.code == "FILE_ENCODING" and "line 2" in e.value.message
    assert "utf-8" in e.value.message


def test_declared_ascii_file_no_warning():
    assert decode_bytes(b"a,b\n1,2\n", "gbk").issues == []


def test_unknown_encoding_name():
    with pytest.raises(DataError) as e:
        normalize_encoding("utf-9", file="study.yaml")
    assert e.value.code == "FILE_ENCODING" and "utf-9" in e.value.message


def test_declared_utf8_with_bom_strips_bom():
    d = decode_bytes(codecs.BOM_UTF8 + b"id\n1\n", "UTF8")
    assert d.text == "id\n1\n" and d.encoding == "utf-8-sig"


def test_mixed_gbk_and_utf8_rows_are_refused_naming_both_lines():
    # GBK rows from one export, then UTF-8 rows pasted from another: decodes as GB18030
    # without error, garbling the UTF-8 rows (issue 10)
    raw = "id,姓名,学校\n1,张三,一中\n2,李四,二中\n".encode("gbk") + "3,王五,三中\n".encode()
    with pytest.raises(DataError) as err:
        decode_bytes(raw, file="data/mixed.csv")
    assert err.value.code == "FILE_ENCODING"
    assert "line 4 is UTF-8 but line 1 is not" in str(err.value)
    with pytest.raises(DataError):
        decode_bytes(raw, "gbk", file="data/mixed.csv")


def test_pure_gbk_with_chance_utf8_bytes_is_not_called_mixed():
    import random

    rng = random.Random(3)
    chars = [chr(c) for c in range(0x4E00, 0x9FA5)]
    chars = [c for c in chars if len(c.encode("gbk", "ignore")) == 2][:3500]
    text = "\n".join(",".join("".join(rng.choice(chars) for _ in range(3)) for _ in range(8))
                     for _ in range(5000))
    d = decode_bytes(text.encode("gbk"))
    assert d.encoding == "gb18030" and d.text == text

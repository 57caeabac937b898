"""survey.scanner.ScanCache: files searched while a run goes on are not searched again by
the final scan, and the scan finds what it finds without the cache."""

import base64
import json
import zlib

import pytest

from survey.privacy import SensitiveValues
from survey.scanner import PARALLEL_MIN_BYTES, ScanCache, scan_folder

KEY = "0123456789abcdef" * 4


def _values() -> SensitiveValues:
    sv = SensitiveValues()
    sv.add("pii:姓名", ["王小明", "Zhang Wei"])
    sv.add("pii:电话", ["171-0040-2724"])
    sv.add("raw_id", ["20230017"])
    return sv


def _folder(root, big: bool = False):
    (root / "tables").mkdir(parents=True)
    (root / "reports").mkdir()
    (root / "tables" / "clean.csv").write_text("id,score\np_9f2c41aa03bd77e1,3.5\n", encoding="utf-8")
    (root / "tables" / "leak.csv").write_text("id,name\n20230017,x\n", encoding="utf-8")
    (root / "reports" / "page.html").write_text(
        "<p>call 171 0040 2724</p>" + ("<style>" + " " * 12 + "a{b:c}</style>\n") * 50,
        encoding="utf-8")
    body = b"Comment\x00" + "王小明".encode()
    png = (b"\x89PNG\r\n\x1a\n" + len(body).to_bytes(4, "big") + b"tEXt" + body
           + zlib.crc32(b"tEXt" + body).to_bytes(4, "big"))
    nb = {"cells": [{"outputs": [{"data": {"image/png": base64.b64encode(png).decode()}}]}]}
    (root / "reports" / "nb.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (root / "key-copy.txt").write_text(KEY, encoding="utf-8")
    (root / "damaged.json").write_text("{not json", encoding="utf-8")
    if big:  # enough bytes for the two-process search
        (root / "big.txt").write_text(("lorem ipsum " * 1000 + "\n") * (PARALLEL_MIN_BYTES // 12000 + 2),
                                      encoding="utf-8")


@pytest.mark.parametrize("big", [False, True], ids=["one-process", "two-processes"])
def test_a_cached_scan_finds_what_a_scan_without_cache_finds(tmp_path, big):
    out, key = tmp_path / "out", tmp_path / ".workbench-key"
    key.write_text(KEY, encoding="utf-8")
    _folder(out, big)
    sv = _values()
    plain = scan_folder(out, sv, key_file=key)
    cache = ScanCache(sv, key)
    assert cache.search(out) == plain.files_scanned
    cached = scan_folder(out, sv, key_file=key, cache=cache)
    assert cache.hits == plain.files_scanned  # nothing searched twice
    assert cached.findings == plain.findings
    assert cached.notes == plain.notes
    assert {k for _, k in plain.findings} == {"pii:姓名", "pii:电话", "raw_id", "key"}
    # a cache filled by a scan serves the next scan of the same folder too
    again = scan_folder(out, sv, key_file=key, cache=cache)
    assert again.findings == plain.findings and cache.hits == 2 * plain.files_scanned


def test_a_file_changed_after_it_was_searched_is_searched_again(tmp_path):
    out = tmp_path / "out"
    _folder(out)
    sv = _values()
    cache = ScanCache(sv)
    cache.search(out)
    assert ("tables/clean.csv", "pii:姓名") not in scan_folder(out, sv, cache=cache).findings
    (out / "tables" / "clean.csv").write_text("id,name\np_1,王小明\n", encoding="utf-8")
    (out / "tables" / "leak.csv").unlink()
    (out / "tables" / "new.csv").write_text("Zhang  Wei\n", encoding="utf-8")
    res = scan_folder(out, sv, cache=cache)
    assert res.findings == scan_folder(out, sv).findings
    assert ("tables/clean.csv", "pii:姓名") in res.findings
    assert ("tables/new.csv", "pii:姓名") in res.findings
    assert not any(f == "tables/leak.csv" for f, _ in res.findings)


def test_a_cache_serves_only_its_own_values_and_key(tmp_path):
    _folder(tmp_path / "out")
    cache = ScanCache(_values())
    with pytest.raises(ValueError):
        scan_folder(tmp_path / "out", _values(), cache=cache)
    with pytest.raises(ValueError):
        scan_folder(tmp_path / "out", cache.sensitive, key_file=tmp_path / "k", cache=cache)


def test_a_stopped_cache_searches_no_more_and_the_scan_does_the_rest(tmp_path):
    out = tmp_path / "out"
    _folder(out)
    sv = _values()
    cache = ScanCache(sv)
    cache.stop()
    assert cache.search(out) == 0
    assert scan_folder(out, sv, cache=cache).findings == scan_folder(out, sv).findings
    assert cache.hits == 0

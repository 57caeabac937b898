"""Pseudonyms, the key file, dropping personal columns, and in-memory sensitive values."""

from __future__ import annotations

import copy
import json
import pickle
import stat
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from core.errors import WorkbenchError
from survey.privacy import (
    KEY_FILE_NAME,
    PLATFORM_PII_COLUMNS,
    Pseudonymizer,
    SensitiveValues,
    drop_pii,
    load_or_create_key,
)

# ------------------------------------------------------------------ key file


def test_key_created_once_mode_0600_and_gitignored(tmp_path):
    key = load_or_create_key(tmp_path)
    path = tmp_path / KEY_FILE_NAME
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert content == key.hex() + "\n"
    mtime = path.stat().st_mtime_ns
    assert load_or_create_key(tmp_path) == key
    assert path.stat().st_mtime_ns == mtime and path.read_text() == content
    gi = (tmp_path / ".gitignore").read_text()
    assert "/.workbench-key" in gi.splitlines()
    load_or_create_key(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == gi  # not appended twice


def test_key_really_ignored_by_git(tmp_path):
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("git not available")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    load_or_create_key(tmp_path)
    res = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", KEY_FILE_NAME],
                         capture_output=True, text=True)
    assert res.returncode == 0


def test_existing_gitignore_is_appended_not_clobbered(tmp_path):
    (tmp_path / ".gitignore").write_text("output/\n*.pyc")  # no final newline
    load_or_create_key(tmp_path)
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["output/", "*.pyc"]
    assert "/.workbench-key" in lines


def test_gitignore_already_listing_key_is_left_alone(tmp_path):
    (tmp_path / ".gitignore").write_text(".workbench-key\n")
    load_or_create_key(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == ".workbench-key\n"


@pytest.mark.parametrize("content", ["", "zz" * 32, "ab" * 31, "ab" * 33, "not a key at all"])
def test_malformed_key_is_refused(tmp_path, content):
    (tmp_path / KEY_FILE_NAME).write_text(content)
    with pytest.raises(WorkbenchError) as exc:
        load_or_create_key(tmp_path)
    assert exc.value.code == "PRIVACY_KEY_MALFORMED"
    assert KEY_FILE_NAME in str(exc.value)
    if content:
        assert content not in str(exc.value)
    assert (tmp_path / KEY_FILE_NAME).read_text() == content  # never overwritten


def test_missing_study_folder(tmp_path):
    with pytest.raises(WorkbenchError) as exc:
        load_or_create_key(tmp_path / "nope")
    assert exc.value.code == "PRIVACY_KEY_UNWRITABLE"


# ----------------------------------------------------------------- pseudonyms


def test_pseudonyms_stable_across_runs_and_keyed(tmp_path):
    a = Pseudonymizer(load_or_create_key(tmp_path)).pseudonymize("20230917")
    b = Pseudonymizer(load_or_create_key(tmp_path)).pseudonymize("20230917")
    other = tmp_path / "other"
    other.mkdir()
    c = Pseudonymizer(load_or_create_key(other)).pseudonymize("20230917")
    assert a == b
    assert a != c
    assert a.startswith("p_") and len(a) == 18 and "20230917" not in a


def test_pseudonym_is_hmac_sha256():
    import hashlib
    import hmac

    key = bytes(range(32))
    expected = "p_" + hmac.new(key, b"007", hashlib.sha256).hexdigest()[:16]
    assert Pseudonymizer(key).pseudonymize(" 007\t") == expected


def test_normalization_keeps_leading_zeros():
    p = Pseudonymizer(b"k" * 32)
    assert p.pseudonymize("007") != p.pseudonymize("7")
    assert p.pseudonymize("007") == p.pseudonymize("  007 ")
    assert p.pseudonymize("００７") == p.pseudonymize("007")  # full-width digits
    assert p.pseudonymize("A7") != p.pseudonymize("a7")
    assert p.pseudonymize("") is None and p.pseudonymize(None) is None


def test_series_keeps_index_and_na():
    p = Pseudonymizer(b"k" * 32)
    s = pd.Series(["007", None, "7", "007", " ", np.nan], index=[10, 11, 12, 13, 14, 15], name="sid")
    out = p.pseudonymize_series(s)
    assert list(out.index) == [10, 11, 12, 13, 14, 15] and out.name == "sid"
    assert out.isna().tolist() == [False, True, False, False, True, True]
    assert out[10] == out[13] == p.pseudonymize("007")
    assert out[12] == p.pseudonymize("7")
    assert pd.api.types.is_string_dtype(out.dtype)


def test_series_of_200k_ids_is_fast():
    ids = pd.Series([f"{i:08d}" for i in range(200_000)], dtype="str")
    p = Pseudonymizer(b"k" * 32)
    t0 = time.perf_counter()
    out = p.pseudonymize_series(ids)
    elapsed = time.perf_counter() - t0
    assert out.nunique() == 200_000
    assert elapsed < 4.0  # ~0.5 s measured on an idle core; slack for a shared, loaded machine


def test_key_too_short():
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")


def test_pseudonymizer_hides_key():
    p = Pseudonymizer(b"secretsecretsecret")
    assert "secret" not in repr(p)
    with pytest.raises(TypeError):
        pickle.dumps(p)


# ------------------------------------------------------------------- drop_pii


def test_drop_pii_declared_and_platform_columns():
    df = pd.DataFrame({"序号": [1], "来自IP": ["117.136.2.1(湖南-长沙)"], " 姓名 ": ["欧阳晓雯"],
                       "IPAddress": ["1.2.3.4"], "q1": [3]})
    out, dropped = drop_pii(df, ["姓名"])
    assert list(out.columns) == ["序号", "q1"]
    assert dropped == ["来自IP", " 姓名 ", "IPAddress"]
    assert list(df.columns)[1] == "来自IP"  # input untouched


def test_drop_pii_without_platform_columns_and_absent_declared():
    df = pd.DataFrame({"来自IP": ["x"], "q1": [3]})
    out, dropped = drop_pii(df, ["电话"], platform=False)
    assert list(out.columns) == ["来自IP", "q1"] and dropped == []


def test_platform_columns_documented():
    assert {"来自IP", "IP", "IP地址", "ip_address", "填写人", "微信昵称", "手机号码"} <= PLATFORM_PII_COLUMNS


# ----------------------------------------------------------- SensitiveValues


def test_sensitive_values_ignore_na_and_blank():
    sv = SensitiveValues()
    sv.add("pii:姓名", ["欧阳晓雯", None, np.nan, pd.NA, "", "  ", " 张伟 "])
    sv.add("raw_id", np.array(["LB01", "LB02"], dtype=object))
    sv.add("raw_id", [20230917.0])
    sv.add("pii:empty", [None, ""])
    assert sv.kinds == {"pii:姓名": {"欧阳晓雯", "张伟"}, "raw_id": {"LB01", "LB02", "20230917"}}
    assert len(sv) == 5


def test_sensitive_values_never_shown_or_serialized():
    sv = SensitiveValues()
    sv.add("pii:姓名", ["欧阳晓雯"])
    assert "欧阳晓雯" not in repr(sv) and "欧阳晓雯" not in str(sv) and "欧阳晓雯" not in f"{sv}"
    for attempt in (lambda: pickle.dumps(sv), lambda: sv.to_json(), lambda: copy.deepcopy(sv),
                    lambda: json.dumps(sv)):
        with pytest.raises(TypeError) as exc:
            attempt()
        assert "欧阳晓雯" not in str(exc.value)
    kinds = sv.kinds
    kinds["pii:姓名"].add("x")
    assert sv.kinds["pii:姓名"] == {"欧阳晓雯"}  # .kinds is a copy


def test_concurrent_first_runs_share_one_complete_key(tmp_path):
    """Two runs of a new study at once (two test workers, two terminals) get the same key and
    never read a key file that is still being written."""
    from concurrent.futures import ThreadPoolExecutor

    from survey.privacy import load_or_create_key

    for i in range(20):
        root = tmp_path / f"s{i}"
        root.mkdir()
        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(load_or_create_key, [root] * 8))
        assert len(set(keys)) == 1 and len(keys[0]) == 32
        assert sorted(p.name for p in root.iterdir()) == [".gitignore", ".workbench-key"]

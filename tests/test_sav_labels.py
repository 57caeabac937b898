"""SPSS value labels compared with the instrument (issue 10, "Silent wrong numbers" 3).

A .sav whose value labels say 1 = 非常同意 where the instrument says 4 = 非常同意 was scored
as if the codes were the instrument's (scores inverted: 2.47 instead of 3.53). A labelled
file that contradicts the instrument is ``VALUE_LABELS_CONFLICT`` (error, fatal); a
consistent shift (0-based codes 0-3 carrying the labels of 1-4) is applied with a
``CODES_RELABELED`` warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from survey.study_loader import load_study
from survey.validation import validate

pyreadstat = pytest.importorskip("pyreadstat")

ITEMS = [f"rses_{i}" for i in range(1, 11)]
RSES_ZH = {1: "非常不同意", 2: "不同意", 3: "同意", 4: "非常同意"}


def _study(root, codes: np.ndarray, labels: dict) -> object:
    (root / "data").mkdir(parents=True)
    df = pd.DataFrame({"sid": [f"S{k}" for k in range(len(codes))]})
    for j, item in enumerate(ITEMS):
        df[item] = codes[:, j].astype(float)
    pyreadstat.write_sav(df, str(root / "data" / "w.sav"),
                         variable_value_labels={item: labels for item in ITEMS})
    doc = {"id": "sav", "design": {"type": "cross_sectional", "id": "sid"},
           "instruments": [{"id": "rses"}], "data": [{"path": "data/w.sav"}],
           "outcomes": [{"id": "se", "scale": "rses.total"}]}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


RNG = np.random.default_rng(7)
CODES = RNG.integers(1, 5, size=(12, 10))


def test_labels_that_match_the_instrument_change_nothing(tmp_path):
    res = validate(_study(tmp_path, CODES, {float(k): v for k, v in RSES_ZH.items()}))
    assert res.ok and res.issues == []
    assert (res.data[ITEMS].to_numpy() == CODES).all()


def test_zero_based_codes_with_the_instrument_labels_are_shifted_with_a_note(tmp_path):
    labels = {float(k - 1): v for k, v in RSES_ZH.items()}  # 0 = 非常不同意 ... 3 = 非常同意
    res = validate(_study(tmp_path, CODES - 1, labels))
    (w,) = [i for i in res.issues if i.code == "CODES_RELABELED"]
    assert w.severity == "warning" and "adding +1" in w.message and w.file == "data/w.sav"
    assert res.ok and not res.fatal
    assert (res.data[ITEMS].to_numpy() == CODES).all()  # without the labels: 0 is out of range


def test_reversed_labels_contradict_the_instrument(tmp_path):
    labels = {float(5 - k): v for k, v in RSES_ZH.items()}  # 1 = 非常同意, instrument says 4
    res = validate(_study(tmp_path, CODES, labels))
    bad = [i for i in res.issues if i.code == "VALUE_LABELS_CONFLICT"]
    assert len(bad) == 10 and {i.column for i in bad} == set(ITEMS)
    assert (bad[0].file, bad[0].row) == ("data/w.sav", 1)
    assert "the file labels 1 '非常同意', which is 4 in rses" in bad[0].message
    assert res.fatal and not res.ok  # scores would be inverted: the run stops


def test_labels_the_instrument_does_not_know_are_not_compared(tmp_path):
    res = validate(_study(tmp_path, CODES, {1.0: "never", 4.0: "always"}))
    assert res.ok and not [i for i in res.issues if "LABEL" in i.code]

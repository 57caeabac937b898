"""core.suggest: the one did-you-mean rule (loose match, then difflib at CUTOFF) used everywhere."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd
import pytest

from core.suggest import CUTOFF, closest, did_you_mean, loose_key

ROOT = Path(__file__).resolve().parents[1]


def test_cutoff_is_difflibs_default():
    assert CUTOFF == 0.6


@pytest.mark.parametrize("word, candidates, expected", [
    ("covariate", ["type", "covariates", "subgroups"], "covariates"),
    ("rsse", ["phq9", "rses", "kso"], "rses"),            # ratio 0.75: the least similar tested typo
    ("有点同意", ["非常同意", "同意", "不同意"], "同意"),      # ratio 0.67 (an answer label)
    ("mathach", ["sid", "math"], "math"),                  # ratio 0.73: was below ingest's old 0.75
    ("Baseline ", ["baseline", "endline"], "baseline"),    # case and spaces first
    ("END\u3000LINE", ["baseline", "endline"], "endline"),  # a full-width space is a space
    ("SCHOL", ["school", "n_boot"], "school"),             # case-folded retry
    ("zzz", ["baseline"], None),
    (None, ["baseline"], None),
    ("x", [], None),
])
def test_closest(word, candidates, expected):
    assert closest(word, candidates) == expected


def test_cutoff_is_the_boundary():
    # "abcd" vs "abxy": ratio 0.5 (no suggestion); "abcde" vs "abcxy": 0.6 (suggested)
    assert difflib.SequenceMatcher(None, "abcd", "abxy").ratio() < CUTOFF
    assert closest("abcd", ["abxy"]) is None
    assert difflib.SequenceMatcher(None, "abcde", "abcxy").ratio() == pytest.approx(CUTOFF)
    assert closest("abcde", ["abcxy"]) == "abcxy"


def test_did_you_mean_messages():
    assert did_you_mean("treatmnet", ["control", "treatment"]) == "; did you mean 'treatment'?"
    assert did_you_mean("Control ", ["control"]) == "; did you mean 'control'? (differs only by case/spaces)"
    assert did_you_mean("zzzz", ["pii", "min_cell", "not_pii"]) == ""
    assert did_you_mean("rses", ["rses"]) == ""      # the word itself is no suggestion
    assert did_you_mean(None, ["rses"]) == ""
    assert did_you_mean(7, ["7 "]) == "; did you mean '7 '? (differs only by case/spaces)"


def test_loose_key():
    assert loose_key(" S I D\t") == loose_key("sid") == "sid"


def test_no_other_module_keeps_its_own_cutoff():
    """Every did-you-mean of the library goes through core.suggest: no other difflib matching.

    (``workbench/params.py`` uses it too; add "workbench" here once that change is committed.)
    """
    own = []
    for package in ("core", "survey", "analysis", "evaluation", "workbench"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "suggest.py" and package == "core":
                continue
            if re.search(r"get_close_matches|SequenceMatcher", path.read_text(encoding="utf-8")):
                own.append(str(path.relative_to(ROOT)))
    assert own == []


def test_ingest_column_suggestion_uses_the_shared_cutoff(tmp_path):
    """A missing column 'mathach' next to 'math' (ratio 0.73) is now suggested (0.75 before)."""
    from survey.ingest import read_study_data
    from survey.study_loader import load_study

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "w.csv").write_text("sid,math\n1,50\n2,60\n", encoding="utf-8")
    (tmp_path / "study.yaml").write_text(
        "id: s\ndesign: {type: cross_sectional, id: sid}\ndata: [{path: data/w.csv}]\n"
        "outcomes: [{id: m, column: mathach}]\n", encoding="utf-8")
    res = read_study_data(load_study(tmp_path))
    (issue,) = [i for i in res.issues if i.code == "COLUMN_MISSING"]
    assert issue.message.endswith("is not in the file; did you mean 'math'?")


def test_nearest_answer_label(tmp_path):
    from survey.ingest import convert_items
    from survey.instrument_loader import load_instrument

    rses = load_instrument("rses")
    label = next(t for t in (v.get("zh") for v in rses.response.labels.values()) if t == "同意")
    _, issues = convert_items(pd.Series(["有点同意"]), rses, label_text=True, file="w.csv", header="rses_1")
    (issue,) = issues
    assert issue.code == "LABEL_UNKNOWN" and f"(nearest label: {label!r})" in issue.message

"""The words of the missing-data page (issue 15, review of page 07): the direction of δ for
an outcome where lower is better, CI limits that round to zero keep their sign, and the
headline says the tipping point in plain words in both languages."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pandas as pd

from core.design import Design
from evaluation import sensitivity_tables as sv


def _study(better="lower"):
    return NS(design=Design(type="randomized", id="id", arm="arm", control="c"),
              outcomes=(NS(id="lonely", primary=True, better=better),),
              label=lambda col, v, lang: v)


def _table(tip=0.3, conclusion="negative", lo=-0.6, hi=-0.1):
    return pd.DataFrame({
        "outcome": "lonely", "arm": "t", "control": "c",
        "method": ["complete_case", "mi", "ipw", "lee_lower", "lee_upper", "tipping_delta"],
        "estimate": [-0.3, -0.3, -0.3, -0.4, -0.2, tip],
        "std_error": 0.1, "ci_low": [lo, lo, lo, lo, lo, -0.0000049],
        "ci_high": [hi, hi, hi, hi, hi, 0.41], "n": 100, "n_missing": 10, "fmi": 0.1,
        "inference": "cr2", "note": ["", "", "", "", "", f"side=up;conclusion={conclusion}"],
        "suppressed": False})


def test_delta_for_a_lower_is_better_outcome_says_higher_is_worse():
    txt = sv.delta_text(_study("lower"), _table())
    assert "done worse" not in txt["en"]
    assert "0.30 SD higher (worse, as lower is better here)" in txt["en"]
    assert "更差" in txt["zh"] and "越低越好" in txt["zh"]


def test_delta_for_a_higher_is_better_outcome_names_no_better_or_worse():
    txt = sv.delta_text(_study("higher"), _table(tip=-0.11, conclusion="positive"))
    assert "scored 0.11 SD lower than similar children who stayed" in txt["en"]
    assert "borderline" in txt["en"] and "临界" in txt["zh"]
    assert "lower is better" not in txt["en"]


def test_headline_says_the_tipping_point_in_plain_words_in_both_languages():
    h = sv.headline_sentence(_table(), _study("lower"))
    assert "changes at δ" not in h["en"] and "时改变" not in h["zh"]
    assert "would have scored 0.30 SD higher" in h["en"]
    assert "would include 0" in h["en"]
    assert "得分高 0.30 个标准差" in h["zh"] and "包含 0" in h["zh"]


def test_tipping_ci_limit_that_rounds_to_zero_keeps_its_sign():
    p = sv.sensitivity_published(_table(), _study(), "en")
    detail = " ".join(p.cells("en")["detail"].tolist())
    assert "-0.000005 to 0.41" in detail
    assert "0.00 to 0.41" not in detail

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


# ------------------------------------------------- a design whose primary model is a DiD
def _did_study():
    d = Design(type="controlled", id="id", arm="arm", control="c", clusters=("class_id",))
    return NS(design=d, outcomes=(NS(id="comm", primary=True, better="higher"),
                                  NS(id="lonely", primary=False, better="lower")),
              label=lambda col, v, lang: v,
              column_label=lambda c, lg: "Class" if lg == "en" else "班级")


def _did_table():
    rows = []
    for oid, est, lo, hi in (("comm", 0.21, -0.14, 0.57), ("lonely", -5.93, -10.76, -1.11)):
        for m in ("complete_case", "mi", "ipw"):
            rows.append({"outcome": oid, "arm": "t", "control": "c", "method": m,
                         "estimate": est, "std_error": 1.0, "ci_low": lo, "ci_high": hi,
                         "n": 113, "n_missing": 10, "fmi": 0.1, "inference": "cr2",
                         "note": "model_not_primary" + (";not_estimable" if m == "ipw"
                                                       and oid == "lonely" else ""),
                         "suppressed": False})
    t = pd.DataFrame(rows)
    t.loc[(t["outcome"] == "lonely") & (t["method"] == "ipw"), ["estimate", "ci_low",
                                                                 "ci_high"]] = float("nan")
    return t


_PRIMARY = pd.DataFrame({"outcome": ["comm", "lonely"], "arm": "t", "model": "did",
                         "estimate": [0.29, -8.25], "ci_low": [0.01, -14.12],
                         "ci_high": [0.64, -2.37]})


def test_complete_case_row_is_not_called_primary_and_names_the_primary_model():
    p = sv.sensitivity_published(_did_table(), _did_study(), "en", primary=_PRIMARY)
    c = p.cells("en")
    assert "primary" not in c["method"].iloc[0].lower()
    assert c["method"].iloc[0] == "Complete cases, ANCOVA"
    assert "the primary model (difference in differences) gives -8.25" in " ".join(c["detail"])
    zh = sv.sensitivity_published(_did_table(), _did_study(), "zh", primary=_PRIMARY)
    assert "主要估计" not in " ".join(zh.cells("zh")["method"])


def test_headline_covers_every_outcome_with_a_finding_and_failed_methods():
    h = sv.headline_sentence(_did_table(), _did_study(), primary=_PRIMARY)
    assert "Loneliness" in h["en"] or "lonely" in h["en"]
    assert "inverse probability weighting could not be fitted" in h["en"]
    assert "逆概率加权无法拟合" in h["zh"]
    # the DiD excludes 0 for comm while the ANCOVA does not: said
    assert "The primary model (difference in differences) gives positive" in h["en"]


def test_no_randomization_wording_for_a_non_randomized_design_and_the_level_is_named():
    s = _did_study()
    txt = sv.cluster_text(s)
    assert "randomization" not in txt["en"] and "随机" not in txt["zh"]
    assert "by class" in txt["en"] and "按班级" in txt["zh"]
    summary = pd.DataFrame({"kind": "wave", "level": "cluster", "wave": "end",
                            "variable": "", "group": ["A", "B", "C"], "n": [15, 12, 30],
                            "n_missing": [1, 0, 9], "share_missing": [1 / 15, 0, 0.3]})
    s.design = Design(type="controlled", id="id", arm="arm", control="c", waves=("base", "end"),
                      clusters=("class_id",))
    p = sv.cluster_published(summary, s, "en", min_cell=5)
    assert "by class" in p.caption_en and "各班级" in p.caption_zh
    cells = p.cells("en")
    assert cells["group"].tolist() == ["C", "A", "B"]  # shown, hidden (1-4), none absent
    assert cells["n_missing"].tolist() == ["9", "§", "0"]
    assert cells["n"].tolist() == ["30", "15", "12"]


def test_small_absence_counts_by_arm_show_the_mark():
    t = pd.DataFrame({"kind": "scale", "level": "arm", "wave": "end", "variable": "y",
                      "group": ["c", "t"], "n": [329, 300], "n_missing": [1, 12],
                      "share_missing": [1 / 329, 0.04]})
    s = NS(outcomes=[], label=lambda col, v, lang: v)
    for lang in ("en", "zh"):
        p = sv.missing_published(t, s, lang, min_cell=5)
        assert p.cells(lang)["c"].iloc[0] == "§ / 329"
        assert "1 / 329" not in p.cells(lang).to_string()
        assert p.has_suppressed(lang)


# ------------------------------------------------------------------------ Lee bounds
def test_lee_table_shows_ses_not_a_method_name_and_says_what_is_bounded():
    lee = pd.DataFrame({"outcome": ["lonely"], "arm": "t", "control": "c", "bounds": "basic",
                        "covariate": float("nan"), "trimmed_arm": "t", "trim_share": 0.08,
                        "lower": -6.0, "upper": -2.0, "se_lower": 1.234, "se_upper": 1.5,
                        "ci_low": -8.6, "ci_high": 1.2, "im_critical": 1.9, "im_df": 18.0,
                        "se_method": "cluster_bootstrap"})
    s = _study("lower")
    for lang in ("en", "zh"):
        c = sv.lee_published(lee, s, lang).cells(lang)
        assert c["se"].iloc[0] == "1.23 / 1.50"
        assert "18.0" in c["how"].iloc[0]
    p = sv.lee_published(lee, s, "zh")
    assert "未调整" in p.caption_zh and "unadjusted" in p.caption_en
    t = sv.lee_text(s, lee)
    assert "lower bound is the case most favourable" in t["en"]
    assert "下界是对项目最有利" in t["zh"] and "t 分布" in t["zh"]

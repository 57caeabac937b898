"""The headline of a run (evaluation.headline): badge rules on hand-made effects tables,
the numbers equal to effects.csv rounded, banners, claims, attrition and counts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from evaluation.headline import BADGES, badge, fmt_estimate, fmt_p, headline, write_summary

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "county-cluster-trial"
COLUMNS = ["outcome", "arm", "control", "model", "estimate", "std_error", "df", "ci_low",
           "ci_high", "p_value", "p_adjusted", "effect_size", "effect_size_ci_low",
           "effect_size_ci_high", "n_obs", "n_clusters", "primary", "n_smallest_arm",
           "suppressed", "suppression_reason"]
# the primary rows of the county example's effects.csv (ols_cr2), and a secondary row
COUNTY = [
    ["communication", "treatment", "control", "ols_cr2", 0.2236347226, 0.09143943049, 16.695368,
     0.03044588948, 0.4168235557, 0.02585762609, 0.07757287826, 0.3464085562, 0.04716046102,
     0.6456566515, 696, 20.0, True, 329.0, False, None],
    ["communication", "treatment", "control", "mixed_reml", 0.2389161742, 0.09001578703,
     17.12176474, 0.04910229822, 0.4287300502, 0.01662499872, 0.04987499616, 0.3700794135,
     0.07605910226, 0.6640997247, 696, 20.0, False, 329.0, False, None],
    ["loneliness", "treatment", "control", "ols_cr2", -0.9703477066, 1.404621851, 16.69117166,
     -3.938023175, 1.997327762, 0.4991710856, 0.9983421713, -0.08924840729, -0.3622024289,
     0.1837056143, 696, 20.0, True, 329.0, False, None],
    ["self_esteem", "treatment", "control", "ols_cr2", 0.01197465565, 0.7881433322, 16.65918259,
     -1.65345762, 1.677406932, 0.9880582842, 0.9983421713, 0.001996811832, -0.2757193056,
     0.2797129292, 695, 20.0, True, 328.0, False, None],
]


def _run(tmp_path: Path, rows, *, design="cluster_randomized", better=None, language="en",
         attrition=None, claims=None, counts=True) -> Path:
    """A run folder with the county study's snapshot (design type and ``better`` changed)
    and hand-made tables."""
    from survey import load_study
    from survey.snapshot import SNAPSHOT_NAME, write_snapshot

    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    path = write_snapshot(load_study(EXAMPLE), run / SNAPSHOT_NAME, language=language)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["study"]["design"]["type"] = design
    if design == "pre_post":
        raw["study"]["design"].update(arm=None, control=None)
    for o in raw["study"]["outcomes"]:
        o["better"] = (better or {}).get(o["id"], o["better"])
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    if rows is not None:
        table = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=COLUMNS)
        table.to_csv(run / "tables" / "effects.csv", index=False)
    if attrition is not None:
        attrition.to_csv(run / "tables" / "attrition.csv", index=False)
    if claims is not None:
        claims.to_csv(run / "tables" / "claims.csv", index=False)
    if counts:
        (run / "validation").mkdir()
        (run / "validation" / "report.json").write_text(json.dumps({"counts": {
            "rows_read": 1474, "rows_clean": 1470, "rows_quarantined": 4, "errors": 2,
            "warnings": 6}}), encoding="utf-8")
    return run


def _row(outcome, est, lo, hi, p, p_adj, *, model="ols_cr2", primary=True, arm="treatment",
         suppressed=False):
    return [outcome, arm, "control" if arm else None, model, est, 0.1, 16.0, lo, hi, p, p_adj,
            est / 2, lo / 2, hi / 2, 696, 20.0, primary, 329.0, suppressed, None]


# -- the badge rules ------------------------------------------------------------------------


@pytest.mark.parametrize("est, lo, hi, p_adj, better, design, expected", [
    # randomized: "effective" only when the CI excludes 0 on the better side and adj p < alpha
    (0.30, 0.10, 0.50, 0.010, "higher", "cluster_randomized", "effective"),
    (0.30, 0.10, 0.50, 0.010, "higher", "randomized", "effective"),
    (-0.30, -0.50, -0.10, 0.010, "higher", "randomized", "harmful"),
    # a falling outcome (better: lower): a decrease is the good direction
    (-0.30, -0.50, -0.10, 0.010, "lower", "randomized", "effective"),
    (0.30, 0.10, 0.50, 0.010, "lower", "randomized", "harmful"),
    # significant before, not after, the correction for several outcomes
    (0.22, 0.03, 0.42, 0.078, "higher", "cluster_randomized", "inconclusive"),
    (0.22, 0.03, 0.42, 0.050, "higher", "cluster_randomized", "inconclusive"),  # p = alpha
    # the CI includes 0 (also when it only touches it)
    (-0.97, -3.94, 2.00, 0.998, "lower", "cluster_randomized", "no_evidence"),
    (0.20, 0.00, 0.40, 0.010, "higher", "randomized", "no_evidence"),
    # pre/post: a change, never "effective"
    (0.20, 0.05, 0.35, 0.010, "higher", "pre_post", "improved"),
    (0.20, 0.05, 0.35, 0.010, "lower", "pre_post", "worsened"),
    (0.20, -0.05, 0.44, 0.108, "higher", "pre_post", "no_evidence_change"),
    (0.20, 0.05, 0.35, 0.200, "higher", "pre_post", "inconclusive"),
    # not randomized: a difference between groups, never "effective"
    (0.30, 0.10, 0.50, 0.010, "higher", "controlled", "favours_program"),
    (-0.30, -0.50, -0.10, 0.010, "lower", "controlled", "favours_program"),
    (-0.30, -0.50, -0.10, 0.010, "higher", "controlled", "favours_control"),
    (0.30, -0.10, 0.50, 0.300, "higher", "controlled", "no_evidence_difference"),
    (0.30, 0.10, 0.50, 0.010, "higher", "cross_sectional", "favours_program"),
    # missing numbers (a suppressed row)
    (float("nan"), float("nan"), float("nan"), float("nan"), "higher", "randomized",
     "not_reported"),
])
def test_badge_rules(est, lo, hi, p_adj, better, design, expected):
    assert badge(est, lo, hi, p_adj, better=better, design=design, alpha=0.05) == expected


def test_effective_is_only_said_of_randomized_designs():
    for design in ("pre_post", "controlled", "cross_sectional"):
        for better, sign in (("higher", 1), ("lower", -1)):
            got = badge(sign * 0.5, sign * 0.2 if sign > 0 else -0.8,
                        0.8 if sign > 0 else -0.2, 0.001, better=better, design=design)
            assert got not in ("effective", "harmful"), (design, better, got)


def test_badge_rejects_an_unknown_direction():
    with pytest.raises(ValueError, match="better"):
        badge(0.1, 0.0, 0.2, 0.5, better="up", design="randomized")


def test_alpha_decides_and_labels_the_interval(tmp_path):
    assert badge(0.2, 0.01, 0.4, 0.08, better="higher", design="randomized",
                 alpha=0.10) == "effective"
    assert badge(0.2, 0.01, 0.4, 0.08, better="higher", design="randomized",
                 alpha=0.05) == "inconclusive"


# -- the headline of a run ------------------------------------------------------------------


def test_county_numbers_equal_effects_csv_rounded(tmp_path):
    run = _run(tmp_path, COUNTY)
    h = headline(run)
    eff = pd.read_csv(run / "tables" / "effects.csv")
    primary = eff[eff["primary"]].reset_index(drop=True)
    assert h.table["outcome"].tolist() == ["communication", "loneliness", "self_esteem"]
    assert h.table["model"].tolist() == ["ols_cr2"] * 3  # the primary model, not mixed_reml
    for col in ("estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "effect_size",
                "effect_size_ci_low", "effect_size_ci_high"):
        assert h.table[col].tolist() == pytest.approx(primary[col].tolist(), rel=0, abs=0), col
    assert h.table["badge"].tolist() == ["inconclusive", "no_evidence", "no_evidence"]
    assert h.table["effect_size_kind"].tolist() == ["g"] * 3
    assert h.table["n_outcomes"].tolist() == [3, 3, 3]
    en = h.headline_sentences("en")
    comm = next(s for s in en if s.startswith("Communication"))
    r = primary.iloc[0]
    for text in (f"{r.estimate:+.2f}", f"{r.ci_low:+.2f} to {r.ci_high:+.2f}",
                 f"g = {r.effect_size:+.2f}", "p = .026",
                 "adjusted p = .078 [Holm across 3 outcomes]",
                 "Inconclusive", "higher is better"):
        assert text in comm, text
    lone = next(s for s in en if s.startswith("Loneliness"))
    assert "lower is better" in lone and "-0.97 points" in lone and "No evidence of effect" in lone
    assert "not proof that there is none" in lone
    zh = h.headline_sentences("zh")
    assert any("无法确定" in s and "+0.22" in s and "校正p = .078［在3个结局中做Holm校正］" in s
               for s in zh)
    assert "Effect (Mentoring minus Comparison)" in comm  # the study's arm labels
    assert h.banner is None  # cluster-randomized: no banner


def test_a_falling_outcome_that_falls_is_effective(tmp_path):
    rows = [_row("loneliness", -3.0, -5.0, -1.0, 0.004, 0.012)]
    h = headline(_run(tmp_path, rows, design="randomized"))
    assert h.table.loc[0, "better"] == "lower" and h.table.loc[0, "badge"] == "effective"
    s = h.headline_sentences("en")[0]
    assert "Effective" in s and "lower is better" in s and "-3.00 points" in s
    rows = [_row("loneliness", 3.0, 1.0, 5.0, 0.004, 0.012)]
    h = headline(_run(tmp_path / "b", rows, design="randomized"))
    assert h.table.loc[0, "badge"] == "harmful"


def test_pre_post_says_the_change_and_carries_the_causal_banner(tmp_path):
    from analysis.effects_rules import causal_statement
    from core.design import Design

    rows = [_row("communication", 0.25, 0.10, 0.40, 0.002, 0.002, model="change_cr2", arm=None),
            _row("communication", 0.25, 0.12, 0.38, 0.001, 0.001, model="paired_t", arm=None,
                 primary=False)]
    h = headline(_run(tmp_path, rows, design="pre_post", language="zh"))
    assert h.table["model"].tolist() == ["change_cr2"]
    assert h.table.loc[0, "badge"] == "improved" and h.table.loc[0, "effect_size_kind"] == "d_z"
    d = Design(type="pre_post", id="id", waves=("t0", "t1"))
    assert h.banner == {"en": causal_statement(d, "en"), "zh": causal_statement(d, "zh")}
    for lang in ("en", "zh"):
        said = " ".join(h.headline_sentences(lang))
        assert "Effective" not in said and "有效" not in said
    assert h.headline_sentences("en")[0] == "Caution: " + causal_statement(d, "en")
    assert "Improved (change, not effect)" in h.headline_sentences("en")[1]
    assert "d_z = +0.12" in h.headline_sentences("en")[1]  # the hand-made d_z (est / 2)


def test_non_randomized_gets_its_banner_and_no_effective_badge(tmp_path):
    from evaluation.headline import NON_RANDOMIZED_STATEMENT

    rows = [_row("communication", 0.3, 0.1, 0.5, 0.001, 0.003)]
    h = headline(_run(tmp_path, rows, design="controlled"))
    assert h.table.loc[0, "badge"] == "favours_program"
    assert h.banner["en"].startswith(NON_RANDOMIZED_STATEMENT["en"])
    assert "cannot rule out confounding" in h.headline_sentences("en")[0]
    assert "no causal claim" in h.headline_sentences("en")[0]


def test_only_the_primary_model_decides(tmp_path):
    rows = [_row("communication", 0.1, -0.1, 0.3, 0.3, 0.3),
            _row("communication", 0.5, 0.3, 0.7, 0.0001, 0.0001, model="mixed_reml",
                 primary=False)]
    h = headline(_run(tmp_path, rows))
    assert h.table["model"].tolist() == ["ols_cr2"] and h.table.loc[0, "badge"] == "no_evidence"


def test_a_suppressed_row_is_not_reported_and_shows_no_number(tmp_path):
    rows = [_row("communication", 0.3, 0.1, 0.5, 0.001, 0.003, suppressed=True)]
    h = headline(_run(tmp_path, rows))
    assert h.table.loc[0, "badge"] == "not_reported"
    s = h.headline_sentences("en")[0]
    assert BADGES["not_reported"]["en"] in s and "0.3" not in s


def test_several_arms_name_the_arm(tmp_path):
    rows = [_row("communication", 0.3, 0.1, 0.5, 0.001, 0.003, arm="mentoring"),
            _row("communication", 0.1, -0.1, 0.3, 0.3, 0.3, arm="letters")]
    h = headline(_run(tmp_path, rows))
    assert h.table["arm"].tolist() == ["letters", "mentoring"]
    assert h.table["badge"].tolist() == ["no_evidence", "effective"]
    assert h.table["n_outcomes"].tolist() == [1, 1]
    en = h.headline_sentences("en")
    assert "(mentoring vs Comparison)" in en[1] and "(letters vs Comparison)" in en[0]


def test_without_effects_the_headline_has_counts_claims_and_banner(tmp_path):
    claims = pd.DataFrame([{"claim": "82% improved", "claimed_proportion": 0.82, "n": 61,
                            "ci_low": 0.7053, "ci_high": 0.8962, "null_proportion": 0.5,
                            "observed_treatment": 0.61, "observed_control": None,
                            "verdict": "long text", "claim_id": "comm-82",
                            "has_comparison": False}])
    h = headline(_run(tmp_path, None, design="pre_post", claims=claims))
    assert not h.has_effects and h.table.empty
    en = h.headline_sentences("en")
    assert en[0].startswith("Caution: This is a one-group before-after comparison")
    assert "no effect estimates" in en[1]
    claim = next(s for s in en if s.startswith("Claim comm-82"))
    assert "Above the no-change share" in claim and "82% of 61" in claim
    assert "71% to 90%" in claim and "about 50%" in claim and "Without a comparison" in claim
    assert en[-1] == ("Data quality: 1474 rows read, 4 quarantined, 1470 kept for "
                      "analysis (one row per child and wave).")
    assert h.claims.loc[0, "verdict"] == "above_null"


@pytest.mark.parametrize("lo, hi, expected", [(0.40, 0.60, "consistent_with_no_change"),
                                              (0.20, 0.45, "below_null")])
def test_claim_verdicts(tmp_path, lo, hi, expected):
    claims = pd.DataFrame([{"claim": "c", "claimed_proportion": (lo + hi) / 2, "n": 40,
                            "ci_low": lo, "ci_high": hi, "null_proportion": 0.5,
                            "verdict": "x"}])
    h = headline(_run(tmp_path, COUNTY, claims=claims))
    assert h.claims.loc[0, "verdict"] == expected


def test_attrition_gets_the_wwc_class_of_the_cautious_boundary(tmp_path):
    att = pd.DataFrame({"arm": ["control", "treatment", "overall"], "allocated": [382, 396, 778],
                        "enrolled": [382, 396, 778], "followed_up": [329, 367, 696],
                        "analysed": [329, 367, 696], "lost": [53, 29, 82],
                        "attrition_rate": [0.1387434555, 0.07323232323, 0.1053984576],
                        "differential_pp": [None, -6.551113227, None],
                        "suppressed": [False] * 3, "suppression_reason": [None] * 3})
    h = headline(_run(tmp_path, COUNTY, attrition=att))
    a = h.attrition
    assert a["wwc"] == "high" and round(a["overall_pp"], 2) == 10.54
    assert round(a["differential_pp"], 2) == 6.55 and (a["allocated"], a["analysed"]) == (778, 696)
    s = h.attrition_sentence("en")
    assert "overall attrition 10.5%" in s and "6.6 percentage points" in s
    assert "high attrition under the WWC cautious boundary" in s
    assert "高流失" in h.attrition_sentence("zh")
    # without wwc_* columns (older runs) both classes are computed here
    from analysis.attrition_standards import wwc_attrition

    optimistic = wwc_attrition(a["overall_pp"], a["differential_pp"], boundary="optimistic")
    assert a["wwc_cautious"] == "high"
    assert a["wwc_optimistic"] == optimistic.loc[0, "attrition"]
    # the same numbers in a non-randomized study: no WWC class (a randomized-trial standard)
    h = headline(_run(tmp_path / "c", COUNTY, design="controlled", attrition=att))
    assert h.attrition["wwc"] is None and h.attrition["wwc_optimistic"] is None
    s = h.attrition_sentence("en")
    assert "boundary" not in s and "apply to randomized trials" in s
    assert "只适用于随机试验" in h.attrition_sentence("zh")
    assert "778 children at baseline" in s
    # one group (pre/post): no comparison to classify or to check for equivalence
    one = att[att["arm"] == "overall"]
    h = headline(_run(tmp_path / "p", None, design="pre_post", attrition=one))
    # nobody was allocated: the children at baseline
    assert h.attrition_sentence("en") == ("Attrition: 778 children at baseline, 696 analysed, "
                                          "overall attrition 10.5%.")
    assert "分配" not in h.attrition_sentence("zh") and "基线时有778名儿童" in h.attrition_sentence("zh")


def test_attrition_reads_both_wwc_classes_from_the_table(tmp_path):
    att = pd.DataFrame({"arm": ["control", "treatment", "overall"], "allocated": [382, 396, 778],
                        "analysed": [329, 367, 696],
                        "attrition_rate": [0.1387434555, 0.07323232323, 0.1053984576],
                        "differential_pp": [None, -6.551113227, None],
                        "wwc_overall_pp": [None, 10.53984576, 10.53984576],
                        "wwc_differential_pp": [None, 6.551113227, 6.551113227],
                        "wwc_cautious": [None, "high", "high"],
                        "wwc_optimistic": [None, "undetermined", "undetermined"],
                        "suppressed": [False] * 3})
    h = headline(_run(tmp_path, COUNTY, attrition=att))
    assert (h.attrition["wwc_cautious"], h.attrition["wwc_optimistic"]) == ("high",
                                                                           "undetermined")
    s = h.attrition_sentence("en")
    assert ("high attrition under the WWC cautious boundary and undetermined attrition under "
            "the optimistic boundary (child level)") in s
    assert "disagree" in s and "High attrition can bias" in s
    assert "按WWC谨慎边界为高流失，按乐观边界为流失等级无法确定" in h.attrition_sentence("zh")


def test_counts_come_from_the_manifest_before_the_validation_report(tmp_path):
    run = _run(tmp_path, COUNTY)
    (run / "manifest.json").write_text(json.dumps({"steps": [{"name": "validate", "counts": {
        "rows_read": 10, "rows_clean": 9, "rows_quarantined": 1}}]}), encoding="utf-8")
    assert headline(run).counts["rows_read"] == 10
    assert headline(run, counts={"rows_read": 5, "rows_quarantined": 0,
                                 "rows_clean": 5}).counts["rows_read"] == 5
    (run / "manifest.json").unlink()
    assert headline(run).counts["rows_read"] == 1474


def test_summary_md_is_in_the_run_language_first(tmp_path):
    run = _run(tmp_path, COUNTY, language="zh")
    h = headline(run)
    text = write_summary(h, run / "reports" / "summary.md").read_text(encoding="utf-8")
    zh_at, en_at = text.index("无法确定"), text.index("Inconclusive")
    assert zh_at < en_at
    assert text.startswith("# 县域留守儿童结对帮扶项目")
    assert "\n# County mentoring program" in text
    assert h.terminal_text().startswith("结论:\n  - ")
    assert "Inconclusive" in h.terminal_text("en")


def test_formatting():
    assert fmt_estimate(0.2236) == "+0.22" and fmt_estimate(-0.004) == "-0.004"
    assert fmt_estimate(0.0) == "0.00"
    assert fmt_p(0.0004) == "< .001" and fmt_p(0.02585) == ".026" and fmt_p(0.9999) == "1.000"


# -- what each design estimates, the families of the adjusted p, the E-value ---------------

NEW = ["estimand", "family", "e_value", "e_value_ci"]


def _table(rows, extra):
    """An effects table of ``rows`` with the columns of issue 13 (``extra``: one list per row)."""
    return pd.concat([pd.DataFrame(rows, columns=COLUMNS),
                      pd.DataFrame(extra, columns=NEW)], axis=1)


def test_randomized_says_effect_and_names_the_family_of_each_adjusted_p(tmp_path):
    rows = [_row("communication", 0.22, 0.03, 0.42, 0.026, 0.026),
            _row("loneliness", -3.0, -5.0, -1.0, 0.004, 0.008),
            _row("self_esteem", 0.1, -1.0, 1.2, 0.6, 0.6)]
    extra = [["effect", "primary", None, None], ["effect", "secondary", None, None],
             ["effect", "secondary", None, None]]
    h = headline(_run(tmp_path, _table(rows, extra)))
    assert h.table["estimand"].tolist() == ["effect"] * 3
    assert h.table["family"].tolist() == ["primary", "secondary", "secondary"]
    assert h.table["n_outcomes"].tolist() == [1, 2, 2]
    assert (h.estimand, h.estimand_label("en"), h.estimand_label("zh")) == ("effect", "Effect",
                                                                           "效果")
    # the primary outcome is its own family: effective at p = .026 (Holm with the others
    # would have made it .078 without a word, issue 13.3)
    assert h.table["badge"].tolist() == ["effective", "effective", "no_evidence"]
    en = h.headline_sentences("en")
    assert en[0].startswith("Communication") and "Effect (Mentoring minus Comparison)" in en[0]
    assert "p = .026 [the primary outcome is its own family: no adjustment needed]" in en[0]
    assert "adjusted p" not in en[0]
    assert "p = .004, adjusted p = .008 [Holm across 2 secondary outcomes]" in en[1]
    assert "also after adjustment for testing 2 secondary outcomes" in en[1]
    zh = h.headline_sentences("zh")
    assert "主要结局单独成为一个检验族：无需校正" in zh[0]
    assert "校正p = .008［在2个次要结局中做Holm校正］" in zh[1]
    short = [h.family_note(r, lang, short=True) for lang in ("en", "zh")
             for _, r in h.table.iterrows()]
    assert short == ["own family: none needed", "Holm, 2 secondary", "Holm, 2 secondary",
                     "单独成族：无需校正", "Holm，2个次要结局", "Holm，2个次要结局"]
    assert h.banner is None
    for lang in ("en", "zh"):
        said = " ".join(h.headline_sentences(lang))
        assert "E-value" not in said and "E值" not in said  # randomized: no confounding to size


def test_non_randomized_says_adjusted_difference_with_banner_and_e_value(tmp_path):
    from evaluation.headline import NON_RANDOMIZED_STATEMENT, PARALLEL_TRENDS

    rows = [_row("communication", 0.29, -0.06, 0.64, 0.089, 0.089, model="did"),
            _row("communication", 0.21, -0.14, 0.57, 0.2, 0.2, model="ols_cr2", primary=False),
            _row("loneliness", -8.2, -14.1, -2.4, 0.012, 0.023, model="did")]
    extra = [["adjusted_difference", "primary", 2.5395, 1.0],
             ["adjusted_difference", "primary", 2.1454, 1.0],
             ["adjusted_difference", "secondary", 3.5316, 1.7622]]
    h = headline(_run(tmp_path, _table(rows, extra), design="controlled"))
    assert h.table["model"].tolist() == ["did", "did"]
    assert h.table["estimand"].tolist() == ["adjusted_difference"] * 2
    assert h.table["e_value"].tolist() == [2.5395, 3.5316]
    assert h.table["badge"].tolist() == ["no_evidence_difference", "favours_program"]
    assert (h.estimand_label("en"), h.estimand_label("zh")) == ("Adjusted difference",
                                                               "调整后差异")
    en, zh = h.banner["en"], h.banner["zh"]
    assert en.startswith(NON_RANDOMIZED_STATEMENT["en"]) and "cannot rule out confounding" in en
    assert PARALLEL_TRENDS["en"] in en and PARALLEL_TRENDS["zh"] in zh  # did is primary
    # the primary outcome's E-value in words, from effects.csv
    assert "E-value of Communication and help-seeking total (mean 1-5): 2.54" in en
    assert "risk ratio of at least 2.54 each" in en and "E-value of the interval 1.00" in en
    assert zh.startswith(NON_RANDOMIZED_STATEMENT["zh"]) and "无法排除混杂" in zh
    assert "E值为2.54" in zh and "区间的E值为1.00" in zh
    s = h.headline_sentences("en")
    assert s[0] == "Caution: " + en
    assert ("Adjusted difference (Mentoring minus Comparison, not randomized, difference in "
            "differences): +0.29 points") in s[1]
    assert "E-value 3.53 (for the confidence limit: 1.76)" in s[2]
    assert "调整后差异（结对帮扶减对照组，非随机，双重差分）：+0.29 分" in h.headline_sentences("zh")[1]
    for lang in ("en", "zh"):
        said = " ".join(h.headline_sentences(lang))
        assert "Effect (" not in said and "效果（" not in said
        assert BADGES["effective"][lang] not in said.replace("无效果证据", "")


def test_pre_post_says_change(tmp_path):
    rows = [_row("communication", 0.25, 0.10, 0.40, 0.002, 0.002, model="change_cr2", arm=None)]
    h = headline(_run(tmp_path, _table(rows, [["change", "primary", None, None]]),
                      design="pre_post"))
    assert (h.estimand, h.estimand_label("en"), h.estimand_label("zh")) == ("change", "Change",
                                                                           "变化")
    s = h.headline_sentences("en")[1]
    assert "Change: the mean change from the first to the last wave was +0.25 points" in s
    assert "Effect (" not in s and "E-value" not in s
    assert "变化：从前测到后测平均变化 +0.25 分" in h.headline_sentences("zh")[1]


def test_without_the_new_columns_the_design_decides_and_the_e_value_is_computed(tmp_path):
    from analysis.evalue import evalue_smd

    rows = [_row("communication", 0.3, 0.1, 0.5, 0.001, 0.003)]  # g = 0.15 (0.05, 0.25)
    h = headline(_run(tmp_path, rows, design="controlled"))
    assert h.table.loc[0, "estimand"] == "adjusted_difference"
    want = evalue_smd(0.15, ci_low=0.05, ci_high=0.25).iloc[0]
    assert h.table.loc[0, "e_value"] == pytest.approx(want["evalue"])
    assert h.table.loc[0, "e_value_ci"] == pytest.approx(want["evalue_ci"])
    assert f"E-value of Communication and help-seeking total (mean 1-5): " \
           f"{want['evalue']:.2f}" in h.banner["en"]
    assert "would move the confidence interval" in h.banner["en"]  # its CI excludes 0
    assert "parallel trends" not in h.banner["en"]  # the primary model is not did
    # a randomized table without the columns: effect
    h = headline(_run(tmp_path / "r", rows))
    assert h.table.loc[0, "estimand"] == "effect" and math.isnan(h.table.loc[0, "e_value"])


def test_adjust_none_says_not_adjusted(tmp_path):
    run = _run(tmp_path, COUNTY)
    raw = json.loads((run / "study.json").read_text(encoding="utf-8"))
    raw["study"]["analysis"]["adjust"] = "none"
    (run / "study.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    h = headline(run)
    s = h.headline_sentences("en")[0]
    assert "p = .026 [not adjusted (adjust: none)]" in s and "adjusted p" not in s


def test_a_claim_is_compared_with_the_studys_own_data(tmp_path):
    claims = pd.DataFrame([{"claim": "82% improved", "claimed_proportion": 0.82, "n": 61,
                            "ci_low": 0.7053, "ci_high": 0.8962, "null_proportion": 0.5,
                            "observed_treatment": 0.6066, "observed_treatment_ci_low": 0.4812,
                            "observed_treatment_ci_high": 0.7190, "data_support": "below_claim",
                            "maturation_drift_sd": 0.7109, "verdict": "long text",
                            "claim_id": "comm-82", "has_comparison": False}])
    h = headline(_run(tmp_path, None, design="pre_post", claims=claims))
    en = next(s for s in h.headline_sentences("en") if s.startswith("Claim comm-82"))
    assert ("In this study's own data 61% improved by the same definition (95% CI 48% to 72%): "
            "below the claimed share.") in en
    assert en.startswith("Claim comm-82 (82% of 61 children improved, 95% CI 71% to 90%): "
                         "Not supported by the study's data.")
    assert h.claims.loc[0, "verdict"] == "below_claim"  # the study's own data decide
    assert "With no change at all about 50% would look improved." in en
    assert "A common rise of 0.71 SD" in en
    zh = next(s for s in h.headline_sentences("zh") if s.startswith("声称 comm-82"))
    assert "有61%的儿童改善（95%置信区间 48% 至 72%），低于声称的比例" in zh and "0.71个标准差" in zh
    assert "：本研究数据不支持。" in zh


def test_non_randomized_groups_unequal_on_the_outcome_at_baseline_get_a_caveat(tmp_path):
    """The two-school example's loneliness: the program school started 0.45 SD lonelier;
    its adjusted difference gets a warning, the outcomes within the bound do not."""
    run = _run(tmp_path, COUNTY, design="controlled")
    pd.DataFrame({"sample": ["randomized", "randomized", "analysed", "randomized"],
                  "variable": ["cls.total", "pcc.total", "cls.total", "age"],
                  "arm": "treatment", "smd": [0.45, -0.16, 0.10, 0.9]}).to_csv(
        run / "tables" / "balance.csv", index=False)
    h = headline(run)
    smd = dict(zip(h.table["outcome"], h.table["baseline_smd"]))
    assert smd["loneliness"] == 0.45 and smd["communication"] == -0.16  # randomized sample
    assert math.isnan(smd["self_esteem"])
    lone = h.outcome_sentence(h.table[h.table["outcome"] == "loneliness"].iloc[0], "en")
    comm = h.outcome_sentence(h.table[h.table["outcome"] == "communication"].iloc[0], "en")
    assert "not equivalent at baseline" in lone and "+0.45" in lone
    assert "not equivalent" not in comm
    zh = h.outcome_sentence(h.table[h.table["outcome"] == "loneliness"].iloc[0], "zh")
    assert "基线不可比" in zh and "+0.45" in zh
    # a randomized trial's chance imbalance is not this caveat (balance page handles it)
    run_r = _run(tmp_path / "r", COUNTY)
    (run / "tables" / "balance.csv").replace(run_r / "tables" / "balance.csv")
    h = headline(run_r)
    assert all("not equivalent" not in h.outcome_sentence(r, "en") for _, r in h.table.iterrows())


# --- program delivery (issue 14): a line from tables/fidelity.csv, a CACE line from dose.csv


def _fidelity(home=0.7029671717, phone=0.7231691919, received=0.5151515152):
    rows = []
    for act, share in (("home_visit", home), ("phone_call", phone), ("all", 0.71)):
        rows.append({"section": "summary", "activity": act, "level": "overall", "group": "all",
                     "period": "all", "measure": "child_periods", "n_children": 396,
                     "share_met": share, "suppressed": False})
    rows.append({"section": "summary", "activity": "all", "level": "overall", "group": "all",
                 "period": "all", "measure": "children_received", "n_children": 396,
                 "share_met": received, "ci_low": 0.3698152837, "ci_high": 0.6579694796,
                 "suppressed": False})
    return pd.DataFrame(rows)


def _dose(f=43.7):
    return pd.DataFrame([
        {"analysis": "dose_band", "outcome": "communication", "arm": "treatment", "band": "none",
         "n": 16, "mean_change": -0.3, "causal_status": "association"},
        {"analysis": "cace_received", "outcome": "communication", "arm": "treatment",
         "n": 696, "estimate": 0.3987, "ci_low": 0.0312, "ci_high": 0.7649, "p_value": 0.0341,
         "ar_p_value": 0.0291, "first_stage_f": f, "causal_status": "complier_effect"},
        {"analysis": "cace_share", "outcome": "communication", "arm": "treatment",
         "n": 696, "estimate": 0.2992, "ci_low": 0.0178, "ci_high": 0.5805, "p_value": 0.0385,
         "ar_p_value": 0.0291, "first_stage_f": 241.7 if f > 10 else f,
         "causal_status": "dose_effect"},
        {"analysis": "cace_received", "outcome": "loneliness", "arm": "treatment",
         "n": 696, "estimate": -1.5, "ci_low": -4.0, "ci_high": 1.0, "p_value": 0.2,
         "first_stage_f": f, "causal_status": "complier_effect"}])


def test_without_a_fidelity_table_there_is_no_delivery_line(tmp_path):
    h = headline(_run(tmp_path, COUNTY))
    assert h.delivery is None
    for lang in ("en", "zh"):
        text = " ".join(h.headline_sentences(lang))
        assert "Delivery against the protocol" not in text and "落实情况" not in text
        assert "complier" not in text and "依从者" not in text


def test_delivery_line_reads_fidelity_csv_rounded_in_both_languages(tmp_path):
    run = _run(tmp_path, COUNTY)
    _fidelity().to_csv(run / "tables" / "fidelity.csv", index=False)
    h = headline(run)
    en = h.headline_sentences("en")
    zh = h.headline_sentences("zh")
    line = next(s for s in en if s.startswith("Delivery against the protocol"))
    # the page's verdict, not a positive "delivered as designed"
    assert line.startswith("Delivery against the protocol: partly delivered — ")
    assert "Delivered as designed" not in " ".join(en)
    assert "in 70% of child-months that required a home visit, one was made" in line
    assert "phone calls to the parents: 72%" in line
    assert "52% of the 396 program children received ≥ 80% of the protocol (95% CI 37–66%)" in line
    assert "0.70" not in line and "0.7029" not in line  # shares as rounded percentages
    line_zh = next(s for s in zh if s.startswith("对照方案的落实情况"))
    assert line_zh.startswith("对照方案的落实情况：部分落实——")
    assert "在需要家访的儿童月中，70%做到了" in line_zh and "给父母打电话：72%" in line_zh
    assert "396名儿童中52%接受了至少80%的方案（95%置信区间 37–66%）" in line_zh
    assert not any("complier" in s for s in en)  # no dose table: no CACE line
    # the delivery line follows the outcome sentences
    assert en.index(line) > next(i for i, s in enumerate(en) if s.startswith("Communication"))


def test_cace_line_is_the_primary_outcomes_with_its_first_stage_f(tmp_path):
    run = _run(tmp_path, COUNTY)
    _fidelity().to_csv(run / "tables" / "fidelity.csv", index=False)
    _dose().to_csv(run / "tables" / "dose.csv", index=False)
    en = headline(run).headline_sentences("en")
    line = next(s for s in en if "effect of the full protocol" in s)
    # the share-based effect leads; the test of any effect is the ITT's p
    assert line.startswith("The effect of the full protocol, assuming the effect grows in "
                           "proportion to the share delivered")
    assert "+0.30 points (95% CI +0.02 to +0.58; first-stage F = 241.7)" in line
    assert "intention-to-treat comparison of the arms: p = .029" in line
    assert "+0.40" not in line  # the binary row is on the page, not the index
    assert "-1.50" not in line  # loneliness is secondary
    assert "under 10" not in line
    zh = " ".join(headline(run).headline_sentences("zh"))
    assert "完整方案的效果" in zh and "第一阶段F = 241.7" in zh and "意向性比较检验：p = .029" in zh
    # without a share row (an older dose.csv) the binary row is said with its assumption
    _dose()[lambda t: t["analysis"] != "cace_share"].to_csv(run / "tables" / "dose.csv",
                                                             index=False)
    line = next(s for s in headline(run).headline_sentences("en") if "complier" in s)
    assert "assumes that less than 80% does nothing" in line and "+0.40" in line


def test_a_weak_instrument_is_said_to_be_unreliable(tmp_path):
    run = _run(tmp_path, COUNTY)
    _fidelity().to_csv(run / "tables" / "fidelity.csv", index=False)
    _dose(f=6.04).to_csv(run / "tables" / "dose.csv", index=False)
    h = headline(run)
    en = next(s for s in h.headline_sentences("en") if "full protocol" in s)
    zh = next(s for s in h.headline_sentences("zh") if "完整方案" in s)
    assert "first-stage F = 6.0" in en and "unreliable" in en
    assert "低于10" in zh and "不可靠" in zh


# --- a CI limit that rounds to zero keeps its sign (index and published tables, one rule)
@pytest.mark.parametrize("x,index,table", [
    (0.0038, "+0.004", "0.004"),
    (-0.0038, "-0.004", "-0.004"),
    (-0.000005, "-0.000005", "-0.000005"),
    (0.00096, "+0.001", "0.001"),
    (4e-9, "< 0.000001", "< 0.000001"),
    (-4e-9, "> -0.000001", "> -0.000001"),
    (0.0, "0.00", "0.00"),
    (-0.0, "0.00", "0.00"),
    (0.0051, "+0.01", "0.01"),
    (0.2236, "+0.22", "0.22"),
])
def test_small_nonzero_limits_show_their_sign(x, index, table):
    from evaluation.headline import fmt_estimate
    from evaluation.published_table import format_value

    assert fmt_estimate(x) == index
    assert format_value("ci", x, high=0.41) == f"{table} to 0.41"
    assert format_value("estimate_ci", 0.2, low=x, high=0.41) == f"0.20 ({table} to 0.41)"


def test_a_ci_that_excludes_zero_is_never_written_from_zero():
    from evaluation.headline import fmt_estimate
    from evaluation.published_table import format_value

    assert format_value("estimate_ci", 0.2992, low=0.0038, high=0.4101) == "0.30 (0.004 to 0.41)"
    assert format_value("estimate_ci", 0.2992, low=0.0038, high=0.4101, lang="zh") == \
        "0.30 (0.004 至 0.41)"
    assert fmt_estimate(0.0038) != "0.00" and fmt_estimate(-0.0038).startswith("-")

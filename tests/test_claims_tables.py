"""evaluation.claims_tables: the claims table of a run (observed shares with intervals,
drift, sample sizes with the design effect of a cluster trial) and the page's published
tables and text, on small generated studies (no kernels)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.change import wilson_ci
from analysis.claims import CLAIMS_COLUMNS, sample_sizes
from analysis.describe import icc
from evaluation import claims_tables as ct
from evaluation.published_table import MISSING, SUPPRESSED
from survey.study_loader import load_study

CJK = re.compile(r"[\u4e00-\u9fff]")


def _study(folder: Path, *, design_type: str, arm: bool, seed: int = 5, schools: int = 12,
           claim_improved: str = "any_increase", min_cell: int = 5):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        school_effect = rng.normal(0, 0.5)
        group = "program" if s % 2 else "control"
        for c in range(2):
            for i in range(10):
                trait = school_effect + rng.normal()
                for k, w in enumerate(("baseline", "endline")):
                    gain = 0.3 * k * (group == "program" or not arm)
                    row = {"student_id": f"S{s:02d}C{c}N{i}", "wave": w,
                           "school_id": f"S{s:02d}", "class_id": f"S{s:02d}-C{c}",
                           "score": round(50 + 8 * (trait + gain) + rng.normal(0, 4), 1)}
                    if arm:
                        row["arm"] = group
                    rows.append(row)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "data" / "all.csv", index=False)
    design = {"type": design_type, "id": "student_id", "wave": "wave",
              "waves": ["baseline", "endline"], "clusters": ["school_id", "class_id"]}
    if arm:
        design.update(arm="arm", control="control")
    doc = {"id": "claims", "title": {"en": "Claims", "zh": "声称"}, "language": "en",
           "design": design, "instruments": [], "data": [{"path": "data/all.csv"}],
           "privacy": {"min_cell": min_cell},
           "outcomes": [{"id": "score", "column": "score", "better": "higher"}],
           "claims": [{"id": "c82", "text": "82% improved", "outcome": "score",
                       "proportion": 0.82, "n": 61, "improved": claim_improved}],
           "analysis": {"alpha": 0.05, "adjust": "holm", "seed": 11}}
    (folder / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    study = load_study(folder)
    scores = pd.read_csv(folder / "data" / "all.csv")
    return study, scores


def test_cluster_trial_claims_table(tmp_path):
    study, scores = _study(tmp_path, design_type="cluster_randomized", arm=True)
    table, audits = ct.claims_audit(study, scores, {"score": 0.8}, lang="en")
    assert list(table.columns) == [*CLAIMS_COLUMNS, "claim_id", "outcome", "reliability_source"]
    row = table.iloc[0]
    # observed shares with their Wilson intervals, from the children with both waves
    wide = scores.pivot_table(index=["student_id", "arm"], columns="wave",
                              values="score").reset_index()
    prog = wide[wide["arm"] == "program"]
    x = int((prog["endline"] > prog["baseline"]).sum())
    assert row["observed_treatment_n"] == len(prog) == 120
    assert row["observed_treatment"] == pytest.approx(x / 120)
    lo, hi = wilson_ci(x, 120)
    assert row["observed_treatment_ci_low"] == pytest.approx(lo)
    assert row["observed_treatment_ci_high"] == pytest.approx(hi)
    assert row["observed_any_increase"] == row["observed_treatment"]
    rc = ct.observed_improvement(study, scores, "score", "reliable_change", 0.8)["program"]
    if 0 < rc[0] < 5:  # fewer than min_cell children: not published
        assert pd.isna(row["observed_reliable_change"])
    else:
        assert row["observed_reliable_change"] == pytest.approx(rc[0] / rc[1])
    assert row["observed_control_n"] == 120 and row["has_comparison"]
    assert row["data_support"] == ("below_claim" if hi < 0.82 else "consistent_with_claim")
    # the cluster trial is planned with the baseline ICCs at both levels
    base = scores[scores["wave"] == "baseline"]
    ref = icc(base, ["score"], clusters=["school_id", "class_id"]).set_index("level")["icc"]
    de = 1 + (20 - 1) * max(ref["school_id"], 0) + (10 - 1) * max(ref["class_id"], 0)
    assert row["design_effect"] == pytest.approx(de)
    assert row["cluster_size"] == 20
    expected = sample_sizes([0.2, 0.3, 0.5], clusters=[(20.0, max(ref["school_id"], 0)),
                                                        (10.0, max(ref["class_id"], 0))])
    assert [row["n_per_group_d20"], row["n_per_group_d30"], row["n_per_group_d50"]] == \
        expected["n_per_group"].tolist()
    assert row["clusters_per_group_d30"] == expected["clusters_per_group"].iloc[1]
    en = row["verdict"]
    assert "whole schools are assigned" in en and "comparison group" in en
    assert "the intervals are too narrow" in en and "allow for the clusters" in en
    assert "该" not in en and not CJK.search(en.replace("82% improved", ""))
    zh = audits[0].verdict("zh")
    assert "按学校整体分组" in zh


def test_pre_post_plans_children_one_by_one_and_keeps_small_cells_out(tmp_path):
    study, scores = _study(tmp_path, design_type="pre_post", arm=False)
    table, audits = ct.claims_audit(study, scores, {"score": 0.8}, lang="zh")
    row = table.iloc[0]
    assert pd.isna(row["clusters_per_group_d20"]) and row["design_effect"] == 1.0
    assert [row["n_per_group_d20"], row["n_per_group_d30"], row["n_per_group_d50"]] == [394, 176, 64]
    assert row["observed_treatment_n"] == 240 and not row["has_comparison"]
    assert row["has_baseline"] and CJK.search(row["verdict"])
    assert "本研究自己的数据" in row["verdict"]
    # a share describing fewer than min_cell children is not published
    small, _ = _study(tmp_path / "small", design_type="pre_post", arm=False, schools=1,
                      min_cell=30)
    t2, _ = ct.claims_audit(small, pd.read_csv(tmp_path / "small" / "data" / "all.csv"),
                            {"score": 0.8}, lang="en")
    assert t2.loc[0, "data_support"] == "no_data"
    assert pd.isna(t2.loc[0, "observed_treatment"]) and pd.isna(t2.loc[0, "observed_reliable_change"])


def test_published_tables_in_both_languages(tmp_path):
    study, scores = _study(tmp_path, design_type="cluster_randomized", arm=True)
    table, _ = ct.claims_audit(study, scores, {"score": 0.8}, lang="en")
    for lang in ("en", "zh"):
        claims = ct.claims_published(table, study, lang=lang)
        cells = claims.cells()
        assert list(cells.columns) == ["claim", "claimed", "any", "reliable", "control", "support"]
        text = " ".join(cells.iloc[0])
        assert "82.0%" in text and "nan" not in text.lower() and "None" not in text
        assert ("70.5% to 89.6%" if lang == "en" else "70.5% 至 89.6%") in cells.loc[0, "claimed"]
        plan = ct.claims_planning_published(table, study, lang=lang)
        pc = plan.cells()
        assert pc.loc[0, "n_per_group_d50"] == str(int(table.loc[0, "n_per_group_d50"]))
        assert "clusters_per_group_d50" in pc.columns
        assert len(plan.footnotes()) >= 2
        html = plan.to_html()
        assert "NaN" not in html and "<NA>" not in html
    pre, pre_scores = _study(tmp_path / "pre", design_type="pre_post", arm=False)
    t_pre, _ = ct.claims_audit(pre, pre_scores, {"score": 0.8}, lang="en")
    cells = ct.claims_published(t_pre, pre, lang="en").cells()
    assert "control" not in cells.columns  # no comparison group, no column for it
    assert "clusters_per_group_d20" not in ct.claims_planning_published(
        t_pre, pre, lang="en").cells().columns


def test_change_table_published_with_suppressed_cells(tmp_path):
    study, _ = _study(tmp_path, design_type="cluster_randomized", arm=True)
    change = pd.DataFrame([
        {"outcome": "score", "arm": "control", "n": 120, "improved": 0.1, "improved_ci_low": 0.06,
         "improved_ci_high": 0.17, "worse": np.nan, "worse_ci_low": np.nan,
         "worse_ci_high": np.nan, "n_improved": 12, "n_worse": pd.NA, "reliability": 0.8,
         "sd_baseline": 8.0, "suppressed_counts": "n_worse", "suppressed": False},
        {"outcome": "score", "arm": "program", "n": 120, "improved": 0.2,
         "improved_ci_low": 0.14, "improved_ci_high": 0.28, "worse": 0.05,
         "worse_ci_low": 0.02, "worse_ci_high": 0.1, "n_improved": 24, "n_worse": 6,
         "reliability": 0.8, "sd_baseline": 8.0, "suppressed_counts": "", "suppressed": False}])
    t = ct.change_published(change, study, lang="en")
    cells = t.cells()
    assert cells.loc[0, "worse"] == SUPPRESSED and cells.loc[1, "worse"] == "5.0% (2.0% to 10.0%)"
    assert cells.loc[0, "group"] == "control" or cells.loc[0, "group"] == "Control"
    assert any(SUPPRESSED in n for n in t.footnotes())
    zh = ct.change_published(change, study, lang="zh").cells()
    assert zh.loc[1, "improved"] == "20.0%（14.0% 至 28.0%）"
    missing = change.assign(suppressed_counts="")
    assert ct.change_published(missing, study).cells().loc[0, "worse"] == MISSING


def test_every_paragraph_of_the_page_in_both_languages():
    for key, text in ct.TEXT.items():
        assert set(text) == {"en", "zh"}, key
        assert not CJK.search(text["en"]) and CJK.search(text["zh"]), key
        # the same numbers in both languages
        nums = lambda s: sorted(re.findall(r"\d+(?:\.\d+)?", s))  # noqa: E731
        assert nums(text["en"]) == nums(text["zh"]), key


def test_figure_names_the_observed_groups(tmp_path):
    study, scores = _study(tmp_path, design_type="cluster_randomized", arm=True)
    labels = ct.figure_arm_labels(study, scores)
    assert labels["treatment"]["en"] == "Program" and set(labels) == {"treatment", "control"}
    pre, pre_scores = _study(tmp_path / "pre", design_type="pre_post", arm=False)
    assert ct.figure_arm_labels(pre, pre_scores) == {
        "treatment": {"en": "all children", "zh": "全体儿童"}}


def test_the_audit_gets_the_runs_seed(tmp_path, monkeypatch):
    """Issue 13.7: the claim audit uses the run's seed (the snapshot's analysis.seed)."""
    import analysis.claims

    study, scores = _study(tmp_path, design_type="pre_post", arm=False)
    seen = []
    real = analysis.claims.audit_claim

    def spy(*args, **kw):
        seen.append(kw["seed"])
        return real(*args, **kw)

    monkeypatch.setattr(analysis.claims, "audit_claim", spy)
    ct.claims_audit(study, scores, {"score": 0.8})
    assert seen == [study.analysis.seed] == [11]


def test_baseline_alpha_from_the_items_equals_the_reliability_tables():
    """reliability_for_change(items=) computes only the baseline alphas it needs: the same
    floats as read from the whole reliability table (which also fits omega per scale and
    wave), and nothing where the table has no row."""
    from types import SimpleNamespace as NS

    from core.design import Design
    from evaluation.reliability_tables import reliability_table
    from survey.instrument_loader import load_instrument

    rng = np.random.default_rng(7)
    inst = load_instrument("rses")
    n = 120
    trait = rng.normal(size=n)
    rows = []
    for w, shift in (("baseline", 0.0), ("endline", 0.3)):
        sign = {i: -1 if i in set(inst.reversed_items) else 1 for i in inst.item_ids}
        answers = {i: np.clip(np.round(2.5 + sign[i] * (trait + shift) + rng.normal(size=n)),
                              1, 4) for i in inst.item_ids}
        answers["rses_3"][rng.random(n) < 0.1] = np.nan
        rows.append(pd.DataFrame({"student_id": [f"c{k}" for k in range(n)], "wave": w,
                                  **answers}))
    items = pd.concat(rows, ignore_index=True)
    design = Design(type="pre_post", id="student_id", waves=("baseline", "endline"))
    study = NS(design=design, instruments=[NS(id="rses", instrument=inst)],
               instrument=lambda i: inst,
               outcomes=[NS(id="esteem", scale="rses.total", test_retest=None),
                         NS(id="given", scale="rses.total", test_retest=0.9),
                         NS(id="unscaled", scale=None, test_retest=None)])
    rel, _ = reliability_table(study, items)
    from_table = ct.reliability_for_change(study, rel)
    from_items = ct.reliability_for_change(study, items=items)
    assert from_items == from_table
    assert set(from_items) == {"esteem", "given"} and from_items["given"] == 0.9
    assert 0.5 < from_items["esteem"] < 1
    # no baseline answers: no row in the table, no alpha either way
    later = items[items["wave"] == "endline"]
    assert ct.reliability_for_change(study, items=later) == ct.reliability_for_change(
        study, reliability_table(study, later)[0]) == {"given": 0.9}
    with pytest.raises(ValueError, match="rel.*items"):
        ct.reliability_for_change(study)

"""The ICC section and the power page's tables (issue 13, item 5), without kernels.

Two small studies are written and loaded: a cluster randomized trial (schools with
classes, baseline and endline, a program effect) and a single-school pre/post study
(clusters = its classes). Checked: the ICC table conditions on the arm after the
program and carries profile CIs; the power page plans with that ICC (three levels)
or, for one school, an individually randomized trial; the band brackets the
estimate; the texts say the same numbers in both languages.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import icc as icc_lib
from analysis import power as pw
from evaluation import icc_tables as it
from evaluation import power_tables as pt
from survey.study_loader import load_study


def _write(folder, design, rows, language="en"):
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "data" / "all.csv", index=False)
    doc = {"id": "plan", "title": {"en": "Plan", "zh": "规划"}, "language": language,
           "design": {"id": "student_id", "wave": "wave", **design},
           "data": [{"path": "data/all.csv"}], "privacy": {"min_cell": 3},
           "outcomes": [{"id": "score", "column": "y", "better": "higher", "primary": True}],
           "analysis": {"alpha": 0.05, "adjust": "holm", "seed": 1}}
    (folder / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    study = load_study(folder)
    return study, pd.read_csv(folder / "data" / "all.csv", dtype={"wave": str})


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """20 schools x 3 classes x 12 children; ICCs 0.06 (school), 0.06 (class); effect 0.8 SD."""
    rng = np.random.default_rng(11)
    rows = []
    for s in range(20):
        arm = "program" if s % 2 else "control"
        us = rng.normal(0, np.sqrt(0.06))
        for c in range(3):
            uc = rng.normal(0, np.sqrt(0.06))
            for i in range(12):
                trait = rng.normal(0, np.sqrt(0.88))
                for w, k in (("baseline", 0), ("endline", 1)):
                    y = us + uc + 0.7 * trait + rng.normal(0, 0.6) + 0.8 * k * (arm == "program")
                    rows.append({"student_id": f"s{s}c{c}i{i}", "wave": w, "arm": arm,
                                 "school_id": f"S{s:02d}", "class_id": f"C{c}",
                                 "y": round(y, 4)})
    design = {"type": "cluster_randomized", "waves": ["baseline", "endline"], "arm": "arm",
              "control": "control", "clusters": ["school_id", "class_id"]}
    return _write(tmp_path_factory.mktemp("trial"), design, rows, language="zh")


@pytest.fixture(scope="module")
def one_school(tmp_path_factory):
    """One school: 4 classes of 15 children measured before and after."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(4):
        for i in range(15):
            trait = rng.normal()
            for w in ("pre", "post"):
                rows.append({"student_id": f"c{c}i{i}", "wave": w, "class_id": f"C{c}",
                             "y": round(trait + rng.normal(0, 0.8) + 0.2 * (w == "post"), 4)})
    design = {"type": "pre_post", "waves": ["pre", "post"], "clusters": ["class_id"]}
    return _write(tmp_path_factory.mktemp("school"), design, rows)


def test_icc_table_conditions_on_arm_after_the_program(trial):
    study, scores = trial
    t = it.icc_table(study, scores)
    assert t.columns.tolist() == it.COLUMNS
    assert t.columns.tolist()[:5] == ["outcome", "wave", "level", "variance", "icc"]  # contract
    end = t[t["wave"] == "endline"]
    base = t[t["wave"] == "baseline"]
    assert set(end["conditioned_on"]) == {"arm"} and set(base["conditioned_on"]) == {""}
    levels = t[t["level"] != "residual"]
    assert (levels["ci_method"] == "profile").all()
    assert (levels["ci_low"] <= levels["icc"]).all() and (levels["icc"] <= levels["ci_high"]).all()
    assert t[t["level"] == "residual"]["ci_low"].isna().all()
    for _, g in t.groupby("wave"):
        assert g["icc"].sum() == pytest.approx(1.0)
    # the same numbers as the library, with the arm as fixed effect at endline
    ref = icc_lib.icc(scores[scores["wave"] == "endline"], "y", ["school_id", "class_id"],
                      fixed=["arm"]).set_index("level")
    got = end.set_index("level")
    assert got.loc["school_id", "icc"] == pytest.approx(ref.loc["school_id", "icc"])
    assert got.loc["school_id", "ci_high"] == pytest.approx(ref.loc["school_id", "ci_high"])
    # the unconditional endline ICC counts the 0.8 SD effect as school variance
    unc = icc_lib.icc(scores[scores["wave"] == "endline"], "y", ["school_id", "class_id"])
    assert unc.loc[0, "icc"] > got.loc["school_id", "icc"] + 0.05


def test_icc_published_shows_three_decimals_and_the_conditioning(trial):
    study, scores = trial
    t = it.icc_published(it.icc_table(study, scores), study, "zh")
    zh, en = t.cells("zh"), t.cells("en")
    assert "residual" not in " ".join(en["level"])
    assert set(zh["conditioned_on"]) == {"组别", "无"} and set(en["conditioned_on"]) == {"Arm", "none"}
    assert all(re.fullmatch(r"\d\.\d{3}", v) for v in en["icc"])
    assert all(" 至 " in v for v in zh["ci"]) and all(" to " in v for v in en["ci"])
    text = " ".join(map(str, en.to_numpy().ravel()))
    assert "nan" not in text.lower() and "None" not in text
    # the section text says what was conditioned on, in both languages
    assert "fixed effect" in it.CONDITIONING["arm"]["en"] and "固定效应" in it.CONDITIONING["arm"]["zh"]


def test_cluster_plan_uses_the_conditioned_endline_icc_with_its_ci(trial):
    study, scores = trial
    inp = pt.design_inputs(study, scores)
    assert inp["plan"] == "cluster3" and inp["conditioned_on"] == "arm"
    assert inp["icc_wave"] == "endline" and inp["icc_wave_label"]["zh"] == "终期"
    ref = icc_lib.icc(scores[scores["wave"] == "endline"], "y", ["school_id", "class_id"],
                      fixed=["arm"]).set_index("level")
    assert inp["icc"] == pytest.approx(ref.loc["school_id", "icc"])
    assert inp["icc_ci_low"] == pytest.approx(ref.loc["school_id", "ci_low"])
    assert inp["icc_ci_high"] == pytest.approx(ref.loc["school_id", "ci_high"])
    assert (inp["n_clusters"], inp["classes_per_cluster"], inp["class_size"]) == (20, 3, 12)
    assert 0.2 < inp["r2_1"] < 0.8  # the baseline score predicts the endline score
    s = pt.plan_summary(inp)
    direct = pw.power_cluster3(20, 3, 12, inp["icc"], inp["icc_class"], effect=0.3,
                               r2_1=inp["r2_1"], r2_2=inp["r2_2"], r2_3=inp["r2_3"],
                               n_covariates=1 if inp["r2_3"] > 0 else 0)["power"].item()
    assert s["power"] == pytest.approx(direct)
    assert s["power_low"] <= s["power"] <= s["power_high"]
    assert s["power_high"] - s["power_low"] > 0.05  # 20 schools leave the ICC uncertain
    assert s["needed"] <= s["needed_pessimistic"]


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+|\d+%", text)


@pytest.mark.parametrize("which", ["trial", "one_school"])
def test_plan_text_says_the_same_numbers_in_both_languages(which, request):
    study, scores = request.getfixturevalue(which)
    inp = pt.design_inputs(study, scores)
    sim = pt.simulation_check(inp, n_sims=200, seed=3)
    s = pt.plan_summary(inp, sim=sim)
    en, zh = s["text"]["en"], s["text"]["zh"]
    assert sorted(_numbers(en)) == sorted(_numbers(zh))
    assert f"{s['power']:.2f}" in en and f"{s['power']:.2f}" in zh
    assert f"{s['power_low']:.2f}" in en and f"{s['power_high']:.2f}" in zh
    assert en.count("\n\n") == zh.count("\n\n") >= 2


def test_one_school_plans_an_individually_randomized_trial(one_school):
    study, scores = one_school
    inp = pt.design_inputs(study, scores)
    assert inp["plan"] == "individual" and np.isnan(inp["icc"])
    assert inp["n_pairs"] == 60 and inp["n_per_arm"] == 30
    assert 0 <= inp["r2_ci_low"] <= inp["r2"] <= inp["r2_ci_high"] < 1
    s = pt.plan_summary(inp)
    assert s["size"] == 30
    assert s["power"] == pytest.approx(pw.power_ancova(0.3, 30, r2=inp["r2"])["power"].item())
    assert "schools of" not in s["text"]["en"] and "individually randomized" in s["text"]["en"]
    m = pt.mdes_table(inp)
    assert set(m["design"]) == {"individual"} and "clusters" not in m
    c = pt.power_curves(inp, effects=(0.3,))
    assert (c["power_low"] <= c["power"] + 1e-12).all() and (c["power"] <= c["power_high"] + 1e-12).all()


def test_mdes_table_carries_the_band(trial):
    study, scores = trial
    inp = pt.design_inputs(study, scores)
    m = pt.mdes_table(inp)
    for col in ("band_over", "input_ci_low", "input_ci_high", "mdes_band_low", "mdes_band_high",
                "icc", "icc_class", "conditioned_on"):
        assert col in m, col
    assert (m["band_over"] == "icc").all()
    assert (m["mdes_band_low"] <= m["mdes"]).all() and (m["mdes"] <= m["mdes_band_high"]).all()
    # the MDES at the CI's upper end is the MDES computed with that ICC
    row = m[(m["clusters"] == 20) & (m["covariates"] == "no covariates")].iloc[0]
    hi = pw.power_cluster3(20, 3, 12, inp["icc_ci_high"], inp["icc_class"],
                           power=0.8)["mdes"].item()
    assert row["mdes_band_high"] == pytest.approx(hi)
    cells = pt.mdes_published(m, "zh").cells("zh")
    assert len(cells) == 7 and not cells.isin(["nan", "NaN"]).any().any()
    inputs = pt.inputs_published(inp, study, "en").cells("en")
    assert any("School ICC" == v for v in inputs["input"])


def test_non_randomized_groups_are_conditioned_on_at_baseline_too():
    """Two schools that differed before the program: a baseline ICC without the group counts
    the schools' difference as clustering (the two-school example's class ICC)."""
    from core.design import Design
    from evaluation.icc_tables import CONDITIONING, conditioned_waves

    kw = dict(id="id", arm="arm", control="c", waves=("pre", "post"), clusters=("class",))
    assert conditioned_waves(Design(type="cluster_randomized", **kw)) == ["post"]
    assert conditioned_waves(Design(type="controlled", **kw)) == ["pre", "post"]
    assert conditioned_waves(Design(type="pre_post", id="id", waves=("pre", "post"))) == []
    assert "基线" in CONDITIONING["arm_not_randomized"]["zh"]

"""The missing-data page on studies unlike the county example (issue 15): rare covariate
levels, an arm without attrition, a tiny arm, three arms, methods that cannot be fitted.
Every case failed (an error stopping the page, or English on a Chinese page) before the
fixes it pins; no kernel: the analysis and page functions on small synthetic frames."""

from __future__ import annotations

import re
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from analysis import sensitivity as sens
from analysis.ipw import ipw_effects, response_weights
from analysis.missingness import response_model, response_panel
from core.design import Design
from evaluation import sensitivity_tables as sv

CJK_OR_NUM = re.compile(r"[A-Za-z]{4,}")


def _long(n=120, arms=("c", "t"), seed=3, gone=None, rare=True, schools=6):
    """Long scores: baseline for everyone, endline missing for some (``gone``: arm ->
    attrition rate); a guardian covariate with a rare level of 3 children who all answer."""
    rng = np.random.default_rng(seed)
    school = np.arange(n) % schools
    arm = np.array(arms)[school % len(arms)]
    y0 = rng.normal(size=n)
    y1 = 0.5 * y0 + 0.3 * (arm != "c") + rng.normal(size=n)
    rates = gone or {a: 0.2 for a in arms}
    miss = rng.random(n) < np.array([rates[a] for a in arm]) + 0.1 * (y0 < 0)
    guardian = np.where(np.arange(n) // 2 % 2 == 0, "grandparents", "parent")
    if rare:
        rare_ids = np.flatnonzero(~miss & (arm == arms[0]))[:3]
        guardian[rare_ids] = "other"
    y1 = np.where(miss, np.nan, y1)
    base = pd.DataFrame({"id": np.arange(n), "arm": arm, "school": school,
                         "guardian": guardian})
    return pd.concat([base.assign(wave="b", y=y0), base.assign(wave="e", y=y1)],
                     ignore_index=True)


def _design(covs=("guardian",), clusters=("school",), kind="cluster_randomized"):
    return Design(type=kind, id="id", waves=("b", "e"), arm="arm", control="c",
                  clusters=clusters, covariates=covs)


def _study(d, outcomes=("y",)):
    return NS(design=d, outcomes=tuple(NS(id=o, column_name=o, primary=i == 0)
                                      for i, o in enumerate(outcomes)),
              label=lambda col, v, lang: {"c": ("Control", "对照组"),
                                          "t": ("Treatment", "干预组")}.get(
                  v, (v, v))[lang == "zh"],
              column_label=lambda c, lang: {"guardian": ("Guardian", "监护人")}.get(
                  c, (c, c))[lang == "zh"],
              analysis=NS(seed=7, alpha=0.05), privacy=NS(min_cell=5))


def test_rare_level_where_everyone_answered_keeps_the_weights_estimable():
    long = _long()
    d = _design()
    panel = response_panel(long, "y", d)
    # the strict functions still name the level (R parity is unchanged)
    with pytest.raises(ValueError, match=r"arm 'c': every child with guardian=other \(3\)"):
        response_weights(panel, d)
    w, model = response_weights(panel, d, drop_separating=True)
    assert w.loc[w["responded"], "weight"].notna().all()
    assert model.attrs["dropped"] == [{"arm": "c", "covariate": "guardian",
                                       "column": "guardian=other", "level": "other", "n": 3,
                                       "answered": True}]
    # the control arm's model has no guardian term; the treatment arm's keeps it
    terms = model.groupby("arm")["term"].apply(list).to_dict()
    assert terms["c"] == ["(Intercept)", "baseline"]
    assert "guardian=parent" in terms["t"]
    res = ipw_effects(panel, d, drop_separating=True)
    assert np.isfinite(res.effects["estimate"]).all() and len(res.dropped) == 1


def test_the_page_says_what_was_left_out_in_both_languages():
    long = _long()
    d = _design()
    s = _study(d)
    results = sv.analyse_study(s, long, m=5, n_boot=49)
    r = results[0]
    assert not r.errors
    t = sens.sensitivity_table(results).set_index("method")
    assert np.isfinite(t.loc[["complete_case", "mi", "ipw"], "estimate"]).all()
    notes = sv.method_notes(results, s)
    ipw = [n for n in notes if n["en"].startswith("Inverse probability weighting")]
    assert ipw and "Guardian = other (3) answered" in ipw[0]["en"]
    assert "监护人为other的儿童（3 名）都参加了终期测量" in ipw[0]["zh"]
    for n in notes:  # no English words on the Chinese side but the level's own label
        assert not CJK_OR_NUM.findall(n["zh"].replace("other", "").replace("logistic", ""))


def test_an_arm_without_attrition():
    # every treatment child answered: the response model leaves that arm out (it cannot be
    # in a logistic model of answering); the weights of that arm are 1
    long = _long(gone={"c": 0.3, "t": 0.0}, rare=False)
    long.loc[(long["wave"] == "e") & (long["arm"] == "t"), "y"] = (
        long.loc[(long["wave"] == "e") & (long["arm"] == "t"), "y"].fillna(0.0))
    d = _design(covs=())
    panel = response_panel(long, "y", d)
    with pytest.raises(ValueError, match="arm"):
        response_model(panel, d, interaction=True)
    m = response_model(panel, d, interaction=True, drop_separating=True)
    assert not any(str(t).startswith("arm[") for t in m["term"])
    assert m.attrs["dropped"][0]["level"] == "t" and m["n"].iloc[0] == (panel["arm"] == "c").sum()
    s = _study(d)
    res = sv.analyse_study(s, long, m=5, n_boot=49)[0]
    assert "response" not in res.errors and res.dropped["response"][0]["covariate"] == "arm"
    w = res.ipw.weights
    assert np.allclose(w.loc[w["arm"] == "t", "weight"], 1.0)
    note = sv.method_notes([res], s)[0]
    assert "every child of Treatment" in note["en"] and "干预组的儿童" in note["zh"]


def test_a_tiny_arm_whose_response_cannot_be_modelled_weighs_one():
    # 3 arms; in the smallest arm the baseline score alone separates answering
    rng = np.random.default_rng(1)
    n = 90
    arm = np.array(["c"] * 40 + ["t"] * 40 + ["t2"] * 10)
    y0 = rng.normal(size=n)
    resp = rng.random(n) < 0.8
    t2 = arm == "t2"
    resp[t2] = y0[t2] > np.median(y0[t2])  # answered iff the baseline is high: separation
    panel = pd.DataFrame({"id": range(n), "arm": arm, "_y0": y0, "responded": resp,
                          "_y": np.where(resp, y0 + rng.normal(size=n), np.nan)})
    d = Design(type="randomized", id="id", arm="arm", control="c")
    with pytest.raises(ValueError, match="arm 't2'"):
        response_weights(panel, d)
    w, model = response_weights(panel, d, drop_separating=True)
    assert np.allclose(w.loc[(w["arm"] == "t2") & w["responded"], "weight"], 1.0)
    assert model.attrs["dropped"] == [{"arm": "t2", "covariate": "baseline", "column": None,
                                       "level": None, "n": 10, "answered": None}]
    note = sv._dropped_note("ipw", model.attrs["dropped"][0], _study(d))
    assert "weigh 1" in note["en"] and "权重均为 1" in note["zh"]


def test_error_messages_are_shown_as_bilingual_reasons():
    for msg, zh in (("Singular matrix", "矩阵奇异"),
                    ("y: only 7 observed values in an arm; too few to impute from", "无法据此插补"),
                    ("something unforeseen", "数据不足以拟合")):
        assert zh in sv.error_reason(msg)["zh"]
    r = NS(outcome="y", errors={"mi": "Singular matrix", "lee": "need at least 2 respondents"},
           dropped={})
    notes = sv.method_notes([r], _study(_design()))
    assert len(notes) == 2
    assert all("Singular" not in n["zh"] and "respondents" not in n["zh"] for n in notes)
    assert notes[0]["zh"].startswith("y无法估计多重插补")


def test_three_arms_name_the_arm_once_per_sentence():
    long = _long(n=150, arms=("c", "t", "t2"), rare=False)
    d = _design(covs=())
    s = _study(d)
    res = sv.analyse_study(s, long, m=5, n_boot=49)
    t = sens.sensitivity_table(res)
    words = sv.delta_text(s, t)
    assert "y (Treatment):" in words["en"] and "y (t2):" in words["en"]
    head = sv.headline_sentence(t, s)
    assert head["en"].count("Missing data:") == 1 and head["zh"].count("缺失数据：") == 1


def test_the_response_model_is_fitted_for_the_first_outcome_only():
    long = _long(rare=False)
    long["z"] = long["y"] * 2
    d = _design(covs=())
    res = sv.analyse_study(_study(d, outcomes=("y", "z")), long, m=5, n_boot=49)
    assert res[0].response is not None and res[1].response is None
    assert res[1].ipw is not None and res[1].mi is not None


def test_few_schools_are_said_only_when_there_are_few():
    long = _long(rare=False)
    d = _design(covs=())
    res = sv.analyse_study(_study(d), long, m=5, n_boot=49)[0]
    model = res.response
    joint = model["term"] == "joint: arm x baseline"
    if model.loc[joint, "p_value"].iloc[0] < 0.05:
        pytest.skip("the example's arm x baseline test happens to be significant")
    assert "few schools" in sv.response_text(model, _study(d))["en"]  # 6 schools
    many = model.assign(n_clusters=24)
    words = sv.response_text(many, _study(d))
    assert "few schools" not in words["en"] and "学校较少" not in words["zh"]

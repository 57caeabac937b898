"""Issue 13, item 4: balance on the analysed sample as well as the randomized one, and the
WWC attrition classes (cautious and optimistic) in ``tables/attrition.csv``; the published
tables of pages 00 and 02 (issue 12)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from core.design import Design
from evaluation import baseline_tables as bt
from evaluation import quality_tables as qt
from evaluation.published_table import SUPPRESSED


def _study(design: Design, *, min_cell: int = 1, outcomes=("y",), primary=None):
    outs = [NS(id=o, column_name=o, primary=(o == primary)) for o in outcomes]
    return NS(design=design, outcomes=outs, primary_outcomes=[o for o in outs if o.primary],
              privacy=NS(min_cell=min_cell), column_type=lambda c: None)


RANDOMIZED = Design(type="randomized", id="id", arm="arm", control="c", covariates=("age",),
                    waves=("pre", "post"))


def _panel(ages_t, ages_c, lost_t=(), lost_c=(), *, y_pre=None):
    """Two waves; ``lost_*``: positions (within the arm) without the outcome at ``post``."""
    n_t, n_c = len(ages_t), len(ages_c)
    pre = pd.DataFrame({"id": [f"t{k}" for k in range(n_t)] + [f"c{k}" for k in range(n_c)],
                        "wave": "pre", "arm": ["t"] * n_t + ["c"] * n_c,
                        "age": list(ages_t) + list(ages_c)})
    pre["y"] = y_pre if y_pre is not None else np.arange(len(pre), dtype=float) % 5
    post = pre.assign(wave="post", y=1.0)
    lost = [f"t{k}" for k in lost_t] + [f"c{k}" for k in lost_c]
    post.loc[post["id"].isin(lost), "y"] = np.nan
    return pd.concat([pre, post], ignore_index=True)


def _hedges_g(t, c):
    t, c = np.asarray(t, float), np.asarray(c, float)
    nt, nc = len(t), len(c)
    sp = np.sqrt(((nt - 1) * t.var(ddof=1) + (nc - 1) * c.var(ddof=1)) / (nt + nc - 2))
    return (1 - 3 / (4 * (nt + nc) - 9)) * (t.mean() - c.mean()) / sp


# ------------------------------------------------------------------------ analysed balance


def test_analysed_sample_differs_from_the_randomized_one():
    ages_t, ages_c = [8, 9, 10, 11, 12, 13], [8, 9, 10, 11, 12, 13]
    data = _panel(ages_t, ages_c, lost_t=(4, 5))  # the two oldest treated children lost
    bal = bt.balance_table(_study(RANDOMIZED), data)
    assert list(bal.columns) == bt.BALANCE_COLUMNS
    assert set(bal["sample"]) == set(bt.SAMPLES)
    age = bal[bal["variable"] == "age"].set_index("sample")
    assert age.loc["randomized", "smd"] == pytest.approx(0.0)
    assert (age.loc["randomized", "n_treatment"], age.loc["randomized", "n_control"]) == (6, 6)
    assert (age.loc["analysed", "n_treatment"], age.loc["analysed", "n_control"]) == (4, 6)
    expected = _hedges_g([8, 9, 10, 11], ages_c)
    assert age.loc["analysed", "smd"] == pytest.approx(expected, rel=1e-12)
    assert expected < -0.25 and age.loc["analysed", "wwc_flag"] == "not satisfied"
    # the baseline outcome is compared too, in both samples
    assert set(bal["variable"]) == {"age", "y"}


def test_analysed_sample_is_defined_by_the_primary_outcome():
    data = _panel([8, 9, 10, 11], [8, 9, 10, 11])
    data["z"] = 1.0
    data.loc[(data["wave"] == "post") & (data["id"] == "t0"), "z"] = np.nan
    study = _study(RANDOMIZED, outcomes=("y", "z"), primary="z")
    assert bt.analysed_outcome(study).column_name == "z"
    assert bt.analysed_ids(study, data) == {"t1", "t2", "t3", "c0", "c1", "c2", "c3"}
    # without a primary outcome the first one counts (y: nobody lost)
    assert len(bt.analysed_ids(_study(RANDOMIZED, outcomes=("y", "z")), data)) == 8


def test_few_lost_children_suppress_the_analysed_row():
    """Two published means of 6 and 5 children would give the lost child's age."""
    data = _panel([8, 9, 10, 11, 12, 13], [8, 9, 10, 11, 12, 13], lost_t=(5,))
    bal = bt.balance_table(_study(RANDOMIZED, min_cell=3), data)
    age = bal[bal["variable"] == "age"].set_index("sample")
    assert age.loc["randomized", "n_smallest_arm"] == 6
    assert age.loc["analysed", "n_smallest_arm"] == 1  # the one lost child: suppressed
    # nobody lost: the analysed row counts its arm as usual
    bal = bt.balance_table(_study(RANDOMIZED, min_cell=3), _panel([8, 9, 10], [8, 9, 10]))
    assert (bal.loc[bal["sample"] == "analysed", "n_smallest_arm"] == 3).all()


def test_an_arm_lost_entirely_has_no_analysed_rows():
    data = _panel([8, 9, 10], [8, 9, 10], lost_c=(0, 1, 2))
    bal = bt.balance_table(_study(RANDOMIZED), data)
    assert set(bal["sample"]) == {"randomized"}


def test_one_group_has_an_empty_balance_with_its_columns():
    d = Design(type="pre_post", id="id", covariates=("age",), waves=("pre", "post"))
    bal = bt.balance_table(_study(d), _panel([8, 9], [10, 11]))
    assert bal.empty and list(bal.columns) == bt.BALANCE_COLUMNS


def test_cross_sectional_analysed_sample_is_the_last_waves_respondents():
    d = Design(type="cross_sectional", id="id", arm="arm", control="c", covariates=("age",),
               waves=("pre", "post"))
    pre = pd.DataFrame({"id": ["a", "b", "c", "d"], "wave": "pre", "arm": ["t", "t", "c", "c"],
                        "age": [8.0, 9, 8, 9], "y": 1.0})
    post = pd.DataFrame({"id": ["e", "f", "g", "h", "i"], "wave": "post",
                         "arm": ["t", "t", "c", "c", "c"], "age": [12.0, 13, 8, 9, 10],
                         "y": [1.0, 1, 1, 1, np.nan]})
    bal = bt.balance_table(_study(d), pd.concat([pre, post]))
    ana = bal[bal["sample"] == "analysed"]
    assert ana["variable"].tolist() == ["age"]  # covariates only
    assert ana[["n_treatment", "n_control"]].values.tolist() == [[2, 2]]
    assert ana["smd"].iloc[0] == pytest.approx(_hedges_g([12, 13], [8, 9]))


# ------------------------------------------------------------------------ WWC attrition


def _attrition_data(n_t, a_t, n_c, a_c, extra=None):
    ids = [f"t{k}" for k in range(n_t)] + [f"c{k}" for k in range(n_c)]
    arms = ["t"] * n_t + ["c"] * n_c
    pre = pd.DataFrame({"id": ids, "wave": "pre", "arm": arms, "y": 1.0})
    keep = [f"t{k}" for k in range(a_t)] + [f"c{k}" for k in range(a_c)]
    frames = [pre, pre[pre["id"].isin(keep)].assign(wave="post")]
    if extra:
        arm, n, a = extra
        x = pd.DataFrame({"id": [f"x{k}" for k in range(n)], "wave": "pre", "arm": arm, "y": 1.0})
        frames += [x, x.iloc[:a].assign(wave="post")]
    return pd.concat(frames, ignore_index=True)


def test_county_attrition_is_high_cautious_and_low_optimistic():
    """County example: 396 -> 367 treated, 382 -> 329 controls (issue 13)."""
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c",
               waves=("pre", "post"), clusters=("school",))
    data = _attrition_data(396, 367, 382, 329)
    data["school"] = "s1"
    t = qt.attrition_table(_study(d), data)
    assert list(t.columns) == qt.ATTRITION_COLUMNS
    row = t.set_index("arm").loc["t"]
    assert row["wwc_overall_pp"] == pytest.approx(100 * 82 / 778)
    assert row["wwc_differential_pp"] == pytest.approx(100 * (53 / 382 - 29 / 396))
    assert (row["wwc_cautious"], row["wwc_cautious_max_pp"]) == ("high", 6.2)
    assert (row["wwc_optimistic"], row["wwc_optimistic_max_pp"]) == ("low", 10.9)
    overall = t.set_index("arm").loc["overall"]
    assert overall[qt.WWC_COLUMNS].tolist() == row[qt.WWC_COLUMNS].tolist()
    control = t.set_index("arm").loc["c"]
    assert control["wwc_cautious"] == "" and np.isnan(control["wwc_overall_pp"])


def test_low_attrition_under_both_boundaries():
    t = qt.attrition_table(_study(RANDOMIZED), _attrition_data(100, 95, 100, 93))
    o = t.set_index("arm").loc["overall"]
    assert (o["wwc_cautious"], o["wwc_optimistic"]) == ("low", "low")
    assert o["wwc_cautious_max_pp"] == 6.2  # overall 6%: Table II.1, cautious


def test_overall_row_carries_the_least_favourable_comparison():
    d = Design(type="randomized", id="id", arm="arm", control="c", waves=("pre", "post"))
    # t: 10% vs control 10% (low); x: 40% lost (high under both)
    data = _attrition_data(100, 90, 100, 90, extra=("x", 100, 60))
    t = qt.attrition_table(_study(d), data).set_index("arm")
    assert t.loc["t", "wwc_cautious"] == "low" and t.loc["x", "wwc_cautious"] == "high"
    assert t.loc["x", "wwc_overall_pp"] == pytest.approx(25.0)  # (10 + 40) / 200
    assert t.loc["overall", "wwc_differential_pp"] == pytest.approx(30.0)
    assert t.loc["overall", "wwc_cautious"] == "high"


def test_no_wwc_class_for_non_randomized_designs_or_tiny_arms():
    d = Design(type="controlled", id="id", arm="arm", control="c", waves=("pre", "post"))
    t = qt.attrition_table(_study(d), _attrition_data(100, 80, 100, 95))
    assert (t["wwc_cautious"] == "").all() and t["wwc_overall_pp"].isna().all()
    t = qt.attrition_table(_study(RANDOMIZED, min_cell=5),
                           _attrition_data(100, 80, 100, 95, extra=("x", 3, 1)))
    t = t.set_index("arm")
    assert t.loc["x", "wwc_cautious"] == "" and t.loc["t", "wwc_cautious"] == "high"


def test_wwc_paragraphs_say_what_each_boundary_means():
    t = qt.attrition_table(_study(RANDOMIZED), _attrition_data(396, 367, 382, 329))
    paras = qt.wwc_paragraphs(RANDOMIZED, t)
    assert len(paras) == 2
    (c_en, c_zh), (o_en, o_zh) = paras
    assert c_en.startswith("**WWC, cautious: high.**") and "with reservations" in c_en
    assert c_zh.startswith("**WWC 谨慎边界：高流失**。") and "有保留" in c_zh
    assert o_en.startswith("**WWC, optimistic: low.**") and "without reservations" in o_en
    assert "无保留" in o_zh
    one = Design(type="pre_post", id="id", waves=("pre", "post"))
    assert "One group" in qt.wwc_paragraphs(one, t)[0][0]
    ctl = Design(type="controlled", id="id", arm="arm", control="c", waves=("pre", "post"))
    en, zh = qt.wwc_paragraphs(ctl, t)[0]
    assert "non-randomized" in en and "非随机" in zh


# ------------------------------------------------------------------------ published tables


def _labels(column, value, lang):
    table = {("arm", "t"): {"en": "Mentoring", "zh": "结对帮扶"},
             ("arm", "c"): {"en": "Control", "zh": "对照组"},
             (None, "guardian"): {"en": "Guardian", "zh": "监护人"},
             ("guardian", "gp"): {"en": "Grandparents", "zh": "祖辈"}}
    return table.get((column, value), {}).get(lang)


def _published_balance():
    rows = []
    for sample, nt, nc in (("randomized", 396, 382), ("analysed", 367, 329)):
        for var, level, smd, flag, sup in (
                ("age", "", -0.2507 if sample == "randomized" else -0.2236,
                 "not satisfied" if sample == "randomized" else "adjustment required", False),
                ("guardian", "gp", 0.0096, "satisfied", False),
                ("guardian", "one", np.nan if sample == "analysed" else 0.075,
                 np.nan if sample == "analysed" else "adjustment required", sample == "analysed")):
            rows.append({"sample": sample, "variable": var, "level": level, "arm": "t",
                         "control": "c", "n_treatment": nt, "n_control": nc, "smd": smd,
                         "wwc_flag": flag, "suppressed": sup})
    return pd.DataFrame(rows)


def test_balance_published_shows_both_samples_with_labels_and_symbols():
    t = bt.balance_published(_published_balance(), lang="zh", labels=_labels, min_cell=5,
                             outcome_label={"en": "communication", "zh": "沟通"})
    en, zh = t.cells("en"), t.cells("zh")
    assert en.iloc[0].tolist() == ["age", "-0.25 †", "not satisfied", "-0.22",
                                   "adjustment required"]
    assert zh.iloc[0, 2] == "不满足"
    assert en.iloc[1, 0] == "Guardian" and en.iloc[2, 0].strip() == "Grandparents"
    assert en.iloc[3].tolist()[3:] == [SUPPRESSED, SUPPRESSED]
    text = " ".join(" ".join(map(str, c.values.ravel())) for c in (en, zh))
    assert "nan" not in text.lower() and "None" not in text
    assert [g.label("en") for g in t.groups] == [
        "Randomized sample (Mentoring 396, Control 382)",
        "Analysed sample (Mentoring 367, Control 329)"]
    notes = " ".join(t.footnotes("en"))
    assert "communication" in notes and "Suppressed" in notes and "†" in notes
    assert "fewer than 5 children" in notes
    html = t.to_html("zh")
    assert "分析样本" in html and "不满足" in html
    # a non-randomized design names the first sample "baseline"
    t2 = bt.balance_published(_published_balance(), randomized=False)
    assert t2.groups[0].label("en").startswith("Baseline sample")


def test_balance_published_groups_rows_by_comparison_with_several_arms():
    bal = _published_balance()
    bal = pd.concat([bal, bal.assign(arm="x", n_treatment=50)], ignore_index=True)
    t = bt.balance_published(bal, labels=_labels)
    groups = t.row_group_labels("en")
    assert groups[0] == "Mentoring vs Control" and groups[-1] == "x vs Control"
    assert any("x 50, Control 382" in n for n in t.footnotes("en"))


def test_attrition_published_translates_the_classes():
    t = qt.attrition_table(_study(RANDOMIZED), _attrition_data(396, 367, 382, 329))
    pub = qt.attrition_published(t, "zh", labels=_labels)
    zh = pub.cells("zh")
    assert zh.iloc[-1, 0] == "合计" and zh.iloc[1, 0] == "结对帮扶"
    assert zh.iloc[1, -2:].tolist() == ["高流失", "低流失"]
    assert pub.cells("en").iloc[1, 6:8].tolist() == ["7.3%", "-6.55"]
    ctl = Design(type="controlled", id="id", arm="arm", control="c", waves=("pre", "post"))
    plain = qt.attrition_published(qt.attrition_table(_study(ctl),
                                                       _attrition_data(10, 9, 10, 8)))
    assert len(plain.columns) == 8  # no WWC columns


def test_validation_and_missingness_tables():
    s = pd.DataFrame({"severity": ["error", "warning"], "code": ["FILE_UNREADABLE", "NEW_CODE"],
                      "n": [1, 2], "example": ["file x", "y"]})
    cells = qt.validation_published(s).cells("zh")
    assert cells.iloc[0].tolist()[:3] == ["错误", "FILE_UNREADABLE", "文件无法读取"]
    assert cells.iloc[1, 2] == ""  # an unknown code has no meaning, not 'nan'
    m = pd.DataFrame({"instrument": ["p"] * 4, "item": ["p_1", "p_2", "p_1", "p_2"],
                      "wave": ["post", "post", "pre", "pre"], "n": [8, 8, 10, 10],
                      "n_missing": [0, 2, 1, 1], "missing_pct": [0.0, 25.0, 10.0, 10.0]})
    pub = qt.missingness_published(qt.missingness_summary(m), "en", wave_order=["pre", "post"])
    assert pub.cells("en").values.tolist() == [
        ["p", "pre", "2", "10", "10.0%", "10.0%", "p_1"],
        ["p", "post", "2", "8", "12.5%", "25.0%", "p_2"]]
    named = qt.missingness_published(qt.missingness_summary(m), "zh",
                                     instrument_names={"p": {"en": "PCC", "zh": "亲子沟通"}})
    assert named.cells("zh").iloc[0, 0] == "亲子沟通" and named.cells("en").iloc[0, 0] == "PCC"


def test_attrition_published_of_one_group_has_one_row_and_no_differential():
    d = Design(type="pre_post", id="id", waves=("pre", "post"))
    data = _attrition_data(30, 27, 0, 0).assign(arm=None)
    t = qt.attrition_table(_study(d), data)
    assert t["arm"].tolist() == ["all", "overall"]
    pub = qt.attrition_published(t)
    assert pub.cells("en").values.tolist() == [["Overall", "30", "30", "27", "27", "3", "10.0%"]]
    assert pub.footnotes("en") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_paragraphs_come_in_both_languages_the_runs_first(monkeypatch, lang):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj.data))
    run = NS(text_lang=lang)
    other = "en" if lang == "zh" else "zh"
    for module in (bt, qt):
        for key, text in module.PAGE_TEXT.items():
            assert text["en"] and text["zh"] and set(text) == {"en", "zh"}, key
            module.page_text(run, key)
            first, second = shown.pop().split("\n\n")
            assert (first, second) == (text[lang], text[other])
    qt.show_paragraphs(run, [("A.", "甲。"), ("B.", "乙。")])
    expected = ["A.", "B.", "甲。", "乙。"] if lang == "en" else ["甲。", "乙。", "A.", "B."]
    assert shown.pop().split("\n\n") == expected


def test_cluster_attrition_is_classified_against_the_same_boundary():
    d = Design(type="cluster_randomized", id="id", arm="arm", control="c",
               waves=("pre", "post"), clusters=("school",))
    t = qt.attrition_table(_study(d), _attrition_data(396, 367, 382, 329))
    counts = pd.DataFrame({"arm": ["c", "t", "overall"], "clusters_allocated": [10, 10, 20],
                           "clusters_analysed": [10, 8, 18]})
    en, zh = qt.wwc_paragraphs(d, t, counts)[-1]
    # 2 of 20 clusters lost (10%), all in one arm (20 pp): high under both boundaries
    assert "18 of 20 clusters" in en and "(2 lost)" in en
    assert "cluster attrition (10% overall, 20 percentage points differential) is high under " \
           "the cautious and high under the optimistic boundary" in en
    assert "按谨慎边界为高流失" in zh
    counts["clusters_analysed"] = [10, 10, 20]
    en, _ = qt.wwc_paragraphs(d, t, counts)[-1]
    assert "(0% overall, 0 percentage points differential) is low under the cautious" in en

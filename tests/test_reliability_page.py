"""The reliability page's tables (issue 12): every item shown, weak items flagged, rounded,
bilingual, no NaN; response shares with small counts suppressed; every paragraph in both
languages with the run's language first."""

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evaluation import reliability_tables as rt
from evaluation.published_table import MISSING, SUPPRESSED


def _item_stats(n_items=100):
    """100 item rows over 4 scale x wave groups; item 3 weak, item 7 negative, item 11
    raises alpha, item 50 suppressed."""
    rows = []
    for k in range(n_items):
        group = k // 25
        rows.append({"instrument": "cls", "scale": f"s{group // 2}",
                     "wave": "baseline" if group % 2 == 0 else "endline", "item": f"cls_{k + 1}",
                     "n": 700 + k, "mean": 2.5 + k / 1000, "sd": 1.1234, "r_item_rest": 0.45,
                     "alpha_if_deleted": 0.80, "suppressed": False})
    changes = {2: {"r_item_rest": 0.2987}, 6: {"r_item_rest": -0.12},
               10: {"alpha_if_deleted": 0.8312},
               49: {"n": np.nan, "mean": np.nan, "sd": np.nan, "r_item_rest": np.nan,
                    "alpha_if_deleted": np.nan, "suppressed": True}}
    for k, change in changes.items():
        if k < n_items:
            rows[k].update(change)
    return pd.DataFrame(rows)


def _reliability():
    return pd.DataFrame({"instrument": "cls", "scale": ["s0", "s0", "s1", "s1"],
                         "wave": ["baseline", "endline"] * 2, "alpha": [0.8234, 0.81, 0.85, 0.84]})


LABELS = {"baseline": {"en": "Baseline", "zh": "基线"}, "endline": {"en": "Endline", "zh": "终期"}}


def _labels(column, value, lang):
    if column == "scale":
        return {"cls.s0": {"en": "Loneliness", "zh": "孤独感"}}.get(value, {}).get(lang)
    return LABELS.get(value, {}).get(lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_item_table_shows_every_item_rounded_with_weak_items_flagged(lang):
    t = rt.item_statistics_published(_item_stats(), _reliability(), lang, labels=_labels,
                                     min_cell=5)
    cells = t.cells(lang)
    assert len(cells) == 100 and cells["_item"].tolist() == [f"cls_{k}" for k in range(1, 101)]
    flags = cells["_flag"]
    assert flags.str.startswith("⚑").tolist() == [k in (2, 6, 10) for k in range(100)]
    if lang == "en":
        assert "weak" in flags[2] and "negative" in flags[6] and "0.831 vs 0.823" in flags[10]
    else:
        assert "较弱" in flags[2] and "为负" in flags[6] and "0.831，原为 0.823" in flags[10]
    assert cells.loc[0, ["n", "mean", "sd", "r_item_rest"]].tolist() == ["700", "2.50", "1.12",
                                                                         "0.45"]
    assert cells.loc[49, "n"] == SUPPRESSED and SUPPRESSED in t.footnotes(lang)[-1]
    groups = t.row_group_labels(lang)
    assert groups[0] == ("Loneliness · Baseline (α = 0.82)" if lang == "en"
                         else "孤独感 · 基线（α = 0.82）")
    html = t.to_html(lang)
    for word in ("NaN", "<NA>", "None", "rows ×", "…"):
        assert word not in re.sub(r"<[^>]+>", " ", html)
    assert all(f">cls_{k}<" in html for k in range(1, 101))  # every item, nothing truncated
    header = [c.label(lang) for c in t.columns]
    assert header == (["Item", "n", "Mean", "SD", "Item–rest r", "α if deleted", "Flag"]
                      if lang == "en" else
                      ["题目", "人数", "均值", "标准差", "题目-其余题目相关 r", "删除该题后的 α", "提示"])


def test_item_table_without_reliability_flags_only_weak_correlations():
    t = rt.item_statistics_published(_item_stats(8), None, "en")
    assert t.cells("en")["_flag"].str.startswith("⚑").tolist() == [k in (2, 6) for k in range(8)]
    assert t.row_group_labels("en")[0] == "cls.s0 · baseline"
    assert MISSING not in t.cells("en")["_item"].tolist()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flagged_summary_names_the_items_in_both_languages_run_language_first(lang):
    t = rt.item_statistics_published(_item_stats(), _reliability(), lang, labels=_labels)
    first, second = rt.flagged_summary(t, lang).split("\n\n")
    en, zh = (first, second) if lang == "en" else (second, first)
    assert en == "3 of 100 item rows are flagged ⚑: cls_3 (Baseline), cls_7 (Baseline), cls_11 " \
                 "(Baseline)."
    assert zh.startswith("100 个题目行中有 3 个标有 ⚑") and "cls_3（基线）" in zh
    ok = rt.item_statistics_published(_item_stats(2), None, lang)
    assert rt.flagged_summary(ok, lang) == rt.page_text("none_flagged", lang)


def test_every_paragraph_and_heading_exists_in_both_languages_run_language_first():
    for key, entry in rt.PAGE_TEXT.items():
        assert set(entry) == {"en", "zh"}
        assert set(re.findall(r"{(\w+)}", entry["en"])) == set(re.findall(r"{(\w+)}",
                                                                          entry["zh"])), key
        if not re.search(r"{\w+}", entry["en"]):
            assert rt.page_text(key, "zh") == f"{entry['zh']}\n\n{entry['en']}"
            assert rt.page_text(key, "en") == f"{entry['en']}\n\n{entry['zh']}"
    assert rt.heading("stats", "zh") == "题目统计 · Item statistics"
    assert rt.heading("stats", "en") == "Item statistics · 题目统计"


def _study(answers):
    labels = {1: {"en": "Never", "zh": "从不"}, 2: {"en": "Sometimes", "zh": "有时"},
              3: {"en": "Often", "zh": "经常"}}
    inst = SimpleNamespace(id="q", name={"en": "Questionnaire", "zh": "问卷"},
                           item_ids=tuple(answers),
                           response=SimpleNamespace(min=1, max=3, labels=labels))
    study = SimpleNamespace(instrument=lambda _id: inst,
                            design=SimpleNamespace(wave="wave"))
    items = pd.DataFrame({"wave": "pre", **{k: pd.Series(v, dtype=float)
                                            for k, v in answers.items()}})
    return study, items


def test_response_shares_suppress_small_counts_so_they_cannot_be_recovered():
    # q1: 2 children chose "Often" (< 5): hidden, and so is the next smallest share
    # (else 100% minus the others gives it back); q2 has no small count
    study, items = _study({"q1": [1] * 20 + [2] * 18 + [3] * 2,
                           "q2": [1] * 10 + [2] * 15 + [3] * 15})
    t = rt.response_shares_published(study, items, "q", "pre", lang="zh", min_cell=5,
                                     labels=lambda c, v, lg: {"en": "Baseline", "zh": "基线"}[lg])
    cells = t.cells("zh")
    assert cells.loc[0, ["n", "r1", "r2", "r3"]].tolist() == ["40", "50.0%", SUPPRESSED,
                                                              SUPPRESSED]
    assert cells.loc[1, ["r1", "r2", "r3"]].tolist() == ["25.0%", "37.5%", "37.5%"]
    assert [c.label("zh") for c in t.columns][2:] == ["1 从不", "2 有时", "3 经常"]
    assert [c.label("en") for c in t.columns][2:] == ["1 Never", "2 Sometimes", "3 Often"]
    assert t.caption("zh") == "问卷各题的作答分布（基线）"
    assert SUPPRESSED in t.footnotes("zh")[-1]
    assert not any(str(v) in ("2", "18") for v in cells.to_numpy().ravel())  # no small counts

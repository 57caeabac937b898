"""The program-delivery page's text and published tables (evaluation.delivery_tables), from
the fidelity functions run on a small synthetic program (analysis.fidelity, analysis.dose):
every number rounded, both languages written, small cells suppressed."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from core.design import Design
from core.protocol import ActivityRule, DateRange, Protocol, TriggerRule
from evaluation import delivery_tables as dt
from evaluation.published_table import SUPPRESSED

ID = "sid"
PROTOCOL = Protocol(
    start=date(2024, 3, 1), end=date(2024, 12, 31),
    terms=(DateRange(date(2024, 3, 1), date(2024, 6, 30), "spring"),
           DateRange(date(2024, 9, 1), date(2024, 12, 31), "autumn")),
    activities=(ActivityRule("home_visit", "month", 1), ActivityRule("letter", "term", 1)),
    triggers=(TriggerRule("mood", "home_visit", 3), TriggerRule("illness", "home_visit", 3)),
    max_children_per_mentor=3, arms=("treatment",), received_share=0.8)
LONG_DECIMAL = re.compile(r"\d\.\d{3,}")


def _study(design_type="cluster_randomized", **kw):
    arm = None if design_type == "pre_post" else "arm"
    d = Design(type=design_type, id=ID, waves=("pre", "post"), arm=arm,
               control="control" if arm else None, clusters=("school",))
    labels = {"treatment": {"en": "Mentoring", "zh": "结对帮扶"},
              "control": {"en": "Comparison", "zh": "对照组"}}
    return NS(design=d, protocol=kw.get("protocol", PROTOCOL),
              outcomes=[NS(id="y", column_name="y", primary=True, scale=None)],
              label=lambda c, v, lg: labels.get(v, {}).get(lg, v),
              column_label=lambda c, lg: c)


@pytest.fixture(scope="module")
def program():
    """Four schools (two in the program), one small program school of 3 children."""
    from analysis import fidelity
    from analysis.dose import contamination

    rng = np.random.default_rng(5)
    sizes = {"S1": 12, "S2": 10, "S3": 3, "S4": 11}
    arms = {"S1": "treatment", "S2": "control", "S3": "treatment", "S4": "control"}
    kids = pd.DataFrame([{ID: f"c{s}{i:02d}", "arm": arms[s], "school": s}
                         for s, n in sizes.items() for i in range(n)])
    log, assign = [], []
    for k, r in kids.iterrows():
        mentor = f"m{r['school']}{k % 2}" if r["arm"] == "treatment" else None
        if mentor:
            assign.append({"mentor_id": mentor, ID: r[ID], "from": pd.Timestamp("2024-03-01"),
                           "to": pd.NaT})
        p = 0.85 if r["school"] == "S1" else 0.4 if r["arm"] == "treatment" else 0.02
        for m in pd.period_range("2024-03", "2024-12", freq="M"):
            if rng.random() < p:
                log.append({ID: r[ID], "date": m.start_time + pd.Timedelta(days=4),
                            "activity": "home_visit", "mentor_id": mentor,
                            "trigger": "mood" if rng.random() < 0.2 else None})
            if m.month in (4, 10) and rng.random() < p:
                log.append({ID: r[ID], "date": m.start_time + pd.Timedelta(days=1),
                            "activity": "letter", "mentor_id": mentor, "trigger": None})
    contacts = pd.DataFrame(log).sort_values([ID, "date"]).reset_index(drop=True)
    mentors = pd.DataFrame(assign)
    met = fidelity.protocol_met(contacts, kids, PROTOCOL, id=ID, assignments=mentors,
                                control="control")
    load = fidelity.mentor_load(mentors, PROTOCOL, id=ID)
    trig = fidelity.triggered_visits(contacts, PROTOCOL, id=ID)
    dosage = fidelity.dosage(contacts, met, kids, PROTOCOL, id=ID, assignments=mentors,
                             control="control")
    summary = fidelity.fidelity_summary(met, id=ID, protocol=PROTOCOL, loads=load,
                                        triggers=trig, dose=dosage, min_cell=5)
    return NS(kids=kids, contacts=contacts, mentors=mentors, met=met, load=load,
              summary=summary, dosage=dosage,
              contamination=contamination(dosage, control="control"))


def _all_cells(table):
    return [c for lg in ("en", "zh") for c in table.cells(lg).to_numpy().ravel()]


def test_summary_paragraph_is_written_in_both_languages_with_rounded_numbers(program):
    s = dt.delivery_summary(_study(), program.summary,
                            school_shares=dt.school_shares(program.summary, program.met),
                            load=program.load, contamination=program.contamination,
                            min_cell=5)
    assert set(s) == {"en", "zh"}
    share = program.summary.query("section == 'summary' and level == 'overall' and "
                                  "activity == 'home_visit' and measure == 'child_periods'")
    pct = f"{100 * share['share_met'].iloc[0]:.0f}%"
    assert f"{pct} had the home visit" in s["en"] and f"家访落实了 {pct}" in s["zh"]
    assert "Rule of the answer" in s["en"] and "判断规则" in s["zh"]
    # the program-level verdict reuses the child-level 80% threshold, and says so
    assert "used again here for the program as a whole" in s["en"] and "约定" in s["zh"]
    assert "received_share" not in s["en"] + s["zh"]  # no raw keys in reader prose
    assert "mentors had more than 3 children" in s["en"]
    for lg in ("en", "zh"):
        assert not LONG_DECIMAL.search(s[lg]), s[lg]
        assert "nan" not in s[lg].lower()
    # each language is its own text, not the other's words
    assert not re.search(r"[\u4e00-\u9fff]", s["en"].replace("五必访", ""))
    assert "the " not in s["zh"]


def test_the_weakest_school_named_is_never_a_suppressed_one(program):
    schools = dt.school_shares(program.summary, program.met)
    assert schools.loc[schools["school"] == "S3", "suppressed"].all()  # 3 children
    s = dt.delivery_summary(_study(), program.summary, school_shares=schools, min_cell=5)
    assert "S3" not in s["en"] and "S3" not in s["zh"]


@pytest.mark.parametrize("shares,expected", [
    ({"home_visit": 0.9, "letter": 0.81}, "as_designed"),
    ({"home_visit": 0.9, "letter": 0.5}, "partly"),
    ({"home_visit": 0.3, "letter": 0.4}, "not"),
    ({}, "unknown")])
def test_verdict_rule(shares, expected):
    assert dt.verdict(shares, 0.8) == expected


def test_protocol_table_rounds_and_says_both_languages(program):
    t = dt.protocol_published(program.summary, _study(), "en", min_cell=5)
    en, zh = t.cells("en"), t.cells("zh")
    assert en.iloc[0, 0] == "Home visit" and zh.iloc[0, 0] == "家访"
    assert "All activities" in set(en["activity"]) and "全部活动" in set(zh["activity"])
    assert set(en["who"]) == {"All program children"}  # one program arm: no repeated rows
    assert set(zh["who"]) == {"项目组全体儿童"}
    shares = [c for c in en["share_periods"] if c not in ("–", SUPPRESSED)]
    assert shares and all(re.fullmatch(r"\d{1,3}\.\d%", c) for c in shares)
    assert t.caption("zh").endswith("各项活动达到方案要求的比例")
    assert not any(LONG_DECIMAL.search(str(c)) for c in _all_cells(t))


def test_mentor_table_suppresses_mentors_of_few_children(program):
    full = dt.mentor_shares(program.met, id=ID, suppress=False)
    shown = dt.mentor_shares(program.met, id=ID, min_cell=5)
    small = set(full.loc[full["n_children"] < 5, "mentor_id"])
    assert small  # every mentor here has 1 to 6 children
    rows = shown[shown["mentor_id"].isin(small)]
    assert rows["share_met"].isna().all() and rows["suppressed"].all()
    labels = dt.mentor_labels(full["mentor_id"])
    table = dt.mentor_published(shown, "en", min_cell=5, labels=labels)
    listed = set(table.cells("en")["mentor"])
    assert not listed & {f"Mentor {labels[m]}" for m in small}  # not listed; the note counts them
    assert all(re.fullmatch(r"Mentor A\d{2}", m) for m in listed)  # no database-like ids
    assert all(re.fullmatch(r"帮扶人 A\d{2}", m) for m in table.cells("zh")["mentor"])
    assert "Only mentors of at least 5 children can appear in this table." in table.notes_en
    # labels follow the sorted pseudonyms, whoever is listed
    assert list(labels.values()) == [f"A{i:02d}" for i in range(1, len(labels) + 1)]
    assert list(labels) == sorted(labels)
    hidden = int(shown["suppressed"].sum())
    assert any(n.startswith(f"{hidden} mentors of fewer than 5") for n in table.notes_en)
    assert any(n.startswith(f"{hidden} 名帮扶人") for n in table.notes_zh)
    # the bands count mentors (never a few children's share), and add up
    bands = dt.mentor_bands(full)
    assert bands["n_mentors"].sum() == full["mentor_id"].ne("unassigned").sum()
    assert bands["n_children"].sum() == full.loc[full["mentor_id"] != "unassigned",
                                                 "n_children"].sum()


def test_per_mentor_table_is_dropped_when_only_overloaded_mentors_could_appear():
    why = dt.mentor_table_skipped(5, 3)
    assert "only mentors over the limit could appear" in why["en"]
    assert "只能列出超过上限的帮扶人" in why["zh"]
    assert dt.mentor_table_skipped(5, 5) is None and dt.mentor_table_skipped(5, None) is None


def test_school_periods_are_ordered_by_date_not_name(program):
    s = dt.school_shares(program.summary, program.met)
    letters = s[(s["activity"] == "letter") & (s["school"] == "S1")]["period"].tolist()
    assert letters == ["spring", "autumn"]


def test_load_and_trigger_tables(program):
    load = dt.load_published(program.load, 3, "zh").cells("zh")
    assert len(load) == 10  # March to December
    # medians of counts: whole numbers or halves, never "3.00"
    assert all(re.fullmatch(r"\d+(\.5)?", m) for m in load["median"]), load["median"].tolist()
    lp = dt.load_published(pd.DataFrame({"mentor_id": ["a", "b", "c"], "month": "2024-03",
                                         "n_children": [3, 3, 4]}), 3, "en").cells("en")
    assert lp["median"].tolist() == ["3"]
    trig = dt.triggers_published(program.summary, "en", protocol=PROTOCOL, min_cell=5)
    cells = trig.cells("en")
    assert cells["what"].iloc[-1] == "All triggers"
    assert "Upset (mood)" in set(cells["what"])
    assert set(trig.cells("zh")["what"]) >= {"全部情况", "情绪异常"}
    assert cells.loc[cells["what"] == "Upset (mood)", "window"].iloc[0] == "3"


def test_calendar_frame_counts_every_child_and_month(program):
    months = dt.month_frame(PROTOCOL)
    assert months.set_index("month")["expected"].to_dict()["2024-08"] is False
    assert months.set_index("month")["expected"].to_dict()["2024-03"] is True
    extra = pd.concat([program.contacts, pd.DataFrame({ID: ["stranger"], "date": [
        pd.Timestamp("2024-03-03")], "activity": ["home_visit"]})], ignore_index=True)
    cal = dt.calendar_frame(extra, program.kids, months, id=ID)
    assert len(cal) == len(program.kids) * len(months)
    assert "stranger" not in set(cal["child"])
    assert cal["n_contacts"].sum() == len(program.contacts)


def _dose(f_share=7.2):
    return pd.DataFrame([
        {"analysis": "dose_band", "outcome": "y", "arm": "treatment", "band": "none", "n": 4.0,
         "mean_change": np.nan, "suppressed": True},
        {"analysis": "dose_band", "outcome": "y", "arm": "treatment", "band": ">=80%",
         "n": 30.0, "mean_change": 0.41234, "suppressed": False},
        {"analysis": "cace_received", "outcome": "y", "arm": "treatment", "n": 180,
         "estimate": 0.41234, "ci_low": 0.1812, "ci_high": 0.6434, "p_value": 0.0042,
         "ar_p_value": 0.0339, "df": 8.31, "df_method": "bell_mccaffrey", "first_stage_f": 41.72},
        {"analysis": "cace_share", "outcome": "y", "arm": "treatment", "n": 180,
         "estimate": 0.5567, "ci_low": 0.1, "ci_high": 1.01, "p_value": 0.021,
         "ar_p_value": 0.0339, "df": 8.31, "df_method": "bell_mccaffrey",
         "first_stage_f": f_share}])


def test_cace_table_and_words_state_the_causal_status_and_weak_f():
    t = dt.cace_published(_dose(), _study(), "en", min_cell=5)
    en = t.cells("en")
    # the share-based effect of the full protocol leads; the binary row follows
    assert en["what"].tolist() == ["Full protocol (effect in proportion to the share delivered)",
                                   "Received ≥ 80% of the protocol (yes/no)"]
    assert en["estimate"].tolist() == ["0.56 (0.10 to 1.01)", "0.41 (0.18 to 0.64)"]
    assert en["df_text"].iloc[0] == "8.3 (Bell–McCaffrey)"
    assert en["f_note"].tolist() == ["weak (F < 10)", ""]
    # F with one decimal, p-values as on the index, the test of any effect once per outcome
    assert en["f_text"].tolist() == ["7.2", "41.7"]
    assert en["p_text"].tolist() == [".021", ".004"] and en["ar_p"].tolist() == [".034", ""]
    assert t.cells("zh")["f_note"].iloc[0] == "弱工具变量（F < 10）"
    assert any("overstates the effect if partial delivery helps" in n for n in t.footnotes("en"))
    assert any("高估" in n for n in t.footnotes("zh"))
    words = dt.cace_text(_study(), _dose())
    assert "association" in words["en"] and "相关" in words["zh"]
    assert ("Effect of the full protocol on y: +0.56 (95% CI +0.10 to +1.01)** — the effect of "
            "the full protocol, assuming the effect grows in proportion to the share delivered"
            ) in words["en"]
    assert words["en"].index("full protocol") < words["en"].index("at least 80%")
    assert "assumes that receiving less than 80% does nothing, and overstates the effect if " \
        "partial delivery helps" in words["en"]
    assert "intention-to-treat comparison of the arms (p = .034" in words["en"]
    assert "完整方案对y的效果" in words["zh"] and "成正比" in words["zh"] and "p = .034" in words["zh"]
    assert "received_share" not in words["en"] + words["zh"]
    assert "Warning" in words["en"] and "7.2, under 10" in words["en"]
    assert "警告" in words["zh"] and "低于 10" in words["zh"]
    assert "41.7" in words["en"] and "41.72" not in words["en"]
    strong = dt.cace_text(_study(), _dose(f_share=55.0))
    assert "Warning" not in strong["en"] and "警告" not in strong["zh"]


def test_dose_tables_say_which_direction_is_better():
    s = _study()
    s.outcomes[0].better = "lower"
    t = dt.cace_published(_dose(), s, "en")
    assert t.row_group_labels("en")[0] == "y (lower is better)"
    assert t.row_group_labels("zh")[0] == "y（越低越好）"


@pytest.mark.parametrize("design,word_en,word_zh", [
    ("controlled", "not assigned at random", "不是随机的"),
    ("pre_post", "one-group study", "单组研究")])
def test_no_cace_without_randomization_says_why(design, word_en, word_zh):
    words = dt.cace_text(_study(design), None)
    assert "There is no complier average causal effect" in words["en"] and word_en in words["en"]
    assert "没有依从者平均因果效应" in words["zh"] and word_zh in words["zh"]


def test_dose_bands_table_says_association_and_suppresses(program):
    t = dt.dose_bands_published(_dose(), _study(), "en", min_cell=5)
    cells = t.cells("en")
    assert cells["band_label"].tolist() == ["None (0)", "≥ 80%"]
    assert cells["mean_change"].tolist() == [SUPPRESSED, "0.41"]
    assert "association, not effect" in t.caption("en")
    assert t.row_group_labels("en")[0] == "y (higher is better)"
    assert "相关，不是效果" in t.caption("zh")


def test_contamination_small_count_is_suppressed_everywhere():
    table = pd.DataFrame({"arm": ["control", "treatment"], "n": [40, 42],
                          "n_with_contacts": [3, 40]})
    cells = dt.contamination_published(table, _study(), "en", min_cell=5).cells("en")
    assert cells["n_with_contacts"].iloc[0] == SUPPRESSED and cells["share"].iloc[0] == SUPPRESSED
    assert cells["n_with_contacts"].iloc[1] == SUPPRESSED  # 2 program children unreached
    words = dt.contamination_text(_study(), table, min_cell=5)
    assert "Fewer than 5" in words["en"] and "3" not in words["en"].replace("(", "")
    assert "少于 5 名" in words["zh"]
    big = dt.contamination_text(_study(), table.assign(n_with_contacts=[12, 40]), min_cell=5)
    assert "12 of the 40 control children (30%)" in big["en"]
    assert "40 名儿童中有 12 名（30%）" in big["zh"]
    nearly = dt.contamination_text(_study(), table.assign(n_with_contacts=[37, 40]), min_cell=5)
    assert "37" not in nearly["en"] and "All but fewer than 5" in nearly["en"]
    assert "37" not in nearly["zh"] and "不到 5 名" in nearly["zh"]


def test_one_group_study_puts_every_child_in_the_program():
    s = _study("pre_post", protocol=Protocol(start=date(2024, 3, 1), end=date(2024, 6, 30)))
    assert dt.program_protocol(s).arms == ("all",)
    scores = pd.DataFrame({ID: ["a", "a", "b"], "wave": ["pre", "post", "pre"],
                           "school": ["S1", "S1", "S2"]})
    kids = dt.program_children(s, scores)
    assert kids["arm"].tolist() == ["all", "all"] and kids["school"].tolist() == ["S1", "S2"]
    assert dt.program_protocol(_study()).arms == ("treatment",)


def test_headings_and_title_put_the_run_language_first():
    assert dt.page_title(first="zh").startswith("项目落实") and " · Program delivery" in \
        dt.page_title(first="zh")
    assert dt.section_heading("dose", "en") == "Dose and outcomes · 剂量与结局"

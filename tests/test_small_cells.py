"""Small cells in every published table (issue 6, section 2, second bullet).

The planted study (``hardening_study.plant_small_cells_and_formulas``) has exactly
3 children with ``guardian_type = one_parent`` in the treatment arm and a class of
2 students; ``privacy.min_cell`` is 5. After the notebooks ran, every table under
``tables/`` is checked: no published count is between 1 and ``min_cell - 1``, the
statistics of a suppressed row are blank, and no margin group (the cells whose
total is published or recomputable) has exactly one suppressed cell, so a
suppressed count cannot be recovered from a row or column total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hardening_study import FORMULA_ARM, FORMULA_CLASS, TINY_LEVEL, small_cells_run

pytestmark = pytest.mark.slow

MIN_CELL = 5
TREATMENT = "'" + FORMULA_ARM  # as published (neutralized against formula injection)

# table -> (count column, statistics blanked with it, margin groups: columns that
# identify one group of cells that add up to a published or recomputable total)
RULES = {
    "table1": ("n", ["mean", "sd", "share"], [["variable", "level"], ["variable", "arm"]]),
    "subgroups": ("n_smallest_arm", ["estimate", "std_error", "ci_low", "ci_high", "n_obs",
                                     "n_clusters", "df"],
                  [["outcome", "arm", "subgroup"]]),
    # one margin group per sample (randomized, analysed): each sample's rows are a table
    "balance": ("n_smallest_arm", ["mean_treatment", "mean_control", "smd", "abs_smd"],
                [["sample", "variable", "arm"]]),
    "means": ("n", ["mean", "sd", "se", "ci_low", "ci_high"], [["outcome", "wave"]]),
    "change": ("n", ["improved", "worse", "n_improved", "n_worse"], [["outcome"]]),
    "attrition": ("allocated", ["enrolled", "followed_up", "analysed", "lost"], []),
    "item_statistics": ("n", ["mean", "sd", "r_item_rest"], []),
    "reliability": ("n", ["alpha", "omega_total"], []),
    "missingness": ("n", ["n_missing", "missing_pct"], []),
    "effects": ("n_obs", ["estimate", "ci_low", "ci_high"], []),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder, info, result = small_cells_run(tmp_path_factory)
    assert result.status == "success", result.failures
    return result


def table(run, name) -> pd.DataFrame:
    return pd.read_csv(run.output / "tables" / f"{name}.csv", keep_default_na=False,
                       na_values=[""], dtype={"level": str})


@pytest.mark.parametrize("name", sorted(RULES))
def test_no_small_count_is_published(run, name):
    count, stats, groups = RULES[name]
    t = table(run, name)
    assert len(t), f"tables/{name}.csv is empty"
    c = t[count]
    published = c.dropna()
    small = published[(published > 0) & (published < MIN_CELL)]
    assert small.empty, f"{name}: small counts published: {small.tolist()}"
    if "suppressed" in t:
        hidden = t["suppressed"].astype(str) == "True"
        assert c[hidden].isna().all()
        for s in stats:
            if s in t:
                assert t.loc[hidden, s].isna().all(), f"{name}.{s} published for a small cell"


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r[2]))
def test_no_margin_group_has_a_single_suppressed_cell(run, name):
    count, _, groups = RULES[name]
    t = table(run, name)
    hidden = t[count].isna()
    for keys in groups:
        per_group = hidden.groupby([t[k].fillna("") for k in keys]).agg(["sum", "size"])
        lonely = per_group[(per_group["sum"] == 1) & (per_group["size"] > 1)]
        assert lonely.empty, f"{name}: recoverable from the total of {keys}: {lonely.index.tolist()}"


def test_the_tiny_subgroup_is_suppressed_everywhere(run):
    t1 = table(run, "table1")
    row = t1[(t1["level"] == TINY_LEVEL) & (t1["arm"] == TREATMENT)]
    assert len(row) == 1 and row["n"].isna().all() and row["share"].isna().all()
    sg = table(run, "subgroups")
    rows = sg[(sg["level"] == TINY_LEVEL)]
    assert len(rows) >= 1
    assert rows[["estimate", "ci_low", "ci_high", "n_obs", "n_smallest_arm"]].isna().all().all()
    assert (rows["suppression_reason"] == "small").all()
    bal = table(run, "balance")
    rows = bal[bal["level"] == TINY_LEVEL]  # in the randomized and in the analysed sample
    assert sorted(rows["sample"]) == ["analysed", "randomized"]
    assert rows[["mean_treatment", "mean_control", "smd"]].isna().all().all()


def test_balance_shares_do_not_give_small_counts_away(run):
    """A published share times the published arm size is the level's count."""
    bal = table(run, "balance")
    levels = bal[bal["level"].fillna("") != ""].dropna(subset=["mean_treatment"])
    for share, n in (("mean_treatment", "n_treatment"), ("mean_control", "n_control")):
        counts = np.round(levels[share] * levels[n])
        singles = levels.groupby(["variable", "arm"])["level"].transform("size") == 1
        counts = counts.where(~singles, np.minimum(counts, levels[n] - counts))  # binary: 0s
        assert not ((counts > 0) & (counts < MIN_CELL)).any(), levels.loc[
            (counts > 0) & (counts < MIN_CELL), ["variable", "level"]].values.tolist()


def test_table1_and_balance_hide_the_same_cells(run):
    """Two tables about the same children must not reveal, together, what each hides."""
    t1 = table(run, "table1")
    bal = table(run, "balance")
    hidden_t1 = set(t1.loc[t1["n"].isna() & (t1["level"].fillna("") != ""), "level"])
    shown_bal = set(bal.loc[bal["mean_treatment"].notna() & (bal["variable"] == "guardian_type"),
                            "level"])
    assert not hidden_t1 & shown_bal


def test_no_table_is_broken_down_by_class(run):
    for p in sorted((run.output / "tables").glob("*.csv")):
        text = p.read_text(encoding="utf-8")
        assert FORMULA_CLASS[1:] not in text, p.name


def test_the_figures_of_suppressed_rows_show_no_estimate(run):
    """The forest plots are drawn from the published (suppressed) table."""
    figs = sorted((run.output / "figures").glob("forest_*.svg"))
    assert figs
    # the label is in the run's language (matplotlib keeps a text drawn as paths as a comment)
    assert any("suppressed" in t or "已隐藏" in t
               for t in (f.read_text(encoding="utf-8") for f in figs))


def test_manifest_counts_hide_a_small_arm_and_its_complement():
    # a one-child arm (a typo) per wave: its count and the smallest other arm's are hidden,
    # so the total of clean rows minus the published arms does not give the child away
    from workbench.pipeline import _published_counts

    counts = {"rows_clean": 26, "analysed": [
        {"arm": "control", "wave": "pre", "n": 6}, {"arm": "treatment", "wave": "pre", "n": 5},
        {"arm": "treatmnet", "wave": "pre", "n": 1}, {"arm": "control", "wave": "post", "n": 7},
        {"arm": "treatment", "wave": "post", "n": 7}]}
    out = _published_counts(counts, 5)["analysed"]
    assert [r["n"] for r in out] == [6, None, None, 7, 7]
    assert [bool(r.get("suppressed")) for r in out] == [False, True, True, False, False]
    assert counts["analysed"][1]["n"] == 5  # the run's own counts are not changed

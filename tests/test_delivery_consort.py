"""The control arm's contamination in the CONSORT counts and diagram (issue 14): control
children with a logged program contact, a line under the control arm's allocation, only with
a contact log, small cells suppressed."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pandas as pd
import pytest

from analysis import figures
from analysis.describe import consort_contamination
from core.design import Design


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.axes[0].texts)


def _flow(n_contaminated, control_allocated=40):
    return pd.DataFrame({"arm": ["control", "treatment"], "allocated": [control_allocated, 42],
                         "followed_up": [control_allocated - 2, 39],
                         "analysed": [control_allocated - 2, 39],
                         "with_program_contacts": [n_contaminated, float("nan")]})


def test_contamination_counts_each_control_child_once():
    data = pd.DataFrame({"id": ["a", "a", "b", "c", "d", "e"],
                         "arm": ["c", "c", "c", "c", "t", "t"]})
    log = pd.DataFrame({"id": ["a", "a", "a", "c", "d", "zz"]})
    out = consort_contamination(data, log, id="id", arm="arm", control="c")
    assert out.to_dict("records") == [{"arm": "c", "allocated": 3, "with_contacts": 2}]


def test_contamination_needs_the_id_in_the_log():
    with pytest.raises(ValueError, match="student_id"):
        consort_contamination(pd.DataFrame({"student_id": [1], "arm": ["c"]}),
                              pd.DataFrame({"id": [1]}), id="student_id", arm="arm",
                              control="c")


@pytest.mark.parametrize("lang,line", [
    ("en", "Contaminated (program contacts): 12"),
    ("zh", "有项目活动记录（污染）：12")])
def test_the_diagram_says_it_under_the_control_arm(lang, line):
    text = _texts(figures.consort_diagram(_flow(12.0), lang=lang, min_cell=5))
    assert line in text
    assert text.count("Contaminated" if lang == "en" else "污染") == 1  # control arm only


def test_without_a_contact_log_there_is_no_line():
    flow = _flow(12.0).drop(columns="with_program_contacts")
    assert "Contaminated" not in _texts(figures.consort_diagram(flow, min_cell=5))


def test_a_small_contamination_count_is_suppressed():
    text = _texts(figures.consort_diagram(_flow(3.0), min_cell=5))
    assert "(program contacts): <5" in text and "(program contacts): 3" not in text
    assert "<5: fewer than 5 children" in text  # the footnote explains the symbol


def test_a_count_that_leaves_few_children_unreached_is_withheld():
    # 38 of 40 reached: the 2 unreached control children could be derived by subtraction
    text = _texts(figures.consort_diagram(_flow(38.0), min_cell=5))
    assert "(program contacts): —" in text and "38" not in text


def test_zero_contamination_is_shown_as_zero():
    assert "(program contacts): 0" in _texts(figures.consort_diagram(_flow(0.0), min_cell=5))


def _study(contacts=True):
    d = Design(type="cluster_randomized", id="sid", waves=("pre", "post"), arm="arm",
               control="control", clusters=("school",))
    out = NS(id="y", column_name="y", primary=True)
    return NS(design=d, outcomes=[out], primary_outcomes=[out],
              contacts=(NS(path="data/contacts.csv"),) if contacts else ())


def _scores():
    rows = []
    for i in range(24):
        arm = "control" if i < 12 else "treatment"
        for w in ("pre", "post"):
            rows.append({"sid": f"k{i}", "wave": w, "arm": arm, "school": f"s{i % 4}",
                         "y": 1.0})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("with_log", [True, False])
def test_consort_inputs_adds_the_count_only_with_a_contact_log(tmp_path, with_log):
    from evaluation.quality_tables import consort_inputs

    (tmp_path / "data").mkdir()
    pd.DataFrame({"sid": ["k0", "k0", "k1", "k2", "k3", "k4", "k5", "k13"],
                  "date": pd.Timestamp("2024-03-05")}).to_parquet(
        tmp_path / "data" / "contacts.parquet")
    counts, _ = consort_inputs(_study(contacts=with_log), _scores(), tmp_path)
    if not with_log:
        assert "with_program_contacts" not in counts
        return
    by_arm = dict(zip(counts["arm"], counts["with_program_contacts"]))
    assert by_arm["control"] == 6  # k0..k5; k13 is a program child
    assert pd.isna(by_arm["treatment"]) and pd.isna(by_arm["overall"])

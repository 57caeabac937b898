"""The whole pipeline on the three bundled examples, as ``workbench run`` does it for a user.

One run per example per test session (module-scoped fixtures, ``--jobs 2``). Checks:
every file of the output layout (issue 5 §2) exists with its documented columns, the
manifest says success, the county trial's primary effect interval covers the true effect
in ``truth.json``, the single-school claim audit says the design cannot support the claim,
the two-school comparison's index page says "adjusted difference" under a banner that the
design cannot rule out confounding (issue 13.2), and no raw student id reaches a published
text file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ["00_data_quality", "01_reliability", "02_baseline", "03_effects", "04_claims",
             "05_power", "06_delivery", "07_sensitivity"]

pytestmark = [pytest.mark.slow, pytest.mark.kernel,
              pytest.mark.xdist_group("examples")]  # shares runs (conftest): one worker

# the layout of issue 5 §2, which users and other tools rely on
LAYOUT = [
    "manifest.json", "validation/report.json", "validation/quarantine.csv",
    "data/scores.parquet", "data/scores.csv", "data/scores.sav",
    "tables/reliability.csv", "tables/icc.csv", "tables/balance.csv", "tables/attrition.csv",
    "tables/effects.csv", "tables/change.csv", "tables/claims.csv",
    *[f"notebooks/{n}.ipynb" for n in NOTEBOOKS],
    *[f"reports/{n}.html" for n in NOTEBOOKS], "reports/index.html",
]
COLUMNS = {
    "reliability": ["instrument", "scale", "wave", "n", "n_items", "alpha", "alpha_ci_low",
                    "alpha_ci_high", "omega_total"],
    "icc": ["outcome", "wave", "level", "variance", "icc"],
    "effects": ["outcome", "arm", "control", "model", "estimate", "std_error", "df", "ci_low",
                "ci_high", "p_value", "p_adjusted", "effect_size", "effect_size_ci_low",
                "effect_size_ci_high", "n_obs", "n_clusters", "primary"],
    "change": ["outcome", "arm", "n", "improved", "improved_ci_low", "improved_ci_high", "worse"],
    "claims": ["claim", "claimed_proportion", "n", "ci_low", "ci_high", "null_proportion",
               "observed_treatment", "observed_control", "verdict"],
}




# one full run per example and test session (conftest.example_runs), shared with
# tests/test_power_page_kernel.py; the command's output is kept in <name>.log beside it
@pytest.fixture(scope="module")
def county(example_runs) -> Path:
    return example_runs("county-cluster-trial")


@pytest.fixture(scope="module")
def single_school(example_runs) -> Path:
    return example_runs("single-school-pre-post")


@pytest.fixture(scope="module")
def two_school(example_runs) -> Path:
    return example_runs("two-school-comparison")


def manifest(out: Path) -> dict:
    logs = "".join(p.read_text(encoding="utf-8")[-3000:] for p in out.parent.glob("*.log"))
    assert (out / "manifest.json").is_file(), f"no manifest.json; the run said:\n{logs}"
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def check_layout_and_success(out: Path, not_applicable: tuple[str, ...] = ()) -> None:
    """``not_applicable``: the notebooks that must say they have nothing to report (and
    succeed); every other one must succeed."""
    m = manifest(out)
    assert m["status"] == "success", (m.get("failures"), m.get("steps"))
    assert [n["name"] for n in m["notebooks"]] == NOTEBOOKS
    status = {n["name"]: n["status"] for n in m["notebooks"]}
    assert status == {n: "not_applicable" if n in not_applicable else "success"
                      for n in NOTEBOOKS}, status
    assert m["privacy"]["scan"] == "passed" and not m["privacy"]["findings"]
    missing = [f for f in LAYOUT if not (out / f).is_file()]
    assert not missing, missing
    pngs = {p.stem for p in (out / "figures").glob("*.png")}
    svgs = {p.stem for p in (out / "figures").glob("*.svg")}
    assert pngs and pngs == svgs, (pngs ^ svgs)
    for table, cols in COLUMNS.items():
        header = list(pd.read_csv(out / "tables" / f"{table}.csv", nrows=0).columns)
        assert header[:len(cols)] == cols or set(cols) <= set(header), (table, header)
    # the manifest records every input with its sha256
    assert all("sha256" in i for i in m["inputs"]), m["inputs"]
    # and the counts of the validate step: every clean row is analysed in some arm and wave
    counts = next(s for s in m["steps"] if s["name"] == "validate")["counts"]
    assert counts["rows_quarantined"] == 0 and counts["errors"] == 0
    assert counts["rows_read"] == counts["rows_clean"] == sum(r["n"] for r in counts["analysed"])
    assert m["warnings"] == []


def raw_ids(example: str) -> set[str]:
    """The raw student ids of the example's files (UTF-8, or GBK for the platform export)."""
    ids = set()
    for csv in (EXAMPLES / example / "data").glob("*.csv"):
        raw = csv.read_bytes()
        try:
            raw.decode("utf-8")
            enc = "utf-8-sig"
        except UnicodeDecodeError:
            enc = "gb18030"
        ids |= set(pd.read_csv(csv, dtype=str, encoding=enc)["student_id"].dropna())
    return ids


def check_no_raw_ids(out: Path, example: str) -> None:
    ids = raw_ids(example)
    assert ids, "found no raw ids to look for"
    for path in out.rglob("*"):
        if path.suffix in (".csv", ".json", ".html", ".ipynb", ".svg"):
            text = path.read_text(encoding="utf-8", errors="replace")
            leaked = [i for i in ids if i in text]
            assert not leaked, (path.relative_to(out), leaked[:3])


def test_county_trial_layout_and_manifest(county):
    check_layout_and_success(county)


def test_county_primary_effect_interval_covers_the_truth(county):
    truth = json.loads((EXAMPLES / "county-cluster-trial" / "truth.json").read_text("utf-8"))
    primary = [k for k, o in truth["outcomes"].items() if o.get("primary")]
    assert primary == ["communication"]
    true_effect = truth["outcomes"]["communication"]["effect_scale"]  # pcc.total units
    effects = pd.read_csv(county / "tables" / "effects.csv")
    row = effects[(effects["outcome"] == "communication") & effects["primary"].astype(bool)]
    assert len(row) == 1, effects[["outcome", "arm", "model", "primary"]]
    row = row.iloc[0]
    assert row["model"] == "ols_cr2"  # 20 schools: CR2 with Bell-McCaffrey df is primary
    assert row["ci_low"] <= true_effect <= row["ci_high"], (row["ci_low"], true_effect,
                                                            row["ci_high"])
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["n_clusters"] == 20


def test_county_no_raw_ids_in_the_output(county):
    check_no_raw_ids(county, "county-cluster-trial")


def test_single_school_layout_and_manifest(single_school):
    # no contact log; no child is missing at the endline
    check_layout_and_success(single_school, ("06_delivery", "07_sensitivity"))


def test_single_school_claim_audit_says_the_design_cannot_support_the_claim(single_school):
    claims = pd.read_csv(single_school / "tables" / "claims.csv")
    assert len(claims) == 1
    c = claims.iloc[0]
    assert c["claimed_proportion"] == pytest.approx(0.82) and c["n"] == 61
    assert c["ci_low"] < 0.82 < c["ci_high"]
    assert not bool(c["has_comparison"])
    verdict = c["verdict"]
    assert ("这一设计不能支持" in verdict) or ("cannot support the claim" in verdict), verdict
    # the design's own effect: a pre/post change it cannot attribute (no control arm)
    effects = pd.read_csv(single_school / "tables" / "effects.csv")
    assert set(effects["model"]) == {"change_cr2", "paired_t"}
    # the example declares its classes as clusters: the primary test of the mean change is
    # CR2 at the class level (issue 13), not the paired t with n - 1 df
    assert effects.loc[effects["primary"], "model"].tolist() == ["change_cr2"]


def test_single_school_no_raw_ids_in_the_output(single_school):
    check_no_raw_ids(single_school, "single-school-pre-post")


def _index(out: Path) -> tuple[str, str, str]:
    """The index page: its HTML, its lead sentences (both languages) and its banners."""
    import html
    import re

    page = (out / "reports" / "index.html").read_text(encoding="utf-8")

    def grab(cls):
        return " ".join(html.unescape(x) for x in re.findall(
            rf'<p class="{cls}">(.*?)</p>', page, flags=re.S))
    return page, grab("lead"), grab("banner")


def test_county_index_page_says_effect_without_a_banner(county):
    """The three kinds of the docs (issue 13): a randomized trial reports an effect."""
    _, leads, banners = _index(county)
    assert "Effect (Mentoring minus Comparison)" in leads and "效果（结对帮扶减对照组）" in leads
    assert "Adjusted difference" not in leads and "Change:" not in leads
    assert banners == ""


def test_single_school_index_page_says_change_under_its_banner(single_school):
    _, leads, banners = _index(single_school)
    assert "Change: the mean change" in leads and "变化：从前测到后测平均变化" in leads
    assert "Effect (" not in leads and "效果（" not in leads
    assert "one-group before-after comparison" in banners and "单组前后测比较" in banners


def test_two_school_layout_and_manifest(two_school):
    check_layout_and_success(two_school, ("06_delivery",))  # no contact log


def test_two_school_primary_is_the_difference_in_differences_and_covers_the_truth(two_school):
    """One program school, one comparison school, not randomized: the estimand is an
    adjusted difference, the primary model the difference in differences (the example's
    gap between the schools is stable, so it targets the true effect), clustered by class."""
    truth = json.loads((EXAMPLES / "two-school-comparison" / "truth.json").read_text("utf-8"))
    true_effect = truth["outcomes"]["communication"]["effect_scale"]
    effects = pd.read_csv(two_school / "tables" / "effects.csv")
    assert set(effects["estimand"]) == {"adjusted_difference"}
    row = effects[(effects["outcome"] == "communication") & effects["primary"].astype(bool)]
    assert len(row) == 1, effects[["outcome", "model", "primary"]]
    row = row.iloc[0]
    assert row["model"] == "did" and row["n_clusters"] == 12  # classes, not the 2 schools
    assert row["ci_low"] <= true_effect <= row["ci_high"]
    assert row["family"] == "primary" and row["p_adjusted"] == row["p_value"]  # a family of one
    assert row["e_value"] > 1


def test_two_school_index_page_says_adjusted_difference_under_the_banner(two_school):
    import html
    import re

    page = (two_school / "reports" / "index.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    zh = text[text.index("本次运行的结论"):]
    en = text[text.index("What the run found"):]
    assert "调整后差异" in zh and "无法排除混杂" in zh and "E值为" in zh
    assert "Adjusted difference" in en and "cannot rule out confounding" in en
    assert "E-value of" in en and "parallel trends" in en
    banners = re.findall(r'<p class="banner">(.*?)</p>', page, flags=re.S)
    assert any("无法排除混杂" in html.unescape(b) for b in banners)
    assert any("cannot rule out confounding" in html.unescape(b) for b in banners)
    assert "badge b-effective" not in page and "badge b-harmful" not in page  # never an effect
    leads = " ".join(html.unescape(x) for x in re.findall(r'<p class="lead">(.*?)</p>', page,
                                                          flags=re.S))
    assert "调整后差异" in leads and "Adjusted difference" in leads
    assert "Effect (" not in leads and "效果（" not in leads
    # the terminal and summary.md say the same
    summary = (two_school / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "调整后差异（项目学校减对照学校" in summary
    assert "Adjusted difference (Program school minus Comparison school" in summary


def test_two_school_no_raw_ids_in_the_output(two_school):
    check_no_raw_ids(two_school, "two-school-comparison")

"""The power page and the ICC section of the baseline page, run on both examples (issue 13.5).

County example: the page plans with the endline school ICC conditioned on the arm (three
levels: schools with classes) and says power of about 0.51-0.62 for d = 0.3 at 20 schools
where the baseline school ICC gave 0.83. Single-school example: an individually randomized
trial, never "schools" of 4 children with ICC 0.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow,
              pytest.mark.xdist_group("examples")]  # shares runs (conftest): one worker

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def county(example_runs) -> Path:
    out = example_runs("county-cluster-trial")  # the full run, shared with test_pipeline_examples
    assert (out / "reports" / "05_power.html").is_file(), (out.parent / "county-cluster-trial.log")
    return out


@pytest.fixture(scope="module")
def school(example_runs) -> Path:
    out = example_runs("single-school-pre-post")
    assert (out / "reports" / "05_power.html").is_file(), (out.parent /
                                                           "single-school-pre-post.log")
    return out


def _text(html: Path) -> str:
    return re.sub(r"<[^>]+>", " ", html.read_text(encoding="utf-8"))


def test_county_icc_table_is_conditioned_on_arm_at_endline(county):
    icc = pd.read_csv(county / "tables" / "icc.csv", keep_default_na=False)
    for col in ("conditioned_on", "ci_low", "ci_high", "ci_method"):
        assert col in icc
    assert set(icc.loc[icc["wave"] == "endline", "conditioned_on"]) == {"arm"}
    assert set(icc.loc[icc["wave"] == "baseline", "conditioned_on"]) == {""}
    page = _text(county / "reports" / "02_baseline.html")
    assert "固定效应" in page and "fixed effect" in page
    assert "0.083" in page  # the conditioned endline school ICC of communication, 3 decimals


def test_county_power_page_plans_with_the_conditioned_icc(county):
    from evaluation import power_tables as pt
    from evaluation.run_folder import RunFolder

    run = RunFolder(county, notebook="05_power")
    inp = pt.design_inputs(run.study, run.scores())
    s = pt.plan_summary(inp)
    assert inp["plan"] == "cluster3" and inp["conditioned_on"] == "arm"
    assert 0.51 <= s["power"] <= 0.62  # the issue: 0.51-0.62, not 0.83
    assert s["power_low"] < 0.45 and s["power_high"] > 0.75  # and the band says how unsure
    page = _text(county / "reports" / "05_power.html")
    assert f"{s['power']:.2f}" in page and f"{s['power_low']:.2f}" in page
    assert "power 0.83" not in page and "功效为 0.83" not in page
    for word in ("NaN", "Traceback", "Warning"):
        assert word not in page
    power = pd.read_csv(county / "tables" / "power.csv")
    assert set(power["design"]) == {"cluster3"} and (power["band_over"] == "icc").all()
    sim = pd.read_csv(county / "tables" / "power_simulation.csv")
    assert sim["analytic_power"].iloc[0] == pytest.approx(s["power"])
    assert {"r2_1", "r2_2", "r2_3"} <= set(sim.columns)
    assert (county / "figures" / "power_curves.png").is_file()


def test_single_school_plans_an_individually_randomized_trial(school):
    power = pd.read_csv(school / "tables" / "power.csv")
    assert set(power["design"]) == {"individual"} and "clusters" not in power
    page = _text(school / "reports" / "05_power.html")
    assert "individually randomized" in page and "个体随机" in page
    assert "schools of" not in page
    sim = pd.read_csv(school / "tables" / "power_simulation.csv")
    assert "n_per_arm" in sim and sim["n_per_arm"].iloc[0] == 30

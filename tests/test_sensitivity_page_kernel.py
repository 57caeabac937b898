"""The missing-data page (``07_sensitivity``) end to end with papermill on a small prepared run
folder (the tiny study's snapshot and simulated scores with differential attrition): no
``workbench run``, one kernel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[1]


def _scores(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(8):
        arm = "treatment" if s % 2 == 0 else "control"
        u = rng.normal(0, 0.3)
        for k in range(20):
            sid = f"S{s + 1:02d}{k + 1:03d}"
            y0 = 2.5 + u + rng.normal(0, 0.5)
            y1 = 0.6 * y0 + 1.0 + (0.35 if arm == "treatment" else 0.0) + rng.normal(0, 0.4)
            common = {"student_id": sid, "arm": arm, "school_id": f"S{s + 1:02d}",
                      "gender": "girl" if k % 2 else "boy", "age": float(9 + k % 5)}
            rows.append({**common, "wave": "baseline", "rses.total": y0})
            gone = rng.random() < (0.08 if arm == "treatment" else 0.22) + 0.1 * (y0 < 2.3)
            if not gone:
                rows.append({**common, "wave": "endline", "rses.total": y1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    import papermill as pm
    from conftest import write_tiny_study

    from survey.snapshot import SNAPSHOT_NAME, write_snapshot
    from survey.study_loader import load_study

    base = tmp_path_factory.mktemp("sensitivity_page")
    study = load_study(write_tiny_study(base / "study"))
    run = base / "run"
    (run / "data").mkdir(parents=True)
    write_snapshot(study, run / SNAPSHOT_NAME)
    _scores().to_parquet(run / "data" / "scores.parquet", index=False)
    out = run / "notebooks" / "07_sensitivity.ipynb"
    out.parent.mkdir()
    pm.execute_notebook(str(ROOT / "notebooks" / "07_sensitivity.ipynb"), str(out),
                        parameters={"run_dir": "."}, cwd=str(run), progress_bar=False,
                        kernel_name="python3")
    nb = json.loads(out.read_text(encoding="utf-8"))
    text = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error", o
            data = o.get("data", {})
            text.append("".join(data.get("text/markdown", "")) + "".join(data.get("text/html", "")))
    return run, "\n".join(text)


def test_page_writes_the_sensitivity_table_and_figures(page):
    run, _ = page
    t = pd.read_csv(run / "tables" / "sensitivity.csv")
    assert set(t["method"]) == {"complete_case", "mi", "ipw", "lee_lower", "lee_upper",
                                "lee_tightened_lower", "lee_tightened_upper", "tipping_delta"}
    assert {"suppressed", "n_smallest_arm", "fmi", "df", "note"} <= set(t.columns)
    assert (t.loc[t["method"] == "mi", "inference"] == "cr2_rubin").all()
    assert (t.loc[t["method"] == "lee_lower", "inference"] == "cluster_bootstrap").all()
    for f in ("sensitivity", "delta_adjustment"):
        assert (run / "figures" / f"{f}.png").is_file()
    assert (run / "tables" / "delta_adjustment.csv").is_file()
    assert (run / "tables" / "missing_summary.csv").is_file()


def test_page_states_the_imputation_model_the_seed_and_the_limits(page):
    _, text = page
    assert "m = 20" in text and "seed 1" in text  # the tiny study's analysis.seed
    assert "separately in each arm" in text and "每组内分别插补" in text
    assert "can only reject" in text and "只能拒绝" in text
    assert "fewer than 10 schools per arm" in text.replace("Fewer", "fewer")
    assert "Missing data: the effect on" in text and "缺失数据：" in text
    # gender=girl all answered in one arm: gender is left out of that arm's propensity model
    # (the weights stay estimable), and the page says so in both languages
    assert "was left out of the model of answering in" in text and "作答模型未纳入" in text
    assert "not estimable" not in text
    for bad in ("NaN", "Traceback", "<NA>"):
        assert bad not in text


def test_nothing_missing_is_not_applicable(tmp_path):
    import papermill as pm
    from conftest import write_tiny_study

    from survey.snapshot import SNAPSHOT_NAME, write_snapshot
    from survey.study_loader import load_study

    study = load_study(write_tiny_study(tmp_path / "study"))
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    write_snapshot(study, run / SNAPSHOT_NAME)
    s = _scores()
    full = s[s["wave"] == "baseline"]
    pd.concat([full, full.assign(wave="endline")]).to_parquet(run / "data" / "scores.parquet",
                                                               index=False)
    pm.execute_notebook(str(ROOT / "notebooks" / "07_sensitivity.ipynb"),
                        str(run / "out.ipynb"), parameters={"run_dir": "."}, cwd=str(run),
                        progress_bar=False, kernel_name="python3")
    status = json.loads((run / "status" / "07_sensitivity.json").read_text(encoding="utf-8"))
    assert status["status"] == "not_applicable"
    assert status["reason_en"].startswith("Nothing is missing")
    assert not (run / "tables" / "sensitivity.csv").exists()

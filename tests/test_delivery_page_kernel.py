"""The program-delivery notebook (06_delivery) end to end, in one kernel, on a small run
folder written here without a kernel or a ``workbench run`` (a study snapshot, scores, a
contact log and mentor assignments): it writes tables/fidelity.csv and dose.csv and its
figures, and its page shows rounded numbers in both languages, no child id and no NaN. One
kernel for the module (CI time); a study without a contact log or protocol is checked on
the rule the notebook applies."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_delivery.ipynb"


def _study(contacts=True):
    from core.design import Design
    from core.protocol import ActivityRule, DateRange, Protocol, TriggerRule
    from survey.study import Outcome, Privacy, Study, TableSource

    protocol = Protocol(
        start=date(2024, 3, 1), end=date(2024, 12, 31),
        terms=(DateRange(date(2024, 3, 1), date(2024, 6, 30), "spring"),
               DateRange(date(2024, 9, 1), date(2024, 12, 31), "autumn")),
        holidays=(DateRange(date(2024, 10, 1), date(2024, 10, 7), "国庆"),),
        activities=(ActivityRule("home_visit", "month", 1), ActivityRule("phone_call", "month", 1),
                    ActivityRule("letter", "term", 1)),
        triggers=(TriggerRule("mood", "home_visit", 3),), max_children_per_mentor=3,
        arms=("treatment",))
    return Study(id="delivery-kernel", title={"en": "Delivery", "zh": "落实"}, language="en",
                 design=Design(type="cluster_randomized", id="sid", waves=("pre", "post"),
                               arm="arm", control="control", clusters=("school",)),
                 instruments=(), data=(), privacy=Privacy(min_cell=5),
                 outcomes=(Outcome(id="wellbeing", column="wellbeing", primary=True),),
                 contacts=(TableSource(Path("data/contacts.csv")),) if contacts else (),
                 protocol=protocol if contacts else None)


def _run_folder(path: Path, *, contacts=True) -> Path:
    from survey.snapshot import SNAPSHOT_NAME, write_snapshot

    rng = np.random.default_rng(11)
    (path / "data" / "archives").mkdir(parents=True)
    write_snapshot(_study(contacts), path / SNAPSHOT_NAME, language="en")
    kids = pd.DataFrame({"sid": [f"p{rng.integers(10**9)}{i:03d}" for i in range(48)],
                         "school": np.repeat([f"S{k}" for k in range(4)], 12)})
    kids["arm"] = np.where(kids["school"].isin(["S0", "S2"]), "treatment", "control")
    rate = np.where(kids["arm"] == "treatment", rng.uniform(0.3, 1.0, len(kids)), 0.03)
    y0 = rng.normal(size=len(kids))
    rows = []
    for wave, y in (("pre", y0), ("post", y0 + 0.5 * rate + rng.normal(0, 0.5, len(kids)))):
        rows.append(kids.assign(wave=wave, wellbeing=y))
    pd.concat(rows, ignore_index=True).to_parquet(path / "data" / "scores.parquet")
    log, assign = [], []
    months = [m for m in pd.period_range("2024-03", "2024-12", freq="M") if m.month not in (7, 8)]
    for i, r in kids.iterrows():
        mentor = f"m_{r['school']}_{i % 4}" if r["arm"] == "treatment" else None
        if mentor:
            assign.append({"mentor_id": mentor, "sid": r["sid"],
                           "from": pd.Timestamp("2024-03-01"), "to": pd.NaT})
        for m in months:
            for act in ("home_visit", "phone_call"):
                if rng.random() < rate[i]:
                    log.append({"sid": r["sid"], "date": m.start_time + pd.Timedelta(days=9),
                                "activity": act, "mentor_id": mentor,
                                "trigger": "mood" if rng.random() < 0.1 else None,
                                "duration_min": 30.0})
            if m.month in (5, 11) and rng.random() < rate[i]:
                log.append({"sid": r["sid"], "date": m.start_time + pd.Timedelta(days=2),
                            "activity": "letter", "mentor_id": mentor, "trigger": None,
                            "duration_min": np.nan})
    pd.DataFrame(log).sort_values(["sid", "date"]).to_parquet(path / "data" / "contacts.parquet")
    pd.DataFrame(assign).to_parquet(path / "data" / "archives" / "mentors.parquet")
    return path


def _execute(run: Path) -> str:
    import nbformat
    import papermill as pm

    out = run / "executed.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters={"run_dir": "."}, cwd=str(run),
                        kernel_name="python3", progress_bar=False, execution_timeout=120)
    nb = nbformat.read(str(out), as_version=4)
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            data = o.get("data", {})
            parts.append(str(data.get("text/markdown", data.get("text/html", o.get("text", "")))))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    run = _run_folder(tmp_path_factory.mktemp("delivery") / "run")
    return run, _execute(run)


def test_the_page_writes_its_tables_and_figures(page):
    run, _ = page
    fidelity = pd.read_csv(run / "tables" / "fidelity.csv")
    assert {"protocol", "summary", "mentor_load", "trigger", "dosage"} <= set(fidelity["section"])
    dose = pd.read_csv(run / "tables" / "dose.csv")
    assert {"dose_band", "cace_received", "cace_share", "contamination"} <= set(dose["analysis"])
    for name in ("delivery_calendar", "fidelity_by_school", "dose_response", "mentor_load"):
        assert (run / "figures" / f"{name}.png").stat().st_size > 10_000, name
    assert not (run / "status" / "06_delivery.json").exists()


def test_the_page_answers_in_both_languages_without_ids_or_nan(page):
    run, text = page
    assert "Delivered as designed?" in text and "是否按方案落实？" in text
    assert "Of the periods in which the protocol expected it" in text
    assert "在方案要求开展的时段中" in text
    assert "association, not an effect" in text and "这是相关，不是效果" in text
    assert "First-stage F" in text and "第一阶段 F" in text
    assert "control children" in text  # contamination
    for bad in ("NaN", "<NA>", "nan%", "Traceback", ">None<", ">nan<"):
        assert bad not in text, bad
    ids = pd.read_parquet(run / "data" / "scores.parquet")["sid"].unique()
    assert not any(i in text for i in ids)
    # every share on the page is a rounded percentage: no long decimals
    import re
    assert not re.search(r"\d\.\d{4,}", re.sub(r"<[^>]+>", " ", text))


def test_without_a_contact_log_the_page_does_not_apply(tmp_path):
    """The rule the notebook's first cell applies (no second kernel: CI time)."""
    from evaluation.study_tables import not_applicable_reason

    assert not_applicable_reason(_study(), "06_delivery") is None
    en, zh = not_applicable_reason(_study(contacts=False), "06_delivery")
    assert "contact log" in en and "活动记录" in zh
    code = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                     for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
    assert 'not_applicable_reason(S, "06_delivery")' in code and "run.not_applicable(*why)" in code
    no_protocol = dataclasses.replace(_study(), protocol=None)
    assert "protocol" in not_applicable_reason(no_protocol, "06_delivery")[0]


def test_the_study_snapshot_round_trips_the_protocol(tmp_path):
    from survey.snapshot import SNAPSHOT_NAME, read_snapshot

    run = _run_folder(tmp_path / "run")
    assert dataclasses.asdict(read_snapshot(run / SNAPSHOT_NAME).protocol) == \
        dataclasses.asdict(_study().protocol)

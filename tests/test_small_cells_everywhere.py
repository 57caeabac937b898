"""Every published file of a study with 1-, 2- and 3-child cells (issue 10, Leaks 3 and 4).

The planted study (a small ``workbench simulate --preset county`` study, 96 children,
``privacy.min_cell = 5``) has

* an arm of one child: a typo ``treatmnet`` in both waves (``ARM_LABEL_SUSPECT`` is a
  warning, so the child is analysed);
* a free-text ``guardian_type`` held by 2 children (:data:`FREE_TWO`) and another held
  by 3 children of one arm (:data:`FREE_THREE`); ``guardian_type`` is a covariate and a
  subgroup.

:func:`check_published` knows none of the tables by name. It reads every CSV under
``tables/`` and the text of ``reports/*.html``, ``notebooks/*.ipynb``,
``figures/*.svg``, ``status/`` and ``manifest.json``, and fails on

1. a count (a column ``n``, ``count``, ``n_*``, or a CONSORT count) between 1 and
   ``min_cell - 1``;
2. a number in any column of a row about the tiny arm;
3. a level of a numeric variable (age, scale scores) in a column ``level``;
4. a share or mean of a level that, times its published group size, gives a count
   between 1 and ``min_cell - 1``;
5. a planted free-text level anywhere in the text of a published file.

Not counts of children, so not checked by rule 1: ``n_items`` (items of a scale),
``n_clusters`` (schools or classes), ``n_missing`` (unanswered items), ``lost`` (the
CONSORT flow's children lost to follow-up, published with every trial), and the
planning tables ``power*.csv`` (hypothetical sample sizes). ``validation.csv`` counts
findings, not children.

The same check runs on the bundled single-school example, where it must find nothing
(no false alarms), and on ``workbench publish``'s copy of the planted run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hardening_study import read_raw, simulate_small_county, write_raw

ROOT = Path(__file__).resolve().parents[1]
MIN_CELL = 5
TINY_ARM = "treatmnet"
FREE_TWO = "其他:姑姑甍甓照顾电话"
FREE_THREE = "叔叔瓴瓿照顾"
NOT_CHILD_COUNTS = {"n_items", "n_clusters", "n_missing", "lost"}
CONSORT = {"allocated", "enrolled", "followed_up", "analysed"}
SKIP_TABLES = {"validation", "power", "power_simulation"}


def plant(folder: Path) -> dict:
    base, end = read_raw(folder)
    treated = sorted(base.loc[base["arm"] == "treatment", "student_id"])
    control = sorted(base.loc[base["arm"] == "control", "student_id"])
    typo = treated[0]
    two = control[:2]
    three = treated[1:4]
    for df in (base, end):
        df.loc[df["student_id"] == typo, "arm"] = TINY_ARM
        df.loc[df["student_id"].isin(two), "guardian_type"] = FREE_TWO
        df.loc[df["student_id"].isin(three), "guardian_type"] = FREE_THREE
    write_raw(folder, base, end)
    return {"typo": typo, "two": two, "three": three}


def is_count_column(name: str) -> bool:
    return name not in NOT_CHILD_COUNTS and (name in ("n", "count") or name.startswith("n_")
                                             or name in CONSORT)


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)


def numeric(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col, errors="coerce")


def published_texts(folder: Path) -> dict[str, str]:
    out = {}
    for pattern in ("tables/*.csv", "reports/*.html", "notebooks/*.ipynb", "figures/*.svg",
                    "status/*.json", "manifest.json"):
        for p in sorted(folder.glob(pattern)):
            out[p.relative_to(folder).as_posix()] = p.read_text(encoding="utf-8")
    return out


def check_published(folder: Path, study, *, min_cell: int, tiny_arms=(), planted=()) -> list:
    """Everything in ``folder`` that reveals a cell of fewer than ``min_cell`` children."""
    from evaluation.small_cells import column_kind

    problems = []
    numeric_vars = {v for v in list(study.design.covariates) + list(study.design.subgroups)
                    + [o.column_name for o in study.outcomes]
                    if column_kind(study, v) == "numeric"
                    or v in {o.column_name for o in study.outcomes}}
    numeric_vars |= {"age"}  # inferred numeric from the data in the simulated studies
    tables = sorted((folder / "tables").glob("*.csv"))
    assert tables, f"no tables in {folder}"
    for path in tables:
        name = path.stem
        t = read_table(path)
        if name in SKIP_TABLES or t.empty:
            continue
        # 1. small counts, in any count column, whether the row says suppressed or not
        for col in t.columns:
            if is_count_column(col):
                v = numeric(t[col])
                small = t.loc[(v > 0) & (v < min_cell)]
                if len(small):
                    problems.append(f"{name}.{col}: small counts {v[small.index].tolist()}")
        # 2. no number about a tiny arm
        if "arm" in t.columns:
            rows = t.loc[t["arm"].isin(list(tiny_arms))]
            for col in t.columns:
                if col in ("suppressed", "primary", "level", "wave"):  # labels, not numbers
                    continue
                v = numeric(rows[col])
                if v.notna().any():
                    problems.append(f"{name}.{col}: a number about the tiny arm "
                                    f"{rows.loc[v.notna(), col].tolist()}")
            if "suppressed" in t.columns and not (rows["suppressed"] == "True").all():
                problems.append(f"{name}: a row about the tiny arm is not marked suppressed")
        # 3. numeric variables are never levels
        if {"variable", "level"} <= set(t.columns):
            bad = t.loc[t["variable"].isin(numeric_vars) & t["level"].fillna("").ne("")
                        & ~t["level"].fillna("").isin(["1"])]
            if len(bad):
                problems.append(f"{name}: numeric variables as levels "
                                f"{bad[['variable', 'level']].values.tolist()}")
        # 4. share x group size
        pairs = [("share", None), ("mean_treatment", "n_treatment"), ("mean_control", "n_control")]
        if {"variable", "level"} <= set(t.columns):
            levels = t.loc[t["level"].fillna("") != ""]
            for share, size in pairs:
                if share not in levels.columns:
                    continue
                s = numeric(levels[share])
                if size is None:  # table1: share = n / total; n is checked by rule 1
                    continue
                n = numeric(levels[size])
                c = np.round(s * n)
                single = levels.groupby(["variable", "arm"])["level"].transform("size") == 1
                c = c.where(~single, np.minimum(c, n - c))
                bad = levels.loc[(c > 0) & (c < min_cell)]
                if len(bad):
                    problems.append(f"{name}: {share} x {size} gives small counts for "
                                    f"{bad[['variable', 'level']].values.tolist()}")
    # 5. planted texts nowhere
    for rel, text in published_texts(folder).items():
        for secret in planted:
            if secret in text or json.dumps(secret)[1:-1] in text:
                problems.append(f"{rel}: holds the planted level {secret!r}")
    return problems


# ------------------------------------------------------------- the tables, without a run


def small_study(arms: dict, *, min_cell=5, scores=None):
    """A study-like object and baseline scores: ``arms`` maps arm -> number of children."""
    from types import SimpleNamespace as NS

    from core.design import Design

    rows = []
    for arm, n in arms.items():
        for k in range(n):
            rows.append({"id": f"{arm}{k}", "wave": "pre", "arm": arm, "age": 10 + k % 2,
                         "gender": "girl" if k % 2 else "boy", "score": 3.0 + (k % 2),
                         "guardian": ("姑姑甲照顾" if arm == "control" and k < 2
                                      else "叔叔乙照顾" if n == 1
                                      else "grandparents" if k % 3 else "one_parent")})
    data = pd.DataFrame(rows)
    rng = np.random.default_rng(1)
    data = pd.concat([data, data.assign(wave="post", score=data["score"] + rng.normal(
        0.5, 0.5, len(data)))], ignore_index=True)
    study = NS(design=Design(type="randomized", id="id", wave="wave", waves=("pre", "post"),
                             arm="arm", control="control", covariates=("gender", "age", "guardian"),
                             subgroups=("gender",)),
               outcomes=[NS(id="score", column_name="score", better="higher", primary=True)],
               primary_outcomes=[], privacy=NS(min_cell=min_cell), language="zh",
               analysis=NS(alpha=0.05, adjust="holm"), claims=(),
               column_type=lambda c: {"gender": "categorical"}.get(c))
    return study, data


def test_table1_describes_numbers_by_mean_and_a_tiny_arm_without_levels():
    from evaluation import study_tables as st

    study, data = small_study({"control": 12, "treatment": 11, "treatmnet": 1})
    t1 = st.table1(study, data)
    tiny = t1[t1["arm"] == "treatmnet"]
    assert len(tiny) == 4 and set(tiny["level"]) == {""} and (tiny["n"] == 1).all()
    assert tiny[["mean", "sd", "share"]].isna().all().all()
    # age and score have two distinct values: still a mean and an SD
    for v in ("age", "score"):
        rows = t1[(t1["variable"] == v) & (t1["arm"] == "control")]
        assert rows["level"].tolist() == [""] and rows["mean"].notna().all()
    # the free-text guardians (2 children, 1 child) are merged into 其他
    assert set(t1.loc[t1["variable"] == "guardian", "level"]) == {"grandparents", "one_parent",
                                                                  "其他", ""}
    assert not t1["level"].str.contains("姑姑|叔叔").any()


def test_balance_of_three_children_per_arm_counts_the_arm():
    """``3, 3, 1.0, 1.0`` (everyone has the level) was published with a count of 0."""
    from evaluation import study_tables as st

    study, data = small_study({"control": 3, "treatment": 3})
    bal = st.balance_table(study, data)
    assert (bal["n_smallest_arm"] == 3).all()
    assert not bal["level"].str.contains("姑姑|叔叔").any()


def test_effects_of_a_one_child_arm_count_that_child():
    from evaluation import study_tables as st

    study, data = small_study({"control": 12, "treatment": 11, "treatmnet": 1})
    eff = st.effects_table(study, data)
    tiny = eff[eff["arm"] == "treatmnet"]
    # the arm is listed, not modelled (its HC2 model has a point of leverage 1)
    assert len(tiny) and (tiny["n_smallest_arm"] == 1).all()
    assert tiny[["estimate", "ci_low", "ci_high", "p_value", "n_obs"]].isna().all().all()
    assert set(tiny["model"]) == set(eff.loc[eff["arm"] == "treatment", "model"])
    treated = eff[eff["arm"] == "treatment"]
    assert (treated["n_smallest_arm"] == 11).all()
    assert (treated["n_obs"] > treated["n_smallest_arm"]).all()  # why n_obs is not the count


def test_claims_use_no_share_of_a_small_group():
    from evaluation.claims_tables import _publishable_shares

    assert _publishable_shares({"t": (30, 40), "c": (38, 40), "x": (0, 40), "y": (4, 4)}, 5) \
        == {"t": (30, 40), "x": (0, 40)}


# ---------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    from survey.study_loader import load_study
    from workbench.pipeline import run_study

    folder = simulate_small_county(tmp_path_factory.mktemp("everywhere") / "study", seed=12)
    info = plant(folder)
    result = run_study(folder, out=folder.parent / "output", jobs=2, progress=False,
                       only=["00_data_quality", "02_baseline", "03_effects", "04_claims",
                             "05_power"])
    return load_study(folder), result, info


@pytest.mark.slow
def test_the_plants_reached_the_child_level_data(planted_run):
    """The free-text levels are in data/scores.csv (microdata, not published), so their
    absence from the published files below is the tables' doing."""
    study, result, info = planted_run
    assert result.status == "success", result.failures
    scores = (result.output / "data" / "scores.csv").read_text(encoding="utf-8")
    assert FREE_TWO in scores and FREE_THREE in scores and TINY_ARM in scores


@pytest.mark.slow
def test_no_published_file_reveals_a_small_cell(planted_run):
    study, result, _ = planted_run
    problems = check_published(result.output, study, min_cell=MIN_CELL, tiny_arms=[TINY_ARM],
                               planted=[FREE_TWO, FREE_THREE])
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_the_tiny_arm_is_in_the_tables_but_suppressed(planted_run):
    """The arm is not silently dropped: its rows are there, marked suppressed."""
    _, result, _ = planted_run
    for name in ("table1", "effects", "means", "balance"):
        t = read_table(result.output / "tables" / f"{name}.csv")
        rows = t[t["arm"] == TINY_ARM]
        assert len(rows), name
        assert (rows["suppressed"] == "True").all(), name
    t1 = read_table(result.output / "tables" / "table1.csv")
    assert set(t1.loc[t1["arm"] == TINY_ARM, "level"].fillna("")) == {""}


@pytest.mark.slow
def test_rare_levels_are_merged_into_other(planted_run):
    _, result, _ = planted_run
    t1 = read_table(result.output / "tables" / "table1.csv")
    levels = set(t1.loc[t1["variable"] == "guardian_type", "level"].fillna(""))
    assert "其他" in levels and levels <= {"grandparents", "其他", ""}, levels
    sg = read_table(result.output / "tables" / "subgroups.csv")
    assert set(sg.loc[sg["subgroup"] == "guardian_type", "level"].fillna("")) <= {
        "grandparents", "其他", ""}


@pytest.mark.slow
def test_the_check_finds_a_leak_when_there_is_one(planted_run, tmp_path):
    """The check is not vacuous: a copy with an unsuppressed small cell, a level of the
    tiny arm and a planted text fails it."""
    import shutil

    study, result, _ = planted_run
    copy = tmp_path / "copy"
    shutil.copytree(result.output, copy)
    eff = copy / "tables" / "effects.csv"
    t = read_table(eff)
    t.loc[t["arm"] == TINY_ARM, "estimate"] = "0.5"
    t.to_csv(eff, index=False)
    (copy / "reports" / "extra.html").write_text(f"<p>{FREE_THREE}</p>", encoding="utf-8")
    problems = check_published(copy, study, min_cell=MIN_CELL, tiny_arms=[TINY_ARM],
                               planted=[FREE_TWO, FREE_THREE])
    assert any("effects.estimate" in p for p in problems)
    assert any("extra.html" in p for p in problems)


@pytest.mark.slow
def test_the_published_copy_passes_too(planted_run, tmp_path):
    from workbench.commands.publish import publish_run

    study, result, _ = planted_run
    dest = tmp_path / "share"
    publish_run(result.output, dest)
    assert not (dest / "data").exists()
    problems = check_published(dest, study, min_cell=MIN_CELL, tiny_arms=[TINY_ARM],
                               planted=[FREE_TWO, FREE_THREE])
    assert not problems, "\n".join(problems)
    for p in dest.rglob("*"):
        if p.is_file() and p.suffix in (".csv", ".html", ".svg", ".json"):
            assert not re.search(re.escape(FREE_TWO), p.read_text(encoding="utf-8")), p


@pytest.mark.slow
def test_no_false_alarm_on_the_single_school_example(tmp_path):
    from survey.study_loader import load_study
    from workbench.pipeline import run_study

    example = ROOT / "examples" / "single-school-pre-post"
    result = run_study(example, out=tmp_path / "out", jobs=2, progress=False,
                       only=["00_data_quality", "02_baseline", "03_effects", "04_claims"])
    assert result.status == "success", result.failures
    problems = check_published(result.output, load_study(example), min_cell=MIN_CELL)
    assert not problems, "\n".join(problems)

"""The bundled example studies: reproducible from their seeds, loadable, valid, decodable."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CASES = {"single-school-pre-post": ("single-school", 8261),
         "county-cluster-trial": ("county", 20240609),
         "two-school-comparison": ("two-school", 20250311)}
GENERATED = ("study.yaml", "truth.json", "README.md")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Each example re-made from its committed seed, with the simulated data kept."""
    from workbench.study_writer import plan_from_preset, write_simulated_study

    out = {}
    for name, (preset, seed) in CASES.items():
        folder = tmp_path_factory.mktemp("regen") / name
        sim = write_simulated_study(folder, plan_from_preset(preset, seed=seed))
        out[name] = (folder, sim)
    return out


def _files(folder: Path):
    """The generated files of an example: ``study.yaml``, ``truth.json``, ``README.md`` and
    ``data/*``. What a user's commands add (``output/`` of ``make demo``, the key) is not
    part of the example, whatever its name."""
    out = []
    for p in folder.rglob("*"):
        parts = p.relative_to(folder).parts
        if p.is_file() and ((len(parts) == 1 and parts[0] in GENERATED)
                            or (len(parts) == 2 and parts[0] == "data")):
            out.append("/".join(parts))
    return sorted(out)


def test_files_ignores_what_make_demo_adds(tmp_path):
    """`make demo` then `make test` (issue 9, crash 6): the demo's output and key are not
    files of the example."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pre.csv").write_text("id\n1\n")
    (tmp_path / "study.yaml").write_text("id: x\n")
    for rel in ("output/data/scores.csv", "output/data/scores.parquet", "output/README.md",
                "output/validation/report.json", "validation/report.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("made by a run")
    (tmp_path / ".workbench-key").write_text("0" * 64)
    assert _files(tmp_path) == ["data/pre.csv", "study.yaml"]


def test_make_examples_script_names_the_committed_seeds():
    script = (EXAMPLES / "make_examples.sh").read_text("utf-8")
    for name, (preset, seed) in CASES.items():
        assert f"examples/{name} --preset {preset} --seed {seed}" in script


@pytest.mark.parametrize("name", sorted(CASES))
def test_regenerating_reproduces_the_committed_bytes(name, regenerated):
    folder, _ = regenerated[name]
    committed = EXAMPLES / name
    assert _files(committed) == _files(folder)
    for rel in _files(folder):
        assert (committed / rel).read_bytes() == (folder / rel).read_bytes(), rel


@pytest.mark.parametrize("name", sorted(CASES))
def test_examples_load(name):
    from survey import load_study

    study = load_study(EXAMPLES / name)
    assert study.id == name
    assert len(study.primary_outcomes) == 1
    assert study.analysis.seed == CASES[name][1]
    assert set(study.privacy.pii) >= {"name", "name_pinyin", "phone", "address", "guardian_name"}


def test_single_school_example_matches_the_report():
    from survey import load_study

    study = load_study(EXAMPLES / "single-school-pre-post")
    assert study.design.type == "pre_post" and study.design.arm is None
    assert study.design.clusters == ("class_id",)
    (claim,) = study.claims
    assert (claim.id, claim.proportion, claim.n, claim.outcome) == ("comm-82", 0.82, 61,
                                                                    "communication")
    pre = pd.read_csv(EXAMPLES / "single-school-pre-post" / "data" / "pre.csv", dtype=str)
    assert len(pre) == 61 and pre["class_id"].nunique() == 15
    assert pre["gender"].value_counts().to_dict() == {"male": 31, "female": 30}
    truth = json.loads((EXAMPLES / "single-school-pre-post" / "truth.json").read_text("utf-8"))
    assert truth["outcomes"]["communication"]["effect_latent_sd"] == 0.0


def test_county_example_design():
    from survey import load_study

    folder = EXAMPLES / "county-cluster-trial"
    study = load_study(folder)
    d = study.design
    assert (d.type, d.clusters, d.blocks) == ("cluster_randomized", ("school_id", "class_id"),
                                              "county_id")
    assert {o.id: o.better for o in study.outcomes} == {
        "communication": "higher", "loneliness": "lower", "self_esteem": "higher"}
    assert all(src.encoding is None for src in study.data)
    base = pd.read_csv(folder / "data" / "baseline.csv", dtype=str)
    schools = base.drop_duplicates("school_id")
    assert len(schools) == 20
    assert schools.groupby(["county_id", "arm"]).size().to_dict() == {
        ("C01", "control"): 5, ("C01", "treatment"): 5, ("C02", "control"): 5,
        ("C02", "treatment"): 5}
    assert base.groupby("school_id")["class_id"].nunique().between(2, 4).all()
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    by_arm = truth["design"]["by_arm"]
    lost = {a: 1 - v["followed_up"] / v["students"] for a, v in by_arm.items()}
    assert lost["control"] > lost["treatment"]
    overall = 1 - sum(v["followed_up"] for v in by_arm.values()) / len(base)
    assert 0.07 < overall < 0.13
    raw = (folder / "data" / "endline.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert "非常同意" in text and "\r\n" in text


def test_two_school_example_design():
    """A non-randomized comparison of one program school and one comparison school: the
    school is the group, so the classes are the clusters; the program school starts worse
    off (the confounding a reader must be warned about)."""
    from survey import load_study

    folder = EXAMPLES / "two-school-comparison"
    study = load_study(folder)
    d = study.design
    assert (d.type, d.arm, d.control, d.clusters, d.blocks) == (
        "controlled", "arm", "comparison", ("class_id",), None)
    assert d.waves == ("baseline", "endline")
    assert [o.id for o in study.primary_outcomes] == ["communication"]
    base = pd.read_csv(folder / "data" / "baseline.csv", dtype=str)
    assert base.groupby("school_id")["arm"].agg(lambda s: tuple(sorted(set(s)))).tolist() == [
        ("program",), ("comparison",)]
    assert base.groupby("school_id")["class_id"].nunique().tolist() == [6, 6]
    for value in ("program", "comparison"):
        assert {lang: study.label("arm", value, lang) for lang in ("en", "zh")} == {
            "program": {"en": "Program school", "zh": "项目学校"},
            "comparison": {"en": "Comparison school", "zh": "对照学校"}}[value]
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    assert truth["design"]["randomization"].startswith("none: schools chosen")
    comm = truth["outcomes"]["communication"]
    assert comm["primary"] and comm["effect_latent_sd"] == 0.3
    assert comm["baseline_difference_beneficial_sd"] == -0.3
    readme = (folder / "README.md").read_text("utf-8")
    assert "One school per group" in readme and "parallel trends" in readme


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """Validation of copies of the examples (reading creates the pseudonym key)."""
    from survey import load_study, validate

    out = {}
    for name in CASES:
        folder = tmp_path_factory.mktemp("val") / name
        # what `make demo` adds to the example (output/, the key) is not copied
        shutil.copytree(EXAMPLES / name, folder,
                        ignore=shutil.ignore_patterns("output", "validation", ".workbench-key"))
        study = load_study(folder)
        out[name] = (folder, study, validate(study))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_examples_validate_without_errors(name, validated):
    _, _, result = validated[name]
    errors = [f"{i.code} {i.file} {i.column}" for i in result.issues if i.severity == "error"]
    assert errors[:5] == [] and result.ok and not result.fatal
    assert result.rows_read == {"single-school-pre-post": 122, "county-cluster-trial": 1474,
                                "two-school-comparison": 236}[name]


def test_gbk_endline_decodes_to_the_simulated_answers(validated, regenerated):
    from survey.ingest import read_study_data
    from survey.privacy import Pseudonymizer, load_or_create_key

    folder, study, _ = validated["county-cluster-trial"]
    _, sim = regenerated["county-cluster-trial"]
    got = read_study_data(study).data
    got = got[got["_file"] == "data/endline.csv"].set_index(study.design.id)
    pseudo = Pseudonymizer(load_or_create_key(folder))
    want = sim.data[sim.data["wave"] == "endline"].copy()
    want.index = [pseudo.pseudonymize(i) for i in want["student_id"]]
    items = [i for use in study.instruments for i in use.instrument.item_ids]
    assert len(got) == len(want) == 696
    got = got.loc[want.index, items].astype("float64")
    exp = want[items].astype("float64")
    np.testing.assert_array_equal(got.to_numpy(), exp.to_numpy())
    assert exp.isna().to_numpy().sum() > 0  # blanks for skipped items survive as missing

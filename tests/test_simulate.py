"""analysis.simulate and `workbench simulate`: determinism, targets, truth, CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from analysis.simulate import (
    OutcomeSpec,
    expected_alpha,
    ordinal_thresholds,
    simulate_study,
)
from analysis.simulate_items import _bvn_cdf


def _spec(**kw):
    args = dict(items=[f"q_{i}" for i in range(1, 11)], reverse=[i in (3, 7) for i in range(1, 11)],
                reliability=0.8, effect=0.3)
    args.update(kw)
    return OutcomeSpec(kw.pop("id", "comm"), **{k: v for k, v in args.items() if k != "id"})


def _alpha(x: np.ndarray) -> float:
    x = x[~np.isnan(x).any(axis=1)]
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def _keyed(df, spec):
    x = df[list(spec.items)].to_numpy(dtype=float)
    rev = np.asarray(spec.reverse)
    x = np.where(rev, spec.response_min + spec.response_max - x, x)
    return x[:, np.asarray(spec.scored)]


# ---------------------------------------------------------------------------- building blocks


def test_bivariate_normal_cdf_matches_scipy():
    pts = [(0.3, -0.5, 0.4), (-1.2, -0.4, 0.6), (1.1, 0.8, 0.2), (0.0, 0.5, 0.5), (2, -2, 0.9)]
    for h, k, r in pts:
        ref = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([h, k])
        assert _bvn_cdf(np.array(h), np.array(k), r) == pytest.approx(ref, abs=1e-7)


def test_expected_alpha_matches_monte_carlo():
    rng = np.random.default_rng(0)
    lam = np.linspace(0.45, 0.75, 8)
    tau = ordinal_thresholds(4, 8, location=0.2, seed=3)
    n = 200_000
    th = rng.standard_normal(n)
    z = th[:, None] * lam + rng.standard_normal((n, 8)) * np.sqrt(1 - lam**2)
    x = (z[:, :, None] > tau[None]).sum(axis=2).astype(float)
    assert _alpha(x) == pytest.approx(expected_alpha(lam, tau), abs=0.004)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="out of reach"):
        simulate_study([_spec(items=["a", "b", "c"], reverse=(), reliability=0.95)], seed=1)
    with pytest.raises(ValueError, match="no student variance"):
        simulate_study([_spec()], icc_school=0.5, icc_class=0.5, seed=1)
    with pytest.raises(ValueError, match="design"):
        simulate_study([_spec()], design="factorial", seed=1)
    with pytest.raises(ValueError, match="one wave"):
        simulate_study([_spec()], design="cross_sectional", seed=1)
    with pytest.raises(ValueError, match="attrition needs a later wave"):
        simulate_study([_spec()], design="randomized", waves=("post",), attrition=0.1, seed=1)
    with pytest.raises(ValueError, match="at least two arms"):
        simulate_study([_spec()], design="controlled", arms=(), seed=1)
    with pytest.raises(ValueError, match="reliability"):
        _spec(reliability=1.2)
    with pytest.raises(ValueError, match="unknown arms"):
        simulate_study([_spec()], attrition={"tx": 0.1}, seed=1)
    with pytest.raises(ValueError, match="two schools per block"):
        simulate_study([_spec()], schools=3, blocks=2, seed=1)


# ---------------------------------------------------------------------------- determinism


def test_same_seed_same_study_and_different_seed_differs():
    kw = dict(schools=4, blocks=2, students_per_school=(15, 25), attrition=0.1,
              item_missing=0.02, seed=11, truth_draws=5_000)
    a = simulate_study([_spec()], **kw)
    b = simulate_study([_spec()], **kw)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.latent, b.latent)
    assert a.truth == b.truth
    c = simulate_study([_spec()], **{**kw, "seed": 12})
    assert not a.data["q_1"].equals(c.data["q_1"])


# ---------------------------------------------------------------------------- targets


@pytest.fixture(scope="module")
def big():
    specs = [
        _spec(covariate_effect=-0.15),
        OutcomeSpec("lonely", items=[f"l_{i}" for i in range(1, 13)],
                    scored=[i not in (2, 5, 9) for i in range(1, 13)],
                    reverse=[i in (1, 4) for i in range(1, 13)], reliability=0.88, effect=-0.2,
                    location=-0.3, score="sum", better="lower"),
    ]
    sim = simulate_study(specs, design="cluster_randomized", schools=240, blocks=4,
                         classes_per_school=4, students_per_school=100, icc_school=0.05,
                         icc_class=0.10, attrition={"treatment": 0.06, "control": 0.14},
                         trait_correlation=[[1, -0.4], [-0.4, 1]], seed=5, truth_draws=50_000)
    return sim, specs


def _icc(latent: pd.DataFrame, col: str):
    """Method-of-moments ICCs (school, class) of a 3-level nesting; large samples only."""
    g = latent
    n_class = g.groupby("class_id")[col].transform("size")
    within = ((g[col] - g.groupby("class_id")[col].transform("mean")) ** 2).sum() / (
        len(g) - g["class_id"].nunique())
    cm = g.groupby("class_id").agg(m=(col, "mean"), n=(col, "size"), s=("school_id", "first"))
    cm_dev = cm["m"] - cm.groupby("s")["m"].transform("mean")
    var_cm_within_school = (cm_dev**2).sum() / (len(cm) - cm["s"].nunique())
    v_class = var_cm_within_school - within * (1 / cm["n"]).mean()
    sm = cm.groupby("s")["m"].mean()
    k = cm.groupby("s").size().mean()
    v_school = sm.var(ddof=1) - v_class / k - within * (1 / cm["n"]).mean() / k
    total = within + v_class + v_school
    del n_class
    return v_school / total, v_class / total


def test_latent_iccs_near_targets(big):
    sim, _ = big
    base = sim.latent[sim.latent["wave"] == "baseline"].merge(
        sim.data.loc[sim.data["wave"] == "baseline", ["student_id", "school_id", "class_id"]])
    for col in ("comm", "lonely"):
        icc_s, icc_c = _icc(base, col)
        # tolerance: about 2.5 sampling SEs for 240 schools / 960 classes
        assert icc_s == pytest.approx(0.05, abs=0.02)
        assert icc_c == pytest.approx(0.10, abs=0.025)
        assert base[col].var() == pytest.approx(1.0, abs=0.04)


def test_stability_and_trait_correlation(big):
    sim, _ = big
    lat = sim.latent.merge(sim.data.loc[sim.data["wave"] == "baseline", ["student_id", "arm"]])
    w = lat.pivot(index="student_id", columns="wave", values="comm")
    r = np.corrcoef(w["baseline"], w["endline"])[0, 1]
    # corr = c^2 + stability (1 - c^2) with c = -0.15
    assert r == pytest.approx(0.15**2 + 0.6 * (1 - 0.15**2), abs=0.02)
    b = lat[lat["wave"] == "baseline"]
    # the correlation acts on the school, class and student parts, not on the covariate part
    expected = -0.4 * (0.05 + 0.10 + np.sqrt((1 - 0.15 - 0.15**2) * (1 - 0.15)))
    assert np.corrcoef(b["comm"], b["lonely"])[0, 1] == pytest.approx(expected, abs=0.03)


def test_reliability_near_target(big):
    sim, specs = big
    base = sim.data[sim.data["wave"] == "baseline"]
    for spec in specs:
        a = _alpha(_keyed(base, spec))
        assert a == pytest.approx(spec.reliability, abs=0.01)
        t = sim.truth["outcomes"][spec.id]
        assert t["alpha_expected"] == pytest.approx(spec.reliability, abs=1e-6)
        assert t["alpha_monte_carlo"] == pytest.approx(spec.reliability, abs=0.01)


def test_attrition_by_arm_near_target(big):
    sim, _ = big
    d = sim.data
    n = d[d["wave"] == "baseline"].groupby("arm").size()
    m = d[d["wave"] == "endline"].groupby("arm").size()
    lost = 1 - m / n
    assert lost["treatment"] == pytest.approx(0.06, abs=0.01)
    assert lost["control"] == pytest.approx(0.14, abs=0.015)
    for arm in ("treatment", "control"):
        assert sim.truth["design"]["by_arm"][arm]["attrition_observed"] == pytest.approx(lost[arm])


def test_cluster_randomization_within_blocks(big):
    sim, _ = big
    base = sim.data[sim.data["wave"] == "baseline"]
    per_school = base.groupby("school_id")["arm"].nunique()
    assert (per_school == 1).all()
    arms = base.drop_duplicates("school_id").groupby(["county_id", "arm"]).size().unstack()
    assert (arms["treatment"] == arms["control"]).all()


def test_truth_effect_in_scale_units_matches_a_large_sample_difference():
    spec = _spec(effect=0.4, covariate_effect=0.2)
    sim = simulate_study([spec], design="randomized", schools=100, students_per_school=400,
                         classes_per_school=8, icc_school=0.0, icc_class=0.0, seed=21,
                         truth_draws=200_000)
    end = sim.data[sim.data["wave"] == "endline"]
    score = pd.Series(_keyed(end, spec).mean(axis=1), index=end.index)
    t_ = score[end["arm"] == "treatment"]
    c_ = score[end["arm"] == "control"]
    diff = t_.mean() - c_.mean()
    se = np.sqrt(t_.var() / len(t_) + c_.var() / len(c_))
    truth = sim.truth["outcomes"]["comm"]
    assert truth["effect_scale_mc_se"] < 0.002
    assert abs(diff - truth["effect_scale"]) < 4 * se + 3 * truth["effect_scale_mc_se"]
    assert truth["effect_scale"] > 0.1  # a 0.4 SD latent effect is visible on the 1-5 scale
    assert truth["effect_scale_sd_units"] == pytest.approx(
        truth["effect_scale"] / truth["control_endline_scale_sd"])


def test_pre_post_truth_separates_trend_from_effect():
    spec = _spec(effect=0.0, trend=0.3)
    sim = simulate_study([spec], design="pre_post", schools=1, classes_per_school=15,
                         students_per_school=61, boys=31, seed=3, truth_draws=20_000)
    t = sim.truth["outcomes"]["comm"]
    assert t["effect_scale"] == 0.0
    assert t["change_scale_treated"] > 0.1
    assert 0.4 < t["share_any_improvement_treated"] < 0.8
    assert "arm" not in sim.data.columns
    assert sim.design.arm is None and sim.design.clusters == ("class_id",)


# ---------------------------------------------------------------------------- fake personal data


def test_structure_and_unique_personal_data():
    spec = _spec()
    sim = simulate_study([spec], design="pre_post", schools=1, classes_per_school=15,
                         students_per_school=61, boys=31, grades=(1, 6), seed=8,
                         truth_draws=5_000)
    base = sim.data[sim.data["wave"] == "baseline"]
    assert len(base) == 61 and base["class_id"].nunique() == 15
    assert (base["gender"] == "male").sum() == 31
    for col in ("student_id", "name", "name_pinyin", "phone", "address", "guardian_name"):
        assert base[col].is_unique, col
    assert not set(base["name"]) & set(base["guardian_name"])
    assert base["student_id"].str.fullmatch(r"LB-\d{4}-\d{4}").all()
    assert base["phone"].str.fullmatch(r"17[01]0\d{7}").all()
    assert base["name"].str.fullmatch(r"[\u4e00-\u9fff]{3}").all()
    assert base["name_pinyin"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z']+").all()
    assert base["address"].str.contains("村").all()
    assert set(base["guardian_type"]) <= {"grandparents", "other_relative", "one_parent"}
    # one-parent guardians never have both parents away
    assert (base.loc[base["guardian_type"] == "one_parent", "both_parents_away"] == 0).all()


def test_guardian_mix_in_a_large_sample(big):
    sim, _ = big
    base = sim.data[sim.data["wave"] == "baseline"]
    share = base["guardian_type"].value_counts(normalize=True)
    assert share["grandparents"] == pytest.approx(0.90, abs=0.01)
    assert base["both_parents_away"].mean() == pytest.approx(0.85 * 0.95, abs=0.015)
    assert base["name"].is_unique and base["phone"].is_unique and base["address"].is_unique


# ---------------------------------------------------------------------------- workbench simulate


def test_cli_simulate_is_byte_identical_and_refuses_to_overwrite(tmp_path, capsys):
    from workbench.cli import main

    args = ["--design", "randomized", "--clusters", "3", "--per-cluster", "30", "--seed", "4",
            "--truth-draws", "20000", "--effect", "0.2"]
    assert main(["simulate", str(tmp_path / "a"), *args]) == 0
    assert main(["simulate", str(tmp_path / "b"), *args]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert {str(p) for p in files_a} == {"study.yaml", "truth.json", "README.md",
                                         "data/baseline.csv", "data/endline.csv"}
    for p in files_a:
        assert (tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes(), p
    capsys.readouterr()
    assert main(["simulate", str(tmp_path / "a"), *args]) == 2
    assert "SIMULATE_FOLDER_EXISTS" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "a"), *args[:-2], "--effect", "0.1", "--force"]) == 0
    truth = json.loads((tmp_path / "a" / "truth.json").read_text("utf-8"))
    assert truth["outcomes"]["communication"]["effect_latent_sd"] == 0.1


def test_cli_simulate_study_loads(tmp_path):
    from survey import load_study
    from workbench.cli import main

    assert main(["simulate", str(tmp_path / "s"), "--clusters", "4", "--per-cluster", "20",
                 "--seed", "9", "--platform-endline", "--truth-draws", "20000"]) == 0
    study = load_study(tmp_path / "s")
    assert study.design.type == "cluster_randomized"
    assert [o.id for o in study.primary_outcomes] == ["communication"]
    assert set(study.privacy.pii) >= {"name", "phone", "address", "guardian_name", "姓名"}
    raw = (tmp_path / "s" / "data" / "endline.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "非常同意".encode("gbk") in raw or "同意".encode("gbk") in raw


# ---------------------------------------------------------------------------- new shapes


def test_controlled_design_has_a_visible_baseline_difference():
    spec = _spec(effect=0.3, baseline_difference=-0.4)
    sim = simulate_study([spec], design="controlled", schools=60, students_per_school=40,
                         icc_school=0.05, icc_class=0.0, seed=31, truth_draws=5_000)
    lat = sim.latent.merge(sim.data[["student_id", "wave", "arm"]])
    m = lat.groupby(["wave", "arm"])["comm"].mean()
    # before the program the chosen schools are 0.4 SD lower; after it 0.4 - 0.3 lower
    assert m["baseline", "treatment"] - m["baseline", "control"] == pytest.approx(-0.4, abs=0.12)
    assert m["endline", "treatment"] - m["endline", "control"] == pytest.approx(-0.1, abs=0.12)
    per_school = sim.data.groupby("school_id")["arm"].nunique()
    assert (per_school == 1).all()  # groups of schools
    t = sim.truth
    assert t["design"]["randomization"].startswith("none: schools chosen")
    assert t["outcomes"]["comm"]["baseline_difference_latent_sd"] == -0.4
    assert sim.design.type == "controlled" and sim.design.blocks is None


def test_three_waves_three_arms_and_truth_by_arm():
    spec = _spec(effect=0.5)
    sim = simulate_study([spec], design="randomized", schools=40, students_per_school=200,
                         classes_per_school=4, icc_school=0.0, icc_class=0.0,
                         waves=("t0", "t1", "t2"), arms=("a", "b", "c"), attrition=0.2,
                         seed=5, truth_draws=100_000)
    d = sim.data
    assert list(d["wave"].unique()) == ["t0", "t1", "t2"]
    n = d.groupby("wave").size()
    # monotone dropout: half of the 20% lost by the middle wave
    assert n["t1"] / n["t0"] == pytest.approx(0.9, abs=0.015)
    assert n["t2"] / n["t0"] == pytest.approx(0.8, abs=0.015)
    assert set(d.loc[d["wave"] == "t2", "student_id"]) <= set(d.loc[d["wave"] == "t1", "student_id"])
    t = sim.truth["outcomes"]["comm"]
    assert t["effect_latent_sd_by_arm"] == {"a": 0.5, "b": 0.25}
    end = d[d["wave"] == "t2"]
    score = pd.Series(_keyed(end, spec).mean(axis=1), index=end.index)
    for arm in ("a", "b"):
        x, c = score[end["arm"] == arm], score[end["arm"] == "c"]
        se = np.sqrt(x.var() / len(x) + c.var() / len(c))
        assert abs(x.mean() - c.mean() - t["effect_scale_by_arm"][arm]) < 4 * se
    assert t["effect_scale_by_arm"]["a"] == t["effect_scale"]
    assert 0.3 < t["effect_scale_by_arm"]["b"] / t["effect_scale_by_arm"]["a"] < 0.7
    # the middle wave is half way
    lat = sim.latent.merge(d.loc[d["wave"] == "t0", ["student_id", "arm"]])
    m = lat.groupby(["wave", "arm"])["comm"].mean()
    assert m["t1", "a"] - m["t1", "c"] == pytest.approx(0.25, abs=0.06)
    assert sim.design.control == "c" and sim.design.arm == "arm"


def test_column_outcome_truth_matches_a_large_sample():
    math = OutcomeSpec("math", column="math_score", column_mean=68, column_sd=14,
                       column_range=(0, 100), reliability=0.9, effect=0.4)
    sim = simulate_study([math], design="randomized", schools=50, students_per_school=400,
                         classes_per_school=8, icc_school=0.0, icc_class=0.0, item_missing=0.05,
                         seed=8, truth_draws=200_000)
    end = sim.data[sim.data["wave"] == "endline"]
    assert str(end["math_score"].dtype) == "Int64"
    x = end["math_score"].astype(float)
    assert x.isna().mean() == pytest.approx(0.05, abs=0.01)
    assert x.min() >= 0 and x.max() <= 100
    t_, c_ = x[end["arm"] == "treatment"].dropna(), x[end["arm"] == "control"].dropna()
    se = np.sqrt(t_.var() / len(t_) + c_.var() / len(c_))
    truth = sim.truth["outcomes"]["math"]
    assert abs(t_.mean() - c_.mean() - truth["effect_scale"]) < 4 * se
    assert truth["effect_scale"] == pytest.approx(0.4 * 14 * np.sqrt(0.9), rel=0.05)
    assert truth["column"] == "math_score" and truth["items"] == []
    assert "math" not in sim.items


@pytest.mark.parametrize("style,pattern", [("num5", r"\d{5}"), ("num8", r"\d{8}"),
                                           ("padded", r"\d{3}"),
                                           ("chinese", r"[\u4e00-\u9fff]{4}\d{3}")])
def test_id_styles(style, pattern):
    sim = simulate_study([_spec()], design="cluster_randomized", schools=6, blocks=2,
                         students_per_school=20, id_style=style, seed=2, truth_draws=2_000)
    ids = sim.data.loc[sim.data["wave"] == "baseline", "student_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(pattern).all(), ids.head().tolist()
    assert ids.str.startswith("0").any() == (style == "padded")


def test_cross_sectional_survey_and_incomplete_questionnaires():
    sim = simulate_study([_spec()], design="cross_sectional", waves=("survey",), arms=(),
                         schools=3, students_per_school=200, incomplete=0.2, cluster_levels=0,
                         seed=4, truth_draws=2_000)
    d = sim.data
    assert "arm" not in d.columns and list(d["wave"].unique()) == ["survey"]
    assert sim.design.arm is None and sim.design.clusters == ()
    second_half = d[[f"q_{i}" for i in range(6, 11)]].isna().all(axis=1)
    assert second_half.mean() == pytest.approx(0.2, abs=0.04)
    assert d[["q_1", "q_2"]].notna().all().all()
    assert sim.truth["design"]["randomization"] == "none (one survey, no comparison group)"


# ---------------------------------------------------------------------------- re-create lines


def _readme_simulate_command() -> list[str]:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    start = text.index("workbench simulate my-sim")
    cmd = text[start:text.index("```", start)].replace("\\\n", " ")
    return cmd.split()[2:]  # after "workbench simulate"


def test_readme_simulate_example_is_recreated_from_its_own_line(tmp_path):
    """crash class 10: the README example, then its re-create line, give the same bytes;
    so does the example with --effect 0.3 (the stated default) left out."""
    from workbench.cli import main

    args = _readme_simulate_command()
    assert args[0] == "my-sim" and "--effect" in args
    first = tmp_path / "first"
    assert main(["simulate", str(first), *args[1:]]) == 0
    readme = (first / "README.md").read_text("utf-8")
    line = readme.split("```\n", 2)[1].splitlines()[0]
    assert line.startswith("workbench simulate DIR ")
    recreate = line.split()[3:]
    truth = json.loads((first / "truth.json").read_text("utf-8"))
    assert truth["plan"]["cli"] == " ".join(recreate)
    assert (first / "study.yaml").read_text("utf-8").splitlines()[1] == f"# Re-create: {line}"
    second = tmp_path / "second"
    assert main(["simulate", str(second), *recreate]) == 0
    i = args.index("--effect")
    third = tmp_path / "third"
    assert main(["simulate", str(third), *args[1:i], *args[i + 2:]]) == 0
    for other in (second, third):
        files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
        for p in files:
            assert (first / p).read_bytes() == (other / p).read_bytes(), (other, p)


def test_default_effect_is_the_default_plan():
    from workbench.study_writer import plan_from_options

    assert plan_from_options(None, effect=0.3) == plan_from_options(None)
    # the county's effects are those of the full protocol (its effect grows with the dose)
    assert plan_from_options("county", effect=0.4) == plan_from_options("county")
    p = plan_from_options(None, effect=0.3)
    assert [ip.effect for ip in p.instruments] == [0.3, 0.15, 0.1]


def test_every_zoo_plan_is_recreated_by_its_options():
    """The re-create line of every zoo shape (and a few hand-made plans) gives the same plan."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from zoo import case_args, zoo_cases

    from workbench.cli import build_parser
    from workbench.commands.simulate import plan_from_args
    from workbench.study_writer import cli_options, plan_from_options

    def plan_of(args):
        return plan_from_args(build_parser().parse_args(["simulate", "x", *args]))

    extra = [["--design", "controlled"], ["--design", "pre_post", "--clusters", "3"],
             ["--preset", "single-school", "--effect", "0.3"],
             ["--preset", "county", "--clusters", "6", "--blocks", "2", "--classes", "2"],
             ["--design", "cross_sectional", "--arms", "0", "--instruments", "phq9", "gad7"],
             ["--instruments", "none", "--columns", "absent_days", "--effect", "-0.2"]]
    for args in [case_args(c) for c in zoo_cases("pairwise")] + extra:
        plan = plan_of(args)
        opts = cli_options(plan)
        assert opts is not None, args
        assert plan_of(opts) == plan, (args, opts)
        assert plan_from_options(plan.preset, seed=plan.seed) == plan or len(opts) > 2


def test_simulate_controlled_on_the_command_line(tmp_path):
    from survey import load_study
    from workbench.cli import main

    assert main(["simulate", str(tmp_path / "s"), "--design", "controlled", "--clusters", "6",
                 "--per-cluster", "20", "--seed", "3", "--truth-draws", "20000"]) == 0
    study = load_study(tmp_path / "s")
    assert study.design.type == "controlled" and study.design.control == "control"
    truth = json.loads((tmp_path / "s" / "truth.json").read_text("utf-8"))
    assert truth["outcomes"]["communication"]["baseline_difference_beneficial_sd"] == -0.3
    assert "--design controlled" in truth["plan"]["cli"]


@pytest.mark.parametrize("design", ["controlled", "randomized", "cluster_randomized"])
@pytest.mark.parametrize("levels", [0, 1, 2])
def test_cluster_levels_give_each_column_one_role(design, levels):
    if design == "cluster_randomized" and levels == 0:
        pytest.skip("a cluster randomized design needs a cluster level")
    sim = simulate_study([_spec()], design=design, schools=4, blocks=2, students_per_school=12,
                         cluster_levels=levels, seed=1, truth_draws=1_000)
    d = sim.design
    assert len(d.clusters) == levels
    assert d.blocks is None or d.blocks not in d.clusters
    if design == "randomized" and levels < 2:
        assert d.blocks == "school_id"  # students randomized within schools


def test_a_new_outcome_list_starts_with_its_primary_outcome():
    from workbench.study_writer import plan_from_options

    p = plan_from_options(None, instruments=["phq9", "pcc", "rses"], effect=0.35)
    assert p.primary.outcome == "depression" and p.primary.effect == 0.35
    assert [ip.effect for ip in p.instruments] == [0.35, 0.175, 0.1166666667]
    p = plan_from_options(None, instruments=["cls"], columns=["math_score"], primary="math")
    assert p.primary.outcome == "math"
    assert plan_from_options(None, instruments=["pcc", "cls", "rses"]) == plan_from_options(None)


def test_simulate_help_states_the_generic_defaults():
    """crash class 10: the defaults the help text names are the generic plan's."""
    import re

    from workbench.cli import build_parser
    from workbench.study_writer import plan_from_options

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["simulate"]
    helps = {a.option_strings[0]: a.help for a in sub._actions if a.option_strings}
    p = plan_from_options(None)
    stated = {"--clusters": p.schools, "--blocks": p.blocks, "--per-cluster": p.students_per_school,
              "--icc": p.icc_school, "--icc-class": p.icc_class, "--effect": p.primary.effect,
              "--trend": p.primary.trend, "--attrition": p.attrition,
              "--item-missing": p.item_missing, "--incomplete": p.incomplete, "--seed": p.seed,
              "--truth-draws": p.truth_draws, "--language": p.language, "--design": p.design,
              "--waves": len(p.waves), "--arms": len(p.arms)}
    for flag, value in stated.items():
        m = re.search(r"default:? ([\w.]+)", helps[flag])
        assert m, (flag, helps[flag])
        got = m.group(1)
        assert (float(got) == float(value) if isinstance(value, (int, float)) else got == value), (
            flag, got, value)
    assert "13/7" in helps["--attrition-ratio"] and p.attrition_ratio == 13 / 7
    assert "loneliness 0.15, self-esteem 0.1" in helps["--effect"]
    assert [ip.effect for ip in p.instruments] == [0.3, 0.15, 0.1]


def test_simulate_keeps_its_public_names_and_each_part_its_own_job():
    import analysis.simulate as sim
    from analysis import fake_identity, simulate_items, simulate_population

    for name in sim.__all__:
        assert hasattr(sim, name), name
    assert sim.OutcomeSpec is simulate_items.OutcomeSpec
    assert sim.ID_STYLES == fake_identity.ID_STYLES
    assert sim.SimulatedStudy.__dataclass_fields__["pii"].default == fake_identity.PII_COLUMNS
    assert sim.GUARDIAN_TYPES == simulate_population.GUARDIAN_TYPES
    rng = np.random.default_rng(0)
    pii = fake_identity.fake_personal_data(rng, np.zeros(50, int), ["石桥镇"], ["青山县"],
                                           np.array(["grandparents", "one_parent"] * 25))
    assert tuple(pii) == fake_identity.PII_COLUMNS
    assert all(len(set(v)) == 50 for v in pii.values())


# ---------------------------------------------------------------------------- arm multipliers


@pytest.mark.parametrize("arms, mult", [(("t", "c"), (0.5,)), (("a", "b", "c"), (0.5, 1.0))])
def test_truth_by_arm_matches_the_data_when_the_first_multiplier_is_not_one(arms, mult):
    """The data get effect x multiplier per arm; the truth must say the same (it used to
    report the plain effect for the first arm, and ignore a 2-arm multiplier entirely)."""
    spec = _spec(effect=0.6)
    sim = simulate_study([spec], design="randomized", schools=20, students_per_school=300,
                         classes_per_school=4, icc_school=0.0, icc_class=0.0, arms=arms,
                         arm_effects=mult, seed=17, truth_draws=100_000)
    t = sim.truth["outcomes"]["comm"]
    want = {a: 0.6 * m for a, m in zip(arms[:-1], mult)}
    assert t["effect_latent_sd"] == pytest.approx(want[arms[0]])
    assert sim.truth["parameters"]["arm_effects"] == dict(zip(arms[:-1], mult))
    end = sim.data[sim.data["wave"] == "endline"]
    lat = sim.latent.merge(end[["student_id", "wave", "arm"]])
    score = pd.Series(_keyed(end, spec).mean(axis=1), index=end.index)
    by_arm = t.get("effect_scale_by_arm", {arms[0]: t["effect_scale"]})
    for arm, effect in want.items():
        x, c = lat.loc[lat["arm"] == arm, "comm"], lat.loc[lat["arm"] == arms[-1], "comm"]
        se = np.sqrt(x.var() / len(x) + c.var() / len(c))
        assert abs(x.mean() - c.mean() - effect) < 4 * se  # latent SD units
        xs, cs = score[end["arm"] == arm], score[end["arm"] == arms[-1]]
        se = np.sqrt(xs.var() / len(xs) + cs.var() / len(cs))
        assert abs(xs.mean() - cs.mean() - by_arm[arm]) < 4 * se  # scale units
    if len(arms) > 2:
        assert t["effect_latent_sd_by_arm"] == pytest.approx(want)
        assert t["effect_scale_by_arm"][arms[0]] == t["effect_scale"]
        assert 0.4 < by_arm[arms[0]] / by_arm[arms[1]] < 0.6  # 0.3 SD vs 0.6 SD


def test_readme_names_each_arms_own_multiplier(tmp_path):
    from workbench.study_writer import plan_from_preset, write_simulated_study

    plan = plan_from_preset(None, schools=6, students_per_school=12, truth_draws=2_000, seed=2)
    from dataclasses import replace

    three = replace(plan, arms=("treatment", "treatment_plus", "control"), arm_effects=(1.0, 0.25))
    write_simulated_study(tmp_path / "a", three)
    text = (tmp_path / "a" / "README.md").read_text("utf-8")
    assert "Arm `treatment_plus` has 0.25 times these effects" in text
    two = replace(plan, arm_effects=(0.5,))
    write_simulated_study(tmp_path / "b", two)
    text = (tmp_path / "b" / "README.md").read_text("utf-8")
    assert "`treatment` 0.5" in text
    truth = json.loads((tmp_path / "b" / "truth.json").read_text("utf-8"))
    comm = truth["outcomes"]["communication"]
    assert comm["effect_beneficial_sd"] == comm["effect_latent_sd"] == pytest.approx(0.15)


# ---------------------------------------------------------------------------- one school per group


def test_one_school_per_group_declares_the_classes_as_clusters():
    sim = simulate_study([_spec()], design="controlled", schools=2, classes_per_school=5,
                         students_per_school=40, seed=4, truth_draws=1_000)
    assert sim.design.clusters == ("class_id",)  # two school clusters leave no variance
    assert sim.data.groupby("school_id")["arm"].nunique().eq(1).all()
    sim = simulate_study([_spec()], design="controlled", schools=2, classes_per_school=5,
                         students_per_school=40, cluster_levels=1, seed=4, truth_draws=1_000)
    assert sim.design.clusters == ("class_id",)
    # more schools than groups: the schools are the clusters, as before
    sim = simulate_study([_spec()], design="controlled", schools=4, students_per_school=20,
                         seed=4, truth_draws=1_000)
    assert sim.design.clusters == ("school_id", "class_id")


def test_two_school_preset():
    from workbench.study_writer import cli_options, plan_from_options

    plan = plan_from_options("two-school")
    assert (plan.design, plan.schools, plan.arms) == ("controlled", 2, ("program", "comparison"))
    assert plan.baseline_difference < 0  # the program school starts worse off
    assert cli_options(plan) == ["--preset", "two-school", "--seed", str(plan.seed)]


def test_the_command_line_offers_every_preset():
    """`sh examples/make_examples.sh` runs `workbench simulate --preset two-school`; the
    parser's choices (workbench/cli.py) must list every preset of the study writer."""
    from workbench.cli import build_parser
    from workbench.study_writer import PRESETS

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["simulate"]
    preset = next(a for a in sub._actions if a.dest == "preset")
    assert sorted(preset.choices) == sorted(PRESETS)

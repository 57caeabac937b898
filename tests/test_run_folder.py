"""RunFolder.write_table: small cells and small category counts, formula safety, integers."""

import pandas as pd

from evaluation.run_folder import RunFolder


class _Privacy:
    min_cell = 5


class _Study:
    privacy = _Privacy()


def _run(tmp_path):
    return RunFolder(tmp_path, study=_Study())  # a study object instead of the snapshot


def test_small_category_counts_and_small_groups_are_both_suppressed(tmp_path):
    t = pd.DataFrame({"outcome": ["o"] * 4, "arm": ["c", "t", "v", "u"], "n": [50, 60, 40, 3],
                      "n_improved": [3, 20, 10, 1], "improved": [3 / 50, 1 / 3, .25, 1 / 3],
                      "n_worse": [10, 2, 9, 0], "worse": [.2, 2 / 60, 9 / 40, 0.0]})
    out = _run(tmp_path).write_table(
        "change", t, count="n", stats=["improved", "worse", "n_improved", "n_worse", "df"],
        margins=["arm"], by=["outcome"],
        counts={"n_improved": ["improved"], "n_worse": ["worse"]})
    csv = pd.read_csv(tmp_path / "tables" / "change.csv")
    # within a row: 3 improved in c, 2 worse in t are blanked with their shares
    assert pd.isna(csv.loc[0, "n_improved"]) and pd.isna(csv.loc[0, "improved"])
    assert pd.isna(csv.loc[1, "n_worse"]) and pd.isna(csv.loc[1, "worse"])
    assert csv.loc[1, "n_improved"] == 20 and csv.loc[0, "n_worse"] == 10
    # whole rows: the arm of 3, and (complementary) the next smallest arm, v
    assert pd.isna(csv.loc[3, "n"]) and pd.isna(csv.loc[2, "n"]) and csv["suppressed"].sum() == 2
    assert out["suppressed"].sum() == 2


def test_text_is_neutralized_and_counts_stay_integers(tmp_path):
    t = pd.DataFrame({"level": ["=cmd|x", "ok"], "n": [12, 30], "mean": [1 / 3, 2.0]})
    _run(tmp_path).write_table("t", t, count="n", stats=["mean"], margins=["level"])
    text = (tmp_path / "tables" / "t.csv").read_text(encoding="utf-8")
    assert "'=cmd|x" in text and ",12," in text and "0.3333333333" in text


def test_text_language_is_the_snapshot_language(tmp_path):
    import pytest

    run = _run(tmp_path)
    run.study.language = "zh"
    assert run.text_lang == "zh"
    run.study.language = "fr"
    with pytest.raises(ValueError, match="lang must be 'zh' or 'en'"):
        _ = run.text_lang


def test_the_study_comes_from_the_run_snapshot_not_study_yaml(tmp_path):
    """A run folder reads RUN/study.json; a missing snapshot is a clear error."""
    import pytest

    from core.errors import ContractError
    from survey import load_study
    from survey.snapshot import SNAPSHOT_NAME, write_snapshot

    with pytest.raises(ContractError, match="no study snapshot"):
        _ = RunFolder(tmp_path).study
    write_snapshot(load_study("examples/single-school-pre-post"), tmp_path / SNAPSHOT_NAME,
                   language="en", seed=11)
    run = RunFolder(tmp_path)
    assert run.text_lang == "en" and run.seed == 11
    assert run.study.design.type == "pre_post"


def test_save_figure_publishes_png_and_svg_and_closes_the_figure(tmp_path):
    """The page shows the saved PNG; the figure is closed so it is never drawn again."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2], [3, 4])
    paths = _run(tmp_path).save_figure(fig, "line", show=False)
    assert [p.name for p in paths] == ["line.png", "line.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.number not in plt.get_fignums()


def test_the_manifest_hashes_the_study_snapshot(tmp_path):
    """RUN/study.json, what the notebooks analysed, is listed with its sha256."""
    import hashlib

    from survey import load_study
    from survey.snapshot import SNAPSHOT_NAME, write_snapshot
    from workbench.manifest import list_outputs

    path = write_snapshot(load_study("examples/county-cluster-trial"), tmp_path / SNAPSHOT_NAME)
    [entry] = [e for e in list_outputs(tmp_path) if e["path"] == SNAPSHOT_NAME]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_outcome_label_is_the_scale_name_without_the_id(tmp_path):
    """Pages and figure titles name an outcome by its scale, not by the code of study.yaml."""
    from survey.study_loader import load_study

    run = RunFolder(tmp_path, study=load_study("examples/county-cluster-trial"))
    label = run.outcome_label("communication")
    assert "communication" not in label and label.startswith("沟通与求助")


def test_round_floats_rounds_as_numpy_scalars_do():
    """_round_floats rounds each float to 10 significant digits as ``round(numpy.float64,
    d)`` does (scale, round half to even, unscale), one value at a time; it does so a group
    of values at once: the same bits, for every magnitude, zeros, NaN and inf."""
    import numpy as np
    import pandas as pd

    from evaluation.run_folder import _round_floats

    rng = np.random.default_rng(3)
    n = 5000
    with np.errstate(over="ignore"):
        v = rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-30, 30, n) * rng.uniform(1, 10, n)
    v[:50] = [0.0, np.nan, np.inf, -np.inf, 2.675, 1.005, 0.125, 1e15 + 0.5, 5e-10, 123456.78905,
              *rng.uniform(0, 1, 40).round(11)]
    df = pd.DataFrame({"x": v, "k": np.arange(n), "s": "a", "f32": v.astype(np.float32)})
    got = _round_floats(df)
    for col in ("x", "f32"):
        vals = df[col].to_numpy(dtype=float)
        want = vals.copy()
        for i, x in enumerate(vals):
            if np.isfinite(x) and x != 0:
                want[i] = round(x, int(10 - 1 - np.floor(np.log10(abs(x)))))
        assert np.array_equal(got[col].to_numpy().view(np.int64), want.view(np.int64))
    assert got["k"].equals(df["k"]) and got["s"].equals(df["s"])

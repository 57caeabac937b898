"""survey.scoring: reverse keying, prorating, score(), and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.design import Design
from core.errors import DataError
from survey.instrument import Instrument, Item, License, Response, Scale
from survey.scoring import keyed_items, reverse_key, score, score_items
from survey.study import InstrumentUse, Outcome, Study


def make_instrument(n=6, lo=1, hi=5, reverse=(2, 5), score_kind="sum", min_items=None,
                    iid="demo"):
    items = tuple(Item(f"q{k}", reverse=k in reverse) for k in range(1, n + 1))
    half = n // 2
    a = tuple(f"q{k}" for k in range(1, half + 1))
    b = tuple(f"q{k}" for k in range(half + 1, n + 1))
    mi = min_items if min_items is not None else 1
    scales = (Scale("a", {"en": "A", "zh": "甲"}, a, score=score_kind, min_items=min(mi, len(a))),
              Scale("b", {"en": "B", "zh": "乙"}, b, score=score_kind, min_items=min(mi, len(b))),
              Scale("total", {"en": "Total", "zh": "总分"}, a + b, score=score_kind,
                    min_items=mi, subscales=("a", "b")))
    return Instrument(id=iid, name={"en": "Demo"}, version="1", construct="demo", citation="",
                      license=License("original", "test"), response=Response(lo, hi),
                      items=items, scales=scales)


# ------------------------------------------------------------------ reverse_key

def test_reverse_key_types():
    r = Response(1, 5)
    assert reverse_key(1, r) == 5
    assert reverse_key(np.array([1.0, np.nan, 3.0]), (1, 5)).tolist()[::2] == [5.0, 3.0]
    s = reverse_key(pd.Series([0, 2], index=["x", "y"]), Response(0, 2))
    assert s.to_dict() == {"x": 2, "y": 0}


@given(lo=st.integers(-3, 3), width=st.integers(1, 10), data=st.data())
def test_reverse_twice_is_identity(lo, width, data):
    hi = lo + width
    vals = data.draw(st.lists(st.one_of(st.integers(lo, hi).map(float), st.just(np.nan)),
                              min_size=1, max_size=30))
    x = np.array(vals)
    back = reverse_key(reverse_key(x, (lo, hi)), (lo, hi))
    assert np.array_equal(back, x, equal_nan=True)
    assert np.nanmin(reverse_key(x, (lo, hi)), initial=hi) >= lo


# ------------------------------------------------------------------ score_items

def test_hand_computed_scores():
    inst = make_instrument(score_kind="sum", min_items=2)
    df = pd.DataFrame({"q1": [5, 1, np.nan], "q2": [1, np.nan, np.nan], "q3": [4, 3, 2],
                       "q4": [2, 2, 2], "q5": [5, 5, np.nan], "q6": [3, np.nan, np.nan]})
    out = score_items(df, inst)
    assert list(out.columns) == ["demo.a", "demo.b", "demo.total"]
    # row 0: a = 5 + (6-1) + 4 = 14; b = 2 + (6-5) + 3 = 6; total 20
    assert out.iloc[0].tolist() == [14.0, 6.0, 20.0]
    # row 1: a answered q1=1, q3=3 -> mean 2 -> prorated 6; b: q4=2, q5 -> 1 -> mean 1.5 -> 4.5
    assert out.iloc[1].tolist() == [6.0, 4.5, pytest.approx(10.5)]
    # row 2: a has 1 answered (< 2) -> NaN; b has 1 answered -> NaN; total 2 answered -> 2*6/... mean 2 -> 12
    assert np.isnan(out.iloc[2, 0]) and np.isnan(out.iloc[2, 1]) and out.iloc[2, 2] == 12.0


def test_mean_scores_and_min_items():
    inst = make_instrument(score_kind="mean", min_items=3)
    df = pd.DataFrame({"q1": [1.0, 2.0], "q2": [1.0, np.nan], "q3": [1.0, 2.0],
                       "q4": [5.0, 5.0], "q5": [5.0, 5.0], "q6": [5.0, 5.0]})
    out = score_items(df, inst, prefix=False)
    assert out.loc[0, "a"] == pytest.approx((1 + 5 + 1) / 3)
    assert np.isnan(out.loc[1, "a"])          # 2 of 3 answered, min_items 3
    assert out.loc[0, "b"] == pytest.approx((5 + 1 + 5) / 3)


def test_keyed_items_and_composite():
    inst = make_instrument()
    df = pd.DataFrame({f"q{k}": [1.0, 4.0] for k in range(1, 7)})
    k = keyed_items(df, inst, "total")
    assert list(k.columns) == [f"q{i}" for i in range(1, 7)]
    assert k["q2"].tolist() == [5.0, 2.0] and k["q1"].tolist() == [1.0, 4.0]
    with pytest.raises(ValueError, match="no scale 'nope'"):
        keyed_items(df, inst, "nope")


def test_columns_mapping_and_ignores_other_columns():
    inst = make_instrument()
    df = pd.DataFrame({f"Q{k}": [3.0] for k in range(1, 7)} | {"name": ["x"]})
    out = score_items(df, inst, columns={f"q{k}": f"Q{k}" for k in range(1, 7)})
    assert out["demo.total"].iloc[0] == 18.0


def test_errors_are_workbench_errors():
    inst = make_instrument()
    good = pd.DataFrame({f"q{k}": [3.0] for k in range(1, 7)})
    with pytest.raises(DataError) as e:
        score_items(good.drop(columns="q4"), inst)
    assert e.value.code == "SCORE_ITEM_MISSING" and e.value.column == "q4"
    bad = good.assign(q3=[9.0], _file=["a.csv"], _row=[7])
    with pytest.raises(DataError) as e:
        score_items(bad, inst)
    assert e.value.code == "SCORE_VALUE_OUT_OF_RANGE"
    assert (e.value.file, e.value.row, e.value.column) == ("a.csv", 7, "q3")
    with pytest.raises(DataError) as e:
        score_items(good.assign(q1=["x"]), inst)
    assert e.value.code == "SCORE_NOT_NUMERIC"
    with pytest.raises(ValueError):
        score_items(good, inst, impute="knn")


def test_nullable_dtypes_are_accepted():
    inst = make_instrument()
    df = pd.DataFrame({f"q{k}": pd.array([3, None], dtype="Int64") for k in range(1, 7)})
    out = score_items(df, inst)
    assert out["demo.total"].iloc[0] == 18.0 and out["demo.total"].isna().iloc[1]


# ------------------------------------------------------------------ properties

matrix = st.integers(1, 25).flatmap(
    lambda n: st.lists(st.lists(st.one_of(st.integers(1, 5).map(float), st.just(np.nan)),
                                min_size=6, max_size=6), min_size=n, max_size=n))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=matrix, perm=st.permutations(list(range(6))), kind=st.sampled_from(["mean", "sum"]),
       mi=st.integers(1, 6))
def test_scores_do_not_depend_on_column_order(rows, perm, kind, mi):
    inst = make_instrument(score_kind=kind, min_items=mi)
    df = pd.DataFrame(rows, columns=[f"q{k}" for k in range(1, 7)])
    shuffled = df[[df.columns[i] for i in perm]]
    a, b = score_items(df, inst), score_items(shuffled, inst)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 3).map(float), min_size=6, max_size=6),
                     min_size=1, max_size=25))
def test_prorated_sum_equals_sum_when_complete(rows):
    inst = make_instrument(lo=0, hi=3, score_kind="sum", min_items=1)
    df = pd.DataFrame(rows, columns=[f"q{k}" for k in range(1, 7)])
    out = score_items(df, inst)
    keyed = keyed_items(df, inst, "total")
    assert np.array_equal(out["demo.total"].to_numpy(), keyed.sum(axis=1).to_numpy())
    assert np.array_equal(out["demo.a"].to_numpy(), keyed[["q1", "q2", "q3"]].sum(axis=1).to_numpy())


@settings(max_examples=40, deadline=None)
@given(rows=matrix)
def test_prorated_sum_is_mean_times_k(rows):
    inst_s = make_instrument(score_kind="sum", min_items=1)
    inst_m = make_instrument(score_kind="mean", min_items=1)
    df = pd.DataFrame(rows, columns=[f"q{k}" for k in range(1, 7)])
    s, m = score_items(df, inst_s), score_items(df, inst_m)
    assert np.allclose(s["demo.total"], 6 * m["demo.total"], equal_nan=True, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ score(study, data)

def make_study(waves=("baseline", "endline")):
    design = Design(type="cluster_randomized", id="student_id", wave="wave", waves=waves,
                    arm="arm", control="control", clusters=("school_id",), blocks="county",
                    covariates=("gender", "age"), subgroups=("gender", "guardian"))
    inst = make_instrument(score_kind="mean", min_items=1)
    return Study(id="s", title={"en": "S", "zh": "研究"}, language="zh", design=design,
                 instruments=(InstrumentUse(inst, {i: i for i in inst.item_ids}),), data=(),
                 outcomes=(Outcome("math", column="math"), Outcome("tot", scale="demo.total")))


def make_data():
    rng = np.random.default_rng(1)
    n = 8
    df = pd.DataFrame({
        "_file": ["b.csv"] * 4 + ["e.csv"] * 4, "_row": list(range(2, 6)) * 2,
        "student_id": ["p3", "p1", "p2", "p4", "p2", "p4", "p1", "p3"],
        "wave": ["baseline"] * 4 + ["endline"] * 4,
        "arm": ["control", "treat", "treat", "control"] * 2,
        "school_id": ["s1", "s1", "s2", "s2"] * 2, "county": "c1",
        "gender": ["f", "m", "f", "m"] * 2, "age": [10.0, 11, 12, 10] * 2,
        "guardian": ["gp", "gp", "other", "gp"] * 2, "math": rng.normal(size=n),
        "extra_text": "x",
    })
    for k in range(1, 7):
        df[f"q{k}"] = rng.integers(1, 6, n).astype(float)
    df.loc[3, "q1"] = np.nan
    return df.iloc[::-1].reset_index(drop=True)


def test_score_layout_and_order():
    study, data = make_study(), make_data()
    out = score(study, data)
    assert list(out.columns) == ["student_id", "wave", "arm", "school_id", "county", "gender",
                                 "age", "guardian", "math", "demo.a", "demo.b", "demo.total"]
    assert out["wave"].tolist() == ["baseline"] * 4 + ["endline"] * 4
    assert out["student_id"].tolist() == ["p1", "p2", "p3", "p4"] * 2
    assert list(out.index) == list(range(8))
    assert pd.api.types.is_string_dtype(out["student_id"])
    assert all(out[c].dtype == np.float64 for c in ["demo.a", "demo.b", "demo.total"])
    # values travel with their rows
    src = data.set_index(["student_id", "wave"])
    row = out.iloc[5]
    keyed = keyed_items(data, study.instrument("demo"), "total")
    keyed.index = data.set_index(["student_id", "wave"]).index
    assert row["demo.total"] == pytest.approx(keyed.loc[(row["student_id"], row["wave"])].mean())
    assert row["math"] == src.loc[(row["student_id"], row["wave"]), "math"]


def test_score_errors():
    study, data = make_study(), make_data()
    with pytest.raises(DataError) as e:
        score(study, data.drop(columns="school_id"))
    assert e.value.code == "SCORE_COLUMN_MISSING" and e.value.column == "school_id"
    dup = pd.concat([data, data.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError) as e:
        score(study, dup)
    assert e.value.code == "SCORE_DUPLICATE_RESPONDENT" and e.value.file in ("b.csv", "e.csv")
    bad = data.copy()
    bad.loc[0, "wave"] = "midline"
    with pytest.raises(DataError) as e:
        score(study, bad)
    assert e.value.code == "SCORE_UNKNOWN_WAVE"


def test_single_wave_without_wave_column():
    study = make_study(waves=("only",))
    data = make_data()
    data = data[data["wave"] == "baseline"].drop(columns="wave")
    out = score(study, data)
    assert set(out["wave"]) == {"only"} and len(out) == 4


def test_bundled_instrument_scores_from_loader():
    loader = pytest.importorskip("survey.instrument_loader")
    rses = loader.load_instrument("rses")
    df = pd.DataFrame({f"rses_{k}": [4.0, 1.0] for k in range(1, 11)})
    out = score_items(df, rses)
    # all "4": 5 positive items -> 20, 5 reversed -> 5; all "1": 5 + 20
    assert out["rses.total"].tolist() == [25.0, 25.0]
    df.loc[0, [f"rses_{k}" for k in (2, 5, 6, 8, 9)]] = 1.0
    assert score_items(df, rses)["rses.total"].iloc[0] == 40.0


# ------------------------------------------------------------------ workbench score

class _Result:
    def __init__(self, data, fatal=False, issues=()):
        from survey.privacy import SensitiveValues

        self.data, self.fatal, self.issues = data, fatal, list(issues)
        self.sensitive = SensitiveValues()  # what `workbench score` scans its files for


def test_cli_score_with_stubbed_validation(tmp_path, monkeypatch, capsys):
    """The command's logic, with load_study/validate stubbed (see the end-to-end test below)."""
    import survey
    from core.errors import Issue
    from workbench.cli import main

    study = make_study()
    warn = Issue("VALUE_OUT_OF_RANGE", "warning", "odd")
    monkeypatch.setattr(survey, "load_study", lambda p: study)
    monkeypatch.setattr(survey, "validate", lambda s: _Result(make_data(), issues=[warn]))
    assert main(["score", "somewhere", "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "scored 8 rows (4 respondents)" in text and "baseline: 4 respondents" in text
    assert "demo.total" in text and "0 errors, 1 warnings" in text
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert files == {"scores.parquet", "scores.csv", "scores.sav", "items.parquet"}
    items = pd.read_parquet(tmp_path / "out" / "items.parquet")
    # the same writer as `workbench run` (survey.export.write_scored_data): the design's
    # structure columns, then the items
    assert list(items.columns) == (["student_id", "wave", "arm", "school_id", "county"]
                                   + [f"q{k}" for k in range(1, 7)])

    err = Issue("DUPLICATE_ID", "error", "dup")
    monkeypatch.setattr(survey, "validate", lambda s: _Result(None, fatal=True, issues=[err]))
    assert main(["score", "somewhere", "--out", str(tmp_path / "out2")]) == 1
    assert "DUPLICATE_ID" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_cli_score_end_to_end(tmp_path, capsys):
    """Real load_study + validate on a tiny study folder (needs survey.validation)."""
    pytest.importorskip("survey.validation")
    pytest.importorskip("survey.study_loader")
    from workbench.cli import main

    folder = tmp_path / "study"
    (folder / "data").mkdir(parents=True)
    (folder / "study.yaml").write_text(
        "id: tiny\ntitle: {en: Tiny, zh: 小研究}\nlanguage: en\n"
        "design: {type: pre_post, id: sid, wave: wave, waves: [pre, post]}\n"
        "instruments: [{id: rses}]\n"
        "outcomes: [{id: esteem, scale: rses.total, better: higher, primary: true}]\n"
        "data: [{path: data/pre.csv, wave: pre}, {path: data/post.csv, wave: post}]\n",
        encoding="utf-8")
    header = "sid," + ",".join(f"rses_{k}" for k in range(1, 11))
    for wave, val in (("pre", 2), ("post", 3)):
        rows = [f"s{i}," + ",".join(str(val) for _ in range(10)) for i in range(1, 6)]
        (folder / "data" / f"{wave}.csv").write_text("\n".join([header, *rows]) + "\n",
                                                    encoding="utf-8")
    assert main(["score", str(folder), "--out", str(tmp_path / "out")]) == 0
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert len(scores) == 10 and scores["wave"].tolist() == ["pre"] * 5 + ["post"] * 5
    # 5 positive items at v and 5 reversed at 5 - v: total 25 whatever v is
    assert scores["rses.total"].tolist() == [25.0] * 10
    assert list(scores.columns) == ["sid", "wave", "rses.total"]
    assert not set(scores["sid"]) & {f"s{i}" for i in range(1, 6)}    # pseudonyms, not raw ids

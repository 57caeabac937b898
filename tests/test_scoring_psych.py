"""Parity of survey.scoring with R psych::scoreItems (psych 2.2.9) on psych::bfi.

Reference values: tests/fixtures/r/scoring.R -> tests/fixtures/r/scoring/*.csv.
R is not needed to run these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.instrument import Instrument, Item, License, Response, Scale
from survey.scoring import score_items

FIX = Path(__file__).parent / "fixtures"
REF = FIX / "r" / "scoring"
TOL = 1e-9
SCALES = ["agree", "conscientious", "extraversion", "neuroticism", "openness"]
REVERSED = {"A1", "C4", "C5", "E1", "E2", "O2", "O5"}


def bfi_instrument(score: str = "mean", min_items: int = 1) -> Instrument:
    items = tuple(Item(f"{L}{k}", reverse=f"{L}{k}" in REVERSED)
                  for L in "ACENO" for k in range(1, 6))
    scales = tuple(Scale(name, {"en": name}, tuple(f"{name[0].upper()}{k}" for k in range(1, 6)),
                         score=score, min_items=min_items)
                   for name in SCALES)
    return Instrument(id="bfi", name={"en": "Big Five Inventory items (SAPA)"}, version="psych",
                      construct="Big Five", citation="Revelle, psych::bfi",
                      license=License("keys_only", "test fixture"), response=Response(1, 6),
                      items=items, scales=scales)


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    df = pd.read_csv(FIX / "bfi.csv")
    df.index = np.arange(1, len(df) + 1)   # R's 1-based row numbers
    return df


def ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, index_col="row")


def check(ours: pd.DataFrame, theirs: pd.DataFrame):
    assert list(ours.index) == list(theirs.index)
    a = ours[SCALES].to_numpy()
    b = theirs[SCALES].to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    assert np.max(np.abs(a[ok] - b[ok])) < TOL


def test_fixture_versions():
    v = json.loads((REF / "versions.json").read_text())
    assert v["psych"] == "2.2.9" and v["n_rows"] == 2800 and v["n_complete"] == 2436
    assert {k.lstrip("-") for ks in v["keys"].values() for k in ks if k.startswith("-")} == REVERSED


@pytest.mark.parametrize("score,fixture", [("mean", "complete_mean.csv"),
                                           ("sum", "complete_sum.csv"),
                                           ("mean", "minmax_default.csv")])
def test_complete_cases(bfi, score, fixture):
    complete = bfi.loc[bfi[[c for c in bfi.columns[:25]]].notna().all(axis=1)]
    assert len(complete) == 2436
    ours = score_items(complete, bfi_instrument(score, min_items=5), prefix=False)
    check(ours, ref(fixture))


def test_missing_mean_equals_impute_none(bfi):
    # our mean with min_items = 1 is psych's impute = "none", totals = FALSE
    ours = score_items(bfi, bfi_instrument("mean", 1), prefix=False)
    assert ours.notna().all().all()
    check(ours, ref("none_mean.csv"))


def test_missing_sum_prorates_unlike_psych(bfi):
    # psych's impute = "none", totals = TRUE sums the answered items without prorating;
    # we prorate. Equal exactly where nothing is missing, ours larger elsewhere.
    ours = score_items(bfi, bfi_instrument("sum", 1), prefix=False)
    theirs = ref("none_sum.csv")
    means = ref("none_mean.csv")
    for s in SCALES:
        cols = list(bfi_instrument().scale(s).items)
        n_ans = bfi[cols].notna().sum(axis=1)
        full = n_ans == 5
        assert np.max(np.abs(ours.loc[full, s] - theirs.loc[full, s])) < TOL
        part = ~full
        assert part.any()
        assert (ours.loc[part, s] > theirs.loc[part, s]).all()
        # prorated sum = psych's impute = "none" mean x number of items
        assert np.max(np.abs(ours[s] - 5 * means[s])) < TOL
        # psych's unprorated sum = mean of answered x number answered
        assert np.max(np.abs(theirs[s] - means[s] * n_ans)) < TOL


@pytest.mark.parametrize("impute,score,fixture", [("median", "mean", "median_mean.csv"),
                                                  ("median", "sum", "median_sum.csv"),
                                                  ("mean", "mean", "mean_mean.csv")])
def test_psych_imputation(bfi, impute, score, fixture):
    ours = score_items(bfi, bfi_instrument(score, 5), impute=impute, prefix=False)
    check(ours, ref(fixture))


def test_edge_rows_whole_scale_missing():
    items = pd.read_csv(REF / "edge_items.csv", index_col="row")
    none_mean = score_items(items, bfi_instrument("mean", 1), prefix=False)
    check(none_mean, ref("edge_none_mean.csv"))
    assert none_mean.loc[[1, 2, 3, 4], "agree"].isna().all()
    # psych gives 0 for an unanswered total; we give NaN
    psych_sum = ref("edge_none_sum.csv")
    assert (psych_sum.loc[4] == 0).all()
    ours_sum = score_items(items, bfi_instrument("sum", 1), prefix=False)
    assert ours_sum.loc[4].isna().all()
    # psych's median imputation scores even a respondent who answered nothing
    med = score_items(items, bfi_instrument("mean", 1), impute="median", prefix=False)
    check(med, ref("edge_median_mean.csv"))
    assert med.loc[4].notna().all()


def test_min_items_makes_scores_missing(bfi):
    ours = score_items(bfi, bfi_instrument("mean", 5), prefix=False)
    complete = bfi[list(bfi_instrument().scale("agree").items)].notna().all(axis=1)
    assert ours["agree"].isna().sum() == (~complete).sum() > 0

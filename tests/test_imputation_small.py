"""Multiple imputation on small studies and the fits of imputed-baseline designs (issue 15).

1. A predictor constant among the rows whose target is observed (a rare covariate level
   seen only among the non-responders of 4 schools x 10 children) made the posterior draw
   of ``mice.impute.pmm`` fail with "LinAlgError: Singular matrix"; it is now dropped from
   that target's model, as mice's ``remove.lindep``.
2. When the baseline is imputed too, the fits of every imputation x delta reuse one design
   (and one CR2 adjustment) per imputation; the numbers must be those of a fresh fit of
   each completed data set (the path used before, kept here as the reference).
No kernel, each test well under 3 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cluster_robust import coef_test
from analysis.effects import design_matrix
from analysis.imputation import _independent, delta_adjustment, impute
from core.design import Design


def _small(seed=5, *, rare_among="missing"):
    """4 schools x 10 children, a quarter without endline; one treated child has the rare
    guardian level "other" (a non-responder, or a responder)."""
    rng = np.random.default_rng(seed)
    n = 40
    school = np.repeat(np.arange(4), 10)
    arm = np.where(school % 2, "t", "c")
    y0 = rng.normal(size=n)
    y1 = 0.5 * y0 + 0.3 * (arm == "t") + rng.normal(size=n)
    miss = rng.random(n) < 0.25
    guardian = np.where(np.arange(n) % 2 == 0, "grandparents", "parent").astype(object)
    pick = miss if rare_among == "missing" else ~miss
    guardian[np.flatnonzero(pick & (arm == "t"))[:1]] = "other"
    y1[miss] = np.nan
    base = pd.DataFrame({"id": np.arange(n), "arm": arm, "school": school, "guardian": guardian})
    long = pd.concat([base.assign(wave="b", y=y0), base.assign(wave="e", y=y1)], ignore_index=True)
    d = Design(type="cluster_randomized", id="id", waves=("b", "e"), arm="arm", control="c",
               clusters=("school",), covariates=("guardian",))
    return long, d, miss, guardian


def test_a_level_seen_only_among_non_responders_does_not_make_the_draw_singular():
    long, d, miss, guardian = _small()
    # the case of the bug: the level exists in the treated arm, only where y is missing
    assert ((guardian == "other") & miss).sum() == 1 and ((guardian == "other") & ~miss).sum() == 0
    imp = impute(long, "y", d, m=5, seed=1, donors=3)  # raised LinAlgError before the fix
    assert np.isfinite(imp.y).all()
    observed = np.isfinite(imp.data["_y"].to_numpy(float))
    # pmm: every imputed value is one of the observed values of the same arm
    arm = imp.data["arm"].to_numpy()
    for a in ("c", "t"):
        pool = set(imp.data["_y"].to_numpy(float)[observed & (arm == a)])
        assert set(imp.y[:, ~observed & (arm == a)].ravel()) <= pool
    p = imp.pool()
    assert np.isfinite(p[["estimate", "std_error", "df"]].to_numpy(float)).all()


def test_a_rare_level_among_responders_still_predicts():
    long, d, _, _ = _small(rare_among="observed")
    imp = impute(long, "y", d, m=3, seed=2, donors=3)
    assert np.isfinite(imp.pool()["estimate"]).all()


def test_independent_columns_drop_constant_and_collinear_predictors_only():
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=20), rng.normal(size=20)
    X = np.column_stack([np.ones(20), x1, np.zeros(20), x2, x1 - 2 * x2, np.full(20, 3.0)])
    assert np.flatnonzero(_independent(X)).tolist() == [0, 1, 3]
    full = np.column_stack([np.ones(20), x1, x2])
    assert _independent(full).all()  # full rank: nothing dropped, the draws unchanged


def _trial(seed, n=60, clusters=True):
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(6), n // 6)
    arm = np.where(school % 2, "t", "c") if clusters else np.where(np.arange(n) % 2, "t", "c")
    y0 = rng.normal(size=6)[school] * 0.4 + rng.normal(size=n)
    y1 = 0.5 * y0 + 0.4 * (arm == "t") + rng.normal(size=n)
    y1[rng.random(n) < 0.2] = np.nan
    y0m = np.where(rng.random(n) < 0.15, np.nan, y0)
    age = rng.normal(10, 1, n)
    age[rng.random(n) < 0.1] = np.nan
    base = pd.DataFrame({"id": np.arange(n), "arm": arm, "school": school, "age": age})
    long = pd.concat([base.assign(wave="b", y=y0m), base.assign(wave="e", y=y1)], ignore_index=True)
    d = Design(type="cluster_randomized" if clusters else "randomized", id="id", waves=("b", "e"),
               arm="arm", control="c", clusters=("school",) if clusters else (), covariates=("age",))
    return long, d


def _fits_one_by_one(imp, Y, alpha=0.05):
    """The path used before the cache: a fresh design and fit for every row of Y."""
    design = imp.design
    est, se, df = (np.empty(len(Y)) for _ in range(3))
    for i in range(len(Y)):
        d = imp.completed(i % imp.m)
        d["_y"] = Y[i]
        X, idx = design_matrix(d, design, ["t"], baseline=True)
        if design.clusters:
            g = d[design.clusters[0]].to_numpy()[idx]
            tab = coef_test((X, Y[i][idx]), g, alpha=alpha).set_index("term")
        else:
            tab = coef_test((X, Y[i][idx]), vcov="HC2", test="naive", alpha=alpha).set_index("term")
        est[i], se[i], df[i] = tab.loc["arm[t]", ["estimate", "std_error", "df"]]
    return est, se, df


@pytest.mark.parametrize("clusters", [True, False])
def test_cached_designs_give_the_fits_of_one_by_one_fitting(clusters):
    long, d = _trial(3, clusters=clusters)
    imp = impute(long, "y", d, m=4, seed=2, donors=3)
    assert set(imp.imputed) >= {"_y0"}  # the cached per-imputation path, not the shared one
    sd = float(np.nanstd(imp.data["_y"], ddof=1))
    treated = imp.data["arm"].to_numpy() == "t"
    mask = (~imp.responded & treated) * sd  # delta_adjustment's default: the treated shifted
    Y = np.concatenate([imp.y + delta * mask for delta in (-0.5, 0.0, 0.3)])
    f = imp._fits(Y, 0.05)
    est, se, df = _fits_one_by_one(imp, Y)
    np.testing.assert_allclose(f["estimate"][:, 0], est, rtol=0, atol=1e-10)
    np.testing.assert_allclose(f["std_error"][:, 0], se, rtol=0, atol=1e-10)
    np.testing.assert_allclose(f["df"][:, 0], df, rtol=0, atol=1e-10)
    # and through the public path: the delta grid pools those fits
    res = delta_adjustment(imp, [-0.5, 0.3])
    row = res.grid.set_index("delta").loc[0.3]
    assert row["estimate"] == pytest.approx(est[8:].mean(), abs=1e-10)

"""The counsellor-training simulations show what they claim to show."""

import numpy as np
import pytest
from scipy import stats

from analysis.teaching import improved_shares, simulate_intervals, simulate_pre_post


def test_no_effect_and_no_selection_gives_about_half_improved():
    d = simulate_pre_post(20000, reliability=0.7, true_effect=0.0, seed=5)
    share = d.loc[d.group == "program", "improved"].mean()
    assert abs(share - 0.5) < 0.012


def test_selection_of_low_scorers_inflates_improvement_as_the_bivariate_normal_says():
    r, pct = 0.7, 30
    d = simulate_pre_post(40000, reliability=r, true_effect=0.0, select_below_percentile=pct,
                          seed=6, with_comparison=False)
    # Analytic: X1 = T + e1, X2 = T + e2, var(T)=1, var(e)=(1-r)/r; P(X2 > X1 | X1 < c)
    ve = (1 - r) / r
    c = stats.norm.ppf(pct / 100) * np.sqrt(1 + ve)
    cov = np.array([[1 + ve, -ve], [-ve, 2 * ve]])  # (X1, X2 - X1)
    mvn = stats.multivariate_normal(mean=[0, 0], cov=cov)
    p_sel = pct / 100
    expected = (p_sel - mvn.cdf([c, 0])) / p_sel
    assert abs(d["improved"].mean() - expected) < 0.01
    assert expected > 0.6


def test_comparison_group_reveals_the_effect_only_when_there_is_one():
    null = improved_shares(simulate_pre_post(3000, true_effect=0.0, seed=7))
    real = improved_shares(simulate_pre_post(3000, true_effect=0.5, seed=7))
    gap_null = null.improved.iloc[0] - null.improved.iloc[1]
    gap_real = real.improved.iloc[0] - real.improved.iloc[1]
    assert abs(gap_null) < 0.04 and gap_real > 0.1
    assert (real.ci_low < real.improved).all() and (real.improved < real.ci_high).all()


def test_intervals_cover_at_the_nominal_rate_and_power_is_low_for_small_studies():
    s = simulate_intervals(30, true_effect=0.3, n_studies=4000, seed=11)
    assert 0.94 < s["covers"].mean() < 0.96
    # pwr.t.test(n=30, d=0.3) power = 0.208
    assert abs(s["significant"].mean() - 0.208) < 0.02


@pytest.mark.parametrize("kwargs", [{"reliability": 0}, {"reliability": 1.2}, {"n": 0}])
def test_bad_inputs_are_refused(kwargs):
    args = {"n": 10, "reliability": 0.7, **kwargs}
    with pytest.raises(ValueError):
        simulate_pre_post(args.pop("n"), **args)


# --------------------------------------------------------------------------- home visits
from analysis.teaching import (  # noqa: E402
    dose_response,
    randomized_estimates,
    repeat_home_visits,
    simulate_home_visits,
)


def test_the_most_visited_children_started_lowest_and_improved_most_though_visits_do_nothing():
    d = simulate_home_visits(40, 40, effect_per_visit=0.0, seed=4)
    t = dose_response(d)
    assert t["mean_baseline"].iloc[-1] == t["mean_baseline"].min()
    assert t["mean_change"].iloc[-1] == t["mean_change"].max()
    assert t["slope_per_visit"].iloc[0] > 0.04
    # no 五必访 pull towards strugglers: the association goes away
    flat = dose_response(simulate_home_visits(40, 40, trigger_slope=0.0, seed=4))
    assert abs(flat["slope_per_visit"].iloc[0]) < 0.03


def test_randomization_recovers_the_truth_where_the_naive_slope_does_not():
    for effect in (0.0, 0.03):
        r = repeat_home_visits(20, seed=10, effect_per_visit=effect)
        mean = r.groupby("estimand")["estimate"].mean()
        se = r.groupby("estimand")["estimate"].std() / np.sqrt(20)
        assert abs(mean["cace_per_visit"] - effect) < 3 * se["cace_per_visit"]
        assert mean["naive_per_visit"] - effect > 0.05  # biased, whatever the truth
        covers = ((r["ci_low"] <= effect) & (effect <= r["ci_high"]))[
            r["estimand"] == "cace_per_visit"].mean()
        assert covers >= 0.85
    # the ITT is the visits' effect times the extra visits the program brought
    d = simulate_home_visits(200, 30, effect_per_visit=0.03, seed=2)
    extra = d.loc[d.program == 1, "visits"].mean() - d.loc[d.program == 0, "visits"].mean()
    est = randomized_estimates(d).set_index("estimand")
    assert est.loc["itt", "ci_low"] < 0.03 * extra < est.loc["itt", "ci_high"]
    assert est.loc["cace_per_visit", "first_stage_f"] > 10


@pytest.mark.parametrize("kwargs", [{"n_schools": 5}, {"n_schools": 2}, {"reliability": 0},
                                    {"children_per_school": 1}])
def test_home_visit_inputs_are_refused(kwargs):
    with pytest.raises(ValueError):
        simulate_home_visits(**kwargs)


# --------------------------------------------------------------------------- who left
from analysis.teaching import (  # noqa: E402
    WHO_LEFT_METHODS,
    simulate_who_left,
    true_delta,
    who_left,
    who_left_delta,
    who_left_estimates,
)


@pytest.fixture(scope="module")
def who_left_big():
    """One large program per mechanism (40 schools x 50 children), estimated once."""
    out = {}
    for mech in ("mar", "mnar"):
        d = simulate_who_left(40, 50, mechanism=mech, strength=2.0, leave_program=0.3, seed=12)
        out[mech] = (d, who_left_estimates(d, m=10, seed=2).set_index("method"))
    return out


def test_who_left_keeps_the_share_and_the_mechanism_shows_at_baseline_or_not():
    from scipy.special import expit

    for mech in ("mar", "mnar"):
        d = simulate_who_left(40, 50, mechanism=mech, leave_program=0.3, seed=8)
        t = d.attrs["truth"]
        prog = d["program"] == 1
        w = (-(d["baseline"] - d["baseline"].mean()) / d["baseline"].std(ddof=0))[prog]
        if mech == "mar":  # the intercept gives exactly the share asked for, in expectation
            assert expit(t["intercept"] + t["strength"] * w).mean() == pytest.approx(0.3, abs=1e-9)
        tab = who_left(d).set_index("arm")
        assert abs(tab.loc["program", "share_left"] - 0.3) < 0.05  # binomial SD 0.013
        gap = tab.loc["program", "baseline_left"] - tab.loc["program", "baseline_stayed"]
        # MAR: the leavers start about 1 SD lower; MNAR: the baseline does not show them
        assert gap < -0.6 if mech == "mar" else abs(gap) < 0.2
        assert tab.loc["program", "endline_left_would_have"] < tab.loc["comparison",
                                                                      "endline_left_would_have"]


def test_mar_complete_cases_look_better_and_the_baseline_recovers_the_truth(who_left_big):
    d, e = who_left_big["mar"]
    truth = e.loc["everyone", "estimate"]
    assert e.index.tolist() == list(WHO_LEFT_METHODS)
    # the program's stayers started about 0.4 higher on the baseline score than the whole arm
    # (20 seeds), so about 0.6 x 0.8 x 0.4 = 0.2 higher at the endline (slope 0.6 of the true
    # state x reliability 0.8), give or take the chance imbalance of the schools
    assert e.loc["stayed_unadjusted", "estimate"] - truth > 0.1
    for m in ("stayed_adjusted", "imputation", "weights"):  # SE of the difference about 0.03
        assert abs(e.loc[m, "estimate"] - truth) < 0.1, m
    assert abs(true_delta(d)) < 0.1
    assert e.loc["imputation", "n"] == len(d) and e.loc["weights", "n"] == (~d["left"]).sum()


def test_mnar_no_method_recovers_it_but_the_true_delta_does(who_left_big):
    d, e = who_left_big["mnar"]
    truth = e.loc["everyone", "estimate"]
    for m in ("stayed_unadjusted", "stayed_adjusted", "imputation", "weights"):
        assert e.loc[m, "estimate"] - truth > 0.15, m
    delta = true_delta(d)
    assert delta < -0.5
    grid, tip = who_left_delta(d, [-2, -1, 0], m=10, seed=2)
    at = grid.loc[np.isclose(grid["delta"], round(delta, 10))].iloc[0]
    assert abs(at["estimate"] - truth) < 0.1
    # the conclusion (a positive effect) changes somewhere below 0, or not within the grid
    assert np.isnan(tip) or tip < 0
    assert grid["estimate"].is_monotonic_increasing


@pytest.mark.parametrize("kwargs", [{"mechanism": "nmar"}, {"n_schools": 5},
                                    {"leave_program": 1.0}, {"reliability": 0}])
def test_who_left_refuses_bad_inputs(kwargs):
    with pytest.raises(ValueError):
        simulate_who_left(**kwargs)

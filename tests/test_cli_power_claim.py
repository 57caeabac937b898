"""`workbench power` and `workbench claim` through workbench.cli.main."""

import json

import pytest

from workbench.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_claim_json(capsys):
    out = _json(capsys, ["claim", "--proportion", "0.82", "--n", "61", "--json"])
    assert out["n"] == 61 and out["null_proportion"] == 0.5
    # sizes for d = 0.2 / 0.3 / 0.5 on the score (pwr.t.test), not a 82%-vs-50% two-proportion size
    assert [out["n_per_group_d20"], out["n_per_group_d30"], out["n_per_group_d50"]] == [394, 176, 64]
    assert round(out["ci_low"], 4) == 0.7053 and round(out["ci_high"], 4) == 0.8962
    assert "cannot support the claim" in out["verdict"]
    assert out["verdicts"]["en"] == out["verdict"]


def test_claim_zh_with_selection(capsys):
    out = _json(capsys, ["claim", "--proportion", "0.82", "--n", "61", "--reliability", "0.6",
                         "--selected-below", "30", "--baseline", "--lang", "zh", "--json"])
    assert out["null_proportion"] > 0.7 and out["below_percentile"] == 30
    assert "无法区分" in out["verdict"]


def test_claim_text_output_and_errors(capsys):
    assert main(["claim", "--proportion", "0.82", "--n", "61", "--schools", "1"]) == 0
    text = capsys.readouterr().out
    assert "share improved with no change: 0.500" in text and "one school" in text
    assert main(["claim", "--proportion", "1.4", "--n", "61"]) == 2
    assert "CLAIM_ARGUMENTS" in capsys.readouterr().err


def test_power_cluster2_mdes_json(capsys):
    out = _json(capsys, ["power", "--design", "cluster2", "--clusters", "20", "--n", "30",
                         "--icc", "0.1", "--json"])
    assert out["result"]["solved_for"] == "effect"
    assert round(out["result"]["effect"], 4) == 0.4778


def test_power_solves_clusters_and_simulates(capsys):
    out = _json(capsys, ["power", "--design", "cluster2", "--n", "30", "--icc", "0.1",
                         "--effect", "0.4778", "--power", "0.8", "--simulate", "300", "--json"])
    assert out["result"]["n_clusters"] == 20
    assert 0.7 < out["simulation"]["power"] < 0.9 and out["simulation"]["n_sims"] == 300


@pytest.mark.parametrize("argv,key,value", [
    (["--design", "two_sample", "--effect", "0.5"], "n", 63.7656),
    (["--design", "paired", "--effect", "0.5", "--n", "20"], "power", 0.5645),
    (["--design", "proportions", "--p1", "0.82", "--p2", "0.5"], "n", 32.5457),
    (["--design", "cluster3", "--clusters", "60", "--per-middle", "3", "--n", "15",
      "--icc", "0.06", "--icc2", "0.17"], "effect", 0.2691),
])
def test_power_designs(capsys, argv, key, value):
    out = _json(capsys, ["power", *argv, "--json"])
    assert round(out["result"][key], 4) == value


def test_power_errors_and_text(capsys):
    assert main(["power", "--design", "cluster2", "--clusters", "20"]) == 2
    assert "POWER_ARGUMENTS" in capsys.readouterr().err
    assert main(["power", "--design", "two_sample", "--effect", "0.5", "--n", "20",
                 "--power", "0.8"]) == 2
    assert "exactly one" in capsys.readouterr().err
    assert main(["power", "--design", "two_sample", "--effect", "0.5"]) == 0
    assert "round up: 64" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--effect", "inf", "--n", "30"], ["--effect", "nan", "--n", "30"],
                                  ["--icc", "1.5", "--n", "30"], ["--power", "1.5", "--n", "30"],
                                  ["--design", "two_sample", "--n", "-4", "--effect", "0.3"]])
def test_power_refuses_implausible_options(argv, capsys):
    from workbench.cli import main

    assert main(["power", *argv]) == 2
    assert "POWER_ARGUMENTS" in capsys.readouterr().err


def test_power_simulate_honours_r2_and_agrees_with_the_headline(capsys):
    """Issue 13.5: --simulate ignored --r2-1/--r2-2 (simulated 0.678, analytic 0.647, headline
    0.8926). The simulation now draws covariates with those R² and its analytic power is the
    headline's; Monte Carlo SD of 400 trials is at most 0.025, so 0.08 is 3 SD plus the
    formula's df approximation."""
    argv = ["power", "--design", "cluster2", "--clusters", "20", "--n", "30", "--icc", "0.1",
            "--effect", "0.3", "--r2-1", "0.5", "--r2-2", "0.5", "--covariates", "1",
            "--simulate", "400", "--json"]
    out = _json(capsys, argv)
    res, sim = out["result"], out["simulation"]
    assert sim["r2_1"] == 0.5 and sim["r2_2"] == 0.5
    assert sim["analytic_power"] == pytest.approx(res["power"], abs=1e-12)
    assert sim["headline_power"] == pytest.approx(res["power"], abs=1e-12)
    assert res["power"] == pytest.approx(0.6986, abs=1e-4)
    assert abs(sim["power"] - res["power"]) < 0.08
    # and the text output says both, for the same design
    assert main(argv[:-1]) == 0
    text = capsys.readouterr().out
    assert "R2 individual 0.50, R2 cluster 0.50" in text
    assert f"analytic power of the same design: {res['power']:.3f}" in text


def test_power_simulate_supports_three_levels(capsys):
    out = _json(capsys, ["power", "--design", "cluster3", "--clusters", "20", "--per-middle",
                         "3", "--n", "13", "--icc", "0.07", "--icc2", "0.08", "--effect", "0.3",
                         "--r2-1", "0.24", "--r2-2", "0.08", "--r2-3", "0.32",
                         "--covariates", "1", "--simulate", "300", "--json"])
    res, sim = out["result"], out["simulation"]
    assert sim["classes_per_cluster"] == 3 and sim["n_clusters"] == 20
    assert sim["icc_class"] == 0.08 and sim["r2_3"] == 0.32
    assert sim["analytic_power"] == pytest.approx(res["power"], abs=1e-12)
    assert abs(sim["power"] - res["power"]) < 0.1
    assert main(["power", "--design", "cluster3", "--clusters", "20", "--per-middle", "2.5",
                 "--n", "13", "--effect", "0.3", "--simulate", "100"]) == 2
    assert "whole number" in capsys.readouterr().err


def test_power_simulate_analytic_is_the_headline_whatever_covariates_say(capsys):
    out = _json(capsys, ["power", "--design", "cluster2", "--clusters", "20", "--n", "30",
                         "--icc", "0.1", "--effect", "0.3", "--r2-2", "0.5", "--simulate", "100",
                         "--json"])
    assert out["simulation"]["analytic_power"] == pytest.approx(out["result"]["power"], abs=1e-12)
    assert "--covariates 0" in out["simulation"]["note"]

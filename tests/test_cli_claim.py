"""`workbench claim` prints the claims page's verdict sentences (issue 13, item 7)."""

import argparse
import json

import pytest

from analysis.claims import audit_claim
from workbench.cli import main
from workbench.commands import claim as claim_command


def _args(**kw):
    base = dict(proportion=0.82, n=61, reliability=0.8, improved="any_increase",
                selected_below=None, levels=None, baseline=False, schools=None, text=None,
                alpha=0.05, power=0.8, lang="en", json=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_text_output_is_the_verdict_of_the_audit(capsys):
    assert main(["claim", "--proportion", "0.82", "--n", "61", "--schools", "1"]) == 0
    out = capsys.readouterr().out
    audit = audit_claim(0.82, 61, n_schools=1)
    for paragraph in audit.paragraphs("en"):
        assert paragraph in out
    assert "children per group, d = 0.2/0.3/0.5: 394 / 176 / 64" in out
    assert "growth that gives the claimed share (SD): 0.58" in out
    assert "33" not in out  # the old 82%-vs-50% two-proportion size
    assert "above that level" not in out  # no baseline: no comparison with the level


def test_zh_and_json_carry_the_same_numbers(capsys):
    assert main(["claim", "--proportion", "0.82", "--n", "61", "--reliability", "0.7",
                 "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "0.71个标准差" in out and "394、176、64名儿童" in out
    assert main(["claim", "--proportion", "0.82", "--n", "61", "--reliability", "0.7",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert round(d["maturation_drift_sd"], 2) == 0.71
    assert [d["n_per_group_d20"], d["n_per_group_d30"], d["n_per_group_d50"]] == [394, 176, 64]
    assert d["verdict"] == d["verdicts"]["en"] and "n_per_group_needed" not in d
    assert [r["n_per_group"] for r in d["sample_sizes"]] == [394, 176, 64]
    assert d["observed_treatment_n"] is None and d["data_support"] == "no_data"


def test_a_small_plan_is_printed_with_its_warning(capsys):
    assert main(["claim", "--proportion", "0.82", "--n", "61", "--alpha", "0.2",
                 "--power", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "Warning:" in out and "fewer than 20" in out


def test_observed_counts_and_clusters_when_the_parser_has_them(capsys):
    args = _args(observed=(37, 61), icc=0.1, cluster_size=30, cluster_name="schools",
                 baseline=True)
    assert claim_command.main(args) == 0
    out = capsys.readouterr().out
    assert "observed share improved: 0.607 (0.481 - 0.719), below_claim" in out
    assert "do not support the claim" in out
    assert "clusters per group" in out and "design effect 3.90" in out
    assert "whole schools are assigned" in out
    with pytest.raises(Exception, match="go together"):
        claim_command.main(_args(icc=0.1))


def test_bad_input_is_a_claim_arguments_error(capsys):
    assert main(["claim", "--proportion", "1.4", "--n", "61"]) == 2
    assert "CLAIM_ARGUMENTS" in capsys.readouterr().err

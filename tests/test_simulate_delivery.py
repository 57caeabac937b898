"""Simulated program delivery (analysis.simulate_delivery): archives, contact log, known truth."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from analysis.simulate import OutcomeSpec, simulate_study
from analysis.simulate_delivery import DELIVERY_PII, DeliverySpec, share_of_protocol

PCC = OutcomeSpec("communication", items=[f"pcc_{i}" for i in range(1, 9)], reliability=0.8,
                  effect=0.4)
CLS = OutcomeSpec("loneliness", items=[f"cls_{i}" for i in range(1, 7)], reliability=0.85,
                  effect=-0.2, better="lower")


SPEC = DeliverySpec()


def _sim(delivery=SPEC, **kw):
    args = dict(schools=12, blocks=2, students_per_school=40, seed=5, truth_draws=5000)
    args.update(kw)
    return simulate_study([PCC, CLS], delivery=delivery, **args)


@pytest.fixture(scope="module")
def pair():
    return _sim(None), _sim()


def test_delivery_leaves_the_baseline_and_the_other_streams_alone(pair):
    plain, deliv = pair
    base = [d[d["wave"] == "baseline"].reset_index(drop=True) for d in (plain.data, deliv.data)]
    pd.testing.assert_frame_equal(base[0], base[1])
    # the endline latent differs by exactly effect * (share - 1) for the program arm and by
    # effect * share for the control arm (contamination)
    share = deliv.delivery.dose.set_index("id")["share_met"]
    lat = [x[x["wave"] == "endline"].set_index("student_id") for x in (plain.latent, deliv.latent)]
    treated = plain.data.drop_duplicates("student_id").set_index("student_id")["arm"] == "treatment"
    for o in (PCC, CLS):
        want = o.effect * (share - treated.astype(float)).reindex(lat[0].index)
        np.testing.assert_allclose((lat[1][o.id] - lat[0][o.id]).to_numpy(), want.to_numpy(),
                                   atol=1e-12)
    assert plain.delivery is None and "delivery" not in plain.truth


def test_the_log_reproduces_the_doses_and_fidelity_agrees(pair):
    from analysis import fidelity
    from core.protocol import ActivityRule, DateRange, Protocol

    _, sim = pair
    d, spec = sim.delivery, DeliverySpec()
    log = d.contacts.replace({"": None}).assign(date=lambda x: pd.to_datetime(x["date"]))
    np.testing.assert_allclose(share_of_protocol(log, d.dose["id"], spec),
                               d.dose["share_met"])
    terms = tuple(DateRange(pd.Timestamp(a).date(), pd.Timestamp(b).date(), n)
                  for n, a, b in spec.terms)
    hol = tuple(DateRange(pd.Timestamp(a).date(), pd.Timestamp(b).date(), n)
                for n, a, b in spec.holidays)
    prot = Protocol(start=terms[0].start, end=terms[-1].end, terms=terms, holidays=hol,
                    activities=(ActivityRule("home_visit", "month"),
                                ActivityRule("phone_call", "month"),
                                ActivityRule("letter", "term")), arms=("treatment",))
    ment = d.mentors.replace({"": None}).assign(**{"from": lambda x: pd.to_datetime(x["from"]),
                                                   "to": lambda x: pd.to_datetime(x["to"])})
    kids = d.dose[["id", "arm"]]
    got = fidelity.dosage(log, None, kids, prot, id="id", assignments=ment, control="control")
    np.testing.assert_allclose(got["share_met"].to_numpy(), d.dose["share_met"].to_numpy())
    assert (got["expected"] == 18).all()
    assert (got["received"].to_numpy() == d.dose["received"].to_numpy()).all()


def test_truth_identities_and_non_compliance_in_both_arms(pair):
    _, sim = pair
    t = sim.truth["delivery"]
    pot = t["potential"]
    assert pot["first_stage_share"] == pytest.approx(
        pot["mean_share_if_program"] - pot["mean_share_if_control"], abs=2e-6)
    for o in (PCC, CLS):
        e = t["outcomes"][o.id]
        assert e["iv_estimand_share_latent_sd"] == pytest.approx(o.effect)
        assert e["itt_latent_sd"] == pytest.approx(o.effect * pot["first_stage_share"], abs=1e-6)
        # the outcome's truth is the ITT; the binary-dose Wald ratio exceeds the complier effect
        assert sim.truth["outcomes"][o.id]["effect_latent_sd"] == pytest.approx(
            e["itt_latent_sd"], abs=1e-6)
        assert abs(e["iv_estimand_received_latent_sd"]) > abs(
            e["complier_effect_received_latent_sd"]) > abs(e["itt_latent_sd"])
    dose = sim.delivery.dose
    prog = dose[dose["program"]]
    ctrl = dose[~dose["program"]]
    assert (prog["share_met"] < 0.3).mean() > 0.03  # program children hardly reached
    assert 0 < ctrl["any_contact"].mean() < 0.3  # contamination of the control arm
    assert prog["received"].mean() > 0.4 > ctrl["received"].mean()


def test_triggers_follow_struggle_and_raise_visits(pair):
    _, sim = pair
    dose = sim.delivery.dose.set_index("id")
    base = sim.latent[sim.latent["wave"] == "baseline"].set_index("student_id")["communication"]
    prog = dose[dose["program"]]
    struggle = -base.reindex(prog.index)
    assert np.corrcoef(struggle, prog["n_triggers"])[0, 1] > 0.15
    log = sim.delivery.contacts
    visits = log[log["activity"] == "home_visit"].groupby("id").size().reindex(prog.index,
                                                                               fill_value=0)
    assert np.corrcoef(prog["n_triggers"], visits)[0, 1] > 0.1
    trig = log[log["trigger"] != ""]
    assert set(trig["trigger"]) <= {"mood", "illness", "grades", "lateness", "conflict"}
    assert set(trig["activity"]) == {"home_visit", "counselling"}


def test_archives_are_consistent(pair):
    _, sim = pair
    d = sim.delivery
    g = d.guardians
    assert (g.groupby("id")["to"].apply(lambda s: (s == "").sum()) == 1).all()  # one current
    changed = g[g.duplicated("id", keep=False)].sort_values(["id", "from"])
    assert len(changed) > 0
    for _, rows in changed.groupby("id"):
        first, second = rows.iloc[0], rows.iloc[1]
        assert pd.Timestamp(first["to"]) + pd.Timedelta(days=1) == pd.Timestamp(second["from"])
    m = d.mentors
    assert set(m["id"]) == set(d.dose.loc[d.dose["program"], "id"])
    for _, rows in m.groupby("id"):  # spans of a child do not overlap
        rows = rows.sort_values("from")
        if len(rows) == 2:
            assert pd.Timestamp(rows["to"].iloc[0]) < pd.Timestamp(rows["from"].iloc[1])
    autumn = m[m["to"] == ""].groupby("mentor_id").size()
    assert autumn.max() > DeliverySpec().max_children_per_mentor  # some are over the limit
    p = d.parents.merge(d.roster[["id", "both_parents_away"]], on="id")
    both = p[p["both_parents_away"] == 1]
    assert (both["migrant"] == 1).all()
    assert (p.loc[p["migrant"] == 0, "call_frequency"] == "").all()
    for col in DELIVERY_PII:  # the canaries of the privacy tests
        tables = [t for t in (d.guardians, d.parents, d.mentors, d.contacts) if col in t.columns]
        assert tables and tables[0][col].str.len().gt(1).any(), col


def test_the_iv_estimate_recovers_the_full_protocol_effect_on_the_latent_trait():
    from analysis.iv import two_stage_cr2

    sim = _sim(schools=40, students_per_school=40, seed=9)
    lat = sim.latent.pivot(index="student_id", columns="wave", values="communication")
    dose = sim.delivery.dose.set_index("id")
    df = pd.DataFrame({"y": lat["endline"], "b": lat["baseline"], "share": dose["share_met"],
                       "z": dose["program"].astype(float),
                       "school": sim.data.drop_duplicates("student_id")
                       .set_index("student_id")["school_id"]})
    r = two_stage_cr2(df, outcome="y", endogenous="share", instrument="z", covariates=["b"],
                      cluster="school").iloc[0]
    truth = sim.truth["delivery"]["outcomes"]["communication"]["iv_estimand_share_latent_sd"]
    assert r["ci_low"] < truth < r["ci_high"]
    assert r["first_stage_f"] > 10


def test_a_study_without_a_program_has_no_delivery():
    with pytest.raises(ValueError, match="program"):
        simulate_study([PCC], design="cross_sectional", waves=("survey",), arms=(), schools=2,
                       students_per_school=10, truth_draws=2000, delivery=DeliverySpec())


def _hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writer_roster_level_files_yaml_and_loader(tmp_path):
    """``--delivery roster``: the archives and log are written, the wave files leave the
    covariates to the roster, study.yaml has the contract's keys, the loader reads them, and
    the re-create line names the level."""
    import yaml

    from survey.study_loader import load_study
    from workbench.study_writer import cli_options, plan_from_options, write_simulated_study

    plan = plan_from_options(None, clusters=6, per_cluster=20, truth_draws=2000, seed=3,
                             delivery="roster")
    opts = cli_options(plan)
    assert opts[opts.index("--delivery") + 1] == "roster"
    assert plan_from_options(None, **{"clusters": 6, "per_cluster": 20, "truth_draws": 2000,
                                      "seed": 3, "delivery": "roster"}) == plan
    write_simulated_study(tmp_path / "s", plan)
    folder = tmp_path / "s"
    names = sorted(p.name for p in (folder / "data").iterdir())
    assert names == ["baseline.csv", "contacts.csv", "endline.csv", "guardians.csv",
                     "mentors.csv", "parents.csv", "roster.csv"]
    base = pd.read_csv(folder / "data" / "baseline.csv")
    assert "gender" not in base.columns and "arm" in base.columns
    roster = pd.read_csv(folder / "data" / "roster.csv")
    assert {"gender", "age", "guardian_type", "both_parents_away"} <= set(roster.columns)
    y = yaml.safe_load((folder / "study.yaml").read_text("utf-8"))
    assert y["archives"]["roster"] == {"path": "data/roster.csv"}
    assert y["contacts"] == [{"path": "data/contacts.csv"}]
    assert y["protocol"]["activities"]["letter"] == {"per": "semester", "min": 1}
    assert y["protocol"]["arms"] == ["treatment"]
    assert set(DELIVERY_PII) <= set(y["privacy"]["pii"])
    study = load_study(folder)
    assert study.protocol is not None and study.protocol.max_children_per_mentor == 3
    assert {r.activity for r in study.protocol.activities} == {"home_visit", "phone_call",
                                                                "letter"}
    truth = json.loads((folder / "truth.json").read_text("utf-8"))
    assert truth["delivery"]["outcomes"]["communication"]["iv_estimand_share_latent_sd"] == 0.3
    # the same plan again: byte-identical
    write_simulated_study(tmp_path / "again", plan)
    assert _hashes(folder) == _hashes(tmp_path / "again")


def test_delivery_needs_a_program():
    from core.errors import WorkbenchError
    from workbench.study_writer import plan_from_options

    with pytest.raises(WorkbenchError, match="program"):
        plan_from_options(None, design="cross_sectional", arms=0, delivery="log")
    with pytest.raises(WorkbenchError, match="delivery"):
        plan_from_options(None, delivery="everything")


def test_a_one_wave_study_gets_the_dose_effect_too():
    """A post-only survey: its one wave is after the program, and carries effect * share."""
    args = dict(design="randomized", waves=("survey",), arms=("treatment", "control"),
                schools=4, students_per_school=40, seed=3, truth_draws=2000)
    plain = simulate_study([PCC], **args)
    deliv = simulate_study([PCC], delivery=SPEC, **args)
    share = deliv.delivery.dose.set_index("id")["share_met"]
    treated = (plain.data.set_index("student_id")["arm"] == "treatment").astype(float)
    diff = (deliv.latent.set_index("student_id")["communication"]
            - plain.latent.set_index("student_id")["communication"])
    np.testing.assert_allclose(diff.to_numpy(), (PCC.effect * (share - treated)).reindex(
        diff.index).to_numpy(), atol=1e-12)


# the data files of two plans without delivery, as written before simulate_delivery existed
# (commit 750f1d8): the delivery's own random stream leaves every other study byte-identical
_PINNED = {
    "generic": ({"truth_draws": 20000},
                {"baseline.csv": "4174e5f6901c733e4583169fb7f887f0fe3c4c9bb6ef7b718648d7f309b0402e",
                 "endline.csv": "7e2257f1d327f793bc8f567c6aefd49610b5cfd36eb0483f0c0ea4b0a53dda9e"}),
    "pre_post_3_waves": (
        {"design": "pre_post", "waves": 3, "truth_draws": 20000, "columns": ["math_score"]},
        {"baseline.csv": "75587bef60f50e842a56e0bf63f08e9b7af2e9b4ab2d739b49a847954b2d4e7f",
         "midline.csv": "c9f072fa8cfcb165c956c98ebcda61eb48eaa983e2b062a0862d32e6bdf76e5b",
         "endline.csv": "e09918ba9abb396326636f3b2caadbbc72621e6582ced5f363eb08c4007a92b3"}),
}


@pytest.mark.parametrize("name", sorted(_PINNED))
def test_studies_without_delivery_are_byte_identical_to_before(name, tmp_path):
    from workbench.study_writer import plan_from_options, write_simulated_study

    options, want = _PINNED[name]
    write_simulated_study(tmp_path / "s", plan_from_options(**options))
    got = {f: hashlib.sha256((tmp_path / "s" / "data" / f).read_bytes()).hexdigest()
           for f in want}
    assert got == want
    assert sorted(p.name for p in (tmp_path / "s" / "data").iterdir()) == sorted(want)

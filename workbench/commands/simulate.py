"""``workbench simulate DIR``: a complete study folder with known truth.

Builds a :class:`workbench.study_writer.SimulationPlan` from ``--preset`` (the
settings of a bundled example) and the options given
(:func:`workbench.study_writer.plan_from_options`), then writes ``study.yaml``,
``data/``, ``truth.json`` and ``README.md`` with
:func:`workbench.study_writer.write_simulated_study`. The same options and seed
give byte-identical files, and the files name the options that re-create them.
"""

from __future__ import annotations

import sys

_KEYS = ("design", "waves", "arms", "clusters", "blocks", "per_cluster", "classes",
         "cluster_levels", "icc", "icc_class", "instruments", "columns", "outcomes", "primary",
         "effect", "trend", "baseline_difference", "attrition", "attrition_ratio", "item_missing",
         "incomplete", "id_style", "language", "platform_endline", "seed", "truth_draws",
         "delivery", "attrition_mechanism", "attrition_strength")


def plan_from_args(args):
    """The simulation plan that the command-line options describe.

    Examples
    --------
    >>> from workbench.cli import build_parser
    >>> from workbench.commands.simulate import plan_from_args
    >>> args = build_parser().parse_args(["simulate", "x", "--preset", "county", "--seed", "3"])
    >>> plan = plan_from_args(args)
    >>> plan.schools, plan.seed, plan.platform_endline
    (20, 3, True)
    """
    from workbench.study_writer import plan_from_options

    # getattr: a parser without --delivery or --attrition-mechanism (an older workbench.cli)
    # leaves them to the preset
    return plan_from_options(args.preset, **{k: getattr(args, k, None) for k in _KEYS})


def main(args) -> int:
    from workbench.study_writer import write_simulated_study

    plan = plan_from_args(args)
    sim = write_simulated_study(args.folder, plan, force=args.force)
    t = sim.truth
    print(f"simulated {t['design']['type']} study in {args.folder}: "
          f"{t['design']['schools']} school(s), {t['design']['students']} students, seed {plan.seed}",
          file=sys.stdout)
    for oid, o in t["outcomes"].items():
        if oid not in {op.outcome for op in plan.outcome_plans}:
            continue  # a questionnaire answered, but not an outcome
        print(f"  {oid}: true effect {o['effect_latent_sd']:+.2f} SD = "
              f"{o['effect_scale']:+.4f} {'column units' if 'column' in o else 'scale units'} "
              f"(MC SE {o['effect_scale_mc_se']:.4f})")
    if sim.delivery is not None:
        d = t["delivery"]
        arms = ", ".join(f"{a} {v['share_met_mean']:.2f} (received {v['received_share']:.0%})"
                         for a, v in d["by_arm"].items())
        print(f"  delivery ({plan.delivery}): {d['contacts']['rows']} contacts; mean share of the "
              f"protocol met: {arms}")
        prim = plan.primary.outcome if plan.primary is not None else None
        if prim in d["outcomes"] and plan.has_arm:
            o = d["outcomes"][prim]
            print(f"  {prim}: full protocol {o['delta_full_protocol_latent_sd']:+.2f} SD; "
                  f"2SLS estimand with the share as dose {o['iv_estimand_share_scale']:+.4f}, "
                  f"with 'received' {o['iv_estimand_received_scale']:+.4f} scale units")
    if "attrition" in t:
        a = t["attrition"]
        rates = ", ".join(f"{arm} {v['response_rate_observed']:.0%}"
                          for arm, v in a["by_arm"].items())
        print(f"  attrition {a['mechanism'].upper()} (strength {a['strength']:g}, driven by "
              f"{a['outcome']}): followed up {rates}")
        if a["mechanism"] == "mnar":
            d = a["delta"][a["outcome"]]["by_arm"]
            print("  true delta (SD of the observed endline) of the children who left: " + ", ".join(
                f"{arm} {v['delta_sd_sample']:+.2f} (expected {v['delta_sd_expected']:+.2f})"
                for arm, v in d.items() if v is not None))
    if plan.has_arm and plan.baseline_difference:
        print(f"  not randomized: the program's groups start {plan.baseline_difference:+.2f} SD "
              "(beneficial direction) from the comparison group, at every wave")
    return 0

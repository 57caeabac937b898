"""``workbench simulate DIR``: a complete study folder with known truth.

Builds a :class:`workbench.study_writer.SimulationPlan` from ``--preset`` (the
settings of a bundled example) and the options given, then writes ``study.yaml``,
``data/``, ``truth.json`` and ``README.md`` with
:func:`workbench.study_writer.write_simulated_study`. The same options and seed
give byte-identical files.
"""

from __future__ import annotations

import sys


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
    from workbench.study_writer import plan_from_preset

    return plan_from_preset(
        args.preset, design=args.design, schools=args.clusters, blocks=args.blocks,
        students_per_school=args.per_cluster, icc_school=args.icc, icc_class=args.icc_class,
        effect=args.effect, attrition=args.attrition, seed=args.seed, language=args.language,
        platform_endline=args.platform_endline, truth_draws=args.truth_draws)


def main(args) -> int:
    from workbench.study_writer import write_simulated_study

    plan = plan_from_args(args)
    sim = write_simulated_study(args.folder, plan, force=args.force)
    t = sim.truth
    print(f"simulated {t['design']['type']} study in {args.folder}: "
          f"{t['design']['schools']} school(s), {t['design']['students']} students, seed {plan.seed}",
          file=sys.stdout)
    for oid, o in t["outcomes"].items():
        print(f"  {oid}: true effect {o['effect_latent_sd']:+.2f} SD = "
              f"{o['effect_scale']:+.4f} scale units (MC SE {o['effect_scale_mc_se']:.4f})")
    return 0

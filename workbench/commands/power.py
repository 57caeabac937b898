"""``workbench power``: power, sample size or minimum detectable effect.

Give all but one of the effect, the size and the power; the missing one is solved
for (``analysis.power``). Prints a short table, or ``--json``.

Examples
--------
``workbench power --design cluster2 --clusters 20 --n 30 --icc 0.1`` prints the MDES
(0.478 at 80% power); ``workbench power --design two_sample --effect 0.5`` the n per
group (64 after rounding up).
"""

from __future__ import annotations

import json
import math

from core.errors import WorkbenchError


def _fail(message: str):
    raise WorkbenchError("POWER_ARGUMENTS", message)


def _target(power, *missing_candidates):
    """Power to use: as given, or 0.8 when something else is to be solved for."""
    if power is None and any(v is None for v in missing_candidates):
        return 0.8
    return power


# option -> (test, what is expected); None values (not given) are not checked here
_RANGES = {
    "effect": (lambda v: math.isfinite(v) and v != 0, "a finite, non-zero standardized effect"),
    "n": (lambda v: math.isfinite(v) and v > 0, "a positive number"),
    "clusters": (lambda v: math.isfinite(v) and v > 0, "a positive number of clusters"),
    "per_middle": (lambda v: math.isfinite(v) and v > 0, "a positive number of classes"),
    "icc": (lambda v: 0 <= v < 1, "an ICC from 0 to below 1"),
    "icc2": (lambda v: 0 <= v < 1, "an ICC from 0 to below 1"),
    "r2_1": (lambda v: 0 <= v < 1, "an R2 from 0 to below 1"),
    "r2_2": (lambda v: 0 <= v < 1, "an R2 from 0 to below 1"),
    "r2_3": (lambda v: 0 <= v < 1, "an R2 from 0 to below 1"),
    "p1": (lambda v: 0 < v < 1, "a proportion strictly between 0 and 1"),
    "p2": (lambda v: 0 < v < 1, "a proportion strictly between 0 and 1"),
    "treated": (lambda v: 0 < v < 1, "a share strictly between 0 and 1"),
    "alpha": (lambda v: 0 < v < 1, "a level strictly between 0 and 1, e.g. 0.05"),
    "power": (lambda v: 0 < v < 1, "a power strictly between 0 and 1, e.g. 0.8"),
    "covariates": (lambda v: v >= 0, "0 or more covariates"),
    "simulate": (lambda v: 0 <= v <= 1_000_000, "0 to 1000000 simulated trials"),
    "seed": (lambda v: 0 <= v < 2**32, "a seed from 0 to 4294967295"),
}


def check_arguments(args) -> None:
    """Refuse implausible option values (``--effect inf``, ``--icc 1.5``) before computing.

    Examples
    --------
    >>> from workbench.cli import build_parser
    >>> args = build_parser().parse_args(["power", "--effect", "inf", "--n", "30"])
    >>> try:
    ...     check_arguments(args)
    ... except WorkbenchError as err:
    ...     print(err.code)
    POWER_ARGUMENTS
    """
    for name, (test, expected) in _RANGES.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if not test(value):  # NaN fails every comparison, so it lands here too
            _fail(f"--{name.replace('_', '-')} {value!r}: expected {expected}")


def compute(args):
    """Run the analysis for parsed arguments; returns (result DataFrame, simulated or None)."""
    from analysis import power as pw

    check_arguments(args)
    d = args.design
    sim = None
    if args.simulate and d not in ("cluster2", "cluster3"):
        _fail("--simulate works with --design cluster2 or cluster3")
    if d in ("two_sample", "paired", "one_sample"):
        power = _target(args.power, args.effect, args.n)
        res = pw.power_t(args.effect, args.n, power, alpha=args.alpha, design=d,
                         alternative=args.alternative)
    elif d in ("proportions", "one_proportion"):
        effect = args.effect
        if args.p1 is not None or args.p2 is not None:
            if effect is not None:
                _fail("give either --effect (Cohen's h) or --p1 and --p2, not both")
            if args.p1 is None or args.p2 is None:
                _fail("give both --p1 and --p2")
            effect = pw.cohens_h(args.p1, args.p2)
        power = _target(args.power, effect, args.n)
        fn = pw.power_proportions if d == "proportions" else pw.power_proportion
        res = fn(effect, args.n, power, alpha=args.alpha, alternative=args.alternative)
    elif d == "cluster2":
        if args.n is None:
            _fail("--n (people per cluster) is required for cluster2")
        power = _target(args.power, args.effect, args.clusters)
        res = pw.power_cluster2(args.clusters, args.n, args.icc, effect=args.effect, power=power,
                                treated_share=args.treated, r2_1=args.r2_1, r2_2=args.r2_2,
                                n_covariates=args.covariates, alpha=args.alpha)
        if args.simulate:
            row = res.iloc[0]
            _check_simulable(args)
            sim = pw.simulate_power(int(row["n_clusters"]), int(round(args.n)), args.icc,
                                    float(row["effect"]), n_sims=args.simulate,
                                    alpha=args.alpha, seed=args.seed,
                                    treated_share=args.treated, r2_1=args.r2_1,
                                    r2_2=args.r2_2, n_covariates=args.covariates,
                                    n_designs=_designs(args.simulate))
    else:  # cluster3
        if args.n is None or args.per_middle is None:
            _fail("--n (students per class) and --per-middle (classes per school) are "
                  "required for cluster3")
        power = _target(args.power, args.effect, args.clusters)
        res = pw.power_cluster3(args.clusters, args.per_middle, args.n, args.icc, args.icc2,
                                effect=args.effect, power=power, treated_share=args.treated,
                                r2_1=args.r2_1, r2_2=args.r2_2, r2_3=args.r2_3,
                                n_covariates=args.covariates, alpha=args.alpha)
        if args.simulate:
            row = res.iloc[0]
            _check_simulable(args)
            sim = pw.simulate_power(int(row["n_schools"]), int(round(args.n)), args.icc,
                                    float(row["effect"]), n_sims=args.simulate,
                                    alpha=args.alpha, seed=args.seed,
                                    treated_share=args.treated,
                                    classes_per_cluster=int(round(args.per_middle)),
                                    icc_class=args.icc2, r2_1=args.r2_1, r2_2=args.r2_2,
                                    r2_3=args.r2_3, n_covariates=args.covariates,
                                    n_designs=_designs(args.simulate))
    if sim is not None:
        sim = _same_design(res, sim, args)
    return res, sim


def _designs(n_sims: int) -> int:
    """Batches of the simulation (each its own random assignment and covariates)."""
    return max(1, min(50, int(n_sims) // 20))


def _check_simulable(args) -> None:
    """The simulation draws whole clusters and classes: the sizes must be whole numbers."""
    for name in ("n", "per_middle"):
        v = getattr(args, name, None)
        if v is not None and float(v) != round(float(v)):
            _fail(f"--{name.replace('_', '-')} {v!r}: --simulate needs a whole number "
                  "(simulated clusters have whole numbers of people and classes)")


def _same_design(res, sim, args):
    """The headline's power next to the simulation's analytic power (the same inputs)."""
    row = res.iloc[0]
    g_sim = 1 if (args.r2_3 if args.design == "cluster3" else args.r2_2) > 0 else 0
    sim = sim.copy()
    sim["n_covariates_simulated"] = g_sim
    sim["headline_power"] = float(row["power"])
    if int(args.covariates) != g_sim:
        sim["note"] = (f"--covariates {args.covariates}, but the simulated trials adjust for "
                       f"{g_sim} covariate(s) at the randomized level (one when its R2 > 0); "
                       f"the analytic power counts {args.covariates}, as the headline does")
    return sim


def _clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and math.isnan(v):
            v = None
        out[k] = v
    return out


def main(args) -> int:
    try:
        res, sim = compute(args)
    except ValueError as err:
        _fail(str(err))
    row = _clean(res.iloc[0].to_dict())
    if args.json:
        out = {"result": row}
        if sim is not None:
            out["simulation"] = _clean(sim.iloc[0].to_dict())
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    solved = row["solved_for"]
    lines = [f"design: {args.design}   solved for: {solved}"]
    for k, v in row.items():
        if k in ("solved_for", "design") or v is None:
            continue
        mark = "  <-" if k == solved else ""
        if isinstance(v, float):
            v = f"{v:.4f}" if abs(v) < 1e4 else f"{v:.0f}"
        lines.append(f"  {k:<20} {v}{mark}")
    if solved == "n" and "n" in row:
        lines.append(f"  round up: {math.ceil(row['n'] - 1e-9)}")
    if sim is not None:
        s = sim.iloc[0]
        covs = [f"R2 {lev} {s[k]:.2f}" for k, lev in
                (("r2_1", "individual"), ("r2_2", "class" if args.design == "cluster3"
                                          else "cluster"), ("r2_3", "school"))
                if k in s and s[k] == s[k] and s[k] > 0]
        lines.append(f"simulated power ({int(s['n_sims'])} trials at the design above"
                     + (", " + ", ".join(covs) if covs else "")
                     + f"; OLS + CR2, Bell-McCaffrey df): {s['power']:.3f} "
                     f"(95% Monte Carlo CI {s['power_ci_low']:.3f} to "
                     f"{s['power_ci_high']:.3f})")
        agree = s["power_ci_low"] <= s["analytic_power"] <= s["power_ci_high"]
        lines.append(f"analytic power of the same design: {s['analytic_power']:.3f} ("
                     + ("inside the simulation's interval" if agree else
                        f"{s['analytic_power'] - s['power']:+.3f} from the simulated; the "
                        "analytic formula uses J - g - 2 df and ignores chance covariate "
                        "imbalance") + ")")
        if isinstance(s.get("note"), str):
            lines.append(f"note: {s['note']}")
    print("\n".join(lines))
    return 0

"""Power, sample size and minimum detectable effect (MDES): the one name to import.

``from analysis import power`` gives the analytic functions of
:mod:`analysis.power_analytic` and the simulations of :mod:`analysis.power_simulation`
under one name, as notebooks, ``workbench power`` and the study tables use them. The
code lives in those two modules (the simulations compare themselves with the
analytic power, so they import it; this module sits above both).

Functions
---------
power_t
    One-sample, paired and two-sample t-tests (R ``pwr::pwr.t.test``).
power_proportions, power_proportion, cohens_h
    Two proportions and one proportion through Cohen's h (R ``pwr``).
power_ancova
    Individually randomized trial analysed with a baseline covariate (ANCOVA).
power_cluster2, power_cluster3
    Two- and three-level cluster randomized trials with covariates (PowerUp!,
    Dong & Maynard 2013; Optimal Design, Spybrook et al. 2011).
simulate_power, simulate_power_individual
    Power of cluster randomized and individually randomized trials by simulation,
    analysed with the estimators of the effects module (CR2 with Satterthwaite df;
    HC2).
simulate_cluster_trials, simulate_individual_trials
    Outcomes of many simulated trials sharing one design.

Examples
--------
>>> from analysis import power
>>> round(power.power_cluster2(20, 30, 0.1, power=0.8)["effect"].item(), 4)
0.4778
"""

from analysis.power_analytic import (
    cohens_h,
    power_ancova,
    power_cluster2,
    power_cluster3,
    power_proportion,
    power_proportions,
    power_t,
)
from analysis.power_simulation import (
    simulate_cluster_trials,
    simulate_individual_trials,
    simulate_power,
    simulate_power_individual,
)

__all__ = [
    "cohens_h",
    "power_ancova",
    "power_cluster2",
    "power_cluster3",
    "power_proportion",
    "power_proportions",
    "power_t",
    "simulate_cluster_trials",
    "simulate_individual_trials",
    "simulate_power",
    "simulate_power_individual",
]

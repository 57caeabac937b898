"""Variance explained by covariates at each level of a clustered design.

Power formulas for cluster randomized trials (PowerUp!, Optimal Design) take R²
at each level: the share of the individual-level (R²₁) and of the cluster-level
(R²₂, ...) variance that the covariates explain. They are estimated here as the
proportional reduction of each variance component from the unconditional
random-intercept model to the model with the covariates (Raudenbush & Bryk 2002,
§4.4; Bloom, Richburg-Hayes & Black 2007), both fitted by REML with
:func:`analysis.mixed.random_intercepts` on the same complete cases.

A reduction can be negative in a sample (a component can grow when covariates are
added); such values are reported as they are and clipped to 0 only by callers that
feed them to a power formula.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.mixed import random_intercepts


def r2_by_level(data: pd.DataFrame, outcome: str, covariates: str | Sequence[str],
                clusters: str | Sequence[str]) -> pd.DataFrame:
    """R² of the covariates at the individual level and at each cluster level.

    Parameters
    ----------
    data : DataFrame
        One row per individual.
    outcome : str
        Outcome column.
    covariates : str or list of str
        Covariate columns (e.g. the baseline score of the outcome).
    clusters : str or list of str
        Cluster columns, outermost first.

    Returns
    -------
    DataFrame
        Columns ``level, variance_unconditional, variance_conditional, r2``: one
        row per cluster level (outermost first) and a ``"individual"`` row;
        ``r2 = 1 - conditional / unconditional``. ``attrs["n_obs"]`` holds the
        number of complete cases used.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> school = np.repeat(np.arange(30), 20)
    >>> u = rng.normal(0, .4, 30)[school]
    >>> pre = u + rng.normal(0, 1, 600)
    >>> post = u + 0.6 * pre + rng.normal(0, .8, 600)
    >>> df = pd.DataFrame({"school": school, "pre": pre, "post": post})
    >>> r2 = r2_by_level(df, "post", "pre", "school")
    >>> list(r2["level"])
    ['school', 'individual']
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    groups = [clusters] if isinstance(clusters, str) else list(clusters)
    cc = data.dropna(subset=[outcome, *covs, *groups])
    uncond = random_intercepts(cc, outcome, groups)
    cond = random_intercepts(cc, outcome, groups, fixed=covs)
    vu = uncond.variance_components.set_index("level")["variance"]
    vc = cond.variance_components.set_index("level")["variance"]
    rows = []
    for level in groups:
        rows.append({"level": level, "variance_unconditional": float(vu[level]),
                     "variance_conditional": float(vc[level])})
    rows.append({"level": "individual", "variance_unconditional": float(uncond.residual_variance),
                 "variance_conditional": float(cond.residual_variance)})
    out = pd.DataFrame(rows)
    out["r2"] = 1 - out["variance_conditional"] / out["variance_unconditional"].where(
        out["variance_unconditional"] > 0)
    out.attrs["n_obs"] = int(len(cc))
    return out

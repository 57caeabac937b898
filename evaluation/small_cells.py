"""What every page does to its data before a table is written, so that no cell is small.

Every published table is written through
:meth:`evaluation.run_folder.RunFolder.write_table`, which blanks rows of fewer than
``privacy.min_cell`` children (with complementary suppression). The tables of each page
prepare what that needs, so that no number about fewer than ``min_cell`` children
survives in any column:

- category levels (covariates and subgroups typed categorical: :func:`column_kind`)
  held by fewer than ``min_cell`` children are merged into one "other" level (其他)
  before Table 1, the balance table and the subgroup effects are built
  (:func:`merge_rare_categories`, :func:`analysis.disclosure.merge_rare_levels`):
  a free-text level such as ``其他:姑姑王芳照顾`` never reaches a table or figure;
- numeric variables (declared ``type: numeric``, outcomes, or numeric in the data)
  are described by mean and SD in Table 1, never as levels, however few distinct
  values they have;
- an arm with fewer than ``min_cell`` children (a typo such as ``treatmnet``: see
  :func:`_tiny_arms`) gets one row per variable in Table 1, without levels; its balance
  rows count the arm's size; its effects rows carry ``n_smallest_arm`` (the smaller of
  the two arms' analysed children) so they are suppressed; it gives no observed share to
  a claim and no size to the power inputs.

The rules of each table are in its page's module (:mod:`evaluation.baseline_tables`,
:mod:`evaluation.effects_tables`, :mod:`evaluation.claims_tables`,
:mod:`evaluation.power_tables`); this module holds what they share.
"""

from __future__ import annotations

import pandas as pd

from analysis.disclosure import OTHER_LABEL, merge_rare_levels


def _min_cell(study) -> int:
    privacy = getattr(study, "privacy", None)
    return int(getattr(privacy, "min_cell", 1) or 1)


def column_kind(study, column: str, values: pd.Series | None = None) -> str:
    """``"numeric"`` or ``"categorical"``: how a covariate, subgroup or outcome is described.

    The study's declaration first (:meth:`survey.study.Study.column_type`: outcomes and
    ``type: numeric`` columns are numeric, subgroups and ``type: categorical`` columns
    categorical), then scale scores (numeric), then the data's type. The number of
    distinct values never decides: three children's scores are not three levels.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> study = NS(outcomes=[], column_type=lambda c: {"gender": "categorical"}.get(c))
    >>> column_kind(study, "gender", pd.Series([0, 1])), column_kind(study, "age", pd.Series([9, 9]))
    ('categorical', 'numeric')
    """
    declared = study.column_type(column) if hasattr(study, "column_type") else None
    if declared in ("numeric", "categorical"):
        return declared
    if any(getattr(o, "column_name", None) == column for o in getattr(study, "outcomes", ())):
        return "numeric"
    if values is not None and pd.api.types.is_numeric_dtype(values) \
            and not pd.api.types.is_bool_dtype(values):
        return "numeric"
    return "categorical"


def merge_rare_categories(study, scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with the rare levels of categorical covariates and subgroups merged.

    A level held by fewer than ``privacy.min_cell`` children (counted once per child
    over all waves) becomes ``其他`` (Chinese studies) or ``other``
    (:func:`analysis.disclosure.merge_rare_levels`). Numeric columns, and columns
    without a rare level, are returned unchanged. Table 1, the balance table and the
    subgroup effects all use this, so they publish the same levels.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> from core.design import Design
    >>> study = NS(design=Design(type="cross_sectional", id="id", covariates=("guardian",)),
    ...            outcomes=[], language="en", privacy=NS(min_cell=3))
    >>> data = pd.DataFrame({"id": range(7), "wave": "w",
    ...                      "guardian": ["grandparents"] * 5 + ["aunt Wang, 139..."] * 2})
    >>> merge_rare_categories(study, data)["guardian"].value_counts().to_dict()
    {'grandparents': 5, 'other': 2}
    """
    d = study.design
    min_cell = _min_cell(study)
    other = OTHER_LABEL.get(getattr(study, "language", "en"), OTHER_LABEL["en"])
    out = scores
    for v in dict.fromkeys(list(d.covariates) + list(d.subgroups)):
        if v not in scores.columns or column_kind(study, v, scores[v]) != "categorical":
            continue
        ids = scores[d.id] if d.id in scores.columns else None
        merged = merge_rare_levels(scores[v], min_cell, other, ids=ids)
        if merged.attrs.get("merged_levels"):
            if out is scores:
                out = scores.copy()
            out[v] = merged
    return out


def _tiny_arms(study, base: pd.DataFrame) -> set:
    """Arms with fewer than ``min_cell`` children in ``base`` (one row per child)."""
    d = study.design
    if not d.arm or d.arm not in base.columns:
        return set()
    sizes = base.groupby(d.arm, sort=False).size()
    return {a for a, n in sizes.items() if 0 < n < _min_cell(study)}

"""The published tables of a study run, composed from ``survey`` and ``analysis``: the one
import of the notebooks (``from evaluation import study_tables as st``).

Each function takes a loaded :class:`survey.study.Study` and the run's data
(``scores``: the long scored dataset; ``items``: item-level answers) and returns
a tidy DataFrame whose columns are the ones ``tables/*.csv`` publish. The
notebooks call these and add narrative and figures; the statistics themselves
live in :mod:`analysis`. Text in the tables (claim verdicts, response labels) is in
the language the caller passes (the run's ``lang``).

The functions live in one module per page; this module re-exports them:

=======================================================  =================================
name                                                     module
=======================================================  =================================
``not_applicable_reason``, ``section_caveat``,           :mod:`evaluation.applicability`
``REASONS``, ``NOTEBOOKS``, ``SECTIONS``
``validation_summary``, ``missingness``, ``consort_inputs``,                 :mod:`evaluation.quality_tables`
``attrition_table``, ``ATTRITION_COLUMNS``               (``00_data_quality``)
``reliability_table``, ``response_counts``               :mod:`evaluation.reliability_tables`
                                                         (``01_reliability``)
``table1``, ``balance_table``                           :mod:`evaluation.baseline_tables`
``icc_table``                                            :mod:`evaluation.icc_tables`
                                                         (``02_baseline``)
``means_table``, ``effects_table``, ``subgroup_table``   :mod:`evaluation.effects_tables`
                                                         (``03_effects``)
``reliability_for_change``, ``change_summary``,          :mod:`evaluation.claims_tables`
``observed_improvement``, ``claims_audit``               (``04_claims``)
``design_inputs``, ``power_curves``, ``mdes_table``      :mod:`evaluation.power_tables`
                                                         (``05_power``)
``column_kind``, ``merge_rare_categories``               :mod:`evaluation.small_cells`
``baseline_rows``                                        :mod:`evaluation.waves`
=======================================================  =================================

Small cells: every table is written through
:meth:`evaluation.run_folder.RunFolder.write_table`, which blanks rows of fewer than
``privacy.min_cell`` children; what the tables do before that (rare levels merged, tiny
arms described by their size only) is described in :mod:`evaluation.small_cells`.
"""

from __future__ import annotations

from evaluation.applicability import (
    NOTEBOOKS,
    REASONS,
    SECTIONS,
    not_applicable_reason,
    section_caveat,
)
from evaluation.baseline_tables import balance_table, table1
from evaluation.claims_tables import (
    change_summary,
    claims_audit,
    observed_improvement,
    reliability_for_change,
)
from evaluation.effects_tables import effects_table, means_table, subgroup_table
from evaluation.icc_tables import icc_table
from evaluation.power_tables import design_inputs, mdes_table, power_curves
from evaluation.quality_tables import (
    ATTRITION_COLUMNS,
    attrition_table,
    consort_inputs,
    missingness,
    validation_summary,
)
from evaluation.reliability_tables import reliability_table, response_counts
from evaluation.small_cells import column_kind, merge_rare_categories
from evaluation.waves import baseline_rows

__all__ = [
    # applicability
    "REASONS", "NOTEBOOKS", "SECTIONS", "not_applicable_reason", "section_caveat",
    # 00_data_quality
    "validation_summary", "missingness", "ATTRITION_COLUMNS", "attrition_table",
    "consort_inputs",
    # 01_reliability
    "reliability_table", "response_counts",
    # 02_baseline
    "table1", "balance_table", "icc_table",
    # 03_effects
    "means_table", "effects_table", "subgroup_table",
    # 04_claims
    "reliability_for_change", "change_summary", "observed_improvement", "claims_audit",
    # 05_power
    "design_inputs", "power_curves", "mdes_table",
    # shared
    "column_kind", "merge_rare_categories", "baseline_rows",
]

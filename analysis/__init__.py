"""Statistics and figures for program evaluation: pure functions on pandas DataFrames.

Never imports :mod:`survey` or :mod:`workbench`. Each function returns a tidy
DataFrame with documented columns.
"""

from core.design import Design

__all__ = ["Design"]

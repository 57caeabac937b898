"""The small core every layer shares: errors, atomic writes, the design object and study paths.

Imports nothing from :mod:`survey`, :mod:`analysis`, :mod:`evaluation` or :mod:`workbench`.
"""

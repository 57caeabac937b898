"""What the notebooks call: a run folder and a study snapshot in, the tables and figures of
each page out.

Sits above :mod:`survey` and :mod:`analysis` and below :mod:`workbench`; never imports
:mod:`workbench`. Notebooks import this package (plus :mod:`analysis` where that is natural).
"""

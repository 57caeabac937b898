"""The command-line and pipeline layer of Survey Workbench.

It composes :mod:`survey` (instruments, studies, ingestion, validation, privacy,
scoring) and :mod:`analysis` (statistics and figures); neither imports it.
"""

__version__ = "0.1.0"

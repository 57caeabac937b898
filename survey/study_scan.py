"""Scan an output folder for the raw personal values and raw ids of a study.

One job: join ingestion and the scanner. :func:`scan_for_study` re-reads the
study's raw data (:func:`survey.ingest.read_study_data`) to collect the values to
look for, then hands them to :func:`survey.scanner.scan_folder` with the study's key
file. The scanner itself knows nothing about studies or ingestion.
"""

from __future__ import annotations

from pathlib import Path

from . import ingest
from .privacy import KEY_FILE_NAME
from .scanner import ScanResult, scan_folder

__all__ = ["scan_for_study"]


def scan_for_study(folder: Path | str, study) -> ScanResult:
    """Scan ``folder`` for the raw personal values and ids of ``study``.

    Re-reads the study's raw data (:func:`survey.ingest.read_study_data`) to
    collect its :class:`~survey.privacy.SensitiveValues`, and looks for the study's
    key file too. This is what ``workbench scan`` does.

    Parameters
    ----------
    folder : Path
        The output folder to search.
    study : survey.study.Study
        The study whose raw values and ids are looked for; its key file is
        ``STUDY/.workbench-key``.

    Returns
    -------
    ScanResult
        Findings as ``(file, kind)`` pairs; never values.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from survey import load_study
    >>> study = load_study("examples/single-school-pre-post")  # from the repository root
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = (out / "summary.md").write_text("mean score 3.5", encoding="utf-8")
    >>> res = scan_for_study(out, study)
    >>> res.ok, res.files_scanned
    (True, 1)
    """
    sensitive = ingest.read_study_data(study).sensitive
    return scan_folder(folder, sensitive, key_file=Path(study.root) / KEY_FILE_NAME)

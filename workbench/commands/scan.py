"""``workbench scan DIR [--study STUDY]``: search an output folder for personal data.

The study defaults to the one recorded in ``DIR/manifest.json`` (``study.path``).
Its raw data are re-read to collect the raw personal values and raw ids
(:func:`survey.ingest.read_study_data`), then every file under ``DIR`` is searched
(:func:`survey.study_scan.scan_for_study`, which calls
:func:`survey.scanner.scan_folder`). Findings are printed as file and kind, never
the value, followed by a "not checked:" line for each limit of the scan (raw ids
shorter than 4 characters, personal values too short to search:
:meth:`survey.scanner.ScanResult.limits`). Exit code 1 when anything is found, 0 when
the folder is clean. Stale staging folders of killed runs beside ``DIR``
(``.DIR.partial-PID``: outputs that were never scanned) are removed first
(:func:`workbench.staging.clean_stale`).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import WorkbenchError


def study_from_manifest(folder: Path) -> Path:
    """The study path recorded in ``folder/manifest.json`` (``{"study": {"path": ...}}``)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise WorkbenchError("SCAN_NO_STUDY",
                             "no manifest.json here to name the study; pass --study STUDY",
                             file=str(folder))
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        raw = data["study"]["path"]
        if not isinstance(raw, str) or not raw:
            raise TypeError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise WorkbenchError("SCAN_NO_STUDY",
                             "manifest.json has no study.path; pass --study STUDY",
                             file=str(manifest)) from None
    path = Path(raw)
    if not path.is_absolute() and not path.exists() and (folder / path).exists():
        path = folder / path
    return path


def main(args) -> int:
    from survey.study_loader import load_study
    from survey.study_scan import scan_for_study
    from workbench.staging import clean_stale

    folder = Path(args.folder)
    # leftovers of a killed run beside the folder were never scanned: remove them first
    clean_stale(folder)
    if not folder.is_dir():
        raise WorkbenchError("SCAN_FOLDER_MISSING", "the folder to scan does not exist",
                             file=str(folder))
    study_path = Path(args.study) if args.study else study_from_manifest(folder)
    study = load_study(study_path)
    result = scan_for_study(folder, study)
    print(result.summary())
    return 0 if result.ok else 1

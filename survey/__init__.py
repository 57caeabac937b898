"""Survey side of the workbench: instruments, studies, ingestion, validation, privacy, scoring.

Public API (imported lazily so that ``import survey`` stays cheap)::

    load_study(path)            -> Study            (survey.study_loader)
    load_instrument(id_or_path) -> Instrument       (survey.instrument_loader)
    bundled_instruments()       -> list[Instrument] (survey.instrument_loader)
    read_study_data(study)      -> IngestResult     (survey.ingest)
    validate(study)             -> ValidationResult (survey.validation)
    score(study, data)          -> DataFrame        (survey.scoring)
"""

from __future__ import annotations

import importlib

_API = {
    "load_study": "survey.study_loader",
    "load_instrument": "survey.instrument_loader",
    "bundled_instruments": "survey.instrument_loader",
    "read_study_data": "survey.ingest",
    "validate": "survey.validation",
    "score": "survey.scoring",
    "score_items": "survey.scoring",
}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'survey' has no attribute {name!r}")

"""``workbench validate STUDY [--out DIR] [--json]``.

Reads and validates every data file of a study, writes ``report.json`` and
``quarantine.csv`` to ``--out`` (default ``STUDY/output/validation``), and prints
the readable summary (or, with ``--json``, the report). Exit code 1 when there
are errors, 0 when there are only warnings (or nothing).
"""

from __future__ import annotations

import json
from pathlib import Path


def main(args) -> int:
    from survey.study_loader import load_study
    from survey.validation import validate

    study = load_study(args.study)
    result = validate(study)
    out = Path(args.out) if getattr(args, "out", None) else Path(study.root) / "output" / "validation"
    paths = result.write(out)
    if getattr(args, "json", False):
        print(json.dumps(result.report(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
        print()
        print(f"Wrote {paths['report']} and {paths['quarantine']}")
    return 1 if result.errors else 0

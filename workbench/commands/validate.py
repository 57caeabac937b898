"""``workbench validate STUDY [--out DIR] [--json]``.

Reads and validates every data file of a study, writes ``report.json`` and
``quarantine.csv`` to ``--out`` (default ``STUDY/output/validation``), and prints
the readable summary (or, with ``--json``, the report). Exit code 1 when there
are errors, 0 when there are only warnings (or nothing).

The two files are written into a hidden staging folder, searched by the privacy
scanner for the raw personal values and ids that were read, and only then moved
into place; a file with a finding is withheld (exit code 1). ``--out`` must be new,
empty or an earlier ``workbench validate`` output, and never inside the study's data
folder (``OUTPUT_NOT_A_RUN_FOLDER``, ``OUTPUT_INSIDE_DATA``). The default folder
is the ``validation/`` of the default run output, so ``workbench validate STUDY``
then ``workbench run STUDY`` work one after the other (the run replaces it with
its own ``validation/``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def default_out(study) -> Path:
    """``STUDY/output/validation``: inside the default run folder."""
    return Path(study.root) / "output" / "validation"


def main(args) -> int:
    from survey.scanner import scan_folder
    from survey.study_loader import load_study
    from survey.validation import validate
    from workbench.staging import StagedOutput, describe_os_error, refuse_inside_data

    study = load_study(args.study)
    out = Path(args.out) if getattr(args, "out", None) else default_out(study)
    refuse_inside_data(out, study)
    staged = StagedOutput(out, kind="validate")  # also removes stale partial folders
    try:
        result = validate(study)
        from survey.archives import validate_program_data

        validate_program_data(study, result)  # archives and contact logs, same report
        result.write(staged.path)
        key_file = Path(study.root) / ".workbench-key"
        scan = scan_folder(staged.path, result.sensitive,
                           key_file=key_file if key_file.exists() else None)
        withheld = sorted({f for f, _ in scan.findings})
        for name in withheld:
            target = staged.path / name
            if target.is_file():
                target.unlink()
        final = staged.commit()
    except OSError as err:
        staged.abort()
        raise describe_os_error(err, out, staging=staged.path) from None
    except BaseException:
        staged.abort()
        raise
    if getattr(args, "json", False):
        print(json.dumps(result.report(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
        print()
        written = [str(final / n) for n in ("report.json", "quarantine.csv") if n not in withheld]
        print(f"Wrote {' and '.join(written)}" if written else f"Wrote nothing to {final}")
    if withheld:
        print(f"privacy scan: {', '.join(withheld)} held personal data or raw ids and "
              "was withheld", file=sys.stderr)
    return 1 if result.errors or withheld else 0

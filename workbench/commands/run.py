"""``workbench run STUDY``: the whole pipeline (see :mod:`workbench.pipeline`)."""

from __future__ import annotations

import sys


def main(args) -> int:
    from workbench.pipeline import run_study

    result = run_study(args.study, out=args.out, only=args.only, cli_parameters=args.parameter,
                       jobs=args.jobs, report_mode=args.report_mode, seed=args.seed,
                       progress=not args.no_progress, argv=sys.argv)
    if result.status == "success":
        print(f"run succeeded: {result.output}")
        print(f"open {result.output / 'reports' / 'index.html'} in a browser")
    else:
        print(f"run FAILED: {result.output} (manifest.json says why)", file=sys.stderr)
        for f in result.failures:
            print(f"  - {f}", file=sys.stderr)
    return result.exit_code

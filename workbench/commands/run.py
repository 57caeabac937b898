"""``workbench run STUDY``: the whole pipeline (see :mod:`workbench.pipeline`).

Ctrl-C (SIGINT) and SIGTERM stop the run the same way: kernels are shut down, the
staging folder is removed, nothing is published; the exit code is 130 (SIGINT, via
the CLI) or 143 (SIGTERM).
"""

from __future__ import annotations

import signal
import sys


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that the run cleans up after itself."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(args) -> int:
    from workbench.pipeline import run_study

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = run_study(args.study, out=args.out, only=args.only,
                           cli_parameters=args.parameter, jobs=args.jobs,
                           report_mode=args.report_mode, seed=args.seed,
                           progress=not args.no_progress, argv=sys.argv)
    except Terminated:
        print("terminated: nothing was published", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    if result.status == "success":
        print(f"run succeeded: {result.output}")
        print(f"open {result.output / 'reports' / 'index.html'} in a browser")
    else:
        print(f"run FAILED: {result.output} (manifest.json says why)", file=sys.stderr)
        for f in result.failures:
            print(f"  - {f}", file=sys.stderr)
    return result.exit_code

"""``workbench run STUDY``: the whole pipeline (see :mod:`workbench.pipeline`).

Ctrl-C (SIGINT) and SIGTERM stop the run the same way: kernels are shut down, the
staging folder is removed, nothing is published; the exit code is 130 (SIGINT, via
the CLI) or 143 (SIGTERM).

The end of every run prints the counts: rows read, quarantined, and the children
analysed per arm and wave. Validation errors do not fail a run (the clean rows are
analysed, exit code 0), but they are never silent: a ``WARNING`` line on stderr says
how many rows were quarantined, the success line says "with warnings", and the
manifest records the counts and the warning. ``--strict`` makes them exit code 1.
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
    for line in count_lines(result.counts):
        print(line)
    for w in result.warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    for line in (result.manifest.get("privacy") or {}).get("limits") or []:
        print(f"not checked by the privacy scan: {line}")
    if result.status == "success":
        print(f"run succeeded{' with warnings' if result.warnings else ''}: {result.output}")
        print(f"open {result.output / 'reports' / 'index.html'} in a browser")
        if getattr(result, "headline", None) is not None:
            print()
            print(result.headline.terminal_text())
    else:
        print(f"run FAILED: {result.output} (manifest.json says why)", file=sys.stderr)
        for f in result.failures:
            print(f"  - {f}", file=sys.stderr)
    if getattr(args, "strict", False) and result.counts.get("errors"):
        return max(result.exit_code, 1)
    return result.exit_code


def count_lines(counts: dict) -> list[str]:
    """The counts of a run for the terminal.

    Examples
    --------
    >>> for line in count_lines({"rows_read": 10, "rows_clean": 9, "rows_quarantined": 1,
    ...                          "errors": 2, "warnings": 0,
    ...                          "analysed": [{"arm": "a", "wave": "pre", "n": 5},
    ...                                       {"arm": "a", "wave": "post", "n": 4}]}):
    ...     print(line)
    rows: 10 read, 1 quarantined (validation: 2 errors, 0 warnings), 9 clean
    analysed (children per arm and wave): a: pre 5, post 4
    """
    if "rows_read" not in counts:
        return []
    lines = [f"rows: {counts['rows_read']} read, {counts['rows_quarantined']} quarantined "
             f"(validation: {counts['errors']} errors, {counts['warnings']} warnings), "
             f"{counts['rows_clean']} clean"]
    analysed = counts.get("analysed")
    if analysed is None:
        lines.append("analysed: nothing (the data could not be used)")
        return lines
    groups: dict[str, list[str]] = {}
    for r in analysed:
        groups.setdefault(r.get("arm", ""), []).append(f"{r['wave']} {r['n']}")
    parts = [f"{arm}: {', '.join(v)}" if arm else ", ".join(v) for arm, v in groups.items()]
    what = ("children per arm and wave" if any(r.get("arm") for r in analysed)
            else "children per wave")
    lines.append(f"analysed ({what}): {'; '.join(parts) or 'none'}")
    return lines

"""``workbench score STUDY --out DIR``: validate, score and write the scored dataset.

Steps: :func:`survey.load_study` -> :func:`survey.validate` (stop with exit code 1
when the data cannot be used at all, ``ValidationResult.fatal``) ->
:func:`survey.scoring.score` -> :func:`survey.export.write_scores` into ``DIR``
(``scores.parquet``, ``scores.csv``, ``scores.sav``, ``items.parquet``: the same writer
as ``workbench run``, :func:`survey.export.write_scored_data`). Prints a
short summary: rows, respondents per wave, scales, validation errors and warnings.

The files are written into a hidden staging folder, scanned for the raw personal
values and ids that were read, and moved into place only when the scan passes.
``DIR`` must be new, empty or an earlier ``workbench score`` output, and never inside
the study's data folder (``OUTPUT_NOT_A_RUN_FOLDER``, ``OUTPUT_INSIDE_DATA``): no
raw file is ever overwritten.
"""

from __future__ import annotations

import sys
from pathlib import Path


def run(study_path, out_dir, *, stream=None) -> int:
    """Do what ``workbench score`` does; return the exit code (0 ok, 1 fatal data problems).

    Parameters
    ----------
    study_path : str or Path
        Study folder or its ``study.yaml``.
    out_dir : str or Path
        Output folder (created if needed).
    stream : file-like, optional
        Where to print the summary (default stdout).

    Examples
    --------
    >>> run("examples/county-cluster-trial", "/tmp/scores")   # doctest: +SKIP
    0
    """
    from survey import load_study
    from workbench.staging import StagedOutput, describe_os_error, refuse_inside_data

    out = stream or sys.stdout
    study = load_study(study_path)
    refuse_inside_data(out_dir, study)
    staged = StagedOutput(Path(out_dir), kind="score")  # also removes stale partial folders
    try:
        return _validate_score_write(study, staged, out_dir, out)
    except OSError as err:
        raise describe_os_error(err, out_dir, staging=staged.path) from None
    finally:
        staged.abort()  # removes the staging folder unless it was committed


def _validate_score_write(study, staged, out_dir, out) -> int:
    from survey import validate
    from survey.export import write_scored_data
    from survey.scanner import scan_folder
    from survey.scoring import score
    from workbench.pipeline import describe_issue

    result = validate(study)
    issues = list(getattr(result, "issues", ()) or ())
    n_err = sum(1 for i in issues if getattr(i, "severity", "error") == "error")
    n_warn = sum(1 for i in issues if getattr(i, "severity", None) == "warning")
    if result.fatal:
        print(f"validation found problems that stop scoring ({n_err} errors, {n_warn} warnings):",
              file=sys.stderr)
        for issue in [i for i in issues if getattr(i, "severity", "error") == "error"][:20]:
            print(f"  {describe_issue(issue)}", file=sys.stderr)
        print("run `workbench validate` for the full report", file=sys.stderr)
        return 1

    data = result.data
    scores = score(study, data)
    d = study.design
    written = write_scored_data(study, data, scores, staged.path)
    key_file = Path(study.root) / ".workbench-key"
    scan = scan_folder(staged.path, result.sensitive,
                       key_file=key_file if key_file.exists() else None)
    if scan.findings:
        files = ", ".join(sorted({f for f, _ in scan.findings}))
        print(f"privacy scan: personal data or raw ids found in {files}; nothing was written "
              f"to {out_dir}", file=sys.stderr)
        return 1
    staged.commit()

    scale_cols = [f"{u.id}.{s.id}" for u in study.instruments for s in u.instrument.scales]
    print(f"scored {len(scores)} rows ({scores[d.id].nunique()} respondents) "
          f"from {study.path}", file=out)
    per_wave = scores.groupby(d.wave, sort=False)[d.id].nunique()
    for wave in d.waves:
        if wave in per_wave.index:
            print(f"  {wave}: {per_wave[wave]} respondents", file=out)
    if scale_cols:
        print(f"scales ({len(scale_cols)}): {', '.join(scale_cols)}", file=out)
        missing = scores[scale_cols].isna().sum()
        gaps = [f"{c} {int(n)}" for c, n in missing.items() if n]
        if gaps:
            print(f"  missing scale scores (too few items answered): {', '.join(gaps)}", file=out)
    print(f"validation: {n_err} errors, {n_warn} warnings (rows with errors were quarantined; "
          "see `workbench validate`)", file=out)
    files = [p.name for k, p in written.items() if k != "spss_names"]
    print(f"wrote {', '.join(files)} to {out_dir}", file=out)
    return 0


def main(args) -> int:
    return run(args.study, args.out)

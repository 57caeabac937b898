"""``workbench publish RUN DIR [--study STUDY]``: a copy of a run that can be shared.

A run folder keeps child-level files for reproducibility: ``data/scores.*`` and
``data/items.parquet`` (one row per child and wave with pseudonym, exact age,
gender, class and category answers, which can identify a child in a class of 15),
``validation/`` (quarantined rows, findings per row) and the executed
``notebooks/``. ``publish`` writes ``DIR`` with the publishable part only:
``tables/``, ``figures/``, ``reports/`` (HTML, code as the run rendered it),
``status/`` and a ``manifest.json`` that lists those files and records where they
came from (``published``). The manifest's ``outputs[].publishable`` of the run
names the same files (:data:`workbench.manifest.PUBLISHABLE_DIRS`).

Everything is written into a staging folder beside ``DIR``, scanned by the privacy
scanner (the study's raw personal values and raw ids, re-read from the study named
by the run's manifest or ``--study``), and only then moved into place atomically.
A finding publishes nothing (error ``PUBLISH_SCAN_FAILED``, exit code 2; the files
and kinds are printed, never the values). ``DIR`` may be new, empty or an earlier ``publish`` folder; a run
folder (it holds ``data/``), the run itself, a folder inside or around it and the
study's data folder are refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import WorkbenchError


def publish_run(run: Path | str, dest: Path | str, *, study=None) -> dict:
    """Copy the publishable files of ``run`` into ``dest``, scanned, atomically.

    Parameters
    ----------
    run : str or Path
        A ``workbench run`` output folder (it holds the run's ``manifest.json``).
    dest : str or Path
        The folder to write.
    study : str, Path or Study, optional
        The study whose personal values the scan looks for (default: the one in the
        run's manifest).

    Returns
    -------
    dict
        The published ``manifest.json``.

    Raises
    ------
    WorkbenchError
        ``PUBLISH_NOT_A_RUN`` (no run manifest), ``PUBLISH_TARGET`` (``dest`` is the
        run, inside or around it, or a run folder with ``data/``), ``OUTPUT_INSIDE_DATA``,
        ``PUBLISH_SCAN_FAILED`` (the scan found personal data: nothing was written).
    """
    from survey.ingest import read_study_data
    from survey.scanner import scan_folder
    from survey.study_loader import load_study
    from workbench import manifest as mf
    from workbench.commands.scan import study_from_manifest
    from workbench.staging import StagedOutput, read_run_manifest, refuse_inside_data

    run, dest = Path(run), Path(dest)
    manifest = read_run_manifest(run) if run.is_dir() else None
    if manifest is None:
        raise WorkbenchError("PUBLISH_NOT_A_RUN",
                             "is not the output of `workbench run` (no manifest.json)",
                             file=str(run))
    if "published" in manifest:
        raise WorkbenchError("PUBLISH_NOT_A_RUN", "is already a published folder; publish "
                             "the run it came from", file=str(run))
    r, d = run.resolve(), dest.absolute().resolve()
    if d == r or r in d.parents or d in r.parents:
        raise WorkbenchError("PUBLISH_TARGET", "is the run folder, inside it or around it; "
                             "choose a separate folder to publish into", file=str(dest))
    if (dest / "data").exists() or (dest.is_dir() and read_run_manifest(dest) is not None
                                    and "published" not in read_run_manifest(dest)):
        raise WorkbenchError("PUBLISH_TARGET", "holds a run's full output; publish replaces "
                             "only an earlier published folder, so choose another", file=str(dest))
    if study is None or isinstance(study, (str, Path)):
        study = load_study(Path(study) if study is not None else study_from_manifest(run))
    refuse_inside_data(dest, study)

    outputs = [dict(o) for o in manifest.get("outputs") or []
               if isinstance(o, dict) and isinstance(o.get("path"), str)
               and mf.publishable(o["path"]) and o["path"] != "manifest.json"]
    staged = StagedOutput(dest, kind="run")
    try:
        for entry in outputs:
            src = run / entry["path"]
            if src.is_symlink() or not src.is_file() or ".." in Path(entry["path"]).parts:
                continue
            target = staged.path / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            entry["publishable"] = True
        copied = [o for o in outputs if (staged.path / o["path"]).is_file()]
        published = {k: v for k, v in manifest.items() if k != "outputs"}
        published["outputs"] = copied
        published["published"] = {
            "from_run_id": manifest.get("run_id"), "published_at": mf.now(),
            "included": list(mf.PUBLISHABLE_DIRS),
            "excluded": mf.PUBLICATION_NOTE["not_for_publication"],
            "note": "child-level files (data/, validation/, notebooks/) are not in this folder",
        }
        mf.write_manifest(staged.path / "manifest.json", published)
        sensitive = read_study_data(study).sensitive
        key_file = Path(study.root) / ".workbench-key"
        result = scan_folder(staged.path, sensitive,
                             key_file=key_file if key_file.exists() else None)
        if result.findings:
            where = ", ".join(sorted({f"{f} ({k})" for f, k in result.findings}))
            raise WorkbenchError("PUBLISH_SCAN_FAILED",
                                 f"the privacy scan found personal data or raw ids in {where}; "
                                 "nothing was published", file=str(dest))
        # nothing is written after the scan
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    return published


def main(args) -> int:
    published = publish_run(args.run, args.folder, study=args.study)
    n = len(published["outputs"])
    print(f"published {n} files (tables, figures, reports; no child-level data) to "
          f"{args.folder}")
    if published.get("status") != "success":
        print(f"WARNING: the run's status is {published.get('status')!r} "
              "(see manifest.json)")
    return 0


__all__ = ["publish_run", "main"]

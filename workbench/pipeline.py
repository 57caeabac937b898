"""``workbench run``: from a study folder to figures, tables and HTML reports.

validate -> score -> execute the notebooks (papermill, in parallel) -> HTML
reports and ``index.html`` -> privacy scan of the whole output -> ``manifest.json``,
which is scanned too before the folder is published: nothing is written after the
scan. Everything is written into a staging folder that is moved into place at the
end (:mod:`workbench.staging`), so an interrupted run never looks complete. A failing
notebook does not stop the others; the manifest and the exit code say which failed
and why. Validation errors do not fail a run, but the counts (rows read,
quarantined, analysed per arm and wave) and a warning are printed and recorded.

Output layout (users and other tools rely on it)::

    manifest.json
    validation/report.json  validation/quarantine.csv   status/<notebook>.json (not applicable)
    data/scores.parquet  data/scores.csv  data/scores.sav  data/items.parquet
    data/contacts.parquet  data/archives/<table>.parquet  quarantine/<table>.csv  (program data)
    tables/*.csv   figures/*.png *.svg   notebooks/*.ipynb   reports/*.html reports/index.html
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from survey.snapshot import SNAPSHOT_NAME, write_snapshot
from workbench import manifest as mf
from workbench.execute import NotebookPool, NotebookTask, run_notebooks
from workbench.memory import release_memory
from workbench.params import (
    Parameter,
    ParameterError,
    check_injection_is_literal,
    declared_parameters,
    parse_cli_parameters,
)
from workbench.progress import RunProgress
from workbench.reports import footer_data, notebook_title, render_html, write_index
from workbench.staging import (
    OutputError,
    StagedOutput,
    describe_os_error,
    read_run_manifest,
    refuse_inside_data,
)

# package data (notebooks/ in the repository, workbench/notebooks/ in an installed wheel)
NOTEBOOK_DIR = Path(str(importlib.resources.files("workbench.notebooks")))
NOTEBOOK_DIR_ENV = "WORKBENCH_NOTEBOOK_DIR"
TYPICAL_SECONDS = {"06_delivery": 4.4, "03_effects": 3.5, "07_sensitivity": 2.2,
                   "01_reliability": 1.8, "00_data_quality": 1.0, "02_baseline": 0.9,
                   "05_power": 0.8, "04_claims": 0.6}
"""Seconds each study notebook takes in its lane on the county example (``bench/pipeline.py``
at ``--jobs 2``: cells, papermill and the page). Only the order in which the lanes take the
notebooks depends on it (longest first, so that the lanes finish together); results,
manifest and reports keep the notebooks' order."""
STANDARD_PARAMETERS = ("run_dir",)
"""Injected by the workbench into every notebook that declares them (``-p`` may not set them)."""
RUN_PARAMETERS = {
    "lang": Parameter("lang", "str", "", "zh or en: the run's language (default the study's)",
                      "run"),
    "seed": Parameter("seed", "int", None, "the run's seed (default analysis.seed)", "run"),
}
"""Settings of the whole run that ``-p`` may set although no notebook declares them: they go
into the study snapshot (``RUN/study.json``), which every notebook reads; a notebook that
declares ``lang`` or ``seed`` also gets them as parameters."""


def notebook_folder(folder: str | Path | None = None) -> Path:
    """The folder of study notebooks: ``folder``, else ``$WORKBENCH_NOTEBOOK_DIR``, else the
    bundled ``notebooks/``."""
    chosen = folder or os.environ.get(NOTEBOOK_DIR_ENV) or NOTEBOOK_DIR
    path = Path(chosen)
    if not path.is_dir():
        raise ParameterError("NOTEBOOK_DIR_MISSING", "the notebook folder does not exist",
                             file=str(path))
    return path


def available_notebooks(folder: str | Path | None = None) -> list[Path]:
    """The study notebooks, in run order (``NN_name.ipynb``; training notebooks excluded)."""
    return sorted(p for p in notebook_folder(folder).glob("[0-9][0-9]_*.ipynb"))


def select_notebooks(only: list[str] | None, folder: str | Path | None = None) -> list[Path]:
    """Notebooks to run; ``only`` names them by stem or by the part after ``NN_``.

    ``folder`` defaults to ``$WORKBENCH_NOTEBOOK_DIR`` or the bundled ``notebooks/``.
    """
    nbs = available_notebooks(folder)
    if not only:
        return nbs
    chosen = []
    for name in only:
        match = [p for p in nbs if p.stem == name or p.stem.split("_", 1)[1] == name
                 or p.stem.startswith(name + "_")]
        if not match:
            known = ", ".join(p.stem for p in nbs)
            raise ParameterError("NOTEBOOK_UNKNOWN", f"--only {name}: no such notebook ({known})")
        chosen.extend(m for m in match if m not in chosen)
    return sorted(chosen)


@dataclass
class RunResult:
    """What a run did. ``status`` is ``success`` or ``failed``; ``exit_code`` 0 or 1."""

    status: str
    output: Path
    manifest: dict
    failures: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    headline: object = None
    """:class:`evaluation.headline.Headline` of the run (None when no reports were written);
    ``headline.terminal_text()`` is the plain-text headline in the run's language."""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "success" else 1


def _inputs(study) -> list[dict]:
    entries = [("study", Path(study.path))]
    for use in study.instruments:
        if use.instrument.path is not None:
            entries.append(("instrument", Path(use.instrument.path)))
    for src in study.data:
        entries.append(("data", Path(src.path)))
    archives = getattr(study, "archives", None)
    for src in (archives.tables().values() if archives is not None else ()):
        entries.append(("archive", Path(src.path)))
    for src in getattr(study, "contacts", ()):
        entries.append(("contacts", Path(src.path)))
    out = []
    root = Path(study.root).resolve()
    for role, p in entries:
        rec = {"role": role}
        try:
            rec["path"] = Path(p).resolve().relative_to(root).as_posix()
        except ValueError:
            rec["path"] = Path(p).name if role == "instrument" else str(p)
        if Path(p).is_file():
            rec["sha256"] = mf.sha256_file(Path(p))
            rec["bytes"] = Path(p).stat().st_size
        else:
            rec["missing"] = True
        out.append(rec)
    return out


def describe_issue(issue) -> str:
    """One line for a validation finding that quotes no cell value.

    Severity, code, file, spreadsheet row, column and what was expected: the message
    itself is left out because it may quote the offending cell, which can hold a
    child's name or phone (the full findings are in ``validation/report.json``).

    Examples
    --------
    >>> from core.errors import Issue
    >>> describe_issue(Issue("VALUE_NOT_NUMERIC", "error", "'王小明 13912345678' is not a number",
    ...                      file="data/a.csv", row=7, column="age", expected="a number"))
    "error [VALUE_NOT_NUMERIC] data/a.csv, row 7, column 'age' (expected a number)"
    """
    where = ", ".join(p for p in (issue.file, f"row {issue.row}" if issue.row else None,
                                  f"column {issue.column!r}" if issue.column else None) if p)
    exp = f" (expected {issue.expected})" if getattr(issue, "expected", None) else ""
    return f"{issue.severity} [{issue.code}]{' ' + where if where else ''}{exp}"


def run_study(study_path, *, out=None, only=None, cli_parameters=(), jobs=None,
              report_mode=False, seed=None, progress=True, argv=None,
              notebook_dir=None) -> RunResult:
    """Run the whole pipeline for one study.

    Faults: a failing notebook fails the run (``status: failed``, exit code 1) but the
    others finish and the output is published with the failures named. A write failure
    (disk full, read-only, ...) raises :class:`OutputError` ``OUTPUT_WRITE_FAILED`` and
    publishes nothing. Ctrl-C stops the kernels and publishes nothing. After a
    ``SIGKILL`` the output is absent or the earlier complete output, untouched; the next
    run removes the killed run's staging folders (:mod:`workbench.staging`).

    ``only`` into an existing output of the same study *updates* it: the output is
    copied into the staging folder, validation and scoring are redone, the named
    notebooks are re-run and the other notebooks' notebooks, reports, tables and figures
    are kept. Each notebook entry of the manifest records the ``run_id`` and
    ``run_started_at`` of the run it came from. The swap into place is atomic as for a
    full run.

    A notebook that has nothing to say for the design ends in success after writing
    ``status/<notebook>.json`` with ``{"status": "not_applicable", "reason_en": ...,
    "reason_zh": ...}``; the manifest then lists it as ``not_applicable`` with the
    reasons, and the run's status stays ``success``.

    The privacy scan is the last step: every file, ``manifest.json`` included, is
    scanned before the folder is moved into place, and nothing is written after it.

    Parameters
    ----------
    study_path : str or Path
        Study folder or its ``study.yaml``.
    out : str or Path, optional
        Output folder (default ``STUDY/output``).
    only : list of str, optional
        Run only these notebooks (updating an earlier output of the study in ``out``).
    cli_parameters : list of str
        ``KEY=VALUE`` notebook parameters, checked against the declared types.
    jobs : int, optional
        Notebooks at once (default: cores).
    report_mode : bool
        HTML reports without code.
    seed : int, optional
        Overrides ``analysis.seed``.
    notebook_dir : str or Path, optional
        Folder of ``NN_name.ipynb`` notebooks (default ``$WORKBENCH_NOTEBOOK_DIR`` or the
        bundled ``notebooks/``).

    Returns
    -------
    RunResult
    """
    from survey.study_loader import load_study

    t_start = time.perf_counter()
    steps: list[dict] = []
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError("PARAMETER_VALUE", f"--jobs {jobs}: expected a whole number of at "
                                                "least 1")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2 ** 32):
        raise ParameterError("PARAMETER_VALUE", f"--seed {seed}: expected a whole number from 0 "
                                                "to 4294967295")
    study = load_study(study_path)
    out = Path(out) if out else Path(study.root) / "output"
    refuse_inside_data(out, study)
    notebooks = select_notebooks(only, notebook_dir)
    own = {nb: declared_parameters(nb) for nb in notebooks}  # parsed once per run
    declared = {name: [p] for name, p in RUN_PARAMETERS.items()}
    for params in own.values():
        for name, p in params.items():
            declared.setdefault(name, []).append(p)
    overrides = parse_cli_parameters(list(cli_parameters), declared)
    for reserved in ("study", *STANDARD_PARAMETERS):
        if reserved in overrides:
            raise ParameterError("PARAMETER_RESERVED", f"-p {reserved}: set by the workbench itself")
    run_seed = int(seed if seed is not None else overrides.get("seed", study.analysis.seed))
    run_lang = overrides.get("lang") or study.language
    previous = _previous_run(out, study) if only else None
    carried: dict = {}

    run_id = uuid.uuid4().hex[:12]
    staged = StagedOutput(out)  # nothing above can leave a staging folder
    run_dir = staged.path
    pool = None
    try:
        # the notebooks' lanes start and import their modules while the manifest is made
        # and the data are validated
        pool = NotebookPool(min(jobs or os.cpu_count() or 1, len(notebooks)) or 1,
                            workdir=staged.scratch).start() if notebooks else None
        manifest = {
            "status": "running",
            "run_id": run_id,
            "workbench": {"version": mf.package_versions().get("survey-workbench"),
                          "git_commit": mf.git_commit(Path(__file__).resolve().parents[1])},
            "study": {"id": study.id, "path": str(Path(study.path).resolve()),
                      "design": study.design.type},
            "command": {"argv": list(argv) if argv else None},
            "parameters": {"only": [p.stem for p in notebooks], "jobs": jobs or os.cpu_count(),
                           "report_mode": report_mode, "notebook_parameters": overrides},
            "seed": run_seed,
            "inputs": _inputs(study),
            "environment": mf.environment(),
            "started_at": mf.now(),
            "steps": steps,
            "notebooks": [],
            "failures": [],
            "warnings": [],
        }
    except BaseException:
        if pool is not None:
            pool.close()
        staged.abort()
        raise
    failures: list[str] = manifest["failures"]
    warnings: list[str] = manifest["warnings"]
    renderer = None
    headline = None
    report = RunProgress(3 + len(notebooks) + 2, enabled=progress)
    counts: dict = {}

    def step(name, fn):
        report.start(name)
        t0 = time.perf_counter()
        status = "success"
        entry = {"name": name, "status": status}
        try:
            return fn()
        except Exception:
            status = "failed"
            raise
        finally:
            entry.update(status=status, seconds=round(time.perf_counter() - t0, 3))
            steps.append(entry)
            if name == "validate":  # "validate success" must not hide quarantined rows
                shown = "finished with errors" if counts.get("errors") else status
                report.finish(name, shown if status == "success" else status,
                              detail=_count_line(counts))
            else:
                report.finish(name, status)

    try:
        try:
            if previous is not None:
                carried = _copy_previous(out, run_dir, [nb.stem for nb in notebooks], previous)
            mf.write_manifest(run_dir / "manifest.json", manifest)
            validation = step("validate", lambda: _validate(study, run_dir, counts))
            validate_step = steps[-1]
            validate_step["counts"] = _published_counts(counts, study.privacy.min_cell)
            sensitive = validation.sensitive
            errors = [i for i in validation.issues if i.severity == "error"]
            if validation.fatal:
                failures.append("validation: the data cannot be used yet: a file cannot be read, "
                                "lacks a required column, holds an undeclared personal-data "
                                "column, ambiguous option numbers or contradicting value labels, "
                                "or too few children link between waves (see "
                                "validation/report.json)")
                failures.extend(f"validation: {describe_issue(i)}" for i in errors[:5])
                if len(errors) > 5:
                    failures.append(f"validation: ... and {len(errors) - 5} more errors")
                results = []
            else:
                if errors:
                    warnings.append(
                        f"validation: {len(errors)} error(s); {counts['rows_quarantined']} of "
                        f"{counts['rows_read']} rows were quarantined and are not analysed "
                        "(see validation/report.json)")
                scores = step("score", lambda: _score(study, validation, run_dir))
                counts["analysed"] = _analysed(study, scores)
                validation = scores = None  # the data are on disk now, for the notebooks
                release_memory()  # the data are on disk; workbench run lives on
                validate_step["counts"] = _published_counts(counts, study.privacy.min_cell)
                for sub in ("tables", "figures", "notebooks", "reports"):
                    (run_dir / sub).mkdir(exist_ok=True)
                write_snapshot(study, run_dir / SNAPSHOT_NAME, language=run_lang,
                               seed=run_seed, inputs=manifest["inputs"])
                renderer = _Renderer(run_dir, report_mode, run_lang, footer_data(manifest), study,
                                     scan_cache=_scan_cache(study, sensitive))
                results = step("notebooks", lambda: _execute(
                    own, overrides, {"run_dir": ".", "seed": run_seed, "lang": run_lang},
                    run_dir, jobs, report_mode, report, staged.scratch, pool, renderer))
                renderer.hold_searches()
                for r in results:
                    code = r.storage_errno()
                    if code is not None:  # disk full etc.: the output folder's fault
                        raise OSError(code, os.strerror(code), str(run_dir / "notebooks"))
                entries = _notebook_entries(results, run_dir, run_id, manifest["started_at"])
                if previous is not None:
                    entries = _merge_previous(entries, previous, manifest, warnings)
                manifest["notebooks"] = entries
                failures.extend(r.describe_error() for r in results if r.status != "success")
                for e in entries:
                    if e.get("kept_from_run") and e["status"] not in ("success", "not_applicable"):
                        failures.append(f"notebook {e['name']} failed in the earlier run "
                                        f"{e['run_id']} (kept; re-run it with --only "
                                        f"{e['name']})")
                headline = step("reports", lambda: _reports(
                    study, results, entries, run_dir, renderer, failures, warnings,
                    lang=run_lang, sensitive=sensitive, counts=validate_step["counts"],
                    footer=footer_data(manifest)))
            if renderer is not None:
                renderer.stop_scanning()  # the final scan searches what was not reached
            scan = step("privacy_scan", lambda: _scan_and_finish(
                study, run_dir, sensitive, manifest, failures, t_start, staged.scratch, carried,
                cache=renderer.scan_cache if renderer is not None else None))
        except OSError as err:
            _stop(renderer)
            staged.abort()
            raise describe_os_error(err, out, staging=run_dir) from None
        except BaseException:
            _stop(renderer)
            staged.abort()
            raise
        # nothing is written after the scan: the manifest was scanned as the last file
        del scan
        final = staged.commit()
    except OSError as err:
        staged.abort()
        raise describe_os_error(err, out, staging=run_dir) from None
    except BaseException:  # e.g. the output folder was replaced by something else meanwhile
        staged.abort()
        raise
    finally:
        if renderer is not None:
            renderer.close()
        if pool is not None:
            pool.close()
        report.close()
    return RunResult(manifest["status"], final, manifest, failures, counts=counts,
                     warnings=list(warnings), headline=headline)


def _lower_priority(niceness: int = 10) -> None:
    """Give the calling thread a lower CPU priority (Linux: a thread's own nice value), so
    that the notebooks' lanes get the cores first and the background search of the run
    folder for personal data runs in what they leave idle (before the lanes have imported,
    and when one lane has finished before the other). Elsewhere nothing changes."""
    import sys
    import threading

    if not sys.platform.startswith("linux"):  # elsewhere a thread id is no process id
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid),
                                                 niceness))
    except (AttributeError, OSError):
        pass


def _stop(renderer) -> None:
    """End the renderer's threads (a page or tables.docx under way is finished) before the
    staging folder is removed, so that nothing is written into it afterwards."""
    if renderer is not None:
        try:
            renderer.close()
        except Exception:  # noqa: BLE001 - the run fails anyway; its first error is said
            pass


def _previous_run(out: Path, study) -> dict | None:
    """The manifest of the earlier output that ``--only`` updates, or None (no earlier run)."""
    if not out.is_dir():
        return None
    previous = read_run_manifest(out)
    if previous is None:
        return None  # empty, or only a `workbench validate` folder: nothing to keep
    other = (previous.get("study") or {}).get("id")
    if other is not None and other != study.id:
        raise OutputError("OUTPUT_NOT_A_RUN_FOLDER",
                          f"holds the output of another study ({other!r}); "
                          "--only updates an output of the same study, so choose another --out",
                          file=str(out))
    return previous


def _copy_previous(out: Path, run_dir: Path, rerun: list[str], previous: dict) -> dict:
    """Copy the earlier output into the staging folder, without what this run rewrites:
    the manifest, validation and scored data, and the re-run notebooks' notebook, report
    and status file (tables and figures are overwritten by the notebooks that write them).

    Returns ``{relative path: (stat signature, run id)}`` of the files carried over, so that
    the manifest can say which outputs still come from an earlier run.
    """
    shutil.copytree(out, run_dir, symlinks=True, dirs_exist_ok=True)
    for rel in ("manifest.json", "validation", "data", "quarantine", "reports/index.html"):
        target = run_dir / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for name in rerun:
        for rel in (f"notebooks/{name}.ipynb", f"reports/{name}.html", f"status/{name}.json"):
            (run_dir / rel).unlink(missing_ok=True)
    prev_id = previous.get("run_id") or previous.get("started_at")
    origin = {o.get("path"): o.get("from_run") for o in previous.get("outputs") or []
              if isinstance(o, dict)}
    carried = {}
    for p in run_dir.rglob("*"):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(run_dir).as_posix()
            carried[rel] = (_signature(p), origin.get(rel) or prev_id)
    return carried


def _signature(path: Path) -> tuple:
    st = path.stat()
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _mark_carried(outputs: list[dict], run_dir: Path, carried: dict) -> None:
    """``from_run`` on each output that is still the earlier run's file, untouched."""
    for entry in outputs:
        kept = carried.get(entry["path"])
        if kept is not None and _signature(run_dir / entry["path"]) == kept[0]:
            entry["from_run"] = kept[1]


def _notebook_entries(results, run_dir: Path, run_id: str, started_at: str) -> list[dict]:
    entries = []
    for r in results:
        entry = {"name": r.name, "status": r.status, "seconds": r.seconds,
                 "attempts": r.attempts, "parameters": r.parameters, "error": r.error,
                 "run_id": run_id, "run_started_at": started_at}
        if r.status == "success":
            entry.update(_not_applicable(run_dir, r.name))
        entries.append(entry)
    return entries


_REASON_CHARS = 2000


def _not_applicable(run_dir: Path, name: str) -> dict:
    """``status: not_applicable`` and the reasons, from ``status/<name>.json``, else {}."""
    from evaluation.run_folder import read_statuses

    info = read_statuses(run_dir).get(name)
    if not info or info.get("status") != "not_applicable":
        return {}
    out = {"status": "not_applicable"}
    for key in ("reason_en", "reason_zh"):
        if isinstance(info.get(key), str):
            out[key] = info[key][:_REASON_CHARS]
    return out


def _merge_previous(entries: list[dict], previous: dict, manifest: dict,
                    warnings: list[str]) -> list[dict]:
    """This run's notebook entries plus the earlier run's entries of the kept notebooks."""
    rerun = {e["name"] for e in entries}
    prev_id = previous.get("run_id") or previous.get("started_at")
    kept = []
    for e in previous.get("notebooks") or []:
        if not isinstance(e, dict) or e.get("name") in rerun:
            continue
        e = dict(e)
        e.setdefault("run_id", prev_id)
        e.setdefault("run_started_at", previous.get("started_at"))
        e["kept_from_run"] = True
        kept.append(e)
    manifest["updated_from"] = {"run_id": prev_id, "started_at": previous.get("started_at"),
                                "kept": [e["name"] for e in kept]}
    old_inputs = {(i.get("role"), i.get("path")): i.get("sha256")
                  for i in previous.get("inputs") or [] if isinstance(i, dict)}
    new_inputs = {(i.get("role"), i.get("path")): i.get("sha256") for i in manifest["inputs"]}
    if kept and old_inputs != new_inputs:
        warnings.append("the study's inputs changed since the earlier run: the kept notebooks ("
                        + ", ".join(e["name"] for e in kept) + ") were computed from the "
                        "earlier inputs; run without --only to redo them")
    manifest["updated_from"]["inputs_changed"] = bool(kept) and old_inputs != new_inputs
    return sorted(entries + kept, key=lambda e: e["name"])


def _count_line(counts: dict) -> str | None:
    if "rows_read" not in counts:
        return None
    return (f"{counts['rows_read']} rows read, {counts['rows_quarantined']} quarantined, "
            f"{counts['errors']} errors, {counts['warnings']} warnings")


def _analysed(study, scores) -> list[dict]:
    """Children analysed per arm and wave (rows of the scored data)."""
    d = study.design
    if scores is None or not len(scores):
        return []
    keys = [c for c in ([d.arm] if d.arm else []) + [d.wave] if c in scores.columns]
    if not keys:
        return []
    order = {w: k for k, w in enumerate(d.waves)}
    rows = []
    for key, n in scores.groupby(keys, sort=False, dropna=False).size().items():
        key = key if isinstance(key, tuple) else (key,)
        rec = dict(zip(["arm", "wave"] if len(keys) == 2 else ["wave"], (str(k) for k in key)))
        rec["n"] = int(n)
        rows.append(rec)
    return sorted(rows, key=lambda r: (r.get("arm", ""), order.get(r["wave"], len(order)),
                                       r["wave"]))


def _published_counts(counts: dict, min_cell: int) -> dict:
    """The counts for the manifest: a count of fewer than ``min_cell`` children per arm
    and wave is suppressed (``n`` null), as in every published table, together with the
    smallest other arm of that wave (complementary suppression: the total of clean rows
    minus the other arms would otherwise give the small count away).

    Examples
    --------
    >>> c = {"rows_clean": 9, "analysed": [{"arm": "t", "wave": "pre", "n": 6},
    ...      {"arm": "c", "wave": "pre", "n": 7}, {"arm": "typo", "wave": "pre", "n": 1}]}
    >>> [r["n"] for r in _published_counts(c, 5)["analysed"]]
    [None, 7, None]
    """
    out = {k: v for k, v in counts.items() if k != "analysed"}
    if "analysed" in counts:
        rows = [dict(r) for r in counts["analysed"]]
        hide = {i for i, r in enumerate(rows) if 0 < r["n"] < min_cell}
        for wave in {rows[i].get("wave") for i in hide}:
            in_wave = [i for i, r in enumerate(rows) if r.get("wave") == wave and r["n"] > 0]
            if len([i for i in in_wave if i in hide]) == 1:
                others = [i for i in in_wave if i not in hide]
                if others:
                    hide.add(min(others, key=lambda i: rows[i]["n"]))
        out["analysed"] = [{**r, "n": None, "suppressed": True} if i in hide else r
                           for i, r in enumerate(rows)]
    return out


def _validate(study, run_dir: Path, counts: dict):
    from survey.validation import validate

    result = validate(study)
    program = _program_data(study, result, run_dir)
    result.write(run_dir / "validation")
    counts.update(rows_read=int(result.rows_read), rows_clean=int(len(result.data)),
                  rows_quarantined=int(len(result.quarantine)), errors=int(result.errors),
                  warnings=int(result.warnings))
    if program is not None:
        counts["program"] = program.counts()["tables"]
    return result


def _program_data(study, result, run_dir: Path):
    """The study's archives and contact logs (issue 14), read and validated next to the
    survey data: ``data/contacts.parquet``, ``data/archives/*.parquet`` and
    ``quarantine/<table>.csv`` written, their issues added to the validation report, their
    raw ids and personal values to the scan. None (nothing written) for a study without."""
    from survey.archives import validate_program_data, write_program_data

    program = validate_program_data(study, result)
    if program is not None:
        write_program_data(program, run_dir)
    return program


def _score(study, validation, run_dir: Path):
    from survey.export import write_scored_data
    from survey.scoring import score

    scores = score(study, validation.data)
    write_scored_data(study, validation.data, scores, run_dir / "data")
    return scores


def _execute(own, overrides, standard, run_dir, jobs, report_mode, report, scratch=None,
             pool=None, renderer=None):
    """Run the notebooks; ``own`` maps each notebook to its declared parameters, and each
    gets the standard and ``-p`` parameters it declares."""
    tasks = []
    for nb, declared in own.items():
        params = {k: v for k, v in {**standard, **overrides}.items() if k in declared}
        check_injection_is_literal(params)
        tasks.append(NotebookTask(name=nb.stem, input=nb, output=run_dir / "notebooks" / nb.name,
                                  parameters=params, cwd=run_dir, report_mode=report_mode,
                                  expected_seconds=TYPICAL_SECONDS.get(nb.stem, 1.0),
                                  inline=nb.parent.resolve() == NOTEBOOK_DIR.resolve(),
                                  render=renderer.spec(nb.stem) if renderer is not None
                                  else None))

    if renderer is not None:
        # not beside a notebook that runs in this process (warning filters are the process's)
        renderer.plan_docx([t.name for t in tasks], bundled=all(t.inline for t in tasks)
                           and not (pool is not None and pool.inline))

    def progress(event, name, result):
        report.notebook_event(event, name, result)
        if renderer is not None:
            renderer.lane_event(event)
            if event == "done":
                renderer.submit(name, rendered=bool(result is not None and result.rendered))
                renderer.notebook_done(name)

    return run_notebooks(tasks, jobs=jobs, progress=progress, workdir=scratch, pool=pool)


class _Renderer:
    """Renders a notebook's HTML report as soon as the notebook is done, in one background
    thread, so that the reports overlap the notebooks still running. :meth:`wait` returns
    when a report is written and re-raises what went wrong (a full disk, ...)."""

    def __init__(self, run_dir: Path, report_mode: bool, lang: str, footer: dict | None = None,
                 study=None, scan_cache=None):
        from concurrent.futures import ThreadPoolExecutor

        self.run_dir, self.report_mode, self.lang, self.study = run_dir, report_mode, lang, study
        self.footer = footer
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports")
        self.futures: dict = {}
        # the run's files are searched for personal data while the notebooks still run, in
        # a thread of its own (survey.scanner.ScanCache); the final scan reads and hashes
        # every file and searches only those new or changed since
        self.scan_cache = scan_cache
        self.scanner = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
                        if scan_cache is not None else None)
        # The pipeline's own thread is a notebook lane (workbench.execute), and the pages are
        # rendered in this process too: a search shares their interpreter lock. It runs only
        # when neither needs it: not while this thread runs a notebook, nor while a page is
        # waiting or being rendered, nor after the notebooks (hold_searches: the final scan
        # then searches what is left in two processes).
        self.owner = threading.current_thread()
        self.may_search = threading.Event()
        self.may_search.set()
        self._state = threading.Lock()
        self._lane_busy = False
        self._rendering = 0
        self._held = False
        self._queued = threading.Event()  # a search is waiting to start
        self.forked: _ForkedSearch | None = None
        self._docx_waits: set | None = None  # notebooks tables.docx waits for (plan_docx)
        self._docx = None  # its future, once submitted

    def _update(self) -> None:
        if self._lane_busy or self._rendering or self._held:
            self.may_search.clear()
        else:
            self.may_search.set()

    def lane_event(self, event: str) -> None:
        """A notebook started or ended; the searches hold while this thread runs one."""
        if threading.current_thread() is self.owner:
            with self._state:
                self._lane_busy = event == "start"
                self._update()

    def hold_searches(self) -> None:
        """No more searches in this process (the notebooks are done; the pipeline's thread
        writes the index next, and the final scan searches the rest in two processes)."""
        with self._state:
            self._held = True
            self._update()

    def spec(self, name: str) -> dict:
        """How the lane that runs notebook ``name`` makes its page (``NotebookTask.render``):
        each lane renders the pages of its own notebooks, so that no page is rendered in a
        thread beside the notebook that ``workbench run`` itself runs."""
        return {"target": str(self.run_dir / "reports" / f"{name}.html"),
                "report_mode": self.report_mode,
                "title": notebook_title(name, self.lang, self.study),
                "footer": self.footer, "lang": self.lang}

    def plan_docx(self, names: list[str], bundled: bool) -> None:
        """Write ``reports/tables.docx`` as soon as the notebooks of this run that make its
        files (:data:`DOCX_SOURCES`) are done, in this process's page thread, while the
        other notebooks still run, instead of after all of them (about 0.9 s of CPU on the
        county example, mostly python-docx). Only for a run of the bundled notebooks (a
        study's own notebooks could write those files too) whose lanes are processes of their
        own (not beside a notebook in this process, which shares its warning filters); else
        the document waits for all notebooks (:meth:`tables_docx`)."""
        self._docx_waits = set(DOCX_SOURCES) & set(names) if bundled else None

    def notebook_done(self, name: str) -> None:
        with self._state:  # the lanes' threads call this
            if self._docx_waits is None or self._docx is not None:
                return
            self._docx_waits.discard(name)
            if not self._docx_waits:
                self._docx = self.pool.submit(_tables_docx_warning, self.run_dir)

    def tables_docx(self, warnings: list[str], start: bool = True) -> None:
        """Wait for the document started early (:meth:`plan_docx`), or write it now (unless
        not ``start``); a document that cannot be written is a warning (a full disk fails
        the run)."""
        future, self._docx = self._docx, None
        self._docx_waits = None
        if future is not None:
            said = future.result()
        else:
            said = _tables_docx_warning(self.run_dir) if start else None
        if said:
            warnings.append(said)

    def render(self, name: str) -> None:
        nb = self.run_dir / "notebooks" / f"{name}.ipynb"
        if nb.exists():
            render_html(nb, self.run_dir / "reports" / f"{name}.html",
                        report_mode=self.report_mode, title=notebook_title(name, self.lang, self.study),
                        footer=self.footer, lang=self.lang)

    def _render_counted(self, name: str) -> None:
        try:
            self.render(name)
        finally:
            with self._state:
                self._rendering -= 1
                self._update()

    def submit(self, name: str, rendered: bool = False) -> None:
        if rendered:  # the lane wrote the page; the search may cover it now
            from concurrent.futures import Future

            done: Future = Future()
            done.set_result(None)
            self.futures[name] = done
            if self.scanner is not None:
                self._search_later(done)
            return
        with self._state:
            self._rendering += 1
            self._update()
        self.futures[name] = self.pool.submit(self._render_counted, name)
        if self.scanner is not None:  # after the report: the search covers it too
            self.futures[name].add_done_callback(self._search_later)

    def _search_later(self, _future) -> None:
        if self._queued.is_set():  # a search not started yet will see this report too
            return
        self._queued.set()
        try:
            self.scanner.submit(self._search)
        except RuntimeError:  # stopped meanwhile: the final scan does it
            pass

    def _search(self) -> None:
        self._queued.clear()
        _lower_priority()
        self.scan_cache.search(self.run_dir, self.may_search)

    def stop_scanning(self) -> None:
        """Stop the searches at their next file and wait for the one under way; take the
        results of the forked search (:meth:`search_in_background`)."""
        if self.scanner is not None:
            self.scan_cache.stop()
            self.scanner.shutdown(wait=True, cancel_futures=True)
        if self.forked is not None:
            forked, self.forked = self.forked, None
            forked.collect()

    def search_in_background(self) -> None:
        """Search the files written so far in a forked process while this one writes the
        headline, ``tables.docx`` and the index (about 0.5 s of one core otherwise idle on
        the county example); :meth:`stop_scanning` takes what it found into the cache, and
        the final scan searches the rest."""
        from survey.scanner import can_fork

        if self.scan_cache is None or not can_fork():
            return
        self.stop_scanning()  # this process's search thread ends first: a quiet cache to fork
        self.forked = _ForkedSearch(self.scan_cache, self.run_dir)

    def wait(self, name: str) -> None:
        future = self.futures.pop(name, None)
        if future is None:
            self.render(name)
        else:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.stop_scanning()


class _ForkedSearch:
    """A forked process that searches a run folder's files for personal data
    (:meth:`survey.scanner.ScanCache.search`) until :meth:`collect` stops it at its next file
    and takes what it found into the cache. What it found is a file's name, hash and kinds
    of findings (never a value), sent back through a pipe; the values it searches for are
    the parent's own memory, copied by the fork. A file that changes after it was searched
    has another hash, so the final scan searches it again."""

    def __init__(self, cache, run_dir: Path):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.cache = cache
        self._results, send = ctx.Pipe(duplex=False)
        self._stop = ctx.RawValue("b", 0)  # shared memory, no lock (a dead waiter cannot block)
        self._proc = ctx.Process(target=_forked_search, args=(cache, run_dir, send, self._stop),
                                 name="workbench-scan", daemon=True)
        self._proc.start()
        send.close()

    def collect(self, timeout: float = 30.0) -> int:
        """Stop the search at its next file; put its results into the cache; returns how
        many files it searched (0 if it failed: the final scan then searches them)."""
        self._stop.value = 1
        found: dict = {}
        try:
            if self._results.poll(timeout):
                found = self._results.recv()
        except (EOFError, OSError):
            found = {}
        finally:
            self._results.close()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
        for key, value in found.items():
            self.cache.results.setdefault(key, value)
        return len(found)


def _forked_search(cache, run_dir: Path, send, stop) -> None:
    """In the forked process: search ``run_dir`` with a copy of ``cache`` until ``stop``
    (a shared byte) is 1, then send back the results it added."""
    from survey.scanner import ScanCache, child_signals

    child_signals()
    mine = ScanCache(cache.sensitive, cache.key_file)
    mine.results = dict(cache.results)
    mine.matcher = cache.matcher

    class _UntilStopped:  # ScanCache.search's may_run: asked before every file
        @staticmethod
        def wait(timeout=None) -> bool:
            if stop.value:
                mine.stop()
            return True

    try:
        mine.search(run_dir, _UntilStopped())
    finally:
        send.send({k: v for k, v in mine.results.items() if k not in cache.results})
        send.close()


def _reports(study, results, entries, run_dir: Path, renderer, failures: list[str],
             warnings: list[str], lang: str | None = None, sensitive=None, counts=None,
             footer=None):
    """Wait for the reports, write ``reports/summary.md`` and ``index.html`` (headline
    first); returns the :class:`evaluation.headline.Headline` (None if it failed: a warning).
    Once the notebooks' pages are written, their files are searched for personal data in a
    forked process meanwhile (:meth:`_Renderer.search_in_background`)."""
    lang = lang or study.language
    limits = []
    if sensitive is not None:  # what the privacy scan at the end cannot check, said plainly
        from survey.scanner import scan_limits

        limits = scan_limits(sensitive).limits(lang)
    rerun = {r.name for r in results}
    index_entries = []
    for e in entries:
        name = e["name"]
        nb = run_dir / "notebooks" / f"{name}.ipynb"
        html = run_dir / "reports" / f"{name}.html"
        if name in rerun and nb.exists():
            renderer.wait(name)
        # the index shows a not-applicable notebook from its status file (an execution
        # success); the reasons travel along for an index that takes them from the entry
        item = {"name": name, "href": f"{name}.html" if html.exists() else None,
                "status": "success" if e["status"] == "not_applicable" else e["status"],
                "seconds": e.get("seconds")}
        if e["status"] == "not_applicable":
            item["not_applicable"] = True
        for key in ("reason_en", "reason_zh", "run_id", "run_started_at", "kept_from_run"):
            if e.get(key) is not None:
                item[key] = e[key]
        index_entries.append(item)
    renderer.search_in_background()
    title = study.title.get(lang) or study.title.get("en") or study.id if isinstance(
        study.title, dict) else str(study.title)
    headline = _headline(run_dir, counts, warnings, renderer)
    write_index(run_dir / "reports" / "index.html", title=title, study_id=study.id,
                status="failed" if failures else "success", entries=index_entries, lang=lang,
                notes=list(failures) + list(warnings) + limits, headline=headline,
                footer=footer, study=study)
    return headline


def _headline(run_dir: Path, counts, warnings: list[str], renderer: _Renderer):
    """The run's headline from its tables (:func:`evaluation.headline.headline`), written to
    ``reports/summary.md``; a headline that cannot be computed is a warning, not a failure
    (the tables and reports stand). Then ``reports/tables.docx``
    (:meth:`_Renderer.tables_docx`, which may have started it already), unless the headline
    failed."""
    from evaluation.headline import headline, write_summary

    try:
        h = headline(run_dir, counts=counts)
    except Exception as err:  # noqa: BLE001 - the run's outputs stand without a headline
        warnings.append(f"headline: not computed ({type(err).__name__}: {err})")
        renderer.tables_docx(warnings, start=False)  # a document started early stands
        return None
    write_summary(h, run_dir / "reports" / "summary.md")
    renderer.tables_docx(warnings)
    return h


#: The bundled notebooks whose files ``reports/tables.docx`` shows (table1.csv and
#: balance.csv, effects.csv, reliability.csv, figures/consort.png; see
#: :func:`evaluation.word_export.tables_for_run`).
DOCX_SOURCES = ("00_data_quality", "01_reliability", "02_baseline", "03_effects")


def _tables_docx_warning(run_dir: Path) -> str | None:
    """Write ``reports/tables.docx``: Table 1, the effects and reliability tables and the
    CONSORT figure for a paper (:func:`evaluation.word_export.write_tables_docx`); returns
    the warning when the document cannot be written (a full disk raises: it fails the run
    like every other write)."""
    from evaluation.word_export import write_tables_docx

    try:
        write_tables_docx(run_dir)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001 - the run's outputs stand without the document
        return f"tables.docx: not written ({type(err).__name__}: {err})"
    return None


def _key_file(study) -> Path | None:
    key_file = Path(study.root) / ".workbench-key"
    return key_file if key_file.exists() else None


def _scan_cache(study, sensitive):
    """The cache of the run's privacy scan (:class:`survey.scanner.ScanCache`)."""
    from survey.scanner import ScanCache

    return ScanCache(sensitive, _key_file(study))


def _scan_and_finish(study, run_dir: Path, sensitive, manifest: dict, failures: list[str],
                     t_start: float, scratch: Path, carried: dict, cache=None) -> dict:
    """The last step: scan every file, remove those with findings, then write the manifest
    and scan it too; a manifest with a finding has its paths replaced by hashes.

    Nothing is written after this but the manifest's short hash in the pages' footers
    (:func:`workbench.manifest.stamp_reports`: 12 hex digits in place of a 12-byte
    placeholder, so the pages keep the sizes the manifest lists): the manifest's
    ``privacy`` entry describes the scan of the other files, and the manifest itself is
    the last file written and scanned.
    """
    from survey.scanner import scan_folder

    key_file = _key_file(study)
    (run_dir / "manifest.json").unlink(missing_ok=True)  # the "running" one; rewritten below
    if cache is not None and (cache.sensitive is not sensitive or cache.key_file != key_file):
        cache = None
    result = scan_folder(run_dir, sensitive, key_file=key_file, cache=cache)
    findings = [{"file": f, "kind": k} for f, k in result.findings]
    for f in sorted({x["file"] for x in findings}):
        target = run_dir / f
        if target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    from survey.scanner import MIN_ID_LENGTH

    scan = {"scan": "passed" if not findings else "failed", "findings": findings,
            "files_scanned": result.files_scanned + 1,
            "skipped_short_ids": result.skipped_short_ids,
            "skipped_short_values": result.skipped_short_values,
            "min_id_length": MIN_ID_LENGTH,
            "checked_everything": result.checked_everything,
            "limits": result.limits("en"), "limits_zh": result.limits("zh")}
    manifest["privacy"] = scan
    if findings:
        failures.append("privacy scan: personal data or raw ids found in "
                        + ", ".join(sorted({f['file'] for f in findings}))
                        + " (removed from the output)")
    manifest["status"] = "failed" if failures else "success"
    manifest["finished_at"] = mf.now()
    manifest["seconds"] = round(time.perf_counter() - t_start, 3)
    manifest["outputs"] = mf.list_outputs(run_dir)
    manifest["publication"] = mf.PUBLICATION_NOTE  # data/ is child-level: not for sharing
    _mark_carried(manifest["outputs"], run_dir, carried)
    check = Path(scratch) / "manifest-check"
    check.mkdir(exist_ok=True)
    for attempt in ("as is", "redacted"):
        mf.write_manifest(check / "manifest.json", manifest)
        if not scan_folder(check, sensitive, key_file=key_file).findings:
            break
        if attempt == "as is":
            _redact_paths(manifest)
            manifest["privacy"]["manifest"] = "paths replaced by hashes"
    else:  # still a finding: publish a manifest that holds no text from the study
        manifest.clear()
        manifest.update(status="failed", workbench={}, study={},
                        failures=["privacy scan: manifest.json held personal data or raw ids "
                                  "and was reduced to this"])
        failures.append(manifest["failures"][0])
        mf.write_manifest(check / "manifest.json", manifest)
    os.replace(check / "manifest.json", run_dir / "manifest.json")
    # the pages' footers show the manifest's short hash: 12 hex digits in place of the
    # 12-byte placeholder the scan read (sizes as listed; nothing else changes)
    mf.stamp_reports(run_dir)
    return scan


def _redact_paths(manifest: dict) -> None:
    """Replace every path and argument from the user's file system by a short hash."""
    def token(text) -> str:
        return "sha256:" + hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:16]

    for entry in manifest.get("inputs") or []:
        if entry.get("path") is not None:
            entry["path"] = token(entry["path"])
            entry["path_redacted"] = True
    if manifest.get("study", {}).get("path"):
        manifest["study"]["path"] = token(manifest["study"]["path"])
    argv = (manifest.get("command") or {}).get("argv")
    if argv:
        manifest["command"]["argv"] = [token(a) for a in argv]


__all__ = ["run_study", "RunResult", "available_notebooks", "select_notebooks", "OutputError",
           "describe_issue"]

"""``workbench run``: from a study folder to figures, tables and HTML reports.

validate -> score -> execute the notebooks (papermill, in parallel) -> HTML
reports and ``index.html`` -> privacy scan of the whole output -> ``manifest.json``.
Everything is written into a staging folder that is moved into place at the end
(:mod:`workbench.staging`), so an interrupted run never looks complete. A failing
notebook does not stop the others; the manifest and the exit code say which
failed and why.

Output layout (users and other tools rely on it)::

    manifest.json
    validation/report.json  validation/quarantine.csv
    data/scores.parquet  data/scores.csv  data/scores.sav  data/items.parquet
    tables/*.csv   figures/*.png *.svg   notebooks/*.ipynb   reports/*.html reports/index.html
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench import manifest as mf
from workbench.execute import NotebookTask, run_notebooks
from workbench.params import (
    ParameterError,
    check_injection_is_literal,
    declared_parameters,
    parse_cli_parameters,
)
from workbench.progress import RunProgress
from workbench.reports import notebook_title, render_html, write_index
from workbench.staging import OutputError, StagedOutput, describe_os_error

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK_DIR_ENV = "WORKBENCH_NOTEBOOK_DIR"
STANDARD_PARAMETERS = ("study", "run_dir", "seed", "lang")


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


def _items_frame(study, data):
    cols = [study.design.id, study.design.wave]
    d = study.design
    cols += [c for c in ([d.arm] if d.arm else []) + list(d.clusters) + ([d.blocks] if d.blocks else [])]
    for use in study.instruments:
        cols += list(use.instrument.item_ids)
    cols = [c for i, c in enumerate(cols) if c in data.columns and c not in cols[:i]]
    return data[cols].reset_index(drop=True)


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

    Parameters
    ----------
    study_path : str or Path
        Study folder or its ``study.yaml``.
    out : str or Path, optional
        Output folder (default ``STUDY/output``).
    only : list of str, optional
        Run only these notebooks.
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
    study = load_study(study_path)
    out = Path(out) if out else Path(study.root) / "output"
    notebooks = select_notebooks(only, notebook_dir)
    declared = {}
    for nb in notebooks:
        for name, p in declared_parameters(nb).items():
            declared.setdefault(name, []).append(p)
    overrides = parse_cli_parameters(list(cli_parameters), declared)
    for reserved in ("study", "run_dir"):
        if reserved in overrides:
            raise ParameterError("PARAMETER_RESERVED", f"-p {reserved}: set by the workbench itself")
    run_seed = int(seed if seed is not None else overrides.get("seed", study.analysis.seed))

    manifest = {
        "status": "running",
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
    }
    failures: list[str] = manifest["failures"]
    staged = StagedOutput(out)  # last, so that nothing above can leave a staging folder
    run_dir = staged.path
    report = RunProgress(3 + len(notebooks) + 2, enabled=progress)

    def step(name, fn):
        report.start(name)
        t0 = time.perf_counter()
        status = "success"
        try:
            return fn()
        except Exception:
            status = "failed"
            raise
        finally:
            steps.append({"name": name, "status": status,
                          "seconds": round(time.perf_counter() - t0, 3)})
            report.finish(name, status)

    try:
        try:
            mf.write_manifest(run_dir / "manifest.json", manifest)
            validation = step("validate", lambda: _validate(study, run_dir))
            sensitive = validation.sensitive
            if validation.fatal:
                failures.append("validation: the data cannot be read or lack required columns "
                                "(see validation/report.json)")
                errors = [i for i in validation.issues if i.severity == "error"]
                failures.extend(f"validation: {i}" for i in errors[:5])
                if len(errors) > 5:
                    failures.append(f"validation: ... and {len(errors) - 5} more errors")
                results = []
            else:
                step("score", lambda: _score(study, validation, run_dir))
                for sub in ("tables", "figures", "notebooks", "reports"):
                    (run_dir / sub).mkdir(exist_ok=True)
                results = step("notebooks", lambda: _execute(
                    study, notebooks, declared, overrides, run_seed, run_dir, jobs,
                    report_mode, report, staged.scratch))
                for r in results:
                    manifest["notebooks"].append({"name": r.name, "status": r.status,
                                                  "seconds": r.seconds, "attempts": r.attempts,
                                                  "parameters": r.parameters, "error": r.error})
                    if r.status != "success":
                        failures.append(r.describe_error())
                    code = r.storage_errno()
                    if code is not None:  # disk full etc.: the output folder's fault
                        raise OSError(code, os.strerror(code), str(run_dir / "notebooks"))
                step("reports", lambda: _reports(study, results, run_dir, report_mode, failures))
            scan = step("privacy_scan", lambda: _scan(study, run_dir, sensitive))
            manifest["privacy"] = scan
            if scan["findings"]:
                failures.append("privacy scan: personal data or raw ids found in "
                                + ", ".join(sorted({f['file'] for f in scan['findings']}))
                                + " (removed from the output; declare the column in privacy.pii)")
        except OSError as err:
            staged.abort()
            raise describe_os_error(err, out, staging=run_dir) from None
        except BaseException:
            staged.abort()
            raise
        manifest["status"] = "failed" if failures else "success"
        manifest["finished_at"] = mf.now()
        manifest["seconds"] = round(time.perf_counter() - t_start, 3)
        manifest["outputs"] = mf.list_outputs(run_dir)
        mf.write_manifest(run_dir / "manifest.json", manifest)
        final = staged.commit()
    except OSError as err:
        staged.abort()
        raise describe_os_error(err, out, staging=run_dir) from None
    except BaseException:  # e.g. the output folder was replaced by something else meanwhile
        staged.abort()
        raise
    finally:
        report.close()
    return RunResult(manifest["status"], final, manifest, failures)


def _validate(study, run_dir: Path):
    from survey.validation import validate

    result = validate(study)
    result.write(run_dir / "validation")
    return result


def _score(study, validation, run_dir: Path):
    from survey.export import write_scores
    from survey.scoring import score

    scores = score(study, validation.data)
    write_scores(scores, run_dir / "data", study=study, items=_items_frame(study, validation.data))
    return scores


def _execute(study, notebooks, declared, overrides, seed, run_dir, jobs, report_mode, report,
             scratch=None):
    standard = {"study": str(Path(study.path).resolve()), "run_dir": ".", "seed": seed,
                "lang": study.language}
    tasks = []
    for nb in notebooks:
        own = declared_parameters(nb)
        params = {k: v for k, v in {**standard, **overrides}.items() if k in own}
        check_injection_is_literal(params)
        tasks.append(NotebookTask(name=nb.stem, input=nb, output=run_dir / "notebooks" / nb.name,
                                  parameters=params, cwd=run_dir, report_mode=report_mode))
    return run_notebooks(tasks, jobs=jobs, progress=report.notebook_event, workdir=scratch)


def _reports(study, results, run_dir: Path, report_mode: bool, failures: list[str]):
    lang = study.language
    entries = []
    for r in results:
        nb = run_dir / "notebooks" / f"{r.name}.ipynb"
        href = None
        if nb.exists():
            render_html(nb, run_dir / "reports" / f"{r.name}.html", report_mode=report_mode,
                        title=notebook_title(r.name, lang))
            href = f"{r.name}.html"
        entries.append({"name": r.name, "href": href, "status": r.status, "seconds": r.seconds})
    title = study.title.get(lang) or study.title.get("en") or study.id if isinstance(
        study.title, dict) else str(study.title)
    write_index(run_dir / "reports" / "index.html", title=title, study_id=study.id,
                status="failed" if failures else "success", entries=entries, lang=lang,
                notes=list(failures))


def _scan(study, run_dir: Path, sensitive) -> dict:
    from survey.scanner import scan_folder

    key_file = Path(study.root) / ".workbench-key"
    result = scan_folder(run_dir, sensitive, key_file=key_file if key_file.exists() else None)
    findings = [{"file": f, "kind": k} for f, k in result.findings]
    for f in sorted({x["file"] for x in findings}):
        target = run_dir / f
        if target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    return {"scan": "passed" if not findings else "failed", "findings": findings,
            "files_scanned": result.files_scanned,
            "skipped_short_ids": getattr(result, "skipped_short_ids", 0)}


__all__ = ["run_study", "RunResult", "available_notebooks", "select_notebooks", "OutputError"]

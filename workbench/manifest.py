"""``manifest.json``: what a run read, how it ran, and what it wrote.

Inputs are listed with sha256; outputs under ``data/``, ``tables/``,
``figures/`` and ``validation/`` with sha256 too (executed notebooks and HTML
carry execution times, so they are listed without hashes). Every HTML page shows the
manifest's own short hash in its footer (:func:`stamp_reports`, after the manifest is
written). Two runs of the same
inputs, parameters and seed give manifests that differ only in timings and
paths.

Each output says whether it may be shared (``publishable``): the child-level files
(``data/scores.*``, ``data/items.parquet``: one row per child with pseudonym, exact
age, gender, class and category answers; ``validation/``: quarantined rows and
findings per row; ``notebooks/``: the executed notebooks, kept for reproducibility)
are ``false``. ``workbench publish RUN DIR`` copies the publishable files only
(:data:`PUBLISHABLE_DIRS`), and the manifest's ``publication`` entry says so.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PACKAGES = ("survey-workbench", "pandas", "numpy", "scipy", "statsmodels", "matplotlib",
            "seaborn", "papermill", "nbconvert", "nbclient", "ipykernel", "pyarrow",
            "pyreadstat", "openpyxl", "jsonschema", "pyyaml")
HASHED_OUTPUT_DIRS = ("data", "tables", "figures", "validation")
HASHED_OUTPUT_FILES = ("study.json",)
"""Files at the top of a run that are hashed too: the study snapshot the notebooks read."""
PUBLISHABLE_DIRS = ("tables", "figures", "reports", "status")
"""Folders of a run that hold no child-level rows: what ``workbench publish`` copies."""
PUBLICATION_NOTE = {
    "publishable": list(PUBLISHABLE_DIRS) + ["manifest.json"],
    "not_for_publication": ["data", "validation", "notebooks"],
    "note": ("data/ holds child-level microdata (one row per child and wave: pseudonym, exact "
             "age, gender, class, category answers and scores), which can identify a child in "
             "a small class; validation/ lists rows and findings per child. They are kept for "
             "reproducibility and are not for publication. Share the folder written by "
             "`workbench publish RUN DIR` (tables, figures, HTML reports, this manifest)."),
    "note_zh": ("data/ 是儿童个体层面的数据（每名儿童每次测量一行：化名、准确年龄、性别、班级、"
                "类别回答和得分），在小班级中可能识别出儿童；validation/ 逐行列出问题。这些文件"
                "为可重复性而保留，不得公开。请分享 `workbench publish RUN DIR` 写出的文件夹"
                "（表格、图、HTML 报告和本清单）。"),
}
"""The manifest's ``publication`` entry."""


def publishable(rel: str) -> bool:
    """Whether an output (path relative to the run folder) may be shared.

    >>> publishable("tables/effects.csv"), publishable("data/scores.csv")
    (True, False)
    """
    return rel == "manifest.json" or rel.split("/", 1)[0] in PUBLISHABLE_DIRS


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(folder: Path) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def list_outputs(run_dir: Path) -> list[dict]:
    """Every file of the run folder, relative, with sha256 where it is deterministic and
    ``publishable`` (:func:`publishable`)."""
    files = []
    for p in sorted(run_dir.rglob("*")):
        if not p.is_file() or p.name == "manifest.json":
            continue
        rel = p.relative_to(run_dir).as_posix()
        entry = {"path": rel, "bytes": p.stat().st_size, "publishable": publishable(rel)}
        if rel.split("/", 1)[0] in HASHED_OUTPUT_DIRS or rel in HASHED_OUTPUT_FILES:
            entry["sha256"] = sha256_file(p)
        files.append(entry)
    return files


def environment() -> dict:
    return {"platform": platform.platform(), "python_executable": sys.executable,
            "packages": package_versions(),
            "blas_threads": _notebook_blas_threads()}


def _notebook_blas_threads() -> str:
    """The BLAS threads the notebooks run with: every lane, and ``workbench run`` itself
    when it is one, is given one (:data:`workbench.execute.SINGLE_THREAD_ENV`)."""
    from workbench.execute import SINGLE_THREAD_ENV

    return SINGLE_THREAD_ENV["OPENBLAS_NUM_THREADS"]


_STAMP = re.compile(rb'(<span class="manifest-sha256">)([0-9a-f]{12}|pending-hash)(</span>)')


def stamp_reports(run_dir: Path) -> str:
    """Write the short sha256 of ``RUN/manifest.json`` into the footer of every
    ``RUN/reports/*.html``; return the manifest's full sha256.

    The pages are written before the manifest (it lists them, and the privacy scan that
    it records reads them), so their footers hold a placeholder
    (:data:`workbench.reports.MANIFEST_HASH_PENDING`) or, for a page kept from an earlier
    run that ``--only`` updated, that run's hash; both are 12 ASCII bytes, as the 12 hex
    digits that replace them, so each page keeps the size the manifest records (pages are
    listed without a hash). The manifest is not changed. Pages are rewritten atomically.

    Examples
    --------
    >>> import tempfile
    >>> run = Path(tempfile.mkdtemp()); (run / "reports").mkdir()
    >>> _ = (run / "manifest.json").write_text('{"status": "success"}')
    >>> page = run / "reports" / "index.html"
    >>> _ = page.write_text('<span class="manifest-sha256">pending-hash</span>')
    >>> digest = stamp_reports(run)
    >>> page.read_text() == f'<span class="manifest-sha256">{digest[:12]}</span>'
    True
    """
    from core.atomic import write_bytes

    digest = sha256_file(Path(run_dir) / "manifest.json")
    short = digest[:12].encode("ascii")
    for page in sorted((Path(run_dir) / "reports").glob("*.html")):
        raw = page.read_bytes()
        new = _STAMP.sub(lambda m: m.group(1) + short + m.group(3), raw)
        if new != raw:
            assert len(new) == len(raw), page  # the size in the manifest stays true
            write_bytes(page, new)
    return digest


def write_manifest(path: Path, manifest: dict) -> None:
    """Write atomically (temp file + rename)."""
    from core.atomic import write_text

    write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")

"""``reports/tables.docx`` is written as soon as the notebooks that make its files are done
(issue 16): in the pipeline's page thread while the other notebooks still run, only for runs
of the bundled notebooks; the headline step then waits for it. A failure to write it is a
warning as before, a full disk fails the run."""

from __future__ import annotations

import errno
import threading

import pytest

from workbench import pipeline
from workbench.pipeline import DOCX_SOURCES, _Renderer

NAMES = ["06_delivery", "03_effects", "07_sensitivity", "01_reliability", "00_data_quality",
         "02_baseline", "05_power", "04_claims"]


@pytest.fixture
def calls(monkeypatch):
    made: list[str] = []

    def fake(run_dir):
        made.append(threading.current_thread().name)
        return None

    monkeypatch.setattr(pipeline, "_tables_docx_warning", fake)
    return made


def _renderer(tmp_path):
    return _Renderer(tmp_path, False, "en", None, None)


def test_starts_when_its_notebooks_are_done_and_not_before(tmp_path, calls):
    r = _renderer(tmp_path)
    r.plan_docx(NAMES, bundled=True)
    for name in NAMES:
        r.notebook_done(name)
        done = set(NAMES[:NAMES.index(name) + 1])
        if not set(DOCX_SOURCES) <= done:
            assert r._docx is None, name  # a source notebook still runs
    # 02_baseline (the last source) started it, in the page thread, before 05 and 04 ended
    r._docx.result()
    assert len(calls) == 1 and calls[0].startswith("reports")
    warnings: list[str] = []
    r.tables_docx(warnings)
    assert len(calls) == 1 and warnings == []  # waited for, not written again
    r.close()


def test_waits_for_all_notebooks_when_a_study_brings_its_own(tmp_path, calls):
    r = _renderer(tmp_path)
    r.plan_docx(NAMES, bundled=False)
    for name in NAMES:
        r.notebook_done(name)
    assert r._docx is None and calls == []
    r.tables_docx([])
    assert calls == [threading.current_thread().name]  # written at the end, here
    r.close()


def test_a_run_without_its_source_notebooks_starts_after_the_first(tmp_path, calls):
    r = _renderer(tmp_path)
    r.plan_docx(["04_claims", "05_power"], bundled=True)  # --only: the tables are carried
    assert r._docx is None
    r.notebook_done("04_claims")
    r._docx.result()
    assert len(calls) == 1
    r.close()


def test_failed_headline_keeps_an_early_document_and_starts_none(tmp_path, calls):
    r = _renderer(tmp_path)
    r.plan_docx([], bundled=True)
    r.tables_docx([], start=False)
    assert calls == []


def test_document_errors_reach_the_run(tmp_path, monkeypatch):
    def disk_full(run_dir):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "_tables_docx_warning", disk_full)
    r = _renderer(tmp_path)
    r.plan_docx(["01_reliability"], bundled=True)
    r.notebook_done("01_reliability")
    with pytest.raises(OSError):
        r.tables_docx([])
    r.close()

    monkeypatch.setattr(pipeline, "_tables_docx_warning", lambda run_dir: "tables.docx: not written")
    r = _renderer(tmp_path)
    r.plan_docx(["01_reliability"], bundled=True)
    r.notebook_done("01_reliability")
    warnings: list[str] = []
    r.tables_docx(warnings)
    assert warnings == ["tables.docx: not written"]
    r.close()

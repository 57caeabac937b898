"""The run's privacy scan with the pre-search wired in (issue 16): the reports thread has the
run folder searched while notebooks still run, and the final scan searches only what is new
or changed since. Its findings, removals and manifest entry equal a scan without the cache."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

from survey.privacy import SensitiveValues
from workbench.pipeline import _Renderer, _scan_and_finish, _scan_cache


def _until(condition, timeout: float = 10.0) -> bool:
    """Wait for a search thread's work (polling; False after ``timeout`` seconds)."""
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            return False
        time.sleep(0.02)
    return True


def _values():
    sv = SensitiveValues()
    sv.add("pii:姓名", ["王小明"])
    sv.add("raw_id", ["20230017"])
    return sv


def _finish(study, run_dir: Path, sv, cache=None):
    scratch = run_dir.parent / f"scratch-{run_dir.name}"
    scratch.mkdir()
    manifest, failures = {"status": "running"}, []
    scan = _scan_and_finish(study, run_dir, sv, manifest, failures, time.perf_counter(), scratch,
                            {}, cache=cache)
    return scan, failures, sorted(p.relative_to(run_dir).as_posix()
                                  for p in run_dir.rglob("*") if p.is_file())


def test_the_pre_searched_scan_equals_the_plain_scan(tmp_path):
    study = SimpleNamespace(root=str(tmp_path / "study"))
    run = tmp_path / "run"
    for sub in ("tables", "notebooks", "reports"):
        (run / sub).mkdir(parents=True)
    (run / "tables" / "clean.csv").write_text("id,score\np_1a2b,3.5\n", encoding="utf-8")
    (run / "tables" / "changed.csv").write_text("id,score\np_3c4d,2.5\n", encoding="utf-8")
    sv = _values()
    renderer = _Renderer(run, False, "en", None, None, scan_cache=_scan_cache(study, sv))
    renderer.submit("00_none")  # no notebook: no page; the folder is searched after it
    renderer.wait("00_none")
    assert _until(lambda: len(renderer.scan_cache.results) == 2)  # searched after the page
    # after the search: one file changes, one appears, both with personal data
    (run / "tables" / "changed.csv").write_text("id,score\n20230017,2.5\n", encoding="utf-8")
    (run / "tables" / "late.csv").write_text("name\n王小明\n", encoding="utf-8")
    plain = tmp_path / "plain"
    shutil.copytree(run, plain)
    renderer.stop_scanning()
    cached = _finish(study, run, sv, cache=renderer.scan_cache)
    renderer.close()
    assert renderer.scan_cache.hits >= 1  # clean.csv was not searched again
    expected = _finish(study, plain, sv)
    assert cached == expected
    scan, failures, files = cached
    assert scan["scan"] == "failed"
    assert {f["file"] for f in scan["findings"]} == {"tables/changed.csv", "tables/late.csv"}
    assert "tables/clean.csv" in files and "tables/late.csv" not in files
    assert "manifest.json" in files and failures


def test_a_cache_for_other_values_is_not_used(tmp_path):
    study = SimpleNamespace(root=str(tmp_path))
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    (run / "tables" / "a.csv").write_text("name\n王小明\n", encoding="utf-8")
    other = _scan_cache(study, SensitiveValues())
    other.search(run)  # found nothing: no values
    scan, _, _ = _finish(study, run, _values(), cache=other)
    assert [f["file"] for f in scan["findings"]] == ["tables/a.csv"]


def _renderer_on_a_run(tmp_path):
    """A run folder with one table, and a renderer whose searches look for ``_values()``."""
    study = SimpleNamespace(root=str(tmp_path))
    run = tmp_path / "run"
    for sub in ("tables", "notebooks", "reports"):
        (run / sub).mkdir(parents=True)
    (run / "tables" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    renderer = _Renderer(run, False, "en", None, None, scan_cache=_scan_cache(study, _values()))
    return run, renderer


def test_the_searches_wait_while_the_pipeline_thread_runs_a_notebook(tmp_path):
    run, renderer = _renderer_on_a_run(tmp_path)
    renderer.lane_event("start")  # this thread runs a notebook (the inline lane)
    renderer.submit("00_none")
    renderer.wait("00_none")
    time.sleep(0.4)
    assert renderer.scan_cache.results == {}  # held
    other = __import__("threading").Thread(target=renderer.lane_event, args=("start",))
    other.start()
    other.join()  # another lane's notebook does not hold the searches ...
    renderer.lane_event("done")  # ... this thread's notebook ended: the search goes on
    assert _until(lambda: len(renderer.scan_cache.results) == 1)
    renderer.lane_event("start")
    (run / "tables" / "b.csv").write_text("x\n2\n", encoding="utf-8")
    renderer._search_later(None)  # held: this thread runs a notebook again
    t0 = time.perf_counter()
    renderer.close()  # a held search ends when the run stops scanning
    assert time.perf_counter() - t0 < 2
    assert len(renderer.scan_cache.results) == 1  # b.csv is left to the final scan


def test_the_searches_wait_for_pages_and_stop_after_the_notebooks(tmp_path, monkeypatch):
    import threading

    run, renderer = _renderer_on_a_run(tmp_path)
    rendering = threading.Event()
    monkeypatch.setattr(renderer, "render", lambda name: rendering.wait(5))
    renderer.submit("00_slow")  # a page being rendered ...
    renderer._search_later(None)
    time.sleep(0.3)
    assert renderer.scan_cache.results == {}  # ... holds the search
    rendering.set()
    renderer.wait("00_slow")
    assert _until(lambda: len(renderer.scan_cache.results) == 1)
    renderer.hold_searches()  # the notebooks are done: no more searches here
    (run / "tables" / "b.csv").write_text("x\n2\n", encoding="utf-8")
    renderer._search_later(None)
    time.sleep(0.3)
    renderer.close()
    assert len(renderer.scan_cache.results) == 1


def test_the_forked_search_during_the_index_equals_the_plain_scan(tmp_path):
    """After the notebooks, a forked process searches the folder while the pipeline writes the
    index (_Renderer.search_in_background); its results reach the cache, a file written or
    changed after the fork is searched by the final scan, and the findings equal a plain
    scan's."""
    study = SimpleNamespace(root=str(tmp_path / "study"))
    run = tmp_path / "run"
    for sub in ("tables", "notebooks", "reports"):
        (run / sub).mkdir(parents=True)
    for i in range(30):
        (run / "tables" / f"t{i:02d}.csv").write_text(f"id,score\np_{i:04x},3.5\n",
                                                      encoding="utf-8")
    (run / "tables" / "named.csv").write_text("name\n王小明\n", encoding="utf-8")
    sv = _values()
    renderer = _Renderer(run, False, "en", None, None, scan_cache=_scan_cache(study, sv))
    renderer.hold_searches()            # the notebooks are done: no search in this process
    renderer.search_in_background()
    assert renderer.forked is not None
    # meanwhile the pipeline writes the index: one file changes, one appears
    (run / "tables" / "t00.csv").write_text("id,score\n20230017,2.5\n", encoding="utf-8")
    (run / "reports" / "index.html").write_text("<p>ok</p>", encoding="utf-8")
    plain = tmp_path / "plain"
    shutil.copytree(run, plain)
    assert _until(lambda: not renderer.forked._proc.is_alive(), 30)  # it searched everything
    renderer.stop_scanning()
    cache = renderer.scan_cache
    assert renderer.forked is None
    assert len(cache.results) >= 31     # the forked process's results came back
    hits_before = cache.hits
    scan, failures, files = _finish(study, run, sv, cache=cache)
    plain_scan, plain_failures, plain_files = _finish(study, plain, sv)
    assert scan == plain_scan and failures == plain_failures and files == plain_files
    assert {f["file"] for f in scan["findings"]} == {"tables/named.csv", "tables/t00.csv"}
    assert cache.hits - hits_before >= 30  # the unchanged files were not searched again


def test_a_forked_search_stopped_early_leaves_the_rest_to_the_final_scan(tmp_path, monkeypatch):
    import survey.scanner as scanner

    study = SimpleNamespace(root=str(tmp_path / "study"))
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    for i in range(20):
        (run / "tables" / f"t{i:02d}.csv").write_text(f"name\n{'王小明' if i == 19 else 'x'}\n",
                                                      encoding="utf-8")
    slow = scanner._FolderScan.search_file

    def search_file(self, path, shown):  # in the forked process: 0.2 s per file
        time.sleep(0.2)
        return slow(self, path, shown)

    monkeypatch.setattr(scanner._FolderScan, "search_file", search_file)
    sv = _values()
    renderer = _Renderer(run, False, "en", None, None, scan_cache=_scan_cache(study, sv))
    renderer.hold_searches()
    renderer.search_in_background()
    time.sleep(0.5)
    monkeypatch.setattr(scanner._FolderScan, "search_file", slow)
    t0 = time.perf_counter()
    renderer.stop_scanning()            # stops it at its next file
    assert time.perf_counter() - t0 < 5
    assert 0 < len(renderer.scan_cache.results) < 20
    scan, failures, _ = _finish(study, run, sv, cache=renderer.scan_cache)
    assert [f["file"] for f in scan["findings"]] == ["tables/t19.csv"]

"""The HTML reports as a reader sees them: headless Chromium renders every page of real runs.

Runs (module-scoped, started two at a time): both examples of :data:`EXAMPLES`
(``--report-mode``; the county trial in Chinese, the pre/post study in English) and three
zoo studies of different shapes (default mode, code shown): a one-group study over three
waves, a non-randomized comparison without clusters, and a cross-sectional comparison
with numeric ids whose primary outcome falls (lower is better). One Chromium process,
driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``: no port,
no extra package), opens every ``reports/*.html`` of every run at a 1280 px wide window
and, once the page has loaded, reads with a page script (:data:`PROBE`):

* the visible text: no ``NaN``, ``<NA>``, ``None``, ``Traceback``, ``Warning``, no stray
  object repr (``<Figure size ...>``, ``... object at 0x...``), and no absolute path (``/tmp``, ``/home``, ``/work``, ``/root``, ``/Users``, the run folder,
  the study folder);
* every ``<table>``: it does not overflow its container (``scrollWidth`` against
  ``clientWidth`` of the table's box and every ancestor up to the page, and the page
  itself has no horizontal scroll bar);
* every ``<img>``: loaded and decoded (``complete`` and ``naturalWidth > 0``);
* the reproducibility footer: the manifest's short hash equals ``sha256(manifest.json)``
  of the finished run;
* on ``index.html``: each outcome row of the headline shows the primary model's numbers
  of ``tables/effects.csv`` rounded (estimate, CI, standardized effect, p, adjusted p).

The county example's ``reports/tables.docx`` is opened with python-docx: it holds the four
captioned items, and its three tables hold the same cells as the tables on the pages.

Also: the index links every report; report-mode pages show no code while default-mode
pages do; a screenshot of the effects page is not blank.

Skipped, with the reason, when Chromium is not installed (``.ci/run`` installs Debian's
``chromium``, so the test runs in CI).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((p for p in (shutil.which(n) for n in CHROMIUM_NAMES) if p), None)

pytestmark = [
    pytest.mark.kernel, pytest.mark.slow,
    pytest.mark.xdist_group("zoo"),  # its zoo studies are test_zoo's runs (conftest zoo_runs)
    pytest.mark.skipif(CHROMIUM is None,
                       reason="headless Chromium not found (apt-get install chromium; "
                              ".ci/run installs it)"),
]

EXAMPLES = ("county-cluster-trial", "single-school-pre-post")
"""The examples whose every page is opened (the county one in its study's Chinese, the
single-school one in English: ``-p lang=en``). The zoo's controlled study stands for the
non-randomized comparison of ``examples/two-school-comparison``: each run costs CI time."""


# ------------------------------------------------------------------------------- Chromium

class Browser:
    """One headless Chromium, driven through the DevTools protocol on a pipe.

    Chromium reads commands (JSON, each ended by a NUL byte) on its fd 3 and writes
    answers and events on its fd 4 (``--remote-debugging-pipe``, as Puppeteer does).
    """

    def __init__(self, profile: Path, width: int = 1280, height: int = 900):
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()

        def child_fds():  # the child reads commands on fd 3 and writes answers on fd 4
            a, b = os.dup(cmd_r), os.dup(res_w)  # (a pipe end may itself be fd 3 or 4)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = open(profile.parent / f"{profile.name}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--remote-debugging-pipe", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             "--disable-extensions", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=child_fds, close_fds=False)  # noqa: PLW1509 - fds 3 and 4 must pass
        os.close(cmd_r)
        os.close(res_w)
        self.w, self.r = cmd_w, res_r
        self.buf = b""
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.width, self.height = width, height

    def _message(self, timeout: float) -> dict:
        end = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                raise TimeoutError(f"no answer from Chromium in {timeout} s")
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe (see the .log beside its profile)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        i = next(self.ids)
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            answer = self._message(timeout)
            if answer.get("id") == i:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def _event(self, method: str, session: str, timeout: float) -> dict:
        for k, e in enumerate(self.events):
            if e.get("method") == method and e.get("sessionId") == session:
                return self.events.pop(k)
        while True:
            msg = self._message(timeout)
            if msg.get("method") == method and msg.get("sessionId") == session:
                return msg
            self.events.append(msg)

    def evaluate(self, page: Path, expression: str, timeout: float = 60,
                 width: int | None = None):
        """Open ``page`` in a new tab (``width`` px wide, default the window's), wait for its
        load event, return ``expression``'s value."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": width or self.width, "height": self.height,
                       "deviceScaleFactor": 1, "mobile": False}, session=s)
            self.send("Page.enable", session=s)
            self.send("Page.navigate", {"url": page.resolve().as_uri()}, session=s)
            self._event("Page.loadEventFired", s, timeout)
            res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                 "awaitPromise": True}, session=s)
            if "exceptionDetails" in res:
                raise RuntimeError(f"{page.name}: the probe failed: {res['exceptionDetails']}")
            return res["result"]["value"]
        finally:
            self.send("Target.closeTarget", {"targetId": target})
            self.events = [e for e in self.events if e.get("sessionId") != s]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)
        self.log.close()


PROBE = r"""(() => {
  const name = (t) => {           // a table's title, else its header row, else its first row
    const cap = t.querySelector('caption, .gt_title');
    const row = t.querySelector('thead tr') || t.querySelector('tr');
    const s = cap ? cap.innerText : (row ? row.innerText.replace(/\s+/g, ' ') : '');
    return s.trim().slice(0, 80);
  };
  const overflows = [];
  document.querySelectorAll('table').forEach((t) => {
    if (!t.offsetParent && t.getClientRects().length === 0) return;   // not rendered
    const tw = Math.ceil(t.getBoundingClientRect().width);
    for (let el = t.parentElement; el && el !== document.documentElement; el = el.parentElement) {
      if (el.clientWidth === 0) continue;                               // inline boxes
      if (el.scrollWidth > el.clientWidth + 1 || tw > el.clientWidth + 1) {
        overflows.push({table: name(t), container: el.tagName.toLowerCase() + '.' +
                        String(el.className || '').split(' ')[0], table_width: tw,
                        scroll_width: el.scrollWidth, client_width: el.clientWidth});
        break;
      }
    }
  });
  const images = Array.from(document.images).map((i) => ({
    src: (i.getAttribute('src') || '').slice(0, 40), complete: i.complete,
    width: i.naturalWidth, height: i.naturalHeight}));
  const hash = document.querySelector('.manifest-sha256');
  const headline = Array.from(document.querySelectorAll('section.hl-main tr[data-outcome]'))
    .map((tr) => ({outcome: tr.getAttribute('data-outcome'), arm: tr.getAttribute('data-arm'),
                   cells: Array.from(tr.querySelectorAll('td.num')).map((td) => td.innerText)}));
  const tables = Array.from(document.querySelectorAll('.wb-table table')).map((t) => ({
    title: (t.querySelector('.gt_title') || {innerText: ''}).innerText.trim(),
    head: Array.from(t.querySelectorAll('thead th.gt_col_heading'))
      .map((c) => c.innerText.trim()),
    body: Array.from(t.querySelectorAll('tbody tr'))
      .map((r) => Array.from(r.querySelectorAll('td, th')).map((c) => c.innerText.trim()))}));
  // the text without code inputs (default mode shows code: `None` is a keyword there)
  const inputs = Array.from(document.querySelectorAll('.jp-InputArea, .jp-InputPrompt'));
  const full = document.body.innerText;
  inputs.forEach((e) => { e.dataset.display = e.style.display; e.style.display = 'none'; });
  const shown = document.body.innerText;
  inputs.forEach((e) => { e.style.display = e.dataset.display; });
  return {title: document.title, text: full, output_text: shown,
          page_scroll: document.documentElement.scrollWidth,
          page_width: document.documentElement.clientWidth,
          overflows: overflows, images: images, headline: headline, tables: tables,
          manifest_hash: hash ? hash.textContent.trim() : null,
          code_inputs: document.querySelectorAll(
            '.jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .jp-CodeCell .highlight').length,
          links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href'))};
})()"""


# ------------------------------------------------------------------------------- the runs

def _zoo_cases() -> dict[str, dict]:
    """Three zoo shapes: one group over three waves; non-randomized groups without clusters;
    numeric ids with an outcome that falls (lower is better), here a cross-sectional survey
    in English."""
    from zoo import zoo_cases

    cases = zoo_cases("pairwise")
    wanted = {
        "pre_post_3_waves": lambda c: c["design"] == "pre_post" and c["waves"] == 3,
        "controlled_no_clusters": lambda c: c["design"] == "controlled" and c["clusters"] == 0,
        "numeric_ids_falling": lambda c: (c["id_style"] in ("num5", "num8")
                                          and c["direction"] == "lower_down"
                                          and c["design"] not in ("pre_post", "controlled")),
    }
    picked, used = {}, set()
    for key, test in wanted.items():  # English first: the examples are in Chinese
        case = next(c for c in sorted(cases, key=lambda c: c["language"] != "en")
                    if test(c) and c["id"] not in used)
        picked[key] = case
        used.add(case["id"])
    return picked


def _run(study: Path, out: Path, report_mode: bool, lang: str | None = None) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "workbench", "run", str(study), "--out", str(out),
           "--no-progress", "--jobs", "2"] + (["--report-mode"] if report_mode else []) + (
               ["-p", f"lang={lang}"] if lang else [])
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    return res.returncode, res.stdout[-3000:] + res.stderr[-3000:]


def run_all(base: Path, *, simulate: bool = True, execute: bool = True,
            zoo_runs=None) -> dict[str, dict]:
    """Run the examples into ``base``, two at a time, and the zoo studies; return
    ``{name: {"study", "out", "report_mode", "lang", "rc", "log"}}`` (``rc`` None when not
    executed: the outputs already in ``base`` are used).

    With ``zoo_runs`` (the session fixture of tests/conftest.py) the zoo studies are the
    session's shared runs (tests/test_zoo.py runs the same cases the same way); without,
    they are simulated into ``base`` (unless ``simulate`` is false) and run here."""
    from zoo import case_args

    from workbench.cli import main

    jobs = {}
    for k, name in enumerate(EXAMPLES):  # the last one in English (both studies say zh)
        jobs[name] = {"study": ROOT / "examples" / name, "report_mode": True,
                      "lang": "en" if k == len(EXAMPLES) - 1 else None}
    shared = {}
    for key, case in _zoo_cases().items():
        if zoo_runs is not None:
            shared[f"zoo:{key}"] = (case, zoo_runs(case))
            continue
        study = base / f"zoo-{key}"
        if simulate:
            assert main(["simulate", str(study), *case_args(case)]) == 0
        jobs[f"zoo:{key}"] = {"study": study, "report_mode": False, "lang": None,
                              "case": case["id"]}
    for k, job in enumerate(jobs.values()):
        job["out"], job["rc"], job["log"] = base / f"out-{k}", None, ""
    if execute:
        with ThreadPoolExecutor(max_workers=2) as pool:  # two runs at a time, 2 kernels each
            futures = {name: pool.submit(_run, job["study"], job["out"], job["report_mode"],
                                         job["lang"]) for name, job in jobs.items()}
            for name, job in jobs.items():
                job["rc"], job["log"] = futures[name].result()
    for name, (case, res) in shared.items():
        assert res["simulate_exit"] == 0, name
        jobs[name] = {"study": res["study"], "out": res["out"], "report_mode": False,
                      "lang": None, "case": case["id"], "rc": res["returncode"],
                      "log": res["stdout"][-3000:] + res["stderr"][-3000:]}
    return jobs


@pytest.fixture(scope="module")
def runs(tmp_path_factory, zoo_runs) -> dict[str, dict]:
    """Every run of this module (:func:`run_all`; the zoo studies shared with test_zoo)."""
    t0 = time.perf_counter()
    jobs = run_all(tmp_path_factory.mktemp("browser"), zoo_runs=zoo_runs)
    print(f"\nbrowser: {len(jobs)} runs in {time.perf_counter() - t0:.0f} s")
    return jobs


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(runs, browser) -> dict[tuple[str, str], dict]:
    """What Chromium rendered: ``{(run, page file name): probe result}``."""
    out = {}
    t0 = time.perf_counter()
    for name, job in runs.items():
        for page in sorted((job["out"] / "reports").glob("*.html")):
            out[(name, page.name)] = browser.evaluate(page, PROBE)
    print(f"browser: {len(out)} pages rendered in {time.perf_counter() - t0:.1f} s")
    return out


def _runs_ok(runs) -> None:
    bad = {n: j["log"][-1500:] for n, j in runs.items() if not (j["out"] / "reports").is_dir()}
    assert not bad, f"runs without reports: {bad}"


# ------------------------------------------------------------------------------- checks

FORBIDDEN = re.compile(r"\bNaN\b|<NA>|\bNone\b(?!\s+of\b)|Traceback|Warning"
                       r"|<Figure size|<matplotlib\.|<IPython\.|<great_tables\.| object at 0x")
"""Raw values, errors, warnings and stray reprs of objects (``None of ...`` in an English
sentence is prose)."""
ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:tmp|home|work|root|Users|var|private|mnt)/[^\s'\"<>)]*")


def _bad_text(seen: dict, *paths: Path) -> list[str]:
    """Raw values, errors and warnings in the page's output (code inputs excluded: default
    mode shows code); absolute paths anywhere, code included."""
    found = []
    text, output = seen["text"], seen["output_text"]
    for m in itertools.chain(((output, m) for m in FORBIDDEN.finditer(output)),
                             ((text, m) for m in ABSOLUTE.finditer(text))):
        text_, m = m
        a, b = max(0, m.start() - 60), min(len(text_), m.end() + 60)
        found.append(f"{m.group(0)!r} in …{text_[a:b]!r}…")
    for p in paths:
        for variant in {str(p), str(p.resolve())}:
            if variant in text:
                found.append(f"the path {variant}")
    return found


def test_every_run_wrote_its_pages(runs):
    """Each run has an index and a page per notebook (a failed notebook still has a page);
    failed runs are named here, and their pages are still checked below."""
    _runs_ok(runs)
    for name, job in runs.items():
        pages = {p.name for p in (job["out"] / "reports").glob("*.html")}
        assert "index.html" in pages and len(pages) >= 4, (name, sorted(pages))
    failed = {n: j["log"][-800:] for n, j in runs.items() if j["rc"] != 0}
    assert not failed, f"runs that failed: {failed}"


def test_no_raw_values_errors_warnings_or_absolute_paths(runs, pages):
    problems = {}
    for (name, page), seen in pages.items():
        bad = _bad_text(seen, runs[name]["out"], runs[name]["study"])
        if bad:
            problems[f"{name}/{page}"] = bad[:6]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_no_table_overflows_its_container(pages):
    problems = {}
    for (name, page), seen in pages.items():
        bad = list(seen["overflows"])
        if seen["page_scroll"] > seen["page_width"] + 1:
            bad.append({"page": f"scrollWidth {seen['page_scroll']} > {seen['page_width']}"})
        if bad:
            problems[f"{name}/{page}"] = bad[:6]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_index_pages_fit_a_phone(runs, browser):
    """The index page is the one a counsellor opens, maybe on a phone: at 400 px its
    headline tables wrap instead of running off the screen."""
    problems = {}
    for name, job in runs.items():
        seen = browser.evaluate(job["out"] / "reports" / "index.html", PROBE, width=400)
        bad = list(seen["overflows"])
        if seen["page_scroll"] > seen["page_width"] + 1:
            bad.append({"page": f"scrollWidth {seen['page_scroll']} > {seen['page_width']}"})
        if bad:
            problems[name] = bad[:4]
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_every_image_has_loaded(pages):
    problems = {f"{n}/{p}": [i for i in seen["images"] if not (i["complete"] and i["width"] > 0)]
                for (n, p), seen in pages.items()}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, problems
    assert sum(len(s["images"]) for s in pages.values()) > 10  # the pages do hold figures


def test_footer_shows_the_hash_of_the_finished_manifest(runs, pages):
    problems = {}
    for (name, page), seen in pages.items():
        manifest = runs[name]["out"] / "manifest.json"
        digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
        shown = seen["manifest_hash"]
        if not shown or not digest.startswith(shown) or len(shown) < 12:
            problems[f"{name}/{page}"] = f"footer {shown!r}, sha256(manifest.json) {digest[:12]}"
    assert not problems, problems


def _number(text: str) -> float:
    return float(text.replace("\u2212", "-").replace("+", "").strip())


def _shown(cell: str) -> list[str]:
    """The numbers of a headline cell: ``+0.22\n0.03 – 0.42`` -> ['0.22', '0.03', '0.42']."""
    if cell.strip().startswith("<"):
        return ["<.001"]
    return re.findall(r"[-\u2212+]?\d*\.\d+|[-\u2212+]?\d+", cell)


def _shown_value(x: float) -> float:
    """The number the index shows for an estimate or limit: 2 decimals, except that a value
    that would round to zero keeps its sign (``published_table.fixed_nonzero``)."""
    from evaluation.published_table import fixed_nonzero

    return _number(_shown(fixed_nonzero(float(x)))[0])


def _p(x: float) -> str | float:
    return "<.001" if x < 0.001 else round(float(f"{x:.3f}"), 3)


def test_headline_numbers_equal_effects_csv_rounded(runs, pages):
    checked = 0
    problems = []
    for name, job in runs.items():
        fx_path = job["out"] / "tables" / "effects.csv"
        seen = pages.get((name, "index.html"))
        if seen is None or not fx_path.is_file():
            continue
        fx = pd.read_csv(fx_path)
        prim = fx[fx["primary"].astype(str).str.lower().isin(("true", "1"))]
        rows = seen["headline"]
        assert len(rows) == len(prim), (name, rows, prim[["outcome", "arm", "model"]])
        for row in rows:
            cand = prim[prim["outcome"] == row["outcome"]]
            if row.get("arm") is not None and "arm" in cand:
                cand = cand[cand["arm"].astype(str) == row["arm"]]
            # the adjusted p: its first line (the family is named under it); a dash for a
            # family of one, which has no adjustment (p_adjusted == p_value)
            adj = row["cells"][3].strip().split("\n")[0].strip()
            cells = [_shown(c) for c in row["cells"][:3]] + [["–"] if adj in ("–", "-")
                                                             else _shown(adj)]
            page_values = [[v if v in ("<.001", "–") else _number(v) for v in c] for c in cells]
            matches = []
            for _, r in cand.iterrows():
                want = [[_shown_value(r[c]) for c in ("estimate", "ci_low", "ci_high")],
                        [_shown_value(r[c]) for c in
                         ("effect_size", "effect_size_ci_low", "effect_size_ci_high")],
                        [_p(r["p_value"])],
                        ["–"] if cells[3] == ["–"] and r["p_adjusted"] == r["p_value"]
                        else [_p(r["p_adjusted"])]]
                matches.append(want == page_values)
            if not any(matches):
                problems.append((name, row, cand[["estimate", "ci_low", "ci_high", "effect_size",
                                                  "p_value", "p_adjusted"]].to_dict("records")))
            checked += 1
    assert not problems, problems
    assert checked >= 5  # county (3 outcomes), pre-post, zoo studies with effects


def _docx_rows(table) -> list[tuple[str, ...]]:
    """The rows of a Word table; a row of one merged cell (a row group) as a 1-tuple."""
    out = []
    for r in table.rows:
        cells = [c.text.strip() for c in r.cells]
        out.append((cells[0],) if len(cells) > 1 and len(set(cells)) == 1 else tuple(cells))
    return out


def test_tables_docx_holds_the_four_items_with_the_cells_of_the_pages(runs, pages):
    """``tables.docx`` of the county run opens with python-docx, holds Table 1, the effects
    and the reliability table and the CONSORT figure, captioned; each Word table has the
    column labels and body cells of the table of the same title on the pages."""
    import docx

    name = "county-cluster-trial"
    doc = docx.Document(runs[name]["out"] / "reports" / "tables.docx")
    captions = [p.text for p in doc.paragraphs if re.match(r"^(表|图|Table |Figure )\d", p.text)]
    assert len(captions) == 4 and len(doc.tables) == 3 and len(doc.inline_shapes) == 1, captions
    assert re.match(r"^(图|Figure )1", captions[3]) and "CONSORT" in captions[3]
    html_tables = [t for (n, _), seen in pages.items() if n == name for t in seen["tables"]]
    for caption, table in zip(captions, doc.tables):
        title = re.sub(r"^(表\d+\s*|Table \d+\.\s*)", "", caption)
        found = [t for t in html_tables if t["title"] == title]
        assert found, (f"{caption!r}: no table titled {title!r} on the pages of {name}; "
                       f"titles: {[t['title'] for t in html_tables]}")
        rows = _docx_rows(table)
        page = found[0]
        header = {c for r in rows[:2] for c in r}
        assert page["head"] and set(page["head"]) <= header, (caption, rows[:2], page["head"])
        body = [tuple(r) for r in page["body"]]
        assert len(body) >= 2, (caption, body)
        assert rows[-len(body):] == body, (caption, rows[-len(body):][:4], body[:4])
        assert any(re.search(r"\d\.\d\d", c) for r in body for c in r), body[:3]


def test_report_mode_hides_code_and_default_mode_shows_it(runs, pages):
    """The examples ran with ``--report-mode`` (no code on their pages), the zoo studies
    without it (their notebook pages show code: the first check can fail)."""
    shown = {(n, p): s["code_inputs"] for (n, p), s in pages.items() if p != "index.html"}
    for (name, page), count in shown.items():
        if runs[name]["report_mode"]:
            assert count == 0, (name, page)
            assert "run.write_table(" not in pages[(name, page)]["text"], (name, page)
    assert any(c > 0 for (n, _), c in shown.items() if not runs[n]["report_mode"])


def test_index_links_every_report(runs, pages):
    for name, job in runs.items():
        links = [h for h in pages[(name, "index.html")]["links"] if h.endswith(".html")]
        written = sorted(p.name for p in (job["out"] / "reports").glob("*.html")
                         if p.name != "index.html")
        assert sorted(links) == written, (name, links, written)


def test_screenshot_of_a_report_is_not_blank(runs, tmp_path):
    from PIL import Image

    shot = tmp_path / "effects.png"
    page = runs["county-cluster-trial"]["out"] / "reports" / "03_effects.html"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1100,1800", "--virtual-time-budget=5000", f"--screenshot={shot}",
           page.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert shot.is_file(), res.stderr[-1500:]
    img = Image.open(shot).convert("L")
    assert img.size == (1100, 1800)
    hist = img.histogram()
    dark = sum(hist[:128]) / (img.size[0] * img.size[1])
    assert dark > 0.005, "the screenshot is (nearly) blank"
    assert len([h for h in hist if h]) > 50, "the screenshot has too few grey levels"

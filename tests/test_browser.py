"""The HTML reports as a reader sees them: headless Chromium renders ``reports/index.html``
and a report of a real ``workbench run``, and the test checks the rendered page.

One run per test module (the tiny study of ``conftest.py``, notebooks ``00_data_quality``
and ``03_effects``, ``--report-mode``). Each page is copied with a small probe script that,
once the page has loaded, writes what the browser rendered into the DOM (title, every image
with its decoded size, the visible text, how many code inputs are shown); ``--dump-dom``
then returns it. A screenshot is taken too and must not be blank.

Skipped, with the reason, when Chromium is not installed (``.ci/run`` installs Debian's
``chromium``, so the test runs in CI).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_tiny_study

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((p for p in (shutil.which(n) for n in CHROMIUM_NAMES) if p), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (apt-get install chromium; .ci/run installs it)")

PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {src: i.getAttribute('src').slice(0, 22), width: i.naturalWidth,
            height: i.naturalHeight, complete: i.complete};
  });
  var code = document.querySelectorAll(
    '.jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .jp-CodeCell .highlight').length;
  var stderr = document.querySelectorAll(
    '[data-mime-type="application/vnd.jupyter.stderr"]').length;
  var links = Array.prototype.map.call(document.querySelectorAll('a[href]'),
                                       function (a) { return a.getAttribute('href'); });
  var pre = document.createElement('pre');
  pre.id = '__probe__';
  pre.textContent = JSON.stringify({title: document.title, images: imgs, code_inputs: code,
                                    stderr_outputs: stderr, links: links,
                                    text: document.body.innerText});
  document.documentElement.appendChild(pre);
});
</script>
"""

ERROR_WORDS = ("Traceback", "Error", "Exception", "错误")


def chromium(*args: str, profile: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def rendered(page: Path, profile: Path) -> dict:
    """Open a copy of ``page`` (same folder, so relative links work) with the probe and
    return what the browser rendered."""
    html = page.read_text(encoding="utf-8")
    at = html.rfind("</body>")
    assert at > 0, f"{page.name}: no </body>"
    probe_page = page.with_name(f"_probe_{page.name}")
    probe_page.write_text(html[:at] + PROBE + html[at:], encoding="utf-8")
    try:
        # virtual time: the page's own scripts (from a CDN in nbconvert's template, unreachable
        # offline) may not hold the dump back
        res = chromium("--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri(),
                       profile=profile)
    finally:
        probe_page.unlink()
    m = re.search(r'<pre id="__probe__">(.*?)</pre>', res.stdout, re.S)
    assert m, f"Chromium rendered no probe for {page.name} (exit {res.returncode}): " \
              f"{res.stderr[-1500:]}"
    text = (m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&amp;", "&"))
    return json.loads(text)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """One ``workbench run --report-mode`` of the tiny study (two notebooks)."""
    base = tmp_path_factory.mktemp("browser")
    study = write_tiny_study(base / "tiny")
    out = base / "out"
    res = subprocess.run(
        [sys.executable, "-m", "workbench", "run", str(study), "--out", str(out),
         "--only", "00_data_quality", "03_effects", "--report-mode", "--no-progress",
         "--jobs", "2"],
        capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chromium-profile")


def test_index_page_renders_and_links_every_report(run_folder, profile):
    page = rendered(run_folder / "reports" / "index.html", profile)
    assert page["title"] == "Tiny trial"
    assert "Run status: success" in page["text"]
    reports = [h for h in page["links"] if h.endswith(".html")]
    assert reports == ["00_data_quality.html", "03_effects.html"]
    for href in reports:
        assert (run_folder / "reports" / href).is_file(), href
    assert "Data quality" in page["text"] and "Intervention effects" in page["text"]
    assert not [w for w in ERROR_WORDS if w in page["text"]]


def test_effects_report_renders_figures_without_code_or_errors(run_folder, profile):
    page = rendered(run_folder / "reports" / "03_effects.html", profile)
    assert page["title"] == "Intervention effects"
    assert "Intervention effects" in page["text"]
    figures = [i for i in page["images"] if i["src"].startswith("data:image/png")]
    assert figures, "no figure in the report"
    for img in figures:  # decoded by the browser, not just present in the HTML
        assert img["complete"] and img["width"] > 100 and img["height"] > 50, img
    assert not [w for w in ERROR_WORDS if w in page["text"]], page["text"][:3000]
    # --report-mode: no code is shown, and none of it is in the visible text
    assert page["code_inputs"] == 0
    assert "run.write_table(" not in page["text"] and "import " not in page["text"]


def test_report_without_report_mode_shows_code(run_folder, profile, tmp_path):
    """The check above can fail: the same executed notebook rendered with code shows it."""
    from workbench.reports import render_html

    target = run_folder / "reports" / "_with_code.html"
    render_html(run_folder / "notebooks" / "03_effects.ipynb", target, report_mode=False,
                title="with code")
    try:
        page = rendered(target, profile)
    finally:
        target.unlink()
    assert page["code_inputs"] > 0
    assert "run.write_table(" in page["text"]


def test_screenshot_of_a_report_is_not_blank(run_folder, profile, tmp_path):
    from PIL import Image

    shot = tmp_path / "effects.png"
    res = chromium("--window-size=1100,1800", "--virtual-time-budget=10000",
                   f"--screenshot={shot}", (run_folder / "reports" / "03_effects.html").as_uri(),
                   profile=profile)
    assert shot.is_file(), res.stderr[-1500:]
    img = Image.open(shot).convert("L")
    assert img.size == (1100, 1800)
    hist = img.histogram()
    dark = sum(hist[:128]) / (img.size[0] * img.size[1])
    assert dark > 0.005, "the screenshot is (nearly) blank"
    assert len([h for h in hist if h]) > 50, "the screenshot has too few grey levels to hold a figure"

"""HTML reports contact no third-party server."""

import nbformat
import pandas as pd
import pytest

from workbench.reports import render_html


def test_report_html_loads_no_remote_script(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 报告 Report"), nbformat.v4.new_code_cell("1 + 1")]
    src = tmp_path / "n.ipynb"
    nbformat.write(nb, str(src))
    page = render_html(src, tmp_path / "n.html", report_mode=True, title="报告").read_text(
        encoding="utf-8")
    assert "<title>报告</title>" in page
    assert 'src="http' not in page and "cdnjs" not in page.split("mermaid")[0]


def _index(tmp_path, entries, lang="en"):
    from workbench.reports import write_index

    (tmp_path / "reports").mkdir(exist_ok=True)
    return write_index(tmp_path / "reports" / "index.html", title="T", study_id="s",
                       status="success", entries=entries, lang=lang).read_text(encoding="utf-8")


def test_index_shows_not_applicable_with_the_reason_in_the_run_language(tmp_path):
    from evaluation.run_folder import not_applicable

    not_applicable("03_effects", "No comparison group (`design.arm`).", "没有对照组。",
                   run_dir=tmp_path)
    not_applicable("05_power", "No outcomes.", "没有结局。", run_dir=tmp_path)
    entries = [{"name": "01_reliability", "href": "01_reliability.html", "status": "success"},
               {"name": "03_effects", "href": "03_effects.html", "status": "success"},
               {"name": "05_power", "href": None, "status": "failed"}]  # failure wins
    en = _index(tmp_path, entries)
    rows = en.split("<tbody>")[1].split("</tr>")
    assert 'class="ok">success<' in rows[0]
    assert 'class="na">not applicable<' in rows[1]
    assert "No comparison group (<code>design.arm</code>)." in rows[1]
    assert 'class="failed">failed<' in rows[2] and "No outcomes" not in rows[2]
    zh = _index(tmp_path, entries, lang="zh")
    assert 'class="na">不适用<' in zh and "没有对照组。" in zh and "No comparison" not in zh
    assert 'class="ok">成功<' in zh and 'class="failed">失败<' in zh


def test_index_ignores_an_unreadable_status_file(tmp_path):
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / "03_effects.json").write_text("{not json", encoding="utf-8")
    page = _index(tmp_path, [{"name": "03_effects", "href": None, "status": "success"}])
    assert 'class="ok">success<' in page


def test_report_of_a_not_applicable_notebook_ends_with_the_reason(tmp_path):
    from evaluation.run_folder import NOT_APPLICABLE_MARK

    nb = nbformat.v4.new_notebook()
    said = nbformat.v4.new_code_cell("run.not_applicable(...)")
    said.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": "**不适用 · Not applicable.** Why not."},
        metadata={NOT_APPLICABLE_MARK: True})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Effects"), said,
                nbformat.v4.new_markdown_cell("## Skipped section heading"),
                nbformat.v4.new_code_cell("if not why: ...")]
    src = tmp_path / "n.ipynb"
    nbformat.write(nb, str(src))
    page = render_html(src, tmp_path / "n.html", report_mode=True, title="E").read_text(
        encoding="utf-8")
    assert "Why not." in page and "Effects" in page
    assert "Skipped section heading" not in page
    nb.cells[1].outputs[0]["metadata"] = {}  # an ordinary page keeps every cell
    nbformat.write(nb, str(src))
    page = render_html(src, tmp_path / "n.html", report_mode=True, title="E").read_text(
        encoding="utf-8")
    assert "Skipped section heading" in page


def test_index_takes_the_reason_from_the_entry_too(tmp_path):
    entries = [{"name": "04_claims", "href": None, "status": "success", "not_applicable": True,
                "reason_en": "No claims.", "reason_zh": "没有结论。"},
               {"name": "05_power", "href": None, "status": "not_applicable",
                "reason_en": "No outcomes.", "reason_zh": "没有结局。"}]
    page = _index(tmp_path, entries)
    assert page.count('class="na">not applicable<') == 2
    assert "No claims." in page and "No outcomes." in page


# -- issue 12: headline first, reproducibility footer, clean pages ---------------------------

FOOTER = {"version": "0.1.0", "git_commit": "566489bcb84471782b63ce366e1c06590f037ed5",
          "seed": 20240609, "run_id": "1b2bd945af14",
          "inputs": [{"path": "study.yaml", "sha256": "c194f39de084"},
                     {"path": "data/baseline.csv", "sha256": "524a2a260f47"}]}


def _headline(tmp_path, language="en"):
    """The headline of a hand-made run of the county study (tests/test_headline.py)."""
    from test_headline import COUNTY, _run

    from evaluation.headline import headline

    return headline(_run(tmp_path / "hl", COUNTY, language=language))


def _visible_text(page: str) -> str:
    """The page without styles, scripts and tags (what a reader can read)."""
    import re

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_index_opens_with_the_headline_in_the_run_language(tmp_path, lang):
    from workbench.reports import write_index

    h = _headline(tmp_path, lang)
    (tmp_path / "reports").mkdir()
    entries = [{"name": "03_effects", "href": "03_effects.html", "status": "success",
                "seconds": 11.2349}]
    page = write_index(tmp_path / "reports" / "index.html", title="T", study_id="s",
                       status="success", entries=entries, lang=lang, headline=h,
                       footer=FOOTER).read_text(encoding="utf-8")
    other = "zh" if lang == "en" else "en"
    main = page.index(f'<section id="headline-{lang}" lang="{lang}" class="headline hl-main">')
    alt = page.index(f'<section id="headline-{other}" lang="{other}" class="headline hl-alt">')
    reports = page.index("<tbody>")
    assert alt < main < reports  # the other language first in the source: the CSS toggle
    assert f'href="#headline-{other}"' in page and f'href="#headline-{lang}"' in page
    assert ".hl-alt {{" not in page and ".hl-alt:target ~ .hl-main" in page
    shown = page[main:reports]
    word = "无法确定" if lang == "zh" else "Inconclusive"
    assert f'<span class="badge b-inconclusive">{word}</span>' in shown
    for number in ("+0.22", "+0.03 – +0.42", "+0.35", ".026", ".078", "-0.97", ".998"):
        assert number in shown, number
    assert ("越低越好" if lang == "zh" else "lower is better") in shown
    assert "<td>11.2</td></tr>" in page  # seconds to 1 decimal
    assert '<span class="run-id">1b2bd945af14</span>' in page
    assert "<script" not in page  # the toggle needs no script


def test_index_without_a_headline_still_lists_the_reports(tmp_path):
    page = _index(tmp_path, [{"name": "01_reliability", "href": "01_reliability.html",
                              "status": "success", "seconds": 2.0}])
    assert "headline" not in page and "<td>2.0</td></tr>" in page


def _notebook_with_noise(tmp_path, path_shown: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import warnings; warnings.warn('x')")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            f"{path_shown}/site-packages/matplotlib/x.py:12: UserWarning: Glyph missing\n")),
        nbformat.v4.new_output("stream", name="stdout", text="42 children\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Effects"), cell]
    src = tmp_path / "n.ipynb"
    nbformat.write(nb, str(src))
    return src


@pytest.mark.parametrize("report_mode", [True, False])
def test_report_pages_carry_the_footer_and_no_warning_or_path(tmp_path, report_mode):
    src = _notebook_with_noise(tmp_path, str(tmp_path / "venv"))
    footer = dict(FOOTER, inputs=FOOTER["inputs"] + [
        {"path": str(tmp_path / "raw" / "endline.csv"), "sha256": "1007d0065b65"}])
    page = render_html(src, tmp_path / "n.html", report_mode=report_mode, title="E",
                       footer=footer, lang="en").read_text(encoding="utf-8")
    text = _visible_text(page)
    assert "42 children" in text  # stdout stays
    assert "Warning" not in text and "Traceback" not in text
    assert str(tmp_path) not in page  # neither the warning's path nor an input's
    foot = page[page.index('<footer class="wb-repro"'):]
    assert foot.index("</footer>") < foot.index("</body>")
    for shown in ("Survey Workbench 0.1.0", '<span class="git-commit">566489b</span>',
                  "seed 20240609", '<span class="run-id">1b2bd945af14</span>',
                  "study.yaml c194f39de084", "data/baseline.csv 524a2a260f47",
                  "endline.csv 1007d0065b65", "manifest.json"):
        assert shown in foot, shown


def test_the_footer_speaks_the_run_language_and_shows_no_absolute_path():
    from workbench.reports import _shown_path, footer_data, footer_html

    zh = footer_html(FOOTER, "zh")
    assert "随机种子 20240609" in zh and "运行编号" in zh
    data = footer_data({"run_id": "r", "seed": 1, "workbench": {"version": "v",
                                                               "git_commit": None},
                        "inputs": [{"path": "/home/li/raw/a.csv", "sha256": "ab" * 32},
                                   {"path": "C:\\Users\\li\\b.csv", "missing": True}]})
    assert [i["path"] for i in data["inputs"]] == ["a.csv", "b.csv"]
    assert data["inputs"][0]["sha256"] == "ab" * 6
    assert "unknown" in footer_html(data, "en")  # no commit recorded
    assert _shown_path("data/pre.csv") == "data/pre.csv"


def test_a_failing_cell_still_shows_where_it_failed(tmp_path):
    """Only stderr streams are dropped: a failing notebook's error output stays."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1/0")
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                           evalue="division by zero", traceback=["boom"])]
    nb.cells = [cell]
    src = tmp_path / "n.ipynb"
    nbformat.write(nb, str(src))
    page = render_html(src, tmp_path / "n.html", report_mode=True, title="E").read_text(
        encoding="utf-8")
    assert "ZeroDivisionError" in page or "boom" in page


@pytest.mark.kernel
@pytest.mark.parametrize("report_mode", [True, False])
def test_an_executed_notebook_with_warnings_renders_clean(tmp_path, report_mode):
    """A real kernel: a warning (and a path on stderr) never reach the page, in both modes;
    the parameters cell shows only ``run_dir = "."``."""
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell('run_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import sys, warnings\n"
        "warnings.warn('careful: ' + sys.executable)\n"
        "print('stderr noise', sys.prefix, file=sys.stderr)\n"
        "print('the answer')")]
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, str(src))
    pm.execute_notebook(str(src), str(out), parameters={"run_dir": "."}, progress_bar=False,
                        cwd=str(tmp_path), kernel_name="python3")
    page = render_html(out, tmp_path / "out.html", report_mode=report_mode, title="E",
                       footer=FOOTER).read_text(encoding="utf-8")
    import sys

    text = _visible_text(page)
    assert "the answer" in text
    assert "Warning" not in text and "Traceback" not in text
    assert "stderr noise" not in text.split("print")[-1]  # the output, not the code
    if report_mode:
        assert "careful" not in text
    assert sys.prefix not in page and sys.executable not in page and str(tmp_path) not in page
    if not report_mode:
        assert "run_dir" in text and "/" not in text.split("run_dir", 1)[1].split("\n")[0]


def test_pre_post_index_says_change_with_the_banner_and_never_effective(tmp_path):
    from test_headline import _row, _run

    from evaluation.headline import headline
    from workbench.reports import headline_html

    claims = pd.DataFrame([{"claim": "82% improved", "claimed_proportion": 0.82, "n": 61,
                            "ci_low": 0.7053, "ci_high": 0.8962, "null_proportion": 0.5,
                            "verdict": "x", "claim_id": "comm-82", "has_comparison": False}])
    rows = [_row("communication", 0.25, 0.10, 0.40, 0.002, 0.002, model="change_cr2",
                 arm=None)]
    h = headline(_run(tmp_path, rows, design="pre_post", claims=claims))
    en = headline_html(h, "en", main=True)
    assert en.index('class="banner"') < en.index('class="lead"') < en.index("<table")
    assert "Change (points)" in en and "d_z" in en
    assert 'b-improved">Improved (change, not effect)<' in en
    assert "Effective:" not in en  # the rules line names the badge this design can get
    assert "No comparison group: cannot show that the program caused it." in en
    zh = headline_html(h, "zh", main=True)
    assert "有改善（变化，非效果）" in zh and "没有对照组" in zh and "单组前后测" in zh


def test_stamp_writes_the_manifest_hash_into_every_footer_and_keeps_the_sizes(tmp_path):
    """Pages are written before manifest.json; stamp_reports puts its short sha256 in each
    footer (a new page's placeholder and a kept page's earlier hash alike), byte for byte
    the same size, and leaves other text alone."""
    import hashlib

    from workbench.manifest import stamp_reports
    from workbench.reports import MANIFEST_HASH_PENDING, footer_html

    reports = tmp_path / "reports"
    reports.mkdir()
    fresh = footer_html(FOOTER, "zh")
    assert f'<span class="manifest-sha256">{MANIFEST_HASH_PENDING}</span>' in fresh
    kept = fresh.replace(MANIFEST_HASH_PENDING, "0123456789ab")  # from an earlier run
    (reports / "a.html").write_text(f"<html><body><p>pending-hash</p>{fresh}</body></html>",
                                    encoding="utf-8")
    (reports / "b.html").write_text(f"<html><body>{kept}</body></html>", encoding="utf-8")
    (reports / "c.html").write_text("<html><body>no footer</body></html>", encoding="utf-8")
    (tmp_path / "manifest.json").write_text('{"status": "success"}\n', encoding="utf-8")
    sizes = {p.name: p.stat().st_size for p in reports.iterdir()}
    digest = stamp_reports(tmp_path)
    assert digest == hashlib.sha256(b'{"status": "success"}\n').hexdigest()
    assert {p.name: p.stat().st_size for p in reports.iterdir()} == sizes
    for name in ("a.html", "b.html"):
        page = (reports / name).read_text(encoding="utf-8")
        assert f'<span class="manifest-sha256">{digest[:12]}</span>' in page, name
        assert "0123456789ab" not in page
    assert "<p>pending-hash</p>" in (reports / "a.html").read_text(encoding="utf-8")
    assert (reports / "c.html").read_text(encoding="utf-8") == "<html><body>no footer</body></html>"
    assert "manifest.json 的 sha256" in fresh and "manifest.json sha256" in footer_html(FOOTER)


@pytest.mark.kernel
def test_every_page_of_a_finished_run_shows_the_sha256_of_its_manifest(tmp_path):
    """A real run (the tiny study, one notebook): the short hash in the footer of every page
    is the sha256 of the run's manifest.json, and the manifest's page sizes are true."""
    import hashlib
    import json
    import re

    from conftest import write_tiny_study

    from workbench.cli import main

    study = write_tiny_study(tmp_path / "tiny")
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--only", "00_data_quality",
                 "--no-progress", "--jobs", "1"]) == 0
    manifest = (out / "manifest.json").read_bytes()
    digest = hashlib.sha256(manifest).hexdigest()
    pages = sorted((out / "reports").glob("*.html"))
    assert [p.name for p in pages] == ["00_data_quality.html", "index.html"]
    for page in pages:
        shown = re.findall(r'<span class="manifest-sha256">([^<]*)</span>',
                           page.read_text(encoding="utf-8"))
        assert shown == [digest[:12]], (page.name, shown, digest)
    listed = {o["path"]: o["bytes"] for o in json.loads(manifest)["outputs"]}
    for page in pages:
        assert listed[f"reports/{page.name}"] == page.stat().st_size, page.name


def test_effects_page_title_follows_what_the_design_estimates():
    from types import SimpleNamespace as NS

    from core.design import Design
    from workbench.reports import notebook_title

    pre = NS(design=Design(type="pre_post", id="id", waves=("t0", "t1")), language="zh")
    ctl = NS(design=Design(type="controlled", id="id", waves=("t0", "t1"), arm="arm",
                           control="c"), language="en")
    assert notebook_title("03_effects", "en") == "Intervention effects"  # without a study
    assert notebook_title("03_effects", "zh", pre) == "变化"
    assert notebook_title("03_effects", "en", ctl) == "Adjusted differences"
    assert notebook_title("02_baseline", "en", ctl) == "Baseline and balance"

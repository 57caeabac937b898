"""HTML reports contact no third-party server."""

import nbformat

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

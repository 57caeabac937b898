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

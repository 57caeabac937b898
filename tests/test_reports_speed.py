"""The HTML export's shortcut (issue 16): highlighted code that bleach would return unchanged
skips bleach, and every page is byte for byte what nbconvert's own exporter writes."""

from __future__ import annotations

import random

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import clean_html

from workbench.reports import _clean_html, _exporter, _is_plain_code_html

SOURCES = [
    "import pandas as pd\nx = {'a': 1, \"b\": [1.5, -2e-3]}  # 注释 ＆ & < >\n",
    "s = '王小明 &amp; &nbsp; \\t \\x00'\nprint(f'{s!r:>10}')\n",
    "# <script>alert(1)</script>\n%matplotlib inline\n!ls -la | head\n",
    "def f(a, /, *b, **c):\n    return a @ b if a else ~c  # ©®™ € \U0001F600\n",
    "",
    "x = 1\r\ny = 2\r\n",
    "z = '\u200b\ufeff\xa0\u3000'\n",
]


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Title & <b>bold</b> 王小明"))
    for k, src in enumerate(SOURCES):
        cell = nbformat.v4.new_code_cell(src, execution_count=k + 1)
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            "text/html": f"<table><tr><td>{k} &amp; é</td></tr></table>", "text/plain": str(k)})]
        nb.cells.append(cell)
    return nb


@pytest.mark.parametrize("report_mode", [False, True])
def test_the_pages_are_those_of_nbconvert(report_mode):
    reference = HTMLExporter(template_name="lab")
    reference.exclude_input = reference.exclude_input_prompt = report_mode
    reference.exclude_output_prompt = report_mode
    nb = _notebook()
    expected, _ = reference.from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    got, _ = _exporter(report_mode).from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    assert got == expected
    if not report_mode:
        assert "hl-ipython3" in got


def test_highlighted_code_takes_the_shortcut_and_equals_bleach():
    highlight = Highlight2HTML(pygments_lexer="ipython3", parent=HTMLExporter())
    for src in SOURCES[:5]:
        html = highlight(src, metadata={})
        assert _is_plain_code_html(html), html
        assert _clean_html(html) == clean_html(html) == html


def test_anything_else_goes_to_bleach():
    for text in ['<div class="x"><pre>\nx</pre></div>', "<span>a</div>", "<span>a",
                 "a\r\nb", "a\x00b", "&nbsp;", "<b>x</b>", '<span class="a" id="b">x</span>',
                 "<span onclick=\"x\">y</span>", "a < b"]:
        assert not _is_plain_code_html(text), text
        assert _clean_html(text) == clean_html(text)


def test_random_texts_are_cleaned_as_bleach_cleans_them():
    highlight = Highlight2HTML(pygments_lexer="ipython3", parent=HTMLExporter())
    rng = random.Random(16)
    alphabet = list("abz09 _=+-*/()[]{}:;,.'\"#\\\n\t&<>!%") + [
        "王", "＆", "\u3000", "\xa0", "\r", "\x00", "\x0b", "\x85", "\ufeff", "é", "&amp;",
        "&nbsp;", "&#39;", "<pre>", "</span>", "<span>", "\ufffe"]
    shortcut = 0
    for _ in range(300):
        src = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for text in (highlight(src, metadata={}), src, f'<div class="h"><pre>{src}</pre></div>'):
            shortcut += _is_plain_code_html(text)
            assert _clean_html(text) == clean_html(text), repr(text)
    assert shortcut > 100  # the shortcut was taken, and agreed

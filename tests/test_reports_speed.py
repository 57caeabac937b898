"""The HTML export's shortcuts (issue 16): highlighted code that bleach would return unchanged
skips bleach and is set aside from BeautifulSoup, and every page is byte for byte what
nbconvert's own exporter writes."""

from __future__ import annotations

import random

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import clean_html

from workbench.reports import _as_soup_writes, _clean_html, _export, _is_plain_code_html

SOURCES = [
    "import pandas as pd\nx = {'a': 1, \"b\": [1.5, -2e-3]}  # 注释 ＆ & < >\n",
    "s = '王小明 &amp; &nbsp; \\t \\x00'\nprint(f'{s!r:>10}')\n",
    "# <script>alert(1)</script>\n%matplotlib inline\n!ls -la | head\n",
    "def f(a, /, *b, **c):\n    return a @ b if a else ~c  # ©®™ € \U0001F600\n",
    "",
    "x = 1\r\ny = 2\r\n",
    "z = '\u200b\ufeff\xa0\u3000'\n",
    "\n\n   a  =  1   \n\n\t\n",
    "html = '<!--wb-code-0--> <div class=\"x\"><pre>&quot;</pre></div>'\n",
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
    got = _export(nb, report_mode, "t")
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


def test_code_set_aside_is_put_back_as_beautifulsoup_writes_it():
    highlight = Highlight2HTML(pygments_lexer="ipython3", parent=HTMLExporter())
    rng = random.Random(7)
    alphabet = list("ab09 _=+-'\"#\n\t&<>") + ["王", "\xa0", "&quot;", "&#39;", "&amp;quot;"]
    texts = [highlight(src, metadata={}) for src in SOURCES]
    texts += ['<div class="  a   b "><pre><span class=" n ">&quot;x&#39;</span>  </pre></div>',
              '<div class=""><pre><span class="">a</span></pre></div>']
    for _ in range(200):
        src = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        texts.append(f'<div class=" highlight hl-x"><pre><span></span>{src}</pre></div>')
    checked = 0
    for text in texts:
        core = text.strip(" \n\t")
        if _is_plain_code_html(core):
            checked += 1
            assert _as_soup_writes(core) == str(BeautifulSoup(core, features="html.parser"))
    assert checked > 30


def test_a_page_holding_a_mark_is_exported_again_without_setting_aside(monkeypatch):
    import uuid
    from types import SimpleNamespace

    nb = _notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("a mark: <!--wb-code-fixed-0-->"))
    monkeypatch.setattr(uuid, "uuid4", lambda: SimpleNamespace(hex="fixed"))
    reference = HTMLExporter(template_name="lab")
    expected, _ = reference.from_notebook_node(nb, resources={"metadata": {"name": "t"}})
    assert "<!--wb-code-fixed-0-->" in expected
    assert _export(nb, False, "t") == expected

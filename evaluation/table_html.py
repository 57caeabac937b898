"""The HTML of a published table, written directly: the markup great_tables writes.

:meth:`evaluation.published_table.PublishedTable.to_html` used to build a great_tables
``GT`` object and call ``as_raw_html``; great_tables spends about 70 ms a table on
per-cell pandas look-ups (escaping every unformatted cell one ``iloc`` at a time) and
0.2-0.3 s importing itself in every notebook. The tables it is given are always the same
shape: already formatted string cells, one level of column spanners, optional row groups,
a title and source notes, fixed options. :func:`table_html` writes that markup itself,
byte for byte what great_tables |version| writes for such a table (the element ids, the
``headers`` of each body cell, the whitespace and the compiled CSS included), from plain
lists, in well under a millisecond a table.

What great_tables would do differently (units syntax ``{{...}}`` in a label, duplicate or
empty spanner labels, spanners over columns that are not adjacent and in order) is not
handled here: :func:`supported` says so and the caller then renders through great_tables.
``tests/test_table_html.py`` renders tables of every shape through both and compares the
bytes, so an upgrade of great_tables that changes its markup fails that test (and
:data:`GT_VERSION` names the release this mirrors).

Examples
--------
>>> html = table_html("wb0", "Effects", ["Outcome", "p"], ["left", "center"], [],
...                   [["communication", "0.026"]], None, ["p: two-sided."])
>>> html.splitlines()[0]
'<div id="wb0" style="padding-left:0px;padding-right:0px;padding-top:10px;padding-bottom:10px;overflow-x:visible;overflow-y:auto;width:100%;height:auto;">'
>>> '<td headers="wb0-c1" class="gt_row gt_center">0.026</td>' in html
True
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Sequence

__all__ = ["GT_VERSION", "supported", "table_html"]

GT_VERSION = "1.1.0"
"""The great_tables release whose markup :func:`table_html` writes."""

_ID = "__TABLE_ID__"

# great_tables' compiled CSS (``_scss.compile_scss``) for the options that
# ``PublishedTable.gt`` sets, with the table id written as ``__TABLE_ID__``.
_CSS_LINES = (
    '#__TABLE_ID__ table {',
    "          font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Oxygen, Ubuntu, Cantarell, 'Helvetica Neue', 'Fira Sans', 'Droid Sans', Arial, sans-serif;",
    '          -webkit-font-smoothing: antialiased;',
    '          -moz-osx-font-smoothing: grayscale;',
    '        }',
    '',
    '#__TABLE_ID__ thead, tbody, tfoot, tr, td, th { border-style: none; }',
    ' tr { background-color: transparent; }',
    '#__TABLE_ID__ p { margin: 0; padding: 0; }',
    ' #__TABLE_ID__ .gt_table { display: table; border-collapse: collapse; line-height: normal; margin-left: auto; margin-right: auto; color: #333333; font-size: 14px; font-weight: normal; font-style: normal; background-color: #FFFFFF; width: 100%; border-top-style: solid; border-top-width: 2px; border-top-color: #A8A8A8; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #A8A8A8; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_caption { padding-top: 4px; padding-bottom: 4px; }',
    ' #__TABLE_ID__ .gt_title { color: #333333; font-size: 125%; font-weight: initial; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; border-bottom-color: #FFFFFF; border-bottom-width: 0; }',
    ' #__TABLE_ID__ .gt_subtitle { color: #333333; font-size: 85%; font-weight: initial; padding-top: 3px; padding-bottom: 5px; padding-left: 5px; padding-right: 5px; border-top-color: #FFFFFF; border-top-width: 0; }',
    ' #__TABLE_ID__ .gt_heading { background-color: #FFFFFF; text-align: left; border-bottom-color: #FFFFFF; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_bottom_border { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_col_headings { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_col_heading { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: bold; text-transform: inherit; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: bottom; padding-top: 5px; padding-bottom: 5px; padding-left: 4px; padding-right: 4px; overflow-x: hidden; }',
    ' #__TABLE_ID__ .gt_column_spanner_outer { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: bold; text-transform: inherit; padding-top: 0; padding-bottom: 0; padding-left: 4px; padding-right: 4px; }',
    ' #__TABLE_ID__ .gt_column_spanner_outer:first-child { padding-left: 0; }',
    ' #__TABLE_ID__ .gt_column_spanner_outer:last-child { padding-right: 0; }',
    ' #__TABLE_ID__ .gt_column_spanner { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; vertical-align: bottom; padding-top: 5px; padding-bottom: 5px; overflow-x: hidden; display: inline-block; width: 100%; }',
    ' #__TABLE_ID__ .gt_spanner_row { border-bottom-style: hidden; }',
    ' #__TABLE_ID__ .gt_group_heading { padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: middle; text-align: left; }',
    ' #__TABLE_ID__ .gt_empty_group_heading { padding: 0.5px; color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; vertical-align: middle; }',
    ' #__TABLE_ID__ .gt_from_md> :first-child { margin-top: 0; }',
    ' #__TABLE_ID__ .gt_from_md> :last-child { margin-bottom: 0; }',
    ' #__TABLE_ID__ .gt_row { padding-top: 8px; padding-bottom: 8px; padding-left: 4px; padding-right: 4px; margin: 10px; border-top-style: solid; border-top-width: 1px; border-top-color: #D3D3D3; border-left-style: none; border-left-width: 1px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 1px; border-right-color: #D3D3D3; vertical-align: middle; overflow-x: hidden; }',
    ' #__TABLE_ID__ .gt_stub { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-right-style: solid; border-right-width: 2px; border-right-color: #D3D3D3; padding-left: 4px; padding-right: 4px; }',
    ' #__TABLE_ID__ .gt_indent_1 { text-indent: 5px; }',
    ' #__TABLE_ID__ .gt_indent_2 { text-indent: calc(5px * 2); }',
    ' #__TABLE_ID__ .gt_indent_3 { text-indent: calc(5px * 3); }',
    ' #__TABLE_ID__ .gt_indent_4 { text-indent: calc(5px * 4); }',
    ' #__TABLE_ID__ .gt_indent_5 { text-indent: calc(5px * 5); }',
    ' #__TABLE_ID__ .gt_stub_row_group { color: #333333; background-color: #FFFFFF; font-size: 100%; font-weight: initial; text-transform: inherit; border-right-style: solid; border-right-width: 2px; border-right-color: #D3D3D3; padding-left: 5px; padding-right: 5px; vertical-align: top; }',
    ' #__TABLE_ID__ .gt_row_group_first td { border-top-width: 2px; }',
    ' #__TABLE_ID__ .gt_row_group_first th { border-top-width: 2px; }',
    ' #__TABLE_ID__ .gt_striped { color: #333333; background-color: #F4F4F4; }',
    ' #__TABLE_ID__ .gt_table_body { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_summary_row { color: #333333; background-color: #FFFFFF; text-transform: inherit; padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; }',
    ' #__TABLE_ID__ .gt_first_summary_row { border-top-style: solid; border-top-width: 2px; border-top-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_last_summary_row_top { border-bottom-style: solid; border-bottom-width: 2px; border-bottom-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_grand_summary_row { color: #333333; background-color: #FFFFFF; text-transform: inherit; padding-top: 8px; padding-bottom: 8px; padding-left: 5px; padding-right: 5px; }',
    ' #__TABLE_ID__ .gt_first_grand_summary_row_bottom { border-top-style: double; border-top-width: 6px; border-top-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_last_grand_summary_row_top { border-bottom-style: double; border-bottom-width: 6px; border-bottom-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_sourcenotes { color: #333333; background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_sourcenote { font-size: 90%; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; text-align: left; }',
    ' #__TABLE_ID__ .gt_left { text-align: left; }',
    ' #__TABLE_ID__ .gt_center { text-align: center; }',
    ' #__TABLE_ID__ .gt_right { text-align: right; font-variant-numeric: tabular-nums; }',
    ' #__TABLE_ID__ .gt_font_normal { font-weight: normal; }',
    ' #__TABLE_ID__ .gt_font_bold { font-weight: bold; }',
    ' #__TABLE_ID__ .gt_font_italic { font-style: italic; }',
    ' #__TABLE_ID__ .gt_super { font-size: 65%; }',
    ' #__TABLE_ID__ .gt_footnotes { color: font-color(#FFFFFF); background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_footnote { margin: 0px; font-size: 90%; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; }',
    ' #__TABLE_ID__ .gt_sourcenotes { color: #333333; background-color: #FFFFFF; border-bottom-style: none; border-bottom-width: 2px; border-bottom-color: #D3D3D3; border-left-style: none; border-left-width: 2px; border-left-color: #D3D3D3; border-right-style: none; border-right-width: 2px; border-right-color: #D3D3D3; }',
    ' #__TABLE_ID__ .gt_sourcenote { font-size: 90%; padding-top: 4px; padding-bottom: 4px; padding-left: 5px; padding-right: 5px; text-align: left; }',
    ' #__TABLE_ID__ .gt_footnote_marks { font-size: 75%; vertical-align: 0.4em; position: initial; }',
    ' #__TABLE_ID__ .gt_asterisk { font-size: 100%; vertical-align: 0; }',
    ' ',
)

_CSS = "\n".join(_CSS_LINES)

_CONTAINER = ('<div id="{id}" style="padding-left:0px;padding-right:0px;padding-top:10px;'
              'padding-bottom:10px;overflow-x:visible;overflow-y:auto;width:100%;height:auto;">')

_UNITS = re.compile(r"\{\{.*?\}\}")


def _escape(text: str) -> str:
    return _html.escape(text)


def _sanitize_id(text: str) -> str:
    """great_tables' ``_sanitize_id``: label text made a valid id."""
    text = _html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"[^\w.:-]+", "-", text).strip("-")


class _Ids:
    """great_tables' ``_IdRegistry``: ids unique within the table, prefixed by its id."""

    def __init__(self, table_id: str) -> None:
        prefix = _sanitize_id(table_id)
        self.prefix = f"{prefix}-" if prefix else ""
        self.used = {table_id}

    def make(self, base: str, fallback: str) -> str:
        name = _sanitize_id(_escape(base)) or fallback
        candidate = f"{self.prefix}{name}"
        n = 2
        while candidate in self.used:
            candidate = f"{self.prefix}{name}-{n}"
            n += 1
        self.used.add(candidate)
        return candidate


_INSTALLED: list = []


def _same_great_tables() -> bool:
    """Whether the installed great_tables is the release this module mirrors
    (:data:`GT_VERSION`); read from the package metadata once, without importing it. Any
    other release renders through great_tables itself."""
    if not _INSTALLED:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _INSTALLED.append(version("great_tables"))
        except PackageNotFoundError:
            _INSTALLED.append(None)
    return _INSTALLED[0] == GT_VERSION


def supported(labels: Sequence[str], spanners: Sequence[tuple[str, Sequence[int]]],
              title: str | None = None) -> bool:
    """Whether :func:`table_html` writes what great_tables would for these headers.

    Not when a column or spanner label uses great_tables' units syntax (``{{m s^-1}}``),
    when two spanners share a label or one is empty (great_tables names a spanner by its
    label), or when a spanner's columns are not adjacent and in order (great_tables
    would move them) or overlap another spanner's (a second level).
    """
    if not _same_great_tables():
        return False
    texts = list(labels) + [s[0] for s in spanners]
    if any(not isinstance(t, str) or _UNITS.search(t) for t in texts):
        return False
    if title is not None and not isinstance(title, str):
        return False
    names = [s[0] for s in spanners]
    if len(set(names)) != len(names) or any(n == "" for n in names):
        return False
    taken: set[int] = set()
    for _, cols in spanners:
        cols = list(cols)
        if not cols or cols != list(range(cols[0], cols[0] + len(cols))):
            return False
        if taken & set(cols) or cols[0] < 0 or cols[-1] >= len(labels):
            return False
        taken |= set(cols)
    return True


def table_html(table_id: str, title: str | None, labels: Sequence[str],
               aligns: Sequence[str], spanners: Sequence[tuple[str, Sequence[int]]],
               cells: Sequence[Sequence[str]], row_groups: Sequence[str] | None,
               notes: Sequence[str]) -> str:
    """The HTML great_tables writes (``as_raw_html(inline_css=False)``) for the table.

    Parameters
    ----------
    table_id : str
        The element id (``GT(id=...)``); also the prefix of every id inside.
    title : str or None
        The title (``tab_header(title=...)``); ``None`` for none.
    labels, aligns : sequence of str
        Each column's label and alignment (``"left"``, ``"center"``, ``"right"``).
    spanners : sequence of (label, column positions)
        One level of spanners, in the order they were added (see :func:`supported`).
    cells : sequence of rows of str
        The formatted cells (escaped here, as great_tables escapes unformatted cells).
    row_groups : sequence of str, optional
        Each row's group label (``GT(groupname_col=...)``): rows are shown grouped, the
        groups in order of first appearance.
    notes : sequence of str
        Source notes, one row each.
    """
    n_cols = len(labels)
    ids = _Ids(table_id)
    col_ids = [ids.make(f"c{k}", "column") for k in range(n_cols)]
    span_of: list[int | None] = [None] * n_cols
    for s, (_, cols) in enumerate(spanners):
        for k in cols:
            span_of[k] = s
    span_ids: dict[int, str] = {}
    for k in range(n_cols):
        s = span_of[k]
        if s is not None and s not in span_ids:
            span_ids[s] = ids.make(spanners[s][0], "spanner")
    title_id = ids.make("title", "title") if title is not None else None
    col_headers = [(f"{span_ids[span_of[k]]} " if span_of[k] is not None else "") + col_ids[k]
                   for k in range(n_cols)]

    out = [_CONTAINER.format(id=table_id), "\n<style>\n",
           _CSS.replace(_ID, table_id), "\n</style>\n"]
    # the table element and its heading
    aria = f' aria-labelledby="{title_id}"' if title_id else ""
    out.append(f'<table class="gt_table"{aria} data-quarto-disable-processing="false" '
               'data-quarto-bootstrap="false">\n<thead>\n')
    if title is not None:
        out.append(f'\n  <tr class="gt_heading">\n    <td colspan="{n_cols}" class="gt_heading '
                   f'gt_title gt_font_normal" id="{title_id}">{_escape(title)}</td>\n  </tr>')
    out.append("\n")
    # the column labels (under a row of spanners)
    th = '  <th class="gt_col_heading gt_columns_bottom_border gt_{}" rowspan="{}" colspan="1" ' \
         'scope="col" id="{}">{}</th>'
    if not spanners:
        out.append('<tr class="gt_col_headings">\n')
        out.append("\n".join(th.format(aligns[k], 1, col_ids[k], _escape(labels[k]))
                             for k in range(n_cols)))
        out.append("\n</tr>")
    else:
        top = []
        k = 0
        while k < n_cols:
            s = span_of[k]
            if s is None:
                top.append(th.format(aligns[k], 2, col_ids[k], _escape(labels[k])))
                k += 1
                continue
            width = len(spanners[s][1])
            scope = "colgroup" if width > 1 else "col"
            top.append(f'  <th class="gt_center gt_columns_top_border gt_column_spanner_outer" '
                       f'rowspan="1" colspan="{width}" scope="{scope}" id="{span_ids[s]}">\n'
                       f'    <span class="gt_column_spanner">{_escape(spanners[s][0])}</span>\n'
                       "  </th>")
            k += width
        below = [th.format(aligns[k], 1, col_ids[k], _escape(labels[k]))
                 for k in range(n_cols) if span_of[k] is not None]
        out.append('<tr class="gt_col_headings gt_spanner_row">\n')
        out.append("\n".join(top))
        out.append('\n</tr>\n<tr class="gt_col_headings">\n')
        out.append("\n".join(below))
        out.append("\n</tr>")
    out.append('\n</thead>\n<tbody class="gt_table_body">\n')
    # the body
    n_rows = len(cells)
    if row_groups is None:
        order: list[tuple[int, str | None]] = [(i, None) for i in range(n_rows)]
    else:
        members: dict[str, list[int]] = {}
        for i, g in enumerate(row_groups):
            members.setdefault(g, []).append(i)
        order = [(i, g) for g, rows in members.items() for i in rows]
    td = [f'    <td headers="{{}}{col_headers[k]}" class="gt_row gt_{aligns[k]}">'
          for k in range(n_cols)]
    rows = []
    group_id = None
    previous = object()
    for i, g in order:
        if g is not None and g != previous:
            previous = g
            group_id = ids.make(g, "group")
            label = _escape(g)
            css = "gt_empty_group_heading" if label == "" else "gt_group_heading_row"
            scope = "colgroup" if n_cols > 1 else "col"
            rows.append(f'  <tr class="{css}">\n    <th class="gt_group_heading" '
                        f'colspan="{n_cols}" scope="{scope}" id="{group_id}">{label}</th>\n'
                        "  </tr>")
        lead = f"{group_id} " if group_id else ""
        row = cells[i]
        rows.append("  <tr>\n" + "\n".join(
            f"{td[k].format(lead)}{_escape(row[k])}</td>" for k in range(n_cols)) + "\n  </tr>")
    out.append("\n".join(rows))
    out.append("\n</tbody>\n")
    if notes:
        out.append("<tfoot>")
        out.extend(f'<tr class="gt_sourcenotes"><td class="gt_sourcenote" colspan="{n_cols}">'
                   f'<span class="gt_from_md">{_escape(n)}</span></td></tr>' for n in notes)
        out.append("</tfoot>")
    out.append("\n</table>\n\n</div>\n")
    return "".join(out)

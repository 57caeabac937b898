"""HTML reports from executed notebooks, and the ``index.html`` that links them.

``report_mode`` removes the code from the HTML (nbconvert's ``exclude_input``):
papermill's own report mode only hides code cells in the notebook's metadata,
and a plain nbconvert export still contains them.

A notebook that does not apply to the study's design (it wrote
``status/<notebook>.json``, see :func:`evaluation.run_folder.not_applicable`) is
listed on the index as "not applicable" (不适用) with its reason, and its report
ends with the message that says why (the headings of the sections it skipped are
left out).
"""

from __future__ import annotations

import html
from pathlib import Path

from core.atomic import write_text
from evaluation.run_folder import NOT_APPLICABLE_MARK, read_statuses

TITLES = {
    "00_data_quality": {"en": "Data quality", "zh": "数据质量"},
    "01_reliability": {"en": "Reliability", "zh": "信度"},
    "02_baseline": {"en": "Baseline and balance", "zh": "基线与均衡性"},
    "03_effects": {"en": "Intervention effects", "zh": "干预效果"},
    "04_claims": {"en": "Claim audit", "zh": "结论核查"},
    "05_power": {"en": "Power for the next study", "zh": "下一项研究的统计功效"},
}


def notebook_title(name: str, lang: str = "en") -> str:
    t = TITLES.get(name)
    return t.get(lang, t["en"]) if t else name


def _without_remote_scripts(page: str) -> str:
    """Drop ``<script src="https://...">`` tags (require.js, MathJax from a CDN).

    The reports need neither (no widgets or LaTeX are rendered statically); without
    them a report opened on a counsellor's computer contacts no third-party server
    and renders the same offline.
    """
    import re

    return re.sub(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>\s*', "", page)


def _until_not_applicable(cells: list) -> list:
    """The cells up to the one that said the notebook does not apply (all when none did)."""
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if (out.get("metadata") or {}).get(NOT_APPLICABLE_MARK):
                return cells[: i + 1]
    return cells


def render_html(notebook: Path, target: Path, *, report_mode: bool, title: str) -> Path:
    """Convert an executed notebook to standalone HTML (written atomically)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells = _until_not_applicable(nb.cells)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = report_mode
    exporter.exclude_input_prompt = report_mode
    exporter.exclude_output_prompt = report_mode
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _without_remote_scripts(body)
    write_text(target, body)
    return target


_INDEX = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", Arial, sans-serif; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.6rem; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .45rem; text-align: left; }}
.ok {{ color: #1b7a1b; }} .failed {{ color: #b00020; font-weight: bold; }}
.na {{ color: #666; }} .reason {{ color: #555; font-size: .9rem; }}
.note {{ background: #fff4e5; padding: .6rem .8rem; border-left: 4px solid #f0a020; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{status_label}: <span class="{status_class}">{status}</span> · {study_label}: {study_id}</p>
{notes}
<table><thead><tr><th>{report_label}</th><th>{state_label}</th><th>{seconds_label}</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p><a href="../manifest.json">manifest.json</a> · <a href="../tables/">tables/</a> · <a href="../figures/">figures/</a></p>
</body></html>
"""


NOT_APPLICABLE = {"en": "not applicable", "zh": "不适用"}
STATUS_ZH = {"success": "成功", "failed": "失败"}


def _code_spans(text: str) -> str:
    """Markdown `code` in an already escaped reason as ``<code>``."""
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def write_index(target: Path, *, title: str, study_id: str, status: str,
                entries: list[dict], lang: str = "en", notes: list[str] = (),
                run_dir: Path | None = None) -> Path:
    """Write ``reports/index.html`` linking each report with its status.

    ``entries``: dicts with ``name``, ``href`` (or None when there is no report),
    ``status`` and ``seconds``. A notebook that succeeded and wrote
    ``RUN/status/<name>.json`` with ``"status": "not_applicable"`` (or whose entry says
    ``status: not_applicable``, or ``not_applicable: True`` with ``reason_en`` /
    ``reason_zh``) is shown as "not applicable" (不适用) with its reason in ``lang``;
    ``run_dir`` is the run folder (default: the folder above ``target``'s ``reports/``).
    """
    zh = lang == "zh"
    statuses = read_statuses(Path(run_dir) if run_dir is not None else Path(target).parent.parent)
    rows = []
    for e in entries:
        label = html.escape(notebook_title(e["name"], lang))
        link = f'<a href="{html.escape(e["href"])}">{label}</a>' if e.get("href") else label
        cls = "ok" if e["status"] == "success" else "failed"
        shown = STATUS_ZH.get(e["status"], e["status"]) if zh else e["status"]
        own = statuses.get(e["name"], {})
        if e["status"] == "not_applicable" or (e["status"] == "success" and (
                e.get("not_applicable") or own.get("status") == "not_applicable")):
            cls, shown = "na", NOT_APPLICABLE["zh" if zh else "en"]
            key = "reason_zh" if zh else "reason_en"
            reason = e.get(key) or own.get(key) or ""
            if reason:
                link += f'<br><span class="reason">{_code_spans(html.escape(reason))}</span>'
        rows.append(f'<tr><td>{link}</td><td class="{cls}">{html.escape(shown)}</td>'
                    f'<td>{e.get("seconds", "")}</td></tr>')
    note_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    page = _INDEX.format(
        lang="zh" if zh else "en", title=html.escape(title), study_id=html.escape(study_id),
        status=html.escape(STATUS_ZH.get(status, status) if zh else status), status_class="ok" if status == "success" else "failed",
        status_label="运行状态" if zh else "Run status", study_label="研究" if zh else "Study",
        report_label="报告" if zh else "Report", state_label="状态" if zh else "Status",
        seconds_label="秒" if zh else "Seconds", rows="\n".join(rows), notes=note_html)
    write_text(target, page)
    return target

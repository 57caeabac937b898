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
import re
import threading
from pathlib import Path

from core.atomic import write_text

# evaluation.run_folder (and with it pandas, 0.4 s) is imported where it is used: `workbench
# run` imports this module before it starts the notebook lanes, which should start at once

TITLES = {
    "00_data_quality": {"en": "Data quality", "zh": "数据质量"},
    "01_reliability": {"en": "Reliability", "zh": "信度"},
    "02_baseline": {"en": "Baseline and balance", "zh": "基线与均衡性"},
    "03_effects": {"en": "Intervention effects", "zh": "干预效果"},
    "04_claims": {"en": "Claim audit", "zh": "结论核查"},
    "05_power": {"en": "Power for the next study", "zh": "下一项研究的统计功效"},
    "06_delivery": {"en": "Program delivery", "zh": "项目落实情况"},
    "07_sensitivity": {"en": "Missing data: does the answer depend on it?", "zh": "缺失数据：结论是否依赖于它"},
}


def notebook_title(name: str, lang: str = "en", study=None) -> str:
    """A notebook's page title in ``lang``; with the run's ``study``, the effects page is
    named for what the design estimates (Change / Adjusted differences / Intervention
    effects, :func:`evaluation.effects_tables.page_title`)."""
    if name == "03_effects" and study is not None:
        from evaluation.effects_tables import page_title

        return page_title(study, lang)
    t = TITLES.get(name)
    return t.get(lang, t["en"]) if t else name


def _without_remote_scripts(page: str) -> str:
    """Drop ``<script src="https://...">`` tags (require.js, MathJax from a CDN).

    The reports need neither (no widgets or LaTeX are rendered statically); without
    them a report opened on a counsellor's computer contacts no third-party server
    and renders the same offline.
    """
    return re.sub(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>\s*', "", page)


def _until_not_applicable(cells: list) -> list:
    """The cells up to the one that said the notebook does not apply (all when none did)."""
    from evaluation.run_folder import NOT_APPLICABLE_MARK

    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if (out.get("metadata") or {}).get(NOT_APPLICABLE_MARK):
                return cells[: i + 1]
    return cells


def _without_stderr(cells: list) -> list:
    """The cells without their ``stderr`` stream outputs (warnings, progress noise).

    A warning (matplotlib's ``UserWarning``, a ``FutureWarning`` of a library) is written
    to the kernel's stderr and would show on the page, often with a local path; the page
    is for readers, so stderr is left out in both modes. Errors (``error`` outputs, the
    traceback of a failing cell) are kept: a failing notebook's report shows where it
    failed. The executed notebook in ``notebooks/`` keeps everything.
    """
    for cell in cells:
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            cell["outputs"] = [o for o in cell["outputs"]
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
    return cells


_EXPORTERS: dict = {}
_EXPORT_LOCK = threading.Lock()

# Highlighted code as Pygments writes it: <div class="..."><pre><span class="..">..</span>..
# with &amp; &lt; &gt; &quot; &#39; as the only entities, and no character an HTML parser
# would replace (NUL, CR, other controls, noncharacters, lone surrogates).
_CODE_TOKEN = re.compile(
    r'<(/?)(div|pre|span)(?: class="[A-Za-z0-9_ -]*")?>'
    r"|(?:[^<>&\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
    r"|&(?:amp|lt|gt|quot|#39);)+")


def _is_plain_code_html(text: str) -> bool:
    """Whether ``text`` is highlighted code that nbconvert's ``clean_html`` (bleach) returns
    unchanged: only ``div``, ``pre`` and ``span`` tags with at most a class, properly nested,
    no newline right after ``<pre>`` (a parser drops it), and text as described above."""
    stack = []
    pos = 0
    for m in _CODE_TOKEN.finditer(text):
        if m.start() != pos:
            return False
        pos = m.end()
        tag = m.group(2)
        if tag is None:
            continue
        if m.group(1):
            if not stack or stack.pop() != tag or len(m.group(0)) != len(tag) + 3:
                return False
        else:
            if tag == "pre" and text.startswith("\n", pos):
                return False
            stack.append(tag)
    return pos == len(text) and not stack


_SET_ASIDE: dict | None = None
"""During an export (:func:`_export`, under :data:`_EXPORT_LOCK`): the highlighted code blocks
set aside from BeautifulSoup, ``{"mark": ..., "blocks": [...]}``; None otherwise."""
_SOUP_SPACES = " \n\t\x0c\r"  # what BeautifulSoup calls ASCII spaces
# one <div class><pre>...</pre></div> and nothing outside the <pre> (set aside as a whole)
_CODE_BLOCK = re.compile(r'<div class="[^"]*"><pre>(?:(?!</?(?:div|pre)[ >]).)*</pre></div>',
                         re.S)
_CLASS_ATTR = re.compile(r'<(div|pre|span) class="([A-Za-z0-9_ -]*)">')


def _as_soup_writes(code: str) -> str:
    """Highlighted code (:func:`_is_plain_code_html`) as ``str(BeautifulSoup(code))`` writes
    it: a class's names joined by single spaces, ``&quot;`` and ``&#39;`` as the characters."""
    code = _CLASS_ATTR.sub(lambda m: f'<{m[1]} class="{" ".join(m[2].split())}">', code)
    return code.replace("&quot;", '"').replace("&#39;", "'")


def _clean_html(element) -> str:
    """nbconvert's ``clean_html`` filter, without running bleach on highlighted code that it
    returns unchanged (:func:`_is_plain_code_html`; 0.45 s of the county run's export).
    During :func:`_export` such code is also set aside behind a comment, so that the exporter's
    BeautifulSoup pass does not parse its thousands of spans (0.3 s); :func:`_export` puts it
    back as BeautifulSoup would have written it. The pages are byte for byte nbconvert's
    (``tests/test_reports_speed.py``)."""
    text = element.decode() if isinstance(element, bytes) else str(element)
    if _is_plain_code_html(text):
        aside = _SET_ASIDE
        core = text.strip(_SOUP_SPACES)
        if aside is None or not _CODE_BLOCK.fullmatch(core):
            return text
        # the spaces around the block stay: BeautifulSoup makes one space or newline of a
        # run of spaces outside <pre>, together with the template's
        aside["blocks"].append(_as_soup_writes(core))
        lead = len(text) - len(text.lstrip(_SOUP_SPACES))
        return (f"{text[:lead]}<!--{aside['mark']}{len(aside['blocks']) - 1}-->"
                f"{text[lead + len(core):]}")
    from nbconvert.filters.strings import clean_html

    return clean_html(text)


def _export(nb, report_mode: bool, title: str) -> str:
    """The page of ``nb`` as nbconvert's ``lab`` HTMLExporter writes it (see :func:`_clean_html`
    for the code set aside; when a mark is not found exactly once the page is exported again
    without setting anything aside)."""
    import uuid

    global _SET_ASIDE
    with _EXPORT_LOCK:
        exporter = _exporter(report_mode)
        aside = _SET_ASIDE = {"mark": f"wb-code-{uuid.uuid4().hex}-", "blocks": []}
        try:
            body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        finally:
            _SET_ASIDE = None
        blocks = aside["blocks"]
        if blocks:
            marks = re.compile(f"<!--{aside['mark']}([0-9]+)-->")
            found = [int(i) for i in marks.findall(body)]
            if sorted(found) == list(range(len(blocks))):
                return marks.sub(lambda m: blocks[int(m[1])], body)
            body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        return body


def _exporter(report_mode: bool):
    """One nbconvert ``HTMLExporter`` per mode for the process: its Jinja environment
    compiles the ``lab`` templates once (about 0.1 s of every export otherwise). An
    export depends only on the notebook and the mode, so a reused exporter writes the
    same bytes as a new one (``tests/test_execute.py``)."""
    exporter = _EXPORTERS.get(report_mode)
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(template_name="lab", filters={"clean_html": _clean_html})
        exporter.exclude_input = report_mode
        exporter.exclude_input_prompt = report_mode
        exporter.exclude_output_prompt = report_mode
        _EXPORTERS[report_mode] = exporter
    return exporter


def render_html(notebook: Path, target: Path, *, report_mode: bool, title: str,
                footer: dict | None = None, lang: str = "en") -> Path:
    """Convert an executed notebook to standalone HTML (written atomically).

    ``stderr`` outputs are left out (:func:`_without_stderr`); ``footer`` (see
    :func:`footer_html`) adds the reproducibility footer in ``lang``.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells = _without_stderr(_until_not_applicable(nb.cells))
    body = _without_remote_scripts(_export(nb, report_mode, title))
    if footer is not None:
        at = body.rfind("</body>")
        if at >= 0:
            body = body[:at] + footer_html(footer, lang) + body[at:]
    write_text(target, body)
    return target


def _shown_path(path: str) -> str:
    """An input's path as a page may show it: relative as recorded, else the file name
    (a page never shows an absolute path).

    Examples
    --------
    >>> _shown_path("data/baseline.csv"), _shown_path("/home/li/raw/endline.csv")
    ('data/baseline.csv', 'endline.csv')
    >>> _shown_path("C:/Users/li/a.csv")
    'a.csv'
    """
    import ntpath
    import posixpath

    text = str(path)
    if posixpath.isabs(text) or ntpath.isabs(text) or ntpath.splitdrive(text)[0] or \
            text.startswith("~"):
        return ntpath.basename(posixpath.basename(text.rstrip("/\\"))) or "?"
    return text


def footer_data(manifest: dict) -> dict:
    """What the reproducibility footer shows, from the run's manifest as it is known before
    the notebooks run: version, commit, seed, run id and the inputs' short hashes."""
    return {
        "version": (manifest.get("workbench") or {}).get("version"),
        "git_commit": (manifest.get("workbench") or {}).get("git_commit"),
        "seed": manifest.get("seed"),
        "run_id": manifest.get("run_id"),
        "inputs": [{"path": _shown_path(i.get("path") or "?"),
                    "sha256": (i.get("sha256") or "")[:12]}
                   for i in manifest.get("inputs") or [] if isinstance(i, dict)],
    }


MANIFEST_HASH_PENDING = "pending-hash"
"""What the footer shows in place of the manifest's short hash until the run's
``manifest.json`` is written; :func:`workbench.manifest.stamp_reports` then writes the first
12 hex digits of its sha256 in its place (the same number of bytes, so the page's size
recorded in the manifest stays true)."""

MANIFEST_HASH_CLASS = "manifest-sha256"
"""The class of the ``<span>`` that holds the manifest's short hash on every page."""

_FOOTER_TEXT = {
    "en": {"version": "Survey Workbench", "commit": "commit", "seed": "seed", "run": "run",
           "inputs": "inputs (sha256, first 12 hex digits)", "unknown": "unknown",
           "manifest": "manifest.json sha256",
           "manifest_note": "the manifest lists every file of this run: inputs, tables, "
                            "figures and data with their sha256, the reports (this page "
                            "too) with their size, since a page cannot hold its own hash."},
    "zh": {"version": "Survey Workbench", "commit": "代码提交", "seed": "随机种子",
           "run": "运行编号", "inputs": "输入文件（sha256前12位）", "unknown": "未知",
           "manifest": "manifest.json 的 sha256",
           "manifest_note": "该清单列出本次运行的所有文件：输入文件、表格、图和数据附 sha256，"
                            "报告（包括本页）附文件大小，因为网页无法包含自身的哈希。"},
}


def footer_html(footer: dict, lang: str = "en") -> str:
    """The reproducibility footer of a page: workbench version, git commit (short), seed,
    run id, the inputs' short hashes, and the short sha256 of the run's ``manifest.json``.

    The manifest is written after the pages, so the footer holds
    :data:`MANIFEST_HASH_PENDING` in a ``<span class="manifest-sha256">`` until
    :func:`workbench.manifest.stamp_reports` writes the hash there.

    Examples
    --------
    >>> f = footer_html({"version": "0.1.0", "git_commit": "566489bcb844", "seed": 7,
    ...                  "run_id": "1b2bd945af14", "inputs": [{"path": "study.yaml",
    ...                  "sha256": "c194f39de084"}]})
    >>> "566489b<" in f and "study.yaml c194f39de084" in f
    True
    >>> '<span class="manifest-sha256">pending-hash</span>' in f
    True
    """
    t = _FOOTER_TEXT["zh" if lang == "zh" else "en"]
    commit = (footer.get("git_commit") or "")[:7] or t["unknown"]
    ins = " · ".join(f"{html.escape(_shown_path(i['path']))} {html.escape(i['sha256'] or '–')}"
                     for i in footer.get("inputs") or [])
    colon = "：" if lang == "zh" else ": "
    return (
        '<footer class="wb-repro" style="margin:2.5rem auto 1rem;padding:.6rem 1rem;'
        "max-width:60rem;border-top:1px solid #ccc;color:#555;font-size:.8rem;"
        'font-family:sans-serif;line-height:1.5;overflow-wrap:anywhere">'
        f"<div>{t['version']} {html.escape(str(footer.get('version') or t['unknown']))} · "
        f'{t["commit"]} <span class="git-commit">{html.escape(commit)}</span> · '
        f"{t['seed']} {html.escape(str(footer.get('seed')))} · "
        f'{t["run"]} <span class="run-id">{html.escape(str(footer.get("run_id") or ""))}'
        "</span></div>"
        f"<div>{t['inputs']}{colon}{ins or '–'}</div>"
        f'<div>{t["manifest"]} <span class="{MANIFEST_HASH_CLASS}">{MANIFEST_HASH_PENDING}'
        f"</span>{colon}{html.escape(t['manifest_note'])}</div></footer>\n")


_INDEX = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", Arial, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.25rem; margin-top: 1.6rem; }}
h3 {{ font-size: 1.05rem; margin-bottom: .3rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .45rem; text-align: left; vertical-align: top; }}
.ok {{ color: #1b7a1b; }} .failed {{ color: #b00020; font-weight: bold; }}
.na {{ color: #666; }} .reason {{ color: #555; font-size: .9rem; }}
.note {{ background: #fff4e5; padding: .6rem .8rem; border-left: 4px solid #f0a020; }}
.hl-alt {{ display: none; }} .hl-alt:target {{ display: block; }}
.hl-alt:target ~ .hl-main {{ display: none; }}
.toggle {{ float: right; font-size: .9rem; margin: .2rem 0; }}
.banner {{ background: #fdecea; border-left: 4px solid #c62828; padding: .6rem .8rem; }}
.outcomes td.num, .outcomes th.num {{ text-align: right; }}
.outcomes td.num {{ white-space: nowrap; }}
.outcomes {{ font-size: .92rem; }} .better {{ color: #555; font-size: .82rem; }}
.badge {{ display: inline-block; padding: .12rem .5rem; border-radius: .8rem; font-weight: bold;
          font-size: .85rem; white-space: nowrap; }}
.b-effective {{ background: #d7f0d7; color: #145214; }}
.b-harmful, .b-worsened, .b-favours_control, .b-below_null, .b-below_claim {{ background: #fbd9d9; color: #8a1010; }}
.b-improved, .b-favours_program, .b-above_null, .b-above_claim {{ background: #dbe8f8; color: #153e75; }}
.b-inconclusive {{ background: #fff0c2; color: #6b4e00; }}
.b-no_evidence, .b-no_evidence_difference, .b-no_evidence_change,
.b-consistent_with_no_change, .b-consistent_with_claim, .b-not_reported {{ background: #e8e8e8; color: #333; }}
.b-low {{ background: #d7f0d7; color: #145214; }} .b-high {{ background: #fbd9d9; color: #8a1010; }}
.b-undetermined {{ background: #fff0c2; color: #6b4e00; }}
.sentences li {{ margin-bottom: .35rem; }} .claim {{ font-size: .88rem; color: #333; }}
.rules {{ font-size: .82rem; color: #555; }}
.lead {{ font-size: 1.05rem; background: #f4f7fb; border-left: 4px solid #3b6db3;
         padding: .6rem .8rem; }}
@media (max-width: 640px) {{ /* a phone: the outcome tables wrap instead of overflowing */
  body {{ padding: 0 .4rem; }} td, th {{ padding: .3rem .2rem; overflow-wrap: anywhere; }}
  .outcomes {{ font-size: .74rem; }} .outcomes td.num {{ white-space: normal; }}
  .badge {{ white-space: normal; padding: .1rem .3rem; }} }}
</style></head>
<body>
<h1>{title}</h1>
<p>{status_label}: <span class="{status_class}">{status}</span> · {study_label}: {study_id}</p>
{headline}
{notes}
<h2>{reports_heading}</h2>
<table><thead><tr><th>{report_label}</th><th>{state_label}</th><th>{seconds_label}</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p><a href="../manifest.json">manifest.json</a> · <a href="summary.md">summary.md</a> · <a href="../tables/">tables/</a> · <a href="../figures/">figures/</a></p>
{footer}
</body></html>
"""


NOT_APPLICABLE = {"en": "not applicable", "zh": "不适用"}
STATUS_ZH = {"success": "成功", "failed": "失败"}


def _code_spans(text: str) -> str:
    """Markdown `code` in an already escaped reason as ``<code>``."""
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _seconds(value) -> str:
    """Seconds rounded to 1 decimal ('' when unknown)."""
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return ""


# the header names the method; the family of each adjusted p is written under it
_ADJUST_P = {"holm": {"en": "Adjusted p (Holm)", "zh": "校正p（Holm）"},
             "bh": {"en": "Adjusted p (BH, FDR)", "zh": "校正p（BH）"},
             "none": {"en": "p (not adjusted)", "zh": "p（未校正）"}}
_HL = {
    "en": {"heading": "What the run found", "toggle": "中文", "outcome": "Outcome",
           "verdict": "Verdict", "effect": "Effect (points)", "change": "Change (points)",
           "adjusted_difference": "Adjusted difference (points)", "es": "",
           "p": "p", "p_adj": "adjusted p", "claims": "Claims", "claim": "Claim",
           "delivery": "Program delivery",
           "claim_verdict": "Verdict", "claimed": "Claimed (95% CI)", "null": "No-change share",
           "attrition": "Attrition", "quality": "Data quality", "details": "In sentences",
           "wwc": "WWC (cautious)", "wwc_optimistic": "WWC (optimistic)",
           "observed": "Observed here (95% CI)", "no_effects": "No effect estimates in this run.",
           "no_comparison": "No comparison group: cannot show that the program caused it.",
           "rules": "Verdicts use the primary model. {effective}: the {level} CI excludes 0 on "
                    "the better side and the adjusted p < {alpha}; {inconclusive}: the CI "
                    "excludes 0 but the adjusted p does not stay below {alpha}; {none}: the CI "
                    "includes 0 (not proof that there is no {noun}). Only randomized designs can be "
                    "called effective."},
    "zh": {"heading": "本次运行的结论", "toggle": "English", "outcome": "结局",
           "verdict": "结论", "effect": "效果（原单位）", "change": "变化（原单位）",
           "adjusted_difference": "调整后差异（原单位）", "es": "标准化",
           "p": "p", "p_adj": "校正p", "claims": "声称核查", "claim": "声称",
           "delivery": "项目落实情况",
           "claim_verdict": "结论", "claimed": "声称比例（95%置信区间）", "null": "无变化时的比例",
           "attrition": "流失", "quality": "数据质量", "details": "文字说明",
           "wwc": "WWC（谨慎边界）", "wwc_optimistic": "WWC（乐观边界）",
           "observed": "本研究观察到（95%置信区间）", "no_effects": "本次运行没有效果估计。",
           "no_comparison": "没有对照组：不能说明是项目引起的。",
           "rules": "结论依据主模型。{effective}：{level}置信区间在“更好”的一侧不含0，且校正p < {alpha}；"
                    "{inconclusive}：置信区间不含0，但校正p未低于{alpha}；{none}：置信区间包含0"
                    "（不等于证明没有{noun}）。只有随机化设计才能称为“有效”。"},
}


_NOUN = {"no_evidence": {"en": "effect", "zh": "效果"},
         "no_evidence_change": {"en": "change", "zh": "变化"},
         "no_evidence_difference": {"en": "difference", "zh": "差异"}}


def _unequal(row, lang: str) -> str:
    """Under a verdict: the groups were not equivalent on the outcome at baseline
    (:func:`evaluation.headline.baseline_caveat` says it in the sentence)."""
    from evaluation.headline import unequal_at_baseline

    if not unequal_at_baseline(row):
        return ""
    text = (f"基线不可比（SMD {row['baseline_smd']:+.2f}）" if lang == "zh"
            else f"not equivalent at baseline (SMD {row['baseline_smd']:+.2f})")
    return f'<br><span class="better unequal">{html.escape(text)}</span>'


def headline_html(h, lang: str, *, main: bool) -> str:
    """One language's headline section (:class:`evaluation.headline.Headline`): banner,
    outcome rows with their badges, claims, attrition, counts and the sentences.

    ``main``: the run's language (shown); the other section is shown when its anchor is
    the page's target (``#headline-en`` / ``#headline-zh``), without any script.
    """
    from evaluation.headline import BADGES, WWC_LABELS, fmt_estimate, fmt_p

    t = _HL[lang]
    other = "en" if lang == "zh" else "zh"
    esc = html.escape
    parts = [f'<section id="headline-{lang}" lang="{lang}" '
             f'class="headline {"hl-main" if main else "hl-alt"}">',
             f'<p class="toggle"><a href="#headline-{other}">{t["toggle"]}</a></p>',
             f'<h2>{t["heading"]}</h2>']
    if h.banner:
        parts.append(f'<p class="banner">{esc(h.banner[lang])}</p>')
    lead = [h.outcome_sentence(r, lang) for _, r in h.table.iterrows() if r["primary_outcome"]]
    for sentence in lead:  # the answer in words: the primary outcome(s) first
        parts.append(f'<p class="lead">{esc(sentence)}</p>')
    if len(h.table):
        level = f"{100 * float(h.table['ci_level'].iloc[0]):.0f}%"
        es_name = "d_z" if (h.table["effect_size_kind"] == "d_z").any() else "Hedges' g"
        # the adjustment and its family are named under each adjusted p (Headline.family_note)
        p_adj = t["p_adj"]
        parts.append(
            '<table class="outcomes"><thead><tr>'
            f'<th>{t["outcome"]}</th><th>{t["verdict"]}</th>'
            f'<th class="num">{t[getattr(h, "estimand", "effect")]} '
            f'({level} CI)</th>'
            f'<th class="num">{t["es"]} {es_name} ({level} CI)</th>'
            f'<th class="num">{t["p"]}</th><th class="num">{esc(p_adj)}</th></tr></thead>')
        multi = h.table["arm"].nunique() > 1
        for _, r in h.table.iterrows():
            # a family of one (or adjust: none) has no adjusted p: its note says why
            own = h.adjust == "none" or r["n_outcomes"] < 2
            label = esc(r["label_zh"] if lang == "zh" else r["label_en"])
            if multi and r["arm"]:
                label += f' <span class="better">({esc(r["arm"])} vs {esc(str(r["control"]))})</span>'
            better = ("越高越好 ↑" if r["better"] == "higher" else "越低越好 ↓") if lang == "zh" \
                else ("higher is better ↑" if r["better"] == "higher" else "lower is better ↓")
            word = BADGES[r["badge"]][lang]
            parts.append(
                f'<tr data-outcome="{esc(r["outcome"])}"><td>{label}<br>'
                f'<span class="better">{better}</span></td>'
                f'<td><span class="badge b-{r["badge"]}">{esc(word)}</span>{_unequal(r, lang)}</td>'
                f'<td class="num">{fmt_estimate(r["estimate"])}<br>'
                f'<span class="better">{fmt_estimate(r["ci_low"])} – '
                f'{fmt_estimate(r["ci_high"])}</span></td>'
                f'<td class="num">{fmt_estimate(r["effect_size"])}<br>'
                f'<span class="better">{fmt_estimate(r["effect_size_ci_low"])} – '
                f'{fmt_estimate(r["effect_size_ci_high"])}</span></td>'
                f'<td class="num">{esc(fmt_p(r["p_value"]))}</td>'
                f'<td class="num">{"–" if own else esc(fmt_p(r["p_adjusted"]))}<br>'
                f'<span class="better">{esc(h.family_note(r, lang, short=True))}</span>'
                '</td></tr>')
        parts.append("</table>")
        none_key = ("no_evidence_change" if h.design == "pre_post" else "no_evidence"
                    if h.design in ("randomized", "cluster_randomized") else
                    "no_evidence_difference")
        decisive = ("improved" if h.design == "pre_post" else "effective"
                    if h.design in ("randomized", "cluster_randomized") else "favours_program")
        parts.append('<p class="rules">' + esc(t["rules"].format(
            effective=BADGES[decisive][lang], inconclusive=BADGES["inconclusive"][lang],
            none=BADGES[none_key][lang], level=level, alpha=f"{h.alpha:g}",
            noun=_NOUN[none_key][lang])) + "</p>")
    elif not h.has_effects:
        parts.append(f"<p>{t['no_effects']}</p>")
    if getattr(h, "sensitivity", None):  # does the answer survive the missing data?
        parts.append(f'<p class="lead">{esc(h.sensitivity[lang])}</p>')
    delivery = h.delivery_sentences(lang) if hasattr(h, "delivery_sentences") else []
    if delivery:  # was the program delivered, and the effect for those who received it
        parts.append(f'<h3>{t["delivery"]}</h3>')
        parts.extend(f'<p class="lead">{esc(x)}</p>' for x in delivery)
    if len(h.claims):
        parts.append(f'<h3>{t["claims"]}</h3><table class="outcomes"><thead><tr>'
                     f'<th>{t["claim"]}</th><th>{t["claim_verdict"]}</th>'
                     f'<th class="num">{t["claimed"]}</th><th class="num">{t["observed"]}</th>'
                     f'<th class="num">{t["null"]}</th></tr></thead>')
        for _, c in h.claims.iterrows():
            pct = (lambda x: "–" if x != x else f"{100 * x:.0f}%")  # noqa: E731
            parts.append(
                f'<tr><td><b>{esc(c["claim_id"])}</b><br><span class="claim">'
                f'{esc(c["claim"])}</span></td>'
                f'<td><span class="badge b-{c["verdict"]}">'
                f'{esc(c["verdict_zh"] if lang == "zh" else c["verdict_en"])}</span>'
                + ("" if c["has_comparison"] else
                   f'<br><span class="better">{t["no_comparison"]}</span>') + "</td>"
                f'<td class="num">{pct(c["claimed_proportion"])}<br><span class="better">'
                f'{pct(c["ci_low"])} – {pct(c["ci_high"])}</span></td>'
                f'<td class="num">{pct(c["observed"])}<br><span class="better">'
                f'{pct(c["observed_ci_low"])} – {pct(c["observed_ci_high"])}</span></td>'
                f'<td class="num">{pct(c["null_proportion"])}</td></tr>')
        parts.append("</table>")
    att = h.attrition_sentence(lang, label=False)
    if att:
        wwc = h.attrition.get("wwc")
        tag = (f' <span class="badge b-{wwc}" title="'
               f'{esc(h.attrition["explanation_" + lang] or "")}">{t["wwc"]}: '
               f'{esc(WWC_LABELS[wwc][lang])}</span>' if wwc else "")
        opt = h.attrition.get("wwc_optimistic")
        if opt:
            tag += (f' <span class="badge b-{opt}">{t["wwc_optimistic"]}: '
                    f'{esc(WWC_LABELS[opt][lang])}</span>')
        parts.append(f'<h3>{t["attrition"]}{tag}</h3><p>{esc(att)}</p>')
    counts = h.counts_sentence(lang, label=False)
    if counts:
        parts.append(f'<h3>{t["quality"]}</h3><p>{esc(counts)}</p>')
    sentences = [s for s in h.headline_sentences(lang)]
    if sentences:
        parts.append(f'<details><summary>{t["details"]}</summary><ul class="sentences">'
                     + "".join(f"<li>{esc(x)}</li>" for x in sentences) + "</ul></details>")
    parts.append("</section>")
    return "\n".join(parts)


def write_index(target: Path, *, title: str, study_id: str, status: str,
                entries: list[dict], lang: str = "en", notes: list[str] = (),
                run_dir: Path | None = None, headline=None,
                footer: dict | None = None, study=None) -> Path:
    """Write ``reports/index.html`` linking each report with its status.

    ``entries``: dicts with ``name``, ``href`` (or None when there is no report),
    ``status`` and ``seconds``. A notebook that succeeded and wrote
    ``RUN/status/<name>.json`` with ``"status": "not_applicable"`` (or whose entry says
    ``status: not_applicable``, or ``not_applicable: True`` with ``reason_en`` /
    ``reason_zh``) is shown as "not applicable" (不适用) with its reason in ``lang``;
    ``run_dir`` is the run folder (default: the folder above ``target``'s ``reports/``).

    ``headline`` (:class:`evaluation.headline.Headline`) opens the page, in ``lang`` with
    the other language one click away (a CSS ``:target`` toggle, no script); ``footer``
    (:func:`footer_data`) adds the reproducibility footer. Seconds are rounded to 1 decimal.
    """
    zh = lang == "zh"
    from evaluation.run_folder import read_statuses

    statuses = read_statuses(Path(run_dir) if run_dir is not None else Path(target).parent.parent)
    rows = []
    for e in entries:
        label = html.escape(notebook_title(e["name"], lang, study))
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
                    f'<td>{_seconds(e.get("seconds"))}</td></tr>')
    note_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    headline_part = ""
    if headline is not None:  # the other language first in the page: the CSS toggle needs it
        other = "en" if zh else "zh"
        headline_part = (headline_html(headline, other, main=False) + "\n"
                         + headline_html(headline, "zh" if zh else "en", main=True))
    page = _INDEX.format(
        headline=headline_part, footer=footer_html(footer, lang) if footer is not None else "",
        reports_heading="报告" if zh else "Reports",
        lang="zh" if zh else "en", title=html.escape(title), study_id=html.escape(study_id),
        status=html.escape(STATUS_ZH.get(status, status) if zh else status), status_class="ok" if status == "success" else "failed",
        status_label="运行状态" if zh else "Run status", study_label="研究" if zh else "Study",
        report_label="报告" if zh else "Report", state_label="状态" if zh else "Status",
        seconds_label="秒" if zh else "Seconds", rows="\n".join(rows), notes=note_html)
    write_text(target, page)
    return target

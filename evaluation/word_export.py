"""Word export: ``RUN/reports/tables.docx`` with the tables a paper prints.

Chinese researchers and journals work in Word. :func:`write_tables_docx` writes one
document, in the run's language (``study.language`` of the snapshot ``RUN/study.json``),
holding, each captioned and numbered:

1. Table 1, baseline characteristics by arm with SMDs (``tables/table1.csv`` and the
   ``randomized`` rows of ``tables/balance.csv``, which also holds the ``analysed``
   sample's: :func:`evaluation.published_table.table1_by_arm`);
2. the effects table (``tables/effects.csv``:
   :func:`evaluation.published_table.effects_by_outcome`);
3. the reliability table (``tables/reliability.csv``:
   :func:`evaluation.published_table.reliability_by_scale`);
4. the CONSORT flow diagram (``figures/consort.png``).

The tables are real, editable Word tables holding the same strings as the HTML pages
(one :class:`~evaluation.published_table.PublishedTable` makes both). The numbers come
from the published CSVs, so small cells stay suppressed. An item whose file is absent
(a study without arms has no Table 1 by arm; a survey without a comparison group no
effects) is left out, and the document says so in one line. The file is written
atomically (:func:`core.atomic.write_with`) and is the same, byte for byte, when written
again from the same run (fixed document properties and zip timestamps).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.labels import study_labels  # noqa: F401 - re-exported
from evaluation.published_table import (
    LANGS,
    PublishedTable,
    effects_by_outcome,
    reliability_by_scale,
    table1_by_arm,
)
from evaluation.run_folder import RunFolder

__all__ = ["DOCX_NAME", "study_labels", "tables_for_run", "write_tables_docx"]

DOCX_NAME = "tables.docx"
"""The file name under ``RUN/reports/``."""

_TEXT = {
    "heading": {"en": "Tables and figures", "zh": "表格与图"},
    "figure": {"en": "Figure {n}. Flow of clusters and children through the study (CONSORT)",
               "zh": "图{n} 研究中整群与儿童的流程图（CONSORT）"},
    "figure_children": {"en": "Figure {n}. Flow of children through the study (CONSORT)",
                        "zh": "图{n} 研究中儿童的流程图（CONSORT）"},
    "absent": {"en": "{what}: not in this run ({why}).", "zh": "{what}：本次运行没有此项（{why}）。"},
    "no_arms": {"en": "the study has no arms to compare", "zh": "研究没有可比较的组别"},
    "no_file": {"en": "{file} was not written", "zh": "未生成 {file}"},
    "empty": {"en": "{file} has no rows", "zh": "{file} 没有数据行"},
    "table1": {"en": "Baseline characteristics by arm (Table 1)",
               "zh": "各组基线特征（表1）"},
    "effects": {"en": "Effects table", "zh": "效应表"},
    "reliability": {"en": "Reliability table", "zh": "信度表"},
    "consort": {"en": "CONSORT flow diagram", "zh": "CONSORT 流程图"},
    "source": {"en": "Source: run folder files {files}; numbers as published (small cells "
                     "suppressed).",
               "zh": "来源：运行文件夹中的 {files}；数字与发布的表格一致（小单元格已隐去）。"},
}


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, keep_default_na=True)


def tables_for_run(run_dir, lang: str | None = None) -> list[tuple[str, object]]:
    """The items of ``tables.docx`` in order: ``(key, PublishedTable | Path | reason)``.

    ``key`` is ``"table1"``, ``"effects"``, ``"reliability"`` or ``"consort"``; the value
    is the table (or the figure's path), or a ``{"en": ..., "zh": ...}`` reason when
    the item is absent.
    """
    run = RunFolder(run_dir)
    study = run.study
    lang = lang or run.text_lang
    labels = study_labels(study)
    min_cell = run.min_cell
    tables = Path(run_dir) / "tables"

    def absent(file: str, df) -> dict:
        key = "no_file" if df is None else "empty"
        return {lg: _TEXT[key][lg].format(file=f"tables/{file}") for lg in LANGS}

    items: list[tuple[str, object]] = []
    t1 = _read(tables / "table1.csv")
    if not study.design.arm:
        items.append(("table1", dict(_TEXT["no_arms"])))
    elif t1 is None or t1.empty:
        items.append(("table1", absent("table1.csv", t1)))
    else:
        bal = _read(tables / "balance.csv")
        if bal is not None and "sample" in bal:  # the baseline (randomized) sample's SMDs
            bal = bal[bal["sample"].astype(str) == "randomized"]
        items.append(("table1", table1_by_arm(t1, bal, lang=lang, control=study.design.control,
                                              labels=labels, min_cell=min_cell)))
    fx = _read(tables / "effects.csv")
    if fx is None or fx.empty:
        items.append(("effects", absent("effects.csv", fx)))
    else:
        items.append(("effects", effects_by_outcome(
            fx, lang, outcome_labels=labels, arm_labels=labels,
            better={o.id: o.better for o in study.outcomes},
            adjust=study.analysis.adjust, min_cell=min_cell)))
    rel = _read(tables / "reliability.csv")
    if rel is None or rel.empty:
        items.append(("reliability", absent("reliability.csv", rel)))
    else:
        items.append(("reliability", reliability_by_scale(rel, lang, labels=labels,
                                                          min_cell=min_cell)))
    consort = Path(run_dir) / "figures" / "consort.png"
    if consort.is_file():
        items.append(("consort", consort))
    else:
        items.append(("consort", {lg: _TEXT["no_file"][lg].format(file="figures/consort.png")
                                  for lg in LANGS}))
    return items


def write_tables_docx(run_dir, lang: str | None = None) -> Path:
    """Write ``RUN/reports/tables.docx``; return its path.

    Parameters
    ----------
    run_dir : str or Path
        A run folder (with ``study.json``, ``tables/`` and ``figures/``).
    lang : {"zh", "en"}, optional
        Default: the run's language (``study.language`` of the snapshot).

    Returns
    -------
    Path

    Examples
    --------
    >>> path = write_tables_docx("RUN")                                  # doctest: +SKIP
    >>> import docx; [p.text for p in docx.Document(path).paragraphs][:2]  # doctest: +SKIP
    ['县域留守儿童结对帮扶项目：整群随机对照试验', '表1 各组基线特征']
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    from core.atomic import write_with

    run = RunFolder(run_dir)
    lang = lang or run.text_lang
    if lang not in LANGS:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    study = run.study
    items = tables_for_run(run_dir, lang)

    document = docx.Document()
    _set_fonts(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE  # the effects table has one column group per model
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(1.8))
    title = (study.title or {}).get(lang) or (study.title or {}).get("en") or study.id
    document.add_heading(str(title), level=1)
    document.add_paragraph(_TEXT["heading"][lang])

    number, figure_number = 0, 0
    for key, item in items:
        if isinstance(item, PublishedTable):
            number += 1
            item.add_to_docx(document, lang, number=number)
            document.add_paragraph("")
        elif isinstance(item, Path):
            figure_number += 1
            p = document.add_paragraph()
            try:
                p.style = document.styles["Caption"]
            except KeyError:
                pass
            which = "figure" if study.design.clusters else "figure_children"
            p.add_run(_TEXT[which][lang].format(n=figure_number)).bold = True
            document.add_picture(str(item), width=Cm(16))
        else:
            document.add_paragraph(_TEXT["absent"][lang].format(what=_TEXT[key][lang],
                                                                 why=item[lang]))
    used = {"table1": ("tables/table1.csv", "tables/balance.csv"),
            "effects": ("tables/effects.csv",), "reliability": ("tables/reliability.csv",),
            "consort": ("figures/consort.png",)}
    files = ", ".join(f for key, item in items if not isinstance(item, dict)
                      for f in used[key] if (Path(run_dir) / f).is_file())
    if files:
        document.add_paragraph(_TEXT["source"][lang].format(files=files))
    _strip_metadata(document)

    target = Path(run_dir) / "reports" / DOCX_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_with(target, lambda tmp: Path(tmp).write_bytes(_stable_zip(document)))


def _stable_zip(document) -> bytes:
    """The .docx bytes with fixed zip timestamps: the same run gives the same file."""
    import io
    import zipfile

    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _set_fonts(document) -> None:
    """A Latin and an East Asian font for the body, so Chinese text is not shown as boxes."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Caption"):
        try:
            style = document.styles[name]
        except KeyError:
            continue
        style.font.name = "Times New Roman"
        if name == "Normal":
            style.font.size = Pt(10.5)
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), "SimSun")


def _strip_metadata(document) -> None:
    """No author, no timestamps: the same run gives the same document text."""
    import datetime as dt

    props = document.core_properties
    props.author = "survey-workbench"
    props.last_modified_by = "survey-workbench"
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    props.created = epoch
    props.modified = epoch
    props.revision = 1

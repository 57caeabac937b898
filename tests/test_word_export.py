"""Word export (evaluation.word_export): RUN/reports/tables.docx from a hand-made run folder
(the study snapshot of an example, small published CSVs copied from a county run, a PNG).

The document must open with python-docx and hold the four captioned items, in the run's
language, with the numbers of the CSVs rounded by their kind; an absent item is one line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

docx = pytest.importorskip("docx")

from evaluation.published_table import SUPPRESSED  # noqa: E402
from evaluation.word_export import DOCX_NAME, write_tables_docx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

TABLE1 = """variable,level,arm,n,mean,sd,share,suppressed,suppression_reason
gender,female,control,190,,,0.497382199,False,
gender,male,control,192,,,0.502617801,False,
age,,control,382,10.45026178,0.9115113547,,False,
both_parents_away,0,control,68,,,0.1780104712,False,
both_parents_away,1,control,314,,,0.8219895288,False,
pcc.total,,control,382,3.369633508,0.6683567929,,False,
gender,female,treatment,176,,,0.4444444444,False,
gender,male,treatment,220,,,0.5555555556,False,
age,,treatment,396,10.23232323,0.8246614382,,False,
both_parents_away,0,treatment,,,,,True,small
both_parents_away,1,treatment,,,,,True,complementary
pcc.total,,treatment,396,3.423813897,0.6663620862,,False,
"""

BALANCE = """variable,level,arm,control,n_treatment,n_control,mean_treatment,mean_control,\
sd_pooled,smd,method,abs_smd,wwc_flag,n_smallest_arm,suppressed,suppression_reason
gender,female,treatment,control,396,382,0.4444444444,0.497382199,,-0.1287676597,cox_index,\
0.1287676597,adjustment required,176,False,
gender,male,treatment,control,396,382,0.5555555556,0.502617801,,0.1287676597,cox_index,\
0.1287676597,adjustment required,192,False,
age,,treatment,control,396,382,10.23232323,10.45026178,0.8683890439,-0.250726152,hedges_g,\
0.250726152,not satisfied,382,False,
both_parents_away,0,treatment,control,,,,,,,cox_index,,,,True,small
both_parents_away,1,treatment,control,,,,,,,cox_index,,,,True,complementary
pcc.total,,treatment,control,396,382,3.423813897,3.369633508,0.6673421911,0.08110982262,\
hedges_g,0.08110982262,adjustment required,382,False,
"""

EFFECTS = """outcome,arm,control,model,estimate,std_error,df,ci_low,ci_high,p_value,p_adjusted,\
effect_size,effect_size_ci_low,effect_size_ci_high,n_obs,n_clusters,primary,n_smallest_arm,\
suppressed,suppression_reason
communication,treatment,control,mixed_reml,0.2389161742,0.09001578703,17.12176474,\
0.04910229822,0.4287300502,0.01662499872,0.04987499616,0.3700794135,0.07605910226,\
0.6640997247,696,20.0,False,329.0,False,
communication,treatment,control,ols_cr2,0.2236347226,0.09143943049,16.695368,0.03044588948,\
0.4168235557,0.02585762609,0.07757287826,0.3464085562,0.04716046102,0.6456566515,696,20.0,\
True,329.0,False,
loneliness,treatment,control,ols_cr2,-0.9703477066,1.404621851,16.69117166,-3.938023175,\
1.997327762,0.0004991710856,0.0009983421713,-0.08924840729,-0.3622024289,0.1837056143,696,\
20.0,True,329.0,False,
loneliness,treatment,control,mixed_reml,-0.9540509646,1.372579317,18.13595164,-3.836184402,\
1.928082473,0.4958158382,0.9916316764,-0.08774950308,-0.3528357368,0.1773367306,696,20.0,\
False,329.0,False,
"""

RELIABILITY = """instrument,scale,wave,n,n_items,alpha,alpha_ci_low,alpha_ci_high,omega_total,\
alpha_std,suppressed,suppression_reason
pcc,total,baseline,683,12,0.8212844677,0.8021641286,0.8392912831,0.821311051,0.8204585245,\
False,
pcc,total,endline,622,12,0.8107525315,0.7893082167,0.8308785735,0.8113858979,0.8092215969,\
False,
cls,total,baseline,677,16,0.8837405174,0.8714592729,0.8953394226,0.8843470658,0.883859203,\
False,
"""

FORBIDDEN = re.compile(r"\b(?:NaN|nan|None|False|True|NaT|suppression_reason)\b|<NA>")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 220, 240)).save(buf, format="PNG")
    return buf.getvalue()


def make_run(folder: Path, study: str = "county-cluster-trial", *, language=None,
             tables=("table1", "balance", "effects", "reliability"), figure=True) -> Path:
    from survey import load_study
    from survey.snapshot import SNAPSHOT_NAME, write_snapshot

    folder.mkdir(parents=True)
    write_snapshot(load_study(ROOT / "examples" / study), folder / SNAPSHOT_NAME,
                   language=language)
    (folder / "tables").mkdir()
    texts = {"table1": TABLE1, "balance": BALANCE, "effects": EFFECTS,
             "reliability": RELIABILITY}
    for name in tables:
        (folder / "tables" / f"{name}.csv").write_text(texts[name], encoding="utf-8")
    if figure:
        (folder / "figures").mkdir()
        (folder / "figures" / "consort.png").write_bytes(_png())
    return folder


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for t in document.tables:
        parts += [c.text for r in t.rows for c in r.cells]
    return "\n".join(parts)


def rows_of(table) -> list[list[str]]:
    return [[c.text for c in r.cells] for r in table.rows]


def test_docx_holds_four_captioned_items_in_the_run_language(tmp_path):
    run = make_run(tmp_path / "run")  # the county study's language: zh
    path = write_tables_docx(run)
    assert path == run / "reports" / DOCX_NAME
    assert [p.name for p in (run / "reports").iterdir()] == [DOCX_NAME]  # no temp file left
    doc = docx.Document(path)
    captions = [p.text for p in doc.paragraphs if re.match(r"^(表|图)\d", p.text)]
    assert captions == ["表1 各组基线特征", "表2 各结局的项目效应", "表3 各量表在各测量时点的信度",
                        "图1 研究中整群与儿童的流程图（CONSORT）"]
    assert len(doc.tables) == 3
    assert len(doc.inline_shapes) == 1  # the CONSORT figure
    text = all_text(doc)
    assert not FORBIDDEN.findall(text), FORBIDDEN.findall(text)
    assert "ols_cr2" not in text and "OLS + CR2 聚类稳健标准误（主要分析）" in text


def test_docx_numbers_equal_the_csvs_rounded(tmp_path):
    run = make_run(tmp_path / "run", language="en")
    doc = docx.Document(write_tables_docx(run))
    t1, fx, rel = (rows_of(t) for t in doc.tables)

    # Table 1: n (%) and mean (SD) from table1.csv, SMD from balance.csv
    csv1 = pd.read_csv(run / "tables" / "table1.csv")
    female = csv1[(csv1["variable"] == "gender") & (csv1["level"] == "female")]
    # rows in table1.csv order (labels come from the study): header, gender, female, male, age
    row = t1[2]
    for cell, (_, r) in zip(row[1:3], female.iterrows()):
        assert cell == f"{int(r['n'])} ({100 * r['share']:.1f}%)"
    age = csv1[csv1["variable"] == "age"]
    row = t1[4]
    assert row[0].endswith(", mean (SD)")
    assert row[1:3] == [f"{m:.2f} ({s:.2f})" for m, s in zip(age["mean"], age["sd"])]
    assert row[3] == f"{-0.250726152:.2f} †" == "-0.25 †"  # WWC: not satisfied
    assert t1[0][1].endswith("(N = 382)") and t1[0][2].endswith("(N = 396)")

    # the effects table: the primary model first, its numbers rounded by kind
    assert fx[0][1].startswith("OLS with CR2 cluster-robust SE (primary)")
    csv = pd.read_csv(run / "tables" / "effects.csv")
    for outcome, line in zip(["communication", "loneliness"], fx[2:]):
        r = csv[(csv["outcome"] == outcome) & (csv["model"] == "ols_cr2")].iloc[0]
        p = "< .001" if r["p_value"] < 0.001 else f"{r['p_value']:.3f}"
        padj = "< .001" if r["p_adjusted"] < 0.001 else f"{r['p_adjusted']:.3f}"
        assert line[1:5] == [f"{r['estimate']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f})",
                             f"{r['effect_size']:.2f}", p, padj]
    assert fx[3][3:5] == ["< .001", "< .001"]
    assert "(lower is better)" in fx[3][0]

    # reliability
    csvr = pd.read_csv(run / "tables" / "reliability.csv")
    for line, (_, r) in zip(rel[1:], csvr.iterrows()):
        assert line[2:7] == [str(r["n"]), str(r["n_items"]), f"{r['alpha']:.2f}",
                             f"{r['alpha_ci_low']:.2f} to {r['alpha_ci_high']:.2f}",
                             f"{r['omega_total']:.2f}"]


def test_suppressed_cells_stay_suppressed_with_a_footnote(tmp_path):
    run = make_run(tmp_path / "run", language="en")
    doc = docx.Document(write_tables_docx(run))
    t1 = rows_of(doc.tables[0])
    away = t1[6:8]  # both_parents_away 0 and 1 (labelled by the study)
    assert t1[5][0].endswith(", n (%)") and all(r[0].startswith("\u2003") for r in away)
    assert [r[2] for r in away] == [SUPPRESSED, SUPPRESSED]   # the treatment arm's cells
    assert [r[3] for r in away] == [SUPPRESSED, SUPPRESSED]   # and their SMDs
    assert [r[1] for r in away] == ["68 (17.8%)", "314 (82.2%)"]
    notes = [p.text for p in doc.paragraphs if p.text.startswith(SUPPRESSED)]
    assert len(notes) == 1 and "fewer than 5 children" in notes[0]


def test_absent_items_are_one_line_each_and_no_error(tmp_path):
    # a one-group pre-post study: no arms, so no Table 1 by arm; no effects, no figure
    run = make_run(tmp_path / "run", "single-school-pre-post", language="en",
                   tables=("table1", "reliability"), figure=False)
    doc = docx.Document(write_tables_docx(run))
    paras = [p.text for p in doc.paragraphs]
    assert ("Baseline characteristics by arm (Table 1): not in this run (the study has no arms "
            "to compare)." in paras)
    assert "Effects table: not in this run (tables/effects.csv was not written)." in paras
    assert ("CONSORT flow diagram: not in this run (figures/consort.png was not written)."
            in paras)
    assert [p for p in paras if re.match(r"^Table \d+\.", p)] == [
        "Table 1. Reliability of the scales by wave"]
    assert len(doc.tables) == 1 and len(doc.inline_shapes) == 0


def test_the_same_run_gives_the_same_bytes(tmp_path):
    import time

    run = make_run(tmp_path / "run")
    first = write_tables_docx(run).read_bytes()
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    assert write_tables_docx(run).read_bytes() == first


def test_zh_absent_line_and_english_on_request(tmp_path):
    run = make_run(tmp_path / "run", tables=("table1", "balance", "reliability"))
    doc = docx.Document(write_tables_docx(run))
    assert "效应表：本次运行没有此项（未生成 tables/effects.csv）。" in [p.text for p in doc.paragraphs]
    en = docx.Document(write_tables_docx(run, "en"))
    assert en.paragraphs[0].text.startswith("County mentoring program")
    with pytest.raises(ValueError, match="lang"):
        write_tables_docx(run, "fr")


def test_table1_smds_come_from_the_randomized_rows_of_balance(tmp_path):
    """balance.csv with a ``sample`` column holds the randomized (baseline) and the analysed
    sample's SMDs; Table 1 shows the randomized ones (the analysed rows come first here, and
    differ, so taking the first match would show them)."""
    run = make_run(tmp_path / "run", language="en")
    bal = pd.read_csv(run / "tables" / "balance.csv")
    analysed = bal.assign(sample="analysed", smd=bal["smd"] + 0.31,
                          wwc_flag="not satisfied")
    both = pd.concat([analysed, bal.assign(sample="randomized")], ignore_index=True)
    both = both[["sample"] + [c for c in both.columns if c != "sample"]]
    both.to_csv(run / "tables" / "balance.csv", index=False)
    t1 = rows_of(docx.Document(write_tables_docx(run)).tables[0])
    assert t1[4][3] == "-0.25 †"  # age: randomized -0.2507 (analysed would be 0.06 †)
    assert t1[2][3] == "-0.13"    # female: randomized -0.1288, within the bound

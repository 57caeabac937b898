"""The table layer (evaluation.published_table): formatting by kind, suppression shown as a
symbol with a footnote, bilingual labels, no NaN/None/False in HTML or Word, and the two
builders (Table 1 by arm, effects by outcome) read from small hand-made published tables."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from evaluation.model_names import MODEL_LABELS, model_label
from evaluation.published_table import (
    MISSING,
    SUPPRESSED,
    ColumnGroup,
    ColumnSpec,
    PublishedTable,
    effects_by_outcome,
    format_value,
    reliability_by_scale,
    table1_by_arm,
)

#: what a reader must never see: missing-value spellings, booleans and the suppression helpers
FORBIDDEN = re.compile(r"\b(?:NaN|nan|None|False|True|NaT|suppression_reason|complementary)\b"
                       r"|<NA>")


class _Text(HTMLParser):
    """The text a reader sees: everything outside <style> and <script>."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(s.strip() for s in p.parts if s.strip())


def assert_clean(text: str) -> None:
    found = FORBIDDEN.findall(text)
    assert not found, f"{found} shown in: {text[:400]}"


# --- formatting by kind ------------------------------------------------------------------------

@pytest.mark.parametrize("kind, value, expected", [
    ("p_value", 0.0499, "0.050"),
    ("p_value", 0.0004, "< .001"),
    ("p_value", 0.000999, "< .001"),
    ("p_value", 0.001, "0.001"),
    ("p_value", 1.0, "1.000"),
    ("share", 0.452, "45.2%"),
    ("share", 1.0, "100.0%"),
    ("count", 382.0, "382"),
    ("count", np.int64(20), "20"),
    ("estimate", 0.2236347226, "0.22"),
    ("estimate", -0.9703, "-0.97"),
    ("estimate", -0.001, "0.00"),  # no "-0.00"
    ("smd", -0.250726152, "-0.25"),
    ("estimate", np.nan, MISSING),
    ("estimate", pd.NA, MISSING),
    ("estimate", None, MISSING),
    ("count", float("inf"), MISSING),
    ("text", None, ""),
    ("text", np.nan, ""),
    ("text", pd.NA, ""),
    ("text", False, ""),
    ("text", 1.0, "1"),
    ("bool", False, ""),
    ("bool", True, "✓"),
    ("bool", "False", ""),
])
def test_format_by_kind(kind, value, expected):
    assert format_value(kind, value) == expected


def test_ci_in_both_languages_and_estimate_with_ci():
    assert format_value("ci", 0.0304, "en", high=0.4168) == "0.03 to 0.42"
    assert format_value("ci", 0.0304, "zh", high=0.4168) == "0.03 至 0.42"
    assert format_value("ci", 0.0304, "en", high=np.nan) == MISSING
    assert format_value("estimate_ci", 0.2236, "zh", low=0.0304, high=0.4168) == \
        "0.22 (0.03 至 0.42)"


def test_bad_kind_and_lang_are_refused():
    with pytest.raises(ValueError, match="unknown column kind"):
        format_value("percent", 0.5)
    with pytest.raises(ValueError, match="lang"):
        format_value("estimate", 0.5, "fr")
    with pytest.raises(ValueError, match="upper bound"):
        ColumnSpec("ci_low", "CI", "置信区间", "ci")
    with pytest.raises(ValueError, match="never shown"):
        ColumnSpec("suppressed", "s", "s", "bool")


# --- the table object --------------------------------------------------------------------------

def _small_table(**kw) -> PublishedTable:
    data = pd.DataFrame({
        "arm": ["control", "treatment", "waitlist"],
        "n": [40.0, np.nan, np.nan],
        "mean": [2.91234, np.nan, np.nan],
        "p": [0.0004, 0.2, np.nan],
        "share": [0.452, np.nan, 0.1],
        "note": ["ok", None, pd.NA],
        "flag": [True, False, pd.NA],
        "suppressed": [False, True, True],
        "suppression_reason": [np.nan, "small", "complementary"],
    })
    cols = [ColumnSpec("arm", "Arm", "组别"),
            ColumnSpec("n", "Children", "儿童人数", "count"),
            ColumnSpec("mean", "Mean", "均值", "estimate"),
            ColumnSpec("p", "p-value", "p 值", "p_value"),
            ColumnSpec("share", "Share", "比例", "share"),
            ColumnSpec("note", "Note", "备注"),
            ColumnSpec("flag", "Flag", "标记", "bool")]
    return PublishedTable(data, cols, caption_en="Means by arm", caption_zh="各组均值",
                          notes_en=["A note."], notes_zh=["一条说明。"], min_cell=5, **kw)


def test_suppressed_cells_show_the_symbol_and_a_footnote_in_both_languages():
    t = _small_table()
    cells = t.cells("en")
    assert cells["n"].tolist() == ["40", SUPPRESSED, SUPPRESSED]
    assert cells["mean"].tolist() == ["2.91", SUPPRESSED, SUPPRESSED]
    # a value that survived suppression is still shown
    assert cells["p"].tolist() == ["< .001", "0.200", SUPPRESSED]
    assert cells["share"].tolist() == ["45.2%", SUPPRESSED, "10.0%"]
    assert cells["note"].tolist() == ["ok", "", ""]
    assert cells["flag"].tolist() == ["✓", "", ""]
    en, zh = t.footnotes("en"), t.footnotes("zh")
    assert en[0] == "A note." and zh[0] == "一条说明。"
    assert en[-1].startswith(SUPPRESSED) and "fewer than 5 children" in en[-1]
    assert zh[-1].startswith(SUPPRESSED) and "少于 5 名儿童" in zh[-1]


def test_no_suppression_footnote_without_suppressed_cells():
    t = _small_table()
    t2 = PublishedTable(t.data.iloc[:1], t.columns, caption_en="x", caption_zh="x", min_cell=5)
    assert not any(SUPPRESSED in n for n in t2.footnotes("en"))
    # missing values outside suppressed rows are a dash, never the symbol
    t3 = PublishedTable(pd.DataFrame({"a": [np.nan]}), [ColumnSpec("a", "A", "甲", "estimate")])
    assert t3.cells("en")["a"].tolist() == [MISSING]


def test_suppressed_counts_within_a_row_show_the_symbol():
    data = pd.DataFrame({"n": [40, 40], "n_worse": [np.nan, 9.0], "worse": [np.nan, 0.225],
                         "suppressed_counts": ["n_worse", ""]})
    t = PublishedTable(data, [ColumnSpec("n", "n", "人数", "count"),
                              ColumnSpec("n_worse", "Worse", "变差", "count"),
                              ColumnSpec("worse", "Share worse", "变差比例", "share")])
    assert t.cells("en").values.tolist() == [["40", SUPPRESSED, SUPPRESSED],
                                             ["40", "9", "22.5%"]]
    assert t.footnotes("en")[-1].startswith(SUPPRESSED)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_has_no_nan_none_false_index_or_helper_columns(lang):
    t = _small_table()
    html = t.to_html(lang, number=2)
    text = visible_text(html)
    assert_clean(text)
    assert "small" not in text.replace("small-cell", "")  # the reason column is not shown
    # no index column: the first header is the first column's label
    heads = [c.label(lang) for c in t.columns]
    assert text.index(heads[0]) < text.index(heads[1])
    assert ("Table 2. Means by arm" if lang == "en" else "表2 各组均值") in text
    # fills its container and wraps
    assert "width:100%" in html.replace(" ", "") and "white-space:normal" in html
    assert html == t.to_html(lang, number=2)  # stable id: same table, same bytes


def test_bilingual_labels():
    t = _small_table()
    en, zh = visible_text(t.to_html("en")), visible_text(t.to_html("zh"))
    for c in t.columns:
        assert c.label_en in en and c.label_zh in zh
    assert "Children" not in zh and "儿童人数" not in en
    assert "各组均值" in zh and "Means by arm" in en


def test_column_groups_and_row_groups_in_html_and_docx():
    docx = pytest.importorskip("docx")
    data = pd.DataFrame({"o": ["a", "b"], "x": [1.234, 2.0], "y": [0.5, 0.25],
                         "g": [{"en": "Group one", "zh": "第一组"}] * 2})
    t = PublishedTable(data, [ColumnSpec("o", "Outcome", "结局"),
                              ColumnSpec("x", "X", "X", "estimate"),
                              ColumnSpec("y", "Y", "Y", "share")],
                       groups=[ColumnGroup("Model A", "模型甲", ("x", "y"))], row_groups="g",
                       caption_en="Grouped", caption_zh="分组")
    assert "模型甲" in visible_text(t.to_html("zh")) and "第一组" in visible_text(t.to_html("zh"))
    doc = docx.Document()
    table = t.add_to_docx(doc, "en", number=4)
    assert doc.paragraphs[0].text == "Table 4. Grouped"
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["", "Model A", "Model A"]  # merged spanner
    assert rows[1] == ["Outcome", "X", "Y"]
    assert rows[2] == ["Group one"] * 3          # merged row-group line
    assert rows[3] == ["a", "1.23", "50.0%"]
    with pytest.raises(ValueError, match="not shown"):
        PublishedTable(data, t.columns, groups=[ColumnGroup("M", "M", ("z",))])


def test_docx_table_holds_the_same_strings_and_no_nan():
    docx = pytest.importorskip("docx")
    t = _small_table()
    for lang in ("en", "zh"):
        doc = docx.Document()
        table = t.add_to_docx(doc, lang, number=1)
        body = [[c.text for c in r.cells] for r in table.rows[1:]]
        assert body == t.cells(lang).values.tolist()
        assert [c.text for c in table.rows[0].cells] == [c.label(lang) for c in t.columns]
        text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
            c.text for r in table.rows for c in r.cells)
        assert_clean(text)
        assert doc.paragraphs[0].text == ("Table 1. Means by arm" if lang == "en"
                                          else "表1 各组均值")
        assert any(p.text.startswith(SUPPRESSED) for p in doc.paragraphs)


def test_display_shows_html(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    _small_table(lang="zh").display()
    assert len(shown) == 1 and "各组均值" in shown[0].data


# --- model names -------------------------------------------------------------------------------

def test_model_names_in_words():
    assert model_label("ols_cr2", "en") == "OLS with CR2 cluster-robust SE"
    assert model_label("ols_cr2", "zh") == "OLS + CR2 聚类稳健标准误"
    from analysis.effects_rules import primary_model  # noqa: F401  (the models exist)
    for code in ("paired_t", "change_cr2", "ancova_hc2", "did", "mixed_reml", "ols_cr2",
                 "cluster_means"):
        assert set(MODEL_LABELS[code]) == {"en", "zh"}
        assert model_label(code, "en") != code and model_label(code, "zh") != code


# --- Table 1 by arm ----------------------------------------------------------------------------

def _table1_csv(tiny_arm: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for arm, (nf, nm, age_m, age_sd) in {"control": (190, 192, 10.45026178, 0.9115113547),
                                         "treatment": (176, 220, 10.23232323, 0.8246614382)
                                         }.items():
        n = nf + nm
        rows += [{"variable": "gender", "level": "female", "arm": arm, "n": nf, "share": nf / n},
                 {"variable": "gender", "level": "male", "arm": arm, "n": nm, "share": nm / n},
                 {"variable": "age", "level": np.nan, "arm": arm, "n": n, "mean": age_m,
                  "sd": age_sd}]
    if tiny_arm:
        rows += [{"variable": v, "level": np.nan, "arm": "waitlist", "n": np.nan,
                  "suppressed": True, "suppression_reason": "small"}
                 for v in ("gender", "age")]
    t1 = pd.DataFrame(rows, columns=["variable", "level", "arm", "n", "mean", "sd", "share",
                                     "suppressed", "suppression_reason"])
    t1["suppressed"] = t1["suppressed"].eq(True)
    bal = pd.DataFrame({
        "variable": ["gender", "gender", "age"], "level": ["female", "male", np.nan],
        "arm": ["treatment"] * 3, "control": ["control"] * 3,
        "smd": [-0.1287676597, 0.1287676597, -0.250726152],
        "suppressed": [False] * 3})
    return t1, bal


def test_table1_by_arm_has_n_pct_and_mean_sd_by_arm_with_smd():
    t1, bal = _table1_csv()
    labels = {"gender": {"en": "Gender", "zh": "性别"}, "female": {"en": "Female", "zh": "女"},
              "male": {"en": "Male", "zh": "男"}, "age": {"en": "Age", "zh": "年龄"},
              "control": {"en": "Control", "zh": "对照组"},
              "treatment": {"en": "Mentoring", "zh": "结对帮扶"}}
    t = table1_by_arm(t1, bal, labels=labels, min_cell=5)
    en = t.cells("en").values.tolist()
    assert en == [
        ["Gender, n (%)", "", "", ""],
        ["\u2003Female", "190 (49.7%)", "176 (44.4%)", "-0.13"],
        ["\u2003Male", "192 (50.3%)", "220 (55.6%)", "0.13"],
        ["Age, mean (SD)", "10.45 (0.91)", "10.23 (0.82)", "-0.25 †"],  # |SMD| 0.2507 > 0.25
    ]
    assert t.footnotes("en")[-1].startswith("† |SMD| > 0.25") and "不等同" in t.footnotes("zh")[-1]
    assert [c.label("en") for c in t.columns] == [
        "Characteristic", "Control (N = 382)", "Mentoring (N = 396)", "SMD"]
    zh = t.cells("zh").values.tolist()
    assert zh[0][0] == "性别，n (%)" and zh[1][0] == "\u2003女" and zh[3][0] == "年龄，均值（标准差）"
    assert "结对帮扶（N = 396）" in visible_text(t.to_html("zh"))
    assert not any(SUPPRESSED in n for n in t.footnotes("en"))
    # the WWC flag of balance.csv decides when it is there (0.2507 rounds to 0.25)
    t = table1_by_arm(t1, bal.assign(wwc_flag=["adjustment required"] * 3))
    assert t.cells("en").iat[3, 3] == "-0.25" and not any("†" in n for n in t.footnotes("en"))


def test_table1_tiny_arm_is_suppressed_and_footnoted():
    t1, bal = _table1_csv(tiny_arm=True)
    t = table1_by_arm(t1, bal, control="control", min_cell=5)
    cells = t.cells("en")
    waitlist = cells.iloc[:, 3].tolist()  # control, treatment, waitlist
    assert waitlist == ["", SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert t.columns[3].label_en == "waitlist"  # no N for an arm whose size is suppressed
    assert t.footnotes("en")[-1].startswith(SUPPRESSED)
    assert_clean(visible_text(t.to_html("en")))


def test_table1_without_balance_has_no_smd_column():
    t1, _ = _table1_csv()
    t = table1_by_arm(t1, None)
    assert [c.label_en for c in t.columns][-1].startswith("treatment")
    with pytest.raises(ValueError, match="table1.csv"):
        table1_by_arm(t1.drop(columns="share"))


# --- effects by outcome ------------------------------------------------------------------------

def _effects_csv(arms=("treatment",)) -> pd.DataFrame:
    rows = []
    for k, arm in enumerate(arms):
        for outcome, est, lo, hi, p, padj, g in [
                ("communication", 0.2236347226, 0.03044588948, 0.4168235557, 0.02585762609,
                 0.07757287826, 0.3464085562),
                ("loneliness", -0.9703477066, -3.938023175, 1.997327762, 0.4991710856,
                 0.9983421713, -0.08924840729)]:
            for model, shift in (("mixed_reml", 0.01), ("ols_cr2", 0.0)):
                rows.append({"outcome": outcome, "arm": arm, "control": "control",
                             "model": model, "estimate": est + shift + k, "std_error": 0.1,
                             "df": 16.7, "ci_low": lo + shift + k, "ci_high": hi + shift + k,
                             "p_value": p, "p_adjusted": padj, "effect_size": g,
                             "effect_size_ci_low": g - 0.3, "effect_size_ci_high": g + 0.3,
                             "n_obs": 696, "n_clusters": 20.0, "primary": model == "ols_cr2",
                             "n_smallest_arm": 329.0, "suppressed": False,
                             "suppression_reason": np.nan})
    return pd.DataFrame(rows)


def test_effects_by_outcome_primary_model_first_with_words():
    fx = _effects_csv()
    t = effects_by_outcome(fx, "zh", better={"communication": "higher", "loneliness": "lower"},
                           adjust="holm")
    assert [g.label_en for g in t.groups] == ["OLS with CR2 cluster-robust SE (primary)",
                                              "Mixed model (REML)"]
    en = t.cells("en").values.tolist()
    assert en[0] == ["communication (higher is better)", "0.22 (0.03 to 0.42)", "0.35",
                     "0.026", "0.078", "0.23 (0.04 to 0.43)", "0.35", "0.026", "0.078"]
    assert en[1][:5] == ["loneliness (lower is better)", "-0.97 (-3.94 to 2.00)", "-0.09",
                         "0.499", "0.998"]
    zh = t.cells("zh").values.tolist()
    assert zh[0][0] == "communication（越高越好）" and zh[0][1] == "0.22 (0.03 至 0.42)"
    html = t.to_html()  # the builder's language is the default
    text = visible_text(html)
    assert "OLS + CR2 聚类稳健标准误（主要分析）" in text and "Holm" in text
    assert "ols_cr2" not in text and "mixed_reml" not in text
    assert_clean(text)


def test_effects_multi_arm_rows_say_which_arm_and_suppressed_show_symbol():
    fx = _effects_csv(arms=("treatment", "treatment_plus"))
    fx.loc[fx["arm"] == "treatment_plus", ["estimate", "ci_low", "ci_high", "p_value",
                                           "p_adjusted", "effect_size", "n_smallest_arm"]] = np.nan
    fx.loc[fx["arm"] == "treatment_plus", "suppressed"] = True
    labels = {"treatment": {"en": "Mentoring", "zh": "结对帮扶"},
              "treatment_plus": {"en": "Mentoring plus", "zh": "强化帮扶"},
              "control": {"en": "Control", "zh": "对照组"},
              "communication": {"en": "Communication", "zh": "沟通"}}
    t = effects_by_outcome(fx, "en", models=["ols_cr2"], outcome_labels=labels,
                           arm_labels=labels, min_cell=5)
    cells = t.cells("en").values.tolist()
    assert cells[0][0] == "Mentoring vs Control"
    assert cells[1] == ["Mentoring plus vs Control", SUPPRESSED, SUPPRESSED, SUPPRESSED,
                        SUPPRESSED]
    assert t.row_group_labels("zh")[:2] == ["沟通", "沟通"]
    assert t.cells("zh").iat[1, 0] == "强化帮扶 对 对照组"
    text = visible_text(t.to_html("zh"))
    assert "少于 5 名儿童" in text
    assert_clean(text)
    with pytest.raises(ValueError, match="not in the effects table"):
        effects_by_outcome(fx, models=["ancova_hc2"])


def test_one_group_change_is_not_called_an_effect():
    fx = _effects_csv().assign(arm=np.nan, control=np.nan)
    fx = fx[fx["outcome"] == "communication"]
    t = effects_by_outcome(fx, "en", adjust="holm")
    assert t.caption("en", 1) == "Table 1. Change from the first to the last wave by outcome " \
                                 "(one group)"
    assert t.columns[1].label_en == "Change (95% CI)"
    assert "not a program effect" in t.footnotes("en")[-1]
    assert "不是项目效应" in t.footnotes("zh")[-1]
    assert t.cells("en").iat[0, 0] == "communication"
    assert_clean(visible_text(t.to_html("zh")))


def test_reliability_by_scale_with_suppressed_row():
    rel = pd.DataFrame({"instrument": ["pcc", "pcc"], "scale": ["total", "total"],
                        "wave": ["baseline", "endline"], "n": [683, np.nan], "n_items": [12, 12],
                        "alpha": [0.8212844677, np.nan], "alpha_ci_low": [0.8021641286, np.nan],
                        "alpha_ci_high": [0.8392912831, np.nan],
                        "omega_total": [0.821311051, np.nan], "alpha_std": [0.82, np.nan],
                        "suppressed": [False, True], "suppression_reason": [np.nan, "small"]})
    t = reliability_by_scale(rel, "zh", labels={"baseline": {"en": "Baseline", "zh": "基线"}})
    assert t.cells("zh").values.tolist() == [
        ["pcc.total", "基线", "683", "12", "0.82", "0.80 至 0.84", "0.82"],
        ["pcc.total", "endline", SUPPRESSED, "12", SUPPRESSED, SUPPRESSED, SUPPRESSED]]


# --- nothing overflows in a browser ------------------------------------------------------------

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                        "google-chrome")) if p), None)

OVERFLOW_PROBE = """<script>window.addEventListener('load', function () {
  var r = [];
  document.querySelectorAll('.wb-table').forEach(function (d) {
    r.push([d.querySelector('table').scrollWidth, d.clientWidth]); });
  var p = document.createElement('pre'); p.id = 'probe'; p.textContent = JSON.stringify(r);
  document.body.appendChild(p); });</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not found (apt-get install "
                                             "chromium; .ci/run installs it)")
@pytest.mark.parametrize("width", [800, 600])
def test_wide_effects_table_fits_its_container_in_chromium(tmp_path, width):
    import json
    import subprocess

    fx = _effects_csv()
    more = [fx.assign(model=m, primary=False) for m in ("cluster_means", "did")]
    fx = pd.concat([fx, *more], ignore_index=True)  # four models: 17 columns
    t1, bal = _table1_csv()
    tables = [effects_by_outcome(fx, "zh"), effects_by_outcome(fx, "en"),
              table1_by_arm(t1, bal)]
    assert len(tables[0].columns) == 17
    body = "".join(t.to_html(number=k + 1) for k, t in enumerate(tables))
    page = tmp_path / "page.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}"
                    f"{OVERFLOW_PROBE}</body></html>", encoding="utf-8")
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          f"--window-size={width},2000", "--virtual-time-budget=3000",
                          "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', out)
    assert found, out[-500:]
    widths = json.loads(found.group(1))
    assert len(widths) == 3
    for scroll, client in widths:
        assert scroll <= client, f"a table is {scroll}px wide in a {client}px container"


def test_table1_by_arm_takes_the_randomized_rows_of_a_balance_with_samples():
    t1 = pd.DataFrame({"variable": ["age", "age"], "level": ["", ""],
                       "arm": ["control", "treatment"], "n": [382, 396],
                       "mean": [10.450, 10.232], "sd": [0.9115, 0.8247],
                       "share": [float("nan")] * 2})
    bal = pd.DataFrame({"sample": ["analysed", "randomized"], "variable": ["age", "age"],
                        "level": ["", ""], "arm": ["treatment"] * 2,
                        "control": ["control"] * 2, "smd": [0.05, -0.2507]})
    assert table1_by_arm(t1, bal).cells("en").iloc[0, 3] == "-0.25 †"
    only_analysed = bal.iloc[:1]
    assert table1_by_arm(t1, only_analysed).cells("en").shape[1] == 3  # no SMD column

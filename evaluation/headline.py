"""The answer of a finished run, in a few rows and sentences: the headline of ``index.html``,
of ``reports/summary.md`` and of the terminal.

:func:`headline` reads a run folder's tables (``tables/effects.csv``, ``claims.csv``,
``attrition.csv``), the validation counts and the study snapshot (``RUN/study.json``) and
returns a :class:`Headline`: a tidy table (one row per outcome and treatment arm, the
primary model's row of ``effects.csv``), the causal banner, the claims' verdicts, the
attrition with its What Works Clearinghouse classification and the data-quality counts,
with :meth:`Headline.headline_sentences` in English and Chinese.

Verdict badges
--------------
Each outcome row gets one badge from the primary model's estimate (its own units), its
``1 - alpha`` confidence interval (``ci_low``, ``ci_high``; the interval of the same
t test whose p-value is ``p_value``), the adjusted p-value (``p_adjusted``: Holm or
Benjamini-Hochberg within the outcome's family, ``analysis.adjust``; see below) and the outcome's
``better`` direction. "Favourable" means the estimate lies on the better side of 0
(above 0 for ``better: higher``, below 0 for ``better: lower``).

* **Decisive** -- the interval excludes 0 *and* ``p_adjusted < alpha``. What the badge
  says depends on what the design can support:

  - randomized / cluster-randomized: favourable -> ``effective`` (有效),
    unfavourable -> ``harmful`` (有害);
  - controlled (not randomized) or cross-sectional with groups: favourable ->
    ``favours_program`` (项目组较好（非随机）), unfavourable -> ``favours_control``
    (对照组较好（非随机）): a difference between groups that were not assigned at
    random, never called "effective";
  - pre/post (one group): favourable -> ``improved`` (有改善), unfavourable ->
    ``worsened`` (变差): a change over time, never called "effective".

* **Inconclusive** (无法确定) -- the interval excludes 0 but ``p_adjusted >= alpha``:
  the difference is significant only before the correction for testing several outcomes
  of its family.
* **No evidence** -- the interval includes 0 (``p_value >= alpha``): ``no_evidence``
  (无效果证据 / No evidence of effect; for non-randomized designs 无差异证据 / No evidence
  of a difference; for pre/post 无变化证据 / No evidence of change). This is *absence of
  evidence*, not evidence of no effect: the sentence gives the interval, which shows
  how large an effect the data still allow.
* **Not reported** (未报告) -- the row was suppressed (fewer than ``privacy.min_cell``
  children) or its estimate or interval is missing.

The badges use only the primary model (:func:`analysis.effects_rules.primary_model`,
flagged ``primary`` in ``effects.csv``); the other models are sensitivity analyses.
High attrition (WWC) does not change the badge; it adds a caveat to the sentences.

What each row estimates (``estimand`` of ``effects.csv``; from the design type when the
column is absent): an **effect** (randomized designs), an **adjusted difference**
(``controlled``, ``cross_sectional`` with groups: not randomized, so confounding cannot be
ruled out) or a **change** (``pre_post``: one group over time). The sentences and
:data:`ESTIMAND_LABELS` use these words, never "effect" for the last two.

Multiplicity: ``p_adjusted`` is adjusted within its ``family`` of ``effects.csv``
(``primary``: the primary outcome(s); ``secondary``: the others), per arm. The sentences
name the family ("Holm across 2 secondary outcomes"); a family of one outcome needs no
adjustment and says so. Without a ``family`` column the adjusted p is read as adjusted
across all outcomes of the arm (the tables of older runs).

The banner: for ``pre_post`` designs :func:`analysis.effects_rules.causal_statement`;
for ``controlled`` and ``cross_sectional`` designs with groups
:data:`NON_RANDOMIZED_STATEMENT` (the design cannot rule out confounding), then the
parallel-trends assumption when the primary model is the difference in differences, and
the primary outcome's E-value in words (VanderWeele & Ding 2017: ``e_value`` and
``e_value_ci`` of ``effects.csv``, else computed from the standardized difference and
its interval by :func:`analysis.evalue.evalue_smd`).

Attrition: overall and differential attrition, classified against the What Works
Clearinghouse boundaries, cautious *and* optimistic (``wwc_cautious``,
``wwc_optimistic`` of ``attrition.csv``; computed here when the table has no such
columns), for randomized designs only; for a non-randomized comparison the sentence
says that it is judged by the baseline equivalence of the analysed sample instead.

Numbers in sentences: estimates 2 decimals (signed), p 3 decimals or "< .001",
shares as %, counts as integers. The table keeps the unrounded values of ``effects.csv``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = [
    "BADGES",
    "CLAIM_VERDICTS",
    "DESCRIPTIVE_STATEMENT",
    "ESTIMAND_LABELS",
    "NON_RANDOMIZED_STATEMENT",
    "PARALLEL_TRENDS",
    "WWC_LABELS",
    "Headline",
    "badge",
    "causal_banner",
    "delivery_facts",
    "delivery_sentences",
    "delivery_verdict",
    "estimand_of",
    "evalue_sentence",
    "family_note",
    "fmt_estimate",
    "fmt_p",
    "headline",
    "write_summary",
]

RANDOMIZED = ("randomized", "cluster_randomized")
HEDGES_G = "Hedges' g"
BADGES = {
    "effective": {"en": "Effective", "zh": "有效"},
    "harmful": {"en": "Harmful", "zh": "有害"},
    "favours_program": {"en": "Favours the program (not randomized)", "zh": "项目组较好（非随机）"},
    "favours_control": {"en": "Favours the comparison group (not randomized)",
                        "zh": "对照组较好（非随机）"},
    "improved": {"en": "Improved (change, not effect)", "zh": "有改善（变化，非效果）"},
    "worsened": {"en": "Worsened (change, not effect)", "zh": "变差（变化，非效果）"},
    "inconclusive": {"en": "Inconclusive", "zh": "无法确定"},
    "no_evidence": {"en": "No evidence of effect", "zh": "无效果证据"},
    "no_evidence_difference": {"en": "No evidence of a difference", "zh": "无差异证据"},
    "no_evidence_change": {"en": "No evidence of change", "zh": "无变化证据"},
    "not_reported": {"en": "Not reported (small cells)", "zh": "未报告（小样本抑制）"},
}
"""Badge key -> label in English and Chinese (the rules: module docstring)."""

NON_RANDOMIZED_STATEMENT = {
    "en": ("The groups were not assigned at random, so this design cannot rule out "
           "confounding. Children (or schools) in the program may have differed from the "
           "comparison group before it started, in ways the covariates do not capture; the "
           "results are adjusted differences between the groups, not effects of the "
           "program: no causal claim follows."),
    "zh": ("各组不是随机分配的，因此该设计无法排除混杂。参加项目的儿童（或学校）在项目开始前"
           "可能就与对照组不同，而协变量未必能反映这些差异；结果是两组之间的调整后差异，而不是"
           "项目的效果：由此不能得出因果结论。"),
}
"""Banner of the designs with a comparison group that was not randomized."""

PARALLEL_TRENDS = {
    "en": ("The primary estimate is a difference in differences (the change in the program "
           "group minus the change in the comparison group): it removes a stable difference "
           "between the groups, but assumes parallel trends, i.e. that without the program "
           "both groups would have changed alike; the data cannot check this."),
    "zh": ("主要估计采用双重差分（项目组的变化减去对照组的变化）：它能消除两组之间稳定不变的差异，"
           "但前提是“平行趋势”假设，即如果没有项目，两组本会发生同样的变化；数据无法检验这一点。"),
}
"""Added to the banner when the primary model is ``did``."""

ESTIMAND_LABELS = {
    "effect": {"en": "Effect", "zh": "效果"},
    "adjusted_difference": {"en": "Adjusted difference", "zh": "调整后差异"},
    "change": {"en": "Change", "zh": "变化"},
}
"""What a row estimates (``estimand`` of ``effects.csv``), as a heading: the column
header of the index page's outcome table."""

DESCRIPTIVE_STATEMENT = {
    "en": ("This study has no comparison group and no earlier measurement of the same "
           "children: it describes the children, and cannot show what the program did."),
    "zh": "本研究既没有对照组，也没有对同一批儿童的前测：它只能描述儿童的状况，不能说明项目的作用。",
}
"""Banner of a design without groups and without a baseline (one cross-sectional survey)."""

_ADJUST = {"holm": {"en": "Holm-adjusted", "zh": "Holm校正"},
           "bh": {"en": "Benjamini-Hochberg-adjusted", "zh": "Benjamini-Hochberg校正"},
           "none": {"en": "not adjusted", "zh": "未校正"}}
_BETTER = {"higher": {"en": "higher is better", "zh": "越高越好"},
           "lower": {"en": "lower is better", "zh": "越低越好"}}
_FAMILY = {"primary": {"en": "primary", "zh": "主要"},
           "secondary": {"en": "secondary", "zh": "次要"}}
_ADJUST_NAME = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
WWC_LABELS = {"low": {"en": "low attrition", "zh": "低流失"},
              "high": {"en": "high attrition", "zh": "高流失"},
              "undetermined": {"en": "undetermined attrition", "zh": "流失等级无法确定"}}
"""The What Works Clearinghouse attrition classes (:mod:`analysis.attrition_standards`)."""
CLAIM_VERDICTS = {
    "above_null": {"en": "Above the no-change share", "zh": "高于无变化时的比例"},
    "below_null": {"en": "Below the no-change share", "zh": "低于无变化时的比例"},
    "consistent_with_no_change": {"en": "Consistent with no change", "zh": "与“没有变化”一致"},
    "not_reported": {"en": "Not reported", "zh": "未报告"},
    "below_claim": {"en": "Not supported by the study's data", "zh": "本研究数据不支持"},
    "consistent_with_claim": {"en": "Consistent with the study's data",
                              "zh": "与本研究数据相符"},
    "above_claim": {"en": "The study's data show more", "zh": "本研究数据显示的比例更高"},
}
"""Short verdict of a claim (``tables/claims.csv``). When the study's own data give the
observed share (``data_support``: its confidence interval below, around or above the
claimed share), the verdict says that (``below_claim``, ``consistent_with_claim``,
``above_claim``): the data of the study come first. Otherwise the claimed share's
confidence interval against the share that would look improved if nothing had changed
(``null_proportion``): ``above_null``, ``below_null``, ``consistent_with_no_change``."""


_DATA_SUPPORT = {
    "below_claim": {"en": "below the claimed share", "zh": "低于声称的比例"},
    "consistent_with_claim": {"en": "consistent with the claimed share",
                              "zh": "与声称的比例相符"},
    "above_claim": {"en": "above the claimed share", "zh": "高于声称的比例"},
}
"""``data_support`` of ``claims.csv``: the observed share's interval against the claim."""


def fmt_estimate(x: float, digits: int = 2) -> str:
    """A signed estimate with ``digits`` decimals (``+0.22``, ``-0.97``, ``0.00``); a value
    that is not zero but would round to zero keeps its sign with one significant digit
    (``+0.004``, ``-0.000005``), the rule of the published tables
    (:func:`evaluation.published_table.fixed_nonzero`), so that a CI limit of 0.0038 is
    not written 0.00 next to "excludes 0".

    Examples
    --------
    >>> fmt_estimate(0.2236), fmt_estimate(-0.9703), fmt_estimate(0.0)
    ('+0.22', '-0.97', '0.00')
    >>> fmt_estimate(0.0038), fmt_estimate(-0.001), fmt_estimate(-0.000005)
    ('+0.004', '-0.001', '-0.000005')
    """
    from evaluation.published_table import fixed_nonzero

    if x is None or not math.isfinite(x):
        return "–"
    s = fixed_nonzero(x, digits)
    if x == 0 or s.startswith(("<", ">")):
        return s
    return s if s.startswith("-") else "+" + s


def fmt_p(p: float) -> str:
    """A p-value with 3 decimals, APA style: ``.026``, ``< .001``, ``1.000``.

    Examples
    --------
    >>> fmt_p(0.02585), fmt_p(0.0004), fmt_p(1.0)
    ('.026', '< .001', '1.000')
    """
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "< .001"
    s = f"{p:.3f}"
    return s[1:] if s.startswith("0") else s


def _p_eq(p: float) -> str:
    s = fmt_p(p)
    return f"p {s}" if s.startswith("<") else f"p = {s}"


def _pct(x: float, digits: int = 0) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def badge(estimate: float, ci_low: float, ci_high: float, p_adjusted: float, *,
          better: str, design: str, alpha: float = 0.05) -> str:
    """The verdict badge of one outcome row (the rules of the module docstring).

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The primary model's estimate and its ``1 - alpha`` confidence interval.
    p_adjusted : float
        The p-value adjusted for the study's outcomes (the unadjusted one when
        ``analysis.adjust`` is ``none``).
    better : {"higher", "lower"}
        Which direction of the outcome is better.
    design : str
        ``design.type`` of the study.
    alpha : float
        The study's significance level.

    Returns
    -------
    str
        A key of :data:`BADGES`.

    Examples
    --------
    >>> badge(0.22, 0.03, 0.42, 0.078, better="higher", design="cluster_randomized")
    'inconclusive'
    >>> badge(-0.5, -0.9, -0.1, 0.01, better="lower", design="randomized")
    'effective'
    >>> badge(0.2, 0.05, 0.35, 0.01, better="higher", design="pre_post")
    'improved'
    >>> badge(-0.97, -3.94, 2.0, 0.998, better="lower", design="controlled")
    'no_evidence_difference'
    """
    if better not in _BETTER:
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    values = (estimate, ci_low, ci_high)
    if any(v is None or not math.isfinite(v) for v in values):
        return "not_reported"
    if ci_low <= 0 <= ci_high:
        return ("no_evidence_change" if design == "pre_post" else "no_evidence"
                if design in RANDOMIZED else "no_evidence_difference")
    if p_adjusted is None or not math.isfinite(p_adjusted) or p_adjusted >= alpha:
        return "inconclusive"
    favourable = (ci_low > 0) == (better == "higher")
    if design == "pre_post":
        return "improved" if favourable else "worsened"
    if design in RANDOMIZED:
        return "effective" if favourable else "harmful"
    return "favours_program" if favourable else "favours_control"


def causal_banner(design, lang: str) -> str | None:
    """The banner for a design that supports no causal claim, else ``None``.

    Examples
    --------
    >>> from core.design import Design
    >>> causal_banner(Design(type="controlled", id="id", arm="arm", control="c"),
    ...               "en").startswith("The groups were not assigned at random")
    True
    >>> causal_banner(Design(type="randomized", id="id", arm="arm", control="c"), "en") is None
    True
    """
    from analysis.effects_rules import causal_statement

    if lang not in ("en", "zh"):
        raise ValueError("lang must be 'en' or 'zh'")
    said = causal_statement(design, lang)
    if said is not None:
        return said
    if design.type in RANDOMIZED:
        return None
    return NON_RANDOMIZED_STATEMENT[lang] if design.arm else DESCRIPTIVE_STATEMENT[lang]


def estimand_of(design) -> str:
    """What the effects of a design estimate when ``effects.csv`` does not say it.

    Examples
    --------
    >>> from core.design import Design
    >>> [estimand_of(Design(type=t, id="id", arm="arm", control="c"))
    ...  for t in ("randomized", "controlled", "cross_sectional")]
    ['effect', 'adjusted_difference', 'adjusted_difference']
    >>> estimand_of(Design(type="pre_post", id="id", waves=("t0", "t1")))
    'change'
    """
    if design.type == "pre_post":
        return "change"
    if design.type in RANDOMIZED:
        return "effect"
    return "adjusted_difference"


def family_note(family: str, size: int, adjust: str, lang: str, *, short: bool = False) -> str:
    """Which family an adjusted p belongs to, in words.

    Parameters
    ----------
    family : {"primary", "secondary", "all"}
        ``family`` of ``effects.csv`` (``all``: a table without the column, adjusted
        across all outcomes of the arm).
    size : int
        Outcomes in the family.
    adjust : {"holm", "bh", "none"}
        ``analysis.adjust`` of the study.
    lang : {"en", "zh"}
    short : bool
        A few words for a table cell (``Holm, 2 secondary``).

    Examples
    --------
    >>> family_note("secondary", 2, "holm", "en")
    'Holm across 2 secondary outcomes'
    >>> family_note("secondary", 2, "holm", "en", short=True)
    'Holm, 2 secondary'
    >>> family_note("primary", 1, "holm", "en")
    'the primary outcome is its own family: no adjustment needed'
    >>> family_note("secondary", 2, "holm", "zh")
    '在2个次要结局中做Holm校正'
    >>> family_note("secondary", 2, "none", "en")
    'not adjusted (adjust: none)'
    """
    zh = lang == "zh"
    if short:
        return _family_short(family, size, adjust, zh)
    if adjust not in _ADJUST_NAME:
        return "未校正（adjust: none）" if zh else "not adjusted (adjust: none)"
    name = _ADJUST_NAME[adjust]
    if size < 2:
        if family == "primary":
            return ("主要结局单独成为一个检验族：无需校正" if zh else
                    "the primary outcome is its own family: no adjustment needed")
        return ("该检验族只有一个结局：无需校正" if zh else
                "the only outcome of its family: no adjustment needed")
    if family in _FAMILY:
        return (f"在{size}个{_FAMILY[family]['zh']}结局中做{name}校正" if zh else
                f"{name} across {size} {_FAMILY[family]['en']} outcomes")
    return f"在{size}个结局中做{name}校正" if zh else f"{name} across {size} outcomes"


def _family_short(family: str, size: int, adjust: str, zh: bool) -> str:
    if adjust not in _ADJUST_NAME:
        return "未校正" if zh else "not adjusted"
    if size < 2:
        return "单独成族：无需校正" if zh else "own family: none needed"
    name = _ADJUST_NAME[adjust]
    fam = _FAMILY.get(family)
    if zh:
        return f"{name}，{size}个{fam['zh'] if fam else ''}结局"
    return f"{name}, {size} {fam['en']}" if fam else f"{name}, {size} outcomes"


def evalue_sentence(e_value: float, e_value_ci: float, lang: str, *,
                    label: str | None = None) -> str | None:
    """The E-value of a non-randomized estimate in words (VanderWeele & Ding 2017).

    Examples
    --------
    >>> print(evalue_sentence(2.54, 1.0, "en", label="Communication"))  # doctest: +NORMALIZE_WHITESPACE
    E-value of Communication: 2.54. An unmeasured confounder would have to be associated
    with both the group and the outcome by a risk ratio of at least 2.54 each, beyond the
    measured covariates, to explain the estimate away; the confidence interval already
    includes no difference, so it needs no confounding at all (E-value of the interval 1.00).
    """
    if e_value is None or not math.isfinite(e_value):
        return None
    zh = lang == "zh"
    ev = f"{e_value:.2f}"
    ci = (f"{e_value_ci:.2f}" if e_value_ci is not None and math.isfinite(e_value_ci)
          else None)
    if zh:
        s = (f"{label + '的' if label else ''}E值为{ev}：一个未测量的混杂因素需要与分组和结局的关联"
             f"（风险比）都至少达到{ev}（在已测协变量之外），才能完全解释这一估计值")
        if ci is None:
            return s + "。"
        if e_value_ci <= 1:
            return s + f"；置信区间本已包含“无差异”，无需任何混杂即可解释（区间的E值为{ci}）。"
        return s + f"；关联达到{ci}即可使置信区间包含“无差异”（区间的E值）。"
    s = (f"E-value{' of ' + label if label else ''}: {ev}. An unmeasured confounder would have "
         f"to be associated with both the group and the outcome by a risk ratio of at least "
         f"{ev} each, beyond the measured covariates, to explain the estimate away")
    if ci is None:
        return s + "."
    if e_value_ci <= 1:
        return s + ("; the confidence interval already includes no difference, so it needs no "
                    f"confounding at all (E-value of the interval {ci}).")
    return s + (f"; a risk ratio of {ci} each would move the confidence interval to include "
                "no difference (E-value of the interval).")


# ------------------------------------------------------------------------------ reading


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, OSError):
        return None


def _outcome_labels(study, outcome_id: str) -> dict:
    try:
        o = study.outcome(outcome_id)
    except (KeyError, ValueError):
        return {"en": outcome_id, "zh": outcome_id}
    out = {"en": outcome_id, "zh": outcome_id}
    if o.scale:
        inst_id, scale_id = o.scale.split(".", 1)
        try:
            name = study.instrument(inst_id).scale(scale_id).name or {}
        except (KeyError, ValueError, AttributeError):
            name = {}
        for lang in ("en", "zh"):
            text = name.get(lang) or name.get("en")
            if text:
                out[lang] = str(text)
    return out


def _counts(run_dir: Path, counts: dict | None) -> dict:
    """Rows read / quarantined / analysed: ``counts`` given, else the manifest's validate
    step, else ``validation/report.json``."""
    if counts is None:
        try:
            m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
            counts = next((s.get("counts") for s in m.get("steps") or []
                           if isinstance(s, dict) and s.get("name") == "validate"), None)
        except (OSError, ValueError):
            counts = None
    if counts is None:
        try:
            report = json.loads((run_dir / "validation" / "report.json").read_text(
                encoding="utf-8"))
            counts = report.get("counts")
        except (OSError, ValueError):
            counts = None
    counts = counts or {}
    out = {}
    for key in ("rows_read", "rows_quarantined", "rows_clean", "errors", "warnings"):
        v = counts.get(key)
        out[key] = int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return out


def _primary_rows(effects: pd.DataFrame, study) -> pd.DataFrame:
    """The primary model's rows (``primary`` column; else the rule of effects_rules)."""
    if "primary" in effects.columns:
        flag = effects["primary"].astype(str).str.lower().isin(("true", "1"))
        if flag.any():
            return effects[flag]
    from analysis.effects_rules import primary_model

    n_clusters = effects["n_clusters"].max() if "n_clusters" in effects else None
    n_clusters = int(n_clusters) if n_clusters is not None and math.isfinite(n_clusters) else None
    return effects[effects["model"] == primary_model(study.design, n_clusters)]


def _float(row, key) -> float:
    v = row.get(key) if hasattr(row, "get") else None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.nan
    return v


def _suppressed(row) -> bool:
    return str(row.get("suppressed", "")).lower() in ("true", "1")


def _text(row, key) -> str | None:
    v = row.get(key) if hasattr(row, "get") else None
    if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "":
        return None
    return str(v)


def _arm_label(study, value, lang: str) -> str:
    try:
        return str(study.label("arm", value, lang))
    except Exception:  # noqa: BLE001 - a label is for display; the value stands in for it
        return str(value)


def _evalues(r, vals: dict, estimand: str) -> tuple[float, float]:
    """``e_value``, ``e_value_ci`` of the row, else from the standardized difference and
    its interval (:func:`analysis.evalue.evalue_smd`); NaN for effects and changes."""
    if estimand != "adjusted_difference":
        return math.nan, math.nan
    ev, ev_ci = _float(r, "e_value"), _float(r, "e_value_ci")
    if math.isfinite(ev):
        return ev, ev_ci
    es, lo, hi = (vals[k] for k in ("effect_size", "effect_size_ci_low", "effect_size_ci_high"))
    if not all(math.isfinite(v) for v in (es, lo, hi)):
        return math.nan, math.nan
    from analysis.evalue import evalue_smd

    e = evalue_smd(es, ci_low=lo, ci_high=hi).iloc[0]
    return float(e["evalue"]), float(e["evalue_ci"])


def _effect_rows(effects: pd.DataFrame | None, study) -> pd.DataFrame:
    cols = ["outcome", "label_en", "label_zh", "arm", "control", "arm_en", "arm_zh",
            "control_en", "control_zh", "model", "better", "primary_outcome", "estimand",
            "estimate", "ci_low", "ci_high", "ci_level", "effect_size", "effect_size_ci_low",
            "effect_size_ci_high", "effect_size_kind", "p_value", "p_adjusted", "family",
            "n_outcomes", "e_value", "e_value_ci", "n_obs", "n_clusters", "badge", "badge_en",
            "badge_zh"]
    if effects is None or not len(effects):
        return pd.DataFrame(columns=cols)
    d = study.design
    alpha = float(study.analysis.alpha)
    rows = []
    prim = _primary_rows(effects, study)
    order = {o.id: k for k, o in enumerate(study.outcomes)}
    arms = prim["arm"].map(lambda v: "" if pd.isna(v) else str(v)) if "arm" in prim else None
    fams = (prim["family"].map(lambda v: "all" if pd.isna(v) or str(v) == "" else str(v))
            if "family" in prim else pd.Series("all", index=prim.index))
    for i, r in prim.iterrows():
        oid = str(r["outcome"])
        try:
            o = study.outcome(oid)
            better, is_primary = o.better, bool(o.primary)
        except (KeyError, ValueError):
            better, is_primary = "higher", False
        arm = r.get("arm")
        arm = None if arm is None or (isinstance(arm, float) and math.isnan(arm)) else str(arm)
        same_arm = prim.index if arms is None else arms.index[arms == (arm or "")]
        family = fams[i]
        # the outcomes whose p-values were adjusted together with this one (per arm)
        n_family = int((fams.loc[same_arm] == family).sum())
        estimand = _text(r, "estimand") or estimand_of(d)
        if estimand not in ESTIMAND_LABELS:
            estimand = estimand_of(d)
        vals = {k: _float(r, k) for k in ("estimate", "ci_low", "ci_high", "effect_size",
                                          "effect_size_ci_low", "effect_size_ci_high",
                                          "p_value", "p_adjusted", "n_obs", "n_clusters")}
        if _suppressed(r):
            vals = {k: math.nan for k in vals}
        ev, ev_ci = _evalues(r, vals, estimand)
        key = badge(vals["estimate"], vals["ci_low"], vals["ci_high"], vals["p_adjusted"],
                    better=better, design=d.type, alpha=alpha)
        labels = _outcome_labels(study, oid)
        control = r.get("control")
        control = None if control is None or (isinstance(control, float)
                                              and math.isnan(control)) else str(control)
        rows.append({
            "outcome": oid, "label_en": labels["en"], "label_zh": labels["zh"], "arm": arm,
            "control": control,
            **{f"arm_{lg}": _arm_label(study, arm, lg) if arm else None for lg in ("en", "zh")},
            **{f"control_{lg}": _arm_label(study, control, lg) if control else None
               for lg in ("en", "zh")},
            "model": str(r["model"]), "better": better, "primary_outcome": is_primary,
            "estimand": estimand,
            **{k: vals[k] for k in ("estimate", "ci_low", "ci_high")},
            "ci_level": 1 - alpha,
            **{k: vals[k] for k in ("effect_size", "effect_size_ci_low", "effect_size_ci_high")},
            "effect_size_kind": "d_z" if d.type == "pre_post" else "g",
            "p_value": vals["p_value"], "p_adjusted": vals["p_adjusted"],
            "family": family, "n_outcomes": n_family, "e_value": ev, "e_value_ci": ev_ci,
            "n_obs": None if math.isnan(vals["n_obs"]) else int(vals["n_obs"]),
            "n_clusters": None if math.isnan(vals["n_clusters"]) else int(vals["n_clusters"]),
            "badge": key, "badge_en": BADGES[key]["en"], "badge_zh": BADGES[key]["zh"],
            "_order": order.get(oid, len(order)),
        })
    out = pd.DataFrame(rows)
    out = out.sort_values(["_order", "arm"], kind="stable", na_position="first")
    return out.drop(columns="_order").reset_index(drop=True)[cols]


def _claim_rows(claims: pd.DataFrame | None, study) -> pd.DataFrame:
    cols = ["claim_id", "claim", "claimed_proportion", "n", "ci_low", "ci_high",
            "null_proportion", "has_comparison", "observed_difference",
            "observed_diff_ci_low", "observed_diff_ci_high", "observed", "observed_ci_low",
            "observed_ci_high", "data_support", "maturation_drift_sd", "verdict",
            "verdict_en", "verdict_zh"]
    if claims is None or not len(claims):
        return pd.DataFrame(columns=cols)
    rows = []
    for k, r in claims.iterrows():
        lo, hi, p0 = _float(r, "ci_low"), _float(r, "ci_high"), _float(r, "null_proportion")
        if not all(math.isfinite(v) for v in (lo, hi, p0)):
            key = "not_reported"
        elif lo > p0:
            key = "above_null"
        elif hi < p0:
            key = "below_null"
        else:
            key = "consistent_with_no_change"
        support = _text(r, "data_support")
        if support in _DATA_SUPPORT and math.isfinite(_float(r, "observed_treatment")):
            key = support  # what the study's own children show decides
        hc = r.get("has_comparison")
        if hc is None or (isinstance(hc, float) and math.isnan(hc)):
            has_comparison = bool(study.design.arm) and math.isfinite(
                _float(r, "observed_control"))
        else:
            has_comparison = str(hc).lower() in ("true", "1")
        cid = r.get("claim_id")
        rows.append({
            "claim_id": str(cid) if isinstance(cid, str) else f"claim {k + 1}",
            "claim": str(r.get("claim", "")), "claimed_proportion": _float(r, "claimed_proportion"),
            "n": None if not math.isfinite(_float(r, "n")) else int(_float(r, "n")),
            "ci_low": lo, "ci_high": hi, "null_proportion": p0, "has_comparison": has_comparison,
            "observed_difference": _float(r, "observed_difference"),
            "observed_diff_ci_low": _float(r, "observed_diff_ci_low"),
            "observed_diff_ci_high": _float(r, "observed_diff_ci_high"),
            # the study's own data (claims.csv of issue 13.7; NaN / None in older tables)
            "observed": _float(r, "observed_treatment"),
            "observed_ci_low": _float(r, "observed_treatment_ci_low"),
            "observed_ci_high": _float(r, "observed_treatment_ci_high"),
            "data_support": (_text(r, "data_support")
                             if _text(r, "data_support") in _DATA_SUPPORT else None),
            "maturation_drift_sd": _float(r, "maturation_drift_sd"),
            "verdict": key, "verdict_en": CLAIM_VERDICTS[key]["en"],
            "verdict_zh": CLAIM_VERDICTS[key]["zh"]})
    return pd.DataFrame(rows, columns=cols)


def _wwc_class(o, key: str) -> str | None:
    v = _text(o, key)
    return v if v in WWC_LABELS else None


def _attrition(table: pd.DataFrame | None, design) -> dict | None:
    """Overall and (largest) differential attrition, with the WWC classes under the
    cautious and the optimistic boundary (child level) for randomized designs: the
    ``wwc_cautious`` / ``wwc_optimistic`` columns of the overall row of ``attrition.csv``,
    else computed from its rates (:func:`analysis.attrition_standards.wwc_attrition`)."""
    from analysis.attrition_standards import wwc_attrition

    if table is None or not len(table) or "arm" not in table.columns:
        return None
    overall = table[table["arm"].astype(str) == "overall"]
    if not len(overall) or any(_suppressed(r) for _, r in table.iterrows()):
        return None
    o = overall.iloc[0]
    rate = _float(o, "attrition_rate")
    if not math.isfinite(rate):
        return None
    out = {"overall_pp": 100 * rate, "allocated": int(_float(o, "allocated")),
           "analysed": int(_float(o, "analysed")), "differential_pp": None,
           "randomized": design.type in RANDOMIZED, "groups": bool(design.arm),
           "wwc": None, "wwc_cautious": None,
           "wwc_optimistic": None, "explanation_en": None, "explanation_zh": None}
    diffs = [abs(_float(r, "differential_pp")) for _, r in table.iterrows()
             if math.isfinite(_float(r, "differential_pp"))]
    if diffs:
        out["differential_pp"] = max(diffs)
    if math.isfinite(_float(o, "wwc_differential_pp")):
        out["differential_pp"] = _float(o, "wwc_differential_pp")
    if design.type not in RANDOMIZED or out["differential_pp"] is None:
        return out
    classes = {b: _wwc_class(o, f"wwc_{b}") for b in ("cautious", "optimistic")}
    overall_pp = _float(o, "wwc_overall_pp")
    overall_pp = overall_pp if math.isfinite(overall_pp) else out["overall_pp"]
    w = wwc_attrition(overall_pp, out["differential_pp"], boundary="cautious").iloc[0]
    if classes["cautious"] is None or classes["optimistic"] is None:
        wo = wwc_attrition(overall_pp, out["differential_pp"], boundary="optimistic").iloc[0]
        classes = {"cautious": classes["cautious"] or str(w["attrition"]),
                   "optimistic": classes["optimistic"] or str(wo["attrition"])}
    out.update(wwc=classes["cautious"], wwc_cautious=classes["cautious"],
               wwc_optimistic=classes["optimistic"], explanation_en=str(w["explanation_en"]),
               explanation_zh=str(w["explanation_zh"]))
    return out


# ------------------------------------------------------------------------------ result


@dataclass
class Headline:
    """What a run found (see :func:`headline`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per outcome and treatment arm (the primary model): ``outcome, label_en,
        label_zh, arm, control, arm_en, arm_zh, control_en, control_zh`` (the study's
        labels of the arms) ``, model, better, primary_outcome, estimand`` (``effect``,
        ``adjusted_difference`` or ``change``) ``, estimate, ci_low, ci_high, ci_level,
        effect_size, effect_size_ci_low, effect_size_ci_high, effect_size_kind`` (``g`` =
        Hedges' g, ``d_z`` for pre/post) ``, p_value, p_adjusted, family`` (``primary``,
        ``secondary``; ``all`` for a table without the column) ``, n_outcomes`` (outcomes
        in the row's family, whose p-values were adjusted together) ``, e_value,
        e_value_ci`` (adjusted differences only) ``, n_obs, n_clusters, badge, badge_en,
        badge_zh``; unrounded values of ``effects.csv``.
    claims : pandas.DataFrame
        One row per claim: ``claim_id, claim, claimed_proportion, n, ci_low, ci_high,
        null_proportion, has_comparison, observed_difference, observed_diff_ci_low,
        observed_diff_ci_high, verdict`` (a key of :data:`CLAIM_VERDICTS`) ``,
        verdict_en, verdict_zh``.
    attrition : dict or None
        ``overall_pp, differential_pp, allocated, analysed, randomized, groups`` (the
        design compares groups) ``, wwc_cautious,
        wwc_optimistic`` (low / high / undetermined, randomized designs only; ``wwc`` is
        the cautious class) and the WWC explanations (cautious boundary).
    counts : dict
        ``rows_read, rows_quarantined, rows_clean`` (rows analysed), ``errors, warnings``.
    delivery : dict or None
        Program delivery (:func:`delivery_facts`, from ``tables/fidelity.csv`` and
        ``tables/dose.csv``): ``shares`` (activity -> share of expected child-periods met),
        ``n_children``, ``received`` (share of program children who received the protocol),
        ``received_share`` (the threshold) and ``cace`` (the primary outcome's complier
        effect row, or None); None without a fidelity table.
    """

    study_id: str
    title: dict
    lang: str
    design: str
    alpha: float
    adjust: str
    banner: dict | None
    table: pd.DataFrame
    claims: pd.DataFrame
    attrition: dict | None
    counts: dict
    has_effects: bool = True
    notes: list = field(default_factory=list)
    delivery: dict | None = None
    sensitivity: dict | None = None
    """Whether the conclusion survives the missing-data methods of ``07_sensitivity``
    (``{"en", "zh"}``, :func:`evaluation.sensitivity_tables.headline_sentence`), or ``None``."""

    # -- sentences
    @property
    def estimand(self) -> str:
        """What the outcome rows estimate: ``effect``, ``adjusted_difference`` or ``change``
        (the primary outcome's row; the design's when there is no row)."""
        if len(self.table):
            prim = self.table[self.table["primary_outcome"].astype(bool)]
            return str((prim if len(prim) else self.table)["estimand"].iloc[0])
        return {"pre_post": "change"}.get(self.design, "effect" if self.design in RANDOMIZED
                                          else "adjusted_difference")

    def estimand_label(self, lang: str) -> str:
        """:data:`ESTIMAND_LABELS` of :attr:`estimand` (a column header: "Adjusted
        difference", "调整后差异")."""
        return ESTIMAND_LABELS[self.estimand][lang]

    def family_note(self, row, lang: str, *, short: bool = False) -> str:
        """The family of the row's adjusted p in words (:func:`family_note`; ``short`` for a
        table cell)."""
        return family_note(str(row["family"]), int(row["n_outcomes"]), self.adjust, lang,
                           short=short)

    def _p_text(self, row, lang: str) -> str:
        zh = lang == "zh"
        p = _p_eq(row["p_value"])
        note = self.family_note(row, lang)
        # brackets: the p-values sit inside the parentheses of the estimate (APA style)
        if self.adjust not in _ADJUST_NAME or row["n_outcomes"] < 2:
            return f"{p}［{note}］" if zh else f"{p} [{note}]"
        return (f"{p}，校正{_p_eq(row['p_adjusted'])}［{note}］" if zh else
                f"{p}, adjusted {_p_eq(row['p_adjusted'])} [{note}]")

    def outcome_sentence(self, row, lang: str) -> str:
        """One sentence per outcome row, in ``lang``: what it estimates (effect, adjusted
        difference or change), the estimate with its interval, the standardized size, p and
        the adjusted p with its family, the badge and why."""
        zh = lang == "zh"
        label = row["label_zh"] if zh else row["label_en"]
        better = _BETTER.get(row["better"], _BETTER["higher"])[lang]
        level = f"{100 * row['ci_level']:.0f}%"
        word = BADGES[row["badge"]][lang]
        arm, control = row.get(f"arm_{lang}") or row.get("arm"), (
            row.get(f"control_{lang}") or row.get("control"))
        arm_part = ""
        if row.get("arm") and self.table["arm"].nunique() > 1:
            arm_part = f"（{arm} 对比 {control}）" if zh else f" ({arm} vs {control})"
        head = (f"{label}{arm_part}（{better}）：{word}。" if zh
                else f"{label}{arm_part} ({better}): {word}.")
        if row["badge"] == "not_reported":
            return head + ("该结果涉及的儿童少于最小单元格人数，已被抑制。" if zh else
                           " The result describes fewer children than the smallest "
                           "publishable cell and is suppressed.")
        est, lo, hi = (fmt_estimate(row[k]) for k in ("estimate", "ci_low", "ci_high"))
        es_name = "d_z" if row["effect_size_kind"] == "d_z" else "g"
        es = (f"{es_name} = {fmt_estimate(row['effect_size'])}，{level}置信区间 "
              f"{fmt_estimate(row['effect_size_ci_low'])} 至 "
              f"{fmt_estimate(row['effect_size_ci_high'])}" if zh else
              f"{HEDGES_G if es_name == 'g' else 'd_z'} = {fmt_estimate(row['effect_size'])}, "
              f"{level} CI {fmt_estimate(row['effect_size_ci_low'])} to "
              f"{fmt_estimate(row['effect_size_ci_high'])}")
        ps = self._p_text(row, lang)
        estimand = row["estimand"]
        what_zh = ESTIMAND_LABELS[estimand]["zh"]
        if estimand == "change":
            what = (f"{what_zh}：从前测到后测平均变化 {est} 分（{level}置信区间 {lo} 至 {hi}；{es}；"
                    f"{ps}）。" if zh else
                    f" Change: the mean change from the first to the last wave was {est} points "
                    f"({level} CI {lo} to {hi}; {es}; {ps}).")
        elif estimand == "adjusted_difference":
            arm = arm or ("项目组" if zh else "program group")
            control = control or ("对照组" if zh else "comparison group")
            model = ("双重差分" if zh else "difference in differences") if row["model"] == "did" \
                else ("协变量调整" if zh else "covariate-adjusted")
            what = (f"{what_zh}（{arm}减{control}，非随机，{model}）：{est} 分（{level}置信区间 "
                    f"{lo} 至 {hi}；{es}；{ps}）。" if zh else
                    f" Adjusted difference ({arm} minus {control}, not randomized, {model}): "
                    f"{est} points ({level} CI {lo} to {hi}; {es}; {ps}).")
            if math.isfinite(row.get("e_value", math.nan)):
                ci = row.get("e_value_ci", math.nan)
                what += (f"E值 {row['e_value']:.2f}" + (f"（置信区间界限的E值 {ci:.2f}）"
                                                        if math.isfinite(ci) else "") + "。"
                         if zh else f" E-value {row['e_value']:.2f}"
                         + (f" (for the confidence limit: {ci:.2f})" if math.isfinite(ci)
                            else "") + ".")
        else:
            arm = arm or ("项目组" if zh else "program group")
            control = control or ("对照组" if zh else "control group")
            what = (f"{what_zh}（{arm}减{control}）：{est} 分（{level}置信区间 {lo} 至 {hi}；{es}；"
                    f"{ps}）。" if zh else
                    f" Effect ({arm} minus {control}): {est} points ({level} CI {lo} to {hi}; "
                    f"{es}; {ps}).")
        k = int(row["n_outcomes"])
        fam = _FAMILY.get(str(row["family"]))
        among = ((f"{k}个{fam['zh']}结局" if zh else f"{k} {fam['en']} outcomes") if fam else
                 (f"{k}个结局" if zh else f"{k} outcomes"))
        adjusted = self.adjust in _ADJUST_NAME and k > 1
        why = {
            "inconclusive": (
                f"区间不含0，但在{among}中做多重比较校正后不再显著，因此无法确定。" if zh else
                f" The interval excludes 0, but after adjustment for testing {among} the "
                "difference is no longer significant, so the result is inconclusive."),
            "no_evidence": (
                "区间包含0：数据没有显示效果；但这不等于证明没有效果——区间内的效果都与数据相符。" if zh
                else " The interval includes 0: the data do not show an effect, and that is "
                     "not proof that there is none; every effect in the interval is consistent "
                     "with the data."),
            "no_evidence_difference": (
                "区间包含0：数据没有显示两组之间的差异；但这不等于证明没有差异——区间内的值都与数据相符。"
                if zh else " The interval includes 0: the data do not show a difference between "
                           "the groups, and that is not proof that there is none; every value "
                           "in the interval is consistent with the data."),
            "no_evidence_change": (
                "区间包含0：数据没有显示变化；但这不等于证明没有变化——区间内的值都与数据相符。" if zh
                else " The interval includes 0: the data do not show a change, and that is not "
                     "proof that there is none; every value in the interval is consistent with "
                     "the data."),
        }
        for key in ("improved", "worsened", "favours_program", "favours_control", "effective",
                    "harmful"):
            why[key] = ("区间不含0" + (f"，在{among}中做多重比较校正后仍显著" if adjusted else "")
                        + "。" if zh else " The interval excludes 0"
                        + (f", also after adjustment for testing {among}" if adjusted else "")
                        + ".")
        return head + what + why.get(row["badge"], "") + baseline_caveat(row, lang)

    def claim_sentence(self, row, lang: str) -> str:
        zh = lang == "zh"
        word = CLAIM_VERDICTS[row["verdict"]][lang]
        if row["verdict"] == "not_reported":
            return (f"声称 {row['claim_id']}：{word}。" if zh
                    else f"Claim {row['claim_id']}: {word}.")
        null = (f"没有任何变化时约{_pct(row['null_proportion'])}的儿童也会看起来有所改善" if zh else
                f"with no change at all about {_pct(row['null_proportion'])} would look improved")
        s = (f"声称 {row['claim_id']}（{row['n']}名儿童中{_pct(row['claimed_proportion'])}"
             f"有所改善，95%置信区间 {_pct(row['ci_low'])} 至 {_pct(row['ci_high'])}）：{word}" if zh
             else
             f"Claim {row['claim_id']} ({_pct(row['claimed_proportion'])} of {row['n']} children "
             f"improved, 95% CI {_pct(row['ci_low'])} to {_pct(row['ci_high'])}): {word}")
        if row["verdict"] in _DATA_SUPPORT:  # the data decide; the no-change share follows
            s += "。" if zh else "."
        else:
            s += f"（{null}）。" if zh else f" ({null})."
        obs = row.get("observed", math.nan)
        if obs is not None and math.isfinite(obs) and row.get("data_support"):
            where = _DATA_SUPPORT[row["data_support"]][lang]
            s += (f"本研究数据中按同一标准有{_pct(obs)}的儿童改善（95%置信区间 "
                  f"{_pct(row['observed_ci_low'])} 至 {_pct(row['observed_ci_high'])}），{where}。"
                  if zh else
                  f" In this study's own data {_pct(obs)} improved by the same definition (95% CI "
                  f"{_pct(row['observed_ci_low'])} to {_pct(row['observed_ci_high'])}): {where}.")
            if row["verdict"] in _DATA_SUPPORT and math.isfinite(row["null_proportion"]):
                s += f"{null}。" if zh else f" {null[0].upper() + null[1:]}."
        drift = row.get("maturation_drift_sd", math.nan)
        if drift is not None and math.isfinite(drift):
            s += (f"即使没有项目，只要所有儿童的真实得分共同上升{drift:.2f}个标准差（成长、学年），"
                  "就会得到声称的比例。" if zh else
                  f" A common rise of {drift:.2f} SD in every child's true score (growing up, the "
                  "school year) would give the claimed share without any program.")
        if not row["has_comparison"]:
            s += ("没有对照组，不能说明改善是由项目引起的。" if zh else
                  " Without a comparison group this cannot show that the program caused it.")
        return s

    def attrition_sentence(self, lang: str, *, label: bool = True) -> str | None:
        """Attrition and its WWC class in one sentence (``label``: start with "Attrition:")."""
        a = self.attrition
        if a is None:
            return None
        zh = lang == "zh"
        rnd = a.get("randomized", True) is not False  # nobody is allocated without randomization
        s = (f"{'流失：' if label else ''}{'分配' if rnd else '基线时有'}{a['allocated']}名儿童，"
             f"纳入分析{a['analysed']}名，总流失率{a['overall_pp']:.1f}%" if zh else
             f"{'Attrition: ' if label else ''}{a['allocated']} children "
             f"{'allocated' if rnd else 'at baseline'}, {a['analysed']} analysed, "
             f"overall attrition {a['overall_pp']:.1f}%")
        if a["differential_pp"] is not None:
            s += (f"，组间流失差 {a['differential_pp']:.1f} 个百分点" if zh else
                  f", differential attrition {a['differential_pp']:.1f} percentage points")
        if a["wwc"]:
            c, o = a["wwc_cautious"] or a["wwc"], a.get("wwc_optimistic")
            s += (f"：按WWC谨慎边界为{WWC_LABELS[c]['zh']}" if zh else
                  f": {WWC_LABELS[c]['en']} under the WWC cautious boundary")
            if o:
                s += (f"，按乐观边界为{WWC_LABELS[o]['zh']}" if zh else
                      f" and {WWC_LABELS[o]['en']} under the optimistic boundary")
            s += "（儿童层面）。" if zh else " (child level)."
            if "undetermined" in (c, o):
                s += ("两种WWC表格转录在此处不一致。" if zh else
                      " The two transcriptions of the WWC table disagree here.")
            if "high" in (c, o):
                s += ("高流失可能使效果估计产生偏倚。" if zh else
                      " High attrition can bias the effect estimates.")
        elif a.get("randomized") is False and a.get("groups"):
            s += ("。WWC的流失标准只适用于随机试验；非随机比较要看纳入分析的儿童在基线时是否可比"
                  "（基线页）。" if zh else
                  ". The WWC attrition boundaries apply to randomized trials; a non-randomized "
                  "comparison is judged by whether the analysed children were equivalent at "
                  "baseline (baseline page).")
        else:
            s += "。" if zh else "."
        return s

    def counts_sentence(self, lang: str, *, label: bool = True) -> str | None:
        """Rows read, quarantined and kept (``label``: start with "Data quality:")."""
        c = self.counts
        if c.get("rows_read") is None:
            return None
        zh = lang == "zh"
        clean = c.get("rows_clean")
        if zh:
            return (f"{'数据质量：' if label else ''}读取{c['rows_read']}行，隔离{c['rows_quarantined']}行"
                    + (f"，保留用于分析{clean}行" if clean is not None else "") + "（每名儿童每轮一行）。")
        return (f"{'Data quality: ' if label else ''}{c['rows_read']} rows read, {c['rows_quarantined']} quarantined"
                + (f", {clean} kept for analysis" if clean is not None else "")
                + " (one row per child and wave).")

    def delivery_sentences(self, lang: str) -> list[str]:
        """The program-delivery lines (:func:`delivery_sentences`); none without
        ``tables/fidelity.csv``."""
        return delivery_sentences(self.delivery, lang)

    def headline_sentences(self, lang: str) -> list[str]:
        """The headline as sentences in ``lang`` (``"en"`` or ``"zh"``): banner, one per
        outcome, one per claim, attrition, counts.

        Examples
        --------
        >>> h = headline("/path/to/run")                     # doctest: +SKIP
        >>> print("\\n".join(h.headline_sentences("en")))     # doctest: +SKIP
        """
        if lang not in ("en", "zh"):
            raise ValueError("lang must be 'en' or 'zh'")
        out = []
        if self.banner:
            out.append(("注意：" if lang == "zh" else "Caution: ") + self.banner[lang])
        if not self.has_effects:
            out.append("本次运行没有效果估计（没有效果表）。" if lang == "zh" else
                       "This run has no effect estimates (no effects table).")
        out += [self.outcome_sentence(r, lang) for _, r in self.table.iterrows()]
        if self.sensitivity:
            out.append(self.sensitivity[lang])
        out += self.delivery_sentences(lang)
        out += [self.claim_sentence(r, lang) for _, r in self.claims.iterrows()]
        for s in (self.attrition_sentence(lang), self.counts_sentence(lang)):
            if s:
                out.append(s)
        return out

    def terminal_text(self, lang: str | None = None) -> str:
        """The headline as plain text for the terminal (the run's language)."""
        lang = lang or self.lang
        title = "结论" if lang == "zh" else "Headline"
        return "\n".join([f"{title}:"] + [f"  - {s}" for s in self.headline_sentences(lang)])

    def to_markdown(self) -> str:
        """``reports/summary.md``: the sentences in the run's language, then the other."""
        parts = []
        for lang in (self.lang, "en" if self.lang == "zh" else "zh"):
            title = self.title.get(lang) or self.title.get("en") or self.study_id
            parts.append(f"# {title}\n\n" + "\n\n".join(
                f"- {s}" for s in self.headline_sentences(lang)) + "\n")
        return "\n".join(parts)


def headline(run_dir, *, counts: dict | None = None, study=None) -> Headline:
    """The headline of a finished run (the rules: module docstring).

    Parameters
    ----------
    run_dir : str or Path
        The run folder (``tables/``, ``study.json``, ``validation/``, ``manifest.json``).
    counts : dict, optional
        Validation counts (``rows_read``, ``rows_quarantined``, ``rows_clean``...); default
        the manifest's ``validate`` step, else ``validation/report.json``.
    study : Study, optional
        Default: the run's snapshot (``RunFolder(run_dir).study``).

    Returns
    -------
    Headline

    Examples
    --------
    >>> h = headline("examples/county-cluster-trial/output")   # doctest: +SKIP
    >>> h.table[["outcome", "estimate", "p_adjusted", "badge"]]  # doctest: +SKIP
    """
    from evaluation.run_folder import RunFolder

    run_dir = Path(run_dir)
    study = study if study is not None else RunFolder(run_dir).study
    effects = _read_csv(run_dir / "tables" / "effects.csv")
    lang = study.language if study.language in ("en", "zh") else "en"
    title = study.title if isinstance(study.title, dict) else {"en": str(study.title)}
    table = _effect_rows(effects, study)
    if len(table):
        smd = _baseline_smd(_read_csv(run_dir / "tables" / "balance.csv"), study)
        table["baseline_smd"] = table["outcome"].map(smd).astype(float)
    return Headline(
        study_id=study.id, title=dict(title), lang=lang, design=study.design.type,
        alpha=float(study.analysis.alpha), adjust=str(study.analysis.adjust or "none"),
        banner=_banner(study.design, table), table=table,
        claims=_claim_rows(_read_csv(run_dir / "tables" / "claims.csv"), study),
        attrition=_attrition(_read_csv(run_dir / "tables" / "attrition.csv"), study.design),
        counts=_counts(run_dir, counts), has_effects=effects is not None,
        delivery=delivery_facts(_read_csv(run_dir / "tables" / "fidelity.csv"),
                                _read_csv(run_dir / "tables" / "dose.csv"), study),
        sensitivity=_sensitivity(_read_csv(run_dir / "tables" / "sensitivity.csv"), study))


BASELINE_BOUND = 0.25
"""|SMD| of an outcome at baseline beyond which a non-randomized comparison is not
equivalent (the What Works Clearinghouse bound; no statistical adjustment rescues it)."""


def _baseline_smd(balance: pd.DataFrame | None, study) -> dict:
    """Outcome id -> its baseline SMD (treatment vs control) from ``balance.csv``'s
    randomized (baseline) sample; the first treatment arm's when there are several."""
    if balance is None or not len(balance) or "variable" not in balance:
        return {}
    b = balance
    if "sample" in b:
        b = b[b["sample"].astype(str) == "randomized"]
    out = {}
    for o in study.outcomes:
        rows = b[b["variable"].astype(str) == str(o.column_name)]
        if len(rows) and pd.notna(rows["smd"].iloc[0]):
            out[o.id] = float(rows["smd"].iloc[0])
    return out


def unequal_at_baseline(row) -> bool:
    """A non-randomized comparison whose groups differed on the outcome itself before the
    program by more than :data:`BASELINE_BOUND` (``row``: a row of ``Headline.table``)."""
    smd = row.get("baseline_smd") if hasattr(row, "get") else None
    return (row.get("estimand") == "adjusted_difference" and smd is not None
            and math.isfinite(smd) and abs(smd) > BASELINE_BOUND)


def baseline_caveat(row, lang: str) -> str:
    """A sentence for a non-randomized comparison whose groups differed on the outcome
    itself before the program by more than :data:`BASELINE_BOUND` (empty otherwise):
    the adjusted difference then rests on the model's adjustment (a difference in
    differences on parallel trends, an ANCOVA on a linear baseline relation), and
    regression to the mean can move it towards either group.

    Examples
    --------
    >>> baseline_caveat({"estimand": "adjusted_difference", "baseline_smd": 0.45}, "en")[:44]
    ' The groups already differed on this outcome'
    >>> baseline_caveat({"estimand": "effect", "baseline_smd": 0.45}, "en")
    ''
    """
    if not unequal_at_baseline(row):
        return ""
    smd = row["baseline_smd"]
    if lang == "zh":
        return (f"项目开始前两组在该结局上已有差异（基线标准化差异 {smd:+.2f}，超过WWC的"
                f"{BASELINE_BOUND:.2f}界限），基线不可比：调整后差异在很大程度上取决于模型的调整方式"
                "（双重差分依赖平行趋势，协方差分析依赖基线与终期的线性关系），向均值回归也可能使它"
                "偏向某一组；请对照效果页上各模型的估计，非常谨慎地解读。")
    return (f" The groups already differed on this outcome before the program (baseline SMD "
            f"{smd:+.2f}, beyond the WWC bound of {BASELINE_BOUND:.2f}): they are not equivalent "
            "at baseline, so the adjusted difference rests largely on how the model adjusts "
            "(a difference in differences on parallel trends, an ANCOVA on a linear relation "
            "between baseline and endline), and regression to the mean can move it towards "
            "either group; compare the models on the effects page and read it with great "
            "caution.")


def _banner(design, table: pd.DataFrame) -> dict | None:
    """The causal banner in both languages; for a non-randomized comparison with the
    parallel-trends assumption of a primary ``did`` and the primary outcome's E-value."""
    banner = {lg: causal_banner(design, lg) for lg in ("en", "zh")}
    if not banner["en"]:
        return None
    rows = table[table["estimand"] == "adjusted_difference"] if len(table) else table
    if not len(rows):
        return banner
    prim = rows[rows["primary_outcome"].astype(bool)]
    first = (prim if len(prim) else rows).iloc[0]
    for lg in ("en", "zh"):
        extra = []
        if first["model"] == "did":
            extra.append(PARALLEL_TRENDS[lg])
        ev = evalue_sentence(first["e_value"], first["e_value_ci"], lg,
                             label=first[f"label_{lg}"])
        if ev:
            extra.append(ev)
        if extra:
            banner[lg] = (banner[lg] + ("" if lg == "zh" else " ")
                          + ("" if lg == "zh" else " ").join(extra))
    return banner


_ACTIVITY = {
    "home_visit": {"en": ("home visits", "home visit"), "zh": "家访"},
    "phone_call": {"en": ("phone calls to the parents", "phone call"), "zh": "给父母打电话"},
    "letter": {"en": ("letters", "letter"), "zh": "书信"},
    "video_call": {"en": ("video calls", "video call"), "zh": "视频通话"},
    "counselling": {"en": ("counselling sessions", "counselling session"), "zh": "心理辅导"},
    "home_attendance": {"en": ("children's home sessions", "children's home session"),
                        "zh": "留守儿童之家活动"},
}


def _is_true(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    try:
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def _sensitivity(table: pd.DataFrame | None, study) -> dict | None:
    """The sentence of ``07_sensitivity`` on whether the conclusion survives, or ``None``."""
    if table is None or not len(table):
        return None
    from evaluation.sensitivity_tables import headline_sentence

    return headline_sentence(table, study)


def delivery_facts(fidelity: pd.DataFrame | None, dose: pd.DataFrame | None, study
                   ) -> dict | None:
    """What the headline says about program delivery, from ``tables/fidelity.csv``
    (:func:`analysis.fidelity.fidelity_summary`; ``section == "summary"``, every program
    child) and ``tables/dose.csv`` (:func:`analysis.dose.dose_table`; the primary outcome's
    ``cace_share`` and ``cace_received`` rows, the first program arm). ``None`` without a
    fidelity table (a study without a contact log or protocol): no line.

    The keys: ``shares`` (activity -> share of the expected child-periods met), ``per``
    (activity -> its period: month, term ...), ``verdict`` (the delivery page's answer,
    :func:`evaluation.delivery_tables.verdict`), ``received`` with ``received_low`` /
    ``received_high`` (the share of program children who received at least
    ``received_share`` of the protocol and its cluster-robust 95% CI), ``n_children``,
    ``cace`` (the ``cace_received`` row) and ``dose_effect`` (the ``cace_share`` row).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> fs = pd.DataFrame({"section": "summary", "activity": ["home_visit", "all"],
    ...                    "level": "overall", "group": "all", "period": "all",
    ...                    "measure": ["child_periods", "children_received"],
    ...                    "n_children": [40, 40], "share_met": [0.7, 0.5],
    ...                    "ci_low": [0.6, 0.37], "ci_high": [0.78, 0.66]})
    >>> s = NS(outcomes=[NS(id="y", primary=True)], protocol=NS(received_share=0.8))
    >>> f = delivery_facts(fs, None, s)
    >>> f["shares"], f["verdict"], f["received"], f["received_low"], f["cace"]
    ({'home_visit': 0.7}, 'partly', 0.5, 0.37, None)
    """
    verdict = delivery_verdict
    if fidelity is None or not len(fidelity) or "section" not in fidelity:
        return None
    s = fidelity[(fidelity["section"].astype(str) == "summary")
                 & (fidelity["level"].astype(str) == "overall")]
    per = s[s["measure"].astype(str) == "child_periods"]
    shares = {str(a): float(v) for a, v in zip(per["activity"], per["share_met"])
              if str(a) != "all" and pd.notna(v)}
    rec = s[(s["measure"].astype(str) == "children_received")
            & (s["activity"].astype(str) == "all")]

    def first(col):
        return (float(rec[col].iloc[0]) if len(rec) and col in rec and pd.notna(rec[col].iloc[0])
                else math.nan)

    received, n = first("share_met"), first("n_children")
    lo, hi = first("ci_low"), first("ci_high")

    def row_of(analysis):
        if dose is None or not len(dose) or "analysis" not in dose:
            return None
        prim = [o.id for o in study.outcomes if getattr(o, "primary", False)] or \
            [o.id for o in study.outcomes][:1]
        rows = dose[(dose["analysis"].astype(str) == analysis)
                    & dose["outcome"].astype(str).isin(prim)]
        if not len(rows):
            return None
        r = rows.iloc[0]
        out = {k: (r[k] if k in r else math.nan) for k in
               ("outcome", "arm", "estimate", "ci_low", "ci_high", "p_value", "ar_p_value",
                "first_stage_f", "n")}
        out["label_en"] = _outcome_labels(study, r["outcome"]).get("en", r["outcome"])
        out["label_zh"] = _outcome_labels(study, r["outcome"]).get("zh", r["outcome"])
        return out

    protocol = getattr(study, "protocol", None)
    k = float(getattr(protocol, "received_share", 0.8) or 0.8)
    pers = {str(r.activity): str(r.per) for r in getattr(protocol, "activities", ()) or ()}
    return {"shares": shares, "per": {a: pers.get(a, "period") for a in shares},
            "verdict": verdict(shares, k), "received": received, "received_low": lo,
            "received_high": hi, "n_children": n, "cace": row_of("cace_received"),
            "dose_effect": row_of("cace_share"), "received_share": k}


def delivery_verdict(shares: dict, threshold: float) -> str:
    """The answer to "delivered as designed?" (the delivery page's and the index's):
    ``as_designed`` when every activity was met in at least ``threshold`` of its expected
    periods (the study's ``received_share``, the same 80% that defines a child who
    received the protocol), ``partly`` when on average at least half, ``not`` below, and
    ``unknown`` when nothing was expected.

    Examples
    --------
    >>> delivery_verdict({"home_visit": 0.85, "letter": 0.9}, 0.8)
    'as_designed'
    >>> delivery_verdict({"home_visit": 0.7, "letter": 0.3}, 0.8), delivery_verdict({}, 0.8)
    ('partly', 'unknown')
    """
    vals = [v for k, v in shares.items() if k != "all" and math.isfinite(v)]
    if not vals:
        return "unknown"
    if min(vals) >= threshold:
        return "as_designed"
    return "partly" if sum(vals) / len(vals) >= 0.5 else "not"


_VERDICT_SHORT = {
    "as_designed": {"en": "largely as designed", "zh": "基本按方案落实"},
    "partly": {"en": "partly delivered", "zh": "部分落实"},
    "not": {"en": "most of the protocol was not delivered", "zh": "方案的大部分没有落实"},
}
_PER = {"week": ("child-weeks", "儿童周"), "month": ("child-months", "儿童月"),
        "term": ("child-terms", "儿童学期"), "study": ("children", "儿童")}


def _pct_ci(lo: float, hi: float) -> str:
    return f"{100 * lo:.0f}–{100 * hi:.0f}%"


def delivery_sentences(facts: dict | None, lang: str) -> list[str]:
    """The headline's program-delivery lines in ``lang``: "Delivery against the protocol:
    <the delivery page's verdict> -- in X% of child-months that required a home visit,
    one was made ...; Y% of program children received >= 80% of the protocol (95% CI ...)"
    and, when ``tables/dose.csv`` has it, the primary outcome's effect of the full
    protocol (share-based 2SLS, assuming an effect proportional to the share delivered),
    the test of any effect (the ITT / Anderson-Rubin p) and the first-stage F (a warning
    under 10). Empty without delivery facts.

    Examples
    --------
    >>> f = {"shares": {"home_visit": 0.7023, "letter": 0.5}, "per": {"home_visit": "month",
    ...      "letter": "term"}, "verdict": "partly", "received": 0.5151, "received_low": 0.3698,
    ...      "received_high": 0.6580, "n_children": 396, "received_share": 0.8, "cace": None}
    >>> delivery_sentences(f, "en")[0]
    'Delivery against the protocol: partly delivered — in 70% of child-months that required a home visit, one was made (letters: 50% of child-terms); 52% of the 396 program children received ≥ 80% of the protocol (95% CI 37–66%).'
    >>> delivery_sentences(f, "zh")[0]
    '对照方案的落实情况：部分落实——在需要家访的儿童月中，70%做到了（书信：儿童学期的50%）；项目组396名儿童中52%接受了至少80%的方案（95%置信区间 37–66%）。'
    >>> delivery_sentences(None, "en")
    []
    """
    if not facts or not facts.get("shares"):
        return []
    zh = lang == "zh"
    items = list(facts["shares"].items())
    pers = facts.get("per") or {}
    first, x = items[0]
    rest = items[1:]
    name = _ACTIVITY.get(first, {"en": (first, first), "zh": first})
    unit = _PER.get(pers.get(first, "month"), ("child-periods", "儿童时段"))
    v = _VERDICT_SHORT.get(facts.get("verdict"))
    if zh:
        s = "对照方案的落实情况：" + (f"{v['zh']}——" if v else "")
        s += f"在需要{name['zh']}的{unit[1]}中，{_pct(x)}做到了"
        if rest:
            s += "（" + "，".join(
                f"{_ACTIVITY.get(a, {'zh': a})['zh']}："
                + (f"{_PER[pers[a]][1]}的" if pers.get(a) in _PER and pers.get(a) != pers.get(first)
                   else "") + _pct(val) for a, val in rest) + "）"
    else:
        s = "Delivery against the protocol: " + (f"{v['en']} — " if v else "")
        s += f"in {_pct(x)} of {unit[0]} that required a {name['en'][1]}, one was made"
        if rest:
            s += " (" + ", ".join(
                f"{_ACTIVITY.get(a, {'en': (a, a)})['en'][0]}: {_pct(val)}"
                + (f" of {_PER[pers[a]][0]}" if pers.get(a) in _PER and pers.get(a) != pers.get(first)
                   else "") for a, val in rest) + ")"
    rec, n, k = facts.get("received"), facts.get("n_children"), facts.get("received_share")
    lo, hi = facts.get("received_low", math.nan), facts.get("received_high", math.nan)
    ci_ok = lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
    if rec is not None and math.isfinite(rec) and n is not None and math.isfinite(n):
        if zh:
            s += (f"；项目组{int(n)}名儿童中{_pct(rec)}接受了至少{_pct(k)}的方案"
                  + (f"（95%置信区间 {_pct_ci(lo, hi)}）" if ci_ok else "") + "。")
        else:
            s += (f"; {_pct(rec)} of the {int(n)} program children received ≥ {_pct(k)} of the "
                  "protocol" + (f" (95% CI {_pct_ci(lo, hi)})" if ci_ok else "") + ".")
    else:
        s += "。" if zh else "."
    out = [s]
    c = facts.get("dose_effect") or facts.get("cace")
    if c and math.isfinite(float(c.get("estimate", math.nan))):
        share_based = facts.get("dose_effect") is not None
        f = float(c.get("first_stage_f", math.nan))
        est, lo, hi = (fmt_estimate(float(c[k])) for k in ("estimate", "ci_low", "ci_high"))
        label = c["label_zh"] if zh else c["label_en"]
        ftxt = f"{f:.1f}" if math.isfinite(f) else "–"
        ar = float(c.get("ar_p_value", math.nan))
        p_any = ar if math.isfinite(ar) else float(c.get("p_value", math.nan))
        if zh:
            if share_based:
                t = (f"完整方案的效果（假定效果随落实比例成正比增长；以随机分配为工具变量）：{label} {est} 分"
                     f"（95%置信区间 {lo} 至 {hi}；第一阶段F = {ftxt}）。")
            else:
                t = (f"对接受了至少{_pct(k)}方案的儿童（依从者平均因果效应，以随机分配为工具变量；假定接受不到"
                     f"{_pct(k)}毫无作用）：{label}的效果为 {est} 分（95%置信区间 {lo} 至 {hi}；第一阶段F = "
                     f"{ftxt}）。")
            if math.isfinite(p_any):
                t += f"项目是否有任何作用由两组的意向性比较检验：{_p_eq(p_any)}。"
            if math.isfinite(f) and f < 10:
                t += "第一阶段F低于10：分配对剂量的预测很弱，这一估计不可靠。"
        else:
            if share_based:
                t = (f"The effect of the full protocol, assuming the effect grows in proportion "
                     f"to the share delivered (random assignment as the instrument): {label} "
                     f"{est} points (95% CI {lo} to {hi}; first-stage F = {ftxt}).")
            else:
                t = (f"For the children who received ≥ {_pct(k)} of the protocol (complier "
                     f"average causal effect, random assignment as the instrument; assumes that "
                     f"less than {_pct(k)} does nothing): {label} {est} points (95% CI {lo} to "
                     f"{hi}; first-stage F = {ftxt}).")
            if math.isfinite(p_any):
                t += (" Whether the program had any effect is tested by the intention-to-treat "
                      f"comparison of the arms: {_p_eq(p_any)}.")
            if math.isfinite(f) and f < 10:
                t += (" The first-stage F is under 10: assignment predicts the dose weakly, so "
                      "this estimate is unreliable.")
        out.append(t)
    return out


def write_summary(h: Headline, target) -> Path:
    """Write ``reports/summary.md`` (atomically): :meth:`Headline.to_markdown`."""
    from core.atomic import write_text

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, h.to_markdown())
    return target

"""The tables of the reliability page (``01_reliability``): alpha, omega and item
statistics per instrument, scale and wave, and the response counts of item plots.

What the page shows (issue 12): :func:`item_statistics_published` (every item, grouped by
scale and wave, weak items flagged), :func:`response_shares_published` (the numbers behind
an item distribution figure, small counts suppressed), the scales' reliability through
:func:`evaluation.published_table.reliability_by_scale`, and every paragraph and heading
in both languages, the run's language first (:data:`PAGE_TEXT`, :func:`page_text`,
:func:`heading`, :func:`flagged_summary`). ``tables/reliability.csv`` and
``tables/item_statistics.csv`` are unchanged: the published tables are display copies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import reliability


def reliability_table(study, items: pd.DataFrame):
    """Alpha, omega and item statistics per instrument, scale and wave.

    Returns
    -------
    (DataFrame, DataFrame)
        ``tables/reliability.csv`` with columns ``instrument, scale, wave, n,
        n_items, alpha, alpha_ci_low, alpha_ci_high, omega_total`` (plus
        ``alpha_std``), and ``tables/item_statistics.csv`` with ``instrument,
        scale, wave, item, n, mean, sd, r_item_rest, alpha_if_deleted``. Items
        are reverse-keyed by the instrument's keys before analysis.
    """
    from survey.scoring import keyed_items

    rel_rows, item_rows = [], []
    wave = study.design.wave
    by_wave: dict = {}  # each wave's rows, selected once for all scales
    for use in study.instruments:
        inst = use.instrument
        for scale in inst.scales:
            if not all(i in items.columns for i in scale.items) or len(scale.items) < 2:
                continue
            for w in study.design.waves:
                if w not in by_wave:
                    by_wave[w] = items.loc[items[wave] == w]
                sub = by_wave[w]
                if sub.empty:
                    continue
                keyed = keyed_items(sub, inst, scale.id).astype(float)
                r = reliability.reliability(keyed).iloc[0]
                rel_rows.append({"instrument": inst.id, "scale": scale.id, "wave": w,
                                 "n": int(r["n"]), "n_items": int(r["n_items"]),
                                 "alpha": r["alpha"], "alpha_ci_low": r["alpha_ci_low"],
                                 "alpha_ci_high": r["alpha_ci_high"],
                                 "omega_total": r["omega_total"], "alpha_std": r["alpha_std"]})
                st = reliability.item_statistics(keyed)
                st.insert(0, "wave", w)
                st.insert(0, "scale", scale.id)
                st.insert(0, "instrument", inst.id)
                item_rows.append(st)
    rel = pd.DataFrame(rel_rows, columns=["instrument", "scale", "wave", "n", "n_items", "alpha",
                                          "alpha_ci_low", "alpha_ci_high", "omega_total",
                                          "alpha_std"])
    stats = (pd.concat(item_rows, ignore_index=True) if item_rows
             else pd.DataFrame(columns=["instrument", "scale", "wave", "item", "n", "mean", "sd",
                                        "r_item_rest", "alpha_if_deleted"]))
    return rel, stats


def response_counts(study, items: pd.DataFrame, instrument_id: str, wave: str, *,
                    lang: str | None = None) -> pd.DataFrame:
    """How many chose each response, per item (for item distribution plots).

    Columns ``item, response, n``: response labels in ``lang`` (the run's language;
    default the study's) when the instrument has them, else in English, else the code.
    """
    inst = study.instrument(instrument_id)
    lang = lang or study.language
    sub = items.loc[items[study.design.wave] == wave]
    rows = []
    for item in inst.item_ids:
        if item not in sub.columns:
            continue
        counts = sub[item].value_counts(dropna=True)
        for code in range(inst.response.min, inst.response.max + 1):
            lab = inst.response.labels.get(code) or {}
            text = lab.get(lang) or lab.get("en") or str(code)
            rows.append({"item": item, "response": f"{code} {text}" if text != str(code) else text,
                         "n": int(counts.get(float(code), 0))})
    return pd.DataFrame(rows, columns=["item", "response", "n"])


# --- the page: bilingual text and published tables --------------------------------------------

LANGS = ("en", "zh")

WEAK_R = 0.30
"""Corrected item-total (item-rest) correlation below which an item is flagged as weak."""

PAGE_TEXT = {
    "intro": {
        "en": ("How consistently each scale measures, per instrument, scale and wave. Cronbach's "
               "alpha (from the item covariances) is given with its 95% Feldt interval, and "
               "McDonald's omega total from a one-factor model of the item correlations (as "
               "`psych::omega` reports it). Items are reverse-keyed before anything is computed. "
               "Alpha is raw and omega standardized, so the two are directly comparable only "
               "when the items have similar variances. A reliability of 0.70 means that 30% of "
               "the variance of a score is measurement error: a single child's \"improvement\" "
               "on such a scale is mostly noise (see the claim audit)."),
        "zh": ("本页按量表工具、量表和测量时点说明各量表测量的一致程度。Cronbach α 基于题目协方差计算，"
               "并给出 Feldt 法 95% 置信区间；McDonald ω 总系数基于题目相关矩阵的单因子模型（与 "
               "`psych::omega` 的报告方式相同）。所有计算之前先对反向题进行反向计分。α 为原始分系数、"
               "ω 为标准化系数，因此只有在各题方差相近时二者才可直接比较。信度为 0.70 意味着分数方差的 "
               "30% 是测量误差：在这样的量表上，单个儿童的“进步”大多是噪声（见“声称核查”页）。"),
    },
    "items_intro": {
        "en": ("How the children answered each item at baseline: the share choosing each "
               "response, items in their natural order. Items marked (R) are reverse-keyed. An "
               "item that almost everyone answers the same way tells little about differences "
               "between children."),
        "zh": ("基线时儿童对每道题的作答情况：选择各选项的比例，题目按自然顺序排列。标有 (R) 的为反向计分题。"
               "几乎所有儿童都作同样回答的题目，对区分儿童之间的差异帮助不大。"),
    },
    "stats_intro": {
        "en": ("Every item of every scale, per wave. An item whose corrected item–total "
               "correlation (item–rest r) is below .30 or negative, or without which alpha would "
               "be higher, measures something other than the rest of its scale, or is keyed the "
               "wrong way; such items are flagged ⚑."),
        "zh": ("每个量表的每道题，按测量时点列出。校正后题总相关（题目与其余题目之和的相关 r）低于 .30 "
               "或为负、或删除该题后 α 反而更高的题目，测量的内容与量表其余题目不同，或计分方向有误；"
               "这些题目标有 ⚑。"),
    },
    "none_flagged": {
        "en": "No item is flagged: every item–rest r is at least .30 and no item lowers alpha.",
        "zh": "没有需要提示的题目：所有题目与其余题目的相关都不低于 .30，也没有题目拉低 α。",
    },
    "flagged": {
        "en": "{k} of {n} item rows are flagged ⚑: {items}.",
        "zh": "{n} 个题目行中有 {k} 个标有 ⚑：{items}。",
    },
}
"""Every paragraph of the reliability page, in both languages with the same content."""


HEADINGS = {
    "title": {"en": "Reliability", "zh": "信度"},
    "items": {"en": "Item response distributions", "zh": "题目作答分布"},
    "stats": {"en": "Item statistics", "zh": "题目统计"},
    "responses": {"en": "The numbers in the figure", "zh": "图中的数字"},
}
"""Headings of the page (shown as "run language · other language")."""


def heading(key: str, lang: str) -> str:
    """A heading in both languages, ``lang`` first: ``heading("title", "zh") == "信度 · Reliability"``.

    Examples
    --------
    >>> heading("title", "en")
    'Reliability · 信度'
    """
    other = "en" if lang == "zh" else "zh"
    return f"{HEADINGS[key][lang]} · {HEADINGS[key][other]}"


def page_text(key: str, lang: str, **values) -> str:
    """A paragraph of the page in both languages, ``lang`` (the run's language) first.

    Examples
    --------
    >>> page_text("none_flagged", "zh").splitlines()[0][:6]
    '没有需要提示'
    >>> page_text("none_flagged", "en").startswith("No item")
    True
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    entry = PAGE_TEXT[key]
    other = "en" if lang == "zh" else "zh"
    return f"{entry[lang].format(**values)}\n\n{entry[other].format(**values)}"


def _shown(labels, column, value, lang) -> str:
    """``value`` as the study labels it in ``lang`` (labels: None, a mapping or
    :func:`evaluation.labels.study_labels`)."""
    text = None
    if callable(labels) and not isinstance(labels, dict):
        text = labels(column, value, lang)
    elif isinstance(labels, dict) and value in labels:
        v = labels[value]
        text = v.get(lang) or v.get("en") if isinstance(v, dict) else v
    return str(value) if text is None or (isinstance(text, float) and pd.isna(text)) \
        or str(text) == "" else str(text)


def item_wording(study, *, mark_reverse: bool = True) -> dict:
    """``item -> {"en": ..., "zh": ...}``: the item's id, ``(R)`` when reverse-keyed (unless
    ``mark_reverse=False``), and its wording when the instrument has it (keys-only
    instruments give the id alone)."""
    out = {}
    for use in study.instruments:
        for it in use.instrument.items:
            mark = " (R)" if it.reverse and mark_reverse else ""
            text = dict(it.text or {})
            out[it.id] = {lg: f"{it.id}{mark} {text.get(lg) or text.get('en') or ''}".rstrip()
                          for lg in LANGS}
    return out


_STATS_TEXT = {
    "caption": {"en": "Item statistics by scale and wave", "zh": "各量表在各测量时点的题目统计"},
    "item": {"en": "Item", "zh": "题目"},
    "n": {"en": "n", "zh": "人数"},
    "mean": {"en": "Mean", "zh": "均值"},
    "sd": {"en": "SD", "zh": "标准差"},
    "r": {"en": "Item–rest r", "zh": "题目-其余题目相关 r"},
    "aid": {"en": "α if deleted", "zh": "删除该题后的 α"},
    "flag": {"en": "Flag", "zh": "提示"},
    "group": {"en": "{scale} · {wave} (α = {alpha})", "zh": "{scale} · {wave}（α = {alpha}）"},
    "negative": {"en": "negative r: check the reverse keying",
                 "zh": "相关为负：请检查反向计分"},
    "weak": {"en": "weak: r below .30", "zh": "较弱：r 低于 .30"},
    "raises": {"en": "α higher without it ({a} vs {b})", "zh": "删除后 α 更高（{a}，原为 {b}）"},
    "note": {
        "en": ("Items are reverse-keyed before analysis; (R) marks reverse-keyed items. n: "
               "children who answered the item. Item–rest r: correlation of the item with the "
               "sum of the other items of its scale (corrected item–total correlation). α if "
               "deleted: Cronbach's alpha of the scale without the item. ⚑ flags an item–rest r "
               "below .30 (or negative) and an alpha that is higher without the item."),
        "zh": ("分析前已对反向题反向计分；(R) 表示反向计分题。人数：回答了该题的儿童数。题目-其余题目相关 r："
               "该题与同一量表其余题目之和的相关（校正后题总相关）。删除该题后的 α：去掉该题后量表的 "
               "Cronbach α。⚑ 提示题目-其余题目相关低于 .30（或为负），或删除该题后 α 更高。"),
    },
}


def _flags(r, aid, alpha, weak_r) -> dict | None:
    keys = []
    if pd.notna(r) and r < 0:
        keys.append(("negative", {}))
    elif pd.notna(r) and r < weak_r:
        keys.append(("weak", {}))
    if pd.notna(aid) and pd.notna(alpha) and aid > alpha:
        keys.append(("raises", {"a": f"{aid:.3f}", "b": f"{alpha:.3f}"}))
    if not keys:
        return None
    return {lg: "⚑ " + ("；" if lg == "zh" else "; ").join(
        _STATS_TEXT[k][lg].format(**v) for k, v in keys) for lg in LANGS}


def item_statistics_published(item_stats: pd.DataFrame, reliability: pd.DataFrame | None = None,
                              lang: str = "en", *, labels=None, item_labels=None,
                              min_cell: int | None = None, weak_r: float = WEAK_R):
    """The item statistics table of the page: every item, weak ones flagged.

    One group of rows per scale and wave (named by the study's labels, with the
    scale's alpha), one row per item: n, mean, SD, item–rest r, alpha if deleted,
    and a flag (⚑) when the item–rest r is below ``weak_r`` or negative, or when
    alpha is higher without the item. Nothing is truncated; numbers are rounded by
    the table layer (:class:`evaluation.published_table.PublishedTable`), missing
    values show as "–" and suppressed rows as "§" with a footnote.

    Parameters
    ----------
    item_stats : DataFrame
        ``tables/item_statistics.csv`` as written (:func:`reliability_table`):
        ``instrument, scale, wave, item, n, mean, sd, r_item_rest, alpha_if_deleted``.
    reliability : DataFrame, optional
        ``tables/reliability.csv``: the scales' alphas (group titles, and the "higher
        without it" flag).
    lang : {"en", "zh"}
        The run's language (what the table shows first).
    labels : callable or mapping, optional
        :func:`evaluation.labels.study_labels` (``labels("scale", "inst.scale", lang)``,
        ``labels("wave", wave, lang)``).
    item_labels : mapping, optional
        Item -> text or ``{en, zh}`` (:func:`item_wording`); default the item id.
    min_cell : int, optional
    weak_r : float

    Returns
    -------
    PublishedTable

    Examples
    --------
    >>> import pandas as pd
    >>> st = pd.DataFrame({"instrument": "pcc", "scale": "total", "wave": "baseline",
    ...                    "item": ["pcc_1", "pcc_2"], "n": [765, 767], "mean": [3.668, 3.243],
    ...                    "sd": [1.067, 1.188], "r_item_rest": [0.2933, 0.4477],
    ...                    "alpha_if_deleted": [0.6868, 0.6276]})
    >>> rel = pd.DataFrame({"instrument": ["pcc"], "scale": ["total"], "wave": ["baseline"],
    ...                     "alpha": [0.6812]})
    >>> t = item_statistics_published(st, rel)
    >>> t.cells("en").iloc[0].tolist()
    ['pcc_1', '765', '3.67', '1.07', '0.29', '0.69', '⚑ weak: r below .30; α higher without it (0.687 vs 0.681)']
    >>> t.row_group_labels("zh")[0]
    'pcc.total · baseline（α = 0.68）'
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    need = {"instrument", "scale", "wave", "item", "n", "mean", "sd", "r_item_rest",
            "alpha_if_deleted"}
    missing = need - set(item_stats.columns)
    if missing:
        raise ValueError(f"item_stats lacks columns {sorted(missing)}; expected the columns of "
                         "tables/item_statistics.csv (evaluation.reliability_tables)")
    data = item_stats.copy().reset_index(drop=True)
    alphas = {}
    if reliability is not None and len(reliability):
        alphas = {(str(i), str(s), str(w)): a for i, s, w, a in zip(
            reliability["instrument"], reliability["scale"], reliability["wave"],
            reliability["alpha"])}
    keys = [(str(i), str(s), str(w)) for i, s, w in zip(data["instrument"], data["scale"],
                                                         data["wave"])]
    alpha = [alphas.get(k, np.nan) for k in keys]
    t = _STATS_TEXT

    def group(k, a):
        out = {}
        for lg in LANGS:
            scale = _shown(labels, "scale", f"{k[0]}.{k[1]}", lg)
            wave = _shown(labels, "wave", k[2], lg)
            if pd.notna(a):
                out[lg] = t["group"][lg].format(scale=scale, wave=wave, alpha=f"{a:.2f}")
            else:
                out[lg] = f"{scale} · {wave}"
        return out

    data["_group"] = [group(k, a) for k, a in zip(keys, alpha)]
    data["_wave"] = [{lg: _shown(labels, "wave", k[2], lg) for lg in LANGS} for k in keys]
    data["_item"] = [item_labels.get(i, str(i)) if item_labels else str(i) for i in data["item"]]
    data["_flag"] = [_flags(r, d, a, weak_r) for r, d, a in zip(
        pd.to_numeric(data["r_item_rest"], errors="coerce"),
        pd.to_numeric(data["alpha_if_deleted"], errors="coerce"), alpha)]
    columns = [ColumnSpec("_item", t["item"]["en"], t["item"]["zh"]),
               ColumnSpec("n", t["n"]["en"], t["n"]["zh"], "count"),
               ColumnSpec("mean", t["mean"]["en"], t["mean"]["zh"], "estimate"),
               ColumnSpec("sd", t["sd"]["en"], t["sd"]["zh"], "estimate"),
               ColumnSpec("r_item_rest", t["r"]["en"], t["r"]["zh"], "estimate"),
               ColumnSpec("alpha_if_deleted", t["aid"]["en"], t["aid"]["zh"], "estimate"),
               ColumnSpec("_flag", t["flag"]["en"], t["flag"]["zh"])]
    return PublishedTable(data, columns, caption_en=t["caption"]["en"],
                          caption_zh=t["caption"]["zh"], notes_en=[t["note"]["en"]],
                          notes_zh=[t["note"]["zh"]], row_groups="_group", min_cell=min_cell,
                          lang=lang)


def flagged_summary(table, lang: str) -> str:
    """A paragraph naming the flagged items of :func:`item_statistics_published`, both
    languages (``lang`` first)."""
    d = table.data
    flagged = d[d["_flag"].notna()]
    if flagged.empty:
        return page_text("none_flagged", lang)
    out = {}
    for lg in LANGS:
        names = []
        for item, g in flagged.groupby("item", sort=False):
            waves = ("、" if lg == "zh" else ", ").join(dict.fromkeys(v[lg] for v in g["_wave"]))
            names.append(f"{item}（{waves}）" if lg == "zh" else f"{item} ({waves})")
        out[lg] = PAGE_TEXT["flagged"][lg].format(k=len(flagged), n=len(d),
                                                  items=("、" if lg == "zh" else ", ").join(names))
    other = "en" if lang == "zh" else "zh"
    return f"{out[lang]}\n\n{out[other]}"


_RESP_TEXT = {
    "caption": {"en": "Answers to each item of {name}, {wave}",
                "zh": "{name}各题的作答分布（{wave}）"},
    "item": {"en": "Item", "zh": "题目"},
    "n": {"en": "n answered", "zh": "作答人数"},
    "note": {"en": "Share of the children who answered the item choosing each response.",
             "zh": "回答该题的儿童中选择各选项的比例。"},
}


def response_shares_published(study, items: pd.DataFrame, instrument_id: str, wave: str, *,
                              lang: str = "en", item_labels=None, labels=None,
                              min_cell: int | None = None):
    """The numbers behind an item distribution figure: per item, the share choosing each
    response (a PublishedTable; responses labelled in both languages).

    A response chosen by 1 to ``min_cell - 1`` children is suppressed (§), and so is
    the next smallest one of the item when the suppressed ones add up to fewer than
    ``min_cell`` (shares add up to 100%, so a single hidden share could be recovered).
    Counts are not shown, only shares and the number who answered.
    """
    from evaluation.published_table import ColumnSpec, PublishedTable

    inst = study.instrument(instrument_id)
    sub = items.loc[items[study.design.wave] == wave]
    codes = list(range(inst.response.min, inst.response.max + 1))
    rows = []
    for item in inst.item_ids:
        if item not in sub.columns:
            continue
        counts = sub[item].value_counts(dropna=True)
        c = [int(counts.get(float(code), 0)) for code in codes]
        total = sum(c)
        hidden = {k for k, v in enumerate(c) if min_cell and 0 < v < min_cell}
        while hidden and sum(c[k] for k in hidden) < (min_cell or 0):
            shown = [k for k, v in enumerate(c) if k not in hidden and v > 0]
            if not shown:
                break
            hidden.add(min(shown, key=lambda k: (c[k], k)))
        row = {"item": item, "_item": item_labels.get(item, item) if item_labels else item,
               "n": total if total else np.nan,
               "suppressed_counts": ";".join(f"r{codes[k]}" for k in sorted(hidden))}
        for k, code in enumerate(codes):
            row[f"r{code}"] = np.nan if k in hidden or not total else c[k] / total
        rows.append(row)
    data = pd.DataFrame(rows)
    t = _RESP_TEXT
    columns = [ColumnSpec("_item", t["item"]["en"], t["item"]["zh"]),
               ColumnSpec("n", t["n"]["en"], t["n"]["zh"], "count")]
    for code in codes:
        lab = inst.response.labels.get(code) or {}
        en = f"{code} {lab.get('en') or lab.get('zh') or ''}".strip()
        zh = f"{code} {lab.get('zh') or lab.get('en') or ''}".strip()
        columns.append(ColumnSpec(f"r{code}", en, zh, "share"))
    name = dict(inst.name or {})
    caps = {lg: t["caption"][lg].format(name=name.get(lg) or name.get("en") or inst.id,
                                        wave=_shown(labels, "wave", wave, lg)) for lg in LANGS}
    return PublishedTable(data, columns, caption_en=caps["en"], caption_zh=caps["zh"],
                          notes_en=[t["note"]["en"]], notes_zh=[t["note"]["zh"]],
                          min_cell=min_cell, lang=lang)

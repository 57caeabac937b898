"""Figures: one seaborn theme, bilingual labels, Chinese fonts, byte-identical files.

Labels come in the study's language (``zh`` or ``en``). Text from the data can be
Chinese in either language (category labels, claim texts, scale names), so
:func:`set_theme` uses a font with both Latin and CJK glyphs whenever one is
installed (Noto Sans CJK from Debian's ``fonts-noto-cjk`` first), whatever the
language. Only when none is installed does it fall back: ``zh`` labels become
English, Chinese text from the data would show as empty boxes, matplotlib's
per-glyph warnings are silenced and one warning says so instead (once per
process, when Chinese text is first drawn, or at once for ``lang="zh"``).
:func:`save_figure` writes PNG at 200 dpi and SVG without timestamps or random
ids, so re-runs give identical bytes.

Every plot function takes a tidy DataFrame produced by another ``analysis``
module (columns documented there) and returns a matplotlib ``Figure``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

from core.atomic import write_with

matplotlib.use(os.environ.get("MPLBACKEND") or "Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
             "Noto Sans CJK TC", "Noto Sans CJK JP")
PALETTE = {"control": "#7f7f7f", "treatment": "#1f77b4"}
_warned = False

TEXT = {
    "estimate": {"en": "Estimate (95% CI)", "zh": "估计值（95% 置信区间）"},
    "effect": {"en": "Effect (outcome units)", "zh": "效应（结局原始单位）"},
    "mean": {"en": "Mean (95% CI)", "zh": "均值（95% 置信区间）"},
    "wave": {"en": "Wave", "zh": "测量时点"},
    "arm": {"en": "Arm", "zh": "组别"},
    "share": {"en": "Share", "zh": "比例"},
    "power": {"en": "Power", "zh": "统计功效"},
    "enrolled": {"en": "Enrolled", "zh": "纳入"},
    "allocated": {"en": "Allocated", "zh": "分配"},
    "followed_up": {"en": "Followed up", "zh": "完成随访"},
    "analysed": {"en": "Analysed", "zh": "纳入分析"},
    "claimed": {"en": "Claimed", "zh": "报告声称"},
    "no_effect": {"en": "Expected with no effect", "zh": "无效果时的预期"},
    "observed": {"en": "Observed", "zh": "实际观察"},
    "missing": {"en": "Missing (%)", "zh": "缺失（%）"},
    "item": {"en": "Item", "zh": "题目"},
    "response": {"en": "Response", "zh": "回答"},
    "count": {"en": "Count", "zh": "人数"},
    "subgroup": {"en": "Subgroup", "zh": "亚组"},
    "zero": {"en": "No effect", "zh": "无效应"},
}


#: File names (lower case) of CJK fonts to register when matplotlib's font cache
#: predates their installation.
_CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy-zenhei", "wqy-microhei",
              "msyh", "simhei", "pingfang")

#: matplotlib's warning for a character missing from every font, for CJK characters
#: (the message names the character, e.g. ``\N{CJK UNIFIED IDEOGRAPH-7559}``).
_CJK_GLYPH_WARNING = (r"Glyph \d+ \(\\N\{(CJK|FULLWIDTH|HALFWIDTH|IDEOGRAPHIC|HIRAGANA|KATAKANA|"
                      r"HANGUL|BOPOMOFO|[A-Z ]*(CORNER|LENTICULAR|ANGLE|TORTOISE SHELL) BRACKET)"
                      r"[^}]*\}\) missing from font")


def find_cjk_font() -> str | None:
    """Name of an installed font that renders Simplified Chinese (and Latin), or None.

    Looks in matplotlib's font list for the names in :data:`CJK_FONTS`, in that
    order. If none is there but a known CJK font file is installed (matplotlib's
    font cache was built before ``fonts-noto-cjk`` was installed), the file is
    registered with matplotlib first.

    Examples
    --------
    >>> name = find_cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    from matplotlib import font_manager

    def known():
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    name = known()
    if name is None:
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name.lower() for k in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - unreadable file
                    continue
        name = known()
    return name


def _warn_no_cjk(stacklevel: int = 3) -> None:
    global _warned
    if not _warned:
        warnings.warn("No CJK font found (install fonts-noto-cjk): Chinese text in figures "
                      "shows as empty boxes, and Chinese labels fall back to English.",
                      stacklevel=stacklevel)
        _warned = True


def reset_font_warning() -> None:
    """Warn again about a missing CJK font (once per notebook, not once per kernel).

    The notebook runner reuses a kernel for several notebooks and calls this between them.
    """
    global _warned
    _warned = False


def set_theme(lang: str = "en") -> str:
    """Apply the workbench theme; return the language figures can actually use.

    A font with Latin and CJK glyphs (:func:`find_cjk_font`) is used whenever one
    is installed, in both languages, because text from the data (category
    labels, claim texts) can be Chinese in an English report. Without one,
    ``lang="zh"`` warns once and returns ``"en"``; matplotlib's warnings for
    missing CJK glyphs are silenced, and :func:`save_figure` warns once instead
    when a figure contains Chinese text.

    Examples
    --------
    >>> set_theme("en")
    'en'
    """
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    rc = {"svg.hashsalt": "survey-workbench", "svg.fonttype": "path", "figure.dpi": 100,
          "savefig.dpi": 200, "axes.titleweight": "bold", "axes.unicode_minus": False}
    effective = lang
    font = find_cjk_font()
    if font is None:
        warnings.filterwarnings("ignore", message=_CJK_GLYPH_WARNING, category=UserWarning)
        if lang == "zh":
            effective = "en"
            _warn_no_cjk()
    else:
        rc["font.family"] = "sans-serif"
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
    plt.rcParams.update(rc)
    return effective


def label(key_or_text, lang: str) -> str:
    """A label in ``lang`` from a key of :data:`TEXT` or a ``{en, zh}`` dict."""
    if isinstance(key_or_text, dict):
        return key_or_text.get(lang) or key_or_text.get("en") or next(iter(key_or_text.values()))
    entry = TEXT.get(key_or_text)
    return entry.get(lang, entry["en"]) if entry else str(key_or_text)


def save_figure(fig, folder, name: str, *, formats=("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``folder/name.png`` (200 dpi) and ``.svg`` without timestamps.

    Files are written to a temporary name and renamed, so a crash never leaves a
    half-written figure. Returns the paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        target = folder / f"{name}.{fmt}"
        meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}

        def draw(tmp, fmt=fmt, meta=meta):
            with plt.rc_context({"svg.hashsalt": "survey-workbench"}), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fig.savefig(tmp, format=fmt, dpi=200, bbox_inches="tight", metadata=meta)
            _replay(caught)

        write_with(target, draw)
        paths.append(target)
    return paths


def _replay(caught) -> None:
    """Re-issue warnings caught while drawing; many missing CJK glyphs become one warning."""
    import re

    cjk = re.compile(_CJK_GLYPH_WARNING, re.IGNORECASE)
    missing_cjk = False
    for w in caught:
        if issubclass(w.category, UserWarning) and cjk.match(str(w.message)):
            missing_cjk = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if missing_cjk:
        if find_cjk_font() is None:
            _warn_no_cjk(stacklevel=4)
        else:
            warnings.warn("Chinese text in this figure is missing from its font: call "
                          "analysis.figures.set_theme() before plotting.", stacklevel=3)


def _arm_colors(arms, control=None):
    import seaborn as sns

    arms = list(dict.fromkeys(arms))
    colors = sns.color_palette("colorblind", max(3, len(arms)))
    out = {}
    treated = iter(c for i, c in enumerate(colors) if i != 7)
    for a in arms:
        out[a] = PALETTE["control"] if a == control else next(treated)
    return out


def means_plot(means: pd.DataFrame, *, outcome: str, waves=None, control=None,
               lang="en", title=None):
    """Means by arm and wave with 95% CIs.

    ``means`` has the columns of :func:`analysis.describe.describe_by_arm_wave`
    (outcome, arm, wave, n, mean, ci_low, ci_high).
    """
    d = means[means["outcome"] == outcome].copy()
    waves = list(waves) if waves is not None else list(dict.fromkeys(d["wave"]))
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colors = _arm_colors(d["arm"], control)
    offsets = np.linspace(-0.08, 0.08, max(1, d["arm"].nunique()))
    for off, (arm, g) in zip(offsets, d.groupby("arm", sort=False)):
        g = g.set_index("wave").reindex(waves)
        x = np.arange(len(waves)) + off
        ax.errorbar(x, g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                    marker="o", capsize=3, label=str(arm), color=colors[arm])
    ax.set_xticks(range(len(waves)), waves)
    ax.set_xlabel(label("wave", lang))
    ax.set_ylabel(label("mean", lang))
    ax.set_title(title or outcome)
    ax.legend(title=label("arm", lang), frameon=False)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 26) -> str:
    """Wrap a label; CJK text (no spaces) is cut by characters."""
    import textwrap

    text = str(text)
    if " " in text:
        return "\n".join(textwrap.wrap(text, width)) or text
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def estimation_plot(effects: pd.DataFrame, *, lang="en", title=None, models=None):
    """Each outcome's effect with its CI, one panel per outcome (own units).

    ``effects`` has the columns of :func:`analysis.effects.estimate_effects`.
    Primary-model rows are drawn solid, others hollow. Outcomes are in their own
    units, so each gets its own panel and x axis.
    """
    d = effects if models is None else effects[effects["model"].isin(models)]
    d = d.reset_index(drop=True)
    outcomes = list(dict.fromkeys(d["outcome"]))
    heights = [max(1, (d["outcome"] == o).sum()) for o in outcomes]
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(7, 0.42 * sum(heights) + 1.0 * len(outcomes)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, o in zip(axes[:, 0], outcomes):
        sub = d[d["outcome"] == o].reset_index(drop=True)
        y = np.arange(len(sub))[::-1]
        labels = []
        for yi, r in zip(y, sub.itertuples()):
            arm = "" if pd.isna(r.arm) or r.arm in (None, "None") else f"{r.arm} · "
            labels.append(f"{arm}{r.model}")
            ax.plot([r.ci_low, r.ci_high], [yi, yi], color="#1f77b4", lw=2)
            ax.plot(r.estimate, yi, "o", color="#1f77b4",
                    markerfacecolor="#1f77b4" if bool(r.primary) else "white")
        ax.axvline(0, color="#444", lw=1, ls="--")
        ax.set_yticks(y, labels)
        ax.set_title(str(o), loc="left", fontsize=10)
    axes[-1, 0].set_xlabel(label("effect", lang))
    fig.suptitle(title or label("estimate", lang))
    fig.tight_layout()
    return fig


def forest_plot(subgroups: pd.DataFrame, *, outcome: str, lang="en", title=None):
    """Subgroup effects with CIs (columns of :func:`analysis.effects.subgroup_effects`).

    Rows whose estimate was suppressed (small cells) are shown as a label only.
    """
    d = subgroups[subgroups["outcome"] == outcome].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.42 * len(d) + 1.3))
    y = np.arange(len(d))[::-1]
    names = []
    for yi, r in zip(y, d.itertuples()):
        names.append(f"{r.subgroup} = {r.level}")
        if pd.notna(r.estimate) and pd.notna(r.ci_low):
            ax.plot([r.ci_low, r.ci_high], [yi, yi], color="#1f77b4", lw=2)
            ax.plot(r.estimate, yi, "s", color="#1f77b4")
        else:
            ax.text(0, yi, "suppressed (n < min_cell)", va="center", ha="center", fontsize=8,
                    color="#777")
    ax.axvline(0, color="#444", lw=1, ls="--")
    ax.set_yticks(y, names)
    ax.set_xlabel(label("effect", lang))
    ax.set_title(title or f"{outcome}: {label('subgroup', lang)}")
    fig.tight_layout()
    return fig


def consort_diagram(flow: pd.DataFrame, *, lang="en", title=None):
    """A CONSORT-style flow diagram per arm.

    ``flow`` has one row per arm with columns ``arm, enrolled, allocated,
    followed_up, analysed`` (the counts of :func:`analysis.describe.attrition`);
    a row with ``arm == "overall"`` is ignored. Suppressed counts (NaN) print as
    "<min_cell".
    """
    d = flow[flow["arm"].astype(str) != "overall"].reset_index(drop=True)
    stages = ["allocated", "followed_up", "analysed"]
    fig, ax = plt.subplots(figsize=(2.6 * max(2, len(d)) + 1, 4.6))
    ax.set_axis_off()
    total = d["enrolled"].sum() if "enrolled" in d else np.nan

    def box(x, y, text):
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#f4f6fb", "ec": "#55607a"})

    def fmt(v):
        return "<min" if pd.isna(v) else f"{int(v)}"

    def arrow(x0, y0, x1, y1):
        from matplotlib.patches import FancyArrowPatch

        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12,
                                     color="#55607a", lw=1.2))

    n = len(d)
    xs = np.linspace(0.2, 0.8, n) if n > 1 else np.array([0.5])
    box(0.5, 0.92, f"{label('enrolled', lang)}: n = {fmt(total)}")
    for x, r in zip(xs, d.itertuples()):
        arrow(0.5, 0.87, x, 0.75)
        for k, stage in enumerate(stages):
            yy = 0.68 - 0.24 * k
            extra = f"\n{r.arm}" if k == 0 else ""
            box(x, yy, f"{label(stage, lang)}{extra}\nn = {fmt(getattr(r, stage))}")
            if k:
                arrow(x, yy + 0.17, x, yy + 0.07)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def missingness_plot(missing: pd.DataFrame, *, lang="en", title=None):
    """Percent missing by item (rows) and wave (columns).

    ``missing`` has columns ``item, wave, missing_pct``.
    """
    import seaborn as sns

    wide = missing.pivot(index="item", columns="wave", values="missing_pct")
    fig, ax = plt.subplots(figsize=(1.4 * wide.shape[1] + 2.5, 0.22 * wide.shape[0] + 1.5))
    sns.heatmap(wide, annot=wide.shape[0] <= 40, fmt=".0f", cmap="Reds", vmin=0, vmax=max(
        10, float(np.nanmax(wide.to_numpy())) if wide.size else 10), cbar_kws={
        "label": label("missing", lang)}, ax=ax)
    ax.set_xlabel(label("wave", lang))
    ax.set_ylabel(label("item", lang))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def item_distributions(counts: pd.DataFrame, *, lang="en", title=None):
    """Stacked response shares per item.

    ``counts`` has columns ``item, response, n``.
    """
    wide = counts.pivot_table(index="item", columns="response", values="n", aggfunc="sum",
                              fill_value=0, sort=False)
    shares = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(shares) + 1.4))
    shares.iloc[::-1].plot(kind="barh", stacked=True, ax=ax, colormap="RdYlBu", width=0.8,
                           legend=True)
    ax.set_xlabel(label("share", lang))
    ax.set_ylabel(label("item", lang))
    ax.legend(title=label("response", lang), bbox_to_anchor=(1.01, 1), loc="upper left",
              frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def claim_plot(audit: pd.DataFrame, *, lang="en", title=None):
    """The claimed share, the share expected with no effect, and observed shares by arm.

    ``audit`` has the columns of ``tables/claims.csv``: claim, claimed_proportion,
    ci_low, ci_high, null_proportion, observed_treatment, observed_control.
    """
    d = audit.reset_index(drop=True)
    lines = max(_wrap(c).count("\n") + 1 for c in d["claim"]) if len(d) else 1
    fig, ax = plt.subplots(figsize=(8.5, (1.0 + 0.25 * lines) * len(d) + 1.4))
    y = np.arange(len(d))[::-1]
    for yi, r in zip(y, d.itertuples()):
        ax.plot([r.ci_low, r.ci_high], [yi, yi], color="#d62728", lw=3, alpha=.6)
        ax.plot(r.claimed_proportion, yi, "D", color="#d62728", label=label("claimed", lang)
                if yi == y[0] else None)
        ax.plot(r.null_proportion, yi - 0.18, "o", color="#7f7f7f",
                label=label("no_effect", lang) if yi == y[0] else None)
        for col, mk, c in (("observed_treatment", "^", "#1f77b4"),
                           ("observed_control", "v", "#2ca02c")):
            v = getattr(r, col, np.nan)
            if pd.notna(v):
                ax.plot(v, yi + 0.18, mk, color=c,
                        label=f"{label('observed', lang)} ({col.split('_')[1]})" if yi == y[0] else None)
    ax.set_xlim(0, 1)
    ax.set_yticks(y, [_wrap(c) for c in d["claim"]])
    ax.set_xlabel(label("share", lang))
    ax.legend(frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def power_curve(curves: pd.DataFrame, *, x: str, lang="en", title=None, xlabel=None,
                target=0.8):
    """Power against a design quantity, one line per ``series``.

    ``curves`` has columns ``x`` (named by the argument), ``power`` and ``series``.
    """
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, g in curves.groupby("series", sort=False):
        ax.plot(g[x], g["power"], marker="o", ms=3, label=str(name))
    ax.axhline(target, color="#444", lw=1, ls="--")
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(label("power", lang))
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

"""Figures of the missing-data page (``07_sensitivity``).

- :func:`sensitivity_plot` -- for each outcome, the effect under every way of handling the
  missing children, stacked under the primary (complete-case) estimate, whose interval is
  a shaded band across the panel; Lee bounds as a thick bar (the bounds) over a thin line
  (the Imbens-Manski interval);
- :func:`delta_plot` -- the multiple-imputation estimate and interval as the program
  children who left are assumed to have scored delta SD lower or higher than imputed,
  with the tipping point marked.

Theme, fonts and bilingual labels are those of :mod:`analysis.figures` (call
:func:`analysis.figures.set_theme` first; it returns ``"en"`` when ``"zh"`` was asked and no
CJK font is installed). Rows suppressed for small cells are drawn as the suppression mark,
never as numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.figures import _wrap, label, plt

__all__ = ["FIGURE_TEXT", "delta_plot", "sensitivity_plot"]

SUPPRESSED = "§"

FIGURE_TEXT = {
    "complete_case": {"en": "Complete cases (primary)", "zh": "完整个案（主要估计）"},
    "complete_case_ancova": {"en": "Complete cases (ANCOVA)", "zh": "完整个案（协方差分析）"},
    "mi": {"en": "Multiple imputation", "zh": "多重插补"},
    "ipw": {"en": "Inverse probability weights", "zh": "逆概率加权"},
    "lee": {"en": "Lee bounds", "zh": "Lee 界"},
    "lee_tightened": {"en": "Lee bounds within {cov}", "zh": "按{cov}分层的 Lee 界"},
    "title": {"en": "The effect under each way of handling missing data",
              "zh": "不同缺失数据处理方法下的效果"},
    "x": {"en": "Effect (program − control), outcome units; 95% CI",
          "zh": "效果（项目组 − 对照组），结局原始单位；95% 置信区间"},
    "tipping": {"en": "tipping δ = {d:+.2f} SD", "zh": "临界 δ = {d:+.2f} 个标准差"},
    "no_tipping": {"en": "no tipping point in δ = {lo} … {hi} SD",
                   "zh": "δ = {lo} … {hi} 个标准差内无临界点"},
    "delta_title": {"en": "If the program children who left scored differently",
                    "zh": "如果项目组流失儿童的分数不同"},
    "delta_x": {"en": "δ: shift of their imputed endline scores (SD)",
                "zh": "δ：其终期插补分数的平移量（标准差）"},
    "delta_y": {"en": "Effect (95% CI)", "zh": "效果（95% 置信区间）"},
    "mar": {"en": "MAR (δ = 0)", "zh": "随机缺失（δ = 0）"},
    "suppressed": {"en": "§: fewer than {k} children (suppressed)",
                   "zh": "§：少于 {k} 名儿童（已隐去）"},
}
"""Labels of the sensitivity figures, ``{key: {"en": ..., "zh": ...}}``."""

_COLORS = {"complete_case": "#222222", "mi": "#0173b2", "ipw": "#de8f05", "lee": "#029e73",
           "lee_tightened": "#56b4e9"}


def _t(key: str, lang: str, **kw) -> str:
    text = label(FIGURE_TEXT[key], lang)
    return text.format(**kw) if kw else text


def _true(v) -> bool:
    return (not pd.isna(v)) and str(v).strip().lower() in ("true", "1")


def _notes(v) -> dict:
    out = {}
    if isinstance(v, str):
        for part in v.split(";"):
            if "=" in part:
                k, x = part.split("=", 1)
                out[k] = x
    return out


def _rows(g: pd.DataFrame, lang: str, covariate_labels) -> list[dict]:
    """Drawable rows of one outcome x arm: kind, label, estimate / bounds, CI, suppressed."""
    by = {str(r["method"]): r for _, r in g.iterrows()}
    out = []
    for m in ("complete_case", "mi", "ipw"):
        if m in by:
            r = by[m]
            key = ("complete_case_ancova" if m == "complete_case"
                   and "model_not_primary" in str(r.get("note", "")) else m)
            out.append({"kind": m, "label": _t(key, lang), "lo": r["estimate"], "hi": r["estimate"],
                        "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                        "suppressed": _true(r.get("suppressed"))})
    for k in ("lee", "lee_tightened"):
        lo, hi = by.get(f"{k}_lower"), by.get(f"{k}_upper")
        if lo is None or hi is None:
            continue
        cov = _notes(lo.get("note")).get("lee_covariate", "")
        cov = (covariate_labels or {}).get(cov, {}).get(lang, cov) if cov else ""
        out.append({"kind": k, "label": _t(k, lang, cov=cov), "lo": lo["estimate"],
                    "hi": hi["estimate"], "ci_low": lo["ci_low"], "ci_high": lo["ci_high"],
                    "suppressed": _true(lo.get("suppressed"))})
    return out


def sensitivity_plot(table: pd.DataFrame, *, lang: str = "en", outcome_labels=None,
                     arm_labels=None, covariate_labels=None, min_cell: int | None = None):
    """The effect of each outcome under every method, under the primary estimate.

    Parameters
    ----------
    table : DataFrame
        ``tables/sensitivity.csv`` (:func:`analysis.sensitivity.sensitivity_table`).
    lang : {"en", "zh"}
    outcome_labels, arm_labels : dict, optional
        ``id -> label`` in ``lang`` (or ``id -> {"en", "zh"}``).
    covariate_labels : dict, optional
        ``column -> {"en", "zh"}`` for the tightened Lee bounds.
    min_cell : int, optional
        Named in the note on suppressed rows.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per outcome x arm (each with its own x axis: outcomes have their own
        units).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sensitivity_figures import sensitivity_plot
    >>> t = pd.DataFrame({"outcome": "y", "arm": "t", "method": ["complete_case", "mi",
    ...                   "lee_lower", "lee_upper", "tipping_delta"],
    ...                   "estimate": [0.2, 0.21, 0.1, 0.3, -0.4], "ci_low": [0.01, 0.0, -0.05, -0.05, 0],
    ...                   "ci_high": [0.4, 0.42, 0.5, 0.5, 0.4], "note": "", "suppressed": False})
    >>> fig = sensitivity_plot(t)
    >>> len(fig.axes)
    1
    """
    def name(labels, key):
        v = (labels or {}).get(key, key)
        return label(v, lang) if isinstance(v, dict) else str(v)

    groups = list(table.groupby(["outcome", "arm"], sort=False))
    n_arms = table["arm"].nunique() if len(table) else 1
    panels = max(len(groups), 1)
    heights = [max(len(_rows(g, lang, covariate_labels)), 1) + 1.2 for _, g in groups] or [2]
    fig, axes = plt.subplots(panels, 1, figsize=(8.5, 0.42 * sum(heights) + 1.2),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    any_sup = False
    for ax, ((oid, arm), g) in zip(axes[:, 0], groups, strict=False):
        rows = _rows(g, lang, covariate_labels)
        y = np.arange(len(rows))[::-1].astype(float)
        prim = next((r for r in rows if r["kind"] == "complete_case" and not r["suppressed"]), None)
        if prim is not None and np.isfinite([prim["ci_low"], prim["ci_high"]]).all():
            ax.axvspan(prim["ci_low"], prim["ci_high"], color="#dddddd", alpha=0.6, lw=0)
            ax.axvline(prim["lo"], color="#555555", lw=0.8, ls=":")
        ax.axvline(0, color="#b22222", lw=1.0)
        for yi, r in zip(y, rows, strict=True):
            c = _COLORS[r["kind"]]
            if r["suppressed"] or not np.isfinite(float(r["lo"])):
                ax.text(0, yi, SUPPRESSED if r["suppressed"] else "–", ha="center",
                        va="center", fontsize=10, color="#555555")
                any_sup = any_sup or r["suppressed"]
                continue
            if np.isfinite([float(r["ci_low"]), float(r["ci_high"])]).all():
                ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=c, lw=1.4,
                        solid_capstyle="butt")
            if r["kind"].startswith("lee"):
                ax.plot([r["lo"], r["hi"]], [yi, yi], color=c, lw=6, solid_capstyle="butt")
            else:
                ax.plot([r["lo"]], [yi], "o", color=c, ms=7 if r["kind"] == "complete_case" else 6,
                        mec="white", mew=0.8)
        ax.set_yticks(y, [r["label"] for r in rows], fontsize=9)
        ax.set_ylim(-0.8, len(rows) - 0.2)
        head = name(outcome_labels, oid)
        if n_arms > 1:
            head = f"{head} · {name(arm_labels, arm)}"
        tip = g[g["method"] == "tipping_delta"]
        if len(tip) and not _true(tip["suppressed"].iloc[0]):
            d = float(tip["estimate"].iloc[0])
            nt = _notes(tip["note"].iloc[0])
            if np.isfinite(d):
                head += f"   ({_t('tipping', lang, d=d)})"
            elif "no_tipping" in nt:
                lo, hi = nt["no_tipping"].split("..")
                head += f"   ({_t('no_tipping', lang, lo=lo, hi=hi)})"
        ax.set_title(_wrap(head, 80), fontsize=10, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", visible=False)
    axes[-1, 0].set_xlabel(_t("x", lang), fontsize=9)
    fig.suptitle(_t("title", lang), fontsize=11, x=0.01, ha="left")
    if any_sup and min_cell:
        fig.text(0.01, 0.005, _t("suppressed", lang, k=int(min_cell)), fontsize=7)
    fig.tight_layout()
    return fig


def delta_plot(grid: pd.DataFrame, table: pd.DataFrame | None = None, *, lang: str = "en",
               outcome_labels=None, arm_labels=None):
    """The multiple-imputation effect and 95% CI over the delta grid, per outcome x arm.

    Parameters
    ----------
    grid : DataFrame
        :attr:`analysis.imputation.DeltaResult.grid` rows of every outcome (``outcome, arm,
        delta, estimate, ci_low, ci_high``).
    table : DataFrame, optional
        The sensitivity table, for the tipping points (``tipping_delta`` rows).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.sensitivity_figures import delta_plot
    >>> d = np.linspace(-1, 1, 5)
    >>> g = pd.DataFrame({"outcome": "y", "arm": "t", "delta": d, "estimate": 0.3 + 0.2 * d,
    ...                   "ci_low": 0.1 + 0.2 * d, "ci_high": 0.5 + 0.2 * d})
    >>> len(delta_plot(g).axes)
    1
    """
    def name(labels, key):
        v = (labels or {}).get(key, key)
        return label(v, lang) if isinstance(v, dict) else str(v)

    groups = list(grid.groupby(["outcome", "arm"], sort=False))
    k = max(len(groups), 1)
    cols = min(k, 3)
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols + 0.6, 2.9 * rows + 0.8),
                             squeeze=False)
    n_arms = grid["arm"].nunique() if len(grid) else 1
    for ax, ((oid, arm), g) in zip(axes.ravel(), groups, strict=False):
        g = g.sort_values("delta")
        ax.fill_between(g["delta"], g["ci_low"], g["ci_high"], color="#0173b2", alpha=0.18, lw=0)
        ax.plot(g["delta"], g["estimate"], color="#0173b2", lw=1.6)
        ax.axhline(0, color="#b22222", lw=1.0)
        ax.axvline(0, color="#555555", lw=0.8, ls=":")
        if table is not None:
            tip = table[(table["outcome"] == oid) & (table["arm"] == arm)
                        & (table["method"] == "tipping_delta")]
            if len(tip) and np.isfinite(float(tip["estimate"].iloc[0])) \
                    and not _true(tip["suppressed"].iloc[0]):
                d = float(tip["estimate"].iloc[0])
                ax.axvline(d, color="#b22222", lw=1.0, ls="--")
                ax.text(0.02, 0.97, _t("tipping", lang, d=d), transform=ax.transAxes,
                        color="#b22222", fontsize=8.5, va="top", ha="left",
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1})
        head = name(outcome_labels, oid)
        if n_arms > 1:
            head = f"{head} · {name(arm_labels, arm)}"
        ax.set_title(_wrap(head, 30), fontsize=10, loc="left")
        ax.set_xlabel(_wrap(_t("delta_x", lang), 34), fontsize=9)
        ax.tick_params(labelsize=8.5)
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(_t("delta_y", lang), fontsize=9)
    fig.suptitle(_t("delta_title", lang), fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig

"""Figures of the power page: power of a planned trial with the uncertainty of its inputs.

:func:`power_band` draws power against the size of the next trial, one line per true
effect at the estimated planning input (the ICC, or the pre-post R² of an
individually randomized trial) and a shaded band between the powers at the two ends
of the input's 95% confidence interval. The labels are bilingual; the theme and the
CJK font come from :func:`analysis.figures.set_theme`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from analysis.figures import label, set_theme

__all__ = ["TEXT", "power_band"]

TEXT = {
    "clusters": {"en": "Schools in the next trial (both arms)",
                 "zh": "下一项试验的学校数（两组合计）"},
    "n_per_arm": {"en": "Children per arm in the next trial", "zh": "下一项试验每组儿童数"},
    "power": {"en": "Power", "zh": "统计功效"},
    "target": {"en": "Target power ({p}%)", "zh": "目标功效（{p}%）"},
    "effect": {"en": "True effect d = {d}", "zh": "真实效应 d = {d}"},
    "band_icc": {"en": "Band: 95% CI of the school ICC", "zh": "阴影：学校组内相关的 95% 置信区间"},
    "estimate_icc": {"en": "Line: at the estimated ICC", "zh": "实线：组内相关估计值"},
    "estimate_r2": {"en": "Line: at the estimated R²", "zh": "实线：R² 估计值"},
    "band_r2": {"en": "Band: 95% CI of R²", "zh": "阴影：R² 的 95% 置信区间"},
    "this_study": {"en": "This study's size ({n})", "zh": "本研究规模（{n}）"},
}
"""The figure's words, in both languages."""


def power_band(curves: pd.DataFrame, *, x: str, lang: str = "en", target: float = 0.8,
               study_size: float | None = None, band_over: str = "icc", title=None):
    """Power against the size of the next trial, with the band of the planning input's CI.

    One panel per true effect: the line is the power at the estimated input, the
    shaded band spans the powers at the two ends of its 95% CI.

    Parameters
    ----------
    curves : DataFrame
        :func:`evaluation.power_tables.power_curves`: columns ``x``, ``effect``,
        ``power``, ``power_low``, ``power_high``.
    x : {"clusters", "n_per_arm"}
        The size on the x axis.
    lang : {"en", "zh"}
    target : float
        The target power, drawn dashed.
    study_size : float, optional
        This study's size, marked with a dotted vertical line.
    band_over : {"icc", "r2"}
        What the band is the CI of (named in the legend).
    title : str or dict, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"clusters": [10, 20, 10, 20], "effect": [.2, .2, .3, .3],
    ...                   "power": [.2, .4, .4, .7], "power_low": [.1, .2, .2, .4],
    ...                   "power_high": [.3, .6, .6, .9]})
    >>> fig = power_band(c, x="clusters", lang="en", study_size=20)
    >>> fig.axes[1].get_xlabel()  # under the middle panel
    'Schools in the next trial (both arms)'
    >>> len(fig.axes)  # one panel per true effect
    2
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    lang = set_theme(lang)
    for col in (x, "effect", "power", "power_low", "power_high"):
        if col not in curves:
            raise ValueError(f"power_band: curves has no column {col!r}; expected the table of "
                             "evaluation.power_tables.power_curves")
    effects = sorted(curves["effect"].unique())
    fig, axes = plt.subplots(1, len(effects), figsize=(2.9 * len(effects) + 0.6, 3.9),
                             layout="constrained", sharey=True, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles = []
    for i, (eff, ax) in enumerate(zip(effects, axes[0])):
        c = colors[i % len(colors)]
        g = curves[curves["effect"] == eff].sort_values(x)
        ax.fill_between(g[x], g["power_low"], g["power_high"], color=c, alpha=0.25, lw=0)
        ax.plot(g[x], g["power"], color=c, lw=2)
        ax.set_title(label(TEXT["effect"], lang).format(d=f"{eff:g}"), fontsize="medium")
        tgt = ax.axhline(target, color="#444", lw=1, ls="--",
                         label=label(TEXT["target"], lang).format(p=f"{100 * target:.0f}"))
        if study_size is not None:
            vl = ax.axvline(study_size, color="#777", lw=1, ls=":",
                            label=label(TEXT["this_study"], lang).format(n=f"{study_size:g}"))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("")
    from matplotlib.lines import Line2D

    handles.append(Line2D([], [], color="#333", lw=2,
                          label=label(TEXT["estimate_icc" if band_over != "r2" else
                                           "estimate_r2"], lang)))
    handles.append(Patch(facecolor="#999", alpha=0.35,
                         label=label(TEXT["band_r2" if band_over == "r2" else "band_icc"], lang)))
    handles.append(tgt)
    if study_size is not None:
        handles.append(vl)
    axes[0][0].set_ylabel(label(TEXT["power"], lang))
    axes[0][len(effects) // 2].set_xlabel(label(TEXT[x], lang) if x in TEXT else x)
    fig.legend(handles=handles, frameon=False, loc="outside lower center", ncols=2)
    if title:
        fig.suptitle(label(title, lang) if isinstance(title, dict) else title)
    return fig

"""The intra-class correlation section of the baseline page (``tables/icc.csv``).

:func:`icc_table` computes the table; :func:`icc_section` writes it and shows it on
the page (notebook ``02_baseline`` calls it with its run folder).
"""

from __future__ import annotations

import pandas as pd

from analysis import describe

__all__ = ["icc_table", "icc_section", "INTRO"]

INTRO = {
    "en": ("From an unconditional random-intercept model (REML) per outcome and wave. School "
           "trials usually see 0.01–0.08 at school level. Even a small ICC shrinks the effective "
           "sample size of a cluster trial: with 40 children per school and ICC 0.05 the design "
           "effect is 1 + 39 × 0.05 ≈ 3."),
    "zh": ("按结局和测量时点拟合无条件随机截距模型（REML）。学校层面的组内相关系数通常为 0.01–0.08。"
           "即使很小的组内相关也会缩小整群试验的有效样本量：每校 40 名儿童、组内相关 0.05 时，"
           "设计效应为 1 + 39 × 0.05 ≈ 3。"),
}
"""The section's explanation, in both languages (the run's language first)."""


def icc_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """ICCs of each outcome at each cluster level and wave (``tables/icc.csv``)."""
    d = study.design
    if not d.clusters or not study.outcomes:
        return pd.DataFrame(columns=["outcome", "wave", "level", "variance", "icc"])
    cols = {o.column_name: o.id for o in study.outcomes}
    out = describe.icc(scores, list(cols), clusters=list(d.clusters), wave=d.wave)
    out["outcome"] = out["outcome"].map(cols).fillna(out["outcome"])
    return out


def icc_section(run, scores: pd.DataFrame) -> pd.DataFrame:
    """Write ``tables/icc.csv`` and show the ICC section of the baseline page.

    Parameters
    ----------
    run : evaluation.run_folder.RunFolder
        The run folder of the notebook (its study, language and writers).
    scores : DataFrame
        The scored data (``run.scores()``).

    Returns
    -------
    DataFrame
        The table as written.
    """
    from IPython.display import Markdown, display

    from evaluation.applicability import not_applicable_reason
    from evaluation.labels import label_frame

    study = run.study
    display(Markdown(INTRO[run.text_lang] + "\n\n" + INTRO["en" if run.text_lang == "zh" else "zh"]))
    icc = run.write_table("icc", icc_table(study, scores))
    reason = not_applicable_reason(study, "icc")
    if reason:
        run.note(*reason)
    else:
        display(label_frame(icc, study, run.text_lang, names=["level"]))
    return icc

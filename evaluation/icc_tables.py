"""The intra-class correlation section of the baseline page (``tables/icc.csv``).

:func:`icc_table` computes the table; :func:`icc_section` writes it and shows it on
the page (notebook ``02_baseline`` calls it with its run folder) as a
:class:`~evaluation.published_table.PublishedTable` built by :func:`icc_published`.

At baseline (and in designs without an arm) the ICC comes from the unconditional
random-intercept model. After the program (every wave but the baseline, or the one
wave of a cross-sectional comparison) a design with an arm is fitted with the arm as
a fixed effect: otherwise the difference the program made between the arms would be
counted as a difference between schools. Each ICC carries its 95% profile-likelihood
interval (:func:`analysis.icc.icc`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import icc as icc_lib

__all__ = ["COLUMNS", "CONDITIONING", "INTRO", "icc_published", "icc_section", "icc_table",
           "conditioned_waves"]

COLUMNS = ["outcome", "wave", "level", "variance", "icc", "conditioned_on", "ci_low", "ci_high",
           "ci_method"]
"""Columns of ``tables/icc.csv``: the first five as before issue 13, then
``conditioned_on`` (``arm`` when the arm was a fixed effect, else empty), ``ci_low``,
``ci_high`` (95% profile-likelihood interval of the ICC; empty on ``residual`` rows)
and ``ci_method`` (``profile``)."""

INTRO = {
    "en": ("The intra-class correlation (ICC) is the share of an outcome's variance that lies "
           "between clusters (schools, classes), from a random-intercept model fitted by REML "
           "for each outcome and wave, with its 95% profile-likelihood confidence interval. "
           "School trials usually see 0.01–0.08 at school level. Even a small ICC shrinks the "
           "effective sample size of a cluster trial: with 40 children per school and ICC 0.05 "
           "the design effect is 1 + 39 × 0.05 ≈ 3. With few clusters the interval is wide, so "
           "plan with its range, not only the point value (power page)."),
    "zh": ("组内相关系数（ICC）是结局方差中位于整群（学校、班级）之间的比例，按结局和测量时点用 "
           "REML 拟合随机截距模型得到，并给出 95% 剖面似然置信区间。学校层面的组内相关系数通常为 "
           "0.01–0.08。即使很小的组内相关也会缩小整群试验的有效样本量：每校 40 名儿童、组内相关 "
           "0.05 时，设计效应为 1 + 39 × 0.05 ≈ 3。整群较少时区间很宽，规划时应使用整个区间，"
           "而不只是点估计（见统计功效页）。"),
}
"""The section's explanation, in both languages (the run's language first)."""


CONDITIONING = {
    "arm": {
        "en": ("What the model conditions on: at baseline nothing (the arms were just formed). "
               "After the program the model includes the arm as a fixed effect (column "
               "“Conditioned on”), so the difference the program made between the arms is "
               "not counted as a difference between schools: this is the ICC a next trial "
               "will meet. An unconditional ICC after the program would overstate it."),
        "zh": ("模型控制了什么：基线时不控制任何变量（两组刚刚分好）。项目实施后的模型把组别作为"
               "固定效应（“控制变量”一列），这样项目在两组之间造成的差异不会被算作学校之间的差异；"
               "这才是下一项试验会遇到的组内相关。项目实施后不控制组别的组内相关会偏高。"),
    },
    "arm_not_randomized": {
        "en": ("What the model conditions on: the group, at every wave (column “Conditioned "
               "on”). The groups were not formed by randomization (here they are whole schools or "
               "classes that differed before the program), so even at baseline a model without "
               "the group would count the difference between the groups as a difference between "
               "clusters and overstate the ICC."),
        "zh": ("模型控制了什么：每个测量时点都控制组别（“控制变量”一列）。各组不是随机分出的（这里是项目"
               "开始前就不同的整所学校或整个班级），因此即使在基线，不控制组别的模型也会把组间差异算作"
               "整群之间的差异，使组内相关偏高。"),
    },
    "none": {
        "en": ("What the model conditions on: nothing. The study has no arm, so every wave's "
               "ICC comes from the model with the intercept only (column “Conditioned on”: "
               "none)."),
        "zh": ("模型控制了什么：不控制任何变量。本研究没有分组，因此每个测量时点的组内相关都来自"
               "只含截距的模型（“控制变量”一列为“无”）。"),
    },
}
"""What the models condition on, in both languages: ``arm`` (a design with an arm) or
``none``."""


def conditioned_waves(design) -> list[str]:
    """The waves whose ICC is conditioned on the arm: after the program, with an arm.

    Every wave but the baseline when there is one; the one wave of a single-wave
    comparison; every wave of a non-randomized comparison (its groups differed before
    the program); none without an arm.
    """
    if not design.arm:
        return []
    waves = list(design.waves)
    if design.type not in ("randomized", "cluster_randomized"):
        return waves  # groups that existed before the program differ at baseline too
    return waves[1:] if len(waves) > 1 else waves


def icc_table(study, scores: pd.DataFrame) -> pd.DataFrame:
    """ICCs of each outcome at each cluster level and wave (``tables/icc.csv``).

    One row per outcome, wave and level (outermost first, then ``residual``), with
    the columns :data:`COLUMNS`. Conditioned on the arm in :func:`conditioned_waves`.
    """
    d = study.design
    if not d.clusters or not study.outcomes:
        return pd.DataFrame(columns=COLUMNS)
    after = set(map(str, conditioned_waves(d)))
    rows = []
    waves = [str(w) for w in d.waves] if d.wave in scores else [None]
    wave = scores[d.wave].astype(str) if d.wave in scores else None
    parts = {w: scores if w is None else scores[wave == w] for w in waves}  # once per wave
    for o in study.outcomes:
        for w in waves:
            part = parts[w]
            if part[o.column_name].notna().sum() == 0:
                continue
            cond = w in after
            try:
                t = icc_lib.icc(part, o.column_name, list(d.clusters),
                                fixed=[d.arm] if cond else None)
            except ValueError as exc:
                where = f" at wave {w!r}" if w is not None else ""
                raise ValueError(f"ICC of {o.id!r} ({o.column_name}){where}: {exc}") from None
            for r in t.itertuples():
                rows.append({"outcome": o.id, "wave": w, "level": r.level,
                             "variance": r.variance, "icc": r.icc,
                             "conditioned_on": "arm" if cond else "", "ci_low": r.ci_low,
                             "ci_high": r.ci_high, "ci_method": r.ci_method})
            resid = t.attrs["residual_variance"]
            total = resid + float(np.nansum(t["variance"]))
            rows.append({"outcome": o.id, "wave": w, "level": "residual", "variance": resid,
                         "icc": resid / total, "conditioned_on": "arm" if cond else "",
                         "ci_low": np.nan, "ci_high": np.nan, "ci_method": ""})
    return pd.DataFrame(rows, columns=COLUMNS)


_CONDITIONED = {"arm": {"en": "Arm", "zh": "组别"}, "": {"en": "none", "zh": "无"}}


def _three(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.3f}"


def icc_published(icc: pd.DataFrame, study, lang: str):
    """The ICC table as a :class:`~evaluation.published_table.PublishedTable`.

    Rows grouped by outcome; wave, level and the conditioning shown through the
    study's labels; the ICC and its interval with 3 decimals (an ICC of 0.036 is not
    0.04); the residual rows left out (the ICCs and the residual share sum to 1).
    """
    from evaluation.labels import study_labels
    from evaluation.published_table import ColumnSpec, PublishedTable

    labels = study_labels(study)
    t = icc[icc["level"] != "residual"].copy()

    rows = []
    for r in t.itertuples():
        out = {}
        for lg in ("en", "zh"):
            out[f"outcome_{lg}"] = labels("outcome", r.outcome, lg) or str(r.outcome)
        out["outcome"] = {"en": out.pop("outcome_en"), "zh": out.pop("outcome_zh")}
        wave = "" if pd.isna(r.wave) else str(r.wave)
        out["wave"] = {lg: study.label("wave", wave, lg) if wave else "" for lg in ("en", "zh")}
        out["level"] = {lg: study.column_label(r.level, lg) for lg in ("en", "zh")}
        out["icc"] = _three(r.icc)
        joins = {"en": " to ", "zh": " 至 "}
        ok = np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
        out["ci"] = {lg: (f"{_three(r.ci_low)}{joins[lg]}{_three(r.ci_high)}" if ok else "–")
                     for lg in ("en", "zh")}
        cond = "" if pd.isna(r.conditioned_on) else str(r.conditioned_on)
        out["conditioned_on"] = _CONDITIONED.get(cond, {"en": cond, "zh": cond})
        rows.append(out)
    data = pd.DataFrame(rows, columns=["outcome", "wave", "level", "icc", "ci",
                                       "conditioned_on"])
    notes_en = ["ICC: share of the outcome's variance between clusters of that level "
                "(REML random-intercept model); 95% CI by profile likelihood. "
                "“Conditioned on: Arm”: the arm is a fixed effect of the model (after the "
                "program), so the program's effect is not counted as variance between schools."]
    notes_zh = ["组内相关：该层整群之间的方差占结局方差的比例（REML 随机截距模型）；95% 置信区间由"
                "剖面似然法得到。“控制变量：组别”：模型把组别作为固定效应（项目实施后），因此项目效果"
                "不会被算作学校之间的方差。"]
    return PublishedTable(
        data,
        [ColumnSpec("wave", "Wave", "测量时点"), ColumnSpec("level", "Level", "层级"),
         ColumnSpec("icc", "ICC", "组内相关"), ColumnSpec("ci", "95% CI", "95% 置信区间"),
         ColumnSpec("conditioned_on", "Conditioned on", "控制变量")],
        caption_en="Intra-class correlations by outcome, wave and cluster level",
        caption_zh="各结局、测量时点和整群层级的组内相关系数",
        notes_en=notes_en, notes_zh=notes_zh, row_groups="outcome", lang=lang)


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

    study = run.study
    other = "en" if run.text_lang == "zh" else "zh"
    randomized = study.design.type in ("randomized", "cluster_randomized")
    cond = CONDITIONING[("arm" if randomized else "arm_not_randomized") if study.design.arm
                        else "none"]
    sep = {"en": " ", "zh": ""}
    display(Markdown(INTRO[run.text_lang] + sep[run.text_lang] + cond[run.text_lang] + "\n\n"
                     + INTRO[other] + sep[other] + cond[other]))
    icc = run.write_table("icc", icc_table(study, scores))
    reason = not_applicable_reason(study, "icc")
    if reason:
        run.note(*reason)
    else:
        icc_published(icc, study, run.text_lang).display()
    return icc

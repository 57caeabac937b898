"""The older figures (means, subgroup forest, estimation, item distributions, power) with the
study's labels (issue 12): labels instead of codes, natural order, the better direction, the
arm of each row, and no text drawn over other text or over the data."""

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import figures

CJK = figures.find_cjk_font() is not None
LANGS = ["en", "zh"] if CJK else ["en"]

ARMS = {"control": {"en": "Comparison", "zh": "对照学校"},
        "arm_2": {"en": "Mentoring", "zh": "结对帮扶"},
        "arm_10": {"en": "Mentoring + calls", "zh": "结对帮扶加电话"}}
WAVES = {"pre": {"en": "Baseline", "zh": "基线"}, "post": {"en": "Endline", "zh": "终期"}}
OUTCOMES = {"lonely": {"en": "Loneliness", "zh": "孤独感"}, "comm": {"en": "Communication",
                                                                   "zh": "沟通"}}
CODES = ("control", "arm_2", "arm_10", "treatment", "baseline", "pre", "post", "ols_cr2",
         "mixed_reml", "guardian_type", "grade_2", "grade_10", "lonely", "comm")


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
        out += [ax.get_title(), ax.get_title("left"), ax.get_xlabel(), ax.get_ylabel()]
    for leg in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in leg.get_texts()] + [leg.get_title().get_text()]
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    return [t for t in out if t]


def _words(fig):
    """Every whitespace-separated token drawn, for 'no code shown' checks."""
    return {w.strip("()（）·,") for t in _texts(fig) for w in t.split()}


def _text_boxes(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    arts = list(fig.texts)
    if fig._suptitle is not None and fig._suptitle not in arts:
        arts.append(fig._suptitle)
    for ax in fig.axes:
        arts += [ax.title, ax._left_title, ax._right_title] + list(ax.texts)
        if ax.axison:  # a text column (axis off) keeps tick objects that are never drawn
            arts += [ax.xaxis.label, ax.yaxis.label] + ax.get_xticklabels() + ax.get_yticklabels()
    boxes = []
    for a in arts:
        if a.get_visible() and a.get_text().strip():
            boxes.append((a.get_text(), a.get_window_extent(r)))
    return boxes


def _overlap(a, b, tol=0.5):
    return a.x0 + tol < b.x1 and b.x0 + tol < a.x1 and a.y0 + tol < b.y1 and b.y0 + tol < a.y1


def assert_no_overlap(fig):
    """No two texts overlap; no legend covers an axes or a text; everything is inside the
    figure."""
    boxes = _text_boxes(fig)
    r = fig.canvas.get_renderer()
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not _overlap(a, b), f"{ta!r} overlaps {tb!r}"
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for leg in legends:
        lb = leg.get_window_extent(r)
        for ax in fig.axes:
            if ax.axison:
                assert not _overlap(lb, ax.get_window_extent(r)), "a legend covers the data"
        for t, b in boxes:
            assert not _overlap(lb, b), f"a legend covers {t!r}"
    tight = fig.get_tightbbox(r)
    assert tight.width > 0


def _means():
    rows = []
    for arm, shift in (("arm_10", -.4), ("control", 0.), ("arm_2", -.3)):
        for w, m in (("pre", 3.0), ("post", 3.0 + shift)):
            rows.append({"outcome": "lonely", "arm": arm, "wave": w, "n": 40, "mean": m,
                         "ci_low": m - .2, "ci_high": m + .2})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("lang", LANGS)
def test_means_plot_shows_study_labels_in_arm_order_and_the_better_direction(lang):
    figures.set_theme(lang)
    fig = figures.means_plot(_means(), outcome="lonely", waves=["pre", "post"], control="control",
                             lang=lang, title=figures.label(OUTCOMES["lonely"], lang),
                             arm_labels=ARMS, wave_labels=WAVES, better={"lonely": "lower"})
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [ARMS[a][lang] for a in ("control", "arm_2", "arm_10")]  # natural order
    assert [t.get_text() for t in ax.get_xticklabels()] == [WAVES["pre"][lang],
                                                            WAVES["post"][lang]]
    assert ax.get_ylabel().endswith(figures.label(figures.TEXT["lower_left"], lang))
    assert not _words(fig) & set(CODES)
    assert_no_overlap(fig)
    plt.close(fig)


def test_means_plot_keeps_its_old_call():
    figures.set_theme("en")
    fig = figures.means_plot(_means(), outcome="lonely", control="control")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["control", "arm_2",
                                                                            "arm_10"]
    assert "better" not in fig.axes[0].get_ylabel()
    plt.close(fig)


def _subgroups(arms=("arm_2",)):
    rows = []
    for arm in arms:
        for sg, levels in (("guardian_type", ["grandparents", "one_parent"]),
                           ("grade", ["grade_10", "grade_2", "grade_3"])):
            for i, lv in enumerate(levels):
                rows.append({"outcome": "lonely", "arm": arm, "subgroup": sg, "level": lv,
                             "estimate": -.2 + .1 * i, "ci_low": -.5 + .1 * i,
                             "ci_high": .1 + .1 * i, "interaction_p": .0004 if sg == "grade"
                             else .25, "interaction_p_adjusted": .0012 if sg == "grade" else .5})
    rows[1].update(estimate=float("nan"), ci_low=float("nan"), ci_high=float("nan"))
    return pd.DataFrame(rows)


SUBGROUPS = {"guardian_type": {"en": "Guardian", "zh": "监护人"}, "grade": {"en": "Grade",
                                                                          "zh": "年级"}}
LEVELS = {"guardian_type": {"grandparents": {"en": "Grandparents", "zh": "祖辈"},
                            "one_parent": {"en": "One parent", "zh": "父母一方"}},
          "grade": {"grade_2": {"en": "Grade 2", "zh": "二年级"},
                    "grade_3": {"en": "Grade 3", "zh": "三年级"},
                    "grade_10": {"en": "Grade 10", "zh": "十年级"}}}


@pytest.mark.parametrize("lang", LANGS)
def test_subgroup_forest_names_variables_levels_and_arms_in_natural_order(lang):
    figures.set_theme(lang)
    fig = figures.forest_plot(_subgroups(("arm_2", "arm_10")), outcome="lonely", lang=lang,
                              title=figures.label(OUTCOMES["lonely"], lang), min_cell=5,
                              arm_labels=ARMS, subgroup_labels=SUBGROUPS, level_labels=LEVELS,
                              better={"lonely": "lower"})
    ticks = [t.get_text().strip() for t in fig.axes[0].get_yticklabels()]
    g = SUBGROUPS["grade"][lang]
    grade_rows = ticks[ticks.index(g) + 1:]
    levels = [LEVELS["grade"][k][lang] for k in ("grade_2", "grade_3", "grade_10")]
    # every level row names its arm; levels in natural order (2, 3, 10), arms natural (2, 10)
    assert grade_rows == [f"{lv} · {ARMS[a][lang]}" for lv in levels for a in ("arm_2", "arm_10")]
    assert ticks[0] == SUBGROUPS["guardian_type"][lang]
    text = " ".join(_texts(fig))
    assert figures.label(figures.TEXT["lower_left"], lang) in fig.axes[0].get_xlabel()
    assert "p < .001" in text and "p = 0.250" in text and "0.500" in text  # interaction, adjusted
    assert "5" in text and figures._suppressed_text(lang, 5) in text  # suppressed row says so
    assert not _words(fig) & set(CODES)
    assert_no_overlap(fig)
    plt.close(fig)


def test_subgroup_forest_keeps_its_old_call():
    figures.set_theme("en")
    fig = figures.forest_plot(_subgroups(), outcome="lonely")
    ticks = [t.get_text().strip() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["guardian_type", "grandparents", "one_parent", "grade", "grade_2", "grade_3",
                     "grade_10"]
    plt.close(fig)


def _effects():
    rows = []
    for o, sign in (("comm", 1), ("lonely", -1)):
        for arm in ("arm_10", "arm_2"):
            for model, primary in (("mixed_reml", False), ("ols_cr2", True)):
                rows.append({"outcome": o, "arm": arm, "control": "control", "model": model,
                             "estimate": .2 * sign, "ci_low": .2 * sign - .15,
                             "ci_high": .2 * sign + .15, "primary": primary,
                             "estimand": "effect"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("lang", LANGS)
def test_estimation_plot_labels_outcomes_arms_models_and_direction(lang):
    figures.set_theme(lang)
    fig = figures.estimation_plot(_effects(), lang=lang, arm_labels=ARMS, outcome_labels=OUTCOMES,
                                  better={"lonely": "lower"})
    top, bottom = fig.axes
    assert top.get_title("left") == OUTCOMES["comm"][lang]
    assert bottom.get_title("left").startswith(OUTCOMES["lonely"][lang])
    assert figures.label(figures.FOREST_TEXT["lower_better"], lang) in bottom.get_title("left")
    ticks = [t.get_text() for t in top.get_yticklabels()]
    assert ticks[0] == f"{ARMS['arm_2'][lang]} · {figures.model_label('ols_cr2', lang)}"
    assert all(" · " in t for t in ticks)  # every row says which arm
    assert ticks[1] == f"{ARMS['arm_2'][lang]} · {figures.model_label('mixed_reml', lang)}"
    assert figures.label(figures.TEXT["higher_right"], lang) in top.get_xlabel()
    assert figures.label(figures.TEXT["lower_left"], lang) in bottom.get_xlabel()
    assert not _words(fig) & set(CODES)
    assert_no_overlap(fig)
    plt.close(fig)


@pytest.mark.parametrize("lang", LANGS)
def test_item_distributions_in_natural_order_with_item_text(lang):
    figures.set_theme(lang)
    items = ["cls_10", "cls_2", "cls_1"]
    counts = pd.DataFrame([{"item": it, "response": r, "n": n} for it in items
                           for r, n in (("1 Never", 5), ("2 Sometimes", 10), ("3 Often", 5))])
    wording = {"cls_1": {"en": "I have friends to talk to at school when I feel lonely",
                         "zh": "我在学校感到孤单时有朋友可以聊天"}}
    fig = figures.item_distributions(counts, lang=lang, title="CLS", item_labels=wording,
                                     reverse={"cls_2"})
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()][::-1]  # top to bottom
    assert ticks[0].replace("\n", " ").replace("  ", " ").startswith(wording["cls_1"][lang][:6])
    assert ticks[1:] == ["cls_2 (R)", "cls_10"]
    assert figures.label(figures.TEXT["reverse_note"], lang) in " ".join(_texts(fig))
    assert_no_overlap(fig)
    plt.close(fig)


@pytest.mark.parametrize("lang", LANGS)
def test_power_curve_names_its_axes_and_target_and_keeps_the_legend_off_the_curves(lang):
    figures.set_theme(lang)
    curves = pd.DataFrame([{"series": f"d = {d}", "clusters": j, "effect": d,
                            "power": min(1.0, d * j / 10)} for d in (.2, .3) for j in (10, 20, 40)])
    fig = figures.power_curve(curves, x="clusters", lang=lang, target=.8)
    ax = fig.axes[0]
    assert ax.get_xlabel() == figures.label(figures.TEXT["clusters"], lang)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["d = 0.2", "d = 0.3", figures.label(figures.TEXT["target"], lang).format(p=80)]
    assert_no_overlap(fig)
    plt.close(fig)
    fig = figures.power_curve(curves, x="clusters", lang=lang, xlabel="Schools")  # old call
    assert fig.axes[0].get_xlabel() == "Schools"
    plt.close(fig)


def test_figures_name_what_a_design_estimates():
    """A one-group change is not an effect, a non-randomized comparison is an adjusted
    difference: the axis, the column head and the subgroup title say so."""
    from matplotlib.text import Text

    sub = pd.DataFrame({"outcome": "c", "arm": "t", "subgroup": "gender",
                        "level": ["male", "female"], "estimate": [.2, .1],
                        "ci_low": [0, -.1], "ci_high": [.4, .3], "interaction_p": .25})

    def texts(fig):
        fig.canvas.draw()
        out = [t.get_text() for t in fig.findobj(Text)]
        plt.close(fig)
        return " ".join(out)

    change = texts(figures.forest_plot(sub, outcome="c", estimand="change"))
    assert "Change by subgroup" in change and "difference between levels p" in change
    assert "Effect" not in change and "interaction" not in change
    figures.set_theme("zh")
    try:
        adj = texts(figures.forest_plot(sub, outcome="c", estimand="adjusted_difference",
                                        lang="zh"))
    finally:
        figures.set_theme("en")
    assert "调整后差异" in adj and "效应" not in adj
    eff = pd.DataFrame({"outcome": "c", "arm": "t", "model": "did", "estimate": [.2],
                        "ci_low": [0.], "ci_high": [.4], "primary": [True],
                        "estimand": ["adjusted_difference"]})
    est = texts(figures.estimation_plot(eff))
    assert "Adjusted difference (outcome units)" in est and "Effect (" not in est


def test_item_bars_hide_a_response_of_few_children_with_its_complement():
    """A response chosen by 2 of 60 children is not drawn: with the next smallest it is
    one grey segment, so neither width can be read off the rest of 100%."""
    c = pd.DataFrame({"item": ["q1"] * 4, "response": ["a", "b", "c", "d"],
                      "n": [2, 8, 20, 30]})
    fig = figures.item_distributions(c, min_cell=5)
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 4) for p in ax.patches if p.get_width() > 0)
    grey = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.733, 0.733, 0.733),
                                                                             abs=0.01)]
    plt.close(fig)
    assert widths == [round(10 / 60, 4), round(20 / 60, 4), round(30 / 60, 4)]
    assert len(grey) == 1 and grey[0].get_width() == pytest.approx(10 / 60)
    assert round(2 / 60, 4) not in widths and round(8 / 60, 4) not in widths
    # without min_cell every response is drawn
    fig = figures.item_distributions(c)
    drawn = sorted(round(p.get_width(), 4) for p in fig.axes[0].patches if p.get_width() > 0)
    plt.close(fig)
    assert drawn == [round(v / 60, 4) for v in (2, 8, 20, 30)]

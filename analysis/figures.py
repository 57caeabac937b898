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
from collections.abc import Mapping
from pathlib import Path

import matplotlib

from analysis.effects_rules import model_label  # noqa: F401 - figures.model_label
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
    "primary_model": {"en": "Primary model", "zh": "主要模型"},
    "other_model": {"en": "Other models (sensitivity)", "zh": "其他模型（敏感性分析）"},
    "suppressed": {"en": "suppressed (fewer than {k} children)", "zh": "已隐藏（少于 {k} 名儿童）"},
    "change": {"en": "Change (outcome units)", "zh": "变化（结局原始单位）"},
    "adjusted_difference": {"en": "Adjusted difference (outcome units)",
                            "zh": "调整后差异（结局原始单位）"},
    "higher_right": {"en": "higher is better →", "zh": "越高越好 →"},
    "lower_left": {"en": "← lower is better", "zh": "← 越低越好"},
    "by_subgroup": {"en": "Effects by subgroup (95% CI)", "zh": "各亚组的效应（95% 置信区间）"},
    "by_subgroup_change": {"en": "Change by subgroup (95% CI)", "zh": "各亚组的变化（95% 置信区间）"},
    "by_subgroup_adjusted_difference": {"en": "Adjusted differences by subgroup (95% CI)",
                                        "zh": "各亚组的调整后差异（95% 置信区间）"},
    "between_levels": {"en": "difference between levels p {p}", "zh": "亚组间差异 p {p}"},
    "between_levels_adj": {"en": "difference between levels p {p} (adjusted {q})",
                           "zh": "亚组间差异 p {p}（校正后 {q}）"},
    "interaction": {"en": "interaction p {p}", "zh": "交互作用 p {p}"},
    "interaction_adj": {"en": "interaction p {p} (adjusted {q})",
                        "zh": "交互作用 p {p}（校正后 {q}）"},
    "share_pct": {"en": "Share of answers (%)", "zh": "作答比例（%）"},
    "reverse_note": {"en": "(R) reverse-keyed item", "zh": "(R) 反向计分题"},
    "target": {"en": "Target power ({p}%)", "zh": "目标功效（{p}%）"},
    "effect_size": {"en": "Effect size (d)", "zh": "效应量 (d)"},
    "clusters": {"en": "Clusters in the trial (both arms)", "zh": "整群总数（两组合计）"},
    "n_per_arm": {"en": "Children per arm", "zh": "每组儿童数"},
}

def natural_key(text) -> tuple:
    """Sort key that orders the numbers inside text by value (``cls_2`` before ``cls_10``).

    Examples
    --------
    >>> sorted(["cls_10", "cls_2", "cls_1", "b"], key=natural_key)
    ['b', 'cls_1', 'cls_2', 'cls_10']
    """
    import re

    parts = re.split(r"(\d+)", str(text))
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in parts if t)


def _named(mapping, key, lang: str) -> str:
    """``mapping[key]`` (text or an ``{en, zh}`` dict) in ``lang``; else the key itself."""
    if mapping and key in mapping and mapping[key] is not None:
        v = mapping[key]
        return label(v, lang) if isinstance(v, dict) else str(v)
    return str(key)


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


#: zlib level of the PNG figures (0-9). Rows are stored unfiltered, and without the alpha
#: channel when every pixel is opaque: for flat-coloured plots that deflates at level 3 to
#: about the size of PIL's adaptive filters at level 6 (3% smaller on the county example's
#: figures) in a sixth of the CPU time.
PNG_COMPRESSION = 3
_DPI = 200
#: :func:`_print_tight` and :class:`_save_memo` repeat and memoize private steps of
#: matplotlib 3.11 (constraints.txt pins 3.11.2); with any other version save_figure calls
#: ``fig.savefig`` as before.
_FAST_SAVE = matplotlib.__version__.split(".")[:2] == ["3", "11"]


def save_figure(fig, folder, name: str, *, formats=("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``folder/name.png`` (200 dpi) and ``.svg`` without timestamps.

    Each file is what ``fig.savefig(path, dpi=200, bbox_inches="tight")`` writes, pixel
    for pixel (PNG) and byte for byte (SVG), at a fraction of the CPU time: the figure is
    laid out once per format instead of being drawn twice (:func:`_print_tight`), and what
    matplotlib measures on every pass (text extents, ticks) is measured once per format
    (:class:`_save_memo`).
    The PNG is written by :func:`png_bytes` (same pixels and resolution, no text chunks;
    RGB rather than RGBA when every pixel is opaque, as they are unless the figure's
    background is transparent).

    Files are written to a temporary name and renamed, so a crash never leaves a
    half-written figure. Returns the paths written.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> [p.name for p in save_figure(fig, tempfile.mkdtemp(), "line")]
    ['line.png', 'line.svg']
    >>> plt.close(fig)
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with _save_memo():
        for fmt in formats:
            target = folder / f"{name}.{fmt}"

            def draw(tmp, fmt=fmt):
                with plt.rc_context({"svg.hashsalt": "survey-workbench"}), \
                        warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    _print_tight(fig, tmp, fmt)
                _replay(caught)

            write_with(target, draw)
            paths.append(target)
    return paths


def _print_tight(fig, path, fmt: str, dpi: float = _DPI) -> None:
    """``fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")`` without metadata,
    minus the draw that savefig does only to lay the figure out.

    The steps are those of matplotlib's ``FigureCanvasBase.print_figure`` (3.11), with
    one change: where it draws the whole figure with drawing disabled to run the layout
    engine and to find the tight box, this runs the layout engine and asks for the tight
    box directly (both compute every extent they need). The layout engine still runs once
    per format, with that format's renderer and resolution, so each file matches savefig's
    (the test compares the PNG's pixels and the SVG's bytes with ``fig.savefig``).
    """
    import functools
    from contextlib import ExitStack

    from matplotlib import cbook
    from matplotlib._tight_bbox import adjust_bbox
    from matplotlib.backend_bases import _get_renderer
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    if not _FAST_SAVE or matplotlib.rcParams["savefig.transparent"]:
        # another matplotlib than the one this was checked with, or a transparent
        # background (savefig then changes the patches' colours): savefig itself
        fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        return
    with fig.canvas._switch_canvas_and_return_print_method(fmt) as print_method, \
            cbook._setattr_cm(fig, dpi=dpi), \
            cbook._setattr_cm(fig.canvas, _device_pixel_ratio=1, _is_saving=True), \
            ExitStack() as stack:
        for prop in ("facecolor", "edgecolor"):
            color = matplotlib.rcParams[f"savefig.{prop}"]
            if not cbook._str_equal(color, "auto"):
                stack.enter_context(fig._cm_set(**{prop: color}))
        canvas = fig.canvas  # the canvas of this format (print_figure's switch)
        renderer = _get_renderer(fig, functools.partial(print_method, orientation="portrait"))
        engine = fig.get_layout_engine()
        if fig.axes and engine is not None:  # as Figure.draw runs it
            try:
                engine.execute(fig)
            except ValueError:
                pass
        bbox = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
        restore = adjust_bbox(fig, bbox, renderer, canvas.fixed_dpi)
        stack.enter_context(fig._cm_set(layout_engine="none"))
        try:
            with cbook._setattr_cm(fig, dpi=dpi):
                if fmt == "png" and isinstance(canvas, FigureCanvasAgg):
                    FigureCanvasAgg.draw(canvas)
                    data = png_bytes(np.asarray(canvas.buffer_rgba()), dpi=fig.dpi)
                    Path(path).write_bytes(data)
                else:
                    print_method(path, facecolor=None, edgecolor=None, orientation="portrait",
                                 bbox_inches_restore=(bbox, restore), metadata=meta)
        finally:
            restore()


def png_bytes(rgba, *, dpi: float | None = None, level: int | None = None) -> bytes:
    """An RGBA image (``height x width x 4``, uint8) as PNG bytes, rows unfiltered.

    An image whose every pixel is opaque is written as RGB (PNG colour type 2: the same
    pixels, a quarter less to compress), any other as RGBA. Only the chunks a figure needs:
    ``IHDR``, ``pHYs`` (the resolution, when ``dpi`` is given, as PIL writes it), one
    ``IDAT`` and ``IEND``; no text, no timestamp, so the same pixels always give the same
    bytes.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> a = np.zeros((2, 3, 4), np.uint8); a[..., 3] = 255; a[0, 1] = (10, 20, 30, 40)
    >>> im = Image.open(io.BytesIO(png_bytes(a, dpi=200)))
    >>> im.mode, bool((np.asarray(im) == a).all()), round(im.info["dpi"][0])
    ('RGBA', True, 200)
    >>> a[0, 1, 3] = 255
    >>> im = Image.open(io.BytesIO(png_bytes(a)))
    >>> im.mode, bool((np.asarray(im.convert("RGBA")) == a).all())
    ('RGB', True)
    """
    import struct
    import zlib

    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width, _ = rgba.shape
    opaque = bool((rgba[..., 3] == 255).all())
    channels = 3 if opaque else 4
    rows = np.empty((height, width * channels + 1), np.uint8)
    rows[:, 0] = 0  # each row's filter: None
    pixels = rows[:, 1:].reshape(height, width, channels)
    for c in range(channels):  # (one channel at a time: numpy copies [..., :3] slowly)
        pixels[..., c] = rgba[..., c]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    colour_type = 2 if opaque else 6
    out = [b"\x89PNG\r\n\x1a\n",
           chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if dpi is not None:
        ppm = int(dpi / 0.0254 + 0.5)
        out.append(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
    level = PNG_COMPRESSION if level is None else level
    out += [chunk(b"IDAT", zlib.compress(memoryview(rows).cast("B"), level)), chunk(b"IEND", b"")]
    return b"".join(out)


_memo: dict | None = None  # what one save_figure call has computed (see _save_memo)


class _save_memo:
    """Within ``with _save_memo():``, what matplotlib recomputes on every pass over a figure
    is computed once per distinct input.

    Saving a figure goes over it several times per format (the constrained layout twice,
    the tight box, the draw), and within each pass matplotlib measures the same tick labels
    again for every axis label, title and spine that needs them. Three private methods of
    matplotlib (3.11) are memoized while the block runs, keyed by everything their
    result depends on:

    - ``Text._get_layout`` (the text's size and line layout, independent of its position):
      the text, its font, alignment, rotation and line spacing, the renderer's kind and the
      resolution; TeX text is not memoized;
    - ``Axis._update_ticks`` (which ticks, where, with what labels): the axis, its view and
      data intervals, the size of every Axes of the figure (a locator may depend on the size
      of a shared axis) and the resolution;
    - ``Axis._get_ticklabel_bboxes`` (the tick labels' extents on screen): the axis, its
      ticks, their positions and labels, its Axes' box on screen, the view interval, the
      renderer's kind and the resolution;
    - ``FontManager._find_fonts_by_props`` (the font files for a text's font properties,
      asked for on every measurement and every draw): the font manager, every property
      the search reads and its arguments; the rcParams it also reads do not change while
      a figure is saved. Only searches that found every family asked for are kept (a
      missing family is logged on every search, as before).

    These memos do not outlive the block (one :func:`save_figure` call); the originals are put back
    even when drawing fails. The test compares every saved figure with ``fig.savefig``.
    """

    def __enter__(self):
        global _memo
        from matplotlib.axis import Axis
        from matplotlib.font_manager import FontManager, FontProperties
        from matplotlib.text import Text

        self.outer = _memo is not None or not _FAST_SAVE
        if self.outer:
            return self
        _memo = memo = {}
        self.originals = [(Text, "_get_layout", Text._get_layout),
                          (Axis, "_update_ticks", Axis._update_ticks),
                          (Axis, "_get_ticklabel_bboxes", Axis._get_ticklabel_bboxes),
                          (FontManager, "_find_fonts_by_props",
                           FontManager._find_fonts_by_props)]
        get_layout, update_ticks, ticklabel_bboxes, find_fonts = (
            f for _, _, f in self.originals)

        def _get_layout(text, renderer):
            if text.get_usetex():
                return get_layout(text, renderer)
            fp = text._fontproperties
            key = ("layout", type(renderer), type(getattr(renderer, "_renderer", None)),
                   getattr(renderer, "dpi", None), text.get_figure(root=True).dpi,
                   text._get_wrapped_text(), text._parse_math, tuple(fp.get_family()),
                   fp.get_slant(), fp.get_variant(), fp.get_weight(), fp.get_stretch(),
                   fp.get_size_in_points(), fp.get_file(), fp.get_math_fontfamily(),
                   text.get_rotation(), text.get_rotation_mode(), text._horizontalalignment,
                   text._verticalalignment, text._multialignment, text._linespacing)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = get_layout(text, renderer)
            return hit

        def _update_ticks(axis):
            fig = axis.get_figure(root=True)
            key = ("ticks", axis, tuple(axis.get_view_interval()),
                   tuple(axis.get_data_interval()), fig.dpi,
                   tuple((ax.bbox.width, ax.bbox.height) for ax in fig.get_axes()))
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = update_ticks(axis)
            return list(hit)

        def _get_ticklabel_bboxes(axis, ticks, renderer=None):
            key = ("ticklabels", axis, tuple(ticks), tuple(t.get_loc() for t in ticks),
                   tuple(t.label1.get_text() for t in ticks), tuple(axis.axes.bbox.bounds),
                   tuple(axis.get_view_interval()), axis.get_figure(root=True).dpi,
                   type(renderer), type(getattr(renderer, "_renderer", None)))
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = ticklabel_bboxes(axis, ticks, renderer)
            return list(hit[0]), list(hit[1])

        def _find_fonts_by_props(manager, prop, fontext="ttf", directory=None,
                                 fallback_to_default=True, rebuild_if_missing=True):
            if type(prop) is not FontProperties:
                return find_fonts(manager, prop, fontext, directory, fallback_to_default,
                                  rebuild_if_missing)
            family = tuple(prop.get_family())
            key = ("fonts", manager, family, prop.get_style(), prop.get_variant(),
                   prop.get_weight(), prop.get_stretch(), prop.get_size(), prop.get_file(),
                   fontext, directory, fallback_to_default, rebuild_if_missing)
            hit = memo.get(key)
            if hit is None:
                hit = find_fonts(manager, prop, fontext, directory, fallback_to_default,
                                 rebuild_if_missing)
                if len(hit) != len(family):  # a family not found: search (and log) again
                    return hit
                memo[key] = hit
            return list(hit)

        Text._get_layout = _get_layout
        Axis._update_ticks = _update_ticks
        Axis._get_ticklabel_bboxes = _get_ticklabel_bboxes
        FontManager._find_fonts_by_props = _find_fonts_by_props
        self.originals += _text_cache_patches()
        return self

    def __exit__(self, *exc):
        global _memo
        if not self.outer:
            for owner, name, original in self.originals:
                setattr(owner, name, original)
            _memo = None
        return False


#: What FreeType and libraqm compute for one piece of text, kept across save_figure calls of
#: this process (see :func:`_text_cache_patches`): key -> value, oldest first.
_text_cache: dict = {}
#: The most entries :data:`_text_cache` keeps (the county example's 42 files need about
#: 2,000 and 3 MB), and the most fonts it keeps entries for (each key holds its font object).
TEXT_CACHE_SIZE = 4096
TEXT_CACHE_FONTS = 16
_text_cache_fonts: dict = {}  # the font objects the cache's keys hold, in first use order

if hasattr(os, "register_at_fork"):  # a FreeType font must not be used across a fork
    os.register_at_fork(after_in_child=lambda: (_text_cache.clear(),
                                                _text_cache_fonts.clear()))


def _font_slot(font):
    """``font`` (an ``FT2Font``), to be part of a :data:`_text_cache` key.

    The key holds the font object, so the font stays alive and its identity is never
    reused while the entry lives. A new font beyond :data:`TEXT_CACHE_FONTS` empties
    the cache, which bounds the fonts (and their FreeType faces) it keeps alive.
    """
    if font not in _text_cache_fonts:
        if len(_text_cache_fonts) >= TEXT_CACHE_FONTS:
            _text_cache.clear()
            _text_cache_fonts.clear()
        _text_cache_fonts[font] = None
    return font


def _cached(key, compute):
    """``_text_cache[key]``, computed by ``compute()`` when missing.

    A value whose computation warned (a glyph missing from every font) is not kept: the
    warning is re-issued and the next call warns again, as matplotlib does.
    """
    try:
        return _text_cache[key]
    except KeyError:
        pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = compute()
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if not caught:
        while _text_cache and len(_text_cache) >= TEXT_CACHE_SIZE:
            del _text_cache[next(iter(_text_cache))]  # the oldest entry
        _text_cache[key] = value
    return value


def _text_cache_patches() -> list:
    """Install the cross-save text cache on matplotlib's (3.11) text machinery; return what
    to put back, as ``(owner, name, original)``.

    For plain text (not mathtext, not TeX) matplotlib asks FreeType and libraqm for the
    same things again in every figure and every pass: a tick label "0.5" or an axis label
    is measured and shaped anew each time, at about 25 microseconds a character with a
    large CJK font. These four methods keep their results in :data:`_text_cache`, keyed
    by everything they depend on:

    - ``RendererAgg.get_text_width_height_descent`` (the PNG's text extents): the font
      object (``get_font`` gives one object per set of font files, kerning factor, last
      resort setting and thread), the size in points, the resolution, the hinting flags
      (``rcParams["text.hinting"]``) and the text;
    - ``RendererAgg.draw_text`` (the glyphs and their positions, ``FT2Font._layout``): the
      same, plus the text's font features and language; the glyphs are still rendered
      one by one, as matplotlib renders them;
    - ``TextToPath.get_text_width_height_descent`` (the SVG's text extents, unhinted at
      ``FONT_SCALE`` and ``DPI``): the font object, that size and the text;
    - ``TextToPath.get_glyphs_with_font`` (the SVG's glyphs, their positions and
      outlines): the same, plus features and language; each glyph's outline is kept once,
      keyed by its font object, glyph index and that size. Only when the font was sized
      by ``TextToPath._get_font`` just before (as matplotlib's callers do); otherwise,
      for a font of unknown size, matplotlib's own method.

    Each function sets the font up as matplotlib does (``get_font``, ``clear``,
    ``set_size``) and skips only the FreeType calls whose results it has; callers that
    read a font's state always set it up themselves first. The test saves figures with
    other fonts, sizes and texts after one another and compares them with ``savefig``.
    """
    import functools
    from collections import OrderedDict

    from matplotlib import _text_helpers
    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.ft2font import LoadFlags
    from matplotlib.textpath import TextToPath

    originals = [(RendererAgg, "get_text_width_height_descent",
                  RendererAgg.get_text_width_height_descent),
                 (RendererAgg, "draw_text", RendererAgg.draw_text),
                 (TextToPath, "_get_font", TextToPath._get_font),
                 (TextToPath, "get_text_width_height_descent",
                  TextToPath.get_text_width_height_descent),
                 (TextToPath, "get_glyphs_with_font", TextToPath.get_glyphs_with_font)]
    if any(name not in owner.__dict__ for owner, name, _ in originals):  # pragma: no cover
        return []
    agg_extent, agg_draw, path_font, path_extent, path_glyphs = (f for _, _, f in originals)
    sized = {}  # TextToPath instance id -> the font its _get_font just sized

    def agg_get_text_width_height_descent(self, s, prop, ismath):
        if ismath is not False:
            return agg_extent(self, s, prop, ismath)
        font = self._prepare_font(prop)
        flags = get_hinting_flag()

        def extent():
            font.set_text(s, 0.0, flags=flags)
            w, h = font.get_width_height()  # width and height of unrotated string
            d = font.get_descent()
            return w / 64.0, h / 64.0, d / 64.0

        return _cached(("agg extent", _font_slot(font), prop.get_size_in_points(),
                        self.dpi, flags, s), extent)

    def agg_draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath is not False:
            return agg_draw(self, gc, x, y, s, prop, angle, ismath, mtext)
        font = self._prepare_font(prop)
        flags = get_hinting_flag()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        size = prop.get_size_in_points()
        key = ("agg glyphs", _font_slot(font), size, self.dpi, flags, s, features, language)
        try:
            hash(key)
        except TypeError:  # pragma: no cover - unhashable features or language
            return agg_draw(self, gc, x, y, s, prop, angle, ismath, mtext)

        def glyphs():
            return tuple((item.ft_object, item.glyph_index, item.x, item.y)
                         for item in font._layout(s, flags=flags, features=features,
                                                  language=language))

        self._draw_text_glyphs_and_boxes(
            gc, x, y, angle,
            ((ft_object, size, glyph_index, 0, 1, dx, dy)
             for ft_object, glyph_index, dx, dy in _cached(key, glyphs)),
            [])

    def t2p_get_font(self, prop):
        font = path_font(self, prop)
        sized[id(self)] = font
        return font

    def t2p_get_text_width_height_descent(self, s, prop, ismath):
        if ismath is not False:
            return path_extent(self, s, prop, ismath)
        fontsize = prop.get_size_in_points()
        scale = fontsize / self.FONT_SCALE
        font = self._get_font(prop)
        sized.pop(id(self), None)

        def extent():
            font.set_text(s, 0.0, flags=LoadFlags.NO_HINTING)
            w, h = font.get_width_height()
            return w, h, font.get_descent()

        w, h, d = _cached(("path extent", _font_slot(font), self.FONT_SCALE, self.DPI, s),
                          extent)
        w /= 64.0  # convert from subpixels
        h /= 64.0
        d /= 64.0
        return w * scale, h * scale, d * scale

    def t2p_get_glyphs_with_font(self, font, s, glyph_map=None, return_new_glyphs_only=False,
                                 *, features=None, language=None):
        key = ("path glyphs", font, self.FONT_SCALE, self.DPI, s, features, language)
        try:
            hash(key)
        except TypeError:  # pragma: no cover - unhashable features or language
            key = None
        if key is None or sized.pop(id(self), None) is not font:
            return path_glyphs(self, font, s, glyph_map, return_new_glyphs_only,
                               features=features, language=language)

        def outline(ft_object):  # the glyph just loaded (by _text_helpers.layout)
            verts, codes = ft_object.get_path()
            verts.flags.writeable = codes.flags.writeable = False  # shared: read only
            return verts, codes

        def glyphs():
            items = []
            for item in _text_helpers.layout(s, font, features=features, language=language):
                # one copy of each glyph's outline, whatever the texts it is in
                path = _cached(("outline", item.ft_object, item.glyph_index, self.FONT_SCALE,
                                self.DPI), functools.partial(outline, item.ft_object))
                items.append((self._get_glyph_repr(item.ft_object, item.glyph_index),
                              item.x, item.y, path))
            return tuple(items)

        key = key[:1] + (_font_slot(font),) + key[2:]
        if glyph_map is None:
            glyph_map = OrderedDict()
        glyph_map_new = OrderedDict() if return_new_glyphs_only else glyph_map
        info = []
        for glyph_repr, xposition, yposition, path in _cached(key, glyphs):
            info.append((glyph_repr, xposition, yposition, 1.))
            if glyph_repr not in glyph_map:
                glyph_map_new[glyph_repr] = path
        return info, glyph_map_new, []

    RendererAgg.get_text_width_height_descent = agg_get_text_width_height_descent
    RendererAgg.draw_text = agg_draw_text
    TextToPath._get_font = t2p_get_font
    TextToPath.get_text_width_height_descent = t2p_get_text_width_height_descent
    TextToPath.get_glyphs_with_font = t2p_get_glyphs_with_font
    return originals


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


def _direction(better, outcome=None) -> str:
    """``"higher"`` or ``"lower"``: ``better`` is that text, or a mapping outcome -> it."""
    if isinstance(better, Mapping):
        better = better.get(outcome)
    return "lower" if str(better).strip().lower() == "lower" else "higher"


def _arm_order(values, control=None, arms=None) -> list:
    """Arms in ``arms`` order (those present), else the control first, then the others in
    natural order (``arm_2`` before ``arm_10``)."""
    present = list(dict.fromkeys(v for v in values if not _blank(v)))
    if arms is not None:
        first = [a for a in arms if a in present]
        return first + sorted((a for a in present if a not in first), key=natural_key)
    rest = sorted((a for a in present if a != control), key=natural_key)
    return ([control] if control in present else []) + rest


def _blank(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def means_plot(means: pd.DataFrame, *, outcome: str, waves=None, control=None,
               lang="en", title=None, arm_labels=None, wave_labels=None, better=None,
               arms=None):
    """Means by arm and wave with 95% CIs.

    Parameters
    ----------
    means : DataFrame
        The columns of :func:`analysis.describe.describe_by_arm_wave` (``outcome, arm,
        wave, n, mean, ci_low, ci_high``; ``tables/means.csv``).
    outcome : str
        The outcome drawn.
    waves : list, optional
        Waves in this order (the design's); default their order in ``means``.
    control : str, optional
        The control arm: drawn grey and first in the legend.
    lang : {"en", "zh"}
    title : str, optional
        Default the outcome code; long titles wrap.
    arm_labels, wave_labels : mapping, optional
        Code -> text or ``{en, zh}`` (the study's labels); unlabelled codes show as they are.
    better : str or mapping, optional
        ``"higher"`` or ``"lower"`` (or outcome -> that): the y axis says which way is
        better ("lower is better", with an arrow pointing down the axis).
    arms : list, optional
        Arms in this order; default the control first, then the others in natural order.

    The legend stands outside the axes, so it never hides an error bar.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"outcome": "lonely", "arm": ["control", "treatment"] * 2,
    ...                   "wave": ["pre", "pre", "post", "post"], "n": 40,
    ...                   "mean": [3.0, 3.1, 3.0, 2.7], "ci_low": [2.8, 2.9, 2.8, 2.5],
    ...                   "ci_high": [3.2, 3.3, 3.2, 2.9]})
    >>> fig = means_plot(m, outcome="lonely", control="control", better="lower",
    ...                  arm_labels={"treatment": {"en": "Mentoring", "zh": "结对帮扶"}})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['control', 'Mentoring']
    >>> fig.axes[0].get_ylabel().splitlines()[-1]     # turned 90 degrees: the arrow points down
    '← lower is better'
    """
    d = means[means["outcome"] == outcome].copy()
    waves = list(waves) if waves is not None else list(dict.fromkeys(d["wave"]))
    order = _arm_order(d["arm"], control, arms)
    fig, ax = plt.subplots(figsize=(6.8, 3.8))
    colors = _arm_colors(order, control)
    k = len(order)
    offsets = np.linspace(-0.05 * (k - 1), 0.05 * (k - 1), k) if k > 1 else np.zeros(1)
    for off, arm in zip(offsets, order):
        g = d[d["arm"] == arm].drop_duplicates("wave").set_index("wave").reindex(waves)
        x = np.arange(len(waves)) + off
        ax.errorbar(x, g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]],
                    marker="o", capsize=3, label=_arm_name(arm, lang, arm_labels),
                    color=colors[arm])
    ax.set_xticks(range(len(waves)), [_wrap(_named(wave_labels, w, lang), 18) for w in waves])
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_xlabel(label("wave", lang))
    ylabel = label("mean", lang)
    if better is not None:
        # the label is turned 90 degrees: "←" points down and "→" up on the page
        ylabel += "\n" + label(TEXT["lower_left" if _direction(better, outcome) == "lower"
                                    else "higher_right"], lang)
    ax.set_ylabel(ylabel, linespacing=1.6)
    ax.set_title(_wrap(title or outcome, 60))
    ax.legend(title=label("arm", lang), frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def _ems(text: str) -> float:
    """Width of text in em: a CJK (or full-width) character is 1 em, others about 0.56."""
    import unicodedata

    return sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.56 for ch in text)


def _wrap(text: str, width: int = 26) -> str:
    """Wrap a label to about ``width`` Latin characters (a CJK character counts as two).

    Latin words stay whole (split only when longer than a line); CJK text may break
    between any two characters, but a line never starts with closing punctuation.

    >>> print(_wrap("82% of left-behind students learned 沟通，遇到困难时会求助", 20))
    82% of left-behind
    students learned 沟
    通，遇到困难时会求助
    """
    import re

    text = str(text)
    limit = width * 0.56
    tokens = re.findall(r"[\u2e80-\uffef]|[^\s\u2e80-\uffef]+|\s+", text)
    lines, cur = [], ""
    for tok in tokens:
        if tok.isspace():
            cur += " " if cur else ""
            continue
        if _ems(cur + tok) <= limit or not cur.strip() or tok in "，。、；：！？）》」』,.;:!?)":
            while _ems(cur + tok) > limit and not cur.strip() and len(tok) > 1:  # a long word
                k = max(1, int((limit - _ems(cur)) / 0.56))
                lines.append((cur + tok[:k]).rstrip())
                cur, tok = "", tok[k:]
            cur += tok
        else:
            lines.append(cur.rstrip())
            cur = tok
    if cur.strip():
        lines.append(cur.rstrip())
    return "\n".join(lines) or text


def _arm_name(arm, lang, arm_labels=None) -> str:
    if arm is None or (not isinstance(arm, str) and pd.isna(arm)) or str(arm) in ("None", ""):
        return ""
    if str(arm) == "all" and not (arm_labels and "all" in arm_labels):
        return label({"en": "All children", "zh": "全体儿童"}, lang)
    return _named(arm_labels, str(arm), lang)


def estimation_plot(effects: pd.DataFrame, *, lang="en", title=None, models=None,
                    arm_labels=None, outcome_labels=None, better=None):
    """Each outcome's effect with its CI, one panel per outcome (own units).

    Parameters
    ----------
    effects : DataFrame
        The columns of :func:`analysis.effects.estimate_effects` (``tables/effects.csv``):
        ``outcome, arm, model, estimate, ci_low, ci_high, primary`` (``estimand``
        optional: when every row is ``change`` the axis says change, not effect).
    lang : {"en", "zh"}
    title : str, optional
        Default "Estimate (95% CI)".
    models : list of str, optional
        Only these models.
    arm_labels, outcome_labels : mapping, optional
        Code -> text or ``{en, zh}``: panel titles name the outcome, and with several
        treatment arms each row names its arm ("Mentoring · OLS + CR2").
    better : mapping, optional
        Outcome -> ``"higher"`` or ``"lower"``: the panel title says "(lower is better)"
        and the axis which way is better.

    Primary-model rows come first and are drawn solid, others hollow (the legend under
    the panels says so); models are named in words (:func:`model_label`). Outcomes are in their
    own units, so each gets its own panel and x axis.

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"outcome": "lonely", "arm": "t", "model": ["ols_cr2", "mixed_reml"],
    ...                     "estimate": [-.3, -.28], "ci_low": [-.5, -.5],
    ...                     "ci_high": [-.1, -.05], "primary": [True, False]})
    >>> fig = estimation_plot(eff, better={"lonely": "lower"},
    ...                       outcome_labels={"lonely": {"en": "Loneliness", "zh": "孤独感"}})
    >>> fig.axes[0].get_title("left"), fig.axes[0].get_xlabel()
    ('Loneliness (lower is better)', '← lower is better   Effect (outcome units)')
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['OLS + CR2', 'Mixed model (REML)']
    """
    from matplotlib.lines import Line2D

    d = effects if models is None else effects[effects["model"].isin(models)]
    d = d.reset_index(drop=True)
    outcomes = list(dict.fromkeys(d["outcome"]))
    heights = [max(1, (d["outcome"] == o).sum()) for o in outcomes]
    several_arms = d["arm"].dropna().astype(str).nunique() > 1 if "arm" in d else False
    kinds = set(d["estimand"].astype(str)) if "estimand" in d and len(d) else set()
    change = kinds == {"change"}
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(7, 0.42 * sum(heights) + 1.0 * len(outcomes)
                                                        + 0.9),
                             gridspec_kw={"height_ratios": heights}, squeeze=False,
                             layout="constrained")
    axis = label("change" if change else "adjusted_difference" if kinds == {"adjusted_difference"}
                 else "effect", lang)
    for ax, o in zip(axes[:, 0], outcomes):
        sub = d[d["outcome"] == o].reset_index(drop=True)
        # arms in natural order, each arm's primary model first
        keys = [((natural_key(a) if several_arms else ()), not bool(p), i)
                for i, (a, p) in enumerate(zip(sub["arm"] if "arm" in sub else [None] * len(sub),
                                               sub["primary"]))]
        sub = sub.iloc[[k[2] for k in sorted(keys)]].reset_index(drop=True)
        y = np.arange(len(sub))[::-1]
        labels = []
        for yi, r in zip(y, sub.itertuples()):
            arm = _arm_name(getattr(r, "arm", None), lang, arm_labels)
            labels.append(f"{arm} · {model_label(r.model, lang)}" if arm and several_arms
                          else model_label(r.model, lang))
            ax.plot([r.ci_low, r.ci_high], [yi, yi], color="#1f77b4", lw=2)
            ax.plot(r.estimate, yi, "o", color="#1f77b4",
                    markerfacecolor="#1f77b4" if bool(r.primary) else "white")
        ax.axvline(0, color="#444", lw=1, ls="--")
        ax.set_yticks(y, [_wrap(t, 40) for t in labels])
        ax.set_ylim(-0.6, len(sub) - 0.4)
        name = _named(outcome_labels, o, lang)
        if better is not None:
            lower = _direction(better, o) == "lower"
            if lower:
                hint = label(FOREST_TEXT["lower_better"], lang)
                name += f"（{hint}）" if lang == "zh" else f" ({hint})"
            hint = label(TEXT["lower_left" if lower else "higher_right"], lang)
            ax.set_xlabel(f"{hint}   {axis}" if lower else f"{axis}   {hint}", fontsize=9)
        ax.set_title(_wrap(name, 70), loc="left", fontsize=10)
    if better is None:
        axes[-1, 0].set_xlabel(axis)
    handles = [Line2D([], [], color="#1f77b4", marker="o", lw=2, label=label("primary_model", lang)),
               Line2D([], [], color="#1f77b4", marker="o", markerfacecolor="white", lw=2,
                      label=label("other_model", lang)),
               Line2D([], [], color="#444", lw=1, ls="--", label=label("zero", lang))]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=8.5)
    fig.suptitle(title or label("estimate", lang))
    return fig


def _p_text(p) -> str:
    if _blank(p):
        return "–"
    return "< .001" if p < 0.001 else f"{p:.3f}"


def _level_name(level_labels, subgroup, level, lang) -> str:
    """A subgroup level's label: ``level_labels[subgroup][level]``, else ``level_labels[level]``."""
    if isinstance(level_labels, Mapping):
        inner = level_labels.get(subgroup)
        for mapping in ((inner,) if isinstance(inner, Mapping) and not set(inner) <= {"en", "zh"}
                        else ()) + (level_labels,):
            for k in (level, str(level)):
                if k in mapping and k != subgroup:
                    return _named(mapping, k, lang)
    return str(level)


def forest_plot(subgroups: pd.DataFrame, *, outcome: str, lang="en", title=None, min_cell=None,
                arm_labels=None, subgroup_labels=None, level_labels=None, better=None,
                estimand=None):
    """Subgroup effects with CIs: one block of rows per subgroup variable.

    Each block starts with the variable's name (bold) and its interaction test
    (``interaction p``, with the adjusted p when the table has
    ``interaction_p_adjusted``); under it one row per level (levels in natural order),
    each with its effect and 95% CI drawn and written out on the right. With several
    treatment arms each row names its arm. The x axis says which way is better.

    Parameters
    ----------
    subgroups : DataFrame
        The columns of :func:`analysis.effects.subgroup_effects` (``tables/
        subgroups.csv``): ``outcome, arm, subgroup, level, estimate, ci_low, ci_high``
        (``interaction_p``, ``interaction_p_adjusted`` optional). Rows whose estimate
        was suppressed (small cells) say so in words ("fewer than ``min_cell``
        children" when given).
    outcome : str
    lang : {"en", "zh"}
    title : str, optional
        Default the outcome code; a second line says "Effects by subgroup".
    min_cell : int, optional
    arm_labels : mapping, optional
        Arm code -> text or ``{en, zh}``.
    subgroup_labels : mapping, optional
        Subgroup variable -> its name (``gender`` -> Gender / 性别).
    level_labels : mapping, optional
        ``{subgroup: {level: label}}`` or ``{level: label}``; labels are text or
        ``{en, zh}``.
    better : str or mapping, optional
        ``"higher"`` or ``"lower"`` (or outcome -> that).
    estimand : {"effect", "adjusted_difference", "change"}, optional
        What the rows estimate (the ``estimand`` of ``tables/effects.csv``); decides the
        wording: "Change by subgroup" and "difference between levels p" for a one-group
        change, "Adjusted differences by subgroup" for a non-randomized comparison.
        Default: effects.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> sub = pd.DataFrame({"outcome": "c", "arm": "t", "subgroup": "gender",
    ...                     "level": ["male", "female"], "estimate": [.2, .1],
    ...                     "ci_low": [0, -.1], "ci_high": [.4, .3], "interaction_p": .25})
    >>> fig = forest_plot(sub, outcome="c", subgroup_labels={"gender": "Gender"},
    ...                   level_labels={"gender": {"female": "Girls", "male": "Boys"}})
    >>> [t.get_text().strip() for t in fig.axes[0].get_yticklabels()]
    ['Gender', 'Girls', 'Boys']
    """
    d = subgroups[subgroups["outcome"] == outcome].reset_index(drop=True)
    several_arms = "arm" in d and d["arm"].dropna().astype(str).nunique() > 1
    lower = _direction(better, outcome) == "lower" if better is not None else None
    rows = []  # (is_header, label, record)
    for sg in dict.fromkeys(d["subgroup"]):
        g = d[d["subgroup"] == sg].to_dict("records")
        rows.append((True, _named(subgroup_labels, sg, lang), g[0]))
        g.sort(key=lambda r: (natural_key(r["level"]), natural_key(r.get("arm", ""))))
        for r in g:
            name = _level_name(level_labels, sg, r["level"], lang)
            if several_arms:
                name += " · " + _arm_name(r.get("arm"), lang, arm_labels)
            rows.append((False, "    " + name, r))
    n = len(rows)
    fig, (ax, axt) = plt.subplots(1, 2, sharey=True, figsize=(8.6, 0.36 * n + 1.9),
                                  gridspec_kw={"width_ratios": [3.0, 1.7], "wspace": 0.03},
                                  layout="constrained")
    y = np.arange(n)[::-1]
    for yi, (head, _, r) in zip(y, rows):
        if head:
            p, q = r.get("interaction_p"), r.get("interaction_p_adjusted")
            if not _blank(p):
                key = "interaction_adj" if not _blank(q) else "interaction"
                if estimand == "change":
                    key = "between_levels_adj" if not _blank(q) else "between_levels"
                p_is = "< .001" if p < 0.001 else f"= {p:.3f}"
                axt.text(0.02, yi, label(TEXT[key], lang).format(p=p_is, q=_p_text(q)),
                         va="center", ha="left", fontsize=8.5, color="#444")
            continue
        est, lo, hi = r.get("estimate"), r.get("ci_low"), r.get("ci_high")
        if not _blank(est) and not _blank(lo) and not _blank(hi):
            ax.plot([lo, hi], [yi, yi], color="#1f77b4", lw=2)
            ax.plot(est, yi, "s", color="#1f77b4")
            text = f"{est:.2f} [{lo:.2f}, {hi:.2f}]"
        else:
            text = _suppressed_text(lang, min_cell)
        axt.text(0.02, yi, text, va="center", ha="left", fontsize=9,
                 color="#222" if not _blank(est) else "#777")
    ax.axvline(0, color="#444", lw=1, ls="--")
    ax.set_yticks(y, [_wrap(t, 44) for _, t, _ in rows])
    for tick, (head, _, _) in zip(ax.get_yticklabels(), rows):
        if head:
            tick.set_fontweight("bold")
    ax.set_ylim(-0.6, n - 0.2)
    kind = estimand if estimand in ("change", "adjusted_difference") else "effect"
    xlabel = label(kind, lang)
    if lower is not None:
        xlabel += "\n" + label(TEXT["lower_left" if lower else "higher_right"], lang)
    ax.set_xlabel(xlabel)
    axt.set_axis_off()
    axt.set_xlim(0, 1)
    col = f"col_{kind}" if kind != "effect" else "col_estimate"
    axt.text(0.02, n - 0.35, label(FOREST_TEXT[col], lang), ha="left", va="bottom",
             fontsize=9, fontweight="bold")
    head = title or outcome
    by = "by_subgroup" if kind == "effect" else f"by_subgroup_{kind}"
    fig.suptitle(f"{_wrap(head, 70)}\n{label(by, lang)}", fontsize=11)
    return fig


def _suppressed_text(lang, min_cell=None) -> str:
    if min_cell:
        return label(TEXT["suppressed"], lang).format(k=int(min_cell))
    return label({"en": "suppressed (small cell)", "zh": "已隐藏（人数过少）"}, lang)


def missingness_plot(missing: pd.DataFrame, *, lang="en", title=None, waves=None,
                     wave_labels=None):
    """Percent missing by item (rows) and wave (columns).

    ``missing`` has columns ``item, wave, missing_pct`` (and optionally
    ``instrument``). Items are in natural order (``cls_2`` before ``cls_10``:
    :func:`natural_key`), grouped by instrument in order of appearance; waves in
    ``waves`` order (the design's), else in their order of appearance in ``missing``
    (never alphabetical: ``post`` would come before ``pre``). ``wave_labels`` maps a
    wave to text or ``{en, zh}`` for the axis.
    """
    import seaborn as sns

    wide = missing.pivot_table(index="item", columns="wave", values="missing_pct", aggfunc="first")
    waves = [w for w in (waves if waves is not None else dict.fromkeys(missing["wave"]))
             if w in wide.columns]
    group = {}
    if "instrument" in missing:
        order = {k: i for i, k in enumerate(dict.fromkeys(missing["instrument"]))}
        group = {it: order[ins] for it, ins in zip(missing["item"], missing["instrument"])}
    items = sorted(wide.index, key=lambda it: (group.get(it, 0), natural_key(it)))
    wide = wide.reindex(index=items, columns=waves)
    fig, ax = plt.subplots(figsize=(1.4 * wide.shape[1] + 2.5, 0.22 * wide.shape[0] + 1.5))
    sns.heatmap(wide, annot=wide.shape[0] <= 40, fmt=".0f", cmap="Reds", vmin=0, vmax=max(
        10, float(np.nanmax(wide.to_numpy())) if wide.size else 10), cbar_kws={
        "label": label("missing", lang)}, ax=ax)
    if wave_labels:
        ax.set_xticklabels([_named(wave_labels, w, lang) for w in waves])
    ax.set_xlabel(label("wave", lang))
    ax.set_ylabel(label("item", lang))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def item_distributions(counts: pd.DataFrame, *, lang="en", title=None, items=None,
                       item_labels=None, reverse=(), min_cell=None):
    """Stacked response shares per item (0-100%), one bar per item.

    Parameters
    ----------
    counts : DataFrame
        Columns ``item, response, n`` (:func:`evaluation.reliability_tables.response_counts`).
        Responses stack in their order of appearance (the response scale's).
    lang : {"en", "zh"}
    title : str, optional
    items : list, optional
        Items in this order; default natural order (``cls_2`` before ``cls_10``).
    item_labels : mapping, optional
        Item -> text or ``{en, zh}`` for the axis (e.g. the item's wording); long
        labels wrap.
    reverse : collection, optional
        Reverse-keyed items: marked ``(R)``, explained in the legend's title.
    min_cell : int, optional
        Small-cell suppression: in an item's bar, a response chosen by 1 to
        ``min_cell - 1`` children is not drawn; with the next smallest response (so
        that neither can be read off as the rest of 100%) it becomes one grey segment
        at the end of the bar, "§" in the legend -- the rule of the page's table of
        shares (:func:`evaluation.reliability_tables.response_shares_published`).

    The legend (the responses, in scale order) stands under the axes.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"item": ["q10"] * 2 + ["q2"] * 2, "response": ["no", "yes"] * 2,
    ...                   "n": [5, 15, 10, 10]})
    >>> fig = item_distributions(c)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['q10', 'q2']
    """
    wide = counts.pivot_table(index="item", columns="response", values="n", aggfunc="sum",
                              fill_value=0, sort=False)
    order = list(items) if items is not None else sorted(wide.index, key=natural_key)
    order = [i for i in order if i in wide.index] + sorted(
        (i for i in wide.index if i not in order), key=natural_key)
    shares = wide.reindex(order).div(wide.reindex(order).sum(axis=1).replace(0, np.nan), axis=0)
    hidden = pd.Series(0.0, index=shares.index)
    if min_cell:
        n = wide.reindex(order)
        for it in order:
            row = n.loc[it]
            small = [c for c in row.index if 0 < row[c] < min_cell]
            if not small:
                continue
            rest = row[[c for c in row.index if c not in small and row[c] > 0]]
            if len(small) == 1 and len(rest):
                small.append(rest.idxmin())  # its complement: the next smallest response
            hidden[it] = float(shares.loc[it, small].sum())
            shares.loc[it, small] = 0.0
    reverse = set(reverse or ())
    def name(it):
        text = _named(item_labels, it, lang)
        if it not in reverse:
            return text
        if text.startswith(str(it)):  # "cls_4 (R) wording": the mark stays next to the id
            return f"{it} (R){text[len(str(it)):]}"
        return f"{text} (R)"

    names = [_wrap(name(it), 44) for it in order]
    lines = sum(t.count("\n") + 1 for t in names)
    k = shares.shape[1]
    ncol = k if sum(_ems(str(c)) for c in shares.columns) + 3 * k <= 48 else min(k, 3)
    height = 0.19 * lines + 0.12 * len(names) + 1.4 + 0.25 * -(-k // ncol)
    fig, ax = plt.subplots(figsize=(8.5, height), layout="constrained")
    shares.iloc[::-1].plot(kind="barh", stacked=True, ax=ax, colormap="RdYlBu", width=0.8,
                           legend=False)
    if (hidden > 0).any():
        h = hidden.iloc[::-1].to_numpy()
        ax.barh(np.arange(len(h)), h, left=1 - h, height=0.8, color="#bbbbbb",
                label="§ " + label(TEXT["suppressed"], lang).format(k=int(min_cell)))
        k += 1
    ax.set_yticks(range(len(names)), names[::-1], fontsize=9 if lines > len(names) else None)
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0f}" for v in np.linspace(0, 100, 6)])
    ax.set_xlabel(label("share_pct", lang))
    ax.set_ylabel(label("item", lang))
    ax.grid(axis="y", visible=False)
    heading = label("response", lang)
    if reverse & set(order):
        heading += "   " + label("reverse_note", lang)
    handles, texts = ax.get_legend_handles_labels()
    rows = -(-k // ncol)  # matplotlib fills a legend column by column: read it row by row
    across = [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < k]
    handles, texts = [handles[i] for i in across], [texts[i] for i in across]
    fig.legend(handles, texts, title=heading, loc="outside lower center", ncol=ncol,
               frameon=False, fontsize=9, title_fontsize=9)
    if title:
        ax.set_title(_wrap(title, 70))
    return fig


def power_curve(curves: pd.DataFrame, *, x: str, lang="en", title=None, xlabel=None,
                target=0.8, series_labels=None, legend_title=None):
    """Power against a design quantity, one line per ``series``.

    Parameters
    ----------
    curves : DataFrame
        Columns ``x`` (named by the argument), ``power`` and ``series``
        (:func:`evaluation.power_tables.power_curves`: ``series`` like ``"d = 0.2"``,
        and ``effect``).
    x : str
        ``"clusters"`` (clusters in the trial, both arms) or ``"n_per_arm"``, or any
        column (then name it with ``xlabel``).
    lang : {"en", "zh"}
    title, xlabel : str, optional
        ``xlabel`` defaults to the words for ``clusters`` / ``n_per_arm``.
    target : float
        The target power, drawn dashed and named in the legend.
    series_labels : mapping, optional
        Series -> text or ``{en, zh}``.
    legend_title : str or dict, optional
        Default "Effect size (d)" when the table has an ``effect`` column.

    The legend stands right of the axes, never on the curves.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"clusters": [10, 20] * 2, "power": [.3, .6, .5, .9],
    ...                   "series": ["d = 0.2"] * 2 + ["d = 0.3"] * 2, "effect": [.2, .2, .3, .3]})
    >>> fig = power_curve(c, x="clusters", lang="en")
    >>> fig.axes[0].get_xlabel()
    'Clusters in the trial (both arms)'
    """
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots(figsize=(7, 3.9), layout="constrained")
    for name, g in curves.groupby("series", sort=False):
        ax.plot(g[x], g["power"], marker="o", ms=3, label=_named(series_labels, name, lang))
    ax.axhline(target, color="#444", lw=1, ls="--",
               label=label("target", lang).format(p=f"{100 * target:.0f}"))
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel or (label(x, lang) if x in ("clusters", "n_per_arm") else x))
    ax.set_ylabel(label("power", lang))
    if legend_title is None and "effect" in curves:
        legend_title = TEXT["effect_size"]
    ax.legend(frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left",
              title=label(legend_title, lang) if legend_title else None)
    if title:
        ax.set_title(_wrap(title, 60))
    return fig


# ---------------------------------------------------------------- CONSORT flow diagram

CONSORT_TEXT = {
    "allocated_to_arms": {"en": "Allocated to arms", "zh": "分组"},
    "enrolled_one": {"en": "Enrolled", "zh": "纳入研究"},
    "allocated_to": {"en": "Allocated to {arm}", "zh": "分配至{arm}"},
    "lost": {"en": "Lost to follow-up", "zh": "失访"},
    "analysed": {"en": "Analysed", "zh": "纳入分析"},
    "excluded": {"en": "Excluded from analysis", "zh": "排除出分析"},
    "children": {"en": "Children", "zh": "儿童"},
    "clusters": {"en": "Clusters", "zh": "整群"},
    "baseline": {"en": "Present at baseline", "zh": "基线在场"},
    "size": {"en": "mean size {mean}, range {lo}–{hi}", "zh": "平均规模 {mean}，范围 {lo}–{hi}"},
    "stage_allocation": {"en": "Allocation", "zh": "分配"},
    "stage_enrolment": {"en": "Enrolment", "zh": "纳入"},
    "stage_follow_up": {"en": "Follow-up", "zh": "随访"},
    "stage_analysis": {"en": "Analysis", "zh": "分析"},
    "reasons_withheld": {"en": "reasons: counts withheld (small)", "zh": "原因：人数过少，不列出"},
    "note_small": {"en": "<{k}: fewer than {k} children (not shown, to protect privacy).",
                   "zh": "<{k}：少于 {k} 名儿童（为保护隐私不显示）。"},
    "note_withheld": {"en": "—: withheld so that a count below {k} cannot be derived by subtraction.",
                      "zh": "—：为避免通过相减推算出少于 {k} 的人数而不显示。"},
    "contaminated": {"en": "Contaminated (program contacts)",
                     "zh": "有项目活动记录（污染）"},
}

#: Reasons for loss (codes of :func:`analysis.describe.consort_reasons` and of
#: validation's quarantine, :mod:`survey.validation`) in words.
REASON_NAMES = {
    "no_endline_record": {"en": "No endline record", "zh": "无后测记录"},
    "outcome_missing": {"en": "Primary outcome missing", "zh": "主要结局缺失"},
    "ID_MISSING": {"en": "Id missing", "zh": "缺少编号"},
    "ID_DATE": {"en": "Id turned into a date", "zh": "编号被转为日期"},
    "DESIGN_VALUE_MISSING": {"en": "Wave, arm or cluster empty", "zh": "时点、组别或整群为空"},
    "WAVE_UNDECLARED": {"en": "Undeclared wave", "zh": "未声明的测量时点"},
    "ARM_UNDECLARED": {"en": "Undeclared arm", "zh": "未声明的组别"},
    "DUPLICATE_ID": {"en": "Duplicate id in a wave", "zh": "同一时点编号重复"},
    "ASSIGNMENT_CHANGED": {"en": "Arm or cluster changed", "zh": "组别或整群前后不一致"},
}


def reason_label(reason, lang: str = "en") -> str:
    """A loss reason in words; validation codes joined by ``"; "`` are each translated.

    Examples
    --------
    >>> reason_label("DUPLICATE_ID; ID_DATE", "en")
    'Duplicate id in a wave; Id turned into a date'
    """
    parts = [p.strip() for p in str(reason).split(";") if p.strip()]
    sep = "；" if lang == "zh" else "; "
    return sep.join(label(REASON_NAMES[p], lang) if p in REASON_NAMES else p for p in parts)


def _small(v, min_cell) -> bool:
    return bool(min_cell) and pd.notna(v) and 0 < v < min_cell


def _protect(total, parts, min_cell):
    """Display states of ``total = sum(parts)``: ``"n"`` shown, ``"small"`` (< min_cell
    or already suppressed), ``"withheld"`` (shown values would give a small one away).

    Parts are withheld, smallest first, until the hidden parts add up to at least
    ``min_cell`` (so subtraction reveals only a sum that may be shown), else the
    total is withheld.

    >>> _protect(40, [3, 0, 37], 5)
    ('n', ['small', 'n', 'withheld'])
    """
    values = [total, *parts]
    state = ["small" if (pd.isna(v) or _small(v, min_cell)) else "n" for v in values]
    if not min_cell or state[0] != "n":
        return state[0], state[1:]

    def hidden_sum():
        return sum((min_cell - 1) if pd.isna(values[i]) else values[i]
                   for i in range(1, len(values)) if state[i] != "n")

    while any(s != "n" for s in state[1:]) and hidden_sum() < min_cell:
        shown = [i for i in range(1, len(values)) if state[i] == "n" and values[i] > 0]
        if not shown:
            state[0] = "withheld"
            break
        state[min(shown, key=lambda i: (values[i], i))] = "withheld"
    return state[0], state[1:]


def _count(v, state, min_cell) -> str:
    if state == "withheld":
        return "—"
    if state == "small":
        return f"<{int(min_cell)}" if min_cell else "<min"
    return f"{int(v)}"


def consort_diagram(flow: pd.DataFrame, *, lang="en", title=None, reasons=None, min_cell=None,
                    arm_labels=None, cluster_label=None):
    """A CONSORT 2010 flow diagram; for cluster trials as its cluster extension asks.

    One column of boxes per arm, under a box of everyone allocated: allocated
    (clusters and children, with the clusters' mean size and range), lost to
    follow-up (children and clusters, with reasons), analysed (clusters and
    children, mean cluster size and range) and excluded from analysis (with
    reasons). Stage names (Allocation, Follow-up, Analysis) stand on the left.
    Every label is in ``lang``; arrows join the boxes' edges; box heights follow
    their text, so nothing overlaps.

    Parameters
    ----------
    flow : DataFrame
        One row per arm: the columns of :func:`analysis.describe.attrition`
        (``arm, allocated, followed_up, analysed``; ``enrolled`` optional) or of
        :func:`analysis.describe.consort_counts` (adds ``lost_to_follow_up``,
        ``excluded`` and, for a cluster design, ``clusters_allocated``,
        ``clusters_analysed``, ``clusters_lost`` and the cluster sizes). A row with
        ``arm == "overall"`` gives the top box its totals. NaN counts (suppressed by
        the run's small-cell rule) print as "<min_cell". ``with_program_contacts``
        (optional; the control arm's children with a logged program contact,
        :func:`evaluation.quality_tables.consort_inputs`) adds a contamination line under
        that arm's allocation (a count below ``min_cell``, or one leaving fewer than
        ``min_cell`` children unreached, is not shown).
    lang : {"en", "zh"}
    title : str, optional
    reasons : DataFrame, optional
        Columns ``arm, stage, reason, n`` (:func:`analysis.describe.consort_reasons`):
        listed in the lost and excluded boxes (:func:`reason_label`).
    min_cell : int, optional
        Children's counts between 1 and ``min_cell - 1`` print as ``"<min_cell"``;
        a count that the others would give away by subtraction (allocated = lost +
        excluded + analysed; the total = the arms' sum) prints as "—"; a stage whose
        reasons include a small count lists its reasons without counts. A footnote
        explains the symbols. Cluster counts are not suppressed (they count schools,
        not children).
    arm_labels : mapping, optional
        Arm code -> text or ``{en, zh}``.
    cluster_label : str or dict, optional
        What a cluster is (e.g. ``{"en": "Schools", "zh": "学校"}``); default
        "Clusters" / "整群".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> flow = pd.DataFrame({"arm": ["control", "treatment"], "allocated": [40, 42],
    ...                      "followed_up": [38, 39], "analysed": [38, 39]})
    >>> fig = consort_diagram(flow, min_cell=5)
    >>> "<5" in " ".join(t.get_text() for t in fig.axes[0].texts)
    True
    """
    from matplotlib.patches import FancyBboxPatch

    T = {k: label(v, lang) for k, v in CONSORT_TEXT.items()}
    arms_df = flow[flow["arm"].astype(str) != "overall"].reset_index(drop=True)
    overall = flow[flow["arm"].astype(str) == "overall"]
    clus_name = label(cluster_label, lang) if isinstance(cluster_label, dict) else (
        cluster_label or T["clusters"])
    has_clusters = "clusters_allocated" in arms_df and arms_df["clusters_allocated"].notna().any()
    colon = "：" if lang == "zh" else ": "
    used = {"small": False, "withheld": False}

    def get(r, col, default=np.nan):
        return r[col] if col in r and pd.notna(r[col]) else default

    def size_text(r, prefix):
        m, lo, hi = (get(r, f"{prefix}_size_{k}") for k in ("mean", "min", "max"))
        if pd.isna(m):
            return ""
        return T["size"].format(mean=f"{m:.1f}", lo=f"{lo:.0f}", hi=f"{hi:.0f}")

    def reason_lines(arm, stage, stage_state):
        if reasons is None or not len(reasons) or stage_state != "n":
            return []
        rs = reasons[(reasons["arm"].astype(str) == str(arm)) & (reasons["stage"] == stage)]
        rs = rs[rs["n"].fillna(1) > 0]
        if rs.empty:
            return []
        if any(pd.isna(v) or _small(v, min_cell) for v in rs["n"]):
            used["small"] = True
            return ["• " + reason_label(x, lang) for x in rs["reason"]]
        return [f"• {reason_label(x, lang)}{colon}{int(v)}" for x, v in zip(rs["reason"], rs["n"])]

    # ---- text of every box
    inner_em = 23.0  # text width inside a box, in em of the box font
    arm_boxes = []
    totals = []
    for r in arms_df.to_dict("records"):
        alloc = get(r, "allocated")
        fup = get(r, "followed_up")
        an = get(r, "analysed")
        lost = get(r, "lost_to_follow_up", alloc - fup if pd.notna(alloc) and pd.notna(fup)
                   else np.nan)
        exc = get(r, "excluded", fup - an if pd.notna(fup) and pd.notna(an) else np.nan)
        s_alloc, (s_lost, s_exc, s_an) = _protect(alloc, [lost, exc, an], min_cell)
        for s in (s_alloc, s_lost, s_exc, s_an):
            used[s] = used.get(s, False) or s != "n"
        totals.append((alloc, s_alloc))
        name = _arm_name(r["arm"], lang, arm_labels)
        a_lines = [T["allocated_to"].format(arm=name) if len(arms_df) > 1 or str(r["arm"]) != "all"
                   else T["enrolled_one"]]
        if has_clusters:
            st = size_text(r, "cluster")
            a_lines.append(f"{clus_name}{colon}{int(get(r, 'clusters_allocated', 0))}"
                           + (f"（{st}）" if lang == "zh" and st else f" ({st})" if st else ""))
        a_lines.append(f"{T['children']}{colon}{_count(alloc, s_alloc, min_cell)}")
        enr = get(r, "enrolled")
        if pd.notna(enr) and pd.notna(alloc) and enr != alloc and s_alloc == "n":
            s_enr = "small" if _small(enr, min_cell) else "withheld" if _small(
                alloc - enr, min_cell) else "n"
            used[s_enr] = used.get(s_enr, False) or s_enr != "n"
            a_lines.append(f"{T['baseline']}{colon}{_count(enr, s_enr, min_cell)}")
        con = get(r, "with_program_contacts")
        if pd.notna(con) and s_alloc != "withheld":
            # control children the program reached: a count below min_cell, or one that
            # leaves fewer than min_cell unreached children, is not shown
            s_con = "small" if _small(con, min_cell) else "withheld" if (
                pd.notna(alloc) and _small(alloc - con, min_cell)) else "n"
            used[s_con] = used.get(s_con, False) or s_con != "n"
            a_lines.append(f"{T['contaminated']}{colon}{_count(con, s_con, min_cell)}")
        l_lines = [T["lost"]]
        if has_clusters:
            l_lines.append(f"{clus_name}{colon}{int(get(r, 'clusters_lost', 0))}")
        l_lines.append(f"{T['children']}{colon}{_count(lost, s_lost, min_cell)}")
        l_lines += reason_lines(r["arm"], "lost_to_follow_up", s_lost)
        n_lines = [T["analysed"]]
        if has_clusters:
            st = size_text(r, "analysed")
            n_lines.append(f"{clus_name}{colon}{int(get(r, 'clusters_analysed', 0))}"
                           + (f"（{st}）" if lang == "zh" and st else f" ({st})" if st else ""))
        n_lines.append(f"{T['children']}{colon}{_count(an, s_an, min_cell)}")
        n_lines.append(f"{T['excluded']}{colon}{_count(exc, s_exc, min_cell)}")
        n_lines += reason_lines(r["arm"], "excluded", s_exc)
        arm_boxes.append([_wrap_lines(x, inner_em) for x in (a_lines, l_lines, n_lines)])

    # top box: everyone allocated
    if len(overall):
        o = overall.iloc[0]
        tot = get(o, "allocated")
        k_tot = get(o, "clusters_allocated")
    else:
        tot = sum(v for v, _ in totals) if all(pd.notna(v) for v, _ in totals) else np.nan
        k_tot = arms_df["clusters_allocated"].sum() if has_clusters else np.nan
    s_tot = "small" if pd.isna(tot) or _small(tot, min_cell) else "n"
    if s_tot == "n" and any(s != "n" for _, s in totals):  # an arm's size would follow
        s_tot = "withheld"
    if s_tot != "n":
        used[s_tot] = True
    top = [T["allocated_to_arms"] if len(arms_df) > 1 else T["enrolled_one"]]
    if has_clusters and pd.notna(k_tot):
        top.append(f"{clus_name}{colon}{int(k_tot)}")
    top.append(f"{T['children']}{colon}{_count(tot, s_tot, min_cell)}")
    top = _wrap_lines(top, inner_em)

    # ---- geometry, in inches (the axes span the figure: 1 data unit = 1 inch)
    fs = 8.5
    line = fs * 1.5 / 72
    pad = 0.12
    n = max(1, len(arm_boxes))
    box_w = inner_em * fs / 72 + 2 * pad
    col_w = box_w + 0.35
    left = 1.15
    width = left + n * col_w + 0.15
    gap = 0.45
    title_h = 0.45 if title else 0.1
    notes = []
    if used["small"] and min_cell:
        notes.append(T["note_small"].format(k=int(min_cell)))
    if used["withheld"] and min_cell:
        notes.append(T["note_withheld"].format(k=int(min_cell)))
    notes = _wrap_lines(notes, (width - 0.3) * 72 / fs)
    note_h = len(notes) * line + (0.2 if notes else 0.05)
    one_group = len(arm_boxes) == 1 and str(arms_df["arm"].iloc[0]) == "all"
    row_lines = [0 if one_group else len(top)] + [max(len(b[k]) for b in arm_boxes)
                                                  if arm_boxes else 1 for k in range(3)]
    row_h = [k * line + 2 * pad if k else -gap for k in row_lines]
    height = title_h + sum(row_h) + gap * (len(row_h) - 1) + note_h
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    ys = []  # top edge of each row
    y = height - title_h
    for h in row_h:
        ys.append(y)
        y -= h + gap
    xs = [left + col_w * (i + 0.5) for i in range(n)]
    edge, face = "#55607a", "#f4f6fb"

    def box(xc, ytop, lines, h, w=box_w, fc=face):
        ax.add_patch(FancyBboxPatch((xc - w / 2, ytop - h), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=fc, ec=edge, lw=1.0))
        ax.text(xc - w / 2 + pad, ytop - pad, "\n".join(lines), ha="left", va="top", fontsize=fs,
                linespacing=1.5 * 1.0, fontfamily=plt.rcParams["font.family"])

    def arrow(x0, y0, x1, y1, head=True):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), xycoords="data",
                    arrowprops={"arrowstyle": "-|>" if head else "-", "color": edge, "lw": 1.1,
                                "shrinkA": 0, "shrinkB": 0, "mutation_scale": 11})

    top_h = len(top) * line + 2 * pad
    top_x = left + n * col_w / 2
    if not one_group:
        box(top_x, ys[0], top, top_h)
    mid = ys[0] - row_h[0] - gap / 2
    if one_group:
        pass
    elif n > 1:
        arrow(top_x, ys[0] - top_h, top_x, mid, head=False)
        arrow(xs[0], mid, xs[-1], mid, head=False)
        for x in xs:
            arrow(x, mid, x, ys[1])
    else:
        arrow(top_x, ys[0] - top_h, xs[0], ys[1])
    for x, boxes in zip(xs, arm_boxes):
        for k, lines in enumerate(boxes):
            h = len(lines) * line + 2 * pad
            box(x, ys[k + 1], lines, h)
            if k < 2:
                arrow(x, ys[k + 1] - h, x, ys[k + 2])
    stages = ("stage_enrolment" if one_group else "stage_allocation", "stage_follow_up",
              "stage_analysis")
    for k, key in enumerate(stages):
        yc = ys[k + 1] - row_h[k + 1] / 2
        ax.text(0.5, yc, T[key], ha="center", va="center", fontsize=fs, fontweight="bold",
                color="#1f3d7a", bbox={"boxstyle": "round,pad=0.35", "fc": "#dde6f5", "ec": "none"})
    if notes:
        ax.text(0.15, 0.08, "\n".join(notes), ha="left", va="bottom", fontsize=fs - 1,
                color="#444", linespacing=1.5)
    if title:
        ax.text(width / 2, height - 0.12, title, ha="center", va="top", fontsize=11,
                fontweight="bold")
    return fig


def _wrap_lines(lines, width_em: float) -> list:
    """Wrap each line to ``width_em`` em (continuation lines of a bullet are indented)."""
    out = []
    for text in lines:
        parts = _wrap(text, int(width_em / 0.56)).split("\n")
        indent = "   " if text.startswith("•") else ""
        out += [parts[0], *(indent + p for p in parts[1:])]
    return out


# ---------------------------------------------------------------- standardized forest

FOREST_TEXT = {
    "g": {"en": "Standardized effect, Hedges' g (95% CI)",
          "zh": "标准化效应 Hedges' g（95% 置信区间）"},
    "dz": {"en": "Standardized change, d_z (95% CI)", "zh": "标准化变化 d_z（95% 置信区间）"},
    "mixed": {"en": "Standardized effect: Hedges' g, or d_z for change within one group (95% CI)",
              "zh": "标准化效应：Hedges' g，单组前后变化为 d_z（95% 置信区间）"},
    "better_right": {"en": "better →", "zh": "更好 →"},
    "better_left": {"en": "← better", "zh": "← 更好"},
    "higher_better": {"en": "higher is better", "zh": "越高越好"},
    "lower_better": {"en": "lower is better", "zh": "越低越好"},
    "col_estimate": {"en": "Effect (95% CI)", "zh": "效应（95% 置信区间）"},
    "col_change": {"en": "Change (95% CI)", "zh": "变化（95% 置信区间）"},
    # as short as the effect's head: the column beside it starts where this one ends
    "col_adjusted_difference": {"en": "Difference (95% CI)", "zh": "差异（95% 置信区间）"},
    "g_adjusted_difference": {"en": "Standardized adjusted difference, Hedges' g (95% CI)",
                              "zh": "标准化调整后差异 Hedges' g（95% 置信区间）"},
    "col_direction": {"en": "Better", "zh": "更好方向"},
    "vs": {"en": "{arm} vs {control}", "zh": "{arm} 对比 {control}"},
    "model": {"en": "Model: {m}", "zh": "模型：{m}"},
}


def effects_forest(effects: pd.DataFrame, *, better=None, lang="en", title=None,
                   outcome_labels=None, arm_labels=None, models=None, min_cell=None):
    """Standardized effects of every outcome on one axis: a forest plot.

    One row per outcome (x treatment arm when there are several, each row naming
    its arm and the control), the standardized effect (``effect_size``: Hedges' g
    against the control, or d_z for change within one group) with its 95% CI,
    a dashed line at zero, and, right of the axis, the effect in numbers and which
    way is better for that outcome.

    Direction: the estimates are **not** flipped. They keep the sign of
    ``effects.csv`` and of every table and sentence that quotes them (a reader who
    checks a number finds it), and each row says which way is better: "better →"
    for outcomes where higher is better, "← better" where lower is better (e.g.
    loneliness), and the outcome's label adds "(lower is better)". A row right of
    zero is therefore an improvement for one outcome and a deterioration for another,
    which the marker next to it states.

    Parameters
    ----------
    effects : DataFrame
        The effects table (:func:`analysis.effects.estimate_effects`; ``tables/
        effects.csv``): ``outcome, arm, control, model, effect_size,
        effect_size_ci_low, effect_size_ci_high, primary``. Only the primary model's
        rows are drawn (``primary`` true), unless ``models`` lists models to draw
        (each row then names its model in words, :func:`model_label`).
    better : mapping, optional
        Outcome -> ``"higher"`` (default) or ``"lower"``.
    lang : {"en", "zh"}
    title : str, optional
    outcome_labels, arm_labels : mapping, optional
        Code -> text or ``{en, zh}``.
    models : list of str, optional
        Models to draw instead of the primary one.
    min_cell : int, optional
        Rows whose effect is missing (suppressed small cells) say so with this number.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"outcome": ["comm", "lonely"], "arm": "t", "control": "c",
    ...                     "model": "ols_cr2", "effect_size": [0.35, -0.09],
    ...                     "effect_size_ci_low": [0.05, -0.36],
    ...                     "effect_size_ci_high": [0.65, 0.18], "primary": True})
    >>> fig = effects_forest(eff, better={"lonely": "lower"})
    >>> [t.get_text() for t in fig.axes[1].texts if "better" in t.get_text()]
    ['better →', '← better']
    """
    better = dict(better or {})
    d = effects.copy()
    if models is not None:
        d = d[d["model"].isin(models)]
    elif "primary" in d:
        d = d[d["primary"].astype(bool)]
    order = {o: i for i, o in enumerate(dict.fromkeys(d["outcome"]))}
    d = d.assign(_o=d["outcome"].map(order)).sort_values("_o", kind="stable")
    d = d.drop(columns="_o").reset_index(drop=True)
    arms = d["arm"].dropna().astype(str).unique().tolist() if "arm" in d else []
    several_arms = len(arms) > 1
    several_models = d["model"].nunique() > 1 and (d.groupby(["outcome", *(["arm"] if "arm" in d
                                                                            else [])])["model"]
                                                   .nunique() > 1).any()
    n = len(d)
    fig, (ax, axt) = plt.subplots(1, 2, sharey=True, figsize=(9.2, 0.5 * n + 1.9),
                                  gridspec_kw={"width_ratios": [3.0, 1.9], "wspace": 0.03},
                                  layout="constrained")
    y = np.arange(n)[::-1]
    names = []
    for yi, r in zip(y, d.to_dict("records")):
        o = r["outcome"]
        lower = better.get(o, "higher") == "lower"
        name = _named(outcome_labels, o, lang)
        if lower:
            name += f"（{label(FOREST_TEXT['lower_better'], lang)}）" if lang == "zh" else \
                f" ({label(FOREST_TEXT['lower_better'], lang)})"
        if several_arms:
            name += "\n" + label(FOREST_TEXT["vs"], lang).format(
                arm=_arm_name(r.get("arm"), lang, arm_labels),
                control=_arm_name(r.get("control"), lang, arm_labels))
        if several_models:
            name += "\n" + model_label(r["model"], lang)
        names.append(name)
        g, lo, hi = (r.get(k, np.nan) for k in ("effect_size", "effect_size_ci_low",
                                               "effect_size_ci_high"))
        if pd.notna(g):
            ax.plot([lo, hi], [yi, yi], color="#1f4e99", lw=2.2, solid_capstyle="butt")
            ax.plot(g, yi, "s", color="#1f4e99", ms=7)
            est = f"{g:.2f} [{lo:.2f}, {hi:.2f}]" if pd.notna(lo) else f"{g:.2f}"
        else:
            est = _suppressed_text(lang, min_cell)
        axt.text(0.02, yi, est, va="center", ha="left", fontsize=9)
        axt.text(0.98, yi, label(FOREST_TEXT["better_left" if lower else "better_right"], lang),
                 va="center", ha="right", fontsize=9, color="#2a7a2a", fontweight="bold")
    ax.axvline(0, color="#444", lw=1, ls="--")
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, n - 0.3)
    lim = np.nanmax(np.abs(d[["effect_size_ci_low", "effect_size_ci_high"]].to_numpy(float))) \
        if n and d[["effect_size_ci_low", "effect_size_ci_high"]].notna().any().any() else 1.0
    ax.set_xlim(-max(lim, 0.25) * 1.12, max(lim, 0.25) * 1.12)
    ax.text(0, n - 0.45, " " + label("zero", lang), ha="left", va="bottom", fontsize=8,
            color="#444")
    kinds = set(d["model"].map(lambda m: "dz" if m in ("paired_t", "change_cr2") else "g"))
    estimands = set(d["estimand"].astype(str)) if "estimand" in d and n else set()
    one = estimands.pop() if len(estimands) == 1 else None
    xkey = "mixed" if len(kinds) > 1 else (kinds.pop() if kinds else "g")
    if xkey == "g" and one == "adjusted_difference":
        xkey = "g_adjusted_difference"
    ax.set_xlabel(label(FOREST_TEXT[xkey], lang))
    axt.set_axis_off()
    axt.set_xlim(0, 1)
    col = f"col_{one}" if one in ("change", "adjusted_difference") else "col_estimate"
    axt.text(0.02, n - 0.45, label(FOREST_TEXT[col], lang), ha="left", va="bottom",
             fontsize=9, fontweight="bold")
    axt.text(0.98, n - 0.45, label(FOREST_TEXT["col_direction"], lang), ha="right", va="bottom",
             fontsize=9, fontweight="bold")
    if not several_models and n:
        sub = label(FOREST_TEXT["model"], lang).format(m=model_label(d["model"].iloc[0], lang))
        fig.suptitle(f"{title}\n{sub}" if title else sub, fontsize=10 if not title else 11)
    elif title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------- reliable change

CHANGE_TEXT = {
    "improved": {"en": "Reliably improved", "zh": "可靠改善"},
    "unchanged": {"en": "No reliable change", "zh": "无可靠变化"},
    "worse": {"en": "Reliably worse", "zh": "可靠变差"},
    "xlabel": {"en": "Share of children followed up (%)", "zh": "完成随访儿童的比例（%）"},
    "n": {"en": "n = {n}", "zh": "n = {n}"},
    "note": {"en": "Reliable change: Jacobson–Truax index beyond ±1.96 in the outcome's better "
                   "direction (reliability and baseline SD of the change table).",
             "zh": "可靠变化：Jacobson–Truax 可靠变化指数超过 ±1.96，方向以该结局的“更好”方向为准"
                   "（信度与基线标准差见变化表）。"},
}
CHANGE_COLORS = {"improved": "#0072b2", "unchanged": "#c8c8c8", "worse": "#d55e00"}


def reliable_change_plot(change: pd.DataFrame, *, lang="en", title=None, outcome_labels=None,
                         arm_labels=None, arms=None, min_cell=None):
    """Shares of children reliably improved, unchanged and worse, per arm and outcome.

    One panel per outcome, one stacked bar per arm (0-100%): reliably improved,
    no reliable change, reliably worse (Jacobson–Truax, in the outcome's better
    direction, so "improved" on loneliness means less lonely). Each segment is
    labelled with its share and count when it is wide enough to hold them; the
    right of each bar gives ``n``. The legend stands under the panels.

    Parameters
    ----------
    change : DataFrame
        The change table (:func:`analysis.change.change_table`,
        ``tables/change.csv``): ``outcome, arm, n, improved, worse, n_improved,
        n_worse`` (shares of ``n``). A row whose counts were suppressed (NaN, or a
        count between 1 and ``min_cell - 1``) is drawn as a hatched bar labelled
        "fewer than ``min_cell``"; counts never print below ``min_cell``.
    lang : {"en", "zh"}
    title : str, optional
    outcome_labels, arm_labels : mapping, optional
        Code -> text or ``{en, zh}``.
    arms : list, optional
        Arms in this order (e.g. control first); default the table's order.
    min_cell : int, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"outcome": "comm", "arm": ["c", "t"], "n": [329, 367],
    ...                    "improved": [41 / 329, 65 / 367], "worse": [39 / 329, 24 / 367],
    ...                    "n_improved": [41, 65], "n_worse": [39, 24]})
    >>> fig = reliable_change_plot(ch, min_cell=5)
    >>> "18% (65)" in [t.get_text() for t in fig.axes[0].texts]
    True
    """
    from matplotlib.patches import Patch

    d = change.reset_index(drop=True)
    outcomes = list(dict.fromkeys(d["outcome"]))
    arm_order = list(arms) if arms is not None else list(dict.fromkeys(d["arm"].astype(str)))
    sizes = [len(d[d["outcome"] == o]) for o in outcomes]
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(8, 0.55 * sum(sizes) + 0.75 * len(outcomes)
                                                        + 1.3),
                             gridspec_kw={"height_ratios": [max(1, k) for k in sizes]},
                             squeeze=False, sharex=True, layout="constrained")

    def pct(v):
        return f"{100 * v:.0f}%"

    for ax, o in zip(axes[:, 0], outcomes):
        sub = d[d["outcome"] == o].copy()
        sub["_k"] = sub["arm"].astype(str).map({a: i for i, a in enumerate(arm_order)})
        sub = sub.sort_values("_k", na_position="last", kind="stable")
        y = np.arange(len(sub))[::-1]
        names = []
        for yi, r in zip(y, sub.to_dict("records")):
            names.append(_arm_name(r["arm"], lang, arm_labels))
            n, ni, nw = r.get("n"), r.get("n_improved"), r.get("n_worse")
            counts_ok = all(pd.notna(v) for v in (n, ni, nw)) and not any(
                _small(v, min_cell) for v in (n, ni, nw, (n - ni - nw) if pd.notna(n) and
                                               pd.notna(ni) and pd.notna(nw) else np.nan))
            if not counts_ok or pd.isna(r.get("improved")) or pd.isna(r.get("worse")):
                ax.barh(yi, 1.0, height=0.62, color="white", edgecolor="#999", hatch="///")
                ax.text(0.5, yi, _suppressed_text(lang, min_cell), ha="center", va="center",
                        fontsize=8.5, color="#444",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
                continue
            parts = [("improved", r["improved"], ni), ("unchanged", 1 - r["improved"] - r["worse"],
                                                       n - ni - nw), ("worse", r["worse"], nw)]
            left = 0.0
            for key, share, k in parts:
                ax.barh(yi, share, left=left, height=0.62, color=CHANGE_COLORS[key],
                        edgecolor="white", lw=0.8)
                txt = f"{pct(share)} ({int(k)})" if share >= 0.105 else pct(share) \
                    if share >= 0.045 else ""
                if txt:
                    ax.text(left + share / 2, yi, txt, ha="center", va="center", fontsize=8.5,
                            color="white" if key != "unchanged" else "#222")
                left += share
            ax.text(1.01, yi, label(CHANGE_TEXT["n"], lang).format(n=int(n)), ha="left",
                    va="center", fontsize=8.5, color="#444", transform=ax.get_yaxis_transform())
        ax.set_yticks(y, names)
        ax.set_ylim(-0.55, len(sub) - 0.45)
        ax.set_xlim(0, 1)
        ax.grid(axis="y", visible=False)
        ax.set_title(_named(outcome_labels, o, lang), loc="left", fontsize=10)
    axes[-1, 0].set_xticks(np.linspace(0, 1, 6), [f"{v:.0f}" for v in np.linspace(0, 100, 6)])
    axes[-1, 0].set_xlabel(label(CHANGE_TEXT["xlabel"], lang))
    handles = [Patch(color=CHANGE_COLORS[k], label=label(CHANGE_TEXT[k], lang))
               for k in ("improved", "unchanged", "worse")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------- claims

CLAIM_TEXT = {
    "claimed": {"en": "Claimed share (95% CI)", "zh": "报告声称的比例（95% 置信区间）"},
    "observed": {"en": "Observed in {arm} (95% CI)", "zh": "本研究{arm}实际观察（95% 置信区间）"},
    "no_effect": {"en": "Expected with no effect (95% range for the claim's n)",
                  "zh": "无效果时的预期（按声称的人数，95% 范围）"},
    "no_effect_note": {"en": "No effect: measurement error and regression to the mean alone",
                       "zh": "无效果：仅由测量误差和向均值回归造成的“改善”"},
    "xlabel": {"en": "Share of children who improved (%)", "zh": "有所改善的儿童比例（%）"},
    "treatment": {"en": "the treatment arm", "zh": "干预组"},
    "control": {"en": "the control arm", "zh": "对照组"},
}
CLAIM_STYLE = {  # key: (marker, color, offset within the claim's row)
    "claimed": ("D", "#d62728", 0.27),
    "observed_treatment": ("^", "#0072b2", 0.09),
    "observed_control": ("v", "#009e73", -0.09),
    "no_effect": ("o", "#7f7f7f", -0.27),
}


def _observed_ci(r: dict, role: str, alpha: float):
    share = r.get(f"observed_{role}", np.nan)
    if share is None or pd.isna(share):
        return np.nan, np.nan, np.nan
    lo, hi = r.get(f"observed_{role}_ci_low", np.nan), r.get(f"observed_{role}_ci_high", np.nan)
    n = r.get(f"observed_{role}_n", np.nan)
    if (lo is None or pd.isna(lo)) and n is not None and pd.notna(n) and n > 0:
        from analysis.change import wilson_ci

        lo, hi = wilson_ci(int(round(share * n)), int(n), alpha=alpha)
    return float(share), float(lo) if pd.notna(lo) else np.nan, float(hi) if pd.notna(hi) else np.nan


def null_range(null_proportion: float, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` range of the share improved among ``n`` children when the
    program has no effect: binomial quantiles of ``Binomial(n, p0)`` over ``n``.

    Examples
    --------
    >>> null_range(0.5, 100)
    (0.4, 0.6)
    """
    from scipy import stats

    if n is None or pd.isna(n) or n < 1 or pd.isna(null_proportion):
        return np.nan, np.nan
    a = (1 - level) / 2
    d = stats.binom(int(n), float(null_proportion))
    return float(d.ppf(a) / n), float(d.ppf(1 - a) / n)


def claims_figure(claims: pd.DataFrame, *, lang="en", title=None, arm_labels=None):
    """Each claim: the claimed share, the shares observed in this study's arms and the
    share expected with no effect, each with its interval, on one 0-100% axis.

    One band per claim (the claim's text on the left), four marks in fixed places
    within the band, explained by the legend under the axis:

    - claimed share (red diamond) with its 95% Wilson interval (``ci_low``,
      ``ci_high`` of the audit, the claim's own ``n``);
    - observed share in the treatment arm and in the control arm (triangles) with
      95% Wilson intervals, when the table gives their sizes or intervals;
    - the share expected with no effect (grey circle, ``null_proportion``: children
      who "improve" by measurement error and regression to the mean alone) with the
      central 95% range of the share among the claim's ``n`` children under no effect
      (:func:`null_range`); a claimed interval that overlaps this range does not
      show the program did anything.

    Parameters
    ----------
    claims : DataFrame
        ``tables/claims.csv`` (:func:`analysis.claims.audit_claim`): ``claim,
        claimed_proportion, n, ci_low, ci_high, null_proportion, observed_treatment,
        observed_control`` (and ``alpha``). Optional ``observed_treatment_n``,
        ``observed_control_n`` (arm sizes, e.g. the audits' ``facts["tn"]`` /
        ``facts["cn"]``) or ``observed_<role>_ci_low/_ci_high`` give the observed
        shares their intervals; without them the observed shares are drawn as points.
    lang : {"en", "zh"}
    title : str, optional
    arm_labels : mapping, optional
        ``"treatment"`` / ``"control"`` -> the arms' names (text or ``{en, zh}``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"claim": ["82% improved"], "claimed_proportion": [.82], "n": [120],
    ...                   "ci_low": [.74], "ci_high": [.88], "null_proportion": [.5],
    ...                   "observed_treatment": [.6], "observed_control": [.5],
    ...                   "observed_treatment_n": [80], "observed_control_n": [80]})
    >>> fig = claims_figure(c)
    >>> len(fig.legends[0].get_texts())
    4
    """
    from matplotlib.lines import Line2D

    d = claims.reset_index(drop=True)
    lines = max((_wrap(c, 34).count("\n") + 1 for c in d["claim"]), default=1)
    band = max(1.0, 0.28 * lines + 0.35)
    fig, ax = plt.subplots(figsize=(9, band * max(1, len(d)) + 1.9), layout="constrained")
    y = np.arange(len(d))[::-1]
    seen = set()

    def mark(key, x, lo, hi, yi):
        mk, color, off = CLAIM_STYLE[key]
        if pd.isna(x):
            return
        if pd.notna(lo) and pd.notna(hi):
            ax.plot([lo, hi], [yi + off] * 2, color=color, lw=2.2, alpha=0.75,
                    solid_capstyle="butt")
        ax.plot(x, yi + off, mk, color=color, ms=7.5, markeredgecolor="white", markeredgewidth=0.6)
        seen.add(key)

    for yi, r in zip(y, d.to_dict("records")):
        alpha = float(r.get("alpha", 0.05)) if pd.notna(r.get("alpha", np.nan)) else 0.05
        mark("claimed", r["claimed_proportion"], r.get("ci_low"), r.get("ci_high"), yi)
        for role in ("treatment", "control"):
            mark(f"observed_{role}", *_observed_ci(r, role, alpha), yi)
        lo, hi = null_range(r.get("null_proportion"), r.get("n"), level=1 - alpha)
        mark("no_effect", r.get("null_proportion"), lo, hi, yi)
        if yi > 0:
            ax.axhline(yi - 0.5, color="#ddd", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, len(d) - 0.5)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0f}" for v in np.linspace(0, 100, 6)])
    ax.set_yticks(y, [_wrap(c, 34) for c in d["claim"]])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(label(CLAIM_TEXT["xlabel"], lang))
    handles = []
    for key in ("claimed", "observed_treatment", "observed_control", "no_effect"):
        if key not in seen and key != "claimed":
            continue
        mk, color, _ = CLAIM_STYLE[key]
        if key.startswith("observed_"):
            role = key.split("_", 1)[1]
            arm = _named(arm_labels, role, lang) if arm_labels and role in arm_labels else \
                label(CLAIM_TEXT[role], lang)
            text = label(CLAIM_TEXT["observed"], lang).format(arm=arm)
        else:
            text = label(CLAIM_TEXT[key], lang)
        handles.append(Line2D([], [], color=color, marker=mk, lw=2.2, ms=7.5, label=text))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=8.5,
               title=label(CLAIM_TEXT["no_effect_note"], lang), title_fontsize=8.5)
    if title:
        ax.set_title(title)
    return fig


def claim_plot(audit: pd.DataFrame, *, lang="en", title=None, arm_labels=None):
    """The former name of :func:`claims_figure` (same figure)."""
    return claims_figure(audit, lang=lang, title=title, arm_labels=arm_labels)

"""Model names in words, in English and Chinese, for tables, figures and sentences.

The effects table (``tables/effects.csv``, docs/architecture.md "Effects table") names
each model by a code (``ols_cr2``); a reader sees these words instead.

Examples
--------
>>> model_label("ols_cr2", "en")
'OLS with CR2 cluster-robust SE'
>>> model_label("ols_cr2", "zh")
'OLS + CR2 聚类稳健标准误'
>>> model_label("my_model", "en")  # an unknown code is shown as it is
'my_model'
"""

from __future__ import annotations

__all__ = ["MODEL_LABELS", "model_label"]

MODEL_LABELS: dict[str, dict[str, str]] = {
    "ols_cr2": {"en": "OLS with CR2 cluster-robust SE",
                "zh": "OLS + CR2 聚类稳健标准误"},
    "mixed_reml": {"en": "Mixed model (REML)",
                   "zh": "混合效应模型（REML）"},
    "cluster_means": {"en": "Analysis of cluster means",
                      "zh": "整群均值分析"},
    "did": {"en": "Difference in differences",
            "zh": "双重差分"},
    "ancova_hc2": {"en": "ANCOVA with HC2 robust SE",
                   "zh": "协方差分析 + HC2 稳健标准误"},
    "change_cr2": {"en": "Pre-post change with CR2 cluster-robust SE",
                   "zh": "前后测变化 + CR2 聚类稳健标准误"},
    "paired_t": {"en": "Paired t-test",
                 "zh": "配对 t 检验"},
}
"""model code -> ``{"en": ..., "zh": ...}``: every model of :mod:`analysis.effects`."""


def model_label(code: str, lang: str = "en") -> str:
    """The model ``code`` in words in ``lang`` (``"en"`` or ``"zh"``); unknown codes as is."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    return MODEL_LABELS.get(str(code), {}).get(lang, str(code))

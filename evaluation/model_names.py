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

from analysis.effects_rules import MODEL_NAMES
from analysis.effects_rules import model_label as _model_label

__all__ = ["MODEL_LABELS", "model_label"]

MODEL_LABELS: dict[str, dict[str, str]] = {code: names[1] for code, names in MODEL_NAMES.items()}
"""model code -> ``{"en": ..., "zh": ...}``: the long names of
:data:`analysis.effects_rules.MODEL_NAMES` (figures use the short ones)."""


def model_label(code: str, lang: str = "en") -> str:
    """The model ``code`` in words in ``lang`` (``"en"`` or ``"zh"``); unknown codes as is."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    return _model_label(code, lang, long=True)

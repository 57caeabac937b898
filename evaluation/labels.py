"""Study labels on a table for display: arm, wave and category values in the run's language.

The tables a run writes (``tables/*.csv``) keep the raw values of the data (``control``,
``baseline``, ``grandparents``): they are a contract that scripts read. What a page or a
Word table *shows* is a labelled copy, made by :func:`label_frame` just before display:
the study's own labels (``labels:`` in study.yaml, :class:`survey.study.Labels`), else the
built-in labels of common values (``control`` -> 对照组 / Control, ``baseline`` -> 基线 /
Baseline, ``male`` -> 男 / Male, ...), else the value itself (:meth:`survey.study.Study.label`).

Which column of a table holds what:

- ``arm`` and ``control`` hold arm values (the design's arm column, whatever it is called),
  ``wave`` holds wave values;
- ``level`` next to ``variable`` (balance, Table 1) or ``subgroup`` (subgroup effects) holds a
  value of the column named on the same row;
- ``variable`` and ``subgroup`` hold column names, shown as column labels
  (:meth:`survey.study.Study.column_label`: ``age`` -> 年龄 / Age).

Any other table column is labelled only when asked for (``columns=``, ``names=``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from core.suggest import did_you_mean

__all__ = ["label_frame"]

#: Table columns whose values are values of a study column (default of ``columns=``), and
#: that study column: ``"arm"`` and ``"wave"`` are roles (the design's arm and wave columns).
VALUE_COLUMNS = {"arm": "arm", "control": "arm", "wave": "wave"}

#: Table columns that say whose value ``level`` is (first found wins).
LEVEL_OWNERS = ("variable", "subgroup")

#: Table columns whose values are study column names (default of ``names=``).
NAME_COLUMNS = ("variable", "subgroup")


def _check_present(df: pd.DataFrame, wanted: Iterable, what: str) -> None:
    for col in wanted:
        if col not in df.columns:
            raise ValueError(f"label_frame: {what} names {col!r}, which is not a column of the "
                             f"table{did_you_mean(col, [str(c) for c in df.columns])}; expected one "
                             f"of {', '.join(map(str, df.columns))}")


def _label_values(values: pd.Series, study, column: str, lang: str) -> pd.Series:
    cache: dict = {}

    def one(v):
        if pd.isna(v):
            return v
        if v not in cache:
            cache[v] = study.label(column, v, lang)
        return cache[v]

    return values.map(one).astype(object)


def label_frame(df: pd.DataFrame, study, lang: str, columns=None, *, names=None) -> pd.DataFrame:
    """A copy of ``df`` with the study's values shown as labels in ``lang``, for display.

    The table itself (and the CSV written from it) keeps the raw values; call this on the
    way to the page, the HTML table or the Word table. Missing values stay missing; columns
    that are not labelled are returned unchanged.

    Parameters
    ----------
    df : DataFrame
        A table of the run (``tables/*.csv`` as written, or the frame a page module returns).
    study : Study
        The run's study (``RunFolder.study``: the snapshot, with its ``labels``).
    lang : {"zh", "en"}
        The language to show (``RunFolder.text_lang``).
    columns : list of str or dict, optional
        The table columns whose values are category values. A list names table columns:
        ``arm``/``control`` are arm values, ``wave`` wave values, ``level`` the value of the
        column named on the same row in ``variable`` or ``subgroup``, any other name the
        values of the study column of that name. A dict maps a table column to the study
        column whose values it holds (``{"group_a": "arm"}``). Default: those of ``arm``,
        ``control``, ``wave`` and (with ``variable`` or ``subgroup``) ``level`` the table has.
    names : list of str, optional
        The table columns whose values are study column names, shown as column labels.
        Default: ``variable`` and ``subgroup`` when present.

    Returns
    -------
    DataFrame
        Same shape, index and column order as ``df``; labelled columns hold text.

    Raises
    ------
    ValueError
        For a ``lang`` other than ``zh``/``en``, or a named column the table does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> from survey.study import Labels, Study
    >>> study = Study(id="s", title={}, language="zh", instruments=(), data=(),
    ...               design=Design(type="randomized", id="sid", arm="arm", control="control",
    ...                             subgroups=("guardian_type",)),
    ...               labels=Labels(values={"arm": {"treatment": {"en": "Mentoring",
    ...                                                           "zh": "结对帮扶"}}}))
    >>> t = pd.DataFrame({"arm": ["treatment", "control"], "wave": ["baseline", "endline"],
    ...                   "variable": ["guardian_type", "age"], "level": ["grandparents", None],
    ...                   "n": [40, 38]})
    >>> label_frame(t, study, "zh")
        arm wave variable level   n
    0  结对帮扶   基线    监护人类型    祖辈  40
    1   对照组   终期       年龄   NaN  38
    >>> list(t["arm"])                           # the table itself is unchanged
    ['treatment', 'control']
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"label_frame: lang must be 'zh' or 'en'; found {lang!r}")
    owner = next((c for c in LEVEL_OWNERS if c in df.columns), None)
    if columns is None:
        targets = {c: VALUE_COLUMNS[c] for c in VALUE_COLUMNS if c in df.columns}
        if owner is not None and "level" in df.columns:
            targets["level"] = None
    elif isinstance(columns, Mapping):
        targets = {str(k): str(v) for k, v in columns.items()}
    else:
        targets = {str(c): (None if c == "level" and owner is not None
                            else VALUE_COLUMNS.get(str(c), str(c))) for c in columns}
    name_cols = [c for c in NAME_COLUMNS if c in df.columns] if names is None else list(names)
    _check_present(df, targets, "columns=")
    _check_present(df, name_cols, "names=")

    out = df.copy()
    for col, study_col in targets.items():
        if study_col is None:  # level: the value of the column named on its row (raw name)
            shown = df[col].astype(object).copy()
            for i, (var, v) in enumerate(zip(df[owner], df[col])):
                if not (pd.isna(v) or pd.isna(var)):
                    shown.iat[i] = study.label(var, v, lang)
            out[col] = shown
        else:
            out[col] = _label_values(df[col], study, study_col, lang)
    for col in name_cols:
        out[col] = df[col].map(lambda v: v if pd.isna(v) else study.column_label(v, lang)).astype(object)
    return out


def study_labels(study):
    """A labeller for the table builders: ``labels(column, value, lang) -> str | None``.

    Outcome ids (``column="outcome"``) and outcome columns (``pcc.total``, as Table 1
    names them) take the scale's name in ``lang``; ``column="scale"`` takes
    ``"instrument.scale"``; other values use the study's labels
    (``Study.label`` / ``Study.column_label`` when the study has them), else
    ``None`` (the builder shows the value itself).

    Examples
    --------
    >>> labels = study_labels(RunFolder("RUN").study)                  # doctest: +SKIP
    >>> labels("outcome", "communication", "zh")                       # doctest: +SKIP
    '沟通与求助总均分（1-5）'
    """
    outcomes = {}
    columns = {}
    for o in study.outcomes:
        name = _scale_name(study, o.scale) if o.scale else None
        if name:
            outcomes[o.id] = name
            columns[o.column_name] = name

    def labels(column, value, lang):
        key = "" if value is None else str(value)
        if column == "outcome":
            return (outcomes.get(key) or {}).get(lang)
        if column == "scale":
            return (_scale_name(study, key) or {}).get(lang)
        if column is None:
            if key in columns:
                return columns[key].get(lang)
            fn = getattr(study, "column_label", None)
            return fn(key, lang) if fn else None
        fn = getattr(study, "label", None)
        return fn(column, value, lang) if fn else None

    return labels


def _scale_name(study, ref: str) -> dict | None:
    if not ref or "." not in ref:
        return None
    inst_id, scale_id = ref.split(".", 1)
    try:
        name = study.instrument(inst_id).scale(scale_id).name
    except (KeyError, LookupError, ValueError, AttributeError):
        return None
    return dict(name) if name else None


def bilingual(text: Mapping, lang: str) -> str:
    """Markdown of a ``{"en": ..., "zh": ...}`` paragraph: ``lang`` first, then the other
    (the pages' rule: each language written, the run's first).

    Examples
    --------
    >>> print(bilingual({"en": "Yes.", "zh": "是。"}, "zh"))
    是。
    <BLANKLINE>
    Yes.
    """
    other = "en" if lang == "zh" else "zh"
    return f"{text[lang]}\n\n{text[other]}"

"""Scale scores: reverse keying, means and sums, prorating.

The rule
---------------------
* Reverse-keyed items are scored as ``min + max - x``, with ``min`` and ``max``
  taken from the instrument's declared response scale (``response.min`` /
  ``response.max``), never from the data.
* A scale score exists when at least ``min_items`` of the scale's items are
  answered; otherwise it is missing (NaN).
* ``score: mean`` is the mean of the answered (keyed) items.
* ``score: sum`` is prorated: the mean of the answered items times the number
  of items of the scale. When every item is answered this is exactly the plain
  sum (computed as the sum, not as mean × k, so no rounding is introduced).

How this relates to R ``psych::scoreItems`` (psych 2.2.9, checked in
``tests/test_scoring_psych.py`` against ``tests/fixtures/r/scoring/``)
--------------------------------------------------------------------------------
* Complete data: identical (means and ``totals = TRUE`` sums), to 1e-9.
* ``impute = "none", totals = FALSE`` is our mean with ``min_items = 1``:
  the mean of the answered items, NaN when none is answered. Identical.
* ``impute = "none", totals = TRUE`` sums the answered items **without
  prorating** (and gives 0 when none is answered). Ours prorates, so with
  missing items our sums are larger; this is deliberate: an unprorated sum
  treats a skipped item as the lowest possible answer minus ``min``.
* psych's default ``impute = "median"`` (and ``"mean"``) replaces a missing item
  value by that item's median (mean) over *all rows passed in*, so every
  respondent gets a score, even one who answered nothing. The workbench never
  does this by default (it would pull each respondent towards the pooled sample,
  across arms and waves); :func:`score_items` offers ``impute=`` only to
  reproduce psych, and it matches psych exactly.
* psych finds ``min``/``max`` for reversing from the smallest and largest value
  in the whole item matrix unless they are given; with a response option that
  nobody chose this silently changes the keying. We always use the instrument's
  declared range (pass ``min``/``max`` to psych to compare).
* psych (``delete = TRUE``) drops items with zero variance from the keys; we
  never drop items.

Python libraries: pingouin has no scale scoring; ``factor_analyzer`` and
``semopy`` do not score keyed scales with prorating. Hence this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import DataError

from .ingest import describe_label, describe_number

IMPUTE = ("none", "median", "mean")


def reverse_key(values, response):
    """Reverse-key values: ``min + max - x``.

    Parameters
    ----------
    values : scalar, array-like, Series or DataFrame
        Item responses. NaN stays NaN.
    response : survey.instrument.Response or (min, max)
        The declared response scale.

    Returns
    -------
    Same type as ``values`` (array-likes become a float ndarray).

    Examples
    --------
    >>> from survey.instrument import Response
    >>> reverse_key([1, 2, 4], Response(min=1, max=4)).tolist()
    [4.0, 3.0, 1.0]
    >>> reverse_key(0, (0, 3))
    3
    """
    lo, hi = _range(response)
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return (lo + hi) - values
    if np.isscalar(values):
        return (lo + hi) - values
    return (lo + hi) - np.asarray(values, dtype=float)


def keyed_items(items_df: pd.DataFrame, instrument, scale_id: str, *,
                columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The item columns of one scale, reverse-keyed where the instrument says so.

    Parameters
    ----------
    items_df : DataFrame
        Item responses, one column per item (named by item id unless ``columns``
        maps ids to other column names).
    instrument : survey.instrument.Instrument
    scale_id : str
        Id of a scale of ``instrument`` (a composite scale gives the union of its
        subscales' items).
    columns : mapping, optional
        Item id -> column of ``items_df``.

    Returns
    -------
    DataFrame
        Float columns named by item id, in the scale's item order, same index
        as ``items_df``. Reverse-keyed items hold ``min + max - x``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey.instrument import Instrument, Item, License, Response, Scale
    >>> inst = Instrument(id="demo", name={"en": "Demo"}, version="1", construct="",
    ...     citation="", license=License("original", "demo"),
    ...     response=Response(1, 5), items=(Item("q1"), Item("q2", reverse=True)),
    ...     scales=(Scale("total", {"en": "Total"}, ("q1", "q2")),))
    >>> keyed_items(pd.DataFrame({"q1": [1, 5], "q2": [1, 5]}), inst, "total")
        q1   q2
    0  1.0  5.0
    1  5.0  1.0
    """
    scale = _scale(instrument, scale_id)
    x = _item_matrix(items_df, instrument, scale.items, columns)
    rev = np.array([instrument.item(i).reverse for i in scale.items], dtype=bool)
    if rev.any():
        x[:, rev] = (instrument.response.min + instrument.response.max) - x[:, rev]
    return pd.DataFrame(x, index=items_df.index, columns=list(scale.items))


def score_items(items_df: pd.DataFrame, instrument, *, scales: Sequence[str] | None = None,
                columns: Mapping[str, str] | None = None, impute: str = "none",
                prefix: bool = True) -> pd.DataFrame:
    """Score the scales of one instrument.

    Parameters
    ----------
    items_df : DataFrame
        Item responses, one numeric column per item (NaN = missing), named by
        item id unless ``columns`` says otherwise. Other columns are ignored.
    instrument : survey.instrument.Instrument
    scales : sequence of str, optional
        Scale ids to score (default: all, in the instrument's order).
    columns : mapping, optional
        Item id -> column of ``items_df``.
    impute : {"none", "median", "mean"}
        ``"none"`` (the workbench rule, default): prorate as described in the
        module docstring. ``"median"``/``"mean"``: first replace each missing
        value by that item's median/mean over all rows of ``items_df``, exactly as
        ``psych::scoreItems`` does (then every row is scored and ``min_items`` has
        no effect); offered for comparison with psych, not recommended.
    prefix : bool
        Name the columns ``INSTRUMENT.SCALE`` (default) or just ``SCALE``.

    Returns
    -------
    DataFrame
        One float64 column per scale, same index as ``items_df``.

    Raises
    ------
    DataError
        ``SCORE_ITEM_MISSING`` when an item column is absent;
        ``SCORE_VALUE_OUT_OF_RANGE`` when a value lies outside the response scale
        (reverse keying would be meaningless); ``SCORE_NOT_NUMERIC`` when an item
        column cannot be read as numbers.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey.instrument import Instrument, Item, License, Response, Scale
    >>> inst = Instrument(id="demo", name={"en": "Demo"}, version="1", construct="",
    ...     citation="", license=License("original", "demo"), response=Response(1, 5),
    ...     items=(Item("q1"), Item("q2"), Item("q3", reverse=True)),
    ...     scales=(Scale("total", {"en": "Total"}, ("q1", "q2", "q3"), score="sum",
    ...                   min_items=2),))
    >>> df = pd.DataFrame({"q1": [5, 4, 2], "q2": [4, np.nan, np.nan],
    ...                    "q3": [1, 2, np.nan]})
    >>> score_items(df, inst)
       demo.total
    0        14.0
    1        12.0
    2         NaN
    """
    if impute not in IMPUTE:
        raise ValueError(f"impute must be one of {IMPUTE}, got {impute!r}")
    chosen = [_scale(instrument, s) for s in (scales if scales is not None
                                             else [s.id for s in instrument.scales])]
    needed = list(dict.fromkeys(i for sc in chosen for i in sc.items))
    x = _item_matrix(items_df, instrument, needed, columns)
    if impute != "none" and x.size:
        with warnings.catch_warnings():   # an all-missing item stays missing
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nanmedian(x, axis=0) if impute == "median" else np.nanmean(x, axis=0)
        miss = np.isnan(x)
        x = np.where(miss, fill[np.newaxis, :], x)

    lo, hi = instrument.response.min, instrument.response.max
    rev = np.array([instrument.item(i).reverse for i in needed], dtype=bool)
    if rev.any():
        x[:, rev] = (lo + hi) - x[:, rev]

    answered = ~np.isnan(x)
    xz = x                      # x is our own copy: zero the gaps in place
    np.nan_to_num(xz, copy=False, nan=0.0)
    pos = {item: j for j, item in enumerate(needed)}
    keys = np.zeros((len(needed), len(chosen)))
    for k, sc in enumerate(chosen):
        keys[[pos[i] for i in sc.items], k] = 1.0
    sums = xz @ keys
    counts = answered.astype(np.float64) @ keys
    n_items = keys.sum(axis=0)
    min_items = np.array([min(sc.min_items, len(sc.items)) for sc in chosen], dtype=float)
    is_sum = np.array([sc.score == "sum" for sc in chosen], dtype=bool)

    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        prorated = np.where(counts == n_items, sums, means * n_items)
    out = np.where(is_sum[np.newaxis, :], prorated, means)
    out[counts < min_items[np.newaxis, :]] = np.nan
    names = [f"{instrument.id}.{sc.id}" if prefix else sc.id for sc in chosen]
    return pd.DataFrame(out, index=items_df.index, columns=names)


def score(study, data: pd.DataFrame) -> pd.DataFrame:
    """The scored dataset of a study (long: one row per respondent and wave).

    Parameters
    ----------
    study : survey.study.Study
    data : DataFrame
        Validated data (``survey.validate(study).data``): design columns under the
        study's names, the wave column, item columns named by item id with float
        values, and the provenance columns ``_file``/``_row``.

    Returns
    -------
    DataFrame
        Columns in this order (docs/architecture.md, "Scored data"): the id
        (string), the wave (string), arm, cluster columns, block column,
        covariates, subgroups, data-column outcomes (each once, in that order of
        first appearance; outcomes and numeric covariates as floats), then one float
        column per scale of every instrument
        named ``INSTRUMENT.SCALE``. Rows sorted by wave order (``design.waves``)
        then id; index 0..n-1. ``_file``/``_row`` and raw item columns are
        dropped.

    Raises
    ------
    DataError
        ``SCORE_COLUMN_MISSING`` when a design column is absent,
        ``SCORE_DUPLICATE_RESPONDENT`` when an id occurs twice in one wave,
        ``SCORE_UNKNOWN_WAVE`` when a wave is not in ``design.waves``,
        ``SCORE_NOT_NUMERIC`` when a data-column outcome or a covariate declared
        numeric holds text that is not a number (ingestion reads them as numbers, so
        validated data never do), and the errors of :func:`score_items`.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.design import Design
    >>> from survey.instrument import Instrument, Item, License, Response, Scale
    >>> from survey.study import InstrumentUse, Study
    >>> inst = Instrument(id="demo", name={"en": "Demo"}, version="1", construct="",
    ...     citation="", license=License("original", "demo"), response=Response(1, 5),
    ...     items=(Item("q1"), Item("q2", reverse=True)),
    ...     scales=(Scale("total", {"en": "Total"}, ("q1", "q2"), min_items=1),))
    >>> study = Study(id="s", title={"en": "S"}, language="en",
    ...     design=Design(type="pre_post", id="sid", waves=("pre", "post")),
    ...     instruments=(InstrumentUse(inst, {"q1": "q1", "q2": "q2"}),), data=())
    >>> data = pd.DataFrame({"sid": ["b", "a", "a"], "wave": ["pre", "post", "pre"],
    ...                      "q1": [5.0, 4.0, 3.0], "q2": [1.0, 2.0, 3.0],
    ...                      "_file": "x.csv", "_row": [2, 3, 4]})
    >>> score(study, data)
      sid  wave  demo.total
    0   a   pre         3.0
    1   b   pre         5.0
    2   a  post         4.0
    """
    d = study.design
    frame_cols = list(study.design_columns)

    data = data.copy()
    if d.wave not in data.columns and len(d.waves) == 1:
        data[d.wave] = d.waves[0]
    missing = [c for c in frame_cols if c not in data.columns]
    if missing:
        raise DataError("SCORE_COLUMN_MISSING",
                        f"the data have no column {missing[0]!r} (named in the study's design"
                        f"{' or outcomes' if missing[0] not in d.columns else ''}); "
                        f"columns found: {', '.join(map(str, data.columns[:20]))}",
                        file=str(study.path), column=missing[0])

    out = data[frame_cols].copy()
    out[d.id] = out[d.id].astype("str")
    out[d.wave] = out[d.wave].astype("str")
    column_type = getattr(study, "column_type", None)
    for c in frame_cols:
        numeric = any(o.column == c for o in study.outcomes) or \
            (column_type is not None and column_type(c) == "numeric")
        if numeric and c not in (d.id, d.wave) and not _is_number_dtype(out[c]):
            out[c] = _as_numbers(data, c, study)

    order = {w: k for k, w in enumerate(d.waves)}
    wave_pos = out[d.wave].map(order)
    if wave_pos.isna().any():
        bad = out.loc[wave_pos.isna(), d.wave].iloc[0]
        raise DataError("SCORE_UNKNOWN_WAVE",
                        f"wave {describe_label(bad)} is not one of design.waves {list(d.waves)}",
                        **_where(data, wave_pos.isna().to_numpy(), d.wave))
    dup = out.duplicated([d.id, d.wave], keep="first").to_numpy()
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise DataError("SCORE_DUPLICATE_RESPONDENT",
                        f"respondent {out[d.id].iloc[k]!r} occurs more than once in wave "
                        f"{describe_label(out[d.wave].iloc[k])}; the scored dataset has one row per "
                        "respondent and wave (validation quarantines duplicates)",
                        **_where(data, dup, d.id))

    parts = [out]
    for use in study.instruments:
        parts.append(score_items(data, use.instrument))
    scored = pd.concat(parts, axis=1)
    scored["__wave_pos"] = wave_pos.to_numpy()
    scored = scored.sort_values(["__wave_pos", d.id], kind="mergesort")
    return scored.drop(columns="__wave_pos").reset_index(drop=True)


# --------------------------------------------------------------------------- helpers

def _is_number_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_numbers(data: pd.DataFrame, column: str, study) -> np.ndarray:
    """A declared numeric column (outcome, numeric covariate) given as text, as floats.

    Empty cells are NaN; any other text raises ``SCORE_NOT_NUMERIC`` naming the file,
    row and column of the first such cell (not its text, which may be personal).
    Validated data never get here with text: ingestion reads these columns as numbers.
    """
    text = data[column].astype("str").str.strip()
    values = pd.to_numeric(text.mask(text == ""), errors="coerce")
    bad = (values.isna() & text.notna() & (text != "")).to_numpy()
    if bad.any():
        what = next((f"outcome {o.id!r}" for o in study.outcomes if o.column == column),
                    "a numeric covariate")
        raise DataError("SCORE_NOT_NUMERIC",
                        f"column {column!r} ({what}) holds {int(bad.sum())} cell(s) that are not "
                        "numbers; expected numbers (run validation first: it reports each such cell "
                        "as VALUE_NOT_NUMERIC and sets it to missing)", **_where(data, bad, column))
    return values.to_numpy(dtype="float64", na_value=np.nan)



def _where(data: pd.DataFrame, mask: np.ndarray, column: str) -> dict:
    k = int(np.flatnonzero(mask)[0])
    where = {"column": column}
    if "_file" in data.columns:
        where["file"] = str(data["_file"].iloc[k])
    if "_row" in data.columns:
        try:
            where["row"] = int(data["_row"].iloc[k])
        except (TypeError, ValueError):
            pass
    return where


def _range(response) -> tuple:
    if hasattr(response, "min") and hasattr(response, "max"):
        return response.min, response.max
    lo, hi = response
    return lo, hi


def _scale(instrument, scale_id: str):
    try:
        return instrument.scale(scale_id)
    except KeyError:
        known = ", ".join(s.id for s in instrument.scales)
        raise ValueError(f"instrument {instrument.id!r} has no scale {scale_id!r} "
                         f"(scales: {known})") from None


def _item_matrix(items_df: pd.DataFrame, instrument, item_ids, columns) -> np.ndarray:
    """Float64 matrix (n × len(item_ids)), a fresh copy, range-checked."""
    cols = [columns.get(i, i) if columns else i for i in item_ids]
    absent = [c for c in cols if c not in items_df.columns]
    if absent:
        raise DataError("SCORE_ITEM_MISSING",
                        f"instrument {instrument.id!r}: the data have no column for item(s) "
                        f"{', '.join(map(repr, absent[:10]))}"
                        f"{' ...' if len(absent) > 10 else ''}", column=absent[0])
    try:
        x = items_df[cols].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    except (TypeError, ValueError):
        for c in cols:
            try:
                items_df[c].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise DataError("SCORE_NOT_NUMERIC",
                                f"instrument {instrument.id!r}: item column {c!r} is not "
                                "numeric (run validation first)", column=c) from None
        raise
    lo, hi = instrument.response.min, instrument.response.max
    with np.errstate(invalid="ignore"):
        bad = (x < lo) | (x > hi)
    if bad.any():
        r, c = (int(v[0]) for v in np.nonzero(bad))
        where = _where(items_df, np.arange(len(items_df)) == r, cols[c])
        raise DataError("SCORE_VALUE_OUT_OF_RANGE",
                        f"instrument {instrument.id!r}: value {describe_number(x[r, c])} outside the "
                        f"response scale {lo}..{hi}", **where)
    return x

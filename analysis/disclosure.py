"""Small-cell suppression for published tables about children.

Counts of a handful of children (three girls in the control arm of one school)
can identify them. Education statistics agencies suppress such cells and, because
a suppressed count can often be recomputed from a row or column total, also
suppress a second, "complementary" cell (Delaware DOE, Wisconsin DPI, NCES
privacy technical brief on cell suppression, IES 2017-147 on minimum subgroup
size; the README's "Privacy" section says what a run suppresses). :func:`suppress_small_cells`
does both on a tidy table. No Python statistics library does this for tidy
frames; the rule is the standard textbook one, stated below with its limits.

A category *label* can identify a child too: a free-text ``guardian_type`` such as
``其他:姑姑王芳照顾`` is published as a level of Table 1 even when its count is
suppressed. :func:`merge_rare_levels` folds every level held by fewer than
``min_cell`` children into one "other" level (其他) before any table is built
(global recoding, as in sdcMicro's ``groupAndRename``), so rare labels never reach
a published table or figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["suppress_small_cells", "suppress_small_counts", "merge_rare_levels", "OTHER_LABEL"]

SMALL = "small"
COMPLEMENTARY = "complementary"


def _as_tuple(cols) -> tuple[str, ...]:
    if isinstance(cols, str):
        return (cols,)
    return tuple(cols)


def suppress_small_cells(table: pd.DataFrame, *, count: str, min_cell: int,
                         stats: Iterable[str] = (), margins: Sequence = (),
                         by: Iterable[str] = ()) -> pd.DataFrame:
    """Blank counts and statistics of groups smaller than ``min_cell``.

    Rule
    ----
    1. *Primary suppression*: a row whose count ``c`` satisfies ``0 < c < min_cell``
       is suppressed (reason ``"small"``). Zero counts are published: a zero
       identifies nobody. Missing counts are left as they are.
    2. *Complementary suppression*: each entry of ``margins`` names the column(s)
       across which a total could be recomputed (e.g. ``"arm"``: the arms of one
       wave add up to the wave's total). Cells that agree on every ``by`` column
       and on every *other* margin column form one group. If exactly one cell of a
       group is suppressed, another cell of the group is suppressed too (reason
       ``"complementary"``), so the total no longer gives the suppressed value
       away. The complement is the unsuppressed cell that (a) is non-zero (a zero
       cell only if nothing else is left), (b) with several margins, leaves the
       fewest groups of the *other* margins with a single suppressed cell (so a
       row-and-column table ends with a small rectangle of suppressed cells
       rather than a cascade), then (c) has the smallest count, then (d) comes
       first in row order. With one margin this is simply the next-smallest cell.
       An empty tuple ``()`` as a margin means the total of the whole table (of
       each ``by`` group).
    3. Step 2 is repeated over all margins until nothing changes (a complementary
       cell may leave another group with a single suppressed cell).

    Suppressed rows get NaN in ``count`` and in every ``stats`` column (means,
    SDs, shares and effect estimates of a small group are as revealing as its size).

    Limits: this is the usual heuristic, not an audited optimum. It does not solve
    the linear program that proves no suppressed value can be bounded too narrowly
    from all published totals together (as tau-ARGUS does); it does not require the
    suppressed cells of a group to add up to ``min_cell`` or more; and a group with
    a single cell cannot be protected within the table (its total *is* the cell:
    suppress that total where it is published). Such groups are counted in
    ``result.attrs["suppression"]["unprotected_groups"]``.

    Parameters
    ----------
    table : DataFrame
        Tidy table, one row per cell (e.g. wave x arm, or subgroup level x arm for
        forest-plot data).
    count : str
        Column holding the number of respondents in the cell.
    min_cell : int
        Smallest count that may be published (``privacy.min_cell``); ``1``
        suppresses nothing.
    stats : iterable of str
        Columns blanked together with the count (``mean``, ``sd``, ``estimate``...).
    margins : sequence of str or tuple of str
        Dimensions across which totals are published or recomputable.
    by : iterable of str
        Columns that separate independent tables (e.g. ``outcome``, or the
        subgroup variable in forest-plot data).

    Returns
    -------
    DataFrame
        ``table``'s columns (``count`` as float; ``stats`` blanked where suppressed)
        plus ``suppressed`` (bool) and ``suppression_reason`` (``"small"``,
        ``"complementary"`` or missing). Index and row order are kept.

    Raises
    ------
    ValueError
        Unknown columns, a non-numeric or negative count, ``min_cell < 1``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"wave": ["baseline"] * 3, "arm": ["control", "program", "waitlist"],
    ...                   "n": [40, 3, 25], "mean": [2.9, 3.4, 3.0]})
    >>> out = suppress_small_cells(t, count="n", min_cell=5, stats=["mean"], margins=["arm"],
    ...                            by=["wave"])
    >>> out[["arm", "n", "mean", "suppression_reason"]]
            arm     n  mean suppression_reason
    0   control  40.0   2.9                NaN
    1   program   NaN   NaN              small
    2  waitlist   NaN   NaN      complementary
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError("table must be a pandas DataFrame")
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer, float)) \
            or not float(min_cell).is_integer() or min_cell < 1:
        raise ValueError(f"min_cell must be a whole number >= 1, got {min_cell!r}")
    stats = [stats] if isinstance(stats, str) else list(stats)
    by = [by] if isinstance(by, str) else list(by)
    margin_cols = [_as_tuple(m) for m in margins]
    needed = [count, *stats, *by, *(c for m in margin_cols for c in m)]
    missing = [c for c in dict.fromkeys(needed) if c not in table.columns]
    if missing:
        raise ValueError(f"columns not in the table: {missing}")
    for m in margin_cols:
        clash = [c for c in m if c in by]
        if clash:
            raise ValueError(f"column(s) {clash} cannot be both a margin and a 'by' column")
    for reserved in ("suppressed", "suppression_reason"):
        if reserved in table.columns:
            raise ValueError(f"the table already has a {reserved!r} column "
                             "(suppression was applied already?)")
    try:
        counts = pd.to_numeric(table[count], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(f"count column {count!r} must be numeric") from None
    if np.any(counts[~np.isnan(counts)] < 0):
        raise ValueError(f"count column {count!r} has negative values")

    n = len(table)
    reason = np.full(n, None, dtype=object)
    reason[(counts > 0) & (counts < min_cell)] = SMALL

    all_margin = [c for m in margin_cols for c in m]
    groupings = []  # per margin: list of arrays of row positions
    # no small cell: no group has a single suppressed cell, nothing to complement
    for m in (margin_cols if (reason == SMALL).any() else []):
        keys = by + [c for c in dict.fromkeys(all_margin) if c not in m]
        if keys:
            codes = table[keys].astype(object).where(table[keys].notna(), "\x00<NA>")
            groups = list(codes.groupby(keys, sort=False, dropna=False).indices.values())
        else:
            groups = [np.arange(n)]
        groupings.append([np.asarray(g) for g in groups])

    group_of = []  # per margin: row position -> group number
    for groups in groupings:
        g = np.empty(n, dtype=int)
        for k, rows in enumerate(groups):
            g[rows] = k
        group_of.append(g)

    def n_suppressed(gj: int, r: int) -> int:
        return sum(reason[x] is not None for x in groupings[gj][group_of[gj][r]])

    def side_effect(gi: int, r: int) -> int:
        """Groups of the other margins that suppressing ``r`` leaves with one hidden
        cell, minus those it repairs."""
        net = 0
        for gj in range(len(groupings)):
            if gj != gi:
                k = n_suppressed(gj, r)
                net += 1 if k == 0 else (-1 if k == 1 else 0)
        return net

    unprotected: set[tuple[int, int]] = set()
    changed = True
    while changed:
        changed = False
        unprotected.clear()
        for gi, groups in enumerate(groupings):
            for k, rows in enumerate(groups):
                supp = [r for r in rows if reason[r] is not None]
                if len(supp) != 1:
                    continue
                free = [r for r in rows if reason[r] is None and not np.isnan(counts[r])]
                if not free:
                    unprotected.add((gi, k))
                    continue
                pick = min(free, key=lambda r, gi=gi: (counts[r] == 0, side_effect(gi, r),
                                                         counts[r], r))
                reason[pick] = COMPLEMENTARY
                changed = True

    out = table.copy()
    mask = np.array([r is not None for r in reason], dtype=bool)
    new_counts = counts.copy()
    new_counts[mask] = np.nan
    out[count] = new_counts
    masked = mask.any()
    for col in stats:
        if col == count:
            continue
        s = out[col]
        if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype(float)
        elif not masked and s.dtype == np.float64:
            continue  # nothing to blank: the column as it is
        out[col] = s.mask(mask)
    out["suppressed"] = mask
    out["suppression_reason"] = pd.array(list(reason), dtype="str")
    out.attrs["suppression"] = {
        "min_cell": int(min_cell),
        "small": int(np.sum(reason == SMALL)),
        "complementary": int(np.sum(reason == COMPLEMENTARY)),
        "unprotected_groups": len(unprotected),
    }
    return out


def suppress_small_counts(table: pd.DataFrame, counts: Mapping[str, Iterable[str]], *,
                          min_cell: int) -> pd.DataFrame:
    """Blank small counts *within* a row, with the statistics derived from them.

    For tables whose rows are large groups but which also publish counts of a
    category inside the group (``n_improved`` children reliably improved out of
    ``n``): a category count ``c`` with ``0 < c < min_cell`` is blanked together with
    its statistics (the share and its interval). The group total stays published;
    the blanked count cannot be recovered from it as long as the table does not
    publish every category of the group (e.g. ``unchanged`` is not published next
    to ``improved`` and ``worse``) — the caller's responsibility.

    Parameters
    ----------
    table : DataFrame
    counts : mapping
        Count column -> columns blanked with it, e.g.
        ``{"n_worse": ["worse", "worse_ci_low", "worse_ci_high"]}``.
    min_cell : int

    Returns
    -------
    DataFrame
        A copy; a column ``suppressed_counts`` names the blanked count columns of
        each row (``""`` when none).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"n": [40, 40], "n_worse": [3, 9], "worse": [3 / 40, 9 / 40]})
    >>> out = suppress_small_counts(t, {"n_worse": ["worse"]}, min_cell=5)
    >>> out["n_worse"].tolist(), out["suppressed_counts"].tolist()
    ([nan, 9.0], ['n_worse', ''])
    """
    out = table.copy()
    hidden = pd.Series([""] * len(out), index=out.index, dtype="object")
    for col, stats in counts.items():
        if col not in out.columns:
            continue
        c = pd.to_numeric(out[col], errors="coerce")
        small = (c > 0) & (c < min_cell)
        if not small.any():
            continue
        targets = [col, *[s for s in stats if s in out.columns]]
        for t in targets:
            if pd.api.types.is_integer_dtype(out[t].dtype):
                out[t] = out[t].astype("Float64" if str(out[t].dtype)[0] == "I" else "float64")
        out.loc[small, targets] = np.nan
        hidden[small] = [f"{h};{col}" if h else col for h in hidden[small]]
    out["suppressed_counts"] = hidden.astype("str")
    return out


OTHER_LABEL = {"zh": "其他", "en": "other"}
"""The level that rare levels are merged into, by language."""


def merge_rare_levels(values: pd.Series, min_cell: int, other_label: str = "other", *,
                      ids: pd.Series | None = None) -> pd.Series:
    """Merge category levels held by fewer than ``min_cell`` respondents into one level.

    Global recoding for publication: a level that few children share, and above all
    a free-text answer typed into a category column (``其他:姑姑王芳照顾,电话139...``),
    identifies them by its label alone, whatever its count. Every such level becomes
    ``other_label``; levels held by ``min_cell`` or more respondents are kept as they
    are. Counts are of distinct ``ids`` when given (a long table with one row per
    respondent and wave counts each child once), else of rows. Missing values stay
    missing. The merged "other" level may itself be small: its *count* is then a small
    cell for :func:`suppress_small_cells`, but its label reveals nothing.

    Parameters
    ----------
    values : Series
        The category column (any dtype; compared as text, so ``1`` and ``"1"`` are one
        level).
    min_cell : int
        ``privacy.min_cell``; ``1`` merges nothing.
    other_label : str
        The merged level's label (:data:`OTHER_LABEL`: ``其他`` or ``other``). An existing
        level with this label is merged with the rare ones, whatever its size.
    ids : Series, optional
        Respondent ids aligned with ``values``.

    Returns
    -------
    Series
        Text (``object``) with the same index and name; ``attrs["merged_levels"]`` is the
        number of levels merged (their labels are never recorded).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["grandparents"] * 6 + ["one_parent"] * 5 + ["姑姑王芳照顾"])
    >>> out = merge_rare_levels(s, 5, "其他")
    >>> out.value_counts().to_dict()
    {'grandparents': 6, 'one_parent': 5, '其他': 1}
    >>> out.attrs["merged_levels"]
    1
    """
    if isinstance(min_cell, bool) or not float(min_cell).is_integer() or min_cell < 1:
        raise ValueError(f"min_cell must be a whole number >= 1, got {min_cell!r}")
    text = values.astype(object).where(values.notna())
    labels = text.to_numpy(copy=True)
    present = ~pd.isna(labels)
    if (values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype)
            or not present.any() or text.attrs):
        # values of mixed types (1 and True are one hash key but not one label), no value,
        # or attrs to carry over: one by one
        text = text.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v))
                        else _level_text(v))
    else:  # one type: equal values have one label, so each distinct value is labelled once
        codes, distinct = pd.factorize(labels[present])
        labels[present] = np.array([_level_text(v) for v in distinct], dtype=object)[codes]
        text = pd.Series(labels, index=text.index, name=text.name)  # text: str, as map infers
    if ids is not None:
        # distinct (level, id) pairs with both present, counted by level: what
        # DataFrame({level, id}).dropna().drop_duplicates().groupby("level").size() counts
        level_codes, levels = pd.factorize(text.to_numpy())
        id_codes = pd.factorize(np.asarray(ids))[0].astype(np.int64)
        both = (level_codes >= 0) & (id_codes >= 0)
        width = int(id_codes.max()) + 1 if len(id_codes) else 1
        pairs = np.unique(level_codes[both].astype(np.int64) * width + id_codes[both])
        n_ids = np.bincount(pairs // width, minlength=len(levels))
        sizes = pd.Series(n_ids, index=pd.Index(levels, dtype=object))
        sizes = sizes[sizes > 0]
    else:
        sizes = text.dropna().value_counts()
    rare = {lev for lev, n in sizes.items() if n < min_cell}
    if other_label in sizes.index and rare:
        rare.add(other_label)
    out = text.where(~text.isin(rare), other_label)
    out.name = values.name
    out.attrs["merged_levels"] = len(rare - {other_label})
    return out


def _level_text(v) -> str:
    """A level as published: whole floats without ``.0`` (``1.0`` -> ``"1"``)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)

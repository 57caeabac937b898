"""Write the scored dataset: ``scores.parquet``, ``scores.csv``, ``scores.sav`` (+ ``items.parquet``).

Every file is written atomically (to a temporary name in the same folder, then
``os.replace``), so a reader never sees half a file and an interrupted run leaves
the previous file intact. The same input gives byte-identical files:

* **Parquet** (pyarrow): the DataFrame as is (no index).
* **CSV**: UTF-8 without a byte-order mark, ``\\n`` line ends, a header row,
  floats in Python's shortest round-trip form (``repr``), missing values as
  empty cells (:func:`survey.spreadsheet.write_csv`). Text cells that a
  spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``)
  are neutralized by :func:`survey.spreadsheet.neutralize_formulas`. Excel on a Chinese Windows
  machine needs a BOM to show Chinese text in a CSV correctly: pass
  ``csv_bom=True`` (or give SPSS users the ``.sav``).
* **SPSS** (pyreadstat): column names made SPSS-safe by :func:`spss_names`
  (``rses.total`` -> ``rses_total``); each variable's label holds the readable
  name (the scale's name in ``study.language``) and, when renamed, the original
  column name in brackets, so the mapping travels inside the file. The wave is
  stored as a numeric code 1..k in time order and the arm as 0 (the control arm)
  and 1.. (other arms, sorted), both with value labels; other text columns stay
  text. ReadStat stamps the file with the time of writing; the stamp is fixed to
  ``SOURCE_DATE_EPOCH`` when that environment variable is set and to
  1 Jan 1970 00:00:00 otherwise, so that identical input gives identical bytes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from core.atomic import write_with

SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
SPSS_MAX_NAME_BYTES = 64


def spss_names(columns: Iterable[str]) -> dict:
    """SPSS-safe variable names for column names (a documented, stable mapping).

    Rules: every character other than an ASCII letter, digit or ``_`` becomes
    ``_``; a name that does not start with a letter gets the prefix ``v``; SPSS's
    reserved words (``ALL``, ``AND``, ``BY``, ``EQ``, ``GE``, ``GT``, ``LE``,
    ``LT``, ``NE``, ``NOT``, ``OR``, ``TO``, ``WITH``) get the suffix ``_``;
    names are cut to 64 bytes; a name that collides with an earlier one (case
    insensitively, as SPSS compares them) gets ``_2``, ``_3``, ...

    Parameters
    ----------
    columns : iterable of str

    Returns
    -------
    dict
        Original name -> SPSS name, in the order given.

    Examples
    --------
    >>> spss_names(["student_id", "rses.total", "2nd", "by", "性别"])
    {'student_id': 'student_id', 'rses.total': 'rses_total', '2nd': 'v2nd', 'by': 'by_', '性别': 'v__'}
    """
    out: dict = {}
    taken: set = set()
    for col in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(col))
        if not name or not name[0].isalpha():
            name = "v" + name
        if name.upper() in SPSS_RESERVED:
            name += "_"
        name = name[:SPSS_MAX_NAME_BYTES]
        base, k = name, 2
        while name.lower() in taken:
            suffix = f"_{k}"
            name = base[:SPSS_MAX_NAME_BYTES - len(suffix)] + suffix
            k += 1
        taken.add(name.lower())
        out[col] = name
    return out


def write_scores(scores: pd.DataFrame, out_dir, study=None, items: pd.DataFrame | None = None,
                 *, csv_bom: bool = False) -> dict:
    """Write the scored dataset as Parquet, CSV and SPSS, and the item data as Parquet.

    Parameters
    ----------
    scores : DataFrame
        The scored dataset (:func:`survey.scoring.score`).
    out_dir : str or Path
        Folder to write into (created if needed).
    study : survey.study.Study, optional
        Gives the SPSS variable labels (scale names in ``study.language``), the
        wave order and the control arm. Without it, labels are the column names
        and waves/arms are coded in sorted order.
    items : DataFrame, optional
        Item-level data (not reverse-keyed), written as ``items.parquet``.
    csv_bom : bool
        Start ``scores.csv`` with a UTF-8 byte-order mark (for Excel on Chinese
        Windows). Default False.

    Returns
    -------
    dict
        ``{"parquet": Path, "csv": Path, "sav": Path[, "items": Path]}`` and
        ``"spss_names"``: the column -> SPSS name mapping.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> df = pd.DataFrame({"sid": ["a", "b"], "wave": ["pre", "pre"], "rses.total": [30.0, None]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_scores(df, d)
    ...     print(sorted(p.name for k, p in out.items() if k != "spss_names"))
    ...     print(open(out["csv"], encoding="utf-8").read())
    ['scores.csv', 'scores.parquet', 'scores.sav']
    sid,wave,rses.total
    a,pre,30.0
    b,pre,
    <BLANKLINE>
    >>> out["spss_names"]["rses.total"]
    'rses_total'
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict = {}

    path = out_dir / "scores.parquet"
    write_with(path, lambda tmp: scores.to_parquet(tmp, index=False, engine="pyarrow"))
    written["parquet"] = path

    from survey.spreadsheet import write_csv  # neutralizes formulas, writes atomically

    path = write_csv(scores, out_dir / "scores.csv", bom=csv_bom)
    written["csv"] = path

    path = out_dir / "scores.sav"
    names = _write_sav_atomic(scores, path, study)
    written["sav"] = path
    written["spss_names"] = names

    if items is not None:
        path = out_dir / "items.parquet"
        write_with(path, lambda tmp: items.to_parquet(tmp, index=False, engine="pyarrow"))
        written["items"] = path
    return written


# --------------------------------------------------------------------------- writers

def items_frame(study, data: pd.DataFrame) -> pd.DataFrame:
    """The item-level data of a run (``items.parquet``): the design's structure columns
    (:attr:`core.design.Design.structure`) and every instrument item present, one row per
    validated row, as validated (not reverse-keyed).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from core.design import Design
    >>> study = NS(design=Design(type="pre_post", id="sid", waves=("pre", "post")),
    ...            instruments=[NS(instrument=NS(item_ids=("q1", "q2")))])
    >>> data = pd.DataFrame({"sid": ["a"], "wave": ["pre"], "q1": [3], "q2": [4], "age": [9]})
    >>> list(items_frame(study, data).columns)
    ['sid', 'wave', 'q1', 'q2']
    """
    cols = [*study.design.structure]
    for use in study.instruments:
        cols += list(use.instrument.item_ids)
    cols = [c for c in dict.fromkeys(cols) if c in data.columns]
    return data[cols].reset_index(drop=True)


def write_scored_data(study, data: pd.DataFrame, scores: pd.DataFrame, out_dir) -> dict:
    """Write a study's scored dataset and its item-level data into ``out_dir``.

    The one writer of ``workbench score`` and ``workbench run``: :func:`write_scores` with
    ``items`` from :func:`items_frame`. Returns what :func:`write_scores` returns.
    """
    return write_scores(scores, out_dir, study=study, items=items_frame(study, data))


def _write_sav_atomic(scores: pd.DataFrame, path: Path, study) -> dict:
    import pyreadstat

    names = spss_names(scores.columns)
    df = scores.rename(columns=names)
    labels, value_labels, measure = {}, {}, {}
    design = getattr(study, "design", None)
    scale_names = _scale_names(study)
    lang = getattr(study, "language", "en") or "en"

    for col, new in names.items():
        readable = None
        if col in scale_names:
            readable = _pick(scale_names[col], lang)
            measure[new] = "scale"
        elif design is not None and col == design.id:
            readable = "respondent id (pseudonym)" if lang == "en" else "被调查者编号（假名）"
        label = readable or (col if col != new else None)
        if readable and col != new:
            label = f"{readable} [{col}]"
        elif readable:
            label = readable
        labels[new] = label

    wave_col = design.wave if design is not None else ("wave" if "wave" in scores else None)
    if wave_col in scores.columns and not pd.api.types.is_numeric_dtype(scores[wave_col]):
        order = list(design.waves) if design is not None else []
        order += sorted(set(scores[wave_col].dropna().astype("str")) - set(order))
        codes = {w: float(k) for k, w in enumerate(order, start=1)}
        new = names[wave_col]
        df[new] = scores[wave_col].map(codes).astype("float64").to_numpy()
        value_labels[new] = {v: k for k, v in codes.items()}
        measure[new] = "ordinal"
        labels[new] = labels[new] or ("wave" if lang == "en" else "调查轮次")

    arm_col = design.arm if design is not None else None
    if arm_col and arm_col in scores.columns and not pd.api.types.is_numeric_dtype(scores[arm_col]):
        present = sorted(set(scores[arm_col].dropna().astype("str")))
        control = design.control
        others = [a for a in present if a != control]
        codes = ({control: 0.0} if control is not None else {})
        codes.update({a: float(k) for k, a in enumerate(others, start=1)})
        new = names[arm_col]
        df[new] = scores[arm_col].map(codes).astype("float64").to_numpy()
        value_labels[new] = {v: k for k, v in codes.items()}
        measure[new] = "nominal"
        labels[new] = labels[new] or ("arm" if lang == "en" else "组别")

    # pyreadstat wants object columns for text; pandas 3 string columns are converted
    for c in df.columns:
        if pd.api.types.is_string_dtype(df[c]) and not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), None)

    title = getattr(study, "title", None)
    file_label = _pick(title, lang) if isinstance(title, dict) else ""
    col_labels = [labels.get(c) for c in df.columns]

    def write(tmp):
        pyreadstat.write_sav(df, tmp, file_label=(file_label or "")[:64], column_labels=col_labels,
                             variable_value_labels=value_labels or None,
                             variable_measure=measure or None)
        _fix_sav_timestamp(tmp)

    write_with(path, write)
    return names


def _fix_sav_timestamp(path: str) -> None:
    """Overwrite the creation date/time in a .sav header with a fixed stamp.

    The SAV file header is: record type (4 bytes), product name (60), layout code,
    case size, compression, weight index, case count (4 each), bias (8 bytes),
    then ``creation_date`` (9 bytes, ``dd mmm yy``) at offset 92 and
    ``creation_time`` (8 bytes, ``hh:mm:ss``) at offset 101.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = time.gmtime(int(epoch) if epoch and epoch.isdigit() else 0)
    stamp = time.strftime("%d %b %y", t).encode("ascii") + time.strftime("%H:%M:%S", t).encode("ascii")
    with open(path, "r+b") as fh:
        head = fh.read(4)
        if head not in (b"$FL2", b"$FL3"):
            return
        fh.seek(92)
        fh.write(stamp[:17])


def _scale_names(study) -> dict:
    out = {}
    for use in getattr(study, "instruments", ()) or ():
        inst = use.instrument
        for sc in inst.scales:
            out[f"{inst.id}.{sc.id}"] = sc.name
    for o in getattr(study, "outcomes", ()) or ():
        if o.column is not None and o.column not in out:
            out[o.column] = None
    return {k: v for k, v in out.items() if v}


def _pick(text, lang: str):
    if not text:
        return None
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("en") or text.get("zh") or next(iter(text.values()), None)


__all__ = ["spss_names", "write_scores"]

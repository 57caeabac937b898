"""The study as one run analysed it: a resolved, hashed snapshot in ``RUN/study.json``.

The pipeline loads and validates ``study.yaml`` once (:func:`survey.load_study`), then writes
the resolved study into the run folder: the design, outcomes, instruments (items, keys, scales,
labels), data-source names, privacy settings (``min_cell``, the names of personal-data columns,
never their values), claims, the program's archives, contact logs and protocol (issue 14;
paths relative, dates ``YYYY-MM-DD``), the study's display labels (``labels``: of arms, waves, categories
and columns; a snapshot without them reads as no labels), and the run's effective settings (``language`` after ``-p lang``,
``analysis.seed`` after ``--seed``). Notebooks load this file (:func:`read_snapshot`), never
``study.yaml``: what they analyse is exactly what the manifest recorded, even when
``study.yaml`` changes while a run is going on, and a kernel needs no YAML parser, no JSON
Schema and no instrument files.

The snapshot holds no absolute path (``root`` is ``"."`` and ``path`` the study file's name),
so that a published run does not reveal where the study lives. ``inputs`` repeats the input
files' ``sha256`` from the manifest, which ties the snapshot to the raw files it came from;
``sha256`` of the snapshot itself is in the manifest's outputs.

Format: JSON, UTF-8, sorted keys, ``"format": 1``.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import fields, is_dataclass
from pathlib import Path

from core.atomic import write_text
from core.design import Design
from core.errors import ContractError
from core.protocol import ActivityRule, DateRange, Protocol, TriggerRule

from .instrument import Instrument, Item, License, Response, Scale
from .study import (
    AnalysisSettings,
    Archives,
    Claim,
    ColumnSpec,
    DataSource,
    InstrumentUse,
    Labels,
    Outcome,
    Privacy,
    Study,
    TableSource,
)

SNAPSHOT_NAME = "study.json"
"""File name of the snapshot in a run folder."""

FORMAT = 1


def _plain(value):
    """Dataclasses, tuples, paths and dicts as JSON values."""
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def _relative(path: str, root: Path) -> str:
    """A data path relative to the study folder (its name when it lies elsewhere)."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def study_snapshot(study: Study, *, language: str | None = None, seed: int | None = None,
                   inputs: list | None = None) -> dict:
    """The snapshot of ``study`` as a JSON-ready dict.

    Parameters
    ----------
    study : Study
        A loaded study (:func:`survey.load_study`).
    language : {"zh", "en"}, optional
        The run's language (``-p lang``); default the study's.
    seed : int, optional
        The run's seed (``--seed``); default ``analysis.seed``.
    inputs : list of dict, optional
        The manifest's input records (``role``, ``path``, ``sha256``).

    Returns
    -------
    dict

    Examples
    --------
    >>> from survey import load_study
    >>> snap = study_snapshot(load_study("examples/county-cluster-trial"), language="en")
    >>> snap["study"]["language"], snap["study"]["root"], snap["study"]["design"]["clusters"]
    ('en', '.', ['school_id', 'class_id'])
    """
    plain = _plain(study)
    root = Path(study.root).resolve()
    for src in plain["data"]:
        src["path"] = _relative(src["path"], root)
    for src in plain.get("contacts") or []:
        src["path"] = _relative(src["path"], root)
    for src in (plain.get("archives") or {}).values():
        if src is not None:
            src["path"] = _relative(src["path"], root)
    for use in plain["instruments"]:
        path = use["instrument"].get("path")
        if path is not None:
            use["instrument"]["path"] = Path(path).name
    for key, empty in (("archives", None), ("contacts", []), ("protocol", None)):
        if plain.get(key) == empty:  # a study without program data: the snapshot of before
            plain.pop(key, None)
    plain["root"] = "."
    plain["path"] = Path(study.path).name
    if language is not None:
        plain["language"] = language
    if seed is not None:
        plain["analysis"]["seed"] = int(seed)
    return {"format": FORMAT, "study": plain, "inputs": list(inputs or [])}


def write_snapshot(study: Study, path, **settings) -> Path:
    """Write :func:`study_snapshot` to ``path`` (atomically); returns the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from survey import load_study
    >>> p = write_snapshot(load_study("examples/county-cluster-trial"),
    ...                    pathlib.Path(tempfile.mkdtemp()) / SNAPSHOT_NAME, seed=7)
    >>> read_snapshot(p).analysis.seed
    7
    """
    snap = study_snapshot(study, **settings)
    text = json.dumps(snap, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return write_text(Path(path), text)


def read_snapshot(path) -> Study:
    """Load a snapshot written by :func:`write_snapshot` as a :class:`Study`.

    Raises :class:`ContractError` ``SNAPSHOT_UNREADABLE`` for a file that is not a
    snapshot (or of a newer format), naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from survey import load_study
    >>> p = write_snapshot(load_study("examples/county-cluster-trial"),
    ...                    pathlib.Path(tempfile.mkdtemp()) / SNAPSHOT_NAME)
    >>> s = read_snapshot(p)
    >>> s.design.type, s.outcome("communication").scale, s.privacy.min_cell
    ('cluster_randomized', 'pcc.total', 5)
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
        return _study(raw["study"])
    except FileNotFoundError:
        raise ContractError("SNAPSHOT_MISSING",
                            f"{path}: no study snapshot; run `workbench run STUDY` to create "
                            "the run folder (notebooks read the study from it)",
                            file=str(path)) from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ContractError("SNAPSHOT_UNREADABLE",
                            f"{path}: not a study snapshot of format {FORMAT} ({err})",
                            file=str(path)) from None


def _tuple(values, make=None):
    return tuple(make(v) if make else v for v in (values or ()))


def _instrument(d: dict) -> Instrument:
    resp = d["response"]
    return Instrument(
        id=d["id"], name=d["name"], version=d["version"], construct=d["construct"],
        citation=d["citation"], license=License(**d["license"]),
        response=Response(min=resp["min"], max=resp["max"],
                          labels={int(k): v for k, v in (resp.get("labels") or {}).items()}),
        items=_tuple(d["items"], lambda i: Item(**i)),
        scales=_tuple(d["scales"], lambda s: Scale(**{**s, "items": tuple(s["items"]),
                                                      "subscales": tuple(s["subscales"])})),
        path=Path(d["path"]) if d.get("path") else None,
        test_retest=d.get("test_retest"), notes=d.get("notes"))


def _table(d: dict | None) -> TableSource | None:
    return None if d is None else TableSource(**{**d, "path": Path(d["path"])})


def _range(d: dict) -> DateRange:
    return DateRange(_dt.date.fromisoformat(d["start"]), _dt.date.fromisoformat(d["end"]),
                     d.get("name"))


def _protocol(d: dict | None) -> Protocol | None:
    if d is None:
        return None
    return Protocol(**{
        **d, "start": _dt.date.fromisoformat(d["start"]), "end": _dt.date.fromisoformat(d["end"]),
        "terms": _tuple(d.get("terms"), _range), "holidays": _tuple(d.get("holidays"), _range),
        "activities": _tuple(d.get("activities"), lambda r: ActivityRule(**r)),
        "triggers": _tuple(d.get("triggers"), lambda r: TriggerRule(**r)),
        "arms": _tuple(d.get("arms")), "activity_types": _tuple(d.get("activity_types"))})


def _study(d: dict) -> Study:
    design = d["design"]
    return Study(
        id=d["id"], title=d["title"], language=d["language"],
        design=Design(**{k: tuple(v) if isinstance(v, list) else v for k, v in design.items()}),
        instruments=_tuple(d["instruments"], lambda u: InstrumentUse(
            instrument=_instrument(u["instrument"]), columns=u["columns"])),
        data=_tuple(d["data"], lambda s: DataSource(**{**s, "path": Path(s["path"])})),
        missing_codes=_tuple(d.get("missing_codes")),
        privacy=Privacy(**{k: tuple(v) if isinstance(v, list) else v
                           for k, v in d["privacy"].items()}),
        outcomes=_tuple(d.get("outcomes"), lambda o: Outcome(**o)),
        claims=_tuple(d.get("claims"), lambda c: Claim(**c)),
        analysis=AnalysisSettings(**d["analysis"]),
        columns={k: ColumnSpec(**v) for k, v in (d.get("columns") or {}).items()},
        arms=_tuple(d.get("arms")),
        labels=Labels(**d["labels"]) if d.get("labels") else Labels(),
        archives=(Archives(**{k: _table(v) for k, v in d["archives"].items()})
                  if d.get("archives") else None),
        contacts=_tuple(d.get("contacts"), _table),
        protocol=_protocol(d.get("protocol")),
        root=Path(d.get("root", ".")), path=Path(d.get("path", "study.yaml")))

"""Loading ``study.yaml`` into a :class:`~survey.study.Study`.

The file is validated against ``data-schema/study.schema.json`` (unknown keys,
types and values, with key paths and did-you-mean suggestions), then its
instruments are loaded and the cross-references are checked. Every problem found
is reported at once (an :class:`~core.errors.ErrorList` when there are several).

Defaults and rules (documented in ``data-schema/README.md``):

- ``title``: the id; a single string is used for both languages. ``language``: ``zh``.
- ``design.wave``: ``"wave"``. ``design.waves``: the ``data[].wave`` values in order
  of first appearance; else one wave ``"all"``. A ``design.wave`` column given
  with neither ``waves`` nor ``data[].wave`` is ``STUDY_WAVES_REQUIRED`` (the time
  order of the waves cannot be guessed).
- Labels and column names written as numbers (``waves: [1, 2]``) are read as text.
- If no outcome says ``primary: true``, the first outcome is primary.
- An outcome's ``better`` defaults to its scale's direction (``higher`` for a
  column); its ``test_retest`` to the scale's, then the instrument's.
- ``InstrumentUse.columns`` maps every item id to its data column (the id itself
  unless ``instruments[].items`` maps it).
- ``columns:`` may type only covariate, subgroup and data-column outcome columns; an
  outcome column is always numeric (:meth:`survey.study.Study.column_type`); ``min``/``max``
  (a plausible range) only with ``type: numeric``.
- ``design.arms``: the arm labels (the control label is added when missing); requires
  ``design.arm``. Without it every label in the data is an arm.
- ``privacy.not_pii`` and ``privacy.pii`` may not share a column.
- ``labels.values`` may label the values of the design's columns other than the id (the arm
  and wave columns, clusters, blocks, covariates, subgroups); ``labels.columns`` may name the
  design's columns and data-column outcomes (``STUDY_UNKNOWN_COLUMN`` otherwise, with a
  suggestion). A wave value must be in ``design.waves`` (``STUDY_UNKNOWN_WAVE``); an arm value
  in ``design.arms`` when they are listed (``STUDY_UNKNOWN_ARM``). A label written as one text
  is used for both languages (:class:`~survey.study.Labels`).
- ``archives:`` (roster, guardians, parents, mentors) and ``contacts:`` (one file or a list)
  are :class:`~survey.study.TableSource` files read like data files; their ``columns:`` map
  standard names to headers (``id`` or the design's id name for the child id). For a contact
  log, a guardian or a mentor table an unknown standard name is ``STUDY_UNKNOWN_COLUMN``.
- ``protocol:`` becomes a :class:`core.protocol.Protocol`: ``semester`` is read as ``term``;
  ``arms`` defaults to every arm of ``design.arms`` except the control (empty: every arm in
  the data except the control); ``activity_types`` are the built-in types plus the study's.
  A rule or trigger for an activity that is no activity type is ``STUDY_UNKNOWN_ACTIVITY``;
  a date that does not exist, ``end`` before ``start``, a range whose ``to`` is before its
  ``from`` or a term outside ``start..end`` is ``STUDY_INVALID_VALUE``; an arm the design does
  not have is ``STUDY_UNKNOWN_ARM``; a protocol without contacts is ``STUDY_DESIGN_INCOMPLETE``.
- Data paths are resolved inside the study folder (``STUDY_PATH_OUTSIDE`` otherwise; a
  symbolic link loop is ``STUDY_PATH_INVALID``); whether the files exist is checked when
  the data are read (``FILE_MISSING``).

Cross-check codes: ``STUDY_UNKNOWN_INSTRUMENT``, ``STUDY_INSTRUMENT_NOT_FOUND``,
``STUDY_UNKNOWN_ITEM``, ``STUDY_DUPLICATE_ITEM``, ``STUDY_DUPLICATE_COLUMN``,
``STUDY_DUPLICATE_ID``, ``STUDY_UNKNOWN_SCALE``, ``STUDY_UNKNOWN_OUTCOME``,
``STUDY_UNKNOWN_WAVE``, ``STUDY_UNKNOWN_ARM``, ``STUDY_WAVES_REQUIRED``, ``STUDY_CONTROL_REQUIRED``,
``STUDY_DESIGN_INCOMPLETE``, ``STUDY_OUTCOMES_REQUIRED``, ``STUDY_PII_CONFLICT``,
``STUDY_UNKNOWN_ENCODING``, ``STUDY_PATH_OUTSIDE``, ``STUDY_PATH_INVALID``,
``STUDY_UNKNOWN_COLUMN``, ``STUDY_COLUMN_TYPE_CONFLICT``, ``STUDY_UNKNOWN_ACTIVITY``, ``STUDY_INVALID_VALUE`` (a wave or
arm label listed twice once read as text: ``waves: [1, '1']``; ``columns:`` min not below max).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import re
from dataclasses import replace
from pathlib import Path

from core.design import Design
from core.errors import ContractError, ErrorList, WorkbenchError
from core.paths import resolve_in_study
from core.protocol import ACTIVITY_TYPES, ActivityRule, DateRange, Protocol, TriggerRule
from core.suggest import did_you_mean

from .instrument_loader import bundled_ids, load_instrument, merge_text
from .schema import check, contract_error, format_path, raise_errors, read_yaml
from .study import (
    ARCHIVE_COLUMNS,
    ARCHIVE_TABLES,
    CONTACT_COLUMNS,
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

STUDY_FILE = "study.yaml"


def _as_tuple(v) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, (list, tuple)):
        return tuple(str(x) for x in v)
    return (str(v),)


def _opt_str(v) -> str | None:
    return None if v is None else str(v)


def _is_link_loop(path: Path) -> bool:
    """Whether ``path`` cannot be resolved because of a symbolic link loop."""
    try:
        path.resolve(strict=False)
    except (RuntimeError, OSError):  # "Symlink loop" (RuntimeError before Python 3.13)
        return True
    return False


def _unique_as_text(labels: tuple, path: tuple, what: str, err) -> None:
    """Labels are read as text: ``[1, '1']`` lists one label twice (``STUDY_INVALID_VALUE``)."""
    seen: dict[str, int] = {}
    for k, label in enumerate(labels):
        if label in seen:
            err("STUDY_INVALID_VALUE", f"{format_path(path)} lists the {what} {label!r} twice "
                f"(items {seen[label]} and {k}; labels are read as text, so 1 and '1' are the same "
                f"{what}); expected each {what} once", path + (k,))
        seen.setdefault(label, k)


def load_study(folder_or_yaml) -> Study:
    """Load and check a study: a folder holding ``study.yaml``, or the file itself.

    Parameters
    ----------
    folder_or_yaml : str or Path

    Returns
    -------
    Study
        With ``root`` the study folder and ``path`` the study file (both absolute).

    Raises
    ------
    ContractError or ErrorList
        Every problem of the file, each naming the file, the key path and the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "study.yaml").write_text(
    ...     "id: demo\\ndesign: {type: cross_sectional, id: sid}\\ndata: [{path: data/survey.csv}]\\n",
    ...     encoding="utf-8")
    >>> study = load_study(folder)
    >>> study.design.waves, study.data[0].path.name
    (('all',), 'survey.csv')
    """
    given = Path(folder_or_yaml)
    if given.is_dir():
        yaml_path = given / STUDY_FILE
        if not yaml_path.exists() and (given / "study.yml").exists():
            yaml_path = given / "study.yml"
        if not yaml_path.exists():
            raise ContractError("STUDY_NOT_FOUND", f"no {STUDY_FILE} in this folder "
                                "(create one with `workbench init FOLDER`)", file=str(given))
    else:
        yaml_path = given
    display = str(yaml_path)
    data, lines = read_yaml(yaml_path, prefix="STUDY", display=display)
    locate = lines.locate
    raise_errors(check(data, "study", file=display, prefix="STUDY", locate=locate))
    root = yaml_path.resolve().parent
    return _build(data, root=root, yaml_path=yaml_path.resolve(), display=display, locate=locate)


def _build(data: dict, *, root: Path, yaml_path: Path, display: str, locate) -> Study:
    """The :class:`Study` of a schema-valid mapping, or every cross-check problem at once."""
    b = _StudyBuilder(root=root, display=display, locate=locate)
    sources = b.sources(data["data"])
    design, arms = b.design(data["design"], data["data"])
    uses, use_paths, n_failed = b.instruments(data.get("instruments") or [])
    b.check_instrument_overlap(uses, use_paths)
    outcomes = b.outcomes(data.get("outcomes") or [], uses, n_failed, design.type)
    claims = b.claims(data.get("claims") or [], outcomes)
    pz = data.get("privacy") or {}
    pii, not_pii = b.privacy(pz, design, "wave" in data["design"], outcomes, uses)
    columns = b.column_specs(data.get("columns") or {}, design, outcomes)
    labels = b.labels(data.get("labels") or {}, design, arms, outcomes)
    b.check_roles(design, "wave" in data["design"], uses, use_paths, outcomes)
    archives = b.archives(data.get("archives"), design)
    contacts = b.contacts(data.get("contacts"), design)
    protocol = b.protocol(data.get("protocol"), design, arms, bool(contacts) or "contacts" in data)
    raise_errors(b.errors)
    title = data.get("title", data["id"])
    if isinstance(title, str):
        title = {"en": title, "zh": title}
    az = data.get("analysis") or {}
    defaults = AnalysisSettings()
    return Study(
        id=data["id"],
        title=dict(title),
        language=data.get("language", "zh"),
        design=design,
        instruments=tuple(uses),
        data=tuple(sources),
        missing_codes=tuple(data.get("missing_codes") or ()),
        privacy=Privacy(pii=pii, min_cell=int(pz.get("min_cell", 5)), not_pii=not_pii),
        outcomes=tuple(outcomes),
        claims=tuple(claims),
        analysis=AnalysisSettings(alpha=float(az.get("alpha", defaults.alpha)),
                                  adjust=az.get("adjust", defaults.adjust),
                                  seed=int(az.get("seed", defaults.seed))),
        columns=columns,
        arms=arms,
        labels=labels,
        archives=archives,
        contacts=contacts,
        protocol=protocol,
        root=root,
        path=yaml_path,
    )


class _StudyBuilder:
    """The cross-checks of one study file, section by section; ``errors`` collects them all."""

    def __init__(self, *, root: Path, display: str, locate):
        self.root = root
        self.display = display
        self.locate = locate
        self.errors: list[WorkbenchError] = []

    def err(self, code, msg, path) -> None:
        self.errors.append(contract_error(code, msg, file=self.display, path=path, locate=self.locate))

    def resolve(self, rel, path) -> Path | None:
        """A path of the file resolved inside the study folder, or None (the error recorded)."""
        try:
            return resolve_in_study(self.root, rel, file=self.display, key_path=format_path(path))
        except ContractError as e:
            extra = self.locate(path)
            if extra.get("where"):
                e = ContractError(e.code, f"{e.message} ({extra['where']})", file=e.file, column=e.column)
            self.errors.append(e)
            return None

    # ---------------------------------------------------------------- data sources
    def sources(self, entries: list) -> list[DataSource]:
        """``data:``: paths inside the folder, known encodings, no symbolic link loops."""
        sources = []
        for i, d in enumerate(entries):
            p = self.resolve(d["path"], ("data", i, "path"))
            enc = d.get("encoding")
            if enc is not None:
                try:
                    codecs.lookup(enc)
                except LookupError:
                    self.err("STUDY_UNKNOWN_ENCODING", f"found encoding {enc!r}; expected a known text "
                             "encoding such as utf-8, gbk or gb18030 (or leave it out to detect it)",
                             ("data", i, "encoding"))
            if p is not None and _is_link_loop(p):
                self.err("STUDY_PATH_INVALID", f"found {d['path']!r}, a symbolic link loop (a link that "
                         "points, directly or through others, back to itself); expected a data file",
                         ("data", i, "path"))
                p = None
            if p is not None:
                sources.append(DataSource(path=p, wave=_opt_str(d.get("wave")), sheet=d.get("sheet"),
                                          encoding=enc, platform=d.get("platform"),
                                          codes=d.get("codes")))
        return sources

    # ---------------------------------------------------------------- program data (issue 14)
    def table(self, entry: dict, path: tuple, standard: tuple | None, design: Design) -> TableSource | None:
        """One archive table or contact log: a path inside the folder, a known encoding,
        ``columns:`` keys that are standard names (when ``standard`` is given)."""
        p = self.resolve(entry["path"], path + ("path",))
        enc = entry.get("encoding")
        if enc is not None:
            try:
                codecs.lookup(enc)
            except LookupError:
                self.err("STUDY_UNKNOWN_ENCODING", f"found encoding {enc!r}; expected a known text "
                         "encoding such as utf-8, gbk or gb18030 (or leave it out to detect it)",
                         path + ("encoding",))
        if p is not None and _is_link_loop(p):
            self.err("STUDY_PATH_INVALID", f"found {entry['path']!r}, a symbolic link loop; "
                     "expected a data file", path + ("path",))
            p = None
        columns = {}
        for key, header in (entry.get("columns") or {}).items():
            name = "id" if key == design.id else str(key)
            if standard is not None and name not in standard:
                self.err("STUDY_UNKNOWN_COLUMN", f"{format_path(path + ('columns',))} maps {key!r}, "
                         f"which is not a column of this table{did_you_mean(name, standard)}; expected "
                         f"one of {', '.join(standard)} (id is the child id, {design.id})",
                         path + ("columns", key))
                continue
            columns[name] = str(header)
        if p is None:
            return None
        return TableSource(path=p, columns=columns, sheet=entry.get("sheet"), encoding=enc,
                           platform=entry.get("platform"))

    def archives(self, az: dict | None, design: Design) -> Archives | None:
        """``archives:``: the declared tables (roster, guardians, parents, mentors)."""
        if not az:
            return None
        tables = {}
        for name in ARCHIVE_TABLES:
            if name in az:
                standard = None if name in ("roster", "parents") else ARCHIVE_COLUMNS[name]
                tables[name] = self.table(az[name], ("archives", name), standard, design)
        return Archives(**tables)

    def contacts(self, cz, design: Design) -> tuple[TableSource, ...]:
        """``contacts:``: one contact log or a list of them."""
        if cz is None:
            return ()
        if isinstance(cz, dict):
            entries = [(cz, ("contacts",))]
        else:
            entries = [(e, ("contacts", i)) for i, e in enumerate(cz)]
        out = [self.table(e, p, CONTACT_COLUMNS, design) for e, p in entries]
        return tuple(t for t in out if t is not None)

    def _date(self, text, path: tuple) -> _dt.date | None:
        try:
            return _dt.date.fromisoformat(str(text))
        except ValueError:
            self.err("STUDY_INVALID_VALUE", f"found {text!r}, which is not a date of the calendar; "
                     "expected a date written YYYY-MM-DD (e.g. 2024-03-01)", path)
            return None

    def _ranges(self, entries: list, key: str, start, end) -> tuple[DateRange, ...]:
        out = []
        for i, r in enumerate(entries or []):
            path = ("protocol", key, i)
            lo, hi = self._date(r["from"], path + ("from",)), self._date(r["to"], path + ("to",))
            if lo is None or hi is None:
                continue
            name = None if r.get("name") is None else str(r["name"])
            if hi < lo:
                self.err("STUDY_INVALID_VALUE", f"protocol.{key}[{i}] ends ({hi}) before it starts "
                         f"({lo}); expected to on or after from", path + ("to",))
                continue
            if key == "terms" and start is not None and end is not None and (lo < start or hi > end):
                self.err("STUDY_INVALID_VALUE", f"the term {name or i!r} ({lo} to {hi}) is not inside "
                         f"the delivery period protocol.start..protocol.end ({start} to {end}); expected "
                         "terms inside it", path + ("from" if lo < start else "to",))
                continue
            out.append(DateRange(lo, hi, name))
        return tuple(out)

    def protocol(self, pz: dict | None, design: Design, arms: tuple, has_contacts: bool) -> Protocol | None:
        """``protocol:`` as a :class:`core.protocol.Protocol` (see the module docstring)."""
        if pz is None:
            return None
        if not has_contacts:
            self.err("STUDY_DESIGN_INCOMPLETE", "protocol: says what each child should receive, "
                     "but the study has no contact log; expected contacts: (the log of what was "
                     "delivered) next to protocol:", ("protocol",))
        start = self._date(pz["start"], ("protocol", "start"))
        end = self._date(pz["end"], ("protocol", "end"))
        if start is not None and end is not None and end < start:
            self.err("STUDY_INVALID_VALUE", f"protocol.end ({end}) is before protocol.start "
                     f"({start}); expected the last day of delivery on or after the first",
                     ("protocol", "end"))
            end = None
        terms = self._ranges(pz.get("terms"), "terms", start, end)
        holidays = self._ranges(pz.get("holidays"), "holidays", start, end)
        types = tuple(dict.fromkeys((*ACTIVITY_TYPES, *(pz.get("activity_types") or ()))))
        rules = []
        for name, rule in (pz.get("activities") or {}).items():
            if name not in types:
                self.err("STUDY_UNKNOWN_ACTIVITY", f"protocol.activities has a rule for {name!r}, "
                         f"which is not an activity type{did_you_mean(name, types)}; expected one of "
                         f"{', '.join(types)} (add a type of your own under protocol.activity_types)",
                         ("protocol", "activities", name))
                continue
            per = "term" if rule["per"] == "semester" else rule["per"]
            rules.append(ActivityRule(name, per=per, min=int(rule.get("min", 1))))
        triggers = []
        for name, rule in (pz.get("triggers") or {}).items():
            act = rule["activity"]
            if act not in types:
                self.err("STUDY_UNKNOWN_ACTIVITY", f"the trigger {name!r} requires {act!r}, which is "
                         f"not an activity type{did_you_mean(act, types)}; expected one of "
                         f"{', '.join(types)}", ("protocol", "triggers", name, "activity"))
                continue
            triggers.append(TriggerRule(name, activity=act, within_days=int(rule.get("within_days", 7))))
        program_arms = _as_tuple(pz.get("arms"))
        if program_arms and design.arm is None:
            self.err("STUDY_DESIGN_INCOMPLETE", "protocol.arms names arms but the design has no arm "
                     "column; expected design.arm and design.control", ("protocol", "arms"))
        elif program_arms and arms:
            for k, a in enumerate(program_arms):
                if a not in arms:
                    self.err("STUDY_UNKNOWN_ARM", f"protocol.arms names {a!r}, which is not an arm of "
                             f"design.arms{did_you_mean(a, arms)}; expected one of {', '.join(arms)}",
                             ("protocol", "arms", k))
        if not program_arms:
            program_arms = tuple(a for a in arms if a != design.control)
        if start is None or end is None:
            return None
        defaults = Protocol(start=start, end=end)
        protocol = Protocol(start=start, end=end, terms=terms, holidays=holidays,
                            activities=tuple(rules), triggers=tuple(triggers),
                            max_children_per_mentor=pz.get("max_children_per_mentor"),
                            arms=program_arms, activity_types=types,
                            received_share=float(pz.get("received_share", defaults.received_share)),
                            min_school_share=float(pz.get("min_school_share",
                                                          defaults.min_school_share)))
        for key, message in protocol.problems():  # what the protocol itself finds unsound
            path = ("protocol", *(int(x) if x.isdigit() else x
                                  for x in re.findall(r"[^.\[\]]+", key)))
            self.err("STUDY_INVALID_VALUE", f"{format_path(path)} {message}", path)
        return protocol

    # ---------------------------------------------------------------- design
    def waves(self, dz: dict, entries: list) -> tuple[str, ...]:
        """``design.waves``, else the ``data[].wave`` values in order, else ``("all",)``."""
        data_waves = []
        for d in entries:
            w = _opt_str(d.get("wave"))
            if w is not None and w not in data_waves:
                data_waves.append(w)
        if "waves" in dz:
            waves = _as_tuple(dz["waves"])
            _unique_as_text(waves, ("design", "waves"), "wave", self.err)
            waves = tuple(dict.fromkeys(waves))
            for i, d in enumerate(entries):
                w = _opt_str(d.get("wave"))
                if w is not None and w not in waves:
                    near = [x for x in waves if x.strip().lower() == w.strip().lower()]
                    why = (f" (it differs from {near[0]!r} only by case or spaces)" if near
                           else did_you_mean(w, waves))
                    self.err("STUDY_UNKNOWN_WAVE", f"found wave {w!r}; expected one of design.waves: "
                             f"{', '.join(waves)}{why}", ("data", i, "wave"))
            return waves
        if data_waves:
            return tuple(data_waves)
        if "wave" in dz:
            self.err("STUDY_WAVES_REQUIRED", f"design.wave names the column {str(dz['wave'])!r} but the "
                     "waves' time order is not given; expected design.waves (e.g. [baseline, endline]) "
                     "or a wave for each data file", ("design", "wave"))
        return ("all",)

    def design(self, dz: dict, entries: list) -> tuple[Design, tuple[str, ...]]:
        """``(Design, arm labels)``: the columns each design type needs, arms with a control."""
        dtype = dz["type"]
        waves = self.waves(dz, entries)
        arm = _opt_str(dz.get("arm"))
        control = _opt_str(dz.get("control"))
        arms = _as_tuple(dz.get("arms"))
        _unique_as_text(arms, ("design", "arms"), "arm", self.err)
        arms = tuple(dict.fromkeys(arms))
        if arms and arm is None:
            self.err("STUDY_DESIGN_INCOMPLETE", "design.arms lists arm labels but design.arm (the arm "
                     "column) is not set; expected design.arm", ("design", "arms"))
        if arms and control is not None and control not in arms:
            arms = (control,) + arms  # the control label is always an arm
        clusters = _as_tuple(dz.get("clusters"))
        if arm is not None and control is None:
            self.err("STUDY_CONTROL_REQUIRED", f"design.arm is {arm!r} but design.control is missing; "
                     "expected the label of the comparison arm (e.g. control: control)", ("design", "arm"))
        if control is not None and arm is None:
            self.err("STUDY_DESIGN_INCOMPLETE", "design.control is set but design.arm is not; expected "
                     "the arm column", ("design", "control"))
        if dtype == "pre_post" and len(waves) < 2:
            self.err("STUDY_DESIGN_INCOMPLETE", f"a pre_post design needs at least 2 waves; found "
                     f"{len(waves)} ({', '.join(waves)})", ("design", "type"))
        if dtype in ("controlled", "randomized", "cluster_randomized") and arm is None:
            self.err("STUDY_DESIGN_INCOMPLETE", f"a {dtype} design compares arms; expected design.arm "
                     "(the arm column) and design.control", ("design", "type"))
        if dtype == "cluster_randomized" and not clusters:
            self.err("STUDY_DESIGN_INCOMPLETE", "a cluster_randomized design needs design.clusters (e.g. "
                     "[school_id]); expected at least one cluster column", ("design", "type"))
        design = Design(type=dtype, id=str(dz["id"]), wave=str(dz.get("wave", "wave")), waves=waves,
                        arm=arm, control=control, clusters=clusters, blocks=_opt_str(dz.get("blocks")),
                        covariates=_as_tuple(dz.get("covariates")),
                        subgroups=_as_tuple(dz.get("subgroups")))
        return design, arms

    # ---------------------------------------------------------------- instruments
    def instruments(self, entries: list) -> tuple[list[InstrumentUse], list[tuple], int]:
        """``(uses, their key paths, number of instruments that failed to load)``."""
        uses: list[InstrumentUse] = []
        use_paths: list[tuple] = []
        n_failed = 0  # instruments that could not be loaded (their errors are reported already)
        known = bundled_ids()
        for i, entry in enumerate(entries):
            inst = self._load_instrument(i, entry, known)
            if inst is None:
                n_failed += 1
                continue
            columns = {item_id: item_id for item_id in inst.item_ids}
            for item_id, col in (entry.get("items") or {}).items():
                if item_id not in columns:
                    self.err("STUDY_UNKNOWN_ITEM", f"found item {item_id!r}, which instrument {inst.id!r} "
                             f"does not have{did_you_mean(item_id, inst.item_ids)}",
                             ("instruments", i, "items", item_id))
                else:
                    columns[item_id] = str(col)
            uses.append(InstrumentUse(instrument=inst, columns=columns))
            use_paths.append(("instruments", i))
        return uses, use_paths, n_failed

    def _load_instrument(self, i: int, entry: dict, known: list):
        """``instruments[i]`` loaded (bundled id or file, item text merged), or None (errors recorded)."""
        text_path = None
        if "text" in entry:
            text_path = self.resolve(entry["text"], ("instruments", i, "text"))
            if text_path is None:
                return None
            if not text_path.is_file():
                self.err("STUDY_INSTRUMENT_NOT_FOUND", f"item-text file {entry['text']!r} not found in the "
                         "study folder", ("instruments", i, "text"))
                return None
        if "id" in entry:
            iid = entry["id"]
            if iid not in known:
                self.err("STUDY_UNKNOWN_INSTRUMENT", f"found {iid!r}, which is not a bundled instrument"
                         f"{did_you_mean(iid, known)}; expected one of {', '.join(known) or '(none)'} "
                         "(or use path: for your own instrument file)", ("instruments", i, "id"))
                return None
            source, shown = iid, None
        else:
            p = self.resolve(entry["path"], ("instruments", i, "path"))
            if p is None:
                return None
            if p.suffix.lower() not in (".yaml", ".yml", ".xlsx"):
                self.err("STUDY_INSTRUMENT_NOT_FOUND", f"found {entry['path']!r}; expected an instrument "
                         "file ending in .yaml, .yml or .xlsx", ("instruments", i, "path"))
                return None
            if not p.is_file():
                self.err("STUDY_INSTRUMENT_NOT_FOUND", f"instrument file {entry['path']!r} not found in the "
                         "study folder", ("instruments", i, "path"))
                return None
            source, shown = p, str(entry["path"])
        try:
            inst = load_instrument(source, display=shown)
            if text_path is not None:
                inst = merge_text(inst, text_path, display=str(entry["text"]))
        except ErrorList as e:
            self.errors.extend(e.errors)
            return None
        except ContractError as e:
            self.errors.append(e)
            return None
        return inst

    def check_instrument_overlap(self, uses: list, use_paths: list) -> None:
        """Each instrument once; item ids unique across instruments; one item per column."""
        first_item: dict[str, tuple] = {}
        first_inst: dict[str, tuple] = {}
        first_col: dict[str, tuple] = {}
        for use, p in zip(uses, use_paths):
            if use.id in first_inst:
                self.err("STUDY_DUPLICATE_ID", f"instrument {use.id!r} is used twice (also at "
                         f"{format_path(first_inst[use.id])}); expected each instrument once", p)
                continue
            first_inst[use.id] = p
            for item_id in use.instrument.item_ids:
                if item_id in first_item:
                    other = first_item[item_id]
                    self.err("STUDY_DUPLICATE_ITEM", f"item id {item_id!r} of {use.id!r} is also an item of "
                             f"{other[1]!r} ({format_path(other[0])}); expected item ids unique across the "
                             "study's instruments", p)
                else:
                    first_item[item_id] = (p, use.id)
            for item_id, col in use.columns.items():
                if col in first_col and first_col[col][1] != item_id:
                    self.err("STUDY_DUPLICATE_COLUMN", f"column {col!r} holds item {item_id!r} and item "
                             f"{first_col[col][1]!r}; expected one column per item", p + ("items",))
                first_col.setdefault(col, (p, item_id))

    # ---------------------------------------------------------------- outcomes and claims
    def outcomes(self, entries: list, uses: list, n_failed: int, dtype: str) -> list[Outcome]:
        """Outcomes with ``better`` and ``test_retest`` from their scale; the first is primary
        when none says so."""
        by_inst = {u.id: u.instrument for u in uses}
        all_scales = [f"{u.id}.{s.id}" for u in uses for s in u.instrument.scales]
        outcomes: list[Outcome] = []
        seen_ids: dict[str, int] = {}
        for i, o in enumerate(entries):
            if o["id"] in seen_ids:
                self.err("STUDY_DUPLICATE_ID", f"outcome id {o['id']!r} is used twice (first at "
                         f"outcomes[{seen_ids[o['id']]}]); expected unique ids", ("outcomes", i, "id"))
            seen_ids.setdefault(o["id"], i)
            better = o.get("better")
            test_retest = o.get("test_retest")
            if "scale" in o:
                scale, inst = self._outcome_scale(i, o["scale"], by_inst, all_scales, n_failed)
                if scale is not None:
                    better = better or scale.better
                    if test_retest is None:
                        test_retest = scale.test_retest if scale.test_retest is not None else inst.test_retest
            outcomes.append(Outcome(id=o["id"], scale=o.get("scale"), column=_opt_str(o.get("column")),
                                    better=better or "higher", primary=bool(o.get("primary", False)),
                                    test_retest=None if test_retest is None else float(test_retest)))
        if outcomes and not any(o.primary for o in outcomes):
            outcomes[0] = replace(outcomes[0], primary=True)
        if not outcomes and dtype != "cross_sectional":
            self.err("STUDY_OUTCOMES_REQUIRED", f"a {dtype} design tests effects on outcomes; expected an "
                     "outcomes: list (a scale such as rses.total, or a data column)", ("design", "type"))
        return outcomes

    def _outcome_scale(self, i: int, name: str, by_inst: dict, all_scales: list, n_failed: int):
        """``(scale, instrument)`` that ``outcomes[i].scale`` names; scale None when unknown."""
        inst_id, scale_id = name.split(".", 1)
        inst = by_inst.get(inst_id)
        scale = None
        if inst is not None:
            try:
                scale = inst.scale(scale_id)
            except KeyError:
                scale = None
        if scale is None and inst is None and n_failed:
            pass  # its instrument failed to load: that error is reported, not a second one
        elif scale is None:
            what = (f"instrument {inst_id!r} has no scale {scale_id!r}" if inst is not None else
                    f"the study has no instrument {inst_id!r}")
            options = ", ".join(all_scales) or "none (add the instrument under instruments:)"
            self.err("STUDY_UNKNOWN_SCALE", f"found {name!r}: {what}{did_you_mean(name, all_scales)}; "
                     f"expected one of {options}", ("outcomes", i, "scale"))
        return scale, inst

    def claims(self, entries: list, outcomes: list) -> list[Claim]:
        """Claims with unique ids, each naming an outcome of the study (if any)."""
        claims = []
        seen_claims: dict[str, int] = {}
        outcome_ids = [o.id for o in outcomes]
        for i, c in enumerate(entries):
            if c["id"] in seen_claims:
                self.err("STUDY_DUPLICATE_ID", f"claim id {c['id']!r} is used twice (first at "
                         f"claims[{seen_claims[c['id']]}]); expected unique ids", ("claims", i, "id"))
            seen_claims.setdefault(c["id"], i)
            oc = c.get("outcome")
            if oc is not None and oc not in outcome_ids:
                self.err("STUDY_UNKNOWN_OUTCOME", f"found outcome {oc!r}, which is not an outcome id"
                         f"{did_you_mean(oc, outcome_ids)}; expected one of "
                         f"{', '.join(outcome_ids) or '(no outcomes)'}", ("claims", i, "outcome"))
            claims.append(Claim(id=c["id"], text=c["text"], outcome=oc, proportion=float(c["proportion"]),
                                n=int(c["n"]), improved=c.get("improved", "reliable_change")))
        return claims

    # ---------------------------------------------------------------- privacy
    def privacy(self, pz: dict, design: Design, wave_given: bool, outcomes: list,
                uses: list) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(pii, not_pii)``: no column both personal and needed, or both pii and not_pii."""
        pii = _as_tuple(pz.get("pii"))
        needed = {design.id: "design.id (it is pseudonymized automatically; do not list it)"}
        for name, val in (("design.arm", design.arm), ("design.blocks", design.blocks)):
            if val:
                needed[val] = name
        for c in design.clusters:
            needed[c] = "design.clusters"
        for c in design.covariates:
            needed[c] = "design.covariates"
        for c in design.subgroups:
            needed[c] = "design.subgroups"
        if wave_given:
            needed[design.wave] = "design.wave"
        for o in outcomes:
            if o.column:
                needed[o.column] = f"outcome {o.id!r}"
        for u in uses:
            for item_id, col in u.columns.items():
                needed.setdefault(col, f"item {item_id!r} of {u.id!r}")
        for k, col in enumerate(pii):
            if col in needed:
                self.err("STUDY_PII_CONFLICT", f"column {col!r} is listed as personal data (dropped when "
                         f"data are read) but is needed as {needed[col]}; expected only personal columns "
                         "such as names and phone numbers", ("privacy", "pii", k)
                         if isinstance(pz.get("pii"), list) else ("privacy", "pii"))
        not_pii = _as_tuple(pz.get("not_pii"))
        pii_keys = {c.strip().casefold(): c for c in pii}
        for k, col in enumerate(not_pii):
            if col.strip().casefold() in pii_keys:
                self.err("STUDY_PII_CONFLICT", f"column {col!r} is listed both in privacy.pii (personal "
                         "data) and in privacy.not_pii (not personal data); expected it in one of them",
                         ("privacy", "not_pii", k) if isinstance(pz.get("not_pii"), list)
                         else ("privacy", "not_pii"))
        return pii, not_pii

    # ---------------------------------------------------------------- column types
    def column_specs(self, entries: dict, design: Design, outcomes: list) -> dict[str, ColumnSpec]:
        """``columns:``: only covariate, subgroup and outcome columns; ranges only on numbers."""
        columns = {}
        typed_roles = {str(c): "design.covariates" for c in design.covariates}
        typed_roles.update({str(c): "design.subgroups" for c in design.subgroups})
        typed_roles.update({o.column: f"outcome {o.id!r}" for o in outcomes if o.column})
        for col, spec in entries.items():
            col = str(col)
            if col not in typed_roles:
                self.err("STUDY_UNKNOWN_COLUMN", f"columns: names {col!r}, which is not a covariate, "
                         f"subgroup or outcome column{did_you_mean(col, list(typed_roles))}; expected one "
                         f"of {', '.join(typed_roles) or '(none: the design names no covariates or subgroups)'}",
                         ("columns", col))
                continue
            if spec["type"] == "categorical" and typed_roles[col].startswith("outcome"):
                self.err("STUDY_COLUMN_TYPE_CONFLICT", f"column {col!r} is {typed_roles[col]}, which must be "
                         "numeric; found type: categorical (expected numeric, or no entry)",
                         ("columns", col, "type"))
                continue
            lo, hi = spec.get("min"), spec.get("max")
            if (lo is not None or hi is not None) and spec["type"] != "numeric":
                self.err("STUDY_COLUMN_TYPE_CONFLICT", f"column {col!r} has min/max but type: "
                         f"{spec['type']}; expected type: numeric (a range applies to numbers)",
                         ("columns", col, "min" if lo is not None else "max"))
                continue
            if lo is not None and hi is not None and not lo < hi:
                self.err("STUDY_INVALID_VALUE", f"columns.{col}: found min {lo:g} and max {hi:g}; expected "
                         "min < max", ("columns", col, "max"))
                continue
            columns[col] = ColumnSpec(type=spec["type"], min=None if lo is None else float(lo),
                                      max=None if hi is None else float(hi))
        return columns

    # ---------------------------------------------------------------- labels
    def labels(self, entries: dict, design: Design, arms: tuple, outcomes: list) -> Labels:
        """``labels:``: values of the design's columns, names of its columns, both languages."""
        def text(label) -> dict:
            return {"en": label, "zh": label} if isinstance(label, str) else \
                {"en": label["en"], "zh": label["zh"]}

        valued = [c for c in design.columns if c != design.id]
        values: dict[str, dict] = {}
        for col, mapping in (entries.get("values") or {}).items():
            col = str(col)
            if col not in valued:
                why = (" (respondent ids are not labelled)" if col == design.id
                       else did_you_mean(col, valued))
                self.err("STUDY_UNKNOWN_COLUMN", f"labels.values names {col!r}, which is not a column "
                         f"of the design{why}; expected one of {', '.join(valued)}", ("labels", "values", col))
                continue
            known, what, code = None, "", ""
            if col == design.wave:
                known, what, code = design.waves, "design.waves", "STUDY_UNKNOWN_WAVE"
            elif col == design.arm and arms:
                known, what, code = arms, "design.arms", "STUDY_UNKNOWN_ARM"
            out = {}
            for value, label in mapping.items():
                value = str(value)
                if known is not None and value not in known:
                    near = [x for x in known if x.strip().lower() == value.strip().lower()]
                    why = (f" (it differs from {near[0]!r} only by case or spaces)" if near
                           else did_you_mean(value, known))
                    self.err(code, f"labels.values.{col} labels {value!r}, which is not one of {what}: "
                             f"{', '.join(known)}{why}; expected a value the study has",
                             ("labels", "values", col, value))
                    continue
                out[value] = text(label)
            values[col] = out
        named = list(dict.fromkeys((*design.columns, *(o.column for o in outcomes if o.column))))
        columns: dict[str, dict] = {}
        for col, label in (entries.get("columns") or {}).items():
            col = str(col)
            if col not in named:
                self.err("STUDY_UNKNOWN_COLUMN", f"labels.columns names {col!r}, which is not a column "
                         f"of the design or a data-column outcome{did_you_mean(col, named)}; expected one "
                         f"of {', '.join(named)}", ("labels", "columns", col))
                continue
            columns[col] = text(label)
        return Labels(values=values, columns=columns)

    # ---------------------------------------------------------------- one role per column
    def check_roles(self, design: Design, wave_given: bool, uses: list, use_paths: list,
                    outcomes: list) -> None:
        """A data column read as two things (the id and the wave, an item and a covariate, ...)
        cannot be both; covariates and subgroups may share a column (gender is often both),
        and a data-column outcome may be an item or a covariate (a single-item outcome, a
        long-format score adjusted for)."""
        role_of: dict[str, tuple[str, str]] = {}
        compatible = ({"item", "outcome"}, {"outcome", "covariate/subgroup"})

        def claim(col, kind, label, path):
            col = str(col)
            if col in role_of and role_of[col][0] != kind and \
                    {role_of[col][0], kind} not in compatible:
                self.err("STUDY_DUPLICATE_COLUMN", f"column {col!r} is used as {role_of[col][1]} and as "
                         f"{label}; expected one role per data column", path)
            role_of.setdefault(col, (kind, label))

        claim(design.id, "id", "design.id", ("design", "id"))
        if wave_given or len(design.waves) > 1:
            claim(design.wave, "wave", "design.wave" if wave_given else "the wave column "
                  "(design.wave defaults to 'wave')", ("design", "wave") if wave_given else ("design",))
        if design.arm:
            claim(design.arm, "arm", "design.arm", ("design", "arm"))
        for c in design.clusters:
            claim(c, "cluster", "a cluster (design.clusters)", ("design", "clusters"))
        if design.blocks:
            claim(design.blocks, "blocks", "design.blocks", ("design", "blocks"))
        for use, p in zip(uses, use_paths):
            for item_id, col in use.columns.items():
                claim(col, "item", f"item {item_id!r} of {use.id!r}", p + ("items",))
        for i, o in enumerate(outcomes):
            if o.column:
                claim(o.column, "outcome", f"outcome {o.id!r}", ("outcomes", i, "column"))
        for key in ("covariates", "subgroups"):
            for c in getattr(design, key):
                claim(c, "covariate/subgroup", f"design.{key}", ("design", key))

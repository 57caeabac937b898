"""Loading instruments: bundled ones by id, YAML files and XLSForms by path.

An instrument file is validated against ``data-schema/instrument.schema.json``
and then cross-checked:

========================================  ======================================================
code                                      problem
========================================  ======================================================
``INSTRUMENT_RESPONSE_RANGE``             ``response.min >= response.max``, or a label code outside it
``INSTRUMENT_DUPLICATE_ID``               an item or scale id used twice, or an item twice in a scale
``INSTRUMENT_UNKNOWN_ITEM``               a scale names an item the instrument does not have
``INSTRUMENT_ITEM_IN_TWO_SCALES``         an item listed in two item-listed scales
``INSTRUMENT_UNKNOWN_SUBSCALE``           a composite scale names an unknown subscale, or itself
``INSTRUMENT_MIN_ITEMS``                  ``min_items`` larger than the scale's number of items
``INSTRUMENT_TEXT_MISMATCH``              an item-text file written for another instrument
``INSTRUMENT_TEXT_UNKNOWN_ITEM``          an item-text file with an id the instrument does not have
``INSTRUMENT_NOT_FOUND``                  no bundled instrument of that id, or no such file
``INSTRUMENT_FORMAT``                     a file that is not ``.yaml``, ``.yml`` or ``.xlsx``
========================================  ======================================================

Each error names the file and the key path (``scales[2].items[3]``) with its line.
Defaults: ``reverse: false``, ``score: mean``, ``better: higher``, ``min_items``:
all of the scale's items (no prorating unless the file says so), ``version``,
``construct`` and ``citation``: empty text.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import ContractError

from .instrument import Instrument, Item, License, Response, Scale
from .schema import (
    Locator,
    check,
    contract_error,
    did_you_mean,
    raise_errors,
    read_yaml,
)

BUNDLED_DIR = Path(__file__).resolve().parent / "instruments"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def bundled_ids() -> list[str]:
    """Ids of the instruments shipped in ``survey/instruments/``, sorted."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def bundled_instruments() -> list[Instrument]:
    """All bundled instruments, sorted by id.

    Examples
    --------
    >>> from survey import bundled_instruments
    >>> all(i.license.kind in ("full_text", "keys_only", "original") for i in bundled_instruments())
    True
    """
    return [load_instrument(i) for i in bundled_ids()]


def load_instrument(id_or_path, *, text=None, display: str | None = None) -> Instrument:
    """Load a bundled instrument by id, or an instrument file (``.yaml``/``.yml``/``.xlsx``).

    Parameters
    ----------
    id_or_path : str or Path
        A bundled id (``"rses"``; see ``workbench instruments``), or a path.
    text : str or Path or dict, optional
        An item-text file (``data-schema/item-text.schema.json``), or its parsed
        content, whose wording is merged into the items (typically for a
        keys-only instrument, from the user's licensed copy). Ids the instrument
        does not have are refused.
    display : str, optional
        How to name the file in error messages (default: the path as given).

    Returns
    -------
    Instrument

    Raises
    ------
    ContractError or ErrorList
        See the module docstring for the codes.

    Examples
    --------
    >>> from survey import load_instrument
    >>> phq = load_instrument("phq9")
    >>> phq.response.min, phq.response.max
    (0, 3)
    """
    if isinstance(id_or_path, str) and _ID.match(id_or_path) and not Path(id_or_path).suffix:
        path = BUNDLED_DIR / f"{id_or_path}.yaml"
        if not path.is_file():
            raise ContractError("INSTRUMENT_NOT_FOUND",
                                f"no bundled instrument {id_or_path!r}{did_you_mean(id_or_path, bundled_ids())} "
                                f"(bundled: {', '.join(bundled_ids())}; or give a file path)",
                                file=display)
        display = display or f"survey/instruments/{path.name}"
    else:
        path = Path(id_or_path)
        display = display or str(id_or_path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data, lines = read_yaml(path, prefix="INSTRUMENT", display=display)
        inst = build_instrument(data, file=display, locate=lines.locate, path=path)
    elif suffix == ".xlsx":
        from .xlsform import load_xlsform

        inst = load_xlsform(path, display=display)
    else:
        raise ContractError("INSTRUMENT_FORMAT",
                            f"found a {suffix or 'suffix-less'} file; expected an instrument in YAML "
                            "(.yaml, .yml) or an XLSForm (.xlsx)", file=display)
    if text is not None:
        inst = merge_text(inst, text)
    return inst


def build_instrument(data: dict, *, file: str, locate: Locator | None = None,
                     path: Path | None = None) -> Instrument:
    """Validate a parsed instrument (schema, then cross-checks) and build the :class:`Instrument`."""
    raise_errors(check(data, "instrument", file=file, prefix="INSTRUMENT", locate=locate))
    errors: list[ContractError] = []

    def err(code, msg, p):
        errors.append(contract_error(code, msg, file=file, path=p, locate=locate))

    # response
    resp = data["response"]
    lo, hi = resp["min"], resp["max"]
    if lo >= hi:
        err("INSTRUMENT_RESPONSE_RANGE", f"found min {lo} and max {hi}; expected min < max",
            ("response", "max"))
    labels = {}
    for code, label in (resp.get("labels") or {}).items():
        c = int(code)
        if not lo <= c <= hi:
            err("INSTRUMENT_RESPONSE_RANGE",
                f"found label code {c}; expected a code from {lo} to {hi} (response.min..max)",
                ("response", "labels", code))
        labels[c] = dict(label)
    labels = dict(sorted(labels.items()))

    # items
    items, seen = [], {}
    for i, it in enumerate(data["items"]):
        if it["id"] in seen:
            err("INSTRUMENT_DUPLICATE_ID", f"item id {it['id']!r} is used twice "
                f"(first at items[{seen[it['id']]}]); expected unique ids", ("items", i, "id"))
        seen.setdefault(it["id"], i)
        items.append(Item(id=it["id"], text=dict(it["text"]) if it.get("text") else None,
                          reverse=bool(it.get("reverse", False))))
    item_order = {it.id: k for k, it in enumerate(items)}

    # scales: ids, item lists, membership
    scales_raw = data["scales"]
    scale_index = {}
    for j, sc in enumerate(scales_raw):
        if sc["id"] in scale_index:
            err("INSTRUMENT_DUPLICATE_ID", f"scale id {sc['id']!r} is used twice "
                f"(first at scales[{scale_index[sc['id']]}]); expected unique ids", ("scales", j, "id"))
        scale_index.setdefault(sc["id"], j)
    owner: dict[str, str] = {}
    broken: set[str] = set()  # scales with unknown members: their min_items is not checked
    for j, sc in enumerate(scales_raw):
        in_scale = set()
        for k, item_id in enumerate(sc.get("items") or []):
            p = ("scales", j, "items", k)
            if item_id not in item_order:
                err("INSTRUMENT_UNKNOWN_ITEM", f"scale {sc['id']!r} names item {item_id!r}, which the "
                    f"instrument does not have{did_you_mean(item_id, item_order)}", p)
                broken.add(sc["id"])
                continue
            if item_id in in_scale:
                err("INSTRUMENT_DUPLICATE_ID", f"item {item_id!r} is listed twice in scale {sc['id']!r}", p)
                continue
            in_scale.add(item_id)
            if item_id in owner:
                err("INSTRUMENT_ITEM_IN_TWO_SCALES",
                    f"item {item_id!r} is in scale {owner[item_id]!r} and in scale {sc['id']!r}; "
                    "expected each item in one item-listed scale (for a total over subscales, "
                    "write 'subscales: [...]')", p)
            else:
                owner[item_id] = sc["id"]

    # composite scales: resolve the union of items (in instrument order)
    resolved: dict[str, tuple[str, ...]] = {}

    def resolve(sid: str, stack: tuple) -> tuple[str, ...]:
        if sid in resolved:
            return resolved[sid]
        j = scale_index[sid]
        sc = scales_raw[j]
        if "items" in sc:
            out = tuple(x for x in sc["items"] if x in item_order)
        else:
            members: set[str] = set()
            for k, sub in enumerate(sc["subscales"]):
                p = ("scales", j, "subscales", k)
                if sub not in scale_index:
                    err("INSTRUMENT_UNKNOWN_SUBSCALE", f"scale {sid!r} names subscale {sub!r}, which the "
                        f"instrument does not have{did_you_mean(sub, scale_index)}", p)
                    broken.add(sid)
                elif sub == sid or sub in stack:
                    err("INSTRUMENT_UNKNOWN_SUBSCALE",
                        f"scale {sid!r} includes {sub!r}, which includes {sid!r} (a circle); "
                        "expected subscales that list items or other subscales", p)
                    broken.add(sid)
                else:
                    members.update(resolve(sub, stack + (sid,)))
                    if sub in broken:
                        broken.add(sid)
            out = tuple(sorted(members, key=item_order.__getitem__))
        resolved[sid] = out
        return out

    scales = []
    for j, sc in enumerate(scales_raw):
        if scale_index.get(sc["id"]) != j:
            continue
        its = resolve(sc["id"], ())
        n = len(its)
        min_items = sc.get("min_items", max(n, 1))
        if n and min_items > n and sc["id"] not in broken:
            err("INSTRUMENT_MIN_ITEMS", f"found min_items {min_items}; expected at most the {n} "
                f"item{'s' if n != 1 else ''} of scale {sc['id']!r}", ("scales", j, "min_items"))
        scales.append(Scale(id=sc["id"], name=dict(sc["name"]), items=its, score=sc.get("score", "mean"),
                            min_items=min_items, better=sc.get("better", "higher"),
                            subscales=tuple(sc.get("subscales", ())),
                            test_retest=_float_or_none(sc.get("test_retest"))))
    raise_errors(errors)
    lic = data["license"]
    version = data.get("version", "")
    return Instrument(
        id=data["id"],
        name=dict(data["name"]),
        version=_version_text(version),
        construct=data.get("construct", ""),
        citation=data.get("citation", ""),
        license=License(kind=lic["kind"], terms=lic["terms"], source=lic.get("source")),
        response=Response(min=lo, max=hi, labels=labels),
        items=tuple(items),
        scales=tuple(scales),
        path=Path(path) if path is not None else None,
        test_retest=_float_or_none(data.get("test_retest")),
        notes=data.get("notes"),
    )


def _float_or_none(x):
    return None if x is None else float(x)


def _version_text(v) -> str:
    """Version as text: YAML ``version: 2`` and ``version: "2"`` are the same version."""
    return str(v)


def merge_text(inst: Instrument, text, *, display: str | None = None) -> Instrument:
    """Merge an item-text file (path or parsed mapping) into ``inst``'s items.

    Languages present in the file replace those of the instrument; others are kept.

    Examples
    --------
    >>> from survey import load_instrument
    >>> rses = merge_text(load_instrument("rses"),
    ...                   {"instrument": "rses", "items": {"rses_1": {"en": "(wording)"}}})
    >>> rses.item("rses_1").text["en"]
    '(wording)'
    """
    from dataclasses import replace

    if isinstance(text, dict):
        data, locate, display = text, None, display or "item text"
    else:
        display = display or str(text)
        data, lines = read_yaml(Path(text), prefix="INSTRUMENT", display=display)
        locate = lines.locate
    raise_errors(check(data, "item-text", file=display, prefix="INSTRUMENT", locate=locate))
    errors = []
    if data["instrument"] != inst.id:
        errors.append(contract_error("INSTRUMENT_TEXT_MISMATCH",
                                     f"found text for instrument {data['instrument']!r}; expected "
                                     f"{inst.id!r}", file=display, path=("instrument",), locate=locate))
    ids = set(inst.item_ids)
    for item_id in data["items"]:
        if item_id not in ids:
            errors.append(contract_error(
                "INSTRUMENT_TEXT_UNKNOWN_ITEM",
                f"found text for item {item_id!r}, which {inst.id!r} does not have"
                f"{did_you_mean(item_id, inst.item_ids)}", file=display, path=("items", item_id),
                locate=locate))
    raise_errors(errors)
    new_items = []
    for it in inst.items:
        extra = data["items"].get(it.id)
        if extra:
            merged = dict(it.text or {})
            merged.update(extra)
            it = replace(it, text=merged)
        new_items.append(it)
    return replace(inst, items=tuple(new_items))

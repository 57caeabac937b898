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

import importlib.resources
import re
from pathlib import Path

from core.errors import ContractError
from core.suggest import did_you_mean

from .instrument import Instrument
from .instrument_build import build_instrument
from .schema import check, contract_error, raise_errors, read_yaml
from .xlsform import load_xlsform

BUNDLED_DIR = Path(str(importlib.resources.files("survey.instruments")))  # package data
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
        inst = load_xlsform(path, display=display)
    else:
        raise ContractError("INSTRUMENT_FORMAT",
                            f"found a {suffix or 'suffix-less'} file; expected an instrument in YAML "
                            "(.yaml, .yml) or an XLSForm (.xlsx)", file=display)
    if text is not None:
        inst = merge_text(inst, text)
    return inst


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

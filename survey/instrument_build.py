"""A parsed instrument mapping -> :class:`~survey.instrument.Instrument`.

The mapping is what a YAML instrument file holds, or what :func:`survey.xlsform.read_xlsform`
makes of an XLSForm; both loaders (:mod:`survey.instrument_loader`, :mod:`survey.xlsform`)
call :func:`build_instrument`, which validates it against
``data-schema/instrument.schema.json`` and then cross-checks it (the codes are listed in
:mod:`survey.instrument_loader`). It sits below both loaders so that neither imports the
other's caller: ``xlsform -> instrument_build <- instrument_loader``.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ContractError
from core.suggest import did_you_mean

from .instrument import Instrument, Item, License, Response, Scale
from .schema import Locator, check, contract_error, raise_errors


def build_instrument(data: dict, *, file: str, locate: Locator | None = None,
                     path: Path | None = None) -> Instrument:
    """Validate a parsed instrument (schema, then cross-checks) and build the :class:`Instrument`.

    Parameters
    ----------
    data : dict
        The instrument as a YAML file holds it.
    file : str
        How to name the file in error messages.
    locate : callable, optional
        Key path -> ``{"line"...}`` or ``{"row", "column", "where"}`` for messages.
    path : Path, optional
        Recorded as :attr:`Instrument.path`.

    Raises
    ------
    ContractError or ErrorList
        Every schema violation, else every cross-check problem.

    Examples
    --------
    >>> inst = build_instrument({"id": "x", "name": {"en": "X"}, "license": {"kind": "original",
    ...     "terms": "ours"}, "response": {"min": 1, "max": 4}, "items": [{"id": "x_1"}, {"id": "x_2"}],
    ...     "scales": [{"id": "total", "name": {"en": "Total"}, "items": ["x_1", "x_2"]}]}, file="x.yaml")
    >>> inst.scale("total").items, inst.response.max
    (('x_1', 'x_2'), 4)
    """
    raise_errors(check(data, "instrument", file=file, prefix="INSTRUMENT", locate=locate))
    errors: list[ContractError] = []

    def err(code, msg, p):
        errors.append(contract_error(code, msg, file=file, path=p, locate=locate))

    lo, hi, labels = _response(data["response"], err)
    items = _items(data["items"], err)
    item_order = {it.id: k for k, it in enumerate(items)}
    scales = _Scales(data["scales"], item_order, err).build()
    raise_errors(errors)
    lic = data["license"]
    return Instrument(
        id=data["id"],
        name=dict(data["name"]),
        version=_version_text(data.get("version", "")),
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


def _response(resp: dict, err) -> tuple:
    """``(min, max, {code: label})``: min below max, every labelled code inside the range."""
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
    return lo, hi, dict(sorted(labels.items()))


def _items(raw: list, err) -> list[Item]:
    """The items in file order; an id used twice is ``INSTRUMENT_DUPLICATE_ID``."""
    items, seen = [], {}
    for i, it in enumerate(raw):
        if it["id"] in seen:
            err("INSTRUMENT_DUPLICATE_ID", f"item id {it['id']!r} is used twice "
                f"(first at items[{seen[it['id']]}]); expected unique ids", ("items", i, "id"))
        seen.setdefault(it["id"], i)
        items.append(Item(id=it["id"], text=dict(it["text"]) if it.get("text") else None,
                          reverse=bool(it.get("reverse", False))))
    return items


class _Scales:
    """The scales of one instrument: ids, item lists and membership, composites resolved."""

    def __init__(self, raw: list, item_order: dict, err):
        self.raw = raw
        self.item_order = item_order
        self.err = err
        self.index: dict[str, int] = {}     # scale id -> its first position
        self.broken: set[str] = set()      # scales with unknown members: min_items not checked
        self.resolved: dict[str, tuple[str, ...]] = {}

    def build(self) -> list[Scale]:
        self._index_ids()
        self._check_members()
        scales = []
        for j, sc in enumerate(self.raw):
            if self.index.get(sc["id"]) != j:
                continue
            scales.append(self._scale(j, sc))
        return scales

    def _index_ids(self) -> None:
        for j, sc in enumerate(self.raw):
            if sc["id"] in self.index:
                self.err("INSTRUMENT_DUPLICATE_ID", f"scale id {sc['id']!r} is used twice "
                         f"(first at scales[{self.index[sc['id']]}]); expected unique ids",
                         ("scales", j, "id"))
            self.index.setdefault(sc["id"], j)

    def _check_members(self) -> None:
        """Item-listed scales: known items, each once per scale and in one scale only."""
        owner: dict[str, str] = {}
        for j, sc in enumerate(self.raw):
            in_scale = set()
            for k, item_id in enumerate(sc.get("items") or []):
                p = ("scales", j, "items", k)
                if item_id not in self.item_order:
                    self.err("INSTRUMENT_UNKNOWN_ITEM", f"scale {sc['id']!r} names item {item_id!r}, "
                             f"which the instrument does not have{did_you_mean(item_id, self.item_order)}", p)
                    self.broken.add(sc["id"])
                    continue
                if item_id in in_scale:
                    self.err("INSTRUMENT_DUPLICATE_ID", f"item {item_id!r} is listed twice in scale "
                             f"{sc['id']!r}", p)
                    continue
                in_scale.add(item_id)
                if item_id in owner:
                    self.err("INSTRUMENT_ITEM_IN_TWO_SCALES",
                             f"item {item_id!r} is in scale {owner[item_id]!r} and in scale {sc['id']!r}; "
                             "expected each item in one item-listed scale (for a total over subscales, "
                             "write 'subscales: [...]')", p)
                else:
                    owner[item_id] = sc["id"]

    def _items_of(self, sid: str, stack: tuple) -> tuple[str, ...]:
        """The items of scale ``sid`` in instrument order (the union over its subscales)."""
        if sid in self.resolved:
            return self.resolved[sid]
        j = self.index[sid]
        sc = self.raw[j]
        if "items" in sc:
            out = tuple(x for x in sc["items"] if x in self.item_order)
        else:
            members: set[str] = set()
            for k, sub in enumerate(sc["subscales"]):
                p = ("scales", j, "subscales", k)
                if sub not in self.index:
                    self.err("INSTRUMENT_UNKNOWN_SUBSCALE", f"scale {sid!r} names subscale {sub!r}, "
                             f"which the instrument does not have{did_you_mean(sub, self.index)}", p)
                    self.broken.add(sid)
                elif sub == sid or sub in stack:
                    self.err("INSTRUMENT_UNKNOWN_SUBSCALE",
                             f"scale {sid!r} includes {sub!r}, which includes {sid!r} (a circle); "
                             "expected subscales that list items or other subscales", p)
                    self.broken.add(sid)
                else:
                    members.update(self._items_of(sub, stack + (sid,)))
                    if sub in self.broken:
                        self.broken.add(sid)
            out = tuple(sorted(members, key=self.item_order.__getitem__))
        self.resolved[sid] = out
        return out

    def _scale(self, j: int, sc: dict) -> Scale:
        its = self._items_of(sc["id"], ())
        n = len(its)
        min_items = sc.get("min_items", max(n, 1))
        if n and min_items > n and sc["id"] not in self.broken:
            self.err("INSTRUMENT_MIN_ITEMS", f"found min_items {min_items}; expected at most the {n} "
                     f"item{'s' if n != 1 else ''} of scale {sc['id']!r}", ("scales", j, "min_items"))
        return Scale(id=sc["id"], name=dict(sc["name"]), items=its, score=sc.get("score", "mean"),
                     min_items=min_items, better=sc.get("better", "higher"),
                     subscales=tuple(sc.get("subscales", ())),
                     test_retest=_float_or_none(sc.get("test_retest")))


def _float_or_none(x):
    return None if x is None else float(x)


def _version_text(v) -> str:
    """Version as text: YAML ``version: 2`` and ``version: "2"`` are the same version."""
    return str(v)

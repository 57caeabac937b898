"""Survey instruments: items, response scale, reverse keys and scales.

An instrument file (YAML, or an XLSForm via :mod:`survey.xlsform`) is validated
against ``data-schema/instrument.schema.json`` and loaded into an
:class:`Instrument`. Item ids are stable ASCII names; positions differ between
published versions of a scale, so everything is keyed by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Text = dict  # {"en": str, "zh": str}; either may be missing


@dataclass(frozen=True)
class Response:
    """The response scale shared by an instrument's items.

    ``labels`` maps each integer code to its bilingual label, e.g.
    ``{1: {"en": "Strongly disagree", "zh": "非常不同意"}}`` (may be empty).
    """

    min: int
    max: int
    labels: dict = field(default_factory=dict)

    def reverse(self, x):
        """Reverse-key a value or array: ``min + max - x``."""
        return self.min + self.max - x


@dataclass(frozen=True)
class Item:
    """One item. ``text`` is ``None`` for keys-only instruments until the user supplies it."""

    id: str
    text: Text | None = None
    reverse: bool = False


@dataclass(frozen=True)
class Scale:
    """A scale (or subscale) scored from some of the instrument's items.

    ``score`` is ``"mean"`` or ``"sum"``; a score exists when at least
    ``min_items`` of ``items`` are answered (a sum is then prorated).

    A composite scale (e.g. SDQ total difficulties) names ``subscales`` of the
    same instrument; its ``items`` then hold the resolved union of their items
    (in instrument item order), so scoring code can use ``.items`` uniformly.
    ``test_retest`` (optional) overrides the instrument's for this scale.
    """

    id: str
    name: Text
    items: tuple[str, ...]
    score: str = "mean"
    min_items: int = 1
    better: str = "higher"
    subscales: tuple[str, ...] = ()
    test_retest: float | None = None


@dataclass(frozen=True)
class License:
    """Terms under which the instrument is distributed.

    ``kind`` is ``full_text`` (item text may be redistributed and is bundled),
    ``keys_only`` (only ids, keys and scales are bundled; the user supplies the
    text from a licensed copy) or ``original`` (written for this project).
    """

    kind: str
    terms: str
    source: str | None = None


@dataclass(frozen=True)
class Instrument:
    """A loaded, validated instrument.

    Examples
    --------
    >>> from survey import load_instrument
    >>> inst = load_instrument("rses")            # a bundled instrument by id
    >>> inst.scale("total").items[:2]
    ('rses_1', 'rses_2')
    """

    id: str
    name: Text
    version: str
    construct: str
    citation: str
    license: License
    response: Response
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    path: Path | None = None
    test_retest: float | None = None
    notes: str | None = None

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def scale(self, scale_id: str) -> Scale:
        for sc in self.scales:
            if sc.id == scale_id:
                return sc
        raise KeyError(scale_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items)

    @property
    def reversed_items(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items if it.reverse)

    @property
    def has_text(self) -> bool:
        """True when every item has text in at least one language."""
        return all(it.text for it in self.items)

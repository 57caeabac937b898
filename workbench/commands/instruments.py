"""``workbench instruments`` (list the bundled instruments) and ``workbench instruments show ID``.

``show`` also takes a path to an instrument file (``.yaml`` or XLSForm ``.xlsx``),
so that a user can check how the workbench reads their own instrument.
"""

from __future__ import annotations

import sys

from core.errors import ContractError, ErrorList, WorkbenchError

KIND_LABEL = {
    "full_text": ("full text", "含条目原文"),
    "keys_only": ("keys only", "仅计分键"),
    "original": ("original", "本项目原创"),
}


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _name(names: dict, lang: str | None) -> str:
    if lang:
        return names.get(lang) or names.get("en") or names.get("zh") or ""
    parts = [names.get("en"), names.get("zh")]
    return " / ".join(p for p in parts if p)


def _table(rows: list[list[str]], out) -> None:
    widths = [max(_width(r[k]) for r in rows) for k in range(len(rows[0]))]
    for i, r in enumerate(rows):
        cells = [c + " " * (w - _width(c)) for c, w in zip(r, widths)]
        print("  ".join(cells).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _width(s: str) -> int:
    """Display width (CJK characters take two columns)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def list_instruments(lang: str | None = None, out=None) -> int:
    from survey.instrument_loader import bundled_ids, load_instrument

    out = out or sys.stdout
    rows = [["id", "name", "kind", "items", "scales", "terms"]]
    problems: list[WorkbenchError] = []
    for iid in bundled_ids():
        try:
            inst = load_instrument(iid)
        except (ContractError, ErrorList) as err:
            problems.append(err)
            continue
        scored = sorted({i for s in inst.scales for i in s.items})
        n_items = f"{len(inst.items)}" + (f" ({len(scored)} scored)" if len(scored) != len(inst.items) else "")
        kind = KIND_LABEL.get(inst.license.kind, (inst.license.kind,) * 2)
        rows.append([inst.id, _short(_name(inst.name, lang), 40), kind[1] if lang == "zh" else kind[0],
                     n_items, _short(", ".join(s.id for s in inst.scales), 30), _short(inst.license.terms, 44)])
    if len(rows) > 1:
        _table(rows, out)
        print(f"\n{len(rows) - 1} instruments. `workbench instruments show ID` prints one; keys-only "
              "instruments need an item-text file for their wording (data-schema/README.md).", file=out)
    else:
        print("no bundled instruments found", file=out)
    if problems:
        raise ErrorList([e for p in problems for e in (p.errors if isinstance(p, ErrorList) else [p])])
    return 0


def show_instrument(id_or_path: str, lang: str | None = None, out=None) -> int:
    from survey.instrument_loader import load_instrument

    out = out or sys.stdout
    inst = load_instrument(id_or_path)
    langs = [lang] if lang else ["en", "zh"]
    w = lambda s="": print(s, file=out)  # noqa: E731
    w(f"{inst.id}: {_name(inst.name, lang)}")
    if inst.version:
        w(f"  version:   {inst.version}")
    if inst.construct:
        w(f"  construct: {inst.construct}")
    kind = KIND_LABEL.get(inst.license.kind, (inst.license.kind,) * 2)
    w(f"  licence:   {inst.license.kind} ({kind[0]} / {kind[1]})")
    w(f"  terms:     {inst.license.terms}")
    if inst.license.source:
        w(f"  source:    {inst.license.source}")
    if inst.citation:
        w(f"  citation:  {inst.citation}")
    if inst.test_retest is not None:
        w(f"  test-retest reliability: {inst.test_retest:g}")
    r = inst.response
    w()
    w(f"Response scale: {r.min} to {r.max}")
    for code, label in r.labels.items():
        w(f"  {code}  " + " / ".join(label[x] for x in langs if label.get(x)))
    w()
    w(f"Items ({len(inst.items)}; R = reverse-keyed, scored as {r.min} + {r.max} - x):")
    for it in inst.items:
        flag = "R" if it.reverse else " "
        if it.text:
            texts = [it.text[x] for x in langs if it.text.get(x)]
            first = texts[0] if texts else "(no text in this language)"
            w(f"  {flag} {it.id:<12} {first}")
            for t in texts[1:]:
                w(f"    {'':<12} {t}")
        else:
            w(f"  {flag} {it.id:<12} (text not included)")
    if not inst.has_text:
        w("  Item text is not included for some items: supply it from your licensed copy in an item-text")
        w("  file (data-schema/README.md), e.g. `instruments: [{id: " + inst.id + ", text: instruments/"
          + inst.id + "-text.yaml}]` in study.yaml.")
    w()
    w("Scales (column name INSTRUMENT.SCALE):")
    for s in inst.scales:
        comp = f" = {' + '.join(s.subscales)}" if s.subscales else ""
        extra = f", test-retest {s.test_retest:g}" if s.test_retest is not None else ""
        w(f"  {inst.id}.{s.id}: {_name(s.name, lang)}{comp}")
        w(f"    {s.score} of {len(s.items)} items, at least {s.min_items} answered, "
          f"higher is {'better' if s.better == 'higher' else 'worse'}{extra}")
        w(f"    items: {', '.join(s.items)}")
    if inst.notes:
        w()
        w(f"Notes: {inst.notes}")
    return 0


def main(args) -> int:
    if args.action == "show":
        if not args.instrument_id:
            raise WorkbenchError("CLI_USAGE", "give an instrument id: workbench instruments show ID "
                                 "(see `workbench instruments` for the ids)")
        return show_instrument(args.instrument_id, args.lang)
    if args.instrument_id:
        # `workbench instruments rses` is read as `show rses`
        return show_instrument(args.instrument_id, args.lang)
    return list_instruments(args.lang)

"""The bundled instruments: schema-valid, loadable, keys as published, bilingual labels."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml

from survey.scoring import keyed_items, score_items

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "survey" / "instruments"
FILES = sorted(FOLDER.glob("*.yaml"))
EXPECTED = {"phq9": "full_text", "gad7": "full_text", "who5": "full_text", "brs": "full_text",
            "cesdc": "full_text", "rses": "keys_only", "cls": "keys_only",
            "ucla_ls3": "keys_only", "ucla3": "keys_only", "sdq_s": "keys_only",
            "mspss": "keys_only", "pacs": "keys_only", "pcc": "original"}

loader = pytest.importorskip("survey.instrument_loader")


def load(iid):
    return loader.load_instrument(iid)


def test_the_set_of_bundled_instruments():
    assert {f.stem for f in FILES} == set(EXPECTED)
    assert {i.id for i in loader.bundled_instruments()} == set(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_schema_valid_and_consistent(path):
    schema = json.loads((ROOT / "data-schema" / "instrument.schema.json").read_text())
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(raw)
    inst = load(path.stem)
    assert inst.id == path.stem
    assert inst.license.kind == EXPECTED[inst.id]
    assert inst.license.terms.strip() and inst.license.source
    assert inst.citation.strip()
    # ids carry the instrument prefix, so items of two instruments never clash in a study
    assert all(it.id.startswith(inst.id + "_") for it in inst.items)
    # bilingual labels for every code
    lab = inst.response.labels
    assert sorted(int(k) for k in lab) == list(range(inst.response.min, inst.response.max + 1))
    assert all(v.get("en") and v.get("zh") for v in lab.values())
    assert all(s.name.get("en") and s.name.get("zh") for s in inst.scales)
    # text: present in both languages unless keys only
    if inst.license.kind == "keys_only":
        assert all(it.text is None or not it.text for it in inst.items)
        assert "text" not in path.read_text(encoding="utf-8").split("items:")[1].split("scales:")[0]
    else:
        assert all(it.text.get("en") and it.text.get("zh") for it in inst.items)
    # an item belongs to at most one item-listed scale
    listed = [i for s in inst.scales if not s.subscales for i in s.items]
    assert len(listed) == len(set(listed))
    for s in inst.scales:
        assert 1 <= s.min_items <= len(s.items)


REVERSED = {
    "phq9": [], "gad7": [], "who5": [], "ucla3": [], "mspss": [], "pacs": [],
    "brs": [2, 4, 6], "cesdc": [4, 8, 12, 16], "rses": [2, 5, 6, 8, 9],
    "cls": [1, 4, 8, 10, 16, 22], "ucla_ls3": [1, 5, 6, 9, 10, 15, 16, 19, 20],
    "sdq_s": [7, 11, 14, 21, 25], "pcc": [4, 10],
}


@pytest.mark.parametrize("iid", sorted(REVERSED))
def test_reverse_keys(iid):
    inst = load(iid)
    assert set(inst.reversed_items) == {f"{iid}_{k}" for k in REVERSED[iid]}


def test_subscales():
    cls = load("cls")
    fillers = {f"cls_{k}" for k in (2, 5, 7, 11, 13, 15, 19, 23)}
    assert len(cls.items) == 24 and set(cls.scale("total").items) == {
        it.id for it in cls.items} - fillers
    sdq = load("sdq_s")
    sub = {"emotional": [3, 8, 13, 16, 24], "conduct": [5, 7, 12, 18, 22],
           "hyperactivity": [2, 10, 15, 21, 25], "peer": [6, 11, 14, 19, 23],
           "prosocial": [1, 4, 9, 17, 20]}
    for s, ks in sub.items():
        assert set(sdq.scale(s).items) == {f"sdq_s_{k}" for k in ks}
    assert set(sdq.scale("total").items) == {f"sdq_s_{k}" for s in list(sub)[:4] for k in sub[s]}
    ms = load("mspss")
    for s, ks in {"family": [3, 4, 8, 11], "friends": [6, 7, 9, 12],
                  "significant_other": [1, 2, 5, 10]}.items():
        assert set(ms.scale(s).items) == {f"mspss_{k}" for k in ks}
    assert len(ms.scale("total").items) == 12
    pacs = load("pacs")
    assert {s.id for s in pacs.scales} == {"openness", "problems"}
    assert set(pacs.scale("openness").items) == {
        f"pacs_{k}" for k in (1, 3, 6, 7, 8, 9, 13, 14, 16, 17)}
    pcc = load("pcc")
    assert {s.id for s in pcc.scales} == {"communication", "help_seeking", "total"}
    assert "not validated" in pcc.license.terms.lower() or "NOT" in pcc.notes


@pytest.mark.parametrize("iid", ["who5", "brs", "cesdc"])
def test_unofficial_translations_say_so(iid):
    assert "UNOFFICIAL" in load(iid).notes


@pytest.mark.parametrize("iid", sorted(EXPECTED))
def test_score_ranges(iid):
    """Lowest and highest keyed answers give the published score range."""
    inst = load(iid)
    lo, hi = inst.response.min, inst.response.max
    ids = inst.item_ids
    # the answers that give the lowest / highest keyed value on every item
    low = {i: (hi if inst.item(i).reverse else lo) for i in ids}
    high = {i: (lo if inst.item(i).reverse else hi) for i in ids}
    df = pd.DataFrame([low, high], dtype=float)
    out = score_items(df, inst, prefix=False)
    for s in inst.scales:
        k = len(s.items)
        exp = (lo * k, hi * k) if s.score == "sum" else (lo, hi)
        assert tuple(out[s.id]) == exp, s.id
        assert np.all(keyed_items(df, inst, s.id).iloc[0] == lo)


def test_published_ranges():
    ranges = {("phq9", "total"): (0, 27), ("gad7", "total"): (0, 21), ("who5", "total"): (0, 25),
              ("cesdc", "total"): (0, 60), ("rses", "total"): (10, 40), ("cls", "total"): (16, 80),
              ("ucla_ls3", "total"): (20, 80), ("ucla3", "total"): (3, 9),
              ("sdq_s", "total"): (0, 40), ("sdq_s", "prosocial"): (0, 10),
              ("brs", "total"): (1, 5), ("mspss", "total"): (1, 7), ("pcc", "total"): (1, 5),
              ("pacs", "openness"): (10, 50)}
    for (iid, sid), (a, b) in ranges.items():
        inst = load(iid)
        s = inst.scale(sid)
        k = len(s.items) if s.score == "sum" else 1
        assert (inst.response.min * k, inst.response.max * k) == (a, b), (iid, sid)

"""Ids that match only loosely across waves (issue 10, "Silent wrong numbers" 1).

Lower-case endline ids, a zero-width space, Excel dropping leading zeros and Excel turning
ids into dates each left children unlinked across waves with exit 0 and no message. Ids
that differ only by case, whitespace, zero-width or full-width characters are linked with
an ``ID_LOOSE_MATCH`` warning that counts them; leading zeros are linked when unambiguous;
fewer than half linked is ``ID_LINK_LOW``; a date in the id column is ``ID_DATE``. Messages
show pseudonyms and counts, never a raw id.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from survey.study_loader import load_study
from survey.validation import validate

ITEMS = [f"rses_{i}" for i in range(1, 11)]
ANSWERS = ["1", "2", "3", "4", "1", "2", "3", "4", "1", "2"]


def _csv(ids) -> str:
    return "\n".join(["sid," + ",".join(ITEMS)] + [f"{i}," + ",".join(ANSWERS) for i in ids]) + "\n"


def _study(root, baseline, endline, *, endline_file=None, design_type="pre_post"):
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "b.csv").write_text(_csv(baseline), encoding="utf-8")
    end = endline_file or "e.csv"
    if endline is not None:
        (root / "data" / end).write_text(_csv(endline), encoding="utf-8")
    doc = {"id": "link", "design": {"type": design_type, "id": "sid", "waves": ["baseline", "endline"]},
           "instruments": [{"id": "rses"}],
           "data": [{"path": "data/b.csv", "wave": "baseline"}, {"path": f"data/{end}", "wave": "endline"}],
           "outcomes": [{"id": "se", "scale": "rses.total"}]}
    (root / "study.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_study(root)


def _codes(res, code):
    return [i for i in res.issues if i.code == code]


def _linked(res) -> int:
    d = res.data
    return len(set(d.loc[d["wave"] == "baseline", "sid"]) & set(d.loc[d["wave"] == "endline", "sid"]))


def _no_raw_ids(res, raw):
    import re

    text = "\n".join(f"{i.message} {i.value} {i.expected}" for i in res.issues)
    for r in raw:
        # as a whole token: a pseudonym such as p_ea30cce0018a62c4 may hold "001" by chance
        # (the key is new in each test run)
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(r)}(?![0-9A-Za-z])", text), r


BASE = [f"S{k:03d}" for k in range(1, 11)]


@pytest.mark.parametrize("variant, kind", [
    (lambda s: s.lower(), "case"),
    (lambda s: s + "\u200b", "zero-width characters"),
    (lambda s: s[0] + " " + s[1:], "whitespace"),
    (lambda s: s.translate(str.maketrans("S0123456789", "Ｓ０１２３４５６７８９")), "full-width characters"),
])
def test_loose_ids_are_linked_with_a_warning_that_counts_them(tmp_path, variant, kind):
    end = [variant(s) for s in BASE[:8]] + BASE[8:]
    res = validate(_study(tmp_path, BASE, end))
    assert _linked(res) == 10  # was 2 (or 0): only the unchanged ids linked
    (w,) = _codes(res, "ID_LOOSE_MATCH")
    assert w.severity == "warning" and kind in w.message
    assert "8 respondent id(s) in 8 row(s)" in w.message
    assert (w.file, w.row, w.column) == ("data/e.csv", 2, "sid") and w.value.startswith("p_")
    assert not _codes(res, "ID_LINK_LOW") and res.ok
    _no_raw_ids(res, end[:8] + BASE)


def test_leading_zeros_dropped_by_excel_are_linked_when_unambiguous(tmp_path):
    base = [f"{k:04d}" for k in range(1, 11)]
    end = [str(k) for k in range(1, 11)]
    res = validate(_study(tmp_path, base, end))
    assert _linked(res) == 10
    (w,) = _codes(res, "ID_LOOSE_MATCH")
    assert "leading zeros" in w.message and "10 respondent id(s)" in w.message
    assert not _codes(res, "ID_LINK_LOW")


def test_leading_zeros_are_not_linked_when_ambiguous(tmp_path):
    base = ["01", "001"] + [f"{k:03d}" for k in range(2, 10)]
    end = ["1"] + [f"{k:03d}" for k in range(2, 10)]
    res = validate(_study(tmp_path, base, end))
    (w,) = _codes(res, "ID_LOOSE_AMBIGUOUS")
    assert "NOT linked" in w.message
    assert _linked(res) == 8  # '1' is linked to neither '01' nor '001'
    _no_raw_ids(res, ["01", "001"])


def test_case_variants_within_one_wave_are_not_merged(tmp_path):
    base = BASE + ["s001"]  # two children, or one entered twice: not silently merged
    res = validate(_study(tmp_path, base, BASE))
    assert _codes(res, "ID_LOOSE_AMBIGUOUS") and not _codes(res, "DUPLICATE_ID")
    assert res.data.loc[res.data["wave"] == "baseline", "sid"].nunique() == 11


def test_exact_ids_give_no_warning(tmp_path):
    res = validate(_study(tmp_path, BASE, BASE[:9]))
    assert res.issues == [] and _linked(res) == 9


def test_fewer_than_half_linked_is_an_error(tmp_path):
    end = [f"E{k:03d}" for k in range(1, 8)] + BASE[:3]
    res = validate(_study(tmp_path, BASE, end))
    (e,) = _codes(res, "ID_LINK_LOW")
    assert e.severity == "error" and "only 3 of 10 children link" in e.message
    assert res.fatal  # a longitudinal analysis would compare different children
    _no_raw_ids(res, BASE + end)


def test_half_linked_is_enough_and_cross_sectional_is_not_checked(tmp_path):
    end = BASE[:5] + [f"E{k:03d}" for k in range(5)]
    assert not _codes(validate(_study(tmp_path / "a", BASE, end)), "ID_LINK_LOW")
    end = [f"E{k:03d}" for k in range(10)]
    res = validate(_study(tmp_path / "b", BASE, end, design_type="cross_sectional"))
    assert not _codes(res, "ID_LINK_LOW")


def test_ids_turned_into_dates_by_excel_are_errors_naming_the_cells(tmp_path):
    from openpyxl import Workbook

    base = [f"2-{k}" for k in range(10, 20)]
    wb = Workbook()
    ws = wb.active
    ws.append(["sid", *ITEMS])
    for k in range(10, 20):  # Excel read '2-12' as 12 February
        ws.append([dt.datetime(2024, 2, k) if k < 14 else f"2-{k}", *map(int, ANSWERS)])
    root = tmp_path / "s"
    (root / "data").mkdir(parents=True)
    wb.save(root / "data" / "e.xlsx")
    res = validate(_study(root, base, None, endline_file="e.xlsx"))
    (e,) = _codes(res, "ID_DATE")
    assert (e.file, e.row, e.column) == ("data/e.xlsx", 2, "sid")
    assert "4 row(s)" in e.message and "rows 2, 3, 4, 5" in e.message
    assert "2024" not in e.message and "2-1" not in e.message
    assert len(res.quarantine) == 4 and set(res.quarantine["reasons"]) == {"ID_DATE"}
    assert _linked(res) == 6


def test_date_serials_and_csv_dates_are_recognized(tmp_path):
    base = [f"1-{k}" for k in range(10, 20)]
    end = ["45303", "2024/1/13", "1月14日", "14-Jan"] + base[4:]
    res = validate(_study(tmp_path, base, end))
    (e,) = _codes(res, "ID_DATE")
    assert "4 row(s)" in e.message
    # a 5-digit id in a study without dashed or date ids is an id, not a date
    res = validate(_study(tmp_path / "plain", ["45303"] + BASE[1:], ["45303"] + BASE[1:]))
    assert not _codes(res, "ID_DATE") and res.ok

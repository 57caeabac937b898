"""survey.dates: one strict date parser for contact logs and archives (issue 14)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from survey.dates import parse_date, parse_dates

D = dt.date(2024, 3, 5)


@pytest.mark.parametrize("text", [
    "2024-03-05", "2024-3-5", "2024/3/5", "2024/03/05", "2024.3.5", "2024年3月5日", "2024年3月5号",
    "2024年03月05日", "2024 年 3 月 5 日", "20240305", "2024-03-05 14:30", "2024-03-05 14:30:59",
    "2024-03-05T08:00:00", "2024/3/5 9:05", "2024年3月5日 14:30", " 2024-03-05 ",
    "２０２４／３／５", "２０２４年３月５日", "２０２４－０３－０５",
])
def test_unambiguous_forms_parse(text):
    assert parse_date(text) == (D, None)


@pytest.mark.parametrize("value", [dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 14, 30),
                                   pd.Timestamp("2024-03-05 10:00")])
def test_date_objects_are_taken_as_is(value):
    assert parse_date(value) == (D, None)


@pytest.mark.parametrize("text", ["05/03/2024", "5/3/2024", "03-05-2024", "5.3.24", "3/5/24"])
def test_day_first_or_month_first_is_an_error_not_a_guess(text):
    day, why = parse_date(text)
    assert day is None and "ambiguous" in why and "year first" in why


@pytest.mark.parametrize("text, words", [
    ("2024-02-30", "not a date of the calendar"), ("2023-02-29", "not a date of the calendar"),
    ("2024-13-01", "not a date of the calendar"), ("2024-03-05 25:00", "not a time of day"),
    ("next monday", "not a date"), ("2024-03", "not a date"), ("2024-3/5", "not a date"),
    ("45356", "a number"),
])
def test_unparseable_cells_give_a_reason(text, words):
    day, why = parse_date(text)
    assert day is None and words in why


def test_leap_day_is_a_date():
    assert parse_date("2024-02-29") == (dt.date(2024, 2, 29), None)


def test_excel_serials_only_when_asked():
    assert parse_date("45356", serial=True) == (D, None)
    assert parse_date("45356.5", serial=True) == (D, None)  # a time of day is dropped
    assert parse_date(45356, serial=True) == (D, None)
    assert parse_date("1", serial=True)[0] is None  # not a plausible serial
    assert parse_date("45356")[0] is None  # a CSV number is not a date


def test_reason_never_quotes_text_that_is_not_date_like():
    _, why = parse_date("王小明13912345678")
    assert "王小明" not in why and "13912345678" not in why and "text of" in why


def test_empty_cells_are_missing_without_reason():
    for v in (None, "", "  ", float("nan"), pd.NA, pd.NaT):
        assert parse_date(v) == (None, None)


def test_parse_dates_vectorized_keeps_index_and_dtype():
    s = pd.Series(["2024/3/5", None, "05/03/2024", "2024年3月6日", "2024/3/5"], index=[10, 11, 12, 13, 14])
    days, why = parse_dates(s)
    assert days.dtype == "datetime64[ns]" and list(days.index) == [10, 11, 12, 13, 14]
    assert days[10] == pd.Timestamp("2024-03-05") and days[13] == pd.Timestamp("2024-03-06")
    assert pd.isna(days[11]) and pd.isna(days[12])
    assert why[11] is None and "ambiguous" in why[12] and why[14] is None
    assert (days.dropna().dt.hour == 0).all()

"""One strict date parser for contact logs and child archives (issue 14).

Dates in program files are typed by hand in many ways; this module reads the forms that
are unambiguous and refuses the others, naming what it found instead of guessing:

================================  ==============================================
``2024-03-05``, ``2024-3-5``      ISO (year first), ``-`` ``/`` or ``.`` between
``2024/3/5``, ``2024.3.5``        the parts (the same separator twice)
``2024年3月5日`` (``日`` or ``号``)  Chinese form
``20240305``                      eight digits, year first
``2024-03-05 14:30[:00]``         a time after the date is dropped
``45356`` (XLSX only)             an Excel serial day number (a date cell whose
                                  format was lost); only with ``serial=True``
an XLSX date cell                 read by :mod:`survey.readers` as ``2024-03-05``
================================  ==============================================

Full-width digits and punctuation (``２０２４／３／５``) are read after Unicode NFKC
normalization. Day-first or month-first forms (``05/03/2024``, ``3/5/24``) are errors, not
guesses: 05/03 is 5 March in China and 3 May in the United States. Every date comes back
as midnight (``datetime64[ns]``).

Examples
--------
>>> import pandas as pd
>>> days, why = parse_dates(pd.Series(["2024/3/5", "2024年3月5日", "05/03/2024", None]))
>>> [str(d.date()) if pd.notna(d) else None for d in days]
['2024-03-05', '2024-03-05', None, None]
>>> why[2]
'found 05/03/2024: the order of day and month is ambiguous; expected the year first, e.g. 2024-03-05'
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["EXPECTED", "parse_date", "parse_dates"]

EXPECTED = "a date with the year first, e.g. 2024-03-05, 2024/3/5 or 2024年3月5日"
"""What a date cell should hold (for messages)."""

_TIME = r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"
_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME + r"$")
_ZH = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME.replace("[ T]+", r"\s*") + r"$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_AMBIGUOUS = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})" + _TIME + r"$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_SHOWABLE = re.compile(r"^[0-9\-/.年月日号:： T]{1,24}$")
#: Excel's day 0 (serials count days from 1899-12-30, which absorbs the 1900 leap-year bug
#: for every date after February 1900).
EXCEL_EPOCH = _dt.date(1899, 12, 30)
#: Serial numbers read as dates: 10000 (1927-05-18) to 99999 (2173-10-14).
SERIAL_RANGE = (10_000, 99_999)


def _shown(text: str) -> str:
    """The cell as a message may show it: itself when it looks like a date, else its kind."""
    if _SHOWABLE.match(text):
        return text
    return f"text of {len(text)} character{'s' if len(text) != 1 else ''}"


def _build(y: str, m: str, d: str, hh=None, mm=None, ss=None) -> tuple[_dt.date | None, str | None]:
    try:
        day = _dt.date(int(y), int(m), int(d))
    except ValueError:
        return None, f"{int(y):04d}-{int(m):02d}-{int(d):02d} is not a date of the calendar"
    if hh is not None and (int(hh) > 23 or int(mm) > 59 or (ss is not None and int(ss) > 59)):
        return None, "the time after the date is not a time of day"
    return day, None


def parse_date(value, *, serial: bool = False) -> tuple[_dt.date | None, str | None]:
    """One cell as a date: ``(date, None)``, ``(None, reason)``, or ``(None, None)`` when empty.

    Parameters
    ----------
    value : str, date, datetime or number
        The cell as read (:mod:`survey.readers` gives text; a date object is taken as is).
    serial : bool, default False
        Read a five-digit number as an Excel serial day number (XLSX files only: in a CSV a
        number is not a date).

    Examples
    --------
    >>> parse_date("２０２４年３月５日"), parse_date("2024-03-05 14:30")
    ((datetime.date(2024, 3, 5), None), (datetime.date(2024, 3, 5), None))
    >>> parse_date("45356", serial=True), parse_date("45356")[1]
    ((datetime.date(2024, 3, 5), None), 'found 45356, a number; expected a date with the year first, e.g. 2024-03-05, 2024/3/5 or 2024年3月5日')
    >>> parse_date("2024-02-30")[1]
    '2024-02-30 is not a date of the calendar'
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None, None
    if isinstance(value, _dt.datetime):
        return value.date(), None
    if isinstance(value, _dt.date):
        return value, None
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None, None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = f"{value:.10g}"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None, None
    for pattern in (_ISO, _COMPACT):
        m = pattern.match(text)
        if m:
            g = m.groups()
            return _build(g[0], g[2], g[3], *g[4:]) if pattern is _ISO else _build(*g)
    m = _ZH.match(text)
    if m:
        return _build(*m.groups())
    if _AMBIGUOUS.match(text):
        return None, (f"found {_shown(text)}: the order of day and month is ambiguous; expected "
                      "the year first, e.g. 2024-03-05")
    if _SERIAL.match(text):
        x = float(text)
        if serial and SERIAL_RANGE[0] <= x <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + _dt.timedelta(days=int(x)), None
        return None, f"found {_shown(text)}, a number; expected {EXPECTED}"
    return None, f"found {_shown(text)}, which is not a date; expected {EXPECTED}"


def parse_dates(values, *, serial: bool = False) -> tuple[pd.Series, pd.Series]:
    """A column of cells as dates: ``(dates, reasons)``.

    Parameters
    ----------
    values : pandas.Series
        Cells as read (text, dates or numbers; missing allowed).
    serial : bool, default False
        Read five-digit numbers as Excel serial day numbers (XLSX files).

    Returns
    -------
    dates : pandas.Series of datetime64[ns]
        Midnight of each date; ``NaT`` for an empty cell and for one that is not a date.
    reasons : pandas.Series of object
        ``None`` where the cell is a date or empty, else why it is not (the cell is quoted
        only when it looks like a date: no name or phone number reaches a message).

    Work is done once per distinct value.

    Examples
    --------
    >>> d, why = parse_dates(pd.Series(["2024.3.5", "3/5/24", ""]))
    >>> d.dt.strftime("%Y-%m-%d").tolist(), why.notna().tolist()
    (['2024-03-05', nan, nan], [False, True, False])
    """
    s = pd.Series(values)
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    parsed = [parse_date(u, serial=serial) for u in uniques]
    days = np.array([np.datetime64(d, "ns") if d is not None else np.datetime64("NaT", "ns")
                     for d, _ in parsed] + [np.datetime64("NaT", "ns")], dtype="datetime64[ns]")
    why = np.array([r for _, r in parsed] + [None], dtype=object)
    return (pd.Series(days[codes], index=s.index, name=s.name),
            pd.Series(why[codes], index=s.index, name=s.name, dtype=object))

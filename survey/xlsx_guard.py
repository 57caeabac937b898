"""Limits checked on an ``.xlsx`` workbook before openpyxl opens it.

An ``.xlsx`` file is a zip of XML parts. A few megabytes on disk can expand to
gigabytes of XML (a "zip bomb", or just a sheet whose cells were formatted down
to row 1,048,576), and openpyxl then runs for minutes and takes gigabytes of
memory. The zip's central directory states every part's expanded size, so the
workbook can be measured without expanding anything: :func:`check_expanded_size`
refuses a workbook whose parts add up to more than a limit, naming the file, the
size and what to do instead (export as CSV, which the workbench reads at about
100,000 rows a second).

The stated sizes are what zipfile checks while it expands a part (a part that
expands beyond its stated size fails its CRC check), so a lying directory makes
the later read fail rather than run away.
"""

from __future__ import annotations

import io
import zipfile

from core.errors import DataError

#: expanded XML of a survey data workbook; 200,000 rows x 40 answers is about 250 MB
MAX_DATA_BYTES = 512 * 2**20
#: expanded XML of an XLSForm (a questionnaire: a few hundred rows at most)
MAX_FORM_BYTES = 32 * 2**20
#: parts in one workbook (a real one has a few dozen)
MAX_PARTS = 10_000


def expanded_size(raw) -> tuple[int, int]:
    """Total expanded size in bytes and number of parts of a zip, from its directory.

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
    ...     zf.writestr("xl/worksheets/sheet1.xml", "<a/>" * 1000)
    >>> expanded_size(buf.getvalue())
    (4000, 1)
    """
    source = io.BytesIO(raw) if isinstance(raw, (bytes, bytearray)) else raw
    with zipfile.ZipFile(source) as zf:
        infos = zf.infolist()
        return sum(i.file_size for i in infos), len(infos)


def check_expanded_size(raw, *, limit: int | None = None, file: str | None = None,
                        code: str = "FILE_TOO_LARGE", what: str = "workbook") -> None:
    """Refuse an ``.xlsx`` whose parts expand to more than ``limit`` bytes.

    Parameters
    ----------
    raw : bytes or path
        The workbook file, or its path.
    limit : int, optional
        Largest accepted total expanded size, in bytes (default :data:`MAX_DATA_BYTES`).
    file : str, optional
        The file, for the message.
    code : str
        Error code (``FILE_TOO_LARGE`` for data; the XLSForm reader passes its own).
    what : str
        What the workbook is, for the message.

    Raises
    ------
    DataError
        ``code`` with the expanded size and the limit. A file that is not a zip at
        all is left to the reader, which says so in its own words.

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
    ...     zf.writestr("xl/worksheets/sheet1.xml", b" " * 5_000_000)
    >>> len(buf.getvalue()) < 10_000
    True
    >>> try:
    ...     check_expanded_size(buf.getvalue(), limit=1_000_000, file="data/a.xlsx")
    ... except DataError as err:
    ...     print(err.code)
    FILE_TOO_LARGE
    """
    limit = MAX_DATA_BYTES if limit is None else limit
    try:
        total, parts = expanded_size(raw)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if parts > MAX_PARTS:
        raise DataError(code, f"the {what} holds {parts:,} parts; at most {MAX_PARTS:,} are "
                        "accepted (a real workbook has a few dozen)", file=file)
    if total > limit:
        raise DataError(
            code,
            f"the {what} expands to {total / 2**20:,.0f} MiB of XML; at most {limit / 2**20:,.0f} MiB are read. Save it as CSV (UTF-8) "
            "instead, or delete empty formatted rows and columns below and right of the data",
            file=file)

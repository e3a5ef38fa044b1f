"""CSV downloads that a spreadsheet opens as plain text, never as formulas.

A cell such as ``=HYPERLINK(...)`` typed into a patient's name would run when a manager
opens the export in Excel or LibreOffice (CSV injection). Every cell of every export goes
through ``safe_cell``, which keeps such text but makes the spreadsheet read it as text.
"""

import csv
import re
from collections.abc import Iterable

from django.http import StreamingHttpResponse

#: Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, with a leading single quote when it would start a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose ``write`` hands the line back to the caller."""

    def write(self, value: str) -> str:
        return value


def csv_rows(header: Iterable[object], rows: Iterable[Iterable[object]]) -> Iterable[str]:
    """The lines of the CSV file: a UTF-8 byte-order mark (so Excel reads the accents),
    the header and the rows, every cell neutralised."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(
    filename: str, header: Iterable[object], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """Stream ``rows`` as a CSV download named ``filename``; nothing is cached on the way."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.") or "export.csv"
    response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response

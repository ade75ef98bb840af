"""CSV downloads of lists and figures, in the form German spreadsheet programs open."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

# A spreadsheet program reads a cell starting with one of these as a formula (tab and carriage
# return because some programs strip them and look at what follows).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number written as text ("-1,5", "+49301234"): no formula can hide in it.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def neutralised(value: Any) -> Any:
    """A cell as a spreadsheet program shows it but never runs it: text that a spreadsheet
    would read as a formula gets a leading `'` (OWASP's advice against CSV injection:
    `=HYPERLINK(...)` in a citizen's name stays text). Numbers stay numbers, also negative
    ones, and so does text that is only a number."""
    if value is None or isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer whose cells pass through `neutralised`: exports write citizens' and
    colleagues' text (names, subjects), so no export may write a cell raw."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralised(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_response(filename: str) -> tuple[HttpResponse, SafeWriter]:
    """An attachment response and a writer for it: UTF-8 with a BOM (so Excel detects the
    encoding), `;` between fields (the German list separator), formulas neutralised."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    return response, SafeWriter(response, delimiter=";")

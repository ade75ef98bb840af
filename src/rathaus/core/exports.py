"""CSV downloads of lists and figures, in the form German spreadsheet programs open."""

from __future__ import annotations

import csv
from typing import Any

from django.http import HttpResponse


def csv_response(filename: str) -> tuple[HttpResponse, Any]:
    """An attachment response and a writer for it: UTF-8 with a BOM (so Excel detects the
    encoding) and `;` between fields (the German list separator)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    return response, csv.writer(response, delimiter=";")

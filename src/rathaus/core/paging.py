"""One page of a list view, with the query string its pager links keep (filters, sorting)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest

PAGE_SIZE = 25


def paged(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> dict[str, Any]:
    """`page` and `querystring` for `core/partials/pager.html`: the `?page=` of the request
    (a bad or too high number gives the nearest page), and its other parameters."""
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    return {"page": page, "querystring": query.urlencode()}

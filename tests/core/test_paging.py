"""The pager of every list page keeps the list's filters and forgives a bad page number."""

from __future__ import annotations

from django.test import RequestFactory

from rathaus.core.paging import paged


def test_the_pager_keeps_the_filters_and_takes_the_nearest_page():
    rows = list(range(60))
    context = paged(RequestFactory().get("/", {"all": "1", "q": "Pass", "page": "2"}), rows)
    assert context["querystring"] == "all=1&q=Pass"
    assert context["page"].number == 2 and list(context["page"]) == list(range(25, 50))
    assert paged(RequestFactory().get("/", {"page": "99"}), rows)["page"].number == 3
    assert paged(RequestFactory().get("/", {"page": "x"}), rows)["page"].number == 1
    small = paged(RequestFactory().get("/"), rows, size=50)
    assert small["querystring"] == "" and small["page"].paginator.num_pages == 2

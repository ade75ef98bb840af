"""The catalogue's tiles on the start page (registered in CatalogConfig.ready())."""

from __future__ import annotations

from typing import Any

from rathaus.core.home import Tile
from rathaus.core.http import TenantRequest
from rathaus.core.models import Role
from rathaus.core.selectors import units_visible_to

from . import selectors


def _search(request: TenantRequest) -> dict[str, Any]:
    return {}


def _review(request: TenantRequest) -> dict[str, Any] | None:
    if not request.roles & {Role.KNOWLEDGE_EDITOR, Role.TENANT_ADMIN}:
        return None
    due = selectors.articles_due_for_review()
    return {"review_due": due[:5], "review_due_count": due.count()}


def _unit_services(request: TenantRequest) -> dict[str, Any] | None:
    if not request.roles & {Role.CLERK, Role.TEAM_LEAD}:
        return None
    units = units_visible_to(request.memberships)
    return {"unit_services": selectors.services_of_units(units)[:10]}


TILES = [
    Tile("catalog.search", "catalog/tiles/search.html", _search, order=10),
    Tile("catalog.review", "catalog/tiles/review.html", _review, order=20),
    Tile("catalog.unit_services", "catalog/tiles/unit_services.html", _unit_services, order=30),
]

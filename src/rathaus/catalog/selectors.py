"""Reads of the catalogue used in more than one place; tenant-scoped through django-scopes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from rathaus.catalog.models import Article, CatalogRevision, Service, ServiceStatus
from rathaus.catalog.search import SearchDocument, SearchIndex
from rathaus.core.models import OrgUnit, Tenant


def published_services() -> QuerySet[Service]:
    today = timezone.localdate()
    return Service.objects.filter(status=ServiceStatus.PUBLISHED).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gte=today),
    )


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(published=True, retired=False)


def articles_due_for_review(on: dt.date | None = None) -> QuerySet[Article]:
    """Live articles whose review date has come (or that never got one)."""
    day = on or timezone.localdate()
    return (
        Article.objects.filter(retired=False)
        .filter(Q(review_by__lte=day) | Q(review_by__isnull=True))
        .select_related("owner")
        .order_by("review_by", "question")
    )


def services_of_units(units: Iterable[OrgUnit] | QuerySet[OrgUnit]) -> QuerySet[Service]:
    return published_services().filter(org_unit__in=units).order_by("name")


@dataclass(frozen=True)
class CatalogHit:
    kind: str
    obj: Service | Article
    score: float


# One index per tenant and process, rebuilt when the tenant's catalogue revision moves on.
_indexes: dict[int, tuple[int, SearchIndex]] = {}
_index_lock = threading.Lock()


def catalog_revision(tenant: Tenant) -> int:
    return (
        CatalogRevision.objects.filter(tenant=tenant).values_list("number", flat=True).first() or 0
    )


def search_documents() -> list[SearchDocument]:
    """The published catalogue of the current scope as search documents, in a stable order."""
    docs = [
        SearchDocument(
            kind="service",
            pk=row["pk"],
            title=row["name"],
            keywords=row["keywords"],
            body="\n".join(
                row[f] or "" for f in ("summary", "audience", "requirements", "documents", "fees")
            ),
        )
        for row in published_services()
        .order_by("pk")
        .values(
            "pk", "name", "keywords", "summary", "audience", "requirements", "documents", "fees"
        )
    ]
    docs += [
        SearchDocument(
            kind="article",
            pk=row["pk"],
            title=row["question"],
            keywords=row["keywords"],
            body=row["answer"],
        )
        for row in published_articles()
        .order_by("pk")
        .values("pk", "question", "keywords", "answer")
    ]
    return docs


def search_index(tenant: Tenant) -> SearchIndex:
    revision = catalog_revision(tenant)
    cached = _indexes.get(tenant.pk)
    if cached and cached[0] == revision:
        return cached[1]
    with _index_lock:
        cached = _indexes.get(tenant.pk)
        if cached and cached[0] == revision:
            return cached[1]
        index = SearchIndex.build(search_documents())
        _indexes[tenant.pk] = (revision, index)
        return index


def catalog_search(tenant: Tenant, query: str, *, limit: int | None = None) -> list[CatalogHit]:
    """Search services and articles of one tenant: three queries, whatever the number of hits."""
    hits = search_index(tenant).search(query, limit=limit or settings.RATHAUS_SEARCH_LIMIT)
    ids: dict[str, list[int]] = {"service": [], "article": []}
    for hit in hits:
        ids[hit.kind].append(hit.pk)
    objects: dict[tuple[str, int], Service | Article] = {}
    if ids["service"]:
        objects.update(
            (("service", s.pk), s)
            for s in published_services().filter(pk__in=ids["service"]).select_related("org_unit")
        )
    if ids["article"]:
        objects.update(
            (("article", a.pk), a) for a in published_articles().filter(pk__in=ids["article"])
        )
    # An object unpublished since the index was built simply drops out.
    return [
        CatalogHit(kind=h.kind, obj=objects[(h.kind, h.pk)], score=h.score)
        for h in hits
        if (h.kind, h.pk) in objects
    ]

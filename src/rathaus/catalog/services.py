"""Writes of the catalogue: services, articles, locations. Each appends an event and bumps
the tenant's catalogue revision so search indexes in every process rebuild."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import F

from rathaus.catalog import events
from rathaus.catalog.models import Article, CatalogRevision, Location, Service, ServiceStatus
from rathaus.core.events import Activity, event_append
from rathaus.core.models import Tenant


def catalog_revision_bump(*, tenant: Tenant) -> None:
    updated = CatalogRevision.objects.filter(tenant=tenant).update(number=F("number") + 1)
    if not updated:
        CatalogRevision.objects.get_or_create(tenant=tenant, defaults={"number": 1})


def _apply(instance: models.Model, fields: dict[str, Any]) -> list[str]:
    """Set the given fields, return the names that really changed (for the event payload)."""
    changed = []
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _save_with_event(
    instance: Service | Article | Location,
    *,
    activity: Activity,
    changed: list[str],
    actor: User | None,
    payload: dict[str, Any] | None = None,
) -> None:
    instance.full_clean()
    instance.save()
    event_append(
        tenant=instance.tenant,
        activity=activity,
        subject=instance,
        actor=actor,
        org_unit=getattr(instance, "org_unit", None),
        payload={"fields": sorted(changed), **(payload or {})},
    )
    catalog_revision_bump(tenant=instance.tenant)


@transaction.atomic
def service_create(
    *,
    tenant: Tenant,
    actor: User | None = None,
    combinable: Iterable[Service] = (),
    **fields: Any,
) -> Service:
    service = Service(tenant=tenant)
    changed = _apply(service, fields)
    _save_with_event(service, activity=events.SERVICE_CREATED, changed=changed, actor=actor)
    if combinable:
        service.combinable.set(combinable)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    actor: User | None = None,
    combinable: Iterable[Service] | None = None,
    **fields: Any,
) -> list[str]:
    """Change a service; returns the changed field names (empty: nothing happened, no event)."""
    changed = _apply(service, fields)
    if combinable is not None:
        wanted = {s.pk for s in combinable}
        if wanted != set(service.combinable.values_list("pk", flat=True)):
            service.combinable.set(wanted)
            changed.append("combinable")
    if changed:
        _save_with_event(service, activity=events.SERVICE_UPDATED, changed=changed, actor=actor)
    return changed


@transaction.atomic
def service_set_status(*, service: Service, status: str, actor: User | None = None) -> None:
    status = ServiceStatus(status)
    if service.status == status:
        return
    service.status = status
    _save_with_event(
        service,
        activity=events.SERVICE_STATUS_SET[status],
        changed=["status"],
        actor=actor,
        payload={"status": str(status)},
    )


@transaction.atomic
def article_create(
    *,
    tenant: Tenant,
    actor: User | None = None,
    services: Iterable[Service] = (),
    **fields: Any,
) -> Article:
    article = Article(tenant=tenant, owner=fields.pop("owner", actor))
    changed = _apply(article, fields)
    _save_with_event(article, activity=events.ARTICLE_CREATED, changed=changed, actor=actor)
    article.services.set(services)
    return article


@transaction.atomic
def article_update(
    *,
    article: Article,
    actor: User | None = None,
    services: Iterable[Service] | None = None,
    **fields: Any,
) -> list[str]:
    changed = _apply(article, fields)
    if services is not None:
        wanted = {s.pk for s in services}
        if wanted != set(article.services.values_list("pk", flat=True)):
            article.services.set(wanted)
            changed.append("services")
    if changed:
        _save_with_event(article, activity=events.ARTICLE_UPDATED, changed=changed, actor=actor)
    return changed


@transaction.atomic
def article_publish(*, article: Article, published: bool, actor: User | None = None) -> None:
    if article.published == published and not article.retired:
        return
    article.published = published
    article.retired = False
    activity = events.ARTICLE_PUBLISHED if published else events.ARTICLE_UNPUBLISHED
    _save_with_event(article, activity=activity, changed=["published"], actor=actor)


@transaction.atomic
def article_retire(*, article: Article, actor: User | None = None) -> None:
    if article.retired:
        return
    article.retired = True
    article.published = False
    _save_with_event(
        article, activity=events.ARTICLE_RETIRED, changed=["retired", "published"], actor=actor
    )


@transaction.atomic
def location_create(
    *,
    tenant: Tenant,
    actor: User | None = None,
    services: Iterable[Service] = (),
    **fields: Any,
) -> Location:
    location = Location(tenant=tenant)
    changed = _apply(location, fields)
    _save_with_event(location, activity=events.LOCATION_CREATED, changed=changed, actor=actor)
    location.services.set(services)
    return location


@transaction.atomic
def location_update(
    *,
    location: Location,
    actor: User | None = None,
    services: Iterable[Service] | None = None,
    **fields: Any,
) -> list[str]:
    changed = _apply(location, fields)
    if services is not None:
        wanted = {s.pk for s in services}
        if wanted != set(location.services.values_list("pk", flat=True)):
            location.services.set(wanted)
            changed.append("services")
    if changed:
        _save_with_event(location, activity=events.LOCATION_UPDATED, changed=changed, actor=actor)
    return changed

"""Writes of the core app. Every write appends its events in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from rathaus.core import events
from rathaus.core.events import event_append
from rathaus.core.models import (
    AccessAction,
    AttemptCount,
    ClosingDay,
    Membership,
    OrgUnit,
    PersonalDataAccess,
    Role,
    Tenant,
)


@transaction.atomic
def tenant_create(*, name: str, slug: str, ags: str, state: str, **contact: Any) -> Tenant:
    tenant = Tenant(name=name, slug=slug, ags=ags, state=state, **contact)
    tenant.full_clean()
    tenant.save()
    event_append(tenant=tenant, activity=events.TENANT_CREATED, subject=tenant)
    return tenant


@transaction.atomic
def org_unit_create(
    *,
    tenant: Tenant,
    name: str,
    code: str,
    kind: str,
    parent: OrgUnit | None = None,
    cost_centre: str = "",
    email: str = "",
    is_kc: bool = False,
    actor: User | None = None,
) -> OrgUnit:
    if parent is not None and parent.tenant_id != tenant.pk:
        raise ValueError("The parent unit belongs to another tenant.")
    unit = OrgUnit(
        tenant=tenant,
        parent=parent,
        name=name,
        code=code,
        kind=kind,
        cost_centre=cost_centre,
        email=email,
        is_kc=is_kc,
    )
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    event_append(
        tenant=tenant,
        activity=events.ORG_UNIT_CREATED,
        subject=unit,
        actor=actor,
    )
    return unit


@transaction.atomic
def membership_grant(
    *, user: User, org_unit: OrgUnit, role: str, actor: User | None = None
) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, tenant=org_unit.tenant, org_unit=org_unit, role=Role(role)
    )
    if created:
        event_append(
            tenant=org_unit.tenant,
            activity=events.MEMBERSHIP_GRANTED,
            subject=membership,
            actor=actor,
            org_unit=org_unit,
            payload={"role": role, "user_id": user.pk},
        )
    return membership


@transaction.atomic
def user_create(
    *, username: str, password: str, first_name: str = "", last_name: str = "", email: str = ""
) -> Any:
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    return user


@transaction.atomic
def closing_day_add(
    *, tenant: Tenant, date: dt.date, name: str, actor: User | None = None
) -> ClosingDay:
    day = ClosingDay.objects.filter(tenant=tenant, date=date).first()
    if day is not None and day.name == name:
        return day
    if day is None:
        day = ClosingDay(tenant=tenant, date=date)
    day.name = name
    day.full_clean()
    day.save()
    event_append(
        tenant=tenant,
        activity=events.CLOSING_DAY_SET,
        subject=day,
        actor=actor,
        payload={"date": date.isoformat()},
    )
    return day


def attempt_count(key: str, window_seconds: int, now: dt.datetime | None = None) -> int:
    """Count one attempt under `key` and return the attempts of the current window, this one
    included. The window starts with the first attempt and lasts `window_seconds`.

    One statement (an upsert that returns the new count; PostgreSQL and SQLite 3.35+), so
    concurrent attempts in any number of processes are all counted.
    """
    moment = int((now or timezone.now()).timestamp())
    stored_key = hashlib.sha256(key.encode()).hexdigest()
    table = connection.ops.quote_name(AttemptCount._meta.db_table)
    key_, ends, count = (connection.ops.quote_name(c) for c in ("key", "window_ends", "count"))
    running = f"{table}.{ends} > %s"
    with connection.cursor() as cursor:
        # Names quoted from the model, values as parameters: nothing from outside in the SQL.
        cursor.execute(
            f"INSERT INTO {table} ({key_}, {ends}, {count}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key_}) DO UPDATE SET "
            f"{count} = CASE WHEN {running} THEN {table}.{count} + 1 ELSE 1 END, "
            f"{ends} = CASE WHEN {running} THEN {table}.{ends} ELSE excluded.{ends} END "
            f"RETURNING {count}",
            [stored_key, moment + window_seconds, moment, moment],
        )
        return int(cursor.fetchone()[0])


def attempt_counts_purge(now: dt.datetime) -> int:
    """Forget the counts of ended windows (timer `core.attempt_counts`)."""
    deleted, _per_model = AttemptCount.objects.filter(
        window_ends__lte=int(now.timestamp())
    ).delete()
    return deleted


def personal_data_accessed(
    *,
    tenant: Tenant,
    user: User | None,
    subject_kind: str,
    subject_id: object = "",
    action: str = AccessAction.VIEWED,
    client: str = "",
) -> None:
    """Log that `user` viewed, searched or exported citizens' data (a page of a booking or a
    case, a search, a CSV), or an integration did through the API (`client`, its token).
    Only what and which, never the data or the search term."""
    PersonalDataAccess.objects.create(
        tenant=tenant,
        user=user if user is not None and user.is_authenticated else None,
        client=client,
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        action=action,
    )


def access_log_purge(now: dt.datetime) -> int:
    """Forget accesses older than `RATHAUS_ACCESS_LOG_DAYS` (timer `core.access_log`)."""
    cutoff = now - dt.timedelta(days=settings.RATHAUS_ACCESS_LOG_DAYS)
    with scopes_disabled():
        deleted, _per_model = PersonalDataAccess.objects.filter(at__lt=cutoff).delete()
    return deleted

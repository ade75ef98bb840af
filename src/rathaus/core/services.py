"""Writes of the core app. Every write appends its events in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from rathaus.core import events, tenant_data
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
    TenantRemoval,
)

log = logging.getLogger(__name__)


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


@transaction.atomic
def tenant_remove(*, tenant: Tenant) -> TenantRemoval:
    """Remove the municipality and every row and file of it (core.tenant_data finds them), and
    record the removal installation-wide (`TenantRemoval`), since its own event log goes too.

    Rows are deleted table by table with raw DELETEs, not through the ORM's collector: the
    append-only event log and the PROTECTed references (a booking's location) would refuse,
    and rightly so for anything but this. The foreign keys are deferred, so the order does not
    matter; they are checked before the end, so a row of another tenant that still refers to
    one of this tenant's fails the removal and nothing is gone. Files go once it committed."""
    with scopes_disabled():
        files = tenant_data.tenant_files(tenant)
        _members, own_users = tenant_data.tenant_users(tenant)
        tasks = tenant_data.tenant_tasks(tenant)
        removed: dict[str, int] = {}

        def count(name: str, rows: int) -> None:
            if rows:
                removed[name] = removed.get(name, 0) + rows

        for child in tenant_data.child_tables():
            rows = child.model._base_manager.filter(**{child.lookup: tenant})
            if child.keeps_row:
                rows.update(**{child.field.name: None})
            else:
                count(child.model._meta.label_lower, rows._raw_delete(rows.db))
        for model, field in tenant_data.tenant_models():
            rows = model._base_manager.filter(**{field: tenant})
            count(model._meta.label_lower, rows._raw_delete(rows.db))
        queued = DBTaskResult.objects.filter(pk__in=tasks)
        count(DBTaskResult._meta.label_lower, queued._raw_delete(queued.db))
        # Through the ORM: what hangs on an account (second factors, lockouts) goes with it.
        _deleted, by_model = get_user_model()._base_manager.filter(pk__in=own_users).delete()
        for name, deleted in by_model.items():
            count(name.lower(), deleted)
        Tenant.objects.filter(pk=tenant.pk)._raw_delete(connection.alias)
        connection.check_constraints()
        record = TenantRemoval.objects.create(
            slug=tenant.slug, name=tenant.name, ags=tenant.ags, rows=removed, files=len(files)
        )
    transaction.on_commit(lambda: _files_delete(files))
    log.warning(
        "Tenant %s removed: %s rows, %s files", tenant.slug, sum(removed.values()), len(files)
    )
    return record


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)

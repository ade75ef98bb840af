"""Everything of one municipality, found from the models themselves: for the export of a tenant
as a file and its complete removal (`rathaus tenant_export`, `rathaus tenant_remove`).

Nothing is listed by hand, so a model a later app adds is covered the day it exists:

- *tenant models*: every model with a foreign key (or one-to-one) to `Tenant` — all
  `TenantOwned` models, `BookingPolicy` and whatever comes;
- *child tables*: models without a tenant column whose rows hang on a tenant model, the
  many-to-many tables above all (a counter's services, a contact's services);
- *queued tasks*: rows of the task queue whose task takes a `tenant_pk` argument with the
  tenant's id (the outbox's mails);
- *people*: the accounts of the tenant's staff. An account is installation-wide (one login
  for several municipalities); it belongs to this tenant only when all its memberships are
  here and no other tenant's row refers to it.

What stays is installation-wide and names no tenant: timers, rate-limit counters (hashed
keys that expire within their window), the cache, sessions (a session that pointed at the
tenant finds none and falls back, core.middleware).
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.storage import default_storage
from django.db import models
from django.utils.module_loading import import_string
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from rathaus.core.models import Membership, Tenant

EXPORT_FORMAT = "rathaus-tenant-export"
EXPORT_VERSION = 1
# What of an account goes into the export: who the person is, never the password hash.
USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "date_joined"]


def tenant_models() -> list[tuple[type[models.Model], str]]:
    """(model, name of its field to Tenant) for every model that has one."""
    found = []
    for model in apps.get_models():
        if model is Tenant:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Tenant:
                found.append((model, field.name))
                break
    return found


@dataclass(frozen=True)
class Child:
    """A table without a tenant column whose rows belong to a tenant model's rows."""

    model: type[models.Model]
    field: models.ForeignKey[Any, Any]  # the key to the tenant model
    lookup: str  # the filter that selects the tenant's rows, e.g. "counter__tenant"

    @property
    def keeps_row(self) -> bool:
        """An optional reference from a table of its own (not a link table): only the
        reference goes, as the database would do on SET_NULL."""
        return self.field.null and not self.model._meta.auto_created


def child_tables() -> list[Child]:
    owned = {model: name for model, name in tenant_models()}
    children = []
    for model in apps.get_models(include_auto_created=True):
        if model is Tenant or model in owned:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model in owned:
                lookup = f"{field.name}__{owned[field.related_model]}"
                children.append(Child(model, field, lookup))
    return children


def tenant_tasks(tenant: Tenant) -> list[uuid.UUID]:
    """Ids of queued (or finished) tasks whose `tenant_pk` argument is this tenant."""
    positions: dict[str, int | None] = {}
    found: list[uuid.UUID] = []
    for pk, path, arguments in DBTaskResult.objects.values_list("pk", "task_path", "args_kwargs"):
        if path not in positions:
            positions[path] = _tenant_argument(path)
        position = positions[path]
        if position is None:
            continue
        args, kwargs = arguments.get("args", []), arguments.get("kwargs", {})
        value = kwargs.get("tenant_pk", args[position] if position < len(args) else None)
        if value == tenant.pk:
            found.append(pk)
    return found


def _tenant_argument(task_path: str) -> int | None:
    try:
        task = import_string(task_path)
    except ImportError:
        return None  # a task of an older version: its arguments cannot be read
    function = getattr(task, "func", task)
    names = list(inspect.signature(function).parameters)
    return names.index("tenant_pk") if "tenant_pk" in names else None


def tenant_users(tenant: Tenant) -> tuple[list[int], list[int]]:
    """(ids of every account with a membership here, ids of those that are only this tenant's).

    An account stays when it has a membership elsewhere, is a superuser, or another tenant's
    row refers to it (an actor in their log, a token's creator): removing it would change
    their data."""
    user_model = get_user_model()
    members = set(
        Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True).distinct()
    )
    elsewhere = set(
        Membership.objects.exclude(tenant=tenant).values_list("user_id", flat=True).distinct()
    )
    elsewhere |= set(user_model.objects.filter(is_superuser=True).values_list("pk", flat=True))
    for model, tenant_field in tenant_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                elsewhere |= set(
                    model._base_manager.exclude(**{tenant_field: tenant})
                    .filter(**{f"{field.name}__in": members})
                    .values_list(field.attname, flat=True)
                )
    return sorted(members), sorted(members - elsewhere)


def tenant_files(tenant: Tenant) -> list[str]:
    """Storage names of the files the tenant's rows keep (attachments, raw mails, the logo)."""
    names: list[str] = [tenant.logo.name] if tenant.logo and tenant.logo.name else []
    for model, tenant_field in tenant_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names += (
                    model._base_manager.filter(**{tenant_field: tenant})
                    .exclude(**{field.name: ""})
                    .values_list(field.name, flat=True)
                )
    return sorted(set(names))


def _querysets(tenant: Tenant) -> Iterator[tuple[str, models.QuerySet[Any]]]:
    yield "core.tenant", Tenant.objects.filter(pk=tenant.pk)
    for model, tenant_field in tenant_models():
        manager = model._base_manager
        yield model._meta.label_lower, manager.filter(**{tenant_field: tenant}).order_by("pk")
    ids = tenant_tasks(tenant)
    yield DBTaskResult._meta.label_lower, DBTaskResult.objects.filter(pk__in=ids).order_by("pk")


def tenant_export(tenant: Tenant, path: Path) -> dict[str, Any]:
    """Write every row and file of the tenant to a zip file at `path`; returns its manifest.

    The zip holds `manifest.json` (what is in it), `data/<app.model>.json` in Django's
    serialisation format (many-to-many links inside their rows), `data/auth.user.json` (the
    staff accounts without password hashes) and `files/<storage name>`. It contains the
    citizens' personal data: it is written readable for its owner only."""
    with scopes_disabled():
        counts: dict[str, int] = {}
        members, _own = tenant_users(tenant)
        files = tenant_files(tenant)
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for label, queryset in _querysets(tenant):
                counts[label] = _write_rows(archive, f"data/{label}.json", queryset)
            users = get_user_model()._base_manager.filter(pk__in=members).order_by("pk")
            counts["auth.user"] = _write_rows(archive, "data/auth.user.json", users, USER_FIELDS)
            missing = []
            for name in files:
                if default_storage.exists(name):
                    with default_storage.open(name, "rb") as source:
                        archive.writestr(f"files/{name}", source.read())
                else:
                    missing.append(name)
            manifest = {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                "rows": counts,
                "files": [name for name in files if name not in missing],
                "files_missing": missing,
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        partial.chmod(0o600)
        partial.replace(path)
    return manifest


def _write_rows(
    archive: zipfile.ZipFile,
    name: str,
    queryset: models.QuerySet[Any],
    fields: list[str] | None = None,
) -> int:
    count = 0

    def counted() -> Iterator[Any]:
        nonlocal count
        for row in queryset.iterator(chunk_size=2000):
            count += 1
            yield row

    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        serializers.serialize("json", counted(), stream=text, fields=fields)
    return count

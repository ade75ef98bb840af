"""Working as one municipality: its rows only, in its local time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone
from django_scopes import scope

from rathaus.core.models import Tenant
from rathaus.core.wall import tenant_wall


@contextmanager
def tenant_context(tenant: Tenant) -> Iterator[None]:
    """Scope every query to the tenant and show and read times in its time zone (requests,
    jobs, mails). Naive times entered in forms then mean the municipality's local time.
    On PostgreSQL the database's row-level security is set to the same tenant
    (`core.wall`), so even a raw query sees no other municipality's rows."""
    with scope(tenant=tenant), timezone.override(tenant.zone), tenant_wall(str(tenant.pk)):
        yield

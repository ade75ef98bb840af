"""The appointments app's periodic jobs, called by the worker's timers for every tenant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from rathaus.core.models import Tenant
from rathaus.core.tenancy import tenant_context

from . import services


def _each_tenant(job: Callable[[Tenant], int]) -> int:
    count = 0
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            count += job(tenant)
    return count


def expire_holds_all(now: dt.datetime) -> int:
    return _each_tenant(lambda t: services.holds_expire(tenant=t, now=now))


def no_shows_all(now: dt.datetime) -> int:
    return _each_tenant(lambda t: services.no_shows_mark(tenant=t, now=now))


def reminders_all(now: dt.datetime) -> int:
    return _each_tenant(lambda t: services.reminders_send(tenant=t, now=now))


def erase_all(now: dt.datetime) -> int:
    return _each_tenant(lambda t: services.bookings_erase(tenant=t, now=now))


def slots_all(now: dt.datetime) -> int:
    today = timezone.localdate(now)
    return _each_tenant(lambda t: services.slots_materialize_all(tenant=t, today=today))

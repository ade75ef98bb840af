"""The contacts app's periodic jobs, called by the worker's timers for every tenant."""

from __future__ import annotations

import datetime as dt

from rathaus.core.models import Tenant
from rathaus.core.tenancy import tenant_context

from . import notifications, services
from .services import mail


def escalate_all(now: dt.datetime) -> int:
    count = 0
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            count += len(services.cases_escalate(tenant=tenant, now=now))
    return count


def digest_all(now: dt.datetime) -> int:
    count = 0
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            count += notifications.overdue_digest_send(tenant=tenant, now=now)
    return count


def poll_mail_all(now: dt.datetime) -> int:
    return mail.poll_all_mailboxes()

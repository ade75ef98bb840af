"""The daily digest of overdue cases for team leads (sent by the worker's timer)."""

from __future__ import annotations

import datetime as dt

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from rathaus.core.events import event_append
from rathaus.core.models import Membership, OrgUnit, Role, Tenant
from rathaus.core.selectors import sender_of

from . import events
from .models import Case, overdue_q


def overdue_digest_send(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Mail each team lead the overdue cases of their unit and its sub-units; returns mails sent.

    One mail per lead, not per case, so a bad day does not flood anyone's inbox.
    """
    now = now or timezone.now()
    overdue = list(
        Case.objects.filter(overdue_q(now), tenant=tenant)
        .select_related("org_unit", "assignee")
        .order_by("deadline", "id")
    )
    if not overdue:
        return 0
    leads = (
        Membership.objects.filter(tenant=tenant, role=Role.TEAM_LEAD)
        .exclude(user__email="")
        .select_related("user", "org_unit")
    )
    messages = []
    for membership in leads:
        unit: OrgUnit = membership.org_unit
        cases = [c for c in overdue if c.org_unit.path.startswith(unit.path)]
        if not cases:
            continue
        with translation.override("de"):
            body = render_to_string(
                "contacts/mail/overdue_digest.txt",
                {"unit": unit, "cases": cases, "tenant": tenant, "now": now},
            )
            subject = f"Überfällige Vorgänge: {len(cases)} in {unit.name}"
        messages.append(
            EmailMessage(
                subject=subject,
                body=body,
                from_email=sender_of(tenant),
                to=[membership.user.email],
            )
        )
        event_append(
            tenant=tenant,
            activity=events.OVERDUE_DIGEST_SENT,
            subject=unit,
            org_unit=unit,
            payload={"cases": len(cases), "lead": membership.user_id},
        )
    if messages:
        # Mail leaves only when the events are committed (DESIGN: side effects on commit).
        transaction.on_commit(lambda: get_connection().send_messages(messages))
    return len(messages)

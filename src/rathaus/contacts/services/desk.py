"""Writes of the KC desk: contacts on every channel, their outcome (a hand-over opens a
case) and the callbacks promised. Every write appends its events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.catalog.models import Service
from rathaus.contacts.models import Case, Channel, Contact, Direction, Outcome, Priority
from rathaus.contacts.services.cases import _citizen_fields, case_create, case_event
from rathaus.core.events import Activity, Json, event_build
from rathaus.core.models import Event, OrgUnit, Tenant

from .. import events


@transaction.atomic
def contact_start(
    *,
    tenant: Tenant,
    agent: User | None,
    org_unit: OrgUnit | None,
    channel: str,
    direction: str = Direction.INBOUND,
    started_at: dt.datetime | None = None,
    citizen: dict[str, str] | None = None,
    summary: str = "",
) -> Contact:
    """Open a contact; the clock runs until `contact_finish`. Citizen data when already known
    (an e-mail names its sender)."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    contact = Contact.objects.create(
        tenant=tenant,
        agent=agent,
        org_unit=org_unit,
        channel=channel,
        direction=direction,
        started_at=started_at or timezone.now(),
        summary=summary.strip(),
        **_citizen_fields(citizen),
    )
    contact_event(contact, events.CONTACT_STARTED, agent, timestamp=contact.started_at).save()
    return contact


def _apply_outcome(
    contact: Contact,
    *,
    outcome: str,
    actor: User | None,
    summary: str,
    citizen: dict[str, str] | None,
    callback_due: dt.datetime | None,
    handover: dict[str, Any] | None,
    join_case: Case | None,
    ended_at: dt.datetime,
) -> None:
    """Validate an outcome and what it needs, set the fields, create the case of a hand-over."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if ended_at < contact.started_at:
        raise ValidationError({"ended_at": _("The end lies before the start.")})
    if outcome == Outcome.CALLBACK and callback_due is None:
        raise ValidationError({"callback_due": _("A promised callback needs a due time.")})
    if outcome == Outcome.HANDED_OVER and handover is None and join_case is None:
        raise ValidationError({"outcome": _("A hand-over needs a service or a unit.")})
    contact.outcome = outcome
    contact.summary = summary.strip()
    contact.callback_due = callback_due if outcome == Outcome.CALLBACK else None
    contact.ended_at = ended_at
    for field, value in _citizen_fields(citizen).items():
        setattr(contact, field, value)
    if outcome != Outcome.HANDED_OVER:
        return
    if join_case is not None:
        contact.case = join_case
        return
    assert handover is not None
    contact.case = case_create(
        tenant=contact.tenant,
        channel=contact.channel,
        actor=actor,
        citizen=citizen,
        description=handover.get("description") or contact.summary,
        subject=handover.get("subject") or "",
        service=handover.get("service"),
        org_unit=handover.get("org_unit"),
        priority=handover.get("priority", Priority.NORMAL),
        created_at=contact.ended_at,
    )


def contact_event(
    contact: Contact,
    activity: Activity,
    actor: User | None,
    *,
    timestamp: dt.datetime | None = None,
    payload: Mapping[str, Json] | None = None,
) -> Event:
    """An unsaved event about a contact: save it, or insert several with `bulk_create`."""
    return event_build(
        tenant=contact.tenant,
        activity=activity,
        subject=contact,
        actor=actor,
        org_unit=contact.org_unit,
        channel=contact.channel,
        timestamp=timestamp,
        payload=payload,
    )


def _finished_event(contact: Contact, services: Sequence[Service], actor: User | None) -> Event:
    """`contact_finished` with outcome and handling time: the source of the KC's figures."""
    return contact_event(
        contact,
        events.CONTACT_FINISHED,
        actor,
        timestamp=contact.ended_at,
        payload={
            "outcome": contact.outcome,
            "handling_seconds": contact.handling_seconds,
            "services": [s.pk for s in services],
            "case": contact.case.reference if contact.case else None,
        },
    )


@transaction.atomic
def contact_finish(
    *,
    contact: Contact,
    outcome: str,
    actor: User | None,
    summary: str = "",
    services: Sequence[Service] = (),
    citizen: dict[str, str] | None = None,
    callback_due: dt.datetime | None = None,
    handover: dict[str, Any] | None = None,
    join_case: Case | None = None,
    ended_at: dt.datetime | None = None,
) -> Contact:
    """Close a running contact with its outcome.

    1. Validate the outcome and what it needs (a callback time, a hand-over target).
    2. Store note, services and the minimal citizen data; stop the clock.
    3. For a hand-over, create a case (or join an open one) and link it.
    4. Append `contact_finished` with outcome and handling time, the KPI source.
    """
    if contact.ended_at is not None:
        raise ValidationError(_("This contact is already finished."))
    _apply_outcome(
        contact,
        outcome=outcome,
        actor=actor,
        summary=summary,
        citizen=citizen,
        callback_due=callback_due,
        handover=handover,
        join_case=join_case,
        ended_at=ended_at or timezone.now(),
    )
    contact.save()
    contact.services.set(services)
    if join_case is not None:
        case_event(join_case, events.CASE_CONTACT_JOINED, actor, {"contact": contact.pk})
    _finished_event(contact, services, actor).save()
    return contact


@transaction.atomic
def contact_record(
    *,
    tenant: Tenant,
    agent: User | None,
    org_unit: OrgUnit | None,
    channel: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    outcome: str,
    actor: User | None,
    direction: str = Direction.INBOUND,
    summary: str = "",
    services: Sequence[Service] = (),
    citizen: dict[str, str] | None = None,
    callback_due: dt.datetime | None = None,
    handover: dict[str, Any] | None = None,
) -> Contact:
    """A finished contact in one go (telephony and web integrations through the API).

    The same rows and events as `contact_start` + `contact_finish`, written with one insert
    per table, because integrations deliver hundreds of contacts a second.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    contact = Contact(
        tenant=tenant,
        agent=agent,
        org_unit=org_unit,
        channel=channel,
        direction=direction,
        started_at=started_at,
    )
    _apply_outcome(
        contact,
        outcome=outcome,
        actor=actor,
        summary=summary,
        citizen=citizen,
        callback_due=callback_due,
        handover=handover,
        join_case=None,
        ended_at=ended_at,
    )
    contact.save()
    through = Contact.services.through
    through.objects.bulk_create([through(contact_id=contact.pk, service_id=s.pk) for s in services])
    contact.service_ids = [s.pk for s in services]
    Event.objects.bulk_create(
        [
            contact_event(contact, events.CONTACT_STARTED, actor, timestamp=contact.started_at),
            _finished_event(contact, services, actor),
        ]
    )
    return contact


@transaction.atomic
def callback_done(*, contact: Contact, actor: User | None) -> Contact:
    if contact.callback_due is None or contact.callback_done_at is not None:
        raise ValidationError(_("There is no open callback on this contact."))
    contact.callback_done_at = timezone.now()
    contact.save(update_fields=["callback_done_at"])
    contact_event(contact, events.CALLBACK_DONE, actor, timestamp=contact.callback_done_at).save()
    return contact

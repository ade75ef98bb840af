"""Writes of the case lifecycle: hand-over, status, assignment, forwarding, notes, replies
by letter, escalation and the files kept with a case. Every write appends its events."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.catalog.models import Service
from rathaus.contacts.files import check_size, detect_type
from rathaus.contacts.letters import render_letter
from rathaus.contacts.models import (
    Attachment,
    Case,
    CaseCounter,
    CaseMessage,
    CaseStatus,
    Channel,
    InboundMail,
    MessageKind,
    Priority,
    overdue_q,
)
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.events import Activity, Json, event_append
from rathaus.core.keys import email_key, phone_key
from rathaus.core.models import ForwardPolicy, OrgUnit, Tenant

from .. import events

DEFAULT_HANDOVER_DAYS = 5

# Which status may follow which. "answered"/"closed" → "in_progress" is a reopening.
TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.NEW: {CaseStatus.IN_PROGRESS, CaseStatus.WAITING, CaseStatus.ANSWERED},
    CaseStatus.IN_PROGRESS: {CaseStatus.WAITING, CaseStatus.ANSWERED, CaseStatus.CLOSED},
    CaseStatus.WAITING: {CaseStatus.IN_PROGRESS, CaseStatus.ANSWERED, CaseStatus.CLOSED},
    CaseStatus.ANSWERED: {CaseStatus.CLOSED, CaseStatus.IN_PROGRESS},
    CaseStatus.CLOSED: {CaseStatus.IN_PROGRESS},
}


def _citizen_fields(citizen: dict[str, str] | None) -> dict[str, str]:
    citizen = {k: (v or "").strip() for k, v in (citizen or {}).items()}
    fields = {
        "citizen_name": citizen.get("name", ""),
        "citizen_phone": citizen.get("phone", ""),
        "citizen_email": email_key(citizen.get("email", "")),
        "citizen_address": citizen.get("address", ""),
    }
    fields["phone_key"] = phone_key(fields["citizen_phone"])[:30]  # a lookup key, not the number
    fields["email_key"] = fields["citizen_email"]
    return fields


def case_event(
    case: Case, activity: Activity, actor: User | None, payload: Mapping[str, Json]
) -> None:
    event_append(
        tenant=case.tenant,
        activity=activity,
        subject=case,
        actor=actor,
        org_unit=case.org_unit,
        channel=case.channel,
        payload=payload,
    )


def _next_reference(tenant: Tenant, when: dt.datetime) -> str:
    """The next number of the tenant's year, e.g. 2026-004711; call inside a transaction.

    1. Make sure the year's counter row exists (a concurrent insert is ignored, not an error).
    2. Lock that row (PostgreSQL: row lock; SQLite: the IMMEDIATE write lock already held),
       so concurrent hand-overs queue here and each gets the next number exactly once.
    The unique constraint on (tenant, reference) backs this up in the database.
    """
    year = timezone.localtime(when).year
    CaseCounter.objects.bulk_create([CaseCounter(tenant=tenant, year=year)], ignore_conflicts=True)
    counter = CaseCounter.objects.select_for_update().get(tenant=tenant, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{year}-{counter.last_number:06d}"


@transaction.atomic
def case_create(
    *,
    tenant: Tenant,
    channel: str,
    actor: User | None,
    subject: str = "",
    description: str = "",
    service: Service | None = None,
    org_unit: OrgUnit | None = None,
    citizen: dict[str, str] | None = None,
    priority: int = Priority.NORMAL,
    created_at: dt.datetime | None = None,
) -> Case:
    unit = org_unit or (service.org_unit if service else None)
    if unit is None:
        raise ValidationError(
            {"org_unit": _("Choose the responsible unit: the service names none.")}
        )
    if unit.tenant_id != tenant.pk or (service is not None and service.tenant_id != tenant.pk):
        raise ValidationError(_("Service and unit must belong to this municipality."))
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    created = created_at or timezone.now()
    days = service.handover_days if service else DEFAULT_HANDOVER_DAYS
    case = Case(
        tenant=tenant,
        reference=_next_reference(tenant, created),
        subject=(subject or (service.name if service else "")).strip()[:255]
        or _("Inquiry without subject"),
        description=description.strip(),
        service=service,
        org_unit=unit,
        priority=priority,
        channel=channel,
        created_at=created,
        deadline=WorkingCalendar.for_tenant(tenant).add_working_days(created, days),
        **_citizen_fields(citizen),
    )
    case.full_clean(exclude=["tenant", "service", "org_unit"])
    case.save()
    case_event(
        case,
        events.CASE_CREATED,
        actor,
        {
            "service": service.pk if service else None,
            "deadline": case.deadline.isoformat(),
            "working_days": days,
        },
    )
    return case


@transaction.atomic
def case_set_status(
    *, case: Case, status: str, actor: User | None, now: dt.datetime | None = None
) -> Case:
    """Move a case along its lifecycle.

    Waiting for the citizen pauses the deadline clock; leaving that state moves the deadline
    on by the working days spent waiting, so the department is not blamed for the citizen.
    """
    if status not in TRANSITIONS.get(case.status, set()):
        raise ValidationError(
            _("A case cannot go from “%(old)s” to “%(new)s”.")
            % {"old": case.get_status_display(), "new": CaseStatus(status).label}
        )
    now = now or timezone.now()
    old = case.status
    payload: dict[str, Any] = {"from": old, "to": status}
    if old == CaseStatus.WAITING and case.paused_at is not None:
        calendar = WorkingCalendar.for_tenant(case.tenant)
        zone = calendar.zone
        paused = calendar.working_days_between(
            case.paused_at.astimezone(zone).date(), now.astimezone(zone).date()
        )
        case.deadline = calendar.add_working_days(case.deadline, paused)
        case.paused_at = None
        payload.update(paused_working_days=paused, deadline=case.deadline.isoformat())
    if status == CaseStatus.WAITING:
        case.paused_at = now
    if status == CaseStatus.ANSWERED:
        case.answered_at = now
    if status == CaseStatus.CLOSED:
        case.closed_at = now
    reopened = old in (CaseStatus.ANSWERED, CaseStatus.CLOSED) and status == CaseStatus.IN_PROGRESS
    if reopened:
        case.answered_at = case.closed_at = None
    case.status = status
    case.save()
    activity = events.CASE_REOPENED if reopened else events.CASE_STATUS_SET[CaseStatus(status)]
    case_event(case, activity, actor, payload)
    return case


@transaction.atomic
def case_assign(*, cases: Iterable[Case], assignee: User | None, actor: User | None) -> int:
    count = 0
    for case in cases:
        if case.assignee_id == (assignee.pk if assignee else None):
            continue
        case.assignee = assignee
        case.save(update_fields=["assignee"])
        case_event(
            case, events.CASE_ASSIGNED, actor, {"assignee": assignee.pk if assignee else None}
        )
        count += 1
    return count


@transaction.atomic
def case_forward(
    *,
    case: Case,
    org_unit: OrgUnit,
    reason: str,
    actor: User | None,
    now: dt.datetime | None = None,
) -> Case:
    """Hand a case to another unit. The tenant decides whether the deadline starts again."""
    if not case.is_open:
        raise ValidationError(_("Only open cases can be forwarded."))
    if org_unit.tenant_id != case.tenant_id:
        raise ValidationError({"org_unit": _("Unknown unit.")})
    if org_unit.pk == case.org_unit_id:
        raise ValidationError({"org_unit": _("The case is already with this unit.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case is forwarded.")})
    previous = case.org_unit
    case.org_unit = org_unit
    case.assignee = None
    if case.tenant.case_forward_policy == ForwardPolicy.RESTART:
        days = case.service.handover_days if case.service else DEFAULT_HANDOVER_DAYS
        start = now or timezone.now()
        case.deadline = WorkingCalendar.for_tenant(case.tenant).add_working_days(start, days)
    case.save()
    case_event(
        case,
        events.CASE_FORWARDED,
        actor,
        {"from_unit": previous.pk, "to_unit": org_unit.pk, "deadline": case.deadline.isoformat()},
    )
    CaseMessage.objects.create(
        tenant=case.tenant,
        case=case,
        kind=MessageKind.NOTE,
        author=actor,
        body=_("Forwarded from %(old)s to %(new)s: %(reason)s")
        % {"old": previous.name, "new": org_unit.name, "reason": reason.strip()},
    )
    return case


@transaction.atomic
def case_note_add(*, case: Case, body: str, actor: User | None) -> CaseMessage:
    if not body.strip():
        raise ValidationError({"body": _("The note is empty.")})
    message = CaseMessage.objects.create(
        tenant=case.tenant, case=case, kind=MessageKind.NOTE, author=actor, body=body.strip()
    )
    case_event(case, events.CASE_NOTE_ADDED, actor, {"message": message.pk})
    return message


def reply_subject(case: Case) -> str:
    """The reference in brackets lets a citizen's answer find its case again."""
    return f"[{case.reference}] {case.subject}"


def reply_record(
    case: Case,
    *,
    kind: str,
    body: str,
    actor: User | None,
    answered: bool,
    message_id: str = "",
    set_status: bool = True,
) -> CaseMessage:
    """Record a reply to the citizen and move the case on.

    Marking the case answered is the default because a reply usually is the answer; a
    question back to the citizen passes `answered=False` and sets "waiting" instead. An
    e-mail passes `set_status=False`: it counts once delivered (`delivery`).
    """
    if not body.strip():
        raise ValidationError({"body": _("The reply is empty.")})
    message = CaseMessage.objects.create(
        tenant=case.tenant,
        case=case,
        kind=kind,
        author=actor,
        subject=reply_subject(case),
        body=body.strip(),
        message_id=message_id,
    )
    medium = "email" if kind == MessageKind.EMAIL_OUT else "letter"
    case_event(case, events.CASE_REPLIED, actor, {"message": message.pk, "medium": medium})
    target = CaseStatus.ANSWERED if answered else CaseStatus.WAITING
    if set_status and case.status != target:
        case_set_status(case=case, status=target, actor=actor)
    return message


@transaction.atomic
def cases_escalate(*, tenant: Tenant, now: dt.datetime | None = None) -> list[Case]:
    """Record once per case that its deadline has passed (the worker runs this regularly)."""
    now = now or timezone.now()
    overdue = list(
        Case.objects.select_for_update()
        .filter(overdue_q(now), tenant=tenant, escalated_at__isnull=True)
        .select_related("org_unit")
        .order_by("deadline", "id")
    )
    for case in overdue:
        case.escalated_at = now
        case.save(update_fields=["escalated_at"])
        case_event(case, events.CASE_ESCALATED, None, {"deadline": case.deadline.isoformat()})
    return overdue


@transaction.atomic
def case_reply_letter(
    *, case: Case, body: str, actor: User | None, answered: bool = True
) -> CaseMessage:
    """Answer the citizen by letter: a PDF on the tenant's letterhead, kept with the case."""
    if not case.citizen_address.strip():
        raise ValidationError(_("The case has no postal address for a letter."))
    message = reply_record(case, kind=MessageKind.LETTER, body=body, actor=actor, answered=answered)
    pdf = render_letter(case=case, body=message.body, author=actor, date=message.created_at)
    attachment_store(
        tenant=case.tenant,
        case=case,
        name=f"Schreiben-{case.reference}-{message.pk}.pdf",
        content=pdf,
    )
    return message


def attachment_store(
    *,
    tenant: Tenant,
    name: str,
    content: bytes,
    case: Case | None = None,
    inbound_mail: InboundMail | None = None,
) -> Attachment:
    """Keep a file under a random name after checking its size and its real type.

    The name the sender gave is kept (cleaned) in the row only, never used as a path.
    Raises ValidationError for a file that is empty, too large or of a type not allowed.
    """
    check_size(len(content))
    content_type = detect_type(name, content[:16])
    filename = re.sub(r"[^\w.\- ]", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200]
    attachment = Attachment(
        tenant=tenant,
        case=case,
        inbound_mail=inbound_mail,
        filename=filename or "datei",
        content_type=content_type,
        size=len(content),
    )
    attachment.file.save(attachment.filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


@transaction.atomic
def case_attachment_add(*, case: Case, name: str, content: bytes, actor: User | None) -> Attachment:
    """A file a clerk adds to the case."""
    attachment = attachment_store(tenant=case.tenant, case=case, name=name, content=content)
    case_event(
        case,
        events.CASE_ATTACHMENT_ADDED,
        actor,
        {"attachment": attachment.pk, "type": attachment.content_type},
    )
    return attachment

"""Reads of contacts and cases, tenant-scoped through django-scopes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from rathaus.core.calendar import WorkingCalendar
from rathaus.core.http import id_param
from rathaus.core.keys import email_key, phone_key
from rathaus.core.models import OrgUnit, Tenant

from .models import (
    OPEN_STATUSES,
    Case,
    CaseMessage,
    Channel,
    Contact,
    Delivery,
    InboundMail,
    MessageKind,
    overdue_q,
)

NEARLY_DUE_WORKING_DAYS = 1


def open_contact_of(agent: User) -> Contact | None:
    return (
        Contact.objects.filter(agent=agent, ended_at__isnull=True).order_by("-started_at").first()
    )


@dataclass(frozen=True)
class CitizenHistory:
    contacts: list[Contact]
    cases: list[Case]


def citizen_history(*, phone: str = "", email: str = "", limit: int = 10) -> CitizenHistory:
    """Earlier contacts and open cases of a caller, matched by phone number or e-mail."""
    match = Q()
    key = phone_key(phone)
    if len(key) >= 6:
        match |= Q(phone_key=key)
    if email.strip():
        match |= Q(email_key=email_key(email))
    if not match:
        return CitizenHistory([], [])
    contacts = list(
        Contact.objects.filter(match, ended_at__isnull=False)
        .defer("callback_due")  # not shown; an invalid stored one must not break the desk
        .select_related("case", "agent")
        .order_by("-started_at")[:limit]
    )
    cases = list(
        Case.objects.filter(match, status__in=OPEN_STATUSES)
        .select_related("org_unit")
        .order_by("deadline")[:limit]
    )
    return CitizenHistory(contacts, cases)


# Callback times outside these are not read from the database (see readable_callback_due).
SANE_FIRST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
SANE_LAST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def readable_callback_due(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts without loading `callback_due` itself: `due` is the stored time clamped to
    1900..2200 and `due_invalid` says it was outside.

    Before the desk form had bounds, a callback due in year 1 could be stored; on PostgreSQL
    that is a BC timestamp, which psycopg refuses to load, so loading the row at all would
    break every page that lists it. Clamped, the row still shows (as an invalid date) and can
    be marked as done.
    """
    in_range = Q(callback_due__gte=SANE_FIRST, callback_due__lt=SANE_LAST)
    return qs.defer("callback_due").annotate(
        due=models.Case(
            models.When(in_range, then=models.F("callback_due")),
            models.When(callback_due__lt=SANE_FIRST, then=models.Value(SANE_FIRST)),
            models.When(callback_due__gte=SANE_LAST, then=models.Value(SANE_LAST)),
            default=None,
            output_field=models.DateTimeField(),
        ),
        due_invalid=models.Case(
            models.When(in_range, then=models.Value(False)),
            models.When(callback_due__isnull=True, then=models.Value(False)),
            default=models.Value(True),
            output_field=models.BooleanField(),
        ),
    )


def callbacks_open(agent: User | None = None) -> QuerySet[Contact]:
    """Open callbacks, the earliest first (an invalid time first of all); read `due`."""
    qs = Contact.objects.filter(callback_due__isnull=False, callback_done_at__isnull=True)
    if agent is not None:
        qs = qs.filter(agent=agent)
    # Ordered by the column itself (its index); a BC time sorts first, year 9999 last.
    return readable_callback_due(qs.select_related("agent")).order_by("callback_due", "id")


def callback_contact(pk: int) -> Contact:
    """One contact to mark its callback done; its `callback_due` is the readable (clamped)
    time, so the row of an invalid time can be closed too. Raises Contact.DoesNotExist."""
    contact = readable_callback_due(Contact.objects.all()).get(pk=pk)
    contact.callback_due = contact.due  # type: ignore[attr-defined]  # not saved
    return contact


@dataclass(frozen=True)
class InboxFilter:
    status: str = ""  # "" = open, "all", or one status
    due: str = ""  # "", "overdue", "week"
    assignee: str = ""  # "", "me", "none" or a user id
    service: int | None = None
    channel: str = ""
    q: str = ""


def inbox_cases(
    *,
    tenant: Tenant,
    units: QuerySet[OrgUnit],
    user: User,
    filters: InboxFilter,
    now: dt.datetime | None = None,
) -> QuerySet[Case]:
    """The cases of some units, deadline first; a fixed number of queries per page."""
    now = now or timezone.now()
    # Unit ids as a list, not a subquery: PostgreSQL then estimates rows well and walks the
    # partial deadline index instead of sorting every open case of the subtree.
    qs = Case.objects.filter(org_unit_id__in=list(units.values_list("pk", flat=True)))
    if filters.status == "all":
        pass
    elif filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if filters.due == "overdue":
        qs = qs.filter(overdue_q(now))
    elif filters.due == "week":
        calendar = WorkingCalendar.for_tenant(tenant)
        qs = qs.filter(status__in=OPEN_STATUSES, deadline__lte=calendar.add_working_days(now, 5))
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif (assignee := id_param(filters.assignee)) is not None:
        qs = qs.filter(assignee_id=assignee)
    if filters.service:
        qs = qs.filter(service_id=filters.service)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(reference__icontains=term) | Q(subject__icontains=term))
    return qs.select_related("org_unit", "assignee", "service").order_by("deadline", "id")


def nearly_due_limit(tenant: Tenant, now: dt.datetime | None = None) -> dt.datetime:
    """Cases due before this moment are highlighted as nearly due."""
    return WorkingCalendar.for_tenant(tenant).add_working_days(
        now or timezone.now(), NEARLY_DUE_WORKING_DAYS
    )


def case_by_reference(reference: str) -> Case:
    return Case.objects.select_related("org_unit", "assignee", "service").get(reference=reference)


def case_for_citizen(*, reference: str, email: str) -> Case | None:
    """The citizen status page: both the reference and the case's e-mail must match."""
    email = email.strip().lower()
    if not email:
        return None
    return Case.objects.filter(reference=reference.strip(), email_key=email).first()


def undelivered_replies(*, units: QuerySet[OrgUnit]) -> QuerySet[CaseMessage]:
    """E-mail replies of these units' cases that the citizen has not got: given up, or still
    queued after a failed attempt (the mail server is down); the oldest first."""
    return (
        CaseMessage.objects.filter(kind=MessageKind.EMAIL_OUT, case__org_unit__in=units)
        .filter(Q(delivery=Delivery.FAILED) | Q(delivery=Delivery.QUEUED, delivery_attempts__gt=0))
        .select_related("case", "author")
        .order_by("created_at", "id")
    )


def mail_of_contact(contact: Contact) -> InboundMail | None:
    """The e-mail a contact came from, with its files and the case it mentions."""
    if contact.channel != Channel.EMAIL:
        return None
    return (
        InboundMail.objects.filter(contact=contact)
        .select_related("mentioned_case")
        .prefetch_related("attachments")
        .order_by("received_at", "id")
        .first()
    )

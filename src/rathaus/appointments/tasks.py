"""Citizens' appointment e-mails go through the task queue, so a mail server that is down
never fails the citizen's booking. A mail that could not be sent stays in the queue's results
as FAILED with its error (admin: django_tasks_db), where the team sees it."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from . import mails
from .models import Booking

SENDERS = {
    "confirm_request": mails.confirmation_request,
    "confirmed": mails.booking_confirmed,
    "cancelled": mails.booking_cancelled,
    "reminder": mails.booking_reminder,
}


@task()
def booking_mail(kind: str, booking_pk: int, tenant_pk: int) -> None:
    SENDERS[kind](booking_pk, tenant_pk)


def booking_mail_later(kind: str, booking: Booking) -> None:
    """Queue the mail once the calling service's transaction has committed."""
    assert kind in SENDERS
    pk, tenant = booking.pk, booking.tenant_id
    transaction.on_commit(lambda: booking_mail.enqueue(kind, pk, tenant))

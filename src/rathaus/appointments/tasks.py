"""Citizens' appointment e-mails go through the task queue, so a mail server that is down
never fails the citizen's booking. A failed attempt stays in the queue's results as FAILED
with its error (admin: django_tasks_db), and the mail is tried again after 1, 3 and 10
minutes: the confirmation link still arrives within the default hold of 10 minutes when the
mail server is back soon. Each mail sent, and each given up on after the last try, is an
event of its booking; the office's "Undelivered e-mails" page lists the ones given up on."""

from __future__ import annotations

import smtplib

from django_tasks import task

from rathaus.core.models import Tenant
from rathaus.core.outbox import enqueue_with_transaction, retry_later
from rathaus.core.tenancy import tenant_context

from . import mails
from .models import Booking
from .rules import MAIL_KINDS

RETRY_AFTER_MINUTES = (1, 3, 10)


@task()
def booking_mail(kind: str, booking_pk: int, tenant_pk: int, attempt: int = 1) -> None:
    # Imported here: the services queue these mails (`booking_mail_later`).
    from .services import booking_mail_logged

    tenant = Tenant.objects.filter(pk=tenant_pk).first()
    if tenant is None:  # the municipality was removed, with its bookings
        return
    with tenant_context(tenant):
        booking = mails.booking_for_mail(booking_pk)
        if booking is None or not booking.email:  # deleted or erased meanwhile: no one to tell
            return
        try:
            mails.booking_mail_send(booking, kind)
        except (smtplib.SMTPException, OSError) as error:
            args = (kind, booking_pk, tenant_pk)
            if not retry_later(booking_mail, args, attempt, RETRY_AFTER_MINUTES):
                # given up: the office sees it (Undelivered e-mails) and can send it again
                booking_mail_logged(booking=booking, kind=kind, error=error)
            raise
        booking_mail_logged(booking=booking, kind=kind)


def booking_mail_later(kind: str, booking: Booking) -> None:
    """Queue the mail with the calling service's transaction (an outbox, see core.outbox)."""
    assert kind in MAIL_KINDS
    enqueue_with_transaction(booking_mail, kind, booking.pk, booking.tenant_id)

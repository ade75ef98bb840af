"""Citizens' appointment e-mails go through the task queue, so a mail server that is down
never fails the citizen's booking. A failed attempt stays in the queue's results as FAILED
with its error (admin: django_tasks_db), and the mail is tried again after 1, 3 and 10
minutes: the confirmation link still arrives within the default hold of 10 minutes when the
mail server is back soon. Each mail sent, and each given up on after the last try, is an
event of its booking; the office's "Undelivered e-mails" page lists the ones given up on."""

from __future__ import annotations

import datetime as dt
import smtplib

from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, default_task_backend, task, task_backends
from django_tasks_db import DatabaseBackend

from rathaus.core.models import Tenant
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
            # The immediate backend (tests, development) cannot defer; it only records it.
            if attempt <= len(RETRY_AFTER_MINUTES) and default_task_backend.supports_defer:
                later = timezone.now() + dt.timedelta(minutes=RETRY_AFTER_MINUTES[attempt - 1])
                booking_mail.using(run_after=later).enqueue(
                    kind, booking_pk, tenant_pk, attempt + 1
                )
            else:  # given up: the office sees it (Undelivered e-mails) and can send it again
                booking_mail_logged(booking=booking, kind=kind, error=error)
            raise
        booking_mail_logged(booking=booking, kind=kind)


def booking_mail_later(kind: str, booking: Booking) -> None:
    """Queue the mail with the calling service's transaction.

    The database queue writes its row in that transaction (an outbox): the mail is queued
    exactly when the booking commits, also when the process dies right after the commit,
    and without a commit of its own. Other backends (the immediate one of tests and
    development) run the task once the transaction has committed.
    """
    assert kind in MAIL_KINDS
    pk, tenant = booking.pk, booking.tenant_id
    if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        booking_mail.enqueue(kind, pk, tenant)
    else:
        transaction.on_commit(lambda: booking_mail.enqueue(kind, pk, tenant))

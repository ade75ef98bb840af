"""The worker's side of e-mail replies (`delivery`): send, record, try again later."""

from __future__ import annotations

import smtplib

from django_tasks import task

from rathaus.core.models import Tenant
from rathaus.core.outbox import retry_later
from rathaus.core.tenancy import tenant_context

from .models import DELIVERED, CaseMessage

# Minutes until the next attempt: about two and a half hours of outage lose nothing.
RETRY_AFTER_MINUTES = (1, 5, 30, 120)


@task()
def case_reply_mail(message_pk: int, tenant_pk: int, attempt: int = 1) -> None:
    from .services import delivery

    tenant = Tenant.objects.filter(pk=tenant_pk).first()
    if tenant is None:  # the municipality was removed, with its cases
        return
    with tenant_context(tenant):
        message = CaseMessage.objects.select_related("case", "tenant").filter(pk=message_pk)
        reply = message.first()
        # Deleted, or delivered by an earlier run of a task queued twice: never send twice.
        if reply is None or reply.delivery in DELIVERED:
            return
        try:
            delivery.reply_mail(reply).send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as error:
            again = retry_later(
                case_reply_mail, (message_pk, tenant_pk), attempt, RETRY_AFTER_MINUTES
            )
            delivery.case_reply_attempt_failed(message=reply, error=error, final=not again)
            raise
        delivery.case_reply_sent(message=reply)

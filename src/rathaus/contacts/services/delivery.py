"""E-mail replies to citizens: queued with the reply, sent by the worker, never lost.

1. `case_reply_email` stores the reply as "queued" and queues the mail in the same
   transaction (core.outbox); the case is not "answered" yet and its deadline keeps running.
2. The worker (`tasks.case_reply_mail`) sends it; a failed attempt is recorded and tried again
   after 1, 5, 30 and 120 minutes, so a mail server that is down for two hours loses nothing.
3. Sent (`case_reply_sent`), the reply counts as the answer: the case becomes "answered"
   (or "waiting" for a question back). Given up (`case_reply_failed`), the case page and
   the list of undelivered replies show the reason; the clerk sends it again
   (`case_reply_resend`) or records that the citizen got it another way
   (`case_reply_mark_delivered`), which also counts as the answer.
"""

from __future__ import annotations

from email.utils import make_msgid

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.contacts import events
from rathaus.contacts.models import (
    DELIVERED,
    OPEN_STATUSES,
    Case,
    CaseMessage,
    CaseStatus,
    Delivery,
    MessageKind,
)
from rathaus.contacts.services.cases import case_event, case_set_status, reply_record
from rathaus.core.outbox import enqueue_with_transaction
from rathaus.core.selectors import sender_of


@transaction.atomic
def case_reply_email(
    *, case: Case, body: str, actor: User | None, answered: bool = True
) -> CaseMessage:
    """Answer the citizen by e-mail; the worker sends it (see the module's docstring)."""
    if not case.citizen_email:
        raise ValidationError(_("The case has no e-mail address to reply to."))
    message = reply_record(
        case,
        kind=MessageKind.EMAIL_OUT,
        body=body,
        actor=actor,
        answered=answered,
        message_id=make_msgid(domain=sender_of(case.tenant).rpartition("@")[2] or "localhost"),
        set_status=False,
    )
    message.delivery, message.answers = Delivery.QUEUED, answered
    message.save(update_fields=["delivery", "answers"])
    _queue(message)
    return message


def _queue(message: CaseMessage) -> None:
    from rathaus.contacts.tasks import case_reply_mail

    enqueue_with_transaction(case_reply_mail, message.pk, message.tenant_id)


def reply_mail(message: CaseMessage) -> EmailMessage:
    """The mail as it leaves; sent to the case's address of the moment, so a corrected
    address is used when the clerk sends a failed reply again."""
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=sender_of(message.tenant),
        to=[message.case.citizen_email],
        headers={"Message-ID": message.message_id},
    )


def _count_as_answer(message: CaseMessage, actor: User | None) -> None:
    case = message.case
    target = CaseStatus.ANSWERED if message.answers else CaseStatus.WAITING
    # A case closed or answered meanwhile stays as the clerk left it.
    if case.status in OPEN_STATUSES and case.status != target:
        case_set_status(case=case, status=target, actor=actor)


def _locked(message: CaseMessage) -> CaseMessage:
    return CaseMessage.objects.select_for_update().select_related("case").get(pk=message.pk)


@transaction.atomic
def case_reply_sent(*, message: CaseMessage) -> CaseMessage:
    message = _locked(message)
    message.delivery, message.delivered_at, message.delivery_error = (
        Delivery.SENT,
        timezone.now(),
        "",
    )
    message.delivery_attempts += 1
    message.save(update_fields=["delivery", "delivered_at", "delivery_error", "delivery_attempts"])
    case_event(message.case, events.CASE_REPLY_SENT, None, {"message": message.pk})
    _count_as_answer(message, None)
    return message


@transaction.atomic
def case_reply_attempt_failed(*, message: CaseMessage, error: Exception, final: bool) -> None:
    """Record a failed attempt; `final` when no attempt follows (the reply is undelivered)."""
    message = _locked(message)
    message.delivery_attempts += 1
    message.delivery_error = f"{type(error).__name__}: {error}"[:2000]
    fields = ["delivery_attempts", "delivery_error"]
    if final:
        message.delivery = Delivery.FAILED
        fields.append("delivery")
        case_event(message.case, events.CASE_REPLY_FAILED, None, {"message": message.pk})
    message.save(update_fields=fields)


def _changeable(message: CaseMessage, case: Case) -> CaseMessage:
    if message.case_id != case.pk or message.kind != MessageKind.EMAIL_OUT:
        raise ValidationError(_("This is not an e-mail reply of this case."))
    message = _locked(message)
    if message.delivery in DELIVERED:
        raise ValidationError(_("This reply has already been delivered."))
    return message


@transaction.atomic
def case_reply_resend(*, case: Case, message: CaseMessage, actor: User | None) -> CaseMessage:
    """Queue an undelivered reply again (to the case's current address)."""
    message = _changeable(message, case)
    if message.delivery != Delivery.FAILED:
        raise ValidationError(_("This reply is still queued; it is being sent."))
    if not case.citizen_email:
        raise ValidationError(_("The case has no e-mail address to reply to."))
    message.delivery = Delivery.QUEUED
    message.save(update_fields=["delivery"])
    case_event(case, events.CASE_REPLY_RESENT, actor, {"message": message.pk})
    _queue(message)
    return message


@transaction.atomic
def case_reply_mark_delivered(
    *, case: Case, message: CaseMessage, actor: User | None
) -> CaseMessage:
    """The citizen got the answer another way (by phone, at the counter): it counts."""
    message = _changeable(message, case)
    message.delivery, message.delivered_at = Delivery.OTHER_WAY, timezone.now()
    message.save(update_fields=["delivery", "delivered_at"])
    case_event(case, events.CASE_REPLY_DELIVERED_OTHER_WAY, actor, {"message": message.pk})
    _count_as_answer(message, actor)
    return message

"""E-mail replies go through the queue: a mail server that is down loses no answer, the case
counts as answered only once the reply is delivered, and staff see and act on what failed."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scopes_disabled

from rathaus.contacts.models import CaseMessage, CaseStatus, Delivery
from rathaus.core.models import Event

from .test_pages import hand_over


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reply(client, case, body="Ihr Ausweis liegt bereit.", **extra):
    return client.post(
        reverse("contacts:case_action", args=[case.reference, "reply"]),
        {"body": body, "answered": "on", **extra},
    )


def activities(case) -> list[str]:
    with scopes_disabled():
        return list(
            Event.objects.filter(subject_kind="case", subject_id=case.reference)
            .order_by("id")
            .values_list("activity", flat=True)
        )


@pytest.mark.django_db(transaction=True)
def test_a_reply_survives_a_mail_server_outage_and_leaves_when_it_is_back(
    world_a, smtp_server, settings, time_machine
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    case = hand_over(world_a)
    smtp_server.controller.stop()  # the mail server goes down
    clerk = world_a.client("clerk")
    page = reply(clerk, case)
    assert page.status_code == 302  # no server error, and the reply is kept
    with scopes_disabled():
        message = CaseMessage.objects.get(kind="email_out")
        case.refresh_from_db()
    assert message.delivery == Delivery.QUEUED and case.status == CaseStatus.NEW
    time_machine.move_to(dt.datetime.now(tz=dt.UTC), tick=False)
    call_command("db_worker", batch=True, verbosity=0)
    with scopes_disabled():
        message.refresh_from_db()
        case.refresh_from_db()
    assert message.delivery == Delivery.QUEUED and message.delivery_attempts == 1
    assert "Connection refused" in message.delivery_error
    assert case.status == CaseStatus.NEW  # not answered: the deadline keeps running
    shown = clerk.get(reverse("contacts:case", args=[case.reference])).content.decode()
    assert "1 Versuch fehlgeschlagen" in shown and "Connection refused" in shown
    listed = clerk.get(reverse("contacts:undelivered_replies")).content.decode()
    assert case.reference in listed
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # the next attempt
    smtp_server.restart()  # the mail server is back
    time_machine.shift(dt.timedelta(minutes=1, seconds=1))
    call_command("db_worker", batch=True, verbosity=0)
    (sent,) = smtp_server.messages
    assert sent["To"] == "erika@example.org" and sent["Subject"].startswith(f"[{case.reference}]")
    assert sent["Message-ID"] == message.message_id
    with scopes_disabled():
        message.refresh_from_db()
        case.refresh_from_db()
    assert message.delivery == Delivery.SENT and message.delivered_at is not None
    assert case.status == CaseStatus.ANSWERED
    assert activities(case)[-3:] == ["case_replied", "case_reply_sent", "case_answered"]
    assert case.reference not in clerk.get(reverse("contacts:undelivered_replies")).content.decode()
    call_command("db_worker", batch=True, verbosity=0)
    assert len(smtp_server.messages) == 1  # sent once


def test_a_reply_given_up_on_is_listed_sent_again_or_marked_delivered(
    world_a, smtp_server, settings, django_capture_on_commit_callbacks
):
    case = hand_over(world_a)
    clerk = world_a.client("clerk")
    settings.EMAIL_PORT = closed_port()  # the immediate queue of the tests cannot retry later
    with django_capture_on_commit_callbacks(execute=True):
        assert reply(clerk, case).status_code == 302
    with scopes_disabled():
        failed = CaseMessage.objects.get(kind="email_out")
    assert failed.delivery == Delivery.FAILED and "refused" in failed.delivery_error
    listed = clerk.get(reverse("contacts:undelivered_replies")).content.decode()
    assert case.reference in listed and "Nicht zugestellt" in listed
    assert 'id="undelivered-count">(1)' in clerk.get(reverse("contacts:inbox")).content.decode()
    # Another unit's clerk neither sees nor resends it.
    other = world_a.client("kc_agent")
    assert case.reference not in other.get(reverse("contacts:undelivered_replies")).content.decode()
    resend = reverse("contacts:case_reply_action", args=[case.reference, failed.pk, "resend"])
    assert other.post(resend).status_code == 403
    settings.EMAIL_PORT = smtp_server.port
    with django_capture_on_commit_callbacks(execute=True):
        again = clerk.post(resend, {"back": "undelivered"})
    assert again.url == reverse("contacts:undelivered_replies")
    assert len(smtp_server.messages) == 1
    with scopes_disabled():
        failed.refresh_from_db()
        case.refresh_from_db()
    assert failed.delivery == Delivery.SENT and case.status == CaseStatus.ANSWERED
    # Delivered is final: neither sent again nor marked.
    with scopes_disabled():
        assert clerk.post(resend).status_code == 302
    assert len(smtp_server.messages) == 1

    second = hand_over(world_a)
    settings.EMAIL_PORT = closed_port()
    with django_capture_on_commit_callbacks(execute=True):
        reply(clerk, second, body="Welche Adresse?", answered="")
    with scopes_disabled():
        question = CaseMessage.objects.get(case=second)
    assert question.delivery == Delivery.FAILED
    marked = clerk.post(
        reverse("contacts:case_reply_action", args=[second.reference, question.pk, "delivered"])
    )
    assert marked.status_code == 302
    with scopes_disabled():
        question.refresh_from_db()
        second.refresh_from_db()
    assert question.delivery == Delivery.OTHER_WAY
    assert second.status == CaseStatus.WAITING  # a question back: waiting for the citizen
    assert activities(second)[-2:] == ["case_reply_delivered_other_way", "case_waiting"]

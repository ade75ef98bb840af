"""Every list page needs the same number of queries for a few rows as for many (no query per
row), and shows its rows. One parametrised test over all paginated staff lists."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rathaus.appointments import services as appointment_services
from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import ServiceStatus
from rathaus.contacts import services as contact_services
from rathaus.contacts.services import delivery
from rathaus.contacts.services import mail as inbound
from rathaus.core.models import Role
from rathaus.core.services import personal_data_accessed
from tests.appointments.conftest import MONDAY, at, build_office
from tests.appointments.helpers import book

counter = itertools.count(1)


def _services(world, office):
    n = next(counter)
    catalog_services.service_create(
        tenant=world.tenant, name=f"Leistung {n}", status=ServiceStatus.PUBLISHED
    )


def _articles(world, office, review_by=None):
    n = next(counter)
    catalog_services.article_create(
        tenant=world.tenant,
        question=f"Frage {n}?",
        answer="Antwort",
        services=[world.service],
        review_by=review_by,
    )


def _due_articles(world, office):
    _articles(world, office, review_by=dt.date(2000, 1, 1))


def _callbacks(world, office):
    now = timezone.now()
    contact_services.contact_record(
        tenant=world.tenant,
        agent=world.users[Role.KC_AGENT],
        org_unit=world.units["kc"],
        channel="phone",
        started_at=now - dt.timedelta(minutes=5),
        ended_at=now,
        outcome="callback",
        actor=world.users[Role.KC_AGENT],
        citizen={"name": "Erika Muster", "phone": "0301234"},
        callback_due=now + dt.timedelta(days=1),
    )


def _case(world):
    return contact_services.case_create(
        tenant=world.tenant,
        channel="phone",
        actor=world.users[Role.KC_AGENT],
        service=world.service,
        subject=f"Anliegen {next(counter)}",
        citizen={"email": "erika@example.org"},
    )


def _cases(world, office):
    _case(world)


def _undelivered_replies(world, office):
    reply = delivery.case_reply_email(case=_case(world), body="Antwort", actor=None)
    delivery.case_reply_attempt_failed(message=reply, error=OSError("down"), final=True)


def _mails(world, office):
    raw = (
        f"From: Erika <erika{next(counter)}@example.org>\r\nSubject: Frage\r\n"
        f"Message-ID: <{next(counter)}@example.org>\r\n\r\nHallo"
    ).encode()
    inbound.mail_receive(tenant=world.tenant, raw=raw, source="upload")


def _quarantined(world, office):
    inbound.mail_receive(tenant=world.tenant, raw=b"\r\n", source="imap")  # empty: quarantined


def _booking(world, office):
    n = next(counter)
    start = at(MONDAY + dt.timedelta(days=1), 8) + dt.timedelta(minutes=10 * (n % 20))
    return book(office, start, email=f"erika{n}@example.org")


def _bookings(world, office):
    _booking(world, office)


def _undelivered_mails(world, office):
    booking = _booking(world, office)
    appointment_services.booking_mail_logged(booking=booking, kind="confirmed", error=OSError())


def _locations(world, office):
    catalog_services.location_create(
        tenant=world.tenant, name=f"Standort {next(counter)}", org_unit=world.units["team"]
    )


def _access_log(world, office):
    personal_data_accessed(
        tenant=world.tenant, user=world.users[Role.OFFICE_STAFF], subject_kind="booking"
    )


LISTS: list[tuple[str, str, dict, Callable]] = [
    ("catalog:service_list", Role.KNOWLEDGE_EDITOR, {}, _services),
    ("catalog:article_list", Role.KNOWLEDGE_EDITOR, {}, _articles),
    ("catalog:article_review", Role.KNOWLEDGE_EDITOR, {}, _due_articles),
    ("contacts:callbacks", Role.KC_AGENT, {}, _callbacks),
    ("contacts:inbox", Role.CLERK, {}, _cases),
    ("contacts:undelivered_replies", Role.CLERK, {}, _undelivered_replies),
    ("contacts:email_queue", Role.KC_AGENT, {}, _mails),
    ("contacts:quarantine", Role.KC_AGENT, {}, _quarantined),
    ("appointments:office_booking_search", Role.OFFICE_STAFF, {"q": "Muster"}, _bookings),
    ("appointments:undelivered_mails", Role.OFFICE_STAFF, {}, _undelivered_mails),
    ("appointments:location_list", Role.TEAM_LEAD, {}, _locations),
    ("core:access_log", Role.TENANT_ADMIN, {}, _access_log),
]


@pytest.mark.parametrize(("name", "role", "params", "add"), LISTS, ids=[n for n, *_ in LISTS])
def test_a_list_page_needs_as_many_queries_for_many_rows_as_for_few(
    world_a, settings, tmp_path, name, role, params, add
):
    settings.MEDIA_ROOT = tmp_path
    with scope(tenant=world_a.tenant):
        office = build_office(world_a)
    client = world_a.client(role)

    def queries_after(rows: int) -> tuple[int, int]:
        with scope(tenant=world_a.tenant):
            for _ in range(rows):
                add(world_a, office)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse(name), params)
        assert page.status_code == 200
        return len(captured), len(page.context["page"].object_list)

    few, shown_few = queries_after(2)
    many, shown_many = queries_after(5)
    assert shown_many > shown_few >= 1  # the rows are listed
    assert many == few

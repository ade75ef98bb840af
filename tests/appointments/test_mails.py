"""Appointment e-mails the worker gave up on: each outcome is an event of the booking, the
office lists the ones given up on, staff send them again (to a corrected address), and a
municipality sees only its own."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rathaus.appointments import selectors, services
from rathaus.appointments.models import Booking, BookingStatus
from rathaus.appointments.tasks import booking_mail
from rathaus.core.models import Event

from .conftest import MONDAY, at
from .helpers import book, frozen_clock

NOW = at(MONDAY, 9)
PAGE = reverse("appointments:undelivered_mails")


clock = frozen_clock(NOW)


def hold(office, world, capture, *, email="ada@example.org", hour=10) -> Booking:
    """An online hold whose confirmation-link mail the (immediate) worker tries at once."""
    with capture(execute=True):
        return book(
            office,
            at(MONDAY + dt.timedelta(days=1), hour),
            name="Ada Lovelace",
            email=email,
            phone="0221 4711",
            channel="online",
        )


def mail_events(booking: Booking) -> list[tuple[str, dict]]:
    with scopes_disabled():
        events = Event.objects.filter(subject_kind="booking", subject_id=str(booking.pk))
        return [(e.activity, e.payload) for e in events if "mail" in e.activity]


def resend(client: Client, booking: Booking, kind: str, email: str, capture=None, **extra):
    """Staff's click on "Send again"; `capture` runs the queued mail as the worker would."""
    url = reverse("appointments:mail_resend", args=[booking.pk, kind])
    if capture is None:
        return client.post(url, {"email": email}, **extra)
    with capture(execute=True):
        return client.post(url, {"email": email}, **extra)


def test_a_mail_given_up_on_is_listed_until_it_is_sent_again(
    world_a, office, smtp_server, settings, clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1  # nobody listens there: the mail server is down
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    ((activity, payload),) = mail_events(booking)
    assert activity == "booking_mail_failed"
    assert payload["mail"] == "confirm_request" and payload["error"] == "ConnectionRefusedError"
    assert "ada@example.org" not in str(payload)  # no personal data in the event log

    staff = world_a.client("office_staff")
    home = staff.get(reverse("appointments:office")).content.decode()
    assert 'id="undelivered-count">(1)' in home
    page = staff.get(PAGE).content.decode()
    table = page.split('id="mail-table"')[1]
    assert booking.code in table and "ada@example.org" in table and "0221 4711" in table
    assert "Bestätigungslink" in table and "Mailserver war nicht erreichbar" in table

    settings.EMAIL_PORT = smtp_server.port  # the mail server is back
    answer = resend(
        staff,
        booking,
        "confirm_request",
        "ada.lovelace@example.org",
        django_capture_on_commit_callbacks,
    )
    assert answer.status_code == 302 and answer.url == PAGE
    (mail,) = smtp_server.messages
    assert mail["To"] == "ada.lovelace@example.org"
    assert "/confirm/" in mail.get_body(("plain",)).get_content()
    with scopes_disabled():
        booking.refresh_from_db()
    assert booking.email == booking.email_key == "ada.lovelace@example.org"
    assert [activity for activity, _payload in mail_events(booking)] == [
        "booking_mail_failed",
        "booking_mail_resent",
        "booking_mail_sent",
    ]
    assert mail_events(booking)[1][1]["address_corrected"] is True
    assert booking.code not in staff.get(PAGE).content.decode().split('id="mail-table"')[1]
    assert "undelivered-count" not in staff.get(reverse("appointments:office")).content.decode()


def test_a_mail_that_no_longer_fits_is_not_sent_again(
    world_a, office, smtp_server, settings, clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    clock.shift(dt.timedelta(minutes=11))  # the hold has run out
    staff = world_a.client("office_staff")
    table = staff.get(PAGE).content.decode().split('id="mail-table"')[1]
    assert booking.code in table and "Nicht mehr aktuell" in table
    assert 'name="email"' not in table
    settings.EMAIL_PORT = smtp_server.port
    answer = resend(
        staff,
        booking,
        "confirm_request",
        "ada@example.org",
        django_capture_on_commit_callbacks,
        follow=True,
    )
    assert "passt nicht mehr zum Termin" in answer.content.decode()
    assert smtp_server.messages == []
    assert [a for a, _p in mail_events(booking)] == ["booking_mail_failed"]


def test_a_bad_address_or_kind_changes_nothing(
    world_a, office, smtp_server, settings, clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    staff = world_a.client("office_staff")
    settings.EMAIL_PORT = smtp_server.port
    answer = resend(staff, booking, "confirm_request", "not an address", follow=True)
    (refusal,) = answer.context["messages"]
    assert refusal.level_tag == "error" and "gültige E-Mail" in refusal.message
    assert resend(staff, booking, "invoice", "ada@example.org").status_code == 404
    with scopes_disabled():
        booking.refresh_from_db()
    assert booking.email == "ada@example.org" and smtp_server.messages == []
    assert [a for a, _p in mail_events(booking)] == ["booking_mail_failed"]


def test_a_mail_sent_is_logged_and_a_confirmation_can_be_sent_again_later(
    world_a, office, smtp_server, settings, clock, django_capture_on_commit_callbacks
):
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    assert [a for a, _p in mail_events(booking)] == ["booking_mail_sent"]
    settings.EMAIL_PORT = 1
    with scope(tenant=world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        services.booking_confirm(booking=booking)
    with scope(tenant=world_a.tenant):
        (row,) = selectors.undelivered_mails(now=NOW)
    assert row.kind == "confirmed" and row.booking.status == BookingStatus.CONFIRMED
    assert row.can_resend
    settings.EMAIL_PORT = smtp_server.port
    resend(
        world_a.client("team_lead"),
        booking,
        "confirmed",
        "ada@example.org",
        django_capture_on_commit_callbacks,
    )
    _request, confirmation = smtp_server.messages
    assert booking.code in confirmation.get_body(("plain",)).get_content()
    assert mail_events(booking)[-2][1]["address_corrected"] is False
    with scope(tenant=world_a.tenant):
        assert selectors.undelivered_mails(now=NOW) == []


def test_the_page_needs_an_office_role_and_shows_only_the_own_municipality(
    world_a,
    world_b,
    office,
    office_b,
    smtp_server,
    settings,
    clock,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_PORT = 1
    alpha = hold(office, world_a, django_capture_on_commit_callbacks, email="a@alpha.example")
    beta = hold(office_b, world_b, django_capture_on_commit_callbacks, email="b@beta.example")
    agent = world_a.client("kc_agent")
    assert agent.get(PAGE).status_code == 403
    assert resend(agent, alpha, "confirm_request", "a@alpha.example").status_code == 403
    assert Client().get(PAGE).status_code == 302
    beta_staff = world_b.client("office_staff")
    page = beta_staff.get(PAGE).content.decode()
    assert beta.code in page and alpha.code not in page and "a@alpha.example" not in page
    # Filtering by alpha's location is refused, not answered with alpha's rows.
    filtered = beta_staff.get(PAGE, {"location": office.location.pk}).content.decode()
    assert alpha.code not in filtered
    settings.EMAIL_PORT = smtp_server.port
    assert resend(beta_staff, alpha, "confirm_request", "x@beta.example").status_code == 404
    assert smtp_server.messages == []
    with scopes_disabled():
        alpha.refresh_from_db()
    assert alpha.email == "a@alpha.example"


def test_the_list_costs_the_same_queries_for_more_rows(
    world_a, office, settings, clock, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 1
    hold(office, world_a, django_capture_on_commit_callbacks, hour=10)
    with scope(tenant=world_a.tenant), CaptureQueriesContext(connection) as one:
        assert len(selectors.undelivered_mails(now=NOW)) == 1
    for hour in (8, 9, 11):
        hold(office, world_a, django_capture_on_commit_callbacks, hour=hour, email=f"{hour}@a.de")
    with scope(tenant=world_a.tenant), CaptureQueriesContext(connection) as four:
        rows = selectors.undelivered_mails(now=NOW)
    assert len(rows) == 4 and len(four) == len(one) == 2


def test_a_citizen_who_lost_the_mail_gets_it_again_from_the_booking_page(
    world_a, office, smtp_server, clock, django_capture_on_commit_callbacks
):
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    staff = world_a.client("office_staff")
    page = reverse("appointments:office_booking", args=[booking.pk])
    held = staff.get(page).content.decode()
    assert reverse("appointments:mail_resend", args=[booking.pk, "confirm_request"]) in held
    with scope(tenant=world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        services.booking_confirm(booking=booking)
    confirmed = staff.get(page).content.decode()
    resend_url = reverse("appointments:mail_resend", args=[booking.pk, "confirmed"])
    assert resend_url in confirmed and "confirm_request/resend" not in confirmed
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post(resend_url, {"email": "ada@example.org", "back": "booking"})
    assert answer.status_code == 302 and answer.url == page
    _link, _confirmation, again = smtp_server.messages
    assert again["To"] == "ada@example.org" and booking.code in again["Subject"] + str(
        again.get_body(("plain",)).get_content()
    )
    with scope(tenant=world_a.tenant):
        services.booking_cancel(booking=booking)
    assert "/resend/" not in staff.get(page).content.decode()  # nothing left to send again


def test_the_office_pages_speak_english_on_request(
    world_a, office, smtp_server, settings, clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    staff = world_a.client("office_staff")
    staff.post(reverse("set_language"), {"language": "en", "next": "/"})
    mails = staff.get(PAGE).content.decode()
    assert "Undelivered e-mails" in mails and "The mail server could not be reached." in mails
    page = staff.get(reverse("appointments:office_booking", args=[booking.pk])).content.decode()
    assert f"Appointment {booking.code}" in page
    assert "E-mail could not be delivered" in page and "Send the confirmation link again" in page


def test_a_mail_queued_for_a_booking_erased_or_deleted_meanwhile_is_not_tried(
    world_a, office, smtp_server, clock, django_capture_on_commit_callbacks
):
    booking = hold(office, world_a, django_capture_on_commit_callbacks)
    with scope(tenant=world_a.tenant):
        Booking.objects.filter(pk=booking.pk).update(email="", erased_at=NOW)
    booking_mail.call("reminder", booking.pk, world_a.tenant.pk)  # as the worker runs it
    with scopes_disabled():
        Booking.objects.filter(pk=booking.pk).delete()
    booking_mail.call("confirmed", booking.pk, world_a.tenant.pk)
    booking_mail.call("confirmed", booking.pk, 10**9)  # a municipality removed meanwhile
    assert len(smtp_server.messages) == 1  # only the confirmation link of the hold
    assert [a for a, _p in mail_events(booking)] == ["booking_mail_sent"]

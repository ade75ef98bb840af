"""A morning at the citizen office in a real browser: an appointment holder checks in at the
kiosk, the counter calls the next ticket, the waiting-room display shows the call at once, the
service starts and finishes. The kiosk and the display run without a login."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from rathaus.appointments import services
from rathaus.appointments.models import (
    AvailabilityRule,
    BookingChannel,
    Slot,
    Ticket,
    TicketStatus,
)
from rathaus.appointments.office_views import device_url
from rathaus.appointments.rules import bookable_window
from rathaus.core.calendar import WorkingCalendar
from tests.appointments.conftest import build_office
from tests.browser.conftest import axe_violations, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def same_day_rule(office, **quotas: int) -> dt.datetime:
    """A rule for today only, from the next full ten minutes for half an hour; returns its start.

    The office's own rule starts tomorrow for citizens (min_days_ahead=1); a check-in needs an
    appointment today.
    """
    now = timezone.localtime()
    start = (now + dt.timedelta(minutes=10 - now.minute % 10)).replace(second=0, microsecond=0)
    if (start + dt.timedelta(minutes=30)).date() != now.date():
        pytest.skip("too close to midnight for a same-day appointment")
    if WorkingCalendar.for_tenant(office.location.tenant).is_closed(now.date()):
        pytest.skip("today is a public holiday: no slots today")
    services.rule_save(
        rule=AvailabilityRule(
            location=office.location,
            weekdays=[now.weekday()],
            starts=start.time(),
            ends=(start + dt.timedelta(minutes=30)).time(),
            slot_minutes=10,
            min_days_ahead=0,
            max_days_ahead=0,
            release_time=dt.time(0, 0),
            **{"online_quota": 0, "phone_quota": 0, "internal_quota": 0, **quotas},
        ),
        today=now.date(),
    )
    return start


def appointment_today(office):
    """A confirmed appointment a few minutes from now, booked by staff (internal)."""
    return services.booking_hold(
        request=office.request((office.certificate, 1)),
        start=same_day_rule(office, internal_quota=1),
        name="Erika Muster",
        email="",
        channel=BookingChannel.INTERNAL,
    )


def staff_login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("x-unused-password")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")


def test_check_in_call_display_start_finish(page, browser, live_server, world_a):
    with scope(tenant=world_a.tenant):
        office = build_office(world_a, today=timezone.localdate())
        booking = appointment_today(office)
        kiosk_path = device_url(office.location, "kiosk")
        display_path = device_url(office.location, "display")

    # The waiting room's devices: no login, their own browser context.
    devices = browser.new_context(
        locale="de-DE", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    kiosk = devices.new_page()
    display = devices.new_page()
    try:
        kiosk.goto(f"{live_server.url}{kiosk_path}")
        assert axe_violations(kiosk) == []
        shot(kiosk, "office-kiosk")
        kiosk.locator("#id_code").fill(booking.code.lower())
        kiosk.locator("#check-in button[type=submit]").click()
        expect(kiosk.locator("#ticket-number")).to_have_text("T001")

        errors: list[str] = []
        display.on("pageerror", lambda error: errors.append(str(error)))
        display.goto(f"{live_server.url}{display_path}?gong=1")
        display.locator("#display-calls").wait_for()
        # Browsers keep audio off until someone touches the page; the display offers a button.
        gong = display.locator("#gong-enable")
        if gong.is_visible():
            gong.click()
            expect(gong).to_be_hidden()

        # The counter: choose the counter once, then work by keyboard.
        staff_login(page, live_server, "alpha-office_staff")
        page.goto(f"{live_server.url}/office/counter/")
        page.locator("#id_counter").select_option(label="Bürgerbüro Mitte – Platz 1")
        page.locator("#counter-choose button[type=submit]").click()
        page.locator("#btn-next").wait_for()
        page.wait_for_load_state()
        page.locator("#btn-next").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#current-ticket")).to_have_text("T001")
        shot(page, "office-counter")

        # The display shows the call within two seconds, without a reload.
        expect(display.locator("#display-current .display-number")).to_have_text(
            "T001", timeout=2000
        )
        expect(display.locator("#display-current .display-counter")).to_have_text("Platz 1")
        assert axe_violations(display) == []
        shot(display, "office-display")
        assert errors == []

        # Start (the button has the focus after the call) and finish with the booked service.
        expect(page.locator("#btn-start")).to_be_focused()
        page.keyboard.press("Enter")
        page.locator("#finish-form").wait_for()
        expect(page.locator("#finish-form input[type=checkbox]:checked")).to_have_count(1)
        page.locator("#btn-finish").press("Enter")
        page.locator("#current-ticket-none").wait_for()
    finally:
        devices.close()

    with scope(tenant=world_a.tenant):
        ticket = Ticket.objects.get(booking=booking)
        assert ticket.status == TicketStatus.DONE
        assert list(ticket.services_done.all()) == [office.certificate]


def test_staff_send_an_undelivered_confirmation_link_again(
    page, live_server, world_a, smtp_server, settings
):
    """The mail server was down when a citizen booked: the office sees the undelivered
    confirmation link, hears the right address on the phone and sends the link again."""
    settings.EMAIL_PORT = 1  # nobody listens there
    with scope(tenant=world_a.tenant):
        office = build_office(world_a, today=timezone.localdate())
        now = timezone.now()
        # The first slot a citizen may book online now: not today, whatever the hour.
        first_free = next(
            slot
            for slot in Slot.objects.filter(
                location=office.location, channel="online", start__gt=now
            ).order_by("start")
            if bookable_window(slot.rule, now, "online")[0] <= timezone.localdate(slot.start)
        )
        booking = services.booking_hold(
            request=office.request((office.certificate, 1)),
            start=first_free.start,
            name="Erika Muster",
            email="erika@exmaple.org",  # mistyped
            phone="0221 4711",
        )
    settings.EMAIL_PORT = smtp_server.port  # the mail server is back

    staff_login(page, live_server, "alpha-office_staff")
    page.goto(f"{live_server.url}/office/")
    page.get_by_role("link", name="Nicht zugestellte E-Mails").click()
    row = page.locator("#mail-table tbody tr", has_text=booking.code)
    expect(row).to_contain_text("Bestätigungslink")
    expect(row).to_contain_text("Mailserver war nicht erreichbar")
    assert axe_violations(page) == []
    shot(page, "office-undelivered-mails")
    row.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    row.get_by_role("button", name="Erneut senden").click()
    expect(page.locator(".app-messages")).to_contain_text("erneut an erika@example.org gesendet")
    expect(page.locator("#mail-table")).not_to_contain_text(booking.code)
    (mail,) = smtp_server.messages
    assert mail["To"] == "erika@example.org"
    assert "/confirm/" in mail.get_body(("plain",)).get_content()

    # The booking's page, found by its code, tells the whole story.
    page.goto(f"{live_server.url}/office/")
    page.locator("#booking-search input[name=q]").fill(booking.code.lower())
    page.locator("#booking-search button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(booking.code)
    history = page.locator("#booking-history")
    for step in (
        "Reserviert, wartet auf Bestätigung",
        "E-Mail konnte nicht zugestellt werden",
        "E-Mail von Mitarbeitenden erneut gesendet",
        "E-Mail versendet",
    ):
        expect(history).to_contain_text(step)
    expect(page.locator("#booking-facts")).to_contain_text("erika@example.org")
    assert axe_violations(page) == []
    shot(page, "office-booking")

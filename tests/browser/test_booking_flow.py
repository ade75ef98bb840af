"""A citizen books an appointment in a real browser: service, location, day, time, details; the
ALTCHA widget solves its proof of work under the pages' own Content-Security-Policy; the
confirmation link arrives at the local SMTP server, and the button on its page confirms and
shows the booking code. axe-core checks every page of the way."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_scopes import scope

from rathaus.appointments.models import Booking, BookingPolicy, BookingStatus
from tests.appointments.conftest import build_office
from tests.browser.conftest import axe_violations, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mail_link(message, kind: str, base: str) -> str:
    body = message.get_body(("plain",)).get_content()
    url = next(line for line in body.splitlines() if f"/{kind}/" in line).strip()
    return base + url.split("8000", 1)[1]  # the mails use RATHAUS_PUBLIC_URL


def test_a_citizen_books_and_confirms_by_e_mail(browser, page, live_server, world_a, smtp_server):
    tenant = world_a.tenant
    with scope(tenant=tenant):
        # The booking window has to contain the real date: the live server runs on real time.
        office = build_office(world_a, today=timezone.localdate())
    BookingPolicy.objects.update_or_create(tenant=tenant, defaults=dict(challenge_max_number=1000))

    def audit(url: str, name: str | None = None) -> None:
        """axe on the same page in the test's context (which may inject axe-core)."""
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert axe_violations(page) == [], url
        if name:
            shot(page, name)

    # The citizen's own browser keeps the Content-Security-Policy of the pages.
    citizen = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    tab = citizen.new_page()
    tab.on(
        "console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None
    )
    try:
        tab.goto(f"{live_server.url}/book/alpha/")
        audit(tab.url, "booking-service")
        tab.get_by_label("Meldebescheinigung").check()
        tab.locator("#service-form button[type=submit]").click()
        tab.locator("#location-form").wait_for()
        audit(tab.url)
        tab.locator(f"#location-{office.location.pk}").check()
        tab.locator("#location-form button[type=submit]").click()
        tab.locator(".app-days").first.wait_for()
        audit(tab.url)
        tab.locator(".app-day").first.click()
        tab.locator("#time-form").wait_for()
        audit(tab.url, "booking-time")
        chosen = tab.locator("#time-form input[name=time]:checked").get_attribute("value")
        tab.locator("#time-form button[type=submit]").click()
        tab.locator("#details-form").wait_for()
        audit(tab.url)

        tab.locator("#id_name").fill("Erika Mustermann")
        tab.locator("#id_email").fill("erika@example.org")
        tab.locator("#id_consent").check()
        # The widget fetches a challenge, solves it in a worker and then sends the form.
        tab.locator("#book-button").click()
        tab.wait_for_url("**/held/**")
        tab.locator("#held-message").wait_for()
        assert "erika@example.org" in tab.locator("#held-message").inner_text()
        audit(tab.url)
        with scope(tenant=tenant):
            booking = Booking.objects.get()
        assert booking.status == BookingStatus.HELD
        assert timezone.localtime(booking.start).strftime("%H:%M") == chosen
        assert booking.code not in tab.content()

        (request_mail,) = smtp_server.messages
        assert request_mail["To"] == "erika@example.org"
        # The link shows the time with one button; opening it (mail scanners do) books nothing.
        tab.goto(mail_link(request_mail, "confirm", live_server.url))
        assert tab.locator("#confirm-booking").is_visible()
        assert booking.code not in tab.content()
        audit(tab.url)
        with scope(tenant=tenant):
            booking.refresh_from_db()
        assert booking.status == BookingStatus.HELD and len(smtp_server.messages) == 1
        tab.locator("#confirm-booking").click()
        tab.locator("#booking-code").wait_for()
        assert tab.locator("#booking-code").inner_text() == booking.code
        audit(tab.url, "booking-confirmed")  # the button confirms once; the link then shows it
        assert blocked == []
    finally:
        citizen.close()

    confirmed_mail = smtp_server.messages[1]
    with scope(tenant=tenant):
        booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    audit(mail_link(confirmed_mail, "cancel", live_server.url))
    assert page.locator("form.app-actions button").count() == 1  # the cancel button
    audit(mail_link(confirmed_mail, "move", live_server.url))
    assert page.locator(".app-day").count() > 0

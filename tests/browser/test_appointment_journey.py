"""The whole way of one appointment in a real browser, as a new user would try it: a citizen
books for later today and confirms with the link in the e-mail (read from the local SMTP server),
checks in at the kiosk with the booking code, is called at the counter, sees the call on the
waiting-room display, is served, and the location dashboard counts the visit."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from rathaus.appointments.models import Booking, BookingPolicy, BookingStatus
from rathaus.appointments.office_views import device_url
from tests.appointments.conftest import build_office
from tests.browser.conftest import axe_violations, shot
from tests.browser.test_booking_flow import mail_link
from tests.browser.test_office_flow import same_day_rule, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_book_confirm_check_in_call_display_serve_and_count(
    browser, page, live_server, world_a, smtp_server
):
    tenant = world_a.tenant
    with scope(tenant=tenant):
        office = build_office(world_a, today=timezone.localdate())
        start = same_day_rule(office, online_quota=1)
        kiosk_path = device_url(office.location, "kiosk")
        display_path = device_url(office.location, "display")
    BookingPolicy.objects.update_or_create(tenant=tenant, defaults=dict(challenge_max_number=1000))

    citizen = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    devices = browser.new_context(locale="de-DE", bypass_csp=True)
    try:
        # 1. The citizen books the first free time, which is later today.
        tab = citizen.new_page()
        tab.goto(f"{live_server.url}/book/alpha/")
        tab.get_by_label("Meldebescheinigung").check()
        tab.locator("#service-form button[type=submit]").click()
        tab.locator(f"#location-{office.location.pk}").check()
        tab.locator("#location-form button[type=submit]").click()
        tab.locator(".app-day").first.click()
        assert tab.locator("#time-form input[name=time]:checked").get_attribute(
            "value"
        ) == start.strftime("%H:%M")
        tab.locator("#time-form button[type=submit]").click()
        tab.locator("#id_name").fill("Erika Mustermann")
        tab.locator("#id_email").fill("erika@example.org")
        tab.locator("#id_consent").check()
        tab.locator("#book-button").click()
        tab.wait_for_url("**/held/**")

        # 2. The link in the e-mail shows the time; its button confirms it and shows the code.
        tab.goto(mail_link(smtp_server.messages[0], "confirm", live_server.url))
        tab.locator("#confirm-booking").click()
        code = tab.locator("#booking-code").inner_text()
        with scope(tenant=tenant):
            booking = Booking.objects.get(code=code)
        assert booking.status == BookingStatus.CONFIRMED and booking.start == start

        # 3. At the office: check in at the kiosk with the code from the confirmation mail.
        confirmed = smtp_server.messages[1].get_body(("plain",)).get_content()
        assert code in confirmed
        kiosk = devices.new_page()
        kiosk.goto(f"{live_server.url}{kiosk_path}")
        kiosk.locator("#id_code").fill(code)
        kiosk.locator("#check-in button[type=submit]").click()
        expect(kiosk.locator("#ticket-number")).to_have_text("T001")

        # 4. The counter calls; the display shows the call; service starts and finishes.
        display = devices.new_page()
        display.goto(f"{live_server.url}{display_path}")
        display.locator("#display-calls").wait_for()
        staff_login(page, live_server, "alpha-office_staff")
        page.goto(f"{live_server.url}/office/counter/")
        page.locator("#id_counter").select_option(label="Bürgerbüro Mitte – Platz 1")
        page.locator("#counter-choose button[type=submit]").click()
        page.locator("#btn-next").click()
        expect(page.locator("#current-ticket")).to_have_text("T001")
        expect(display.locator("#display-current .display-number")).to_have_text(
            "T001", timeout=2000
        )
        page.locator("#btn-start").click()
        page.locator("#finish-form").wait_for()
        page.locator("#btn-finish").click()
        page.locator("#current-ticket-none").wait_for()
    finally:
        citizen.close()
        devices.close()

    # 5. The location dashboard (a team lead) counts the visit from its events.
    page.context.clear_cookies()
    staff_login(page, live_server, "alpha-team_lead")
    page.goto(f"{live_server.url}/office/figures/?location={office.location.pk}")
    expect(page.locator("section[aria-labelledby=kpi-visits]")).to_contain_text("1")
    expect(page.locator("#table-service")).to_contain_text("Meldebescheinigung")
    assert axe_violations(page) == []
    shot(page, "appointments-dashboard")
    with scope(tenant=tenant):
        booking.refresh_from_db()
    assert booking.status == BookingStatus.DONE

"""A tenant admin sets up two-factor login in a real browser, signs out, signs in with the
app's code, then with a recovery code, and the used recovery code is refused the next time."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from django_otp.oath import TOTP

from tests.browser.conftest import axe_violations, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.real_second_factor,
]
PASSWORD = "x-unused-password"


def sign_in_with_password(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Abmelden").first.click()
    page.get_by_role("heading", name="Anmelden").wait_for()


def app_code(secret: str) -> str:
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{TOTP(key).token():06d}"


def test_enrol_then_sign_in_with_the_code_and_with_a_recovery_code(page, live_server, world_a):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=True) as clock:
        sign_in_with_password(page, live_server, "alpha-tenant_admin")
        page.get_by_role("heading", name="Zwei-Faktor-Anmeldung einrichten").wait_for()
        assert page.get_by_role("img", name="QR-Code für die Authenticator-App").is_visible()
        assert axe_violations(page) == []
        shot(page, "two-factor-setup")
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_label("Code aus der App").fill(app_code(secret))
        page.get_by_role("button", name="Aktivieren").click()
        page.get_by_role("heading", name="Ihre Wiederherstellungscodes").wait_for()
        codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
        assert len(codes) == 10
        page.get_by_role("link", name="Ich habe sie aufbewahrt, weiter").click()
        page.get_by_role("heading", name="Willkommen").wait_for()
        sign_out(page)

        clock.shift(30)  # the app's next code; each code is taken once
        sign_in_with_password(page, live_server, "alpha-tenant_admin")
        page.get_by_role("heading", name="Anmeldung bestätigen").wait_for()
        assert axe_violations(page) == []
        shot(page, "two-factor-code")
        page.get_by_label("Code", exact=True).fill(
            "000000" if app_code(secret) != "000000" else "111111"
        )
        page.get_by_role("button", name="Bestätigen").click()
        assert page.get_by_text("Dieser Code ist ungültig.").is_visible()
        clock.shift(5)  # past the throttle's pause after one wrong code
        page.get_by_label("Code", exact=True).fill(app_code(secret))
        page.get_by_role("button", name="Bestätigen").click()
        page.get_by_role("heading", name="Willkommen").wait_for()
        sign_out(page)

        sign_in_with_password(page, live_server, "alpha-tenant_admin")
        page.get_by_label("Code", exact=True).fill(codes[0])
        page.get_by_role("button", name="Bestätigen").click()
        page.get_by_role("heading", name="Willkommen").wait_for()
        assert page.get_by_text("9 sind übrig").is_visible()
        sign_out(page)

        clock.shift(30)
        sign_in_with_password(page, live_server, "alpha-tenant_admin")
        page.get_by_label("Code", exact=True).fill(codes[0])
        page.get_by_role("button", name="Bestätigen").click()
        refused = page.get_by_text("Dieser Wiederherstellungscode ist ungültig oder wurde schon")
        refused.wait_for()
        page.goto(f"{live_server.url}/access-log/")
        page.get_by_role("heading", name="Anmeldung bestätigen").wait_for()

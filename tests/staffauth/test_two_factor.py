"""Two-factor login for staff: who must use it, setting it up, signing in with a code or a
recovery code, throttling of wrong codes, and the events. These tests meet the real
requirement (no test shortcut, `real_second_factor`)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scope

from rathaus.core.models import Event, Role
from rathaus.staffauth import services
from rathaus.staffauth.middleware import SECOND_FACTOR_SESSION_KEY

pytestmark = pytest.mark.real_second_factor
PASSWORD = "x-unused-password"
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def code_of(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def password_login(client: Client, username: str) -> object:
    return client.post("/login/", {"username": username, "password": PASSWORD})


def enrol(client: Client, clock) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/login/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post("/login/two-factor/setup/", {"code": code_of(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li class=\"kern-body\"><code>([a-z2-7]{8})</code>", response.text)
    device.refresh_from_db()
    clock.shift(30)  # the next code: a code is accepted once only
    return device, codes


def test_a_tenant_admin_without_a_device_is_led_to_enrol_before_any_staff_page(world_a, clock):
    client = Client()
    response = password_login(client, "alpha-tenant_admin")
    assert response.status_code == 302
    for page in ("/", "/access-log/", "/organisation/"):
        answer = client.get(page)
        assert answer.status_code == 302
        assert answer["Location"].startswith("/login/two-factor/setup/?next=")
    setup = client.get("/login/two-factor/setup/")
    assert "data:image/svg+xml" in setup.text  # the QR code
    device, codes = enrol(client, clock)
    assert device.confirmed and len(codes) == 10
    assert client.get("/access-log/").status_code == 200
    with scope(tenant=world_a.tenant):
        logged = list(Event.objects.filter(subject_kind="user").values_list("activity", flat=True))
    assert logged == ["second_factor_enrolled", "recovery_codes_generated"]


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.TEAM_LEAD, Role.CONTROLLER])
def test_roles_that_read_personal_data_in_bulk_must_enrol(world_a, clock, role):
    client = Client()
    client.force_login(world_a.users[role])
    assert client.get("/")["Location"].startswith("/login/two-factor/setup/")


def test_a_clerk_needs_none_until_the_municipality_asks_everyone(world_a, clock):
    clerk = Client()
    clerk.force_login(world_a.users[Role.CLERK])
    assert clerk.get("/").status_code == 200
    with scope(tenant=world_a.tenant):
        services.login_policy_set(
            tenant=world_a.tenant, actor=None, second_factor_for_all=True, password_login=True
        )
    assert clerk.get("/")["Location"].startswith("/login/two-factor/setup/")
    with scope(tenant=world_a.tenant):
        assert Event.objects.filter(activity="login_policy_changed").count() == 1


def test_the_setting_of_one_municipality_does_not_reach_the_staff_of_another(
    world_a, world_b, clock
):
    with scope(tenant=world_a.tenant):
        services.login_policy_set(
            tenant=world_a.tenant, actor=None, second_factor_for_all=True, password_login=True
        )
    clerk_b = Client()
    clerk_b.force_login(world_b.users[Role.CLERK])
    assert clerk_b.get("/").status_code == 200


def test_sign_in_asks_for_the_code_then_a_recovery_code_works_once(world_a, clock):
    client = Client()
    password_login(client, "alpha-tenant_admin")
    device, codes = enrol(client, clock)
    client.post("/logout/")

    password_login(client, "alpha-tenant_admin")
    asked = client.get("/access-log/")
    assert asked["Location"] == "/login/code/?next=%2Faccess-log%2F"
    assert client.get("/login/two-factor/setup/")["Location"] == "/login/code/"  # no new app
    answer = client.post("/login/code/", {"code": code_of(device), "next": "/access-log/"})
    assert answer["Location"] == "/access-log/"
    assert client.session[SECOND_FACTOR_SESSION_KEY] == "totp"
    client.post("/logout/")

    password_login(client, "alpha-tenant_admin")
    answer = client.post("/login/code/", {"code": codes[0].upper(), "next": "/"})
    assert answer["Location"] == "/"
    assert client.get("/access-log/").status_code == 200
    client.post("/logout/")

    clock.shift(60)
    password_login(client, "alpha-tenant_admin")
    again = client.post("/login/code/", {"code": codes[0]})
    assert again.status_code == 200
    assert "Dieser Wiederherstellungscode ist ungültig oder wurde schon verwendet." in again.text
    assert client.get("/")["Location"].startswith("/login/code/")
    with scope(tenant=world_a.tenant):
        used = Event.objects.get(activity="recovery_code_used")
    assert used.payload == {"remaining": 9}


def test_wrong_codes_are_refused_with_a_message_and_throttled(world_a, clock):
    client = Client()
    password_login(client, "alpha-tenant_admin")
    device, _codes = enrol(client, clock)
    client.post("/logout/")
    password_login(client, "alpha-tenant_admin")
    wrong = "000000" if code_of(device) != "000000" else "111111"
    first = client.post("/login/code/", {"code": wrong})
    assert "Dieser Code ist ungültig." in first.text
    # Right away, even the right code waits: django-otp's throttling (1, 2, 4 … seconds).
    hurried = client.post("/login/code/", {"code": code_of(device)})
    assert "Zu viele falsche Codes. Bitte warten Sie 1 Sekunde und" in hurried.text
    assert SECOND_FACTOR_SESSION_KEY not in client.session
    clock.shift(2)
    assert client.post("/login/code/", {"code": code_of(device)})["Location"] == "/"


def test_a_recovery_code_of_another_person_does_not_confirm(world_a, clock):
    admin = Client()
    password_login(admin, "alpha-tenant_admin")
    _device, admin_codes = enrol(admin, clock)
    lead = Client()
    password_login(lead, "alpha-team_lead")
    enrol(lead, clock)
    lead.post("/logout/")
    password_login(lead, "alpha-team_lead")
    refused = lead.post("/login/code/", {"code": admin_codes[0]})
    assert "ungültig oder wurde schon verwendet" in refused.text
    assert SECOND_FACTOR_SESSION_KEY not in lead.session


def test_new_recovery_codes_replace_the_old_ones(world_a, clock):
    client = Client()
    password_login(client, "alpha-tenant_admin")
    _device, old = enrol(client, clock)
    fresh = client.post("/login/two-factor/recovery-codes/")
    new = re.findall(r"<code>([a-z2-7]{8})</code>", fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout/")
    password_login(client, "alpha-tenant_admin")
    assert client.post("/login/code/", {"code": old[0]}).status_code == 200
    clock.shift(60)
    assert client.post("/login/code/", {"code": new[0]})["Location"] == "/"


def test_pages_of_the_step_answer_bad_input_without_error(world_a, clock):
    client = Client()
    password_login(client, "alpha-tenant_admin")
    for code in ["", " ", "x" * 41, "12345", "1234567", "١٢٣٤٥٦", "<script>"]:
        answer = client.post("/login/two-factor/setup/", {"code": code})
        assert answer.status_code == 200
    assert TOTPDevice.objects.filter(confirmed=True).count() == 0

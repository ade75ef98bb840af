"""A staff session ends when idle and after its lifetime; no page is cached; every answer
limits the browser features the pages may use; input no field can hold is refused whole."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from rathaus.contacts.models import Contact
from rathaus.core.http import id_param
from rathaus.core.models import Role

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
HOME = reverse("core:home")


@pytest.fixture
def limits(settings):
    settings.RATHAUS_SESSION_IDLE_MINUTES = 30
    settings.RATHAUS_SESSION_MAX_HOURS = 12
    settings.SESSION_COOKIE_AGE = 12 * 3600


def _signed_in(page) -> bool:
    return page.status_code == 200 and page.context["user"].is_authenticated


def test_a_session_ends_after_thirty_idle_minutes_and_says_why(world_a, limits):
    with time_machine.travel(START, tick=False) as clock:
        agent = world_a.client(Role.KC_AGENT)
        assert _signed_in(agent.get(HOME))
        clock.shift(dt.timedelta(minutes=29))
        assert _signed_in(agent.get(HOME))  # activity keeps it open
        clock.shift(dt.timedelta(minutes=31))
        page = agent.get(HOME, follow=True)
        assert not page.context["user"].is_authenticated
        assert "nach 30 Minuten ohne Aktivität abgemeldet" in page.content.decode()
        assert agent.get(reverse("contacts:desk")).status_code == 302  # to the login


def test_a_busy_session_still_ends_after_twelve_hours(world_a, limits):
    with time_machine.travel(START, tick=False) as clock:
        lead = world_a.client(Role.TEAM_LEAD)
        for _quarter in range(47):  # a request every 15 minutes for 11 h 45 min
            assert _signed_in(lead.get(HOME))
            clock.shift(dt.timedelta(minutes=15))
        assert _signed_in(lead.get(HOME))
        clock.shift(dt.timedelta(minutes=16))
        page = lead.get(HOME, follow=True)
        assert not page.context["user"].is_authenticated
        assert "nach 12 Stunden abgemeldet" in page.content.decode()


def test_pages_and_exports_are_not_cached_and_features_are_limited(world_a):
    agent = world_a.client(Role.KC_AGENT)
    for url in (HOME, reverse("contacts:desk"), reverse("contacts:inbox") + "?format=csv"):
        answer = agent.get(url)
        assert answer.status_code == 200, url
        assert "no-store" in answer["Cache-Control"], url
        assert answer["Permissions-Policy"].startswith("camera=(self), microphone=()"), url
    login = agent.get(reverse("login"))
    assert "no-store" in login["Cache-Control"]


def test_a_nul_byte_anywhere_in_a_page_request_is_refused_whole(world_a):
    agent = world_a.client(Role.KC_AGENT)
    clerk = world_a.client(Role.CLERK)
    for answer in (
        agent.get(reverse("catalog:service_list"), {"q": "Pass\x00wort"}),
        clerk.get("/cases/a%00b/"),
        agent.post(reverse("contacts:contact_start"), {"channel": "phone\x00"}),
    ):
        assert answer.status_code == 400
        assert "enthält Zeichen, die nicht verarbeitet werden können" in answer.content.decode()
    with scope(tenant=world_a.tenant):
        assert not Contact.objects.exists()  # the refused form started no contact


def test_ids_from_query_strings_are_ascii_digits_that_fit_the_database(world_a):
    assert [id_param(v) for v in ("12", "²", "١٢", "-1", "1e3", "9" * 19, "", None)] == [
        12, None, None, None, None, None, None, None,
    ]  # fmt: skip
    editor = world_a.client(Role.KNOWLEDGE_EDITOR)
    for unit in ("²", "9" * 23):
        assert editor.get(reverse("catalog:service_list"), {"unit": unit}).status_code == 200


def test_a_login_name_longer_than_any_account_is_a_failed_login_not_an_error(db):
    answer = Client().post(reverse("login"), {"username": "x" * 300, "password": "wrong"})
    assert answer.status_code == 200
    assert AccessAttempt.objects.get().username == "x" * 255


def test_a_row_id_beyond_any_database_integer_is_a_form_error(world_a):
    editor = world_a.client(Role.KNOWLEDGE_EDITOR)
    answer = editor.post(
        reverse("catalog:article_create"),
        {"question": "Wie?", "answer": "So.", "services": ["9" * 23]},
    )
    assert answer.status_code == 200
    assert answer.context["form"].errors["services"]

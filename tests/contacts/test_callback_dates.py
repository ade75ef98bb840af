"""Callback times at the KC desk: bounded when entered, and a stored bad one breaks no page."""

import datetime as dt

import pytest
from django.db import DataError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rathaus.contacts import services
from rathaus.contacts.models import Contact
from rathaus.core.forms import WithinYears
from rathaus.core.models import Event


def running_contact(world):
    agent = world.client("kc_agent")
    agent.post(reverse("contacts:contact_start"), {"channel": "phone"})
    with scopes_disabled():
        contact = Contact.objects.get(ended_at=None)
    return agent, contact, reverse("contacts:contact", args=[contact.pk])


@pytest.mark.parametrize("due", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_the_desk_refuses_a_callback_in_year_1_or_9999_and_changes_nothing(world_a, due):
    agent, contact, url = running_contact(world_a)
    with scopes_disabled():
        events = Event.objects.count()
    response = agent.post(
        url, {"outcome": "callback", "callback_due": due, "citizen_phone": "0171 99", "priority": 2}
    )
    assert response.status_code == 200
    today = timezone.localdate()
    last = WithinYears(past=0, future=1).bounds()[1]  # a year on (28 February for the 29th)
    assert (last - today).days in (365, 366)
    message = f"Geben Sie ein Datum zwischen dem {today:%d.%m.%Y} und dem {last:%d.%m.%Y} an."
    assert response.context["form"].errors["callback_due"] == [message]
    assert message in response.content.decode()
    # The input offers the same range to the browser's date picker.
    assert f'min="{today:%Y-%m-%d}T00:00"' in response.content.decode()
    with scopes_disabled():
        contact.refresh_from_db()
        assert Event.objects.count() == events
    assert contact.ended_at is None and contact.callback_due is None and contact.outcome == ""


def test_the_desk_takes_a_callback_within_the_next_year(world_a):
    agent, contact, url = running_contact(world_a)
    due = timezone.localtime() + dt.timedelta(days=360)
    response = agent.post(
        url,
        {
            "outcome": "callback",
            "callback_due": due.strftime("%Y-%m-%dT%H:%M"),
            "citizen_phone": "0171 99",
            "priority": 2,
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        contact.refresh_from_db()
    assert timezone.localtime(contact.callback_due).date() == due.date()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_a_stored_bc_callback_breaks_neither_the_desk_nor_the_callback_lists(world_a):
    """A year-1 callback stored before the form had bounds is a BC timestamp on PostgreSQL,
    which psycopg cannot load; the pages list it as an invalid date and it can be closed."""
    now = timezone.now()
    with scope(tenant=world_a.tenant):
        services.contact_record(
            tenant=world_a.tenant,
            agent=world_a.users["kc_agent"],
            org_unit=world_a.units["kc"],
            channel="phone",
            started_at=now - dt.timedelta(minutes=5),
            ended_at=now,
            actor=world_a.users["kc_agent"],
            outcome="callback",
            callback_due=now + dt.timedelta(hours=2),
            citizen={"name": "Erika Gut", "phone": "0171 11"},
        )
        bad = services.contact_record(
            tenant=world_a.tenant,
            agent=world_a.users["kc_agent"],
            org_unit=world_a.units["kc"],
            channel="phone",
            started_at=now - dt.timedelta(minutes=5),
            ended_at=now,
            actor=world_a.users["kc_agent"],
            outcome="callback",
            callback_due=now + dt.timedelta(hours=3),
            citizen={"name": "Otto Kaputt", "phone": "0171 22"},
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contacts_contact SET callback_due = '0001-12-31 23:06:32+00 BC'::timestamptz "
            "WHERE id = %s",
            [bad.pk],
        )
        cursor.execute(
            "SELECT extract(year FROM callback_due) < 1 FROM contacts_contact WHERE id = %s",
            [bad.pk],
        )
        assert cursor.fetchone() == (True,)
    with pytest.raises(DataError), transaction.atomic(), scopes_disabled():
        Contact.objects.get(pk=bad.pk)  # what every page did: psycopg cannot load a BC time
    agent = world_a.client("kc_agent")
    lead = world_a.client("team_lead")
    pages = [
        (agent, reverse("contacts:desk")),
        (agent, reverse("contacts:callbacks")),
        (lead, reverse("contacts:callbacks") + "?all=1"),
    ]
    for client, url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert "Otto Kaputt" in text and "ungültiges Datum" in text and "Erika Gut" in text
    # The bad row is first (the earliest) and can be marked as done, which removes it.
    assert agent.post(reverse("contacts:callback_done", args=[bad.pk])).status_code == 302
    text = agent.get(reverse("contacts:callbacks")).content.decode()
    assert "Otto Kaputt" not in text and "Erika Gut" in text

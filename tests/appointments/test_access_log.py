"""The access log: who viewed, searched or exported citizens' data; only the municipality's
admins read it, only their own; old entries are forgotten."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from rathaus.core.models import PersonalDataAccess
from rathaus.core.services import access_log_purge
from tests.contacts.test_pages import hand_over

from .conftest import MONDAY, at
from .helpers import book

LOG = reverse("core:access_log")


def a_booking(office):
    return book(office, at(MONDAY + dt.timedelta(days=1), 10), email="erika@example.org")


def logged() -> list[tuple[str, str, str, str]]:
    with scopes_disabled():
        rows = PersonalDataAccess.objects.select_related("user", "tenant").order_by("at", "pk")
        return [(r.user.get_username(), r.action, r.subject_kind, r.subject_id) for r in rows]


def test_opening_searching_and_exporting_citizens_data_is_logged(world_a, office):
    booking = a_booking(office)
    case = hand_over(world_a)
    staff = world_a.client("office_staff")
    staff.get(reverse("appointments:office_booking", args=[booking.pk]))
    staff.get(reverse("appointments:office_booking_search"), {"q": "Muster"})
    plan = {"location": office.location.pk, "day": (MONDAY + dt.timedelta(days=1)).isoformat()}
    staff.get(reverse("appointments:day_plan"), plan)
    staff.get(reverse("appointments:day_plan"), {**plan, "format": "csv"})
    staff.get(reverse("appointments:undelivered_mails"))
    clerk = world_a.client("clerk")
    clerk.get(reverse("contacts:case", args=[case.reference]))
    clerk.get(reverse("contacts:inbox"), {"format": "csv"})
    day = f"{office.location.pk}/{MONDAY + dt.timedelta(days=1)}"
    staff_name = world_a.users["office_staff"].get_username()
    clerk_name = world_a.users["clerk"].get_username()
    assert logged() == [
        (staff_name, "viewed", "booking", str(booking.pk)),
        (staff_name, "searched", "booking", ""),  # the search term is not kept
        (staff_name, "viewed", "day_plan", day),
        (staff_name, "exported", "day_plan", day),
        (staff_name, "viewed", "undelivered_mails", ""),
        (clerk_name, "viewed", "case", case.reference),
        (clerk_name, "exported", "cases", ""),
    ]


def test_only_the_municipalitys_admins_read_its_log(world_a, world_b, office):
    booking = a_booking(office)
    world_a.client("office_staff").get(reverse("appointments:office_booking", args=[booking.pk]))
    world_a.client("office_staff").get(reverse("appointments:undelivered_mails"))
    admin = world_a.client("tenant_admin")
    page = admin.get(LOG, {"subject_kind": "booking", "subject_id": str(booking.pk)})
    table = page.content.decode().split('id="access-table"')[1]
    assert world_a.users["office_staff"].get_username() in table
    assert "undelivered_mails" not in table  # filtered out
    rows = admin.get(LOG, {"format": "csv"}).content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Wann;Benutzer oder API-Token") and len(rows) == 3
    assert world_a.client("team_lead").get(LOG).status_code == 403
    assert Client().get(LOG).status_code == 302
    beta = world_b.client("tenant_admin").get(LOG).content.decode()
    assert world_a.users["office_staff"].get_username() not in beta
    assert "Kein Zugriff" in beta.split('id="access-table"')[1]
    assert "Zugriffsprotokoll" in admin.get(reverse("core:home")).content.decode()


def test_old_entries_are_forgotten(world_a, office, settings):
    booking = a_booking(office)
    world_a.client("office_staff").get(reverse("appointments:office_booking", args=[booking.pk]))
    now = timezone.now()
    assert access_log_purge(now + dt.timedelta(days=settings.RATHAUS_ACCESS_LOG_DAYS - 1)) == 0
    assert access_log_purge(now + dt.timedelta(days=settings.RATHAUS_ACCESS_LOG_DAYS + 1)) == 1
    assert logged() == []

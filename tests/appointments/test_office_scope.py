"""The citizen office is open to the staff and leads of the location's org unit and of the
units above it, not to every team lead: a KC team lead sees none of its personal data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rathaus.appointments.models import Booking, BookingStatus
from rathaus.catalog.models import Location
from rathaus.core import services as core_services
from rathaus.core.models import Role

from .conftest import MONDAY, at
from .helpers import book, frozen_clock

clock = frozen_clock(at(MONDAY, 9, 0))


def _user_in(world, unit: str, role: str, name: str) -> Client:
    with scope(tenant=world.tenant):
        user = core_services.user_create(username=name, password="x-unused-password")
        core_services.membership_grant(user=user, org_unit=world.units[unit], role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kc_lead(world_a, clock) -> Client:
    """A team lead of the KC: a team lead, but not of the citizen office. Logged in on the
    test's clock, so the session is not past Django's two weeks when MONDAY lies far ahead."""
    return _user_in(world_a, "kc", Role.TEAM_LEAD, "alpha-kc-lead")


def _plan(office) -> dict:
    return {"location": office.location.pk, "day": MONDAY.isoformat()}


def _status(booking: Booking) -> str:
    with scopes_disabled():
        return Booking.objects.get(pk=booking.pk).status


def test_a_kc_team_lead_is_refused_the_day_plan_its_csv_a_booking_and_the_cancel(
    world_a, office, kc_lead, clock
):
    booking = book(office, at(MONDAY, 9, 10))
    plan = reverse("appointments:day_plan")
    assert kc_lead.get(plan, _plan(office)).status_code == 403
    assert kc_lead.get(plan, {**_plan(office), "format": "csv"}).status_code == 403
    assert kc_lead.get(reverse("appointments:office_booking", args=[booking.pk])).status_code == 403
    cancel = reverse("appointments:office_booking_cancel", args=[booking.pk])
    assert kc_lead.post(cancel).status_code == 403
    assert _status(booking) == BookingStatus.CONFIRMED
    # Without a location chosen, the day plan offers none of the office's and shows nobody.
    page = kc_lead.get(plan)
    assert page.status_code == 200 and page.context["location"] is None
    assert "Erika Muster" not in page.content.decode()


def test_the_offices_own_staff_and_the_lead_of_the_unit_above_still_work_there(
    world_a, office, clock
):
    booking = book(office, at(MONDAY, 9, 10))
    plan = reverse("appointments:day_plan")
    for role in (Role.OFFICE_STAFF, Role.TEAM_LEAD, Role.TENANT_ADMIN):
        client = world_a.client(role)  # staff of Bürgerbüro Mitte, lead of the Bürgeramt
        assert "Erika Muster" in client.get(plan, _plan(office)).content.decode(), role
        csv = client.get(plan, {**_plan(office), "format": "csv"})
        assert booking.code in csv.content.decode("utf-8-sig"), role
        detail = client.get(reverse("appointments:office_booking", args=[booking.pk]))
        assert detail.status_code == 200, role
    cancel = reverse("appointments:office_booking_cancel", args=[booking.pk])
    assert world_a.client(Role.TEAM_LEAD).post(cancel).status_code == 302
    assert _status(booking) == BookingStatus.CANCELLED


def test_a_kc_team_lead_gets_none_of_the_offices_other_pages_or_lists(
    world_a, office, kc_lead, clock
):
    booking = book(office, at(MONDAY, 9, 10))
    location = office.location.pk
    refused = [
        reverse("appointments:office_location", args=[location]),
        reverse("appointments:location_setup", args=[location]),
        reverse("appointments:phone_booking") + f"?location={location}",
        reverse("appointments:undelivered_mails") + f"?location={location}",
        reverse("appointments:figures") + f"?location={location}",
    ]
    for page in refused:
        assert kc_lead.get(page).status_code == 403, page
    renew = reverse("appointments:device_links_renew", args=[location])
    assert kc_lead.post(renew).status_code == 403
    post = kc_lead.post(
        reverse("appointments:location_setup", args=[location]),
        {"section": "counter", "name": "Platz KC", "active": "on"},
    )
    assert post.status_code == 403
    # Lists show no location of the office, nor its counters; the booking code finds nothing.
    home = kc_lead.get(reverse("appointments:office"))
    assert list(home.context["locations"]) == []
    assert (
        "Bürgerbüro Mitte"
        not in kc_lead.get(reverse("appointments:location_list")).content.decode()
    )
    assert (
        list(
            kc_lead.get(reverse("appointments:day_plan"))
            .context["form"]
            .fields["location"]
            .queryset
        )
        == []
    )
    counter = kc_lead.get(reverse("appointments:counter")).context["form"]
    assert list(counter.fields["counter"].queryset) == []
    chosen = kc_lead.post(
        reverse("appointments:counter_choose"), {"counter": office.counters[0].pk}
    )
    assert chosen.status_code == 400
    search = kc_lead.get(reverse("appointments:office_booking_search"), {"q": booking.code})
    assert search.status_code == 200 and list(search.context["page"]) == []
    # The office's own staff see the location everywhere.
    staff = world_a.client(Role.OFFICE_STAFF)
    assert [loc.pk for loc in staff.get(reverse("appointments:office")).context["locations"]] == [
        location
    ]
    found = staff.get(reverse("appointments:office_booking_search"), {"q": booking.code})
    assert found.status_code == 302


def test_a_counter_chosen_before_is_gone_once_its_location_is_not_theirs(world_a, office, clock):
    staff = _user_in(world_a, "team", Role.OFFICE_STAFF, "alpha-moved")
    assert (
        staff.post(
            reverse("appointments:counter_choose"), {"counter": office.counters[0].pk}
        ).status_code
        == 302
    )
    with scope(tenant=world_a.tenant):
        office.location.org_unit = world_a.units["kc"]
        office.location.save(update_fields=["org_unit"])
    assert staff.post(reverse("appointments:counter_next")).status_code == 404
    assert "form" in staff.get(reverse("appointments:counter")).context


def test_a_location_without_org_unit_is_for_tenant_admins_and_the_top_unit_only(world_a, office):
    with scope(tenant=world_a.tenant):
        unassigned = Location.objects.create(tenant=world_a.tenant, name="Außenstelle")
    page = reverse("appointments:office_location", args=[unassigned.pk])
    assert world_a.client(Role.TEAM_LEAD).get(page).status_code == 403  # lead of the Bürgeramt
    assert world_a.client(Role.OFFICE_STAFF).get(page).status_code == 403
    assert world_a.client(Role.TENANT_ADMIN).get(page).status_code == 200
    top_lead = _user_in(world_a, "root", Role.TEAM_LEAD, "alpha-top-lead")
    assert top_lead.get(page).status_code == 200


def test_a_team_lead_creates_locations_only_for_units_they_lead(world_a, kc_lead):
    lead = world_a.client(Role.TEAM_LEAD)  # of the Bürgeramt
    create = reverse("appointments:location_create")
    form = lead.get(create).context["form"]
    assert set(form.fields["org_unit"].queryset) == {world_a.units["office"], world_a.units["team"]}
    data = {"name": "Bürgerbüro Süd", "street": "Südweg 1", "postcode": "12345", "city": "Alpha"}
    assert lead.post(create, data).status_code == 200  # the unit is needed
    assert lead.post(create, {**data, "org_unit": world_a.units["kc"].pk}).status_code == 200
    with scope(tenant=world_a.tenant):
        assert not Location.objects.filter(name="Bürgerbüro Süd").exists()
    made = lead.post(create, {**data, "org_unit": world_a.units["team"].pk})
    with scope(tenant=world_a.tenant):
        location = Location.objects.get(name="Bürgerbüro Süd")
    assert made.url == reverse("appointments:location_setup", args=[location.pk])
    assert lead.get(made.url).status_code == 200
    assert kc_lead.get(made.url).status_code == 403


def test_figures_show_staff_their_offices_and_controllers_all(world_a, office, kc_lead):
    figures = reverse("appointments:figures")
    # The KC lead works at no office: no location to choose, no sum over all of them.
    page = kc_lead.get(figures)
    assert list(page.context["form"].fields["location"].queryset) == []
    assert page.context["figures"] is None
    staff = world_a.client(Role.OFFICE_STAFF).get(figures)
    assert staff.context["figures"] is not None
    controller = world_a.client(Role.CONTROLLER)
    assert controller.get(figures, {"location": office.location.pk}).status_code == 200

"""Set-up pages: a team lead creates a location and its capacity; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rathaus.appointments.models import (
    AvailabilityRule,
    BookingPolicy,
    Counter,
    OfferedService,
    OpeningHours,
    Slot,
)
from rathaus.catalog.models import Location
from rathaus.core.models import Event, Role


def _next_weekday(offset: int = 2) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=offset)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


def test_team_lead_sets_up_a_location_from_scratch(world_a):
    client = world_a.client(Role.TEAM_LEAD)
    response = client.post(
        reverse("appointments:location_create"),
        {
            "name": "Bürgerbüro Nord",
            "org_unit": world_a.units["team"].pk,
            "street": "Nordweg 2",
            "postcode": "12345",
            "city": "Alpha",
        },
    )
    with scope(tenant=world_a.tenant):
        location = Location.objects.get(name="Bürgerbüro Nord")
    url = reverse("appointments:location_setup", args=[location.pk])
    assert response.url == url
    bad = client.post(url, {"section": "hours", "day0": "8-12", "day1": "12:00-08:00"})
    assert bad.status_code == 400
    assert "08:00-12:00" in bad.content.decode()
    with scope(tenant=world_a.tenant):
        assert not OpeningHours.objects.filter(location=location).exists()
    client.post(url, {"section": "hours", "day0": "08:00-12:00, 14:00-18:00", "day4": "8.00-12.00"})
    world_a.service.bookable = True
    world_a.service.save()
    client.post(url, {"section": "offer", "service": world_a.service.pk, "duration_minutes": "30"})
    client.post(url, {"section": "counter", "name": "Platz 1", "active": "on"})
    client.post(
        url,
        {
            "section": "rule",
            "weekdays": ["0", "1", "2", "3", "4"],
            "starts": "08:00",
            "ends": "12:00",
            "slot_minutes": "15",
            "online_quota": "2",
            "phone_quota": "1",
            "internal_quota": "0",
            "min_days_ahead": "1",
            "max_days_ahead": "30",
            "release_time": "07:00",
        },
    )
    day = _next_weekday()
    with scope(tenant=world_a.tenant):
        assert OpeningHours.objects.filter(location=location).count() == 3
        assert OfferedService.objects.get(location=location).duration == 30
        assert Counter.objects.filter(location=location, name="Platz 1").exists()
        assert AvailabilityRule.objects.filter(location=location).count() == 1
        assert Slot.objects.filter(location=location, start__date=day).count() == 16 * 3
    client.post(url, {"section": "closure", "date": day.isoformat(), "reason": "Schulung"})
    with scope(tenant=world_a.tenant):
        assert not Slot.objects.filter(location=location, start__date=day).exists()
    page = client.get(url)
    assert "Schulung" in page.content.decode() and "Platz 1" in page.content.decode()
    # Every step is in the location's history, with who did it.
    with scope(tenant=world_a.tenant):
        steps = list(
            Event.objects.filter(subject_kind="location", subject_id=str(location.pk))
            .order_by("id")
            .values_list("activity", "actor__username")
        )
    lead = world_a.users[Role.TEAM_LEAD].get_username()
    assert [a for a, _who in steps][1:] == [
        "opening_hours_changed",
        "service_offered",
        "counter_added",
        "availability_changed",
        "location_closed",
    ]
    assert {who for _a, who in steps[1:]} == {lead}


def test_a_rule_without_bookable_counters_is_refused(world_a):
    client = world_a.client(Role.TEAM_LEAD)
    with scope(tenant=world_a.tenant):
        location = Location.objects.create(
            tenant=world_a.tenant, name="Leer", org_unit=world_a.units["team"]
        )
    response = client.post(
        reverse("appointments:location_setup", args=[location.pk]),
        {
            "section": "rule",
            "weekdays": ["0"],
            "starts": "08:00",
            "ends": "12:00",
            "slot_minutes": "10",
            "online_quota": "0",
            "phone_quota": "0",
            "internal_quota": "0",
            "min_days_ahead": "1",
            "max_days_ahead": "30",
            "release_time": "07:00",
        },
    )
    assert response.status_code == 400
    with scopes_disabled():
        assert not AvailabilityRule.objects.exists()


def test_only_tenant_admins_change_the_booking_rules(world_a):
    url = reverse("appointments:policy")
    assert world_a.client(Role.TEAM_LEAD).get(url).status_code == 403
    admin = world_a.client(Role.TENANT_ADMIN)
    form = admin.get(url)
    assert form.status_code == 200
    data = {
        "hold_minutes": "15",
        "max_active_per_email": "1",
        "cancel_return_minutes": "60",
        "ip_bookings_per_hour": "10",
        "email_bookings_per_day": "3",
        "challenge_max_number": "50000",
        "walk_in_max_wait_minutes": "25",
        "check_in_early_minutes": "20",
        "no_show_after_minutes": "10",
        "erase_after_days": "90",
    }
    assert admin.post(url, {**data, "hold_minutes": "0"}).status_code == 400
    assert admin.post(url, {**data, "erase_after_days": "0"}).status_code == 400
    # Until saved, the tenant has the defaults; reading them (the page did) writes nothing.
    assert BookingPolicy.for_tenant(world_a.tenant).hold_minutes == 10
    assert not BookingPolicy.objects.filter(tenant=world_a.tenant).exists()
    admin.post(url, data)
    saved = BookingPolicy.for_tenant(world_a.tenant)
    assert saved.hold_minutes == 15 and saved.erase_after_days == 90


def test_setup_pages_are_tenant_isolated(world_a, world_b):
    with scope(tenant=world_a.tenant):
        location = Location.objects.create(
            tenant=world_a.tenant, name="Alpha-Amt", org_unit=world_a.units["office"]
        )
    beta = world_b.client(Role.TEAM_LEAD)
    assert "Alpha-Amt" not in beta.get(reverse("appointments:location_list")).content.decode()
    url = reverse("appointments:location_setup", args=[location.pk])
    assert beta.get(url).status_code == 404
    assert beta.post(url, {"section": "counter", "name": "X"}).status_code == 404
    assert world_a.client(Role.KC_AGENT).get(url).status_code == 403
    with scopes_disabled():
        assert not Counter.objects.exists()
        assert (
            not BookingPolicy.objects.filter(tenant=world_b.tenant)
            .exclude(hold_minutes=10)
            .exists()
        )
    assert (
        "Alpha-Amt"
        in world_a.client(Role.TEAM_LEAD)
        .get(reverse("appointments:location_list") + "?q=alpha")
        .content.decode()
    )

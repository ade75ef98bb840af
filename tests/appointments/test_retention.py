"""Retention: name, e-mail address and phone number of a booking are erased the tenant's
number of days after it ended; the booking and its events stay for the figures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rathaus.appointments import jobs, services
from rathaus.appointments.figures import office_figures
from rathaus.appointments.models import Booking, BookingPolicy, BookingStatus
from rathaus.core.models import Event

from .conftest import MONDAY, at
from .helpers import book

DAY = MONDAY + dt.timedelta(days=1)
BOOKED_AT = at(MONDAY, 9)


def booked(office, hour: int, email: str, channel: str = "online") -> Booking:
    return book(
        office,
        at(DAY, hour),
        name="Ada Lovelace",
        email=email,
        phone="0221 4711",
        channel=channel,
        now=BOOKED_AT,
    )


@pytest.fixture
def bookings(office, world_a):
    """At DAY: a confirmed appointment at 10:00, one cancelled the day before, and a hold
    that was never confirmed (it expired ten minutes after the booking)."""
    with scope(tenant=world_a.tenant):
        served = booked(office, 10, "served@example.org", channel="phone")
        cancelled = booked(office, 11, "cancelled@example.org", channel="phone")
        services.booking_cancel(booking=cancelled, now=BOOKED_AT)
        unconfirmed = booked(office, 9, "held@example.org")
        services.holds_expire(tenant=world_a.tenant, now=BOOKED_AT + dt.timedelta(minutes=11))
    return served, cancelled, unconfirmed


def personal(booking: Booking) -> tuple[str, str, str, str]:
    with scopes_disabled():
        booking.refresh_from_db()
    return booking.name, booking.email, booking.phone, booking.email_key


def test_each_booking_is_erased_the_set_days_after_it_ended(world_a, office, bookings):
    served, cancelled, unconfirmed = bookings
    tenant = world_a.tenant
    with scope(tenant=tenant):
        assert cancelled.status == BookingStatus.CANCELLED
        assert Booking.objects.get(pk=unconfirmed.pk).status == BookingStatus.EXPIRED
        # 30 days (the default) after the cancellation and the expiry, not yet after DAY 10:10.
        assert services.bookings_erase(tenant=tenant, now=BOOKED_AT + dt.timedelta(days=30)) == 0
        later = BOOKED_AT + dt.timedelta(days=30, minutes=12)
        assert services.bookings_erase(tenant=tenant, now=later) == 2
    assert personal(cancelled) == personal(unconfirmed) == ("", "", "", "")
    assert personal(served) == (
        "Ada Lovelace",
        "served@example.org",
        "0221 4711",
        "served@example.org",
    )
    with scope(tenant=tenant):
        after_appointment = at(DAY, 10, 10) + dt.timedelta(days=30, seconds=1)
        assert services.bookings_erase(tenant=tenant, now=after_appointment) == 1
        assert services.bookings_erase(tenant=tenant, now=after_appointment) == 0  # once
        served.refresh_from_db()
        assert served.erased_at == after_appointment
        assert served.code and served.status == BookingStatus.CONFIRMED
        assert list(served.items.values_list("service", flat=True)) == [office.certificate.pk]
        erased = Event.objects.filter(activity="booking_erased").values_list(
            "subject_id", flat=True
        )
        assert sorted(erased) == sorted(str(b.pk) for b in bookings)
        events = Event.objects.filter(subject_kind="booking", subject_id=str(served.pk))
        assert "served@example.org" not in str(list(events.values_list("payload", flat=True)))


def test_the_figures_survive_the_erasure(world_a, office, bookings):
    tenant = world_a.tenant
    last = DAY + dt.timedelta(days=3)
    window = {"tenant": tenant, "location": office.location, "first": DAY, "last": last}

    def figures():
        return office_figures(**window, target_minutes=15)

    with scope(tenant=tenant), time_machine.travel(DAY + dt.timedelta(days=2), tick=False):
        services.no_shows_mark(tenant=tenant)  # the 10:00 appointment: nobody came
        before = figures()
        assert (before.no_shows.part, before.no_shows.whole) == (1, 1)
        assert services.bookings_erase(tenant=tenant, now=at(DAY, 12) + dt.timedelta(days=31))
        assert figures() == before


def test_each_municipality_keeps_its_own_days(world_a, world_b, office, office_b, bookings):
    with scope(tenant=world_b.tenant):
        BookingPolicy.objects.create(tenant=world_b.tenant, erase_after_days=90)
        beta = booked(office_b, 10, "beta@example.org", channel="phone")
    jobs.erase_all(at(DAY, 12) + dt.timedelta(days=31))
    assert all(personal(b)[0] == "" for b in bookings)
    assert personal(beta)[0] == "Ada Lovelace"
    jobs.erase_all(at(DAY, 12) + dt.timedelta(days=91))
    assert personal(beta)[0] == ""


def test_the_day_plan_and_the_booking_page_show_an_erased_booking_without_the_person(
    world_a, office, bookings
):
    served, _cancelled, _unconfirmed = bookings
    with scope(tenant=world_a.tenant):
        services.bookings_erase(tenant=world_a.tenant, now=at(DAY, 12) + dt.timedelta(days=31))
    plan = world_a.client("office_staff").get(
        reverse("appointments:day_plan"), {"location": office.location.pk, "day": DAY}
    )
    table = plan.content.decode().split('id="plan-table"')[1]
    assert served.code in table and "gelöscht" in table and "Ada" not in table
    page = world_a.client("office_staff").get(
        reverse("appointments:office_booking", args=[served.pk])
    )
    facts = page.content.decode().split('id="booking-facts"')[1].split("</dl>")[0]
    assert "gelöscht" in facts and "Ada" not in facts and "0221" not in facts
    history = page.content.decode().split('id="booking-history"')[1]
    assert "Personenbezogene Daten gelöscht" in history


def test_the_booking_form_tells_the_citizen_when_the_data_are_erased(world_a, office):
    with scope(tenant=world_a.tenant):
        BookingPolicy.objects.create(tenant=world_a.tenant, erase_after_days=14)
    query = {
        "service": office.certificate.pk,
        f"qty_{office.certificate.pk}": 1,
        "location": office.location.pk,
        "day": DAY.isoformat(),
        "time": "10:00",
    }
    with time_machine.travel(BOOKED_AT, tick=False):
        page = Client().get(reverse("appointments:book", args=[world_a.tenant.slug]), query)
    hint = page.content.decode().split('id="erase-hint"')[1].split("</p>")[0]
    assert "14 Tage nach dem Termin" in hint

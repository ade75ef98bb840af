"""Slot computation: rules, holidays, closing days, release time, quotas, services, quantity."""

from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scope

from rathaus.appointments import selectors, services
from rathaus.appointments.models import BookingChannel, Slot
from rathaus.core.models import ClosingDay

from .conftest import MONDAY, at, build_office


@pytest.fixture
def scoped(office, world_a):
    with scope(tenant=world_a.tenant):
        yield office


def test_rule_makes_one_slot_per_counter_and_slot_length(scoped):
    day = MONDAY + dt.timedelta(days=1)
    slots = Slot.objects.filter(location=scoped.location, start__date=day)
    # 08:00–12:00 in 10-minute slots = 24 start times, 2 online + 1 phone counter each.
    assert slots.count() == 72
    assert slots.filter(channel=BookingChannel.ONLINE).count() == 48
    assert not Slot.objects.filter(start__date=MONDAY + dt.timedelta(days=5)).exists()  # Saturday


def test_public_holidays_and_closing_days_have_no_capacity(world_a, time_machine):
    # A December fixed under a frozen clock: Christmas Day is a public holiday in NW,
    # Christmas Eve a working day until the municipality closes.
    monday = dt.date(2026, 11, 30)
    time_machine.move_to(at(monday, 9), tick=False)
    with scope(tenant=world_a.tenant):
        office = build_office(world_a, today=monday)
        christmas = dt.date(2026, 12, 25)
        assert not Slot.objects.filter(start__date=christmas).exists()
        eve = dt.date(2026, 12, 24)
        assert Slot.objects.filter(start__date=eve).exists()
        ClosingDay.objects.create(tenant=world_a.tenant, date=eve, name="Heiligabend")
        services.slots_materialize(location=office.location, first=eve, last=eve)
        assert not Slot.objects.filter(start__date=eve).exists()
        days = selectors.free_days(request=office.request((office.passport, 1)), now=at(monday, 9))
    assert eve not in days and christmas not in days and dt.date(2026, 12, 23) in days


def test_location_closure_removes_free_slots_but_keeps_booked_ones(scoped):
    day = MONDAY + dt.timedelta(days=2)
    booking = services.booking_hold(
        request=scoped.request((scoped.certificate, 1)),
        start=at(day, 9),
        name="Ada",
        email="ada@example.org",
        channel=BookingChannel.PHONE,
        now=at(MONDAY, 9),
    )
    services.closure_add(location=scoped.location, date=day, reason="Umzug")
    assert list(Slot.objects.filter(start__date=day).values_list("booking", flat=True)) == [
        booking.pk
    ]
    assert day not in selectors.free_days(
        request=scoped.request((scoped.certificate, 1)), now=at(MONDAY, 9)
    )


def test_the_last_day_of_the_window_opens_at_the_release_time(scoped):
    request = scoped.request((scoped.certificate, 1))
    last = MONDAY + dt.timedelta(days=60)  # a Friday
    assert last.weekday() == 4
    before = selectors.free_days(request=request, now=at(MONDAY, 6, 59))
    after = selectors.free_days(request=request, now=at(MONDAY, 7, 0))
    assert last not in before and last - dt.timedelta(days=1) in before
    assert last in after
    assert MONDAY not in after  # bookable from one day ahead
    assert min(after) == MONDAY + dt.timedelta(days=1)
    # Staff booking internally plan beyond the window.
    internal = selectors.free_days(
        request=request, channel=BookingChannel.INTERNAL, now=at(MONDAY, 6, 59)
    )
    assert MONDAY in internal and last in internal


def test_each_channel_only_takes_its_quota(scoped):
    request = scoped.request((scoped.certificate, 1))
    start = at(MONDAY + dt.timedelta(days=1), 10)
    now = at(MONDAY, 9)
    for n in range(2):
        services.booking_hold(
            request=request, start=start, name="A", email=f"a{n}@example.org", now=now
        )
    assert start not in selectors.free_starts(request=request, now=now)
    with pytest.raises(services.BookingError) as taken:
        services.booking_hold(
            request=request, start=start, name="B", email="b@example.org", now=now
        )
    assert taken.value.code == "taken"
    assert start in selectors.free_starts(request=request, channel=BookingChannel.PHONE, now=now)
    services.booking_hold(
        request=request, start=start, name="C", email="", channel=BookingChannel.PHONE, now=now
    )
    for channel in BookingChannel:
        assert start not in selectors.free_starts(request=request, channel=channel, now=now)


def test_combined_services_and_quantity_add_up(scoped):
    now = at(MONDAY, 9)
    day = MONDAY + dt.timedelta(days=1)
    combined = scoped.request((scoped.passport, 1), (scoped.certificate, 1))  # 20 + 10 min
    starts = selectors.free_starts(request=combined, now=now, day=day)
    assert starts[-1] == at(day, 11, 30)  # three slots must fit before 12:00
    booking = services.booking_hold(
        request=combined, start=at(day, 11, 30), name="A", email="a@example.org", now=now
    )
    assert booking.slot_count == 3 and booking.end == at(day, 12)
    three = scoped.request((scoped.passport, 3))  # 60 min
    assert selectors.free_starts(request=three, now=now, day=day)[-1] == at(day, 11)
    with pytest.raises(services.BookingError) as too_many:
        selectors.free_starts(request=scoped.request((scoped.passport, 4)), now=now)
    assert too_many.value.code == "quantity"
    with pytest.raises(services.BookingError) as not_together:
        selectors.free_starts(
            request=scoped.request((scoped.certificate, 1), (scoped.pickup, 1)), now=now
        )
    assert not_together.value.code == "not_combinable"


def test_a_gap_in_the_day_breaks_a_long_appointment(scoped):
    now = at(MONDAY, 9)
    day = MONDAY + dt.timedelta(days=1)
    request = scoped.request((scoped.certificate, 1))
    for n in range(2):
        services.booking_hold(
            request=request, start=at(day, 9, 10), name="A", email=f"x{n}@example.org", now=now
        )
    long = scoped.request((scoped.passport, 1))  # two slots
    starts = selectors.free_starts(request=long, now=now, day=day)
    assert at(day, 9) not in starts and at(day, 9, 10) not in starts
    assert at(day, 8, 50) in starts and at(day, 9, 20) in starts


def test_earliest_anywhere_orders_locations_by_their_first_free_time(scoped, world_a):
    now = at(MONDAY, 9)
    found = selectors.earliest_anywhere(
        items=((scoped.passport, 1),), locations=selectors.bookable_locations(), now=now
    )
    assert found == [(at(MONDAY + dt.timedelta(days=1), 8), scoped.location)]


def test_booking_outside_the_window_is_refused_whatever_the_client_sends(scoped):
    request = scoped.request((scoped.certificate, 1))
    last = MONDAY + dt.timedelta(days=60)
    for start, now in ((at(MONDAY, 11), at(MONDAY, 9)), (at(last, 9), at(MONDAY, 6, 59))):
        with pytest.raises(services.BookingError) as refused:
            services.booking_hold(
                request=request, start=start, name="Bot", email="bot@example.org", now=now
            )
        assert refused.value.code == "window"
    assert not Slot.objects.filter(booking__isnull=False).exists()
    booked = services.booking_hold(
        request=request, start=at(last, 9), name="Ada", email="ada@example.org", now=at(MONDAY, 7)
    )
    assert booked.start == at(last, 9)


def test_a_lower_online_quota_relabels_the_free_slots(scoped):
    day = MONDAY + dt.timedelta(days=1)
    request = scoped.request((scoped.certificate, 1))
    booked = services.booking_hold(
        request=request, start=at(day, 9), name="Ada", email="ada@example.org", now=at(MONDAY, 9)
    )
    rule = scoped.rule
    rule.online_quota, rule.phone_quota = 0, 3
    services.rule_save(rule=rule, today=MONDAY)
    assert selectors.free_starts(request=request, now=at(MONDAY, 9)) == []
    slots = Slot.objects.filter(start__date=day)
    assert slots.count() == 72
    assert slots.filter(channel=BookingChannel.ONLINE).get().booking == booked
    assert at(day, 9) in selectors.free_starts(
        request=request, channel=BookingChannel.PHONE, now=at(MONDAY, 9)
    )

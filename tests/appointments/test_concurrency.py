"""No double booking, ever: many threads at once on one slot, on this test run's database."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter as Tally

import pytest
from django.db import connection
from django_scopes import scope

from rathaus.appointments import services
from rathaus.appointments.models import Booking, Slot

from .conftest import MONDAY, at, build_office

pytestmark = pytest.mark.django_db(transaction=True)


def _hammer(office, tenant, attempts, make_request, starts):
    results: list[object] = []
    barrier = threading.Barrier(attempts)

    def attempt(n: int) -> None:
        try:
            with scope(tenant=tenant):
                barrier.wait()
                booking = services.booking_hold(
                    request=make_request(n),
                    start=starts[n % len(starts)],
                    name=f"Bot {n}",
                    email=f"bot{n}@example.org",
                    now=at(MONDAY, 9),
                )
                results.append(booking.pk)
        except services.BookingError as exc:
            results.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - any other failure is reported below
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_threads_on_one_slot_get_exactly_its_seats(world_a):
    with scope(tenant=world_a.tenant):
        office = build_office(world_a)
    start = at(MONDAY + dt.timedelta(days=1), 10)
    results = _hammer(
        office, world_a.tenant, 20, lambda n: office.request((office.certificate, 1)), [start]
    )
    booked = [r for r in results if isinstance(r, int)]
    assert len(booked) == 2  # two online seats
    assert Tally(r for r in results if not isinstance(r, int)) == {"taken": 18}
    with scope(tenant=world_a.tenant):
        assert set(
            Slot.objects.filter(start=start, booking__isnull=False).values_list(
                "booking", flat=True
            )
        ) == set(booked)


def test_overlapping_long_appointments_never_share_a_slot(world_a):
    """Three-slot appointments starting 10 minutes apart compete for overlapping slots."""
    with scope(tenant=world_a.tenant):
        office = build_office(world_a)
    day = MONDAY + dt.timedelta(days=1)
    starts = [at(day, 10), at(day, 10, 10), at(day, 10, 20)]
    results = _hammer(
        office,
        world_a.tenant,
        18,
        lambda n: office.request((office.passport, 1), (office.certificate, 1)),
        starts,
    )
    assert all(isinstance(r, int) or r == "taken" for r in results), results
    with scope(tenant=world_a.tenant):
        bookings = Booking.objects.filter(pk__in=[r for r in results if isinstance(r, int)])
        assert bookings.exists()
        for booking in bookings:
            assert Slot.objects.filter(booking=booking).count() == booking.slot_count == 3
        online = Slot.objects.filter(start__date=day, channel="online")
        for slot_start in {s.start for s in online}:
            assert online.filter(start=slot_start, booking__isnull=False).count() <= 2

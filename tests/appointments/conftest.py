"""A citizen office for the tests: one location, three services, a rule, counters and classes."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope

from rathaus.appointments import services
from rathaus.appointments.models import AvailabilityRule, Counter
from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Location, Service, ServiceStatus

BERLIN = ZoneInfo("Europe/Berlin")


def quiet_monday(today: dt.date) -> dt.date:
    """The first Monday at least eight days after today whose week (Sunday to Saturday) and
    the last days of its 60-day booking window and of the window four weeks later are working
    days in both test worlds' Länder (NW, BY).

    Computed from the (possibly travelled, see --as-of) clock, so a test that books on this
    Monday through the real clock books in the future on any day it runs; tests that need
    "now" on that Monday freeze the clock there. Eight days leave room for a run that passes
    midnight; the Monday lies at most six weeks ahead (checked for 2026-2030), which keeps
    its Tuesday inside the booking window of today.
    """
    import holidays

    days_off = holidays.Germany(subdiv="NW", years=range(today.year, today.year + 2))
    days_off.update(holidays.Germany(subdiv="BY", years=range(today.year, today.year + 2)))
    monday = today + dt.timedelta(days=8 + (7 - (today.weekday() + 8) % 7) % 7)
    while True:
        around = [monday + dt.timedelta(days=n) for n in range(-1, 6)]
        ends = [monday + dt.timedelta(days=60), monday + dt.timedelta(days=88)]
        if not any(day in days_off for day in [*around, *ends]):
            return monday
        monday += dt.timedelta(days=7)


@functools.cache
def _monday() -> dt.date:
    return quiet_monday(dt.date.today())


def __getattr__(name: str) -> dt.date:
    # MONDAY is computed on first use: pytest imports this conftest before --as-of travels
    # the clock (pytest_configure), the test modules that import MONDAY after it.
    if name == "MONDAY":
        return _monday()
    raise AttributeError(name)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@dataclass
class Office:
    location: Location
    passport: Service
    certificate: Service
    pickup: Service
    rule: AvailabilityRule
    counters: list[Counter] = field(default_factory=list)

    def request(self, *items: tuple[Service, int]) -> services.BookingRequest:
        return services.BookingRequest(location=self.location, items=tuple(items))


def build_office(world, *, today: dt.date | None = None, online: int = 2, phone: int = 1) -> Office:
    today = today or _monday()
    tenant = world.tenant
    passport = world.service
    passport.bookable, passport.duration_minutes, passport.max_quantity = True, 20, 3
    passport.save()
    certificate = catalog_services.service_create(
        tenant=tenant,
        name="Meldebescheinigung",
        status=ServiceStatus.PUBLISHED,
        bookable=True,
        duration_minutes=10,
    )
    pickup = catalog_services.service_create(
        tenant=tenant,
        name="Abholung Ausweisdokument",
        status=ServiceStatus.PUBLISHED,
        bookable=True,
        duration_minutes=5,
    )
    passport.combinable.add(certificate)
    location = Location.objects.create(
        tenant=tenant,
        name="Bürgerbüro Mitte",
        org_unit=world.units["team"],  # its staff, and the Bürgeramt's lead above, work there
        street="Markt 1",
        postcode="12345",
        city="Alpha",
    )
    for service in (passport, certificate, pickup):
        services.service_offer(location=location, service=service)
    services.opening_hours_set(
        location=location, hours={d: [(dt.time(8), dt.time(16))] for d in range(5)}
    )
    rule = services.rule_save(
        rule=AvailabilityRule(
            location=location,
            weekdays=[0, 1, 2, 3, 4],
            starts=dt.time(8),
            ends=dt.time(12),
            slot_minutes=10,
            online_quota=online,
            phone_quota=phone,
            min_days_ahead=1,
            max_days_ahead=60,
            release_time=dt.time(7),
        ),
        today=today,
    )
    counters = [services.counter_save(location=location, name=f"Platz {n}") for n in (1, 2, 3)]
    services.ticket_class_save(
        tenant=tenant,
        prefix="S",
        name="Schnelle Anliegen",
        services=[certificate],
        target_wait_minutes=10,
    )
    services.ticket_class_save(
        tenant=tenant, prefix="A", name="Abholung", services=[pickup], target_wait_minutes=10
    )
    services.ticket_class_save(
        tenant=tenant,
        prefix="H",
        name="Alle anderen Anliegen",
        target_wait_minutes=20,
        is_default=True,
    )
    return Office(location, passport, certificate, pickup, rule, counters)


@pytest.fixture
def office(world_a) -> Office:
    with scope(tenant=world_a.tenant):
        return build_office(world_a)


@pytest.fixture
def office_b(world_b) -> Office:
    with scope(tenant=world_b.tenant):
        return build_office(world_b)

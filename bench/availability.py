"""Availability query with a year of bookings: free days and free times of one service.

Seeds one citizen office into a throw-away database: a rule Monday to Friday 08:00-18:00 in
10-minute slots with 6 counters online and 2 by phone (480 slots a day), slots for the past
365 and the next 60 days, about 85 % of the past and 50 % of the future slots booked (one
booking with its service per slot, written with bulk_create). Then times the two selectors
the portal and the API call, 200 times each, in this process (no HTTP):

- `selectors.free_days` for one 10-minute service over the 60-day window (the day picker),
- `selectors.free_starts` for the same service on one day (the time picker),
- and free_days for a 30-minute service (three slots in a row), the costlier case.

Budget: p95 <= 50 ms. Prints p50/p95/max and the queries per call; `--explain` prints the
plan of the slot query.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/availability.py
    .venv/bin/python bench/availability.py            # SQLite in a temporary directory

On PostgreSQL the script creates and drops its own database `rathaus_bench_availability`.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from _common import percentile, throwaway_database

BENCH_DB = "rathaus_bench_availability"
REPETITIONS = 200
PAST_DAYS, FUTURE_DAYS = 365, 60
PAST_BOOKED, FUTURE_BOOKED = 0.85, 0.50


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["RATHAUS_DATA_DIR"] = data_dir
        if not url.startswith("postgres"):
            os.environ["DATABASE_URL"] = ""  # SQLite file in the temporary directory
            run()
            return
        # --keep keeps the database to look at query plans.
        with throwaway_database(url, BENCH_DB, keep="--keep" in sys.argv) as bench_url:
            os.environ["DATABASE_URL"] = bench_url
            try:
                run()
            finally:
                from django.db import connections

                connections.close_all()


def code(n: int, alphabet: str) -> str:
    letters = []
    for _ in range(8):
        n, rest = divmod(n, len(alphabet))
        letters.append(alphabet[rest])
    return "".join(letters)


def seed(today: dt.date) -> tuple[object, dict[str, object]]:
    """The office, its slots and the bookings; returns the location and the services."""
    from django.db import connection
    from django_scopes import scope

    from rathaus.appointments import services
    from rathaus.appointments.models import AvailabilityRule, Booking, BookingItem, Slot
    from rathaus.appointments.services import CODE_ALPHABET
    from rathaus.catalog import services as catalog_services
    from rathaus.catalog.models import Location
    from rathaus.core import services as core_services

    tenant = core_services.tenant_create(
        name="Benchstadt", slug="bench", ags="05999557", state="NW"
    )
    started = time.perf_counter()
    with scope(tenant=tenant):
        short = catalog_services.service_create(
            tenant=tenant,
            name="Meldebescheinigung",
            status="published",
            bookable=True,
            duration_minutes=10,
        )
        long = catalog_services.service_create(
            tenant=tenant, name="Reisepass", status="published", bookable=True, duration_minutes=30
        )
        location = Location.objects.create(tenant=tenant, name="Bürgerbüro", city="Benchstadt")
        for service in (short, long):
            services.service_offer(location=location, service=service)
        services.rule_save(
            rule=AvailabilityRule(
                location=location,
                weekdays=[0, 1, 2, 3, 4],
                starts=dt.time(8),
                ends=dt.time(18),
                slot_minutes=10,
                online_quota=6,
                phone_quota=2,
                min_days_ahead=1,
                max_days_ahead=FUTURE_DAYS,
            ),
            today=today,
        )
        services.slots_materialize(
            location=location,
            first=today - dt.timedelta(days=PAST_DAYS),
            last=today + dt.timedelta(days=FUTURE_DAYS + 1),
        )
        rng = random.Random(4)
        now = dt.datetime.now(dt.UTC)
        slots = list(Slot.objects.filter(location=location).order_by("start", "seat"))
        chosen = [
            s for s in slots if rng.random() < (PAST_BOOKED if s.start < now else FUTURE_BOOKED)
        ]
        bookings = Booking.objects.bulk_create(
            [
                Booking(
                    tenant=tenant,
                    code=code(n, CODE_ALPHABET),
                    location=location,
                    start=s.start,
                    end=s.end,
                    channel=s.channel,
                    status="done" if s.start < now else "confirmed",
                    name=f"Person {n}",
                    email=f"person{n}@example.org",
                    email_key=f"person{n}@example.org",
                    created_at=s.start - dt.timedelta(days=14),
                )
                for n, s in enumerate(chosen)
            ],
            batch_size=2000,
        )
        BookingItem.objects.bulk_create(
            [BookingItem(tenant=tenant, booking=b, service=short) for b in bookings],
            batch_size=2000,
        )
        for slot, booking in zip(chosen, bookings, strict=True):
            slot.booking = booking
        Slot.objects.bulk_update(chosen, ["booking"], batch_size=2000)
    with connection.cursor() as cursor:
        # What autovacuum does in production after a bulk load.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"seeded {len(slots):,} slots and {len(bookings):,} bookings "
        f"({PAST_DAYS} past + {FUTURE_DAYS} future days) in {time.perf_counter() - started:.1f} s"
    )
    return location, {"short": short, "long": long}


def timed(call: object) -> tuple[list[float], int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = call()  # type: ignore[operator]
    timings = []
    for _ in range(REPETITIONS):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        timings.append((time.perf_counter() - t0) * 1000)
    return timings, len(queries.captured_queries), result


def explain(location: object, service: object, now: dt.datetime) -> str:
    """The plan of the slot query `free_days` runs (the one selector query that grows)."""
    from django.db.models import QuerySet

    from rathaus.appointments.rules import BookingRequest
    from rathaus.appointments.selectors import _free_slots

    request = BookingRequest(location=location, items=((service, 1),))  # type: ignore[arg-type]
    query: QuerySet = _free_slots(request, "online", now, None)
    options = {"analyze": True} if os.environ.get("DATABASE_URL") else {}
    return query.values_list("start", "end").distinct().explain(**options)


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scope

    from rathaus.appointments import selectors
    from rathaus.appointments.rules import BookingRequest

    version = connection.pg_version if connection.vendor == "postgresql" else "3"
    print(
        f"database: {connection.vendor} {version}; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    location, offered = seed(today)
    with scope(tenant=location.tenant):  # type: ignore[attr-defined]
        short = BookingRequest(location=location, items=((offered["short"], 1),))  # type: ignore[arg-type]
        long = BookingRequest(location=location, items=((offered["long"], 1),))  # type: ignore[arg-type]
        days = selectors.free_days(request=short)
        day = sorted(days)[len(days) // 2]
        cases = [
            ("free_days, 10-minute service, 60 days", lambda: selectors.free_days(request=short)),
            (
                f"free_starts, 10-minute service, one day ({day})",
                lambda: selectors.free_starts(request=short, day=day),
            ),
            ("free_days, 30-minute service, 60 days", lambda: selectors.free_days(request=long)),
        ]
        for label, call in cases:
            timings, queries, result = timed(call)
            size = sum(result.values()) if isinstance(result, dict) else len(result)  # type: ignore[arg-type]
            print(
                f"{label}: p50 {percentile(timings, 0.5):5.1f} ms, "
                f"p95 {percentile(timings, 0.95):5.1f} ms, max {max(timings):5.1f} ms; "
                f"{queries} queries, {size:,} free start times"
            )
        if "--explain" in sys.argv:
            print(explain(location, offered["short"], timezone.now()))


if __name__ == "__main__":
    main()

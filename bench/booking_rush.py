"""Booking rush: a new day with 200 online slots is released and 2,000 booking attempts hit
`POST /api/v1/appointments/bookings/` at that moment (gunicorn on PostgreSQL).

1. A throw-away database with one office: 40 start times of 10 minutes and 5 online counters
   on every day (200 online slots a day, nothing else), bookable exactly N days ahead, so the
   booking window holds one day, and none before the release time. A local SMTP sink takes
   the confirmation mails (they are sent when the booking commits, as in production).
2. gunicorn starts and is warmed up; then the rule's release time is set a few seconds ahead.
3. CLIENTS connections wait for the release and post 2,000 bookings between them, each with its
   own e-mail address and Idempotency-Key, each for one of the 40 start times at random.
4. Printed: answers by status (201, 409, other 4xx, 5xx, connection errors), latency
   p50/p90/p99/max, and the check in the database: exactly 200 held bookings, every slot
   with at most one booking, every booking with as many slots as it needs, the 201 codes
   equal to the bookings stored.

Target: exactly 200 holds, no double booking, no 5xx, p99 <= 500 ms. With `--clients 2000`
all 2,000 attempts are sent at the release instant, each on its own connection (the issue's
"2,000 concurrent booking attempts" read literally); with fewer clients each sends its share
one after the other, answer by answer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/booking_rush.py
    … bench/booking_rush.py --clients 50 --workers 4

The clients (one asyncio loop, see `Rush`) run on the same 2-core machine as gunicorn and
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import free_port, gunicorn, percentile, throwaway_database, wait_for

BENCH_DB = "rathaus_bench_rush"
ATTEMPTS = 2000
STARTS, COUNTERS = 40, 5  # 200 online slots in the released day
ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv/bin/python")

SETUP = """
import datetime as dt
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope
call_command("migrate", verbosity=0)
from rathaus.api.services import api_token_create
from rathaus.appointments import services
from rathaus.appointments.models import AvailabilityRule, Slot
from rathaus.catalog import services as catalog
from rathaus.catalog.models import Location
from rathaus.core import services as core
from rathaus.core.calendar import WorkingCalendar

tenant = core.tenant_create(name="Benchstadt", slug="bench", ags="05999558", state="NW")
calendar = WorkingCalendar.for_tenant(tenant)
today = timezone.localdate()
ahead = next(d for d in range(7, 30) if calendar.is_working_day(today + dt.timedelta(days=d)))
with scope(tenant=tenant):
    kc = core.org_unit_create(tenant=tenant, name="KC", code="kc", kind="fachbereich", is_kc=True)
    service = catalog.service_create(
        tenant=tenant, name="Meldebescheinigung", status="published", bookable=True,
        duration_minutes=10,
    )
    location = Location.objects.create(tenant=tenant, name="Bürgerbüro", city="Benchstadt")
    services.service_offer(location=location, service=service)
    rule = services.rule_save(
        rule=AvailabilityRule(
            location=location, weekdays=list(range(7)), starts=dt.time(8),
            ends=(dt.datetime(2000, 1, 1, 8) + dt.timedelta(minutes=10 * %(starts)d)).time(),
            slot_minutes=10, online_quota=%(counters)d, phone_quota=0,
            min_days_ahead=ahead, max_days_ahead=ahead, release_time=dt.time(23, 59, 59),
        ),
        today=today,
    )
    day = today + dt.timedelta(days=ahead)
    starts = sorted(
        {timezone.localtime(s).isoformat() for s in
         Slot.objects.filter(location=location, start__date=day).values_list("start", flat=True)}
    )
    assert Slot.objects.filter(location=location, start__date=day).count() == %(slots)d
    _, token = api_token_create(
        tenant=tenant, name="bench", scopes=["appointments"], org_unit=kc, actor=None
    )
print(json.dumps({"token": token, "location": location.pk, "service": service.pk,
                  "rule": rule.pk, "starts": starts, "day": day.isoformat()}))
"""

RELEASE = """
import datetime as dt
from django_scopes import scopes_disabled
from rathaus.appointments.models import AvailabilityRule
with scopes_disabled():
    AvailabilityRule.objects.filter(pk=%(rule)d).update(release_time=dt.time.fromisoformat("%(at)s"))
print("{}")
"""

VERIFY = """
from django.db.models import Count, F
from django_scopes import scopes_disabled
from rathaus.appointments.models import Booking, Slot
from rathaus.core.models import Event
with scopes_disabled():
    bookings = Booking.objects.all()
    per_slot = (
        Slot.objects.values("location", "start", "seat").annotate(n=Count("id")).filter(n__gt=1)
    )
    short = bookings.annotate(n=Count("slots")).exclude(n=F("slot_count"))
    print(json.dumps({
        "bookings": bookings.count(),
        "held": bookings.filter(status="held").count(),
        "codes": sorted(bookings.values_list("code", flat=True)),
        "slots_booked": Slot.objects.filter(booking__isnull=False).count(),
        "distinct_bookings_on_slots": Slot.objects.filter(booking__isnull=False)
            .values("booking").distinct().count(),
        "slots_with_two_rows": per_slot.count(),
        "bookings_missing_slots": short.count(),
        "held_events": Event.objects.filter(activity="booking_held").count(),
    }))
"""


def django(env: dict[str, str], script: str) -> dict:
    """Run a snippet in its own Django process and return the JSON it prints last."""
    out = subprocess.run(
        [PYTHON, "-c", "import json, django; django.setup()\n" + script],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


class Rush:
    """The client side: CLIENTS connections that post bookings from the release instant on.

    One asyncio loop in this process drives them all with requests built beforehand, so the
    clients take little of the two cores the server needs (threads with `http.client` took
    about 1.2 ms of CPU per request here, more than gunicorn itself) and a latency is not
    stretched by a thread waiting for the GIL after its answer has arrived. gunicorn's sync
    workers close the connection after each answer, so every attempt opens its own, as a
    browser's first request would.
    """

    def __init__(self, port: int, setup: dict, clients: int) -> None:
        self.port, self.setup, self.clients = port, setup, clients
        self.results: list[tuple[int, float, str]] = []  # status, seconds, code
        self.finished: list[tuple[int, float]] = []  # status, seconds after the release
        rng = random.Random(7)
        self.requests = [
            self.request(
                {
                    "location": setup["location"],
                    "services": [{"service": setup["service"], "quantity": 1}],
                    "start": rng.choice(setup["starts"]),
                    "name": f"Bürger {n}",
                    "email": f"buerger{n}@example.org",
                }
            )
            for n in range(ATTEMPTS)
        ]

    def request(self, body: dict) -> bytes:
        data = json.dumps(body).encode()
        head = (
            "POST /api/v1/appointments/bookings/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.setup['token']}\r\n"
            "Content-Type: application/json\r\n"
            f"Idempotency-Key: {uuid.uuid4()}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data

    async def post(self, request: bytes) -> tuple[int, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(request)
            answer = await reader.read()  # the server closes the connection after the answer
        finally:
            writer.close()
        head, _sep, body = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        code = json.loads(body).get("code", "") if status in (201, 409) else ""
        return status, code

    async def client(self, share: list[bytes], release: float) -> None:
        await asyncio.sleep(max(0.0, release - time.time()))
        for request in share:
            t0 = time.perf_counter()
            try:
                status, code = await asyncio.wait_for(self.post(request), 60)
            except (OSError, ValueError, IndexError, TimeoutError):
                status, code = 0, ""
            self.results.append((status, time.perf_counter() - t0, code))
            self.finished.append((status, time.time() - release))

    async def all_clients(self, release: float) -> None:
        shares = [self.requests[i :: self.clients] for i in range(self.clients)]
        await asyncio.gather(*(self.client(share, release) for share in shares))

    def run(self, release: float) -> float:
        asyncio.run(self.all_clients(release))
        return time.time() - release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients",
        default="20,50,100,200,2000",
        help="concurrent clients (connections); several runs when given as a list (default %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also time a no-op WSGI app behind the same gunicorn with the same clients",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Run this against PostgreSQL: DATABASE_URL=postgres://…/postgres")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; gunicorn sync workers: {args.workers}; "
        f"{ATTEMPTS:,} attempts for {STARTS * COUNTERS} slots per run"
    )
    rows = []
    for clients in [int(n) for n in args.clients.split(",")]:
        print(f"\n--- {clients} clients")
        row = fresh_database_run(url, clients, args.workers)
        if args.ceiling:
            row["noop"] = noop_run(clients, args.workers)
        rows.append((clients, row))
    print("\nclients  attempts/s  p50 ms  p99 ms  invariants  p99 <= 500 ms  no-op app: /s, p99 ms")
    for clients, row in rows:
        noop = row.get("noop")
        print(
            f"{clients:7d}  {row['rate']:10.0f}  {row['p50']:6.0f}  {row['p99']:6.0f}  "
            f"{'OK' if row['ok'] else 'VIOLATED':>10s}  "
            f"{'met' if row['p99'] <= 500 else 'missed':>13s}"
            + (f"  {noop['rate']:9.0f}, {noop['p99']:.0f}" if noop else "")
        )
    if not all(row["ok"] for _c, row in rows):
        sys.exit(1)


def fresh_database_run(url: str, clients: int, workers: int) -> dict:
    """One rush on a database made for it, dropped afterwards."""
    with throwaway_database(url, BENCH_DB) as bench_url, tempfile.TemporaryDirectory() as data_dir:
        smtp = free_port()
        env = {**os.environ, **app_env(bench_url, data_dir), "RATHAUS_SMTP_PORT": str(smtp)}
        return run(env, clients, workers, smtp)


def app_env(database_url: str, data_dir: str) -> dict[str, str]:
    """The settings the app runs with in the booking benchmarks (also `booking_cost.py`)."""
    return {
        "DATABASE_URL": database_url,
        "RATHAUS_DATA_DIR": data_dir,
        "RATHAUS_SECRET_KEY": "bench-" + "x" * 40,
        "RATHAUS_DB_CONN_MAX_AGE": "60",  # production setting: keep connections
        "RATHAUS_LOG_LEVEL": "ERROR",  # 1,800 answers 409 by design; no log lines
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }


def run(env: dict[str, str], clients: int, workers: int, smtp: int) -> dict:
    setup = django(
        env, SETUP % {"starts": STARTS, "counters": COUNTERS, "slots": STARTS * COUNTERS}
    )
    port = free_port()
    log = open(Path(env["RATHAUS_DATA_DIR"]) / "gunicorn.log", "w+")  # noqa: SIM115
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{smtp}"]
    )
    server = gunicorn(
        "rathaus.wsgi",
        port,
        workers,
        env={**env, "RATHAUS_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT / "src")},
        stderr=log,  # Django logs each 409 as a warning; only tracebacks matter here
    )
    try:
        wait_for(port)
        wait_for(smtp)
        warm_up(port, setup, workers)
        # Release a few seconds from now; the clients connect and wait for that instant.
        release_at = dt.datetime.now().astimezone().replace(microsecond=0) + dt.timedelta(seconds=5)
        # The rule's release time is local time of the tenant (Europe/Berlin by default).
        local_release = release_at.astimezone(ZoneInfo("Europe/Berlin")).time()
        django(env, RELEASE % {"rule": setup["rule"], "at": local_release.isoformat()})
        rush = Rush(port, setup, clients)
        wall = rush.run(release_at.timestamp())
        time.sleep(1)  # let the last on-commit mails leave
        check = django(env, VERIFY)
    finally:
        server.terminate()
        server.wait()
        sink.terminate()
        sink.wait()
        log.seek(0)
        tracebacks = log.read().count("Traceback")
        log.close()
    print(f"tracebacks in the server log: {tracebacks}")
    return report(rush, wall, check, setup, tracebacks)


def noop_run(clients: int, workers: int) -> dict:
    """The same clients against a WSGI app that does nothing: the machine's ceiling."""
    port = free_port()
    server = gunicorn("noop_wsgi", port, workers, cwd=str(ROOT / "bench"))
    try:
        wait_for(port)
        fake = {"token": "-", "location": 0, "service": 0, "starts": ["-"]}
        rush = Rush(port, fake, clients)
        wall = rush.run(time.time() + 1)
    finally:
        server.terminate()
        server.wait()
    latencies = [seconds * 1000 for _st, seconds, _c in rush.results]
    rate = len(rush.results) / wall
    print(
        f"no-op app, same clients: {rate:.0f}/s, p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms"
    )
    return {"rate": rate, "p99": percentile(latencies, 0.99)}


def warm_up(port: int, setup: dict, workers: int) -> None:
    """Every worker does its first-request work before the rush, as on a server that has been
    running for a while: a worker's first request imports the views and loads the
    translations (about a second of CPU here), and its first booking request the rest.

    Requests from several threads at once, so that every worker gets some (one after the
    other, the same idle worker may take them all): each asks for the free days (none yet)
    and tries to book the day before its release (400, nothing is booked).
    """
    params = f"location={setup['location']}&services={setup['service']}:1"
    auth = {"Authorization": f"Bearer {setup['token']}"}
    body = {
        "location": setup["location"],
        "services": [{"service": setup["service"], "quantity": 1}],
        "start": setup["starts"][0],
        "name": "Warm-up",
    }

    def one_client(number: int) -> None:
        for attempt in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", f"/api/v1/appointments/availability/days/?{params}", headers=auth)
            response = conn.getresponse()
            days = json.loads(response.read())
            assert response.status == 200 and days["days"] == [], days  # nothing released yet
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {**auth, "Content-Type": "application/json"}
            data = json.dumps({**body, "email": f"warm-up-{number}-{attempt}@example.org"})
            conn.request("POST", "/api/v1/appointments/bookings/", data, headers)  # own address:
            # the daily limit per address counts attempts
            response = conn.getresponse()
            refused = json.loads(response.read())
            assert response.status == 400 and "start" in refused, refused  # not released yet
            conn.close()

    failures: list[BaseException] = []

    def client_or_failure(number: int) -> None:
        try:
            one_client(number)
        except (AssertionError, OSError, http.client.HTTPException) as failure:
            failures.append(failure)

    threads = [threading.Thread(target=client_or_failure, args=(n,)) for n in range(2 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"warm-up failed: {failures[0]!r}")


def report(rush: Rush, wall: float, check: dict, setup: dict, tracebacks: int) -> dict:
    statuses = Counter(status for status, _s, _c in rush.results)
    latencies = [seconds * 1000 for _st, seconds, _c in rush.results]
    created = sorted(code for status, _s, code in rush.results if status == 201)
    conflicts = Counter(code for status, _s, code in rush.results if status == 409)
    other_4xx = sum(n for status, n in statuses.items() if 400 <= status < 500 and status != 409)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(
        f"released day {setup['day']}: {len(rush.results):,} attempts in {wall:.1f} s "
        f"({len(rush.results) / wall:.0f}/s)"
    )
    print(
        f"answers: 201 {statuses[201]}, 409 {statuses[409]} {dict(conflicts)}, "
        f"other 4xx {other_4xx}, 5xx {server_errors}, connection errors {statuses[0]}"
    )
    print(
        f"latency: p50 {percentile(latencies, 0.5):.0f} ms, p90 {percentile(latencies, 0.9):.0f} "
        f"ms, p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms"
    )
    for wanted in (201, 409):
        some = [seconds * 1000 for status, seconds, _c in rush.results if status == wanted]
        if some:
            print(
                f"  {wanted}: p50 {percentile(some, 0.5):.0f} ms, p99 "
                f"{percentile(some, 0.99):.0f} ms"
            )
    holds = [after for status, after in rush.finished if status == 201]
    if holds:
        print(f"the last hold was answered {max(holds):.1f} s after the release")
    print(
        f"database: {check['bookings']} bookings, {check['held']} held, {check['held_events']} "
        f"'booking_held' events; {check['slots_booked']} slots booked by "
        f"{check['distinct_bookings_on_slots']} bookings; slot rows sharing a seat: "
        f"{check['slots_with_two_rows']}; bookings without all their slots: "
        f"{check['bookings_missing_slots']}"
    )
    ok = (
        check["held"] == check["bookings"] == STARTS * COUNTERS
        and check["slots_booked"] == check["distinct_bookings_on_slots"] == STARTS * COUNTERS
        and check["slots_with_two_rows"] == 0
        and check["bookings_missing_slots"] == 0
        and created == check["codes"]
        and server_errors == 0
        and statuses[0] == 0
        and tracebacks == 0
    )
    print("invariants:", "OK" if ok else "VIOLATED")
    return {
        "rate": len(rush.results) / wall,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "ok": ok,
    }


if __name__ == "__main__":
    main()

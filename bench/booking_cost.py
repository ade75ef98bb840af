"""What one booking request costs the server, without HTTP and without concurrency.

The booking-rush office (`booking_rush.SETUP`) on a throw-away PostgreSQL database; then, in
this one process, 200 bookings that get a hold (201) and 200 for times already full (409),
posted through Django's test client with the whole middleware and API stack. Printed per
answer: mean milliseconds, queries, time waiting for the database and CPU time of this
process per request (the CPU time varies less between runs than the wall time). `--profile 201` or `--profile 409` adds
the cProfile functions with the most cumulative time; `--sql` prints the queries of the first
201 and the first 409.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/booking_cost.py
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict

from _common import ROOT, throwaway_database
from booking_rush import RELEASE, SETUP, STARTS, app_env, django

BENCH_DB = "rathaus_bench_cost"
HOLDS = STARTS * 5  # the office's 200 online slots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["201", "409"])
    parser.add_argument(
        "--sql", action="store_true", help="print the queries of the first 201 and 409"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (see the docstring).")
    with throwaway_database(url, BENCH_DB) as db, tempfile.TemporaryDirectory() as data_dir:
        os.environ.update({**app_env(db, data_dir), "RATHAUS_ALLOWED_HOSTS": "testserver"})
        setup = django({**os.environ}, SETUP % {"starts": STARTS, "counters": 5, "slots": HOLDS})
        django({**os.environ}, RELEASE % {"rule": setup["rule"], "at": "00:00:00"})
        measure(setup, args.profile, args.sql)


def measure(setup: dict, profile: str | None, sql: bool) -> None:
    """Django is set up here, once the environment names the throw-away database."""
    sys.path.insert(0, str(ROOT / "src"))
    import django as django_module

    django_module.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    logging.getLogger("django.request").setLevel(logging.ERROR)  # 409s are expected
    client = Client(HTTP_AUTHORIZATION=f"Bearer {setup['token']}")
    warm = f"location={setup['location']}&services={setup['service']}:1"  # first-use imports
    assert client.get(f"/api/v1/appointments/availability/days/?{warm}").status_code == 200
    profiler = cProfile.Profile()
    totals: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0.0, 0.0])
    waited = [0.0]  # seconds inside cursor.execute: the round trip and the server's work

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - began

    rng = random.Random(7)
    for n in range(2 * HOLDS):
        start = setup["starts"][n % STARTS] if n < HOLDS else rng.choice(setup["starts"])
        body = {
            "location": setup["location"],
            "services": [{"service": setup["service"], "quantity": 1}],
            "start": start,
            "name": "Erika Mustermann",
            "email": f"{uuid.uuid4().hex}@example.org",
        }
        wanted = 201 if n < HOLDS else 409
        waited[0] = 0.0
        with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
            if profile == str(wanted):
                profiler.enable()
            began, began_cpu = time.perf_counter(), time.process_time()
            answer = client.post(
                "/api/v1/appointments/bookings/",
                json.dumps(body),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
            seconds = time.perf_counter() - began
            cpu = time.process_time() - began_cpu
            profiler.disable()
        assert answer.status_code == wanted, answer.content
        row = totals[wanted]
        if sql and not row[0]:
            print(f"--- the queries of the first {wanted}")
            for number, query in enumerate(queries.captured_queries, 1):
                print(f"{number:3d}. {float(query['time']) * 1000:4.1f} ms  {query['sql']}")
        row[0] += 1
        row[1] += seconds
        row[2] += len(queries.captured_queries)
        row[3] += waited[0]
        row[4] += cpu
    for status, (count, seconds, queries, in_database, cpu) in sorted(totals.items()):
        print(
            f"{status}: {count} requests, {seconds / count * 1000:.1f} ms and "
            f"{queries / count:.1f} queries each, {in_database / count * 1000:.1f} ms of it "
            f"waiting for the database, {cpu / count * 1000:.1f} ms of CPU in this process"
        )
    if profile:
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(25)
        stats.print_stats("src/rathaus", 40)  # where in our code the time goes


if __name__ == "__main__":
    main()

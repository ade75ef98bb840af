"""Department inbox benchmark: 1,000,000 cases in one tenant, first page of the inbox.

Seeds the cases with one INSERT … SELECT (PostgreSQL) into a throw-away database, then
requests the inbox page of a clerk and of a team lead (whose units include sub-units)
through Django's test client: server time of the whole request (middleware, queries,
template) and the number of queries, which must not depend on the number of cases.
Budget: p95 <= 50 ms. For comparison, Open Zaak publishes 150–200 ms for listing 1M cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/inbox.py

The script creates and drops its own database `rathaus_bench_inbox` on that server.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import percentile, throwaway_database

CASES = 1_000_000
REQUESTS = 200
BENCH_DB = "rathaus_bench_inbox"


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Run this against PostgreSQL: DATABASE_URL=postgres://…/postgres")
    keep = "--keep" in sys.argv  # keep the database to look at query plans
    with (
        throwaway_database(url, BENCH_DB, keep=keep) as bench_url,
        tempfile.TemporaryDirectory() as data_dir,
    ):
        os.environ["DATABASE_URL"] = bench_url
        os.environ["RATHAUS_DATA_DIR"] = data_dir
        try:
            run()
        finally:
            from django.db import connections

            connections.close_all()


def seed() -> tuple[object, dict[str, object]]:
    from django.db import connection
    from django_scopes import scope

    from rathaus.catalog import services as catalog_services
    from rathaus.core import services as core_services
    from rathaus.core.models import OrgUnitKind, Role

    tenant = core_services.tenant_create(
        name="Benchstadt", slug="bench", ags="05999555", state="NW"
    )
    with scope(tenant=tenant):
        root = core_services.org_unit_create(
            tenant=tenant, name="Verwaltung", code="root", kind=OrgUnitKind.ADMINISTRATION
        )
        office = core_services.org_unit_create(
            tenant=tenant,
            name="Bürgeramt",
            code="office",
            kind=OrgUnitKind.FACHBEREICH,
            parent=root,
        )
        teams = [
            core_services.org_unit_create(
                tenant=tenant,
                name=f"Team {n}",
                code=f"team{n}",
                kind=OrgUnitKind.TEAM,
                parent=office,
            )
            for n in range(8)
        ]
        others = [
            core_services.org_unit_create(
                tenant=tenant,
                name=f"Amt {n}",
                code=f"amt{n}",
                kind=OrgUnitKind.FACHBEREICH,
                parent=root,
            )
            for n in range(12)
        ]
        service = catalog_services.service_create(
            tenant=tenant, name="Personalausweis", org_unit=teams[0], status="published"
        )
        users = {}
        for name, unit, role in (("clerk", teams[0], Role.CLERK), ("lead", office, Role.TEAM_LEAD)):
            users[name] = core_services.user_create(username=name, password="bench-password-1")
            core_services.membership_grant(user=users[name], org_unit=unit, role=role)
    unit_ids = [u.pk for u in teams + others]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # 1M cases over 20 units and three years; about 4 % still open, as in a real office.
        cursor.execute(
            """
            INSERT INTO contacts_case (tenant_id, reference, subject, description, service_id,
                org_unit_id, priority, status, channel, created_at, deadline, citizen_name,
                citizen_phone, citizen_email, citizen_address, phone_key, email_key)
            SELECT %s, (2023 + n / 400000)::text || '-' || lpad((n %% 400000)::text, 6, '0'),
                'Anliegen ' || n, '', %s, (%s::bigint[])[1 + n %% 20], 2,
                CASE WHEN n %% 25 = 0 THEN 'new' WHEN n %% 25 = 1 THEN 'in_progress'
                     ELSE 'closed' END,
                'phone', now() - (n || ' minutes')::interval,
                now() - (n || ' minutes')::interval + interval '7 days', '', '', '', '', '', ''
            FROM generate_series(1, %s) AS n
            """,
            [tenant.pk, service.pk, unit_ids, CASES],
        )
    # What autovacuum does in production after a bulk load; it makes counts index-only scans.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_case")
    print(f"{CASES:,} cases seeded in {time.perf_counter() - started:.1f} s")
    return tenant, users


def matching(user: object, filters: dict[str, str]) -> int:
    from django_scopes import scope

    from rathaus.contacts.selectors import InboxFilter, inbox_cases
    from rathaus.core.selectors import memberships_of_user, tenants_of_user, units_visible_to

    tenant = tenants_of_user(user)[0]  # type: ignore[arg-type]
    with scope(tenant=tenant):
        units = units_visible_to(memberships_of_user(user, tenant))  # type: ignore[arg-type]
        cases = inbox_cases(tenant=tenant, units=units, user=user, filters=InboxFilter(**filters))  # type: ignore[arg-type]
        return cases.count()


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    os.environ["RATHAUS_ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    print(
        f"database: {connection.vendor} {connection.pg_version}; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    call_command("migrate", verbosity=0)
    _, users = seed()
    url = reverse("contacts:inbox")
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        client.get(url)  # warm up caches, sessions, templates
        with CaptureQueriesContext(connection) as few:
            response = client.get(url)
        assert response.status_code == 200
        queries = len(few.captured_queries)
        for filters in ({}, {"due": "overdue"}, {"assignee": "none"}):
            timings = []
            for _ in range(REQUESTS):
                t0 = time.perf_counter()
                response = client.get(url, filters)
                timings.append((time.perf_counter() - t0) * 1000)
            label = ", ".join(f"{k}={v}" for k, v in filters.items()) or "default (open cases)"
            print(
                f"{name:5} {label:22} first page: p50 {percentile(timings, 0.5):5.1f} ms, "
                f"p95 {percentile(timings, 0.95):5.1f} ms, mean {statistics.mean(timings):5.1f} ms, "
                f"{queries} queries, {matching(user, filters):,} matching"
            )


if __name__ == "__main__":
    main()

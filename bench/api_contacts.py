"""Contact creation through the API: gunicorn on PostgreSQL, load from wrk on the same machine.

Creates a throw-away database with a tenant, a service and an API token, starts gunicorn
(sync workers, one per core plus one), and lets wrk (Debian package `wrk`) post finished
contacts for 30 seconds over 8 connections. Prints requests per second, latency percentiles
(p50, p90, p99) and checks that every accepted request created exactly one contact with its
events. Target: at least 300 contacts per second on this 2-core machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_contacts.py
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

from _common import ROOT, free_port, gunicorn, throwaway_database, wait_for

BENCH_DB = "rathaus_bench_api"
DURATION = "30s"
CONNECTIONS = 8

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"channel":"phone","started_at":"2026-01-05T09:%%02d:%%02d+01:00",' ..
    '"ended_at":"2026-01-05T09:%%02d:%%02d+01:00","outcome":"answered",' ..
    '"summary":"Auskunft %%d","services":[%(service)d]}',
    n %% 50, n %% 60, n %% 50 + 3, n %% 60, n)
  return wrk.format(nil, "/api/v1/contacts/", nil, body)
end
response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("status " .. status .. ": " .. body .. "\\n")
  end
end
"""


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Run this against PostgreSQL: DATABASE_URL=postgres://…/postgres")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    with throwaway_database(url, BENCH_DB) as bench_url, tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "RATHAUS_DATA_DIR": data_dir,
            "RATHAUS_SECRET_KEY": "bench-" + "x" * 40,
            "RATHAUS_DB_CONN_MAX_AGE": "60",  # production setting: keep connections
            "RATHAUS_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        }
        run(env)


def setup(env: dict[str, str]) -> tuple[str, int]:
    """Migrate and create tenant, KC, service and token in a subprocess (its own Django)."""
    script = """
from django.core.management import call_command
from django_scopes import scope
call_command("migrate", verbosity=0)
from rathaus.core import services as core
from rathaus.catalog import services as catalog
from rathaus.api.services import api_token_create
tenant = core.tenant_create(name="Benchstadt", slug="bench", ags="05999556", state="NW")
with scope(tenant=tenant):
    kc = core.org_unit_create(tenant=tenant, name="KC", code="kc", kind="fachbereich", is_kc=True)
    service = catalog.service_create(tenant=tenant, name="Personalausweis", org_unit=kc, status="published")
    _, token = api_token_create(tenant=tenant, name="bench", scopes=["contacts:write", "contacts:read"], org_unit=kc, actor=None)
print(token, service.pk)
"""
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", "import django; django.setup()\n" + script],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[-2], int(out[-1])


def count_contacts(env: dict[str, str]) -> tuple[int, int]:
    script = """
import django; django.setup()
from django_scopes import scopes_disabled
from rathaus.contacts.models import Contact
from rathaus.core.models import Event
with scopes_disabled():
    print(Contact.objects.count(), Event.objects.filter(subject_kind="contact").count())
"""
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", script],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def run(env: dict[str, str]) -> None:
    cores = os.cpu_count() or 1
    workers = int(os.environ.get("BENCH_WORKERS", cores + 1))
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
        f"gunicorn sync workers: {workers}; wrk: {CONNECTIONS} connections, {DURATION}"
    )
    token, service = setup(env)
    port = free_port()
    server = gunicorn(
        "rathaus.wsgi",
        port,
        workers,
        env={**env, "RATHAUS_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        wait_for(port)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(WRK_SCRIPT % {"token": token, "service": service})
        # A short warm-up so every worker has imported Django and opened its connection.
        subprocess.run(["wrk", "-t1", "-c2", "-d3s", "-s", lua.name, f"http://127.0.0.1:{port}"],
                       capture_output=True, check=True)  # fmt: skip
        before, _ = count_contacts(env)
        result = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", lua.name,
             f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        after, events = count_contacts(env)
    finally:
        server.terminate()
        server.wait()
    text = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", text, re.M))
    errors = result.stderr.count("status ")
    print(
        f"{total:,} requests, {rps:.0f} contacts/s; latency p50 {latency.get('50')}, "
        f"p90 {latency.get('90')}, p99 {latency.get('99')}; non-201 responses: {errors}"
    )
    print(f"contacts created in the run: {after - before:,}; contact events in total: {events:,}")


if __name__ == "__main__":
    main()

"""Soak: many tenants, a mixed staff workload for ten minutes (gunicorn and workers on PostgreSQL).

1. The database `rathaus_soak` on the server DATABASE_URL points at (created if missing and
   kept between runs: building the towns takes minutes each; `--fresh` drops it first) holds
   TENANTS towns (`rathaus.demo.towns`): each with the demo's organisation, catalogue (287
   services) and knowledge base (70 articles), and a year of KC activity and appointments at a
   tenth of Musterstadt's volume (about 25,000 contacts and 10,000 visits each). Missing towns
   are built, in two processes.
2. Per town, USERS / TENANTS staff logins `soak.stadtNN.K` (KC agent in the KC's phone team,
   clerk in every unit of Dezernat I, office staff of Bürgerbüro Mitte; a team lead would see
   the same cases but must log in with a second factor). For the replies, the open cases
   of the towns get a citizen's e-mail address (the demo's cases have none, so a reply by
   e-mail would be refused); bench data only, written with one UPDATE.
3. gunicorn (WORKERS sync workers), two `rathaus worker` processes and an SMTP sink start;
   every virtual user logs in through the login form (CSRF token and session cookie, as a
   browser) and then, for MINUTES, picks an action, runs it and waits (exponential think time,
   mean THINK seconds):

   - search (35 %): the desk's search as you type, a prefix of a caller's words and then all
     of them (htmx partial), with the query pairs of `tests/catalog/test_search_quality.py`;
   - contact (20 %): start a phone contact, open it, finish it (4 in 5 answered with a
     service, 1 in 5 handed over to the service's unit as a case), back at the desk;
   - inbox (20 %): a page (1–3) of the inbox: all open cases of Dezernat I;
   - reply (10 %): open a case and reply by e-mail (not marking it answered, so it stays in
     the inbox); the worker sends the mail to the sink;
   - booking (15 %): book for a caller at Bürgerbüro Mitte (the phone booking's three steps:
     free days, times of a day, the booking); a refusal with the form's message (the time
     taken in the meantime) is an answer, not an error.
   No barometer yet (the issue's "barometer pages where present").
4. Printed: per request kind p50/p95/p99/max and count, the errors (5xx, connection errors,
   any other status than the page's own; must be 0), tracebacks in the server log, the queue
   after the run, the resident memory (RSS from /proc) of each gunicorn worker after the warm-up
   and at the end, and in a separate process the memory of the search index per tenant
   (tracemalloc while building all TENANTS indexes: what each web worker holds once it has
   served a search in every town).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/soak.py
    … bench/soak.py --minutes 1 --tenants 3          # a short run while developing

The load generator is one asyncio loop in this process with a small HTTP/1.1 client of its own
(gunicorn's sync workers close the connection after each answer), on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from _common import free_port, gunicorn, percentile, wait_for

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv/bin/python")
DATABASE = "rathaus_soak"
PASSWORD = "soak-Password-2026"
ACTIONS = {"search": 35, "contact": 20, "inbox": 20, "reply": 10, "booking": 15}

BUILD = """
import sys, time
from django_scopes import scopes_disabled
from rathaus.appointments.models import Booking
from rathaus.demo import towns
for number in %(numbers)r:
    with scopes_disabled():
        done = Booking.objects.filter(tenant__slug=towns.town_slug(number)).exists()
    if not done:
        started = time.perf_counter()
        towns.build_town(number, days=%(days)d, progress=lambda message: None)
        print(f"  Stadt {number:02d} built in {time.perf_counter() - started:.0f} s "
              f"({%(days)d} days of activity)", flush=True)
print("{}")
"""

SETUP = """
from django.contrib.auth import get_user_model
from django_scopes import scope
from rathaus.appointments.models import OfferedService
from rathaus.catalog.models import Location, Service
from rathaus.contacts.models import Case
from rathaus.core import services as core
from rathaus.core.models import OrgUnit, Role, Tenant
from rathaus.demo import towns
users = get_user_model().objects
out = []
for number in range(1, %(tenants)d + 1):
    tenant = Tenant.objects.get(slug=towns.town_slug(number))
    with scope(tenant=tenant):
        units = {u.code: u for u in OrgUnit.objects.filter(code__in=["kc-telefon", "dez-1", "buergerbuero-mitte"])}
        # A clerk in every unit of Dezernat I: the team lead's view of its cases, without the
        # second factor team leads must use (staffauth.selectors.SECOND_FACTOR_ROLES).
        dezernat = list(OrgUnit.objects.filter(path__startswith=units["dez-1"].path))
        logins = []
        for k in range(%(per_tenant)d):
            name = f"soak.{tenant.slug}.{k}"
            user = users.filter(username=name).first() or core.user_create(
                username=name, password=%(password)r, first_name="Soak", last_name=str(k))
            core.membership_grant(user=user, org_unit=units["kc-telefon"], role=Role.KC_AGENT)
            core.membership_grant(
                user=user, org_unit=units["buergerbuero-mitte"], role=Role.OFFICE_STAFF
            )
            for unit in dezernat:
                core.membership_grant(user=user, org_unit=unit, role=Role.CLERK)
            logins.append(name)
        location = Location.objects.get(source="demo", external_id="bb-mitte")
        offered = [o.service_id for o in OfferedService.objects.filter(location=location)
                   .select_related("service").order_by("service_id") if o.service.max_quantity >= 1]
        services = list(Service.objects.filter(status="published", org_unit__isnull=False)
                        .order_by("?").values_list("pk", flat=True)[:60])
        open_cases = Case.objects.exclude(status__in=["answered", "closed"])
        for case in open_cases.filter(citizen_email=""):
            Case.objects.filter(pk=case.pk).update(citizen_email=f"buerger{case.pk}@example.org")
        cases = list(open_cases.filter(org_unit__path__startswith=units["dez-1"].path)
                     .values_list("reference", flat=True))
    out.append({"slug": tenant.slug, "logins": logins, "location": location.pk,
                "offered": offered, "services": services, "cases": cases})
import sys
sys.path.insert(0, %(root)r)
from tests.catalog.test_search_quality import PAIRS
print(json.dumps({"towns": out, "queries": [query for query, _expected in PAIRS]}))
"""

INDEX = """
import gc, time, tracemalloc, resource
from django_scopes import scope
from rathaus.catalog import selectors
from rathaus.core.models import Tenant
from rathaus.demo import towns
tenants = [Tenant.objects.get(slug=towns.town_slug(n)) for n in range(1, %(tenants)d + 1)]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
gc.collect()
before = rss()
tracemalloc.start()
sizes, seconds = [], []
for tenant in tenants:
    with scope(tenant=tenant):
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        selectors.search_index(tenant)
        seconds.append(time.perf_counter() - started)
        gc.collect()
        sizes.append(tracemalloc.get_traced_memory()[0] - base)
total = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
gc.collect()
print(json.dumps({"sizes": sizes, "seconds": seconds, "total": total,
                  "rss_growth": rss() - before}))
"""

VERIFY = """
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult
with scopes_disabled():
    print(json.dumps(dict(DBTaskResult.objects.values_list("status").annotate(n=__import__(
        "django.db.models", fromlist=["Count"]).Count("id")))))
"""


def django(env: dict[str, str], script: str, *, stream: bool = False) -> object:
    """Run a snippet in its own Django process and return the JSON it prints last."""
    process = subprocess.run(
        [PYTHON, "-c", "import json, django; django.setup()\n" + script],
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    lines = process.stdout.strip().splitlines()
    if stream:
        print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


# --- the client ------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: str

    def location(self) -> str:
        return self.headers.get("location", [""])[0]


class Browser:
    """One staff member's browser: a cookie jar and one connection per request."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.cookies: dict[str, str] = {}

    async def request(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        expect: tuple[int, ...] = (200,),
        htmx: bool = False,
    ) -> Answer | None:
        body = urllib.parse.urlencode(form or {}).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: close"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if htmx:
            lines.append("HX-Request: true")
        if method == "POST":
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
                f"Origin: http://127.0.0.1:{self.port}",
                f"Referer: http://127.0.0.1:{self.port}{path}",
            ]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(self._send(raw), 60)
        except (OSError, ValueError, IndexError, TimeoutError) as error:
            self.stats.record(kind, time.perf_counter() - started, f"connection: {error!r}")
            return None
        problem = "" if answer.status in expect else f"status {answer.status} for {method} {path}"
        self.stats.record(kind, time.perf_counter() - started, problem)
        for cookie in answer.headers.get("set-cookie", []):
            name, _eq, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return None if problem else answer

    async def _send(self, raw: bytes) -> Answer:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(raw)
            data = await reader.read()  # the sync worker closes the connection after the answer
        finally:
            writer.close()
        head, _sep, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, list[str]] = defaultdict(list)
        for line in header_lines:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()].append(value.strip())
        return Answer(int(status_line.split(" ", 2)[1]), headers, body.decode("utf-8", "replace"))

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")


@dataclass
class Stats:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    recording: bool = True

    def record(self, kind: str, seconds: float, problem: str) -> None:
        if not self.recording:
            return
        self.timings[kind].append(seconds * 1000)
        if problem:
            self.errors[f"{kind}: {problem}"] += 1


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DAY_LINK = re.compile(r'href="(\?[^"]*day=[^"]+)"')
START = re.compile(r'name="start" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CONTACT = re.compile(r"/kc/contact/(\d+)/$")


class StaffMember:
    """A virtual staff member of one town; `run` is its working day."""

    def __init__(self, browser: Browser, login: str, town: dict, queries: list[str], seed: int):
        self.browser, self.login, self.town, self.queries = browser, login, town, queries
        self.rng = random.Random(seed)

    async def log_in(self) -> bool:
        page = await self.browser.request("login page", "GET", "/login/")
        if page is None:
            return False
        token = CSRF_FIELD.search(page.body)
        form = {"username": self.login, "password": PASSWORD}
        form["csrfmiddlewaretoken"] = token.group(1) if token else self.browser.csrf()
        done = await self.browser.request("login", "POST", "/login/", form, expect=(302,))
        return done is not None and "/login/" not in done.location()

    def post(self, form: dict[str, str]) -> dict[str, str]:
        return {**form, "csrfmiddlewaretoken": self.browser.csrf()}

    async def run(self, until: float, think: float) -> None:
        await asyncio.sleep(self.rng.uniform(0, think))  # not all at the same instant
        while time.time() < until:
            action = self.rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
            await getattr(self, action)()
            await asyncio.sleep(self.rng.expovariate(1 / think))

    async def search(self) -> None:
        query = self.rng.choice(self.queries)
        prefix = query[: self.rng.randint(min(3, len(query)), len(query))]
        for typed in (prefix, query):
            path = "/catalog/search/?" + urllib.parse.urlencode({"q": typed})
            await self.browser.request("search", "GET", path, htmx=True)

    async def contact(self) -> None:
        b = self.browser
        started = await b.request(
            "contact start", "POST", "/kc/start/", self.post({"channel": "phone"}), expect=(302,)
        )
        match = CONTACT.search(started.location()) if started else None
        if match is None:
            if started is not None:
                b.stats.errors[f"contact start: redirected to {started.location()}"] += 1
            return
        path = f"/kc/contact/{match.group(1)}/"
        if await b.request("contact page", "GET", path) is None:
            return
        handed_over = self.rng.random() < 0.2
        form = {
            "outcome": "handed_over" if handed_over else "answered",
            "service": str(self.rng.choice(self.town["services"])),
            "summary": "Auskunft am Telefon",
            "citizen_name": "Erika Mustermann",
            "citizen_phone": "0599 12345",
            "priority": "2",
            "handover_subject": "Rückfrage" if handed_over else "",
        }
        finished = await b.request("contact finish", "POST", path, self.post(form), expect=(302,))
        if finished is not None:
            b.stats.outcomes["contact handed over" if handed_over else "contact answered"] += 1
            await b.request("desk", "GET", "/kc/")

    async def inbox(self) -> None:
        page = self.rng.choice([1, 1, 1, 2, 3])
        await self.browser.request("inbox", "GET", f"/cases/?page={page}")

    async def reply(self) -> None:
        if not self.town["cases"]:
            self.browser.stats.outcomes["reply skipped: no open case"] += 1
            return
        reference = self.rng.choice(self.town["cases"])
        path = f"/cases/{reference}/"
        if await self.browser.request("case page", "GET", path) is None:
            return
        form = self.post({"body": "Guten Tag, wir haben Ihre Anfrage erhalten. Freundliche Grüße"})
        done = await self.browser.request(
            "case reply", "POST", f"{path}reply/", form, expect=(302,)
        )
        if done is not None:
            self.browser.stats.outcomes["reply"] += 1

    async def booking(self) -> None:
        b = self.browser
        service = self.rng.choice(self.town["offered"])
        query = {"location": self.town["location"], "services": service, f"qty_{service}": 1}
        base = "/office/phone/?" + urllib.parse.urlencode(query)
        days = await b.request("booking: free days", "GET", base)
        links = DAY_LINK.findall(days.body) if days else []
        if not links:
            if days is not None:
                b.stats.outcomes["booking: no free day"] += 1
            return
        path = "/office/phone/" + self.rng.choice(links[:10]).replace("&amp;", "&")
        times = await b.request("booking: times", "GET", path)
        starts = START.findall(times.body) if times else []
        key = KEY.search(times.body) if times else None
        if not starts or key is None:
            if times is not None:
                b.stats.outcomes["booking: day full"] += 1
            return
        form = {
            "start": self.rng.choice(starts),
            "name": "Max Mustermann",
            "phone": "0599 54321",
            # Each caller their own address: the policy caps bookings per person and service.
            "email": f"max{self.rng.randrange(10**9)}@example.org",
            "idempotency_key": key.group(1),
        }
        booked = await b.request("booking: book", "POST", path, self.post(form), expect=(200, 302))
        if booked is not None:
            # 200: the form again with its message (the time taken in the meantime, the cap).
            b.stats.outcomes["booking booked" if booked.status == 302 else "booking refused"] += 1


async def soak(
    port: int, setup: dict, users: int, minutes: float, think: float, stats: Stats
) -> float:
    towns, queries = setup["towns"], setup["queries"]
    staff = []
    for n in range(users):
        town = towns[n % len(towns)]
        login = town["logins"][(n // len(towns)) % len(town["logins"])]
        staff.append(StaffMember(Browser(port, stats), login, town, queries, seed=n))
    # Logins a few at a time, as people arrive in the morning: 60 password hashes at the same
    # instant queued for over a minute on two cores, and the client gave up (first full run).
    gate = asyncio.Semaphore(4)

    async def arrive(member: StaffMember) -> bool:
        async with gate:
            return await member.log_in()

    logged_in = await asyncio.gather(*(arrive(member) for member in staff))
    if not all(logged_in):
        stats.errors[f"login failed for {logged_in.count(False)} of {users} users"] += 1
    started = time.time()
    await asyncio.gather(*(m.run(started + minutes * 60, think) for m in staff))
    return time.time() - started


# --- the servers -----------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ensure_database(url: str, fresh: bool) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        if fresh:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        if not exists:
            admin.execute(f"CREATE DATABASE {DATABASE}")
    return url.rsplit("/", 1)[0] + "/" + DATABASE


def build(env: dict[str, str], tenants: int, days: int) -> None:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "rathaus", "migrate", "-v0"], env=env, check=True)
    numbers = list(range(1, tenants + 1))
    builders = [
        subprocess.Popen(
            [
                PYTHON,
                "-c",
                "import json, django; django.setup()\n" + BUILD % {"numbers": share, "days": days},
            ],
            env=env,
            stdout=subprocess.DEVNULL if not share else None,
        )
        for share in (numbers[0::2], numbers[1::2])
    ]
    if any(builder.wait() for builder in builders):
        sys.exit("building the towns failed")
    print(f"database ready with {tenants} towns after {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the load")
    parser.add_argument("--tenants", type=int, default=30, help="towns (tenants)")
    parser.add_argument("--users", type=int, help="virtual staff (default: 2 per tenant)")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time, seconds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--days",
        type=int,
        default=365,
        help="days of activity of the towns this run builds (towns built before are kept)",
    )
    parser.add_argument("--fresh", action="store_true", help="drop the database and rebuild")
    parser.add_argument(
        "--data-dir",
        default=str(Path(tempfile.gettempdir()) / "rathaus-soak"),
        help="RATHAUS_DATA_DIR of the servers (default %(default)s)",
    )
    args = parser.parse_args()
    users = args.users or 2 * args.tenants
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Run this against PostgreSQL: DATABASE_URL=postgres://…/postgres")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    smtp = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": ensure_database(url, args.fresh),
        "RATHAUS_DATA_DIR": args.data_dir,
        "RATHAUS_SECRET_KEY": "soak-" + "x" * 40,
        "RATHAUS_DB_CONN_MAX_AGE": "60",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_SECURE_COOKIES": "false",  # plain HTTP on 127.0.0.1
        "RATHAUS_SMTP_PORT": str(smtp),
        "RATHAUS_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "PYTHONPATH": str(ROOT / "src"),
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start; "
        f"{args.tenants} tenants, {users} staff, think time {args.think:g} s, "
        f"{args.workers} gunicorn workers, 2 task workers, {args.minutes:g} minutes"
    )
    build(env, args.tenants, args.days)
    setup = django(
        env,
        SETUP
        % {
            "tenants": args.tenants,
            "per_tenant": -(-users // args.tenants),
            "password": PASSWORD,
            "root": str(ROOT),
        },
    )
    assert isinstance(setup, dict)
    cases = sum(len(t["cases"]) for t in setup["towns"])
    print(f"open cases of Dezernat I to reply to: {cases:,}")
    stats, wall, memory, tracebacks, queue = run_servers(env, args, setup, users, smtp)
    report(stats, wall, memory, tracebacks, queue)
    index = django(env, INDEX % {"tenants": args.tenants})
    assert isinstance(index, dict)
    sizes = [s / 2**20 for s in index["sizes"]]
    print(
        f"search index per tenant (tracemalloc, {args.tenants} built in one process): first "
        f"{sizes[0]:.1f} MB (with the shared stem cache), then p50 {percentile(sizes, 0.5):.1f} "
        f"MB, max {max(sizes):.1f} MB; all {args.tenants}: {index['total'] / 2**20:.0f} MB traced, "
        f"RSS +{index['rss_growth'] / 2**20:.0f} MB; building one took p50 "
        f"{percentile(index['seconds'], 0.5):.2f} s"
    )
    if stats.errors or tracebacks:
        sys.exit(1)


def run_servers(
    env: dict[str, str], args: argparse.Namespace, setup: dict, users: int, smtp: int
) -> tuple[Stats, float, dict, int, dict]:
    port = free_port()
    log_path = Path(args.data_dir) / "gunicorn.log"
    log = open(log_path, "w+")  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [
                PYTHON,
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Sink",
                "-l",
                f"127.0.0.1:{smtp}",
            ]
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen([PYTHON, "-m", "rathaus", "worker"], env=env, stderr=log)
            )
        server = gunicorn("rathaus.wsgi", port, args.workers, env=env, stderr=log)
        processes.append(server)
        wait_for(port)
        wait_for(smtp)
        warm = Stats()
        asyncio.run(soak(port, setup, min(users, 2 * args.workers), 0.1, 0.05, warm))
        memory = {"start": {pid: rss_mb(pid) for pid in children(server.pid)}}
        stats = Stats()
        wall = asyncio.run(soak(port, setup, users, args.minutes, args.think, stats))
        memory["end"] = {pid: rss_mb(pid) for pid in children(server.pid)}
        time.sleep(5)  # let the workers send the last replies' mails
        queue = django(env, VERIFY)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait()
        log.seek(0)
        tracebacks = log.read().count("Traceback")
        log.close()
    assert isinstance(queue, dict)
    return stats, wall, memory, tracebacks, queue


def report(stats: Stats, wall: float, memory: dict, tracebacks: int, queue: dict) -> None:
    total = sum(len(t) for t in stats.timings.values())
    print(f"\n{total:,} requests in {wall:.0f} s ({total / wall:.1f}/s)")
    print(f"{'request':22} {'count':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for kind, timings in sorted(stats.timings.items()):
        print(
            f"{kind:22} {len(timings):7d} {percentile(timings, 0.5):7.0f} "
            f"{percentile(timings, 0.95):7.0f} {percentile(timings, 0.99):7.0f} {max(timings):7.0f}"
        )
    print("outcomes:", dict(sorted(stats.outcomes.items())))
    print(f"errors: {sum(stats.errors.values())}", dict(stats.errors.most_common(10)))
    print(f"tracebacks in the server and worker log: {tracebacks}")
    print("task queue after the run:", queue)
    for when in ("start", "end"):
        figures = ", ".join(f"{mb:.0f}" for mb in memory[when].values())
        print(f"RSS of the gunicorn workers at the {when}: {figures} MB")


if __name__ == "__main__":
    main()

"""Shared fixtures: two municipalities with the same shape, so every test can check isolation."""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django_scopes import scope, scopes_disabled

from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Article, Service, ServiceStatus
from rathaus.core import services as core_services
from rathaus.core.models import OrgUnit, OrgUnitKind, Role, Tenant


def pytest_addoption(parser):
    parser.addoption(
        "--as-of",
        metavar="INSTANT",
        default=os.environ.get("RATHAUS_TEST_AS_OF") or None,
        help="run the whole session as if the wall clock showed INSTANT, an ISO 8601 time "
        "such as 2027-03-28T01:30+01:00 (Europe/Berlin when no offset is given); the clock "
        "ticks on from there. Also RATHAUS_TEST_AS_OF. Tests must pass on any day.",
    )


def session_instant(value: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    instant = dt.datetime.fromisoformat(value)
    return instant if instant.tzinfo else instant.replace(tzinfo=ZoneInfo("Europe/Berlin"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "real_second_factor: sign-ins need a real second factor (no test shortcut)"
    )
    # Before collection, so module-level dates ("the next quiet Monday") are computed on the
    # travelled clock too. A test's own frozen clock (time_machine) nests inside this one.
    value = config.getoption("as_of")
    if value:
        config._rathaus_clock = time_machine.travel(session_instant(value), tick=True)
        config._rathaus_clock.start()


def pytest_report_header(config):
    if config.getoption("as_of"):
        return f"wall clock travelled to {config.getoption('as_of')}"
    return None


def pytest_unconfigure(config):
    clock = getattr(config, "_rathaus_clock", None)
    if clock is not None:
        clock.stop()


@pytest.fixture(autouse=True)
def empty_cache(settings):
    # Used ALTCHA challenges are remembered in the cache; one test's must not refuse the next
    # test's. Production shares the database cache between processes (tests/core/
    # test_settings.py checks it); a fresh in-memory cache per test needs no database.
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    # Queued work (appointment e-mails) runs right after the commit, as if a worker were idle;
    # tests/appointments/test_booking.py runs the real database queue and worker once.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def sessions_outlast_the_clock(settings):
    # Tests log in and then travel the clock by hours or weeks (a Monday ahead, a whole
    # working day); the session limits have their own test (tests/core/test_security.py).
    settings.RATHAUS_SESSION_IDLE_MINUTES = 10**7
    settings.RATHAUS_SESSION_MAX_HOURS = 10**6
    settings.SESSION_COOKIE_AGE = 10**9


@pytest.fixture(autouse=True)
def second_factor_taken_as_given(request):
    # Tests sign in with `client.force_login` or the password form as tenant admins, team
    # leads and controllers, whose sessions must be confirmed by a second factor before any
    # staff page (rathaus.staffauth). Every sign-in here counts as confirmed, as the session
    # limits are lifted above; the tests of the second factor itself are marked
    # `@pytest.mark.real_second_factor` and meet the real requirement (tests/staffauth/).
    if request.node.get_closest_marker("real_second_factor"):
        yield
        return
    from django.contrib.auth.signals import user_logged_in

    from rathaus.staffauth.middleware import SECOND_FACTOR_SESSION_KEY

    def confirmed(request, **_signal):
        request.session[SECOND_FACTOR_SESSION_KEY] = "test"

    user_logged_in.connect(confirmed, dispatch_uid="tests-second-factor")
    yield
    user_logged_in.disconnect(dispatch_uid="tests-second-factor")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Tests create many users; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    tenant: Tenant
    units: dict[str, OrgUnit]
    users: dict[str, object] = field(default_factory=dict)
    service: Service | None = None
    article: Article | None = None

    def client(self, role: str) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client


def _world(slug: str, ags: str, state: str = "NW") -> World:
    tenant = core_services.tenant_create(
        name=f"Stadt {slug.title()}", slug=slug, ags=ags, state=state
    )
    with scope(tenant=tenant):
        root = core_services.org_unit_create(
            tenant=tenant, name="Verwaltung", code="verwaltung", kind=OrgUnitKind.ADMINISTRATION
        )
        kc = core_services.org_unit_create(
            tenant=tenant,
            name="KC",
            code="kc",
            kind=OrgUnitKind.FACHBEREICH,
            parent=root,
            is_kc=True,
        )
        office = core_services.org_unit_create(
            tenant=tenant,
            name="Bürgeramt",
            code="buergeramt",
            kind=OrgUnitKind.FACHBEREICH,
            parent=root,
        )
        team = core_services.org_unit_create(
            tenant=tenant,
            name="Bürgerbüro Mitte",
            code="bb-mitte",
            kind=OrgUnitKind.ABTEILUNG,
            parent=office,
        )
        world = World(tenant=tenant, units={"root": root, "kc": kc, "office": office, "team": team})
        placements = {
            Role.KC_AGENT: kc,
            Role.CLERK: team,
            Role.OFFICE_STAFF: team,
            Role.TEAM_LEAD: office,
            Role.KNOWLEDGE_EDITOR: kc,
            Role.CONTROLLER: root,
            Role.PROCESS_MANAGER: root,
            Role.TENANT_ADMIN: root,
        }
        for role, unit in placements.items():
            user = core_services.user_create(
                username=f"{slug}-{role}", password="x-unused-password"
            )
            core_services.membership_grant(user=user, org_unit=unit, role=role)
            world.users[role] = user
        world.service = catalog_services.service_create(
            tenant=tenant,
            name=f"Personalausweis {slug}",
            leika_key="99008001000000",
            keywords="Perso, Ausweis",
            summary="Der Personalausweis weist Sie aus.",
            org_unit=team,
            status=ServiceStatus.PUBLISHED,
        )
        world.article = catalog_services.article_create(
            tenant=tenant,
            question=f"Personalausweis verloren {slug}?",
            answer="Melden Sie den Verlust.",
            services=[world.service],
            published=True,
        )
    return world


@pytest.fixture
def world_a(db: None) -> World:
    return _world("alpha", "05999101")


@pytest.fixture
def world_b(db: None) -> World:
    return _world("beta", "09999102", state="BY")


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


class _Inbox:
    """Collects what the local SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list = []
        self.port = 0
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def restart(self) -> None:
        """Start the server again on its port after `controller.stop()` (an outage)."""
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free local port; Django's mail goes there."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.controller = controller  # a test stops and starts it again (an outage)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    inbox.controller.stop(no_assert=True)  # also when the test stopped it


DOVECOT = "/usr/sbin/dovecot"


@pytest.fixture
def imap_server():
    """A real dovecot on a free port, one user, Maildir under a temporary directory."""

    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (make install installs dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="rathaus-dovecot-"))
    root.chmod(0o755)
    (root / "home").mkdir(mode=0o777)
    (root / "home").chmod(0o777)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (root / "passwd").write_text("kc@alpha.example:{PLAIN}imap-secret\n")
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/home/%u
}}
mail_location = maildir:{root}/home/%u/Maildir
"""
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield {
        "host": "127.0.0.1",
        "port": port,
        "username": "kc@alpha.example",
        "password": "imap-secret",
    }
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


def deliver(server, message):
    client = imaplib.IMAP4(server["host"], server["port"])
    client.login(server["username"], server["password"])
    client.append("INBOX", None, None, message.as_bytes())
    client.logout()

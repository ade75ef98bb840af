"""Every page and form, fuzzed: no malformed request gets a 5xx, and a refused request
changes nothing in the database. On SQLite and PostgreSQL (DATABASE_URL).

Nothing is listed by hand but the rows of the scene. The pages come from the URL conf (all
but the REST API, which tests/api/test_schemathesis.py fuzzes from its schema). The test
first learns the pages as every role and anonymously, from those without path arguments on:
it follows the links and submits the forms of their HTML as a person would (every request
is rolled back), and notes the keys the views read from GET, POST and FILES, the forms they
build and the path arguments the links carry (the scene gives those of the pages only
e-mails and devices link to). Then it sends each page, as the main person (anonymous on a
public page, else a role the page admits):

1. every key with every bad value of `tests.fuzzing.NASTY`, all keys at once;
2. hypothesis requests made from the page's own links and forms with one, some or all
   values bad, left out or repeated, files that are none, with and without htmx: as up to
   two roles the page admits and anonymously;
3. each path argument bad in turn (bad values, tampered tokens, other rows' numbers);
4. the same URL as the other municipality's staff.

Each request runs in a savepoint that is rolled back, so every request meets the same
database; a refused one (4xx, a form with errors, an error message, the way to the login)
must leave every table but sessions, lockouts, rate limits, the access log and the cache as
it was. `derandomize` makes every run send the same requests; the budget keeps it to about
three minutes on SQLite.

For work on the views: FUZZ_PAGES=<regex> fuzzes only the pages whose name matches (all
are still learnt), FUZZ_TRACE=1 prints every request, FUZZ_REPORT=<file> writes the findings
as JSON (docs/fuzz-findings.md lists them).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
from email.message import EmailMessage

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rathaus.appointments import links
from rathaus.appointments import services as appointment_services
from rathaus.appointments.models import BookingChannel
from rathaus.appointments.office_views import device_token
from rathaus.appointments.portal_views import HELD_SALT
from rathaus.contacts import services as contact_services
from rathaus.contacts.models import Contact
from rathaus.contacts.services import delivery
from rathaus.contacts.services import mail as inbound
from rathaus.core.models import Role
from tests import fuzzing
from tests.appointments.conftest import MONDAY, at, build_office
from tests.appointments.helpers import book, frozen_clock

MORNING = at(MONDAY, 9, 0)  # a Monday morning, the office open
clock = frozen_clock(MORNING)

BUDGET = fuzzing.Budget(
    examples=6,
    refused_examples=2,
    roles_per_target=2,
    crawl_per_page=8,
    links_per_page=2,
    candidates_per_page=8,
)
ANONYMOUS = "anonymous"


def skip_reason(route: str) -> str | None:
    """URL patterns left out, and why."""
    if route.startswith("api/"):
        return "the REST API: tests/api/test_schemathesis.py fuzzes it from its schema"
    if route.startswith(("admin/", "static/", "media/")):
        return "not a page of the project"
    return None


def _mail(subject: str, sender: str, attachment: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = f"Erika Muster <{sender}>"
    message["To"] = "buergerservice@alpha.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@example.org>"
    message.set_content("Guten Tag, wann ist mein Ausweis fertig?")
    if attachment:
        message.add_attachment(
            b"%PDF-1.4 Antrag", maintype="application", subtype="pdf", filename="antrag.pdf"
        )
    return message.as_bytes()


def build_scene(world, office) -> tuple[dict[str, list[dict]], list[str]]:
    """Rows for every page to show: a case with a note, a file and an undelivered reply, a
    callback, e-mails in the queue and at the KC agent's desk, a quarantined mail, bookings
    held, confirmed and for today with undelivered mails, three tickets drawn. Returns the
    path arguments of the pages no page links to (e-mail and device links), and plausible
    values for parameters no page shows a value of."""
    tenant = world.tenant
    kc = world.users[Role.KC_AGENT]
    location = office.location
    with scope(tenant=tenant):
        case = contact_services.case_create(
            tenant=tenant,
            channel="phone",
            actor=kc,
            service=world.service,
            subject="Ausweis beschädigt",
            citizen={
                "email": "erika@example.org",
                "phone": "0301 234567",
                "name": "Erika Muster",
                "address": "Markt 2, 12345 Alpha",
            },
        )
        contact_services.case_note_add(case=case, body="Rückruf erbeten", actor=kc)
        contact_services.case_attachment_add(
            case=case, name="antrag.pdf", content=b"%PDF-1.4 Antrag", actor=kc
        )
        reply = delivery.case_reply_email(case=case, body="Antwort", actor=kc)
        delivery.case_reply_attempt_failed(message=reply, error=OSError("down"), final=True)
        now = timezone.now()
        contact_services.contact_record(
            tenant=tenant,
            agent=kc,
            org_unit=world.units["kc"],
            channel="phone",
            started_at=now - dt.timedelta(minutes=5),
            ended_at=now,
            outcome="callback",
            actor=kc,
            citizen={"name": "Erika Muster", "phone": "0301 234567"},
            callback_due=now + dt.timedelta(days=1),
        )
        inbound.mail_receive(
            tenant=tenant, raw=_mail("Frage eins", "erika@example.org"), source="upload"
        )
        taken = inbound.mail_receive(
            tenant=tenant, raw=_mail("Frage zwei", "max@example.org", True), source="upload"
        )
        inbound.mail_contact_take(contact=Contact.objects.get(pk=taken.contact_id), agent=kc)
        inbound.mail_receive(tenant=tenant, raw=b"\r\n", source="imap")  # quarantined
        key = appointment_services.device_key_ensure(location=location)  # the device links
        kiosk = device_token(location, "kiosk", key)
        tomorrow = MONDAY + dt.timedelta(days=1)
        held = appointment_services.booking_hold(
            request=office.request((office.certificate, 1)),
            start=at(tomorrow, 8, 0),
            name="Erika Muster",
            email="erika@example.org",
            channel=BookingChannel.ONLINE,
        )
        confirmed = book(office, at(tomorrow, 8, 20), email="max@example.org")
        for booking, kind in ((confirmed, "confirmed"), (held, "confirm_request")):
            appointment_services.booking_mail_logged(
                booking=booking, kind=kind, error=OSError("down")
            )
        today = book(office, at(MONDAY, 11, 0), email="ida@example.org")
        tickets = [
            appointment_services.ticket_issue(location=location, services=[service])
            for service in (office.certificate, office.passport, office.pickup)
        ]
    slug = {"tenant_slug": tenant.slug}
    arguments = {
        "contacts:citizen_status": [slug],
        "appointments:book": [slug],
        "appointments:challenge": [slug],
        "appointments:held": [{**slug, "token": signing.dumps(held.pk, salt=HELD_SALT)}],
        "appointments:confirm": [{**slug, "token": links.token_for(held, "confirm")}],
        "appointments:cancel": [{**slug, "token": links.token_for(confirmed, "cancel")}],
        "appointments:move": [{**slug, "token": links.token_for(confirmed, "move")}],
        "appointments:kiosk_ticket": [{"pk": location.pk, "token": kiosk, "ticket": tickets[0].pk}],
        "appointments:kiosk_ticket_pdf": [
            {"pk": location.pk, "token": kiosk, "ticket": tickets[0].pk}
        ],
        # Without a provider in the scene both answer the way back to the login page.
        "staffauth:sso_start": [slug],
        "staffauth:sso_callback": [slug],
    }
    plausible = [
        str(world.service.pk),
        str(office.certificate.pk),
        str(location.pk),
        str(office.counters[0].pk),
        case.reference,
        today.code,
        confirmed.code,
        MONDAY.isoformat(),
        tomorrow.isoformat(),
        "08:20",
        "erika@example.org",
        "csv",
        "1",
        "2",
    ]
    return arguments, plausible


@pytest.fixture
def office(world_a):
    with scope(tenant=world_a.tenant):
        return build_office(world_a)


@pytest.fixture
def quiet_errors():
    """Django logs every 4xx and 5xx with its traceback, axes every login, WeasyPrint every
    PDF: the test reports what matters itself."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_page_and_form_answers_malformed_requests_without_a_5xx(
    clock, world_a, world_b, office, settings, tmp_path, quiet_errors
):
    started = time.monotonic()
    settings.MEDIA_ROOT = tmp_path
    settings.MIDDLEWARE = ["tests.fuzzing.RecordingMiddleware", *settings.MIDDLEWARE]
    arguments, plausible = build_scene(world_a, office)
    roles = list(Role.values)
    clients = {role: logged_in(world_a.users[role]) for role in roles}
    clients[ANONYMOUS] = Client()
    foreign = {role: f"beta:{role}" for role in roles}
    clients |= {foreign[role]: logged_in(world_b.users[role]) for role in roles}
    # The office's staff work at the first counter (their sessions remember it): a citizen
    # parked there, another being served, one waiting.
    counter = office.counters[0]
    for role in roles:
        clients[role].post(reverse("appointments:counter_choose"), {"counter": counter.pk})
    with scope(tenant=world_a.tenant):
        staff = world_a.users[Role.OFFICE_STAFF]
        parked = appointment_services.ticket_call_next(counter=counter, actor=staff)
        appointment_services.ticket_park(ticket=parked, actor=staff)
        served = appointment_services.ticket_call_next(counter=counter, actor=staff)
        appointment_services.ticket_start(ticket=served, actor=staff)

    found, skipped = fuzzing.pages(skip_reason)
    fuzzer = fuzzing.Fuzzer(clients, reverse(django_settings.LOGIN_URL))
    campaign = fuzzing.Campaign(
        fuzzer,
        found,
        roles=roles,
        admin=Role.TENANT_ADMIN,
        anonymous=ANONYMOUS,
        foreign=foreign,
        plausible=plausible,
        day=(MONDAY + dt.timedelta(days=1)).isoformat(),
        budget=BUDGET,
    )
    campaign.trace = bool(os.environ.get("FUZZ_TRACE"))
    only = re.compile(os.environ.get("FUZZ_PAGES", ""))
    with fuzzing.forms_watched():
        starts = [("GET", reverse(p.name), {}) for p in found if not p.arguments]
        starts += [("GET", reverse(n, kwargs=a), {}) for n, rows in arguments.items() for a in rows]
        for who in [*roles, ANONYMOUS]:
            campaign.crawl(who, starts)
        learnt = time.monotonic()
        targets, missing = campaign.targets(arguments)
        for target in targets:
            if only.search(target.page.name):
                campaign.fuzz(target)

    errors = [v for k, v in fuzzer.findings.items() if k[0] == "500"]
    changes = [v for k, v in fuzzer.findings.items() if k[0] == "changed"]
    project_forms = fuzzing.project_forms()
    unbuilt = sorted(project_forms - set(campaign.forms_built))
    keys = sum(len(campaign.keys[p.name]) for p in found)
    lines = [
        "",
        f"URL patterns: {len(found)} fuzzed as {len(targets)} targets, {len(skipped)} left out, "
        f"{len(missing)} without path arguments",
        f"forms: {len(campaign.forms_built)} classes built ({len(project_forms)} of the project, "
        f"{len(unbuilt)} of them never), parameters: {keys} (page, key) pairs",
        f"requests: {sum(fuzzer.sent.values())} {dict(fuzzer.sent)}; learning "
        f"{learnt - started:.0f} s, in all {time.monotonic() - started:.0f} s",
        f"requests per person: {dict(fuzzer.sent_by)}",
        *(f"left out: {name}: {why}" for name, why in skipped.items()),
        *(f"no path arguments: {name}: {why}" for name, why in missing.items()),
        *(f"form never built: {name}" for name in unbuilt),
        *(f"nobody admitted: {text}" for text in campaign.unreached),
        *(f"503 on purpose: {name} ({n}x)" for name, n in fuzzer.on_purpose.items()),
        f"{len(errors)} distinct 5xx, {len(changes)} refused requests that changed rows",
        *(f"  [{len(v)}x] {v[0].line()}" for v in [*errors, *changes]),
    ]
    if campaign.trace:
        lines += [f"target {t.page.name} {t.url} (from {t.source})" for t in targets]
        for page in found:
            lines.append(f"{page.name} {sorted(campaign.keys[page.name])}")
            for method in ("GET", "POST"):
                lines += [f"    {method} {b}" for b in campaign.bases.get((page.name, method), [])]
        lines += [f"{url} {dict(statuses)}" for url, statuses in campaign.answers.items()]
    print("\n".join(lines))
    if os.environ.get("FUZZ_REPORT"):
        rows = [dict(vars(v[0]), count=len(v)) for v in [*errors, *changes]]
        with open(os.environ["FUZZ_REPORT"], "w") as out:
            json.dump({"vendor": connection.vendor, "findings": rows}, out, indent=1)

    if not only.pattern:
        assert not missing, "pages without path arguments: give the scene their rows"
        assert not unbuilt, "forms no page built: give the scene what the page needs"
    assert [v[0].line() for v in errors] == []
    assert [v[0].line() for v in changes] == []

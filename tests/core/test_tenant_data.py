"""A municipality can take its data along (`rathaus tenant_export`) and leave completely
(`rathaus tenant_remove`): two tenants with rows in every table, A exported and removed, B
untouched. The models are found from the schema, as the code finds them, so a table a later
app adds is checked the day it exists (and must get rows in `fill` below)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from email.message import EmailMessage

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_tasks_db.models import DBTaskResult

from rathaus.api.services import api_token_create
from rathaus.appointments import services as appointments
from rathaus.appointments.models import BookingPolicy
from rathaus.contacts.models import Channel, Mailbox, Outcome
from rathaus.contacts.services import cases, delivery, desk, mail
from rathaus.contacts.services.calls import call_records_import
from rathaus.core import services as core_services
from rathaus.core import tenant_data
from rathaus.core.models import Event, Membership, Tenant, TenantRemoval
from rathaus.staffauth import services as staffauth
from tests.appointments.conftest import MONDAY, at, build_office

PDF = b"%PDF-1.4\n% a letter\n"


def fill(world, settings) -> None:
    """Rows in every table of the tenant, through the services (as people would make them)."""
    tenant, users, now = world.tenant, world.users, timezone.now()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued rows
    with scope(tenant=tenant):
        core_services.closing_day_add(tenant=tenant, date=dt.date(2031, 12, 24), name="Heiligabend")
        core_services.personal_data_accessed(
            tenant=tenant, user=users["clerk"], subject_kind="case", subject_id="1"
        )
        office = build_office(world)
        appointments.closure_add(location=office.location, date=MONDAY + dt.timedelta(days=14))
        appointments.booking_policy_save(policy=BookingPolicy(tenant=tenant, hold_minutes=15))
        appointments.device_key_ensure(location=office.location)
        booking = appointments.booking_hold(
            request=office.request((office.certificate, 1)),
            start=at(MONDAY, 9),
            name="Erika Muster",
            email="erika@example.org",  # the confirmation request is queued: a task row
            channel="internal",
            now=at(MONDAY - dt.timedelta(days=3), 9),
        )
        counter = appointments.counter_save(
            location=office.location, name="Platz 9", services=[office.certificate]
        )
        appointments.ticket_issue(location=office.location, services=[office.certificate])
        ticket = appointments.ticket_call_next(counter=counter)
        assert ticket is not None
        appointments.ticket_start(ticket=ticket)
        appointments.ticket_finish(ticket=ticket, services_done=[office.certificate])
        assert booking.items.count() == 1
        contact = desk.contact_record(
            tenant=tenant,
            agent=users["kc_agent"],
            org_unit=world.units["kc"],
            channel=Channel.PHONE,
            started_at=now - dt.timedelta(minutes=4),
            ended_at=now,
            outcome=Outcome.ANSWERED,
            actor=users["kc_agent"],
            services=[world.service],
            citizen={"name": "Erika Muster", "email": "erika@example.org"},
        )
        case = cases.case_create(
            tenant=tenant,
            channel=Channel.EMAIL,
            actor=users["kc_agent"],
            service=world.service,
            citizen={"email": "erika@example.org"},
        )
        cases.case_attachment_add(case=case, name="brief.pdf", content=PDF, actor=users["clerk"])
        delivery.case_reply_email(case=case, body="Ihr Ausweis ist fertig.", actor=users["clerk"])
        message = EmailMessage()
        message["From"], message["Subject"] = "erika@example.org", f"Frage {tenant.slug}"
        message["Message-ID"] = f"<{tenant.slug}-1@example.org>"
        message.set_content("Wann ist mein Ausweis fertig?")
        message.add_attachment(PDF, maintype="application", subtype="pdf", filename="scan.pdf")
        mail.mail_receive(tenant=tenant, raw=message.as_bytes(), source="upload")
        mail.mail_receive(tenant=tenant, raw=b"\x00\x01 not a mail", source="upload")
        mail.mailbox_save(
            mailbox=Mailbox(tenant=tenant, host="imap.example.org", username="kc", password="pw"),
            actor=users["tenant_admin"],
        )
        call_records_import(
            tenant=tenant,
            actor=None,
            file=io.StringIO("call_id;arrived;ended\nc1;2025-03-01T10:00;2025-03-01T10:02\n"),
        )
        api_token_create(
            tenant=tenant,
            name="Telefonanlage",
            scopes=["calls:write"],
            org_unit=world.units["kc"],
            actor=users["tenant_admin"],
        )
        assert contact.services.count() == 1
        provider = staffauth.oidc_provider_set(
            tenant=tenant,
            actor=users["tenant_admin"],
            name="Anmeldung",
            issuer=f"https://login.{tenant.slug}.example",
            client_id="rathaus",
            client_secret="not-a-real-secret",
            enabled=True,
            mappings=[("kc-team", "kc_agent", world.units["kc"])],
        )
        staffauth.login_policy_set(
            tenant=tenant,
            actor=users["tenant_admin"],
            second_factor_for_all=True,
            password_login=True,
        )
        staffauth.sso_sign_in(
            provider=provider,
            claims={"sub": f"{tenant.slug}-7", "groups": ["kc-team"], "preferred_username": "sso"},
        )


# Tables fill() cannot make rows in, each with the reason; the removal test covers them
# anyway (it walks every table), only its premise "there was something to remove" is weaker.
NOT_FILLED: dict[str, str] = {}


def rows_of(tenant: Tenant) -> dict[str, int]:
    """Rows per tenant table, and per link table (through the row it hangs on)."""
    with scopes_disabled():
        counts = {
            model._meta.label_lower: model._base_manager.filter(**{field: tenant}).count()
            for model, field in tenant_data.tenant_models()
        }
        for child in tenant_data.child_tables():
            label = child.model._meta.label_lower
            rows = child.model._base_manager.filter(**{child.lookup: tenant}).count()
            counts[label] = counts.get(label, 0) + rows
    counts["tasks"] = len(tenant_data.tenant_tasks(tenant))
    return counts


@pytest.fixture
def two_full_tenants(world_a, world_b, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    fill(world_a, settings)
    fill(world_b, settings)
    return world_a, world_b


def test_the_schema_walk_finds_every_tenant_table_and_link_table():
    found = {model for model, _field in tenant_data.tenant_models()}
    for model in apps.get_models():
        if any(
            isinstance(field, models.ForeignKey) and field.related_model is Tenant
            for field in model._meta.concrete_fields
        ):
            assert model in found
    assert Event in found and BookingPolicy in found
    links = {child.model._meta.label_lower for child in tenant_data.child_tables()}
    assert "appointments.counter_services" in links and "contacts.contact_services" in links


def test_both_tenants_have_rows_in_every_table(two_full_tenants):
    """The premise of the tests below: nothing to remove would prove nothing."""
    for world in two_full_tenants:
        empty = sorted(
            name
            for name, count in rows_of(world.tenant).items()
            if count == 0 and name.split(".")[0] not in NOT_FILLED
        )
        assert empty == [], f"{world.tenant.slug} has no rows in {empty}: extend fill()"


def test_the_export_holds_every_row_and_file_of_a_and_nothing_of_b(two_full_tenants, tmp_path):
    a, b = two_full_tenants
    target = tmp_path / "alpha.zip"
    out = io.StringIO()
    call_command("tenant_export", "alpha", str(target), stdout=out)
    assert str(target) in out.getvalue()
    assert target.stat().st_mode & 0o077 == 0  # personal data: for its owner only
    expected = rows_of(a.tenant)
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        data = {
            name.removeprefix("data/").removesuffix(".json"): json.loads(archive.read(name))
            for name in names
            if name.startswith("data/")
        }
        with scopes_disabled():
            for path in tenant_data.tenant_files(a.tenant):
                with default_storage.open(path, "rb") as stored:
                    assert archive.read(f"files/{path}") == stored.read()
    assert manifest["tenant"]["slug"] == "alpha" and manifest["files_missing"] == []
    for label, count in expected.items():
        if label in data:
            assert len(data[label]) == count, label
            assert all(
                row["fields"].get("tenant", a.tenant.pk) == a.tenant.pk for row in data[label]
            )
    assert data["core.tenant"][0]["pk"] == a.tenant.pk and len(data["core.tenant"]) == 1
    assert len(data["django_tasks_database.dbtaskresult"]) == expected["tasks"] > 0
    # Nothing of B: no name, no address, no id of B's rows appears anywhere in the file.
    text = json.dumps(data)
    assert "beta" not in text and "Stadt Beta" not in text
    with scopes_disabled():
        b_events = set(Event.objects.filter(tenant=b.tenant).values_list("pk", flat=True))
    assert not b_events & {row["pk"] for row in data["core.event"]}
    users = {row["fields"]["username"] for row in data["auth.user"]}
    with scopes_disabled():
        members = Membership.objects.filter(tenant=a.tenant).values_list("user__username")
    assert users == {username for (username,) in members} > {u.username for u in a.users.values()}
    assert all("password" not in row["fields"] for row in data["auth.user"])
    assert len(manifest["files"]) == len([n for n in names if n.startswith("files/")]) >= 3


def test_removing_a_leaves_no_row_of_it_anywhere_and_b_as_it_was(
    two_full_tenants, django_capture_on_commit_callbacks
):
    a, b = two_full_tenants
    # A person who works for both keeps the account and the membership in B.
    shared = a.users["controller"]
    with scope(tenant=b.tenant):
        core_services.membership_grant(user=shared, org_unit=b.units["root"], role="controller")
    with scopes_disabled():
        files_a = tenant_data.tenant_files(a.tenant)
        files_b = tenant_data.tenant_files(b.tenant)
        b_events = set(Event.objects.filter(tenant=b.tenant).values_list("pk", "activity"))
        only_a = set(Membership.objects.filter(tenant=a.tenant).values_list("user", flat=True))
        only_a -= set(Membership.objects.filter(tenant=b.tenant).values_list("user", flat=True))
    before_b = rows_of(b.tenant)
    tenant_a_pk = a.tenant.pk
    out = io.StringIO()
    # The files go once the removal committed (the test's transaction never does).
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tenant_remove", "alpha", "--yes", stdout=out)
    assert "alpha removed" in out.getvalue()

    assert not Tenant.objects.filter(pk=tenant_a_pk).exists()
    with scopes_disabled():
        for model, field in tenant_data.tenant_models():
            assert not model._base_manager.filter(**{f"{field}_id": tenant_a_pk}).exists(), model
        for child in tenant_data.child_tables():
            lookup = child.lookup.removesuffix("tenant") + "tenant_id"
            assert not child.model._base_manager.filter(**{lookup: tenant_a_pk}).exists()
        assert not [
            pk
            for pk, args in DBTaskResult.objects.values_list("pk", "args_kwargs")
            if tenant_a_pk in args["args"]
        ]
        assert not any(default_storage.exists(name) for name in files_a)
        assert all(default_storage.exists(name) for name in files_b)
        # A's own staff are gone; the one who also works for B is not.
        remaining = set(get_user_model().objects.values_list("username", flat=True))
        assert remaining & {u.username for u in a.users.values()} == {shared.username}
        assert Membership.objects.filter(user=shared).count() == 1
        assert set(Event.objects.filter(tenant=b.tenant).values_list("pk", "activity")) == b_events
    assert rows_of(b.tenant) == before_b
    # The removal outlives the tenant's log: installation-wide, names and counts only.
    record = TenantRemoval.objects.get()
    assert (record.slug, record.ags, record.files) == ("alpha", "05999101", len(files_a))
    assert record.rows["core.event"] > 0 and record.rows["auth.user"] == len(only_a)
    assert len(only_a) == len(a.users)  # seven of the fixture's eight, and the one from SSO
    assert "erika" not in json.dumps(record.rows).lower()


def test_removal_asks_first_and_refuses_an_unknown_tenant(two_full_tenants, monkeypatch, tmp_path):
    a, _b = two_full_tenants
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no one to ask
    with pytest.raises(CommandError, match="--yes"):
        call_command("tenant_remove", "alpha")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "beta")
    with pytest.raises(CommandError, match="Not confirmed"):
        call_command("tenant_remove", "alpha")
    assert Tenant.objects.filter(pk=a.tenant.pk).exists()
    with pytest.raises(CommandError, match="gamma"):
        call_command("tenant_remove", "gamma", "--yes")
    with pytest.raises(CommandError, match="gamma"):
        call_command("tenant_export", "gamma", str(tmp_path / "x.zip"))


def test_a_reference_from_another_tenant_stops_the_removal_with_nothing_removed(
    two_full_tenants,
):
    """The database checks the keys before the removal ends: a row of B that points at a row
    of A (which isolation should have prevented) fails it, and all of A is still there."""
    a, b = two_full_tenants
    with scopes_disabled():
        case_a = a.tenant.case_set.first()
        contact_b = b.tenant.contact_set.first()
        contact_b.case = case_a
        contact_b.save(update_fields=["case"])
    before_a = rows_of(a.tenant)
    with pytest.raises(CommandError, match="nothing was removed"):
        call_command("tenant_remove", "alpha", "--yes")
    assert rows_of(a.tenant) == before_a
    assert not TenantRemoval.objects.exists()

"""The second tenant wall (rathaus.core.wall): row-level security on every tenant table.

Tests connect as the superuser, whom row-level security never holds. The probes therefore
switch, inside the test's transaction, to a plain role (`rathaus_rls_probe`) and read every
tenant table with raw SQL, past django-scopes, as a forgotten manager or a hand-written
report would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scope

from rathaus.appointments import services as appointment_services
from rathaus.appointments.models import BookingPolicy, DeviceKey, LocationClosure
from rathaus.contacts import services as contact_services
from rathaus.core import services as core_services
from rathaus.core.models import AccessAction, PersonalDataAccess, Tenant
from rathaus.core.tenancy import tenant_context
from rathaus.core.wall import ALL, NONE, POLICY, all_tenants, current, tenant_tables, tenant_wall
from tests.api.conftest import make_token
from tests.appointments.conftest import MONDAY, at, build_office

PROBE = "rathaus_rls_probe"


def needs_postgres(test):
    return pytest.mark.postgres_only(
        pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")(test)
    )


def _every_model():
    return apps.get_models(include_auto_created=True)


def test_every_model_tied_to_a_tenant_is_a_tenant_table():
    """Whatever links a model to a tenant, a column of its own or the rows it joins, the
    wall's list of tables has it (a tenant column by another name would be missed)."""
    tables = {table for table, _condition in tenant_tables(_every_model())}
    tenant_models = {m.__name__ for m in _every_model() if m._meta.db_table in tables}
    assert {"Case", "Event", "Membership", "Booking", "ApiToken", "BookingPolicy"} <= tenant_models
    for model in _every_model():
        if model is Tenant:
            continue
        to_tenant = [
            f.name
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is Tenant
        ]
        if to_tenant:
            assert to_tenant == ["tenant"], f"{model.__name__}: name the tenant column tenant"
            assert model._meta.db_table in tables, model.__name__
        links_tenant_rows = any(
            f.is_relation and f.related_model and f.related_model._meta.db_table in tables
            for f in model._meta.concrete_fields
        )
        if model._meta.auto_created and links_tenant_rows:
            assert model._meta.db_table in tables, model.__name__
    # The automatic many-to-many tables are held through the rows they join.
    assert "contacts_contact_services" in tables
    assert "appointments_counter_services" in tables


@pytest.mark.django_db
def test_on_sqlite_the_wall_is_django_scopes_alone(world_a):
    """No row-level security on SQLite: the wall sets nothing and opens no transaction."""
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    with tenant_context(world_a.tenant):
        assert current() is None


@needs_postgres
@pytest.mark.django_db
def test_every_tenant_table_has_its_policy_forced():
    expected = dict(tenant_tables(_every_model()))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policies p "
            "ON p.tablename = c.relname AND p.policyname = %s "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity",
            [POLICY],
        )
        protected = {name for (name,) in cursor.fetchall()}
    missing = sorted(set(expected) - protected)
    assert missing == [], (
        f"tenant tables without row-level security: {missing}; add a migration with "
        "`operations = [rathaus.core.wall.protect('<app>')]` after the one creating them"
    )


def _fill(world) -> None:
    """Rows in as many tenant tables as the services make easily: the organisation and
    catalogue of the world fixtures, an office with its slots, a contact handed over as a
    case, a callback, an API token."""
    make_token(world)
    now = timezone.now()
    tenant = world.tenant
    with scope(tenant=tenant):
        office = build_office(world)
        office.counters[0].services.add(office.passport)
        appointment_services.ticket_issue(
            location=office.location, services=[office.passport], now=at(MONDAY, 10)
        )
        DeviceKey.objects.create(tenant=tenant, location=office.location)
        LocationClosure.objects.create(tenant=tenant, location=office.location, date=MONDAY)
        BookingPolicy.objects.create(tenant=tenant)
        core_services.closing_day_add(tenant=tenant, date=dt.date(2030, 1, 2), name="Umzug")
        PersonalDataAccess.objects.create(
            tenant=tenant, subject_kind="case", subject_id="1", action=AccessAction.VIEWED
        )
        for outcome, handover in (
            ("callback", None),
            ("handed_over", {"service": world.service, "subject": "Ausweis"}),
        ):
            contact_services.contact_record(
                tenant=world.tenant,
                agent=world.users["kc_agent"],
                org_unit=world.units["kc"],
                channel="phone",
                started_at=now - dt.timedelta(minutes=5),
                ended_at=now,
                actor=world.users["kc_agent"],
                outcome=outcome,
                services=[world.service],
                callback_due=now + dt.timedelta(hours=2) if outcome == "callback" else None,
                citizen={"name": "Erika Gut", "phone": "0171 11"},
                handover=handover,
            )


def _as_probe() -> None:
    """Become a plain role for the rest of the test's transaction (rolled back after it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [PROBE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {PROBE} NOLOGIN NOSUPERUSER NOBYPASSRLS")
        cursor.execute(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {PROBE}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {PROBE}")
        cursor.execute(f"SET LOCAL ROLE {PROBE}")


def _counts(table: str) -> tuple[int, int]:
    """(all rows the probe sees, the ones of a tenant other than the wall's): for a link
    table the tenant is that of the row of its first side."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'tenant_id'",
            [table],
        )
        if cursor.fetchone():
            tenant = "t.tenant_id"
            source = f"{table} t"
        else:
            model = next(m for m in _every_model() if m._meta.db_table == table)
            side = next(f for f in model._meta.concrete_fields if f.is_relation and f.name != "id")
            # The parent is read past its own policy's reach by the superuser's count below;
            # here the join itself is under the probe's policies, as any query would be.
            source = (
                f"{table} t JOIN {side.related_model._meta.db_table} p ON p.id = t.{side.column}"
            )
            tenant = "p.tenant_id"
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {tenant}::text "  # noqa: S608 - names
            f"IS DISTINCT FROM current_setting('rathaus.tenant', true)) FROM {source}"
        )
        total, foreign = cursor.fetchone()
        return total, foreign


def _wall(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('rathaus.tenant', %s, true)", [value])


@needs_postgres
@pytest.mark.django_db
def test_raw_sql_as_a_plain_role_sees_only_the_walls_tenant(world_a, world_b):
    _fill(world_a)
    _fill(world_b)
    tables = [table for table, _condition in tenant_tables(_every_model())]
    _wall(ALL)  # what the superuser (and the probe with `all`) sees: both worlds' rows
    both = {}
    for table in tables:
        both[table] = {}
        for world in (world_a, world_b):
            _wall(str(world.tenant.pk))
            total, foreign = _counts(table)  # the superuser sees all rows
            both[table][world.tenant.pk] = total - foreign
    _as_probe()
    filled = 0
    for table in tables:
        seen = {}
        for world in (world_a, world_b):
            _wall(str(world.tenant.pk))
            total, foreign = _counts(table)
            assert foreign == 0, f"{table}: rows of another tenant under {world.tenant.slug}"
            seen[world.tenant.pk] = total
        _wall(NONE)
        assert _counts(table)[0] == 0, f"{table}: rows with no tenant set"
        _wall("")
        assert _counts(table)[0] == 0, f"{table}: rows with an empty setting"
        _wall(ALL)
        assert _counts(table)[0] == sum(seen.values()), table
        assert seen == both[table], table  # the probe sees what is there, no less
        filled += all(seen.values())
    # The check proves something only for tables that hold rows of both worlds.
    assert filled >= 30, f"only {filled} of {len(tables)} tenant tables hold rows of both"


@needs_postgres
@pytest.mark.django_db
def test_a_plain_role_cannot_write_a_row_into_another_tenant(world_a, world_b):
    _as_probe()
    _wall(str(world_a.tenant.pk))
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO core_closingday (tenant_id, date, name) VALUES (%s, %s, 'x')",
            [world_b.tenant.pk, dt.date(2030, 1, 2)],
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_closingday (tenant_id, date, name) VALUES (%s, %s, 'x')",
            [world_a.tenant.pk, dt.date(2030, 1, 2)],
        )
        cursor.execute("SELECT count(*) FROM core_closingday")
        assert cursor.fetchone()[0] == 1


@needs_postgres
@pytest.mark.django_db
def test_tenant_context_sets_the_wall_and_gives_back_what_was_there(world_a, world_b):
    with all_tenants():
        assert current() == ALL
        with tenant_context(world_a.tenant):
            assert current() == str(world_a.tenant.pk)
            with tenant_context(world_b.tenant):
                assert current() == str(world_b.tenant.pk)
            assert current() == str(world_a.tenant.pk)
        assert current() == ALL
    with tenant_wall(NONE):
        assert current() == NONE


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_wall_opens_one_that_keeps_what_was_done(world_a):
    """A task records its failed attempt, then raises for the queue: the record stays."""
    with pytest.raises(RuntimeError), tenant_context(world_a.tenant):
        assert connection.in_atomic_block
        assert current() == str(world_a.tenant.pk)
        core_services.closing_day_add(
            tenant=world_a.tenant, date=dt.date(2030, 1, 2), name="x", actor=None
        )
        raise RuntimeError("the mail server is down")
    assert not connection.in_atomic_block
    assert current() in ("", None)  # SET LOCAL ended with the transaction
    with scope(tenant=world_a.tenant):
        assert world_a.tenant.closingday_set.count() == 1

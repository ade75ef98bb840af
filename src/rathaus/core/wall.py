"""The second tenant wall: PostgreSQL row-level security behind django-scopes.

django-scopes refuses an unscoped ORM query; a raw SQL statement or a manager that forgot
the scope passes it. On PostgreSQL every tenant table therefore also carries a policy that
shows and accepts only rows of the tenant named in the transaction's setting
`rathaus.tenant` (`set_config(..., true)`, i.e. SET LOCAL): a number (that tenant), `none`
or nothing (no tenant rows at all) or `all` (code that legitimately spans tenants: the
worker's timers, management commands, the request's look-up of who belongs where).

- `tenant_wall(tenant)` sets it for a block, inside a transaction (opened if none is
  open: SET LOCAL lasts for the transaction only); `core.tenancy.tenant_context` and the
  request middleware use it, so the ORM scope and the database wall always agree.
- `all_tenants()` lifts the wall for a block, in plain sight at every call site.
- `protect(app_label)` is the migration operation that puts the policies on an app's
  tenant tables; every app with tenant models calls it in a migration, and
  tests/core/test_wall.py fails for a tenant table without its policy.

SQLite has no row-level security: django-scopes is its only wall (docs/decisions.md).
Superusers and roles with BYPASSRLS are not held either, so production connects as an
ordinary role (README).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

from django.db import DatabaseError, connection, migrations, transaction

SETTING = "rathaus.tenant"
ALL = "all"
NONE = "none"
POLICY = "rathaus_tenant"

# The tenant id of the setting, NULL for `none`, nothing or anything else; STABLE so the
# planner evaluates it once per query and can still use an index on tenant_id.
FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION rathaus_tenant_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('{SETTING}', true) ~ '^[0-9]{{1,18}}$'
                THEN current_setting('{SETTING}', true)::bigint END
$$;
CREATE OR REPLACE FUNCTION rathaus_all_tenants() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('{SETTING}', true) = '{ALL}', false)
$$;
"""


def _postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def tenant_wall(value: str) -> Iterator[None]:
    """Set `rathaus.tenant` to `value` (a tenant id, NONE or ALL) for the block.

    Inside a transaction the previous value comes back at the end (a job of a timer that
    runs under ALL, a citizen page that picks its tenant inside a request with none). With
    no transaction open, one is opened for the block, and it commits also when the block
    raises: before the wall each statement committed on its own, and callers rely on that
    (a mail task records the failed attempt and its retry, then raises for the queue).
    """
    if not _postgres():
        yield
        return
    if connection.in_atomic_block:
        # The CTE is read before set_config runs: the old value, then the new one.
        previous = _run(
            "WITH old AS MATERIALIZED (SELECT current_setting(%s, true) AS v) "
            "SELECT old.v, set_config(%s, %s, true) FROM old",
            [SETTING, SETTING, value],
        )
        try:
            yield
        finally:
            # A broken transaction is rolled back, and the setting with it.
            if not connection.needs_rollback:
                with suppress(DatabaseError):
                    _run("SELECT set_config(%s, %s, true)", [SETTING, previous or ""])
        return
    failure: BaseException | None = None
    with transaction.atomic():
        _run("SELECT set_config(%s, %s, true)", [SETTING, value])
        try:
            yield
        except DatabaseError as error:  # the transaction is unusable: roll it back
            transaction.set_rollback(True)
            failure = error
        except BaseException as error:  # noqa: BLE001 - re-raised below, after the commit
            failure = error
    if failure is not None:
        raise failure


def _run(sql: str, params: list[str]) -> str | None:
    """One statement of the wall, on the driver's cursor below Django's query log: a
    constant per block, not part of a page's own work, which the fixed-query tests count
    (decision 71). Errors still surface as Django's DatabaseError."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def all_tenants() -> AbstractContextManager[None]:
    """Lift the wall for the block: every tenant's rows. Only for code that spans tenants
    by its nature (the worker's timers, management commands, finding a person's or an API
    token's tenant); a request's own work always runs under its one tenant."""
    return tenant_wall(ALL)


def current() -> str | None:
    """The wall's setting now (tests and checks); None on SQLite."""
    if not _postgres():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SETTING])
        return cursor.fetchone()[0]


def tenant_tables(models: Any) -> list[tuple[str, str]]:
    """(table, USING expression) of every tenant table among `models`.

    A model with a `tenant` column is held by that column. An automatic many-to-many table
    (service ↔ location …) has no tenant of its own: a row is visible when every row it
    links is visible, an EXISTS on each side under that side's own policy, so a link can
    neither be read nor be made across municipalities.
    """
    from rathaus.core.models import Tenant

    def tenant_owned(model: Any) -> bool:
        field = next((f for f in model._meta.concrete_fields if f.name == "tenant"), None)
        return field is not None and field.related_model._meta.label == Tenant._meta.label

    rows = []
    for model in models:
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if tenant_owned(model):
            rows.append((meta.db_table, "rathaus_all_tenants() OR tenant_id = rathaus_tenant_id()"))
        elif meta.auto_created:
            sides = [
                f"EXISTS (SELECT 1 FROM {f.related_model._meta.db_table} p "  # noqa: S608 - names
                f"WHERE p.id = {meta.db_table}.{f.column})"
                for f in meta.concrete_fields
                if f.is_relation and tenant_owned(f.related_model)
            ]
            if sides:
                rows.append((meta.db_table, " AND ".join(sides)))
    return rows


def _models_of(apps: Any, app_label: str) -> list[Any]:
    return list(apps.get_app_config(app_label).get_models(include_auto_created=True))


def protect(app_label: str) -> migrations.RunPython:
    """The migration operation that (re)puts the policy on each tenant table of the app, as
    the app's models stand at that migration. Idempotent; call it again in the migration
    after one that adds a tenant table. Does nothing on SQLite."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(FUNCTION_SQL)
        for table, condition in tenant_tables(_models_of(apps, app_label)):
            # FORCE: the owner of the tables (the application's role) is held too.
            schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            schema_editor.execute(
                f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
            )

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, _condition in tenant_tables(_models_of(apps, app_label)):
            schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    return migrations.RunPython(forward, backward, elidable=False)

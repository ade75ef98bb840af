"""pytest plugin for running request tests as a plain database role (docs/decisions.md 71).

    PYTHONPATH=. DATABASE_URL=postgres://rathaus_rls_app@127.0.0.1:5432/rathaus_rls_app \\
        pytest -p tests.core.wall_fixtures_above tests/contacts/test_pages.py …

As a role that row-level security holds, the fixtures, which write several municipalities'
rows with django-scopes alone, would be refused. This plugin lets the test body itself
(fixtures and assertions) work above the wall (`rathaus.tenant` = `all` for the test's
transaction), while every request still runs under what the middleware sets: the tenant's id
or `none`. A request test that passes this way proves the middleware, the API and the
citizen pages set the wall for everything they read and write. Only for this run: the
ordinary suite connects as the superuser, whom no policy holds.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.backends.signals import connection_created


def _lift(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        )
        user, superuser = cursor.fetchone()
        assert not superuser, f"{user} is a superuser: the wall would not be tested"
        cursor.execute("SELECT set_config('rathaus.tenant', 'all', false)")


def _lift_new(sender, connection, **kwargs) -> None:
    _lift(connection)


@pytest.fixture(autouse=True)
def wall_lifted_for_the_test_body(request):
    # Also on the connections opened later: a transactional test's connection is closed
    # after each request, and threads of a test open their own.
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        _lift(connection)
        connection_created.connect(_lift_new, dispatch_uid="wall-lifted")
    yield
    connection_created.disconnect(dispatch_uid="wall-lifted")

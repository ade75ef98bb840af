"""Property-based run of the committed OpenAPI file against the app: no input gives a 500.

Schemathesis generates valid and invalid requests for every operation of docs/openapi.yaml
and sends them through Django's WSGI handler with a token holding every scope. Every other
example is pointed at objects that exist, so the actions on one case or contact are exercised
beyond "not found".
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_scopes import scope
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from rathaus.contacts import services as contact_services

from .conftest import make_token

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

schema = schemathesis.openapi.from_path(OPENAPI)
schema.app = get_wsgi_application()
_alternate = itertools.count()


@pytest.fixture
def keep_test_connection():
    """The raw WSGI handler closes the database connection after each request, which would
    end the test transaction; Django's own test client disconnects the same signals."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_world(world_a, world_b, keep_test_connection) -> dict[str, object]:
    # Two municipalities, so ids generated at random may well belong to the other one.
    make_token(world_b)
    _token, plain = make_token(world_a)
    with scope(tenant=world_a.tenant):
        case = contact_services.case_create(
            tenant=world_a.tenant,
            channel="web",
            actor=None,
            service=world_a.service,
            citizen={"email": "erika@example.org"},
        )
        contact = contact_services.contact_start(
            tenant=world_a.tenant, agent=None, org_unit=world_a.units["kc"], channel="phone"
        )
    return {
        "bearer": f"Bearer {plain}",
        "reference": case.reference,
        "id": {"contacts": contact.pk, "services": world_a.service.pk},
    }


def _point_at_real_objects(case, api_world) -> None:
    if next(_alternate) % 2 or not case.path_parameters:
        return
    if "reference" in case.path_parameters:
        case.path_parameters["reference"] = api_world["reference"]
    if "id" in case.path_parameters:
        kind = "contacts" if "/contacts/" in case.path else "services"
        case.path_parameters["id"] = api_world["id"][kind]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_causes_a_server_error(case, api_world):
    _point_at_real_objects(case, api_world)
    case.call_and_validate(
        headers={"Authorization": api_world["bearer"]}, checks=[not_a_server_error]
    )

"""Contacts over the API: one call records a finished contact; bad input is a clear 400."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from rathaus.contacts.models import Case, Contact
from rathaus.core.models import Event

from .conftest import make_token

CONTACTS = "/api/v1/contacts/"


def contact(**overrides):
    data = {
        "channel": "phone",
        "started_at": "2025-03-03T09:00:00",
        "ended_at": "2025-03-03T09:04:30",
        "outcome": "answered",
        "summary": "Auskunft Personalausweis",
    }
    data.update(overrides)
    return data


def test_a_finished_contact_is_recorded_for_the_tokens_unit(world_a, api_a):
    response = api_a.post(CONTACTS, contact(services=[world_a.service.pk]))
    assert response.status_code == 201, response.json()
    body = response.json()
    # Times without offset are the municipality's local time.
    assert body["started_at"] == "2025-03-03T09:00:00+01:00"
    assert body["handling_seconds"] == 270
    assert body["services"] == [world_a.service.pk]
    assert body["org_unit"]["code"] == "kc" and body["case"] is None
    with scope(tenant=world_a.tenant):
        stored = Contact.objects.get(pk=body["id"])
        assert stored.agent is None and stored.tenant == world_a.tenant
        activities = list(
            Event.objects.filter(subject_kind="contact", subject_id=str(stored.pk)).values_list(
                "activity", flat=True
            )
        )
    assert activities == ["contact_started", "contact_finished"]


def test_a_handover_creates_a_case_with_the_citizens_data(world_a, api_a):
    response = api_a.post(
        CONTACTS,
        contact(
            outcome="handed_over",
            citizen={"name": "Erika Muster", "email": "Erika@Example.org"},
            handover={"service": world_a.service.pk, "subject": "Ausweis verloren", "priority": 3},
        ),
    )
    assert response.status_code == 201, response.json()
    reference = response.json()["case"]
    assert response.json()["citizen"]["email"] == "erika@example.org"
    with scope(tenant=world_a.tenant):
        case = Case.objects.get(reference=reference)
    assert case.org_unit == world_a.units["team"] and case.priority == 3
    assert case.subject == "Ausweis verloren" and case.citizen_name == "Erika Muster"


def test_validation_errors_name_the_fields_and_store_nothing(world_a, world_b, api_a):
    cases = {
        "ended_at": contact(ended_at="2025-03-03T08:00:00"),
        "channel": contact(channel="fax"),
        "started_at": contact(started_at="gestern"),
        "outcome": contact(outcome=["answered"]),
        "services": contact(services=[world_b.service.pk]),
        "handover": contact(outcome="handed_over"),
        "callback_due": contact(outcome="callback"),
        "summary": contact(summary=12 * 1000 * "x"),
        "citizen": contact(citizen="Erika"),
    }
    for field, data in cases.items():
        response = api_a.post(CONTACTS, data)
        assert response.status_code == 400, (field, response.json())
        assert field in response.json(), (field, response.json())
    foreign_unit = api_a.post(
        CONTACTS, contact(outcome="handed_over", handover={"org_unit": world_b.units["kc"].pk})
    )
    assert foreign_unit.json() == {"handover": {"org_unit": ["Unknown unit."]}}
    empty_handover = api_a.post(CONTACTS, contact(outcome="handed_over", handover={}))
    assert "org_unit" in empty_handover.json()["handover"]
    future = api_a.post(
        CONTACTS, contact(started_at="2999-01-01T00:00", ended_at="2999-01-01T01:00")
    )
    assert future.json()["started_at"] == ["The time lies in the future."]
    ancient = api_a.post(CONTACTS, contact(started_at="0001-01-01T00:00:00+05:00"))
    assert ancient.status_code == 400 and "started_at" in ancient.json()
    huge = api_a.post(CONTACTS, contact(services=[10**30]))
    assert huge.status_code == 400 and "services" in huge.json()
    for raw in ("[1, 2]", '"text"', "null", "{", "1e999999"):
        response = api_a.post(CONTACTS, raw=raw)
        assert response.status_code == 400, raw
    assert api_a.post(CONTACTS, raw="[]").json() == {"non_field_errors": ["Send a JSON object."]}
    with scope(tenant=world_a.tenant):
        assert not Contact.objects.exists() and not Case.objects.exists()


def test_contacts_list_detail_filters_and_isolation(world_a, world_b, api_a, api_b):
    for channel, started in (("phone", "2025-03-03T09:00"), ("email", "2025-03-04T09:00")):
        assert (
            api_a.post(
                CONTACTS, contact(channel=channel, started_at=started, ended_at=started)
            ).status_code
            == 201
        )
    b_id = api_b.post(CONTACTS, contact()).json()["id"]
    listed = api_a.get(CONTACTS).json()
    assert listed["count"] == 2
    assert [row["channel"] for row in listed["results"]] == ["email", "phone"]  # newest first
    assert b_id not in {row["id"] for row in listed["results"]}
    assert api_a.get(CONTACTS, {"channel": "phone"}).json()["count"] == 1
    assert api_a.get(CONTACTS, {"started_after": "2025-03-04T00:00"}).json()["count"] == 1
    assert api_a.get(CONTACTS, {"started_before": "2025-03-04T00:00"}).json()["count"] == 1
    assert api_a.get(CONTACTS, {"channel": "fax"}).status_code == 400
    own = listed["results"][0]["id"]
    assert api_a.get(f"{CONTACTS}{own}/").json()["channel"] == "email"
    assert api_a.get(f"{CONTACTS}{b_id}/").status_code == 404
    assert api_b.get(f"{CONTACTS}{own}/").status_code == 404


def test_reading_contacts_needs_the_read_scope(world_a):
    from .conftest import Api

    _token, plain = make_token(world_a, ["contacts:write"])
    api = Api(plain)
    assert api.post(CONTACTS, contact()).status_code == 201
    assert api.get(CONTACTS).status_code == 403


def test_phone_numbers_must_fit_the_stored_search_key(world_a, api_a):
    too_long = contact(citizen={"phone": "0" * 49})
    assert set(api_a.post(CONTACTS, too_long).json()["citizen"]) == {"phone"}
    letters = contact(citizen={"phone": "ruf mich an"})
    assert set(api_a.post(CONTACTS, letters).json()["citizen"]) == {"phone"}
    ok = contact(citizen={"phone": "+49 (221) 123-456 / 7"})
    assert api_a.post(CONTACTS, ok).status_code == 201


def test_the_contact_list_needs_a_fixed_number_of_queries(world_a, api_a):
    handover = {"service": world_a.service.pk}
    for _ in range(3):
        api_a.post(
            CONTACTS,
            contact(outcome="handed_over", handover=handover, services=[world_a.service.pk]),
        )
    with CaptureQueriesContext(connection) as few:
        api_a.get(CONTACTS)
    for _ in range(20):
        api_a.post(CONTACTS, contact(services=[world_a.service.pk]))
    with CaptureQueriesContext(connection) as many:
        assert api_a.get(CONTACTS).json()["count"] == 23
    # Token, count, page (and the services of the page's contacts), the access log entry:
    # whatever the page size.
    assert len(many.captured_queries) == len(few.captured_queries) <= 5

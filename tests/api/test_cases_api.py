"""Cases over the API: create, list with filters, status, forward, reply; tenant isolation."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from rathaus.contacts.models import Case, CaseStatus
from rathaus.core.models import Event

CASES = "/api/v1/cases/"


def new_case(api, world, **overrides):
    data = {"service": world.service.pk, "channel": "web", "subject": "Ausweis verloren"}
    data.update(overrides)
    response = api.post(CASES, data)
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_a_case_for_a_service_or_a_unit(world_a, api_a):
    body = new_case(api_a, world_a, citizen={"email": "erika@example.org"})
    assert body["org_unit"]["code"] == "bb-mitte" and body["status"] == "new"
    assert body["reference"].count("-") == 1 and body["overdue"] is False
    to_unit = new_case(api_a, world_a, service=None, org_unit=world_a.units["office"].pk)
    assert to_unit["org_unit"]["code"] == "buergeramt" and to_unit["service"] is None
    with scope(tenant=world_a.tenant):
        assert Event.objects.filter(activity="case_created").count() == 2


def test_create_errors_name_the_fields(world_a, world_b, api_a):
    for data, field in (
        ({"channel": "web"}, "org_unit"),
        ({"channel": "web", "service": world_b.service.pk}, "service"),
        ({"channel": "web", "org_unit": world_b.units["kc"].pk}, "org_unit"),
        ({"channel": "web", "org_unit": "zwei"}, "org_unit"),
        ({"service": world_a.service.pk}, "channel"),
        ({"channel": "web", "service": world_a.service.pk, "priority": 9}, "priority"),
        ({"channel": "web", "service": world_a.service.pk, "subject": "x" * 300}, "subject"),
        (
            {"channel": "web", "service": world_a.service.pk, "citizen": {"email": "kein"}},
            "citizen",
        ),
    ):
        response = api_a.post(CASES, data)
        assert response.status_code == 400, (data, response.json())
        assert field in response.json(), (data, response.json())
    with scope(tenant=world_a.tenant):
        assert not Case.objects.exists()


def test_list_filters_ordering_and_isolation(world_a, world_b, api_a, api_b):
    with time_machine.travel(dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC), tick=False):
        old = new_case(api_a, world_a, channel="phone")
    late_closed = new_case(api_a, world_a)
    for status in ("in_progress", "closed"):
        api_a.post(f"{CASES}{late_closed['reference']}/status/", {"status": status})
    fresh = new_case(api_a, world_a, service=None, org_unit=world_a.units["office"].pk)
    new_case(api_b, world_b, subject="Fall in Beta")

    def refs(params=None):
        return [row["reference"] for row in api_a.get(CASES, params).json()["results"]]

    everything = refs()
    assert len(everything) == 3 and everything[0] == old["reference"]  # deadline first
    subjects = {row["subject"] for row in api_a.get(CASES).json()["results"]}
    assert "Fall in Beta" not in subjects
    assert refs({"ordering": "-deadline"})[0] != old["reference"]
    assert refs({"status": "closed"}) == [late_closed["reference"]]
    assert set(refs({"status": "open"})) == {old["reference"], fresh["reference"]}
    assert refs({"overdue": "true"}) == [old["reference"]]
    assert old["reference"] not in refs({"overdue": "false"})
    assert refs({"org_unit": world_a.units["office"].pk}) == [fresh["reference"]]
    assert refs({"service": world_a.service.pk, "channel": "phone"}) == [old["reference"]]
    bad = api_a.get(CASES, {"status": "lost", "ordering": "subject", "overdue": "maybe"})
    assert bad.status_code == 400 and set(bad.json()) == {"status", "ordering", "overdue"}
    assert api_a.get(CASES, {"page_size": 1}).json()["count"] == 3
    # References count per municipality: B's list holds only B's case.
    assert [row["subject"] for row in api_b.get(CASES).json()["results"]] == ["Fall in Beta"]


def test_status_change_and_invalid_transitions(world_a, api_a):
    ref = new_case(api_a, world_a)["reference"]
    url = f"{CASES}{ref}/status/"
    assert api_a.post(url, {"status": "in_progress"}).json()["status"] == "in_progress"
    waiting = api_a.post(url, {"status": "waiting"}).json()
    assert waiting["status"] == "waiting" and waiting["paused_at"] is not None
    bad = api_a.post(url, {"status": "new"})
    assert bad.status_code == 400
    assert bad.json()["non_field_errors"][0].startswith("A case cannot go from")
    assert "status" in api_a.post(url, {"status": "verloren"}).json()
    assert api_a.post(url, {}).status_code == 400


def test_forward_and_reply(world_a, world_b, api_a, django_capture_on_commit_callbacks):
    ref = new_case(api_a, world_a, citizen={"email": "erika@example.org"})["reference"]
    forwarded = api_a.post(
        f"{CASES}{ref}/forward/", {"org_unit": world_a.units["office"].pk, "reason": "Zuständig"}
    )
    assert forwarded.status_code == 200 and forwarded.json()["org_unit"]["code"] == "buergeramt"
    assert "Zuständig" in forwarded.json()["messages"][0]["body"]
    again = api_a.post(
        f"{CASES}{ref}/forward/", {"org_unit": world_a.units["office"].pk, "reason": "nochmal"}
    )
    assert again.json() == {"org_unit": ["The case is already with this unit."]}
    foreign = api_a.post(
        f"{CASES}{ref}/forward/", {"org_unit": world_b.units["kc"].pk, "reason": "x"}
    )
    assert foreign.json() == {"org_unit": ["Unknown unit."]}
    assert "reason" in api_a.post(f"{CASES}{ref}/forward/", {"org_unit": 1}).json()

    with django_capture_on_commit_callbacks(execute=True):
        with_question = api_a.post(
            f"{CASES}{ref}/reply/", {"body": "Welche Adresse?", "answered": False}
        )
    assert with_question.json()["messages"][-1]["delivery"] == "queued"
    assert api_a.get(f"{CASES}{ref}/").json()["status"] == CaseStatus.WAITING  # once sent
    with django_capture_on_commit_callbacks(execute=True):
        reply = api_a.post(f"{CASES}{ref}/reply/", {"body": "Ihr Ausweis liegt bereit."})
    assert reply.status_code == 200
    shown = api_a.get(f"{CASES}{ref}/").json()
    assert shown["status"] == CaseStatus.ANSWERED
    assert [m["kind"] for m in shown["messages"]] == ["note", "email_out", "email_out"]
    assert [m["delivery"] for m in shown["messages"]] == ["", "sent", "sent"]
    assert "body" in api_a.post(f"{CASES}{ref}/reply/", {"body": ""}).json()
    no_address = new_case(api_a, world_a)["reference"]
    response = api_a.post(f"{CASES}{no_address}/reply/", {"body": "Hallo"})
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_reply_mail_leaves_after_commit(world_a, api_a, django_capture_on_commit_callbacks):
    ref = new_case(api_a, world_a, citizen={"email": "erika@example.org"})["reference"]
    with django_capture_on_commit_callbacks(execute=True):
        api_a.post(f"{CASES}{ref}/reply/", {"body": "Ihr Ausweis liegt bereit."})
    assert [m.to for m in mail.outbox] == [["erika@example.org"]]
    assert mail.outbox[0].subject.startswith(f"[{ref}]")


def test_a_reply_without_a_mail_server_is_kept_and_tells_its_delivery(
    world_a, api_a, settings, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as probe:  # a port nobody listens on: the mail server is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    ref = new_case(api_a, world_a, citizen={"email": "erika@example.org"})["reference"]
    with django_capture_on_commit_callbacks(execute=True):
        answered = api_a.post(f"{CASES}{ref}/reply/", {"body": "Ihr Ausweis liegt bereit."})
    assert answered.status_code == 200
    assert answered.json()["messages"][-1]["delivery"] == "queued"
    shown = api_a.get(f"{CASES}{ref}/").json()
    # The immediate queue of the tests gives up at once; the worker would retry for hours.
    assert shown["messages"][-1]["delivery"] == "failed" and shown["status"] == "new"


def test_other_tenants_cases_are_not_found_for_any_action(world_a, world_b, api_a, api_b):
    with time_machine.travel(dt.datetime(2024, 6, 3, 10, tzinfo=dt.UTC), tick=False):
        ref = new_case(api_b, world_b, citizen={"email": "b@example.org"})["reference"]
    new_case(api_a, world_a)  # A has cases too, but none of 2024
    assert api_a.get(f"{CASES}{ref}/").status_code == 404
    assert api_a.post(f"{CASES}{ref}/status/", {"status": "in_progress"}).status_code == 404
    forward = {"org_unit": world_a.units["office"].pk, "reason": "x"}
    assert api_a.post(f"{CASES}{ref}/forward/", forward).status_code == 404
    assert api_a.post(f"{CASES}{ref}/reply/", {"body": "x"}).status_code == 404
    assert api_a.get(f"{CASES}no%00such/").status_code == 404
    with scope(tenant=world_b.tenant):
        b_case = Case.objects.get(reference=ref)
        assert b_case.status == CaseStatus.NEW and not b_case.messages.exists()
    assert mail.outbox == []
    assert api_b.get(f"{CASES}{ref}/").status_code == 200


def test_the_case_list_needs_a_fixed_number_of_queries(world_a, api_a):
    for _ in range(3):
        new_case(api_a, world_a)
    with CaptureQueriesContext(connection) as few:
        api_a.get(CASES)
    for _ in range(20):
        new_case(api_a, world_a, service=None, org_unit=world_a.units["office"].pk)
    with CaptureQueriesContext(connection) as many:
        assert api_a.get(CASES).json()["count"] == 23
    # Token, count, page (and the services of the page's contacts), the access log entry:
    # whatever the page size.
    assert len(many.captured_queries) == len(few.captured_queries) <= 5

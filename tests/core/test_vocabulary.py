"""The event log's vocabulary: every activity is declared once with its subject, its label and
its payload keys; services append through it, so a wrong subject or an undeclared payload key
fails at once, and nothing but `core.events` builds an event row."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation
from django_scopes import scope

from rathaus.contacts import events as contact_events
from rathaus.contacts.models import Case, CaseStatus
from rathaus.core import events
from rathaus.core.events import ACTIVITIES, VocabularyError, activity_label, event_build
from rathaus.core.models import Event

SRC = Path(__file__).resolve().parents[2] / "src" / "rathaus"


def test_labels_are_in_the_staffs_language_and_an_unknown_name_keeps_itself():
    with translation.override("de"):
        assert activity_label("booking_mail_failed") == "E-Mail konnte nicht zugestellt werden"
        assert activity_label("tenant_created") == "Kommune angelegt"
        assert activity_label("no_such_activity") == "no_such_activity"
    with translation.override("en"):
        assert activity_label("booking_held") == "Reserved, waiting for confirmation"


def test_every_declared_activity_has_a_german_label():
    with translation.override("de"):
        german = {name: str(a.label) for name, a in ACTIVITIES.items()}
    with translation.override("en"):
        untranslated = [name for name, a in ACTIVITIES.items() if str(a.label) == german[name]]
    assert untranslated == []
    assert len(ACTIVITIES) > 80  # core, catalogue, API, KC and citizen offices all declare


def test_an_activity_name_is_declared_once():
    with pytest.raises(VocabularyError):
        events.activity("case_created", contact_events.CASE, "again")
    assert ACTIVITIES["case_created"] is contact_events.CASE_CREATED


def test_a_case_is_logged_by_its_reference_and_other_subjects_by_their_key(world_a):
    case = Case(tenant=world_a.tenant, reference="2026-004711", pk=12)
    event = event_build(tenant=world_a.tenant, activity=contact_events.CASE_ESCALATED, subject=case)
    assert (event.subject_kind, event.subject_id) == ("case", "2026-004711")
    unit = world_a.units["kc"]
    event = event_build(tenant=world_a.tenant, activity=events.ORG_UNIT_CREATED, subject=unit)
    assert (event.subject_kind, event.subject_id) == ("org_unit", str(unit.pk))


def test_a_wrong_subject_or_an_undeclared_payload_key_is_refused(world_a):
    case = Case(tenant=world_a.tenant, reference="2026-004711")
    with pytest.raises(VocabularyError, match="about a OrgUnit"):
        event_build(
            tenant=world_a.tenant,
            activity=contact_events.CASE_ESCALATED,
            subject=world_a.units["kc"],
        )
    with pytest.raises(VocabularyError, match="carries no name"):
        event_build(
            tenant=world_a.tenant,
            activity=contact_events.CASE_ESCALATED,
            subject=case,
            payload={"deadline": "2026-12-24", "name": "Erika Muster"},
        )
    status = contact_events.CASE_STATUS_SET[CaseStatus.ANSWERED]
    assert status.payload >= {"from", "to"}


def test_what_the_services_wrote_is_all_declared(world_a):
    with scope(tenant=world_a.tenant):
        logged = set(Event.objects.values_list("activity", flat=True))
    assert logged and logged <= set(ACTIVITIES)


def test_only_core_events_builds_event_rows():
    """The demo's bulk writer and every service go through `event_build`, so they cannot
    drift from the vocabulary."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or path == SRC / "core" / "events.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in {
                "Event",
                "Event.objects.create",
            }:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []

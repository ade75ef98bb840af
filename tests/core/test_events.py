import ast
from pathlib import Path

import pytest
from django.db import transaction
from django_scopes import scope

from rathaus.core.events import ORG_UNIT_CREATED, TENANT_CREATED, event_append
from rathaus.core.models import AppendOnlyError, Event

SRC = Path(__file__).resolve().parents[2] / "src" / "rathaus"


def test_event_is_appended_with_its_fields(world_a):
    with scope(tenant=world_a.tenant):
        unit = world_a.units["kc"]
        event = event_append(
            tenant=world_a.tenant, activity=ORG_UNIT_CREATED, subject=unit,
            actor=world_a.users["kc_agent"], org_unit=unit, channel="phone",
        )  # fmt: skip
        stored = Event.objects.get(pk=event.pk)
    assert (stored.subject_kind, stored.subject_id, stored.activity, stored.channel) == (
        "org_unit",
        str(unit.pk),
        "org_unit_created",
        "phone",
    )
    assert stored.actor == world_a.users["kc_agent"]
    assert stored.org_unit == unit


def test_events_cannot_be_changed_or_removed(world_a):
    with scope(tenant=world_a.tenant):
        event = Event.objects.first()
        event.activity = "tampered"
        with pytest.raises(AppendOnlyError):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            Event.objects.all().update(activity="tampered")
        with pytest.raises(AppendOnlyError):
            Event.objects.filter(pk=event.pk).delete()
        with pytest.raises(AppendOnlyError):
            Event.objects.bulk_update([event], ["activity"])
        assert not Event.objects.filter(activity="tampered").exists()


def test_event_rolls_back_with_the_calling_transaction(world_a):
    with scope(tenant=world_a.tenant):
        before = Event.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            event_append(tenant=world_a.tenant, activity=TENANT_CREATED, subject=world_a.tenant)
            raise RuntimeError
        assert Event.objects.count() == before


def test_no_code_path_updates_or_deletes_events():
    """Besides the model's own guards, no module calls update/delete on the Event manager."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                chain = ast.unparse(node.func)
                if chain.startswith("Event.") and node.func.attr in {
                    "update",
                    "delete",
                    "bulk_update",
                    "raw",
                }:
                    offenders.append(f"{path}:{node.lineno} {chain}")
    assert offenders == []


def test_every_domain_write_leaves_an_event(world_a):
    with scope(tenant=world_a.tenant):
        kinds = set(Event.objects.values_list("subject_kind", flat=True))
    assert {"tenant", "org_unit", "membership", "service", "article"} <= kinds

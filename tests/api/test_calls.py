"""Call records from the API and from a CSV export: all or nothing, errors with line numbers."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_scopes import scope

from rathaus.contacts.models import CallRecord
from rathaus.contacts.services.calls import call_records_import
from rathaus.core.models import Event

from .conftest import Api, make_token

CALLS = "/api/v1/calls/"
UTC = dt.UTC


def record(call_id: str, **overrides):
    data = {
        "call_id": call_id,
        "arrived_at": "2025-03-03T09:00:00+01:00",
        "answered_at": "2025-03-03T09:00:20+01:00",
        "ended_at": "2025-03-03T09:05:00+01:00",
        "queue": "115",
        "agent": "A17",
    }
    data.update(overrides)
    return data


def stored(world) -> list[str]:
    with scope(tenant=world.tenant):
        return sorted(CallRecord.objects.values_list("external_id", flat=True))


def test_one_record_or_a_list(world_a, api_a):
    one = api_a.post(CALLS, record("c1"))
    assert one.status_code == 201 and one.json() == {"imported": 1}
    many = api_a.post(
        CALLS, [record(f"c{n}", answered_at=None, abandoned=True) for n in range(2, 102)]
    )
    assert many.json() == {"imported": 100}
    assert len(stored(world_a)) == 101
    with scope(tenant=world_a.tenant):
        first = CallRecord.objects.get(external_id="c1")
        assert first.wait_seconds == 20 and first.queue == "115" and first.agent_ref == "A17"
        events = list(Event.objects.filter(activity="call_records_imported"))
    assert [e.payload["count"] for e in events] == [1, 100]
    assert events[0].org_unit == world_a.units["kc"] and events[0].payload["source"] == "api"


def test_a_bad_record_in_a_list_stores_none_of_them(world_a, api_a):
    response = api_a.post(
        CALLS,
        [
            record("ok-1"),
            record("bad-end", ended_at="2025-03-03T08:00:00+01:00"),
            record("bad-type", arrived_at="gestern"),
        ],
    )
    assert response.status_code == 400
    errors = response.json()
    assert "ended_at" in errors["1"] and "arrived_at" in errors["2"]
    assert stored(world_a) == []


def test_duplicates_in_the_request_or_already_stored_are_errors(world_a, api_a):
    api_a.post(CALLS, record("c1"))
    response = api_a.post(CALLS, [record("c2"), record("c1"), record("c2")])
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "record 2: The call id “c1” is already stored.",
            "record 3: The call id “c2” appears twice (first in record 1).",
        ]
    }
    assert stored(world_a) == ["c1"]


def test_the_same_call_id_in_another_municipality_is_no_duplicate(world_a, world_b, api_a, api_b):
    assert api_a.post(CALLS, record("c1")).status_code == 201
    assert api_b.post(CALLS, record("c1")).status_code == 201
    assert stored(world_a) == stored(world_b) == ["c1"]


def test_request_shape_and_size_limits(world_a, api_a):
    assert api_a.post(CALLS, raw='"c1"').json() == {
        "non_field_errors": ["Send a call record or a list of call records."]
    }
    assert api_a.post(CALLS, []).status_code == 400
    too_many = api_a.post(CALLS, [record(f"c{n}") for n in range(1001)])
    assert too_many.status_code == 400
    contradictory = api_a.post(CALLS, record("c1", abandoned=True))
    assert contradictory.json() == {"abandoned": ["An abandoned call cannot have been answered."]}
    outside = api_a.post(CALLS, record("c1", answered_at="2025-03-03T10:00:00+01:00"))
    assert "answered_at" in outside.json()
    assert "call_id" in api_a.post(CALLS, record("x" * 65)).json()
    assert stored(world_a) == []


def test_delivering_calls_needs_the_calls_scope(world_a):
    _token, plain = make_token(world_a, ["cases:read"])
    assert Api(plain).post(CALLS, record("c1")).status_code == 403


# --- CSV --------------------------------------------------------------------------------------

GOOD_CSV = """call_id;arrived;answered;ended;abandoned;queue;agent
c1;03.03.2025 09:00:00;03.03.2025 09:00:25;03.03.2025 09:04:00;0;115;A17
c2;2025-03-03T09:01:00;;2025-03-03T09:01:40;ja;115;
c3;2025-03-03T08:02:00Z;2025-03-03T08:02:10Z;2025-03-03T08:03:00Z;false;Bürgerbüro;B2
"""


def run_import(tmp_path: Path, text: str, encoding: str = "utf-8", tenant: str = "alpha"):
    path = tmp_path / "calls.csv"
    path.write_bytes(text.encode(encoding))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_calls", f"--tenant={tenant}", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_import_reads_german_and_iso_times_in_the_tenants_zone(world_a, tmp_path):
    out, _err = run_import(tmp_path, GOOD_CSV)
    assert "3 call records imported" in out
    with scope(tenant=world_a.tenant):
        rows = {r.external_id: r for r in CallRecord.objects.all()}
        event = Event.objects.get(activity="call_records_imported")
    # 09:00 in Berlin in March is 08:00 UTC.
    assert rows["c1"].arrived_at == dt.datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    assert rows["c1"].wait_seconds == 25 and not rows["c1"].abandoned
    assert rows["c2"].abandoned and rows["c2"].answered_at is None and rows["c2"].agent_ref == ""
    assert rows["c3"].arrived_at == dt.datetime(2025, 3, 3, 8, 2, tzinfo=UTC)
    assert rows["c3"].queue == "Bürgerbüro"
    assert event.payload["count"] == 3 and event.payload["source"] == "csv"


def test_csv_with_commas_a_bom_and_windows_encoding(world_a, tmp_path):
    text = "\ufeffcall_id,arrived,ended,abandoned\nw1,03.03.2025 09:00,03.03.2025 09:01,nein\n"
    run_import(tmp_path, text)
    latin = "call_id;arrived;ended;queue\nw2;03.03.2025 09:00;03.03.2025 09:01;Bürgerbüro\n"
    run_import(tmp_path, latin, encoding="cp1252")
    with scope(tenant=world_a.tenant):
        assert CallRecord.objects.get(external_id="w2").queue == "Bürgerbüro"
    assert stored(world_a) == ["w1", "w2"]


def test_csv_errors_are_listed_with_line_numbers_and_nothing_is_imported(world_a, tmp_path):
    run_import(tmp_path, "call_id;arrived;ended\nold;2025-03-01T10:00;2025-03-01T10:01\n")
    bad = """call_id;arrived;answered;ended;abandoned;queue;agent
c1;03.03.2025 09:00:00;;03.03.2025 09:04:00;0;115;A17
c2;31.02.2025 09:00:00;;03.03.2025 09:04:00;0;115;A17
c3;03.03.2025 09:00:00;;03.03.2025 08:00:00;0;115;A17

c1;03.03.2025 09:00:00;;03.03.2025 09:04:00;vielleicht;115;A17
old;03.03.2025 09:00:00;;03.03.2025 09:04:00;0;115;A17
;03.03.2025 09:00:00;;;0;115;A17
c9;03.03.2025 09:00:00;;03.03.2025 09:04:00;0;115;A17;extra
"""
    with pytest.raises(CommandError) as failed:
        run_import(tmp_path, bad)
    assert "Nothing was imported" in str(failed.value)
    with scope(tenant=world_a.tenant), pytest.raises(ValidationError) as error:
        call_records_import(tenant=world_a.tenant, actor=None, file=io.StringIO(bad))
    messages = error.value.messages
    assert messages[0].startswith("line 3: “31.02.2025 09:00:00” in “arrived” is no valid time")
    assert "line 4: The call ends before it arrived." in messages
    assert any(m.startswith("line 6: “vielleicht” in “abandoned”") for m in messages)
    assert "line 7: The call id “old” is already stored." in messages
    assert "line 8: The call id is missing." in messages
    assert "line 8: “ended” is empty." in messages
    assert "line 9: 8 values, but the header has 7 columns." in messages
    assert stored(world_a) == ["old"]


def test_a_duplicate_within_the_file_names_both_lines(world_a, tmp_path):
    text = "call_id;arrived;ended\nc1;2025-03-01T10:00;2025-03-01T10:01\nc1;2025-03-01T10:00;2025-03-01T10:01\n"
    with scope(tenant=world_a.tenant), pytest.raises(ValidationError) as error:
        call_records_import(tenant=world_a.tenant, actor=None, file=io.StringIO(text))
    assert error.value.messages == ["line 3: The call id “c1” appears twice (first in line 2)."]


def test_only_the_first_50_errors_are_listed(world_a):
    text = "call_id;arrived;ended\n" + "".join(f"c{n};kaputt;kaputt\n" for n in range(60))
    with scope(tenant=world_a.tenant), pytest.raises(ValidationError) as error:
        call_records_import(tenant=world_a.tenant, actor=None, file=io.StringIO(text))
    assert len(error.value.messages) == 51
    assert error.value.messages[-1] == "… and 70 more errors."


def test_malformed_files(world_a):
    for text, expected in (
        ("", "line 1: The file is empty."),
        ("id;start;end\n1;2;3\n", "line 1: The columns call_id, arrived, ended are missing"),
        ("call_id;arrived;ended\nc\x001;x;y\n", "line 2: The file contains NUL characters"),
        ("call_id;arrived;ended\n", "There are no call records to import."),
    ):
        with scope(tenant=world_a.tenant), pytest.raises(ValidationError) as error:
            call_records_import(tenant=world_a.tenant, actor=None, file=io.StringIO(text))
        assert error.value.messages[0].startswith(expected), error.value.messages


def test_the_command_fails_with_exit_code_1_and_the_errors_on_stderr(world_a, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("call_id;arrived;ended\nc1;gestern;heute\n")
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_calls", "--tenant=alpha", str(path), stderr=err)
    assert failed.value.returncode == 1  # what `rathaus import_calls` exits with
    assert "line 2: “gestern” in “arrived” is no valid time" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("import_calls", "--tenant=alpha", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError):
        call_command("import_calls", "--tenant=nowhere", str(path))

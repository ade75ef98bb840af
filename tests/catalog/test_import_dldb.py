"""The DLDB/ZMS importer: mapping, idempotence, malformed files, isolation and the command."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from django_scopes import scope, scopes_disabled

from rathaus.catalog.importers.dldb.read import ImportFileError
from rathaus.catalog.importers.dldb.write import import_dldb
from rathaus.catalog.models import CatalogRevision, Location, Service, ServiceStatus
from rathaus.catalog.services import service_create, service_set_status, service_update
from rathaus.core.models import Event, Tenant
from rathaus.core.services import tenant_create
from rathaus.core.text import html_to_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICES = FIXTURES / "dldb_services_small.json"
LOCATIONS = FIXTURES / "dldb_locations_small.json"
# The real exports live in ../shared next to the repository (/work/main -> /work/shared); the
# second candidate covers a checkout one level deeper (e.g. a worktree under /work/trees/x).
_HERE = Path(__file__).resolve()
REAL_DATA = next(
    (
        base / "shared/data/service_catalog"
        for base in (_HERE.parents[3], _HERE.parents[3].parent)
        if (base / "shared/data/service_catalog").is_dir()
    ),
    _HERE.parents[3] / "shared/data/service_catalog",
)
MUNICH_SERVICES = REAL_DATA / "munich_services_de.json"
MUNICH_LOCATIONS = REAL_DATA / "munich_locations_de.json"

needs_munich = pytest.mark.skipif(
    not (MUNICH_SERVICES.is_file() and MUNICH_LOCATIONS.is_file()),
    reason="real Munich DLDB export not available (../shared/data/service_catalog)",
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def tenant(db: None) -> Tenant:
    return tenant_create(name="Teststadt", slug="teststadt", ags="05999001", state="NW")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return tenant_create(name="Nachbarstadt", slug="nachbarstadt", ags="05999002", state="NW")


def event_count() -> int:
    with scopes_disabled():
        return Event.objects.count()


def service_count() -> int:
    with scopes_disabled():
        return Service.objects.count()


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


# --- the real Munich export -------------------------------------------------------------------


@needs_munich
@pytest.mark.django_db
def test_munich_export_imports_all_services_and_locations(tenant: Tenant) -> None:
    report = import_dldb(
        tenant=tenant, services_path=MUNICH_SERVICES, locations_path=MUNICH_LOCATIONS
    )

    assert report.services.counts == {
        "total": 287,
        "created": 287,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    assert report.locations.counts == {
        "total": 109,
        "created": 109,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    with scope(tenant=tenant):
        assert Service.objects.filter(source="dldb").count() == 287
        perso = Service.objects.get(source="dldb", external_id="1063441")
        assert perso.name == "Personalausweis"
        assert perso.leika_key == "99008001000000"
        assert perso.duration_minutes == 15
        assert perso.bookable is True
        assert perso.status == ServiceStatus.PUBLISHED
        assert "Perso" in perso.keyword_list
        assert perso.summary.startswith("Sie erhalten den Personalausweis im Scheckkartenformat")
        assert "<" not in perso.summary and "<" not in perso.fees
        assert "• unter 24 Jahren: 27,60 Euro" in perso.fees
        assert len(perso.source_hash) == 64
        assert perso.combinable.exists()
        # "99036008007003, 99036008007004, ..." -> first valid key, the rest noted.
        multi = Service.objects.get(source="dldb", leika_key="99036008007003")
        assert any(
            n.external_id == multi.external_id for n in report.services.notes_of("leika_multiple")
        )
        assert Service.objects.filter(leika_key="").count() == 155
        assert len(report.services.notes_of("leika_missing")) == 155

        assert Location.objects.filter(source="dldb").count() == 109
        office = Location.objects.get(source="dldb", external_id="10546")
        assert office.name == "Gewerbeamt (KVR-III/21)"
        assert (office.street, office.postcode, office.city) == (
            "Implerstraße 11",
            "81371",
            "München",
        )
        assert office.email == "gewerbemeldung.kvr@muenchen.de"
        assert office.slot_minutes == 5
        assert set(office.services.values_list("external_id", flat=True)) == {
            "1063423",
            "1063422",
            "1063435",
            "1063525",
            "1063659",
            "1063684",
            "1063689",
            "10374641",
        }
        assert perso.locations.count() >= 1


@needs_munich
@pytest.mark.django_db
def test_munich_reimport_changes_nothing(tenant: Tenant) -> None:
    import_dldb(tenant=tenant, services_path=MUNICH_SERVICES, locations_path=MUNICH_LOCATIONS)
    events = event_count()
    with scope(tenant=tenant):
        revision = CatalogRevision.objects.get().number

    report = import_dldb(
        tenant=tenant, services_path=MUNICH_SERVICES, locations_path=MUNICH_LOCATIONS
    )

    assert report.services.counts == {
        "total": 287,
        "created": 0,
        "updated": 0,
        "unchanged": 287,
        "skipped": 0,
    }
    assert report.locations.counts == {
        "total": 109,
        "created": 0,
        "updated": 0,
        "unchanged": 109,
        "skipped": 0,
    }
    assert {item.reason for item in report.services.unchanged} == {"unchanged"}
    assert event_count() == events
    with scope(tenant=tenant):
        assert CatalogRevision.objects.get().number == revision


@needs_munich
@pytest.mark.django_db
def test_munich_changed_entry_updates_exactly_one(tenant: Tenant, tmp_path: Path) -> None:
    import_dldb(tenant=tenant, services_path=MUNICH_SERVICES)
    document = load(MUNICH_SERVICES)
    for entry in document["data"]:
        entry["meta"]["lastupdate"] = "2031-01-01T00:00:00"  # a new export: every timestamp moves
    perso = next(e for e in document["data"] if e["id"] == "1063441")
    perso["fees"] = "<p>99 Euro</p>"
    events = event_count()

    report = import_dldb(tenant=tenant, services_path=write(tmp_path, "services.json", document))

    assert [item.external_id for item in report.services.updated] == ["1063441"]
    assert report.services.updated[0].changed == ["fees", "source_hash"]
    assert len(report.services.unchanged) == 286
    assert event_count() == events + 1
    with scope(tenant=tenant):
        assert Service.objects.get(external_id="1063441").fees == "99 Euro"


# --- mapping, on our own small fixture ---------------------------------------------------------


@pytest.mark.django_db
def test_fixture_mapping(tenant: Tenant) -> None:
    report = import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)

    assert report.services.counts == {
        "total": 5,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": 1,
    }
    with scope(tenant=tenant):
        ausweis = Service.objects.get(source="dldb", external_id="1001")
        assert ausweis.name == "Testausweis beantragen"
        assert ausweis.leika_key == "99008001000000"
        assert ausweis.summary == (
            "Sie bekommen einen Testausweis.\n\n"
            "• für alle ab 16\n"
            "• gilt zehn Jahre\n\n"
            "Mehr im Infoportal (https://example.org/info) oder hier. Ende"
        )
        assert ausweis.fees == "37 Euro\nermäßigt 22,80 Euro"
        assert ausweis.keywords == "Ausweis, Test-Perso, Karte"
        assert (ausweis.duration_minutes, ausweis.max_quantity) == (20, 3)
        assert ausweis.bookable is True
        assert ausweis.online_url == "https://example.org/online-antrag"
        assert ausweis.status == ServiceStatus.PUBLISHED

        pass_ = Service.objects.get(external_id="1002")
        assert pass_.leika_key == "99008002000000"
        assert pass_.status == ServiceStatus.DRAFT  # "public": false
        assert (pass_.duration_minutes, pass_.max_quantity) == (480, 20)  # clamped
        assert pass_.bookable is False

        bescheinigung = Service.objects.get(external_id="1003")  # numeric id in the file
        assert bescheinigung.name == "Testbescheinigung"
        assert bescheinigung.leika_key == ""  # "12345" is not a LeiKa key
        assert bescheinigung.duration_minutes is None
        assert bescheinigung.max_quantity == 1
        assert bescheinigung.bookable is False
        assert bescheinigung.online_url == ""  # only a PDF form
        assert bescheinigung.summary == "" and bescheinigung.fees == ""

        zeugnis = Service.objects.get(external_id="1004")
        assert zeugnis.bookable is True  # "allowed": "1"
        assert zeugnis.summary == "Zeugnis für Tests."

    kinds = {(n.external_id, n.kind) for n in report.services.notes}
    assert {
        ("1001", "combinable_unknown"),
        ("1002", "leika_multiple"),
        ("1002", "duration_clamped"),
        ("1002", "max_quantity_clamped"),
        ("1003", "leika_invalid"),
        ("1003", "duration_clamped"),
        ("1004", "leika_missing"),
    } <= kinds


@pytest.mark.django_db
def test_fixture_locations(tenant: Tenant) -> None:
    report = import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)

    assert report.locations.counts == {
        "total": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    with scope(tenant=tenant):
        mitte = Location.objects.get(source="dldb", external_id="501")
        assert mitte.name == "Testbürgerbüro Mitte (TB-1)"
        assert (mitte.street, mitte.postcode, mitte.city) == (
            "Musterstraße 1a",
            "99999",
            "Musterstadt",
        )
        assert (mitte.phone, mitte.email, mitte.slot_minutes) == (
            "0123 456-0",
            "buergerbuero@example.org",
            10,
        )
        assert mitte.accessibility == "access: Stufenloser Zugang über den Hof\nwc"
        assert set(mitte.services.values_list("external_id", flat=True)) == {"1001", "1002"}
        nord = Location.objects.get(external_id="502")
        assert (nord.street, nord.postcode, nord.slot_minutes) == ("Nordweg 7", "99998", 15)
        assert nord.email == ""
        assert set(nord.services.values_list("external_id", flat=True)) == {"1003", "1004"}
    notes = {(n.external_id, n.kind): n.message for n in report.locations.notes}
    assert "7777" in notes[("501", "service_unknown")]
    assert ("502", "email_invalid") in notes


@pytest.mark.django_db
def test_combinable_is_symmetric_and_resolved_within_the_file(tenant: Tenant) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES)
    with scope(tenant=tenant):

        def links(ext: str) -> set[str]:
            return set(
                Service.objects.get(external_id=ext).combinable.values_list(
                    "external_id", flat=True
                )
            )

        assert links("1001") == {"1002"}  # itself and the unknown 9999 ignored
        assert links("1002") == {"1001"}  # listed only by 1001
        assert links("1003") == {"1004"}  # forward reference to a later entry
        assert links("1004") == {"1003"}


@pytest.mark.django_db
def test_script_and_attributes_are_removed_from_html(tenant: Tenant) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES)
    with scope(tenant=tenant):
        summary = Service.objects.get(external_id="1001").summary
    for bad in ("script", "alert", "xss", "onclick", "steal", "javascript", "color", "<"):
        assert bad not in summary
    assert (
        html_to_text('<p>a<img src=x onerror="alert(1)">b</p><iframe src="https://x"></iframe>')
        == "ab"
    )
    assert (
        html_to_text("<ol><li>eins</li><li>zwei<ul><li>drei</li></ul></li></ol>")
        == "1. eins\n2. zwei\n  • drei"
    )
    assert html_to_text('<a href="mailto:amt@example.org">amt@example.org</a>') == "amt@example.org"
    assert html_to_text(None) == "" and html_to_text("<p>\u200b<br></p>") == ""


@pytest.mark.django_db
def test_duplicate_id_is_skipped_with_reason(tenant: Tenant) -> None:
    report = import_dldb(tenant=tenant, services_path=SERVICES)

    [skipped] = report.services.skipped
    assert skipped.external_id == "1002"
    assert skipped.name == "Testpass (Dublette)"
    assert "duplicate id" in skipped.reason and "#1" in skipped.reason
    with scope(tenant=tenant):
        assert Service.objects.get(external_id="1002").name == "Testpass"
    assert any(
        "skipped 1002 (Testpass (Dublette)): duplicate id" in line
        for line in report.summary_lines()
    )


@pytest.mark.django_db
def test_entry_the_model_rejects_is_skipped_and_the_rest_imported(
    tenant: Tenant, tmp_path: Path
) -> None:
    document = load(SERVICES)
    document["data"][3]["name"] = "Sehr langer Name " * 20  # 340 characters, the model allows 255
    document["data"][0]["id"] = "x" * 70  # external ids have at most 64 characters

    report = import_dldb(tenant=tenant, services_path=write(tmp_path, "s.json", document))

    reasons = {item.external_id: item.reason for item in report.services.skipped}
    assert "name: Ensure this value has at most 255 characters" in reasons["1004"]
    assert "external_id: Ensure this value has at most 64 characters" in reasons["x" * 70]
    assert len(report.services.created) == 2
    with scope(tenant=tenant):
        assert set(Service.objects.values_list("external_id", flat=True)) == {"1002", "1003"}
        assert not Service.objects.get(external_id="1003").combinable.exists()  # 1004 is missing


@pytest.mark.django_db
def test_reimport_is_idempotent_and_a_change_updates_one(tenant: Tenant, tmp_path: Path) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)
    events = event_count()

    again = import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)
    assert (
        len(again.services.unchanged),
        len(again.services.updated),
        len(again.services.created),
    ) == (4, 0, 0)
    assert (len(again.locations.unchanged), len(again.locations.updated)) == (2, 0)
    assert event_count() == events

    document = load(SERVICES)
    document["data"][1]["duration"] = 45
    report = import_dldb(tenant=tenant, services_path=write(tmp_path, "s.json", document))

    assert [(i.external_id, i.changed) for i in report.services.updated] == [
        ("1002", ["duration_minutes", "source_hash"])
    ]
    assert len(report.services.unchanged) == 3
    assert event_count() == events + 1
    with scope(tenant=tenant):
        assert Service.objects.get(external_id="1002").duration_minutes == 45


@pytest.mark.django_db
def test_new_export_timestamp_alone_is_not_a_change(tenant: Tenant, tmp_path: Path) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES)
    document = load(SERVICES)
    for entry in document["data"]:
        entry.setdefault("meta", {})["lastupdate"] = "2031-06-01T00:00:00"
    document["data"][2]["meta"].pop("lastupdate")
    events = event_count()

    report = import_dldb(tenant=tenant, services_path=write(tmp_path, "s.json", document))

    assert len(report.services.unchanged) == 4 and event_count() == events


@pytest.mark.django_db
def test_update_keeps_local_fields_and_retired_status(tenant: Tenant, tmp_path: Path) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES)
    with scope(tenant=tenant):
        ausweis = Service.objects.get(external_id="1001")
        service_update(service=ausweis, requirements="Altes Dokument mitbringen")
        service_set_status(service=ausweis, status=ServiceStatus.RETIRED)
    document = load(SERVICES)
    document["data"][0]["duration"] = 25

    import_dldb(tenant=tenant, services_path=write(tmp_path, "s.json", document))

    with scope(tenant=tenant):
        ausweis.refresh_from_db()
        assert ausweis.duration_minutes == 25
        assert ausweis.requirements == "Altes Dokument mitbringen"  # not part of the export
        assert ausweis.status == ServiceStatus.RETIRED


@pytest.mark.django_db
def test_locations_imported_before_their_services_get_linked_later(tenant: Tenant) -> None:
    first = import_dldb(tenant=tenant, locations_path=LOCATIONS)
    assert len(first.locations.notes_of("service_unknown")) == 2
    with scope(tenant=tenant):
        assert not Location.objects.get(external_id="501").services.exists()

    second = import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)

    assert {i.external_id for i in second.locations.updated} == {"501", "502"}
    assert "services" in second.locations.updated[0].changed
    with scope(tenant=tenant):
        assert set(
            Location.objects.get(external_id="501").services.values_list("external_id", flat=True)
        ) == {
            "1001",
            "1002",
        }


@pytest.mark.django_db
def test_progress_is_reported(tenant: Tenant) -> None:
    calls: list[tuple[int, int, str]] = []
    import_dldb(
        tenant=tenant,
        services_path=SERVICES,
        locations_path=LOCATIONS,
        progress=lambda done, total, label: calls.append((done, total, label)),
    )
    assert calls == [
        (1, 4, "services"),
        (2, 4, "services"),
        (3, 4, "services"),
        (4, 4, "services"),
        (1, 2, "locations"),
        (2, 2, "locations"),
    ]


# --- malformed files: nothing is imported ------------------------------------------------------


def _without_id(doc: dict[str, Any]) -> None:
    del doc["data"][2]["id"]


def _name_is_number(doc: dict[str, Any]) -> None:
    doc["data"][1]["name"] = 42


def _duration_is_text(doc: dict[str, Any]) -> None:
    doc["data"][3]["duration"] = "eine Viertelstunde"


def _combinable_is_text(doc: dict[str, Any]) -> None:
    doc["data"][0]["combinable"] = "1002"


def _entry_is_list(doc: dict[str, Any]) -> None:
    doc["data"][3] = ["1004", "Testzeugnis"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_without_id, ["entry #2", "field “id”", "is missing"]),
        (
            _name_is_number,
            ["entry #1", '(id "1002")', "field “name”", "must be a text, got number 42"],
        ),
        (
            _duration_is_text,
            ["entry #3", '(id "1004")', "field “duration”", "must be a whole number"],
        ),
        (_combinable_is_text, ["entry #0", '(id "1001")', "field “combinable”", "must be a list"]),
        (_entry_is_list, ["entry #3", "an entry must be an object"]),
    ],
    ids=[
        "missing-id",
        "name-wrong-type",
        "duration-wrong-type",
        "combinable-wrong-type",
        "entry-not-object",
    ],
)
def test_malformed_entry_aborts_without_writing(
    tenant: Tenant, tmp_path: Path, change: Any, expected: list[str]
) -> None:
    document = copy.deepcopy(load(SERVICES))
    change(document)
    path = write(tmp_path, "broken_services.json", document)
    events = event_count()

    with pytest.raises(ImportFileError) as exc:
        import_dldb(tenant=tenant, services_path=path, locations_path=LOCATIONS)

    message = str(exc.value)
    assert "broken_services.json" in message
    for part in expected:
        assert part in message
    assert service_count() == 0
    assert event_count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"data": [ {"id": "1", "name": "x"}, ', "is not valid JSON"),
        ("", "is not valid JSON"),
        ('{"services": []}', "has no “data” list"),
        ('{"data": {"id": "1"}}', "“data” must be a list"),
        ('"just text"', "expected an object with a “data” list"),
    ],
    ids=["truncated", "empty", "no-data", "data-not-list", "scalar"],
)
def test_unparseable_or_wrongly_shaped_file(
    tenant: Tenant, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    events = event_count()
    with pytest.raises(ImportFileError) as exc:
        import_dldb(tenant=tenant, services_path=path)
    assert "bad.json" in str(exc.value) and expected in str(exc.value)
    assert service_count() == 0 and event_count() == events


@pytest.mark.django_db
def test_broken_locations_file_also_keeps_the_services_out(tenant: Tenant, tmp_path: Path) -> None:
    document = load(LOCATIONS)
    document["data"][1]["services"][0] = {"hint": False}
    path = write(tmp_path, "locations.json", document)
    with pytest.raises(
        ImportFileError,
        match=r"locations\.json, entry #1 \(id \"502\"\), field “services\[0\]\.service”",
    ):
        import_dldb(tenant=tenant, services_path=SERVICES, locations_path=path)
    assert service_count() == 0


@pytest.mark.django_db
def test_swapped_files_are_rejected(tenant: Tenant) -> None:
    with pytest.raises(ImportFileError, match="looks like a location"):
        import_dldb(tenant=tenant, services_path=LOCATIONS)
    with pytest.raises(ImportFileError, match="looks like a service"):
        import_dldb(tenant=tenant, locations_path=SERVICES)
    assert service_count() == 0


@pytest.mark.django_db
def test_missing_file(tenant: Tenant, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot be read"):
        import_dldb(tenant=tenant, services_path=tmp_path / "nope.json")


# --- tenant isolation --------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_into_one_tenant_leaves_the_other_alone(
    tenant: Tenant, other_tenant: Tenant, tmp_path: Path
) -> None:
    import_dldb(tenant=tenant, services_path=SERVICES, locations_path=LOCATIONS)
    with scope(tenant=tenant):
        before = {
            s.external_id: (s.pk, s.name, s.duration_minutes, s.source_hash, s.updated_at)
            for s in Service.objects.all()
        }
        tenant_events = Event.objects.count()
        # A service of tenant A with the same external id but from another source is not matched either.
        manual = service_create(
            tenant=tenant, name="Handgepflegt", source="manual", external_id="1004"
        )

    document = load(SERVICES)
    document["data"][0]["duration"] = 90  # tenant B's copy differs
    report = import_dldb(tenant=other_tenant, services_path=write(tmp_path, "b.json", document))

    assert report.services.counts["created"] == 4 and not report.services.updated
    with scope(tenant=tenant):
        after = {
            s.external_id: (s.pk, s.name, s.duration_minutes, s.source_hash, s.updated_at)
            for s in Service.objects.exclude(pk=manual.pk)
        }
        assert after == before
        assert Event.objects.count() == tenant_events + 1  # only the manual service's creation
    with scope(tenant=other_tenant):
        b_services = Service.objects.filter(source="dldb")
        assert b_services.count() == 4
        assert not set(b_services.values_list("pk", flat=True)) & {v[0] for v in before.values()}
        assert b_services.get(external_id="1001").duration_minutes == 90
        # B's combinable links stay inside B.
        assert all(
            s.tenant_id == other_tenant.pk
            for s in b_services.get(external_id="1001").combinable.all()
        )


# --- the management command --------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_progress_and_report(
    tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_dldb",
        "--tenant",
        "teststadt",
        "--services",
        str(SERVICES),
        "--locations",
        str(LOCATIONS),
    )
    out = capsys.readouterr().out
    assert "Services: 4/4" in out
    assert "Locations: 2/2" in out
    assert (
        "Services from dldb_services_small.json: 5 entries – 4 created, 0 updated, 0 unchanged, 1 skipped"
        in out
    )
    assert "Locations from dldb_locations_small.json: 2 entries – 2 created" in out
    assert "skipped 1002 (Testpass (Dublette)): duplicate id" in out
    assert service_count() == 4


@needs_munich
@pytest.mark.django_db
def test_command_progress_every_25_on_the_munich_export(
    tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_dldb", "--tenant", "teststadt", str(MUNICH_SERVICES), str(MUNICH_LOCATIONS)
    )
    lines = capsys.readouterr().out.splitlines()
    progress = [line for line in lines if line.startswith(("Services: ", "Locations: "))]
    assert progress[:2] == ["Services: 25/287", "Services: 50/287"]
    assert "Services: 287/287" in progress and "Locations: 109/109" in progress
    assert len(progress) == 11 + 1 + 4 + 1


@pytest.mark.django_db
def test_command_fails_on_broken_file(tenant: Tenant, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [{"id": "1", "name": "A"}, {"name": "ohne Id"}]}', encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("import_dldb", "--tenant", "teststadt", "--services", str(broken))
    assert exc.value.returncode == 1
    assert "broken.json, entry #1, field “id”: is missing" in str(exc.value)
    assert "Nothing was imported." in str(exc.value)
    assert service_count() == 0


@pytest.mark.django_db(transaction=True)  # the command closes the connection on exit
def test_command_exit_code_through_the_rathaus_entry_point(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rathaus.__main__ import main

    broken = tmp_path / "broken.json"
    broken.write_text("not json", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["rathaus", "import-dldb", "--tenant", "teststadt", "--services", str(broken)])
    assert exc.value.code == 1
    assert "broken.json is not valid JSON" in capsys.readouterr().err
    assert service_count() == 0


@pytest.mark.django_db
def test_command_unknown_tenant_and_missing_files(tenant: Tenant) -> None:
    with pytest.raises(CommandError, match="Unknown tenant “nirgendwo”"):
        call_command("import_dldb", "--tenant", "nirgendwo", "--services", str(SERVICES))
    with pytest.raises(CommandError, match="Give a services file"):
        call_command("import_dldb", "--tenant", "teststadt")
    assert service_count() == 0

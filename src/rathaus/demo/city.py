"""The demo city Musterstadt: organisation, staff, service catalogue and knowledge base.

Every builder is idempotent: it looks rows up by a stable key (slug, code, username,
external id, question) and creates or updates them, so `rathaus demo` can run again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_scopes import scope

from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Article, Service, ServiceStatus
from rathaus.core import services as core_services
from rathaus.core.models import Membership, OrgUnit, OrgUnitKind, Role, Tenant
from rathaus.demo.activity import build_activity
from rathaus.demo.staff import username

DATA = Path(__file__).parent / "data"
DEMO_PASSWORD = "Rathaus-Demo-2026"
SOURCE = "demo"

Progress = Callable[[str], None]

# (code, name, kind, parent code, cost centre, is KC)
ORG_UNITS: list[tuple[str, str, str, str | None, str, bool]] = [
    ("verwaltung", "Stadtverwaltung Musterstadt", OrgUnitKind.ADMINISTRATION, None, "1000", False),
    (
        "dez-1",
        "Dezernat I – Bürgerdienste, Sicherheit und Ordnung",
        OrgUnitKind.DEZERNAT,
        "verwaltung",
        "1100",
        False,
    ),
    (
        "kc",
        "KommunikationsCenter (Bürgertelefon 115)",
        OrgUnitKind.FACHBEREICH,
        "dez-1",
        "1110",
        True,
    ),
    ("kc-telefon", "KC Team Telefon", OrgUnitKind.TEAM, "kc", "1111", False),
    ("kc-schriftverkehr", "KC Team Schriftverkehr", OrgUnitKind.TEAM, "kc", "1112", False),
    ("buergeramt", "Bürgeramt", OrgUnitKind.FACHBEREICH, "dez-1", "1120", False),
    ("buergerbuero-mitte", "Bürgerbüro Mitte", OrgUnitKind.ABTEILUNG, "buergeramt", "1121", False),
    ("buergerbuero-nord", "Bürgerbüro Nord", OrgUnitKind.ABTEILUNG, "buergeramt", "1122", False),
    ("buergerbuero-sued", "Bürgerbüro Süd", OrgUnitKind.ABTEILUNG, "buergeramt", "1123", False),
    ("standesamt", "Standesamt", OrgUnitKind.FACHBEREICH, "dez-1", "1130", False),
    ("ordnungsamt", "Ordnungsamt", OrgUnitKind.FACHBEREICH, "dez-1", "1140", False),
    ("gewerbe", "Gewerbeangelegenheiten", OrgUnitKind.ABTEILUNG, "ordnungsamt", "1141", False),
    ("fundbuero", "Fundbüro", OrgUnitKind.ABTEILUNG, "ordnungsamt", "1142", False),
    ("bussgeldstelle", "Bußgeldstelle", OrgUnitKind.ABTEILUNG, "ordnungsamt", "1143", False),
    ("strassenverkehrsamt", "Straßenverkehrsamt", OrgUnitKind.FACHBEREICH, "dez-1", "1150", False),
    (
        "kfz-zulassung",
        "Kfz-Zulassungsstelle",
        OrgUnitKind.ABTEILUNG,
        "strassenverkehrsamt",
        "1151",
        False,
    ),
    (
        "fahrerlaubnis",
        "Fahrerlaubnisbehörde",
        OrgUnitKind.ABTEILUNG,
        "strassenverkehrsamt",
        "1152",
        False,
    ),
    ("auslaenderbehoerde", "Ausländerbehörde", OrgUnitKind.FACHBEREICH, "dez-1", "1160", False),
    ("dez-2", "Dezernat II – Finanzen", OrgUnitKind.DEZERNAT, "verwaltung", "2000", False),
    ("finanzen", "Kämmerei", OrgUnitKind.FACHBEREICH, "dez-2", "2100", False),
    ("steueramt", "Steueramt", OrgUnitKind.FACHBEREICH, "dez-2", "2200", False),
    ("stadtkasse", "Stadtkasse", OrgUnitKind.FACHBEREICH, "dez-2", "2300", False),
    (
        "dez-3",
        "Dezernat III – Soziales, Jugend und Gesundheit",
        OrgUnitKind.DEZERNAT,
        "verwaltung",
        "3000",
        False,
    ),
    ("sozialamt", "Sozialamt", OrgUnitKind.FACHBEREICH, "dez-3", "3100", False),
    ("jugendamt", "Jugendamt", OrgUnitKind.FACHBEREICH, "dez-3", "3200", False),
    (
        "dez-4",
        "Dezernat IV – Planen, Bauen und Umwelt",
        OrgUnitKind.DEZERNAT,
        "verwaltung",
        "4000",
        False,
    ),
    ("bauaufsicht", "Bauaufsichtsamt", OrgUnitKind.FACHBEREICH, "dez-4", "4100", False),
    ("tiefbau", "Tiefbauamt", OrgUnitKind.FACHBEREICH, "dez-4", "4200", False),
    ("umwelt", "Umweltamt und Abfallwirtschaft", OrgUnitKind.FACHBEREICH, "dez-4", "4300", False),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    first_name: str
    last_name: str
    role: str
    unit: str

    @property
    def description(self) -> str:
        return f"{Role(self.role).label} · {dict((u[0], u[1]) for u in ORG_UNITS)[self.unit]}"


LOGINS = [
    DemoLogin("kc.agent", "Katrin", "Berger", Role.KC_AGENT, "kc-telefon"),
    DemoLogin("kc.lead", "Thomas", "Weber", Role.TEAM_LEAD, "kc"),
    DemoLogin("clerk", "Mehmet", "Yılmaz", Role.CLERK, "buergerbuero-mitte"),
    DemoLogin("office", "Lena", "Fischer", Role.OFFICE_STAFF, "buergerbuero-mitte"),
    DemoLogin("lead.buergeramt", "Sabine", "Hoffmann", Role.TEAM_LEAD, "buergeramt"),
    DemoLogin("editor", "Julia", "Schneider", Role.KNOWLEDGE_EDITOR, "kc"),
    DemoLogin("controller", "Frank", "Wagner", Role.CONTROLLER, "finanzen"),
    DemoLogin("process.manager", "Anna", "Keller", Role.PROCESS_MANAGER, "verwaltung"),
    DemoLogin("admin", "Peter", "Schulz", Role.TENANT_ADMIN, "verwaltung"),
]


def build_tenant() -> Tenant:
    tenant = Tenant.objects.filter(slug="musterstadt").first()
    if tenant is None:
        tenant = core_services.tenant_create(
            name="Stadt Musterstadt",
            slug="musterstadt",
            ags="05999000",
            state="NW",
            address="Rathausplatz 1\n59999 Musterstadt",
            phone="0599 115",
            email="buergerservice@musterstadt.example",
            website="https://musterstadt.example",
        )
    return tenant


def build_org_units(tenant: Tenant) -> dict[str, OrgUnit]:
    units = {u.code: u for u in OrgUnit.objects.filter(tenant=tenant)}
    for code, name, kind, parent, cost_centre, is_kc in ORG_UNITS:
        if code not in units:
            units[code] = core_services.org_unit_create(
                tenant=tenant,
                name=name,
                code=code,
                kind=kind,
                parent=units[parent] if parent else None,
                cost_centre=cost_centre,
                email=f"{code}@musterstadt.example",
                is_kc=is_kc,
            )
    return units


def build_staff(tenant: Tenant, units: dict[str, OrgUnit]) -> None:
    user_model = get_user_model()
    for login in LOGINS:
        name = username(tenant, login.username)
        user = user_model.objects.filter(username=name).first()
        if user is None:
            user = core_services.user_create(
                username=name,
                password=DEMO_PASSWORD,
                first_name=login.first_name,
                last_name=login.last_name,
                email=f"{name}@musterstadt.example",
            )
        core_services.membership_grant(user=user, org_unit=units[login.unit], role=login.role)


def build_closing_days(tenant: Tenant) -> None:
    year = timezone.localdate().year
    for y in (year, year + 1):
        core_services.closing_day_add(tenant=tenant, date=dt.date(y, 12, 24), name="Heiligabend")
        core_services.closing_day_add(tenant=tenant, date=dt.date(y, 12, 31), name="Silvester")


def _service_fields(entry: dict[str, Any], units: dict[str, OrgUnit]) -> dict[str, Any]:
    return {
        "name": entry["name"],
        "leika_key": entry["leika"],
        "keywords": ", ".join(entry["keywords"]),
        "summary": entry["summary"],
        "audience": entry["audience"],
        "requirements": entry["requirements"],
        "documents": entry["documents"],
        "fees": entry["fees"],
        "processing_time": entry["processing_time"],
        "legal_basis": entry["legal_basis"],
        "online_url": entry["online_url"],
        "org_unit": units[entry["unit"]],
        "kc_can_answer": entry["kc_can_answer"],
        "handover_days": entry["handover_days"],
        "bookable": entry["bookable"],
        "duration_minutes": entry["duration_minutes"],
        "max_quantity": entry["max_quantity"],
        "status": ServiceStatus.PUBLISHED,
    }


def load_catalogue(
    tenant: Tenant, units: dict[str, OrgUnit], progress: Progress | None = None
) -> dict[str, Service]:
    entries = json.loads((DATA / "services.json").read_text(encoding="utf-8"))
    existing = {s.external_id: s for s in Service.objects.filter(tenant=tenant, source=SOURCE)}
    for n, entry in enumerate(entries, 1):
        fields = _service_fields(entry, units)
        service = existing.get(entry["external_id"])
        if service is None:
            existing[entry["external_id"]] = catalog_services.service_create(
                tenant=tenant, source=SOURCE, external_id=entry["external_id"], **fields
            )
        else:
            catalog_services.service_update(service=service, **fields)
        if progress and (n % 50 == 0 or n == len(entries)):
            progress(f"  services {n}/{len(entries)}")
    # "Combinable" is symmetric in the model; the source lists are not, so close them first,
    # otherwise every run would flip links back and forth.
    pairs: dict[str, set[str]] = {entry["external_id"]: set() for entry in entries}
    for entry in entries:
        for other in entry["combinable"]:
            if other in pairs:
                pairs[entry["external_id"]].add(other)
                pairs[other].add(entry["external_id"])
    for external_id, others in pairs.items():
        wanted = [existing[i] for i in sorted(others)]
        catalog_services.service_update(service=existing[external_id], combinable=wanted)
    return existing


def load_articles(
    tenant: Tenant, services: dict[str, Service], owner: Any, progress: Progress | None = None
) -> None:
    entries = json.loads((DATA / "articles.json").read_text(encoding="utf-8"))
    existing = {a.question: a for a in Article.objects.filter(tenant=tenant)}
    today = timezone.localdate()
    for entry in entries:
        fields = {
            "answer": entry["answer"],
            "keywords": ", ".join(entry["keywords"]),
            "review_by": today + dt.timedelta(days=entry["review_in_days"]),
        }
        linked = [services[i] for i in entry["services"] if i in services]
        article = existing.get(entry["question"])
        if article is None:
            article = catalog_services.article_create(
                tenant=tenant, owner=owner, question=entry["question"], services=linked, **fields
            )
        else:
            # Keep an editor's later review date; the demo only fills in what is missing.
            fields.pop("review_by")
            catalog_services.article_update(article=article, services=linked, **fields)
        catalog_services.article_publish(article=article, published=True)
    if progress:
        progress(f"  articles {len(entries)}/{len(entries)}")


def build_neighbour() -> None:
    """A second, small municipality, so the data-centre admin can switch tenants and isolation shows."""
    tenant = Tenant.objects.filter(slug="beispieldorf").first()
    if tenant is None:
        tenant = core_services.tenant_create(
            name="Gemeinde Beispieldorf",
            slug="beispieldorf",
            ags="05999001",
            state="NW",
            email="rathaus@beispieldorf.example",
        )
    with scope(tenant=tenant):
        root = OrgUnit.objects.filter(code="verwaltung").first() or core_services.org_unit_create(
            tenant=tenant,
            name="Gemeindeverwaltung Beispieldorf",
            code="verwaltung",
            kind=OrgUnitKind.ADMINISTRATION,
        )
        user = get_user_model().objects.get(username="admin")
        core_services.membership_grant(user=user, org_unit=root, role=Role.TENANT_ADMIN)
        if not Service.objects.filter(source=SOURCE, external_id="bd-hundesteuer").exists():
            catalog_services.service_create(
                tenant=tenant,
                source=SOURCE,
                external_id="bd-hundesteuer",
                name="Hundesteuer (Beispieldorf)",
                keywords="Hund anmelden",
                summary="Die Gemeinde Beispieldorf erhebt eine eigene Hundesteuer.",
                org_unit=root,
                status=ServiceStatus.PUBLISHED,
            )


def build(progress: Progress, *, activity_days: int = 365) -> Tenant:
    progress("Musterstadt: tenant and organisation")
    tenant = build_tenant()
    with scope(tenant=tenant):
        units = build_org_units(tenant)
        progress(f"  {len(units)} org units")
        build_staff(tenant, units)
        progress(f"  {Membership.objects.filter(tenant=tenant).count()} staff roles")
        build_closing_days(tenant)
        progress("Musterstadt: service catalogue")
        services = load_catalogue(tenant, units, progress)
        progress("Musterstadt: knowledge base")
        editor = get_user_model().objects.get(username="editor")
        load_articles(tenant, services, editor, progress)
        if activity_days:
            progress(f"Musterstadt: {activity_days} days of KC activity")
            build_activity(tenant, units, days=activity_days, progress=progress)
    progress("Beispieldorf: second tenant")
    build_neighbour()
    return tenant

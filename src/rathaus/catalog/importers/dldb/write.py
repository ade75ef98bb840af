"""Writing the mapped entries inside one transaction, only through the catalogue services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rathaus.catalog.models import Location, Service, ServiceStatus
from rathaus.catalog.services import (
    location_create,
    location_update,
    service_create,
    service_update,
)
from rathaus.core.models import Tenant
from rathaus.core.tenancy import tenant_context

from .map import SOURCE, _dedupe, _location_fields, _service_fields, source_hash
from .read import _Entry, _read, _validate_locations, _validate_services
from .report import ImportItem, ImportReport, SectionReport

ProgressCallback = Callable[[int, int, str], None]


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def import_dldb(
    *,
    tenant: Tenant,
    services_path: str | Path | None = None,
    locations_path: str | Path | None = None,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a DLDB services and/or locations export into ``tenant``; all or nothing.

    Raises ImportFileError (before writing anything) when a file is unreadable or malformed.
    ``progress(done, total, label)`` is called after each entry, label "services"/"locations".
    """
    if services_path is None and locations_path is None:
        raise ValueError("Give services_path, locations_path or both.")
    report = ImportReport()
    service_entries: list[_Entry] = []
    location_entries: list[_Entry] = []
    if services_path is not None:
        path = Path(services_path)
        service_entries = _validate_services(path, _read(path))
        report.services.path, report.services.total = path.name, len(service_entries)
    if locations_path is not None:
        path = Path(locations_path)
        location_entries = _validate_locations(path, _read(path))
        report.locations.path, report.locations.total = path.name, len(location_entries)

    with tenant_context(tenant), transaction.atomic():
        if services_path is not None:
            _import_services(tenant, service_entries, report.services, actor, progress)
        if locations_path is not None:
            _import_locations(tenant, location_entries, report.locations, actor, progress)
    return report


def _import_services(
    tenant: Tenant,
    entries: list[_Entry],
    section: SectionReport,
    actor: User | None,
    progress: ProgressCallback | None,
) -> None:
    entries = _dedupe(entries, section)
    total = len(entries)
    mapped = [(entry, _service_fields(entry, section)) for entry in entries]
    in_file = {entry.external_id for entry in entries}

    # Symmetric closure of the combinable lists, restricted to this file.
    wanted_ids: dict[str, set[str]] = {ext: set() for ext in in_file}
    for entry in entries:
        unknown = []
        for other in entry.raw.get("combinable") or []:
            other_id = str(other).strip()
            if other_id == entry.external_id:
                continue
            if other_id not in in_file:
                unknown.append(other_id)
                continue
            wanted_ids[entry.external_id].add(other_id)
            wanted_ids[other_id].add(entry.external_id)
        if unknown:
            section.note(
                entry.external_id,
                "combinable_unknown",
                _("combinable ids not in the file: %(ids)s")
                % {"ids": ", ".join(sorted(set(unknown)))},
            )

    existing = {
        s.external_id: s
        for s in Service.objects.filter(tenant=tenant, source=SOURCE, external_id__in=in_file)
    }
    available: dict[str, Service] = dict(existing)  # grows as services are created
    touched: list[Service] = []

    def combinable_for(service: Service | None, ext_id: str) -> list[Service]:
        wanted = [available[o] for o in sorted(wanted_ids[ext_id]) if o in available]
        keep = []
        if service is not None:
            keep = [
                s
                for s in service.combinable.all()
                if not (s.source == SOURCE and s.external_id in in_file) and s.pk != service.pk
            ]
        return wanted + keep

    for done, (entry, fields) in enumerate(mapped, start=1):
        service = existing.get(entry.external_id)
        try:
            if service is None:
                service = service_create(
                    tenant=tenant,
                    actor=actor,
                    combinable=combinable_for(None, entry.external_id),
                    **fields,
                )
                available[entry.external_id] = service
                section.created.append(ImportItem(entry.external_id, entry.name))
                touched.append(service)
            elif service.source_hash == fields["source_hash"]:
                section.unchanged.append(ImportItem(entry.external_id, entry.name, _("unchanged")))
            else:
                if service.status == ServiceStatus.RETIRED:
                    fields.pop("status")
                changed = service_update(
                    service=service,
                    actor=actor,
                    combinable=combinable_for(service, entry.external_id),
                    **fields,
                )
                item = ImportItem(entry.external_id, entry.name, changed=changed)
                (section.updated if changed else section.unchanged).append(item)
                touched.append(service)
        except ValidationError as exc:
            section.skipped.append(ImportItem(entry.external_id, entry.name, _error_text(exc)))
        if progress:
            progress(done, total, "services")

    # Second pass: links to services created later in the file are normally completed by the
    # symmetrical relation; make sure, and fix any that are not (events only when needed).
    for service in touched:
        wanted = {s.pk for s in combinable_for(service, service.external_id)}
        if wanted != set(service.combinable.values_list("pk", flat=True)):
            service_update(
                service=service, actor=actor, combinable=Service.objects.filter(pk__in=wanted)
            )


def _import_locations(
    tenant: Tenant,
    entries: list[_Entry],
    section: SectionReport,
    actor: User | None,
    progress: ProgressCallback | None,
) -> None:
    entries = _dedupe(entries, section)
    total = len(entries)
    services = {
        s.external_id: s
        for s in Service.objects.filter(tenant=tenant, source=SOURCE).exclude(external_id="")
    }
    existing = {
        loc.external_id: loc
        for loc in Location.objects.filter(
            tenant=tenant, source=SOURCE, external_id__in=[e.external_id for e in entries]
        )
    }
    for done, entry in enumerate(entries, start=1):
        fields = _location_fields(entry, section)
        offered = list(
            dict.fromkeys(str(s.get("service")).strip() for s in entry.raw.get("services") or [])
        )
        resolved = [ext for ext in offered if ext in services]
        unknown = [ext for ext in offered if ext not in services]
        if unknown:
            section.note(
                entry.external_id,
                "service_unknown",
                _("services not imported, link skipped: %(ids)s") % {"ids": ", ".join(unknown)},
            )
        fields["source_hash"] = source_hash(entry.raw, extra=sorted(resolved))
        wanted = [services[ext] for ext in resolved]
        location = existing.get(entry.external_id)
        try:
            if location is None:
                location = location_create(tenant=tenant, actor=actor, services=wanted, **fields)
                section.created.append(ImportItem(entry.external_id, entry.name))
            elif location.source_hash == fields["source_hash"]:
                section.unchanged.append(ImportItem(entry.external_id, entry.name, _("unchanged")))
            else:
                # Links to services from other sources stay.
                keep = [s for s in location.services.all() if s.source != SOURCE]
                changed = location_update(
                    location=location, actor=actor, services=[*keep, *wanted], **fields
                )
                section.updated.append(ImportItem(entry.external_id, entry.name, changed=changed))
        except ValidationError as exc:
            section.skipped.append(ImportItem(entry.external_id, entry.name, _error_text(exc)))
        if progress:
            progress(done, total, "locations")

"""Set-up through the services: the offices with counters, hours, rules and staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from rathaus.appointments import services as appointment_services
from rathaus.appointments.models import AvailabilityRule, Counter, OfferedService
from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Location, Service
from rathaus.core import services as core_services
from rathaus.core.models import OrgUnit, Role, Tenant
from rathaus.demo.staff import username as login_of

from .specs import OFFICES, SERVICES, SLOT_MINUTES, SOURCE, TICKET_CLASSES, OfficeSpec


@dataclass
class _Office:
    location: Location
    spec: OfficeSpec
    counters: list[Counter]
    staff: list[Any]
    rules: list[tuple[AvailabilityRule, int, list[str]]]  # rule, first seat, channel per seat
    minutes: dict[int, int]  # service id → minutes here


def _staff(tenant: Tenant, spec: OfficeSpec, unit: OrgUnit) -> list[Any]:
    user_model = get_user_model()
    people = []
    for n in range(1, spec.counters + 1):
        username = login_of(tenant, f"{spec.code.replace('-', '.')}{n:02d}")
        user = user_model.objects.filter(username=username).first()
        if user is None:
            # No password: counter staff for the figures only, no login.
            user = user_model.objects.create_user(
                username=username, first_name=spec.name.split()[-1], last_name=f"Platz {n}"
            )
            core_services.membership_grant(user=user, org_unit=unit, role=Role.OFFICE_STAFF)
        people.append(user)
    return people


def _set_up_office(
    tenant: Tenant,
    spec: OfficeSpec,
    units: dict[str, OrgUnit],
    offered: list[tuple[Service, int, int]],
    today: dt.date,
) -> Location:
    location = catalog_services.location_create(
        tenant=tenant,
        name=spec.name,
        org_unit=units[spec.unit],
        street=spec.street,
        postcode="59999",
        city="Musterstadt",
        phone=spec.phone,
        email=f"{spec.unit}@musterstadt.example",
        accessibility=spec.accessibility,
        slot_minutes=SLOT_MINUTES,
        source=SOURCE,
        external_id=spec.code,
    )
    for service, minutes, quantity in offered:
        appointment_services.service_offer(
            location=location, service=service, duration_minutes=minutes, max_quantity=quantity
        )
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {d: [] for d in range(7)}
    for weekdays, opens, closes in spec.spans:
        for day in weekdays:
            hours[day].append((dt.time(opens), dt.time(closes)))
    appointment_services.opening_hours_set(location=location, hours=hours)
    for n in range(1, spec.counters + 1):
        appointment_services.counter_save(
            location=location, name=f"Platz {n}", services=[s for s, _m, _q in offered]
        )
    for weekdays, opens, closes in spec.spans:
        appointment_services.rule_save(
            rule=AvailabilityRule(
                location=location,
                weekdays=list(weekdays),
                starts=dt.time(opens),
                ends=dt.time(closes),
                slot_minutes=SLOT_MINUTES,
                online_quota=spec.online,
                phone_quota=spec.by_phone,
                internal_quota=0,
                min_days_ahead=1,
                max_days_ahead=60,
                release_time=dt.time(7),
            ),
            today=today,
        )
    return location


def build_offices(tenant: Tenant, units: dict[str, OrgUnit], today: dt.date) -> bool:
    """The three offices with everything they need; False if they exist already."""
    if Location.objects.filter(tenant=tenant, source=SOURCE, external_id=OFFICES[0].code).exists():
        return False
    catalogue = {
        s.external_id: s
        for s in Service.objects.filter(
            tenant=tenant, source=SOURCE, external_id__in=[x.external_id for x in SERVICES]
        )
    }
    offered = [(catalogue[s.external_id], s.minutes, s.max_quantity) for s in SERVICES]
    for prefix, name, target, is_default in TICKET_CLASSES:
        appointment_services.ticket_class_save(
            tenant=tenant,
            prefix=prefix,
            name=name,
            services=[catalogue[s.external_id] for s in SERVICES if s.ticket_class == prefix]
            if not is_default
            else [],
            target_wait_minutes=target,
            is_default=is_default,
        )
    locations = {}
    for spec in OFFICES:
        locations[spec.code] = _set_up_office(tenant, spec, units, offered, today)
        _staff(tenant, spec, units[spec.unit])
    # A staff meeting closes Nord for a day in three weeks; its free slots go at once.
    nord = locations["bb-nord"]
    meeting = today + dt.timedelta(days=21)
    while meeting.weekday() != 2:
        meeting += dt.timedelta(days=1)
    appointment_services.closure_add(location=nord, date=meeting, reason="Personalversammlung")
    return True


def _offices(tenant: Tenant) -> list[_Office]:
    found = []
    for spec in OFFICES:
        location = Location.objects.get(tenant=tenant, source=SOURCE, external_id=spec.code)
        rules = []
        seat = 0
        for rule in AvailabilityRule.objects.filter(location=location).order_by("pk"):
            channels = ["online"] * rule.online_quota + ["phone"] * rule.phone_quota
            channels += ["internal"] * rule.internal_quota
            rules.append((rule, seat, channels))
            seat += len(channels)
        found.append(
            _Office(
                location=location,
                spec=spec,
                counters=list(Counter.objects.filter(location=location).order_by("pk")),
                # org_unit is optional on Location; _set_up_office gave each demo office one.
                staff=_staff(tenant, spec, location.org_unit),  # type: ignore[arg-type]
                rules=rules,
                minutes={
                    o.service_id: o.duration
                    for o in OfferedService.objects.filter(location=location).select_related(
                        "service"
                    )
                },
            )
        )
    return found

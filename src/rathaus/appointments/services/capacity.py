"""Capacity: what can be booked where and when.

Opening hours, the services a location offers, counters, availability rules and closures,
and the slots the rules make (`slots_materialize`); ticket classes of the walk-in queue and
the tenant's booking policy. Every change here is an event of the location (or tenant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.catalog.models import Location, Service
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.events import Activity, Json, event_append
from rathaus.core.models import Tenant

from .. import events
from ..models import (
    AvailabilityRule,
    BookingChannel,
    BookingPolicy,
    Counter,
    LocationClosure,
    OfferedService,
    OpeningHours,
    Slot,
    TicketClass,
)
from ..rules import BookingError


def _location_event(
    location: Location, activity: Activity, actor: User | None, **payload: Json
) -> None:
    event_append(
        tenant=location.tenant,
        activity=activity,
        subject=location,
        actor=actor,
        payload=payload,
    )


def _rule_days(rule: AvailabilityRule, first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = max(first, rule.valid_from or first)
    end = min(last, rule.valid_to or last)
    while day <= end:
        if day.weekday() in rule.weekdays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@transaction.atomic
def slots_materialize(
    *, location: Location, first: dt.date, last: dt.date, calendar: WorkingCalendar | None = None
) -> int:
    """Make the slots of `first`..`last` match the rules; returns the number of slots created.

    1. Wanted: for each rule and day it covers (not a public holiday, closing day or closure
       of the location), one slot per start time and counter quota; seats are numbered across
       rules so two rules on the same time never collide.
    2. Missing slots are created; free slots no rule wants any more are removed, free slots
       whose channel or rule changed are relabelled. Booked slots are never removed or
       relabelled: their appointments stay valid and show up in the day plan.
    """
    tenant = location.tenant
    calendar = calendar or WorkingCalendar.for_tenant(tenant)
    closed = set(
        LocationClosure.objects.filter(location=location, date__range=(first, last)).values_list(
            "date", flat=True
        )
    )
    wanted: dict[tuple[dt.datetime, int], tuple[AvailabilityRule, str, dt.datetime]] = {}
    seat_base = 0
    for rule in AvailabilityRule.objects.filter(location=location).order_by("pk"):
        channels = (
            [BookingChannel.ONLINE] * rule.online_quota
            + [BookingChannel.PHONE] * rule.phone_quota
            + [BookingChannel.INTERNAL] * rule.internal_quota
        )
        step = dt.timedelta(minutes=rule.slot_minutes)
        for day in _rule_days(rule, first, last):
            if calendar.is_closed(day) or day in closed:
                continue
            start = dt.datetime.combine(day, rule.starts, tzinfo=calendar.zone)
            close = dt.datetime.combine(day, rule.ends, tzinfo=calendar.zone)
            while start + step <= close:
                for offset, channel in enumerate(channels):
                    wanted[(start, seat_base + offset)] = (rule, channel, start + step)
                start += step
        seat_base += len(channels)
    window = Slot.objects.filter(
        location=location,
        start__gte=dt.datetime.combine(first, dt.time(), tzinfo=calendar.zone),
        start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone),
    )
    existing = {
        (s.start, s.seat): s
        for s in window.only("id", "start", "seat", "channel", "rule_id", "booking_id")
    }
    stale = [s.pk for key, s in existing.items() if key not in wanted and s.booking_id is None]
    if stale:
        Slot.objects.filter(pk__in=stale, booking__isnull=True).delete()
    # A changed quota or rule relabels the free slots that stay (booked ones keep their label).
    relabel: dict[tuple[int, str], list[int]] = {}
    for key, slot in existing.items():
        if key in wanted and slot.booking_id is None:
            wanted_rule, label, _end = wanted[key]
            if (slot.rule_id, slot.channel) != (wanted_rule.pk, label):
                relabel.setdefault((wanted_rule.pk, label), []).append(slot.pk)
    for (rule_pk, label), pks in relabel.items():
        Slot.objects.filter(pk__in=pks, booking__isnull=True).update(rule=rule_pk, channel=label)
    new = [
        Slot(
            tenant=tenant,
            location=location,
            rule=rule,
            start=start,
            end=end,
            seat=seat,
            channel=channel,
        )
        for (start, seat), (rule, channel, end) in wanted.items()
        if (start, seat) not in existing
    ]
    Slot.objects.bulk_create(new, batch_size=2000)
    return len(new)


def slots_materialize_all(*, tenant: Tenant, today: dt.date, days: int = 370) -> int:
    """Daily job: keep the slots of every location of the tenant ahead of the booking window."""
    calendar = WorkingCalendar.for_tenant(tenant)
    total = 0
    locations = (
        Location.objects.filter(rules__isnull=False)
        .annotate(horizon=Max("rules__max_days_ahead"))
        .select_related("tenant")
    )
    for location in locations:
        horizon = location.horizon
        total += slots_materialize(
            location=location,
            first=today,
            last=today + dt.timedelta(days=min(days, horizon + 1)),
            calendar=calendar,
        )
    return total


@transaction.atomic
def closure_add(
    *, location: Location, date: dt.date, reason: str = "", actor: User | None = None
) -> LocationClosure:
    """Close a location for a day: its free slots go; booked appointments stay for staff to move."""
    closure, _created = LocationClosure.objects.get_or_create(
        tenant=location.tenant, location=location, date=date, defaults={"reason": reason}
    )
    slots_materialize(location=location, first=date, last=date)
    _location_event(location, events.LOCATION_CLOSED, actor, date=date.isoformat())
    return closure


@transaction.atomic
def opening_hours_set(
    *,
    location: Location,
    hours: dict[int, list[tuple[dt.time, dt.time]]],
    actor: User | None = None,
) -> None:
    """Replace the opening hours of the weekdays given (an empty list closes that weekday)."""
    for weekday, spans in hours.items():
        OpeningHours.objects.filter(location=location, weekday=weekday).delete()
        for opens, closes in spans:
            row = OpeningHours(
                tenant=location.tenant,
                location=location,
                weekday=weekday,
                opens=opens,
                closes=closes,
            )
            row.full_clean()
            row.save()
    _location_event(location, events.OPENING_HOURS_CHANGED, actor)


@transaction.atomic
def service_offer(
    *,
    location: Location,
    service: Service,
    duration_minutes: int | None = None,
    max_quantity: int | None = None,
    actor: User | None = None,
) -> OfferedService:
    offered, created = OfferedService.objects.update_or_create(
        tenant=location.tenant,
        location=location,
        service=service,
        defaults={"duration_minutes": duration_minutes, "max_quantity": max_quantity},
    )
    offered.full_clean()
    location.services.add(service)
    activity = events.SERVICE_OFFERED if created else events.SERVICE_OFFER_CHANGED
    _location_event(location, activity, actor, service=service.pk)
    return offered


@transaction.atomic
def service_unoffer(*, offered: OfferedService, actor: User | None = None) -> None:
    """The service can no longer be booked here; booked appointments keep their items."""
    location, service = offered.location, offered.service_id
    offered.delete()
    _location_event(location, events.SERVICE_UNOFFERED, actor, service=service)


@transaction.atomic
def counter_remove(*, counter: Counter, actor: User | None = None) -> None:
    """Tickets it served keep their history (their counter becomes empty)."""
    location, pk = counter.location, counter.pk
    counter.delete()
    _location_event(location, events.COUNTER_REMOVED, actor, counter=pk)


@transaction.atomic
def booking_policy_save(*, policy: BookingPolicy, actor: User | None = None) -> BookingPolicy:
    policy.full_clean()
    policy.save()
    event_append(
        tenant=policy.tenant,
        activity=events.BOOKING_POLICY_CHANGED,
        subject=policy.tenant,
        actor=actor,
    )
    return policy


@transaction.atomic
def counter_save(
    *,
    location: Location,
    name: str,
    services: Sequence[Service] = (),
    active: bool = True,
    actor: User | None = None,
) -> Counter:
    counter, created = Counter.objects.update_or_create(
        tenant=location.tenant, location=location, name=name, defaults={"active": active}
    )
    counter.services.set(services)
    activity = events.COUNTER_ADDED if created else events.COUNTER_CHANGED
    _location_event(location, activity, actor, counter=counter.pk)
    return counter


@transaction.atomic
def rule_save(
    *, rule: AvailabilityRule, today: dt.date | None = None, actor: User | None = None
) -> AvailabilityRule:
    """Save a rule and bring the slots of its booking window in line at once."""
    rule.tenant = rule.location.tenant
    if not rule.weekdays or any(d not in range(7) for d in rule.weekdays):
        raise BookingError(_("Choose at least one weekday."), code="weekdays")
    rule.full_clean()
    rule.save()
    today = today or timezone.localdate()
    slots_materialize(
        location=rule.location,
        first=today,
        last=today + dt.timedelta(days=rule.max_days_ahead + 1),
    )
    _location_event(rule.location, events.AVAILABILITY_CHANGED, actor, rule=rule.pk)
    return rule


@transaction.atomic
def rule_delete(
    *, rule: AvailabilityRule, today: dt.date | None = None, actor: User | None = None
) -> None:
    """Remove a rule; its free future slots go, booked ones stay with their appointments."""
    location, horizon = rule.location, rule.max_days_ahead + 1
    rule.delete()
    today = today or timezone.localdate()
    slots_materialize(location=location, first=today, last=today + dt.timedelta(days=horizon))
    _location_event(location, events.AVAILABILITY_CHANGED, actor)


@transaction.atomic
def closure_remove(*, closure: LocationClosure, actor: User | None = None) -> None:
    location, day = closure.location, closure.date
    closure.delete()
    slots_materialize(location=location, first=day, last=day)
    _location_event(location, events.LOCATION_REOPENED, actor, date=day.isoformat())


@transaction.atomic
def offers_from_catalogue(*, location: Location, actor: User | None = None) -> int:
    """Offer every bookable service the catalogue lists for the location (after a DLDB import)."""
    known = set(OfferedService.objects.filter(location=location).values_list("service", flat=True))
    added = 0
    for service in location.services.filter(bookable=True).exclude(pk__in=known):
        service_offer(location=location, service=service, actor=actor)
        added += 1
    return added


@transaction.atomic
def ticket_class_save(
    *,
    tenant: Tenant,
    prefix: str,
    name: str,
    services: Sequence[Service] = (),
    target_wait_minutes: int = 15,
    is_default: bool = False,
    actor: User | None = None,
) -> TicketClass:
    ticket_class, created = TicketClass.objects.update_or_create(
        tenant=tenant,
        prefix=prefix.upper(),
        defaults={
            "name": name,
            "target_wait_minutes": target_wait_minutes,
            "is_default": is_default,
        },
    )
    ticket_class.services.set(services)
    event_append(
        tenant=tenant,
        activity=events.TICKET_CLASS_CREATED if created else events.TICKET_CLASS_CHANGED,
        subject=ticket_class,
        actor=actor,
    )
    return ticket_class

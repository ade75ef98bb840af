"""Every write of the appointments app: capacity, bookings and the walk-in queue.

No double booking: a booking takes each slot with a compare-and-set UPDATE that only matches
a free slot (`rules.free_q`). On PostgreSQL the candidate seat is locked first with SKIP
LOCKED, so a booking passes over a seat another one is taking; on SQLite writers are
serialised (IMMEDIATE transactions). Slots are always taken in the order (start, seat), so
two bookings never wait on each other in a cycle. The rules shared with the reads (what a
request is, the booking window, which slots are free) live in `rules.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from rathaus.catalog.models import Location, Service
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.keys import email_key
from rathaus.core.models import Event, Tenant
from rathaus.core.services import event_append, event_build

from .models import (
    ACTIVE_BOOKING,
    CHANNEL_SLOTS,
    AvailabilityRule,
    Booking,
    BookingChannel,
    BookingItem,
    BookingPolicy,
    BookingStatus,
    Counter,
    DeviceKey,
    LocationClosure,
    OfferedService,
    OpeningHours,
    Slot,
    Ticket,
    TicketClass,
    TicketStatus,
    new_device_key,
)
from .rules import (
    FREE_SQL,
    MAIL_FAILED,
    MAIL_RESENT,
    MAIL_SENT,
    BookingError,
    Request,
    bookable_window,
    class_for,
    mail_still_fits,
    not_confirmable,
    request_check,
    slots_needed,
    taken_error,
)
from .selectors import booking_by_idempotency_key, call_order, expected_wait_seconds
from .tasks import booking_mail_later

APPOINTMENT_PREFIX = "T"  # the letter of checked-in appointment holders on tickets and display
CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B to misread


# ---------------------------------------------------------------------------------------------
# Capacity


def _location_event(
    location: Location, activity: str, actor: User | None, **payload: object
) -> None:
    event_append(
        tenant=location.tenant,
        subject_kind="location",
        subject_id=location.pk,
        activity=activity,
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
    _location_event(location, "location_closed", actor, date=date.isoformat())
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
    _location_event(location, "opening_hours_changed", actor)


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
    activity = "service_offered" if created else "service_offer_changed"
    _location_event(location, activity, actor, service=service.pk)
    return offered


@transaction.atomic
def service_unoffer(*, offered: OfferedService, actor: User | None = None) -> None:
    """The service can no longer be booked here; booked appointments keep their items."""
    location, service = offered.location, offered.service_id
    offered.delete()
    _location_event(location, "service_unoffered", actor, service=service)


@transaction.atomic
def counter_remove(*, counter: Counter, actor: User | None = None) -> None:
    """Tickets it served keep their history (their counter becomes empty)."""
    location, pk = counter.location, counter.pk
    counter.delete()
    _location_event(location, "counter_removed", actor, counter=pk)


@transaction.atomic
def booking_policy_save(*, policy: BookingPolicy, actor: User | None = None) -> BookingPolicy:
    policy.full_clean()
    policy.save()
    event_append(
        tenant=policy.tenant,
        subject_kind="tenant",
        subject_id=policy.tenant_id,
        activity="booking_policy_changed",
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
    activity = "counter_added" if created else "counter_changed"
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
    _location_event(rule.location, "availability_changed", actor, rule=rule.pk)
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
    _location_event(location, "availability_changed", actor)


@transaction.atomic
def closure_remove(*, closure: LocationClosure, actor: User | None = None) -> None:
    location, day = closure.location, closure.date
    closure.delete()
    slots_materialize(location=location, first=day, last=day)
    _location_event(location, "location_reopened", actor, date=day.isoformat())


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
        subject_kind="ticket_class",
        subject_id=ticket_class.pk,
        activity="ticket_class_created" if created else "ticket_class_changed",
        actor=actor,
    )
    return ticket_class


# ---------------------------------------------------------------------------------------------
# Bookings


def _first_slot(location: Location, start: dt.datetime, channel: str, now: dt.datetime) -> Slot:
    """The slot an appointment would start in, if the channel may book that day now."""
    at_start = Slot.objects.filter(location=location, start=start).select_related("rule")
    first = next(iter(at_start.order_by("seat")[:1]), None)
    if first is None or first.rule is None or start <= now:
        raise BookingError(_("This time cannot be booked."), code="no_slot")
    opens, closes = bookable_window(first.rule, now, channel)
    if not opens <= timezone.localdate(start) <= closes:
        raise BookingError(
            _("This day cannot be booked yet or any more. Please choose a day shown as free."),
            code="window",
        )
    return first


def _new_code() -> str:
    """A booking code; the database refuses one the tenant has already (see `booking_hold`)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def _lock_person(email: str) -> None:
    """Serialise bookings of one e-mail address, so the cap per person holds under concurrency."""
    if connection.vendor == "postgresql" and email:
        key = int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _check_cap(
    policy: BookingPolicy, request: Request, key: str, idempotency_key: str, now: dt.datetime
) -> None:
    """Refuse a booking beyond the cap of active appointments per address and service:
    confirmed ones and holds not run out, still to come, for one of the services. A repeated
    submit (same idempotency key) is answered with its booking, so its booking does not count.
    Plain SQL: the ORM took longer to build this count than anything else in a hold."""
    if not key:
        return
    services = [service.pk for service, _quantity in request.items]
    adapt = connection.ops.adapt_datetimefield_value
    params = [request.location.tenant_id, key, adapt(now), *services]
    params += [BookingStatus.CONFIRMED.value, BookingStatus.HELD.value, adapt(now)]
    same_submit = ""
    if idempotency_key:
        same_submit = "AND b.idempotency_key <> %s"
        params.append(idempotency_key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(DISTINCT b.id)
            FROM {Booking._meta.db_table} AS b
            JOIN {BookingItem._meta.db_table} AS i ON i.booking_id = b.id
            WHERE b.tenant_id = %s AND b.email_key = %s AND b."end" > %s
              AND i.service_id IN ({", ".join(["%s"] * len(services))})
              AND (b.status = %s OR (b.status = %s AND b.hold_until > %s)) {same_submit}
            """,  # noqa: S608 - only table names and placeholders are formatted in
            params,
        )
        (active,) = cursor.fetchone()
    if active >= policy.max_active_per_email:
        raise BookingError(
            _(
                "You already have %(count)d appointments for this service. Please cancel one "
                "before you book another."
            )
            % {"count": active},
            code="cap",
        )


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    """A datetime column read in plain SQL; SQLite gives UTC without a zone, or as text."""
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(value)
    assert parsed is not None, value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _take_seat(
    booking: Booking, start: dt.datetime, kind: str, now: dt.datetime
) -> dt.datetime | None:
    """Give the lowest free seat of one channel at `start` to the booking; its end, or None.

    One statement: the UPDATE only matches a free slot (`rules.FREE_SQL`), which is the
    guarantee on every database. On PostgreSQL the inner SELECT locks the seat with SKIP
    LOCKED, so a booking passes over a seat another booking is taking right now instead of
    queueing behind it. Plain SQL: this runs once per slot of every hold in a rush.
    """
    adapt = connection.ops.adapt_datetimefield_value
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    table = Slot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET booking_id = %s, held_until = %s, free_from = NULL
            WHERE id = (
                SELECT id FROM {table}
                WHERE tenant_id = %s AND location_id = %s AND start = %s AND channel = %s
                  AND {FREE_SQL}
                ORDER BY seat LIMIT 1{skip_locked}
            ) AND {FREE_SQL}
            RETURNING "end"
            """,  # noqa: S608 - only the table name and fixed SQL are formatted in
            [
                booking.pk,
                adapt(booking.hold_until),
                booking.tenant_id,
                booking.location_id,
                adapt(start),
                kind,
                adapt(now),
                adapt(now),
                adapt(now),
                adapt(now),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else _as_datetime(row[0])


def _take_slots(
    *, booking: Booking, first: dt.datetime, count: int, channel: str, now: dt.datetime
) -> dt.datetime:
    """Take `count` consecutive slots from `first` for the booking and return the end of the
    last one, or raise `BookingError` (the caller's transaction then gives back the others)."""
    start = first
    kinds = CHANNEL_SLOTS[channel]
    for _step in range(count):
        end = next(
            (end for kind in kinds if (end := _take_seat(booking, start, kind, now)) is not None),
            None,
        )
        if end is None:
            raise taken_error()
        start = end
    return start


def booking_hold(
    *,
    request: Request,
    start: dt.datetime,
    name: str,
    email: str,
    phone: str = "",
    channel: str = BookingChannel.ONLINE,
    idempotency_key: str = "",
    language: str = "de",
    actor: User | None = None,
    now: dt.datetime | None = None,
    policy: BookingPolicy | None = None,
) -> Booking:
    """Hold the slots from `start` for the request (online) or book them outright (staff).

    1. Services, quantities and combinations are checked; the cap per e-mail is checked under
       a per-person lock.
    2. The booking is written with a new code and the idempotency key. The database's unique
       constraints refuse a second booking with the same key (double click, retry), and the
       booking made with it is returned instead; a code the tenant has already (about once
       in 10^11) is replaced by a new one. The API and the portal look the key up themselves
       first, so a repeated submit is usually answered before it gets here.
    3. The slots are taken in order (see the module docstring); if one is gone, nothing stays.
    4. Online bookings wait for the e-mail link (`hold_minutes`); phone and internal ones are
       confirmed at once, the citizen is on the line.
    """
    now = now or timezone.now()
    tenant = request.location.tenant
    policy = policy or BookingPolicy.for_tenant(tenant)
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _booking_hold(
                    request=request,
                    start=start,
                    name=name,
                    email=email,
                    phone=phone,
                    channel=channel,
                    idempotency_key=idempotency_key,
                    language=language,
                    actor=actor,
                    now=now,
                    policy=policy,
                )
        except IntegrityError:
            existing = booking_by_idempotency_key(tenant, idempotency_key)
            if existing is not None:
                return existing
            if attempt:
                raise
    raise AssertionError("the loop returns or raises")


def _booking_hold(
    *,
    request: Request,
    start: dt.datetime,
    name: str,
    email: str,
    phone: str,
    channel: str,
    idempotency_key: str,
    language: str,
    actor: User | None,
    now: dt.datetime,
    policy: BookingPolicy,
) -> Booking:
    tenant = request.location.tenant
    minutes = request_check(request)
    first = _first_slot(request.location, start, channel, now)
    count = slots_needed(minutes, int((first.end - first.start).total_seconds() // 60))
    # On the usual even grid the booking ends `count` slot lengths on; checked below.
    end = start + count * (first.end - first.start)
    key = email_key(email)
    _lock_person(key)
    _check_cap(policy, request, key, idempotency_key, now)
    online = channel == BookingChannel.ONLINE
    booking = Booking(
        tenant=tenant,
        code=_new_code(),
        location=request.location,
        start=start,
        end=end,
        channel=channel,
        status=BookingStatus.HELD if online else BookingStatus.CONFIRMED,
        name=name.strip(),
        email=email.strip(),
        phone=phone.strip(),
        email_key=key,
        language=language,
        hold_until=now + dt.timedelta(minutes=policy.hold_minutes) if online else None,
        slot_count=count,
        idempotency_key=idempotency_key,
        created_by=actor,
        created_at=now,
        confirmed_at=None if online else now,
    )
    booking.save(force_insert=True)  # not `objects.create`: the scope's filter is of no use here
    last_end = _take_slots(booking=booking, first=start, count=count, channel=channel, now=now)
    if last_end != end:  # slots of different lengths (the rule changed that day)
        booking.end = last_end
        booking.save(update_fields=["end"])
    booking.service_items = BookingItem.objects.bulk_create(
        [
            BookingItem(tenant=tenant, booking=booking, service=service, quantity=quantity)
            for service, quantity in request.items
        ]
    )  # see selectors.booking_service_items
    _booking_event(
        booking,
        "booking_held" if online else "booking_confirmed",
        actor,
        now,
        services=[service.pk for service, _quantity in request.items],
    )
    if booking.email:
        booking_mail_later("confirm_request" if online else "confirmed", booking)
    return booking


def _booking_event(
    booking: Booking,
    activity: str,
    actor: User | None,
    now: dt.datetime,
    services: list[int] | None = None,
    **payload: object,
) -> None:
    if services is None:
        services = [item.service_id for item in booking.items.all()]
    event_append(
        tenant=booking.tenant,
        subject_kind="booking",
        subject_id=booking.pk,
        activity=activity,
        actor=actor,
        channel=booking.channel,
        timestamp=now,
        payload={
            "location": booking.location_id,
            "start": booking.start.isoformat(),
            "services": sorted(services),
            **payload,
        },
    )


def booking_confirm(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The citizen pressed the button on the page of the e-mail link. Idempotent; raises
    `BookingError` once the hold ran out (`expired`) or the booking was cancelled or served
    meanwhile (`not_active`), the answers `rules.confirm_refusal` gives beforehand.

    The slots are kept by clearing `held_until` in one UPDATE. Should a slot have gone to
    someone else all the same (a clock step between servers), fewer rows match and the
    booking expires instead of being confirmed with a missing slot.
    """
    now = now or timezone.now()
    if booking.status == BookingStatus.HELD and booking.hold_until and booking.hold_until >= now:
        with transaction.atomic():
            # Compare-and-set: of two clicks on the link at once, one confirms (one event, one
            # mail); the other finds the booking confirmed and returns it.
            won = Booking.objects.filter(pk=booking.pk, status=BookingStatus.HELD).update(
                status=BookingStatus.CONFIRMED, confirmed_at=now, hold_until=None
            )
            kept = Slot.objects.filter(booking=booking).update(held_until=None)
            if won and kept == booking.slot_count:
                booking.status, booking.confirmed_at, booking.hold_until = (
                    BookingStatus.CONFIRMED,
                    now,
                    None,
                )
                _booking_event(booking, "booking_confirmed", None, now)
                booking_mail_later("confirmed", booking)
                return booking
            transaction.set_rollback(True)
        booking.refresh_from_db(fields=["status", "confirmed_at", "hold_until"])
    if booking.status == BookingStatus.CONFIRMED:
        return booking
    refusal = not_confirmable(booking.status)  # a hold past its time or that lost a slot
    if booking.status == BookingStatus.HELD:
        _expire(booking, now)
    raise refusal


@transaction.atomic
def _expire(booking: Booking, now: dt.datetime) -> None:
    """A hold that ran out gives its slots back. Compare-and-set on the status: a booking that
    another request confirmed or expired meanwhile keeps its slots and logs nothing."""
    held = Booking.objects.filter(pk=booking.pk, status=BookingStatus.HELD)
    if not held.update(status=BookingStatus.EXPIRED):
        return
    booking.status = BookingStatus.EXPIRED
    Slot.objects.filter(booking=booking).update(booking=None, held_until=None)
    _booking_event(booking, "booking_expired", None, now)


def holds_expire(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Release the slots of holds whose time ran out (the worker runs this every minute)."""
    now = now or timezone.now()
    expired = list(
        Booking.objects.filter(status=BookingStatus.HELD, hold_until__lt=now).prefetch_related(
            "items"
        )
    )
    for booking in expired:
        _expire(booking, now)
    return len(expired)


@transaction.atomic
def booking_cancel(
    *, booking: Booking, actor: User | None = None, now: dt.datetime | None = None
) -> Booking:
    """Cancel; the slots are offered again only after the tenant's delay (against trading)."""
    now = now or timezone.now()
    if booking.status not in ACTIVE_BOOKING:
        raise BookingError(_("This appointment cannot be cancelled any more."), code="not_active")
    policy = BookingPolicy.for_tenant(booking.tenant)
    Slot.objects.filter(booking=booking).update(
        booking=None,
        held_until=None,
        free_from=now + dt.timedelta(minutes=policy.cancel_return_minutes),
    )
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.save(update_fields=["status", "cancelled_at"])
    _booking_event(booking, "booking_cancelled", actor, now)
    if booking.email:
        booking_mail_later("cancelled", booking)
    return booking


@transaction.atomic
def booking_reschedule(
    *,
    booking: Booking,
    start: dt.datetime,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Move a confirmed appointment: take the new slots first, then give the old ones back."""
    now = now or timezone.now()
    if booking.status != BookingStatus.CONFIRMED:
        raise BookingError(_("Only a confirmed appointment can be moved."), code="not_active")
    _first_slot(booking.location, start, booking.channel, now)
    old = list(Slot.objects.filter(booking=booking).values_list("pk", flat=True))
    policy = BookingPolicy.for_tenant(booking.tenant)
    end = _take_slots(
        booking=booking, first=start, count=booking.slot_count, channel=booking.channel, now=now
    )
    # The new slots are never old ones: `free_q` does not match the booking's own slots.
    Slot.objects.filter(pk__in=old).update(
        booking=None, free_from=now + dt.timedelta(minutes=policy.cancel_return_minutes)
    )
    previous = booking.start
    booking.start, booking.end, booking.reminded_at = start, end, None
    booking.save(update_fields=["start", "end", "reminded_at"])
    _booking_event(booking, "booking_rescheduled", actor, now, previous=previous.isoformat())
    if booking.email:
        booking_mail_later("confirmed", booking)
    return booking


# Appointment e-mails: what became of them, in the event log (`selectors.undelivered_mails`)


def booking_mail_logged(*, booking: Booking, kind: str, error: BaseException | None = None) -> None:
    """The worker's outcome of one appointment e-mail: sent, or given up on after the last
    try (`error`). Only the error's kind is kept, never its text: a refused recipient's
    message names the address, and events hold no personal data."""
    if error is None:
        _booking_event(booking, MAIL_SENT, None, timezone.now(), mail=kind)
    else:
        _booking_event(
            booking, MAIL_FAILED, None, timezone.now(), mail=kind, error=type(error).__name__
        )


@transaction.atomic
def booking_mail_resend(
    *,
    booking: Booking,
    kind: str,
    email: str = "",
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Staff send an e-mail the worker gave up on once more: the mail server is back, or the
    citizen gave a corrected address by phone (`email`). Only while it still tells the truth."""
    now = now or timezone.now()
    if not mail_still_fits(booking, kind, now):
        raise BookingError(
            _("This e-mail no longer fits the appointment and is not sent again."),
            code="mail_outdated",
        )
    corrected = bool(email.strip()) and email_key(email) != booking.email_key
    if corrected:
        booking.email, booking.email_key = email.strip(), email_key(email)
        booking.save(update_fields=["email", "email_key"])
    _booking_event(booking, MAIL_RESENT, actor, now, mail=kind, address_corrected=corrected)
    booking_mail_later(kind, booking)


def reminders_send(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """E-mail everyone with an appointment tomorrow who has not been reminded yet."""
    now = now or timezone.now()
    zone = tenant.zone
    tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
    begin = dt.datetime.combine(tomorrow, dt.time(), tzinfo=zone)
    due = Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        reminded_at__isnull=True,
        start__gte=begin,
        start__lt=begin + dt.timedelta(days=1),
    ).exclude(email="")
    count = 0
    for booking in due:
        with transaction.atomic():
            if Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                booking_mail_later("reminder", booking)
                count += 1
    return count


ERASE_BATCH = 1000


def bookings_erase(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Retention: erase name, e-mail address and phone number of the bookings that ended the
    tenant's `erase_after_days` ago: the appointment, or the cancellation, or the hold that ran
    out unconfirmed. The booking (code, time, services, status) and its events stay, so the
    figures and the audit trail survive without the person. In batches, each in its own
    transaction with its `booking_erased` events; returns how many were erased."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=BookingPolicy.for_tenant(tenant).erase_after_days)
    due = Booking.objects.filter(erased_at__isnull=True).filter(
        Q(end__lt=cutoff)
        | Q(status=BookingStatus.CANCELLED, cancelled_at__lt=cutoff)
        | Q(status=BookingStatus.EXPIRED, hold_until__lt=cutoff)
    )
    erased = 0
    while batch := list(due.order_by("pk").values_list("pk", flat=True)[:ERASE_BATCH]):
        with transaction.atomic():
            Booking.objects.filter(pk__in=batch).update(
                name="", email="", phone="", email_key="", erased_at=now
            )
            Event.objects.bulk_create(
                event_build(
                    tenant=tenant,
                    subject_kind="booking",
                    subject_id=pk,
                    activity="booking_erased",
                    timestamp=now,
                )
                for pk in batch
            )
        erased += len(batch)
    return erased


@transaction.atomic
def no_shows_mark(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Confirmed appointments nobody checked in for count as no-shows after the grace time."""
    now = now or timezone.now()
    policy = BookingPolicy.for_tenant(tenant)
    late = list(
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            start__lt=now - dt.timedelta(minutes=policy.no_show_after_minutes),
        ).prefetch_related("items")
    )
    for booking in late:
        booking.status = BookingStatus.NO_SHOW
        booking.save(update_fields=["status"])
        _booking_event(booking, "booking_no_show", None, now)
    return len(late)


# ---------------------------------------------------------------------------------------------
# Walk-ins, check-in and the counter


def device_key_get(*, location: Location) -> str:
    """The secret of the location's device links (made on first use)."""
    return DeviceKey.objects.get_or_create(tenant=location.tenant, location=location)[0].key


@transaction.atomic
def device_key_renew(*, location: Location, actor: User | None = None) -> str:
    """A new secret: the kiosk and display links given out so far stop working at once."""
    device, _created = DeviceKey.objects.update_or_create(
        tenant=location.tenant,
        location=location,
        defaults={"key": new_device_key(), "renewed_at": timezone.now()},
    )
    _location_event(location, "device_links_renewed", actor)
    return device.key


def ticket_class_for(services: Sequence[Service]) -> TicketClass | None:
    classes = list(TicketClass.objects.prefetch_related("services"))
    return class_for(classes, {s.pk for s in services})


def _ticket_create(
    *,
    location: Location,
    services: Sequence[Service],
    prefix: str,
    ticket_class: TicketClass | None,
    booking: Booking | None,
    due_at: dt.datetime,
    now: dt.datetime,
) -> Ticket:
    day = timezone.localdate(now)
    expected = 0 if booking is not None else expected_wait_seconds(location=location, now=now)
    for _attempt in range(5):  # two kiosks may draw the same number; the constraint decides
        last = Ticket.objects.filter(location=location, day=day, prefix=prefix).aggregate(
            n=Max("number")
        )["n"]
        try:
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    tenant=location.tenant,
                    location=location,
                    day=day,
                    prefix=prefix,
                    number=(last or 0) + 1,
                    ticket_class=ticket_class,
                    booking=booking,
                    arrived_at=now,
                    due_at=due_at,
                    expected_wait_seconds=expected,
                )
        except IntegrityError:
            continue
        ticket.services.set(services)
        event_append(
            tenant=location.tenant,
            subject_kind="ticket",
            subject_id=ticket.pk,
            activity="ticket_issued",
            channel="counter",
            timestamp=now,
            payload={
                "location": location.pk,
                "class": prefix,
                "appointment": booking is not None,
                "appointment_start": booking.start.isoformat() if booking else None,
                "expected_wait": expected,
                "services": sorted(s.pk for s in services),
            },
        )
        return ticket
    raise RuntimeError("No free ticket number after five attempts.")


@transaction.atomic
def ticket_issue(
    *, location: Location, services: Sequence[Service], now: dt.datetime | None = None
) -> Ticket:
    """A walk-in draws a number at the kiosk."""
    now = now or timezone.now()
    if not services:
        raise BookingError(_("Please choose what you have come for."), code="no_service")
    offered = set(location.services.values_list("pk", flat=True))
    if any(s.pk not in offered for s in services):
        raise BookingError(_("This service is not offered at this location."), code="not_offered")
    ticket_class = ticket_class_for(services)
    prefix = ticket_class.prefix if ticket_class else "W"
    return _ticket_create(
        location=location,
        services=services,
        prefix=prefix,
        ticket_class=ticket_class,
        booking=None,
        due_at=now,
        now=now,
    )


@transaction.atomic
def booking_check_in(
    *, booking: Booking | None, location: Location, now: dt.datetime | None = None
) -> Ticket:
    """An appointment holder arrives; they queue from their appointment time, not before.
    `booking` is None when the code the citizen typed or scanned matches nothing."""
    now = now or timezone.now()
    if booking and booking.status == BookingStatus.CHECKED_IN and hasattr(booking, "ticket"):
        return booking.ticket
    if (
        booking is None
        or booking.status != BookingStatus.CONFIRMED
        or booking.location_id != location.pk
    ):
        raise BookingError(
            _("We could not find a confirmed appointment with this code here today."),
            code="unknown",
        )
    if timezone.localdate(booking.start) != timezone.localdate(now):
        raise BookingError(
            _("Your appointment is on %(day)s. Please come back then.")
            % {"day": timezone.localtime(booking.start).strftime("%d.%m.%Y %H:%M")},
            code="other_day",
        )
    policy = BookingPolicy.for_tenant(booking.tenant)
    if now < booking.start - dt.timedelta(minutes=policy.check_in_early_minutes):
        raise BookingError(
            _("Check-in opens %(minutes)d minutes before your appointment.")
            % {"minutes": policy.check_in_early_minutes},
            code="too_early",
        )
    booking.status = BookingStatus.CHECKED_IN
    booking.save(update_fields=["status"])
    _booking_event(booking, "booking_checked_in", None, now)
    return _ticket_create(
        location=location,
        services=[i.service for i in booking.items.all()],  # prefetched by `booking_by_code`
        prefix=APPOINTMENT_PREFIX,
        ticket_class=None,
        booking=booking,
        due_at=max(now, booking.start),
        now=now,
    )


def _ticket_event(
    ticket: Ticket, activity: str, actor: User | None, now: dt.datetime, **payload: object
) -> None:
    event_append(
        tenant=ticket.tenant,
        subject_kind="ticket",
        subject_id=ticket.pk,
        activity=activity,
        actor=actor,
        channel="counter",
        timestamp=now,
        payload={"location": ticket.location_id, **payload},
    )


def ticket_call_next(
    *, counter: Counter, actor: User | None = None, now: dt.datetime | None = None
) -> Ticket | None:
    """Call the next ticket for this counter by the documented rule (`selectors.call_order`).

    Two counters pressing at once never get the same ticket: the ticket is taken with an
    UPDATE that only matches while it is still waiting; the loser takes the next one.
    """
    now = now or timezone.now()
    for ticket in call_order(counter=counter, now=now):
        with transaction.atomic():
            taken = Ticket.objects.filter(pk=ticket.pk, status=TicketStatus.WAITING).update(
                status=TicketStatus.CALLED,
                counter=counter,
                called_at=F("called_at") if ticket.called_at else now,
                last_called_at=now,
                calls=F("calls") + 1,
            )
            if taken:
                ticket.refresh_from_db()
                _ticket_event(ticket, "ticket_called", actor, now, counter=counter.name)
                return ticket
    return None


def _ticket_change(
    ticket: Ticket,
    allowed: Sequence[str],
    activity: str,
    actor: User | None,
    now: dt.datetime,
    **changes: object,
) -> Ticket:
    if ticket.status not in allowed:
        raise BookingError(
            _("Ticket %(ticket)s is %(status)s; this step is not possible now.")
            % {"ticket": ticket.label, "status": ticket.get_status_display()},
            code="state",
        )
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.save(update_fields=list(changes))
    _ticket_event(
        ticket,
        activity,
        actor,
        now,
        counter=ticket.counter.name if ticket.counter else "",
    )
    return ticket


@transaction.atomic
def ticket_recall(
    *,
    ticket: Ticket,
    counter: Counter | None = None,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Call the same number again, e.g. a parked ticket whose papers are ready; `counter` is
    where it is called to now (the display shows that one)."""
    now = now or timezone.now()
    return _ticket_change(
        ticket,
        [TicketStatus.CALLED, TicketStatus.PARKED],
        "ticket_recalled",
        actor,
        now,
        status=TicketStatus.CALLED,
        last_called_at=now,
        calls=ticket.calls + 1,
        counter=counter or ticket.counter,
    )


@transaction.atomic
def ticket_park(
    *, ticket: Ticket, actor: User | None = None, now: dt.datetime | None = None
) -> Ticket:
    now = now or timezone.now()
    return _ticket_change(
        ticket,
        [TicketStatus.CALLED, TicketStatus.SERVING],
        "ticket_parked",
        actor,
        now,
        status=TicketStatus.PARKED,
    )


@transaction.atomic
def ticket_start(
    *, ticket: Ticket, actor: User | None = None, now: dt.datetime | None = None
) -> Ticket:
    now = now or timezone.now()
    return _ticket_change(
        ticket,
        [TicketStatus.CALLED],
        "service_started",
        actor,
        now,
        status=TicketStatus.SERVING,
        started_at=now,
    )


@transaction.atomic
def ticket_finish(
    *,
    ticket: Ticket,
    services_done: Sequence[Service],
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Service ends; the services actually done are recorded (they may differ from the request)."""
    now = now or timezone.now()
    if not services_done:
        raise BookingError(_("Please record at least one service done."), code="no_service")
    _ticket_change(
        ticket,
        [TicketStatus.SERVING],
        "service_finished",
        actor,
        now,
        status=TicketStatus.DONE,
        finished_at=now,
    )
    ticket.services_done.set(services_done)
    _ticket_booking_status(ticket, BookingStatus.DONE, "booking_done", actor, now)
    return ticket


def _ticket_booking_status(
    ticket: Ticket, status: str, activity: str, actor: User | None, now: dt.datetime
) -> None:
    """The appointment behind a ticket ends with it; the log gets the booking's event too,
    so the figures count a checked-in holder who did not answer the call as a no-show."""
    if ticket.booking_id is None:
        return
    booking = Booking.objects.get(pk=ticket.booking_id)
    booking.status = status
    booking.save(update_fields=["status"])
    _booking_event(booking, activity, actor, now)


@transaction.atomic
def ticket_no_show(
    *, ticket: Ticket, actor: User | None = None, now: dt.datetime | None = None
) -> Ticket:
    now = now or timezone.now()
    _ticket_change(
        ticket,
        [TicketStatus.CALLED, TicketStatus.PARKED],
        "ticket_no_show",
        actor,
        now,
        status=TicketStatus.NO_SHOW,
        finished_at=now,
    )
    _ticket_booking_status(ticket, BookingStatus.NO_SHOW, "booking_no_show", actor, now)
    return ticket


@transaction.atomic
def ticket_transfer(
    *,
    ticket: Ticket,
    counter: Counter | None = None,
    services: Sequence[Service] = (),
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Send the citizen back to the queue for another counter or service; they keep their place."""
    now = now or timezone.now()
    if counter is None and not services:
        raise BookingError(_("Choose a counter or a service to transfer to."), code="no_target")
    _ticket_change(
        ticket,
        [TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.PARKED],
        "ticket_transferred",
        actor,
        now,
        status=TicketStatus.WAITING,
        counter=counter,
    )
    if services:
        ticket.services.set(services)
    return ticket

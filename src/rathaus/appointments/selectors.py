"""Reads of the appointments app: free times, the call order, the display, the day plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Replace
from django.utils import timezone

from rathaus.catalog.models import Location, Service
from rathaus.catalog.selectors import published_services
from rathaus.core.keys import phone_key
from rathaus.core.models import Event, Tenant

from . import events
from .models import (
    CHANNEL_SLOTS,
    AvailabilityRule,
    Booking,
    BookingChannel,
    BookingItem,
    BookingPolicy,
    BookingStatus,
    Counter,
    DeviceKey,
    OfferedService,
    Slot,
    Ticket,
    TicketStatus,
)
from .rules import (
    FREE_SQL,
    MAIL_KINDS,
    BookingError,
    BookingRequest,
    bookable_window,
    free_q,
    mail_error_text,
    mail_still_fits,
    request_check,
    slots_needed,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

DISPLAY_RECENT = 8
PHONE_SEPARATORS = (" ", "-", "/", "(", ")", ".")  # what a stored number may contain
UNDELIVERED_DAYS = 60  # how far back the office looks for e-mails the worker gave up on


def _free_slots(
    request: BookingRequest, channel: str, now: dt.datetime, day: dt.date | None
) -> QuerySet[Slot]:
    """The channel's free future slots at the location, within each rule's booking window."""
    zone = timezone.get_current_timezone()
    window = Q(pk__in=[])
    for rule in AvailabilityRule.objects.filter(location=request.location):
        first, last = bookable_window(rule, now, channel)
        if day is not None:
            first, last = max(first, day), min(last, day)
        window |= Q(
            rule=rule,
            start__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone),
            start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone),
        )
    slots = (
        Slot.objects.filter(location=request.location, channel__in=CHANNEL_SLOTS[channel])
        .filter(window)
        .filter(free_q(now), start__gt=now)
    )
    return slots


class Epoch(Func):
    """Seconds since 1970 of a datetime column, computed by the database (cheaper to load)."""

    output_field = IntegerField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::bigint", **extra
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        # '%%%%s' survives the template ('%%s') and the backend's placeholder pass ('%s').
        return self.as_sql(
            compiler,
            connection,
            template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)",
            **extra,
        )


def _fitting_starts(slots: QuerySet[Slot], minutes: int) -> list[int]:
    """Starts (epoch seconds) where `minutes` fit: the start and the slots following it back to
    back are free. Epoch integers load and hash far faster than aware datetimes."""
    rows = list(
        slots.annotate(s=Epoch("start"), e=Epoch("end"))
        .values_list("s", "e")
        .distinct()
        .order_by("s")
    )
    free = dict(rows)
    result = []
    for start, end in rows:
        cursor = end
        for _i in range(slots_needed(minutes, (end - start) // 60) - 1):
            cursor = free.get(cursor, 0)
            if not cursor:
                break
        if cursor:
            result.append(start)
    return result


def free_starts(
    *,
    request: BookingRequest,
    channel: str = BookingChannel.ONLINE,
    now: dt.datetime | None = None,
    day: dt.date | None = None,
) -> list[dt.datetime]:
    """Start times at which the whole request fits, within the channel's window (one day or all)."""
    now = now or timezone.now()
    minutes = request_check(request)
    slots = _free_slots(request, channel, now, day)
    return [
        dt.datetime.fromtimestamp(start, tz=dt.UTC) for start in _fitting_starts(slots, minutes)
    ]


def free_days(
    *, request: BookingRequest, channel: str = BookingChannel.ONLINE, now: dt.datetime | None = None
) -> dict[dt.date, int]:
    """Days with at least one fitting start, and how many starts each has."""
    now = now or timezone.now()
    minutes = request_check(request)
    slots = _free_slots(request, channel, now, None)
    zone = timezone.get_current_timezone()
    days: dict[dt.date, int] = defaultdict(int)
    for start in _fitting_starts(slots, minutes):
        days[dt.datetime.fromtimestamp(start, tz=zone).date()] += 1
    return dict(days)


def start_is_free(
    *,
    request: BookingRequest,
    start: dt.datetime,
    channel: str = BookingChannel.ONLINE,
    day: dt.date | None = None,
) -> bool:
    """The start is still offered to the channel (window, quota, release time); False also
    when the request cannot be booked at its location at all."""
    try:
        return start in free_starts(
            request=request, channel=channel, day=day or timezone.localdate(start)
        )
    except BookingError:
        return False


def earliest_anywhere(
    *,
    items: tuple[tuple[Service, int], ...],
    locations: QuerySet[Location] | list[Location],
    channel: str = BookingChannel.ONLINE,
    now: dt.datetime | None = None,
) -> list[tuple[dt.datetime, Location]]:
    """The first free start at every location that offers the services, earliest first."""
    found = []
    for location in locations:
        request = BookingRequest(location=location, items=items)
        try:
            starts = free_starts(request=request, channel=channel, now=now)
        except BookingError:  # a location that does not offer the services is skipped
            continue
        if starts:
            found.append((starts[0], location))
    return sorted(found, key=lambda pair: pair[0])


def bookable_locations() -> QuerySet[Location]:
    has_rule = AvailabilityRule.objects.filter(location=OuterRef("pk"))
    return Location.objects.filter(Exists(has_rule)).order_by("name")


def device_key_of(location: Location) -> str | None:
    """The secret the location's kiosk and display links carry; None before staff first
    asked for the links, when no link can be valid."""
    return DeviceKey.objects.filter(location=location).values_list("key", flat=True).first()


def office_locations() -> QuerySet[Location]:
    """The citizen offices: locations with booking rules, counters or services offered."""
    here = {"location": OuterRef("pk")}
    return Location.objects.filter(
        Exists(AvailabilityRule.objects.filter(**here))
        | Exists(Counter.objects.filter(**here))
        | Exists(OfferedService.objects.filter(**here))
    ).order_by("name")


def bookable_offers() -> QuerySet[OfferedService]:
    """Services citizens can book: published, bookable, offered where booking rules exist."""
    return OfferedService.objects.filter(
        location__in=bookable_locations(),
        service__in=published_services().filter(bookable=True),
    )


def offers_with_location(location_id: int, service_ids: Sequence[int]) -> dict[int, OfferedService]:
    """`rules.offers_at` for a location known by its id: the offers with their services and
    with the location and its tenant, in one query (the API's booking path)."""
    offers = OfferedService.objects.filter(location_id=location_id, service__in=service_ids)
    # Unordered: a dict needs no order, and ordering across the joined columns costs more
    # Python than the query itself (docs/performance.md).
    offers = offers.select_related("service", "location__tenant").order_by()
    return {o.service_id: o for o in offers}


# A prefetch of a booking's items (the stubs type it by lookup, queryset and attribute).
ItemsPrefetch = Prefetch[str, QuerySet[BookingItem], str]


def booking_items() -> ItemsPrefetch:
    """A booking's services with their names, in one query (built in the tenant's scope)."""
    return Prefetch("items", queryset=BookingItem.objects.select_related("service"))


def booking_service_items() -> ItemsPrefetch:
    """The same as the list `booking.service_items`. A booking `booking_hold` has just made
    has that list already, so answering with the new booking reads nothing back."""
    items = BookingItem.objects.select_related("service")
    return Prefetch("items", queryset=items, to_attr="service_items")


def booking_by_idempotency_key(tenant: Tenant, key: str) -> Booking | None:
    """The booking an earlier submit with this key made (double click, retry), if any."""
    if not key:
        return None
    try:
        return Booking.objects.get(tenant=tenant, idempotency_key=key)
    except Booking.DoesNotExist:
        return None


@dataclass(frozen=True)
class HoldOutlook:
    """What a booking request will meet, read before anything else is looked up."""

    replay: int | None  # the booking an earlier submit with the same key made
    location_bookable: bool  # the tenant's location, and it has booking rules
    sold_out: bool  # bookable location, the tenant's services, and no free slot at that time


def hold_outlook(
    *,
    tenant: Tenant,
    key: str,
    location: int,
    services: list[int],
    start: dt.datetime,
    channel: str,
    now: dt.datetime,
) -> HoldOutlook:
    """One read-only query that answers most requests of a booking rush: the losers get their
    answer without the lookups of location and services and without the booking transaction.

    `sold_out` holds when the location takes bookings and every service id is the tenant's
    (what the API checks before it tries a hold), and there are slots at `start` for the
    channel of which none is free. Everything else (unknown ids, window, release time,
    unknown times) goes the full way and gets its precise answer.

    Plain SQL because the ORM takes four times as long to build these reads as the database
    takes to run them (docs/performance.md). Every part names the tenant itself, as the
    scope would. The free condition is `rules.FREE_SQL`.
    """
    kinds = CHANNEL_SLOTS[channel]
    adapt = connection.ops.adapt_datetimefield_value
    places = ", ".join
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              (SELECT id FROM {Booking._meta.db_table}
               WHERE tenant_id = %s AND idempotency_key = %s AND idempotency_key <> ''),
              EXISTS (SELECT 1 FROM {Location._meta.db_table} AS l
                      WHERE l.id = %s AND l.tenant_id = %s AND EXISTS (
                        SELECT 1 FROM {AvailabilityRule._meta.db_table} AS r
                        WHERE r.location_id = l.id AND r.tenant_id = %s)),
              (SELECT COUNT(*) FROM {Service._meta.db_table}
               WHERE tenant_id = %s AND id IN ({places(["%s"] * len(services)) or "NULL"})),
              seats.slots, seats.free
            FROM (
              SELECT COUNT(*) AS slots, COUNT(CASE WHEN {FREE_SQL} THEN 1 END) AS free
              FROM {Slot._meta.db_table}
              WHERE tenant_id = %s AND location_id = %s AND start = %s
                AND channel IN ({places(["%s"] * len(kinds))})
            ) AS seats
            """,  # noqa: S608 - only table names and placeholders are formatted in
            [
                tenant.pk,
                key,
                location,
                tenant.pk,
                tenant.pk,
                tenant.pk,
                *services,
                adapt(now),
                adapt(now),
                tenant.pk,
                location,
                adapt(start),
                *kinds,
            ],
        )
        replay, location_bookable, known_services, slots, free = cursor.fetchone()
    known = bool(location_bookable) and bool(services) and known_services == len(services)
    return HoldOutlook(
        replay=replay,
        location_bookable=bool(location_bookable),
        sold_out=known and bool(slots) and not free,
    )


def booking_by_code(code: str, items: ItemsPrefetch | None = None) -> Booking | None:
    """The booking with this code, its location and its items (`booking_items()` unless the
    caller wants them another way, e.g. `booking_service_items()`)."""
    return (
        Booking.objects.filter(code=code.strip().upper())
        .select_related("location")
        .prefetch_related(items or booking_items())
        .first()
    )


def bookings_matching(text: str) -> QuerySet[Booking]:
    """Bookings whose citizen matches: part of the name or the e-mail address, or of the phone
    number (read as `core.keys.phone_key` reads numbers; separators in the stored
    number ignored, the area code with or without its 0 or +49). Newest first; erased
    bookings have nothing left to match."""
    match = Q(name__icontains=text) | Q(email_key__contains=text.lower())
    digits = phone_key(text).removeprefix("0")  # "030 …" and "+49 30 …" alike
    bookings = Booking.objects.all()
    if len(digits) >= 4:
        phone: Any = F("phone")
        for separator in PHONE_SEPARATORS:
            phone = Replace(phone, Value(separator), Value(""))
        bookings = bookings.alias(phone_digits=phone)
        match |= Q(phone_digits__contains=digits)
    return bookings.filter(match).select_related("location").order_by("-start", "-pk")


# ---------------------------------------------------------------------------------------------
# The queue


def call_order(
    *, counter: Counter, now: dt.datetime, policy: BookingPolicy | None = None
) -> list[Ticket]:
    """The waiting tickets this counter may call, in the order it should call them.

    The rule (shown to staff on the counter screen):
    1. A walk-in who has waited longer than the tenant's limit (default 30 minutes) comes
       first, so appointments can never starve the queue.
    2. Then appointment holders whose time has come, by appointment time.
    3. Then walk-ins, most overdue first: waiting time divided by the target time of their
       ticket class, so a quick-matter ticket (target 10 min) is not stuck behind a long
       queue of 'everything else' (target 20 min); ties go to the earlier arrival.
    4. Last, appointment holders who checked in early.
    A ticket transferred to a particular counter is only called there.
    """
    policy = policy or BookingPolicy.for_tenant(counter.tenant)
    servable = set(counter.services.values_list("pk", flat=True))
    waiting = (
        Ticket.objects.filter(
            location=counter.location,
            day=timezone.localdate(now),
            status=TicketStatus.WAITING,
        )
        .filter(Q(counter__isnull=True) | Q(counter=counter))
        .select_related("ticket_class")
        .prefetch_related("services")
    )
    tickets = [
        t
        for t in waiting
        if not servable or not t.services.all() or servable & {s.pk for s in t.services.all()}
    ]
    limit = dt.timedelta(minutes=policy.walk_in_max_wait_minutes)

    def rank(ticket: Ticket) -> tuple[float, ...]:
        waited = now - ticket.due_at
        if ticket.booking_id is None:
            if waited >= limit:
                return (0, -waited.total_seconds())
            target = (ticket.ticket_class.target_wait_minutes if ticket.ticket_class else 15) * 60
            return (2, -waited.total_seconds() / max(target, 60), ticket.arrived_at.timestamp())
        if ticket.due_at <= now:
            return (1, ticket.due_at.timestamp())
        return (3, ticket.due_at.timestamp())

    return sorted(tickets, key=rank)


def expected_wait_seconds(*, location: Location, now: dt.datetime) -> int:
    """Waiting time a new walk-in should expect: the walk-ins ahead times the recent median
    walk-in service time, shared by the counters that called walk-ins in the last hour.

    Appointment holders and counters kept for appointments are left out: counting them made
    the estimate half the real wait in the demo year (see the estimate table of the figures).
    """
    walk_ins = Ticket.objects.filter(
        location=location, day=timezone.localdate(now), booking__isnull=True
    )
    ahead = walk_ins.filter(status=TicketStatus.WAITING).count()
    if not ahead:
        return 0
    recent = [
        (finished - started).total_seconds()  # type: ignore[operator]  # both filtered non-null
        for started, finished in walk_ins.filter(
            status=TicketStatus.DONE, started_at__isnull=False, finished_at__isnull=False
        )
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:20]
    ]
    service = median(recent) if recent else 600
    counters = (
        walk_ins.filter(called_at__gte=now - dt.timedelta(hours=1), counter__isnull=False)
        .values("counter")
        .distinct()
        .count()
        or Counter.objects.filter(location=location, active=True).count()
        or 1
    )
    return int(ahead * service / counters)


def display_calls(*, location: Location, now: dt.datetime) -> list[Ticket]:
    """Tickets called today, the newest call first (the first one is shown large)."""
    return list(
        Ticket.objects.filter(
            location=location,
            day=timezone.localdate(now),
            last_called_at__isnull=False,
            status__in=[TicketStatus.CALLED, TicketStatus.SERVING],
        )
        .select_related("counter")
        .order_by("-last_called_at")[:DISPLAY_RECENT]
    )


def counter_queue(*, location: Location, now: dt.datetime) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(location=location, day=timezone.localdate(now))
        .filter(status__in=[TicketStatus.WAITING, TicketStatus.PARKED])
        .select_related("ticket_class", "booking", "counter")
        .prefetch_related("services")
        .order_by("due_at")
    )


def counter_current(*, counter: Counter, now: dt.datetime) -> list[Ticket]:
    """The tickets this counter has called or is serving today, latest call first."""
    return list(
        Ticket.objects.filter(
            counter=counter,
            day=timezone.localdate(now),
            status__in=[TicketStatus.CALLED, TicketStatus.SERVING],
        )
        .select_related("booking", "ticket_class")
        .prefetch_related("services")
        .order_by("-last_called_at")
    )


def day_plan(*, location: Location, day: dt.date) -> QuerySet[Booking]:
    """The appointments of one day at one location, for the staff's day plan."""
    return (
        Booking.objects.filter(location=location, start__date=day)
        .exclude(status__in=[BookingStatus.CANCELLED, BookingStatus.EXPIRED])
        .prefetch_related(booking_items())
        .order_by("start", "pk")
    )


def served_on(*, location: Location, day: dt.date) -> QuerySet[Ticket]:
    """The visits each counter finished (or found nobody for) on one day, for the day plan."""
    return (
        Ticket.objects.filter(
            location=location,
            day=day,
            counter__isnull=False,
            status__in=[TicketStatus.DONE, TicketStatus.NO_SHOW],
        )
        .select_related("counter")
        .prefetch_related("services_done")
        .order_by("counter__name", "finished_at")
    )


@dataclass(frozen=True)
class UndeliveredMail:
    """An appointment e-mail the worker gave up on, and nobody has sent again since."""

    booking: Booking
    kind: str
    failed_at: dt.datetime
    error: str
    can_resend: bool

    @property
    def label(self) -> str:
        return str(MAIL_KINDS.get(self.kind, self.kind))

    @property
    def reason(self) -> str:
        return mail_error_text(self.error)


# What became of an appointment e-mail, as the booking's events tell it.
MAIL_OUTCOMES = [
    events.BOOKING_MAIL_FAILED.name,
    events.BOOKING_MAIL_SENT.name,
    events.BOOKING_MAIL_RESENT.name,
]


def undelivered_mails(
    *,
    now: dt.datetime,
    location: Location | None = None,
    locations: QuerySet[Location] | None = None,
) -> list[UndeliveredMail]:
    """E-mails given up on (`booking_mail_failed`) whose last word is still that failure: no
    later sending or resending of the same kind for the booking. Only appointments not yet
    over, at `location` or among `locations` if given; newest failure first. Two queries
    however many rows: the mail events of bookings with a failure, and those bookings."""
    since = now - dt.timedelta(days=UNDELIVERED_DAYS)
    failure = events.BOOKING_MAIL_FAILED.name
    mail_events = Event.objects.filter(subject_kind=events.BOOKING.kind, timestamp__gte=since)
    failed = mail_events.filter(activity=failure).values("subject_id")
    latest: dict[tuple[str, str], Any] = {}
    outcomes = mail_events.filter(subject_id__in=failed, activity__in=MAIL_OUTCOMES)
    for event in outcomes.order_by("timestamp", "pk").values(
        "subject_id", "activity", "timestamp", "payload"
    ):
        latest[(event["subject_id"], event["payload"].get("mail", ""))] = event
    still_failed = {key: e for key, e in latest.items() if e["activity"] == failure}
    bookings = Booking.objects.filter(
        pk__in={int(subject) for subject, _kind in still_failed}, end__gte=now
    ).select_related("location")
    if location is not None:
        bookings = bookings.filter(location=location)
    if locations is not None:
        bookings = bookings.filter(location__in=locations)
    by_pk = {str(booking.pk): booking for booking in bookings}
    rows = [
        UndeliveredMail(
            booking=by_pk[subject],
            kind=kind,
            failed_at=event["timestamp"],
            error=event["payload"].get("error", ""),
            can_resend=mail_still_fits(by_pk[subject], kind, now),
        )
        for (subject, kind), event in still_failed.items()
        if subject in by_pk
    ]
    return sorted(rows, key=lambda row: row.failed_at, reverse=True)

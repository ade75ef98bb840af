"""Musterstadt's three citizen offices and a year of appointments, walk-ins and counter events.

The set-up (locations, opening hours, services offered, counters, availability rules, ticket
classes) goes through the appointment services, so the slots of the next 60 days come from
`services.slots_materialize`. The past year is about 90,000 visits; through the services one
by one that would take an hour, so it is written with bulk inserts, one month at a time: the
same rows and the same events (activities and payload keys) the services write.

How the year is made up:
1. Every opening day of every office has its slots (slot length 10 minutes, counters per
   channel as the rules say). About 85 % are booked, more on Mondays and in the summer
   (passport season); a booking takes as many slots back to back as its services need.
2. About 8 % of bookings are cancelled (someone else took the slot), a few online holds
   expire, and about 10 % of the due appointments are missed, more often the longer ahead
   they were booked.
3. Appointment holders arrive around their time, draw a T ticket and are called within a
   few minutes at the counter of their slot.
4. Walk-ins arrive with a profile over the day (a queue at opening time) and are served in
   order by the counters not reserved for appointments: a queue simulation, so waiting times
   grow with the load. The waiting time shown on their ticket follows
   `selectors.expected_wait_seconds`, so the dashboard can show how good that estimate is.
5. Service times are lognormal around the service's duration.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rathaus.appointments import services as appointment_services
from rathaus.appointments.models import (
    AvailabilityRule,
    Booking,
    BookingItem,
    BookingPolicy,
    BookingStatus,
    Counter,
    OfferedService,
    Slot,
    Ticket,
    TicketClass,
    TicketStatus,
)
from rathaus.appointments.services import APPOINTMENT_PREFIX, CODE_ALPHABET
from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Location, Service
from rathaus.core import services as core_services
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.models import Event, OrgUnit, Role, Tenant
from rathaus.core.services import event_build

Progress = Callable[[str], None]
SOURCE = "demo"
SLOT_MINUTES = 10
BATCH = 5000
HISTORY_SEED, FUTURE_SEED = 115, 2027  # random.Random seeds of the past year and the weeks ahead


@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name: str
    unit: str
    street: str
    phone: str
    accessibility: str
    counters: int
    online: int  # counters bookable online, per rule
    by_phone: int  # counters bookable by phone
    # (weekdays, opens, closes): opening hours and availability rules alike
    spans: tuple[tuple[tuple[int, ...], int, int], ...]


WEEKDAYS = (0, 1, 2, 3, 4)
OFFICES = (
    OfficeSpec(
        "bb-mitte", "Bürgerbüro Mitte", "buergerbuero-mitte", "Rathausplatz 1", "0599 115-100",
        "Stufenloser Eingang am Marktplatz, Aufzug, barrierefreies WC, induktive Höranlage "
        "an Platz 1.",
        8, 4, 1, ((WEEKDAYS, 8, 12), ((1, 3), 14, 18)),
    ),
    OfficeSpec(
        "bb-nord", "Bürgerbüro Nord", "buergerbuero-nord", "Nordring 12", "0599 115-200",
        "Rampe am Seiteneingang, Aufzug; Behindertenparkplätze im Hof.",
        6, 3, 1, ((WEEKDAYS, 8, 12), ((1, 3), 14, 18)),
    ),
    OfficeSpec(
        "bb-sued", "Bürgerbüro Süd", "buergerbuero-sued", "Am Lindenplatz 3", "0599 115-300",
        "Erdgeschoss, stufenlos erreichbar.",
        5, 2, 1, ((WEEKDAYS, 8, 12), ((3,), 14, 18), ((5,), 9, 12)),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class ServiceSpec:
    external_id: str
    minutes: int  # duration here (the location's override of the catalogue value)
    max_quantity: int
    ticket_class: str  # S quick matters, A pickups, H everything else
    booked: float  # weight among appointments
    walk_in: float  # weight among walk-ins


SERVICES = (
    ServiceSpec("m-1063441", 20, 2, "H", 24, 6),  # Personalausweis
    ServiceSpec("m-1063453", 20, 2, "H", 14, 3),  # Reisepass
    ServiceSpec("m-10225205", 40, 1, "H", 3, 0),  # Ausweisdokumente – Familie
    ServiceSpec("m-1076889", 20, 2, "H", 2, 2),  # Verlust oder Diebstahl Personalausweis
    ServiceSpec("m-1063475", 20, 3, "H", 18, 7),  # Wohnsitzanmeldung
    ServiceSpec("m-10224132", 30, 1, "H", 4, 1),  # Wohnsitzanmeldung – Familie
    ServiceSpec("m-1063486", 10, 1, "S", 2, 4),  # Wohnsitz abmelden
    ServiceSpec("m-1063576", 10, 5, "S", 6, 14),  # Meldebescheinigung
    ServiceSpec("m-1063565", 10, 5, "S", 4, 11),  # Führungszeugnis
    ServiceSpec("m-1063426", 10, 1, "S", 2, 8),  # Beglaubigung von bis zu 5 Dokumenten
    ServiceSpec("m-10225119", 10, 3, "S", 1, 5),  # eID einschalten, PIN ändern
    ServiceSpec("m-10295182", 10, 3, "A", 8, 24),  # Abholung Personalausweis, Reisepass, eID
)
# Combined appointments (the catalogue marks these services combinable) and their weight.
COMBINATIONS = (
    (("m-1063441", "m-1063453"), 6),  # Personalausweis and Reisepass
    (("m-1063475", "m-1063441"), 3),  # move in and a new ID card with the new address
    (("m-1063576", "m-1063565"), 2),  # Meldebescheinigung and Führungszeugnis
)
TICKET_CLASSES = (
    ("S", "Schnelle Anliegen", 10, False),
    ("A", "Abholung", 10, False),
    ("H", "Alle anderen Anliegen", 20, True),
)
# How busy the walk-in queue is, as a share of its counters' capacity, per hour of the day;
# above 1 the queue grows (people waiting at the door at opening time).
WALK_IN_LOAD = {8: 1.1, 9: 0.95, 10: 0.9, 11: 0.7, 14: 0.95, 15: 0.9, 16: 0.82, 17: 0.6}
SATURDAY_LOAD = {9: 1.1, 10: 0.95, 11: 0.7}
WEEKDAY_FACTOR = (1.08, 1.0, 0.95, 1.02, 0.85, 1.0, 1.0)
MONTH_FACTOR = (0.95, 0.95, 1.0, 1.0, 1.05, 1.1, 1.12, 1.08, 1.0, 0.95, 0.9, 0.85)
BOOKING_FILL = 0.83  # share of slots booked on an average day
CANCELLED = 0.08
EXPIRED = 0.03  # online holds never confirmed
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannah", "Ilyas",
               "Jonas", "Katharina", "Lukas", "Maria", "Noah", "Olga", "Paul", "Sofia", "Tim",
               "Yusuf", "Zoe", "Emma", "Leon", "Mia", "Finn", "Lea", "Marek", "Nadia", "Aylin")  # fmt: skip
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
              "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
              "Yılmaz", "Kaya", "Nowak", "Kowalski", "Popescu", "Rossi", "Braun", "Krüger")  # fmt: skip


@dataclass
class _Office:
    location: Location
    spec: OfficeSpec
    counters: list[Counter]
    staff: list[Any]
    rules: list[tuple[AvailabilityRule, int, list[str]]]  # rule, first seat, channel per seat
    minutes: dict[int, int]  # service id → minutes here


@dataclass
class _Visit:
    """A ticket with its steps, before it has a primary key."""

    ticket: Ticket
    services: list[int]
    counter: int  # index into the office's counters
    recalled: dt.datetime | None = None


@dataclass
class _Plan:
    """A booking with its slots, items and fate."""

    booking: Booking
    items: list[tuple[int, int]]
    slots: list[Slot]
    counter: int = 0  # index into the office's counters, from the seat
    visit: _Visit | None = None  # None until served; no-shows never get one


@dataclass
class _Rows:
    plans: list[_Plan] = field(default_factory=list)
    free_slots: list[Slot] = field(default_factory=list)
    walk_ins: list[_Visit] = field(default_factory=list)
    offices: dict[int, _Office] = field(default_factory=dict)


@dataclass
class _Context:
    tenant: Tenant
    calendar: WorkingCalendar
    classes: dict[str, TicketClass]
    booking_mix: list[tuple[tuple[int, ...], float]]
    walk_in_mix: list[tuple[int, float]]
    class_of: dict[int, str]
    rng: random.Random
    expire_after: dt.timedelta  # an online hold expires (BookingPolicy.hold_minutes, + 1 minute)
    no_show_grace: dt.timedelta  # BookingPolicy.no_show_after_minutes
    codes: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------------------------
# Set-up through the services


def _staff(spec: OfficeSpec, unit: OrgUnit) -> list[Any]:
    user_model = get_user_model()
    people = []
    for n in range(1, spec.counters + 1):
        username = f"{spec.code.replace('-', '.')}{n:02d}"
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
        _staff(spec, units[spec.unit])
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
                staff=_staff(spec, location.org_unit),  # type: ignore[arg-type]
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


# ---------------------------------------------------------------------------------------------
# The past year


def _at(value: dt.datetime | None) -> dt.datetime:
    """A time the simulation has set already (the model fields are optional)."""
    assert value is not None
    return value


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def _code(ctx: _Context) -> str:
    while True:
        code = "".join(ctx.rng.choice(CODE_ALPHABET) for _i in range(8))
        if code not in ctx.codes:
            ctx.codes.add(code)
            return code


def _citizen(rng: random.Random, online: bool) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    plain = (last.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
             .replace("ı", "i"))  # fmt: skip
    email = f"{first.lower()}.{plain}{rng.randrange(100)}@example.org"
    if not online and rng.random() < 0.4:
        email = ""
    return {
        "name": f"{first} {last}",
        "email": email,
        "email_key": email,
        "phone": "" if online else f"0599 {rng.randrange(100000, 999999)}",
    }


def _service_seconds(ctx: _Context, office: _Office, items: list[tuple[int, int]]) -> float:
    minutes = sum(office.minutes[s] * q for s, q in items)
    return max(120.0, _lognormal(ctx.rng, minutes * 60 * 0.8, 0.33))


def _day_slots(
    ctx: _Context, office: _Office, day: dt.date
) -> list[tuple[AvailabilityRule, int, str, list[Slot]]]:
    """The slots of one day as `slots_materialize` makes them: per rule and seat, in time."""
    zone = ctx.calendar.zone
    seats = []
    for rule, first_seat, channels in office.rules:
        if day.weekday() not in rule.weekdays:
            continue
        start = dt.datetime.combine(day, rule.starts, tzinfo=zone)
        close = dt.datetime.combine(day, rule.ends, tzinfo=zone)
        step = dt.timedelta(minutes=rule.slot_minutes)
        times = []
        while start + step <= close:
            times.append(start)
            start += step
        for offset, channel in enumerate(channels):
            slots = [
                Slot(
                    tenant_id=ctx.tenant.pk,
                    location_id=office.location.pk,
                    rule_id=rule.pk,
                    start=t,
                    end=t + step,
                    seat=first_seat + offset,
                    channel=channel,
                )  # fmt: skip
                for t in times
            ]
            seats.append((rule, offset, channel, slots))
    return seats


def _booking(
    ctx: _Context, office: _Office, start: dt.datetime, end: dt.datetime, channel: str,
    slot_count: int, status: str, now: dt.datetime | None = None,
) -> Booking:  # fmt: skip
    """A booking made some days ahead (before `now`, for the future ones)."""
    rng = ctx.rng
    lead_days = min(59.0, 1 + rng.expovariate(1 / 11))
    created = start - dt.timedelta(days=lead_days, hours=rng.uniform(-6, 6))
    if now is not None and created >= now:
        created = now - dt.timedelta(hours=rng.uniform(0.2, 72))
    online = channel == "online"
    return Booking(
        tenant_id=ctx.tenant.pk,
        code=_code(ctx),
        location_id=office.location.pk,
        start=start,
        end=end,
        channel=channel,
        status=status,
        slot_count=slot_count,
        created_at=created,
        confirmed_at=created + dt.timedelta(minutes=rng.uniform(1, 9)) if online else created,
        **_citizen(rng, online),
    )


def _fill(
    ctx: _Context, office: _Office, slots: list[Slot], channel: str, fill: float,
    status: str, rows: _Rows, now: dt.datetime | None = None,
) -> list[_Plan]:  # fmt: skip
    """Book a run of one seat's slots in time order, each booking as many slots as it needs.

    Returns the bookings that hold slots; cancelled and expired ones (someone had the time
    before) go to `rows` only. Slots left free go to `rows.free_slots` when new (`now` unset).
    """
    rng = ctx.rng
    booked: list[_Plan] = []
    i = 0
    while i < len(slots):
        services = rng.choices([m for m, _w in ctx.booking_mix],
                               weights=[w for _m, w in ctx.booking_mix])[0]  # fmt: skip
        items = [(s, 2 if len(services) == 1 and rng.random() < 0.08 else 1) for s in services]
        count = max(1, math.ceil(sum(office.minutes[s] * q for s, q in items) / SLOT_MINUTES))
        taken = slots[i : i + count]
        fits = len(taken) == count and all(
            a.end == b.start for a, b in zip(taken, taken[1:], strict=False)
        )
        if rng.random() > fill or not fits:
            if now is None:
                rows.free_slots.append(slots[i])
            i += 1
            continue
        booking = _booking(ctx, office, taken[0].start, taken[-1].end, channel, count, status, now)
        for slot in taken:
            slot.booking = booking
        plan = _Plan(booking, items, taken)
        rows.plans.append(plan)
        booked.append(plan)
        if rng.random() < CANCELLED / (1 - CANCELLED):
            gone = _booking(ctx, office, booking.start, booking.end, channel, count,
                            BookingStatus.CANCELLED, now)  # fmt: skip
            gone.created_at = min(gone.created_at, booking.created_at - dt.timedelta(hours=2))
            gone.confirmed_at = gone.created_at + (_at(booking.confirmed_at) - booking.created_at)
            gone.cancelled_at = gone.created_at + (booking.created_at - gone.created_at) * 0.9
            rows.plans.append(_Plan(gone, items, []))
        elif channel == "online" and rng.random() < EXPIRED:
            gone = _booking(ctx, office, booking.start, booking.end, channel, count,
                            BookingStatus.EXPIRED, now)  # fmt: skip
            gone.confirmed_at = None
            rows.plans.append(_Plan(gone, items, []))
        i += count
    return booked


def _appointments(
    ctx: _Context, office: _Office, day: dt.date, load: float, rows: _Rows
) -> list[_Plan]:
    """Book the day's slots (steps 1 and 2 of the module docstring); returns the plans due."""
    due: list[_Plan] = []
    fill = min(0.97, BOOKING_FILL * load)
    for _rule, offset, channel, slots in _day_slots(ctx, office, day):
        for plan in _fill(ctx, office, slots, channel, fill, BookingStatus.DONE, rows):
            plan.counter = offset % len(office.counters)
            due.append(plan)
    return due


def _serve_appointments(ctx: _Context, office: _Office, day: dt.date, due: list[_Plan]) -> None:
    """Who comes, when they are called (step 3); the missed ones become no-shows."""
    rng = ctx.rng
    number = 0
    for plan in sorted(due, key=lambda p: (p.booking.start, p.counter)):
        booking = plan.booking
        lead_days = (booking.start - booking.created_at).total_seconds() / 86400
        if rng.random() < 0.05 + 0.0045 * lead_days:  # booked long ahead, forgotten more often
            booking.status = BookingStatus.NO_SHOW
            continue
        number += 1
        arrived = booking.start + dt.timedelta(minutes=max(-25.0, min(10.0, rng.gauss(-6, 5))))
        due_at = max(arrived, booking.start)
        called = due_at + dt.timedelta(seconds=_lognormal(rng, 200, 0.7))
        started = called + dt.timedelta(seconds=rng.uniform(20, 90))
        finished = started + dt.timedelta(seconds=_service_seconds(ctx, office, plan.items))
        ticket = Ticket(
            tenant_id=ctx.tenant.pk, location_id=office.location.pk, day=day,
            prefix=APPOINTMENT_PREFIX, number=number, ticket_class=None, booking=booking,
            status=TicketStatus.DONE, arrived_at=arrived, due_at=due_at, expected_wait_seconds=0,
            counter_id=office.counters[plan.counter].pk, called_at=called, last_called_at=called,
            calls=1, started_at=started, finished_at=finished,
        )  # fmt: skip
        plan.visit = _Visit(
            ticket=ticket, services=[s for s, _q in plan.items], counter=plan.counter
        )


def _arrivals(ctx: _Context, office: _Office, day: dt.date, load: float) -> list[dt.datetime]:
    """Walk-in arrival times: a Poisson stream per hour at the hour's load (step 4)."""
    rng = ctx.rng
    counters = len(office.counters) - office.spec.online - office.spec.by_phone
    mean_minutes = 12.0
    profile = SATURDAY_LOAD if day.weekday() == 5 else WALK_IN_LOAD
    hours = [
        h
        for weekdays, opens, closes in office.spec.spans
        if day.weekday() in weekdays
        for h in range(opens, closes)
    ]
    times = []
    for hour in hours:
        rate = profile.get(hour, 0.7) * load * counters / mean_minutes  # per minute
        t = rng.expovariate(rate)
        while t < 60:
            times.append(dt.datetime.combine(day, dt.time(hour), tzinfo=ctx.calendar.zone)
                         + dt.timedelta(minutes=t))  # fmt: skip
            t += rng.expovariate(rate)
    return times


def _expected(ahead: int, recent: deque[float], counters: int) -> int:
    """What `selectors.expected_wait_seconds` would have printed on the ticket."""
    if not ahead:
        return 0
    service = statistics.median(recent) if recent else 600
    return int(ahead * service / (counters or 1))


def _walk_ins(ctx: _Context, office: _Office, day: dt.date, load: float, rows: _Rows,
              due: list[_Plan]) -> None:  # fmt: skip
    """The walk-in queue of one day: first come, first served by the free counters."""
    rng = ctx.rng
    first_walk_in = office.spec.online + office.spec.by_phone
    servers = [(dt.datetime.min.replace(tzinfo=dt.UTC), n)
               for n in range(first_walk_in, len(office.counters))]  # fmt: skip
    heapq.heapify(servers)
    # For the estimate: the service times finished so far (appointments' included).
    held = [p.visit.ticket for p in due if p.visit is not None]
    finished = [
        (_at(t.finished_at), (_at(t.finished_at) - _at(t.started_at)).total_seconds()) for t in held
    ]
    heapq.heapify(finished)
    recent: deque[float] = deque(maxlen=20)
    walk_in_calls: list[dt.datetime] = []  # a heap of the calls still to come
    numbers: dict[str, int] = {}
    for arrived in _arrivals(ctx, office, day, load):
        service_id = rng.choices([s for s, _w in ctx.walk_in_mix],
                                 weights=[w for _s, w in ctx.walk_in_mix])[0]  # fmt: skip
        prefix = ctx.class_of[service_id]
        numbers[prefix] = numbers.get(prefix, 0) + 1
        while finished and finished[0][0] <= arrived:
            recent.append(heapq.heappop(finished)[1])
        while walk_in_calls and walk_in_calls[0] <= arrived:
            heapq.heappop(walk_in_calls)
        waiting_walk_ins = len(walk_in_calls)
        expected = _expected(waiting_walk_ins, recent, len(servers))
        free_at, counter = heapq.heappop(servers)
        called = max(arrived, free_at) + dt.timedelta(seconds=rng.uniform(5, 40))
        heapq.heappush(walk_in_calls, called)
        ticket = Ticket(
            tenant_id=ctx.tenant.pk, location_id=office.location.pk, day=day, prefix=prefix,
            number=numbers[prefix], ticket_class_id=ctx.classes[prefix].pk, booking=None,
            arrived_at=arrived, due_at=arrived, expected_wait_seconds=expected,
            counter_id=office.counters[counter].pk, called_at=called, last_called_at=called, calls=1,
        )  # fmt: skip
        visit = _Visit(ticket=ticket, services=[service_id], counter=counter)
        if rng.random() < 0.02:  # gone when called: called twice, then marked as not come
            visit.recalled = called + dt.timedelta(seconds=rng.uniform(60, 120))
            ticket.status, ticket.calls = TicketStatus.NO_SHOW, 2
            ticket.last_called_at = visit.recalled
            ticket.finished_at = visit.recalled + dt.timedelta(seconds=rng.uniform(30, 90))
            heapq.heappush(servers, (ticket.finished_at, counter))
        else:
            ticket.status = TicketStatus.DONE
            ticket.started_at = called + dt.timedelta(seconds=rng.uniform(20, 90))
            seconds = _service_seconds(ctx, office, [(service_id, 1)])
            ticket.finished_at = ticket.started_at + dt.timedelta(seconds=seconds)
            heapq.heappush(finished, (ticket.finished_at, seconds))
            heapq.heappush(servers, (ticket.finished_at + dt.timedelta(seconds=30), counter))
        rows.walk_ins.append(visit)


def _day(ctx: _Context, office: _Office, day: dt.date, rows: _Rows) -> None:
    rng = ctx.rng
    load = WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1] * rng.uniform(0.9, 1.08)
    due = _appointments(ctx, office, day, load, rows)
    _serve_appointments(ctx, office, day, due)
    _walk_ins(ctx, office, day, load, rows, due)


# ---------------------------------------------------------------------------------------------
# Writing a batch


def _booking_events(ctx: _Context, office: _Office, plan: _Plan) -> list[Event]:
    booking = plan.booking
    payload = {
        "location": office.location.pk,
        "start": booking.start.astimezone(dt.UTC).isoformat(),
        "services": sorted(s for s, _q in plan.items),
    }

    def event(activity: str, at: dt.datetime) -> Event:
        return event_build(tenant=ctx.tenant, subject_kind="booking", subject_id=booking.pk,
                           activity=activity, channel=booking.channel, timestamp=at,
                           payload=payload)  # fmt: skip

    if booking.channel == "online":
        events = [event("booking_held", booking.created_at)]
        if booking.status == BookingStatus.EXPIRED:
            return events + [event("booking_expired", booking.created_at + ctx.expire_after)]
        events.append(event("booking_confirmed", _at(booking.confirmed_at)))
    else:
        events = [event("booking_confirmed", booking.created_at)]
    if booking.status == BookingStatus.CANCELLED:
        events.append(event("booking_cancelled", _at(booking.cancelled_at)))
    elif booking.status == BookingStatus.NO_SHOW:
        events.append(event("booking_no_show", booking.start + ctx.no_show_grace))
    elif plan.visit is not None:
        events.append(event("booking_checked_in", plan.visit.ticket.arrived_at))
        events.append(event("booking_done", _at(plan.visit.ticket.finished_at)))
    return events


def _ticket_events(ctx: _Context, office: _Office, visit: _Visit) -> list[Event]:
    ticket = visit.ticket
    where = office.location.pk
    counter = office.counters[visit.counter].name
    actor = office.staff[visit.counter % len(office.staff)]

    def event(activity: str, at: dt.datetime, payload: dict[str, Any], who: Any = actor) -> Event:
        return event_build(tenant=ctx.tenant, subject_kind="ticket", subject_id=ticket.pk,
                           activity=activity, actor=who, channel="counter", timestamp=at,
                           payload=payload)  # fmt: skip

    booking = ticket.booking
    events = [
        event(
            "ticket_issued",
            ticket.arrived_at,
            {
                "location": where,
                "class": ticket.prefix,
                "appointment": booking is not None,
                "appointment_start": booking.start.astimezone(dt.UTC).isoformat()
                if booking
                else None,
                "expected_wait": ticket.expected_wait_seconds,
                "services": sorted(visit.services),
            },
            None,
        ),
        event("ticket_called", _at(ticket.called_at), {"location": where, "counter": counter}),
    ]
    at_counter = {"location": where, "counter": counter}
    if ticket.status == TicketStatus.NO_SHOW:
        events.append(event("ticket_recalled", _at(visit.recalled), at_counter))
        events.append(event("ticket_no_show", _at(ticket.finished_at), at_counter))
        return events
    events.append(event("service_started", _at(ticket.started_at), at_counter))
    events.append(event("service_finished", _at(ticket.finished_at), at_counter))
    return events


def _bulk(model: Any, objs: list[Any]) -> None:
    model.objects.bulk_create(objs, batch_size=BATCH)


def _flush(ctx: _Context, rows: _Rows) -> int:
    """Insert one batch: bookings first (slots, items and tickets point to them), events last."""
    with transaction.atomic():
        _bulk(Booking, [p.booking for p in rows.plans])
        _bulk(Slot, rows.free_slots + [s for p in rows.plans for s in p.slots])
        _bulk(
            BookingItem,
            [BookingItem(tenant_id=ctx.tenant.pk, booking=p.booking, service_id=s, quantity=q)
             for p in rows.plans for s, q in p.items],
        )  # fmt: skip
        visits = [p.visit for p in rows.plans if p.visit is not None] + rows.walk_ins
        _bulk(Ticket, [v.ticket for v in visits])
        asked: Any = Ticket.services.through
        done: Any = Ticket.services_done.through
        _bulk(
            asked,
            [asked(ticket_id=v.ticket.pk, service_id=s) for v in visits for s in v.services],
        )
        _bulk(
            done,
            [done(ticket_id=v.ticket.pk, service_id=s) for v in visits
             if v.ticket.status == TicketStatus.DONE for s in v.services],
        )  # fmt: skip
        events: list[Event] = []
        for plan in rows.plans:
            events += _booking_events(ctx, rows.offices[plan.booking.location_id], plan)
        for visit in visits:
            events += _ticket_events(ctx, rows.offices[visit.ticket.location_id], visit)
        _bulk(Event, events)
    return len(visits)


def _context(tenant: Tenant, calendar: WorkingCalendar, seed: int = HISTORY_SEED) -> _Context:
    catalogue = {
        s.external_id: s
        for s in Service.objects.filter(
            tenant=tenant, source=SOURCE, external_id__in=[x.external_id for x in SERVICES]
        )
    }
    pk = {key: service.pk for key, service in catalogue.items()}
    booking_mix: list[tuple[tuple[int, ...], float]] = [
        ((pk[s.external_id],), s.booked) for s in SERVICES if s.booked
    ]
    booking_mix += [(tuple(pk[i] for i in ids), w) for ids, w in COMBINATIONS]
    policy = BookingPolicy.for_tenant(tenant)
    return _Context(
        tenant=tenant,
        calendar=calendar,
        classes={c.prefix: c for c in TicketClass.objects.filter(tenant=tenant)},
        booking_mix=booking_mix,
        walk_in_mix=[(pk[s.external_id], s.walk_in) for s in SERVICES if s.walk_in],
        class_of={pk[s.external_id]: s.ticket_class for s in SERVICES},
        rng=random.Random(seed),
        expire_after=dt.timedelta(minutes=policy.hold_minutes + 1),
        no_show_grace=dt.timedelta(minutes=policy.no_show_after_minutes),
        codes=set(Booking.objects.filter(tenant=tenant).values_list("code", flat=True)),
    )


def build_history(
    ctx: _Context, offices: list[_Office], *, days: int, today: dt.date, progress: Progress
) -> int:
    """`days` calendar days of appointments and visits ending yesterday; returns the visits."""
    first = today - dt.timedelta(days=days)
    total = 0
    rows = _Rows(offices={o.location.pk: o for o in offices})
    day_list = [first + dt.timedelta(days=n) for n in range(days)]
    for n, day in enumerate(day_list, 1):
        if not ctx.calendar.is_closed(day):
            for office in offices:
                _day(ctx, office, day, rows)
        if n % 31 == 0 or n == len(day_list):
            total += _flush(ctx, rows)
            rows = _Rows(offices=rows.offices)
            progress(f"  appointments {n}/{len(day_list)} days, {total:,} visits")
    return total


# ---------------------------------------------------------------------------------------------
# The weeks ahead


def build_future(
    ctx: _Context,
    offices: list[_Office],
    *,
    now: dt.datetime,
    progress: Progress,
    days: int = 30,
) -> int:
    """Bookings for the coming weeks: the next days nearly full, fewer further out.

    The slots exist already (`slots_materialize`); the bookings take them with bulk updates
    in one transaction, after checking that every slot is still free, as the booking service
    does. `ctx.codes` must hold every booking code in the database (as after `build_history`).
    """
    ctx.rng.seed(FUTURE_SEED)
    tenant = ctx.tenant
    rows = _Rows(offices={o.location.pk: o for o in offices})
    for office in offices:
        free = Slot.objects.filter(
            location=office.location,
            booking__isnull=True,
            start__gt=now,
            start__lt=now + dt.timedelta(days=days),
        ).only("id", "start", "end", "seat", "channel")
        runs: dict[tuple[dt.date, int], list[Slot]] = {}
        for slot in free.order_by("seat", "start"):
            runs.setdefault((timezone.localdate(slot.start), slot.seat), []).append(slot)
        for (day, _seat), slots in runs.items():
            ahead = (day - timezone.localdate(now)).days
            fill = max(0.05, 1.0 - 0.035 * max(0, ahead - 4))
            _fill(ctx, office, slots, slots[0].channel, fill, BookingStatus.CONFIRMED, rows, now)
    with transaction.atomic():
        Booking.objects.bulk_create([p.booking for p in rows.plans], batch_size=BATCH)
        taken = [s for p in rows.plans for s in p.slots]  # _fill has set slot.booking
        if len({s.pk for s in taken}) != len(taken):
            raise RuntimeError("A future slot was taken twice.")
        for i in range(0, len(taken), BATCH):
            ids = [s.pk for s in taken[i : i + BATCH]]
            still_free = Slot.objects.select_for_update().filter(pk__in=ids, booking__isnull=True)
            if len(still_free.values_list("pk", flat=True)) != len(ids):
                raise RuntimeError("A future slot was taken twice.")
        Slot.objects.bulk_update(taken, ["booking"], batch_size=BATCH)
        BookingItem.objects.bulk_create(
            [BookingItem(tenant=tenant, booking=p.booking, service_id=s, quantity=q)
             for p in rows.plans for s, q in p.items],
            batch_size=BATCH,
        )  # fmt: skip
        events = [
            e
            for p in rows.plans
            for e in _booking_events(ctx, rows.offices[p.booking.location_id], p)
        ]
        Event.objects.bulk_create(events, batch_size=BATCH)
    made = sum(1 for p in rows.plans if p.slots)
    progress(f"  {made:,} appointments booked for the next {days} days")
    return made


def build(tenant: Tenant, *, days: int, progress: Progress) -> None:
    """The offices (once), then `days` of history and some future bookings (once)."""
    units = {u.code: u for u in OrgUnit.objects.filter(tenant=tenant)}
    now = timezone.now()
    today = timezone.localdate(now)
    if build_offices(tenant, units, today):
        progress(f"  {len(OFFICES)} citizen offices with counters, hours and slots")
    else:
        progress("  citizen offices exist already – left as they are")
    if not days:
        return
    if Booking.objects.filter(tenant=tenant).exists():
        progress("  appointments exist already – left as they are")
        return
    # Built once for both parts; the future part reseeds the generator (FUTURE_SEED).
    ctx = _context(tenant, WorkingCalendar.for_tenant(tenant))
    offices = _offices(tenant)
    build_history(ctx, offices, days=days, today=today, progress=progress)
    build_future(ctx, offices, now=now, progress=progress)
    # As the daily retention job would have: older bookings keep no names or addresses.
    erased = appointment_services.bookings_erase(tenant=tenant, now=now)
    progress(f"  personal data of {erased} past bookings erased (retention)")

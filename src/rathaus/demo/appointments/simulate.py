"""The past year, one office and one day at a time.

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

from rathaus.appointments.models import (
    AvailabilityRule,
    Booking,
    BookingStatus,
    Slot,
    Ticket,
    TicketStatus,
)
from rathaus.appointments.services import APPOINTMENT_PREFIX, CODE_ALPHABET

from .offices import _Office
from .rows import _at, _Plan, _Rows, _Visit
from .specs import (
    BOOKING_FILL,
    CANCELLED,
    EXPIRED,
    FIRST_NAMES,
    LAST_NAMES,
    MONTH_FACTOR,
    SATURDAY_LOAD,
    SLOT_MINUTES,
    WALK_IN_LOAD,
    WEEKDAY_FACTOR,
    _Context,
)


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
    load *= ctx.scale
    due = _appointments(ctx, office, day, load, rows)
    _serve_appointments(ctx, office, day, due)
    _walk_ins(ctx, office, day, load, rows, due)

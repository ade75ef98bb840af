"""Writing a batch: the rows of a month, their events, and the bulk inserts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from rathaus.appointments.events import (
    BOOKING_CANCELLED,
    BOOKING_CHECKED_IN,
    BOOKING_CONFIRMED,
    BOOKING_DONE,
    BOOKING_EXPIRED,
    BOOKING_HELD,
    BOOKING_NO_SHOW,
    SERVICE_FINISHED,
    SERVICE_STARTED,
    TICKET_CALLED,
    TICKET_ISSUED,
    TICKET_NO_SHOW,
    TICKET_RECALLED,
)
from rathaus.appointments.models import (
    Booking,
    BookingItem,
    BookingStatus,
    Slot,
    Ticket,
    TicketStatus,
)
from rathaus.core.events import Activity, Json, event_build
from rathaus.core.models import Event

from .offices import _Office
from .specs import BATCH, _Context


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


def _at(value: dt.datetime | None) -> dt.datetime:
    """A time the simulation has set already (the model fields are optional)."""
    assert value is not None
    return value


def _booking_events(ctx: _Context, office: _Office, plan: _Plan) -> list[Event]:
    booking = plan.booking
    payload: dict[str, Json] = {
        "location": office.location.pk,
        "start": booking.start.astimezone(dt.UTC).isoformat(),
        "services": sorted(s for s, _q in plan.items),
    }

    def event(activity: Activity, at: dt.datetime) -> Event:
        return event_build(tenant=ctx.tenant, activity=activity, subject=booking,
                           channel=booking.channel, timestamp=at, payload=payload)  # fmt: skip

    if booking.channel == "online":
        events = [event(BOOKING_HELD, booking.created_at)]
        if booking.status == BookingStatus.EXPIRED:
            return events + [event(BOOKING_EXPIRED, booking.created_at + ctx.expire_after)]
        events.append(event(BOOKING_CONFIRMED, _at(booking.confirmed_at)))
    else:
        events = [event(BOOKING_CONFIRMED, booking.created_at)]
    if booking.status == BookingStatus.CANCELLED:
        events.append(event(BOOKING_CANCELLED, _at(booking.cancelled_at)))
    elif booking.status == BookingStatus.NO_SHOW:
        events.append(event(BOOKING_NO_SHOW, booking.start + ctx.no_show_grace))
    elif plan.visit is not None:
        events.append(event(BOOKING_CHECKED_IN, plan.visit.ticket.arrived_at))
        events.append(event(BOOKING_DONE, _at(plan.visit.ticket.finished_at)))
    return events


def _ticket_events(ctx: _Context, office: _Office, visit: _Visit) -> list[Event]:
    ticket = visit.ticket
    where = office.location.pk
    counter = office.counters[visit.counter].name
    actor = office.staff[visit.counter % len(office.staff)]

    def event(
        activity: Activity, at: dt.datetime, payload: dict[str, Json], who: Any = actor
    ) -> Event:
        return event_build(tenant=ctx.tenant, activity=activity, subject=ticket, actor=who,
                           channel="counter", timestamp=at, payload=payload)  # fmt: skip

    booking = ticket.booking
    events = [
        event(
            TICKET_ISSUED,
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
        event(TICKET_CALLED, _at(ticket.called_at), {"location": where, "counter": counter}),
    ]
    at_counter: dict[str, Json] = {"location": where, "counter": counter}
    if ticket.status == TicketStatus.NO_SHOW:
        events.append(event(TICKET_RECALLED, _at(visit.recalled), at_counter))
        events.append(event(TICKET_NO_SHOW, _at(ticket.finished_at), at_counter))
        return events
    events.append(event(SERVICE_STARTED, _at(ticket.started_at), at_counter))
    events.append(event(SERVICE_FINISHED, _at(ticket.finished_at), at_counter))
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

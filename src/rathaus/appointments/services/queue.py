"""The walk-in queue: tickets drawn at the kiosk, appointment holders checking in, counters
calling, parking, serving, finishing and transferring tickets, and the secret of the
location's device links (kiosk and call display).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.catalog.models import Location, Service
from rathaus.core.events import Activity, Json, event_append

from .. import events
from ..models import (
    Booking,
    BookingPolicy,
    BookingStatus,
    Counter,
    DeviceKey,
    Ticket,
    TicketClass,
    TicketStatus,
    new_device_key,
)
from ..rules import BookingError, class_for
from ..selectors import call_order, expected_wait_seconds
from .bookings import _booking_event
from .capacity import _location_event

APPOINTMENT_PREFIX = "T"  # the letter of checked-in appointment holders on tickets and display


@transaction.atomic
def device_key_ensure(*, location: Location, actor: User | None = None) -> str:
    """The secret of the location's device links, made when staff first ask for the links
    (a kiosk only reads it: `selectors.device_key_of`)."""
    device, created = DeviceKey.objects.get_or_create(tenant=location.tenant, location=location)
    if created:
        _location_event(location, events.DEVICE_LINKS_CREATED, actor)
    return device.key


@transaction.atomic
def device_key_renew(*, location: Location, actor: User | None = None) -> str:
    """A new secret: the kiosk and display links given out so far stop working at once."""
    device, _created = DeviceKey.objects.update_or_create(
        tenant=location.tenant,
        location=location,
        defaults={"key": new_device_key(), "renewed_at": timezone.now()},
    )
    _location_event(location, events.DEVICE_LINKS_RENEWED, actor)
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
            activity=events.TICKET_ISSUED,
            subject=ticket,
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
    _booking_event(booking, events.BOOKING_CHECKED_IN, None, now)
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
    ticket: Ticket, activity: Activity, actor: User | None, now: dt.datetime, **payload: Json
) -> None:
    event_append(
        tenant=ticket.tenant,
        activity=activity,
        subject=ticket,
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
                _ticket_event(ticket, events.TICKET_CALLED, actor, now, counter=counter.name)
                return ticket
    return None


def _ticket_change(
    ticket: Ticket,
    allowed: Sequence[str],
    activity: Activity,
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
        events.TICKET_RECALLED,
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
        events.TICKET_PARKED,
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
        events.SERVICE_STARTED,
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
        events.SERVICE_FINISHED,
        actor,
        now,
        status=TicketStatus.DONE,
        finished_at=now,
    )
    ticket.services_done.set(services_done)
    _ticket_booking_status(ticket, BookingStatus.DONE, events.BOOKING_DONE, actor, now)
    return ticket


def _ticket_booking_status(
    ticket: Ticket, status: str, activity: Activity, actor: User | None, now: dt.datetime
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
        events.TICKET_NO_SHOW,
        actor,
        now,
        status=TicketStatus.NO_SHOW,
        finished_at=now,
    )
    _ticket_booking_status(ticket, BookingStatus.NO_SHOW, events.BOOKING_NO_SHOW, actor, now)
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
        events.TICKET_TRANSFERRED,
        actor,
        now,
        status=TicketStatus.WAITING,
        counter=counter,
    )
    if services:
        ticket.services.set(services)
    return ticket

"""Bookings: holds, confirmation, cancelling and moving, their e-mails, reminders, no-shows
and the retention that erases the person.

No double booking: a booking takes each slot with a compare-and-set UPDATE that only matches
a free slot (`rules.free_q`). On PostgreSQL the candidate seat is locked first with SKIP
LOCKED, so a booking passes over a seat another one is taking; on SQLite writers are
serialised (IMMEDIATE transactions). Slots are always taken in the order (start, seat), so
two bookings never wait on each other in a cycle. The rules shared with the reads (what a
request is, the booking window, which slots are free) live in `rules.py`; the statements
themselves in `sql.py`.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.catalog.models import Location
from rathaus.core.events import Activity, Json, event_append, event_build
from rathaus.core.keys import email_key
from rathaus.core.models import Event, Tenant

from .. import events
from ..models import (
    ACTIVE_BOOKING,
    CHANNEL_SLOTS,
    Booking,
    BookingChannel,
    BookingItem,
    BookingPolicy,
    BookingStatus,
    Slot,
)
from ..rules import (
    BookingError,
    BookingRequest,
    bookable_window,
    mail_still_fits,
    not_confirmable,
    request_check,
    slots_needed,
    taken_error,
)
from ..selectors import booking_by_idempotency_key
from ..tasks import booking_mail_later
from .sql import _check_cap, _lock_person, _take_seat

CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B to misread


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
    request: BookingRequest,
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
    request: BookingRequest,
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
        events.BOOKING_HELD if online else events.BOOKING_CONFIRMED,
        actor,
        now,
        services=[service.pk for service, _quantity in request.items],
    )
    if booking.email:
        booking_mail_later("confirm_request" if online else "confirmed", booking)
    return booking


def _booking_event(
    booking: Booking,
    activity: Activity,
    actor: User | None,
    now: dt.datetime,
    services: list[int] | None = None,
    **payload: Json,
) -> None:
    if services is None:
        services = [item.service_id for item in booking.items.all()]
    event_append(
        tenant=booking.tenant,
        activity=activity,
        subject=booking,
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
                _booking_event(booking, events.BOOKING_CONFIRMED, None, now)
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
    _booking_event(booking, events.BOOKING_EXPIRED, None, now)


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
    _booking_event(booking, events.BOOKING_CANCELLED, actor, now)
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
    _booking_event(booking, events.BOOKING_RESCHEDULED, actor, now, previous=previous.isoformat())
    if booking.email:
        booking_mail_later("confirmed", booking)
    return booking


# Appointment e-mails: what became of them, in the event log (`selectors.undelivered_mails`)


def booking_mail_logged(*, booking: Booking, kind: str, error: BaseException | None = None) -> None:
    """The worker's outcome of one appointment e-mail: sent, or given up on after the last
    try (`error`). Only the error's kind is kept, never its text: a refused recipient's
    message names the address, and events hold no personal data."""
    if error is None:
        _booking_event(booking, events.BOOKING_MAIL_SENT, None, timezone.now(), mail=kind)
    else:
        _booking_event(
            booking,
            events.BOOKING_MAIL_FAILED,
            None,
            timezone.now(),
            mail=kind,
            error=type(error).__name__,
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
    _booking_event(
        booking, events.BOOKING_MAIL_RESENT, actor, now, mail=kind, address_corrected=corrected
    )
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
                    activity=events.BOOKING_ERASED,
                    subject=Booking(pk=pk),
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
        _booking_event(booking, events.BOOKING_NO_SHOW, None, now)
    return len(late)

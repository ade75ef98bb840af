"""The booking rules that reads and writes share: what a request is, whether it can be
booked at a location, which slots are free now, and the booking window of a rule."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.catalog.models import Location, Service
from rathaus.core.forms import WithinYears

from .models import (
    AvailabilityRule,
    Booking,
    BookingChannel,
    BookingStatus,
    OfferedService,
    TicketClass,
)

# The days a citizen or the staff can pick for an appointment: rules book at most 366 days
# ahead (AvailabilityRule.max_days_ahead); a day outside is an edited address, not a choice.
BOOKABLE_DAYS = WithinYears(past=0, future=2)


class BookingError(Exception):
    """A booking that cannot be made; `message` is translated and meant for the citizen."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def taken_error() -> BookingError:
    """Someone else took the time first (the answer to the losers of a rush)."""
    return BookingError(
        _("This time has just been taken. Please choose another one."), code="taken"
    )


def free_q(now: dt.datetime) -> Q:
    """Slots that may be taken now: no booking or a hold that ran out, not in a return delay."""
    return (Q(booking__isnull=True) | Q(held_until__lt=now)) & (
        Q(free_from__isnull=True) | Q(free_from__lte=now)
    )


# `free_q` written out for the two statements of a booking rush in plain SQL
# (`selectors.hold_outlook`, `services.sql._take_seat`); its parameters are `now` twice.
# `test_sold_out_follows_the_free_rule` holds the two together.
FREE_SQL = "(booking_id IS NULL OR held_until < %s) AND (free_from IS NULL OR free_from <= %s)"


def offers_at(location: Location, service_ids: Sequence[int]) -> dict[int, OfferedService]:
    """The location's offers of these services, with their services, by service id."""
    offers = OfferedService.objects.filter(location=location, service__in=service_ids)
    return {offer.service_id: offer for offer in offers.select_related("service")}


@dataclass(frozen=True)
class BookingRequest:
    """What a citizen wants: services with quantities at one location."""

    location: Location
    items: tuple[tuple[Service, int], ...]
    # The location's offers of these services when the caller has read them already (the API
    # takes the services from them); otherwise `offered()` reads them.
    offers: dict[int, OfferedService] | None = field(default=None, compare=False, repr=False)

    def offered(self) -> dict[int, OfferedService]:
        if self.offers is not None:
            return self.offers
        return offers_at(self.location, [service.pk for service, _q in self.items])


def request_check(request: BookingRequest) -> int:
    """Raise `BookingError` unless the request can be booked there; returns its minutes."""
    if not request.items:
        raise BookingError(_("Please choose at least one service."), code="no_service")
    offered = request.offered()
    for service, quantity in request.items:
        if service.pk not in offered:
            raise BookingError(
                _("%(service)s cannot be booked at %(location)s.")
                % {"service": service.name, "location": request.location.name},
                code="not_offered",
            )
        limit = offered[service.pk].quantity_limit
        if not 1 <= quantity <= limit:
            raise BookingError(
                _("%(service)s can be booked for at most %(limit)d people or documents at once.")
                % {"service": service.name, "limit": limit},
                code="quantity",
            )
    services = [s for s, _q in request.items]
    for i, first in enumerate(services[:-1]):
        partners = set(first.combinable.values_list("pk", flat=True))
        for other in services[i + 1 :]:
            if other.pk not in partners:
                raise BookingError(
                    _("%(a)s and %(b)s cannot be booked in one appointment.")
                    % {"a": first.name, "b": other.name},
                    code="not_combinable",
                )
    return sum(offered[s.pk].duration * q for s, q in request.items)


def bookable_window(
    rule: AvailabilityRule, now: dt.datetime, channel: str
) -> tuple[dt.date, dt.date]:
    """First and last day the rule lets this channel book now (local dates).

    The last day of the window is released at the rule's release time; before that time the
    window ends a day earlier. Internal bookings ignore the window (staff plan ahead).
    """
    local = timezone.localtime(now)
    today = local.date()
    if channel == BookingChannel.INTERNAL:
        return today, today + dt.timedelta(days=366)
    last = today + dt.timedelta(days=rule.max_days_ahead)
    if local.time() < rule.release_time:
        last -= dt.timedelta(days=1)
    return today + dt.timedelta(days=rule.min_days_ahead), last


def slots_needed(minutes: int, slot_minutes: int) -> int:
    return max(1, math.ceil(minutes / slot_minutes))


def class_for(classes: Sequence[TicketClass], service_pks: set[int]) -> TicketClass | None:
    """The ticket class a visit draws: the first class listing one of its services, else the
    default class. `classes` come with their services prefetched."""
    for ticket_class in classes:
        if service_pks & {s.pk for s in ticket_class.services.all()}:
            return ticket_class
    return next((c for c in classes if c.is_default), None)


# The kinds of appointment e-mail (templates `appointments/mail/<kind>.txt`), as staff see them.
MAIL_KINDS = {
    "confirm_request": gettext_lazy("Confirmation link"),
    "confirmed": gettext_lazy("Appointment confirmation"),
    "cancelled": gettext_lazy("Cancellation"),
    "reminder": gettext_lazy("Reminder"),
}


def confirm_refusal(booking: Booking, now: dt.datetime) -> BookingError | None:
    """What confirming the booking now would refuse with, or None when it would confirm (a
    hold still running) or has confirmed already. The confirmation page asks this before the
    citizen presses the button; `services.booking_confirm` gives the same answers."""
    if booking.status == BookingStatus.CONFIRMED:
        return None
    if booking.status == BookingStatus.HELD and booking.hold_until and booking.hold_until >= now:
        return None
    return not_confirmable(booking.status)


def not_confirmable(status: str) -> BookingError:
    """Why a booking in this status, neither confirmed nor held in time, cannot be confirmed."""
    if status not in (BookingStatus.HELD, BookingStatus.EXPIRED):
        return BookingError(_("This appointment cannot be confirmed any more."), code="not_active")
    return BookingError(
        _("This appointment was not confirmed in time and has been released. Please book again."),
        code="expired",
    )


def mail_still_fits(booking: Booking, kind: str, now: dt.datetime) -> bool:
    """Whether an e-mail of this kind still tells the citizen the truth about the booking: a
    confirmation link only while the hold runs, a confirmation or reminder only for a confirmed
    appointment still to come, a cancellation only for a cancelled one."""
    if not booking.email:
        return False
    if kind == "confirm_request":
        return booking.status == BookingStatus.HELD and bool(
            booking.hold_until and booking.hold_until > now
        )
    if kind in ("confirmed", "reminder"):
        return booking.status == BookingStatus.CONFIRMED and booking.start > now
    return kind == "cancelled" and booking.status == BookingStatus.CANCELLED


# Why the worker gave up on an e-mail, by the error's kind (the event keeps only the kind).
MAIL_ERRORS = {
    "SMTPRecipientsRefused": gettext_lazy(
        "The mail server refused the address. Please check it with the citizen."
    ),
    "SMTPSenderRefused": gettext_lazy("The mail server refused the municipality's sender address."),
    "SMTPAuthenticationError": gettext_lazy("The mail server refused the login of Rathaus."),
    "ConnectionRefusedError": gettext_lazy("The mail server could not be reached."),
    "TimeoutError": gettext_lazy("The mail server did not answer in time."),
    "SMTPServerDisconnected": gettext_lazy("The mail server ended the connection."),
}


def mail_error_text(error: str) -> str:
    return str(MAIL_ERRORS.get(error, _("The mail server refused the e-mail (%s).") % error))

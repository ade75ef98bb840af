"""E-mails to citizens about their appointments, sent by the worker (`tasks.booking_mail`)
after the booking's transaction commits, in the citizen's language. One template pair per
kind of mail (`rules.MAIL_KINDS`): `appointments/mail/<kind>_subject.txt` and `<kind>.txt`.
"""

from __future__ import annotations

import datetime as dt
import io

import segno
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from icalendar import Calendar
from icalendar import Event as IcalEvent

from rathaus.core.selectors import sender_of

from .links import url_for
from .models import Booking


def ical_for(booking: Booking) -> bytes:
    """The appointment as an iCalendar file (RFC 5545) for the citizen's calendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//Rathaus//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = IcalEvent()
    event.add("uid", f"{booking.code}@{booking.tenant.slug}.rathaus")
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", timezone.localtime(booking.start))
    event.add("dtend", timezone.localtime(booking.end))
    services = ", ".join(i.service.name for i in booking.items.all())
    event.add("summary", f"{booking.tenant.name}: {services}")
    location = booking.location
    event.add(
        "location",
        ", ".join(
            p
            for p in [
                location.name,
                location.street,
                f"{location.postcode} {location.city}".strip(),
            ]
            if p
        ),
    )
    event.add("description", f"{booking.code}\n{url_for(booking, 'cancel')}")
    calendar.add_component(event)
    return calendar.to_ical()


def _qr(code: str) -> segno.QRCode:
    """A regular QR code, never a Micro QR (segno's choice for short data): scanners, phones
    and the kiosk's camera reader (jsQR) do not all read Micro QR codes."""
    return segno.make_qr(code, error="m")


def qr_svg(code: str) -> str:
    """The booking code as a QR code (SVG) for the confirmation page, read at the kiosk."""
    return _qr(code).svg_inline(scale=5, title=code)


def qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="png", scale=6)
    return buffer.getvalue()


# The mails that carry the appointment itself: with the iCal file and the QR code for check-in.
WITH_CALENDAR = frozenset({"confirmed", "reminder"})


def booking_for_mail(booking_pk: int) -> Booking | None:
    """The booking with what its mails show, in the caller's tenant scope; None once deleted."""
    bookings = Booking.objects.select_related("location", "tenant").prefetch_related(
        "items__service"
    )
    return bookings.filter(pk=booking_pk).first()


def booking_mail_send(booking: Booking, kind: str) -> None:
    """Send the mail of this kind to the citizen (`booking_for_mail`)."""
    with translation.override(booking.language):
        context = {
            "booking": booking,
            "tenant": booking.tenant,
            "start": timezone.localtime(booking.start),
            "items": list(booking.items.all()),
            "confirm_url": url_for(booking, "confirm"),
            "cancel_url": url_for(booking, "cancel"),
            "move_url": url_for(booking, "move"),
        }
        subject = render_to_string(f"appointments/mail/{kind}_subject.txt", context)
        body = render_to_string(f"appointments/mail/{kind}.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=sender_of(booking.tenant),
        to=[booking.email],
    )
    if kind in WITH_CALENDAR:
        message.attach(f"termin-{booking.code}.ics", ical_for(booking), "text/calendar")
        message.attach(f"termin-{booking.code}-qr.png", qr_png(booking.code), "image/png")
    message.send()

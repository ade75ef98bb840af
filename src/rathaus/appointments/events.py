"""What the citizen offices log: the set-up of a location, each booking's way from the hold to
the counter, each ticket's way through the queue. The booking and ticket activities are the
process-mining log of the offices (`appointments.figures` reads them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rathaus.appointments.models import Booking, Ticket, TicketClass
from rathaus.catalog.events import LOCATION
from rathaus.core.events import TENANT, Subject, activity

BOOKING = Subject(Booking, "booking")
TICKET = Subject(Ticket, "ticket")
TICKET_CLASS = Subject(TicketClass, "ticket_class")

# The set-up of a location and the municipality's booking rules.
LOCATION_CLOSED = activity("location_closed", LOCATION, _("Closed for a day"), "date")
LOCATION_REOPENED = activity("location_reopened", LOCATION, _("Open again on a day"), "date")
OPENING_HOURS_CHANGED = activity("opening_hours_changed", LOCATION, _("Opening hours changed"))
AVAILABILITY_CHANGED = activity(
    "availability_changed", LOCATION, _("Bookable times changed"), "rule"
)
SERVICE_OFFERED = activity("service_offered", LOCATION, _("Service offered here"), "service")
SERVICE_OFFER_CHANGED = activity(
    "service_offer_changed", LOCATION, _("Offered service changed"), "service"
)
SERVICE_UNOFFERED = activity(
    "service_unoffered", LOCATION, _("Service no longer offered here"), "service"
)
COUNTER_ADDED = activity("counter_added", LOCATION, _("Counter added"), "counter")
COUNTER_CHANGED = activity("counter_changed", LOCATION, _("Counter changed"), "counter")
COUNTER_REMOVED = activity("counter_removed", LOCATION, _("Counter removed"), "counter")
DEVICE_LINKS_CREATED = activity(
    "device_links_created", LOCATION, _("Kiosk and display links created")
)
DEVICE_LINKS_RENEWED = activity(
    "device_links_renewed", LOCATION, _("Kiosk and display links renewed")
)
BOOKING_POLICY_CHANGED = activity("booking_policy_changed", TENANT, _("Booking rules changed"))
TICKET_CLASS_CREATED = activity("ticket_class_created", TICKET_CLASS, _("Ticket class created"))
TICKET_CLASS_CHANGED = activity("ticket_class_changed", TICKET_CLASS, _("Ticket class changed"))

# A booking: every step carries where, when and what was booked.
_BOOKED = ("location", "start", "services")
BOOKING_HELD = activity("booking_held", BOOKING, _("Reserved, waiting for confirmation"), *_BOOKED)
BOOKING_CONFIRMED = activity("booking_confirmed", BOOKING, _("Confirmed"), *_BOOKED)
BOOKING_RESCHEDULED = activity("booking_rescheduled", BOOKING, _("Moved"), *_BOOKED, "previous")
BOOKING_CANCELLED = activity("booking_cancelled", BOOKING, _("Cancelled"), *_BOOKED)
BOOKING_EXPIRED = activity(
    "booking_expired", BOOKING, _("Not confirmed in time, released"), *_BOOKED
)
BOOKING_CHECKED_IN = activity("booking_checked_in", BOOKING, _("Checked in"), *_BOOKED)
BOOKING_DONE = activity("booking_done", BOOKING, _("Served"), *_BOOKED)
BOOKING_NO_SHOW = activity("booking_no_show", BOOKING, _("Did not come"), *_BOOKED)
BOOKING_ERASED = activity("booking_erased", BOOKING, _("Personal data erased"))
# What became of an appointment e-mail (`selectors.undelivered_mails`); `mail` is its kind.
BOOKING_MAIL_SENT = activity("booking_mail_sent", BOOKING, _("E-mail sent"), *_BOOKED, "mail")
BOOKING_MAIL_FAILED = activity(
    "booking_mail_failed", BOOKING, _("E-mail could not be delivered"), *_BOOKED, "mail", "error"
)
BOOKING_MAIL_RESENT = activity(
    "booking_mail_resent",
    BOOKING,
    _("E-mail sent again by staff"),
    *_BOOKED,
    "mail",
    "address_corrected",
)

# A ticket: every step names its location and, once called, the counter.
TICKET_ISSUED = activity(
    "ticket_issued",
    TICKET,
    _("Number drawn"),
    "location",
    "class",
    "appointment",
    "appointment_start",
    "expected_wait",
    "services",
)
TICKET_CALLED = activity("ticket_called", TICKET, _("Called"), "location", "counter")
TICKET_RECALLED = activity("ticket_recalled", TICKET, _("Called again"), "location", "counter")
TICKET_PARKED = activity("ticket_parked", TICKET, _("Parked"), "location", "counter")
TICKET_TRANSFERRED = activity(
    "ticket_transferred", TICKET, _("Sent to another counter"), "location", "counter"
)
SERVICE_STARTED = activity("service_started", TICKET, _("Service started"), "location", "counter")
SERVICE_FINISHED = activity(
    "service_finished", TICKET, _("Service finished"), "location", "counter"
)
TICKET_NO_SHOW = activity(
    "ticket_no_show", TICKET, _("Did not come when called"), "location", "counter"
)

"""The printable walk-in ticket: a PDF of receipt-printer width (80 mm), made with WeasyPrint."""

from __future__ import annotations

import math

from django.template.loader import render_to_string
from django.utils import timezone

from .models import Ticket

WIDTH_MM = 80  # the common thermal receipt roll; the height follows the content


def wait_minutes(ticket: Ticket) -> int:
    """The expected wait rounded up to whole minutes: a citizen told 4 minutes waits 4, not 3."""
    return math.ceil(ticket.expected_wait_seconds / 60)


def render_ticket(*, ticket: Ticket) -> bytes:
    """The ticket in the active language (the one the citizen chose at the kiosk)."""
    import weasyprint  # heavy import, only when a ticket is printed

    html = render_to_string(
        "appointments/office/ticket_pdf.html",
        {
            "ticket": ticket,
            "tenant": ticket.tenant,
            "location": ticket.location,
            "services": list(ticket.services.all()),
            "arrived": timezone.localtime(ticket.arrived_at),
            "appointment": timezone.localtime(ticket.booking.start) if ticket.booking else None,
            "wait_minutes": wait_minutes(ticket),
            "width_mm": WIDTH_MM,
        },
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())

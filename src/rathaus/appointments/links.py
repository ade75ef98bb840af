"""Signed, single-purpose links in the citizen's e-mails.

Each purpose has its own salt, so a cancel link cannot confirm. The token carries the
appointment time, so a link stops working once the appointment has been moved.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Booking
from .selectors import booking_items

PURPOSES = ("confirm", "cancel", "move")
MAX_AGE = 400 * 24 * 3600  # far enough for any booking window; state checks do the rest


def token_for(booking: Booking, purpose: str) -> str:
    assert purpose in PURPOSES
    return signing.dumps(
        {"b": booking.pk, "s": int(booking.start.timestamp())}, salt=f"appointments.{purpose}"
    )


def booking_for_token(token: str, purpose: str) -> Booking | None:
    """The booking the token was made for, or None when it is forged, for another purpose,
    or outdated by a move. Call it inside the tenant's scope."""
    try:
        data = signing.loads(token, salt=f"appointments.{purpose}", max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    booking = (
        Booking.objects.filter(pk=data.get("b"))
        .select_related("location")
        .prefetch_related(booking_items())
        .first()
    )
    if booking is None or int(booking.start.timestamp()) != data.get("s"):
        return None
    return booking


def url_for(booking: Booking, purpose: str) -> str:
    path = reverse(
        f"appointments:{purpose}",
        kwargs={"tenant_slug": booking.tenant.slug, "token": token_for(booking, purpose)},
    )
    return settings.RATHAUS_PUBLIC_URL.rstrip("/") + path

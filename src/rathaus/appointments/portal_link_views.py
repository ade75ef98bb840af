"""Citizen pages behind the links in the e-mails: confirm, cancel or move a booking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rathaus.core.models import Tenant

from . import selectors, services
from .links import booking_for_token
from .mails import qr_svg
from .models import Booking, BookingStatus
from .portal_forms import MoveForm
from .portal_views import link_gone, message_page, month_grid, public_page
from .rules import BOOKABLE_DAYS, confirm_refusal


@public_page
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, tenant: Tenant, token: str) -> HttpResponse:
    """The link in the e-mail shows the held time with one button, which confirms it (double
    opt-in) and shows the code. A GET changes nothing: mail scanners open links, and a hold
    must not be confirmed, nor a run-out one released, by a program nobody asked."""
    booking = booking_for_token(token, "confirm")
    if booking is None:
        return link_gone(request, tenant)
    try:
        if request.method == "POST":
            services.booking_confirm(booking=booking)
        else:
            refusal = confirm_refusal(booking, timezone.now())
            if refusal is not None:
                raise refusal
    except services.BookingError as exc:
        return message_page(
            request, tenant, _("The appointment could not be confirmed"), exc.message, status=410
        )
    if booking.status != BookingStatus.CONFIRMED:
        return render(
            request,
            "appointments/portal/confirm.html",
            {"public_tenant": tenant, "booking": booking},
        )
    return render(
        request,
        "appointments/portal/confirmed.html",
        {"public_tenant": tenant, "booking": booking, "qr": qr_svg(booking.code)},
    )


@public_page
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, tenant: Tenant, token: str) -> HttpResponse:
    booking = booking_for_token(token, "cancel")
    if booking is None:
        return link_gone(request, tenant)
    error, done = None, False
    if request.method == "POST":
        try:
            services.booking_cancel(booking=booking)
        except services.BookingError as exc:
            error = exc.message
        else:
            done = True
    return render(
        request,
        "appointments/portal/cancel.html",
        {"public_tenant": tenant, "booking": booking, "done": done, "error": error},
        status=409 if error else 200,
    )


@public_page
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, tenant: Tenant, token: str) -> HttpResponse:
    """Another day and time at the same location for the same services."""
    booking = booking_for_token(token, "move")
    if booking is None:
        return link_gone(request, tenant)
    context: dict[str, Any] = {"public_tenant": tenant, "booking": booking}
    if booking.status != BookingStatus.CONFIRMED:
        context["error"] = _("Only a confirmed appointment can be moved.")
        return render(request, "appointments/portal/move.html", context, status=409)
    wanted = services.BookingRequest(
        location=booking.location,
        items=tuple((i.service, i.quantity) for i in booking.items.all()),
    )
    status = 200
    if request.method == "POST":
        form = MoveForm(request.POST)
        if form.is_valid() and selectors.start_is_free(
            request=wanted, start=form.start(), channel=booking.channel
        ):
            try:
                services.booking_reschedule(booking=booking, start=form.start())
            except services.BookingError as exc:
                context["error"] = exc.message
            else:
                context["moved"] = True
                return render(request, "appointments/portal/move.html", context)
        else:
            context["error"] = _("This time is no longer free. Please choose another one.")
        status = 409
    return render(
        request,
        "appointments/portal/move.html",
        {**context, **_move_choices(request, wanted, booking)},
        status=status,
    )


def _move_choices(
    request: HttpRequest, wanted: services.BookingRequest, booking: Booking
) -> dict[str, Any]:
    """The free days, or the free times of the day chosen (`?day=`)."""
    try:
        day: dt.date | None = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    if day is not None and not BOOKABLE_DAYS.allows(day):
        day = None
    try:
        if day is not None:
            starts = selectors.free_starts(request=wanted, channel=booking.channel, day=day)
            if starts:
                return {"day": day, "starts": starts}
        days = selectors.free_days(request=wanted, channel=booking.channel)
    except services.BookingError as exc:
        return {"error": exc.message}
    months = month_grid(days, lambda free_day: f"?day={free_day.isoformat()}")
    return {"months": months, "day_gone": day is not None}

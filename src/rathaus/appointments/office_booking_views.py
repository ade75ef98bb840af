"""Staff pages about bookings: booking for a caller, the day plan (also as CSV), finding an
appointment by code, name, address or number, one appointment with its history, and the
e-mails the worker gave up on. Behind a login and an office role, as the counter is, and only
for the locations the person may work at (`permissions`)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.catalog.models import Location
from rathaus.core.access import access_logged
from rathaus.core.exports import csv_response
from rathaus.core.http import TenantRequest, acting_staff
from rathaus.core.models import AccessAction
from rathaus.core.paging import paged
from rathaus.core.permissions import role_required
from rathaus.core.selectors import events_of

from . import selectors, services
from .models import Booking, BookingChannel
from .office_forms import (
    BookingSearchForm,
    MailFilterForm,
    MailResendForm,
    PhoneBookingForm,
    PhoneRequestForm,
    PlanForm,
)
from .permissions import (
    OFFICE_ROLES,
    chosen_location_check,
    location_check,
    may_work_at,
    workable_locations,
)
from .rules import MAIL_KINDS, mail_still_fits

# --- staff: phone booking and day plan ------------------------------------------------------


@role_required(*OFFICE_ROLES)
def phone_booking(request: TenantRequest) -> HttpResponse:
    """Book for a caller in three steps on one page: what and where → day → time and name.

    The choices travel in the query string, so every step is a plain link or GET form; only
    the booking itself is a POST (with an idempotency key against double submits).
    """
    chosen_location_check(request, request.GET.get("location"))
    locations = workable_locations(request, among=selectors.bookable_locations())
    wanted = PhoneRequestForm(request.GET or None, locations=locations)
    context: dict[str, Any] = {"wanted": wanted, "query": request.GET.urlencode()}
    if not (request.GET and wanted.is_valid() and wanted.cleaned_data["services"]):
        return render(request, "appointments/office/phone.html", context)
    booking_request = services.BookingRequest(
        location=wanted.cleaned_data["location"], items=wanted.items()
    )
    try:
        days = selectors.free_days(request=booking_request, channel=BookingChannel.PHONE)
    except services.BookingError as error:
        wanted.add_error(None, error.message)
        return render(request, "appointments/office/phone.html", context)
    day = wanted.cleaned_data.get("day")
    context["days"] = [(d, n, _with_day(request, d)) for d, n in sorted(days.items())]
    context["day"] = day
    if day is None:
        return render(request, "appointments/office/phone.html", context)
    starts = selectors.free_starts(request=booking_request, channel=BookingChannel.PHONE, day=day)
    form = PhoneBookingForm(
        request.POST or None,
        starts=starts,
        initial={"idempotency_key": secrets.token_hex(16)},
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.booking_hold(
                request=booking_request,
                start=form.start_time(),
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                channel=BookingChannel.PHONE,
                idempotency_key=form.cleaned_data["idempotency_key"],
                actor=acting_staff(request),
            )
        except services.BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Appointment booked: %(time)s, booking code %(code)s.")
                % {
                    "time": timezone.localtime(booking.start).strftime("%d.%m.%Y %H:%M"),
                    "code": booking.code,
                },
            )
            return redirect(_plan_url(booking.location, timezone.localdate(booking.start)))
    return render(request, "appointments/office/phone.html", context)


def _with_day(request: TenantRequest, day: dt.date) -> str:
    query = request.GET.copy()
    query["day"] = day.isoformat()
    return f"?{query.urlencode()}"


def _plan_url(location: Location, day: dt.date) -> str:
    return (
        reverse("appointments:day_plan")
        + "?"
        + urlencode({"location": str(location.pk), "day": day.isoformat()})
    )


@role_required(*OFFICE_ROLES)
def day_plan(request: TenantRequest) -> HttpResponse:
    chosen_location_check(request, request.GET.get("location"))
    locations = workable_locations(request, among=selectors.office_locations())
    first = locations.first()
    data = request.GET if "location" in request.GET else None
    form = PlanForm(
        data,
        locations=locations,
        initial={"location": first, "day": timezone.localdate()},
    )
    location, day = first, timezone.localdate()
    if data is not None and form.is_valid():
        location, day = form.cleaned_data["location"], form.cleaned_data["day"]
    context: dict[str, Any] = {"form": form, "location": location, "day": day}
    if location is not None:
        context["bookings"] = selectors.day_plan(location=location, day=day)
        csv = request.GET.get("format") == "csv"
        action = AccessAction.EXPORTED if csv else AccessAction.VIEWED
        access_logged(request, "day_plan", f"{location.pk}/{day}", action)
        if csv:
            return _day_plan_csv(location, day, context["bookings"])
        context["served"] = selectors.served_on(location=location, day=day)
        context["querystring"] = request.GET.urlencode()  # for the CSV link
    return render(request, "appointments/office/plan.html", context)


def _day_plan_csv(location: Location, day: dt.date, bookings: QuerySet[Booking]) -> HttpResponse:
    """The day's appointments for a printed list or a spreadsheet (contact data included: the
    day plan shows them too)."""
    response, writer = csv_response(f"tagesplan-{location.pk}-{day:%Y%m%d}.csv")
    writer.writerow(
        [_("Time"), _("End"), _("Booking code"), _("Name"), _("Phone"), _("E-mail"),
         _("Services"), _("Status"), _("Channel")]
    )  # fmt: skip
    for b in bookings:
        writer.writerow(
            [
                timezone.localtime(b.start).strftime("%H:%M"),
                timezone.localtime(b.end).strftime("%H:%M"),
                b.code,
                b.name,
                b.phone,
                b.email,
                ", ".join(map(str, b.items.all())),
                b.get_status_display(),
                b.get_channel_display(),
            ]
        )
    return response


@role_required(*OFFICE_ROLES)
def booking_search(request: TenantRequest) -> HttpResponse:
    """A citizen on the phone reads out the booking code: straight to the booking. Without the
    code (the mail is lost), their name, e-mail address or phone number lists the matches."""
    form = BookingSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        text = form.cleaned_data["q"]
        booking = selectors.booking_by_code(text) if len(text) <= 12 else None
        if booking is not None and may_work_at(request, booking.location_id):
            return redirect("appointments:office_booking", pk=booking.pk)
        matching = selectors.bookings_matching(text)
        context.update(paged(request, matching.filter(location__in=workable_locations(request))))
        access_logged(request, "booking", "", AccessAction.SEARCHED)
    return render(request, "appointments/office/booking_search.html", context)


@role_required(*OFFICE_ROLES)
def booking_detail(request: TenantRequest, pk: int) -> HttpResponse:
    """One appointment with everything that happened to it (the audit trail)."""
    booking = get_object_or_404(
        Booking.objects.select_related("location", "created_by").prefetch_related(
            selectors.booking_items()
        ),
        pk=pk,
    )
    location_check(request, booking.location_id)
    access_logged(request, "booking", booking.pk)
    now = timezone.now()
    return render(
        request,
        "appointments/office/booking.html",
        {
            "booking": booking,
            # The mail a citizen who lost it can be sent again, if any.
            "resend": next(
                (k for k in ("confirm_request", "confirmed") if mail_still_fits(booking, k, now)),
                None,
            ),
            "events": events_of(booking),
            "plan_url": _plan_url(booking.location, timezone.localdate(booking.start)),
        },
    )


@role_required(*OFFICE_ROLES)
@require_POST
def booking_cancel(request: TenantRequest, pk: int) -> HttpResponse:
    booking: Booking = get_object_or_404(Booking.objects.select_related("location"), pk=pk)
    location_check(request, booking.location_id)
    try:
        services.booking_cancel(booking=booking, actor=acting_staff(request))
    except services.BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Appointment %(code)s cancelled.") % {"code": booking.code})
    return redirect(_plan_url(booking.location, timezone.localdate(booking.start)))


# --- staff: e-mails the worker gave up on --------------------------------------------------

MAILS_PER_PAGE = 50


@role_required(*OFFICE_ROLES)
def undelivered_mails(request: TenantRequest) -> HttpResponse:
    """Appointment e-mails that could not be delivered after every retry: the citizen has no
    confirmation link or confirmation. Staff send them again or call the citizen."""
    chosen_location_check(request, request.GET.get("location"))
    locations = workable_locations(request, among=selectors.office_locations())
    form = MailFilterForm(request.GET or None, locations=locations)
    location = form.cleaned_data["location"] if form.is_valid() else None
    rows = selectors.undelivered_mails(
        now=timezone.now(), location=location, locations=workable_locations(request)
    )
    access_logged(request, "undelivered_mails")
    return render(
        request,
        "appointments/office/mails.html",
        {"form": form, **paged(request, rows, MAILS_PER_PAGE)},
    )


@role_required(*OFFICE_ROLES)
@require_POST
def mail_resend(request: TenantRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in MAIL_KINDS:
        raise Http404
    booking: Booking = get_object_or_404(Booking, pk=pk)
    location_check(request, booking.location_id)
    form = MailResendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(map(str, form.errors["email"])))
    else:
        try:
            services.booking_mail_resend(
                booking=booking,
                kind=kind,
                email=form.cleaned_data["email"],
                actor=acting_staff(request),
            )
        except services.BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("%(mail)s for %(code)s is being sent again to %(email)s.")
                % {"mail": MAIL_KINDS[kind], "code": booking.code, "email": booking.email},
            )
    if request.POST.get("back") == "booking":
        return redirect("appointments:office_booking", pk=booking.pk)
    return redirect("appointments:undelivered_mails")

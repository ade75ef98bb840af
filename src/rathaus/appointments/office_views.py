"""The citizen office: kiosk, counter screen, call display, phone booking and day plan.

Staff pages need a login and an office role. The kiosk and the call display run on unattended
devices without a login; they are opened by a signed link per location and purpose (the
location's office page shows it), so a kiosk link cannot open the display and neither opens
another location.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core import signing
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rathaus.catalog.models import Location, Service, ServiceStatus
from rathaus.core.exports import csv_response
from rathaus.core.models import Role, Tenant
from rathaus.core.paging import paged
from rathaus.core.permissions import role_required
from rathaus.core.selectors import events_of_subject
from rathaus.core.tenancy import tenant_context

from . import selectors, services
from .models import (
    Booking,
    BookingChannel,
    BookingPolicy,
    Counter,
    Ticket,
    TicketClass,
    TicketStatus,
)
from .office_forms import (
    BookingSearchForm,
    CheckInForm,
    CounterChoiceForm,
    FinishForm,
    MailFilterForm,
    MailResendForm,
    PhoneBookingForm,
    PhoneRequestForm,
    PlanForm,
    TransferForm,
)
from .rules import MAIL_KINDS, class_for, mail_still_fits
from .tickets import render_ticket, wait_minutes

OFFICE_ROLES = (Role.OFFICE_STAFF, Role.TEAM_LEAD)  # tenant admins pass role_required anyway
SESSION_COUNTER = "appointments.counter"
DEVICE_PURPOSES = ("kiosk", "display")
TICKET_ACTIONS = ("recall", "start", "park", "no_show", "finish", "transfer")


def _actor(request: HttpRequest) -> User:
    """The signed-in staff member (the views are behind `role_required`)."""
    assert isinstance(request.user, User)
    return request.user


# --- signed device links -------------------------------------------------------------------


def device_token(location: Location, purpose: str) -> str:
    """A link token for one location and one device purpose; it does not expire, because the
    device runs for months. Renewing the location's device key revokes all of its links."""
    assert purpose in DEVICE_PURPOSES
    return signing.dumps(
        {
            "t": location.tenant_id,
            "l": location.pk,
            "k": services.device_key_get(location=location),
        },
        salt=f"appointments.office.{purpose}",
    )


def device_url(location: Location, purpose: str) -> str:
    return reverse(
        f"appointments:{purpose}",
        kwargs={"pk": location.pk, "token": device_token(location, purpose)},
    )


def device_view(
    purpose: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Open the view for the location the token was made for, inside its tenant's scope.

    A forged token, one for another purpose or for another location is a 404: an unattended
    device learns nothing about what exists.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, token: str, **kwargs: Any) -> HttpResponse:
            try:
                data = signing.loads(token, salt=f"appointments.office.{purpose}")
            except signing.BadSignature:
                raise Http404 from None
            if not isinstance(data, dict) or data.get("l") != pk:
                raise Http404
            tenant = get_object_or_404(Tenant, pk=data.get("t"))
            with tenant_context(tenant):
                location = get_object_or_404(Location, pk=pk)
                if data.get("k") != services.device_key_get(location=location):
                    raise Http404  # the links were renewed
                return view(request, location=location, token=token, **kwargs)

        return wrapper

    return decorator


# --- kiosk -----------------------------------------------------------------------------------


def kiosk_groups(location: Location) -> list[tuple[TicketClass | None, list[Service]]]:
    """The services of the location grouped by the ticket class they draw (the rule of
    `services.ticket_class_for`, in memory: the kiosk page costs three queries, not two per
    service)."""
    offered = list(location.services.filter(status=ServiceStatus.PUBLISHED).order_by("name"))
    classes = list(TicketClass.objects.prefetch_related("services"))
    groups: dict[TicketClass | None, list[Service]] = {}
    for service in offered:
        groups.setdefault(class_for(classes, {service.pk}), []).append(service)
    return list(groups.items())


def _kiosk_page(
    request: HttpRequest, location: Location, token: str, form: CheckInForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "appointments/office/kiosk.html",
        {
            "location": location,
            "public_tenant": location.tenant,
            "token": token,
            "groups": kiosk_groups(location),
            "form": form,
        },
        status=status,
    )


@device_view("kiosk")
def kiosk(request: HttpRequest, location: Location, token: str) -> HttpResponse:
    return _kiosk_page(request, location, token, CheckInForm())


@require_POST
@device_view("kiosk")
def kiosk_issue(request: HttpRequest, location: Location, token: str) -> HttpResponse:
    raw = request.POST.get("service", "")
    service = location.services.filter(pk=raw).first() if raw.isdigit() else None
    try:
        ticket = services.ticket_issue(location=location, services=[service] if service else [])
    except services.BookingError as error:
        messages.error(request, error.message)
        return redirect("appointments:kiosk", pk=location.pk, token=token)
    return redirect("appointments:kiosk_ticket", pk=location.pk, token=token, ticket=ticket.pk)


@require_POST
@device_view("kiosk")
def kiosk_check_in(request: HttpRequest, location: Location, token: str) -> HttpResponse:
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _kiosk_page(request, location, token, form, status=400)
    booking = selectors.booking_by_code(form.cleaned_data["code"])
    try:
        ticket = services.booking_check_in(booking=booking, location=location)
    except services.BookingError as error:
        form.add_error("code", error.message)
        return _kiosk_page(request, location, token, form, status=400)
    return redirect("appointments:kiosk_ticket", pk=location.pk, token=token, ticket=ticket.pk)


def _todays_ticket(location: Location, pk: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related("booking", "location", "tenant").prefetch_related("services"),
        pk=pk,
        location=location,
        day=timezone.localdate(),
    )


@device_view("kiosk")
def kiosk_ticket(request: HttpRequest, location: Location, token: str, ticket: int) -> HttpResponse:
    drawn = _todays_ticket(location, ticket)
    return render(
        request,
        "appointments/office/kiosk_ticket.html",
        {
            "location": location,
            "public_tenant": location.tenant,
            "token": token,
            "ticket": drawn,
            "wait_minutes": wait_minutes(drawn),
            "appointment": timezone.localtime(drawn.booking.start) if drawn.booking else None,
        },
    )


@device_view("kiosk")
def kiosk_ticket_pdf(
    request: HttpRequest, location: Location, token: str, ticket: int
) -> HttpResponse:
    drawn = _todays_ticket(location, ticket)
    response = HttpResponse(render_ticket(ticket=drawn), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{drawn.label}.pdf"'
    return response


# --- call display ----------------------------------------------------------------------------


def _display_context(location: Location) -> dict[str, Any]:
    calls = selectors.display_calls(location=location, now=timezone.now())
    fingerprint = "|".join(f"{t.pk}:{t.calls}:{t.counter_id}" for t in calls)
    return {
        "calls": calls,
        "current": calls[0] if calls else None,
        "earlier": calls[1:],
        "key": hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
    }


@never_cache
@device_view("display")
def display(request: HttpRequest, location: Location, token: str) -> HttpResponse:
    return render(
        request,
        "appointments/office/display.html",
        {
            "location": location,
            "public_tenant": location.tenant,
            "token": token,
            **_display_context(location),
        },
    )


@never_cache
@device_view("display")
def display_calls(request: HttpRequest, location: Location, token: str) -> HttpResponse:
    """Polled every second; 204 (htmx swaps nothing) while the calls are unchanged, so the
    screen does not flicker and screen readers do not repeat the same call."""
    context = _display_context(location)
    if request.GET.get("since") == context["key"]:
        return HttpResponse(status=204)
    return render(
        request,
        "appointments/office/partials/display_calls.html",
        {"location": location, "token": token, **context},
    )


# --- staff: locations ------------------------------------------------------------------------


@role_required(*OFFICE_ROLES)
def office(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "appointments/office/home.html",
        {
            "locations": selectors.office_locations(),
            "counter": _session_counter(request),
            "undelivered": len(selectors.undelivered_mails(now=timezone.now())),
            "search": BookingSearchForm(),
        },
    )


@role_required(*OFFICE_ROLES)
def office_location(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    kiosk_url = request.build_absolute_uri(device_url(location, "kiosk"))
    display_url = request.build_absolute_uri(device_url(location, "display"))
    return render(
        request,
        "appointments/office/location.html",
        {
            "location": location,
            "kiosk_url": kiosk_url,
            "display_url": display_url,
            "display_gong_url": f"{display_url}?gong=1",
            "counters": location.counters.prefetch_related("services"),
            "today": timezone.localdate(),
        },
    )


@role_required(*OFFICE_ROLES)
@require_POST
def device_links_renew(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    services.device_key_renew(location=location, actor=_actor(request))
    messages.success(
        request, _("New device links made. Open them on the kiosk and the display again.")
    )
    return redirect("appointments:office_location", pk=location.pk)


# --- staff: counter screen -------------------------------------------------------------------


def _session_counter(request: HttpRequest) -> Counter | None:
    pk = request.session.get(SESSION_COUNTER)
    if not pk:
        return None
    # Scoped: a counter remembered under another tenant is simply not found.
    return Counter.objects.filter(pk=pk, active=True).select_related("location", "tenant").first()


def _queue_context(counter: Counter, policy: BookingPolicy, now: dt.datetime) -> dict[str, Any]:
    """The waiting list with each ticket's place in this counter's call order."""
    queue = list(selectors.counter_queue(location=counter.location, now=now))
    called = selectors.call_order(counter=counter, now=now, policy=policy)
    order = {t.pk: n for n, t in enumerate(called, 1)}
    for row in queue:  # shown in the queue table
        row.waited_minutes = max(0, int((now - row.due_at).total_seconds() // 60))  # type: ignore[attr-defined]
        row.position = order.get(row.pk)  # type: ignore[attr-defined]
    return {
        "counter": counter,
        "now": now,
        "waiting": [t for t in queue if t.status == TicketStatus.WAITING],
        "parked": [t for t in queue if t.status == TicketStatus.PARKED],
    }


def _counter_context(counter: Counter) -> dict[str, Any]:
    now = timezone.now()
    location = counter.location
    policy = BookingPolicy.for_tenant(counter.tenant)
    current = selectors.counter_current(counter=counter, now=now)
    choices = _service_choices(location)
    first = current[0] if current else None
    return {
        **_queue_context(counter, policy, now),
        "location": location,
        "current": first,
        "also_open": current[1:],
        "finish_form": FinishForm(
            choices=choices,
            initial={"services": list(first.services.all())} if first else None,
            auto_id="finish_%s",
        ),
        "transfer_form": TransferForm(
            counters=location.counters.filter(active=True).exclude(pk=counter.pk),
            choices=choices,
            auto_id="transfer_%s",
        ),
        "walk_in_limit": policy.walk_in_max_wait_minutes,
    }


def _service_choices(location: Location) -> QuerySet[Service]:
    return location.services.order_by("name")


def _counter_response(request: HttpRequest, counter: Counter) -> HttpResponse:
    """htmx gets the fresh screen to swap in; a plain form post is redirected (POST+redirect)."""
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "appointments/office/partials/counter_screen.html", _counter_context(counter)
        )
    return redirect("appointments:counter")


@role_required(*OFFICE_ROLES)
def counter(request: HttpRequest) -> HttpResponse:
    chosen = _session_counter(request)
    if chosen is None:
        return render(
            request, "appointments/office/counter_choose.html", {"form": CounterChoiceForm()}
        )
    if request.htmx and request.GET.get("part") == "queue":  # type: ignore[attr-defined]
        policy = BookingPolicy.for_tenant(chosen.tenant)
        queue = _queue_context(chosen, policy, timezone.now())
        return render(request, "appointments/office/partials/counter_queue.html", queue)
    context = _counter_context(chosen)
    return render(
        request, "appointments/office/counter.html", {**context, "choose": CounterChoiceForm()}
    )


@role_required(*OFFICE_ROLES)
@require_POST
def counter_choose(request: HttpRequest) -> HttpResponse:
    form = CounterChoiceForm(request.POST)
    if not form.is_valid():
        return render(
            request, "appointments/office/counter_choose.html", {"form": form}, status=400
        )
    request.session[SESSION_COUNTER] = form.cleaned_data["counter"].pk
    return redirect("appointments:counter")


def _required_counter(request: HttpRequest) -> Counter:
    chosen = _session_counter(request)
    if chosen is None:
        raise Http404
    return chosen


@role_required(*OFFICE_ROLES)
@require_POST
def counter_next(request: HttpRequest) -> HttpResponse:
    chosen = _required_counter(request)
    ticket = services.ticket_call_next(counter=chosen, actor=_actor(request))
    if ticket is None:
        messages.info(request, _("Nobody is waiting for this counter."))
    else:
        messages.success(request, _("%(ticket)s called.") % {"ticket": ticket.label})
    return _counter_response(request, chosen)


@role_required(*OFFICE_ROLES)
@require_POST
def ticket_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    chosen = _required_counter(request)
    if action not in TICKET_ACTIONS:
        raise Http404
    ticket: Ticket = get_object_or_404(
        Ticket.objects.prefetch_related("services"),
        pk=pk,
        location=chosen.location,
        day=timezone.localdate(),
    )
    parked_recall = action == "recall" and ticket.status == TicketStatus.PARKED
    if (
        ticket.counter_id not in (None, chosen.pk)
        and ticket.status != TicketStatus.WAITING
        and not parked_recall  # a parked citizen may be called to any free counter
    ):
        # Another counter has this citizen; acting here would show the wrong counter.
        messages.error(
            request,
            _("%(ticket)s is with %(counter)s.")
            % {"ticket": ticket.label, "counter": ticket.counter},
        )
        return _counter_response(request, chosen)
    try:
        _ticket_step(request, chosen, ticket, action)
    except services.BookingError as error:
        messages.error(request, error.message)
    return _counter_response(request, chosen)


def _ticket_step(request: HttpRequest, chosen: Counter, ticket: Ticket, action: str) -> None:
    """Run one counter step; raises `BookingError` with a message for the staff."""
    actor = _actor(request)
    done = {
        "recall": _("%(ticket)s called again."),
        "start": _("Service for %(ticket)s started."),
        "park": _("%(ticket)s parked."),
        "no_show": _("%(ticket)s marked as not come."),
        "finish": _("%(ticket)s finished."),
        "transfer": _("%(ticket)s transferred."),
    }[action]
    if action == "finish":
        finish = FinishForm(request.POST, choices=_service_choices(chosen.location))
        if not finish.is_valid():
            raise services.BookingError(_("Please record at least one service done."), code="form")
        services.ticket_finish(
            ticket=ticket, services_done=finish.cleaned_data["services"], actor=actor
        )
    elif action == "transfer":
        transfer = TransferForm(
            request.POST,
            counters=chosen.location.counters.filter(active=True),
            choices=_service_choices(chosen.location),
        )
        if not transfer.is_valid():
            errors = transfer.non_field_errors() or [
                _("Choose a counter or a service to transfer to.")
            ]
            raise services.BookingError(" ".join(str(e) for e in errors), code="form")
        services.ticket_transfer(
            ticket=ticket,
            counter=transfer.cleaned_data["counter"],
            services=transfer.cleaned_data["services"],
            actor=actor,
        )
    elif action == "recall":
        services.ticket_recall(ticket=ticket, counter=chosen, actor=actor)
    else:
        step = {
            "start": services.ticket_start,
            "park": services.ticket_park,
            "no_show": services.ticket_no_show,
        }[action]
        step(ticket=ticket, actor=actor)
    messages.success(request, done % {"ticket": ticket.label})


# --- staff: phone booking and day plan ------------------------------------------------------


@role_required(*OFFICE_ROLES)
def phone_booking(request: HttpRequest) -> HttpResponse:
    """Book for a caller in three steps on one page: what and where → day → time and name.

    The choices travel in the query string, so every step is a plain link or GET form; only
    the booking itself is a POST (with an idempotency key against double submits).
    """
    wanted = PhoneRequestForm(request.GET or None, locations=selectors.bookable_locations())
    context: dict[str, Any] = {"wanted": wanted, "query": request.GET.urlencode()}
    if not (request.GET and wanted.is_valid() and wanted.cleaned_data["services"]):
        return render(request, "appointments/office/phone.html", context)
    booking_request = services.Request(
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
                actor=_actor(request),
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


def _with_day(request: HttpRequest, day: dt.date) -> str:
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
def day_plan(request: HttpRequest) -> HttpResponse:
    locations = selectors.office_locations()
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
        if request.GET.get("format") == "csv":
            return _day_plan_csv(location, day, context["bookings"])
        context["served"] = selectors.served_on(location=location, day=day)
        query = request.GET.copy()
        query["format"] = "csv"
        context["csv_query"] = query.urlencode()
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
        services_text = ", ".join(
            i.service.name + (f" × {i.quantity}" if i.quantity > 1 else "") for i in b.items.all()
        )
        writer.writerow(
            [
                timezone.localtime(b.start).strftime("%H:%M"),
                timezone.localtime(b.end).strftime("%H:%M"),
                b.code,
                b.name,
                b.phone,
                b.email,
                services_text,
                b.get_status_display(),
                b.get_channel_display(),
            ]
        )
    return response


@role_required(*OFFICE_ROLES)
def booking_search(request: HttpRequest) -> HttpResponse:
    """A citizen on the phone reads out the booking code: straight to the booking. Without the
    code (the mail is lost), their name, e-mail address or phone number lists the matches."""
    form = BookingSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        text = form.cleaned_data["q"]
        booking = selectors.booking_by_code(text) if len(text) <= 12 else None
        if booking is not None:
            return redirect("appointments:office_booking", pk=booking.pk)
        context.update(paged(request, selectors.bookings_matching(text)))
    return render(request, "appointments/office/booking_search.html", context)


@role_required(*OFFICE_ROLES)
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One appointment with everything that happened to it (the audit trail)."""
    booking = get_object_or_404(
        Booking.objects.select_related("location", "created_by").prefetch_related(
            selectors.booking_items()
        ),
        pk=pk,
    )
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
            "events": events_of_subject("booking", booking.pk),
            "plan_url": _plan_url(booking.location, timezone.localdate(booking.start)),
        },
    )


@role_required(*OFFICE_ROLES)
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking: Booking = get_object_or_404(Booking.objects.select_related("location"), pk=pk)
    try:
        services.booking_cancel(booking=booking, actor=_actor(request))
    except services.BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Appointment %(code)s cancelled.") % {"code": booking.code})
    return redirect(_plan_url(booking.location, timezone.localdate(booking.start)))


# --- staff: e-mails the worker gave up on --------------------------------------------------

MAILS_PER_PAGE = 50


@role_required(*OFFICE_ROLES)
def undelivered_mails(request: HttpRequest) -> HttpResponse:
    """Appointment e-mails that could not be delivered after every retry: the citizen has no
    confirmation link or confirmation. Staff send them again or call the citizen."""
    form = MailFilterForm(request.GET or None, locations=selectors.office_locations())
    location = form.cleaned_data["location"] if form.is_valid() else None
    rows = selectors.undelivered_mails(now=timezone.now(), location=location)
    return render(
        request,
        "appointments/office/mails.html",
        {"form": form, **paged(request, rows, MAILS_PER_PAGE)},
    )


@role_required(*OFFICE_ROLES)
@require_POST
def mail_resend(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in MAIL_KINDS:
        raise Http404
    booking: Booking = get_object_or_404(Booking, pk=pk)
    form = MailResendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["email"]))
    else:
        try:
            services.booking_mail_resend(
                booking=booking, kind=kind, email=form.cleaned_data["email"], actor=_actor(request)
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

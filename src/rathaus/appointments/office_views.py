"""The citizen office: kiosk, counter screen, call display and the office's home page (the
staff pages about bookings are in `office_booking_views`).

Staff pages need a login and an office role, and show only the locations the person may work
at (`permissions`: those of their org unit and the units below it). The kiosk and the call
display run on unattended devices without a login; they are opened by a signed link per
location and purpose (the location's office page shows it), so a kiosk link cannot open the
display and neither opens another location.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rathaus.catalog.models import Location, Service, ServiceStatus
from rathaus.core.http import TenantRequest, acting_staff, id_param
from rathaus.core.models import Tenant
from rathaus.core.permissions import role_required
from rathaus.core.tenancy import tenant_context

from . import selectors, services
from .models import (
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
    TransferForm,
)
from .permissions import OFFICE_ROLES, location_check, workable_locations
from .rules import class_for
from .tickets import render_ticket, wait_minutes

SESSION_COUNTER = "appointments.counter"
DEVICE_PURPOSES = ("kiosk", "display")
TICKET_ACTIONS = ("recall", "start", "park", "no_show", "finish", "transfer")


# --- signed device links -------------------------------------------------------------------


def device_token(location: Location, purpose: str, key: str) -> str:
    """A link token for one location and one device purpose; it does not expire, because the
    device runs for months. Renewing the location's device key revokes all of its links."""
    assert purpose in DEVICE_PURPOSES
    return signing.dumps(
        {"t": location.tenant_id, "l": location.pk, "k": key},
        salt=f"appointments.office.{purpose}",
    )


def device_url(location: Location, purpose: str, actor: User | None = None) -> str:
    """The link staff give a device; the location's key is made the first time."""
    key = services.device_key_ensure(location=location, actor=actor)
    return reverse(
        f"appointments:{purpose}",
        kwargs={"pk": location.pk, "token": device_token(location, purpose, key)},
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
                key = selectors.device_key_of(location)
                if key is None or data.get("k") != key:
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
    pk = id_param(request.POST.get("service"))
    service = location.services.filter(pk=pk).first() if pk is not None else None
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
def office(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "appointments/office/home.html",
        {
            "locations": workable_locations(request, among=selectors.office_locations()),
            "counter": _session_counter(request),
            "undelivered": len(
                selectors.undelivered_mails(
                    now=timezone.now(), locations=workable_locations(request)
                )
            ),
            "search": BookingSearchForm(),
        },
    )


@role_required(*OFFICE_ROLES)
def office_location(request: TenantRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    location_check(request, location.pk)
    staff = acting_staff(request)
    kiosk_url = request.build_absolute_uri(device_url(location, "kiosk", staff))
    display_url = request.build_absolute_uri(device_url(location, "display", staff))
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
def device_links_renew(request: TenantRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    location_check(request, location.pk)
    services.device_key_renew(location=location, actor=acting_staff(request))
    messages.success(
        request, _("New device links made. Open them on the kiosk and the display again.")
    )
    return redirect("appointments:office_location", pk=location.pk)


# --- staff: counter screen -------------------------------------------------------------------


def _session_counter(request: TenantRequest) -> Counter | None:
    pk = request.session.get(SESSION_COUNTER)
    if not pk:
        return None
    # Scoped: a counter remembered under another tenant is simply not found, nor one at a
    # location the person may no longer work at.
    return (
        Counter.objects.filter(pk=pk, active=True, location__in=workable_locations(request))
        .select_related("location", "tenant")
        .first()
    )


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


def _counter_response(request: TenantRequest, counter: Counter) -> HttpResponse:
    """htmx gets the fresh screen to swap in; a plain form post is redirected (POST+redirect)."""
    if request.htmx:
        return render(
            request, "appointments/office/partials/counter_screen.html", _counter_context(counter)
        )
    return redirect("appointments:counter")


@role_required(*OFFICE_ROLES)
def counter(request: TenantRequest) -> HttpResponse:
    chosen = _session_counter(request)
    if chosen is None:
        return render(
            request,
            "appointments/office/counter_choose.html",
            {"form": CounterChoiceForm(locations=workable_locations(request))},
        )
    if request.htmx and request.GET.get("part") == "queue":
        policy = BookingPolicy.for_tenant(chosen.tenant)
        queue = _queue_context(chosen, policy, timezone.now())
        return render(request, "appointments/office/partials/counter_queue.html", queue)
    context = _counter_context(chosen)
    return render(
        request,
        "appointments/office/counter.html",
        {**context, "choose": CounterChoiceForm(locations=workable_locations(request))},
    )


@role_required(*OFFICE_ROLES)
@require_POST
def counter_choose(request: TenantRequest) -> HttpResponse:
    form = CounterChoiceForm(request.POST, locations=workable_locations(request))
    if not form.is_valid():
        return render(
            request, "appointments/office/counter_choose.html", {"form": form}, status=400
        )
    request.session[SESSION_COUNTER] = form.cleaned_data["counter"].pk
    return redirect("appointments:counter")


def _required_counter(request: TenantRequest) -> Counter:
    chosen = _session_counter(request)
    if chosen is None:
        raise Http404
    return chosen


@role_required(*OFFICE_ROLES)
@require_POST
def counter_next(request: TenantRequest) -> HttpResponse:
    chosen = _required_counter(request)
    ticket = services.ticket_call_next(counter=chosen, actor=acting_staff(request))
    if ticket is None:
        messages.info(request, _("Nobody is waiting for this counter."))
    else:
        messages.success(request, _("%(ticket)s called.") % {"ticket": ticket.label})
    return _counter_response(request, chosen)


@role_required(*OFFICE_ROLES)
@require_POST
def ticket_action(request: TenantRequest, pk: int, action: str) -> HttpResponse:
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


def _ticket_step(request: TenantRequest, chosen: Counter, ticket: Ticket, action: str) -> None:
    """Run one counter step; raises `BookingError` with a message for the staff."""
    actor = acting_staff(request)
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

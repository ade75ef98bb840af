"""Citizen pages: the booking wizard and its "check your e-mail" page.

The links in the e-mails (confirm, cancel, move) are in `portal_link_views`.

The booking wizard works without JavaScript: every step is a GET form that carries the earlier
choices (see `portal_forms.Choice`); only the last step posts and books. The proof of work of
that last step needs JavaScript in the browser (the ALTCHA widget).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rathaus.catalog.models import Location
from rathaus.core.models import Tenant
from rathaus.core.tenancy import tenant_context

from . import antibot, selectors, services
from .models import Booking, BookingChannel, BookingPolicy, BookingStatus, OpeningHours
from .portal_forms import STEPS, Choice, DetailsForm, choice_from, service_options

HELD_SALT = "appointments.portal.held"
HELD_MAX_AGE = 24 * 3600
SEARCH_FROM = 12  # show a search field above the services from this many on
STEP_LABELS = {
    "services": gettext_lazy("Service"),
    "location": gettext_lazy("Location"),
    "day": gettext_lazy("Day"),
    "time": gettext_lazy("Time"),
    "details": gettext_lazy("Your details"),
}
IDEMPOTENCY_KEY = re.compile(r"[0-9a-f]{32}")

View = Callable[..., HttpResponse]


def public_page(view: View) -> View:
    """Look the municipality up by its slug and run the view inside its scope."""

    @wraps(view)
    def wrapper(request: HttpRequest, tenant_slug: str, **kwargs: Any) -> HttpResponse:
        tenant = get_object_or_404(Tenant, slug=tenant_slug)
        with tenant_context(tenant):
            return view(request, tenant, **kwargs)

    return wrapper


# --- the parts every step shows --------------------------------------------------------------


def _steps(choice: Choice, current: str) -> list[dict[str, Any]]:
    """The progress list; earlier steps link back with the choices made before them."""
    steps = []
    for key in STEPS:
        url = None
        if STEPS.index(key) < STEPS.index(current):
            # The service step gets the chosen services along, so they stay ticked.
            url = choice.query("location", step="services") if key == "services" else None
            url = url or choice.query(key)
        steps.append({"key": key, "label": STEP_LABELS[key], "url": url, "current": key == current})
    return steps


def month_grid(days: dict[dt.date, int], url: Callable[[dt.date], str]) -> list[list[dict]]:
    """Free days grouped by month, each with its number of free times and its link."""
    months: dict[tuple[int, int], list[dict]] = {}
    for day in sorted(days):
        months.setdefault((day.year, day.month), []).append(
            {"day": day, "count": days[day], "url": url(day)}
        )
    return list(months.values())


def _context(tenant: Tenant, choice: Choice, step: str, **extra: Any) -> dict[str, Any]:
    return {
        "public_tenant": tenant,
        "choice": choice,
        "step": step,
        "steps": _steps(choice, step),
        "step_number": STEPS.index(step) + 1,
        "step_count": len(STEPS),
        "hidden": choice.params(step),
        **extra,
    }


@dataclass
class WalkIn:
    location: Location
    hours: list[tuple[str, str]]


def _walk_in(locations: list[Location]) -> list[WalkIn]:
    """Opening hours per weekday, for the 'come without an appointment' alternative."""
    rows = OpeningHours.objects.filter(location__in=locations).order_by(
        "location", "weekday", "opens"
    )
    spans: dict[tuple[int, int], list[str]] = {}
    for row in rows:
        text = f"{row.opens:%H:%M}–{row.closes:%H:%M}"
        spans.setdefault((row.location_id, row.weekday), []).append(text)
    return [
        WalkIn(
            location,
            [
                (str(WEEKDAYS[day]), ", ".join(spans[(location.pk, day)]))
                for day in range(7)
                if (location.pk, day) in spans
            ],
        )
        for location in locations
    ]


def _offering(choice: Choice) -> tuple[list[Location], str | None]:
    """Locations that can book all chosen services together; else why nowhere can."""
    offering, refusals = [], []
    for location in selectors.bookable_locations():
        try:
            services.request_check(services.BookingRequest(location=location, items=choice.items))
        except services.BookingError as exc:
            refusals.append(exc)
        else:
            offering.append(location)
    if offering:
        return offering, None
    reason = next((e.message for e in refusals if e.code != "not_offered"), None)
    return [], reason or _(
        "These services are not offered together at any of our locations. Please book them "
        "one after the other."
    )


def _nothing_free(choice: Choice, offering: list[Location], here: Location | None) -> dict:
    """What the citizen can do when nothing is free: the next free day anywhere, or walk in."""
    earliest = selectors.earliest_anywhere(items=choice.items, locations=offering)
    url = None
    if earliest:
        start, location = earliest[0]
        url = "?" + urlencode(
            [*choice.params("location"), ("location", location.pk)]
            + [("day", timezone.localdate(start).isoformat())]
        )
    return {
        "next_free": earliest[0] if earliest else None,
        "next_free_url": url,
        "walk_in": _walk_in([here] if here else offering),
    }


# --- the wizard --------------------------------------------------------------------------------


@public_page
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method == "POST":
        return _submit(request, tenant)
    return _wizard(request, tenant, choice_from(request.GET))


def _wizard(
    request: HttpRequest, tenant: Tenant, choice: Choice, form: DetailsForm | None = None
) -> HttpResponse:
    """Show the first step whose choice is missing or no longer valid."""
    if request.GET.get("step") == "services" or not choice.items or "services" in choice.errors:
        return _services_step(request, tenant, choice)
    offering, why_not = _offering(choice)
    if why_not:
        choice.errors["services"] = why_not
        return _services_step(request, tenant, choice)
    if choice.anywhere:
        return _anywhere(request, tenant, choice, offering)
    if choice.location not in offering:
        if choice.location is not None:
            choice.errors["location"] = _(
                "%(location)s does not offer these services. Please choose another location."
            ) % {"location": choice.location.name}
            choice.location = None
        return _location_step(request, tenant, choice, offering)
    if choice.day is None or "day" in choice.errors:
        return _day_step(request, tenant, choice, offering)
    if choice.time is None or "time" in choice.errors:
        return _time_step(request, tenant, choice, offering)
    return _details_step(request, tenant, choice, offering, form)


def _services_step(request: HttpRequest, tenant: Tenant, choice: Choice) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    every = service_options()
    options = service_options(query) if query else every
    chosen = dict((s.pk, q) for s, q in choice.items)
    shown = {o.service.pk for o in options}
    return render(
        request,
        "appointments/portal/book_services.html",
        _context(
            tenant,
            choice,
            "services",
            options=[
                {
                    "option": o,
                    "quantities": range(1, o.limit + 1),
                    "chosen": chosen.get(o.service.pk),
                }
                for o in options
            ],
            kept=[(s, q) for s, q in choice.items if s.pk not in shown],
            query=query,
            searchable=len(every) >= SEARCH_FROM or bool(query),
        ),
    )


def _anywhere(
    request: HttpRequest, tenant: Tenant, choice: Choice, offering: list[Location]
) -> HttpResponse:
    """'Earliest anywhere': go to the times of the first free day at the best location."""
    earliest = selectors.earliest_anywhere(items=choice.items, locations=offering)
    if not earliest:
        choice.anywhere = False
        return _location_step(request, tenant, choice, offering)
    start, location = earliest[0]
    choice.anywhere, choice.location = False, location
    choice.day = timezone.localdate(start)
    return redirect(request.path + choice.query("time"))


def _location_step(
    request: HttpRequest, tenant: Tenant, choice: Choice, offering: list[Location]
) -> HttpResponse:
    earliest = selectors.earliest_anywhere(items=choice.items, locations=offering)
    first = {location.pk: start for start, location in earliest}
    context = _context(
        tenant,
        choice,
        "location",
        earliest=earliest[0] if earliest else None,
        locations=[(location, first.get(location.pk)) for location in offering],
    )
    if not earliest:
        context.update(next_free=None, walk_in=_walk_in(offering), nothing_free=True)
    return render(request, "appointments/portal/book_location.html", context)


def _day_step(
    request: HttpRequest, tenant: Tenant, choice: Choice, offering: list[Location]
) -> HttpResponse:
    days = selectors.free_days(request=choice.request())
    months = month_grid(days, lambda day: choice.query("day", day=day.isoformat()))
    context = _context(tenant, choice, "day", months=months)
    if not days:
        context.update(nothing_free=True, **_nothing_free(choice, offering, choice.location))
    return render(request, "appointments/portal/book_day.html", context)


def _time_step(
    request: HttpRequest, tenant: Tenant, choice: Choice, offering: list[Location]
) -> HttpResponse:
    assert choice.day is not None
    starts = selectors.free_starts(request=choice.request(), day=choice.day)
    if not starts:
        choice.errors["day"] = _(
            "There are no free times on this day any more. Please choose another day."
        )
        choice.day = None
        return _day_step(request, tenant, choice, offering)
    return render(
        request,
        "appointments/portal/book_time.html",
        _context(tenant, choice, "time", starts=starts),
    )


def _is_free(choice: Choice) -> bool:
    """The chosen start is still offered to online bookings (window, quota, release time)."""
    if choice.start is None or choice.location is None:
        return False
    return selectors.start_is_free(request=choice.request(), start=choice.start, day=choice.day)


def _details_step(
    request: HttpRequest,
    tenant: Tenant,
    choice: Choice,
    offering: list[Location],
    form: DetailsForm | None,
    status: int = 200,
) -> HttpResponse:
    if not _is_free(choice):
        choice.errors["time"] = _("This time is no longer free. Please choose another one.")
        choice.time = None
        return _time_step(request, tenant, choice, offering)
    form = form or DetailsForm(initial={"idempotency_key": uuid.uuid4().hex})
    policy = BookingPolicy.for_tenant(tenant)
    return render(
        request,
        "appointments/portal/book_details.html",
        _context(
            tenant,
            choice,
            "details",
            form=form,
            altcha_strings_json=json.dumps(_altcha_strings()),
            hold_minutes=policy.hold_minutes,
            erase_after_days=policy.erase_after_days,
        ),
        status=status,
    )


def _altcha_strings() -> dict[str, str]:
    return {
        "label": _("I am not a robot"),
        "verified": _("Checked"),
        "verifying": _("Checking …"),
        "waitAlert": _("Checking … please wait a moment."),
        "error": _("The check failed. Please try again."),
        "expired": _("The check has expired. Please try again."),
        "verificationRequired": _("Please complete the check."),
        "verify": _("Check"),
        "reload": _("Try again"),
        "loading": _("Loading …"),
    }


def _submit(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """Book the chosen time.

    1. A repeated submit (same idempotency key: double click, browser retry) shows the
       booking it made, without counting or checking again.
    2. The limit per address and hour; the choices and the form; the proof of work (a
       payload is good for one submit); the limit per e-mail address and day.
    3. `booking_hold` takes the slots or says why not; then the page says "check your e-mail"
       (post/redirect/get, so reloading does not submit again).
    """
    key = request.POST.get("idempotency_key", "")
    if IDEMPOTENCY_KEY.fullmatch(key):
        existing = selectors.booking_by_idempotency_key(tenant, key)
        if existing is not None:
            return redirect(_held_url(tenant, existing))
    policy = BookingPolicy.for_tenant(tenant)
    if antibot.ip_limited(request, policy):
        return _too_many(request, tenant)
    choice = choice_from(request.POST)
    offering = _offering(choice)[0] if choice.items else []
    form = DetailsForm(request.POST)
    if choice.errors or choice.location not in offering or not _is_free(choice):
        return _wizard(request, tenant, choice, form)
    if not form.is_valid():
        return _details_step(request, tenant, choice, offering, form)
    data = form.cleaned_data
    if not antibot.payload_accept(
        tenant, request.POST.get("altcha", ""), submission=data["idempotency_key"]
    ):
        form.add_error(
            None,
            _(
                "The security check against automated bookings was not completed. Please "
                "allow JavaScript for this page, wait for the tick and send the form again."
            ),
        )
        return _details_step(request, tenant, choice, offering, form, status=400)
    if antibot.email_limited(policy, data["email"]):
        return _too_many(request, tenant)
    assert choice.start is not None
    try:
        booking = services.booking_hold(
            request=choice.request(),
            start=choice.start,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            channel=BookingChannel.ONLINE,
            idempotency_key=data["idempotency_key"],
            language=request.LANGUAGE_CODE,
            policy=policy,
        )
    except services.BookingError as exc:
        form.add_error(None, exc.message)
        return _details_step(request, tenant, choice, offering, form, status=409)
    return redirect(_held_url(tenant, booking))


def _held_url(tenant: Tenant, booking: Booking) -> str:
    token = signing.dumps(booking.pk, salt=HELD_SALT)
    return reverse("appointments:held", kwargs={"tenant_slug": tenant.slug, "token": token})


def message_page(
    request: HttpRequest, tenant: Tenant, title: str, message: str, status: int
) -> HttpResponse:
    """A page that only says why something did not work, with the way back to booking."""
    return render(
        request,
        "appointments/portal/message.html",
        {"public_tenant": tenant, "title": title, "message": message},
        status=status,
    )


def _too_many(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return message_page(
        request,
        tenant,
        _("Too many booking attempts"),
        _(
            "There have been too many booking attempts from your connection or for your "
            "e-mail address. Please try again later, or call us."
        ),
        status=429,
    )


def link_gone(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return message_page(
        request,
        tenant,
        _("This link no longer works"),
        _(
            "The link is incomplete, was for something else, or the appointment has been "
            "moved since. Please use the link in the most recent e-mail from us."
        ),
        status=410,
    )


@public_page
@require_GET
def held(request: HttpRequest, tenant: Tenant, token: str) -> HttpResponse:
    """'Check your e-mail': the time is held; the booking code comes only with the confirmation."""
    try:
        pk = signing.loads(token, salt=HELD_SALT, max_age=HELD_MAX_AGE)
    except signing.BadSignature:
        return link_gone(request, tenant)
    booking = (
        Booking.objects.filter(pk=pk)
        .select_related("location")
        .prefetch_related("items__service")
        .first()
    )
    if booking is None:
        return link_gone(request, tenant)
    return render(
        request,
        "appointments/portal/held.html",
        {
            "public_tenant": tenant,
            "booking": booking,
            "minutes": BookingPolicy.for_tenant(tenant).hold_minutes,
            "is_held": booking.status == BookingStatus.HELD
            and booking.hold_until is not None
            and booking.hold_until >= timezone.now(),
            # A hold that ran out is released even before the worker has marked it.
            "status_label": BookingStatus.EXPIRED.label
            if booking.status == BookingStatus.HELD
            else booking.get_status_display(),
        },
    )


@public_page
@require_GET
def challenge(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """A proof-of-work challenge for the ALTCHA widget on the last booking step."""
    response = JsonResponse(antibot.challenge_for(tenant))
    response["Cache-Control"] = "no-store"
    return response

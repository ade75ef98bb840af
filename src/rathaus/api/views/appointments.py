"""REST API v1 for appointments: bookable locations, free days and times, and the booking
lifecycle (hold, confirm, cancel, reschedule) for other portals and form systems.

The views call the same selectors and services as the citizen portal, so quotas, the booking
window, caps per e-mail and idempotency are the portal's rules. Two differences, on purpose:
the portal's proof-of-work challenge is replaced by the token (an integration is trusted as far
as its token goes and can be revoked), and the per-IP limit does not apply because all requests
of an integration come from one address. The daily limit per e-mail address does apply.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api.models import ApiToken
from rathaus.api.pagination import Pagination
from rathaus.api.serializers.appointments import (
    AvailabilityQuerySerializer,
    BookingCreateSerializer,
    BookingSerializer,
    FreeDaysSerializer,
    FreeTimesSerializer,
    LocationSerializer,
    RateLimited,
    RefusalSerializer,
    RescheduleSerializer,
    TimesQuerySerializer,
    _resolve_items,
    api_error,
)
from rathaus.api.serializers.common import resolve
from rathaus.api.views.common import ERRORS, NOT_FOUND, ApiView
from rathaus.appointments import antibot, selectors
from rathaus.appointments import services as booking_services
from rathaus.appointments.models import Booking, BookingPolicy, OfferedService
from rathaus.appointments.rules import BookingError, taken_error
from rathaus.catalog.models import Location

SCOPE = "appointments"
IDEMPOTENCY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# Path parameter: booking codes are 8 characters of an upper-case alphabet; lower case is
# accepted and upper-cased, anything else never reaches a query.
CODE = r"(?P<code>[0-9A-Za-z]{1,12})"


CONFLICT = {
    409: OpenApiResponse(
        response=RefusalSerializer,
        description="Not possible in the current state; `code` says why: `taken` (someone "
        "else was quicker), `cap` (too many active appointments for this e-mail and service), "
        "`expired` (the hold ran out), `not_active` (cancelled, expired or already served).",
    )
}


RATE_LIMITED = {
    429: OpenApiResponse(
        response=RefusalSerializer,
        description="`rate_limited`: more booking attempts for this e-mail address than the "
        "municipality allows a day (the portal's limit; 5 by default).",
    )
}


# --- helpers --------------------------------------------------------------------------------


def stored_idempotency_key(token: ApiToken, header: str | None) -> str:
    """The key kept on the booking: per token, so two integrations never share a booking."""
    if header is None:
        return ""
    if not IDEMPOTENCY_PATTERN.match(header):
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    _("The Idempotency-Key must be 1 to 255 visible ASCII characters.")
                ]
            }
        )
    digest = hashlib.sha256(f"{token.pk}\x00{header}".encode()).hexdigest()
    return f"api:{digest[:60]}"


def _request_language() -> str:
    language = (translation.get_language() or "de")[:2]
    return language if language in ("de", "en") else "de"


# --- views ----------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string of up to 255 visible ASCII characters (e.g. a UUID). A retry "
    "with the same key returns the booking made with it instead of booking again.",
)


class AppointmentView(ApiView):
    required_scopes = {"GET": SCOPE, "POST": SCOPE}
    # Declared as wide as in ApiView: LocationList below lists locations, paginated.
    model: type[Any] | None = Booking
    pagination_class: type[Pagination] | None = None

    def scoped_queryset(self) -> QuerySet[Any]:
        return Booking.objects.all()

    def handle_exception(self, exc: Exception) -> Response:
        """A refusal of the booking services becomes its HTTP answer (see `api_error`)."""
        if isinstance(exc, BookingError):
            exc = api_error(exc)
        return super().handle_exception(exc)


@extend_schema(tags=["appointments"])
class LocationList(AppointmentView, generics.ListAPIView):
    """Locations that take appointments, with the services bookable there."""

    model = Location
    serializer_class = LocationSerializer
    pagination_class = ApiView.pagination_class

    def scoped_queryset(self) -> QuerySet[Location]:
        offered = OfferedService.objects.select_related("service").prefetch_related(
            "service__combinable"
        )
        return selectors.bookable_locations().prefetch_related(Prefetch("offered", offered))

    @extend_schema(
        summary="List bookable locations",
        responses={200: LocationSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _request(params: dict[str, Any]) -> booking_services.BookingRequest:
    return booking_services.BookingRequest(location=params["location"], items=params["services"])


def _booking_request(
    data: dict[str, Any], location_bookable: bool
) -> booking_services.BookingRequest:
    """Location and services of a booking body, or 400 naming the fields that are unknown.
    Whether the location takes bookings the caller knows already (`hold_outlook`).

    The usual body names services the location offers, each once: the offers come with their
    services, the location and its tenant in one query, which the hold then uses. Any other
    body goes through `_resolve_items` for its message, and the hold says which service is not
    offered there."""
    wanted = [(item["service"], item["quantity"]) for item in data["services"]]
    if location_bookable:
        offers = selectors.offers_with_location(data["location"], [pk for pk, _q in wanted])
        if offers and len(offers) == len(wanted):
            location = next(iter(offers.values())).location
            items = tuple((offers[pk].service, quantity) for pk, quantity in wanted)
            return booking_services.BookingRequest(location=location, items=items, offers=offers)
    errors = {}
    # With its tenant, which the hold needs; a location removed a moment ago is unknown too.
    locations = Location.objects.select_related("tenant")
    try:
        location = resolve(
            locations if location_bookable else locations.none(),
            data["location"],
            _("Unknown location."),
        )
    except serializers.ValidationError as error:
        errors["location"] = error.detail
    try:
        items = _resolve_items(wanted)
    except serializers.ValidationError as error:
        errors["services"] = error.detail
    if errors:
        raise serializers.ValidationError(errors)
    return booking_services.BookingRequest(location=location, items=items)


@extend_schema(tags=["appointments"])
class FreeDays(AppointmentView):
    """Days with free times for the services at the location, within the booking window."""

    @extend_schema(
        summary="Free days",
        parameters=[AvailabilityQuerySerializer],
        responses={200: FreeDaysSerializer, **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = self.validated_query(AvailabilityQuerySerializer)
        days = selectors.free_days(request=_request(params), channel=params["channel"])
        rows = [{"date": day, "times": count} for day, count in sorted(days.items())]
        return Response(FreeDaysSerializer({"location": params["location"].pk, "days": rows}).data)


@extend_schema(tags=["appointments"])
class FreeTimes(AppointmentView):
    """Free start times on one day for the services at the location."""

    @extend_schema(
        summary="Free times on a day",
        parameters=[TimesQuerySerializer],
        responses={200: FreeTimesSerializer, **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = self.validated_query(TimesQuerySerializer)
        times = selectors.free_starts(
            request=_request(params), channel=params["channel"], day=params["day"]
        )
        data = {"location": params["location"].pk, "day": params["day"], "times": times}
        return Response(FreeTimesSerializer(data).data)


def _answer(booking: Booking, code: int = status.HTTP_200_OK) -> Response:
    """The booking as the services left it (they update the instance they are given)."""
    prefetch_related_objects([booking], selectors.booking_service_items())
    return Response(BookingSerializer(booking).data, status=code)


@extend_schema(tags=["appointments"])
class BookingCreate(AppointmentView):
    """Hold a time for a citizen (online) or book it for a caller (phone)."""

    @extend_schema(
        summary="Book an appointment",
        description="Online bookings are held for the municipality's hold time (10 minutes by "
        "default) and the citizen gets the confirmation link by e-mail; an integration that "
        "has verified the e-mail address itself may confirm at once with `confirm/`. Phone "
        "bookings are confirmed at once. The portal's rules apply: booking window and "
        "release time, channel quotas, combinable services and quantities, and the cap on "
        "active appointments per e-mail and service. The daily limit of booking attempts per "
        "e-mail address applies too (429). The portal's proof-of-work challenge and its limit "
        "per IP address do not apply: an integration is trusted through its token, which the "
        "municipality can revoke.",
        request=BookingCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: BookingSerializer, **ERRORS, **CONFLICT, **RATE_LIMITED},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_body(BookingCreateSerializer)
        key = stored_idempotency_key(self.token, request.headers.get("Idempotency-Key"))
        now = timezone.now()
        outlook = selectors.hold_outlook(
            tenant=self.token.tenant,
            key=key,
            location=data["location"],
            services=[item["service"] for item in data["services"]],
            start=data["start"],
            channel=data["channel"],
            now=now,
        )
        if outlook.replay is not None:
            return _answer(Booking.objects.get(pk=outlook.replay), status.HTTP_201_CREATED)
        if outlook.sold_out:
            raise taken_error()
        booking_request = _booking_request(data, outlook.location_bookable)
        # Counted like the portal counts, once the time looked free: a 409 is no attempt.
        policy = BookingPolicy.for_tenant(self.token.tenant)
        if data["email"] and antibot.email_limited(policy, data["email"]):
            raise RateLimited
        booking = booking_services.booking_hold(
            request=booking_request,
            start=data["start"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            channel=data["channel"],
            idempotency_key=key,
            language=data.get("language") or _request_language(),
            now=now,
            policy=policy,
        )
        return _answer(booking, status.HTTP_201_CREATED)


class BookingView(AppointmentView):
    """Base of the views of one booking, found by its code in the token's municipality."""

    lookup_field = "code"

    def booking(self) -> Booking:
        booking = selectors.booking_by_code(
            self.kwargs["code"], items=selectors.booking_service_items()
        )
        if booking is None:
            raise Http404
        return booking


@extend_schema(tags=["appointments"])
class BookingDetail(BookingView):
    """One booking with its status, services and the citizen's contact details."""

    @extend_schema(
        summary="Get a booking",
        responses={200: BookingSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        booking = self.booking()
        self.access_logged("booking", booking.pk)
        return _answer(booking)


@extend_schema(tags=["appointments"])
class BookingConfirm(BookingView):
    """Confirm a held booking (the citizen's e-mail address is verified). Idempotent."""

    @extend_schema(
        summary="Confirm a booking",
        description="For integrations that verified the citizen's e-mail address themselves; "
        "otherwise the citizen confirms with the link in the e-mail. Confirming twice is fine.",
        request=None,
        responses={200: BookingSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        booking = self.booking()
        booking_services.booking_confirm(booking=booking)
        return _answer(booking)


@extend_schema(tags=["appointments"])
class BookingCancel(BookingView):
    """Cancel a held or confirmed booking; its time is offered again after a delay."""

    @extend_schema(
        summary="Cancel a booking",
        request=None,
        responses={200: BookingSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        booking = self.booking()
        booking_services.booking_cancel(booking=booking)
        return _answer(booking)


@extend_schema(tags=["appointments"])
class BookingReschedule(BookingView):
    """Move a confirmed booking to another free time at the same location."""

    @extend_schema(
        summary="Move a booking",
        description="The new time is taken first and the old one given back afterwards, so "
        "a failed move keeps the old appointment.",
        request=RescheduleSerializer,
        responses={200: BookingSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        booking = self.booking()
        start = self.validated_body(RescheduleSerializer)["start"]
        now = timezone.now()
        booking_services.booking_reschedule(booking=booking, start=start, now=now)
        return _answer(booking)

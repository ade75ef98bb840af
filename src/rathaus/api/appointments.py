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
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api.models import ApiToken
from rathaus.api.serializers import IdField, coming_time, phone_number, resolve
from rathaus.api.views import ERRORS, NOT_FOUND, ApiView
from rathaus.appointments import antibot, selectors
from rathaus.appointments import services as booking_services
from rathaus.appointments.models import (
    MAX_QUANTITY,
    Booking,
    BookingChannel,
    BookingPolicy,
    BookingStatus,
    OfferedService,
)
from rathaus.appointments.rules import BookingError, taken_error
from rathaus.catalog.models import Location, Service

SCOPE = "appointments"
# Integrations book for citizens online or take a phone call; internal bookings are staff work.
API_CHANNELS = [
    (BookingChannel.ONLINE.value, BookingChannel.ONLINE.label),
    (BookingChannel.PHONE.value, BookingChannel.PHONE.label),
]
MAX_ITEMS = 10
SERVICES_PATTERN = re.compile(r"^\d{1,18}(:\d{1,2})?(,\d{1,18}(:\d{1,2})?){0,9}$")
IDEMPOTENCY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# Path parameter: booking codes are 8 characters of an upper-case alphabet; lower case is
# accepted and upper-cased, anything else never reaches a query.
CODE = r"(?P<code>[0-9A-Za-z]{1,12})"

# Errors of the booking services that are about the state of things (409), and the request
# field the others are about (400).
CONFLICTS = {"taken", "cap", "expired", "not_active"}
ERROR_FIELDS = {
    "no_service": "services",
    "not_offered": "services",
    "quantity": "services",
    "not_combinable": "services",
    "no_slot": "start",
    "window": "start",
}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This is not possible in the current state.")
    default_code = "conflict"

    def __init__(self, error: BookingError) -> None:
        super().__init__(detail={"code": error.code, "detail": error.message})


class RateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = gettext_lazy(
        "There have been too many booking attempts for this e-mail address. Please try again later."
    )
    default_code = "rate_limited"

    def __init__(self) -> None:
        super().__init__(detail={"code": self.default_code, "detail": self.default_detail})


def api_error(error: BookingError) -> APIException:
    """The HTTP answer to a refusal of the booking services: 409 for state, 400 for input."""
    if error.code in CONFLICTS:
        return Conflict(error)
    field = ERROR_FIELDS.get(error.code, "non_field_errors")
    return serializers.ValidationError({field: [error.message]})


# --- serializers ----------------------------------------------------------------------------

# The choice sets get components of their own: "status" and "channel" already name the choice
# sets of cases and contacts, and drf-spectacular would rename those to resolve the clash.


class NamedEnumField(serializers.ChoiceField):
    """A choice field documented as the schema component `component`."""

    def __init__(self, *, component: str, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        self.component = component


class NamedEnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: NamedEnumField = self.target
        lines = [f"* `{value}` - {label}" for value, label in field.choices.items()]
        component = ResolvedComponent(
            name=field.component,
            type=ResolvedComponent.SCHEMA,
            object=field.component,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(lines),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def booking_status_field(**kwargs: Any) -> NamedEnumField:
    return NamedEnumField(component="BookingStatusEnum", choices=BookingStatus.choices, **kwargs)


def booking_channel_field(**kwargs: Any) -> NamedEnumField:
    return NamedEnumField(component="BookingChannelEnum", choices=BookingChannel.choices, **kwargs)


def api_channel_field(**kwargs: Any) -> NamedEnumField:
    return NamedEnumField(component="ApiBookingChannelEnum", choices=API_CHANNELS, **kwargs)


class RefusalSerializer(serializers.Serializer):
    code = NamedEnumField(
        component="BookingRefusalEnum",
        choices=[(c, c) for c in [*sorted(CONFLICTS), RateLimited.default_code]],
    )
    detail = serializers.CharField(help_text="Translated message for the citizen.")


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


class OfferedServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="service_id", help_text="Id of the service.")
    name = serializers.CharField(source="service.name")
    duration_minutes = serializers.IntegerField(
        source="duration", help_text="Minutes per unit at this location."
    )
    max_quantity = serializers.IntegerField(
        source="quantity_limit", help_text="Most persons or documents in one appointment."
    )
    combinable_with = serializers.SerializerMethodField(
        help_text="Services that may be booked together with this one in one appointment."
    )

    def get_combinable_with(self, offered: OfferedService) -> list[int]:
        return sorted(s.pk for s in offered.service.combinable.all())


class LocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    street = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    accessibility = serializers.CharField(help_text="Accessibility notes.")
    services = OfferedServiceSerializer(many=True, source="offered.all")


def _items(value: str) -> list[tuple[int, int]]:
    if not SERVICES_PATTERN.match(value):
        raise serializers.ValidationError(
            _("Give services as ID:QUANTITY, separated by commas, e.g. 12:2,15:1.")
        )
    items = []
    for part in value.split(","):
        pk, _sep, quantity = part.partition(":")
        items.append((int(pk), int(quantity or 1)))
    return items


def _resolve_items(items: list[tuple[int, int]]) -> tuple[tuple[Service, int], ...]:
    """Service ids with quantities → services of this tenant, or a validation error."""
    ids = [pk for pk, _q in items]
    if len(set(ids)) != len(ids):
        raise serializers.ValidationError(_("Name each service only once."))
    if any(not 1 <= quantity <= MAX_QUANTITY for _pk, quantity in items):
        raise serializers.ValidationError(
            _("The quantity must be between 1 and %(limit)d.") % {"limit": MAX_QUANTITY}
        )
    found = {s.pk: s for s in Service.objects.filter(pk__in=ids)}
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        raise serializers.ValidationError(
            _("Unknown services: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        )
    return tuple((found[pk], quantity) for pk, quantity in items)


def _location(value: int) -> Location:
    return resolve(selectors.bookable_locations(), value, _("Unknown location."))


class AvailabilityQuerySerializer(serializers.Serializer):
    location = IdField(help_text="Id of a bookable location.")
    services = serializers.CharField(
        max_length=300,
        help_text="Service ids with quantities, `ID:QUANTITY` separated by commas, e.g. "
        "`12:2,15:1`; the quantity defaults to 1.",
    )
    channel = api_channel_field(default=BookingChannel.ONLINE)

    def validate_location(self, value: int) -> Location:
        return _location(value)

    def validate_services(self, value: str) -> tuple[tuple[Service, int], ...]:
        return _resolve_items(_items(value))


class TimesQuerySerializer(AvailabilityQuerySerializer):
    day = serializers.DateField(help_text="The day (local date of the municipality).")


class FreeDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    times = serializers.IntegerField(help_text="Number of free start times that day.")


class FreeDaysSerializer(serializers.Serializer):
    location = serializers.IntegerField()
    days = FreeDaySerializer(many=True)


class FreeTimesSerializer(serializers.Serializer):
    location = serializers.IntegerField()
    day = serializers.DateField()
    times = serializers.ListField(
        child=serializers.DateTimeField(), help_text="Free start times, earliest first."
    )


class BookingItemInSerializer(serializers.Serializer):
    service = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class BookingCreateSerializer(serializers.Serializer):
    location = IdField()
    services = BookingItemInSerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)
    start = serializers.DateTimeField(
        validators=[coming_time],
        help_text="A free start time from `availability/times/`; without offset it is the "
        "municipality's local time.",
    )
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for online bookings: the confirmation link goes there.",
    )
    phone = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", validators=[phone_number]
    )
    channel = api_channel_field(
        default=BookingChannel.ONLINE,
        help_text="`online`: held until confirmed; `phone`: booked for a caller, confirmed at "
        "once.",
    )
    language = NamedEnumField(
        component="BookingLanguageEnum",
        choices=[("de", "Deutsch"), ("en", "English")],
        required=False,
        help_text="Language of the e-mails; the request's language when not given.",
    )

    # Location and services stay ids here: `BookingCreate` looks them up only when the time
    # is not already known to be taken (see `selectors.hold_outlook`).

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["channel"] == BookingChannel.ONLINE and not attrs["email"]:
            raise serializers.ValidationError(
                {"email": _("An online booking needs an e-mail address for the confirmation.")}
            )
        return attrs


class RescheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        validators=[coming_time], help_text="The new start time, a free time of the same request."
    )


class BookingItemOutSerializer(serializers.Serializer):
    service = serializers.IntegerField(source="service_id")
    name = serializers.CharField(source="service.name")
    quantity = serializers.IntegerField()


class BookingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Booking code, shown to the citizen.")
    status = booking_status_field()
    location = serializers.IntegerField(source="location_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    hold_until = serializers.DateTimeField(
        allow_null=True, help_text="A held booking is released unless confirmed by then."
    )
    channel = booking_channel_field()
    services = BookingItemOutSerializer(many=True, source="service_items")
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


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
    model = Booking
    pagination_class = None

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


def _request(params: dict[str, Any]) -> booking_services.Request:
    return booking_services.Request(location=params["location"], items=params["services"])


def _booking_request(data: dict[str, Any], location_bookable: bool) -> booking_services.Request:
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
            return booking_services.Request(location=location, items=items, offers=offers)
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
    return booking_services.Request(location=location, items=items)


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

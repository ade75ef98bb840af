"""Shapes of the appointment endpoints (locations, free days and times, bookings), and the
answer to a refusal of the booking services: 409 or 429 with a code, or 400 naming the field."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from rathaus.api.serializers.common import IdField, coming_time, phone_number, resolve
from rathaus.appointments import selectors
from rathaus.appointments.models import MAX_QUANTITY, BookingChannel, BookingStatus, OfferedService
from rathaus.appointments.rules import BookingError
from rathaus.catalog.models import Location, Service

# Integrations book for citizens online or take a phone call; internal bookings are staff work.
API_CHANNELS = [
    (BookingChannel.ONLINE.value, BookingChannel.ONLINE.label),
    (BookingChannel.PHONE.value, BookingChannel.PHONE.label),
]
MAX_ITEMS = 10
SERVICES_PATTERN = re.compile(r"^\d{1,18}(:\d{1,2})?(,\d{1,18}(:\d{1,2})?){0,9}$")

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

"""Shared parts of the request and response shapes: id fields resolved in the tenant scope,
time and phone validators, org units, citizens, and the service-or-unit rule of hand-overs
and cases."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from rathaus.catalog.models import Service
from rathaus.contacts.services.calls import EARLIEST, time_problem
from rathaus.core.keys import phone_key
from rathaus.core.models import OrgUnit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_ID = 2**63 - 1
TEXT_MAX = 10_000


def IdField(**kwargs: Any) -> serializers.IntegerField:  # noqa: N802 - reads like a field class
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def resolve(queryset: QuerySet[Any], pk: int | None, message: StrOrPromise) -> Any:
    """The row with this id in the current tenant scope, or a validation error."""
    if pk is None:
        return None
    try:
        return queryset.get(pk=pk)  # get() drops the ordering a first() would compile
    except queryset.model.DoesNotExist:
        raise serializers.ValidationError(message) from None


def past_time(value: dt.datetime) -> dt.datetime:
    problem = time_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


def coming_time(value: dt.datetime) -> dt.datetime:
    if value < EARLIEST or value > timezone.now() + dt.timedelta(days=366):
        raise serializers.ValidationError(_("Enter a time within the next year."))
    return value


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "kind", "is_kc", "parent"]
        read_only_fields = fields


class UnitRefSerializer(serializers.Serializer):
    # Plain serializers for output that is written on every request: a ModelSerializer
    # introspects the model for each instance, which costs more than the database insert.
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


PHONE_CHARACTERS = re.compile(r"^[0-9+()/. -]*$")
PHONE_DIGITS_MAX = 30  # the length of the normalised key contacts and cases store


def phone_number(value: str) -> str:
    if not PHONE_CHARACTERS.match(value) or len(phone_key(value)) > PHONE_DIGITS_MAX:
        raise serializers.ValidationError(
            _("Enter a phone number: digits, spaces and + - / ( ) . only, at most 30 digits.")
        )
    return value


class CitizenInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", validators=[phone_number]
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class CitizenOutSerializer(serializers.Serializer):
    name = serializers.CharField(source="citizen_name", read_only=True)
    phone = serializers.CharField(source="citizen_phone", read_only=True)
    email = serializers.CharField(source="citizen_email", read_only=True)
    address = serializers.CharField(source="citizen_address", read_only=True)


class ServiceOrUnitMixin:
    """A case goes to the given unit, else to the unit of the given service."""

    def validate_service(self, value: int | None) -> Service | None:
        return resolve(Service.objects.select_related("org_unit"), value, _("Unknown service."))

    def validate_org_unit(self, value: int | None) -> OrgUnit | None:
        return resolve(OrgUnit.objects.all(), value, _("Unknown unit."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        service, unit = attrs.get("service"), attrs.get("org_unit")
        if service is None and unit is None:
            raise serializers.ValidationError(
                {"org_unit": _("A hand-over needs a service or a unit.")}
            )
        if unit is None and service is not None and service.org_unit is None:
            raise serializers.ValidationError(
                {"org_unit": _("Choose the responsible unit: the service names none.")}
            )
        return attrs

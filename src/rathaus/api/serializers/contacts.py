"""Shapes of the contact endpoints: a finished contact with its hand-over, and the list."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from rathaus.api.serializers.common import (
    TEXT_MAX,
    CitizenInSerializer,
    CitizenOutSerializer,
    IdField,
    ServiceOrUnitMixin,
    UnitRefSerializer,
    coming_time,
    past_time,
)
from rathaus.catalog.models import Service
from rathaus.contacts.models import Channel, Direction, Outcome, Priority


class HandoverSerializer(ServiceOrUnitMixin, serializers.Serializer):
    service = IdField(required=False, allow_null=True, default=None)
    org_unit = IdField(required=False, allow_null=True, default=None)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)


class ContactCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.INBOUND)
    started_at = serializers.DateTimeField(validators=[past_time])
    ended_at = serializers.DateTimeField(validators=[past_time])
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    summary = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )
    services = serializers.ListField(child=IdField(), max_length=50, required=False, default=list)
    citizen = CitizenInSerializer(required=False, allow_null=True, default=None)
    callback_due = serializers.DateTimeField(
        required=False, allow_null=True, default=None, validators=[coming_time]
    )
    handover = HandoverSerializer(required=False, allow_null=True, default=None)

    def validate_services(self, value: list[int]) -> list[Service]:
        wanted = set(value)
        found = list(Service.objects.filter(pk__in=wanted))
        unknown = wanted - {s.pk for s in found}
        if unknown:
            raise serializers.ValidationError(
                _("Unknown services: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))}
            )
        return found

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ended_at"] < attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": _("The end lies before the start.")})
        handed_over = attrs["outcome"] == Outcome.HANDED_OVER
        if handed_over and attrs.get("handover") is None:
            raise serializers.ValidationError(
                {"handover": _("A hand-over needs a service or a unit.")}
            )
        if not handed_over and attrs.get("handover") is not None:
            raise serializers.ValidationError(
                {"handover": _("Only a contact with the outcome “handed over” has a hand-over.")}
            )
        if attrs["outcome"] == Outcome.CALLBACK and attrs.get("callback_due") is None:
            raise serializers.ValidationError(
                {"callback_due": _("A promised callback needs a due time.")}
            )
        return attrs


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    direction = serializers.ChoiceField(choices=Direction.choices, read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True)
    handling_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, read_only=True, allow_blank=True)
    summary = serializers.CharField(read_only=True)
    services = serializers.ListField(
        child=serializers.IntegerField(), source="service_ids", read_only=True
    )
    org_unit = UnitRefSerializer(read_only=True, allow_null=True)
    case = serializers.CharField(
        source="case.reference", read_only=True, allow_null=True, help_text="Case reference."
    )
    callback_due = serializers.DateTimeField(read_only=True, allow_null=True)
    callback_done_at = serializers.DateTimeField(read_only=True, allow_null=True)
    citizen = CitizenOutSerializer(source="*", read_only=True)


class ContactFilterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    started_after = serializers.DateTimeField(required=False)
    started_before = serializers.DateTimeField(required=False)

"""Request and response shapes of the REST API.

Ids of other rows arrive as plain integers and are resolved inside the request's tenant scope:
an id of another municipality is simply unknown, with the same message as a made-up one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from rathaus.catalog.models import Service
from rathaus.contacts.callrecords import EARLIEST, CallRow, row_problems, time_problem
from rathaus.contacts.models import (
    Case,
    CaseMessage,
    CaseStatus,
    Channel,
    Direction,
    Outcome,
    Priority,
)
from rathaus.contacts.services import phone_key
from rathaus.core.models import OrgUnit

MAX_ID = 2**63 - 1
TEXT_MAX = 10_000
MAX_CALLS_PER_REQUEST = 1000


def IdField(**kwargs: Any) -> serializers.IntegerField:  # noqa: N802 - reads like a field class
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def resolve(queryset: QuerySet[Any], pk: int | None, message: str) -> Any:
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


# --- shared parts ---------------------------------------------------------------------------


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


# --- catalogue ------------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    org_unit = UnitRefSerializer(read_only=True, allow_null=True)
    keywords = serializers.ListField(
        child=serializers.CharField(), source="keyword_list", read_only=True
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "leika_key",
            "keywords",
            "summary",
            "audience",
            "requirements",
            "documents",
            "fees",
            "processing_time",
            "legal_basis",
            "online_url",
            "org_unit",
            "kc_can_answer",
            "handover_days",
            "bookable",
            "duration_minutes",
            "valid_from",
            "valid_to",
            "updated_at",
        ]
        read_only_fields = fields


class ServiceFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=200, help_text="Part of the service name.")
    unit = IdField(required=False, help_text="Id of the responsible org unit.")
    bookable = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Bookable as appointment."
    )


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="What the citizen asks, in own words.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["service", "article"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()


class SearchResultSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True)


# --- contacts -------------------------------------------------------------------------------


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
        if unit is None and service.org_unit is None:
            raise serializers.ValidationError(
                {"org_unit": _("Choose the responsible unit: the service names none.")}
            )
        return attrs


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


# --- cases ----------------------------------------------------------------------------------


class CaseCreateSerializer(ServiceOrUnitMixin, serializers.Serializer):
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )
    service = IdField(required=False, allow_null=True, default=None)
    org_unit = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Responsible unit; the service's unit when empty.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    citizen = CitizenInSerializer(required=False, allow_null=True, default=None)


class CaseMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseMessage
        fields = ["id", "kind", "subject", "body", "created_at", "delivery", "delivered_at"]
        extra_kwargs = {
            "delivery": {
                "help_text": "E-mails to the citizen: queued, sent, failed (not delivered after "
                "every retry) or other_way (the clerk recorded another way); empty otherwise. "
                "The case counts as answered once the reply is sent."
            }
        }
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    org_unit = UnitRefSerializer(read_only=True)
    service = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    citizen = CitizenOutSerializer(source="*", read_only=True)

    class Meta:
        model = Case
        fields = [
            "reference",
            "subject",
            "description",
            "status",
            "service",
            "org_unit",
            "channel",
            "priority",
            "created_at",
            "deadline",
            "overdue",
            "paused_at",
            "answered_at",
            "closed_at",
            "citizen",
        ]
        read_only_fields = fields

    def get_overdue(self, case: Case) -> bool:
        return case.is_overdue()


class CaseDetailSerializer(CaseSerializer):
    messages = CaseMessageSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("open", "open"), *CaseStatus.choices],
        required=False,
        help_text="A status, or “open” for new, in progress and waiting.",
    )
    org_unit = IdField(required=False)
    service = IdField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(
        choices=["deadline", "-deadline", "created_at", "-created_at"], default="deadline"
    )


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)


class CaseForwardSerializer(serializers.Serializer):
    org_unit = IdField()
    reason = serializers.CharField(max_length=2000)

    def validate_org_unit(self, value: int) -> OrgUnit:
        return resolve(OrgUnit.objects.all(), value, _("Unknown unit."))


class CaseReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=TEXT_MAX)
    answered = serializers.BooleanField(
        default=True, help_text="False: a question back to the citizen (status “waiting”)."
    )


# --- call records ---------------------------------------------------------------------------


class CallRecordSerializer(serializers.Serializer):
    call_id = serializers.CharField(max_length=64)
    arrived_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ended_at = serializers.DateTimeField()
    abandoned = serializers.BooleanField(default=False)
    queue = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    agent = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        for field, message in row_problems(CallRow(line=0, **attrs)):
            problems.setdefault(field, []).append(message)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class CallImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()

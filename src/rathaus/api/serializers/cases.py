"""Shapes of the case endpoints: new cases, a case with its messages, filters, status
changes, forwarding and replies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from rathaus.api.serializers.common import (
    TEXT_MAX,
    CitizenInSerializer,
    CitizenOutSerializer,
    IdField,
    ServiceOrUnitMixin,
    UnitRefSerializer,
    resolve,
)
from rathaus.contacts.models import Case, CaseMessage, CaseStatus, Channel, Priority
from rathaus.core.models import OrgUnit


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

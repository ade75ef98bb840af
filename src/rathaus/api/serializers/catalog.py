"""Shapes of the catalogue endpoints: services, their filters and the search."""

from __future__ import annotations

from rest_framework import serializers

from rathaus.api.serializers.common import IdField, UnitRefSerializer
from rathaus.catalog.models import Service


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

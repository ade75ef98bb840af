"""Shapes of the call-record delivery of the telephone system."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rathaus.contacts.services.calls import CallRow, row_problems

MAX_CALLS_PER_REQUEST = 1000


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

"""Call-record delivery of the telephone system: one record or a list, all or nothing."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api import serializers as s
from rathaus.api.views.common import ERRORS, ApiView
from rathaus.contacts.models import Contact
from rathaus.contacts.services.calls import CallRow, call_records_import

CALLS_REQUEST = PolymorphicProxySerializer(
    component_name="CallRecordOrList",
    serializers=[
        s.CallRecordSerializer,
        s.CallRecordSerializer(many=True, max_length=s.MAX_CALLS_PER_REQUEST),
    ],
    resource_type_field_name=None,
    many=False,
)


@extend_schema(tags=["calls"])
class CallRecordImport(ApiView):
    """Deliver call records of the telephone system: one object, or a list of up to 1000.

    All or nothing: if any record is invalid or its call id is already stored, none is kept.
    """

    required_scopes = {"POST": "calls:write"}
    model = Contact
    serializer_class = s.CallRecordSerializer

    @extend_schema(
        summary="Deliver call records",
        request=CALLS_REQUEST,
        responses={201: s.CallImportResultSerializer, **ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = request.data
        if isinstance(payload, dict):
            serializer: serializers.BaseSerializer = s.CallRecordSerializer(data=payload)
        elif isinstance(payload, list):
            serializer = s.CallRecordSerializer(
                data=payload, many=True, max_length=s.MAX_CALLS_PER_REQUEST, allow_empty=False
            )
        else:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a call record or a list of call records.")]}
            )
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data
        if isinstance(items, dict):
            items = [items]
        rows = [CallRow(line=number, **item) for number, item in enumerate(items, start=1)]
        count = call_records_import(
            tenant=self.token.tenant, actor=None, rows=rows, org_unit=self.token.org_unit
        )
        return Response({"imported": count}, status=status.HTTP_201_CREATED)

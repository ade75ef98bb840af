"""Contact endpoints: list and read contacts, record a finished one in one call."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api import serializers as s
from rathaus.api.services import api_contact_record
from rathaus.api.views.common import ERRORS, NOT_FOUND, ApiView
from rathaus.contacts.models import Contact
from rathaus.core.models import AccessAction


@extend_schema(tags=["contacts"])
class ContactList(ApiView, generics.ListCreateAPIView):
    """Contacts, newest first; POST records a finished contact in one call."""

    required_scopes = {"GET": "contacts:read", "POST": "contacts:write"}
    model = Contact
    serializer_class = s.ContactSerializer

    def scoped_queryset(self) -> QuerySet[Contact]:
        qs = Contact.objects.select_related("org_unit", "case").prefetch_related("services")
        if self.request.method != "GET":
            return qs
        filters = self.validated_query(s.ContactFilterSerializer)
        for name in ("channel", "outcome"):
            if filters.get(name):
                qs = qs.filter(**{name: filters[name]})
        if filters.get("started_after"):
            qs = qs.filter(started_at__gte=filters["started_after"])
        if filters.get("started_before"):
            qs = qs.filter(started_at__lt=filters["started_before"])
        return qs.order_by("-started_at", "-id")

    @extend_schema(
        summary="List contacts",
        description="Contacts of all channels, newest first.",
        parameters=[s.ContactFilterSerializer],
        responses={200: s.ContactSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        self.access_logged("contacts", action=AccessAction.SEARCHED)
        return response

    @extend_schema(
        summary="Record a finished contact",
        description="A finished contact in one call, recorded for the token's unit. The "
        "outcome `handed_over` needs `handover` and creates a case; `callback` needs "
        "`callback_due`. Times without offset are the municipality's local time.",
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer, **ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_body(s.ContactCreateSerializer)
        contact = api_contact_record(
            token=self.token,
            channel=data["channel"],
            direction=data["direction"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            outcome=data["outcome"],
            summary=data["summary"],
            services=data["services"],
            citizen=data["citizen"],
            callback_due=data["callback_due"],
            handover=data["handover"],
        )
        # Serialised from the object just written: org unit and case are already in memory.
        return Response(s.ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["contacts"])
class ContactDetail(ApiView, generics.RetrieveAPIView):
    """One contact."""

    required_scopes = {"GET": "contacts:read"}
    model = Contact
    serializer_class = s.ContactSerializer

    def scoped_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.select_related("org_unit", "case").prefetch_related("services")

    @extend_schema(
        summary="Get a contact", responses={200: s.ContactSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)  # 404 before anything is logged
        self.access_logged("contact", kwargs["pk"])
        return response

"""Case endpoints: list, create and read cases; change the status, forward, reply."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api import serializers as s
from rathaus.api.views.common import ERRORS, NOT_FOUND, ApiView
from rathaus.contacts.models import OPEN_STATUSES, Case
from rathaus.contacts.services import case_create, case_forward, case_set_status
from rathaus.contacts.services.delivery import case_reply_email
from rathaus.core.models import AccessAction


def _cases() -> QuerySet[Case]:
    return Case.objects.select_related("org_unit", "service")


@extend_schema(tags=["cases"])
class CaseList(ApiView, generics.ListCreateAPIView):
    """Cases, by deadline unless ordered otherwise; POST hands a new case to a unit."""

    required_scopes = {"GET": "cases:read", "POST": "cases:write"}
    model = Case
    serializer_class = s.CaseSerializer

    def scoped_queryset(self) -> QuerySet[Case]:
        qs = _cases()
        if self.request.method != "GET":
            return qs
        filters = self.validated_query(s.CaseFilterSerializer)
        if filters.get("status") == "open":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif filters.get("status"):
            qs = qs.filter(status=filters["status"])
        for name in ("org_unit", "service"):
            if filters.get(name):
                qs = qs.filter(**{f"{name}_id": filters[name]})
        if filters.get("channel"):
            qs = qs.filter(channel=filters["channel"])
        overdue = {"status__in": OPEN_STATUSES, "paused_at__isnull": True}
        if filters.get("overdue") is True:
            qs = qs.filter(**overdue, deadline__lt=timezone.now())
        elif filters.get("overdue") is False:
            qs = qs.exclude(pk__in=_cases().filter(**overdue, deadline__lt=timezone.now()))
        field = filters["ordering"]
        return qs.order_by(field, "-id" if field.startswith("-") else "id")

    @extend_schema(
        summary="List cases",
        description="Cases by deadline (or as `ordering` says), with filters.",
        parameters=[s.CaseFilterSerializer],
        responses={200: s.CaseSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        self.access_logged("cases", action=AccessAction.SEARCHED)
        return response

    @extend_schema(
        summary="Create a case",
        description="Hand a new case to the given unit, or to the unit of the given service; "
        "the deadline follows from the service's working days.",
        request=s.CaseCreateSerializer,
        responses={201: s.CaseDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_body(s.CaseCreateSerializer)
        case = case_create(
            tenant=self.token.tenant,
            channel=data["channel"],
            actor=None,
            subject=data["subject"],
            description=data["description"],
            service=data["service"],
            org_unit=data["org_unit"],
            citizen=data["citizen"],
            priority=data["priority"],
        )
        return Response(s.CaseDetailSerializer(case).data, status=status.HTTP_201_CREATED)


class CaseView(ApiView):
    """Base of the views of one case, found by its reference in the token's municipality."""

    model = Case
    lookup_field = "reference"

    def scoped_queryset(self) -> QuerySet[Case]:
        return _cases().prefetch_related("messages")

    def case(self) -> Case:
        return get_object_or_404(self.get_queryset(), reference=self.kwargs["reference"])

    def answer(self, case: Case) -> Response:
        return Response(s.CaseDetailSerializer(self.get_queryset().get(pk=case.pk)).data)


@extend_schema(tags=["cases"])
class CaseDetail(CaseView, generics.RetrieveAPIView):
    """One case with its notes and correspondence."""

    required_scopes = {"GET": "cases:read"}
    serializer_class = s.CaseDetailSerializer

    @extend_schema(
        summary="Get a case", responses={200: s.CaseDetailSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)  # 404 before anything is logged
        self.access_logged("case", kwargs["reference"])
        return response


@extend_schema(tags=["cases"])
class CaseStatusChange(CaseView):
    """Move the case along its lifecycle (new → in progress → waiting/answered → closed)."""

    required_scopes = {"POST": "cases:write"}
    serializer_class = s.CaseStatusSerializer

    @extend_schema(
        summary="Change the status of a case",
        request=s.CaseStatusSerializer,
        responses={200: s.CaseDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.case()
        data = self.validated_body(s.CaseStatusSerializer)
        case_set_status(case=case, status=data["status"], actor=None)
        return self.answer(case)


@extend_schema(tags=["cases"])
class CaseForward(CaseView):
    """Hand the case to another unit, with a reason."""

    required_scopes = {"POST": "cases:write"}
    serializer_class = s.CaseForwardSerializer

    @extend_schema(
        summary="Forward a case",
        request=s.CaseForwardSerializer,
        responses={200: s.CaseDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.case()
        data = self.validated_body(s.CaseForwardSerializer)
        case_forward(case=case, org_unit=data["org_unit"], reason=data["reason"], actor=None)
        return self.answer(case)


@extend_schema(tags=["cases"])
class CaseReply(CaseView):
    """Answer the citizen by e-mail. The mail is queued with the reply and sent by the
    worker, retried while the mail server is down; the reply's `delivery` tells what became
    of it, and the case counts as answered once it is sent."""

    required_scopes = {"POST": "cases:write"}
    serializer_class = s.CaseReplySerializer

    @extend_schema(
        summary="Reply to the citizen by e-mail",
        request=s.CaseReplySerializer,
        responses={200: s.CaseDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.case()
        data = self.validated_body(s.CaseReplySerializer)
        case_reply_email(case=case, body=data["body"], actor=None, answered=data["answered"])
        return self.answer(case)

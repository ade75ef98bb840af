"""REST API v1: catalogue (read), contacts, cases and call records for integrations.

Every view runs in the tenant scope of its token (see auth.TenantScopedAPIView); writes go
through the services of the owning app, whose Django ValidationErrors become 400 answers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api import serializers as s
from rathaus.api.auth import TenantScopedAPIView
from rathaus.api.errors import exception_handler
from rathaus.api.pagination import Pagination
from rathaus.api.parsers import SafeJSONParser
from rathaus.api.services import api_contact_record
from rathaus.catalog.models import Service
from rathaus.catalog.selectors import catalog_search, published_services
from rathaus.contacts.callrecords import CallRow, call_records_import
from rathaus.contacts.delivery import case_reply_email
from rathaus.contacts.models import OPEN_STATUSES, Case, Contact
from rathaus.contacts.services import case_create, case_forward, case_set_status
from rathaus.core.models import AccessAction, OrgUnit
from rathaus.core.services import personal_data_accessed

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {field: [messages]}."),
    401: OpenApiResponse(description="Missing, invalid or revoked token."),
    403: OpenApiResponse(description="The token lacks the scope of this action."),
}
NOT_FOUND = {404: OpenApiResponse(description="Not found (or of another municipality).")}


class ApiView(TenantScopedAPIView, generics.GenericAPIView):
    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser]
    pagination_class = Pagination
    metadata_class = None  # OPTIONS answers 405: the OpenAPI file describes the API
    model: type[Any] | None = None

    def get_exception_handler(self) -> Any:
        return exception_handler

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no tenant scope
            assert self.model is not None
            return self.model.objects.none()
        return self.scoped_queryset()

    def scoped_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def access_logged(
        self, subject_kind: str, subject_id: object = "", action: str = AccessAction.VIEWED
    ) -> None:
        """Log that the integration read citizens' data, named by its token (the access log
        of `core.access`, which is for signed-in users)."""
        personal_data_accessed(
            tenant=self.token.tenant,
            user=None,
            client=str(self.token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            action=action,
        )

    def validated_query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        """Validated query parameters; bad ones are a 400 with the parameter's name."""
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def validated_body(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object.")]}, code="invalid"
            )
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- catalogue ------------------------------------------------------------------------------


@extend_schema(tags=["catalogue"])
class UnitList(ApiView, generics.ListAPIView):
    """The org units of the municipality (ids for hand-overs and forwarding)."""

    required_scopes = {"GET": ""}
    model = OrgUnit
    serializer_class = s.UnitSerializer

    def scoped_queryset(self) -> QuerySet[OrgUnit]:
        return OrgUnit.objects.order_by("path", "id")

    @extend_schema(summary="List org units", responses={200: s.UnitSerializer(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["catalogue"])
class ServiceList(ApiView, generics.ListAPIView):
    """Published services, by name."""

    required_scopes = {"GET": "services:read"}
    model = Service
    serializer_class = s.ServiceSerializer

    def scoped_queryset(self) -> QuerySet[Service]:
        filters = self.validated_query(s.ServiceFilterSerializer)
        qs = published_services().select_related("org_unit").order_by("name", "id")
        if filters.get("q"):
            qs = qs.filter(name__icontains=filters["q"].strip())
        if filters.get("unit"):
            qs = qs.filter(org_unit_id=filters["unit"])
        if filters.get("bookable") is not None:
            qs = qs.filter(bookable=filters["bookable"])
        return qs

    @extend_schema(
        summary="List published services",
        parameters=[s.ServiceFilterSerializer],
        responses={200: s.ServiceSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["catalogue"])
class ServiceDetail(ApiView, generics.RetrieveAPIView):
    """One published service."""

    required_scopes = {"GET": "services:read"}
    model = Service
    serializer_class = s.ServiceSerializer

    def scoped_queryset(self) -> QuerySet[Service]:
        return published_services().select_related("org_unit")

    @extend_schema(
        summary="Get a service", responses={200: s.ServiceSerializer, **ERRORS, **NOT_FOUND}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["catalogue"])
class Search(ApiView):
    """Services and knowledge articles matching a citizen's words, best first."""

    required_scopes = {"GET": "services:read"}
    model = Service
    pagination_class = None

    @extend_schema(
        summary="Search services and articles",
        parameters=[s.SearchQuerySerializer],
        responses={200: s.SearchResultSerializer, **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = self.validated_query(s.SearchQuerySerializer)
        hits = catalog_search(self.token.tenant, params["q"], limit=params["limit"])
        results = [
            {
                "kind": hit.kind,
                "id": hit.obj.pk,
                "title": hit.obj.name if isinstance(hit.obj, Service) else hit.obj.question,
                "score": round(float(hit.score), 4),
            }
            for hit in hits
        ]
        return Response(s.SearchResultSerializer({"results": results}).data)


# --- contacts -------------------------------------------------------------------------------


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


# --- cases ----------------------------------------------------------------------------------


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


# --- call records ---------------------------------------------------------------------------

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

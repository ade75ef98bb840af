"""Catalogue endpoints (read only): org units, published services and the search."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from rathaus.api import serializers as s
from rathaus.api.views.common import ERRORS, NOT_FOUND, ApiView
from rathaus.catalog.models import Service
from rathaus.catalog.selectors import catalog_search, published_services
from rathaus.core.models import OrgUnit


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

"""The base of every API view (tenant scope from the token, JSON in and out, one error format,
validated query and body, the access log of citizens' data read through the API) and the error
answers every operation documents."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer

from rathaus.api.auth import TenantScopedAPIView
from rathaus.api.errors import exception_handler
from rathaus.api.pagination import Pagination
from rathaus.api.parsers import SafeJSONParser
from rathaus.core.models import AccessAction
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
    pagination_class: type[Pagination] | None = Pagination
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

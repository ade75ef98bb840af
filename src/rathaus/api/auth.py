"""Bearer-token authentication, per-action scopes, and the tenant scope of every API request."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from rathaus.api.models import ApiToken
from rathaus.api.services import api_token_authenticate
from rathaus.core.tenancy import tenant_context


class ApiTokenAuthentication(BaseAuthentication):
    """Reads `Authorization: Bearer <token>`; request.auth becomes the ApiToken row.

    request.user stays anonymous: an integration is no person, and events record the token's
    unit instead of a user.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: give “Bearer” and the token.")
            )
        try:
            plain = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token.")) from None
        token = api_token_authenticate(plain)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the token is missing or wrong.
        return 'Bearer realm="api"'


class TokenScopeExtension(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Per-tenant API token."}


class HasTokenScope(BasePermission):
    """Requires a valid token holding the scope the view declares for the request method.

    Views declare `required_scopes = {"GET": "cases:read", "POST": "cases:write"}`; a method
    mapped to "" needs a valid token only. A method the view does not offer passes here, so
    DRF answers 405; one it offers without declaring a scope is refused (fail closed).
    """

    message = _("This token lacks the scope “%(scope)s”.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False  # DRF turns this into 401 because no authenticator succeeded
        method = "GET" if request.method == "HEAD" else (request.method or "")
        if method == "OPTIONS":
            return True  # the view itself answers (405: the API offers no OPTIONS metadata)
        required: dict[str, str] = getattr(view, "required_scopes", {})
        if method not in required:
            offered = method.lower() in view.http_method_names and hasattr(view, method.lower())
            return not offered
        needed = required[method]
        if needed and not token.has_scope(needed):
            raise exceptions.PermissionDenied(str(self.message) % {"scope": needed})
        return True


class TenantScopedAPIView(APIView):
    """Base of every API view: token auth, scope check, and the token's tenant for the request.

    1. dispatch() opens an exit stack that lives exactly as long as the request.
    2. initial() authenticates and checks the scope, then enters `scope(tenant=…)` and the
       tenant's time zone on that stack, so every query of the handler is tenant-scoped and
       naive input times mean the tenant's local time.
    3. The stack closes when dispatch() returns, also after an error.
    """

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasTokenScope]
    required_scopes: dict[str, str] = {}
    _request_stack: ExitStack

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with ExitStack() as stack:
            self._request_stack = stack
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        token: ApiToken = request.auth
        self._request_stack.enter_context(tenant_context(token.tenant))

    @property
    def token(self) -> ApiToken:
        token = self.request.auth
        assert isinstance(token, ApiToken)
        return token

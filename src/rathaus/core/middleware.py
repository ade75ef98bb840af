"""Tenant selection and the Content-Security-Policy header."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_scopes import scope

from rathaus.core.http import TenantRequest
from rathaus.core.selectors import memberships_of_user, roles_of, tenants_of_user
from rathaus.core.tenancy import tenant_context
from rathaus.core.wall import NONE, all_tenants, tenant_wall

SESSION_TENANT_KEY = "rathaus_tenant_id"


class TenantMiddleware:
    """Enters the scope of the signed-in person's active tenant for the whole request.

    A person may belong to several tenants; the active one is kept in the session. A person
    with no membership (and anonymous citizens) get an empty scope: scoped queries return
    nothing instead of another municipality's rows. Times are shown in the active tenant's
    time zone. On PostgreSQL the database's row-level security holds the same tenant for
    the request's transaction (`core.wall`), and no tenant at all (`none`) otherwise.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        request.tenant = None
        request.tenants = []
        request.memberships = []
        request.roles = set()
        if request.user.is_authenticated:
            # Which municipalities the person belongs to is the request's one read across
            # tenants, before any tenant is chosen; nothing else runs in this block.
            with all_tenants():
                tenants = tenants_of_user(request.user)
                wanted = request.session.get(SESSION_TENANT_KEY)
                active = next(
                    (t for t in tenants if t.pk == wanted), tenants[0] if tenants else None
                )
                request.tenants = tenants
                if active is not None:
                    request.tenant = active
                    request.memberships = memberships_of_user(request.user, active)
                    request.roles = roles_of(request.memberships)
        if request.tenant is None:
            # Citizen pages pick their tenant from the URL inside (tenant_context).
            with scope(tenant=[]), tenant_wall(NONE):
                return self.get_response(request)
        with tenant_context(request.tenant):
            return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response

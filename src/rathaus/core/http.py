"""The request as Rathaus' views see it: the TenantMiddleware sets the active tenant, the
person's tenants, memberships and roles; django-htmx sets `htmx`. Views annotate their
request as `TenantRequest` instead of silencing the type checker at every use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.http import HttpRequest

if TYPE_CHECKING:
    from rathaus.core.models import Membership, Tenant


class TenantRequest(HttpRequest):
    tenant: Tenant | None
    tenants: list[Tenant]
    memberships: list[Membership]
    roles: set[str]
    htmx: Any


def acting_staff(request: HttpRequest) -> User:
    """The signed-in staff member (the views are behind `login_required` or `role_required`)."""
    assert isinstance(request.user, User)
    return request.user


def active_tenant(request: TenantRequest) -> Tenant:
    """The municipality the middleware entered (the views are behind `tenant_required` or
    `role_required`, which refuse a request without one)."""
    assert request.tenant is not None
    return request.tenant

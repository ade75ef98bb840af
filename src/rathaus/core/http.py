"""The request as Rathaus' views see it: the TenantMiddleware sets the active tenant, the
person's tenants, memberships and roles; django-htmx sets `htmx`. Views annotate their
request as `TenantRequest` instead of silencing the type checker at every use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

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


def next_url(request: HttpRequest, default: str, *, or_query: bool = False) -> str:
    """Where to go after a form: the posted `next` when it is a page of this site (a path:
    never another host, another scheme or a control character; and never a bare word, which
    `redirect` would look up as a URL name), otherwise `default`. With `or_query` the query
    string's `next` counts when none was posted (a page the login sent the person to)."""
    wanted = request.POST.get("next", "") or (request.GET.get("next", "") if or_query else "")
    if (
        wanted.startswith("/")
        and wanted.isprintable()
        and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return wanted
    return default


def id_param(value: object) -> int | None:
    """A row id from a query string or form (`?unit=12`): ASCII digits that fit a database
    integer, else None. Not `str.isdigit`, which takes `²` and other digits `int()` refuses."""
    text = str(value or "")
    if text.isascii() and text.isdecimal() and len(text) <= 18:
        return int(text)
    return None

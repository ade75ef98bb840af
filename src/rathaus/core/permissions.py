"""Role checks for views. A missing role is a 403 with a translated page, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from rathaus.core.http import TenantRequest
from rathaus.core.models import Role

_P = ParamSpec("_P")
_R = TypeVar("_R", bound=HttpResponseBase)


def has_role(request: HttpRequest, *roles: str) -> bool:
    return bool(getattr(request, "roles", set()) & set(roles))


def tenant_required(
    view: Callable[Concatenate[TenantRequest, _P], _R],
) -> Callable[Concatenate[TenantRequest, _P], _R]:
    """Signed in and member of a tenant (which the middleware has entered)."""

    @login_required
    @wraps(view)
    def wrapper(request: TenantRequest, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if getattr(request, "tenant", None) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def role_required(
    *roles: str,
) -> Callable[
    [Callable[Concatenate[TenantRequest, _P], _R]],
    Callable[Concatenate[TenantRequest, _P], _R],
]:
    def decorator(
        view: Callable[Concatenate[TenantRequest, _P], _R],
    ) -> Callable[Concatenate[TenantRequest, _P], _R]:
        @tenant_required
        @wraps(view)
        def wrapper(request: TenantRequest, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            if not has_role(request, *roles, Role.TENANT_ADMIN):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

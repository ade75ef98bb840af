"""Role checks for views. A missing role is a 403 with a translated page, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from rathaus.core.models import Role


def has_role(request: HttpRequest, *roles: str) -> bool:
    return bool(getattr(request, "roles", set()) & set(roles))


def tenant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in and member of a tenant (which the middleware has entered)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "tenant", None) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def role_required(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @tenant_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request, *roles, Role.TENANT_ADMIN):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

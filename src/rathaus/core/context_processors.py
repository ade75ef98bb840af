from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def tenancy(request: HttpRequest) -> dict[str, Any]:
    return {
        "tenant": getattr(request, "tenant", None),
        "tenants": getattr(request, "tenants", []),
        "roles": getattr(request, "roles", set()),
    }

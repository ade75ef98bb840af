"""Who is asking: the client's IP address for rate limits."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind our reverse proxy (`RATHAUS_BEHIND_PROXY`) the address the proxy
    added last to X-Forwarded-For. Entries before it are whatever the client claimed and are
    ignored, so a bot cannot dodge a limit by sending its own header."""
    if settings.RATHAUS_BEHIND_PROXY:
        last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))


def login_username(
    request: HttpRequest, credentials: dict[str, object] | None = None
) -> str | None:
    """The name a login attempt gave, as django-axes records it: cut to its column's 255
    characters (no account has a longer name; uncut, the failed attempt itself would fail)."""
    given = (credentials or {}).get("username") or request.POST.get("username")
    return str(given)[:255] if given else None

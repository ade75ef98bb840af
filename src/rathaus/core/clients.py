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

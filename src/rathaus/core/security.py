"""What every staff session and every page answer must respect, whatever the view does: a
session ends when idle and after a working day's lifetime, and nothing a page shows is kept
in a shared or browser cache (BSI IT-Grundschutz APP.3.1, OWASP ASVS V3 and V8)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

SESSION_STARTED = "rathaus_session_started"
SESSION_SEEN = "rathaus_session_seen"


def session_timed_from_login(request: HttpRequest, **_signal: object) -> None:
    """At sign-in (signal `user_logged_in`): the session's lifetime and idle time start."""
    request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = time.time()


class SessionLimitsMiddleware:
    """Signs a person out after `RATHAUS_SESSION_IDLE_MINUTES` without a request, and after
    `RATHAUS_SESSION_MAX_HOURS` in all however busy they were; the next page asks them to
    sign in again and says why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(SESSION_STARTED, now)  # signed in before the limits
            seen = session.setdefault(SESSION_SEEN, now)
            idle_seconds = settings.RATHAUS_SESSION_IDLE_MINUTES * 60
            idle = now - seen > idle_seconds
            too_long = now - started > settings.RATHAUS_SESSION_MAX_HOURS * 3600
            if idle or too_long:
                logout(request)  # a new, empty session: the view sees an anonymous person
                messages.info(request, _signed_out_because(idle))
            elif now - seen >= idle_seconds / 30:
                # Not on every request: a minute late in thirty is soon enough, and a page
                # costs no session write most of the time.
                session[SESSION_SEEN] = now
        return self.get_response(request)


def _signed_out_because(idle: bool) -> str:
    if idle:
        return _("You were signed out after %(minutes)d minutes without activity.") % {
            "minutes": settings.RATHAUS_SESSION_IDLE_MINUTES
        }
    return _("You were signed out after %(hours)d hours; please sign in again.") % {
        "hours": settings.RATHAUS_SESSION_MAX_HOURS
    }


class PrivateResponseMiddleware:
    """No page or export is stored by a proxy or the browser (they carry citizens' data or
    staff's work), unless a view chose its caching itself; every answer says which browser
    features the pages may use (`RATHAUS_PERMISSIONS_POLICY`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response.headers:
            add_never_cache_headers(response)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NulCharacter(SuspiciousOperation):
    """A NUL byte in a page's path, query or form: no text field may hold one (PostgreSQL
    refuses it outright), so the request is refused whole with a 400 page."""


class RefuseNulMiddleware:
    """Refuses a NUL byte anywhere in a page request before a view can pass it to the
    database. The REST API answers its own JSON errors and is left to its parsers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and _carries_nul(request):
            raise NulCharacter("NUL byte in the request")
        return self.get_response(request)


def _carries_nul(request: HttpRequest) -> bool:
    texts = [request.path]
    for data in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
        for key, values in data.lists():
            texts += [key, *values]
    return any("\x00" in text for text in texts)

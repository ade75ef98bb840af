"""The second factor before any staff page: a signed-in person whose session is not yet
confirmed by a second factor is sent to enter their code (when they have an authenticator
app) or to set one up (when a role or their municipality requires it). Only the pages of
that step, signing out and the language switch stay open; the API has its own tokens."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from rathaus.staffauth import selectors

# How the session was confirmed: "totp", "recovery" or "sso" (the municipality's provider
# is responsible for its own second factor). Set at the step, removed with the session.
SECOND_FACTOR_SESSION_KEY = "rathaus_second_factor"

OPEN_URL_NAMES = {
    "logout",
    "set_language",
    "javascript-catalog",
    "staffauth:verify",
    "staffauth:enrol",
    "staffauth:sso_start",
    "staffauth:sso_callback",
    "core:healthz",
    "core:metrics",
}


def session_confirmed(request: HttpRequest) -> bool:
    return bool(request.session.get(SECOND_FACTOR_SESSION_KEY))


def _open(path: str) -> bool:
    if path.startswith("/api/"):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in OPEN_URL_NAMES


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and user.is_authenticated
            and not session_confirmed(request)
            and not _open(request.path_info)
        ):
            if selectors.totp_device_of(user) is not None:
                step = "staffauth:verify"
            elif selectors.second_factor_required(user):
                step = "staffauth:enrol"
            else:
                return self.get_response(request)
            wanted = request.get_full_path() if request.method == "GET" else "/"
            return redirect(f"{reverse(step)}?{urlencode({'next': wanted})}")
        return self.get_response(request)

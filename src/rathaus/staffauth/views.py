"""The login page and the second-factor step: entering a code, setting up the authenticator
app, recovery codes."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.core.http import acting_staff, next_url
from rathaus.staffauth import selectors, services
from rathaus.staffauth.forms import CodeForm, StaffLoginForm, add_error
from rathaus.staffauth.middleware import SECOND_FACTOR_SESSION_KEY, session_confirmed


class LoginView(auth_views.LoginView):
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"providers": selectors.providers_for_login()}


def _next(request: HttpRequest) -> str:
    """Where the person wanted to go (a path of this site), else the start page."""
    return next_url(request, default="/", or_query=True)


def _confirm_session(request: HttpRequest, how: str) -> None:
    request.session.cycle_key()  # a new session id for the stronger sign-in
    request.session[SECOND_FACTOR_SESSION_KEY] = how


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    user = acting_staff(request)
    if session_confirmed(request):
        return redirect(_next(request))
    if selectors.totp_device_of(user) is None:
        return redirect("staffauth:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            how = services.second_factor_check(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_error(form, error)
        else:
            _confirm_session(request, how)
            if how == "recovery":
                left = selectors.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(left)d are left. "
                        "Generate new ones under “Two-factor login”."
                    )
                    % {"left": left},
                )
            return redirect(_next(request))
    return render(request, "staffauth/verify.html", {"form": form, "next": _next(request)})


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code, confirm with a code it shows."""
    user = acting_staff(request)
    if selectors.totp_device_of(user) is not None and not session_confirmed(request):
        return redirect("staffauth:verify")  # replacing an app needs the current one first
    device = services.totp_device_pending(user=user)
    form = CodeForm(
        request.POST or None,
        label=_("Code from the app"),
        help_text=_("The 6-digit code the app shows after you added Rathaus."),
    )
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrol(user=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_error(form, error)
        else:
            _confirm_session(request, "totp")
            return render(
                request, "staffauth/recovery_codes.html", {"codes": codes, "next": _next(request)}
            )
    url = device.config_url
    secret = url.split("secret=", 1)[1].split("&", 1)[0]
    return render(
        request,
        "staffauth/enrol.html",
        {
            "form": form,
            "qr": segno.make(url, error="m").svg_data_uri(scale=5, border=2),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _next(request),
            "required": selectors.second_factor_required(user),
        },
    )


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The person's two-factor login: set up or not, recovery codes left."""
    user = acting_staff(request)
    return render(
        request,
        "staffauth/overview.html",
        {
            "device": selectors.totp_device_of(user),
            "codes_left": selectors.recovery_codes_left(user),
            "required": selectors.second_factor_required(user),
        },
    )


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = acting_staff(request)
    if selectors.totp_device_of(user) is None:
        messages.error(request, _("Set up an authenticator app first."))
        return redirect("staffauth:overview")
    codes = services.recovery_codes_generate(user=user)
    return render(request, "staffauth/recovery_codes.html", {"codes": codes, "next": "/"})

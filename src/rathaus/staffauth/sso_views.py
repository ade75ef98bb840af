"""Single sign-on through the municipality's OpenID Connect provider (Authlib's client,
built per request from the tenant's settings: issuer discovery, PKCE, state and nonce, the
ID token's signature, issuer and audience checked). The callback URL carries the tenant's
short name: `/login/sso/<slug>/callback/` is what the provider registers."""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from joserfc.errors import JoseError

from rathaus.core.middleware import SESSION_TENANT_KEY
from rathaus.core.tenancy import tenant_context
from rathaus.core.wall import all_tenants
from rathaus.staffauth import services
from rathaus.staffauth.middleware import SECOND_FACTOR_SESSION_KEY
from rathaus.staffauth.models import OidcProvider

log = logging.getLogger(__name__)
SCOPES = "openid profile email groups"
TIMEOUT_SECONDS = 10


def _provider(slug: str) -> OidcProvider | None:
    with scopes_disabled(), all_tenants():
        return (
            OidcProvider.objects.filter(tenant__slug=slug, enabled=True)
            .select_related("tenant")
            .first()
        )


def _client(provider: OidcProvider) -> DjangoOAuth2App:
    name = f"tenant-{provider.tenant_id}"
    return DjangoOAuth2App(
        DjangoIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )


def _failed(request: HttpRequest, provider: OidcProvider | None, why: object) -> HttpResponse:
    log.warning("single sign-on failed: %s", why)
    messages.error(
        request,
        _("Signing in with %(name)s did not work. Please try again.")
        % {"name": provider.name if provider else _("single sign-on")},
    )
    return redirect("login")


def sso_start(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    provider = _provider(tenant_slug)
    if provider is None:
        return _failed(request, None, f"no provider for {tenant_slug!r}")
    callback = request.build_absolute_uri(reverse("staffauth:sso_callback", args=[tenant_slug]))
    try:
        return _client(provider).authorize_redirect(request, callback)  # type: ignore[no-any-return]
    except (OAuthError, requests.RequestException, ValueError, KeyError) as error:
        return _failed(request, provider, error)


def sso_callback(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    provider = _provider(tenant_slug)
    if provider is None:
        return _failed(request, None, f"no provider for {tenant_slug!r}")
    client = _client(provider)
    try:
        token: dict[str, Any] = client.authorize_access_token(request)
        if client.load_server_metadata().get("issuer", "").rstrip("/") != provider.issuer:
            raise OAuthError(description="the provider names another issuer")
        claims = dict(token.get("userinfo") or {})
        if "groups" not in claims:  # a provider that keeps groups out of the ID token
            claims |= dict(client.userinfo(token=token))
    except (OAuthError, JoseError, requests.RequestException, ValueError, KeyError) as error:
        return _failed(request, provider, error)
    with tenant_context(provider.tenant):
        try:
            user = services.sso_sign_in(provider=provider, claims=claims)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # The provider is responsible for how strongly it signs people in (docs/decisions.md).
    request.session[SECOND_FACTOR_SESSION_KEY] = "sso"
    request.session[SESSION_TENANT_KEY] = provider.tenant_id
    return redirect("core:home")

"""API test helpers: tokens for the two municipalities and a small JSON client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope

from rathaus.api.models import ApiScope
from rathaus.api.services import api_token_create

ALL_SCOPES = list(ApiScope.values)


@pytest.fixture(autouse=True)
def local_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class Api:
    """A Django test client that sends a bearer token and JSON, in English unless told."""

    def __init__(self, token: str | None, language: str = "en") -> None:
        self.client = Client()
        self.headers: dict[str, str] = {"HTTP_ACCEPT_LANGUAGE": language}
        if token is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(self, url: str, params: dict[str, Any] | None = None, **extra: Any):
        return self.client.get(url, params or {}, **self.headers, **extra)

    def post(self, url: str, data: Any = None, *, raw: str | None = None, **extra: Any):
        body = raw if raw is not None else json.dumps(data)
        return self.client.post(url, body, content_type="application/json", **self.headers, **extra)


def make_token(world, scopes=None, unit: str = "kc"):
    with scope(tenant=world.tenant):
        return api_token_create(
            tenant=world.tenant,
            name="Integration",
            scopes=ALL_SCOPES if scopes is None else scopes,
            org_unit=world.units[unit],
            actor=world.users["tenant_admin"],
        )


@pytest.fixture
def api_a(world_a) -> Api:
    _token, plain = make_token(world_a)
    return Api(plain)


@pytest.fixture
def api_b(world_b) -> Api:
    _token, plain = make_token(world_b)
    return Api(plain)

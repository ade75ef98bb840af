"""API tokens: bearer authentication, revocation, scopes per action, the management command."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from rathaus.api import services
from rathaus.api.models import ApiToken
from rathaus.api.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    token_hash,
)
from rathaus.core.models import Event, Tenant

from .conftest import Api, make_token

CASES = "/api/v1/cases/"


def test_token_is_stored_as_prefix_and_hash_and_its_creation_is_an_event(world_a):
    token, plain = make_token(world_a, ["cases:read"])
    assert len(plain) == 43 and token.prefix == plain[:8]
    assert token.secret_hash == token_hash(plain) and plain not in token.secret_hash
    with scope(tenant=world_a.tenant):
        event = Event.objects.get(activity="api_token_created")
    assert event.payload == {"prefix": token.prefix, "scopes": ["cases:read"]}
    assert event.org_unit == world_a.units["kc"] and event.actor == world_a.users["tenant_admin"]


def test_missing_malformed_wrong_and_revoked_tokens_get_401(world_a):
    token, plain = make_token(world_a)
    assert Api(plain).get(CASES).status_code == 200
    missing = Api(None).get(CASES)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert Api("x" * 43).get(CASES).status_code == 401
    assert Api(plain[:-1] + ("A" if plain[-1] != "A" else "B")).get(CASES).status_code == 401
    assert Api("not a token at all").get(CASES).status_code == 401
    assert Api(None).get(CASES, HTTP_AUTHORIZATION="Bearer").status_code == 401
    assert Api(None).get(CASES, HTTP_AUTHORIZATION="Bearer \x00\x01").status_code == 401
    with scope(tenant=world_a.tenant):
        api_token_revoke(token=token, actor=None)
        assert Event.objects.filter(activity="api_token_revoked").count() == 1
        with pytest.raises(ValidationError):
            api_token_revoke(token=token, actor=None)
    response = Api(plain).get(CASES)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}


def test_a_token_is_read_every_time_and_its_tenant_kept_for_a_while(world_a, monkeypatch):
    """The per-process token cache: revocation counts from the next request; a tenant changed
    elsewhere is seen within TOKEN_CACHE_SECONDS, one changed in this process at once."""
    token, plain = make_token(world_a)
    first = api_token_authenticate(plain)
    assert first is not None and first.tenant == world_a.tenant
    assert api_token_authenticate(plain) is first
    Tenant.objects.filter(pk=world_a.tenant.pk).update(name="Neustadt")  # no signal: elsewhere
    assert api_token_authenticate(plain).tenant.name == world_a.tenant.name
    monkeypatch.setattr(services, "TOKEN_CACHE_SECONDS", 0)
    assert api_token_authenticate(plain).tenant.name == "Neustadt"
    monkeypatch.setattr(services, "TOKEN_CACHE_SECONDS", 60)
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    tenant.name = "Neuburg"
    tenant.save()  # in this process
    assert api_token_authenticate(plain).tenant.name == "Neuburg"
    with scopes_disabled():
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)  # elsewhere
    assert api_token_authenticate(plain) is None
    assert Api(plain).get(CASES).status_code == 401


def test_error_messages_are_german_by_default(world_a):
    assert Api(None, language="de").get(CASES).json() == {"detail": "Anmeldedaten fehlen."}


def test_a_missing_scope_is_403_per_action(world_a):
    _token, plain = make_token(world_a, ["cases:read"])
    api = Api(plain)
    assert api.get(CASES).status_code == 200
    denied = api.post(CASES, {"channel": "web", "service": world_a.service.pk})
    assert denied.status_code == 403
    assert "cases:write" in denied.json()["detail"]
    for url in ("/api/v1/services/", "/api/v1/search/?q=x", "/api/v1/contacts/"):
        assert api.get(url).status_code == 403, url
    assert api.post("/api/v1/calls/", {}).status_code == 403
    # Any valid token may read the unit list (the ids for hand-overs).
    assert api.get("/api/v1/units/").status_code == 200
    with scopes_disabled():
        assert ApiToken.objects.get(prefix=plain[:8]).last_used_at is not None


def test_unknown_scope_and_other_tenants_unit_are_rejected(world_a, world_b):
    with scope(tenant=world_a.tenant):
        with pytest.raises(ValidationError) as unknown:
            api_token_create(
                tenant=world_a.tenant,
                name="x",
                scopes=["cases:delete"],
                org_unit=world_a.units["kc"],
                actor=None,
            )
        assert "scopes" in unknown.value.message_dict
        with pytest.raises(ValidationError) as foreign:
            api_token_create(
                tenant=world_a.tenant,
                name="x",
                scopes=["cases:read"],
                org_unit=world_b.units["kc"],
                actor=None,
            )
        assert "org_unit" in foreign.value.message_dict


def test_the_command_prints_the_token_once_lists_and_revokes(world_a):
    out = io.StringIO()
    call_command(
        "api_token",
        "--tenant=alpha",
        "--name=Telefonanlage",
        "--unit=kc",
        "--scope=calls:write",
        "--scope=cases:read",
        stdout=out,
    )
    plain = out.getvalue().splitlines()[1]
    assert Api(plain).get(CASES).status_code == 200
    listing = io.StringIO()
    call_command("api_token", "--tenant=alpha", "--list", stdout=listing)
    assert plain[:8] in listing.getvalue() and plain not in listing.getvalue()
    assert "calls:write,cases:read" in listing.getvalue()
    call_command("api_token", "--tenant=alpha", f"--revoke={plain[:8]}", stdout=io.StringIO())
    assert Api(plain).get(CASES).status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token", "--tenant=alpha", "--name=x", "--unit=nope", "--scope=cases:read")
    with pytest.raises(CommandError):
        call_command("api_token", "--tenant=nowhere", "--list")

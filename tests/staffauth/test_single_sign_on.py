"""Single sign-on through a real OpenID Connect provider (npm oidc-provider on loopback):
users are created and updated at login, the provider's groups map to roles and org units,
password login can be switched off, and a person of one municipality gets nothing of another."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django_scopes import scope, scopes_disabled

from rathaus.core.models import Event, Membership, Role
from rathaus.staffauth import services
from rathaus.staffauth.middleware import SECOND_FACTOR_SESSION_KEY
from rathaus.staffauth.models import OidcProvider
from tests.oidc import CLIENT_ID, CLIENT_SECRET, run_provider, sign_in_at_provider

pytestmark = pytest.mark.real_second_factor
ANNA = {
    "given_name": "Anna",
    "family_name": "Amt",
    "email": "anna@alpha.example",
    "groups": ["rathaus-admins"],
}


@pytest.fixture(scope="module")
def oidc():
    yield from run_provider(
        [f"http://testserver/login/sso/{slug}/callback/" for slug in ("alpha", "beta")]
    )


def configure(world, oidc, mappings, name="Stadtkonto"):
    with scope(tenant=world.tenant):
        return services.oidc_provider_set(
            tenant=world.tenant,
            actor=None,
            name=name,
            issuer=oidc.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            enabled=True,
            mappings=[(group, role, world.units[unit]) for group, role, unit in mappings],
        )


def sso_login(client: Client, slug: str, login: str):
    start = client.get(f"/login/sso/{slug}/")
    assert start.status_code == 302, start
    back = sign_in_at_provider(start["Location"], login, stop_at="http://testserver/")
    return client.get(back.removeprefix("http://testserver"))


def roles(user, tenant) -> set[tuple[str, str]]:
    with scopes_disabled():
        return {
            (m.role, m.org_unit.code)
            for m in Membership.objects.filter(user=user, tenant=tenant).select_related("org_unit")
        }


def test_login_through_the_provider_creates_the_user_with_the_mapped_role(world_a, oidc):
    oidc.accounts({"anna": ANNA})
    configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    client = Client()
    page = client.get("/login/")
    assert "Anmelden mit Stadtkonto" in page.text
    landed = sso_login(client, "alpha", "anna")
    assert landed["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200  # no TOTP step: the provider signed her in
    assert client.session[SECOND_FACTOR_SESSION_KEY] == "sso"
    user = home.context["user"]
    assert (user.username, user.first_name, user.email) == (
        "alpha.anna",
        "Anna",
        "anna@alpha.example",
    )
    assert not user.has_usable_password()
    assert roles(user, world_a.tenant) == {(Role.TENANT_ADMIN, "verwaltung")}
    assert client.get("/access-log/").status_code == 200
    with scope(tenant=world_a.tenant):
        logged = set(Event.objects.filter(actor=user).values_list("activity", flat=True))
    assert logged == {"sso_user_created", "membership_granted", "sso_roles_updated"}


def test_the_mapping_updates_roles_at_the_next_login(world_a, oidc):
    oidc.accounts({"anna": ANNA})
    configure(
        world_a,
        oidc,
        [
            ("rathaus-admins", Role.TENANT_ADMIN, "root"),
            ("buergerbuero", Role.OFFICE_STAFF, "team"),
            ("buergerbuero", Role.CLERK, "team"),
        ],
    )
    first = Client()
    sso_login(first, "alpha", "anna")
    user = first.get("/").context["user"]
    oidc.accounts({"anna": {**ANNA, "groups": ["buergerbuero", "unknown-group"]}})
    second = Client()
    sso_login(second, "alpha", "anna")
    assert second.get("/").context["user"] == user  # the same person, found by subject
    assert roles(user, world_a.tenant) == {
        (Role.OFFICE_STAFF, "bb-mitte"),
        (Role.CLERK, "bb-mitte"),
    }
    assert second.get("/access-log/").status_code == 403
    with scope(tenant=world_a.tenant):
        assert Event.objects.filter(activity="membership_revoked").count() == 1
        updated = Event.objects.filter(activity="sso_roles_updated").last()
    assert updated.payload == {"roles": ["clerk", "office_staff"]}


def test_an_account_without_a_mapped_group_is_refused(world_a, oidc):
    oidc.accounts({"anna": {**ANNA, "groups": ["kantine"]}})
    configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    client = Client()
    refused = sso_login(client, "alpha", "anna")
    assert refused["Location"] == "/login/"
    page = client.get("/login/")
    assert "Ihr Konto bei Stadtkonto hat keine Rolle bei Stadt Alpha" in page.text
    assert "_auth_user_id" not in client.session


def test_password_login_can_be_switched_off_per_municipality(world_a, world_b, oidc):
    with scope(tenant=world_a.tenant), pytest.raises(ValidationError, match="Single Sign-on"):
        services.login_policy_set(
            tenant=world_a.tenant, actor=None, second_factor_for_all=False, password_login=False
        )
    configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    with scope(tenant=world_a.tenant):
        services.login_policy_set(
            tenant=world_a.tenant, actor=None, second_factor_for_all=False, password_login=False
        )
    client = Client()
    refused = client.post("/login/", {"username": "alpha-clerk", "password": "x-unused-password"})
    assert refused.status_code == 200
    assert "Stadt Alpha meldet seine Beschäftigten nur über die eigene Anmeldung an" in refused.text
    assert "_auth_user_id" not in client.session
    other = Client()
    other.post("/login/", {"username": "beta-clerk", "password": "x-unused-password"})
    assert other.get("/").status_code == 200  # the other municipality still allows passwords


def test_a_person_mapped_into_one_municipality_gets_nothing_of_another(world_a, world_b, oidc):
    oidc.accounts({"anna": ANNA})
    configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    configure(world_b, oidc, [("rathaus-admins", Role.CLERK, "team")], name="Beta-Konto")
    client = Client()
    sso_login(client, "alpha", "anna")
    user = client.get("/").context["user"]
    assert roles(user, world_b.tenant) == set()
    switched = client.post("/tenant/", {"tenant": world_b.tenant.pk}, follow=True)
    assert "Sie sind nicht Mitglied dieser Kommune." in switched.text
    log = client.get("/access-log/")
    assert log.status_code == 200 and "Stadt Beta" not in log.text
    # The same account at the other municipality's provider is another local person.
    elsewhere = Client()
    sso_login(elsewhere, "beta", "anna")
    other = elsewhere.get("/").context["user"]
    assert other != user and other.username == "beta.anna"
    assert roles(other, world_a.tenant) == set()
    assert roles(user, world_b.tenant) == set()


def test_the_client_secret_is_stored_encrypted(world_a, oidc):
    provider = configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret FROM staffauth_oidcprovider WHERE id = %s", [provider.pk]
        )
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:") and CLIENT_SECRET not in stored
    with scopes_disabled():
        assert OidcProvider.objects.get().client_secret == CLIENT_SECRET


@pytest.mark.parametrize(
    "path",
    [
        "/login/sso/alpha/callback/?code=x&state=forged",
        "/login/sso/alpha/callback/?error=access_denied",
        "/login/sso/alpha/callback/",
        "/login/sso/nowhere/",
        "/login/sso/nowhere/callback/?code=x&state=y",
    ],
)
def test_a_broken_or_forged_return_is_refused_with_a_message(world_a, oidc, path):
    configure(world_a, oidc, [("rathaus-admins", Role.TENANT_ADMIN, "root")])
    client = Client()
    answer = client.get(path)
    assert answer["Location"] == "/login/"
    assert "hat nicht geklappt" in client.get("/login/").text
    assert "_auth_user_id" not in client.session

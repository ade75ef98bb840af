"""The tenant admin's sign-in settings page: saved through the services, every input checked
with a message, and one municipality's admin sees and changes only its own settings."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from rathaus.core.models import Event, Role
from rathaus.staffauth.models import GroupMapping, LoginPolicy, OidcProvider

GOOD = {
    "second_factor_for_all": "on",
    "sso_enabled": "on",
    "name": "Alpha-Konto",
    "issuer": "https://login.alpha.example/realms/rathaus/",
    "client_id": "rathaus",
    "client_secret": "s3cret",
    "mappings": "rathaus-admins = tenant_admin @ verwaltung\nbuergerbuero = clerk @ bb-mitte\n",
}


def test_a_tenant_admin_sets_up_the_provider_and_the_rules(world_a):
    admin = world_a.client(Role.TENANT_ADMIN)
    page = admin.get("/login-settings/")
    assert page.status_code == 200
    assert "http://testserver/login/sso/alpha/callback/" in page.text
    saved = admin.post("/login-settings/", GOOD)
    assert saved["Location"] == "/login-settings/"
    with scope(tenant=world_a.tenant):
        provider = OidcProvider.objects.get()
        assert (provider.issuer, provider.client_secret) == (
            "https://login.alpha.example/realms/rathaus",
            "s3cret",
        )
        assert sorted(GroupMapping.objects.values_list("group", "role")) == [
            ("buergerbuero", "clerk"),
            ("rathaus-admins", "tenant_admin"),
        ]
        policy = LoginPolicy.objects.get()
        assert policy.second_factor_for_all and not policy.password_login
        assert Event.objects.filter(activity="login_policy_changed").count() == 2
    again = admin.post("/login-settings/", {**GOOD, "client_secret": "", "password_login": "on"})
    assert again.status_code == 302
    with scope(tenant=world_a.tenant):
        assert OidcProvider.objects.get().client_secret == "s3cret"  # kept
    shown = admin.get("/login-settings/")
    assert "s3cret" not in shown.text
    assert "rathaus-admins = tenant_admin @ verwaltung" in shown.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "http://login.alpha.example"}, "Der Aussteller muss eine https-Adresse sein."),
        ({"mappings": "admins tenant_admin"}, "Zeile 1: Schreiben Sie Gruppe = Rolle @ Code"),
        ({"mappings": "a = mayor @ verwaltung"}, "Zeile 1: Es gibt keine Rolle „mayor“."),
        ({"mappings": "a = clerk @ nowhere"}, "Zeile 1: Es gibt keine Organisationseinheit"),
        ({"mappings": "a = clerk @ kc\n" * 201}, "Höchstens 200 Zeilen."),
        ({"name": ""}, "Für Single Sign-on nötig."),
        ({"client_secret": ""}, "Für Single Sign-on nötig."),
        ({"sso_enabled": ""}, "Behalten Sie die Anmeldung mit Passwort"),
    ],
)
def test_bad_settings_are_refused_with_a_message(world_a, changes, message):
    admin = world_a.client(Role.TENANT_ADMIN)
    answer = admin.post("/login-settings/", {**GOOD, **changes})
    assert answer.status_code == 200
    assert message in answer.text
    with scopes_disabled():
        assert not OidcProvider.objects.exists() and not LoginPolicy.objects.exists()


def test_only_tenant_admins_and_only_their_own_municipality(world_a, world_b):
    world_a.client(Role.TENANT_ADMIN).post("/login-settings/", GOOD)
    assert world_a.client(Role.TEAM_LEAD).get("/login-settings/").status_code == 403
    other = world_b.client(Role.TENANT_ADMIN)
    page = other.get("/login-settings/")
    assert "Alpha-Konto" not in page.text and "login.alpha.example" not in page.text
    other.post("/login-settings/", {**GOOD, "name": "Beta-Konto", "mappings": ""})
    with scopes_disabled():
        assert OidcProvider.objects.get(tenant=world_a.tenant).name == "Alpha-Konto"
        assert OidcProvider.objects.get(tenant=world_b.tenant).mappings.count() == 0
        assert GroupMapping.objects.filter(tenant=world_a.tenant).count() == 2

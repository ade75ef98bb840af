"""A tenant admin signs in through the municipality's OpenID Connect provider (a real
oidc-provider on loopback) in Chromium and lands on the staff start page with the role the
provider's group maps to."""

from __future__ import annotations

import pytest
from django_scopes import scope

from rathaus.core.models import Role
from rathaus.staffauth import services
from tests.browser.conftest import axe_violations, shot
from tests.oidc import CLIENT_ID, CLIENT_SECRET, run_provider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.real_second_factor,
]


@pytest.fixture
def oidc(live_server):
    yield from run_provider([f"{live_server.url}/login/sso/alpha/callback/"])


def test_sign_in_with_the_municipality_account(page, live_server, world_a, oidc):
    oidc.accounts(
        {
            "anna": {
                "given_name": "Anna",
                "family_name": "Amt",
                "email": "anna@alpha.example",
                "groups": ["rathaus-admins"],
            }
        }
    )
    with scope(tenant=world_a.tenant):
        services.oidc_provider_set(
            tenant=world_a.tenant,
            actor=None,
            name="Alpha-Konto",
            issuer=oidc.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            enabled=True,
            mappings=[("rathaus-admins", Role.TENANT_ADMIN, world_a.units["root"])],
        )
    page.goto(f"{live_server.url}/login/")
    assert axe_violations(page) == []
    shot(page, "login-single-sign-on")
    page.get_by_role("link", name="Anmelden mit Alpha-Konto").click()

    page.wait_for_url(f"{oidc.issuer}/interaction/**")  # the provider's own login page
    page.locator("input[name=login]").fill("anna")
    page.locator("input[name=password]").fill("whatever")
    page.locator("button[type=submit]").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Willkommen, Anna Amt").is_visible()
    # The mapped role: a tenant admin's page is open, no second-factor step in between.
    page.get_by_role("link", name="Zugriffsprotokoll").click()
    page.get_by_role("heading", name="Zugriffsprotokoll").wait_for()
    shot(page, "single-sign-on-landed")

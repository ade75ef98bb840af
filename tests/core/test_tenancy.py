import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from rathaus.catalog.models import Service
from rathaus.core import services as core_services
from rathaus.core.middleware import TenantMiddleware
from rathaus.core.models import OrgUnit, Role
from rathaus.core.selectors import memberships_of_user, units_visible_to


def test_unscoped_query_raises_instead_of_leaking(world_a, world_b):
    with pytest.raises(ScopeError):
        list(Service.objects.all())


def test_scope_shows_only_own_rows(world_a, world_b):
    with scope(tenant=world_a.tenant):
        assert list(Service.objects.all()) == [world_a.service]
        assert all(u.tenant == world_a.tenant for u in OrgUnit.objects.all())


def test_anonymous_and_tenantless_users_see_nothing(world_a, db):
    client = Client()
    assert client.get(reverse("core:home")).status_code == 302
    lonely = core_services.user_create(username="lonely", password="x-unused-password")
    client.force_login(lonely)
    response = client.get(reverse("core:home"))
    assert response.status_code == 403
    assert client.get(reverse("catalog:service_list")).status_code == 403


def test_switching_tenant(world_a, world_b):
    admin = world_a.users[Role.TENANT_ADMIN]
    with scope(tenant=world_b.tenant):
        core_services.membership_grant(
            user=admin, org_unit=world_b.units["root"], role=Role.TENANT_ADMIN
        )
    client = world_a.client(Role.TENANT_ADMIN)
    page = client.get(reverse("catalog:service_list")).content.decode()
    assert world_a.service.name in page and world_b.service.name not in page
    assert 'id="tenant-switch"' in page
    client.post(reverse("core:tenant_switch"), {"tenant": world_b.tenant.pk})
    page = client.get(reverse("catalog:service_list")).content.decode()
    assert world_b.service.name in page and world_a.service.name not in page


def test_cannot_switch_into_a_foreign_tenant(world_a, world_b):
    client = world_a.client(Role.KC_AGENT)
    response = client.post(
        reverse("core:tenant_switch"), {"tenant": world_b.tenant.pk}, follow=True
    )
    assert (
        "nicht Mitglied" in response.content.decode() or "not a member" in response.content.decode()
    )
    page = client.get(reverse("catalog:service_list")).content.decode()
    assert world_b.service.name not in page


def test_team_lead_sees_unit_and_sub_units(world_a):
    lead = world_a.users[Role.TEAM_LEAD]
    clerk = world_a.users[Role.CLERK]
    with scope(tenant=world_a.tenant):
        lead_units = set(units_visible_to(memberships_of_user(lead, world_a.tenant)))
        clerk_units = set(units_visible_to(memberships_of_user(clerk, world_a.tenant)))
    assert lead_units == {world_a.units["office"], world_a.units["team"]}
    assert clerk_units == {world_a.units["team"]}


def test_org_unit_parent_must_be_same_tenant(world_a, world_b):
    with scope(tenant=world_a.tenant), pytest.raises(ValueError):
        core_services.org_unit_create(
            tenant=world_a.tenant, name="X", code="x", kind="team", parent=world_b.units["root"]
        )


def test_organisation_page_lists_only_own_units(world_a, world_b):
    with scope(tenant=world_b.tenant):
        core_services.org_unit_create(
            tenant=world_b.tenant, name="Nur-in-Beta-Amt", code="beta-only", kind="team"
        )
    page = world_a.client(Role.TEAM_LEAD).get(reverse("core:organisation")).content.decode()
    assert "Bürgerbüro Mitte" in page and "Nur-in-Beta-Amt" not in page


def test_start_page_depends_on_role(world_a):
    editor_page = world_a.client(Role.KNOWLEDGE_EDITOR).get(reverse("core:home")).content.decode()
    agent_page = world_a.client(Role.KC_AGENT).get(reverse("core:home")).content.decode()
    controller_page = world_a.client(Role.CONTROLLER).get(reverse("core:home")).content.decode()
    assert 'id="tile-review"' in editor_page and 'id="tile-review"' not in agent_page
    assert 'id="tile-activity"' in controller_page and 'id="tile-activity"' not in agent_page
    assert 'id="tile-search"' in agent_page


def test_team_lead_start_page_lists_services_of_sub_units(world_a):
    # The fixture's service belongs to the lead's sub-unit "Bürgerbüro Mitte".
    page = world_a.client(Role.TEAM_LEAD).get(reverse("core:home")).content.decode()
    assert 'id="tile-services"' in page and world_a.service.name in page


def test_a_request_runs_in_the_tenants_scope_and_time_zone(world_a, world_b):
    """Staff pages show and read times in the municipality's zone, like the API and the jobs."""
    world_a.tenant.time_zone = "America/New_York"  # only to see the zone follow the tenant
    world_a.tenant.save()
    world_b.tenant.time_zone = "no/such-zone"
    world_b.tenant.save()
    seen = []

    def page(request):
        seen.append((timezone.get_current_timezone_name(), list(Service.objects.all())))
        return HttpResponse()

    for world in (world_a, world_b):
        request = RequestFactory().get("/")
        request.user, request.session = world.users["clerk"], {}
        TenantMiddleware(page)(request)
    request = RequestFactory().get("/")
    request.user, request.session = AnonymousUser(), {}
    TenantMiddleware(page)(request)
    assert seen == [
        ("America/New_York", [world_a.service]),
        ("Europe/Berlin", [world_b.service]),  # an unknown name falls back to the default
        ("Europe/Berlin", []),
    ]

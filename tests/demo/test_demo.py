import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from rathaus.catalog.models import Article, Service
from rathaus.core.models import Event, Membership, OrgUnit, Role, Tenant
from rathaus.demo.city import DEMO_PASSWORD, LOGINS


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-migrate", "--activity-days", "0", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            "tenants": Tenant.objects.count(),
            "units": OrgUnit.objects.count(),
            "memberships": Membership.objects.count(),
            "services": Service.objects.count(),
            "articles": Article.objects.count(),
            "events": Event.objects.count(),
        }


def test_demo_builds_the_city_prints_logins_and_is_idempotent(db):
    output = run_demo()
    first = counts()
    assert "services" in output and DEMO_PASSWORD in output
    for login in LOGINS:
        assert login.username in output
        assert get_user_model().objects.get(username=login.username).check_password(DEMO_PASSWORD)
    tenant = Tenant.objects.get(slug="musterstadt")
    with scope(tenant=tenant):
        assert OrgUnit.objects.filter(is_kc=True).count() == 1
        assert Service.objects.filter(status="published").count() >= 280
        assert Article.objects.filter(published=True).count() >= 40
        roles = set(Membership.objects.values_list("role", flat=True))
        assert roles == set(Role.values)
        # Musterstadt's own descriptions, not the source's.
        ausweis = Service.objects.get(name="Personalausweis")
        assert (
            ausweis.leika_key == "99008001000000"
            and ausweis.summary
            and "München" not in ausweis.summary
        )
    run_demo()
    assert counts() == first  # a second run changes nothing, not even the event log


def test_demo_admin_can_switch_to_the_second_tenant(db, client):
    run_demo()
    with scopes_disabled():
        tenants = set(
            Membership.objects.filter(user__username="admin").values_list("tenant__slug", flat=True)
        )
    assert tenants == {"musterstadt", "beispieldorf"}

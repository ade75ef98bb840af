import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from rathaus.appointments.models import Booking, Ticket
from rathaus.catalog.models import Service
from rathaus.contacts.models import Contact
from rathaus.core.models import Membership, Tenant
from rathaus.demo.city import DEMO_PASSWORD, LOGINS


def test_towns_have_the_catalogue_prefixed_logins_and_a_tenth_of_the_activity(db):
    out = io.StringIO()
    call_command("demo", "--no-migrate", "--activity-days", "14", "--towns", "1", stdout=out)
    assert "stadt01.kc.agent" in out.getvalue()
    city, town = Tenant.objects.get(slug="musterstadt"), Tenant.objects.get(slug="stadt01")
    volume = {}
    for tenant in (city, town):
        with scope(tenant=tenant):
            volume[tenant.slug] = (Contact.objects.count(), Booking.objects.count())
            visits = Ticket.objects.count() + volume[tenant.slug][1]
            assert Service.objects.filter(status="published").count() >= 280
            assert visits > 0
    contacts, bookings = volume["stadt01"]
    assert 0.05 < contacts / volume["musterstadt"][0] < 0.15
    assert 0.03 < bookings / volume["musterstadt"][1] < 0.25
    users = get_user_model().objects
    for login in LOGINS:
        user = users.get(username=f"stadt01.{login.username}")
        assert user.check_password(DEMO_PASSWORD)
        with scopes_disabled():
            tenants = set(
                Membership.objects.filter(user=user).values_list("tenant__slug", flat=True)
            )
        assert tenants == {"stadt01"}
    # Musterstadt's logins stay Musterstadt's (admin also administers Beispieldorf).
    with scopes_disabled():
        assert not Membership.objects.filter(user__username="kc.agent", tenant=town).exists()

"""What integrations read of citizens' data through the API (contacts, cases, appointments) is
in the municipality's access log, named by the token; a lookup that finds nothing is not."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from rathaus.core.models import PersonalDataAccess

from . import test_appointments_api as booking_api
from .conftest import Api, make_token
from .test_appointments_api import BOOKINGS, book
from .test_cases_api import CASES, new_case
from .test_contacts_api import CONTACTS, contact

LOG = reverse("core:access_log")
# The booking API's fixtures (pytest finds fixtures by module attribute).
api, clock, office = booking_api.api, booking_api.clock, booking_api.office


def logged() -> list[tuple[str, str | None, str, str, str, str]]:
    with scopes_disabled():
        rows = PersonalDataAccess.objects.select_related("tenant").order_by("at", "pk")
        return [
            (r.tenant.slug, r.user_id, r.client, r.action, r.subject_kind, r.subject_id)
            for r in rows
        ]


def test_reads_of_contacts_cases_and_bookings_are_logged_with_the_token(
    world_a, world_b, api, office
):
    token, plain = make_token(world_a)
    reader = Api(plain)
    contact_id = reader.post(CONTACTS, contact()).json()["id"]
    reference = new_case(reader, world_a)["reference"]
    code = book(api, office).json()["code"]
    assert logged() == []  # writing is not reading

    assert reader.get(f"{CONTACTS}{contact_id}/").status_code == 200
    assert reader.get(CONTACTS).status_code == 200
    assert reader.get(f"{CASES}{reference}/").status_code == 200
    assert reader.get(CASES, {"status": "open"}).status_code == 200
    assert reader.get(f"{BOOKINGS}{code}/").status_code == 200
    # Unknown, and the other municipality's token: nothing found, nothing logged.
    assert reader.get(f"{CONTACTS}999999/").status_code == 404
    assert reader.get(f"{BOOKINGS}NOSUCHCD/").status_code == 404
    _token_b, plain_b = make_token(world_b)
    assert Api(plain_b).get(f"{CASES}{reference}/").status_code == 404
    assert Api(plain_b).get(f"{CONTACTS}{contact_id}/").status_code == 404

    with scopes_disabled():
        booking_pk = str(PersonalDataAccess.objects.get(subject_kind="booking").subject_id)
    slug, name = world_a.tenant.slug, str(token)
    assert name.startswith("Integration (")
    assert logged() == [
        (slug, None, name, "viewed", "contact", str(contact_id)),
        (slug, None, name, "searched", "contacts", ""),
        (slug, None, name, "viewed", "case", reference),
        (slug, None, name, "searched", "cases", ""),
        (slug, None, name, "viewed", "booking", booking_pk),
    ]

    admin = world_a.client("tenant_admin")
    table = admin.get(LOG, {"user": "integration"}).content.decode().split('id="access-table"')[1]
    assert table.count(name) == 5
    assert admin.get(LOG, {"user": "someone-else"}).content.decode().count(name) == 0
    rows = admin.get(LOG, {"format": "csv"}).content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Wann;Benutzer oder API-Token") and name in rows[1]
    assert name not in world_b.client("tenant_admin").get(LOG).content.decode()

"""Services, search and units over the API: filters, pagination, tenant isolation."""

from __future__ import annotations

from django_scopes import scope

from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import ServiceStatus

SERVICES = "/api/v1/services/"


def add_services(world, count: int, **fields):
    with scope(tenant=world.tenant):
        return [
            catalog_services.service_create(
                tenant=world.tenant,
                name=f"Leistung {number:03d}",
                status=ServiceStatus.PUBLISHED,
                org_unit=world.units["office"],
                **fields,
            )
            for number in range(count)
        ]


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_services_list_only_published_services_of_the_tokens_tenant(world_a, world_b, api_a):
    with scope(tenant=world_a.tenant):
        draft = catalog_services.service_create(tenant=world_a.tenant, name="Entwurf")
    response = api_a.get(SERVICES)
    assert response.status_code == 200
    assert names(response) == ["Personalausweis alpha"]
    row = response.json()["results"][0]
    assert row["keywords"] == ["Perso", "Ausweis"]
    assert row["org_unit"] == {
        "id": world_a.units["team"].pk,
        "code": "bb-mitte",
        "name": "Bürgerbüro Mitte",
    }
    assert api_a.get(f"{SERVICES}{world_a.service.pk}/").json()["leika_key"] == "99008001000000"
    assert api_a.get(f"{SERVICES}{draft.pk}/").status_code == 404
    assert api_a.get(f"{SERVICES}{world_b.service.pk}/").status_code == 404
    assert api_a.get(f"{SERVICES}{2**70}/").status_code == 404


def test_services_filters(world_a, api_a):
    add_services(world_a, 3)
    add_services(world_a, 1, bookable=True, duration_minutes=15)
    assert len(names(api_a.get(SERVICES, {"unit": world_a.units["office"].pk}))) == 4
    assert names(api_a.get(SERVICES, {"unit": world_a.units["team"].pk})) == [
        "Personalausweis alpha"
    ]
    assert names(api_a.get(SERVICES, {"q": "ausweis"})) == ["Personalausweis alpha"]
    assert len(names(api_a.get(SERVICES, {"bookable": "true"}))) == 1
    assert len(names(api_a.get(SERVICES, {"bookable": "false"}))) == 4
    bad = api_a.get(SERVICES, {"unit": "abc", "bookable": "vielleicht", "q": "x" * 201})
    assert bad.status_code == 400
    assert set(bad.json()) == {"unit", "bookable", "q"}
    assert api_a.get(SERVICES, {"unit": str(2**70)}).status_code == 400


def test_pagination_with_page_size_and_a_maximum(world_a, api_a, django_assert_max_num_queries):
    add_services(world_a, 204)
    first = api_a.get(SERVICES, {"page_size": 10})
    body = first.json()
    assert body["count"] == 205 and len(body["results"]) == 10
    assert "page=2" in body["next"] and body["previous"] is None
    second = api_a.get(SERVICES, {"page_size": 10, "page": 2}).json()
    assert names(first)[-1] < second["results"][0]["name"]
    assert len(api_a.get(SERVICES, {"page_size": 1000}).json()["results"]) == 200
    assert len(api_a.get(SERVICES).json()["results"]) == 50
    assert api_a.get(SERVICES, {"page": 99}).status_code == 404
    assert api_a.get(SERVICES, {"page": "x"}).status_code == 404
    # A fixed number of queries per page, whatever its size (token, count, page).
    with django_assert_max_num_queries(4):
        api_a.get(SERVICES, {"page_size": 200})


def test_search_returns_hits_of_the_tokens_tenant_only(world_a, world_b, api_a, api_b):
    hits = api_a.get("/api/v1/search/", {"q": "Perso"}).json()["results"]
    assert {(h["kind"], h["id"]) for h in hits} == {
        ("service", world_a.service.pk),
        ("article", world_a.article.pk),
    }
    assert all(h["title"].endswith(("alpha", "alpha?")) for h in hits)
    assert all(isinstance(h["score"], float) for h in hits)
    b_hits = api_b.get("/api/v1/search/", {"q": "Perso"}).json()["results"]
    assert {h["id"] for h in b_hits if h["kind"] == "service"} == {world_b.service.pk}
    assert api_a.get("/api/v1/search/", {"q": "Perso", "limit": 1}).json()["results"][0]
    missing = api_a.get("/api/v1/search/")
    assert missing.status_code == 400 and "q" in missing.json()
    assert api_a.get("/api/v1/search/", {"q": "a", "limit": 0}).status_code == 400


def test_units_are_those_of_the_tokens_tenant(world_a, world_b, api_a):
    codes = {row["id"] for row in api_a.get("/api/v1/units/").json()["results"]}
    assert codes == {unit.pk for unit in world_a.units.values()}

"""A user of tenant A gets 404 for tenant B's objects, and lists, exports and search never show them."""

import pytest
from django.urls import reverse

from rathaus.core.models import Role

# The page, what it shows, the method, and what the own tenant's object answers to an empty
# request: the page (200), the edit form again with its errors (200), or back to the detail (302).
DETAIL_PAGES = [
    ("catalog:service_detail", "service", "get", 200),
    ("catalog:service_edit", "service", "get", 200),
    ("catalog:service_edit", "service", "post", 200),
    ("catalog:service_status", "service", "post", 302),
    ("catalog:article_detail", "article", "get", 200),
    ("catalog:article_edit", "article", "get", 200),
    ("catalog:article_edit", "article", "post", 200),
    ("catalog:article_state", "article", "post", 302),
]


@pytest.mark.parametrize(("name", "kind", "method", "own_status"), DETAIL_PAGES)
def test_foreign_objects_are_404(world_a, world_b, name, kind, method, own_status):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    foreign = getattr(world_b, kind)
    url = reverse(name, args=[foreign.pk])
    response = (
        client.post(url, {"status": "retired", "action": "retire"})
        if method == "post"
        else client.get(url)
    )
    assert response.status_code == 404
    own = reverse(name, args=[getattr(world_a, kind).pk])
    assert (client.get(own) if method == "get" else client.post(own, {})).status_code == own_status


LIST_PAGES = [
    "catalog:service_list",
    "catalog:article_list",
    "catalog:article_review",
    "core:home",
    "core:organisation",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_lists_never_show_foreign_rows(world_a, world_b, name):
    page = world_a.client(Role.TENANT_ADMIN).get(reverse(name)).content.decode()
    assert "beta" not in page.lower()


def test_csv_export_is_tenant_scoped(world_a, world_b):
    csv = (
        world_a.client(Role.KC_AGENT)
        .get(reverse("catalog:service_list") + "?format=csv")
        .content.decode()
    )
    assert world_a.service.name in csv and world_b.service.name not in csv


def test_search_is_tenant_scoped(world_a, world_b):
    page = (
        world_a.client(Role.KC_AGENT)
        .get(reverse("catalog:search"), {"q": "Personalausweis"})
        .content.decode()
    )
    assert world_a.service.name in page and world_b.service.name not in page
    assert world_b.article.question not in page


def test_editor_forms_only_offer_own_units_and_services(world_a, world_b):
    page = (
        world_a.client(Role.KNOWLEDGE_EDITOR)
        .get(reverse("catalog:service_create"))
        .content.decode()
    )
    assert "Bürgerbüro Mitte" in page
    assert f'value="{world_b.units["team"].pk}"' not in page
    page = (
        world_a.client(Role.KNOWLEDGE_EDITOR)
        .get(reverse("catalog:article_create"))
        .content.decode()
    )
    assert world_b.service.name not in page


def test_posting_a_foreign_unit_is_rejected(world_a, world_b):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    response = client.post(
        reverse("catalog:service_create"),
        {
            "name": "Fremd",
            "org_unit": world_b.units["team"].pk,
            "handover_days": 5,
            "max_quantity": 1,
        },
    )
    assert response.status_code == 200  # form shown again with an error, nothing created
    assert "org_unit" in response.context["form"].errors

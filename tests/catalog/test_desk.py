from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from rathaus.catalog import services as catalog_services
from rathaus.core.models import Role

URL = reverse("catalog:search")


def test_full_page_and_htmx_partial(world_a):
    client = world_a.client(Role.KC_AGENT)
    page = client.get(URL, {"q": "Perso"}).content.decode()
    assert "<html" in page and 'id="desk-q"' in page and world_a.service.name in page
    partial = client.get(URL, {"q": "Perso"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    # The top service's key facts are shown at once.
    assert f'data-service-id="{world_a.service.pk}">{world_a.service.name}' in partial
    assert "Der Personalausweis weist Sie aus." in partial


def test_picking_an_article_shows_its_answer(world_a):
    client = world_a.client(Role.KC_AGENT)
    partial = client.get(
        URL,
        {"q": "Personalausweis verloren", "pick": f"article-{world_a.article.pk}"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Melden Sie den Verlust." in partial


def test_empty_and_unmatched_queries(world_a):
    client = world_a.client(Role.KC_AGENT)
    assert (
        "app-results" not in client.get(URL, {"q": "   "}, HTTP_HX_REQUEST="true").content.decode()
    )
    partial = client.get(URL, {"q": "xyzzyqwv"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Nichts gefunden" in partial


def test_unpublished_and_draft_entries_are_not_found(world_a):
    with scope(tenant=world_a.tenant):
        catalog_services.service_set_status(service=world_a.service, status="retired")
        catalog_services.article_publish(article=world_a.article, published=False)
    partial = (
        world_a.client(Role.KC_AGENT)
        .get(URL, {"q": "Personalausweis"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert world_a.service.name not in partial and world_a.article.question not in partial


def test_search_sees_catalogue_changes_at_once(world_a):
    client = world_a.client(Role.KC_AGENT)
    client.get(URL, {"q": "Sperrmüll"})  # builds the index
    with scope(tenant=world_a.tenant):
        catalog_services.service_create(
            tenant=world_a.tenant,
            name="Sperrmüll anmelden",
            keywords="Sperrgut",
            status="published",
        )
    assert (
        "Sperrmüll anmelden"
        in client.get(URL, {"q": "Sperrmüll"}, HTTP_HX_REQUEST="true").content.decode()
    )


def test_search_query_count_does_not_grow_with_hits(world_a):
    client = world_a.client(Role.KC_AGENT)
    client.get(URL, {"q": "Ausweis"})
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"q": "Ausweis"}, HTTP_HX_REQUEST="true")
    with scope(tenant=world_a.tenant):
        for i in range(15):
            catalog_services.service_create(
                tenant=world_a.tenant,
                name=f"Ausweis Variante {i}",
                status="published",
                org_unit=world_a.units["kc"],
            )
    client.get(URL, {"q": "Ausweis"})
    with CaptureQueriesContext(connection) as many:
        client.get(URL, {"q": "Ausweis"}, HTTP_HX_REQUEST="true")
    assert len(few) == len(many)


def test_very_long_query_is_cut_not_failed(world_a):
    response = world_a.client(Role.KC_AGENT).get(
        URL, {"q": "Ausweis " * 500}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200

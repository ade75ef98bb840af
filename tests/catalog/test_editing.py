import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Article, Service, ServiceStatus
from rathaus.core.models import Event, Role

SERVICE_FORM = {
    "name": "Anwohnerparkausweis",
    "leika_key": "99108010000000",
    "keywords": "Bewohnerparken, Parkausweis",
    "summary": "Für Anwohnerinnen und Anwohner.",
    "handover_days": 5,
    "max_quantity": 1,
    "kc_can_answer": "on",
}


def test_editor_creates_edits_and_publishes_a_service(world_a):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    response = client.post(
        reverse("catalog:service_create"), {**SERVICE_FORM, "org_unit": world_a.units["office"].pk}
    )
    assert response.status_code == 302
    with scope(tenant=world_a.tenant):
        service = Service.objects.get(name="Anwohnerparkausweis")
        assert service.status == ServiceStatus.DRAFT and service.org_unit == world_a.units["office"]
    r = client.post(
        reverse("catalog:service_edit", args=[service.pk]), {**SERVICE_FORM, "fees": "30 Euro"}
    )
    assert r.status_code == 302, r.context["form"].errors
    client.post(reverse("catalog:service_status", args=[service.pk]), {"status": "published"})
    with scope(tenant=world_a.tenant):
        service.refresh_from_db()
        activities = list(
            Event.objects.filter(subject_kind="service", subject_id=str(service.pk)).values_list(
                "activity", flat=True
            )
        )
    assert service.fees == "30 Euro" and service.status == ServiceStatus.PUBLISHED
    assert activities == ["service_created", "service_updated", "service_published"]
    page = client.get(reverse("catalog:service_detail", args=[service.pk])).content.decode()
    assert "Leistung geändert" in page and "fees" in page  # the history shows who changed what


def test_invalid_leika_key_is_refused_and_changes_nothing(world_a):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    with scope(tenant=world_a.tenant):
        before = (Service.objects.count(), Event.objects.count())
    response = client.post(
        reverse("catalog:service_create"), {**SERVICE_FORM, "leika_key": "12345"}
    )
    assert response.status_code == 200
    assert "14 Ziffern" in response.content.decode()
    with scope(tenant=world_a.tenant):
        assert (Service.objects.count(), Event.objects.count()) == before


def test_bookable_service_needs_a_duration(world_a):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    response = client.post(reverse("catalog:service_create"), {**SERVICE_FORM, "bookable": "on"})
    assert "duration_minutes" in response.context["form"].errors


def test_non_editors_read_but_cannot_edit(world_a):
    for role in (Role.KC_AGENT, Role.CLERK, Role.CONTROLLER):
        client = world_a.client(role)
        assert (
            client.get(reverse("catalog:service_detail", args=[world_a.service.pk])).status_code
            == 200
        )
        assert (
            client.get(reverse("catalog:service_edit", args=[world_a.service.pk])).status_code
            == 403
        )
        assert (
            client.post(
                reverse("catalog:service_status", args=[world_a.service.pk]), {"status": "retired"}
            ).status_code
            == 403
        )
        assert (
            client.post(
                reverse("catalog:article_state", args=[world_a.article.pk]), {"action": "retire"}
            ).status_code
            == 403
        )
    with scope(tenant=world_a.tenant):
        world_a.service.refresh_from_db()
        assert world_a.service.status == ServiceStatus.PUBLISHED


def test_article_lifecycle_and_history(world_a):
    client = world_a.client(Role.KNOWLEDGE_EDITOR)
    response = client.post(
        reverse("catalog:article_create"),
        {
            "question": "Wo finde ich das Fundbüro?",
            "answer": "Im Rathaus, Raum 12.",
            "services": [world_a.service.pk],
        },
    )
    assert response.status_code == 302
    with scope(tenant=world_a.tenant):
        article = Article.objects.get(question="Wo finde ich das Fundbüro?")
    assert not article.published
    client.post(reverse("catalog:article_state", args=[article.pk]), {"action": "publish"})
    client.post(
        reverse("catalog:article_edit", args=[article.pk]),
        {
            "question": article.question,
            "answer": "Im Rathaus, Raum 14.",
            "review_by": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        },
    )
    client.post(reverse("catalog:article_state", args=[article.pk]), {"action": "retire"})
    with scope(tenant=world_a.tenant):
        article.refresh_from_db()
        activities = list(
            Event.objects.filter(subject_kind="article", subject_id=str(article.pk)).values_list(
                "activity", flat=True
            )
        )
    assert article.retired and not article.published and article.answer == "Im Rathaus, Raum 14."
    assert activities == [
        "article_created",
        "article_published",
        "article_updated",
        "article_retired",
    ]
    page = client.get(reverse("catalog:article_detail", args=[article.pk])).content.decode()
    history = page.split('<caption class="kern-sr-only">Verlauf</caption>')[1]
    for label in ("Artikel angelegt", "Veröffentlicht", "Artikel geändert", "Außer Betrieb"):
        assert label in history


def test_review_list_shows_due_articles_only(world_a):
    with scope(tenant=world_a.tenant):
        catalog_services.article_update(article=world_a.article, review_by=dt.date(2000, 1, 1))
        later = catalog_services.article_create(
            tenant=world_a.tenant,
            question="Später prüfen?",
            answer="x",
            review_by=dt.date(2999, 1, 1),
        )
    page = (
        world_a.client(Role.KNOWLEDGE_EDITOR)
        .get(reverse("catalog:article_review"))
        .content.decode()
    )
    assert world_a.article.question in page and later.question not in page


def test_service_list_filters_sort_csv_and_fixed_queries(world_a):
    with scope(tenant=world_a.tenant):
        for i in range(60):
            catalog_services.service_create(
                tenant=world_a.tenant, name=f"Leistung {i:02d}", org_unit=world_a.units["kc"]
            )
    client = world_a.client(Role.KC_AGENT)
    page = client.get(
        reverse("catalog:service_list"), {"status": "draft", "sort": "-name"}
    ).content.decode()
    assert "Leistung 59" in page and "Leistung 00" not in page and "Personalausweis" not in page
    assert "Seite 1 von 3" in page
    page2 = client.get(
        reverse("catalog:service_list"), {"status": "draft", "sort": "-name", "page": 3}
    ).content.decode()
    assert "Leistung 00" in page2
    csv = client.get(
        reverse("catalog:service_list"), {"q": "Leistung 1", "format": "csv"}
    ).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Name;LeiKa") and len(csv.splitlines()) == 11
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("catalog:service_list"), {"page": 1})
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("catalog:service_list"), {"page": 2})
    assert len(few) == len(more)


def test_article_list_query_count_is_fixed(world_a):
    client = world_a.client(Role.KC_AGENT)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("catalog:article_list"))
    with scope(tenant=world_a.tenant):
        for i in range(30):
            catalog_services.article_create(
                tenant=world_a.tenant,
                question=f"Frage {i}?",
                answer="a",
                owner=world_a.users[Role.CLERK],
            )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("catalog:article_list"))
    assert len(one) == len(many)

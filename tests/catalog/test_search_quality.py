"""Search quality: what citizens say → the service a KC agent must see among the first three.

The pairs run against the demo city's catalogue (services and articles). The index is built
straight from the demo data for speed; one test builds the demo in the database and checks
that the desk search (SQLite or PostgreSQL) ranks exactly the same.
"""

import io
import json

import pytest
from django.core.management import call_command
from django_scopes import scope

from rathaus.catalog.models import Service
from rathaus.catalog.search import SearchDocument, SearchIndex
from rathaus.catalog.selectors import catalog_search, search_index
from rathaus.core.models import Tenant
from rathaus.demo.city import DATA

# (query, expected service) — grouped by what the search has to understand. "A|B": either is right.
PAIRS = [
    # inflection and stemming
    ("Ausweise beantragen", "Personalausweis"),
    ("Reisepässe", "Reisepass"),
    ("Meldebescheinigungen beantragt", "Meldebescheinigung"),
    ("Fahrzeuge abmelden", "Fahrzeug abmelden"),
    ("Sterbeurkunden", "Sterbeurkunde"),
    ("Kurzzeitkennzeichens", "Kurzzeitkennzeichen"),
    # compounds, both directions
    ("Anmeldung Wohnsitz", "Wohnsitzanmeldung"),
    ("Wohnsitzanmeldung", "Wohnsitzanmeldung"),
    ("Steuer für Hunde", "Hundesteuer"),
    ("Hundesteuer", "Hundesteuer"),
    ("Gewerbeanmeldung", "Gewerbe-Anmeldung"),
    ("Parkausweis für Bewohner", "Bewohnerparkausweis"),
    ("Kennzeichen für die Saison", "Saisonkennzeichen"),
    ("Steuer Zweitwohnung", "Zweitwohnungsteuer"),
    ("Karte Waffenbesitz", "Waffenbesitzkarte beantragen"),
    ("Kirchenaustrittserklärung", "Kirchenaustritt"),
    # umlauts and ß, spelled out or folded
    ("Fuehrungszeugnis", "Führungszeugnis"),
    ("auslaendischen Fuehrerschein umschreiben", "Umschreibung eines ausländischen Führerscheins"),
    ("Strassenschaeden", "Straßenschäden und defekte Straßenbeleuchtung melden"),
    ("Bussgeldbescheid Einspruch", "Bußgeldbescheid – Einspruch und Zahlung"),
    ("Einbuergerung", "Einbürgerung"),
    ("Sperrmull", "Sperrmüll anmelden"),
    # typos
    ("Persoanlausweis", "Personalausweis"),
    ("Fürerschein international", "Internationaler Führerschein (EU-Kartenführerschein)"),
    ("Meldebescheiningung", "Meldebescheinigung"),
    ("Reisepas", "Reisepass"),
    ("Hundesteur", "Hundesteuer"),
    ("Kirchenaustrit", "Kirchenaustritt"),
    ("Wohngelt", "Wohngeld"),
    ("Gewerbeanmledung", "Gewerbe-Anmeldung"),
    ("Führungszeugniss", "Führungszeugnis"),
    # synonyms and colloquial words kept by editors
    ("Perso", "Personalausweis"),
    ("Perso verloren", "Verlust oder Diebstahl Personalausweis"),
    ("Personalausweis verloren", "Verlust oder Diebstahl Personalausweis"),
    ("Wohnsitz ummelden", "Wohnsitzanmeldung"),
    ("Knöllchen", "Verwarnungsgeld"),
    ("Strafzettel bezahlen", "Verwarnungsgeld"),
    ("geblitzt", "Bußgeldbescheid – Einspruch und Zahlung"),
    ("Mülltonne kaputt", "Abfallbehälter bestellen, tauschen oder abmelden"),
    ("Schlagloch", "Straßenschäden und defekte Straßenbeleuchtung melden"),
    ("Kindergarten", "Kita-Platz und Kindertagespflege"),
    ("Auto abmelden", "Fahrzeug abmelden"),
    ("aus der Kirche austreten", "Kirchenaustritt"),
    ("WBS", "Wohnberechtigungsschein"),
    ("Mietzuschuss", "Wohngeld"),
    ("laute Nachbarn", "Lärmbeschwerde"),
    ("Oldtimer Kennzeichen", "Historisches Kennzeichen für Oldtimer"),
    (
        "heiraten",
        "Trauung im Standesamt – Trautermin|Anmeldung einer Eheschließung ohne Auslandsbezug",
    ),
    ("Wahlschein", "Briefwahl beantragen"),
]


def demo_documents() -> tuple[list[SearchDocument], dict[int, str]]:
    services = json.loads((DATA / "services.json").read_text(encoding="utf-8"))
    articles = json.loads((DATA / "articles.json").read_text(encoding="utf-8"))
    docs = [
        SearchDocument(
            "service",
            pk,
            s["name"],
            ", ".join(s["keywords"]),
            "\n".join(s[f] for f in ("summary", "audience", "requirements", "documents", "fees")),
        )
        for pk, s in enumerate(services, 1)
    ]
    docs += [
        SearchDocument("article", pk, a["question"], ", ".join(a["keywords"]), a["answer"])
        for pk, a in enumerate(articles, len(services) + 1)
    ]
    return docs, {pk: s["name"] for pk, s in enumerate(services, 1)}


@pytest.fixture(scope="module")
def demo_index():
    docs, names = demo_documents()
    return SearchIndex.build(docs), names


def top_services(index: SearchIndex, names: dict[int, str], query: str) -> list[str]:
    return [names[h.pk] for h in index.search(query, limit=3, kinds=("service",))]


def test_there_are_at_least_40_pairs_and_every_expected_service_exists(demo_index):
    _, names = demo_index
    assert len(PAIRS) >= 40
    expected = {name for _, alternatives in PAIRS for name in alternatives.split("|")}
    assert expected <= set(names.values())


@pytest.mark.parametrize("query, expected", PAIRS)
def test_expected_service_is_in_the_top_three(demo_index, query, expected):
    index, names = demo_index
    found = top_services(index, names, query)
    assert any(name in found for name in expected.split("|")), found


def test_the_desk_search_ranks_the_same_on_this_database(db, demo_index):
    call_command("demo", "--no-migrate", "--activity-days", "0", stdout=io.StringIO())
    index, names = demo_index
    tenant = Tenant.objects.get(slug="musterstadt")
    with scope(tenant=tenant):
        db_index = search_index(tenant)
        db_names = dict(Service.objects.values_list("pk", "name"))
        for query, _ in PAIRS:
            on_database = [
                db_names[h.pk] for h in db_index.search(query, limit=3, kinds=("service",))
            ]
            assert on_database == top_services(index, names, query), query
        # The desk shows the same services, with their objects fetched in one go.
        hits = catalog_search(tenant, "Personalausweis verloren")
        assert hits[0].obj.name == "Verlust oder Diebstahl Personalausweis"

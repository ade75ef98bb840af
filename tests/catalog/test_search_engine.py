"""The German search engine on a small hand-made catalogue (no database)."""

import pytest

from rathaus.catalog.search import SearchDocument, SearchIndex, normalise, words

DOCS = [
    SearchDocument("service", 1, "Personalausweis", "Perso, Ausweis", "Den Ausweis beantragen."),
    SearchDocument("service", 2, "Wohnsitzanmeldung", "Umzug", "Nach dem Einzug anmelden."),
    SearchDocument("service", 3, "Hundesteuer", "", "Abgabe für Haustiere."),
    SearchDocument("service", 4, "Führerschein umschreiben", "", "Fahrerlaubnis tauschen."),
    SearchDocument("service", 5, "Verwarnungsgeld", "Knöllchen, Strafzettel", "Falsch geparkt."),
    SearchDocument("service", 6, "Straßenschäden melden", "Schlagloch", "Defekte Straße."),
    SearchDocument("service", 7, "Steuer für Zweitwohnungen", "", "Eine Nebenwohnung kostet."),
    SearchDocument("article", 8, "Wie melde ich meinen Wohnsitz an?", "", "Im Bürgerbüro."),
    SearchDocument("service", 9, "Anmeldung einer Eheschließung", "", "Heiraten im Standesamt."),
]


@pytest.fixture(scope="module")
def index():
    return SearchIndex.build(DOCS)


def top(index, query, kinds=("service",)):
    hits = index.search(query, limit=3, kinds=kinds)
    return hits[0].pk if hits else None


def test_normalise_folds_case_umlauts_sharp_s_and_their_ascii_spellings():
    assert normalise("Führerschein") == normalise("Fuehrerschein") == normalise("FUHRERSCHEIN")
    assert normalise("Straße") == normalise("Strasse")
    assert words("Ich habe den Perso verloren") == ["perso", "verloren"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Ausweise", 1),  # inflection
        ("Ausweis beantragt", 1),
        ("Fuehrerschein", 4),  # umlaut spelled out
        ("Strasse", 6),  # ß folded
        ("Persoanlausweis", 1),  # transposed letters
        ("Fürerschein", 4),  # missing letter
        ("Perso", 1),  # editor's synonym
        ("Knöllchen", 5),
        ("Anmeldung Wohnsitz", 2),  # compound written apart finds the compound
        ("Steuer für Hunde", 3),
        ("Zweitwohnungsteuer", 7),  # compound finds the words written apart
    ],
)
def test_german_queries_find_the_service(index, query, expected):
    assert top(index, query + " ") == expected


def test_the_last_word_is_completed_while_typing(index):
    assert top(index, "Persona") == 1
    assert top(index, "Persona ") is None  # a finished word is not a prefix any more


def test_results_mix_kinds_with_services_first_on_ties_and_respect_limit_and_kinds(index):
    hits = index.search("Wohnsitz anmelden ", limit=10)
    assert {(h.kind, h.pk) for h in hits} >= {("service", 2), ("article", 8)}
    assert hits[0].kind == "service"
    assert [h.kind for h in index.search("Wohnsitz", kinds=("article",))] == ["article"]
    assert len(index.search("Steuer", limit=1)) == 1


def test_ranking_is_deterministic_and_nonsense_finds_nothing(index):
    assert index.search("Steuer anmelden") == index.search("Steuer anmelden")
    assert index.search("xyzzy qwrtz") == []
    assert index.search("   ") == []
    assert SearchIndex.build([]).search("Ausweis") == []

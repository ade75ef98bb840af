"""German full-text search over the catalogue, in memory and database-independent.

Citizens type the way they speak, so a query goes through the same steps as the documents:

1. fold case, umlauts and ß (``Führerschein``, ``Fuehrerschein`` and ``Fuhrerschein`` agree),
2. stem with the Snowball German stemmer (``Ausweise`` → ``ausweis``, ``beantragt`` → ``beantrag``),
3. split compounds into parts the index knows (``Wohnsitzanmeldung`` → ``wohnsitz`` + ``anmeld``,
   ``Hundesteuer`` → ``hund`` + ``steuer``) on both sides, so either spelling finds the other,
4. correct typos against the index vocabulary with rapidfuzz (``Persoanlausweis``),
5. complete the last word as a prefix while the user is still typing.

Scoring is BM25 (bm25s) with the title and the editors' synonyms counted more than the body.
Services and articles have separate indexes so 20,000 articles do not drown the idf of the
few hundred services; their scores are normalised per kind before merging. Because the index
lives in Python, SQLite and PostgreSQL give identical results.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 3
PART_WEIGHT = 0.6  # a compound part found in a query word counts less than the word itself
PREFIX_WEIGHT = 0.7
EXACT_BONUS = 0.5  # share of the best score added when the query is a title or synonym
MAX_PHRASES = 200
PREFIX_EXPANSIONS = 12
MIN_PART = 3  # shortest known compound part, e.g. "Amt", "Kfz"
MIN_MODIFIER = 4  # shortest unknown modifier in front of a known head
FUGEN = ("es", "s", "en", "n", "e")  # linking elements: Geburt-s-urkunde, Hund-e-steuer

_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e", "è": "e"})
_DIGRAPHS = re.compile(r"(?<=[a-z])(ae|oe|ue)")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    """
    a ab alle als am an auch auf aus bei bin bis da das dass dem den der des die dies
    doch du ein eine einem einen einer eines er es fur gibt habe haben hat ich ihr im in
    ist ja kann man mein meine meinen mich mir mit muss nach nicht noch nur ob oder sie
    sich sind so soll um und uns von vor was wer wie will wir wo zu zum zur
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_stemmer = snowballstemmer.stemmer("german")


def normalise(text: str) -> str:
    """Lower case with umlauts, ß and their ASCII spellings folded to one form."""
    folded = text.lower().translate(_FOLD)
    return _DIGRAPHS.sub(lambda m: m.group(1)[0], folded)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(normalise(text)) if w not in _STOPWORDS]


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


@dataclass(frozen=True)
class SearchDocument:
    kind: str  # "service" or "article"
    pk: int
    title: str
    keywords: str
    body: str


@dataclass(frozen=True)
class SearchHit:
    kind: str
    pk: int
    score: float


class _Splitter:
    """Splits compounds at a head (last part) that occurs as a word of its own in the corpus.

    The modifier in front need not occur alone ("Hundesteuer" splits even if only "Steuer" is
    known), so a query "Steuer für Hunde" still meets the compound's part "hund".
    """

    def __init__(self, known_stems: set[str]) -> None:
        self.known = known_stems

    def _modifier(self, piece: str) -> tuple[str, ...]:
        for candidate in (piece, *(piece[: -len(f)] for f in FUGEN if piece.endswith(f))):
            if len(candidate) >= MIN_PART and stem(candidate) in self.known:
                return (stem(candidate),)
        return self.split(piece) or ((stem(piece),) if len(piece) >= MIN_MODIFIER else ())

    @functools.lru_cache(maxsize=100_000)  # noqa: B019 - one splitter per index, freed with it
    def split(self, word: str) -> tuple[str, ...]:
        """Parts of ``word`` (head last), or () when it is not a compound with a known head."""
        # The head of a German compound is its last part: prefer the longest known head.
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head = stem(word[cut:])
            if head in self.known:
                modifier = self._modifier(word[:cut])
                if modifier:
                    return (*modifier, head)
        return ()


class _KindIndex:
    """BM25 over one kind of document (services or articles)."""

    def __init__(self, docs: Sequence[SearchDocument], splitter: _Splitter) -> None:
        self.docs = list(docs)
        self.retriever = bm25s.BM25()
        corpus = [self._tokens(doc, splitter) for doc in self.docs]
        self.retriever.index(corpus, show_progress=False)
        self.vocab: dict[str, int] = self.retriever.vocab_dict
        # A query that is exactly a title or one of the editors' synonyms ("Perso") names
        # the document: BM25 alone would let longer or more repetitive documents win.
        self.phrases: dict[tuple[str, ...], list[int]] = {}
        for i, doc in enumerate(self.docs):
            for phrase in [doc.title, *doc.keywords.split(",")]:
                key = tuple(stem(w) for w in words(phrase))
                if key:
                    self.phrases.setdefault(key, []).append(i)

    @staticmethod
    def _tokens(doc: SearchDocument, splitter: _Splitter) -> list[str]:
        def expand(text: str) -> list[str]:
            out = []
            for word in words(text):
                out.append(stem(word))
                out.extend(splitter.split(word))
            return out

        return expand(doc.title) * TITLE_WEIGHT + expand(doc.keywords) * KEYWORD_WEIGHT + expand(
            doc.body
        ) or [""]

    def scores(self, query_words: list[list[dict[str, float]]]) -> np.ndarray:
        """BM25 per document: for each query word the best of its readings, summed."""
        cache: dict[str, np.ndarray | None] = {}

        def token_scores(token: str) -> np.ndarray | None:
            if token not in cache:
                token_id = self.vocab.get(token)
                cache[token] = (
                    self.retriever.get_scores_from_ids([token_id]) if token_id is not None else None
                )
            return cache[token]

        total = np.zeros(len(self.docs), dtype=np.float32)
        for readings in query_words:
            best = np.zeros(len(self.docs), dtype=np.float32)
            for reading in readings:
                score = np.zeros(len(self.docs), dtype=np.float32)
                for token, weight in reading.items():
                    found = token_scores(token)
                    if found is not None:
                        score += weight * found
                np.maximum(best, score, out=best)
            total += best
        return total


class SearchIndex:
    """An immutable index of one tenant's published catalogue."""

    def __init__(self, docs: Sequence[SearchDocument]) -> None:
        all_words: Counter[str] = Counter()
        for doc in docs:
            all_words.update(words(f"{doc.title} {doc.keywords} {doc.body}"))
        self.splitter = _Splitter({stem(w) for w in all_words})
        self.by_kind = {
            kind: _KindIndex([d for d in docs if d.kind == kind], self.splitter)
            for kind in sorted({d.kind for d in docs})
        }
        self.tokens = {t for index in self.by_kind.values() for t in index.vocab}
        # Surface words for typo correction and prefix completion, most frequent first.
        self.vocabulary = [w for w, _ in all_words.most_common()]
        self.frequency = all_words
        self.sorted_vocabulary = sorted(all_words)

    @classmethod
    def build(cls, docs: Iterable[SearchDocument]) -> SearchIndex:
        return cls(list(docs))

    def _corrections(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words within a small edit distance of an unknown word."""
        if len(word) < 4:
            return []
        allowed = 1 if len(word) < 8 else 2
        found = process.extract(
            word,
            self.vocabulary,
            scorer=Levenshtein.distance,
            score_cutoff=allowed,
            limit=5,
        )
        return [(w, 1.0 - 0.25 * distance) for w, distance, _ in found]

    def _completions(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self.sorted_vocabulary, prefix)
        matches = []
        for word in self.sorted_vocabulary[start:]:
            if not word.startswith(prefix):
                break
            matches.append(word)
        matches.sort(key=lambda w: -self.frequency[w])
        return matches[:PREFIX_EXPANSIONS]

    def _alternatives(self, word: str, weight: float) -> list[dict[str, float]]:
        """The word itself, and its compound parts as a second reading of it."""
        readings = [{stem(word): weight}]
        parts = self.splitter.split(word)
        if parts:
            readings.append({p: weight * PART_WEIGHT for p in parts})
        return readings

    def query_words(self, query: str) -> list[list[dict[str, float]]]:
        """Per query word, its readings (token → weight): the word, its compound parts,
        corrections of a typo and, for the word being typed, its completions.

        A document scores the best reading of each word, so one word never counts twice
        (a prefix with twelve completions must not outweigh an exact synonym).
        """
        query_words = words(query)
        typing = bool(query) and not query[-1].isspace()
        result = []
        for position, word in enumerate(query_words):
            readings = self._alternatives(word, 1.0)
            if word not in self.frequency and stem(word) not in self.tokens:
                for correction, weight in self._corrections(word):
                    readings += self._alternatives(correction, weight)
            if typing and position == len(query_words) - 1 and len(word) >= 2:
                for completion in self._completions(word):
                    if completion != word:
                        readings += self._alternatives(completion, PREFIX_WEIGHT)
            result.append(readings)
        return result

    def search(
        self, query: str, *, limit: int = 10, kinds: Sequence[str] | None = None
    ) -> list[SearchHit]:
        query_words = self.query_words(query)
        if not query_words:
            return []
        # The phrases the query may spell: each word as typed, corrected or completed.
        spellings = [[t for r in readings if len(r) == 1 for t in r] for readings in query_words]
        phrases = list(itertools.islice(itertools.product(*spellings), MAX_PHRASES))
        hits: list[tuple[float, str, int]] = []
        for kind, index in self.by_kind.items():
            if kinds is not None and kind not in kinds:
                continue
            scores = index.scores(query_words)
            best = float(scores.max(initial=0.0))
            if best <= 0:
                continue
            named = {i for phrase in phrases for i in index.phrases.get(phrase, [])}
            if named:
                scores[sorted(named)] += EXACT_BONUS * best
                best = float(scores.max())
            top = np.argsort(-scores, kind="stable")[:limit]
            for i in top:
                if scores[i] > 0:
                    # Normalised per kind, so the best service and the best article both lead.
                    hits.append((float(scores[i]) / best, kind, index.docs[i].pk))
        # Deterministic order: score, then services before articles, then the older object.
        hits.sort(key=lambda h: (-round(h[0], 6), h[1] != "service", h[2]))
        return [SearchHit(kind=kind, pk=pk, score=score) for score, kind, pk in hits[:limit]]

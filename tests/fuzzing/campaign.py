"""The campaign: learn the pages, then fuzz them within a budget."""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from tests.fuzzing.common import Params
from tests.fuzzing.html import Html, absolute, query_of, submissions
from tests.fuzzing.recording import fields_of, form_name
from tests.fuzzing.sending import Answer, Fuzzer, show
from tests.fuzzing.urlconf import Page, page_of, url_of
from tests.fuzzing.values import NASTY, NASTY_INTS, NASTY_TEXT, PATH_SAFE, nasty_file, nasty_files

ADMITTED = {200, 201, 204, 301, 302, 303, 400, 405, 409, 410, 422, 429, 503}
HOW = ("nasty", "nasty", "nasty", "twice", "drop", "plausible")


@dataclass
class Target:
    """A page with path arguments that name real rows (or none), and where they came from."""

    page: Page
    arguments: dict[str, str]
    source: str  # "links", "scene" or "-"
    url: str


@dataclass
class Budget:
    examples: int  # hypothesis examples per target, admitted person and method
    refused_examples: int  # ... for a person the page refuses (anonymous on staff pages)
    roles_per_target: int
    crawl_per_page: int  # learning requests per page and person
    links_per_page: int  # links followed from one page to another
    candidates_per_page: int  # distinct path arguments (by their slug values) per page


class Campaign:
    def __init__(
        self,
        fuzzer: Fuzzer,
        pages: list[Page],
        *,
        roles: list[str],
        admin: str,
        anonymous: str,
        foreign: dict[str, str],
        plausible: list[str],
        day: str,
        budget: Budget,
    ) -> None:
        self.fuzzer, self.pages, self.budget = fuzzer, pages, budget
        self.by_name = {p.name: p for p in pages}
        self.roles, self.admin, self.anonymous, self.foreign = roles, admin, anonymous, foreign
        self.plausible, self.day = plausible, day
        self.candidates: dict[str, list[tuple[dict[str, str], str]]] = defaultdict(list)
        self.keys: dict[str, set[str]] = defaultdict(set)  # by page
        self.file_keys: dict[str, set[str]] = defaultdict(set)
        self.values: dict[str, list[str]] = defaultdict(list)  # plausible values by key
        self.bases: dict[tuple[str, str], list[Params]] = defaultdict(list)  # page, method
        self.forms_built: dict[str, set[str]] = defaultdict(set)  # form class: pages
        self.status: dict[tuple[str, str, str], int] = {}  # URL, person, method
        self.uses: Counter[str] = Counter()
        self.answers: dict[str, Counter[int]] = defaultdict(Counter)
        self.unreached: list[str] = []
        self.trace = False

    # learning

    def _value(self, key: str, value: str) -> None:
        known = self.values[key]
        if value not in known and len(known) < 8 and len(value) < 200:
            known.append(value)

    def _base(self, page: Page, method: str, params: Params) -> None:
        known = self.bases[(page.name, method)]
        if len(known) < 8 and not any(sorted(k) == sorted(params) for k in known):
            known.append(params)  # one per set of keys (some forms carry a random key)
        for key, values in params.items():
            self.keys[page.name].add(key)
            for value in values:
                self._value(key, value)

    @staticmethod
    def _shape(page: Page, arguments: dict[str, str]) -> dict[str, str]:
        """The slug arguments, which name what a page does (a case's `action`), unlike the
        numbers and tokens, which name rows."""
        converters = dict(page.arguments)
        return {k: v for k, v in arguments.items() if converters.get(k) == "slug"}

    def _candidate(self, page: Page, arguments: dict[str, str], source: str) -> None:
        known = self.candidates[page.name]
        shape = self._shape(page, arguments)
        if (
            arguments
            and len(known) < self.budget.candidates_per_page
            and not any(self._shape(page, a) == shape for a, _s in known)
        ):
            known.append((arguments, source))

    def learn(self, page: Page, answer: Answer) -> None:
        self.keys[page.name] |= answer.record.keys
        for form in answer.record.forms:
            self.forms_built[form_name(type(form))].add(page.name)
            for item in fields_of(form):
                self.keys[page.name].add(item.key)
                if item.file:
                    self.file_keys[page.name].add(item.key)
                for value in item.values:
                    self._value(item.key, value)

    def _links(self, here: str, html: Html) -> list[tuple[str, str, Params]]:
        """What a page links to, as (method, path, params): its forms as a person sends
        them, then its links. Learnt as path arguments and parameter sets of those pages."""
        for item in [i for f in [*html.forms, html.loose] for i in f.inputs]:
            for value in [item.value, *(v for v, _s in item.options)]:
                if value:
                    self._value(item.name, value)
        found: list[tuple[str, str, Params]] = []
        links = [(f.method, f.action, f) for f in html.forms] + [
            (m, u, None) for m, u in html.links
        ]
        for method, link, form in links:
            url = absolute(here, link)
            resolved = page_of(urlsplit(url).path, self.by_name) if url else None
            if url is None or resolved is None:
                continue
            page, arguments = resolved
            self._candidate(page, arguments, "links")
            if form is not None:
                sent = submissions(form, self.day)
            else:
                sent = [query_of(url) if method == "GET" else {}]
            # A GET form replaces the query of its action; a POST keeps it.
            path = urlsplit(url).path if method == "GET" else url.split("#")[0]
            for params in sent:
                self._base(page, method, params)
                found.append((method, path, params))
        return found

    def crawl(self, who: str, starts: list[tuple[str, str, Params]]) -> None:
        """Breadth first from the start pages, as `who`: each answer teaches the keys the
        page read, the forms it built, and the links and forms of its HTML, which are
        followed (posts too: every request is rolled back)."""
        queue: list[tuple[str, str, Params]] = []
        queued: set[str] = set()
        per_page: Counter[str] = Counter()

        def add(method: str, path: str, params: Params, per_target: Counter[str]) -> None:
            resolved = page_of(urlsplit(path).path, self.by_name)
            if resolved is None:
                return
            page, arguments = resolved
            # One request per page, method, slug arguments and keys (empty or not): the
            # sixty day links of a calendar teach no more than one.
            filled = sorted((k, any(vs)) for k, vs in params.items())
            key = json.dumps([method, page.name, self._shape(page, arguments), filled])
            if key in queued or per_target[page.name] >= self.budget.links_per_page:
                return
            queued.add(key)
            per_target[page.name] += 1
            queue.append((method, path, params))

        for start in starts:
            add(*start, Counter())
        while queue:
            method, path, params = queue.pop(0)
            page = page_of(urlsplit(path).path, self.by_name)[0]  # type: ignore[index]
            if per_page[page.name] >= self.budget.crawl_per_page:
                continue
            per_page[page.name] += 1
            answer = self.fuzzer.send(page, who, method, path, params, phase="discovery")
            if self.trace:
                print("learn", who, method, path, show(params, {}), answer.status)
            self.status.setdefault((path, who, method), self._admitted(answer))
            self.learn(page, answer)
            per_target: Counter[str] = Counter()
            target = absolute(path, answer.location) if answer.location else None
            if method == "GET" and target:
                resolved = page_of(urlsplit(target).path, self.by_name)
                if resolved:
                    self._candidate(*resolved, "links")
                add("GET", urlsplit(target).path, query_of(target), per_target)
            for link in self._links(path, answer.html) if answer.html else []:
                add(*link, per_target)

    def targets(self, scene: dict[str, list[dict]]) -> tuple[list[Target], dict[str, str]]:
        """Each page with the path arguments learnt (or from the scene, for the pages only
        e-mails and devices link to), and the pages with none."""
        found, missing = [], {}
        for page in self.pages:
            if not page.arguments:
                found.append(Target(page, {}, "-", reverse(page.name)))
                continue
            for arguments in scene.get(page.name, []):
                self._candidate(page, {k: str(v) for k, v in arguments.items()}, "scene")
            if not self.candidates.get(page.name):
                missing[page.name] = "no link and no scene row gives its path arguments"
            for arguments, source in self.candidates.get(page.name, []):
                url = url_of(page, arguments)
                if url:
                    found.append(Target(page, arguments, source, url))
        return found, missing

    # fuzzing

    def _admitted(self, answer: Answer) -> int:
        """The answer's status; 401 for the way to the login page."""
        return 401 if answer.location.startswith(self.fuzzer.login_url) else answer.status

    def _status(self, target: Target, who: str, method: str) -> int:
        key = (target.url, who, method)
        if key not in self.status:
            params = self._first(target, method)
            answer = self.fuzzer.send(target.page, who, method, target.url, params, phase="probe")
            self.learn(target.page, answer)
            self.status[key] = self._admitted(answer)
        return self.status[key]

    def _first(self, target: Target, method: str) -> Params:
        return copy.deepcopy((self.bases.get((target.page.name, method)) or [{}])[0])

    def fuzz(self, target: Target) -> None:
        page = target.page
        # Views check the person before the method: a GET tells who is admitted (a 405
        # too), one POST of the first admitted person whether the page takes posts.
        everyone = [*self.roles, self.anonymous]
        admitted = [who for who in everyone if self._status(target, who, "GET") in ADMITTED]
        methods = [
            m
            for m in ("GET", "POST")
            if not admitted or self._status(target, admitted[0], m) != 405
        ]
        if not admitted:
            self.unreached.append(f"{page.name} {target.url}")
        # Up to two admitted roles, those used least so far, the administrator among them
        # when the page admits more; and anonymous.
        roles = sorted((r for r in admitted if r in self.roles), key=lambda r: self.uses[r])
        chosen = roles[: self.budget.roles_per_target] or [self.admin]
        if self.admin in roles[len(chosen) :]:
            chosen[-1] = self.admin
        main = self.anonymous if self.anonymous in admitted else chosen[0]
        keys = sorted(self.keys[page.name])
        # 1. Every key gets every bad value once, all keys of a request at the same time (a
        #    form checks every field: one bad field hides no other), as the main person.
        for method in methods:
            bases = self.bases.get((page.name, method)) or [{}]
            file_keys = sorted(self.file_keys[page.name]) if method == "POST" else []
            for n in range(len(NASTY) if keys else 0):
                data = copy.deepcopy(bases[n % len(bases)])
                data |= {key: [NASTY[(n + k) % len(NASTY)]] for k, key in enumerate(keys)}
                files = {key: nasty_file(n + k) for k, key in enumerate(file_keys)}
                data = {k: v for k, v in data.items() if k not in files}
                self._send(target, main, method, target.url, data, files, urlencoded=n % 2 == 1)
        # 2. Hypothesis: the page's own links and forms with one, some or all values bad,
        #    left out or repeated, as each person chosen and anonymous.
        for who in [*chosen, self.anonymous]:
            self.uses[who] += 1
            examples = self.budget.examples if who in admitted else self.budget.refused_examples
            for method in methods:
                bases = self.bases.get((page.name, method)) or [{}]
                files = sorted(self.file_keys[page.name])
                strategy = requests_of(bases, keys, self.pool, files, method)
                run_examples(
                    strategy,
                    examples,
                    lambda data, files, htmx, urlencoded, who=who, method=method: self._send(
                        target, who, method, target.url, data, files, htmx, urlencoded
                    ),
                )
        # 3. One path argument bad at a time, as the main person.
        for url in self.path_variants(target):
            for method in methods:
                self._send(target, main, method, url, self._first(target, method))
        # 4. Another municipality's staff asks for this municipality's rows.
        for who in chosen if target.arguments else []:
            for method in methods:
                self._send(
                    target, self.foreign[who], method, target.url, self._first(target, method)
                )

    def _send(
        self,
        target: Target,
        who: str,
        method: str,
        url: str,
        data: Params,
        files: dict[str, Any] | None = None,
        htmx: bool = False,
        urlencoded: bool = False,
    ) -> None:
        answer = self.fuzzer.send(
            target.page, who, method, url, data, files=files, htmx=htmx, urlencoded=urlencoded
        )
        self.answers[f"{method} {target.url}"][answer.status] += 1
        if self.trace:
            print("fuzz", who, method, url, show(data, files or {})[:300], answer.status)
        for form in answer.record.forms:
            self.forms_built[form_name(type(form))].add(target.page.name)

    def pool(self, key: str) -> list[str]:
        """Plausible values of a key: those the pages showed for it, else the scene's."""
        return self.values.get(key) or self.plausible

    def path_variants(self, target: Target) -> list[str]:
        """The target's URL with one path argument bad at a time: the bad values, a tampered
        token or reference, and the values the same argument has on other pages (another
        row's number, another purpose's token, another action)."""
        urls: list[str] = []
        for name, converter in target.page.arguments:
            own = target.arguments[name]
            others = [
                a[name]
                for known in self.candidates.values()
                for a, _s in known
                if a.get(name) not in (None, own)
            ]
            if converter == "int":
                values = [*NASTY_INTS, *others[:2]]
            else:
                tampered = own[:-1] + ("B" if own[-1:] == "A" else "A")
                values = [*NASTY_TEXT, tampered, own * 2, *others[:3]]
            pattern = PATH_SAFE.get(converter)
            for value in dict.fromkeys(values):
                url = url_of(target.page, {**target.arguments, name: value})
                if pattern and pattern.fullmatch(value) and url and url not in (target.url, *urls):
                    urls.append(url)
        return urls


def requests_of(
    bases: list[Params],
    keys: list[str],
    pool: Callable[[str], list[str]],
    file_keys: list[str],
    method: str,
) -> st.SearchStrategy[tuple[Params, dict[str, Any], bool, bool]]:
    """A request built from one of the page's parameter sets (its links and forms as a person
    sends them) with one, some or all keys bad, left out, repeated or set to another
    plausible value; files that are no files; with or without htmx."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Params, dict[str, Any], bool, bool]:
        data = copy.deepcopy(draw(st.sampled_from(bases)))
        names = sorted(set(keys) | set(data))
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True)) if names else []
        for key in chosen:
            how = draw(st.sampled_from(HOW))
            if how == "nasty":
                data[key] = [draw(st.sampled_from(NASTY))]
            elif how == "twice":
                first = draw(st.sampled_from(data.get(key) or pool(key)))
                data[key] = [first, draw(st.sampled_from(NASTY))]
            elif how == "drop":
                data.pop(key, None)
            else:
                data[key] = [draw(st.sampled_from(pool(key)))]
        files = {}
        for key in file_keys if method == "POST" else []:
            if draw(st.booleans()):
                files[key] = draw(nasty_files())
                data.pop(key, None)
        htmx = draw(st.booleans())
        urlencoded = method == "POST" and not files and draw(st.booleans())
        return data, files, htmx, urlencoded

    return build()


def run_examples(strategy: st.SearchStrategy[Any], examples: int, action: Callable) -> None:
    """`examples` requests drawn from `strategy`, the same ones on every run. The findings
    are collected, not raised: one run shows them all, and there is nothing to shrink."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(strategy)
    def check(drawn: tuple) -> None:
        action(*drawn)

    check()

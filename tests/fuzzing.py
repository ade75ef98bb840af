"""The machinery of tests/test_fuzz_pages.py: find every page of the URL conf, learn what each
page reads, and send it malformed requests, each in a savepoint that is rolled back.

Nothing here knows a page by name. The pages come from `django.urls.get_resolver()`; their
parameters from what the views read while the test watches (`RecordingMiddleware`), from the
forms they build (`forms_watched`) and from the links and forms of the HTML they answer with;
the values of path arguments from those links (`Campaign.crawl`).
"""

from __future__ import annotations

import copy
import json
import re
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

from django import forms
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch, Resolver404
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
Params = dict[str, list[str]]  # a query or form: each key with its values

# --- malformed values ---------------------------------------------------------------------------

# Values that broke pages before, and their relatives. Every parameter gets each of them.
NASTY: tuple[str, ...] = (
    "a\x00b",  # a NUL byte: PostgreSQL refuses it in any text
    "1" * 23,  # an integer no column holds
    "9223372036854775808",  # one more than the largest 64-bit integer
    "x" * 300,  # longer than every CharField
    "²",  # a digit to str.isdigit(), not to int()
    "-1",
    "0",
    "2026-02-31",  # a day that does not exist
    "2026-13-01",
    "9999-12-31",  # the last day there is: one day more overflows
    "0001-01-01",  # the first: one day less overflows
    "25:61",
    "<script>alert(1)</script>",
    "",
    " ",
    "1e309",  # float() makes it infinite
    "NaN",
    "99999999999",  # a very high page number
    "1.5",
    "%",  # the wildcard of LIKE
    "'\"",
)
# Path arguments must match their converter, else the resolver answers 404 before any view.
PATH_SAFE = {
    "int": re.compile(r"[0-9]+"),
    "slug": re.compile(r"[-a-zA-Z0-9_]+"),
    "str": re.compile(r"[^/]+"),
    "path": re.compile(r".+"),
}
NASTY_INTS = ("0", "1" * 23, "9223372036854775808")
NASTY_TEXT = ("a\x00b", "1" * 23, "x" * 300, "²", "-1", "<script>alert(1)</script>", " ", "%")
FILE_NAMES = ("a\x00b.eml", "x" * 300 + ".pdf", "².pdf", "<script>.eml", "noname", ".eml")
FILE_CONTENTS = (b"", b"\x00\xff", b"%PDF-1.4 kaputt", b"From: a\r\n\r\nb", b"x" * 70_000)
FILE_TYPES = ("message/rfc822", "application/pdf", "text/html", "a\x00b")


def nasty_file(n: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        FILE_NAMES[n % len(FILE_NAMES)],
        FILE_CONTENTS[n % len(FILE_CONTENTS)],
        content_type=FILE_TYPES[n % len(FILE_TYPES)],
    )


def nasty_files() -> st.SearchStrategy[SimpleUploadedFile]:
    return st.builds(
        lambda name, content, kind: SimpleUploadedFile(name, content, content_type=kind),
        st.sampled_from(FILE_NAMES),
        st.sampled_from(FILE_CONTENTS),
        st.sampled_from(FILE_TYPES),
    )


# --- the URL conf -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One URL pattern: its name, its route and its path arguments with their converters."""

    name: str
    route: str
    arguments: tuple[tuple[str, str], ...]


def pages(skip: Callable[[str], str | None]) -> tuple[list[Page], dict[str, str]]:
    """Every URL pattern of the URL conf, and those `skip` gives a reason to leave out."""
    found: list[Page] = []
    skipped: dict[str, str] = {}

    def walk(patterns: Iterable[Any], prefix: str, namespace: str, converters: dict) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            known = {**converters, **getattr(entry.pattern, "converters", {})}
            reason = skip(route)
            if isinstance(entry, URLResolver):
                if reason:
                    skipped[route + "…"] = reason
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, route, inner, known)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}{entry.name}" if entry.name else route
                if reason:
                    skipped[name] = reason
                    continue
                arguments = tuple(
                    (key, _converter_name(known.get(key))) for key in entry.pattern.regex.groupindex
                )
                found.append(Page(name, route, arguments))

    walk(get_resolver().url_patterns, "", "", {})
    return found, skipped


def _converter_name(converter: Any) -> str:
    if converter is None:
        return "regex"
    return type(converter).__name__.removesuffix("Converter").lower().replace("string", "str")


def url_of(page: Page, arguments: dict[str, str]) -> str | None:
    try:
        return reverse(page.name, kwargs=arguments)
    except NoReverseMatch:
        return None


def page_of(path: str, by_name: dict[str, Page]) -> tuple[Page, dict[str, str]] | None:
    """The page a path (no query) leads to, with its path arguments."""
    try:
        match = resolve(unquote(path))
    except Resolver404:
        return None
    page = by_name.get(match.view_name)
    return (page, {k: str(v) for k, v in match.kwargs.items()}) if page else None


# --- what a request reads and builds ------------------------------------------------------------


@dataclass
class Record:
    keys: set[str] = field(default_factory=set)  # asked of request.GET, POST or FILES
    forms: list[forms.BaseForm] = field(default_factory=list)  # built while it ran


_current: Record | None = None  # the record of the request running


class _Noting:
    """A QueryDict or MultiValueDict that notes the keys asked for."""

    def __getitem__(self, key: str) -> Any:
        _note(key)
        return super().__getitem__(key)  # type: ignore[misc]

    def get(self, key: str, default: Any = None) -> Any:
        _note(key)
        return super().get(key, default)  # type: ignore[misc]

    def getlist(self, key: str, default: Any = None) -> list[Any]:
        _note(key)
        return super().getlist(key, default)  # type: ignore[misc]

    def __contains__(self, key: object) -> bool:
        _note(key)
        return super().__contains__(key)  # type: ignore[misc]


def _note(key: object) -> None:
    if _current is not None and isinstance(key, str):
        _current.keys.add(key)


class _NotingQueryDict(_Noting, QueryDict):
    pass


class _NotingFiles(_Noting, MultiValueDict):
    pass


def _noting(data: QueryDict) -> QueryDict:
    watched = _NotingQueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        watched.setlist(key, values)
    watched._mutable = data._mutable
    return watched


class RecordingMiddleware:
    """First in the chain while the test runs: GET, POST and FILES note which keys the code
    asks for."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if _current is not None:
            request.GET = _noting(request.GET)
            if request.method == "POST":
                post, files = request.POST, request.FILES
                request.POST = _noting(post)
                request._files = _NotingFiles(dict(files.lists()))
        return self.get_response(request)


@contextmanager
def forms_watched() -> Iterator[None]:
    """Every form (and formset form) built while a request runs goes into its record."""
    original = forms.BaseForm.__init__

    def init(self: forms.BaseForm, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if _current is not None:
            _current.forms.append(self)

    forms.BaseForm.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        forms.BaseForm.__init__ = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class FormField:
    key: str
    file: bool
    values: tuple[str, ...]  # its initial value and choices: plausible values


def fields_of(form: forms.BaseForm) -> list[FormField]:
    """The keys a form reads from a request (prefix and sub-widgets included)."""
    found = []
    for name, item in form.fields.items():
        key = form.add_prefix(name)
        values: list[str] = []
        initial = form.initial.get(name, item.initial)
        if isinstance(initial, str | int) and not isinstance(initial, bool):
            values.append(str(initial))
        if isinstance(item, forms.ChoiceField) and not isinstance(item, forms.ModelChoiceField):
            values += [str(v) for v, _label in list(item.choices)[:6] if v not in ("", None)]
        widget = item.widget
        names = (
            [f"{key}{suffix}" for suffix in widget.widgets_names]
            if isinstance(widget, forms.MultiWidget)
            else [key]
        )
        found += [FormField(n, isinstance(item, forms.FileField), tuple(values)) for n in names]
    return found


def form_name(form_class: type) -> str:
    return f"{form_class.__module__}.{form_class.__qualname__}"


def project_forms(prefix: str = "rathaus.") -> set[str]:
    """Every form class the project defines (the URL conf has imported their modules)."""
    seen, todo = set(), list(forms.BaseForm.__subclasses__())
    while todo:
        form_class = todo.pop()
        todo += form_class.__subclasses__()
        if form_class.__module__.startswith(prefix):
            seen.add(form_name(form_class))
    return seen


# --- HTML ---------------------------------------------------------------------------------------


@dataclass
class Input:
    name: str
    kind: str  # the input's type, or select, textarea, submit
    value: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # value, selected
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class HtmlForm:
    action: str
    method: str
    inputs: list[Input] = field(default_factory=list)


class Html(HTMLParser):
    """The links (href, src, htmx attributes, addresses shown in text) and forms of a page."""

    URL_ATTRS = {"href": "GET", "src": "GET", "hx-get": "GET", "hx-post": "POST"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # method, URL
        self.forms: list[HtmlForm] = []
        self.loose = HtmlForm("", "GET")  # inputs outside a form (htmx includes them)
        self._form: HtmlForm | None = None
        self._select: Input | None = None
        self._option: list[Any] | None = None
        self._textarea: Input | None = None
        try:
            self.feed(text)
            self.close()
        except AssertionError:  # html.parser gives up on some broken markup
            pass

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name, method in self.URL_ATTRS.items():
            if name in a and not a[name].startswith(("#", "javascript:", "mailto:", "tel:")):
                self.links.append((method, a[name]))
        self.links += [("GET", v) for v in a.values() if v.startswith("http://testserver/")]
        into = (self._form or self.loose).inputs
        name = a.get("name", "")
        if tag == "form":
            self._form = HtmlForm(a.get("action", ""), a.get("method", "get").upper())
            self.forms.append(self._form)
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            default = "on" if kind in ("checkbox", "radio") else ""
            into.append(Input(name, kind, a.get("value", default), "checked" in a, attrs=a))
        elif tag == "button" and name:
            into.append(Input(name, "submit", a.get("value", ""), attrs=a))
        elif tag == "select" and name:
            self._select = Input(name, "select", attrs=a)
            into.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option_end()
            self._option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and name:
            self._textarea = Input(name, "textarea", attrs=a)
            into.append(self._textarea)

    def _option_end(self) -> None:
        if self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select.options.append((text.strip() if value is None else value, selected))
        self._option = None

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[2] += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag in ("option", "select"):
            self._option_end()
            if tag == "select":
                self._select = None
        elif tag == "textarea":
            self._textarea = None


def typical(item: Input, day: str) -> str:
    """What a person types into an empty field of this kind."""
    by_kind = {
        "email": "erika@example.org",
        "date": item.attrs.get("min") or day,
        "time": "09:00",
        "datetime-local": f"{day}T09:00",
        "number": item.attrs.get("min") or "1",
        "tel": "0301 234567",
        "password": "x-unused-password",
    }
    return by_kind.get(
        item.kind, "Erika Muster" if item.kind in ("text", "search", "textarea") else ""
    )


def submissions(form: HtmlForm, day: str) -> list[Params]:
    """What a person sends with this form: its defaults, empty fields filled, the first of
    each group of boxes ticked and a choice made; one submission per named button."""
    data: Params = defaultdict(list)
    groups: dict[str, list[Input]] = defaultdict(list)
    buttons = []
    for item in form.inputs:
        if item.kind in ("submit", "image"):
            buttons.append(item)
        elif item.kind in ("checkbox", "radio"):
            groups[item.name].append(item)
        elif item.kind == "select":
            chosen = [v for v, selected in item.options if selected and v]
            data[item.name] += chosen or [v for v, _s in item.options if v][:1]
        elif item.kind in ("file", "reset", "button") or item.name == "csrfmiddlewaretoken":
            continue  # files come from the fuzzer; the test client checks no CSRF token
        else:
            data[item.name].append(item.value or typical(item, day))
    for name, group in groups.items():
        data[name] += [i.value for i in group if i.checked] or [group[0].value]
    plain = {k: list(v) for k, v in data.items()}
    return [{**plain, b.name: [b.value]} for b in buttons] if buttons else [plain]


def query_of(url: str) -> Params:
    found: Params = defaultdict(list)
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        found[key].append(value)
    return dict(found)


def absolute(base: str, link: str) -> str | None:
    """The path and query of a link on the page at `base`; None when it leaves the site."""
    parts = urlsplit(urljoin(f"http://testserver{base}", link))
    if parts.netloc != "testserver" or parts.path.startswith(("/static/", "/media/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- sending ------------------------------------------------------------------------------------

# Tables a request that changes nothing still writes: sessions, the login lockout (axes),
# rate-limit counters, the access log (a refused search is still a search), the cache.
EXEMPT_TABLES = re.compile(
    r"django_session|axes_\w+|core_attemptcount|core_personaldataaccess|rathaus_cache"
)
WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.I)
MAYBE_WRITE = re.compile(r"\s*(?:WITH|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)


@dataclass
class Finding:
    kind: str  # "500", or "changed": a refused request changed rows
    page: str
    method: str
    who: str
    url: str
    params: str
    detail: str  # the exception's last line, or the tables changed
    where: str = ""  # the last frame in the project's code
    raised: str = ""  # the frame that raised
    trace: str = ""  # the project's frames

    @property
    def key(self) -> tuple[str, ...]:
        """Findings with the same key are one bug."""
        return (self.kind, self.page, self.method, self.detail.split(":")[0], self.where)

    def line(self) -> str:
        place = f" at {self.where}" if self.where else ""
        raised = f" (raised in {self.raised})" if self.raised and self.raised != self.where else ""
        return (
            f"{self.kind} {self.method} {self.page} as {self.who}: {self.detail}{place}{raised}"
            f"\n      {self.url} {self.params}"
        )


def _short(filename: str) -> str:
    """A file of the project relative to its root, one of a library from site-packages."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    path = Path(filename)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else filename


def _brief(value: str) -> str:
    return value if len(value) <= 40 else f"{value[:10]}…({len(value)} characters)"


def show(params: Params, files: dict[str, Any]) -> str:
    shown: dict[str, Any] = {
        k: [_brief(x) for x in v] if len(v) > 1 else _brief(v[0]) for k, v in params.items() if v
    }
    shown |= {k: f"<file {f.name!r}, {f.size} bytes>" for k, f in files.items()}
    text = json.dumps(shown, ensure_ascii=True)
    return text if len(text) < 600 else text[:600] + " …"


def _table_of(sql: str) -> str | None:
    """The table a statement writes to, "?" when it may write anywhere, None for a read."""
    found = WRITE.match(sql)
    return found.group(1) if found else ("?" if MAYBE_WRITE.match(sql) else None)


def snapshot() -> dict[str, list[str]]:
    """Every row of every table that must not change on a refused request, as text."""
    tables = [t for t in connection.introspection.table_names() if not EXEMPT_TABLES.fullmatch(t)]
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = sorted(
                repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
                for row in cursor.fetchall()
            )
    return rows


@dataclass
class Answer:
    status: int
    location: str  # of a redirect
    record: Record
    html: Html | None  # parsed only while learning


class Fuzzer:
    """Sends requests as the people of `clients`, each in a savepoint that is rolled back (so
    every request meets the same database), and collects the 5xx answers and the refused
    requests that changed rows."""

    def __init__(self, clients: dict[str, Client], login_url: str) -> None:
        self.cookies = {who: client.cookies for who, client in clients.items()}
        self.login_url = login_url
        self.findings: dict[tuple[str, ...], list[Finding]] = {}
        self.sent: Counter[str] = Counter()  # by phase
        self.sent_by: Counter[str] = Counter()  # by person
        self.on_purpose: Counter[str] = Counter()  # 503s a view gave without an error
        self._clients: dict[str, Client] = {}
        self._before: dict[str, list[str]] | None = None

    def client(self, who: str) -> Client:
        """The person's client with only the cookies of their login: each request starts
        from the same session. All share one handler, as each new one builds the middleware
        chain again (WhiteNoise then reads every static file)."""
        client = self._clients.get(who)
        if client is None:
            client = Client(raise_request_exception=False)
            if self._clients:
                client.handler = next(iter(self._clients.values())).handler
            self._clients[who] = client
        client.cookies = SimpleCookie()
        for name, morsel in self.cookies[who].items():
            client.cookies[name] = morsel.value
        return client

    def send(
        self,
        page: Page,
        who: str,
        method: str,
        path: str,
        params: Params,
        *,
        files: dict[str, Any] | None = None,
        htmx: bool = False,
        urlencoded: bool = False,
        phase: str = "fuzz",
    ) -> Answer:
        global _current
        files = files or {}
        if self._before is None:
            self._before = snapshot()
        record = Record()
        written: set[str] = set()

        def watch(execute: Callable, sql: str, *args: Any) -> Any:
            table = _table_of(sql)
            if table and not EXEMPT_TABLES.fullmatch(table):
                written.add(table)
            return execute(sql, *args)

        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        client = self.client(who)
        self.sent[phase] += 1
        self.sent_by[who] += 1
        with transaction.atomic():
            _current = record
            try:
                with connection.execute_wrapper(watch):
                    if method == "GET":
                        response = client.get(path, params, **headers)
                    elif urlencoded and not files:
                        body = urlencode([(k, v) for k, vs in params.items() for v in vs])
                        kind = "application/x-www-form-urlencoded"
                        response = client.post(path, body, kind, **headers)
                    else:
                        response = client.post(path, {**params, **files}, **headers)
                    streamed = self._stream(response)
            finally:
                _current = None
            where = (page, who, method, path, show(params, files))
            answer = self._judge(where, response, streamed, record, written, phase)
            transaction.set_rollback(True)
        return answer

    @staticmethod
    def _stream(response: Any) -> BaseException | None:
        """Read a streamed answer (a download) to its end, as the server would; the test
        client closes it then (closing it again would close the database connection)."""
        try:
            for _chunk in response.streaming_content if response.streaming else ():
                pass
        except Exception as error:  # noqa: BLE001 - it is the finding
            return error
        return None

    def _judge(
        self,
        where: tuple[Page, str, str, str, str],
        response: Any,
        streamed: BaseException | None,
        record: Record,
        written: set[str],
        phase: str,
    ) -> Answer:
        page, who, method, path, shown = where
        status = response.status_code
        location = response.get("Location", "") if 300 <= status < 400 else ""
        error = response.exc_info[1] if getattr(response, "exc_info", None) else streamed
        if status >= 500 or streamed is not None:
            if status == 503 and error is None:
                self.on_purpose[page.name] += 1  # "unavailable", said on purpose
            else:
                self._add(_error("500", where, status, error))
            return Answer(status, location, record, None)
        bad_forms = [f for f in record.forms if f.is_bound and f._errors]
        storage = getattr(response.wsgi_request, "_messages", None)
        levels = {m.level for m in getattr(storage, "_queued_messages", [])}
        refused = (
            400 <= status < 500
            or location.startswith(self.login_url)
            or bool(bad_forms)
            or (message_levels.ERROR in levels and message_levels.SUCCESS not in levels)
        )
        if refused and written:
            try:
                after = snapshot()
            except DatabaseError as failed:  # the view left the transaction broken
                self._add(_error("500", where, status, failed))
            else:
                assert self._before is not None
                changed = sorted(t for t in after if after[t] != self._before.get(t))
                if changed:
                    detail = f"refused ({status}) but changed {', '.join(changed)}"
                    self._add(Finding("changed", page.name, method, who, path, shown, detail))
        html = None
        if phase == "discovery" and "text/html" in response.get("Content-Type", ""):
            html = Html(response.content.decode(errors="replace"))
        return Answer(status, location, record, html)

    def _add(self, finding: Finding) -> None:
        self.findings.setdefault(finding.key, []).append(finding)


def _error(
    kind: str,
    where: tuple[Page, str, str, str, str],
    status: int,
    error: BaseException | None,
) -> Finding:
    page, who, method, path, shown = where
    finding = Finding(kind, page.name, method, who, path, shown, f"status {status}")
    if error is not None:
        finding.detail = traceback.format_exception_only(type(error), error)[-1].strip()[:300]
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/src/rathaus/" in f.filename]
        if ours:
            finding.where = f"{_short(ours[-1].filename)}:{ours[-1].lineno}"
        if frames:
            finding.raised = f"{_short(frames[-1].filename)}:{frames[-1].lineno}"
        shown = ours[-6:] + ([frames[-1]] if frames and frames[-1] not in ours else [])
        finding.trace = "".join(traceback.format_list(shown))
    return finding


# --- the campaign: learn the pages, then fuzz them -----------------------------------------------

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

"""The links and forms of a page's HTML, and typical values for their inputs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from tests.fuzzing.common import Params


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

"""HTML to plain text: sanitised with nh3 down to a basic subset, then rendered as text.

Generic helpers for imported rich text (the DLDB importer uses them): the stored fields are
plain text because templates show them with ``linebreaksbr``, the search index tokenises them
and editors edit them in plain text areas.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import nh3

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "br", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Zero-width characters that editors leave in exports; public because line cleaners elsewhere
# strip the same set.
INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_INDENT = "\x00"  # placeholder for list indentation while whitespace is collapsed


class _TextRenderer(HTMLParser):
    """Renders the (already sanitised) HTML subset as plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[Any]] = []  # [tag, counter]
        self.link: tuple[str, int] | None = None

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag == "p":
            self._block()
        elif tag in {"ul", "ol"}:
            if not self.lists:
                self._block()
            self.lists.append([tag, 0])
        elif tag == "li":
            marker = "• "
            if self.lists:
                self.lists[-1][1] += 1
                if self.lists[-1][0] == "ol":
                    marker = f"{self.lists[-1][1]}. "
            self.out.append("\n" + _INDENT * max(len(self.lists) - 1, 0) + marker)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = (href, len(self.out))

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._block()
        elif tag in {"ul", "ol"}:
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._block()
        elif tag == "a" and self.link is not None:
            href, start = self.link
            self.link = None
            text = " ".join("".join(self.out[start:]).split())
            target = href.removeprefix("mailto:").removeprefix("tel:")
            if re.match(r"^(https?|mailto|tel):", href, re.IGNORECASE) and target not in text:
                self.out.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = INVISIBLE_RE.sub("", "".join(self.out)).replace("\xa0", " ")
        # Collapse whitespace per line; list indentation is kept through the _INDENT marker.
        lines = [" ".join(line.split()).replace(_INDENT, "  ") for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(value: Any) -> str:
    """Sanitise imported HTML with nh3 (basic tags only) and render it as plain text."""
    if not isinstance(value, str) or not value.strip():
        return ""
    safe = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    renderer = _TextRenderer()
    renderer.feed(safe)
    renderer.close()
    return renderer.text()


def sanitize_html(value: Any) -> str:
    """The nh3 step alone, for callers that want to keep the basic markup."""
    if not isinstance(value, str):
        return ""
    return nh3.clean(
        value, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES
    ).strip()

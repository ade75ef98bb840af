"""Every page of the URL conf, and how to fill in its path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch, Resolver404


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

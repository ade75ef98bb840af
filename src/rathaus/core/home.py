"""The start page's tiles: each app registers what it shows there (core names no other app).

A tile is a template and a function of the request that returns the template's context, or
None when the tile is not for this person (e.g. not their role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rathaus.core.http import TenantRequest


@dataclass(frozen=True)
class Tile:
    name: str
    template: str
    context: Callable[[TenantRequest], dict[str, Any] | None]
    order: int = 50


TILES: dict[str, Tile] = {}


def register(*tiles: Tile) -> None:
    for tile in tiles:
        TILES[tile.name] = tile


def tiles_for(request: TenantRequest) -> list[tuple[str, dict[str, Any]]]:
    """The (template, context) of every tile this person sees, in order."""
    shown = []
    for tile in sorted(TILES.values(), key=lambda t: (t.order, t.name)):
        context = tile.context(request)
        if context is not None:
            shown.append((tile.template, context))
    return shown

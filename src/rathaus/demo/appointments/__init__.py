"""Musterstadt's three citizen offices and a year of appointments, walk-ins and counter events.

The set-up (locations, opening hours, services offered, counters, availability rules, ticket
classes) goes through the appointment services, so the slots of the next 60 days come from
`services.slots_materialize`. The past year is about 90,000 visits; through the services one
by one that would take an hour, so it is written with bulk inserts, one month at a time: the
same rows and the same events (activities and payload keys) the services write.

- `specs`: the offices, services, ticket classes, loads and names the demo is made of, and
  `_Context`, the state of one build;
- `offices`: the set-up through the services, and the offices as the simulation sees them;
- `simulate`: the past year, one office and one day at a time (how the year is made up is
  told there);
- `rows`: the rows of a batch, their events and the bulk inserts;
- `build`: `build`, and its parts `build_history` and `build_future`.

The names are re-exported here, so `from rathaus.demo import appointments` and
`appointments.build(...)` read as before.
"""

from __future__ import annotations

from .build import _context, build, build_future, build_history
from .offices import _Office, _offices, build_offices
from .specs import (
    COMBINATIONS,
    FUTURE_SEED,
    HISTORY_SEED,
    OFFICES,
    SERVICES,
    SOURCE,
    TICKET_CLASSES,
    OfficeSpec,
    Progress,
    ServiceSpec,
    _Context,
)

__all__ = [
    "COMBINATIONS",
    "FUTURE_SEED",
    "HISTORY_SEED",
    "OFFICES",
    "SERVICES",
    "SOURCE",
    "TICKET_CLASSES",
    "OfficeSpec",
    "Progress",
    "ServiceSpec",
    "_Context",
    "_Office",
    "_context",
    "_offices",
    "build",
    "build_future",
    "build_history",
    "build_offices",
]

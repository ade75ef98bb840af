"""What the demo's citizen offices are made of, and what a build carries along.

The three offices, the services they offer (durations, ticket classes, weights among
appointments and walk-ins), the combined appointments, the ticket classes, the loads and
shares the simulation draws from, the citizens' names; and `_Context`, the state of one build.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from rathaus.appointments.models import TicketClass
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.models import Tenant

Progress = Callable[[str], None]
SOURCE = "demo"
SLOT_MINUTES = 10
BATCH = 5000
HISTORY_SEED, FUTURE_SEED = 115, 2027  # random.Random seeds of the past year and the weeks ahead


@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name: str
    unit: str
    street: str
    phone: str
    accessibility: str
    counters: int
    online: int  # counters bookable online, per rule
    by_phone: int  # counters bookable by phone
    # (weekdays, opens, closes): opening hours and availability rules alike
    spans: tuple[tuple[tuple[int, ...], int, int], ...]


WEEKDAYS = (0, 1, 2, 3, 4)
OFFICES = (
    OfficeSpec(
        "bb-mitte", "Bürgerbüro Mitte", "buergerbuero-mitte", "Rathausplatz 1", "0599 115-100",
        "Stufenloser Eingang am Marktplatz, Aufzug, barrierefreies WC, induktive Höranlage "
        "an Platz 1.",
        8, 4, 1, ((WEEKDAYS, 8, 12), ((1, 3), 14, 18)),
    ),
    OfficeSpec(
        "bb-nord", "Bürgerbüro Nord", "buergerbuero-nord", "Nordring 12", "0599 115-200",
        "Rampe am Seiteneingang, Aufzug; Behindertenparkplätze im Hof.",
        6, 3, 1, ((WEEKDAYS, 8, 12), ((1, 3), 14, 18)),
    ),
    OfficeSpec(
        "bb-sued", "Bürgerbüro Süd", "buergerbuero-sued", "Am Lindenplatz 3", "0599 115-300",
        "Erdgeschoss, stufenlos erreichbar.",
        5, 2, 1, ((WEEKDAYS, 8, 12), ((3,), 14, 18), ((5,), 9, 12)),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class ServiceSpec:
    external_id: str
    minutes: int  # duration here (the location's override of the catalogue value)
    max_quantity: int
    ticket_class: str  # S quick matters, A pickups, H everything else
    booked: float  # weight among appointments
    walk_in: float  # weight among walk-ins


SERVICES = (
    ServiceSpec("m-1063441", 20, 2, "H", 24, 6),  # Personalausweis
    ServiceSpec("m-1063453", 20, 2, "H", 14, 3),  # Reisepass
    ServiceSpec("m-10225205", 40, 1, "H", 3, 0),  # Ausweisdokumente – Familie
    ServiceSpec("m-1076889", 20, 2, "H", 2, 2),  # Verlust oder Diebstahl Personalausweis
    ServiceSpec("m-1063475", 20, 3, "H", 18, 7),  # Wohnsitzanmeldung
    ServiceSpec("m-10224132", 30, 1, "H", 4, 1),  # Wohnsitzanmeldung – Familie
    ServiceSpec("m-1063486", 10, 1, "S", 2, 4),  # Wohnsitz abmelden
    ServiceSpec("m-1063576", 10, 5, "S", 6, 14),  # Meldebescheinigung
    ServiceSpec("m-1063565", 10, 5, "S", 4, 11),  # Führungszeugnis
    ServiceSpec("m-1063426", 10, 1, "S", 2, 8),  # Beglaubigung von bis zu 5 Dokumenten
    ServiceSpec("m-10225119", 10, 3, "S", 1, 5),  # eID einschalten, PIN ändern
    ServiceSpec("m-10295182", 10, 3, "A", 8, 24),  # Abholung Personalausweis, Reisepass, eID
)
# Combined appointments (the catalogue marks these services combinable) and their weight.
COMBINATIONS = (
    (("m-1063441", "m-1063453"), 6),  # Personalausweis and Reisepass
    (("m-1063475", "m-1063441"), 3),  # move in and a new ID card with the new address
    (("m-1063576", "m-1063565"), 2),  # Meldebescheinigung and Führungszeugnis
)
TICKET_CLASSES = (
    ("S", "Schnelle Anliegen", 10, False),
    ("A", "Abholung", 10, False),
    ("H", "Alle anderen Anliegen", 20, True),
)
# How busy the walk-in queue is, as a share of its counters' capacity, per hour of the day;
# above 1 the queue grows (people waiting at the door at opening time).
WALK_IN_LOAD = {8: 1.1, 9: 0.95, 10: 0.9, 11: 0.7, 14: 0.95, 15: 0.9, 16: 0.82, 17: 0.6}
SATURDAY_LOAD = {9: 1.1, 10: 0.95, 11: 0.7}
WEEKDAY_FACTOR = (1.08, 1.0, 0.95, 1.02, 0.85, 1.0, 1.0)
MONTH_FACTOR = (0.95, 0.95, 1.0, 1.0, 1.05, 1.1, 1.12, 1.08, 1.0, 0.95, 0.9, 0.85)
BOOKING_FILL = 0.83  # share of slots booked on an average day
CANCELLED = 0.08
EXPIRED = 0.03  # online holds never confirmed
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannah", "Ilyas",
               "Jonas", "Katharina", "Lukas", "Maria", "Noah", "Olga", "Paul", "Sofia", "Tim",
               "Yusuf", "Zoe", "Emma", "Leon", "Mia", "Finn", "Lea", "Marek", "Nadia", "Aylin")  # fmt: skip
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
              "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
              "Yılmaz", "Kaya", "Nowak", "Kowalski", "Popescu", "Rossi", "Braun", "Krüger")  # fmt: skip


@dataclass
class _Context:
    tenant: Tenant
    calendar: WorkingCalendar
    classes: dict[str, TicketClass]
    booking_mix: list[tuple[tuple[int, ...], float]]
    walk_in_mix: list[tuple[int, float]]
    class_of: dict[int, str]
    rng: random.Random
    expire_after: dt.timedelta  # an online hold expires (BookingPolicy.hold_minutes, + 1 minute)
    no_show_grace: dt.timedelta  # BookingPolicy.no_show_after_minutes
    codes: set[str] = field(default_factory=set)
    scale: float = 1.0  # of the demo's load (the benchmarks' towns: 0.1)

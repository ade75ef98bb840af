"""Waiting-time figures of the citizen offices, computed from the event log.

Every figure comes from the `core.Event` rows the appointment services append (see
`events.py` and `services/`): a visit is a ticket, from `ticket_issued` over the first `ticket_called` and
`service_started` to `service_finished`; appointments count as due with `booking_checked_in`
or `booking_no_show`, and a checked-in appointment whose holder did not answer the call has a
`booking_no_show` too. Only slot utilisation and the lead time to the next free appointment
read the slots, because capacity is no event.

A year holds about 150,000 visits, so the reads are few and narrow: events are filtered by
activity and time (the index tenant + activity + timestamp), only the columns needed are
fetched (`values_list`), and the location is filtered in Python from the issuing event's
payload; the other ticket events are matched to visits by subject id.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from rathaus.catalog.models import Location, Service
from rathaus.core.models import Event, Tenant

from .events import (
    BOOKING_CHECKED_IN,
    BOOKING_NO_SHOW,
    SERVICE_FINISHED,
    SERVICE_STARTED,
    TICKET_CALLED,
    TICKET_ISSUED,
    TICKET_PARKED,
    TICKET_TRANSFERRED,
)
from .models import BookingChannel, Slot
from .rules import BookingError, BookingRequest
from .selectors import bookable_offers, free_starts

CALLED, STARTED, FINISHED = (a.name for a in (TICKET_CALLED, SERVICE_STARTED, SERVICE_FINISHED))
STEPS = (CALLED, STARTED, FINISHED)
# Service pauses when the citizen is parked or sent to another counter or service.
PAUSES = (TICKET_PARKED.name, TICKET_TRANSFERRED.name)
# Steps within the same second are taken in the order they happen.
STEP_ORDER = {CALLED: 0, STARTED: 1, **dict.fromkeys(PAUSES, 2), FINISHED: 3}
DUE_BOOKINGS = (BOOKING_CHECKED_IN.name, BOOKING_NO_SHOW.name)
ESTIMATE_TOLERANCE = 5 * 60  # an estimate within ±5 minutes counts as right
# Bands of the expected waiting time a walk-in was shown, in minutes: (label, low, high].
ESTIMATE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("0", -1, 0),
    ("1–10", 0, 10),
    ("11–20", 10, 20),
    ("21–30", 20, 30),
    ("> 30", 30, math.inf),
)


@dataclass(frozen=True)
class Summary:
    """Durations in minutes: how many, mean, median and 90th percentile (nearest rank)."""

    count: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


def summarise(seconds: Iterable[float]) -> Summary:
    values = sorted(seconds)
    n = len(values)
    if not n:
        return Summary(0)
    middle = n // 2
    median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
    p90 = values[max(0, math.ceil(0.9 * n) - 1)]
    return Summary(n, sum(values) / n / 60, median / 60, p90 / 60)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(slots=True)
class Visit:
    """One ticket, as its events tell it (times are aware datetimes)."""

    location: int
    issued: dt.datetime
    due: dt.datetime
    day: dt.date
    hour: int
    ticket_class: str
    appointment: bool
    expected: int
    services: tuple[int, ...]
    steps: list[tuple[dt.datetime, str]] = field(default_factory=list)  # after issuing
    called: dt.datetime | None = None
    finished: dt.datetime | None = None
    # Durations in seconds, set by `measure` once all steps are in (None: step missing).
    waiting: float | None = None  # arrival, or the appointment time if later → first call
    service: float | None = None  # time at a counter: each start → its finish or pause
    in_office: float | None = None  # drawing the ticket → last finish

    def measure(self) -> None:
        """Walk the steps in time order. A transferred or parked citizen waits again before
        the next start; that wait counts to the time in the office, not to the service."""
        serving = 0.0
        since: dt.datetime | None = None
        for timestamp, activity in sorted(self.steps, key=lambda s: (s[0], STEP_ORDER[s[1]])):
            if activity == CALLED and self.called is None:
                self.called = timestamp
            elif activity == STARTED:
                since = since or timestamp
            elif since is not None and activity in (FINISHED, *PAUSES):
                serving += (timestamp - since).total_seconds()
                since = None
            if activity == FINISHED:
                self.finished = timestamp
        if self.called is not None:
            self.waiting = max(0.0, (self.called - self.due).total_seconds())
        if self.finished is not None:
            self.in_office = max(0.0, (self.finished - self.issued).total_seconds())
            self.service = serving


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Group(Generic[K]):
    """The visits of one service, day, hour or ticket class."""

    key: K
    label: str
    visits: int
    waiting: Summary
    service: Summary
    in_office: Summary
    within_target: float | None

    @property
    def within_percent(self) -> float | None:
        return None if self.within_target is None else self.within_target * 100


@dataclass(frozen=True)
class Band:
    label: str
    count: int
    expected: float | None  # mean, minutes
    actual: float | None
    error: float | None  # mean absolute error, minutes


@dataclass(frozen=True)
class Estimate:
    """Expected waiting time shown to walk-ins against the waiting time they had."""

    count: int
    mean_abs_error: float | None  # minutes
    within_tolerance: float | None
    bands: list[Band]

    @property
    def within_percent(self) -> float | None:
        return None if self.within_tolerance is None else self.within_tolerance * 100


@dataclass(frozen=True)
class LeadTime:
    service: str
    location: str
    first_free: dt.datetime | None
    days: float | None


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return share(self.part, self.whole)

    @property
    def percent(self) -> float | None:
        rate = self.rate
        return None if rate is None else rate * 100


@dataclass
class Figures:
    first: dt.date
    last: dt.date
    target_minutes: int
    visits: int
    waiting: Summary
    service: Summary
    in_office: Summary
    within_target: Ratio
    no_shows: Ratio
    utilisation: Ratio
    estimate: Estimate
    per_service: list[Group[int]] = field(default_factory=list)
    per_day: list[Group[dt.date]] = field(default_factory=list)
    per_hour: list[Group[int]] = field(default_factory=list)
    per_class: list[Group[str]] = field(default_factory=list)
    lead_times: list[LeadTime] = field(default_factory=list)


def _span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    begin = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    return begin, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def _raw_rows(queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of a `values_list` query without Django's per-value converters.

    A year has half a million ticket events; converting their values one by one through the
    ORM was most of the page's time. SQLite returns timestamps as UTC text
    or naive datetimes (see `_utc`), PostgreSQL as aware datetimes.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            yield from batch


def _utc(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def visits_load(
    *, tenant: Tenant, location: Location | None, first: dt.date, last: dt.date
) -> list[Visit]:
    """The visits issued from `first` to `last` (local days), in two queries.

    1. `ticket_issued` events give the visit: location, class, appointment time, the
       expected wait shown and the services asked for.
    2. The later steps (`STEPS`, `PAUSES`) of the same period are matched by subject id; the
       first call and the last finish count, the service time adds up the time at counters.
    """
    begin, end = _span(first, last)
    zone = timezone.get_current_timezone()
    events = Event.objects.filter(tenant=tenant, timestamp__gte=begin, timestamp__lt=end)
    visits: dict[str, Visit] = {}
    issued = events.filter(activity=TICKET_ISSUED.name).order_by()
    for subject, raw, data in _raw_rows(issued.values_list("subject_id", "timestamp", "payload")):
        payload = json.loads(data) if isinstance(data, str | bytes) else data
        timestamp = _utc(raw)
        where = payload.get("location")
        if location is not None and where != location.pk:
            continue
        start = payload.get("appointment_start")
        due = max(timestamp, dt.datetime.fromisoformat(start)) if start else timestamp
        local = due.astimezone(zone)
        visits[subject] = Visit(
            location=where,
            issued=timestamp,
            due=due,
            day=timestamp.astimezone(zone).date(),
            hour=local.hour,
            ticket_class=payload.get("class") or "",
            appointment=bool(payload.get("appointment")),
            expected=int(payload.get("expected_wait") or 0),
            services=tuple(payload.get("services") or ()),
        )
    steps = events.filter(activity__in=(*STEPS, *PAUSES)).order_by()
    for subject, activity, raw in _raw_rows(
        steps.values_list("subject_id", "activity", "timestamp")
    ):
        visit = visits.get(subject)
        if visit is not None:
            visit.steps.append((_utc(raw), activity))
    for visit in visits.values():
        visit.measure()
    return list(visits.values())


def _within(visits: Iterable[Visit], target_seconds: int, now: dt.datetime) -> Ratio:
    """Called within the target, of all called tickets and those not called yet (or never)
    although the target time has passed: they missed it. Tickets still inside their target
    time and not called are left out, their outcome is open."""
    within = whole = 0
    for visit in visits:
        if visit.waiting is not None:
            whole += 1
            within += visit.waiting <= target_seconds
        elif (now - visit.due).total_seconds() > target_seconds:
            whole += 1
    return Ratio(within, whole)


def group(
    visits: Iterable[Visit],
    keys: Callable[[Visit], Iterable[K]],
    label: Callable[[K], str],
    target_seconds: int,
    now: dt.datetime,
) -> list[Group[K]]:
    """Summaries per key; a visit with several keys (services) counts in each of them."""
    buckets: dict[K, list[Visit]] = defaultdict(list)
    for visit in visits:
        for key in keys(visit):
            buckets[key].append(visit)
    rows = []
    for key, members in buckets.items():
        rows.append(
            Group(
                key=key,
                label=label(key),
                visits=len(members),
                waiting=summarise(w for v in members if (w := v.waiting) is not None),
                service=summarise(s for v in members if (s := v.service) is not None),
                in_office=summarise(o for v in members if (o := v.in_office) is not None),
                within_target=_within(members, target_seconds, now).rate,
            )
        )
    return rows


def service_names(visits: Iterable[Visit]) -> dict[int, str]:
    ids = {s for v in visits for s in v.services}
    return dict(Service.objects.filter(pk__in=ids).values_list("pk", "name"))


def _estimate(visits: Iterable[Visit]) -> Estimate:
    """Walk-ins only: appointment holders are not shown an estimate."""
    pairs = [(v.expected, w) for v in visits if not v.appointment and (w := v.waiting) is not None]
    bands = []
    for label, low, high in ESTIMATE_BANDS:
        inside = [(e, w) for e, w in pairs if low < e / 60 <= high]
        count = len(inside)
        bands.append(
            Band(
                label=label,
                count=count,
                expected=sum(e for e, _w in inside) / count / 60 if count else None,
                actual=sum(w for _e, w in inside) / count / 60 if count else None,
                error=sum(abs(w - e) for e, w in inside) / count / 60 if count else None,
            )
        )
    errors = [abs(w - e) for e, w in pairs]
    return Estimate(
        count=len(pairs),
        mean_abs_error=sum(errors) / len(errors) / 60 if errors else None,
        within_tolerance=share(sum(1 for e in errors if e <= ESTIMATE_TOLERANCE), len(errors)),
        bands=bands,
    )


def _no_shows(tenant: Tenant, location: Location | None, first: dt.date, last: dt.date) -> Ratio:
    """Appointments nobody came for, of all appointments that were due (checked in or not).
    A holder who checked in but did not answer the call is a no-show too (both events)."""
    begin, end = _span(first, last)
    rows = (
        Event.objects.filter(
            tenant=tenant, activity__in=DUE_BOOKINGS, timestamp__gte=begin, timestamp__lt=end
        )
        .order_by()
        .values_list("subject_id", "activity", "payload__location")
    )
    due: set[str] = set()
    missed: set[str] = set()
    for booking, activity, where in rows:
        if location is not None and where != location.pk:
            continue
        due.add(booking)
        if activity == BOOKING_NO_SHOW.name:
            missed.add(booking)
    return Ratio(len(missed), len(due))


def _utilisation(
    location: Location | None, first: dt.date, last: dt.date, now: dt.datetime
) -> Ratio:
    """Booked slots among all slots that began in the period (later slots are still open)."""
    begin, end = _span(first, last)
    slots = Slot.objects.filter(start__gte=begin, start__lt=min(end, now))
    if location is not None:
        slots = slots.filter(location=location)
    rows = slots.values_list("booking_id", flat=True).order_by()
    total = booked = 0
    for booking in rows.iterator(chunk_size=5000):
        total += 1
        booked += booking is not None
    return Ratio(booked, total)


def lead_times(*, location: Location | None, now: dt.datetime) -> list[LeadTime]:
    """Per bookable service, the first free online appointment from now (earliest of all
    locations).

    Services of the same length at one location share their free times, so `free_starts`
    runs once per location and length, not once per service.
    """
    offered = (
        bookable_offers()
        .select_related("service", "location")
        .order_by("service__name", "location__name")
    )
    if location is not None:
        offered = offered.filter(location=location)
    by_length: dict[tuple[int, int], dt.datetime | None] = {}
    best: dict[int, LeadTime] = {}
    for entry in offered:
        key = (entry.location_id, entry.duration)
        if key not in by_length:
            request = BookingRequest(location=entry.location, items=((entry.service, 1),))
            try:
                starts = free_starts(request=request, channel=BookingChannel.ONLINE, now=now)
            except BookingError:
                starts = []
            by_length[key] = starts[0] if starts else None
        first_free = by_length[key]
        current = best.get(entry.service_id)
        if current is None or (
            first_free is not None
            and (current.first_free is None or first_free < current.first_free)
        ):
            best[entry.service_id] = LeadTime(
                service=entry.service.name,
                location=entry.location.name if first_free else "",
                first_free=first_free,
                days=(first_free - now).total_seconds() / 86400 if first_free else None,
            )
    return sorted(best.values(), key=lambda lt: lt.service)


def office_figures(
    *,
    tenant: Tenant,
    location: Location | None,
    first: dt.date,
    last: dt.date,
    target_minutes: int = 15,
    now: dt.datetime | None = None,
) -> Figures:
    """All figures of the dashboard for one location (or all) and the days `first`..`last`."""
    now = now or timezone.now()
    target = target_minutes * 60
    visits = visits_load(tenant=tenant, location=location, first=first, last=last)
    names = service_names(visits)
    all_visits = group(visits, lambda v: ("all",), str, target, now)
    figures = Figures(
        first=first,
        last=last,
        target_minutes=target_minutes,
        visits=len(visits),
        waiting=all_visits[0].waiting if all_visits else Summary(0),
        service=all_visits[0].service if all_visits else Summary(0),
        in_office=all_visits[0].in_office if all_visits else Summary(0),
        within_target=_within(visits, target, now),
        no_shows=_no_shows(tenant, location, first, last),
        utilisation=_utilisation(location, first, last, now),
        estimate=_estimate(visits),
    )
    figures.per_service = sorted(
        group(visits, lambda v: v.services, lambda k: names.get(k, "?"), target, now),
        key=lambda g: (-g.visits, g.label),
    )
    figures.per_day = sorted(
        group(visits, lambda v: (v.day,), lambda d: d.strftime("%d.%m.%Y"), target, now),
        key=lambda g: g.key,
    )
    figures.per_hour = sorted(
        group(visits, lambda v: (v.hour,), lambda h: f"{h:02d}–{h + 1:02d}", target, now),
        key=lambda g: g.key,
    )
    figures.per_class = sorted(
        group(visits, lambda v: (v.ticket_class,), str, target, now), key=lambda g: g.key
    )
    figures.lead_times = lead_times(location=location, now=now)
    return figures


def day_service_rows(
    *,
    tenant: Tenant,
    location: Location | None,
    first: dt.date,
    last: dt.date,
    target_minutes: int = 15,
    now: dt.datetime | None = None,
) -> list[Group[tuple[dt.date, int]]]:
    """One summary per day and service, for the CSV export (key: (day, service id); label: the
    service's name, which need not be unique)."""
    now = now or timezone.now()
    visits = visits_load(tenant=tenant, location=location, first=first, last=last)
    names = service_names(visits)
    rows = group(
        visits,
        lambda v: [(v.day, s) for s in v.services],
        lambda k: names.get(k[1], "?"),
        target_minutes * 60,
        now,
    )
    return sorted(rows, key=lambda g: (g.key[0], g.label, g.key[1]))

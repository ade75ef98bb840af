"""A build: the offices (once), the past year in monthly batches, the weeks ahead."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from rathaus.appointments import services as appointment_services
from rathaus.appointments.models import (
    Booking,
    BookingItem,
    BookingPolicy,
    BookingStatus,
    Slot,
    TicketClass,
)
from rathaus.catalog.models import Service
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.models import Event, OrgUnit, Tenant

from .offices import _Office, _offices, build_offices
from .rows import _booking_events, _flush, _Rows
from .simulate import _day, _fill
from .specs import (
    BATCH,
    COMBINATIONS,
    FUTURE_SEED,
    HISTORY_SEED,
    OFFICES,
    SERVICES,
    SOURCE,
    Progress,
    _Context,
)


def _context(tenant: Tenant, calendar: WorkingCalendar, seed: int = HISTORY_SEED) -> _Context:
    catalogue = {
        s.external_id: s
        for s in Service.objects.filter(
            tenant=tenant, source=SOURCE, external_id__in=[x.external_id for x in SERVICES]
        )
    }
    pk = {key: service.pk for key, service in catalogue.items()}
    booking_mix: list[tuple[tuple[int, ...], float]] = [
        ((pk[s.external_id],), s.booked) for s in SERVICES if s.booked
    ]
    booking_mix += [(tuple(pk[i] for i in ids), w) for ids, w in COMBINATIONS]
    policy = BookingPolicy.for_tenant(tenant)
    return _Context(
        tenant=tenant,
        calendar=calendar,
        classes={c.prefix: c for c in TicketClass.objects.filter(tenant=tenant)},
        booking_mix=booking_mix,
        walk_in_mix=[(pk[s.external_id], s.walk_in) for s in SERVICES if s.walk_in],
        class_of={pk[s.external_id]: s.ticket_class for s in SERVICES},
        rng=random.Random(seed),
        expire_after=dt.timedelta(minutes=policy.hold_minutes + 1),
        no_show_grace=dt.timedelta(minutes=policy.no_show_after_minutes),
        codes=set(Booking.objects.filter(tenant=tenant).values_list("code", flat=True)),
    )


def build_history(
    ctx: _Context, offices: list[_Office], *, days: int, today: dt.date, progress: Progress
) -> int:
    """`days` calendar days of appointments and visits ending yesterday; returns the visits."""
    first = today - dt.timedelta(days=days)
    total = 0
    rows = _Rows(offices={o.location.pk: o for o in offices})
    day_list = [first + dt.timedelta(days=n) for n in range(days)]
    for n, day in enumerate(day_list, 1):
        if not ctx.calendar.is_closed(day):
            for office in offices:
                _day(ctx, office, day, rows)
        if n % 31 == 0 or n == len(day_list):
            total += _flush(ctx, rows)
            rows = _Rows(offices=rows.offices)
            progress(f"  appointments {n}/{len(day_list)} days, {total:,} visits")
    return total


# ---------------------------------------------------------------------------------------------
# The weeks ahead


def build_future(
    ctx: _Context,
    offices: list[_Office],
    *,
    now: dt.datetime,
    progress: Progress,
    days: int = 30,
) -> int:
    """Bookings for the coming weeks: the next days nearly full, fewer further out.

    The slots exist already (`slots_materialize`); the bookings take them with bulk updates
    in one transaction, after checking that every slot is still free, as the booking service
    does. `ctx.codes` must hold every booking code in the database (as after `build_history`).
    """
    ctx.rng.seed(FUTURE_SEED)
    tenant = ctx.tenant
    rows = _Rows(offices={o.location.pk: o for o in offices})
    for office in offices:
        free = Slot.objects.filter(
            location=office.location,
            booking__isnull=True,
            start__gt=now,
            start__lt=now + dt.timedelta(days=days),
        ).only("id", "start", "end", "seat", "channel")
        runs: dict[tuple[dt.date, int], list[Slot]] = {}
        for slot in free.order_by("seat", "start"):
            runs.setdefault((timezone.localdate(slot.start), slot.seat), []).append(slot)
        for (day, _seat), slots in runs.items():
            ahead = (day - timezone.localdate(now)).days
            fill = max(0.05, 1.0 - 0.035 * max(0, ahead - 4)) * ctx.scale
            _fill(ctx, office, slots, slots[0].channel, fill, BookingStatus.CONFIRMED, rows, now)
    with transaction.atomic():
        Booking.objects.bulk_create([p.booking for p in rows.plans], batch_size=BATCH)
        taken = [s for p in rows.plans for s in p.slots]  # _fill has set slot.booking
        if len({s.pk for s in taken}) != len(taken):
            raise RuntimeError("A future slot was taken twice.")
        for i in range(0, len(taken), BATCH):
            ids = [s.pk for s in taken[i : i + BATCH]]
            still_free = Slot.objects.select_for_update().filter(pk__in=ids, booking__isnull=True)
            if len(still_free.values_list("pk", flat=True)) != len(ids):
                raise RuntimeError("A future slot was taken twice.")
        Slot.objects.bulk_update(taken, ["booking"], batch_size=BATCH)
        BookingItem.objects.bulk_create(
            [BookingItem(tenant=tenant, booking=p.booking, service_id=s, quantity=q)
             for p in rows.plans for s, q in p.items],
            batch_size=BATCH,
        )  # fmt: skip
        events = [
            e
            for p in rows.plans
            for e in _booking_events(ctx, rows.offices[p.booking.location_id], p)
        ]
        Event.objects.bulk_create(events, batch_size=BATCH)
    made = sum(1 for p in rows.plans if p.slots)
    progress(f"  {made:,} appointments booked for the next {days} days")
    return made


def build(tenant: Tenant, *, days: int, progress: Progress, scale: float = 1.0) -> None:
    """The offices (once), then `days` of history and some future bookings (once), at `scale`
    times the demo's load."""
    units = {u.code: u for u in OrgUnit.objects.filter(tenant=tenant)}
    now = timezone.now()
    today = timezone.localdate(now)
    if build_offices(tenant, units, today):
        progress(f"  {len(OFFICES)} citizen offices with counters, hours and slots")
    else:
        progress("  citizen offices exist already – left as they are")
    if not days:
        return
    if Booking.objects.filter(tenant=tenant).exists():
        progress("  appointments exist already – left as they are")
        return
    # Built once for both parts; the future part reseeds the generator (FUTURE_SEED).
    ctx = _context(tenant, WorkingCalendar.for_tenant(tenant))
    ctx.scale = scale
    offices = _offices(tenant)
    build_history(ctx, offices, days=days, today=today, progress=progress)
    build_future(ctx, offices, now=now, progress=progress)
    # As the daily retention job would have: older bookings keep no names or addresses.
    erased = appointment_services.bookings_erase(tenant=tenant, now=now)
    progress(f"  personal data of {erased} past bookings erased (retention)")

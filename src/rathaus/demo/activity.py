"""A year of KC activity for the demo city: contacts, cases, call records and their events.

A year is about 250,000 contacts; written through the services one by one that would take
hours, so this module writes the same rows and the same events (activities and payload keys
as the services write them) with bulk inserts, one month at a time. The figures it aims for
follow the KC's published claims: 65–75 % answered at first contact, about 15 % handed over,
calls in the KC about three times shorter than in the departments, most deadlines met.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rathaus.catalog.models import Service
from rathaus.contacts.events import (
    CASE_CREATED,
    CASE_ESCALATED,
    CASE_REPLIED,
    CASE_STATUS_SET,
    CONTACT_FINISHED,
    CONTACT_STARTED,
)
from rathaus.contacts.models import (
    CallRecord,
    Case,
    CaseCounter,
    CaseStatus,
    Channel,
    Contact,
    Outcome,
)
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.events import event_build
from rathaus.core.models import Event, OrgUnit, Tenant
from rathaus.demo.staff import username as login_of

Progress = Callable[[str], None]

CONTACTS_PER_DAY = 1000
WEEKDAY_FACTOR = (1.25, 1.05, 0.85, 1.05, 0.80)  # Monday is the busiest day
MONTH_FACTOR = (1.10, 1.05, 1.0, 1.0, 0.95, 0.95, 0.85, 0.85, 1.05, 1.05, 1.05, 0.95)
# Contacts per hour of the working day (07–18), peaks in the morning and after lunch.
HOUR_WEIGHTS = {7: 4, 8: 9, 9: 13, 10: 13, 11: 11, 12: 7, 13: 9, 14: 10, 15: 9, 16: 7, 17: 5}
CHANNEL_MIX = {
    Channel.PHONE: 62,
    Channel.EMAIL: 20,
    Channel.COUNTER: 8,
    Channel.WEB: 6,
    Channel.LETTER: 2,
    Channel.CHAT: 2,
}
# Median handling time in the KC, seconds; departments take about three times as long.
HANDLING_MEDIAN = {
    Channel.PHONE: 170,
    Channel.EMAIL: 290,
    Channel.COUNTER: 400,
    Channel.WEB: 240,
    Channel.LETTER: 480,
    Channel.CHAT: 330,
}
DEPARTMENT_FACTOR = 3.0
DEPARTMENT_SHARE = 0.12  # contacts that reach a department directly
KC_OUTCOMES = {
    Outcome.ANSWERED: 66,
    Outcome.HANDED_OVER: 19,
    Outcome.CALLBACK: 5,
    Outcome.REFERRED: 6,
    Outcome.ABANDONED: 4,
}
AGENTS = 14  # KC agents besides the documented demo login
BATCH = 5000


@dataclass
class _Context:
    tenant: Tenant
    calendar: WorkingCalendar
    kc_phone: OrgUnit
    kc_written: OrgUnit
    services: list[Service]
    service_weights: list[float]
    agents: list[Any]
    clerks: list[Any]
    rng: random.Random
    scale: float = 1.0  # of CONTACTS_PER_DAY (the benchmarks' towns: 0.1)


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _staff(tenant: Tenant, units: dict[str, OrgUnit]) -> tuple[list[Any], list[Any]]:
    from rathaus.core import services as core_services
    from rathaus.core.models import Role

    user_model = get_user_model()
    agents = [user_model.objects.get(username=login_of(tenant, "kc.agent"))]
    for n in range(1, AGENTS + 1):
        username = login_of(tenant, f"kc.agent{n:02d}")
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username, first_name="Agent", last_name=f"{n:02d}"
            )
            user.set_unusable_password()  # demo staff for the figures only; no login
            user.save()
            unit = units["kc-telefon" if n % 3 else "kc-schriftverkehr"]
            core_services.membership_grant(user=user, org_unit=unit, role=Role.KC_AGENT)
        agents.append(user)
    clerks = [
        user_model.objects.get(username=login_of(tenant, u)) for u in ("clerk", "lead.buergeramt")
    ]
    return agents, clerks


def _contact_events(
    ctx: _Context, contact: Contact, service_ids: list[int], case: Case | None
) -> list[Event]:
    base: dict[str, Any] = {"tenant": ctx.tenant, "subject": contact, "actor": contact.agent,
            "org_unit": contact.org_unit, "channel": contact.channel}  # fmt: skip
    return [
        event_build(activity=CONTACT_STARTED, timestamp=contact.started_at, **base),
        event_build(
            activity=CONTACT_FINISHED,
            timestamp=contact.ended_at,
            payload={
                "outcome": contact.outcome,
                "handling_seconds": contact.handling_seconds,
                "services": service_ids,
                "case": case.reference if case else None,
            },
            **base,
        ),
    ]


def _case_lifecycle(ctx: _Context, case: Case, now: dt.datetime, working_days: int) -> list[Event]:
    """Decide how the department handled the case and return its events."""
    rng = ctx.rng
    base: dict[str, Any] = {"tenant": ctx.tenant, "subject": case, "org_unit": case.org_unit,
            "channel": case.channel}  # fmt: skip
    events = [
        event_build(
            activity=CASE_CREATED,
            timestamp=case.created_at,
            actor=None,
            payload={
                "service": case.service_id,
                "deadline": case.deadline.isoformat(),
                "working_days": working_days,
            },  # fmt: skip
            **base,
        )
    ]
    clerk = rng.choice(ctx.clerks)
    span = (case.deadline - case.created_at).total_seconds()
    started = case.created_at + dt.timedelta(seconds=span * rng.uniform(0.02, 0.3))
    late = rng.random() < 0.09
    answered = case.created_at + dt.timedelta(
        seconds=span * (rng.uniform(1.05, 1.8) if late else rng.uniform(0.3, 0.97))
    )
    if started > now:
        return events
    case.status, case.assignee = CaseStatus.IN_PROGRESS, clerk
    events.append(event_build(activity=CASE_STATUS_SET[CaseStatus.IN_PROGRESS], timestamp=started, actor=clerk,
                        payload={"from": "new", "to": "in_progress"}, **base))  # fmt: skip
    if case.deadline < min(answered, now):
        case.escalated_at = case.deadline + dt.timedelta(minutes=15)
        events.append(event_build(activity=CASE_ESCALATED, timestamp=case.escalated_at, actor=None,
                            payload={"deadline": case.deadline.isoformat()}, **base))  # fmt: skip
    if answered > now:
        return events
    case.status, case.answered_at = CaseStatus.ANSWERED, answered
    events.append(event_build(activity=CASE_REPLIED, timestamp=answered, actor=clerk,
                        payload={"message": None, "medium": "email"}, **base))  # fmt: skip
    events.append(event_build(activity=CASE_STATUS_SET[CaseStatus.ANSWERED], timestamp=answered, actor=clerk,
                        payload={"from": "in_progress", "to": "answered"}, **base))  # fmt: skip
    closed = answered + dt.timedelta(days=rng.uniform(1, 5))
    if closed < now:
        case.status, case.closed_at = CaseStatus.CLOSED, closed
        events.append(event_build(activity=CASE_STATUS_SET[CaseStatus.CLOSED], timestamp=closed, actor=clerk,
                            payload={"from": "answered", "to": "closed"}, **base))  # fmt: skip
    return events


def _day(
    ctx: _Context, day: dt.date, now: dt.datetime, counters: dict[int, int]
) -> dict[str, list[Any]]:
    rng = ctx.rng
    volume = CONTACTS_PER_DAY * ctx.scale * WEEKDAY_FACTOR[day.weekday()]
    volume *= MONTH_FACTOR[day.month - 1]
    volume = int(volume * rng.uniform(0.9, 1.1))
    rows: dict[str, list[Any]] = {"contacts": [], "cases": [], "calls": [], "links": []}
    hours = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()), k=volume)
    for hour in hours:
        start = dt.datetime.combine(
            day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=ctx.calendar.zone
        )
        channel = _pick(rng, CHANNEL_MIX)
        in_department = (
            channel in (Channel.COUNTER, Channel.PHONE) and rng.random() < DEPARTMENT_SHARE * 2.2
        )
        service = rng.choices(ctx.services, weights=ctx.service_weights)[0]
        median = HANDLING_MEDIAN[channel] * (DEPARTMENT_FACTOR if in_department else 1)
        seconds = max(20, int(rng.lognormvariate(0, 0.45) * median))
        if in_department:
            agent, unit = rng.choice(ctx.clerks), service.org_unit or ctx.kc_phone
            outcome = Outcome.ANSWERED if rng.random() < 0.9 else Outcome.CALLBACK
        else:
            agent = rng.choice(ctx.agents)
            unit = ctx.kc_phone if channel in (Channel.PHONE, Channel.CHAT) else ctx.kc_written
            outcome = _pick(rng, KC_OUTCOMES)
            if outcome == Outcome.HANDED_OVER and service.org_unit is None:
                outcome = Outcome.ANSWERED
        ended = start + dt.timedelta(seconds=seconds)
        if ended > now:
            continue
        contact = Contact(
            tenant=ctx.tenant, channel=channel, started_at=start, ended_at=ended, agent=agent,
            org_unit=unit, outcome=outcome, summary="",
            callback_due=ended + dt.timedelta(hours=4) if outcome == Outcome.CALLBACK else None,
            callback_done_at=ended + dt.timedelta(hours=rng.uniform(0.5, 6)) if outcome == Outcome.CALLBACK else None,
        )  # fmt: skip
        case = None
        if outcome == Outcome.HANDED_OVER:
            year = start.year
            counters[year] = counters.get(year, 0) + 1
            days = service.handover_days
            case = Case(
                tenant=ctx.tenant, reference=f"{year}-{counters[year]:06d}",
                subject=service.name[:255], service=service, org_unit=service.org_unit,
                channel=channel, created_at=ended, deadline=ctx.calendar.add_working_days(ended, days),
                priority=2,
            )  # fmt: skip
            rows["cases"].append((case, days))
        rows["contacts"].append((contact, service.pk, case))
        if channel == Channel.PHONE and not in_department:
            wait = min(600, int(rng.lognormvariate(2.6, 0.7)))  # median ~13 s
            rows["calls"].append(
                CallRecord(
                    tenant=ctx.tenant,
                    external_id=f"demo-{start:%Y%m%d%H%M%S}-{len(rows['calls'])}",
                    queue="115",
                    agent_ref=agent.username,
                    arrived_at=start - dt.timedelta(seconds=wait),
                    answered_at=start,
                    ended_at=ended,
                    abandoned=False,
                )  # fmt: skip
            )
    # Callers who hang up in the queue: no contact, only a call record.
    for n in range(int(len(rows["calls"]) * rng.uniform(0.04, 0.08))):
        hour = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()))[0]
        arrived = dt.datetime.combine(
            day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=ctx.calendar.zone
        )
        rows["calls"].append(
            CallRecord(
                tenant=ctx.tenant,
                external_id=f"demo-{arrived:%Y%m%d%H%M%S}-a{n}",
                queue="115",
                arrived_at=arrived,
                ended_at=arrived + dt.timedelta(seconds=rng.randint(10, 240)),
                abandoned=True,
            )  # fmt: skip
        )
    return rows


def _flush(ctx: _Context, batch: list[dict[str, list[Any]]], now: dt.datetime) -> int:
    contacts = [c for rows in batch for c in rows["contacts"]]
    cases = [c for rows in batch for c in rows["cases"]]
    calls = [c for rows in batch for c in rows["calls"]]
    events: list[Event] = []
    with transaction.atomic():
        for case, days in cases:
            events += _case_lifecycle(ctx, case, now, days)
        Case.objects.bulk_create([c for c, _ in cases], batch_size=BATCH)
        for contact, _, case in contacts:
            contact.case = case
        Contact.objects.bulk_create([c for c, _, _ in contacts], batch_size=BATCH)
        through = Contact.services.through
        through.objects.bulk_create(
            [through(contact_id=c.pk, service_id=s) for c, s, _ in contacts], batch_size=BATCH
        )
        for contact, service_id, case in contacts:
            events += _contact_events(ctx, contact, [service_id], case)
        CallRecord.objects.bulk_create(calls, batch_size=BATCH)
        Event.objects.bulk_create(events, batch_size=BATCH)
    return len(contacts)


def build_activity(
    tenant: Tenant,
    units: dict[str, OrgUnit],
    *,
    days: int,
    progress: Progress,
    scale: float = 1.0,
) -> None:
    """Generate `days` calendar days of activity ending yesterday, `scale` times the demo's
    volume; does nothing if any exists."""
    if Contact.objects.filter(tenant=tenant).exists():
        progress("  activity exists already – left as it is")
        return
    now = timezone.now()
    calendar = WorkingCalendar.for_tenant(tenant)
    today = timezone.localdate(now, calendar.zone)
    first = today - dt.timedelta(days=days)
    services = list(
        Service.objects.filter(tenant=tenant, status="published")
        .select_related("org_unit")
        .order_by("pk")
    )
    rng = random.Random(2026)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(services))]  # a few services dominate
    rng.shuffle(weights)
    agents, clerks = _staff(tenant, units)
    ctx = _Context(tenant, calendar, units["kc-telefon"], units["kc-schriftverkehr"],
                   services, weights, agents, clerks, rng, scale)  # fmt: skip
    counters = dict(CaseCounter.objects.filter(tenant=tenant).values_list("year", "last_number"))
    batch: list[dict[str, list[Any]]] = []
    total = 0
    day_list = [
        day
        for day in (first + dt.timedelta(days=n) for n in range(days))
        if calendar.is_working_day(day)
    ]
    for n, day in enumerate(day_list, 1):
        batch.append(_day(ctx, day, now, counters))
        if len(batch) == 20 or n == len(day_list):
            total += _flush(ctx, batch, now)
            batch = []
            progress(f"  activity {n}/{len(day_list)} working days, {total:,} contacts")
    for year, last in counters.items():
        CaseCounter.objects.update_or_create(
            tenant=tenant, year=year, defaults={"last_number": last}
        )

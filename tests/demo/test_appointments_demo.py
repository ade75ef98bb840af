"""The demo citizen offices: set-up, two weeks of visits with their events, believable figures."""

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rathaus.appointments.models import (
    AvailabilityRule,
    Booking,
    BookingStatus,
    Counter,
    OpeningHours,
    Slot,
    Ticket,
    TicketClass,
    TicketStatus,
)
from rathaus.catalog.models import Location
from rathaus.core.models import Event, Tenant

DAYS = 14
SERVED = ["ticket_issued", "ticket_called", "service_started", "service_finished"]
GONE = ["ticket_issued", "ticket_called", "ticket_recalled", "ticket_no_show"]


def run_demo() -> str:
    out = io.StringIO()
    call_command(
        "demo", "--no-migrate", "--activity-days", "0", "--appointment-days", str(DAYS), stdout=out
    )
    return out.getvalue()


@pytest.fixture
def demo(db):
    output = run_demo()
    tenant = Tenant.objects.get(slug="musterstadt")
    return output, tenant


def test_three_offices_with_hours_counters_slots_and_two_weeks_of_bookings(demo):
    output, tenant = demo
    assert "citizen offices" in output
    with scope(tenant=tenant):
        offices = list(Location.objects.filter(source="demo").order_by("name"))
        assert [o.name for o in offices] == [
            "Bürgerbüro Mitte",
            "Bürgerbüro Nord",
            "Bürgerbüro Süd",
        ]
        for office in offices:
            assert 4 <= Counter.objects.filter(location=office).count() <= 8
            assert office.offered.count() >= 10
            assert OpeningHours.objects.filter(location=office, weekday=1).count() >= 1
        assert OpeningHours.objects.filter(weekday=5).count() == 1  # one Saturday morning
        for rule in AvailabilityRule.objects.all():
            assert rule.slot_minutes == 10 and rule.online_quota >= 1 and rule.phone_quota >= 1
            assert (rule.min_days_ahead, rule.max_days_ahead) == (1, 60)
            assert rule.release_time == dt.time(7)
        assert set(TicketClass.objects.values_list("prefix", flat=True)) == {"S", "A", "H"}
        last = Slot.objects.order_by("-start").first()
        assert timezone.localdate(last.start) >= timezone.localdate() + dt.timedelta(days=55)
        # Some of the coming days are booked already, the near ones more than the far ones.
        soon = Slot.objects.filter(start__gt=timezone.now())
        near = soon.filter(start__lt=timezone.now() + dt.timedelta(days=7))
        far = soon.filter(start__gt=timezone.now() + dt.timedelta(days=21))
        assert near.exclude(booking=None).count() / near.count() > 0.6
        assert far.exclude(booking=None).count() / far.count() < 0.5
        # Two weeks of bookings and visits that look like a real office.
        past = Booking.objects.filter(start__lt=timezone.now() - dt.timedelta(hours=1))
        status = dict(past.values_list("status").annotate(n=Count("id")))
        due = status[BookingStatus.DONE] + status[BookingStatus.NO_SHOW]
        assert 0.05 <= status[BookingStatus.NO_SHOW] / due <= 0.15
        assert 0.04 <= status[BookingStatus.CANCELLED] / sum(status.values()) <= 0.12
        # Every booking that kept its time holds as many slots as it needs; the others none.
        slots = dict(
            Slot.objects.exclude(booking=None).values_list("booking").annotate(n=Count("id"))
        )
        for booking_id, count, state in Booking.objects.values_list("pk", "slot_count", "status"):
            expected = 0 if state in (BookingStatus.CANCELLED, BookingStatus.EXPIRED) else count
            assert slots.get(booking_id, 0) == expected
        tickets = Ticket.objects.all()
        per_day = tickets.count() / tickets.dates("day", "day").count()
        assert 100 <= per_day <= 600
        assert tickets.filter(booking__isnull=False).count() == status[BookingStatus.DONE]
        assert not tickets.exclude(status__in=[TicketStatus.DONE, TicketStatus.NO_SHOW]).exists()


def test_every_visit_has_its_events_in_order(demo):
    _output, tenant = demo
    with scope(tenant=tenant):
        steps = defaultdict(list)
        rows = Event.objects.filter(subject_kind="ticket").order_by("timestamp", "id")
        for subject, activity, timestamp in rows.values_list("subject_id", "activity", "timestamp"):
            steps[int(subject)].append((activity, timestamp))
        for pk, state in Ticket.objects.values_list("pk", "status"):
            activities = [a for a, _t in steps[pk]]
            assert activities == (SERVED if state == TicketStatus.DONE else GONE), pk
        issued = Event.objects.filter(activity="ticket_issued").first()
        assert set(issued.payload) == {
            "location", "class", "appointment", "appointment_start", "expected_wait", "services"
        }  # fmt: skip
        called = Event.objects.filter(activity="ticket_called").first()
        assert set(called.payload) == {"location", "counter"}
        booked = Event.objects.filter(activity="booking_confirmed").first()
        assert set(booked.payload) == {"location", "start", "services"}
        # The ticket rows tell the same story as the events.
        ticket = Ticket.objects.filter(status=TicketStatus.DONE).first()
        assert [t for _a, t in steps[ticket.pk]] == [
            ticket.arrived_at, ticket.called_at, ticket.started_at, ticket.finished_at
        ]  # fmt: skip


def test_the_dashboard_shows_believable_figures_and_a_rerun_changes_nothing(demo):
    _output, tenant = demo
    client = Client()
    client.force_login(get_user_model().objects.get(username="lead.buergeramt"))
    today = timezone.localdate()
    page = client.get(
        reverse("appointments:figures"),
        {"first": (today - dt.timedelta(days=DAYS)).isoformat(), "last": today.isoformat()},
    )
    assert page.status_code == 200
    figures = page.context["figures"]
    assert figures.visits > 1000
    assert 3 <= figures.waiting.median <= 30
    assert figures.waiting.p90 <= 90
    assert 5 <= figures.service.median <= 25
    assert 0.05 <= figures.no_shows.rate <= 0.15
    assert 0.7 <= figures.utilisation.rate <= 0.95
    assert 0.5 <= figures.within_target.rate <= 0.98
    assert {g.key for g in figures.per_class} == {"S", "A", "H", "T"}
    assert figures.lead_times and all(lt.first_free for lt in figures.lead_times)
    with scope(tenant=tenant):
        before = (Booking.objects.count(), Ticket.objects.count(), Event.objects.count())
    run_demo()
    with scope(tenant=tenant):
        assert (Booking.objects.count(), Ticket.objects.count(), Event.objects.count()) == before

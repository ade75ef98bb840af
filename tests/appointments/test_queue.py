"""Walk-in tickets, check-in and the call order (no starvation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scope

from rathaus.appointments import selectors, services
from rathaus.appointments.models import BookingChannel, BookingStatus, Ticket, TicketStatus
from rathaus.core.models import Event

from .conftest import MONDAY, at

TODAY = MONDAY


@pytest.fixture
def scoped(office, world_a):
    with scope(tenant=world_a.tenant):
        yield office


def _walk_in(office, service, minute):
    return services.ticket_issue(
        location=office.location, services=[service], now=at(TODAY, 10, minute)
    )


def _appointment(office, hour, minute):
    booking = services.booking_hold(
        request=office.request((office.certificate, 1)),
        start=at(TODAY, hour, minute),
        name="Termin",
        email="",
        channel=BookingChannel.INTERNAL,
        now=at(TODAY, 7),
    )
    return booking


def test_tickets_are_numbered_per_class_and_day(scoped):
    s1 = _walk_in(scoped, scoped.certificate, 0)
    s2 = _walk_in(scoped, scoped.certificate, 1)
    a1 = _walk_in(scoped, scoped.pickup, 2)
    h1 = _walk_in(scoped, scoped.passport, 3)
    assert [t.label for t in (s1, s2, a1, h1)] == ["S001", "S002", "A001", "H001"]
    tomorrow = services.ticket_issue(
        location=scoped.location,
        services=[scoped.certificate],
        now=at(TODAY + dt.timedelta(days=1), 8),
    )
    assert tomorrow.label == "S001"
    event = Event.objects.get(activity="ticket_issued", subject_id=str(h1.pk))
    assert event.payload["class"] == "H" and event.payload["location"] == scoped.location.pk


def test_a_service_not_offered_here_draws_no_ticket(scoped, world_a):
    from rathaus.catalog import services as catalog_services

    elsewhere = catalog_services.service_create(tenant=world_a.tenant, name="Hundesteuer")
    with pytest.raises(services.BookingError) as refused:
        services.ticket_issue(location=scoped.location, services=[elsewhere], now=at(TODAY, 10))
    assert refused.value.code == "not_offered"
    assert not Ticket.objects.exists()


def test_check_in_queues_from_the_appointment_time(scoped):
    booking = _appointment(scoped, 11, 0)
    with pytest.raises(services.BookingError) as early:
        services.booking_check_in(booking=booking, location=scoped.location, now=at(TODAY, 10, 10))
    assert early.value.code == "too_early"
    ticket = services.booking_check_in(
        booking=booking, location=scoped.location, now=at(TODAY, 10, 45)
    )
    assert ticket.label == "T001" and ticket.due_at == at(TODAY, 11)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    again = services.booking_check_in(
        booking=booking, location=scoped.location, now=at(TODAY, 10, 46)
    )
    assert again.pk == ticket.pk


def test_due_appointments_first_but_no_walk_in_waits_past_the_limit(scoped):
    counter = scoped.counters[0]
    walk_in = _walk_in(scoped, scoped.passport, 0)  # 10:00, class H (target 20 min)
    appointments = [_appointment(scoped, 10, m) for m in (10, 20, 30, 40)]
    for booking in appointments:
        services.booking_check_in(booking=booking, location=scoped.location, now=at(TODAY, 10, 10))
    called = [
        services.ticket_call_next(counter=counter, now=at(TODAY, 10, m)) for m in (10, 20, 31)
    ]
    # Two due appointments go first; at 10:31 the walk-in has waited 31 > 30 minutes.
    assert [t.booking_id for t in called[:2]] == [appointments[0].pk, appointments[1].pk]
    assert called[2].pk == walk_in.pk
    assert services.ticket_call_next(counter=counter, now=at(TODAY, 10, 32)).booking_id == (
        appointments[2].pk
    )


def test_walk_ins_are_ranked_by_waiting_time_against_their_class_target(scoped):
    h = _walk_in(scoped, scoped.passport, 0)  # waited 12 of 20 min at 10:12 → 0.6
    s = _walk_in(scoped, scoped.certificate, 4)  # waited 8 of 10 min → 0.8
    order = selectors.call_order(counter=scoped.counters[0], now=at(TODAY, 10, 12))
    assert [t.pk for t in order] == [s.pk, h.pk]
    order = selectors.call_order(counter=scoped.counters[0], now=at(TODAY, 10, 5))
    assert [t.pk for t in order] == [h.pk, s.pk]  # 5/20 = 0.25 > 1/10 = 0.1


def test_two_counters_never_call_the_same_ticket_and_transfers_stay_with_their_counter(scoped):
    first = _walk_in(scoped, scoped.certificate, 0)
    second = _walk_in(scoped, scoped.certificate, 1)
    one, two, three = scoped.counters
    a = services.ticket_call_next(counter=one, now=at(TODAY, 10, 5))
    b = services.ticket_call_next(counter=two, now=at(TODAY, 10, 5))
    assert {a.pk, b.pk} == {first.pk, second.pk}
    assert services.ticket_call_next(counter=three, now=at(TODAY, 10, 5)) is None
    services.ticket_transfer(ticket=a, counter=three, now=at(TODAY, 10, 6))
    assert services.ticket_call_next(counter=two, now=at(TODAY, 10, 7)) is None
    assert services.ticket_call_next(counter=three, now=at(TODAY, 10, 7)).pk == a.pk


def test_a_visit_writes_its_events_and_marks_the_booking(scoped):
    booking = _appointment(scoped, 10, 10)
    ticket = services.booking_check_in(
        booking=booking, location=scoped.location, now=at(TODAY, 10, 5)
    )
    counter = scoped.counters[1]
    called = services.ticket_call_next(counter=counter, now=at(TODAY, 10, 12))
    assert called.pk == ticket.pk and called.calls == 1
    services.ticket_park(ticket=called, now=at(TODAY, 10, 13))
    services.ticket_recall(ticket=called, now=at(TODAY, 10, 20))
    assert (
        selectors.display_calls(location=scoped.location, now=at(TODAY, 10, 20))[0].pk == ticket.pk
    )
    services.ticket_start(ticket=called, now=at(TODAY, 10, 21))
    with pytest.raises(services.BookingError):
        services.ticket_finish(ticket=called, services_done=[], now=at(TODAY, 10, 30))
    services.ticket_finish(
        ticket=called, services_done=[scoped.certificate, scoped.pickup], now=at(TODAY, 10, 30)
    )
    ticket.refresh_from_db()
    booking.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and booking.status == BookingStatus.DONE
    assert set(ticket.services_done.all()) == {scoped.certificate, scoped.pickup}
    assert list(
        Event.objects.filter(subject_kind="ticket", subject_id=str(ticket.pk)).values_list(
            "activity", flat=True
        )
    ) == [
        "ticket_issued",
        "ticket_called",
        "ticket_parked",
        "ticket_recalled",
        "service_started",
        "service_finished",
    ]
    with pytest.raises(services.BookingError):
        services.ticket_start(ticket=ticket, now=at(TODAY, 10, 31))


def test_expected_wait_grows_with_the_queue(scoped):
    assert selectors.expected_wait_seconds(location=scoped.location, now=at(TODAY, 10)) == 0
    first = _walk_in(scoped, scoped.certificate, 0)
    assert first.expected_wait_seconds == 0
    second = _walk_in(scoped, scoped.certificate, 1)
    third = _walk_in(scoped, scoped.certificate, 2)
    assert 0 < second.expected_wait_seconds < third.expected_wait_seconds
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 3

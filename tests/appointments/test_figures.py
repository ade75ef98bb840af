"""Waiting-time figures from the event log, the dashboard page and its CSV export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from rathaus.appointments import figures, services
from rathaus.appointments.models import BookingStatus
from rathaus.catalog.models import Location
from rathaus.core import services as core_services
from rathaus.core.models import Event, Role

from .conftest import MONDAY, at
from .helpers import book

EVENING = at(MONDAY, 18)
URL = reverse("appointments:figures")
DAY = {"first": MONDAY.isoformat(), "last": MONDAY.isoformat()}


def _serve(counter, called, started, finished, services_done):
    ticket = services.ticket_call_next(counter=counter, now=called)
    services.ticket_start(ticket=ticket, now=started)
    services.ticket_finish(ticket=ticket, services_done=services_done, now=finished)
    return ticket


def _book(office, hour, service, now):
    return book(
        office,
        at(MONDAY, hour),
        service=service,
        name="Erika Mustermann",
        phone="0599 123",
        channel="phone",
        now=now,
    )


def a_morning(office) -> None:
    """Two walk-ins and an appointment holder served, one appointment missed.

    Waiting: 6 and 28 minutes for the walk-ins; 4 minutes for the appointment holder, counted
    from 9:00 (the appointment), not from 8:50 (the arrival).
    """
    counter = office.counters[0]
    week_before = at(MONDAY - dt.timedelta(days=7), 10)
    booked = _book(office, 9, office.passport, week_before)
    _book(office, 10, office.certificate, week_before)
    services.ticket_issue(
        location=office.location, services=[office.certificate], now=at(MONDAY, 8)
    )
    services.ticket_issue(
        location=office.location, services=[office.certificate], now=at(MONDAY, 8, 2)
    )
    _serve(counter, at(MONDAY, 8, 6), at(MONDAY, 8, 7), at(MONDAY, 8, 17), [office.certificate])
    _serve(counter, at(MONDAY, 8, 30), at(MONDAY, 8, 31), at(MONDAY, 8, 41), [office.certificate])
    services.booking_check_in(booking=booked, location=office.location, now=at(MONDAY, 8, 50))
    _serve(counter, at(MONDAY, 9, 4), at(MONDAY, 9, 5), at(MONDAY, 9, 25), [office.passport])
    services.no_shows_mark(tenant=office.location.tenant, now=at(MONDAY, 10, 30))


@pytest.fixture
def morning(office, world_a):
    with scope(tenant=world_a.tenant):
        a_morning(office)
    return office


def test_figures_follow_each_visit_through_its_events(morning, world_a):
    with scope(tenant=world_a.tenant):
        result = figures.office_figures(
            tenant=world_a.tenant, location=morning.location, first=MONDAY, last=MONDAY,
            target_minutes=15, now=EVENING,
        )  # fmt: skip
    assert result.visits == 3
    assert (result.waiting.count, result.waiting.median, result.waiting.p90) == (3, 6, 28)
    assert result.waiting.mean == pytest.approx((6 + 28 + 4) / 3)
    assert (result.within_target.part, result.within_target.whole) == (2, 3)
    assert (result.service.median, result.service.p90) == (10, 20)
    # Time in office runs from drawing the ticket: 17, 39 and 35 minutes.
    assert result.in_office.median == 35
    assert (result.no_shows.part, result.no_shows.whole) == (1, 2)
    # 24 start times × 3 counters on Monday morning; the passport takes two slots.
    assert (result.utilisation.part, result.utilisation.whole) == (3, 72)
    classes = {g.key: (g.visits, g.waiting.median) for g in result.per_class}
    assert classes == {"S": (2, 17), "T": (1, 4)}
    assert [(g.label, g.visits) for g in result.per_service] == [
        ("Meldebescheinigung", 2),
        ("Personalausweis alpha", 1),
    ]
    assert [g.key for g in result.per_hour] == [8, 9]
    assert [(g.key, g.visits) for g in result.per_day] == [(MONDAY, 3)]
    # The first walk-in was told 0 minutes and waited 6; the second was told 1 walk-in ahead
    # × 10 minutes shared by 3 counters (200 s) and waited 28 minutes.
    assert result.estimate.count == 2
    assert result.estimate.mean_abs_error == pytest.approx((6 + (28 - 200 / 60)) / 2)
    assert result.estimate.within_tolerance == 0
    bands = {b.label: b.count for b in result.estimate.bands}
    assert bands["0"] == 1 and bands["1–10"] == 1
    # Online citizens can book from the next day at 8:00 on.
    leads = {lt.service: lt for lt in result.lead_times}
    assert leads["Meldebescheinigung"].first_free == at(MONDAY + dt.timedelta(days=1), 8)
    assert leads["Meldebescheinigung"].days == pytest.approx(14 / 24)


def test_lead_times_leave_out_services_citizens_cannot_book(office, world_a):
    with scope(tenant=world_a.tenant):
        office.pickup.bookable = False
        office.pickup.save()
        leads = figures.lead_times(location=office.location, now=at(MONDAY, 9))
    assert {lt.service for lt in leads} == {office.passport.name, office.certificate.name}


def test_service_time_leaves_out_the_wait_after_a_transfer(office, world_a):
    with scope(tenant=world_a.tenant):
        first, second = office.counters[:2]
        services.ticket_issue(
            location=office.location, services=[office.passport], now=at(MONDAY, 8)
        )
        ticket = services.ticket_call_next(counter=first, now=at(MONDAY, 8, 5))
        services.ticket_start(ticket=ticket, now=at(MONDAY, 8, 6))
        services.ticket_transfer(ticket=ticket, counter=second, now=at(MONDAY, 8, 16))
        again = services.ticket_call_next(counter=second, now=at(MONDAY, 8, 40))
        assert again.pk == ticket.pk
        services.ticket_start(ticket=again, now=at(MONDAY, 8, 41))
        services.ticket_finish(ticket=again, services_done=[office.passport], now=at(MONDAY, 8, 46))
        result = figures.office_figures(
            tenant=world_a.tenant, location=office.location, first=MONDAY, last=MONDAY,
            now=EVENING,
        )  # fmt: skip
    assert result.waiting.median == 5  # to the first call
    assert result.service.median == 15  # 10 minutes at the first counter, 5 at the second
    assert result.in_office.median == 46  # the 24 minutes between count here


def test_a_checked_in_holder_who_is_not_there_when_called_is_a_no_show(office, world_a):
    with scope(tenant=world_a.tenant):
        booked = _book(office, 9, office.certificate, at(MONDAY - dt.timedelta(days=7), 10))
        services.booking_check_in(booking=booked, location=office.location, now=at(MONDAY, 8, 55))
        ticket = services.ticket_call_next(counter=office.counters[0], now=at(MONDAY, 9, 1))
        services.ticket_no_show(ticket=ticket, now=at(MONDAY, 9, 5))
        result = figures.office_figures(
            tenant=world_a.tenant, location=office.location, first=MONDAY, last=MONDAY,
            now=EVENING,
        )  # fmt: skip
        activities = list(
            Event.objects.filter(subject_kind="booking", subject_id=str(booked.pk))
            .order_by("timestamp", "pk")
            .values_list("activity", flat=True)
        )
    booked.refresh_from_db()
    assert booked.status == BookingStatus.NO_SHOW
    assert activities == ["booking_confirmed", "booking_checked_in", "booking_no_show"]
    assert (result.no_shows.part, result.no_shows.whole) == (1, 1)


def test_figures_of_one_location_leave_the_others_out(morning, world_a):
    with scope(tenant=world_a.tenant):
        other = Location.objects.create(tenant=world_a.tenant, name="Bürgerbüro Nord")
        services.service_offer(location=other, service=morning.pickup)
        services.ticket_issue(location=other, services=[morning.pickup], now=at(MONDAY, 11))
        one = figures.office_figures(
            tenant=world_a.tenant, location=morning.location, first=MONDAY, last=MONDAY,
            now=EVENING,
        )  # fmt: skip
        both = figures.office_figures(
            tenant=world_a.tenant, location=None, first=MONDAY, last=MONDAY, now=EVENING
        )
        soon = figures.office_figures(
            tenant=world_a.tenant, location=None, first=MONDAY, last=MONDAY, now=at(MONDAY, 11, 5)
        )
        later = figures.office_figures(
            tenant=world_a.tenant,
            location=None,
            first=MONDAY + dt.timedelta(days=1),
            last=MONDAY + dt.timedelta(days=2),
            now=EVENING,
        )
    assert (one.visits, both.visits, later.visits) == (3, 4, 0)
    assert both.waiting.count == 3  # the Nord ticket was never called
    # Never called for hours: it missed the 15-minute target. Five minutes after drawing it,
    # its outcome is still open and it is left out.
    assert (both.within_target.part, both.within_target.whole) == (2, 4)
    assert (soon.within_target.part, soon.within_target.whole) == (2, 3)
    assert later.waiting.median is None and later.within_target.rate is None


def test_the_dashboard_shows_the_figures_and_how_they_are_computed(morning, world_a):
    page = world_a.client("team_lead").get(URL, {**DAY, "location": morning.location.pk})
    assert page.status_code == 200
    text = page.content.decode()
    assert page.context["figures"].visits == 3
    assert "Vom Eintreffen" in text
    for table in ("table-service", "table-hour", "table-day", "table-class", "table-estimate"):
        assert f'id="{table}"' in text
    assert "Meldebescheinigung" in text
    # The default period is the last 30 days and the target 15 minutes.
    default = world_a.client("controller").get(URL)
    form = default.context["form"]
    assert default.status_code == 200 and form.cleaned_data["target"] == 15
    assert (form.cleaned_data["last"] - form.cleaned_data["first"]).days == 29


def test_bad_filters_get_a_message_and_no_figures(office, world_a):
    page = world_a.client("team_lead").get(
        URL,
        {"first": "2026-12-10", "last": "2026-12-01", "target": "0"},  # last before first
    )
    assert page.status_code == 200 and page.context["figures"] is None
    assert page.context["form"].errors


@pytest.mark.parametrize("role,status", [("kc_agent", 403), ("clerk", 403), ("controller", 200),
                                         ("team_lead", 200), ("tenant_admin", 200)])  # fmt: skip
def test_only_leads_controllers_and_admins_see_the_figures(office, world_a, role, status):
    assert world_a.client(role).get(URL).status_code == status


def test_citizen_office_staff_see_the_figures(office, world_a):
    with scope(tenant=world_a.tenant):
        user = core_services.user_create(username="alpha-office", password="x-unused-password")
        core_services.membership_grant(
            user=user, org_unit=world_a.units["team"], role=Role.OFFICE_STAFF
        )
    client = Client()
    client.force_login(user)
    assert client.get(URL).status_code == 200


def test_another_tenant_never_sees_these_figures(morning, world_a, world_b, office_b):
    beta = world_b.client("team_lead")
    assert beta.get(URL, {**DAY, "location": morning.location.pk}).status_code == 404
    assert beta.get(URL, {**DAY, "location": "x"}).status_code == 404
    own = beta.get(URL, DAY)
    assert own.status_code == 200 and own.context["figures"].visits == 0
    csv = beta.get(URL, {**DAY, "format": "csv"}).content.decode("utf-8-sig")
    assert "Meldebescheinigung" not in csv


def test_csv_has_one_row_per_day_and_service(morning, world_a):
    response = world_a.client("team_lead").get(URL, {**DAY, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = body.lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 3 and lines[0].count(";") == 8
    rows = {line.split(";")[1]: line.split(";") for line in lines[1:]}
    assert rows["Meldebescheinigung"][0] == MONDAY.strftime("%d.%m.%Y")
    assert rows["Meldebescheinigung"][2] == "2"
    assert rows["Personalausweis alpha"][3] in ("4,0", "4.0")


def test_csv_keeps_two_services_of_the_same_name_apart(morning, office, world_a):
    with scope(tenant=world_a.tenant):
        office.passport.name = office.certificate.name
        office.passport.save(update_fields=["name"])
    body = world_a.client("team_lead").get(URL, {**DAY, "format": "csv"}).content.decode()
    rows = [line.split(";") for line in body.lstrip("\ufeff").strip().splitlines()[1:]]
    assert sorted((row[1], row[2]) for row in rows) == [
        ("Meldebescheinigung", "1"),
        ("Meldebescheinigung", "2"),
    ]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, DAY).status_code == 200
    return len(queries)


def test_the_dashboard_needs_the_same_queries_for_more_visits(office, world_a):
    client = world_a.client("team_lead")
    with scope(tenant=world_a.tenant):
        services.ticket_issue(location=office.location, services=[office.pickup], now=at(MONDAY, 8))
    few = _queries(client)
    with scope(tenant=world_a.tenant):
        a_morning(office)
    assert _queries(client) == few

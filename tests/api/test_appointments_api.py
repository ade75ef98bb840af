"""Appointments over the API: locations, free days and times, book, confirm, cancel, move;
the portal's rules (window, release time, quotas, caps, idempotency); scopes and isolation."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from django.core import mail
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext
from django_scopes import scope
from schemathesis.checks import not_a_server_error

from rathaus.appointments.models import Booking, BookingPolicy, BookingStatus, Slot
from rathaus.core.models import Event

from ..appointments import conftest as office_fixtures
from ..appointments.conftest import MONDAY, at
from ..appointments.helpers import frozen_clock
from .conftest import Api, make_token

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

BASE = "/api/v1/appointments/"
LOCATIONS = f"{BASE}locations/"
DAYS = f"{BASE}availability/days/"
TIMES = f"{BASE}availability/times/"
BOOKINGS = f"{BASE}bookings/"
DAY = MONDAY + dt.timedelta(days=1)
NOW = at(MONDAY, 9)

# The citizen office fixtures of tests/appointments (pytest finds fixtures by module attribute).
office, office_b = office_fixtures.office, office_fixtures.office_b


clock = frozen_clock(NOW)


@pytest.fixture
def api(world_a, office, clock) -> Api:
    _token, plain = make_token(world_a, ["appointments"])
    return Api(plain)


@pytest.fixture
def api_beta(world_b, office_b, clock) -> Api:
    _token, plain = make_token(world_b, ["appointments"])
    return Api(plain)


def booking_data(office, start=None, **overrides):
    data = {
        "location": office.location.pk,
        "services": [{"service": office.certificate.pk, "quantity": 1}],
        "start": start if isinstance(start, str) else (start or at(DAY, 10)).isoformat(),
        "name": "Ada Lovelace",
        "email": "ada@example.org",
    }
    data.update(overrides)
    return data


def book(api, office, start=None, key=None, **overrides):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(BOOKINGS, booking_data(office, start, **overrides), **extra)


def bookings(world):
    with scope(tenant=world.tenant):
        return list(Booking.objects.order_by("pk"))


def test_locations_list_the_bookable_services_with_duration_and_quantity(api, office):
    response = api.get(LOCATIONS)
    assert response.status_code == 200
    [location] = response.json()["results"]
    assert location["name"] == "Bürgerbüro Mitte" and location["street"] == "Markt 1"
    services = {row["name"]: row for row in location["services"]}
    passport = services[office.passport.name]
    assert passport["duration_minutes"] == 20 and passport["max_quantity"] == 3
    assert passport["combinable_with"] == [office.certificate.pk]
    assert services["Meldebescheinigung"]["duration_minutes"] == 10


def test_free_days_and_times_follow_the_window_and_the_duration(api, office):
    params = {"location": office.location.pk, "services": f"{office.certificate.pk}:1"}
    days = api.get(DAYS, params).json()["days"]
    # 1 to 60 days ahead, weekdays only; 08:00-12:00 in 10-minute slots.
    assert days[0] == {"date": DAY.isoformat(), "times": 24}
    assert days[-1]["date"] == (MONDAY + dt.timedelta(days=60)).isoformat()
    assert all(dt.date.fromisoformat(row["date"]).weekday() < 5 for row in days)
    two_passports = api.get(DAYS, {**params, "services": f"{office.passport.pk}:2"}).json()
    assert two_passports["days"][0]["times"] == 21  # 40 minutes need four slots in a row
    times = api.get(TIMES, {**params, "day": DAY.isoformat()}).json()
    assert times["times"][0] == at(DAY, 8).isoformat() and len(times["times"]) == 24
    assert (
        api.get(TIMES, {**params, "day": (MONDAY + dt.timedelta(days=5)).isoformat()}).json()[
            "times"
        ]
        == []
    )  # Saturday


def test_book_get_confirm_move_and_cancel(
    api, office, world_a, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = book(api, office)
    assert created.status_code == 201, created.json()
    [request_mail] = mail.outbox
    assert request_mail.to == ["ada@example.org"] and "/confirm/" in request_mail.body
    body = created.json()
    assert body["status"] == "held" and body["start"] == at(DAY, 10).isoformat()
    assert body["hold_until"] == at(MONDAY, 9, 10).isoformat()
    assert body["services"] == [
        {"service": office.certificate.pk, "name": "Meldebescheinigung", "quantity": 1}
    ]
    code = body["code"]
    shown = api.get(f"{BOOKINGS}{code.lower()}/").json()
    assert shown["name"] == "Ada Lovelace" and shown["email"] == "ada@example.org"

    confirmed = api.post(f"{BOOKINGS}{code}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert api.post(f"{BOOKINGS}{code}/confirm/").status_code == 200  # idempotent

    moved = api.post(
        f"{BOOKINGS}{code}/reschedule/", {"start": f"{DAY + dt.timedelta(days=1)}T11:30:00"}
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == at(DAY + dt.timedelta(days=1), 11, 30).isoformat()
    with scope(tenant=world_a.tenant):
        assert list(Slot.objects.filter(booking__code=code).values_list("start", flat=True)) == [
            at(DAY + dt.timedelta(days=1), 11, 30)
        ]

    cancelled = api.post(f"{BOOKINGS}{code}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"{BOOKINGS}{code}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "not_active"
    with scope(tenant=world_a.tenant):
        activities = list(
            Event.objects.filter(subject_kind="booking")
            .exclude(activity__startswith="booking_mail_")  # the mails' outcomes: test_mails.py
            .values_list("activity", flat=True)
        )
        assert not Slot.objects.filter(booking__code=code).exists()
    assert activities == [
        "booking_held",
        "booking_confirmed",
        "booking_rescheduled",
        "booking_cancelled",
    ]


def test_a_phone_booking_is_confirmed_at_once_and_needs_no_email(api, office):
    response = book(api, office, channel="phone", email="", phone="0431 123")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "confirmed" and response.json()["hold_until"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location": 999999}, "location"),
        ({"location": "eins"}, "location"),
        ({"services": []}, "services"),
        ({"services": [{"service": 999999}]}, "services"),
        ({"services": [{"service": "PASSPORT", "quantity": 4}]}, "services"),  # max 3
        ({"services": [{"service": "CERT"}, {"service": "PICKUP"}]}, "services"),
        ({"services": [{"service": "CERT"}, {"service": "CERT"}]}, "services"),
        ({"start": at(DAY, 10, 5).isoformat()}, "start"),  # between slots
        ({"start": at(MONDAY + dt.timedelta(days=5), 10).isoformat()}, "start"),  # Saturday
        ({"start": at(MONDAY, 10).isoformat()}, "start"),  # today: window starts tomorrow
        (
            {"start": at(MONDAY + dt.timedelta(days=63), 10).isoformat()},
            "start",
        ),  # beyond the 60 days
        ({"start": "2025-01-01T10:00:00+01:00"}, "start"),
        ({"start": "morgen"}, "start"),
        ({"email": ""}, "email"),  # online needs the confirmation address
        ({"email": "kein"}, "email"),
        ({"name": ""}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"channel": "internal"}, "channel"),
    ],
)
def test_invalid_bookings_are_400_and_change_nothing(api, office, world_a, change, field):
    ids = {"PASSPORT": office.passport.pk, "CERT": office.certificate.pk}
    ids["PICKUP"] = office.pickup.pk
    if "services" in change:
        change = {
            "services": [
                {**item, "service": ids.get(item["service"], item["service"])}
                for item in change["services"]
            ]
        }
    response = api.post(BOOKINGS, booking_data(office, **change))
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert bookings(world_a) == []
    with scope(tenant=world_a.tenant):
        assert not Slot.objects.filter(booking__isnull=False).exists()
        assert not Event.objects.filter(subject_kind="booking").exists()


def test_bad_query_and_header_values_are_400(api, office):
    base = {"location": office.location.pk, "services": f"{office.certificate.pk}:1"}
    for params, field in (
        ({**base, "services": "1;2"}, "services"),
        ({**base, "services": f"{office.certificate.pk}:0"}, "services"),
        ({**base, "services": f"{office.certificate.pk}:9"}, "services"),  # max 1 here
        ({**base, "services": f"{office.certificate.pk},{office.pickup.pk}"}, "services"),
        ({**base, "location": 999999}, "location"),
        ({"location": office.location.pk}, "services"),
    ):
        response = api.get(DAYS, params)
        assert response.status_code == 400, (params, response.json())
        assert field in response.json(), (params, response.json())
    assert "day" in api.get(TIMES, {**base, "day": "gestern"}).json()
    bad_key = book(api, office, key="mit Leerzeichen")
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json()


def test_a_taken_time_is_409_with_a_translated_message(api, office, world_a):
    for email in ("a@example.org", "b@example.org"):  # two counters are bookable online
        assert book(api, office, email=email).status_code == 201
    taken = book(api, office, email="c@example.org")
    assert taken.status_code == 409
    assert taken.json() == {
        "code": "taken",
        "detail": "This time has just been taken. Please choose another one.",
    }
    german = Api(api.headers["HTTP_AUTHORIZATION"].split()[1], language="de").post(
        BOOKINGS, booking_data(office, email="d@example.org")
    )
    with translation.override("de"):
        expected = gettext("This time has just been taken. Please choose another one.")
    assert german.status_code == 409 and german.json()["detail"] == expected
    # The third counter is kept for the phone.
    assert book(api, office, email="", channel="phone").status_code == 201
    assert book(api, office, email="", channel="phone").status_code == 409
    assert len(bookings(world_a)) == 3
    times = api.get(
        TIMES,
        {
            "location": office.location.pk,
            "services": f"{office.certificate.pk}",
            "day": DAY.isoformat(),
        },
    ).json()["times"]
    assert at(DAY, 10).isoformat() not in times


def test_a_taken_time_costs_two_queries_and_a_hold_reads_nothing_twice(api, office):
    """The losers of a rush: the token's row and one look (`selectors.hold_outlook`). A hold
    reads the offers once, with the location (the API and the hold share them), and never
    reads its items back; a booking's page reads them once."""
    for email in ("a@example.org", "b@example.org"):  # both online seats at 10:00
        assert book(api, office, email=email).status_code == 201
    with CaptureQueriesContext(connection) as taken:
        assert book(api, office, email="c@example.org").status_code == 409
    assert len(taken.captured_queries) == 2, [q["sql"] for q in taken.captured_queries]
    with CaptureQueriesContext(connection) as held:
        assert book(api, office, at(DAY, 11), email="d@example.org").status_code == 201
    reads = [q["sql"] for q in held.captured_queries if q["sql"].startswith("SELECT")]
    assert sum("appointments_offeredservice" in sql for sql in reads) == 1
    # The location and its tenant come with the offers, not in a query of their own.
    assert not any(sql.startswith('SELECT "catalog_location"') for sql in reads)
    assert not any('FROM "appointments_bookingitem"' in sql for sql in reads)
    assert not any('FROM "catalog_service"' in sql for sql in reads)
    code = book(api, office, at(DAY, 11, 10), email="e@example.org").json()["code"]
    with CaptureQueriesContext(connection) as detail:
        assert api.get(f"{BOOKINGS}{code}/").status_code == 200
    items = [q for q in detail.captured_queries if 'FROM "appointments_bookingitem"' in q["sql"]]
    assert len(items) == 1  # the booking's services are read once


def test_the_same_idempotency_key_books_once(api, office, world_a, world_b):
    first = book(api, office, key="8c1f6a7e-retry")
    again = book(api, office, key="8c1f6a7e-retry")
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    other = book(api, office, at(DAY, 11), key="another-submit")
    assert other.json()["code"] != first.json()["code"]
    # Keys belong to one integration: the same key from another token is another submit.
    _token, plain = make_token(world_a, ["appointments"])
    second_integration = book(
        Api(plain), office, at(DAY, 11, 10), key="8c1f6a7e-retry", email="bob@example.org"
    )
    assert second_integration.status_code == 201
    assert second_integration.json()["code"] != first.json()["code"]
    assert len(bookings(world_a)) == 3


def test_the_cap_per_email_and_service_holds(api, office, world_a):
    with scope(tenant=world_a.tenant):
        assert BookingPolicy.for_tenant(world_a.tenant).max_active_per_email == 2
    assert book(api, office, at(DAY, 9)).status_code == 201
    assert book(api, office, at(DAY, 10)).status_code == 201
    third = book(api, office, at(DAY, 11), email="ADA@example.org ")
    assert third.status_code == 409 and third.json()["code"] == "cap"
    assert book(api, office, at(DAY, 11), email="grace@example.org").status_code == 201
    assert len(bookings(world_a)) == 3


def test_the_daily_limit_per_email_is_429_and_a_taken_time_does_not_count(api, office, world_a):
    with scope(tenant=world_a.tenant):
        policy = BookingPolicy.for_tenant(world_a.tenant)
        policy.email_bookings_per_day = 2
        policy.save()
    for email in ("a@example.org", "b@example.org"):
        assert book(api, office, at(DAY, 9), email=email).status_code == 201
    assert book(api, office, at(DAY, 9)).status_code == 409  # no attempt on the limit
    assert book(api, office, at(DAY, 10)).status_code == 201
    assert book(api, office, at(DAY, 10, 10), email="ADA@example.org").status_code == 201
    limited = book(api, office, at(DAY, 11))
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert len(bookings(world_a)) == 4


def test_a_new_day_opens_at_the_release_time(api, office, world_a, clock):
    last = MONDAY + dt.timedelta(days=60)
    params = {"location": office.location.pk, "services": f"{office.certificate.pk}:1"}
    clock.move_to(at(MONDAY, 6, 59))
    days = [row["date"] for row in api.get(DAYS, params).json()["days"]]
    assert last.isoformat() not in days
    early = book(api, office, at(last, 8))
    assert early.status_code == 400 and "start" in early.json()
    clock.move_to(at(MONDAY, 7))
    days = [row["date"] for row in api.get(DAYS, params).json()["days"]]
    assert days[-1] == last.isoformat()
    assert book(api, office, at(last, 8)).status_code == 201


def test_an_expired_hold_cannot_be_confirmed(api, office, world_a, clock):
    code = book(api, office).json()["code"]
    clock.shift(dt.timedelta(minutes=11))
    late = api.post(f"{BOOKINGS}{code}/confirm/")
    assert late.status_code == 409 and late.json()["code"] == "expired"
    assert api.get(f"{BOOKINGS}{code}/").json()["status"] == "expired"
    moved = api.post(f"{BOOKINGS}{code}/reschedule/", {"start": at(DAY, 11).isoformat()})
    assert moved.status_code == 409 and moved.json()["code"] == "not_active"


def test_a_move_to_a_taken_or_unknown_time_keeps_the_appointment(api, office, world_a):
    code = book(api, office, channel="phone", email="").json()["code"]
    for email in ("a@example.org", "b@example.org"):
        book(api, office, at(DAY, 11), email=email)
    book(api, office, at(DAY, 11), email="", channel="phone")
    taken = api.post(f"{BOOKINGS}{code}/reschedule/", {"start": at(DAY, 11).isoformat()})
    assert taken.status_code == 409 and taken.json()["code"] == "taken"
    nowhere = api.post(f"{BOOKINGS}{code}/reschedule/", {"start": at(DAY, 17).isoformat()})
    assert nowhere.status_code == 400 and "start" in nowhere.json()
    assert api.post(f"{BOOKINGS}{code}/reschedule/", {}).status_code == 400
    shown = api.get(f"{BOOKINGS}{code}/").json()
    assert shown["status"] == "confirmed" and shown["start"] == at(DAY, 10).isoformat()


def test_without_token_401_and_without_the_scope_403(world_a, office, clock):
    _token, other_scopes = make_token(world_a, ["cases:read", "services:read"])
    code = "ACDEFGHJ"
    requests = [
        ("get", LOCATIONS),
        ("get", DAYS),
        ("get", TIMES),
        ("post", BOOKINGS),
        ("get", f"{BOOKINGS}{code}/"),
        ("post", f"{BOOKINGS}{code}/confirm/"),
        ("post", f"{BOOKINGS}{code}/cancel/"),
        ("post", f"{BOOKINGS}{code}/reschedule/"),
    ]
    for method, url in requests:
        assert getattr(Api(None), method)(url).status_code == 401, url
        denied = getattr(Api(other_scopes), method)(url)
        assert denied.status_code == 403, url
        assert "appointments" in denied.json()["detail"]
    assert bookings(world_a) == []


def test_another_municipality_never_sees_or_changes_a_booking(
    api, api_beta, office, office_b, world_a
):
    code = book(api, office).json()["code"]
    beta_locations = api_beta.get(LOCATIONS).json()["results"]
    assert [row["id"] for row in beta_locations] == [office_b.location.pk]
    for url in ("", "confirm/", "cancel/"):
        method = api_beta.get if not url else api_beta.post
        assert method(f"{BOOKINGS}{code}/{url}").status_code == 404
    moved = api_beta.post(f"{BOOKINGS}{code}/reschedule/", {"start": at(DAY, 11).isoformat()})
    assert moved.status_code == 404
    params = {"location": office.location.pk, "services": f"{office.certificate.pk}:1"}
    assert "location" in api_beta.get(DAYS, params).json()
    foreign_service = {**params, "location": office_b.location.pk}
    assert "services" in api_beta.get(DAYS, foreign_service).json()
    assert "location" in api_beta.post(BOOKINGS, booking_data(office)).json()
    with scope(tenant=world_a.tenant):
        booking = Booking.objects.get(code=code)
    assert booking.status == BookingStatus.HELD and booking.start == at(DAY, 10)


# --- no input causes a server error, also when it names a real office and booking -------

schema = schemathesis.openapi.from_path(OPENAPI).include(tag="appointments")
schema.app = get_wsgi_application()
_alternate = itertools.count()


@pytest.fixture
def keep_test_connection():
    """The raw WSGI handler closes the database connection after each request, which would
    end the test transaction; Django's own test client disconnects the same signals."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(world_a, world_b, office, clock):
    make_token(world_b)
    _token, plain = make_token(world_a, ["appointments"])
    code = book(Api(plain), office).json()["code"]
    return {"bearer": f"Bearer {plain}", "office": office, "code": code}


def _point_at_the_office(case, world) -> None:
    """Every other example names the real location, services, a free time and the booking."""
    if next(_alternate) % 2:
        return
    office = world["office"]
    if case.path_parameters and "code" in case.path_parameters:
        case.path_parameters["code"] = world["code"]
    if isinstance(case.query, dict) and "location" in case.query:
        case.query.update(location=office.location.pk, services=f"{office.passport.pk}:1")
    if isinstance(case.body, dict):
        if "location" in case.body:
            case.body["location"] = office.location.pk
        if "start" in case.body:
            case.body["start"] = at(DAY, 11).isoformat()
        if "services" in case.body:
            case.body["services"] = [{"service": office.passport.pk, "quantity": 1}]


@pytest.mark.django_db
@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_input_causes_a_server_error(case, fuzz_world, keep_test_connection):
    # keep_test_connection comes last: the test client in fuzz_world connects the signals again.
    _point_at_the_office(case, fuzz_world)
    case.call_and_validate(
        headers={"Authorization": fuzz_world["bearer"]}, checks=[not_a_server_error]
    )

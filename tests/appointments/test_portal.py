"""The citizen booking pages through HTTP: the wizard, the proof of work, rate limits, bad input,
nothing free, cancel and move by the e-mail links, and tenant isolation."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import altcha
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation
from django_scopes import scope, scopes_disabled

from rathaus.appointments import links, services
from rathaus.appointments.models import (
    AvailabilityRule,
    Booking,
    BookingPolicy,
    BookingStatus,
    Slot,
)
from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Location, ServiceStatus
from rathaus.core.models import Event

from .conftest import MONDAY, at

NOW = at(MONDAY, 9)
DAY = MONDAY + dt.timedelta(days=1)  # Tuesday, the first bookable day
WEDNESDAY = MONDAY + dt.timedelta(days=2)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def easy(office, world_a):
    """A low proof-of-work difficulty, so the tests solve challenges in a moment."""
    BookingPolicy.objects.update_or_create(
        tenant=world_a.tenant, defaults=dict(challenge_max_number=1000)
    )
    return office


def english(**defaults) -> Client:
    """Most tests read the English messages, so they do not depend on the catalogue's state."""
    return Client(headers={"accept-language": "en"}, **defaults)


def book_url(slug: str = "alpha") -> str:
    return reverse("appointments:book", kwargs={"tenant_slug": slug})


def solved(client: Client, slug: str = "alpha") -> str:
    """Fetch a challenge like the widget does and solve it in Python."""
    response = client.get(reverse("appointments:challenge", kwargs={"tenant_slug": slug}))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    data = response.json()
    challenge = altcha.ChallengeV1(
        data["algorithm"], data["challenge"], data["maxNumber"], data["salt"], data["signature"]
    )
    solution = altcha.solve_challenge_v1(challenge)
    assert solution is not None
    payload = {k: data[k] for k in ("algorithm", "challenge", "salt", "signature")}
    payload["number"] = solution.number
    return base64.b64encode(json.dumps(payload).encode()).decode()


def details_params(office, service=None, quantity=1, start=None) -> dict:
    service = service or office.certificate
    start = start or at(DAY, 10)
    return {
        "service": service.pk,
        f"qty_{service.pk}": quantity,
        "location": office.location.pk,
        "day": start.date().isoformat(),
        "time": start.strftime("%H:%M"),
    }


def submit(client, office, *, key="a" * 32, payload=None, email="ada@example.org", **kwargs):
    data = {
        **details_params(office, **kwargs),
        "name": "Ada Lovelace",
        "email": email,
        "phone": "",
        "consent": "on",
        "idempotency_key": key,
        "altcha": solved(client) if payload is None else payload,
    }
    return client.post(book_url(), data)


def bookings(tenant) -> list[Booking]:
    with scope(tenant=tenant):
        return list(Booking.objects.all())


def taken_slots(tenant) -> int:
    with scope(tenant=tenant):
        return Slot.objects.filter(booking__isnull=False).count()


def english_date(day: dt.date) -> str:
    """The date as the English pages write it ("Dec. 1, 2026")."""
    with translation.override("en"):
        return formats.date_format(day, "DATE_FORMAT")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_citizen_books_step_by_step_and_confirms_by_the_mail_link(
    easy, world_a, clock, smtp_server, django_capture_on_commit_callbacks
):
    office, client = easy, Client()  # German, the default
    first = client.get(book_url())
    assert first.status_code == 200
    page = text(first)
    for service in (office.passport, office.certificate, office.pickup):
        assert service.name in page
    # The passport may be booked for up to three people, so it has a quantity choice.
    assert f'name="qty_{office.passport.pk}"' in page
    assert f'name="qty_{office.certificate.pk}"' not in page

    chosen = f"?service={office.passport.pk}&qty_{office.passport.pk}=2"
    location_step = text(client.get(book_url() + chosen))
    assert "Bürgerbüro Mitte" in location_step and 'value="any"' in location_step
    assert "Personalausweis alpha (2×)" in location_step
    # "Earliest anywhere" leads straight to the times of the first free day.
    anywhere = client.get(book_url() + chosen + "&location=any")
    assert anywhere.status_code == 302
    assert (
        f"location={office.location.pk}" in anywhere.url
        and f"day={DAY.isoformat()}" in anywhere.url
    )

    day_step = text(client.get(book_url() + chosen + f"&location={office.location.pk}"))
    with translation.override("de"):
        weekday, date = formats.date_format(DAY, "l"), formats.date_format(DAY, "DATE_FORMAT")
        month = formats.date_format(DAY, "F Y")
    assert f"{weekday}, {date}" in day_step and month in day_step
    time_step = text(client.get(anywhere.url))
    # Two passports take 40 minutes: four slots of ten minutes, so the last start is 11:20.
    assert 'value="08:00"' in time_step and 'value="11:20"' in time_step
    assert 'value="11:30"' not in time_step
    details = client.get(anywhere.url + "&time=08:00")
    assert details.status_code == 200
    key = details.context["form"]["idempotency_key"].value()
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert "altcha-widget" in text(details)

    with django_capture_on_commit_callbacks(execute=True):
        held = submit(
            client, office, key=key, service=office.passport, quantity=2, start=at(DAY, 8)
        )
    assert held.status_code == 302
    page = client.get(held.url)
    (booking,) = bookings(world_a.tenant)
    assert booking.status == BookingStatus.HELD and booking.slot_count == 4
    assert booking.language == "de" and booking.channel == "online"
    assert "ada@example.org" in text(page)
    assert booking.code not in page.content.decode()  # the code comes with the confirmation

    (mail,) = smtp_server.messages
    body = mail.get_body(("plain",)).get_content()
    confirm_url = next(line for line in body.splitlines() if "/confirm/" in line).strip()
    # The link shows the time with one button; opening it (as mail scanners do) books nothing.
    with django_capture_on_commit_callbacks(execute=True):
        shown = client.get(confirm_url.split("8000", 1)[1])
    assert shown.status_code == 200 and "Ja, diesen Termin bestätigen" in text(shown)
    assert booking.code not in shown.content.decode()
    assert bookings(world_a.tenant)[0].status == BookingStatus.HELD
    assert len(smtp_server.messages) == 1
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(confirm_url.split("8000", 1)[1])
    assert confirmed.status_code == 200 and booking.code in confirmed.content.decode()
    assert bookings(world_a.tenant)[0].status == BookingStatus.CONFIRMED


def test_the_english_pages_are_in_english(easy, clock):
    client = english()
    page = text(client.get(book_url() + f"?service={easy.certificate.pk}"))
    assert "Where would you like to come?" in page
    assert "The earliest appointment at any location" in page


def test_a_double_submit_or_retry_books_once(easy, world_a, clock):
    client = english()
    payload = solved(client)
    first = submit(client, easy, payload=payload)
    again = submit(client, easy, payload=payload)
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert len(bookings(world_a.tenant)) == 1 and taken_slots(world_a.tenant) == 1
    # The same solved challenge for another submit is a replay.
    replay = submit(client, easy, payload=payload, key="b" * 32, start=at(DAY, 11))
    assert replay.status_code == 400 and "security check" in text(replay)
    assert len(bookings(world_a.tenant)) == 1


def _forged(payload: str, **change) -> str:
    data = json.loads(base64.b64decode(payload))
    data.update(change)
    return base64.b64encode(json.dumps(data).encode()).decode()


def test_a_missing_wrong_foreign_or_expired_challenge_books_nothing(
    easy, office_b, world_a, world_b, clock
):
    BookingPolicy.objects.update_or_create(
        tenant=world_b.tenant, defaults=dict(challenge_max_number=1000)
    )
    client = english()
    good = solved(client)
    wrong = [
        "",
        "not base64 at all!",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
        _forged(good, number=json.loads(base64.b64decode(good))["number"] + 1),
        _forged(good, algorithm="MD5"),
        solved(client, "beta"),  # solved, but for another municipality
    ]
    for n, payload in enumerate(wrong):
        refused = submit(client, easy, payload=payload, key=f"{n:032x}")
        assert refused.status_code == 400, payload
        assert "security check" in text(refused)
    clock.shift(dt.timedelta(minutes=11))
    expired = submit(client, easy, payload=good, key="c" * 32)
    assert expired.status_code == 400
    assert bookings(world_a.tenant) == [] and taken_slots(world_a.tenant) == 0


def test_rate_limits_per_address_and_per_e_mail(easy, world_a, clock):
    BookingPolicy.objects.update_or_create(
        tenant=world_a.tenant, defaults=dict(ip_bookings_per_hour=1, email_bookings_per_day=1)
    )
    client = english()
    assert submit(client, easy, key="1" * 32).status_code == 302
    # The same e-mail address again, from another address: refused for the day.
    other = english(REMOTE_ADDR="192.0.2.7")
    again = submit(other, easy, key="2" * 32, start=at(DAY, 11))
    assert again.status_code == 429 and "Too many booking attempts" in text(again)
    # The first address has used up its attempt in this hour, whatever the e-mail.
    blocked = submit(client, easy, key="3" * 32, email="bob@example.org", start=at(DAY, 11))
    assert blocked.status_code == 429
    assert len(bookings(world_a.tenant)) == 1 and taken_slots(world_a.tenant) == 1
    # An hour later the address may book again.
    clock.shift(dt.timedelta(minutes=61))
    later = submit(client, easy, key="4" * 32, email="bob@example.org", start=at(DAY, 11))
    assert later.status_code == 302 and len(bookings(world_a.tenant)) == 2


def test_bad_input_gets_a_clear_message_and_books_nothing(easy, world_a, clock):
    client = english()
    bad_mail = submit(client, easy, email="ada-at-example")
    assert bad_mail.status_code == 200 and "email" in bad_mail.context["form"].errors
    no_consent = client.post(
        book_url(),
        {**details_params(easy), "name": "Ada", "email": "ada@example.org", "altcha": ""},
    )
    assert "consent" in no_consent.context["form"].errors
    # Services that cannot be done in one appointment, and too many passports.
    pair = f"?service={easy.passport.pk}&service={easy.pickup.pk}"
    refused = text(client.get(book_url() + pair))
    assert "cannot be booked in one appointment" in refused
    assert "What do you need an appointment for?" in refused  # back at the first step
    assert "checked" in refused  # with the choice kept
    too_many = text(
        client.get(book_url() + f"?service={easy.passport.pk}&qty_{easy.passport.pk}=4")
    )
    assert "at most 3" in too_many
    posted = submit(client, easy, service=easy.passport, quantity=4)
    assert "at most 3" in text(posted)
    unknown = text(client.get(book_url() + "?service=999999"))
    assert "Please choose the services from the list." in unknown
    # A time that is not free (both online seats are taken) or not offered at all.
    with scope(tenant=world_a.tenant):
        for email in ("x@example.org", "y@example.org"):
            services.booking_hold(
                request=easy.request((easy.certificate, 1)),
                start=at(DAY, 10),
                name="X",
                email=email,
            )
    taken = submit(client, easy, key="d" * 32)
    assert taken.status_code == 200 and "no longer free" in text(taken)
    odd = submit(client, easy, key="e" * 32, start=at(DAY, 10, 5))
    assert "no longer free" in text(odd)
    beyond = submit(client, easy, key="f" * 32, start=at(MONDAY + dt.timedelta(days=80), 10))
    assert "There are no free times on this day any more" in text(beyond)
    assert len(bookings(world_a.tenant)) == 2  # only the two made above


def _second_location(world, office, *, online: int) -> Location:
    with scope(tenant=world.tenant):
        location = Location.objects.create(
            tenant=world.tenant, name="Bürgerbüro Nord", street="Hafen 2", city="Alpha"
        )
        services.service_offer(location=location, service=office.certificate)
        services.opening_hours_set(
            location=location,
            hours={1: [(dt.time(8), dt.time(12)), (dt.time(14), dt.time(18))]},
        )
        services.rule_save(
            rule=AvailabilityRule(
                location=location,
                weekdays=[0, 1, 2, 3, 4],
                starts=dt.time(8),
                ends=dt.time(12),
                online_quota=online,
                phone_quota=1,
            ),
            today=MONDAY,
        )
    return location


def test_nothing_free_shows_the_next_free_day_and_the_walk_in(easy, world_a, clock):
    north = _second_location(world_a, easy, online=0)  # bookable by phone only
    client = english()
    chosen = f"?service={easy.certificate.pk}&location={north.pk}"
    page = text(client.get(book_url() + chosen))
    assert "No appointment is free for these services at the moment." in page
    assert (
        f"The next free appointment is on Tuesday, {english_date(DAY)} at 08:00 at "
        "Bürgerbüro Mitte." in page
    )
    assert "Bürgerbüro Mitte" in page and f"location={easy.location.pk}" in page
    assert (
        "draw a ticket at the kiosk" in page
        and "Tuesday" in page
        and "08:00–12:00, 14:00–18:00" in page
    )

    # A service only the phone-only location offers: nothing free anywhere, so walk in.
    with scope(tenant=world_a.tenant):
        moving = catalog_services.service_create(
            tenant=world_a.tenant,
            name="Wohnsitz ummelden",
            status=ServiceStatus.PUBLISHED,
            bookable=True,
            duration_minutes=10,
        )
        services.service_offer(location=north, service=moving)
    nowhere = text(client.get(book_url() + f"?service={moving.pk}"))
    assert "No appointment is free for these services at the moment." in nowhere
    assert "New appointments are released every morning" in nowhere
    assert "Bürgerbüro Nord" in nowhere and "08:00–12:00, 14:00–18:00" in nowhere
    assert "Bürgerbüro Mitte" not in nowhere


def _confirmed(world, office, start=None) -> Booking:
    with scope(tenant=world.tenant):
        booking = services.booking_hold(
            request=office.request((office.certificate, 1)),
            start=start or at(DAY, 10),
            name="Ada Lovelace",
            email="ada@example.org",
        )
        return services.booking_confirm(booking=booking)


def _link(booking: Booking, purpose: str) -> str:
    with scope(tenant=booking.tenant):
        return links.url_for(booking, purpose).split("8000", 1)[1]


def test_the_confirm_link_shows_a_button_and_refuses_forged_links_and_ran_out_holds(
    easy, world_a, clock
):
    with scope(tenant=world_a.tenant):
        booking = services.booking_hold(
            request=easy.request((easy.certificate, 1)),
            start=at(DAY, 10),
            name="Ada Lovelace",
            email="ada@example.org",
        )
    client = english()
    url = _link(booking, "confirm")
    forged = client.get(url.rstrip("/") + "x/")
    assert forged.status_code == 410 and "This link no longer works" in text(forged)
    assert client.post(url.rstrip("/") + "x/").status_code == 410
    cancel_token = _link(booking, "cancel").split("/cancel/")[1]
    assert client.post(url.split("/confirm/")[0] + "/confirm/" + cancel_token).status_code == 410
    # Opening the link (a mail scanner does) shows one button and changes nothing.
    for _ in range(2):
        page = client.get(url)
        assert page.status_code == 200 and "Yes, confirm this appointment" in text(page)
        assert '<form method="post"' in text(page) and booking.code not in text(page)
    assert bookings(world_a.tenant)[0].status == BookingStatus.HELD
    clock.shift(dt.timedelta(minutes=11))  # the hold ran out before the citizen clicked
    late = client.get(url)
    assert late.status_code == 410
    assert "The appointment could not be confirmed" in text(late)
    assert "not confirmed in time" in text(late) and booking.code not in text(late)
    assert "Yes, confirm this appointment" not in text(late)
    # Still nothing changed by the GET; the worker (or the button) releases the hold.
    assert bookings(world_a.tenant)[0].status == BookingStatus.HELD
    assert taken_slots(world_a.tenant) == 1
    pressed = client.post(url)
    assert pressed.status_code == 410 and "not confirmed in time" in text(pressed)
    assert bookings(world_a.tenant)[0].status == BookingStatus.EXPIRED
    assert taken_slots(world_a.tenant) == 0
    assert "not confirmed in time" in text(client.get(url))


def test_the_confirm_button_confirms_once_and_the_link_then_shows_the_code(easy, world_a, clock):
    with scope(tenant=world_a.tenant):
        booking = services.booking_hold(
            request=easy.request((easy.certificate, 1)),
            start=at(DAY, 10),
            name="Ada Lovelace",
            email="ada@example.org",
        )
    client, url = english(), _link(booking, "confirm")
    assert client.get(url).status_code == 200
    assert bookings(world_a.tenant)[0].status == BookingStatus.HELD
    confirmed = client.post(url)
    assert confirmed.status_code == 200 and booking.code in text(confirmed)
    assert "Your appointment is confirmed" in text(confirmed)
    assert bookings(world_a.tenant)[0].status == BookingStatus.CONFIRMED
    # Opening the link again, or pressing again, shows the code; nothing changes twice.
    again = client.get(url)
    assert again.status_code == 200 and booking.code in text(again)
    assert "Yes, confirm this appointment" not in text(again)
    assert client.post(url).status_code == 200
    with scope(tenant=world_a.tenant):
        assert Event.objects.filter(activity="booking_confirmed").count() == 1
    # A cancelled appointment cannot be confirmed by its old link.
    with scope(tenant=world_a.tenant):
        services.booking_cancel(booking=bookings(world_a.tenant)[0])
    gone = client.get(url)
    assert gone.status_code == 410 and "cannot be confirmed any more" in text(gone)


def test_cancel_by_the_link(easy, world_a, clock):
    booking, client = _confirmed(world_a, easy), english()
    url = _link(booking, "cancel")
    page = client.get(url)
    assert page.status_code == 200 and "Yes, cancel this appointment" in text(page)
    # A link for another purpose, or a forged one, cancels nothing.
    assert client.post(url.replace("/cancel/", "/cancel/x")).status_code == 410
    confirm_token = _link(booking, "confirm").split("/confirm/")[1]
    gone = client.post(url.split("/cancel/")[0] + "/cancel/" + confirm_token)
    assert gone.status_code == 410 and "This link no longer works" in text(gone)
    assert bookings(world_a.tenant)[0].status == BookingStatus.CONFIRMED
    done = client.post(url)
    assert done.status_code == 200 and "Your appointment has been cancelled" in text(done)
    assert bookings(world_a.tenant)[0].status == BookingStatus.CANCELLED
    assert taken_slots(world_a.tenant) == 0
    again = client.post(url)
    assert again.status_code == 409 and "cannot be cancelled any more" in text(again)


def test_move_by_the_link(easy, world_a, clock):
    booking, client = _confirmed(world_a, easy), english()
    url = _link(booking, "move")
    days = text(client.get(url))
    assert "Choose a new day" in days and f"?day={WEDNESDAY.isoformat()}" in days
    times = text(client.get(url + f"?day={WEDNESDAY.isoformat()}"))
    assert 'value="09:00"' in times
    # A time that is not offered is refused and changes nothing.
    odd = client.post(url, {"day": WEDNESDAY.isoformat(), "time": "09:05"})
    assert odd.status_code == 409 and "no longer free" in text(odd)
    cancel_token = _link(booking, "cancel").split("/cancel/")[1]
    cross = client.post(
        url.split("/move/")[0] + "/move/" + cancel_token, {"day": WEDNESDAY.isoformat()}
    )
    assert cross.status_code == 410
    assert bookings(world_a.tenant)[0].start == at(DAY, 10)
    moved = client.post(url, {"day": WEDNESDAY.isoformat(), "time": "09:00"})
    assert moved.status_code == 200 and "Your appointment has been moved" in text(moved)
    (booking,) = bookings(world_a.tenant)
    assert booking.start == at(DAY + dt.timedelta(days=1), 9)
    assert taken_slots(world_a.tenant) == 1
    # The old link carried the old time; it no longer works.
    assert client.get(url).status_code == 410


def test_a_held_appointment_cannot_be_moved(easy, world_a, clock):
    with scope(tenant=world_a.tenant):
        booking = services.booking_hold(
            request=easy.request((easy.certificate, 1)),
            start=at(DAY, 10),
            name="Ada",
            email="ada@example.org",
        )
    page = english().get(_link(booking, "move"))
    assert page.status_code == 409 and "Only a confirmed appointment" in text(page)


def test_beta_never_shows_or_accepts_alphas_things(easy, office_b, world_a, world_b, clock):
    BookingPolicy.objects.update_or_create(
        tenant=world_b.tenant, defaults=dict(challenge_max_number=1000)
    )
    client = english()
    beta = text(client.get(book_url("beta")))
    assert "Personalausweis beta" in beta and "Personalausweis alpha" not in beta
    # Alpha's service and location ids mean nothing under beta's address.
    foreign_service = text(client.get(book_url("beta") + f"?service={easy.passport.pk}"))
    assert "Please choose the services from the list." in foreign_service
    foreign_location = text(
        client.get(
            book_url("beta") + f"?service={office_b.certificate.pk}&location={easy.location.pk}"
        )
    )
    assert "Please choose a location from the list." in foreign_location
    assert f'value="{office_b.location.pk}"' in foreign_location

    booking = _confirmed(world_a, easy)
    for purpose in ("confirm", "cancel", "move"):
        foreign = _link(booking, purpose).replace("/book/alpha/", "/book/beta/")
        assert client.get(foreign).status_code == 410, purpose
    with scopes_disabled():
        assert Booking.objects.get().status == BookingStatus.CONFIRMED

    # Alpha's held page and idempotency key mean nothing at beta either.
    held = submit(client, easy, key="9" * 32, start=at(DAY, 11))
    assert client.get(held.url.replace("/book/alpha/", "/book/beta/")).status_code == 410
    at_beta = client.post(
        book_url("beta"),
        {
            **details_params(office_b),
            "name": "Eve",
            "email": "eve@example.org",
            "consent": "on",
            "idempotency_key": "9" * 32,
            "altcha": solved(client),  # alpha's challenge
        },
    )
    assert at_beta.status_code == 400
    assert bookings(world_b.tenant) == []
    assert client.get("/book/nowhere/").status_code == 404

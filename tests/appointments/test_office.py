"""The citizen office through HTTP: kiosk, check-in, counter screen, call display, phone
booking and day plan, with the signed device links, the roles and tenant isolation."""

from __future__ import annotations

import datetime as dt
import io
import math
import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from rathaus.appointments import services
from rathaus.appointments.models import Booking, BookingStatus, DeviceKey, Ticket, TicketStatus
from rathaus.appointments.office_views import device_token, device_url
from rathaus.catalog.models import Location
from rathaus.core.models import Event

from .conftest import MONDAY, at
from .helpers import book, frozen_clock

MORNING = at(MONDAY, 9, 0)
MM = 72 / 25.4  # PDF points per millimetre


clock = frozen_clock(MORNING)  # Monday morning at the office


def url(office, purpose: str) -> str:
    with scope(tenant=office.location.tenant):
        return device_url(office.location, purpose)


def draw(kiosk: Client, office, service) -> Ticket:
    response = kiosk.post(url(office, "kiosk") + "ticket/", {"service": service.pk})
    assert response.status_code == 302
    with scopes_disabled():
        return Ticket.objects.latest("pk")


def staff_at(world, office, role: str = "office_staff", counter: int = 0) -> Client:
    client = world.client(role)
    chosen = client.post(
        reverse("appointments:counter_choose"), {"counter": office.counters[counter].pk}
    )
    assert chosen.status_code == 302
    return client


def act(client: Client, ticket: Ticket, action: str, **data) -> None:
    response = client.post(reverse("appointments:ticket_action", args=[ticket.pk, action]), data)
    assert response.status_code == 302


def status_of(ticket: Ticket) -> Ticket:
    with scopes_disabled():
        return Ticket.objects.select_related("counter").get(pk=ticket.pk)


def test_kiosk_draws_numbers_per_ticket_class_with_expected_wait(world_a, office, clock):
    kiosk = Client()
    page = kiosk.get(url(office, "kiosk"))
    assert page.status_code == 200
    text = page.content.decode()
    # Services appear under the ticket class they draw.
    assert text.index("Schnelle Anliegen") < text.index("Meldebescheinigung")
    assert "Abholung Ausweisdokument" in text and "Alle anderen Anliegen" in text

    first = draw(kiosk, office, office.certificate)
    second = draw(kiosk, office, office.certificate)
    other = draw(kiosk, office, office.passport)
    pickup = draw(kiosk, office, office.pickup)
    assert [first.label, second.label, other.label, pickup.label] == [
        "S001",
        "S002",
        "H001",
        "A001",
    ]
    assert first.expected_wait_seconds == 0 and second.expected_wait_seconds > 0

    shown = kiosk.get(url(office, "kiosk") + f"ticket/{second.pk}/").content.decode()
    assert 'id="ticket-number">S002<' in shown
    wait = re.search(r'id="ticket-wait">(.*?)</p>', shown, re.S).group(1)
    assert str(math.ceil(second.expected_wait_seconds / 60)) in wait


def test_ticket_pdf_is_a_receipt_80mm_wide_with_the_number(world_a, office, clock):
    kiosk = Client()
    ticket = draw(kiosk, office, office.certificate)
    response = kiosk.get(url(office, "kiosk") + f"ticket/{ticket.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    assert abs(float(pdf.pages[0].mediabox.width) - 80 * MM) < 0.1
    text = pdf.pages[0].extract_text()
    assert "S001" in text and "Stadt Alpha" in text and "Meldebescheinigung" in text
    assert "09:00" in text


def test_a_kiosk_without_a_choice_or_with_a_foreign_service_issues_nothing(
    world_a, world_b, office, office_b, clock
):
    kiosk = Client()
    assert kiosk.post(url(office, "kiosk") + "ticket/", {}).status_code == 302
    kiosk.post(url(office, "kiosk") + "ticket/", {"service": office_b.certificate.pk})
    with scopes_disabled():
        assert not Ticket.objects.exists()


def test_check_in_by_booking_code_gives_a_t_ticket(world_a, office, clock):
    booking = book(office, at(MONDAY, 9, 10))
    kiosk = Client()
    wrong = kiosk.post(url(office, "kiosk") + "check-in/", {"code": "ACDEFGHJ"})
    assert wrong.status_code == 400
    assert "We could not find a confirmed appointment" in wrong.content.decode() or (
        "keinen bestätigten Termin" in wrong.content.decode()
    )
    done = kiosk.post(
        url(office, "kiosk") + "check-in/", {"code": f" {booking.code.lower()} "}, follow=True
    )
    assert 'id="ticket-number">T001<' in done.content.decode()
    with scopes_disabled():
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CHECKED_IN and booking.ticket.label == "T001"


def test_check_in_on_another_day_tells_the_day(world_a, office, clock):
    booking = book(office, at(MONDAY, 9, 10))
    clock.move_to(at(MONDAY - dt.timedelta(days=1), 7))
    response = Client().post(url(office, "kiosk") + "check-in/", {"code": booking.code})
    assert response.status_code == 400 and f"{MONDAY:%d.%m.%Y}" in response.content.decode()


def test_full_counter_cycle(world_a, office, clock):
    kiosk = Client()
    first = draw(kiosk, office, office.certificate)
    clock.shift(60)
    second = draw(kiosk, office, office.certificate)
    clock.shift(60)
    third = draw(kiosk, office, office.passport)
    clock.shift(60)
    staff = staff_at(world_a, office)
    screen = staff.get(reverse("appointments:counter")).content.decode()
    assert "S001" in screen and "H001" in screen and "call-rule" in screen

    # Call next, start, finish with the services actually done.
    called = staff.post(reverse("appointments:counter_next"), follow=True).content.decode()
    assert 'id="current-ticket">S001<' in called
    assert status_of(first).status == TicketStatus.CALLED
    assert status_of(first).counter == office.counters[0]
    act(staff, first, "start")
    assert status_of(first).status == TicketStatus.SERVING
    act(staff, first, "finish", services=[office.certificate.pk, office.passport.pk])
    done = status_of(first)
    assert done.status == TicketStatus.DONE
    with scopes_disabled():
        assert set(done.services_done.all()) == {office.certificate, office.passport}

    # Park and call again.
    staff.post(reverse("appointments:counter_next"))
    assert status_of(second).status == TicketStatus.CALLED
    act(staff, second, "park")
    parked = staff.get(reverse("appointments:counter")).content.decode()
    assert re.search(r'id="parked-table".*S002', parked, re.S)
    # A parked citizen may be called to another counter; the display shows that counter.
    elsewhere = staff_at(world_a, office, "team_lead", counter=2)
    act(elsewhere, second, "recall")
    assert status_of(second).status == TicketStatus.CALLED and status_of(second).calls == 2
    assert status_of(second).counter == office.counters[2]
    act(elsewhere, second, "no_show")
    assert status_of(second).status == TicketStatus.NO_SHOW

    # Transfer to counter 2: counter 1 cannot call it any more, counter 2 can.
    staff.post(reverse("appointments:counter_next"))
    act(staff, third, "transfer", counter=office.counters[1].pk)
    assert status_of(third).status == TicketStatus.WAITING
    assert status_of(third).counter == office.counters[1]
    staff.post(reverse("appointments:counter_next"))
    assert status_of(third).status == TicketStatus.WAITING
    other = staff_at(world_a, office, "team_lead", counter=1)
    other.post(reverse("appointments:counter_next"))
    assert status_of(third).status == TicketStatus.CALLED
    assert status_of(third).counter == office.counters[1]

    # The day plan lists what each counter served.
    plan = staff.get(
        reverse("appointments:day_plan"),
        {"location": office.location.pk, "day": MONDAY.isoformat()},
    ).content.decode()
    assert "S001" in plan and "Platz 1" in plan
    with scopes_disabled():
        activities = list(
            Event.objects.filter(subject_kind="ticket", subject_id=first.pk)
            .values_list("activity", flat=True)
            .order_by("pk")
        )
    assert activities == ["ticket_issued", "ticket_called", "service_started", "service_finished"]


def test_transfer_to_other_services_and_finish_needs_a_service(world_a, office, clock):
    draw(Client(), office, office.passport)
    staff = staff_at(world_a, office)
    staff.post(reverse("appointments:counter_next"))
    with scopes_disabled():
        ticket = Ticket.objects.get()
    act(staff, ticket, "start")
    refused = staff.post(
        reverse("appointments:ticket_action", args=[ticket.pk, "finish"]), follow=True
    )
    assert status_of(ticket).status == TicketStatus.SERVING
    assert refused.status_code == 200
    act(staff, ticket, "transfer", services=[office.pickup.pk])
    moved = status_of(ticket)
    assert moved.status == TicketStatus.WAITING and moved.counter is None
    with scopes_disabled():
        assert list(moved.services.all()) == [office.pickup]


def test_htmx_gets_the_screen_partial_and_forms_work_without_it(world_a, office, clock):
    draw(Client(), office, office.certificate)
    staff = staff_at(world_a, office)
    partial = staff.post(reverse("appointments:counter_next"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    text = partial.content.decode()
    assert text.startswith('<div id="counter-screen"') and 'id="current-ticket">S001<' in text
    assert "<html" not in text
    queue = staff.get(reverse("appointments:counter"), {"part": "queue"}, HTTP_HX_REQUEST="true")
    assert queue.status_code == 200 and "queue-table" in queue.content.decode()
    # The page names the keys for the main buttons.
    page = staff.get(reverse("appointments:counter")).content.decode()
    for key in ('accesskey="b"', 'accesskey="r"', 'accesskey="p"', 'accesskey="n"'):
        assert key in page


def test_two_counters_never_get_the_same_ticket(world_a, office, clock):
    kiosk = Client()
    draw(kiosk, office, office.certificate)
    draw(kiosk, office, office.certificate)
    one = staff_at(world_a, office, "office_staff", counter=0)
    two = staff_at(world_a, office, "team_lead", counter=1)
    one.post(reverse("appointments:counter_next"))
    two.post(reverse("appointments:counter_next"))
    one.post(reverse("appointments:counter_next"))  # nothing left: the open one stays
    with scopes_disabled():
        tickets = list(Ticket.objects.order_by("number"))
    assert {t.status for t in tickets} == {TicketStatus.CALLED}
    assert {t.counter_id for t in tickets} == {office.counters[0].pk, office.counters[1].pk}


def test_display_shows_the_latest_call_and_answers_204_while_unchanged(world_a, office, clock):
    kiosk = Client()
    draw(kiosk, office, office.certificate)
    clock.shift(60)
    draw(kiosk, office, office.pickup)
    screen = Client()
    calls = url(office, "display") + "calls/"
    empty = screen.get(calls)
    assert empty.status_code == 200 and "display-number" not in empty.content.decode()
    key = re.search(r'data-key="(\w+)"', empty.content.decode()).group(1)
    assert screen.get(calls, {"since": key}).status_code == 204

    staff_at(world_a, office, counter=1).post(reverse("appointments:counter_next"))
    clock.shift(30)
    staff_at(world_a, office, "team_lead", counter=2).post(reverse("appointments:counter_next"))
    latest = screen.get(calls, {"since": key}).content.decode()
    current = re.search(r'id="display-current".*?</p>', latest, re.S).group(0)
    assert "A001" in current and "Platz 3" in current
    assert "S001" in latest.split("display-earlier")[1]
    full = screen.get(url(office, "display"))
    assert full.status_code == 200 and "A001" in full.content.decode()
    assert 'hx-trigger="every 1s"' in full.content.decode()


def test_device_links_open_only_their_location_and_purpose(
    world_a, world_b, office, office_b, clock
):
    with scope(tenant=world_a.tenant):
        other = Location.objects.create(tenant=world_a.tenant, name="Bürgerbüro Nord")
    kiosk, display = url(office, "kiosk"), url(office, "display")
    token = kiosk.rstrip("/").rsplit("/", 1)[1]
    anonymous = Client()
    assert anonymous.get(kiosk).status_code == 200 and anonymous.get(display).status_code == 200
    # Location A's kiosk token does not open location B, nor the display, nor another tenant.
    assert anonymous.get(f"/office/kiosk/{other.pk}/{token}/").status_code == 404
    assert anonymous.get(f"/office/display/{office.location.pk}/{token}/").status_code == 404
    assert anonymous.get(f"/office/kiosk/{office_b.location.pk}/{token}/").status_code == 404
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert anonymous.get(f"/office/kiosk/{office.location.pk}/{forged}/").status_code == 404
    assert anonymous.get(f"/office/kiosk/{office.location.pk}/nonsense/").status_code == 404
    post = anonymous.post(
        f"/office/kiosk/{other.pk}/{token}/ticket/", {"service": office.certificate.pk}
    )
    assert post.status_code == 404
    with scopes_disabled():
        assert not Ticket.objects.exists()


def test_renewed_device_links_revoke_the_old_ones(world_a, office, clock):
    kiosk = url(office, "kiosk")
    assert Client().get(kiosk).status_code == 200
    staff = world_a.client("office_staff")
    renew = reverse("appointments:device_links_renew", args=[office.location.pk])
    assert world_a.client("kc_agent").post(renew).status_code == 403
    assert staff.post(renew).status_code == 302
    assert Client().get(kiosk).status_code == 404
    assert Client().get(url(office, "kiosk")).status_code == 200


def test_a_kiosk_only_reads_and_links_before_the_first_key_are_refused(world_a, office, clock):
    guessed = reverse(
        "appointments:kiosk",
        kwargs={"pk": office.location.pk, "token": device_token(office.location, "kiosk", "")},
    )
    assert Client().get(guessed).status_code == 404  # no key made yet: no link is valid
    with scopes_disabled():
        assert not DeviceKey.objects.exists()
    kiosk = url(office, "kiosk")  # staff ask for the links: the key is made, once
    with CaptureQueriesContext(connection) as captured:
        assert Client().get(kiosk).status_code == 200
    writes = [q["sql"] for q in captured if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    url(office, "display")
    with scopes_disabled():
        assert DeviceKey.objects.count() == 1
        made = Event.objects.filter(activity="device_links_created")
        assert [e.subject_id for e in made] == [str(office.location.pk)]


def test_staff_pages_need_an_office_role(world_a, office):
    booking = book(office, at(MONDAY, 9, 10))
    pages = [
        reverse("appointments:office"),
        reverse("appointments:office_location", args=[office.location.pk]),
        reverse("appointments:counter"),
        reverse("appointments:phone_booking"),
        reverse("appointments:day_plan"),
    ]
    agent = world_a.client("kc_agent")
    for page in pages:
        assert agent.get(page).status_code == 403, page
        assert Client().get(page).status_code == 302, page
    assert agent.post(reverse("appointments:counter_next")).status_code == 403
    cancel = reverse("appointments:office_booking_cancel", args=[booking.pk])
    assert agent.post(cancel).status_code == 403
    for role in ("office_staff", "team_lead", "tenant_admin"):
        client = world_a.client(role)
        for page in pages:
            assert client.get(page).status_code == 200, (role, page)
    home = world_a.client("office_staff").get(reverse("core:home")).content.decode()
    assert reverse("appointments:office") in home
    assert reverse("appointments:office") not in agent.get(reverse("core:home")).content.decode()


def test_location_page_gives_the_device_links(world_a, office, clock):
    # The clock stands still: a link's signature holds the second it was made in.
    page = world_a.client("office_staff").get(
        reverse("appointments:office_location", args=[office.location.pk])
    )
    text = page.content.decode()
    assert url(office, "kiosk") in text and url(office, "display") in text


def test_phone_booking_is_confirmed_at_once_and_the_day_plan_can_cancel_it(world_a, office, clock):
    staff = world_a.client("office_staff")
    page = reverse("appointments:phone_booking")
    step1 = staff.get(page, {"location": office.location.pk})
    assert "Meldebescheinigung" in step1.content.decode()
    query = {
        "location": office.location.pk,
        "services": [office.passport.pk, office.certificate.pk],
        f"qty_{office.passport.pk}": 2,
    }
    step2 = staff.get(page, query)
    days = step2.context["days"]
    # The phone channel respects the rule's window: from tomorrow on.
    assert days and days[0][0] == MONDAY + dt.timedelta(days=1)
    tuesday = days[0][0]
    step3 = staff.get(page, {**query, "day": tuesday.isoformat()})
    form = step3.context["form"]
    start = list(form.starts)[0]
    posted = staff.post(
        f"{page}?location={office.location.pk}&services={office.passport.pk}"
        f"&services={office.certificate.pk}&qty_{office.passport.pk}=2&day={tuesday}",
        {
            "start": start,
            "name": "Max Anrufer",
            "phone": "0221 12345",
            "email": "",
            "idempotency_key": "k1",
        },
    )
    assert posted.status_code == 302 and posted.url.startswith(reverse("appointments:day_plan"))
    with scopes_disabled():
        booking = Booking.objects.get()
        items = {i.service_id: i.quantity for i in booking.items.all()}
    assert booking.status == BookingStatus.CONFIRMED and booking.channel == "phone"
    assert booking.created_by == world_a.users["office_staff"]
    # 2 × 20 min + 10 min = 50 minutes → five 10-minute slots.
    assert booking.slot_count == 5 and items == {office.passport.pk: 2, office.certificate.pk: 1}

    plan = staff.get(posted.url).content.decode()
    assert booking.code in plan and "Max Anrufer" in plan
    staff.post(reverse("appointments:office_booking_cancel", args=[booking.pk]))
    with scopes_disabled():
        booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    after = staff.get(posted.url).content.decode()
    assert booking.code not in after.split('id="plan-table"')[1]


def test_phone_booking_refuses_what_cannot_be_combined(world_a, office, clock):
    staff = world_a.client("office_staff")
    response = staff.get(
        reverse("appointments:phone_booking"),
        {"location": office.location.pk, "services": [office.pickup.pk, office.certificate.pk]},
    )
    assert response.context.get("days") is None
    assert response.context["wanted"].non_field_errors()


def test_beta_staff_cannot_see_or_touch_alpha(world_a, world_b, office, office_b, clock):
    booking = book(office, at(MONDAY, 9, 10))
    ticket = draw(Client(), office, office.certificate)
    beta = staff_at(world_b, office_b)
    assert (
        beta.get(reverse("appointments:office_location", args=[office.location.pk])).status_code
        == 404
    )
    assert (
        beta.post(reverse("appointments:office_booking_cancel", args=[booking.pk])).status_code
        == 404
    )
    assert (
        beta.post(reverse("appointments:ticket_action", args=[ticket.pk, "start"])).status_code
        == 404
    )
    assert (
        beta.post(
            reverse("appointments:counter_choose"), {"counter": office.counters[0].pk}
        ).status_code
        == 400
    )
    # Beta's counter never calls alpha's walk-in; beta's lists never show alpha's rows.
    beta.post(reverse("appointments:counter_next"))
    assert status_of(ticket).status == TicketStatus.WAITING
    home = beta.get(reverse("appointments:office")).content.decode()
    assert f"/office/location/{office.location.pk}/" not in home
    plan = beta.get(
        reverse("appointments:day_plan"),
        {"location": office.location.pk, "day": MONDAY.isoformat()},
    ).content.decode()
    assert booking.code not in plan
    phone = beta.get(
        reverse("appointments:phone_booking"),
        {"location": office.location.pk, "services": [office.certificate.pk]},
    )
    assert phone.context.get("days") is None and phone.context["wanted"].errors
    counter = beta.get(reverse("appointments:counter")).content.decode()
    assert "S001" not in counter
    # Alpha's booking code does not check in at beta's kiosk.
    refused = Client().post(url(office_b, "kiosk") + "check-in/", {"code": booking.code})
    assert refused.status_code == 400
    with scopes_disabled():
        booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def _queries(client: Client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params or {}).status_code == 200
    return len(captured)


def test_counter_screen_display_and_day_plan_cost_the_same_for_more_rows(world_a, office, clock):
    kiosk = Client()
    staff = staff_at(world_a, office)
    other = staff_at(world_a, office, "team_lead", counter=1)
    plan = (reverse("appointments:day_plan"), {"location": office.location.pk, "day": MONDAY})
    display = url(office, "display") + "calls/"

    def cycle() -> None:
        draw(kiosk, office, office.certificate)
        draw(kiosk, office, office.passport)
        clock.shift(60)
        staff.post(reverse("appointments:counter_next"))
        other.post(reverse("appointments:counter_next"))  # stays called: rows on the display
        with scopes_disabled():
            ticket = Ticket.objects.get(status=TicketStatus.CALLED, counter=office.counters[0])
        act(staff, ticket, "start")
        act(staff, ticket, "finish", services=[office.certificate.pk])
        book(office, at(MONDAY, 10, 0) + dt.timedelta(minutes=10 * Booking.objects.count()))

    with scopes_disabled():
        cycle()
        few = [
            _queries(staff, reverse("appointments:counter")),
            _queries(Client(), display),
            _queries(staff, *plan),
        ]
        for _round in range(4):
            cycle()
        many = [
            _queries(staff, reverse("appointments:counter")),
            _queries(Client(), display),
            _queries(staff, *plan),
        ]
    assert few == many
    with scopes_disabled():
        assert Ticket.objects.filter(status=TicketStatus.CALLED).count() == 5


def test_a_booking_page_shows_the_appointment_and_everything_that_happened_to_it(
    world_a, world_b, office, office_b, clock, django_capture_on_commit_callbacks
):
    booking = book(
        office,
        at(MONDAY + dt.timedelta(days=1), 10),
        channel="phone",
        phone="0221 4711",
        actor=world_a.users["office_staff"],
    )
    staff = world_a.client("office_staff")
    search = reverse("appointments:office_booking_search")
    staff.post(reverse("appointments:office_booking_cancel", args=[booking.pk]))
    # The citizen reads the code out on the phone, in lower case.
    found = staff.get(reverse("appointments:office_booking_search"), {"q": booking.code.lower()})
    page = reverse("appointments:office_booking", args=[booking.pk])
    assert found.status_code == 302 and found.url == page
    text = staff.get(page).content.decode()
    facts = text.split('id="booking-facts"')[1].split("</dl>")[0]
    assert "Erika Muster" in facts and "0221 4711" in facts and "Meldebescheinigung" in facts
    history = text.split('id="booking-history"')[1]
    # In the staff's words (the labels of the event vocabulary), in the order it happened.
    assert history.index("Bestätigt") < history.index("Storniert")
    assert history.count(world_a.users["office_staff"].get_username()) == 2  # who did it
    unknown = staff.get(reverse("appointments:office_booking_search"), {"q": "ZZZZZZZZ"})
    assert unknown.status_code == 200 and list(unknown.context["page"]) == []
    plan = staff.get(
        reverse("appointments:day_plan"),
        {"location": office.location.pk, "day": (MONDAY + dt.timedelta(days=1)).isoformat()},
    )
    assert page not in plan.content.decode()  # cancelled: not in the plan any more
    # Another municipality finds neither the code nor the page; other roles get nothing.
    beta = world_b.client("office_staff")
    assert beta.get(page).status_code == 404
    missed = beta.get(reverse("appointments:office_booking_search"), {"q": booking.code})
    assert missed.status_code == 200 and list(missed.context["page"]) == []
    for lost in ("erika", "0221-4711"):  # the citizen lost the mail: name or number
        assert list(beta.get(search, {"q": lost}).context["page"]) == []
    assert world_a.client("kc_agent").get(page).status_code == 403
    assert world_a.client("kc_agent").get(search, {"q": "Erika"}).status_code == 403
    assert Client().get(page).status_code == 302


def test_staff_find_appointments_by_name_address_or_phone(world_a, office, clock):
    day = MONDAY + dt.timedelta(days=1)
    people = [
        ("Erika Mustermann", "erika@example.org", "0221 / 47 11-0", 9),
        ("Max Mustermann", "max@example.org", "", 10),
        ("Ada Lovelace", "ada@example.org", "+49 30 1234567", 11),
    ]
    found = {
        name: book(office, at(day, hour), name=name, email=email, phone=phone)
        for name, email, phone, hour in people
    }
    with scope(tenant=world_a.tenant):
        services.bookings_erase(tenant=world_a.tenant, now=at(day, 12) + dt.timedelta(days=31))
    late = book(
        office,
        at(day + dt.timedelta(days=1), 9),
        name="Erika Mustermann",
        email="erika@example.org",
    )
    staff = world_a.client("office_staff")
    search = reverse("appointments:office_booking_search")

    def codes(text: str) -> list[str]:
        response = staff.get(search, {"q": text})
        assert response.status_code == 200
        return [b.code for b in response.context["page"]]

    assert codes("mustermann") == [late.code]  # the others are erased
    assert codes("ERIKA@example.org") == [late.code]
    fresh = book(
        office,
        at(day + dt.timedelta(days=2), 9),
        name="Erika Mustermann",
        email="erika.m@example.org",
        phone="+49 30 1234567",
    )
    assert codes("Mustermann") == [fresh.code, late.code]  # the newest appointment first
    # The number as said on the phone, with or without the area code's 0 or +49.
    assert codes("030 123 45 67") == codes("1234567") == codes("+49301234567") == [fresh.code]
    assert codes("Mustermann Erika") == []  # the name's parts in another order do not match
    assert found["Ada Lovelace"].code not in codes("Lovelace")
    short = staff.get(search, {"q": "ab"})
    assert short.context["form"].errors["q"] and "page" not in short.context


def test_the_day_plan_downloads_as_csv_for_its_own_municipality_only(
    world_a, world_b, office, office_b, clock
):
    booking = book(office, at(MONDAY, 9, 10))
    params = {"location": office.location.pk, "day": MONDAY.isoformat()}
    staff = world_a.client("office_staff")
    page = staff.get(reverse("appointments:day_plan"), params).content.decode()
    assert 'id="plan-csv"' in page and "format=csv" in page
    answer = staff.get(reverse("appointments:day_plan"), {**params, "format": "csv"})
    assert answer["Content-Type"].startswith("text/csv")
    rows = answer.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Uhrzeit;Ende;Buchungscode;Name")
    assert rows[1].split(";")[:4] == ["09:10", "09:20", booking.code, "Erika Muster"]
    assert "Meldebescheinigung" in rows[1] and len(rows) == 2
    beta = world_b.client("office_staff").get(
        reverse("appointments:day_plan"), {**params, "format": "csv"}
    )
    assert booking.code not in beta.content.decode("utf-8-sig", errors="replace")

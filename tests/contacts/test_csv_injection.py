"""The cases' CSV writes a citizen's subject as text, never as a spreadsheet formula."""

import csv
import io

from django.urls import reverse
from django_scopes import scope

from rathaus.contacts import services

EVIL = "=cmd|' /C calc'!A0"


def test_a_case_subject_that_is_a_formula_reaches_the_inbox_csv_as_text(world_a):
    with scope(tenant=world_a.tenant):
        case = services.case_create(
            tenant=world_a.tenant,
            channel="phone",
            actor=world_a.users["kc_agent"],
            service=world_a.service,
            subject=EVIL,
            citizen={"email": "erika@example.org"},
        )
    answer = world_a.client("clerk").get(reverse("contacts:inbox"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    (row,) = [row for row in rows if row[0] == case.reference]
    assert row[1] == "'" + EVIL

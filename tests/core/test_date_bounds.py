"""Every date people type has a range around today, with one message (core.forms.WithinYears)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats, timezone, translation
from django_scopes import scope

from rathaus.appointments.figures_views import FiguresForm
from rathaus.appointments.office_forms import PhoneRequestForm, PlanForm
from rathaus.appointments.portal_forms import Choice, MoveForm, _day_and_time
from rathaus.appointments.setup_forms import ClosureForm, RuleForm
from rathaus.catalog.forms import ArticleForm, ServiceForm
from rathaus.catalog.models import Location
from rathaus.contacts.forms import ContactFinishForm
from rathaus.core.forms import WithinYears


def message(past: int, future: int) -> str:
    first, last = WithinYears(past=past, future=future).bounds()
    first_text = formats.date_format(first, "SHORT_DATE_FORMAT")
    last_text = formats.date_format(last, "SHORT_DATE_FORMAT")
    return f"Enter a date between {first_text} and {last_text}."


def forms_with_dates():
    """(form factory, date fields, years back, years ahead) of every form with a date."""
    locations = Location.objects.all()
    return [
        (lambda data: ContactFinishForm(data), ["callback_due"], 0, 1),
        (lambda data: ArticleForm(data), ["review_by"], 10, 10),
        (lambda data: ServiceForm(data), ["valid_from", "valid_to"], 50, 50),
        (lambda data: ClosureForm(data), ["date"], 1, 5),
        (lambda data: RuleForm(data), ["valid_from", "valid_to"], 10, 10),
        (lambda data: PlanForm(data, locations=locations), ["day"], 5, 2),
        (lambda data: FiguresForm(data, locations=locations), ["first", "last"], 10, 1),
        (lambda data: MoveForm(data), ["day"], 0, 2),
    ]


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31"])
def test_every_date_field_refuses_year_1_and_9999_with_the_same_message(world_a, typed):
    with scope(tenant=world_a.tenant), translation.override("en"):
        for make, fields, past, future in forms_with_dates():
            data = {name: typed for name in fields}
            if "callback_due" in fields:
                data = {"callback_due": typed + "T12:00"}
            form = make(data)
            assert not form.is_valid()
            for name in fields:
                assert form.errors[name] == [message(past, future)], (type(form), name)


def test_every_date_field_takes_today_and_the_edges_of_its_range(world_a):
    today = timezone.localdate()
    with scope(tenant=world_a.tenant), translation.override("en"):
        for make, fields, past, future in forms_with_dates():
            first, last = WithinYears(past=past, future=future).bounds()
            for day in (first, today, last):
                typed = day.isoformat() + ("T12:00" if "callback_due" in fields else "")
                form = make({name: typed for name in fields})
                form.is_valid()
                for name in fields:
                    assert name not in form.errors, (type(form), name, day)
            # One day outside on either side is refused.
            for day in (first - dt.timedelta(days=1), last + dt.timedelta(days=1)):
                typed = day.isoformat() + ("T12:00" if "callback_due" in fields else "")
                form = make({name: typed for name in fields})
                assert not form.is_valid()
                assert all(name in form.errors for name in fields), (type(form), day)


def test_the_date_inputs_offer_the_range_to_the_date_picker(world_a):
    today = timezone.localdate()
    with scope(tenant=world_a.tenant):
        html = str(ArticleForm()["review_by"])
        callback = str(ContactFinishForm()["callback_due"])
    assert f'min="{today.replace(year=today.year - 10):%Y-%m-%d}"' in html or today.month == 2
    assert f'min="{today:%Y-%m-%d}T00:00"' in callback


def test_the_phone_booking_forgets_a_day_outside_the_booking_range(world_a):
    with scope(tenant=world_a.tenant):
        for typed in ("0001-01-01", "9999-12-31"):
            form = PhoneRequestForm({"day": typed}, locations=Location.objects.all())
            form.is_valid()
            assert form.cleaned_data["day"] is None
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        form = PhoneRequestForm({"day": tomorrow.isoformat()}, locations=Location.objects.all())
        form.is_valid()
        assert form.cleaned_data["day"] == tomorrow


def test_the_figures_page_explains_a_year_1_filter(world_a):
    page = world_a.client("controller").get(
        reverse("appointments:figures"),
        {"first": "0001-01-01", "last": timezone.localdate().isoformat()},
        headers={"accept-language": "en"},
    )
    assert page.status_code == 200 and message(10, 1) in page.content.decode()


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31"])
def test_the_booking_wizard_asks_again_for_a_day_outside_the_booking_range(typed):
    choice = Choice()
    with translation.override("en"):
        _day_and_time(QueryDict(f"day={typed}&time=10:00"), choice)
    assert choice.day is None and choice.errors == {"day": "Please choose a day from the list."}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    choice = Choice()
    _day_and_time(QueryDict(f"day={tomorrow.isoformat()}"), choice)
    assert choice.day == tomorrow and not choice.errors

"""The citizen's choices in the booking wizard, carried from step to step in the URL.

Each step is a plain GET form (no JavaScript needed) that repeats the earlier choices as hidden
fields; only the last step, which books, is a POST. `Choice` reads and writes those parameters
and never trusts them: every id is looked up inside the tenant's scope.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.catalog.models import Location, Service
from rathaus.catalog.selectors import published_services
from rathaus.core.http import id_param

from .models import MAX_QUANTITY
from .rules import BOOKABLE_DAYS, BookingRequest
from .selectors import bookable_locations, bookable_offers

STEPS = ("services", "location", "day", "time", "details")
MAX_SERVICES = 10  # more in one appointment is not a citizen but a bot or a mistake
INPUT = "kern-form-input__input"


@dataclass(frozen=True)
class ServiceOption:
    service: Service
    limit: int  # the highest quantity any location allows; the location checks its own
    duration: int


def service_options(query: str = "") -> list[ServiceOption]:
    """Published bookable services offered at a location with booking rules, by name."""
    offered = bookable_offers().select_related("service").order_by("service__name")
    if query:
        offered = offered.filter(
            Q(service__name__icontains=query) | Q(service__keywords__icontains=query)
        )
    options: dict[int, ServiceOption] = {}
    for row in offered:
        known = options.get(row.service_id)
        if known is None or row.quantity_limit > known.limit:
            options[row.service_id] = ServiceOption(row.service, row.quantity_limit, row.duration)
    return sorted(options.values(), key=lambda o: o.service.name)


@dataclass
class Choice:
    """What the citizen has chosen so far; `errors` says what could not be read, by step."""

    items: tuple[tuple[Service, int], ...] = ()
    location: Location | None = None
    anywhere: bool = False
    day: dt.date | None = None
    time: dt.time | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> dt.datetime | None:
        if self.day is None or self.time is None:
            return None
        return dt.datetime.combine(self.day, self.time, tzinfo=timezone.get_current_timezone())

    def request(self) -> BookingRequest:
        assert self.location is not None
        return BookingRequest(location=self.location, items=self.items)

    def params(self, upto: str) -> list[tuple[str, str]]:
        """The parameters of the steps before `upto`, as hidden fields or a query string."""
        stop = STEPS.index(upto)
        pairs: list[tuple[str, str]] = []
        if stop > 0:
            for service, quantity in self.items:
                pairs += [("service", str(service.pk)), (f"qty_{service.pk}", str(quantity))]
        if stop > 1 and (self.location or self.anywhere):
            pairs.append(("location", str(self.location.pk) if self.location else "any"))
        if stop > 2 and self.day:
            pairs.append(("day", self.day.isoformat()))
        if stop > 3 and self.time:
            pairs.append(("time", self.time.strftime("%H:%M")))
        return pairs

    def query(self, upto: str, **extra: str) -> str:
        return "?" + urlencode(self.params(upto) + list(extra.items()))


def _int(value: str | None) -> int | None:
    return id_param(value)


def _items(data: QueryDict, choice: Choice) -> None:
    values = data.getlist("service")[:MAX_SERVICES]
    ids = [pk for pk in (_int(v) for v in values) if pk is not None]
    if len(ids) != len(values):
        choice.errors["services"] = _("Please choose the services from the list.")
        return
    found = {s.pk: s for s in published_services().filter(bookable=True, pk__in=ids)}
    if len(found) != len(set(ids)):
        choice.errors["services"] = _("Please choose the services from the list.")
        return
    items = []
    for pk in dict.fromkeys(ids):  # keeps the order, drops repeats
        quantity = _int(data.get(f"qty_{pk}", "1"))
        if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
            choice.errors["services"] = _("Please choose a quantity from the list.")
            return
        items.append((found[pk], quantity))
    choice.items = tuple(items)


def _location(data: QueryDict, choice: Choice) -> None:
    value = data.get("location", "")
    if value == "any":
        choice.anywhere = True
    elif value:
        pk = _int(value)
        choice.location = bookable_locations().filter(pk=pk).first() if pk else None
        if choice.location is None:
            choice.errors["location"] = _("Please choose a location from the list.")


def _day_and_time(data: QueryDict, choice: Choice) -> None:
    day = data.get("day", "")
    if day:
        try:
            picked = dt.date.fromisoformat(day)
        except ValueError:
            picked = None
        if picked is None or not BOOKABLE_DAYS.allows(picked):
            choice.errors["day"] = _("Please choose a day from the list.")
            return
        choice.day = picked
    value = data.get("time", "")
    if value:
        if not re.fullmatch(r"\d\d:\d\d", value):
            choice.errors["time"] = _("Please choose a time from the list.")
            return
        try:
            choice.time = dt.time.fromisoformat(value)
        except ValueError:
            choice.errors["time"] = _("Please choose a time from the list.")


def choice_from(data: QueryDict) -> Choice:
    """Read the wizard's parameters; a step whose input is bad is left empty with an error."""
    choice = Choice()
    _items(data, choice)
    if choice.items:
        _location(data, choice)
    if choice.location is not None:
        _day_and_time(data, choice)
    return choice


class DetailsForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("First and last name"), max_length=200)
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        max_length=254,
        help_text=gettext_lazy("We send you a link to confirm the appointment."),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Only used if we have to reach you at short notice."),
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree that the city uses my details to arrange this appointment and to write "
            "to me about it."
        ),
        error_messages={"required": gettext_lazy("Please agree so that we can book for you.")},
    )
    idempotency_key = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("The form was incomplete. Please reload the page."),
            "invalid": gettext_lazy("The form was incomplete. Please reload the page."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "email", "phone"):
            self.fields[name].widget.attrs["class"] = INPUT
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update(autocomplete="tel", type="tel")
        self.fields["consent"].widget.attrs["class"] = "kern-form-check__checkbox"

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("Please enter your name."))
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[0-9 +()/\-]{5,50}", phone):
            raise forms.ValidationError(_("Please enter a phone number with digits only."))
        return phone


class MoveForm(forms.Form):
    """The new time of a moved appointment: a day and one of its free times."""

    day = forms.DateField(validators=[BOOKABLE_DAYS])
    time = forms.TimeField(input_formats=["%H:%M"])

    def start(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["day"],
            self.cleaned_data["time"],
            tzinfo=timezone.get_current_timezone(),
        )

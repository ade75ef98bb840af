"""Forms of the citizen office: counter choice, check-in, finish, transfer, phone booking.

Querysets are set per request, inside the tenant's scope, so a form never offers another
municipality's counters or services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from rathaus.catalog.models import Location, Service
from rathaus.core.forms import RowsField, limit_dates, model_choice_field
from rathaus.core.http import id_param

from .models import Counter, OfferedService
from .rules import BOOKABLE_DAYS

INPUT = "kern-form-input__input"


def _set_queryset(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    model_choice_field(form, name).queryset = queryset


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        if not isinstance(field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            field.widget.attrs.setdefault("class", INPUT)


class CounterLabelField(SafeModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.location.name} – {obj.name}"


class CounterChoiceForm(forms.Form):
    counter = CounterLabelField(label=_("My counter"), queryset=Counter.objects.none())

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(
            self,
            "counter",
            Counter.objects.filter(active=True, location__in=locations).select_related("location"),
        )
        _style(self)


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=12,
        help_text=_("You find it in your confirmation e-mail, e.g. AC4D7FHK."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class BookingSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Booking code, name, e-mail address or phone number"),
        min_length=3,
        max_length=100,
        help_text=_(
            "The code the citizen reads out (e.g. AC4D7FHK) opens the appointment; a name, an "
            "address or a number lists the appointments that match, newest first."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())


class FinishForm(forms.Form):
    services = RowsField(
        label=_("Services done"),
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Please record at least one service done.")},
    )

    def __init__(self, *args: Any, choices: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "services", choices)


class TransferForm(forms.Form):
    counter = SafeModelChoiceField(
        label=_("To counter"), queryset=Counter.objects.none(), required=False
    )
    services = RowsField(
        label=_("Or to these services"),
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        counters: QuerySet[Counter],
        choices: QuerySet[Service],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "counter", counters)
        _set_queryset(self, "services", choices)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("counter") and not data.get("services"):
            raise forms.ValidationError(_("Choose a counter or a service to transfer to."))
        return data


class PlanForm(forms.Form):
    location = SafeModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "location", locations)
        limit_dates(self, past=5, future=2, fields=["day"])
        _style(self)


class MailFilterForm(forms.Form):
    location = SafeModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False
    )

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = model_choice_field(self, "location")
        field.queryset = locations
        field.empty_label = _("All locations")
        _style(self)


class MailResendForm(forms.Form):
    """The address to send to again (the page writes one small form per row itself)."""

    email = forms.EmailField(label=_("E-mail address"), max_length=254)


class PhoneRequestForm(forms.Form):
    """What the caller wants: location, services and how many of each (read from the query)."""

    location = SafeModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    services = RowsField(
        label=_("Services"),
        queryset=Service.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    day = forms.DateField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "location", locations)
        self.offered: list[OfferedService] = []
        location = self._chosen_location(locations)
        if location is not None:
            self.offered = list(
                OfferedService.objects.filter(location=location).select_related("service")
            )
            _set_queryset(
                self,
                "services",
                Service.objects.filter(pk__in=[o.service_id for o in self.offered]),
            )
            for offered in self.offered:
                self.fields[f"qty_{offered.service_id}"] = forms.IntegerField(
                    label=_("Quantity"),
                    min_value=1,
                    max_value=offered.quantity_limit,
                    initial=1,
                    required=False,
                )
        _style(self)

    def clean_day(self) -> dt.date | None:
        """The day picked from the list of free days; one outside the booking range (an
        edited address) is no choice, and the free days show again."""
        day = self.cleaned_data.get("day")
        return day if day is not None and BOOKABLE_DAYS.allows(day) else None

    def _chosen_location(self, locations: QuerySet[Location]) -> Location | None:
        pk = id_param(self.data.get("location"))
        return locations.filter(pk=pk).first() if pk is not None else None

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        """Each service checkbox with its quantity field, for the template."""
        boxes = {str(box.data["value"]): box for box in self["services"]}
        return [
            (boxes[str(o.service_id)], self[f"qty_{o.service_id}"])
            for o in self.offered
            if str(o.service_id) in boxes
        ]

    def items(self) -> tuple[tuple[Service, int], ...]:
        data = self.cleaned_data
        return tuple(
            (service, data.get(f"qty_{service.pk}") or 1) for service in data.get("services", [])
        )


class PhoneBookingForm(forms.Form):
    start = forms.ChoiceField(label=_("Time"), widget=forms.RadioSelect)
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("The citizen gets the confirmation with the booking code by e-mail."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, starts: list[dt.datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.starts = {start.isoformat(): start for start in starts}
        field = self.fields["start"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (key, timezone.localtime(start).strftime("%H:%M")) for key, start in self.starts.items()
        ]
        _style(self)

    def start_time(self) -> dt.datetime:
        return self.starts[self.cleaned_data["start"]]

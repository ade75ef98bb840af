"""Forms of the location set-up pages (capacity) and the tenant's booking rules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from rathaus.catalog.models import Location, Service
from rathaus.core.forms import limit_dates, model_choice_field
from rathaus.core.models import OrgUnit

from .models import AvailabilityRule, BookingPolicy

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
SPAN = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})\s*$")


class LocationForm(forms.ModelForm):
    """A location's name, unit and address. `units` are those the person may give it (their
    own and the ones below); a team lead must give one, or they could not work there
    themselves. Tenant administrators may leave it empty (see `permissions`)."""

    class Meta:
        model = Location
        fields = ["name", "org_unit", "street", "postcode", "city", "phone", "email",
                  "accessibility"]  # fmt: skip
        field_classes = {"org_unit": SafeModelChoiceField}
        widgets = {"accessibility": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self, *args: Any, units: QuerySet[OrgUnit], unit_required: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = model_choice_field(self, "org_unit")
        field.queryset = units
        field.required = unit_required
        field.help_text = _(
            "Its staff and team leads, and those of the units above it, work at this location."
        )


class HoursForm(forms.Form):
    """One text field per weekday: '08:00-12:00, 14:00-18:00'; empty means closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, label in WEEKDAYS:
            self.fields[f"day{number}"] = forms.CharField(
                label=label,
                required=False,
                max_length=100,
                help_text=_("e.g. 08:00-12:00, 14:00-18:00; empty = closed") if number == 0 else "",
            )

    def _spans(self, text: str) -> list[tuple[dt.time, dt.time]]:
        spans = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = SPAN.match(part)
            if not match:
                raise forms.ValidationError(
                    _("Write times as 08:00-12:00, several separated by commas.")
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                opens, closes = dt.time(h1, m1), dt.time(h2, m2)
            except ValueError as exc:
                raise forms.ValidationError(
                    _("%(text)s is not a time of day.") % {"text": part}
                ) from exc
            if closes <= opens:
                raise forms.ValidationError(_("The closing time must be after the opening time."))
            spans.append((opens, closes))
        return spans

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        hours = {}
        for number, _label in WEEKDAYS:
            try:
                hours[number] = self._spans(cleaned.get(f"day{number}", ""))
            except forms.ValidationError as error:
                self.add_error(f"day{number}", error)
        cleaned["hours"] = hours
        return cleaned


class ClosureForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Closures are planned ahead; one just past may still be entered for the record.
        limit_dates(self, past=1, future=5, fields=["date"])


class OfferForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    duration_minutes = forms.IntegerField(
        label=_("Duration here (minutes)"),
        min_value=1,
        max_value=480,
        required=False,
        help_text=_("Empty: the service's own duration."),
    )
    max_quantity = forms.IntegerField(
        label=_("Maximum quantity here"), min_value=1, max_value=20, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "service").queryset = Service.objects.filter(
            bookable=True
        ).order_by("name")


class CounterForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=50, help_text=_("Shown on the call display, e.g. 'Platz 3'.")
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services served"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_("None chosen: the counter serves everything offered here."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "services").queryset = Service.objects.filter(
            offered_at__location=location
        )


class RuleForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = AvailabilityRule
        fields = [
            "weekdays",
            "starts",
            "ends",
            "slot_minutes",
            "online_quota",
            "phone_quota",
            "internal_quota",
            "min_days_ahead",
            "max_days_ahead",
            "release_time",
            "valid_from",
            "valid_to",
        ]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}),
            "ends": forms.TimeInput(attrs={"type": "time"}),
            "release_time": forms.TimeInput(attrs={"type": "time"}),
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_to": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_dates(self, past=10, future=10, fields=["valid_from", "valid_to"])

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        total = sum(
            cleaned.get(f, 0) or 0 for f in ("online_quota", "phone_quota", "internal_quota")
        )
        if total == 0:
            raise forms.ValidationError(_("At least one counter must be bookable."))
        return cleaned


class PolicyForm(forms.ModelForm):
    class Meta:
        model = BookingPolicy
        fields = [
            "hold_minutes",
            "max_active_per_email",
            "cancel_return_minutes",
            "ip_bookings_per_hour",
            "email_bookings_per_day",
            "challenge_max_number",
            "walk_in_max_wait_minutes",
            "check_in_early_minutes",
            "no_show_after_minutes",
            "erase_after_days",
        ]

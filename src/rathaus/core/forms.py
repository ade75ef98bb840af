import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelMultipleChoiceField

from rathaus.core.http import id_param
from rathaus.core.models import AccessAction


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@deconstructible
class WithinYears:
    """Refuses a date, or the day of a datetime, outside `past` years before and `future`
    years after today (the municipality's today, taken when the value is checked).

    People type dates; a slip such as year 1 or 9999 must not reach the database: year 1 in
    local time is before year 1 in UTC, which PostgreSQL stores as BC and psycopg cannot read
    back. Every form uses this one validator so that every date has the same message.
    """

    def __init__(self, past: int, future: int) -> None:
        self.past, self.future = past, future

    def bounds(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        today = today or timezone.localdate()
        return _years_from(today, -self.past), _years_from(today, self.future)

    def allows(self, value: dt.date | dt.datetime) -> bool:
        # A datetime from a form field is in the current time zone already; its own date()
        # needs no conversion, which could overflow at year 1.
        day = value.date() if isinstance(value, dt.datetime) else value
        first, last = self.bounds()
        return first <= day <= last

    def __call__(self, value: dt.date | dt.datetime) -> None:
        if not self.allows(value):
            first, last = self.bounds()
            raise ValidationError(
                _("Enter a date between %(first)s and %(last)s."),
                code="out_of_range",
                params={
                    "first": formats.date_format(first, "SHORT_DATE_FORMAT"),
                    "last": formats.date_format(last, "SHORT_DATE_FORMAT"),
                },
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WithinYears) and (self.past, self.future) == (
            other.past,
            other.future,
        )


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's field `name`, which is a model choice field, to set its queryset per request."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


def limit_dates(form: forms.BaseForm, *, past: int, future: int, fields: list[str]) -> None:
    """Give date and datetime fields of a form a range around today: the validator, and
    `min`/`max` on the input so that the browser's date picker offers the same range.
    Called in the form's __init__, so the range follows the day the form is shown."""
    validator = WithinYears(past=past, future=future)
    first, last = validator.bounds()
    for name in fields:
        field = form.fields[name]
        field.validators.append(validator)
        if isinstance(field.widget, forms.HiddenInput):
            continue
        if isinstance(field, forms.DateTimeField):
            field.widget.attrs.update(
                {"min": f"{first:%Y-%m-%d}T00:00", "max": f"{last:%Y-%m-%d}T23:59"}
            )
        else:
            field.widget.attrs.update({"min": f"{first:%Y-%m-%d}", "max": f"{last:%Y-%m-%d}"})


class AccessLogFilter(forms.Form):
    """Filters of the access log: what (a booking, a case …), which one, by whom, how."""

    subject_kind = forms.ChoiceField(label=_("What"), required=False)
    subject_id = forms.CharField(
        label=_("Which (number or reference)"), max_length=64, required=False
    )
    user = forms.CharField(label=_("User or API token"), max_length=150, required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All"))] + list(AccessAction.choices),
    )

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        subject_kind = self.fields["subject_kind"]
        assert isinstance(subject_kind, forms.ChoiceField)
        subject_kind.choices = [("", _("All"))] + [(k, k) for k in kinds]
        for field in self.fields.values():
            field.widget.attrs["class"] = "kern-form-input__input"


class RowsField(SafeModelMultipleChoiceField):
    """A choice of several rows by id that refuses an id no database integer can hold, with
    the field's usual message, before it reaches the query (SQLite raises on such a number
    instead of finding nothing)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if id_param(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)

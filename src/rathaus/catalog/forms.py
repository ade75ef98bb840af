from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from rathaus.catalog.models import Article, Service
from rathaus.core.forms import RowsField, limit_dates, model_choice_field
from rathaus.core.models import OrgUnit

INPUT = {"class": "kern-form-input__input"}
TEXTAREA = {"class": "kern-form-input__input", "rows": 3}


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "name", "leika_key", "keywords", "org_unit", "summary", "audience", "requirements", "documents",
            "fees", "processing_time", "legal_basis", "online_url", "kc_can_answer", "handover_days",
            "bookable", "duration_minutes", "max_quantity", "combinable", "valid_from", "valid_to",
        ]  # fmt: skip
        # Scoped managers refuse queries at import time; the real querysets are set per request below.
        field_classes = {
            "org_unit": SafeModelChoiceField,
            "combinable": RowsField,
        }
        widgets = {
            "valid_from": forms.DateInput(attrs={**INPUT, "type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={**INPUT, "type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Querysets are evaluated inside the request's tenant scope, so only own units/services appear.
        model_choice_field(self, "org_unit").queryset = OrgUnit.objects.order_by("path")
        combinable = Service.objects.order_by("name")
        if self.instance.pk:
            combinable = combinable.exclude(pk=self.instance.pk)
        model_choice_field(self, "combinable").queryset = combinable
        self.fields["combinable"].required = False
        limit_dates(self, past=50, future=50, fields=["valid_from", "valid_to"])
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "kern-form-check__input")
            elif isinstance(widget, forms.Textarea):
                widget.attrs.update(TEXTAREA)
            elif not isinstance(widget, forms.SelectMultiple) or name != "combinable":
                widget.attrs.setdefault("class", INPUT["class"])
        self.fields["combinable"].widget.attrs.update(
            {"class": "kern-form-input__select", "size": 6}
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("bookable") and not data.get("duration_minutes"):
            self.add_error(
                "duration_minutes", _("A bookable service needs an appointment duration.")
            )
        return data


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["question", "answer", "keywords", "services", "review_by"]
        field_classes = {"services": RowsField}
        widgets = {"review_by": forms.DateInput(attrs={**INPUT, "type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "services").queryset = Service.objects.order_by("name")
        self.fields["services"].required = False
        limit_dates(self, past=10, future=10, fields=["review_by"])
        self.fields["question"].widget.attrs.update(INPUT)
        self.fields["answer"].widget.attrs.update({**TEXTAREA, "rows": 8})
        self.fields["keywords"].widget.attrs.update(TEXTAREA)
        self.fields["services"].widget.attrs.update({"class": "kern-form-input__select", "size": 8})

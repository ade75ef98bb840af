from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import AccessAction


class LoginForm(AuthenticationForm):
    """The standard login form; axes needs the request, which AuthenticationForm passes on."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "class": "kern-form-input__input"}
        )
        self.fields["password"].widget.attrs.update(
            {"autocomplete": "current-password", "class": "kern-form-input__input"}
        )


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
        self.fields["subject_kind"].choices = [("", _("All"))] + [(k, k) for k in kinds]
        for field in self.fields.values():
            field.widget.attrs["class"] = "kern-form-input__input"

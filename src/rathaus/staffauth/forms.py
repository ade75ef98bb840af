from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rathaus.staffauth import selectors


class StaffLoginForm(AuthenticationForm):
    """The password login (axes needs the request, which AuthenticationForm passes on),
    refused for a person whose municipality allows only its own provider."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "class": "kern-form-input__input"}
        )
        self.fields["password"].widget.attrs.update(
            {"autocomplete": "current-password", "class": "kern-form-input__input"}
        )

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        tenant = selectors.tenant_refusing_passwords(user)
        if tenant is not None:
            raise ValidationError(
                _(
                    "%(tenant)s signs its staff in through its own login only. "
                    "Please use the button “Sign in with …” below."
                ),
                code="password_login_disabled",
                params={"tenant": tenant.name},
            )


class CodeForm(forms.Form):
    """A code at sign-in (the app's or a recovery code) or when setting up the app."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "class": "kern-form-input__input",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(
        self,
        *args: Any,
        label: str | None = None,
        help_text: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.label = label or field.label
        field.help_text = help_text or field.help_text


def add_error(form: forms.Form, error: ValidationError) -> None:
    form.add_error("code", error)

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rathaus.core.forms import LoginForm
from rathaus.staffauth import selectors


class StaffLoginForm(LoginForm):
    """The password login, refused for a person whose municipality allows only its provider."""

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
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "class": "kern-form-input__input",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        help_text=_("The 6-digit code the app shows after you added Rathaus."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "kern-form-input__input",
            }
        ),
    )


def add_error(form: forms.Form, error: ValidationError) -> None:
    form.add_error("code", error)

"""The tenant admin's form for the municipality's sign-in: second factor for all, password
login, the OpenID Connect provider and the mapping of its groups to roles and org units."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import OrgUnit, Role

MAX_MAPPING_LINES = 200


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoginSettingsForm(forms.Form):
    second_factor_for_all = forms.BooleanField(
        label=_("require a second factor for all staff"),
        required=False,
        help_text=_("Tenant administrators, team leads and controllers always need one."),
    )
    password_login = forms.BooleanField(
        label=_("allow sign-in with user name and password"),
        required=False,
        help_text=_("Switch off only when staff sign in through the provider below."),
    )
    sso_enabled = forms.BooleanField(label=_("single sign-on switched on"), required=False)
    name = forms.CharField(
        label=_("provider name"),
        max_length=60,
        required=False,
        help_text=_("Shown as “Sign in with …”."),
    )
    issuer = forms.URLField(
        label=_("issuer"),
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text=_("The provider's address; its configuration is read from there."),
    )
    client_id = forms.CharField(label=_("client id"), max_length=200, required=False)
    client_secret = forms.CharField(
        label=_("client secret"),
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted. Leave empty to keep the stored secret."),
    )
    mappings = forms.CharField(
        label=_("groups and roles"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One line per group: group = role @ org unit code, for example "
            "“rathaus-admins = tenant_admin @ verwaltung”. Roles: %(roles)s."
        )
        % {"roles": ", ".join(Role.values)},
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret
        for name, field in self.fields.items():
            if not isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "kern-form-input__input"
            else:
                field.widget.attrs["class"] = "kern-form-check__input"
            del name

    def clean_issuer(self) -> str:
        issuer = str(self.cleaned_data.get("issuer") or "").rstrip("/")
        if issuer:
            parts = urlsplit(issuer)
            if parts.scheme != "https" and not _loopback(parts.hostname or ""):
                raise ValidationError(_("The issuer must be an https address."))
            if parts.query or parts.fragment:
                raise ValidationError(_("The issuer has no query and no fragment."))
        return issuer

    def clean_mappings(self) -> list[tuple[str, str, OrgUnit]]:
        text = str(self.cleaned_data.get("mappings") or "")
        lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) > MAX_MAPPING_LINES:
            raise ValidationError(
                _("At most %(count)d lines."), params={"count": MAX_MAPPING_LINES}
            )
        units = {u.code: u for u in OrgUnit.objects.all()}
        mapped, errors = [], []
        for n, line in lines:
            group, _sep, rest = line.partition("=")
            role, _at, code = rest.partition("@")
            group, role, code = group.strip(), role.strip(), code.strip()
            if not (group and role and code) or len(group) > 200:
                errors.append(_("Line %(n)d: write group = role @ org unit code.") % {"n": n})
            elif role not in Role.values:
                errors.append(
                    _("Line %(n)d: there is no role “%(role)s”.") % {"n": n, "role": role}
                )
            elif code not in units:
                errors.append(
                    _("Line %(n)d: there is no org unit with the code “%(code)s”.")
                    % {"n": n, "code": code}
                )
            else:
                mapped.append((group, role, units[code]))
        if errors:
            raise ValidationError(errors)
        return mapped

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        provider_fields = ("name", "issuer", "client_id")
        if data.get("sso_enabled"):
            for name in provider_fields:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed for single sign-on."))
            if not data.get("client_secret") and not self.has_secret:
                self.add_error("client_secret", _("Needed for single sign-on."))
        if not data.get("password_login") and not data.get("sso_enabled"):
            self.add_error(
                "password_login",
                _("Keep password login while single sign-on is off: nobody could sign in."),
            )
        return data

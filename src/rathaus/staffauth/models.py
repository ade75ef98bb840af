"""How a municipality's staff sign in: its login policy (second factor for everyone, password
login allowed) and its OpenID Connect provider with the mapping of the provider's groups to
roles and org units. The second-factor devices themselves are django-otp's rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.core.crypto import EncryptedTextField
from rathaus.core.models import OrgUnit, Role, TenantOwned


class LoginPolicy(TenantOwned):
    """One per tenant; a tenant without a row has the defaults."""

    second_factor_for_all = models.BooleanField(
        _("require a second factor for all staff"),
        default=False,
        help_text=_("Tenant administrators, team leads and controllers always need one."),
    )
    password_login = models.BooleanField(
        _("allow sign-in with user name and password"),
        default=True,
        help_text=_("Switch off only when staff sign in through the provider below."),
    )

    class Meta:
        verbose_name = _("login policy")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="loginpolicy_per_tenant")]

    def __str__(self) -> str:
        return str(self.tenant)


class OidcProvider(TenantOwned):
    """The tenant's single sign-on provider (OpenID Connect, discovered from the issuer)."""

    name = models.CharField(
        _("provider name"), max_length=60, help_text=_("Shown as “Sign in with …”.")
    )
    issuer = models.URLField(_("issuer"), max_length=300)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = EncryptedTextField(_("client secret"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("OpenID Connect provider")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="oidcprovider_per_tenant")]

    def __str__(self) -> str:
        return self.name


class GroupMapping(TenantOwned):
    """Members of `group` at the provider get `role` in `org_unit`."""

    provider = models.ForeignKey(OidcProvider, on_delete=models.CASCADE, related_name="mappings")
    group = models.CharField(_("group at the provider"), max_length=200)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, verbose_name=_("org unit"))

    class Meta:
        ordering = ["group", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "group", "role", "org_unit"], name="groupmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.role} @ {self.org_unit}"


class OidcIdentity(TenantOwned):
    """Which local user a provider's subject is. Never matched by user name or e-mail: an
    account at one municipality's provider can only ever become its own local user."""

    provider = models.ForeignKey(OidcProvider, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="oidcidentity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.subject}"

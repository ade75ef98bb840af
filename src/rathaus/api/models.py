"""API tokens: one per integration (telephony, web form...), scoped to a tenant and to actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import OrgUnit, TenantOwned


class ApiScope(models.TextChoices):
    SERVICES_READ = "services:read", _("Read services and search the catalogue")
    CONTACTS_READ = "contacts:read", _("Read contacts")
    CONTACTS_WRITE = "contacts:write", _("Record contacts")
    CASES_READ = "cases:read", _("Read cases")
    CASES_WRITE = "cases:write", _("Create and change cases")
    CALLS_WRITE = "calls:write", _("Deliver call records")
    APPOINTMENTS = (
        "appointments",
        _("Read free times and book, confirm, cancel and move appointments"),
    )


class ApiToken(TenantOwned):
    """A bearer token. Only the first characters (shown in lists) and a SHA-256 hash are kept;
    the full token is shown once when it is created."""

    name = models.CharField(_("name"), max_length=100)
    # Globally unique: the token is looked up by its prefix before the tenant is known.
    prefix = models.CharField(_("token prefix"), max_length=8, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("acting unit"),
        help_text=_("The unit the API acts for, e.g. the KC for a telephony integration."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, needed: str) -> bool:
        return needed in (self.scopes or [])

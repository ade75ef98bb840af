"""Reads of the staff login. They run before a tenant scope matters (a person may belong to
several municipalities, and the second factor is one per person), hence scopes_disabled and
the database wall lifted (`core.wall.all_tenants`), with the person as filter."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from rathaus.core.models import Membership, Role, Tenant
from rathaus.core.wall import all_tenants
from rathaus.staffauth.models import OidcProvider

# Roles that read citizens' data in bulk: tenant admins (everything, the access log), team
# leads and controllers (every unit below theirs, with the case export). They always need a
# second factor (docs/decisions.md).
SECOND_FACTOR_ROLES = (Role.TENANT_ADMIN, Role.TEAM_LEAD, Role.CONTROLLER)


def second_factor_required(user: User) -> bool:
    """True when one of the person's roles, or one of their municipalities, asks for it."""
    with scopes_disabled(), all_tenants():
        return (
            Membership.objects.filter(user=user)
            .filter(
                Q(role__in=SECOND_FACTOR_ROLES) | Q(tenant__loginpolicy__second_factor_for_all=True)
            )
            .exists()
        )


def totp_device_of(user: User) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def tenant_refusing_passwords(user: User) -> Tenant | None:
    """A municipality of the person that allows sign-in only through its provider."""
    with scopes_disabled(), all_tenants():
        return Tenant.objects.filter(
            membership__user=user, loginpolicy__password_login=False
        ).first()


def providers_for_login() -> list[OidcProvider]:
    """The enabled providers, one per municipality that has one, for the login page."""
    with scopes_disabled(), all_tenants():
        return list(
            OidcProvider.objects.filter(enabled=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )

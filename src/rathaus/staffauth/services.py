"""Writes of the staff login: setting up the authenticator app, recovery codes, checking a
code at sign-in, the login policy. Events about a person go to each of their municipalities
(`staffauth.events`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import ThrottlingMixin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from rathaus.core.events import Activity, Json, event_append
from rathaus.core.models import Membership, OrgUnit, Tenant
from rathaus.core.services import membership_grant
from rathaus.core.tenancy import tenant_context
from rathaus.core.wall import all_tenants
from rathaus.staffauth import events, selectors
from rathaus.staffauth.models import GroupMapping, LoginPolicy, OidcIdentity, OidcProvider

RECOVERY_CODE_COUNT = 10
CODE_DIGITS = 6


def _append_for_person(user: User, activity: Activity, payload: dict[str, Json]) -> None:
    with scopes_disabled(), all_tenants():
        tenants = list(Tenant.objects.filter(membership__user=user).distinct())
    for tenant in tenants:  # each municipality's rows under its own wall
        with tenant_context(tenant):
            event_append(
                tenant=tenant, activity=activity, subject=user, actor=user, payload=payload
            )


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: a new secret, not yet confirmed by a code. Not an
    event (nothing is in force until `totp_enrol` confirms it); one statement, no transaction."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def _refuse_unless_allowed(device: ThrottlingMixin) -> None:
    allowed, details = device.verify_is_allowed()
    if not allowed:
        until = (details or {}).get("locked_until") or timezone.now()
        seconds = max(1, int((until - timezone.now()).total_seconds() + 0.999))
        raise ValidationError(
            ngettext(
                "Too many wrong codes. Please wait %(seconds)d second and try again.",
                "Too many wrong codes. Please wait %(seconds)d seconds and try again.",
                seconds,
            )
            % {"seconds": seconds},
            code="throttled",
        )


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _check_totp(device: TOTPDevice, code: str) -> None:
    _refuse_unless_allowed(device)
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise ValidationError(_("Enter the 6-digit code your authenticator app shows."))
    if not device.verify_token(code):  # counts the failure for django-otp's throttling
        raise ValidationError(
            _("This code is not valid. Check that the time on your phone is right."),
            code="invalid",
        )


def totp_enrol(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the pending authenticator app with a code it shows; the person's earlier app
    stops working and a fresh set of recovery codes is made (returned, shown once)."""
    _check_totp(device, _clean(code))  # outside the transaction: a failure must stay counted
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _append_for_person(user, events.SECOND_FACTOR_ENROLLED, {})
        return recovery_codes_generate(user=user)


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """New recovery codes; the earlier ones stop working. Each works once."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    _append_for_person(user, events.RECOVERY_CODES_GENERATED, {"count": len(codes)})
    return codes


def second_factor_check(*, user: User, code: str) -> Literal["totp", "recovery"]:
    """At sign-in: a 6-digit code of the authenticator app, or one of the recovery codes
    (which is used up). Wrong codes are counted per device and throttled by django-otp (1, 2,
    4 … seconds between tries); the message says how long to wait."""
    code = _clean(code)
    if not code:
        raise ValidationError(
            _("Enter the 6-digit code from your authenticator app or one of your recovery codes.")
        )
    if code.isdigit() and len(code) == CODE_DIGITS:
        device = selectors.totp_device_of(user)
        if device is None:
            raise ValidationError(_("You have not set up an authenticator app yet."))
        _check_totp(device, code)
        return "totp"
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is None:
        raise ValidationError(_("This code is not valid."), code="invalid")
    _refuse_unless_allowed(recovery)
    if not recovery.verify_token(code):  # deletes the token it matched; counts a failure
        raise ValidationError(
            _("This recovery code is not valid or was used already."), code="invalid"
        )
    with transaction.atomic():
        _append_for_person(
            user, events.RECOVERY_CODE_USED, {"remaining": recovery.token_set.count()}
        )
    return "recovery"


@transaction.atomic
def login_policy_set(
    *, tenant: Tenant, actor: User | None, second_factor_for_all: bool, password_login: bool
) -> LoginPolicy:
    """The municipality's login rules. Password login can be switched off only while its
    single sign-on provider is enabled, so that somebody can still sign in."""
    if not password_login and not OidcProvider.objects.filter(tenant=tenant, enabled=True).exists():
        raise ValidationError(
            _("Password login can only be switched off while single sign-on is set up and on."),
            code="no_provider",
        )
    policy, _created = LoginPolicy.objects.get_or_create(tenant=tenant)
    policy.second_factor_for_all = second_factor_for_all
    policy.password_login = password_login
    policy.save()
    event_append(
        tenant=tenant,
        activity=events.LOGIN_POLICY_CHANGED,
        subject=tenant,
        actor=actor,
        payload={"second_factor_for_all": second_factor_for_all, "password_login": password_login},
    )
    return policy


# --- single sign-on -----------------------------------------------------------------------


def _unique_username(tenant: Tenant, wanted: str) -> str:
    base = f"{tenant.slug}.{slugify(wanted) or 'person'}"[:140]
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def sso_sign_in(*, provider: OidcProvider, claims: Mapping[str, object]) -> User:
    """The local user for a person the municipality's provider signed in: created on the
    first login (found again by the provider's subject, never by name or e-mail), name and
    e-mail taken over, and the roles in this municipality set to exactly what the provider's
    groups map to. Refused when no group maps to a role."""
    tenant = provider.tenant
    subject = str(claims.get("sub") or "")
    groups = claims.get("groups") or []
    groups = {str(g) for g in groups} if isinstance(groups, list) else {str(groups)}
    wanted = {
        (m.role, m.org_unit_id): m.org_unit
        for m in provider.mappings.select_related("org_unit")
        if m.group in groups
    }
    if not subject or not wanted:
        raise ValidationError(
            _("Your account at %(provider)s has no role at %(tenant)s. Ask your administrator.")
            % {"provider": provider.name, "tenant": tenant.name},
            code="no_role",
        )
    identity = OidcIdentity.objects.filter(provider=provider, subject=subject).first()
    if identity is None:
        user = User(
            username=_unique_username(tenant, str(claims.get("preferred_username") or subject))
        )
        user.set_unusable_password()
        user.save()
        identity = OidcIdentity.objects.create(
            tenant=tenant, provider=provider, subject=subject, user=user
        )
        event_append(tenant=tenant, activity=events.SSO_USER_CREATED, subject=user, actor=user)
    user = identity.user
    user.first_name = str(claims.get("given_name") or "")[:150]
    user.last_name = str(claims.get("family_name") or "")[:150]
    user.email = str(claims.get("email") or "")[:254]
    user.save(update_fields=["first_name", "last_name", "email"])
    held = {(m.role, m.org_unit_id): m for m in Membership.objects.filter(user=user, tenant=tenant)}
    for key, unit in wanted.items():
        if key not in held:
            membership_grant(user=user, org_unit=unit, role=key[0], actor=user)
    for key, membership in held.items():
        if key not in wanted:
            event_append(
                tenant=tenant,
                activity=events.MEMBERSHIP_REVOKED,
                subject=membership,
                actor=user,
                org_unit=membership.org_unit,
                payload={"role": membership.role, "user_id": user.pk},
            )
            membership.delete()
    if set(held) != set(wanted):
        event_append(
            tenant=tenant,
            activity=events.SSO_ROLES_UPDATED,
            subject=user,
            actor=user,
            payload={"roles": sorted({role for role, _unit in wanted})},
        )
    return user


@transaction.atomic
def oidc_provider_set(
    *,
    tenant: Tenant,
    actor: User | None,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    enabled: bool,
    mappings: list[tuple[str, str, OrgUnit]],
) -> OidcProvider:
    """The municipality's provider and its group mapping (replaced whole). An empty secret
    keeps the stored one."""
    provider = OidcProvider.objects.filter(tenant=tenant).first() or OidcProvider(tenant=tenant)
    provider.name, provider.issuer, provider.client_id = name, issuer.rstrip("/"), client_id
    provider.enabled = enabled
    if client_secret:
        provider.client_secret = client_secret
    if not provider.client_secret:
        raise ValidationError(_("Enter the client secret."), code="no_secret")
    provider.save()
    provider.mappings.all().delete()
    GroupMapping.objects.bulk_create(
        GroupMapping(tenant=tenant, provider=provider, group=g, role=r, org_unit=u)
        for g, r, u in dict.fromkeys(mappings)
    )
    policy = LoginPolicy.objects.filter(tenant=tenant).first()
    if not enabled and policy is not None and not policy.password_login:
        policy.password_login = True  # nobody could sign in otherwise
        policy.save(update_fields=["password_login"])
    event_append(
        tenant=tenant,
        activity=events.LOGIN_POLICY_CHANGED,
        subject=tenant,
        actor=actor,
        payload={"sso": enabled, "password_login": policy.password_login if policy else True},
    )
    return provider

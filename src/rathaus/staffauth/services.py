"""Writes of the staff login: setting up the authenticator app, recovery codes, checking a
code at sign-in, the login policy. Events about a person go to each of their municipalities
(`staffauth.events`)."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import ThrottlingMixin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from rathaus.core.events import Activity, Json, event_append
from rathaus.core.models import Tenant
from rathaus.staffauth import events, selectors
from rathaus.staffauth.models import LoginPolicy, OidcProvider

RECOVERY_CODE_COUNT = 10
CODE_DIGITS = 6


def _append_for_person(user: User, activity: Activity, payload: dict[str, Json]) -> None:
    with scopes_disabled():
        tenants = list(Tenant.objects.filter(membership__user=user).distinct())
    for tenant in tenants:
        event_append(tenant=tenant, activity=activity, subject=user, actor=user, payload=payload)


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
            _("Too many wrong codes. Please wait %(seconds)d seconds and try again.")
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

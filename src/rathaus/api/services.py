"""Writes of the API app: tokens, and the one-call contact of an integration."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rathaus.api import events
from rathaus.api.models import ApiScope, ApiToken
from rathaus.catalog.models import Service
from rathaus.contacts.models import Contact
from rathaus.contacts.services import contact_record
from rathaus.core.events import Activity, event_append
from rathaus.core.models import OrgUnit, Tenant
from rathaus.core.wall import all_tenants

PREFIX_LENGTH = 8
# secrets.token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
# last_used_at is a hint for administrators, not an audit trail: write it at most this often.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _event(
    token: ApiToken, activity: Activity, actor: User | None, payload: dict[str, Any]
) -> None:
    event_append(
        tenant=token.tenant,
        activity=activity,
        subject=token,
        actor=actor,
        org_unit=token.org_unit,
        payload=payload,
    )


@transaction.atomic
def api_token_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: Sequence[str],
    org_unit: OrgUnit,
    actor: User | None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plain token, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}}
        )
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if org_unit.tenant_id != tenant.pk:
        raise ValidationError({"org_unit": _("Unknown unit.")})
    while True:
        plain = secrets.token_urlsafe(32)
        with scopes_disabled():
            # The prefix is unique across tenants; a clash is astronomically rare, retry then.
            if not ApiToken.objects.filter(prefix=plain[:PREFIX_LENGTH]).exists():
                break
    token = ApiToken(
        tenant=tenant,
        name=name[:100],
        prefix=plain[:PREFIX_LENGTH],
        secret_hash=token_hash(plain),
        scopes=sorted(set(scopes)),
        org_unit=org_unit,
        created_by=actor,
    )
    token.save()
    _event(token, events.API_TOKEN_CREATED, actor, {"prefix": token.prefix, "scopes": token.scopes})
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    if token.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _event(token, events.API_TOKEN_REVOKED, actor, {"prefix": token.prefix})
    return token


def api_token_authenticate(plain: str) -> ApiToken | None:
    """The active token matching `plain`, or None. Works before any tenant scope exists.

    1. Reject anything that cannot be a token without touching the database.
    2. Read the token's row by its prefix (unique across tenants): hash, revocation and when
       it was last used, in one small query, so a revocation counts from the next request.
    3. Compare the hashes in constant time; refuse revoked tokens.
    4. Note the use, at most once per TOUCH_INTERVAL (no event: a read is not a change).
    5. The token with its tenant and unit comes from this process's cache (`_verified`).
    """
    if not TOKEN_PATTERN.match(plain):
        return None
    now = timezone.now()
    # The token names its tenant: finding it is a read across tenants (core.wall), the API's
    # counterpart of the middleware's look-up of a person's memberships.
    with all_tenants():
        return _authenticated(plain, now)


def _authenticated(plain: str, now: dt.datetime) -> ApiToken | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, secret_hash, revoked_at IS NULL, "  # noqa: S608 - the table name only
            f"(last_used_at IS NULL OR last_used_at < %s) FROM {ApiToken._meta.db_table} "
            "WHERE prefix = %s",
            [connection.ops.adapt_datetimefield_value(now - TOUCH_INTERVAL), plain[:PREFIX_LENGTH]],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk, secret_hash, active, touch = row
    if not hmac.compare_digest(secret_hash, token_hash(plain)) or not active:
        return None
    with scopes_disabled():
        if touch:
            ApiToken.objects.filter(pk=pk).update(last_used_at=now)
        return _verified_token(pk, secret_hash)


# Tokens with their tenant and unit, kept per process for TOKEN_CACHE_SECONDS: most API
# requests then need the one small read above instead of a join of three wide tables
# (docs/performance.md). Tokens themselves only change by revocation, which is read every
# time; a tenant or unit changed in another process (name, time zone) is seen here within
# TOKEN_CACHE_SECONDS, and at once in this process (`forget_verified_tokens`).
TOKEN_CACHE_SECONDS = 60
_verified: dict[str, tuple[float, ApiToken]] = {}  # secret hash → (loaded at, token)


def _verified_token(pk: int, secret_hash: str) -> ApiToken:
    cached = _verified.get(secret_hash)
    if cached is not None and time.monotonic() - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    token = ApiToken.objects.select_related("tenant", "org_unit").get(pk=pk)
    _verified[secret_hash] = (time.monotonic(), token)
    return token


def forget_verified_tokens(**_signal: Any) -> None:
    """Receiver of every save and delete of tokens, tenants and units (see `ApiConfig`)."""
    _verified.clear()


def api_contact_record(
    *,
    token: ApiToken,
    channel: str,
    direction: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    outcome: str,
    summary: str = "",
    services: Sequence[Service] = (),
    citizen: dict[str, str] | None = None,
    callback_due: dt.datetime | None = None,
    handover: dict[str, Any] | None = None,
) -> Contact:
    """A finished contact delivered by an integration in one call, for the token's unit."""
    return contact_record(
        tenant=token.tenant,
        agent=None,
        org_unit=token.org_unit,
        channel=channel,
        direction=direction,
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        actor=None,
        summary=summary,
        services=services,
        citizen=citizen,
        callback_due=callback_due,
        handover=handover,
    )

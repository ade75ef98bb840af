"""Against bots that hoard appointments: an ALTCHA proof of work and rate limits.

The proof of work costs a citizen a second of computing in the browser and a bot that books
thousands of times as many seconds. The key that signs challenges is derived from the
installation's secret and the tenant, so a challenge of one municipality is worthless at
another. A solved challenge is good for one booking attempt: its signature is remembered in
the cache until it expires, together with the submit it was used for, so the browser's own
retry of the same submit (double click) passes but a replayed payload does not.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json

import altcha
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from rathaus.core.clients import client_ip
from rathaus.core.keys import email_key
from rathaus.core.models import Tenant
from rathaus.core.services import attempt_count

from .models import BookingPolicy

CHALLENGE_MINUTES = 10
MAX_PAYLOAD_CHARS = 2000  # a real payload is about 300 characters
IP_WINDOW = 3600
EMAIL_WINDOW = 24 * 3600


def _hmac_key(tenant: Tenant) -> str:
    return salted_hmac("rathaus.appointments.altcha", tenant.slug).hexdigest()


def challenge_for(tenant: Tenant) -> dict:
    """A fresh challenge for the widget (`challengeurl`), valid for ten minutes."""
    policy = BookingPolicy.for_tenant(tenant)
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            hmac_key=_hmac_key(tenant),
            max_number=policy.challenge_max_number,
            expires=timezone.now() + dt.timedelta(minutes=CHALLENGE_MINUTES),
        )
    )
    return challenge.to_dict()


def _signature(payload: str) -> str | None:
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        return None
    signature = data.get("signature") if isinstance(data, dict) else None
    return signature if isinstance(signature, str) else None


def payload_accept(tenant: Tenant, payload: str, *, submission: str) -> bool:
    """True for a solved, unexpired challenge of this tenant not yet used by another submit.

    1. Malformed, forged, expired or foreign payloads are refused.
    2. The first submit claims the challenge in the cache (`add` is atomic); a repeat of the
       same submit (same `submission`, the form's idempotency key) passes again, any other
       submit with the same payload is a replay.
    """
    if not payload or len(payload) > MAX_PAYLOAD_CHARS:
        return False
    signature = _signature(payload)
    if signature is None:
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, _hmac_key(tenant), check_expires=True)
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
    ):  # a well-formed JSON of the wrong shape
        return False
    if not ok:
        return False
    key = "altcha-used:" + hashlib.sha256(f"{tenant.pk}:{signature}".encode()).hexdigest()
    if cache.add(key, submission, (CHALLENGE_MINUTES + 1) * 60):
        return True
    return cache.get(key) == submission


def ip_limited(request: HttpRequest, policy: BookingPolicy) -> bool:
    """Count one booking attempt from this address; True once the hourly limit is exceeded."""
    attempts = attempt_count(f"book-ip:{policy.tenant_id}:{client_ip(request)}", IP_WINDOW)
    return attempts > policy.ip_bookings_per_hour


def email_limited(policy: BookingPolicy, email: str) -> bool:
    """Count one booking attempt for this address; True once the daily limit is exceeded."""
    attempts = attempt_count(f"book-mail:{policy.tenant_id}:{email_key(email)}", EMAIL_WINDOW)
    return attempts > policy.email_bookings_per_day

"""The hand-written SQL of a hold, in one place (docs/decisions.md, "Four statements of a
hold are plain SQL"; the fourth, `selectors.hold_outlook`, is a read).

`_take_seat` gives a booking one seat with a compare-and-set UPDATE that only matches a free
slot (`rules.FREE_SQL`, the SQL twin of `rules.free_q`); `_check_cap` counts the address's
active appointments; `_lock_person` serialises the bookings of one address on PostgreSQL.
Each names its tables from the models and the tenant in every part, as the scope would.
Everything else stays in the ORM.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ..models import Booking, BookingItem, BookingPolicy, BookingStatus, Slot
from ..rules import FREE_SQL, BookingError, BookingRequest


def _lock_person(email: str) -> None:
    """Serialise bookings of one e-mail address, so the cap per person holds under concurrency."""
    if connection.vendor == "postgresql" and email:
        key = int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _check_cap(
    policy: BookingPolicy, request: BookingRequest, key: str, idempotency_key: str, now: dt.datetime
) -> None:
    """Refuse a booking beyond the cap of active appointments per address and service:
    confirmed ones and holds not run out, still to come, for one of the services. A repeated
    submit (same idempotency key) is answered with its booking, so its booking does not count.
    Plain SQL: the ORM took longer to build this count than anything else in a hold."""
    if not key:
        return
    services = [service.pk for service, _quantity in request.items]
    adapt = connection.ops.adapt_datetimefield_value
    params = [request.location.tenant_id, key, adapt(now), *services]
    params += [BookingStatus.CONFIRMED.value, BookingStatus.HELD.value, adapt(now)]
    same_submit = ""
    if idempotency_key:
        same_submit = "AND b.idempotency_key <> %s"
        params.append(idempotency_key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(DISTINCT b.id)
            FROM {Booking._meta.db_table} AS b
            JOIN {BookingItem._meta.db_table} AS i ON i.booking_id = b.id
            WHERE b.tenant_id = %s AND b.email_key = %s AND b."end" > %s
              AND i.service_id IN ({", ".join(["%s"] * len(services))})
              AND (b.status = %s OR (b.status = %s AND b.hold_until > %s)) {same_submit}
            """,  # noqa: S608 - only table names and placeholders are formatted in
            params,
        )
        (active,) = cursor.fetchone()
    if active >= policy.max_active_per_email:
        raise BookingError(
            _(
                "You already have %(count)d appointments for this service. Please cancel one "
                "before you book another."
            )
            % {"count": active},
            code="cap",
        )


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    """A datetime column read in plain SQL; SQLite gives UTC without a zone, or as text."""
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(value)
    assert parsed is not None, value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _take_seat(
    booking: Booking, start: dt.datetime, kind: str, now: dt.datetime
) -> dt.datetime | None:
    """Give the lowest free seat of one channel at `start` to the booking; its end, or None.

    One statement: the UPDATE only matches a free slot (`rules.FREE_SQL`), which is the
    guarantee on every database. On PostgreSQL the inner SELECT locks the seat with SKIP
    LOCKED, so a booking passes over a seat another booking is taking right now instead of
    queueing behind it. Plain SQL: this runs once per slot of every hold in a rush.
    """
    adapt = connection.ops.adapt_datetimefield_value
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    table = Slot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET booking_id = %s, held_until = %s, free_from = NULL
            WHERE id = (
                SELECT id FROM {table}
                WHERE tenant_id = %s AND location_id = %s AND start = %s AND channel = %s
                  AND {FREE_SQL}
                ORDER BY seat LIMIT 1{skip_locked}
            ) AND {FREE_SQL}
            RETURNING "end"
            """,  # noqa: S608 - only the table name and fixed SQL are formatted in
            [
                booking.pk,
                adapt(booking.hold_until),
                booking.tenant_id,
                booking.location_id,
                adapt(start),
                kind,
                adapt(now),
                adapt(now),
                adapt(now),
                adapt(now),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else _as_datetime(row[0])

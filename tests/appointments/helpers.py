"""Helpers the appointment tests share: one way to book and one frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_scopes import scope

from rathaus.appointments import services
from rathaus.appointments.models import Booking


def book(
    office,
    start: dt.datetime,
    *,
    service=None,
    name: str = "Erika Muster",
    email: str = "",
    channel: str = "internal",
    **more,
) -> Booking:
    """A booking of one service (the certificate unless named) at the office's location, made
    in its tenant's scope; `more` may add phone, actor, now or idempotency_key."""
    with scope(tenant=office.location.tenant):
        return services.booking_hold(
            request=office.request((service or office.certificate, 1)),
            start=start,
            name=name,
            email=email,
            channel=channel,
            **more,
        )


def frozen_clock(instant: dt.datetime):
    """A `clock` fixture that stands still at `instant`; a test moves it on with
    `clock.move_to(...)` where order matters. Ask for it before the clients that log in, so
    their sessions start on the test's clock."""

    @pytest.fixture
    def clock():
        with time_machine.travel(instant, tick=False) as traveller:
            yield traveller

    return clock

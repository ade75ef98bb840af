"""Periodic jobs of the worker (deadlines, digests, mailbox polling …), registered by each
app in its AppConfig.ready() with `register`, so core names no other app.

Every worker process runs `run_due_timers` about once a minute. A job's row is locked with
SKIP LOCKED while it runs, so with several workers (PostgreSQL) each job still runs once.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from rathaus.core.models import TimerState
from rathaus.core.wall import all_tenants

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timer:
    name: str
    job: str  # dotted path of a function taking `now`
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None  # local time of the installation

    def next_after(self, now: dt.datetime) -> dt.datetime:
        if self.every is not None:
            return now + self.every
        assert self.daily_at is not None
        local = timezone.localtime(now)
        run = local.replace(
            hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0
        )
        return run if run > local else run + dt.timedelta(days=1)


def heartbeat(now: dt.datetime) -> None:
    """Does nothing: its run, recorded in its row like every timer's, is the worker's sign of
    life that /healthz and /metrics read (core.health), whichever apps register timers."""


# A minute, like the fastest job: the stale threshold (RATHAUS_WORKER_STALE_SECONDS, 300 s)
# then leaves room for a few missed rounds and a slow job before the health check fails.
HEARTBEAT = Timer("core.heartbeat", "rathaus.core.timers.heartbeat", every=dt.timedelta(minutes=1))

# Each app registers its own timers in its AppConfig.ready() (core names no other app).
TIMERS: list[Timer] = [
    HEARTBEAT,
    Timer(
        "core.attempt_counts",
        "rathaus.core.services.attempt_counts_purge",
        every=dt.timedelta(hours=1),
    ),
    Timer("core.access_log", "rathaus.core.services.access_log_purge", daily_at=dt.time(3, 0)),
]


def register(*timers: Timer) -> None:
    """Add an app's periodic jobs; registering a name twice keeps the first (ready() may run
    more than once in tests)."""
    known = {timer.name for timer in TIMERS}
    TIMERS.extend(timer for timer in timers if timer.name not in known)


def run_due_timers(now: dt.datetime | None = None, timers: list[Timer] | None = None) -> list[str]:
    """Run every job that is due; returns the names that ran. A failing job is logged, retried."""
    now = now or timezone.now()
    ran = []
    for timer in timers or TIMERS:
        # Interval jobs start at once; a daily job waits for its first time of day.
        first = now if timer.every is not None else timer.next_after(now)
        TimerState.objects.get_or_create(name=timer.name, defaults={"next_run": first})
        with transaction.atomic():
            state = (
                TimerState.objects.select_for_update(skip_locked=True)
                .filter(name=timer.name, next_run__lte=now)
                .first()
            )
            if state is None:
                continue
            try:
                job: Callable[[dt.datetime], object] = import_string(timer.job)
                # A job spans the tenants (each app's jobs enter every tenant's context in
                # turn): it runs above the tenant wall (core.wall), in its own savepoint.
                with transaction.atomic(), all_tenants():
                    job(now)
                state.last_error = ""
            except Exception:  # a broken job must not stop the others; it is retried next time
                log.exception("Timer %s failed", timer.name)
                state.last_error = traceback.format_exc()[-4000:]
            state.last_run = now
            state.next_run = timer.next_after(now)
            state.save()
            ran.append(timer.name)
    return ran

"""What the operators' probes read: is the database answering, when did a worker last run its
timers, how late are the timers, how many tasks wait. Cheap (a query or two) because a load
balancer and Prometheus ask every few seconds; nothing here names a tenant or a person.

The worker's sign of life is not a table of its own: every timer's row records its last run,
and the worker runs `core.heartbeat` every minute (core.timers), so the newest `last_run` is
when a worker was last alive.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, InterfaceError
from django_tasks_db.models import DBTaskResult

from rathaus.core.models import TimerState
from rathaus.core.timers import TIMERS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pulse:
    """The timers' rows as of `now`: the worker's last sign of life and each timer's lag."""

    now: dt.datetime
    last_seen: dt.datetime | None
    lags: dict[str, float]  # seconds each registered timer is past due without having run

    @property
    def age_seconds(self) -> float | None:
        if self.last_seen is None:
            return None
        # A worker whose clock runs a little ahead must not look younger than fresh.
        return max(0.0, (self.now - self.last_seen).total_seconds())

    def worker_status(self, stale_after: int) -> str:
        age = self.age_seconds
        if age is None:
            return "never"
        return "ok" if age <= stale_after else "stale"

    @property
    def max_lag_seconds(self) -> float:
        return max(self.lags.values(), default=0.0)


def pulse(now: dt.datetime) -> Pulse:
    """One query over the timers' rows (a few dozen at most)."""
    rows = list(TimerState.objects.values_list("name", "next_run", "last_run"))
    # Rows of timers no longer registered (renamed, removed) never run again: no lag of theirs.
    registered = {timer.name for timer in TIMERS}
    return Pulse(
        now=now,
        last_seen=max((last for _, _, last in rows if last is not None), default=None),
        lags={
            name: max(0.0, (now - next_run).total_seconds())
            for name, next_run, _ in rows
            if name in registered
        },
    )


def queue_length() -> int:
    """Tasks waiting to run now; retries scheduled for later are not a backlog yet."""
    return DBTaskResult.objects.ready().count()


def health_report(now: dt.datetime, *, stale_after: int) -> dict[str, Any]:
    """The JSON of /healthz; `status` is "ok" when the database answers and a worker ran its
    timers within `stale_after` seconds."""
    try:
        reading = pulse(now)
    except (DatabaseError, InterfaceError) as error:
        # Only the class goes out: the message may name hosts and users of the database.
        log.warning("Health check: the database failed: %s", error)
        return {
            "status": "fail",
            "database": type(error).__name__,
            "worker": {"last_seen": None, "age_seconds": None, "status": "unknown"},
            "timers": {"max_lag_seconds": None},
        }
    age = reading.age_seconds
    worker = reading.worker_status(stale_after)
    return {
        "status": "ok" if worker == "ok" else "fail",
        "database": "ok",
        "worker": {
            "last_seen": reading.last_seen.isoformat() if reading.last_seen else None,
            "age_seconds": None if age is None else round(age),
            "status": worker,
        },
        "timers": {"max_lag_seconds": round(reading.max_lag_seconds)},
    }

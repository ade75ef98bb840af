"""Rate-limit counters shared by all server processes: one upsert per attempt."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from django.db import connection
from django.utils.module_loading import import_string

from rathaus.core.models import AttemptCount
from rathaus.core.services import attempt_count, attempt_counts_purge
from rathaus.core.timers import TIMERS

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def stored(key: str) -> AttemptCount:
    return AttemptCount.objects.get(key=hashlib.sha256(key.encode()).hexdigest())


@pytest.mark.django_db
def test_counts_per_key_until_the_window_ends_then_starts_anew():
    assert attempt_count("book-ip:1:192.0.2.7", 60, now=NOW) == 1
    assert not AttemptCount.objects.filter(key__contains="192.0.2.7").exists()  # hashed
    assert [attempt_count("a", 60, now=NOW) for _ in range(3)] == [1, 2, 3]
    assert attempt_count("b", 60, now=NOW) == 1
    # The window is fixed from the first attempt: 59 s later it still runs, at 60 s it ended.
    assert attempt_count("a", 60, now=NOW + dt.timedelta(seconds=59)) == 4
    assert attempt_count("a", 60, now=NOW + dt.timedelta(seconds=60)) == 1
    assert attempt_count("a", 60, now=NOW + dt.timedelta(seconds=61)) == 2
    assert stored("a").window_ends == int(NOW.timestamp()) + 120


@pytest.mark.django_db
def test_the_hourly_timer_forgets_ended_windows_only():
    attempt_count("short", 60, now=NOW)
    attempt_count("long", 3600, now=NOW)
    timer = next(t for t in TIMERS if t.name == "core.attempt_counts")
    assert import_string(timer.job) is attempt_counts_purge
    assert attempt_counts_purge(NOW + dt.timedelta(minutes=1)) == 1
    assert AttemptCount.objects.get() == stored("long")


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_are_each_counted_once():
    seen: list[object] = []
    barrier = threading.Barrier(12)

    def attempt() -> None:
        try:
            barrier.wait()
            seen.append(attempt_count("rush", 3600, now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            seen.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 13))
    assert stored("rush").count == 12

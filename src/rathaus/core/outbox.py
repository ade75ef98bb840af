"""Side effects that must not be lost: queued with the caller's transaction, retried later.

Mail to citizens goes through the task queue so a mail server that is down never fails the
clerk's or the citizen's action, and nothing is lost when it is down for a while: a failed
attempt is queued again after the next delay of its schedule; after the last one the caller
records that it gave up (shown on the "undelivered" lists, where staff send it again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, default_task_backend, task_backends
from django_tasks_db import DatabaseBackend


def enqueue_with_transaction(task: Any, *args: Any) -> None:
    """Queue the task as part of the calling service's transaction.

    The database queue writes its row in that transaction (an outbox): the task is queued
    exactly when the change commits, also when the process dies right after the commit,
    and without a commit of its own. Other backends (the immediate one of tests and
    development) run the task once the transaction has committed.
    """
    if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args))


def retry_later(task: Any, args: Sequence[Any], attempt: int, schedule: Sequence[int]) -> bool:
    """Queue attempt `attempt + 1` after the schedule's next delay (minutes); False when the
    schedule is used up, or the backend cannot defer (the immediate one only records)."""
    if attempt > len(schedule) or not default_task_backend.supports_defer:
        return False
    later = timezone.now() + dt.timedelta(minutes=schedule[attempt - 1])
    task.using(run_after=later).enqueue(*args, attempt + 1)
    return True

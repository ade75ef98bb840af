"""`rathaus worker`: the task queue worker plus the timers (deadlines, digests, mail polling)."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from rathaus.core.timers import HEARTBEAT, run_due_timers

TIMER_INTERVAL = 30.0  # seconds between looks at the timers


class Command(DbWorkerCommand):
    help = "Run background tasks and the periodic jobs (deadline escalation, digests, mail)."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--timers-once",
            action="store_true",
            help="Run the due timers once and exit (for cron or a quick check).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.pop("timers_once"):
            ran = run_due_timers()
            self.stdout.write(", ".join(ran) or "no timer was due")
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._timer_loop, args=(stop,), daemon=True)
        thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()

    def _timer_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            close_old_connections()
            try:
                # The heartbeat beats every minute; only the real jobs are worth a line.
                ran = [name for name in run_due_timers() if name != HEARTBEAT.name]
                if ran:
                    self.stdout.write(f"timers: {', '.join(ran)}")
            except Exception as error:  # noqa: BLE001 - keep the loop alive; the next round retries
                self.stderr.write(f"timers failed: {error}")
            finally:
                close_old_connections()
            time.sleep(TIMER_INTERVAL)

"""What the benchmark scripts share. They run as `python bench/x.py`, so Python puts this
directory on sys.path and they import this module as `_common`."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int) -> None:
    """Until something listens on 127.0.0.1:`port` (30 s at most)."""
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing listens on port {port}")


@contextlib.contextmanager
def throwaway_database(url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database `name` on the server `url` points at; yields its URL.

    A database of that name left over from an earlier run is dropped first. Afterwards the
    database is dropped, with any connections still open to it, unless `keep` (to look at it).
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield url.rsplit("/", 1)[0] + "/" + name
        finally:
            if not keep:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )
                admin.execute(f"DROP DATABASE IF EXISTS {name}")


def gunicorn(app: str, port: int, workers: int, **popen_kwargs: Any) -> subprocess.Popen:
    """Start gunicorn for the WSGI module `app` with `workers` sync workers on 127.0.0.1:`port`
    (room for 2,048 waiting connections, warnings only); `popen_kwargs` go to `Popen`, e.g.
    `cwd` (gunicorn imports `app` from its working directory) or `env`."""
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            app,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],  # fmt: skip
        **popen_kwargs,
    )

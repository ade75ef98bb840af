"""The production set-up as documented: compose.yaml's services, their commands and their
environment with the `${…}` of `.env` filled in, and scratch PostgreSQL databases."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# What the README tells an operator to put into `.env` (the secret key as it says to make it).
DOT_ENV = {
    "RATHAUS_HOST": "rathaus.example.de",
    "RATHAUS_SECRET_KEY": "Zq8vH1s-4xT0bWc9LrK2mNpE7uYdJ3fGaVh6iOtS5eQw_RyXlBnCzMk0jDgUoAFP8sI",
    "POSTGRES_PASSWORD": "not-used-locally-but-required",
    "RATHAUS_DB_PASSWORD": "trust-authentication-here",
}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def interpolate(value: str, dot_env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, as `docker compose` does."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if dot_env.get(name):
            return dot_env[name]
        if op == ":?":
            raise KeyError(f"compose.yaml needs {name}: {arg}")
        return arg if op == ":-" else ""

    return _VARIABLE.sub(one, value)


def service_env(service: str, dot_env: dict[str, str] | None = None) -> dict[str, str]:
    environment = compose()["services"][service]["environment"]
    return {
        key: interpolate(str(value), DOT_ENV if dot_env is None else dot_env)
        for key, value in environment.items()
    }


def service_command(service: str) -> list[str]:
    spec = compose()["services"][service]
    return [*spec.get("entrypoint", []), *spec["command"]]


def local_env(service: str, *, database_url: str, data_dir: Path) -> dict[str, str]:
    """The service's environment as compose gives it, on this machine: the database and the data
    directory are local, everything else as documented. The image's own ENV (Dockerfile) too."""
    image_env = {"RATHAUS_STATIC_ROOT": str(data_dir / "static"), "PYTHONUNBUFFERED": "1"}
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TZ"}
    base = {key: value for key, value in os.environ.items() if key in keep}
    env = base | image_env | service_env(service)
    env["DATABASE_URL"] = database_url
    env["RATHAUS_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "rathaus.settings"
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return env


def executable(command: list[str]) -> list[str]:
    """The image's PATH finds gunicorn and rathaus in its venv; here they are in ours."""
    return [str(BIN / command[0]), *command[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
    }


def database_url(name: str) -> str:
    server = _server()
    password = f":{server['password']}" if server["password"] else ""
    return f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"


def admin_sql(sql: str) -> None:
    """A statement as the test server's superuser, outside any transaction (CREATE DATABASE)."""
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as connection:
        connection.execute(sql)


@contextlib.contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A new empty database on the test server, dropped afterwards; yields its URL."""
    admin = admin_sql
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def app_database(name: str) -> Iterator[str]:
    """The database and ordinary role that deploy/postgres-init.sh makes, as the postgres
    container runs it on its first start (role and database named `name` here, since roles
    are server-wide); yields the URL the application connects with. Dropped afterwards."""
    server = _server()
    with psycopg.connect(dbname="postgres", **server) as connection:
        allowed = connection.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if not (allowed and allowed[0]):
        pytest.skip("making the application's role needs a superuser or CREATEROLE")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PGHOST": server["host"],
        "PGPORT": str(server["port"]),
        "POSTGRES_USER": server["user"],
        "RATHAUS_DB_USER": name,
        "RATHAUS_DB_NAME": name,
        "RATHAUS_DB_PASSWORD": DOT_ENV["RATHAUS_DB_PASSWORD"],
    } | ({"PGPASSWORD": server["password"]} if server["password"] else {})
    admin = admin_sql
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'DROP ROLE IF EXISTS "{name}"')
    made = run(["sh", str(ROOT / "deploy" / "postgres-init.sh")], env)
    assert made.returncode == 0, made.stderr
    password = DOT_ENV["RATHAUS_DB_PASSWORD"]
    try:
        yield f"postgres://{name}:{password}@{server['host']}:{server['port']}/{name}"
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'DROP ROLE IF EXISTS "{name}"')


def run(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=False, **kwargs
    )


@contextlib.contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process (gunicorn, the worker), ended with its process group."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def wait_for(check: Any, *, attempts: int = 120, pause: float = 0.5) -> Any:
    """Polls until `check()` is truthy (a server starting, a worker's first round)."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(pause)
    return check()


def have(tool: str) -> bool:
    return shutil.which(tool) is not None

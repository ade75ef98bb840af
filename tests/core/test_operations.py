"""What the data centre's monitoring reads: /healthz, /metrics and the JSON logs. Real
database, real worker command, real django-prometheus; the clock is frozen where an age counts."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks import task
from prometheus_client.parser import text_string_to_metric_families

from rathaus.core.logs import JsonFormatter
from rathaus.core.models import Role, TimerState
from rathaus.core.timers import TIMERS, run_due_timers

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
HEALTHZ = reverse("core:healthz")
METRICS = reverse("core:metrics")
TOKEN = "metrics-token-0123456789-abcdefghij"


@pytest.fixture(autouse=True)
def database_queue(settings):
    # As in production (conftest runs tasks at once): the worker command and the queue length
    # need the database backend.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@task()
def waiting() -> None:
    """Never runs here: it only fills the queue that the metrics count."""


def worker_ran_timers() -> None:
    """What `rathaus worker` does every round (here once, as from cron)."""
    call_command("worker", "--timers-once", stdout=io.StringIO())


def health(client: Client | None = None):
    answer = (client or Client()).get(HEALTHZ)
    return answer, json.loads(answer.content)


# --- /healthz ---------------------------------------------------------------------------


def test_healthz_is_ok_while_the_worker_runs_its_timers(db, django_assert_max_num_queries):
    with time_machine.travel(START, tick=False) as clock:
        worker_ran_timers()
        clock.shift(dt.timedelta(seconds=42))
        with django_assert_max_num_queries(1):  # probed every few seconds: it must be cheap
            answer, body = health()
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert body == {
        "status": "ok",
        "database": "ok",
        "worker": {"last_seen": START.isoformat(), "age_seconds": 42, "status": "ok"},
        "timers": {"max_lag_seconds": 0},
    }


def test_healthz_fails_once_the_heartbeat_is_older_than_the_threshold(db, settings):
    with time_machine.travel(START, tick=False) as clock:
        worker_ran_timers()
        clock.shift(dt.timedelta(seconds=300))
        assert health()[0].status_code == 200  # at the threshold still fine
        clock.shift(dt.timedelta(seconds=1))
        answer, body = health()
        assert answer.status_code == 503
        assert body["status"] == "fail" and body["database"] == "ok"
        assert body["worker"] == {
            "last_seen": START.isoformat(),
            "age_seconds": 301,
            "status": "stale",
        }
        settings.RATHAUS_WORKER_STALE_SECONDS = 600
        assert health()[0].status_code == 200


def test_the_worker_beats_every_minute_whichever_jobs_are_registered(db):
    # Core's own jobs run hourly and daily; the heartbeat alone keeps the worker fresh.
    core_only = [timer for timer in TIMERS if timer.name.startswith("core.")]
    with time_machine.travel(START, tick=False) as clock:
        for _minute in range(10):
            run_due_timers(timers=core_only)
            clock.shift(dt.timedelta(seconds=61))
        answer, body = health()
    assert answer.status_code == 200 and body["worker"]["age_seconds"] == 61


def test_healthz_fails_when_no_worker_was_ever_seen(db):
    TimerState.objects.create(name="core.access_log", next_run=START)  # looked at, never run
    with time_machine.travel(START, tick=False):
        answer, body = health()
    assert answer.status_code == 503
    assert body["worker"] == {"last_seen": None, "age_seconds": None, "status": "never"}


def test_healthz_reports_how_late_the_timers_are(db):
    with time_machine.travel(START, tick=False):
        worker_ran_timers()
        TimerState.objects.filter(name="core.access_log").update(
            next_run=START - dt.timedelta(minutes=15)
        )
        # A timer no longer registered never runs again; it is not late.
        TimerState.objects.create(name="gone.job", next_run=START - dt.timedelta(days=9))
        answer, body = health()
    assert answer.status_code == 200  # late jobs are for the metrics, not the load balancer
    assert body["timers"] == {"max_lag_seconds": 900}


def test_healthz_names_no_tenant_nor_person_and_is_never_cached(world_a):
    with time_machine.travel(START, tick=False):
        worker_ran_timers()
        anonymous, _ = health()
        signed_in, body = health(world_a.client(Role.TENANT_ADMIN))
    for answer in (anonymous, signed_in):
        text = answer.content.decode()
        assert answer.status_code == 200
        assert "no-store" in answer["Cache-Control"]
        assert world_a.tenant.name not in text and world_a.tenant.slug not in text
        assert not any(user.username in text for user in world_a.users.values())
    assert anonymous.content == signed_in.content  # a login changes nothing
    assert set(body) == {"status", "database", "worker", "timers"}


def test_healthz_fails_naming_the_error_class_when_the_database_fails(db):
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("DROP TABLE core_timerstate")
    answer, body = health()
    assert answer.status_code == 503
    assert body["status"] == "fail"
    assert body["database"] in {"OperationalError", "ProgrammingError"}  # SQLite, PostgreSQL
    assert "core_timerstate" not in answer.content.decode()
    assert body["worker"]["status"] == "unknown"


# --- /metrics ---------------------------------------------------------------------------


def scraped(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    answer = (client or Client()).get(METRICS, **headers)
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.7"},
        {"REMOTE_ADDR": "203.0.113.7", "HTTP_AUTHORIZATION": "Bearer "},
        {"REMOTE_ADDR": "203.0.113.7", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"REMOTE_ADDR": "203.0.113.7", "HTTP_AUTHORIZATION": TOKEN},  # not a bearer header
        # Through a proxy nobody declared: 127.0.0.1 is the proxy, the asker is elsewhere.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
    ],
)
def test_metrics_are_a_404_to_anyone_else(db, settings, headers):
    settings.RATHAUS_METRICS_TOKEN = TOKEN
    answer = Client().get(METRICS, **headers)
    assert answer.status_code == 404
    assert b"rathaus_" not in answer.content and b"django_http" not in answer.content


def test_without_a_token_set_an_empty_bearer_opens_nothing(db, settings):
    settings.RATHAUS_METRICS_TOKEN = ""
    answer = Client().get(METRICS, REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer ")
    assert answer.status_code == 404


def test_metrics_answer_loopback_allowed_networks_the_token_and_the_declared_proxy(db, settings):
    import ipaddress

    assert scraped(REMOTE_ADDR="127.0.0.1")
    assert scraped(REMOTE_ADDR="::1")
    assert scraped(REMOTE_ADDR="::ffff:127.0.0.1")  # a dual-stack listener
    settings.RATHAUS_METRICS_TOKEN = TOKEN
    assert scraped(REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    settings.RATHAUS_METRICS_ALLOWED_IPS = [ipaddress.ip_network("10.20.0.0/16")]
    assert scraped(REMOTE_ADDR="10.20.3.4")
    assert Client().get(METRICS, REMOTE_ADDR="127.0.0.1").status_code == 404
    settings.RATHAUS_BEHIND_PROXY = True  # the proxy's last entry is who asks
    assert scraped(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.20.9.9")
    answer = Client().get(METRICS, REMOTE_ADDR="10.20.3.4", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert answer.status_code == 404


def test_metrics_show_the_queue_the_timers_lag_and_the_heartbeat_age(db):
    with time_machine.travel(START, tick=False) as clock:
        worker_ran_timers()
        waiting.enqueue()
        waiting.enqueue()
        waiting.using(run_after=START + dt.timedelta(hours=1)).enqueue()  # a later retry
        TimerState.objects.filter(name="cases.escalate").update(
            next_run=START - dt.timedelta(minutes=3)
        )
        clock.shift(dt.timedelta(seconds=42))
        metrics = scraped()
    assert metrics[("rathaus_task_queue_length", ())] == 2
    assert metrics[("rathaus_worker_heartbeat_age_seconds", ())] == 42
    lags = {labels[0][1]: value for (name, labels), value in metrics.items() if "lag" in name}
    assert lags["cases.escalate"] == 180 + 42
    assert lags["core.heartbeat"] == 0 and lags["mail.poll"] == 0
    assert "gone.job" not in lags


def test_a_worker_never_seen_is_infinitely_old_to_the_metrics(db):
    metrics = scraped()
    assert metrics[("rathaus_worker_heartbeat_age_seconds", ())] == float("inf")
    assert metrics[("rathaus_task_queue_length", ())] == 0


def test_requests_are_counted_and_timed_by_view_with_known_methods_only(db):
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    key = (latency, (("method", "GET"), ("view", "core:healthz")))
    before = scraped().get(key, 0)
    Client().get(HEALTHZ)
    Client().generic("BREW", HEALTHZ)  # anyone may send any method
    after = scraped()
    assert after[key] == before + 1
    invalid = (latency, (("method", "<invalid method>"), ("view", "core:healthz")))
    assert after[invalid] >= 1
    assert not any(("method", "BREW") in labels for _, labels in after)


# --- JSON logs --------------------------------------------------------------------------


@contextlib.contextmanager
def json_lines(logger_name: str):
    """What the logger writes through the JSON formatter, as parsed objects."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def request_log(settings):
    """The request lines, with their middleware installed as `RATHAUS_LOG_FORMAT=json` does."""
    settings.MIDDLEWARE = ["rathaus.core.logs.RequestLogMiddleware", *settings.MIDDLEWARE]
    with json_lines("rathaus.request") as lines:
        yield lines


def test_a_json_log_line_parses_and_carries_no_query_string():
    record = logging.makeLogRecord(
        {
            "name": "django.server",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": '"%s" %s %s',
            "args": ("GET /kc/history/?phone=0170-1234567&name=Erika HTTP/1.1", 200, 512),
            "created": START.timestamp(),
        }
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-06-01T08:00:00.000+00:00",
        "level": "INFO",
        "logger": "django.server",
        "message": '"GET /kc/history/ HTTP/1.1" 200 512',
    }


def test_the_request_line_has_method_path_status_duration_and_no_query(db, request_log):
    Client().get(HEALTHZ + "?email=erika%40example.org&q=Erika+Mustermann")
    (line,) = request_log()
    assert line["logger"] == "rathaus.request" and line["level"] == "INFO"
    assert line["method"] == "GET" and line["path"] == HEALTHZ and line["status"] == 503
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"] == f"GET {HEALTHZ} 503"
    assert "tenant" not in line  # anonymous
    text = json.dumps(line)
    assert "?" not in text and "example.org" not in text and "Erika" not in text


def test_the_request_line_names_the_tenant_by_id_and_no_user(world_a, request_log):
    world_a.client(Role.KC_AGENT).get(reverse("core:home"))
    (line,) = request_log()
    assert line["tenant"] == world_a.tenant.pk and line["status"] == 200
    text = json.dumps(line)
    assert world_a.users[Role.KC_AGENT].username not in text
    assert world_a.tenant.name not in text


def test_a_link_token_never_reaches_the_log(db, request_log):
    with json_lines("django.request") as warnings:  # its "Not Found: <path>"
        Client().get("/book/alpha/confirm/s3cret-booking-token/")
    (line,) = request_log()
    assert line["path"] == "/book/alpha/confirm/<token>/" and line["status"] == 404
    (warned,) = warnings()
    assert warned["message"] == "Not Found: /book/alpha/confirm/<token>/"
    assert "status_code" not in warned and "request" not in warned  # only the listed fields


@pytest.mark.parametrize(
    ("log_format", "request_lines", "written"),
    [
        ("json", True, {"level": "WARNING", "logger": "check", "message": "GET /kc/"}),
        (None, False, "GET /kc/?phone=0170-1234567"),  # the default: as it always was
    ],
)
def test_the_log_format_setting_chooses_json_lines_and_request_lines(
    tmp_path, log_format, request_lines, written
):
    code = (
        "import django, logging; django.setup(); from django.conf import settings; "
        "print('rathaus.core.logs.RequestLogMiddleware' in settings.MIDDLEWARE); "
        "logging.getLogger('check').warning('GET /kc/?phone=0170-1234567')"
    )
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_DATA_DIR": str(tmp_path),
        "RATHAUS_LOG_FORMAT": log_format or "",
    }
    if log_format is None:
        del environment["RATHAUS_LOG_FORMAT"]
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(request_lines)
    (line,) = result.stderr.splitlines()
    if log_format == "json":
        entry = json.loads(line)
        assert {key: entry[key] for key in written} == written and "time" in entry
    else:
        assert line == written

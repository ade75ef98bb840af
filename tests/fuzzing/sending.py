"""Sending one malformed request in a rolled-back savepoint, and judging its answer."""

from __future__ import annotations

import json
import re
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.messages import constants as message_levels
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests.fuzzing.common import ROOT, Params
from tests.fuzzing.html import Html
from tests.fuzzing.recording import Record, recording
from tests.fuzzing.urlconf import Page

# Tables a request that changes nothing still writes: sessions, the login lockout (axes),
# rate-limit counters, the access log (a refused search is still a search), the cache, and
# the second factor's devices (django-otp counts a wrong code on the device it was meant
# for; the set-up page makes the app's pending device). A used-up recovery code
# (otp_static_statictoken) is a real change and stays checked.
EXEMPT_TABLES = re.compile(
    r"django_session|axes_\w+|core_attemptcount|core_personaldataaccess|rathaus_cache"
    r"|otp_totp_totpdevice|otp_static_staticdevice"
)
WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.I)
MAYBE_WRITE = re.compile(r"\s*(?:WITH|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)


@dataclass
class Finding:
    kind: str  # "500", or "changed": a refused request changed rows
    page: str
    method: str
    who: str
    url: str
    params: str
    detail: str  # the exception's last line, or the tables changed
    where: str = ""  # the last frame in the project's code
    raised: str = ""  # the frame that raised
    trace: str = ""  # the project's frames

    @property
    def key(self) -> tuple[str, ...]:
        """Findings with the same key are one bug."""
        return (self.kind, self.page, self.method, self.detail.split(":")[0], self.where)

    def line(self) -> str:
        place = f" at {self.where}" if self.where else ""
        raised = f" (raised in {self.raised})" if self.raised and self.raised != self.where else ""
        return (
            f"{self.kind} {self.method} {self.page} as {self.who}: {self.detail}{place}{raised}"
            f"\n      {self.url} {self.params}"
        )


def _short(filename: str) -> str:
    """A file of the project relative to its root, one of a library from site-packages."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    path = Path(filename)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else filename


def _brief(value: str) -> str:
    return value if len(value) <= 40 else f"{value[:10]}…({len(value)} characters)"


def show(params: Params, files: dict[str, Any]) -> str:
    shown: dict[str, Any] = {
        k: [_brief(x) for x in v] if len(v) > 1 else _brief(v[0]) for k, v in params.items() if v
    }
    shown |= {k: f"<file {f.name!r}, {f.size} bytes>" for k, f in files.items()}
    text = json.dumps(shown, ensure_ascii=True)
    return text if len(text) < 600 else text[:600] + " …"


def _table_of(sql: str) -> str | None:
    """The table a statement writes to, "?" when it may write anywhere, None for a read."""
    found = WRITE.match(sql)
    return found.group(1) if found else ("?" if MAYBE_WRITE.match(sql) else None)


def snapshot() -> dict[str, list[str]]:
    """Every row of every table that must not change on a refused request, as text."""
    tables = [t for t in connection.introspection.table_names() if not EXEMPT_TABLES.fullmatch(t)]
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = sorted(
                repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
                for row in cursor.fetchall()
            )
    return rows


@dataclass
class Answer:
    status: int
    location: str  # of a redirect
    record: Record
    html: Html | None  # parsed only while learning


class Fuzzer:
    """Sends requests as the people of `clients`, each in a savepoint that is rolled back (so
    every request meets the same database), and collects the 5xx answers and the refused
    requests that changed rows."""

    def __init__(self, clients: dict[str, Client], login_url: str) -> None:
        self.cookies = {who: client.cookies for who, client in clients.items()}
        self.login_url = login_url
        self.findings: dict[tuple[str, ...], list[Finding]] = {}
        self.sent: Counter[str] = Counter()  # by phase
        self.sent_by: Counter[str] = Counter()  # by person
        self.on_purpose: Counter[str] = Counter()  # 503s a view gave without an error
        self._clients: dict[str, Client] = {}
        self._before: dict[str, list[str]] | None = None

    def client(self, who: str) -> Client:
        """The person's client with only the cookies of their login: each request starts
        from the same session. All share one handler, as each new one builds the middleware
        chain again (WhiteNoise then reads every static file)."""
        client = self._clients.get(who)
        if client is None:
            client = Client(raise_request_exception=False)
            if self._clients:
                client.handler = next(iter(self._clients.values())).handler
            self._clients[who] = client
        client.cookies = SimpleCookie()
        for name, morsel in self.cookies[who].items():
            client.cookies[name] = morsel.value
        return client

    def send(
        self,
        page: Page,
        who: str,
        method: str,
        path: str,
        params: Params,
        *,
        files: dict[str, Any] | None = None,
        htmx: bool = False,
        urlencoded: bool = False,
        phase: str = "fuzz",
    ) -> Answer:
        files = files or {}
        if self._before is None:
            self._before = snapshot()
        record = Record()
        written: set[str] = set()

        def watch(execute: Callable, sql: str, *args: Any) -> Any:
            table = _table_of(sql)
            if table and not EXEMPT_TABLES.fullmatch(table):
                written.add(table)
            return execute(sql, *args)

        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        client = self.client(who)
        self.sent[phase] += 1
        self.sent_by[who] += 1
        with transaction.atomic():
            with recording(record), connection.execute_wrapper(watch):
                if method == "GET":
                    response = client.get(path, params, **headers)
                elif urlencoded and not files:
                    body = urlencode([(k, v) for k, vs in params.items() for v in vs])
                    kind = "application/x-www-form-urlencoded"
                    response = client.post(path, body, kind, **headers)
                else:
                    response = client.post(path, {**params, **files}, **headers)
                streamed = self._stream(response)
            where = (page, who, method, path, show(params, files))
            answer = self._judge(where, response, streamed, record, written, phase)
            transaction.set_rollback(True)
        return answer

    @staticmethod
    def _stream(response: Any) -> BaseException | None:
        """Read a streamed answer (a download) to its end, as the server would; the test
        client closes it then (closing it again would close the database connection)."""
        try:
            for _chunk in response.streaming_content if response.streaming else ():
                pass
        except Exception as error:  # noqa: BLE001 - it is the finding
            return error
        return None

    def _judge(
        self,
        where: tuple[Page, str, str, str, str],
        response: Any,
        streamed: BaseException | None,
        record: Record,
        written: set[str],
        phase: str,
    ) -> Answer:
        page, who, method, path, shown = where
        status = response.status_code
        location = response.get("Location", "") if 300 <= status < 400 else ""
        error = response.exc_info[1] if getattr(response, "exc_info", None) else streamed
        if status >= 500 or streamed is not None:
            if status == 503 and error is None:
                self.on_purpose[page.name] += 1  # "unavailable", said on purpose
            else:
                self._add(_error("500", where, status, error))
            return Answer(status, location, record, None)
        bad_forms = [f for f in record.forms if f.is_bound and f._errors]
        storage = getattr(response.wsgi_request, "_messages", None)
        levels = {m.level for m in getattr(storage, "_queued_messages", [])}
        refused = (
            400 <= status < 500
            or location.startswith(self.login_url)
            or bool(bad_forms)
            or (message_levels.ERROR in levels and message_levels.SUCCESS not in levels)
        )
        if refused and written:
            try:
                after = snapshot()
            except DatabaseError as failed:  # the view left the transaction broken
                self._add(_error("500", where, status, failed))
            else:
                assert self._before is not None
                changed = sorted(t for t in after if after[t] != self._before.get(t))
                if changed:
                    detail = f"refused ({status}) but changed {', '.join(changed)}"
                    self._add(Finding("changed", page.name, method, who, path, shown, detail))
        html = None
        if phase == "discovery" and "text/html" in response.get("Content-Type", ""):
            html = Html(response.content.decode(errors="replace"))
        return Answer(status, location, record, html)

    def _add(self, finding: Finding) -> None:
        self.findings.setdefault(finding.key, []).append(finding)


def _error(
    kind: str,
    where: tuple[Page, str, str, str, str],
    status: int,
    error: BaseException | None,
) -> Finding:
    page, who, method, path, shown = where
    finding = Finding(kind, page.name, method, who, path, shown, f"status {status}")
    if error is not None:
        finding.detail = traceback.format_exception_only(type(error), error)[-1].strip()[:300]
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/src/rathaus/" in f.filename]
        if ours:
            finding.where = f"{_short(ours[-1].filename)}:{ours[-1].lineno}"
        if frames:
            finding.raised = f"{_short(frames[-1].filename)}:{frames[-1].lineno}"
        shown = ours[-6:] + ([frames[-1]] if frames and frames[-1] not in ours else [])
        finding.trace = "".join(traceback.format_list(shown))
    return finding

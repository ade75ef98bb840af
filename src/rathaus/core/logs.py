"""Logs a data centre's collector can read (`RATHAUS_LOG_FORMAT=json`): one JSON object per
line, and one line per request.

Logs leave the installation for systems with other readers and other retention, so they
carry no personal data: no user names or e-mail addresses, no query strings (search terms,
phone numbers), and no secret part of a path (the tokens of a citizen's booking links or of a
kiosk). Other fields are dropped unless listed here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# URL parts that are credentials: whoever has the link may cancel a booking or run a kiosk.
SECRET_URL_KWARGS = ("token",)
# The fields a request line adds (RequestLogMiddleware); any other `extra` is not written.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "tenant")
# "?…" after something path-like, as in the development server's request lines.
_QUERY = re.compile(r"(/[^\s?#\"']*)\?[^\s#\"']*")

request_log = logging.getLogger("rathaus.request")


def without_query(text: str) -> str:
    return _QUERY.sub(r"\1", text)


def logged_path(request: HttpRequest) -> str:
    """The path without its query string and with its secret parts replaced by their names."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name in SECRET_URL_KWARGS:
        value = match.kwargs.get(name) if match is not None else None
        if value:
            path = path.replace(str(value), f"<{name}>")
    return path


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):  # django.request's "Not Found: <path>"
            message = message.replace(request.path, logged_path(request))
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": without_query(message),
        }
        for field in REQUEST_FIELDS:
            if field in record.__dict__:
                entry[field] = record.__dict__[field]
        if record.exc_info:
            entry["exception"] = without_query(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """One line per request: method, path, status, duration and the active tenant's id. In
    MIDDLEWARE only with the JSON format (settings), so the text output stays as it was."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        path = logged_path(request)
        fields: dict[str, object] = {
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        tenant = getattr(request, "tenant", None)  # set by TenantMiddleware further in
        if tenant is not None:
            fields["tenant"] = tenant.pk
        request_log.info("%s %s %s", request.method, path, response.status_code, extra=fields)
        return response

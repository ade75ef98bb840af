"""Prometheus metrics: django-prometheus counts requests and their latency per view; Rathaus
adds what only it knows (task queue, timers, the worker's heartbeat), read from the database
at each scrape. Who may scrape is decided here too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.middleware import PrometheusAfterMiddleware
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rathaus.core import health
from rathaus.core.clients import client_ip


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus' per-view middleware, with one change: its latency histogram labels
    the raw method, and anyone may send any method; an unknown one is counted as
    "<invalid method>" like in its other metrics, so a bot cannot grow the series without
    bound."""

    def label_metric(
        self, metric: Any, request: HttpRequest, response: HttpResponse | None = None, **labels: Any
    ) -> Any:
        if "method" in labels:
            labels["method"] = self._method(request)
        return super().label_metric(metric, request, response, **labels)


def scrape_allowed(request: HttpRequest) -> bool:
    """With the bearer token `RATHAUS_METRICS_TOKEN` (when set), or from an address in
    `RATHAUS_METRICS_ALLOWED_IPS`."""
    token = settings.RATHAUS_METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme == "Bearer" and secrets.compare_digest(offered.encode(), token.encode()):
        return True
    if not settings.RATHAUS_BEHIND_PROXY and "HTTP_X_FORWARDED_FOR" in request.META:
        # A proxy we were not told of: REMOTE_ADDR is the proxy (often 127.0.0.1), not the
        # one asking, and the allowed loopback would let the whole internet in.
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # a dual-stack listener shows 127.0.0.1 as ::ffff:…
    return any(address in network for network in settings.RATHAUS_METRICS_ALLOWED_IPS)


class RathausCollector(Collector):
    """Gauges computed at scrape time. Metric families, not Gauge objects: those would keep
    their values in files in prometheus_client's multi-process mode (several gunicorn
    workers), and the database's answer is the same whichever process is asked."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        queue = GaugeMetricFamily(
            "rathaus_task_queue_length", "Tasks in the database queue that are due to run."
        )
        queue.add_metric([], health.queue_length())
        yield queue
        reading = health.pulse(self.now)
        lag = GaugeMetricFamily(
            "rathaus_timer_lag_seconds",
            "Seconds since the periodic job was due without having run (0 when on time).",
            labels=["timer"],
        )
        for name, seconds in sorted(reading.lags.items()):
            lag.add_metric([name], seconds)
        yield lag
        age = reading.age_seconds
        yield GaugeMetricFamily(
            "rathaus_worker_heartbeat_age_seconds",
            "Seconds since a worker last ran its timers (+Inf: never).",
            value=float("inf") if age is None else age,
        )


def rathaus_metrics(now: dt.datetime) -> bytes:
    """The Rathaus gauges in Prometheus' text format (two queries)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RathausCollector(now))
    return generate_latest(registry)

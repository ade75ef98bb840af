"""The two endpoints of the data centre's monitoring: /healthz for the load balancer and
/metrics for Prometheus. Neither needs a login nor shows a tenant or a person; both are read
afresh on every request (never cached, no-store)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_prometheus.exports import ExportToDjangoView

from rathaus.core.health import health_report
from rathaus.core.metrics import rathaus_metrics, scrape_allowed


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    report = health_report(timezone.now(), stale_after=settings.RATHAUS_WORKER_STALE_SECONDS)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        raise Http404  # as if there were no such page: nothing to probe for
    # django-prometheus' own view (it knows the multi-process mode), then the Rathaus gauges.
    response = ExportToDjangoView(request)
    response.content = response.content + rathaus_metrics(timezone.now())
    return response

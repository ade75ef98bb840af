"""The endpoint of the data centre's monitoring: /healthz for the load balancer. It needs no
login nor shows a tenant or a person, and is read afresh on every request (never cached,
no-store)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from rathaus.core.health import health_report


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    report = health_report(timezone.now(), stale_after=settings.RATHAUS_WORKER_STALE_SECONDS)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)

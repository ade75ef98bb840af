"""Start page per role, tenant switcher, organisation overview, access log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.core import selectors
from rathaus.core.exports import csv_response
from rathaus.core.forms import AccessLogFilter
from rathaus.core.home import tiles_for
from rathaus.core.http import TenantRequest, next_url
from rathaus.core.middleware import SESSION_TENANT_KEY
from rathaus.core.models import Event, OrgUnit, PersonalDataAccess, Role
from rathaus.core.paging import paged
from rathaus.core.permissions import role_required


@login_required
def home(request: TenantRequest) -> HttpResponse:
    if request.tenant is None:
        return render(request, "core/no_tenant.html", status=403)
    roles = request.roles
    context: dict[str, object] = {
        "memberships": request.memberships,
        "tiles": tiles_for(request),  # what the apps show (core.home)
    }
    if roles & {Role.CONTROLLER, Role.PROCESS_MANAGER, Role.TENANT_ADMIN, Role.TEAM_LEAD}:
        since = timezone.now() - dt.timedelta(days=30)
        context["activity"] = (
            Event.objects.filter(timestamp__gte=since)
            .values("activity")
            .annotate(n=Count("id"))
            .order_by("-n", "activity")[:10]
        )
    return render(request, "core/home.html", context)


@login_required
@require_POST
def tenant_switch(request: TenantRequest) -> HttpResponse:
    wanted = request.POST.get("tenant", "")
    allowed = {str(t.pk): t for t in request.tenants}
    if wanted not in allowed:
        messages.error(request, _("You are not a member of that municipality."))
    else:
        request.session[SESSION_TENANT_KEY] = allowed[wanted].pk
        messages.success(
            request, _("You are now working for %(name)s.") % {"name": allowed[wanted].name}
        )
    return redirect(next_url(request, default="core:home"))


@role_required(
    Role.TEAM_LEAD,
    Role.CONTROLLER,
    Role.PROCESS_MANAGER,
    Role.KNOWLEDGE_EDITOR,
    Role.CLERK,
    Role.KC_AGENT,
)
def organisation(request: TenantRequest) -> HttpResponse:
    units = OrgUnit.objects.annotate(staff=Count("memberships__user", distinct=True)).order_by(
        "path"
    )
    return render(request, "core/organisation.html", {"units": units})


@role_required(Role.TENANT_ADMIN)
def access_log(request: TenantRequest) -> HttpResponse:
    """Who viewed, searched or exported citizens' data: for the data protection officer and
    for answering a citizen's request for information (Art. 15 GDPR)."""
    form = AccessLogFilter(request.GET or None, kinds=selectors.access_log_kinds())
    rows = selectors.access_log(**(form.cleaned_data if form.is_valid() else {}))
    if request.GET.get("format") == "csv":
        return _access_log_csv(rows)
    return render(
        request,
        "core/access_log.html",
        {"form": form, "days": settings.RATHAUS_ACCESS_LOG_DAYS, **paged(request, rows, 50)},
    )


def _access_log_csv(rows: QuerySet[PersonalDataAccess]) -> HttpResponse:
    response, writer = csv_response("zugriffsprotokoll.csv")
    writer.writerow([_("When"), _("User or API token"), _("Action"), _("What"), _("Which")])
    for row in rows.iterator():
        writer.writerow(
            [
                timezone.localtime(row.at).strftime("%d.%m.%Y %H:%M:%S"),
                row.who,
                row.get_action_display(),
                row.subject_kind,
                row.subject_id,
            ]
        )
    return response

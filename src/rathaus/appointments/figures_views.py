"""The waiting-time dashboard of the citizen offices and its CSV export.

Controllers and tenant administrators see every office; citizen office staff and team leads
the offices they work at (`permissions`), and the sum over all offices only when that is
all of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rathaus.catalog.models import Location
from rathaus.core.exports import csv_response
from rathaus.core.forms import limit_dates, model_choice_field
from rathaus.core.http import TenantRequest, id_param
from rathaus.core.models import Role
from rathaus.core.permissions import has_role, role_required

from . import selectors
from .figures import day_service_rows, office_figures
from .permissions import OFFICE_ROLES, may_work_at, workable_locations

FIGURE_ROLES = (Role.TEAM_LEAD, Role.CONTROLLER, Role.OFFICE_STAFF)  # tenant admins always
DEFAULT_DAYS = 30
MAX_DAYS = 400


class FiguresForm(forms.Form):
    location: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        empty_label=gettext_lazy("All locations"),
        label=gettext_lazy("Location"),
        widget=forms.Select(attrs={"class": "kern-form-input__select"}),
    )
    first = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date", "class": "kern-form-input__input"}),
    )
    last = forms.DateField(
        label=gettext_lazy("Until"),
        widget=forms.DateInput(attrs={"type": "date", "class": "kern-form-input__input"}),
    )
    target = forms.IntegerField(
        label=gettext_lazy("Target waiting time (minutes)"),
        min_value=1,
        max_value=240,
        widget=forms.NumberInput(attrs={"class": "kern-form-input__input"}),
    )

    def __init__(
        self, *args: Any, locations: QuerySet[Location], everything: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = model_choice_field(self, "location")
        field.queryset = locations
        if not everything:  # the sum over all offices would include others' offices
            field.required = True
            field.empty_label = None
        limit_dates(self, past=10, future=1, fields=["first", "last"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The first day must not be after the last day."))
            if (last - first).days >= MAX_DAYS:
                raise forms.ValidationError(
                    _("Please choose at most %(days)d days.") % {"days": MAX_DAYS}
                )
        return data


def _query(request: TenantRequest) -> dict[str, str]:
    """The filters from the address, with the defaults (last 30 days, 15 minutes) filled in."""
    today = timezone.localdate()
    data = {
        "location": "",
        "first": (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "last": today.isoformat(),
        "target": "15",
    }
    data.update({k: str(v) for k, v in request.GET.items() if k in data and v != ""})
    return data


def _location_or_404(request: TenantRequest, value: str) -> Location | None:
    """Another tenant's location id is a 404 like any unknown id (the scope hides it)."""
    if not value:
        return None
    pk = id_param(value)
    if pk is None:
        raise Http404
    return get_object_or_404(Location, pk=pk, tenant=request.tenant)


def _sees_every_office(request: TenantRequest) -> bool:
    # Controllers need the whole picture; the figures hold no personal data.
    return has_role(request, Role.CONTROLLER, Role.TENANT_ADMIN)


@role_required(*FIGURE_ROLES)
def figures(request: TenantRequest) -> HttpResponse:
    data = _query(request)
    offices = selectors.office_locations()
    sees_all = _sees_every_office(request)
    if sees_all:
        locations, everything = offices, True
    else:
        locations = workable_locations(request, OFFICE_ROLES, among=offices)
        everything = not offices.exclude(pk__in=locations.values("pk")).exists()
        if not data["location"] and not everything:
            first = locations.first()
            data["location"] = str(first.pk) if first else ""
    location = _location_or_404(request, data["location"])
    if location is not None and not sees_all and not may_work_at(request, location.pk):
        raise PermissionDenied
    form = FiguresForm(data, locations=locations, everything=everything)
    if not form.is_valid():
        return render(
            request, "appointments/figures/dashboard.html", {"form": form, "figures": None}
        )
    filters = {
        "tenant": request.tenant,
        "location": location,
        "first": form.cleaned_data["first"],
        "last": form.cleaned_data["last"],
        "target_minutes": form.cleaned_data["target"],
    }
    if request.GET.get("format") == "csv":
        return _csv(filters)
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "appointments/figures/dashboard.html",
        {
            "form": form,
            "figures": office_figures(**filters),
            "location": location,
            "querystring": query.urlencode(),
        },
    )


def _number(value: float | None) -> str:
    return "" if value is None else formats.number_format(value, 1)


def _csv(filters: dict[str, Any]) -> HttpResponse:
    response, writer = csv_response(
        f"wartezeiten-{filters['first']:%Y%m%d}-{filters['last']:%Y%m%d}.csv"
    )
    writer.writerow(
        [_("Day"), _("Service"), _("Visits"), _("Waiting time median (min)"),
         _("Waiting time mean (min)"), _("Waiting time 90th percentile (min)"),
         _("Called within target (%)"), _("Service time median (min)"),
         _("Time in office median (min)")]
    )  # fmt: skip
    for row in day_service_rows(**filters):
        waiting = row.waiting
        writer.writerow(
            [
                row.key[0].strftime("%d.%m.%Y"),
                row.label,
                row.visits,
                _number(waiting.median),
                _number(waiting.mean),
                _number(waiting.p90),
                _number(row.within_percent),
                _number(row.service.median),
                _number(row.in_office.median),
            ]
        )
    return response

"""Set-up pages of the citizen offices: locations, hours, closures, services, counters, rules.

A team lead sets up the locations of their unit and the units below it (`permissions`)."""

from __future__ import annotations

import copy
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from rathaus.catalog import services as catalog_services
from rathaus.catalog.models import Location
from rathaus.core.http import TenantRequest, acting_staff, active_tenant
from rathaus.core.models import Role
from rathaus.core.paging import paged
from rathaus.core.permissions import has_role, role_required

from . import services
from .models import AvailabilityRule, BookingPolicy, Counter, LocationClosure, OfferedService
from .permissions import location_check, workable_locations, workable_units
from .setup_forms import (
    ClosureForm,
    CounterForm,
    HoursForm,
    LocationForm,
    OfferForm,
    PolicyForm,
    RuleForm,
)

SETUP_ROLES = (Role.TEAM_LEAD,)  # tenant admins are always allowed (role_required)


def _location_form(request: TenantRequest, *args: object, **kwargs: object) -> LocationForm:
    return LocationForm(
        *args,
        units=workable_units(request, SETUP_ROLES),
        unit_required=not has_role(request, Role.TENANT_ADMIN),
        **kwargs,
    )


@role_required(*SETUP_ROLES)
def location_list(request: TenantRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    locations = (
        workable_locations(request, SETUP_ROLES)
        .annotate(
            n_rules=Count("rules", distinct=True), n_counters=Count("counters", distinct=True)
        )
        .order_by("name")
    )
    if query:
        locations = locations.filter(Q(name__icontains=query) | Q(street__icontains=query))
    return render(
        request,
        "appointments/setup/location_list.html",
        {**paged(request, locations), "q": query},
    )


@role_required(*SETUP_ROLES)
def location_create(request: TenantRequest) -> HttpResponse:
    form = _location_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        location = catalog_services.location_create(
            tenant=active_tenant(request),
            actor=acting_staff(request),
            **form.cleaned_data,
        )
        messages.success(request, _("Location created. Now set its hours, services and capacity."))
        return redirect("appointments:location_setup", pk=location.pk)
    return render(request, "appointments/setup/location_form.html", {"form": form})


def _hours_initial(location: Location) -> dict[str, str]:
    initial: dict[str, list[str]] = {}
    for row in location.opening_hours.all():
        initial.setdefault(f"day{row.weekday}", []).append(f"{row.opens:%H:%M}-{row.closes:%H:%M}")
    return {key: ", ".join(spans) for key, spans in initial.items()}


def _handle(request: TenantRequest, location: Location, section: str) -> forms.BaseForm | None:
    """Run one section's POST; returns the bound form when it has errors, else None."""
    actor = acting_staff(request)
    data = request.POST
    handlers: dict[str, Callable[[], forms.BaseForm | None]] = {}

    def address() -> forms.BaseForm | None:
        # A copy: a form with errors must not change the location the page shows.
        form = _location_form(request, data, instance=copy.copy(location))
        if not form.is_valid():
            return form
        catalog_services.location_update(location=location, actor=actor, **form.cleaned_data)
        return None

    def hours() -> forms.BaseForm | None:
        form = HoursForm(data)
        if not form.is_valid():
            return form
        services.opening_hours_set(location=location, hours=form.cleaned_data["hours"], actor=actor)
        return None

    def closure() -> forms.BaseForm | None:
        form = ClosureForm(data)
        if not form.is_valid():
            return form
        services.closure_add(location=location, actor=actor, **form.cleaned_data)
        return None

    def offer() -> forms.BaseForm | None:
        form = OfferForm(data)
        if not form.is_valid():
            return form
        services.service_offer(location=location, actor=actor, **form.cleaned_data)
        return None

    def counter() -> forms.BaseForm | None:
        form = CounterForm(data, location=location)
        if not form.is_valid():
            return form
        services.counter_save(location=location, actor=actor, **form.cleaned_data)
        return None

    def rule() -> forms.BaseForm | None:
        instance = (
            get_object_or_404(AvailabilityRule, pk=data["rule"], location=location)
            if data.get("rule")
            else AvailabilityRule(location=location)
        )
        form = RuleForm(data, instance=instance)
        if not form.is_valid():
            return form
        services.rule_save(rule=form.save(commit=False), actor=actor)
        return None

    def remove() -> None:
        kind, pk = data.get("kind"), data.get("pk")
        if kind == "closure":
            services.closure_remove(
                closure=get_object_or_404(LocationClosure, pk=pk, location=location), actor=actor
            )
        elif kind == "offer":
            services.service_unoffer(
                offered=get_object_or_404(OfferedService, pk=pk, location=location), actor=actor
            )
        elif kind == "rule":
            services.rule_delete(
                rule=get_object_or_404(AvailabilityRule, pk=pk, location=location), actor=actor
            )
        elif kind == "counter":
            services.counter_remove(
                counter=get_object_or_404(Counter, pk=pk, location=location), actor=actor
            )

    def catalogue() -> None:
        added = services.offers_from_catalogue(location=location, actor=actor)
        messages.info(
            request, _("%(n)d services from the catalogue are now bookable here.") % {"n": added}
        )

    handlers.update(
        address=address,
        hours=hours,
        closure=closure,
        offer=offer,
        counter=counter,
        rule=rule,
        remove=remove,
        catalogue=catalogue,
    )
    if section not in handlers:
        messages.error(request, _("Unknown action."))
        return None
    return handlers[section]()


@role_required(*SETUP_ROLES)
def location_setup(request: TenantRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk)
    location_check(request, location.pk, SETUP_ROLES)
    forms_by_section: dict[str, forms.BaseForm] = {}
    if request.method == "POST":
        section = request.POST.get("section", "")
        try:
            failed = _handle(request, location, section)
        except services.BookingError as error:
            messages.error(request, error.message)
            failed = None
        if failed is None:
            if not messages.get_messages(request):
                messages.success(request, _("Saved."))
            return redirect(f"{request.path}#{section}")
        forms_by_section[section] = failed
        messages.error(request, _("Please correct the marked fields."))
    context = {
        "location": location,
        "address_form": forms_by_section.get("address")
        or _location_form(request, instance=location),
        "hours_form": forms_by_section.get("hours") or HoursForm(initial=_hours_initial(location)),
        "closure_form": forms_by_section.get("closure") or ClosureForm(),
        "offer_form": forms_by_section.get("offer") or OfferForm(),
        "counter_form": forms_by_section.get("counter") or CounterForm(location=location),
        "rule_form": forms_by_section.get("rule")
        or RuleForm(initial={"weekdays": [0, 1, 2, 3, 4]}),
        "closures": location.closures.all(),
        "offers": location.offered.select_related("service"),
        "counters": location.counters.prefetch_related("services"),
        "rules": location.rules.all(),
        "catalogue_bookable": location.services.filter(bookable=True).count(),
    }
    return render(
        request,
        "appointments/setup/location_setup.html",
        context,
        status=200 if not forms_by_section else 400,
    )


@role_required()
def policy_edit(request: TenantRequest) -> HttpResponse:
    """The tenant's booking rules; only tenant administrators (role_required always admits them)."""
    policy = BookingPolicy.for_tenant(active_tenant(request))
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.booking_policy_save(policy=form.save(commit=False), actor=acting_staff(request))
        messages.success(request, _("Booking rules saved."))
        return redirect("appointments:policy")
    return render(
        request,
        "appointments/setup/policy.html",
        {"form": form},
        status=400 if form.errors else 200,
    )

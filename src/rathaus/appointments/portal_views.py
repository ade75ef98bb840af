"""Citizen pages: book an appointment, confirm it by the e-mail link, cancel or move it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_scopes import scope

from rathaus.core.models import Tenant

from . import services
from .links import booking_for_token


def book(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    raise NotImplementedError


def confirm(request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=tenant_slug)
    with scope(tenant=tenant):
        booking = booking_for_token(token, "confirm")
        error = None
        if booking is None:
            error = "invalid"
        else:
            try:
                services.booking_confirm(booking=booking)
            except services.BookingError as exc:
                error = exc.message
        return render(
            request,
            "appointments/portal/confirmed.html",
            {"public_tenant": tenant, "booking": booking, "error": error},
            status=200 if error is None else 410,
        )


def cancel(request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
    raise NotImplementedError


def move(request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
    raise NotImplementedError

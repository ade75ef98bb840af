"""The citizen status page (no login): a citizen looks up an inquiry by reference and
e-mail address."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from rathaus.contacts import selectors
from rathaus.contacts.forms import CitizenStatusForm
from rathaus.core.clients import client_ip
from rathaus.core.models import Tenant
from rathaus.core.services import attempt_count
from rathaus.core.tenancy import tenant_context

STATUS_ATTEMPTS = 10  # per address and quarter of an hour on the citizen status page
STATUS_WINDOW = 15 * 60


def _too_many_attempts(request: HttpRequest) -> bool:
    return attempt_count(f"case-status:{client_ip(request)}", STATUS_WINDOW) > STATUS_ATTEMPTS


def citizen_status(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=tenant_slug)
    form = CitizenStatusForm(request.POST or None)
    case = None
    status = 200
    if request.method == "POST":
        if _too_many_attempts(request):
            form = CitizenStatusForm()
            messages.error(request, _("Too many attempts. Please try again in 15 minutes."))
            status = 429
        elif form.is_valid():
            with tenant_context(tenant):
                case = selectors.case_for_citizen(
                    reference=form.cleaned_data["reference"], email=form.cleaned_data["email"]
                )
            if case is None:
                form.add_error(
                    None, _("We found no inquiry with this reference and e-mail address.")
                )
    return render(
        request,
        "contacts/citizen_status.html",
        {"form": form, "case": case, "public_tenant": tenant},
        status=status,
    )

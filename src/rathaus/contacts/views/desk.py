"""Staff pages of the KC desk: starting and finishing a contact, the e-mail of a running
contact, the caller's history and the callbacks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.contacts import selectors, services
from rathaus.contacts.forms import ContactFinishForm, ContactStartForm
from rathaus.contacts.models import Attachment, Contact, Outcome
from rathaus.contacts.views.common import _download
from rathaus.core.access import access_logged
from rathaus.core.http import TenantRequest, acting_staff, active_tenant
from rathaus.core.models import AccessAction, Role
from rathaus.core.paging import paged
from rathaus.core.permissions import has_role, role_required

DESK_ROLES = (Role.KC_AGENT, Role.CLERK, Role.TEAM_LEAD)


def _home_unit(request: TenantRequest) -> Any:
    memberships = request.memberships
    kc = next(
        (m.org_unit for m in memberships if m.org_unit.is_kc or m.role == Role.KC_AGENT), None
    )
    return kc or (memberships[0].org_unit if memberships else None)


@role_required(*DESK_ROLES)
def desk(request: TenantRequest) -> HttpResponse:
    agent = acting_staff(request)
    running = selectors.open_contact_of(agent)
    if running is not None:
        return redirect("contacts:contact", pk=running.pk)
    today = timezone.localdate()
    mine_today = Contact.objects.filter(agent=agent, started_at__date=today)
    return render(
        request,
        "contacts/desk.html",
        {
            "start_form": ContactStartForm(),
            "callbacks": selectors.callbacks_open(agent)[:10],
            "now": timezone.now(),
            "done_today": mine_today.exclude(ended_at=None).count(),
            "answered_today": mine_today.filter(outcome=Outcome.ANSWERED).count(),
        },
    )


@role_required(*DESK_ROLES)
@require_POST
def contact_start(request: TenantRequest) -> HttpResponse:
    form = ContactStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a channel."))
        return redirect("contacts:desk")
    running = selectors.open_contact_of(acting_staff(request))
    contact = running or services.contact_start(
        tenant=active_tenant(request),
        agent=acting_staff(request),
        org_unit=_home_unit(request),
        channel=form.cleaned_data["channel"],
    )
    return redirect("contacts:contact", pk=contact.pk)


@role_required(*DESK_ROLES)
def contact_page(request: TenantRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk, agent=request.user, ended_at__isnull=True)
    # The form starts from what the contact knows (an e-mail's sender and subject), so
    # finishing it never wipes them.
    form = ContactFinishForm(
        request.POST or None,
        initial={
            "summary": contact.summary,
            "citizen_name": contact.citizen_name,
            "citizen_phone": contact.citizen_phone,
            "citizen_email": contact.citizen_email,
            "citizen_address": contact.citizen_address,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service = data["service"]
        handover = None
        if data["outcome"] == Outcome.HANDED_OVER and not data["join_case"]:
            handover = {
                "service": service,
                "org_unit": data["handover_unit"],
                "subject": data["handover_subject"],
                "priority": data["priority"],
            }
        try:
            contact = services.contact_finish(
                contact=contact,
                outcome=data["outcome"],
                actor=acting_staff(request),
                summary=data["summary"],
                services=[service] if service else [],
                citizen={
                    "name": data["citizen_name"],
                    "phone": data["citizen_phone"],
                    "email": data["citizen_email"],
                    "address": data["citizen_address"],
                },
                callback_due=data["callback_due"],
                handover=handover,
                join_case=data["join_case"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if contact.case:
                messages.success(
                    request,
                    _("Handed over as case %(ref)s to %(unit)s, due %(due)s.")
                    % {
                        "ref": contact.case.reference,
                        "unit": contact.case.org_unit.name,
                        "due": timezone.localtime(contact.case.deadline).strftime("%d.%m.%Y"),
                    },
                )
            else:
                messages.success(
                    request, _("Contact saved: %(o)s.") % {"o": contact.get_outcome_display()}
                )
            return redirect("contacts:desk")
    mail = selectors.mail_of_contact(contact)
    if mail is not None:
        access_logged(request, "mail", mail.pk)
    return render(
        request, "contacts/contact.html", {"contact": contact, "form": form, "mail": mail}
    )


@role_required(*DESK_ROLES)
def contact_mail_file(request: TenantRequest, pk: int, attachment: int = 0) -> FileResponse:
    """A file of the e-mail of the agent's running contact, or (no file) the whole mail."""
    contact = get_object_or_404(Contact, pk=pk, agent=request.user)
    mail = selectors.mail_of_contact(contact)
    if mail is None:
        raise Http404
    if not attachment:
        if not mail.raw:
            raise Http404
        return _download(mail.raw, "mail.eml", "message/rfc822")
    stored = get_object_or_404(Attachment, pk=attachment, inbound_mail=mail)
    return _download(stored.file, stored.filename, stored.content_type)


@role_required(*DESK_ROLES)
def citizen_history(request: TenantRequest) -> HttpResponse:
    history = selectors.citizen_history(
        phone=request.GET.get("citizen_phone", "")[:50],
        email=request.GET.get("citizen_email", "")[:254],
    )
    if history.contacts or history.cases:  # a caller's earlier contacts were shown
        access_logged(request, "citizen_history", action=AccessAction.SEARCHED)
    return render(request, "contacts/partials/citizen_history.html", {"history": history})


@role_required(*DESK_ROLES)
def callbacks(request: TenantRequest) -> HttpResponse:
    everyone = has_role(request, Role.TEAM_LEAD) and request.GET.get("all") == "1"
    rows = selectors.callbacks_open(None if everyone else acting_staff(request))
    return render(
        request,
        "contacts/callbacks.html",
        {
            **paged(request, rows),  # the pager keeps `all=1`
            "everyone": everyone,
            "now": timezone.now(),
            "is_lead": has_role(request, Role.TEAM_LEAD),
        },
    )


@role_required(*DESK_ROLES)
@require_POST
def callback_done(request: TenantRequest, pk: int) -> HttpResponse:
    try:
        contact = selectors.callback_contact(pk)
    except Contact.DoesNotExist:
        raise Http404 from None
    if contact.agent_id != request.user.pk and not has_role(request, Role.TEAM_LEAD):
        raise PermissionDenied
    try:
        services.callback_done(contact=contact, actor=acting_staff(request))
        messages.success(request, _("Callback marked as done."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("contacts:callbacks")

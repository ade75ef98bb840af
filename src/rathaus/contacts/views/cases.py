"""Staff pages of the cases: the department inbox, the case page with its actions, the
undelivered e-mail replies and the files of a case."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.catalog.selectors import services_of_units
from rathaus.contacts import selectors, services
from rathaus.contacts.files import MAX_FILE_BYTES
from rathaus.contacts.forms import (
    AssignForm,
    AttachmentForm,
    ForwardForm,
    NoteForm,
    ReplyForm,
    StatusForm,
)
from rathaus.contacts.models import Attachment, Case, CaseMessage, CaseStatus, Channel
from rathaus.contacts.services import delivery
from rathaus.contacts.views.common import _download
from rathaus.core.access import access_logged
from rathaus.core.exports import csv_response
from rathaus.core.http import TenantRequest, acting_staff, active_tenant, id_param, next_url
from rathaus.core.models import AccessAction, Membership, Role
from rathaus.core.paging import PAGE_SIZE, paged
from rathaus.core.permissions import has_role, role_required
from rathaus.core.selectors import events_of, units_visible_to

CASE_ROLES = (Role.KC_AGENT, Role.CLERK, Role.TEAM_LEAD, Role.CONTROLLER)


def _visible_units(request: TenantRequest) -> Any:
    return units_visible_to(request.memberships)


def _sees_all_cases(request: TenantRequest) -> bool:
    # The KC answers callers about any case; controllers need the whole picture.
    return has_role(request, Role.KC_AGENT, Role.CONTROLLER, Role.TENANT_ADMIN)


def _may_edit(request: TenantRequest, case: Case) -> bool:
    """Members of the responsible unit (leads: of a unit above it) and tenant admins."""
    return has_role(request, Role.TENANT_ADMIN) or (
        _visible_units(request).filter(pk=case.org_unit_id).exists()
    )


def _case_for(request: TenantRequest, reference: str, *, edit: bool = False) -> tuple[Case, bool]:
    """The case and whether this person may change it; 404 when they may not even see it."""
    try:
        case = selectors.case_by_reference(reference)
    except Case.DoesNotExist:
        raise Http404 from None
    may_edit = _may_edit(request, case)
    if edit and not may_edit:
        raise PermissionDenied
    if not (may_edit or _sees_all_cases(request)):
        raise Http404
    return case, may_edit


def _inbox_filter(request: TenantRequest) -> selectors.InboxFilter:
    get = request.GET
    service = get.get("service", "")
    return selectors.InboxFilter(
        status=get.get("status", "")
        if get.get("status", "") in {"", "all", *CaseStatus.values}
        else "",
        due=get.get("due", "") if get.get("due", "") in {"", "overdue", "week"} else "",
        assignee=get.get("assignee", "")[:12],
        service=id_param(service),
        channel=get.get("channel", "") if get.get("channel", "") in Channel.values else "",
        q=get.get("q", "")[:100],
    )


def _colleagues(request: TenantRequest) -> Any:
    return (
        get_user_model()
        .objects.filter(
            pk__in=Membership.objects.filter(org_unit__in=_visible_units(request)).values("user")
        )
        .order_by("last_name", "username")
    )


@role_required(*CASE_ROLES)
def inbox(request: TenantRequest) -> HttpResponse:
    filters = _inbox_filter(request)
    cases = selectors.inbox_cases(
        tenant=active_tenant(request),
        units=_visible_units(request),
        user=acting_staff(request),
        filters=filters,
    )
    if request.GET.get("format") == "csv":
        access_logged(request, "cases", action=AccessAction.EXPORTED)
        return _cases_csv(cases)
    return render(
        request,
        "contacts/inbox.html",
        {
            **paged(request, cases),
            "filters": filters,
            "now": timezone.now(),
            "nearly_due": selectors.nearly_due_limit(active_tenant(request)),
            "statuses": CaseStatus.choices,
            "channels": Channel.choices,
            "colleagues": _colleagues(request),
            "services": services_of_units(_visible_units(request)),
            "assign_form": AssignForm(users=_colleagues(request)),
            "undelivered": selectors.undelivered_replies(units=_visible_units(request)).count(),
        },
    )


def _cases_csv(cases: Any) -> HttpResponse:
    response, writer = csv_response("vorgaenge.csv")
    writer.writerow(
        [_("Reference"), _("Subject"), _("Status"), _("Unit"), _("Assignee"), _("Channel"),
         _("Created"), _("Deadline")]
    )  # fmt: skip
    for case in cases.iterator(chunk_size=2000):
        writer.writerow(
            [
                case.reference,
                case.subject,
                case.get_status_display(),
                case.org_unit.name,
                case.assignee.get_username() if case.assignee else "",
                case.get_channel_display(),
                timezone.localtime(case.created_at).strftime("%d.%m.%Y %H:%M"),
                timezone.localtime(case.deadline).strftime("%d.%m.%Y %H:%M"),
            ]
        )
    return response


@role_required(Role.CLERK, Role.TEAM_LEAD)
@require_POST
def inbox_assign(request: TenantRequest) -> HttpResponse:
    form = AssignForm(request.POST, users=_colleagues(request))
    references = request.POST.getlist("cases")[: PAGE_SIZE * 4]
    if not form.is_valid() or not references:
        messages.error(request, _("Choose cases and a colleague."))
        return redirect("contacts:inbox")
    cases = list(
        Case.objects.filter(reference__in=references, org_unit__in=_visible_units(request))
    )
    count = services.case_assign(
        cases=cases,
        assignee=form.cleaned_data["assignee"],
        actor=acting_staff(request),
    )
    messages.success(request, _("%(n)d cases assigned.") % {"n": count})
    return redirect(next_url(request, default="contacts:inbox"))


@role_required(*CASE_ROLES)
def case_detail(request: TenantRequest, reference: str) -> HttpResponse:
    case, can_edit = _case_for(request, reference)
    access_logged(request, "case", case.reference)
    return render(
        request,
        "contacts/case_detail.html",
        {
            "case": case,
            "can_edit": can_edit,
            "now": timezone.now(),
            "messages_": case.messages.select_related("author", "case"),
            "attachments": case.attachments.order_by("created_at"),
            "contacts": case.contacts.select_related("agent").order_by("started_at"),
            "events": events_of(case),
            "status_form": StatusForm(initial={"status": case.status}),
            "next_statuses": sorted(services.TRANSITIONS.get(case.status, set())),
            "assign_form": AssignForm(
                users=_colleagues(request), initial={"assignee": case.assignee}
            ),
            "forward_form": ForwardForm(),
            "note_form": NoteForm(),
            "reply_form": ReplyForm(),
            "attachment_form": AttachmentForm(),
        },
    )


@role_required(*CASE_ROLES)
@require_POST
def case_action(request: TenantRequest, reference: str, action: str) -> HttpResponse:
    """One endpoint per action of the case page; notes are open to everyone who sees the case."""
    case = _case_for(request, reference, edit=action != "note")[0]
    actor = acting_staff(request)
    forms_by_action = {
        "status": lambda: StatusForm(request.POST),
        "assign": lambda: AssignForm(request.POST, users=_colleagues(request)),
        "forward": lambda: ForwardForm(request.POST),
        "note": lambda: NoteForm(request.POST),
        "reply": lambda: ReplyForm(request.POST),
        "letter": lambda: ReplyForm(request.POST),
        "attach": lambda: AttachmentForm(request.POST, request.FILES),
    }
    if action not in forms_by_action:
        raise Http404
    form = forms_by_action[action]()
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("contacts:case", reference=case.reference)
    data = form.cleaned_data
    try:
        if action == "status":
            services.case_set_status(case=case, status=data["status"], actor=actor)
        elif action == "assign":
            services.case_assign(cases=[case], assignee=data["assignee"], actor=actor)
        elif action == "forward":
            services.case_forward(
                case=case, org_unit=data["org_unit"], reason=data["reason"], actor=actor
            )
        elif action == "note":
            services.case_note_add(case=case, body=data["body"], actor=actor)
        elif action == "attach":
            upload = data["file"]
            services.case_attachment_add(
                case=case,
                name=upload.name,
                content=upload.read(MAX_FILE_BYTES + 1),
                actor=actor,
            )
        elif action == "letter":
            services.case_reply_letter(
                case=case, body=data["body"], actor=actor, answered=data["answered"]
            )
        else:
            delivery.case_reply_email(
                case=case, body=data["body"], actor=actor, answered=data["answered"]
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))
    if action == "forward" and not _may_edit(request, case):  # the case has left our units
        return redirect("contacts:inbox")
    return redirect("contacts:case", reference=case.reference)


@role_required(*CASE_ROLES)
@require_POST
def case_reply_action(request: TenantRequest, reference: str, pk: int, action: str) -> HttpResponse:
    """Send an undelivered e-mail reply again, or record that the citizen got it otherwise."""
    case = _case_for(request, reference, edit=True)[0]
    message = get_object_or_404(CaseMessage, pk=pk, case=case)
    actions = {
        "resend": (delivery.case_reply_resend, _("The reply is queued and will be sent again.")),
        "delivered": (delivery.case_reply_mark_delivered, _("Recorded as delivered.")),
    }
    if action not in actions:
        raise Http404
    act, done = actions[action]
    try:
        act(case=case, message=message, actor=acting_staff(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    if request.POST.get("back") == "undelivered":
        return redirect("contacts:undelivered_replies")
    return redirect("contacts:case", reference=case.reference)


@role_required(*CASE_ROLES)
def undelivered_replies(request: TenantRequest) -> HttpResponse:
    """E-mail replies of the user's units that have not reached the citizen."""
    replies = selectors.undelivered_replies(units=_visible_units(request))
    access_logged(request, "undelivered_replies")
    return render(request, "contacts/undelivered_replies.html", paged(request, replies))


@role_required(*CASE_ROLES)
def case_attachment(request: TenantRequest, reference: str, pk: int) -> FileResponse:
    case = _case_for(request, reference)[0]
    attachment = get_object_or_404(Attachment, pk=pk, case=case)
    return _download(attachment.file, attachment.filename, attachment.content_type)

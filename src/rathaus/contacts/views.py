"""Staff pages of the KC desk and the department inbox; the citizen status page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.catalog.selectors import services_of_units
from rathaus.core.access import access_logged
from rathaus.core.clients import client_ip
from rathaus.core.exports import csv_response
from rathaus.core.models import AccessAction, Membership, Role, Tenant
from rathaus.core.paging import PAGE_SIZE, paged
from rathaus.core.permissions import has_role, role_required
from rathaus.core.selectors import events_of_subject, units_visible_to
from rathaus.core.services import attempt_count
from rathaus.core.tenancy import tenant_context

from . import delivery, selectors, services
from .files import MAX_FILE_BYTES
from .forms import (
    AssignForm,
    AttachmentForm,
    CitizenStatusForm,
    ContactFinishForm,
    ContactStartForm,
    ForwardForm,
    NoteForm,
    ReplyForm,
    StatusForm,
)
from .models import Attachment, Case, CaseMessage, CaseStatus, Channel, Contact, Outcome

DESK_ROLES = (Role.KC_AGENT, Role.CLERK, Role.TEAM_LEAD)
CASE_ROLES = (Role.KC_AGENT, Role.CLERK, Role.TEAM_LEAD, Role.CONTROLLER)
STATUS_ATTEMPTS = 10  # per address and quarter of an hour on the citizen status page
STATUS_WINDOW = 15 * 60


def _home_unit(request: HttpRequest) -> Any:
    memberships = request.memberships  # type: ignore[attr-defined]
    kc = next(
        (m.org_unit for m in memberships if m.org_unit.is_kc or m.role == Role.KC_AGENT), None
    )
    return kc or (memberships[0].org_unit if memberships else None)


# --- the desk ------------------------------------------------------------------------------


@role_required(*DESK_ROLES)
def desk(request: HttpRequest) -> HttpResponse:
    running = selectors.open_contact_of(request.user)  # type: ignore[arg-type]
    if running is not None:
        return redirect("contacts:contact", pk=running.pk)
    today = timezone.localdate()
    mine_today = Contact.objects.filter(agent=request.user, started_at__date=today)
    return render(
        request,
        "contacts/desk.html",
        {
            "start_form": ContactStartForm(),
            "callbacks": selectors.callbacks_open(request.user)[:10],  # type: ignore[arg-type]
            "now": timezone.now(),
            "done_today": mine_today.exclude(ended_at=None).count(),
            "answered_today": mine_today.filter(outcome=Outcome.ANSWERED).count(),
        },
    )


@role_required(*DESK_ROLES)
@require_POST
def contact_start(request: HttpRequest) -> HttpResponse:
    form = ContactStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a channel."))
        return redirect("contacts:desk")
    running = selectors.open_contact_of(request.user)  # type: ignore[arg-type]
    contact = running or services.contact_start(
        tenant=request.tenant,  # type: ignore[attr-defined]
        agent=request.user,  # type: ignore[arg-type]
        org_unit=_home_unit(request),
        channel=form.cleaned_data["channel"],
    )
    return redirect("contacts:contact", pk=contact.pk)


@role_required(*DESK_ROLES)
def contact_page(request: HttpRequest, pk: int) -> HttpResponse:
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
                actor=request.user,  # type: ignore[arg-type]
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
def contact_mail_file(request: HttpRequest, pk: int, attachment: int = 0) -> FileResponse:
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


def _download(file: Any, filename: str, content_type: str) -> FileResponse:
    """A stored file as a download with the type we checked, never one the browser guesses."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(*DESK_ROLES)
def citizen_history(request: HttpRequest) -> HttpResponse:
    history = selectors.citizen_history(
        phone=request.GET.get("citizen_phone", "")[:50],
        email=request.GET.get("citizen_email", "")[:254],
    )
    if history.contacts or history.cases:  # a caller's earlier contacts were shown
        access_logged(request, "citizen_history", action=AccessAction.SEARCHED)
    return render(request, "contacts/partials/citizen_history.html", {"history": history})


@role_required(*DESK_ROLES)
def callbacks(request: HttpRequest) -> HttpResponse:
    everyone = has_role(request, Role.TEAM_LEAD) and request.GET.get("all") == "1"
    rows = selectors.callbacks_open(None if everyone else request.user)  # type: ignore[arg-type]
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
def callback_done(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = selectors.callback_contact(pk)
    except Contact.DoesNotExist:
        raise Http404 from None
    if contact.agent_id != request.user.pk and not has_role(request, Role.TEAM_LEAD):
        raise PermissionDenied
    try:
        services.callback_done(contact=contact, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Callback marked as done."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("contacts:callbacks")


# --- cases ---------------------------------------------------------------------------------


def _visible_units(request: HttpRequest) -> Any:
    return units_visible_to(request.memberships)  # type: ignore[attr-defined]


def _sees_all_cases(request: HttpRequest) -> bool:
    # The KC answers callers about any case; controllers need the whole picture.
    return has_role(request, Role.KC_AGENT, Role.CONTROLLER, Role.TENANT_ADMIN)


def _may_edit(request: HttpRequest, case: Case) -> bool:
    """Members of the responsible unit (leads: of a unit above it) and tenant admins."""
    return has_role(request, Role.TENANT_ADMIN) or (
        _visible_units(request).filter(pk=case.org_unit_id).exists()
    )


def _case_for(request: HttpRequest, reference: str, *, edit: bool = False) -> tuple[Case, bool]:
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


def _inbox_filter(request: HttpRequest) -> selectors.InboxFilter:
    get = request.GET
    service = get.get("service", "")
    return selectors.InboxFilter(
        status=get.get("status", "")
        if get.get("status", "") in {"", "all", *CaseStatus.values}
        else "",
        due=get.get("due", "") if get.get("due", "") in {"", "overdue", "week"} else "",
        assignee=get.get("assignee", "")[:12],
        service=int(service) if service.isdigit() else None,
        channel=get.get("channel", "") if get.get("channel", "") in Channel.values else "",
        q=get.get("q", "")[:100],
    )


def _colleagues(request: HttpRequest) -> Any:
    return (
        get_user_model()
        .objects.filter(
            pk__in=Membership.objects.filter(org_unit__in=_visible_units(request)).values("user")
        )
        .order_by("last_name", "username")
    )


@role_required(*CASE_ROLES)
def inbox(request: HttpRequest) -> HttpResponse:
    filters = _inbox_filter(request)
    cases = selectors.inbox_cases(
        tenant=request.tenant,  # type: ignore[attr-defined]
        units=_visible_units(request),
        user=request.user,  # type: ignore[arg-type]
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
            "nearly_due": selectors.nearly_due_limit(request.tenant),  # type: ignore[attr-defined]
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
def inbox_assign(request: HttpRequest) -> HttpResponse:
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
        actor=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("%(n)d cases assigned.") % {"n": count})
    return redirect(request.POST.get("next") or "contacts:inbox")


@role_required(*CASE_ROLES)
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
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
            "events": events_of_subject("case", case.reference),
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
def case_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One endpoint per action of the case page; notes are open to everyone who sees the case."""
    case = _case_for(request, reference, edit=action != "note")[0]
    actor = request.user
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
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("contacts:case", reference=case.reference)
    data = form.cleaned_data
    try:
        if action == "status":
            services.case_set_status(case=case, status=data["status"], actor=actor)  # type: ignore[arg-type]
        elif action == "assign":
            services.case_assign(cases=[case], assignee=data["assignee"], actor=actor)  # type: ignore[arg-type]
        elif action == "forward":
            services.case_forward(
                case=case, org_unit=data["org_unit"], reason=data["reason"], actor=actor
            )  # type: ignore[arg-type]
        elif action == "note":
            services.case_note_add(case=case, body=data["body"], actor=actor)  # type: ignore[arg-type]
        elif action == "attach":
            upload = data["file"]
            services.case_attachment_add(
                case=case,
                name=upload.name,
                content=upload.read(MAX_FILE_BYTES + 1),
                actor=actor,  # type: ignore[arg-type]
            )
        elif action == "letter":
            services.case_reply_letter(
                case=case, body=data["body"], actor=actor, answered=data["answered"]
            )  # type: ignore[arg-type]
        else:
            delivery.case_reply_email(
                case=case, body=data["body"], actor=actor, answered=data["answered"]
            )  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))
    if action == "forward" and not _may_edit(request, case):  # the case has left our units
        return redirect("contacts:inbox")
    return redirect("contacts:case", reference=case.reference)


@role_required(*CASE_ROLES)
@require_POST
def case_reply_action(request: HttpRequest, reference: str, pk: int, action: str) -> HttpResponse:
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
        act(case=case, message=message, actor=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    if request.POST.get("back") == "undelivered":
        return redirect("contacts:undelivered_replies")
    return redirect("contacts:case", reference=case.reference)


@role_required(*CASE_ROLES)
def undelivered_replies(request: HttpRequest) -> HttpResponse:
    """E-mail replies of the user's units that have not reached the citizen."""
    replies = selectors.undelivered_replies(units=_visible_units(request))
    access_logged(request, "undelivered_replies")
    return render(request, "contacts/undelivered_replies.html", paged(request, replies))


@role_required(*CASE_ROLES)
def case_attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    case = _case_for(request, reference)[0]
    attachment = get_object_or_404(Attachment, pk=pk, case=case)
    return _download(attachment.file, attachment.filename, attachment.content_type)


# --- the citizen status page (no login) -----------------------------------------------------


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

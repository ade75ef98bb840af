"""The KC's e-mail queue, the .eml upload, the quarantine list and the mailbox settings."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rathaus.contacts.forms import MailboxForm
from rathaus.contacts.models import Contact, Mailbox, QuarantinedMail
from rathaus.contacts.services import mail as inbound
from rathaus.core.http import TenantRequest, acting_staff, active_tenant
from rathaus.core.models import Role
from rathaus.core.paging import paged
from rathaus.core.permissions import role_required

MAIL_ROLES = (Role.KC_AGENT, Role.TEAM_LEAD)
MAX_UPLOAD_FILES = 50


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EmlUploadForm(forms.Form):
    # The form's metaclass takes declared fields out of the class, so BaseForm.files (the
    # uploaded files) is not shadowed at runtime; the stubs cannot know that.
    files = forms.FileField(  # type: ignore[assignment]
        label=gettext_lazy("E-mail files (.eml)"),
        widget=MultipleFileInput(attrs={"multiple": True, "accept": ".eml,message/rfc822"}),
        help_text=gettext_lazy(
            "Up to 50 files of at most 25 MB, e.g. saved from Outlook or Thunderbird."
        ),
    )


@role_required(*MAIL_ROLES)
def email_queue(request: TenantRequest) -> HttpResponse:
    quarantined = QuarantinedMail.objects.filter(resolved_at__isnull=True).count()
    return render(
        request,
        "contacts/inbound/queue.html",
        {
            **paged(request, inbound.email_queue()),
            "quarantined": quarantined,
            "form": EmlUploadForm(),
        },
    )


@role_required(*MAIL_ROLES)
@require_POST
def email_take(request: TenantRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk, channel="email")
    try:
        inbound.mail_contact_take(contact=contact, agent=acting_staff(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("contacts:email_queue")
    return redirect("contacts:contact", pk=contact.pk)


@role_required(*MAIL_ROLES)
@require_POST
def email_upload(request: TenantRequest) -> HttpResponse:
    uploads = request.FILES.getlist("files")
    if not uploads or len(uploads) > MAX_UPLOAD_FILES:
        messages.error(request, _("Choose between 1 and 50 .eml files."))
        return redirect("contacts:email_queue")
    outcome: Counter[str] = Counter()
    for upload in uploads:
        assert upload.name is not None and upload.size is not None  # set for every upload
        if not upload.name.lower().endswith(".eml") or upload.size > inbound.MAX_MAIL_BYTES:
            outcome["refused"] += 1
            continue
        try:
            result = inbound.mail_receive(
                tenant=active_tenant(request),
                raw=upload.read(),
                source="upload",
            )
        except inbound.EmptyMailError as error:
            outcome["refused"] += 1
            messages.error(request, f"{upload.name}: {' '.join(error.messages)}")
            continue
        if isinstance(result, QuarantinedMail):
            outcome["quarantined"] += 1
        elif getattr(result, "already_known", False):
            outcome["known"] += 1
        elif result.is_auto_reply:
            outcome["auto"] += 1
        elif result.case_id:
            outcome["case"] += 1
        else:
            outcome["contact"] += 1
    messages.success(
        request,
        _(
            "%(contact)d new contacts in the queue, %(case)d added to cases, %(known)d already "
            "known, %(auto)d auto-replies ignored, %(quarantined)d quarantined, %(refused)d "
            "refused (not .eml, empty or too large)."
        )
        % {k: outcome[k] for k in ("contact", "case", "known", "auto", "quarantined", "refused")},
    )
    return redirect("contacts:email_queue")


@role_required(*MAIL_ROLES)
def quarantine(request: TenantRequest) -> HttpResponse:
    rows = QuarantinedMail.objects.filter(resolved_at__isnull=True).defer("raw")
    return render(request, "contacts/inbound/quarantine.html", paged(request, rows))


@role_required(*MAIL_ROLES)
def quarantine_raw(request: TenantRequest, pk: int) -> HttpResponse:
    mail = get_object_or_404(QuarantinedMail, pk=pk)
    response = HttpResponse(bytes(mail.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="quarantaene-{mail.pk}.eml"'
    return response


@role_required(*MAIL_ROLES)
@require_POST
def quarantine_resolve(request: TenantRequest, pk: int) -> HttpResponse:
    mail = get_object_or_404(QuarantinedMail, pk=pk, resolved_at__isnull=True)
    inbound.quarantine_resolve(mail=mail, actor=acting_staff(request))
    messages.success(request, _("Marked as dealt with."))
    return redirect("contacts:quarantine")


@role_required(Role.TENANT_ADMIN)
def mailbox_settings(request: TenantRequest) -> HttpResponse:
    """The tenant's IMAP mailbox for citizen e-mail (one per municipality)."""
    mailbox = Mailbox.objects.first() or Mailbox(tenant=active_tenant(request))
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        inbound.mailbox_save(mailbox=form.save(commit=False), actor=acting_staff(request))
        messages.success(
            request, _("The mailbox settings are saved; the worker polls it every two minutes.")
        )
        return redirect("contacts:mailbox")
    return render(request, "contacts/inbound/mailbox.html", {"form": form, "mailbox": mailbox})

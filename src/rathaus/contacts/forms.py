"""Forms of the KC desk and the case page. Querysets are set per request, inside the scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from rathaus.catalog.models import Service
from rathaus.catalog.selectors import published_services
from rathaus.core.forms import limit_dates, model_choice_field
from rathaus.core.models import OrgUnit

from .models import OPEN_STATUSES, Case, CaseStatus, Channel, Mailbox, Outcome, Priority

INPUT = "kern-form-input__input"


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
            continue
        widget.attrs.setdefault("class", INPUT)
        if isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("rows", 3)


class ContactStartForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)


class ContactFinishForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    service = SafeModelChoiceField(
        label=_("Service concerned"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_("Filled in when you pick a service in the search."),
    )
    summary = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea)
    citizen_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    citizen_phone = forms.CharField(label=_("Phone"), required=False, max_length=50)
    citizen_email = forms.EmailField(label=_("E-mail"), required=False)
    citizen_address = forms.CharField(
        label=_("Postal address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    callback_due = forms.DateTimeField(
        label=_("Call back by"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    handover_unit = SafeModelChoiceField(
        label=_("Hand over to"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("Leave empty to use the unit responsible for the service."),
    )
    handover_subject = forms.CharField(label=_("Subject of the case"), required=False)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    join_case = forms.CharField(
        label=_("Add to open case (reference)"), required=False, max_length=20
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "service").queryset = published_services().order_by("name")
        model_choice_field(self, "handover_unit").queryset = OrgUnit.objects.order_by("path")
        # As the API: a callback is promised for today or within the next year.
        limit_dates(self, past=0, future=1, fields=["callback_due"])
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        if (
            outcome == Outcome.CALLBACK
            and not data.get("callback_due")
            and "callback_due" not in self.errors  # one message: the time is out of range
        ):
            self.add_error("callback_due", _("A promised callback needs a due time."))
        if outcome != Outcome.HANDED_OVER:
            data["join_case"] = None  # joining a case is a hand-over; otherwise it is ignored
        else:
            reference = (data.get("join_case") or "").strip()
            if reference:
                case = Case.objects.filter(reference=reference, status__in=OPEN_STATUSES).first()
                if case is None:
                    self.add_error("join_case", _("There is no open case with this reference."))
                data["join_case"] = case
            elif not data.get("service") and not data.get("handover_unit"):
                self.add_error(
                    "handover_unit", _("Choose the service or the unit to hand over to.")
                )
            elif (
                data.get("service")
                and not data["service"].org_unit
                and not data.get("handover_unit")
            ):
                self.add_error("handover_unit", _("The service names no unit; choose one."))
        if outcome == Outcome.HANDED_OVER and not (
            data.get("citizen_email") or data.get("citizen_phone") or data.get("citizen_address")
        ):
            self.add_error(
                "citizen_email",
                _("The department needs a way to answer: e-mail, phone or address."),
            )
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.none(), required=False
    )

    def __init__(self, *args: Any, users: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "assignee").queryset = (
            users if users is not None else get_user_model().objects.none()
        )
        _style(self)


class ForwardForm(forms.Form):
    org_unit = SafeModelChoiceField(label=_("Forward to"), queryset=OrgUnit.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "org_unit").queryset = OrgUnit.objects.order_by("path")
        _style(self)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea, max_length=10_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the citizen"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000
    )
    answered = forms.BooleanField(
        label=_("This answers the inquiry (otherwise: waiting for the citizen)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class CitizenStatusForm(forms.Form):
    reference = forms.RegexField(
        label=_("Reference number"),
        regex=r"^\s*\d{4}-\d{6}\s*$",
        error_messages={"invalid": _("A reference number looks like 2026-004711.")},
        max_length=20,
    )
    email = forms.EmailField(label=_("E-mail address you gave us"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, image, text or office document, up to 10 MB.")
    )


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored password."),
    )

    class Meta:
        model = Mailbox
        fields = ["host", "port", "use_ssl", "username", "password", "folder", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_host(self) -> str:
        from .services.mail import imap_host_allowed

        host = self.cleaned_data["host"].strip().lower()
        if not imap_host_allowed(host):
            raise forms.ValidationError(
                _("This installation only connects to the mail servers %(hosts)s.")
                % {"hosts": ", ".join(settings.IMAP_ALLOWED_HOSTS)}
            )
        return host

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and not (self.instance.pk and self.instance.password):
            raise forms.ValidationError(_("Enter the mailbox password."))
        return password or self.instance.password

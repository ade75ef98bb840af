"""Contacts (every interaction on every channel) and cases (Vorgänge handed to departments)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.models import Service
from rathaus.core.crypto import EncryptedTextField
from rathaus.core.models import OrgUnit, TenantOwned


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    COUNTER = "counter", _("Counter")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered at first contact")
    HANDED_OVER = "handed_over", _("Handed over")
    CALLBACK = "callback", _("Callback promised")
    REFERRED = "referred", _("Referred to another body")
    ABANDONED = "abandoned", _("Abandoned")


class CitizenData(models.Model):
    """The minimum a reply needs. Kept on the row, never in events, so retention can erase it."""

    citizen_name = models.CharField(_("name"), max_length=200, blank=True)
    citizen_phone = models.CharField(_("phone"), max_length=50, blank=True)
    citizen_email = models.EmailField(_("e-mail"), blank=True)
    citizen_address = models.TextField(_("postal address"), blank=True)
    # Normalised keys for finding a caller's earlier contacts and cases.
    phone_key = models.CharField(max_length=30, blank=True, db_index=True, editable=False)
    email_key = models.CharField(max_length=254, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True


class Contact(TenantOwned, CitizenData):
    """One interaction with a citizen. Open while `ended_at` is empty (the clock runs)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("agent"),
    )
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("org unit")
    )
    services = models.ManyToManyField(Service, blank=True, verbose_name=_("services concerned"))
    summary = models.TextField(_("note"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    case = models.ForeignKey(
        "Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("case"),
    )
    callback_due = models.DateTimeField(_("callback due"), null=True, blank=True)
    callback_done_at = models.DateTimeField(_("callback done"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "started_at"], name="contact_started_idx"),
            models.Index(fields=["tenant", "callback_due"], name="contact_callback_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.started_at:%d.%m.%Y %H:%M}"

    @property
    def handling_seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())

    @cached_property
    def service_ids(self) -> list[int]:
        """Uses a prefetch when there is one; a service that just wrote the links sets it."""
        return [s.pk for s in self.services.all()]


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for citizen")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)


def overdue_q(now: dt.datetime) -> models.Q:
    """Open cases past their deadline; a case waiting for the citizen is never overdue."""
    return models.Q(status__in=OPEN_STATUSES, paused_at__isnull=True, deadline__lt=now)


class CaseCounter(TenantOwned):
    """The last reference number handed out per tenant and year (row-locked while counting)."""

    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "year"], name="case_counter_unique_year")
        ]


class Case(TenantOwned, CitizenData):
    """A Vorgang: an inquiry a department answers within a deadline of working days."""

    reference = models.CharField(_("reference"), max_length=20)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("service")
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="cases", verbose_name=_("responsible unit")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="case_reference_unique")
        ]
        indexes = [
            # The department inbox reads open cases by deadline: partial indexes over the few
            # open cases let it stop after one page instead of sorting a million closed ones.
            models.Index(
                fields=["tenant", "deadline", "id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="case_open_deadline_idx",
            ),
            models.Index(
                fields=["tenant", "org_unit", "deadline"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="case_open_unit_idx",
            ),
            models.Index(fields=["tenant", "deadline", "id"], name="case_deadline_idx"),
            models.Index(fields=["tenant", "email_key"], name="case_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.paused_at is None and self.deadline < (now or timezone.now())


class MessageKind(models.TextChoices):
    NOTE = "note", _("Internal note")
    EMAIL_OUT = "email_out", _("E-mail to the citizen")
    LETTER = "letter", _("Letter to the citizen")
    EMAIL_IN = "email_in", _("E-mail from the citizen")


class Delivery(models.TextChoices):
    """What became of an e-mail to the citizen (`tasks.case_reply_mail`)."""

    QUEUED = "queued", _("Queued for sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")
    OTHER_WAY = "other_way", _("Delivered another way")


DELIVERED = (Delivery.SENT, Delivery.OTHER_WAY)


class CaseMessage(TenantOwned):
    """Notes and correspondence of a case, in the order they happened."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    # E-mails to the citizen only: the reply counts as the answer once it is delivered.
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, blank=True, db_index=True
    )
    delivery_error = models.CharField(_("delivery error"), max_length=2000, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    answers = models.BooleanField(default=True)  # delivered → answered; else waiting

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%d.%m.%Y %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # A random name on disk: the citizen's file name is kept in the row, never trusted as a path.
    import uuid

    return f"attachments/{instance.tenant_id}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(TenantOwned):
    """A file that came with a mail or was added to a case; stored under a random name."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    inbound_mail = models.ForeignKey(
        "InboundMail", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


def raw_mail_path(instance: InboundMail, filename: str) -> str:
    import uuid

    return f"mails/{instance.tenant_id}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.eml"


class InboundMail(TenantOwned):
    """A citizen's e-mail as received; it becomes a KC contact or joins a case."""

    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_address = models.EmailField(_("from"), blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(blank=True)  # sanitised with nh3 before it is stored
    received_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10)  # "imap" or "upload"
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="mails"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails"
    )
    is_auto_reply = models.BooleanField(default=False)
    # The message as it arrived, so nothing of it is lost (attachments we do not keep as
    # files included); deleted with the mail.
    raw = models.FileField(upload_to=raw_mail_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # Attachments not kept as files, each {"name": ..., "reason": ...}, shown at the desk.
    refused_attachments = models.JSONField(default=list, blank=True)
    # A case reference in the subject from a sender who is not the case's citizen: the mail
    # became a new contact; the agent decides whether it belongs to that case.
    mentioned_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # The same mail fetched twice (e.g. IMAP retry) is stored once.
            models.UniqueConstraint(
                fields=["tenant", "message_id"],
                condition=~models.Q(message_id=""),
                name="inbound_mail_unique_message_id",
            )
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id


class QuarantinedMail(TenantOwned):
    """A mail that could not be processed. Kept as raw bytes, never lost, until someone acts."""

    raw = models.BinaryField()
    error = models.TextField()
    source = models.CharField(max_length=10)
    received_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%d.%m.%Y %H:%M} {self.error[:60]}"


class Mailbox(TenantOwned):
    """The IMAP mailbox the worker polls for the tenant's citizen e-mail."""

    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(_("TLS (IMAPS)"), default=True)
    username = models.CharField(_("user name"), max_length=255)
    password = EncryptedTextField(_("password"))  # Fernet ciphertext at rest (core.crypto)
    folder = models.CharField(_("folder"), max_length=100, default="INBOX")
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"


class CallRecord(TenantOwned):
    """One call as the telephone system saw it: the source of reachability figures."""

    external_id = models.CharField(_("call id"), max_length=64)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    agent_ref = models.CharField(_("agent"), max_length=100, blank=True)
    arrived_at = models.DateTimeField(_("arrived"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"))
    abandoned = models.BooleanField(_("abandoned"), default=False)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="call_record_unique_id"),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("arrived_at")),
                name="call_record_ends_after_arrival",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "arrived_at"], name="call_record_arrived_idx")]

    def __str__(self) -> str:
        return self.external_id

    @property
    def wait_seconds(self) -> int | None:
        if self.answered_at is None:
            return None
        return int((self.answered_at - self.arrived_at).total_seconds())

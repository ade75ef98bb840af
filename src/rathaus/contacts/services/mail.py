"""Inbound e-mail: from an IMAP mailbox or an uploaded .eml file to a KC contact or a case.

A mail is one of three things:
1. an auto-reply or bounce: stored, recognised, never a contact or case;
2. an answer to an open case: In-Reply-To/References name one of our replies, or the subject
   names the case's reference and the sender is the case's citizen. It joins the case, which
   goes back to "in progress" (an answered case too: the citizen has a further question);
3. anything else: a new open e-mail contact in the KC's queue. A reference from another
   sender (references are sequential: anyone can type one) or to a closed case only flags
   the contact ("mentions case X"); the agent decides, a mail never reopens a case.
Every mail is kept as it arrived (`InboundMail.raw`), attachments we do not keep as files
included. A mail that cannot be processed is kept byte for byte in the quarantine, and so is
a different mail under a Message-ID we already know: never lost, never dropped.
"""

from __future__ import annotations

import email
import fnmatch
import hashlib
import imaplib
import re
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rathaus.contacts.models import (
    Case,
    CaseMessage,
    CaseStatus,
    Channel,
    Contact,
    InboundMail,
    Mailbox,
    MessageKind,
    QuarantinedMail,
)
from rathaus.contacts.services.cases import attachment_store, case_set_status
from rathaus.contacts.services.desk import contact_event, contact_start
from rathaus.core.events import event_append
from rathaus.core.models import OrgUnit, Tenant
from rathaus.core.tenancy import tenant_context

from .. import events

REFERENCE = re.compile(r"\[(\d{4}-\d{6})\]")
AUTO_SUBJECT = re.compile(
    r"^(automatische antwort|abwesenheitsnotiz|out of office|auto(matic)? ?reply|"
    r"undeliverable|unzustellbar|delivery status notification|mail delivery failed|"
    r"returned mail)",
    re.IGNORECASE,
)
MAX_MAIL_BYTES = 25 * 1024 * 1024


def is_auto_reply(message: EmailMessage) -> bool:
    """RFC 3834 headers, the usual vendor headers, delivery reports and typical subjects."""
    auto_submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    sender = (message.get("From") or "").lower()
    return (
        auto_submitted != "no"
        or precedence in {"auto_reply", "bulk", "junk", "list"}
        or any(message.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"))
        or (message.get("Return-Path") or "").strip() == "<>"
        or message.get_content_type() == "multipart/report"
        or "mailer-daemon" in sender
        or "postmaster@" in sender
        or bool(AUTO_SUBJECT.match((message.get("Subject") or "").strip()))
    )


def _bodies(message: EmailMessage) -> tuple[str, str]:
    """Plain text and sanitised HTML; the text falls back to the HTML without tags."""
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    html = nh3.clean(html_part.get_content()) if html_part is not None else ""
    if text_part is not None:
        text = text_part.get_content()
    else:
        text = re.sub(r"\s*\n\s*", "\n", nh3.clean(html, tags=set())).strip()
    return text.strip(), html


def _thread_case(message: EmailMessage, sender: str) -> tuple[Case | None, Case | None]:
    """The open case the mail answers, and otherwise a case it only mentions.

    A reply to one of our own mails (In-Reply-To/References) or a reference in the subject
    from the case's citizen joins the case; a reference from anyone else, or to a closed case,
    is only mentioned (see the module's docstring).
    """
    ids = re.findall(
        r"<[^>]+>", f"{message.get('In-Reply-To', '')} {message.get('References', '')}"
    )
    ours = (
        CaseMessage.objects.filter(message_id__in=ids, kind=MessageKind.EMAIL_OUT)
        .select_related("case")
        .first()
        if ids
        else None
    )
    answered = ours.case if ours is not None else None
    match = REFERENCE.search(message.get("Subject") or "")
    named = Case.objects.filter(reference=match.group(1)).first() if match else None
    from_its_citizen = named is not None and sender == named.citizen_email.strip().lower()
    if answered is None and sender and from_its_citizen:
        answered = named
    if answered is None:
        return None, named
    if answered.status == CaseStatus.CLOSED:
        return None, answered
    return answered, None


def _kc_unit(tenant: Tenant) -> OrgUnit | None:
    return OrgUnit.objects.filter(tenant=tenant, is_kc=True).order_by("path").first()


def _store_attachments(
    mail: InboundMail, message: EmailMessage, case: Case | None
) -> list[dict[str, str]]:
    """Keep allowed files; return the refused ones with the reason (the raw mail has them)."""
    refused = []
    total = 0
    for part in message.iter_attachments():
        name = part.get_filename() or "anhang"
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        total += len(content)
        try:
            if total > MAX_MAIL_BYTES:
                raise ValidationError(_("The mail's files together are too large."))
            attachment_store(
                tenant=mail.tenant, case=case, inbound_mail=mail, name=name, content=content
            )
        except ValidationError as error:
            refused.append({"name": name[:200], "reason": " ".join(error.messages)})
    return refused


class EmptyMailError(ValidationError):
    """Not a mail at all (an empty upload): nothing is stored; the uploader is told why."""


def _check_not_empty(raw: bytes, message: EmailMessage) -> None:
    has_text = any(
        # a part that is not multipart decodes to bytes or None; mypy only knows the union
        (part.get_payload(decode=True) or b"").strip()  # type: ignore[union-attr]
        for part in message.walk()
        if not part.is_multipart()
    )
    if not raw.strip() or not (message.get("From") or message.get("Subject") or has_text):
        raise EmptyMailError(_("The file is empty: it holds no e-mail."))


def _known_or_reused(tenant: Tenant, message_id: str, digest: str) -> InboundMail | None:
    """The mail stored under this Message-ID when it is the same mail (fetched twice);
    a different mail under a known Message-ID raises, so it ends in the quarantine."""
    existing = InboundMail.objects.filter(tenant=tenant, message_id=message_id).first()
    if existing is None or existing.sha256 in ("", digest):
        return existing
    raise ValueError(
        f"another mail (#{existing.pk}, {existing.received_at:%d.%m.%Y %H:%M}) already has "
        f"the Message-ID {message_id}; both are kept"
    )


@transaction.atomic
def _process(tenant: Tenant, raw: bytes, source: str) -> InboundMail:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    if message.defects and not message.keys():
        raise ValueError(f"not an e-mail: {message.defects[0]!r}")
    _check_not_empty(raw, message)
    digest = hashlib.sha256(raw).hexdigest()
    message_id = (message.get("Message-ID") or "").strip()[:255]
    if message_id:
        existing = _known_or_reused(tenant, message_id, digest)
        if existing is not None:  # fetched twice: nothing changes
            existing.already_known = True  # type: ignore[attr-defined]
            return existing
    [(from_name, from_address)] = getaddresses([message.get("From") or ""])[:1] or [("", "")]
    sender = from_address.strip().lower() if "@" in from_address else ""
    try:
        received = parsedate_to_datetime(message["Date"]) if message["Date"] else timezone.now()
    except (TypeError, ValueError):
        received = timezone.now()
    text, html = _bodies(message)
    mail = InboundMail.objects.create(
        tenant=tenant,
        message_id=message_id,
        in_reply_to=(message.get("In-Reply-To") or "")[:255],
        references=message.get("References") or "",
        from_address=sender[:254],
        from_name=from_name[:200],
        subject=(message.get("Subject") or "")[:255],
        body_text=text,
        body_html=html,
        received_at=timezone.now(),
        source=source,
        is_auto_reply=is_auto_reply(message),
        sha256=digest,
    )
    mail.raw.save(f"{mail.pk}.eml", ContentFile(raw), save=False)
    mail.save(update_fields=["raw"])
    if mail.is_auto_reply:
        event_append(
            tenant=tenant,
            activity=events.MAIL_AUTO_REPLY_IGNORED,
            subject=mail,
            channel=Channel.EMAIL,
        )
        return mail
    case, mentioned = _thread_case(message, sender)
    mail.refused_attachments = _store_attachments(mail, message, case)
    mail.mentioned_case = mentioned
    mail.save(update_fields=["refused_attachments", "mentioned_case"])
    refused = [r["name"] for r in mail.refused_attachments]
    note = f"\n\n[Nicht übernommene Anhänge: {', '.join(refused)}]" if refused else ""
    if case is not None:
        mail.case = case
        mail.save(update_fields=["case"])
        CaseMessage.objects.create(
            tenant=tenant,
            case=case,
            kind=MessageKind.EMAIL_IN,
            subject=mail.subject,
            body=(text or "–") + note,
            message_id=message_id,
        )
        event_append(
            tenant=tenant,
            activity=events.CASE_MAIL_RECEIVED,
            subject=case,
            org_unit=case.org_unit,
            channel=Channel.EMAIL,
            payload={"mail": mail.pk},
        )
        if case.status != CaseStatus.IN_PROGRESS:
            case_set_status(case=case, status=CaseStatus.IN_PROGRESS, actor=None)
        return mail
    contact = contact_start(
        tenant=tenant,
        agent=None,
        org_unit=_kc_unit(tenant),
        channel=Channel.EMAIL,
        started_at=min(received, timezone.now()),
        citizen={"name": mail.from_name, "email": mail.from_address},
        summary=mail.subject[:2000],
    )
    mail.contact = contact
    mail.save(update_fields=["contact"])
    return mail


def mail_receive(*, tenant: Tenant, raw: bytes, source: str) -> InboundMail | QuarantinedMail:
    """Process one raw mail. Whatever goes wrong, the bytes end up in the quarantine."""
    try:
        if len(raw) > MAX_MAIL_BYTES:
            raise ValueError(f"larger than {MAX_MAIL_BYTES // (1024 * 1024)} MB")
        return _process(tenant, raw, source)
    except EmptyMailError:
        if source == "upload":  # the uploader is told; from a mailbox it is quarantined
            raise
        return _quarantine(tenant, raw, source, "an empty message")
    except IntegrityError:  # the same Message-ID committed by a parallel poll
        message_id = email.message_from_bytes(raw, policy=policy.default).get("Message-ID") or ""
        found = InboundMail.objects.filter(tenant=tenant, message_id=message_id.strip()).first()
        if found is not None:
            return found
        raise
    except Exception as error:  # noqa: BLE001 - every failure must end in the quarantine
        return _quarantine(tenant, raw, source, f"{type(error).__name__}: {error}")


@transaction.atomic
def _quarantine(tenant: Tenant, raw: bytes, source: str, error: str) -> QuarantinedMail:
    quarantined = QuarantinedMail.objects.create(
        tenant=tenant, raw=raw, error=error[:4000], source=source
    )
    event_append(
        tenant=tenant,
        activity=events.MAIL_QUARANTINED,
        subject=quarantined,
        channel=Channel.EMAIL,
    )
    return quarantined


def imap_host_allowed(host: str) -> bool:
    """Whether the installation lets the worker connect to this host (IMAP_ALLOWED_HOSTS)."""
    allowed = [pattern.strip().lower() for pattern in settings.IMAP_ALLOWED_HOSTS]
    return not allowed or any(fnmatch.fnmatchcase(host.strip().lower(), p) for p in allowed)


def mail_poll(*, mailbox: Mailbox) -> int:
    """Fetch unseen mails; mark each \\Seen only after it is stored (nothing lost on a crash)."""
    client_class = imaplib.IMAP4_SSL if mailbox.use_ssl else imaplib.IMAP4
    count = 0
    if not imap_host_allowed(mailbox.host):  # set before the allow-list, or the list changed
        mailbox.last_error = _("This installation does not connect to %(host)s.") % {
            "host": mailbox.host
        }
        mailbox.last_polled_at = timezone.now()
        mailbox.save(update_fields=["last_error", "last_polled_at"])
        return 0
    try:
        with client_class(mailbox.host, mailbox.port, timeout=30) as client:
            client.login(mailbox.username, mailbox.password)
            client.select(mailbox.folder)
            _status, data = client.uid("search", "UNSEEN")
            for uid in (data[0] or b"").decode().split():
                _status, fetched = client.uid("fetch", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
                if raw is None:
                    continue
                mail_receive(tenant=mailbox.tenant, raw=raw, source="imap")
                client.uid("store", uid, "+FLAGS", "(\\Seen)")
                count += 1
        mailbox.last_error = ""
    except (OSError, imaplib.IMAP4.error) as error:
        mailbox.last_error = str(error)[:2000]
    mailbox.last_polled_at = timezone.now()
    mailbox.save(update_fields=["last_error", "last_polled_at"])
    return count


def poll_all_mailboxes() -> int:
    total = 0
    with scopes_disabled():
        mailboxes = list(Mailbox.objects.filter(active=True).select_related("tenant"))
    for mailbox in mailboxes:
        with tenant_context(mailbox.tenant):
            total += mail_poll(mailbox=mailbox)
    return total


def email_queue() -> QuerySet[Contact]:
    """Open e-mail contacts nobody has taken yet, the oldest first."""
    return (
        Contact.objects.filter(channel=Channel.EMAIL, ended_at__isnull=True, agent__isnull=True)
        .prefetch_related(
            Prefetch("mails", queryset=InboundMail.objects.select_related("mentioned_case"))
        )
        .order_by("started_at", "id")
    )


@transaction.atomic
def mail_contact_take(*, contact: Contact, agent: User) -> Contact:
    """An agent takes an e-mail from the KC queue; it becomes their running contact."""
    taken = Contact.objects.select_for_update().get(pk=contact.pk)
    if taken.agent_id is not None or taken.ended_at is not None:
        raise ValidationError(_("Someone else has already taken this e-mail."))
    taken.agent = agent
    taken.save(update_fields=["agent"])
    contact_event(taken, events.CONTACT_TAKEN, agent).save()
    return taken


@transaction.atomic
def quarantine_resolve(*, mail: QuarantinedMail, actor: User) -> None:
    mail.resolved_at = timezone.now()
    mail.resolved_by = actor
    mail.save(update_fields=["resolved_at", "resolved_by"])
    event_append(
        tenant=mail.tenant,
        activity=events.MAIL_QUARANTINE_RESOLVED,
        subject=mail,
        actor=actor,
    )


@transaction.atomic
def mailbox_save(*, mailbox: Mailbox, actor: User) -> Mailbox:
    """Store the tenant's IMAP settings; the event names the fields, never the password."""
    created = mailbox.pk is None
    mailbox.full_clean(exclude=["tenant"])
    mailbox.save()
    event_append(
        tenant=mailbox.tenant,
        activity=events.MAILBOX_CREATED if created else events.MAILBOX_CHANGED,
        subject=mailbox,
        actor=actor,
        payload={"host": mailbox.host, "active": mailbox.active},
    )
    return mailbox

"""Inbound e-mail: threading, auto-replies, quarantine, upload, and a real IMAP server (dovecot)."""

import imaplib
import time
from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from rathaus.contacts import services
from rathaus.contacts.models import (
    Case,
    CaseStatus,
    Contact,
    InboundMail,
    Mailbox,
    QuarantinedMail,
)
from rathaus.contacts.services import delivery
from rathaus.contacts.services import mail as inbound
from rathaus.core.models import Event
from tests.conftest import deliver


def mail(subject="Frage zum Ausweis", body="Guten Tag, wann ist mein Ausweis fertig?", **headers):
    message = EmailMessage()
    message["From"] = headers.pop("From", "Erika Muster <erika@example.org>")
    message["To"] = "buergerservice@alpha.example"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("Message_ID", f"<{time.time_ns()}@example.org>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def receive(world, message) -> InboundMail | QuarantinedMail:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    with scope(tenant=world.tenant):
        return inbound.mail_receive(tenant=world.tenant, raw=raw, source="upload")


def open_case(world, **kwargs):
    with scope(tenant=world.tenant):
        return services.case_create(
            tenant=world.tenant,
            channel="email",
            actor=None,
            service=world.service,
            citizen={"email": "erika@example.org"},
            **kwargs,
        )


def test_a_new_mail_becomes_an_open_email_contact_in_the_kc_queue(world_a):
    result = receive(world_a, mail())
    with scope(tenant=world_a.tenant):
        contact = Contact.objects.get()
        assert result.contact == contact and contact.ended_at is None and contact.agent is None
        assert contact.channel == "email" and contact.org_unit == world_a.units["kc"]
        assert (
            contact.citizen_email == "erika@example.org" and contact.citizen_name == "Erika Muster"
        )
        assert list(inbound.email_queue()) == [contact]
        assert Event.objects.filter(activity="contact_started", channel="email").count() == 1


def test_a_reply_threads_into_its_case_by_reference_and_reopens_it(world_a):
    case = open_case(world_a)
    with scope(tenant=world_a.tenant):
        services.case_set_status(case=case, status=CaseStatus.ANSWERED, actor=None)
    receive(
        world_a,
        mail(subject=f"AW: [{case.reference}] Personalausweis", body="Danke, noch eine Frage"),
    )
    with scope(tenant=world_a.tenant):
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_PROGRESS
        assert case.messages.get(kind="email_in").body.startswith("Danke, noch eine Frage")
        assert not Contact.objects.exists()


def test_a_reply_threads_by_in_reply_to_when_the_subject_lost_the_reference(
    world_a, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = open_case(world_a)
    with scope(tenant=world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        sent = delivery.case_reply_email(
            case=case, body="Bitte Foto nachreichen", actor=None, answered=False
        )
    receive(world_a, mail(subject="Foto", In_Reply_To=sent.message_id))
    with scope(tenant=world_a.tenant):
        assert Case.objects.get().messages.filter(kind="email_in").count() == 1
        assert Case.objects.get().status == CaseStatus.IN_PROGRESS


def test_html_is_sanitised_and_attachments_are_checked(world_a, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    message = mail()
    message.add_alternative("<p>Hallo <script>alert(1)</script><b>Amt</b></p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.4 Antrag", maintype="application", subtype="pdf", filename="antrag.pdf"
    )
    message.add_attachment(
        b"MZ evil", maintype="application", subtype="octet-stream", filename="virus.exe"
    )
    result = receive(world_a, message)
    with scope(tenant=world_a.tenant):
        assert "<script>" not in result.body_html and "<b>Amt</b>" in result.body_html
        assert [a.filename for a in result.attachments.all()] == ["antrag.pdf"]
        # Refused files are named with the reason, not stored as files (the raw mail has them).
        assert [r["name"] for r in result.refused_attachments] == ["virus.exe"]
        assert result.refused_attachments[0]["reason"].startswith("Angehängt werden können nur")


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied", "subject": "Re: Ihre Nachricht"},
        {"subject": "Abwesenheitsnotiz: Urlaub"},
        {"Precedence": "bulk"},
        {"From": "MAILER-DAEMON@example.org", "subject": "Undeliverable: Ihr Vorgang"},
    ],
)
def test_auto_replies_and_bounces_are_recognised_and_create_nothing(world_a, headers):
    case = open_case(world_a)
    subject = headers.pop("subject", "Hallo")
    result = receive(world_a, mail(subject=f"{subject} [{case.reference}]", **headers))
    assert isinstance(result, InboundMail) and result.is_auto_reply
    with scope(tenant=world_a.tenant):
        assert not Contact.objects.exists() and not case.messages.exists()


def test_a_delivery_report_is_a_bounce(world_a):
    report = EmailMessage()
    report["From"] = "postmaster@example.org"
    report["Subject"] = "Delivery Status Notification (Failure)"
    report.set_content("failed")
    report.make_mixed()
    report.replace_header(
        "Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"'
    )
    assert receive(world_a, report).is_auto_reply


def test_a_broken_mail_is_quarantined_with_its_bytes(world_a, monkeypatch):
    raw = b"From: x@example.org\r\nSubject: kaputt\r\nMessage-ID: <kaputt@example.org>\r\n\r\nText"

    def explode(message):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(inbound, "_bodies", explode)  # a parse failure deep inside processing
    result = receive(world_a, raw)
    assert isinstance(result, QuarantinedMail) and bytes(result.raw) == raw
    assert "UnicodeDecodeError" in result.error
    with scope(tenant=world_a.tenant):
        assert not InboundMail.objects.exists() and not Contact.objects.exists()  # rolled back
    assert isinstance(receive(world_a, b"\x00\x01 not a mail at all"), QuarantinedMail)


def test_the_same_mail_twice_is_stored_once(world_a):
    message = mail(Message_ID="<einmal@example.org>")
    first, second = receive(world_a, message), receive(world_a, message)
    assert first.pk == second.pk
    with scope(tenant=world_a.tenant):
        assert Contact.objects.count() == 1


def test_a_reference_of_another_town_does_not_join_its_case(world_a, world_b):
    case_b = open_case(world_b, subject="Sache in Beta")
    receive(world_a, mail(subject=f"[{case_b.reference}] Nachfrage"))
    with scopes_disabled():
        assert not case_b.messages.exists()
        assert Contact.objects.get().tenant == world_a.tenant  # a new contact in A instead


def test_queue_take_upload_and_quarantine_pages(world_a, world_b):
    agent = world_a.client("kc_agent")
    upload = [
        SimpleUploadedFile("a.eml", mail().as_bytes()),
        SimpleUploadedFile(
            "b.eml", mail(subject="Out of Office", Auto_Submitted="auto-replied").as_bytes()
        ),
        SimpleUploadedFile("c.txt", b"not a mail file"),
    ]
    response = agent.post(reverse("contacts:email_upload"), {"files": upload}, follow=True)
    assert (
        "1 neue Kontakte" in response.content.decode()
        or "1 new contacts" in response.content.decode()
    )
    queue = agent.get(reverse("contacts:email_queue")).content.decode()
    assert "Frage zum Ausweis" in queue
    with scopes_disabled():
        contact = Contact.objects.get()
    taken = agent.post(reverse("contacts:email_take", args=[contact.pk]))
    assert taken.url == reverse("contacts:contact", args=[contact.pk])
    # Someone else cannot take it again; the other town sees neither queue nor contact.
    lead = world_a.client("team_lead")
    assert (
        lead.post(reverse("contacts:email_take", args=[contact.pk]), follow=True).status_code == 200
    )
    with scopes_disabled():
        assert Contact.objects.get().agent == world_a.users["kc_agent"]
    other = world_b.client("kc_agent")
    assert "Frage zum Ausweis" not in other.get(reverse("contacts:email_queue")).content.decode()
    assert other.post(reverse("contacts:email_take", args=[contact.pk])).status_code == 404
    quarantined = receive(world_a, b"\x00 broken")
    page = agent.get(reverse("contacts:quarantine")).content.decode()
    assert escape(quarantined.error) in page  # what the parser said, word for word
    raw = agent.get(reverse("contacts:quarantine_raw", args=[quarantined.pk]))
    assert raw.content == b"\x00 broken"
    assert other.get(reverse("contacts:quarantine_raw", args=[quarantined.pk])).status_code == 404
    agent.post(reverse("contacts:quarantine_resolve", args=[quarantined.pk]))
    with scopes_disabled():
        assert QuarantinedMail.objects.get().resolved_at is not None
    assert world_a.client("clerk").get(reverse("contacts:email_queue")).status_code == 403


def test_the_worker_polls_a_real_imap_mailbox(world_a, imap_server):
    case = open_case(world_a)
    with scope(tenant=world_a.tenant):
        mailbox = Mailbox.objects.create(tenant=world_a.tenant, use_ssl=False, **imap_server)
    deliver(imap_server, mail(subject="Neue Frage"))
    deliver(imap_server, mail(subject=f"Re: [{case.reference}] Personalausweis", body="Antwort"))
    assert inbound.poll_all_mailboxes() == 2
    assert inbound.poll_all_mailboxes() == 0  # the first poll marked both as seen
    with scope(tenant=world_a.tenant):
        assert Contact.objects.get().summary == "Neue Frage"
        assert case.messages.get(kind="email_in").body.startswith("Antwort")
        mailbox.refresh_from_db()
        assert mailbox.last_error == "" and mailbox.last_polled_at is not None
    client = imaplib.IMAP4(imap_server["host"], imap_server["port"])
    client.login(imap_server["username"], imap_server["password"])
    client.select("INBOX")
    assert client.uid("search", "UNSEEN")[1] == [b""]
    client.logout()
    # A wrong password is recorded on the mailbox, not raised at the worker.
    with scope(tenant=world_a.tenant):
        mailbox.password = "wrong"
        mailbox.save()
        assert inbound.mail_poll(mailbox=mailbox) == 0
        assert mailbox.last_error


def test_the_tenant_admin_sets_up_the_mailbox_and_the_password_stays_hidden(world_a, world_b):
    admin = world_a.client("tenant_admin")
    url = reverse("contacts:mailbox")
    form = {"host": "imap.alpha.example", "port": 993, "use_ssl": "on", "username": "kc",
            "folder": "INBOX", "active": "on"}  # fmt: skip
    missing = admin.post(url, form)
    assert missing.status_code == 200 and "password" in missing.context["form"].errors
    admin.post(url, {**form, "password": "geheim-123"})
    admin.post(url, {**form, "port": 143, "password": ""})  # empty keeps the stored password
    with scopes_disabled():
        mailbox = Mailbox.objects.get()
        assert (mailbox.tenant, mailbox.port, mailbox.password) == (
            world_a.tenant,
            143,
            "geheim-123",
        )
        assert "geheim" not in str(
            Event.objects.filter(subject_kind="mailbox").values_list("payload")
        )
    assert "geheim-123" not in admin.get(url).content.decode()
    assert world_a.client("kc_agent").get(url).status_code == 403
    assert "imap.alpha.example" not in world_b.client("tenant_admin").get(url).content.decode()

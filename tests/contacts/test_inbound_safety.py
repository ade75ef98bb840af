"""Nothing of a citizen's e-mail is lost and nobody writes into someone else's case: the desk
shows the whole mail, every common attachment is kept, the raw message is kept, a reused
Message-ID is quarantined, a stranger's reference only flags the mail, an empty upload is
refused, and the mailbox password is encrypted and only allowed hosts are polled."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rathaus.contacts import services
from rathaus.contacts.models import CaseStatus, Contact, InboundMail, Mailbox, QuarantinedMail
from rathaus.contacts.services import mail as inbound

from .test_inbound import mail, open_case, receive

HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def office_file(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<doc/>")
    return buffer.getvalue()


def with_files(message, files: dict[str, bytes]):
    for name, content in files.items():
        message.add_attachment(
            content, maintype="application", subtype="octet-stream", filename=name
        )
    return message


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_common_attachments_and_the_raw_mail_are_kept(world_a):
    files = {
        "IMG_0001.HEIC": HEIC,
        "antrag.doc": DOC,
        "antrag.docx": office_file("docx"),
        "brief.odt": office_file("odt"),
        "tabelle.xlsx": office_file("xlsx"),
        "foto.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 32,
        "scan.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
        "scan.pdf": b"%PDF-1.7 scan",
        "notiz.txt": b"Hallo",
        "tool.exe": b"MZ\x90\x00",
    }
    message = with_files(mail(), files)
    raw = message.as_bytes()
    result = receive(world_a, raw)
    with scope(tenant=world_a.tenant):
        kept = {a.filename: a.content_type for a in result.attachments.all()}
        assert kept["IMG_0001.HEIC"] == "image/heic" and kept["antrag.doc"] == "application/msword"
        assert set(kept) == set(files) - {"tool.exe"}
        assert [r["name"] for r in result.refused_attachments] == ["tool.exe"]
        with result.raw.open("rb") as stored:
            assert stored.read() == raw  # byte for byte, the refused file included


def test_the_desk_shows_the_taken_mail_and_finishing_keeps_its_sender(world_a):
    message = with_files(
        mail(body="Mein Ausweis ist abgelaufen.\nWas tun?"),
        {"ausweis.pdf": b"%PDF-1.4 x", "setup.exe": b"MZ"},
    )
    receive(world_a, message)
    agent = world_a.client("kc_agent")
    with scopes_disabled():
        contact = Contact.objects.get()
    agent.post(reverse("contacts:email_take", args=[contact.pk]))
    page = agent.get(reverse("contacts:contact", args=[contact.pk])).content.decode()
    shown = page.split('id="contact-mail"')[1].split("</section>")[0]
    assert "erika@example.org" in shown and "Erika Muster" in shown
    assert "Frage zum Ausweis" in shown and "Mein Ausweis ist abgelaufen.<br>Was tun?" in shown
    assert "ausweis.pdf" in shown and "setup.exe" in shown  # kept, and refused with reason
    assert 'value="erika@example.org"' in page  # the finish form starts from the contact
    with scopes_disabled():
        mail_row = InboundMail.objects.get()
        pdf = mail_row.attachments.get()
    download = agent.get(reverse("contacts:contact_mail_file", args=[contact.pk, pdf.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 x"
    raw = agent.get(reverse("contacts:contact_mail", args=[contact.pk]))
    assert b"Mein Ausweis ist abgelaufen." in b"".join(raw.streaming_content)
    # Another agent cannot read it.
    other = world_a.client("team_lead")
    # (a team lead may use the desk, but the contact is not theirs: as if it did not exist)
    assert other.get(reverse("contacts:contact_mail", args=[contact.pk])).status_code == 404
    # Finishing with the form as shown keeps the sender and the subject.
    done = agent.post(
        reverse("contacts:contact", args=[contact.pk]),
        {
            "outcome": "answered",
            "summary": "Frage zum Ausweis",
            "citizen_name": "Erika Muster",
            "citizen_email": "erika@example.org",
            "priority": 2,
        },
    )
    assert done.status_code == 302
    with scopes_disabled():
        contact.refresh_from_db()
    assert (contact.citizen_email, contact.citizen_name) == ("erika@example.org", "Erika Muster")


def test_a_different_mail_under_a_known_message_id_is_quarantined_not_dropped(world_a):
    first = mail(Message_ID="<same@example.org>")
    second = mail(subject="Etwas ganz anderes", Message_ID="<same@example.org>")
    clerk = world_a.client("kc_agent")
    url = reverse("contacts:email_upload")

    def upload(message):
        eml = SimpleUploadedFile("m.eml", message.as_bytes(), content_type="message/rfc822")
        response = clerk.post(url, {"files": [eml]}, follow=True)
        return [str(m) for m in response.context["messages"]]

    assert upload(first)[0].startswith("1 neue Kontakte")
    assert "1 bereits bekannt" in upload(first)[0]  # the same mail again: nothing changes
    assert "1 in Quarantäne" in upload(second)[0]
    with scopes_disabled():
        assert InboundMail.objects.count() == 1 and Contact.objects.count() == 1
        (quarantined,) = QuarantinedMail.objects.all()
    assert b"Etwas ganz anderes" in bytes(quarantined.raw)
    assert "<same@example.org>" in quarantined.error


def test_a_strangers_mail_naming_a_case_does_not_join_it(world_a):
    case = open_case(world_a)
    with scope(tenant=world_a.tenant):
        services.case_set_status(case=case, status=CaseStatus.ANSWERED, actor=None)
    stranger = mail(subject=f"AW: [{case.reference}] Adresse", From="Mallory <mallory@example.net>")
    result = receive(world_a, stranger)
    with scope(tenant=world_a.tenant):
        case.refresh_from_db()
        assert case.status == CaseStatus.ANSWERED and not case.messages.exists()
        assert result.case is None and result.mentioned_case == case
        assert result.contact.citizen_email == "mallory@example.net"
    agent = world_a.client("kc_agent")
    queue = agent.get(reverse("contacts:email_queue")).content.decode()
    assert f"nennt Vorgang {case.reference}" in queue
    agent.post(reverse("contacts:email_take", args=[result.contact.pk]))
    page = agent.get(reverse("contacts:contact", args=[result.contact.pk])).content.decode()
    assert 'id="mail-mentions-case"' in page and case.reference in page
    # The case's own citizen joins it, and an answered case is in progress again.
    receive(world_a, mail(subject=f"AW: [{case.reference}] Danke"))
    with scope(tenant=world_a.tenant):
        case.refresh_from_db()
        assert case.status == CaseStatus.IN_PROGRESS and case.messages.count() == 1


def test_a_mail_never_reopens_a_closed_case(world_a):
    case = open_case(world_a)
    with scope(tenant=world_a.tenant):
        services.case_set_status(case=case, status=CaseStatus.ANSWERED, actor=None)
        services.case_set_status(case=case, status=CaseStatus.CLOSED, actor=None)
    result = receive(world_a, mail(subject=f"AW: [{case.reference}] Noch was"))
    with scope(tenant=world_a.tenant):
        case.refresh_from_db()
        assert case.status == CaseStatus.CLOSED and not case.messages.exists()
        assert result.mentioned_case == case and result.contact is not None


def test_an_empty_eml_is_refused_with_a_message(world_a):
    clerk = world_a.client("kc_agent")
    for content in (b"", b"\r\n\r\n"):
        eml = SimpleUploadedFile("leer.eml", content, content_type="message/rfc822")
        response = clerk.post(reverse("contacts:email_upload"), {"files": [eml]}, follow=True)
        texts = [str(m) for m in response.context["messages"]]
        assert any(t.startswith("leer.eml: Die Datei ist leer") for t in texts)
    with scopes_disabled():
        assert not Contact.objects.exists() and not InboundMail.objects.exists()


def test_the_mailbox_password_is_encrypted_at_rest(world_a):
    with scope(tenant=world_a.tenant):
        mailbox = Mailbox.objects.create(
            tenant=world_a.tenant, host="imap.alpha.example", username="kc", password="geheim-123"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM contacts_mailbox WHERE id = %s", [mailbox.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and "geheim" not in stored
    with scopes_disabled():
        assert Mailbox.objects.get().password == "geheim-123"


def test_only_allowed_imap_hosts_are_set_up_and_polled(world_a, imap_server, settings):
    settings.IMAP_ALLOWED_HOSTS = ["*.krz.example"]
    admin = world_a.client("tenant_admin")
    form = {"host": "evil.example", "port": 993, "use_ssl": "on", "username": "kc",
            "password": "x", "folder": "INBOX", "active": "on"}  # fmt: skip
    refused = admin.post(reverse("contacts:mailbox"), form)
    assert "nur mit den Mailservern *.krz.example" in str(refused.context["form"].errors["host"])
    with scope(tenant=world_a.tenant):
        mailbox = Mailbox.objects.create(
            tenant=world_a.tenant,
            host=imap_server["host"],
            port=imap_server["port"],
            use_ssl=False,
            username=imap_server["username"],
            password=imap_server["password"],
        )
        assert inbound.mail_poll(mailbox=mailbox) == 0
        assert "127.0.0.1" in mailbox.last_error
        settings.IMAP_ALLOWED_HOSTS = ["127.0.0.1"]
        from tests.conftest import deliver

        deliver(imap_server, mail())
        assert inbound.mail_poll(mailbox=mailbox) == 1 and mailbox.last_error == ""

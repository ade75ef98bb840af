"""The KC desk, the inbox, the case page and the citizen status page through HTTP."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rathaus.contacts import services
from rathaus.contacts.models import Case, CaseStatus, Contact
from rathaus.core.models import Event, PersonalDataAccess


def hand_over(world, **citizen):
    with scope(tenant=world.tenant):
        return services.case_create(
            tenant=world.tenant,
            channel="phone",
            actor=world.users["kc_agent"],
            service=world.service,
            subject="Ausweis beschädigt",
            citizen={"email": "erika@example.org", **citizen},
        )


def test_an_agent_answers_one_call_and_hands_another_over(world_a):
    agent = world_a.client("kc_agent")
    desk = agent.get(reverse("contacts:desk"))
    assert desk.status_code == 200 and b"contact-start" in desk.content
    started = agent.post(reverse("contacts:contact_start"), {"channel": "phone"})
    with scopes_disabled():
        contact = Contact.objects.get()
    assert started.url == reverse("contacts:contact", args=[contact.pk])
    # While a contact runs, the desk leads back to it instead of starting a second one.
    assert agent.get(reverse("contacts:desk")).url == started.url
    page = agent.get(started.url)
    assert b"desk-q" in page.content and b"contact-clock" in page.content
    done = agent.post(
        started.url,
        {"outcome": "answered", "service": world_a.service.pk, "summary": "erklärt", "priority": 2},
    )
    assert done.status_code == 302
    agent.post(reverse("contacts:contact_start"), {"channel": "email"})
    with scopes_disabled():
        second = Contact.objects.get(ended_at=None)
    url = reverse("contacts:contact", args=[second.pk])
    # A hand-over without a way to answer the citizen is refused with a clear message.
    refused = agent.post(
        url, {"outcome": "handed_over", "service": world_a.service.pk, "priority": 2}
    )
    assert refused.status_code == 200 and "citizen_email" in refused.context["form"].errors
    handed = agent.post(
        url,
        {
            "outcome": "handed_over",
            "service": world_a.service.pk,
            "citizen_email": "erika@example.org",
            "handover_subject": "Ausweis beschädigt",
            "priority": 2,
        },
        follow=True,
    )
    with scopes_disabled():
        case = Case.objects.get()
    assert case.reference in handed.content.decode()
    assert case.org_unit == world_a.units["team"] and case.channel == "email"


def test_callback_needs_a_due_time_and_appears_in_the_callback_list(world_a):
    agent = world_a.client("kc_agent")
    agent.post(reverse("contacts:contact_start"), {"channel": "phone"})
    with scopes_disabled():
        contact = Contact.objects.get()
    url = reverse("contacts:contact", args=[contact.pk])
    assert agent.post(url, {"outcome": "callback", "priority": 2}).status_code == 200
    due = (timezone.localtime() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    agent.post(
        url, {"outcome": "callback", "callback_due": due, "citizen_phone": "0171 99", "priority": 2}
    )
    listing = agent.get(reverse("contacts:callbacks"))
    assert b"0171 99" in listing.content
    agent.post(reverse("contacts:callback_done", args=[contact.pk]))
    assert b"0171 99" not in agent.get(reverse("contacts:callbacks")).content


def test_the_desk_shows_a_callers_earlier_contacts_and_open_cases(world_a, world_b):
    case = hand_over(world_a, phone="+49 171 5551234")
    with scope(tenant=world_b.tenant):  # the same number in another municipality
        services.case_create(
            tenant=world_b.tenant,
            channel="phone",
            actor=None,
            service=world_b.service,
            subject="Sache der Gemeinde Beta",
            citizen={"phone": "0171 5551234"},
        )
    client = world_a.client("kc_agent")
    response = client.get(reverse("contacts:citizen_history"), {"citizen_phone": "0171/5551234"})
    text = response.content.decode()
    assert case.reference in text and "Ausweis beschädigt" in text
    assert "Sache der Gemeinde Beta" not in text
    unknown = client.get(reverse("contacts:citizen_history"), {"citizen_phone": "0171 000000"})
    assert case.reference not in unknown.content.decode()
    # Showing a caller's history is an access to personal data; finding nothing is not.
    with scope(tenant=world_a.tenant):
        (access,) = PersonalDataAccess.objects.all()
    assert (access.user, access.subject_kind, access.action) == (
        world_a.users["kc_agent"],
        "citizen_history",
        "searched",
    )


def test_inbox_shows_the_units_cases_with_deadline_and_leads_see_sub_units(world_a):
    case = hand_over(world_a)
    clerk = world_a.client("clerk")
    page = clerk.get(reverse("contacts:inbox"))
    assert case.reference in page.content.decode()
    assert (
        world_a.client("team_lead")
        .get(reverse("contacts:inbox"))
        .content.count(case.reference.encode())
    )
    # The KC agent's own inbox holds the KC's cases, not the office's.
    assert (
        case.reference
        not in world_a.client("kc_agent").get(reverse("contacts:inbox")).content.decode()
    )
    csv_export = clerk.get(reverse("contacts:inbox"), {"format": "csv"})
    assert case.reference in csv_export.content.decode("utf-8-sig")
    overdue = clerk.get(reverse("contacts:inbox"), {"due": "overdue"})
    assert case.reference not in overdue.content.decode()


def test_inbox_uses_a_fixed_number_of_queries(world_a, django_assert_max_num_queries):
    for _ in range(3):
        hand_over(world_a)
    clerk = world_a.client("clerk")
    clerk.get(reverse("contacts:inbox"))
    with django_assert_max_num_queries(14) as few:
        clerk.get(reverse("contacts:inbox"))
    for _ in range(20):
        hand_over(world_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        clerk.get(reverse("contacts:inbox"))


def test_bulk_assign_and_case_actions(world_a):
    cases = [hand_over(world_a) for _ in range(2)]
    lead = world_a.client("team_lead")
    clerk_user = world_a.users["clerk"]
    lead.post(
        reverse("contacts:inbox_assign"),
        {"cases": [c.reference for c in cases], "assignee": clerk_user.pk},
    )
    with scopes_disabled():
        assert set(Case.objects.values_list("assignee", flat=True)) == {clerk_user.pk}
    clerk = world_a.client("clerk")
    url = lambda action: reverse("contacts:case_action", args=[cases[0].reference, action])  # noqa: E731
    clerk.post(url("status"), {"status": "in_progress"})
    clerk.post(url("note"), {"body": "Rückfrage beim Standesamt"})
    clerk.post(url("status"), {"status": "closed"})
    page = clerk.get(reverse("contacts:case", args=[cases[0].reference]))
    text = page.content.decode()
    assert "Rückfrage beim Standesamt" in text
    history = text.split('<caption class="kern-sr-only">Verlauf</caption>')[1]
    assert "In Bearbeitung" in history and "Interne Notiz hinzugefügt" in history
    with scopes_disabled():
        assert Case.objects.get(pk=cases[0].pk).status == CaseStatus.CLOSED
    # An impossible step is refused with a message, not a crash.
    clerk.post(url("status"), {"status": "waiting"})
    with scopes_disabled():
        assert Case.objects.get(pk=cases[0].pk).status == CaseStatus.CLOSED


def test_forward_moves_the_case_out_of_the_clerks_inbox(world_a):
    case = hand_over(world_a)
    clerk = world_a.client("clerk")
    response = clerk.post(
        reverse("contacts:case_action", args=[case.reference, "forward"]),
        {"org_unit": world_a.units["kc"].pk, "reason": "KC klärt das"},
    )
    assert response.url == reverse("contacts:inbox")
    assert case.reference not in clerk.get(reverse("contacts:inbox")).content.decode()
    assert clerk.get(reverse("contacts:case", args=[case.reference])).status_code == 404


def test_reply_by_email_goes_out_over_smtp_with_the_reference(
    world_a, smtp_server, django_capture_on_commit_callbacks
):
    world_a.tenant.case_sender_email = "buergerservice@alpha.example"
    world_a.tenant.save()
    case = hand_over(world_a)
    clerk = world_a.client("clerk")
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(
            reverse("contacts:case_action", args=[case.reference, "reply"]),
            {"body": "Ihr neuer Ausweis liegt bereit.", "answered": "on"},
        )
    [mail] = smtp_server.messages
    assert mail["Subject"] == f"[{case.reference}] Ausweis beschädigt"
    assert mail["To"] == "erika@example.org" and mail["From"] == "buergerservice@alpha.example"
    assert "Ihr neuer Ausweis liegt bereit." in mail.get_content()
    with scopes_disabled():
        case.refresh_from_db()
        assert case.status == CaseStatus.ANSWERED
        assert case.messages.get().message_id == mail["Message-ID"]


@pytest.mark.parametrize("role", ["knowledge_editor", "process_manager"])
def test_roles_without_case_work_get_403(world_a, role):
    case = hand_over(world_a)
    client = world_a.client(role)
    assert client.get(reverse("contacts:inbox")).status_code == 403
    assert client.get(reverse("contacts:case", args=[case.reference])).status_code == 403
    assert client.get(reverse("contacts:desk")).status_code == 403


def test_tenant_isolation_of_every_contacts_page(world_a, world_b):
    case_b = hand_over(world_b)
    with scope(tenant=world_b.tenant):
        contact_b = services.contact_start(
            tenant=world_b.tenant, agent=world_b.users["kc_agent"], org_unit=None, channel="phone"
        )
    for role in ("kc_agent", "clerk", "team_lead", "tenant_admin"):
        client = world_a.client(role)
        assert client.get(reverse("contacts:case", args=[case_b.reference])).status_code == 404
        for action in ("status", "note", "reply", "forward", "assign"):
            url = reverse("contacts:case_action", args=[case_b.reference, action])
            assert client.post(url, {"status": "closed", "body": "x"}).status_code == 404
        assert (
            case_b.reference
            not in client.get(reverse("contacts:inbox"), {"status": "all"}).content.decode()
        )
    agent = world_a.client("kc_agent")
    assert agent.get(reverse("contacts:contact", args=[contact_b.pk])).status_code == 404
    assert agent.post(reverse("contacts:callback_done", args=[contact_b.pk])).status_code == 404
    # The same reference number exists in both towns; A's own case is A's.
    case_a = hand_over(world_a)
    assert case_a.reference == case_b.reference
    page = world_a.client("clerk").get(reverse("contacts:case", args=[case_a.reference]))
    assert page.status_code == 200 and page.context["case"].tenant == world_a.tenant
    with scopes_disabled():
        assert Event.objects.filter(tenant=world_a.tenant, subject_id=case_b.reference).count() == 1


def test_citizen_status_page_shows_status_and_deadline_only_with_matching_email(world_a, world_b):
    case = hand_over(world_a, name="Erika Muster")
    citizen = Client()
    url = reverse("contacts:citizen_status", args=["alpha"])
    assert citizen.get(url).status_code == 200
    wrong = citizen.post(url, {"reference": case.reference, "email": "other@example.org"})
    assert "case-status" not in wrong.content.decode() and b"Erika" not in wrong.content
    right = citizen.post(url, {"reference": case.reference, "email": "ERIKA@example.org"})
    text = right.content.decode()
    assert "citizen-case-status" in text and "Neu" in text and "Erika" not in text
    assert "Ausweis" not in text  # the subject stays internal
    # The same reference at the other town's page does not find Alpha's case.
    other = citizen.post(
        reverse("contacts:citizen_status", args=["beta"]),
        {"reference": case.reference, "email": "erika@example.org"},
    )
    assert "citizen-case-status" not in other.content.decode()
    bad = citizen.post(url, {"reference": "4711", "email": "x"})
    assert "2026-004711" in bad.content.decode()


def test_citizen_status_page_is_rate_limited(world_a, settings):
    url = reverse("contacts:citizen_status", args=["alpha"])

    def codes(citizen: Client, times: int) -> list[int]:
        return [
            citizen.post(url, {"reference": f"2026-{n:06d}", "email": "x@example.org"}).status_code
            for n in range(times)
        ]

    assert codes(Client(), 12) == [200] * 10 + [429, 429]
    # Behind the proxy every citizen arrives from the proxy's address; the limit is per
    # address the proxy forwarded, and an address the client claims itself changes nothing.
    settings.RATHAUS_BEHIND_PROXY = True
    proxied = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert codes(proxied, 11) == [200] * 10 + [429]
    forged = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")
    assert codes(forged, 1) == [429]
    assert codes(Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.6"), 1) == [200]


def test_reply_by_letter_creates_a_pdf_on_the_letterhead(world_a, tmp_path, settings):
    from io import BytesIO

    from pypdf import PdfReader

    settings.MEDIA_ROOT = tmp_path
    world_a.tenant.address = "Rathausplatz 1\n59999 Alpha"
    world_a.tenant.save()
    case = hand_over(world_a, name="Erika Muster", address="Hauptstr. 5\n59999 Alpha")
    clerk = world_a.client("clerk")
    clerk.post(
        reverse("contacts:case_action", args=[case.reference, "letter"]),
        {"body": "Ihr Ausweis liegt zur Abholung bereit.", "answered": "on"},
    )
    with scopes_disabled():
        attachment = case.attachments.get()
        assert Case.objects.get(pk=case.pk).status == CaseStatus.ANSWERED
    download = clerk.get(reverse("contacts:case_attachment", args=[case.reference, attachment.pk]))
    assert download["Content-Type"] == "application/pdf"
    text = PdfReader(BytesIO(b"".join(download.streaming_content))).pages[0].extract_text()
    for expected in ("Stadt Alpha", case.reference, "Erika Muster", "Hauptstr. 5", "Abholung"):
        assert expected in text
    # Other roles and other towns cannot fetch it.
    assert world_a.client("knowledge_editor").get(download.request["PATH_INFO"]).status_code == 403


def test_a_letter_needs_a_postal_address(world_a):
    case = hand_over(world_a)
    world_a.client("clerk").post(
        reverse("contacts:case_action", args=[case.reference, "letter"]), {"body": "Text"}
    )
    with scopes_disabled():
        assert not case.attachments.exists() and Case.objects.get(pk=case.pk).status == "new"


def test_files_are_checked_by_content_and_size_and_kept_under_a_random_name(
    world_a, world_b, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rathaus.contacts import files

    settings.MEDIA_ROOT = tmp_path
    case = hand_over(world_a)
    clerk = world_a.client("clerk")
    url = reverse("contacts:case_action", args=[case.reference, "attach"])
    pdf = SimpleUploadedFile("../../Antrag Müller.pdf", b"%PDF-1.7 test", "application/pdf")
    clerk.post(url, {"file": pdf})
    disguised = SimpleUploadedFile("rechnung.pdf", b"MZ\x90\x00 an exe", "application/pdf")
    clerk.post(url, {"file": disguised})
    settings_limit = files.MAX_FILE_BYTES
    files.MAX_FILE_BYTES = 10
    try:
        clerk.post(url, {"file": SimpleUploadedFile("gross.pdf", b"%PDF-" + b"x" * 20)})
    finally:
        files.MAX_FILE_BYTES = settings_limit
    with scopes_disabled():
        [kept] = case.attachments.all()
    assert kept.content_type == "application/pdf" and kept.filename == "Antrag Müller.pdf"
    assert "Antrag" not in kept.file.name and ".." not in kept.file.name
    download = clerk.get(reverse("contacts:case_attachment", args=[case.reference, kept.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.7 test"
    # The other town can neither add nor fetch files of this case.
    other = world_b.client("clerk")
    assert other.post(url, {"file": pdf}).status_code == 404
    assert (
        other.get(reverse("contacts:case_attachment", args=[case.reference, kept.pk])).status_code
        == 404
    )


def test_inbox_filters_by_service(world_a):
    from rathaus.catalog import services as catalog_services

    case = hand_over(world_a)
    with scope(tenant=world_a.tenant):
        other_service = catalog_services.service_create(
            tenant=world_a.tenant,
            name="Reisepass alpha",
            org_unit=world_a.units["team"],
            status="published",
        )
    clerk = world_a.client("clerk")
    page = clerk.get(reverse("contacts:inbox"))
    assert "Reisepass alpha" in page.content.decode()  # offered as a filter
    assert (
        case.reference
        in clerk.get(reverse("contacts:inbox"), {"service": world_a.service.pk}).content.decode()
    )
    assert (
        case.reference
        not in clerk.get(reverse("contacts:inbox"), {"service": other_service.pk}).content.decode()
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "javascript:alert(1)",
        "inbox",  # a bare word: redirect() would take it for a URL name
    ],
)
def test_bulk_assign_goes_back_only_to_a_page_of_this_site(world_a, target):
    case = hand_over(world_a)
    lead = world_a.client("team_lead")
    data = {"cases": [case.reference], "assignee": world_a.users["clerk"].pk}
    answer = lead.post(reverse("contacts:inbox_assign"), {**data, "next": target})
    assert answer.status_code == 302 and answer.url == reverse("contacts:inbox")
    back = lead.post(reverse("contacts:inbox_assign"), {**data, "next": "/cases/?status=new"})
    assert back.url == "/cases/?status=new"


def test_a_case_reference_given_with_an_answer_is_ignored_not_an_error(world_a):
    agent = world_a.client("kc_agent")
    started = agent.post(reverse("contacts:contact_start"), {"channel": "phone"})
    done = agent.post(
        started.url,
        {"outcome": "answered", "summary": "erklärt", "priority": 2, "join_case": "Erika Muster"},
    )
    assert done.status_code == 302
    with scopes_disabled():
        contact = Contact.objects.get()
    assert contact.outcome == "answered" and contact.case is None

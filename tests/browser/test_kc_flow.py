"""The KC's day in a real browser: answer one call, hand one over, the department asks back by
e-mail, the citizen's answer arrives over IMAP in the same case, the department answers, and the
citizen sees it answered on the status page."""

import re
from email.message import EmailMessage

import pytest
from django.utils import timezone
from django_scopes import scope

from rathaus.contacts.models import Case, Mailbox
from rathaus.contacts.services.mail import poll_all_mailboxes
from rathaus.core.calendar import WorkingCalendar
from rathaus.core.models import Tenant
from tests.browser.conftest import axe_violations, login, shot
from tests.conftest import deliver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logout(page, live_server):
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(f"{live_server.url}/login/")


def start_contact_and_find(page, query):
    page.wait_for_load_state()  # the page's keyboard script runs once the page has loaded
    page.keyboard.press("n")  # one key starts the contact; the clock runs
    page.locator("#contact-clock").wait_for()
    search = page.get_by_label("Worum geht es dem Bürger?")
    search.press_sequentially(query, delay=15)
    page.locator("#desk-facts").get_by_role(
        "heading", name="Personalausweis", exact=True
    ).wait_for()
    # Picking the service fills it into the contact form.
    page.wait_for_function("document.getElementById('id_service').value !== ''")


def test_answer_hand_over_reply_and_citizen_status(
    page, live_server, demo_city, smtp_server, imap_server
):
    login(page, live_server, "kc.agent")
    page.get_by_role("link", name="KC-Arbeitsplatz").click()
    page.locator("#contact-start").wait_for()

    # 1. A call answered at first contact.
    start_contact_and_find(page, "Personalausweis")
    page.get_by_label("Beim Erstkontakt beantwortet").check()
    page.get_by_label("Notiz").fill("Unterlagen und Gebühren erklärt")
    shot(page, "kc-contact-answered")
    page.get_by_role("button", name="Kontakt abschließen").click()
    page.get_by_text("Kontakt gespeichert").wait_for()

    # 2. A call handed over to the Bürgerbüro (Ctrl+Enter finishes the contact).
    start_contact_and_find(page, "Personalausweis")
    page.get_by_label("E-Mail").fill("erika.muster@example.org")
    page.get_by_label("Name").fill("Erika Muster")
    page.get_by_role("radio", name=re.compile(r"^Übergeben")).check()
    page.get_by_label("Betreff des Vorgangs").fill("Ausweis im Urlaub gestohlen")
    page.get_by_label("Notiz").press("Control+Enter")
    message = page.get_by_text(re.compile(r"Als Vorgang \d{4}-\d{6} an"))
    message.wait_for()
    reference = re.search(r"\d{4}-\d{6}", message.inner_text()).group(0)
    shot(page, "kc-handed-over")
    logout(page, live_server)

    tenant = Tenant.objects.get(slug="musterstadt")
    with scope(tenant=tenant):
        case = Case.objects.get(reference=reference)
    due = WorkingCalendar.for_tenant(tenant).add_working_days(
        case.created_at, case.service.handover_days
    )
    assert case.deadline == due

    # 3. The clerk finds it in the inbox with its deadline and asks the citizen back by e-mail.
    login(page, live_server, "clerk")
    page.get_by_role("link", name="Vorgänge").click()
    row = page.locator("#inbox tr", has_text=reference)
    assert timezone.localtime(due).strftime("%d.%m.%Y") in row.inner_text()
    shot(page, "inbox-clerk")
    row.get_by_role("link", name=reference).click()
    reply = page.get_by_label("Antwort an die Bürgerin / den Bürger")
    reply.fill("Guten Tag, wo wurde der Ausweis gestohlen? Liegt eine Anzeige der Polizei vor?")
    page.get_by_label("Damit ist das Anliegen beantwortet").uncheck()
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text("Gespeichert.").wait_for()
    assert page.locator("#case-status").inner_text() == "Wartet auf Rückmeldung"
    [question] = smtp_server.messages
    assert question["To"] == "erika.muster@example.org" and reference in question["Subject"]

    # 4. The citizen answers from her mail program; the worker fetches it over IMAP.
    with scope(tenant=tenant):
        Mailbox.objects.create(tenant=tenant, use_ssl=False, **imap_server)
    answer = EmailMessage()
    answer["From"] = "Erika Muster <erika.muster@example.org>"
    answer["To"] = "buergerservice@musterstadt.example"
    answer["Subject"] = f"Re: {question['Subject']}"
    answer["In-Reply-To"] = question["Message-ID"]
    answer.set_content("In Lissabon. Die Anzeige der Polizei habe ich, Aktenzeichen 12/345.")
    deliver(imap_server, answer)
    assert poll_all_mailboxes() == 1
    page.reload()
    assert "In Lissabon" in page.locator(".app-messages-list").inner_text()
    assert page.locator("#case-status").inner_text() == "In Bearbeitung"

    # 5. The clerk answers; the case is answered.
    page.get_by_label("Antwort an die Bürgerin / den Bürger").fill(
        "Danke. Bitte kommen Sie mit der Anzeige ins Bürgerbüro; wir stellen Ihnen sofort "
        "einen vorläufigen Ausweis aus."
    )
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text("Gespeichert.").wait_for()
    assert page.locator("#case-status").inner_text() == "Beantwortet"
    shot(page, "case-answered")
    assert len(smtp_server.messages) == 2

    # 6. The citizen checks the status page: answered, nothing else shown.
    logout(page, live_server)
    page.goto(f"{live_server.url}/status/musterstadt/")
    page.get_by_label("Aktenzeichen").fill(reference)
    page.get_by_label("Ihre bei uns angegebene E-Mail-Adresse").fill("erika.muster@example.org")
    page.get_by_role("button", name="Stand anzeigen").click()
    page.locator("#citizen-case-status").wait_for()
    assert page.locator("#citizen-case-status").inner_text() == "Beantwortet"
    assert "gestohlen" not in page.content()
    assert axe_violations(page) == []
    shot(page, "citizen-status")

"""A KC agent logs in and finds answers on the desk, in a real browser, with the demo city."""

import pytest

from tests.browser.conftest import axe_violations, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_logs_in_and_searches(page, live_server, demo_city):
    page.goto(f"{live_server.url}/login/")
    assert axe_violations(page) == []
    shot(page, "login")
    login(page, live_server, "kc.agent")
    assert page.get_by_role("heading", name="Willkommen, Katrin Berger").is_visible()
    shot(page, "start-kc-agent")

    page.get_by_role("link", name="Auskunft").click()
    search = page.get_by_label("Worum geht es dem Bürger?")
    search.press_sequentially("Personalausweis verloren", delay=20)
    facts = page.locator("#desk-facts")
    facts.get_by_role("heading", name="Verlust oder Diebstahl Personalausweis").wait_for()
    assert "Mitzubringende Unterlagen" in facts.inner_text()
    page.locator("#desk-loading").wait_for(state="hidden")
    assert axe_violations(page) == []
    shot(page, "desk-personalausweis-verloren")

    search.fill("")
    search.press_sequentially("Wohnsitz ummelden", delay=20)
    page.locator("#desk-facts").get_by_role("heading", name="Wohnsitzanmeldung").wait_for()
    # Two keystrokes from the typed question to the answer: arrow down lands on the right
    # service (it is the first result), Enter opens it in the facts panel.
    search.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").strip() == "Wohnsitzanmeldung"
    page.keyboard.press("Enter")
    page.locator("#desk-facts").get_by_role("heading", name="Wohnsitzanmeldung").wait_for()
    shot(page, "desk-wohnsitz-ummelden")


def test_every_role_logs_in_to_its_start_page(page, live_server, demo_city):
    from rathaus.demo.city import LOGINS

    for login_ in LOGINS:
        login(page, live_server, login_.username)
        assert page.get_by_role(
            "heading", name=f"Willkommen, {login_.first_name} {login_.last_name}"
        ).is_visible()
        if login_.username == "editor":
            assert page.locator("#tile-review").is_visible()
            shot(page, "start-editor")
        page.get_by_role("button", name="Abmelden").click()
        page.wait_for_url(f"{live_server.url}/login/")

from django.test import Client
from django.urls import reverse

from rathaus.core.models import Role


def test_german_by_default_english_on_request(world_a):
    client = world_a.client(Role.KC_AGENT)
    assert "Auskunft" in client.get(reverse("core:home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("core:home")).content.decode()
    assert "Information desk" in page and 'lang="en"' in page


def test_login_page_and_wrong_password_message(db):
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert 'lang="de"' in page and "Anmelden" in page
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert "Bitte Benutzername und Passwort eingeben" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(world_a, settings):
    client = Client()
    user = world_a.users[Role.KC_AGENT]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": user.username, "password": "x-unused-password"}
    )
    assert response.status_code == 429
    assert "gesperrt" in response.content.decode()


def test_login_logout_roundtrip(world_a):
    client = Client()
    user = world_a.users[Role.KC_AGENT]
    response = client.post(
        reverse("login"), {"username": user.username, "password": "x-unused-password"}
    )
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("core:home")).status_code == 302


def test_password_change(world_a):
    client = world_a.client(Role.CLERK)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "x-unused-password",
            "new_password1": "Neues-Passwort-2026",
            "new_password2": "Neues-Passwort-2026",
        },
    )
    assert response.status_code == 302
    world_a.users[Role.CLERK].refresh_from_db()
    assert world_a.users[Role.CLERK].check_password("Neues-Passwort-2026")


def test_security_headers(world_a):
    response = world_a.client(Role.KC_AGENT).get(reverse("core:home"))
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

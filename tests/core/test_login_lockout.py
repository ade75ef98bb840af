"""The login lockout counts the citizen's or employee's own address, also behind our proxy."""

from django.test import Client
from django.urls import reverse

from rathaus.core.models import Role

PROXY = "10.0.0.1"  # REMOTE_ADDR of every request that came through the reverse proxy


def _login(user, password: str, *, forwarded_for: str | None = None):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client(**headers).post(
        reverse("login"), {"username": user.username, "password": password}
    )


def _fail_until_locked(user, settings, **address):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(user, "wrong", **address)


def test_behind_the_proxy_failures_lock_the_forwarded_address_not_the_proxy(world_a, settings):
    settings.RATHAUS_BEHIND_PROXY = True
    user = world_a.users[Role.TEAM_LEAD]
    # An attacker's own claim comes first; the proxy appends the address it saw.
    _fail_until_locked(user, settings, forwarded_for="198.51.100.9, 203.0.113.7")

    locked = _login(user, "x-unused-password", forwarded_for="198.51.100.1, 203.0.113.7")
    assert locked.status_code == 429
    assert "gesperrt" in locked.content.decode()

    elsewhere = _login(user, "x-unused-password", forwarded_for="203.0.113.8")
    assert elsewhere.status_code == 302
    assert elsewhere.url == reverse("core:home")


def test_without_the_proxy_setting_x_forwarded_for_is_ignored(world_a, settings):
    settings.RATHAUS_BEHIND_PROXY = False
    user = world_a.users[Role.TEAM_LEAD]
    _fail_until_locked(user, settings, forwarded_for="203.0.113.7")

    # A different header does not make a different client: the address is REMOTE_ADDR.
    response = _login(user, "x-unused-password", forwarded_for="203.0.113.8")
    assert response.status_code == 429

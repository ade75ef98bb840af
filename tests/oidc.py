"""A real OpenID Connect provider for the single sign-on tests: npm's oidc-provider, started
by `tests/oidc_provider.mjs` on a free loopback port, with accounts a test can change."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "oidc_provider.mjs"
CLIENT_ID = "rathaus"
CLIENT_SECRET = "rathaus-test-secret"


@dataclass
class Provider:
    issuer: str
    accounts_file: Path

    def accounts(self, accounts: dict[str, dict[str, object]]) -> None:
        """Who can sign in, with their claims (read by the provider at every sign-in)."""
        self.accounts_file.write_text(json.dumps(accounts))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_provider(redirect_uris: list[str]) -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        raise RuntimeError("node and npm's oidc-provider are needed (make install)")
    folder = Path(tempfile.mkdtemp(prefix="rathaus-oidc-"))
    provider = Provider(issuer="", accounts_file=folder / "accounts.json")
    provider.accounts({})
    port = free_port()
    process = subprocess.Popen(
        [node, str(SCRIPT), str(port), ",".join(redirect_uris), str(provider.accounts_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready <issuer>", or "" if it ended
        if not line.startswith("ready "):
            raise RuntimeError(f"oidc-provider did not start: {line!r}")
        provider.issuer = line.split()[1]
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def sign_in_at_provider(authorize_url: str, login: str, stop_at: str) -> str:
    """What a browser does at the provider's own login page (any password for a known
    account): returns the URL it sends the browser back to, which starts with `stop_at`."""
    session = requests.Session()
    page = session.get(authorize_url, timeout=10)
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action, page.text
    answer = session.post(
        urljoin(page.url, action.group(1)),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    for _hop in range(10):
        location = urljoin(answer.url, answer.headers.get("Location", ""))
        if location.startswith(stop_at):
            return location
        assert answer.is_redirect, answer.text
        answer = session.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("the provider did not send the browser back")

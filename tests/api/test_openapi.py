"""The committed OpenAPI file (docs/openapi.yaml) must match what the code generates."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
REGENERATE = (
    ".venv/bin/rathaus spectacular --lang en --file docs/openapi.yaml --validate --fail-on-warn"
)


def test_committed_openapi_file_has_not_drifted(tmp_path):
    generated = tmp_path / "openapi.yaml"
    # Raises on schema warnings or an invalid OpenAPI document, like the CI command.
    call_command("spectacular", "--lang=en", f"--file={generated}", "--validate", "--fail-on-warn")
    assert OPENAPI.exists(), f"docs/openapi.yaml is missing; create it with: {REGENERATE}"
    assert generated.read_text() == OPENAPI.read_text(), (
        f"The API changed but docs/openapi.yaml did not. Regenerate it with: {REGENERATE}"
    )

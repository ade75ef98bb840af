"""What the desk and the case pages share: a stored file as a download."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse


def _download(file: Any, filename: str, content_type: str) -> FileResponse:
    """A stored file as a download with the type we checked, never one the browser guesses."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""JSON parsing that answers every malformed body with 4xx, never with a server error."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    """Raised for bodies over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default; 1000
    call records need about a tenth of it)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for absurdly deep nesting: the json module raises
    RecursionError, not ValueError, on thousands of nested brackets."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error: nested too deeply.")) from None

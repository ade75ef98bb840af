"""What the API logs: its tokens being made and revoked (never the secret, only its prefix)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rathaus.api.models import ApiToken
from rathaus.core.events import Subject, activity

API_TOKEN = Subject(ApiToken, "api_token")

API_TOKEN_CREATED = activity(
    "api_token_created", API_TOKEN, _("API token created"), "prefix", "scopes"
)
API_TOKEN_REVOKED = activity("api_token_revoked", API_TOKEN, _("API token revoked"), "prefix")

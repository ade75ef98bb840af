"""The one call by which views log who viewed, searched or exported citizens' data: the
signed-in user of the request, in the request's municipality (`core.PersonalDataAccess`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest

from rathaus.core.models import AccessAction
from rathaus.core.services import personal_data_accessed


def access_logged(
    request: HttpRequest,
    subject_kind: str,
    subject_id: object = "",
    action: str = AccessAction.VIEWED,
) -> None:
    assert isinstance(request.user, User)  # the views calling this need a login
    personal_data_accessed(
        tenant=request.tenant,  # type: ignore[attr-defined]
        user=request.user,
        subject_kind=subject_kind,
        subject_id=subject_id,
        action=action,
    )

"""The one call by which views log who viewed, searched or exported citizens' data: the
signed-in user of the request, in the request's municipality (`core.PersonalDataAccess`)."""

from __future__ import annotations

from django.contrib.auth.models import User

from rathaus.core.http import TenantRequest
from rathaus.core.models import AccessAction
from rathaus.core.services import personal_data_accessed


def access_logged(
    request: TenantRequest,
    subject_kind: str,
    subject_id: object = "",
    action: str = AccessAction.VIEWED,
) -> None:
    # The views calling this need a login and a municipality (role_required).
    assert isinstance(request.user, User) and request.tenant is not None
    personal_data_accessed(
        tenant=request.tenant,
        user=request.user,
        subject_kind=subject_kind,
        subject_id=subject_id,
        action=action,
    )

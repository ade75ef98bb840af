"""What the staff login logs. Events about a person are appended in each municipality the
person belongs to, so every tenant admin sees their staff's second factor in the log."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from rathaus.core.events import MEMBERSHIP, TENANT, Subject, activity

USER = Subject(User, "user")

SECOND_FACTOR_ENROLLED = activity(
    "second_factor_enrolled", USER, _("Second factor (authenticator app) set up")
)
RECOVERY_CODES_GENERATED = activity(
    "recovery_codes_generated", USER, _("Recovery codes generated"), "count"
)
RECOVERY_CODE_USED = activity("recovery_code_used", USER, _("Recovery code used"), "remaining")
LOGIN_POLICY_CHANGED = activity(
    "login_policy_changed",
    TENANT,
    _("Login policy changed"),
    "second_factor_for_all",
    "password_login",
    "sso",
)
SSO_USER_CREATED = activity("sso_user_created", USER, _("Staff member created by single sign-on"))
SSO_ROLES_UPDATED = activity(
    "sso_roles_updated", USER, _("Roles updated from the single sign-on provider"), "roles"
)
MEMBERSHIP_REVOKED = activity(
    "membership_revoked", MEMBERSHIP, _("Role revoked"), "role", "user_id"
)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rathaus.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import events  # noqa: F401  (declares what core logs)
        from .security import session_timed_from_login

        user_logged_in.connect(session_timed_from_login, dispatch_uid="rathaus-session-limits")

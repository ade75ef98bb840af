from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffAuthConfig(AppConfig):
    name = "rathaus.staffauth"
    label = "staffauth"
    verbose_name = _("Staff login")

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares what the staff login logs)

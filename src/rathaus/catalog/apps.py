from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "rathaus.catalog"
    label = "catalog"
    verbose_name = _("Service catalogue")

    def ready(self) -> None:
        from rathaus.core import home

        from . import events  # noqa: F401  (declares what the catalogue logs)
        from .tiles import TILES

        home.register(*TILES)

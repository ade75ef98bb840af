from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "rathaus.catalog"
    label = "catalog"
    verbose_name = _("Service catalogue")

    def ready(self) -> None:
        from rathaus.core import home
        from rathaus.core.activities import register

        from .tiles import TILES

        home.register(*TILES)

        register(
            {
                "service_created": _("Service created"),
                "service_updated": _("Service changed"),
                "service_draft": _("Set to draft"),
                "service_published": _("Published"),
                "service_retired": _("Retired"),
                "article_created": _("Article created"),
                "article_updated": _("Article changed"),
                "article_published": _("Published"),
                "article_unpublished": _("Unpublished"),
                "article_retired": _("Retired"),
            }
        )

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "rathaus.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from rathaus.api.models import ApiToken
        from rathaus.api.services import forget_verified_tokens
        from rathaus.core.models import OrgUnit, Tenant

        # A changed tenant, unit or token is never served from this process's token cache.
        for model in (ApiToken, Tenant, OrgUnit):
            for signal in (post_save, post_delete):
                signal.connect(forget_verified_tokens, sender=model, dispatch_uid=f"api-{model}")

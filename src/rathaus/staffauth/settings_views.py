"""The municipality's sign-in settings, for its tenant admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.core.http import TenantRequest, acting_staff, active_tenant
from rathaus.core.models import Role
from rathaus.core.permissions import role_required
from rathaus.staffauth import services
from rathaus.staffauth.models import LoginPolicy, OidcProvider
from rathaus.staffauth.settings_forms import LoginSettingsForm


@role_required(Role.TENANT_ADMIN)
def login_settings(request: TenantRequest) -> HttpResponse:
    tenant = active_tenant(request)
    policy = LoginPolicy.objects.filter(tenant=tenant).first() or LoginPolicy(tenant=tenant)
    provider = OidcProvider.objects.filter(tenant=tenant).first()
    initial: dict[str, object] = {
        "second_factor_for_all": policy.second_factor_for_all,
        "password_login": policy.password_login,
    }
    if provider is not None:
        initial |= {
            "sso_enabled": provider.enabled,
            "name": provider.name,
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "mappings": "\n".join(
                f"{m.group} = {m.role} @ {m.org_unit.code}"
                for m in provider.mappings.select_related("org_unit")
            ),
        }
    form = LoginSettingsForm(
        request.POST or None,
        initial=initial,
        has_secret=bool(provider and provider.client_secret),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                if provider is not None or data["sso_enabled"] or data["issuer"]:
                    services.oidc_provider_set(
                        tenant=tenant,
                        actor=acting_staff(request),
                        name=data["name"] or (provider.name if provider else ""),
                        issuer=data["issuer"] or (provider.issuer if provider else ""),
                        client_id=data["client_id"] or (provider.client_id if provider else ""),
                        client_secret=data["client_secret"],
                        enabled=data["sso_enabled"],
                        mappings=data["mappings"],
                    )
                services.login_policy_set(
                    tenant=tenant,
                    actor=acting_staff(request),
                    second_factor_for_all=data["second_factor_for_all"],
                    password_login=data["password_login"],
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The sign-in settings are saved."))
            return redirect("staffauth:settings")
    callback = request.build_absolute_uri(reverse("staffauth:sso_callback", args=[tenant.slug]))
    return render(request, "staffauth/settings.html", {"form": form, "callback": callback})

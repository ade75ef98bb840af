"""Create, list or revoke the API tokens of a tenant.

    rathaus api_token --tenant muenchen --name "Telefonanlage" --unit kc --scope calls:write
    rathaus api_token --tenant muenchen --list
    rathaus api_token --tenant muenchen --revoke AbCd1234

The full token is printed once, at creation; only its first 8 characters are kept readable.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from rathaus.api.models import ApiScope, ApiToken
from rathaus.api.services import api_token_create, api_token_revoke
from rathaus.core.models import OrgUnit, Tenant
from rathaus.core.tenancy import tenant_context


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create (default), list or revoke API tokens of a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Short name (slug) of the tenant.")
        parser.add_argument("--name", help="What the token is for, e.g. the integration.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=ApiScope.values,
            help="A permitted action; repeat for several.",
        )
        parser.add_argument("--unit", help="Code of the org unit the API acts for, e.g. kc.")
        parser.add_argument("--list", action="store_true", help="List the tenant's tokens.")
        parser.add_argument("--revoke", metavar="PREFIX", help="Revoke the token with this prefix.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(_("Unknown tenant “%(slug)s”.") % {"slug": options["tenant"]})
        with tenant_context(tenant):
            if options["list"]:
                self._list()
            elif options["revoke"]:
                self._revoke(options["revoke"])
            else:
                self._create(tenant, options)

    def _list(self) -> None:
        for token in ApiToken.objects.select_related("org_unit").order_by("created_at", "id"):
            state = (
                _("revoked %(when)s") % {"when": f"{token.revoked_at:%Y-%m-%d %H:%M}"}
                if token.revoked_at
                else _("active")
            )
            self.stdout.write(
                f"{token.prefix}  {token.name}  {token.org_unit.code}  "
                f"{','.join(token.scopes)}  {state}"
            )

    def _revoke(self, prefix: str) -> None:
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(_("No token with the prefix “%(prefix)s”.") % {"prefix": prefix})
        try:
            api_token_revoke(token=token, actor=None)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        self.stdout.write(_("Token %(prefix)s… revoked.") % {"prefix": prefix})

    def _create(self, tenant: Tenant, options: dict[str, Any]) -> None:
        if not options["name"] or not options["unit"] or not options["scope"]:
            raise CommandError(_("Give --name, --unit and at least one --scope."))
        unit = OrgUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(_("Unknown unit “%(code)s”.") % {"code": options["unit"]})
        try:
            token, plain = api_token_create(
                tenant=tenant,
                name=options["name"],
                scopes=options["scope"],
                org_unit=unit,
                actor=None,
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        self.stdout.write(
            _("Token “%(name)s” for %(unit)s with %(scopes)s:")
            % {"name": token.name, "unit": unit.name, "scopes": ", ".join(token.scopes)}
        )
        self.stdout.write(plain)
        self.stdout.write(_("Store it now: it is not shown again."))

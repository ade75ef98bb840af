"""`rathaus tenant_remove SLUG [--yes]`: remove a municipality with all its data.

    rathaus tenant_export beispieldorf /backup/beispieldorf.zip   # first, if it may be needed
    rathaus tenant_remove beispieldorf                            # asks for the short name

Every row of the tenant goes (its event log, queued mails, timers' work, files, the accounts
of staff who belong to no other tenant); other tenants are untouched. The removal is recorded
installation-wide (core.TenantRemoval). It cannot be undone except from a backup.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils.translation import gettext as _

from rathaus.core.models import Tenant
from rathaus.core.services import tenant_remove
from rathaus.core.wall import all_tenants


class Command(BaseCommand):
    help = "Remove a tenant and every row and file of it (asks first unless --yes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Short name (slug) of the tenant.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(_("Unknown tenant “%(slug)s”.") % {"slug": options["slug"]})
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError(_("Not asked interactively: confirm with --yes."))
            answer = input(
                _("Remove %(name)s and all its data for good? Type its short name: ")
                % {"name": tenant.name}
            )
            if answer.strip() != tenant.slug:
                raise CommandError(_("Not confirmed; nothing was removed."))
        try:
            # It must see every tenant's rows (core.wall): whether another tenant's row still
            # refers to this one, and which accounts belong to no other tenant.
            with all_tenants():
                record = tenant_remove(tenant=tenant)
        except IntegrityError as error:
            raise CommandError(
                _("Another tenant's data refers to this tenant; nothing was removed (%(error)s).")
                % {"error": error}
            ) from None
        self.stdout.write(
            _("%(slug)s removed: %(rows)s rows and %(files)s files.")
            % {"slug": record.slug, "rows": sum(record.rows.values()), "files": record.files}
        )

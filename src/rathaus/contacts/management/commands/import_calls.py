"""Import call records of the telephone system from a CSV export into one tenant.

    rathaus import_calls --tenant muenchen calls-2026-03.csv

Columns (semicolon or comma separated, header required):
call_id;arrived;answered;ended;abandoned;queue;agent — times as ISO 8601 or
DD.MM.YYYY HH:MM:SS in the tenant's time zone, abandoned as 1/0, ja/nein or true/false.
All or nothing: any bad line aborts the import, and every error is listed with its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.contacts.services.calls import call_records_import
from rathaus.core.models import Tenant
from rathaus.core.tenancy import tenant_context


class Command(BaseCommand):
    help = "Import call records (CSV) for reachability figures; all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Short name (slug) of the tenant.")
        parser.add_argument("file", help="CSV file: call_id;arrived;answered;ended;abandoned;…")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(_("Unknown tenant “%(slug)s”.") % {"slug": options["tenant"]})
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(file)s") % {"file": path})
        self.stdout.write(_("Reading %(file)s …") % {"file": path.name})
        try:
            with path.open("rb") as file, tenant_context(tenant):
                count = call_records_import(
                    tenant=tenant, actor=None, file=file, progress=self.stdout.write
                )
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                _("Nothing was imported from %(file)s.") % {"file": path.name}
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Done: %(count)d call record imported into %(tenant)s.",
                    "Done: %(count)d call records imported into %(tenant)s.",
                    count,
                )
                % {"count": count, "tenant": tenant.name}
            )
        )

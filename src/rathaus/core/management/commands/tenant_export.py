"""`rathaus tenant_export SLUG FILE`: every row and file of one municipality as a zip file.

    rathaus tenant_export beispieldorf /backup/beispieldorf.zip

The file holds the citizens' personal data; it is written readable for its owner only
(core.tenant_data.tenant_export describes its contents).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from rathaus.core.models import Tenant
from rathaus.core.tenant_data import tenant_export
from rathaus.core.wall import all_tenants


class Command(BaseCommand):
    help = "Export every row and file of a tenant as a zip file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Short name (slug) of the tenant.")
        parser.add_argument("file", help="The zip file to write (must not exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(_("Unknown tenant “%(slug)s”.") % {"slug": options["slug"]})
        path = Path(options["file"])
        if path.exists():
            raise CommandError(_("%(file)s exists already.") % {"file": path})
        if not path.parent.is_dir():
            raise CommandError(_("The directory %(dir)s does not exist.") % {"dir": path.parent})
        # Spans the whole schema by nature: under the tenant wall's `all` (core.wall), in one
        # transaction, so the file is one consistent picture.
        with all_tenants():
            manifest = tenant_export(tenant, path)
        self.stdout.write(
            _("%(rows)s rows and %(files)s files of %(tenant)s written to %(file)s.")
            % {
                "rows": sum(manifest["rows"].values()),
                "files": len(manifest["files"]),
                "tenant": tenant.slug,
                "file": path,
            }
        )
        if manifest["files_missing"]:
            self.stderr.write(
                _("Files named by rows but missing from the storage: %(names)s")
                % {"names": ", ".join(manifest["files_missing"])}
            )

"""Import a DLDB/ZMS JSON export (services and/or locations) into one tenant.

    rathaus import_dldb --tenant muenchen --services services_de.json --locations locations_de.json
    rathaus import-dldb --tenant muenchen services_de.json locations_de.json   (kind detected)

All or nothing: a malformed file aborts with a message naming the file, entry and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from rathaus.catalog.importers.dldb.read import ImportFileError, detect_kind, read_export
from rathaus.catalog.importers.dldb.write import import_dldb
from rathaus.core.models import Tenant

PROGRESS_EVERY = 25


class Command(BaseCommand):
    help = "Import a DLDB/ZMS JSON export of services and/or locations into a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Short name (slug) of the tenant.")
        parser.add_argument("--services", metavar="FILE", help="DLDB services export (JSON).")
        parser.add_argument("--locations", metavar="FILE", help="DLDB locations export (JSON).")
        parser.add_argument(
            "files",
            nargs="*",
            metavar="FILE",
            help="Export files whose kind (services or locations) is detected from their content.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(_("Unknown tenant “%(slug)s”.") % {"slug": options["tenant"]})
        paths: dict[str, str | None] = {
            "services": options["services"],
            "locations": options["locations"],
        }
        for name in options["files"]:
            kind = self._kind_of(name)
            if paths[kind] is not None:
                raise CommandError(
                    _("Two %(kind)s files given (%(first)s, %(second)s).")
                    % {"kind": kind, "first": paths[kind], "second": name}
                )
            paths[kind] = name
        if paths["services"] is None and paths["locations"] is None:
            raise CommandError(
                _("Give a services file (--services), a locations file (--locations) or both.")
            )

        try:
            report = import_dldb(
                tenant=tenant,
                services_path=paths["services"],
                locations_path=paths["locations"],
                progress=self._progress,
            )
        except ImportFileError as exc:
            raise CommandError(exc.message) from exc
        for line in report.summary_lines(verbose=options["verbosity"] >= 2):
            self.stdout.write(line)

    def _kind_of(self, name: str) -> str:
        try:
            kind = detect_kind(read_export(name))
        except ImportFileError as exc:
            raise CommandError(exc.message) from exc
        if kind is None:
            raise CommandError(
                _(
                    "Cannot tell whether %(file)s holds services or locations; use --services or --locations."
                )
                % {"file": Path(name).name}
            )
        return kind

    def _progress(self, done: int, total: int, label: str) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            title = _("Services") if label == "services" else _("Locations")
            self.stdout.write(
                _("%(label)s: %(done)d/%(total)d") % {"label": title, "done": done, "total": total}
            )

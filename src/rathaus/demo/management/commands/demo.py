from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_scopes import scope

from rathaus.core.wall import all_tenants
from rathaus.demo import appointments, city


class Command(BaseCommand):
    help = "Create or refresh the demo city Musterstadt (idempotent) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply database migrations first."
        )
        parser.add_argument(
            "--activity-days",
            type=int,
            default=365,
            help="Days of KC activity (contacts, cases, calls) to generate; 0 for none.",
        )
        parser.add_argument(
            "--appointment-days",
            type=int,
            default=None,
            help="Days of appointments and citizen-office visits to generate; 0 for none "
            "(default: as many as --activity-days).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            self.stdout.write("Applying database migrations …")
            call_command("migrate", interactive=False, verbosity=0)
        # The demo builds several municipalities: it writes above the tenant wall (core.wall).
        with all_tenants():
            self._build(options)

    def _build(self, options: dict[str, Any]) -> None:
        progress = self.stdout.write
        tenant = city.build(progress, activity_days=options["activity_days"])
        days = options["appointment_days"]
        days = options["activity_days"] if days is None else days
        progress(f"Musterstadt: citizen offices and {days} days of appointments")
        with scope(tenant=tenant):
            appointments.build(tenant, days=days, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe demo city is ready. Logins (password for all: {city.DEMO_PASSWORD}):"
            )
        )
        for login in city.LOGINS:
            self.stdout.write(
                f"  {login.username:<18} {login.first_name} {login.last_name:<10} {login.description}"
            )
        self.stdout.write("  (admin also administers the second tenant Gemeinde Beispieldorf)")

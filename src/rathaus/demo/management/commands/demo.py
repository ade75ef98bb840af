from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_scopes import scope

from rathaus.core.wall import all_tenants
from rathaus.demo import appointments, city, towns


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
        parser.add_argument(
            "--towns",
            type=int,
            default=0,
            help="Also build this many towns (Stadt 01 …) for load tests, each with the demo's "
            "catalogue and --activity-days of activity at --scale of its volume.",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=0.1,
            help="The towns' volume of activity relative to Musterstadt (default %(default)s).",
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
        for number in range(1, options["towns"] + 1):
            towns.build_town(
                number, scale=options["scale"], days=options["activity_days"], progress=progress
            )
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
        if options["towns"]:
            self.stdout.write(
                f"  Towns: stadt01 … {towns.town_slug(options['towns'])}, with the logins above "
                "prefixed by the town, e.g. stadt01.kc.agent"
            )

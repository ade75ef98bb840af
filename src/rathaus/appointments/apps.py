from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "rathaus.appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        import datetime as dt

        from rathaus.core import timers

        from . import events  # noqa: F401  (declares what the citizen offices log)

        jobs = "rathaus.appointments.jobs"
        timers.register(
            timers.Timer(
                "appointments.holds", f"{jobs}.expire_holds_all", every=dt.timedelta(minutes=1)
            ),
            timers.Timer(
                "appointments.no_shows", f"{jobs}.no_shows_all", every=dt.timedelta(minutes=5)
            ),
            timers.Timer(
                "appointments.reminders", f"{jobs}.reminders_all", daily_at=dt.time(10, 0)
            ),
            # Slots exist ahead of the booking window; the window opens at the release time.
            timers.Timer("appointments.slots", f"{jobs}.slots_all", daily_at=dt.time(0, 30)),
            # Retention: personal data of bookings that ended the tenant's days ago.
            timers.Timer("appointments.erase", f"{jobs}.erase_all", daily_at=dt.time(2, 0)),
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "rathaus.appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        import datetime as dt

        from rathaus.core import timers
        from rathaus.core.activities import register

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

        register(
            {
                "booking_held": _("Reserved, waiting for confirmation"),
                "service_offered": _("Service offered here"),
                "service_offer_changed": _("Offered service changed"),
                "service_unoffered": _("Service no longer offered here"),
                "counter_added": _("Counter added"),
                "counter_changed": _("Counter changed"),
                "counter_removed": _("Counter removed"),
                "ticket_class_created": _("Ticket class created"),
                "ticket_class_changed": _("Ticket class changed"),
                "device_links_created": _("Kiosk and display links created"),
                "device_links_renewed": _("Kiosk and display links renewed"),
                "booking_confirmed": _("Confirmed"),
                "booking_rescheduled": _("Moved"),
                "booking_cancelled": _("Cancelled"),
                "booking_expired": _("Not confirmed in time, released"),
                "booking_checked_in": _("Checked in"),
                "booking_done": _("Served"),
                "booking_no_show": _("Did not come"),
                "booking_erased": _("Personal data erased"),
                "booking_mail_sent": _("E-mail sent"),
                "booking_mail_failed": _("E-mail could not be delivered"),
                "booking_mail_resent": _("E-mail sent again by staff"),
            }
        )

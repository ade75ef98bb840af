from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "rathaus.appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from rathaus.core.activities import register

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

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "rathaus.contacts"
    label = "contacts"
    verbose_name = _("Contacts and cases")

    def ready(self) -> None:
        import datetime as dt

        from rathaus.core import timers

        from . import events  # noqa: F401  (declares what the KC logs)

        jobs = "rathaus.contacts.jobs"
        timers.register(
            timers.Timer("cases.escalate", f"{jobs}.escalate_all", every=dt.timedelta(minutes=15)),
            timers.Timer("cases.overdue_digest", f"{jobs}.digest_all", daily_at=dt.time(7, 0)),
            timers.Timer("mail.poll", f"{jobs}.poll_mail_all", every=dt.timedelta(minutes=2)),
        )

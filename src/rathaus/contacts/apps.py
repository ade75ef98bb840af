from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "rathaus.contacts"
    label = "contacts"
    verbose_name = _("Contacts and cases")

    def ready(self) -> None:
        import datetime as dt

        from rathaus.core import timers
        from rathaus.core.activities import register

        jobs = "rathaus.contacts.jobs"
        timers.register(
            timers.Timer("cases.escalate", f"{jobs}.escalate_all", every=dt.timedelta(minutes=15)),
            timers.Timer("cases.overdue_digest", f"{jobs}.digest_all", daily_at=dt.time(7, 0)),
            timers.Timer("mail.poll", f"{jobs}.poll_mail_all", every=dt.timedelta(minutes=2)),
        )

        register(
            {
                "case_created": _("Case opened"),
                "case_new": _("Set to new"),
                "case_in_progress": _("In progress"),
                "case_waiting": _("Waiting for citizen"),
                "case_answered": _("Answered"),
                "case_closed": _("Closed"),
                "case_reopened": _("Reopened"),
                "case_assigned": _("Assigned"),
                "case_forwarded": _("Forwarded to another unit"),
                "case_note_added": _("Internal note added"),
                "case_replied": _("Reply written to the citizen"),
                "case_reply_sent": _("E-mail reply sent"),
                "case_reply_failed": _("E-mail reply not delivered"),
                "case_reply_resent": _("E-mail reply queued again"),
                "case_reply_delivered_other_way": _("Reply delivered another way"),
                "case_escalated": _("Escalated: deadline passed"),
                "case_attachment_added": _("Attachment added"),
                "case_contact_joined": _("Another contact joined the case"),
                "case_mail_received": _("E-mail from the citizen received"),
            }
        )

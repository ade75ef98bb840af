"""What the KommunikationsCenter logs: each contact from start to finish, each case from its
hand-over to the answer, the e-mail channel and the imported call records. The contact and case
activities are the KC's process-mining log; payloads name rows and figures, never a citizen."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rathaus.contacts.models import (
    Case,
    CaseStatus,
    Contact,
    InboundMail,
    Mailbox,
    QuarantinedMail,
)
from rathaus.core.events import ORG_UNIT, TENANT, Subject, activity

CONTACT = Subject(Contact, "contact")
CASE = Subject(Case, "case", key="reference")  # known by its reference in every letter
MAIL = Subject(InboundMail, "mail")
QUARANTINED_MAIL = Subject(QuarantinedMail, "quarantined_mail")
MAILBOX = Subject(Mailbox, "mailbox")

# A contact at the desk.
CONTACT_STARTED = activity("contact_started", CONTACT, _("Contact started"))
CONTACT_TAKEN = activity("contact_taken", CONTACT, _("E-mail taken by an agent"))
CONTACT_FINISHED = activity(
    "contact_finished",
    CONTACT,
    _("Contact finished"),
    "outcome",
    "handling_seconds",
    "services",
    "case",
)
CALLBACK_DONE = activity("callback_done", CONTACT, _("Called back"))

# A case: its status changes carry where it came from and went to.
_MOVED = ("from", "to", "paused_working_days", "deadline")
CASE_CREATED = activity(
    "case_created", CASE, _("Case opened"), "service", "deadline", "working_days"
)
CASE_STATUS_SET = {
    CaseStatus.NEW: activity("case_new", CASE, _("Set to new"), *_MOVED),
    CaseStatus.IN_PROGRESS: activity("case_in_progress", CASE, _("In progress"), *_MOVED),
    CaseStatus.WAITING: activity("case_waiting", CASE, _("Waiting for citizen"), *_MOVED),
    CaseStatus.ANSWERED: activity("case_answered", CASE, _("Answered"), *_MOVED),
    CaseStatus.CLOSED: activity("case_closed", CASE, _("Closed"), *_MOVED),
}
CASE_REOPENED = activity("case_reopened", CASE, _("Reopened"), *_MOVED)
CASE_ASSIGNED = activity("case_assigned", CASE, _("Assigned"), "assignee")
CASE_FORWARDED = activity(
    "case_forwarded", CASE, _("Forwarded to another unit"), "from_unit", "to_unit", "deadline"
)
CASE_NOTE_ADDED = activity("case_note_added", CASE, _("Internal note added"), "message")
CASE_REPLIED = activity(
    "case_replied", CASE, _("Reply written to the citizen"), "message", "medium"
)
CASE_REPLY_SENT = activity("case_reply_sent", CASE, _("E-mail reply sent"), "message")
CASE_REPLY_FAILED = activity("case_reply_failed", CASE, _("E-mail reply not delivered"), "message")
CASE_REPLY_RESENT = activity("case_reply_resent", CASE, _("E-mail reply queued again"), "message")
CASE_REPLY_DELIVERED_OTHER_WAY = activity(
    "case_reply_delivered_other_way", CASE, _("Reply delivered another way"), "message"
)
CASE_ESCALATED = activity("case_escalated", CASE, _("Escalated: deadline passed"), "deadline")
CASE_ATTACHMENT_ADDED = activity(
    "case_attachment_added", CASE, _("Attachment added"), "attachment", "type"
)
CASE_CONTACT_JOINED = activity(
    "case_contact_joined", CASE, _("Another contact joined the case"), "contact"
)
CASE_MAIL_RECEIVED = activity(
    "case_mail_received", CASE, _("E-mail from the citizen received"), "mail"
)
OVERDUE_DIGEST_SENT = activity(
    "overdue_digest_sent", ORG_UNIT, _("Overdue cases sent to the team lead"), "cases", "lead"
)

# The e-mail channel.
MAIL_AUTO_REPLY_IGNORED = activity("mail_auto_reply_ignored", MAIL, _("Automatic reply ignored"))
MAIL_QUARANTINED = activity("mail_quarantined", QUARANTINED_MAIL, _("Unreadable e-mail kept"))
MAIL_QUARANTINE_RESOLVED = activity(
    "mail_quarantine_resolved", QUARANTINED_MAIL, _("Unreadable e-mail dealt with")
)
MAILBOX_CREATED = activity("mailbox_created", MAILBOX, _("Mailbox set up"), "host", "active")
MAILBOX_CHANGED = activity("mailbox_changed", MAILBOX, _("Mailbox changed"), "host", "active")

# The telephone system's call records, imported for the whole municipality.
CALL_RECORDS_IMPORTED = activity(
    "call_records_imported",
    TENANT,
    _("Call records imported"),
    "count",
    "source",
    "first_arrival",
    "last_arrival",
)

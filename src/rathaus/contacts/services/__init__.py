"""Every write of the contacts app: the KC desk, the cases, e-mail in and out, call records.

- `desk`: contacts on every channel, their outcome and the callbacks promised;
- `cases`: the case lifecycle (hand-over, status, assignment, forwarding, notes, replies by
  letter, escalation) and the files kept with a case;
- `delivery`: e-mail replies to citizens, queued with the reply and sent by the worker;
- `mail`: inbound e-mail, from an IMAP mailbox or an uploaded .eml to a contact or a case;
- `calls`: call records from the telephone system.

The desk and case writes are re-exported here, so `from rathaus.contacts import services`
and `services.case_create(...)` read as before; e-mail and call records are imported from
their modules (`from rathaus.contacts.services import delivery`).
"""

from __future__ import annotations

from rathaus.contacts.services.cases import (
    DEFAULT_HANDOVER_DAYS,
    TRANSITIONS,
    attachment_store,
    case_assign,
    case_attachment_add,
    case_create,
    case_event,
    case_forward,
    case_note_add,
    case_reply_letter,
    case_set_status,
    cases_escalate,
    reply_record,
    reply_subject,
)
from rathaus.contacts.services.desk import (
    callback_done,
    contact_event,
    contact_finish,
    contact_record,
    contact_start,
)

__all__ = [
    # desk
    "callback_done",
    "contact_event",
    "contact_finish",
    "contact_record",
    "contact_start",
    # cases
    "DEFAULT_HANDOVER_DAYS",
    "TRANSITIONS",
    "attachment_store",
    "case_assign",
    "case_attachment_add",
    "case_create",
    "case_event",
    "case_forward",
    "case_note_add",
    "case_reply_letter",
    "case_set_status",
    "cases_escalate",
    "reply_record",
    "reply_subject",
]

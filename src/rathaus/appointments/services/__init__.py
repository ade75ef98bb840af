"""Every write of the appointments app: capacity, bookings and the walk-in queue.

- `capacity`: opening hours, offers, counters, availability rules, closures, the slots the
  rules make, ticket classes and the booking policy;
- `bookings`: holds, confirmation, cancelling and moving, the e-mails, reminders, no-shows
  and retention (how no appointment is booked twice is told there);
- `queue`: walk-in tickets, check-in, the counters at work, the device links;
- `sql`: the hand-written SQL statements of a hold.

The names are re-exported here, so `from rathaus.appointments import services` and
`services.booking_hold(...)` read as before; the private ones only where another module,
a test or the docs reach them (`services._take_seat`).
"""

from __future__ import annotations

from ..rules import BookingError, BookingRequest, request_check
from .bookings import (
    CODE_ALPHABET,
    ERASE_BATCH,
    _expire,
    _new_code,
    _take_slots,
    booking_cancel,
    booking_confirm,
    booking_hold,
    booking_mail_logged,
    booking_mail_resend,
    booking_reschedule,
    bookings_erase,
    holds_expire,
    no_shows_mark,
    reminders_send,
)
from .capacity import (
    booking_policy_save,
    closure_add,
    closure_remove,
    counter_remove,
    counter_save,
    offers_from_catalogue,
    opening_hours_set,
    rule_delete,
    rule_save,
    service_offer,
    service_unoffer,
    slots_materialize,
    slots_materialize_all,
    ticket_class_save,
)
from .queue import (
    APPOINTMENT_PREFIX,
    booking_check_in,
    device_key_ensure,
    device_key_renew,
    ticket_call_next,
    ticket_class_for,
    ticket_finish,
    ticket_issue,
    ticket_no_show,
    ticket_park,
    ticket_recall,
    ticket_start,
    ticket_transfer,
)
from .sql import _check_cap, _take_seat

__all__ = [
    # rules, as the views and tests have always reached them
    "BookingError",
    "BookingRequest",
    "request_check",
    # capacity
    "booking_policy_save",
    "closure_add",
    "closure_remove",
    "counter_remove",
    "counter_save",
    "offers_from_catalogue",
    "opening_hours_set",
    "rule_delete",
    "rule_save",
    "service_offer",
    "service_unoffer",
    "slots_materialize",
    "slots_materialize_all",
    "ticket_class_save",
    # bookings
    "CODE_ALPHABET",
    "ERASE_BATCH",
    "booking_cancel",
    "booking_confirm",
    "booking_hold",
    "booking_mail_logged",
    "booking_mail_resend",
    "booking_reschedule",
    "bookings_erase",
    "holds_expire",
    "no_shows_mark",
    "reminders_send",
    "_expire",
    "_new_code",
    "_take_slots",
    # queue
    "APPOINTMENT_PREFIX",
    "booking_check_in",
    "device_key_ensure",
    "device_key_renew",
    "ticket_call_next",
    "ticket_class_for",
    "ticket_finish",
    "ticket_issue",
    "ticket_no_show",
    "ticket_park",
    "ticket_recall",
    "ticket_start",
    "ticket_transfer",
    # sql
    "_check_cap",
    "_take_seat",
]

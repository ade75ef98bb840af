"""Capacity, bookings and walk-in tickets of the citizen offices.

Capacity is materialised: an availability rule turns into `Slot` rows, one per counter and
slot length. A slot holds at most one booking because the booking is a column of the slot
row, taken by a compare-and-set UPDATE (see `services.booking_hold`); a double booking
cannot be represented, whatever the Python code does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.catalog.models import Location, Service
from rathaus.core.models import Tenant, TenantOwned

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class BookingChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    INTERNAL = "internal", _("Internal")


# Which slots each channel may take, in the order they are tried. Citizens online take only
# online slots; staff on the phone take phone slots, then online ones (a caller is not worse off
# than a web user); internal bookings may take any slot.
CHANNEL_SLOTS: dict[str, list[str]] = {
    "online": ["online"],
    "phone": ["phone", "online"],
    "internal": ["internal", "phone", "online"],
}


def _bounded(
    default: int, low: int, high: int, label: StrOrPromise, help_text: StrOrPromise = ""
) -> models.PositiveIntegerField:
    """A number setting of the policy (minutes, days, counts) with its default and range."""
    return models.PositiveIntegerField(
        label,
        default=default,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=help_text,
    )


class BookingPolicy(models.Model):
    """The fairness and anti-bot rules of one tenant. Every rule has a default that works."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="booking_policy")
    hold_minutes = _bounded(
        10,
        2,
        60,
        _("hold time (minutes)"),
        _("How long a slot is kept until the e-mail link is clicked."),
    )
    max_active_per_email = _bounded(
        2,
        1,
        20,
        _("active appointments per e-mail and service"),
        _("Against hoarding by one person or bot."),
    )
    cancel_return_minutes = _bounded(
        30,
        0,
        1440,
        _("cancelled slots return after (minutes)"),
        _("Against trading appointments: a cancelled slot is not offered again at once."),
    )
    ip_bookings_per_hour = _bounded(20, 1, 10000, _("bookings per IP address and hour"))
    email_bookings_per_day = _bounded(5, 1, 100, _("booking attempts per e-mail and day"))
    challenge_max_number = _bounded(
        100000,
        1000,
        10000000,
        _("proof-of-work difficulty"),
        _("Upper bound of the ALTCHA number; higher costs a bot more and a citizen a little more."),
    )
    walk_in_max_wait_minutes = _bounded(
        30,
        5,
        240,
        _("walk-ins are called before due appointments after (minutes)"),
        _("The rule that keeps walk-ins from waiting for ever behind appointments."),
    )
    check_in_early_minutes = _bounded(
        30, 0, 240, _("check-in possible before the appointment (minutes)")
    )
    no_show_after_minutes = _bounded(15, 1, 120, _("an appointment is a no-show after (minutes)"))
    erase_after_days = _bounded(
        30,
        1,
        3650,
        _("personal data erased after (days)"),
        _(
            "Name, e-mail address and phone number of a booking are erased this many days after "
            "the appointment, or after the cancellation or the unconfirmed hold. The appointment "
            "itself stays for the figures."
        ),
    )

    class Meta:
        verbose_name = _("booking policy")

    def __str__(self) -> str:
        return str(self.tenant)

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> BookingPolicy:
        """The municipality's rules: its saved row, or the defaults (unsaved) until someone
        saves the booking rules page. A read never writes."""
        try:
            return cls.objects.get(tenant=tenant)  # get(): no ordering to build, unlike first()
        except cls.DoesNotExist:
            return cls(tenant=tenant)


class OpeningHours(TenantOwned):
    """When a location is open to the public on one weekday (several rows for split hours)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)], help_text=_("0 = Monday … 6 = Sunday")
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["location", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="hours_ordered"
            )
        ]


class LocationClosure(TenantOwned):
    """A day one location is closed (training, move, strike) besides the tenant's closing days."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="closure_unique")]


MAX_QUANTITY = 20  # most persons or documents in one appointment anywhere


class OfferedService(TenantOwned):
    """A service bookable at one location; duration and quantity may differ from the service's."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="offered")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="offered_at")
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration here (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(480)],
        help_text=_("Empty: the service's own duration."),
    )
    max_quantity = models.PositiveSmallIntegerField(
        _("maximum quantity here"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)],
    )

    class Meta:
        verbose_name = _("offered service")
        ordering = ["service__name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "service"], name="offered_unique")
        ]

    @property
    def duration(self) -> int:
        return self.duration_minutes or self.service.duration_minutes or 10

    @property
    def quantity_limit(self) -> int:
        return self.max_quantity or self.service.max_quantity


class Counter(TenantOwned):
    """A workstation (Schalter, Platz) and the services it can serve."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="counters")
    name = models.CharField(
        _("name"), max_length=50, help_text=_("Shown on the call display, e.g. 'Platz 3'.")
    )
    services = models.ManyToManyField(Service, blank=True, verbose_name=_("services served"))
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("counter")
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="counter_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class AvailabilityRule(TenantOwned):
    """Bookable capacity on some weekdays of a location, and when it may be booked."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rules")
    weekdays = models.JSONField(_("weekdays"), default=list, help_text=_("0 = Monday … 6 = Sunday"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"),
        default=10,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    online_quota = models.PositiveSmallIntegerField(_("counters bookable online"), default=2)
    phone_quota = models.PositiveSmallIntegerField(_("counters bookable by phone"), default=1)
    internal_quota = models.PositiveSmallIntegerField(
        _("counters for internal bookings"), default=0
    )
    min_days_ahead = models.PositiveSmallIntegerField(_("bookable from (days ahead)"), default=1)
    max_days_ahead = models.PositiveSmallIntegerField(
        _("bookable until (days ahead)"), default=60, validators=[MaxValueValidator(366)]
    )
    release_time = models.TimeField(
        _("new days are released at"),
        default=dt.time(7, 0),
        help_text=_("The last day of the window becomes bookable at this time of day."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("availability rule")
        ordering = ["location", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="rule_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(max_days_ahead__gte=models.F("min_days_ahead")),
                name="rule_window_ordered",
            ),
        ]


class Slot(TenantOwned):
    """One counter for one slot length, bookable by one channel. Holds at most one booking.

    Free means: no booking, or a hold that has run out (`held_until` passed), and not in the
    delay after a cancellation (`free_from`).
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="slots")
    rule = models.ForeignKey(
        AvailabilityRule, null=True, on_delete=models.SET_NULL, related_name="slots"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    seat = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, choices=BookingChannel.choices)
    booking = models.ForeignKey(
        "Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    held_until = models.DateTimeField(null=True, blank=True)
    free_from = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "seat"]
        constraints = [
            models.UniqueConstraint(fields=["location", "start", "seat"], name="slot_unique")
        ]
        indexes = [models.Index(fields=["location", "channel", "start"], name="slot_free_idx")]


class BookingStatus(models.TextChoices):
    HELD = "held", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    DONE = "done", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Not confirmed in time")


ACTIVE_BOOKING = [BookingStatus.HELD, BookingStatus.CONFIRMED]


class Booking(TenantOwned):
    """An appointment: who, what, where, when, and where it stands."""

    code = models.CharField(_("booking code"), max_length=12)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(_("time"))
    end = models.DateTimeField()
    channel = models.CharField(_("channel"), max_length=10, choices=BookingChannel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.HELD
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True, editable=False)
    language = models.CharField(max_length=5, default="de", help_text="Language of the e-mails.")
    hold_until = models.DateTimeField(null=True, blank=True)
    slot_count = models.PositiveSmallIntegerField(default=1)
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    rescheduled_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    # When retention erased name, e-mail and phone (`services.bookings_erase`).
    erased_at = models.DateTimeField(null=True, blank=True)
    service_items: list[BookingItem]  # set by selectors.booking_service_items, not a column

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="booking_code_unique"),
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="booking_idempotency_unique",
            ),
        ]
        indexes = [models.Index(fields=["location", "start"], name="booking_day_idx")]

    def __str__(self) -> str:
        return self.code

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BOOKING


class BookingItem(TenantOwned):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="items")
    service = models.ForeignKey(Service, on_delete=models.PROTECT)
    quantity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "service"], name="booking_item_unique")
        ]

    def __str__(self) -> str:
        """As the office lists a booking's services: "Reisepass × 2" (load `service` with it)."""
        return self.service.name + (f" × {self.quantity}" if self.quantity > 1 else "")


def new_device_key() -> str:
    return secrets.token_urlsafe(16)


class DeviceKey(TenantOwned):
    """The secret in the kiosk and display links of one location; renewing it revokes them."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="device_key")
    key = models.CharField(max_length=32, default=new_device_key)
    renewed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.location)


class TicketClass(TenantOwned):
    """A queue with its letter on the ticket, e.g. S quick matters, A pickups, H everything else."""

    prefix = models.CharField(_("letter"), max_length=2)
    name = models.CharField(_("name"), max_length=100)
    services = models.ManyToManyField(Service, blank=True, verbose_name=_("services"))
    target_wait_minutes = models.PositiveSmallIntegerField(
        _("target waiting time (minutes)"), default=15
    )
    is_default = models.BooleanField(_("for all other services"), default=False)

    class Meta:
        verbose_name = _("ticket class")
        ordering = ["prefix"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "prefix"], name="ticket_class_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name}"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    PARKED = "parked", _("Parked")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("Did not come")


class Ticket(TenantOwned):
    """A visit at a location: a walk-in's number or a checked-in appointment."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField()
    prefix = models.CharField(max_length=2)
    number = models.PositiveIntegerField()
    ticket_class = models.ForeignKey(TicketClass, null=True, on_delete=models.SET_NULL)
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket"
    )
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    services_done = models.ManyToManyField(Service, blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    arrived_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="Arrival, or the appointment time when that is later.")
    expected_wait_seconds = models.PositiveIntegerField(default=0)
    counter = models.ForeignKey(
        Counter, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    called_at = models.DateTimeField(null=True, blank=True)
    last_called_at = models.DateTimeField(null=True, blank=True)
    calls = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day", "arrived_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "day", "prefix", "number"], name="ticket_number_unique"
            )
        ]
        indexes = [models.Index(fields=["location", "day", "status"], name="ticket_queue_idx")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.prefix}{self.number:03d}"

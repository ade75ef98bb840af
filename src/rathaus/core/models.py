"""Tenants, org units, memberships, the append-only event log and closing days."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Bundesland(models.TextChoices):
    """German states; the code is the subdivision code of the `holidays` library."""

    BW = "BW", "Baden-Württemberg"
    BY = "BY", "Bayern"
    BE = "BE", "Berlin"
    BB = "BB", "Brandenburg"
    HB = "HB", "Bremen"
    HH = "HH", "Hamburg"
    HE = "HE", "Hessen"
    MV = "MV", "Mecklenburg-Vorpommern"
    NI = "NI", "Niedersachsen"
    NW = "NW", "Nordrhein-Westfalen"
    RP = "RP", "Rheinland-Pfalz"
    SL = "SL", "Saarland"
    SN = "SN", "Sachsen"
    ST = "ST", "Sachsen-Anhalt"
    SH = "SH", "Schleswig-Holstein"
    TH = "TH", "Thüringen"


class ForwardPolicy(models.TextChoices):
    KEEP = "keep", _("Keep the deadline")
    RESTART = "restart", _("Restart the deadline at the receiving unit")


class Tenant(models.Model):
    """A municipality. Every domain row belongs to exactly one tenant."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    ags = models.CharField(
        _("official municipality key (AGS)"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^\d{8}$", _("The AGS has exactly 8 digits."))],
    )
    state = models.CharField(_("federal state"), max_length=2, choices=Bundesland.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True)
    address = models.TextField(_("postal address"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    case_forward_policy = models.CharField(
        _("deadline when a case is forwarded"),
        max_length=10,
        choices=ForwardPolicy.choices,
        default=ForwardPolicy.KEEP,
    )
    case_sender_email = models.EmailField(
        _("sender address for replies"),
        blank=True,
        help_text=_("From address of e-mails to citizens; the tenant's e-mail when empty."),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        """The municipality's local time; the installation's zone if the name is unknown."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(settings.TIME_ZONE)


class TenantOwned(models.Model):
    """Base for every domain model: tenant column plus a manager that refuses unscoped queries."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name=_("tenant"))

    objects: ClassVar[models.Manager[Self]] = ScopedManager(tenant="tenant")

    class Meta:
        abstract = True


class OrgUnitKind(models.TextChoices):
    ADMINISTRATION = "verwaltung", _("Administration (whole)")
    DEZERNAT = "dezernat", _("Department group (Dezernat)")
    FACHBEREICH = "fachbereich", _("Department (Fachbereich/Amt)")
    ABTEILUNG = "abteilung", _("Division (Abteilung)")
    TEAM = "team", _("Team")


class OrgUnit(TenantOwned):
    """One node of the organisation tree. `path` holds the ids from the root, for subtree reads."""

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrgUnitKind.choices)
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=40)
    cost_centre = models.CharField(_("cost centre"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_kc = models.BooleanField(_("is the contact centre (KC)"), default=False)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"], name="orgunit_code_unique_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class Role(models.TextChoices):
    KC_AGENT = "kc_agent", _("KC agent")
    CLERK = "clerk", _("Clerk")
    OFFICE_STAFF = "office_staff", _("Citizen office staff")
    TEAM_LEAD = "team_lead", _("Team lead")
    KNOWLEDGE_EDITOR = "knowledge_editor", _("Knowledge editor")
    CONTROLLER = "controller", _("Controller")
    PROCESS_MANAGER = "process_manager", _("Process manager")
    TENANT_ADMIN = "tenant_admin", _("Tenant administrator")


class Membership(TenantOwned):
    """A person's role in one org unit of one tenant. A person may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("org unit")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant", "org_unit", "role"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.org_unit}"


class ClosingDay(TenantOwned):
    """A tenant-defined day off besides the public holidays (e.g. Christmas Eve)."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("closing day")
        verbose_name_plural = _("closing days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["tenant", "date"], name="closingday_unique")]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.name}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an event."""


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Events are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Events are append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Events are append-only.")


class Event(TenantOwned):
    """One thing that happened. Append-only: the audit trail, the process-mining log and KPI source.

    Personal data stays in the domain rows, never in `payload`, so erasing a person keeps statistics.
    """

    subject_kind = models.CharField(max_length=50)
    subject_id = models.CharField(max_length=64)
    activity = models.CharField(max_length=80)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    org_unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects: ClassVar[models.Manager[Event]] = ScopedManager(
        tenant="tenant", _manager_class=models.Manager.from_queryset(EventQuerySet)
    )

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(
                fields=["tenant", "subject_kind", "subject_id", "timestamp"],
                name="event_subject_idx",
            ),
            models.Index(fields=["tenant", "activity", "timestamp"], name="event_activity_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.timestamp:%Y-%m-%d %H:%M} {self.subject_kind}#{self.subject_id} {self.activity}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Events are append-only.")


class TimerState(models.Model):
    """When a periodic job of the worker runs next. Shared by all workers, locked while running."""

    name = models.CharField(max_length=100, unique=True)
    next_run = models.DateTimeField()
    last_run = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class AttemptCount(models.Model):
    """Attempts per key in a fixed time window (rate limits shared by all server processes).

    The key names the limit and who is counted, e.g. `book-ip:<tenant>:<IP address>`; only its
    SHA-256 is stored, so the table holds no address. Rows of ended windows are deleted by a
    timer.
    """

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    window_ends = models.BigIntegerField(help_text="Unix time at which the count starts anew.")
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class AccessAction(models.TextChoices):
    VIEWED = "viewed", _("viewed")
    SEARCHED = "searched", _("searched")
    EXPORTED = "exported", _("exported")


class PersonalDataAccess(TenantOwned):
    """Who opened, searched or exported citizens' data, and when: the access log that data
    protection asks for. Kept apart from the event log, which is the process log: a page view
    is not a step of the case or booking (docs/decisions.md). Search terms are not stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name=_("user")
    )
    # An integration reading through the API has no user: its token, as "name (prefix…)",
    # kept as text so the entry outlives the token (and core does not depend on the api app).
    client = models.CharField(_("API token"), max_length=120, blank=True)
    subject_kind = models.CharField(_("what"), max_length=50)
    subject_id = models.CharField(_("which"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("access to personal data")
        verbose_name_plural = _("accesses to personal data")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["tenant", "subject_kind", "subject_id"], name="access_subject_idx"
            ),
            models.Index(fields=["tenant", "at"], name="access_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.who} {self.action} {self.subject_kind}"

    @property
    def who(self) -> str:
        """The user name, or the API token for an integration's read."""
        return self.user.get_username() if self.user else self.client


class TenantRemoval(models.Model):
    """A municipality removed with all its data (`rathaus tenant_remove`). Its own event log
    goes with it, so this installation-wide row is what records that it was there and went:
    its public names and how many rows of each kind were removed, nothing about a person."""

    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name"), max_length=200)
    ags = models.CharField(_("official municipality key (AGS)"), max_length=8)
    removed_at = models.DateTimeField(_("removed at"), default=timezone.now)
    rows = models.JSONField(_("rows removed per model"), default=dict)
    files = models.PositiveIntegerField(_("files removed"), default=0)

    class Meta:
        verbose_name = _("removed tenant")
        verbose_name_plural = _("removed tenants")
        ordering = ["-removed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.removed_at:%Y-%m-%d %H:%M} {self.slug}"

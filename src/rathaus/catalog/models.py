"""Services (Leistungen), locations and knowledge articles."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import OrgUnit, TenantOwned

leika_validator = RegexValidator(r"^\d{14}$", _("A LeiKa key has exactly 14 digits."))


class ServiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Service(TenantOwned):
    """A municipal service (Leistung) with its description, responsibility and appointment data."""

    name = models.CharField(_("name"), max_length=255)
    leika_key = models.CharField(
        _("LeiKa key"), max_length=14, blank=True, validators=[leika_validator]
    )
    keywords = models.TextField(
        _("synonyms and keywords"),
        blank=True,
        help_text=_(
            "Comma-separated words citizens use, including colloquial ones (e.g. Perso, Knöllchen)."
        ),
    )
    summary = models.TextField(_("what it is"), blank=True)
    audience = models.TextField(_("who needs it"), blank=True)
    requirements = models.TextField(_("requirements"), blank=True)
    documents = models.TextField(_("documents to bring"), blank=True)
    fees = models.TextField(_("fees"), blank=True)
    processing_time = models.TextField(_("processing time"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    online_url = models.URLField(_("online service link"), blank=True, max_length=500)
    org_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        verbose_name=_("responsible unit"),
    )
    kc_can_answer = models.BooleanField(_("the KC can answer this"), default=True)
    handover_days = models.PositiveSmallIntegerField(
        _("hand-over deadline (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(250)],
    )
    bookable = models.BooleanField(_("bookable as appointment"), default=False)
    duration_minutes = models.PositiveSmallIntegerField(
        _("appointment duration (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(480)],
    )
    max_quantity = models.PositiveSmallIntegerField(
        _("maximum quantity per appointment"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    combinable = models.ManyToManyField("self", blank=True, verbose_name=_("combinable services"))
    status = models.CharField(
        _("status"), max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.DRAFT
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=50, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="service_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="service_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.replace("\n", ",").split(",") if k.strip()]


class Location(TenantOwned):
    """A place where citizens are served (citizen office, registry office...)."""

    name = models.CharField(_("name"), max_length=255)
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("org unit")
    )
    street = models.CharField(_("street"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    accessibility = models.TextField(_("accessibility notes"), blank=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"), null=True, blank=True
    )
    services = models.ManyToManyField(
        Service, blank=True, related_name="locations", verbose_name=_("services")
    )
    source = models.CharField(_("source"), max_length=50, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="location_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Article(TenantOwned):
    """A knowledge base entry: one question citizens ask and the answer the KC gives."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.TextField(_("synonyms and keywords"), blank=True)
    services = models.ManyToManyField(
        Service, blank=True, related_name="articles", verbose_name=_("services")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("owner"),
    )
    review_by = models.DateField(_("review by"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=False)
    retired = models.BooleanField(_("retired"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["question"]

    def __str__(self) -> str:
        return self.question


class CatalogRevision(TenantOwned):
    """A counter bumped by every catalogue write, so each process knows when to rebuild its search index."""

    number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="catalog_revision_unique")]

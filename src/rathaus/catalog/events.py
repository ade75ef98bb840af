"""What the catalogue logs: services, knowledge articles and locations, each change naming the
fields it touched."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rathaus.catalog.models import Article, Location, Service, ServiceStatus
from rathaus.core.events import Subject, activity

SERVICE = Subject(Service, "service")
ARTICLE = Subject(Article, "article")
LOCATION = Subject(Location, "location")

SERVICE_CREATED = activity("service_created", SERVICE, _("Service created"), "fields")
SERVICE_UPDATED = activity("service_updated", SERVICE, _("Service changed"), "fields")
SERVICE_STATUS_SET = {
    ServiceStatus.DRAFT: activity("service_draft", SERVICE, _("Set to draft"), "fields", "status"),
    ServiceStatus.PUBLISHED: activity(
        "service_published", SERVICE, _("Published"), "fields", "status"
    ),
    ServiceStatus.RETIRED: activity("service_retired", SERVICE, _("Retired"), "fields", "status"),
}
ARTICLE_CREATED = activity("article_created", ARTICLE, _("Article created"), "fields")
ARTICLE_UPDATED = activity("article_updated", ARTICLE, _("Article changed"), "fields")
ARTICLE_PUBLISHED = activity("article_published", ARTICLE, _("Published"), "fields")
ARTICLE_UNPUBLISHED = activity("article_unpublished", ARTICLE, _("Unpublished"), "fields")
ARTICLE_RETIRED = activity("article_retired", ARTICLE, _("Retired"), "fields")
LOCATION_CREATED = activity("location_created", LOCATION, _("Location created"), "fields")
LOCATION_UPDATED = activity("location_updated", LOCATION, _("Location changed"), "fields")

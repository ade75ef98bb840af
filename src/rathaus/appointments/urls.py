"""Routes of the appointments app: citizen pages, the office (kiosk, counter, display), figures."""

from . import office_urls, portal_urls

app_name = "appointments"
urlpatterns = portal_urls.urlpatterns + office_urls.urlpatterns

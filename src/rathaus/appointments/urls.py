"""Routes of the appointments app: citizen pages, the office (kiosk, counter, display), set-up,
figures."""

from . import figures_urls, office_urls, portal_urls, setup_urls

app_name = "appointments"
urlpatterns = (
    portal_urls.urlpatterns
    + office_urls.urlpatterns
    + setup_urls.urlpatterns
    + figures_urls.urlpatterns
)

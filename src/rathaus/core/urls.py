from django.urls import path

from rathaus.core import operations_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("tenant/", views.tenant_switch, name="tenant_switch"),
    path("organisation/", views.organisation, name="organisation"),
    path("access-log/", views.access_log, name="access_log"),
    path("healthz", operations_views.healthz, name="healthz"),
    path("metrics", operations_views.metrics, name="metrics"),
]

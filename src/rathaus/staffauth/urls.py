from django.urls import path

from rathaus.staffauth import settings_views, sso_views, views

app_name = "staffauth"
urlpatterns = [
    path("login/code/", views.verify, name="verify"),
    path("login/two-factor/", views.overview, name="overview"),
    path("login/two-factor/setup/", views.enrol, name="enrol"),
    path("login/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("login/sso/<slug:tenant_slug>/", sso_views.sso_start, name="sso_start"),
    path("login/sso/<slug:tenant_slug>/callback/", sso_views.sso_callback, name="sso_callback"),
    path("login-settings/", settings_views.login_settings, name="settings"),
]

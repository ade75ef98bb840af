from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from rathaus.staffauth.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(template_name="staffauth/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("rathaus.staffauth.urls")),
    path("catalog/", include("rathaus.catalog.urls")),
    path("api/", include("rathaus.api.urls")),
    path("", include("rathaus.appointments.urls")),
    path("", include("rathaus.contacts.urls")),
    path("", include("rathaus.core.urls")),
]

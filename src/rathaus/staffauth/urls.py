from django.urls import path

from rathaus.staffauth import views

app_name = "staffauth"
urlpatterns = [
    path("login/code/", views.verify, name="verify"),
    path("login/two-factor/", views.overview, name="overview"),
    path("login/two-factor/setup/", views.enrol, name="enrol"),
    path("login/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
]

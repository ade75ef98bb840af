from django.urls import path

from . import setup_views

urlpatterns = [
    path("office/locations/", setup_views.location_list, name="location_list"),
    path("office/locations/new/", setup_views.location_create, name="location_create"),
    path("office/locations/<int:pk>/", setup_views.location_setup, name="location_setup"),
    path("office/booking-rules/", setup_views.policy_edit, name="policy"),
]

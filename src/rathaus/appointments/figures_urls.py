"""The waiting-time dashboard of the citizen offices (staff)."""

from django.urls import path

from . import figures_views

urlpatterns = [
    path("office/figures/", figures_views.figures, name="figures"),
]

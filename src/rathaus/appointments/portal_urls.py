from django.urls import path

from . import portal_link_views, portal_views

urlpatterns = [
    path("book/<slug:tenant_slug>/", portal_views.book, name="book"),
    path("book/<slug:tenant_slug>/challenge/", portal_views.challenge, name="challenge"),
    path("book/<slug:tenant_slug>/held/<str:token>/", portal_views.held, name="held"),
    path("book/<slug:tenant_slug>/confirm/<str:token>/", portal_link_views.confirm, name="confirm"),
    path("book/<slug:tenant_slug>/cancel/<str:token>/", portal_link_views.cancel, name="cancel"),
    path("book/<slug:tenant_slug>/move/<str:token>/", portal_link_views.move, name="move"),
]

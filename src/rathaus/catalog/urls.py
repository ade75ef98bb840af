from django.urls import path

from rathaus.catalog import views

app_name = "catalog"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_edit, name="service_create"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("services/<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("services/<int:pk>/status/", views.service_status, name="service_status"),
    path("articles/", views.article_list, name="article_list"),
    path("articles/review/", views.article_review, name="article_review"),
    path("articles/new/", views.article_edit, name="article_create"),
    path("articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:pk>/state/", views.article_state, name="article_state"),
]

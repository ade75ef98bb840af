from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from rathaus.api import views
from rathaus.api.views.appointments import CODE

app_name = "api"

# References look like 2026-004711; the pattern keeps junk (and NUL bytes) out of queries.
REFERENCE = r"(?P<reference>[0-9A-Za-z][0-9A-Za-z-]{0,19})"
BOOKING = CODE

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/units/", views.UnitList.as_view(), name="units"),
    path("v1/services/", views.ServiceList.as_view(), name="services"),
    path("v1/services/<int:pk>/", views.ServiceDetail.as_view(), name="service"),
    path("v1/search/", views.Search.as_view(), name="search"),
    path("v1/contacts/", views.ContactList.as_view(), name="contacts"),
    path("v1/contacts/<int:pk>/", views.ContactDetail.as_view(), name="contact"),
    path("v1/cases/", views.CaseList.as_view(), name="cases"),
    re_path(rf"^v1/cases/{REFERENCE}/$", views.CaseDetail.as_view(), name="case"),
    re_path(
        rf"^v1/cases/{REFERENCE}/status/$", views.CaseStatusChange.as_view(), name="case-status"
    ),
    re_path(rf"^v1/cases/{REFERENCE}/forward/$", views.CaseForward.as_view(), name="case-forward"),
    re_path(rf"^v1/cases/{REFERENCE}/reply/$", views.CaseReply.as_view(), name="case-reply"),
    path("v1/calls/", views.CallRecordImport.as_view(), name="calls"),
    path(
        "v1/appointments/locations/",
        views.LocationList.as_view(),
        name="appointment-locations",
    ),
    path(
        "v1/appointments/availability/days/",
        views.FreeDays.as_view(),
        name="appointment-days",
    ),
    path(
        "v1/appointments/availability/times/",
        views.FreeTimes.as_view(),
        name="appointment-times",
    ),
    path("v1/appointments/bookings/", views.BookingCreate.as_view(), name="bookings"),
    re_path(
        rf"^v1/appointments/bookings/{BOOKING}/$",
        views.BookingDetail.as_view(),
        name="booking",
    ),
    re_path(
        rf"^v1/appointments/bookings/{BOOKING}/confirm/$",
        views.BookingConfirm.as_view(),
        name="booking-confirm",
    ),
    re_path(
        rf"^v1/appointments/bookings/{BOOKING}/cancel/$",
        views.BookingCancel.as_view(),
        name="booking-cancel",
    ),
    re_path(
        rf"^v1/appointments/bookings/{BOOKING}/reschedule/$",
        views.BookingReschedule.as_view(),
        name="booking-reschedule",
    ),
]

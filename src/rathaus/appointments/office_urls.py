"""Routes of the citizen office: staff pages, and the kiosk and display opened by signed links."""

from django.urls import path

from . import office_booking_views as bookings
from . import office_views as views

urlpatterns = [
    path("office/", views.office, name="office"),
    path("office/location/<int:pk>/", views.office_location, name="office_location"),
    path(
        "office/location/<int:pk>/renew-links/",
        views.device_links_renew,
        name="device_links_renew",
    ),
    path("office/counter/", views.counter, name="counter"),
    path("office/counter/choose/", views.counter_choose, name="counter_choose"),
    path("office/counter/next/", views.counter_next, name="counter_next"),
    path(
        "office/counter/ticket/<int:pk>/<slug:action>/",
        views.ticket_action,
        name="ticket_action",
    ),
    path("office/phone/", bookings.phone_booking, name="phone_booking"),
    path("office/plan/", bookings.day_plan, name="day_plan"),
    path("office/plan/<int:pk>/cancel/", bookings.booking_cancel, name="office_booking_cancel"),
    path("office/booking/", bookings.booking_search, name="office_booking_search"),
    path("office/booking/<int:pk>/", bookings.booking_detail, name="office_booking"),
    path("office/mails/", bookings.undelivered_mails, name="undelivered_mails"),
    path("office/mails/<int:pk>/<slug:kind>/resend/", bookings.mail_resend, name="mail_resend"),
    path("office/kiosk/<int:pk>/<str:token>/", views.kiosk, name="kiosk"),
    path("office/kiosk/<int:pk>/<str:token>/ticket/", views.kiosk_issue, name="kiosk_issue"),
    path(
        "office/kiosk/<int:pk>/<str:token>/check-in/", views.kiosk_check_in, name="kiosk_check_in"
    ),
    path(
        "office/kiosk/<int:pk>/<str:token>/ticket/<int:ticket>/",
        views.kiosk_ticket,
        name="kiosk_ticket",
    ),
    path(
        "office/kiosk/<int:pk>/<str:token>/ticket/<int:ticket>/pdf/",
        views.kiosk_ticket_pdf,
        name="kiosk_ticket_pdf",
    ),
    path("office/display/<int:pk>/<str:token>/", views.display, name="display"),
    path("office/display/<int:pk>/<str:token>/calls/", views.display_calls, name="display_calls"),
]

from django.urls import path

from rathaus.contacts import inbound_views, views

app_name = "contacts"
urlpatterns = [
    path("kc/", views.desk, name="desk"),
    path("kc/start/", views.contact_start, name="contact_start"),
    path("kc/contact/<int:pk>/", views.contact_page, name="contact"),
    path("kc/contact/<int:pk>/mail/", views.contact_mail_file, name="contact_mail"),
    path(
        "kc/contact/<int:pk>/mail/<int:attachment>/",
        views.contact_mail_file,
        name="contact_mail_file",
    ),
    path("kc/history/", views.citizen_history, name="citizen_history"),
    path("kc/callbacks/", views.callbacks, name="callbacks"),
    path("kc/callbacks/<int:pk>/done/", views.callback_done, name="callback_done"),
    path("kc/email/", inbound_views.email_queue, name="email_queue"),
    path("kc/email/upload/", inbound_views.email_upload, name="email_upload"),
    path("kc/email/<int:pk>/take/", inbound_views.email_take, name="email_take"),
    path("kc/email/quarantine/", inbound_views.quarantine, name="quarantine"),
    path("kc/email/mailbox/", inbound_views.mailbox_settings, name="mailbox"),
    path("kc/email/quarantine/<int:pk>/", inbound_views.quarantine_raw, name="quarantine_raw"),
    path(
        "kc/email/quarantine/<int:pk>/resolve/",
        inbound_views.quarantine_resolve,
        name="quarantine_resolve",
    ),
    path("cases/", views.inbox, name="inbox"),
    path("cases/assign/", views.inbox_assign, name="inbox_assign"),
    path("cases/undelivered/", views.undelivered_replies, name="undelivered_replies"),
    path("cases/<str:reference>/", views.case_detail, name="case"),
    path(
        "cases/<str:reference>/attachments/<int:pk>/",
        views.case_attachment,
        name="case_attachment",
    ),
    path(
        "cases/<str:reference>/replies/<int:pk>/<slug:action>/",
        views.case_reply_action,
        name="case_reply_action",
    ),
    path("cases/<str:reference>/<slug:action>/", views.case_action, name="case_action"),
    path("status/<slug:tenant_slug>/", views.citizen_status, name="citizen_status"),
]

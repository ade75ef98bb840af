from django.urls import path

from rathaus.contacts.views import cases, citizen, desk, mail

app_name = "contacts"
urlpatterns = [
    path("kc/", desk.desk, name="desk"),
    path("kc/start/", desk.contact_start, name="contact_start"),
    path("kc/contact/<int:pk>/", desk.contact_page, name="contact"),
    path("kc/contact/<int:pk>/mail/", desk.contact_mail_file, name="contact_mail"),
    path(
        "kc/contact/<int:pk>/mail/<int:attachment>/",
        desk.contact_mail_file,
        name="contact_mail_file",
    ),
    path("kc/history/", desk.citizen_history, name="citizen_history"),
    path("kc/callbacks/", desk.callbacks, name="callbacks"),
    path("kc/callbacks/<int:pk>/done/", desk.callback_done, name="callback_done"),
    path("kc/email/", mail.email_queue, name="email_queue"),
    path("kc/email/upload/", mail.email_upload, name="email_upload"),
    path("kc/email/<int:pk>/take/", mail.email_take, name="email_take"),
    path("kc/email/quarantine/", mail.quarantine, name="quarantine"),
    path("kc/email/mailbox/", mail.mailbox_settings, name="mailbox"),
    path("kc/email/quarantine/<int:pk>/", mail.quarantine_raw, name="quarantine_raw"),
    path(
        "kc/email/quarantine/<int:pk>/resolve/",
        mail.quarantine_resolve,
        name="quarantine_resolve",
    ),
    path("cases/", cases.inbox, name="inbox"),
    path("cases/assign/", cases.inbox_assign, name="inbox_assign"),
    path("cases/undelivered/", cases.undelivered_replies, name="undelivered_replies"),
    path("cases/<str:reference>/", cases.case_detail, name="case"),
    path(
        "cases/<str:reference>/attachments/<int:pk>/",
        cases.case_attachment,
        name="case_attachment",
    ),
    path(
        "cases/<str:reference>/replies/<int:pk>/<slug:action>/",
        cases.case_reply_action,
        name="case_reply_action",
    ),
    path("cases/<str:reference>/<slug:action>/", cases.case_action, name="case_action"),
    path("status/<slug:tenant_slug>/", citizen.citizen_status, name="citizen_status"),
]

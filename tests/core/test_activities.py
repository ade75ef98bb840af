"""History tables name activities in the staff's words; an activity without a label keeps its
name (the event log itself keeps the English names)."""

from __future__ import annotations

from django.utils import translation

from rathaus.core.activities import activity_label


def test_registered_activities_are_translated_and_others_keep_their_name():
    with translation.override("de"):
        assert activity_label("booking_mail_failed") == "E-Mail konnte nicht zugestellt werden"
        assert activity_label("tenant_created") == "tenant_created"  # no label registered
    with translation.override("en"):
        assert activity_label("booking_held") == "Reserved, waiting for confirmation"

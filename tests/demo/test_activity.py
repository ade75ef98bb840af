"""The demo year of KC activity: believable figures, consistent rows and events, idempotent."""

import io
import statistics

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from django_scopes import scope

from rathaus.contacts.models import CallRecord, Case, CaseCounter, Contact, Outcome
from rathaus.contacts.services import case_create
from rathaus.core.models import Event, Tenant


@pytest.fixture
def demo_with_activity(db):
    out = io.StringIO()
    call_command("demo", "--no-migrate", "--activity-days", "14", stdout=out)
    return out.getvalue()


def test_activity_has_the_shape_the_kc_claims(demo_with_activity):
    assert "activity" in demo_with_activity and "working days" in demo_with_activity
    tenant = Tenant.objects.get(slug="musterstadt")
    with scope(tenant=tenant):
        contacts = Contact.objects.all()
        total = contacts.count()
        per_day = total / contacts.dates("started_at", "day").count()
        assert 700 <= per_day <= 1400
        outcomes = dict(contacts.values_list("outcome").annotate(n=Count("id")))
        assert 0.65 <= outcomes[Outcome.ANSWERED] / total <= 0.75
        assert 0.12 <= outcomes[Outcome.HANDED_OVER] / total <= 0.18
        assert len({c for c in contacts.values_list("channel", flat=True)}) == 6
        phone = contacts.filter(channel="phone")
        kc = [c.handling_seconds for c in phone.filter(org_unit__code__startswith="kc")[:2000]]
        departments = [
            c.handling_seconds for c in phone.exclude(org_unit__code__startswith="kc")[:2000]
        ]
        assert statistics.median(departments) > 2 * statistics.median(kc)
        # Every handed-over contact has its case, with a deadline after its creation.
        assert Case.objects.count() == outcomes[Outcome.HANDED_OVER]
        assert not Case.objects.filter(deadline__lte=F("created_at")).exists()
        assert Case.objects.exclude(escalated_at=None).count() < Case.objects.count() * 0.2
        # One call record per KC phone contact plus calls abandoned in the queue.
        kc_calls = contacts.filter(channel="phone", org_unit__code__startswith="kc").count()
        assert CallRecord.objects.filter(abandoned=False).count() == kc_calls
        assert 0 < CallRecord.objects.filter(abandoned=True).count() < kc_calls * 0.1
        # The event log carries the same activities as the services write.
        finished = Event.objects.filter(activity="contact_finished")
        assert finished.count() == total
        assert set(finished.first().payload) == {"outcome", "handling_seconds", "services", "case"}
        # New hand-overs continue the reference numbers.
        year_counter = CaseCounter.objects.order_by("-year").first()
        service = Case.objects.first().service
        new = case_create(tenant=tenant, channel="phone", actor=None, service=service)
        if new.created_at.year == year_counter.year:
            assert new.reference == f"{year_counter.year}-{year_counter.last_number + 1:06d}"
    call_command("demo", "--no-migrate", "--activity-days", "14", stdout=io.StringIO())
    with scope(tenant=tenant):
        assert Contact.objects.count() == total
